"""Which folders are Delta tables: a table another process is still creating is not one yet. Datasets' Spark work
side by side: results in order, and an error only once every started dataset has ended."""

import threading
import time

import pytest

from creditlake.spark import for_each_concurrently, is_delta_table


def test_a_table_is_a_table_from_its_first_commit(tmp_path):
    table = tmp_path / "ops" / "deliveries"
    assert not is_delta_table(table)
    log_dir = table / "_delta_log"
    log_dir.mkdir(parents=True)  # what a writer creates first, before its commit lands
    assert not is_delta_table(table)
    (log_dir / ".00000000000000000000.json.6f1c.tmp").write_text("{}")  # the commit being written
    assert not is_delta_table(table)
    (log_dir / "00000000000000000000.json").write_text("{}")
    assert is_delta_table(table)


def test_a_checkpointed_table_is_a_table(tmp_path):
    log_dir = tmp_path / "t" / "_delta_log"
    log_dir.mkdir(parents=True)
    (log_dir / "00000000000000000010.checkpoint.parquet").write_bytes(b"PAR1")
    assert is_delta_table(tmp_path / "t")


def test_datasets_side_by_side_keep_their_order_and_run_at_once():
    running, most = [0], [0]
    lock = threading.Lock()

    def work(n):
        with lock:
            running[0] += 1
            most[0] = max(most[0], running[0])
        time.sleep(0.05 * (3 - n % 3))  # later items end first
        with lock:
            running[0] -= 1
        return n * n

    assert for_each_concurrently(work, list(range(6)), threads=3) == [n * n for n in range(6)]
    assert most[0] == 3
    most[0] = 0
    assert for_each_concurrently(work, list(range(3)), threads=1) == [0, 1, 4]
    assert most[0] == 1


def test_an_error_is_raised_after_every_started_dataset_has_ended():
    ended = []

    def work(n):
        if n == 0:
            raise ValueError("broken delivery")
        time.sleep(0.1)
        ended.append(n)

    with pytest.raises(ValueError, match="broken delivery"):
        for_each_concurrently(work, [0, 1, 2], threads=3)
    assert sorted(ended) == [1, 2]  # nothing cut off half-way
