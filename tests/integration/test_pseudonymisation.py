"""Pseudonymisation at the door (ADAPTERS.md §4): no source identifier is stored or logged anywhere, and a refresh
with source files stops before reading anything when its key is missing, short or readable by others."""

import os
import shutil
from datetime import date
from pathlib import Path

import duckdb
import pytest

from pipelines.flows import refresh
from pipelines.sources import KeyFileError
from securebase.attempts import attempts_file, failed_attempts
from tests.integration.test_adapters_fhir import FHIR_CONFIG
from tests.integration.test_adapters_redcap import FIXTURES, RECORDS, REDCAP_CONFIG, key_file
from tests.integration.test_cli import securebase_refresh

PLANTED = [*RECORDS, "Patient/", "ehr-58812", "ehr-59288", "qr-9000", "eoc-730"]


def texts_of_every_table(warehouse: Path) -> str:
    """Every value of every table of the warehouse, as text."""
    with duckdb.connect(str(warehouse), read_only=True) as con:
        tables = con.execute("SELECT schema_name, table_name FROM duckdb_tables()").fetchall()
        return "\n".join(str(con.execute(f'SELECT * FROM "{schema}"."{table}"').fetchall()) for schema, table in tables)


def prefect_database() -> list[Path]:
    """The temporary Prefect server's SQLite files: flow and task runs, logs, artifacts."""
    from prefect.logging.handlers import APILogHandler
    from prefect.settings import get_current_settings

    APILogHandler().flush()  # the logs sent in the background reach the server before the search
    url = get_current_settings().server.database.connection_url.get_secret_value()
    database = Path(url.split("///", 1)[1])
    return [p for p in database.parent.glob(database.name + "*")]


def both_sources_config(folder: Path, key: Path) -> Path:
    fhir_sections = FHIR_CONFIG.split("[fhir]", 1)[1]
    path = folder / "program.toml"
    path.write_text(
        REDCAP_CONFIG.format(key_file=key) + "\n[fhir]" + fhir_sections.replace("{{", "{").replace("}}", "}")
    )
    return path


def test_no_source_identifier_reaches_warehouse_reports_logs_or_prefect(prefect_server, tmp_path, capfd, caplog):
    inbox = tmp_path / "inbox"
    shutil.copytree(FIXTURES / "fhir", inbox / "ehr", ignore=shutil.ignore_patterns("*.md"))
    shutil.copy(FIXTURES / "redcap" / "redcap_export_night1.csv", inbox)
    warehouse, key = tmp_path / "warehouse.duckdb", key_file(tmp_path)
    config = both_sources_config(tmp_path, key)
    summary = refresh(inbox=inbox, warehouse=warehouse, config=config, as_of=date(2026, 4, 30))
    assert summary.files_loaded == 5 and summary.files_rejected == 0
    places = {
        "tables": texts_of_every_table(warehouse),
        "warehouse file": warehouse.read_bytes().decode("latin-1"),
        "reports": "".join(p.read_text() for p in (tmp_path / "warehouse-reports").glob("*")),
        "output": "".join(capfd.readouterr()) + caplog.text,
        "prefect": "".join(p.read_bytes().decode("latin-1") for p in prefect_database()),
    }
    assert "redcap_export_night1.csv" in places["tables"] and "[1/5]" in places["output"]  # the search can find
    assert "refresh-summary" in places["prefect"] and "redcap form gad7 as GAD-7" in places["reports"]
    for place, text in places.items():
        assert [planted for planted in [*PLANTED, key.read_text().strip()] if planted in text] == [], place


@pytest.mark.parametrize(
    ("key_text", "mode", "reason"),
    [
        (None, 0o600, "no key file is configured"),
        ("short-key\n", 0o600, "holds fewer than 32 bytes"),
        ("k" * 40, 0o640, "is readable by other users"),
        ("k" * 40, 0o604, "is readable by other users"),
    ],
)
def test_refresh_refuses_an_unusable_key_before_reading_anything(prefect_server, tmp_path, key_text, mode, reason):
    inbox = tmp_path / "inbox"
    inbox.mkdir()
    shutil.copy(FIXTURES / "redcap" / "redcap_export_night1.csv", inbox)
    key = tmp_path / "program.key"
    config_text = REDCAP_CONFIG.format(key_file=key)
    if key_text is None:
        config_text = config_text.replace(f'[pseudonymisation]\nkey_file = "{key}"\n', "")
    else:
        key.write_text(key_text)
        os.chmod(key, mode)
    config = tmp_path / "program.toml"
    config.write_text(config_text)
    warehouse = tmp_path / "warehouse.duckdb"
    with pytest.raises(KeyFileError, match=reason):
        refresh(inbox=inbox, warehouse=warehouse, config=config, as_of=date(2026, 4, 30))
    # nothing built; only the record of the failed attempt beside where the warehouse would be, without the key
    assert not warehouse.exists() and [p.name for p in tmp_path.glob("warehouse*")] == [attempts_file(warehouse).name]
    [attempt] = failed_attempts(warehouse)
    assert reason in attempt.reason and (key_text is None or key_text.strip() not in attempt.reason)


def test_a_missing_key_file_is_refused(prefect_server, tmp_path):
    inbox = tmp_path / "inbox"
    shutil.copytree(FIXTURES / "fhir", inbox, ignore=shutil.ignore_patterns("*.md"))
    config = tmp_path / "program.toml"
    config.write_text(FHIR_CONFIG.format(key_file=tmp_path / "nowhere.key"))
    with pytest.raises(KeyFileError, match="cannot be read"):
        refresh(inbox=inbox, warehouse=tmp_path / "w.duckdb", config=config, as_of=date(2026, 4, 30))


def test_native_files_need_no_key(prefect_server, tmp_path):
    inbox = tmp_path / "inbox"
    inbox.mkdir()
    shutil.copy(FIXTURES / "native" / "participants.csv", inbox)
    summary = refresh(inbox=inbox, warehouse=tmp_path / "w.duckdb", as_of=date(2026, 4, 30))
    assert summary.files_loaded == 1


def test_the_command_line_refuses_an_unusable_key_in_one_line_before_anything_runs(tmp_path):
    inbox = tmp_path / "inbox"
    inbox.mkdir()
    shutil.copy(FIXTURES / "redcap" / "redcap_export_night1.csv", inbox)
    key = tmp_path / "program.key"
    key.write_text("k" * 40)
    key.chmod(0o644)
    config = tmp_path / "program.toml"
    config.write_text(REDCAP_CONFIG.format(key_file=key))
    result = securebase_refresh("--inbox", inbox, "--warehouse", tmp_path / "w.duckdb", "--config", config)
    assert (result.returncode, result.stdout) == (1, "")
    assert result.stderr.splitlines() == [
        f"securebase: pseudonymisation.key_file {key} is readable by other users: chmod 600 it"
    ]
    assert not (tmp_path / "w.duckdb").exists()
