"""Lint the SQL inside the dbt macros with the project's sqlfluff rules.

`sqlfluff lint` on a file that only defines macros lints nothing of them: the jinja templater
renders such a file to blank lines, and a macro's SQL is linted only where a model calls it,
where sqlfluff drops every finding inside templated code (ignore_templated_areas). So each
macro (and each generic test) is linted here on its own: its body becomes the whole template,
with the file's other lines turned into a jinja comment so that line numbers stay those of the
file, its arguments set to their defaults or to a relation named like the argument (SAMPLE_ARGS
where a list is expected), and, when the body is a fragment (an expression, a WHERE clause,
CTEs without their SELECT), the least text around it that makes it a statement. That text is
template output, so sqlfluff reports nothing about it; everything written in the macro is
linted as in a model. Run: `.venv/bin/python -m tests.transform.macro_lint` (make lint).
"""

from __future__ import annotations

import argparse
import logging
import multiprocessing
import re
import sys
from dataclasses import dataclass
from pathlib import Path
from types import SimpleNamespace

ROOT = Path(__file__).resolve().parents[2]
TRANSFORM = ROOT / "transform"
MACRO_DIRS = (TRANSFORM / "macros", TRANSFORM / "tests" / "generic")

OPEN_TAG = re.compile(
    r"\{%(?P<lm>[-+]?)\s*(?P<kind>macro|test)\s+(?P<name>\w+)\s*\((?P<args>.*?)\)\s*"
    r"(?P<rm>[-+]?)%\}",
    re.S,
)
CLOSE_TAG = re.compile(r"\{%(?P<lm>[-+]?)\s*end(?:macro|test)\s*(?P<rm>[-+]?)%\}")

# Arguments that must be lists or dicts for the body to render (jinja expressions).
_CHECKS = (
    "[{'field': 'id', 'ok': 'x.id is not null', 'reason': 'blank', 'action': 'rejected', "
    "'raw_value': none}, {'field': 'ts', 'ok': 'x.ts is not null', 'reason': 'no time', "
    "'action': 'field_nulled', 'raw_value': 'x.ts'}]"
)
SAMPLE_ARGS: dict[str, dict[str, str]] = {
    "key_is_unique": {"columns": "['id']"},
    "unique_index_exists": {"columns": "['id']"},
    "raw_fields": {"text_fields": "['id', 'timestamp']", "json_fields": "['rule']"},
    "wazuh_alert_row_hash": {
        "f": "{'id': 'id', 'timestamp': 'ts', 'rule': 'rule', "
        "'agent': 'agent', 'data': 'data', 'location': 'location'}"
    },
    "sha256_hex": {"parts": "['id', 'event_ts']"},
    "stg_from_json": {
        "source_name": "'didit'",
        "table_name": "'sessions'",
        "key": "'id'",
        "fields": "[['id', 'session_id', 'text'], ['created_at', 'created_at', 'ts'], "
        "['n', 'n', 'int'], ['x', 'x', 'num'], ['ok', 'ok', 'bool'], ['doc', 'doc', 'json']]",
    },
    "rejects_config": {"streams": "[['didit', 'audit_logs', 'uuid']]"},
    "quarantine_kept": {"checks": _CHECKS},
    "quarantine_clean": {"checks": _CHECKS},
    "quarantine_key_usable": {"checks": _CHECKS, "key_column": "'id'"},
    "quarantine_rejects": {"checks": _CHECKS, "key_column": "'id'", "stream": "'audit_logs'"},
    "incident_register_checks": {"f": "incident_register_fields()"},
}


class _Config:
    """dbt's `config`: called in a model, read with config.get() in a macro."""

    def __call__(self, *args, **kwargs) -> str:
        return ""

    def get(self, name, default=None):
        return default


class _Adapter:
    """dbt's `adapter`, for the calls the macros make at compile time (no database here)."""

    def get_columns_in_relation(self, relation) -> list:
        return []

    def commit(self) -> str:
        return ""


class _QueryResult:
    """What dbt's run_query returns (an agate table), here with no rows and a 0 in each
    column, so that a macro reading a count or a value out of it renders on."""

    rows: tuple = ()
    columns = tuple(SimpleNamespace(values=lambda: (0,)) for _ in range(16))


# dbt's context that sqlfluff's dbt builtins lack, as in `dbt compile` without a database.
DBT_STUBS = {
    "config": _Config(),
    "adapter": _Adapter(),
    "flags": SimpleNamespace(WHICH="compile", FULL_REFRESH=False),
    "invocation_args_dict": {},
    "run_query": lambda sql: _QueryResult(),
    "log": lambda message, info=False: "",
    "exceptions": SimpleNamespace(raise_compiler_error=lambda message: "", warn=lambda m: ""),
}

