-- No unique key on purpose: if the inbox failed, a redelivered event would show up twice.
CREATE TABLE applied (event_id uuid NOT NULL, order_id text NOT NULL);
