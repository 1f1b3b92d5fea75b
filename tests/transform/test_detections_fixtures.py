"""SIEM and IAM detections on hand-written vendor-format data (issue 17).

The alerts, Keycloak rows and Didit entries of tests/transform/fixtures/detections/cases.py are
loaded into the raw tables of a database of their own and a real `dbt build` of the detection
models and everything they rest on is run on it. Each detection has a positive case, near
misses (one below the threshold, outside the window, a different source address) and a benign
look-alike; the cases use their own addresses and accounts so a wrong rule cannot be hidden by
another case. Assertions read the intermediate models (raw addresses) and the marts
(pseudonyms only).
"""

from __future__ import annotations

import hashlib
import hmac
import json
import subprocess
from pathlib import Path

import psycopg
import pytest
from psycopg import sql
from psycopg.rows import dict_row

from tests.transform.conftest import TEST_PSEUDONYM_KEY, TRANSFORM, dbt_env, dbt_executable
from tests.transform.fixtures.detections import cases
from tests.transform.test_staging_quarantine import FIRST_LOAD, upsert

pytestmark = pytest.mark.integration

RAW_TABLES = Path(__file__).parent / "fixtures" / "bad_input" / "raw_tables.sql"
DB = "nis2_detections"
DBT_VARS = json.dumps({"as_of": "2026-10-10T12:00:00+00:00"})
SELECT = [
    "resource_type:seed",
    "+mart_nis2_siem_detections",
    "+mart_nis2_iam_admin_detections",
    "+mart_nis2_correlated_findings",
    "+mart_nis2_forensic_timeline",
]
INT = "analytics_intermediate"
MART = "analytics_nis2"


def pseudonym(value: str) -> str:
    """What macro pseudonymise gives: 'p_' + 24 hex digits of HMAC-SHA256(key, lower(value))."""
    digest = hmac.new(TEST_PSEUDONYM_KEY.encode(), value.lower().encode(), hashlib.sha256)
    return "p_" + digest.hexdigest()[:24]


@pytest.fixture(scope="module")
def built(admin_conninfo, tmp_path_factory) -> str:
    with psycopg.connect(admin_conninfo, autocommit=True) as conn:
        conn.execute(sql.SQL("drop database if exists {} with (force)").format(sql.Identifier(DB)))
        conn.execute(sql.SQL("create database {}").format(sql.Identifier(DB)))
    conninfo = admin_conninfo.replace("dbname=postgres", f"dbname={DB}")
    with psycopg.connect(conninfo, autocommit=True) as conn:
        conn.execute(RAW_TABLES.read_text())
        alerts = cases.wazuh_alerts()
        upsert(conn, "tap_wazuh.wazuh_alerts", alerts, FIRST_LOAD)
        incidents = cases.incident_register()
        incidents[0]["linked_alert_ids"] = ";".join(
            a["id"] for a in alerts if a.get("data", {}).get("srcip") == "198.18.5.5"
        )
        upsert(conn, "tap_incidents.incident_register", incidents, FIRST_LOAD)
        for table, rows in cases.keycloak().items():
            upsert(conn, f"tap_keycloak.{table}", rows, FIRST_LOAD)
        upsert(conn, "tap_didit.audit_logs", cases.didit_audit_logs(), FIRST_LOAD)
    work = tmp_path_factory.mktemp("dbt-detections")
    env = dbt_env(conninfo, work, f"-c nis2.pseudonym_key={TEST_PSEUDONYM_KEY}", dbname=DB)
    # cautious: a test runs only when every model it reads was built here
    args = ["build", "--select", *SELECT, "--indirect-selection", "cautious"]
    args += ["--exclude", "tag:log_integrity_verification"]
    args += ["--exclude-resource-type", "unit_test", "--vars", DBT_VARS]
    result = subprocess.run(
        [str(dbt_executable()), *args, "--project-dir", str(TRANSFORM)],
        cwd=TRANSFORM,
        env=env,
        capture_output=True,
        text=True,
        check=False,
        timeout=900,
    )
    assert result.returncode == 0, result.stdout[-5000:]
    assert "ERROR=0" in result.stdout, result.stdout[-3000:]
    yield conninfo
    with psycopg.connect(admin_conninfo, autocommit=True) as conn:
        conn.execute(sql.SQL("drop database if exists {} with (force)").format(sql.Identifier(DB)))


def rows(conninfo: str, schema: str, model: str, where: str = "true", params=()) -> list[dict]:
    query = sql.SQL("select * from {} where {}").format(
        sql.Identifier(schema, model), sql.SQL(where)
    )
    with psycopg.connect(conninfo, row_factory=dict_row) as conn:
        return list(conn.execute(query, params))


