//! Login throttling per account and per client address.
//!
//! Every password check (login, password change) is an attempt recorded in
//! `login_attempt`. An attempt is admitted only while the account (the
//! e-mail as typed, lower-cased, whether or not it exists — so throttling
//! reveals nothing about which accounts exist) has fewer than
//! [`FAILURES_PER_ACCOUNT`] failures and the address fewer than
//! [`FAILURES_PER_ADDRESS`] failures in the last [`WINDOW_SECS`]. The check
//! and the insert are one statement, so concurrent guesses cannot slip past
//! the limit; the attempt counts as a failure until [`succeeded`] marks it.
//! Refused attempts are not recorded, so a lock-out ends one window after
//! the failure that caused it; a success clears nothing (older failures
//! simply age out of the window).
//!
//! Non-goals: trusting `X-Forwarded-For` (spoofable; behind a reverse proxy
//! every client shares the proxy's address); purging old attempts (they
//! feed anomaly monitoring).

use sqlx::SqlitePool;

/// The sliding window failures are counted in, in seconds.
pub const WINDOW_SECS: i64 = 15 * 60;
/// Failures of one account within the window before it is throttled.
pub const FAILURES_PER_ACCOUNT: i64 = 5;
/// Failures from one address within the window before it is throttled.
pub const FAILURES_PER_ADDRESS: i64 = 20;

/// An admitted attempt, counted as a failure until [`succeeded`].
#[derive(Debug)]
#[must_use = "mark the attempt with `succeeded` when the password matched"]
pub struct Attempt(i64);

/// A refused attempt: the caller must wait this many seconds.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Throttled {
    /// Seconds until the next attempt can be admitted (≥ 1).
    pub retry_after: i64,
}

/// Records an attempt for `account` from `address` at `now` unless either
/// is throttled.
pub async fn admit(
    pool: &SqlitePool,
    account: &str,
    address: &str,
    now: i64,
) -> Result<Result<Attempt, Throttled>, sqlx::Error> {
    let since = now - WINDOW_SECS;
    let row: Option<(i64,)> = sqlx::query_as(
        "INSERT INTO login_attempt (email, address, at, success) SELECT ?, ?, ?, 0 \
         WHERE (SELECT count(*) FROM login_attempt WHERE email = ? AND success = 0 AND at > ?) < ? \
         AND (SELECT count(*) FROM login_attempt WHERE address = ? AND success = 0 AND at > ?) < ? \
         RETURNING id",
    )
    .bind(account)
    .bind(address)
    .bind(now)
    .bind(account)
    .bind(since)
    .bind(FAILURES_PER_ACCOUNT)
    .bind(address)
    .bind(since)
    .bind(FAILURES_PER_ADDRESS)
    .fetch_optional(pool)
    .await?;
    if let Some((id,)) = row {
        return Ok(Ok(Attempt(id)));
    }
    // The limit-th newest failure must leave the window before the count
    // drops below the limit; wait for the later of the two keys.
    let account_free = free_at(pool, Key::Account, account, since).await?;
    let address_free = free_at(pool, Key::Address, address, since).await?;
    let free = account_free.max(address_free).unwrap_or(now + 1);
    Ok(Err(Throttled {
        retry_after: (free - now).max(1),
    }))
}

/// Marks an admitted attempt as successful (it no longer counts).
pub async fn succeeded(pool: &SqlitePool, attempt: Attempt) -> Result<(), sqlx::Error> {
    sqlx::query("UPDATE login_attempt SET success = 1 WHERE id = ?")
        .bind(attempt.0)
        .execute(pool)
        .await?;
    Ok(())
}

/// What failures are counted by.
#[derive(Clone, Copy)]
enum Key {
    Account,
    Address,
}

/// When `value` will have fewer failures in the window than its limit
/// (`None` if it already has).
async fn free_at(
    pool: &SqlitePool,
    key: Key,
    value: &str,
    since: i64,
) -> Result<Option<i64>, sqlx::Error> {
    let (sql, limit) = match key {
        Key::Account => (
            "SELECT at FROM login_attempt WHERE email = ? AND success = 0 AND at > ? \
             ORDER BY at DESC LIMIT 1 OFFSET ?",
            FAILURES_PER_ACCOUNT,
        ),
        Key::Address => (
            "SELECT at FROM login_attempt WHERE address = ? AND success = 0 AND at > ? \
             ORDER BY at DESC LIMIT 1 OFFSET ?",
            FAILURES_PER_ADDRESS,
        ),
    };
    let row: Option<(i64,)> = sqlx::query_as(sql)
        .bind(value)
        .bind(since)
        .bind(limit - 1)
        .fetch_optional(pool)
        .await?;
    Ok(row.map(|(at,)| at + WINDOW_SECS))
}
