"""The operator's console: sellers at risk, appeals and A-to-z claims to decide, dead letters (pure HTML)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from urllib.parse import quote

from services.metrics.console.html import e, fmt_time, template
from services.metrics.console.models import Appeal, Claim, DeadLetter

#: Where the operator's pages live: two segments, so no seller id can shadow them.
ROOT = "/dashboard/-/operator"


@dataclass(frozen=True)
class AtRisk:
    rank: int
    seller_id: str
    rating: int
    band: str
    breaches: Sequence[str]
    account_status: str | None
    computed_at: datetime | None


@dataclass(frozen=True)
class OperatorData:
    now: datetime | None
    at_risk: Sequence[AtRisk]
    appeals: Sequence[Appeal] | None
    claims: Sequence[tuple[str, Claim]] | None  # (seller, claim)
    dead_letters: Mapping[str, Sequence[DeadLetter] | None]  # service -> its outstanding letters
    notice: str = ""
    problems: Sequence[str] = ()


def _q(value: str) -> str:
    return e(quote(value, safe=""))


def at_risk_table(rows: Sequence[AtRisk]) -> str:
    if not rows:
        return '<p class="all-good">No seller is at risk or critical.</p>'
    body = "".join(
        f'<tr data-seller="{e(r.seller_id)}"><td>{r.rank}</td><td><a href="/dashboard/{_q(r.seller_id)}">'
        f"{e(r.seller_id)}</a></td><td><strong>{r.rating}</strong> <span class='band {e(r.band)}'>"
        f"{e(r.band.replace('_', ' '))}</span></td><td>{e((r.account_status or 'unknown').replace('_', ' '))}</td>"
        f"<td>{e(', '.join(b.replace('_', ' ') for b in r.breaches) or 'none')}</td></tr>" for r in rows)
    return ('<table class="rank"><thead><tr><th>Rank</th><th>Seller</th><th>Rating</th><th>Account</th>'
            f"<th>Metrics in breach</th></tr></thead><tbody>{body}</tbody></table>")


def appeals_list(appeals: Sequence[Appeal] | None) -> str:
    if appeals is None:
        return "<p>Appeals are unavailable: the listing service cannot be reached.</p>"
    if not appeals:
        return '<p class="all-good">No appeal waits for a decision.</p>'
    items = []
    for a in appeals:
        actions = "".join(f"<li>{e(x)}</li>" for x in a.actions)
        answered = f"<p class='sub'>Answers {len(a.violation_ids)} violation(s).</p>" if a.violation_ids else ""
        note_id = f"note-{e(a.appeal_id)}"
        items.append(
            f'<article class="item" data-appeal="{e(a.appeal_id)}" data-seller="{e(a.seller_id)}">'
            f"<h3>Seller {e(a.seller_id)} &middot; filed {fmt_time(a.filed_at)}</h3>"
            f"<p><strong>Root cause:</strong> {e(a.root_cause)}</p><p><strong>Actions taken:</strong></p>"
            f"<ul>{actions}</ul><p><strong>Prevention:</strong> {e(a.prevention)}</p>{answered}"
            f'<form class="actions" method="post" action="{ROOT}/appeals/{_q(a.appeal_id)}">'
            f'<label for="{note_id}">Note to the seller</label>'
            f'<input type="text" id="{note_id}" name="note" maxlength="200">'
            '<button type="submit" name="decision" value="accept">Accept and reinstate</button>'
            '<button type="submit" name="decision" value="reject" class="danger">Reject</button></form></article>')
    return "".join(items)


def claims_list(claims: Sequence[tuple[str, Claim]] | None) -> str:
    if claims is None:
        return "<p>Claims are unavailable: the after-sales service cannot be reached.</p>"
    if not claims:
        return '<p class="all-good">No A-to-z claim waits for a decision.</p>'
    items = []
    for seller, c in claims:
        reason_id = f"reason-{e(c.claim_id)}"
        items.append(
            f'<article class="item" data-claim="{e(c.claim_id)}"><h3>Claim on order {e(c.order_id)} '
            f"(seller {e(seller)})</h3><p>{e(c.reason.replace('_', ' ').capitalize())}: {c.amount:,.2f} "
            f"{e(c.currency)}, filed {fmt_time(c.filed_at)}.</p>"
            f'<form class="actions" method="post" action="{ROOT}/claims/{_q(seller)}/{_q(c.claim_id)}">'
            f'<label for="{reason_id}">Reason</label><input type="text" id="{reason_id}" name="reason" maxlength="200">'
            '<button type="submit" name="outcome" value="granted">Grant</button>'
            '<button type="submit" name="outcome" value="denied" class="danger">Deny</button></form></article>')
    return "".join(items)


def dead_letters_list(letters: Mapping[str, Sequence[DeadLetter] | None]) -> str:
    parts = []
    for service, found in letters.items():
        if found is None:
            parts.append(f"<p>The {e(service)} service's dead letters are unavailable: it cannot be reached.</p>")
            continue
        for d in found:
            note_id = f"why-{e(service)}-{d.id}"
            parts.append(
                f'<article class="item" data-letter="{e(service)}/{d.id}"><h3>{e(service)}: letter {d.id} from '
                f"{e(d.topic)}</h3><p>{e(d.error_type)}: {e(d.reason)}</p><p class='sub'>Seller "
                f"{e(d.key or 'unknown')} &middot; dead-lettered {fmt_time(d.created_at)}</p>"
                f'<form class="actions" method="post" action="{ROOT}/dead-letters/{_q(service)}/{d.id}">'
                f'<label for="{note_id}">Note</label><input type="text" id="{note_id}" name="note" maxlength="500">'
                '<button type="submit" name="action" value="replay">Replay</button>'
                '<button type="submit" name="action" value="resolve" class="secondary">Resolve without replay'
                "</button></form></article>")
    return "".join(parts) or '<p class="all-good">No outstanding dead letter in any service.</p>'


def render(data: OperatorData) -> str:
    notices = "".join(f'<p class="notice error" role="alert">{e(p)}</p>' for p in data.problems)
    if data.notice:
        notices = f'<p class="notice" role="status">{e(data.notice)}</p>' + notices
    return template("operator.html").substitute(
        title="Operator console",
        as_of=fmt_time(data.now),
        notice=notices,
        at_risk=at_risk_table(data.at_risk),
        appeals=appeals_list(data.appeals),
        claims=claims_list(data.claims),
        dead_letters=dead_letters_list(data.dead_letters),
    )
