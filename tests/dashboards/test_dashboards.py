"""The NIS2 dashboards, end to end: Superset provisioned from dashboards/bundle against the
session's real warehouse (read-only role), served by gunicorn, and looked at by a real headless
Chromium that logs in, opens each dashboard and checks every chart rendered with data."""

from __future__ import annotations

import os
import re
import shutil
import urllib.error
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import psycopg
import pytest
import yaml
from psycopg import errors, sql
from psycopg.conninfo import conninfo_to_dict, make_conninfo

from nis2_settings import ROOT, PgSettings
from pipeline import dashboards, meltano
from pipeline.warehouse import mart_schemas
from tests.conftest import PipelineRun

pytestmark = pytest.mark.integration

# Below Linux's ephemeral range, away from the demo's 18088.
PORT = int(os.environ.get("NIS2_TEST_SUPERSET_PORT", "18188"))
BUNDLE = ROOT / "dashboards" / "bundle"
CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
RENDER_DEADLINE_MS = 180_000  # a deadline to give up waiting, never an assertion on speed


def bundle_files(kind: str) -> list[dict]:
    return [yaml.safe_load(p.read_text()) for p in sorted((BUNDLE / kind).rglob("*.yaml"))]


def dashboard_slugs() -> list[str]:
    return [d["slug"] for d in bundle_files("dashboards")]


def charts_per_dashboard() -> dict[str, set[str]]:
    """slug -> the uuids of the charts its layout places (from the files, not from Superset)."""
    return {
        d["slug"]: {
            item["meta"]["uuid"]
            for item in d["position"].values()
            if isinstance(item, dict) and item.get("type") == "CHART"
        }
        for d in bundle_files("dashboards")
    }


@pytest.fixture(scope="module")
def superset(pipeline_run: PipelineRun) -> Iterator[dict]:
    """Superset provisioned from scratch on the session's warehouse, serving on PORT."""
    state = pipeline_run.var_dir / "superset"
    dashboards.stop(state)  # one a crashed session may have left
    shutil.rmtree(state, ignore_errors=True)
    settings = dashboards.demo_settings()
    dashboards.grant_read_only(
        pipeline_run.conninfo,
        str(settings["warehouse_password"]),
        mart_schemas(pipeline_run.conninfo),
    )
    info = conninfo_to_dict(pipeline_run.conninfo)
    pg = PgSettings(
        host=str(info["host"]),
        port=int(info["port"]),
        user=str(info["user"]),
        password="",
        warehouse_db=str(info["dbname"]),
        keycloak_db="keycloak",
        embedded=True,
    )
    env = meltano.pipeline_env(
        pg,
        pipeline_run.var_dir,
        extra={
            "MELTANO_DATABASE_URI": f"sqlite:///{pipeline_run.var_dir / 'meltano.db'}",
            "SUPERSET_DASHBOARDS_PORT": str(PORT),
            "SUPERSET_DASHBOARDS_SECRET_KEY": dashboards.ensure_secret_key(state),
        },
    )
    logs = pipeline_run.var_dir / "log"
    try:
        dashboards.provision_and_serve(env, logs)
        url = f"http://127.0.0.1:{PORT}/"
        dashboards.wait_until_healthy(url, state)
        # a second provisioning changes nothing (the files win, nothing is duplicated)
        meltano.run_logged(
            ["invoke", "superset-dashboards:provision"], env, logs / "superset-provision-2.log"
        )
        yield {
            "env": env,
            "url": url,
            "username": settings["admin_username"],
            "password": settings["admin_password"],
            "state": state,
            "logs": [logs / "superset-start.log", logs / "superset-provision-2.log"],
            "secret": env["SUPERSET_DASHBOARDS_SECRET_KEY"],
        }
    finally:
        dashboards.stop(state)


@pytest.fixture(scope="module")
def browser_page(superset: dict):
    from playwright.sync_api import sync_playwright

    if not Path(CHROMIUM).exists():
        pytest.fail(f"Debian's chromium is required ({CHROMIUM}): apt-get install chromium")
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        page = browser.new_page(viewport={"width": 1600, "height": 1200})
        page.set_default_timeout(RENDER_DEADLINE_MS)
        seen = {"external": [], "console": []}
        base = superset["url"]

        def outside(route):
            seen["external"].append(route.request.url)
            route.abort()

        # anything not served by Superset itself is refused here too (and recorded)
        page.route(re.compile(r"^(?!" + re.escape(base) + r"|data:|blob:).*"), outside)
        page.on("console", lambda message: seen["console"].append(message.text))
        page.on(
            "request",
            lambda request: (
                seen["external"].append(request.url)
                if not request.url.startswith((base, "data:", "blob:"))
                else None
            ),
        )
        page.goto(base + "login/")
        page.fill("#username", str(superset["username"]))
        page.fill("#password", str(superset["password"]))
        page.keyboard.press("Enter")
        page.wait_for_url(re.compile(r".*/superset/welcome/?.*"))
        yield page, seen
        browser.close()


