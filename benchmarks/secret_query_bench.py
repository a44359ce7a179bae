"""Secret-query timings: the department's responder (and the lake's question and check) for 10k and 100k keys.

    uv run python benchmarks/secret_query_bench.py [--sizes 10000 100000]

The department holds loan rows for 35% of the enterprises asked about plus as many it is not asked about (its
other customers); 5% of its rows are overdue. Pure Python: no Spark. Prints one line per size.
"""

from __future__ import annotations

import argparse
import random
import time

from creditlake.at_source.protocol import build_question, check_answer
from creditlake.at_source.responder import answer


def bank_rows(usccs: list[str], rng: random.Random) -> list[dict]:
    rows = []
    for u in usccs:
        overdue = rng.random() < 0.05
        days = rng.randint(1, 200) if overdue else 0
        rows.append({"uscc": u, "period": "2024-06", "loan_balance": f"{rng.uniform(1e4, 1e8):.2f}",
                     "overdue_balance": f"{rng.uniform(1, 1e6):.2f}" if overdue else "0.00",
                     "max_days_past_due": str(days), "non_performing": "true" if days > 90 else "false"})
    return rows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[10_000, 100_000])
    args = parser.parse_args()
    rng = random.Random(1)
    for n in args.sizes:
        usccs = [f"9152010{i:011d}" for i in range(n)]
        borrowers = rng.sample(usccs, int(n * 0.35)) + [f"9152019{i:011d}" for i in range(int(n * 0.35))]
        rows = bank_rows(borrowers, rng)
        t0 = time.perf_counter()
        q = build_question(usccs, "pboc", "loan_defaults", "2024-06", "benchmark")
        data = q.data
        t1 = time.perf_counter()
        reply = answer(data, rows)
        t2 = time.perf_counter()
        checked = check_answer(q, reply)
        t3 = time.perf_counter()
        print(f"{n:>7} keys, {len(rows):>6} rows at source: question {t1 - t0:.2f} s ({len(data) / 1e6:.1f} MB), "
              f"responder {t2 - t1:.2f} s, answer {len(reply) / 1e3:.0f} kB ({len(checked['positive'])} positive), "
              f"lake check {t3 - t2:.3f} s")


if __name__ == "__main__":
    main()
