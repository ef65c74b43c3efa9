//! `/api/v1/devices` and `/api/v1/inboxes/{inbox_id}/chain`: staff devices
//! and the signed statement chains they are certified into.
//!
//! A staff member registers the public identity (docs/protocol.md §4.1) of
//! a console, scanner or CLI device. In managed mode the server then
//! re-publishes the membership of each of the user's inboxes
//! ([`crate::managed::publish`]): a console joins with the user's role, a
//! scanner with role Scanner, and a new key generation is sealed to the
//! inbox readers. Revoking a device re-publishes at once, so the device is
//! out of the membership and never receives the next generation.
//!
//! The chain endpoint serves, to anyone, the exact signed encodings of an
//! inbox's statements (they hold public keys, aliases and sealed names
//! only); clients verify them from the root key they pinned.
//!
//! Non-goals: the server never sees a device's secret key; strict mode
//! (root key offline, devices certified by an administrator) comes later.

use crate::app::AppState;
use crate::auth::Staff;
use crate::db;
use crate::error::{ApiError, ApiResult, ErrorBody};
use crate::extract::{AppJson, AppPath, AppQuery};
use axum::extract::State;
use axum::http::StatusCode;
use axum::routing::{delete, get};
use axum::{Json, Router};
use confide_protocol::{InboxId, PublicIdentity};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, OpenApi, ToSchema};

#[derive(OpenApi)]
#[openapi(
    paths(register_device, list_devices, revoke_device, inbox_chain),
    components(schemas(RegisterDevice, DeviceKind, DeviceInfo, DeviceList, ChainResponse))
)]
struct Doc;

/// This area's routes.
pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/api/v1/devices", get(list_devices).post(register_device))
        .route("/api/v1/devices/{device_id}", delete(revoke_device))
        .route("/api/v1/inboxes/{inbox_id}/chain", get(inbox_chain))
}

/// This area's OpenAPI paths and schemas.
pub fn document() -> utoipa::openapi::OpenApi {
    Doc::openapi()
}

/// What kind of device a staff member registers.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Deserialize, Serialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum DeviceKind {
    /// An agent console (browser); joins the user's inboxes with the user's role.
    Console,
    /// An attachment scanner; joins with role Scanner. Administrators only.
    Scanner,
    /// The command-line tool; never a member.
    Cli,
}

impl DeviceKind {
    fn as_str(self) -> &'static str {
        match self {
            Self::Console => "console",
            Self::Scanner => "scanner",
            Self::Cli => "cli",
        }
    }

    fn parse(s: &str) -> Option<Self> {
        match s {
            "console" => Some(Self::Console),
            "scanner" => Some(Self::Scanner),
            "cli" => Some(Self::Cli),
            _ => None,
        }
    }

    /// Whether devices of this kind appear in membership statements.
    fn is_member(self) -> bool {
        matches!(self, Self::Console | Self::Scanner)
    }
}

/// `POST /api/v1/devices` body.
#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct RegisterDevice {
    /// Hex of the 65-byte public identity (docs/protocol.md §4.1).
    pub identity: String,
    /// Device kind.
    pub kind: DeviceKind,
    /// A label for the user, 1–64 characters (e.g. "Laptop, Firefox").
    pub label: String,
}

/// A registered device.
#[derive(Serialize, ToSchema)]
pub struct DeviceInfo {
    /// Device id (hex, 32 bytes): the labelled hash of the identity.
    pub device_id: String,
    /// Public identity (hex, 65 bytes).
    pub identity: String,
    /// Device kind.
    pub kind: DeviceKind,
    /// The user's label.
    pub label: String,
    /// Registration time (unix seconds).
    pub created_at: i64,
    /// Revocation time, if revoked.
    pub revoked_at: Option<i64>,
}

/// `GET /api/v1/devices` body.
#[derive(Serialize, ToSchema)]
pub struct DeviceList {
    /// The caller's devices, oldest first, revoked ones included.
    pub devices: Vec<DeviceInfo>,
}

/// Longest device label, in characters.
const MAX_LABEL_CHARS: usize = 64;

/// Parses a hex public identity from a request.
pub(crate) fn parse_identity(hex_identity: &str) -> ApiResult<PublicIdentity> {
    let bytes = hex::decode(hex_identity).map_err(|_| {
        ApiError::new(
            StatusCode::UNPROCESSABLE_ENTITY,
            "invalid_identity",
            "identity must be the hex of a 65-byte public identity",
        )
    })?;
    Ok(PublicIdentity::decode(&bytes)?)
}

