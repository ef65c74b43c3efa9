//! Accounts through the router: login, sessions (bearer and cookie),
//! throttling, the one-time-password gate, administration of users and
//! inboxes, and that membership changes reach the signed statements.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::indexing_slicing,
    clippy::panic
)]

use axum::Router;
use axum::body::Body;
use axum::extract::ConnectInfo;
use axum::http::{HeaderMap, Request, StatusCode, header};
use confide_protocol::membership::Role;
use confide_protocol::state::{InboxState, TrustAnchor};
use confide_protocol::{DeviceId, DeviceSecretKey, InboxId, Timestamp};
use confide_server::app::{self, AppState};
use confide_server::config::Config;
use confide_server::keys::os_rng;
use confide_server::{db, managed, throttle};
use serde_json::{Value, json};
use std::net::SocketAddr;
use tower::ServiceExt;

struct Env {
    dir: tempfile::TempDir,
    state: AppState,
    router: Router,
    admin_email: String,
    admin_password: String,
}

struct Reply {
    status: StatusCode,
    headers: HeaderMap,
    body: Value,
}

impl Reply {
    fn code(&self) -> (StatusCode, Option<&str>) {
        (self.status, self.body["code"].as_str())
    }
}

/// A new password that passes the policy.
const NEW_PASSWORD: &str = "correct horse battery staple";

impl Env {
    async fn new() -> Self {
        let dir = tempfile::tempdir().unwrap();
        let config = Config {
            data: dir.path().to_path_buf(),
            ..Config::default()
        };
        let (state, first) = confide_server::prepare(config).await.unwrap();
        let first = first.unwrap();
        let router = app::router(state.clone());
        Self {
            dir,
            state,
            router,
            admin_email: first.admin_email,
            admin_password: first.admin_password,
        }
    }

    fn inbox(&self) -> InboxId {
        self.state.0.org.default_inbox
    }

