//! The staff role: a session from e-mail and password (agents,
//! supervisors, administrators alike), a console device certified into
//! the user's inboxes, and the conversations the server lets the user see.
//!
//! After [`Agent::register_device`] the server (managed mode) publishes a
//! membership with the device and a key generation sealed to it; the SDK
//! verifies those statements from the pinned root and unseals the
//! generation keys on this device. Generations issued before the device
//! joined are readable only through grants from a device that holds them
//! ([`Agent::issue_grant`], [`Agent::accept_grant`], §6.6).
//!
//! Administration (users, inboxes, device revocation) lives in
//! `crate::admin`. Non-goals: TOTP and passkeys (not in the server yet).

use crate::conversation::{Conversation, ConversationInfo, ConversationView};
use crate::error::{Error, Result};
use crate::http::{Auth, Client, Secret};
use crate::live::RawSubscription;
use crate::message::{self, Message, Stored};
use crate::party::{Party, Principal};
use confide_protocol::conversation::Conversation as Descriptor;
use confide_protocol::grant::SignedGrant;
use confide_protocol::replay::ReplayGuard;
use confide_protocol::{ConversationId, DeviceId, DeviceSecretKey, Generation, InboxId};
use reqwest::Method;
use serde::Deserialize;
use std::sync::Arc;

/// A staff account as the server describes it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct User {
    /// User id.
    pub id: i64,
    /// E-mail address (login name).
    pub email: String,
    /// Name shown to colleagues.
    pub display_name: String,
    /// `admin`, `supervisor`, `agent` or `security_officer`.
    pub role: String,
    /// Inboxes the user belongs to.
    pub inboxes: Vec<InboxId>,
    /// The one-time password must be changed before anything else.
    pub must_change_password: bool,
    /// The account is disabled.
    pub disabled: bool,
}

#[derive(Deserialize)]
pub(crate) struct UserView {
    id: i64,
    email: String,
    display_name: String,
    role: String,
    inboxes: Vec<String>,
    must_change_password: bool,
    disabled: bool,
}

impl UserView {
    pub(crate) fn user(self) -> Result<User> {
        let inboxes = self
            .inboxes
            .iter()
            .map(|h| InboxId::from_hex(h).ok_or_else(|| Error::bad_response("inbox id")))
            .collect::<Result<_>>()?;
        Ok(User {
            id: self.id,
            email: self.email,
            display_name: self.display_name,
            role: self.role,
            inboxes,
            must_change_password: self.must_change_password,
            disabled: self.disabled,
        })
    }
}

#[derive(Deserialize)]
struct LoginResponse {
    token: String,
    user: UserView,
}

#[derive(Deserialize)]
struct ConversationList {
    conversations: Vec<ConversationView>,
}

/// Which conversations [`Agent::conversations`] lists.
#[derive(Clone, Debug, Default)]
pub struct ConversationFilter {
    /// Only this inbox.
    pub inbox: Option<InboxId>,
    /// Only this state: `open`, `assigned` or `closed`.
    pub state: Option<String>,
    /// Only those assigned to this user.
    pub assigned_to: Option<i64>,
    /// At most this many (server default 50, at most 200).
    pub limit: Option<u32>,
}

/// A staff session (see the module docs). Not `Clone`: it owns the token
/// and the device key.
pub struct Agent {
    pub(crate) client: Client,
    pub(crate) token: Arc<Secret>,
    user: User,
    party: Option<Arc<Party>>,
}

impl std::fmt::Debug for Agent {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Agent")
            .field("user", &self.user.id)
            .field("device", &self.device_id())
            .finish_non_exhaustive()
    }
}

impl Agent {
    /// Logs in. If [`User::must_change_password`] is set, only
    /// [`Agent::change_password`] works until it is called.
    pub async fn login(client: &Client, email: &str, password: &str) -> Result<Agent> {
        let body = serde_json::json!({ "email": email, "password": password });
        let res: LoginResponse = client
            .request(Method::POST, "api/v1/auth/login", Auth::None, Some(&body))
            .await?;
        Ok(Agent {
            client: client.clone(),
            token: Arc::new(Secret::new(res.token)),
            user: res.user.user()?,
            party: None,
        })
    }

    /// Resumes a session from a stored token.
    pub async fn resume(client: &Client, token: Secret) -> Result<Agent> {
        let user: UserView = client.get("api/v1/me", Auth::Bearer(&token)).await?;
        Ok(Agent {
            client: client.clone(),
            token: Arc::new(token),
            user: user.user()?,
            party: None,
        })
    }

