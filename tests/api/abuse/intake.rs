//! Attacks on intake and on who the client is: forged proxy headers, slow bodies, opaque
//! origins and oversized heads, each replayed from loopback against the real server.

use std::time::{Duration, Instant};

use footfall::sites::Site;
use serde_json::json;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

use crate::helpers::{pageview, spawn_app_with, spawn_app_with_sites, TestApp, CHROME_WINDOWS, SITE};

/// An app behind a trusted proxy on loopback that sets `X-Forwarded-For`, limited to
/// `per_second` requests per second with bursts of as many.
async fn behind_a_proxy(per_second: u32) -> TestApp {
    spawn_app_with(|settings| {
        settings.ingest.client_ip_header = Some("X-Forwarded-For".into());
        settings.ingest.trusted_proxies = vec!["127.0.0.1".into()];
        settings.ingest.rate_limit_per_second = per_second;
        settings.ingest.rate_limit_burst = per_second;
    })
    .await
}

async fn post_with_forwarded_for(app: &TestApp, path: &str, forwarded_for: &str, body: &serde_json::Value) -> u16 {
    app.http
        .post(format!("{}{path}", app.address))
        .header("User-Agent", CHROME_WINDOWS)
        .header("X-Forwarded-For", forwarded_for)
        .json(body)
        .send()
        .await
        .unwrap()
        .status()
        .as_u16()
}

#[tokio::test(flavor = "multi_thread")]
async fn a_client_cannot_choose_its_address_behind_a_trusted_proxy() {
    let app = behind_a_proxy(5).await;
    // The client writes whatever it likes left of what the proxy appends (203.0.113.9).
    let mut accepted = 0;
    for i in 0..40 {
        let forwarded = format!("10.9.8.{i}, 203.0.113.9");
        if post_with_forwarded_for(&app, "/api/event", &forwarded, &pageview(&format!("/rotating/{i}"))).await == 202 {
            accepted += 1;
        }
    }
    assert_eq!(accepted, 5, "rotating the left-most address must not escape the limit of 5");
    // 127.0.0.1 from the header is not the loopback exemption.
    let mut accepted = 0;
    for i in 0..40 {
        if post_with_forwarded_for(&app, "/api/event", "127.0.0.1", &pageview(&format!("/loop/{i}"))).await == 202 {
            accepted += 1;
        }
    }
    assert_eq!(accepted, 5, "an address from the header is never exempt");
    app.wait_for_events(10).await;
    app.stop().await;
}

#[tokio::test(flavor = "multi_thread")]
async fn an_untrusted_peer_cannot_set_the_client_address() {
    // The header is configured, but the proxy that would set it is not trusted: every
    // request is its TCP peer, whatever the header says, and loopback is not exempt.
    let app = spawn_app_with(|settings| {
        settings.ingest.client_ip_header = Some("X-Forwarded-For".into());
        settings.ingest.rate_limit_per_second = 3;
        settings.ingest.rate_limit_burst = 3;
    })
    .await;
    let mut accepted = 0;
    for i in 0..20 {
        let forwarded = format!("198.51.100.{i}");
        if post_with_forwarded_for(&app, "/api/event", &forwarded, &pageview(&format!("/x/{i}"))).await == 202 {
            accepted += 1;
        }
    }
    assert_eq!(accepted, 3);
    app.wait_for_events(3).await;
    app.stop().await;
}

#[tokio::test(flavor = "multi_thread")]
async fn a_forged_address_cannot_make_the_dashboard_forget_its_throttle() {
    let app = behind_a_proxy(1000).await;
    let mut statuses = std::collections::BTreeMap::<u16, u32>::new();
    for i in 0..300 {
        let status = app
            .http
            .post(format!("{}/dashboard/login", app.address))
            .header("X-Forwarded-For", format!("10.{}.{}.1, 203.0.113.9", i / 256, i % 256))
            .header("Origin", app.address.clone())
            .form(&[("token", format!("wrong-token-{i}"))])
            .send()
            .await
            .unwrap()
            .status()
            .as_u16();
        *statuses.entry(status).or_default() += 1;
    }
    let throttled = statuses.get(&429).copied().unwrap_or(0);
    assert!(throttled >= 290, "the throttle counts the real client, not the forged one: {statuses:?}");
    app.stop().await;
}

/// Sends a request head announcing a body of `length` bytes, then one byte every
/// `every`, and returns what the server answered (its status line) and how long after
/// the head it came; `None` if the connection closed without an answer.
async fn trickle_body(address: &str, length: usize, every: Duration) -> (Option<String>, Duration) {
    let host = address.trim_start_matches("http://");
    let mut stream = TcpStream::connect(host).await.unwrap();
    let head = format!(
        "POST /api/event HTTP/1.1\r\nHost: {host}\r\nContent-Type: application/json\r\nUser-Agent: {CHROME_WINDOWS}\r\nContent-Length: {length}\r\n\r\n"
    );
    stream.write_all(head.as_bytes()).await.unwrap();
    let started = Instant::now();
    let mut answer = Vec::new();
    let mut buffer = [0u8; 4096];
    for _ in 0..length {
        tokio::select! {
            read = stream.read(&mut buffer) => {
                match read {
                    Ok(0) | Err(_) => break,
                    Ok(n) => { answer.extend_from_slice(&buffer[..n]); break; }
                }
            }
            () = tokio::time::sleep(every) => {
                if stream.write_all(b" ").await.is_err() { break; }
            }
        }
    }
    // Read what is left of the answer, until the server closes the connection.
    let closed = tokio::time::timeout(Duration::from_secs(5), async {
        loop {
            match stream.read(&mut buffer).await {
                Ok(0) | Err(_) => return true,
                Ok(n) => answer.extend_from_slice(&buffer[..n]),
            }
        }
    })
    .await
    .unwrap_or(false);
    assert!(closed, "the server must close the connection after the 408");
    let text = String::from_utf8_lossy(&answer).to_string();
    (text.lines().next().map(str::to_string), started.elapsed())
}

