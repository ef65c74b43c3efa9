//! `/api/v1/visitors`: anonymous visitor sessions, and blocking.
//!
//! A visitor's widget generates a device key and registers its public
//! identity (docs/protocol.md §4.1); the server answers with a random token
//! shown once (only its SHA-256 is stored) that the widget presents as
//! `Authorization: Visitor <token>`. Creation is rate-limited per client
//! address. Staff who can see one of a visitor's conversations (and
//! administrators) may block it: a blocked visitor keeps reading but can
//! neither send nor start or reopen conversations.
//!
//! Non-goals: visitor *verification* (identity tokens travel end-to-end
//! inside envelopes and are checked by agents, §12); proof that the caller
//! holds the registered key (envelope signatures prove it where it matters).

use crate::access::{ConversationRow, RawRow, SELECT_CONVERSATION, staff_may_see};
use crate::api::devices::parse_identity;
use crate::app::AppState;
use crate::auth::{Staff, Visitor, new_token};
use crate::db;
use crate::error::{ApiError, ApiResult, ErrorBody};
use crate::extract::{AppJson, AppPath};
use axum::extract::{ConnectInfo, State};
use axum::http::StatusCode;
use axum::routing::{get, post};
use axum::{Extension, Json, Router};
use serde::{Deserialize, Serialize};
use std::net::SocketAddr;
use utoipa::{OpenApi, ToSchema};

#[derive(OpenApi)]
#[openapi(
    paths(create_visitor, visitor_me, block_visitor, unblock_visitor),
    components(schemas(CreateVisitor, VisitorCreated, VisitorInfo))
)]
struct Doc;

/// This area's routes.
pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/api/v1/visitors", post(create_visitor))
        .route("/api/v1/visitors/me", get(visitor_me))
        .route("/api/v1/visitors/{visitor_id}/block", post(block_visitor))
        .route(
            "/api/v1/visitors/{visitor_id}/unblock",
            post(unblock_visitor),
        )
}

/// This area's OpenAPI paths and schemas.
pub fn document() -> utoipa::openapi::OpenApi {
    Doc::openapi()
}

/// The visitor-creation rate-limit window, in seconds.
pub const VISITOR_WINDOW_SECS: i64 = 60 * 60;

/// `POST /api/v1/visitors` body.
#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CreateVisitor {
    /// Hex of the visitor device's 65-byte public identity (docs/protocol.md §4.1).
    pub identity: String,
}

/// A new visitor session. The token is shown only here.
#[derive(Serialize, ToSchema)]
pub struct VisitorCreated {
    /// Visitor id.
    pub visitor_id: i64,
    /// Device id (hex) of the registered identity.
    pub device_id: String,
    /// Bearer token: send `Authorization: Visitor <token>`.
    pub token: String,
}

/// A visitor, as staff and the visitor itself see it.
#[derive(Serialize, ToSchema)]
pub struct VisitorInfo {
    /// Visitor id.
    pub visitor_id: i64,
    /// Device id (hex).
    pub device_id: String,
    /// Whether the visitor is blocked.
    pub blocked: bool,
}

/// The client's address, as the listener saw it (`unknown` when the router
/// runs without connection info, e.g. in tests that do not set it).
pub(crate) fn client_address(info: Option<Extension<ConnectInfo<SocketAddr>>>) -> String {
    info.map_or_else(
        || String::from("unknown"),
        |Extension(ConnectInfo(addr))| addr.ip().to_string(),
    )
}

/// Creates an anonymous visitor session for a device identity.
#[utoipa::path(
    post, path = "/api/v1/visitors", tag = "visitors",
    request_body = CreateVisitor,
    responses(
        (status = 201, body = VisitorCreated),
        (status = 409, description = "`device_conflict`: identity already registered", body = ErrorBody),
        (status = 422, description = "`invalid_identity` or a protocol decoding code", body = ErrorBody),
        (status = 429, description = "`rate_limited`", body = ErrorBody),
    )
)]
async fn create_visitor(
    State(state): State<AppState>,
    info: Option<Extension<ConnectInfo<SocketAddr>>>,
    AppJson(req): AppJson<CreateVisitor>,
) -> ApiResult<(StatusCode, Json<VisitorCreated>)> {
    let identity = parse_identity(&req.identity)?;
    let device_id = identity.device_id();
    let address = client_address(info);
    let staff_device: Option<(i64,)> = sqlx::query_as("SELECT 1 FROM device WHERE device_id = ?")
        .bind(device_id.0.as_slice())
        .fetch_optional(&state.0.pool)
        .await?;
    if staff_device.is_some() {
        return Err(device_conflict());
    }
    let (token, hash) = new_token();
    let now = db::now();
    // One statement: the count and the insert cannot interleave with another creation.
    let result: Result<Option<(i64,)>, sqlx::Error> = sqlx::query_as(
        "INSERT INTO visitor (device_id, identity, token_hash, address, created_at) \
         SELECT ?, ?, ?, ?, ? WHERE (SELECT count(*) FROM visitor WHERE address = ? AND created_at > ?) < ? \
         RETURNING id",
    )
    .bind(device_id.0.as_slice())
    .bind(identity.encode().as_slice())
    .bind(hash.as_slice())
    .bind(&address)
    .bind(now)
    .bind(&address)
    .bind(now - VISITOR_WINDOW_SECS)
    .bind(i64::from(state.0.config.limits.visitors_per_address_per_hour))
    .fetch_optional(&state.0.pool)
    .await;
    let row = match result {
        Err(sqlx::Error::Database(e)) if e.is_unique_violation() => {
            return Err(device_conflict());
        }
        other => other?,
    };
    let Some((visitor_id,)) = row else {
        tracing::warn!("visitor creation rate limit reached for an address");
        return Err(ApiError::too_many_requests(
            "too many visitor sessions from this address; try again later",
        ));
    };
    Ok((
        StatusCode::CREATED,
        Json(VisitorCreated {
            visitor_id,
            device_id: device_id.to_hex(),
            token,
        }),
    ))
}