type DeviceRow = (Vec<u8>, Vec<u8>, String, String, i64, Option<i64>);

fn device_info(row: DeviceRow) -> ApiResult<DeviceInfo> {
    let (device_id, identity, kind, label, created_at, revoked_at) = row;
    Ok(DeviceInfo {
        device_id: hex::encode(device_id),
        identity: hex::encode(identity),
        kind: DeviceKind::parse(&kind).ok_or_else(|| ApiError::internal("unknown device kind"))?,
        label,
        created_at,
        revoked_at,
    })
}

/// Re-publishes (managed mode) the membership of every inbox `user_id`
/// belongs to. A publish that lost a race with a concurrent one (same next
/// `seq`) is retried once: publishing re-derives everything from the
/// database, so the retry is correct and idempotent.
pub(crate) async fn republish_user_inboxes(state: &AppState, user_id: i64) -> ApiResult<()> {
    let rows: Vec<(Vec<u8>,)> = sqlx::query_as("SELECT inbox_id FROM user_inbox WHERE user_id = ?")
        .bind(user_id)
        .fetch_all(&state.0.pool)
        .await?;
    for (inbox,) in rows {
        let inbox = InboxId(
            inbox
                .try_into()
                .map_err(|_| ApiError::internal("corrupt inbox id"))?,
        );
        republish_inbox(state, inbox).await?;
    }
    Ok(())
}

/// Re-publishes one inbox's membership (managed mode), retrying once.
pub(crate) async fn republish_inbox(state: &AppState, inbox: InboxId) -> ApiResult<()> {
    let org = &state.0.org;
    let first = crate::managed::publish(&state.0.pool, &org.keys, org.id, inbox, false).await;
    if let Err(e) = first {
        tracing::warn!(error = %e, inbox = %inbox, "publishing membership failed; retrying once");
        crate::managed::publish(&state.0.pool, &org.keys, org.id, inbox, false)
            .await
            .map_err(ApiError::internal)?;
    }
    Ok(())
}

/// Registers a device for the calling staff member and, for consoles and
/// scanners, certifies it into the user's inboxes (new membership and key
/// generation). Registering the same identity again with the same kind is a
/// no-op answering 200.
#[utoipa::path(
    post, path = "/api/v1/devices", tag = "devices",
    request_body = RegisterDevice,
    responses(
        (status = 201, description = "Registered and certified", body = DeviceInfo),
        (status = 200, description = "Already registered to the caller", body = DeviceInfo),
        (status = 401, body = ErrorBody),
        (status = 403, description = "Scanners may only be registered by administrators", body = ErrorBody),
        (status = 409, description = "`device_conflict` (another owner, kind, or a revoked device)", body = ErrorBody),
        (status = 422, description = "`invalid_identity`, `invalid_label` or a protocol decoding code", body = ErrorBody),
    ),
    security(("bearer" = []))
)]
async fn register_device(
    State(state): State<AppState>,
    staff: Staff,
    AppJson(req): AppJson<RegisterDevice>,
) -> ApiResult<(StatusCode, Json<DeviceInfo>)> {
    let identity = parse_identity(&req.identity)?;
    let label = req.label.trim();
    if label.is_empty()
        || label.chars().count() > MAX_LABEL_CHARS
        || label.chars().any(char::is_control)
    {
        return Err(ApiError::new(
            StatusCode::UNPROCESSABLE_ENTITY,
            "invalid_label",
            format!("label must be 1–{MAX_LABEL_CHARS} printable characters"),
        ));
    }
    if req.kind == DeviceKind::Scanner && !staff.role.administers() {
        return Err(ApiError::forbidden(
            "only administrators register scanner devices",
        ));
    }
    let device_id = identity.device_id();
    if identity_is_visitor(&state, &device_id.0).await? {
        return Err(ApiError::conflict(
            "device_conflict",
            "this device is registered as a visitor",
        ));
    }
    let inserted = sqlx::query(
        "INSERT INTO device (device_id, identity, user_id, kind, label, created_at) \
         VALUES (?, ?, ?, ?, ?, ?) ON CONFLICT (device_id) DO NOTHING",
    )
    .bind(device_id.0.as_slice())
    .bind(identity.encode().as_slice())
    .bind(staff.user_id)
    .bind(req.kind.as_str())
    .bind(label)
    .bind(db::now())
    .execute(&state.0.pool)
    .await?
    .rows_affected()
        == 1;
    let (owner, kind, revoked_at): (Option<i64>, String, Option<i64>) =
        sqlx::query_as("SELECT user_id, kind, revoked_at FROM device WHERE device_id = ?")
            .bind(device_id.0.as_slice())
            .fetch_one(&state.0.pool)
            .await?;
    if !inserted {
        let same =
            owner == Some(staff.user_id) && kind == req.kind.as_str() && revoked_at.is_none();
        if !same {
            return Err(ApiError::conflict(
                "device_conflict",
                "this device is registered to another account, with another kind, or was revoked",
            ));
        }
    }
    let info = load_device(&state, &device_id.0).await?;
    if !inserted {
        return Ok((StatusCode::OK, Json(info)));
    }
    tracing::info!(user = staff.user_id, device = %device_id, kind = req.kind.as_str(), "device registered");
    if req.kind.is_member() {
        republish_user_inboxes(&state, staff.user_id).await?;
    }
    Ok((StatusCode::CREATED, Json(info)))
}

