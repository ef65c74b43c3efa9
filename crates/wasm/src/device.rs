//! The facade's state, in plain Rust (tested natively): one device key,
//! the verified view of each inbox, the generation keys a staff device
//! unsealed, and per conversation the verified descriptor, the sender
//! instance and the replay guard.
//!
//! The order of checks follows `crates/client` (the Rust SDK): statements
//! are verified from the pinned root into a view that only moves forward
//! (docs/protocol.md §5.3, §6.4); a conversation is used only once its
//! descriptor committed to its id (§7); an envelope is verified, then
//! decrypted, then replay-checked (§9, §10); a visitor's identity token is
//! checked by staff devices (§12.5).
//!
//! Non-goals: fetching anything, clocks (the page passes `now`).

use crate::error::Error;
use crate::wire::{
    ChainResponse, ConversationInfo, IdentityView, MessageView, SenderView, Started, SyncSummary,
};
use base64::Engine;
use confide_protocol::body::Body;
use confide_protocol::conversation::Conversation;
use confide_protocol::envelope::{self, Audience, OpenMode, RecipientKeys, SenderKey, SenderKind};
use confide_protocol::generation::SignedGeneration;
use confide_protocol::grant::SignedGrant;
use confide_protocol::membership::{Role, SignedMembership};
use confide_protocol::replay::ReplayGuard;
use confide_protocol::root::SignedRootRotation;
use confide_protocol::state::{Chain, Checkpoint, InboxState, TrustAnchor};
use confide_protocol::{
    ConversationId, Counter, DeviceSecretKey, Generation, HpkeSecretKey, InboxId, InstanceId,
    OrgId, RecipientId, RootPublicKey, Timestamp,
};
use std::collections::{BTreeMap, BTreeSet};
use zeroize::Zeroize;

/// The browser's randomness (`crypto.getRandomValues` on wasm32).
fn rng() -> rand_core::UnwrapErr<getrandom::SysRng> {
    rand_core::UnwrapErr(getrandom::SysRng)
}

/// Checks once that randomness works, so that `rng()` cannot fail later.
fn check_randomness() -> Result<(), Error> {
    let mut probe = [0u8; 8];
    getrandom::fill(&mut probe).map_err(|_| Error::Randomness)
}

fn hex32(text: &str, what: &'static str) -> Result<[u8; 32], Error> {
    hex::decode(text.trim())
        .ok()
        .and_then(|b| <[u8; 32]>::try_from(b).ok())
        .ok_or(Error::InvalidInput(what))
}

fn inbox_id(text: &str) -> Result<InboxId, Error> {
    InboxId::from_hex(text.trim()).ok_or(Error::InvalidInput("inbox id"))
}

fn conversation_id(text: &str) -> Result<ConversationId, Error> {
    ConversationId::from_hex(text.trim()).ok_or(Error::InvalidInput("conversation id"))
}

/// The fingerprint (hex) of a root key given as hex.
pub(crate) fn fingerprint(root_key_hex: &str) -> Result<String, Error> {
    let root = RootPublicKey::from_bytes(&hex32(root_key_hex, "root key")?)?;
    Ok(hex::encode(root.fingerprint()))
}

fn decode_all<T>(
    hexes: &[String],
    decode: impl Fn(&[u8]) -> confide_protocol::Result<T>,
) -> Result<Vec<T>, Error> {
    hexes
        .iter()
        .map(|h| {
            let bytes = hex::decode(h).map_err(|_| Error::InvalidInput("statement hex"))?;
            Ok(decode(&bytes)?)
        })
        .collect()
}

fn role_name(role: Role) -> &'static str {
    match role {
        Role::Agent => "agent",
        Role::Supervisor => "supervisor",
        Role::Admin => "admin",
        Role::Scanner => "scanner",
    }
}

/// The organisation and its pinned root key.
#[derive(Clone, Copy)]
struct Pinned {
    org: OrgId,
    root: RootPublicKey,
}

/// One conversation on this device.
struct Thread {
    descriptor: Conversation,
    instance: InstanceId,
    next_counter: u64,
    identity_token: Option<Vec<u8>>,
    guard: ReplayGuard,
}

