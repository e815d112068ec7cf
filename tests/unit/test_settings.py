"""Config slips stop `load_settings` with the key and the reason (CONTRACT.md §1, §3; README "Configuration")."""

import os
import re
from pathlib import Path

import pytest

from securebase.settings import SECTIONS, SettingsError, load_settings

README = Path(__file__).resolve().parents[2] / "README.md"
BDI = '[[instruments]]\nid = "BDI-II"\nkind = "scored"\nmin = 0\nmax = 63\n'
SAS = '[[instruments]]\nid = "SAS-6"\nkind = "items"\nitems = 6\nmin = 0\nmax = 4\n'
# CONTRACT.md §3, word for word
CONTRACT_EXAMPLE = """
[program]
timezone = "Europe/London"

[windows]
baseline = [-14, 7]
endpoint_target = 70
endpoint = [56, 84]

[[instruments]]
id = "BDI-II"
kind = "scored"
subscales = ["total"]
min = 0
max = 63
direction = "lower_is_better"

[outcomes."BDI-II".total]
reliability = 0.801
sd = "sample"
reliable_change = "jacobson_truax"
cutoff = "a"
functional_mean = 7.69
functional_sd = 7.52
"""


@pytest.fixture(autouse=True)
def no_settings_in_the_environment(monkeypatch):
    for name in os.environ:
        if name.startswith(tuple(f"SECUREBASE_{section.upper()}_" for section in SECTIONS)):
            monkeypatch.delenv(name)


def load(tmp_path, text: str):
    config = tmp_path / "program.toml"
    config.write_text(text)
    return load_settings(config)


def readme_config() -> str:
    section = README.read_text().split("## Configuration", 1)[1]
    return re.search(r"```toml\n(.*?)```", section, re.S).group(1)


@pytest.mark.parametrize(
    "text",
    [
        CONTRACT_EXAMPLE,
        CONTRACT_EXAMPLE.replace('cutoff = "a"', 'cutoff = "c"'),  # tests/integration/test_scored_instrument.py
        '[program]\ntimezone = "Europe/London"\n',  # tests/integration/test_schedule.py
        '[outcomes."GAD-7".total]\nthreshold = 3\n',
        '[dashboard]\nroles = "roles.toml"\nsecrets = "secrets.toml"\n',  # tests/dashboard/test_sign_in.py
        '[refresh]\ninbox = "inbox"\nwarehouse = "warehouse.duckdb"\n[privacy]\nmin_cell = 10\npublication = true\n',
        '[outcomes."ECR-R".anxiety]\ncutoff = "b"\nfunctional_mean = 2.0\nfunctional_sd = 0.8\n',
        '[outcomes."PHQ-9".total]\nreliable_change = "jacobson_truax"\nreliability = 0.84\ncutoff = 9.5\n',
    ],
)
def test_valid_configs_load(tmp_path, text):
    load(tmp_path, text)


def test_the_readme_config_loads(tmp_path):
    settings = load(tmp_path, readme_config())
    assert settings.timezone == "Europe/London" and settings.min_cell == 5 and settings.publication is False
    assert settings.windows.baseline == (-14, 7) and settings.windows.endpoint_target == 70
    assert set(settings.instruments) >= {"BDI-II", "SAS-6"}
    assert settings.sites == {"north": "North clinic"}
    assert settings.stale_after_hours == 36
    assert (settings.memory_limit, settings.temp_directory) == ("2GB", None)


def test_no_config_gives_the_defaults():
    settings = load_settings(None)
    assert (settings.timezone, settings.min_cell, settings.publication) == ("UTC", 5, False)
    assert settings.windows.baseline == (-14, 7) and settings.windows.endpoint == (56, 84)
    assert settings.stale_after_hours == 36
    assert (settings.memory_limit, settings.temp_directory) == ("2GB", None)


