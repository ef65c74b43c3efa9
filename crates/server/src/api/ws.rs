//! `GET /api/v1/ws`: live delivery over one WebSocket per client.
//!
//! **Authentication.** Either the upgrade request carries credentials the
//! way REST calls do (`Authorization: Bearer …`, `Authorization: Visitor …`,
//! or the console's `confide_session` cookie — SameSite=Strict, and with a
//! cookie the `Origin` must be this server's, against cross-site WebSocket
//! hijacking), or — for browsers, which cannot set headers on a WebSocket —
//! the first message is `{"type":"auth","scheme":"visitor"|"bearer","token":"…"}`
//! within ten seconds. Tokens never travel in the URL (URLs end up in logs
//! and histories). The server answers `{"type":"ready","role":…}`. The
//! credentials are checked again every minute, and every subscription's
//! access with them: a logged-out session is closed (4001 `unauthorized`),
//! a subscription the caller lost access to ends with an `error` frame.
//!
//! **Messages** (JSON text frames, `type` tagged). Client: `subscribe`
//! `{conversation, after}`, `unsubscribe` `{conversation}`, `typing`
//! `{conversation}`, `read` `{conversation, seq}`, `send` `{ref,
//! conversation, envelope (base64), device?}` (the same checks and
//! idempotency as `POST …/envelopes`, answered after the commit by `sent`
//! `{ref, conversation, seq, hash, duplicate}` or `send_failed` `{ref,
//! conversation, status, code, message}`; up to 256 in flight, answered
//! in any order; credentials are resolved again for every send). Server: `envelope`
//! `{conversation, seq, envelope (base64), received_at}`, `subscribed`
//! `{conversation, seq}` (the backlog up to `seq` has been sent),
//! `unsubscribed`, `typing` `{conversation, who}`, `read`
//! `{conversation, who, seq}`, `error` `{code, message, conversation?}`.
//! Visitors see staff as `agent`; staff see `visitor` or `user:<id>`.
//!
//! **No gap, no duplicate.** A subscription joins the fan-out *before* the
//! stored backlog after `after` is read and sent; live envelopes with a seq
//! already sent are skipped. Access is checked per subscription with
//! `crate::access::conversation_access` (`not_found` otherwise); visitors
//! never receive internal notes.
//!
//! **Slow consumers.** Each connection has one bounded queue
//! (`delivery::fanout::LISTENER_QUEUE`); when it overflows, or a frame
//! cannot be written within [`SEND_TIMEOUT`], the connection is closed with
//! code 4008 and reason `slow_consumer`. The client reconnects and resumes
//! each subscription from the last seq it received.
//!
//! Non-goals: presence.

mod messages;

pub use messages::{AuthScheme, ClientMessage, ServerMessage};

use crate::access::{Caller, conversation_access};
use crate::app::AppState;
use crate::delivery;
use crate::delivery::fanout::{Event, Listener, Subscription, Who};
use crate::error::{ApiError, ApiResult, ErrorBody};
use axum::Router;
use axum::extract::ws::rejection::WebSocketUpgradeRejection;
use axum::extract::ws::{CloseFrame, Message, WebSocket, WebSocketUpgrade};
use axum::extract::{FromRequestParts, State};
use axum::http::{HeaderMap, Request, header};
use axum::response::Response;
use axum::routing::get;
use confide_protocol::ConversationId;
use confide_protocol::envelope::MAX_ENVELOPE;
use messages::{envelope_message, error, not_followed, who};
use std::collections::HashMap;
use std::sync::Arc;
use std::time::{Duration, Instant};
use tokio::sync::{Semaphore, mpsc};
use tokio::time::{interval_at, timeout};
use utoipa::OpenApi;

