"""`sellerflow`: run a service, the whole platform, the clock, and the operations tools."""

from __future__ import annotations

import asyncio
import getpass
import signal
from collections.abc import Coroutine
from datetime import timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any, TypeVar

import typer

from sellerflow.platform import infrastructure, load_spec
from shared.auth import InsecureSecret, operator_token, parse_ttl, require_auth_secrets, seller_token
from shared.events import topics as topic_names
from shared.settings import SERVICE_NAMES, Settings, StartupError, get_settings

if TYPE_CHECKING:
    from shared.messaging.ledger import Status

T = TypeVar("T")
#: The ledger's statuses (shared.messaging.ledger.STATUSES; not imported here, to keep start-up light).
STATUSES: tuple[Status, ...] = ("outstanding", "replayed", "resolved")

app = typer.Typer(no_args_is_help=True, help=__doc__, pretty_exceptions_show_locals=False)
topics_app = typer.Typer(no_args_is_help=True, help="Kafka topics.")
dlq_app = typer.Typer(no_args_is_help=True, help="The dead-letter ledger: list, replay, resolve.")
outbox_app = typer.Typer(no_args_is_help=True, help="Outbox rows the broker refused for good.")
token_app = typer.Typer(no_args_is_help=True, help="Bearer tokens signed with AUTH_SECRET.")
app.add_typer(topics_app, name="topics")
app.add_typer(dlq_app, name="dlq")
app.add_typer(outbox_app, name="outbox")
app.add_typer(token_app, name="token")
metrics_app = typer.Typer(no_args_is_help=True, help="The metrics service's state.")
app.add_typer(metrics_app, name="metrics")

ServiceName = Annotated[str, typer.Argument(help=f"One of: {', '.join(SERVICE_NAMES)}")]


def main() -> None:
    """The `sellerflow` program: a bad setting or a busy port is one line on stderr and exit code 2."""
    from pydantic import ValidationError

    from sellerflow.preflight import settings_errors

    try:
        app()
    except ValidationError as error:
        for line in settings_errors(error):
            typer.echo(f"sellerflow: {line}", err=True)
        raise SystemExit(2) from None
    except StartupError as error:
        typer.echo(f"sellerflow: {error}", err=True)
        raise SystemExit(2) from None


@app.command()
def run(service: ServiceName) -> None:
    """Run one service: migrations, consumer, outbox relay and HTTP on SERVICE_PORT_<NAME> or SERVICE_PORT."""
    import uvicorn

    from sellerflow.preflight import check_ports
    from sellerflow.supervisor import stopped_by_signals
    from shared.runtime import ServiceRuntime, create_http_app, setup_process

    settings = get_settings()
    _require_secrets(settings)
    spec = load_spec(service)
    port = check_ports(settings, [service])[service]
    with stopped_by_signals(), infrastructure(settings) as infra:
        setup_process(service, settings)
        runtime = ServiceRuntime(spec, settings, bootstrap_servers=infra.bootstrap_servers, dsn=infra.database_url)
        uvicorn.run(create_http_app(runtime), host=settings.service_host, port=port,
                    log_config=None, access_log=False, timeout_keep_alive=75)


@app.command()
def up(
    services: Annotated[list[str] | None, typer.Option("--service", "-s", help="Only these services")] = None,
) -> None:
    """The embedded broker and database (unless configured) plus all five services; Ctrl-C stops everything."""
    from sellerflow.preflight import check_ports
    from sellerflow.supervisor import start_services, stopped_by_signals, wait_forever

    settings = get_settings()
    names = services or SERVICE_NAMES
    unknown = sorted(set(names) - set(SERVICE_NAMES))
    if unknown:
        raise StartupError(f"unknown services {', '.join(unknown)}; choose from {', '.join(SERVICE_NAMES)}")
    ports = check_ports(settings, names)
    with stopped_by_signals(), infrastructure(settings) as infra:
        platform = start_services(infra.env(), names, ports=ports)
        try:
            platform.wait_ready()
            typer.echo("platform ready: " + ", ".join(f"{n} {platform.url(n)}" for n in platform.processes))
            wait_forever(platform)
        finally:
            platform.stop()


