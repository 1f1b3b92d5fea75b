"""The Wazuh spool hands tap-wazuh each alert line once: new lines only, across rotation,
failed loads and crashes, with bad lines named (file and line) and never shown; a batch is
committed only by its own job and only once all its alerts are in the warehouse.

The warehouse is a real Postgres; `load` stands in for tap-wazuh + target-postgres (an upsert
of the spooled alerts on `id`), so a test can load a batch, part of it, or nothing.
"""

from __future__ import annotations

import gzip
import json
import os
import shutil
import subprocess
import sys
import uuid
from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path

import psycopg
import pytest

from nis2_settings import ROOT, PgSettings
from pipeline import wazuh_spool
from pipeline.meltano import meltano_bin, pipeline_env
from pipeline.postgres import EmbeddedPostgres, ensure_database
from pipeline.wazuh_spool import Job, SpoolDir, SpoolError, Warehouse, commit, prepare

PERSONAL = "jane.doe@example.org"  # a bad line may carry personal data: it must never be printed


def alert(n: int, day: int = 30) -> bytes:
    record = {
        "timestamp": f"2026-10-{day:02d}T10:00:{n % 60:02d}.000+0000",
        "id": f"17{day:02d}.{n}",
        "rule": {"id": "5501", "level": 3},
        "data": {"srcuser": "root"},
    }
    return json.dumps(record).encode() + b"\n"


def write(path: Path, *lines: bytes, mode: str = "wb") -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open(mode) as handle:
        handle.write(b"".join(lines))
    return path


@pytest.fixture
def wazuh(tmp_path: Path) -> Path:
    """A manager's alerts folder: one archive (29 Oct) and the live file (30 Oct)."""
    root = tmp_path / "alerts"
    write(root / "2026" / "Oct" / "ossec-alerts-29.json", *(alert(n, 29) for n in range(5)))
    write(root / "alerts.json", *(alert(n) for n in range(3)))
    return root


@pytest.fixture
def state(tmp_path: Path) -> SpoolDir:
    return SpoolDir(tmp_path / "state")


@pytest.fixture(scope="module")
def warehouse_db(admin_conninfo: str) -> str:
    with psycopg.connect(admin_conninfo, autocommit=True) as conn:
        conn.execute('drop database if exists "wazuh_spool" with (force)')
    ensure_database(admin_conninfo, "wazuh_spool")
    return admin_conninfo.replace("dbname=postgres", "dbname=wazuh_spool")


@pytest.fixture
def warehouse(warehouse_db: str) -> Warehouse:
    """An empty alerts table of its own, as target-postgres creates it (keyed on `id`)."""
    schema = f"t_{uuid.uuid4().hex[:12]}"
    with psycopg.connect(warehouse_db, autocommit=True) as conn:
        conn.execute(f"create schema {schema}")
        conn.execute(f"create table {schema}.wazuh_alerts (id text primary key, alert jsonb)")
    return Warehouse(warehouse_db, f"{schema}.wazuh_alerts")


@pytest.fixture
def other_job() -> Iterator[subprocess.Popen]:
    """A live process standing for another job (it runs until its stdin is closed)."""
    proc = subprocess.Popen(["cat"], stdin=subprocess.PIPE, stdout=subprocess.DEVNULL)
    yield proc
    end(proc)


def end(proc: subprocess.Popen) -> None:
    assert proc.stdin is not None
    proc.stdin.close()
    proc.wait()


def sources(root: Path) -> list[str]:
    return [str(root / "alerts.json"), str(root / "*/*/ossec-alerts-*.json*")]


def spooled_ids(state: SpoolDir) -> list[str]:
    """What tap-wazuh would read now."""
    files = sorted(state.spool.glob("*.json"))
    return [json.loads(line)["id"] for f in files for line in f.read_bytes().splitlines()]


def load(warehouse: Warehouse, state: SpoolDir, skip: int = 0) -> None:
    """What tap-wazuh + target-postgres do with the spool (less `skip` alerts, a lossy load)."""
    lines = [
        line for f in sorted(state.spool.glob("*.json")) for line in f.read_bytes().splitlines()
    ]
    with psycopg.connect(warehouse.conninfo) as conn:
        for line in lines[skip:]:
            conn.execute(
                f"insert into {warehouse.table} values (%s, %s) on conflict (id) do update "  # noqa: S608
                "set alert = excluded.alert",
                (json.loads(line)["id"], line.decode()),
            )


