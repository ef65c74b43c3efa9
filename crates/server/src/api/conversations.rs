//! `/api/v1/conversations`: conversation metadata and lifecycle.
//!
//! A visitor creates a conversation with the id its device chose; the
//! server checks with the descriptor (docs/protocol.md §7) that the id
//! commits to *this* visitor's device, to this organisation and to an
//! existing inbox, so nobody can open a conversation in another visitor's
//! name. Staff list and read metadata of the conversations they may see
//! (`crate::access`), and move them through the states
//!
//! ```text
//! open ──assign──▶ assigned ──transfer──▶ assigned
//!   │                 │
//!   └──close──▶ closed ◀──close──┘      closed ──reopen──▶ open | assigned
//! ```
//!
//! Any other transition is 409 `invalid_state`. Conversations a caller may
//! not see answer 404 `not_found`, like ids that do not exist.
//!
//! Non-goals: envelopes, read markers and typing (the delivery area); the
//! server never sees message content, only this metadata.

use crate::access::{
    Caller, ConversationRow, ConversationState, RawRow, SELECT_CONVERSATION, conversation_access,
    load_conversation,
};
use crate::api::identity::ServerVerified;
use crate::app::AppState;
use crate::auth::{Staff, StaffRole, Visitor};
use crate::db;
use crate::error::{ApiError, ApiResult, ErrorBody};
use crate::extract::{AppJson, AppPath, AppQuery};
use axum::extract::State;
use axum::http::StatusCode;
use axum::routing::{get, post};
use axum::{Json, Router};
use confide_protocol::conversation::Conversation;
use confide_protocol::{ConversationId, InboxId};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, OpenApi, ToSchema};

#[derive(OpenApi)]
#[openapi(
    paths(
        create_conversation,
        list_conversations,
        get_conversation,
        assign,
        transfer,
        close,
        reopen
    ),
    components(schemas(
        CreateConversation,
        ConversationView,
        ConversationVisitor,
        ConversationList,
        AssignTo
    )),
    modifiers(&SecuritySchemes)
)]
struct Doc;

/// Declares the two credentials the `security(...)` clauses of the API name:
/// `bearer` (a staff session token; the console sends it as a cookie) and
/// `visitor` (`Authorization: Visitor <token>`).
struct SecuritySchemes;

impl utoipa::Modify for SecuritySchemes {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        use utoipa::openapi::security::{
            ApiKey, ApiKeyValue, HttpAuthScheme, HttpBuilder, SecurityScheme,
        };
        let components = openapi.components.get_or_insert_with(Default::default);
        components.add_security_scheme(
            "bearer",
            SecurityScheme::Http(
                HttpBuilder::new()
                    .scheme(HttpAuthScheme::Bearer)
                    .description(Some(
                        "Staff session token (`Authorization: Bearer <token>`)",
                    ))
                    .build(),
            ),
        );
        components.add_security_scheme(
            "visitor",
            SecurityScheme::ApiKey(ApiKey::Header(ApiKeyValue::with_description(
                "Authorization",
                "Visitor token: `Authorization: Visitor <token>`",
            ))),
        );
    }
}

/// This area's routes.
pub fn routes() -> Router<AppState> {
    Router::new()
        .route(
            "/api/v1/conversations",
            get(list_conversations).post(create_conversation),
        )
        .route("/api/v1/conversations/{id}", get(get_conversation))
        .route("/api/v1/conversations/{id}/assign", post(assign))
        .route("/api/v1/conversations/{id}/transfer", post(transfer))
        .route("/api/v1/conversations/{id}/close", post(close))
        .route("/api/v1/conversations/{id}/reopen", post(reopen))
}

/// This area's OpenAPI paths and schemas.
pub fn document() -> utoipa::openapi::OpenApi {
    Doc::openapi()
}

/// Conversations one visitor may start per [`CONVERSATION_WINDOW_SECS`].
pub const CONVERSATIONS_PER_VISITOR: i64 = 30;
/// The conversation-creation rate-limit window, in seconds.
pub const CONVERSATION_WINDOW_SECS: i64 = 60 * 60;
/// Most conversations one list request returns.
pub const MAX_LIST: u32 = 200;

