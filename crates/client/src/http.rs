//! The connection to one Confide server: base URL, TLS, the pinned root
//! key, and the JSON/bytes request helpers every other module uses.
//!
//! TLS is rustls with the *ring* provider and the platform's trust store
//! (`rustls-platform-verifier`), for HTTPS and WSS alike; plain `http://`
//! is accepted too (loopback, tests, a TLS-terminating proxy in front).
//! A [`Client`] first fetches `GET /api/v1/organisation` and refuses a
//! server whose root key does not have the fingerprint the caller pinned:
//! the root key is never taken from the server on trust.
//!
//! Non-goals: retries (the callers that may retry do, see
//! `crate::conversation`), cookies (the SDK sends bearer tokens).

use crate::error::{Error, Result};
use crate::trust::{RootFingerprint, TrustStore};
use confide_protocol::{InboxId, OrgId, RootPublicKey};
use reqwest::header::{AUTHORIZATION, CONTENT_TYPE, HeaderValue};
use reqwest::{Method, Url};
use serde::Deserialize;
use serde::de::DeserializeOwned;
use std::fmt;
use std::sync::Arc;
use std::time::Duration;
use zeroize::Zeroizing;

/// The header naming the staff device that signed a sent envelope.
pub(crate) const DEVICE_HEADER: &str = "x-confide-device";

/// The JSON body of every server error.
#[derive(Debug, Deserialize)]
pub(crate) struct ErrorBody {
    pub(crate) code: String,
    pub(crate) message: String,
}

/// A secret string — a session token (staff `Bearer`, visitor `Visitor`)
/// or a one-time password — zeroized on drop, never printed, not `Clone`.
/// [`Secret::expose_secret`] gives it out, e.g. to persist a token and
/// resume the session later.
pub struct Secret(Zeroizing<String>);

impl Secret {
    /// Wraps a secret string (e.g. a token loaded from storage).
    pub fn new(token: impl Into<String>) -> Self {
        Self(Zeroizing::new(token.into()))
    }

    /// The secret itself, to store or show it somewhere safe.
    pub fn expose_secret(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Secret(<redacted>)")
    }
}

/// How a request authenticates.
#[derive(Clone, Copy)]
pub(crate) enum Auth<'a> {
    None,
    Bearer(&'a Secret),
    Visitor(&'a Secret),
}

impl Auth<'_> {
    /// The `Authorization` value, marked sensitive so it is never logged.
    pub(crate) fn header(&self) -> Result<Option<HeaderValue>> {
        let (scheme, token) = match self {
            Auth::None => return Ok(None),
            Auth::Bearer(t) => ("Bearer", t),
            Auth::Visitor(t) => ("Visitor", t),
        };
        let text = Zeroizing::new(format!("{scheme} {}", token.expose_secret()));
        let mut value = HeaderValue::from_str(&text)
            .map_err(|_| Error::InvalidInput("the token is not a valid header value"))?;
        value.set_sensitive(true);
        Ok(Some(value))
    }
}

/// Options of a [`Client`].
#[derive(Clone, Debug)]
pub struct ClientOptions {
    /// Timeout of one HTTP request.
    pub request_timeout: Duration,
    /// Timeout of establishing a connection.
    pub connect_timeout: Duration,
    /// How often a send is attempted in all when the transport fails or the
    /// server answers 5xx (the same bytes each time; the server stores them once).
    pub send_attempts: u32,
}

impl Default for ClientOptions {
    fn default() -> Self {
        Self {
            request_timeout: Duration::from_secs(30),
            connect_timeout: Duration::from_secs(10),
            send_attempts: 6,
        }
    }
}

/// A connection to one Confide server whose root key was checked against
/// the pinned fingerprint. Cheap to clone; holds no secret.
#[derive(Clone)]
pub struct Client {
    pub(crate) inner: Arc<ClientInner>,
}

pub(crate) struct ClientInner {
    pub(crate) http: reqwest::Client,
    pub(crate) base: Url,
    pub(crate) tls: Arc<rustls::ClientConfig>,
    pub(crate) org: OrgId,
    pub(crate) default_inbox: InboxId,
    pub(crate) options: ClientOptions,
    pub(crate) trust: TrustStore,
}

