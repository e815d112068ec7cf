"""The `securebase` command line (CONTRACT.md §1)."""

from __future__ import annotations

import gc
import os
import shutil
import sys
from datetime import date
from importlib import resources
from pathlib import Path
from typing import Annotated

import typer

from securebase.settings import SettingsError, keep_files_private, load_settings, offline_environment

app = typer.Typer(
    help="Nightly outcomes analytics for attachment-focused therapy programs.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
)

DASHBOARD_APP = resources.files("dashboard") / "app.py"  # package data: wherever securebase is installed


def fail(message: str) -> None:
    """One line on stderr and a non-zero exit: nothing was published."""
    first_line = str(message).strip().splitlines()[0] if str(message).strip() else "unknown error"
    typer.echo(f"securebase: {first_line}", err=True)
    raise typer.Exit(1)


def refused(warehouse: Path, kind: str, reason: str, as_of_date: date | None = None) -> None:
    """A refresh that could not start: recorded beside the warehouse for the dashboard (securebase/attempts.py), then
    `fail`. The reasons given here name an option, a config key or a path, never a value from the data."""
    from securebase.attempts import record_failure

    try:
        record_failure(warehouse, kind, reason, as_of_date)
    except OSError as problem:  # stdout: stderr keeps its one line
        typer.echo(f"could not record the failed refresh beside the warehouse: {problem}")
    fail(reason)


@app.callback()
def main() -> None:
    offline_environment()
    keep_files_private()


@app.command()
def generate(
    out: Annotated[Path, typer.Option(help="folder to write the export into")],
    participants: Annotated[int, typer.Option(min=1)] = 300,
    seed: int = 7,
    start_date: Annotated[str, typer.Option(help="first enrolment day, YYYY-MM-DD")] = "2026-01-05",
    messy: Annotated[bool, typer.Option(help="plant the faults of CONTRACT.md §4")] = False,
    format: Annotated[
        str, typer.Option(help="native (securebase's own files), redcap or fhir (ADAPTERS.md)")
    ] = "native",
) -> None:
    """Write a synthetic, anonymised program export (same seed, same bytes)."""
    from pipelines.generate import generate as write_export

    if format not in ("native", "redcap", "fhir"):
        fail(f"--format must be native, redcap or fhir, got {format!r}")
    if format != "native":
        from pipelines.generate import PARTICIPANTS_PER_PART, simulate

        if messy:
            fail("--messy plants its faults in native files only")
        if participants > PARTICIPANTS_PER_PART:
            fail(f"--format {format} writes at most {PARTICIPANTS_PER_PART:,} participants (one export, in memory)")
        from pipelines.generate_sources import write_source_export

        program = simulate(participants, seed, date.fromisoformat(start_date))
        config = write_source_export(out, program, format)
        typer.echo(
            f"wrote {participants} participants to {out} as a {format} export; refresh it with --config {config}"
        )
        return
    faults = write_export(out, participants, seed, date.fromisoformat(start_date), messy)
    typer.echo(f"wrote {participants} participants to {out}" + (f" with {len(faults)} planted faults" if messy else ""))


@app.command()
def refresh(
    inbox: Annotated[Path, typer.Option(help="folder of exported files; only read, never changed")],
    warehouse: Annotated[Path, typer.Option(help="DuckDB file to publish")],
    config: Annotated[Path | None, typer.Option(help="TOML settings")] = None,
    as_of: Annotated[str | None, typer.Option(help="'today' for this run, YYYY-MM-DD")] = None,
) -> None:
    """Ingest new inbox files, validate, build the marts and publish the warehouse atomically."""
    try:
        settings = load_settings(config)
    except SettingsError as error:
        refused(warehouse, "config_error", str(error))
    try:
        as_of_date = date.fromisoformat(as_of) if as_of else None
    except ValueError:
        refused(warehouse, "config_error", f"--as-of must be a date YYYY-MM-DD, got {as_of!r}")
    if not inbox.is_dir():
        refused(warehouse, "config_error", f"inbox {inbox} is not a folder", as_of_date)
    from pipelines.inbox import list_inbox
    from pipelines.sources import source_settings

    try:
        source_settings(settings, list_inbox(inbox))  # REDCap or FHIR files need a usable key (ADAPTERS.md §4)
    except SettingsError as error:
        refused(warehouse, "config_error", str(error), as_of_date)

    # The run's log is the command's output; stderr is kept for the one-line reason a refresh failed (CONTRACT §1).
    os.environ.setdefault("PREFECT_LOGGING_HANDLERS_CONSOLE_STREAM", "ext://sys.stdout")
    from pipelines.prefect_api import prefect_api

    with prefect_api() as api:
        # while a temporary API server boots: import the pipeline and start Great Expectations
        from pipelines.flows import refresh as refresh_flow
        from pipelines.validation import batch_definition

        batch_definition()
        try:
            api.ready()
        except RuntimeError as error:
            refused(warehouse, "crash", f"refresh failed, the published warehouse is unchanged: {error}", as_of_date)
        try:
            summary = refresh_flow(inbox=inbox, warehouse=warehouse, config=config, as_of=as_of_date)
        except Exception as error:  # the flow has logged the details and recorded the attempt; the user gets one line
            fail(f"refresh failed, the published warehouse is unchanged: {error}")
    typer.echo(summary.one_line())


