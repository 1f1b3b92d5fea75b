"""Wazuh alerts for the organisation's hosts, laid out as a manager writes them: the live
``alerts/alerts.json`` holds the current day and is rotated at midnight into
``alerts/YYYY/Mon/ossec-alerts-DD.json`` (docs/contracts.md). Archives stay plain JSON lines
(a real manager gzips them unless told not to; README, "Wazuh").

Stock Wazuh rules where they exist (PAM, sshd, web, agent status); Keycloak rules use the
custom range 100200-100299 as a real deployment would, since Wazuh ships no Keycloak ruleset.
"""

from __future__ import annotations

import random
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import orjson

from simulator.clock import EPOCH, day_start, slot_rng, to_epoch_ms
from simulator.keycloak_gen import KeycloakRows
from simulator.schedule import SILENT_AGENT, Schedule
from simulator.wazuh_rules import GDPR_AUTH, MITRE_TACTIC, RULES

MANAGER = "wazuh-manager"
AGENTS = {  # name -> (id, ip)
    "wazuh-manager": ("000", "10.10.1.2"),
    "kc-01": ("001", "10.10.1.11"),
    "api-gw-01": ("002", "10.10.1.12"),
    "bastion-01": ("003", "10.10.1.13"),
}
DIDIT_WEBHOOK_IP = "18.203.201.92"  # Didit's documented static IP for webhook deliveries
CRON_EVERY_MS = 30 * 60_000  # cron sessions open every half hour on every Linux host
NORMAL_MAX_GAP_MINUTES = 45  # 30 +/- 5 min apart, first of a day within 10 min of midnight


def wazuh_ts(ms: int) -> str:
    ts = EPOCH + timedelta(milliseconds=ms)
    return ts.strftime("%Y-%m-%dT%H:%M:%S.") + f"{ms % 1000:03d}+0000"


def _syslog_ts(ms: int) -> str:
    return (EPOCH + timedelta(milliseconds=ms)).strftime("%b %d %H:%M:%S")


class Alerts:
    """Collects alerts; ``id`` is (epoch seconds).(offset in that day's alerts.log)."""

    def __init__(self) -> None:
        self.items: list[tuple[int, dict]] = []
        self.fired: dict[str, int] = {}

    def add(
        self,
        ms: int,
        rule_id: str,
        agent: str,
        location: str,
        decoder: str,
        full_log: str,
        data: dict | None = None,
    ) -> None:
        level, desc, groups, mitre, pci, nist = RULES[rule_id]
        self.fired[rule_id] = self.fired.get(rule_id, 0) + 1
        rule = {
            "id": rule_id,
            "level": level,
            "description": desc,
            "groups": groups,
            "firedtimes": self.fired[rule_id],
            "mail": level >= 12,
        }
        if pci is not None:  # a rule without compliance tags has none of these keys
            rule.update({"pci_dss": pci, "gdpr": GDPR_AUTH, "nist_800_53": nist})
        if mitre:
            rule["mitre"] = {"id": mitre, "tactic": sorted({MITRE_TACTIC[m] for m in mitre})}
        aid, ip = AGENTS[agent]
        alert = {
            "timestamp": wazuh_ts(ms),
            "rule": rule,
            "agent": {"id": aid, "name": agent, **({"ip": ip} if aid != "000" else {})},
            "manager": {"name": MANAGER},
            "id": "",
            "full_log": full_log,
            "decoder": {"name": decoder},
            "data": data or {},
            "location": location,
        }
        self.items.append((ms, alert))

    def finish(self, end_ms: int) -> list[tuple[int, bytes]]:
        """Order by time, assign ids from per-day offsets, drop anything after ``end``."""
        self.items.sort(key=lambda x: (x[0], x[1]["rule"]["id"], x[1]["full_log"]))
        offset, day, out = 0, None, []
        for ms, alert in self.items:
            if ms // 86_400_000 != day:
                day, offset = ms // 86_400_000, 0
            alert["id"] = f"{ms // 1000}.{offset}"
            line = orjson.dumps(alert)
            offset += len(line) + 1
            if ms <= end_ms:
                out.append((ms, line))
        return out


