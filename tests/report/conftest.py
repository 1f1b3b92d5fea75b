"""Fixtures for the report tests: in-memory marts, a rendered pack, a scratch Postgres."""

from __future__ import annotations

import os
import shutil
import socket
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest
from report_samples import TEST_KEY, sample_tables

from report.pack import PackResult, render_pack
from report.period import Period, parse_period
from report.warehouse import InMemorySource


@pytest.fixture
def october() -> Period:
    return parse_period("2026-10")


@pytest.fixture
def sample_source() -> InMemorySource:
    return InMemorySource(sample_tables())


@pytest.fixture(scope="session")
def pseudonym_key() -> Iterator[str]:
    before = os.environ.get("NIS2_PSEUDONYM_KEY")
    os.environ["NIS2_PSEUDONYM_KEY"] = TEST_KEY
    yield TEST_KEY
    if before is None:
        os.environ.pop("NIS2_PSEUDONYM_KEY", None)
    else:
        os.environ["NIS2_PSEUDONYM_KEY"] = before


@pytest.fixture(scope="session")
def rendered_pack(tmp_path_factory: pytest.TempPathFactory, pseudonym_key: str) -> PackResult:
    """The pseudonymised pack for October 2026, with its PDF, rendered once per session."""
    return render_pack(
        InMemorySource(sample_tables()),
        parse_period("2026-10"),
        "Example Org",
        tmp_path_factory.mktemp("packs"),
    )


@pytest.fixture(scope="session")
def scratch_pg() -> Iterator[str]:
    """A throw-away embedded PostgreSQL server (the real thing) on a free loopback port."""
    from pipeline.postgres import EmbeddedPostgres

    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    folder = Path(tempfile.mkdtemp(prefix="report-pg-"))
    server = EmbeddedPostgres(folder, port)
    server.start()
    yield f"host=127.0.0.1 port={port} user=postgres dbname=postgres"
    server.stop()
    shutil.rmtree(folder, ignore_errors=True)


class CountingSource(InMemorySource):
    """In-memory marts that remember every mart read, to prove each is read once."""

    def __init__(self, tables) -> None:
        super().__init__(tables)
        self.reads: list[str] = []

    def fetch(self, name, at_columns, since, until):
        self.reads.append(name)
        return super().fetch(name, at_columns, since, until)


def pack_text_files(folder: Path) -> dict[str, str]:
    return {
        p.relative_to(folder).as_posix(): p.read_text(encoding="utf-8")
        for p in folder.rglob("*")
        if p.is_file() and p.suffix in {".html", ".csv", ".json", ".md", ""}
    }
