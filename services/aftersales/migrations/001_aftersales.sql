-- The aftersales schema (domain.md section 5). Every table is keyed by seller first: one seller's
-- rows are found by index, and a seller token reads only its own.

-- The orders this service knows: a read model built from order.events and fulfillment.events.
-- Known = order.placed or order.confirmed seen (currency and total set); a shipment event for an
-- order not seen yet makes a partial row.
CREATE TABLE orders (
    seller_id           text        NOT NULL,
    order_id            text        NOT NULL,
    purchased_at        timestamptz NOT NULL,
    fulfillment_channel text        NOT NULL,
    currency            char(3),
    total               numeric(14, 2),             -- what the buyer paid: the cap of all refunds
    status              text,
    cancelled_by        text,                       -- buyer, seller or system
    ship_by             timestamptz,
    delivered_at        timestamptz,                -- the latest shipment.delivered
    PRIMARY KEY (seller_id, order_id)
);

-- Shipments, for "shipped on time with valid tracking" (a delivery claim is marketplace-funded then).
CREATE TABLE shipments (
    seller_id      text        NOT NULL,
    shipment_id    text        NOT NULL,
    order_id       text        NOT NULL,
    shipped_at     timestamptz NOT NULL,
    ship_by        timestamptz NOT NULL,
    tracking_valid boolean,                         -- null while pending
    first_scan_at  timestamptz,
    delivered_at   timestamptz,
    PRIMARY KEY (seller_id, shipment_id)
);
CREATE INDEX shipments_by_order ON shipments (seller_id, order_id);

-- Ingress items waiting for their order (or a return for its delivery), with the record unchanged
-- so that one still waiting at expires_at is dead-lettered exactly as it arrived.
CREATE TABLE parked (
    id            bigserial   PRIMARY KEY,          -- arrival order: applied in this order
    seller_id     text        NOT NULL,
    order_id      text        NOT NULL,
    waiting_for   text        NOT NULL,             -- 'order' or 'delivery'
    event_id      uuid        NOT NULL UNIQUE,
    event_type    text        NOT NULL,
    value         bytea       NOT NULL,
    topic         text        NOT NULL,             -- physical topic of the record
    logical_topic text        NOT NULL,
    partition     integer     NOT NULL,
    "offset"      bigint      NOT NULL,
    key           bytea,
    header_names  text[]      NOT NULL,
    header_values bytea[]     NOT NULL,
    parked_at     timestamptz NOT NULL,             -- business time
    expires_at    timestamptz NOT NULL
);
CREATE INDEX parked_by_order ON parked (seller_id, order_id, id);
CREATE INDEX parked_by_expiry ON parked (expires_at);

-- Buyer messages: the 24-hour reply clock.
CREATE TABLE buyer_messages (
    seller_id   text        NOT NULL,
    message_id  text        NOT NULL,
    order_id    text,
    buyer_id    text        NOT NULL,
    subject     text,                               -- erased with the order's personal data
    body        text,                               -- erased with the order's personal data
    received_at timestamptz NOT NULL,
    due_by      timestamptz NOT NULL,
    status      text        NOT NULL,               -- awaiting_reply, replied, no_reply_needed
    replied_at  timestamptz,
    reply_id    text,
    overdue_at  timestamptz,                        -- the tick that found it unanswered past due_by
    PRIMARY KEY (seller_id, message_id)
);
CREATE INDEX buyer_messages_inbox ON buyer_messages (seller_id, due_by) WHERE status = 'awaiting_reply';
CREATE INDEX buyer_messages_due ON buyer_messages (due_by) WHERE status = 'awaiting_reply' AND overdue_at IS NULL;

-- What sellers wrote: delivered, or blocked with the rules broken. M8 counts review requests per order.
CREATE TABLE seller_messages (
    seller_id      text        NOT NULL,
    message_id     text        NOT NULL,
    order_id       text,
    in_reply_to    text,
    body           text,                            -- erased with the order's personal data
    sent_at        timestamptz NOT NULL,
    delivered      boolean     NOT NULL,
    rules          text[]      NOT NULL,
    review_request boolean     NOT NULL,
    PRIMARY KEY (seller_id, message_id)
);
CREATE INDEX seller_messages_review_requests ON seller_messages (seller_id, order_id)
    WHERE review_request AND delivered;

