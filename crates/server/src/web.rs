//! The browser front-ends, served from the web build output (`web/dist`,
//! built by `scripts/web-build`): the widget loader `/widget.js`, the chat
//! frame `/chat`, the demo company page `/demo`, the agent console
//! `/console`, and their scripts, styles and WebAssembly under `/assets/`.
//!
//! **Where the files come from.** [`WebConfig::dir`] (`[web] dir` in the
//! TOML file, `CONFIDE_WEB_DIR` in the environment, default `web/dist`
//! relative to the working directory, which is the workspace's build
//! output when `scripts/run` starts the server). The files are read once
//! at start-up; a missing build answers 503 `web_not_built` and
//! `confide serve` says so in its banner. A file's `.gz` sibling, when
//! present, is served to clients that accept gzip.
//!
//! **Headers.** Every page has a strict Content-Security-Policy without
//! `unsafe-inline` or `unsafe-eval` (`'wasm-unsafe-eval'` only where the
//! WebAssembly runs), `frame-ancestors 'none'` for the console and the
//! demo, and for the chat frame `'self'` plus [`WebConfig::embed_origins`]
//! (the company sites allowed to embed the widget). `/widget.js` is
//! served with CORS so a Subresource-Integrity check works cross-origin;
//! `/demo` carries the exact snippet, with its `integrity` hash computed
//! here from the bytes served. The router adds `nosniff`,
//! `Referrer-Policy: no-referrer` and `Cache-Control: no-store` to all.
//!
//! Non-goals: templating beyond a few `{{NAME}}` substitutions of values
//! this server computed (hex and base64, HTML-escaped anyway); serving
//! anything outside the allow-listed build files.

use crate::app::AppState;
use crate::error::ApiError;
use axum::Extension;
use axum::Router;
use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, HeaderName, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::get;
use base64::Engine;
use serde::Deserialize;
use sha2::{Digest, Sha384};
use std::collections::HashMap;
use std::path::{Path as FsPath, PathBuf};
use std::sync::Arc;

/// `[web]` in the configuration file.
#[derive(Clone, Debug, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct WebConfig {
    /// The web build output (`CONFIDE_WEB_DIR`).
    pub dir: PathBuf,
    /// Origins allowed to embed the chat frame (`https://www.example.com`),
    /// besides this server's own (the demo page).
    pub embed_origins: Vec<String>,
    /// Seconds of inactivity after which the console locks.
    pub idle_lock_secs: u64,
}

impl Default for WebConfig {
    fn default() -> Self {
        Self {
            dir: PathBuf::from("web/dist"),
            embed_origins: Vec::new(),
            idle_lock_secs: 5 * 60,
        }
    }
}

impl WebConfig {
    /// Applies `CONFIDE_WEB_DIR`.
    pub fn apply_env(&mut self) {
        if let Ok(v) = std::env::var("CONFIDE_WEB_DIR") {
            self.dir = PathBuf::from(v);
        }
    }

    /// Whether the build output is there (for the start-up banner).
    pub fn is_built(&self) -> bool {
        PAGES.iter().all(|(file, _)| self.dir.join(file).is_file())
            && self.dir.join(WIDGET).is_file()
    }
}

/// The loader file.
const WIDGET: &str = "widget.js";
/// The pages: build file and route.
const PAGES: &[(&str, &str)] = &[
    ("chat.html", "/chat"),
    ("console.html", "/console"),
    ("demo.html", "/demo"),
];

/// One file in memory.
struct Asset {
    bytes: Vec<u8>,
    gzip: Option<Vec<u8>>,
    content_type: &'static str,
}

/// The build output, read at start-up.
struct Assets {
    files: HashMap<String, Asset>,
    /// `sha384-…` of `widget.js`, for the embed snippet.
    widget_integrity: String,
}

fn content_type(name: &str) -> Option<&'static str> {
    let ext = name.rsplit_once('.').map(|(_, e)| e)?;
    Some(match ext {
        "html" => "text/html; charset=utf-8",
        "js" => "text/javascript; charset=utf-8",
        "css" => "text/css; charset=utf-8",
        "wasm" => "application/wasm",
        "svg" => "image/svg+xml",
        "png" => "image/png",
        "json" => "application/json",
        _ => return None,
    })
}

/// Names served: letters, digits, `.`, `-`, `_`; no leading dot.
fn safe_name(name: &str) -> bool {
    !name.is_empty()
        && !name.starts_with('.')
        && name
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'.' | b'-' | b'_'))
}

