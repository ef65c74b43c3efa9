//! A handle on one conversation, for its visitor or for staff: sending,
//! reading, live messages and lifecycle.
//!
//! Each handle is one sender *instance* (docs/protocol.md §8.1): a random
//! [`InstanceId`] and counters from 1, so several handles on one device —
//! browser tabs, processes — send concurrently without ever reusing a
//! (device, instance, counter) key. Sending seals on this device under the
//! verified head statements and posts the envelope; a transport failure or
//! 5xx is retried with the *same bytes* (the server stores them once and
//! answers `duplicate`), and an envelope refused because the statements
//! moved on (`stale_statement`, …) is re-sealed under the same counter
//! after a sync.
//!
//! Non-goals: DLP and link checks (`confide-guard`, before calling
//! `send_text`); attachments (later).

use crate::error::{Error, Result};
use crate::live::RawEnvelope;
use crate::message::{self, Message, Receipt, Rejected, SealedEnvelope, Stored, Transcript};
use crate::party::Party;
use crate::stream::MessageStream;
use base64::Engine;
use confide_protocol::body::Body;
use confide_protocol::conversation::Conversation as Descriptor;
use confide_protocol::envelope::{self, Audience, SenderKey};
use confide_protocol::replay::ReplayGuard;
use confide_protocol::state::InboxState;
use confide_protocol::{ConversationId, Counter, EnvelopeHash, InboxId, InstanceId};
use reqwest::Method;
use serde::Deserialize;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

/// Codes after which re-sealing under freshly synced statements can succeed.
const RESEAL_CODES: &[&str] = &[
    "stale_statement",
    "unknown_statement",
    "membership_expired",
    "rotation_required",
];
/// Re-seals one send may do.
const MAX_RESEALS: u32 = 3;
/// Catch-up page size.
const PAGE: u32 = 1000;

/// A conversation's metadata as the server keeps it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ConversationInfo {
    /// The conversation.
    pub id: ConversationId,
    /// Its inbox.
    pub inbox: InboxId,
    /// `open`, `assigned` or `closed`.
    pub state: String,
    /// The assigned user (staff only; `None` for visitors).
    pub assignee: Option<i64>,
    /// The server's id of its visitor.
    pub visitor_id: i64,
    /// Whether the visitor is blocked.
    pub visitor_blocked: bool,
    /// Highest envelope seq.
    pub last_seq: u64,
    /// Creation time (unix seconds).
    pub created_at: i64,
    /// Last change (unix seconds).
    pub updated_at: i64,
}

#[derive(Deserialize)]
pub(crate) struct ConversationView {
    id: String,
    inbox_id: String,
    state: String,
    assignee: Option<i64>,
    visitor: VisitorView,
    pub(crate) descriptor: String,
    last_seq: i64,
    created_at: i64,
    updated_at: i64,
}

#[derive(Deserialize)]
struct VisitorView {
    id: i64,
    blocked: bool,
}

impl ConversationView {
    pub(crate) fn info(&self) -> Result<ConversationInfo> {
        Ok(ConversationInfo {
            id: ConversationId::from_hex(&self.id).ok_or_else(|| Error::bad_response("id"))?,
            inbox: InboxId::from_hex(&self.inbox_id)
                .ok_or_else(|| Error::bad_response("inbox_id"))?,
            state: self.state.clone(),
            assignee: self.assignee,
            visitor_id: self.visitor.id,
            visitor_blocked: self.visitor.blocked,
            last_seq: u64::try_from(self.last_seq).unwrap_or(0),
            created_at: self.created_at,
            updated_at: self.updated_at,
        })
    }

    /// The descriptor, verified against the id the caller expects (§7).
    pub(crate) fn descriptor(&self, expected: ConversationId) -> Result<Descriptor> {
        let bytes = hex::decode(&self.descriptor).map_err(|_| Error::bad_response("descriptor"))?;
        Ok(Descriptor::decode_descriptor(&bytes, expected)?)
    }
}

