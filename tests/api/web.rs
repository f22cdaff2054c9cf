//! What browsers load from footfall over HTTP: the beacon script (encodings, caching
//! headers, 304s, size budget as served) and the opt-out page.

use std::io::Read as _;

use footfall::web::beacon::{GZIP_BUDGET, SCRIPT};

use crate::helpers::spawn_app;

#[tokio::test(flavor = "multi_thread")]
async fn the_beacon_is_served_gzipped_with_caching_headers_and_304s() {
    let app = spawn_app().await;
    let url = format!("{}/js/footfall.js", app.address);

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
    assert!(body.len() <= GZIP_BUDGET, "the served beacon is {} bytes gzipped, budget {GZIP_BUDGET}", body.len());
    let mut script = Vec::new();
    flate2::read::GzDecoder::new(&body[..]).read_to_end(&mut script).unwrap();
    assert_eq!(script, SCRIPT);

    let plain = app.http.get(&url).send().await.unwrap();
    assert_eq!(header(&plain, "content-encoding"), "");
    let plain_etag = header(&plain, "etag");
    assert_ne!(plain_etag, gzip_etag);
    assert_eq!(plain.bytes().await.unwrap(), SCRIPT);

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
    app.stop().await;
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
