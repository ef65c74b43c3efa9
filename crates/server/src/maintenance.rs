//! Periodic upkeep while the server runs: keeping every inbox's statements
//! fresh and forgetting what has expired.
//!
//! Every [`INTERVAL`] (and once at start) it
//! - re-publishes each inbox (`managed::publish`): a membership statement
//!   is renewed before it expires, and a new key generation is issued once
//!   the head generation is a week old (docs/protocol.md §6.5), so
//!   generations rotate weekly even when nobody joins or leaves;
//! - deletes expired sessions, login attempts older than the throttling
//!   window and identity-token ids past their expiry.
//!
//! A failure is logged and retried at the next tick; it never stops the
//! server. Non-goals: backups, vacuuming (operators' tools do that).

use crate::app::AppState;
use crate::db;
use confide_protocol::InboxId;
use std::time::Duration;

/// How often upkeep runs.
pub const INTERVAL: Duration = Duration::from_secs(15 * 60);
/// Login attempts are kept this long (longer than any throttling window).
pub const LOGIN_ATTEMPT_RETENTION_SECS: i64 = 24 * 60 * 60;

/// Runs upkeep every [`INTERVAL`] until the task is dropped or aborted.
pub async fn run(state: AppState) {
    let mut tick = tokio::time::interval(INTERVAL);
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        tick.tick().await;
        if let Err(e) = once(&state).await {
            tracing::warn!(error = %e, "maintenance failed; retrying at the next tick");
        }
    }
}

/// One round of upkeep; returns the first error after trying every step.
pub async fn once(state: &AppState) -> Result<(), String> {
    let mut first_error: Option<String> = None;
    let mut note = |e: String| {
        if first_error.is_none() {
            first_error = Some(e);
        }
    };
    let org = &state.0.org;
    let pool = &state.0.pool;
    match sqlx::query_as::<_, (Vec<u8>,)>("SELECT id FROM inbox WHERE org_id = ?")
        .bind(org.id.0.as_slice())
        .fetch_all(pool)
        .await
    {
        Ok(inboxes) => {
            for (id,) in inboxes {
                let Ok(id) = <[u8; 16]>::try_from(id) else {
                    note("stored inbox id has the wrong length".into());
                    continue;
                };
                if let Err(e) =
                    crate::managed::publish(pool, &org.keys, org.id, InboxId(id), false).await
                {
                    note(format!("publishing inbox {}: {e}", InboxId(id).to_hex()));
                }
            }
        }
        Err(e) => note(format!("listing inboxes: {e}")),
    }
    let now = db::now();
    let sweeps: [(&str, i64); 3] = [
        ("DELETE FROM session WHERE expires_at <= ?", now),
        (
            "DELETE FROM login_attempt WHERE at < ?",
            now - LOGIN_ATTEMPT_RETENTION_SECS,
        ),
        ("DELETE FROM used_token WHERE expires_at < ?", now),
    ];
    for (sql, bound) in sweeps {
        if let Err(e) = sqlx::query(sql).bind(bound).execute(pool).await {
            note(format!("sweeping: {e}"));
        }
    }
    first_error.map_or(Ok(()), Err)
}
