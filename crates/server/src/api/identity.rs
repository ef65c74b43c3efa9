//! Identity tokens (docs/protocol.md §12): the keys a company backend uses
//! to vouch for its logged-in visitors, and the server-verified badge.
//!
//! - **Scheme 1, agent-verified.** An administrator registers the backend's
//!   Ed25519 public keys (`PUT /api/v1/settings/identity/token-keys/{key_id}`).
//!   They are published in every inbox's signed membership statement, so
//!   agents verify a token found inside an end-to-end encrypted envelope
//!   themselves; the server never sees those tokens.
//! - **Scheme 2, server-verified.** An administrator asks the server for a
//!   shared HMAC secret (`POST /api/v1/settings/identity/hmac-secrets`,
//!   shown once). The widget presents such a token to the server
//!   (`POST /api/v1/visitors/me/identity`), which checks it (§12.6), refuses
//!   a re-used `token_id` (§12.7) and records subject, name and e-mail for
//!   that visitor in that inbox; conversations then carry a
//!   `server_verified` badge. It is only as trustworthy as the server, and
//!   the server learns those claims: scheme 1 keeps them end to end.
//!
//! HMAC secrets are sealed at rest with ChaCha20-Poly1305 under a key
//! derived (HKDF-SHA256) from the managed root key, bound to the
//! organisation and key id, so a copy of the database alone reveals none.
//!
//! Non-goals: issuing tokens (the company backend does, with
//! `confide_protocol::token::issue_signed` / `issue_hmac`).

use crate::app::AppState;
use crate::auth::{Staff, Visitor};
use crate::db;
use crate::error::{ApiError, ApiResult, ErrorBody};
use crate::extract::{AppJson, AppPath};
use crate::keys::{ServerKeys, os_rng};
use axum::extract::State;
use axum::http::StatusCode;
use axum::routing::{get, post, put};
use axum::{Json, Router};
use base64::Engine;
use chacha20poly1305::aead::{Aead, KeyInit, Payload};
use chacha20poly1305::{ChaCha20Poly1305, Key, Nonce};
use confide_protocol::token::{self, IdentityToken, TokenKey};
use confide_protocol::{DeviceId, InboxId, OrgId, SigningPublicKey, Timestamp};
use rand_core::Rng;
use serde::{Deserialize, Serialize};
use sqlx::SqlitePool;
use utoipa::{OpenApi, ToSchema};
use zeroize::Zeroizing;

#[derive(OpenApi)]
#[openapi(
    paths(
        identity_settings,
        put_token_key,
        delete_token_key,
        create_hmac_secret,
        delete_hmac_secret,
        present_identity
    ),
    components(schemas(
        IdentitySettings,
        TokenKeyInfo,
        PutTokenKey,
        CreateHmacSecret,
        HmacSecretCreated,
        PresentIdentity,
        ServerVerified
    ))
)]
struct Doc;

/// This area's routes.
pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/api/v1/settings/identity", get(identity_settings))
        .route(
            "/api/v1/settings/identity/token-keys/{key_id}",
            put(put_token_key).delete(delete_token_key),
        )
        .route(
            "/api/v1/settings/identity/hmac-secrets",
            post(create_hmac_secret),
        )
        .route(
            "/api/v1/settings/identity/hmac-secrets/{key_id}",
            axum::routing::delete(delete_hmac_secret),
        )
        .route("/api/v1/visitors/me/identity", post(present_identity))
}

/// This area's OpenAPI paths and schemas.
pub fn document() -> utoipa::openapi::OpenApi {
    Doc::openapi()
}

/// Most token keys an organisation may register (they all travel in every
/// membership statement).
pub const MAX_TOKEN_KEYS: usize = confide_protocol::membership::MAX_TOKEN_KEYS;
/// Most HMAC secrets an organisation may hold.
pub const MAX_HMAC_SECRETS: i64 = 8;
/// Length of a generated HMAC secret.
pub const HMAC_SECRET_LEN: usize = 32;
/// Longest accepted token, base64 or hex encoded.
const MAX_TOKEN_TEXT: usize = 4096;

/// A registered scheme-1 key.
#[derive(Serialize, Deserialize, ToSchema)]
pub struct TokenKeyInfo {
    /// Its name, as tokens' `key_id` names it.
    pub key_id: String,
    /// Ed25519 public key (hex, 32 bytes).
    pub public_key: String,
}

