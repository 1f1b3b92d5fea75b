"""Signed evidence packs (issue 20, item 1): manifest.json signed with Ed25519, the PDF with
PAdES, the content manifest's digest printed in the HTML and on every PDF page, and `verify`
refusing a pack whose files were changed and re-hashed without the key.

The keys and certificates are made here with `cryptography`, not by the code under test; packs
are rendered from the in-memory sample marts (no database)."""

from __future__ import annotations

import hashlib
import io
import json
import re
import shutil
import stat
import subprocess
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pypdf
import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID
from report_samples import sample_tables

from report.cli import main
from report.manifest import verify
from report.pack import HTML_NAME, PDF_NAME, render_pack
from report.period import parse_period
from report.signing import SigningConfig, SigningError, ensure_demo_keys, load_public_key
from report.warehouse import InMemorySource

CSV = "data/mart_nis2_incident_register.csv"
UUID = re.compile(r"^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$")


@dataclass(frozen=True)
class Keys:
    key: Path
    public_key: Path
    certificate: Path
    spki_sha256: str


def _certificate(key, subject: str, *, tsa: bool = False) -> x509.Certificate:
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, subject)])
    now = datetime.now(UTC)
    builder = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - timedelta(days=2))
        .not_valid_after(now + timedelta(days=30))
    )
    if tsa:
        builder = builder.add_extension(
            x509.ExtendedKeyUsage([ExtendedKeyUsageOID.TIME_STAMPING]), critical=True
        )
    return builder.sign(key, hashes.SHA256() if tsa else None)


def _make_keys(folder: Path, subject: str) -> Keys:
    """An Ed25519 key pair and a self-signed certificate, written as PEM files."""
    folder.mkdir(parents=True, exist_ok=True)
    key = Ed25519PrivateKey.generate()
    paths = Keys(folder / "key.pem", folder / "key.pub.pem", folder / "cert.pem", "")
    paths.key.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )
    spki = key.public_key().public_bytes(
        serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo
    )
    paths.public_key.write_bytes(
        key.public_key().public_bytes(
            serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
        )
    )
    paths.certificate.write_bytes(
        _certificate(key, subject).public_bytes(serialization.Encoding.PEM)
    )
    return Keys(paths.key, paths.public_key, paths.certificate, hashlib.sha256(spki).hexdigest())


@pytest.fixture(scope="module")
def keys(tmp_path_factory) -> Keys:
    return _make_keys(tmp_path_factory.mktemp("keys"), "Report signing test")


@pytest.fixture(scope="module")
def other_keys(tmp_path_factory) -> Keys:
    return _make_keys(tmp_path_factory.mktemp("other-keys"), "Someone else")


def _render(out: Path, signing: SigningConfig | None, pdf: bool = True):
    return render_pack(
        InMemorySource(sample_tables()),
        parse_period("2026-10"),
        "Example Org",
        out,
        pdf=pdf,
        signing=signing,
    )


@pytest.fixture(scope="module")
def signed_pack(tmp_path_factory, keys, pseudonym_key):
    config = SigningConfig.load(str(keys.key), str(keys.certificate))
    return _render(tmp_path_factory.mktemp("signed"), config)


@pytest.fixture
def pack(signed_pack, tmp_path) -> Path:
    copy = tmp_path / "pack"
    shutil.copytree(signed_pack.folder, copy)
    return copy


def _verify_cli(pack: Path, *options: str) -> int:
    return main(["verify", *options, str(pack)])


def _sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def _rehash(pack: Path, changed: str) -> None:
    """What a forger without the key does after changing a file: recompute the content
    manifest, the digest printed in the HTML, manifest.json and SHA256SUMS."""
    content_path = pack / "content-manifest.json"
    old_content = _sha256(content_path)
    content = json.loads(content_path.read_text())
    for entry in content["files"]:
        if entry["path"] == changed:
            entry["sha256"] = _sha256(pack / changed)
            entry["bytes"] = (pack / changed).stat().st_size
    content_path.write_text(json.dumps(content, indent=1) + "\n")
    new_content = _sha256(content_path)
    html = pack / HTML_NAME
    html.write_text(html.read_text().replace(old_content, new_content))
    manifest = json.loads((pack / "manifest.json").read_text())
    manifest["content_manifest"]["sha256"] = new_content
    for entry in manifest["files"]:
        entry["sha256"] = _sha256(pack / entry["path"])
        entry["bytes"] = (pack / entry["path"]).stat().st_size
    (pack / "manifest.json").write_text(json.dumps(manifest, indent=1) + "\n")
    (pack / "SHA256SUMS").write_text(
        "".join(f"{e['sha256']}  {e['path']}\n" for e in manifest["files"])
    )


