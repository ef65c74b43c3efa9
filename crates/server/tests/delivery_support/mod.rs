//! Shared setup for the delivery tests: a server on a temporary data
//! directory, staff with certified consoles, visitors, conversations, and
//! client-side sealing and opening with `confide_protocol`.
#![allow(dead_code)]

use axum::Router;
use axum::body::Body;
use axum::http::{Request, StatusCode};
use base64::Engine;
use confide_protocol::body::Body as MessageBody;
use confide_protocol::conversation::Conversation;
use confide_protocol::envelope::{self, Audience, Keyring, OpenMode, SenderKey};
use confide_protocol::state::{InboxState, TrustAnchor};
use confide_protocol::{Counter, DeviceSecretKey, HpkeSecretKey, InboxId, InstanceId, Timestamp};
use confide_server::app::{self, AppState};
use confide_server::config::Config;
use confide_server::keys::os_rng;
use serde_json::{Value, json};
use tower::ServiceExt;

pub struct Env {
    pub dir: tempfile::TempDir,
    pub state: AppState,
    pub router: Router,
}

pub struct Agent {
    pub auth: String,
    pub device: DeviceSecretKey,
}

pub struct Visitor {
    pub key: DeviceSecretKey,
    pub id: i64,
    pub auth: String,
}

pub fn now() -> Timestamp {
    Timestamp(u64::try_from(confide_server::db::now()).unwrap())
}

impl Env {
    pub async fn new() -> Self {
        let dir = tempfile::tempdir().unwrap();
        let config = Config {
            data: dir.path().to_path_buf(),
            ..Config::default()
        };
        let (state, _) = confide_server::prepare(config).await.unwrap();
        let router = app::router(state.clone());
        Self { dir, state, router }
    }

    pub fn inbox(&self) -> InboxId {
        self.state.0.org.default_inbox
    }

    pub async fn add_inbox(&self) -> InboxId {
        let mut raw = [0u8; 16];
        rand_core::Rng::fill_bytes(&mut os_rng(), &mut raw);
        let inbox = InboxId(raw);
        sqlx::query("INSERT INTO inbox (id, org_id, name, created_at) VALUES (?, ?, 'Other', 0)")
            .bind(inbox.0.as_slice())
            .bind(self.state.0.org.id.0.as_slice())
            .execute(&self.state.0.pool)
            .await
            .unwrap();
        inbox
    }