/// The organisation's identity-token settings (no secret in it).
#[derive(Serialize, Deserialize, ToSchema)]
pub struct IdentitySettings {
    /// Scheme-1 public keys, published in the membership statements.
    pub token_keys: Vec<TokenKeyInfo>,
    /// Names of the scheme-2 HMAC secrets the server holds.
    pub hmac_key_ids: Vec<String>,
}

/// `PUT …/token-keys/{key_id}` body.
#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct PutTokenKey {
    /// Ed25519 public key (hex, 32 bytes).
    pub public_key: String,
}

/// `POST …/hmac-secrets` body.
#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CreateHmacSecret {
    /// Its name (1–64 printable ASCII characters, no spaces).
    pub key_id: String,
}

/// A new HMAC secret, shown once.
#[derive(Serialize, Deserialize, ToSchema)]
pub struct HmacSecretCreated {
    /// Its name.
    pub key_id: String,
    /// The secret (hex, 32 bytes). Give it to the company backend; it is
    /// never shown again.
    pub secret: String,
}

/// `POST /api/v1/visitors/me/identity` body.
#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct PresentIdentity {
    /// A scheme-2 identity token (§12.3), base64 (standard or URL-safe) or hex.
    pub token: String,
}

/// What the server verified about a visitor in an inbox (scheme 2).
#[derive(Clone, Debug, Serialize, Deserialize, ToSchema, PartialEq, Eq)]
pub struct ServerVerified {
    /// Always `server_verified`: shown as such, never as agent-verified.
    pub strength: String,
    /// The HMAC secret's name.
    pub key_id: String,
    /// The company's user identifier.
    pub subject: String,
    /// Display name (may be empty). Untrusted text: display escaped.
    pub name: String,
    /// E-mail (may be empty). Untrusted text: display escaped.
    pub email: String,
    /// When the server verified it (unix seconds).
    pub verified_at: i64,
}

fn valid_key_id(id: &str) -> bool {
    (1..=confide_protocol::token::MAX_KEY_ID_LEN).contains(&id.len())
        && id.bytes().all(|b| (0x21..=0x7e).contains(&b))
}

fn check_key_id(id: &str) -> ApiResult<()> {
    if valid_key_id(id) {
        Ok(())
    } else {
        Err(ApiError::bad_request(
            "invalid_key_id",
            "key_id must be 1 to 64 printable ASCII characters without spaces",
        ))
    }
}

/// The key sealing HMAC secrets at rest: HKDF-SHA256 of the root secret.
fn at_rest_key(keys: &ServerKeys) -> Zeroizing<[u8; 32]> {
    let hk = hkdf::Hkdf::<sha2::Sha256>::new(
        Some(b"confide/server/v1"),
        keys.root.dangerous_expose_bytes().as_slice(),
    );
    let mut out = Zeroizing::new([0u8; 32]);
    // 32 bytes is far below HKDF-SHA256's 8160-byte limit: cannot fail.
    let _ = hk.expand(b"hmac-secret-at-rest", out.as_mut_slice());
    out
}

fn aad(org: OrgId, key_id: &str) -> Vec<u8> {
    let mut a = Vec::with_capacity(16 + key_id.len());
    a.extend_from_slice(&org.0);
    a.extend_from_slice(key_id.as_bytes());
    a
}

fn seal_secret(keys: &ServerKeys, org: OrgId, key_id: &str, secret: &[u8]) -> ApiResult<Vec<u8>> {
    let key = at_rest_key(keys);
    let cipher = ChaCha20Poly1305::new(&Key::from(*key));
    let mut nonce = [0u8; 12];
    os_rng().fill_bytes(&mut nonce);
    let ct = cipher
        .encrypt(
            &Nonce::from(nonce),
            Payload {
                msg: secret,
                aad: &aad(org, key_id),
            },
        )
        .map_err(|_| ApiError::internal("sealing an HMAC secret failed"))?;
    let mut out = nonce.to_vec();
    out.extend_from_slice(&ct);
    Ok(out)
}

