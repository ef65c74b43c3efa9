//! The server under test: either a `confide serve` child process on a
//! temporary data directory (its RSS is read from `/proc`), or an existing
//! server named by URL.

use std::io::{BufRead, BufReader};
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

/// Limits written into the child's configuration: one bench process is one
/// address creating thousands of visitors and sending as fast as it can.
const BENCH_LIMITS: &str = "[limits]\n\
visitors_per_address_per_hour = 1000000000\n\
visitor_sends_per_sec = 1000000.0\n\
visitor_send_burst = 1000000.0\n";

/// How to reach the server and log in as its administrator.
pub struct Target {
    /// Base URL (`http://127.0.0.1:PORT`).
    pub url: String,
    /// The organisation root-key fingerprint (hex) to pin.
    pub fingerprint: String,
    /// Administrator e-mail.
    pub admin_email: String,
    /// Administrator password (one-time for a fresh child).
    pub admin_password: String,
    /// Whether the password is one-time and must be changed first.
    pub must_change: bool,
    /// The child process, when we started it.
    pub child: Option<ChildServer>,
}

/// A `confide serve` child; killed when dropped.
pub struct ChildServer {
    child: Child,
    _dir: tempfile::TempDir,
}

impl ChildServer {
    /// The child's process id.
    pub fn pid(&self) -> u32 {
        self.child.id()
    }
}

impl Drop for ChildServer {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Resident and peak resident set size of a process, in bytes.
pub fn rss(pid: u32) -> Option<(u64, u64)> {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).ok()?;
    let field = |name: &str| -> Option<u64> {
        let line = status.lines().find(|l| l.starts_with(name))?;
        let kib: u64 = line.split_whitespace().nth(1)?.parse().ok()?;
        Some(kib * 1024)
    };
    Some((field("VmRSS:")?, field("VmHWM:")?))
}

fn free_port() -> Result<u16, String> {
    let l = std::net::TcpListener::bind("127.0.0.1:0")
        .map_err(|e| format!("cannot find a free loopback port: {e}"))?;
    l.local_addr()
        .map(|a| a.port())
        .map_err(|e| format!("cannot find a free loopback port: {e}"))
}

/// Starts `confide serve` (this same executable) on a temporary data
/// directory and a free loopback port, and reads its first-start banner.
pub fn spawn(exe: &Path) -> Result<Target, String> {
    let dir = tempfile::Builder::new()
        .prefix("confide-bench-")
        .tempdir()
        .map_err(|e| format!("cannot create a temporary data directory: {e}"))?;
    let config = dir.path().join("bench.toml");
    std::fs::write(&config, BENCH_LIMITS)
        .map_err(|e| format!("cannot write {}: {e}", config.display()))?;
    let port = free_port()?;
    let mut child = Command::new(exe)
        .arg("serve")
        .arg("--data")
        .arg(dir.path().join("data"))
        .arg("--listen")
        .arg(format!("127.0.0.1:{port}"))
        .arg("--config")
        .arg(&config)
        .env_remove("CONFIDE_LISTEN")
        .env_remove("CONFIDE_DATA")
        .env_remove("CONFIDE_PUBLIC_URL")
        .env(
            "CONFIDE_KEY_PASSPHRASE",
            "confide bench throwaway passphrase",
        )
        // Warnings only, unless asked: per-request logs would share the
        // terminal and the CPU with the measurement.
        .env(
            "CONFIDE_LOG",
            std::env::var("CONFIDE_LOG").unwrap_or_else(|_| "warn".into()),
        )
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit())
        .spawn()
        .map_err(|e| format!("cannot start {} serve: {e}", exe.display()))?;
    let stdout = child
        .stdout
        .take()
        .ok_or_else(|| "the server's output is not readable".to_owned())?;
    let mut server = ChildServer { child, _dir: dir };
    let (fingerprint, email, password) = read_banner(stdout)?;
    let url = format!("http://127.0.0.1:{port}");
    wait_healthy(&url, &mut server)?;
    Ok(Target {
        url,
        fingerprint,
        admin_email: email,
        admin_password: password,
        must_change: true,
        child: Some(server),
    })
}

/// Reads `root fingerprint`, `log in as` and `one-time password` from the
/// banner, then keeps draining the child's stdout in the background.
fn read_banner(stdout: std::process::ChildStdout) -> Result<(String, String, String), String> {
    let mut lines = BufReader::new(stdout).lines();
    let (mut fp, mut email, mut password) = (None, None, None);
    for line in lines.by_ref() {
        let line = line.map_err(|e| format!("reading the server's banner: {e}"))?;
        let mut words = line.split_whitespace();
        match (words.next(), words.next()) {
            (Some("root"), Some("fingerprint")) => fp = words.next().map(str::to_owned),
            (Some("log"), Some("in")) => email = words.nth(1).map(str::to_owned),
            (Some("one-time"), Some("password")) => password = words.next().map(str::to_owned),
            _ => {}
        }
        if let (Some(f), Some(e), Some(p)) = (&fp, &email, &password) {
            let found = (f.clone(), e.clone(), p.clone());
            std::thread::spawn(move || for _ in lines {});
            return Ok(found);
        }
    }
    Err("the server exited before printing its first-start banner".into())
}

fn wait_healthy(url: &str, server: &mut ChildServer) -> Result<(), String> {
    let addr = url.trim_start_matches("http://");
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        if let Ok(Some(status)) = server.child.try_wait() {
            return Err(format!("the server exited during start-up ({status})"));
        }
        if std::net::TcpStream::connect(addr).is_ok() {
            return Ok(());
        }
        if Instant::now() > deadline {
            return Err("the server did not start listening within 30 s".into());
        }
        std::thread::sleep(Duration::from_millis(50));
    }
}

/// Open files this process may have (`ulimit -n`), from `/proc/self/limits`.
pub fn open_file_limit() -> Option<u64> {
    let limits = std::fs::read_to_string("/proc/self/limits").ok()?;
    let line = limits.lines().find(|l| l.starts_with("Max open files"))?;
    line.split_whitespace().nth(3)?.parse().ok()
}

/// CPU time (user + system) a process has used, from `/proc/PID/stat`.
pub fn cpu_time(pid: Option<u32>) -> Option<std::time::Duration> {
    let path = pid.map_or_else(
        || "/proc/self/stat".to_owned(),
        |p| format!("/proc/{p}/stat"),
    );
    let stat = std::fs::read_to_string(path).ok()?;
    // Fields after the parenthesised command name; utime and stime are 14 and 15.
    let rest = stat.get(stat.rfind(')')? + 2..)?;
    let mut fields = rest.split_whitespace().skip(11);
    let utime: u64 = fields.next()?.parse().ok()?;
    let stime: u64 = fields.next()?.parse().ok()?;
    // Linux reports clock ticks of USER_HZ, which is 100 on every supported architecture.
    Some(std::time::Duration::from_millis((utime + stime) * 10))
}
