-- The fulfillment service's schema (domain.md section 4). It never reads the order schema: `orders`
-- here is its own read model of confirmed orders, built from `order.events`.

-- Confirmed orders: what to ship, by when, and where (buyer personal data, erased on order.pii_erased).
CREATE TABLE orders (
    seller_id           text        NOT NULL,
    order_id            text        NOT NULL,
    channel             text        NOT NULL,
    purchased_at        timestamptz NOT NULL,
    confirmed_at        timestamptz NOT NULL,
    ship_by             timestamptz NOT NULL,
    deliver_by          timestamptz NOT NULL,
    lines               jsonb       NOT NULL,              -- [{listing_id, sku, quantity}]
    ship_to             jsonb,                             -- merchant-fulfilled only
    shipped             jsonb       NOT NULL DEFAULT '{}', -- sku -> units shipped
    shipments           integer     NOT NULL DEFAULT 0,
    cancelled_at        timestamptz,
    overdue_reported_at timestamptz,
    address_erased_at   timestamptz,
    -- Deadlines the clock-tick handler looks up by index; NULL once they no longer apply.
    ship_due_at         timestamptz,                       -- marketplace: when the warehouse ships it
    overdue_due_at      timestamptz,                       -- ship-by, while nothing shipped and not reported
    PRIMARY KEY (seller_id, order_id)
);
CREATE INDEX orders_ship_due ON orders (ship_due_at) WHERE ship_due_at IS NOT NULL;
CREATE INDEX orders_overdue_due ON orders (overdue_due_at) WHERE overdue_due_at IS NOT NULL;

CREATE TABLE shipments (
    seller_id        text        NOT NULL,
    shipment_id      text        NOT NULL,
    order_id         text        NOT NULL,
    carrier          text        NOT NULL,
    tracking_number  text        NOT NULL,                -- normalised: upper case, no spaces
    channel          text        NOT NULL,
    lines            jsonb       NOT NULL,                -- [{listing_id, sku, quantity}]
    purchased_at     timestamptz NOT NULL,
    confirmed_at     timestamptz NOT NULL,
    shipped_at       timestamptz NOT NULL,
    ship_by          timestamptz NOT NULL,
    deliver_by       timestamptz NOT NULL,
    tracking_status  text        NOT NULL,                -- pending, valid, invalid
    tracking_verdict text,
    tracking_reason  text,
    delivered_at     timestamptz,
    scan_deadline    timestamptz,                         -- while pending: no scan by then -> invalid
    PRIMARY KEY (seller_id, shipment_id)
);
-- Carrier scans match on seller + carrier + number: TBA numbers may collide across sellers.
CREATE INDEX shipments_by_tracking ON shipments (seller_id, carrier, tracking_number);
CREATE INDEX shipments_by_order ON shipments (seller_id, order_id);
CREATE INDEX shipments_scan_due ON shipments (scan_deadline) WHERE scan_deadline IS NOT NULL;

-- Every carrier scan applied; the same scan (status and time) twice is applied once.
CREATE TABLE scans (
    seller_id   text        NOT NULL,
    shipment_id text        NOT NULL,
    status      text        NOT NULL,
    scanned_at  timestamptz NOT NULL,
    location    text,
    PRIMARY KEY (seller_id, shipment_id, status, scanned_at)
);
