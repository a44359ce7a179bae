"""Cold-start latency of `creditlake mediate`: fresh processes, as a user runs it, medians of --runs rounds.

    .venv/bin/python benchmarks/mediation_cold.py                      # builds the default corpus's index first
    .venv/bin/python benchmarks/mediation_cold.py --index INDEX.pkl --runs 7
    .venv/bin/python benchmarks/mediation_cold.py --index OLD.pkl --python /old/checkout/.venv/bin/python

Each round starts, one after the other, four fresh processes of the same interpreter:
  * reference: `python -c pass` (the interpreter's own start; the machine is shared and noisy, so the figures
    are read against it);
  * the command: `python -m creditlake.cli mediate --complaint-file F --index INDEX`, wall-clock from outside;
  * the same command under `-X importtime`: the sum of its top-level imports (everything it imports, typer's
    lazy imports while parsing included);
  * a probe that imports the search, then times `MediationIndex.load` (index load) and the first `suggest`.
Without --index, the index of the evaluation's corpus (benchmarks/mediation_eval.py: seed 42, 10,000 enterprises,
2023: 1,427 cases) is built and saved in a temporary folder.
"""

from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

COMPLAINT = "在网上买的空气炸锅，收到第二天拆开用了一次觉得太小了想退，卖家说拆封了不能退"
PROBE = """
import sys, time
from creditlake.mediation.search import MediationIndex
t0 = time.perf_counter()
index = MediationIndex.load(sys.argv[1])
t1 = time.perf_counter()
index.suggest(sys.argv[2])
t2 = time.perf_counter()
print((t1 - t0) * 1000, (t2 - t1) * 1000)
"""


def _wall_ms(cmd: list[str]) -> tuple[float, subprocess.CompletedProcess]:
    start = time.perf_counter()
    res = subprocess.run(cmd, capture_output=True, text=True)
    elapsed = (time.perf_counter() - start) * 1000
    if res.returncode != 0:
        raise RuntimeError(f"{' '.join(cmd)} failed:\n{res.stderr}")
    return elapsed, res


def _import_ms(importtime: str) -> float:
    """Sum of the top-level imports' cumulative times in `-X importtime` output (microseconds -> ms)."""
    total = 0
    for line in importtime.splitlines():
        if line.startswith("import time:") and not line.startswith("import time: self"):
            _, cumulative, name = line[len("import time:"):].split("|")
            if not name.startswith(" " * 2):  # one space after the bar: a top-level import
                total += int(cumulative)
    return total / 1000


def cold_latency(index: Path, runs: int = 7, python: str = sys.executable, complaint: str = COMPLAINT) -> dict:
    """Medians (ms) over `runs` rounds of fresh processes: reference start, command wall-clock, its imports, index
    load and first query (see the module's docstring)."""
    with tempfile.TemporaryDirectory() as tmp:
        text = Path(tmp) / "complaint.txt"
        text.write_text(complaint, encoding="utf-8")
        command = [python, "-m", "creditlake.cli", "mediate", "--complaint-file", str(text), "--index", str(index)]
        rows = []
        for _ in range(runs):
            reference, _ = _wall_ms([python, "-c", "pass"])
            wall, res = _wall_ms(command)
            if "相关法条" not in res.stdout:
                raise RuntimeError(f"unexpected output of {' '.join(command)}:\n{res.stdout}")
            _, traced = _wall_ms([python, "-X", "importtime", *command[1:]])
            _, probe = _wall_ms([python, "-c", PROBE, str(index), complaint])
            load, first = (float(x) for x in probe.stdout.split())
            rows.append({"reference_ms": reference, "command_ms": wall, "imports_ms": _import_ms(traced.stderr),
                         "index_load_ms": load, "first_query_ms": first})
    medians = {key: round(statistics.median(r[key] for r in rows), 1) for key in rows[0]}
    return {"runs": runs, **medians, "command_minus_reference_ms": round(
        statistics.median(r["command_ms"] - r["reference_ms"] for r in rows), 1)}


def describe(r: dict) -> str:
    return (f"cold `creditlake mediate` (median of {r['runs']} fresh processes): {r['command_ms']:.0f} ms wall-clock "
            f"(python -c pass: {r['reference_ms']:.0f} ms); imports {r['imports_ms']:.0f} ms, index load "
            f"{r['index_load_ms']:.0f} ms, first query {r['first_query_ms']:.0f} ms")


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--index", type=Path, help="index to query (default: build the evaluation corpus's index)")
    p.add_argument("--runs", type=int, default=7)
    p.add_argument("--python", default=sys.executable, help="interpreter of the checkout to measure")
    p.add_argument("--json", action="store_true", help="print the medians as JSON")
    args = p.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        index = args.index
        if index is None:
            from creditlake.mediation.corpus import generated_cases
            from creditlake.mediation.search import MediationIndex

            index = MediationIndex.build(generated_cases(10_000, "2023-01", "2023-12", 42)).save(Path(tmp) / "i.pkl")
        r = cold_latency(index, args.runs, args.python)
    print(json.dumps(r) if args.json else describe(r))


if __name__ == "__main__":
    main()
