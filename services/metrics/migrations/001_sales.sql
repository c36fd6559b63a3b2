-- One row per order placed: the facts metrics attribute by (order date, channel), and the guard
-- that counts an order once even if two different events announced it.
CREATE TABLE order_facts (
    seller_id           text        NOT NULL,
    order_id            text        NOT NULL,
    purchased_at        timestamptz NOT NULL,
    fulfillment_channel text        NOT NULL,
    currency            char(3)     NOT NULL,
    total               numeric(14, 2) NOT NULL,
    units               integer     NOT NULL,
    PRIMARY KEY (seller_id, order_id)
);

-- Per-seller daily buckets: a scorecard read is O(window days), not O(orders) (design.md section 11).
CREATE TABLE sales_daily (
    seller_id  text    NOT NULL,
    day        date    NOT NULL,
    currency   char(3) NOT NULL,
    orders     integer NOT NULL,
    units      integer NOT NULL,
    gross      numeric(16, 2) NOT NULL,
    PRIMARY KEY (seller_id, day, currency)
);
