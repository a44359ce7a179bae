"""Benchmark the profile query service: latency of `GET /enterprises/{uscc}` under concurrent clients, at several
sizes, with the serving store on DuckDB and on PostgreSQL.

    uv run python benchmarks/profile_bench.py --from-home ~/.creditlake --sizes 10000 100000 --clients 20

The store at each size is the published store of `--from-home` (a home after `creditlake run` or `demo`) scaled
by copies: every enterprise and everything the profile reads of it (its summary and its profile records, the
analyses' among them) is copied under new valid codes until the size is reached, so each enterprise keeps
the records of a real one. The service (`creditlake serve-api`, a separate process) answers as the regulator (the
largest answer); `--clients` threads send lookups of random enterprises back to back for `--seconds`, after a
warm-up. Traffic goes to 127.0.0.1 only, and every run is bounded in time.

Figures per size and backend, medians of `--runs` runs: lookups/s, p50, p95 and p99 in ms, errors, the service's
peak memory; and the reference measured in the same invocation on the same store: the same lookup in-process, one
at a time, without HTTP (the store's own cost), as a ratio.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import shutil
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import urllib.request
from pathlib import Path

from creditlake.serve.publish import LOOKUP_KEYS

# What one lookup reads, by enterprise (the summary; the records, the analyses among them): scaled together, in
# the order publication leaves them.
TABLES = tuple(LOOKUP_KEYS)


def _new_code(rng: random.Random, district: str, seen: set[str]) -> str:
    from creditlake.generate.people import make_uscc

    code = make_uscc(rng, district)
    while code in seen:
        code = make_uscc(rng, district)
    seen.add(code)
    return code


def scale_store(source: Path, target: Path, size: int) -> dict[str, int]:
    """A DuckDB store with `size` enterprises: copies of the source's, under new codes; rows per table."""
    import duckdb

    target.parent.mkdir(parents=True, exist_ok=True)
    target.unlink(missing_ok=True)
    with duckdb.connect(str(source), read_only=True) as src:
        ids = [r[0] for r in src.execute("SELECT enterprise_id FROM mart_enterprise_profile ORDER BY 1").fetchall()]
    rng, seen = random.Random(size), set(ids)
    mapping = []
    for n in range(size):
        old = ids[n % len(ids)]
        mapping.append((old, old if n < len(ids) else _new_code(rng, old[2:8], seen)))
    counts = {}
    with duckdb.connect(str(target)) as con:
        con.execute(f"ATTACH '{source}' AS src (READ_ONLY)")
        con.execute("CREATE TEMP TABLE id_map (old_id VARCHAR, new_id VARCHAR)")
        con.executemany("INSERT INTO id_map VALUES (?, ?)", mapping)
        for table in TABLES:
            order = f' ORDER BY "{LOOKUP_KEYS[table]}"'
            con.execute(f'CREATE TABLE "{table}" AS SELECT * REPLACE (m.new_id AS enterprise_id)'
                        f' FROM src."{table}" t JOIN id_map m ON t.enterprise_id = m.old_id{order}')
            counts[table] = con.execute(f'SELECT count(*) FROM "{table}"').fetchone()[0]
        con.execute("CHECKPOINT")
    return counts


def load_postgres(store: Path, url: str, schema: str) -> None:
    """The scaled tables into PostgreSQL (schema `schema`, indexed by enterprise), as the serving store's publish
    would leave them."""
    import duckdb
    import psycopg

    from creditlake.serve.publish import _pg_type, copy_arrow

    with duckdb.connect(str(store), read_only=True) as con, psycopg.connect(url, autocommit=True) as pg:
        pg.execute(f"DROP SCHEMA IF EXISTS {schema} CASCADE")
        pg.execute(f"CREATE SCHEMA {schema}")
        for table in TABLES:
            arrow = con.sql(f'SELECT * FROM "{table}"').to_arrow_table()
            cols = ", ".join(f'"{f.name}" {_pg_type(f.type)}' for f in arrow.schema)
            pg.execute(f'CREATE TABLE {schema}."{table}" ({cols})')
            copy_arrow(pg, f'{schema}."{table}"', arrow)
            pg.execute(f'CREATE INDEX ON {schema}."{table}" (enterprise_id)')
            pg.execute(f'ANALYZE {schema}."{table}"')


