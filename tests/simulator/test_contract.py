"""Every simulator response, errors included, against Didit's OpenAPI document (or, where
Didit documents nothing, against our schemas in simulator/schemas/)."""

from __future__ import annotations

import pytest
from sim_client import KEY, Client
from sim_openapi import our_schema, response, response_examples, response_schema, validate

SESSIONS = "/v3/sessions/"
DECISION = "/v3/session/{sessionId}/decision/"
REVIEWS = "/v3/sessions/{session_id}/reviews/"
CASES = "/v3/organization/{organization_id}/application/{application_id}/cases/"
CASE_EVENTS = CASES + "{case_uuid}/events/"
BAD_KEY = {"x-api-key": "not-a-key"}


@pytest.fixture(scope="module")
def ids(server, organisation) -> dict:
    c = Client(server.base_url)
    kyc = c.get("/v3/sessions/?limit=200").json()["results"]
    reviewed = next(
        s["session_id"]
        for s in kyc
        if c.get(f"/v3/sessions/{s['session_id']}/reviews/").json()["count"]
    )
    kyb = c.get("/v3/sessions/?session_kind=business&limit=1").json()["results"][0]
    org, app = organisation["organization_id"], organisation["application_id"]
    case = c.get(f"/v3/organization/{org}/application/{app}/cases/").json()["results"][0]
    dest = c.get("/v3/webhook/destinations/").json()[0]["uuid"]
    lst = c.get("/v3/lists/").json()["results"][0]["uuid"]
    c.close()
    return {
        "kyc": reviewed,
        "kyb": kyb["session_id"],
        "org": org,
        "app": app,
        "case": case["uuid"],
        "dest": dest,
        "list": lst,
    }


def _cases(ids: dict, spec_path: str = CASES) -> str:
    return f"/v3/organization/{ids['org']}/application/{ids['app']}/cases/"


SPEC_OK = [
    ("sessions_user", SESSIONS, lambda i: "/v3/sessions/?limit=20"),
    ("sessions_business", SESSIONS, lambda i: "/v3/sessions/?session_kind=business&limit=20"),
    ("sessions_all", SESSIONS, lambda i: "/v3/sessions/?session_kind=all&limit=20"),
    ("decision_kyc", DECISION, lambda i: f"/v3/session/{i['kyc']}/decision/"),
    ("decision_kyb", DECISION, lambda i: f"/v3/session/{i['kyb']}/decision/"),
    ("reviews", REVIEWS, lambda i: f"/v3/sessions/{i['kyc']}/reviews/?ordering=created_at"),
    ("workflows", "/v3/workflows/", lambda i: "/v3/workflows/"),
    ("users", "/v3/users/", lambda i: "/v3/users/?limit=30"),
    ("businesses", "/v3/businesses/", lambda i: "/v3/businesses/?limit=30"),
    ("destinations", "/v3/webhook/destinations/", lambda i: "/v3/webhook/destinations/"),
    ("balance", "/v3/billing/balance/", lambda i: "/v3/billing/balance/"),
    ("cases", CASES, lambda i: _cases(i)),
    ("case_events", CASE_EVENTS, lambda i: f"{_cases(i)}{i['case']}/events/"),
]


@pytest.mark.parametrize(("name", "spec_path", "url"), SPEC_OK, ids=[c[0] for c in SPEC_OK])
def test_success_bodies_match_the_openapi_schema(client, ids, name, spec_path, url):
    reply = client.get(url(ids))
    assert reply.status == 200
    body = reply.json()
    validate(body, response_schema(spec_path, 200))
    results = body if isinstance(body, list) else body.get("results", [body])
    assert results, f"{name}: the contract check needs at least one record"


OURS = [
    (
        "deliveries",
        "webhook_deliveries_page.json",
        lambda i: f"/v3/webhook/destinations/{i['dest']}/deliveries/?limit=100",
    ),
    ("lists", "lists_page.json", lambda i: "/v3/lists/"),
    ("list_entries", "list_entries_page.json", lambda i: f"/v3/lists/{i['list']}/entries/"),
]