def _cron(alerts: Alerts, rng: random.Random, d: date, sched: Schedule) -> None:
    base = to_epoch_ms(day_start(d))
    gap = (to_epoch_ms(sched.log_gap.start), to_epoch_ms(sched.log_gap.end))
    for agent in ("kc-01", "api-gw-01", "bastion-01"):
        t = base + rng.randrange(0, 10 * 60_000)
        while t < base + 86_400_000:
            if not (agent == SILENT_AGENT and gap[0] <= t < gap[1]):
                pid = rng.randrange(1000, 65000)
                alerts.add(
                    t,
                    "5501",
                    agent,
                    "/var/log/auth.log",
                    "pam",
                    f"{_syslog_ts(t)} {agent} CRON[{pid}]: pam_unix(cron:session): "
                    "session opened for user root(uid=0) by (uid=0)",
                    {"dstuser": "root", "uid": "0"},
                )
            t += CRON_EVERY_MS + rng.randrange(-5 * 60_000, 5 * 60_000)


def _bastion_and_web(alerts: Alerts, rng: random.Random, d: date, admins: list[tuple]) -> None:
    base = to_epoch_ms(day_start(d))
    if d.weekday() < 5:
        for user, ip in admins:
            if rng.random() < 0.4:
                t = base + 8 * 3_600_000 + rng.randrange(0, 9 * 3_600_000)
                port = rng.randrange(40000, 60000)
                alerts.add(
                    t,
                    "5715",
                    "bastion-01",
                    "/var/log/auth.log",
                    "sshd",
                    f"{_syslog_ts(t)} bastion-01 sshd[{port}]: Accepted publickey for "
                    f"{user} from {ip} port {port} ssh2",
                    {"srcip": ip, "srcport": str(port), "dstuser": user},
                )
    for _ in range(rng.randrange(0, 3)):  # internet scanners, one attempt per address
        t = base + rng.randrange(0, 86_400_000)
        ip = f"198.18.{rng.randrange(200, 250)}.{rng.randrange(1, 254)}"
        user = rng.choice(("oracle", "ubuntu", "pi", "git", "postgres"))
        alerts.add(
            t,
            "5710",
            "bastion-01",
            "/var/log/auth.log",
            "sshd",
            f"{_syslog_ts(t)} bastion-01 sshd[{rng.randrange(1000, 9999)}]: Invalid user "
            f"{user} from {ip} port {rng.randrange(30000, 60000)}",
            {"srcip": ip, "srcuser": user},
        )
    if rng.random() < 0.3:
        t = base + rng.randrange(0, 86_400_000)
        ip = f"198.18.{rng.randrange(200, 250)}.{rng.randrange(1, 254)}"
        alerts.add(
            t,
            "31101",
            "api-gw-01",
            "/var/log/nginx/access.log",
            "web-accesslog",
            f'{ip} - - [{_syslog_ts(t)}] "GET /.env HTTP/1.1" 404 153 "-" "Mozilla/5.0"',
            {"srcip": ip, "protocol": "GET", "url": "/.env", "id": "404"},
        )


