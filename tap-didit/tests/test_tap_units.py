"""Unit tests of the small pure pieces: pacing, waits, windows, timestamps, TOTP, projection."""

from __future__ import annotations

import datetime as dt
import email.utils
import types

import pytest
from tap_didit.pacing import RequestPacer
from tap_didit.retry import exponential_wait, server_requested_wait, wait_generator
from tap_didit.streams.sessions import project_decision
from tap_didit.timestamps import normalize_timestamp
from tap_didit.totp import decode_secret, hotp, totp_now
from tap_didit.window import Window

NOW = 1_800_000_000.0


class FakeClock:
    def __init__(self) -> None:
        self.now = 100.0
        self.slept: list[float] = []

    def __call__(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.slept.append(seconds)
        self.now += seconds


def test_pacer_spaces_request_starts_evenly():
    clock = FakeClock()
    pacer = RequestPacer(600, clock=clock, sleep=clock.sleep)
    for _ in range(5):
        pacer.wait_for_slot()
    assert clock.slept == pytest.approx([0.1, 0.1, 0.1, 0.1])


def test_pacer_counts_latency_against_the_interval():
    clock = FakeClock()
    pacer = RequestPacer(60, clock=clock, sleep=clock.sleep)
    pacer.wait_for_slot()
    clock.now += 0.7  # the request itself took 0.7 s
    pacer.wait_for_slot()
    assert clock.slept == pytest.approx([0.3])


def test_pacer_off_and_hold_off():
    clock = FakeClock()
    RequestPacer(0, clock=clock, sleep=clock.sleep).wait_for_slot()
    assert clock.slept == []
    pacer = RequestPacer(600, clock=clock, sleep=clock.sleep)
    pacer.hold_off(30)
    pacer.wait_for_slot()
    assert clock.slept == pytest.approx([30])


@pytest.mark.parametrize(
    ("headers", "expected"),
    [
        ({"Retry-After": "30"}, 30.0),
        ({"Retry-After": email.utils.formatdate(NOW + 42, usegmt=True)}, 42.0),
        ({"Retry-After": email.utils.formatdate(NOW - 5, usegmt=True)}, 0.0),
        ({"X-RateLimit-Reset": str(int(NOW + 17))}, 17.0),
        ({"X-RateLimit-Reset": "12"}, 12.0),
        ({"Retry-After": "soon"}, None),
        ({}, None),
    ],
)
def test_server_requested_wait(headers, expected):
    assert server_requested_wait(headers, now=lambda: NOW) == expected


def test_exponential_wait_doubles_with_jitter_and_respects_the_cap():
    waits = [exponential_wait(n, factor=2, cap=10) for n in (1, 2, 3, 4, 5)]
    assert 1.5 <= waits[0] <= 2.5
    assert 3 <= waits[1] <= 5
    assert 6 <= waits[2] <= 10
    assert waits[3] <= 10
    assert waits[4] <= 10


def test_wait_generator_prefers_the_server_and_tells_the_pacer():
    failure = types.SimpleNamespace(response=types.SimpleNamespace(headers={"Retry-After": "9"}))

    told: list[float] = []
    gen = wait_generator(factor=1, cap=60, on_server_wait=told.append)
    gen.send(None)
    wait = gen.send(failure)
    assert 9 <= wait <= 9.1
    assert told == [wait]
    assert 0.75 <= gen.send(RuntimeError()) <= 2.5


def test_timestamps_are_normalised_to_one_utc_format():
    assert normalize_timestamp("2026-06-09T12:26:54.328364Z") == "2026-06-09T12:26:54.328364Z"
    assert normalize_timestamp("2026-06-09T14:26:54+02:00") == "2026-06-09T12:26:54.000000Z"
    assert normalize_timestamp("2026-06-09T12:26:54") == "2026-06-09T12:26:54.000000Z"
    assert normalize_timestamp("not a date") == "not a date"
    assert normalize_timestamp(None) is None


def test_window_bounds_and_page_predicate():
    bookmark = dt.datetime(2026, 3, 10, 8, tzinfo=dt.UTC)
    started = dt.datetime(2026, 3, 12, 1, tzinfo=dt.UTC)
    window = Window.for_sync(bookmark=bookmark, lookback=dt.timedelta(days=2), started_at=started)
    assert window.date_params() == {"date_from": "2026-03-08", "date_to": "2026-03-12"}
    assert window.date_params(upper_day_offset=1)["date_to"] == "2026-03-13"
    past = window.page_is_past_floor("created_at")
    assert past([{"created_at": "2026-03-08T07:59:59Z"}])
    assert not past(
        [{"created_at": "2026-03-08T07:59:59Z"}, {"created_at": "2026-03-08T08:00:00Z"}]
    )
    assert not Window.for_sync(
        bookmark=None, lookback=dt.timedelta(0), started_at=started
    ).page_is_past_floor("created_at")([{"created_at": "2000-01-01T00:00:00Z"}])


def test_totp_matches_rfc_6238_and_accepts_80_bit_secrets():
    rfc_key = b"12345678901234567890"
    assert hotp(rfc_key, 59 // 30, digits=8) == "94287082"  # RFC 6238 appendix B, SHA-1
    assert hotp(rfc_key, 1111111109 // 30, digits=8) == "07081804"
    assert decode_secret("jbsw y3dp ehpk 3pxp") == b"Hello!\xde\xad\xbe\xef"
    assert len(totp_now("JBSWY3DPEHPK3PXP", at=59)) == 6
    with pytest.raises(ValueError, match="base32"):
        decode_secret("not base32!")


def test_decision_projection_keeps_outcomes_and_drops_personal_evidence():
    decision = {
        "session_id": "s1",
        "status": "Declined",
        "features": [{"feature": "ID_VERIFICATION", "node_id": "n1"}],
        "id_verifications": [
            {
                "node_id": "n1",
                "status": "Declined",
                "document_number": "X1234567",
                "portrait_image": "https://media.example/p.jpg?X-Amz-Signature=s",
                "full_name": "Jane Marie Doe",
                "warnings": [
                    {"risk": "DOCUMENT_EXPIRED", "log_type": "error", "long_description": "Jane"}
                ],
            }
        ],
        "aml_screenings": [
            {"node_id": "a", "status": "In Review", "total_hits": 3, "hits": [{"name": "J"}]}
        ],
        "reviews": [
            {
                "user": "officer@example.org",
                "new_status": "Declined",
                "comment": "Jane lied",
                "created_at": "2026-01-01T00:00:00Z",
            }
        ],
    }
    projected = project_decision(decision)
    text = str(projected)
    for secret in ("X1234567", "X-Amz", "Jane", "'hits'"):
        assert secret not in text
    assert projected["features"] == ["ID_VERIFICATION"]
    assert projected["aml_total_hits"] == 3
    assert {
        "feature": "id_verifications",
        "risk": "DOCUMENT_EXPIRED",
        "log_type": "error",
    } in projected["warnings"]
    assert {"feature": "aml_screenings", "node_id": "a", "status": "In Review"} in projected[
        "feature_results"
    ]
