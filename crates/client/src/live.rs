//! Live delivery over `GET /api/v1/ws`, without decryption: a
//! [`RawSubscription`] follows any number of conversations on one
//! WebSocket and yields envelopes as the server stored them, with typing
//! and read events.
//!
//! One task owns the socket. It authenticates with the session token in
//! the upgrade request, (re)subscribes every followed conversation with
//! `after` = the last seq it delivered, and on any disconnect (network,
//! server restart, `slow_consumer` close 4008) reconnects with exponential
//! backoff and resumes — so the envelopes it yields have no gap and no
//! duplicate per conversation. Events wait in a bounded queue: a consumer
//! that stops reading stops the task reading the socket, the server then
//! drops the connection as a slow consumer, and the task resumes later.
//! Credentials refused (401, close 4001) end the subscription for good.
//!
//! [`RawSubscription::send`] stores a sealed envelope over the same socket
//! (the server's `send` message: the checks and idempotency of the REST
//! call, answered after the commit) — one frame instead of an HTTP request
//! per message. A send in flight when the connection breaks fails with a
//! transient error; posting the same sealed envelope again (over either
//! path) is safe, the server stores it once.
//!
//! Non-goals: opening envelopes (`crate::stream::MessageStream` does).

use crate::conversation::Conversation;
use crate::error::{Error, Result};
use crate::http::{Auth, Client};
use crate::message::{Receipt, SealedEnvelope};
use base64::Engine;
use confide_protocol::ConversationId;
use confide_protocol::EnvelopeHash;
use futures_util::{SinkExt, StreamExt};
use reqwest::header::AUTHORIZATION;
use serde::Deserialize;
use std::collections::HashMap;
use std::time::{Duration, Instant};
use tokio::net::TcpStream;
use tokio::sync::{mpsc, oneshot};
use tokio::task::JoinHandle;
use tokio_tungstenite::tungstenite::client::IntoClientRequest;
use tokio_tungstenite::tungstenite::http::HeaderValue;
use tokio_tungstenite::tungstenite::protocol::frame::coding::CloseCode;
use tokio_tungstenite::tungstenite::{Message as WsMessage, Utf8Bytes};
use tokio_tungstenite::{Connector, MaybeTlsStream, WebSocketStream};

/// Events waiting for the consumer before the socket is no longer read.
const EVENT_QUEUE: usize = 512;
/// First reconnect delay; doubles up to [`MAX_BACKOFF`].
const MIN_BACKOFF: Duration = Duration::from_millis(100);
const MAX_BACKOFF: Duration = Duration::from_secs(5);
/// How long the server may take to say `ready`.
const READY_TIMEOUT: Duration = Duration::from_secs(15);
/// The server's close code for refused credentials.
const CLOSE_UNAUTHORIZED: u16 = 4001;

type Socket = WebSocketStream<MaybeTlsStream<TcpStream>>;

/// Who typed or read, as the server reports it (metadata, not signed).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Who {
    /// The conversation's visitor.
    Visitor,
    /// Some staff member (how visitors see staff).
    Agent,
    /// Staff user `id` (how staff see each other).
    User(i64),
}

impl Who {
    fn parse(s: &str) -> Option<Self> {
        match s {
            "visitor" => Some(Who::Visitor),
            "agent" => Some(Who::Agent),
            _ => s
                .strip_prefix("user:")
                .and_then(|id| id.parse().ok())
                .map(Who::User),
        }
    }
}

/// An envelope as delivered live, not opened.
#[derive(Clone, Debug)]
pub struct RawEnvelope {
    /// The conversation.
    pub conversation: ConversationId,
    /// Its sequence number.
    pub seq: u64,
    /// The envelope bytes.
    pub bytes: Vec<u8>,
    /// When the server stored it (unix seconds, server's clock).
    pub received_at: i64,
    /// When this client received it.
    pub arrived: Instant,
}

/// What a [`RawSubscription`] yields.
#[derive(Debug)]
#[non_exhaustive]
pub enum LiveEvent {
    /// A stored envelope (backlog or live), in seq order per conversation.
    Envelope(RawEnvelope),
    /// The backlog of `conversation` up to `seq` was delivered; live
    /// envelopes follow. Sent after every (re)subscription.
    CaughtUp {
        /// The conversation.
        conversation: ConversationId,
        /// The last seq delivered.
        seq: u64,
    },
    /// Someone is typing.
    Typing {
        /// The conversation.
        conversation: ConversationId,
        /// Who.
        who: Who,
    },
    /// Someone read up to `seq`.
    Read {
        /// The conversation.
        conversation: ConversationId,
        /// Who.
        who: Who,
        /// The highest seq read.
        seq: u64,
    },
    /// The connection broke; the subscription reconnects and resumes.
    Reconnecting {
        /// Why it broke.
        reason: String,
    },
    /// A conversation's subscription was refused (`not_found` for one the
    /// caller may not see), or — with `conversation: None` — the whole
    /// connection ended for good (credentials refused).
    Failed {
        /// The conversation, if only its subscription failed.
        conversation: Option<ConversationId>,
        /// Why.
        error: Error,
    },
}