def run(state: SpoolDir, root: Path, warehouse: Warehouse) -> list[str]:
    """One successful job: prepare, the load (reading the spool), commit."""
    prepare(state, sources(root))
    ids = spooled_ids(state)
    load(warehouse, state)
    commit(state, warehouse)
    return ids


def test_first_run_spools_every_alert_oldest_file_first_then_nothing(
    wazuh: Path, state: SpoolDir, warehouse: Warehouse
) -> None:
    first = run(state, wazuh, warehouse)
    assert first == [f"1729.{n}" for n in range(5)] + [f"1730.{n}" for n in range(3)]
    assert list(state.spool.iterdir()) == [], "commit empties the spool"
    assert run(state, wazuh, warehouse) == []


def test_growing_live_file_spools_only_its_new_lines(
    wazuh: Path, state: SpoolDir, warehouse: Warehouse
) -> None:
    run(state, wazuh, warehouse)
    write(wazuh / "alerts.json", alert(3), alert(4), mode="ab")
    assert run(state, wazuh, warehouse) == ["1730.3", "1730.4"]


def test_unfinished_last_line_waits_until_it_ends(
    wazuh: Path, state: SpoolDir, warehouse: Warehouse, capsys: pytest.CaptureFixture[str]
) -> None:
    line = alert(3)
    write(wazuh / "alerts.json", line[:20], mode="ab")  # Wazuh is still writing line 4
    assert run(state, wazuh, warehouse)[-1] == "1730.2"
    assert f"{wazuh / 'alerts.json'}:4: last line has no end-of-line yet" in capsys.readouterr().err
    write(wazuh / "alerts.json", line[20:], mode="ab")
    assert run(state, wazuh, warehouse) == ["1730.3"]


def test_midnight_rotation_by_rename_reads_on_from_the_committed_line(
    wazuh: Path, state: SpoolDir, warehouse: Warehouse
) -> None:
    run(state, wazuh, warehouse)
    live = wazuh / "alerts.json"
    write(live, alert(3), alert(4), mode="ab")  # the rest of the 30th, written before midnight
    live.rename(wazuh / "2026" / "Oct" / "ossec-alerts-30.json")
    write(live, alert(0, 31))  # the new day's live file
    assert run(state, wazuh, warehouse) == ["1730.3", "1730.4", "1731.0"]


def test_rotation_into_a_gzipped_archive_reads_on_too(
    wazuh: Path, state: SpoolDir, warehouse: Warehouse
) -> None:
    run(state, wazuh, warehouse)
    live = wazuh / "alerts.json"
    rest = alert(3)
    with gzip.open(wazuh / "2026" / "Oct" / "ossec-alerts-30.json.gz", "wb") as archive:
        archive.write(live.read_bytes() + rest)
    write(live, alert(0, 31))
    assert run(state, wazuh, warehouse) == ["1730.3", "1731.0"]


def test_a_copied_folder_new_inodes_and_paths_reads_on_too(
    wazuh: Path, state: SpoolDir, warehouse: Warehouse, tmp_path: Path
) -> None:
    """rsync or a restore gives every file a new inode; files are known by content."""
    run(state, wazuh, warehouse)
    copy = tmp_path / "copy" / "alerts"
    shutil.copytree(wazuh, copy)
    write(copy / "alerts.json", alert(3), mode="ab")
    assert run(state, copy, warehouse) == ["1730.3"]


def test_rewritten_or_truncated_file_is_read_again_from_its_start(
    wazuh: Path, state: SpoolDir, warehouse: Warehouse
) -> None:
    run(state, wazuh, warehouse)
    write(wazuh / "alerts.json", alert(0), alert(7))  # same first line, changed after it
    assert run(state, wazuh, warehouse) == ["1730.0", "1730.7"]
    write(wazuh / "alerts.json", alert(0))  # shrank
    assert run(state, wazuh, warehouse) == ["1730.0"]


