//! `confide`: the one binary. Thin glue: each subcommand parses its
//! arguments and calls a library crate; errors are printed once, here, and
//! set the exit code.

mod bench;
mod guard_cmd;
mod serve_cmd;

use clap::{Parser, Subcommand};
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

fn main() -> ExitCode {
    let cli = Cli::parse();
    let result = match cli.command {
        Command::Serve(args) => serve_cmd::run(args),
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
