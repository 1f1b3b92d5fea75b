"""Pagination, ordering and filters of the public API, as Didit's spec describes them."""

from __future__ import annotations

import sqlite3
from concurrent.futures import ThreadPoolExecutor
from datetime import date, timedelta

import pytest
from sim_client import Client, walk

from simulator.console_routes import audit_page_query


@pytest.fixture(scope="module")
def db(world):
    conn = sqlite3.connect(world / "didit" / "didit.sqlite")
    yield conn
    conn.close()


def test_walking_sessions_returns_every_session_once_newest_first(client, db):
    rows = walk(client, "/v3/sessions/?limit=7")
    numbers = [r["session_number"] for r in rows]
    expected = db.execute("SELECT COUNT(*) FROM sessions WHERE kind='user'").fetchone()[0]
    assert len(numbers) == len(set(numbers)) == expected
    assert numbers == sorted(numbers, reverse=True)


def test_next_and_previous_are_absolute_and_previous_undoes_next(client):
    first = client.get("/v3/sessions/?limit=5&status=Approved").json()
    assert first["previous"] is None
    assert first["next"].startswith(client.base_url + "/v3/sessions/?")
    second = client.get(first["next"]).json()
    assert "status=Approved" in second["next"]
    back = client.get(second["previous"]).json()
    assert back["results"] == first["results"]


def test_a_page_past_the_end_is_empty_with_no_next(client):
    page = client.get("/v3/sessions/?limit=5&offset=100000").json()
    assert page["results"] == []
    assert page["next"] is None


@pytest.mark.parametrize("bad", ["limit=0", "limit=x", "offset=-1"])
def test_malformed_paging_parameters_are_a_400_naming_the_parameter(client, bad):
    reply = client.get(f"/v3/sessions/?{bad}")
    assert reply.status == 400
    assert bad.split("=")[0] in reply.json()


def test_user_count_is_capped_at_100_while_next_still_leads_to_every_user(client, db):
    total = db.execute("SELECT COUNT(*) FROM users").fetchone()[0]
    assert total > 100, "the test world needs more than 100 users"
    assert client.get("/v3/users/?limit=10").json()["count"] == 100
    assert len({u["didit_internal_id"] for u in walk(client, "/v3/users/?limit=40")}) == total


def test_kyc_count_is_exact_and_kyb_count_is_capped(client, db):
    kyc = db.execute("SELECT COUNT(*) FROM sessions WHERE kind='user'").fetchone()[0]
    kyb = db.execute("SELECT COUNT(*) FROM sessions WHERE kind='business'").fetchone()[0]
    assert client.get("/v3/sessions/?limit=1").json()["count"] == kyc
    assert client.get("/v3/sessions/?session_kind=business&limit=1").json()["count"] == min(
        kyb, 100
    )


def test_session_kind_all_puts_a_kyc_page_before_a_kyb_page(client):
    page = client.get("/v3/sessions/?session_kind=all&limit=3").json()
    kinds = [r["session_kind"] for r in page["results"]]
    assert kinds == ["user"] * 3 + ["business"] * 3


def _days(rows) -> set[str]:
    return {r["created_at"][:10] for r in rows}


def test_date_filters_are_inclusive_utc_days_for_kyc(client, db):
    day = db.execute(
        "SELECT substr(created_at,1,10) FROM sessions WHERE kind='user' "
        "GROUP BY 1 ORDER BY COUNT(*) DESC LIMIT 1"
    ).fetchone()[0]
    rows = walk(client, f"/v3/sessions/?date_from={day}&date_to={day}&limit=50")
    expected = db.execute(
        "SELECT COUNT(*) FROM sessions WHERE kind='user' AND substr(created_at,1,10)=?", (day,)
    ).fetchone()[0]
    assert _days(rows) == {day}
    assert len(rows) == expected


def test_kyb_date_to_is_compared_with_midnight_as_the_spec_warns(client, db):
    day = db.execute(
        "SELECT substr(created_at,1,10) FROM sessions WHERE kind='business' "
        "ORDER BY created_at DESC LIMIT 1 OFFSET 3"
    ).fetchone()[0]
    same = walk(client, f"/v3/sessions/?session_kind=business&date_from={day}&date_to={day}")
    nxt = (date.fromisoformat(day) + timedelta(days=1)).isoformat()
    with_next = walk(client, f"/v3/sessions/?session_kind=business&date_from={day}&date_to={nxt}")
    assert same == []
    assert day in _days(with_next)


def test_status_filter_is_a_comma_separated_or(client):
    rows = walk(client, "/v3/sessions/?status=Declined,In%20Review&limit=50")
    assert rows
    assert {r["status"] for r in rows} <= {"Declined", "In Review"}
    assert walk(client, "/v3/sessions/?status=approved") == []  # case-sensitive


def test_vendor_data_filter_is_exact(client):
    vendor = client.get("/v3/sessions/?limit=1").json()["results"][0]["vendor_data"]
    rows = walk(client, f"/v3/sessions/?vendor_data={vendor}")
    assert rows
    assert {r["vendor_data"] for r in rows} == {vendor}


def test_reviews_default_newest_first_and_ordering_created_at_oldest_first(client, db):
    sid = db.execute(
        "SELECT session_id FROM reviews GROUP BY session_id ORDER BY COUNT(*) DESC LIMIT 1"
    ).fetchone()[0]
    newest = walk(client, f"/v3/sessions/{sid}/reviews/?limit=1")
    oldest = walk(client, f"/v3/sessions/{sid}/reviews/?ordering=created_at&limit=1")
    ignored = walk(client, f"/v3/sessions/{sid}/reviews/?ordering=bogus&limit=1")
    assert len(newest) > 1
    assert [r["uuid"] for r in oldest] == [r["uuid"] for r in reversed(newest)]
    assert ignored == newest


