"""The Wazuh spool hands tap-wazuh each alert line once: new lines only, across rotation,
failed loads and crashes, with bad lines named (file and line) and never shown."""

from __future__ import annotations

import gzip
import json
import os
import shutil
from pathlib import Path

import pytest

from pipeline import wazuh_spool
from pipeline.wazuh_spool import SpoolDir, commit, prepare

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


def sources(root: Path) -> list[str]:
    return [str(root / "alerts.json"), str(root / "*/*/ossec-alerts-*.json*")]


def spooled_ids(state: SpoolDir) -> list[str]:
    """What tap-wazuh would read now."""
    files = sorted(state.spool.glob("*.json"))
    return [json.loads(line)["id"] for f in files for line in f.read_bytes().splitlines()]


def run(state: SpoolDir, root: Path) -> list[str]:
    """One successful job: prepare, the load (reading the spool), commit."""
    prepare(state, sources(root))
    ids = spooled_ids(state)
    commit(state)
    return ids


def test_first_run_spools_every_alert_oldest_file_first_then_nothing(
    wazuh: Path, state: SpoolDir
) -> None:
    first = run(state, wazuh)
    assert first == [f"1729.{n}" for n in range(5)] + [f"1730.{n}" for n in range(3)]
    assert list(state.spool.iterdir()) == [], "commit empties the spool"
    assert run(state, wazuh) == []


def test_growing_live_file_spools_only_its_new_lines(wazuh: Path, state: SpoolDir) -> None:
    run(state, wazuh)
    write(wazuh / "alerts.json", alert(3), alert(4), mode="ab")
    assert run(state, wazuh) == ["1730.3", "1730.4"]


def test_unfinished_last_line_waits_until_it_ends(
    wazuh: Path, state: SpoolDir, capsys: pytest.CaptureFixture[str]
) -> None:
    line = alert(3)
    write(wazuh / "alerts.json", line[:20], mode="ab")  # Wazuh is still writing line 4
    assert run(state, wazuh)[-1] == "1730.2"
    assert f"{wazuh / 'alerts.json'}:4: last line has no end-of-line yet" in capsys.readouterr().err
    write(wazuh / "alerts.json", line[20:], mode="ab")
    assert run(state, wazuh) == ["1730.3"]


def test_midnight_rotation_by_rename_reads_on_from_the_committed_line(
    wazuh: Path, state: SpoolDir
) -> None:
    run(state, wazuh)
    live = wazuh / "alerts.json"
    write(live, alert(3), alert(4), mode="ab")  # the rest of the 30th, written before midnight
    live.rename(wazuh / "2026" / "Oct" / "ossec-alerts-30.json")
    write(live, alert(0, 31))  # the new day's live file
    assert run(state, wazuh) == ["1730.3", "1730.4", "1731.0"]


def test_rotation_into_a_gzipped_archive_reads_on_too(wazuh: Path, state: SpoolDir) -> None:
    run(state, wazuh)
    live = wazuh / "alerts.json"
    rest = alert(3)
    with gzip.open(wazuh / "2026" / "Oct" / "ossec-alerts-30.json.gz", "wb") as archive:
        archive.write(live.read_bytes() + rest)
    write(live, alert(0, 31))
    assert run(state, wazuh) == ["1730.3", "1731.0"]


def test_a_copied_folder_new_inodes_and_paths_reads_on_too(
    wazuh: Path, state: SpoolDir, tmp_path: Path
) -> None:
    """rsync or a restore gives every file a new inode; files are known by content."""
    run(state, wazuh)
    copy = tmp_path / "copy" / "alerts"
    shutil.copytree(wazuh, copy)
    write(copy / "alerts.json", alert(3), mode="ab")
    assert run(state, copy) == ["1730.3"]


def test_rewritten_or_truncated_file_is_read_again_from_its_start(
    wazuh: Path, state: SpoolDir
) -> None:
    run(state, wazuh)
    write(wazuh / "alerts.json", alert(0), alert(7))  # same first line, changed after it
    assert run(state, wazuh) == ["1730.0", "1730.7"]
    write(wazuh / "alerts.json", alert(0))  # shrank
    assert run(state, wazuh) == ["1730.0"]


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
    assert f"{live}:5: not valid JSON" in err
    assert f'{live}:6: no alert "id"' in err
    assert PERSONAL not in err
    assert spooled_ids(state)[-5:] == ["1730.0", "1730.1", "1730.2", "1730.3", "1730.4"]
    assert summary["rejected"] == [{"file": str(live), "line": 5}, {"file": str(live), "line": 6}]
    assert PERSONAL not in state.pending.read_text()


