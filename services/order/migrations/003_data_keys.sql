-- Crypto-shredding (domain.md section 8): each order's data key seals its buyer data on order.events;
-- erasure sets it to NULL, and every sealed copy on the topics becomes unreadable. Parcels lost or
-- returned to sender start the erasure clock too (lost_parcels: shipment id -> time of that scan).
ALTER TABLE orders
    ADD COLUMN data_key     bytea,
    ADD COLUMN lost_parcels jsonb NOT NULL DEFAULT '{}';

-- Orders placed before keys existed get one now (gen_random_uuid draws from a strong random source;
-- two of them give 244 random bits), so what they publish from here on is sealed too.
UPDATE orders
   SET data_key = decode(replace(gen_random_uuid()::text || gen_random_uuid()::text, '-', ''), 'hex')
 WHERE pii_erased_at IS NULL;