def load(base: str, token: str, ids: list[str], clients: int, seconds: float) -> dict:
    """`clients` threads, back to back, for `seconds`: latencies of the lookups that ended in time."""
    import http.client

    stop_at = time.monotonic() + seconds
    latencies: list[float] = []
    sizes: list[int] = []
    errors = [0]
    lock = threading.Lock()
    host, port = base.split("//", 1)[1].split(":")

    def client(seed: int) -> None:
        rng = random.Random(seed)
        conn = http.client.HTTPConnection(host, int(port), timeout=30)  # keep-alive, as a real client would
        mine, got = [], []
        while time.monotonic() < stop_at:
            t = time.perf_counter()
            try:
                conn.request("GET", f"/enterprises/{rng.choice(ids)}", headers={"Authorization": f"Bearer {token}"})
                resp = conn.getresponse()
                body = resp.read()
                ok = resp.status == 200
            except (OSError, http.client.HTTPException):
                conn.close()
                conn = http.client.HTTPConnection(host, int(port), timeout=30)
                ok, body = False, b""
            if ok:
                mine.append(time.perf_counter() - t)
                got.append(len(body))
            else:
                with lock:
                    errors[0] += 1
        conn.close()
        with lock:
            latencies.extend(mine)
            sizes.extend(got)

    threads = [threading.Thread(target=client, args=(i,)) for i in range(clients)]
    started = time.monotonic()
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    elapsed = time.monotonic() - started
    latencies.sort()

    def pct(p: float) -> float:
        return 1000 * latencies[min(len(latencies) - 1, int(p * len(latencies)))] if latencies else float("nan")

    return {"lookups": len(latencies), "per_s": len(latencies) / elapsed, "p50_ms": pct(0.50), "p95_ms": pct(0.95),
            "p99_ms": pct(0.99), "errors": errors[0], "kb": statistics.mean(sizes) / 1024 if sizes else 0.0}


def in_process(home: Path, serving: str, ids: list[str], n: int = 200) -> float:
    """Median ms of the same lookup in-process, one at a time, without HTTP (the reference)."""
    from creditlake.catalogue import default_catalogue
    from creditlake.profile.lookup import enterprise_profile
    from creditlake.serve.store import StoreReader
    from creditlake.settings import Settings

    reader = StoreReader(Settings(home=home, serving_url=serving))
    catalogue = default_catalogue()
    rng = random.Random(1)
    times = []
    for _ in range(n):
        t = time.perf_counter()
        enterprise_profile(reader.query, catalogue, rng.choice(ids))
        times.append(time.perf_counter() - t)
    return 1000 * statistics.median(times)


def serve(home: Path, serving: str, port: int, workers: int):
    env = {**os.environ, "CREDITLAKE_HOME": str(home), "CREDITLAKE_SERVING_URL": serving,
           "CREDITLAKE_API_WORKERS": str(workers)}
    proc = subprocess.Popen([sys.executable, "-m", "creditlake.cli", "serve-api", "--port", str(port)], env=env,
                            stdout=subprocess.DEVNULL, stderr=open(home / "api.log", "ab"), start_new_session=True)
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{port}/health", timeout=2):
                return proc
        except OSError:
            if proc.poll() is not None:
                break
            time.sleep(0.3)
    proc.kill()
    raise RuntimeError(f"the service did not start: see {home / 'api.log'}")