/// An envelope ready to post.
pub struct Sealed {
    /// The envelope bytes.
    pub bytes: Vec<u8>,
    /// Its hash (hex).
    pub hash: String,
    /// The counter it was sealed under.
    pub counter: u64,
}

/// The keys an opening may use: the device key, then generation keys.
struct Keys<'a> {
    device: &'a DeviceSecretKey,
    generations: &'a BTreeMap<RecipientId, HpkeSecretKey>,
}

impl RecipientKeys for Keys<'_> {
    fn secret_for(&self, id: &RecipientId) -> Option<&HpkeSecretKey> {
        self.device
            .secret_for(id)
            .or_else(|| self.generations.get(id))
    }
}

/// The facade's state (see the module documentation).
pub struct Core {
    device: DeviceSecretKey,
    staff: bool,
    pinned: Option<Pinned>,
    inboxes: BTreeMap<InboxId, InboxState>,
    floors: BTreeMap<InboxId, Checkpoint>,
    generation_keys: BTreeMap<RecipientId, HpkeSecretKey>,
    held: BTreeSet<(InboxId, Generation)>,
    tried: BTreeSet<(InboxId, Generation)>,
    threads: BTreeMap<ConversationId, Thread>,
}

impl Core {
    fn with(device: DeviceSecretKey, staff: bool) -> Self {
        Self {
            device,
            staff,
            pinned: None,
            inboxes: BTreeMap::new(),
            floors: BTreeMap::new(),
            generation_keys: BTreeMap::new(),
            held: BTreeSet::new(),
            tried: BTreeSet::new(),
            threads: BTreeMap::new(),
        }
    }

    /// A new device key.
    pub fn generate(staff: bool) -> Result<Self, Error> {
        check_randomness()?;
        Ok(Self::with(DeviceSecretKey::generate(&mut rng()), staff))
    }

    /// A device from its 64-byte secret (signing seed ‖ HPKE secret).
    pub fn restore(secret: &[u8], staff: bool) -> Result<Self, Error> {
        check_randomness()?;
        let (seed, hpke) = secret
            .split_first_chunk::<32>()
            .and_then(|(s, rest)| Some((s, <[u8; 32]>::try_from(rest).ok()?)))
            .ok_or(Error::InvalidInput("device secret"))?;
        let mut hpke = hpke;
        let key = DeviceSecretKey::dangerous_from_bytes(seed, hpke);
        hpke.zeroize();
        Ok(Self::with(key, staff))
    }

    /// The 64-byte secret, for wrapping and storage only.
    pub fn export_secret(&self) -> Vec<u8> {
        self.device.dangerous_expose_bytes().to_vec()
    }

    /// The public identity (hex).
    pub fn identity(&self) -> String {
        hex::encode(self.device.public().encode())
    }

    /// The device id (hex).
    pub fn device_id(&self) -> String {
        self.device.device_id().to_hex()
    }

    /// Pins the organisation's root key by its fingerprint.
    pub fn pin(
        &mut self,
        org_hex: &str,
        root_key_hex: &str,
        fingerprint_hex: &str,
    ) -> Result<(), Error> {
        let org = OrgId::from_hex(org_hex.trim()).ok_or(Error::InvalidInput("organisation id"))?;
        let root = RootPublicKey::from_bytes(&hex32(root_key_hex, "root key")?)?;
        let pinned = hex32(fingerprint_hex, "root fingerprint")?;
        if root.fingerprint() != pinned {
            return Err(Error::RootKeyMismatch);
        }
        if let Some(p) = self.pinned
            && (p.org != org || p.root != root)
        {
            return Err(Error::RootKeyMismatch);
        }
        self.pinned = Some(Pinned { org, root });
        Ok(())
    }

    fn anchor(&self, inbox: InboxId) -> Result<TrustAnchor, Error> {
        let p = self.pinned.ok_or(Error::NotPinned)?;
        Ok(TrustAnchor {
            org: p.org,
            inbox,
            root: p.root,
        })
    }

