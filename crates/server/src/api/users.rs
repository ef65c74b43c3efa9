//! `/api/v1/users`: staff accounts, managed by administrators.
//!
//! An administrator creates an account with a role and inboxes; the server
//! answers once with a one-time password (only its argon2id hash is
//! stored) that must be changed at the first login (`crate::auth`'s
//! `password_change_required` gate). Changing a user's role, inboxes or
//! disabled state, or deleting the user, re-publishes (managed mode) the
//! membership of every inbox affected — those the user left and those they
//! joined — at once, so the user's devices gain or lose the next key
//! generation immediately. The last enabled administrator cannot be
//! demoted, disabled or deleted (409 `last_admin`).
//!
//! Deletion keeps the row for foreign keys but erases its personal data,
//! ends the sessions and revokes the devices (migration `0002_accounts`).
//!
//! Non-goals: password reset by e-mail, 2FA enrolment (later issues);
//! reassigning a deleted agent's conversations (supervisors transfer them).

use crate::api::devices::republish_inbox;
use crate::app::AppState;
use crate::auth::{Staff, StaffRole};
use crate::db;
use crate::error::{ApiError, ApiResult, ErrorBody};
use crate::extract::{AppJson, AppPath};
use crate::password;
use axum::extract::State;
use axum::http::StatusCode;
use axum::routing::get;
use axum::{Json, Router};
use confide_protocol::InboxId;
use serde::{Deserialize, Serialize};
use sqlx::SqlitePool;
use std::collections::BTreeSet;
use utoipa::{OpenApi, ToSchema};

#[derive(OpenApi)]
#[openapi(
    paths(create_user, list_users, get_user, update_user, delete_user),
    components(schemas(UserView, UserList, CreateUser, UserCreated, UpdateUser))
)]
struct Doc;

/// This area's routes.
pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/api/v1/users", get(list_users).post(create_user))
        .route(
            "/api/v1/users/{user_id}",
            get(get_user).patch(update_user).delete(delete_user),
        )
}

/// This area's OpenAPI paths and schemas.
pub fn document() -> utoipa::openapi::OpenApi {
    Doc::openapi()
}

/// Longest display name, in characters.
pub const MAX_DISPLAY_NAME_CHARS: usize = 100;
/// Longest e-mail address, in bytes (RFC 5321 path limit).
pub const MAX_EMAIL_BYTES: usize = 254;

/// A staff account as administrators and the user see it.
#[derive(Debug, Serialize, ToSchema)]
pub struct UserView {
    /// User id.
    pub id: i64,
    /// E-mail address (the login name), lower-case.
    pub email: String,
    /// Name shown to colleagues (never to visitors, who see a role alias).
    pub display_name: String,
    /// `admin`, `supervisor`, `agent` or `security_officer`.
    #[schema(example = "agent")]
    pub role: &'static str,
    /// Inboxes the user belongs to (hex ids).
    pub inboxes: Vec<String>,
    /// Whether the one-time password must be changed before anything else.
    pub must_change_password: bool,
    /// Whether the account is disabled (cannot log in; devices leave membership).
    pub disabled: bool,
    /// Creation time (unix seconds).
    pub created_at: i64,
}

/// `GET /api/v1/users` body.
#[derive(Serialize, ToSchema)]
pub struct UserList {
    /// Every account that is not deleted, oldest first.
    pub users: Vec<UserView>,
}

/// `POST /api/v1/users` body.
#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CreateUser {
    /// E-mail address (login name); stored lower-case.
    pub email: String,
    /// 1–100 printable characters.
    pub display_name: String,
    /// `admin`, `supervisor`, `agent` or `security_officer`.
    #[schema(example = "agent")]
    pub role: String,
    /// Inboxes (hex ids) the user belongs to.
    #[serde(default)]
    pub inboxes: Vec<String>,
}

/// A created account and its one-time password, shown only here.
#[derive(Serialize, ToSchema)]
pub struct UserCreated {
    /// The account.
    pub user: UserView,
    /// The one-time password; must be changed at the first login.
    pub one_time_password: String,
}

