"""Read access to the serving store behind the one SQLAlchemy URL in the settings."""

from __future__ import annotations

from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from creditlake.settings import Settings

# The PostgreSQL schema the serving tables live in (DuckDB keeps them in `main`).
PG_SCHEMA = "creditlake"


def backend(url: str) -> str:
    """'duckdb' or 'postgresql', from a SQLAlchemy URL such as postgresql+psycopg://u:p@h/db."""
    scheme = urlsplit(url).scheme.split("+", 1)[0]
    if scheme in ("duckdb", "postgresql", "postgres"):
        return "postgresql" if scheme.startswith("postgres") else "duckdb"
    raise ValueError(f"unsupported serving URL scheme {scheme!r}: use duckdb:///FILE or postgresql://...")


def duckdb_path(url: str) -> Path:
    """The file of a duckdb:///FILE URL (SQLAlchemy style: three slashes then the path)."""
    return Path(url.split(":///", 1)[1].split("?", 1)[0])


def pg_dsn(url: str) -> str:
    """A libpq DSN from a SQLAlchemy PostgreSQL URL (drops the +driver part)."""
    parts = urlsplit(url)
    return parts._replace(scheme="postgresql").geturl()


def _rows(cursor) -> list[dict[str, Any]]:
    """A DuckDB result as dicts by column name."""
    names = [d[0] for d in cursor.description]
    return [dict(zip(names, row)) for row in cursor.fetchall()]


def pg_placeholders(sql: str, params) -> str:
    """The serving store's SQL takes `?` placeholders (DuckDB's); psycopg's are `%s`. Without parameters, as is."""
    return sql.replace("?", "%s") if params else sql


def query(settings: Settings, sql: str, params: tuple | list | None = None) -> list[dict[str, Any]]:
    """Run one read-only query on the serving store and return rows as dicts."""
    url = settings.serving
    if backend(url) == "duckdb":
        import duckdb

        with duckdb.connect(str(duckdb_path(url)), read_only=True) as con:
            return _rows(con.execute(sql, params or []))
    with pg_reader(url) as con:
        return list(con.execute(pg_placeholders(sql, params), params or []).fetchall())


def pg_reader(url: str):
    """A read-only PostgreSQL session on the served schema, rows as dicts. Read-only for the whole session (libpq
    options), not per transaction: psycopg's `read_only` applies at BEGIN, which an autocommit connection (a
    long-lived reader's) never sends, so it would let a statement write."""
    import psycopg
    from psycopg.rows import dict_row

    return psycopg.connect(pg_dsn(url), row_factory=dict_row, autocommit=True,
                           options=f"-c default_transaction_read_only=on -c search_path={PG_SCHEMA}")


class StoreReader:
    """Read-only queries for a long-lived process (the profile service): connections kept open, one per thread, and
    the DuckDB file reopened when a publication has swapped in a new one; `query` has store.query's signature."""

    def __init__(self, settings: Settings):
        import threading

        self._url = settings.serving  # fixed for the process: not derived again for every query
        self._local = threading.local()
        self._lock = threading.Lock()
        self._duckdb = None  # (file identity, connection) shared by every thread's cursor
        self._is_duckdb = backend(self._url) == "duckdb"

    def _duckdb_cursor(self):
        import duckdb

        path = duckdb_path(self._url)
        st = path.stat()
        identity = (st.st_ino, st.st_mtime_ns)
        held = getattr(self._local, "cursor", None)
        if held is not None and held[0] == identity:
            return held[1]
        with self._lock:
            if self._duckdb is None or self._duckdb[0] != identity:
                self._duckdb = (identity, duckdb.connect(str(path), read_only=True))
            cursor = self._duckdb[1].cursor()
        self._local.cursor = (identity, cursor)
        return cursor

    def _pg_connection(self):
        con = getattr(self._local, "pg", None)
        if con is None or con.closed:
            con = self._local.pg = pg_reader(self._url)
        return con

    def query(self, sql: str, params: tuple | list | None = None) -> list[dict[str, Any]]:
        if self._is_duckdb:
            return _rows(self._duckdb_cursor().execute(sql, params or []))
        try:
            return list(self._pg_connection().execute(pg_placeholders(sql, params), params or []).fetchall())
        except Exception:
            self._local.pg = None  # a broken connection is not reused
            raise


def table_checksum(settings: Settings, table: str) -> str:
    """MD5 over the sorted MD5s of a served table's rows: equal contents give equal checksums, whatever the order
    rows were written in (used to prove reruns and backfills idempotent)."""
    if backend(settings.serving) == "duckdb":
        sql = f'SELECT md5(coalesce(string_agg(h, \'\' ORDER BY h), \'\')) AS c FROM (SELECT md5(CAST(t AS VARCHAR)) AS h FROM "{table}" AS t)'
    else:
        sql = f'SELECT md5(coalesce(string_agg(h, \'\' ORDER BY h), \'\')) AS c FROM (SELECT md5(t::text) AS h FROM "{table}" AS t) AS r'
    return query(settings, sql)[0]["c"]