def _sums_check(pack: Path) -> bool:
    """`sha256sum -c SHA256SUMS`, in Python."""
    lines = (pack / "SHA256SUMS").read_text().splitlines()
    return all(_sha256(pack / line[66:]) == line[:64] for line in lines)


# --- a valid pack ------------------------------------------------------------------------


def test_a_signed_pack_verifies_with_its_public_key(pack, keys, capsys):
    assert _verify_cli(pack, "--public-key", str(keys.public_key)) == 0
    out = capsys.readouterr().out
    assert out.startswith("OK:")
    assert (
        f"SIGNATURE: Ed25519 signature of manifest.json valid (key SHA-256 {keys.spki_sha256})"
        in out
    )
    assert "evidence-pack.pdf: PAdES signature intact" in out


def test_the_signature_covers_the_exact_manifest_bytes(pack, keys):
    public = serialization.load_pem_public_key(keys.public_key.read_bytes())
    signature = (pack / "manifest.json.sig").read_bytes()
    assert len(signature) == 64
    public.verify(signature, (pack / "manifest.json").read_bytes())  # raises if not
    manifest = json.loads((pack / "manifest.json").read_text())
    assert manifest["signature"] == {"algorithm": "Ed25519", "public_key_sha256": keys.spki_sha256}


def test_the_manifest_names_the_pack_period_generator_and_warehouse_state(pack):
    manifest = json.loads((pack / "manifest.json").read_text())
    content = json.loads((pack / "content-manifest.json").read_text())
    assert UUID.match(manifest["pack_id"])
    assert manifest["period"] == {
        "label": "2026-10",
        "start": "2026-10-01T00:00:00+00:00",
        "end": "2026-11-01T00:00:00+00:00",
    }
    assert manifest["generator"].startswith("nis2-didit-pipeline ")
    state = manifest["warehouse_state"]
    assert state["source"] == "in-memory rows"
    # the two incidents of report_samples.INCIDENTS that fall in October 2026
    assert state["marts"]["mart_nis2_incident_register"]["rows"] == 2
    assert state["marts"]["mart_nis2_incident_register"]["latest_at"] == "2026-10-20T11:00:00+00:00"
    unsealed = {k: v for k, v in state.items() if k != "sha256"}
    canonical = json.dumps(unsealed, sort_keys=True, separators=(",", ":"))
    assert state["sha256"] == hashlib.sha256(canonical.encode()).hexdigest()
    for key in ("pack_id", "period", "generator", "warehouse_state", "entity"):
        assert content[key] == manifest[key]


def test_the_content_manifest_lists_every_export_and_draft(pack):
    content = json.loads((pack / "content-manifest.json").read_text())
    on_disk = {
        p.relative_to(pack).as_posix(): _sha256(p)
        for folder in ("data", "drafts")
        for p in (pack / folder).rglob("*")
        if p.is_file()
    }
    assert {e["path"]: e["sha256"] for e in content["files"]} == on_disk
    assert CSV in on_disk


def test_the_content_manifest_digest_is_on_every_pdf_page_and_in_the_html(pack):
    digest = _sha256(pack / "content-manifest.json")
    assert json.loads((pack / "manifest.json").read_text())["content_manifest"] == {
        "path": "content-manifest.json",
        "sha256": digest,
    }
    assert 'id="content-sha256"' in (pack / HTML_NAME).read_text()
    assert f"<code>{digest}</code>" in (pack / HTML_NAME).read_text()
    pages = pypdf.PdfReader(pack / PDF_NAME).pages
    assert len(pages) > 5
    for number, page in enumerate(pages, 1):
        text = page.extract_text()
        assert f"content-manifest.json SHA-256 {digest}" in text, f"page {number}"
        assert "UNSIGNED" not in text


# --- tampering ---------------------------------------------------------------------------


