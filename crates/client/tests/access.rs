//! Access is enforced by the server *and* by key distribution, through
//! the SDK against a real server: an agent of another inbox can neither
//! see, fetch, follow nor decrypt a conversation; an agent removed from
//! the inbox, or whose device was revoked, cannot decrypt what is sent
//! afterwards, and what it still signs is refused by the server and by
//! every other client (issue 3, "What it must show", third point).
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::indexing_slicing,
    clippy::panic
)]

mod support;
use support::*;

use confide_client::admin::UserUpdate;
use confide_client::{ConversationFilter, LiveEvent};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_agent_of_another_inbox_can_neither_see_fetch_nor_decrypt() {
    let mut server = TestServer::start().await;
    let admin = server.admin().await;
    let inbox = server.default_inbox();
    let other_inbox = admin.create_inbox("Billing").await.unwrap();
    let agent = server
        .staff(&admin, "a@example.com", "agent", &[inbox])
        .await;
    let outsider = server
        .staff(&admin, "b@example.com", "agent", &[other_inbox])
        .await;
    let visitor = server.visitor().await;
    let chat = visitor.start_conversation(inbox).await.unwrap();
    let secret = marker("secret");
    chat.send_text(&secret).await.unwrap();
    let conversation = agent.open_conversation(chat.id()).await.unwrap();
    let raw = conversation.fetch_raw(0).await.unwrap();
    assert_eq!(raw.len(), 1);

    // Not listed, not fetchable (404, as for an id that does not exist).
    let listed = outsider
        .conversations(&ConversationFilter::default())
        .await
        .unwrap();
    assert!(listed.iter().all(|c| c.id != chat.id()));
    let refused = outsider.open_conversation(chat.id()).await.unwrap_err();
    assert_eq!((refused.status(), refused.code()), (Some(404), "not_found"));
    // Not followable over the WebSocket.
    let mut live = outsider.live().await.unwrap();
    live.subscribe(chat.id(), 0);
    let event = within("subscription refusal", live.next()).await.unwrap();
    match event {
        LiveEvent::Failed {
            conversation: Some(id),
            error,
        } => assert_eq!((id, error.code()), (chat.id(), "not_found")),
        other => panic!("expected a refusal, got {other:?}"),
    }
    // Not decryptable: given the bytes and the descriptor, its device
    // verifies the envelope (public) but holds no key it is sealed to.
    let denied = outsider
        .open_envelope(chat.descriptor(), &raw[0].bytes)
        .await
        .unwrap_err();
    assert_eq!(denied.code(), "not_a_recipient");
    // The rightful agent reads the same bytes.
    let opened = agent
        .open_envelope(chat.descriptor(), &raw[0].bytes)
        .await
        .unwrap();
    assert_eq!(opened.text(), secret);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_removed_agent_cannot_read_new_messages_and_its_envelopes_are_refused() {
    let mut server = TestServer::start().await;
    let admin = server.admin().await;
    let inbox = server.default_inbox();
    let stays = server
        .staff(&admin, "stays@example.com", "agent", &[inbox])
        .await;
    let leaves = server
        .staff(&admin, "leaves@example.com", "agent", &[inbox])
        .await;
    let revoked = server
        .staff(&admin, "revoked@example.com", "agent", &[inbox])
        .await;
    let visitor = server.visitor().await;
    let chat = visitor.start_conversation(inbox).await.unwrap();
    let before = marker("before");
    chat.send_text(&before).await.unwrap();
    let by_stays = stays.open_conversation(chat.id()).await.unwrap();
    let by_leaves = leaves.open_conversation(chat.id()).await.unwrap();
    let by_revoked = revoked.open_conversation(chat.id()).await.unwrap();
    for c in [&by_leaves, &by_revoked] {
        assert_eq!(c.history().await.unwrap().messages[0].text(), before);
    }

    // One agent leaves the inbox, another's device is revoked; the server
    // publishes new memberships and a generation neither receives.
    admin
        .update_user(
            leaves.user().id,
            &UserUpdate {
                inboxes: Some(Vec::new()),
                ..UserUpdate::default()
            },
        )
        .await
        .unwrap();
    revoked
        .revoke_device(revoked.device_id().unwrap())
        .await
        .unwrap();

    // What they still sign (with their old, now stale, view) is refused by
    // the server…
    let forged_by_leaver = by_leaves.seal_text("still here?").await.unwrap();
    let forged_by_revoked = by_revoked.seal_text("me too").await.unwrap();
    let e = by_leaves.post_sealed(&forged_by_leaver).await.unwrap_err();
    assert_eq!(
        (e.status(), e.code()),
        (Some(404), "not_found"),
        "out of the inbox"
    );
    let e = by_revoked
        .post_sealed(&forged_by_revoked)
        .await
        .unwrap_err();
    assert_eq!((e.status(), e.code()), (Some(403), "device_not_allowed"));
    // …and by the other clients, which sync and see the sender removed.
    for forged in [&forged_by_leaver, &forged_by_revoked] {
        let e = chat.open_envelope(forged.bytes()).await.unwrap_err();
        assert_eq!(e.code(), "sender_removed");
        let e = by_stays.open_envelope(forged.bytes()).await.unwrap_err();
        assert_eq!(e.code(), "sender_removed");
    }

    // What is sent afterwards is sealed to a generation they never got.
    let after = marker("after");
    let receipt = chat.send_text(&after).await.unwrap();
    let by_stays_history = by_stays.history().await.unwrap();
    let texts: Vec<&str> = by_stays_history.messages.iter().map(|m| m.text()).collect();
    assert_eq!(texts, [before.as_str(), after.as_str()]);
    let bytes = by_stays
        .fetch_raw(receipt.seq - 1)
        .await
        .unwrap()
        .remove(0)
        .bytes;
    for former in [&leaves, &revoked] {
        let e = former
            .open_envelope(chat.descriptor(), &bytes)
            .await
            .unwrap_err();
        assert_eq!(e.code(), "not_a_recipient");
    }
    // The server does not serve it to the one who left, either.
    let e = by_leaves.history().await.unwrap_err();
    assert_eq!(e.code(), "not_found");
}