def wazuh(conninfo: str, detection_type: str, key: str | None = None) -> list[dict]:
    """Detections of one type, by raw source address or account when key is given."""
    found = []
    for model in ("int_wazuh_auth_detections", "int_wazuh_host_detections"):
        found += rows(conninfo, INT, model, "detection_type = %s", (detection_type,))
    if key is None:
        return found
    return [d for d in found if key in (d["src_ip"], d["account"])]


def iam(conninfo: str, detection_type: str, admin_event: int) -> list[dict]:
    event_id = f"d0000000-0000-4000-8000-{admin_event:012d}"
    return rows(
        conninfo,
        INT,
        "int_keycloak_admin_detections",
        "detection_type = %s and admin_event_id = %s",
        (detection_type, event_id),
    )


# --- brute force (T1110.001) and a success after it (T1078) -----------------------------------


def test_bruteforce_positive(built):
    [d] = wazuh(built, "bruteforce", "203.0.113.50")
    assert d["failures"] == 10
    assert d["peak_in_window"] == 10
    assert d["threshold_used"] == 8
    assert d["window_start"] == cases.at("2026-10-06 10:00:00")
    assert len(d["evidence_alert_ids"].split(";")) == 10


def test_bruteforce_then_success_positive(built):
    [d] = wazuh(built, "bruteforce_then_success", "203.0.113.50")
    assert d["account"] == "deploy"
    assert d["detected_at"] == cases.at("2026-10-06 10:12:00")
    assert d["evidence_alerts"] == 11  # ten failures and the success


def test_bruteforce_near_miss_one_below_threshold(built):
    assert wazuh(built, "bruteforce", "203.0.113.51") == []
    assert wazuh(built, "bruteforce_then_success", "203.0.113.51") == []


def test_bruteforce_near_miss_outside_window(built):
    assert wazuh(built, "bruteforce", "203.0.113.52") == []


def test_bruteforce_then_success_near_miss_other_address_or_too_late(built):
    assert len(wazuh(built, "bruteforce", "203.0.113.53")) == 1
    assert wazuh(built, "bruteforce_then_success", "203.0.113.53") == []
    assert wazuh(built, "bruteforce_then_success", "203.0.113.54") == []


def test_bruteforce_lookalike_aggregate_alerts_and_scanners(built):
    for n in range(55, 65):
        assert wazuh(built, "bruteforce", f"203.0.113.{n}") == [], n


# --- password spray (T1110.003) ---------------------------------------------------------------


def test_password_spray_positive_from_windows_eventdata(built):
    [d] = wazuh(built, "password_spray", "198.18.0.99")
    assert d["distinct_accounts"] == 25
    assert d["peak_in_window"] == 25
    assert d["threshold_used"] == 10


def test_password_spray_near_miss_one_below_threshold(built):
    assert wazuh(built, "password_spray", "198.18.0.98") == []


def test_password_spray_near_miss_outside_window(built):
    assert wazuh(built, "password_spray", "198.18.0.97") == []


def test_password_spray_lookalike_terminal_server_logons(built):
    assert wazuh(built, "password_spray", "10.20.0.7") == []
    assert wazuh(built, "bruteforce", "10.20.0.7") == []


# --- lockout bursts (T1110; TIG 3 in 15 minutes) ----------------------------------------------


def test_lockout_burst_positive(built):
    [d] = wazuh(built, "lockout_burst")
    assert d["lockouts"] == 3
    assert d["threshold_used"] == 3
    assert d["window_start"] == cases.at("2026-10-07 09:00:00")


def test_lockout_burst_near_miss_below_and_outside_window(built):
    days = {d["detected_at"].date() for d in wazuh(built, "lockout_burst")}
    starts = [d["window_start"] for d in wazuh(built, "lockout_burst")]
    assert starts == [cases.at("2026-10-07 09:00:00")], (days, starts)  # not 12:00, not 14:00


def test_lockout_burst_lookalike_failed_logons(built):
    assert all(d["window_start"].hour == 9 for d in wazuh(built, "lockout_burst"))
    assert wazuh(built, "password_spray", "10.20.0.8") == []


# --- critical files changed off-hours ---------------------------------------------------------


def test_critical_file_change_off_hours_positive(built):
    found = {d["file_path"]: d for d in wazuh(built, "critical_file_change_off_hours")}
    assert set(found) == {"/etc/sudoers", "/etc/passwd"}
    assert found["/etc/sudoers"]["mitre_technique"] == "T1548.003"
    assert found["/etc/passwd"]["mitre_technique"] == "T1136.001"
    assert found["/etc/sudoers"]["detected_at"] == cases.at("2026-10-06 23:40:00")


def test_critical_file_change_near_miss_in_working_hours(built):
    times = [d["detected_at"] for d in wazuh(built, "critical_file_change_off_hours")]
    assert cases.at("2026-10-06 10:00:00") not in times


