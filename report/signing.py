"""Signatures of the evidence pack: Ed25519 over manifest.json, PAdES on the PDF, and an
optional RFC 3161 timestamp.

One Ed25519 key signs both: `manifest.json.sig` holds the 64 raw signature bytes over the exact
bytes of manifest.json (check with `openssl pkeyutl -verify -rawin`), and the PDF carries a
PAdES signature (pyHanko) under an X.509 certificate of the same key, so whoever trusts the
public key can check both. The key, the certificate and the timestamp authority come from
settings (NIS2_REPORT_SIGNING_KEY, ...); nothing here prints or logs a key.
"""

from __future__ import annotations

import asyncio
import hashlib
import io
import os
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from cryptography import x509
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey
from cryptography.hazmat.primitives.asymmetric.types import PublicKeyTypes
from cryptography.x509.oid import NameOID

KEY_ENV = "NIS2_REPORT_SIGNING_KEY"
KEY_PASSWORD_ENV = "NIS2_REPORT_SIGNING_KEY_PASSWORD"  # noqa: S105 (a variable name)
CERTIFICATE_ENV = "NIS2_REPORT_SIGNING_CERTIFICATE"
TSA_ENV = "NIS2_REPORT_TSA_URL"
PUBLIC_KEY_ENV = "NIS2_REPORT_PUBLIC_KEY"
ALGORITHM = "Ed25519"
PDF_FIELD = "NIS2EvidencePack"
DEMO_KEY = "report-signing-key.pem"
DEMO_PUBLIC_KEY = "report-signing-key.pub.pem"
DEMO_CERTIFICATE = "report-signing-cert.pem"


class SigningError(ValueError):
    """A signing setting is unusable; the message never holds key material."""


def _pem_or_file(value: str, setting: str) -> bytes:
    """A setting given either as a PEM block or as the path of a PEM file."""
    if "-----BEGIN" in value:
        return value.encode()
    path = Path(value).expanduser()
    try:
        return path.read_bytes()
    except OSError as exc:
        # The value is not echoed: a mangled PEM block would otherwise end up in a log.
        raise SigningError(
            f"{setting}: neither a PEM block nor a readable file ({exc.strerror})"
        ) from None


def load_private_key(value: str, password: str | None = None) -> Ed25519PrivateKey:
    data = _pem_or_file(value, KEY_ENV)
    try:
        key = serialization.load_pem_private_key(data, password.encode() if password else None)
    except (ValueError, TypeError):
        raise SigningError(
            f"{KEY_ENV}: not a PEM private key, or the password ({KEY_PASSWORD_ENV}) is wrong"
        ) from None
    if not isinstance(key, Ed25519PrivateKey):
        raise SigningError(f"{KEY_ENV}: the key must be Ed25519, not {type(key).__name__}")
    return key


def load_public_key(value: str) -> Ed25519PublicKey:
    data = _pem_or_file(value, "public key")
    try:
        key = serialization.load_pem_public_key(data)
    except ValueError:
        try:
            key = x509.load_pem_x509_certificate(data).public_key()
        except ValueError:
            raise SigningError("public key: not a PEM public key or certificate") from None
    if not isinstance(key, Ed25519PublicKey):
        raise SigningError(f"public key: must be Ed25519, not {type(key).__name__}")
    return key


def fingerprint(public_key: PublicKeyTypes) -> str:
    """SHA-256 of the DER SubjectPublicKeyInfo, i.e.
    `openssl pkey -pubin -in key.pub.pem -outform DER | sha256sum`."""
    der = public_key.public_bytes(
        serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo
    )
    return hashlib.sha256(der).hexdigest()


