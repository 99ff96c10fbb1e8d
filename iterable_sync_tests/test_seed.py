"""The synthetic warehouse: reproducible, realistic, and dirty at the documented rates.

Each scenario runs on a real DuckDB file. The rates below are the ones docs/seed-data.md
promises; the tests hold the generator to them.
"""

import datetime as dt
import json
import math
import re
from collections.abc import Callable, Iterator
from pathlib import Path

import duckdb
import pytest
import sqlglot

from iterable_sync.seed import (
    EMAIL_PATTERN,
    QUALIFIED_TABLE,
    SeedSummary,
    is_empty,
    seed_contacts,
)

ROWS = 20_000
AS_OF = dt.date(2026, 3, 15)

#: Probability per row of each kind of dirt, as documented (per 100,000 rows / 100,000).
DOCUMENTED_RATES = {
    "duplicate_key_rows": 300e-5,
    "email_null": 500e-5,
    "email_blank": 250e-5,
    "email_no_at": 200e-5,
    "email_multiple_at": 150e-5,
    "email_bad_domain": 150e-5,
    "email_untrimmed": 250e-5,
    "user_id_null": 500e-5,
    "created_date_null": 2500e-5,
    "last_login_null": 3500e-5,
    "active_state_null": 3000e-5,
    "namespaces_null": 3000e-5,
    "trial_zero_date": 120e-5,
    "trial_impossible_date": 60e-5,
    "trial_unparseable": 120e-5,
    "company_size_non_integer": 500e-5,
}

#: The production model, verbatim (Snowflake dialect).
MODEL_SQL = """
SELECT * FROM SENSITIVE.POC_PUMP_MARKETING_CONTACT_NAMESPACE_DETAIL
WHERE TO_DATE(GITLAB_DOTCOM_CREATED_DATE) > DATEADD(MONTH, -1, GETDATE())
  AND GITLAB_DOTCOM_LAST_LOGIN_DATE IS NOT NULL
  AND GITLAB_DOTCOM_ACTIVE_STATE IS NOT NULL
  AND NAMESPACES_ARRAY IS NOT NULL
"""

# An order-independent fingerprint of the whole table: one md5 per row, sorted, hashed.
CHECKSUM_SQL = f"""
SELECT count(*), md5(string_agg(row_md5, '' ORDER BY row_md5))
FROM (SELECT md5(CAST(t AS VARCHAR)) AS row_md5 FROM {QUALIFIED_TABLE} AS t)
"""


def _connect(path: Path) -> duckdb.DuckDBPyConnection:
    conn = duckdb.connect(str(path))
    conn.execute("SET TimeZone = 'UTC'")
    return conn


def _checksum(conn: duckdb.DuckDBPyConnection) -> tuple[int, str]:
    ((rows, digest),) = conn.execute(CHECKSUM_SQL).fetchall()
    return rows, digest


def _within_sampling_error(observed: int, rate: float, rows: int) -> bool:
    """Binomial count close to rows * rate: within 4 standard deviations, plus 2 for tiny n."""
    expected = rows * rate
    return abs(observed - expected) <= 4 * math.sqrt(expected * (1 - rate)) + 2


@pytest.fixture(scope="module")
def seeded(
    tmp_path_factory: pytest.TempPathFactory,
) -> Iterator[tuple[duckdb.DuckDBPyConnection, SeedSummary]]:
    """One table of ROWS contacts shared by the read-only scenarios (seeding is the slow part)."""
    conn = _connect(tmp_path_factory.mktemp("seed") / "warehouse.duckdb")
    summary = seed_contacts(conn, ROWS, seed=42, as_of=AS_OF)
    yield conn, summary
    conn.close()


def _fetch(conn: duckdb.DuckDBPyConnection, sql: str) -> list[tuple]:
    return conn.execute(sql).fetchall()


