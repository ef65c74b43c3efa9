//! Devices, statement chains, visitors and conversation metadata through
//! the router: who may see and change what, and that device registration
//! and revocation reach the signed membership and key generations.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::indexing_slicing,
    clippy::panic
)]

use axum::Router;
use axum::body::Body;
use axum::extract::ConnectInfo;
use axum::http::{Request, StatusCode};
use confide_protocol::conversation::Conversation;
use confide_protocol::generation::SignedGeneration;
use confide_protocol::membership::{Role, SignedMembership};
use confide_protocol::state::{Chain, InboxState, TrustAnchor};
use confide_protocol::{DeviceSecretKey, Error, InboxId, RootPublicKey, Timestamp};
use confide_server::app::{self, AppState};
use confide_server::config::Config;
use confide_server::keys::os_rng;
use serde_json::{Value, json};
use std::net::SocketAddr;
use tower::ServiceExt;

struct Env {
    _dir: tempfile::TempDir,
    state: AppState,
    router: Router,
}

impl Env {
    async fn new() -> Self {
        let dir = tempfile::tempdir().unwrap();
        let config = Config {
            data: dir.path().to_path_buf(),
            ..Config::default()
        };
        let (state, _) = confide_server::prepare(config).await.unwrap();
        let router = app::router(state.clone());
        Self {
            _dir: dir,
            state,
            router,
        }
    }

    fn inbox(&self) -> InboxId {
        self.state.0.org.default_inbox
    }

    async fn call(
        &self,
        method: &str,
        uri: &str,
        auth: Option<&str>,
        body: Option<Value>,
        from: Option<[u8; 4]>,
    ) -> (StatusCode, Value) {
        let mut req = Request::builder().method(method).uri(uri);
        if let Some(auth) = auth {
            req = req.header("authorization", auth);
        }
        let body = match body {
            Some(v) => {
                req = req.header("content-type", "application/json");
                Body::from(v.to_string())
            }
            None => Body::empty(),
        };
        let mut req = req.body(body).unwrap();
        if let Some(ip) = from {
            req.extensions_mut()
                .insert(ConnectInfo(SocketAddr::from((ip, 40000))));
        }
        let res = self.router.clone().oneshot(req).await.unwrap();
        let status = res.status();
        let bytes = axum::body::to_bytes(res.into_body(), 1 << 22)
            .await
            .unwrap();
        (
            status,
            serde_json::from_slice(&bytes).unwrap_or(Value::Null),
        )
    }

    async fn get(&self, uri: &str, auth: &str) -> (StatusCode, Value) {
        self.call("GET", uri, Some(auth), None, None).await
    }

    async fn post(&self, uri: &str, auth: &str, body: Value) -> (StatusCode, Value) {
        self.call("POST", uri, Some(auth), Some(body), None).await
    }

    async fn add_inbox(&self, assigned_only: bool) -> InboxId {
        let mut raw = [0u8; 16];
        rand_core::Rng::fill_bytes(&mut os_rng(), &mut raw);
        let inbox = InboxId(raw);
        sqlx::query(
            "INSERT INTO inbox (id, org_id, name, assigned_only, created_at) VALUES (?, ?, 'Other', ?, 0)",
        )
        .bind(inbox.0.as_slice())
        .bind(self.state.0.org.id.0.as_slice())
        .bind(i64::from(assigned_only))
        .execute(&self.state.0.pool)
        .await
        .unwrap();
        inbox
    }

    /// A user with `role` in `inboxes` and a live session; returns (id, "Bearer …").
    async fn staff(&self, email: &str, role: &str, inboxes: &[InboxId]) -> (i64, String) {
        let pool = &self.state.0.pool;
        let (id,): (i64,) = sqlx::query_as(
            "INSERT INTO user (email, display_name, role, password_hash, created_at) VALUES (?, ?, ?, 'x', 0) RETURNING id",
        )
        .bind(email)
        .bind(email)
        .bind(role)
        .fetch_one(pool)
        .await
        .unwrap();
        for inbox in inboxes {
            sqlx::query("INSERT INTO user_inbox (user_id, inbox_id) VALUES (?, ?)")
                .bind(id)
                .bind(inbox.0.as_slice())
                .execute(pool)
                .await
                .unwrap();
        }
        let (token, hash) = confide_server::auth::new_token();
        let now = confide_server::db::now();
        sqlx::query(
            "INSERT INTO session (token_hash, user_id, created_at, expires_at, last_seen) VALUES (?, ?, ?, ?, ?)",
        )
        .bind(hash.as_slice())
        .bind(id)
        .bind(now)
        .bind(now + 3600)
        .bind(now)
        .execute(pool)
        .await
        .unwrap();
        (id, format!("Bearer {token}"))
    }

