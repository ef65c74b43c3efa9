//! `confide bench`: a load generator built on the SDK (`confide-client`).
//!
//! It starts its own server (`confide serve` as a child process on a
//! temporary data directory, with abuse limits raised for one address) or
//! targets `--server URL`, then:
//!
//! 1. **Setup** (not timed): the administrator creates `--agents` agents,
//!    each logs in and registers a device; `--conversations` visitors each
//!    start a conversation, shared round-robin among the agents; every
//!    party follows its conversations over WebSocket (agents one
//!    connection each, visitors one each). All envelopes are sealed now —
//!    alternately by the visitor and by the agent of each conversation —
//!    so that the timed phase measures the server, not our sealing.
//! 2. **Timed phase**: without `--rate`, every conversation posts its
//!    envelopes back to back (one in flight per conversation, so
//!    `--conversations` concurrent senders) until all are acknowledged;
//!    with `--rate R`, envelopes are posted open-loop at R per second for
//!    `--duration` seconds, each at its scheduled time whether or not
//!    earlier ones were answered (so a slow server cannot hide its
//!    latency by slowing the generator).
//! 3. **Drain**: wait until the other party of every acknowledged
//!    envelope has received it (or 10 s).
//! 4. **Idle** (`--idle-connections N`): open N more authenticated
//!    WebSocket connections (visitor sessions round-robin, each following
//!    its conversation), hold them `--hold` seconds and read the server's
//!    RSS.
//!
//! Latency is from the start of a send to the arrival at the other party
//! (`latency_ms`), and to the acknowledgement (`ack_latency_ms`). Server
//! memory comes from `/proc/PID/status` (the child, or `--server-pid`).

mod report;
mod server;

use clap::Args;
use confide_client::admin::NewUser;
use confide_client::{
    Agent, Client, Conversation, ConversationId, DeviceSecretKey, LiveEvent, LiveSender,
    RawSubscription, RootFingerprint, SealedEnvelope, Visitor,
};
use report::{Idle, Percentiles, Report};
use std::collections::HashMap;
use std::sync::Arc;
use std::time::{Duration, Instant};
use tokio::sync::{Semaphore, mpsc};
use tokio::task::JoinSet;

/// Flags of `confide bench`.
#[derive(Args, Debug)]
pub struct BenchArgs {
    /// Target this server instead of starting one (its limits must allow
    /// the load: `[limits]` in its configuration).
    #[arg(long, value_name = "URL")]
    server: Option<String>,
    /// Root-key fingerprint (hex) of `--server`'s organisation.
    #[arg(long, requires = "server")]
    fingerprint: Option<String>,
    /// Administrator e-mail for `--server`.
    #[arg(long, env = "CONFIDE_BENCH_EMAIL", requires = "server")]
    email: Option<String>,
    /// Administrator password for `--server`.
    #[arg(
        long,
        env = "CONFIDE_BENCH_PASSWORD",
        requires = "server",
        hide_env_values = true
    )]
    password: Option<String>,
    /// Process id of `--server`, to report its memory.
    #[arg(long, requires = "server")]
    server_pid: Option<u32>,
    /// Concurrent conversations.
    #[arg(long, default_value_t = 1000)]
    conversations: usize,
    /// Agents sharing the conversations.
    #[arg(long, default_value_t = 4)]
    agents: usize,
    /// Envelopes per second to post (open loop); 0 = as fast as acknowledged.
    #[arg(long, default_value_t = 0)]
    rate: u64,
    /// Seconds to post at `--rate`.
    #[arg(long, default_value_t = 10.0)]
    duration: f64,
    /// Envelopes to post without `--rate`.
    #[arg(long, default_value_t = 50_000)]
    messages: usize,
    /// Message text (default: `--size` bytes of chat-like text).
    #[arg(long)]
    text: Option<String>,
    /// Message size in bytes when `--text` is not given.
    #[arg(long, default_value_t = 120)]
    size: usize,
    /// Idle WebSocket connections to open and hold at the end.
    #[arg(long, default_value_t = 0)]
    idle_connections: usize,
    /// Seconds to hold the idle connections before measuring.
    #[arg(long, default_value_t = 3.0)]
    hold: f64,
    /// How envelopes are posted: `ws` (a `send` message on each party's
    /// WebSocket) or `http` (`POST …/envelopes`, one request each).
    #[arg(long, value_enum, default_value_t = Transport::Ws)]
    transport: Transport,
    /// Print one JSON object instead of a summary.
    #[arg(long)]
    json: bool,
}

