//! Who may see which conversation: the one authorisation check every
//! conversation-scoped request (metadata, envelopes, WebSocket
//! subscriptions) goes through.
//!
//! [`conversation_access`] loads a conversation for a [`Caller`] and
//! answers 404 `not_found` — exactly as for an id that does not exist —
//! when the caller may not see it, so an outsider learns nothing, not even
//! existence. The rules:
//!
//! * a visitor sees the conversations it created;
//! * a supervisor sees every conversation of the inboxes they belong to;
//! * an agent sees the conversations of their inboxes, only those assigned
//!   to them when the inbox has `assigned_only` set;
//! * admins and security officers see none (they are not inbox readers and
//!   never get transcripts).
//!
//! Non-goals: whether the caller may *act* (send, assign, close) — the
//! handlers decide that on top of visibility; identity — see `crate::auth`.

use crate::app::AppState;
use crate::auth::{Staff, StaffRole, Visitor};
use crate::error::{ApiError, ApiResult};
use axum::extract::FromRequestParts;
use axum::http::header;
use axum::http::request::Parts;
use confide_protocol::{ConversationId, DeviceId, InboxId};

/// An authenticated caller: a staff member or a visitor.
#[derive(Clone, Debug)]
pub enum Caller {
    /// A staff session (`Authorization: Bearer` or the console cookie).
    Staff(Staff),
    /// A visitor token (`Authorization: Visitor`).
    Visitor(Visitor),
}

impl FromRequestParts<AppState> for Caller {
    type Rejection = ApiError;

    /// `Authorization: Visitor …` makes a visitor; anything else is tried as staff.
    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, ApiError> {
        let is_visitor = parts
            .headers
            .get(header::AUTHORIZATION)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.split_once(' '))
            .is_some_and(|(scheme, _)| scheme.eq_ignore_ascii_case("Visitor"));
        if is_visitor {
            Visitor::from_request_parts(parts, state)
                .await
                .map(Caller::Visitor)
        } else {
            Staff::from_request_parts(parts, state)
                .await
                .map(Caller::Staff)
        }
    }
}

/// A conversation's lifecycle state.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ConversationState {
    /// Waiting for an agent.
    Open,
    /// An agent is assigned.
    Assigned,
    /// Closed (may be reopened).
    Closed,
}

impl ConversationState {
    /// Parses the database form.
    pub fn parse(s: &str) -> Option<Self> {
        match s {
            "open" => Some(Self::Open),
            "assigned" => Some(Self::Assigned),
            "closed" => Some(Self::Closed),
            _ => None,
        }
    }

    /// The database and API form.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Open => "open",
            Self::Assigned => "assigned",
            Self::Closed => "closed",
        }
    }
}

/// A conversation's stored metadata, with its visitor.
#[derive(Clone, Debug)]
pub struct ConversationRow {
    /// Conversation id (committed to the visitor's key, docs/protocol.md §7).
    pub id: ConversationId,
    /// Its inbox.
    pub inbox_id: InboxId,
    /// Lifecycle state.
    pub state: ConversationState,
    /// Assigned user, if any.
    pub assignee: Option<i64>,
    /// The descriptor as the visitor sent it (129 bytes, §7).
    pub descriptor: Vec<u8>,
    /// Highest envelope sequence number stored.
    pub last_seq: i64,
    /// Creation time (unix seconds).
    pub created_at: i64,
    /// Last change (unix seconds).
    pub updated_at: i64,
    /// The visitor's row id.
    pub visitor_id: i64,
    /// The visitor's device id (the only device that sends as the visitor).
    pub visitor_device: DeviceId,
    /// The visitor's 65-byte public identity (§4.1).
    pub visitor_identity: Vec<u8>,
    /// Whether the visitor is blocked (may read, may not send).
    pub visitor_blocked: bool,
    /// Whether the inbox restricts agents to assigned conversations.
    pub assigned_only: bool,
}

/// A conversation row as selected by [`SELECT_CONVERSATION`].
pub(crate) type RawRow = (
    Vec<u8>,
    Vec<u8>,
    String,
    Option<i64>,
    Vec<u8>,
    i64,
    i64,
    i64,
    i64,
    Vec<u8>,
    Vec<u8>,
    Option<i64>,
    i64,
);

