"""Benchmark the ledger: append rate (batch API) and full verify time at several sizes, as medians.

    uv run python benchmarks/ledger_bench.py --sizes 10000 100000 1000000

Each run is a fresh process and a fresh home. It appends N `delivery_ingested` events in batches of
--batch through `append_events`, signs one checkpoint, then times `verify_ledger` (every leaf rehashed,
every entry parsed, the root and the checkpoint checked). The machine is shared and noisy, so every
figure also comes as a ratio to a reference measured in the same process: a plain hashlib loop computing
the same leaf hashes, SHA-256(0x00 || line), over the same lines streamed from entries.jsonl. Sizes below --one-run-above get the
median of --runs runs; a larger size gets one run when that run took over 60 s (the table says which).
"""

from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys
import tempfile

ONE_RUN = """
import hashlib, json, resource, sys, time
from pathlib import Path
from creditlake.settings import Settings
from creditlake.ledger import append_events, verify_ledger, write_checkpoint
from creditlake.ledger.log import ledger_paths

n, batch, home = int(sys.argv[1]), int(sys.argv[2]), Path(sys.argv[3])
settings = Settings(home=home)
sha = hashlib.sha256(b"x").hexdigest()

def events(start, stop):
    return [("delivery_ingested", {"source": "power", "dataset": "consumption", "period": f"2024-{i % 12 + 1:02d}",
             "delivery_id": f"power/consumption/2024-{i % 12 + 1:02d}/{i}", "sha256": sha, "rows": 1000 + i})
            for i in range(start, stop)]

t = time.perf_counter()
for start in range(0, n, batch):
    append_events(events(start, min(n, start + batch)), settings)
append_s = time.perf_counter() - t
t = time.perf_counter()
write_checkpoint(settings)
checkpoint_s = time.perf_counter() - t
t = time.perf_counter()
result = verify_ledger(settings)
verify_s = time.perf_counter() - t
assert result.ok and result.entries == n, result.problems
t = time.perf_counter()
with open(ledger_paths(settings).entries, "rb") as fh:  # streamed, like verify reads it
    for line in fh:
        hashlib.sha256(b"\\x00" + line[:-1]).digest()
ref_s = time.perf_counter() - t
print(json.dumps({"append_s": append_s, "checkpoint_s": checkpoint_s, "verify_s": verify_s, "ref_s": ref_s,
                  "bytes": ledger_paths(settings).entries.stat().st_size,
                  "peak_rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024}))
"""


def run_once(n: int, batch: int) -> dict:
    with tempfile.TemporaryDirectory(prefix="creditlake-ledger-bench-") as tmp:
        res = subprocess.run([sys.executable, "-c", ONE_RUN, str(n), str(batch), tmp], capture_output=True,
                             text=True, check=True)
        return json.loads(res.stdout.strip().splitlines()[-1])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[10_000, 100_000])
    parser.add_argument("--batch", type=int, default=10_000, help="events per append_events call")
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--one-run-above", type=int, default=100_000,
                        help="sizes above this get one run when it takes over 60 s")
    args = parser.parse_args()
    print(f"{'events':>9} {'runs':>4} {'MB':>6} {'append s':>9} {'events/s':>9} {'x ref':>6} {'ckpt s':>7} "
          f"{'verify s':>9} {'x ref':>6} {'ref s':>6} {'peak MB':>8}")
    for n in args.sizes:
        runs = [run_once(n, args.batch)]
        if not (n > args.one_run_above and runs[0]["append_s"] + runs[0]["verify_s"] > 60):
            runs += [run_once(n, args.batch) for _ in range(args.runs - 1)]
        med = {k: statistics.median(r[k] for r in runs) for k in runs[0]}
        print(f"{n:>9,} {len(runs):>4} {med['bytes'] / 1e6:>6.1f} {med['append_s']:>9.2f} "
              f"{n / med['append_s']:>9,.0f} {statistics.median(r['append_s'] / r['ref_s'] for r in runs):>6.1f} "
              f"{med['checkpoint_s']:>7.2f} {med['verify_s']:>9.2f} "
              f"{statistics.median(r['verify_s'] / r['ref_s'] for r in runs):>6.1f} {med['ref_s']:>6.3f} "
              f"{med['peak_rss_mb']:>8.0f}", flush=True)
    print("x ref: time / a plain hashlib loop computing the same leaf hashes in the same process "
          f"(median of per-run ratios); runs: medians over that many runs, batch {args.batch:,} events")


if __name__ == "__main__":
    main()
