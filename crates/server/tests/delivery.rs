//! Delivery through the router with real envelopes: the checks the server
//! can make without keys, idempotent appends, group commit, gap-free
//! ordering under concurrency, audience filtering, and no plaintext on disk.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::indexing_slicing,
    clippy::panic
)]

use axum::body::Body;
use axum::http::{Request, StatusCode};
use confide_protocol::envelope::{Audience, Keyring};
use confide_protocol::{HpkeSecretKey, InstanceId};
use serde_json::Value;
use tower::ServiceExt;

mod delivery_support;
use delivery_support::*;

#[tokio::test]
async fn visitor_and_agent_exchange_and_catch_up() {
    let env = Env::new().await;
    let agent = env.agent("a@x", "agent", &[env.inbox()]).await;
    let visitor = env.visitor().await;
    let conv = env.start(&visitor, env.inbox()).await;
    let state = env.client_state(env.inbox()).await;

    let hello = seal(
        &visitor.key,
        1,
        1,
        &conv,
        &state,
        Audience::Conversation,
        "hello agent",
    );
    let (status, body) = env.send(&conv, &visitor.auth, None, hello.clone()).await;
    assert_eq!(status, StatusCode::CREATED, "{body}");
    assert_eq!(
        (body["seq"].as_i64(), body["duplicate"].as_bool()),
        (Some(1), Some(false))
    );
    let parsed = confide_protocol::envelope::Envelope::decode(&hello).unwrap();
    assert_eq!(body["hash"].as_str().unwrap(), hex::encode(parsed.hash().0));

    let reply = seal(
        &agent.device,
        7,
        1,
        &conv,
        &state,
        Audience::Conversation,
        "hello visitor",
    );
    let (status, body) = env
        .send(&conv, &agent.auth, Some(&agent.device), reply)
        .await;
    assert_eq!(
        (status, body["seq"].as_i64()),
        (StatusCode::CREATED, Some(2)),
        "{body}"
    );

    let (status, page) = env.catch_up(&conv, &agent.auth, 0).await;
    assert_eq!(status, StatusCode::OK, "{page}");
    assert_eq!(
        (page["last_seq"].as_i64(), page["has_more"].as_bool()),
        (Some(2), Some(false))
    );
    let items = stored(&page);
    assert_eq!(items.iter().map(|(s, _)| *s).collect::<Vec<_>>(), [1, 2]);
    assert_eq!(items[0].1, hello, "stored exactly as signed");
    let keys = keyring(&agent.device, &state);
    assert_eq!(text_of(&items[0].1, &conv, &state, &keys), "hello agent");

    let (_, page) = env.catch_up(&conv, &visitor.auth, 1).await;
    let items = stored(&page);
    assert_eq!(items.len(), 1);
    let mut visitor_keys = Keyring::new();
    visitor_keys.insert(HpkeSecretKey::dangerous_from_bytes(
        *visitor.key.hpke().dangerous_expose_bytes(),
    ));
    assert_eq!(
        text_of(&items[0].1, &conv, &state, &visitor_keys),
        "hello visitor"
    );
}