/// `PATCH /api/v1/users/{user_id}` body: fields to change.
#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct UpdateUser {
    /// New display name.
    pub display_name: Option<String>,
    /// New role.
    #[schema(example = "supervisor")]
    pub role: Option<String>,
    /// New inbox set (replaces the old one).
    pub inboxes: Option<Vec<String>>,
    /// Disable (ends the sessions) or re-enable the account.
    pub disabled: Option<bool>,
}

fn invalid(code: &'static str, message: impl Into<String>) -> ApiError {
    ApiError::new(StatusCode::UNPROCESSABLE_ENTITY, code, message)
}

/// Parses an e-mail address: one `@`, non-empty local part (≤ 64 bytes)
/// and domain without empty labels, no spaces or controls; lower-cased.
pub(crate) fn parse_email(raw: &str) -> ApiResult<String> {
    let email = raw.trim().to_lowercase();
    let bad = || invalid("invalid_email", "email must look like name@example.com");
    if email.len() > MAX_EMAIL_BYTES
        || email
            .chars()
            .any(|c| c.is_whitespace() || c.is_control() || c == '<' || c == '>')
    {
        return Err(bad());
    }
    let (local, domain) = email.split_once('@').ok_or_else(bad)?;
    let domain_ok = !domain.is_empty()
        && !domain.contains('@')
        && domain.split('.').all(|label| !label.is_empty());
    if local.is_empty() || local.len() > 64 || !domain_ok {
        return Err(bad());
    }
    Ok(email)
}

/// Parses a display name: trimmed, 1–100 characters, no controls.
pub(crate) fn parse_display_name(raw: &str) -> ApiResult<String> {
    let name = raw.trim();
    if name.is_empty()
        || name.chars().count() > MAX_DISPLAY_NAME_CHARS
        || name.chars().any(char::is_control)
    {
        return Err(invalid(
            "invalid_display_name",
            format!("display_name must be 1–{MAX_DISPLAY_NAME_CHARS} printable characters"),
        ));
    }
    Ok(name.to_owned())
}

fn parse_role(raw: &str) -> ApiResult<StaffRole> {
    StaffRole::parse(raw).ok_or_else(|| {
        invalid(
            "invalid_role",
            "role must be admin, supervisor, agent or security_officer",
        )
    })
}

/// Parses inbox ids and checks that each exists in the organisation.
async fn parse_inboxes(state: &AppState, raw: &[String]) -> ApiResult<BTreeSet<[u8; 16]>> {
    let mut set = BTreeSet::new();
    for hex_id in raw {
        let id = InboxId::from_hex(hex_id)
            .ok_or_else(|| invalid("invalid_inbox", "inbox ids are hex of 16 bytes (32 digits)"))?;
        let exists: Option<(i64,)> =
            sqlx::query_as("SELECT 1 FROM inbox WHERE id = ? AND org_id = ?")
                .bind(id.0.as_slice())
                .bind(state.0.org.id.0.as_slice())
                .fetch_optional(&state.0.pool)
                .await?;
        if exists.is_none() {
            return Err(invalid("unknown_inbox", format!("no inbox {hex_id}")));
        }
        set.insert(id.0);
    }
    Ok(set)
}

async fn user_inboxes<'c>(
    db: impl sqlx::SqliteExecutor<'c>,
    user_id: i64,
) -> ApiResult<BTreeSet<[u8; 16]>> {
    let rows: Vec<(Vec<u8>,)> =
        sqlx::query_as("SELECT inbox_id FROM user_inbox WHERE user_id = ? ORDER BY inbox_id")
            .bind(user_id)
            .fetch_all(db)
            .await?;
    rows.into_iter()
        .map(|(b,)| <[u8; 16]>::try_from(b).map_err(|_| ApiError::internal("corrupt inbox id")))
        .collect()
}

type UserRow = (i64, String, String, String, i64, i64, i64);
const SELECT_USER: &str = "SELECT id, email, display_name, role, must_change_password, disabled, \
     created_at FROM user WHERE deleted_at IS NULL";

async fn user_view(pool: &SqlitePool, row: UserRow) -> ApiResult<UserView> {
    let (id, email, display_name, role, must_change, disabled, created_at) = row;
    let role = StaffRole::parse(&role).ok_or_else(|| ApiError::internal("unknown role"))?;
    let inboxes = user_inboxes(pool, id).await?;
    Ok(UserView {
        id,
        email,
        display_name,
        role: role.as_str(),
        inboxes: inboxes.iter().map(hex::encode).collect(),
        must_change_password: must_change != 0,
        disabled: disabled != 0,
        created_at,
    })
}

