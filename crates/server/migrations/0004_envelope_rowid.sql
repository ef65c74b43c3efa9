-- Envelopes move from a WITHOUT ROWID table keyed by (conversation, seq)
-- to an ordinary rowid table. Envelopes are large rows (hundreds of bytes
-- to 64 KiB); in a WITHOUT ROWID table they sit inside the primary-key
-- B-tree, so appends spread over many conversations rewrote pages all over
-- it. With a rowid they are appended in arrival order, and the two small
-- unique indexes carry the lookups (catch-up by seq, idempotency key).
CREATE TABLE envelope_by_arrival (
    id              INTEGER PRIMARY KEY,
    conversation_id BLOB NOT NULL REFERENCES conversation(id),
    seq             INTEGER NOT NULL,
    sender_device   BLOB NOT NULL CHECK (length(sender_device) = 32),
    instance        BLOB NOT NULL CHECK (length(instance) = 16),
    counter         INTEGER NOT NULL,
    hash            BLOB NOT NULL CHECK (length(hash) = 32),
    audience        INTEGER NOT NULL,
    bytes           BLOB NOT NULL,
    received_at     INTEGER NOT NULL,
    UNIQUE (conversation_id, seq),
    UNIQUE (conversation_id, sender_device, instance, counter)
);

INSERT INTO envelope_by_arrival
    (conversation_id, seq, sender_device, instance, counter, hash, audience, bytes, received_at)
SELECT conversation_id, seq, sender_device, instance, counter, hash, audience, bytes, received_at
FROM envelope ORDER BY received_at, conversation_id, seq;

DROP TABLE envelope;
ALTER TABLE envelope_by_arrival RENAME TO envelope;