def _keycloak_alerts(
    alerts: Alerts, kc: KeycloakRows, users: dict[str, str], sched: Schedule, spray_users: int
) -> None:
    """Forwarded Keycloak log lines: one alert per failure, plus correlation rules."""
    gap = (to_epoch_ms(sched.log_gap.start), to_epoch_ms(sched.log_gap.end))
    per_user: dict[str, list[int]] = {}
    per_ip: dict[str, list[tuple[int, str]]] = {}
    for e in kc.tables["event_entity"]:
        t = e["event_time"]
        if gap[0] <= t < gap[1]:
            continue  # the agent on kc-01 is down: nothing reaches the manager
        if e["type"] == "LOGIN_ERROR":
            name = orjson.loads(e["details_json"]).get("username") or users.get(e["user_id"])
            line = (
                f'type="LOGIN_ERROR", realmId="{e["realm_id"]}", clientId="{e["client_id"]}",'
                f' userId="{e["user_id"] or "null"}", ipAddress="{e["ip_address"]}", '
                f'error="{e["error"]}", username="{name}"'
            )
            data = {"srcip": e["ip_address"], "srcuser": name, "error": e["error"]}
            alerts.add(
                t,
                "100210",
                "kc-01",
                "/opt/keycloak/data/log/keycloak.log",
                "keycloak",
                f"{wazuh_ts(t)} WARN  [org.keycloak.events] {line}",
                data,
            )
            fails = per_user.setdefault(name, [])
            fails[:] = [x for x in fails if t - x <= 120_000] + [t]
            if len(fails) >= 5:  # frequency 5 within 120 s
                alerts.add(
                    t,
                    "100211",
                    "kc-01",
                    "/opt/keycloak/data/log/keycloak.log",
                    "keycloak",
                    f"{wazuh_ts(t)} WARN  [org.keycloak.events] {line}",
                    data,
                )
            seen = per_ip.setdefault(e["ip_address"], [])
            seen[:] = [x for x in seen if t - x[0] <= 1_800_000] + [(t, name)]
            if len({n for _, n in seen}) >= spray_users // 2:
                alerts.add(
                    t,
                    "100212",
                    "kc-01",
                    "/opt/keycloak/data/log/keycloak.log",
                    "keycloak",
                    f"{wazuh_ts(t)} WARN  [org.keycloak.events] {line}",
                    data,
                )
        elif e["type"] == "LOGIN" and len(per_ip.get(e["ip_address"], [])) >= 3:
            recent = [x for x, _ in per_ip[e["ip_address"]] if t - x <= 900_000]
            if len(recent) >= 3:
                name = users.get(e["user_id"])
                alerts.add(
                    t,
                    "100213",
                    "kc-01",
                    "/opt/keycloak/data/log/keycloak.log",
                    "keycloak",
                    f'{wazuh_ts(t)} INFO  [org.keycloak.events] type="LOGIN", '
                    f'userId="{e["user_id"]}", ipAddress="{e["ip_address"]}", '
                    f'username="{name}"',
                    {"srcip": e["ip_address"], "srcuser": name},
                )
    for e in kc.tables["admin_event_entity"]:
        t = e["admin_event_time"]
        granted = e["resource_type"] == "REALM_ROLE_MAPPING" and e["operation_type"] == "CREATE"
        if granted and not gap[0] <= t < gap[1]:  # rule 100220 matches created mappings only
            actor = users.get(e["auth_user_id"])
            alerts.add(
                t,
                "100220",
                "kc-01",
                "/opt/keycloak/data/log/keycloak.log",
                "keycloak",
                f'{wazuh_ts(t)} INFO  [org.keycloak.events] operationType="CREATE", '
                f'resourceType="REALM_ROLE_MAPPING", resourcePath="{e["resource_path"]}",'
                f' authUserId="{e["auth_user_id"]}", ipAddress="{e["ip_address"]}"',
                {
                    "srcip": e["ip_address"],
                    "srcuser": actor,
                    "dstuser": users.get(e["resource_path"].split("/")[1]),
                },
            )


def _outage_and_gap(alerts: Alerts, rng: random.Random, sched: Schedule) -> None:
    t = to_epoch_ms(sched.webhook_outage.start)
    while t < to_epoch_ms(sched.webhook_outage.end):
        alerts.add(
            t,
            "31123",
            "api-gw-01",
            "/var/log/nginx/access.log",
            "web-accesslog",
            f'{DIDIT_WEBHOOK_IP} - - [{_syslog_ts(t)}] "POST /webhooks/didit/ HTTP/1.1" '
            '503 197 "-" "DiditWebhook/2.0 +https://didit.me"',
            {"srcip": DIDIT_WEBHOOK_IP, "protocol": "POST", "url": "/webhooks/didit/", "id": "503"},
        )
        t += rng.randrange(2 * 60_000, 9 * 60_000)
    down = to_epoch_ms(sched.log_gap.start) + 11 * 60_000
    alerts.add(
        down,
        "504",
        MANAGER,
        "wazuh-monitord",
        "ossec",
        f"Agent disconnected: '{SILENT_AGENT}-any'.",
        {"agent_name": SILENT_AGENT},
    )
    up = to_epoch_ms(sched.log_gap.end) + 40_000
    alerts.add(
        up,
        "503",
        SILENT_AGENT,
        "wazuh-agent",
        "ossec",
        f"ossec: Agent started: '{SILENT_AGENT}->any'.",
        {},
    )


LIVE_FILE = "alerts.json"  # the manager's current day, beside the YYYY/ archive folders
_MONTHS = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")


def daily_file(root: Path, day: date) -> Path:
    """Where Wazuh archives one day's alerts: ``YYYY/Mon/ossec-alerts-DD.json``."""
    return root / f"{day.year}" / _MONTHS[day.month - 1] / f"ossec-alerts-{day.day:02d}.json"