/// Loads a user that is not deleted.
pub(crate) async fn load_user(pool: &SqlitePool, user_id: i64) -> ApiResult<Option<UserView>> {
    let row: Option<UserRow> =
        sqlx::query_as(sqlx::AssertSqlSafe(format!("{SELECT_USER} AND id = ?")))
            .bind(user_id)
            .fetch_optional(pool)
            .await?;
    match row {
        Some(row) => Ok(Some(user_view(pool, row).await?)),
        None => Ok(None),
    }
}

/// Fails with 409 `last_admin` unless an enabled administrator remains
/// (checked inside the transaction that made the change, after it).
async fn ensure_an_admin_remains(tx: &mut sqlx::SqliteConnection) -> ApiResult<()> {
    let (admins,): (i64,) = sqlx::query_as(
        "SELECT count(*) FROM user WHERE role = 'admin' AND disabled = 0 AND deleted_at IS NULL",
    )
    .fetch_one(tx)
    .await?;
    if admins == 0 {
        return Err(ApiError::conflict(
            "last_admin",
            "the last enabled administrator cannot be demoted, disabled or deleted",
        ));
    }
    Ok(())
}

async fn republish(state: &AppState, inboxes: &BTreeSet<[u8; 16]>) -> ApiResult<()> {
    for inbox in inboxes {
        republish_inbox(state, InboxId(*inbox)).await?;
    }
    Ok(())
}

/// Creates a staff account; the one-time password is in the answer only.
#[utoipa::path(
    post, path = "/api/v1/users", tag = "users",
    request_body = CreateUser,
    responses(
        (status = 201, body = UserCreated),
        (status = 401, body = ErrorBody),
        (status = 403, description = "`forbidden` (not an administrator) or `password_change_required`", body = ErrorBody),
        (status = 409, description = "`email_taken`", body = ErrorBody),
        (status = 422, description = "`invalid_email`, `invalid_display_name`, `invalid_role`, `invalid_inbox`, `unknown_inbox`, `invalid_body`", body = ErrorBody),
    ),
    security(("bearer" = []))
)]
async fn create_user(
    State(state): State<AppState>,
    staff: Staff,
    AppJson(req): AppJson<CreateUser>,
) -> ApiResult<(StatusCode, Json<UserCreated>)> {
    staff.require_admin()?;
    let email = parse_email(&req.email)?;
    let display_name = parse_display_name(&req.display_name)?;
    let role = parse_role(&req.role)?;
    let inboxes = parse_inboxes(&state, &req.inboxes).await?;
    let one_time_password = password::generate_one_time();
    let secret = one_time_password.clone();
    let hash = tokio::task::spawn_blocking(move || password::hash(&secret))
        .await
        .map_err(ApiError::internal)?
        .map_err(ApiError::internal)?;

    let mut tx = state.0.pool.begin().await?;
    let inserted: Result<(i64,), sqlx::Error> = sqlx::query_as(
        "INSERT INTO user (email, display_name, role, password_hash, must_change_password, created_at) \
         VALUES (?, ?, ?, ?, 1, ?) RETURNING id",
    )
    .bind(&email)
    .bind(&display_name)
    .bind(role.as_str())
    .bind(&hash)
    .bind(db::now())
    .fetch_one(&mut *tx)
    .await;
    let user_id = match inserted {
        Ok((id,)) => id,
        Err(sqlx::Error::Database(e)) if e.is_unique_violation() => {
            return Err(ApiError::conflict(
                "email_taken",
                "an account with this e-mail address exists",
            ));
        }
        Err(e) => return Err(e.into()),
    };
    for inbox in &inboxes {
        sqlx::query("INSERT INTO user_inbox (user_id, inbox_id) VALUES (?, ?)")
            .bind(user_id)
            .bind(inbox.as_slice())
            .execute(&mut *tx)
            .await?;
    }
    tx.commit().await?;
    state.0.cache.invalidate();
    tracing::info!(
        by = staff.user_id,
        user = user_id,
        role = role.as_str(),
        "user created"
    );
    // A new account has no devices yet: no membership changes until it
    // registers one (the devices area publishes then).
    let user = load_user(&state.0.pool, user_id)
        .await?
        .ok_or_else(|| ApiError::internal("created user vanished"))?;
    Ok((
        StatusCode::CREATED,
        Json(UserCreated {
            user,
            one_time_password,
        }),
    ))
}

