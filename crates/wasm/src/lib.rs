//! Confide's cores as the browser sees them: a thin wasm-bindgen facade
//! over `confide-protocol` and `confide-guard`, loaded lazily by the chat
//! frame and the agent console (`web/`).
//!
//! - [`Device`] owns one device key and everything derived from it that
//!   must stay out of JavaScript: the inboxes' statement chains verified
//!   from the pinned root key (an `InboxState` per inbox, rollback-proof
//!   through checkpoints), the generation keys unsealed for a staff device
//!   (or granted to it, §6.6), and per conversation the verified
//!   descriptor, this page's sender instance and counters, and the replay
//!   guard. Text goes in to [`Device::seal`] and comes out of
//!   [`Device::open`]; keys never come out, except the device secret
//!   itself through [`Device::export_secret`] so the page can wrap it with
//!   a non-extractable WebCrypto key before storing it.
//! - [`guard`]: the DLP scan, the policy decision and masking, and link
//!   analysis, as JSON in and out.
//!
//! Errors thrown to JavaScript are `Error` objects with a stable `code`
//! property ([`Error::code`]: the protocol's codes, `root_key_mismatch`,
//! `unknown_conversation`, …) and never carry key material or text.
//! Nothing from the network can panic this crate: every input is parsed
//! through the protocol's decoders or `serde_json` into typed values.
//!
//! Non-goals: I/O (the TypeScript does HTTP, WebSocket and IndexedDB),
//! persistence of anything but the device secret and checkpoints, and
//! attachments (a later issue).
#![forbid(unsafe_code)]
#![warn(missing_docs)]

mod device;
mod error;
pub mod guard;
mod wire;

pub use crate::device::{Core, Sealed};
pub use crate::error::Error;

use wasm_bindgen::prelude::*;

/// Turns an error into a JavaScript `Error` with a `code` property.
fn to_js(e: Error) -> JsValue {
    let err = js_sys::Error::new(&e.to_string());
    let _ = js_sys::Reflect::set(
        &err,
        &JsValue::from_str("code"),
        &JsValue::from_str(e.code()),
    );
    err.into()
}

/// A protocol timestamp from JavaScript seconds (`Date.now() / 1000`).
fn seconds(now: f64) -> confide_protocol::Timestamp {
    if now.is_finite() && now > 0.0 {
        // Saturating conversion; fractions are dropped.
        confide_protocol::Timestamp(now as u64)
    } else {
        confide_protocol::Timestamp(0)
    }
}

/// One device (a visitor's browser or an agent's console) and the state
/// derived from its key. See the crate documentation.
#[wasm_bindgen]
pub struct Device {
    core: Core,
}

/// An envelope sealed by [`Device::seal`], ready to post (and to re-post
/// unchanged on a transport failure: the server stores it once).
#[wasm_bindgen]
pub struct SealedEnvelope {
    sealed: Sealed,
}

#[wasm_bindgen]
impl SealedEnvelope {
    /// The envelope bytes (`application/octet-stream` body of the POST).
    #[wasm_bindgen(getter)]
    pub fn bytes(&self) -> Vec<u8> {
        self.sealed.bytes.clone()
    }

    /// The envelope hash (hex), to match the server's acknowledgement.
    #[wasm_bindgen(getter)]
    pub fn hash(&self) -> String {
        self.sealed.hash.clone()
    }

    /// The sender counter it was sealed under (re-seal with the same one).
    #[wasm_bindgen(getter)]
    pub fn counter(&self) -> f64 {
        self.sealed.counter as f64
    }
}

#[wasm_bindgen]
impl Device {
    /// A new device key from the browser's `crypto.getRandomValues`.
    pub fn generate(staff: bool) -> Result<Device, JsValue> {
        Core::generate(staff)
            .map(|core| Device { core })
            .map_err(to_js)
    }

    /// The device whose 64-byte secret [`Device::export_secret`] gave.
    pub fn restore(secret: &[u8], staff: bool) -> Result<Device, JsValue> {
        Core::restore(secret, staff)
            .map(|core| Device { core })
            .map_err(to_js)
    }

    /// The 64-byte device secret, only to wrap it with a non-extractable
    /// WebCrypto key for storage; the caller zeroes its copy right after.
    #[wasm_bindgen(js_name = exportSecret)]
    pub fn export_secret(&self) -> Vec<u8> {
        self.core.export_secret()
    }

    /// The public identity (hex, 65 bytes) to register with the server.
    pub fn identity(&self) -> String {
        self.core.identity()
    }

    /// The device id (hex).
    #[wasm_bindgen(js_name = deviceId)]
    pub fn device_id(&self) -> String {
        self.core.device_id()
    }

    /// Pins the organisation: `root_key_hex` (from `GET /api/v1/organisation`)
    /// must have the fingerprint `fingerprint_hex` (from the embed snippet
    /// or the operator), else `root_key_mismatch`.
    pub fn pin(
        &mut self,
        org_hex: &str,
        root_key_hex: &str,
        fingerprint_hex: &str,
    ) -> Result<(), JsValue> {
        self.core
            .pin(org_hex, root_key_hex, fingerprint_hex)
            .map_err(to_js)
    }

