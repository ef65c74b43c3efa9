-- Identity tokens (docs/protocol.md §12).
--
-- Scheme 1 (agent-verified): the company backend's Ed25519 public keys.
-- They travel in every inbox's signed membership statement, so agents
-- verify tokens end to end; the server only publishes them.
CREATE TABLE token_key (
    org_id      BLOB NOT NULL REFERENCES organisation(id),
    key_id      TEXT NOT NULL,
    public_key  BLOB NOT NULL CHECK (length(public_key) = 32),
    created_at  INTEGER NOT NULL,
    PRIMARY KEY (org_id, key_id)
);

-- Scheme 2 (server-verified): shared HMAC secrets, sealed at rest with a
-- key derived from the managed root key (never stored in the clear).
CREATE TABLE hmac_secret (
    org_id      BLOB NOT NULL REFERENCES organisation(id),
    key_id      TEXT NOT NULL,
    sealed      BLOB NOT NULL,
    created_at  INTEGER NOT NULL,
    PRIMARY KEY (org_id, key_id)
);

-- What the server verified for a visitor in an inbox (scheme 2 only).
CREATE TABLE visitor_identity (
    visitor_id  INTEGER NOT NULL REFERENCES visitor(id),
    inbox_id    BLOB NOT NULL REFERENCES inbox(id),
    key_id      TEXT NOT NULL,
    subject     TEXT NOT NULL,
    name        TEXT NOT NULL,
    email       TEXT NOT NULL,
    verified_at INTEGER NOT NULL,
    PRIMARY KEY (visitor_id, inbox_id)
);

-- Token ids accepted by the server, kept until the token expires (§12.7).
CREATE TABLE used_token (
    token_id    BLOB PRIMARY KEY CHECK (length(token_id) = 16),
    expires_at  INTEGER NOT NULL
);
CREATE INDEX used_token_expiry ON used_token (expires_at);
