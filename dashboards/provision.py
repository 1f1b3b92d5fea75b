"""Provision, serve and export the NIS2 dashboards; run by the `superset` plugin's own Python.

    meltano invoke superset:provision   # admin login, then import dashboards/bundle
    meltano invoke superset:serve       # gunicorn on host:port, in the background (pid file)
    meltano invoke superset:start       # both, unless the server already runs (then provision)
    meltano invoke superset:export      # write Superset's dashboards back to dashboards/bundle

`provision` is idempotent: it migrates Superset's metadata database (a no-op once current),
creates Superset's roles and permissions (`superset init`: the slow part, about a minute on two
cores, done again only when the Superset version changes: <state_dir>/provisioned.txt), creates
or updates the admin login from the settings, and imports the bundle with overwrite, so what
the files say wins. The warehouse connection's address and password come from the settings,
never from the files.

Only Superset's own venv runs this file (it needs no package of this repository). Settings
arrive as environment variables (meltano.yml, plugin `superset`); secrets are never printed.
"""

from __future__ import annotations

import os
import shutil
import sys
import tempfile
from datetime import UTC, datetime
from pathlib import Path
from urllib.parse import quote

import yaml

BUNDLE = Path(__file__).resolve().parent / "bundle"
# The schema names the bundle's files carry (dbt's defaults); other settings are swapped in.
BUNDLE_SCHEMAS = {"mart_schema": "analytics_nis2", "intermediate_schema": "analytics_intermediate"}
# Superset's model name each import command checks in metadata.yaml.
IMPORT_ORDER = (
    ("database", "Database"),
    ("dataset", "SqlaTable"),
    ("chart", "Slice"),
    ("dashboard", "Dashboard"),
)
# The connection in the files: provision replaces it with the settings' address and password.
PLACEHOLDER_URI = "postgresql+psycopg2://nis2_dashboards:XXXXXXXXXX@127.0.0.1:5432/warehouse"


def env(name: str, default: str | None = None) -> str:
    value = os.environ.get(f"NIS2_SUPERSET_{name.upper()}", default)
    if value is None or value == "":
        raise SystemExit(f"superset: setting {name} is not set (NIS2_SUPERSET_{name.upper()})")
    return value


def state_dir() -> Path:
    path = Path(env("state_dir", "var/superset")).resolve()
    path.mkdir(parents=True, exist_ok=True)
    return path


def warehouse_uri() -> str:
    user = quote(env("warehouse_user"), safe="")
    password = quote(env("warehouse_password"), safe="")
    host, port, database = env("warehouse_host"), env("warehouse_port"), env("warehouse_database")
    return f"postgresql+psycopg2://{user}:{password}@{host}:{port}/{quote(database, safe='')}"


def bundle_contents() -> dict[str, str]:
    """The bundle's files, with the settings' schema names and the warehouse's address."""
    contents: dict[str, str] = {}
    for path in sorted(BUNDLE.rglob("*.yaml")):
        name = path.relative_to(BUNDLE).as_posix()
        if name == "metadata.yaml":
            continue
        text = path.read_text(encoding="utf-8")
        for setting, default in BUNDLE_SCHEMAS.items():
            wanted = env(setting, default)
            if wanted != default:
                text = text.replace(default, wanted)
        if name.startswith("databases/"):
            config = yaml.safe_load(text)
            config["sqlalchemy_uri"] = warehouse_uri()
            text = yaml.safe_dump(config, sort_keys=False)
        contents[name] = text
    if not any(n.startswith("dashboards/") for n in contents):
        raise SystemExit(f"superset: no dashboards in {BUNDLE}")
    return contents


def metadata(model: str) -> str:
    stamp = datetime.now(UTC).isoformat()
    return yaml.safe_dump({"version": "1.0.0", "type": model, "timestamp": stamp})


def version_stamp() -> str:
    from importlib.metadata import version

    return f"apache-superset {version('apache-superset')}\n"


def ensure_admin(security_manager) -> str:
    username, password = env("admin_username"), env("admin_password")
    user = security_manager.find_user(username=username)
    if user is None:
        role = security_manager.find_role("Admin")
        user = security_manager.add_user(
            username, "NIS2", "Admin", env("admin_email", "admin@localhost"), role, password
        )
        if not user:
            raise SystemExit(f"superset: could not create the admin user {username!r}")
        return "created"
    security_manager.reset_password(user.id, password)
    return "updated"


