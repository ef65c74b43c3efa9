//! Identity-token settings and the server-verified badge (docs/protocol.md
//! §12.6): token keys reach the signed membership, HMAC secrets are shown
//! once and sealed at rest, and a visitor's scheme-2 token is checked,
//! recorded once and refused when re-used, forged, or for another device.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::indexing_slicing,
    clippy::panic
)]

mod delivery_support;

use axum::body::Body;
use axum::http::{Request, StatusCode};
use confide_protocol::token::{self, IdentityClaims, TokenSigningKey};
use confide_protocol::{DeviceId, InboxId, Timestamp};
use confide_server::keys::os_rng;
use delivery_support::{Env, Visitor, now};
use serde_json::{Value, json};

fn request(method: &str, uri: &str, auth: &str, body: Option<Value>) -> Request<Body> {
    let b = Request::builder()
        .method(method)
        .uri(uri)
        .header("authorization", auth)
        .header("content-type", "application/json");
    b.body(body.map_or_else(Body::empty, |v| Body::from(v.to_string())))
        .unwrap()
}

fn claims(env: &Env, inbox: InboxId, key_id: &str, device: DeviceId) -> IdentityClaims {
    let mut token_id = [0u8; 16];
    rand_core::Rng::fill_bytes(&mut os_rng(), &mut token_id);
    IdentityClaims {
        key_id: key_id.into(),
        org: env.state.0.org.id,
        inbox,
        subject: "customer-4711".into(),
        name: "Ada Lovelace".into(),
        email: "ada@example.com".into(),
        issued_at: now(),
        expires_at: Timestamp(now().0 + 300),
        token_id,
        visitor_device: device,
    }
}

async fn present(env: &Env, visitor: &Visitor, token_hex: &str) -> (StatusCode, Value) {
    env.call(request(
        "POST",
        "/api/v1/visitors/me/identity",
        &visitor.auth,
        Some(json!({ "token": token_hex })),
    ))
    .await
}

#[tokio::test]
async fn token_keys_are_published_in_every_membership() {
    let env = Env::new().await;
    let admin = env.agent("admin@x", "admin", &[env.inbox()]).await;
    let agent = env.agent("agent@x", "agent", &[env.inbox()]).await;
    let backend = TokenSigningKey::generate(&mut os_rng());
    let uri = "/api/v1/settings/identity/token-keys/backend-1";
    let body = json!({ "public_key": hex::encode(backend.public().to_bytes()) });

    let (status, reply) = env
        .call(request("PUT", uri, &agent.auth, Some(body.clone())))
        .await;
    assert_eq!(status, StatusCode::FORBIDDEN, "{reply}");

    let (status, reply) = env
        .call(request(
            "PUT",
            uri,
            &admin.auth,
            Some(json!({ "public_key": "00" })),
        ))
        .await;
    assert_eq!(
        (status, reply["code"].as_str()),
        (StatusCode::BAD_REQUEST, Some("invalid_public_key"))
    );

    let (status, reply) = env
        .call(request(
            "PUT",
            "/api/v1/settings/identity/token-keys/has%20space",
            &admin.auth,
            Some(body.clone()),
        ))
        .await;
    assert_eq!(
        (status, reply["code"].as_str()),
        (StatusCode::BAD_REQUEST, Some("invalid_key_id"))
    );

    let (status, reply) = env.call(request("PUT", uri, &admin.auth, Some(body))).await;
    assert_eq!(status, StatusCode::OK, "{reply}");
    assert_eq!(reply["token_keys"][0]["key_id"], "backend-1");

    // What agents verify from the pinned root key now names the key, so a
    // scheme-1 token signed by the backend verifies on an agent device.
    let state = env.client_state(env.inbox()).await;
    let keys = &state.head_membership().unwrap().body().token_keys;
    assert_eq!(keys.len(), 1);
    assert_eq!(keys[0].key_id, "backend-1");
    let visitor = env.visitor().await;
    let device = DeviceId(visitor.key.device_id().0);
    let signed =
        token::issue_signed(claims(&env, env.inbox(), "backend-1", device), &backend).unwrap();
    let verified = token::verify_signed(
        &signed,
        keys,
        env.state.0.org.id,
        env.inbox(),
        device,
        now(),
    )
    .unwrap();
    assert_eq!(verified.claims().subject, "customer-4711");

    let (status, _) = env.call(request("DELETE", uri, &admin.auth, None)).await;
    assert_eq!(status, StatusCode::OK);
    let state = env.client_state(env.inbox()).await;
    assert!(
        state
            .head_membership()
            .unwrap()
            .body()
            .token_keys
            .is_empty()
    );
    let (status, reply) = env.call(request("DELETE", uri, &admin.auth, None)).await;
    assert_eq!(
        (status, reply["code"].as_str()),
        (StatusCode::NOT_FOUND, Some("not_found"))
    );
}

