//! Administration through a staff session: accounts, inboxes, device
//! revocation. The server allows these to administrators (and a device's
//! own user, for revocation); every change of membership makes it publish
//! new statements at once (managed mode), which clients then verify.
//!
//! Non-goals: organisation settings and root-key operations (later).

use crate::agent::{Agent, User, UserView};
use crate::error::{Error, Result};
use crate::http::Secret;
use confide_protocol::{DeviceId, InboxId};
use reqwest::Method;
use serde::Deserialize;

/// A new staff account.
#[derive(Clone, Debug)]
pub struct NewUser {
    /// E-mail address (login name).
    pub email: String,
    /// Name shown to colleagues.
    pub display_name: String,
    /// `admin`, `supervisor`, `agent` or `security_officer`.
    pub role: String,
    /// Inboxes the user belongs to.
    pub inboxes: Vec<InboxId>,
}

/// Changes to a staff account; `None` leaves a field as it is.
#[derive(Clone, Debug, Default)]
pub struct UserUpdate {
    /// New display name.
    pub display_name: Option<String>,
    /// New role.
    pub role: Option<String>,
    /// New inbox set (replaces the old one).
    pub inboxes: Option<Vec<InboxId>>,
    /// Disable (ends the sessions, devices leave membership) or re-enable.
    pub disabled: Option<bool>,
}

#[derive(Deserialize)]
struct UserCreated {
    user: UserView,
    one_time_password: String,
}

#[derive(Deserialize)]
struct InboxView {
    id: String,
}

fn hexes(inboxes: &[InboxId]) -> Vec<String> {
    inboxes.iter().map(InboxId::to_hex).collect()
}

impl Agent {
    /// Creates an account (administrators); returns it with its one-time
    /// password, which the user must change at the first login.
    pub async fn create_user(&self, new: &NewUser) -> Result<(User, Secret)> {
        let body = serde_json::json!({
            "email": new.email,
            "display_name": new.display_name,
            "role": new.role,
            "inboxes": hexes(&new.inboxes),
        });
        let created: UserCreated = self
            .client
            .request(Method::POST, "api/v1/users", self.auth(), Some(&body))
            .await?;
        Ok((created.user.user()?, Secret::new(created.one_time_password)))
    }

    /// Changes an account (administrators).
    pub async fn update_user(&self, user_id: i64, update: &UserUpdate) -> Result<User> {
        let mut body = serde_json::Map::new();
        if let Some(n) = &update.display_name {
            body.insert("display_name".into(), n.clone().into());
        }
        if let Some(r) = &update.role {
            body.insert("role".into(), r.clone().into());
        }
        if let Some(i) = &update.inboxes {
            body.insert("inboxes".into(), hexes(i).into());
        }
        if let Some(d) = update.disabled {
            body.insert("disabled".into(), d.into());
        }
        let path = format!("api/v1/users/{user_id}");
        let user: UserView = self
            .client
            .request(Method::PATCH, &path, self.auth(), Some(&body.into()))
            .await?;
        user.user()
    }

    /// Creates an inbox (administrators). It has no key generation until a
    /// reader's device joins it.
    pub async fn create_inbox(&self, name: &str) -> Result<InboxId> {
        let body = serde_json::json!({ "name": name });
        let inbox: InboxView = self
            .client
            .request(Method::POST, "api/v1/inboxes", self.auth(), Some(&body))
            .await?;
        InboxId::from_hex(&inbox.id).ok_or_else(|| Error::bad_response("inbox id"))
    }

    /// Revokes a device (one's own; administrators any staff device): it
    /// leaves its inboxes' membership at once and never receives the next
    /// key generation.
    pub async fn revoke_device(&self, device: DeviceId) -> Result<()> {
        let path = format!("api/v1/devices/{}", device.to_hex());
        self.client
            .send_empty(Method::DELETE, &path, self.auth(), None)
            .await
    }
}
