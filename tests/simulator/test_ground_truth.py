"""The manifest's promises hold in the generated data, in every source they name."""

from __future__ import annotations

import csv
import itertools
import json
import sqlite3
from collections import Counter
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from sim_client import walk

from report.period import last_full_month
from simulator.thresholds import (
    early_warning_hours,
    loss_threshold_eur,
    notification_hours,
    recurring_window_months,
)
from simulator.wazuh_gen import read_alert_lines

MARTS = {
    "mart_nis2_incident_register",
    "mart_nis2_significance_assessment",
    "mart_nis2_recurring_incident_check",
    "mart_nis2_reporting_deadlines",
    "mart_nis2_auth_failure_detections",
    "mart_nis2_privileged_activity",
    "mart_nis2_access_review_status",
    "mart_nis2_access_anomalies",
    "mart_nis2_api_activity_daily",
    "mart_nis2_log_ingestion_gaps",
    "mart_nis2_mfa_coverage",
    "mart_nis2_siem_alert_handling",
    "mart_nis2_siem_detections",
    "mart_nis2_iam_admin_detections",
    "mart_nis2_correlated_findings",
}
# Marts whose rows name a person or an address (as pseudonyms) and a time: every expectation of
# one is tied to the planted actor or address and to the scenario's time window.
PEOPLE_AND_TIME = {
    "mart_nis2_auth_failure_detections",
    "mart_nis2_privileged_activity",
    "mart_nis2_access_anomalies",
    "mart_nis2_siem_detections",
    "mart_nis2_iam_admin_detections",
    "mart_nis2_correlated_findings",
}


def ts(text: str) -> datetime:
    return datetime.fromisoformat(text.replace("Z", "+00:00").replace("+0000", "+00:00"))


@pytest.fixture(scope="module")
def data(world: Path) -> dict:
    conn = sqlite3.connect(world / "didit" / "didit.sqlite")
    audit = [json.loads(b) for (b,) in conn.execute("SELECT body FROM audit_log")]
    reviews = [json.loads(b) for (b,) in conn.execute("SELECT body FROM reviews")]
    deliveries = [json.loads(b) for (b,) in conn.execute("SELECT body FROM deliveries")]
    conn.close()
    kc = {
        t: [json.loads(x) for x in (world / f"keycloak/{t}.jsonl").read_text().split("\n") if x]
        for t in (
            "event_entity",
            "admin_event_entity",
            "user_entity",
            "user_attribute",
            "user_role_mapping",
        )
    }
    alerts = [json.loads(x) for x in read_alert_lines(world / "wazuh" / "alerts")]
    with (world / "incidents/incident_register.csv").open() as fh:
        incidents = {r["incident_id"]: r for r in csv.DictReader(fh)}
    return {
        "audit": audit,
        "reviews": reviews,
        "deliveries": deliveries,
        "kc": kc,
        "alerts": alerts,
        "incidents": incidents,
    }


def scenario(truth: dict, sid: str) -> dict:
    return next(s for s in truth["scenarios"] if s["id"] == sid)


def within(when: datetime, window: dict, slack: timedelta = timedelta(0)) -> bool:
    return ts(window["start"]) - slack <= when <= ts(window["end"]) + slack


def kc_time(event: dict) -> datetime:
    return datetime.fromtimestamp(event["event_time"] / 1000, tz=ts("2026-01-01T00:00:00Z").tzinfo)


def test_manifest_lists_every_scenario_with_marts_from_the_reference(ground_truth):
    ids = {s["id"] for s in ground_truth["scenarios"]}
    assert ids == {
        "brute_force",
        "password_spray",
        "bulk_read",
        "api_key_new_country",
        "unapproved_role_grant",
        "leaver_access_active",
        "webhook_outage",
        "log_source_silent",
        "significant_incident_late_notification",
        "significant_incident_reported_month",
        "recurring_incidents",
        "planned_maintenance",
        "privileged_login_without_mfa",
    }
    for s in ground_truth["scenarios"]:
        assert s["expect"], s["id"]
        for e in s["expect"]:
            assert e["mart"] in MARTS
            assert ("min_rows" in e) != ("max_rows" in e)
    assert ground_truth["clean_periods"]


