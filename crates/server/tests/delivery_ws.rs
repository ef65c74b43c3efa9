//! Live delivery over a real WebSocket on loopback: backlog replay then
//! live envelopes without gaps, resume from a seq, first-message visitor
//! authentication, per-subscription access, typing and read markers,
//! internal notes for staff only, slow consumers disconnected.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::indexing_slicing,
    clippy::panic
)]

use axum::http::StatusCode;
use base64::Engine;
use confide_protocol::envelope::Audience;
use futures_util::{SinkExt, StreamExt};
use serde_json::{Value, json};
use std::time::Duration;
use tokio_tungstenite::tungstenite::{self, client::IntoClientRequest};

mod delivery_support;
use delivery_support::*;

type Socket =
    tokio_tungstenite::WebSocketStream<tokio_tungstenite::MaybeTlsStream<tokio::net::TcpStream>>;

async fn serve(env: &Env) -> std::net::SocketAddr {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let router = env.router.clone();
    tokio::spawn(async move { axum::serve(listener, router).await });
    addr
}

async fn ws_connect(addr: std::net::SocketAddr, auth: Option<&str>) -> Socket {
    let mut req = format!("ws://{addr}/api/v1/ws")
        .into_client_request()
        .unwrap();
    if let Some(auth) = auth {
        req.headers_mut()
            .insert("authorization", auth.parse().unwrap());
    }
    tokio_tungstenite::connect_async(req).await.unwrap().0
}

async fn ws_send(ws: &mut Socket, v: Value) {
    ws.send(tungstenite::Message::text(v.to_string()))
        .await
        .unwrap();
}

/// The next JSON message (close frames as `{"type":"close", code, reason}`).
async fn ws_next(ws: &mut Socket) -> Value {
    loop {
        let msg = tokio::time::timeout(Duration::from_secs(10), ws.next())
            .await
            .expect("a message within 10 s")
            .expect("connection open")
            .unwrap();
        match msg {
            tungstenite::Message::Text(t) => return serde_json::from_str(t.as_str()).unwrap(),
            tungstenite::Message::Close(frame) => {
                let frame = frame.unwrap();
                return json!({"type": "close", "code": u16::from(frame.code), "reason": frame.reason.as_str()});
            }
            _ => {}
        }
    }
}

