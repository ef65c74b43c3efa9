//! `/api/v1/conversations/{id}/envelopes`: sending envelopes and catching up.
//!
//! A send is the raw envelope (`application/octet-stream`, at most
//! `MAX_ENVELOPE` bytes) from the conversation's visitor or from a staff
//! member who may see the conversation, naming the device that signed it in
//! `X-Confide-Device`. The server checks what it can without any key
//! (docs/protocol.md §9.1 steps 1–5: size, canonical form, conversation,
//! signature, sender authorisation under the *current* statements,
//! required recipients, audience), that the signer is the authenticated
//! device, then hands it to the group-commit writer (`crate::delivery`) and
//! answers once it is durably committed: 201 `{seq, hash, duplicate:false}`,
//! or 200 with the original seq and `duplicate:true` for a retry of a
//! stored envelope. Catch-up returns stored envelopes after a seq; visitors
//! never receive internal notes.
//!
//! Non-goals: reading envelopes (impossible without keys); live delivery
//! (`crate::api::ws`).

use crate::access::{
    Caller, ConversationRow, ConversationState, conversation_access, conversation_access_cached,
};
use crate::app::AppState;
use crate::delivery::{self, Append, AppendError, Outcome};
use crate::error::{ApiError, ApiResult, ErrorBody};
use crate::extract::{AppPath, AppQuery};
use axum::body::Bytes;
use axum::extract::rejection::BytesRejection;
use axum::extract::{DefaultBodyLimit, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::routing::get;
use axum::{Json, Router};
use base64::Engine;
use confide_protocol::conversation::Conversation;
use confide_protocol::envelope::{self, Audience, Envelope, MAX_ENVELOPE, OpenMode};
use confide_protocol::state::TrustAnchor;
use confide_protocol::{ConversationId, DeviceId, Timestamp};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, OpenApi, ToSchema};

/// The header naming the staff device that signed a sent envelope.
pub const DEVICE_HEADER: &str = "x-confide-device";
/// Envelopes one catch-up page returns by default.
pub const DEFAULT_PAGE: u32 = 100;
/// Most envelopes one catch-up page returns.
pub const MAX_PAGE: u32 = 1000;

#[derive(OpenApi)]
#[openapi(
    paths(send_envelope, catch_up),
    components(schemas(EnvelopeBytes, Appended, EnvelopePage, StoredItem))
)]
struct Doc;

/// This area's routes.
pub fn routes() -> Router<AppState> {
    Router::new().route(
        "/api/v1/conversations/{id}/envelopes",
        get(catch_up)
            .post(send_envelope)
            .layer(DefaultBodyLimit::max(MAX_ENVELOPE)),
    )
}

/// This area's OpenAPI paths and schemas.
pub fn document() -> utoipa::openapi::OpenApi {
    Doc::openapi()
}

/// The raw envelope (docs/protocol.md §8.4).
#[derive(ToSchema)]
#[schema(value_type = String, format = Binary)]
pub struct EnvelopeBytes(pub Vec<u8>);

/// A stored (or already stored) envelope.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct Appended {
    /// Its sequence number in the conversation.
    pub seq: i64,
    /// The envelope hash (hex, §8.5).
    pub hash: String,
    /// Whether this exact envelope had been stored before (a retry).
    pub duplicate: bool,
}

/// `GET …/envelopes` query.
#[derive(Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct CatchUpQuery {
    /// Only envelopes with a higher seq (default 0: from the start).
    pub after: Option<i64>,
    /// At most this many (default 100, at most 1000).
    pub limit: Option<u32>,
}

/// One stored envelope.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct StoredItem {
    /// Sequence number.
    pub seq: i64,
    /// The envelope (standard base64).
    pub envelope: String,
    /// When the server stored it (unix seconds).
    pub received_at: i64,
}

/// A page of stored envelopes.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct EnvelopePage {
    /// In seq order. Visitors get no internal notes (their seqs are skipped).
    pub envelopes: Vec<StoredItem>,
    /// The conversation's highest seq.
    pub last_seq: i64,
    /// Whether envelopes after this page exist (ask again with `after`).
    pub has_more: bool,
}

