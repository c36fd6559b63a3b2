"""Services as operating-system processes (`sellerflow run NAME`), as in production, so a fault test can
SIGKILL one mid-batch and start it again."""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import httpx

from shared.auth import operator_token
from shared.embedded import free_port
from shared.settings import Settings

#: 32+ random-looking bytes, made for this suite; the services here verify tokens only from the tests.
FAULT_SUITE_SECRET = "fault-suite-" + "4f1c9e7a2b8d6053e1a7c4b9d2f08e63"
START_TIMEOUT = 180.0  # imports, migrations and a group join, on a shared 2-core machine


def service_env(settings: Settings) -> dict[str, str]:
    """The session's infrastructure and this platform's prefixes, as environment variables."""
    assert settings.kafka_bootstrap_servers and settings.database_url
    inherited = {k: v for k, v in os.environ.items() if not k.startswith("SERVICE_PORT")}
    return {
        **inherited,
        "KAFKA_BOOTSTRAP_SERVERS": settings.kafka_bootstrap_servers,
        "DATABASE_URL": settings.database_url.get_secret_value(),
        "TOPIC_PREFIX": settings.topic_prefix,
        "DB_SCHEMA_PREFIX": settings.db_schema_prefix,
        "TOPIC_PARTITIONS": str(settings.topic_partitions),
        "CONSUMER_FETCH_MAX_WAIT_MS": str(settings.consumer_fetch_max_wait_ms),
        "OTEL_TRACE_SAMPLE_RATIO": "0",
        "LOG_LEVEL": "WARNING",
        # A real secret: outside the embedded default a service refuses to start without one (design.md 8).
        "AUTH_SECRET": FAULT_SUITE_SECRET,
    }


@dataclass
class ServiceProcesses:
    """Running `sellerflow run` processes, one per service, each on a port of its own."""

    settings: Settings
    log_dir: Path
    processes: dict[str, subprocess.Popen[bytes]] = field(default_factory=dict)
    ports: dict[str, int] = field(default_factory=dict)

    def url(self, name: str) -> str:
        return f"http://127.0.0.1:{self.ports[name]}"

    def client(self, name: str) -> httpx.AsyncClient:
        token = operator_token(FAULT_SUITE_SECRET)  # the secret the service processes were given
        return httpx.AsyncClient(base_url=self.url(name), headers={"Authorization": f"Bearer {token}"},
                                 timeout=30.0)

    def start(self, names: Sequence[str]) -> None:
        for name in names:
            self.ports[name] = self.ports.get(name) or free_port()  # a restart keeps its port
            log = (self.log_dir / f"{name}.log").open("ab")
            self.processes[name] = subprocess.Popen(
                [sys.executable, "-m", "sellerflow", "run", name],
                env={**service_env(self.settings), "SERVICE_PORT": str(self.ports[name])},
                stdout=log, stderr=subprocess.STDOUT,
            )
        self.wait_ready(names)

    def wait_ready(self, names: Sequence[str]) -> None:
        deadline = time.monotonic() + START_TIMEOUT
        pending = set(names)
        while pending:
            for name in sorted(pending):
                code = self.processes[name].poll()
                assert code is None, f"{name} exited with {code}: see {self.log_dir / f'{name}.log'}"
                with contextlib.suppress(httpx.HTTPError):
                    if httpx.get(f"{self.url(name)}/readyz", timeout=2).status_code == 200:
                        pending.discard(name)
            assert time.monotonic() < deadline, f"not ready: {sorted(pending)}"
            time.sleep(0.3)

    def kill(self, name: str) -> None:
        """SIGKILL: no graceful stop, no offset commit, no outbox pass finished."""
        process = self.processes[name]
        process.send_signal(signal.SIGKILL)
        process.wait(30)

    def stop(self) -> None:
        for process in self.processes.values():
            if process.poll() is None:
                process.send_signal(signal.SIGTERM)
        for process in self.processes.values():
            try:
                process.wait(30)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait(10)


@contextlib.contextmanager
def service_processes(settings: Settings, names: Sequence[str], log_dir: Path) -> Iterator[ServiceProcesses]:
    platform = ServiceProcesses(settings, log_dir)
    try:
        platform.start(names)
        yield platform
    finally:
        platform.stop()
