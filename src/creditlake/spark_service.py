"""One long-lived Spark per home: a Spark Connect server that every process of the home uses as a client.

Started from the pyspark wheel (`spark-submit --class SparkConnectServer`, Delta's extension and catalog, the
jars of `creditlake.jars`), bound to 127.0.0.1 on a free port, its state in home/spark/service.json and its log in
home/logs/spark-service.log. While it runs, `creditlake.spark.get_spark()` in any process of the home (Airflow
tasks, dbt, Great Expectations, CLI commands) returns a Connect session on it: no JVM start per process, and the
lake's catalog (tables and dbt's views) is built once and lives as long as the service. Two homes never share one.

    creditlake spark start     # idempotent; `airflow start`, `demo` and the test session start it
    creditlake spark status    # URL, uptime, sessions, memory
    creditlake spark stop

The state file also says the home wants a service: a service that died (killed, out of memory) is started again by
the next process that asks for Spark; `stop` removes the file, and processes then start Spark in-process.
"""

from __future__ import annotations

import fcntl
import json
import os
import re
import signal
import subprocess
import sys
import time
import urllib.request
from contextlib import contextmanager
from dataclasses import asdict, dataclass
from pathlib import Path

from creditlake.cluster import alive, free_port, listening, signal_group
from creditlake.settings import Settings

SERVER_CLASS = "org.apache.spark.sql.connect.service.SparkConnectServer"
# An operation whose client went away (a task killed with SIGKILL) is interrupted after this long, so a rerun does
# not race a write of the run it replaces; sessions of clients that never said goodbye are closed after an idle hour.
CONNECT_CONF = {
    "spark.connect.execute.manager.detachedTimeout": "20s",
    "spark.connect.execute.manager.maintenanceInterval": "5s",
    "spark.connect.session.manager.defaultSessionTimeout": "60m",
}


class ServiceError(RuntimeError):
    """The service did not come up, or runs with another master than asked (the message says what to do)."""


@dataclass
class Service:
    url: str          # sc://127.0.0.1:PORT, what clients connect to
    ui_url: str       # Spark's web UI (jobs, SQL, the Connect tab)
    pid: int          # the driver JVM (spark-submit execs it), leader of its own process group
    home: str
    master: str
    started_at: float
    log: str

    @property
    def port(self) -> int:
        return int(self.url.rsplit(":", 1)[1])

    def alive(self) -> bool:
        return _is_server(self.pid) and listening(self.port)

    def sessions(self) -> tuple[int, int] | None:
        """(client sessions online, requests running) from the UI's Connect tab; None while it does not answer."""
        try:
            with urllib.request.urlopen(f"{self.ui_url}/connect/", timeout=5) as response:
                page = response.read().decode("utf-8", "replace")
        except OSError:
            return None
        found = re.search(r"(\d+)\s*session\(s\) are online,\s*running\s*(\d+)\s*Request", page)
        return (int(found.group(1)), int(found.group(2))) if found else None

    def memory_mib(self) -> float | None:
        """Resident memory of the driver JVM (Linux /proc), MiB."""
        try:
            status = Path(f"/proc/{self.pid}/status").read_text()
        except OSError:
            return None
        found = re.search(r"VmRSS:\s*(\d+) kB", status)
        return int(found.group(1)) / 1024 if found else None


def state_file(settings: Settings) -> Path:
    return settings.spark_work / "service.json"


def log_file(settings: Settings) -> Path:
    return settings.logs / "spark-service.log"


def read(settings: Settings) -> Service | None:
    """The service recorded for this home (alive or not), or None when none was started or it was stopped."""
    path = state_file(settings)
    try:
        return Service(**json.loads(path.read_text()))
    except (OSError, ValueError, TypeError):
        return None


def running(settings: Settings) -> Service | None:
    """The home's service if it answers, else None."""
    service = read(settings)
    return service if service is not None and service.alive() else None


@contextmanager
def _locked(settings: Settings):
    """One starter or stopper at a time per home (Airflow starts tasks side by side)."""
    settings.spark_work.mkdir(parents=True, exist_ok=True)
    with open(settings.spark_work / "service.lock", "w") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


