//! What browsers load from footfall over HTTP: the beacon script (encodings, caching
//! headers, 304s, size budget as served) and the opt-out page.

use std::io::Read as _;

use footfall::web::beacon::SCRIPTS;

use crate::helpers::spawn_app;

#[tokio::test(flavor = "multi_thread")]
async fn the_scripts_are_served_gzipped_with_caching_headers_and_304s() {
    let app = spawn_app().await;
    for script in SCRIPTS {
        check_script_serving(&app, script).await;
    }
    app.stop().await;
}

async fn check_script_serving(app: &crate::helpers::TestApp, served: &footfall::web::beacon::Script) {
    let url = format!("{}{}", app.address, served.path);
    let (expected, budget) = (served.source, served.gzip_budget);

    let gzipped = app.http.get(&url).header("Accept-Encoding", "gzip, deflate, br").send().await.unwrap();
    assert_eq!(gzipped.status().as_u16(), 200);
    let header = |response: &reqwest::Response, name: &str| {
        response.headers().get(name).map(|value| value.to_str().unwrap().to_string()).unwrap_or_default()
    };
    assert_eq!(header(&gzipped, "content-type"), "text/javascript; charset=utf-8");
    assert_eq!(header(&gzipped, "content-encoding"), "gzip");
    assert_eq!(header(&gzipped, "cache-control"), "public, max-age=3600");
    assert_eq!(header(&gzipped, "vary"), "Accept-Encoding");
    assert_eq!(header(&gzipped, "access-control-allow-origin"), "*");
    let gzip_etag = header(&gzipped, "etag");
    assert!(gzip_etag.starts_with('"') && gzip_etag.ends_with("-gzip\""), "{gzip_etag}");
    let body = gzipped.bytes().await.unwrap();
    assert!(body.len() <= budget, "{url} is {} bytes gzipped, budget {budget}", body.len());
    let mut script = Vec::new();
    flate2::read::GzDecoder::new(&body[..]).read_to_end(&mut script).unwrap();
    assert_eq!(script, expected);

    let plain = app.http.get(&url).send().await.unwrap();
    assert_eq!(header(&plain, "content-encoding"), "");
    let plain_etag = header(&plain, "etag");
    assert_ne!(plain_etag, gzip_etag);
    assert_eq!(plain.bytes().await.unwrap(), expected);

    for (encoding, etag) in [("gzip", &gzip_etag), ("identity", &plain_etag)] {
        let again = app
            .http
            .get(&url)
            .header("Accept-Encoding", encoding)
            .header("If-None-Match", format!("W/\"stale\", {etag}"))
            .send()
            .await
            .unwrap();
        assert_eq!(again.status().as_u16(), 304, "{encoding}");
        assert_eq!(header(&again, "etag"), *etag);
        assert_eq!(header(&again, "cache-control"), "public, max-age=3600");
        assert!(again.bytes().await.unwrap().is_empty());
    }
    let changed = app.http.get(&url).header("If-None-Match", "\"an-older-beacon\"").send().await.unwrap();
    assert_eq!(changed.status().as_u16(), 200);

    let head = app.http.head(&url).header("Accept-Encoding", "gzip").send().await.unwrap();
    assert_eq!(head.status().as_u16(), 200);
    assert_eq!(header(&head, "etag"), gzip_etag);
}

#[tokio::test(flavor = "multi_thread")]
async fn the_opt_out_page_names_the_site_and_refuses_a_bad_one() {
    let app = spawn_app().await;
    let page = app.http.get(format!("{}/opt-out?site=Example.COM", app.address)).send().await.unwrap();
    assert_eq!(page.status().as_u16(), 200);
    assert_eq!(page.headers()["content-type"], "text/html; charset=utf-8");
    let html = page.text().await.unwrap();
    assert!(html.contains(r#"<script defer src="/js/footfall.js" data-manual data-site="example.com"></script>"#));
    assert!(html.contains("<h1>Analytics on example.com</h1>"), "{html}");

    let generic = app.http.get(format!("{}/opt-out", app.address)).send().await.unwrap().text().await.unwrap();
    assert!(generic.contains(r#"<script defer src="/js/footfall.js" data-manual></script>"#));

    let bad = app.http.get(format!("{}/opt-out?site=%3Cscript%3E", app.address)).send().await.unwrap();
    assert_eq!(bad.status().as_u16(), 400);
    let error: serde_json::Value = bad.json().await.unwrap();
    assert_eq!(error, serde_json::json!({"error": "`site` must be a domain such as example.com", "field": "site"}));
    app.stop().await;
}

/// Sends `target` as the raw request line (no client-side normalisation of `..` or
/// `%2e`) and returns the status code and body.
async fn raw_get(address: &str, target: &str) -> (u16, String) {
    use tokio::io::{AsyncReadExt as _, AsyncWriteExt as _};
    let host = address.trim_start_matches("http://");
    let mut stream = tokio::net::TcpStream::connect(host).await.unwrap();
    let request = format!("GET {target} HTTP/1.1\r\nHost: {host}\r\nConnection: close\r\n\r\n");
    stream.write_all(request.as_bytes()).await.unwrap();
    let mut response = Vec::new();
    stream.read_to_end(&mut response).await.unwrap();
    let response = String::from_utf8_lossy(&response).into_owned();
    let status = response.split(' ').nth(1).and_then(|code| code.parse().ok()).unwrap_or(0);
    let body = response.split_once("\r\n\r\n").map(|(_, body)| body.to_string()).unwrap_or_default();
    (status, body)
}

#[tokio::test(flavor = "multi_thread")]
async fn path_traversal_on_static_routes_reaches_no_file() {
    let app = spawn_app().await;
    let targets = [
        "/js/../../../../etc/passwd",
        "/js/%2e%2e/%2e%2e/%2e%2e/%2e%2e/etc/passwd",
        "/js/..%2f..%2f..%2f..%2fetc%2fpasswd",
        "/js/footfall.js/../../Cargo.toml",
        "/js/%2E%2E%5C%2E%2E%5CCargo.toml",
        "/js/footfall.js%00.txt",
        "/js/footfall-links.js/..%2f..%2fsrc%2fmain.rs",
        "/dashboard/assets/../../../../etc/passwd",
        "/dashboard/assets/%2e%2e/%2e%2e/Cargo.toml",
        "/dashboard/assets/..%2f..%2fdashboards%2foverview.toml",
        "/dashboard/example.com/..%2f..%2fdashboards%2foverview",
        "/dashboard/example.com/%2e%2e%2f%2e%2e%2fCargo.toml",
        "/opt-out/../../etc/passwd",
        "//etc/passwd",
        "/..%2f..%2f..%2fetc%2fpasswd",
    ];
    for target in targets {
        let (status, body) = raw_get(&app.address, target).await;
        assert!((400..500).contains(&status), "{target} answered {status}");
        for secret in ["root:", "[package]", "fn main", "title ="] {
            assert!(!body.contains(secret), "{target} answered with file contents ({secret})");
        }
    }
    // The process is still serving.
    let (status, _) = raw_get(&app.address, "/js/footfall.js").await;
    assert_eq!(status, 200);
    app.stop().await;
}
