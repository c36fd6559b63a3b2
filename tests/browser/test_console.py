"""The console in Debian's Chromium after a short simulation: each kind of seller at desktop and phone
sizes says what the API says, reads without errors or horizontal scrolling, passes axe-core; a seller
appeals and an operator accepts, and an operator resolves a dead letter, through the pages.
Screenshots go to .artifacts/screenshots/."""

from __future__ import annotations

import asyncio
import socket
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest
import uvicorn
from axe_playwright_python.async_playwright import Axe
from playwright.async_api import Browser, BrowserContext, Page, async_playwright

from sellerflow.simulate.runner import Outcome, run_simulation
from shared.auth import operator_token, seller_token
from shared.events import topics
from shared.runtime import create_http_app
from shared.settings import SERVICE_NAMES, Settings
from tests.conftest import isolated_settings
from tests.support.kafka import eventually, publish
from tests.support.platform import asgi_clients, running

pytestmark = pytest.mark.e2e

CHROMIUM = Path("/usr/bin/chromium")
ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
        "--disable-background-networking", "--disable-component-update", "--disable-sync"]
SIZES = {"desktop": {"width": 1280, "height": 800}, "phone": {"width": 390, "height": 844}}
SHOTS = Path(__file__).resolve().parents[2] / ".artifacts" / "screenshots"
# Seven sellers: two excellent, a slow shipper, a canceller, a bad tracker, careless support, a
# spammer. One restricted seller appeals during the run (reinstated), the others are left for the page.
SELLERS, DAYS, SEED, APPEALS = 7, 14, 5, 1

if not CHROMIUM.exists():
    pytest.skip("Debian's chromium is missing: `make browser` installs it", allow_module_level=True)


@dataclass
class Platform:
    settings: Settings
    urls: dict[str, str]
    outcome: Outcome
    http: dict[str, httpx.AsyncClient]

    @property
    def metrics(self) -> str:
        return self.urls["metrics"]

    def seller_token(self, seller_id: str) -> str:
        return seller_token(self.settings.auth_secret.get_secret_value(), seller_id)

    def operator_token(self) -> str:
        return operator_token(self.settings.auth_secret.get_secret_value())

    async def api(self, service: str, path: str, token: str) -> Any:
        response = await self.http[service].get(path, headers={"Authorization": f"Bearer {token}"})
        response.raise_for_status()
        return response.json()


def _listening() -> socket.socket:
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    sock.listen(64)
    return sock


@pytest.fixture(scope="module")
async def platform(infra: Any) -> AsyncIterator[Platform]:
    """All five services on real sockets (the metrics console calls the others), after a short simulation."""
    sockets = {name: _listening() for name in SERVICE_NAMES}
    urls = {name: f"http://127.0.0.1:{s.getsockname()[1]}" for name, s in sockets.items()}
    settings = isolated_settings(infra).model_copy(update={"service_urls": urls})
    async with running(settings, SERVICE_NAMES) as runtimes:
        servers = [uvicorn.Server(uvicorn.Config(create_http_app(runtimes[name], manage_lifecycle=False),
                                                 log_level="warning", lifespan="off")) for name in SERVICE_NAMES]
        tasks = [asyncio.create_task(server.serve(sockets=[sockets[name]]))
                 for server, name in zip(servers, SERVICE_NAMES, strict=True)]
        http = asgi_clients(runtimes)
        try:
            assert settings.kafka_bootstrap_servers
            outcome = await run_simulation(settings, settings.kafka_bootstrap_servers, http, sellers=SELLERS,
                                           days=DAYS, seed=SEED, appeals=APPEALS, show_progress=False)
            yield Platform(settings, urls, outcome, http)
        finally:
            for server in servers:
                server.should_exit = True
            await asyncio.gather(*tasks)
            for client in http.values():
                await client.aclose()


@pytest.fixture(scope="module")
async def browser() -> AsyncIterator[Browser]:
    async with async_playwright() as p:
        chromium = await p.chromium.launch(executable_path=str(CHROMIUM), args=ARGS)
        yield chromium
        await chromium.close()


def kinds(outcome: Outcome) -> dict[str, str]:
    """One seller of each kind the simulation produced: healthy, at risk, restricted, suspended, reinstated."""
    found: dict[str, str] = {}
    for s in outcome.sellers:
        if s.fraudulent:
            continue
        kind = s.status if s.status in ("restricted", "suspended", "reinstated") else \
            "at risk" if s.band in ("at_risk", "critical") else "healthy" if s.status == "active" else None
        if kind:
            found.setdefault(kind, s.seller_id)
    return found


async def signed_in(browser: Browser, platform: Platform, token: str, size: str) -> tuple[BrowserContext, Page,
                                                                                          list[str]]:
    """A fresh browser context signed in with `token` through the sign-in form; console errors collected."""
    context = await browser.new_context(viewport=SIZES[size])
    page = await context.new_page()
    errors: list[str] = []
    page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    await page.goto(platform.metrics + "/dashboard")
    await page.fill("#token", token)
    await page.click("button[type=submit]")
    await page.wait_for_load_state()
    assert "token" not in page.url
    return context, page, errors


async def reads_well(page: Page, name: str) -> None:
    """No horizontal scrolling, no serious accessibility violation; a screenshot kept."""
    overflow = await page.evaluate("document.documentElement.scrollWidth - window.innerWidth")
    assert overflow <= 0, f"{name}: {overflow}px wider than the screen"
    results = await Axe().run(page)
    serious = [(v["id"], v["impact"], len(v["nodes"])) for v in results.response["violations"]
               if v["impact"] in ("serious", "critical")]
    assert not serious, f"{name}: {serious}"
    SHOTS.mkdir(parents=True, exist_ok=True)
    await page.screenshot(path=str(SHOTS / f"{name}.png"), full_page=True)
    await page.screenshot(path=str(SHOTS / f"{name}-first-screen.png"))