@app.command()
def quality(warehouse: Annotated[Path, typer.Option(help="published DuckDB file, opened read-only")]) -> None:
    """What the last refresh rejected and why, and what is quarantined, by rule and column."""
    import duckdb

    if not warehouse.exists():
        fail(f"warehouse {warehouse} does not exist")
    with duckdb.connect(str(warehouse), read_only=True) as con:
        last = con.sql("SELECT * FROM ops.refreshes ORDER BY refresh_id DESC LIMIT 1").pl().to_dicts()
        if not last:
            fail("the warehouse has no refresh yet")
        refresh = last[0]
        rejected = con.execute(
            "SELECT file_name, reason FROM ops.files WHERE refresh_id = ? AND status = 'rejected' ORDER BY 1",
            [refresh["refresh_id"]],
        ).fetchall()
        open_rows = con.execute(
            "SELECT rule, column_name, dataset, count(*) FROM quality.quarantine WHERE NOT is_resolved "
            "GROUP BY ALL ORDER BY 4 DESC, 1, 2"
        ).fetchall()
    typer.echo(
        f"refresh {refresh['refresh_id']} ({refresh['status']}) as of {refresh['as_of_date']}, finished "
        f"{refresh['finished_at']:%Y-%m-%d %H:%M %Z}"
    )
    typer.echo(f"\nfiles rejected in this refresh: {len(rejected)}")
    for name, reason in rejected:
        typer.echo(f"  {name}: {reason}")
    typer.echo(f"\nquarantined rows, by rule and column: {sum(row[3] for row in open_rows)}")
    for rule, column, dataset, count in open_rows:
        typer.echo(f"  {count:>7}  {rule:<24} {dataset}.{column}")
    held = sum(row[3] for row in open_rows if row[0] == "unknown_participant")
    typer.echo(f"\nheld rows waiting for their participant (released when they arrive): {held}")
    early = sum(row[3] for row in open_rows if row[0] == "in_future")
    typer.echo(f"rows dated after the as-of day (released when their day comes): {early}")


@app.command()
def serve(
    cron: Annotated[str, typer.Option(help="when to refresh, in the program time zone")] = "0 2 * * *",
    inbox: Annotated[Path | None, typer.Option(help="default: [refresh] inbox in the config")] = None,
    warehouse: Annotated[Path | None, typer.Option(help="default: [refresh] warehouse in the config")] = None,
    config: Annotated[Path | None, typer.Option(help="TOML settings")] = None,
) -> None:
    """Register the nightly refresh with the Prefect server at PREFECT_API_URL and run it on schedule."""
    from prefect.settings import PREFECT_API_URL

    if not PREFECT_API_URL.value():
        fail("PREFECT_API_URL is not set: start `prefect server start` and point PREFECT_API_URL at it (README)")
    try:
        settings = load_settings(config)
    except SettingsError as error:
        fail(str(error))
    inbox, warehouse = inbox or settings.inbox, warehouse or settings.warehouse
    if inbox is None or warehouse is None:
        fail("serve needs --inbox and --warehouse, or [refresh] inbox and warehouse in the config")

    from pipelines.serving import supervise

    parameters = {"inbox": str(inbox.resolve()), "warehouse": str(warehouse.resolve())}
    parameters["config"] = str(config.resolve()) if config else None
    raise typer.Exit(supervise(parameters | {"cron": cron, "timezone": settings.timezone}))