    async fn send(
        &self,
        method: &str,
        uri: &str,
        headers: &[(&str, &str)],
        body: Option<Value>,
        from: Option<[u8; 4]>,
    ) -> Reply {
        let mut req = Request::builder().method(method).uri(uri);
        for (k, v) in headers {
            req = req.header(*k, *v);
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
        let headers = res.headers().clone();
        let bytes = axum::body::to_bytes(res.into_body(), 1 << 22)
            .await
            .unwrap();
        Reply {
            status,
            headers,
            body: serde_json::from_slice(&bytes).unwrap_or(Value::Null),
        }
    }

    async fn call(&self, method: &str, uri: &str, token: &str, body: Option<Value>) -> Reply {
        let auth = format!("Bearer {token}");
        self.send(method, uri, &[("authorization", &auth)], body, None)
            .await
    }

    async fn login_from(&self, email: &str, password: &str, from: [u8; 4]) -> Reply {
        self.send(
            "POST",
            "/api/v1/auth/login",
            &[],
            Some(json!({ "email": email, "password": password })),
            Some(from),
        )
        .await
    }

    /// Logs in (from 192.0.2.1) and returns the session token.
    async fn login(&self, email: &str, password: &str) -> String {
        let r = self.login_from(email, password, [192, 0, 2, 1]).await;
        assert_eq!(r.status, StatusCode::OK, "{}", r.body);
        r.body["token"].as_str().unwrap().to_owned()
    }

    /// Logs in with a one-time password and changes it; returns the token.
    async fn ready(&self, email: &str, one_time: &str) -> String {
        let token = self.login(email, one_time).await;
        let r = self
            .call(
                "POST",
                "/api/v1/me/password",
                &token,
                Some(json!({ "current": one_time, "new": NEW_PASSWORD })),
            )
            .await;
        assert_eq!(r.status, StatusCode::NO_CONTENT, "{}", r.body);
        token
    }

    async fn admin(&self) -> String {
        self.ready(&self.admin_email, &self.admin_password).await
    }

    /// Creates a user as `admin`; returns (id, one-time password).
    async fn create_user(
        &self,
        admin: &str,
        email: &str,
        role: &str,
        inboxes: &[InboxId],
    ) -> (i64, String) {
        let inboxes: Vec<String> = inboxes.iter().map(InboxId::to_hex).collect();
        let r = self
            .call(
                "POST",
                "/api/v1/users",
                admin,
                Some(json!({ "email": email, "display_name": "Test User", "role": role, "inboxes": inboxes })),
            )
            .await;
        assert_eq!(r.status, StatusCode::CREATED, "{}", r.body);
        (
            r.body["user"]["id"].as_i64().unwrap(),
            r.body["one_time_password"].as_str().unwrap().to_owned(),
        )
    }

    /// Inserts a console device for `user_id` and publishes its inboxes.
    async fn console(&self, user_id: i64) -> DeviceSecretKey {
        let key = DeviceSecretKey::generate(&mut os_rng());
        sqlx::query(
            "INSERT INTO device (device_id, identity, user_id, kind, label, created_at) VALUES (?, ?, ?, 'console', 'test', 0)",
        )
        .bind(key.device_id().0.as_slice())
        .bind(key.public().encode().as_slice())
        .bind(user_id)
        .execute(&self.state.0.pool)
        .await
        .unwrap();
        self.publish(self.inbox()).await;
        key
    }

    async fn publish(&self, inbox: InboxId) {
        let org = &self.state.0.org;
        managed::publish(&self.state.0.pool, &org.keys, org.id, inbox, false)
            .await
            .unwrap();
    }

    /// The stored chain of `inbox`, verified from the root key.
    async fn verified(&self, inbox: InboxId) -> InboxState {
        let chain = managed::load_chain(&self.state.0.pool, inbox)
            .await
            .unwrap();
        let mut view = InboxState::new(TrustAnchor {
            org: self.state.0.org.id,
            inbox,
            root: self.state.0.org.keys.root.public(),
        });
        view.sync(&chain, Timestamp(u64::try_from(db::now()).unwrap()))
            .unwrap();
        view
    }
}

fn member_role(view: &InboxState, device: &DeviceId) -> Option<Role> {
    view.head_membership()
        .unwrap()
        .body()
        .member(device)
        .map(|m| m.role)
}

fn sealed_to(view: &InboxState, device: &DeviceId) -> bool {
    view.head_generation()
        .unwrap()
        .body()
        .seals
        .iter()
        .any(|s| s.device == *device)
}

#[tokio::test]
async fn login_sets_a_strict_cookie_and_both_credentials_work() {
    let env = Env::new().await;
    let r = env
        .login_from(
            "  Admin@LOCALHOST ",
            &env.admin_password.clone(),
            [192, 0, 2, 1],
        )
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    let token = r.body["token"].as_str().unwrap().to_owned();
    assert_eq!(token.len(), 64);
    let user = &r.body["user"];
    assert_eq!(user["email"], "admin@localhost");
    assert_eq!(user["role"], "admin");
    assert_eq!(user["must_change_password"], true);
    assert_eq!(user["inboxes"], json!([env.inbox().to_hex()]));
    let ttl = i64::try_from(Config::default().session_ttl_secs).unwrap();
    let expires_at = r.body["expires_at"].as_i64().unwrap();
    assert!((expires_at - db::now() - ttl).abs() <= 2);

    let cookie = r.headers[header::SET_COOKIE].to_str().unwrap();
    let attrs: Vec<&str> = cookie.split("; ").collect();
    assert_eq!(attrs[0], format!("confide_session={token}"));
    for attr in ["HttpOnly", "Secure", "SameSite=Strict", "Path=/"] {
        assert!(attrs.contains(&attr), "{cookie} lacks {attr}");
    }
    assert!(
        attrs.contains(&format!("Max-Age={ttl}").as_str()),
        "{cookie}"
    );

    // Only the hash of the token is stored.
    let (stored,): (Vec<u8>,) = sqlx::query_as("SELECT token_hash FROM session")
        .fetch_one(&env.state.0.pool)
        .await
        .unwrap();
    assert_eq!(stored, confide_server::auth::token_hash(&token));
    assert!(!String::from_utf8_lossy(&stored).contains(&token));

    // Bearer and cookie both authenticate.
    let me = env.call("GET", "/api/v1/me", &token, None).await;
    assert_eq!(
        (me.status, &me.body["email"]),
        (StatusCode::OK, &json!("admin@localhost"))
    );
    let cookie_header = format!("theme=dark; confide_session={token}");
    let me = env
        .send(
            "GET",
            "/api/v1/me",
            &[("cookie", &cookie_header)],
            None,
            None,
        )
        .await;
    assert_eq!(me.status, StatusCode::OK);
    let r = env
        .call("GET", "/api/v1/me", "0".repeat(64).as_str(), None)
        .await;
    assert_eq!(r.code(), (StatusCode::UNAUTHORIZED, Some("unauthorized")));

    // Logout ends the session and clears the cookie.
    let out = env.call("POST", "/api/v1/auth/logout", &token, None).await;
    assert_eq!(out.status, StatusCode::NO_CONTENT);
    let cleared = out.headers[header::SET_COOKIE].to_str().unwrap();
    assert!(cleared.starts_with("confide_session=;"), "{cleared}");
    assert!(cleared.contains("Max-Age=0"), "{cleared}");
    let r = env.call("GET", "/api/v1/me", &token, None).await;
    assert_eq!(r.status, StatusCode::UNAUTHORIZED);
}

#[tokio::test]
async fn wrong_email_and_wrong_password_look_the_same() {
    let env = Env::new().await;
    let from = [192, 0, 2, 7];
    let wrong_password = env
        .login_from(&env.admin_email, "not the password", from)
        .await;
    let unknown = env
        .login_from("nobody@example.com", &env.admin_password, from)
        .await;
    assert_eq!(
        wrong_password.code(),
        (StatusCode::UNAUTHORIZED, Some("invalid_credentials"))
    );
    assert_eq!(wrong_password.body, unknown.body);
    assert!(wrong_password.headers.get(header::SET_COOKIE).is_none());

    // A disabled account cannot log in, even with the right password.
    let admin = env.admin().await;
    let (id, otp) = env
        .create_user(&admin, "agent@example.com", "agent", &[env.inbox()])
        .await;
    let r = env
        .call(
            "PATCH",
            &format!("/api/v1/users/{id}"),
            &admin,
            Some(json!({ "disabled": true })),
        )
        .await;
    assert_eq!(
        (r.status, &r.body["disabled"]),
        (StatusCode::OK, &json!(true))
    );
    let r = env.login_from("agent@example.com", &otp, from).await;
    assert_eq!(r.body, wrong_password.body);

    // Attempts are recorded, with their outcome.
    let (failures,): (i64,) = sqlx::query_as(
        "SELECT count(*) FROM login_attempt WHERE success = 0 AND address = '192.0.2.7'",
    )
    .fetch_one(&env.state.0.pool)
    .await
    .unwrap();
    assert_eq!(failures, 3);
}

#[tokio::test]
async fn expired_session_is_rejected() {
    let env = Env::new().await;
    let token = env.login(&env.admin_email, &env.admin_password).await;
    assert_eq!(
        env.call("GET", "/api/v1/me", &token, None).await.status,
        StatusCode::OK
    );
    sqlx::query("UPDATE session SET expires_at = ?")
        .bind(db::now() - 1)
        .execute(&env.state.0.pool)
        .await
        .unwrap();
    // The database was edited behind the server's back, which its
    // authorisation cache only notices after `cache::TTL`: drop it, as a
    // handler does after its own changes.
    env.state.0.cache.invalidate();
    let r = env.call("GET", "/api/v1/me", &token, None).await;
    assert_eq!(r.code(), (StatusCode::UNAUTHORIZED, Some("unauthorized")));
}

#[tokio::test]
async fn login_is_throttled_per_account() {
    let env = Env::new().await;
    let email = env.admin_email.clone();
    for i in 0..throttle::FAILURES_PER_ACCOUNT {
        let r = env
            .login_from(&email, "wrong", [198, 51, 100, u8::try_from(i).unwrap()])
            .await;
        assert_eq!(r.status, StatusCode::UNAUTHORIZED);
    }
    // Now even the right password, from a fresh address, is refused.
    let r = env
        .login_from(&email, &env.admin_password, [203, 0, 113, 9])
        .await;
    assert_eq!(
        r.code(),
        (StatusCode::TOO_MANY_REQUESTS, Some("rate_limited"))
    );
    let retry: i64 = r.headers[header::RETRY_AFTER]
        .to_str()
        .unwrap()
        .parse()
        .unwrap();
    assert!((1..=throttle::WINDOW_SECS).contains(&retry), "{retry}");
    // E-mail case does not evade it; other accounts are unaffected.
    let r = env
        .login_from("ADMIN@localhost", "wrong", [203, 0, 113, 9])
        .await;
    assert_eq!(r.status, StatusCode::TOO_MANY_REQUESTS);
    let r = env
        .login_from("other@example.com", "wrong", [203, 0, 113, 9])
        .await;
    assert_eq!(r.status, StatusCode::UNAUTHORIZED);

    // Once the failures are older than the window, the right password works.
    sqlx::query("UPDATE login_attempt SET at = at - ?")
        .bind(throttle::WINDOW_SECS)
        .execute(&env.state.0.pool)
        .await
        .unwrap();
    let r = env
        .login_from(&email, &env.admin_password, [203, 0, 113, 9])
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
}

#[tokio::test]
async fn login_is_throttled_per_address() {
    let env = Env::new().await;
    let attacker = [198, 51, 100, 66];
    // Earlier failures against many accounts from one address …
    for i in 0..throttle::FAILURES_PER_ADDRESS - 1 {
        sqlx::query("INSERT INTO login_attempt (email, address, at, success) VALUES (?, '198.51.100.66', ?, 0)")
            .bind(format!("user{i}@example.com"))
            .bind(db::now() - 60)
            .execute(&env.state.0.pool)
            .await
            .unwrap();
    }
    let r = env.login_from("last@example.com", "wrong", attacker).await;
    assert_eq!(r.status, StatusCode::UNAUTHORIZED);
    // … lock the address out, for any account, right password included …
    let r = env
        .login_from(&env.admin_email, &env.admin_password, attacker)
        .await;
    assert_eq!(
        r.code(),
        (StatusCode::TOO_MANY_REQUESTS, Some("rate_limited"))
    );
    let retry: i64 = r.headers[header::RETRY_AFTER]
        .to_str()
        .unwrap()
        .parse()
        .unwrap();
    assert!(
        retry > throttle::WINDOW_SECS - 120 && retry <= throttle::WINDOW_SECS,
        "{retry}"
    );
    // … but not other addresses.
    let r = env
        .login_from(&env.admin_email, &env.admin_password, [192, 0, 2, 50])
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
}

#[tokio::test]
async fn one_time_password_must_be_changed_first() {
    let env = Env::new().await;
    let first = env.login(&env.admin_email, &env.admin_password).await;
    let token = env.login(&env.admin_email, &env.admin_password).await;
    for (method, uri) in [
        ("GET", "/api/v1/users"),
        ("GET", "/api/v1/inboxes"),
        ("GET", "/api/v1/devices"),
        ("GET", "/api/v1/conversations"),
    ] {
        let r = env.call(method, uri, &token, None).await;
        assert_eq!(
            r.code(),
            (StatusCode::FORBIDDEN, Some("password_change_required")),
            "{uri}"
        );
    }
    // The account endpoints stay open.
    assert_eq!(
        env.call("GET", "/api/v1/me", &token, None).await.status,
        StatusCode::OK
    );

    let change = |current: &str, new: &str| json!({ "current": current, "new": new });
    let otp = env.admin_password.clone();
    for (body, code) in [
        (change(&otp, "short"), "password_too_short"),
        (change(&otp, &"x".repeat(257)), "password_too_long"),
        (change(&otp, &otp), "password_unchanged"),
    ] {
        let r = env
            .call("POST", "/api/v1/me/password", &token, Some(body))
            .await;
        assert_eq!(r.code(), (StatusCode::UNPROCESSABLE_ENTITY, Some(code)));
    }
    let r = env
        .call(
            "POST",
            "/api/v1/me/password",
            &token,
            Some(change("wrong-password!", NEW_PASSWORD)),
        )
        .await;
    assert_eq!(r.code(), (StatusCode::FORBIDDEN, Some("wrong_password")));
    let r = env
        .call(
            "POST",
            "/api/v1/me/password",
            &token,
            Some(json!({ "current": otp })),
        )
        .await;
    assert_eq!(
        r.code(),
        (StatusCode::UNPROCESSABLE_ENTITY, Some("invalid_body"))
    );

    let r = env
        .call(
            "POST",
            "/api/v1/me/password",
            &token,
            Some(change(&otp, NEW_PASSWORD)),
        )
        .await;
    assert_eq!(r.status, StatusCode::NO_CONTENT, "{}", r.body);
    // The gate is open for this session; the other session was ended.
    let r = env.call("GET", "/api/v1/users", &token, None).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    assert_eq!(
        env.call("GET", "/api/v1/me", &first, None).await.status,
        StatusCode::UNAUTHORIZED
    );
    let me = env.call("GET", "/api/v1/me", &token, None).await;
    assert_eq!(me.body["must_change_password"], false);
    // The old password no longer works, the new one does.
    let r = env.login_from(&env.admin_email, &otp, [192, 0, 2, 1]).await;
    assert_eq!(r.status, StatusCode::UNAUTHORIZED);
    env.login(&env.admin_email, NEW_PASSWORD).await;
}

#[tokio::test]
async fn created_agent_joins_and_leaves_the_signed_membership() {
    let env = Env::new().await;
    let admin = env.admin().await;
    let before = env.verified(env.inbox()).await;
    let seq0 = before.head_membership().unwrap().body().seq.0;

    let (agent_id, otp) = env
        .create_user(&admin, "Agent.One@Example.com", "agent", &[env.inbox()])
        .await;
    let r = env
        .call("GET", &format!("/api/v1/users/{agent_id}"), &admin, None)
        .await;
    assert_eq!(r.status, StatusCode::OK);
    assert_eq!(r.body["email"], "agent.one@example.com");
    assert_eq!(r.body["must_change_password"], true);
    assert_eq!(r.body["inboxes"], json!([env.inbox().to_hex()]));

    // The one-time password is nowhere in the database files.
    for entry in std::fs::read_dir(env.dir.path()).unwrap() {
        let path = entry.unwrap().path();
        if path
            .file_name()
            .unwrap()
            .to_string_lossy()
            .starts_with(db::DB_FILE)
        {
            let bytes = std::fs::read(&path).unwrap();
            assert!(
                !bytes.windows(otp.len()).any(|w| w == otp.as_bytes()),
                "{} holds the one-time password",
                path.display()
            );
        }
    }

    // Once the agent has a console, it is a member with role Agent and the
    // head generation is sealed to it.
    let agent = env.ready("agent.one@example.com", &otp).await;
    let key = env.console(agent_id).await;
    // A colleague who stays: generations after the removal are sealed to them.
    let (stays, _) = env
        .create_user(&admin, "stays@example.com", "agent", &[env.inbox()])
        .await;
    let colleague = env.console(stays).await;
    let view = env.verified(env.inbox()).await;
    let joined = view.head_membership().unwrap().body().seq.0;
    assert!(joined > seq0);
    assert_eq!(member_role(&view, &key.device_id()), Some(Role::Agent));
    assert!(sealed_to(&view, &key.device_id()));
    let generation = view.head_generation().unwrap().body().generation.0;
    let r = env.call("GET", "/api/v1/inboxes", &agent, None).await;
    assert_eq!(r.body["inboxes"].as_array().unwrap().len(), 1);

    // A role change is published at once.
    let uri = format!("/api/v1/users/{agent_id}");
    let r = env
        .call("PATCH", &uri, &admin, Some(json!({ "role": "supervisor" })))
        .await;
    assert_eq!(
        (r.status, &r.body["role"]),
        (StatusCode::OK, &json!("supervisor"))
    );
    let view = env.verified(env.inbox()).await;
    assert_eq!(member_role(&view, &key.device_id()), Some(Role::Supervisor));
    let promoted = view.head_membership().unwrap().body().seq.0;
    assert!(promoted > joined);

    // Removed from the inbox: the next membership no longer lists the
    // device and a new generation excludes it.
    let r = env
        .call("PATCH", &uri, &admin, Some(json!({ "inboxes": [] })))
        .await;
    assert_eq!((r.status, &r.body["inboxes"]), (StatusCode::OK, &json!([])));
    let view = env.verified(env.inbox()).await;
    assert!(view.head_membership().unwrap().body().seq.0 > promoted);
    assert_eq!(member_role(&view, &key.device_id()), None);
    let head = view.head_generation().unwrap().body();
    assert!(head.generation.0 > generation);
    assert!(!sealed_to(&view, &key.device_id()));
    assert!(sealed_to(&view, &colleague.device_id()));
    assert_eq!(
        view.rotation_needed(Timestamp(u64::try_from(db::now()).unwrap())),
        None
    );
    let r = env.call("GET", "/api/v1/inboxes", &agent, None).await;
    assert_eq!(r.body["inboxes"], json!([]));
}

#[tokio::test]
async fn deleting_a_user_ends_sessions_revokes_devices_and_erases_data() {
    let env = Env::new().await;
    let admin = env.admin().await;
    let (id, otp) = env
        .create_user(&admin, "leaver@example.com", "agent", &[env.inbox()])
        .await;
    let token = env.ready("leaver@example.com", &otp).await;
    let key = env.console(id).await;
    let (stays, _) = env
        .create_user(&admin, "stays@example.com", "supervisor", &[env.inbox()])
        .await;
    let colleague = env.console(stays).await;
    assert!(sealed_to(
        &env.verified(env.inbox()).await,
        &key.device_id()
    ));

    let uri = format!("/api/v1/users/{id}");
    let r = env.call("DELETE", &uri, &admin, None).await;
    assert_eq!(r.status, StatusCode::NO_CONTENT, "{}", r.body);
    assert_eq!(
        env.call("GET", "/api/v1/me", &token, None).await.status,
        StatusCode::UNAUTHORIZED
    );
    assert_eq!(
        env.call("GET", &uri, &admin, None).await.status,
        StatusCode::NOT_FOUND
    );
    assert_eq!(
        env.call("DELETE", &uri, &admin, None).await.status,
        StatusCode::NOT_FOUND
    );
    let (revoked,): (Option<i64>,) =
        sqlx::query_as("SELECT revoked_at FROM device WHERE device_id = ?")
            .bind(key.device_id().0.as_slice())
            .fetch_one(&env.state.0.pool)
            .await
            .unwrap();
    assert!(revoked.is_some());
    let view = env.verified(env.inbox()).await;
    assert_eq!(member_role(&view, &key.device_id()), None);
    assert!(!sealed_to(&view, &key.device_id()));
    assert!(sealed_to(&view, &colleague.device_id()));
    let (email, hash): (String, String) =
        sqlx::query_as("SELECT email, password_hash FROM user WHERE id = ?")
            .bind(id)
            .fetch_one(&env.state.0.pool)
            .await
            .unwrap();
    assert!(!email.contains("leaver"));
    assert!(hash.is_empty());
    let r = env
        .login_from("leaver@example.com", NEW_PASSWORD, [192, 0, 2, 1])
        .await;
    assert_eq!(r.status, StatusCode::UNAUTHORIZED);
    let users = env.call("GET", "/api/v1/users", &admin, None).await;
    assert_eq!(users.body["users"].as_array().unwrap().len(), 2);
    // The address can be given to a new account.
    env.create_user(&admin, "leaver@example.com", "agent", &[])
        .await;
}

#[tokio::test]
async fn only_administrators_manage_users_and_inboxes() {
    let env = Env::new().await;
    let admin = env.admin().await;
    let (_, otp) = env
        .create_user(&admin, "sup@example.com", "supervisor", &[env.inbox()])
        .await;
    let sup = env.ready("sup@example.com", &otp).await;
    let create = json!({ "email": "x@example.com", "display_name": "X", "role": "admin" });
    for (method, uri, body) in [
        ("POST", "/api/v1/users", Some(create)),
        ("GET", "/api/v1/users", None),
        ("GET", "/api/v1/users/1", None),
        (
            "PATCH",
            "/api/v1/users/1",
            Some(json!({ "disabled": true })),
        ),
        ("DELETE", "/api/v1/users/1", None),
        ("POST", "/api/v1/inboxes", Some(json!({ "name": "Sales" }))),
        (
            "PATCH",
            &format!("/api/v1/inboxes/{}", env.inbox().to_hex()),
            Some(json!({ "name": "Mine" })),
        ),
    ] {
        let r = env.call(method, uri, &sup, body).await;
        assert_eq!(
            r.code(),
            (StatusCode::FORBIDDEN, Some("forbidden")),
            "{method} {uri}"
        );
    }
    let r = env.send("GET", "/api/v1/users", &[], None, None).await;
    assert_eq!(r.code(), (StatusCode::UNAUTHORIZED, Some("unauthorized")));
    let users = env.call("GET", "/api/v1/users", &admin, None).await;
    assert_eq!(users.body["users"].as_array().unwrap().len(), 2);
}

#[tokio::test]
async fn user_input_is_validated() {
    let env = Env::new().await;
    let admin = env.admin().await;
    let inbox = env.inbox().to_hex();
    let user = |email: &str, name: &str, role: &str, inboxes: Value| json!({ "email": email, "display_name": name, "role": role, "inboxes": inboxes });
    for (body, status, code) in [
        (
            user("no-at-sign", "A", "agent", json!([])),
            422,
            "invalid_email",
        ),
        (user("a@b@c", "A", "agent", json!([])), 422, "invalid_email"),
        (
            user("a b@example.com", "A", "agent", json!([])),
            422,
            "invalid_email",
        ),
        (
            user("a@example..com", "A", "agent", json!([])),
            422,
            "invalid_email",
        ),
        (
            user("a@example.com", " ", "agent", json!([])),
            422,
            "invalid_display_name",
        ),
        (
            user("a@example.com", &"n".repeat(101), "agent", json!([])),
            422,
            "invalid_display_name",
        ),
        (
            user("a@example.com", "A", "root", json!([])),
            422,
            "invalid_role",
        ),
        (
            user("a@example.com", "A", "agent", json!(["zz"])),
            422,
            "invalid_inbox",
        ),
        (
            user("a@example.com", "A", "agent", json!(["00".repeat(16)])),
            422,
            "unknown_inbox",
        ),
        (
            user("ADMIN@localhost", "A", "agent", json!([inbox])),
            409,
            "email_taken",
        ),
        (json!({ "email": "a@example.com" }), 422, "invalid_body"),
        (
            json!({ "email": "a@example.com", "display_name": "A", "role": "agent", "extra": 1 }),
            422,
            "invalid_body",
        ),
    ] {
        let r = env
            .call("POST", "/api/v1/users", &admin, Some(body.clone()))
            .await;
        assert_eq!(
            r.code(),
            (StatusCode::from_u16(status).unwrap(), Some(code)),
            "{body}"
        );
    }
    let r = env
        .send(
            "POST",
            "/api/v1/users",
            &[
                ("authorization", &format!("Bearer {admin}")),
                ("content-type", "application/json"),
            ],
            None,
            None,
        )
        .await;
    assert_eq!(r.code(), (StatusCode::BAD_REQUEST, Some("invalid_json")));
    let r = env.call("GET", "/api/v1/users/abc", &admin, None).await;
    assert_eq!(r.code(), (StatusCode::BAD_REQUEST, Some("invalid_path")));
    let r = env
        .call(
            "PATCH",
            "/api/v1/users/999",
            &admin,
            Some(json!({ "disabled": true })),
        )
        .await;
    assert_eq!(r.code(), (StatusCode::NOT_FOUND, Some("not_found")));

    // The last enabled administrator cannot be demoted, disabled or deleted.
    let (me,): (i64,) = sqlx::query_as("SELECT id FROM user WHERE email = 'admin@localhost'")
        .fetch_one(&env.state.0.pool)
        .await
        .unwrap();
    let uri = format!("/api/v1/users/{me}");
    for body in [json!({ "role": "agent" }), json!({ "disabled": true })] {
        let r = env.call("PATCH", &uri, &admin, Some(body)).await;
        assert_eq!(r.code(), (StatusCode::CONFLICT, Some("last_admin")));
    }
    let r = env.call("DELETE", &uri, &admin, None).await;
    assert_eq!(r.code(), (StatusCode::CONFLICT, Some("last_admin")));
    let r = env.call("GET", "/api/v1/me", &admin, None).await;
    assert_eq!(
        (r.body["role"].as_str(), r.body["disabled"].as_bool()),
        (Some("admin"), Some(false))
    );
}

#[tokio::test]
async fn administrators_create_and_change_inboxes() {
    let env = Env::new().await;
    let admin = env.admin().await;
    let r = env
        .call(
            "POST",
            "/api/v1/inboxes",
            &admin,
            Some(json!({ "name": "  Sales ", "assigned_only": true })),
        )
        .await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.body);
    assert_eq!(
        (r.body["name"].as_str(), r.body["assigned_only"].as_bool()),
        (Some("Sales"), Some(true))
    );
    let sales = InboxId::from_hex(r.body["id"].as_str().unwrap()).unwrap();
    // Its chain starts at once (the server device only).
    let view = env.verified(sales).await;
    assert_eq!(view.head_membership().unwrap().body().members.len(), 1);

