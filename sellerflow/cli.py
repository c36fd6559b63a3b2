"""`sellerflow`: run a service, the whole platform, the clock, and the operations tools."""

from __future__ import annotations

import asyncio
import signal
from datetime import timedelta
from pathlib import Path
from typing import Annotated

import typer

from sellerflow.platform import infrastructure, load_spec
from shared.auth import InsecureSecret, operator_token, parse_ttl, require_auth_secrets, seller_token
from shared.events import topics as topic_names
from shared.settings import SERVICE_NAMES, Settings, get_settings

app = typer.Typer(no_args_is_help=True, help=__doc__, pretty_exceptions_show_locals=False)
topics_app = typer.Typer(no_args_is_help=True, help="Kafka topics.")
dlq_app = typer.Typer(no_args_is_help=True, help="Dead letters: list them, re-drive them.")
token_app = typer.Typer(no_args_is_help=True, help="Bearer tokens signed with AUTH_SECRET.")
app.add_typer(topics_app, name="topics")
app.add_typer(dlq_app, name="dlq")
app.add_typer(token_app, name="token")
metrics_app = typer.Typer(no_args_is_help=True, help="The metrics service's state.")
app.add_typer(metrics_app, name="metrics")

ServiceName = Annotated[str, typer.Argument(help=f"One of: {', '.join(SERVICE_NAMES)}")]


@app.command()
def run(service: ServiceName) -> None:
    """Run one service: migrations, consumer, outbox relay and HTTP on SERVICE_PORT."""
    import uvicorn

    from shared.runtime import ServiceRuntime, create_http_app, setup_process

    settings = get_settings()
    _require_secrets(settings)
    spec = load_spec(service)
    with infrastructure(settings) as infra:
        setup_process(service, settings)
        runtime = ServiceRuntime(spec, settings, bootstrap_servers=infra.bootstrap_servers, dsn=infra.database_url)
        uvicorn.run(create_http_app(runtime), host=settings.service_host, port=settings.port_for(service),
                    log_config=None, access_log=False, timeout_keep_alive=75)


@app.command()
def up(
    services: Annotated[list[str] | None, typer.Option("--service", "-s", help="Only these services")] = None,
) -> None:
    """The embedded broker and database (unless configured) plus all five services; Ctrl-C stops everything."""
    from sellerflow.supervisor import start_services, wait_forever

    settings = get_settings()
    _require_secrets(settings)
    with infrastructure(settings) as infra:
        platform = start_services(infra.env(), services or SERVICE_NAMES)
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

    settings = get_settings()
    if not settings.embedded:
        raise typer.BadParameter("KAFKA_BOOTSTRAP_SERVERS or DATABASE_URL is set: nothing embedded to start")
    with infrastructure(settings) as running:
        for name, value in running.env().items():
            typer.echo(f"export {name}={value}")
        try:
            while True:
                time.sleep(3600)
        except KeyboardInterrupt:
            typer.echo("stopping the embedded broker and database", err=True)


@topics_app.command("create")
def topics_create() -> None:
    """Create every topic and its dead-letter topic with TOPIC_PARTITIONS partitions (idempotent)."""
    from shared.messaging.broker import create_topics

    created = asyncio.run(create_topics(get_settings(), _bootstrap(), topic_names.ALL_TOPICS))
    typer.echo(f"created {len(created)} topics" + (": " + ", ".join(created) if created else " (all existed)"))


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


@dlq_app.command("list")
def dlq_list(topic: TopicOption = None) -> None:
    """Every dead letter of the topics (default: all), with the error and where it came from."""
    from sellerflow.dlq import read_dead_letters

    letters = asyncio.run(read_dead_letters(get_settings(), _bootstrap(), topic or topic_names.ALL_TOPICS))
    for letter in letters:
        typer.echo(letter.summary())
    typer.echo(f"{len(letters)} dead letters")


@dlq_app.command("replay")
def dlq_replay(
    topic: Annotated[str, typer.Option("--topic", "-t", help="Logical topic whose dead letters to replay")],
    partition: Annotated[int | None, typer.Option(help="The dead letter's partition in <topic>.dlq")] = None,
    offset: Annotated[int | None, typer.Option(help="The dead letter's offset in <topic>.dlq")] = None,
    all_letters: Annotated[bool, typer.Option("--all", help="Replay every dead letter of the topic")] = False,
    body: Annotated[Path | None, typer.Option(help="A corrected message body to send instead")] = None,
) -> None:
    """Re-drive dead letters to their original topic (the inbox skips any already applied)."""
    from sellerflow.dlq import read_dead_letters, replay

    if not all_letters and (partition is None or offset is None):
        raise typer.BadParameter("name one dead letter with --partition and --offset, or pass --all")
    if body is not None and all_letters:
        raise typer.BadParameter("--body replaces one message: name it with --partition and --offset")
    bootstrap = _bootstrap()
    letters = asyncio.run(read_dead_letters(get_settings(), bootstrap, [topic]))
    chosen = [d for d in letters if all_letters or (d.partition == partition and d.offset == offset)]
    if not chosen:
        raise typer.BadParameter("no such dead letter")
    sent = asyncio.run(replay(bootstrap, chosen, replacement=body.read_bytes() if body else None))
    typer.echo(f"replayed {sent} messages")


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
    """A service refuses to start with a guessable AUTH_SECRET outside the embedded default: one line, no traceback."""
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
    app()
