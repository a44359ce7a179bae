"""Evaluate the mediation search: article and similar-case recall@5 and MRR, and query latency.

    .venv/bin/python benchmarks/mediation_eval.py                 # the figures of docs/mediation.md
    .venv/bin/python benchmarks/mediation_eval.py --sweep         # and the sensitivity of the parameters
    .venv/bin/python benchmarks/mediation_eval.py --json out.json --misses

Corpus: the generator's mediation cases (seed 42, 10,000 enterprises, 2023). Query sets, both apart from it:
the hand-checked complaints of benchmarks/mediation_eval/hand_checked.jsonl, and held-out generated complaints
(seed 7, 3,000 enterprises, 2024-01..06) whose truth is the generator's mapping (complaint_text.SCENARIOS).
The cold start of `creditlake mediate` on this corpus's index is measured by benchmarks/mediation_cold.py.
"""

from __future__ import annotations

import argparse
import json
import tempfile
import time
from pathlib import Path

from mediation_cold import cold_latency, describe

from creditlake.mediation import evaluate as ev
from creditlake.mediation.corpus import generated_cases
from creditlake.mediation.search import MODES, MediationIndex


def _row(name: str, r: dict) -> str:
    a, c = r["articles"], r["cases"]
    return (f"| {name} | {r['mode']} | {r['queries']} | {a['recall@k']:.3f} | {a['mrr']:.3f} | {a['hit@k']:.3f} | "
            f"{c['recall@k']:.3f} | {c['mrr']:.3f} | {r['latency_ms']['median']:.1f} |")


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--enterprises", type=int, default=10_000)
    p.add_argument("--start", default="2023-01")
    p.add_argument("--end", default="2023-12")
    p.add_argument("--seed", type=int, default=42)
    p.add_argument("--heldout-seed", type=int, default=7)
    p.add_argument("--heldout-enterprises", type=int, default=3_000)
    p.add_argument("--heldout-start", default="2024-01")
    p.add_argument("--heldout-end", default="2024-06")
    p.add_argument("--heldout-limit", type=int, default=300)
    p.add_argument("--k", type=int, default=5)
    p.add_argument("--cold-runs", type=int, default=7, help="fresh processes for the cold-start median (0: none)")
    p.add_argument("--sweep", action="store_true", help="also vary boost, neighbours, k1 and b")
    p.add_argument("--misses", action="store_true", help="print the hand-checked queries not fully answered")
    p.add_argument("--json", type=Path, help="write all results to this file")
    args = p.parse_args()

    t = time.perf_counter()
    cases = generated_cases(args.enterprises, args.start, args.end, args.seed)
    index = MediationIndex.build(cases)
    build_s = time.perf_counter() - t
    hand = ev.hand_checked()
    held = ev.generated_queries(args.heldout_enterprises, args.heldout_start, args.heldout_end, args.heldout_seed,
                                args.heldout_limit)
    with tempfile.TemporaryDirectory() as tmp:
        path = index.save(Path(tmp) / "index.pkl")
        size = path.stat().st_size
        cold = cold_latency(path, args.cold_runs) if args.cold_runs else None
    print(f"corpus: {len(cases)} cases (seed {args.seed}, {args.enterprises} enterprises, {args.start}..{args.end}), "
          f"{len(index.articles)} articles; built in {build_s:.1f} s, {size / 1e6:.1f} MB on disk")
    if cold:
        print(describe(cold))
    print(f"queries: {len(hand)} hand-checked, {len(held)} generated held-out (seed {args.heldout_seed})\n")
    print(f"| query set | article mode | n | article recall@{args.k} | article MRR | article hit@{args.k} | "
          f"case recall@{args.k} | case MRR | median ms |")
    print("|---|---|---|---|---|---|---|---|---|")
    results = {"corpus_cases": len(cases), "articles": len(index.articles), "build_s": round(build_s, 2),
               "index_bytes": size, "cold": cold, "runs": []}
    for mode in MODES:
        for name, queries in (("hand-checked", hand), ("generated held-out", held)):
            r = ev.evaluate(index, queries, k=args.k, mode=mode)
            print(_row(name, r))
            results["runs"].append({"set": name, **{k: v for k, v in r.items() if k != "misses"}})
            if args.misses and name == "hand-checked" and mode == "cases":
                misses = r["misses"]
    if args.sweep:
        print("\nsensitivity (mode cases): hand-checked / held-out article recall@k")
        for label, kw, build in [("boost 0.5", {"boost": 0.5}, None), ("boost 0.9", {"boost": 0.9}, None),
                                 ("neighbours 10", {"neighbours": 10}, None),
                                 ("neighbours 40", {"neighbours": 40}, None),
                                 ("k1 1.2", {}, {"k1": 1.2}), ("k1 2.0", {}, {"k1": 2.0}),
                                 ("b 0.5", {}, {"b": 0.5}), ("b 0.9", {}, {"b": 0.9})]:
            idx = MediationIndex.build(cases, **build) if build else index
            h = ev.evaluate(idx, hand, k=args.k, mode="cases", **kw)["articles"]["recall@k"]
            g = ev.evaluate(idx, held, k=args.k, mode="cases", **kw)["articles"]["recall@k"]
            print(f"  {label:14s} {h:.3f} / {g:.3f}")
            results.setdefault("sweep", []).append({"setting": label, "hand": h, "heldout": g})
    if args.misses:
        print("\nhand-checked queries with a relevant article outside the top k (mode cases):")
        for m in misses:
            print(f"  {m['id']}: missing {', '.join(m['missing'])}")
    if args.json:
        args.json.write_text(json.dumps(results, ensure_ascii=False, indent=1) + "\n", encoding="utf-8")


if __name__ == "__main__":
    main()