/// The `SELECT … FROM` part shared by every conversation query; columns in
/// [`RawRow`] order. Callers append `WHERE …`.
pub(crate) const SELECT_CONVERSATION: &str = "SELECT c.id, c.inbox_id, c.state, c.assignee, \
     c.descriptor, c.last_seq, c.created_at, c.updated_at, v.id, v.device_id, v.identity, \
     v.blocked_at, i.assigned_only FROM conversation c JOIN visitor v ON v.id = c.visitor_id \
     JOIN inbox i ON i.id = c.inbox_id";

impl TryFrom<RawRow> for ConversationRow {
    type Error = ApiError;

    fn try_from(r: RawRow) -> ApiResult<Self> {
        let corrupt = |what: &str| ApiError::internal(format_args!("corrupt conversation {what}"));
        let (id, inbox, state, assignee, descriptor, last_seq, created_at, updated_at) =
            (r.0, r.1, r.2, r.3, r.4, r.5, r.6, r.7);
        let (visitor_id, device, identity, blocked_at, assigned_only) =
            (r.8, r.9, r.10, r.11, r.12);
        Ok(Self {
            id: ConversationId(id.try_into().map_err(|_| corrupt("id"))?),
            inbox_id: InboxId(inbox.try_into().map_err(|_| corrupt("inbox"))?),
            state: ConversationState::parse(&state).ok_or_else(|| corrupt("state"))?,
            assignee,
            descriptor,
            last_seq,
            created_at,
            updated_at,
            visitor_id,
            visitor_device: DeviceId(device.try_into().map_err(|_| corrupt("visitor device"))?),
            visitor_identity: identity,
            visitor_blocked: blocked_at.is_some(),
            assigned_only: assigned_only != 0,
        })
    }
}

/// Loads a conversation regardless of who asks (for internal use after a
/// check, or by code that has none to make). `None` if it does not exist.
pub async fn load_conversation(
    state: &AppState,
    id: ConversationId,
) -> ApiResult<Option<ConversationRow>> {
    let sql = format!("{SELECT_CONVERSATION} WHERE c.id = ?");
    let row: Option<RawRow> = sqlx::query_as(sqlx::AssertSqlSafe(sql))
        .bind(id.0.as_slice())
        .fetch_optional(&state.0.pool)
        .await?;
    row.map(ConversationRow::try_from).transpose()
}

/// Whether `staff` may see `row` (the rules of this module's doc).
pub fn staff_may_see(staff: &Staff, row: &ConversationRow) -> bool {
    if !staff.may_read_inbox(&row.inbox_id) {
        return false;
    }
    match staff.role {
        StaffRole::Supervisor => true,
        StaffRole::Agent => !row.assigned_only || row.assignee == Some(staff.user_id),
        StaffRole::Admin | StaffRole::SecurityOfficer => false,
    }
}

/// Whether `caller` may see `row`.
pub fn may_see(caller: &Caller, row: &ConversationRow) -> bool {
    match caller {
        Caller::Staff(staff) => staff_may_see(staff, row),
        Caller::Visitor(visitor) => row.visitor_id == visitor.visitor_id,
    }
}

/// The conversation `id` if `caller` may see it, else 404 `not_found`
/// (the same answer as for an id that does not exist).
pub async fn conversation_access(
    state: &AppState,
    caller: &Caller,
    id: ConversationId,
) -> ApiResult<ConversationRow> {
    match load_conversation(state, id).await? {
        Some(row) if may_see(caller, &row) => Ok(row),
        _ => Err(ApiError::not_found("conversation")),
    }
}

/// [`conversation_access`] through the short-lived [`crate::cache`]: for
/// the hot send path, which needs the conversation's state, inbox, visitor
/// and descriptor but not its `last_seq` (which a cached row may lag).
pub async fn conversation_access_cached(
    state: &AppState,
    caller: &Caller,
    id: ConversationId,
) -> ApiResult<ConversationRow> {
    let cache = &state.0.cache;
    let row = match cache.conversation(&id) {
        Some(row) => Some(row),
        None => {
            let epoch = cache.epoch();
            let row = load_conversation(state, id).await?;
            if let Some(row) = &row {
                cache.put_conversation(row.clone(), epoch);
            }
            row
        }
    };
    match row {
        Some(row) if may_see(caller, &row) => Ok(row),
        _ => Err(ApiError::not_found("conversation")),
    }
}