fn open_secret(
    keys: &ServerKeys,
    org: OrgId,
    key_id: &str,
    sealed: &[u8],
) -> ApiResult<Zeroizing<Vec<u8>>> {
    let (nonce, ct) = sealed
        .split_first_chunk::<12>()
        .ok_or_else(|| ApiError::internal("stored HMAC secret is truncated"))?;
    let key = at_rest_key(keys);
    let cipher = ChaCha20Poly1305::new(&Key::from(*key));
    cipher
        .decrypt(
            &Nonce::from(*nonce),
            Payload {
                msg: ct,
                aad: &aad(org, key_id),
            },
        )
        .map(Zeroizing::new)
        .map_err(|_| ApiError::internal("stored HMAC secret does not open with this root key"))
}

/// The organisation's scheme-1 keys, for the membership statements.
pub async fn token_keys(pool: &SqlitePool, org: OrgId) -> Result<Vec<TokenKey>, sqlx::Error> {
    let rows: Vec<(String, Vec<u8>)> =
        sqlx::query_as("SELECT key_id, public_key FROM token_key WHERE org_id = ? ORDER BY key_id")
            .bind(org.0.as_slice())
            .fetch_all(pool)
            .await?;
    // Rows were validated on insert; skip (never panic on) anything else.
    Ok(rows
        .into_iter()
        .filter_map(|(id, pk)| {
            let pk: [u8; 32] = pk.try_into().ok()?;
            TokenKey::new(id, SigningPublicKey::from_bytes(&pk).ok()?).ok()
        })
        .collect())
}

/// The server-verified identity of a visitor in an inbox, if any.
pub async fn server_verified(
    pool: &SqlitePool,
    visitor_id: i64,
    inbox: InboxId,
) -> Result<Option<ServerVerified>, sqlx::Error> {
    let row: Option<(String, String, String, String, i64)> = sqlx::query_as(
        "SELECT key_id, subject, name, email, verified_at FROM visitor_identity \
         WHERE visitor_id = ? AND inbox_id = ?",
    )
    .bind(visitor_id)
    .bind(inbox.0.as_slice())
    .fetch_optional(pool)
    .await?;
    Ok(row.map(
        |(key_id, subject, name, email, verified_at)| ServerVerified {
            strength: "server_verified".into(),
            key_id,
            subject,
            name,
            email,
            verified_at,
        },
    ))
}

async fn republish_all(state: &AppState) -> ApiResult<()> {
    let org = &state.0.org;
    let inboxes: Vec<(Vec<u8>,)> = sqlx::query_as("SELECT id FROM inbox WHERE org_id = ?")
        .bind(org.id.0.as_slice())
        .fetch_all(&state.0.pool)
        .await?;
    for (id,) in inboxes {
        let id: [u8; 16] = id
            .try_into()
            .map_err(|_| ApiError::internal("stored inbox id has the wrong length"))?;
        crate::managed::publish(&state.0.pool, &org.keys, org.id, InboxId(id), false)
            .await
            .map_err(ApiError::internal)?;
    }
    Ok(())
}

async fn settings(state: &AppState) -> ApiResult<IdentitySettings> {
    let org = state.0.org.id;
    let keys: Vec<(String, Vec<u8>)> =
        sqlx::query_as("SELECT key_id, public_key FROM token_key WHERE org_id = ? ORDER BY key_id")
            .bind(org.0.as_slice())
            .fetch_all(&state.0.pool)
            .await?;
    let hmac: Vec<(String,)> =
        sqlx::query_as("SELECT key_id FROM hmac_secret WHERE org_id = ? ORDER BY key_id")
            .bind(org.0.as_slice())
            .fetch_all(&state.0.pool)
            .await?;
    Ok(IdentitySettings {
        token_keys: keys
            .into_iter()
            .map(|(key_id, pk)| TokenKeyInfo {
                key_id,
                public_key: hex::encode(pk),
            })
            .collect(),
        hmac_key_ids: hmac.into_iter().map(|(k,)| k).collect(),
    })
}

#[utoipa::path(
    get, path = "/api/v1/settings/identity", tag = "settings",
    responses(
        (status = 200, body = IdentitySettings),
        (status = 403, description = "`forbidden`: administrators only", body = ErrorBody),
    )
)]
async fn identity_settings(
    State(state): State<AppState>,
    staff: Staff,
) -> ApiResult<Json<IdentitySettings>> {
    staff.require_admin()?;
    Ok(Json(settings(&state).await?))
}

