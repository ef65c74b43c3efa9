//! First start: create the organisation (managed mode), its keys, a
//! default inbox and an administrator whose one-time password is shown
//! once. Later starts load what exists.

use crate::db;
use crate::keys::{KeyError, ServerKeys, os_rng};
use crate::managed::{self, PublishError};
use crate::password;
use confide_protocol::{InboxId, OrgId};
use rand_core::Rng;
use sqlx::SqlitePool;
use std::path::Path;

/// The organisation as loaded at start.
#[derive(Debug)]
pub struct Organisation {
    /// Its id.
    pub id: OrgId,
    /// The default inbox created on first start.
    pub default_inbox: InboxId,
    /// The managed-mode keys.
    pub keys: ServerKeys,
}

/// What the first start created and must tell the operator once.
#[derive(Debug)]
pub struct FirstStart {
    /// The administrator's e-mail (login name).
    pub admin_email: String,
    /// The one-time password (must be changed at first login).
    pub admin_password: String,
}

/// A start-up failure.
#[derive(Debug, thiserror::Error)]
pub enum BootstrapError {
    /// Database failure.
    #[error("database: {0}")]
    Db(#[from] sqlx::Error),
    /// Key files.
    #[error("keys: {0}")]
    Keys(#[from] KeyError),
    /// Statements.
    #[error("statements: {0}")]
    Publish(#[from] PublishError),
    /// Password hashing.
    #[error("password hashing: {0}")]
    Password(String),
    /// Stored data is inconsistent.
    #[error("corrupt stored data: {0}")]
    Corrupt(&'static str),
}

/// Loads the organisation, creating it on the first start.
pub async fn load_or_create(
    pool: &SqlitePool,
    data: &Path,
) -> Result<(Organisation, Option<FirstStart>), BootstrapError> {
    let existing: Option<(Vec<u8>,)> = sqlx::query_as("SELECT id FROM organisation LIMIT 1")
        .fetch_optional(pool)
        .await?;
    if let Some((id,)) = existing {
        let id = OrgId(
            id.try_into()
                .map_err(|_| BootstrapError::Corrupt("organisation id"))?,
        );
        let (inbox,): (Vec<u8>,) = sqlx::query_as(
            "SELECT id FROM inbox WHERE org_id = ? ORDER BY created_at, rowid LIMIT 1",
        )
        .bind(id.0.as_slice())
        .fetch_one(pool)
        .await?;
        let default_inbox = InboxId(
            inbox
                .try_into()
                .map_err(|_| BootstrapError::Corrupt("inbox id"))?,
        );
        let keys = ServerKeys::load(data)?;
        return Ok((
            Organisation {
                id,
                default_inbox,
                keys,
            },
            None,
        ));
    }

    let keys = ServerKeys::create(data)?;
    let mut rng = os_rng();
    let mut org = [0u8; 16];
    rng.fill_bytes(&mut org);
    let mut inbox = [0u8; 16];
    rng.fill_bytes(&mut inbox);
    let (org, inbox) = (OrgId(org), InboxId(inbox));
    let admin_email = String::from("admin@localhost");
    let admin_password = password::generate_one_time();
    let hash = password::hash(&admin_password).map_err(BootstrapError::Password)?;
    let now = db::now();

    let mut tx = pool.begin().await?;
    sqlx::query("INSERT INTO organisation (id, name, mode, root_key, created_at) VALUES (?, ?, 'managed', ?, ?)")
        .bind(org.0.as_slice())
        .bind("My organisation")
        .bind(keys.root.public().to_bytes().as_slice())
        .bind(now)
        .execute(&mut *tx)
        .await?;
    sqlx::query("INSERT INTO inbox (id, org_id, name, created_at) VALUES (?, ?, 'Support', ?)")
        .bind(inbox.0.as_slice())
        .bind(org.0.as_slice())
        .bind(now)
        .execute(&mut *tx)
        .await?;
    let (admin_id,): (i64,) = sqlx::query_as(
        "INSERT INTO user (email, display_name, role, password_hash, must_change_password, created_at) \
         VALUES (?, 'Administrator', 'admin', ?, 1, ?) RETURNING id",
    )
    .bind(&admin_email)
    .bind(&hash)
    .bind(now)
    .fetch_one(&mut *tx)
    .await?;
    sqlx::query("INSERT INTO user_inbox (user_id, inbox_id) VALUES (?, ?)")
        .bind(admin_id)
        .bind(inbox.0.as_slice())
        .execute(&mut *tx)
        .await?;
    sqlx::query("INSERT INTO device (device_id, identity, user_id, kind, label, created_at) VALUES (?, ?, NULL, 'server', 'managed-mode server device', ?)")
        .bind(keys.device.device_id().0.as_slice())
        .bind(keys.device.public().encode().as_slice())
        .bind(now)
        .execute(&mut *tx)
        .await?;
    tx.commit().await?;
    managed::publish(pool, &keys, org, inbox, false).await?;
    Ok((
        Organisation {
            id: org,
            default_inbox: inbox,
            keys,
        },
        Some(FirstStart {
            admin_email,
            admin_password,
        }),
    ))
}