    /// A new visitor device and session; returns (key, id, "Visitor …").
    async fn visitor(&self) -> (DeviceSecretKey, i64, String) {
        let key = DeviceSecretKey::generate(&mut os_rng());
        let (status, body) = self
            .call(
                "POST",
                "/api/v1/visitors",
                None,
                Some(json!({ "identity": hex::encode(key.public().encode()) })),
                None,
            )
            .await;
        assert_eq!(status, StatusCode::CREATED, "{body}");
        let token = body["token"].as_str().unwrap();
        (
            key,
            body["visitor_id"].as_i64().unwrap(),
            format!("Visitor {token}"),
        )
    }

    /// The visitor starts a conversation in `inbox`; returns its id (hex).
    async fn start(&self, key: &DeviceSecretKey, auth: &str, inbox: InboxId) -> String {
        let c = Conversation::start(self.state.0.org.id, inbox, key.public(), &mut os_rng());
        let (status, body) = self
            .post(
                "/api/v1/conversations",
                auth,
                json!({
                    "inbox_id": inbox.to_hex(),
                    "conversation_id": c.id().to_hex(),
                    "descriptor": hex::encode(c.encode_descriptor()),
                }),
            )
            .await;
        assert_eq!(status, StatusCode::CREATED, "{body}");
        c.id().to_hex()
    }

    async fn register(&self, auth: &str, key: &DeviceSecretKey, kind: &str) -> (StatusCode, Value) {
        self.post(
            "/api/v1/devices",
            auth,
            json!({ "identity": hex::encode(key.public().encode()), "kind": kind, "label": "test device" }),
        )
        .await
    }

    /// Fetches `inbox`'s chain over the API and verifies it from the pinned root.
    async fn verified(&self, inbox: InboxId) -> InboxState {
        let (status, body) = self
            .call(
                "GET",
                &format!("/api/v1/inboxes/{}/chain", inbox.to_hex()),
                None,
                None,
                None,
            )
            .await;
        assert_eq!(status, StatusCode::OK, "{body}");
        let pinned = self.state.0.org.keys.root.public();
        assert_eq!(body["root_key"], hex::encode(pinned.to_bytes()));
        let root = RootPublicKey::from_bytes(
            &hex::decode(body["root_key"].as_str().unwrap())
                .unwrap()
                .try_into()
                .unwrap(),
        )
        .unwrap();
        let mut view = InboxState::new(TrustAnchor {
            org: self.state.0.org.id,
            inbox,
            root,
        });
        view.sync(&chain_of(&body), now()).unwrap();
        view
    }
}

fn now() -> Timestamp {
    Timestamp(u64::try_from(confide_server::db::now()).unwrap())
}

fn chain_of(body: &Value) -> Chain {
    let list = |k: &str| -> Vec<Vec<u8>> {
        body[k]
            .as_array()
            .unwrap()
            .iter()
            .map(|h| hex::decode(h.as_str().unwrap()).unwrap())
            .collect()
    };
    Chain {
        rotations: Vec::new(),
        memberships: list("memberships")
            .iter()
            .map(|b| SignedMembership::decode(b).unwrap())
            .collect(),
        generations: list("generations")
            .iter()
            .map(|b| SignedGeneration::decode(b).unwrap())
            .collect(),
    }
}