async fn load_device(state: &AppState, device_id: &[u8]) -> ApiResult<DeviceInfo> {
    let row: DeviceRow = sqlx::query_as(
        "SELECT device_id, identity, kind, label, created_at, revoked_at FROM device WHERE device_id = ?",
    )
    .bind(device_id)
    .fetch_one(&state.0.pool)
    .await?;
    device_info(row)
}

async fn identity_is_visitor(state: &AppState, device_id: &[u8]) -> ApiResult<bool> {
    let row: Option<(i64,)> = sqlx::query_as("SELECT id FROM visitor WHERE device_id = ?")
        .bind(device_id)
        .fetch_optional(&state.0.pool)
        .await?;
    Ok(row.is_some())
}

/// The caller's devices, revoked ones included.
#[utoipa::path(
    get, path = "/api/v1/devices", tag = "devices",
    responses((status = 200, body = DeviceList), (status = 401, body = ErrorBody)),
    security(("bearer" = []))
)]
async fn list_devices(State(state): State<AppState>, staff: Staff) -> ApiResult<Json<DeviceList>> {
    let rows: Vec<DeviceRow> = sqlx::query_as(
        "SELECT device_id, identity, kind, label, created_at, revoked_at FROM device \
         WHERE user_id = ? ORDER BY created_at, rowid",
    )
    .bind(staff.user_id)
    .fetch_all(&state.0.pool)
    .await?;
    let devices = rows
        .into_iter()
        .map(device_info)
        .collect::<ApiResult<_>>()?;
    Ok(Json(DeviceList { devices }))
}

/// Revokes a device (the caller's own; administrators any staff device).
/// The device leaves its inboxes' membership at once and a new key
/// generation it cannot open is issued. Revoking twice is a no-op.
#[utoipa::path(
    delete, path = "/api/v1/devices/{device_id}", tag = "devices",
    params(("device_id" = String, Path, description = "Device id (hex, 32 bytes)")),
    responses(
        (status = 204, description = "Revoked"),
        (status = 401, body = ErrorBody),
        (status = 404, description = "No such device of the caller's", body = ErrorBody),
    ),
    security(("bearer" = []))
)]
async fn revoke_device(
    State(state): State<AppState>,
    staff: Staff,
    AppPath(device_id): AppPath<String>,
) -> ApiResult<StatusCode> {
    let id = confide_protocol::DeviceId::from_hex(&device_id)
        .ok_or_else(|| ApiError::not_found("device"))?;
    let row: Option<(Option<i64>, String)> =
        sqlx::query_as("SELECT user_id, kind FROM device WHERE device_id = ?")
            .bind(id.0.as_slice())
            .fetch_optional(&state.0.pool)
            .await?;
    // The server's own device (no owner) is never revocable here.
    let Some((Some(owner), kind)) = row else {
        return Err(ApiError::not_found("device"));
    };
    if owner != staff.user_id && !staff.role.administers() {
        return Err(ApiError::not_found("device"));
    }
    let changed =
        sqlx::query("UPDATE device SET revoked_at = ? WHERE device_id = ? AND revoked_at IS NULL")
            .bind(db::now())
            .bind(id.0.as_slice())
            .execute(&state.0.pool)
            .await?
            .rows_affected();
    state.0.cache.invalidate();
    if changed == 1 {
        tracing::info!(by = staff.user_id, owner, device = %id, "device revoked");
    }
    if DeviceKind::parse(&kind).is_some_and(DeviceKind::is_member) {
        // Also after a repeated call: a publish interrupted earlier completes now.
        republish_user_inboxes(&state, owner).await?;
    }
    Ok(StatusCode::NO_CONTENT)
}

