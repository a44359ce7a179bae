"""A Spark standalone cluster on this machine: one master and N workers started from the pyspark wheel.

For operators who want the lake's runs on a standalone cluster without a Spark distribution, for the
cluster test and for the benchmark. Everything binds to 127.0.0.1; each daemon's log and the cluster's
state (master URL, process ids) live under one folder, so `stop` finds what `start` began.

    creditlake cluster start --workers 2 --cores 1 --memory 1g   # prints the master URL
    CREDITLAKE_SPARK_MASTER=spark://127.0.0.1:PORT creditlake run ...
    creditlake cluster stop
"""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from dataclasses import asdict, dataclass, field
from pathlib import Path

MASTER_CLASS = "org.apache.spark.deploy.master.Master"
WORKER_CLASS = "org.apache.spark.deploy.worker.Worker"


class ClusterError(RuntimeError):
    """The cluster did not come up (the message names the log to read)."""


@dataclass
class Cluster:
    master_url: str
    web_url: str
    folder: str
    pids: list[int] = field(default_factory=list)

    def alive_workers(self) -> int:
        """Workers the master counts as ALIVE (its web UI's JSON); 0 while it does not answer."""
        try:
            with urllib.request.urlopen(f"{self.web_url}/json/", timeout=5) as response:
                state = json.load(response)
        except OSError:
            return 0
        return int(state.get("aliveworkers", 0))


def spark_class() -> Path:
    """The `spark-class` launcher inside the installed pyspark wheel."""
    import pyspark

    return Path(pyspark.__file__).parent / "bin" / "spark-class"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _daemon_env(folder: Path) -> dict[str, str]:
    import pyspark

    from creditlake.spark import without_connect_client_env

    return {
        **without_connect_client_env(dict(os.environ)),
        "SPARK_HOME": str(Path(pyspark.__file__).parent),
        "SPARK_LOCAL_IP": "127.0.0.1",
        "SPARK_LOCAL_DIRS": str(folder / "local"),
        # Executors start Python workers with the driver's interpreter (same venv, same package).
        "PYSPARK_PYTHON": sys.executable,
        # The daemons need little heap; the executors get their own JVMs sized by --memory.
        "SPARK_DAEMON_MEMORY": "256m",
    }


def _spawn(args: list[str], log: Path, env: dict[str, str]) -> int:
    with open(log, "ab") as out:
        proc = subprocess.Popen([str(spark_class()), *args], stdout=out, stderr=subprocess.STDOUT, env=env,
                                stdin=subprocess.DEVNULL, start_new_session=True)
    return proc.pid


def start(folder: Path, workers: int = 2, cores: int = 1, memory: str = "1g", timeout: float = 300) -> Cluster:
    """Start a master and `workers` workers (each `cores` cores and `memory`), wait until all are ALIVE.

    State goes to folder/cluster.json, daemon logs to folder/*.log; on failure everything started is stopped.
    """
    folder = Path(folder)
    (folder / "local").mkdir(parents=True, exist_ok=True)
    env = _daemon_env(folder)
    port, web = free_port(), free_port()
    cluster = Cluster(master_url=f"spark://127.0.0.1:{port}", web_url=f"http://127.0.0.1:{web}", folder=str(folder))
    try:
        cluster.pids.append(_spawn([MASTER_CLASS, "--host", "127.0.0.1", "--port", str(port), "--webui-port",
                                    str(web)], folder / "master.log", env))
        _save(cluster)
        _wait(lambda: listening(port), timeout, f"the master did not listen on {port} (see {folder}/master.log)")
        for n in range(workers):
            work = folder / f"worker-{n}"
            work.mkdir(exist_ok=True)
            cluster.pids.append(_spawn([WORKER_CLASS, "--host", "127.0.0.1", "--webui-port", str(free_port()),
                                        "--cores", str(cores), "--memory", memory, "--work-dir", str(work),
                                        cluster.master_url], folder / f"worker-{n}.log", env))
            _save(cluster)
        _wait(lambda: cluster.alive_workers() >= workers, timeout,
              f"{workers} workers did not register with {cluster.master_url} (see {folder}/worker-*.log)")
    except BaseException:
        stop(folder)
        raise
    return cluster


def stop(folder: Path, timeout: float = 30) -> int:
    """Stop the daemons recorded in folder/cluster.json (workers first); returns how many were running."""
    state = Path(folder) / "cluster.json"
    if not state.exists():
        return 0
    pids = json.loads(state.read_text())["pids"]
    running = [pid for pid in reversed(pids) if signal_group(pid, signal.SIGTERM)]
    deadline = time.monotonic() + timeout
    for pid in running:
        while alive(pid) and time.monotonic() < deadline:
            time.sleep(0.2)
        if alive(pid):
            signal_group(pid, signal.SIGKILL)
    state.unlink()
    return len(running)


def read(folder: Path) -> Cluster | None:
    """The cluster recorded in folder, or None."""
    state = Path(folder) / "cluster.json"
    return Cluster(**json.loads(state.read_text())) if state.exists() else None


def _save(cluster: Cluster) -> None:
    Path(cluster.folder, "cluster.json").write_text(json.dumps(asdict(cluster), indent=1))


def signal_group(pid: int, sig: int) -> bool:
    """Signal the process group a daemon leads (spark-class execs java in it); False if it is gone."""
    try:
        os.killpg(pid, sig)
        return True
    except ProcessLookupError:
        return False


def alive(pid: int) -> bool:
    try:
        waited, _ = os.waitpid(pid, os.WNOHANG)  # reap our own children so they do not linger as zombies
        if waited == pid:
            return False
    except ChildProcessError:
        pass
    try:
        os.killpg(pid, 0)
        return True
    except ProcessLookupError:
        return False


def listening(port: int) -> bool:
    with socket.socket() as sock:
        return sock.connect_ex(("127.0.0.1", port)) == 0


def _wait(ready, timeout: float, message: str) -> None:
    deadline = time.monotonic() + timeout
    while not ready():
        if time.monotonic() > deadline:
            raise ClusterError(message)
        time.sleep(0.5)
