//! `/api/v1/auth` and `/api/v1/me`: staff login, logout and the caller's
//! own account.
//!
//! Login checks the argon2id hash off the async runtime and answers a wrong
//! e-mail and a wrong password alike (401 `invalid_credentials`, same
//! message, similar timing: an unknown e-mail is checked against a dummy
//! hash of the same cost; a disabled account is refused the same way).
//! Attempts are throttled per account and per address (`crate::throttle`,
//! 429 `rate_limited` with `Retry-After`). A success creates a session
//! whose token is returned once — as JSON for the API and SDK (`Bearer`)
//! and as the console's `confide_session` cookie (HttpOnly, Secure,
//! SameSite=Strict) — and stored only as its SHA-256.
//!
//! Changing the password (which clears the one-time-password gate of
//! `crate::auth`) ends every other session of the user.
//!
//! Non-goals: TOTP and passkeys (a later issue), password reset by e-mail.

use crate::api::users::{UserView, load_user};
use crate::api::visitors::client_address;
use crate::app::AppState;
use crate::auth::{SESSION_COOKIE, StaffSession, new_token};
use crate::db;
use crate::error::{ApiError, ApiResult, ErrorBody};
use crate::extract::AppJson;
use crate::password;
use crate::throttle::{self, Throttled};
use axum::extract::{ConnectInfo, State};
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Extension, Json, Router};
use serde::{Deserialize, Serialize};
use std::net::SocketAddr;
use utoipa::{OpenApi, ToSchema};

#[derive(OpenApi)]
#[openapi(
    paths(login, logout, me, change_password),
    components(schemas(LoginRequest, LoginResponse, ChangePassword))
)]
struct Doc;

/// This area's routes.
pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/api/v1/auth/login", post(login))
        .route("/api/v1/auth/logout", post(logout))
        .route("/api/v1/me", get(me))
        .route("/api/v1/me/password", post(change_password))
}

/// This area's OpenAPI paths and schemas.
pub fn document() -> utoipa::openapi::OpenApi {
    Doc::openapi()
}

/// Shortest accepted new password, in characters.
pub const MIN_PASSWORD_CHARS: usize = 12;
/// Longest accepted new password, in characters.
pub const MAX_PASSWORD_CHARS: usize = 256;

/// An argon2id hash (same parameters as `crate::password`) of a password
/// nobody knows, checked when the e-mail is unknown so that the answer
/// takes as long as for a known one.
const DUMMY_HASH: &str = "$argon2id$v=19$m=19456,t=2,p=1$Hkp1mG9i7bg2kVE4iNtFJQ$7Yw4gV+Y8ZB3U9mf0sRXbydUzi9Ht8a0u0wQM2f1qNU";

/// `POST /api/v1/auth/login` body.
#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct LoginRequest {
    /// E-mail address (case-insensitive).
    pub email: String,
    /// Password.
    pub password: String,
}

/// A new session. The token is shown only here (and set as the cookie).
#[derive(Serialize, ToSchema)]
pub struct LoginResponse {
    /// Session token: send `Authorization: Bearer <token>`.
    pub token: String,
    /// When the session expires (unix seconds).
    pub expires_at: i64,
    /// The account.
    pub user: UserView,
}

/// `POST /api/v1/me/password` body.
#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ChangePassword {
    /// The current password.
    pub current: String,
    /// The new password: 12–256 characters, different from the current one.
    pub new: String,
}

fn invalid_credentials() -> ApiError {
    ApiError::new(
        StatusCode::UNAUTHORIZED,
        "invalid_credentials",
        "wrong e-mail address or password",
    )
}

fn throttled(t: Throttled) -> Response {
    let retry = HeaderValue::from(t.retry_after);
    (
        [(header::RETRY_AFTER, retry)],
        ApiError::too_many_requests(format!(
            "too many failed logins; try again in {} s",
            t.retry_after
        )),
    )
        .into_response()
}

fn session_cookie(token: &str, max_age: i64) -> ApiResult<HeaderValue> {
    HeaderValue::from_str(&format!(
        "{SESSION_COOKIE}={token}; HttpOnly; Secure; SameSite=Strict; Path=/; Max-Age={max_age}"
    ))
    .map_err(ApiError::internal)
}

