"""The DuckDB floor: what the landing -> lake step costs without Spark, on the same files, for every dataset.

    uv run python benchmarks/duckdb_floor.py LANDING [--threads 2] [--checks] [--out DIR]

Two references, both timed end to end (reading the bytes to the last Parquet file written):
- **plain**: DuckDB reads every delivered file of every catalogued dataset (CSV and JSON Lines through its own
  readers, every column as text; GB18030 files transcoded to UTF-8 first, since this offline box cannot load
  DuckDB's `encodings` extension; Excel rows through the same Python reader bronze uses, as bronze does) and writes
  one Parquet file per dataset.
- **checked** (`--checks`): the same, plus the work bronze and silver do per row: each file's SHA-256 against its
  manifest, the catalogue's row rules (required, type, USCC check characters, code lists, allowed values,
  patterns, ranges) as the first broken rule of each row, duplicates of the unique key, the pseudonymised columns
  replaced by a keyed hash, typed columns; good rows and quarantined rows written as two Parquet files.

`pipeline_bench.py` runs both in the same invocation as the pipeline and prints the pipeline's cost per row as a
ratio to the floor's. Prints one line per variant: seconds, rows, rows/s.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import re
import shutil
import tempfile
import time
from pathlib import Path

DUCK_TYPES = {"string": "VARCHAR", "int": "BIGINT", "decimal": "DECIMAL(20,4)", "date": "DATE",
              "timestamp": "TIMESTAMP", "boolean": "BOOLEAN"}


def _uscc_macro() -> str:
    """DuckDB macro `uscc_ok(s)`: GB 32100 pattern and both check characters (as rules.uscc_valid_sql)."""
    from creditlake.codes import ORG_WEIGHTS, USCC_ALPHABET, USCC_WEIGHTS
    from creditlake.conform.rules import USCC_PATTERN

    total = (f"list_sum(list_transform(range(1, 18), lambda i: (instr('{USCC_ALPHABET}', substr(s, i, 1)) - 1) * "
             f"{list(USCC_WEIGHTS)}[i]))")
    org_total = (f"list_sum(list_transform(range(1, 9), lambda i: (ascii(substr(s, 8 + i, 1)) - "
                 f"CASE WHEN regexp_full_match(substr(s, 8 + i, 1), '[0-9]') THEN 48 ELSE 55 END) * "
                 f"{list(ORG_WEIGHTS)}[i]))")
    return (f"CREATE OR REPLACE MACRO uscc_ok(s) AS coalesce(regexp_matches(s, '{USCC_PATTERN}'), false) AND "
            f"substr(s, 17, 1) = substr('0123456789X0', CAST(11 - ({org_total}) % 11 + 1 AS BIGINT), 1) AND "
            f"substr(s, 18, 1) = substr('{USCC_ALPHABET}', CAST((31 - ({total}) % 31) % 31 + 1 AS BIGINT), 1)")


def _run(con, sql: str) -> list:
    """Execute and fetch to the end (DuckDB 2 refuses new work while a result is unread)."""
    return con.execute(sql).fetchall()


def _quote(value: str) -> str:
    return "'" + str(value).replace("'", "''") + "'"


def _broken_rules(col) -> list[tuple[str, str]]:
    """(rule, DuckDB SQL true when the row breaks it): conform.rules.column_rules in DuckDB's dialect."""
    from creditlake.conform.rules import column_rules

    def matches(value: str, pattern: str) -> str:
        re2 = re.sub(r"\\u([0-9a-fA-F]{4})", r"\\x{\1}", pattern)  # RE2 spells \uXXXX as \x{XXXX}
        return f"regexp_matches({value}, {_quote(re2)})"

    return column_rules(col, quoted=lambda name: f'"{name}"', types=DUCK_TYPES, matches=matches,
                        uscc_valid=lambda value: f"uscc_ok({value})")


def _files(folder: Path) -> list[tuple[Path, dict]]:
    """(file, its manifest entry) of every delivery of one dataset, in period order."""
    out = []
    for manifest_path in sorted(folder.glob("*/_manifest.json")):
        try:
            manifest = json.loads(manifest_path.read_text(encoding="utf-8"))
        except ValueError:
            continue
        for entry in manifest.get("files", []):
            if (manifest_path.parent / entry.get("name", "")).is_file():
                out.append((manifest_path.parent / entry["name"], {**entry, "encoding": manifest.get("encoding")}))
    return out


