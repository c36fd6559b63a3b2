"""Where the platform's parts are: the service specs and the infrastructure to run them on."""

from __future__ import annotations

import contextlib
import importlib
from collections.abc import Iterator
from pathlib import Path

from shared.embedded import Infrastructure, embedded_infrastructure
from shared.runtime import ServiceSpec
from shared.settings import SERVICE_NAMES, Settings, StartupError


def load_spec(service: str) -> ServiceSpec:
    if service not in SERVICE_NAMES:
        raise StartupError(f"unknown service {service!r}; one of {', '.join(SERVICE_NAMES)}")
    spec: ServiceSpec = importlib.import_module(f"services.{service}.app").SPEC
    return spec


@contextlib.contextmanager
def infrastructure(settings: Settings, *, announce: bool = True) -> Iterator[Infrastructure]:
    """The broker and database named by the environment, or the embedded default when neither is."""
    if not settings.embedded:
        bootstrap, dsn = settings.require_infrastructure()
        yield Infrastructure(bootstrap, dsn, Path(settings.data_dir))
        return
    with embedded_infrastructure(Path(settings.data_dir), durable=settings.embedded_durable) as infra:
        if announce:
            durability = "durable" if settings.embedded_durable else "NOT durable (EMBEDDED_DURABLE=false)"
            print(f"embedded default: Tansu broker {infra.bootstrap_servers}, "
                  f"PostgreSQL {infra.database_url} ({durability})")
            print(f"data folder: {infra.data_dir} (wiped at the next start; the broker keeps nothing)")
        yield infra
