"""A published warehouse's version of its tables, and the folder of reports the refresh keeps beside it."""

from __future__ import annotations

from pathlib import Path

# The version of the warehouse's tables as this code builds them: raise it when a table or column that readers (the
# dashboard, the README's warehouse tables) use changes. Each refresh records it, so a dashboard meeting a warehouse
# built by another version says "run a refresh to upgrade" instead of failing on a missing column. 1: every warehouse
# before the version was recorded; 3: ops.alerts_seen; 4: marts.practice_weeks; 5: marts.score_weeks;
# 6: marts.alerts.is_latest.
SCHEMA_VERSION = 6


def reports_folder(warehouse: Path) -> Path:
    """Where the refresh writes each run's validation report: `<warehouse stem>-reports/` beside the file."""
    return warehouse.with_name(f"{warehouse.stem}-reports")
