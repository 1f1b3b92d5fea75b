"""The project's `unique` and `primary_key` generic tests (transform/tests/generic/, macro
duplicate_key_rows in macros/key_tests.sql) skip counting duplicates when a valid, unique,
non-partial index on exactly the column exists (macro unique_index_exists). These tests run
them with dbt on small tables, in a database of their own on the session's server, and check
that a duplicate still fails them wherever no such index refuses it: no index, an index left
invalid by a failed CREATE UNIQUE INDEX CONCURRENTLY, a partial or a two-column unique index;
and that clean data passes with and without a valid index.

The dbt project is a minimal one written into a temporary folder with copies of the real
macros and generic tests, so dbt compiles and runs exactly the project's test SQL.
"""

from __future__ import annotations

import json
import re
import shutil
import subprocess
from pathlib import Path

import psycopg
import pytest
from psycopg import sql

from tests.transform.conftest import TRANSFORM, dbt_env, dbt_executable

DATABASE = "nis2_unique_test"
SCHEMA = "keys"

# table -> its ids (column n numbers the rows) and the index made after the rows go in
TABLES: dict[str, dict] = {
    "no_index_dup": {"rows": [1, 2, 2]},
    "no_index_clean": {"rows": [1, 2, 3]},
    "valid_index_clean": {"rows": [1, 2, 3], "index": "create unique index on {t} (id)"},
    # A duplicate makes CREATE UNIQUE INDEX CONCURRENTLY fail; the index stays, invalid.
    "invalid_index_dup": {"rows": [1, 2, 2], "failed_index": True},
    "partial_index_dup": {
        "rows": [1, 1, 200],
        "index": "create unique index on {t} (id) where id > 100",
    },
    "two_column_index_dup": {"rows": [1, 1, 2], "index": "create unique index on {t} (id, n)"},
    # A unique index allows nulls: the primary_key test still counts them.
    "valid_index_null": {"rows": [1, 2, None], "index": "create unique index on {t} (id)"},
}

# (test, table) -> the status dbt must report
EXPECTED = {
    ("unique", "no_index_dup"): "fail",
    ("primary_key", "no_index_dup"): "fail",
    ("unique", "no_index_clean"): "pass",
    ("primary_key", "no_index_clean"): "pass",
    ("unique", "valid_index_clean"): "pass",
    ("primary_key", "valid_index_clean"): "pass",
    ("unique", "invalid_index_dup"): "fail",
    ("primary_key", "invalid_index_dup"): "fail",
    ("unique", "partial_index_dup"): "fail",
    ("primary_key", "partial_index_dup"): "fail",
    ("unique", "two_column_index_dup"): "fail",
    ("primary_key", "two_column_index_dup"): "fail",
    ("unique", "valid_index_null"): "pass",
    ("primary_key", "valid_index_null"): "fail",
}


def _build_tables(conninfo: str) -> None:
    with psycopg.connect(conninfo, autocommit=True) as conn:
        conn.execute(sql.SQL("create schema {}").format(sql.Identifier(SCHEMA)))
        for name, spec in TABLES.items():
            table = sql.Identifier(SCHEMA, name)
            conn.execute(
                sql.SQL("create table {} (id int, n int generated always as identity)").format(
                    table
                )
            )
            with conn.cursor() as cur:
                cur.executemany(
                    sql.SQL("insert into {} (id) values (%s)").format(table),
                    [(r,) for r in spec["rows"]],
                )
            if "index" in spec:
                conn.execute(sql.SQL(spec["index"]).format(t=table))
            if spec.get("failed_index"):
                with pytest.raises(psycopg.errors.UniqueViolation):
                    conn.execute(
                        sql.SQL("create unique index concurrently {} on {} (id)").format(
                            sql.Identifier(name + "_id"), table
                        )
                    )