#[tokio::test]
async fn retried_send_is_stored_once_and_a_reused_counter_conflicts() {
    let env = Env::new().await;
    let _agent = env.agent("a@x", "agent", &[env.inbox()]).await;
    let visitor = env.visitor().await;
    let conv = env.start(&visitor, env.inbox()).await;
    let state = env.client_state(env.inbox()).await;
    let first = seal(
        &visitor.key,
        1,
        1,
        &conv,
        &state,
        Audience::Conversation,
        "once",
    );
    let (status, a) = env.send(&conv, &visitor.auth, None, first.clone()).await;
    assert_eq!(status, StatusCode::CREATED, "{a}");
    let (status, b) = env.send(&conv, &visitor.auth, None, first.clone()).await;
    assert_eq!(status, StatusCode::OK, "{b}");
    assert_eq!(
        (b["seq"].clone(), b["hash"].clone()),
        (a["seq"].clone(), a["hash"].clone())
    );
    assert_eq!(b["duplicate"], true);

    let other = seal(
        &visitor.key,
        1,
        1,
        &conv,
        &state,
        Audience::Conversation,
        "twice",
    );
    let (status, c) = env.send(&conv, &visitor.auth, None, other).await;
    assert_eq!(
        (status, c["code"].as_str()),
        (StatusCode::CONFLICT, Some("counter_reused"))
    );

    // The membership moves on (a new agent): new envelopes under the old
    // statements are stale, but a retry of the stored one still gets its seq.
    let _other = env.agent("b@x", "agent", &[env.inbox()]).await;
    let stale = seal(
        &visitor.key,
        1,
        2,
        &conv,
        &state,
        Audience::Conversation,
        "late",
    );
    let (status, d) = env.send(&conv, &visitor.auth, None, stale).await;
    assert_eq!(
        (status, d["code"].as_str()),
        (StatusCode::UNPROCESSABLE_ENTITY, Some("stale_statement"))
    );
    let (status, e) = env.send(&conv, &visitor.auth, None, first.clone()).await;
    assert_eq!(
        (status, e["seq"].clone()),
        (StatusCode::OK, a["seq"].clone()),
        "{e}"
    );

    // Likewise once the conversation is closed.
    sqlx::query("UPDATE conversation SET state = 'closed' WHERE id = ?")
        .bind(conv.id().0.as_slice())
        .execute(&env.state.0.pool)
        .await
        .unwrap();
    // Edited behind the server's back: drop its authorisation cache.
    env.state.0.cache.invalidate();
    let fresh = env.client_state(env.inbox()).await;
    let after_close = seal(
        &visitor.key,
        1,
        3,
        &conv,
        &fresh,
        Audience::Conversation,
        "x",
    );
    let (status, f) = env.send(&conv, &visitor.auth, None, after_close).await;
    assert_eq!(
        (status, f["code"].as_str()),
        (StatusCode::CONFLICT, Some("conversation_closed"))
    );
    let (status, g) = env.send(&conv, &visitor.auth, None, first).await;
    assert_eq!(
        (status, g["duplicate"].as_bool()),
        (StatusCode::OK, Some(true)),
        "{g}"
    );

    let (count,): (i64,) = sqlx::query_as("SELECT count(*) FROM envelope")
        .fetch_one(&env.state.0.pool)
        .await
        .unwrap();
    assert_eq!(count, 1);
}

