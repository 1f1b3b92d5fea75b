"""The macro lint (tests/transform/macro_lint.py) sees the SQL inside a macro body, which
`sqlfluff lint` on the macro file does not: an upper-case keyword written in the body of the
project's duplicate_key_rows macro is reported at its own line, and the file as it is has no
such finding. The project's macros and generic tests lint clean (make lint runs the same)."""

from __future__ import annotations

from pathlib import Path

from tests.transform.macro_lint import (
    TRANSFORM,
    lint_files,
)

SOURCE = TRANSFORM / "macros" / "key_tests.sql"


def _copy(tmp_path: Path, text: str, name: str = "key_tests.sql") -> Path:
    # Beside the project's .sqlfluff (the rules of the models), in a folder of its own.
    path = tmp_path / name
    path.write_text(text)
    return path


def test_upper_case_keyword_in_macro_body_is_reported(tmp_path):
    lines = SOURCE.read_text().splitlines(keepends=True)
    line_no = next(i for i, line in enumerate(lines, 1) if line.strip() == "select")
    lines[line_no - 1] = lines[line_no - 1].replace("select", "SELECT")
    findings = lint_files([_copy(tmp_path, "".join(lines))])
    assert [(f.line, f.code) for f in findings if f.code == "CP01"] == [(line_no, "CP01")]


def test_macro_file_as_it_is_has_no_capitalisation_finding(tmp_path):
    findings = lint_files([_copy(tmp_path, SOURCE.read_text())])
    assert [f for f in findings if f.code.startswith("CP")] == []


def test_plain_sqlfluff_lint_of_the_macro_file_misses_it(tmp_path):
    """Why the macro lint exists: the jinja templater renders a macro-only file to blanks."""
    import sqlfluff

    text = SOURCE.read_text().replace("    select\n", "    SELECT\n", 1)
    assert "SELECT" in text
    result = sqlfluff.lint(text, config_path=str(TRANSFORM.parent / ".sqlfluff"))
    assert [v for v in result if v["code"] == "CP01"] == []


def test_where_on_the_line_of_from_in_an_expression_macro_is_reported(tmp_path):
    """A fragment (here a scalar subquery, as macros/thresholds.sql writes) is linted as the
    select target it becomes, and a keyword argument named like an SQL keyword still parses."""
    text = (
        "{% macro policy(code, column='x') -%}\n"
        "    (select cast({{ column }} as numeric) from {{ ref('detection_policy') }}"
        " where policy_code = '{{ code }}')\n"
        "{%- endmacro %}\n"
    )
    findings = lint_files([_copy(tmp_path, text, "thresholds.sql")])
    assert [(f.line, f.code) for f in findings] == [(2, "LT14")]


def test_dbt_context_the_macros_read_at_compile_time_is_filled_in(tmp_path):
    """config.get, adapter and flags render (no templating finding), so the SQL after them
    is linted: the upper-case keyword in it is found."""
    text = (
        "{% macro m(relation) -%}\n"
        "    {%- set materialized = config.get('materialized', 'table') -%}\n"
        "    {%- set columns = adapter.get_columns_in_relation(relation) -%}\n"
        "    {%- if flags.WHICH in ['run', 'build'] or columns | length == 0 %}\n"
        "    SELECT 1 as one\n"
        "    {%- endif %}\n"
        "{%- endmacro %}\n"
    )
    findings = lint_files([_copy(tmp_path, text, "context.sql")])
    assert [(f.line, f.code) for f in findings] == [(5, "CP01")]


# macros/latest_version.sql before issue 21: sqlfluff's LT09 throws on the first CTE's select
# (a single target behind jinja tags) and, the code being template output, drops the finding.
LATEST_VERSION_BEFORE = """\
{% macro latest_version(relation, key, incremental=false, as_json=false, key_columns=none) %}
{%- set one_version = key_is_unique(relation, key_columns or [key]) | trim == 'true' -%}
{#- materialized: otherwise PostgreSQL inlines the CTE and rebuilds to_jsonb(s) for every
    field read from rec (15 times slower on Wazuh alerts) -#}
with source as {% if as_json %}materialized {% endif %}(
    select
        {%- if as_json %} to_jsonb(s) as rec, s._sdc_batched_at, s._sdc_deleted_at
        {%- else %} s.*
        {%- endif %}
    from {{ relation }} as s
    {%- if incremental %}{{ loaded_since_last_run() }}{% endif %}
),

latest as (
    select
        *,
        {%- if one_version %}
        1 as version_rank
        {%- else %}
        row_number() over (
            partition by {{ key }} order by _sdc_batched_at desc
        ) as version_rank
        {%- endif %}
    from source
)
{% endmacro %}
"""


def test_a_rule_that_throws_on_a_macro_body_is_a_finding(tmp_path):
    findings = lint_files([_copy(tmp_path, LATEST_VERSION_BEFORE, "latest_version.sql")])
    assert {f.code for f in findings} & {"CRASH", "LT09"}