    pub(crate) fn auth(&self) -> Auth<'_> {
        Auth::Bearer(&self.token)
    }

    /// The account, as of login or the last [`Agent::refresh`].
    pub fn user(&self) -> &User {
        &self.user
    }

    /// The session token, to store it for [`Agent::resume`].
    pub fn token(&self) -> &Secret {
        &self.token
    }

    /// Reloads the account (role, inboxes) from the server.
    pub async fn refresh(&mut self) -> Result<&User> {
        let user: UserView = self.client.get("api/v1/me", self.auth()).await?;
        self.user = user.user()?;
        Ok(&self.user)
    }

    /// Changes the password (and clears the one-time-password gate). The
    /// server ends every other session of the user.
    pub async fn change_password(&mut self, current: &str, new: &str) -> Result<()> {
        let body = serde_json::json!({ "current": current, "new": new });
        self.client
            .send_empty(Method::POST, "api/v1/me/password", self.auth(), Some(&body))
            .await?;
        self.refresh().await?;
        Ok(())
    }

    /// Registers `device` as this user's console: the server certifies it
    /// into the user's inboxes and issues new key generations, which this
    /// device then verifies and unseals. Registering the same key again is
    /// harmless.
    pub async fn register_device(
        &mut self,
        device: DeviceSecretKey,
        label: &str,
    ) -> Result<DeviceId> {
        let body = serde_json::json!({
            "identity": hex::encode(device.public().encode()),
            "kind": "console",
            "label": label,
        });
        let _: serde_json::Value = self
            .client
            .request(Method::POST, "api/v1/devices", self.auth(), Some(&body))
            .await?;
        let id = device.device_id();
        let principal = Principal::Staff {
            user_id: self.user.id,
        };
        let party = Party::new(self.client.clone(), self.token.clone(), principal, device);
        for inbox in &self.user.inboxes {
            party.sync(*inbox).await?;
        }
        self.party = Some(party);
        Ok(id)
    }

    /// The registered device, if any.
    pub fn device_id(&self) -> Option<DeviceId> {
        self.party.as_ref().map(|p| p.device.device_id())
    }

    fn party(&self) -> Result<&Arc<Party>> {
        self.party.as_ref().ok_or(Error::NoDevice)
    }

    /// The conversations this user may see, most recently updated first.
    pub async fn conversations(
        &self,
        filter: &ConversationFilter,
    ) -> Result<Vec<ConversationInfo>> {
        let mut query = Vec::new();
        if let Some(i) = filter.inbox {
            query.push(format!("inbox={}", i.to_hex()));
        }
        if let Some(s) = &filter.state {
            if !matches!(s.as_str(), "open" | "assigned" | "closed") {
                return Err(Error::InvalidInput(
                    "state must be open, assigned or closed",
                ));
            }
            query.push(format!("state={s}"));
        }
        if let Some(u) = filter.assigned_to {
            query.push(format!("assigned_to={u}"));
        }
        if let Some(l) = filter.limit {
            query.push(format!("limit={l}"));
        }
        let path = format!("api/v1/conversations?{}", query.join("&"));
        let list: ConversationList = self.client.get(&path, self.auth()).await?;
        list.conversations
            .iter()
            .map(ConversationView::info)
            .collect()
    }

    /// A handle on a conversation this user may see (404 `not_found`
    /// otherwise). Its descriptor is checked against `id` (§7), so the
    /// server cannot substitute another visitor key.
    pub async fn open_conversation(&self, id: ConversationId) -> Result<Conversation> {
        let party = self.party()?;
        let path = format!("api/v1/conversations/{}", id.to_hex());
        let view: ConversationView = self.client.get(&path, self.auth()).await?;
        let descriptor = view.descriptor(id)?;
        party.view(descriptor.inbox()).await?;
        Ok(Conversation::new(party.clone(), descriptor, None))
    }

    /// Opens envelope bytes of any conversation whose descriptor is known
    /// (History rule against freshly synced statements, no replay state):
    /// what this device can and cannot read, e.g. `not_a_recipient` for a
    /// conversation of an inbox it does not belong to.
    pub async fn open_envelope(&self, descriptor: &Descriptor, bytes: &[u8]) -> Result<Message> {
        let party = self.party()?;
        party.sync(descriptor.inbox()).await?;
        let mut guard = ReplayGuard::new(descriptor.id());
        let stored = Stored {
            seq: 0,
            received_at: 0,
        };
        message::open(party, descriptor, bytes, false, &mut guard, stored).await
    }

    /// A raw live subscription on this session (no decryption), for
    /// following many conversations on one connection.
    pub async fn live(&self) -> Result<RawSubscription> {
        RawSubscription::connect(&self.client, self.auth()).await
    }

    /// Grants this device's key of `generation` of `inbox` to `grantee` (a
    /// device that joined the inbox later), so it can read history; the
    /// encoded grant is for the grantee's [`Agent::accept_grant`].
    pub async fn issue_grant(
        &self,
        inbox: InboxId,
        generation: Generation,
        grantee: &DeviceId,
    ) -> Result<Vec<u8>> {
        Ok(self
            .party()?
            .issue_grant(inbox, generation, grantee)
            .await?
            .encode())
    }

    /// Verifies a grant addressed to this device and keeps the key; the
    /// generation it opens.
    pub async fn accept_grant(&self, grant: &[u8]) -> Result<Generation> {
        let grant = SignedGrant::decode(grant)?;
        self.party()?.accept_grant(&grant).await
    }

    /// Ends the session on the server.
    pub async fn logout(self) -> Result<()> {
        self.client
            .send_empty(Method::POST, "api/v1/auth/logout", self.auth(), None)
            .await
    }
}
