//! `/api/v1/inboxes`: the organisation's inboxes.
//!
//! Every staff member lists the inboxes they belong to (administrators:
//! all of them). Administrators create inboxes — the server publishes the
//! first membership statement at once (managed mode), so the inbox has a
//! verifiable chain before anyone joins — and rename them or switch
//! `assigned_only` (agents then see only conversations assigned to them).
//! Membership of people is managed on the user (`/api/v1/users`).
//!
//! Non-goals: deleting inboxes (their conversations and retention come with
//! the GDPR work); the statement chain itself (`/api/v1/inboxes/{id}/chain`,
//! the devices area).

use crate::api::devices::republish_inbox;
use crate::app::AppState;
use crate::auth::Staff;
use crate::db;
use crate::error::{ApiError, ApiResult, ErrorBody};
use crate::extract::{AppJson, AppPath};
use crate::keys::os_rng;
use axum::extract::State;
use axum::http::StatusCode;
use axum::routing::{get, patch};
use axum::{Json, Router};
use confide_protocol::InboxId;
use rand_core::Rng;
use serde::{Deserialize, Serialize};
use utoipa::{OpenApi, ToSchema};

#[derive(OpenApi)]
#[openapi(
    paths(list_inboxes, create_inbox, update_inbox),
    components(schemas(InboxView, InboxList, CreateInbox, UpdateInbox))
)]
struct Doc;

/// This area's routes.
pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/api/v1/inboxes", get(list_inboxes).post(create_inbox))
        .route("/api/v1/inboxes/{inbox_id}", patch(update_inbox))
}

/// This area's OpenAPI paths and schemas.
pub fn document() -> utoipa::openapi::OpenApi {
    Doc::openapi()
}

/// Longest inbox name, in characters.
pub const MAX_INBOX_NAME_CHARS: usize = 100;

/// An inbox.
#[derive(Serialize, ToSchema)]
pub struct InboxView {
    /// Inbox id (hex, 16 bytes).
    pub id: String,
    /// Name shown to staff.
    pub name: String,
    /// Whether agents see only the conversations assigned to them.
    pub assigned_only: bool,
    /// Creation time (unix seconds).
    pub created_at: i64,
}

/// `GET /api/v1/inboxes` body.
#[derive(Serialize, ToSchema)]
pub struct InboxList {
    /// The inboxes, oldest first.
    pub inboxes: Vec<InboxView>,
}

/// `POST /api/v1/inboxes` body.
#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CreateInbox {
    /// 1–100 printable characters.
    pub name: String,
    /// Agents see only assigned conversations (default false).
    #[serde(default)]
    pub assigned_only: bool,
}

/// `PATCH /api/v1/inboxes/{inbox_id}` body: fields to change.
#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct UpdateInbox {
    /// New name.
    pub name: Option<String>,
    /// New `assigned_only`.
    pub assigned_only: Option<bool>,
}

fn parse_name(raw: &str) -> ApiResult<String> {
    let name = raw.trim();
    if name.is_empty()
        || name.chars().count() > MAX_INBOX_NAME_CHARS
        || name.chars().any(char::is_control)
    {
        return Err(ApiError::new(
            StatusCode::UNPROCESSABLE_ENTITY,
            "invalid_name",
            format!("name must be 1–{MAX_INBOX_NAME_CHARS} printable characters"),
        ));
    }
    Ok(name.to_owned())
}

type InboxRow = (Vec<u8>, String, i64, i64);

fn inbox_view((id, name, assigned_only, created_at): InboxRow) -> InboxView {
    InboxView {
        id: hex::encode(id),
        name,
        assigned_only: assigned_only != 0,
        created_at,
    }
}

async fn load_inbox(state: &AppState, id: InboxId) -> ApiResult<Option<InboxView>> {
    let row: Option<InboxRow> = sqlx::query_as(
        "SELECT id, name, assigned_only, created_at FROM inbox WHERE id = ? AND org_id = ?",
    )
    .bind(id.0.as_slice())
    .bind(state.0.org.id.0.as_slice())
    .fetch_optional(&state.0.pool)
    .await?;
    Ok(row.map(inbox_view))
}