#[derive(Deserialize)]
struct Appended {
    seq: i64,
    hash: String,
    duplicate: bool,
}

#[derive(Deserialize)]
struct EnvelopePage {
    envelopes: Vec<StoredItem>,
    last_seq: i64,
    has_more: bool,
}

#[derive(Deserialize)]
struct StoredItem {
    seq: i64,
    envelope: String,
    received_at: i64,
}

/// One sender instance on one conversation (see the module docs).
pub struct Conversation {
    party: Arc<Party>,
    descriptor: Descriptor,
    instance: InstanceId,
    next_counter: AtomicU64,
    identity_token: Option<Vec<u8>>,
    guard: tokio::sync::Mutex<ReplayGuard>,
}

impl std::fmt::Debug for Conversation {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Conversation")
            .field("id", &self.descriptor.id())
            .field("instance", &self.instance)
            .finish_non_exhaustive()
    }
}

impl Conversation {
    pub(crate) fn new(
        party: Arc<Party>,
        descriptor: Descriptor,
        identity_token: Option<Vec<u8>>,
    ) -> Self {
        let mut instance = [0u8; 16];
        rand_core::Rng::fill_bytes(&mut crate::rng(), &mut instance);
        Self {
            party,
            guard: tokio::sync::Mutex::new(ReplayGuard::new(descriptor.id())),
            descriptor,
            instance: InstanceId(instance),
            next_counter: AtomicU64::new(1),
            identity_token,
        }
    }

    /// The conversation id.
    pub fn id(&self) -> ConversationId {
        self.descriptor.id()
    }

    /// The conversation's inbox.
    pub fn inbox(&self) -> InboxId {
        self.descriptor.inbox()
    }

    /// The verified descriptor: organisation, inbox, the visitor's public
    /// identity the id commits to, nonce.
    pub fn descriptor(&self) -> &Descriptor {
        &self.descriptor
    }

    /// This handle's sender instance.
    pub fn instance(&self) -> InstanceId {
        self.instance
    }

    fn path(&self, tail: &str) -> String {
        format!("api/v1/conversations/{}{tail}", self.id().to_hex())
    }

    /// Sends `text` to the conversation (visitor and inbox); returns once
    /// the server has durably stored it.
    pub async fn send_text(&self, text: &str) -> Result<Receipt> {
        self.send(Audience::Conversation, text).await
    }

    /// Sends an internal note: sealed to the inbox's agents only, never to
    /// the visitor (staff only).
    pub async fn send_note(&self, text: &str) -> Result<Receipt> {
        if !self.party.is_staff() {
            return Err(Error::InvalidInput("only staff send internal notes"));
        }
        self.send(Audience::InternalNote, text).await
    }

    async fn send(&self, audience: Audience, text: &str) -> Result<Receipt> {
        let counter = self.take_counter();
        let mut state = self.party.view(self.inbox()).await?;
        let mut reseals = 0;
        loop {
            let result = match self.seal_with(&state, counter, audience, text) {
                Ok(sealed) => self.post_sealed(&sealed).await,
                Err(e) => Err(e),
            };
            match result {
                Err(e) if RESEAL_CODES.contains(&e.code()) && reseals < MAX_RESEALS => {
                    tracing::debug!(
                        code = e.code(),
                        "statements moved on; syncing and re-sealing"
                    );
                    reseals += 1;
                    state = self.party.sync(self.inbox()).await?;
                }
                other => return other,
            }
        }
    }

    fn take_counter(&self) -> Counter {
        Counter(self.next_counter.fetch_add(1, Ordering::Relaxed))
    }