/// How long an unauthenticated connection may take to send `auth`.
pub const AUTH_TIMEOUT: Duration = Duration::from_secs(10);
/// How long one frame may take to be written before the client counts as slow.
pub const SEND_TIMEOUT: Duration = Duration::from_secs(10);
/// How often credentials and subscriptions are checked again.
pub const REVALIDATE_EVERY: Duration = Duration::from_secs(60);
/// How often the server pings an idle client.
pub const PING_EVERY: Duration = Duration::from_secs(30);
/// Most conversations one connection may follow.
pub const MAX_SUBSCRIPTIONS: usize = 256;
/// Largest client message: a `send` of the largest envelope, in base64.
pub const MAX_CLIENT_MESSAGE: usize = MAX_ENVELOPE / 3 * 4 + 8 * 1024;
/// Sends one connection may have waiting for their commit.
pub const MAX_SENDS_IN_FLIGHT: usize = 256;
/// Stored envelopes read per backlog page.
const BACKLOG_PAGE: u32 = 256;
/// Typing events one subscription forwards at most once per this interval.
const TYPING_EVERY: Duration = Duration::from_secs(1);

/// Close code: the credentials are missing or no longer valid.
pub const CLOSE_UNAUTHORIZED: u16 = 4001;
/// Close code: the client did not keep up (reason `slow_consumer`).
pub const CLOSE_SLOW_CONSUMER: u16 = 4008;

#[derive(OpenApi)]
#[openapi(
    paths(connect),
    components(schemas(ClientMessage, ServerMessage, AuthScheme))
)]
struct Doc;

/// This area's routes.
pub fn routes() -> Router<AppState> {
    Router::new().route("/api/v1/ws", get(connect))
}

/// This area's OpenAPI paths and schemas.
pub fn document() -> utoipa::openapi::OpenApi {
    Doc::openapi()
}

/// Opens a WebSocket for live delivery (see the module documentation for
/// the message protocol).
#[utoipa::path(
    get, path = "/api/v1/ws", tag = "envelopes",
    responses(
        (status = 101, description = "Switching protocols; JSON messages follow (`ClientMessage`, `ServerMessage`)"),
        (status = 400, description = "`websocket_required`", body = ErrorBody),
        (status = 401, description = "Credentials were given and are not valid", body = ErrorBody),
        (status = 403, description = "`forbidden_origin`: session cookie from another origin", body = ErrorBody),
    ),
    security((), ("bearer" = []), ("visitor" = []))
)]
async fn connect(
    State(state): State<AppState>,
    headers: HeaderMap,
    upgrade: Result<WebSocketUpgrade, WebSocketUpgradeRejection>,
) -> ApiResult<Response> {
    let upgrade =
        upgrade.map_err(|r| ApiError::bad_request("websocket_required", r.body_text()))?;
    let mut credentials = HeaderMap::new();
    for name in [header::AUTHORIZATION, header::COOKIE] {
        for value in headers.get_all(&name) {
            credentials.append(name.clone(), value.clone());
        }
    }
    let caller = if credentials.is_empty() {
        None
    } else {
        if !headers.contains_key(header::AUTHORIZATION) {
            check_origin(&state, &headers)?;
        }
        Some(authenticate(&state, &credentials).await?)
    };
    Ok(upgrade
        .max_message_size(MAX_CLIENT_MESSAGE)
        .read_buffer_size(4 * 1024)
        .write_buffer_size(0)
        .on_upgrade(move |socket| run(state, socket, caller, credentials)))
}

/// A cookie-authenticated upgrade must come from this server's own origin.
fn check_origin(state: &AppState, headers: &HeaderMap) -> ApiResult<()> {
    let Some(origin) = headers.get(header::ORIGIN).and_then(|v| v.to_str().ok()) else {
        return Ok(()); // not a browser: no ambient-credential risk
    };
    let authority = origin.split_once("://").map_or(origin, |(_, rest)| rest);
    let host = headers.get(header::HOST).and_then(|v| v.to_str().ok());
    let public = state.0.config.public_url.as_deref();
    if host == Some(authority) || public.is_some_and(|p| p.trim_end_matches('/') == origin) {
        Ok(())
    } else {
        Err(ApiError::new(
            axum::http::StatusCode::FORBIDDEN,
            "forbidden_origin",
            "session cookies are accepted only from this server's origin",
        ))
    }
}

