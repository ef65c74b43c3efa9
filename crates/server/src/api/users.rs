//! `/api/v1` — users (being written; no routes yet).

use crate::app::AppState;
use axum::Router;
use utoipa::OpenApi;

#[derive(OpenApi)]
#[openapi()]
struct Doc;

/// This area's routes.
pub fn routes() -> Router<AppState> {
    Router::new()
}

/// This area's OpenAPI paths and schemas.
pub fn document() -> utoipa::openapi::OpenApi {
    Doc::openapi()
}