async def test_the_simulation_gives_a_seller_of_every_kind(platform: Platform) -> None:
    found = kinds(platform.outcome)
    assert found.keys() == {"healthy", "at risk", "restricted", "suspended", "reinstated"}, found


async def test_each_kind_of_seller_sees_what_the_api_says_on_a_desktop_and_a_phone(
    platform: Platform, browser: Browser,
) -> None:
    for kind, seller_id in kinds(platform.outcome).items():
        token = platform.seller_token(seller_id)
        account = await platform.api("listing", f"/v1/sellers/{seller_id}", token)
        health = await platform.api("metrics", f"/v1/sellers/{seller_id}/health", token)
        card = await platform.api("metrics", f"/v1/sellers/{seller_id}/scorecard", token)
        to_fix = {f"{m['name']}:{m['channel'] or ''}:{m['window_days']}" for m in card["metrics"]
                  if m["status"] != "ok" and m["denominator"]}
        for size in SIZES:
            context, page, errors = await signed_in(browser, platform, token, size)
            try:
                assert page.url.endswith(f"/dashboard/{seller_id}")
                banner = page.locator("section.banner")
                assert await banner.get_attribute("data-status") == account["status"]
                assert account["status"].replace("_", " ") in (await banner.inner_text()).lower()
                gauge = page.locator("figure.gauge")
                assert await gauge.get_attribute("data-rating") == str(health["rating"])
                assert await gauge.get_attribute("data-band") == health["band"]
                assert str(health["rating"]) in await gauge.inner_text()
                fixes = page.locator("li.fix[data-metric]")
                shown = set(await fixes.evaluate_all("els => els.map(e => e.dataset.metric)"))
                assert shown == to_fix, (kind, shown, to_fix)
                ledger = await page.locator("ul.ledger").inner_text()
                assert all(line["violation_id"] not in ledger for line in health["ledger"] if line["violation_id"])
                if account["status"] == "restricted":
                    assert await page.locator("form[action$='/appeal']").count() == 1
                await reads_well(page, f"seller-{kind.replace(' ', '-')}-{size}")
                assert not errors, errors
            finally:
                await context.close()


async def test_a_restricted_seller_appeals_and_an_operator_accepts_through_the_pages(
    platform: Platform, browser: Browser,
) -> None:
    seller_id = kinds(platform.outcome)["restricted"]
    context, page, errors = await signed_in(browser, platform, platform.seller_token(seller_id), "phone")
    try:
        await page.click("details.appeal summary")
        await page.fill("#root_cause", "Orders were packed by one person and waited for the weekly pickup.")
        await page.fill("#actions", "Hired a second packer\nBooked daily carrier pickups")
        await page.fill("#prevention", "Every order ships the day it arrives; we check the late list each morning.")
        await page.click("form[action$='/appeal'] button[type=submit]")
        await page.wait_for_load_state()
        assert "was sent" in await page.locator("p.notice").inner_text() and page.url.endswith(seller_id)
        assert await page.locator("[data-appeal=pending]").count() == 1
        assert not errors, errors
    finally:
        await context.close()

    context, page, errors = await signed_in(browser, platform, platform.operator_token(), "desktop")
    try:
        assert page.url.endswith("/dashboard/-/operator")
        await reads_well(page, "operator-desktop")
        appeal = page.locator(f"article[data-seller='{seller_id}']")
        await appeal.locator("input[name=note]").fill("Plan of action accepted.")
        await appeal.locator("button[value=accept]").click()
        await page.wait_for_load_state()
        assert "accepted" in await page.locator("p.notice").first.inner_text()
        assert await page.locator(f"article[data-seller='{seller_id}']").count() == 0
        assert not errors, errors
    finally:
        await context.close()

    token = platform.seller_token(seller_id)
    account = await platform.api("listing", f"/v1/sellers/{seller_id}", token)
    assert account["status"] == "reinstated"
    context, page, errors = await signed_in(browser, platform, token, "desktop")
    try:
        assert await page.locator("section.banner").get_attribute("data-status") == "reinstated"
        assert await page.locator("[data-appeal=accepted]").count() == 1
        assert not errors, errors
    finally:
        await context.close()


async def test_an_operator_on_a_phone_sees_the_ranking_and_resolves_a_dead_letter(
    platform: Platform, browser: Browser,
) -> None:
    token = platform.operator_token()
    await publish(platform.settings, topics.INGRESS_ORDERS, [(b"S-poison", b"{not json")])

    async def outstanding() -> list[dict[str, Any]]:
        return list(await platform.api("order", "/v1/ops/dead-letters", token))

    async def lettered() -> bool:
        return bool(await outstanding())

    await eventually(lettered, timeout=60, what="the poison order in the order service's ledger")
    letter = (await outstanding())[0]
    context, page, errors = await signed_in(browser, platform, token, "phone")
    try:
        ranked = await platform.api("metrics", "/v1/sellers/at-risk", token)
        shown = await page.locator("table.rank tbody tr").evaluate_all("els => els.map(e => e.dataset.seller)")
        assert shown == [r["seller_id"] for r in ranked]
        await reads_well(page, "operator-phone")
        item = page.locator(f"article[data-letter='order/{letter['id']}']")
        await item.locator("input[name=note]").fill("A test's poison: nothing to replay.")
        await item.locator("button[value=resolve]").click()
        await page.wait_for_load_state()
        assert "resolved" in await page.locator("p.notice").first.inner_text()
        assert await page.locator(f"article[data-letter='order/{letter['id']}']").count() == 0
        assert not await outstanding()
        assert not errors, errors
    finally:
        await context.close()
