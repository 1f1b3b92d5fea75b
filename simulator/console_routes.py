"""The auth service (`/auth/v2/...`) and the Console audit-log route (ASSUMED contract)."""

from __future__ import annotations

import orjson

from simulator.api_routes import Req, Resp
from simulator.console_auth import AuthError, ConsoleAuth
from simulator.pagination import (
    BadParamsError,
    decode_cursor,
    encode_cursor,
    envelope,
    int_param,
    page_url,
)
from simulator.serving_store import Store, parse_day

AUDIT_DEFAULT_LIMIT, AUDIT_MAX_LIMIT = 50, 500
FORBIDDEN = {"detail": "You do not have permission to perform this action."}


def auth_call(auth: ConsoleAuth, req: Req, action: str) -> Resp:
    body = req.json()
    try:
        result = getattr(auth, action)(body)
    except AuthError as err:
        return err.status, orjson.dumps({"detail": err.detail})
    return 200, orjson.dumps(result)


Bound = tuple[str, str]


def audit_page_query(
    lower: tuple[Bound, bool] | None, upper: Bound | None, direction: str, limit: int
) -> tuple[str, list]:
    """One page between (ts, uuid) row-value bounds (``lower`` with its inclusiveness,
    ``upper`` exclusive): SQLite seeks the ``audit_order`` index to them directly."""
    conds, args = [], []
    if lower:
        conds.append("(ts, uuid) >= (?, ?)" if lower[1] else "(ts, uuid) > (?, ?)")
        args += lower[0]
    if upper:
        conds.append("(ts, uuid) < (?, ?)")
        args += upper
    order = "DESC" if direction == "n" else "ASC"
    where = (" WHERE " + " AND ".join(conds)) if conds else ""
    sql = (
        f"SELECT ts, uuid, CAST(body AS BLOB) FROM audit_log{where} "  # noqa: S608
        f"ORDER BY ts {order}, uuid {order} LIMIT ?"
    )
    return sql, [*args, limit]


def audit_logs(store: Store, auth: ConsoleAuth, req: Req, org: str) -> Resp:
    """Newest first by (timestamp, uuid), keyset cursor, inclusive UTC-day filters."""
    if "x-api-key" in req.headers and "authorization" not in req.headers:
        return 403, orjson.dumps(FORBIDDEN)  # Console routes reject API keys
    try:
        who = auth.principal(req.headers.get("authorization"))
    except AuthError as err:
        return err.status, orjson.dumps({"detail": err.detail})
    if not who.can_read_audit_logs or org != store.meta["organisation"]["organization_id"]:
        return 403, orjson.dumps(FORBIDDEN)
    limit = min(int_param(req.query, "limit", AUDIT_DEFAULT_LIMIT, 1), AUDIT_MAX_LIMIT)
    frm, to = parse_day(req.query, "date_from"), parse_day(req.query, "date_to")
    if frm and to and frm > to:
        raise BadParamsError({"date_to": ["date_to must not be before date_from."]})
    # Every bound is a (ts, uuid) row value, so SQLite seeks the index to the tighter of the
    # day filter and the cursor: a page costs the same at any depth.
    lower = ((frm.isoformat(), ""), True) if frm else None  # (key, inclusive)
    upper = (to.isoformat() + "T99", "") if to else None  # exclusive; sorts above that day
    direction = "n"
    if req.query.get("cursor"):
        direction, ts, uid = decode_cursor(req.query["cursor"])
        if direction == "n":
            upper = min(upper, (ts, uid)) if upper else (ts, uid)
        elif lower is None or (ts, uid) >= lower[0]:
            lower = ((ts, uid), False)
    sql, args = audit_page_query(lower, upper, direction, limit + 1)
    rows = store.rows(sql, args)
    more = len(rows) > limit
    rows = rows[:limit]
    if direction == "p":
        rows.reverse()
    has_newer = bool(req.query.get("cursor")) and (direction == "n" or more)
    has_older = (more if direction == "n" else True) and bool(rows)
    nxt = (
        page_url(req.base, req.path, req.query, cursor=encode_cursor("n", *rows[-1][:2]))
        if has_older
        else None
    )
    prev = (
        page_url(req.base, req.path, req.query, cursor=encode_cursor("p", *rows[0][:2]))
        if has_newer and rows
        else None
    )
    return 200, envelope(None, nxt, prev, [r[2] for r in rows])
