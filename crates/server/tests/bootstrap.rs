//! The server starts from nothing, creates its organisation once, and
//! restarts onto the same organisation and keys.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::indexing_slicing)]

use axum::body::Body;
use axum::http::{Request, StatusCode};
use confide_protocol::state::{InboxState, TrustAnchor};
use confide_protocol::{RootPublicKey, Timestamp};
use confide_server::config::Config;
use confide_server::{app, managed, password};
use tower::ServiceExt;

async fn get_json(router: axum::Router, uri: &str) -> (StatusCode, serde_json::Value) {
    let res = router
        .oneshot(Request::get(uri).body(Body::empty()).unwrap())
        .await
        .unwrap();
    let status = res.status();
    let bytes = axum::body::to_bytes(res.into_body(), 1 << 20)
        .await
        .unwrap();
    (
        status,
        serde_json::from_slice(&bytes).unwrap_or(serde_json::Value::Null),
    )
}

#[tokio::test]
async fn first_start_creates_org_admin_and_verifiable_membership() {
    let dir = tempfile::tempdir().unwrap();
    let config = Config {
        data: dir.path().to_path_buf(),
        ..Config::default()
    };
    let (state, first) = confide_server::prepare(config.clone()).await.unwrap();
    let first = first.expect("first start reports the admin password");
    assert_eq!(first.admin_email, "admin@localhost");

    let (hash,): (String,) = sqlx::query_as("SELECT password_hash FROM user WHERE email = ?")
        .bind(&first.admin_email)
        .fetch_one(&state.0.pool)
        .await
        .unwrap();
    assert!(password::verify(&first.admin_password, &hash));
    assert!(!hash.contains(&first.admin_password));

    let router = app::router(state.clone());
    let (status, health) = get_json(router.clone(), "/healthz").await;
    assert_eq!(
        (status, health["status"].as_str()),
        (StatusCode::OK, Some("ok"))
    );
    let (status, org) = get_json(router.clone(), "/api/v1/organisation").await;
    assert_eq!(status, StatusCode::OK);
    let (status, missing) = get_json(router.clone(), "/api/v1/nope").await;
    assert_eq!(
        (status, missing["code"].as_str()),
        (StatusCode::NOT_FOUND, Some("not_found"))
    );
    let (status, doc) = get_json(router, "/api/v1/openapi.json").await;
    assert_eq!(status, StatusCode::OK);
    assert!(doc["paths"]["/healthz"].is_object());

    // A client pinning the advertised root key verifies the stored chain.
    let root_hex = org["root_key"].as_str().unwrap();
    let root =
        RootPublicKey::from_bytes(&hex::decode(root_hex).unwrap().try_into().unwrap()).unwrap();
    let chain = managed::load_chain(&state.0.pool, state.0.org.default_inbox)
        .await
        .unwrap();
    let mut view = InboxState::new(TrustAnchor {
        org: state.0.org.id,
        inbox: state.0.org.default_inbox,
        root,
    });
    view.sync(
        &chain,
        Timestamp(u64::try_from(confide_server::db::now()).unwrap()),
    )
    .unwrap();
    let head = view.head_membership().unwrap();
    assert_eq!(
        head.body().members.len(),
        1,
        "only the server device until agents register"
    );
    drop(state);

    // Restart: same organisation, no new admin password, keys load.
    let (again, first_again) = confide_server::prepare(config).await.unwrap();
    assert!(first_again.is_none());
    assert_eq!(again.0.org.id.to_hex(), org["org_id"].as_str().unwrap());
    assert_eq!(
        hex::encode(again.0.org.keys.root.public().to_bytes()),
        root_hex
    );
}