/// Every account that is not deleted.
#[utoipa::path(
    get, path = "/api/v1/users", tag = "users",
    responses(
        (status = 200, body = UserList),
        (status = 401, body = ErrorBody),
        (status = 403, description = "`forbidden` or `password_change_required`", body = ErrorBody),
    ),
    security(("bearer" = []))
)]
async fn list_users(State(state): State<AppState>, staff: Staff) -> ApiResult<Json<UserList>> {
    staff.require_admin()?;
    let rows: Vec<UserRow> =
        sqlx::query_as(sqlx::AssertSqlSafe(format!("{SELECT_USER} ORDER BY id")))
            .fetch_all(&state.0.pool)
            .await?;
    let mut users = Vec::with_capacity(rows.len());
    for row in rows {
        users.push(user_view(&state.0.pool, row).await?);
    }
    Ok(Json(UserList { users }))
}

/// One account.
#[utoipa::path(
    get, path = "/api/v1/users/{user_id}", tag = "users",
    params(("user_id" = i64, Path, description = "User id")),
    responses(
        (status = 200, body = UserView),
        (status = 401, body = ErrorBody),
        (status = 403, description = "`forbidden` or `password_change_required`", body = ErrorBody),
        (status = 404, body = ErrorBody),
    ),
    security(("bearer" = []))
)]
async fn get_user(
    State(state): State<AppState>,
    staff: Staff,
    AppPath(user_id): AppPath<i64>,
) -> ApiResult<Json<UserView>> {
    staff.require_admin()?;
    load_user(&state.0.pool, user_id)
        .await?
        .map(Json)
        .ok_or_else(|| ApiError::not_found("user"))
}

/// Changes an account's name, role, inboxes or disabled state. Role,
/// inbox and disabled-state changes re-publish the affected inboxes'
/// membership at once; disabling ends the user's sessions.
#[utoipa::path(
    patch, path = "/api/v1/users/{user_id}", tag = "users",
    params(("user_id" = i64, Path, description = "User id")),
    request_body = UpdateUser,
    responses(
        (status = 200, body = UserView),
        (status = 401, body = ErrorBody),
        (status = 403, description = "`forbidden` or `password_change_required`", body = ErrorBody),
        (status = 404, body = ErrorBody),
        (status = 409, description = "`last_admin`", body = ErrorBody),
        (status = 422, description = "`invalid_display_name`, `invalid_role`, `invalid_inbox`, `unknown_inbox`, `invalid_body`", body = ErrorBody),
    ),
    security(("bearer" = []))
)]
async fn update_user(
    State(state): State<AppState>,
    staff: Staff,
    AppPath(user_id): AppPath<i64>,
    AppJson(req): AppJson<UpdateUser>,
) -> ApiResult<Json<UserView>> {
    staff.require_admin()?;
    let before = load_user(&state.0.pool, user_id)
        .await?
        .ok_or_else(|| ApiError::not_found("user"))?;
    let display_name = req
        .display_name
        .as_deref()
        .map(parse_display_name)
        .transpose()?;
    let role = req.role.as_deref().map(parse_role).transpose()?;
    let inboxes = match &req.inboxes {
        Some(raw) => Some(parse_inboxes(&state, raw).await?),
        None => None,
    };

    let mut tx = state.0.pool.begin().await?;
    let old_inboxes = user_inboxes(&mut *tx, user_id).await?;
    if let Some(name) = &display_name {
        sqlx::query("UPDATE user SET display_name = ? WHERE id = ?")
            .bind(name)
            .bind(user_id)
            .execute(&mut *tx)
            .await?;
    }
    if let Some(role) = role {
        sqlx::query("UPDATE user SET role = ? WHERE id = ?")
            .bind(role.as_str())
            .bind(user_id)
            .execute(&mut *tx)
            .await?;
    }
    if let Some(disabled) = req.disabled {
        sqlx::query("UPDATE user SET disabled = ? WHERE id = ?")
            .bind(i64::from(disabled))
            .bind(user_id)
            .execute(&mut *tx)
            .await?;
        if disabled {
            sqlx::query("DELETE FROM session WHERE user_id = ?")
                .bind(user_id)
                .execute(&mut *tx)
                .await?;
        }
    }
    if let Some(new) = &inboxes {
        sqlx::query("DELETE FROM user_inbox WHERE user_id = ?")
            .bind(user_id)
            .execute(&mut *tx)
            .await?;
        for inbox in new {
            sqlx::query("INSERT INTO user_inbox (user_id, inbox_id) VALUES (?, ?)")
                .bind(user_id)
                .bind(inbox.as_slice())
                .execute(&mut *tx)
                .await?;
        }
    }
    ensure_an_admin_remains(&mut tx).await?;
    tx.commit().await?;
    state.0.cache.invalidate();

    let role_changed = role.is_some_and(|r| r.as_str() != before.role);
    let disabled_changed = req.disabled.is_some_and(|d| d != before.disabled);
    let mut affected = BTreeSet::new();
    if role_changed || disabled_changed {
        affected.extend(old_inboxes.iter().copied());
        affected.extend(inboxes.iter().flatten().copied());
    } else if let Some(new) = &inboxes {
        // Only the inboxes joined or left change membership.
        affected.extend(old_inboxes.symmetric_difference(new).copied());
    }
    tracing::info!(
        by = staff.user_id,
        user = user_id,
        role_changed,
        disabled_changed,
        inboxes_changed = inboxes.as_ref().is_some_and(|n| *n != old_inboxes),
        "user updated"
    );
    republish(&state, &affected).await?;
    load_user(&state.0.pool, user_id)
        .await?
        .map(Json)
        .ok_or_else(|| ApiError::not_found("user"))
}