def test_same_seed_gives_identical_content_whatever_the_thread_count(tmp_path: Path) -> None:
    parallel = _connect(tmp_path / "parallel.duckdb")
    serial = _connect(tmp_path / "serial.duckdb")
    serial.execute("SET threads = 1")

    seed_contacts(parallel, 5_000, seed=42, as_of=AS_OF)
    seed_contacts(serial, 5_000, seed=42, as_of=AS_OF)

    assert _checksum(parallel) == _checksum(serial)
    assert _checksum(parallel)[0] == 5_000
    # Re-seeding the same file in place reproduces it too.
    before = _checksum(parallel)
    seed_contacts(parallel, 5_000, seed=42, as_of=AS_OF)
    assert _checksum(parallel) == before


def test_another_seed_gives_different_content(tmp_path: Path) -> None:
    conn = _connect(tmp_path / "w.duckdb")
    seed_contacts(conn, 5_000, seed=42, as_of=AS_OF)
    conn.execute(f"CREATE TABLE seed_42 AS SELECT * FROM {QUALIFIED_TABLE}")
    first = _checksum(conn)

    seed_contacts(conn, 5_000, seed=43, as_of=AS_OF)

    assert _checksum(conn) != first
    # Not a shuffle of the same rows: the same contact id mostly holds another person.
    ((same_email,),) = _fetch(
        conn,
        f"SELECT count(*) FROM {QUALIFIED_TABLE} AS a JOIN seed_42 AS b USING (CONTACT_ID)"
        " WHERE a.EMAIL = b.EMAIL",
    )
    assert same_email < 5_000 * 0.05


def test_columns_have_the_documented_names_and_types(seeded: tuple) -> None:
    conn, _ = seeded
    columns = _fetch(
        conn,
        "SELECT column_name, data_type FROM information_schema.columns"
        " WHERE table_schema = 'SENSITIVE'"
        " AND table_name = 'POC_PUMP_MARKETING_CONTACT_NAMESPACE_DETAIL'"
        " ORDER BY ordinal_position",
    )
    assert columns == [
        ("CONTACT_ID", "VARCHAR"),
        ("EMAIL", "VARCHAR"),
        ("GITLAB_USER_ID", "BIGINT"),
        ("FIRST_NAME", "VARCHAR"),
        ("LAST_NAME", "VARCHAR"),
        ("COMPANY_NAME", "VARCHAR"),
        ("COUNTRY", "VARCHAR"),
        ("JOB_TITLE", "VARCHAR"),
        ("PLAN", "VARCHAR"),
        ("IS_EMAIL_OPTED_IN", "BOOLEAN"),
        ("IS_PRODUCT_OPTED_IN", "BOOLEAN"),
        ("GITLAB_DOTCOM_CREATED_DATE", "TIMESTAMP"),
        ("GITLAB_DOTCOM_LAST_LOGIN_DATE", "TIMESTAMP"),
        ("GITLAB_DOTCOM_ACTIVE_STATE", "VARCHAR"),
        ("NAMESPACES_ARRAY", "JSON"),
        ("NAMESPACE_COUNT", "INTEGER"),
        ("SEAT_COUNT", "INTEGER"),
        ("LEAD_SCORE", "DOUBLE"),
        ("IS_PAID", "BOOLEAN"),
        ("TRIAL_START_DATE", "VARCHAR"),
        ("COMPANY_SIZE", "VARCHAR"),
        ("UPDATED_AT", "TIMESTAMP"),
    ]