def test_critical_file_change_lookalike_backup_and_web_content(built):
    paths = {d["file_path"] for d in wazuh(built, "critical_file_change_off_hours")}
    assert "/etc/passwd-" not in paths
    assert "/var/www/html/index.php" not in paths


# --- web attack answered 2xx (T1190) ----------------------------------------------------------


def test_web_attack_success_positive(built):
    [d] = wazuh(built, "web_attack_success", "198.18.5.5")
    assert d["window_start"] == cases.at("2026-10-08 08:00:00")
    assert d["detected_at"] == cases.at("2026-10-08 08:20:00")
    assert d["evidence_alerts"] == 2


def test_web_attack_near_miss_answered_403(built):
    assert wazuh(built, "web_attack_success", "198.18.5.6") == []


def test_web_attack_near_miss_other_address(built):
    assert wazuh(built, "web_attack_success", "198.18.5.7") == []
    assert wazuh(built, "web_attack_success", "198.18.5.8") == []


def test_web_attack_near_miss_outside_window(built):
    assert wazuh(built, "web_attack_success", "198.18.5.9") == []


def test_web_attack_lookalike_503s_and_400s(built):
    assert [d["src_ip"] for d in wazuh(built, "web_attack_success")] == ["198.18.5.5"]


# --- privilege escalation: group grants (T1098.007) and repeated sudo (T1548.003) -------------


def test_privileged_group_grant_positive(built):
    [d] = wazuh(built, "privileged_group_grant")
    assert d["group_name"] == "Administrators"
    assert d["account"] == "cn=mallory,ou=staff,dc=acme,dc=example"


def test_privileged_group_grant_near_miss_removal(built):
    accounts = [d["account"] for d in wazuh(built, "privileged_group_grant")]
    assert not any("oscar" in a for a in accounts)


def test_privileged_group_grant_lookalike_unprivileged_group(built):
    accounts = [d["account"] for d in wazuh(built, "privileged_group_grant")]
    assert not any("peggy" in a for a in accounts)


def test_repeated_sudo_root_positive(built):
    [d] = wazuh(built, "repeated_sudo_root", "mallory")
    assert d["peak_in_window"] == 6
    assert d["evidence_alerts"] == 6
    assert d["threshold_used"] == 5


def test_repeated_sudo_root_near_miss_below_and_outside_window(built):
    assert wazuh(built, "repeated_sudo_root", "dave") == []
    assert wazuh(built, "repeated_sudo_root", "erin") == []


def test_repeated_sudo_root_lookalike_many_admins_once_each(built):
    found = {d["account"] for d in wazuh(built, "repeated_sudo_root")}
    assert found == {"mallory", "dan.leaver"}  # dan: the correlation case below


# --- Keycloak admin events --------------------------------------------------------------------


def test_leaver_access_positive_login_after_leave(built):
    [d] = iam(built, "leaver_access", 3)
    assert d["target"] == "dan.leaver@acme.example"
    assert d["disabled_at"] == cases.at("2026-10-05 16:00:00")
    # the Keycloak log-in and the Didit Console log-in after leaving; not the one before
    assert d["logins_after_leave"] == 2
    assert d["last_login_after_leave"] == cases.at("2026-10-07 08:05:00")
    assert d["privileged_entitlements_held"] == 1
    assert d["is_finding"] is True


def test_leaver_disabled_then_deleted_is_recorded_without_finding(built):
    [d] = iam(built, "leaver_access", 1)
    assert d["target"] == "carol.leaver@acme.example"  # resolved from the representation
    assert d["deleted_at"] == cases.at("2026-10-06 09:00:00")
    assert d["logins_after_leave"] == 0
    assert d["is_finding"] is False


def test_leaver_lookalike_profile_update_is_no_leaver(built):
    assert iam(built, "leaver_access", 4) == []


def test_admin_password_reset_positive(built):
    [d] = iam(built, "admin_password_reset", 5)
    assert d["target"] == "bob.ops@acme.example"
    assert d["actor"] == "alice.admin@acme.example"


def test_admin_password_reset_near_miss_failed_and_lookalike_non_admin(built):
    assert iam(built, "admin_password_reset", 6) == []  # the reset failed
    assert iam(built, "admin_password_reset", 7) == []  # not an administrator
    resets = rows(
        built, INT, "int_keycloak_admin_detections", "detection_type = 'admin_password_reset'"
    )
    assert len(resets) == 1  # bob's own UPDATE_PASSWORD is no admin reset


def test_privileged_grant_off_hours_from_outside_positive(built):
    [d] = iam(built, "privileged_grant_unusual", 8)
    assert d["role_name"] == "realm-admin"  # a client role of realm-management
    assert d["local_time"] == "01:48"
    assert d["is_off_hours"] is True
    assert d["is_external_source"] is True
    assert d["target"] == "grace.dev@acme.example"


