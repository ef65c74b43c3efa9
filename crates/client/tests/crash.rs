//! Acknowledged means durable, end to end: SDK senders write into a
//! conversation while the server process is killed with SIGKILL; after a
//! restart on the same data directory and address, the same SDK handles
//! read every acknowledged message back, under the seq and hash it was
//! acknowledged with, in a gap-free order, and carry on sending (issue 3,
//! "What it must show", sixth point; the server-level variant is
//! `crates/server/tests/delivery_crash.rs`).
//!
//! The killed server is this test binary itself, re-run with
//! `CONFIDE_SDK_TEST_CHILD_DATA` set so that only [`child_server`] serves.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::indexing_slicing,
    clippy::panic
)]

mod support;
use support::*;

use confide_server::config::Config;
use std::collections::BTreeMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

const CHILD_DATA: &str = "CONFIDE_SDK_TEST_CHILD_DATA";
const CHILD_LISTEN: &str = "CONFIDE_SDK_TEST_CHILD_LISTEN";

/// Serves when run as the child of [`acknowledged_sends_survive_sigkill`];
/// passes trivially otherwise.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn child_server() {
    let (Ok(data), Ok(listen)) = (std::env::var(CHILD_DATA), std::env::var(CHILD_LISTEN)) else {
        return;
    };
    let config = Config {
        data: data.into(),
        listen: listen.parse().unwrap(),
        ..Config::default()
    };
    let (state, _) = confide_server::prepare(config).await.unwrap();
    confide_server::serve(state, std::future::pending())
        .await
        .unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn acknowledged_sends_survive_sigkill() {
    if std::env::var(CHILD_DATA).is_ok() {
        return; // we are the child: only `child_server` runs
    }
    let mut server = TestServer::start().await;
    let admin = server.admin().await;
    let inbox = server.default_inbox();
    let agent = server
        .staff(&admin, "a@example.com", "agent", &[inbox])
        .await;
    let visitor = server.visitor().await;
    let chat = visitor.start_conversation(inbox).await.unwrap();
    let mut handles = Vec::new();
    for _ in 0..4 {
        handles.push(Arc::new(agent.open_conversation(chat.id()).await.unwrap()));
    }
    let addr = server.addr;
    let dir = server.stop().await;

    // The same data directory and address, served by a process we can kill.
    let mut child = std::process::Command::new(std::env::current_exe().unwrap())
        .args(["child_server", "--exact", "--nocapture", "--test-threads=1"])
        .env(CHILD_DATA, dir.path())
        .env(CHILD_LISTEN, addr.to_string())
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .spawn()
        .unwrap();
    let started = Instant::now();
    while tokio::net::TcpStream::connect(addr).await.is_err() {
        assert!(
            started.elapsed() < PATIENCE,
            "the child server did not start"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }

    // Four SDK senders; each records what was acknowledged, until the server is gone.
    let acked: Arc<Mutex<Vec<(u64, confide_client::EnvelopeHash, String)>>> = Arc::default();
    let mut senders = Vec::new();
    for (i, handle) in handles.iter().enumerate() {
        let (handle, acked) = (handle.clone(), acked.clone());
        senders.push(tokio::spawn(async move {
            for n in 0..2000 {
                let text = format!("sender {i} message {n}");
                match handle.send_text(&text).await {
                    Ok(r) => acked.lock().unwrap().push((r.seq, r.hash, text)),
                    Err(_) => return, // the server is gone: not acknowledged
                }
            }
        }));
    }
    while acked.lock().unwrap().len() < 60 {
        assert!(started.elapsed() < PATIENCE, "sends too slow");
        tokio::time::sleep(Duration::from_millis(2)).await;
    }
    child.kill().unwrap(); // SIGKILL: no shutdown, no flush
    child.wait().unwrap();
    for s in senders {
        within("senders stop", s).await.unwrap();
    }
    let acked = acked.lock().unwrap().clone();
    assert!(acked.len() < 4 * 2000, "killed mid-loop");

    // Restart in process on the same directory and address: the very same
    // SDK handles read everything back, then send on.
    let server = TestServer::start_at(dir, addr).await;
    let history = handles[0].history().await.unwrap();
    assert!(history.rejected.is_empty());
    let stored: BTreeMap<u64, (confide_client::EnvelopeHash, String)> = history
        .messages
        .iter()
        .map(|m| (m.seq, (m.hash, m.text().to_owned())))
        .collect();
    for (seq, hash, text) in &acked {
        assert_eq!(
            stored.get(seq),
            Some(&(*hash, text.clone())),
            "acknowledged seq {seq} lost or changed"
        );
    }
    let seqs: Vec<u64> = stored.keys().copied().collect();
    assert_eq!(seqs, (1..=seqs.len() as u64).collect::<Vec<_>>(), "no gap");
    let next = handles[1].send_text("after the restart").await.unwrap();
    assert_eq!(next.seq, seqs.len() as u64 + 1);
    server.stop().await;
}