/// The caller's inboxes; administrators see every inbox.
#[utoipa::path(
    get, path = "/api/v1/inboxes", tag = "inboxes",
    responses(
        (status = 200, body = InboxList),
        (status = 401, body = ErrorBody),
        (status = 403, description = "`password_change_required`", body = ErrorBody),
    ),
    security(("bearer" = []))
)]
async fn list_inboxes(State(state): State<AppState>, staff: Staff) -> ApiResult<Json<InboxList>> {
    let rows: Vec<InboxRow> = sqlx::query_as(
        "SELECT i.id, i.name, i.assigned_only, i.created_at FROM inbox i WHERE i.org_id = ? \
         AND (? OR EXISTS (SELECT 1 FROM user_inbox ui WHERE ui.inbox_id = i.id AND ui.user_id = ?)) \
         ORDER BY i.created_at, i.rowid",
    )
    .bind(state.0.org.id.0.as_slice())
    .bind(staff.role.administers())
    .bind(staff.user_id)
    .fetch_all(&state.0.pool)
    .await?;
    Ok(Json(InboxList {
        inboxes: rows.into_iter().map(inbox_view).collect(),
    }))
}

/// Creates an inbox and publishes its first membership statement.
#[utoipa::path(
    post, path = "/api/v1/inboxes", tag = "inboxes",
    request_body = CreateInbox,
    responses(
        (status = 201, body = InboxView),
        (status = 401, body = ErrorBody),
        (status = 403, description = "`forbidden` or `password_change_required`", body = ErrorBody),
        (status = 422, description = "`invalid_name`, `invalid_body`", body = ErrorBody),
    ),
    security(("bearer" = []))
)]
async fn create_inbox(
    State(state): State<AppState>,
    staff: Staff,
    AppJson(req): AppJson<CreateInbox>,
) -> ApiResult<(StatusCode, Json<InboxView>)> {
    staff.require_admin()?;
    let name = parse_name(&req.name)?;
    let mut raw = [0u8; 16];
    os_rng().fill_bytes(&mut raw);
    let id = InboxId(raw);
    sqlx::query(
        "INSERT INTO inbox (id, org_id, name, assigned_only, created_at) VALUES (?, ?, ?, ?, ?)",
    )
    .bind(id.0.as_slice())
    .bind(state.0.org.id.0.as_slice())
    .bind(&name)
    .bind(i64::from(req.assigned_only))
    .bind(db::now())
    .execute(&state.0.pool)
    .await?;
    tracing::info!(by = staff.user_id, inbox = %id, "inbox created");
    republish_inbox(&state, id).await?;
    let view = load_inbox(&state, id)
        .await?
        .ok_or_else(|| ApiError::internal("created inbox vanished"))?;
    Ok((StatusCode::CREATED, Json(view)))
}

/// Renames an inbox or switches `assigned_only`.
#[utoipa::path(
    patch, path = "/api/v1/inboxes/{inbox_id}", tag = "inboxes",
    params(("inbox_id" = String, Path, description = "Inbox id (hex, 16 bytes)")),
    request_body = UpdateInbox,
    responses(
        (status = 200, body = InboxView),
        (status = 401, body = ErrorBody),
        (status = 403, description = "`forbidden` or `password_change_required`", body = ErrorBody),
        (status = 404, body = ErrorBody),
        (status = 422, description = "`invalid_name`, `invalid_body`", body = ErrorBody),
    ),
    security(("bearer" = []))
)]
async fn update_inbox(
    State(state): State<AppState>,
    staff: Staff,
    AppPath(inbox_id): AppPath<String>,
    AppJson(req): AppJson<UpdateInbox>,
) -> ApiResult<Json<InboxView>> {
    staff.require_admin()?;
    let id = InboxId::from_hex(&inbox_id).ok_or_else(|| ApiError::not_found("inbox"))?;
    if load_inbox(&state, id).await?.is_none() {
        return Err(ApiError::not_found("inbox"));
    }
    let name = req.name.as_deref().map(parse_name).transpose()?;
    let mut tx = state.0.pool.begin().await?;
    if let Some(name) = &name {
        sqlx::query("UPDATE inbox SET name = ? WHERE id = ?")
            .bind(name)
            .bind(id.0.as_slice())
            .execute(&mut *tx)
            .await?;
    }
    if let Some(assigned_only) = req.assigned_only {
        sqlx::query("UPDATE inbox SET assigned_only = ? WHERE id = ?")
            .bind(i64::from(assigned_only))
            .bind(id.0.as_slice())
            .execute(&mut *tx)
            .await?;
    }
    tx.commit().await?;
    state.0.cache.invalidate();
    tracing::info!(by = staff.user_id, inbox = %id, "inbox updated");
    load_inbox(&state, id)
        .await?
        .map(Json)
        .ok_or_else(|| ApiError::not_found("inbox"))
}