def test_a_load_that_never_committed_is_spooled_again_with_what_came_since(
    wazuh: Path, state: SpoolDir, capsys: pytest.CaptureFixture[str]
) -> None:
    run(state, wazuh)
    write(wazuh / "alerts.json", alert(3), mode="ab")
    prepare(state, sources(wazuh))  # the load then fails or is killed: no commit
    write(wazuh / "alerts.json", alert(4), mode="ab")
    assert run(state, wazuh) == ["1730.3", "1730.4"]
    assert "never committed" in capsys.readouterr().err


def test_a_crash_inside_commit_after_the_rename_loses_and_repeats_nothing(
    wazuh: Path, state: SpoolDir, monkeypatch: pytest.MonkeyPatch
) -> None:
    prepare(state, sources(wazuh))

    def power_cut(self: SpoolDir) -> None:
        raise KeyboardInterrupt

    with monkeypatch.context() as patched:
        patched.setattr(SpoolDir, "clear_spool", power_cut)
        with pytest.raises(KeyboardInterrupt):
            commit(state)  # manifest committed, spool not emptied
    assert not state.pending.exists()
    write(wazuh / "alerts.json", alert(3), mode="ab")
    assert run(state, wazuh) == ["1730.3"], "the stale spool is gone, only new lines come"


def test_a_crash_before_the_rename_respools_the_batch(
    wazuh: Path, state: SpoolDir, monkeypatch: pytest.MonkeyPatch
) -> None:
    prepare(state, sources(wazuh))
    batch = spooled_ids(state)

    def power_cut(self: Path, target: Path) -> Path:
        raise KeyboardInterrupt

    with monkeypatch.context() as patched:
        patched.setattr(Path, "replace", power_cut)
        with pytest.raises(KeyboardInterrupt):
            commit(state)
    assert run(state, wazuh) == batch


def test_cli_names_the_setting_when_no_file_matches(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv(wazuh_spool.SOURCES_ENV, json.dumps([str(tmp_path / "none" / "*.json")]))
    code = wazuh_spool.main(["--state-dir", str(tmp_path / "state"), "prepare"])
    assert code == 2
    assert "sources` setting" in capsys.readouterr().err


def test_cli_runs_prepare_and_commit_with_globs_from_the_environment(
    wazuh: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv(wazuh_spool.SOURCES_ENV, json.dumps(sources(wazuh)))
    state_dir = tmp_path / "cli-state"
    assert wazuh_spool.main(["--state-dir", str(state_dir), "prepare"]) == 0
    assert len(spooled_ids(SpoolDir(state_dir))) == 8
    assert wazuh_spool.main(["--state-dir", str(state_dir), "commit"]) == 0
    committed = json.loads((state_dir / "manifest.json").read_text())
    assert sum(entry["lines"] for entry in committed["files"].values()) == 8
    assert os.listdir(state_dir / "spool") == []


def test_an_unreadable_archive_is_named_and_retried_while_the_rest_loads(
    wazuh: Path, state: SpoolDir, capsys: pytest.CaptureFixture[str]
) -> None:
    broken = write(wazuh / "2026" / "Oct" / "ossec-alerts-28.json.gz", b"not gzip at all\n")
    assert len(run(state, wazuh)) == 8, "every readable alert still loads"
    assert f"ERROR cannot read Wazuh alert file {broken}" in capsys.readouterr().err
    with gzip.open(broken, "wb") as archive:  # repaired (here: re-compressed) later
        archive.write(alert(0, 28))
    assert run(state, wazuh) == ["1728.0"]


def test_a_file_renamed_between_the_glob_and_its_read_is_named_and_the_rest_loads(
    wazuh: Path,
    state: SpoolDir,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    listed = wazuh_spool.source_files(sources(wazuh))
    gone = wazuh / "alerts.json.rotating"  # listed by the glob, renamed before it was opened
    monkeypatch.setattr(wazuh_spool, "source_files", lambda patterns: [gone, *listed])
    assert len(run(state, wazuh)) == 8, "every file still there loads"
    assert f"ERROR cannot read Wazuh alert file {gone}" in capsys.readouterr().err