def test_every_detection_expectation_names_its_planted_actor_and_window(ground_truth):
    loose = []
    for s in ground_truth["scenarios"]:
        planted = {v for v in s["identifiers"].values() if isinstance(v, str)}
        for e in s["expect"]:
            if e["mart"] == "mart_nis2_access_review_status" and "min_rows" in e:
                # judged at as_of: tied to the person only
                if set(e.get("pseudonymised", {}).values()) - planted or not e.get("pseudonymised"):
                    loose.append((s["id"], e["mart"], e["match"]))
                continue
            if e["mart"] not in PEOPLE_AND_TIME or "max_rows" in e:
                continue
            if e["match"].get("unapproved_assignment") is False:
                continue  # "some approved grant exists": the negative contrast, no actor
            who = e.get("pseudonymised", {})
            if e["mart"] == "mart_nis2_iam_admin_detections" and "window" not in e:
                # the proper leaver's disabling: the day comes from the HR feed
                ok = bool(who) and set(who.values()) <= planted
            else:
                ok = bool(who) and set(who.values()) <= planted and "window" in e
            if ok and "window" in e:
                # inside the scenario, or a consequence within two days of it (retries)
                ok = ts(s["window"]["start"]) - timedelta(hours=1) <= ts(e["window"]["start"])
                ok = ok and ts(e["window"]["end"]) <= ts(s["window"]["end"]) + timedelta(days=2)
            if not ok:
                loose.append((s["id"], e["mart"], e["match"]))
    assert not loose, loose


def test_period_bounds_cover_every_finding_mart(ground_truth):
    bounded = {b["mart"] for b in ground_truth["period_bounds"]}
    assert bounded == {
        "mart_nis2_auth_failure_detections",
        "mart_nis2_siem_detections",
        "mart_nis2_iam_admin_detections",
        "mart_nis2_correlated_findings",
    }
    assert all(b["outside_scenarios_max_rows"] == 0 for b in ground_truth["period_bounds"])
    assert ground_truth["noise_limits"]["failed_logins_per_user_per_day"] == 1


def test_counts_are_the_rows_each_source_really_has(ground_truth, data, world, client):
    counts = ground_truth["counts"]
    assert counts["wazuh.alerts"] == len(data["alerts"])
    assert counts["didit.audit_logs"] == len(data["audit"])
    assert counts["didit.session_reviews"] == len(data["reviews"])
    for table, rows in data["kc"].items():
        assert counts[f"keycloak.{table}"] == len(rows)
    assert counts["incidents.incident_register"] == len(data["incidents"])
    assert counts["didit.sessions_user"] == client.get("/v3/sessions/?limit=1").json()["count"]
    served = sum(
        len(_all(client, f"/v3/webhook/destinations/{d['uuid']}/deliveries/"))
        for d in client.get("/v3/webhook/destinations/").json()
    )
    assert counts["didit.webhook_deliveries"] == served


def _all(client, url):
    return walk(client, url + "?limit=100")


def test_brute_force_is_visible_in_keycloak_didit_and_wazuh(ground_truth, data):
    s = scenario(ground_truth, "brute_force")
    ids, win = s["identifiers"], s["window"]
    fails = [
        e
        for e in data["kc"]["event_entity"]
        if e["type"] == "LOGIN_ERROR"
        and e["user_id"] == ids["keycloak_user_id"]
        and e["ip_address"] == ids["src_ip"]
    ]
    assert len(fails) >= 10
    assert all(within(kc_time(e), win, timedelta(minutes=5)) for e in fails)
    assert any(
        e["type"] == "USER_DISABLED_BY_TEMPORARY_LOCKOUT"
        and e["user_id"] == ids["keycloak_user_id"]
        for e in data["kc"]["event_entity"]
    )
    console = [
        a
        for a in data["audit"]
        if a["ip_address"] == ids["src_ip"] and a["request_body"]["email"] == ids["user_email"]
    ]
    assert len(console) >= 10
    assert {a["status_code"] for a in console} <= {401, 429}
    siem = [
        a
        for a in data["alerts"]
        if a["rule"]["id"] == ids["wazuh_rule_id"] and a["data"]["srcip"] == ids["src_ip"]
    ]
    assert siem
    linked = data["incidents"][ids["incident_id"]]["linked_alert_ids"].split(";")
    assert set(linked) == {a["id"] for a in siem}


