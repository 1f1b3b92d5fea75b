"""tap-didit is target-agnostic: the same tap, unchanged, into JSON-lines and CSV targets.

Both targets are real Meltano plugins from meltano.yml (target-jsonl, MeltanoLabs target-csv);
the record counts they write must equal what the simulator holds.
"""

from __future__ import annotations

import csv
import json
from collections.abc import Iterator
from pathlib import Path

import pytest

from pipeline.postgres import EmbeddedPostgres
from tests.conftest import meltano_run, running_simulator, simulator_ids, tap_run_env

pytestmark = pytest.mark.integration

STREAMS = ("audit_logs", "sessions", "session_reviews")


@pytest.fixture(scope="module")
def simulator_url(didit_world: Path) -> Iterator[str]:
    with running_simulator(didit_world) as url:
        yield url


def _expected(world: Path) -> dict[str, int]:
    return {
        "audit_logs": len(simulator_ids(world, "select uuid from audit_log")),
        "sessions": len(simulator_ids(world, "select session_id from sessions where deleted = 0")),
        "session_reviews": len(simulator_ids(world, "select uuid from reviews")),
    }


@pytest.mark.parametrize("target", ["target-jsonl", "target-csv"])
def test_tap_runs_unchanged_into_file_targets(
    target: str,
    test_postgres: EmbeddedPostgres,
    admin_conninfo: str,
    didit_world: Path,
    simulator_url: str,
    tmp_path: Path,
) -> None:
    env = tap_run_env(test_postgres, admin_conninfo, didit_world, simulator_url, None, tmp_path)
    env["TAP_DIDIT__SELECT"] = json.dumps([f"{s}.*" for s in STREAMS])
    out = tmp_path / "out"
    env["TARGET_JSONL_DESTINATION_PATH"] = str(out)
    env["TARGET_CSV_OUTPUT_PATH"] = str(out)
    meltano_run(env, "tap-didit", target)

    written: dict[str, int] = {}
    for stream in STREAMS:
        files = sorted(out.glob(f"{stream}*"))
        assert files, f"{target} wrote nothing for {stream}"
        if target == "target-jsonl":
            rows = [json.loads(line) for f in files for line in f.read_text().splitlines()]
        else:
            rows = [row for f in files for row in csv.DictReader(f.open(newline=""))]
        written[stream] = len(rows)
        keys = {"audit_logs": "uuid", "sessions": "session_id", "session_reviews": "uuid"}
        assert len({row[keys[stream]] for row in rows}) == len(rows), f"duplicates in {stream}"
    assert written == _expected(didit_world)
