//! Acknowledged means durable: a real server process is killed with
//! SIGKILL in the middle of a concurrent send loop over loopback; after a
//! restart on the same data directory every acknowledged envelope is there
//! under the seq it was acknowledged with, and the sequence has no gap.
//!
//! The server process is this test binary itself, re-run with
//! `CONFIDE_TEST_CHILD_DATA` set so that only [`child_server`] serves.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::indexing_slicing,
    clippy::panic
)]

mod delivery_support;
use delivery_support::*;

use confide_protocol::envelope::{Audience, Envelope};
use confide_server::config::Config;
use serde_json::Value;
use std::collections::VecDeque;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};
use tokio::io::{AsyncReadExt, AsyncWriteExt};

const CHILD_DATA: &str = "CONFIDE_TEST_CHILD_DATA";
const CHILD_LISTEN: &str = "CONFIDE_TEST_CHILD_LISTEN";

/// Serves when run as the child process of [`acknowledged_envelopes_survive_sigkill`];
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

/// One HTTP/1.1 POST over a fresh connection: (status, body).
async fn post(
    addr: SocketAddr,
    path: &str,
    headers: &[(&str, String)],
    body: &[u8],
) -> std::io::Result<(u16, Vec<u8>)> {
    let mut stream = tokio::net::TcpStream::connect(addr).await?;
    let mut head = format!(
        "POST {path} HTTP/1.1\r\nHost: {addr}\r\nConnection: close\r\nContent-Length: {}\r\n",
        body.len()
    );
    for (k, v) in headers {
        head.push_str(&format!("{k}: {v}\r\n"));
    }
    head.push_str("\r\n");
    stream.write_all(head.as_bytes()).await?;
    stream.write_all(body).await?;
    let mut response = Vec::new();
    stream.read_to_end(&mut response).await?;
    let text = String::from_utf8_lossy(&response);
    let status = text
        .get(9..12)
        .and_then(|s| s.parse().ok())
        .ok_or_else(|| std::io::Error::other("no status line"))?;
    let body_at = text
        .find("\r\n\r\n")
        .ok_or_else(|| std::io::Error::other("no body"))?;
    Ok((status, response[body_at + 4..].to_vec()))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn acknowledged_envelopes_survive_sigkill() {
    if std::env::var(CHILD_DATA).is_ok() {
        return; // we are the child: only `child_server` runs
    }
    // Set up an agent, a visitor and a conversation, then let go of the database.
    let env = Env::new().await;
    let agent = env.agent("a@x", "agent", &[env.inbox()]).await;
    let visitor = env.visitor().await;
    let conv = env.start(&visitor, env.inbox()).await;
    let state = env.client_state(env.inbox()).await;
    let total = 400u64;
    let envelopes: VecDeque<Vec<u8>> = (1..=total)
        .map(|n| {
            let instance = u8::try_from(n % 4).unwrap();
            seal(
                &agent.device,
                instance,
                n,
                &conv,
                &state,
                Audience::Conversation,
                "m",
            )
        })
        .collect();
    env.state.0.pool.close().await;
    let data = env.dir.path().to_path_buf();

    let addr = {
        let probe = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        probe.local_addr().unwrap()
    };
    let mut child = std::process::Command::new(std::env::current_exe().unwrap())
        .args(["child_server", "--exact", "--nocapture", "--test-threads=1"])
        .env(CHILD_DATA, &data)
        .env(CHILD_LISTEN, addr.to_string())
        .stdout(std::process::Stdio::null())
        .spawn()
        .unwrap();
    let started = Instant::now();
    while tokio::net::TcpStream::connect(addr).await.is_err() {
        assert!(
            started.elapsed() < Duration::from_secs(60),
            "child server did not start"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }

    // Four concurrent senders; each records what was acknowledged.
    let queue = Arc::new(Mutex::new(envelopes));
    let acked: Arc<Mutex<Vec<(i64, String)>>> = Arc::default();
    let path = format!("/api/v1/conversations/{}/envelopes", conv.id().to_hex());
    let headers = vec![
        ("Authorization", agent.auth.clone()),
        ("X-Confide-Device", agent.device.device_id().to_hex()),
        ("Content-Type", "application/octet-stream".to_owned()),
    ];
    let mut senders = Vec::new();
    for _ in 0..4 {
        let (queue, acked, path, headers) =
            (queue.clone(), acked.clone(), path.clone(), headers.clone());
        senders.push(tokio::spawn(async move {
            loop {
                let Some(bytes) = queue.lock().unwrap().pop_front() else {
                    return;
                };
                let Ok((status, body)) = post(addr, &path, &headers, &bytes).await else {
                    return; // the server is gone: this one was not acknowledged
                };
                assert_eq!(status, 201, "{}", String::from_utf8_lossy(&body));
                let v: Value = serde_json::from_slice(&body).unwrap();
                let hash = v["hash"].as_str().unwrap().to_owned();
                assert_eq!(
                    hash,
                    hex::encode(Envelope::decode(&bytes).unwrap().hash().0)
                );
                acked
                    .lock()
                    .unwrap()
                    .push((v["seq"].as_i64().unwrap(), hash));
            }
        }));
    }
    while acked.lock().unwrap().len() < 100 {
        assert!(
            started.elapsed() < Duration::from_secs(120),
            "sends too slow"
        );
        tokio::time::sleep(Duration::from_millis(2)).await;
    }
    child.kill().unwrap(); // SIGKILL: no shutdown, no flush
    child.wait().unwrap();
    for s in senders {
        s.await.unwrap();
    }
    let acked = acked.lock().unwrap().clone();
    assert!(
        acked.len() < usize::try_from(total).unwrap(),
        "killed mid-loop"
    );

    // Restart on the same directory: every acknowledged envelope is there.
    let config = Config {
        data,
        ..Config::default()
    };
    let (state, first) = confide_server::prepare(config).await.unwrap();
    assert!(first.is_none());
    let rows: Vec<(i64, Vec<u8>)> =
        sqlx::query_as("SELECT seq, hash FROM envelope WHERE conversation_id = ? ORDER BY seq")
            .bind(conv.id().0.as_slice())
            .fetch_all(&state.0.pool)
            .await
            .unwrap();
    let stored: Vec<(i64, String)> = rows.into_iter().map(|(s, h)| (s, hex::encode(h))).collect();
    for a in &acked {
        assert!(stored.contains(a), "acknowledged {a:?} lost");
    }
    let seqs: Vec<i64> = stored.iter().map(|(s, _)| *s).collect();
    assert_eq!(
        seqs,
        (1..=i64::try_from(seqs.len()).unwrap()).collect::<Vec<_>>()
    );
    let (last_seq,): (i64,) = sqlx::query_as("SELECT last_seq FROM conversation WHERE id = ?")
        .bind(conv.id().0.as_slice())
        .fetch_one(&state.0.pool)
        .await
        .unwrap();
    assert_eq!(last_seq, i64::try_from(seqs.len()).unwrap());
}
