-- Confide server schema, version 1.
-- The server stores ciphertext and metadata only: no column ever holds a
-- message body, an attachment plaintext, a content key or a generation
-- private key. Secrets of the server itself (the managed-mode root key and
-- server device key) live in key files in the data directory, not here.

CREATE TABLE organisation (
    id            BLOB PRIMARY KEY CHECK (length(id) = 16),
    name          TEXT NOT NULL,
    mode          TEXT NOT NULL CHECK (mode IN ('managed', 'strict')),
    root_key      BLOB NOT NULL CHECK (length(root_key) = 32),
    created_at    INTEGER NOT NULL
);

CREATE TABLE inbox (
    id            BLOB PRIMARY KEY CHECK (length(id) = 16),
    org_id        BLOB NOT NULL REFERENCES organisation(id),
    name          TEXT NOT NULL,
    -- agents see only conversations assigned to them when set
    assigned_only INTEGER NOT NULL DEFAULT 0 CHECK (assigned_only IN (0, 1)),
    created_at    INTEGER NOT NULL
);

CREATE TABLE user (
    id              INTEGER PRIMARY KEY,
    email           TEXT NOT NULL UNIQUE COLLATE NOCASE,
    display_name    TEXT NOT NULL,
    role            TEXT NOT NULL CHECK (role IN ('admin', 'supervisor', 'agent', 'security_officer')),
    password_hash   TEXT NOT NULL,            -- argon2id PHC string
    must_change_password INTEGER NOT NULL DEFAULT 0,
    totp_secret     BLOB,                     -- reserved for 2FA (later issue)
    disabled        INTEGER NOT NULL DEFAULT 0 CHECK (disabled IN (0, 1)),
    created_at      INTEGER NOT NULL
);

CREATE TABLE user_inbox (
    user_id   INTEGER NOT NULL REFERENCES user(id) ON DELETE CASCADE,
    inbox_id  BLOB NOT NULL REFERENCES inbox(id) ON DELETE CASCADE,
    PRIMARY KEY (user_id, inbox_id)
);

-- Session tokens are random; only their SHA-256 is stored.
CREATE TABLE session (
    token_hash  BLOB PRIMARY KEY CHECK (length(token_hash) = 32),
    user_id     INTEGER NOT NULL REFERENCES user(id) ON DELETE CASCADE,
    created_at  INTEGER NOT NULL,
    expires_at  INTEGER NOT NULL,
    last_seen   INTEGER NOT NULL
);
CREATE INDEX session_user ON session(user_id);

CREATE TABLE login_attempt (
    id          INTEGER PRIMARY KEY,
    email       TEXT NOT NULL COLLATE NOCASE,
    address     TEXT NOT NULL,
    at          INTEGER NOT NULL,
    success     INTEGER NOT NULL
);
CREATE INDEX login_attempt_email ON login_attempt(email, at);
CREATE INDEX login_attempt_address ON login_attempt(address, at);

-- Staff devices (agent consoles, scanners, CLI). `identity` is the 65-byte
-- PublicIdentity of docs/protocol.md §4.1; `device_id` its hash.
CREATE TABLE device (
    device_id   BLOB PRIMARY KEY CHECK (length(device_id) = 32),
    identity    BLOB NOT NULL CHECK (length(identity) = 65),
    user_id     INTEGER REFERENCES user(id) ON DELETE CASCADE,
    kind        TEXT NOT NULL CHECK (kind IN ('console', 'scanner', 'cli', 'server')),
    label       TEXT NOT NULL,
    created_at  INTEGER NOT NULL,
    revoked_at  INTEGER
);
CREATE INDEX device_user ON device(user_id);

-- Signed statements, exactly as signed (docs/protocol.md §5, §6).
CREATE TABLE membership_statement (
    inbox_id   BLOB NOT NULL REFERENCES inbox(id),
    seq        INTEGER NOT NULL,
    hash       BLOB NOT NULL CHECK (length(hash) = 32),
    bytes      BLOB NOT NULL,
    created_at INTEGER NOT NULL,
    PRIMARY KEY (inbox_id, seq)
);
CREATE TABLE generation_statement (
    inbox_id   BLOB NOT NULL REFERENCES inbox(id),
    generation INTEGER NOT NULL,
    hash       BLOB NOT NULL CHECK (length(hash) = 32),
    membership_seq INTEGER NOT NULL,
    bytes      BLOB NOT NULL,
    created_at INTEGER NOT NULL,
    PRIMARY KEY (inbox_id, generation)
);
CREATE TABLE root_rotation (
    org_id     BLOB NOT NULL REFERENCES organisation(id),
    epoch      INTEGER NOT NULL,
    bytes      BLOB NOT NULL,
    created_at INTEGER NOT NULL,
    PRIMARY KEY (org_id, epoch)
);

-- Anonymous visitors: a device key and a bearer token (hash stored).
CREATE TABLE visitor (
    id          INTEGER PRIMARY KEY,
    device_id   BLOB NOT NULL UNIQUE CHECK (length(device_id) = 32),
    identity    BLOB NOT NULL CHECK (length(identity) = 65),
    token_hash  BLOB NOT NULL UNIQUE CHECK (length(token_hash) = 32),
    address     TEXT NOT NULL,
    blocked_at  INTEGER,
    created_at  INTEGER NOT NULL
);

CREATE TABLE conversation (
    id           BLOB PRIMARY KEY CHECK (length(id) = 32),
    inbox_id     BLOB NOT NULL REFERENCES inbox(id),
    visitor_id   INTEGER NOT NULL REFERENCES visitor(id),
    descriptor   BLOB NOT NULL,                 -- docs/protocol.md §7
    state        TEXT NOT NULL CHECK (state IN ('open', 'assigned', 'closed')),
    assignee     INTEGER REFERENCES user(id),
    last_seq     INTEGER NOT NULL DEFAULT 0,
    server_verified_subject TEXT,               -- HMAC identity scheme only
    created_at   INTEGER NOT NULL,
    updated_at   INTEGER NOT NULL
);
CREATE INDEX conversation_inbox ON conversation(inbox_id, state, updated_at);
CREATE INDEX conversation_visitor ON conversation(visitor_id);

-- Envelopes: opaque ciphertext, ordered per conversation. The unique key
-- makes a retried send idempotent.
CREATE TABLE envelope (
    conversation_id BLOB NOT NULL REFERENCES conversation(id),
    seq             INTEGER NOT NULL,
    sender_device   BLOB NOT NULL CHECK (length(sender_device) = 32),
    instance        BLOB NOT NULL CHECK (length(instance) = 16),
    counter         INTEGER NOT NULL,
    hash            BLOB NOT NULL CHECK (length(hash) = 32),
    audience        INTEGER NOT NULL,
    bytes           BLOB NOT NULL,
    received_at     INTEGER NOT NULL,
    PRIMARY KEY (conversation_id, seq),
    UNIQUE (conversation_id, sender_device, instance, counter)
) WITHOUT ROWID;

CREATE TABLE read_marker (
    conversation_id BLOB NOT NULL REFERENCES conversation(id),
    reader          TEXT NOT NULL,   -- 'visitor' or 'user:<id>'
    seq             INTEGER NOT NULL,
    at              INTEGER NOT NULL,
    PRIMARY KEY (conversation_id, reader)
);
