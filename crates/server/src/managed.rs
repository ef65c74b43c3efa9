//! Managed mode: the server signs inbox membership with the organisation
//! root key and issues key generations with its own rotating device
//! (docs/protocol.md §5, §6; docs/threat-model.md "managed mode").
//!
//! [`publish`] rebuilds an inbox's membership from the database (the
//! non-revoked consoles of its users by role, scanners as Scanner, the server device),
//! signs it as the next statement of the chain and, when the member set
//! changed or the head generation is a week old, issues a new generation
//! sealed to the agent and supervisor devices. The generation private key
//! is dropped (zeroized) as soon as it is sealed: the server never stores it.

use crate::db;
use crate::keys::{ServerKeys, os_rng};
use confide_protocol::generation::{GenerationBody, SignedGeneration};
use confide_protocol::membership::{Member, MembershipBody, Role, RoleSet, SignedMembership};
use confide_protocol::state::{Chain, InboxState, TrustAnchor};
use confide_protocol::{InboxId, OrgId, PublicIdentity, Seq, StatementHash, Timestamp};
use sqlx::SqlitePool;

/// How long a managed membership statement stays valid before renewal.
pub const MEMBERSHIP_VALIDITY_SECS: u64 = 30 * 24 * 60 * 60;

/// What went wrong while publishing.
#[derive(Debug, thiserror::Error)]
pub enum PublishError {
    /// The database failed.
    #[error("database: {0}")]
    Db(#[from] sqlx::Error),
    /// Building or verifying a statement failed.
    #[error("statement: {0}")]
    Protocol(#[from] confide_protocol::Error),
    /// Stored data is not what the server wrote.
    #[error("corrupt stored data: {0}")]
    Corrupt(&'static str),
}

fn role_of(user_role: &str) -> Option<Role> {
    match user_role {
        "agent" => Some(Role::Agent),
        "supervisor" => Some(Role::Supervisor),
        "admin" => Some(Role::Admin),
        _ => None,
    }
}

/// Loads an inbox's stored chain.
pub async fn load_chain(pool: &SqlitePool, inbox: InboxId) -> Result<Chain, PublishError> {
    let mut chain = Chain::default();
    let rows: Vec<(Vec<u8>,)> =
        sqlx::query_as("SELECT bytes FROM membership_statement WHERE inbox_id = ? ORDER BY seq")
            .bind(inbox.0.as_slice())
            .fetch_all(pool)
            .await?;
    for (b,) in rows {
        chain.memberships.push(SignedMembership::decode(&b)?);
    }
    let rows: Vec<(Vec<u8>,)> = sqlx::query_as(
        "SELECT bytes FROM generation_statement WHERE inbox_id = ? ORDER BY generation",
    )
    .bind(inbox.0.as_slice())
    .fetch_all(pool)
    .await?;
    for (b,) in rows {
        chain.generations.push(SignedGeneration::decode(&b)?);
    }
    Ok(chain)
}

static PUBLISHING: tokio::sync::Mutex<()> = tokio::sync::Mutex::const_new(());

/// Bumped after every commit that may have added statements, so caches of
/// verified statements (`delivery::statements`) know to reload.
static PUBLISHED: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(0);

/// How many times statements may have changed since start (see
/// [`PUBLISHED`]); a cache built at one value is current while it holds.
pub fn publications() -> u64 {
    PUBLISHED.load(std::sync::atomic::Ordering::Acquire)
}

/// Re-derives the membership of `inbox` from the database and publishes a
/// new statement (and generation) when it differs from the head, or when
/// `force_rotation` is set or the head generation is older than a week.
pub async fn publish(
    pool: &SqlitePool,
    keys: &ServerKeys,
    org: OrgId,
    inbox: InboxId,
    force_rotation: bool,
) -> Result<(), PublishError> {
    // One publisher at a time: two would both derive the next seq from the
    // same head, and the second insert would fail.
    let _one_at_a_time = PUBLISHING.lock().await;
    let now = Timestamp(u64::try_from(db::now()).unwrap_or(0));
    let anchor = TrustAnchor {
        org,
        inbox,
        root: keys.root.public(),
    };
    let mut chain = load_chain(pool, inbox).await?;
    let mut state = InboxState::new(anchor);
    if !chain.memberships.is_empty() {
        // Verify what we stored; a renewal also happens here when expired.
        let verify_at = Timestamp(0);
        state.sync(&chain, verify_at)?;
    }

    // Consoles join with their user's role, scanners with role Scanner.
    let rows: Vec<(Vec<u8>, String, String, String)> = sqlx::query_as(
        "SELECT d.identity, u.role, u.display_name, d.kind FROM device d \
         JOIN user u ON u.id = d.user_id \
         JOIN user_inbox ui ON ui.user_id = u.id AND ui.inbox_id = ? \
         WHERE d.revoked_at IS NULL AND u.disabled = 0 AND d.kind IN ('console', 'scanner')",
    )
    .bind(inbox.0.as_slice())
    .fetch_all(pool)
    .await?;
    let mut members = vec![Member {
        identity: keys.device.public(),
        role: Role::Admin,
        alias: "Confide".into(),
    }];
    for (identity, role, _name, kind) in rows {
        let identity = PublicIdentity::decode(&identity)
            .map_err(|_| PublishError::Corrupt("device identity"))?;
        let role = if kind == "scanner" {
            Some(Role::Scanner)
        } else {
            role_of(&role)
        };
        if let Some(role) = role {
            members.push(Member {
                identity,
                role,
                alias: alias_for(role),
            });
        }
    }
    let head = state.head_membership();
    let mut body = MembershipBody {
        org,
        inbox,
        seq: Seq(head.map_or(0, |m| m.body().seq.0 + 1)),
        prev: head.map_or(StatementHash::GENESIS, |m| m.hash()),
        root_epoch: 0,
        issued_at: now,
        not_after: Timestamp(now.0 + MEMBERSHIP_VALIDITY_SECS),
        min_protocol_version: 1,
        send_roles: RoleSet::of(&[Role::Agent, Role::Supervisor]),
        rotate_roles: RoleSet::of(&[Role::Admin]),
        members,
        required_recipients: head.map_or_else(Vec::new, |m| m.body().required_recipients.clone()),
        token_keys: crate::api::identity::token_keys(pool, org).await?,
        policy: head.map_or_else(Vec::new, |m| m.body().policy.clone()),
        name_book: Vec::new(),
    };
    body.canonicalize();
    let same_members = head.is_some_and(|m| {
        m.body().members == body.members
            && m.body().token_keys == body.token_keys
            && m.body().not_after.0 > now.0 + MEMBERSHIP_VALIDITY_SECS / 2
    });
    let mut tx = pool.begin().await?;
    if !same_members {
        let signed = body.sign(&keys.root)?;
        sqlx::query(
            "INSERT INTO membership_statement (inbox_id, seq, hash, bytes, created_at) VALUES (?, ?, ?, ?, ?)",
        )
        .bind(inbox.0.as_slice())
        .bind(i64::try_from(body.seq.0).map_err(|_| PublishError::Corrupt("seq"))?)
        .bind(signed.hash().0.as_slice())
        .bind(signed.encode())
        .bind(db::now())
        .execute(&mut *tx)
        .await?;
        chain.memberships.push(signed);
        state = InboxState::new(anchor);
        state.sync(&chain, now)?;
    }
    let rotate = force_rotation || state.rotation_needed(now).is_some();
    if rotate && has_readers(&state) {
        let Some(membership) = state.head_membership() else {
            return Err(PublishError::Corrupt("no membership"));
        };
        let previous = state
            .head_generation()
            .map(|g| (g.body().generation, g.hash()));
        let (generation, secret) =
            GenerationBody::issue(membership, previous, &keys.device, now, &mut os_rng())?;
        drop(secret); // zeroized: the server never keeps a generation key
        let b = generation.body();
        sqlx::query(
            "INSERT INTO generation_statement (inbox_id, generation, hash, membership_seq, bytes, created_at) VALUES (?, ?, ?, ?, ?, ?)",
        )
        .bind(inbox.0.as_slice())
        .bind(i64::try_from(b.generation.0).map_err(|_| PublishError::Corrupt("generation"))?)
        .bind(generation.hash().0.as_slice())
        .bind(i64::try_from(b.membership_seq.0).map_err(|_| PublishError::Corrupt("seq"))?)
        .bind(generation.encode())
        .bind(db::now())
        .execute(&mut *tx)
        .await?;
    }
    tx.commit().await?;
    PUBLISHED.fetch_add(1, std::sync::atomic::Ordering::AcqRel);
    Ok(())
}

fn has_readers(state: &InboxState) -> bool {
    state
        .head_membership()
        .is_some_and(|m| m.body().inbox_readers().next().is_some())
}

/// What visitors see for a member: a role alias, never the person's name.
fn alias_for(role: Role) -> String {
    match role {
        Role::Agent => "Support agent".into(),
        Role::Supervisor => "Support supervisor".into(),
        Role::Admin => "Administrator".into(),
        Role::Scanner => "Scanner".into(),
    }
}