@pytest.mark.parametrize(
    ("value", "memory_limit"),
    [("4GB", "4GB"), ("512MiB", "512MiB"), ("1.5 gib", "1.5GiB"), ("  8gb ", "8GB"), ("262144KiB", "262144KiB")],
)
def test_the_memory_limit_is_written_as_duckdb_reads_it(tmp_path, value, memory_limit):
    assert load(tmp_path, f'[refresh]\nmemory_limit = "{value}"\n').memory_limit == memory_limit


@pytest.mark.parametrize("value", ["4", "4 gigabytes", "GB", "-1GB", "1e9B", "255MiB", "0.25GB", "80%"])
def test_a_memory_limit_that_is_not_an_amount_of_at_least_256_mib_is_refused_with_the_key(tmp_path, value):
    with pytest.raises(SettingsError) as error:
        load(tmp_path, f'[refresh]\nmemory_limit = "{value}"\n')
    assert str(error.value) == (
        f'refresh.memory_limit must be an amount of memory of at least 256MiB in quotes, such as "4GB", got {value!r}'
    )


@pytest.mark.parametrize("value", ["4", "true", "[4, 'GB']"])
def test_a_memory_limit_that_is_not_text_is_refused_with_the_key(tmp_path, value):
    with pytest.raises(SettingsError, match=r"^refresh\.memory_limit must be an amount of memory"):
        load(tmp_path, f"[refresh]\nmemory_limit = {value}\n")


def test_environment_values_arrive_as_text_and_still_work(monkeypatch):
    monkeypatch.setenv("SECUREBASE_PROGRAM_TIMEZONE", "Europe/London")
    monkeypatch.setenv("SECUREBASE_WINDOWS_BASELINE", "[-7, 3]")
    monkeypatch.setenv("SECUREBASE_WINDOWS_ENDPOINT", "50,90")
    monkeypatch.setenv("SECUREBASE_WINDOWS_ENDPOINT_TARGET", "60")
    monkeypatch.setenv("SECUREBASE_PRIVACY_MIN_CELL", "10")
    monkeypatch.setenv("SECUREBASE_PRIVACY_PUBLICATION", "True")
    monkeypatch.setenv("SECUREBASE_REFRESH_INBOX", "/data/inbox")
    monkeypatch.setenv("SECUREBASE_DASHBOARD_STALE_AFTER_HOURS", "48.5")
    monkeypatch.setenv("SECUREBASE_REFRESH_MEMORY_LIMIT", "2GiB")
    monkeypatch.setenv("SECUREBASE_REFRESH_TEMP_DIRECTORY", "/data/spill")
    settings = load_settings(None)
    assert settings.timezone == "Europe/London"
    assert (settings.windows.baseline, settings.windows.endpoint, settings.windows.endpoint_target) == (
        (-7, 3),
        (50, 90),
        60,
    )
    assert (settings.min_cell, settings.publication, settings.inbox) == (10, True, Path("/data/inbox"))
    assert settings.stale_after_hours == 48.5
    assert (settings.memory_limit, settings.temp_directory) == ("2GiB", Path("/data/spill"))


@pytest.mark.parametrize(
    ("variable", "value", "message"),
    [
        ("SECUREBASE_PRIVACY_MIN_CELL", "five", "privacy.min_cell must be a positive integer, got 'five'"),
        ("SECUREBASE_WINDOWS_BASELINE", "a,3", "windows.baseline must be two day offsets [first, last], got 'a,3'"),
        ("SECUREBASE_PRIVACY_PUBLICATION", "yes", "privacy.publication must be true or false, got 'yes'"),
        (
            "SECUREBASE_DASHBOARD_STALE_AFTER_HOURS",
            "a day",
            "dashboard.stale_after_hours must be a positive number of hours, got 'a day'",
        ),
    ],
)
def test_environment_slips_are_refused_with_the_key(monkeypatch, variable, value, message):
    monkeypatch.setenv(variable, value)
    with pytest.raises(SettingsError) as error:
        load_settings(None)
    assert str(error.value) == message


