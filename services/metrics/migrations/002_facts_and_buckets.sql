-- Seller performance from per-item facts (domain.md sections 6 and 7). Replaces the first slice's
-- order_facts and sales_daily: everything they held is rebuilt from the topics by
-- `sellerflow metrics rebuild`.
DROP TABLE IF EXISTS order_facts;
DROP TABLE IF EXISTS sales_daily;

-- The moment the fold last evaluated up to: items past a deadline, and the windows moved when it turns a day.
-- Its own row, not the service's business_clock, which the consumer advances before a batch is applied.
CREATE TABLE fold_clock (
    singleton boolean PRIMARY KEY DEFAULT true CHECK (singleton),
    now       timestamptz NOT NULL
);

-- One row per item: an order (with its shipments, feedback, claims, chargebacks and returns), a buyer
-- message, or a product review. `facts` is the fold of every event about it (services/metrics/domain/facts.py);
-- `applied` is what it adds to `buckets` now, so a changed item replaces its rows exactly;
-- `next_at` is the next deadline it waits for (a delivery promise, a reply or return deadline).
CREATE TABLE items (
    seller_id  text        NOT NULL,
    kind       text        NOT NULL CHECK (kind IN ('order', 'message', 'review')),
    item_id    text        NOT NULL,
    anchor_day date        NOT NULL,  -- order date, message received date, review posted date
    facts      jsonb       NOT NULL,
    applied    jsonb       NOT NULL,  -- [[bucket key, attribution day, effective day, numerator, denominator], ...]
    next_at    timestamptz,
    PRIMARY KEY (seller_id, kind, item_id)
);
CREATE INDEX items_due ON items (next_at) WHERE next_at IS NOT NULL;
CREATE INDEX items_by_day ON items (seller_id, kind, anchor_day);

-- Per-seller daily buckets (design.md section 11): a window at day D sums the rows attributed inside
-- it and effective by D, so a scorecard read is O(window days), for today or any past day.
CREATE TABLE buckets (
    seller_id text   NOT NULL,
    metric    text   NOT NULL,  -- bucket key: odr.merchant, cancel, late_shipment, ..., sales:USD
    attr_day  date   NOT NULL,  -- the attribution date that places an item in a window
    eff_day   date   NOT NULL,  -- the day the change became true
    num       bigint NOT NULL,
    den       bigint NOT NULL,
    PRIMARY KEY (seller_id, metric, attr_day, eff_day)
);
CREATE INDEX buckets_by_day ON buckets (attr_day);

-- Policy violations (listing, review, messaging) and resolutions by accepted appeals. A resolution may
-- arrive before its violation, and may name a performance violation (`late_shipment_rate:2026-03-02`):
-- then `category` is null.
CREATE TABLE violations (
    seller_id    text NOT NULL,
    violation_id text NOT NULL,
    category     text,
    severity     text,
    rules        text[],
    detected_at  timestamptz,
    description  text,
    resolved_at  timestamptz,
    resolved_by  text,
    PRIMARY KEY (seller_id, violation_id)
);

-- Breach episodes of a seller's metric category from the day-end history, up to yesterday: what the
-- rating needs to date a performance violation and find the one it repeats. A day-end value changes
-- only when a row effective that day or earlier changes, so a batch that writes such a row deletes it.
CREATE TABLE breach_history (
    seller_id text  NOT NULL,
    category  text  NOT NULL,
    through   date  NOT NULL,
    episodes  jsonb NOT NULL,  -- [[opened_on, closed_on or null], ...]
    PRIMARY KEY (seller_id, category)
);

-- Sellers whose windows moved when the day turned, waiting for their refresh: drained a bounded number per
-- batch, so a day turn on a large marketplace never makes one long transaction.
CREATE TABLE stale_sellers (
    seller_id text PRIMARY KEY
);

-- Each seller's standing: what was last published, and what enforcement remembers between scorecards.
CREATE TABLE sellers (
    seller_id          text        PRIMARY KEY,
    rating             integer     NOT NULL DEFAULT 200,
    band               text        NOT NULL DEFAULT 'healthy',
    breaches           text[]      NOT NULL DEFAULT '{}',
    scorecard_digest   text,
    computed_at        timestamptz,
    level              smallint    NOT NULL DEFAULT 0,  -- 0 none, 1 warned, 2 restricted, 3 suspended
    decided_at         timestamptz,
    appeal_accepted_at timestamptz,
    account_status     text
);
CREATE INDEX sellers_at_risk ON sellers (rating) WHERE band <> 'healthy';