# Text around a body so that it parses as one or more statements, tried in this order: (text
# before, text after, whether the body sits in a jinja block). A block indents what it holds by
# one level, as the macro block does in the file; an expression is indented by the select
# clause around it instead.
WRAPPERS: tuple[tuple[str, str, bool], ...] = (
    ("", "", True),  # statements
    ("select ", "", False),  # an expression
    ("select * from t ", "", True),  # a clause: where ..., join ...
    ("", "\nselect 1", True),  # CTEs without their select
)
# What the calling model supplies for a wrapped body, so not a finding in it: the select that
# reads the CTEs.
WRAPPER_SUPPLIES = {WRAPPERS[3]: ("ST03",)}

# Rules not applied to macro bodies. LT12, LT13: about the edges of the rendered body, which the
# wrapper or the calling model decides. LT02 (indentation): a body's indentation is relative to
# wherever a model calls it, and sqlfluff counts every jinja block ({% if %}, {% for %}) as one
# more indent level, where the macros use such tags inside an expression, around a select
# target or around whole statements; see transform/README.md. Models keep all three rules.
MACRO_BODY_EXCLUDED_RULES = ("LT02", "LT12", "LT13")


@dataclass(frozen=True)
class Finding:
    path: Path
    line: int
    column: int
    code: str
    description: str

    def __str__(self) -> str:
        try:
            shown = self.path.relative_to(ROOT)
        except ValueError:
            shown = self.path
        return f"{shown}:{self.line}:{self.column}: {self.code} {self.description}"


@dataclass(frozen=True)
class Macro:
    name: str
    head: str  # comment keeping the line count, then the argument values
    body: str


def _split_args(args: str) -> list[str]:
    parts, depth, quote, current = [], 0, "", ""
    for char in args:
        if quote:
            quote = "" if char == quote else quote
        elif char in "'\"":
            quote = char
        elif char in "([{":
            depth += 1
        elif char in ")]}":
            depth -= 1
        elif char == "," and depth == 0:
            parts.append(current)
            current = ""
            continue
        current += char
    if current.strip():
        parts.append(current)
    return [p.strip() for p in parts]


def macros_of(source: str) -> list[Macro]:
    """Every macro and test block of a file, each as a template of its own."""
    found = []
    for opening in OPEN_TAG.finditer(source):
        closing = CLOSE_TAG.search(source, opening.end())
        if closing is None:
            raise ValueError(f"no end tag for {opening.group('name')}")
        name = opening.group("name")
        sets = []
        for arg in _split_args(opening.group("args")):
            arg_name, _, default = arg.partition("=")
            arg_name = arg_name.strip()
            value = SAMPLE_ARGS.get(name, {}).get(arg_name) or default.strip()
            # a relation named after the argument ('_arg': a name like column is a keyword)
            value = value or f"ref({arg_name + '_arg'!r})"
            sets.append(f"{{% set {arg_name} = {value} %}}")
        newlines = source[: opening.end()].count("\n")
        head = ("{#" + "\n" * newlines + "#}" if newlines else "") + "".join(sets)
        found.append(Macro(name, head, source[opening.end() : closing.start()]))
    return found


def _linter():
    from sqlfluff.core import FluffConfig, Linter

    excluded = FluffConfig.from_path(str(ROOT)).get("exclude_rules") or ""
    excluded_rules = [*re.split(r"\s*,\s*", excluded.strip()), *MACRO_BODY_EXCLUDED_RULES]
    rules = ",".join(filter(None, excluded_rules))
    linter = Linter(config=FluffConfig.from_path(str(ROOT), overrides={"exclude_rules": rules}))
    _prepare_templater(linter.templater)
    return linter


def _prepare_templater(templater) -> None:
    """Add DBT_STUBS to the jinja context (before the macros of load_macros_from_path are
    compiled against it), and build that context once: the templater compiles every macro file
    twice for each string it renders, which was most of the run time. This linter renders only
    with its own config, so each render gets a copy of the one context (the undefined-variable
    tracking adds to it). The jinja environments it makes, all alike, share one cache of
    compiled templates (the variants and the tracer compile the same text again)."""
    get_context = templater.get_context
    build = templater._get_env_context
    make_env = templater._get_jinja_env
    built: dict = {}
    compiled: dict = {}

    def env_with_cache(config=None):
        env = make_env(config)
        compile_source = env.compile

        def cached_compile(source, name=None, filename=None, raw=False, defer_init=False):
            if not isinstance(source, str):
                return compile_source(source, name, filename, raw, defer_init)
            key = (source, name, filename, raw, defer_init)
            if key not in compiled:
                compiled[key] = compile_source(source, name, filename, raw, defer_init)
            return compiled[key]

        env.compile = cached_compile
        return env

    def context_with_stubs(fname=None, config=None):
        return {**get_context(fname, config), **DBT_STUBS}

    def cached(fname, config, env):
        if "context" not in built:
            built["context"] = build(fname, config, env)
        return dict(built["context"])

    templater.get_context = context_with_stubs
    templater._get_env_context = cached
    templater._get_jinja_env = env_with_cache


