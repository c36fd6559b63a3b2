-- The order life cycle (domain.md section 3): shipments, cancellations, rejections, deadlines and
-- the erasure of buyer personal data (section 8).
ALTER TABLE orders
    ADD COLUMN shipped                     jsonb       NOT NULL DEFAULT '{}',  -- sku -> units shipped
    ADD COLUMN shipments                   jsonb       NOT NULL DEFAULT '{}',  -- shipment id -> delivered at
    ADD COLUMN last_shipped_at             timestamptz,
    ADD COLUMN cancellation_requested_at   timestamptz,                        -- a buyer's open request
    ADD COLUMN cancellation_request_reason text,
    ADD COLUMN cancelled_by                text,
    ADD COLUMN cancel_reason               text,
    ADD COLUMN rejection_reason            text,
    ADD COLUMN rejection_detail            text,
    ADD COLUMN delivered_at                timestamptz,
    ADD COLUMN closed_at                   timestamptz,                        -- delivered, cancelled or rejected
    ADD COLUMN pii_erased_at               timestamptz,
    -- Deadlines the clock-tick handler looks up by index; NULL once they no longer apply.
    ADD COLUMN auto_cancel_at              timestamptz,                        -- unshipped merchant orders
    ADD COLUMN erase_at                    timestamptz;                        -- closed, not yet erased

-- A malformed order is stored (rejected) whatever its total, even one too large for the wire.
ALTER TABLE orders ALTER COLUMN total TYPE numeric;

CREATE INDEX orders_auto_cancel_due ON orders (auto_cancel_at) WHERE auto_cancel_at IS NOT NULL;
CREATE INDEX orders_erasure_due ON orders (erase_at) WHERE erase_at IS NOT NULL;
