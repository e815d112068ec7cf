"""Issue #15's probe programs: a generated inbox with a site of three people added (bench/README.md, "Releases").

    .venv/bin/python bench/probes/small_site.py INBOX OUT own      # three people in a cohort and modality of their own
    .venv/bin/python bench/probes/small_site.py INBOX OUT shared   # three people of a north cohort, at their own site

Copies INBOX (from `securebase generate`) to OUT and adds a roster file moving three participants to site "tiny":
with `own`, into cohort tiny-2026-03 and modality eft; with `shared`, keeping their north cohort and modality. The
later roster row wins, so a refresh of OUT sees the three at tiny.
"""

import shutil
import sys
from pathlib import Path

import polars as pl

inbox, out, kind = Path(sys.argv[1]), Path(sys.argv[2]), sys.argv[3]
shutil.copytree(inbox, out)
roster = pl.concat(pl.read_csv(f, infer_schema=False) for f in sorted(inbox.glob("participants*.csv")))
if kind == "own":
    three = roster.sort("participant_id").head(3).with_columns(cohort_id=pl.lit("tiny-2026-03"), modality=pl.lit("eft"))
else:
    cohort = roster.filter(pl.col("site_id") == "north")["cohort_id"].sort()[2]
    three = roster.filter(pl.col("cohort_id") == cohort).sort("participant_id").head(3)
three.with_columns(site_id=pl.lit("tiny")).write_csv(out / "participants_zz.csv")
print(f"{out}: {', '.join(three['participant_id'])} moved to site tiny")