#[utoipa::path(
    put, path = "/api/v1/settings/identity/token-keys/{key_id}", tag = "settings",
    request_body = PutTokenKey,
    params(("key_id" = String, Path, description = "the key's name")),
    responses(
        (status = 200, description = "registered and published in every inbox's membership", body = IdentitySettings),
        (status = 400, description = "`invalid_key_id`, `invalid_public_key` or `too_many_keys`", body = ErrorBody),
        (status = 403, description = "`forbidden`: administrators only", body = ErrorBody),
    )
)]
async fn put_token_key(
    State(state): State<AppState>,
    staff: Staff,
    AppPath(key_id): AppPath<String>,
    AppJson(req): AppJson<PutTokenKey>,
) -> ApiResult<Json<IdentitySettings>> {
    staff.require_admin()?;
    check_key_id(&key_id)?;
    let invalid = || {
        ApiError::bad_request(
            "invalid_public_key",
            "public_key must be a valid Ed25519 public key, 64 hex digits",
        )
    };
    let bytes: [u8; 32] = hex::decode(req.public_key.trim())
        .ok()
        .and_then(|b| b.try_into().ok())
        .ok_or_else(invalid)?;
    SigningPublicKey::from_bytes(&bytes).map_err(|_| invalid())?;
    let org = state.0.org.id;
    let mut tx = state.0.pool.begin().await?;
    let (count,): (i64,) =
        sqlx::query_as("SELECT count(*) FROM token_key WHERE org_id = ? AND key_id <> ?")
            .bind(org.0.as_slice())
            .bind(&key_id)
            .fetch_one(&mut *tx)
            .await?;
    if usize::try_from(count).unwrap_or(usize::MAX) >= MAX_TOKEN_KEYS {
        return Err(ApiError::bad_request(
            "too_many_keys",
            format!("at most {MAX_TOKEN_KEYS} token keys; delete one first"),
        ));
    }
    sqlx::query(
        "INSERT INTO token_key (org_id, key_id, public_key, created_at) VALUES (?, ?, ?, ?) \
         ON CONFLICT (org_id, key_id) DO UPDATE SET public_key = excluded.public_key",
    )
    .bind(org.0.as_slice())
    .bind(&key_id)
    .bind(bytes.as_slice())
    .bind(db::now())
    .execute(&mut *tx)
    .await?;
    tx.commit().await?;
    tracing::info!(key_id = %key_id, "identity token key registered");
    republish_all(&state).await?;
    Ok(Json(settings(&state).await?))
}

#[utoipa::path(
    delete, path = "/api/v1/settings/identity/token-keys/{key_id}", tag = "settings",
    params(("key_id" = String, Path, description = "the key's name")),
    responses(
        (status = 200, description = "removed from every inbox's membership", body = IdentitySettings),
        (status = 404, description = "`not_found`", body = ErrorBody),
    )
)]
async fn delete_token_key(
    State(state): State<AppState>,
    staff: Staff,
    AppPath(key_id): AppPath<String>,
) -> ApiResult<Json<IdentitySettings>> {
    staff.require_admin()?;
    let done = sqlx::query("DELETE FROM token_key WHERE org_id = ? AND key_id = ?")
        .bind(state.0.org.id.0.as_slice())
        .bind(&key_id)
        .execute(&state.0.pool)
        .await?;
    if done.rows_affected() == 0 {
        return Err(ApiError::not_found("token key"));
    }
    tracing::info!(key_id = %key_id, "identity token key removed");
    republish_all(&state).await?;
    Ok(Json(settings(&state).await?))
}