def start(settings: Settings, timeout: float = 300) -> Service:
    """Start the home's service unless it runs; return it once it accepts clients."""
    from creditlake.spark import session_conf, without_connect_client_env

    with _locked(settings):
        current = read(settings)
        if current is not None and current.alive():
            return current
        if current is not None:  # recorded but dead or deaf: clear what is left of it
            _terminate(current.pid)
        settings.logs.mkdir(parents=True, exist_ok=True)
        port, ui_port = free_port(), free_port()
        conf = session_conf(settings)
        conf = {**conf, **CONNECT_CONF,
                # A driver out of heap stops its SparkContext but keeps serving: clients would wait on it for
                # ever. It exits instead, and the next process that asks for Spark starts a fresh one.
                "spark.driver.extraJavaOptions":
                    conf["spark.driver.extraJavaOptions"] + " -XX:+ExitOnOutOfMemoryError",
                "spark.connect.grpc.binding.address": "127.0.0.1",
                "spark.connect.grpc.binding.port": str(port),
                "spark.ui.port": str(ui_port)}
        import pyspark

        spark_home = Path(pyspark.__file__).parent
        args = [str(spark_home / "bin" / "spark-submit"), "--class", SERVER_CLASS,
                "--master", settings.spark_master, "--name", f"creditlake {settings.home}",
                "--driver-memory", settings.spark_driver_memory]
        for key, value in conf.items():
            args += ["--conf", f"{key}={value}"]
        env = {**without_connect_client_env(dict(os.environ)), "SPARK_HOME": str(spark_home),
               "SPARK_LOCAL_IP": "127.0.0.1", "CREDITLAKE_HOME": str(settings.home),
               # Python UDFs run in workers of this interpreter: the same venv and package as the clients.
               "PYSPARK_PYTHON": sys.executable}
        env.pop("PYSPARK_SUBMIT_ARGS", None)
        log = log_file(settings)
        with open(log, "ab") as out:
            out.write(f"\n=== {time.strftime('%Y-%m-%d %H:%M:%S')} starting the Spark service\n".encode())
            out.flush()
            proc = subprocess.Popen(args, stdout=out, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
                                    env=env, start_new_session=True, cwd=settings.spark_work)
        service = Service(url=f"sc://127.0.0.1:{port}", ui_url=f"http://127.0.0.1:{ui_port}", pid=proc.pid,
                          home=str(settings.home), master=settings.spark_master, started_at=time.time(),
                          log=str(log))
        _save(settings, service)
        deadline = time.monotonic() + timeout
        while not listening(port):
            if proc.poll() is not None or time.monotonic() > deadline:
                _terminate(proc.pid)
                state_file(settings).unlink(missing_ok=True)
                raise ServiceError(f"Spark 服务未能启动 (the Spark service did not start): see {log}")
            time.sleep(0.3)
        return service


def stop(settings: Settings, timeout: float = 60) -> bool:
    """Stop the home's service; True if one was running. Processes then start Spark in-process."""
    with _locked(settings):
        service = read(settings)
        state_file(settings).unlink(missing_ok=True)
        if service is None or not _is_server(service.pid):
            return False
        _terminate(service.pid, timeout)
        return True


def _is_server(pid: int) -> bool:
    """Whether `pid` is a running Spark Connect server (not another process that got the pid of a dead one)."""
    if not alive(pid):
        return False
    try:
        return SERVER_CLASS.encode() in Path(f"/proc/{pid}/cmdline").read_bytes()
    except OSError:  # no /proc (macOS): trust the pid
        return True


def _terminate(pid: int, timeout: float = 60) -> None:
    if not _is_server(pid) or not signal_group(pid, signal.SIGTERM):
        return
    deadline = time.monotonic() + timeout
    while alive(pid) and time.monotonic() < deadline:
        time.sleep(0.2)
    if alive(pid):
        signal_group(pid, signal.SIGKILL)


def _save(settings: Settings, service: Service) -> None:
    path = state_file(settings)
    tmp = path.with_suffix(f".{os.getpid()}.tmp")
    tmp.write_text(json.dumps(asdict(service), indent=1))
    os.replace(tmp, path)