def _template(macro: Macro, wrapper_open: str, wrapper_close: str, block: bool) -> str:
    return (
        # All on the first line, before the comment that keeps the line count: no line moves.
        # return() of a macro that computes a value: rendered as nothing, like dbt's.
        "{%- macro return(value) %}{% endmacro -%}"
        # dbt's parse phase: no database, the branches written for it render
        "{%- set execute = false -%}"
        # The wrapper is template output, so sqlfluff reports nothing about it.
        + f"{{%- set wrapper_open = {wrapper_open!r} -%}}"
        + f"{{%- set wrapper_close = {wrapper_close!r} -%}}"
        + macro.head
        + ("{{ wrapper_open }}{% if true %}" if block else "{{ wrapper_open }}")
        + macro.body
        + ("{% endif %}{{ wrapper_close }}" if block else "{{ wrapper_close }}")
        + "\n"
    )


class _RuleCrashes(logging.Handler):
    """A rule that throws is logged by sqlfluff and its finding dropped when the code it was
    looking at is template output; here it is a finding (and no traceback on the terminal)."""

    def __init__(self) -> None:
        super().__init__(logging.ERROR)
        self.messages: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.messages.append(record.getMessage().splitlines()[0])


def lint_macro(linter, path: Path, macro: Macro, rule_pack=None) -> list[Finding]:
    """Findings inside one macro body; a body that parses under no wrapper reports why."""
    crashes = _RuleCrashes()
    rules_log = logging.getLogger("sqlfluff.rules")
    rules_log.addHandler(crashes)
    propagate, rules_log.propagate = rules_log.propagate, False
    try:
        chosen, wrapper = None, WRAPPERS[0]
        for candidate in WRAPPERS:
            parsed = linter.parse_string(_template(macro, *candidate), fname=str(path))
            if not parsed.violations:  # templating, lexing and parsing errors
                chosen, wrapper = parsed, candidate
                break
        if chosen is None:  # reported as it fails without a wrapper
            chosen = linter.parse_string(_template(macro, *wrapper), fname=str(path))
        else:
            # The other variants force the branches the first rendering did not take, in
            # combinations no call may make; one that does not parse (sqlfluff reports no
            # parse error for it) gives findings about its broken text only, so is left out.
            chosen = chosen._replace(
                parsed_variants=[
                    v for i, v in enumerate(chosen.parsed_variants) if i == 0 or not v.violations()
                ]
            )
        result = linter.lint_parsed(chosen, rule_pack or linter.get_rulepack())
    finally:
        rules_log.removeHandler(crashes)
        rules_log.propagate = propagate
    supplied = WRAPPER_SUPPLIES.get(wrapper, ())
    opening_line = macro.head.count("\n") + 1
    return [
        Finding(path, v.line_no, v.line_pos, v.rule_code(), v.desc())
        for v in result.get_violations()
        if v.rule_code() not in supplied
    ] + [Finding(path, opening_line, 1, "CRASH", message) for message in crashes.messages]


def macro_files() -> list[Path]:
    """Every macro file and generic test."""
    return sorted(p for d in MACRO_DIRS for p in d.glob("*.sql"))


_worker: dict = {}  # this process's linter and rule pack


def _lint_file(path: Path) -> list[Finding]:
    if not _worker:
        _worker["linter"] = _linter()
        _worker["rules"] = _worker["linter"].get_rulepack()
    return [
        finding
        for macro in macros_of(path.read_text())
        for finding in lint_macro(_worker["linter"], path, macro, _worker["rules"])
    ]


def lint_files(paths: list[Path], processes: int = 1) -> list[Finding]:
    """One linter per process, reused for every body; files shared out, largest first."""
    ordered = sorted(paths, key=lambda p: p.stat().st_size, reverse=True)
    if processes > 1 and len(paths) > 1:
        context = multiprocessing.get_context("fork")
        with context.Pool(min(processes, len(paths))) as pool:
            per_file = pool.map(_lint_file, ordered, chunksize=1)
    else:
        per_file = [_lint_file(path) for path in ordered]
    findings = {finding for found in per_file for finding in found}
    return sorted(findings, key=lambda f: (str(f.path), f.line, f.column, f.code))


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--processes", type=int, default=1)
    parser.add_argument("files", nargs="*", type=Path)
    args = parser.parse_args(argv)
    paths = [p.resolve() for p in args.files] or macro_files()
    findings = lint_files(paths, args.processes)
    for finding in findings:
        print(finding)
    print(f"macro lint: {len(paths)} files, {len(findings)} findings")
    return 1 if findings else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
