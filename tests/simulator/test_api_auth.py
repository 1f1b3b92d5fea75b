"""API-key auth as the spec documents it, and the Console login / TOTP / bearer flow."""

from __future__ import annotations

import pytest
from conftest import LOGIN, otp_now
from sim_client import KEY, Client, FakeClock

from simulator.credentials import CONSOLE_TOTP_SECRET
from simulator.totp import totp_at

FORBIDDEN = {"detail": "You do not have permission to perform this action."}


def test_every_named_key_of_the_organisation_is_accepted_and_others_are_not(client):
    assert client.get("/v3/workflows/", {"x-api-key": "sim-backend-key-0002"}).status == 200
    reply = client.get("/v3/workflows/", {"x-api-key": "sim-readonly-key-0001x"})
    assert (reply.status, reply.json()) == (403, FORBIDDEN)


def test_decision_of_an_unknown_session_is_404_even_without_credentials(client):
    reply = client.get("/v3/session/00000000-0000-4000-8000-000000000000/decision/", {})
    assert (reply.status, reply.json()) == (404, {"detail": "Not found."})


def test_bearer_routes_reject_an_api_key(client, organisation):
    reply = client.get(f"/v3/audit/{organisation['organization_id']}/audit-logs/", KEY)
    assert (reply.status, reply.json()) == (403, FORBIDDEN)


def _login(c: Client, email: str = LOGIN["email"], password: str = LOGIN["password"]):
    return c.call(
        "POST", "/auth/v2/programmatic/login/", body={"email": email, "password": password}
    )


def test_login_with_2fa_then_the_audit_log_is_readable(client, organisation):
    first = _login(client).json()
    assert first["2fa_required"] is True
    assert "access_token" not in first
    tokens = client.call(
        "POST",
        "/auth/v2/2fa/verify/",
        body={"temp_token": first["temp_token"], "otp_token": otp_now()},
    ).json()
    assert set(tokens) == {"access_token", "refresh_token", "expires_in"}
    url = f"/v3/audit/{organisation['organization_id']}/audit-logs/?limit=3"
    page = client.get(url, {"Authorization": f"Bearer {tokens['access_token']}"})
    assert page.status == 200
    assert len(page.json()["results"]) == 3


def test_wrong_password_and_wrong_otp_are_401(client):
    assert _login(client, password="wrong").status == 401
    temp = _login(client).json()["temp_token"]
    wrong = "000000" if otp_now() != "000000" else "111111"
    reply = client.call(
        "POST", "/auth/v2/2fa/verify/", body={"temp_token": temp, "otp_token": wrong}
    )
    assert reply.status == 401
    assert "detail" in reply.json()


def test_five_failed_logins_lock_the_account(make_server):
    c = Client(make_server(rate_limit=False).base_url)
    statuses = [_login(c, password="nope").status for _ in range(5)]
    assert statuses == [401] * 5
    assert _login(c).status == 429
    c.close()


def test_a_member_without_read_audit_logs_gets_403(client, organisation):
    reader = next(m["email"] for m in organisation["members"] if m["role"] == "Reader")
    tokens = _login(client, email=reader).json()
    url = f"/v3/audit/{organisation['organization_id']}/audit-logs/"
    reply = client.get(url, {"Authorization": f"Bearer {tokens['access_token']}"})
    assert (reply.status, reply.json()) == (403, FORBIDDEN)


def test_missing_or_garbage_bearer_is_401(client, organisation):
    url = f"/v3/audit/{organisation['organization_id']}/audit-logs/"
    assert client.get(url, {}).status == 401
    assert client.get(url, {"Authorization": "Bearer nonsense"}).status == 401


def test_tokens_expire_and_refresh_gives_a_new_access_token(make_server, organisation):
    srv = make_server(rate_limit=False, token_ttl_s=60)
    clock = FakeClock(1_800_000_000.0)
    srv.state.auth.clock = clock
    c = Client(srv.base_url)
    temp = _login(c).json()["temp_token"]
    tokens = c.call(
        "POST",
        "/auth/v2/2fa/verify/",
        body={"temp_token": temp, "otp_token": totp_at(CONSOLE_TOTP_SECRET, clock.now)},
    ).json()
    assert tokens["expires_in"] == 60
    url = f"/v3/audit/{organisation['organization_id']}/audit-logs/?limit=1"
    bearer = {"Authorization": f"Bearer {tokens['access_token']}"}
    assert c.get(url, bearer).status == 200
    clock.now += 61
    assert c.get(url, bearer).status == 401
    fresh = c.call(
        "POST", "/auth/v2/token/refresh/", body={"refresh_token": tokens["refresh_token"]}
    ).json()
    assert c.get(url, {"Authorization": f"Bearer {fresh['access_token']}"}).status == 200
    c.close()


def test_the_temp_token_is_valid_five_minutes(make_server):
    srv = make_server(rate_limit=False)
    clock = FakeClock(1_800_000_000.0)
    srv.state.auth.clock = clock
    c = Client(srv.base_url)
    temp = _login(c).json()["temp_token"]
    clock.now += 301
    reply = c.call(
        "POST",
        "/auth/v2/2fa/verify/",
        body={"temp_token": temp, "otp_token": totp_at(CONSOLE_TOTP_SECRET, clock.now)},
    )
    assert reply.status == 401
    c.close()


@pytest.mark.parametrize(("unix_time", "code"), [(59, "287082"), (1111111109, "081804")])
def test_totp_matches_the_rfc_6238_test_vectors(unix_time, code):
    secret = "GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ"  # base32 of "12345678901234567890"
    assert totp_at(secret, unix_time) == code


def test_decision_and_users_also_accept_a_console_bearer_token(client, console_token):
    bearer = {"Authorization": f"Bearer {console_token}"}
    sid = client.get("/v3/sessions/?limit=1").json()["results"][0]["session_id"]
    assert client.get(f"/v3/session/{sid}/decision/", bearer).status == 200
    assert client.get("/v3/users/?limit=1", bearer).status == 200
    assert client.get("/v3/workflows/", bearer).status == 403