enum Command {
    Subscribe(ConversationId, u64),
    Unsubscribe(ConversationId),
    Typing(ConversationId),
    Read(ConversationId, u64),
    Send(Box<PendingSend>),
}

/// A `send` the task is to make, with where its answer goes.
struct PendingSend {
    conversation: ConversationId,
    envelope: String,
    device: Option<String>,
    hash: EnvelopeHash,
    reply: oneshot::Sender<Result<Receipt>>,
}

/// A live WebSocket subscription to conversations, yielding raw envelopes
/// (see the module documentation). Dropping it closes the connection.
pub struct RawSubscription {
    commands: mpsc::UnboundedSender<Command>,
    events: mpsc::Receiver<LiveEvent>,
    task: JoinHandle<()>,
}

impl Drop for RawSubscription {
    fn drop(&mut self) {
        self.task.abort();
    }
}

impl std::fmt::Debug for RawSubscription {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RawSubscription").finish_non_exhaustive()
    }
}

struct SocketConfig {
    url: String,
    auth: HeaderValue,
    tls: std::sync::Arc<rustls::ClientConfig>,
    connect_timeout: Duration,
}

impl RawSubscription {
    /// Connects (waiting for the server's `ready`) and starts the task.
    pub(crate) async fn connect(client: &Client, auth: Auth<'_>) -> Result<Self> {
        let mut header = auth
            .header()?
            .ok_or(Error::InvalidInput("live delivery needs a session"))?;
        header.set_sensitive(true);
        let cfg = SocketConfig {
            url: client.ws_url()?.to_string(),
            auth: header,
            tls: client.inner.tls.clone(),
            connect_timeout: client.inner.options.connect_timeout,
        };
        let socket = open_socket(&cfg).await?;
        let (commands, rx) = mpsc::unbounded_channel();
        let (tx, events) = mpsc::channel(EVENT_QUEUE);
        let task = tokio::spawn(run(cfg, socket, rx, tx));
        Ok(Self {
            commands,
            events,
            task,
        })
    }

    /// Follows `conversation` from the envelope after `after` (0: all).
    pub fn subscribe(&self, conversation: ConversationId, after: u64) {
        let _ = self.commands.send(Command::Subscribe(conversation, after));
    }

    /// Stops following `conversation`.
    pub fn unsubscribe(&self, conversation: ConversationId) {
        let _ = self.commands.send(Command::Unsubscribe(conversation));
    }

    /// Tells the conversation's other parties that this one is typing
    /// (best effort; the conversation must be followed).
    pub fn typing(&self, conversation: ConversationId) {
        let _ = self.commands.send(Command::Typing(conversation));
    }

    /// Records that this party read `conversation` up to `seq` (the
    /// conversation must be followed).
    pub fn mark_read(&self, conversation: ConversationId, seq: u64) {
        let _ = self.commands.send(Command::Read(conversation, seq));
    }

    /// A handle that sends envelopes over this connection
    /// ([`LiveSender::send`]) while this subscription is being read.
    pub fn sender(&self) -> LiveSender {
        LiveSender {
            commands: self.commands.clone(),
        }
    }

    /// Stores `sealed` over this connection; see [`LiveSender::send`].
    pub async fn send(
        &self,
        conversation: &Conversation,
        sealed: &SealedEnvelope,
    ) -> Result<Receipt> {
        self.sender().send(conversation, sealed).await
    }

    /// The next event; `None` once the subscription has ended.
    pub async fn next(&mut self) -> Option<LiveEvent> {
        self.events.recv().await
    }
}

/// Sends envelopes over a [`RawSubscription`]'s connection; cheap to
/// clone, usable from many tasks at once.
#[derive(Clone, Debug)]
pub struct LiveSender {
    commands: mpsc::UnboundedSender<Command>,
}