def test_summary_counts_agree_with_an_independent_count_in_python(seeded: tuple) -> None:
    conn, summary = seeded
    rows = _fetch(
        conn,
        f"SELECT CONTACT_ID, EMAIL, GITLAB_USER_ID, GITLAB_DOTCOM_CREATED_DATE,"
        f" GITLAB_DOTCOM_LAST_LOGIN_DATE, GITLAB_DOTCOM_ACTIVE_STATE,"
        f" NAMESPACES_ARRAY, TRIAL_START_DATE, COMPANY_SIZE FROM {QUALIFIED_TABLE}",
    )
    valid = re.compile(EMAIL_PATTERN)
    shaped_like_a_date = re.compile(r"\d{4}-\d{2}-\d{2} \d{2}:\d{2}:\d{2}")

    def email_kind(email: str | None) -> str:
        if email is None:
            return "null"
        if not email.strip():
            return "blank"
        if valid.fullmatch(email):
            return "valid"
        if "@" not in email:
            return "no_at"
        if email.count("@") > 1:
            return "multiple_at"
        return "untrimmed" if valid.fullmatch(email.strip()) else "bad_domain"

    def trial_kind(value: str | None) -> str:
        if value is None:
            return "null"
        if value == "0000-00-00 00:00:00":
            return "zero_date"
        try:
            dt.datetime.strptime(value, "%Y-%m-%d %H:%M:%S")
        except ValueError:
            return "impossible_date" if shaped_like_a_date.fullmatch(value) else "unparseable"
        return "valid"

    def count(predicate: Callable[[tuple], bool]) -> int:
        return sum(1 for row in rows if predicate(row))

    window_start = dt.date(2026, 2, 15)  # as_of minus one month; the model keeps later days
    independent = {
        "rows": len(rows),
        "distinct_contacts": len({row[0] for row in rows}),
        "duplicate_key_rows": len(rows) - len({row[0] for row in rows}),
        **{
            f"email_{kind}": count(lambda row, kind=kind: email_kind(row[1]) == kind)
            for kind in ("null", "blank", "no_at", "multiple_at", "bad_domain", "untrimmed")
        },
        "user_id_null": count(lambda row: row[2] is None),
        "created_date_null": count(lambda row: row[3] is None),
        "last_login_null": count(lambda row: row[4] is None),
        "active_state_null": count(lambda row: row[5] is None),
        "namespaces_null": count(lambda row: row[6] is None),
        **{
            f"trial_{kind}": count(lambda row, kind=kind: trial_kind(row[7]) == kind)
            for kind in ("zero_date", "impossible_date", "unparseable")
        },
        "company_size_non_integer": count(
            lambda row: row[8] is not None and not re.fullmatch(r"-?\d+", row[8])
        ),
        "rows_in_window": count(lambda row: row[3] is not None and row[3].date() > window_start),
        "rows_passing_model": count(
            lambda row: (
                row[3] is not None
                and row[3].date() > window_start
                and None not in (row[4], row[5], row[6])
            )
        ),
    }
    assert {name: getattr(summary, name) for name in independent} == independent
    assert summary.rows == ROWS


@pytest.mark.parametrize("kind", sorted(DOCUMENTED_RATES))
def test_each_kind_of_dirt_is_present_at_its_documented_rate(seeded: tuple, kind: str) -> None:
    _, summary = seeded
    observed = getattr(summary, kind)
    assert observed > 0
    assert _within_sampling_error(observed, DOCUMENTED_RATES[kind], ROWS), (
        f"{kind}: {observed} in {ROWS} rows, documented rate {DOCUMENTED_RATES[kind]:.4%}"
    )


def test_totals_stay_near_their_aims(seeded: tuple) -> None:
    _, summary = seeded
    assert 0.010 <= summary.emails_missing_or_malformed / ROWS <= 0.020  # aim 1.5%
    assert 0.0015 <= summary.trial_invalid_dates / ROWS <= 0.0045  # aim 0.3%
    assert 0.0015 <= summary.duplicate_key_rows / ROWS <= 0.0045  # aim 0.3%


def test_the_seed_documents_zero_date_is_in_the_trial_column(seeded: tuple) -> None:
    conn, summary = seeded
    ((zero_dates,),) = _fetch(
        conn,
        f"SELECT count(*) FROM {QUALIFIED_TABLE} WHERE TRIAL_START_DATE = '0000-00-00 00:00:00'",
    )
    assert zero_dates == summary.trial_zero_date > 0
    # Alongside the other invalid spellings, while most values are valid dates or NULL.
    found = {
        value
        for (value,) in _fetch(
            conn,
            f"SELECT DISTINCT TRIAL_START_DATE FROM {QUALIFIED_TABLE}"
            " WHERE try_strptime(TRIAL_START_DATE, '%Y-%m-%d %H:%M:%S') IS NULL",
        )
    }
    assert found == {None, "0000-00-00 00:00:00", "2026-02-30 00:00:00", "N/A", "13/45/2026"}


