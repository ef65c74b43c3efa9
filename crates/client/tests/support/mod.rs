//! Shared setup of the SDK integration tests: a real `confide serve`
//! (the server library, in process) on 127.0.0.1 with its SQLite files in
//! a temporary directory, reached only through the SDK over TCP; staff
//! accounts made the way an administrator makes them; a TCP proxy that can
//! cut connections or swallow one answer.
#![allow(
    dead_code,
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::indexing_slicing,
    clippy::panic
)]

use confide_client::admin::NewUser;
use confide_client::{
    Agent, Client, DeviceSecretKey, Event, InboxId, Message, MessageStream, RootFingerprint,
    Visitor,
};
use confide_server::app::AppState;
use confide_server::config::Config;
use std::net::SocketAddr;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::{broadcast, oneshot};

/// How long any single wait in a test may take (generous: a loaded 2-core machine).
pub const PATIENCE: Duration = Duration::from_secs(60);

/// The administrator's password after the first login.
pub const ADMIN_PASSWORD: &str = "admin password for tests";
/// Every other account's password after the first login.
pub const STAFF_PASSWORD: &str = "staff password for tests";

/// Awaits `f`, failing the test after [`PATIENCE`].
pub async fn within<T>(what: &str, f: impl std::future::Future<Output = T>) -> T {
    tokio::time::timeout(PATIENCE, f)
        .await
        .unwrap_or_else(|_| panic!("timed out: {what}"))
}

/// A running server.
pub struct TestServer {
    pub dir: tempfile::TempDir,
    pub addr: SocketAddr,
    pub url: String,
    pub state: AppState,
    pub fingerprint: RootFingerprint,
    admin_password: Option<String>,
    shutdown: Option<oneshot::Sender<()>>,
    task: Option<tokio::task::JoinHandle<()>>,
}

impl TestServer {
    pub async fn start() -> Self {
        Self::start_in(tempfile::tempdir().unwrap()).await
    }

    /// Starts on `dir` (a new organisation if empty).
    pub async fn start_in(dir: tempfile::TempDir) -> Self {
        Self::start_at(dir, "127.0.0.1:0".parse().unwrap()).await
    }

    /// Starts on `dir`, listening on `addr`.
    pub async fn start_at(dir: tempfile::TempDir, addr: SocketAddr) -> Self {
        let config = Config {
            data: dir.path().to_path_buf(),
            listen: "127.0.0.1:0".parse().unwrap(),
            ..Config::default()
        };
        let (state, first) = confide_server::prepare(config).await.unwrap();
        let listener = TcpListener::bind(addr).await.unwrap();
        let addr = listener.local_addr().unwrap();
        let (tx, rx) = oneshot::channel::<()>();
        let serving = state.clone();
        let task = tokio::spawn(async move {
            let stop = async move {
                let _ = rx.await;
            };
            confide_server::serve_on(listener, serving, stop)
                .await
                .unwrap();
        });
        let fingerprint = RootFingerprint::of(&state.0.org.keys.root.public());
        Self {
            dir,
            addr,
            url: format!("http://{addr}"),
            state,
            fingerprint,
            admin_password: first.map(|f| f.admin_password),
            shutdown: Some(tx),
            task: Some(task),
        }
    }

    /// Stops serving (gracefully: the database is closed) and hands back the directory.
    pub async fn stop(mut self) -> tempfile::TempDir {
        if let Some(tx) = self.shutdown.take() {
            let _ = tx.send(());
        }
        if let Some(task) = self.task.take() {
            // Open WebSockets may keep a graceful shutdown waiting; the test does not.
            let _ = tokio::time::timeout(Duration::from_secs(5), task).await;
        }
        self.state.0.pool.close().await;
        self.dir
    }

    /// A new SDK client that pins the server's root fingerprint.
    pub async fn client(&self) -> Client {
        Client::connect(&self.url, self.fingerprint).await.unwrap()
    }

    pub fn default_inbox(&self) -> InboxId {
        self.state.0.org.default_inbox
    }

    /// The administrator, logged in with the one-time password of the
    /// first start, which it changes (call once per server).
    pub async fn admin(&mut self) -> Agent {
        let otp = self.admin_password.take().expect("admin() once per server");
        let client = self.client().await;
        let mut admin = Agent::login(&client, "admin@localhost", &otp)
            .await
            .unwrap();
        assert!(admin.user().must_change_password);
        admin.change_password(&otp, ADMIN_PASSWORD).await.unwrap();
        assert!(!admin.user().must_change_password);
        admin
    }

    /// A staff member created by `admin` with `role` in `inboxes`, logged
    /// in on its own client, password changed, console device registered.
    pub async fn staff(
        &self,
        admin: &Agent,
        email: &str,
        role: &str,
        inboxes: &[InboxId],
    ) -> Agent {
        let (user, otp) = admin
            .create_user(&NewUser {
                email: email.into(),
                display_name: email.into(),
                role: role.into(),
                inboxes: inboxes.to_vec(),
            })
            .await
            .unwrap();
        let client = self.client().await;
        let mut agent = Agent::login(&client, email, otp.expose_secret())
            .await
            .unwrap();
        assert_eq!(agent.user().id, user.id);
        agent
            .change_password(otp.expose_secret(), STAFF_PASSWORD)
            .await
            .unwrap();
        agent
            .register_device(
                DeviceSecretKey::generate(&mut confide_client::rng()),
                "test console",
            )
            .await
            .unwrap();
        agent
    }

