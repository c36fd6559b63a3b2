"""Configuration: environment variables, read once (design.md section 10)."""

from __future__ import annotations

from datetime import date, timedelta
from functools import lru_cache
from typing import Annotated, Literal

from pydantic import Field, SecretStr, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

SERVICE_NAMES: tuple[str, ...] = ("listing", "order", "fulfillment", "aftersales", "metrics")
DEFAULT_PORTS: dict[str, int] = {
    "listing": 8001,
    "order": 8002,
    "fulfillment": 8003,
    "aftersales": 8004,
    "metrics": 8005,
}

_DATES = r"^\s*((?:[A-Za-z]{2}:)?\d{4}-\d{2}-\d{2}\s*(?:,\s*(?:[A-Za-z]{2}:)?\d{4}-\d{2}-\d{2}\s*)*)?$"

#: Only ever used by the embedded default and tests; a real deployment sets AUTH_SECRET.
DEVELOPMENT_AUTH_SECRET = "sellerflow-development-secret-change-me"

#: A TCP port a service listens on.
Port = Annotated[int, Field(ge=1, le=65535)]


class StartupError(RuntimeError):
    """A problem the operator fixes from one line of text (a setting, a busy port): no traceback."""


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="", case_sensitive=False, extra="ignore")

    kafka_bootstrap_servers: str | None = None
    kafka_security_protocol: Literal["PLAINTEXT", "SSL", "SASL_PLAINTEXT", "SASL_SSL"] = "PLAINTEXT"
    kafka_sasl_mechanism: Literal["PLAIN", "SCRAM-SHA-256", "SCRAM-SHA-512"] = "PLAIN"
    kafka_sasl_username: str | None = None
    kafka_sasl_password: SecretStr | None = None
    kafka_ssl_cafile: str | None = None

    database_url: SecretStr | None = None
    #: Prepended to each service's schema name (the service name): tests give each run its own.
    db_schema_prefix: str = Field(default="", pattern=r"^([a-z_][a-z0-9_]{0,39})?$")
    db_pool_size: int = Field(default=10, ge=1, le=200)

    topic_partitions: int = Field(default=12, ge=1, le=1000)
    #: How long ingress and dead-letter topics keep records (buyer data among them); internal topics keep all.
    ingress_retention_days: float = Field(default=7, gt=0, le=3650)
    dlq_retention_days: float = Field(default=30, gt=0, le=3650)
    #: Prepended to every physical topic name: tests isolate themselves this way.
    topic_prefix: str = Field(default="", pattern=r"^[a-z0-9._-]*$")

    service_port: int | None = Field(default=None, ge=0, le=65535)
    #: One port per service for `sellerflow up`, `simulate` and `demo` (which start all five); each
    #: wins over SERVICE_PORT.
    service_port_listing: Port | None = None
    service_port_order: Port | None = None
    service_port_fulfillment: Port | None = None
    service_port_aftersales: Port | None = None
    service_port_metrics: Port | None = None
    service_host: str = "0.0.0.0"
    #: Where a service reaches the others' HTTP APIs (the metrics service's console reads them):
    #: JSON, e.g. `{"listing": "http://listing:8001"}`; a service not named is on 127.0.0.1, its default port.
    service_urls: dict[str, str] = Field(default_factory=dict)
    auth_secret: SecretStr = SecretStr(DEVELOPMENT_AUTH_SECRET)
    #: The secret before the last rotation: still verifies tokens, never signs one.
    auth_secret_previous: SecretStr | None = None
    #: Set by the embedded default for the services it starts (they name its broker and database).
    sellerflow_embedded: bool = False

    otel_exporter_otlp_endpoint: str | None = None
    otel_trace_sample_ratio: float = Field(default=0.1, ge=0.0, le=1.0)
    log_level: str = "INFO"
    clock_tick_seconds: float = Field(default=60.0, gt=0)
    #: How far after the latest `clock.ticked` a business time from outside may lie (design.md
    #: section 3): ISO 8601 (`P2D`) or seconds. The simulator stamps up to one day after its last
    #: tick and the demo none, so 2 days fits both; production ticks every CLOCK_TICK_SECONDS. At most
    #: a year: a tick (before 2100) plus the skew stays far from datetime's limits.
    max_clock_skew: timedelta = Field(default=timedelta(days=2), gt=timedelta(0), le=timedelta(days=366))
    #: Business days (domain.md section 3): further days off, and public holidays worked anyway, as
    #: comma-separated ISO dates, each optionally for one country: `2026-12-24,US:2026-12-31`.
    holidays_add: str = Field(default="", pattern=_DATES)
    holidays_remove: str = Field(default="", pattern=_DATES)

    #: Consumer batch bounds (design.md section 7).
    consumer_max_records: int = Field(default=500, ge=1, le=10_000)
    consumer_fetch_max_wait_ms: int = Field(default=20, ge=1, le=5_000)
    #: How long a batch waits out a transient failure before it is handed back unacknowledged.
    consumer_max_transient_wait: float = Field(default=60.0, gt=0)
    #: Sent outbox rows are deleted after this long (operations, not business time).
    outbox_retention_seconds: float = Field(default=600.0, ge=0)
    relay_batch_size: int = Field(default=1000, ge=1, le=50_000)
    #: The largest record the broker accepts (the producer's max_request_size, the broker's
    #: message.max.bytes): an outbox row over it is set aside, a dead letter over it is cut to a preview.
    kafka_max_message_bytes: int = Field(default=1_048_576, ge=65_536, le=100 * 1_048_576)

    #: How often a service asks the broker whether it came back empty (design.md section 6).
    broker_check_seconds: float = Field(default=2.0, gt=0)

    data_dir: str = ".sellerflow"
    #: The embedded PostgreSQL with fsync, synchronous commit and full-page writes (design.md section 6).
    #: Only the test suite turns it off, for speed: without fsync a machine crash may lose acknowledged
    #: messages (a crashed process still loses nothing: synchronous commit stays on).
    embedded_durable: bool = True

    @field_validator("holidays_add", "holidays_remove")
    @classmethod
    def _real_dates(cls, value: str) -> str:
        for item in filter(None, (part.strip() for part in value.split(","))):
            date.fromisoformat(item.rpartition(":")[2])  # ValueError: not a calendar date
        return value

    @property
    def embedded(self) -> bool:
        """Neither a broker nor a database named: the embedded default runs both."""
        return self.kafka_bootstrap_servers is None and self.database_url is None

    @property
    def allows_development_secret(self) -> bool:
        """Only the embedded default may sign tokens with DEVELOPMENT_AUTH_SECRET (design.md section 8)."""
        return self.embedded or self.sellerflow_embedded

    @property
    def dlq_retention_seconds(self) -> float:
        """The dead-letter ledger keeps originals (buyer data among them) as long as the `.dlq` topics keep theirs."""
        return self.dlq_retention_days * 86_400.0

    def port_for(self, service: str) -> int:
        """SERVICE_PORT_<NAME>, else SERVICE_PORT, else the service's default port."""
        own: int | None = getattr(self, f"service_port_{service}")
        if own is not None:
            return own
        return self.service_port if self.service_port is not None else DEFAULT_PORTS[service]

    def port_variable(self, service: str) -> str:
        """The variable that sets (or would set) the service's port: what to change when it is busy."""
        if getattr(self, f"service_port_{service}") is None and self.service_port is not None:
            return "SERVICE_PORT"
        return f"SERVICE_PORT_{service.upper()}"

    def url_for(self, service: str) -> str:
        """Where another service's HTTP API is: SERVICE_URLS, else 127.0.0.1 on its own port
        (SERVICE_PORT_<NAME>, else its default; SERVICE_PORT is this process's own port, not theirs)."""
        own: int | None = getattr(self, f"service_port_{service}")
        return self.service_urls.get(service, f"http://127.0.0.1:{own or DEFAULT_PORTS[service]}").rstrip("/")

    def schema_for(self, service: str) -> str:
        return f"{self.db_schema_prefix}{service}"

    def topic(self, logical: str) -> str:
        """The physical topic name of a logical one."""
        return f"{self.topic_prefix}{logical}"

    def logical_topic(self, physical: str) -> str:
        return physical.removeprefix(self.topic_prefix)

    def require_infrastructure(self) -> tuple[str, str]:
        if not self.kafka_bootstrap_servers or self.database_url is None:
            given, missing = (("DATABASE_URL", "KAFKA_BOOTSTRAP_SERVERS") if self.database_url is not None
                              else ("KAFKA_BOOTSTRAP_SERVERS", "DATABASE_URL"))
            if self.embedded:
                raise StartupError("set KAFKA_BOOTSTRAP_SERVERS and DATABASE_URL (`sellerflow infra` prints them "
                                   "for the embedded default)")
            raise StartupError(f"{given} is set but {missing} is not")
        return self.kafka_bootstrap_servers, self.database_url.get_secret_value()


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    return Settings()