impl fmt::Debug for Client {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Client")
            .field("base", &self.inner.base.as_str())
            .field("org", &self.inner.org)
            .finish_non_exhaustive()
    }
}

#[derive(Deserialize)]
struct OrganisationInfo {
    org_id: String,
    default_inbox: String,
    root_key: String,
}

/// rustls with the ring provider and the platform verifier (TLS 1.2+).
fn tls_config() -> Result<Arc<rustls::ClientConfig>> {
    use rustls_platform_verifier::BuilderVerifierExt;
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let config = rustls::ClientConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .map_err(|e| Error::Transport(format!("TLS setup: {e}")))?
        .with_platform_verifier()
        .map_err(|e| Error::Transport(format!("TLS trust store: {e}")))?
        .with_no_client_auth();
    Ok(Arc::new(config))
}

impl Client {
    /// Connects to the server at `base_url` (`https://chat.example.com` or
    /// `http://127.0.0.1:8080`) and checks that its organisation's root key
    /// has the `pinned` fingerprint (from the embed snippet or the
    /// operator). Fails with [`Error::RootKeyMismatch`] otherwise.
    pub async fn connect(base_url: &str, pinned: RootFingerprint) -> Result<Client> {
        Self::connect_with(base_url, pinned, ClientOptions::default()).await
    }

    /// [`Client::connect`] with explicit options.
    pub async fn connect_with(
        base_url: &str,
        pinned: RootFingerprint,
        options: ClientOptions,
    ) -> Result<Client> {
        let mut base =
            Url::parse(base_url).map_err(|_| Error::InvalidInput("base_url is not a URL"))?;
        if !matches!(base.scheme(), "http" | "https") || base.cannot_be_a_base() {
            return Err(Error::InvalidInput("base_url must be an http(s) URL"));
        }
        if !base.path().ends_with('/') {
            let path = format!("{}/", base.path());
            base.set_path(&path);
        }
        let tls = tls_config()?;
        let http = reqwest::Client::builder()
            .tls_backend_preconfigured((*tls).clone())
            .timeout(options.request_timeout)
            .connect_timeout(options.connect_timeout)
            .build()
            .map_err(Error::from)?;
        let info: OrganisationInfo = fetch_json(
            &http,
            Method::GET,
            join(&base, "api/v1/organisation")?,
            Auth::None,
        )
        .await?;
        let root_bytes: [u8; 32] = hex::decode(&info.root_key)
            .ok()
            .and_then(|b| b.try_into().ok())
            .ok_or_else(|| Error::bad_response("root_key"))?;
        let root = RootPublicKey::from_bytes(&root_bytes)?;
        if !pinned.matches(&root) {
            return Err(Error::RootKeyMismatch);
        }
        let org = OrgId::from_hex(&info.org_id).ok_or_else(|| Error::bad_response("org_id"))?;
        let default_inbox = InboxId::from_hex(&info.default_inbox)
            .ok_or_else(|| Error::bad_response("default_inbox"))?;
        Ok(Client {
            inner: Arc::new(ClientInner {
                http,
                base,
                tls,
                org,
                default_inbox,
                options,
                trust: TrustStore::new(org, root),
            }),
        })
    }

    /// The organisation.
    pub fn org(&self) -> OrgId {
        self.inner.org
    }

    /// The organisation's default inbox.
    pub fn default_inbox(&self) -> InboxId {
        self.inner.default_inbox
    }

    /// The pinned root key (epoch 0).
    pub fn root_key(&self) -> RootPublicKey {
        self.inner.trust.root()
    }

    /// The highest statement heads verified for `inbox`, to persist and
    /// hand back to [`Client::restore_checkpoint`] after a restart, so that
    /// a server cannot roll the inbox back.
    pub fn checkpoint(&self, inbox: InboxId) -> Option<confide_protocol::state::Checkpoint> {
        self.inner.trust.checkpoint(inbox)
    }

    /// Makes every later verification of `checkpoint`'s inbox pass through
    /// it (rollback and fork protection across restarts). Call it before
    /// the inbox is first used through this client.
    pub fn restore_checkpoint(
        &self,
        checkpoint: confide_protocol::state::Checkpoint,
    ) -> Result<()> {
        self.inner.trust.restore(checkpoint)
    }