def api_get(page, base: str, path: str) -> dict:
    response = page.request.get(base + path)
    assert response.ok, (path, response.status)
    return response.json()


@pytest.mark.parametrize("slug", dashboard_slugs())
def test_each_chart_of_the_dashboard_renders_with_data(browser_page, superset, slug) -> None:
    page, _ = browser_page
    base = superset["url"]
    expected = charts_per_dashboard()[slug]
    charts = api_get(page, base, f"api/v1/dashboard/{slug}/charts")["result"]
    ids = {c["id"] for c in charts}
    assert len(ids) == len(expected) > 0, f"{slug}: the dashboard lost charts"

    answers: dict[int, dict] = {}

    def on_response(response) -> None:
        if "/api/v1/chart/data" not in response.url:
            return
        form = (response.request.post_data_json or {}).get("form_data") or {}
        if form.get("slice_id") in ids:
            answers[form["slice_id"]] = {"status": response.status, "body": response.json()}

    page.on("response", on_response)
    try:
        page.goto(base + f"superset/dashboard/{slug}/")
        holders = page.locator("[data-test='chart-grid-component']")
        holders.first.wait_for()
        page.wait_for_function(
            "n => document.querySelectorAll(\"[data-test='chart-grid-component']\").length >= n",
            arg=len(ids),
        )
        # every chart's query answered (waiting, with a deadline) ...
        page.wait_for_function(
            "() => !document.querySelector('.loading, [data-test=\"loading-indicator\"]')"
        )
        deadline_checks = 0
        while set(answers) != ids and deadline_checks < RENDER_DEADLINE_MS // 500:
            page.wait_for_timeout(500)
            deadline_checks += 1
        assert set(answers) == ids, f"{slug}: charts that never queried: {ids - set(answers)}"
        # ... with rows, and no error
        for chart_id, answer in answers.items():
            name = next(c["slice_name"] for c in charts if c["id"] == chart_id)
            assert answer["status"] == 200, f"{slug} / {name}: {answer['body']}"
            results = answer["body"]["result"]
            assert results, f"{slug} / {name}: no result"
            assert all(not r.get("error") for r in results), f"{slug} / {name}"
            assert results[0]["rowcount"] > 0, f"{slug} / {name}: no rows"
        # and on the page: each chart drew something, none shows an error or "No results"
        assert holders.count() == len(ids)
        for index in range(holders.count()):
            holder = holders.nth(index)
            drawn = holder.locator(
                "canvas, svg, table tbody tr, .header-line, [data-test='big-number']"
            ).first
            drawn.wait_for()
            assert holder.locator("[data-test='error-message'], .alert-danger").count() == 0
            assert "No results were returned" not in holder.inner_text()
        shots = superset["state"] / "screenshots"
        shots.mkdir(exist_ok=True)
        page.screenshot(path=str(shots / f"{slug}.png"), full_page=True)
    finally:
        page.remove_listener("response", on_response)


def test_the_forensic_view_filters_by_person(browser_page, superset) -> None:
    """The forensic dataset answers a query narrowed to one principal with that principal only."""
    page, _ = browser_page
    base = superset["url"]
    datasets = api_get(page, base, "api/v1/dataset/?q=(page_size:100)")["result"]
    events = next(d for d in datasets if d["table_name"] == "int_security_events_unified")
    body = {
        "datasource": {"id": events["id"], "type": "table"},
        "queries": [
            {
                "columns": ["principal"],
                "metrics": [{"expressionType": "SQL", "sqlExpression": "COUNT(*)", "label": "n"}],
                "orderby": [
                    [{"expressionType": "SQL", "sqlExpression": "COUNT(*)", "label": "n"}, False]
                ],
                "row_limit": 1,
            }
        ],
        "result_format": "json",
        "result_type": "full",
    }
    csrf = api_get(page, base, "api/v1/security/csrf_token/")["result"]
    top = page.request.post(base + "api/v1/chart/data", data=body, headers={"X-CSRFToken": csrf})
    assert top.ok, top.text()
    person = top.json()["result"][0]["data"][0]["principal"]
    assert person
    body["queries"][0]["filters"] = [{"col": "principal", "op": "IN", "val": [person]}]
    body["queries"][0]["row_limit"] = 100
    narrowed = page.request.post(
        base + "api/v1/chart/data", data=body, headers={"X-CSRFToken": csrf}
    ).json()["result"][0]["data"]
    assert [row["principal"] for row in narrowed] == [person]


def test_nothing_is_fetched_from_elsewhere(browser_page, superset) -> None:
    """Superset's pages carry a telemetry pixel: the CSP keeps the browser from fetching it."""
    page, seen = browser_page
    response = page.request.get(superset["url"] + "login/")
    policy = response.headers.get("content-security-policy", "")
    assert "default-src 'self'" in policy
    assert not re.search(r"https?://", policy), policy
    for url in seen["external"]:
        assert any("Content Security Policy" in m and url in m for m in seen["console"]), url