/// How the bench posts envelopes.
#[derive(Clone, Copy, Debug, PartialEq, Eq, clap::ValueEnum, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Transport {
    /// `send` messages on the parties' WebSockets.
    Ws,
    /// One `POST …/envelopes` per envelope.
    Http,
}

/// Runs the benchmark and prints the report.
pub fn run(args: BenchArgs) -> Result<(), String> {
    if args.conversations == 0 || args.agents == 0 {
        return Err("--conversations and --agents must be at least 1".into());
    }
    if !(args.duration.is_finite()
        && args.duration > 0.0
        && args.hold.is_finite()
        && args.hold >= 0.0)
    {
        return Err("--duration must be positive and --hold not negative".into());
    }
    let needed = 2 * args.conversations + args.idle_connections + args.agents + 64;
    if let Some(limit) = server::open_file_limit()
        && limit < u64::try_from(needed).unwrap_or(u64::MAX)
    {
        return Err(format!(
            "this load needs about {needed} open files but `ulimit -n` is {limit}; raise it (ulimit -n {needed})"
        ));
    }
    let target = match &args.server {
        None => {
            let exe = std::env::current_exe()
                .map_err(|e| format!("cannot find the confide executable: {e}"))?;
            server::spawn(&exe)?
        }
        Some(url) => server::Target {
            url: url.clone(),
            fingerprint: args
                .fingerprint
                .clone()
                .ok_or("--server needs --fingerprint")?,
            admin_email: args.email.clone().ok_or("--server needs --email")?,
            admin_password: args.password.clone().ok_or("--server needs --password")?,
            must_change: false,
            child: None,
        },
    };
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .map_err(|e| format!("cannot start the async runtime: {e}"))?;
    let report = runtime.block_on(bench(&args, &target))?;
    if args.json {
        let line = serde_json::to_string(&report).map_err(|e| e.to_string())?;
        println!("{line}");
    } else {
        print!("{}", report.human());
    }
    drop(target);
    Ok(())
}

fn progress(args: &BenchArgs, what: &str) {
    if !args.json {
        eprintln!("bench: {what}");
    }
}

/// Chat-like text of exactly `size` bytes (ASCII).
fn message_text(size: usize) -> String {
    const WORDS: &str =
        "thanks for waiting I checked your order and the parcel left our warehouse this morning ";
    WORDS.chars().cycle().take(size.max(1)).collect()
}

/// One conversation as the bench drives it.
struct Pair {
    id: ConversationId,
    visitor: Arc<Conversation>,
    agent: Arc<Conversation>,
    agent_index: usize,
    /// Each side's WebSocket, for `--transport ws`.
    live: Option<(LiveSender, LiveSender)>,
}

/// One timed send: who sent it and when it started and was acknowledged.
struct Sent {
    conversation: ConversationId,
    seq: u64,
    from_visitor: bool,
    started: Instant,
    acked: Instant,
}

/// One live arrival at a party.
struct Arrival {
    conversation: ConversationId,
    seq: u64,
    at_visitor: bool,
    arrived: Instant,
}

fn err(context: &str) -> impl Fn(confide_client::Error) -> String + '_ {
    move |e| format!("{context}: {e}")
}

