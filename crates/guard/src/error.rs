//! The guard's one error type: what was wrong with an input that crossed
//! into the crate (a policy blob, findings or options as JSON).
//!
//! Non-goals: errors never quote message text (it may be the very secret
//! the guard protects).

/// Why a guard input was refused.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
#[non_exhaustive]
pub enum Error {
    /// The JSON does not have the expected shape; the message says where.
    #[error("malformed JSON: {0}")]
    Json(String),
    /// A finding names a kind that is not one of the wire names.
    #[error("unknown finding kind {0:?}")]
    UnknownKind(String),
    /// A finding's span is reversed or not on the text's char boundaries.
    #[error("finding span {start}..{end} does not fit the text")]
    Span {
        /// Start byte.
        start: usize,
        /// End byte.
        end: usize,
    },
    /// A policy of a version this build does not know.
    #[error("unsupported policy version {0}")]
    PolicyVersion(u32),
    /// A direction name that is not `visitor_to_org`, `agent_to_visitor`
    /// or `internal_note`.
    #[error("unknown direction {0:?}")]
    UnknownDirection(String),
}

impl From<serde_json::Error> for Error {
    fn from(e: serde_json::Error) -> Self {
        Error::Json(format!(
            "line {} column {}: {:?}",
            e.line(),
            e.column(),
            e.classify()
        ))
    }
}