def _index_states(conninfo: str) -> dict[str, list[tuple[bool, bool, bool]]]:
    """Per table: (unique, valid, partial) of each of its indexes, as the catalogue has them."""
    with psycopg.connect(conninfo) as conn:
        rows = conn.execute(
            "select c.relname, i.indisunique, i.indisvalid, i.indpred is not null"
            " from pg_index as i join pg_class as c on c.oid = i.indrelid"
            " join pg_namespace as n on n.oid = c.relnamespace where n.nspname = %s",
            (SCHEMA,),
        ).fetchall()
    states: dict[str, list[tuple[bool, bool, bool]]] = {}
    for table, *state in rows:
        states.setdefault(table, []).append(tuple(state))
    return states


def _write_project(project: Path) -> None:
    """A dbt project with the real macros and generic tests and one source per table."""
    shutil.copytree(TRANSFORM / "macros", project / "macros")
    shutil.copytree(TRANSFORM / "tests" / "generic", project / "tests" / "generic")
    (project / "dbt_project.yml").write_text(
        "name: nis2_key_tests\nversion: '1.0.0'\nconfig-version: 2\nprofile: nis2\n"
        "macro-paths: ['macros']\ntest-paths: ['tests']\nmodel-paths: ['models']\n"
    )
    tables = "".join(
        f"      - name: {name}\n        columns:\n          - name: id\n"
        "            data_tests: [unique, primary_key]\n"
        for name in TABLES
    )
    (project / "models").mkdir()
    (project / "models" / "sources.yml").write_text(
        f"version: 2\nsources:\n  - name: {SCHEMA}\n    schema: {SCHEMA}\n    tables:\n{tables}"
    )


@pytest.fixture(scope="module")
def key_test_results(admin_conninfo: str, tmp_path_factory) -> tuple[dict, dict]:
    """Build the tables, run `dbt test` once; (test, table) -> status, and the index states."""
    with psycopg.connect(admin_conninfo, autocommit=True) as conn:
        conn.execute(f'drop database if exists "{DATABASE}" with (force)')
        conn.execute(f'create database "{DATABASE}"')
    conninfo = admin_conninfo.replace("dbname=postgres", f"dbname={DATABASE}")
    try:
        _build_tables(conninfo)
        states = _index_states(conninfo)
        work = tmp_path_factory.mktemp("dbt-key-tests")
        project = work / "project"
        _write_project(project)
        result = subprocess.run(
            [str(dbt_executable()), "test", "--project-dir", str(project)],
            cwd=project,
            env=dbt_env(conninfo, work, "", dbname=DATABASE),
            capture_output=True,
            text=True,
            check=False,
            timeout=600,
        )
        run_results = work / "target" / "run_results.json"
        assert run_results.exists(), result.stdout[-3000:] + result.stderr[-3000:]
        statuses = {}
        for node in json.loads(run_results.read_text())["results"]:
            # test.nis2_key_tests.source_<test>_keys_<table>_id
            name = re.fullmatch(
                rf"source_(unique|primary_key)_{SCHEMA}_(\w+)_id", node["unique_id"].split(".")[2]
            )
            assert name, node["unique_id"]
            statuses[name.groups()] = node["status"]
        return statuses, states
    finally:
        with psycopg.connect(admin_conninfo, autocommit=True) as conn:
            conn.execute(f'drop database if exists "{DATABASE}" with (force)')


def test_the_cases_have_the_indexes_they_claim(key_test_results):
    _, states = key_test_results
    assert "no_index_dup" not in states
    assert "no_index_clean" not in states
    assert states["valid_index_clean"] == [(True, True, False)]
    assert states["valid_index_null"] == [(True, True, False)]
    # the failed CREATE UNIQUE INDEX CONCURRENTLY left a unique index marked invalid
    assert states["invalid_index_dup"] == [(True, False, False)]
    assert states["partial_index_dup"] == [(True, True, True)]
    assert states["two_column_index_dup"] == [(True, True, False)]


def test_dbt_ran_every_key_test(key_test_results):
    statuses, _ = key_test_results
    assert set(statuses) == set(EXPECTED)


@pytest.mark.parametrize(("test", "table"), sorted(EXPECTED))
def test_key_test_outcome(key_test_results, test, table):
    statuses, _ = key_test_results
    assert statuses[(test, table)] == EXPECTED[(test, table)]