def test_detail_views_are_in_the_activity_feed(client, db):
    sid = db.execute(
        "SELECT session_id FROM reviews WHERE CAST(body AS TEXT) LIKE '%DETAIL_VIEWED%' LIMIT 1"
    ).fetchone()[0]
    feed = walk(client, f"/v3/sessions/{sid}/reviews/")
    views = [r for r in feed if (r["metadata"] or {}).get("system_event") == "DETAIL_VIEWED"]
    assert views
    assert {(r["activity_type"], r["actor_type"]) for r in views} == {("COMMENT", "CONSOLE_USER")}


def test_webhook_destinations_are_a_bare_array_oldest_first(client):
    dests = client.get("/v3/webhook/destinations/").json()
    assert isinstance(dests, list)
    assert len(dests) == 2
    assert [d["created_at"] for d in dests] == sorted(d["created_at"] for d in dests)
    assert all("secret_shared_key" not in d for d in dests)


def test_deliveries_keep_30_days_newest_first_and_filter_by_day(client, world, organisation):
    dest = client.get("/v3/webhook/destinations/").json()[0]["uuid"]
    rows = walk(client, f"/v3/webhook/destinations/{dest}/deliveries/?limit=100")
    stamps = [r["created_at"] for r in rows]
    assert stamps == sorted(stamps, reverse=True)
    assert min(stamps) >= "2026-10-01T23:00:00"  # END minus 30 days
    day = stamps[len(stamps) // 2][:10]
    one_day = walk(
        client, f"/v3/webhook/destinations/{dest}/deliveries/?date_from={day}&date_to={day}"
    )
    assert one_day
    assert _days(one_day) == {day}


def test_cases_filter_by_status_and_order_by_created_at(client, organisation):
    base = (
        f"/v3/organization/{organisation['organization_id']}/application/"
        f"{organisation['application_id']}/cases/"
    )
    resolved = walk(client, base + "?status__in=RESOLVED")
    assert resolved
    assert {c["status"] for c in resolved} == {"RESOLVED"}
    asc = walk(client, base + "?ordering=created_at")
    assert [c["created_at"] for c in asc] == sorted(c["created_at"] for c in asc)
    other = "00000000-0000-4000-8000-000000000000"
    assert client.get(base.replace(organisation["organization_id"], other)).status == 404


def test_list_entries_search_matches_the_value(client):
    lists = client.get("/v3/lists/").json()["results"]
    countries = next(x for x in lists if x["name"] == "High-risk countries")
    rows = walk(client, f"/v3/lists/{countries['uuid']}/entries/?search=PRK")
    assert [r["value"] for r in rows] == ["PRK"]


def test_concurrent_clients_each_get_every_session_once(server):
    """Eight clients page at once (a thread per connection on the server)."""

    def one_walk(_: int) -> list[int]:
        c = Client(server.base_url)
        try:
            return [r["session_number"] for r in walk(c, "/v3/sessions/?limit=25")]
        finally:
            c.close()

    with ThreadPoolExecutor(max_workers=8) as pool:
        results = list(pool.map(one_walk, range(8)))
    assert all(r == results[0] for r in results)
    assert len(set(results[0])) == len(results[0]) > 25


def test_audit_log_cursor_walk_with_day_filters_is_exact_and_previous_undoes_next(
    client, db, console_token, organisation
):
    bearer = {"Authorization": f"Bearer {console_token}"}
    (last,) = db.execute("SELECT substr(MAX(ts), 1, 10) FROM audit_log").fetchone()
    frm = (date.fromisoformat(last) - timedelta(days=3)).isoformat()
    to = (date.fromisoformat(last) - timedelta(days=1)).isoformat()
    expected = [
        u
        for (u,) in db.execute(
            "SELECT uuid FROM audit_log WHERE substr(ts, 1, 10) BETWEEN ? AND ? "
            "ORDER BY ts DESC, uuid DESC",
            (frm, to),
        )
    ]
    url = f"/v3/audit/{organisation['organization_id']}/audit-logs/"
    first = client.get(f"{url}?limit=37&date_from={frm}&date_to={to}", bearer).json()
    rows = walk(client, f"{url}?limit=37&date_from={frm}&date_to={to}", bearer)
    assert len(expected) > 3 * 37
    assert [r["uuid"] for r in rows] == expected
    second = client.get(first["next"], bearer).json()
    assert [r["uuid"] for r in second["results"]] == expected[37:74]
    back = client.get(second["previous"], bearer).json()
    assert back["results"] == first["results"]
    assert back["previous"] is None


@pytest.mark.parametrize("direction", ["n", "p"])
@pytest.mark.parametrize("inclusive", [True, False])
def test_an_audit_log_page_seeks_the_index_to_both_bounds_at_any_depth(db, direction, inclusive):
    """Day filter and cursor are both index-range bounds (not a filter over rows scanned
    from one end of the day range), so a deep page costs what the first one does."""
    sql, args = audit_page_query(
        (("2026-09-01", ""), inclusive), ("2026-10-01T12:00:00Z", "f"), direction, 101
    )
    plan = [row[-1] for row in db.execute(f"EXPLAIN QUERY PLAN {sql}", args)]
    assert len(plan) == 1
    assert plan[0].startswith("SEARCH audit_log USING INDEX audit_order (")
    assert "(ts,uuid)>" in plan[0]
    assert "(ts,uuid)<" in plan[0]
