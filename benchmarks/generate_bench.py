"""Benchmark the landing-zone generator: seconds, rows/s, bytes/s and peak memory at several sizes (medians).

    uv run python benchmarks/generate_bench.py --sizes 1000 5000 20000 --months 12 --runs 3

Each run is a fresh process (so peak RSS is that run's own); figures are medians over the runs.
"""

from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path

ONE_RUN = """
import json, resource, sys, time
from pathlib import Path
from creditlake.generate import generate_landing
n, start, end, out = int(sys.argv[1]), sys.argv[2], sys.argv[3], Path(sys.argv[4])
t = time.perf_counter()
s = generate_landing(out / "landing", n, start, end, seed=42, fault_rate=0.01)
secs = time.perf_counter() - t
size = sum(p.stat().st_size for p in (out / "landing").rglob("*") if p.is_file())
files = sum(1 for p in (out / "landing").rglob("*") if p.is_file())
print(json.dumps({"seconds": secs, "rows": s["rows"], "bytes": size, "files": files,
                  # the largest process: the parent (world) or a worker (one dataset at a time)
                  "peak_rss_mb": max(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss,
                                     resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss) / 1024}))
"""


def run_once(n: int, start: str, end: str) -> dict:
    with tempfile.TemporaryDirectory(prefix="creditlake-bench-") as tmp:
        res = subprocess.run([sys.executable, "-c", ONE_RUN, str(n), start, end, tmp], capture_output=True,
                             text=True, check=True)
        return json.loads(res.stdout.strip().splitlines()[-1])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[1000, 5000, 20000])
    parser.add_argument("--start", default="2024-01")
    parser.add_argument("--end", default="2024-12")
    parser.add_argument("--runs", type=int, default=3)
    args = parser.parse_args()
    print(f"{'enterprises':>11} {'rows':>10} {'MB':>8} {'files':>6} {'s (median)':>11} {'rows/s':>9} "
          f"{'MB/s':>6} {'peak MB':>8}")
    for n in args.sizes:
        runs = [run_once(n, args.start, args.end) for _ in range(args.runs)]
        secs = statistics.median(r["seconds"] for r in runs)
        rows, size = runs[0]["rows"], runs[0]["bytes"]
        peak = statistics.median(r["peak_rss_mb"] for r in runs)
        print(f"{n:>11,} {rows:>10,} {size / 1e6:>8.1f} {runs[0]['files']:>6} {secs:>11.2f} {rows / secs:>9,.0f} "
              f"{size / 1e6 / secs:>6.2f} {peak:>8.0f}", flush=True)


if __name__ == "__main__":
    main()
