//! The SDK's one error type.
//!
//! Every failure is an [`Error`] with a stable [`Error::code`]: the
//! server's own `code` for API errors (with its status and message), the
//! protocol crate's code for a check that failed on this device, or one of
//! this crate's codes. No error carries key material, a token or message
//! plaintext.

use std::fmt;

/// What went wrong.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// The server answered with an error (`{"code", "message"}`).
    #[error("the server refused ({status} {code}): {message}")]
    Api {
        /// HTTP status.
        status: u16,
        /// The server's stable code (`not_found`, `stale_statement`, …).
        code: String,
        /// The server's sentence for humans.
        message: String,
    },
    /// The server could not be reached, or the connection broke.
    #[error("transport: {0}")]
    Transport(String),
    /// A protocol check failed on this device (bad signature, not a
    /// recipient, replay, fork, …); the code names the check.
    #[error("protocol check failed: {0}")]
    Protocol(#[from] confide_protocol::Error),
    /// The server's root key is not the one the caller pinned.
    #[error("the server's root key does not match the pinned fingerprint")]
    RootKeyMismatch,
    /// The server sent something that does not parse.
    #[error("malformed answer from the server: {0}")]
    BadResponse(String),
    /// The caller passed something unusable.
    #[error("invalid input: {0}")]
    InvalidInput(&'static str),
    /// The operation needs a registered device (see `Agent::register_device`).
    #[error("register a device first")]
    NoDevice,
    /// A live subscription ended for good (its credentials were refused, or
    /// it was dropped).
    #[error("the live connection ended: {0}")]
    Closed(String),
}

impl Error {
    /// A stable, machine-readable code (`snake_case`).
    pub fn code(&self) -> &str {
        match self {
            Error::Api { code, .. } => code,
            Error::Transport(_) => "transport",
            Error::Protocol(e) => e.code(),
            Error::RootKeyMismatch => "root_key_mismatch",
            Error::BadResponse(_) => "bad_response",
            Error::InvalidInput(_) => "invalid_input",
            Error::NoDevice => "no_device",
            Error::Closed(_) => "closed",
        }
    }

    /// The HTTP status, for API errors.
    pub fn status(&self) -> Option<u16> {
        match self {
            Error::Api { status, .. } => Some(*status),
            _ => None,
        }
    }

    /// Whether repeating the same request can succeed: transport failures
    /// and server-side (5xx) errors. Sending the same envelope bytes again
    /// is always safe (the server deduplicates).
    pub fn is_transient(&self) -> bool {
        match self {
            Error::Transport(_) => true,
            Error::Api { status, .. } => *status >= 500,
            _ => false,
        }
    }

    pub(crate) fn bad_response(what: impl fmt::Display) -> Self {
        Error::BadResponse(what.to_string())
    }
}

impl From<reqwest::Error> for Error {
    fn from(e: reqwest::Error) -> Self {
        // reqwest errors name the URL (ids only, never tokens: those travel
        // in headers); keep the chain of causes for diagnosis.
        let mut text = e.to_string();
        let mut source = std::error::Error::source(&e);
        while let Some(s) = source {
            text.push_str(": ");
            text.push_str(&s.to_string());
            source = s.source();
        }
        if e.is_decode() {
            Error::BadResponse(text)
        } else {
            Error::Transport(text)
        }
    }
}

impl From<tokio_tungstenite::tungstenite::Error> for Error {
    fn from(e: tokio_tungstenite::tungstenite::Error) -> Self {
        use tokio_tungstenite::tungstenite::Error as WsError;
        match e {
            WsError::Http(response) => {
                let status = response.status().as_u16();
                let body = response
                    .body()
                    .as_deref()
                    .and_then(|b| serde_json::from_slice::<crate::http::ErrorBody>(b).ok());
                match body {
                    Some(b) => Error::Api {
                        status,
                        code: b.code,
                        message: b.message,
                    },
                    None => Error::Api {
                        status,
                        code: format!("http_{status}"),
                        message: "the WebSocket upgrade was refused".into(),
                    },
                }
            }
            other => Error::Transport(other.to_string()),
        }
    }
}

/// Shorthand for SDK results.
pub type Result<T, E = Error> = std::result::Result<T, E>;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn codes_are_stable() {
        let api = Error::Api {
            status: 404,
            code: "not_found".into(),
            message: "conversation not found".into(),
        };
        assert_eq!(api.code(), "not_found");
        assert_eq!(api.status(), Some(404));
        assert!(!api.is_transient());
        assert_eq!(
            Error::Protocol(confide_protocol::Error::Replay).code(),
            "replay"
        );
        assert!(Error::Transport("reset".into()).is_transient());
        assert_eq!(Error::RootKeyMismatch.code(), "root_key_mismatch");
    }
}
