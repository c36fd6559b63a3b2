"""`sellerflow` as an operator runs it: one line for a bad setting or a busy port, and a signal stops
every process it started, the embedded broker and PostgreSQL included (design.md section 6, Processes)."""

from __future__ import annotations

import contextlib
import os
import selectors
import signal
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path

import psutil
import pytest

from shared.embedded import free_port
from shared.settings import SERVICE_NAMES

pytestmark = pytest.mark.integration

#: Generous: the machine is shared, and PostgreSQL's start-up alone can take seconds under load.
START_TIMEOUT = 120.0
STOP_TIMEOUT = 60.0


@pytest.fixture
def data_dir() -> Iterator[Path]:
    """Outside pytest's own temporary root: another pytest run resets its permissions, and PostgreSQL's
    system user must keep reaching its folder."""
    with tempfile.TemporaryDirectory(prefix="sellerflow-processes-") as folder:
        yield Path(folder)


def sellerflow_env(data_dir: Path, **extra: str) -> dict[str, str]:
    """The embedded default in its own data folder, every service on a port nobody else uses."""
    env = {k: v for k, v in os.environ.items()
           if k not in ("KAFKA_BOOTSTRAP_SERVERS", "DATABASE_URL") and not k.startswith("SERVICE_PORT")}
    ports = {f"SERVICE_PORT_{name.upper()}": str(free_port()) for name in SERVICE_NAMES}
    if "SERVICE_PORT" in extra:  # the test means the shared one
        ports = {}
    return {**env, **ports, "DATA_DIR": str(data_dir), "EMBEDDED_DURABLE": "false", **extra}


def run_briefly(*args: str, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "sellerflow", *args], env=env, capture_output=True, text=True,
                          timeout=60)


def test_a_busy_port_is_one_line_naming_the_variable_before_anything_starts(tmp_path: Path) -> None:
    with socket.socket() as holder:
        holder.bind(("127.0.0.1", 0))
        holder.listen()
        busy = holder.getsockname()[1]
        done = run_briefly("up", env=sellerflow_env(tmp_path, SERVICE_PORT_ORDER=str(busy)))
    assert done.returncode != 0
    assert done.stderr.strip().splitlines() == [
        f"sellerflow: port {busy} for the order service is in use: stop what holds it, "
        "or set SERVICE_PORT_ORDER to another port"
    ]
    assert not (tmp_path / "postgres").exists(), "nothing may start before the ports are checked"


def test_two_services_on_one_port_are_refused_before_anything_starts(tmp_path: Path) -> None:
    done = run_briefly("up", env=sellerflow_env(tmp_path, SERVICE_PORT="9000"))
    assert done.returncode == 2
    assert done.stderr.strip() == ("sellerflow: listing and order would both listen on port 9000: "
                                   "set SERVICE_PORT to another port")


def test_bad_settings_are_one_line_per_variable_without_a_traceback(tmp_path: Path) -> None:
    done = run_briefly("up", env=sellerflow_env(tmp_path, TOPIC_PARTITIONS="0", SERVICE_PORT_METRICS="http"))
    assert done.returncode == 2
    assert done.stderr.strip().splitlines() == [
        "sellerflow: TOPIC_PARTITIONS='0': Input should be greater than or equal to 1",
        "sellerflow: SERVICE_PORT_METRICS='http': Input should be a valid integer, unable to parse string as an "
        "integer",
    ]


def test_a_database_without_a_broker_is_named_in_one_line(tmp_path: Path) -> None:
    done = run_briefly("run", "order", env=sellerflow_env(tmp_path, DATABASE_URL="postgresql://db/sellerflow"))
    assert done.returncode == 2
    assert done.stderr.strip() == "sellerflow: DATABASE_URL is set but KAFKA_BOOTSTRAP_SERVERS is not"


@pytest.mark.parametrize("signum", [signal.SIGTERM, signal.SIGINT])
def test_a_signal_to_infra_stops_the_broker_and_the_database(data_dir: Path, signum: signal.Signals) -> None:
    with started("infra", env=sellerflow_env(data_dir), ready="export DATABASE_URL") as (process, _):
        processes = descendants(process, data_dir)
        assert len(processes) >= 2, "the broker and PostgreSQL's postmaster at least"
        process.send_signal(signum)
        process.wait(STOP_TIMEOUT)
    assert_all_gone(processes)


def test_sigterm_to_up_stops_the_service_the_broker_and_the_database(data_dir: Path) -> None:
    port = free_port()
    env = sellerflow_env(data_dir, SERVICE_PORT_ORDER=str(port))
    with started("up", "--service", "order", env=env, ready="platform ready") as (process, output):
        assert f"order http://127.0.0.1:{port}" in output, "the printed URL is the port the service was given"
        processes = descendants(process, data_dir)
        services = [p for p in processes if "run" in p.cmdline() and "order" in p.cmdline()]
        assert len(services) == 1
        process.send_signal(signal.SIGTERM)
        process.wait(STOP_TIMEOUT)
    assert_all_gone(processes)


@contextlib.contextmanager
def started(*args: str, env: dict[str, str], ready: str) -> Iterator[tuple[subprocess.Popen[bytes], str]]:
    """`sellerflow ARGS` until a line containing `ready` appears on its output; stopped if the test fails."""
    process = subprocess.Popen([sys.executable, "-m", "sellerflow", *args], env=env, stdout=subprocess.PIPE,
                               stderr=subprocess.STDOUT)
    assert process.stdout is not None
    try:
        output = b""
        deadline = time.monotonic() + START_TIMEOUT
        with selectors.DefaultSelector() as selector:
            selector.register(process.stdout, selectors.EVENT_READ)
            while ready.encode() not in output:
                assert time.monotonic() < deadline, f"not started: {output.decode(errors='replace')}"
                assert process.poll() is None, f"exited early: {output.decode(errors='replace')}"
                if selector.select(timeout=1):
                    output += os.read(process.stdout.fileno(), 65536)
        yield process, output.decode(errors="replace")
    finally:
        if process.poll() is None:  # the test failed before its signal: leave nothing behind
            process.send_signal(signal.SIGTERM)
            try:
                process.wait(STOP_TIMEOUT)
            except subprocess.TimeoutExpired:
                process.kill()
        process.stdout.close()


def descendants(process: subprocess.Popen[bytes], data_dir: Path) -> list[psutil.Process]:
    """Every process `sellerflow` started: its children, and PostgreSQL's postmaster (pg_ctl detaches it)."""
    found = psutil.Process(process.pid).children(recursive=True)
    pid_file = data_dir / "postgres" / "postmaster.pid"
    postmaster = psutil.Process(int(pid_file.read_text().split()[0]))
    return [*found, postmaster, *postmaster.children(recursive=True)]


def assert_all_gone(processes: list[psutil.Process]) -> None:
    _, alive = psutil.wait_procs(processes, timeout=STOP_TIMEOUT)
    assert not alive, f"still running: {[(p.pid, p.name()) for p in alive]}"
