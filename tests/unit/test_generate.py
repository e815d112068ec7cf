"""The synthetic program: same seed same bytes, and the trajectories the issue asks for."""

import polars as pl
import pytest

from pipelines.generate import SAMPLE_AS_OF, export_files, generate, simulate
from transforms.instruments import BUILT_IN
from transforms.scoring import score_administrations


def test_same_seed_same_bytes_and_another_seed_differs(tmp_path):
    generate(tmp_path / "a", participants=40, seed=3)
    generate(tmp_path / "b", participants=40, seed=3)
    generate(tmp_path / "c", participants=40, seed=4)
    names = sorted(p.name for p in (tmp_path / "a").iterdir())
    assert names == sorted(p.name for p in (tmp_path / "b").iterdir())
    assert all((tmp_path / "a" / n).read_bytes() == (tmp_path / "b" / n).read_bytes() for n in names)
    assert (tmp_path / "a" / "participants.csv").read_bytes() != (tmp_path / "c" / "participants.csv").read_bytes()


def test_every_input_format_is_written():
    files = export_files(simulate(20, 1, SAMPLE_AS_OF.replace(month=1, day=5)))
    assert {name.split(".", 1)[1] for name in files} == {"csv", "csv.gz", "jsonl", "parquet"}


def test_ecr_r_anxiety_starts_near_4_8_and_falls_about_0_4():
    program = simulate(1500, 11, SAMPLE_AS_OF.replace(month=1, day=5))
    ecr = program.questionnaires["ECR-R"]
    items = [c for c in ecr.columns if c.startswith("item_")]
    forms = ecr.select(
        pl.int_range(pl.len()).alias("administration_id"),
        "instrument",
        "participant_id",
        "completed_at",
        pl.concat_list(items).alias("responses"),
    )
    scored = score_administrations(forms, BUILT_IN).join(forms, on="administration_id")
    anxiety = scored.filter(pl.col("subscale") == "anxiety").sort("completed_at")
    first = anxiety.group_by("participant_id").first()
    last = anxiety.group_by("participant_id").agg(pl.len(), pl.last("score")).filter(pl.col("len") == 11)
    paired = first.join(last, on="participant_id", suffix="_end")
    assert first["score"].mean() == pytest.approx(4.8, abs=0.15)
    assert 0.7 < first["score"].std() < 1.2
    change = paired["score_end"] - paired["score"]
    assert change.mean() == pytest.approx(-0.4, abs=0.1)
    assert change.std() > 0.3  # person-to-person variation
    assert first.height == 1500 and paired.height < 1500  # some drop out or are not yet due
