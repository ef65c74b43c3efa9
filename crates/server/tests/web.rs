//! The web front-ends' routes (`confide_server::web`): what is served from
//! the build output, with which security headers, and the embed snippet
//! of `/demo`. The pages themselves are tested in Chromium (web/tests).
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::indexing_slicing)]

use axum::body::Body;
use axum::http::{Request, StatusCode, header};
use base64::Engine;
use confide_server::app;
use confide_server::config::Config;
use confide_server::web::WebConfig;
use sha2::{Digest, Sha384};
use std::path::Path;
use tower::ServiceExt;

const WIDGET: &str = "(()=>{/* loader */})();";

fn fake_build(dir: &Path) {
    std::fs::create_dir_all(dir.join("assets")).unwrap();
    std::fs::write(dir.join("widget.js"), WIDGET).unwrap();
    std::fs::write(dir.join("widget.js.gz"), b"gzipped-bytes").unwrap();
    std::fs::write(dir.join("chat.html"), "<p>chat</p>").unwrap();
    std::fs::write(
        dir.join("console.html"),
        r#"<meta name="confide-idle-lock" content="{{IDLE_LOCK_SECS}}">"#,
    )
    .unwrap();
    std::fs::write(
        dir.join("demo.html"),
        r#"<pre>{{WIDGET_URL}}</pre><script src="{{WIDGET_SRC}}" integrity="{{WIDGET_INTEGRITY}}" data-confide-root="{{ROOT_FINGERPRINT}}" data-confide-inbox="{{INBOX}}"></script>"#,
    )
    .unwrap();
    std::fs::write(dir.join("assets/chat.js"), "export{}").unwrap();
    std::fs::write(dir.join("assets/confide.wasm"), b"\0asm\x01\0\0\0").unwrap();
    std::fs::write(dir.join("assets/notes.txt"), "not served").unwrap();
}

async fn router(web: Option<&Path>) -> (tempfile::TempDir, axum::Router, app::AppState) {
    let dir = tempfile::tempdir().unwrap();
    let web_dir = match web {
        Some(p) => p.to_path_buf(),
        None => dir.path().join("no-such-build"),
    };
    let config = Config {
        data: dir.path().join("data"),
        web: WebConfig {
            dir: web_dir,
            embed_origins: vec!["https://shop.example".into(), "javascript:alert(1)".into()],
            idle_lock_secs: 120,
        },
        ..Config::default()
    };
    let (state, _) = confide_server::prepare(config).await.unwrap();
    (dir, app::router(state.clone()), state)
}

async fn get(router: &axum::Router, uri: &str, gzip: bool) -> axum::response::Response {
    let mut req = Request::get(uri);
    if gzip {
        req = req.header(header::ACCEPT_ENCODING, "br, gzip;q=0.9");
    }
    router
        .clone()
        .oneshot(req.body(Body::empty()).unwrap())
        .await
        .unwrap()
}

async fn text(res: axum::response::Response) -> String {
    let bytes = axum::body::to_bytes(res.into_body(), 1 << 20)
        .await
        .unwrap();
    String::from_utf8_lossy(&bytes).into_owned()
}

fn header<'a>(res: &'a axum::response::Response, name: &str) -> &'a str {
    res.headers()
        .get(name)
        .map(|v| v.to_str().unwrap())
        .unwrap_or("")
}

#[tokio::test]
async fn without_a_build_the_pages_say_so() {
    let (_dir, router, _) = router(None).await;
    for uri in [
        "/console",
        "/demo",
        "/chat",
        "/widget.js",
        "/assets/chat.js",
    ] {
        let res = get(&router, uri, false).await;
        assert_eq!(res.status(), StatusCode::SERVICE_UNAVAILABLE, "{uri}");
        assert!(text(res).await.contains("web_not_built"));
    }
}

#[tokio::test]
async fn pages_have_strict_headers() {
    let web = tempfile::tempdir().unwrap();
    fake_build(web.path());
    let (_dir, router, _) = router(Some(web.path())).await;

    let console = get(&router, "/console", false).await;
    assert_eq!(console.status(), StatusCode::OK);
    let csp = header(&console, "content-security-policy").to_owned();
    assert!(csp.contains("frame-ancestors 'none'"), "{csp}");
    assert!(
        csp.contains("script-src 'self' 'wasm-unsafe-eval'"),
        "{csp}"
    );
    assert!(
        !csp.contains("unsafe-inline") && !csp.contains("'unsafe-eval'"),
        "{csp}"
    );
    assert_eq!(header(&console, "x-frame-options"), "DENY");
    assert_eq!(header(&console, "x-content-type-options"), "nosniff");
    assert_eq!(header(&console, "referrer-policy"), "no-referrer");
    assert!(text(console).await.contains(r#"content="120""#));
    // `lock` only ever shortens the idle lock.
    assert!(
        text(get(&router, "/console?lock=5", false).await)
            .await
            .contains(r#"content="5""#)
    );
    assert!(
        text(get(&router, "/console?lock=99999", false).await)
            .await
            .contains(r#"content="120""#)
    );

    let chat = get(&router, "/chat", false).await;
    let csp = header(&chat, "content-security-policy");
    assert!(
        csp.contains("frame-ancestors 'self' https://shop.example;")
            || csp.ends_with("frame-ancestors 'self' https://shop.example"),
        "{csp}"
    );
    assert!(!csp.contains("javascript"), "{csp}");
    assert_eq!(header(&chat, "x-frame-options"), "");

    let demo = get(&router, "/demo", false).await;
    assert!(header(&demo, "content-security-policy").contains("frame-src 'self'"));
}

#[tokio::test]
async fn the_demo_carries_the_exact_snippet() {
    let web = tempfile::tempdir().unwrap();
    fake_build(web.path());
    let (_dir, router, state) = router(Some(web.path())).await;
    let page = text(get(&router, "/demo", false).await).await;
    let integrity = format!(
        "sha384-{}",
        base64::engine::general_purpose::STANDARD.encode(Sha384::digest(WIDGET))
    );
    assert!(page.contains(&integrity), "{page}");
    let org = &state.0.org;
    assert!(page.contains(&hex::encode(org.keys.root.public().fingerprint())));
    assert!(page.contains(&org.default_inbox.to_hex()));
    assert!(page.contains(r#"<script src="/widget.js""#), "{page}");
    assert!(
        page.contains("<pre>http://127.0.0.1:8080/widget.js</pre>"),
        "{page}"
    );
}

#[tokio::test]
async fn assets_are_typed_allow_listed_and_gzipped() {
    let web = tempfile::tempdir().unwrap();
    fake_build(web.path());
    let (_dir, router, _) = router(Some(web.path())).await;

    let w = get(&router, "/widget.js", true).await;
    assert_eq!(header(&w, "access-control-allow-origin"), "*");
    assert_eq!(header(&w, "cross-origin-resource-policy"), "cross-origin");
    assert_eq!(header(&w, "content-encoding"), "gzip");
    assert_eq!(text(w).await, "gzipped-bytes");
    let w = get(&router, "/widget.js", false).await;
    assert_eq!(header(&w, "content-encoding"), "");
    assert_eq!(text(w).await, WIDGET);

    let wasm = get(&router, "/assets/confide.wasm", false).await;
    assert_eq!(header(&wasm, "content-type"), "application/wasm");
    for uri in [
        "/assets/notes.txt",
        "/assets/..%2Fwidget.js",
        "/assets/.hidden",
        "/assets/nope.js",
    ] {
        assert_eq!(
            get(&router, uri, false).await.status(),
            StatusCode::NOT_FOUND,
            "{uri}"
        );
    }
}
