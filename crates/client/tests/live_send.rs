//! Sending over the WebSocket (`RawSubscription::send` / `LiveSender`):
//! the same durability, idempotency and authorisation as the REST send.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::indexing_slicing,
    clippy::panic
)]

mod support;
use support::*;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sends_over_the_websocket_are_acknowledged_once_and_authorised() {
    let mut server = TestServer::start().await;
    let admin = server.admin().await;
    let inbox = server.default_inbox();
    let other_inbox = admin.create_inbox("Billing").await.unwrap();
    let agent = server
        .staff(&admin, "agent@example.com", "agent", &[inbox])
        .await;
    let outsider = server
        .staff(&admin, "billing@example.com", "agent", &[other_inbox])
        .await;
    let visitor = server.visitor().await;
    let chat = visitor.start_conversation(inbox).await.unwrap();
    let reply = agent.open_conversation(chat.id()).await.unwrap();

    // The visitor's socket: acknowledged, then the very same bytes again
    // are the same seq, marked duplicate.
    let visitor_live = within("visitor socket", visitor.live()).await.unwrap();
    let text = marker("over-ws");
    let sealed = chat.seal_text(&text).await.unwrap();
    let first = within("ws send", visitor_live.send(&chat, &sealed))
        .await
        .unwrap();
    let again = within("ws resend", visitor_live.sender().send(&chat, &sealed))
        .await
        .unwrap();
    assert_eq!((first.seq, first.duplicate), (1, false));
    assert_eq!(
        (again.seq, again.duplicate, again.hash),
        (1, true, first.hash)
    );
    // …and over REST too: one idempotency key, whichever path.
    let rest = chat.post_sealed(&sealed).await.unwrap();
    assert_eq!((rest.seq, rest.duplicate), (1, true));

    // Staff sends name their device; the server checks it as for REST.
    let agent_live = within("agent socket", agent.live()).await.unwrap();
    let answer = marker("agent-over-ws");
    let sealed_reply = reply.seal_text(&answer).await.unwrap();
    let second = within("agent ws send", agent_live.send(&reply, &sealed_reply))
        .await
        .unwrap();
    assert_eq!((second.seq, second.duplicate), (2, false));

    // An agent of another inbox cannot send into it over its socket either,
    // and learns nothing but "not found".
    let outsider_live = within("outsider socket", outsider.live()).await.unwrap();
    let refused = within("outsider send", outsider_live.send(&reply, &sealed_reply))
        .await
        .unwrap_err();
    assert_eq!((refused.status(), refused.code()), (Some(404), "not_found"));

    // Both messages are stored once, in order, and open on the agent's side.
    let transcript = reply.history().await.unwrap();
    let texts: Vec<String> = transcript
        .messages
        .iter()
        .map(|m| m.text().to_owned())
        .collect();
    assert_eq!(texts, vec![text, answer]);
    assert!(transcript.rejected.is_empty());
}
