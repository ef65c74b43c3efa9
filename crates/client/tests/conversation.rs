//! A visitor and agents talk through the SDK against a real server on
//! loopback: both directions with verified sender identities, internal
//! notes for staff only, typing and read markers, assignment, transfer,
//! close and reopen; two tabs of one visitor device sending at once lose
//! nothing (issue 3, "What it must show", first point).
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::indexing_slicing,
    clippy::panic
)]

mod support;
use support::*;

use confide_client::{ConversationFilter, Event, IdentityCheck, Role, SenderRole, Who};
use confide_protocol::token::{IdentityClaims, TokenSigningKey, issue_signed};
use std::collections::BTreeSet;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn visitor_and_agents_talk_both_ways_with_verified_senders() {
    let mut server = TestServer::start().await;
    let admin = server.admin().await;
    let inbox = server.default_inbox();
    let agent = server
        .staff(&admin, "agent@example.com", "agent", &[inbox])
        .await;
    let supervisor = server
        .staff(&admin, "lead@example.com", "supervisor", &[inbox])
        .await;
    let visitor = server.visitor().await;

    // The visitor starts a conversation and writes first.
    let chat = visitor.start_conversation(inbox).await.unwrap();
    let hello = marker("hello");
    let receipt = chat.send_text(&hello).await.unwrap();
    assert_eq!((receipt.seq, receipt.duplicate), (1, false));

    // The agent finds it, opens it and sees the visitor's verified message.
    let listed = agent
        .conversations(&ConversationFilter::default())
        .await
        .unwrap();
    assert!(
        listed
            .iter()
            .any(|c| c.id == chat.id() && c.state == "open")
    );
    let conversation = agent.open_conversation(chat.id()).await.unwrap();
    let mut agent_live = conversation.subscribe().await.unwrap();
    let m = next_message(&mut agent_live).await;
    assert_eq!((m.seq, m.text()), (1, hello.as_str()));
    assert_eq!(m.sender.kind, SenderRole::Visitor);
    assert_eq!(m.sender.device, visitor.device_id());
    assert!(m.sender.current && !m.internal && m.identity.is_none());
    assert_eq!(caught_up(&mut agent_live).await, 1);

    // Assignment, then the agent answers; the visitor sees a certified agent.
    let info = conversation.assign(agent.user().id).await.unwrap();
    assert_eq!(
        (info.state.as_str(), info.assignee),
        ("assigned", Some(agent.user().id))
    );
    let mut visitor_live = chat.subscribe().await.unwrap();
    assert_eq!(next_message(&mut visitor_live).await.text(), hello);
    assert_eq!(caught_up(&mut visitor_live).await, 1);
    let answer = marker("answer");
    assert_eq!(conversation.send_text(&answer).await.unwrap().seq, 2);
    for live in [&mut visitor_live, &mut agent_live] {
        let m = next_message(live).await;
        assert_eq!((m.seq, m.text()), (2, answer.as_str()));
        assert_eq!(
            m.sender.kind,
            SenderRole::Member {
                role: Role::Agent,
                alias: "Support agent".into()
            }
        );
        assert_eq!(Some(m.sender.device), agent.device_id());
        assert!(m.sender.current);
    }

    // An internal note reaches staff only; the visitor's next message is seq 4.
    let note = marker("note");
    assert_eq!(conversation.send_note(&note).await.unwrap().seq, 3);
    let m = next_message(&mut agent_live).await;
    assert_eq!((m.seq, m.text(), m.internal), (3, note.as_str(), true));
    assert!(chat.send_note("visitors cannot").await.is_err());
    let again = marker("again");
    chat.send_text(&again).await.unwrap();
    let m = next_message(&mut visitor_live).await;
    assert_eq!(
        (m.seq, m.text()),
        (4, again.as_str()),
        "the note is skipped"
    );
    assert_eq!(next_message(&mut agent_live).await.seq, 4);
    let visitor_view = chat.history().await.unwrap();
    assert_eq!(
        visitor_view
            .messages
            .iter()
            .map(|m| m.seq)
            .collect::<Vec<_>>(),
        [1, 2, 4]
    );
    assert!(visitor_view.rejected.is_empty());
    let staff_view = conversation.history().await.unwrap();
    assert_eq!(staff_view.messages.len(), 4);
    assert!(staff_view.messages[2].internal);

    // Typing and read markers travel as metadata.
    visitor_live.typing();
    let who = within("typing", async {
        loop {
            if let Event::Typing { who } = agent_live.next().await.unwrap().unwrap() {
                return who;
            }
        }
    })
    .await;
    assert_eq!(who, Who::Visitor);
    agent_live.mark_read(4);
    let (who, seq) = within("read", async {
        loop {
            if let Event::Read { who, seq } = visitor_live.next().await.unwrap().unwrap() {
                return (who, seq);
            }
        }
    })
    .await;
    assert_eq!((who, seq), (Who::Agent, 4));

    // A supervisor takes over; the visitor closes; sending needs a reopen.
    let by_supervisor = supervisor.open_conversation(chat.id()).await.unwrap();
    let info = by_supervisor.transfer(supervisor.user().id).await.unwrap();
    assert_eq!(info.assignee, Some(supervisor.user().id));
    let supervised = marker("supervised");
    by_supervisor.send_text(&supervised).await.unwrap();
    let m = next_message(&mut visitor_live).await;
    assert_eq!(m.text(), supervised);
    assert_eq!(Some(m.sender.device), supervisor.device_id());
    assert!(matches!(
        m.sender.kind,
        SenderRole::Member {
            role: Role::Supervisor,
            ..
        }
    ));
    assert_eq!(next_message(&mut agent_live).await.text(), supervised);
    assert_eq!(chat.close().await.unwrap().state, "closed");
    let refused = chat.send_text("after closing").await.unwrap_err();
    assert_eq!(
        (refused.status(), refused.code()),
        (Some(409), "conversation_closed")
    );
    assert_eq!(chat.reopen().await.unwrap().state, "assigned");
    let reopened = marker("reopened");
    chat.send_text(&reopened).await.unwrap();
    assert_eq!(next_message(&mut agent_live).await.text(), reopened);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_tabs_of_one_visitor_send_at_once_and_lose_nothing() {
    let mut server = TestServer::start().await;
    let admin = server.admin().await;
    let inbox = server.default_inbox();
    let agent = server
        .staff(&admin, "agent@example.com", "agent", &[inbox])
        .await;
    let visitor = server.visitor().await;
    let tab1 = visitor.start_conversation(inbox).await.unwrap();
    let tab2 = visitor.open_conversation(tab1.id()).await.unwrap();
    assert_ne!(tab1.instance(), tab2.instance());
    let conversation = agent.open_conversation(tab1.id()).await.unwrap();
    let mut streams = vec![
        tab1.subscribe().await.unwrap(),
        tab2.subscribe().await.unwrap(),
        conversation.subscribe().await.unwrap(),
    ];

    // 2 × 12 stays inside the server's visitor burst allowance.
    let per_tab: u64 = 12;
    async fn send_all(
        tab: &confide_client::Conversation,
        name: &str,
        n: u64,
    ) -> (Vec<String>, Vec<u64>) {
        let texts: Vec<String> = (0..n).map(|i| marker(&format!("{name}-{i}"))).collect();
        let mut seqs = Vec::new();
        for t in &texts {
            seqs.push(tab.send_text(t).await.unwrap().seq);
        }
        (texts, seqs)
    }
    let ((texts1, seqs1), (texts2, seqs2)) = within("both tabs send", async {
        tokio::join!(
            send_all(&tab1, "tab1", per_tab),
            send_all(&tab2, "tab2", per_tab)
        )
    })
    .await;
    let mut sent: BTreeSet<String> = texts1.into_iter().collect();
    sent.extend(texts2);
    let acked: BTreeSet<u64> = seqs1.into_iter().chain(seqs2).collect();
    assert_eq!(acked, (1..=2 * per_tab).collect(), "one seq each, no gap");

    let mut seen = Vec::new();
    for stream in &mut streams {
        let got = messages(stream, 2 * per_tab as usize).await;
        let order: Vec<(u64, String)> = got.iter().map(|m| (m.seq, m.text().to_owned())).collect();
        let texts: BTreeSet<String> = order.iter().map(|(_, t)| t.clone()).collect();
        assert_eq!(texts, sent, "every message exactly once");
        assert!(got.iter().all(|m| m.sender.device == visitor.device_id()));
        let instances: BTreeSet<_> = got.iter().map(|m| m.instance).collect();
        assert_eq!(instances, [tab1.instance(), tab2.instance()].into());
        seen.push(order);
    }
    assert!(seen.windows(2).all(|w| w[0] == w[1]), "one order for all");
    let history = conversation.history().await.unwrap();
    let order: Vec<(u64, String)> = history
        .messages
        .iter()
        .map(|m| (m.seq, m.text().to_owned()))
        .collect();
    assert_eq!(order, seen[0]);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_identity_token_travels_end_to_end_and_is_checked_by_the_agent() {
    let mut server = TestServer::start().await;
    let admin = server.admin().await;
    let inbox = server.default_inbox();
    let agent = server
        .staff(&admin, "agent@example.com", "agent", &[inbox])
        .await;
    let visitor = server.visitor().await;
    // A token from a backend key the organisation never listed.
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs();
    let claims = IdentityClaims {
        key_id: "backend-1".into(),
        org: server.state.0.org.id,
        inbox,
        subject: "customer-42".into(),
        name: "Ada".into(),
        email: "ada@example.com".into(),
        issued_at: confide_protocol::Timestamp(now),
        expires_at: confide_protocol::Timestamp(now + 300),
        token_id: [7; 16],
        visitor_device: visitor.device_id(),
    };
    let token = issue_signed(
        claims,
        &TokenSigningKey::generate(&mut confide_client::rng()),
    )
    .unwrap()
    .encode();
    let chat = visitor
        .start_verified_conversation(inbox, token)
        .await
        .unwrap();
    chat.send_text("first, with the token").await.unwrap();
    chat.send_text("second, without").await.unwrap();
    let history = agent
        .open_conversation(chat.id())
        .await
        .unwrap()
        .history()
        .await
        .unwrap();
    assert!(matches!(
        history.messages[0].identity,
        Some(IdentityCheck::Invalid(_))
    ));
    assert_eq!(history.messages[1].identity, None);
}