@app.command()
def infra() -> None:
    """Only the embedded broker and database, printing the variables that reach them; Ctrl-C stops them."""
    import time

    from sellerflow.supervisor import stopped_by_signals

    settings = get_settings()
    if not settings.embedded:
        raise StartupError("KAFKA_BOOTSTRAP_SERVERS or DATABASE_URL is set: nothing embedded to start")
    with stopped_by_signals(), infrastructure(settings) as running:
        for name, value in running.env().items():
            typer.echo(f"export {name}={value}")
        try:
            while True:
                time.sleep(3600)
        except KeyboardInterrupt:
            typer.echo("stopping the embedded broker and database", err=True)


@topics_app.command("create")
def topics_create() -> None:
    """Create every topic and its dead-letter topic with TOPIC_PARTITIONS partitions and its retention
    (INGRESS_RETENTION_DAYS, DLQ_RETENTION_DAYS; internal topics keep everything), and give existing
    topics their retention (idempotent)."""
    from shared.messaging.broker import ensure_topics

    report = asyncio.run(ensure_topics(get_settings(), _bootstrap(), topic_names.ALL_TOPICS))
    created, retention = report.created, report.retention
    typer.echo(f"created {len(created)} topics" + (": " + ", ".join(created) if created else " (all existed)"))
    if retention.altered:
        typer.echo(f"set the retention of {len(retention.altered)} existing topics: " + ", ".join(retention.altered))
    if retention.not_altered:
        typer.echo(f"could not set the retention of {len(retention.not_altered)} existing topics (the broker "
                   "cannot describe or alter topic configs): " + ", ".join(retention.not_altered), err=True)


@app.command()
def clock() -> None:
    """Publish `clock.ticked` from the wall clock every CLOCK_TICK_SECONDS (run exactly one)."""
    from shared.clock import run_wall_clock
    from shared.messaging.broker import make_broker
    from shared.telemetry import setup_logging

    settings = get_settings()
    setup_logging("clock", settings.log_level)
    bootstrap = _bootstrap()

    async def main() -> None:
        broker = make_broker(settings, bootstrap, client_id="sellerflow-clock")
        await broker.connect()
        stop = asyncio.Event()
        for signum in (signal.SIGTERM, signal.SIGINT):  # a container is stopped with SIGTERM
            asyncio.get_running_loop().add_signal_handler(signum, stop.set)
        try:
            await run_wall_clock(broker, settings, stop)
        finally:
            await broker.stop()

    asyncio.run(main())


def _bootstrap() -> str:
    bootstrap = get_settings().kafka_bootstrap_servers
    if not bootstrap:
        raise typer.BadParameter("set KAFKA_BOOTSTRAP_SERVERS (`sellerflow infra` prints it for the embedded one)")
    return bootstrap


TopicOption = Annotated[list[str] | None, typer.Option("--topic", "-t", help="Logical topic (repeatable)")]


StatusOption = Annotated[str, typer.Option("--status", help="outstanding, replayed or resolved")]
ServicesOption = Annotated[list[str] | None, typer.Option("--service", "-s", help="Only these services (repeatable)")]
ByOption = Annotated[str | None, typer.Option("--by", help="Who does it (default: the login name)")]
NoteOption = Annotated[str | None, typer.Option("--note", help="Why")]


@dlq_app.command("list")
def dlq_list(
    topic: Annotated[str | None, typer.Option("--topic", "-t", help="Only this logical topic")] = None,
    status: StatusOption = "outstanding",
    all_letters: Annotated[bool, typer.Option("--all", help="Every status")] = False,
    service: ServicesOption = None,
) -> None:
    """Each service's dead-letter ledger: outstanding letters by default, with the error and where they came from."""
    from sellerflow import dlq

    chosen = None if all_letters else _status(status)
    letters = _ledger_call(dlq.list_letters(get_settings(), service or SERVICE_NAMES, status=chosen, topic=topic))
    for letter in letters:
        typer.echo(letter.summary())
    typer.echo(f"{len(letters)} {'dead letters' if all_letters else chosen}")