/// Resolves credentials (an `Authorization` header or the session cookie)
/// exactly as the REST extractors do.
async fn authenticate(state: &AppState, credentials: &HeaderMap) -> ApiResult<Caller> {
    let (mut parts, ()) = Request::new(()).into_parts();
    parts.headers = credentials.clone();
    Caller::from_request_parts(&mut parts, state).await
}

/// Why a connection ended (logged at debug level only).
struct Closed;

struct Followed {
    _subscription: Subscription,
    last_sent: i64,
    last_typing: Option<Instant>,
}

struct Connection {
    state: AppState,
    socket: WebSocket,
    caller: Caller,
    credentials: HeaderMap,
    listener: Listener,
    followed: HashMap<ConversationId, Followed>,
    /// Answers of `send`s, from their tasks.
    answers: mpsc::Receiver<ServerMessage>,
    answers_tx: mpsc::Sender<ServerMessage>,
    sends_in_flight: Arc<Semaphore>,
}

async fn run(
    state: AppState,
    mut socket: WebSocket,
    caller: Option<Caller>,
    mut credentials: HeaderMap,
) {
    let caller = match caller {
        Some(caller) => caller,
        None => match first_message_auth(&state, &mut socket).await {
            Some((caller, presented)) => {
                credentials = presented;
                caller
            }
            None => {
                let _ = close(&mut socket, CLOSE_UNAUTHORIZED, "unauthorized").await;
                return;
            }
        },
    };
    let staff = matches!(caller, Caller::Staff(_));
    let listener = state.0.delivery.fanout.listener(staff);
    let (answers_tx, answers) = mpsc::channel(MAX_SENDS_IN_FLIGHT);
    let mut conn = Connection {
        state,
        socket,
        caller,
        credentials,
        listener,
        followed: HashMap::new(),
        answers,
        answers_tx,
        sends_in_flight: Arc::new(Semaphore::new(MAX_SENDS_IN_FLIGHT)),
    };
    let role = if staff { "staff" } else { "visitor" };
    if conn.send(&ServerMessage::Ready { role }).await.is_ok() {
        let _ = conn.serve().await;
    }
    tracing::debug!(role, "websocket closed");
}

/// Waits for `{"type":"auth"}` and checks it; the caller and the
/// credentials to re-check later.
async fn first_message_auth(
    state: &AppState,
    socket: &mut WebSocket,
) -> Option<(Caller, HeaderMap)> {
    let deadline = tokio::time::Instant::now() + AUTH_TIMEOUT;
    loop {
        let msg = tokio::time::timeout_at(deadline, socket.recv())
            .await
            .ok()??
            .ok()?;
        let text = match msg {
            Message::Text(text) => text,
            Message::Ping(_) | Message::Pong(_) => continue,
            _ => return None,
        };
        let Ok(ClientMessage::Auth { token, scheme }) = serde_json::from_str(text.as_str()) else {
            return None;
        };
        let scheme = match scheme {
            AuthScheme::Visitor => "Visitor",
            AuthScheme::Bearer => "Bearer",
        };
        let value = axum::http::HeaderValue::try_from(format!("{scheme} {token}")).ok()?;
        let mut credentials = HeaderMap::new();
        credentials.insert(header::AUTHORIZATION, value);
        let caller = authenticate(state, &credentials).await.ok()?;
        return Some((caller, credentials));
    }
}

async fn close(socket: &mut WebSocket, code: u16, reason: &'static str) -> Result<(), Closed> {
    let frame = Message::Close(Some(CloseFrame {
        code,
        reason: reason.into(),
    }));
    match timeout(SEND_TIMEOUT, socket.send(frame)).await {
        Ok(Ok(())) => Ok(()),
        _ => Err(Closed),
    }
}

impl Connection {
    fn is_staff(&self) -> bool {
        matches!(self.caller, Caller::Staff(_))
    }

    fn blocked(&self) -> bool {
        matches!(&self.caller, Caller::Visitor(v) if v.blocked)
    }

    fn me(&self) -> Who {
        match &self.caller {
            Caller::Staff(s) => Who::User(s.user_id),
            Caller::Visitor(_) => Who::Visitor,
        }
    }