CREATE TABLE returns (
    seller_id              text        NOT NULL,
    return_id              text        NOT NULL,
    order_id               text        NOT NULL,
    reason                 text        NOT NULL,    -- the buyer's
    delivered_at           timestamptz NOT NULL,
    requested_at           timestamptz NOT NULL,
    answer_due_by          timestamptz NOT NULL,
    status                 text        NOT NULL,
    answered_at            timestamptz,
    rejection_reason       text,
    received_at            timestamptz,
    refund_due_by          timestamptz,
    refunded_at            timestamptz,
    refunded_by            text,
    rejected_before_refund boolean     NOT NULL,
    answer_overdue_at      timestamptz,             -- the tick that found it unanswered after 48 h
    refund_overdue_at      timestamptz,             -- the tick that found it received, unrefunded after 2 days
    PRIMARY KEY (seller_id, return_id)
);
CREATE INDEX returns_by_order ON returns (seller_id, order_id);
CREATE INDEX returns_open ON returns (seller_id, answer_due_by) WHERE status IN ('requested', 'received');
CREATE INDEX returns_answer_due ON returns (answer_due_by) WHERE status = 'requested' AND answer_overdue_at IS NULL;
CREATE INDEX returns_refund_due ON returns (refund_due_by) WHERE status = 'received' AND refund_overdue_at IS NULL;

CREATE TABLE refunds (
    seller_id    text           NOT NULL,
    refund_id    text           NOT NULL,
    order_id     text           NOT NULL,
    amount       numeric(14, 2) NOT NULL CHECK (amount > 0),
    currency     char(3)        NOT NULL,
    reason       text           NOT NULL,
    initiated_by text           NOT NULL,
    issued_at    timestamptz    NOT NULL,
    return_id    text,
    claim_id     text,
    PRIMARY KEY (seller_id, refund_id)
);
CREATE INDEX refunds_by_order ON refunds (seller_id, order_id);

CREATE TABLE claims (
    seller_id             text           NOT NULL,
    claim_id              text           NOT NULL,
    order_id              text           NOT NULL,
    reason                text           NOT NULL,
    amount                numeric(14, 2) NOT NULL,
    currency              char(3)        NOT NULL,
    filed_at              timestamptz    NOT NULL,
    cancelled_by_seller   boolean        NOT NULL,
    status                text           NOT NULL,
    outcome               text,
    decided_at            timestamptz,
    decided_by            text,
    reversed_at           timestamptz,
    reversed_outcome      text,
    refunded_after_filing boolean        NOT NULL,
    PRIMARY KEY (seller_id, claim_id)
);
CREATE INDEX claims_by_order ON claims (seller_id, order_id);
CREATE INDEX claims_open ON claims (seller_id, filed_at) WHERE status = 'filed';

CREATE TABLE chargebacks (
    seller_id     text           NOT NULL,
    chargeback_id text           NOT NULL,
    order_id      text           NOT NULL,
    reason        text           NOT NULL,
    amount        numeric(14, 2) NOT NULL,
    currency      char(3)        NOT NULL,
    filed_at      timestamptz    NOT NULL,
    status        text           NOT NULL,
    outcome       text,
    decided_at    timestamptz,
    PRIMARY KEY (seller_id, chargeback_id)
);
CREATE INDEX chargebacks_open ON chargebacks (seller_id, filed_at) WHERE status = 'filed';

-- One feedback per order, even once removed.
CREATE TABLE feedback (
    seller_id   text        NOT NULL,
    feedback_id text        NOT NULL,
    order_id    text        NOT NULL,
    stars       smallint    NOT NULL CHECK (stars BETWEEN 1 AND 5),
    negative    boolean     NOT NULL,
    received_at timestamptz NOT NULL,
    status      text        NOT NULL,
    removed_at  timestamptz,
    PRIMARY KEY (seller_id, feedback_id),
    UNIQUE (seller_id, order_id)
);
CREATE INDEX feedback_to_follow_up ON feedback (seller_id, received_at) WHERE negative AND status = 'published';

-- Product reviews: per listing, never seller feedback.
CREATE TABLE reviews (
    seller_id  text        NOT NULL,
    review_id  text        NOT NULL,
    listing_id text        NOT NULL,
    order_id   text,
    stars      smallint    NOT NULL CHECK (stars BETWEEN 1 AND 5),
    posted_at  timestamptz NOT NULL,
    PRIMARY KEY (seller_id, review_id)
);
CREATE INDEX reviews_by_listing ON reviews (seller_id, listing_id);
