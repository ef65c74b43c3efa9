//! `confide serve`: zero-configuration start of the server.

use clap::Args;
use confide_server::config::Config;
use std::net::SocketAddr;
use std::path::PathBuf;

/// Flags of `confide serve` (they override the config file and environment).
#[derive(Args, Debug)]
pub struct ServeArgs {
    /// Data directory (database and key files) [default: ./confide-data].
    #[arg(long)]
    data: Option<PathBuf>,
    /// Address to listen on [default: 127.0.0.1:8080].
    #[arg(long)]
    listen: Option<SocketAddr>,
    /// Optional TOML configuration file.
    #[arg(long)]
    config: Option<PathBuf>,
}

/// Runs the server until Ctrl-C or SIGTERM.
pub fn run(args: ServeArgs) -> Result<(), String> {
    let mut config = Config::load(args.config.as_deref()).map_err(|e| e.to_string())?;
    if let Some(d) = args.data {
        config.data = d;
    }
    if let Some(l) = args.listen {
        config.listen = l;
    }
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .map_err(|e| format!("cannot start the async runtime: {e}"))?;
    runtime.block_on(async move {
        let base = config.base_url();
        let data = config.data.clone();
        let (state, first) = confide_server::prepare(config)
            .await
            .map_err(|e| e.to_string())?;
        let org = &state.0.org;
        println!("Confide is running (managed mode) — data in {}", data.display());
        println!("  organisation      {}", org.id);
        println!(
            "  root fingerprint  {}",
            hex::encode(org.keys.root.public().fingerprint())
        );
        println!("  health            {base}/healthz");
        println!("  API description   {base}/api/v1/openapi.json");
        if state.0.config.web.is_built() {
            println!("  agent console     {base}/console");
            println!("  demo page         {base}/demo   (a company page with the chat widget)");
        } else {
            println!(
                "  agent console     (not built: run ./scripts/web-build, or start with ./scripts/run; web files expected in {})",
                state.0.config.web.dir.display()
            );
        }
        match first {
            Some(f) => {
                println!("First start: an administrator account was created.");
                println!("  log in as         {}", f.admin_email);
                println!("  one-time password {}   (shown only now; change it at first login)", f.admin_password);
            }
            None => println!("  log in with the administrator account created at the first start"),
        }
        println!("Managed mode: the root key is in {}/keys/ — whoever controls this server can certify devices.", data.display());
        confide_server::serve(state, shutdown_signal())
            .await
            .map_err(|e| e.to_string())?;
        println!("Confide stopped cleanly.");
        Ok(())
    })
}

async fn shutdown_signal() {
    let ctrl_c = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    #[cfg(unix)]
    let term = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut s) => {
                s.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    #[cfg(not(unix))]
    let term = std::future::pending::<()>();
    tokio::select! {
        () = ctrl_c => {},
        () = term => {},
    }
}
