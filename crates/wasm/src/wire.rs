//! The JSON the facade reads from the server's answers and hands to the
//! page. Server JSON is parsed here, at the edge, into typed values.
//!
//! Non-goals: the REST API itself (`crates/server`'s OpenAPI document).

use serde::{Deserialize, Serialize};

/// `GET /api/v1/inboxes/{id}/chain`: hex of each signed statement.
#[derive(Deserialize)]
pub(crate) struct ChainResponse {
    #[serde(default)]
    pub(crate) rotations: Vec<String>,
    pub(crate) memberships: Vec<String>,
    #[serde(default)]
    pub(crate) generations: Vec<String>,
}

/// What [`crate::Device::sync`] reports about the verified head.
#[derive(Serialize)]
pub(crate) struct SyncSummary {
    pub(crate) inbox: String,
    pub(crate) membership_seq: u64,
    /// The head generation, if any (none: nobody can read messages yet).
    pub(crate) generation: Option<u64>,
    /// Whether a message can be sealed now (a generation serves the head).
    pub(crate) can_send: bool,
    /// The signed DLP policy (canonical JSON), `""` for the default.
    pub(crate) policy: String,
    /// Purposes of the required recipients (`records`, …).
    pub(crate) required: Vec<String>,
    /// Whether this device is a reader member of the head membership.
    pub(crate) member: bool,
    /// Generations whose key this device holds.
    pub(crate) readable_generations: Vec<u64>,
}

/// A conversation as the page needs it.
#[derive(Serialize)]
pub(crate) struct ConversationInfo {
    pub(crate) id: String,
    pub(crate) inbox: String,
    pub(crate) visitor_device: String,
    /// This device is the conversation's visitor.
    pub(crate) mine: bool,
}

/// A conversation just started, for `POST /api/v1/conversations`.
#[derive(Serialize)]
pub(crate) struct Started {
    pub(crate) id: String,
    pub(crate) inbox: String,
    pub(crate) descriptor: String,
}

/// The verified sender of a message.
#[derive(Serialize)]
pub(crate) struct SenderView {
    pub(crate) device: String,
    /// `visitor` or `member`.
    pub(crate) kind: &'static str,
    /// The member's role (`agent`, `supervisor`, `admin`, `scanner`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(crate) role: Option<&'static str>,
    /// What visitors see for the member.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(crate) alias: Option<String>,
    /// Whether the sender may still send.
    pub(crate) current: bool,
    /// This device sent it.
    pub(crate) me: bool,
}

/// An identity token check (agents only).
#[derive(Serialize)]
pub(crate) struct IdentityView {
    /// `verified` or `invalid`.
    pub(crate) status: &'static str,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(crate) code: Option<&'static str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(crate) subject: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(crate) name: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(crate) email: Option<String>,
}

/// An opened message.
#[derive(Serialize)]
pub(crate) struct MessageView {
    pub(crate) sender: SenderView,
    pub(crate) internal: bool,
    pub(crate) instance: String,
    pub(crate) counter: u64,
    pub(crate) hash: String,
    pub(crate) reply_to: Option<String>,
    pub(crate) text: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(crate) identity: Option<IdentityView>,
}