/// `POST /api/v1/conversations` body.
#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CreateConversation {
    /// Inbox id (hex, 16 bytes).
    pub inbox_id: String,
    /// Conversation id (hex, 32 bytes) chosen by the visitor's device (§7).
    pub conversation_id: String,
    /// Conversation descriptor (hex, 129 bytes, §7).
    pub descriptor: String,
}

/// The visitor of a conversation.
#[derive(Serialize, ToSchema)]
pub struct ConversationVisitor {
    /// Visitor id.
    pub id: i64,
    /// Visitor device id (hex).
    pub device_id: String,
    /// Visitor public identity (hex, 65 bytes).
    pub identity: String,
    /// Whether the visitor is blocked.
    pub blocked: bool,
}

/// A conversation's metadata.
#[derive(Serialize, ToSchema)]
pub struct ConversationView {
    /// Conversation id (hex).
    pub id: String,
    /// Inbox id (hex).
    pub inbox_id: String,
    /// `open`, `assigned` or `closed`.
    pub state: String,
    /// Assigned user id (staff only; always null for visitors).
    pub assignee: Option<i64>,
    /// The visitor.
    pub visitor: ConversationVisitor,
    /// What the server verified about the visitor in this inbox from an
    /// HMAC identity token (§12.6), if any; label it "server-verified".
    pub server_verified: Option<ServerVerified>,
    /// Descriptor (hex); clients verify it against the id before use (§7).
    pub descriptor: String,
    /// Highest envelope sequence number.
    pub last_seq: i64,
    /// Creation time (unix seconds).
    pub created_at: i64,
    /// Last change (unix seconds).
    pub updated_at: i64,
}

impl ConversationView {
    async fn of(state: &AppState, row: ConversationRow, caller_is_staff: bool) -> ApiResult<Self> {
        let server_verified =
            crate::api::identity::server_verified(&state.0.pool, row.visitor_id, row.inbox_id)
                .await?;
        Ok(Self {
            id: row.id.to_hex(),
            inbox_id: row.inbox_id.to_hex(),
            state: row.state.as_str().into(),
            assignee: row.assignee.filter(|_| caller_is_staff),
            visitor: ConversationVisitor {
                id: row.visitor_id,
                device_id: row.visitor_device.to_hex(),
                identity: hex::encode(&row.visitor_identity),
                blocked: row.visitor_blocked,
            },
            descriptor: hex::encode(&row.descriptor),
            last_seq: row.last_seq,
            created_at: row.created_at,
            updated_at: row.updated_at,
            server_verified,
        })
    }
}

/// `GET /api/v1/conversations` body.
#[derive(Serialize, ToSchema)]
pub struct ConversationList {
    /// Most recently updated first.
    pub conversations: Vec<ConversationView>,
}

/// `assign` and `transfer` body.
#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct AssignTo {
    /// The user to assign; must be an agent or supervisor of the inbox.
    pub user_id: i64,
}

/// `GET /api/v1/conversations` query.
#[derive(Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct ListQuery {
    /// Only this inbox (hex); 404 if the caller does not read it.
    pub inbox: Option<String>,
    /// Only this state: `open`, `assigned` or `closed`.
    pub state: Option<String>,
    /// `me`, `none`, or a user id.
    pub assigned_to: Option<String>,
    /// At most this many (default 50, at most 200).
    pub limit: Option<u32>,
    /// Skip this many.
    pub offset: Option<u32>,
}

fn unprocessable(code: &'static str, message: impl Into<String>) -> ApiError {
    ApiError::new(StatusCode::UNPROCESSABLE_ENTITY, code, message)
}

fn parse_id(id: &str) -> ApiResult<ConversationId> {
    ConversationId::from_hex(id).ok_or_else(|| ApiError::not_found("conversation"))
}

