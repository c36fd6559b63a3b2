-- The business clock as this service has seen it: the latest `clock.ticked` (design.md section 5).
-- HTTP commands without an explicit business time use it; it only moves forward.
CREATE TABLE business_clock (
    singleton boolean PRIMARY KEY DEFAULT true CHECK (singleton),
    now       timestamptz NOT NULL
);