def test_privileged_grant_in_hours_from_outside_positive(built):
    [d] = iam(built, "privileged_grant_unusual", 9)
    assert d["is_off_hours"] is False
    assert d["is_external_source"] is True


def test_privileged_grant_near_miss_edges_of_working_hours(built):
    assert iam(built, "privileged_grant_unusual", 10) == []  # 07:05 Berlin, office
    assert iam(built, "privileged_grant_unusual", 11) == []  # 18:59 Berlin, office


def test_privileged_grant_lookalike_ordinary_role(built):
    assert iam(built, "privileged_grant_unusual", 12) == []


# --- the marts --------------------------------------------------------------------------------


def test_marts_name_technique_and_annex_and_carry_only_pseudonyms(built):
    siem = rows(built, MART, "mart_nis2_siem_detections")
    iam_rows = rows(built, MART, "mart_nis2_iam_admin_detections")
    assert {d["detection_type"] for d in siem} == {
        "bruteforce",
        "bruteforce_then_success",
        "password_spray",
        "lockout_burst",
        "critical_file_change_off_hours",
        "web_attack_success",
        "privileged_group_grant",
        "repeated_sudo_root",
    }
    for d in siem + iam_rows:
        assert str(d["mitre_technique"]).startswith("T"), d
        assert d["ir_annex"], d
    text = json.dumps(siem + iam_rows, default=str)
    for raw in ("203.0.113.50", "198.18.0.99", "mallory", "dan.leaver", "grace.dev"):
        assert raw not in text, raw
    [spray] = [d for d in siem if d["detection_type"] == "password_spray"]
    assert spray["src_ip_key"] == pseudonym("198.18.0.99")
    assert spray["is_external_source"]
    [grant] = [d for d in iam_rows if d["admin_event_id"].endswith("000000000008")]
    assert grant["target_key"] == pseudonym("grace.dev@acme.example")


# --- cross-source correlation and the forensic timeline ---------------------------------------


def correlations(conninfo: str) -> list[dict]:
    return rows(conninfo, MART, "mart_nis2_correlated_findings")


def test_correlation_by_address_positive(built):
    [c] = [c for c in correlations(built) if c["subject_key"] == pseudonym("203.0.113.50")]
    assert c["key_type"] == "address"
    assert c["sources"] == "keycloak;wazuh"
    assert {"bruteforce", "user_bruteforce"} <= set(c["detection_types"].split(";"))


def test_correlation_by_person_through_the_identity_map(built):
    # Wazuh names him dan.leaver (sudo), Keycloak by his user id (the leaver finding)
    [c] = [
        c for c in correlations(built) if c["subject_key"] == pseudonym("dan.leaver@acme.example")
    ]
    assert c["key_type"] == "person"
    assert c["sources"] == "keycloak;wazuh"
    assert set(c["detection_types"].split(";")) == {"leaver_access", "repeated_sudo_root"}


def test_correlation_near_miss_outside_window_and_lookalike_single_source(built):
    keys = {c["subject_key"] for c in correlations(built)}
    assert pseudonym("198.18.5.5") not in keys  # Keycloak failures three hours after the attack
    assert pseudonym("203.0.113.53") not in keys  # two Wazuh findings: one source only
    assert pseudonym("198.18.0.99") not in keys


def test_timeline_of_a_correlation_lists_every_source_in_time_order(built):
    [c] = [c for c in correlations(built) if c["subject_key"] == pseudonym("203.0.113.50")]
    events = rows(
        built,
        MART,
        "mart_nis2_forensic_timeline",
        "subject_id = %s order by seq",
        (c["correlation_id"],),
    )
    assert [e["seq"] for e in events] == list(range(1, len(events) + 1))
    assert [e["event_ts"] for e in events] == sorted(e["event_ts"] for e in events)
    by_source = {}
    for e in events:
        by_source.setdefault(e["source_system"], []).append(e["event_key"])
    assert len(by_source["wazuh"]) == 11
    assert len(by_source["keycloak"]) == 6
    assert all(k.startswith("stg_keycloak__events:") for k in by_source["keycloak"])
    assert {e["src_ip_key"] for e in events} == {pseudonym("203.0.113.50")}


def test_timeline_of_an_incident_follows_the_addresses_its_detections_name(built):
    events = rows(
        built,
        MART,
        "mart_nis2_forensic_timeline",
        "subject_type = 'incident' and subject_id = 'INC-T-0001' order by event_ts",
    )
    attacker = [e for e in events if e["subject_key"] == pseudonym("198.18.5.5")]
    assert [e["event_type"] for e in attacker] == ["rule 31151 (level 10)", "rule 31106 (level 6)"]
    text = json.dumps(events, default=str)
    assert "198.18.5.5" not in text
    assert "products.php" not in text