fn parse_id(id: &str) -> ApiResult<ConversationId> {
    ConversationId::from_hex(id).ok_or_else(|| ApiError::not_found("conversation"))
}

fn unprocessable(code: &'static str, message: impl Into<String>) -> ApiError {
    ApiError::new(StatusCode::UNPROCESSABLE_ENTITY, code, message)
}

/// The device a staff caller names, if it is one of theirs and not revoked.
async fn staff_device(state: &AppState, user_id: i64, named: Option<&str>) -> ApiResult<DeviceId> {
    let device = named.and_then(DeviceId::from_hex).ok_or_else(|| {
        ApiError::bad_request(
            "invalid_device_header",
            "staff must name the signing device in X-Confide-Device (64 hex digits)",
        )
    })?;
    let cache = &state.0.cache;
    if cache.staff_device(user_id, &device.0) {
        return Ok(device);
    }
    let epoch = cache.epoch();
    let row: Option<(i64,)> = sqlx::query_as(
        "SELECT 1 FROM device WHERE device_id = ? AND user_id = ? AND revoked_at IS NULL",
    )
    .bind(device.0.as_slice())
    .bind(user_id)
    .fetch_optional(&state.0.pool)
    .await?;
    if row.is_some() {
        cache.put_staff_device(user_id, device.0, epoch);
    }
    row.map(|_| device).ok_or_else(|| {
        ApiError::new(
            StatusCode::FORBIDDEN,
            "device_not_allowed",
            "the named device is not a current device of the caller",
        )
    })
}

/// The hash (hex) and seq of the envelope stored under `e`'s idempotency key.
async fn stored_under_key(
    state: &AppState,
    conversation: ConversationId,
    e: &Envelope,
    counter: i64,
) -> ApiResult<Option<(i64, Vec<u8>)>> {
    let h = e.header();
    Ok(sqlx::query_as(
        "SELECT seq, hash FROM envelope WHERE conversation_id = ? AND sender_device = ? \
         AND instance = ? AND counter = ?",
    )
    .bind(conversation.0.as_slice())
    .bind(h.sender.0.as_slice())
    .bind(h.instance.0.as_slice())
    .bind(counter)
    .fetch_optional(&state.0.pool)
    .await?)
}

fn now() -> Timestamp {
    Timestamp(u64::try_from(crate::db::now()).unwrap_or(0))
}

/// Sends an envelope into a conversation: the visitor's own, or a staff
/// member's signed by one of their devices (`X-Confide-Device`).
#[utoipa::path(
    post, path = "/api/v1/conversations/{id}/envelopes", tag = "envelopes",
    params(
        ("id" = String, Path, description = "Conversation id (hex)"),
        ("X-Confide-Device" = Option<String>, Header, description = "Staff only: the signing device id (hex)"),
    ),
    request_body(content = EnvelopeBytes, content_type = "application/octet-stream"),
    responses(
        (status = 201, description = "Stored durably", body = Appended),
        (status = 200, description = "This envelope was stored before (a retry)", body = Appended),
        (status = 400, description = "`invalid_device_header`", body = ErrorBody),
        (status = 401, body = ErrorBody),
        (status = 403, description = "`visitor_blocked`, `device_not_allowed` or `wrong_sender` (not signed by the authenticated device)", body = ErrorBody),
        (status = 404, description = "No such conversation the caller may see", body = ErrorBody),
        (status = 409, description = "`counter_reused` (another envelope under this sender, instance and counter) or `conversation_closed`", body = ErrorBody),
        (status = 413, description = "`payload_too_large`", body = ErrorBody),
        (status = 415, description = "`unsupported_media_type`", body = ErrorBody),
        (status = 422, description = "A protocol check failed; the code names it (`bad_signature`, `wrong_conversation`, `stale_statement`, `missing_required_recipient`, …)", body = ErrorBody),
        (status = 429, description = "`rate_limited` (visitor sends)", body = ErrorBody),
        (status = 503, description = "`statements_unavailable`: the inbox's statements do not verify now", body = ErrorBody),
    ),
    security(("bearer" = []), ("visitor" = []))
)]
async fn send_envelope(
    State(state): State<AppState>,
    caller: Caller,
    headers: HeaderMap,
    AppPath(id): AppPath<String>,
    body: Result<Bytes, BytesRejection>,
) -> ApiResult<(StatusCode, Json<Appended>)> {
    let id = parse_id(&id)?;
    let bytes = body.map_err(|r| {
        if r.status() == StatusCode::PAYLOAD_TOO_LARGE {
            ApiError::new(
                StatusCode::PAYLOAD_TOO_LARGE,
                "payload_too_large",
                format!("an envelope is at most {MAX_ENVELOPE} bytes"),
            )
        } else {
            ApiError::bad_request("invalid_body", r.body_text())
        }
    })?;
    let media_ok = headers.get(header::CONTENT_TYPE).is_none_or(|v| {
        v.to_str()
            .is_ok_and(|s| s.trim().eq_ignore_ascii_case("application/octet-stream"))
    });
    if !media_ok {
        return Err(ApiError::new(
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            "unsupported_media_type",
            "send the envelope as application/octet-stream",
        ));
    }
    let named = headers.get(DEVICE_HEADER).and_then(|v| v.to_str().ok());
    let (status, appended) = submit(&state, &caller, id, named, bytes).await?;
    Ok((status, Json(appended)))
}