@dlq_app.command("replay")
def dlq_replay(
    letter: Annotated[str | None, typer.Argument(help="<service>/<id>, as `dlq list` prints it")] = None,
    all_letters: Annotated[bool, typer.Option("--all", help="Every outstanding letter (each once)")] = False,
    topic: Annotated[str | None, typer.Option("--topic", "-t", help="With --all: only this logical topic")] = None,
    service: ServicesOption = None,
    body: Annotated[Path | None, typer.Option(help="A corrected message body to send instead")] = None,
    by: ByOption = None,
    note: NoteOption = None,
) -> None:
    """Re-drive outstanding dead letters to their original topic through the service's outbox; mark them replayed."""
    from sellerflow import dlq

    if all_letters == (letter is not None):
        raise typer.BadParameter("name one letter (<service>/<id>) or pass --all")
    if body is not None and all_letters:
        raise typer.BadParameter("--body replaces one message: name the letter")
    who = by or getpass.getuser()
    if letter is not None:
        replaced = body.read_bytes() if body is not None else None
        one = _ledger_call(dlq.replay_one(get_settings(), letter, by=who, note=note, body=replaced))
        typer.echo(one.summary())
        typer.echo("replayed 1 letter")
        return
    done, too_large = _ledger_call(dlq.replay_outstanding(get_settings(), service or SERVICE_NAMES, by=who,
                                                          note=note, topic=topic))
    for entry in done:
        typer.echo(entry.summary())
    typer.echo(f"replayed {len(done)} letters")
    if too_large:
        typer.echo(f"left outstanding, too large to send (replay each with --body, or resolve it): "
                   f"{', '.join(too_large)}")


@dlq_app.command("resolve")
def dlq_resolve(
    letter: Annotated[str, typer.Argument(help="<service>/<id>, as `dlq list` prints it")],
    by: Annotated[str, typer.Option("--by", help="Who resolves it")],
    note: Annotated[str, typer.Option("--note", help="Why it needs no replay")],
) -> None:
    """Close an outstanding dead letter without replaying it."""
    from sellerflow import dlq

    typer.echo(_ledger_call(dlq.resolve_one(get_settings(), letter, by=by, note=note)).summary())


@outbox_app.command("list")
def outbox_list(service: ServicesOption = None) -> None:
    """Outbox rows the broker refused for good (too large, an illegal topic), set aside by each service's relay."""
    from sellerflow import dlq

    rows = _ledger_call(dlq.set_aside_rows(get_settings(), service or SERVICE_NAMES))
    for name, row in rows:
        typer.echo(f"{name}  outbox#{row.id}  {row.topic}  key={row.key}  {row.size_bytes} B  "
                   f"set aside {row.set_aside_at:%Y-%m-%d %H:%M:%S}: {row.set_aside_reason}")
    typer.echo(f"{len(rows)} rows set aside")


def _status(text: str) -> Status:
    for status in STATUSES:
        if text == status:
            return status
    raise typer.BadParameter(f"--status is one of {', '.join(STATUSES)}")


def _ledger_call(call: Coroutine[Any, Any, T]) -> T:
    """Run a ledger call; its refusals become one line, not a traceback."""
    from sellerflow.dlq import LedgerUnavailable
    from shared.messaging.ledger import LetterNotFound, LetterNotOutstanding, TooLargeToReplay

    try:
        return asyncio.run(call)
    except (LedgerUnavailable, LetterNotFound, LetterNotOutstanding, TooLargeToReplay, ValueError) as error:
        typer.echo(f"sellerflow: {error}", err=True)
        raise typer.Exit(1) from None