#[tokio::test]
async fn invalid_misplaced_and_unauthorised_sends_are_refused() {
    let env = Env::new().await;
    let agent = env.agent("a@x", "agent", &[env.inbox()]).await;
    let other_inbox = env.add_inbox().await;
    let outsider = env.agent("o@x", "agent", &[other_inbox]).await;
    let visitor = env.visitor().await;
    let conv = env.start(&visitor, env.inbox()).await;
    let second = env.start(&visitor, env.inbox()).await;
    let state = env.client_state(env.inbox()).await;
    let code = |v: &Value| v["code"].as_str().unwrap().to_owned();

    let mut tampered = seal(
        &visitor.key,
        1,
        1,
        &conv,
        &state,
        Audience::Conversation,
        "hi",
    );
    let at = tampered.len() - 70; // inside the body ciphertext, before the signature
    tampered[at] ^= 1;
    let (status, body) = env.send(&conv, &visitor.auth, None, tampered).await;
    assert_eq!(
        (status, code(&body)),
        (StatusCode::UNPROCESSABLE_ENTITY, "bad_signature".into())
    );

    let for_first = seal(
        &visitor.key,
        1,
        2,
        &conv,
        &state,
        Audience::Conversation,
        "hi",
    );
    let (status, body) = env
        .send(&second, &visitor.auth, None, for_first.clone())
        .await;
    assert_eq!(
        (status, code(&body)),
        (
            StatusCode::UNPROCESSABLE_ENTITY,
            "wrong_conversation".into()
        )
    );

    let (status, body) = env
        .send(&conv, &visitor.auth, None, b"garbage".to_vec())
        .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{body}");

    // Staff must name their own current device, and it must be the signer.
    let (status, body) = env.send(&conv, &agent.auth, None, for_first.clone()).await;
    assert_eq!(
        (status, code(&body)),
        (StatusCode::BAD_REQUEST, "invalid_device_header".into())
    );
    let (status, body) = env
        .send(
            &conv,
            &agent.auth,
            Some(&outsider.device),
            for_first.clone(),
        )
        .await;
    assert_eq!(
        (status, code(&body)),
        (StatusCode::FORBIDDEN, "device_not_allowed".into())
    );
    let (status, body) = env
        .send(&conv, &agent.auth, Some(&agent.device), for_first.clone())
        .await;
    assert_eq!(
        (status, code(&body)),
        (StatusCode::FORBIDDEN, "wrong_sender".into())
    );

    // An agent of another inbox learns nothing, not even existence.
    let (status, body) = env
        .send(
            &conv,
            &outsider.auth,
            Some(&outsider.device),
            for_first.clone(),
        )
        .await;
    assert_eq!(
        (status, code(&body)),
        (StatusCode::NOT_FOUND, "not_found".into())
    );
    let (status, _) = env.catch_up(&conv, &outsider.auth, 0).await;
    assert_eq!(status, StatusCode::NOT_FOUND);

    // Too large, wrong media type.
    let big = vec![0u8; confide_protocol::envelope::MAX_ENVELOPE + 1];
    let (status, body) = env.send(&conv, &visitor.auth, None, big).await;
    assert_eq!(
        (status, code(&body)),
        (StatusCode::PAYLOAD_TOO_LARGE, "payload_too_large".into())
    );
    let mut req = send_request(&conv, &visitor.auth, None, for_first.clone());
    req.headers_mut()
        .insert("content-type", "application/json".parse().unwrap());
    assert_eq!(env.call(req).await.0, StatusCode::UNSUPPORTED_MEDIA_TYPE);

    // A blocked visitor reads but cannot send.
    sqlx::query("UPDATE visitor SET blocked_at = 1 WHERE id = ?")
        .bind(visitor.id)
        .execute(&env.state.0.pool)
        .await
        .unwrap();
    // Edited behind the server's back: drop its authorisation cache.
    env.state.0.cache.invalidate();
    let (status, body) = env.send(&conv, &visitor.auth, None, for_first).await;
    assert_eq!(
        (status, code(&body)),
        (StatusCode::FORBIDDEN, "visitor_blocked".into())
    );
    assert_eq!(
        env.catch_up(&conv, &visitor.auth, 0).await.0,
        StatusCode::OK
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn concurrent_senders_get_one_gapless_order() {
    let env = Env::new().await;
    let agent = env.agent("a@x", "agent", &[env.inbox()]).await;
    let visitor = env.visitor().await;
    let conv = env.start(&visitor, env.inbox()).await;
    let state = env.client_state(env.inbox()).await;
    // 20 senders: 10 on two instances ("tabs") of the visitor's device, 10 on the agent's.
    let mut tasks = Vec::new();
    for task in 0..20u64 {
        let (key, auth, device, instance) = if task < 10 {
            (
                &visitor.key,
                visitor.auth.clone(),
                None,
                1 + (task % 2) as u8,
            )
        } else {
            (&agent.device, agent.auth.clone(), Some(&agent.device), 9)
        };
        let envelopes: Vec<Vec<u8>> = (0..2)
            .map(|i| {
                seal(
                    key,
                    instance,
                    task * 10 + i + 1,
                    &conv,
                    &state,
                    Audience::Conversation,
                    "c",
                )
            })
            .collect();
        let requests: Vec<_> = envelopes
            .into_iter()
            .map(|b| send_request(&conv, &auth, device, b))
            .collect();
        let router = env.router.clone();
        tasks.push(tokio::spawn(async move {
            let mut seqs = Vec::new();
            for req in requests {
                let res = router.clone().oneshot(req).await.unwrap();
                assert_eq!(res.status(), StatusCode::CREATED);
                let body = axum::body::to_bytes(res.into_body(), 1 << 16)
                    .await
                    .unwrap();
                let v: Value = serde_json::from_slice(&body).unwrap();
                seqs.push((
                    v["seq"].as_i64().unwrap(),
                    v["hash"].as_str().unwrap().to_owned(),
                ));
            }
            seqs
        }));
    }
    let mut acked = Vec::new();
    for t in tasks {
        acked.extend(t.await.unwrap());
    }
    acked.sort();
    assert_eq!(
        acked.iter().map(|(s, _)| *s).collect::<Vec<_>>(),
        (1..=40).collect::<Vec<_>>()
    );

    let (_, agent_view) = env.catch_up(&conv, &agent.auth, 0).await;
    let (_, visitor_view) = env.catch_up(&conv, &visitor.auth, 0).await;
    let hashes = |page: &Value| -> Vec<(i64, String)> {
        stored(page)
            .into_iter()
            .map(|(s, b)| {
                let e = confide_protocol::envelope::Envelope::decode(&b).unwrap();
                (s, hex::encode(e.hash().0))
            })
            .collect()
    };
    assert_eq!(
        hashes(&agent_view),
        acked,
        "catch-up is the acknowledged order"
    );
    assert_eq!(hashes(&visitor_view), acked, "everyone sees one order");
}

/// Appends waiting together are committed by one transaction.
#[tokio::test]
async fn waiting_appends_share_one_commit() {
    let env = Env::new().await;
    let visitor = env.visitor().await;
    let conv = env.start(&visitor, env.inbox()).await;
    let delivery = &env.state.0.delivery;
    let before = delivery.stats();
    let appends = (1..=100).map(|counter| {
        delivery.append(confide_server::delivery::Append {
            conversation: conv.id(),
            sender: visitor.key.device_id(),
            instance: InstanceId([1; 16]),
            counter,
            hash: confide_protocol::EnvelopeHash([u8::try_from(counter).unwrap(); 32]),
            audience: 1,
            bytes: axum::body::Bytes::from_static(b"opaque"),
        })
    });
    let outcomes = futures_util::future::join_all(appends).await;
    let seqs: Vec<i64> = outcomes
        .into_iter()
        .map(|o| match o.unwrap() {
            confide_server::delivery::Outcome::Stored { seq } => seq,
            other => panic!("{other:?}"),
        })
        .collect();
    assert_eq!(seqs, (1..=100).collect::<Vec<_>>());
    let after = delivery.stats();
    assert_eq!(after.stored - before.stored, 100);
    assert_eq!(
        after.commits - before.commits,
        1,
        "one fsync'd commit for the batch"
    );
}

#[tokio::test]
async fn internal_notes_never_reach_the_visitor_and_no_plaintext_reaches_the_disk() {
    let env = Env::new().await;
    let agent = env.agent("a@x", "agent", &[env.inbox()]).await;
    let supervisor = env.agent("s@x", "supervisor", &[env.inbox()]).await;
    let visitor = env.visitor().await;
    let conv = env.start(&visitor, env.inbox()).await;
    let state = env.client_state(env.inbox()).await;
    let markers = [
        "MARKER-visitor-7f3a9c",
        "MARKER-agent-2b8e41",
        "MARKER-note-d05c6e",
    ];
    let from_visitor = seal(
        &visitor.key,
        1,
        1,
        &conv,
        &state,
        Audience::Conversation,
        markers[0],
    );
    let from_agent = seal(
        &agent.device,
        2,
        1,
        &conv,
        &state,
        Audience::Conversation,
        markers[1],
    );
    let note = seal(
        &agent.device,
        2,
        2,
        &conv,
        &state,
        Audience::InternalNote,
        markers[2],
    );
    assert_eq!(
        env.send(&conv, &visitor.auth, None, from_visitor.clone())
            .await
            .0,
        StatusCode::CREATED
    );
    assert_eq!(
        env.send(&conv, &agent.auth, Some(&agent.device), from_agent)
            .await
            .0,
        StatusCode::CREATED
    );
    let (status, body) = env
        .send(&conv, &agent.auth, Some(&agent.device), note)
        .await;
    assert_eq!(
        (status, body["seq"].as_i64()),
        (StatusCode::CREATED, Some(3)),
        "{body}"
    );

    let (_, page) = env.catch_up(&conv, &visitor.auth, 0).await;
    assert_eq!(
        stored(&page).iter().map(|(s, _)| *s).collect::<Vec<_>>(),
        [1, 2]
    );
    let (_, page) = env.catch_up(&conv, &supervisor.auth, 0).await;
    let items = stored(&page);
    assert_eq!(items.len(), 3);
    let keys = keyring(&supervisor.device, &state);
    assert_eq!(text_of(&items[2].1, &conv, &state, &keys), markers[2]);

    // The raw database and its WAL hold the envelopes but none of the texts.
    let db = env.dir.path().join(confide_server::db::DB_FILE);
    let mut raw = std::fs::read(&db).unwrap();
    raw.extend(std::fs::read(db.with_extension("sqlite3-wal")).unwrap_or_default());
    let contains = |needle: &[u8]| raw.windows(needle.len()).any(|w| w == needle);
    let signature = &from_visitor[from_visitor.len() - 64..];
    assert!(
        contains(signature),
        "control: the stored envelope is found on disk"
    );
    for m in markers {
        assert!(!contains(m.as_bytes()), "plaintext {m} found on disk");
    }
}

#[tokio::test]
async fn openapi_documents_delivery() {
    let env = Env::new().await;
    let req = Request::get("/api/v1/openapi.json")
        .body(Body::empty())
        .unwrap();
    let (status, doc) = env.call(req).await;
    assert_eq!(status, StatusCode::OK);
    let path = &doc["paths"]["/api/v1/conversations/{id}/envelopes"];
    assert!(
        path["post"].is_object() && path["get"].is_object(),
        "{path}"
    );
    assert!(doc["paths"]["/api/v1/ws"]["get"].is_object());
}