    fn seal_with(
        &self,
        state: &InboxState,
        counter: Counter,
        audience: Audience,
        text: &str,
    ) -> Result<SealedEnvelope> {
        let mut body = Body::text(text);
        if counter.0 == 1 {
            body.identity_token.clone_from(&self.identity_token);
        }
        let sender = SenderKey {
            device: &self.party.device,
            instance: self.instance,
        };
        let env = envelope::seal(
            &sender,
            counter,
            &self.descriptor,
            state,
            audience,
            &body,
            &[],
            crate::now(),
            &mut crate::rng(),
        )?;
        Ok(SealedEnvelope {
            hash: env.hash(),
            bytes: env.encode(),
            counter,
        })
    }

    /// Seals `text` now under the next counter, for posting later with
    /// [`Conversation::post_sealed`] (load generators pre-seal so that they
    /// measure the server, not themselves). An envelope sealed under
    /// statements that have since changed is refused (`stale_statement`).
    pub async fn seal_text(&self, text: &str) -> Result<SealedEnvelope> {
        let state = self.party.view(self.inbox()).await?;
        self.seal_with(&state, self.take_counter(), Audience::Conversation, text)
    }

    /// Posts a sealed envelope, retrying the same bytes on transport
    /// failures and 5xx answers; the server stores it once, so posting it
    /// again answers `duplicate: true` with the original seq.
    pub async fn post_sealed(&self, sealed: &SealedEnvelope) -> Result<Receipt> {
        self.post_sealed_rest(sealed).await
    }

    /// The `X-Confide-Device` value for this handle's sends (staff only).
    pub(crate) fn device_header(&self) -> Option<String> {
        self.party.device_header()
    }

    async fn post_sealed_rest(&self, sealed: &SealedEnvelope) -> Result<Receipt> {
        let attempts = self.party.client.inner.options.send_attempts.max(1);
        let device = self.party.device_header();
        let path = self.path("/envelopes");
        let mut delay = Duration::from_millis(50);
        let mut attempt = 1;
        let appended: Appended = loop {
            let r = self
                .party
                .client
                .post_bytes(
                    &path,
                    self.party.auth(),
                    device.as_deref(),
                    sealed.bytes.clone(),
                )
                .await;
            match r {
                Err(e) if e.is_transient() && attempt < attempts => {
                    tracing::debug!(
                        attempt,
                        code = e.code(),
                        "send failed in transit; retrying the same bytes"
                    );
                    tokio::time::sleep(delay).await;
                    delay = (delay * 2).min(Duration::from_secs(2));
                    attempt += 1;
                }
                Err(e) => return Err(e),
                Ok(a) => break a,
            }
        };
        let hash =
            EnvelopeHash::from_hex(&appended.hash).ok_or_else(|| Error::bad_response("hash"))?;
        if hash != sealed.hash {
            return Err(Error::bad_response(
                "the server acknowledged another envelope",
            ));
        }
        Ok(Receipt {
            seq: u64::try_from(appended.seq).map_err(|_| Error::bad_response("seq"))?,
            duplicate: appended.duplicate,
            hash,
        })
    }

    /// Stored envelopes after `after`, unopened (one page of at most 1000;
    /// ask again from the last seq for more).
    pub async fn fetch_raw(&self, after: u64) -> Result<Vec<RawEnvelope>> {
        Ok(self.page(after).await?.0)
    }

    async fn page(&self, after: u64) -> Result<(Vec<RawEnvelope>, u64, bool)> {
        let path = self.path(&format!("/envelopes?after={after}&limit={PAGE}"));
        let page: EnvelopePage = self.party.client.get(&path, self.party.auth()).await?;
        let b64 = base64::engine::general_purpose::STANDARD;
        let arrived = Instant::now();
        let items = page
            .envelopes
            .into_iter()
            .map(|item| {
                Ok(RawEnvelope {
                    conversation: self.id(),
                    seq: u64::try_from(item.seq).map_err(|_| Error::bad_response("seq"))?,
                    bytes: b64
                        .decode(item.envelope)
                        .map_err(|_| Error::bad_response("envelope"))?,
                    received_at: item.received_at,
                    arrived,
                })
            })
            .collect::<Result<Vec<_>>>()?;
        Ok((
            items,
            u64::try_from(page.last_seq).unwrap_or(0),
            page.has_more,
        ))
    }

