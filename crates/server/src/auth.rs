//! Who is calling: staff sessions and visitor tokens, as axum extractors.
//!
//! Tokens are 32 random bytes, hex-encoded, given to the client once; the
//! database stores only their SHA-256, compared by primary-key lookup (no
//! timing side channel on the secret itself). Staff present theirs as the
//! `confide_session` cookie (HttpOnly, Secure, SameSite=Strict; the
//! console) or as `Authorization: Bearer <token>` (API, SDK). Visitors
//! present `Authorization: Visitor <token>`.
//!
//! A staff member whose password must still be changed (a one-time
//! password set by an administrator or the first start) is refused by the
//! [`Staff`] extractor with 403 `password_change_required`
//! ([`Staff::require_ready`]); only the account endpoints (`/me`, the
//! password change, logout) take a [`StaffSession`], which lets them in.
//!
//! Authorisation (which inboxes and conversations) is checked by the
//! handlers with [`Staff::may_read_inbox`] and friends; this module only
//! establishes identity.

use crate::app::AppState;
use crate::db;
use crate::error::ApiError;
use axum::extract::FromRequestParts;
use axum::http::request::Parts;
use axum::http::{StatusCode, header};
use confide_protocol::InboxId;
use rand_core::Rng;
use sha2::{Digest, Sha256};

/// Name of the console's session cookie.
pub const SESSION_COOKIE: &str = "confide_session";

/// A staff role and its permissions.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum StaffRole {
    /// Users, inboxes, settings.
    Admin,
    /// All conversations of their inboxes.
    Supervisor,
    /// Conversations of their inboxes (optionally only those assigned).
    Agent,
    /// Audit, alerts, abuse reports — never transcripts.
    SecurityOfficer,
}

impl StaffRole {
    /// Parses the database form.
    pub fn parse(s: &str) -> Option<Self> {
        match s {
            "admin" => Some(Self::Admin),
            "supervisor" => Some(Self::Supervisor),
            "agent" => Some(Self::Agent),
            "security_officer" => Some(Self::SecurityOfficer),
            _ => None,
        }
    }

    /// The database form.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Admin => "admin",
            Self::Supervisor => "supervisor",
            Self::Agent => "agent",
            Self::SecurityOfficer => "security_officer",
        }
    }

    /// Whether this role may see conversation metadata and envelopes at all.
    pub fn reads_conversations(self) -> bool {
        matches!(self, Self::Supervisor | Self::Agent)
    }

    /// Whether this role manages users, inboxes and settings.
    pub fn administers(self) -> bool {
        matches!(self, Self::Admin)
    }
}

/// An authenticated staff member.
#[derive(Clone, Debug)]
pub struct Staff {
    /// User id.
    pub user_id: i64,
    /// Role.
    pub role: StaffRole,
    /// Inboxes the user belongs to.
    pub inboxes: Vec<InboxId>,
    /// Must change the one-time password before anything else.
    pub must_change_password: bool,
}

impl Staff {
    /// Whether the user belongs to `inbox`.
    pub fn in_inbox(&self, inbox: &InboxId) -> bool {
        self.inboxes.contains(inbox)
    }

    /// Whether the user may read conversations of `inbox`.
    pub fn may_read_inbox(&self, inbox: &InboxId) -> bool {
        self.role.reads_conversations() && self.in_inbox(inbox)
    }

    /// 403 `password_change_required` while the one-time password has not
    /// been changed. The [`Staff`] extractor already calls it; code holding
    /// a [`StaffSession`] calls it before anything but account management.
    pub fn require_ready(&self) -> Result<(), ApiError> {
        if self.must_change_password {
            return Err(ApiError::new(
                StatusCode::FORBIDDEN,
                "password_change_required",
                "change your one-time password first (POST /api/v1/me/password)",
            ));
        }
        Ok(())
    }

    /// 403 `forbidden` unless the user is an administrator.
    pub fn require_admin(&self) -> Result<(), ApiError> {
        if self.role.administers() {
            Ok(())
        } else {
            Err(ApiError::forbidden("administrators only"))
        }
    }
}

/// An authenticated staff session, whether or not its password must still
/// be changed: for the account endpoints only (`/me`, password change,
/// logout). Everything else extracts [`Staff`].
#[derive(Clone, Debug)]
pub struct StaffSession {
    /// Who.
    pub staff: Staff,
    /// SHA-256 of the presented session token (the `session` row's key).
    pub token_hash: [u8; 32],
}

/// An authenticated visitor.
#[derive(Clone, Debug)]
pub struct Visitor {
    /// Visitor row id.
    pub visitor_id: i64,
    /// The visitor's device id.
    pub device_id: [u8; 32],
    /// Blocked visitors may read but not send.
    pub blocked: bool,
}

