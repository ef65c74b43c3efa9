//! Order and completeness through the SDK against a real server: many
//! concurrent senders in one conversation give one gap-free order that
//! every subscriber and the catch-up see alike (issue 3, "What it must
//! show", fifth point); a live stream whose connection is cut resumes
//! from its last seq without gap or duplicate.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::indexing_slicing,
    clippy::panic
)]

mod support;
use support::*;

use confide_client::{Client, Event, Visitor};
use std::collections::BTreeSet;
use std::sync::Arc;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn concurrent_senders_give_one_gap_free_order_to_everyone() {
    let mut server = TestServer::start().await;
    let admin = server.admin().await;
    let inbox = server.default_inbox();
    let a = server
        .staff(&admin, "a@example.com", "agent", &[inbox])
        .await;
    let b = server
        .staff(&admin, "b@example.com", "supervisor", &[inbox])
        .await;
    let visitor = server.visitor().await;
    let chat = visitor.start_conversation(inbox).await.unwrap();
    let mut subscribers = vec![
        chat.subscribe().await.unwrap(),
        a.open_conversation(chat.id())
            .await
            .unwrap()
            .subscribe()
            .await
            .unwrap(),
        b.open_conversation(chat.id())
            .await
            .unwrap()
            .subscribe()
            .await
            .unwrap(),
    ];

    // Eight sender instances (four per agent), fifty messages each, at once.
    let (tasks, per_task) = (8usize, 50usize);
    let mut senders = Vec::new();
    for i in 0..tasks {
        let agent = if i % 2 == 0 { &a } else { &b };
        let handle = Arc::new(agent.open_conversation(chat.id()).await.unwrap());
        senders.push(tokio::spawn(async move {
            let mut sent = Vec::new();
            for n in 0..per_task {
                let text = format!("task {i} message {n}");
                let receipt = handle.send_text(&text).await.unwrap();
                assert!(!receipt.duplicate);
                sent.push((receipt.seq, text));
            }
            sent
        }));
    }
    let mut acked = Vec::new();
    for s in senders {
        acked.extend(within("senders", s).await.unwrap());
    }
    let total = tasks * per_task;
    acked.sort();
    assert_eq!(
        acked.iter().map(|(s, _)| *s).collect::<Vec<_>>(),
        (1..=total as u64).collect::<Vec<_>>(),
        "every send acknowledged under its own seq, no gap"
    );

    // Every subscriber sees exactly the acknowledged (seq, text) list.
    for stream in &mut subscribers {
        let got: Vec<(u64, String)> = messages(stream, total)
            .await
            .iter()
            .map(|m| (m.seq, m.text().to_owned()))
            .collect();
        assert_eq!(got, acked);
    }
    // And so does catch-up, through each party.
    let history = chat.history().await.unwrap();
    let got: Vec<(u64, String)> = history
        .messages
        .iter()
        .map(|m| (m.seq, m.text().to_owned()))
        .collect();
    assert_eq!(got, acked);
    assert_eq!(history.last_seq, total as u64);
    let instances: BTreeSet<_> = history.messages.iter().map(|m| m.instance).collect();
    assert_eq!(instances.len(), tasks);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_cut_live_connection_resumes_without_gap_or_duplicate() {
    let mut server = TestServer::start().await;
    let admin = server.admin().await;
    let inbox = server.default_inbox();
    let agent = server
        .staff(&admin, "a@example.com", "agent", &[inbox])
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
    let conversation = agent.open_conversation(chat.id()).await.unwrap();
    let mut live = chat.subscribe().await.unwrap();

    let batch = 10u64;
    for n in 0..batch {
        conversation.send_text(&format!("m{n}")).await.unwrap();
    }
    let first = messages(&mut live, batch as usize).await;
    assert_eq!(first.last().unwrap().seq, batch);

    proxy.cut_all();
    for n in batch..2 * batch {
        conversation.send_text(&format!("m{n}")).await.unwrap();
    }
    let (rest, reconnected) = within("resume", async {
        let mut rest = Vec::new();
        let mut reconnected = false;
        while rest.len() < batch as usize {
            match live.next().await.unwrap().unwrap() {
                Event::Message(m) => rest.push((m.seq, m.text().to_owned())),
                Event::Reconnecting { .. } => reconnected = true,
                Event::Rejected(r) => panic!("rejected {}: {}", r.seq, r.error),
                _ => {}
            }
        }
        (rest, reconnected)
    })
    .await;
    assert!(reconnected, "the connection was cut and re-established");
    let expected: Vec<(u64, String)> = (batch..2 * batch)
        .map(|n| (n + 1, format!("m{n}")))
        .collect();
    assert_eq!(rest, expected);
}