@pytest.mark.parametrize(("name", "schema", "url"), OURS, ids=[c[0] for c in OURS])
def test_undocumented_endpoints_match_our_schemas(client, ids, name, schema, url):
    reply = client.get(url(ids))
    assert reply.status == 200
    body = reply.json()
    validate(body, our_schema(schema))
    assert body["results"], f"{name}: needs records to check"


def test_audit_log_pages_match_our_documented_schema(console_token, client, organisation):
    url = f"/v3/audit/{organisation['organization_id']}/audit-logs/?limit=500"
    page = client.get(url, {"Authorization": f"Bearer {console_token}"}).json()
    validate(page, our_schema("audit_log_page.json"))
    kinds = {r["actor_type"] for r in page["results"]}
    second = client.get(page["next"], {"Authorization": f"Bearer {console_token}"}).json()
    validate(second, our_schema("audit_log_page.json"))
    assert kinds >= {"API_KEY"}


ERRORS = [
    # (name, spec path, status, url, headers)
    ("sessions_bad_date", SESSIONS, 400, lambda i: "/v3/sessions/?date_from=2026-13-01", KEY),
    ("sessions_bad_kind", SESSIONS, 400, lambda i: "/v3/sessions/?session_kind=x", KEY),
    ("sessions_bad_uuid", SESSIONS, 400, lambda i: "/v3/sessions/?didit_internal_id=1", KEY),
    ("sessions_no_key", SESSIONS, 403, lambda i: "/v3/sessions/", {}),
    ("decision_bad_key", DECISION, 403, lambda i: f"/v3/session/{i['kyc']}/decision/", BAD_KEY),
    (
        "decision_unknown",
        DECISION,
        404,
        lambda i: "/v3/session/00000000-0000-4000-8000-000000000000/decision/",
        {},
    ),
    ("reviews_bad_key", REVIEWS, 403, lambda i: f"/v3/sessions/{i['kyc']}/reviews/", BAD_KEY),
    ("reviews_kyb", REVIEWS, 404, lambda i: f"/v3/sessions/{i['kyb']}/reviews/", KEY),
    ("workflows_no_key", "/v3/workflows/", 403, lambda i: "/v3/workflows/", {}),
    ("users_no_credentials", "/v3/users/", 401, lambda i: "/v3/users/", {}),
    ("users_bad_key", "/v3/users/", 403, lambda i: "/v3/users/", BAD_KEY),
    ("businesses_no_key", "/v3/businesses/", 403, lambda i: "/v3/businesses/", {}),
    (
        "destinations_no_key",
        "/v3/webhook/destinations/",
        403,
        lambda i: "/v3/webhook/destinations/",
        {},
    ),
    ("balance_bad_key", "/v3/billing/balance/", 403, lambda i: "/v3/billing/balance/", BAD_KEY),
]


@pytest.mark.parametrize(
    ("name", "spec_path", "status", "url", "headers"), ERRORS, ids=[c[0] for c in ERRORS]
)
def test_error_bodies_are_the_documented_ones(client, ids, name, spec_path, status, url, headers):
    reply = client.get(url(ids), headers)
    assert reply.status == status
    body = reply.json()
    schema = response_schema(spec_path, status)
    if schema is not None:
        validate(body, schema)
    examples = response_examples(spec_path, status)
    assert body in examples, f"{name}: {body} is none of the documented examples {examples}"


def test_missing_trailing_slash_is_a_301_to_the_canonical_url_with_the_query(client):
    assert "Location" in response(SESSIONS, 301)["description"]
    reply = client.get("/v3/sessions?limit=3&status=Approved")
    assert reply.status == 301
    assert reply.headers["location"] == f"{client.base_url}/v3/sessions/?limit=3&status=Approved"


def test_throttled_responses_carry_the_documented_headers(make_server):
    srv = make_server(get_limit=1)
    c = Client(srv.base_url)
    c.get("/v3/session/00000000-0000-4000-8000-000000000001/decision/")
    reply = c.get("/v3/session/00000000-0000-4000-8000-000000000001/decision/")
    c.close()
    assert reply.status == 429
    validate(reply.json(), response_schema(DECISION, 429))
    documented = set(response(DECISION, 429)["headers"])
    assert {h.lower() for h in documented} <= set(reply.headers)