/// `GET /api/v1/inboxes/{inbox_id}/chain` query.
#[derive(Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct ChainQuery {
    /// Return only membership statements with `seq ≥` this.
    pub membership_from: Option<u32>,
    /// Return only generation statements with `generation ≥` this.
    pub generation_from: Option<u32>,
}

/// An inbox's statement chains, hex of the exact signed encodings, in chain order.
#[derive(Serialize, ToSchema)]
pub struct ChainResponse {
    /// Organisation id (hex).
    pub org_id: String,
    /// Inbox id (hex).
    pub inbox_id: String,
    /// Root public key of epoch 0 (hex); pin it by its fingerprint.
    pub root_key: String,
    /// Root rotations (docs/protocol.md §5.4), epoch 1 first.
    pub rotations: Vec<String>,
    /// Signed membership statements (§5.2), from `membership_from`.
    pub memberships: Vec<String>,
    /// Signed generation statements (§6.2), from `generation_from`.
    pub generations: Vec<String>,
}

/// An inbox's root rotations, membership and key-generation statements.
/// Public: statements hold public keys, aliases and sealed names only.
#[utoipa::path(
    get, path = "/api/v1/inboxes/{inbox_id}/chain", tag = "devices",
    params(("inbox_id" = String, Path, description = "Inbox id (hex, 16 bytes)"), ChainQuery),
    responses(
        (status = 200, body = ChainResponse),
        (status = 404, body = ErrorBody),
    )
)]
async fn inbox_chain(
    State(state): State<AppState>,
    AppPath(inbox_id): AppPath<String>,
    AppQuery(q): AppQuery<ChainQuery>,
) -> ApiResult<Json<ChainResponse>> {
    let inbox = InboxId::from_hex(&inbox_id).ok_or_else(|| ApiError::not_found("inbox"))?;
    let org = &state.0.org;
    let pool = &state.0.pool;
    let exists: Option<(i64,)> = sqlx::query_as("SELECT 1 FROM inbox WHERE id = ? AND org_id = ?")
        .bind(inbox.0.as_slice())
        .bind(org.id.0.as_slice())
        .fetch_optional(pool)
        .await?;
    if exists.is_none() {
        return Err(ApiError::not_found("inbox"));
    }
    let (root_key,): (Vec<u8>,) = sqlx::query_as("SELECT root_key FROM organisation WHERE id = ?")
        .bind(org.id.0.as_slice())
        .fetch_one(pool)
        .await?;
    let hexes = |rows: Vec<(Vec<u8>,)>| rows.into_iter().map(|(b,)| hex::encode(b)).collect();
    let rotations: Vec<(Vec<u8>,)> =
        sqlx::query_as("SELECT bytes FROM root_rotation WHERE org_id = ? ORDER BY epoch")
            .bind(org.id.0.as_slice())
            .fetch_all(pool)
            .await?;
    let memberships: Vec<(Vec<u8>,)> = sqlx::query_as(
        "SELECT bytes FROM membership_statement WHERE inbox_id = ? AND seq >= ? ORDER BY seq",
    )
    .bind(inbox.0.as_slice())
    .bind(q.membership_from.unwrap_or(0))
    .fetch_all(pool)
    .await?;
    let generations: Vec<(Vec<u8>,)> = sqlx::query_as(
        "SELECT bytes FROM generation_statement WHERE inbox_id = ? AND generation >= ? ORDER BY generation",
    )
    .bind(inbox.0.as_slice())
    .bind(q.generation_from.unwrap_or(0))
    .fetch_all(pool)
    .await?;
    Ok(Json(ChainResponse {
        org_id: org.id.to_hex(),
        inbox_id: inbox.to_hex(),
        root_key: hex::encode(root_key),
        rotations: hexes(rotations),
        memberships: hexes(memberships),
        generations: hexes(generations),
    }))
}