@pytest.mark.parametrize(
    "column",
    [
        "GITLAB_DOTCOM_CREATED_DATE",
        "GITLAB_DOTCOM_LAST_LOGIN_DATE",
        "GITLAB_DOTCOM_ACTIVE_STATE",
        "NAMESPACES_ARRAY",
    ],
)
def test_each_model_filter_column_has_a_few_percent_nulls(seeded: tuple, column: str) -> None:
    conn, _ = seeded
    ((nulls,),) = _fetch(conn, f"SELECT count(*) FROM {QUALIFIED_TABLE} WHERE {column} IS NULL")
    assert 0.02 <= nulls / ROWS <= 0.05


def test_a_quarter_to_a_third_of_rows_fall_inside_the_one_month_window(seeded: tuple) -> None:
    conn, summary = seeded
    ((inside, outside, oldest, newest),) = _fetch(
        conn,
        f"SELECT count(*) FILTER (WHERE GITLAB_DOTCOM_CREATED_DATE::DATE > DATE '2026-02-15'),"
        f" count(*) FILTER (WHERE GITLAB_DOTCOM_CREATED_DATE::DATE <= DATE '2026-02-15'),"
        f" min(GITLAB_DOTCOM_CREATED_DATE), max(GITLAB_DOTCOM_CREATED_DATE)"
        f" FROM {QUALIFIED_TABLE}",
    )
    assert inside == summary.rows_in_window
    assert 0.22 <= inside / ROWS <= 0.34
    assert outside > 2 * inside  # rows older than a month are the majority
    assert dt.datetime(2025, 12, 5) <= oldest < newest < dt.datetime(2026, 3, 15)


def test_the_production_model_keeps_the_rows_the_summary_predicts(tmp_path: Path) -> None:
    # GETDATE() is the real clock, so anchor the data on today; retry if midnight intervenes.
    for _ in range(2):
        today = dt.datetime.now(dt.UTC).date()
        conn = _connect(tmp_path / f"{today}.duckdb")
        summary = seed_contacts(conn, 5_000, seed=7)
        model = sqlglot.transpile(MODEL_SQL, read="snowflake", write="duckdb")[0]
        ((kept,),) = _fetch(conn, f"SELECT count(*) FROM ({model})")
        if dt.datetime.now(dt.UTC).date() == today:
            break
    assert kept == summary.rows_passing_model
    assert 0.18 <= kept / 5_000 <= 0.32


def test_fanned_out_keys_repeat_the_contact_but_not_the_row(seeded: tuple) -> None:
    conn, summary = seeded
    ((keys, extra_rows, emails, user_ids, updated, titles),) = _fetch(
        conn,
        f"""
        SELECT count(*), sum(n - 1),
            count(*) FILTER (WHERE emails > 1), count(*) FILTER (WHERE user_ids > 1),
            count(*) FILTER (WHERE updated = n), count(*) FILTER (WHERE titles > 1)
        FROM (
            SELECT CONTACT_ID, count(*) AS n,
                count(DISTINCT coalesce(EMAIL, '<null>')) AS emails,
                count(DISTINCT coalesce(GITLAB_USER_ID, -1)) AS user_ids,
                count(DISTINCT UPDATED_AT) AS updated,
                count(DISTINCT JOB_TITLE) AS titles
            FROM {QUALIFIED_TABLE} GROUP BY CONTACT_ID HAVING count(*) > 1
        )
        """,
    )
    assert keys > 0
    assert extra_rows == summary.duplicate_key_rows
    # Same person on every row of a key...
    assert emails == 0
    assert user_ids == 0
    # ...but a different last update on each (so "latest wins" is well defined) and often
    # a different job title, as when a join fans out.
    assert updated == keys
    assert titles > keys / 2


