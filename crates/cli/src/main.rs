//! `confide`: the one binary. Thin glue: each subcommand parses its
//! arguments and calls a library crate; errors are printed once, here, and
//! set the exit code.

mod bench;
mod guard_cmd;
mod serve_cmd;

use clap::{Parser, Subcommand};

/// mimalloc instead of the system allocator: the server allocates many
/// small, short-lived buffers per request, and glibc's malloc showed up as
/// about a seventh of its CPU time under load (`confide bench`).
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

use std::process::ExitCode;

/// Confide: end-to-end encrypted customer-service chat.
#[derive(Parser, Debug)]
#[command(name = "confide", version, about)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand, Debug)]
enum Command {
    /// Run the server: zero configuration, SQLite in ./confide-data, 127.0.0.1:8080.
    Serve(serve_cmd::ServeArgs),
    /// Load-test a server through the SDK (spawns one unless --server is given).
    Bench(bench::BenchArgs),
    /// Data-loss-prevention and link-safety tools.
    Guard {
        #[command(subcommand)]
        command: guard_cmd::GuardCommand,
    },
}

/// Server logs on stderr: `info` and up unless `CONFIDE_LOG` (an
/// `EnvFilter` directive such as `debug` or `confide_server=trace`) says
/// otherwise. The server logs events and identifiers, never message
/// content (it has none to log: envelopes are opaque to it).
fn init_logging() {
    let filter = tracing_subscriber::EnvFilter::try_from_env("CONFIDE_LOG")
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info"));
    let _ = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        .with_ansi(std::io::IsTerminal::is_terminal(&std::io::stderr()))
        .try_init();
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    let result = match cli.command {
        Command::Serve(args) => {
            init_logging();
            serve_cmd::run(args)
        }
        Command::Guard { command } => guard_cmd::run(command),
        Command::Bench(args) => bench::run(args),
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("confide: {e}");
            ExitCode::FAILURE
        }
    }
}