@app.command()
def dashboard(
    warehouse: Annotated[Path, typer.Option(help="published DuckDB file, opened read-only")],
    port: Annotated[int, typer.Option(min=1, max=65535)] = 8501,
    host: Annotated[str, typer.Option(help="address to listen on; beyond loopback only with sign-in")] = "127.0.0.1",
    demo: Annotated[
        bool, typer.Option(help="no sign-in: demo identities, Administrator included, for anyone who reaches it")
    ] = False,
    config: Annotated[Path | None, typer.Option(help="TOML settings ([dashboard] roles and secrets)")] = None,
) -> None:
    """Serve the dashboard, closed by default: sign-in through [dashboard] roles and secrets, or --demo on loopback."""
    from streamlit.web import bootstrap

    from dashboard.access import check_listen_address, choose_access

    if not warehouse.exists():
        fail(f"warehouse {warehouse} does not exist; run `securebase refresh` first")
    try:
        settings = load_settings(config)
        access = choose_access(settings, host, check_listen_address(host, port), demo)
    except SettingsError as error:
        fail(str(error))
    os.environ["SECUREBASE_WAREHOUSE"] = str(warehouse.resolve())
    for name in ("SECUREBASE_CONFIG", "SECUREBASE_ROLES", "SECUREBASE_DEMO"):
        os.environ.pop(name, None)  # the app reads only what this command decided
    if config is not None:
        os.environ["SECUREBASE_CONFIG"] = str(config.resolve())
    # Imported once here, so the first visitor does not wait for them; pandas too, which Streamlit's tables and
    # Plotly import on first use, and two sessions drawing their first page at once would race to import.
    import pandas  # noqa: F401

    import dashboard.charts  # noqa: F401
    import dashboard.queries  # noqa: F401

    # Streamlit collects garbage after every run of a page's script by default, walking every object the server
    # holds (about 0.1–0.15 s a click at 100,000 participants, bench/README.md); Python's own collector still frees
    # cycles. Freezing the imported modules' objects keeps them out of every later collection.
    gc.freeze()

    flags = {
        "server.headless": True,
        "server.address": host,
        "server.port": port,
        "browser.gatherUsageStats": False,
        "server.fileWatcherType": "none",
        "client.toolbarMode": "viewer",
        "client.showErrorDetails": "none",  # a visitor never sees a traceback or a server path
        "runner.postScriptGC": False,
    }
    if access == "sign-in":  # through the organisation's identity provider
        os.environ["SECUREBASE_ROLES"] = str(settings.roles.resolve())
        flags["secrets.files"] = [str(settings.auth_secrets.resolve())]
    else:
        os.environ["SECUREBASE_DEMO"] = "1"
    bootstrap.load_config_options(flag_options=flags)
    typer.echo(f"dashboard on http://{host}:{port} ({access}; Ctrl-C stops it)")
    bootstrap.run(str(DASHBOARD_APP), False, [], flags)


@app.command()
def demo(
    port: int = 8501,
    workdir: Annotated[Path, typer.Option(help="where the demo warehouse is written")] = Path(".demo"),
) -> None:
    """Refresh the committed sample data into a demo warehouse and open the dashboard."""
    from pipelines.generate import SAMPLE_AS_OF

    workdir.mkdir(parents=True, exist_ok=True)
    workdir.chmod(0o770)  # a demo folder made before umask 007 was set (keep_files_private) is closed too
    warehouse, inbox = workdir / "warehouse.duckdb", workdir / "inbox"
    warehouse.unlink(missing_ok=True)  # the demo always starts from the sample alone
    shutil.rmtree(inbox, ignore_errors=True)
    inbox.mkdir()
    for sample in resources.files("sample_data").iterdir():  # package data, copied: it may sit in a read-only place
        if sample.is_file():
            (inbox / sample.name).write_bytes(sample.read_bytes())
    refresh(inbox=inbox, warehouse=warehouse, config=None, as_of=SAMPLE_AS_OF.isoformat())
    dashboard(warehouse=warehouse, port=port, host="127.0.0.1", demo=True, config=None)


if __name__ == "__main__":
    sys.exit(app())