/// Starts a conversation (visitor). The id must commit to the caller's
/// device (§7); re-creating one's own conversation is a no-op answering 200.
#[utoipa::path(
    post, path = "/api/v1/conversations", tag = "conversations",
    request_body = CreateConversation,
    responses(
        (status = 201, description = "Created", body = ConversationView),
        (status = 200, description = "Already created by this visitor", body = ConversationView),
        (status = 401, body = ErrorBody),
        (status = 403, description = "`forbidden`: the visitor is blocked", body = ErrorBody),
        (status = 404, description = "No such inbox", body = ErrorBody),
        (status = 409, description = "`conversation_exists`: the id belongs to another visitor", body = ErrorBody),
        (status = 422, description = "`conversation_id_mismatch`, `wrong_scope`, `invalid_hex` or a descriptor decoding code", body = ErrorBody),
        (status = 429, description = "`rate_limited`", body = ErrorBody),
    ),
    security(("visitor" = []))
)]
async fn create_conversation(
    State(state): State<AppState>,
    visitor: Visitor,
    AppJson(req): AppJson<CreateConversation>,
) -> ApiResult<(StatusCode, Json<ConversationView>)> {
    if visitor.blocked {
        return Err(ApiError::forbidden("this visitor is blocked"));
    }
    let inbox = InboxId::from_hex(&req.inbox_id)
        .ok_or_else(|| unprocessable("invalid_hex", "inbox_id must be 32 hex digits"))?;
    let id = ConversationId::from_hex(&req.conversation_id)
        .ok_or_else(|| unprocessable("invalid_hex", "conversation_id must be 64 hex digits"))?;
    let descriptor = hex::decode(&req.descriptor)
        .map_err(|_| unprocessable("invalid_hex", "descriptor must be hex"))?;
    let conversation = Conversation::decode_descriptor(&descriptor, id)?;
    if conversation.visitor_device().0 != visitor.device_id {
        return Err(unprocessable(
            "conversation_id_mismatch",
            "conversation id does not commit to the calling visitor's device",
        ));
    }
    let org = state.0.org.id;
    if conversation.org() != org || conversation.inbox() != inbox {
        return Err(unprocessable(
            "wrong_scope",
            "descriptor names another organisation or inbox",
        ));
    }
    let exists: Option<(i64,)> = sqlx::query_as("SELECT 1 FROM inbox WHERE id = ? AND org_id = ?")
        .bind(inbox.0.as_slice())
        .bind(org.0.as_slice())
        .fetch_optional(&state.0.pool)
        .await?;
    if exists.is_none() {
        return Err(ApiError::not_found("inbox"));
    }

    if let Some(row) = load_conversation(&state, id).await? {
        return existing(&state, row, &visitor).await;
    }
    let now = db::now();
    let inserted = sqlx::query(
        "INSERT INTO conversation (id, inbox_id, visitor_id, descriptor, state, created_at, updated_at) \
         SELECT ?, ?, ?, ?, 'open', ?, ? \
         WHERE (SELECT count(*) FROM conversation WHERE visitor_id = ? AND created_at > ?) < ? \
         ON CONFLICT (id) DO NOTHING",
    )
    .bind(id.0.as_slice())
    .bind(inbox.0.as_slice())
    .bind(visitor.visitor_id)
    .bind(descriptor.as_slice())
    .bind(now)
    .bind(now)
    .bind(visitor.visitor_id)
    .bind(now - CONVERSATION_WINDOW_SECS)
    .bind(CONVERSATIONS_PER_VISITOR)
    .execute(&state.0.pool)
    .await?
    .rows_affected()
        == 1;
    let row = load_conversation(&state, id).await?;
    match row {
        Some(row) if inserted => {
            tracing::info!(conversation = %id, inbox = %inbox, "conversation created");
            Ok((
                StatusCode::CREATED,
                Json(ConversationView::of(&state, row, false).await?),
            ))
        }
        Some(row) => existing(&state, row, &visitor).await,
        None => Err(ApiError::too_many_requests(
            "too many conversations started; try again later",
        )),
    }
}

async fn existing(
    state: &AppState,
    row: ConversationRow,
    visitor: &Visitor,
) -> ApiResult<(StatusCode, Json<ConversationView>)> {
    if row.visitor_id == visitor.visitor_id {
        Ok((
            StatusCode::OK,
            Json(ConversationView::of(state, row, false).await?),
        ))
    } else {
        Err(ApiError::conflict(
            "conversation_exists",
            "a conversation with this id exists",
        ))
    }
}

