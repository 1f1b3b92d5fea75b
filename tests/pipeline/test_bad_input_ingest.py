"""The bad-input corpus, ingest side: every record a source offers is loaded, or left out or
refused with a message naming its file and line (never its content), and the counts add up.

Hand-written inputs in fixtures/bad_input/ (Wazuh lines, incident registers) and Keycloak events
inserted by the test; expected messages and counts are written out here, from the fixtures.
"""

from __future__ import annotations

import json
import shutil
import subprocess
from pathlib import Path

import psycopg
import pytest

from nis2_settings import ROOT, PgSettings
from pipeline.meltano import meltano_bin, pipeline_env
from pipeline.postgres import EmbeddedPostgres, ensure_database
from pipeline.wazuh_spool import SpoolDir, prepare
from tests.conftest import meltano_run

FIXTURES = Path(__file__).parent / "fixtures" / "bad_input"
PERSONAL = "jane.doe@example.org"  # in most bad fixture lines: never to be printed
MIB = 1024 * 1024
DB = "bad_input"
GOOD_IDS = ["1767225601.1001", "1767225606.1006", "1767225610.1010"]
BIG_OK_ID, BIG_ID, LAST_ID = "1767225611.1011", "1767225612.1012", "1767225613.1013"
# (line, reason, message) for each bad line of wazuh_alerts.jsonl and the two appended ones.
WAZUH_LEFT_OUT = [
    (2, "truncated", "JSON cut short (the line ends inside the alert)"),
    (3, "not_json", "not valid JSON (column 1)"),
    (4, "invalid_utf8", "not valid UTF-8 (byte 120)"),
    (5, "empty", "empty line"),
    (7, "not_object", "a JSON value that is not an object (an array)"),
    (8, "id_missing", 'no alert "id"'),
    (9, "id_not_string", 'alert "id" is not a non-empty string (a number)'),
    (12, "too_long", "1,048,661 bytes, longer than wazuh-spool's max_line_bytes"),
]


def _padded_alert(alert_id: str, size: int) -> bytes:
    """A valid alert line of exactly `size` bytes before its end-of-line."""
    head = b'{"timestamp":"2026-01-01T00:00:11.000+0000","id":"' + alert_id.encode()
    head += b'","full_log":"'
    return head + b"x" * (size - len(head) - 2) + b'"}'


def wazuh_corpus(folder: Path) -> Path:
    """The fixture lines, then a 1,000,000-byte alert (under the 1 MiB limit), one just over
    1 MiB, and a last good alert."""
    live = folder / "alerts.json"
    live.parent.mkdir(parents=True, exist_ok=True)
    data = (FIXTURES / "wazuh_alerts.jsonl").read_bytes()
    data += _padded_alert(BIG_OK_ID, 1_000_000) + b"\n"
    data += _padded_alert(BIG_ID, MIB + 85) + b"\n"
    data += b'{"timestamp":"2026-01-01T00:00:13.000+0000","id":"' + LAST_ID.encode() + b'"}\n'
    live.write_bytes(data)
    return live


