"""`verify` catches every kind of change to a pack."""

import shutil

import pytest

from report.cli import main
from report.manifest import verify


@pytest.fixture
def pack(rendered_pack, tmp_path):
    copy = tmp_path / "pack"
    shutil.copytree(rendered_pack.folder, copy)
    return copy


def test_an_untouched_pack_verifies(pack, capsys):
    assert main(["verify", "--allow-unsigned", str(pack)]) == 0  # signatures: test_report_signing
    assert capsys.readouterr().out.startswith("OK (UNSIGNED):")


def test_a_changed_byte_is_caught(pack, capsys):
    target = pack / "data" / "mart_nis2_incident_register.csv"
    target.write_bytes(target.read_bytes().replace(b"high", b"HIGH"))
    result = verify(pack)
    assert result.changed == ["data/mart_nis2_incident_register.csv"]
    assert main(["verify", str(pack)]) == 1
    assert "CHANGED: data/mart_nis2_incident_register.csv" in capsys.readouterr().out


def test_a_removed_file_and_an_added_file_are_caught(pack):
    (pack / "evidence-pack.pdf").unlink()
    (pack / "drafts" / "extra.md").write_text("not from the generator")
    result = verify(pack)
    assert result.missing == ["evidence-pack.pdf"]
    assert result.unlisted == ["drafts/extra.md"]
    assert not result.ok


def test_a_folder_without_manifest_is_a_clear_error(tmp_path, capsys):
    assert main(["verify", str(tmp_path)]) == 2
    assert "manifest.json not found" in capsys.readouterr().err


def test_sha256sums_matches_the_manifest(pack):
    import json

    manifest = json.loads((pack / "manifest.json").read_text())
    lines = (pack / "SHA256SUMS").read_text().splitlines()
    assert lines == [f"{e['sha256']}  {e['path']}" for e in manifest["files"]]
