"""The console's pages as a seller and an operator read them, rendered from a scorecard, its health and
what the other services answered (pure functions: no service runs here)."""

from __future__ import annotations

import dataclasses
from datetime import timedelta
from decimal import Decimal

import pytest

from services.metrics import policy as keys
from services.metrics.console import operator, seller
from services.metrics.console.html import fmt_time
from services.metrics.console.models import Account, Appeal, Claim, DeadLetter, Enforcement, Order, Work
from services.metrics.domain.health import Violation, health
from services.metrics.policy import DEFAULT_POLICY
from services.metrics.queries import View
from services.metrics.views import DefectItem
from shared.events.common import DefectKind, Severity
from shared.events.metrics import MetricStatus, TargetKind
from tests.unit.metrics.builders import NOW, at, card
from tests.unit.metrics.builders import Order as SimOrder


def _data(status: str, *, defective: int = 0, appeals: list[Appeal] | None = None,
          unshipped: list[Order] | None = None, policy_violation: bool = True) -> seller.SellerData:
    orders = [SimOrder(purchased_at=at(-3)) for _ in range(40)]
    events = [o.placed() for o in orders] + [o.feedback(1, at(-1)) for o in orders[:defective]]
    scorecard = card(events)
    violations = [Violation("PV-secret-1", "listing", Severity.HIGH, NOW - timedelta(days=2), "L3")]
    rated = health(scorecard, violations if policy_violation else [], {}, {}, NOW, DEFAULT_POLICY)
    items = [DefectItem(keys.ODR_MERCHANT, o.order_id, o.order_id, (DefectKind.NEGATIVE_FEEDBACK,),
                        o.purchased_at.date(), 60) for o in orders[:defective]]
    account = Account(seller_id="S-<1>", legal_name="Acme & Co", status=status, updated_at=NOW - timedelta(days=9))
    decided = [Enforcement(action="restrict", outcome="applied", old_status="active", new_status=status,
                           note="late shipment rate 15% against under 4%", decided_at=NOW - timedelta(days=3))]
    work = Work(messages_due=[], returns_awaiting=[], open_claims=[], open_chargebacks=[], negative_feedback=[])
    return seller.SellerData(View("S-<1>", NOW, scorecard, rated), {}, {(keys.ODR_MERCHANT, 60): items},
                             DEFAULT_POLICY, account, decided, appeals or [], work, unshipped or [])


@pytest.mark.parametrize("status", ["active", "warned", "restricted", "suspended", "reinstated"])
def test_the_banner_names_the_status_since_when_why_and_what_it_blocks(status: str) -> None:
    page = seller.render(_data(status))
    assert f'data-status="{status}"' in page and seller.STATUS_TEXT[status] in page
    assert seller.BLOCKS[status] in page
    if status != "active":
        assert "late shipment rate 15% against under 4%" in page
        assert f"Since {fmt_time(NOW - timedelta(days=3))}" in page
    has_form = 'action="/dashboard/S-&lt;1&gt;/appeal"' in page
    assert has_form == (status in ("warned", "restricted", "suspended"))
    assert "S-<1>" not in page and "Acme &amp; Co" in page  # escaped


def test_a_pending_appeal_replaces_the_form_and_a_decided_one_is_reported() -> None:
    pending = Appeal(appeal_id="APL-1", seller_id="S-<1>", root_cause="r", actions=["a"], prevention="p",
                     violation_ids=[], filed_at=NOW - timedelta(days=1), accepted=None, note=None, decided_at=None)
    page = seller.render(_data("suspended", appeals=[pending]))
    assert 'data-appeal="pending"' in page and "/appeal\"" not in page
    refused = pending.model_copy(update={"accepted": False, "note": "No plan.", "decided_at": NOW})
    page = seller.render(_data("suspended", appeals=[refused]))
    assert 'data-appeal="refused"' in page and "No plan." in page and "/appeal\"" in page


def test_the_ledger_reads_as_sentences_without_internal_ids() -> None:
    page = seller.render(_data("active"))
    assert "PV-secret-1" not in page.split('<ul class="ledger">')[1].split("</ul>")[0]
    assert "Every account starts at 200 points." in page
    assert "Listing policy violation (high severity) open since" in page


def test_what_to_fix_lists_a_breach_with_its_orders_their_last_day_and_the_good_orders_it_needs() -> None:
    data = _data("restricted", defective=3)
    odr = next(r for r in data.view.card.rates if r.key == keys.ODR_MERCHANT and r.window_days == 60)
    assert odr.status is MetricStatus.BREACH
    page = seller.render(data)
    fixes = page.split('<ol class="fixes">')[1].split("</ol>")[0]
    assert 'data-metric="order_defect_rate:merchant:60"' in fixes
    item = data.drill[(keys.ODR_MERCHANT, 60)][0]
    assert item.order_id and item.order_id in fixes
    assert f"{seller.good_orders_needed(odr)} more orders without a defect" in fixes
    assert "banner restricted" in page


