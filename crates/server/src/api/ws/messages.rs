//! The JSON messages of `/api/v1/ws` and how events become messages.
//!
//! Non-goals: the connection itself (`super`).

use crate::delivery::StoredEnvelope;
use crate::delivery::fanout::Who;
use base64::Engine;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

/// How a first-message `auth` token is presented.
#[derive(Clone, Copy, Debug, Default, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum AuthScheme {
    /// A visitor token (`Authorization: Visitor`).
    #[default]
    Visitor,
    /// A staff session token (`Authorization: Bearer`).
    Bearer,
}

/// A message from the client.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum ClientMessage {
    /// First message of a connection opened without credentials.
    Auth {
        /// The token.
        token: String,
        /// Its kind (default `visitor`).
        #[serde(default)]
        scheme: AuthScheme,
    },
    /// Follow a conversation: stored envelopes after `after`, then live ones.
    Subscribe {
        /// Conversation id (hex).
        conversation: String,
        /// The last seq the client has (default 0).
        #[serde(default)]
        after: i64,
    },
    /// Stop following a conversation.
    Unsubscribe {
        /// Conversation id (hex).
        conversation: String,
    },
    /// The client is typing (a followed conversation).
    Typing {
        /// Conversation id (hex).
        conversation: String,
    },
    /// The client has read up to `seq` (a followed conversation).
    Read {
        /// Conversation id (hex).
        conversation: String,
        /// The highest seq read.
        seq: i64,
    },
    /// Stores an envelope, exactly like `POST …/envelopes` (same checks,
    /// same idempotency, answered only after the commit) without an HTTP
    /// request per message. Answered by `sent` or `send_failed` with the
    /// same `ref`; several may be in flight and may be answered out of order.
    Send {
        /// The client's number for this send, echoed in the answer.
        #[serde(rename = "ref")]
        reference: u64,
        /// Conversation id (hex).
        conversation: String,
        /// The envelope (standard base64).
        envelope: String,
        /// Staff only: the signing device (hex), as `X-Confide-Device`.
        #[serde(default)]
        device: Option<String>,
    },
}

/// A message from the server.
#[derive(Debug, Serialize, ToSchema)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum ServerMessage {
    /// Authenticated; `role` is `visitor` or `staff`.
    Ready {
        /// `visitor` or `staff`.
        role: &'static str,
    },
    /// The stored backlog up to `seq` has been sent; live envelopes follow.
    Subscribed {
        /// Conversation id (hex).
        conversation: String,
        /// The last seq sent.
        seq: i64,
    },
    /// No longer following the conversation.
    Unsubscribed {
        /// Conversation id (hex).
        conversation: String,
    },
    /// A stored envelope.
    Envelope {
        /// Conversation id (hex).
        conversation: String,
        /// Its seq.
        seq: i64,
        /// The envelope (standard base64).
        envelope: String,
        /// When the server stored it (unix seconds).
        received_at: i64,
    },
    /// Someone is typing.
    Typing {
        /// Conversation id (hex).
        conversation: String,
        /// `visitor`, `agent` (to visitors) or `user:<id>` (to staff).
        who: String,
    },
    /// Someone read up to `seq`.
    Read {
        /// Conversation id (hex).
        conversation: String,
        /// As for `typing`.
        who: String,
        /// The highest seq read.
        seq: i64,
    },
    /// A request failed; the connection stays open.
    Error {
        /// Stable code, as in REST errors (`not_found`, `invalid_message`, …).
        code: &'static str,
        /// For humans.
        message: String,
        /// The conversation concerned, if any.
        conversation: Option<String>,
    },
    /// A `send` was durably stored (or had been: `duplicate`).
    Sent {
        /// The client's `ref`.
        #[serde(rename = "ref")]
        reference: u64,
        /// Conversation id (hex).
        conversation: String,
        /// Its seq.
        seq: i64,
        /// The envelope hash (hex).
        hash: String,
        /// Whether these bytes were stored before (a retry).
        duplicate: bool,
    },
    /// A `send` was refused; `status` is what the REST call would answer.
    SendFailed {
        /// The client's `ref`.
        #[serde(rename = "ref")]
        reference: u64,
        /// Conversation id (hex).
        conversation: String,
        /// The HTTP status the REST call would have had.
        status: u16,
        /// Machine-readable code (as in REST errors).
        code: &'static str,
        /// Human-readable message.
        message: String,
    },
}

/// How `w` is named to a staff (`to_staff`) or visitor connection.
pub(super) fn who(w: Who, to_staff: bool) -> String {
    match w {
        Who::Visitor => "visitor".into(),
        Who::User(id) if to_staff => format!("user:{id}"),
        Who::User(_) => "agent".into(),
    }
}

/// The `envelope` message of a stored envelope.
pub(super) fn envelope_message(e: &StoredEnvelope) -> ServerMessage {
    ServerMessage::Envelope {
        conversation: e.conversation.to_hex(),
        seq: e.seq,
        envelope: base64::engine::general_purpose::STANDARD.encode(&e.bytes),
        received_at: e.received_at,
    }
}

/// An `error` message.
pub(super) fn error(
    code: &'static str,
    message: impl Into<String>,
    conversation: Option<&str>,
) -> ServerMessage {
    ServerMessage::Error {
        code,
        message: message.into(),
        conversation: conversation.map(str::to_owned),
    }
}

/// The error for typing or read in a conversation not subscribed to.
pub(super) fn not_followed(hex: &str) -> ServerMessage {
    error(
        "not_subscribed",
        "subscribe to the conversation first",
        Some(hex),
    )
}
