"""The console's routes: the seller's page and appeal, the operator's page and decisions.

Signed in with the dashboard's cookie (design.md section 8). Reads come from this service's own tables
and, server-side, from the other services' APIs with the person's own token, so each service still
decides who may see and do what. Every form posts back here and is answered with a redirect (303) to
the page with a notice (in a short-lived cookie): no JavaScript, so the pages' CSP allows no script at all.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from typing import Any
from urllib.parse import parse_qs, quote, unquote, urlsplit

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from pydantic import TypeAdapter

from services.metrics import dashboard, handlers, queries, repository
from services.metrics.console import operator, seller
from services.metrics.console.models import Account, Appeal, Claim, DeadLetter, Enforcement, Order, Work
from services.metrics.console.peers import PeerError, Peers
from services.metrics.policy import DEFAULT_POLICY
from shared.auth import Principal
from shared.browser_session import HTML_RESPONSES, PAGE_HEADERS, page
from shared.http_guard import json_errors
from shared.runtime import Ctx
from shared.settings import SERVICE_NAMES, Settings

signin = handlers.signin
pages = APIRouter(tags=["console"])
Responses = dict[int | str, dict[str, Any]]
HTML: Responses = {200: {"content": {"text/html": {}}}, **HTML_RESPONSES, **json_errors(413, 422)}
REDIRECT: Responses = {303: {"description": "Done (or refused): back to the page, with a notice"},
                       **HTML_RESPONSES, **json_errors(413, 422)}
NOTICE = "sellerflow_notice"  # what the last form did, shown once by the page it returns to
MAX_FORM_BYTES = 64 * 1024
MAX_SELLERS_SCANNED = 200  # the operator's claims: the sellers asked, lowest rating first


def _settings(request: Request) -> Settings:
    settings: Settings = request.app.state.runtime.settings
    return settings


def _peers(request: Request) -> Peers:
    return Peers(_settings(request), request.cookies.get(signin.cookie, ""))


async def _read(call: Awaitable[Any], shape: Any, problems: list[str] | None = None) -> Any:
    """A peer's answer in its pydantic shape; None (and a line in `problems`) if the peer failed."""
    try:
        return TypeAdapter(shape).validate_python(await call)
    except PeerError as error:
        if problems is not None and error.status != 404 and error.detail not in problems:
            problems.append(error.detail)  # a seller another service does not know yet is no problem
        return None


def _back(path: str, notice: str) -> Response:
    """Back to the page; the notice rides in a one-minute cookie, never in the URL (no text to forge there)."""
    response = RedirectResponse(path, status_code=303, headers=PAGE_HEADERS)
    response.set_cookie(NOTICE, quote(notice[:300]), max_age=60, path=signin.path, httponly=True, samesite="strict")
    return response


def _shown(request: Request, html: str) -> HTMLResponse:
    """The page, and the notice it showed dropped so that it shows once."""
    response = page(html)
    if NOTICE in request.cookies:
        response.delete_cookie(NOTICE, path=signin.path, httponly=True, samesite="strict")
    return response


def _notice(request: Request) -> str:
    return unquote(request.cookies.get(NOTICE, ""))[:300]


async def _form(request: Request) -> dict[str, list[str]] | None:
    """The posted form, every value of each field; None for a form posted from another site."""
    origin = request.headers.get("origin")
    if origin and origin != "null" and urlsplit(origin).netloc != request.headers.get("host"):
        return None
    body = (await request.body())[:MAX_FORM_BYTES].decode("utf-8", errors="replace")
    try:
        return parse_qs(body, max_num_fields=200)
    except ValueError:
        return {}


def _first(form: dict[str, list[str]], name: str) -> str:
    return (form.get(name) or [""])[0].strip()


# --- the entry ------------------------------------------------------------------------------------


@pages.get("/dashboard", response_class=HTMLResponse, summary="Sign in, or on to your console (HTML)",
           responses={200: {"content": {"text/html": {}}}, 303: {"description": "Signed in: on to the console"}})
async def entry(request: Request) -> Response:
    principal = signin.principal(request)
    if principal is None or not (principal.is_operator or principal.seller_id):
        return signin.ask("/dashboard", status_code=200)
    where = operator.ROOT if principal.is_operator else signin.page_path(principal.seller_id or "")
    return RedirectResponse(where, status_code=303, headers=PAGE_HEADERS)