def test_an_open_policy_violation_is_on_the_list_and_nothing_is_when_all_is_well() -> None:
    fixes = seller.render(_data("active")).split('<ol class="fixes">')[1].split("</ol>")[0]
    assert 'data-policy="listing"' in fixes and "Listing policy violation (high severity)" in fixes
    assert "PV-secret-1" not in fixes
    assert 'data-fix="none"' in seller.render(_data("active", policy_violation=False))


def test_an_active_account_with_a_breach_is_not_shown_all_green() -> None:
    assert "banner active attention" in seller.render(_data("active", defective=3))
    assert "banner active\"" in seller.render(_data("active", policy_violation=False))


def test_good_orders_needed_is_the_fewest_that_bring_a_rate_within_its_target() -> None:
    rate = next(r for r in card([]).rates if r.kind is TargetKind.AT_MOST)
    under = dataclasses.replace(rate, numerator=3, denominator=40, target=Decimal("0.04"))
    n = seller.good_orders_needed(under)
    assert n is not None and 3 / (40 + n) < 0.04 <= 3 / (40 + n - 1)
    least = dataclasses.replace(rate, numerator=90, denominator=100, target=Decimal("0.95"), kind=TargetKind.AT_LEAST)
    n = seller.good_orders_needed(least)
    assert n is not None and (90 + n) / (100 + n) >= 0.95 > (90 + n - 1) / (100 + n - 1)
    assert seller.good_orders_needed(dataclasses.replace(least, target=Decimal(1))) is None


def test_the_day_splits_unshipped_orders_into_overdue_and_today_by_business_time() -> None:
    late = Order(order_id="O-late", total=Decimal(10), currency="USD", purchased_at=NOW - timedelta(days=3),
                 ship_by=NOW - timedelta(hours=2))
    today = late.model_copy(update={"order_id": "O-today", "ship_by": NOW + timedelta(hours=3)})
    later = late.model_copy(update={"order_id": "O-later", "ship_by": NOW + timedelta(days=2)})
    page = seller.render(_data("active", unshipped=[late, today, later]))
    overdue = page.split('data-work="overdue"')[1].split("</section>")[0]
    due_today = page.split('data-work="today"')[1].split("</section>")[0]
    assert "O-late" in overdue and "O-today" not in overdue
    assert "O-today" in due_today and "O-later" not in due_today and "1 more unshipped order due later" in due_today


def test_the_operator_page_ranks_sellers_and_offers_each_decision_as_a_form() -> None:
    appeal = Appeal(appeal_id="APL-<9>", seller_id="S-2", root_cause="cause", actions=["one"], prevention="p",
                    violation_ids=["V-1"], filed_at=NOW, accepted=None, note=None, decided_at=None)
    page = operator.render(operator.OperatorData(
        NOW, [operator.AtRisk(1, "S-2", 80, "critical", ("late_shipment_rate",), "restricted", NOW)],
        [appeal], [], {"order": [], "listing": None}))
    assert 'data-seller="S-2"' in page and "late shipment rate" in page
    assert f'action="{operator.ROOT}/appeals/APL-%3C9%3E"' in page and "APL-<9>" not in page
    assert "No A-to-z claim waits" in page and "listing service's dead letters are unavailable" in page


def test_sales_show_orders_units_growth_and_the_direction_against_the_period_before() -> None:
    page = seller.render(_data("active"))
    sales = page.split('id="sales"')[1]
    assert "40 orders" in sales and "more orders than the 7 days before (0)" in sales


def test_the_operator_page_offers_grant_or_deny_for_a_claim_and_replay_or_resolve_for_a_letter() -> None:
    claim = Claim(claim_id="C-1", order_id="O-1", reason="item_not_received", amount=Decimal("25.50"),
                  currency="EUR", filed_at=NOW)
    letter = DeadLetter(id=7, topic="ingress.orders", key="S-3", reason="not JSON <b>", error_type="InvalidEvent",
                        created_at=NOW)
    page = operator.render(operator.OperatorData(NOW, [], [], [("S-3", claim)], {"order": [letter]}))
    assert f'action="{operator.ROOT}/claims/S-3/C-1"' in page and "Item not received: 25.50 EUR" in page
    assert 'value="granted"' in page and 'value="denied"' in page
    assert f'action="{operator.ROOT}/dead-letters/order/7"' in page and "not JSON &lt;b&gt;" in page
    assert 'value="replay"' in page and 'value="resolve"' in page and "No seller is at risk" in page
