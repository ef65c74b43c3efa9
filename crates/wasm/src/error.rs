//! The one error type of the facade, with stable codes for JavaScript.
//!
//! Protocol and guard errors keep their own codes; the facade's own
//! failures (bad input from the page, state the page has not set up) have
//! theirs. No error carries key material or message text.

use core::fmt;

/// What went wrong in a facade call.
#[derive(Debug)]
#[non_exhaustive]
pub enum Error {
    /// A protocol check failed (its code is the protocol's).
    Protocol(confide_protocol::Error),
    /// The guard refused its input (a policy or findings that do not parse).
    Guard(confide_guard::Error),
    /// An argument is malformed (`what` names it).
    InvalidInput(&'static str),
    /// The server's root key does not have the pinned fingerprint.
    RootKeyMismatch,
    /// [`crate::Device::pin`] was not called first.
    NotPinned,
    /// The conversation was not started or opened on this device.
    UnknownConversation,
    /// The randomness source of the browser failed.
    Randomness,
    /// Internal notes are sent by staff devices only.
    NotStaff,
}

impl Error {
    /// A stable, machine-readable code (`snake_case`).
    pub fn code(&self) -> &'static str {
        match self {
            Error::Protocol(e) => e.code(),
            Error::Guard(_) => "invalid_guard_input",
            Error::InvalidInput(_) => "invalid_input",
            Error::RootKeyMismatch => "root_key_mismatch",
            Error::NotPinned => "not_pinned",
            Error::UnknownConversation => "unknown_conversation",
            Error::Randomness => "randomness_unavailable",
            Error::NotStaff => "not_staff",
        }
    }
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Error::Protocol(e) => write!(f, "{e}"),
            Error::Guard(e) => write!(f, "guard: {e}"),
            Error::InvalidInput(what) => write!(f, "invalid {what}"),
            Error::RootKeyMismatch => f.write_str(
                "the server's root key does not have the pinned fingerprint: refusing to trust it",
            ),
            Error::NotPinned => f.write_str("the organisation's root key is not pinned yet"),
            Error::UnknownConversation => {
                f.write_str("this conversation was not started or opened on this device")
            }
            Error::Randomness => f.write_str("the browser's randomness source failed"),
            Error::NotStaff => f.write_str("only staff devices send internal notes"),
        }
    }
}

impl std::error::Error for Error {}

impl From<confide_protocol::Error> for Error {
    fn from(e: confide_protocol::Error) -> Self {
        Error::Protocol(e)
    }
}

impl From<confide_guard::Error> for Error {
    fn from(e: confide_guard::Error) -> Self {
        Error::Guard(e)
    }
}