def _source_sql(con, dataset, files: list[tuple[Path, dict]], scratch: Path) -> str | None:
    """A DuckDB relation (SQL) over the dataset's delivered files, every catalogue column as text."""
    names = [c.name for c in dataset.columns]
    if dataset.format == "xlsx":
        import pyarrow as pa

        from creditlake.ingest.landing import DeliveryRejected, delivered_rows

        rows = []
        for path, _ in files:
            try:
                rows += [{n: values.get(n) for n in names} for _, values in delivered_rows(path, dataset)]
            except DeliveryRejected:
                continue
        table = pa.Table.from_pylist(rows, schema=pa.schema([(n, pa.string()) for n in names]))
        con.register("xlsx_rows", table)
        return "SELECT * FROM xlsx_rows"
    readable = []
    for path, entry in files:
        encoding = (entry.get("encoding") or dataset.encoding).lower().replace("-", "")
        if encoding == "utf8":
            readable.append(path)
            continue
        target = scratch / "_utf8" / path.parent.name / path.name
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(path.read_bytes().decode(encoding, errors="replace"), encoding="utf-8")
        readable.append(target)
    listing = "[" + ", ".join(_quote(p) for p in readable) + "]"
    if dataset.format == "jsonl":
        columns = "{" + ", ".join(f"{_quote(n)}: 'VARCHAR'" for n in names) + "}"
        return (f"SELECT {', '.join(chr(34) + n + chr(34) for n in names)} FROM read_json({listing}, "
                f"format='newline_delimited', columns={columns}, ignore_errors=true)")
    return (f"SELECT {', '.join(chr(34) + n + chr(34) for n in names)} FROM read_csv({listing}, all_varchar=true, "
            "header=true, union_by_name=true, null_padding=true, ignore_errors=true, strict_mode=false)")


def floor(landing: Path, out: Path, threads: int = 2, checks: bool = False, key: bytes = b"floor") -> dict:
    """Seconds, rows and datasets of the DuckDB floor over every catalogued dataset in `landing`."""
    import duckdb

    from creditlake.catalogue import default_catalogue

    out.mkdir(parents=True, exist_ok=True)
    start = time.monotonic()
    con = duckdb.connect(config={"threads": threads})
    if checks:
        _run(con, _uscc_macro())
    rows = datasets = quarantined = mismatched = 0
    for source in default_catalogue().sources:
        for dataset in source.datasets:
            files = _files(landing / source.code / dataset.code)
            if not files:
                continue
            if checks:  # whole-delivery check: each file's bytes against its manifest's SHA-256
                mismatched += sum(hashlib.sha256(path.read_bytes()).hexdigest() != entry.get("sha256")
                                  for path, entry in files)
            relation = _source_sql(con, dataset, files, out)
            table = f"{source.code}__{dataset.code}"
            if not checks:
                target = _quote(out / (table + ".parquet"))
                _run(con, f"COPY ({relation}) TO {target} (FORMAT parquet)")
                rows += _run(con, f"SELECT count(*) FROM read_parquet({target})")[0][0]
                datasets += 1
                continue
            broken = [f"CASE WHEN coalesce({sql}, false) THEN {_quote(rule + ':' + col.name)} END"
                      for col in dataset.columns for rule, sql in _broken_rules(col)]
            first = f"coalesce({', '.join(broken)})" if broken else "NULL"
            unique = ", ".join(f"trim(\"{c}\")" for c in dataset.unique)
            typed = []
            for col in dataset.columns:
                value = f"nullif(trim(\"{col.name}\"), '')"
                if col.pseudonymise or col.sensitivity in ("personal", "secret"):
                    typed.append(f"sha256({_quote(key.hex())} || {value}) AS \"{col.name}\"")
                else:
                    typed.append(f"try_cast({value} AS {DUCK_TYPES[col.type]}) AS \"{col.name}\"")
            _run(con, f"CREATE OR REPLACE TEMP TABLE t AS SELECT *, coalesce({first}, CASE WHEN row_number() "
                        f"OVER (PARTITION BY {unique}) > 1 THEN 'duplicate' END) AS _rule FROM ({relation})")
            _run(con, f"COPY (SELECT {', '.join(typed)} FROM t WHERE _rule IS NULL) TO "
                        f"{_quote(out / (table + '.parquet'))} (FORMAT parquet)")
            _run(con, f"COPY (SELECT * FROM t WHERE _rule IS NOT NULL) TO "
                        f"{_quote(out / (table + '.quarantine.parquet'))} (FORMAT parquet)")
            n, bad = _run(con, "SELECT count(*), count(_rule) FROM t")[0]
            rows, quarantined, datasets = rows + n, quarantined + bad, datasets + 1
    return {"seconds": time.monotonic() - start, "rows": rows, "datasets": datasets, "quarantined": quarantined,
            "checks": checks, "threads": threads, "checksum_mismatches": mismatched}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("landing", type=Path, help="a landing zone (`creditlake generate`)")
    parser.add_argument("--threads", type=int, default=2, help="DuckDB threads (default 2)")
    parser.add_argument("--checks", action="store_true", help="only the checked variant")
    parser.add_argument("--out", type=Path, default=None, help="where the Parquet goes (default: a temporary folder)")
    args = parser.parse_args()
    if not args.landing.is_dir():
        raise SystemExit(f"no landing zone at {args.landing}")
    for checks in ([True] if args.checks else [False, True]):
        out = args.out or Path(tempfile.mkdtemp(prefix="duckdb-floor-"))
        f = floor(args.landing, out / ("checked" if checks else "plain"), args.threads, checks)
        print(f"{'checked' if checks else 'plain':8} {f['seconds']:8.1f} s {f['rows']:>11,} rows "
              f"{f['rows'] / f['seconds']:>9,.0f} rows/s  {f['datasets']} datasets, {f['quarantined']:,} quarantined")
        if args.out is None:
            shutil.rmtree(out, ignore_errors=True)


if __name__ == "__main__":
    main()