/// Checks and stores one envelope for `caller` (REST and WebSocket sends):
/// rate limit, access, blocked visitor, the staff device `named`, §9.1
/// checks, then the group-commit writer. Answers after the commit: 201
/// for a new envelope, 200 for a retry of a stored one.
pub(crate) async fn submit(
    state: &AppState,
    caller: &Caller,
    id: ConversationId,
    named: Option<&str>,
    bytes: Bytes,
) -> ApiResult<(StatusCode, Appended)> {
    let delivery = &state.0.delivery;
    if let Caller::Visitor(v) = caller
        && !delivery.admit_visitor_send(v.visitor_id)
    {
        return Err(ApiError::too_many_requests("too many messages; slow down"));
    }
    if bytes.len() > MAX_ENVELOPE {
        return Err(ApiError::new(
            StatusCode::PAYLOAD_TOO_LARGE,
            "payload_too_large",
            format!("an envelope is at most {MAX_ENVELOPE} bytes"),
        ));
    }
    let row = conversation_access_cached(state, caller, id).await?;
    let device = match caller {
        Caller::Visitor(v) if v.blocked => {
            return Err(ApiError::new(
                StatusCode::FORBIDDEN,
                "visitor_blocked",
                "this visitor is blocked",
            ));
        }
        Caller::Visitor(_) => row.visitor_device,
        Caller::Staff(s) => staff_device(state, s.user_id, named).await?,
    };

    let decoded = Envelope::decode(&bytes)?;
    let h = decoded.header();
    if h.sender != device {
        return Err(ApiError::new(
            StatusCode::FORBIDDEN,
            "wrong_sender",
            "the envelope is not signed by the authenticated device",
        ));
    }
    let counter = i64::try_from(h.counter.0)
        .map_err(|_| unprocessable("counter_out_of_range", "counter exceeds 2^63 - 1"))?;
    let hash = decoded.hash();
    let audience = match check(state, caller, &row, &bytes, h.audience).await {
        Ok(audience) => audience,
        Err(e) => {
            // A retry of a stored envelope gets its original seq, even if the
            // conversation was closed or the statements moved on since.
            if let Some((seq, stored)) = stored_under_key(state, id, &decoded, counter).await?
                && stored == hash.0
            {
                return Ok(appended(StatusCode::OK, seq, &stored, true));
            }
            return Err(e);
        }
    };
    let outcome = delivery
        .append(Append {
            conversation: id,
            sender: h.sender,
            instance: h.instance,
            counter,
            hash,
            audience: audience as u8,
            bytes,
        })
        .await
        .map_err(|e| match e {
            AppendError::CounterReused => ApiError::conflict(
                "counter_reused",
                "another envelope was stored under this sender, instance and counter",
            ),
            AppendError::NoConversation => ApiError::not_found("conversation"),
            AppendError::Stopped | AppendError::Db(_) => ApiError::internal(e),
        })?;
    Ok(match outcome {
        Outcome::Stored { seq } => appended(StatusCode::CREATED, seq, &hash.0, false),
        Outcome::Duplicate { seq } => appended(StatusCode::OK, seq, &hash.0, true),
    })
}