    pub(crate) fn url(&self, path: &str) -> Result<Url> {
        join(&self.inner.base, path)
    }

    /// The WebSocket URL (`ws://…/api/v1/ws` or `wss://…`).
    pub(crate) fn ws_url(&self) -> Result<Url> {
        let mut url = self.url("api/v1/ws")?;
        let scheme = if url.scheme() == "https" { "wss" } else { "ws" };
        url.set_scheme(scheme)
            .map_err(|()| Error::InvalidInput("base_url"))?;
        Ok(url)
    }

    /// A JSON request without body.
    pub(crate) async fn get<T: DeserializeOwned>(&self, path: &str, auth: Auth<'_>) -> Result<T> {
        fetch_json(&self.inner.http, Method::GET, self.url(path)?, auth).await
    }

    /// A request with an optional JSON body and a JSON answer.
    pub(crate) async fn request<T: DeserializeOwned>(
        &self,
        method: Method,
        path: &str,
        auth: Auth<'_>,
        body: Option<&serde_json::Value>,
    ) -> Result<T> {
        let mut req = self.inner.http.request(method, self.url(path)?);
        if let Some(b) = body {
            req = req.json(b);
        }
        if let Some(v) = auth.header()? {
            req = req.header(AUTHORIZATION, v);
        }
        decode(req.send().await?).await
    }

    /// A request whose success has no body (204).
    pub(crate) async fn send_empty(
        &self,
        method: Method,
        path: &str,
        auth: Auth<'_>,
        body: Option<&serde_json::Value>,
    ) -> Result<()> {
        let mut req = self.inner.http.request(method, self.url(path)?);
        if let Some(b) = body {
            req = req.json(b);
        }
        if let Some(v) = auth.header()? {
            req = req.header(AUTHORIZATION, v);
        }
        let res = req.send().await?;
        if res.status().is_success() {
            Ok(())
        } else {
            Err(api_error(res).await)
        }
    }

    /// `POST …/envelopes` with raw bytes; the answer and whether it was a retry.
    pub(crate) async fn post_bytes<T: DeserializeOwned>(
        &self,
        path: &str,
        auth: Auth<'_>,
        device: Option<&str>,
        bytes: Vec<u8>,
    ) -> Result<T> {
        let mut req = self
            .inner
            .http
            .post(self.url(path)?)
            .header(CONTENT_TYPE, "application/octet-stream")
            .body(bytes);
        if let Some(v) = auth.header()? {
            req = req.header(AUTHORIZATION, v);
        }
        if let Some(d) = device {
            req = req.header(DEVICE_HEADER, d);
        }
        decode(req.send().await?).await
    }
}

fn join(base: &Url, path: &str) -> Result<Url> {
    base.join(path)
        .map_err(|_| Error::InvalidInput("cannot build a request URL"))
}

async fn fetch_json<T: DeserializeOwned>(
    http: &reqwest::Client,
    method: Method,
    url: Url,
    auth: Auth<'_>,
) -> Result<T> {
    let mut req = http.request(method, url);
    if let Some(v) = auth.header()? {
        req = req.header(AUTHORIZATION, v);
    }
    decode(req.send().await?).await
}

async fn decode<T: DeserializeOwned>(res: reqwest::Response) -> Result<T> {
    if !res.status().is_success() {
        return Err(api_error(res).await);
    }
    let bytes = res.bytes().await?;
    serde_json::from_slice(&bytes).map_err(Error::bad_response)
}

async fn api_error(res: reqwest::Response) -> Error {
    let status = res.status();
    let body = res.bytes().await.ok();
    match body.and_then(|b| serde_json::from_slice::<ErrorBody>(&b).ok()) {
        Some(b) => Error::Api {
            status: status.as_u16(),
            code: b.code,
            message: b.message,
        },
        None => Error::Api {
            status: status.as_u16(),
            code: format!("http_{}", status.as_u16()),
            message: status
                .canonical_reason()
                .unwrap_or("unexpected status")
                .into(),
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tokens_never_print() {
        let t = Secret::new("s3cr3t-token");
        assert!(!format!("{t:?}").contains("s3cr3t"));
        let v = Auth::Bearer(&t).header().unwrap().unwrap();
        assert!(v.is_sensitive());
        assert!(!format!("{v:?}").contains("s3cr3t"));
    }
}