@pytest.mark.parametrize(
    ("text", "message"),
    [
        # 1. unknown sections and keys
        (
            '[program]\ntimezon = "UTC"\n',
            "program.timezon: unknown key ([program] takes timezone)",
        ),
        (
            '[programme]\ntimezone = "UTC"\n',
            "programme: unknown section (known: program, windows, instruments, outcomes, privacy, refresh, dashboard, "
            "sites, notify, redcap, fhir, pseudonymisation)",
        ),
        (
            "[windows]\nbaseline_target = 0\n",
            "windows.baseline_target: unknown key ([windows] takes baseline, endpoint_target, endpoint)",
        ),
        ("[privacy]\nmincell = 3\n", "privacy.mincell: unknown key ([privacy] takes min_cell, publication)"),
        (
            '[refresh]\ninbx = "in"\n',
            "refresh.inbx: unknown key ([refresh] takes inbox, warehouse, memory_limit, temp_directory)",
        ),
        (
            '[dashboard]\nrole = "r.toml"\n',
            "dashboard.role: unknown key ([dashboard] takes roles, secrets, stale_after_hours)",
        ),
        ('program = "UTC"\n', "program must be a table [program], got 'UTC'"),
        ('[instruments]\nid = "BDI-II"\n', 'instruments must be [[instruments]] tables, each with id = "..."'),
        (
            BDI + 'dirction = "higher_is_better"\n',
            "instruments[BDI-II].dirction: unknown key (an instrument takes id, name, source, kind, subscales, "
            "items, min, max, method, direction)",
        ),
        (
            '[outcomes."ECR-R".anxiety]\nreliabilty = 0.8\n',
            "outcomes.ECR-R.anxiety.reliabilty: unknown key (an outcome takes reliability, sd, reliable_change, "
            "threshold, cutoff, functional_mean, functional_sd)",
        ),
        ('[outcomes."GAD-7".totl]\ncutoff = 8\n', "outcomes.GAD-7.totl: no such subscale (total)"),
        ('[outcomes."BDI-II".total]\ncutoff = 14\n', "outcomes.BDI-II: no such instrument"),
        ('[outcomes]\n"GAD-7" = 8\n', 'outcomes.GAD-7 must be tables such as [outcomes."GAD-7".total]'),
        # 2. values of the wrong type
        ('[privacy]\nmin_cell = "five"\n', "privacy.min_cell must be a positive integer, got 'five'"),
        ("[privacy]\nmin_cell = 0\n", "privacy.min_cell must be a positive integer, got 0"),
        ("[privacy]\nmin_cell = 2.5\n", "privacy.min_cell must be a positive integer, got 2.5"),
        ('[privacy]\npublication = "yes"\n', "privacy.publication must be true or false, got 'yes'"),
        (
            '[windows]\nendpoint_target = "x"\n',
            "windows.endpoint_target must be a whole number of days, got 'x'",
        ),
        (
            '[windows]\nbaseline = ["a", 3]\n',
            "windows.baseline must be two day offsets [first, last], got ['a', 3]",
        ),
        ("[windows]\nbaseline = 5\n", "windows.baseline must be two day offsets [first, last], got 5"),
        ("[windows]\nendpoint = [84, 56]\n", "windows.endpoint must be two day offsets [first, last], got [84, 56]"),
        ("[refresh]\ninbox = 5\n", "refresh.inbox must be a path in quotes, got 5"),
        ("[refresh]\ntemp_directory = 5\n", "refresh.temp_directory must be a path in quotes, got 5"),
        # 3. outcome settings
        (
            '[outcomes."ECR-R".anxiety]\nreliable_change = "bootstrap"\n',
            'outcomes.ECR-R.anxiety.reliable_change must be "jacobson_truax" or "fixed", got \'bootstrap\'',
        ),
        (
            BDI + '[outcomes."BDI-II".total]\ncutoff = "d"\n',
            'outcomes.BDI-II.total.cutoff must be "a", "b", "c" or a number, got \'d\'',
        ),
        (
            '[outcomes."ECR-R".anxiety]\ncutoff = "b"\n',
            'outcomes.ECR-R.anxiety.cutoff "b" needs functional_mean and functional_sd',
        ),
        (
            BDI + '[outcomes."BDI-II".total]\ncutoff = "c"\nfunctional_mean = 7.69\n',
            'outcomes.BDI-II.total.cutoff "c" needs functional_mean and functional_sd',
        ),
        (
            '[outcomes."ECR-R".anxiety]\nreliability = 1.2\n',
            "outcomes.ECR-R.anxiety.reliability must be at least 0 and below 1, got 1.2",
        ),
        (
            BDI + '[outcomes."BDI-II".total]\nreliability = "alpha"\n',
            'outcomes.BDI-II.total.reliability = "alpha" needs item responses: give a number for a scored instrument',
        ),
        (
            '[outcomes."GAD-7".total]\nthreshold = 0\n',
            "outcomes.GAD-7.total.threshold must be above 0, got 0",
        ),
        (
            '[outcomes."ECR-R".anxiety]\nreliability = "alfa"\n',
            "outcomes.ECR-R.anxiety.reliability must be \"alpha\" or a number, got 'alfa'",
        ),
        (
            '[outcomes."ECR-R".anxiety]\nsd = "sampel"\n',
            "outcomes.ECR-R.anxiety.sd must be \"sample\" or a number, got 'sampel'",
        ),
        (
            '[outcomes."ECR-R".anxiety]\nreliable_change = "fixed"\n',
            'outcomes.ECR-R.anxiety.reliable_change = "fixed" needs a threshold',
        ),
        (
            '[outcomes."GAD-7".total]\nthreshold = "four"\n',
            "outcomes.GAD-7.total.threshold must be a number, got 'four'",
        ),
        # 4. custom instruments
        (
            BDI.replace('"scored"', '"total"'),
            'instruments[BDI-II].kind must be "items" or "scored", got \'total\'',
        ),
        (
            BDI + 'direction = "down"\n',
            'instruments[BDI-II].direction must be "lower_is_better" or "higher_is_better", got \'down\'',
        ),
        (BDI + 'method = "median"\n', 'instruments[BDI-II].method must be "mean" or "sum", got \'median\''),
        (
            BDI.replace("min = 0\nmax = 63", "min = 63\nmax = 0"),
            "instruments[BDI-II].min must be below max, got min = 63 and max = 0",
        ),
        (BDI.replace("min = 0", 'min = "0"'), "instruments[BDI-II].min must be a number, got '0'"),
        (BDI.replace("max = 63\n", ""), "instruments[BDI-II].max is missing"),
        (
            '[[instruments]]\nkind = "scored"\nmin = 0\nmax = 63\n',
            'instruments[1].id is missing: each [[instruments]] table needs an id = "..."',
        ),
        (
            BDI.replace("BDI-II", "GAD-7"),
            "instruments[GAD-7].id: 'GAD-7' is built in and cannot be redefined",
        ),
        (BDI + BDI, "instruments[BDI-II].id: 'BDI-II' is defined twice"),
        (
            BDI + 'subscales = [{ name = "total" }]\n',
            'instruments[BDI-II].subscales of a scored instrument must be names such as ["total"], '
            "got [{'name': 'total'}]",
        ),
        # 5. items instruments and their subscales
        (
            SAS + 'subscales = ["worry", "control"]\n',
            "instruments[SAS-6].subscales: with more than one subscale give each one's items as a table, "
            'e.g. {name = "anxiety", items = [1, 2, 3], reverse_items = [2]}',
        ),
        (
            SAS.replace("items = 6\n", ""),
            "instruments[SAS-6].items must be a positive integer, the number of items on the form; it is missing",
        ),
        (
            SAS.replace("items = 6", 'items = "6"'),
            "instruments[SAS-6].items must be a positive integer, the number of items on the form; got '6'",
        ),
        (SAS + "subscales = []\n", 'instruments[SAS-6].subscales must be a list such as ["total"], got []'),
        (
            SAS + 'subscales = [{ name = "total", items = [1, 7] }]\n',
            "instruments[SAS-6].subscales[total].items must be a list of item numbers from 1 to 6, got [1, 7]",
        ),
        (
            SAS + 'subscales = [{ name = "total", items = [1, 2], reverse_items = [3] }]\n',
            "instruments[SAS-6].subscales[total].reverse_items must be a list of its items, got [3]",
        ),
        (
            SAS + 'subscales = [{ name = "total", items = [1, 2], reverse = [2] }]\n',
            "instruments[SAS-6].subscales[total].reverse: unknown key (a subscale takes name, items, reverse_items)",
        ),
        (
            SAS + "subscales = [{ items = [1, 2] }]\n",
            "instruments[SAS-6].subscales: each table needs a name, got {'items': [1, 2]}",
        ),
        (
            '[program]\ntimezone = "Mars/Olympus_Mons"\n',
            "program.timezone 'Mars/Olympus_Mons' is not a known time zone",
        ),
        (
            "[dashboard]\nstale_after_hours = 0\n",
            "dashboard.stale_after_hours must be a positive number of hours, got 0",
        ),
        (
            "[dashboard]\nstale_after_hours = true\n",
            "dashboard.stale_after_hours must be a positive number of hours, got True",
        ),
    ],
)
def test_config_slips_are_refused_with_the_key_and_the_reason(tmp_path, text, message):
    with pytest.raises(SettingsError) as error:
        load(tmp_path, text)
    assert str(error.value) == message


