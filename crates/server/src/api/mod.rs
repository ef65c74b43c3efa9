//! The `/api/v1` resources, one module per area. Each area exposes
//! `routes()` (merged into the router by [`crate::app::router`]) and
//! `document()` (merged into the OpenAPI description).

use crate::app::AppState;
use axum::Router;

pub mod auth;
pub mod conversations;
pub mod devices;
pub mod envelopes;
pub mod identity;
pub mod inboxes;
pub mod users;
pub mod visitors;
pub mod ws;

/// Every area's routes.
pub fn routes() -> Router<AppState> {
    Router::new()
        .merge(auth::routes())
        .merge(users::routes())
        .merge(inboxes::routes())
        .merge(devices::routes())
        .merge(visitors::routes())
        .merge(conversations::routes())
        .merge(envelopes::routes())
        .merge(ws::routes())
        .merge(identity::routes())
}

/// Every area's OpenAPI paths and schemas.
pub fn documents() -> Vec<utoipa::openapi::OpenApi> {
    vec![
        auth::document(),
        users::document(),
        inboxes::document(),
        devices::document(),
        visitors::document(),
        conversations::document(),
        envelopes::document(),
        ws::document(),
        identity::document(),
    ]
}