def test_provisioning_is_idempotent_and_keeps_secrets_out_of_logs(browser_page, superset) -> None:
    page, _ = browser_page
    base = superset["url"]
    for kind, api in (("dashboards", "dashboard"), ("charts", "chart"), ("datasets", "dataset")):
        count = api_get(page, base, f"api/v1/{api}/?q=(page_size:1)")["count"]
        assert count == len(bundle_files(kind)), kind
    secrets = [
        superset["secret"],
        str(superset["password"]),
        str(dashboards.demo_settings()["warehouse_password"]),
    ]
    for log in [*superset["logs"], superset["state"] / "superset.log"]:
        text = log.read_text(errors="replace")
        assert text.strip(), log
        for secret in secrets:
            assert secret not in text, f"a secret is in {log.name}"


def test_export_gives_back_what_the_files_say(superset, pipeline_run, tmp_path) -> None:
    """`superset-dashboards:export` (README: edit in Superset, export, commit) writes the same
    dashboards, charts and datasets, by uuid, and no address or password of the warehouse."""
    out = tmp_path / "bundle"
    env = {**superset["env"], "NIS2_SUPERSET_EXPORT_DIR": str(out)}
    meltano.run_logged(
        ["invoke", "superset-dashboards:export"], env, tmp_path / "superset-export.log"
    )
    for kind in ("dashboards", "charts", "datasets", "databases"):
        exported = {yaml.safe_load(p.read_text())["uuid"] for p in (out / kind).rglob("*.yaml")}
        assert exported == {f["uuid"] for f in bundle_files(kind)}, kind
    text = "\n".join(p.read_text() for p in out.rglob("*.yaml"))
    assert str(dashboards.demo_settings()["warehouse_password"]) not in text
    port = conninfo_to_dict(pipeline_run.conninfo)["port"]
    uris = [yaml.safe_load(p.read_text())["sqlalchemy_uri"] for p in (out / "databases").glob("*")]
    assert uris
    assert all(f":{port}/" not in uri for uri in uris), uris


def _in_read_write(conn: psycopg.Connection, statement: sql.Composable) -> None:
    with conn.transaction():
        conn.execute("set transaction read write")
        conn.execute(statement)


def test_the_dashboards_role_can_read_the_marts_and_nothing_else(pipeline_run) -> None:
    settings = dashboards.demo_settings()
    info = conninfo_to_dict(pipeline_run.conninfo)
    info.update(user=dashboards.ROLE, password=str(settings["warehouse_password"]))
    mart = sql.Identifier(mart_schemas(pipeline_run.conninfo)[0])
    deadlines = sql.SQL("{}.mart_nis2_reporting_deadlines").format(mart)
    with psycopg.connect(make_conninfo(**info), autocommit=True) as conn:
        count = sql.SQL("select count(*) from {}")
        assert conn.execute(count.format(deadlines)).fetchone()[0] > 0
        view = sql.Identifier(*dashboards.FORENSIC_VIEW)
        assert conn.execute(count.format(view)).fetchone()[0] > 0
        delete = sql.SQL("delete from {}").format(deadlines)
        with pytest.raises(errors.ReadOnlySqlTransaction):  # read-only by default ...
            conn.execute(delete)
        refused = [
            delete,  # ... and without the right to write when asked for read-write
            sql.SQL("insert into {}.mart_nis2_log_ingestion_gaps (gap_id) values ('x')").format(
                mart
            ),
            sql.SQL("create table public.nis2_dashboards_probe (id int)"),
            sql.SQL("create table {}.nis2_dashboards_probe (id int)").format(mart),
            sql.SQL("select count(*) from tap_didit.audit_logs"),
            sql.SQL("select count(*) from analytics_staging.stg_didit__audit_logs"),
        ]
        for statement in refused:
            with pytest.raises(errors.InsufficientPrivilege):
                _in_read_write(conn, statement)


def test_stop_ends_our_server_by_its_pid(superset) -> None:
    """`nis2-pipeline stop` (dashboards.stop): the pid file's gunicorn, checked to be ours.
    The module's last test: the server is gone afterwards."""
    pid = dashboards.running_pid(superset["state"])
    assert pid is not None
    assert f"127.0.0.1:{PORT}".encode() in Path(f"/proc/{pid}/cmdline").read_bytes().split(b"\0")
    assert dashboards.stop(superset["state"])
    assert not Path(f"/proc/{pid}").exists()
    assert dashboards.running_pid(superset["state"]) is None
    with pytest.raises(urllib.error.URLError, match="Connection refused"):
        urllib.request.urlopen(superset["url"] + "health", timeout=5)  # noqa: S310