    async fn serve(&mut self) -> Result<(), Closed> {
        let kick = self.listener.kick();
        let start = tokio::time::Instant::now();
        let mut revalidate = interval_at(start + REVALIDATE_EVERY, REVALIDATE_EVERY);
        let mut ping = interval_at(start + PING_EVERY, PING_EVERY);
        loop {
            tokio::select! {
                () = kick.notified() => {
                    tracing::info!("closing a slow websocket consumer");
                    return close(&mut self.socket, CLOSE_SLOW_CONSUMER, "slow_consumer").await;
                }
                msg = self.socket.recv() => match msg {
                    Some(Ok(Message::Text(text))) => self.handle(text.as_str()).await?,
                    Some(Ok(Message::Binary(_))) => {
                        self.send(&error("invalid_message", "send JSON text messages", None)).await?;
                    }
                    Some(Ok(Message::Ping(_) | Message::Pong(_))) => {}
                    Some(Ok(Message::Close(_)) | Err(_)) | None => return Ok(()),
                },
                Some(answer) = self.answers.recv() => self.send(&answer).await?,
                event = self.listener.recv() => {
                    if let Some(event) = event {
                        self.deliver(event).await?;
                    }
                }
                _ = revalidate.tick() => self.revalidate().await?,
                _ = ping.tick() => {
                    let ping = Message::Ping(axum::body::Bytes::new());
                    if !matches!(timeout(SEND_TIMEOUT, self.socket.send(ping)).await, Ok(Ok(()))) {
                        return Err(Closed);
                    }
                }
            }
        }
    }

    async fn send(&mut self, msg: &ServerMessage) -> Result<(), Closed> {
        let text = serde_json::to_string(msg).map_err(|_| Closed)?;
        match timeout(SEND_TIMEOUT, self.socket.send(Message::Text(text.into()))).await {
            Ok(Ok(())) => Ok(()),
            Ok(Err(_)) => Err(Closed),
            Err(_) => {
                tracing::info!("closing a websocket that does not read");
                let _ = close(&mut self.socket, CLOSE_SLOW_CONSUMER, "slow_consumer").await;
                Err(Closed)
            }
        }
    }

    async fn handle(&mut self, text: &str) -> Result<(), Closed> {
        let msg: ClientMessage = match serde_json::from_str(text) {
            Ok(msg) => msg,
            Err(e) => {
                return self
                    .send(&error("invalid_message", e.to_string(), None))
                    .await;
            }
        };
        let (hex, id) = match &msg {
            ClientMessage::Auth { .. } => {
                return self
                    .send(&error("invalid_message", "already authenticated", None))
                    .await;
            }
            ClientMessage::Send {
                reference,
                conversation,
                envelope,
                device,
            } => {
                self.start_send(*reference, conversation, envelope, device.clone());
                return Ok(());
            }
            ClientMessage::Subscribe { conversation, .. }
            | ClientMessage::Unsubscribe { conversation }
            | ClientMessage::Typing { conversation }
            | ClientMessage::Read { conversation, .. } => {
                (conversation.clone(), ConversationId::from_hex(conversation))
            }
        };
        let Some(id) = id else {
            return self
                .send(&error("not_found", "conversation not found", Some(&hex)))
                .await;
        };
        match msg {
            ClientMessage::Subscribe { after, .. } => self.subscribe(id, after).await,
            ClientMessage::Unsubscribe { .. } => {
                self.followed.remove(&id);
                self.send(&ServerMessage::Unsubscribed { conversation: hex })
                    .await
            }
            ClientMessage::Typing { .. } if self.blocked() => {
                let msg = "this visitor is blocked";
                self.send(&error("visitor_blocked", msg, Some(&hex))).await
            }
            ClientMessage::Typing { .. } => {
                let me = self.me();
                let listener = self.listener.id();
                match self.followed.get_mut(&id) {
                    None => self.send(&not_followed(&hex)).await,
                    Some(f) => {
                        let now = Instant::now();
                        if f.last_typing
                            .is_none_or(|t| now.duration_since(t) >= TYPING_EVERY)
                        {
                            f.last_typing = Some(now);
                            let event = Event::Typing {
                                conversation: id,
                                who: me,
                            };
                            self.state.0.delivery.fanout.publish(event, Some(listener));
                        }
                        Ok(())
                    }
                }
            }
            ClientMessage::Read { seq, .. } => self.read(id, &hex, seq).await,
            ClientMessage::Auth { .. } | ClientMessage::Send { .. } => Ok(()),
        }
    }