async fn bench(args: &BenchArgs, target: &server::Target) -> Result<Report, String> {
    let setup_started = Instant::now();
    let pinned = RootFingerprint::from_hex(&target.fingerprint).map_err(err("fingerprint"))?;
    let client = Client::connect(&target.url, pinned)
        .await
        .map_err(err("connecting"))?;
    let inbox = client.default_inbox();

    // Staff: the administrator creates the agents; each registers a device.
    progress(args, &format!("creating {} agents", args.agents));
    let mut admin = Agent::login(&client, &target.admin_email, &target.admin_password)
        .await
        .map_err(err("administrator login"))?;
    let admin_password = if target.must_change {
        let new = random_password();
        admin
            .change_password(&target.admin_password, &new)
            .await
            .map_err(err("changing the one-time password"))?;
        new
    } else {
        target.admin_password.clone()
    };
    drop(admin_password);
    let run_tag = random_tag();
    let mut agents = Vec::with_capacity(args.agents);
    for i in 0..args.agents {
        let (user, one_time) = admin
            .create_user(&NewUser {
                email: format!("bench-{run_tag}-{i}@bench.invalid"),
                display_name: format!("Bench agent {i}"),
                role: "agent".into(),
                inboxes: vec![inbox],
            })
            .await
            .map_err(err("creating an agent"))?;
        let mut agent = Agent::login(&client, &user.email, one_time.expose_secret())
            .await
            .map_err(err("agent login"))?;
        agent
            .change_password(one_time.expose_secret(), &random_password())
            .await
            .map_err(err("agent password change"))?;
        agent
            .register_device(
                DeviceSecretKey::generate(&mut confide_client::rng()),
                "confide bench",
            )
            .await
            .map_err(err("registering an agent device"))?;
        agents.push(Arc::new(agent));
    }

    // Visitors and their conversations, 32 at a time.
    progress(
        args,
        &format!("starting {} conversations", args.conversations),
    );
    let gate = Arc::new(Semaphore::new(32));
    let mut tasks = JoinSet::new();
    let n_agents = args.agents;
    for i in 0..args.conversations {
        let (client, gate) = (client.clone(), gate.clone());
        let agent = agents.get(i % args.agents).cloned().ok_or("no agent")?;
        tasks.spawn(async move {
            let _permit = gate.acquire_owned().await.map_err(|e| e.to_string())?;
            let visitor = Visitor::create(
                &client,
                DeviceSecretKey::generate(&mut confide_client::rng()),
            )
            .await
            .map_err(err("creating a visitor"))?;
            let chat = visitor
                .start_conversation(inbox)
                .await
                .map_err(err("starting a conversation"))?;
            let agent_side = agent
                .open_conversation(chat.id())
                .await
                .map_err(err("agent opening a conversation"))?;
            Ok::<_, String>((
                i,
                Arc::new(visitor),
                Pair {
                    id: chat.id(),
                    visitor: Arc::new(chat),
                    agent: Arc::new(agent_side),
                    agent_index: i % n_agents,
                    live: None,
                },
            ))
        });
    }
    let mut made = Vec::with_capacity(args.conversations);
    while let Some(joined) = tasks.join_next().await {
        made.push(joined.map_err(|e| e.to_string())??);
    }
    made.sort_by_key(|(i, _, _)| *i);
    let (visitors, mut pairs): (Vec<Arc<Visitor>>, Vec<Pair>) =
        made.into_iter().map(|(_, v, p)| (v, p)).unzip();

    // Live subscriptions: one per agent, one per visitor.
    progress(args, "subscribing");
    let (arrivals_tx, mut arrivals_rx) = mpsc::unbounded_channel::<Arrival>();
    let mut agent_subs: Vec<RawSubscription> = Vec::with_capacity(agents.len());
    for a in &agents {
        agent_subs.push(a.live().await.map_err(err("agent WebSocket"))?);
    }
    for p in &pairs {
        if let Some(sub) = agent_subs.get(p.agent_index) {
            sub.subscribe(p.id, 0);
        }
    }
    let agent_senders: Vec<LiveSender> = agent_subs.iter().map(RawSubscription::sender).collect();
    let mut caught_up_waits = Vec::new();
    let mut listeners = JoinSet::new();
    for (i, sub) in agent_subs.into_iter().enumerate() {
        let expected = pairs.iter().filter(|p| p.agent_index == i).count();
        let (ready_tx, ready_rx) = tokio::sync::oneshot::channel();
        caught_up_waits.push(ready_rx);
        listeners.spawn(listen(sub, false, expected, ready_tx, arrivals_tx.clone()));
    }
    let gate = Arc::new(Semaphore::new(64));
    let mut opening = JoinSet::new();
    for (i, (v, p)) in visitors.iter().zip(&pairs).enumerate() {
        let (v, id, gate) = (v.clone(), p.id, gate.clone());
        opening.spawn(async move {
            let _permit = gate.acquire_owned().await.map_err(|e| e.to_string())?;
            let sub = v.live().await.map_err(err("visitor WebSocket"))?;
            sub.subscribe(id, 0);
            Ok::<_, String>((i, sub))
        });
    }
    while let Some(opened) = opening.join_next().await {
        let (i, sub) = opened.map_err(|e| e.to_string())??;
        if let Some(p) = pairs.get_mut(i)
            && let Some(agent_tx) = agent_senders.get(p.agent_index)
        {
            p.live = Some((sub.sender(), agent_tx.clone()));
        }
        let (ready_tx, ready_rx) = tokio::sync::oneshot::channel();
        caught_up_waits.push(ready_rx);
        listeners.spawn(listen(sub, true, 1, ready_tx, arrivals_tx.clone()));
    }
    drop(arrivals_tx);
    for w in caught_up_waits {
        tokio::time::timeout(Duration::from_secs(60), w)
            .await
            .map_err(|_| "subscriptions did not catch up within 60 s".to_owned())?
            .map_err(|_| "a subscription ended during setup".to_owned())?;
    }

    // Seal everything now, alternately visitor and agent per conversation.
    let text = args.text.clone().unwrap_or_else(|| message_text(args.size));
    let total = if args.rate > 0 {
        #[allow(
            clippy::cast_possible_truncation,
            clippy::cast_sign_loss,
            clippy::cast_precision_loss
        )]
        let n = (args.rate as f64 * args.duration).round() as usize;
        n.max(1)
    } else {
        args.messages.max(1)
    };
    progress(args, &format!("sealing {total} envelopes"));
    let plan = seal_all(&pairs, total, &text).await?;
    let envelope_bytes = plan
        .iter()
        .flatten()
        .map(|(_, s)| s.bytes().len())
        .sum::<usize>()
        / total;
    let setup_s = setup_started.elapsed().as_secs_f64();

    // Timed phase.
    progress(args, "sending");
    let pid = target
        .child
        .as_ref()
        .map(server::ChildServer::pid)
        .or(args.server_pid);
    let cpu_before = (
        server::cpu_time(None),
        pid.and_then(|p| server::cpu_time(Some(p))),
    );
    let (sent, errors, duration) = if args.rate > 0 {
        open_loop(&pairs, plan, args.rate, args.transport).await
    } else {
        closed_loop(&pairs, plan, args.transport).await
    };
    let acked = sent.len();
    let cpu_after = (
        server::cpu_time(None),
        pid.and_then(|p| server::cpu_time(Some(p))),
    );
    let per_msg = |before: Option<Duration>, after: Option<Duration>| {
        let used = after?.checked_sub(before?)?;
        #[allow(clippy::cast_precision_loss)]
        Some(used.as_secs_f64() * 1e6 / acked.max(1) as f64)
    };
    let server_cpu_us_per_msg = per_msg(cpu_before.1, cpu_after.1);
    let generator_cpu_us_per_msg = per_msg(cpu_before.0, cpu_after.0);

    // Drain: wait for the other party of every acknowledged envelope.
    let wanted: HashMap<(ConversationId, u64), (bool, Instant)> = sent
        .iter()
        .map(|s| ((s.conversation, s.seq), (s.from_visitor, s.started)))
        .collect();
    let mut latencies = Vec::with_capacity(acked);
    let deadline = tokio::time::Instant::now() + Duration::from_secs(10);
    while latencies.len() < wanted.len() {
        let Ok(Some(a)) = tokio::time::timeout_at(deadline, arrivals_rx.recv()).await else {
            break;
        };
        if let Some((from_visitor, started)) = wanted.get(&(a.conversation, a.seq))
            && *from_visitor != a.at_visitor
        {
            latencies.push(a.arrived.saturating_duration_since(*started));
        }
    }
    let delivered = latencies.len();
    let ack_latencies = sent
        .iter()
        .map(|s| s.acked.saturating_duration_since(s.started))
        .collect();

    let idle = if args.idle_connections > 0 {
        progress(
            args,
            &format!("opening {} idle connections", args.idle_connections),
        );
        let mut last_seq: HashMap<ConversationId, u64> = HashMap::new();
        for s in &sent {
            let e = last_seq.entry(s.conversation).or_default();
            *e = (*e).max(s.seq);
        }
        Some(
            hold_idle(
                &visitors,
                &pairs,
                &last_seq,
                args.idle_connections,
                args.hold,
                pid,
            )
            .await?,
        )
    } else {
        None
    };
    let rss = pid.and_then(server::rss);
    listeners.abort_all();
    #[allow(clippy::cast_precision_loss)]
    let msgs_per_sec = acked as f64 / duration.as_secs_f64().max(1e-9);
    Ok(Report {
        sent: acked + errors,
        acked,
        delivered,
        errors,
        duration_s: duration.as_secs_f64(),
        msgs_per_sec,
        target_rate: (args.rate > 0).then_some(args.rate),
        latency_ms: Percentiles::of(latencies),
        ack_latency_ms: Percentiles::of(ack_latencies),
        conversations: pairs.len(),
        agents: agents.len(),
        text_bytes: text.len(),
        envelope_bytes,
        server_cpu_us_per_msg,
        generator_cpu_us_per_msg,
        server_rss_bytes: rss.map(|r| r.0),
        server_peak_rss_bytes: rss.map(|r| r.1),
        idle,
        transport: args.transport,
        server: target
            .child
            .as_ref()
            .map_or_else(|| target.url.clone(), |_| "child".into()),
        setup_s,
    })
}