@pytest.mark.parametrize("subscales", ['subscales = ["total"]\n', ""])
def test_an_items_instrument_named_by_one_subscale_covers_every_item(tmp_path, subscales):
    [total] = load(tmp_path, SAS + subscales).instruments["SAS-6"].subscales
    assert (total.name, total.items, total.reverse_items) == ("total", (1, 2, 3, 4, 5, 6), ())


def test_an_items_instrument_keeps_its_subscale_tables(tmp_path):
    text = (
        SAS
        + 'subscales = [{ name = "a", items = [1, 2, 3] }, { name = "b", items = [4, 5, 6], reverse_items = [6] }]\n'
    )
    a, b = load(tmp_path, text).instruments["SAS-6"].subscales
    assert (a.items, a.reverse_items, b.items, b.reverse_items) == ((1, 2, 3), (), (4, 5, 6), (6,))


def test_sites_take_display_names_keyed_by_site_id(tmp_path):
    settings = load(tmp_path, '[sites]\nnorth = "North clinic"\nsite_2 = "St Mary\'s (Leeds) - day unit"\n')
    assert settings.sites == {"north": "North clinic", "site_2": "St Mary's (Leeds) - day unit"}
    assert load_settings(None).sites == {}


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ('[sites]\n"north clinic" = "North"\n', "sites.north clinic: not a site id"),
        ('[sites]\n"-north" = "North"\n', "sites.-north: not a site id"),
        ("[sites]\nnorth = 3\n", "sites.north must be a display name in quotes"),
        ('[sites]\nnorth = ""\n', "sites.north must be a display name in quotes"),
        ('[sites]\nnorth = "<b>North</b>"\n', "sites.north must be a display name in quotes"),
        ('[sites]\nnorth = "North\\nclinic"\n', "sites.north must be a display name in quotes"),
        ('[sites]\nnorth = "jo@clinic.example"\n', "sites.north must be a display name in quotes"),
        ('[sites]\nnorth = "' + "N" * 41 + '"\n', "sites.north must be a display name in quotes"),
        ('[sites.north]\nname = "North"\n', "sites.north must be a display name in quotes"),
        ('[sites]\nnorth = "Clinic"\nsouth = "Clinic"\n', "sites: the display name 'Clinic' is given to more than one"),
    ],
)
def test_site_display_names_must_be_short_plain_words_for_valid_site_ids(tmp_path, text, message):
    with pytest.raises(SettingsError) as error:
        load(tmp_path, text)
    assert str(error.value).startswith(message)