def test_a_csv_changed_and_rehashed_fails_on_the_signature(pack, keys, capsys):
    target = pack / CSV
    target.write_bytes(target.read_bytes().replace(b"high", b"low", 1))
    _rehash(pack, CSV)
    assert _sums_check(pack)  # sha256sum -c is fooled...
    assert verify(pack).ok  # ...and so is every digest: only the signature can tell
    assert _verify_cli(pack, "--public-key", str(keys.public_key)) == 1
    out = capsys.readouterr().out
    assert out.startswith("FAILED:")
    assert "SIGNATURE INVALID: the Ed25519 signature manifest.json.sig does not verify" in out
    assert "manifest.json was changed after it was signed" in out


def test_a_changed_csv_without_rehashing_is_named(pack, keys, capsys):
    target = pack / CSV
    target.write_bytes(target.read_bytes().replace(b"high", b"low", 1))
    assert _verify_cli(pack, "--public-key", str(keys.public_key)) == 1
    out = capsys.readouterr().out
    assert f"CHANGED: {CSV}" in out
    assert "SIGNATURE: Ed25519 signature of manifest.json valid" in out  # the manifest is not


def test_a_rehashed_pack_with_its_signature_removed_is_unsigned_and_refused(pack, keys, capsys):
    target = pack / CSV
    target.write_bytes(target.read_bytes().replace(b"high", b"low", 1))
    (pack / "manifest.json.sig").unlink()
    manifest = json.loads((pack / "manifest.json").read_text())
    manifest["signature"] = None
    (pack / "manifest.json").write_text(json.dumps(manifest, indent=1) + "\n")
    _rehash(pack, CSV)
    assert _verify_cli(pack, "--public-key", str(keys.public_key)) == 1
    out = capsys.readouterr().out
    assert "UNSIGNED: manifest.json.sig is absent" in out
    assert out.startswith("FAILED")


def test_a_pack_checked_with_another_public_key_fails(pack, other_keys, keys, capsys):
    assert _verify_cli(pack, "--public-key", str(other_keys.public_key)) == 1
    out = capsys.readouterr().out
    assert "SIGNATURE INVALID" in out
    assert f"the pack names another key (SHA-256 {keys.spki_sha256})" in out
    assert "evidence-pack.pdf: the PDF was signed by another key" in out


def test_a_signed_pack_without_a_public_key_is_not_accepted(pack, keys, capsys, monkeypatch):
    monkeypatch.delenv("NIS2_REPORT_PUBLIC_KEY", raising=False)
    assert _verify_cli(pack) == 2
    out = capsys.readouterr().out
    assert (
        f"SIGNATURE NOT CHECKED: the pack is signed by the key with SHA-256 {keys.spki_sha256}"
        in out
    )


# --- the PDF's own signature ---------------------------------------------------------------


def _pdf_status(pdf: bytes, certificate: Path):
    from asn1crypto import pem
    from asn1crypto import x509 as asn1_x509
    from pyhanko.pdf_utils.reader import PdfFileReader
    from pyhanko.sign.validation import validate_pdf_signature
    from pyhanko_certvalidator import ValidationContext

    root = asn1_x509.Certificate.load(pem.unarmor(certificate.read_bytes())[2])
    signature = PdfFileReader(io.BytesIO(pdf)).embedded_signatures[0]
    return validate_pdf_signature(signature, ValidationContext(trust_roots=[root])), root


def test_the_pdf_signature_validates_with_pyhanko(pack, keys):
    status, root = _pdf_status((pack / PDF_NAME).read_bytes(), keys.certificate)
    assert status.bottom_line
    assert status.intact
    assert status.valid
    assert status.trusted
    assert status.coverage.name == "ENTIRE_FILE"
    assert status.signing_cert.dump() == root.dump()
    assert status.md_algorithm == "sha512"


def test_a_changed_byte_in_the_pdf_breaks_its_signature(pack, keys, capsys):
    pdf = (pack / PDF_NAME).read_bytes()
    assert pdf.count(b"WeasyPrint") >= 1
    changed = pdf.replace(b"WeasyPrint", b"WeasyPrinT", 1)
    status, _ = _pdf_status(changed, keys.certificate)
    assert not status.intact
    assert not status.bottom_line
    (pack / PDF_NAME).write_bytes(changed)
    assert _verify_cli(pack, "--public-key", str(keys.public_key)) == 1
    out = capsys.readouterr().out
    assert f"CHANGED: {PDF_NAME}" in out
    assert "INCONSISTENT: evidence-pack.pdf: the PDF signature does not match" in out


# --- unsigned packs ----------------------------------------------------------------------