def test_password_spray_hits_many_users_from_one_address_then_one_succeeds(ground_truth, data):
    ids = scenario(ground_truth, "password_spray")["identifiers"]
    events = [e for e in data["kc"]["event_entity"] if e["ip_address"] == ids["src_ip"]]
    users = {
        json.loads(e["details_json"])["username"] for e in events if e["type"] == "LOGIN_ERROR"
    }
    assert len(users) >= 15
    assert [e["user_id"] for e in events if e["type"] == "LOGIN"] == [
        ids["compromised_keycloak_user_id"]
    ]
    rules = {a["rule"]["id"] for a in data["alerts"] if a["data"].get("srcip") == ids["src_ip"]}
    assert set(ids["wazuh_rule_ids"]) <= rules
    emails = {a["request_body"]["email"] for a in data["audit"] if a["ip_address"] == ids["src_ip"]}
    assert len(emails) >= 10


def test_bulk_read_is_far_above_any_other_day_of_detail_views(ground_truth, data):
    s = scenario(ground_truth, "bulk_read")
    ids = s["identifiers"]
    views = [
        r for r in data["reviews"] if (r["metadata"] or {}).get("system_event") == "DETAIL_VIEWED"
    ]
    planted = [
        r
        for r in views
        if r["actor_email"] == ids["user_email"]
        and within(ts(r["created_at"]), s["window"], timedelta(minutes=1))
    ]
    assert len(planted) == ids["sessions_viewed"] >= 50
    per_day = Counter((r["actor_email"], r["created_at"][:10]) for r in views if r not in planted)
    assert max(per_day.values()) * 5 < len(planted)


def test_the_api_key_is_used_from_a_new_country_only_at_night(ground_truth, data):
    s = scenario(ground_truth, "api_key_new_country")
    ids = s["identifiers"]
    mine = [a for a in data["audit"] if a["api_key_name"] == ids["api_key_name"]]
    foreign = [a for a in mine if a["country"] == ids["country"]]
    first_foreign = min(ts(a["timestamp"]) for a in foreign)
    assert within(first_foreign, s["window"])
    assert first_foreign.hour < 6
    assert {a["country"] for a in mine if ts(a["timestamp"]) < first_foreign} == {"DE"}
    assert {a["ip_address"] for a in foreign} == {ids["src_ip"]}


def test_only_the_planted_role_grant_lacks_an_approval_ticket(ground_truth, data):
    ids = scenario(ground_truth, "unapproved_role_grant")["identifiers"]
    grants = [
        e
        for e in data["kc"]["admin_event_entity"]
        if e["resource_type"] == "REALM_ROLE_MAPPING" and e["operation_type"] == "CREATE"
    ]
    unapproved = [e for e in grants if not e["details_json"]]
    assert [e["resource_path"] for e in unapproved] == [
        f"users/{ids['target_keycloak_user_id']}/role-mappings/realm"
    ]
    assert all(
        json.loads(e["details_json"])["approval_ticket_id"] for e in grants if e not in unapproved
    )
    role = json.loads(unapproved[0]["representation"])[0]["name"]
    assert role == ids["role"]
    assert any(
        a["path"].endswith("/members/") is False
        and a["method"] == "PATCH"
        and a["request_body"] == {"role": "Admin"}
        for a in data["audit"]
    )


def test_the_leaver_stays_enabled_and_keeps_signing_in(ground_truth, data):
    ids = scenario(ground_truth, "leaver_access_active")["identifiers"]
    attrs = {(a["user_id"], a["name"]): a["value"] for a in data["kc"]["user_attribute"]}
    assert attrs[(ids["keycloak_user_id"], "employment_end_date")] == ids["employment_end_date"]
    users = {u["id"]: u for u in data["kc"]["user_entity"]}
    assert users[ids["keycloak_user_id"]]["enabled"] is True
    assert users[ids["proper_leaver_keycloak_user_id"]]["enabled"] is False
    left = ts(ids["employment_end_date"] + "T23:59:59Z")
    logins = [e for e in data["kc"]["event_entity"] if e["type"] == "LOGIN"]
    assert any(e["user_id"] == ids["keycloak_user_id"] and kc_time(e) > left for e in logins)
    proper_end = ts(
        attrs[(ids["proper_leaver_keycloak_user_id"], "employment_end_date")] + "T23:59:59Z"
    )
    assert not any(
        e["user_id"] == ids["proper_leaver_keycloak_user_id"] and kc_time(e) > proper_end
        for e in logins
    )
    assert any(a["actor"] == ids["user_email"] and ts(a["timestamp"]) > left for a in data["audit"])