@dataclass(frozen=True)
class SigningConfig:
    key: Ed25519PrivateKey = field(repr=False)
    certificate: x509.Certificate | None = None
    tsa_url: str | None = None

    @property
    def fingerprint(self) -> str:
        return fingerprint(self.key.public_key())

    @classmethod
    def load(
        cls,
        key: str,
        certificate: str | None = None,
        tsa_url: str | None = None,
        password: str | None = None,
    ) -> SigningConfig:
        private = load_private_key(key, password)
        cert = None
        if certificate:
            try:
                cert = x509.load_pem_x509_certificate(_pem_or_file(certificate, CERTIFICATE_ENV))
            except ValueError:
                raise SigningError(f"{CERTIFICATE_ENV}: not a PEM X.509 certificate") from None
            if fingerprint(cert.public_key()) != fingerprint(private.public_key()):
                raise SigningError(
                    f"{CERTIFICATE_ENV}: the certificate is not for the key in {KEY_ENV}"
                )
        return cls(private, cert, tsa_url or None)

    @classmethod
    def from_env(
        cls,
        key: str | None = None,
        certificate: str | None = None,
        tsa_url: str | None = None,
    ) -> SigningConfig | None:
        """The configured signing material (arguments win over the environment); None when no
        key is configured: the pack is then written UNSIGNED, and says so."""
        key = key or os.environ.get(KEY_ENV)
        if not key:
            return None
        return cls.load(
            key,
            certificate or os.environ.get(CERTIFICATE_ENV),
            tsa_url or os.environ.get(TSA_ENV),
            os.environ.get(KEY_PASSWORD_ENV),
        )


def _timestamper(url: str) -> Any:
    """pyHanko's RFC 3161 client (aiohttp, a dependency of pyHanko itself)."""
    from pyhanko.sign.timestamps import HTTPTimeStamper

    return HTTPTimeStamper(url, timeout=30)


def timestamp_token(data: bytes, tsa_url: str) -> bytes:
    """An RFC 3161 timestamp token (DER) over SHA-256(data) from the TSA at `tsa_url`."""
    stamper = _timestamper(tsa_url)
    token = asyncio.run(stamper.async_timestamp(hashlib.sha256(data).digest(), "sha256"))
    return token.dump()


def sign_pdf(path: Path, config: SigningConfig) -> None:
    """Add a PAdES signature (ETSI.CAdES.detached, SHA-512 as Ed25519 requires) to the PDF in
    place, timestamped when a TSA is configured."""
    from asn1crypto import keys as asn1_keys
    from asn1crypto import x509 as asn1_x509
    from pyhanko.pdf_utils.incremental_writer import IncrementalPdfFileWriter
    from pyhanko.sign import fields, signers

    if config.certificate is None:
        raise SigningError(f"{CERTIFICATE_ENV} is needed for the PDF signature")
    signer = signers.SimpleSigner(
        signing_cert=asn1_x509.Certificate.load(
            config.certificate.public_bytes(serialization.Encoding.DER)
        ),
        signing_key=asn1_keys.PrivateKeyInfo.load(
            config.key.private_bytes(
                serialization.Encoding.DER,
                serialization.PrivateFormat.PKCS8,
                serialization.NoEncryption(),
            )
        ),
        cert_registry=None,
    )
    metadata = signers.PdfSignatureMetadata(
        field_name=PDF_FIELD,
        md_algorithm="sha512",
        subfilter=fields.SigSeedSubFilter.PADES,
        reason="NIS2 evidence pack: content as generated",
    )
    unsigned = path.read_bytes()
    signed = path.with_name(path.name + ".signing")
    with signed.open("wb") as output:
        signers.sign_pdf(
            IncrementalPdfFileWriter(io.BytesIO(unsigned)),
            metadata,
            signer=signer,
            timestamper=_timestamper(config.tsa_url) if config.tsa_url else None,
            output=output,
        )
    signed.replace(path)


@dataclass
class PdfCheck:
    signed: bool
    problem: str = ""
    timestamped: bool = False


