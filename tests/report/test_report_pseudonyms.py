from datetime import UTC, datetime

from report.pseudonyms import Pseudonymiser


def test_people_and_ips_are_replaced_by_stable_keyed_pseudonyms():
    first = Pseudonymiser(b"key-one")
    row = {"actor_key": "alice@example.org", "src_ip_prefix": "198.51.100.0/24", "failures": 7}
    once, again = first.row(row), first.row(row)
    assert once == again
    assert once["failures"] == 7
    assert once["actor_key"].startswith("person-")
    assert once["src_ip_prefix"].startswith("ip-")
    assert "alice" not in str(once)
    assert "198.51.100" not in str(once)
    assert Pseudonymiser(b"key-two").row(row)["actor_key"] != once["actor_key"]


def test_emails_and_ips_inside_free_text_are_replaced_but_times_are_not():
    pseudo = Pseudonymiser(b"k")
    text = "Login by bob@example.org from 203.0.113.9 and 2001:db8::1 at 12:30:45 on v1.2"
    out = pseudo.text(text)
    assert "bob@example.org" not in out
    assert "203.0.113.9" not in out
    assert "2001:db8::1" not in out
    assert "12:30:45" in out
    assert "v1.2" in out
    assert out.count("person-") == 1
    assert out.count("ip-") == 2


def test_nested_values_and_non_strings_are_handled():
    pseudo = Pseudonymiser(b"k")
    moment = datetime(2026, 10, 1, tzinfo=UTC)
    row = pseudo.row(
        {"user_key": ["a@example.org", None], "details": {"ip": "10.0.0.1"}, "at": moment}
    )
    assert row["user_key"][0].startswith("person-")
    assert row["user_key"][1] is None
    assert row["details"]["ip"].startswith("ip-")
    assert row["at"] == moment


def test_internal_version_keeps_real_values():
    row = {"actor_key": "alice@example.org", "title": "from 203.0.113.9"}
    assert Pseudonymiser(b"k", enabled=False).row(row) == row


def test_without_a_managed_key_a_one_off_key_is_used(monkeypatch):
    monkeypatch.delenv("NIS2_PSEUDONYM_KEY", raising=False)
    first, second = Pseudonymiser.from_env(), Pseudonymiser.from_env()
    assert not first.key_is_managed
    assert first.token("person", "a@example.org") != second.token("person", "a@example.org")
    monkeypatch.setenv("NIS2_PSEUDONYM_KEY", "managed")
    managed = Pseudonymiser.from_env()
    assert managed.key_is_managed
    assert managed.token("person", "x") == Pseudonymiser.from_env().token("person", "x")