#[tokio::test(flavor = "multi_thread")]
async fn a_body_that_trickles_in_gets_408_and_the_connection_is_closed() {
    let app = spawn_app_with(|settings| settings.ingest.body_timeout_ms = 500).await;
    let slow: Vec<_> = (0..50)
        .map(|_| tokio::spawn(trickle_body_owned(app.address.clone(), 1000, Duration::from_millis(50))))
        .collect();
    for connection in slow {
        let (status, after) = connection.await.unwrap();
        assert_eq!(status.as_deref(), Some("HTTP/1.1 408 Request Timeout"));
        assert!(after < Duration::from_secs(3), "answered after {after:?}");
    }
    let metrics = app.metrics().await;
    assert_eq!(crate::helpers::metric(&metrics, "footfall_events_rejected_total{reason=\"body_timeout\"}"), 50);
    // A body that arrives in time is taken as always.
    assert_eq!(app.post_event(&pageview("/in-time")).await.status().as_u16(), 202);
    app.wait_for_events(1).await;
    app.stop().await;
}

async fn trickle_body_owned(address: String, length: usize, every: Duration) -> (Option<String>, Duration) {
    trickle_body(&address, length, every).await
}

#[tokio::test(flavor = "multi_thread")]
async fn an_opaque_or_unreadable_origin_is_a_foreign_origin() {
    let sandboxed = Site::new("sandboxed.example", "UTC", &["null".into()]).unwrap();
    let app = spawn_app_with_sites(&[sandboxed], |_| {}).await;
    let post = |event: serde_json::Value, origin: reqwest::header::HeaderValue| {
        app.http
            .post(format!("{}/api/event", app.address))
            .header("User-Agent", CHROME_WINDOWS)
            .header("Origin", origin)
            .json(&event)
            .send()
    };
    let null = reqwest::header::HeaderValue::from_static("null");
    let unreadable = reqwest::header::HeaderValue::from_bytes(b"https://ex\xe4mple.com").unwrap();
    for origin in [null.clone(), unreadable] {
        let response = post(pageview("/framed"), origin).await.unwrap();
        assert_eq!(response.status().as_u16(), 403);
        let body: serde_json::Value = response.json().await.unwrap();
        assert_eq!(body["field"], "Origin");
    }
    let listed = json!({"site": "sandboxed.example", "name": "pageview", "url": "https://sandboxed.example/"});
    assert_eq!(post(listed, null).await.unwrap().status().as_u16(), 202, "a site that lists null accepts it");
    app.wait_for_events(1).await;
    app.stop().await;
}

/// Sends `GET /healthz` whose request line and headers take exactly `bytes` bytes (without
/// the blank line that ends the head) and returns the status line of the answer, or
/// `None` when the connection ended without one.
async fn head_of(address: &str, bytes: usize) -> Option<String> {
    let host = address.trim_start_matches("http://");
    let fixed = format!("GET /healthz HTTP/1.1\r\nHost: {host}\r\nX-Pad: \r\n");
    let head = format!(
        "GET /healthz HTTP/1.1\r\nHost: {host}\r\nX-Pad: {}\r\n\r\n",
        "a".repeat(bytes.checked_sub(fixed.len()).expect("room for the padding"))
    );
    assert_eq!(head.len() - 2, bytes);
    let mut stream = TcpStream::connect(host).await.unwrap();
    let _ = stream.write_all(head.as_bytes()).await;
    let mut answer = Vec::new();
    let _ = tokio::time::timeout(Duration::from_secs(5), stream.read_to_end(&mut answer)).await;
    String::from_utf8_lossy(&answer).lines().next().map(str::to_string)
}

#[tokio::test(flavor = "multi_thread")]
async fn headers_over_the_stated_limit_get_431() {
    let app = spawn_app_with(|_| {}).await;
    let limit = footfall::http_limits::MAX_HEAD_BYTES;
    assert_eq!(head_of(&app.address, limit).await.as_deref(), Some("HTTP/1.1 200 OK"));
    for bytes in [limit + 1, 120 * 1024] {
        assert_eq!(
            head_of(&app.address, bytes).await.as_deref(),
            Some("HTTP/1.1 431 Request Header Fields Too Large"),
            "{bytes} bytes"
        );
    }
    // Events posted with ordinary heads are not affected.
    let response = app.post_event(&json!({"site": SITE, "name": "pageview", "url": "https://example.com/"})).await;
    assert_eq!(response.status().as_u16(), 202);
    app.wait_for_events(1).await;
    app.stop().await;
}
