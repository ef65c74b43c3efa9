//! Server configuration: defaults, an optional TOML file, then environment
//! overrides (`CONFIDE_LISTEN`, `CONFIDE_DATA`, `CONFIDE_PUBLIC_URL`,
//! `CONFIDE_WEB_DIR`), then
//! command-line flags — later sources win.

use serde::Deserialize;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};

/// Everything `confide serve` needs to start.
#[derive(Clone, Debug, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Config {
    /// Address to listen on.
    pub listen: SocketAddr,
    /// Data directory (database, key files).
    pub data: PathBuf,
    /// The URL users reach the server at (printed links, cookie scope).
    pub public_url: Option<String>,
    /// Session lifetime in seconds.
    pub session_ttl_secs: u64,
    /// Largest request body accepted, in bytes.
    pub max_body_bytes: usize,
    /// Abuse limits (`[limits]` in the TOML file).
    pub limits: Limits,
    /// The browser front-ends (`[web]`; `CONFIDE_WEB_DIR`).
    pub web: crate::web::WebConfig,
}

/// Abuse limits. The defaults suit a public website; a load test from one
/// address (`confide bench`) raises them in its own configuration.
#[derive(Clone, Debug, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Limits {
    /// Visitor sessions one client address may create per hour.
    pub visitors_per_address_per_hour: u32,
    /// Sustained envelopes per second one visitor may send.
    pub visitor_sends_per_sec: f64,
    /// Envelopes one visitor may send in a burst.
    pub visitor_send_burst: f64,
}

impl Default for Limits {
    fn default() -> Self {
        Self {
            visitors_per_address_per_hour: 20,
            visitor_sends_per_sec: 10.0,
            visitor_send_burst: 30.0,
        }
    }
}

impl Default for Config {
    fn default() -> Self {
        Self {
            listen: SocketAddr::from(([127, 0, 0, 1], 8080)),
            data: PathBuf::from("./confide-data"),
            public_url: None,
            session_ttl_secs: 12 * 60 * 60,
            max_body_bytes: 1024 * 1024,
            limits: Limits::default(),
            web: crate::web::WebConfig::default(),
        }
    }
}

/// A configuration problem, with the file or variable it came from.
#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    /// The file could not be read.
    #[error("cannot read {path}: {source}")]
    Read {
        /// The file.
        path: PathBuf,
        /// Why.
        source: std::io::Error,
    },
    /// The file is not valid TOML for this configuration.
    #[error("{path}: {source}")]
    Parse {
        /// The file.
        path: PathBuf,
        /// Why.
        source: toml::de::Error,
    },
    /// An environment variable has an invalid value.
    #[error("environment variable {name}: {message}")]
    Env {
        /// The variable.
        name: &'static str,
        /// Why.
        message: String,
    },
}

impl Config {
    /// Loads `file` (if given) over the defaults, then applies environment overrides.
    pub fn load(file: Option<&Path>) -> Result<Self, ConfigError> {
        let mut config = match file {
            None => Config::default(),
            Some(path) => {
                let text = std::fs::read_to_string(path).map_err(|source| ConfigError::Read {
                    path: path.to_path_buf(),
                    source,
                })?;
                toml::from_str(&text).map_err(|source| ConfigError::Parse {
                    path: path.to_path_buf(),
                    source,
                })?
            }
        };
        if let Ok(v) = std::env::var("CONFIDE_LISTEN") {
            config.listen = v.parse().map_err(|e| ConfigError::Env {
                name: "CONFIDE_LISTEN",
                message: format!("{e}"),
            })?;
        }
        if let Ok(v) = std::env::var("CONFIDE_DATA") {
            config.data = PathBuf::from(v);
        }
        if let Ok(v) = std::env::var("CONFIDE_PUBLIC_URL") {
            config.public_url = Some(v);
        }
        config.web.apply_env();
        Ok(config)
    }

    /// The base URL to print and link to.
    pub fn base_url(&self) -> String {
        self.public_url
            .clone()
            .unwrap_or_else(|| format!("http://{}", self.listen))
    }
}
