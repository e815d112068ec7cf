"""Every built-in instrument scored from a hand-filled form (OUTCOMES.md §1–2)."""

import polars as pl
import pytest

from transforms.instruments import BUILT_IN, ECR_R, custom_instrument, registry
from transforms.scoring import score_administrations


def score(instrument_id: str, responses: list[int | None]) -> dict[str, dict]:
    forms = pl.DataFrame(
        {"administration_id": [1], "instrument": [instrument_id], "responses": [responses]},
        schema={"administration_id": pl.Int64, "instrument": pl.String, "responses": pl.List(pl.Int64)},
    )
    scored = score_administrations(forms, BUILT_IN)
    return {row["subscale"]: row for row in scored.iter_rows(named=True)}


def test_ecr_r_reverse_keys_items_9_and_11_and_the_avoidance_keys():
    # anxiety: sixteen 5s, item 9 = 2 (keyed 6), item 11 = 3 (keyed 5): (80 + 6 + 5) / 18
    anxiety = [5] * 18
    anxiety[8], anxiety[10] = 2, 3
    # avoidance: all 2; twelve reverse-keyed items become 6: (6 × 2 + 12 × 6) / 18
    scored = score("ECR-R", anxiety + [2] * 18)
    assert scored["anxiety"]["score"] == pytest.approx(91 / 18)
    assert scored["avoidance"]["score"] == pytest.approx(84 / 18)
    assert scored["anxiety"]["items_answered"] == 18 and not scored["anxiety"]["is_prorated"]


def test_ecr_r_scores_with_three_of_eighteen_missing_and_not_with_four():
    three_missing = [None, None, None] + [4] * 15 + [4] * 18
    four_missing = [None] * 4 + [4] * 14 + [4] * 18
    assert score("ECR-R", three_missing)["anxiety"]["score"] == pytest.approx(4.0)
    assert score("ECR-R", three_missing)["anxiety"]["is_prorated"]
    assert score("ECR-R", four_missing)["anxiety"]["score"] is None
    assert score("ECR-R", four_missing)["anxiety"]["items_answered"] == 14


def test_ecr_rs_partner_form():
    # avoidance 1R–4R, 5, 6: (1 + 2 + 3 + 4 + 3 + 2) / 6; anxiety 7–9: (1 + 2 + 3) / 3
    scored = score("ECR-RS", [7, 6, 5, 4, 3, 2, 1, 2, 3])
    assert scored["avoidance"]["score"] == pytest.approx(2.5)
    assert scored["anxiety"]["score"] == pytest.approx(2.0)
    # anxiety has three items: floor(0.2 × 3) = 0 may be missing
    assert score("ECR-RS", [7, 6, 5, 4, 3, 2, None, 2, 3])["anxiety"]["score"] is None


def test_ecr_s_short_form():
    # items 1..12 = 1, 7, 2, 6, 3, 5, 4, 4, 5, 3, 6, 1
    # anxiety 2, 4, 6, 8R, 10, 12: 7 + 6 + 5 + (8 − 4) + 3 + 1 = 26
    # avoidance 1R, 3, 5R, 7, 9R, 11: (8 − 1) + 2 + (8 − 3) + 4 + (8 − 5) + 6 = 27
    scored = score("ECR-S", [1, 7, 2, 6, 3, 5, 4, 4, 5, 3, 6, 1])
    assert scored["anxiety"]["score"] == pytest.approx(26 / 6)
    assert scored["avoidance"]["score"] == pytest.approx(27 / 6)


def test_gad_7_sum_and_person_mean_prorating():
    assert score("GAD-7", [1, 2, 3, 0, 1, 2, 3])["total"]["score"] == pytest.approx(12)
    one_missing = score("GAD-7", [1, 2, 3, 0, 1, 2, None])["total"]
    assert one_missing["score"] == pytest.approx(9 / 6 * 7)  # 10.5, not rounded
    assert one_missing["is_prorated"] and one_missing["items_answered"] == 6
    assert score("GAD-7", [1, 2, 3, 0, 1, None, None])["total"]["score"] is None


