"""Every simulator response, errors included, against Didit's OpenAPI document (or, where
Didit documents nothing, against our schemas in simulator/schemas/)."""

from __future__ import annotations

import hashlib
import re

import pytest
from conftest import LOGIN, otp_now
from sim_client import KEY, Client
from sim_openapi import (
    SPEC_PATH,
    our_schema,
    response,
    response_examples,
    response_schema,
    validate,
)

from nis2_settings import ROOT

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


def _cases(ids: dict) -> str:
    return f"/v3/organization/{ids['org']}/application/{ids['app']}/cases/"


def _pages(client, url: str, headers: dict | None = KEY, cap: int = 12) -> list:
    """The first page and up to ``cap`` - 1 later ones, following ``next``."""
    pages = []
    while url and len(pages) < cap:
        reply = client.get(url, headers)
        assert reply.status == 200, f"{url}: {reply.status}"
        pages.append(reply.json())
        url = pages[-1].get("next") if isinstance(pages[-1], dict) else None
    return pages


# (name, spec path, url, walks more than one page)
SPEC_OK = [
    ("sessions_user", SESSIONS, lambda i: "/v3/sessions/?limit=100", True),
    ("sessions_business", SESSIONS, lambda i: "/v3/sessions/?session_kind=business&limit=20", True),
    ("sessions_all", SESSIONS, lambda i: "/v3/sessions/?session_kind=all&limit=100", True),
    ("decision_kyc", DECISION, lambda i: f"/v3/session/{i['kyc']}/decision/", False),
    ("decision_kyb", DECISION, lambda i: f"/v3/session/{i['kyb']}/decision/", False),
    (
        "reviews",
        REVIEWS,
        lambda i: f"/v3/sessions/{i['kyc']}/reviews/?ordering=created_at&limit=1",
        False,
    ),
    ("workflows", "/v3/workflows/", lambda i: "/v3/workflows/?limit=3", True),
    ("users", "/v3/users/", lambda i: "/v3/users/?limit=30", True),
    ("businesses", "/v3/businesses/", lambda i: "/v3/businesses/?limit=10", True),
    ("destinations", "/v3/webhook/destinations/", lambda i: "/v3/webhook/destinations/", False),
    ("balance", "/v3/billing/balance/", lambda i: "/v3/billing/balance/", False),
    ("cases", CASES, lambda i: f"{_cases(i)}?limit=5", True),
    ("case_events", CASE_EVENTS, lambda i: f"{_cases(i)}{i['case']}/events/?limit=2", True),
]


@pytest.mark.parametrize(
    ("name", "spec_path", "url", "paged"), SPEC_OK, ids=[c[0] for c in SPEC_OK]
)
def test_success_pages_match_the_openapi_schema(client, ids, name, spec_path, url, paged):
    pages = _pages(client, url(ids))
    schema = response_schema(spec_path, 200)
    for body in pages:
        validate(body, schema)
    first = pages[0]
    results = first if isinstance(first, list) else first.get("results", [first])
    assert results, f"{name}: the contract check needs at least one record"
    assert len(pages) >= (2 if paged else 1), f"{name}: the check needs a later page"


OURS = [
    (
        "deliveries",
        "webhook_deliveries_page.json",
        lambda i: f"/v3/webhook/destinations/{i['dest']}/deliveries/?limit=40",
    ),
    ("lists", "lists_page.json", lambda i: "/v3/lists/?limit=2"),
    ("list_entries", "list_entries_page.json", lambda i: f"/v3/lists/{i['list']}/entries/?limit=2"),
]


@pytest.mark.parametrize(("name", "schema", "url"), OURS, ids=[c[0] for c in OURS])
def test_undocumented_endpoints_match_our_schemas_on_every_page(client, ids, name, schema, url):
    pages = _pages(client, url(ids))
    for body in pages:
        validate(body, our_schema(schema))
    assert pages[0]["results"], f"{name}: needs records to check"
    assert len(pages) >= 2, f"{name}: the check needs a later page"