def test_namespaces_are_json_arrays_of_documented_objects(seeded: tuple) -> None:
    conn, _ = seeded
    rows = _fetch(
        conn,
        f"SELECT NAMESPACES_ARRAY, NAMESPACE_COUNT, GITLAB_DOTCOM_CREATED_DATE, PLAN"
        f" FROM {QUALIFIED_TABLE} WHERE NAMESPACES_ARRAY IS NOT NULL",
    )
    assert len(rows) > 0.9 * ROWS
    lengths: set[int] = set()
    for text, count, created, plan in rows:
        namespaces = json.loads(text)
        assert isinstance(namespaces, list)
        assert len(namespaces) == count
        lengths.add(count)
        for namespace in namespaces:
            assert set(namespace) == {"namespace_id", "path", "plan", "created_at", "member_count"}
            assert isinstance(namespace["namespace_id"], int)
            assert isinstance(namespace["member_count"], int)
            assert namespace["member_count"] >= 1
            assert namespace["plan"] in {"free", "premium", "ultimate"}
            assert re.fullmatch(r"[a-z0-9./-]+", namespace["path"])
            when = dt.datetime.strptime(namespace["created_at"], "%Y-%m-%d %H:%M:%S")
            if created is not None:
                assert created <= when < dt.datetime(2026, 3, 15)
        assert namespaces[0]["plan"] == plan  # the personal namespace carries the user's plan
    assert lengths == {1, 2, 3}


def test_namespace_count_is_null_exactly_when_the_array_is(seeded: tuple) -> None:
    conn, _ = seeded
    ((mismatched,),) = _fetch(
        conn,
        f"SELECT count(*) FROM {QUALIFIED_TABLE}"
        " WHERE NAMESPACE_COUNT IS DISTINCT FROM json_array_length(NAMESPACES_ARRAY)",
    )
    assert mismatched == 0


def test_distinct_contacts_never_share_an_email_or_a_user_id(seeded: tuple) -> None:
    conn, _ = seeded
    ((valid_emails, shared_emails, shared_ids),) = _fetch(
        conn,
        f"""
        SELECT
            (SELECT count(DISTINCT lower(trim(EMAIL))) FROM {QUALIFIED_TABLE}
                WHERE regexp_full_match(trim(EMAIL), ?)),
            (SELECT count(*) FROM (
                SELECT lower(trim(EMAIL)) FROM {QUALIFIED_TABLE}
                WHERE regexp_full_match(trim(EMAIL), ?)
                GROUP BY 1 HAVING count(DISTINCT CONTACT_ID) > 1)),
            (SELECT count(*) FROM (
                SELECT GITLAB_USER_ID FROM {QUALIFIED_TABLE} WHERE GITLAB_USER_ID IS NOT NULL
                GROUP BY 1 HAVING count(DISTINCT CONTACT_ID) > 1))
        """.replace("?", f"'{EMAIL_PATTERN}'"),
    )
    assert valid_emails > 0.97 * ROWS  # all but the broken ones and the fanned-out repeats
    assert shared_emails == 0
    assert shared_ids == 0


def test_emails_look_like_real_addresses(seeded: tuple) -> None:
    conn, _ = seeded
    ((personal, tagged, upper, mixed),) = _fetch(
        conn,
        f"""
        SELECT
            count(*) FILTER (WHERE lower(EMAIL) LIKE '%@gmail.com'),
            count(*) FILTER (WHERE EMAIL LIKE '%+%@%'),
            count(*) FILTER (WHERE EMAIL = upper(EMAIL) AND EMAIL LIKE '%@%.%'),
            count(*) FILTER (WHERE EMAIL <> upper(EMAIL) AND EMAIL <> lower(EMAIL))
        FROM {QUALIFIED_TABLE}
        """,
    )
    assert 0.10 * ROWS < personal < 0.30 * ROWS  # gmail.com is the largest single domain
    assert 0.02 * ROWS < tagged < 0.06 * ROWS
    assert 0.005 * ROWS < upper < 0.02 * ROWS
    assert 0.02 * ROWS < mixed < 0.06 * ROWS


def test_names_include_non_ascii_ones(seeded: tuple) -> None:
    conn, _ = seeded
    names = {
        name
        for (name,) in _fetch(
            conn,
            f"SELECT FIRST_NAME FROM {QUALIFIED_TABLE}"
            f" UNION SELECT LAST_NAME FROM {QUALIFIED_TABLE}",
        )
    }
    assert {"José", "Zoë", "Łukasz", "李"} <= names
    assert len(names) > 90


