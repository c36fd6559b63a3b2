"""Listing service entry points: the events it consumes and its HTTP routes. Each calls one use case."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Annotated, TypeVar

import asyncpg
from fastapi import APIRouter, HTTPException, Query, status
from fastapi.encoders import jsonable_encoder
from fastapi.responses import JSONResponse

from services.listing import (
    account_service,
    inventory_service,
    listing_repository,
    listing_service,
    repository,
    service,
    stock_repository,
)
from services.listing.account import TransitionRefused
from services.listing.api import (
    AppealDecisionIn,
    AppealIn,
    AppealView,
    Command,
    EnforcementView,
    ListingChangesIn,
    ListingView,
    NewListingIn,
    Reason,
    RegisteredView,
    RegistrationIn,
    RegistrationOutcome,
    RegistrationReceipt,
    ReservationView,
    ReviewDecisionIn,
    SellerView,
    rejection,
)
from services.listing.listing_rules import ListingDraft
from services.listing.service import NotFound, Refused
from shared.auth import (
    CurrentPrincipal,
    OptionalPrincipal,
    RegistrationReader,
    registration_receipt,
    require_access,
    require_operator,
    seller_token,
)
from shared.business_clock import command_time
from shared.events.common import AccountStatus, ListingStatus
from shared.events.fulfillment import ShipmentConfirmed
from shared.events.metrics import SellerEnforcementDecided
from shared.events.order import OrderCancelled, OrderPlaced, OrderRejected
from shared.http_guard import errors
from shared.messaging.dispatch import Dispatcher
from shared.runtime import Ctx

events = Dispatcher()
events.on_run(OrderPlaced, OrderCancelled, OrderRejected, ShipmentConfirmed)(inventory_service.apply_stock_run)
events.on(SellerEnforcementDecided)(account_service.apply_enforcement)

router = APIRouter(prefix="/v1", responses=errors(401, 403, 413, 422))
T = TypeVar("T")
Limit = Annotated[int, Query(ge=1, le=500)]
Offset = Annotated[int, Query(ge=0, le=1_000_000)]
_RETRIED = (asyncpg.exceptions.DeadlockDetectedError, asyncpg.exceptions.SerializationError)


async def run(ctx: Ctx, use_case: Callable[[asyncpg.Connection], Awaitable[T]]) -> T:
    """A command in one transaction; a refusal by the domain becomes 404 or 409, a deadlock is retried."""
    for attempt in range(3):
        try:
            async with ctx.pool.acquire() as conn, conn.transaction():
                return await use_case(conn)
        except _RETRIED:
            if attempt == 2:
                raise
        except NotFound as error:
            raise HTTPException(status.HTTP_404_NOT_FOUND, str(error)) from None
        except (Refused, TransitionRefused, repository.SellerIdTaken) as error:
            raise HTTPException(status.HTTP_409_CONFLICT, str(error) or "conflict") from None
    raise AssertionError("unreachable")


async def _seller(ctx: Ctx, principal: CurrentPrincipal, seller_id: str) -> repository.SellerRow:
    require_access(principal, seller_id)
    seller = await repository.get_seller(ctx.pool, seller_id)
    if seller is None:
        raise HTTPException(status.HTTP_404_NOT_FOUND, f"no seller {seller_id}")
    return seller


async def _listing(ctx: Ctx, principal: CurrentPrincipal, listing_id: str) -> listing_repository.ListingRow:
    listing = await listing_repository.get_listing(ctx.pool, listing_id)
    if listing is None:
        raise HTTPException(status.HTTP_404_NOT_FOUND, f"no listing {listing_id}")
    require_access(principal, listing.seller_id)
    return listing


# --- sellers ---------------------------------------------------------------------------------------


def _verified(seller: repository.SellerRow) -> bool:
    return seller.status not in (AccountStatus.PENDING_REVIEW, AccountStatus.REJECTED)


@router.post("/sellers", status_code=202, response_model=None, tags=["sellers"],
             summary="Register a seller; verified at once if it can be",
             responses={201: {"model": RegisteredView, "description": "Registered by an operator: the account, "
                                                                       "and its token once verified"},
                        202: {"model": RegistrationReceipt, "description": "Received: the same answer to every "
                                                                           "anonymous registration"},
                        **errors(409)})
async def register_seller(ctx: Ctx, principal: OptionalPrincipal, body: RegistrationIn) -> JSONResponse:
    """Anyone may register; the answer says nothing of other accounts (a tax id already registered is the
    registrant's own outcome, read with its receipt). An operator registering a seller sees the account."""
    seller_id = body.seller_id or service.new_id("S")

    async def use_case(conn: asyncpg.Connection) -> service.Registered:
        at = await command_time(conn, body.at)
        return await service.register_seller(conn, body.registration(), seller_id=seller_id, at=at)

    registered = await run(ctx, use_case)
    secret = ctx.settings.auth_secret.get_secret_value()
    if principal is not None and principal.is_operator:
        token = seller_token(secret, seller_id) if _verified(registered.seller) else None
        view = RegisteredView(**SellerView.of(registered.seller).model_dump(), token=token)
        return JSONResponse(jsonable_encoder(view), status_code=201)
    receipt = RegistrationReceipt(seller_id=seller_id, receipt=registration_receipt(secret, seller_id))
    return JSONResponse(jsonable_encoder(receipt), status_code=202)


@router.get("/sellers/{seller_id}/registration", tags=["sellers"], responses=errors(404),
            summary="A registration's outcome, for its registrant (receipt) or the operator; "
                    "once verified, with a seller token")
async def registration_outcome(ctx: Ctx, principal: RegistrationReader, seller_id: str) -> RegistrationOutcome:
    if not principal.registered(seller_id):
        raise HTTPException(status.HTTP_403_FORBIDDEN, "only this registration's receipt, or an operator")
    seller = await repository.get_seller(ctx.pool, seller_id)
    if seller is None:
        raise HTTPException(status.HTTP_404_NOT_FOUND, f"no seller {seller_id}")
    token = seller_token(ctx.settings.auth_secret.get_secret_value(), seller_id) if _verified(seller) else None
    return RegistrationOutcome(seller_id=seller_id, status=AccountStatus(seller.status),
                               reasons=[Reason(**r) for r in seller.reasons], token=token)


@router.get("/sellers", tags=["sellers"], summary="Sellers, optionally of one status (operator)")
async def list_sellers(ctx: Ctx, principal: CurrentPrincipal, status: AccountStatus | None = None,
                       limit: Limit = 100, offset: Offset = 0) -> list[SellerView]:
    require_operator(principal)
    rows = await repository.list_sellers(ctx.pool, status=status, limit=limit, offset=offset)
    return [SellerView.of(row) for row in rows]


@router.get("/sellers/{seller_id}", tags=["sellers"], summary="A seller's account and its status",
            responses=errors(404))
async def get_seller(ctx: Ctx, principal: CurrentPrincipal, seller_id: str) -> SellerView:
    return SellerView.of(await _seller(ctx, principal, seller_id))


@router.post("/sellers/{seller_id}/decision", tags=["sellers"],
             summary="Verify or reject a registration pending review (operator)", responses=errors(404, 409))
async def decide_registration(ctx: Ctx, principal: CurrentPrincipal, seller_id: str,
                              body: ReviewDecisionIn) -> SellerView:
    require_operator(principal)

    async def use_case(conn: asyncpg.Connection) -> repository.SellerRow:
        return await service.decide_registration(conn, seller_id, approved=body.approved, reasons=body.reasons,
                                                 operator_id=body.operator_id, at=await command_time(conn, body.at))

    return SellerView.of(await run(ctx, use_case))


@router.get("/sellers/{seller_id}/enforcements", tags=["sellers"],
            summary="Every enforcement decision received for the seller and what became of it", responses=errors(404))
async def list_enforcements(ctx: Ctx, principal: CurrentPrincipal, seller_id: str) -> list[EnforcementView]:
    await _seller(ctx, principal, seller_id)
    return [EnforcementView.of(row) for row in await repository.enforcements_of(ctx.pool, seller_id)]


@router.get("/sellers/{seller_id}/reservations/{order_id}", tags=["inventory"],
            summary="The stock an order reserved, released or shipped", responses=errors(404))
async def get_reservation(ctx: Ctx, principal: CurrentPrincipal, seller_id: str, order_id: str) -> ReservationView:
    require_access(principal, seller_id)
    row = await stock_repository.get_reservation(ctx.pool, seller_id, order_id)
    if row is None or row.status == "pending":
        raise HTTPException(status.HTTP_404_NOT_FOUND, f"no reservation for order {order_id}")
    return ReservationView.model_validate(row, from_attributes=True)


# --- appeals ---------------------------------------------------------------------------------------


@router.post("/sellers/{seller_id}/appeals", status_code=201, tags=["appeals"],
             summary="Appeal with a plan of action: root cause, actions taken, prevention", responses=errors(404, 409))
async def file_appeal(ctx: Ctx, principal: CurrentPrincipal, seller_id: str, body: AppealIn) -> AppealView:
    require_access(principal, seller_id)
    plan = account_service.PlanOfAction(body.root_cause, body.actions, body.prevention, body.violation_ids,
                                body.enforcement_event_id)

    async def use_case(conn: asyncpg.Connection) -> repository.AppealRow:
        return await account_service.file_appeal(conn, seller_id, plan, at=await command_time(conn, body.at))

    return AppealView.of(await run(ctx, use_case))


@router.get("/sellers/{seller_id}/appeals", tags=["appeals"], summary="A seller's appeals", responses=errors(404))
async def list_appeals(ctx: Ctx, principal: CurrentPrincipal, seller_id: str) -> list[AppealView]:
    await _seller(ctx, principal, seller_id)
    return [AppealView.of(row) for row in await repository.appeals_of(ctx.pool, seller_id)]


@router.get("/appeals/{appeal_id}", tags=["appeals"], summary="One appeal", responses=errors(404))
async def get_appeal(ctx: Ctx, principal: CurrentPrincipal, appeal_id: str) -> AppealView:
    appeal = await repository.get_appeal(ctx.pool, appeal_id)
    if appeal is None:
        raise HTTPException(status.HTTP_404_NOT_FOUND, f"no appeal {appeal_id}")
    require_access(principal, appeal.seller_id)
    return AppealView.of(appeal)


@router.post("/appeals/{appeal_id}/decision", tags=["appeals"],
             summary="Accept (reinstating a restricted or suspended account) or refuse an appeal (operator)",
             responses=errors(404, 409))
async def decide_appeal(ctx: Ctx, principal: CurrentPrincipal, appeal_id: str, body: AppealDecisionIn) -> AppealView:
    require_operator(principal)

    async def use_case(conn: asyncpg.Connection) -> repository.AppealRow:
        return await account_service.decide_appeal(
            conn, appeal_id, accepted=body.accepted, operator_id=body.operator_id, note=body.note,
            resolved_violation_ids=body.resolved_violation_ids, at=await command_time(conn, body.at))

    return AppealView.of(await run(ctx, use_case))


# --- listings --------------------------------------------------------------------------------------


@router.post("/sellers/{seller_id}/listings", status_code=201, tags=["listings"],
             summary="Create a listing; a rejection (422) names every broken rule (L1-L9)", responses=errors(404, 409))
async def create_listing(ctx: Ctx, principal: CurrentPrincipal, seller_id: str, body: NewListingIn) -> ListingView:
    require_access(principal, seller_id)
    draft = ListingDraft(
        seller_sku=body.sku, product_id=body.product_id, title=body.title, brand=body.brand,
        description=body.description, bullet_points=tuple(body.bullet_points), condition=body.condition,
        price=body.price, currency=body.currency, quantity=body.quantity, handling_days=body.handling_days,
        fulfillment_channel=body.fulfillment_channel, image_urls=tuple(body.image_urls), category=body.category,
    )

    async def use_case(conn: asyncpg.Connection) -> listing_service.Outcome:
        at = await command_time(conn, body.at)
        return await listing_service.create_listing(conn, seller_id, draft, at=at, listing_id=body.listing_id)

    outcome = await run(ctx, use_case)  # committed: a rejection's policy violations are kept
    if outcome.listing is None:
        detail = rejection("listing rejected", outcome.review, outcome.violation_ids)
        raise HTTPException(422, detail)
    return ListingView.of(outcome.listing, outcome.violation_ids)


@router.get("/sellers/{seller_id}/listings", tags=["listings"], summary="A seller's listings, optionally of one status",
            responses=errors(404))
async def list_listings(ctx: Ctx, principal: CurrentPrincipal, seller_id: str, status: ListingStatus | None = None,
                        limit: Limit = 100, offset: Offset = 0) -> list[ListingView]:
    await _seller(ctx, principal, seller_id)
    rows = await listing_repository.listings_of(ctx.pool, seller_id, status=status, limit=limit, offset=offset)
    return [ListingView.of(row) for row in rows]


@router.get("/listings/{listing_id}", tags=["listings"], summary="One listing", responses=errors(404))
async def get_listing(ctx: Ctx, principal: CurrentPrincipal, listing_id: str) -> ListingView:
    return ListingView.of(await _listing(ctx, principal, listing_id))


@router.patch("/listings/{listing_id}", tags=["listings"],
              summary="Change a listing; it is checked again and suppressed, with reasons, if it breaks a rule",
              responses=errors(404, 409))
async def update_listing(ctx: Ctx, principal: CurrentPrincipal, listing_id: str,
                         body: ListingChangesIn) -> ListingView:
    await _listing(ctx, principal, listing_id)
    changes = body.changes()

    async def use_case(conn: asyncpg.Connection) -> listing_service.Outcome:
        at = await command_time(conn, body.at)
        return await listing_service.update_listing(conn, listing_id, changes, at=at)

    outcome = await run(ctx, use_case)
    if outcome.listing is None:
        detail = rejection("update refused: stock cannot be negative", outcome.review, outcome.violation_ids)
        raise HTTPException(422, detail)
    return ListingView.of(outcome.listing, outcome.violation_ids)


@router.post("/listings/{listing_id}/pause", tags=["listings"], summary="Pause a listing: inactive until resumed",
             responses=errors(404, 409))
async def pause_listing(ctx: Ctx, principal: CurrentPrincipal, listing_id: str,
                        body: Command | None = None) -> ListingView:
    await _listing(ctx, principal, listing_id)
    at = body.at if body else None

    async def use_case(conn: asyncpg.Connection) -> listing_repository.ListingRow:
        return await listing_service.pause_listing(conn, listing_id, at=await command_time(conn, at))

    return ListingView.of(await run(ctx, use_case))


@router.post("/listings/{listing_id}/resume", tags=["listings"],
             summary="Resume a paused listing (refused for a channel the account may not list on)",
             responses=errors(404, 409))
async def resume_listing(ctx: Ctx, principal: CurrentPrincipal, listing_id: str,
                         body: Command | None = None) -> ListingView:
    await _listing(ctx, principal, listing_id)
    at = body.at if body else None

    async def use_case(conn: asyncpg.Connection) -> listing_repository.ListingRow:
        return await listing_service.resume_listing(conn, listing_id, at=await command_time(conn, at))

    return ListingView.of(await run(ctx, use_case))
