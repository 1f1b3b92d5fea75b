"""All streams of tap-didit, in sync order (parents before their children).

`skipped_records` comes last: it holds what the other streams could not emit (skipped.py).
"""

from tap_didit.skipped import SkippedRecordsStream
from tap_didit.streams.audit_logs import AuditLogsStream
from tap_didit.streams.cases import CaseEventsStream, CasesStream
from tap_didit.streams.catalogue import (
    BillingBalanceStream,
    BusinessesStream,
    ListEntriesStream,
    ListsStream,
    UsersStream,
    WorkflowsStream,
)
from tap_didit.streams.sessions import (
    SessionDecisionsStream,
    SessionReviewsStream,
    SessionsStream,
)
from tap_didit.streams.webhooks import WebhookDeliveriesStream, WebhookDestinationsStream

STREAM_TYPES = [
    AuditLogsStream,
    SessionsStream,
    SessionReviewsStream,
    SessionDecisionsStream,
    WorkflowsStream,
    UsersStream,
    BusinessesStream,
    WebhookDestinationsStream,
    WebhookDeliveriesStream,
    CasesStream,
    CaseEventsStream,
    ListsStream,
    ListEntriesStream,
    BillingBalanceStream,
    SkippedRecordsStream,
]