def test_audit_log_pages_first_later_last_and_previous_match_our_schema(
    console_token, client, organisation
):
    bearer = {"Authorization": f"Bearer {console_token}"}
    url = f"/v3/audit/{organisation['organization_id']}/audit-logs/?limit=500"
    pages = _pages(client, url, bearer, cap=1000)
    assert len(pages) >= 3
    schema = our_schema("audit_log_page.json")
    for body in (pages[0], pages[1], pages[len(pages) // 2], pages[-1]):
        validate(body, schema)
    assert pages[-1]["next"] is None
    back = client.get(pages[-1]["previous"], bearer).json()
    validate(back, schema)
    kinds = {r["actor_type"] for p in pages for r in p["results"]}
    assert kinds == {"USER", "API_KEY", "INVESTIGATOR", "ANONYMOUS"}


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


def _post(client, path: str, body: dict):
    return client.call("POST", f"/auth/v2/{path}", body=body)


def test_console_login_2fa_and_refresh_answers_match_our_schemas(client, organisation):
    first = _post(client, "programmatic/login/", LOGIN)
    assert first.status == 200
    validate(first.json(), our_schema("auth_login_response.json"))
    assert first.json()["2fa_required"] is True
    tokens = _post(
        client,
        "2fa/verify/",
        {"temp_token": first.json()["temp_token"], "otp_token": otp_now()},
    )
    assert tokens.status == 200
    validate(tokens.json(), our_schema("auth_tokens.json"))
    fresh = _post(client, "token/refresh/", {"refresh_token": tokens.json()["refresh_token"]})
    assert fresh.status == 200
    validate(fresh.json(), our_schema("auth_refresh_response.json"))
    reader = next(m["email"] for m in organisation["members"] if m["role"] == "Reader")
    direct = _post(client, "programmatic/login/", {**LOGIN, "email": reader})
    assert direct.status == 200
    validate(direct.json(), our_schema("auth_login_response.json"))
    assert "access_token" in direct.json()


def _reader_token(client, organisation) -> str:
    reader = next(m["email"] for m in organisation["members"] if m["role"] == "Reader")
    return _post(client, "programmatic/login/", {**LOGIN, "email": reader}).json()["access_token"]


# (name, request(client, organisation, console_token) -> Reply, status, schema)
CONSOLE_ERRORS = [
    (
        "login_bad_password",
        lambda c, o, t: _post(c, "programmatic/login/", {**LOGIN, "password": "wrong"}),
        401,
        "detail_error.json",
    ),
    (
        "login_missing_field",
        lambda c, o, t: _post(c, "programmatic/login/", {"email": LOGIN["email"]}),
        400,
        "detail_error.json",
    ),
    (
        "verify_unknown_temp_token",
        lambda c, o, t: _post(c, "2fa/verify/", {"temp_token": "x" * 30, "otp_token": "123456"}),
        401,
        "detail_error.json",
    ),
    (
        "refresh_unknown_token",
        lambda c, o, t: _post(c, "token/refresh/", {"refresh_token": "x" * 30}),
        401,
        "detail_error.json",
    ),
    (
        "refresh_with_an_access_token",
        lambda c, o, t: _post(c, "token/refresh/", {"refresh_token": t}),
        401,
        "detail_error.json",
    ),
    ("audit_no_credentials", lambda c, o, t: c.get(_audit(o), {}), 401, "detail_error.json"),
    (
        "audit_stale_bearer",
        lambda c, o, t: c.get(_audit(o), {"Authorization": "Bearer " + "x" * 30}),
        401,
        "detail_error.json",
    ),
    ("audit_api_key", lambda c, o, t: c.get(_audit(o), KEY), 403, "detail_error.json"),
    (
        "audit_without_permission",
        lambda c, o, t: c.get(_audit(o), {"Authorization": f"Bearer {_reader_token(c, o)}"}),
        403,
        "detail_error.json",
    ),
    (
        "audit_other_organisation",
        lambda c, o, t: c.get(
            "/v3/audit/00000000-0000-4000-8000-000000000000/audit-logs/",
            {"Authorization": f"Bearer {t}"},
        ),
        403,
        "detail_error.json",
    ),
    (
        "audit_bad_cursor",
        lambda c, o, t: c.get(_audit(o) + "?cursor=%%%", {"Authorization": f"Bearer {t}"}),
        400,
        "field_errors.json",
    ),
    (
        "audit_bad_limit",
        lambda c, o, t: c.get(_audit(o) + "?limit=0", {"Authorization": f"Bearer {t}"}),
        400,
        "field_errors.json",
    ),
    (
        "audit_bad_day",
        lambda c, o, t: c.get(
            _audit(o) + "?date_from=2026-02-30", {"Authorization": f"Bearer {t}"}
        ),
        400,
        "field_errors.json",
    ),
]


def _audit(organisation: dict) -> str:
    return f"/v3/audit/{organisation['organization_id']}/audit-logs/"


@pytest.mark.parametrize(
    ("name", "request_", "status", "schema"), CONSOLE_ERRORS, ids=[c[0] for c in CONSOLE_ERRORS]
)
def test_console_error_bodies_match_our_schemas(
    client, organisation, console_token, name, request_, status, schema
):
    reply = request_(client, organisation, console_token)
    assert reply.status == status, f"{name}: {reply.status} {reply.body[:200]!r}"
    validate(reply.json(), our_schema(schema))


def test_a_locked_console_login_answers_429_with_a_detail_body(make_server):
    c = Client(make_server(rate_limit=False).base_url)
    for _ in range(5):
        assert _post(c, "programmatic/login/", {**LOGIN, "password": "nope"}).status == 401
    locked = _post(c, "programmatic/login/", LOGIN)
    c.close()
    assert locked.status == 429
    validate(locked.json(), our_schema("detail_error.json"))


def test_the_vendored_openapi_document_is_the_one_its_readme_names() -> None:
    """The contract tests read Didit's document from this repository; its README records where
    it came from and its SHA-256, so a changed or truncated copy is caught."""
    readme = (SPEC_PATH.parent / "README.md").read_text()
    recorded = re.search(r"SHA-256 \| `([0-9a-f]{64})`", readme)
    assert recorded, "docs/vendor/didit/README.md records no SHA-256"
    assert hashlib.sha256(SPEC_PATH.read_bytes()).hexdigest() == recorded.group(1)
    assert SPEC_PATH.resolve().is_relative_to(ROOT)