#[utoipa::path(
    post, path = "/api/v1/settings/identity/hmac-secrets", tag = "settings",
    request_body = CreateHmacSecret,
    responses(
        (status = 201, description = "the secret, shown once", body = HmacSecretCreated),
        (status = 400, description = "`invalid_key_id` or `too_many_keys`", body = ErrorBody),
        (status = 409, description = "`key_exists`", body = ErrorBody),
    )
)]
async fn create_hmac_secret(
    State(state): State<AppState>,
    staff: Staff,
    AppJson(req): AppJson<CreateHmacSecret>,
) -> ApiResult<(StatusCode, Json<HmacSecretCreated>)> {
    staff.require_admin()?;
    check_key_id(&req.key_id)?;
    let org = &state.0.org;
    let mut secret = Zeroizing::new([0u8; HMAC_SECRET_LEN]);
    os_rng().fill_bytes(secret.as_mut_slice());
    let sealed = seal_secret(&org.keys, org.id, &req.key_id, secret.as_slice())?;
    let result = sqlx::query(
        "INSERT INTO hmac_secret (org_id, key_id, sealed, created_at) \
         SELECT ?, ?, ?, ? WHERE (SELECT count(*) FROM hmac_secret WHERE org_id = ?) < ?",
    )
    .bind(org.id.0.as_slice())
    .bind(&req.key_id)
    .bind(sealed)
    .bind(db::now())
    .bind(org.id.0.as_slice())
    .bind(MAX_HMAC_SECRETS)
    .execute(&state.0.pool)
    .await;
    match result {
        Err(sqlx::Error::Database(e)) if e.is_unique_violation() => {
            return Err(ApiError::conflict(
                "key_exists",
                "an HMAC secret with this key_id exists; delete it first to replace it",
            ));
        }
        Ok(done) if done.rows_affected() == 0 => {
            return Err(ApiError::bad_request(
                "too_many_keys",
                format!("at most {MAX_HMAC_SECRETS} HMAC secrets; delete one first"),
            ));
        }
        other => {
            other?;
        }
    }
    tracing::info!(key_id = %req.key_id, "identity HMAC secret created");
    Ok((
        StatusCode::CREATED,
        Json(HmacSecretCreated {
            key_id: req.key_id,
            secret: hex::encode(secret.as_slice()),
        }),
    ))
}

#[utoipa::path(
    delete, path = "/api/v1/settings/identity/hmac-secrets/{key_id}", tag = "settings",
    params(("key_id" = String, Path, description = "the secret's name")),
    responses(
        (status = 204, description = "deleted; tokens made with it are refused from now on"),
        (status = 404, description = "`not_found`", body = ErrorBody),
    )
)]
async fn delete_hmac_secret(
    State(state): State<AppState>,
    staff: Staff,
    AppPath(key_id): AppPath<String>,
) -> ApiResult<StatusCode> {
    staff.require_admin()?;
    let done = sqlx::query("DELETE FROM hmac_secret WHERE org_id = ? AND key_id = ?")
        .bind(state.0.org.id.0.as_slice())
        .bind(&key_id)
        .execute(&state.0.pool)
        .await?;
    if done.rows_affected() == 0 {
        return Err(ApiError::not_found("HMAC secret"));
    }
    tracing::info!(key_id = %key_id, "identity HMAC secret deleted");
    Ok(StatusCode::NO_CONTENT)
}

fn decode_token_text(text: &str) -> Option<Vec<u8>> {
    let t = text.trim();
    if t.is_empty() || t.len() > MAX_TOKEN_TEXT {
        return None;
    }
    if let Ok(b) = hex::decode(t) {
        return Some(b);
    }
    let engines = [
        &base64::engine::general_purpose::STANDARD,
        &base64::engine::general_purpose::STANDARD_NO_PAD,
        &base64::engine::general_purpose::URL_SAFE,
        &base64::engine::general_purpose::URL_SAFE_NO_PAD,
    ];
    engines.iter().find_map(|e| e.decode(t).ok())
}

fn token_error(e: &confide_protocol::Error) -> ApiError {
    // The protocol's stable code names the failed check (§12.6) without
    // echoing any claim or secret.
    ApiError::new(
        StatusCode::UNPROCESSABLE_ENTITY,
        e.code(),
        format!("identity token refused: {e}"),
    )
}

