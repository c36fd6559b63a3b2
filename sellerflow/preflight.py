"""What is checked before anything starts: settings that parse, ports that are free (design.md section 6).

A bad setting or a busy port is reported as one line naming the variable to change, before any broker,
database, migration or consumer-group join; never as a traceback from deep inside a start-up.
"""

from __future__ import annotations

import socket
from collections.abc import Sequence

from pydantic import ValidationError

from shared.settings import Settings, StartupError


def settings_errors(error: ValidationError) -> list[str]:
    """One line per bad variable of a Settings ValidationError: `TOPIC_PARTITIONS='0': Input should be ...`.

    A secret's value is never repeated.
    """
    lines = []
    for problem in error.errors():
        field = str(problem["loc"][0]) if problem["loc"] else ""
        variable = field.upper() or "settings"
        info = Settings.model_fields.get(field)
        secret = info is not None and "SecretStr" in str(info.annotation)
        shown = "" if secret or not field else f"={problem.get('input')!r}"
        lines.append(f"{variable}{shown}: {problem['msg']}")
    return lines


def check_ports(settings: Settings, services: Sequence[str]) -> dict[str, int]:
    """Each service's port, once no two are the same and every one is free."""
    ports = {service: settings.port_for(service) for service in services}
    claimed: dict[int, str] = {}
    for service, port in ports.items():
        if port == 0:  # the operating system picks a free one
            continue
        if port in claimed:
            raise StartupError(f"{claimed[port]} and {service} would both listen on port {port}: "
                               f"set {settings.port_variable(service)} to another port")
        claimed[port] = service
    for service, port in ports.items():
        if port and not port_is_free(settings.service_host, port):
            raise StartupError(f"port {port} for the {service} service is in use: stop what holds it, "
                               f"or set {settings.port_variable(service)} to another port")
    return ports


def port_is_free(host: str, port: int) -> bool:
    """Whether a server could listen on host:port now (SO_REUSEADDR, as uvicorn binds)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            sock.bind((host, port))
        except OSError:
            return False
        return True
