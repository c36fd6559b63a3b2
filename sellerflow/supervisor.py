"""`sellerflow up`: the five services as child processes, their logs prefixed by service name."""

from __future__ import annotations

import contextlib
import json
import os
import signal
import subprocess
import sys
import threading
import time
import urllib.request
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from types import FrameType
from typing import IO

from shared.settings import DEFAULT_PORTS, SERVICE_NAMES, StartupError

_STOP_GRACE_SECONDS = 20


@dataclass
class Platform:
    """Running service processes; `stop()` ends them all, politely first."""

    processes: dict[str, subprocess.Popen[bytes]] = field(default_factory=dict)
    ports: dict[str, int] = field(default_factory=dict)
    _pumps: list[threading.Thread] = field(default_factory=list)

    def url(self, service: str) -> str:
        return f"http://127.0.0.1:{self.ports[service]}"

    def exited(self) -> dict[str, int]:
        return {name: code for name, p in self.processes.items() if (code := p.poll()) is not None}

    def wait_ready(self, timeout: float = 120.0) -> None:
        deadline = time.monotonic() + timeout
        pending = set(self.processes)
        while pending:
            if dead := self.exited():
                raise StartupError(f"services exited during start-up (exit codes {dead}): their log says why")
            if time.monotonic() > deadline:
                raise StartupError(f"not ready after {timeout:.0f} s: {', '.join(sorted(pending))}")
            for name in sorted(pending):
                if self._answers_ready(name):
                    pending.discard(name)
            time.sleep(0.5)

    def _answers_ready(self, name: str) -> bool:
        """Our service answers ready on its port: not merely something else that listens there."""
        with contextlib.suppress(OSError, ValueError), \
                urllib.request.urlopen(f"{self.url(name)}/readyz", timeout=2) as response:
            return bool(json.load(response).get("service") == name)
        return False

    def stop(self) -> None:
        for process in self.processes.values():
            if process.poll() is None:
                process.send_signal(signal.SIGTERM)
        deadline = time.monotonic() + _STOP_GRACE_SECONDS
        for process in self.processes.values():
            try:
                process.wait(max(deadline - time.monotonic(), 0.1))
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()
        for pump in self._pumps:
            pump.join(timeout=2)


def _pump(name: str, stream: IO[bytes], out: IO[str]) -> None:
    width = max(map(len, SERVICE_NAMES))
    for line in iter(stream.readline, b""):
        out.write(f"{name:>{width}} | {line.decode('utf-8', 'replace')}")
        out.flush()


def start_services(
    env: Mapping[str, str], services: Sequence[str] = SERVICE_NAMES, *, log: IO[str] | None = None,
    ports: Mapping[str, int] | None = None,
) -> Platform:
    """Start each service as `sellerflow run NAME` on its port (from `ports`, checked free by the caller,
    else SERVICE_PORT_<NAME> in `env`, else its default); logs go to `log` (stdout)."""
    platform = Platform()
    out = log or sys.stdout
    for name in services:
        port = ports[name] if ports else int(env.get("SERVICE_PORT_" + name.upper(), DEFAULT_PORTS[name]))
        child_env = {**os.environ, **env, "SERVICE_PORT": str(port)}
        process = subprocess.Popen(
            [sys.executable, "-m", "sellerflow", "run", name],
            env=child_env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
        )
        assert process.stdout is not None
        pump = threading.Thread(target=_pump, args=(name, process.stdout, out), daemon=True)
        pump.start()
        platform.processes[name] = process
        platform.ports[name] = port
        platform._pumps.append(pump)
    return platform


@contextlib.contextmanager
def running_services(env: Mapping[str, str], **kwargs: object) -> Iterator[Platform]:
    platform = start_services(env, **kwargs)  # type: ignore[arg-type]
    try:
        yield platform
    finally:
        platform.stop()


@contextlib.contextmanager
def stopped_by_signals() -> Iterator[None]:
    """SIGTERM and SIGINT unwind the command as Ctrl-C does, so every `finally` stops what it started:
    the services, then the broker and the database. Those two run in sessions of their own (a signal to
    our process group never reaches them), so only this unwinding stops them. A second signal during
    the shutdown is ignored: cutting it short would orphan them. Exits 128 + the signal's number.
    """
    received: list[int] = []

    def interrupt(signum: int, _: FrameType | None) -> None:
        received.append(signum)
        for name in (signal.SIGTERM, signal.SIGINT):
            signal.signal(name, signal.SIG_IGN)
        raise KeyboardInterrupt

    for name in (signal.SIGTERM, signal.SIGINT):
        signal.signal(name, interrupt)
    try:
        yield
    except KeyboardInterrupt:
        print(f"stopped by {signal.Signals(received[0]).name if received else 'SIGINT'}", file=sys.stderr)
        raise SystemExit(128 + (received[0] if received else signal.SIGINT)) from None


def wait_forever(platform: Platform) -> None:
    """Until Ctrl-C or a service dies; then everything stops in order (services, then infrastructure)."""
    try:
        while not platform.exited():
            time.sleep(0.5)
        failed = {name: code for name, code in platform.exited().items() if code != 0}
        if failed:
            print(f"services failed: {failed}; stopping the platform", file=sys.stderr)
    except KeyboardInterrupt:
        print("\nstopping the platform ...", file=sys.stderr)