/// Checks `password` against `phc` on the blocking pool (argon2 is slow on purpose).
async fn verify_password(password: String, phc: String) -> ApiResult<bool> {
    tokio::task::spawn_blocking(move || password::verify(&password, &phc))
        .await
        .map_err(ApiError::internal)
}

/// Logs in with e-mail and password.
#[utoipa::path(
    post, path = "/api/v1/auth/login", tag = "auth",
    request_body = LoginRequest,
    responses(
        (status = 200, description = "Logged in; also sets the `confide_session` cookie", body = LoginResponse),
        (status = 401, description = "`invalid_credentials`", body = ErrorBody),
        (status = 422, description = "`invalid_body`", body = ErrorBody),
        (status = 429, description = "`rate_limited`, with `Retry-After`", body = ErrorBody),
    )
)]
async fn login(
    State(state): State<AppState>,
    info: Option<Extension<ConnectInfo<SocketAddr>>>,
    AppJson(req): AppJson<LoginRequest>,
) -> ApiResult<Response> {
    let pool = &state.0.pool;
    let email = req.email.trim().to_lowercase();
    let address = client_address(info);
    let now = db::now();
    let attempt = match throttle::admit(pool, &email, &address, now).await? {
        Ok(attempt) => attempt,
        Err(t) => {
            tracing::warn!(retry_after = t.retry_after, "login throttled");
            return Ok(throttled(t));
        }
    };
    let account: Option<(i64, String, i64)> =
        sqlx::query_as("SELECT id, password_hash, disabled FROM user WHERE email = ?")
            .bind(&email)
            .fetch_optional(pool)
            .await?;
    let phc = account
        .as_ref()
        .map_or_else(|| DUMMY_HASH.to_owned(), |(_, phc, _)| phc.clone());
    let matches = verify_password(req.password, phc).await?;
    let user_id = match account {
        Some((id, _, disabled)) if matches && disabled == 0 => id,
        other => {
            tracing::info!(user = other.map(|(id, _, _)| id), "login failed");
            return Err(invalid_credentials());
        }
    };
    throttle::succeeded(pool, attempt).await?;

    let ttl = i64::try_from(state.0.config.session_ttl_secs).unwrap_or(i64::MAX);
    let expires_at = now.saturating_add(ttl);
    let (token, hash) = new_token();
    sqlx::query(
        "INSERT INTO session (token_hash, user_id, created_at, expires_at, last_seen) VALUES (?, ?, ?, ?, ?)",
    )
    .bind(hash.as_slice())
    .bind(user_id)
    .bind(now)
    .bind(expires_at)
    .bind(now)
    .execute(pool)
    .await?;
    tracing::info!(user = user_id, "login");
    let user = load_user(pool, user_id)
        .await?
        .ok_or_else(invalid_credentials)?;
    let cookie = session_cookie(&token, ttl)?;
    Ok((
        [(header::SET_COOKIE, cookie)],
        Json(LoginResponse {
            token,
            expires_at,
            user,
        }),
    )
        .into_response())
}

/// Ends the presented session and clears the cookie.
#[utoipa::path(
    post, path = "/api/v1/auth/logout", tag = "auth",
    responses(
        (status = 204, description = "Logged out; the cookie is cleared"),
        (status = 401, body = ErrorBody),
    ),
    security(("bearer" = []))
)]
async fn logout(State(state): State<AppState>, session: StaffSession) -> ApiResult<Response> {
    sqlx::query("DELETE FROM session WHERE token_hash = ?")
        .bind(session.token_hash.as_slice())
        .execute(&state.0.pool)
        .await?;
    state.0.cache.invalidate();
    tracing::info!(user = session.staff.user_id, "logout");
    let cookie = session_cookie("", 0)?;
    Ok((StatusCode::NO_CONTENT, [(header::SET_COOKIE, cookie)]).into_response())
}

/// The caller's account (also while the one-time password must be changed).
#[utoipa::path(
    get, path = "/api/v1/me", tag = "auth",
    responses((status = 200, body = UserView), (status = 401, body = ErrorBody)),
    security(("bearer" = []))
)]
async fn me(State(state): State<AppState>, session: StaffSession) -> ApiResult<Json<UserView>> {
    load_user(&state.0.pool, session.staff.user_id)
        .await?
        .map(Json)
        .ok_or_else(ApiError::unauthorized)
}