impl LiveSender {
    /// Stores `sealed` (sealed by `conversation`'s handle) over this
    /// connection and waits for the server's acknowledgement, which comes
    /// only after the commit. On a broken connection it fails with a
    /// transient error; sending the same `sealed` again is safe.
    pub async fn send(
        &self,
        conversation: &Conversation,
        sealed: &SealedEnvelope,
    ) -> Result<Receipt> {
        let (reply, answer) = oneshot::channel();
        let pending = PendingSend {
            conversation: conversation.id(),
            envelope: base64::engine::general_purpose::STANDARD.encode(&sealed.bytes),
            device: conversation.device_header(),
            hash: sealed.hash,
            reply,
        };
        self.commands
            .send(Command::Send(Box::new(pending)))
            .map_err(|_| Error::Transport("the live connection has ended".into()))?;
        answer
            .await
            .map_err(|_| Error::Transport("the live connection ended before the answer".into()))?
    }
}

async fn open_socket(cfg: &SocketConfig) -> Result<Socket> {
    let mut req = cfg.url.as_str().into_client_request()?;
    req.headers_mut().insert(AUTHORIZATION, cfg.auth.clone());
    let connecting = tokio_tungstenite::connect_async_tls_with_config(
        req,
        None,
        true,
        Some(Connector::Rustls(cfg.tls.clone())),
    );
    let (mut socket, _) = tokio::time::timeout(cfg.connect_timeout, connecting)
        .await
        .map_err(|_| Error::Transport("WebSocket connect timed out".into()))??;
    let deadline = tokio::time::Instant::now() + READY_TIMEOUT;
    loop {
        let msg = tokio::time::timeout_at(deadline, socket.next())
            .await
            .map_err(|_| Error::Transport("no `ready` from the server".into()))?
            .ok_or_else(|| Error::Transport("closed before `ready`".into()))??;
        match msg {
            WsMessage::Text(t) => {
                if matches!(parse(&t), Some(Frame::Ready { .. })) {
                    return Ok(socket);
                }
            }
            WsMessage::Close(frame) => return Err(close_error(frame.as_ref())),
            _ => {}
        }
    }
}

fn close_error(frame: Option<&tokio_tungstenite::tungstenite::protocol::CloseFrame>) -> Error {
    match frame {
        Some(f) if u16::from(f.code) == CLOSE_UNAUTHORIZED => Error::Api {
            status: 401,
            code: "unauthorized".into(),
            message: "the server closed the connection: credentials no longer valid".into(),
        },
        Some(f) => Error::Transport(format!(
            "closed by the server: {} {}",
            u16::from(f.code),
            f.reason
        )),
        None => Error::Transport("closed by the server".into()),
    }
}

/// Credentials refused: reconnecting cannot help.
fn fatal(e: &Error) -> bool {
    matches!(e.status(), Some(401 | 403))
}

#[derive(Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
enum Frame {
    Ready {},
    Subscribed {
        conversation: String,
        seq: i64,
    },
    Envelope {
        conversation: String,
        seq: i64,
        envelope: String,
        received_at: i64,
    },
    Typing {
        conversation: String,
        who: String,
    },
    Read {
        conversation: String,
        who: String,
        seq: i64,
    },
    Error {
        code: String,
        message: String,
        conversation: Option<String>,
    },
    #[serde(other)]
    Other,
}

fn parse(text: &Utf8Bytes) -> Option<Frame> {
    serde_json::from_str(text.as_str()).ok()
}

fn seq_of(seq: i64) -> u64 {
    u64::try_from(seq).unwrap_or(0)
}

/// How one connection ended.
enum Ended {
    /// The handle was dropped.
    Dropped,
    /// The credentials were refused.
    Fatal(Error),
    /// The connection broke; reconnect.
    Broken(String),
}

/// The conversations followed and the last seq delivered for each.
type Follows = HashMap<ConversationId, u64>;

async fn run(
    cfg: SocketConfig,
    socket: Socket,
    mut commands: mpsc::UnboundedReceiver<Command>,
    events: mpsc::Sender<LiveEvent>,
) {
    let mut follows = Follows::new();
    let mut socket = Some(socket);
    let mut backoff = MIN_BACKOFF;
    loop {
        let mut ws = match socket.take() {
            Some(ws) => ws,
            None => match open_socket(&cfg).await {
                Ok(ws) => {
                    backoff = MIN_BACKOFF;
                    ws
                }
                Err(e) if fatal(&e) => {
                    let _ = events
                        .send(LiveEvent::Failed {
                            conversation: None,
                            error: e,
                        })
                        .await;
                    return;
                }
                Err(e) => {
                    tracing::debug!(error = %e, "live connection failed; retrying");
                    if !wait(backoff, &mut commands, &mut follows).await {
                        return;
                    }
                    backoff = (backoff * 2).min(MAX_BACKOFF);
                    continue;
                }
            },
        };
        let ended = serve(&mut ws, &mut follows, &mut commands, &events).await;
        match ended {
            Ended::Dropped => {
                let _ = ws.close(None).await;
                return;
            }
            Ended::Fatal(error) => {
                let _ = events
                    .send(LiveEvent::Failed {
                        conversation: None,
                        error,
                    })
                    .await;
                return;
            }
            Ended::Broken(reason) => {
                tracing::debug!(%reason, "live connection broke; reconnecting");
                if events
                    .send(LiveEvent::Reconnecting { reason })
                    .await
                    .is_err()
                    || !wait(backoff, &mut commands, &mut follows).await
                {
                    return;
                }
                backoff = (backoff * 2).min(MAX_BACKOFF);
            }
        }
    }
}