/// Forwards a subscription's envelopes as arrivals; signals once it has
/// caught up on `expected` conversations.
async fn listen(
    mut sub: RawSubscription,
    at_visitor: bool,
    expected: usize,
    ready: tokio::sync::oneshot::Sender<()>,
    out: mpsc::UnboundedSender<Arrival>,
) {
    let mut ready = Some(ready);
    let mut caught_up = 0;
    if expected == 0
        && let Some(r) = ready.take()
    {
        let _ = r.send(());
    }
    while let Some(event) = sub.next().await {
        match event {
            LiveEvent::Envelope(raw) => {
                let _ = out.send(Arrival {
                    conversation: raw.conversation,
                    seq: raw.seq,
                    at_visitor,
                    arrived: raw.arrived,
                });
            }
            LiveEvent::CaughtUp { .. } => {
                caught_up += 1;
                if caught_up >= expected
                    && let Some(r) = ready.take()
                {
                    let _ = r.send(());
                }
            }
            _ => {}
        }
    }
}

/// Per conversation, the envelopes to post in order: (from_visitor, sealed).
type Plan = Vec<Vec<(bool, SealedEnvelope)>>;

async fn seal_all(pairs: &[Pair], total: usize, text: &str) -> Result<Plan, String> {
    let n = pairs.len();
    let mut tasks = JoinSet::new();
    for (i, p) in pairs.iter().enumerate() {
        let count = total / n + usize::from(i < total % n);
        let (v, a, text) = (p.visitor.clone(), p.agent.clone(), text.to_owned());
        tasks.spawn(async move {
            let mut out = Vec::with_capacity(count);
            for k in 0..count {
                let from_visitor = k % 2 == 0;
                let side = if from_visitor { &v } else { &a };
                out.push((
                    from_visitor,
                    side.seal_text(&text).await.map_err(err("sealing"))?,
                ));
            }
            Ok::<_, String>((i, out))
        });
    }
    let mut plan: Plan = (0..n).map(|_| Vec::new()).collect();
    while let Some(joined) = tasks.join_next().await {
        let (i, out) = joined.map_err(|e| e.to_string())??;
        if let Some(slot) = plan.get_mut(i) {
            *slot = out;
        }
    }
    Ok(plan)
}