def test_dates_run_in_order_and_stop_before_as_of(seeded: tuple) -> None:
    conn, _ = seeded
    ((out_of_order,),) = _fetch(
        conn,
        f"""
        SELECT count(*) FROM {QUALIFIED_TABLE}
        WHERE GITLAB_DOTCOM_LAST_LOGIN_DATE <= GITLAB_DOTCOM_CREATED_DATE
           OR UPDATED_AT < GITLAB_DOTCOM_LAST_LOGIN_DATE
           OR UPDATED_AT < GITLAB_DOTCOM_CREATED_DATE
           OR UPDATED_AT >= TIMESTAMP '2026-03-15 00:00:00'
           OR GITLAB_DOTCOM_LAST_LOGIN_DATE > TIMESTAMP '2026-03-15 00:00:00'
        """,
    )
    assert out_of_order == 0


def test_an_ordinary_day_stays_within_the_data_quality_tolerances(seeded: tuple) -> None:
    conn, _ = seeded
    model = sqlglot.transpile(MODEL_SQL, read="snowflake", write="duckdb")[0]
    model = model.replace("CURRENT_TIMESTAMP", "TIMESTAMP '2026-03-15 00:00:00'")
    ((kept, duplicate_rows, bad_emails, bad_trials, mixed_sizes),) = _fetch(
        conn,
        f"""
        SELECT count(*), count(*) - count(DISTINCT CONTACT_ID),
            count(*) FILTER (
                WHERE NOT coalesce(regexp_full_match(EMAIL, '{EMAIL_PATTERN}'), false)),
            count(*) FILTER (WHERE TRIAL_START_DATE IS NOT NULL
                AND try_strptime(TRIAL_START_DATE, '%Y-%m-%d %H:%M:%S') IS NULL),
            count(*) FILTER (WHERE TRY_CAST(COMPANY_SIZE AS INTEGER) IS NULL
                AND COMPANY_SIZE IS NOT NULL)
        FROM ({model})
        """,
    )
    assert kept > 0.2 * ROWS
    assert 0 < duplicate_rows < 0.01 * kept
    assert 0 < bad_emails < 0.05 * kept
    assert 0 < bad_trials < 0.01 * kept
    assert 0 < mixed_sizes < 0.01 * kept


def test_is_empty_until_contacts_are_seeded(tmp_path: Path) -> None:
    conn = _connect(tmp_path / "w.duckdb")
    assert is_empty(conn)  # no table at all

    seed_contacts(conn, 0, as_of=AS_OF)
    assert is_empty(conn)  # the table, but no rows

    summary = seed_contacts(conn, 100, as_of=AS_OF)
    assert not is_empty(conn)
    assert summary.rows == 100


def test_without_replace_an_existing_table_is_kept(tmp_path: Path) -> None:
    conn = _connect(tmp_path / "w.duckdb")
    seed_contacts(conn, 300, seed=1, as_of=AS_OF)
    before = _checksum(conn)

    summary = seed_contacts(conn, 5_000, seed=2, as_of=AS_OF, replace=False)

    assert summary.rows == 300
    assert _checksum(conn) == before


def test_generator_leaves_no_helper_objects_on_the_callers_connection(tmp_path: Path) -> None:
    conn = _connect(tmp_path / "w.duckdb")
    seed_contacts(conn, 100, as_of=AS_OF)
    leftovers = _fetch(
        conn,
        "SELECT function_name FROM duckdb_functions() WHERE starts_with(function_name, '_seed_')"
        " UNION ALL"
        " SELECT table_name FROM duckdb_tables() WHERE starts_with(table_name, '_seed_')",
    )
    assert leftovers == []


@pytest.mark.parametrize("rows", [-1, 2**31 + 1])
def test_row_counts_out_of_range_are_refused(tmp_path: Path, rows: int) -> None:
    conn = _connect(tmp_path / "w.duckdb")
    with pytest.raises(ValueError, match="rows must be"):
        seed_contacts(conn, rows)
