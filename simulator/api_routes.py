"""The public Didit API (`/v3/...`) as listed in docs/contracts.md, served from the store.

Shapes, parameters, ordering, count caps and error bodies follow Didit's OpenAPI document.
Every handler gets the parsed request and returns (status, body bytes).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta

import orjson

from simulator.clock import iso_z, parse_utc
from simulator.pagination import (
    COUNT_CAP,
    BadParamsError,
    envelope,
    int_param,
    offset_links,
)
from simulator.serving_store import Store, day_bounds, is_uuid

NOT_FOUND = {"detail": "Not found."}
SESSION_NOT_FOUND = {"detail": "Session not found."}
SESSION_KINDS = ("user", "business", "all")


@dataclass
class Req:
    method: str
    path: str
    query: dict[str, str]
    headers: dict[str, str]
    body: bytes
    base: str  # scheme://host[:port], for absolute `next` / `previous`

    def json(self) -> dict:
        try:
            data = orjson.loads(self.body or b"{}")
        except orjson.JSONDecodeError:
            raise BadParamsError({"detail": "JSON parse error."}) from None
        if not isinstance(data, dict):
            raise BadParamsError({"detail": "Expected a JSON object."})
        return data


Resp = tuple[int, bytes]


def _where(conds: list) -> tuple[str, list]:
    """SQL WHERE from (clause, arg) pairs; (None, arg) adds an argument for an IN list."""
    clauses = [c for c, _ in conds if c is not None]
    args = [a for _, a in conds if a is not None]
    return (" WHERE " + " AND ".join(clauses)) if clauses else "", args


def _count(store: Store, table: str, where: str, args: list, capped: bool) -> int:
    if capped:
        sql = f"SELECT COUNT(*) FROM (SELECT 1 FROM {table}{where} LIMIT {COUNT_CAP})"  # noqa: S608
    else:
        sql = f"SELECT COUNT(*) FROM {table}{where}"  # noqa: S608
    return store.count(sql, args)


def offset_list(
    store: Store,
    req: Req,
    table: str,
    conds: list,
    order: str,
    capped: bool = False,
    default_limit: int = 50,
) -> Resp:
    """One limit/offset page: bodies in ``order``, DRF envelope, absolute links."""
    limit = int_param(req.query, "limit", default_limit, 1)
    offset = int_param(req.query, "offset", 0, 0)
    where, args = _where(conds)
    rows = store.rows(
        f"SELECT CAST(body AS BLOB) FROM {table}{where} ORDER BY {order} LIMIT ? OFFSET ?",  # noqa: S608
        [*args, limit + 1, offset],
    )
    nxt, prev = offset_links(req.base, req.path, req.query, limit, offset, len(rows) > limit)
    count = _count(store, table, where, args, capped)
    return 200, envelope(count, nxt, prev, [r[0] for r in rows[:limit]])


def _csv(req: Req, name: str) -> list[str]:
    return [v for v in req.query.get(name, "").split(",") if v]


def _session_conds(req: Req, kind: str) -> list:
    conds: list = [("kind = ?", kind), ("deleted = 0", None)]
    for name, column in (("status", "status"), ("workflow_id", "workflow_id")):
        values = _csv(req, name)
        if values:
            conds.append((f"{column} IN ({','.join('?' * len(values))})", None))
            conds.extend((None, v) for v in values)  # type: ignore[misc]
    for name in ("vendor_data", "country", "didit_internal_id"):
        if req.query.get(name):
            conds.append((f"{name} = ?", req.query[name]))
    conds.extend(day_bounds(req.query, to_is_exclusive_midnight=kind == "business"))
    return conds


def sessions(store: Store, req: Req) -> Resp:
    kind = req.query.get("session_kind") or "user"
    if kind not in SESSION_KINDS:
        raise BadParamsError({"session_kind": 'Must be "user", "business", or "all".'})
    if req.query.get("didit_internal_id") and not is_uuid(req.query["didit_internal_id"]):
        raise BadParamsError({"didit_internal_id": ["Enter a valid UUID."]})
    limit = int_param(req.query, "limit", 50, 1)
    offset = int_param(req.query, "offset", 0, 0)
    pages = {}
    for k in ("user", "business") if kind == "all" else (kind,):
        where, args = _where(_session_conds(req, k))
        # Page the small table first; only the page's bodies are then read.
        rows = store.rows(
            "SELECT CAST(d.body AS BLOB) FROM (SELECT session_id, session_number "  # noqa: S608
            f"FROM sessions{where} ORDER BY session_number DESC LIMIT ? OFFSET ?) AS page "
            "JOIN session_docs d USING (session_id) ORDER BY page.session_number DESC",
            [*args, limit + 1, offset],
        )
        count = _count(store, "sessions", where, args, capped=k == "business")
        pages[k] = (count, rows)
    lead = pages.get("user", pages.get("business"))
    nxt, prev = offset_links(req.base, req.path, req.query, limit, offset, len(lead[1]) > limit)
    bodies = [r[0] for k in pages for r in pages[k][1][:limit]]
    return 200, envelope(sum(c for c, _ in pages.values()), nxt, prev, bodies)


def decision(store: Store, req: Req, session_id: str) -> Resp:
    row = store.one(
        "SELECT CAST(d.decision AS BLOB) FROM sessions JOIN session_docs d USING (session_id) "
        "WHERE session_id = ? AND deleted = 0",
        [session_id],
    )
    return (200, row[0]) if row else (404, orjson.dumps(NOT_FOUND))


def session_exists(store: Store, session_id: str) -> bool:
    """Unknown ids get 404 on the decision route before any credential check (spec)."""
    return store.one("SELECT 1 FROM sessions WHERE session_id = ?", [session_id]) is not None


def reviews(store: Store, req: Req, session_id: str) -> Resp:
    row = store.one("SELECT kind FROM sessions WHERE session_id = ? AND deleted = 0", [session_id])
    if row is None or row[0] != "user":
        return 404, orjson.dumps(SESSION_NOT_FOUND)
    direction = "ASC" if req.query.get("ordering") == "created_at" else "DESC"
    return offset_list(
        store,
        req,
        "reviews",
        [("session_id = ?", session_id)],
        f"created_at {direction}, uuid {direction}",
    )


def workflows(store: Store, req: Req) -> Resp:
    return offset_list(store, req, "workflows", [], "created_at DESC, uuid DESC")


def users(store: Store, req: Req) -> Resp:
    return offset_list(store, req, "users", [], "sort_at DESC, id DESC", capped=True)


def businesses(store: Store, req: Req) -> Resp:
    return offset_list(store, req, "businesses", [], "sort_at DESC, id DESC", capped=True)


def destinations(store: Store, req: Req) -> Resp:
    rows = store.rows("SELECT CAST(body AS BLOB) FROM destinations ORDER BY created_at, uuid", [])
    return 200, b"[" + b",".join(r[0] for r in rows) + b"]"


def deliveries(store: Store, req: Req, dest: str) -> Resp:
    if store.one("SELECT 1 FROM destinations WHERE uuid = ?", [dest]) is None:
        return 404, orjson.dumps(NOT_FOUND)
    end = parse_utc(store.meta["end"])
    kept = iso_z(end - timedelta(days=int(store.meta["delivery_retention_days"])))
    conds = [("destination_uuid = ?", dest), ("created_at >= ?", kept), *day_bounds(req.query)]
    return offset_list(store, req, "deliveries", conds, "created_at DESC, uuid DESC", capped=True)


def _check_org_app(store: Store, org: str, app: str) -> bool:
    organisation = store.meta["organisation"]
    return org == organisation["organization_id"] and app in {
        a["id"] for a in organisation["applications"]
    }


_CASE_ORDER = {
    "created_at": "created_at ASC, uuid ASC",
    "-created_at": "created_at DESC, uuid DESC",
    "due_at": "json_extract(body, '$.due_at') ASC, uuid ASC",
    "-due_at": "json_extract(body, '$.due_at') DESC, uuid DESC",
}


def cases(store: Store, req: Req, org: str, app: str) -> Resp:
    if not _check_org_app(store, org, app):
        return 404, orjson.dumps(NOT_FOUND)
    conds: list = [("json_extract(body, '$.application_id') = ?", app)]
    statuses = _csv(req, "status__in")
    if statuses:
        conds.append((f"status IN ({','.join('?' * len(statuses))})", None))
        conds.extend((None, s) for s in statuses)
    if req.query.get("priority"):
        conds.append(("priority = ?", req.query["priority"]))
    conds.extend(day_bounds(req.query))
    where, args = _where(conds)
    order = _CASE_ORDER.get(req.query.get("ordering", ""), _CASE_ORDER["-created_at"])
    limit = int_param(req.query, "limit", 50, 1)
    offset = int_param(req.query, "offset", 0, 0)
    rows = store.rows(
        f"SELECT CAST(body AS BLOB) FROM cases{where} ORDER BY {order} LIMIT ? OFFSET ?",  # noqa: S608
        [*args, limit + 1, offset],
    )
    nxt, prev = offset_links(req.base, req.path, req.query, limit, offset, len(rows) > limit)
    return 200, envelope(
        _count(store, "cases", where, args, True), nxt, prev, [r[0] for r in rows[:limit]]
    )


def case_events(store: Store, req: Req, org: str, app: str, case: str) -> Resp:
    if (
        not _check_org_app(store, org, app)
        or store.one("SELECT 1 FROM cases WHERE uuid = ?", [case]) is None
    ):
        return 404, orjson.dumps(NOT_FOUND)
    return offset_list(
        store,
        req,
        "case_events",
        [("case_uuid = ?", case)],
        "created_at DESC, uuid DESC",
        capped=True,
    )


def lists(store: Store, req: Req) -> Resp:
    return offset_list(store, req, "lists", [], "created_at DESC, uuid DESC")


def list_entries(store: Store, req: Req, list_uuid: str) -> Resp:
    if store.one("SELECT 1 FROM lists WHERE uuid = ?", [list_uuid]) is None:
        return 404, orjson.dumps(NOT_FOUND)
    conds: list = [("list_uuid = ?", list_uuid)]
    if req.query.get("search"):
        conds.append(("json_extract(body, '$.value') LIKE ?", f"%{req.query['search']}%"))
    return offset_list(store, req, "list_entries", conds, "created_at DESC, uuid DESC")


def billing_balance(store: Store, req: Req) -> Resp:
    return 200, orjson.dumps(store.meta["billing_balance"])
