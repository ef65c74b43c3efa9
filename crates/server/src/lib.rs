//! Confide's relay server.
//!
//! It authenticates people, authorises requests, orders and stores
//! envelopes and fans them out — and cannot read them: it never holds a
//! content key or a generation private key, and no table or log holds
//! message plaintext (docs/threat-model.md). It is the only crate that
//! speaks HTTP or SQL; Rust code reaches it through `confide-client`.
//!
//! Status (issue 3, in progress): configuration, the SQLite store, managed-
//! mode bootstrap (organisation, root key, server device, default inbox,
//! administrator), membership/generation publishing, `/healthz`,
//! `/api/v1/organisation` and the OpenAPI document. Accounts, devices,
//! visitors, conversations and delivery come next.
#![forbid(unsafe_code)]
#![warn(missing_docs)]

pub mod access;
pub mod api;
pub mod app;
pub mod auth;
pub mod bootstrap;
pub mod cache;
pub mod config;
pub mod db;
pub mod delivery;
pub mod error;
pub mod extract;
pub mod keys;
pub mod maintenance;
pub mod managed;
pub mod password;
pub mod throttle;
pub mod web;

use app::{App, AppState};
use config::Config;
use std::sync::Arc;

/// A start-up or serving failure, for the CLI to print.
#[derive(Debug, thiserror::Error)]
pub enum ServeError {
    /// The data directory.
    #[error("data directory {path}: {source}")]
    DataDir {
        /// The directory.
        path: std::path::PathBuf,
        /// Why.
        source: std::io::Error,
    },
    /// The database.
    #[error("database: {0}")]
    Db(#[from] sqlx::Error),
    /// The organisation bootstrap.
    #[error("{0}")]
    Bootstrap(#[from] bootstrap::BootstrapError),
    /// Binding or serving.
    #[error("listening on {addr}: {source}")]
    Listen {
        /// The address.
        addr: std::net::SocketAddr,
        /// Why.
        source: std::io::Error,
    },
}

/// Opens the data directory and database, bootstraps the organisation and
/// returns the application state and, on the first start, what to tell the
/// operator once.
pub async fn prepare(
    config: Config,
) -> Result<(AppState, Option<bootstrap::FirstStart>), ServeError> {
    std::fs::create_dir_all(&config.data).map_err(|source| ServeError::DataDir {
        path: config.data.clone(),
        source,
    })?;
    let pool = db::open(&config.data).await?;
    let (org, first) = bootstrap::load_or_create(&pool, &config.data).await?;
    let delivery = delivery::Delivery::start(pool.clone(), &config.limits);
    tokio::spawn(db::checkpoints(pool.clone()));
    Ok((
        AppState(Arc::new(App {
            pool,
            config,
            org,
            delivery,
            cache: cache::AccessCache::default(),
        })),
        first,
    ))
}

/// Serves until `shutdown` completes, then closes the database cleanly
/// (every acknowledged write was committed with `synchronous = FULL`).
pub async fn serve(
    state: AppState,
    shutdown: impl std::future::Future<Output = ()> + Send + 'static,
) -> Result<(), ServeError> {
    let addr = state.0.config.listen;
    let listener = tokio::net::TcpListener::bind(addr)
        .await
        .map_err(|source| ServeError::Listen { addr, source })?;
    serve_on(listener, state, shutdown).await
}

/// [`serve`] on a listener the caller bound (e.g. `127.0.0.1:0` in tests,
/// which then know the port from `listener.local_addr()`).
pub async fn serve_on(
    listener: tokio::net::TcpListener,
    state: AppState,
    shutdown: impl std::future::Future<Output = ()> + Send + 'static,
) -> Result<(), ServeError> {
    let addr = listener.local_addr().map_err(|source| ServeError::Listen {
        addr: state.0.config.listen,
        source,
    })?;
    let pool = state.0.pool.clone();
    let upkeep = tokio::spawn(maintenance::run(state.clone()));
    // Connection info gives handlers the client address (rate limits).
    let service = app::router(state).into_make_service_with_connect_info::<std::net::SocketAddr>();
    let served = axum::serve(listener, service)
        .with_graceful_shutdown(shutdown)
        .await;
    upkeep.abort();
    served.map_err(|source| ServeError::Listen { addr, source })?;
    pool.close().await;
    Ok(())
}