    /// A user with `role` in `inboxes`, a session and a certified console
    /// (rows inserted, then the server publishes the new membership).
    pub async fn agent(&self, email: &str, role: &str, inboxes: &[InboxId]) -> Agent {
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
        let device = DeviceSecretKey::generate(&mut os_rng());
        sqlx::query(
            "INSERT INTO device (device_id, identity, user_id, kind, label, created_at) VALUES (?, ?, ?, 'console', 'test', 0)",
        )
        .bind(device.device_id().0.as_slice())
        .bind(device.public().encode().as_slice())
        .bind(id)
        .execute(pool)
        .await
        .unwrap();
        for inbox in inboxes {
            sqlx::query("INSERT INTO user_inbox (user_id, inbox_id) VALUES (?, ?)")
                .bind(id)
                .bind(inbox.0.as_slice())
                .execute(pool)
                .await
                .unwrap();
            let org = &self.state.0.org;
            confide_server::managed::publish(pool, &org.keys, org.id, *inbox, false)
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
        Agent {
            auth: format!("Bearer {token}"),
            device,
        }
    }

    pub async fn call(&self, req: Request<Body>) -> (StatusCode, Value) {
        let res = self.router.clone().oneshot(req).await.unwrap();
        let status = res.status();
        let bytes = axum::body::to_bytes(res.into_body(), 1 << 24)
            .await
            .unwrap();
        (
            status,
            serde_json::from_slice(&bytes).unwrap_or(Value::Null),
        )
    }

    pub async fn visitor(&self) -> Visitor {
        let key = DeviceSecretKey::generate(&mut os_rng());
        let body = json!({ "identity": hex::encode(key.public().encode()) });
        let req = Request::post("/api/v1/visitors")
            .header("content-type", "application/json")
            .body(Body::from(body.to_string()))
            .unwrap();
        let (status, body) = self.call(req).await;
        assert_eq!(status, StatusCode::CREATED, "{body}");
        Visitor {
            key,
            id: body["visitor_id"].as_i64().unwrap(),
            auth: format!("Visitor {}", body["token"].as_str().unwrap()),
        }
    }

    pub async fn start(&self, visitor: &Visitor, inbox: InboxId) -> Conversation {
        let c = Conversation::start(
            self.state.0.org.id,
            inbox,
            visitor.key.public(),
            &mut os_rng(),
        );
        let body = json!({
            "inbox_id": inbox.to_hex(),
            "conversation_id": c.id().to_hex(),
            "descriptor": hex::encode(c.encode_descriptor()),
        });
        let req = Request::post("/api/v1/conversations")
            .header("authorization", &visitor.auth)
            .header("content-type", "application/json")
            .body(Body::from(body.to_string()))
            .unwrap();
        let (status, body) = self.call(req).await;
        assert_eq!(status, StatusCode::CREATED, "{body}");
        c
    }

    /// What a client verifies from the pinned root key.
    pub async fn client_state(&self, inbox: InboxId) -> InboxState {
        let chain = confide_server::managed::load_chain(&self.state.0.pool, inbox)
            .await
            .unwrap();
        let mut state = InboxState::new(TrustAnchor {
            org: self.state.0.org.id,
            inbox,
            root: self.state.0.org.keys.root.public(),
        });
        state.sync(&chain, now()).unwrap();
        state
    }

    pub async fn send(
        &self,
        conv: &Conversation,
        auth: &str,
        device: Option<&DeviceSecretKey>,
        bytes: Vec<u8>,
    ) -> (StatusCode, Value) {
        self.call(send_request(conv, auth, device, bytes)).await
    }

    pub async fn catch_up(
        &self,
        conv: &Conversation,
        auth: &str,
        after: i64,
    ) -> (StatusCode, Value) {
        let uri = format!(
            "/api/v1/conversations/{}/envelopes?after={after}&limit=1000",
            conv.id().to_hex()
        );
        let req = Request::get(uri)
            .header("authorization", auth)
            .body(Body::empty())
            .unwrap();
        self.call(req).await
    }
}

pub fn send_request(
    conv: &Conversation,
    auth: &str,
    device: Option<&DeviceSecretKey>,
    bytes: Vec<u8>,
) -> Request<Body> {
    let uri = format!("/api/v1/conversations/{}/envelopes", conv.id().to_hex());
    let mut req = Request::post(uri)
        .header("authorization", auth)
        .header("content-type", "application/octet-stream");
    if let Some(d) = device {
        req = req.header("x-confide-device", d.device_id().to_hex());
    }
    req.body(Body::from(bytes)).unwrap()
}

#[allow(clippy::too_many_arguments)]
pub fn seal(
    from: &DeviceSecretKey,
    instance: u8,
    counter: u64,
    conv: &Conversation,
    state: &InboxState,
    audience: Audience,
    text: &str,
) -> Vec<u8> {
    let sender = SenderKey {
        device: from,
        instance: InstanceId([instance; 16]),
    };
    envelope::seal(
        &sender,
        Counter(counter),
        conv,
        state,
        audience,
        &MessageBody::text(text),
        &[],
        now(),
        &mut os_rng(),
    )
    .unwrap()
    .encode()
}

pub fn keyring(device: &DeviceSecretKey, state: &InboxState) -> Keyring {
    let mut k = Keyring::new();
    for g in state.generations() {
        if let Ok(s) = g.unseal(device) {
            k.insert(s);
        }
    }
    k.insert(HpkeSecretKey::dangerous_from_bytes(
        *device.hpke().dangerous_expose_bytes(),
    ));
    k
}

pub fn stored(page: &Value) -> Vec<(i64, Vec<u8>)> {
    page["envelopes"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| {
            let b = base64::engine::general_purpose::STANDARD
                .decode(e["envelope"].as_str().unwrap())
                .unwrap();
            (e["seq"].as_i64().unwrap(), b)
        })
        .collect()
}

pub fn text_of(bytes: &[u8], conv: &Conversation, state: &InboxState, keys: &Keyring) -> String {
    envelope::open(bytes, conv, state, keys, OpenMode::History)
        .unwrap()
        .body
        .text
        .clone()
}
