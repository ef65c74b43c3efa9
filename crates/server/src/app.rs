//! The router: every route, its middleware, and the OpenAPI document.
//!
//! Tests drive [`router`] directly (no socket); `serve` binds it.

use crate::bootstrap::Organisation;
use crate::config::Config;
use crate::error::{ApiError, ErrorBody};
use axum::extract::{DefaultBodyLimit, State};
use axum::http::{HeaderValue, header};
use axum::routing::get;
use axum::{Json, Router};
use serde::Serialize;
use sqlx::SqlitePool;
use std::sync::Arc;
use tower_http::set_header::SetResponseHeaderLayer;
use utoipa::{OpenApi, ToSchema};

/// Shared state of every handler.
#[derive(Clone, Debug)]
pub struct AppState(pub Arc<App>);

/// What handlers share: the pool, the configuration, the organisation.
#[derive(Debug)]
pub struct App {
    /// The database.
    pub pool: SqlitePool,
    /// The configuration.
    pub config: Config,
    /// The organisation and its managed-mode keys.
    pub org: Organisation,
    /// Envelope writer (group commit), fan-out and statement cache.
    pub delivery: crate::delivery::Delivery,
    /// Short-lived authorisation cache (sessions, visitors, conversations).
    pub cache: crate::cache::AccessCache,
}

/// The OpenAPI description of `/api/v1`.
#[derive(OpenApi)]
#[openapi(
    info(
        title = "Confide API",
        version = "1",
        description = "Relay and storage of end-to-end encrypted conversations. Errors are `{\"code\", \"message\"}` JSON."
    ),
    paths(healthz, organisation),
    components(schemas(ErrorBody, Health, OrganisationInfo))
)]
pub struct ApiDoc;

/// `GET /healthz` body.
#[derive(Serialize, ToSchema)]
pub struct Health {
    /// Always `ok` when the server answers and its database is reachable.
    pub status: &'static str,
}

/// Liveness and database reachability.
#[utoipa::path(get, path = "/healthz", responses((status = 200, body = Health), (status = 500, body = ErrorBody)))]
async fn healthz(State(state): State<AppState>) -> Result<Json<Health>, ApiError> {
    sqlx::query("SELECT 1").execute(&state.0.pool).await?;
    Ok(Json(Health { status: "ok" }))
}

/// What a client pins: organisation, default inbox, root key and its fingerprint.
#[derive(Serialize, ToSchema)]
pub struct OrganisationInfo {
    /// Organisation id (hex).
    pub org_id: String,
    /// Default inbox id (hex).
    pub default_inbox: String,
    /// Root public key (hex).
    pub root_key: String,
    /// Root-key fingerprint as printed in the embed snippet (hex).
    pub root_fingerprint: String,
    /// `managed` (server holds the root key) or `strict`.
    pub mode: &'static str,
}

/// The organisation's public trust information.
#[utoipa::path(get, path = "/api/v1/organisation", responses((status = 200, body = OrganisationInfo)))]
async fn organisation(State(state): State<AppState>) -> Json<OrganisationInfo> {
    let org = &state.0.org;
    let root = org.keys.root.public();
    Json(OrganisationInfo {
        org_id: org.id.to_hex(),
        default_inbox: org.default_inbox.to_hex(),
        root_key: hex::encode(root.to_bytes()),
        root_fingerprint: hex::encode(root.fingerprint()),
        mode: "managed",
    })
}

/// The whole OpenAPI document: this module's paths merged with each API area's.
pub fn openapi_document() -> utoipa::openapi::OpenApi {
    let mut doc = ApiDoc::openapi();
    for part in crate::api::documents() {
        doc.merge(part);
    }
    doc
}

async fn openapi() -> Json<utoipa::openapi::OpenApi> {
    Json(openapi_document())
}

/// Builds the router with its security headers and body limit.
pub fn router(state: AppState) -> Router {
    let limit = state.0.config.max_body_bytes;
    Router::new()
        .route("/healthz", get(healthz))
        .route("/api/v1/openapi.json", get(openapi))
        .route("/api/v1/organisation", get(organisation))
        .merge(crate::api::routes())
        .merge(crate::web::routes(&state.0.config.web))
        .fallback(|| async { ApiError::not_found("route") })
        .with_state(state)
        .layer(DefaultBodyLimit::max(limit))
        .layer(SetResponseHeaderLayer::overriding(
            header::X_CONTENT_TYPE_OPTIONS,
            HeaderValue::from_static("nosniff"),
        ))
        .layer(SetResponseHeaderLayer::overriding(
            header::REFERRER_POLICY,
            HeaderValue::from_static("no-referrer"),
        ))
        .layer(SetResponseHeaderLayer::overriding(
            header::CACHE_CONTROL,
            HeaderValue::from_static("no-store"),
        ))
}