/// Deletes an account: its sessions end, its devices are revoked and leave
/// the membership of its inboxes at once, its personal data is erased.
#[utoipa::path(
    delete, path = "/api/v1/users/{user_id}", tag = "users",
    params(("user_id" = i64, Path, description = "User id")),
    responses(
        (status = 204, description = "Deleted"),
        (status = 401, body = ErrorBody),
        (status = 403, description = "`forbidden` or `password_change_required`", body = ErrorBody),
        (status = 404, body = ErrorBody),
        (status = 409, description = "`last_admin`", body = ErrorBody),
    ),
    security(("bearer" = []))
)]
async fn delete_user(
    State(state): State<AppState>,
    staff: Staff,
    AppPath(user_id): AppPath<i64>,
) -> ApiResult<StatusCode> {
    staff.require_admin()?;
    let now = db::now();
    let mut tx = state.0.pool.begin().await?;
    let erased = sqlx::query(
        "UPDATE user SET deleted_at = ?, disabled = 1, must_change_password = 0, \
         email = 'deleted-' || id || '@deleted.invalid', display_name = 'Deleted user', \
         password_hash = '', totp_secret = NULL WHERE id = ? AND deleted_at IS NULL",
    )
    .bind(now)
    .bind(user_id)
    .execute(&mut *tx)
    .await?
    .rows_affected();
    if erased == 0 {
        return Err(ApiError::not_found("user"));
    }
    let old_inboxes = user_inboxes(&mut *tx, user_id).await?;
    sqlx::query("DELETE FROM session WHERE user_id = ?")
        .bind(user_id)
        .execute(&mut *tx)
        .await?;
    sqlx::query("UPDATE device SET revoked_at = ? WHERE user_id = ? AND revoked_at IS NULL")
        .bind(now)
        .bind(user_id)
        .execute(&mut *tx)
        .await?;
    sqlx::query("DELETE FROM user_inbox WHERE user_id = ?")
        .bind(user_id)
        .execute(&mut *tx)
        .await?;
    ensure_an_admin_remains(&mut tx).await?;
    tx.commit().await?;
    state.0.cache.invalidate();
    tracing::info!(by = staff.user_id, user = user_id, "user deleted");
    republish(&state, &old_inboxes).await?;
    Ok(StatusCode::NO_CONTENT)
}
