//! What `confide bench` measured: latency percentiles and the report,
//! printed for people or as one JSON object.

use serde::Serialize;
use std::time::Duration;

/// Percentiles of a set of durations, in milliseconds.
#[derive(Clone, Copy, Debug, Default, Serialize, PartialEq)]
pub struct Percentiles {
    /// Median.
    pub p50: f64,
    /// 99th percentile.
    pub p99: f64,
    /// Largest.
    pub max: f64,
}

impl Percentiles {
    /// Nearest-rank percentiles; all zero when there is no sample.
    pub fn of(mut samples: Vec<Duration>) -> Self {
        if samples.is_empty() {
            return Self::default();
        }
        samples.sort_unstable();
        let at = |q: f64| -> f64 {
            let n = samples.len();
            // Nearest rank: ceil(q * n), 1-based.
            #[allow(
                clippy::cast_precision_loss,
                clippy::cast_possible_truncation,
                clippy::cast_sign_loss
            )]
            let rank = ((q * n as f64).ceil() as usize).clamp(1, n);
            samples
                .get(rank - 1)
                .map_or(0.0, |d| d.as_secs_f64() * 1000.0)
        };
        Self {
            p50: at(0.50),
            p99: at(0.99),
            max: at(1.0),
        }
    }
}

/// Idle WebSocket connections held at the end.
#[derive(Debug, Default, Serialize)]
pub struct Idle {
    /// Connections opened and authenticated (each following one conversation).
    pub opened: usize,
    /// Server RSS before opening them.
    pub rss_before_bytes: Option<u64>,
    /// Server RSS while holding them.
    pub rss_held_bytes: Option<u64>,
}

/// The whole result (`--json` prints exactly this).
#[derive(Debug, Serialize)]
pub struct Report {
    /// Envelopes posted in the timed phase.
    pub sent: usize,
    /// Of those, acknowledged (durably stored).
    pub acked: usize,
    /// Of those, received live by the conversation's other party.
    pub delivered: usize,
    /// Sends that failed.
    pub errors: usize,
    /// Length of the timed phase, in seconds.
    pub duration_s: f64,
    /// Acknowledged envelopes per second over the timed phase.
    pub msgs_per_sec: f64,
    /// The requested send rate (`null`: as fast as acknowledgements come).
    pub target_rate: Option<u64>,
    /// From the start of a send to its arrival at the other party.
    pub latency_ms: Percentiles,
    /// From the start of a send to its acknowledgement.
    pub ack_latency_ms: Percentiles,
    /// Concurrent conversations.
    pub conversations: usize,
    /// Agents (each with a registered device) sharing them.
    pub agents: usize,
    /// Plaintext bytes per message.
    pub text_bytes: usize,
    /// Mean envelope size on the wire.
    pub envelope_bytes: usize,
    /// Server CPU time (user + system) per acknowledged envelope in the
    /// timed phase, in microseconds: a figure that depends less on what
    /// else the machine runs than throughput does.
    pub server_cpu_us_per_msg: Option<f64>,
    /// The same for this load generator.
    pub generator_cpu_us_per_msg: Option<f64>,
    /// Server resident set size at the end (while idle connections are held).
    pub server_rss_bytes: Option<u64>,
    /// Server peak resident set size.
    pub server_peak_rss_bytes: Option<u64>,
    /// Idle connections, when `--idle-connections` was given.
    pub idle: Option<Idle>,
    /// How envelopes were posted.
    pub transport: super::Transport,
    /// `child` (spawned on a temporary directory) or the server URL.
    pub server: String,
    /// Seconds spent preparing (accounts, conversations, sealing).
    pub setup_s: f64,
}

fn mib(b: Option<u64>) -> String {
    #[allow(clippy::cast_precision_loss)]
    b.map_or_else(
        || "unknown".into(),
        |b| format!("{:.1} MiB", b as f64 / 1048576.0),
    )
}

impl Report {
    /// A few lines for people.
    pub fn human(&self) -> String {
        let mut s = String::new();
        let rate = self.target_rate.map_or_else(
            || "as fast as acknowledged".into(),
            |r| format!("{r} msg/s"),
        );
        s.push_str(&format!(
            "confide bench — {} conversations, {} agents, {} B messages ({} B envelopes), {rate} over {:?}, server: {}\n",
            self.conversations, self.agents, self.text_bytes, self.envelope_bytes, self.transport, self.server
        ));
        s.push_str(&format!(
            "  sent {} · acknowledged {} · delivered {} · errors {} in {:.2} s (setup {:.1} s)\n",
            self.sent, self.acked, self.delivered, self.errors, self.duration_s, self.setup_s
        ));
        s.push_str(&format!(
            "  throughput   {:.0} envelopes/s acknowledged (durably committed)\n",
            self.msgs_per_sec
        ));
        s.push_str(&format!(
            "  delivery     p50 {:.1} ms · p99 {:.1} ms · max {:.1} ms (send → other party)\n",
            self.latency_ms.p50, self.latency_ms.p99, self.latency_ms.max
        ));
        s.push_str(&format!(
            "  acknowledge  p50 {:.1} ms · p99 {:.1} ms · max {:.1} ms\n",
            self.ack_latency_ms.p50, self.ack_latency_ms.p99, self.ack_latency_ms.max
        ));
        if let Some(cpu) = self.server_cpu_us_per_msg {
            s.push_str(&format!(
                "  CPU          server {cpu:.0} µs per envelope · generator {:.0} µs per envelope\n",
                self.generator_cpu_us_per_msg.unwrap_or(f64::NAN)
            ));
        }
        if let Some(idle) = &self.idle {
            s.push_str(&format!(
                "  idle         {} WebSocket connections held: server RSS {} → {}\n",
                idle.opened,
                mib(idle.rss_before_bytes),
                mib(idle.rss_held_bytes)
            ));
        }
        s.push_str(&format!(
            "  server RSS   {} now, {} peak\n",
            mib(self.server_rss_bytes),
            mib(self.server_peak_rss_bytes)
        ));
        s
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn nearest_rank_percentiles() {
        let ms = |v: u64| Duration::from_millis(v);
        let p = Percentiles::of((1..=100).map(ms).collect());
        assert_eq!((p.p50, p.p99, p.max), (50.0, 99.0, 100.0));
        let p = Percentiles::of(vec![ms(7)]);
        assert_eq!((p.p50, p.p99, p.max), (7.0, 7.0, 7.0));
        assert_eq!(Percentiles::of(Vec::new()), Percentiles::default());
    }
}
