//! Envelope integrity through the SDK against a real server: a tampered
//! envelope is refused by the server and by clients, a replayed one by
//! clients (and stored only once by the server), and a send whose answer
//! was lost is retried with the same bytes and stored once (issue 3,
//! "What it must show", fourth point).
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::indexing_slicing,
    clippy::panic
)]

mod support;
use support::*;

use confide_client::{Client, Visitor};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn tampered_and_replayed_envelopes_are_refused_and_retries_stored_once() {
    let mut server = TestServer::start().await;
    let admin = server.admin().await;
    let inbox = server.default_inbox();
    let agent = server
        .staff(&admin, "agent@example.com", "agent", &[inbox])
        .await;
    let visitor = server.visitor().await;
    let chat = visitor.start_conversation(inbox).await.unwrap();
    let conversation = agent.open_conversation(chat.id()).await.unwrap();

    // Posting the same sealed envelope twice stores it once.
    let text = marker("once");
    let sealed = chat.seal_text(&text).await.unwrap();
    let first = chat.post_sealed(&sealed).await.unwrap();
    let again = chat.post_sealed(&sealed).await.unwrap();
    assert_eq!((first.seq, first.duplicate), (1, false));
    assert_eq!(
        (again.seq, again.duplicate, again.hash),
        (1, true, first.hash)
    );

    // A bit flipped anywhere breaks the signature: the server refuses it,
    // and so does a client handed the bytes.
    let len = sealed.bytes().len();
    for (at, code) in [
        (5, "wrong_conversation"),
        (len / 2, "bad_signature"),
        (len - 1, "bad_signature"),
    ] {
        let mut tampered = sealed.bytes().to_vec();
        tampered[at] ^= 0x01;
        let e = conversation.open_envelope(&tampered).await.unwrap_err();
        assert_eq!(e.code(), code, "client, byte {at}");
        let e = agent
            .open_envelope(chat.descriptor(), &tampered)
            .await
            .unwrap_err();
        assert_eq!(e.code(), code);
    }
    let mut tampered = sealed.bytes().to_vec();
    let middle = tampered.len() / 2;
    tampered[middle] ^= 0x80;
    let status = reqwest_post(&server, &visitor, chat.id(), tampered).await;
    assert_eq!(status, 422, "the server refuses a tampered envelope");

    // A replay is refused by the client's replay guard.
    let m = conversation.open_envelope(sealed.bytes()).await.unwrap();
    assert_eq!(m.text(), text);
    let e = conversation
        .open_envelope(sealed.bytes())
        .await
        .unwrap_err();
    assert_eq!(e.code(), "replay");

    // The transcript holds the message once.
    let history = conversation.history().await.unwrap();
    assert_eq!(history.messages.len(), 1);
    assert_eq!(history.messages[0].text(), text);
    assert!(history.rejected.is_empty());
}

/// One raw POST of envelope bytes as the visitor (what a buggy or hostile
/// client could send), returning the status.
async fn reqwest_post(
    server: &TestServer,
    visitor: &Visitor,
    conversation: confide_client::ConversationId,
    bytes: Vec<u8>,
) -> u16 {
    let url = format!(
        "{}/api/v1/conversations/{}/envelopes",
        server.url,
        conversation.to_hex()
    );
    let _ = rustls::crypto::ring::default_provider().install_default();
    let res = reqwest::Client::new()
        .post(url)
        .header(
            "authorization",
            format!("Visitor {}", visitor.token().expose_secret()),
        )
        .header("content-type", "application/octet-stream")
        .body(bytes)
        .send()
        .await
        .unwrap();
    res.status().as_u16()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_send_whose_answer_is_lost_is_retried_and_stored_once() {
    let mut server = TestServer::start().await;
    let admin = server.admin().await;
    let inbox = server.default_inbox();
    let agent = server
        .staff(&admin, "agent@example.com", "agent", &[inbox])
        .await;
    let proxy = Proxy::start(server.addr).await;
    let client = Client::connect(&proxy.url, server.fingerprint)
        .await
        .unwrap();
    let visitor = Visitor::create(
        &client,
        confide_client::DeviceSecretKey::generate(&mut confide_client::rng()),
    )
    .await
    .unwrap();
    let chat = visitor.start_conversation(inbox).await.unwrap();

    // The server stores the envelope, the answer never arrives, the SDK
    // retries the same bytes and learns it was stored already.
    proxy.drop_next_send_answer();
    let text = marker("lost-answer");
    let receipt = chat.send_text(&text).await.unwrap();
    assert_eq!((receipt.seq, receipt.duplicate), (1, true));
    let next = chat.send_text("next").await.unwrap();
    assert_eq!((next.seq, next.duplicate), (2, false));

    let history = agent
        .open_conversation(chat.id())
        .await
        .unwrap()
        .history()
        .await
        .unwrap();
    let texts: Vec<&str> = history.messages.iter().map(|m| m.text()).collect();
    assert_eq!(texts, [text.as_str(), "next"]);
}