#[tokio::test]
async fn hmac_tokens_give_a_server_verified_badge_once() {
    let env = Env::new().await;
    let admin = env.agent("admin@x", "admin", &[env.inbox()]).await;
    let (status, created) = env
        .call(request(
            "POST",
            "/api/v1/settings/identity/hmac-secrets",
            &admin.auth,
            Some(json!({ "key_id": "shop" })),
        ))
        .await;
    assert_eq!(status, StatusCode::CREATED, "{created}");
    let secret = hex::decode(created["secret"].as_str().unwrap()).unwrap();
    assert_eq!(secret.len(), 32);
    let (status, again) = env
        .call(request(
            "POST",
            "/api/v1/settings/identity/hmac-secrets",
            &admin.auth,
            Some(json!({ "key_id": "shop" })),
        ))
        .await;
    assert_eq!(
        (status, again["code"].as_str()),
        (StatusCode::CONFLICT, Some("key_exists"))
    );
    let (status, listed) = env
        .call(request(
            "GET",
            "/api/v1/settings/identity",
            &admin.auth,
            None,
        ))
        .await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(listed["hmac_key_ids"], json!(["shop"]));
    assert!(
        !listed
            .to_string()
            .contains(created["secret"].as_str().unwrap())
    );

    let supervisor = env.agent("lead@x", "supervisor", &[env.inbox()]).await;
    let visitor = env.visitor().await;
    let conv = env.start(&visitor, env.inbox()).await;
    let device = DeviceId(visitor.key.device_id().0);

    // Forged (another secret), another device's, an unknown key: refused.
    let forged = token::issue_hmac(claims(&env, env.inbox(), "shop", device), &[7u8; 32]).unwrap();
    let (status, reply) = present(&env, &visitor, &hex::encode(forged.encode())).await;
    assert_eq!(
        (status, reply["code"].as_str()),
        (StatusCode::UNPROCESSABLE_ENTITY, Some("bad_signature")),
        "{reply}"
    );
    let other = DeviceId([9u8; 32]);
    let theirs = token::issue_hmac(claims(&env, env.inbox(), "shop", other), &secret).unwrap();
    let (status, reply) = present(&env, &visitor, &hex::encode(theirs.encode())).await;
    assert_eq!(
        (status, reply["code"].as_str()),
        (StatusCode::UNPROCESSABLE_ENTITY, Some("token_wrong_device")),
        "{reply}"
    );
    let unknown = token::issue_hmac(claims(&env, env.inbox(), "nope", device), &secret).unwrap();
    let (status, reply) = present(&env, &visitor, &hex::encode(unknown.encode())).await;
    assert_eq!(
        (status, reply["code"].as_str()),
        (StatusCode::UNPROCESSABLE_ENTITY, Some("token_unknown_key")),
        "{reply}"
    );
    let (status, reply) = present(&env, &visitor, "%%%").await;
    assert_eq!(
        (status, reply["code"].as_str()),
        (StatusCode::BAD_REQUEST, Some("invalid_token")),
        "{reply}"
    );

    // Nothing verified yet.
    let uri = format!("/api/v1/conversations/{}", conv.id().to_hex());
    let (status, view) = env.call(request("GET", &uri, &supervisor.auth, None)).await;
    assert_eq!(status, StatusCode::OK, "{view}");
    assert_eq!(view["server_verified"], Value::Null);

    let good = token::issue_hmac(claims(&env, env.inbox(), "shop", device), &secret).unwrap();
    let good_hex = hex::encode(good.encode());
    let (status, reply) = present(&env, &visitor, &good_hex).await;
    assert_eq!(status, StatusCode::OK, "{reply}");
    assert_eq!(reply["strength"], "server_verified");
    let (_, view) = env.call(request("GET", &uri, &supervisor.auth, None)).await;
    assert_eq!(
        view["server_verified"]["subject"], "customer-4711",
        "{view}"
    );
    assert_eq!(view["server_verified"]["strength"], "server_verified");

    // The same token again (even by the same device) is refused.
    let (status, reply) = present(&env, &visitor, &good_hex).await;
    assert_eq!(
        (status, reply["code"].as_str()),
        (StatusCode::CONFLICT, Some("token_reused")),
        "{reply}"
    );

    // The secret is not stored in the clear.
    let mut raw = Vec::new();
    for f in ["confide.sqlite3", "confide.sqlite3-wal"] {
        if let Ok(b) = std::fs::read(env.dir.path().join(f)) {
            raw.extend(b);
        }
    }
    assert!(!raw.windows(32).any(|w| w == secret.as_slice()));

    // Deleting the secret stops new verifications.
    let (status, _) = env
        .call(request(
            "DELETE",
            "/api/v1/settings/identity/hmac-secrets/shop",
            &admin.auth,
            None,
        ))
        .await;
    assert_eq!(status, StatusCode::NO_CONTENT);
    let fresh = token::issue_hmac(claims(&env, env.inbox(), "shop", device), &secret).unwrap();
    let (status, reply) = present(&env, &visitor, &hex::encode(fresh.encode())).await;
    assert_eq!(
        (status, reply["code"].as_str()),
        (StatusCode::UNPROCESSABLE_ENTITY, Some("token_unknown_key"))
    );
}