def test_the_silent_log_source_has_one_long_gap_and_otherwise_short_ones(ground_truth, data):
    s = scenario(ground_truth, "log_source_silent")
    ids = s["identifiers"]
    stamps = sorted(
        ts(a["timestamp"]) for a in data["alerts"] if a["agent"]["name"] == ids["agent"]
    )
    gaps = sorted(((b - a), a) for a, b in itertools.pairwise(stamps))
    longest, started = gaps[-1]
    assert longest >= timedelta(hours=7)
    assert started == ts(ids["last_alert_before"])
    assert gaps[-2][0] <= timedelta(minutes=ids["normal_max_gap_minutes"])
    assert any(
        a["rule"]["id"] == "504" and within(ts(a["timestamp"]), s["window"]) for a in data["alerts"]
    )


def test_webhook_failures_happen_only_during_the_outage(ground_truth, data):
    s = scenario(ground_truth, "webhook_outage")
    failed = [d for d in data["deliveries"] if d["http_status"] != 200]
    assert failed
    assert all(within(ts(d["created_at"]), s["window"], timedelta(minutes=10)) for d in failed)
    assert {d["attempt"] for d in failed} == {1, 2, 3}


def test_the_significant_incident_is_late_only_for_the_72_hour_notification(ground_truth, data):
    ids = scenario(ground_truth, "significant_incident_late_notification")["identifiers"]
    row = data["incidents"][ids["incident_id"]]
    aware = ts(row["aware_at"])
    assert aware == ts(ids["aware_at"])
    assert ts(row["early_warning_submitted_at"]) - aware <= timedelta(hours=early_warning_hours())
    assert ts(row["notification_submitted_at"]) - aware > timedelta(hours=notification_hours())
    assert ids["fin_threshold_eur"] == loss_threshold_eur(
        ground_truth["organisation"]["turnover_prev_fy_eur"]
    )
    assert int(row["estimated_direct_loss_eur"]) > ids["fin_threshold_eur"]
    assert row["suspected_malicious"] == "yes"
    assert row["cia_compromised"] == "true"


def test_the_reported_month_holds_a_significant_incident_with_its_stages(ground_truth, data):
    """The demo reports the last full month before its end: a significant incident lies in it,
    with the facts of IR Art. 3(1)(e) and each stage filed within its Art. 23(4) time."""
    ids = scenario(ground_truth, "significant_incident_reported_month")["identifiers"]
    row = data["incidents"][ids["incident_id"]]
    end = ts(ground_truth["period"]["end"])
    aware = ts(row["aware_at"])
    # the pipeline tests run to `end` and then one day more, and report the last full month
    assert aware.strftime("%Y-%m") == last_full_month(end + timedelta(days=1))
    assert ts(row["started_at"]) < ts(row["detected_at"]) <= aware
    assert row["unauthorised_access_successful"] == row["severe_disruption_capable"] == "true"
    assert row["suspected_malicious"] == "yes"
    assert row["significance_decision"] == "significant"
    assert ts(row["early_warning_submitted_at"]) - aware <= timedelta(hours=early_warning_hours())
    assert ts(row["notification_submitted_at"]) - aware <= timedelta(hours=notification_hours())
    assert ts(row["intermediate_submitted_at"]) <= ts(row["intermediate_due_at"])
    assert row["personal_data_breach"] == "yes"
    assert row["gdpr_notified_at"]
    assert row["threat_type"]
    assert row["affected_services"]
    assert row["mitigation_measures"]
    assert any(i.startswith("sha256:") for i in row["iocs"].split(";"))