def test_bad_lines_are_named_by_file_and_line_never_shown_and_good_ones_all_spooled(
    wazuh: Path, state: SpoolDir, capsys: pytest.CaptureFixture[str]
) -> None:
    live = wazuh / "alerts.json"
    write(
        live,
        alert(3),
        f'{{"id": "x", "data": {{"srcuser": "{PERSONAL}"'.encode() + b"\n",  # cut short
        f'{{"data": {{"srcuser": "{PERSONAL}"}}}}'.encode() + b"\n",  # no id
        b"\n",
        alert(4),
        mode="ab",
    )
    summary = prepare(state, sources(wazuh))
    err = capsys.readouterr().err
    assert f"{live}:5: JSON cut short (the line ends inside the alert); line left out" in err
    assert f'{live}:6: no alert "id"; line left out' in err
    assert f"{live}:7: empty line; line left out" in err
    assert PERSONAL not in err
    assert spooled_ids(state)[-5:] == ["1730.0", "1730.1", "1730.2", "1730.3", "1730.4"]
    assert summary["left_out_lines"] == [
        {"file": str(live), "line": 5, "reason": "truncated"},
        {"file": str(live), "line": 6, "reason": "id_missing"},
        {"file": str(live), "line": 7, "reason": "empty"},
    ]
    assert summary["left_out"] == {"empty": 1, "id_missing": 1, "truncated": 1}
    assert (summary["offered"], summary["alerts"]) == (5 + 3 + 5, 5 + 5)
    assert PERSONAL not in state.pending.read_text()


def test_a_load_that_never_committed_is_spooled_again_with_what_came_since(
    wazuh: Path, state: SpoolDir, warehouse: Warehouse, capsys: pytest.CaptureFixture[str]
) -> None:
    run(state, wazuh, warehouse)
    write(wazuh / "alerts.json", alert(3), mode="ab")
    prepare(state, sources(wazuh))  # the load then fails or is killed: no commit
    write(wazuh / "alerts.json", alert(4), mode="ab")
    assert run(state, wazuh, warehouse) == ["1730.3", "1730.4"]
    assert "never committed" in capsys.readouterr().err


def test_a_crash_inside_commit_after_the_rename_loses_and_repeats_nothing(
    wazuh: Path, state: SpoolDir, warehouse: Warehouse, monkeypatch: pytest.MonkeyPatch
) -> None:
    prepare(state, sources(wazuh))
    load(warehouse, state)

    def power_cut(self: SpoolDir) -> None:
        raise KeyboardInterrupt

    with monkeypatch.context() as patched:
        patched.setattr(SpoolDir, "clear_spool", power_cut)
        with pytest.raises(KeyboardInterrupt):
            commit(state, warehouse)  # manifest committed, spool not emptied
    assert not state.pending.exists()
    write(wazuh / "alerts.json", alert(3), mode="ab")
    assert run(state, wazuh, warehouse) == ["1730.3"], (
        "the stale spool is gone, only new lines come"
    )


def test_a_crash_before_the_rename_respools_the_batch(
    wazuh: Path, state: SpoolDir, warehouse: Warehouse, monkeypatch: pytest.MonkeyPatch
) -> None:
    prepare(state, sources(wazuh))
    batch = spooled_ids(state)
    load(warehouse, state)

    def power_cut(self: Path, target: Path) -> Path:
        raise KeyboardInterrupt

    with monkeypatch.context() as patched:
        patched.setattr(Path, "replace", power_cut)
        with pytest.raises(KeyboardInterrupt):
            commit(state, warehouse)
    assert run(state, wazuh, warehouse) == batch