/// Sleeps `delay` while keeping track of (un)subscriptions; false when the
/// handle was dropped.
async fn wait(
    delay: Duration,
    commands: &mut mpsc::UnboundedReceiver<Command>,
    follows: &mut Follows,
) -> bool {
    let deadline = tokio::time::sleep(delay);
    tokio::pin!(deadline);
    loop {
        tokio::select! {
            () = &mut deadline => return true,
            cmd = commands.recv() => match cmd {
                None => return false,
                Some(Command::Subscribe(c, after)) => { follows.insert(c, after); }
                Some(Command::Unsubscribe(c)) => { follows.remove(&c); }
                Some(Command::Typing(_) | Command::Read(..)) => {} // ephemeral
                Some(Command::Send(p)) => {
                    let _ = p.reply.send(Err(Error::Transport("reconnecting; send again".into())));
                }
            },
        }
    }
}

async fn send_json(ws: &mut Socket, value: serde_json::Value) -> Result<(), String> {
    ws.send(WsMessage::text(value.to_string()))
        .await
        .map_err(|e| e.to_string())
}

async fn serve(
    ws: &mut Socket,
    follows: &mut Follows,
    commands: &mut mpsc::UnboundedReceiver<Command>,
    events: &mpsc::Sender<LiveEvent>,
) -> Ended {
    let mut pending: HashMap<u64, PendingSend> = HashMap::new();
    let ended = serve_connected(ws, follows, commands, events, &mut pending).await;
    // Answers that will not come on this connection: the caller may resend.
    for (_, p) in pending.drain() {
        let _ = p.reply.send(Err(Error::Transport(
            "the connection broke before the answer".into(),
        )));
    }
    ended
}

async fn serve_connected(
    ws: &mut Socket,
    follows: &mut Follows,
    commands: &mut mpsc::UnboundedReceiver<Command>,
    events: &mpsc::Sender<LiveEvent>,
    pending: &mut HashMap<u64, PendingSend>,
) -> Ended {
    let mut next_ref: u64 = 0;
    for (c, after) in follows.iter() {
        let msg =
            serde_json::json!({"type": "subscribe", "conversation": c.to_hex(), "after": after});
        if let Err(e) = send_json(ws, msg).await {
            return Ended::Broken(e);
        }
    }
    loop {
        tokio::select! {
            cmd = commands.recv() => {
                let Some(cmd) = cmd else { return Ended::Dropped };
                let msg = match cmd {
                    Command::Subscribe(c, after) => {
                        follows.insert(c, after);
                        serde_json::json!({"type": "subscribe", "conversation": c.to_hex(), "after": after})
                    }
                    Command::Unsubscribe(c) => {
                        follows.remove(&c);
                        serde_json::json!({"type": "unsubscribe", "conversation": c.to_hex()})
                    }
                    Command::Typing(c) => serde_json::json!({"type": "typing", "conversation": c.to_hex()}),
                    Command::Read(c, seq) => serde_json::json!({"type": "read", "conversation": c.to_hex(), "seq": seq}),
                    Command::Send(p) => {
                        next_ref += 1;
                        let msg = serde_json::json!({
                            "type": "send",
                            "ref": next_ref,
                            "conversation": p.conversation.to_hex(),
                            "envelope": p.envelope,
                            "device": p.device,
                        });
                        pending.insert(next_ref, *p);
                        msg
                    }
                };
                if let Err(e) = send_json(ws, msg).await {
                    return Ended::Broken(e);
                }
            }
            msg = ws.next() => {
                let msg = match msg {
                    None => return Ended::Broken("connection closed".into()),
                    Some(Err(e)) => return Ended::Broken(e.to_string()),
                    Some(Ok(msg)) => msg,
                };
                match msg {
                    WsMessage::Text(t) => {
                        if let Some(answer) = send_answer(&t) {
                            if let Some(p) = pending.remove(&answer.reference) {
                                let _ = p.reply.send(answer.receipt(p.hash));
                            }
                            continue;
                        }
                        let Some(event) = handle(&t, follows) else { continue };
                        if events.send(event).await.is_err() {
                            return Ended::Dropped;
                        }
                    }
                    WsMessage::Close(frame) => {
                        let e = close_error(frame.as_ref());
                        return match frame {
                            Some(f) if f.code == CloseCode::from(CLOSE_UNAUTHORIZED) => Ended::Fatal(e),
                            _ => Ended::Broken(e.to_string()),
                        };
                    }
                    _ => {}
                }
            }
        }
    }
}