#[utoipa::path(
    post, path = "/api/v1/visitors/me/identity", tag = "visitors",
    request_body = PresentIdentity,
    security(("visitor" = [])),
    responses(
        (status = 200, description = "verified: conversations of this visitor in the token's inbox show the badge", body = ServerVerified),
        (status = 400, description = "`invalid_token`: not base64/hex", body = ErrorBody),
        (status = 409, description = "`token_reused`: this token_id was accepted before", body = ErrorBody),
        (status = 422, description = "the failed check's protocol code: `token_wrong_scheme`, `token_unknown_key`, `bad_signature`, `wrong_scope`, `token_wrong_device`, `token_expired` …", body = ErrorBody),
    )
)]
async fn present_identity(
    State(state): State<AppState>,
    visitor: Visitor,
    AppJson(req): AppJson<PresentIdentity>,
) -> ApiResult<Json<ServerVerified>> {
    let bytes = decode_token_text(&req.token).ok_or_else(|| {
        ApiError::bad_request("invalid_token", "token must be base64 or hex text")
    })?;
    let token = IdentityToken::decode(&bytes).map_err(|e| token_error(&e))?;
    let claims = token.claims();
    let org = &state.0.org;
    let row: Option<(Vec<u8>,)> =
        sqlx::query_as("SELECT sealed FROM hmac_secret WHERE org_id = ? AND key_id = ?")
            .bind(org.id.0.as_slice())
            .bind(&claims.key_id)
            .fetch_optional(&state.0.pool)
            .await?;
    let Some((sealed,)) = row else {
        return Err(token_error(&confide_protocol::Error::TokenUnknownKey));
    };
    let secret = open_secret(&org.keys, org.id, &claims.key_id, &sealed)?;
    let now = db::now();
    let verified = token::verify_hmac(
        &token,
        &secret,
        org.id,
        claims.inbox,
        DeviceId(visitor.device_id),
        Timestamp(u64::try_from(now).unwrap_or(0)),
    )
    .map_err(|e| token_error(&e))?;
    let claims = verified.into_claims();
    let inbox_exists: Option<(i64,)> =
        sqlx::query_as("SELECT 1 FROM inbox WHERE id = ? AND org_id = ?")
            .bind(claims.inbox.0.as_slice())
            .bind(org.id.0.as_slice())
            .fetch_optional(&state.0.pool)
            .await?;
    if inbox_exists.is_none() {
        return Err(token_error(&confide_protocol::Error::WrongScope(
            confide_protocol::Structure::IdentityToken,
        )));
    }
    let expires_at = i64::try_from(claims.expires_at.0).unwrap_or(i64::MAX);
    let mut tx = state.0.pool.begin().await?;
    let fresh = sqlx::query("INSERT INTO used_token (token_id, expires_at) VALUES (?, ?)")
        .bind(claims.token_id.as_slice())
        .bind(expires_at)
        .execute(&mut *tx)
        .await;
    match fresh {
        Err(sqlx::Error::Database(e)) if e.is_unique_violation() => {
            return Err(ApiError::conflict(
                "token_reused",
                "this identity token was already presented; ask the backend for a new one",
            ));
        }
        other => {
            other?;
        }
    }
    sqlx::query(
        "INSERT INTO visitor_identity (visitor_id, inbox_id, key_id, subject, name, email, verified_at) \
         VALUES (?, ?, ?, ?, ?, ?, ?) \
         ON CONFLICT (visitor_id, inbox_id) DO UPDATE SET key_id = excluded.key_id, \
         subject = excluded.subject, name = excluded.name, email = excluded.email, \
         verified_at = excluded.verified_at",
    )
    .bind(visitor.visitor_id)
    .bind(claims.inbox.0.as_slice())
    .bind(&claims.key_id)
    .bind(&claims.subject)
    .bind(&claims.name)
    .bind(&claims.email)
    .bind(now)
    .execute(&mut *tx)
    .await?;
    tx.commit().await?;
    tracing::info!(
        visitor = visitor.visitor_id,
        "visitor identity server-verified"
    );
    Ok(Json(ServerVerified {
        strength: "server_verified".into(),
        key_id: claims.key_id,
        subject: claims.subject,
        name: claims.name,
        email: claims.email,
        verified_at: now,
    }))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn token_text_accepts_hex_and_base64_only() {
        assert_eq!(decode_token_text("00ff"), Some(vec![0, 255]));
        assert_eq!(decode_token_text("AP8="), Some(vec![0, 255]));
        assert_eq!(decode_token_text("AP8"), Some(vec![0, 255]));
        assert_eq!(decode_token_text("_-8"), Some(vec![255, 239]));
        assert_eq!(decode_token_text("not a token!"), None);
        assert_eq!(decode_token_text(""), None);
        assert_eq!(decode_token_text(&"A".repeat(MAX_TOKEN_TEXT + 4)), None);
    }

    #[test]
    fn key_ids_follow_the_protocol() {
        assert!(valid_key_id("backend-2026"));
        assert!(!valid_key_id(""));
        assert!(!valid_key_id("has space"));
        assert!(!valid_key_id(&"k".repeat(65)));
    }
}