def test_an_unsigned_pack_is_flagged_everywhere(rendered_pack, keys, tmp_path, capsys):
    pack = tmp_path / "unsigned"
    shutil.copytree(rendered_pack.folder, pack)
    assert not rendered_pack.signed
    assert not (pack / "manifest.json.sig").exists()
    assert json.loads((pack / "manifest.json").read_text())["signature"] is None
    html = (pack / HTML_NAME).read_text()
    assert '<span class="banner unsigned" id="unsigned">UNSIGNED' in html
    for number, page in enumerate(pypdf.PdfReader(pack / PDF_NAME).pages, 1):
        assert "UNSIGNED · content-manifest.json SHA-256" in page.extract_text(), f"page {number}"
    assert _verify_cli(pack) == 1
    assert "UNSIGNED: manifest.json.sig is absent" in capsys.readouterr().out
    assert _verify_cli(pack, "--public-key", str(keys.public_key)) == 1
    capsys.readouterr()
    assert _verify_cli(pack, "--allow-unsigned") == 0
    assert capsys.readouterr().out.startswith("OK (UNSIGNED):")


def test_a_signed_pack_has_no_unsigned_banner(pack):
    html = (pack / HTML_NAME).read_text()
    assert "UNSIGNED" not in html
    assert 'id="signature">manifest.json signed with Ed25519' in html


# --- settings ------------------------------------------------------------------------------


def test_a_certificate_for_another_key_is_refused(keys, other_keys):
    with pytest.raises(SigningError, match="not for the key"):
        SigningConfig.load(str(keys.key), str(other_keys.certificate))


def test_key_material_never_appears_in_messages_or_repr(keys, monkeypatch):
    pem = keys.key.read_text()
    config = SigningConfig.load(pem)  # a PEM block is accepted as well as a path
    body = pem.splitlines()[1]
    assert body not in repr(config)
    mangled = "-----BEGIN PRIVATE KEY-----\nTOPSECRETBODY\n-----END PRIVATE KEY-----\n"
    with pytest.raises(SigningError) as caught:
        SigningConfig.load(mangled)
    assert "TOPSECRETBODY" not in str(caught.value)
    monkeypatch.setenv("NIS2_REPORT_SIGNING_KEY", "TOPSECRET-not-a-file")
    with pytest.raises(SigningError) as caught:
        SigningConfig.from_env()
    assert "TOPSECRET" not in str(caught.value)


def test_no_key_configured_means_unsigned(monkeypatch):
    monkeypatch.delenv("NIS2_REPORT_SIGNING_KEY", raising=False)
    assert SigningConfig.from_env() is None


def test_the_demo_keys_are_made_once_and_private(tmp_path):
    first = ensure_demo_keys(tmp_path / "keys")
    assert first.created
    assert stat.S_IMODE(first.key.stat().st_mode) == 0o600
    key_bytes = first.key.read_bytes()
    second = ensure_demo_keys(tmp_path / "keys")
    assert not second.created
    assert second.key.read_bytes() == key_bytes
    config = SigningConfig.load(str(first.key), str(first.certificate))  # cert matches key
    own = serialization.load_pem_private_key(key_bytes, None).public_key()
    assert load_public_key(str(first.public_key)) == own
    assert config.certificate is not None


# --- RFC 3161 timestamp, from a local responder (pyHanko's DummyTimeStamper) --------------


@pytest.fixture
def tsa(httpserver, tmp_path):
    """A local RFC 3161 responder: pytest-httpserver answering with pyHanko's test TSA."""
    from asn1crypto import keys as asn1_keys
    from asn1crypto import tsp
    from asn1crypto import x509 as asn1_x509
    from pyhanko.sign.timestamps.dummy_client import DummyTimeStamper
    from werkzeug import Response

    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    cert = _certificate(key, "Test TSA", tsa=True)
    stamper = DummyTimeStamper(
        asn1_x509.Certificate.load(cert.public_bytes(serialization.Encoding.DER)),
        asn1_keys.PrivateKeyInfo.load(
            key.private_bytes(
                serialization.Encoding.DER,
                serialization.PrivateFormat.PKCS8,
                serialization.NoEncryption(),
            )
        ),
    )
    requests = []

    def answer(request):
        query = tsp.TimeStampReq.load(request.get_data())
        requests.append(query)
        reply = stamper.request_tsa_response(query).dump()
        return Response(reply, content_type="application/timestamp-reply")

    httpserver.expect_request("/tsa", method="POST").respond_with_handler(answer)
    cert_path = tmp_path / "tsa.pem"
    cert_path.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    return httpserver.url_for("/tsa"), cert_path, requests