def test_recurring_incidents_meet_art_4_only_together(ground_truth, data):
    ids = scenario(ground_truth, "recurring_incidents")["identifiers"]
    rows = [data["incidents"][i] for i in ids["incident_ids"]]
    losses = [int(r["estimated_direct_loss_eur"]) for r in rows]
    assert {r["root_cause_key"] for r in rows} == {ids["root_cause_key"]}
    limit = loss_threshold_eur(ground_truth["organisation"]["turnover_prev_fy_eur"])
    assert all(x < limit for x in losses)
    assert sum(losses) == ids["sum_direct_loss_eur"] > limit
    detected = [ts(r["detected_at"]) for r in rows]
    # a month has at least 28 days: inside that many, surely inside the regulation's window
    assert max(detected) - min(detected) < timedelta(days=28 * recurring_window_months())
    other = [
        int(r["estimated_direct_loss_eur"])
        for r in data["incidents"].values()
        if r["root_cause_key"] == "RC-CREDENTIAL-ATTACK"
    ]
    assert len(other) >= 2
    assert sum(other) < limit


def test_clean_periods_hold_no_auth_bursts_new_countries_or_gaps(ground_truth, data):
    for period in ground_truth["clean_periods"]:
        fails = Counter(
            (e["user_id"], kc_time(e).date())
            for e in data["kc"]["event_entity"]
            if e["type"] == "LOGIN_ERROR" and within(kc_time(e), period)
        )
        assert max(fails.values(), default=0) <= 1
        countries = {a["country"] for a in data["audit"] if within(ts(a["timestamp"]), period)}
        assert countries <= {"DE", "ES", "SE", "IT", "IE", None}
        stamps = sorted(
            ts(a["timestamp"])
            for a in data["alerts"]
            if a["agent"]["name"] == "kc-01" and within(ts(a["timestamp"]), period)
        )
        assert max(b - a for a, b in itertools.pairwise(stamps)) < timedelta(hours=1)


def test_thresholds_come_from_the_seed_and_an_unknown_code_is_named(tmp_path, monkeypatch):
    from simulator import thresholds

    seed = tmp_path / "nis2_thresholds.csv"
    seed.write_text(
        thresholds.SEED.read_text(encoding="utf-8").replace(
            "ART23_NOTIFICATION_HOURS,all,art23_4_b,72,",
            "ART23_NOTIFICATION_HOURS,all,art23_4_b,48,",
        ),
        encoding="utf-8",
    )
    monkeypatch.setattr(thresholds, "SEED", seed)
    thresholds._rows.cache_clear()
    try:
        assert thresholds.notification_hours() == 48
        with pytest.raises(KeyError, match="NO_SUCH_CODE"):
            thresholds.threshold("NO_SUCH_CODE")
    finally:
        thresholds._rows.cache_clear()


def test_the_revoked_role_mapping_was_granted_then_deleted_by_ticket(ground_truth, data):
    (revoked,) = ground_truth["role_revocations"]
    path = f"users/{revoked['user_id']}/role-mappings/realm"
    changes = {
        e["operation_type"]: e
        for e in data["kc"]["admin_event_entity"]
        if e["resource_path"] == path and revoked["role_id"] in (e["representation"] or "")
    }
    assert set(changes) == {"CREATE", "DELETE"}
    at = {
        op: datetime.fromtimestamp(e["admin_event_time"] / 1000, UTC) for op, e in changes.items()
    }
    assert at["CREATE"] == ts(revoked["granted_at"]) < at["DELETE"] == ts(revoked["revoked_at"])
    assert json.loads(changes["DELETE"]["details_json"]) == {
        "approval_ticket_id": revoked["approval_ticket_id"]
    }
    current = {(m["role_id"], m["user_id"]) for m in data["kc"]["user_role_mapping"]}
    assert (revoked["role_id"], revoked["user_id"]) not in current
    assert revoked["user_id"] in {u for _, u in current}  # the user keeps their other roles
    role_alerts = [a for a in data["alerts"] if a["rule"]["id"] == "100220"]
    assert not any(ts(a["timestamp"]) == at["DELETE"] for a in role_alerts)
