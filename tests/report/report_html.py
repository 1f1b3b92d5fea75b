"""Reads what a rendered pack's HTML states, through its data attributes, for the tests."""

from __future__ import annotations

from html.parser import HTMLParser


class PackHtml(HTMLParser):
    """Metrics, table cells (per table id), draft statuses and any external reference."""

    def __init__(self) -> None:
        super().__init__()
        self.metrics: dict[str, str] = {}
        self.previous: dict[str, str] = {}
        self.external: list[str] = []
        self.cells: list[tuple[str, str]] = []
        self.table_cells: dict[str, list[tuple[str, str]]] = {}
        self._table = ""
        self.drafts: dict[tuple[str, str], str] = {}
        self.rows: dict[str, list[dict[str, str]]] = {}

    def handle_starttag(self, tag, attrs):
        found = dict(attrs)
        if tag == "table":
            self._table = found.get("id", "")
        if tag == "tr":
            self.rows.setdefault(self._table, []).append({})
        if "data-stage" in found and "data-incident" in found:
            self.drafts[(found["data-incident"], found["data-stage"])] = found.get(
                "data-status", ""
            )
        if "data-metric" in found:
            # the first occurrence: the management summary comes first
            self.metrics.setdefault(found["data-metric"], found.get("data-value", ""))
            self.previous.setdefault(found["data-metric"], found.get("data-previous", ""))
        if "data-column" in found:
            cell = (found["data-column"], found.get("data-value", ""))
            self.cells.append(cell)
            self.table_cells.setdefault(self._table, []).append(cell)
            self.rows[self._table][-1][cell[0]] = cell[1]
        for name in ("src", "href"):
            value = found.get(name) or ""
            if value and not value.startswith("#"):
                self.external.append(f"<{tag} {name}={value}>")
        if tag in {"script", "link", "iframe", "object", "embed"}:
            self.external.append(tag)