@pages.get(operator.ROOT, response_class=HTMLResponse, summary="The operator's console (HTML)", responses=HTML)
async def operator_console(ctx: Ctx, request: Request) -> HTMLResponse:
    principal = signin.principal(request)
    if principal is None:
        return signin.ask(operator.ROOT)
    if not principal.is_operator:
        return signin.ask(operator.ROOT, "This page is for operators.", 403)
    peers, problems = _peers(request), list[str]()
    at_risk = [operator.AtRisk(i + 1, r["seller_id"], r["rating"], r["band"], tuple(r["breaches"]),
                               r["account_status"], r["computed_at"])
               for i, r in enumerate(await repository.at_risk(ctx.pool, MAX_SELLERS_SCANNED))]
    sellers = await repository.seller_ids(ctx.pool, MAX_SELLERS_SCANNED)
    appeals, claims, letters = await asyncio.gather(
        _pending_appeals(peers, problems), _open_claims(peers, sellers, problems),
        asyncio.gather(*(_read(peers.get(s, "/v1/ops/dead-letters", limit=100), list[DeadLetter], problems)
                         for s in SERVICE_NAMES)))
    data = operator.OperatorData(await queries.moment(ctx.pool, None), at_risk, appeals, claims,
                                 dict(zip(SERVICE_NAMES, letters, strict=True)), _notice(request), problems)
    return _shown(request, operator.render(data))


async def _pending_appeals(peers: Peers, problems: list[str]) -> list[Appeal] | None:
    found: list[Appeal] = []
    for status in ("warned", "restricted", "suspended", "active", "reinstated"):
        accounts = await _read(peers.get("listing", "/v1/sellers", status=status, limit=500), list[Account], problems)
        if accounts is None:
            return None
        lists = await asyncio.gather(*(_read(peers.get("listing", f"/v1/sellers/{quote(a.seller_id, safe='')}/appeals"),
                                             list[Appeal], problems) for a in accounts))
        found += [a for appeals in lists for a in appeals or () if a.accepted is None]
    return sorted(found, key=lambda a: a.filed_at)


async def _open_claims(peers: Peers, sellers: list[str], problems: list[str]) -> list[tuple[str, Claim]] | None:
    lists = await asyncio.gather(*(_read(peers.get("aftersales", "/v1/claims", open="true", seller_id=s),
                                         list[Claim], problems) for s in sellers))
    if sellers and all(x is None for x in lists):
        return None
    return sorted(((s, c) for s, claims in zip(sellers, lists, strict=True) for c in claims or ()),
                  key=lambda sc: sc[1].filed_at)


async def _operator_action(request: Request, act: Callable[[Peers, dict[str, list[str]]], Awaitable[str]]
                           ) -> Response:
    principal = signin.principal(request)
    if principal is None or not principal.is_operator:
        return signin.ask(operator.ROOT, "This page is for operators.", 403 if principal else 401)
    form = await _form(request)
    if form is None:
        return signin.ask(operator.ROOT, "Act from this site's own page.", 403)
    try:
        done = await act(_peers(request), form)
    except PeerError as error:
        done = f"Refused: {error.detail}"
    return _back(operator.ROOT, done)


# --- the operator's decisions ---------------------------------------------------------------------


@pages.post(operator.ROOT + "/appeals/{appeal_id}", response_class=Response, status_code=303, responses=REDIRECT,
            summary="Accept or reject an appeal (form: decision, note)")
async def decide_appeal(request: Request, appeal_id: str) -> Response:
    async def act(peers: Peers, form: dict[str, list[str]]) -> str:
        accepted = _first(form, "decision") == "accept"
        note = _first(form, "note") or None
        await peers.post("listing", f"/v1/appeals/{quote(appeal_id, safe='')}/decision",
                         {"accepted": accepted, "note": note})
        return f"Appeal {appeal_id} {'accepted' if accepted else 'rejected'}."

    return await _operator_action(request, act)


@pages.post(operator.ROOT + "/claims/{seller_id}/{claim_id}", response_class=Response, status_code=303,
            responses=REDIRECT, summary="Grant or deny an A-to-z claim (form: outcome, reason)")
async def decide_claim(request: Request, seller_id: str, claim_id: str) -> Response:
    async def act(peers: Peers, form: dict[str, list[str]]) -> str:
        outcome = "granted" if _first(form, "outcome") == "granted" else "denied"
        await peers.post("aftersales", f"/v1/claims/{quote(claim_id, safe='')}/decision",
                         {"outcome": outcome, "reason": _first(form, "reason") or None}, seller_id=seller_id)
        return f"Claim {claim_id} {outcome}."

    return await _operator_action(request, act)