/// Changes the caller's password, clears the one-time-password gate and
/// ends every other session of the caller.
#[utoipa::path(
    post, path = "/api/v1/me/password", tag = "auth",
    request_body = ChangePassword,
    responses(
        (status = 204, description = "Changed; other sessions ended"),
        (status = 401, body = ErrorBody),
        (status = 403, description = "`wrong_password`: `current` does not match", body = ErrorBody),
        (status = 422, description = "`password_too_short`, `password_too_long`, `password_unchanged`, `invalid_body`", body = ErrorBody),
        (status = 429, description = "`rate_limited`, with `Retry-After`", body = ErrorBody),
    ),
    security(("bearer" = []))
)]
async fn change_password(
    State(state): State<AppState>,
    session: StaffSession,
    info: Option<Extension<ConnectInfo<SocketAddr>>>,
    AppJson(req): AppJson<ChangePassword>,
) -> ApiResult<Response> {
    let invalid =
        |code, message: String| ApiError::new(StatusCode::UNPROCESSABLE_ENTITY, code, message);
    let length = req.new.chars().count();
    if length < MIN_PASSWORD_CHARS {
        return Err(invalid(
            "password_too_short",
            format!("the new password needs at least {MIN_PASSWORD_CHARS} characters"),
        ));
    }
    if length > MAX_PASSWORD_CHARS {
        return Err(invalid(
            "password_too_long",
            format!("the new password may have at most {MAX_PASSWORD_CHARS} characters"),
        ));
    }
    if req.new == req.current {
        return Err(invalid(
            "password_unchanged",
            "the new password must differ from the current one".into(),
        ));
    }
    let pool = &state.0.pool;
    let user_id = session.staff.user_id;
    let (email, phc): (String, String) =
        sqlx::query_as("SELECT email, password_hash FROM user WHERE id = ?")
            .bind(user_id)
            .fetch_one(pool)
            .await?;
    // A stolen session must not become a password oracle: same throttle.
    let attempt = match throttle::admit(pool, &email, &client_address(info), db::now()).await? {
        Ok(attempt) => attempt,
        Err(t) => return Ok(throttled(t)),
    };
    if !verify_password(req.current, phc).await? {
        tracing::info!(
            user = user_id,
            "password change with a wrong current password"
        );
        return Err(ApiError::new(
            StatusCode::FORBIDDEN,
            "wrong_password",
            "the current password is wrong",
        ));
    }
    throttle::succeeded(pool, attempt).await?;
    let new = req.new;
    let hash = tokio::task::spawn_blocking(move || password::hash(&new))
        .await
        .map_err(ApiError::internal)?
        .map_err(ApiError::internal)?;
    let mut tx = pool.begin().await?;
    sqlx::query("UPDATE user SET password_hash = ?, must_change_password = 0 WHERE id = ?")
        .bind(&hash)
        .bind(user_id)
        .execute(&mut *tx)
        .await?;
    sqlx::query("DELETE FROM session WHERE user_id = ? AND token_hash != ?")
        .bind(user_id)
        .bind(session.token_hash.as_slice())
        .execute(&mut *tx)
        .await?;
    tx.commit().await?;
    state.0.cache.invalidate();
    tracing::info!(user = user_id, "password changed; other sessions ended");
    Ok(StatusCode::NO_CONTENT.into_response())
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::indexing_slicing)]

    use argon2::password_hash::phc::PasswordHash;

    /// The dummy hash must cost what a real one costs, or an unknown
    /// e-mail answers faster than a known one.
    #[test]
    fn dummy_hash_has_the_parameters_of_real_hashes() {
        let dummy = PasswordHash::new(super::DUMMY_HASH).unwrap();
        let real = crate::password::hash("a password").unwrap();
        let real = PasswordHash::new(&real).unwrap();
        assert_eq!(dummy.algorithm, real.algorithm);
        assert_eq!(dummy.version, real.version);
        assert_eq!(dummy.params, real.params);
        assert_eq!(dummy.hash.map(|h| h.len()), real.hash.map(|h| h.len()));
        assert!(!crate::password::verify("", super::DUMMY_HASH));
    }
}