@metrics_app.command("rebuild")
def metrics_rebuild(
    idle_seconds: Annotated[float, typer.Option(help="No record for this long: the end of the topics")] = 2.0,
) -> None:
    """Drop the metrics state and rebuild it from every topic from the beginning (stop the service first)."""
    from sellerflow.rebuild import run as rebuild

    settings = get_settings()
    bootstrap, dsn = settings.require_infrastructure()
    typer.echo(rebuild(settings, bootstrap_servers=bootstrap, dsn=dsn, idle_seconds=idle_seconds).summary())


@app.command()
def schemas(out: Annotated[Path, typer.Option(help="Where the JSON Schemas go")] = Path("docs/schemas")) -> None:
    """Write the JSON Schema of every event type, and the AsyncAPI document of every topic."""
    from sellerflow import asyncapi
    from sellerflow.schemas import write_schemas

    written = write_schemas(out)
    typer.echo(f"wrote {len(written)} schemas to {out}")
    typer.echo(f"wrote {asyncapi.write(out.parent / 'asyncapi')}")


TokenLife = Annotated[str, typer.Option("--ttl", help="How long the token lives: 30m, 1h, 7d (at most 90d)")]


def _token_ttl(text: str) -> timedelta:
    try:
        return parse_ttl(text)
    except ValueError as error:
        raise typer.BadParameter(str(error), param_hint="--ttl") from None


@token_app.command("seller")
def token_seller(seller_id: str, ttl: TokenLife = "12h") -> None:
    """A bearer token for one seller, signed with AUTH_SECRET."""
    typer.echo(seller_token(get_settings().auth_secret.get_secret_value(), seller_id, ttl=_token_ttl(ttl)))


@token_app.command("operator")
def token_operator(ttl: TokenLife = "1h") -> None:
    """An operator's bearer token, signed with AUTH_SECRET."""
    typer.echo(operator_token(get_settings().auth_secret.get_secret_value(), ttl=_token_ttl(ttl)))


def _require_secrets(settings: Settings) -> None:
    """A service refuses to start with a guessable AUTH_SECRET outside the embedded default: one line, no traceback.
    A half-named deployment (a database without a broker, or the other way round) is named first."""
    if not settings.embedded:
        settings.require_infrastructure()  # StartupError: one line
    try:
        require_auth_secrets(settings)
    except InsecureSecret as error:
        typer.echo(f"sellerflow: {error}", err=True)
        raise SystemExit(2) from None


@app.command()
def simulate(
    sellers: Annotated[int, typer.Option(help="Honest sellers (one fraudulent registration is added)")] = 50,
    days: Annotated[int, typer.Option(help="Business days to simulate")] = 90,
    seed: Annotated[int, typer.Option(help="The same seed gives the same scorecards")] = 7,
    appeals: Annotated[int, typer.Option(help="How many restricted sellers appeal (-1: all)")] = -1,
    stay: Annotated[bool, typer.Option(help="Keep the platform running afterwards, until Ctrl-C")] = False,
    report: Annotated[Path | None, typer.Option(help="Also write every seller's outcome and scorecard as JSON here "
                                                     "(two runs of one seed give the same file)")] = None,
) -> None:
    """Simulate a marketplace through the platform's public doors and print every seller's outcome."""
    from sellerflow.simulate.cli import simulate_command

    raise typer.Exit(simulate_command(sellers=sellers, days=days, seed=seed, appeals=appeals, stay=stay,
                                      report=report))


@app.command()
def demo(
    sellers: Annotated[int, typer.Option(help="Sellers to simulate")] = 30,
    orders: Annotated[int, typer.Option(help="Orders to publish")] = 3000,
    seed: Annotated[int, typer.Option(help="Random seed: the same seed gives the same orders")] = 7,
) -> None:
    """Start the platform, publish orders for many sellers, print every seller's scorecard, stop."""
    from sellerflow.demo import run_demo

    raise typer.Exit(run_demo(sellers=sellers, orders=orders, seed=seed))


if __name__ == "__main__":
    main()
