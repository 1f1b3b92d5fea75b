"""Pseudonyms: the marts' own pass through, anything else personal gets the same formula, and
the internal version names them through the warehouse's identities."""

import hashlib
import hmac

import pytest
from report_samples import TEST_KEY, mart_key

from report.identities import with_ip_prefixes
from report.pseudonyms import (
    NameMap,
    Pseudonymiser,
    PseudonymKeyMismatchError,
    check_key_matches,
    key_id,
    pseudonym,
)

KEY = TEST_KEY.encode()


def test_mart_pseudonyms_pass_through_unchanged():
    row = {
        "principal_key": mart_key("dave@example.org"),
        "src_ip_key": mart_key("192.0.2.44"),
        "failures": 7,
    }
    assert Pseudonymiser(KEY).row(row) == row
    assert Pseudonymiser(b"another key").row(row) == row  # never hashed a second time


def test_the_report_uses_the_marts_formula_so_one_person_has_one_pseudonym():
    pseudo = Pseudonymiser(KEY)
    assert pseudo.token("Dave@Example.org") == mart_key("dave@example.org")
    text = pseudo.text("Login by Dave@Example.org from 192.0.2.44")
    assert text == f"Login by {mart_key('dave@example.org')} from {mart_key('192.0.2.44')}"


def test_a_raw_identity_in_a_personal_or_key_column_is_never_shown():
    pseudo = Pseudonymiser(KEY)
    row = pseudo.row({"actor_key": "erin@example.org", "approved_by": "carol@example.org"})
    assert row == {
        "actor_key": mart_key("erin@example.org"),
        "approved_by": mart_key("carol@example.org"),
    }


def test_a_column_named_key_that_is_no_pseudonym_column_is_left_alone():
    row = {"root_cause_key": "RC-CREDENTIAL-ATTACK", "incident_id": "INC-2026-0002"}
    assert Pseudonymiser(KEY).row(row) == row


def test_emails_and_ips_inside_free_text_are_replaced_but_times_are_not():
    pseudo = Pseudonymiser(b"k")
    text = "Login by bob@example.org from 203.0.113.9 and 2001:db8::1 at 12:30:45 on v1.2"
    out = pseudo.text(text)
    assert "bob@example.org" not in out
    assert "203.0.113.9" not in out
    assert "2001:db8::1" not in out
    assert "12:30:45" in out
    assert "v1.2" in out
    assert out.count("p_") == 3


def test_nested_values_and_non_strings_are_handled():
    pseudo = Pseudonymiser(b"k")
    row = pseudo.row({"user_key": ["a@example.org", None], "details": {"ip": "10.0.0.1"}, "n": 3})
    assert row["user_key"] == [pseudonym(b"k", "a@example.org"), None]
    assert row["details"]["ip"] == pseudonym(b"k", "10.0.0.1")
    assert row["n"] == 3


def test_the_internal_version_names_pseudonyms_and_counts_those_it_cannot():
    identities = ["Backend Production", "dave@example.org", "192.0.2.44", "2001:db8:1:2::7"]
    names = NameMap(KEY, with_ip_prefixes(identities))
    pseudo = Pseudonymiser(KEY, names=names)
    unknown = mart_key("nobody@example.org")
    row = pseudo.row(
        {
            "principal_key": mart_key("backend production"),  # dbt lower-cases API-key names
            "src_ip_key": mart_key("192.0.2.44"),
            "ip_prefix_key": mart_key("192.0.2.0/24"),  # the network, as dbt's ip_network()
            "ip6_prefix_key": mart_key("2001:db8:1::/48"),
            "actor_key": unknown,
            "title": f"Spray by {mart_key('dave@example.org')} from 203.0.113.9",
        }
    )
    assert row == {
        "principal_key": "Backend Production",
        "src_ip_key": "192.0.2.44",
        "ip_prefix_key": "192.0.2.0/24",
        "ip6_prefix_key": "2001:db8:1::/48",
        "actor_key": unknown,
        "title": "Spray by dave@example.org from 203.0.113.9",
    }
    assert names.unresolved == {unknown}
    assert len(names.seen) == 6


def test_without_a_managed_key_a_one_off_key_is_used(monkeypatch):
    monkeypatch.delenv("NIS2_PSEUDONYM_KEY", raising=False)
    first, second = Pseudonymiser.from_env(), Pseudonymiser.from_env()
    assert not first.key_is_managed
    assert first.token("a@example.org") != second.token("a@example.org")
    monkeypatch.setenv("NIS2_PSEUDONYM_KEY", TEST_KEY)
    managed = Pseudonymiser.from_env()
    assert managed.key_is_managed
    assert managed.token("a@example.org") == mart_key("a@example.org")


def test_the_report_refuses_a_key_that_is_not_the_marts():
    """The key id is HMAC-SHA256(key, 'nis2-pseudonym-key-id'), first 16 hex digits (the formula
    macros/pseudonym_key_guard.sql records); a pack with another key is refused, naming ids."""
    marts_key, other_key = b"the-key-dbt-used-0001", b"some-other-key-0002"
    expected = "k_" + hmac.new(marts_key, b"nis2-pseudonym-key-id", hashlib.sha256).hexdigest()
    assert key_id(marts_key) == expected[:18]
    check_key_matches(marts_key, key_id(marts_key))
    check_key_matches(None, key_id(marts_key))  # no key given: nothing computed, nothing mixed
    check_key_matches(other_key, None)  # a warehouse from before the record: nothing to compare
    with pytest.raises(PseudonymKeyMismatchError) as refused:
        check_key_matches(other_key, key_id(marts_key))
    assert key_id(marts_key) in str(refused.value)
    assert key_id(other_key) in str(refused.value)
    assert other_key.decode() not in str(refused.value)
