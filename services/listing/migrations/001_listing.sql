-- The listing service's schema: sellers and their account status, listings and their stock,
-- reservations per order, appeals, and every enforcement decision received.

-- Secrets are not kept in clear: the tax id as a SHA-256 of its normalised form (enough for
-- "one account per tax id"), the bank account and document number masked as events carry them.
CREATE TABLE sellers (
    seller_id              text        PRIMARY KEY,
    legal_name             text        NOT NULL,
    country                text        NOT NULL,
    business_type          text        NOT NULL,
    contact_email          text        NOT NULL,
    tax_id_key             text        NOT NULL,
    tax_id_masked          text        NOT NULL,
    bank_account_masked    text        NOT NULL,
    document_type          text        NOT NULL,
    document_number_masked text        NOT NULL,
    document_expires_on    date        NOT NULL,
    status                 text        NOT NULL,
    reasons                jsonb       NOT NULL DEFAULT '[]',  -- [{code, message}]: rejection reasons or doubts
    registered_at          timestamptz NOT NULL,               -- business time
    updated_at             timestamptz NOT NULL
);
-- One account per tax id, also against two registrations at once; a rejected one holds none.
CREATE UNIQUE INDEX sellers_one_account_per_tax_id ON sellers (tax_id_key) WHERE status <> 'rejected';
CREATE INDEX sellers_by_status ON sellers (status, registered_at);

CREATE TABLE listings (
    listing_id          text          PRIMARY KEY,
    seller_id           text          NOT NULL REFERENCES sellers,
    sku                 text          NOT NULL,
    product_id          text          NOT NULL,
    product_key         text          NOT NULL,               -- the GTIN-14 form: one product, one key
    title               text          NOT NULL,
    brand               text          NOT NULL,
    description         text          NOT NULL,
    bullet_points       jsonb         NOT NULL,
    condition           text          NOT NULL,
    price               numeric(14, 2) NOT NULL,
    currency            char(3)       NOT NULL,
    handling_days       integer       NOT NULL,
    fulfillment_channel text          NOT NULL,
    image_urls          jsonb         NOT NULL,
    category            text,
    status              text          NOT NULL,
    paused              boolean       NOT NULL DEFAULT false,
    held                boolean       NOT NULL DEFAULT false,  -- deactivated by an enforcement
    suppressed_by       jsonb         NOT NULL DEFAULT '[]',   -- rule breaches of the last update
    on_hand             integer       NOT NULL,
    reserved            integer       NOT NULL DEFAULT 0,
    created_at          timestamptz   NOT NULL,
    updated_at          timestamptz   NOT NULL,
    -- Stock never negative, whatever the code does.
    CONSTRAINT listings_stock_never_negative CHECK (reserved >= 0 AND on_hand >= reserved),
    CONSTRAINT listings_one_sku_per_seller UNIQUE (seller_id, sku)
);
-- L8, also against two creations at once: one detail page per product and condition (a
-- suppressed listing does not count: the rules already hold it back).
CREATE UNIQUE INDEX listings_one_detail_page ON listings (seller_id, product_key, condition)
    WHERE status <> 'suppressed';
CREATE INDEX listings_by_seller ON listings (seller_id, status, listing_id);

-- One row per order: it is reserved (or refused) once, however often order.placed arrives.
CREATE TABLE reservations (
    seller_id      text        NOT NULL,
    order_id       text        NOT NULL,
    status         text        NOT NULL,              -- held, released, shipped, failed
    held           jsonb       NOT NULL DEFAULT '[]', -- [{listing_id, sku, quantity}]: units still held
    failure_reason text,
    detail         text,
    created_at     timestamptz NOT NULL,
    updated_at     timestamptz NOT NULL,
    PRIMARY KEY (seller_id, order_id)
);

-- Shipments whose units were consumed: a shipment.confirmed redelivered under a new id is skipped.
CREATE TABLE shipments_consumed (
    seller_id   text        NOT NULL,
    shipment_id text        NOT NULL,
    order_id    text        NOT NULL,
    consumed_at timestamptz NOT NULL,
    PRIMARY KEY (seller_id, shipment_id)
);

CREATE TABLE appeals (
    appeal_id              text        PRIMARY KEY,
    seller_id              text        NOT NULL REFERENCES sellers,
    root_cause             text        NOT NULL,
    actions                jsonb       NOT NULL,
    prevention             text        NOT NULL,
    violation_ids          jsonb       NOT NULL,
    enforcement_event_id   uuid,
    filed_at               timestamptz NOT NULL,
    accepted               boolean,
    operator_id            text,
    note                   text,
    resolved_violation_ids jsonb       NOT NULL DEFAULT '[]',
    decided_at             timestamptz
);
CREATE UNIQUE INDEX appeals_one_open_per_seller ON appeals (seller_id) WHERE decided_at IS NULL;
CREATE INDEX appeals_by_seller ON appeals (seller_id, filed_at);

-- Every seller.enforcement_decided received and what became of it: applied (the status changed),
-- unchanged (already in force), or ignored (the status table refuses it, e.g. reinstating an
-- account that is active): recorded, never dead-lettered, since no replay could apply it.
CREATE TABLE enforcements (
    event_id   uuid        PRIMARY KEY,
    seller_id  text        NOT NULL REFERENCES sellers,
    action     text        NOT NULL,
    outcome    text        NOT NULL,
    old_status text        NOT NULL,
    new_status text        NOT NULL,
    note       text,
    decided_at timestamptz NOT NULL
);
CREATE INDEX enforcements_by_seller ON enforcements (seller_id, decided_at);