def test_a_timestamp_from_a_configured_tsa_covers_the_signature(tmp_path, keys, tsa, capsys):
    url, tsa_cert, requests = tsa
    config = SigningConfig.load(str(keys.key), str(keys.certificate), tsa_url=url)
    result = _render(tmp_path / "out", config)
    signature = (result.folder / "manifest.json.sig").read_bytes()
    imprints = [q["message_imprint"]["hashed_message"].native for q in requests]
    assert hashlib.sha256(signature).digest() in imprints  # the manifest's signature
    # and the PDF's signature (pyHanko also sends a probe to size the signature field)
    assert len(requests) >= 2
    assert _verify_cli(result.folder, "--public-key", str(keys.public_key)) == 0
    assert (
        "manifest.json.sig.tst: RFC 3161 timestamp of the signature at" in capsys.readouterr().out
    )
    status, _ = _pdf_status((result.folder / PDF_NAME).read_bytes(), keys.certificate)
    assert status.timestamp_validity is not None
    if shutil.which("openssl"):
        checked = subprocess.run(
            [
                *("openssl", "ts", "-verify", "-token_in", "-in", "manifest.json.sig.tst"),
                *("-data", "manifest.json.sig", "-CAfile", str(tsa_cert)),
            ],
            cwd=result.folder,
            capture_output=True,
            text=True,
            check=False,
        )
        assert "Verification: OK" in checked.stdout, checked.stderr


def test_a_timestamp_over_other_bytes_is_caught(tmp_path, keys, tsa, capsys):
    url, _, _ = tsa
    config = SigningConfig.load(str(keys.key), str(keys.certificate), tsa_url=url)
    result = _render(tmp_path / "out", config, pdf=False)
    folder = result.folder
    token = (folder / "manifest.json.sig.tst").read_bytes()
    # a genuine token, but from another pack (its own signature, other bytes)
    second = _render(tmp_path / "other", config, pdf=False)
    assert (second.folder / "manifest.json.sig.tst").read_bytes() != token
    shutil.copy(second.folder / "manifest.json.sig.tst", folder / "manifest.json.sig.tst")
    assert _verify_cli(folder, "--public-key", str(keys.public_key)) == 1
    out = capsys.readouterr().out
    assert "the timestamp is for other bytes than the signature" in out


# --- the command line ---------------------------------------------------------------------


@pytest.fixture
def in_memory_render(monkeypatch, pseudonym_key):
    """`render` without a warehouse: the sample marts, with whatever signing the CLI chose."""
    import report.pack

    def fake(period, *, out, signing, pdf, progress, **_):
        return _render(out, signing, pdf=pdf)

    monkeypatch.setattr(report.pack, "render_from_warehouse", fake)
    monkeypatch.delenv("NIS2_REPORT_SIGNING_KEY", raising=False)


def test_render_signs_with_the_key_given_and_never_prints_it(
    in_memory_render, keys, tmp_path, capsys
):
    options = ["--signing-key", str(keys.key), "--signing-certificate", str(keys.certificate)]
    assert (
        main(["render", "--period", "2026-10", "--out", str(tmp_path), "--no-pdf", *options]) == 0
    )
    captured = capsys.readouterr()
    assert (
        f"signed: manifest.json.sig (Ed25519, public key SHA-256 {keys.spki_sha256})"
        in captured.err
    )
    key_body = "".join(keys.key.read_text().splitlines()[1:-1])
    assert key_body not in captured.err + captured.out
    folder = Path(captured.out.strip())
    assert _verify_cli(folder, "--public-key", str(keys.public_key)) == 0


def test_render_without_a_key_warns_that_the_pack_is_unsigned(in_memory_render, tmp_path, capsys):
    assert main(["render", "--period", "2026-10", "--out", str(tmp_path), "--no-pdf"]) == 0
    assert "warning: UNSIGNED pack: no signing key configured" in capsys.readouterr().err


def test_render_refuses_an_unreadable_key(in_memory_render, tmp_path, capsys):
    code = main(["render", "--out", str(tmp_path), "--signing-key", str(tmp_path / "none.pem")])
    assert code == 2
    assert (
        "NIS2_REPORT_SIGNING_KEY: neither a PEM block nor a readable file"
        in capsys.readouterr().err
    )