def check_pdf(path: Path, public_key: Ed25519PublicKey) -> PdfCheck:
    """The PDF's PAdES signature covers the whole file, is intact and was made by
    `public_key`: its certificate is trusted because its key is the trusted key (the
    certificate itself may be self-signed)."""
    from pyhanko.pdf_utils.reader import PdfFileReader
    from pyhanko.sign.validation import validate_pdf_signature
    from pyhanko_certvalidator import ValidationContext

    with path.open("rb") as handle:
        signatures = PdfFileReader(handle, strict=False).embedded_signatures
        if not signatures:
            return PdfCheck(signed=False)
        embedded = signatures[-1]
        signer = x509.load_der_x509_certificate(embedded.signer_cert.dump()).public_key()
        if fingerprint(signer) != fingerprint(public_key):
            return PdfCheck(True, "the PDF was signed by another key than the one given")
        context = ValidationContext(trust_roots=[embedded.signer_cert])
        status = validate_pdf_signature(embedded, context, skip_diff=True)
    check = PdfCheck(signed=True, timestamped=status.timestamp_validity is not None)
    if not (status.intact and status.valid):
        check.problem = "the PDF signature does not match the PDF's bytes"
    elif status.coverage is None or status.coverage.name != "ENTIRE_FILE":
        check.problem = "the PDF was changed after it was signed (incremental update)"
    return check


def verify_signature(data: bytes, signature: bytes, public_key: Ed25519PublicKey) -> bool:
    try:
        public_key.verify(signature, data)
    except InvalidSignature:
        return False
    return True


def timestamp_time(token: bytes, data: bytes) -> datetime:
    """The time in an RFC 3161 token whose imprint is SHA-256(data); ValueError otherwise.
    (The TSA's own signature is checked with `openssl ts -verify`, see report/README.md.)"""
    from asn1crypto import cms, tsp

    try:
        signed = cms.ContentInfo.load(token)["content"]
        info = signed["encap_content_info"]["content"].parsed
        if not isinstance(info, tsp.TSTInfo):
            raise ValueError("not a timestamp token")
        imprint = info["message_imprint"]
        algorithm = imprint["hash_algorithm"]["algorithm"].native
        hashed = imprint["hashed_message"].native
        when = info["gen_time"].native
    except (ValueError, KeyError, TypeError) as exc:
        raise ValueError(f"unreadable timestamp token ({exc})") from None
    if algorithm != "sha256" or hashed != hashlib.sha256(data).digest():
        raise ValueError("the timestamp is for other bytes than the signature")
    return when


@dataclass(frozen=True)
class DemoKeys:
    folder: Path
    key: Path
    public_key: Path
    certificate: Path
    created: bool


def ensure_demo_keys(folder: Path, subject: str = "NIS2 evidence pack (demo)") -> DemoKeys:
    """The demo's Ed25519 key pair and self-signed certificate under `folder`, made once."""
    keys = DemoKeys(
        folder,
        folder / DEMO_KEY,
        folder / DEMO_PUBLIC_KEY,
        folder / DEMO_CERTIFICATE,
        created=False,
    )
    if keys.key.is_file() and keys.certificate.is_file() and keys.public_key.is_file():
        return keys
    folder.mkdir(parents=True, exist_ok=True)
    folder.chmod(0o700)
    if keys.key.is_file():
        key = load_private_key(str(keys.key))
    else:
        key = Ed25519PrivateKey.generate()
        descriptor = os.open(keys.key, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(descriptor, "wb") as handle:
            handle.write(
                key.private_bytes(
                    serialization.Encoding.PEM,
                    serialization.PrivateFormat.PKCS8,
                    serialization.NoEncryption(),
                )
            )
    keys.public_key.write_bytes(
        key.public_key().public_bytes(
            serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
        )
    )
    certificate = self_signed_certificate(key, subject)
    keys.certificate.write_bytes(certificate.public_bytes(serialization.Encoding.PEM))
    return DemoKeys(keys.folder, keys.key, keys.public_key, keys.certificate, created=True)


def self_signed_certificate(
    key: Ed25519PrivateKey, subject: str, days: int = 3650
) -> x509.Certificate:
    """A self-signed certificate for document signing (digital signature, non-repudiation)."""
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, subject)])
    now = datetime.now(UTC)
    return (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - timedelta(days=1))
        .not_valid_after(now + timedelta(days=days))
        .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
        .add_extension(
            x509.KeyUsage(
                digital_signature=True,
                content_commitment=True,
                key_encipherment=False,
                data_encipherment=False,
                key_agreement=False,
                key_cert_sign=False,
                crl_sign=False,
                encipher_only=False,
                decipher_only=False,
            ),
            critical=True,
        )
        .sign(key, None)
    )
