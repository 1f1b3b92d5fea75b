"""The floor for extraction cost: `requests` + `json`, one RECORD line per record.

No schema, no state, no retries: just follow `next` and print. Used by benchmark_tap.py.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

import requests
from tap_didit.totp import totp_now


def console_token(session: requests.Session, config: dict) -> str:
    auth = config["auth_base_url"]
    body = session.post(
        f"{auth}/programmatic/login/",
        json={"email": config["console_email"], "password": config["console_password"]},
    ).json()
    if body.get("2fa_required"):
        body = session.post(
            f"{auth}/2fa/verify/",
            json={
                "temp_token": body["temp_token"],
                "otp_token": totp_now(config["console_totp_secret"]),
            },
        ).json()
    return body["access_token"]


def walk(session: requests.Session, stream: str, url: str, headers: dict, out) -> int:
    count = 0
    while url:
        body = session.get(url, headers=headers, timeout=60).json()
        for record in body["results"]:
            out.write(json.dumps({"type": "RECORD", "stream": stream, "record": record}) + "\n")
            count += 1
        url = body.get("next")
    return count


def main(config_path: str) -> None:
    config = json.loads(Path(config_path).read_text())
    session = requests.Session()
    base, limit = config["base_url"], config["page_size"]
    key = {"x-api-key": config["api_key"]}
    bearer = {"Authorization": f"Bearer {console_token(session, config)}"}
    audit = f"{config['console_base_url']}/audit/{config['organization_id']}/audit-logs/"
    out = sys.stdout
    walk(session, "audit_logs", f"{audit}?limit={config['audit_logs_page_size']}", bearer, out)
    for kind in ("user", "business"):
        walk(session, "sessions", f"{base}/sessions/?limit={limit}&session_kind={kind}", key, out)
    for stream in ("users", "businesses", "workflows"):
        walk(session, stream, f"{base}/{stream}/?limit={limit}", key, out)


if __name__ == "__main__":
    main(sys.argv[1])