#[tokio::test]
async fn visitor_creates_conversation_bound_to_its_own_key() {
    let env = Env::new().await;
    let (key, visitor_id, auth) = env.visitor().await;
    let inbox = env.inbox();
    let c = Conversation::start(env.state.0.org.id, inbox, key.public(), &mut os_rng());
    let req = json!({
        "inbox_id": inbox.to_hex(),
        "conversation_id": c.id().to_hex(),
        "descriptor": hex::encode(c.encode_descriptor()),
    });
    let (status, body) = env.post("/api/v1/conversations", &auth, req.clone()).await;
    assert_eq!(status, StatusCode::CREATED, "{body}");
    assert_eq!(body["state"], "open");
    assert_eq!(body["visitor"]["id"], visitor_id);
    assert_eq!(body["visitor"]["device_id"], key.device_id().to_hex());
    assert_eq!(body["descriptor"], hex::encode(c.encode_descriptor()));

    // Re-creating is idempotent; the visitor reads its own conversation.
    let (status, again) = env.post("/api/v1/conversations", &auth, req).await;
    assert_eq!((status, &again["id"]), (StatusCode::OK, &body["id"]));
    let uri = format!("/api/v1/conversations/{}", c.id().to_hex());
    let (status, got) = env.get(&uri, &auth).await;
    assert_eq!((status, &got["id"]), (StatusCode::OK, &body["id"]));

    // Another visitor neither sees it nor can claim its id.
    let (other_key, _, other) = env.visitor().await;
    let (status, err) = env.get(&uri, &other).await;
    assert_eq!(
        (status, err["code"].as_str()),
        (StatusCode::NOT_FOUND, Some("not_found"))
    );

    // A descriptor committing to someone else's key is refused …
    let theirs = Conversation::start(env.state.0.org.id, inbox, key.public(), &mut os_rng());
    let (status, err) = env
        .post(
            "/api/v1/conversations",
            &other,
            json!({
                "inbox_id": inbox.to_hex(),
                "conversation_id": theirs.id().to_hex(),
                "descriptor": hex::encode(theirs.encode_descriptor()),
            }),
        )
        .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(err["code"], "conversation_id_mismatch");
    // … as is an id that does not match its descriptor …
    let mine = Conversation::start(env.state.0.org.id, inbox, other_key.public(), &mut os_rng());
    let (status, err) = env
        .post(
            "/api/v1/conversations",
            &other,
            json!({
                "inbox_id": inbox.to_hex(),
                "conversation_id": c.id().to_hex(),
                "descriptor": hex::encode(mine.encode_descriptor()),
            }),
        )
        .await;
    assert_eq!(
        (status, err["code"].as_str()),
        (
            StatusCode::UNPROCESSABLE_ENTITY,
            Some("conversation_id_mismatch")
        )
    );
    // … one naming another inbox than the request …
    let other_inbox = env.add_inbox(false).await;
    let (status, err) = env
        .post(
            "/api/v1/conversations",
            &other,
            json!({
                "inbox_id": other_inbox.to_hex(),
                "conversation_id": mine.id().to_hex(),
                "descriptor": hex::encode(mine.encode_descriptor()),
            }),
        )
        .await;
    assert_eq!(
        (status, err["code"].as_str()),
        (StatusCode::UNPROCESSABLE_ENTITY, Some("wrong_scope"))
    );
    // … an inbox that does not exist, and malformed input.
    let ghost = InboxId([7; 16]);
    let nowhere = Conversation::start(env.state.0.org.id, ghost, other_key.public(), &mut os_rng());
    let (status, _) = env
        .post(
            "/api/v1/conversations",
            &other,
            json!({
                "inbox_id": ghost.to_hex(),
                "conversation_id": nowhere.id().to_hex(),
                "descriptor": hex::encode(nowhere.encode_descriptor()),
            }),
        )
        .await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    let (status, err) = env
        .post("/api/v1/conversations", &other, json!({ "inbox_id": 1 }))
        .await;
    assert_eq!(
        (status, err["code"].as_str()),
        (StatusCode::UNPROCESSABLE_ENTITY, Some("invalid_body"))
    );
    let (status, _) = env
        .call("POST", "/api/v1/conversations", None, Some(json!({})), None)
        .await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
}

