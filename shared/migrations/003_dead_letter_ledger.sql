-- A relay no row can block, and the dead-letter ledger (design.md section 6).

-- An outbox row the broker refuses for good (too large, an invalid topic) is set aside with its
-- reason instead of being retried for ever; the relay goes on with the rest.
ALTER TABLE outbox ADD COLUMN set_aside_at timestamptz, ADD COLUMN set_aside_reason text;
DROP INDEX outbox_unsent;
CREATE INDEX outbox_unsent ON outbox (bucket, id) WHERE sent_at IS NULL AND set_aside_at IS NULL;
CREATE INDEX outbox_set_aside ON outbox (set_aside_at) WHERE set_aside_at IS NOT NULL;

-- Every message this service dead-lettered: its original, kept whole even when the `.dlq` record
-- can only carry a preview, and where it stands: outstanding, replayed or resolved.
CREATE TABLE dead_letters (
    id              bigserial   PRIMARY KEY,
    letter_id       uuid        NOT NULL UNIQUE,  -- the record's place (group/topic/partition/offset)
    topic           text        NOT NULL,         -- logical topic it was consumed from
    kafka_partition integer     NOT NULL,
    kafka_offset    bigint      NOT NULL,
    group_id        text        NOT NULL,
    key             bytea,
    value           bytea       NOT NULL,         -- the original bytes, unchanged
    headers         jsonb       NOT NULL DEFAULT '{}',
    reason          text        NOT NULL,
    error_type      text        NOT NULL,
    truncated       boolean     NOT NULL,         -- the `.dlq` record carries a preview and `dlq.ref`
    status          text        NOT NULL DEFAULT 'outstanding'
                                CHECK (status IN ('outstanding', 'replayed', 'resolved')),
    created_at      timestamptz NOT NULL DEFAULT now(),
    handled_at      timestamptz,                  -- when it was replayed or resolved
    handled_by      text,
    note            text
);
CREATE INDEX dead_letters_outstanding ON dead_letters (id) WHERE status = 'outstanding';
CREATE INDEX dead_letters_created ON dead_letters (created_at);
