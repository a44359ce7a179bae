"""A regulator adds a department with a catalogue entry alone: it is generated, ingested and accounted for."""

import json
import os
import shutil
import subprocess
import sys

from creditlake.settings import REPO_ROOT

NEW_SOURCE = """\
# 彩票管理中心: a department added by configuration only (no code change).
code: lottery
name_zh: 福利彩票发行中心
name_en: Welfare Lottery Centre
kind: department
datasets:
  - code: outlets
    name_zh: 彩票销售网点
    name_en: Lottery retail outlets
    description: One row per licensed outlet and month with its sales.
    cadence: monthly
    format: csv
    encoding: gb18030
    key: outlet_no
    links_to_enterprise: uscc
    unique: [outlet_no, period]
    columns:
      - {name: outlet_no, type: string, nullable: false, pattern: '^5201\\d{6}$', sensitivity: public, description: 网点编号}
      - {name: uscc, type: string, nullable: false, check: uscc, sensitivity: public, description: 统一社会信用代码}
      - {name: period, type: string, nullable: false, pattern: '^\\d{4}-(0[1-9]|1[0-2])$', sensitivity: public, description: 月份}
      - {name: sales_amount, type: decimal, nullable: false, min: 0, sensitivity: internal, description: 销售额（元）}
      - {name: operator_phone, type: string, nullable: true, sensitivity: personal, pseudonymise: true, description: 业主电话}
"""


def test_a_catalogue_entry_alone_adds_a_source_end_to_end(tmp_path):
    catalogue = tmp_path / "catalogue"
    shutil.copytree(REPO_ROOT / "catalogue", catalogue)
    (catalogue / "lottery.yaml").write_text(NEW_SOURCE, encoding="utf-8")
    env = {**os.environ, "CREDITLAKE_HOME": str(tmp_path / "home"), "CREDITLAKE_CATALOGUE_DIR": str(catalogue)}
    landing = tmp_path / "landing"

    def cli(*args):
        res = subprocess.run([sys.executable, "-m", "creditlake.cli", *args], env=env, capture_output=True,
                             text=True, timeout=900)
        assert res.returncode == 0, res.stderr[-3000:]
        return res.stdout

    cli("generate", "--landing", str(landing), "--enterprises", "120", "--start", "2024-01", "--end", "2024-02",
        "--fault-rate", "0.05", "--only", "lottery", "--only", "samr/registrations")
    assert (landing / "lottery" / "outlets" / "2024-02" / "_manifest.json").exists()
    cli("ingest", "--landing", str(landing))
    rows = json.loads(cli("accounting", "--json"))
    lottery = [r for r in rows if r["source"] == "lottery"]
    assert [r["period"] for r in lottery] == ["2024-01", "2024-02"]
    for r in lottery:
        assert r["status"] == "loaded" and r["landed"] > 0
        assert r["landed"] == r["loaded"] + r["quarantined"]
    assert sum(r["quarantined"] for r in lottery) > 0  # the planted faults were caught