#[tokio::test]
async fn outsiders_get_404_and_never_learn_existence() {
    let env = Env::new().await;
    let inbox = env.inbox();
    let elsewhere = env.add_inbox(false).await;
    let (_, agent) = env.staff("a@x", "agent", &[inbox]).await;
    let (outsider_id, outsider) = env.staff("b@x", "agent", &[elsewhere]).await;
    let (_, officer) = env.staff("so@x", "security_officer", &[inbox]).await;
    let (_, admin) = env.staff("adm@x", "admin", &[inbox]).await;
    let (key, _, visitor) = env.visitor().await;
    let id = env.start(&key, &visitor, inbox).await;
    let uri = format!("/api/v1/conversations/{id}");

    let (status, seen) = env.get(&uri, &agent).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(
        seen["visitor"]["identity"],
        hex::encode(key.public().encode())
    );
    let (status, list) = env.get("/api/v1/conversations", &agent).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(list["conversations"][0]["id"], id.as_str());

    // The outsider's answers equal those for an id that does not exist.
    let (missing_status, missing) = env
        .get(
            &format!("/api/v1/conversations/{}", "ab".repeat(32)),
            &outsider,
        )
        .await;
    assert_eq!(missing_status, StatusCode::NOT_FOUND);
    for auth in [&outsider, &officer, &admin] {
        let (status, body) = env.get(&uri, auth).await;
        assert_eq!((status, &body), (missing_status, &missing));
        let (status, body) = env.post(&format!("{uri}/close"), auth, json!({})).await;
        assert_eq!((status, &body), (missing_status, &missing));
    }
    let (status, body) = env
        .post(
            &format!("{uri}/assign"),
            &outsider,
            json!({ "user_id": outsider_id }),
        )
        .await;
    assert_eq!((status, &body), (missing_status, &missing));
    let (status, list) = env.get("/api/v1/conversations", &outsider).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(list["conversations"], json!([]));
    let (status, _) = env
        .get(
            &format!("/api/v1/conversations?inbox={}", inbox.to_hex()),
            &outsider,
        )
        .await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    for auth in [&officer, &admin] {
        let (status, _) = env.get("/api/v1/conversations", auth).await;
        assert_eq!(status, StatusCode::FORBIDDEN);
    }
    // Blocking needs a conversation the caller can see.
    let visitor_id = seen["visitor"]["id"].as_i64().unwrap();
    let (status, _) = env
        .post(
            &format!("/api/v1/visitors/{visitor_id}/block"),
            &outsider,
            json!({}),
        )
        .await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    let (status, body) = env
        .post(
            &format!("/api/v1/visitors/{visitor_id}/block"),
            &agent,
            json!({}),
        )
        .await;
    assert_eq!((status, &body["blocked"]), (StatusCode::OK, &json!(true)));
    let (status, err) = env
        .post(&format!("{uri}/reopen"), &visitor, json!({}))
        .await;
    assert_eq!(status, StatusCode::FORBIDDEN, "{err}");
    let fresh = Conversation::start(env.state.0.org.id, inbox, key.public(), &mut os_rng());
    let (status, _) = env
        .post(
            "/api/v1/conversations",
            &visitor,
            json!({
                "inbox_id": inbox.to_hex(),
                "conversation_id": fresh.id().to_hex(),
                "descriptor": hex::encode(fresh.encode_descriptor()),
            }),
        )
        .await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    let (status, body) = env
        .post(
            &format!("/api/v1/visitors/{visitor_id}/unblock"),
            &admin,
            json!({}),
        )
        .await;
    assert_eq!((status, &body["blocked"]), (StatusCode::OK, &json!(false)));
}

