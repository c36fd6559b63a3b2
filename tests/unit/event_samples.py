"""One valid sample payload per event type, for contract tests (and any test that needs a real event)."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from typing import Any
from uuid import UUID

from shared.events import aftersales, clock, disputes, fulfillment, ingress, listing, metrics, order, policy, seller
from shared.events import common as c
from shared.events.envelope import Payload

T0 = datetime(2025, 3, 3, 9, 30, tzinfo=UTC)  # a Monday
SHIP_BY = T0 + timedelta(days=2)
DELIVER_BY = SHIP_BY + timedelta(days=5)


def eur(amount: str) -> c.Money:
    return c.Money(amount=Decimal(amount), currency="EUR")


ADDRESS = c.Address(
    name="Ada Lovelace", lines=["12 St James's Square"], city="London", region="Greater London",
    postal_code="SW1Y 4JH", country="GB", phone="+44 20 7946 0000",
)
INGRESS_ADDRESS = ingress.IngressAddress(**ADDRESS.model_dump())
ORDER: dict[str, Any] = {"order_id": "ord-1", "purchased_at": T0, "fulfillment_channel": c.FulfillmentChannel.MERCHANT}
SHIPMENT: dict[str, Any] = {**ORDER, "shipment_id": "shp-1", "shipped_at": T0 + timedelta(days=1), "ship_by": SHIP_BY,
            "deliver_by": DELIVER_BY}
RETURN: dict[str, Any] = {**ORDER, "return_id": "ret-1", "requested_at": T0 + timedelta(days=9),
          "answer_by": T0 + timedelta(days=11)}
LISTING: dict[str, Any] = {
    "listing_id": "lst-1", "sku": "MUG-RED 01", "product_id": "4006381333931", "title": "Red mug, 300 ml",
    "brand": "Acme", "condition": c.Condition.NEW, "price": eur("9.90"), "quantity": 12, "handling_days": 2,
    "fulfillment_channel": c.FulfillmentChannel.MERCHANT, "status": c.ListingStatus.ACTIVE,
}
STOCK = [listing.StockLine(listing_id="lst-1", sku="MUG-RED 01", quantity=2)]
ODR = metrics.MetricValue(
    name=metrics.MetricName.ORDER_DEFECT_RATE, channel=c.FulfillmentChannel.MERCHANT, window_days=60,
    numerator=1, denominator=40, rate=0.025, target=0.01, status=metrics.MetricStatus.BREACH, low_volume=False,
)

SAMPLES: dict[str, Payload] = {p.EVENT_TYPE: p for p in [
    # ingress
    ingress.CheckoutOrderPlaced(
        order_id="ord-1", buyer_id="buyer-1", currency="EUR", purchased_at=T0, ship_to=INGRESS_ADDRESS,
        lines=[ingress.IngressOrderLine(listing_id="lst-1", quantity=2, unit_price=eur("9.90"))],
        shipping_speed=c.ShippingSpeed.STANDARD, fulfillment_channel=c.FulfillmentChannel.MERCHANT,
    ),
    ingress.CheckoutCancellationRequested(order_id="ord-1", buyer_id="buyer-1", requested_at=T0, reason="Too slow"),
    ingress.CarrierScanRecorded(carrier=c.Carrier.UPS, tracking_number="1Z999AA10123456784",
                                status=c.ScanStatus.DELIVERED, scanned_at=T0 + timedelta(days=4)),
    ingress.BuyerMessageSent(message_id="msg-1", order_id="ord-1", buyer_id="buyer-1", sent_at=T0,
                             body="Where is my parcel?"),
    ingress.BuyerReturnRequested(return_id="ret-1", order_id="ord-1", buyer_id="buyer-1", requested_at=T0,
                                 reason=c.ReturnReason.DAMAGED),
    ingress.BuyerFeedbackLeft(feedback_id="fb-1", order_id="ord-1", buyer_id="buyer-1", stars=2, left_at=T0),
    ingress.BuyerFeedbackRemoved(feedback_id="fb-1", order_id="ord-1", removed_at=T0),
    ingress.BuyerReviewPosted(review_id="rev-1", listing_id="lst-1", stars=5, posted_at=T0),
    ingress.BuyerClaimFiled(claim_id="clm-1", order_id="ord-1", buyer_id="buyer-1",
                            reason=c.ClaimReason.NOT_RECEIVED, amount=eur("19.80"), filed_at=T0),
    ingress.BuyerClaimWithdrawn(claim_id="clm-1", order_id="ord-1", withdrawn_at=T0),
    ingress.AtozClaimDecided(claim_id="clm-1", order_id="ord-1", outcome=c.ClaimOutcome.GRANTED_SELLER_FUNDED,
                             decided_at=T0, refund=eur("19.80")),
    ingress.BankChargebackFiled(chargeback_id="cb-1", order_id="ord-1", reason=c.ChargebackReason.FRAUD,
                                amount=eur("19.80"), filed_at=T0),
    ingress.BankChargebackDecided(chargeback_id="cb-1", order_id="ord-1",
                                  outcome=c.ChargebackOutcome.SELLER_WON, decided_at=T0),
    # clock
    clock.ClockTicked(now=T0),
    # seller
    seller.SellerRegistered(
        legal_name="Acme Ltd", country="DE", business_type=c.BusinessType.COMPANY,
        tax_id=c.mask_secret("DE123456789"), bank_account=c.mask_secret("DE89370400440532013000"),
        document_type=c.DocumentType.PASSPORT, document_number=c.mask_secret("C01X00T47"),
        document_expires_on=date(2030, 1, 31),
    ),
    seller.SellerVerified(automatic=True),
    seller.SellerRejected(reasons=["IBAN check digits are wrong"]),
    seller.SellerAppealed(appeal_id="apl-1", root_cause="Late pickups", actions=["New carrier"],
                          prevention="Daily pickup", violation_ids=["vio-1"]),
    seller.SellerAppealDecided(appeal_id="apl-1", accepted=True, operator_id="op-7",
                               resolved_violation_ids=["vio-1"]),
    seller.SellerStatusChanged(old_status=c.AccountStatus.ACTIVE, new_status=c.AccountStatus.WARNED,
                               cause=seller.StatusCause.ENFORCEMENT,
                               enforcement_event_id=UUID("12345678-1234-4678-9234-567812345678")),
    # listing
    listing.ListingCreated(**LISTING),
    listing.ListingUpdated(**{**LISTING, "quantity": 0, "status": c.ListingStatus.INACTIVE}),
    listing.ListingStatusChanged(listing_id="lst-1", sku="MUG-RED 01", old_status=c.ListingStatus.ACTIVE,
                                 fulfillment_channel=c.FulfillmentChannel.MERCHANT,
                                 new_status=c.ListingStatus.SUPPRESSED,
                                 reasons=["L4: contact details in the description"]),
    listing.InventoryReserved(order_id="ord-1", lines=STOCK, handling_days=2),
    listing.InventoryReservationFailed(order_id="ord-2", reason=c.ReservationFailure.OUT_OF_STOCK, listing_id="lst-1"),
    listing.InventoryReleased(order_id="ord-1", lines=STOCK, reason="order cancelled by the buyer"),
    listing.InventoryAdjusted(listing_id="lst-1", sku="MUG-RED 01", delta=-2, available=10, reserved=0,
                              reason=listing.AdjustmentReason.SHIPMENT, order_id="ord-1"),
    policy.PolicyViolated(violation_id="vio-1", category=c.PolicyCategory.REVIEW, severity=c.Severity.HIGH,
                          rules=["M4"], subject_kind=policy.ViolationSubject.MESSAGE, subject_id="msg-9",
                          detected_at=T0, description="Offered a refund for a review"),
    # order
    order.OrderPlaced(**ORDER, buyer_id="buyer-1", currency="EUR", total=eur("19.80"),
                      lines=[order.PlacedLine(sku="MUG-RED 01", quantity=2, unit_price=eur("9.90"))],
                      shipping_speed=c.ShippingSpeed.STANDARD, ship_to_country="GB"),
    order.OrderConfirmed(**ORDER, shipping_speed=c.ShippingSpeed.STANDARD, currency="EUR", total=eur("19.80"),
                         lines=[order.ConfirmedLine(listing_id="lst-1", sku="MUG-RED 01", quantity=2,
                                                    unit_price=eur("9.90"))],
                         ship_by=SHIP_BY, deliver_by=DELIVER_BY, ship_to=ADDRESS),
    order.OrderRejected(**ORDER, reason=order.OrderRejection.OUT_OF_STOCK),
    order.OrderCancellationRequested(**ORDER, requested_at=T0 + timedelta(hours=1)),
    order.OrderCancelled(**ORDER, by=c.CancelledBy.SELLER, reason="Out of stock", before_shipment=True,
                         cancelled_at=T0 + timedelta(hours=2)),
    order.OrderStatusChanged(**ORDER, old_status=c.OrderStatus.PENDING, new_status=c.OrderStatus.UNSHIPPED),
    order.OrderPiiErased(order_id="ord-1", trigger=order.ErasureTrigger.DELIVERED),
    # fulfillment
    fulfillment.ShipmentConfirmed(**SHIPMENT, carrier=c.Carrier.UPS, tracking_number="1Z999AA10123456784",
                                  tracking_format_valid=True,
                                  lines=[fulfillment.ShipmentLine(listing_id="lst-1", sku="MUG-RED 01", quantity=2)]),
    fulfillment.ShipmentTrackingUpdated(**SHIPMENT, carrier=c.Carrier.UPS, tracking_number="1Z999AA10123456784",
                                        status=c.ScanStatus.IN_TRANSIT, scanned_at=T0 + timedelta(days=2)),
    fulfillment.ShipmentTrackingValidated(**SHIPMENT, valid=True, reason=fulfillment.TrackingVerdict.FIRST_SCAN,
                                          first_scan_at=T0 + timedelta(days=1, hours=3)),
    fulfillment.ShipmentDelivered(**SHIPMENT, delivered_at=T0 + timedelta(days=4)),
    fulfillment.FulfillmentOverdue(**ORDER, ship_by=SHIP_BY, deliver_by=DELIVER_BY),
    # aftersales
    aftersales.MessageReceived(message_id="msg-1", order_id="ord-1", received_at=T0, needs_reply=True,
                               due_by=T0 + timedelta(hours=24)),
    aftersales.MessageReplied(message_id="msg-1", reply_id="msg-2", received_at=T0,
                              replied_at=T0 + timedelta(minutes=95), minutes_to_reply=95),
    aftersales.MessageBlocked(message_id="msg-3", in_reply_to="msg-1", rules=["M1", "M4"]),
    aftersales.ReturnRequested(**RETURN, reason=c.ReturnReason.DEFECTIVE),
    aftersales.ReturnAuthorized(**RETURN, answered_at=T0 + timedelta(days=10)),
    aftersales.ReturnRejected(**RETURN, answered_at=T0 + timedelta(days=10), reason="Used item"),
    aftersales.ReturnReceived(**RETURN, received_at=T0 + timedelta(days=14), refund_by=T0 + timedelta(days=16)),
    aftersales.RefundIssued(**ORDER, refund_id="rfd-1", amount=eur("9.90"), order_total=eur("19.80"),
                            reason="Damaged item", initiated_by=c.RefundInitiator.SELLER,
                            issued_at=T0 + timedelta(days=15), return_id="ret-1"),
    aftersales.ReviewReceived(review_id="rev-1", listing_id="lst-1", stars=4, posted_at=T0),
    disputes.ClaimFiled(**ORDER, claim_id="clm-1", reason=c.ClaimReason.NOT_RECEIVED, amount=eur("19.80"),
                        filed_at=T0 + timedelta(days=20)),
    disputes.ClaimDecided(**ORDER, claim_id="clm-1", outcome=c.ClaimOutcome.GRANTED_SELLER_FUNDED,
                          counts_against_seller=True, decided_at=T0 + timedelta(days=25)),
    disputes.ChargebackFiled(**ORDER, chargeback_id="cb-1", reason=c.ChargebackReason.NOT_RECEIVED,
                             amount=eur("19.80"), filed_at=T0 + timedelta(days=30)),
    disputes.ChargebackDecided(**ORDER, chargeback_id="cb-1", reason=c.ChargebackReason.NOT_RECEIVED,
                               outcome=c.ChargebackOutcome.SELLER_LOST, counts_against_seller=True,
                               decided_at=T0 + timedelta(days=40)),
    disputes.FeedbackReceived(**ORDER, feedback_id="fb-1", stars=1, left_at=T0 + timedelta(days=6)),
    disputes.FeedbackRemoved(**ORDER, feedback_id="fb-1", stars=1, left_at=T0 + timedelta(days=6),
                             removed_at=T0 + timedelta(days=8)),
    # metrics
    metrics.SellerScorecardUpdated(
        as_of=T0, metrics=[ODR], rating=184, band=c.HealthBand.AT_RISK,
        ledger=[metrics.RatingLine(points=200, reason="base"),
                metrics.RatingLine(points=-16, reason="open high violation, repeated", violation_id="vio-1")],
        sales=[metrics.SalesFigure(window_days=7, orders=2, units=3, gross_sales=eur("29.70"),
                                   average_order_value=eur("14.85"), growth=0.5)],
        average_review_rating=4.5, average_reply_minutes=95.0,
    ),
    metrics.SellerHealthChanged(as_of=T0, old_band=c.HealthBand.HEALTHY, new_band=c.HealthBand.AT_RISK,
                                old_rating=200, new_rating=184),
    metrics.SellerEnforcementDecided(
        as_of=T0, action=c.EnforcementAction.RESTRICT, reasons=["Order defect rate 2.5% over 1%"], rating=184,
        band=c.HealthBand.AT_RISK, metrics=[ODR], violation_ids=["vio-1"],
        defects=[metrics.DefectRef(order_id="ord-1", kind=c.DefectKind.NEGATIVE_FEEDBACK,
                                   attributed_on=date(2025, 3, 3), leaves_window_on=date(2025, 5, 2))],
    ),
]}
