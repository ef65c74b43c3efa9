//! The server never sees a plaintext: after a conversation through the
//! SDK, the raw bytes of the SQLite database, its WAL and every other file
//! of the data directory, and everything logged in the process (server and
//! SDK, at TRACE level), contain none of the unique markers that were sent
//! — while the agent decrypted every one of them (issue 3, "What it must
//! show", second point).
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::indexing_slicing,
    clippy::panic
)]

mod support;
use support::*;

use std::io::Write;
use std::path::Path;
use std::sync::{Arc, Mutex};

/// Everything the process logs.
#[derive(Clone, Default)]
struct Captured(Arc<Mutex<Vec<u8>>>);

impl Write for Captured {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0.lock().unwrap().extend_from_slice(buf);
        Ok(buf.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

fn contains(haystack: &[u8], needle: &str) -> bool {
    haystack
        .windows(needle.len())
        .any(|w| w == needle.as_bytes())
}

/// Every file under `dir` with its bytes.
fn files(dir: &Path) -> Vec<(String, Vec<u8>)> {
    let mut out = Vec::new();
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        if path.is_dir() {
            out.extend(files(&path));
        } else if let Ok(bytes) = std::fs::read(&path) {
            out.push((path.display().to_string(), bytes));
        }
    }
    out
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn no_plaintext_in_the_database_its_wal_or_the_logs() {
    let logs = Captured::default();
    let writer = logs.clone();
    tracing_subscriber::fmt()
        .with_max_level(tracing::Level::TRACE)
        .with_ansi(false)
        .with_writer(move || writer.clone())
        .init();

    let mut server = TestServer::start().await;
    let admin = server.admin().await;
    let inbox = server.default_inbox();
    let agent = server
        .staff(&admin, "agent@example.com", "agent", &[inbox])
        .await;
    let visitor = server.visitor().await;
    let chat = visitor.start_conversation(inbox).await.unwrap();
    let conversation = agent.open_conversation(chat.id()).await.unwrap();
    let mut live = conversation.subscribe().await.unwrap();

    let mut markers = Vec::new();
    for i in 0..5 {
        let from_visitor = marker(&format!("visitor{i}"));
        chat.send_text(&format!("my card is {from_visitor}"))
            .await
            .unwrap();
        let reply = marker(&format!("agent{i}"));
        conversation.send_text(&reply).await.unwrap();
        let note = marker(&format!("note{i}"));
        conversation.send_note(&note).await.unwrap();
        markers.extend([from_visitor, reply, note]);
    }
    // The parties did read them all (so the markers really travelled).
    let read: Vec<String> = messages(&mut live, markers.len())
        .await
        .iter()
        .map(|m| m.text().to_owned())
        .collect();
    for m in &markers {
        assert!(
            read.iter().any(|t| t.contains(m.as_str())),
            "{m} was delivered"
        );
    }

    // While the server runs: the database and its WAL hold ciphertext only.
    let data = server.dir.path().to_path_buf();
    let db = data.join(confide_server::db::DB_FILE);
    let wal = data.join(format!("{}-wal", confide_server::db::DB_FILE));
    let running: Vec<(String, Vec<u8>)> = files(&data);
    assert!(running.iter().any(|(p, _)| *p == db.display().to_string()));
    assert!(
        running
            .iter()
            .any(|(p, b)| *p == wal.display().to_string() && !b.is_empty()),
        "the WAL exists and was written"
    );
    // Positive control: the search does find what the server may store.
    assert!(
        running
            .iter()
            .any(|(_, b)| contains(b, "agent@example.com")),
        "the agent's e-mail is in the database files"
    );
    // And after a clean stop (WAL checkpointed into the database).
    let dir = server.stop().await;
    let stopped = files(dir.path());
    let logged = logs.0.lock().unwrap().clone();
    assert!(
        contains(&logged, "conversation created"),
        "the logs were captured"
    );
    for m in &markers {
        for (path, bytes) in running.iter().chain(&stopped) {
            assert!(!contains(bytes, m), "{m} found in {path}");
        }
        assert!(!contains(&logged, m), "{m} found in the logs");
    }
}