#[tokio::test]
async fn assignment_transfer_close_reopen() {
    let env = Env::new().await;
    let inbox = env.inbox();
    let elsewhere = env.add_inbox(false).await;
    let (a1_id, a1) = env.staff("a1@x", "agent", &[inbox]).await;
    let (a2_id, a2) = env.staff("a2@x", "agent", &[inbox]).await;
    let (_, sup) = env.staff("sup@x", "supervisor", &[inbox]).await;
    let (b_id, _) = env.staff("b@x", "agent", &[elsewhere]).await;
    let (so_id, _) = env.staff("so@x", "security_officer", &[inbox]).await;
    let (key, _, visitor) = env.visitor().await;
    let id = env.start(&key, &visitor, inbox).await;
    let uri = format!("/api/v1/conversations/{id}");
    let act = |action: &'static str, auth: String, user: Option<i64>| {
        let env = &env;
        let uri = format!("{uri}/{action}");
        async move {
            let body = user.map_or_else(|| json!({}), |u| json!({ "user_id": u }));
            env.post(&uri, &auth, body).await
        }
    };

    let (status, _) = act("assign", a1.clone(), Some(a2_id)).await;
    assert_eq!(
        status,
        StatusCode::FORBIDDEN,
        "agents assign only themselves"
    );
    let (status, err) = act("transfer", a1.clone(), Some(a2_id)).await;
    assert_eq!(
        (status, err["code"].as_str()),
        (StatusCode::CONFLICT, Some("invalid_state"))
    );
    for target in [b_id, so_id, 9999] {
        let (status, err) = act("assign", sup.clone(), Some(target)).await;
        assert_eq!(
            (status, err["code"].as_str()),
            (StatusCode::UNPROCESSABLE_ENTITY, Some("invalid_assignee"))
        );
    }
    let (status, body) = act("assign", a1.clone(), Some(a1_id)).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(
        (&body["state"], &body["assignee"]),
        (&json!("assigned"), &json!(a1_id))
    );
    let (status, _) = act("assign", a1.clone(), Some(a1_id)).await;
    assert_eq!(
        status,
        StatusCode::OK,
        "assigning again to the same user is a no-op"
    );
    let (status, err) = act("assign", sup.clone(), Some(a2_id)).await;
    assert_eq!(
        (status, err["code"].as_str()),
        (StatusCode::CONFLICT, Some("invalid_state"))
    );

    let (status, mine) = env
        .get("/api/v1/conversations?assigned_to=me&state=assigned", &a1)
        .await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(mine["conversations"].as_array().unwrap().len(), 1);
    let (_, theirs) = env.get("/api/v1/conversations?assigned_to=me", &a2).await;
    assert_eq!(theirs["conversations"], json!([]));
    let (status, _) = env.get("/api/v1/conversations?state=bogus", &a1).await;
    assert_eq!(status, StatusCode::BAD_REQUEST);

    let (status, _) = act("transfer", a2.clone(), Some(a2_id)).await;
    assert_eq!(
        status,
        StatusCode::FORBIDDEN,
        "only the assignee or a supervisor"
    );
    let (status, body) = act("transfer", a1.clone(), Some(a2_id)).await;
    assert_eq!((status, &body["assignee"]), (StatusCode::OK, &json!(a2_id)));
    let (status, body) = act("transfer", sup.clone(), Some(a1_id)).await;
    assert_eq!((status, &body["assignee"]), (StatusCode::OK, &json!(a1_id)));

    let (status, body) = act("close", a2.clone(), None).await;
    assert_eq!((status, &body["state"]), (StatusCode::OK, &json!("closed")));
    let (status, err) = act("close", a1.clone(), None).await;
    assert_eq!(
        (status, err["code"].as_str()),
        (StatusCode::CONFLICT, Some("invalid_state"))
    );
    let (status, err) = act("assign", sup.clone(), Some(a1_id)).await;
    assert_eq!(
        (status, err["code"].as_str()),
        (StatusCode::CONFLICT, Some("invalid_state"))
    );
    let (status, body) = act("reopen", visitor.clone(), None).await;
    assert_eq!(
        (status, &body["state"]),
        (StatusCode::OK, &json!("assigned"))
    );
    assert_eq!(
        body["assignee"],
        Value::Null,
        "visitors do not see who is assigned"
    );
    let (status, err) = act("reopen", sup.clone(), None).await;
    assert_eq!(
        (status, err["code"].as_str()),
        (StatusCode::CONFLICT, Some("invalid_state"))
    );
    let (status, body) = act("close", visitor.clone(), None).await;
    assert_eq!((status, &body["state"]), (StatusCode::OK, &json!("closed")));
}

#[tokio::test]
async fn assigned_only_inbox_hides_unassigned_conversations_from_agents() {
    let env = Env::new().await;
    let inbox = env.add_inbox(true).await;
    let (agent_id, agent) = env.staff("a@x", "agent", &[inbox]).await;
    let (_, sup) = env.staff("s@x", "supervisor", &[inbox]).await;
    let (key, _, visitor) = env.visitor().await;
    let id = env.start(&key, &visitor, inbox).await;
    let uri = format!("/api/v1/conversations/{id}");

    assert_eq!(env.get(&uri, &agent).await.0, StatusCode::NOT_FOUND);
    let (_, list) = env.get("/api/v1/conversations", &agent).await;
    assert_eq!(list["conversations"], json!([]));
    let (status, _) = env
        .post(
            &format!("{uri}/assign"),
            &agent,
            json!({ "user_id": agent_id }),
        )
        .await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    let (_, list) = env.get("/api/v1/conversations", &sup).await;
    assert_eq!(list["conversations"].as_array().unwrap().len(), 1);
    let (status, _) = env
        .post(
            &format!("{uri}/assign"),
            &sup,
            json!({ "user_id": agent_id }),
        )
        .await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(env.get(&uri, &agent).await.0, StatusCode::OK);
    let (_, list) = env.get("/api/v1/conversations", &agent).await;
    assert_eq!(list["conversations"].as_array().unwrap().len(), 1);
}