#[tokio::test]
async fn maintenance_sweeps_expired_rows_and_keeps_statements_current() {
    let env = Env::new().await;
    let _agent = env.agent("agent@x", "agent", &[env.inbox()]).await;
    let pool = &env.state.0.pool;
    sqlx::query("INSERT INTO session (token_hash, user_id, created_at, expires_at, last_seen) VALUES (?, 1, 0, 1, 0)")
        .bind([1u8; 32].as_slice())
        .execute(pool)
        .await
        .unwrap();
    sqlx::query("INSERT INTO used_token (token_id, expires_at) VALUES (?, 1)")
        .bind([2u8; 16].as_slice())
        .execute(pool)
        .await
        .unwrap();
    let before = env.client_state(env.inbox()).await;
    confide_server::maintenance::once(&env.state).await.unwrap();
    let (sessions,): (i64,) = sqlx::query_as("SELECT count(*) FROM session WHERE expires_at = 1")
        .fetch_one(pool)
        .await
        .unwrap();
    let (tokens,): (i64,) = sqlx::query_as("SELECT count(*) FROM used_token")
        .fetch_one(pool)
        .await
        .unwrap();
    assert_eq!((sessions, tokens), (0, 0));
    // Fresh statements are left alone: no needless new generation.
    let after = env.client_state(env.inbox()).await;
    assert_eq!(
        before.head_generation().unwrap().hash(),
        after.head_generation().unwrap().hash()
    );
    assert!(after.rotation_needed(now()).is_none());
}
