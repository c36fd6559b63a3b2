-- Orders as the order service owns them. Buyer personal data (ship_to) lives only here and in
-- fulfillment, and is erased 30 days after delivery or cancellation (domain.md section 8).
CREATE TABLE orders (
    seller_id           text        NOT NULL,
    order_id            text        NOT NULL,
    buyer_id            text        NOT NULL,
    status              text        NOT NULL,
    currency            char(3)     NOT NULL,
    total               numeric(14, 2) NOT NULL,
    purchased_at        timestamptz NOT NULL,
    shipping_speed      text        NOT NULL,
    fulfillment_channel text        NOT NULL,
    lines               jsonb       NOT NULL,
    ship_to             jsonb,
    ship_to_country     char(2)     NOT NULL,
    ship_by             timestamptz,
    deliver_by          timestamptz,
    updated_at          timestamptz NOT NULL,   -- business time of the last change
    PRIMARY KEY (seller_id, order_id)
);
CREATE INDEX orders_by_status ON orders (seller_id, status, ship_by, order_id);