def peak_rss_mb(pid: int) -> float:
    """Peak resident memory of the service and its workers (VmHWM), MB."""
    total = 0
    pids = [pid] + [int(p) for p in subprocess.run(["pgrep", "-P", str(pid)], capture_output=True,
                                                   text=True).stdout.split()]
    for p in pids:
        try:
            for line in Path(f"/proc/{p}/status").read_text().splitlines():
                if line.startswith("VmHWM:"):
                    total += int(line.split()[1])
        except OSError:
            pass
    return total / 1024


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--from-home", type=Path, required=True, help="a home with a published serving store")
    parser.add_argument("--sizes", type=int, nargs="+", default=[10_000, 100_000])
    parser.add_argument("--clients", type=int, default=20)
    parser.add_argument("--seconds", type=float, default=20.0, help="load per run, after a 3 s warm-up")
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--workers", type=int, default=1, help="service processes (CREDITLAKE_API_WORKERS)")
    parser.add_argument("--backends", nargs="+", default=["duckdb", "postgresql"], choices=["duckdb", "postgresql"])
    parser.add_argument("--pg-url", default=os.environ.get(
        "CREDITLAKE_TEST_PG_URL", "postgresql://creditlake:creditlake@127.0.0.1:5432/creditlake_test"))
    parser.add_argument("--port", type=int, default=8197)
    parser.add_argument("--json", type=Path, help="also write the figures here")
    args = parser.parse_args()

    from creditlake.profile.tokens import issue
    from creditlake.serve.store import PG_SCHEMA
    from creditlake.settings import Settings

    source = args.from_home / "serving" / "creditlake.duckdb"
    if not source.exists():
        sys.exit(f"no serving store at {source}: run `creditlake run` or `demo` with that home first")
    work = Path(tempfile.mkdtemp(prefix="profile-bench-"))
    results = []
    try:
        for size in args.sizes:
            home = work / f"home-{size}"
            store = home / "serving" / "creditlake.duckdb"
            t = time.perf_counter()
            counts = scale_store(source, store, size)
            print(f"size {size}: store built in {time.perf_counter() - t:.1f} s: "
                  + ", ".join(f"{k} {v:,}" for k, v in counts.items()), flush=True)
            import duckdb

            with duckdb.connect(str(store), read_only=True) as con:
                ids = [r[0] for r in con.execute("SELECT enterprise_id FROM mart_enterprise_profile").fetchall()]
            token = issue(Settings(home=home), "benchmark", "regulator")
            for backend in args.backends:
                serving = f"duckdb:///{store}"
                if backend == "postgresql":
                    t = time.perf_counter()
                    load_postgres(store, args.pg_url, PG_SCHEMA)
                    print(f"  PostgreSQL loaded in {time.perf_counter() - t:.1f} s", flush=True)
                    serving = args.pg_url
                reference = in_process(home, serving, ids)
                print(f"  {backend}: in-process lookup {reference:.1f} ms (median, one at a time)", flush=True)
                runs = []
                for run in range(args.runs):
                    proc = serve(home, serving, args.port, args.workers)
                    try:
                        load(f"http://127.0.0.1:{args.port}", token, ids, args.clients, 3.0)  # warm-up
                        figures = load(f"http://127.0.0.1:{args.port}", token, ids, args.clients, args.seconds)
                        figures["peak_mb"] = peak_rss_mb(proc.pid)
                    finally:
                        proc.terminate()
                        proc.wait(timeout=30)
                    runs.append(figures)
                    print(f"  {backend} run {run + 1}: " + ", ".join(f"{k} {v:.1f}" for k, v in figures.items()),
                          flush=True)
                median = {k: statistics.median(r[k] for r in runs) for k in runs[0]}
                results.append({"size": size, "backend": backend, "records": counts["profile_records"],
                                "in_process_ms": reference, **median})
    finally:
        shutil.rmtree(work, ignore_errors=True)
    print(f"\n{args.clients} clients back to back, {args.seconds:.0f} s per run, median of {args.runs} runs;"
          f" service workers {args.workers}; regulator (every class)")
    print("| enterprises | store | profile records | lookups/s | p50 ms | p95 ms | p99 ms | errors | answer kB |"
          " service peak MB | in-process ms (reference) | p50 / reference |")
    print("|---:|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|")
    for r in results:
        print(f"| {r['size']:,} | {r['backend']} | {r['records']:,} | {r['per_s']:.0f} | {r['p50_ms']:.0f} |"
              f" {r['p95_ms']:.0f} | {r['p99_ms']:.0f} | {r['errors']:.0f} | {r['kb']:.0f} | {r['peak_mb']:.0f} |"
              f" {r['in_process_ms']:.1f} | {r['p50_ms'] / r['in_process_ms']:.1f}x |")
    if args.json:
        args.json.write_text(json.dumps(results, indent=1))


if __name__ == "__main__":
    main()