fn read_dir(dir: &FsPath, prefix: &str, files: &mut HashMap<String, Asset>) {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return;
    };
    for entry in entries.flatten() {
        let name = entry.file_name().to_string_lossy().into_owned();
        let path = entry.path();
        if !safe_name(&name) || name.ends_with(".gz") || !path.is_file() {
            continue;
        }
        let Some(ct) = content_type(&name) else {
            continue;
        };
        let Ok(bytes) = std::fs::read(&path) else {
            continue;
        };
        let gzip = std::fs::read(dir.join(format!("{name}.gz"))).ok();
        files.insert(
            format!("{prefix}{name}"),
            Asset {
                bytes,
                gzip,
                content_type: ct,
            },
        );
    }
}

impl Assets {
    fn load(dir: &FsPath) -> Self {
        let mut files = HashMap::new();
        read_dir(dir, "", &mut files);
        read_dir(&dir.join("assets"), "assets/", &mut files);
        let widget_integrity = files.get(WIDGET).map_or_else(String::new, |w| {
            let digest = Sha384::digest(&w.bytes);
            format!(
                "sha384-{}",
                base64::engine::general_purpose::STANDARD.encode(digest)
            )
        });
        if files.contains_key(WIDGET) {
            tracing::info!(dir = %dir.display(), files = files.len(), "web front-ends loaded");
        } else {
            tracing::warn!(dir = %dir.display(), "web front-ends not built (run scripts/web-build)");
        }
        Self {
            files,
            widget_integrity,
        }
    }
}

/// The web routes; reads the build output now.
pub fn routes(config: &WebConfig) -> Router<AppState> {
    let assets = Arc::new(Assets::load(&config.dir));
    Router::new()
        .route("/", get(|| async { Redirect::to("/console") }))
        .route("/widget.js", get(widget))
        .route("/chat", get(chat))
        .route("/console", get(console))
        .route("/demo", get(demo))
        .route("/assets/{name}", get(asset))
        .layer(Extension(assets))
}

fn not_built() -> Response {
    ApiError::new(
        StatusCode::SERVICE_UNAVAILABLE,
        "web_not_built",
        "the web front-ends are not built: run scripts/web-build (scripts/run does)",
    )
    .into_response()
}

fn accepts_gzip(headers: &HeaderMap) -> bool {
    headers
        .get_all(header::ACCEPT_ENCODING)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(','))
        .any(|e| e.trim().split(';').next() == Some("gzip"))
}

/// The bytes of an asset (gzip when the client takes it) and its headers.
fn serve(asset: &Asset, headers: &HeaderMap, extra: &[(HeaderName, HeaderValue)]) -> Response {
    let mut out = HeaderMap::new();
    out.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static(asset.content_type),
    );
    out.insert(header::VARY, HeaderValue::from_static("Accept-Encoding"));
    for (k, v) in extra {
        out.insert(k.clone(), v.clone());
    }
    match &asset.gzip {
        Some(gz) if accepts_gzip(headers) => {
            out.insert(header::CONTENT_ENCODING, HeaderValue::from_static("gzip"));
            (out, gz.clone()).into_response()
        }
        _ => (out, asset.bytes.clone()).into_response(),
    }
}

/// The CSP of a page running the WebAssembly, framed by `ancestors`.
fn app_csp(ancestors: &str) -> String {
    format!(
        "default-src 'none'; script-src 'self' 'wasm-unsafe-eval'; style-src 'self'; \
         img-src 'self' data:; connect-src 'self'; base-uri 'none'; form-action 'none'; \
         frame-ancestors {ancestors}"
    )
}

const DEMO_CSP: &str = "default-src 'none'; script-src 'self'; style-src 'self'; \
     img-src 'self' data:; frame-src 'self'; base-uri 'none'; form-action 'none'; \
     frame-ancestors 'none'";

const PERMISSIONS: &str = "camera=(), microphone=(), geolocation=(), payment=(), usb=()";

fn page_headers(csp: &str, framable: bool) -> Vec<(HeaderName, HeaderValue)> {
    let mut h = vec![
        (
            header::CONTENT_SECURITY_POLICY,
            HeaderValue::from_str(csp).unwrap_or(HeaderValue::from_static("default-src 'none'")),
        ),
        (
            HeaderName::from_static("permissions-policy"),
            HeaderValue::from_static(PERMISSIONS),
        ),
    ];
    if !framable {
        h.push((header::X_FRAME_OPTIONS, HeaderValue::from_static("DENY")));
        h.push((
            HeaderName::from_static("cross-origin-opener-policy"),
            HeaderValue::from_static("same-origin"),
        ));
    }
    h
}

fn html_escape(s: &str) -> String {
    s.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
        .replace('\'', "&#39;")
}