def test_each_bad_wazuh_line_has_its_own_message_and_every_good_one_is_spooled(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    live = wazuh_corpus(tmp_path / "alerts")
    state = SpoolDir(tmp_path / "state")
    batch = prepare(state, [str(live)])
    err = capsys.readouterr().err
    for line, _, message in WAZUH_LEFT_OUT:
        assert f"wazuh-spool: {live}:{line}: {message}" in err
    assert PERSONAL not in err
    assert PERSONAL not in state.pending.read_text()
    spooled = [
        json.loads(line)["id"]
        for path in sorted(state.spool.glob("*.json"))
        for line in path.read_bytes().splitlines()
    ]
    assert spooled == [*GOOD_IDS, BIG_OK_ID, LAST_ID]
    reasons = {reason: 1 for _, reason, _ in WAZUH_LEFT_OUT}
    assert (batch["offered"], batch["alerts"], batch["left_out"]) == (13, 5, reasons)
    assert batch["offered"] == batch["alerts"] + sum(batch["left_out"].values())
    assert batch["left_out_lines"] == [
        {"file": str(live), "line": line, "reason": reason} for line, reason, _ in WAZUH_LEFT_OUT
    ]


def test_a_lower_line_limit_and_an_unfinished_long_line(tmp_path: Path) -> None:
    live = tmp_path / "alerts.json"
    live.write_bytes(
        _padded_alert("1.1", 100) + b"\n" + _padded_alert("1.2", 101) + b"\n" + b"x" * 300
    )
    state = SpoolDir(tmp_path / "state")
    batch = prepare(state, [str(live)], max_line_bytes=100)
    assert (batch["offered"], batch["alerts"], batch["left_out"]) == (2, 1, {"too_long": 1})
    assert batch["held_back"] == [{"file": str(live), "line": 3}]


# --- real Meltano runs on the session's test server ------------------------------------------


@pytest.fixture
def env(test_postgres: EmbeddedPostgres, admin_conninfo: str, tmp_path: Path) -> dict[str, str]:
    with psycopg.connect(admin_conninfo, autocommit=True) as conn:
        conn.execute(f'drop database if exists "{DB}" with (force)')
    ensure_database(admin_conninfo, DB)
    pg = PgSettings("127.0.0.1", test_postgres.port, "postgres", "", DB, "keycloak", True)
    files = [
        {
            "path": str(tmp_path / "incidents" / "*.csv"),
            "format": "csv",
            "table_name": "incident_register",
            "primary_keys": ["incident_id"],
        }
    ]
    extra = {
        "MELTANO_DATABASE_URI": f"sqlite:///{tmp_path / 'meltano.db'}",
        "TAP_INCIDENTS_FILES": json.dumps(files),
    }
    return pipeline_env(pg, tmp_path, extra=extra)


def query(env: dict[str, str], text: str, params: tuple = ()) -> list[tuple]:
    conninfo = f"host=127.0.0.1 port={env['NIS2_PG_PORT']} user=postgres dbname={DB}"
    with psycopg.connect(conninfo) as conn:
        return conn.execute(text, params).fetchall()


def meltano_exit(env: dict[str, str], *blocks: str) -> tuple[int, str]:
    result = subprocess.run(
        [str(meltano_bin()), "run", *blocks],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        check=False,
        timeout=600,
    )
    return result.returncode, result.stdout + result.stderr


@pytest.mark.integration
def test_wazuh_corpus_through_meltano_loads_the_good_lines_and_writes_the_ledger(
    env: dict[str, str], tmp_path: Path
) -> None:
    live = wazuh_corpus(tmp_path / "org" / "wazuh" / "alerts")
    output = meltano_run(
        env, "wazuh-spool:prepare", "tap-wazuh", "target-postgres", "wazuh-spool:commit"
    )
    for line, _, message in WAZUH_LEFT_OUT:
        assert f"{live}:{line}: {message}" in output
    assert PERSONAL not in output
    loaded = query(env, "select id from tap_wazuh.wazuh_alerts order by id")
    assert [r[0] for r in loaded] == sorted([*GOOD_IDS, BIG_OK_ID, LAST_ID])
    ledger = (tmp_path / "wazuh-spool" / "ledger.jsonl").read_text().splitlines()
    assert len(ledger) == 1
    entry = json.loads(ledger[0])
    assert set(entry) == {"committed_at", "offered", "spooled", "left_out", "left_out_lines"}
    assert entry["committed_at"].endswith("Z")
    assert (entry["offered"], entry["spooled"]) == (13, 5)
    assert entry["left_out"] == {reason: 1 for _, reason, _ in WAZUH_LEFT_OUT}
    assert entry["left_out_lines"][0] == {"file": str(live), "line": 2, "reason": "truncated"}
    assert PERSONAL not in ledger[0]


REGISTER_CASES = {
    "register_missing_column.csv": ["1: severity: column is missing from the header"],
    "register_bad_dates.csv": [
        "2: detected_at: is not an ISO 8601 timestamp",
        "3: aware_at: is not an ISO 8601 timestamp",
        "4: contained_at: has no UTC offset (write ...Z or +00:00)",
    ],
    "register_duplicate_ids.csv": ["4: incident_id: repeats line 2"],
    "register_unknown_enum.csv": [
        "2: suspected_malicious: is not one of yes, no, unknown",
        "4: is_planned_maintenance: is not one of true, false",
    ],
}
REGISTER_IDS = ["INC-2026-001", "INC-2026-002", "INC-2026-003"]
INCIDENTS = ("tap-incidents", "target-postgres")


def _register(tmp_path: Path, fixture: str) -> Path:
    folder = tmp_path / "incidents"
    folder.mkdir(exist_ok=True)
    return Path(shutil.copy(FIXTURES / fixture, folder / "incident_register.csv"))


@pytest.mark.integration
@pytest.mark.parametrize("fixture", sorted(REGISTER_CASES))
def test_a_bad_register_fails_the_job_naming_each_row_and_loads_nothing(
    env: dict[str, str], tmp_path: Path, fixture: str
) -> None:
    register = _register(tmp_path, fixture)
    code, output = meltano_exit(env, *INCIDENTS)
    assert code != 0
    for problem in REGISTER_CASES[fixture]:
        assert f"incident register: {register}:{problem}" in output
    assert "nothing loaded" in output
    assert query(env, "select to_regclass('tap_incidents.incident_register')") == [(None,)]


@pytest.mark.integration
def test_allow_invalid_rows_loads_a_bad_register_with_a_warning(
    env: dict[str, str], tmp_path: Path
) -> None:
    register = _register(tmp_path, "register_bad_dates.csv")
    output = meltano_run({**env, "TAP_INCIDENTS_ALLOW_INVALID_ROWS": "true"}, *INCIDENTS)
    assert f"{register}:3: aware_at: is not an ISO 8601 timestamp" in output
    assert "WARNING 3 problems, loaded anyway" in output
    rows = query(env, "select incident_id from tap_incidents.incident_register order by 1")
    assert [r[0] for r in rows] == REGISTER_IDS


# --- late Keycloak events ---------------------------------------------------------------------

HOUR = 3_600_000  # Keycloak's event_time is epoch milliseconds
BASE = 1_790_000_000_000  # 2026-09-21T14:13:20Z
KEYCLOAK = ("tap-keycloak", "target-postgres")


@pytest.fixture
def keycloak_env(env: dict[str, str], admin_conninfo: str) -> dict[str, str]:
    """An empty Keycloak database (Keycloak's own table definitions) for tap-keycloak."""
    database = f"{DB}_keycloak"
    with psycopg.connect(admin_conninfo, autocommit=True) as conn:
        conn.execute(f'drop database if exists "{database}" with (force)')
    ensure_database(admin_conninfo, database)
    ddl = (ROOT / "simulator" / "keycloak_schema.sql").read_text()
    conninfo = admin_conninfo.replace("dbname=postgres", f"dbname={database}")
    with psycopg.connect(conninfo) as conn:
        conn.execute(ddl)
    return {
        **env,
        "KEYCLOAK_CONNINFO": conninfo,
        "TAP_KEYCLOAK_DATABASE": database,
        "TAP_KEYCLOAK_USER": "postgres",
        "TAP_KEYCLOAK_PASSWORD": "unused-local-trust",
    }


def _events(env: dict[str, str], *events: tuple[str, int]) -> None:
    with psycopg.connect(env["KEYCLOAK_CONNINFO"]) as conn:
        for event_id, event_time in events:
            conn.execute(
                "insert into public.event_entity (id, event_time, type, realm_id) "
                "values (%s, %s, 'LOGIN', 'nis2')",
                (event_id, event_time),
            )


@pytest.mark.integration
def test_a_late_keycloak_event_inside_the_window_loads_once_and_one_outside_is_reported(
    keycloak_env: dict[str, str],
) -> None:
    env = keycloak_env
    _events(env, ("ev-1", BASE + HOUR), ("ev-2", BASE + 2 * HOUR), ("ev-3", BASE + 3 * HOUR))
    meltano_run(env, *KEYCLOAK)  # bookmark: BASE + 3 h
    # Committed after that run, with the times the events happened:
    _events(
        env,
        ("late-inside", BASE + HOUR + HOUR // 2),  # 1.5 h behind the bookmark
        ("late-outside", BASE + 3 * HOUR - 48 * HOUR),  # 48 h behind: outside 24 h
        ("new", BASE + 4 * HOUR),
    )
    output = meltano_run(env, *KEYCLOAK)
    ids = "select id from tap_keycloak.event_entity order by id"
    assert [r[0] for r in query(env, ids)] == ["ev-1", "ev-2", "ev-3", "late-inside", "new"]
    assert "public-event_entity: reading event_time from 2026-09-20T17:13:20+00:00" in output
    assert "WARNING 1 event_entity rows with event_time before 2026-09-20T17:13:20+00:00" in output

    meltano_run(env, *KEYCLOAK)  # the overlap is read again, upserted: still once each
    count = "select count(*), count(distinct id) from tap_keycloak.event_entity"
    assert query(env, count) == [(5, 5)]

    output = meltano_run({**env, "TAP_KEYCLOAK_LOOKBACK_HOURS": "72"}, *KEYCLOAK)
    assert "rows with event_time before" not in output
    assert query(env, count) == [(6, 6)]


@pytest.mark.integration
def test_a_cached_catalog_missing_a_keycloak_column_stops_the_sync_naming_it(
    keycloak_env: dict[str, str],
) -> None:
    """Meltano reuses tap-keycloak's discovered catalog (its pip_url does not start with -e);
    after Keycloak gains a column the cached catalog would drop it silently, so the wrapper
    stops the sync naming the column, and a refreshed catalog loads it."""
    env = keycloak_env
    _events(env, ("ev-1", BASE + HOUR))
    meltano_run(env, *KEYCLOAK)  # discovers and caches the catalog
    with psycopg.connect(env["KEYCLOAK_CONNINFO"]) as conn:
        conn.execute("alter table public.event_entity add column added_by_upgrade text")
        conn.execute(
            "insert into public.event_entity (id, event_time, type, realm_id, added_by_upgrade) "
            "values ('ev-2', %s, 'LOGIN', 'nis2', 'x')",
            (BASE + 2 * HOUR,),
        )
    stale = subprocess.run(
        [str(meltano_bin()), "run", *KEYCLOAK],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        check=False,
    )
    output = stale.stdout + stale.stderr
    assert stale.returncode != 0
    assert "public-event_entity: added_by_upgrade" in output
    assert "--refresh-catalog" in output
    meltano_run(env, "--refresh-catalog", *KEYCLOAK)
    loaded = "select id, added_by_upgrade from tap_keycloak.event_entity order by id"
    assert query(env, loaded) == [("ev-1", None), ("ev-2", "x")]