#[tokio::test]
async fn device_registration_certifies_and_revocation_excludes() {
    let env = Env::new().await;
    let inbox = env.inbox();
    let (_, agent) = env.staff("a@x", "agent", &[inbox]).await;
    let (_, other) = env.staff("b@x", "agent", &[inbox]).await;
    // A colleague's console keeps the inbox readable after the revocation.
    let colleague = DeviceSecretKey::generate(&mut os_rng());
    assert_eq!(
        env.register(&other, &colleague, "console").await.0,
        StatusCode::CREATED
    );
    let before = env.verified(inbox).await;
    let m0 = before.head_membership().unwrap().body().seq.0;
    let g0 = before.head_generation().map(|g| g.body().generation.0);

    let device = DeviceSecretKey::generate(&mut os_rng());
    let (status, body) = env.register(&agent, &device, "console").await;
    assert_eq!(status, StatusCode::CREATED, "{body}");
    assert_eq!(body["device_id"], device.device_id().to_hex());

    let view = env.verified(inbox).await;
    let head = view.head_membership().unwrap();
    assert!(head.body().seq.0 > m0, "membership advanced");
    let member = head.body().member(&device.device_id()).unwrap();
    assert_eq!(member.role, Role::Agent);
    let generation = view.head_generation().unwrap();
    assert_ne!(Some(generation.body().generation.0), g0, "new generation");
    assert_eq!(generation.body().membership_hash, head.hash());
    let key = generation.unseal(&device).unwrap();
    assert_eq!(key.public_key(), generation.body().public_key);

    // Listed, idempotent, and not claimable by anyone else.
    let (_, list) = env.get("/api/v1/devices", &agent).await;
    assert_eq!(list["devices"][0]["device_id"], device.device_id().to_hex());
    assert_eq!(
        env.register(&agent, &device, "console").await.0,
        StatusCode::OK
    );
    let (status, err) = env.register(&other, &device, "console").await;
    assert_eq!(
        (status, err["code"].as_str()),
        (StatusCode::CONFLICT, Some("device_conflict"))
    );
    let (status, _) = env.register(&agent, &device, "scanner").await;
    assert_eq!(
        status,
        StatusCode::FORBIDDEN,
        "only admins register scanners"
    );
    let unchanged = env.verified(inbox).await;
    assert_eq!(
        unchanged.head_membership().unwrap().hash(),
        head.hash(),
        "an idempotent registration issues nothing"
    );

    // Another agent cannot revoke it; the owner can.
    let uri = format!("/api/v1/devices/{}", device.device_id().to_hex());
    let (status, _) = env.call("DELETE", &uri, Some(&other), None, None).await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    let (status, _) = env.call("DELETE", &uri, Some(&agent), None, None).await;
    assert_eq!(status, StatusCode::NO_CONTENT);

    // Only the newer statements, applied onto the earlier view.
    let (status, newer) = env
        .call(
            "GET",
            &format!(
                "/api/v1/inboxes/{}/chain?membership_from={}&generation_from={}",
                inbox.to_hex(),
                head.body().seq.0 + 1,
                generation.body().generation.0 + 1
            ),
            None,
            None,
            None,
        )
        .await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(newer["memberships"].as_array().unwrap().len(), 1);
    assert_eq!(newer["generations"].as_array().unwrap().len(), 1);
    let mut view = view;
    view.sync(&chain_of(&newer), now()).unwrap();
    let after = view.head_membership().unwrap();
    assert!(
        after.body().member(&device.device_id()).is_none(),
        "revoked device left"
    );
    let next = view.head_generation().unwrap();
    assert_eq!(next.body().membership_hash, after.hash());
    assert_eq!(
        next.unseal(&device).err(),
        Some(Error::NotAGenerationRecipient)
    );
    assert!(next.unseal(&colleague).is_ok());
    let (_, list) = env.get("/api/v1/devices", &agent).await;
    assert!(list["devices"][0]["revoked_at"].is_i64());
    let (status, err) = env.register(&agent, &device, "console").await;
    assert_eq!(
        (status, err["code"].as_str()),
        (StatusCode::CONFLICT, Some("device_conflict")),
        "a revoked device stays revoked"
    );
}