/// Turns a server frame into an event, keeping `follows` current.
fn handle(text: &Utf8Bytes, follows: &mut Follows) -> Option<LiveEvent> {
    let conversation = |hex: &str| ConversationId::from_hex(hex);
    match parse(text)? {
        Frame::Envelope {
            conversation: c,
            seq,
            envelope,
            received_at,
        } => {
            let c = conversation(&c)?;
            let seq = seq_of(seq);
            let last = follows.get_mut(&c)?;
            if seq <= *last {
                return None; // already delivered
            }
            let Ok(bytes) = base64::engine::general_purpose::STANDARD.decode(envelope) else {
                tracing::warn!(conversation = %c, seq, "undecodable envelope frame");
                return None;
            };
            *last = seq;
            Some(LiveEvent::Envelope(RawEnvelope {
                conversation: c,
                seq,
                bytes,
                received_at,
                arrived: Instant::now(),
            }))
        }
        Frame::Subscribed {
            conversation: c,
            seq,
        } => {
            let c = conversation(&c)?;
            follows.contains_key(&c).then_some(LiveEvent::CaughtUp {
                conversation: c,
                seq: seq_of(seq),
            })
        }
        Frame::Typing {
            conversation: c,
            who,
        } => Some(LiveEvent::Typing {
            conversation: conversation(&c)?,
            who: Who::parse(&who)?,
        }),
        Frame::Read {
            conversation: c,
            who,
            seq,
        } => Some(LiveEvent::Read {
            conversation: conversation(&c)?,
            who: Who::parse(&who)?,
            seq: seq_of(seq),
        }),
        Frame::Error {
            code,
            message,
            conversation: Some(c),
        } => {
            let c = conversation(&c)?;
            // The server no longer follows it for us (refused or lost access).
            follows.remove(&c);
            let status = match code.as_str() {
                "not_found" => 404,
                "visitor_blocked" | "forbidden" => 403,
                "too_many_subscriptions" => 429,
                "internal" => 500,
                _ => 400,
            };
            Some(LiveEvent::Failed {
                conversation: Some(c),
                error: Error::Api {
                    status,
                    code,
                    message,
                },
            })
        }
        Frame::Error { code, .. } => {
            tracing::debug!(%code, "live connection error frame");
            None
        }
        Frame::Ready {} | Frame::Other => None,
    }
}

/// The server's answer to a `send`.
#[derive(Deserialize)]
struct SendAnswer {
    #[serde(rename = "type")]
    kind: String,
    #[serde(rename = "ref")]
    reference: u64,
    #[serde(default)]
    seq: i64,
    #[serde(default)]
    hash: String,
    #[serde(default)]
    duplicate: bool,
    #[serde(default)]
    status: u16,
    #[serde(default)]
    code: String,
    #[serde(default)]
    message: String,
}

impl SendAnswer {
    fn receipt(self, sent: EnvelopeHash) -> Result<Receipt> {
        if self.kind != "sent" {
            return Err(Error::Api {
                status: self.status,
                code: self.code,
                message: self.message,
            });
        }
        let hash = EnvelopeHash::from_hex(&self.hash).ok_or_else(|| Error::bad_response("hash"))?;
        if hash != sent {
            return Err(Error::bad_response(
                "the server acknowledged another envelope",
            ));
        }
        Ok(Receipt {
            seq: u64::try_from(self.seq).map_err(|_| Error::bad_response("seq"))?,
            duplicate: self.duplicate,
            hash,
        })
    }
}

/// A `sent` or `send_failed` frame, if `text` is one.
fn send_answer(text: &Utf8Bytes) -> Option<SendAnswer> {
    let t = text.as_str();
    if !(t.contains("\"sent\"") || t.contains("\"send_failed\"")) {
        return None;
    }
    serde_json::from_str::<SendAnswer>(t)
        .ok()
        .filter(|a| a.kind == "sent" || a.kind == "send_failed")
}
