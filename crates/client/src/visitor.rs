//! The visitor role: an anonymous session bound to a device key, which
//! starts conversations whose ids commit to that key (docs/protocol.md §7).
//!
//! The device key never leaves the [`Visitor`]; the server gets its public
//! identity and answers with a visitor token (`Authorization: Visitor`).
//! Every [`Conversation`] handle made from one visitor — one per browser
//! tab, say — is its own sender instance of the same device.
//!
//! Non-goals: storing the device key or token (the caller's business; see
//! [`Visitor::resume`]).

use crate::conversation::{Conversation, ConversationView};
use crate::error::{Error, Result};
use crate::http::{Auth, Client, Secret};
use crate::live::RawSubscription;
use crate::party::{Party, Principal};
use confide_protocol::conversation::Conversation as Descriptor;
use confide_protocol::{ConversationId, DeviceId, DeviceSecretKey, InboxId};
use reqwest::Method;
use serde::Deserialize;
use std::sync::Arc;

/// An anonymous visitor session (see the module docs). Not `Clone`: it
/// owns the device key.
pub struct Visitor {
    party: Arc<Party>,
    visitor_id: i64,
}

impl std::fmt::Debug for Visitor {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Visitor")
            .field("visitor_id", &self.visitor_id)
            .field("device", &self.party.device.device_id())
            .finish_non_exhaustive()
    }
}

#[derive(Deserialize)]
struct VisitorCreated {
    visitor_id: i64,
    device_id: String,
    token: String,
}

#[derive(Deserialize)]
struct VisitorInfo {
    visitor_id: i64,
    device_id: String,
}

impl Visitor {
    /// Registers `device`'s public identity as a new visitor session.
    pub async fn create(client: &Client, device: DeviceSecretKey) -> Result<Visitor> {
        let body = serde_json::json!({ "identity": hex::encode(device.public().encode()) });
        let created: VisitorCreated = client
            .request(Method::POST, "api/v1/visitors", Auth::None, Some(&body))
            .await?;
        let token = Secret::new(created.token);
        if DeviceId::from_hex(&created.device_id) != Some(device.device_id()) {
            return Err(Error::bad_response("device_id of another identity"));
        }
        Ok(Self::with(client, device, created.visitor_id, token))
    }

    /// Resumes a session from a stored device key and token (checked with
    /// the server, which must know the token for this very device).
    pub async fn resume(
        client: &Client,
        device: DeviceSecretKey,
        token: Secret,
    ) -> Result<Visitor> {
        let info: VisitorInfo = client
            .get("api/v1/visitors/me", Auth::Visitor(&token))
            .await?;
        if DeviceId::from_hex(&info.device_id) != Some(device.device_id()) {
            return Err(Error::InvalidInput("the token belongs to another device"));
        }
        Ok(Self::with(client, device, info.visitor_id, token))
    }

    fn with(client: &Client, device: DeviceSecretKey, visitor_id: i64, token: Secret) -> Self {
        let principal = Principal::Visitor { visitor_id };
        Self {
            party: Party::new(client.clone(), Arc::new(token), principal, device),
            visitor_id,
        }
    }

    /// The server's id of this visitor.
    pub fn id(&self) -> i64 {
        self.visitor_id
    }

    /// The device id.
    pub fn device_id(&self) -> DeviceId {
        self.party.device.device_id()
    }

    /// The session token, to store it for [`Visitor::resume`].
    pub fn token(&self) -> &Secret {
        &self.party.token
    }

    /// Starts a conversation in `inbox` with an id this device chooses.
    pub async fn start_conversation(&self, inbox: InboxId) -> Result<Conversation> {
        self.start(inbox, None).await
    }

    /// Starts a conversation whose first message carries `identity_token`
    /// (issued by the company's backend for this device, §12): agents
    /// verify it end to end and see the visitor as verified.
    pub async fn start_verified_conversation(
        &self,
        inbox: InboxId,
        identity_token: Vec<u8>,
    ) -> Result<Conversation> {
        self.start(inbox, Some(identity_token)).await
    }

    async fn start(&self, inbox: InboxId, token: Option<Vec<u8>>) -> Result<Conversation> {
        let client = &self.party.client;
        // Only a verified generation makes a conversation usable: sync first.
        self.party.sync(inbox).await?;
        let descriptor = Descriptor::start(
            client.org(),
            inbox,
            self.party.device.public(),
            &mut crate::rng(),
        );
        let body = serde_json::json!({
            "inbox_id": inbox.to_hex(),
            "conversation_id": descriptor.id().to_hex(),
            "descriptor": hex::encode(descriptor.encode_descriptor()),
        });
        let _: ConversationView = client
            .request(
                Method::POST,
                "api/v1/conversations",
                self.party.auth(),
                Some(&body),
            )
            .await?;
        Ok(Conversation::new(self.party.clone(), descriptor, token))
    }

    /// A new handle (a new sender instance: another tab) on one of this
    /// visitor's conversations. The descriptor the server returns is
    /// checked against `id` and this device.
    pub async fn open_conversation(&self, id: ConversationId) -> Result<Conversation> {
        let path = format!("api/v1/conversations/{}", id.to_hex());
        let view: ConversationView = self.party.client.get(&path, self.party.auth()).await?;
        let descriptor = view.descriptor(id)?;
        if descriptor.visitor_device() != self.device_id() {
            return Err(Error::bad_response(
                "a conversation of another visitor device",
            ));
        }
        self.party.view(descriptor.inbox()).await?;
        Ok(Conversation::new(self.party.clone(), descriptor, None))
    }

    /// A raw live subscription on this session (no decryption), for
    /// following many conversations on one connection.
    pub async fn live(&self) -> Result<RawSubscription> {
        RawSubscription::connect(&self.party.client, self.party.auth()).await
    }
}