def provision() -> int:
    # imported here: Superset reads SUPERSET_CONFIG_PATH when its app is created
    from flask_migrate import upgrade
    from superset.app import create_app

    contents = bundle_contents()
    stamp = state_dir() / "provisioned.txt"
    app = create_app()
    with app.app_context():
        from superset import appbuilder, db, security_manager
        from superset.commands.chart.importers.v1 import ImportChartsCommand
        from superset.commands.dashboard.importers.v1 import ImportDashboardsCommand
        from superset.commands.database.importers.v1 import ImportDatabasesCommand
        from superset.commands.dataset.importers.v1 import ImportDatasetsCommand
        from superset.utils.core import override_user

        upgrade()  # `superset db upgrade`: Superset's own migrations, a no-op once current
        print("superset: metadata database is current", flush=True)
        if not stamp.exists() or stamp.read_text() != version_stamp():
            print("superset: creating roles and permissions (first run: about a minute)")
            appbuilder.add_permissions(update_perms=True)  # = `superset init`
            security_manager.sync_role_definitions()
            db.session.commit()
        print(f"superset: admin login {ensure_admin(security_manager)}", flush=True)
        db.session.commit()

        commands = {
            "database": ImportDatabasesCommand,
            "dataset": ImportDatasetsCommand,
            "chart": ImportChartsCommand,
            "dashboard": ImportDashboardsCommand,
        }
        admin = security_manager.find_user(username=env("admin_username"))
        with override_user(admin):
            for kind, model in IMPORT_ORDER:
                bundle = {**contents, "metadata.yaml": metadata(model)}
                commands[kind](bundle, overwrite=True).run()
        counts = {k: sum(n.startswith(f"{k}s/") for n in contents) for k, _ in IMPORT_ORDER}
        print(
            "superset: imported "
            + ", ".join(f"{n} {kind}{'s' if n != 1 else ''}" for kind, n in counts.items()),
            flush=True,
        )
    stamp.write_text(version_stamp())
    return 0


def serve() -> int:
    """gunicorn in the background; its pid in <state_dir>/superset.pid (`nis2-pipeline stop`)."""
    folder = state_dir()
    bind = f"{env('host', '127.0.0.1')}:{env('port', '8088')}"
    gunicorn = Path(sys.executable).parent / "gunicorn"
    args = [
        str(gunicorn),
        "--bind", bind,
        "--workers", env("workers", "2"),
        "--worker-class", "gthread",
        "--threads", "4",
        "--timeout", "120",
        "--daemon",
        "--pid", str(folder / "superset.pid"),
        "--error-logfile", str(folder / "superset.log"),
        "--access-logfile", str(folder / "access.log"),
        "--capture-output",
        "superset.app:create_app()",
    ]  # fmt: skip
    print(f"superset: serving on http://{bind}/ (log: {folder / 'superset.log'})", flush=True)
    os.execv(args[0], args)  # noqa: S606 (gunicorn of this venv, fixed arguments)
    return 1  # not reached


def running() -> bool:
    """Whether the gunicorn of <state_dir>/superset.pid still runs (its pid, not a reused one)."""
    pid_file = state_dir() / "superset.pid"
    try:
        pid = int(pid_file.read_text().strip())
        cmdline = Path(f"/proc/{pid}/cmdline").read_bytes().decode(errors="replace")
    except (OSError, ValueError):
        return False
    return "gunicorn" in cmdline and str(pid_file) in cmdline


def start() -> int:
    """Provision, then serve unless the server runs already (it reads the new metadata)."""
    provision()
    if running():
        print("superset: already running", flush=True)
        return 0
    return serve()


def export() -> int:
    """Every dashboard (with its charts, datasets and connection) into dashboards/bundle
    (or NIS2_SUPERSET_EXPORT_DIR), replacing what is there: the diff shows what changed."""
    from superset.app import create_app

    app = create_app()
    with app.app_context():
        from superset import db, security_manager
        from superset.commands.dashboard.export import ExportDashboardsCommand
        from superset.models.dashboard import Dashboard
        from superset.utils.core import override_user

        admin = security_manager.find_user(username=env("admin_username"))
        ids = [id_ for (id_,) in db.session.query(Dashboard.id).all()]
        with tempfile.TemporaryDirectory() as tmp, override_user(admin):
            out = Path(tmp) / "bundle"
            for name, content in ExportDashboardsCommand(ids).run():
                if name == "metadata.yaml":
                    continue
                text = content()
                if name.startswith("databases/"):
                    config = yaml.safe_load(text)
                    # the address and password are the settings' (provision swaps them in)
                    config["sqlalchemy_uri"] = PLACEHOLDER_URI
                    text = yaml.safe_dump(config, sort_keys=False)
                path = out / name
                path.parent.mkdir(parents=True, exist_ok=True)
                path.write_text(text, encoding="utf-8")
            target = Path(os.environ.get("NIS2_SUPERSET_EXPORT_DIR") or BUNDLE)
            shutil.rmtree(target, ignore_errors=True)
            shutil.copytree(out, target)
    print(f"superset: exported {len(ids)} dashboards to {target}; review the diff and commit")
    return 0


def main(argv: list[str]) -> int:
    actions = {"provision": provision, "serve": serve, "start": start, "export": export}
    if len(argv) != 1 or argv[0] not in actions:
        print(f"usage: provision.py {{{','.join(actions)}}}", file=sys.stderr)
        return 2
    return actions[argv[0]]()


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
