"""What the demo's terminal shows of a Meltano job: every warning a user must see, and not the
per-record noise (the full log keeps everything)."""

from __future__ import annotations

import pytest

from pipeline.meltano import _condensed

PREFIX = "2026-12-06T20:48:23.927530Z [info     ] "


@pytest.mark.parametrize(
    "line",
    [
        "tap-keycloak: WARNING 3 event_entity rows with event_time before 2026-10-30 ...",
        "tap-keycloak: ERROR cannot read the state",
        "wazuh-spool: /srv/alerts.json:7: not valid UTF-8 at byte 12; line left out",
        "wazuh-spool: spooled 12 new alerts from 2 of 2 files; 3 lines left out: empty 1",
        "incident register: /srv/register.csv:4: incident_id: repeats line 2",
        "reconcile: wazuh  wazuh_alerts  offered 15  loaded 12  rejected 1  left out 2  ok",
    ],
)
def test_what_the_user_must_see_is_shown(line: str) -> None:
    shown = _condensed(PREFIX + line)
    assert shown is not None
    assert line.split(": ", 1)[1][:40] in shown


@pytest.mark.parametrize(
    "line",
    [
        'target-postgres Inserting with SQL: COPY "tmp" ("id") FROM STDIN',
        "tap-didit       INFO | tap-didit.sessions | Beginning sync of 'sessions'",
        "tap-keycloak    INFO Beginning full_table sync of 'public-user_entity'...",
    ],
)
def test_noise_stays_in_the_log(line: str) -> None:
    assert _condensed(PREFIX + line) is None