    /// Runs a `send` in its own task (it waits for a commit) and queues its
    /// answer for this connection. The credentials are resolved again for
    /// every send, so a logout, a block or a revoked device counts at once.
    fn start_send(
        &mut self,
        reference: u64,
        conversation: &str,
        envelope: &str,
        device: Option<String>,
    ) {
        let answers = self.answers_tx.clone();
        let failed =
            move |status: u16, code: &'static str, message: String, conversation: String| {
                ServerMessage::SendFailed {
                    reference,
                    conversation,
                    status,
                    code,
                    message,
                }
            };
        let hex = conversation.to_owned();
        let Ok(permit) = self.sends_in_flight.clone().try_acquire_owned() else {
            let msg = format!("at most {MAX_SENDS_IN_FLIGHT} sends may wait for their commit");
            let _ = answers.try_send(failed(429, "too_many_in_flight", msg, hex));
            return;
        };
        let bytes = base64::Engine::decode(&base64::engine::general_purpose::STANDARD, envelope);
        let state = self.state.clone();
        let credentials = self.credentials.clone();
        tokio::spawn(async move {
            let answer = match (ConversationId::from_hex(&hex), bytes) {
                (None, _) => failed(404, "not_found", "conversation not found".into(), hex),
                (_, Err(_)) => failed(
                    400,
                    "invalid_envelope_encoding",
                    "the envelope must be standard base64".into(),
                    hex,
                ),
                (Some(id), Ok(bytes)) => {
                    let result = match authenticate(&state, &credentials).await {
                        Ok(caller) => {
                            crate::api::envelopes::submit(
                                &state,
                                &caller,
                                id,
                                device.as_deref(),
                                bytes.into(),
                            )
                            .await
                        }
                        Err(e) => Err(e),
                    };
                    match result {
                        Ok((_, a)) => ServerMessage::Sent {
                            reference,
                            conversation: hex,
                            seq: a.seq,
                            hash: a.hash,
                            duplicate: a.duplicate,
                        },
                        Err(e) => {
                            failed(e.status().as_u16(), e.code(), e.message().to_owned(), hex)
                        }
                    }
                }
            };
            // The connection may be gone; the envelope is stored regardless.
            let _ = answers.send(answer).await;
            drop(permit);
        });
    }

    async fn subscribe(&mut self, id: ConversationId, after: i64) -> Result<(), Closed> {
        let hex = id.to_hex();
        if !self.followed.contains_key(&id) && self.followed.len() >= MAX_SUBSCRIPTIONS {
            let msg = format!("at most {MAX_SUBSCRIPTIONS} subscriptions per connection");
            return self
                .send(&error("too_many_subscriptions", msg, Some(&hex)))
                .await;
        }
        if let Err(e) = conversation_access(&self.state, &self.caller, id).await {
            self.followed.remove(&id);
            return self
                .send(&error(e.code(), "conversation not found", Some(&hex)))
                .await;
        }
        // Join the fan-out first, then send the backlog: nothing committed in
        // between is missed, and what arrives twice is skipped by seq.
        self.followed.remove(&id);
        let subscription = self.listener.subscribe(id);
        let mut last = after.max(0);
        let internal = self.is_staff();
        loop {
            let page =
                match delivery::load_after(&self.state.0.pool, id, last, BACKLOG_PAGE, internal)
                    .await
                {
                    Ok(page) => page,
                    Err(e) => {
                        tracing::error!(error = %e, "reading a websocket backlog failed");
                        return self
                            .send(&error("internal", "internal server error", Some(&hex)))
                            .await;
                    }
                };
            for e in &page {
                self.send(&envelope_message(e)).await?;
                last = e.seq;
            }
            if page.len() < BACKLOG_PAGE as usize {
                break;
            }
        }
        self.followed.insert(
            id,
            Followed {
                _subscription: subscription,
                last_sent: last,
                last_typing: None,
            },
        );
        self.send(&ServerMessage::Subscribed {
            conversation: hex,
            seq: last,
        })
        .await
    }

    async fn read(&mut self, id: ConversationId, hex: &str, seq: i64) -> Result<(), Closed> {
        if !self.followed.contains_key(&id) {
            return self.send(&not_followed(hex)).await;
        }
        let me = self.me();
        let reader = match me {
            Who::Visitor => "visitor".to_owned(),
            Who::User(id) => format!("user:{id}"),
        };
        // Markers only move forward, and never past the conversation's last seq.
        let advanced: Result<Option<(i64,)>, sqlx::Error> = sqlx::query_as(
            "INSERT INTO read_marker (conversation_id, reader, seq, at) \
             SELECT id, ?, min(?, last_seq), ? FROM conversation WHERE id = ? AND ? > 0 \
             ON CONFLICT (conversation_id, reader) DO UPDATE SET seq = excluded.seq, at = excluded.at \
             WHERE excluded.seq > read_marker.seq RETURNING seq",
        )
        .bind(&reader)
        .bind(seq)
        .bind(crate::db::now())
        .bind(id.0.as_slice())
        .bind(seq)
        .fetch_optional(&self.state.0.pool)
        .await;
        match advanced {
            Ok(Some((seq,))) => {
                let event = Event::Read {
                    conversation: id,
                    who: me,
                    seq,
                };
                self.state
                    .0
                    .delivery
                    .fanout
                    .publish(event, Some(self.listener.id()));
                Ok(())
            }
            Ok(None) => Ok(()),
            Err(e) => {
                tracing::error!(error = %e, "storing a read marker failed");
                self.send(&error("internal", "internal server error", Some(hex)))
                    .await
            }
        }
    }

    async fn deliver(&mut self, event: Event) -> Result<(), Closed> {
        let to_staff = self.is_staff();
        let Some(followed) = self.followed.get_mut(&event.conversation()) else {
            return Ok(()); // queued before an unsubscribe
        };
        let msg = match event {
            Event::Envelope(e) => {
                if e.seq <= followed.last_sent {
                    return Ok(()); // already sent with the backlog
                }
                followed.last_sent = e.seq;
                envelope_message(&e)
            }
            Event::Typing {
                conversation,
                who: w,
            } => ServerMessage::Typing {
                conversation: conversation.to_hex(),
                who: who(w, to_staff),
            },
            Event::Read {
                conversation,
                who: w,
                seq,
            } => ServerMessage::Read {
                conversation: conversation.to_hex(),
                who: who(w, to_staff),
                seq,
            },
        };
        self.send(&msg).await
    }

    /// Checks the credentials and every subscription again.
    async fn revalidate(&mut self) -> Result<(), Closed> {
        let same = match (
            authenticate(&self.state, &self.credentials).await,
            &self.caller,
        ) {
            (Ok(Caller::Staff(new)), Caller::Staff(old)) if new.user_id == old.user_id => {
                Some(Caller::Staff(new))
            }
            (Ok(Caller::Visitor(new)), Caller::Visitor(old))
                if new.visitor_id == old.visitor_id =>
            {
                Some(Caller::Visitor(new))
            }
            _ => None,
        };
        let Some(caller) = same else {
            let _ = close(&mut self.socket, CLOSE_UNAUTHORIZED, "unauthorized").await;
            return Err(Closed);
        };
        self.caller = caller;
        let ids: Vec<ConversationId> = self.followed.keys().copied().collect();
        for id in ids {
            // Only a definite "no" ends a subscription, not a database hiccup.
            let denied = matches!(
                conversation_access(&self.state, &self.caller, id).await,
                Err(e) if e.code() == "not_found"
            );
            if denied {
                self.followed.remove(&id);
                let hex = id.to_hex();
                self.send(&error("not_found", "conversation not found", Some(&hex)))
                    .await?;
            }
        }
        Ok(())
    }
}