/// One conversation as a sender: both parties' handles and, for
/// `--transport ws`, their WebSockets.
#[derive(Clone)]
struct Side {
    visitor: Arc<Conversation>,
    agent: Arc<Conversation>,
    live: Option<(LiveSender, LiveSender)>,
    id: ConversationId,
}

impl Side {
    fn of(p: &Pair, transport: Transport) -> Self {
        Self {
            visitor: p.visitor.clone(),
            agent: p.agent.clone(),
            live: if transport == Transport::Ws {
                p.live.clone()
            } else {
                None
            },
            id: p.id,
        }
    }
}

async fn post(
    side: &Side,
    from_visitor: bool,
    sealed: &SealedEnvelope,
    started: Instant,
) -> Option<Sent> {
    let id = side.id;
    let conversation = if from_visitor {
        &side.visitor
    } else {
        &side.agent
    };
    let result = match &side.live {
        Some((visitor_tx, agent_tx)) => {
            let tx = if from_visitor { visitor_tx } else { agent_tx };
            tx.send(conversation, sealed).await
        }
        None => conversation.post_sealed(sealed).await,
    };
    match result {
        Ok(receipt) => Some(Sent {
            conversation: id,
            seq: receipt.seq,
            from_visitor,
            started,
            acked: Instant::now(),
        }),
        Err(e) => {
            eprintln!("bench: a send failed: {e}");
            None
        }
    }
}