#[tokio::test]
async fn scanners_join_as_scanner_and_never_get_generation_keys() {
    let env = Env::new().await;
    let inbox = env.inbox();
    let (_, admin) = env.staff("adm@x", "admin", &[inbox]).await;
    let (_, agent) = env.staff("a@x", "agent", &[inbox]).await;
    let console = DeviceSecretKey::generate(&mut os_rng());
    assert_eq!(
        env.register(&agent, &console, "console").await.0,
        StatusCode::CREATED
    );
    let scanner = DeviceSecretKey::generate(&mut os_rng());
    let (status, body) = env.register(&admin, &scanner, "scanner").await;
    assert_eq!(status, StatusCode::CREATED, "{body}");
    let cli = DeviceSecretKey::generate(&mut os_rng());
    assert_eq!(
        env.register(&agent, &cli, "cli").await.0,
        StatusCode::CREATED
    );

    let view = env.verified(inbox).await;
    let head = view.head_membership().unwrap().body();
    assert_eq!(
        head.member(&scanner.device_id()).unwrap().role,
        Role::Scanner
    );
    assert!(
        head.member(&cli.device_id()).is_none(),
        "CLI devices are not members"
    );
    let generation = view.head_generation().unwrap();
    assert_eq!(
        generation.unseal(&scanner).err(),
        Some(Error::NotAGenerationRecipient)
    );
    assert!(generation.unseal(&console).is_ok());

    // A visitor cannot take a staff identity, nor staff a visitor's.
    let (status, _) = env
        .call(
            "POST",
            "/api/v1/visitors",
            None,
            Some(json!({ "identity": hex::encode(console.public().encode()) })),
            None,
        )
        .await;
    assert_eq!(status, StatusCode::CONFLICT);
    let (visitor_key, _, _) = env.visitor().await;
    assert_eq!(
        env.register(&agent, &visitor_key, "console").await.0,
        StatusCode::CONFLICT
    );
    let (status, err) = env
        .post(
            "/api/v1/devices",
            &agent,
            json!({ "identity": "00", "kind": "console", "label": "x" }),
        )
        .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{err}");
    let (status, _) = env
        .call(
            "GET",
            &format!("/api/v1/inboxes/{}/chain", "00".repeat(16)),
            None,
            None,
            None,
        )
        .await;
    assert_eq!(status, StatusCode::NOT_FOUND);
}

#[tokio::test]
async fn visitor_creation_is_rate_limited_per_address() {
    let env = Env::new().await;
    let create = |ip: [u8; 4]| {
        let env = &env;
        async move {
            let key = DeviceSecretKey::generate(&mut os_rng());
            env.call(
                "POST",
                "/api/v1/visitors",
                None,
                Some(json!({ "identity": hex::encode(key.public().encode()) })),
                Some(ip),
            )
            .await
        }
    };
    let limit = i64::from(confide_server::config::Limits::default().visitors_per_address_per_hour);
    for _ in 0..limit {
        assert_eq!(create([198, 51, 100, 7]).await.0, StatusCode::CREATED);
    }
    let (status, err) = create([198, 51, 100, 7]).await;
    assert_eq!(
        (status, err["code"].as_str()),
        (StatusCode::TOO_MANY_REQUESTS, Some("rate_limited"))
    );
    assert_eq!(create([198, 51, 100, 8]).await.0, StatusCode::CREATED);

    let (_, token) = {
        let (status, body) = create([203, 0, 113, 1]).await;
        assert_eq!(status, StatusCode::CREATED);
        (
            status,
            format!("Visitor {}", body["token"].as_str().unwrap()),
        )
    };
    let (status, me) = env.get("/api/v1/visitors/me", &token).await;
    assert_eq!((status, &me["blocked"]), (StatusCode::OK, &json!(false)));
    let (status, _) = env.get("/api/v1/visitors/me", "Visitor nope").await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);

    let (_, doc) = env
        .call("GET", "/api/v1/openapi.json", None, None, None)
        .await;
    for path in [
        "/api/v1/devices",
        "/api/v1/inboxes/{inbox_id}/chain",
        "/api/v1/visitors",
        "/api/v1/conversations",
        "/api/v1/conversations/{id}/assign",
    ] {
        assert!(doc["paths"][path].is_object(), "{path} documented");
    }
    for scheme in ["bearer", "visitor"] {
        assert!(doc["components"]["securitySchemes"][scheme].is_object());
    }
}