/// A fresh random token (hex) and the SHA-256 to store.
pub fn new_token() -> (String, [u8; 32]) {
    let mut raw = [0u8; 32];
    crate::keys::os_rng().fill_bytes(&mut raw);
    let token = hex::encode(raw);
    let hash = token_hash(&token);
    (token, hash)
}

/// SHA-256 of a presented token.
pub fn token_hash(token: &str) -> [u8; 32] {
    Sha256::digest(token.as_bytes()).into()
}

fn bearer<'a>(parts: &'a Parts, scheme: &str) -> Option<&'a str> {
    let value = parts.headers.get(header::AUTHORIZATION)?.to_str().ok()?;
    let (s, token) = value.split_once(' ')?;
    s.eq_ignore_ascii_case(scheme).then_some(token.trim())
}

fn cookie<'a>(parts: &'a Parts, name: &str) -> Option<&'a str> {
    parts
        .headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .filter_map(|kv| kv.trim().split_once('='))
        .find_map(|(k, v)| (k == name).then_some(v))
}

impl FromRequestParts<AppState> for Staff {
    type Rejection = ApiError;

    /// A live session whose password need not be changed (else 401 or 403).
    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, ApiError> {
        let session = StaffSession::from_request_parts(parts, state).await?;
        session.staff.require_ready()?;
        Ok(session.staff)
    }
}

/// How stale a session's `last_seen` may get before a request refreshes it.
pub const LAST_SEEN_GRANULARITY_SECS: i64 = 60;

impl FromRequestParts<AppState> for StaffSession {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, ApiError> {
        let token = bearer(parts, "Bearer")
            .or_else(|| cookie(parts, SESSION_COOKIE))
            .ok_or_else(ApiError::unauthorized)?;
        let hash = token_hash(token);
        let now = db::now();
        let cache = &state.0.cache;
        if let Some(hit) = cache.session(&hash) {
            if hit.expires_at <= now {
                return Err(ApiError::unauthorized());
            }
            return Ok(StaffSession {
                staff: hit.staff,
                token_hash: hash,
            });
        }
        let epoch = cache.epoch();
        // One round trip: the user, its session's last use and its inboxes.
        let row: Option<(i64, String, i64, i64, i64, Option<String>)> = sqlx::query_as(
            "SELECT u.id, u.role, u.must_change_password, s.last_seen, s.expires_at, \
             (SELECT group_concat(hex(inbox_id)) FROM user_inbox WHERE user_id = u.id) \
             FROM session s JOIN user u ON u.id = s.user_id \
             WHERE s.token_hash = ? AND s.expires_at > ? AND u.disabled = 0",
        )
        .bind(hash.as_slice())
        .bind(now)
        .fetch_optional(&state.0.pool)
        .await?;
        let (user_id, role, must_change, last_seen, expires_at, inboxes) =
            row.ok_or_else(ApiError::unauthorized)?;
        let role = StaffRole::parse(&role)
            .ok_or_else(|| ApiError::internal("unknown role in database"))?;
        let inboxes = inboxes
            .as_deref()
            .unwrap_or("")
            .split(',')
            .filter_map(InboxId::from_hex)
            .collect();
        // `last_seen` is coarse on purpose: writing it on every request
        // would be one more fsync'd transaction per API call.
        if now - last_seen >= LAST_SEEN_GRANULARITY_SECS {
            sqlx::query("UPDATE session SET last_seen = ? WHERE token_hash = ?")
                .bind(now)
                .bind(hash.as_slice())
                .execute(&state.0.pool)
                .await?;
        }
        let staff = Staff {
            user_id,
            role,
            inboxes,
            must_change_password: must_change != 0,
        };
        cache.put_session(
            hash,
            crate::cache::CachedSession {
                staff: staff.clone(),
                expires_at,
            },
            epoch,
        );
        Ok(StaffSession {
            staff,
            token_hash: hash,
        })
    }
}

impl FromRequestParts<AppState> for Visitor {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, ApiError> {
        let token = bearer(parts, "Visitor").ok_or_else(ApiError::unauthorized)?;
        let hash = token_hash(token);
        let cache = &state.0.cache;
        if let Some(hit) = cache.visitor(&hash) {
            return Ok(hit);
        }
        let epoch = cache.epoch();
        let row: Option<(i64, Vec<u8>, Option<i64>)> =
            sqlx::query_as("SELECT id, device_id, blocked_at FROM visitor WHERE token_hash = ?")
                .bind(hash.as_slice())
                .fetch_optional(&state.0.pool)
                .await?;
        let (visitor_id, device_id, blocked_at) = row.ok_or_else(ApiError::unauthorized)?;
        let device_id = <[u8; 32]>::try_from(device_id)
            .map_err(|_| ApiError::internal("corrupt visitor device id"))?;
        let visitor = Visitor {
            visitor_id,
            device_id,
            blocked: blocked_at.is_some(),
        };
        cache.put_visitor(hash, visitor.clone(), epoch);
        Ok(visitor)
    }
}