def alert_files(root: Path) -> list[Path]:
    """The daily archives under ``root`` in date order (not the live ``alerts.json``)."""

    def day_of(p: Path) -> tuple[int, int, int]:
        return int(p.parent.parent.name), _MONTHS.index(p.parent.name), int(p.stem[-2:])

    return sorted(root.glob("*/*/ossec-alerts-*.json"), key=day_of)


def read_alert_lines(root: Path):
    """Every alert line under ``root``: the archives oldest first, then the live file."""
    live = root / LIVE_FILE
    for path in [*alert_files(root), *([live] if live.exists() else [])]:
        with path.open("rb") as fh:
            yield from (line for line in fh if line.strip())


def _day_of_first_alert(content: bytes) -> date | None:
    first = content.split(b"\n", 1)[0]
    if not first.strip():
        return None
    return date.fromisoformat(orjson.loads(first)["timestamp"][:10])


def _replace(path: Path, content: bytes) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(".tmp")
    tmp.write_bytes(content)
    tmp.replace(path)  # readers never see half a file


def _append_or_replace(path: Path, content: bytes) -> None:
    """Grow the file in place when it holds a prefix of ``content`` (as Wazuh appends)."""
    old = path.read_bytes() if path.exists() else None
    if old is not None and content.startswith(old):
        if len(content) > len(old):
            with path.open("ab") as fh:
                fh.write(content[len(old) :])
        return
    _replace(path, content)


def _rotate_live(root: Path, by_day: dict[date, bytes], today: date) -> None:
    """Wazuh's midnight rotation: the live file, completed, is renamed to its day's archive."""
    live = root / LIVE_FILE
    if not live.exists():
        return
    day = _day_of_first_alert(live.read_bytes())
    archive = daily_file(root, day) if day else None
    if day is None or day == today or archive.exists() or day not in by_day:
        return
    _append_or_replace(live, by_day[day])
    archive.parent.mkdir(parents=True, exist_ok=True)
    live.replace(archive)  # a rename keeps the inode, as on a real manager


def _write_days(root: Path, lines: list[tuple[int, bytes]], today: date) -> None:
    """Completed days in daily archives, ``today`` in the live file (docs/contracts.md).

    An unchanged archive is never rewritten; the live file only grows until it is rotated,
    so a reader can resume where it stopped. Archives of days that no longer exist go.
    """
    grouped: dict[date, list[bytes]] = {}
    for ms, line in lines:
        grouped.setdefault((EPOCH + timedelta(milliseconds=ms)).date(), []).append(line)
    by_day = {d: b"".join(x + b"\n" for x in day) for d, day in grouped.items()}
    _rotate_live(root, by_day, today)
    wanted = {daily_file(root, d): content for d, content in by_day.items() if d != today}
    for path in alert_files(root):
        if path not in wanted:
            path.unlink()
    for path, content in wanted.items():
        if not (path.exists() and path.read_bytes() == content):
            _replace(path, content)
    _append_or_replace(root / LIVE_FILE, by_day.get(today, b""))


def generate_wazuh(
    root: Path,
    seed: int,
    sched: Schedule,
    days: list[date],
    end: datetime,
    kc: KeycloakRows,
    kc_users: dict[str, str],
    admins: list[tuple],
    spray_users: int,
) -> int:
    """Write the daily alert files under ``root``; returns the number of alerts."""
    alerts = Alerts()
    for d in days:
        rng = slot_rng(seed, d.isoformat(), "wazuh")
        _cron(alerts, rng, d, sched)
        _bastion_and_web(alerts, rng, d, admins)
    _keycloak_alerts(alerts, kc, kc_users, sched, spray_users)
    _outage_and_gap(alerts, slot_rng(seed, "scenario", "wazuh"), sched)
    lines = alerts.finish(to_epoch_ms(end))
    _write_days(root, lines, end.astimezone(UTC).date())
    return len(lines)


def last_and_first_around_gap(root: Path, sched: Schedule) -> tuple[str | None, str | None]:
    """The silent agent's last alert before the gap and first after it (ground truth)."""
    before = None
    for line in read_alert_lines(root):
        a = orjson.loads(line)
        if a["agent"]["name"] != SILENT_AGENT:
            continue
        if datetime.strptime(a["timestamp"], "%Y-%m-%dT%H:%M:%S.%f%z") < sched.log_gap.start:
            before = a["timestamp"]
        else:
            return before, a["timestamp"]
    return before, None