def test_cli_names_the_setting_when_no_file_matches(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv(wazuh_spool.SOURCES_ENV, json.dumps([str(tmp_path / "none" / "*.json")]))
    code = wazuh_spool.main(["--state-dir", str(tmp_path / "state"), "prepare"])
    assert code == 2
    assert "sources` setting" in capsys.readouterr().err


def test_cli_runs_prepare_and_commit_with_globs_and_warehouse_from_the_environment(
    wazuh: Path, tmp_path: Path, warehouse: Warehouse, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv(wazuh_spool.SOURCES_ENV, json.dumps(sources(wazuh)))
    dsn = psycopg.conninfo.conninfo_to_dict(warehouse.conninfo)
    url = f"postgresql+psycopg://{dsn['user']}@{dsn['host']}:{dsn['port']}/{dsn['dbname']}"
    monkeypatch.setenv("TARGET_POSTGRES_SQLALCHEMY_URL", url)  # as the demo sets it
    monkeypatch.setenv(wazuh_spool.TABLE_ENV, warehouse.table)
    state_dir = tmp_path / "cli-state"
    assert wazuh_spool.main(["--state-dir", str(state_dir), "prepare"]) == 0
    assert len(spooled_ids(SpoolDir(state_dir))) == 8
    load(warehouse, SpoolDir(state_dir))
    assert wazuh_spool.main(["--state-dir", str(state_dir), "commit"]) == 0
    committed = json.loads((state_dir / "manifest.json").read_text())
    assert sum(entry["lines"] for entry in committed["files"].values()) == 8
    assert os.listdir(state_dir / "spool") == []


def test_an_unreadable_archive_is_named_and_retried_while_the_rest_loads(
    wazuh: Path, state: SpoolDir, warehouse: Warehouse, capsys: pytest.CaptureFixture[str]
) -> None:
    broken = write(wazuh / "2026" / "Oct" / "ossec-alerts-28.json.gz", b"not gzip at all\n")
    assert len(run(state, wazuh, warehouse)) == 8, "every readable alert still loads"
    assert f"ERROR cannot read Wazuh alert file {broken}" in capsys.readouterr().err
    with gzip.open(broken, "wb") as archive:  # repaired (here: re-compressed) later
        archive.write(alert(0, 28))
    assert run(state, wazuh, warehouse) == ["1728.0"]


def test_a_file_renamed_between_the_glob_and_its_read_is_named_and_the_rest_loads(
    wazuh: Path,
    state: SpoolDir,
    warehouse: Warehouse,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    listed = wazuh_spool.source_files(sources(wazuh))
    gone = wazuh / "alerts.json.rotating"  # listed by the glob, renamed before it was opened
    monkeypatch.setattr(wazuh_spool, "source_files", lambda patterns: [gone, *listed])
    assert len(run(state, wazuh, warehouse)) == 8, "every file still there loads"
    assert f"ERROR cannot read Wazuh alert file {gone}" in capsys.readouterr().err


def test_commit_refuses_a_batch_tap_wazuh_never_loaded_and_marks_nothing_loaded(
    wazuh: Path, state: SpoolDir, warehouse: Warehouse, capsys: pytest.CaptureFixture[str]
) -> None:
    """state_dir moved without tap-wazuh's path: the tap reads nothing, the load "succeeds"."""
    write(
        wazuh / "alerts.json", alert(3, 30)[:-2] + f', "user": "{PERSONAL}"}}\n'.encode(), mode="ab"
    )
    prepare(state, sources(wazuh))
    batch = spooled_ids(state)
    with pytest.raises(SpoolError) as refused:
        commit(state, warehouse)
    message = str(refused.value)
    assert "9 of 9 alerts" in message
    assert "WAZUH_SPOOL_STATE_DIR" in message
    assert "TAP_WAZUH_PATH" in message
    assert PERSONAL not in message
    assert not [i for i in batch if i in message], "ids are counted, never shown"
    assert not state.committed.exists()
    assert state.pending.exists()
    assert spooled_ids(state) == batch, "the batch waits, whole, for a load that reads it"
    assert run(state, wazuh, warehouse) == batch, "the next (right) run loads it all"


def test_commit_refuses_a_load_that_dropped_rows_or_never_created_the_table(
    wazuh: Path, state: SpoolDir, warehouse: Warehouse
) -> None:
    prepare(state, sources(wazuh))
    load(warehouse, state, skip=1)
    with pytest.raises(SpoolError, match="1 of 8 alerts"):
        commit(state, warehouse)
    nowhere = replace(warehouse, table="tap_nowhere.wazuh_alerts")
    with pytest.raises(SpoolError, match=r"8 of 8 alerts .* not in tap_nowhere\.wazuh_alerts"):
        commit(state, nowhere)
    assert not state.committed.exists()


def test_an_unreachable_warehouse_is_named_without_its_password_and_nothing_committed(
    wazuh: Path, state: SpoolDir, monkeypatch: pytest.MonkeyPatch
) -> None:
    url = "postgresql+psycopg://loader:s3cr%40t@127.0.0.1:1/wh"
    monkeypatch.setenv("TARGET_POSTGRES_SQLALCHEMY_URL", url)
    prepare(state, sources(wazuh))
    with pytest.raises(SpoolError) as refused:
        commit(state, Warehouse.from_env())
    message = str(refused.value)
    assert "loader@127.0.0.1:1/wh (from TARGET_POSTGRES_SQLALCHEMY_URL)" in message
    assert "s3cr" not in message
    assert not state.committed.exists()
    assert state.pending.exists()


def test_the_warehouse_is_target_postgres_s_when_set_else_the_pipeline_s(
    warehouse: Warehouse, monkeypatch: pytest.MonkeyPatch
) -> None:
    dsn = psycopg.conninfo.conninfo_to_dict(warehouse.conninfo)
    for name in ("SQLALCHEMY_URL", "HOST", "PORT", "USER", "PASSWORD", "DATABASE"):
        monkeypatch.delenv(f"TARGET_POSTGRES_{name}", raising=False)
    monkeypatch.setenv("NIS2_PG_PORT", dsn["port"])
    monkeypatch.setenv("NIS2_PG_DATABASE", dsn["dbname"])
    monkeypatch.delenv(wazuh_spool.TABLE_ENV, raising=False)
    pipeline = Warehouse.from_env()
    assert pipeline.table == "tap_wazuh.wazuh_alerts"
    assert pipeline.missing(["not-loaded"]) == 1, "no such table there: nothing is loaded"
    monkeypatch.setenv("NIS2_PG_PORT", "1")  # target-postgres's settings come first
    monkeypatch.setenv("TARGET_POSTGRES_HOST", dsn["host"])
    monkeypatch.setenv("TARGET_POSTGRES_PORT", dsn["port"])
    monkeypatch.setenv("TARGET_POSTGRES_USER", dsn["user"])
    monkeypatch.setenv("TARGET_POSTGRES_DATABASE", dsn["dbname"])
    monkeypatch.setenv(wazuh_spool.TABLE_ENV, warehouse.table)
    with psycopg.connect(warehouse.conninfo, autocommit=True) as conn:
        conn.execute(f"insert into {warehouse.table} (id) values ('loaded')")  # noqa: S608
    assert Warehouse.from_env().missing(["loaded", "not-loaded"]) == 1


def test_a_second_job_can_neither_prepare_nor_commit_while_the_first_holds_its_batch(
    wazuh: Path, state: SpoolDir, warehouse: Warehouse, other_job: subprocess.Popen
) -> None:
    """A manual nis2-load during nis2-daily: refused, naming the state_dir and the batch."""
    first = Job.of(other_job.pid)
    batch = prepare(state, sources(wazuh), job=first)
    spool = {f.name: f.read_bytes() for f in state.spool.iterdir()}
    write(wazuh / "alerts.json", alert(3), mode="ab")
    for step in (lambda: prepare(state, sources(wazuh)), lambda: commit(state, warehouse)):
        with pytest.raises(SpoolError) as refused:
            step()
        assert str(state.root) in str(refused.value)
        assert f"batch {batch['id']} of another job (process {other_job.pid}" in str(refused.value)
    assert {f.name: f.read_bytes() for f in state.spool.iterdir()} == spool, "untouched"
    assert list(spool) == [f"alerts-{batch['id']}.json"]
    load(warehouse, state)
    assert commit(state, warehouse, job=first)["id"] == batch["id"]
    assert run(state, wazuh, warehouse) == ["1730.3"], "then the second job reads on"


def test_the_batch_of_a_job_that_died_is_spooled_again_by_the_next(
    wazuh: Path,
    state: SpoolDir,
    warehouse: Warehouse,
    other_job: subprocess.Popen,
    capsys: pytest.CaptureFixture[str],
) -> None:
    dead = Job.of(other_job.pid)
    prepare(state, sources(wazuh), job=dead)
    batch = spooled_ids(state)
    end(other_job)  # killed mid-load: its batch is never committed
    assert run(state, wazuh, warehouse) == batch
    assert "never committed" in capsys.readouterr().err
    assert not dead.is_running()


def test_a_pid_reused_by_another_process_is_not_the_job() -> None:
    """Only pid and start time together name a job: a reused pid is a dead job's."""
    me = Job.current()
    assert me.is_running()
    assert me.started is not None
    assert not replace(me, started=me.started - 1).is_running()
    assert replace(me, host="elsewhere.example").is_running() is None


def test_cli_refuses_a_second_job_until_the_first_ends_then_respools_its_batch(
    wazuh: Path,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Real processes: the job is the spool's parent (under Meltano: `meltano run`)."""
    state_dir = tmp_path / "state"
    env = {**os.environ, wazuh_spool.SOURCES_ENV: json.dumps(sources(wazuh))}
    spool_cli = f"{sys.executable} -m pipeline.wazuh_spool --state-dir {state_dir}"
    first = subprocess.Popen(  # prepares, then stays "loading" until its stdin closes
        ["sh", "-c", f"{spool_cli} prepare 2>/dev/null && echo prepared && cat"],
        cwd=ROOT,
        env=env,
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
    )
    assert first.stdout is not None
    assert first.stdout.readline() == "prepared\n"
    batch = spooled_ids(SpoolDir(state_dir))
    monkeypatch.setenv(wazuh_spool.SOURCES_ENV, env[wazuh_spool.SOURCES_ENV])
    assert wazuh_spool.main(["--state-dir", str(state_dir), "prepare"]) == 2
    assert f"cannot prepare: {state_dir}" in capsys.readouterr().err
    end(first)
    assert wazuh_spool.main(["--state-dir", str(state_dir), "prepare"]) == 0
    assert "never committed" in capsys.readouterr().err
    assert spooled_ids(SpoolDir(state_dir)) == batch


def test_a_step_run_through_a_wrapper_of_the_job_still_belongs_to_it(
    wazuh: Path, tmp_path: Path, warehouse: Warehouse
) -> None:
    """prepare by the job's shell, commit by a child shell of it (`sh -c`, `time`, `nice`)."""
    state_dir = tmp_path / "state"
    dsn = psycopg.conninfo.conninfo_to_dict(warehouse.conninfo)
    env = {
        **os.environ,
        wazuh_spool.SOURCES_ENV: json.dumps(sources(wazuh)),
        "TARGET_POSTGRES_SQLALCHEMY_URL": (
            f"postgresql+psycopg://{dsn['user']}@{dsn['host']}:{dsn['port']}/{dsn['dbname']}"
        ),
        wazuh_spool.TABLE_ENV: warehouse.table,
    }
    spool_cli = f"{sys.executable} -m pipeline.wazuh_spool --state-dir {state_dir}"
    job = subprocess.Popen(  # prepare; wait for the load; commit from a child shell
        [
            "sh",
            "-c",
            f"{spool_cli} prepare && echo prepared && read go && sh -c '{spool_cli} "
            "commit; echo $?'",
        ],
        cwd=ROOT,
        env=env,
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    assert job.stdout is not None
    assert job.stdout.readline() == "prepared\n"
    load(warehouse, SpoolDir(state_dir))
    out, err = job.communicate("go\n")
    assert out == "0\n", err[-2000:]
    assert "committed batch" in err
    assert (state_dir / "manifest.json").exists()


@pytest.mark.integration
def test_meltano_job_with_only_the_state_dir_moved_fails_at_commit_and_loses_nothing(
    wazuh: Path, tmp_path: Path, test_postgres: EmbeddedPostgres, admin_conninfo: str
) -> None:
    """Real Meltano, tap-wazuh and target-postgres: the tap reads an empty folder, the load
    "succeeds", and commit must refuse; pointing the tap at the moved spool then loads all."""
    with psycopg.connect(admin_conninfo, autocommit=True) as conn:
        conn.execute('drop database if exists "wazuh_spool_job" with (force)')
    ensure_database(admin_conninfo, "wazuh_spool_job")
    var = tmp_path / "var"
    shutil.copytree(wazuh, var / "org" / "wazuh" / "alerts")  # where the demo looks
    moved = tmp_path / "moved-state"
    pg = PgSettings("127.0.0.1", test_postgres.port, "postgres", "", "wazuh_spool_job", "kc", True)
    env = pipeline_env(
        pg,
        var,
        extra={
            "MELTANO_DATABASE_URI": f"sqlite:///{tmp_path / 'meltano.db'}",
            "WAZUH_SPOOL_STATE_DIR": str(moved),
        },
    )
    job = [str(meltano_bin()), "run", "wazuh-spool:prepare", "tap-wazuh", "target-postgres"]
    job.append("wazuh-spool:commit")
    mis_pointed = subprocess.run(job, cwd=ROOT, env=env, capture_output=True, text=True)
    output = mis_pointed.stdout + mis_pointed.stderr
    assert mis_pointed.returncode != 0
    assert "8 of 8 alerts" in output
    assert "TAP_WAZUH_PATH" in output
    assert not (moved / "manifest.json").exists()
    env["TAP_WAZUH_PATH"] = f"{moved}/spool/*.json"
    fixed = subprocess.run(job, cwd=ROOT, env=env, capture_output=True, text=True)
    assert fixed.returncode == 0, (fixed.stdout + fixed.stderr)[-3000:]
    conninfo = admin_conninfo.replace("dbname=postgres", "dbname=wazuh_spool_job")
    with psycopg.connect(conninfo) as conn:
        count = conn.execute("select count(distinct id) from tap_wazuh.wazuh_alerts").fetchone()
    assert count[0] == 8
    committed = json.loads((moved / "manifest.json").read_text())
    assert sum(entry["lines"] for entry in committed["files"].values()) == 8