    /// Restores a stored checkpoint (checked against the pinned anchor).
    pub fn restore_checkpoint(&mut self, bytes: &[u8]) -> Result<(), Error> {
        let checkpoint = Checkpoint::decode(bytes)?;
        let anchor = self.anchor(checkpoint.inbox)?;
        InboxState::with_checkpoint(anchor, checkpoint)?;
        self.floors.insert(checkpoint.inbox, checkpoint);
        Ok(())
    }

    /// The checkpoint of an inbox's verified view, if any.
    pub fn checkpoint(&self, inbox_hex: &str) -> Option<Vec<u8>> {
        let inbox = inbox_id(inbox_hex).ok()?;
        self.inboxes
            .get(&inbox)
            .and_then(InboxState::checkpoint)
            .or_else(|| self.floors.get(&inbox).copied())
            .map(|c| c.encode())
    }

    /// Verifies a chain into the inbox's view; unseals new generations.
    pub fn sync(
        &mut self,
        inbox_hex: &str,
        chain_json: &str,
        now: Timestamp,
    ) -> Result<String, Error> {
        let inbox = inbox_id(inbox_hex)?;
        let res: ChainResponse =
            serde_json::from_str(chain_json).map_err(|_| Error::InvalidInput("chain JSON"))?;
        let chain = Chain {
            rotations: decode_all(&res.rotations, SignedRootRotation::decode)?,
            memberships: decode_all(&res.memberships, SignedMembership::decode)?,
            generations: decode_all(&res.generations, SignedGeneration::decode)?,
        };
        let anchor = self.anchor(inbox)?;
        let mut next = match self.inboxes.get(&inbox) {
            Some(s) => s.clone(),
            None => match self.floors.get(&inbox) {
                Some(cp) => InboxState::with_checkpoint(anchor, *cp)?,
                None => InboxState::new(anchor),
            },
        };
        next.sync(&chain, now)?;
        self.inboxes.insert(inbox, next);
        self.unseal(inbox);
        self.summary(inbox)
    }

    /// Unseals every generation of `inbox` sealed to this staff device
    /// that was not tried yet (a failing one is not retried).
    fn unseal(&mut self, inbox: InboxId) {
        if !self.staff {
            return;
        }
        let Some(state) = self.inboxes.get(&inbox) else {
            return;
        };
        let me = self.device.device_id();
        for g in state.generations() {
            let number = g.body().generation;
            if !self.tried.insert((inbox, number)) {
                continue;
            }
            if !g.body().seals.iter().any(|s| s.device == me) {
                continue;
            }
            if let Ok(key) = g.unseal(&self.device) {
                self.generation_keys
                    .insert(key.public_key().recipient_id(), key);
                self.held.insert((inbox, number));
            }
        }
    }

    fn summary(&self, inbox: InboxId) -> Result<String, Error> {
        let state = self
            .inboxes
            .get(&inbox)
            .ok_or(Error::InvalidInput("inbox not synced"))?;
        let head = state
            .head_membership()
            .ok_or(Error::Protocol(confide_protocol::Error::UnknownStatement))?;
        let m = head.body();
        let generation = state.head_generation();
        let me = self.device.device_id();
        let summary = SyncSummary {
            inbox: inbox.to_hex(),
            membership_seq: m.seq.0,
            generation: generation.map(|g| g.body().generation.0),
            can_send: generation.is_some_and(|g| g.body().membership_hash == head.hash()),
            policy: String::from_utf8(m.policy.clone()).unwrap_or_default(),
            required: m
                .required_recipients
                .iter()
                .map(|r| r.purpose.clone())
                .collect(),
            member: m.member(&me).is_some_and(|x| x.role.reads_inbox()),
            readable_generations: self
                .held
                .iter()
                .filter(|(i, _)| *i == inbox)
                .map(|(_, g)| g.0)
                .collect(),
        };
        serde_json::to_string(&summary).map_err(|_| Error::InvalidInput("summary"))
    }