    let r = env
        .call(
            "POST",
            "/api/v1/inboxes",
            &admin,
            Some(json!({ "name": "" })),
        )
        .await;
    assert_eq!(
        r.code(),
        (StatusCode::UNPROCESSABLE_ENTITY, Some("invalid_name"))
    );
    let uri = format!("/api/v1/inboxes/{}", sales.to_hex());
    let r = env
        .call(
            "PATCH",
            &uri,
            &admin,
            Some(json!({ "name": "Sales EU", "assigned_only": false })),
        )
        .await;
    assert_eq!(
        (r.status, r.body["name"].as_str()),
        (StatusCode::OK, Some("Sales EU"))
    );
    assert_eq!(r.body["assigned_only"], false);
    let r = env
        .call(
            "PATCH",
            &format!("/api/v1/inboxes/{}", "00".repeat(16)),
            &admin,
            Some(json!({})),
        )
        .await;
    assert_eq!(r.code(), (StatusCode::NOT_FOUND, Some("not_found")));

    // Administrators list all inboxes; others only their own.
    let all = env.call("GET", "/api/v1/inboxes", &admin, None).await;
    assert_eq!(all.body["inboxes"].as_array().unwrap().len(), 2);
    let (_, otp) = env
        .create_user(&admin, "agent@example.com", "agent", &[sales])
        .await;
    let agent = env.ready("agent@example.com", &otp).await;
    let mine = env.call("GET", "/api/v1/inboxes", &agent, None).await;
    assert_eq!(mine.body["inboxes"], json!([all.body["inboxes"][1]]));
}