/// What the server can check of an envelope without keys (§9.1 steps
/// 1–5, live) plus the conversation's state and the caller's kind; the
/// verified audience.
async fn check(
    state: &AppState,
    caller: &Caller,
    row: &ConversationRow,
    bytes: &[u8],
    claimed: Audience,
) -> ApiResult<Audience> {
    if row.state == ConversationState::Closed && claimed == Audience::Conversation {
        return Err(ApiError::conflict(
            "conversation_closed",
            "the conversation is closed; reopen it first",
        ));
    }
    let conversation = Conversation::decode_descriptor(&row.descriptor, row.id)
        .map_err(|e| ApiError::internal(format_args!("stored descriptor: {e}")))?;
    let anchor = TrustAnchor {
        org: state.0.org.id,
        inbox: row.inbox_id,
        root: state.0.org.keys.root.public(),
    };
    let now = now();
    let inbox = state
        .0
        .delivery
        .statements
        .get(&state.0.pool, anchor, now)
        .await
        .map_err(|e| {
            tracing::warn!(inbox = %row.inbox_id, error = %e, "inbox statements do not verify");
            ApiError::new(
                StatusCode::SERVICE_UNAVAILABLE,
                "statements_unavailable",
                "the inbox's statements cannot be verified now",
            )
        })?;
    let verified = envelope::verify(bytes, &conversation, &inbox, OpenMode::Live { now })?;
    let audience = verified.header().audience;
    if matches!(caller, Caller::Visitor(_)) && audience != Audience::Conversation {
        return Err(unprocessable(
            "recipients_do_not_fit_audience",
            "a visitor cannot send internal notes",
        ));
    }
    Ok(audience)
}

fn appended(status: StatusCode, seq: i64, hash: &[u8], duplicate: bool) -> (StatusCode, Appended) {
    (
        status,
        Appended {
            seq,
            hash: hex::encode(hash),
            duplicate,
        },
    )
}

/// Stored envelopes after a seq, in order (staff who may see the
/// conversation, or its visitor; visitors get no internal notes).
#[utoipa::path(
    get, path = "/api/v1/conversations/{id}/envelopes", tag = "envelopes",
    params(("id" = String, Path, description = "Conversation id (hex)"), CatchUpQuery),
    responses(
        (status = 200, body = EnvelopePage),
        (status = 400, description = "`invalid_query`", body = ErrorBody),
        (status = 401, body = ErrorBody),
        (status = 404, description = "No such conversation the caller may see", body = ErrorBody),
    ),
    security(("bearer" = []), ("visitor" = []))
)]
async fn catch_up(
    State(state): State<AppState>,
    caller: Caller,
    AppPath(id): AppPath<String>,
    AppQuery(q): AppQuery<CatchUpQuery>,
) -> ApiResult<Json<EnvelopePage>> {
    let row = conversation_access(&state, &caller, parse_id(&id)?).await?;
    let limit = q.limit.unwrap_or(DEFAULT_PAGE).clamp(1, MAX_PAGE);
    let internal = matches!(caller, Caller::Staff(_));
    let mut page = delivery::load_after(
        &state.0.pool,
        row.id,
        q.after.unwrap_or(0).max(0),
        limit + 1,
        internal,
    )
    .await?;
    let has_more = page.len() > limit as usize;
    page.truncate(limit as usize);
    let last_seq = page
        .last()
        .map_or(row.last_seq, |e| e.seq.max(row.last_seq));
    let b64 = base64::engine::general_purpose::STANDARD;
    Ok(Json(EnvelopePage {
        envelopes: page
            .into_iter()
            .map(|e| StoredItem {
                seq: e.seq,
                envelope: b64.encode(&e.bytes),
                received_at: e.received_at,
            })
            .collect(),
        last_seq,
        has_more,
    }))
}