    /// Makes later verification of the checkpoint's inbox pass through it
    /// (a checkpoint stored by an earlier page load: no rollback).
    #[wasm_bindgen(js_name = restoreCheckpoint)]
    pub fn restore_checkpoint(&mut self, checkpoint: &[u8]) -> Result<(), JsValue> {
        self.core.restore_checkpoint(checkpoint).map_err(to_js)
    }

    /// The highest verified heads of `inbox_hex`, to store.
    pub fn checkpoint(&self, inbox_hex: &str) -> Option<Vec<u8>> {
        self.core.checkpoint(inbox_hex)
    }

    /// Verifies `GET /api/v1/inboxes/{id}/chain` (its JSON text) into the
    /// held view of the inbox and, for a staff device, unseals the new
    /// generations sealed to it. Returns a JSON summary: `membership_seq`,
    /// `generation`, `can_send`, `policy` (the signed DLP policy, `""` for
    /// the default), `required` (purposes of required recipients, e.g.
    /// `records`), `readable_generations`.
    pub fn sync(&mut self, inbox_hex: &str, chain_json: &str, now: f64) -> Result<String, JsValue> {
        self.core
            .sync(inbox_hex, chain_json, seconds(now))
            .map_err(to_js)
    }

    /// Verifies a generation-key grant addressed to this device (§6.6) and
    /// keeps the key; returns the generation it opens.
    #[wasm_bindgen(js_name = acceptGrant)]
    pub fn accept_grant(&mut self, grant: &[u8]) -> Result<f64, JsValue> {
        self.core
            .accept_grant(grant)
            .map(|g| g as f64)
            .map_err(to_js)
    }

    /// Starts a conversation in `inbox_hex` (synced first) with an id this
    /// device chooses; `identity_token_hex` (may be empty) goes into the
    /// first message. Returns `{"id","descriptor"}` (hex) for
    /// `POST /api/v1/conversations`.
    #[wasm_bindgen(js_name = startConversation)]
    pub fn start_conversation(
        &mut self,
        inbox_hex: &str,
        identity_token_hex: &str,
    ) -> Result<String, JsValue> {
        self.core
            .start_conversation(inbox_hex, identity_token_hex)
            .map_err(to_js)
    }

    /// Takes a conversation the server described: the descriptor must
    /// commit to `id_hex` (§7). Returns `{"id","inbox","visitor_device","mine"}`.
    #[wasm_bindgen(js_name = openConversation)]
    pub fn open_conversation(
        &mut self,
        id_hex: &str,
        descriptor_hex: &str,
    ) -> Result<String, JsValue> {
        self.core
            .open_conversation(id_hex, descriptor_hex)
            .map_err(to_js)
    }

    /// Forgets a conversation's state (replay guard, counters).
    pub fn forget(&mut self, id_hex: &str) {
        self.core.forget(id_hex);
    }

    /// Seals `text` for the conversation (an internal note when `note`,
    /// staff only) under the head statements; `counter` 0 takes the next
    /// one, a counter from an earlier seal re-seals under it (after the
    /// server answered `stale_statement` and the inbox was synced).
    pub fn seal(
        &mut self,
        id_hex: &str,
        text: &str,
        note: bool,
        counter: f64,
        now: f64,
    ) -> Result<SealedEnvelope, JsValue> {
        let counter = if counter.is_finite() && counter >= 1.0 {
            Some(counter as u64)
        } else {
            None
        };
        self.core
            .seal(id_hex, text, note, counter, seconds(now))
            .map(|sealed| SealedEnvelope { sealed })
            .map_err(to_js)
    }

    /// Verifies, decrypts and replay-checks a stored envelope (standard
    /// base64, as the server sends it). `live`: it arrived now (the Live
    /// rule), else it is history. `synced`: the inbox was just synced
    /// after this envelope failed with a code of [`needs_sync`]; a live
    /// envelope sealed under an earlier membership is then accepted only
    /// from a sender that may still send. Returns the message as JSON.
    pub fn open(
        &mut self,
        id_hex: &str,
        envelope_b64: &str,
        live: bool,
        synced: bool,
        now: f64,
    ) -> Result<String, JsValue> {
        self.core
            .open(id_hex, envelope_b64, live, synced, seconds(now))
            .map_err(to_js)
    }
}

/// Whether an error code from [`Device::open`] or a send may go away
/// after syncing the inbox's statements (then try once more).
#[wasm_bindgen(js_name = needsSync)]
pub fn needs_sync(code: &str) -> bool {
    matches!(
        code,
        "unknown_statement"
            | "stale_statement"
            | "membership_expired"
            | "sender_removed"
            | "rotation_required"
    )
}

/// The fingerprint (hex) of a root public key (hex), as the embed snippet
/// carries it.
#[wasm_bindgen(js_name = rootFingerprint)]
pub fn root_fingerprint(root_key_hex: &str) -> Result<String, JsValue> {
    crate::device::fingerprint(root_key_hex).map_err(to_js)
}