fn ws_envelope(v: &Value) -> (i64, Vec<u8>) {
    assert_eq!(v["type"], "envelope", "{v}");
    let b = base64::engine::general_purpose::STANDARD
        .decode(v["envelope"].as_str().unwrap())
        .unwrap();
    (v["seq"].as_i64().unwrap(), b)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn websocket_replays_streams_resumes_and_drops_slow_consumers() {
    let env = Env::new().await;
    let agent = env.agent("a@x", "agent", &[env.inbox()]).await;
    let outsider_inbox = env.add_inbox().await;
    let visitor = env.visitor().await;
    let conv = env.start(&visitor, env.inbox()).await;
    let hidden = env.start(&env.visitor().await, outsider_inbox).await;
    let state = env.client_state(env.inbox()).await;
    let keys = keyring(&agent.device, &state);
    let conv_hex = conv.id().to_hex();
    let first = seal(
        &visitor.key,
        1,
        1,
        &conv,
        &state,
        Audience::Conversation,
        "before",
    );
    assert_eq!(
        env.send(&conv, &visitor.auth, None, first).await.0,
        StatusCode::CREATED
    );
    let addr = serve(&env).await;

    // The agent authenticates by header, replays the backlog, then streams live.
    let mut staff = ws_connect(addr, Some(&agent.auth)).await;
    assert_eq!(ws_next(&mut staff).await["type"], "ready");
    ws_send(
        &mut staff,
        json!({"type": "subscribe", "conversation": hidden.id().to_hex()}),
    )
    .await;
    let err = ws_next(&mut staff).await;
    assert_eq!(
        (err["type"].as_str(), err["code"].as_str()),
        (Some("error"), Some("not_found"))
    );
    ws_send(
        &mut staff,
        json!({"type": "subscribe", "conversation": conv_hex, "after": 0}),
    )
    .await;
    let (seq, bytes) = ws_envelope(&ws_next(&mut staff).await);
    assert_eq!(
        (seq, text_of(&bytes, &conv, &state, &keys).as_str()),
        (1, "before")
    );
    assert_eq!(
        ws_next(&mut staff).await,
        json!({"type": "subscribed", "conversation": conv_hex, "seq": 1})
    );
    let live = seal(
        &visitor.key,
        1,
        2,
        &conv,
        &state,
        Audience::Conversation,
        "live",
    );
    assert_eq!(
        env.send(&conv, &visitor.auth, None, live).await.0,
        StatusCode::CREATED
    );
    let (seq, bytes) = ws_envelope(&ws_next(&mut staff).await);
    assert_eq!(
        (seq, text_of(&bytes, &conv, &state, &keys).as_str()),
        (2, "live")
    );

    // A visitor's browser authenticates with its first message and resumes after seq 1.
    let mut widget = ws_connect(addr, None).await;
    let token = visitor.auth.strip_prefix("Visitor ").unwrap();
    ws_send(
        &mut widget,
        json!({"type": "auth", "scheme": "visitor", "token": token}),
    )
    .await;
    assert_eq!(ws_next(&mut widget).await["role"], "visitor");
    ws_send(
        &mut widget,
        json!({"type": "subscribe", "conversation": conv_hex, "after": 1}),
    )
    .await;
    assert_eq!(ws_envelope(&ws_next(&mut widget).await).0, 2);
    assert_eq!(ws_next(&mut widget).await["type"], "subscribed");
    // Typing and read markers are relayed; the visitor sees staff as "agent".
    ws_send(
        &mut widget,
        json!({"type": "typing", "conversation": conv_hex}),
    )
    .await;
    assert_eq!(
        ws_next(&mut staff).await,
        json!({"type": "typing", "conversation": conv_hex, "who": "visitor"})
    );
    ws_send(
        &mut staff,
        json!({"type": "read", "conversation": conv_hex, "seq": 2}),
    )
    .await;
    assert_eq!(
        ws_next(&mut widget).await,
        json!({"type": "read", "conversation": conv_hex, "who": "agent", "seq": 2})
    );
    // An internal note goes to staff only.
    let note = seal(
        &agent.device,
        3,
        1,
        &conv,
        &state,
        Audience::InternalNote,
        "note",
    );
    assert_eq!(
        env.send(&conv, &agent.auth, Some(&agent.device), note)
            .await
            .0,
        StatusCode::CREATED
    );
    assert_eq!(ws_envelope(&ws_next(&mut staff).await).0, 3);
    let after_note = seal(
        &visitor.key,
        1,
        3,
        &conv,
        &state,
        Audience::Conversation,
        "after",
    );
    assert_eq!(
        env.send(&conv, &visitor.auth, None, after_note).await.0,
        StatusCode::CREATED
    );
    assert_eq!(
        ws_envelope(&ws_next(&mut widget).await).0,
        4,
        "the note (seq 3) is skipped"
    );
    assert_eq!(ws_envelope(&ws_next(&mut staff).await).0, 4);

    // Bad credentials on the upgrade are refused before any WebSocket exists.
    let mut bad = format!("ws://{addr}/api/v1/ws")
        .into_client_request()
        .unwrap();
    bad.headers_mut()
        .insert("authorization", "Bearer nope".parse().unwrap());
    assert!(tokio_tungstenite::connect_async(bad).await.is_err());

    // A consumer that does not keep up is disconnected, not waited for.
    let fanout = &env.state.0.delivery.fanout;
    for _ in 0..5 * confide_server::delivery::fanout::LISTENER_QUEUE {
        let who = confide_server::delivery::Who::User(0);
        fanout.publish(
            confide_server::delivery::Event::Typing {
                conversation: conv.id(),
                who,
            },
            None,
        );
    }
    let closed = loop {
        let v = ws_next(&mut widget).await;
        if v["type"] == "close" {
            break v;
        }
    };
    assert_eq!(
        (closed["code"].as_u64(), closed["reason"].as_str()),
        (Some(4008), Some("slow_consumer"))
    );
}
