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


def test_a_large_program_is_written_in_parts_that_continue_the_first(tmp_path):
    generate(tmp_path / "whole", participants=25, seed=3)
    faults = generate(tmp_path / "parts", participants=60, seed=3, messy=True, per_part=25)
    names = sorted(p.name for p in (tmp_path / "parts").iterdir())
    assert "participants_part01.csv" in names and "questionnaires_mood_part03.jsonl" in names
    assert not any(n.startswith("participants_part04") for n in names)
    # the first part is the 25-participant program itself; every fault names a file that exists
    for name in sorted(p.name for p in (tmp_path / "whole").iterdir()):
        part = (tmp_path / "parts" / name.replace(".", "_part01.", 1)).read_bytes()
        assert part == (tmp_path / "whole" / name).read_bytes()
    assert {f.file_name for f in faults} <= set(names)
    rosters = [pl.read_csv(tmp_path / "parts" / f"participants_part0{k}.csv") for k in (1, 2, 3)]
    assert [r.height for r in rosters] == [25, 25, 10]
    ids = pl.concat(rosters)["participant_id"]
    assert ids.to_list() == [f"P{i:05d}" for i in range(1, 61)]
    ecr = pl.read_csv(tmp_path / "parts" / "questionnaires_ecr-r_part02.csv.gz")
    assert set(ecr["participant_id"]) <= set(rosters[1]["participant_id"])
    # a later part draws from its own stream: not a copy of the first with other ids
    first, second = (r.drop("participant_id") for r in rosters[:2])
    assert not first.equals(second)