fn device_conflict() -> ApiError {
    ApiError::conflict(
        "device_conflict",
        "this device identity is already registered; generate a new device key",
    )
}

/// The calling visitor.
#[utoipa::path(
    get, path = "/api/v1/visitors/me", tag = "visitors",
    responses((status = 200, body = VisitorInfo), (status = 401, body = ErrorBody)),
    security(("visitor" = []))
)]
async fn visitor_me(visitor: Visitor) -> Json<VisitorInfo> {
    Json(VisitorInfo {
        visitor_id: visitor.visitor_id,
        device_id: hex::encode(visitor.device_id),
        blocked: visitor.blocked,
    })
}

/// Checks that `staff` may block or unblock `visitor_id`: administrators
/// always; agents and supervisors when they can see one of its
/// conversations. Anyone else gets 404, as for a visitor that does not exist.
async fn may_moderate(state: &AppState, staff: &Staff, visitor_id: i64) -> ApiResult<()> {
    let exists: Option<(i64,)> = sqlx::query_as("SELECT id FROM visitor WHERE id = ?")
        .bind(visitor_id)
        .fetch_optional(&state.0.pool)
        .await?;
    if exists.is_none() {
        return Err(ApiError::not_found("visitor"));
    }
    if staff.role.administers() {
        return Ok(());
    }
    if !staff.role.reads_conversations() {
        return Err(ApiError::not_found("visitor"));
    }
    let sql = format!("{SELECT_CONVERSATION} WHERE c.visitor_id = ?");
    let rows: Vec<RawRow> = sqlx::query_as(sqlx::AssertSqlSafe(sql))
        .bind(visitor_id)
        .fetch_all(&state.0.pool)
        .await?;
    for raw in rows {
        if staff_may_see(staff, &ConversationRow::try_from(raw)?) {
            return Ok(());
        }
    }
    Err(ApiError::not_found("visitor"))
}

async fn set_blocked(
    state: &AppState,
    staff: &Staff,
    visitor_id: i64,
    blocked: bool,
) -> ApiResult<Json<VisitorInfo>> {
    may_moderate(state, staff, visitor_id).await?;
    let (device_id, blocked_at): (Vec<u8>, Option<i64>) = sqlx::query_as(
        "UPDATE visitor SET blocked_at = CASE WHEN ? THEN coalesce(blocked_at, ?) ELSE NULL END \
         WHERE id = ? RETURNING device_id, blocked_at",
    )
    .bind(blocked)
    .bind(db::now())
    .bind(visitor_id)
    .fetch_one(&state.0.pool)
    .await?;
    state.0.cache.invalidate();
    tracing::info!(
        by = staff.user_id,
        visitor = visitor_id,
        blocked,
        "visitor block changed"
    );
    Ok(Json(VisitorInfo {
        visitor_id,
        device_id: hex::encode(device_id),
        blocked: blocked_at.is_some(),
    }))
}

/// Blocks a visitor: it can no longer send, start or reopen conversations.
#[utoipa::path(
    post, path = "/api/v1/visitors/{visitor_id}/block", tag = "visitors",
    params(("visitor_id" = i64, Path, description = "Visitor id")),
    responses(
        (status = 200, body = VisitorInfo),
        (status = 401, body = ErrorBody),
        (status = 404, description = "No such visitor the caller may moderate", body = ErrorBody),
    ),
    security(("bearer" = []))
)]
async fn block_visitor(
    State(state): State<AppState>,
    staff: Staff,
    AppPath(visitor_id): AppPath<i64>,
) -> ApiResult<Json<VisitorInfo>> {
    set_blocked(&state, &staff, visitor_id, true).await
}

/// Lifts a block.
#[utoipa::path(
    post, path = "/api/v1/visitors/{visitor_id}/unblock", tag = "visitors",
    params(("visitor_id" = i64, Path, description = "Visitor id")),
    responses(
        (status = 200, body = VisitorInfo),
        (status = 401, body = ErrorBody),
        (status = 404, description = "No such visitor the caller may moderate", body = ErrorBody),
    ),
    security(("bearer" = []))
)]
async fn unblock_visitor(
    State(state): State<AppState>,
    staff: Staff,
    AppPath(visitor_id): AppPath<i64>,
) -> ApiResult<Json<VisitorInfo>> {
    set_blocked(&state, &staff, visitor_id, false).await
}
