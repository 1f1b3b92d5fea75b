"""The embedded PostgreSQL server the project starts for the demo and the tests."""

from __future__ import annotations

import shutil
import socket
from pathlib import Path

import psycopg
import pytest
from psycopg.conninfo import conninfo_to_dict
from sqlalchemy.engine import make_url

from nis2_settings import PgSettings, SettingsError
from pipeline.postgres import EmbeddedPostgres, PostgresError, ensure_database, port_in_use


def test_server_accepts_tcp_connections(
    test_postgres: EmbeddedPostgres, admin_conninfo: str
) -> None:
    with psycopg.connect(admin_conninfo) as conn:
        version = conn.execute("show server_version").fetchone()[0]
        timezone = conn.execute("show timezone").fetchone()[0]
    assert version.split(".")[0].isdigit()
    assert timezone == "UTC"


def test_start_is_idempotent(test_postgres: EmbeddedPostgres) -> None:
    test_postgres.start()
    assert test_postgres.is_running()
    assert test_postgres.running_port() == test_postgres.port


def test_running_folder_with_another_port_is_refused(test_postgres: EmbeddedPostgres) -> None:
    other = EmbeddedPostgres(test_postgres.base_dir, test_postgres.port + 1)
    with pytest.raises(PostgresError, match=f"NIS2_PG_PORT={test_postgres.port}"):
        other.start()


def test_port_taken_by_another_server_is_refused(
    test_postgres: EmbeddedPostgres, tmp_path: Path
) -> None:
    stranger = EmbeddedPostgres(tmp_path / "pg", test_postgres.port)
    try:
        with pytest.raises(PostgresError, match="taken by another program"):
            stranger.start()
        assert not stranger.is_initialised()
    finally:
        stranger.stop()  # never leave a second server behind if the check ever fails


def test_new_cluster_has_no_page_checksums(test_postgres: EmbeddedPostgres) -> None:
    """With page checksums every first read of freshly written rows wrote each page again into
    the WAL (INITDB_OPTIONS says why they are off)."""
    fresh = EmbeddedPostgres(
        test_postgres.base_dir.parent / "pg-fresh-cluster", test_postgres.port + 9
    )
    shutil.rmtree(fresh.base_dir, ignore_errors=True)
    try:
        fresh.start()
        conninfo = f"host=127.0.0.1 port={fresh.port} user=postgres dbname=postgres"
        with psycopg.connect(conninfo) as conn:
            checksums = conn.execute("show data_checksums").fetchone()[0]
            collation = conn.execute(
                "select datcollate from pg_database where datname = 'postgres'"
            ).fetchone()[0]
    finally:
        fresh.stop()
        shutil.rmtree(fresh.base_dir, ignore_errors=True)
    assert checksums == "off"
    assert collation == "C"


def test_a_port_held_by_a_client_connection_counts_as_taken() -> None:
    """A local client connection can hold a port of the ephemeral range as its own end (a user
    may choose one); PostgreSQL then cannot bind it, though nothing listens there."""
    with socket.socket() as listener:
        listener.bind(("127.0.0.1", 0))
        listener.listen()
        with socket.create_connection(listener.getsockname()) as client:
            accepted, _ = listener.accept()
            with accepted:
                client_port = client.getsockname()[1]
                assert port_in_use("127.0.0.1", client_port)
                assert port_in_use("127.0.0.1", listener.getsockname()[1])
    with socket.socket() as probe:  # a port nobody holds
        probe.bind(("127.0.0.1", 0))
        free_port = probe.getsockname()[1]
    assert not port_in_use("127.0.0.1", free_port)


def test_stop_when_stopped_is_harmless(tmp_path: Path) -> None:
    assert EmbeddedPostgres(tmp_path / "never-started", 1).stop() is False


def test_ensure_database_creates_once(admin_conninfo: str) -> None:
    with psycopg.connect(admin_conninfo, autocommit=True) as conn:
        conn.execute('drop database if exists "nis2_scratch"')
    assert ensure_database(admin_conninfo, "nis2_scratch") is True
    assert ensure_database(admin_conninfo, "nis2_scratch") is False


def test_display_masks_the_password(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("NIS2_PG_PASSWORD", "hunter2-secret")
    settings = PgSettings.from_env()
    assert "hunter2-secret" not in settings.display()
    assert "hunter2-secret" in settings.conninfo()


def test_awkward_passwords_survive_conninfo_and_url(monkeypatch: pytest.MonkeyPatch) -> None:
    awkward = "p w'd\\x@y/z:%"
    monkeypatch.setenv("NIS2_PG_PASSWORD", awkward)
    settings = PgSettings.from_env()
    assert conninfo_to_dict(settings.conninfo())["password"] == awkward
    url = make_url(settings.sqlalchemy_url())
    assert url.password == awkward
    assert (url.host, url.port, url.database) == ("127.0.0.1", settings.port, "warehouse")


def test_bad_port_setting_names_the_variable(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("NIS2_PG_PORT", "fivefivefour")
    with pytest.raises(SettingsError, match="NIS2_PG_PORT"):
        PgSettings.from_env()


def _module_constant(path: Path, name: str) -> int:
    """An integer constant of a script, read without running it (no import side effects)."""
    import ast

    for node in ast.parse(path.read_text()).body:
        if isinstance(node, ast.Assign) and any(
            isinstance(t, ast.Name) and t.id == name for t in node.targets
        ):
            return ast.literal_eval(node.value)
    raise AssertionError(f"{path.name} defines no {name}")


def _ephemeral_range() -> tuple[int, int]:
    """Linux's range of local ports for client connections (the kernel's own setting)."""
    low, high = Path("/proc/sys/net/ipv4/ip_local_port_range").read_text().split()
    return int(low), int(high)


def test_default_ports_lie_outside_the_ephemeral_range(monkeypatch: pytest.MonkeyPatch) -> None:
    """A client connection can hold any port of the ephemeral range; the defaults (demo server,
    test server, Keycloak test servers, benchmark, simulator) must never be one of them."""
    from nis2_settings import ROOT, simulator_port
    from tests.conftest import DEFAULT_TEST_PG_PORT, DEFAULT_TEST_SIM_PORT

    for name in ("NIS2_PG_PORT", "DIDIT_SIM_PORT"):
        monkeypatch.delenv(name, raising=False)
    low, high = _ephemeral_range()
    defaults = {
        "demo Postgres": PgSettings.from_env().port,
        "simulator": simulator_port(),
        "benchmark Postgres": _module_constant(
            ROOT / "benchmarks" / "dbt_benchmark.py", "DEFAULT_PORT"
        ),
        "Keycloak test servers": _module_constant(
            ROOT / "tests" / "simulator" / "test_keycloak_db.py", "DEFAULT_FIRST_PORT"
        ),
        "test Postgres": DEFAULT_TEST_PG_PORT,
        "test simulator": DEFAULT_TEST_SIM_PORT,
    }
    inside = {name: port for name, port in defaults.items() if low <= port <= high}
    assert not inside, f"default ports inside the ephemeral range {low}-{high}: {inside}"