    /// Accepts a grant of an older generation key (§6.6).
    pub fn accept_grant(&mut self, bytes: &[u8]) -> Result<u64, Error> {
        let grant = SignedGrant::decode(bytes)?;
        let inbox = grant.body().inbox;
        let state = self
            .inboxes
            .get(&inbox)
            .ok_or(Error::Protocol(confide_protocol::Error::UnknownStatement))?;
        let key = grant.accept(state, &self.device)?;
        let generation = grant.body().generation;
        self.generation_keys
            .insert(key.public_key().recipient_id(), key);
        self.held.insert((inbox, generation));
        Ok(generation.0)
    }

    fn new_thread(descriptor: Conversation, identity_token: Option<Vec<u8>>) -> Thread {
        let mut instance = [0u8; 16];
        rand_core::Rng::fill_bytes(&mut rng(), &mut instance);
        Thread {
            guard: ReplayGuard::new(descriptor.id()),
            descriptor,
            instance: InstanceId(instance),
            next_counter: 1,
            identity_token,
        }
    }

    /// Starts a conversation whose id commits to this device's key.
    pub fn start_conversation(
        &mut self,
        inbox_hex: &str,
        identity_token_hex: &str,
    ) -> Result<String, Error> {
        let inbox = inbox_id(inbox_hex)?;
        let pinned = self.pinned.ok_or(Error::NotPinned)?;
        let token = match identity_token_hex.trim() {
            "" => None,
            t => Some(hex::decode(t).map_err(|_| Error::InvalidInput("identity token hex"))?),
        };
        let descriptor = Conversation::start(pinned.org, inbox, self.device.public(), &mut rng());
        let started = Started {
            id: descriptor.id().to_hex(),
            inbox: inbox.to_hex(),
            descriptor: hex::encode(descriptor.encode_descriptor()),
        };
        self.threads
            .insert(descriptor.id(), Self::new_thread(descriptor, token));
        serde_json::to_string(&started).map_err(|_| Error::InvalidInput("conversation"))
    }

    /// Takes a conversation described by the server, checking the
    /// descriptor against the id and the pinned organisation.
    pub fn open_conversation(
        &mut self,
        id_hex: &str,
        descriptor_hex: &str,
    ) -> Result<String, Error> {
        let id = conversation_id(id_hex)?;
        let pinned = self.pinned.ok_or(Error::NotPinned)?;
        let bytes =
            hex::decode(descriptor_hex.trim()).map_err(|_| Error::InvalidInput("descriptor"))?;
        let descriptor = Conversation::decode_descriptor(&bytes, id)?;
        if descriptor.org() != pinned.org {
            return Err(Error::Protocol(confide_protocol::Error::WrongConversation));
        }
        let info = ConversationInfo {
            id: id.to_hex(),
            inbox: descriptor.inbox().to_hex(),
            visitor_device: descriptor.visitor_device().to_hex(),
            mine: descriptor.visitor_device() == self.device.device_id(),
        };
        self.threads
            .entry(id)
            .or_insert_with(|| Self::new_thread(descriptor, None));
        serde_json::to_string(&info).map_err(|_| Error::InvalidInput("conversation"))
    }

    /// Forgets a conversation.
    pub fn forget(&mut self, id_hex: &str) {
        if let Ok(id) = conversation_id(id_hex) {
            self.threads.remove(&id);
        }
    }

    /// Seals a text (or an internal note) under the inbox's head statements.
    pub fn seal(
        &mut self,
        id_hex: &str,
        text: &str,
        note: bool,
        counter: Option<u64>,
        now: Timestamp,
    ) -> Result<Sealed, Error> {
        let id = conversation_id(id_hex)?;
        if note && !self.staff {
            return Err(Error::NotStaff);
        }
        let thread = self
            .threads
            .get_mut(&id)
            .ok_or(Error::UnknownConversation)?;
        let state = self
            .inboxes
            .get(&thread.descriptor.inbox())
            .ok_or(Error::Protocol(confide_protocol::Error::UnknownStatement))?;
        let counter = match counter {
            Some(c) if c >= 1 && c < thread.next_counter => c,
            Some(_) => return Err(Error::InvalidInput("counter")),
            None => {
                let c = thread.next_counter;
                thread.next_counter = c.saturating_add(1);
                c
            }
        };
        let mut body = Body::text(text);
        if counter == 1 {
            body.identity_token.clone_from(&thread.identity_token);
        }
        let sender = SenderKey {
            device: &self.device,
            instance: thread.instance,
        };
        let audience = if note {
            Audience::InternalNote
        } else {
            Audience::Conversation
        };
        let env = envelope::seal(
            &sender,
            Counter(counter),
            &thread.descriptor,
            state,
            audience,
            &body,
            &[],
            now,
            &mut rng(),
        )?;
        Ok(Sealed {
            hash: env.hash().to_hex(),
            bytes: env.encode(),
            counter,
        })
    }