@pages.post(operator.ROOT + "/dead-letters/{service}/{letter_id}", response_class=Response, status_code=303,
            responses=REDIRECT, summary="Replay or resolve a dead letter (form: action, note)")
async def handle_dead_letter(request: Request, service: str, letter_id: int) -> Response:
    async def act(peers: Peers, form: dict[str, list[str]]) -> str:
        if service not in SERVICE_NAMES:
            return f"Refused: no service {service}."
        note = _first(form, "note")
        if _first(form, "action") == "resolve":
            if not note:
                return "Refused: say why the letter needs no replay (note)."
            await peers.post(service, f"/v1/ops/dead-letters/{letter_id}/resolve", {"by": "operator", "note": note})
            return f"Letter {letter_id} of {service} resolved."
        await peers.post(service, f"/v1/ops/dead-letters/{letter_id}/replay", {"by": "operator", "note": note or None})
        return f"Letter {letter_id} of {service} replayed."

    return await _operator_action(request, act)


# --- the seller's console -------------------------------------------------------------------------


def _seller_gate(request: Request, seller_id: str) -> tuple[Principal | None, HTMLResponse | None]:
    here = signin.page_path(seller_id)
    principal = signin.principal(request)
    if principal is None:
        return None, signin.ask(here)
    if not principal.may_access(seller_id):
        return None, signin.ask(here, "You are signed in as another seller.", 403)
    return principal, None


@pages.get("/dashboard/{seller_id}", response_class=HTMLResponse, summary="The seller's console (HTML)",
           responses=HTML)
async def seller_console(ctx: Ctx, request: Request, seller_id: str, as_of: handlers.AsOf = None) -> HTMLResponse:
    _, refused = _seller_gate(request, seller_id)
    if refused is not None:
        return refused
    now = await queries.moment(ctx.pool, as_of)
    if now is None:
        return page(dashboard.empty(seller_id))
    view = await queries.view(ctx.pool, seller_id, now, DEFAULT_POLICY, full=True)
    trends = await queries.trend(ctx.pool, seller_id, now.date(), dashboard.TREND_DAYS, DEFAULT_POLICY)
    wanted = [(next(r for r in DEFAULT_POLICY.rates if r.key == rate.key), rate.window_days)
              for rate in view.card.rates if rate.denominator]
    drill = await queries.drilldowns(ctx.pool, seller_id, wanted, now)
    peers, path = _peers(request), quote(seller_id, safe="")
    account, enforcements, appeals, work, unshipped = await asyncio.gather(
        _read(peers.get("listing", f"/v1/sellers/{path}"), Account),
        _read(peers.get("listing", f"/v1/sellers/{path}/enforcements"), list[Enforcement]),
        _read(peers.get("listing", f"/v1/sellers/{path}/appeals"), list[Appeal]),
        _read(peers.get("aftersales", "/v1/work", seller_id=seller_id), Work),
        _read(peers.get("order", "/v1/orders", status="unshipped", seller_id=seller_id, limit=500), list[Order]))
    data = seller.SellerData(view, trends, drill, DEFAULT_POLICY, account, enforcements, appeals, work, unshipped,
                             _notice(request))
    return _shown(request, seller.render(data))


@pages.post("/dashboard/{seller_id}/appeal", response_class=Response, status_code=303, responses=REDIRECT,
            summary="Appeal with a plan of action (form: root_cause, actions one per line, prevention, violation)")
async def appeal(request: Request, seller_id: str) -> Response:
    _, refused = _seller_gate(request, seller_id)
    if refused is not None:
        return refused
    form = await _form(request)
    if form is None:
        return signin.ask(signin.page_path(seller_id), "Appeal from this site's own page.", 403)
    body = {"root_cause": _first(form, "root_cause"), "prevention": _first(form, "prevention"),
            "actions": [x.strip() for x in _first(form, "actions").splitlines() if x.strip()][:20],
            "violation_ids": form.get("violation", [])[:100]}
    try:
        await _peers(request).post("listing", f"/v1/sellers/{quote(seller_id, safe='')}/appeals", body)
        done = "Your appeal was sent: an operator will decide on it."
    except PeerError as error:
        done = f"Your appeal was not sent: {error.detail}"
    return _back(signin.page_path(seller_id), done)