    /// Every stored message, opened by the History rule (catch-up over
    /// REST). Envelopes that fail a check are listed in
    /// [`Transcript::rejected`], not as messages.
    pub async fn history(&self) -> Result<Transcript> {
        self.party.sync(self.inbox()).await?;
        let mut guard = ReplayGuard::new(self.id());
        let mut transcript = Transcript::default();
        let mut after = 0;
        loop {
            let (items, last_seq, has_more) = self.page(after).await?;
            transcript.last_seq = transcript.last_seq.max(last_seq);
            for item in &items {
                let stored = Stored {
                    seq: item.seq,
                    received_at: item.received_at,
                };
                let opened = message::open(
                    &self.party,
                    &self.descriptor,
                    &item.bytes,
                    false,
                    &mut guard,
                    stored,
                )
                .await;
                match opened {
                    Ok(m) => transcript.messages.push(m),
                    Err(e) if e.is_transient() => return Err(e),
                    Err(error) => transcript.rejected.push(Rejected {
                        seq: item.seq,
                        error,
                    }),
                }
                after = item.seq;
            }
            if !has_more || items.is_empty() {
                return Ok(transcript);
            }
        }
    }

    /// Live messages: the stored ones first, then new ones as they are
    /// stored, over a WebSocket that reconnects and resumes by itself.
    pub async fn subscribe(&self) -> Result<MessageStream> {
        self.subscribe_after(0).await
    }

    /// [`Conversation::subscribe`] starting after `seq`.
    pub async fn subscribe_after(&self, seq: u64) -> Result<MessageStream> {
        MessageStream::start(self.party.clone(), self.descriptor, seq).await
    }

    /// Opens envelope bytes obtained elsewhere as a message arriving now
    /// (the Live rule, against freshly synced statements), through this
    /// handle's replay guard: the checks a receiving device runs. `seq` and
    /// `received_at` of the result are 0.
    pub async fn open_envelope(&self, bytes: &[u8]) -> Result<Message> {
        self.party.sync(self.inbox()).await?;
        let mut guard = self.guard.lock().await;
        let stored = Stored {
            seq: 0,
            received_at: 0,
        };
        message::open(
            &self.party,
            &self.descriptor,
            bytes,
            true,
            &mut guard,
            stored,
        )
        .await
    }

    /// The conversation's current metadata.
    pub async fn info(&self) -> Result<ConversationInfo> {
        let view: ConversationView = self
            .party
            .client
            .get(&self.path(""), self.party.auth())
            .await?;
        view.info()
    }

    async fn act(&self, action: &str, user: Option<i64>) -> Result<ConversationInfo> {
        let body = user.map(|u| serde_json::json!({ "user_id": u }));
        let path = self.path(&format!("/{action}"));
        let view: ConversationView = self
            .party
            .client
            .request(Method::POST, &path, self.party.auth(), body.as_ref())
            .await?;
        view.info()
    }

    /// Assigns the open conversation to `user_id` (agents: themselves;
    /// supervisors: any reader of the inbox).
    pub async fn assign(&self, user_id: i64) -> Result<ConversationInfo> {
        self.act("assign", Some(user_id)).await
    }

    /// Hands the assigned conversation to `user_id`.
    pub async fn transfer(&self, user_id: i64) -> Result<ConversationInfo> {
        self.act("transfer", Some(user_id)).await
    }

    /// Closes the conversation (staff, or its visitor).
    pub async fn close(&self) -> Result<ConversationInfo> {
        self.act("close", None).await
    }

    /// Reopens a closed conversation.
    pub async fn reopen(&self) -> Result<ConversationInfo> {
        self.act("reopen", None).await
    }
}
