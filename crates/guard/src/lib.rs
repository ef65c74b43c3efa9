//! Confide's guard: everything that judges message *content*, on the
//! device, because the server cannot read messages.
//!
//! - [`scan`] runs every detector over a message in one pass and returns
//!   [`Finding`]s (kind, byte span on char boundaries, matched text, a
//!   one-sentence explanation, a masked form).
//! - [`link`] extracts and judges URLs and bare domains (`safe` / `caution`
//!   / `danger` with reasons).
//! - [`policy`] decides allow / warn / mask / block per direction and kind;
//!   it is serializable so it can travel in the signed inbox membership.
//!
//! No I/O, no clock, no randomness; compiles natively and for
//! `wasm32-unknown-unknown`. Neighbours: the web widget and console call it
//! through WebAssembly before encrypting (DLP) and before opening a link;
//! the `confide guard scan` command exposes it on the command line.
#![forbid(unsafe_code)]
#![warn(missing_docs)]

pub mod detect;
mod error;
pub mod finding;
#[cfg(fuzzing)]
pub mod fuzzing;
pub mod json;
pub mod link;
pub mod policy;
pub mod scan;
mod text;
#[cfg(target_arch = "wasm32")]
pub mod wasm;

pub use detect::lexicon::Cue;
pub use error::Error;
pub use finding::{Finding, Kind};
pub use policy::{Action, Decision, Direction, Policy};
pub use scan::{ScanOptions, scan};
