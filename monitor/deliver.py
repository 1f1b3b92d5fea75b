"""Sending one alert to one channel with Apprise, secrets kept out of every error and log.

A channel is named by its scheme and a short digest of its URL (`json-3f9a...`): the URL is
a secret (tokens, passwords), the name is what the outbox, the logs and the errors show."""

from __future__ import annotations

import hashlib
import logging
import re
import warnings
from dataclasses import dataclass
from urllib.parse import urlsplit

from monitor.state import Claim

with warnings.catch_warnings():  # apprise 2.2.0 imports imghdr (deprecated): noise in every run
    warnings.simplefilter("ignore", DeprecationWarning)
    import apprise

# schemes whose requests can carry the delivery id as an HTTP header (Apprise `+Header=`)
HEADER_SCHEMES = frozenset({"json", "jsons", "form", "forms", "xml", "xmls"})
DELIVERY_HEADER = "X-NIS2-Delivery-Id"
_URLISH = re.compile(r"[A-Za-z][A-Za-z0-9+.-]*://\S+")


@dataclass(frozen=True)
class Channel:
    name: str
    url: str  # secret: never printed

    def __repr__(self) -> str:
        return f"Channel({self.name})"


def channel_of(url: str) -> Channel:
    scheme = url.split("://", 1)[0].lower() if "://" in url else "invalid"
    digest = hashlib.sha256(url.encode()).hexdigest()[:10]
    return Channel(f"{scheme}-{digest}", url)


def channels_of(urls: tuple[str, ...]) -> list[Channel]:
    return list({c.name: c for c in map(channel_of, urls)}.values())


def redact(text: str, url: str) -> str:
    """The text without the URL, any URL-like token, or the URL's secret parts."""
    parts = urlsplit(url) if "://" in url else None
    secrets = [url]
    if parts is not None:
        secrets += [
            parts.netloc,
            parts.path,
            parts.query,
            parts.password or "",
            parts.username or "",
        ]
    for secret in sorted((s for s in secrets if len(s) >= 4), key=len, reverse=True):
        text = text.replace(secret, "***")
    return _URLISH.sub("***", text)


def footer(claim: Claim) -> str:
    return (
        f"\n\nFinding: {claim.finding_key}\n"
        f"Delivery id: {claim.delivery_id} (attempt {claim.attempt}; a message with a delivery "
        "id already received is a repeat of the same alert)"
    )


def _with_header(url: str, claim: Claim) -> str:
    scheme = url.split("://", 1)[0].lower()
    if scheme not in HEADER_SCHEMES:
        return url
    joiner = "&" if "?" in url else "?"
    return f"{url}{joiner}+{DELIVERY_HEADER}={claim.delivery_id}"


def _notify_type(severity: str) -> apprise.NotifyType:
    if severity in ("critical", "high"):
        return apprise.NotifyType.FAILURE
    return apprise.NotifyType.WARNING


def send(channel: Channel, claim: Claim) -> str | None:
    """Send the claim's alert; None when the channel accepted it, else a redacted reason."""
    app = apprise.Apprise()
    if not app.add(_with_header(channel.url, claim)):
        return f"channel {channel.name}: not a URL Apprise can use"
    with apprise.LogCapture(level=logging.WARNING) as captured:
        ok = app.notify(
            title=claim.title,
            body=claim.body + footer(claim),
            body_format=apprise.NotifyFormat.TEXT,
            notify_type=_notify_type(claim.severity),
        )
        log = captured.getvalue()
    if ok:
        return None
    reasons = " ".join(line.strip() for line in log.splitlines() if line.strip())[-400:]
    return f"channel {channel.name}: {redact(reasons, channel.url) or 'delivery failed'}"