/// Every conversation posts its envelopes back to back.
async fn closed_loop(
    pairs: &[Pair],
    plan: Plan,
    transport: Transport,
) -> (Vec<Sent>, usize, Duration) {
    let started = Instant::now();
    let mut tasks = JoinSet::new();
    for (p, envelopes) in pairs.iter().zip(plan) {
        let side = Side::of(p, transport);
        tasks.spawn(async move {
            let mut done = Vec::with_capacity(envelopes.len());
            let mut errors = 0;
            for (from_visitor, sealed) in envelopes {
                match post(&side, from_visitor, &sealed, Instant::now()).await {
                    Some(s) => done.push(s),
                    None => errors += 1,
                }
            }
            (done, errors)
        });
    }
    collect(tasks, started).await
}

/// Posts at `rate` per second, each envelope at its scheduled time.
async fn open_loop(
    pairs: &[Pair],
    plan: Plan,
    rate: u64,
    transport: Transport,
) -> (Vec<Sent>, usize, Duration) {
    // Interleave conversations: envelope k of every conversation, then k+1.
    let mut queues: Vec<std::vec::IntoIter<(bool, SealedEnvelope)>> =
        plan.into_iter().map(Vec::into_iter).collect();
    let mut order = Vec::new();
    loop {
        let before = order.len();
        for (i, q) in queues.iter_mut().enumerate() {
            if let Some(e) = q.next() {
                order.push((i, e));
            }
        }
        if order.len() == before {
            break;
        }
    }
    #[allow(clippy::cast_precision_loss)]
    let interval = Duration::from_secs_f64(1.0 / rate as f64);
    let started = Instant::now();
    let t0 = tokio::time::Instant::now();
    let mut tasks = JoinSet::new();
    for (k, (i, (from_visitor, sealed))) in order.into_iter().enumerate() {
        let Some(p) = pairs.get(i) else { continue };
        let due = t0 + interval.mul_f64(k as f64);
        tokio::time::sleep_until(due).await;
        let scheduled = started + interval.mul_f64(k as f64);
        let side = Side::of(p, transport);
        tasks.spawn(async move {
            match post(&side, from_visitor, &sealed, scheduled).await {
                Some(s) => (vec![s], 0),
                None => (Vec::new(), 1),
            }
        });
    }
    collect(tasks, started).await
}

async fn collect(
    mut tasks: JoinSet<(Vec<Sent>, usize)>,
    started: Instant,
) -> (Vec<Sent>, usize, Duration) {
    let mut sent = Vec::new();
    let mut errors = 0;
    while let Some(joined) = tasks.join_next().await {
        match joined {
            Ok((done, e)) => {
                sent.extend(done);
                errors += e;
            }
            Err(_) => errors += 1,
        }
    }
    (sent, errors, started.elapsed())
}

async fn hold_idle(
    visitors: &[Arc<Visitor>],
    pairs: &[Pair],
    last_seq: &HashMap<ConversationId, u64>,
    n: usize,
    hold: f64,
    pid: Option<u32>,
) -> Result<Idle, String> {
    let rss_before = pid.and_then(server::rss).map(|r| r.0);
    let gate = Arc::new(Semaphore::new(64));
    let mut opening = JoinSet::new();
    for k in 0..n {
        let i = k % visitors.len().max(1);
        let (Some(v), Some(p)) = (visitors.get(i), pairs.get(i)) else {
            continue;
        };
        let (v, id, gate) = (v.clone(), p.id, gate.clone());
        // Follow from the end: an idle tab has seen the backlog already.
        let after = last_seq.get(&p.id).copied().unwrap_or(0);
        opening.spawn(async move {
            let _permit = gate.acquire_owned().await.map_err(|e| e.to_string())?;
            let sub = v.live().await.map_err(err("idle WebSocket"))?;
            sub.subscribe(id, after);
            Ok::<_, String>(sub)
        });
    }
    let mut held = Vec::with_capacity(n);
    while let Some(sub) = opening.join_next().await {
        held.push(sub.map_err(|e| e.to_string())??);
    }
    tokio::time::sleep(Duration::from_secs_f64(hold)).await;
    let rss_held = pid.and_then(server::rss).map(|r| r.0);
    let opened = held.len();
    drop(held);
    Ok(Idle {
        opened,
        rss_before_bytes: rss_before,
        rss_held_bytes: rss_held,
    })
}

fn random_bytes<const N: usize>() -> [u8; N] {
    let mut b = [0u8; N];
    rand_core::Rng::fill_bytes(&mut confide_client::rng(), &mut b);
    b
}

fn random_password() -> String {
    hex::encode(random_bytes::<16>())
}

fn random_tag() -> String {
    hex::encode(random_bytes::<4>())
}