    /// A new visitor on its own client.
    pub async fn visitor(&self) -> Visitor {
        let client = self.client().await;
        Visitor::create(
            &client,
            DeviceSecretKey::generate(&mut confide_client::rng()),
        )
        .await
        .unwrap()
    }
}

/// A unique random marker, so that a plaintext can be searched for.
pub fn marker(label: &str) -> String {
    let mut raw = [0u8; 12];
    rand_core::Rng::fill_bytes(&mut confide_client::rng(), &mut raw);
    format!("{label}-{}", hex::encode(raw))
}

/// The next message of `stream`, skipping catch-up, typing, read and
/// reconnect events; a rejected envelope or an error fails the test.
pub async fn next_message(stream: &mut MessageStream) -> Message {
    within("the next message", async {
        loop {
            match stream
                .next()
                .await
                .expect("stream ended")
                .expect("stream error")
            {
                Event::Message(m) => return m,
                Event::Rejected(r) => panic!("rejected envelope {}: {}", r.seq, r.error),
                _ => {}
            }
        }
    })
    .await
}

/// The next `n` messages of `stream`.
pub async fn messages(stream: &mut MessageStream, n: usize) -> Vec<Message> {
    let mut out = Vec::with_capacity(n);
    for _ in 0..n {
        out.push(next_message(stream).await);
    }
    out
}

/// Waits for the stream's first catch-up (the backlog is delivered and
/// the server follows the conversation for this connection).
pub async fn caught_up(stream: &mut MessageStream) -> u64 {
    within("catch-up", async {
        loop {
            match stream
                .next()
                .await
                .expect("stream ended")
                .expect("stream error")
            {
                Event::CaughtUp { seq } => return seq,
                Event::Rejected(r) => panic!("rejected envelope {}: {}", r.seq, r.error),
                _ => {}
            }
        }
    })
    .await
}

/// A TCP proxy in front of the server that can cut every connection or
/// swallow the answer to the next envelope send.
pub struct Proxy {
    pub url: String,
    kill: broadcast::Sender<()>,
    drop_next_send_answer: Arc<AtomicBool>,
}

impl Proxy {
    pub async fn start(upstream: SocketAddr) -> Self {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let (kill, _) = broadcast::channel(4);
        let arm = Arc::new(AtomicBool::new(false));
        let (k, a) = (kill.clone(), arm.clone());
        tokio::spawn(async move {
            while let Ok((conn, _)) = listener.accept().await {
                tokio::spawn(relay(conn, upstream, k.subscribe(), a.clone()));
            }
        });
        Self {
            url: format!("http://{addr}"),
            kill,
            drop_next_send_answer: arm,
        }
    }

    /// Cuts every open connection (new ones are relayed again).
    pub fn cut_all(&self) {
        let _ = self.kill.send(());
    }

    /// The next `POST …/envelopes` reaches the server, but its answer is
    /// swallowed and the connection closed: the client sees a transport error.
    pub fn drop_next_send_answer(&self) {
        self.drop_next_send_answer.store(true, Ordering::SeqCst);
    }
}

async fn relay(
    client: TcpStream,
    upstream: SocketAddr,
    mut kill: broadcast::Receiver<()>,
    arm: Arc<AtomicBool>,
) {
    let Ok(server) = TcpStream::connect(upstream).await else {
        return;
    };
    let (mut cr, mut cw) = client.into_split();
    let (mut sr, mut sw) = server.into_split();
    let swallow = Arc::new(AtomicBool::new(false));
    let swallow_up = swallow.clone();
    let up = async move {
        let mut buf = vec![0u8; 64 * 1024];
        loop {
            let n = match cr.read(&mut buf).await {
                Ok(0) | Err(_) => return,
                Ok(n) => n,
            };
            let chunk = &buf[..n];
            if chunk.starts_with(b"POST ")
                && chunk.windows(11).any(|w| w == b"/envelopes ")
                && arm.swap(false, Ordering::SeqCst)
            {
                swallow_up.store(true, Ordering::SeqCst);
            }
            if sw.write_all(chunk).await.is_err() {
                return;
            }
        }
    };
    let down = async move {
        let mut buf = vec![0u8; 64 * 1024];
        loop {
            let n = match sr.read(&mut buf).await {
                Ok(0) | Err(_) => return,
                Ok(n) => n,
            };
            if swallow.load(Ordering::SeqCst) {
                return; // drops the client's write half: the answer never arrives
            }
            if cw.write_all(&buf[..n]).await.is_err() {
                return;
            }
        }
    };
    tokio::select! {
        _ = async { tokio::join!(up, down) } => {}
        _ = kill.recv() => {}
    }
}
