"""Which folders are Delta tables: a table another process is still creating is not one yet."""

from creditlake.spark import is_delta_table


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