/// `{{NAME}}` → value (HTML-escaped).
fn render(template: &[u8], values: &[(&str, String)]) -> Vec<u8> {
    let mut text = String::from_utf8_lossy(template).into_owned();
    for (name, value) in values {
        text = text.replace(&format!("{{{{{name}}}}}"), &html_escape(value));
    }
    text.into_bytes()
}

async fn widget(Extension(assets): Extension<Arc<Assets>>, headers: HeaderMap) -> Response {
    let Some(a) = assets.files.get(WIDGET) else {
        return not_built();
    };
    let extra = [
        (
            header::ACCESS_CONTROL_ALLOW_ORIGIN,
            HeaderValue::from_static("*"),
        ),
        (
            HeaderName::from_static("cross-origin-resource-policy"),
            HeaderValue::from_static("cross-origin"),
        ),
    ];
    serve(a, &headers, &extra)
}

async fn chat(
    State(state): State<AppState>,
    Extension(assets): Extension<Arc<Assets>>,
    headers: HeaderMap,
) -> Response {
    let Some(a) = assets.files.get("chat.html") else {
        return not_built();
    };
    let mut ancestors = String::from("'self'");
    for origin in &state.0.config.web.embed_origins {
        // Only scheme://host[:port] origins; anything else is dropped.
        let ok = (origin.starts_with("https://") || origin.starts_with("http://"))
            && origin
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b".:/-[]".contains(&b));
        if ok {
            ancestors.push(' ');
            ancestors.push_str(origin.trim_end_matches('/'));
        }
    }
    serve(a, &headers, &page_headers(&app_csp(&ancestors), true))
}

/// `GET /console` query: `lock` shortens the idle lock (seconds; never lengthens it).
#[derive(Deserialize)]
struct ConsoleQuery {
    lock: Option<u64>,
}

async fn console(
    State(state): State<AppState>,
    Extension(assets): Extension<Arc<Assets>>,
    Query(q): Query<ConsoleQuery>,
    headers: HeaderMap,
) -> Response {
    let Some(a) = assets.files.get("console.html") else {
        return not_built();
    };
    let configured = state.0.config.web.idle_lock_secs.max(1);
    let lock = q.lock.map_or(configured, |l| l.clamp(1, configured));
    let page = Asset {
        bytes: render(&a.bytes, &[("IDLE_LOCK_SECS", lock.to_string())]),
        gzip: None,
        content_type: a.content_type,
    };
    serve(&page, &headers, &page_headers(&app_csp("'none'"), false))
}

async fn demo(
    State(state): State<AppState>,
    Extension(assets): Extension<Arc<Assets>>,
    headers: HeaderMap,
) -> Response {
    let Some(a) = assets.files.get("demo.html") else {
        return not_built();
    };
    let org = &state.0.org;
    let page = Asset {
        bytes: render(
            &a.bytes,
            &[
                // The page's own tag loads it from wherever the page was
                // reached; the snippet shown names the configured URL.
                ("WIDGET_SRC", "/widget.js".to_owned()),
                (
                    "WIDGET_URL",
                    format!(
                        "{}/widget.js",
                        state.0.config.base_url().trim_end_matches('/')
                    ),
                ),
                ("WIDGET_INTEGRITY", assets.widget_integrity.clone()),
                (
                    "ROOT_FINGERPRINT",
                    hex::encode(org.keys.root.public().fingerprint()),
                ),
                ("INBOX", org.default_inbox.to_hex()),
            ],
        ),
        gzip: None,
        content_type: a.content_type,
    };
    serve(&page, &headers, &page_headers(DEMO_CSP, false))
}

async fn asset(
    Extension(assets): Extension<Arc<Assets>>,
    Path(name): Path<String>,
    headers: HeaderMap,
) -> Response {
    if !safe_name(&name) {
        return ApiError::not_found("asset").into_response();
    }
    match assets.files.get(&format!("assets/{name}")) {
        Some(a) => serve(a, &headers, &[]),
        None if assets.files.is_empty() => not_built(),
        None => ApiError::not_found("asset").into_response(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_and_escaping() {
        assert!(safe_name("chat.js"));
        assert!(!safe_name("../etc"));
        assert!(!safe_name(".env"));
        assert!(!safe_name("a/b"));
        assert_eq!(
            render(b"<b>{{X}}</b>", &[("X", "<\"'&>".into())]),
            b"<b>&lt;&quot;&#39;&amp;&gt;</b>".to_vec()
        );
        assert!(!app_csp("'none'").contains("unsafe-inline"));
    }
}
