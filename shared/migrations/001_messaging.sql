-- The outbox and the inbox every service keeps in its own schema (design.md section 6).

-- Events (and dead letters) staged in the same transaction as the state change that caused them.
CREATE TABLE outbox (
    id          bigserial PRIMARY KEY,
    topic       text        NOT NULL,             -- logical topic name; the relay adds the prefix
    key         text        NOT NULL,             -- seller id: the Kafka message key ('' for none)
    bucket      smallint    NOT NULL,             -- crc32(key) % 64: the unit a relay replica owns
    event_id    uuid,
    event_type  text,
    value       bytea       NOT NULL,
    headers     jsonb       NOT NULL DEFAULT '{}',
    created_at  timestamptz NOT NULL DEFAULT now(),
    sent_at     timestamptz
);
CREATE INDEX outbox_unsent ON outbox (bucket, id) WHERE sent_at IS NULL;
CREATE INDEX outbox_sent ON outbox (sent_at) WHERE sent_at IS NOT NULL;

-- Wake the relay as soon as a transaction that staged rows commits (NOTIFY is delivered on commit).
CREATE FUNCTION outbox_notify() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    PERFORM pg_notify(TG_TABLE_SCHEMA || '_outbox', '');
    RETURN NULL;
END $$;
CREATE TRIGGER outbox_notify AFTER INSERT ON outbox FOR EACH STATEMENT EXECUTE FUNCTION outbox_notify();

-- Every event id applied, written in the same transaction as its effect: a redelivery is skipped.
CREATE TABLE inbox (
    event_id    uuid        PRIMARY KEY,
    topic       text        NOT NULL,
    applied_at  timestamptz NOT NULL DEFAULT now()
);
