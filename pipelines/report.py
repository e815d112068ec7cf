"""The validation report of a refresh: one self-contained HTML file beside the warehouse.

Rendered from what the refresh stored (ops.refreshes, ops.files, quality.quarantine, quality.validation_runs):
rules, columns, rows and counts, never a value. Inline styles only: it opens offline and asks no other host
for anything (Great Expectations' own Data Docs fetch scripts and a logo from the internet).
"""

from __future__ import annotations

import html
import os
import stat
from pathlib import Path

from pipelines.warehouse import WarehouseBuild
from securebase.layout import reports_folder

STYLE = """
body { font-family: system-ui, sans-serif; margin: 2rem auto; max-width: 70rem; color: #1a1a1a; }
h1 { font-size: 1.6rem; } h2 { font-size: 1.2rem; margin-top: 2rem; }
table { border-collapse: collapse; width: 100%; font-size: 0.9rem; }
th, td { border-bottom: 1px solid #ddd; padding: 0.35rem 0.5rem; text-align: left; vertical-align: top; }
th { background: #f3f3f3; } td.n { text-align: right; font-variant-numeric: tabular-nums; }
.ok { color: #006d2c; } .bad { color: #b30000; font-weight: 600; } .muted { color: #666; }
"""


def _table(rows: list[dict], columns: list[tuple[str, str]], empty: str) -> str:
    if not rows:
        return f'<p class="muted">{html.escape(empty)}</p>'
    head = "".join(f"<th>{html.escape(label)}</th>" for _, label in columns)
    body = []
    for row in rows:
        cells = []
        for key, _ in columns:
            value = row.get(key)
            numeric = isinstance(value, int | float) and not isinstance(value, bool)
            text = "" if value is None else ", ".join(map(str, value)) if isinstance(value, list) else str(value)
            cells.append(f"<td{' class=n' if numeric else ''}>{html.escape(text)}</td>")
        body.append(f"<tr>{''.join(cells)}</tr>")
    return f"<table><thead><tr>{head}</tr></thead><tbody>{''.join(body)}</tbody></table>"


def render_report(refresh: dict, files: list[dict], quarantine: list[dict], validations: list[dict]) -> str:
    status = refresh["status"]
    failed_suites = [v for v in validations if v["expectations_failed"]]
    verdict = (
        '<p class="ok">Published.</p>'
        if status == "published"
        else '<p class="bad">Not published: a mart failed its checks, so the previous warehouse stays.</p>'
    )
    return f"""<!doctype html>
<html lang="en"><head><meta charset="utf-8">
<title>securebase refresh {refresh["refresh_id"]}: validation report</title>
<style>{STYLE}</style></head>
<body>
<h1>Refresh {refresh["refresh_id"]} · data as of {html.escape(str(refresh["as_of_date"]))}</h1>
{verdict}
<p>Started {html.escape(str(refresh["started_at"]))} · files loaded {refresh["files_loaded"]}, rejected
{refresh["files_rejected"]}, duplicate {refresh["files_duplicate"]} · rows loaded {refresh["rows_loaded"]},
quarantined {refresh["rows_quarantined"]}, released {refresh["rows_released"]}.</p>
<p class="muted">This report names files, rules, columns and row numbers only; it never shows a value.</p>
<h2>Files of this refresh</h2>
{
        _table(
            files,
            [
                ("file_name", "file"),
                ("dataset", "dataset"),
                ("adapted_as", "adapted as"),
                ("status", "status"),
                ("reason", "reason"),
                ("rows_read", "rows read"),
                ("rows_loaded", "loaded"),
                ("rows_quarantined", "quarantined"),
            ],
            "No new files arrived.",
        )
    }
<h2>Quarantine, by rule and column</h2>
<p class="muted">Open rows are kept out of the marts; rows held for a participant who has not arrived yet
(<code>unknown_participant</code>) are retried every night.</p>
{
        _table(
            quarantine,
            [
                ("rule", "rule"),
                ("column_name", "column"),
                ("dataset", "dataset"),
                ("open", "open rows"),
                ("resolved", "resolved rows"),
                ("files", "files"),
                ("first_seen", "first seen"),
            ],
            "Nothing is quarantined.",
        )
    }
<h2>Validation results</h2>
<p>{len(validations)} suite runs, {len(failed_suites)} with failures.</p>
{
        _table(
            validations,
            [
                ("suite", "suite"),
                ("batch", "batch"),
                ("expectations_evaluated", "expectations"),
                ("expectations_failed", "failed"),
                ("rows_failed", "rows failed"),
                ("failed_rules", "failed rules (column)"),
            ],
            "No suite ran.",
        )
    }
</body></html>
"""


def write_report(build: WarehouseBuild, warehouse: Path) -> Path:
    """Render this refresh's report from the build and write it atomically as reports/refresh-NNNN.html."""
    refresh_id = build.refresh_id
    refresh = build.frame("SELECT * FROM ops.refreshes WHERE refresh_id = ?", [refresh_id]).row(0, named=True)
    files = build.frame("SELECT * FROM ops.files WHERE refresh_id = ? ORDER BY file_number", [refresh_id])
    quarantine = build.frame(
        """
        SELECT rule, column_name, dataset, count(*) FILTER (WHERE NOT is_resolved) AS open,
               count(*) FILTER (WHERE is_resolved) AS resolved, count(DISTINCT source_file) AS files,
               CAST(min(first_seen_at) AS DATE) AS first_seen
        FROM quality.quarantine GROUP BY ALL ORDER BY open DESC, rule, column_name
        """
    )
    validations = build.frame(
        "SELECT * FROM quality.validation_runs WHERE refresh_id = ? ORDER BY validated_at", [refresh_id]
    )
    page = render_report(refresh, files.to_dicts(), quarantine.to_dicts(), validations.to_dicts())
    folder = reports_folder(warehouse)
    folder.mkdir(parents=True, exist_ok=True)
    folder.chmod(stat.S_IMODE(folder.stat().st_mode) & ~0o007)  # a folder made before umask 007 closes too
    target = folder / f"refresh-{refresh_id:04d}.html"
    partial = target.with_suffix(".html.partial")
    partial.write_text(page, encoding="utf-8")
    os.replace(partial, target)
    return target