/// Lists the conversations the calling staff member may see.
#[utoipa::path(
    get, path = "/api/v1/conversations", tag = "conversations",
    params(ListQuery),
    responses(
        (status = 200, body = ConversationList),
        (status = 400, description = "`invalid_query`", body = ErrorBody),
        (status = 401, body = ErrorBody),
        (status = 403, description = "The role reads no conversations (admin, security officer)", body = ErrorBody),
        (status = 404, description = "`inbox` is not one the caller reads", body = ErrorBody),
    ),
    security(("bearer" = []))
)]
async fn list_conversations(
    State(state): State<AppState>,
    staff: Staff,
    AppQuery(q): AppQuery<ListQuery>,
) -> ApiResult<Json<ConversationList>> {
    if !staff.role.reads_conversations() {
        return Err(ApiError::forbidden("this role does not read conversations"));
    }
    let inboxes: Vec<InboxId> = match &q.inbox {
        None => staff.inboxes.clone(),
        Some(hex_id) => match InboxId::from_hex(hex_id) {
            Some(inbox) if staff.may_read_inbox(&inbox) => vec![inbox],
            _ => return Err(ApiError::not_found("inbox")),
        },
    };
    if inboxes.is_empty() {
        return Ok(Json(ConversationList {
            conversations: Vec::new(),
        }));
    }
    let state_filter = match q.state.as_deref() {
        None => None,
        Some(s) => Some(ConversationState::parse(s).ok_or_else(|| {
            ApiError::bad_request("invalid_query", "state must be open, assigned or closed")
        })?),
    };
    enum Assigned {
        Any,
        Unassigned,
        User(i64),
    }
    let assigned = match q.assigned_to.as_deref() {
        None => Assigned::Any,
        Some("me") => Assigned::User(staff.user_id),
        Some("none") => Assigned::Unassigned,
        Some(n) => Assigned::User(n.parse().map_err(|_| {
            ApiError::bad_request("invalid_query", "assigned_to must be me, none or a user id")
        })?),
    };

    let placeholders = vec!["?"; inboxes.len()].join(", ");
    let mut sql = format!("{SELECT_CONVERSATION} WHERE c.inbox_id IN ({placeholders})");
    if staff.role == StaffRole::Agent {
        sql.push_str(" AND (i.assigned_only = 0 OR c.assignee = ?)");
    }
    if state_filter.is_some() {
        sql.push_str(" AND c.state = ?");
    }
    match assigned {
        Assigned::Any => {}
        Assigned::Unassigned => sql.push_str(" AND c.assignee IS NULL"),
        Assigned::User(_) => sql.push_str(" AND c.assignee = ?"),
    }
    sql.push_str(" ORDER BY c.updated_at DESC, c.id LIMIT ? OFFSET ?");
    let mut query = sqlx::query_as::<_, RawRow>(sqlx::AssertSqlSafe(sql));
    for inbox in &inboxes {
        query = query.bind(inbox.0.to_vec());
    }
    if staff.role == StaffRole::Agent {
        query = query.bind(staff.user_id);
    }
    if let Some(s) = state_filter {
        query = query.bind(s.as_str());
    }
    if let Assigned::User(user) = assigned {
        query = query.bind(user);
    }
    let limit = q.limit.unwrap_or(50).clamp(1, MAX_LIST);
    let rows = query
        .bind(limit)
        .bind(q.offset.unwrap_or(0))
        .fetch_all(&state.0.pool)
        .await?;
    let mut conversations = Vec::with_capacity(rows.len());
    for raw in rows {
        let row = ConversationRow::try_from(raw)?;
        conversations.push(ConversationView::of(&state, row, true).await?);
    }
    Ok(Json(ConversationList { conversations }))
}

/// A conversation's metadata (staff who may see it, or its visitor).
#[utoipa::path(
    get, path = "/api/v1/conversations/{id}", tag = "conversations",
    params(("id" = String, Path, description = "Conversation id (hex)")),
    responses(
        (status = 200, body = ConversationView),
        (status = 401, body = ErrorBody),
        (status = 404, description = "No such conversation the caller may see", body = ErrorBody),
    ),
    security(("bearer" = []), ("visitor" = []))
)]
async fn get_conversation(
    State(state): State<AppState>,
    caller: Caller,
    AppPath(id): AppPath<String>,
) -> ApiResult<Json<ConversationView>> {
    let row = conversation_access(&state, &caller, parse_id(&id)?).await?;
    Ok(Json(
        ConversationView::of(&state, row, matches!(caller, Caller::Staff(_))).await?,
    ))
}

mod actions;
use actions::{
    __path_assign, __path_close, __path_reopen, __path_transfer, assign, close, reopen, transfer,
};