def test_phq_9_sum():
    assert score("PHQ-9", [0, 1, 2, 3, 0, 1, 2, 3, 0])["total"]["score"] == pytest.approx(12)


def test_rses_reverse_keys_2_5_6_8_9():
    # every answer is the most favourable: 1 on a reverse item is keyed 4
    assert score("RSES", [4, 1, 4, 4, 1, 1, 4, 1, 1, 4])["total"]["score"] == pytest.approx(40)
    # all 2: five plain items 2, five reverse items 3
    assert score("RSES", [2] * 10)["total"]["score"] == pytest.approx(25)


def test_items_are_keyed_by_declared_instrument_not_position():
    # the same numbers score differently as ECR-R and as a 36-item list of another order
    assert ECR_R.subscale("anxiety").reverse_items == (9, 11)
    assert score("ECR-R", [1] * 36)["anxiety"]["score"] == pytest.approx((16 * 1 + 2 * 7) / 18)


def test_every_built_in_instrument_cites_its_source_and_covers_its_items():
    for instrument in BUILT_IN.values():
        assert instrument.source
        covered = sorted(i for s in instrument.subscales for i in s.items)
        assert covered == list(range(1, instrument.item_count + 1)), instrument.id


def test_custom_scored_instrument_and_no_redefinition_of_a_built_in():
    instruments = registry([{"id": "BDI-II", "kind": "scored", "subscales": ["total"], "min": 0, "max": 63}])
    assert instruments["BDI-II"].kind == "scored" and instruments["BDI-II"].max == 63
    with pytest.raises(ValueError, match="built in"):
        registry([{"id": "GAD-7", "kind": "scored", "min": 0, "max": 21}])
    assert custom_instrument({"id": "X", "kind": "scored", "min": 0, "max": 1}).subscales[0].name == "total"


def test_a_custom_items_instrument_from_config_is_scored_with_its_own_keys():
    config = [
        {
            "id": "SAS-6",
            "kind": "items",
            "items": 6,
            "min": 0,
            "max": 4,
            "method": "sum",
            "subscales": [{"name": "total", "items": [1, 2, 3, 4, 5, 6], "reverse_items": [6]}],
        }
    ]
    instruments = registry(config)
    forms = pl.DataFrame(
        {"administration_id": [1], "instrument": ["SAS-6"], "responses": [[4, 3, 2, 1, 0, None]]},
        schema={"administration_id": pl.Int64, "instrument": pl.String, "responses": pl.List(pl.Int64)},
    )
    [row] = score_administrations(forms, instruments).to_dicts()
    # five answered items sum to 10 (item 6 missing, floor(0.2 × 6) = 1 allowed): 10 / 5 × 6 = 12
    assert (row["score"], row["items_answered"], row["is_prorated"]) == (pytest.approx(12.0), 5, True)
    forms = forms.with_columns(responses=pl.Series([[0, 0, 0, 0, 0, 0]]))
    assert score_administrations(forms, instruments)["score"].item() == pytest.approx(4)  # item 6 reversed: 4


def test_a_custom_items_instrument_with_one_named_subscale_scores_every_item():
    definition = {"id": "SAS-6", "kind": "items", "items": 6, "min": 0, "max": 4, "subscales": ["total"]}
    forms = pl.DataFrame(
        {"administration_id": [1], "instrument": ["SAS-6"], "responses": [[4, 3, 2, 1, 0, 2]]},
        schema={"administration_id": pl.Int64, "instrument": pl.String, "responses": pl.List(pl.Int64)},
    )
    [row] = score_administrations(forms, registry([definition])).to_dicts()
    assert (row["subscale"], row["score"], row["items_total"]) == ("total", pytest.approx(12.0), 6)
    with pytest.raises(ValueError, match=r"^instruments\[SAS-6\]\.subscales: with more than one subscale"):
        registry([{**definition, "subscales": ["worry", "control"]}])
