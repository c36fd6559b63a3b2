-- The sellers this service knows: a read model of seller.registered (design.md section 3). A buyer's
-- message, return, feedback, review, claim or chargeback for any other seller is refused.
CREATE TABLE known_sellers (
    seller_id     text        PRIMARY KEY,
    registered_at timestamptz NOT NULL
);