    /// Verifies, decrypts and replay-checks one stored envelope.
    pub fn open(
        &mut self,
        id_hex: &str,
        envelope_b64: &str,
        live: bool,
        synced: bool,
        now: Timestamp,
    ) -> Result<String, Error> {
        let id = conversation_id(id_hex)?;
        let bytes = base64::engine::general_purpose::STANDARD
            .decode(envelope_b64.trim())
            .map_err(|_| Error::InvalidInput("envelope base64"))?;
        let thread = self
            .threads
            .get_mut(&id)
            .ok_or(Error::UnknownConversation)?;
        let state = self
            .inboxes
            .get(&thread.descriptor.inbox())
            .ok_or(Error::Protocol(confide_protocol::Error::UnknownStatement))?;
        let mode = if live {
            OpenMode::Live { now }
        } else {
            OpenMode::History
        };
        let verified = match envelope::verify(&bytes, &thread.descriptor, state, mode) {
            Ok(v) => v,
            Err(confide_protocol::Error::StaleStatement) if live && synced => {
                // Sealed under an earlier membership (a send racing a
                // change): acceptable only from a sender that may still send.
                let v = envelope::verify(&bytes, &thread.descriptor, state, OpenMode::History)?;
                match v.sender_kind() {
                    SenderKind::Visitor | SenderKind::Member { current: true, .. } => v,
                    SenderKind::Member { .. } => {
                        return Err(confide_protocol::Error::SenderRemoved.into());
                    }
                }
            }
            Err(e) => return Err(e.into()),
        };
        let keys = Keys {
            device: &self.device,
            generations: &self.generation_keys,
        };
        let mut opened = verified.decrypt(&keys)?;
        thread.guard.accept(&opened.header, opened.hash)?;
        let identity = if self.staff {
            opened
                .verify_identity(&thread.descriptor, state, now)
                .map(|r| match r {
                    Ok(v) => {
                        let c = v.into_claims();
                        IdentityView {
                            status: "verified",
                            code: None,
                            subject: Some(c.subject.clone()),
                            name: Some(c.name.clone()),
                            email: Some(c.email.clone()),
                        }
                    }
                    Err(e) => IdentityView {
                        status: "invalid",
                        code: Some(e.code()),
                        subject: None,
                        name: None,
                        email: None,
                    },
                })
        } else {
            None
        };
        let (kind, role, alias, current) = match &opened.sender_kind {
            SenderKind::Visitor => ("visitor", None, None, true),
            SenderKind::Member {
                role,
                alias,
                current,
            } => (
                "member",
                Some(role_name(*role)),
                Some(alias.clone()),
                *current,
            ),
        };
        let h = &opened.header;
        let mut view = MessageView {
            sender: SenderView {
                device: opened.sender.to_hex(),
                kind,
                role,
                alias,
                current,
                me: opened.sender == self.device.device_id(),
            },
            internal: h.audience == Audience::InternalNote,
            instance: hex::encode(h.instance.0),
            counter: h.counter.0,
            hash: opened.hash.to_hex(),
            reply_to: opened.body.reply_to.map(|r| r.to_hex()),
            text: std::mem::take(&mut opened.body.text),
            identity,
        };
        let json = serde_json::to_string(&view);
        view.text.zeroize();
        json.map_err(|_| Error::InvalidInput("message"))
    }
}

#[cfg(test)]
mod tests;
