//! Attacks on who may read: guessing tokens on the reports API, the dashboard's login
//! form and share links; logging a browser in from another site (login CSRF); and
//! flooding the collector with share-link sessions. Each is replayed from loopback
//! against the real server behind a trusted proxy on 127.0.0.1 that sets
//! `X-Forwarded-For`, one address per simulated client.

use footfall::auth::{TokenKind, TokenRecord};
use footfall::auth::{WRONG_TOKENS_PER_WINDOW, WRONG_TOKEN_WINDOW};
use footfall::dashboard::session::{MAX_SESSIONS_PER_TOKEN, SESSIONS_BURST, SESSION_EVERY};
use serde_json::Value;

use crate::browser::{plain_page, Browser, PageServer};
use crate::helpers::{metric, spawn_app_with, TestApp, SITE};
use crate::reports::ADMIN;

const N: usize = WRONG_TOKENS_PER_WINDOW as usize;
/// The client that guesses.
const GUESSER: &str = "203.0.113.66";
/// Another client, with the right token.
const HONEST: &str = "198.51.100.20";

/// An app behind a trusted proxy on loopback that sets `X-Forwarded-For`.
async fn behind_a_proxy() -> TestApp {
    spawn_app_with(|settings| {
        settings.ingest.client_ip_header = Some("X-Forwarded-For".into());
        settings.ingest.trusted_proxies = vec!["127.0.0.1".into()];
    })
    .await
}

/// A client that keeps no cookies and follows no redirects.
fn http() -> reqwest::Client {
    reqwest::Client::builder().redirect(reqwest::redirect::Policy::none()).build().unwrap()
}

/// `GET` a report with bearer `token`, as client `from`.
async fn report(app: &TestApp, from: &str, token: &str) -> reqwest::Response {
    http()
        .get(format!("{}/api/v1/sites/{SITE}/reports/realtime", app.address))
        .header("X-Forwarded-For", from)
        .bearer_auth(token)
        .send()
        .await
        .unwrap()
}

/// `POST /dashboard/login` with `token`, as client `from`, with `headers`.
async fn login(app: &TestApp, from: &str, token: &str, headers: &[(&str, &str)]) -> reqwest::Response {
    let mut request = http()
        .post(format!("{}/dashboard/login", app.address))
        .header("X-Forwarded-For", from)
        .form(&[("token", token)]);
    for (name, value) in headers {
        request = request.header(*name, *value);
    }
    request.send().await.unwrap()
}

/// `GET /dashboard/share?token=...`, as client `from`, with `headers`.
async fn share(app: &TestApp, from: &str, token: &str, headers: &[(&str, &str)]) -> reqwest::Response {
    let mut request = http()
        .get(format!("{}/dashboard/share", app.address))
        .query(&[("token", token)])
        .header("X-Forwarded-For", from);
    for (name, value) in headers {
        request = request.header(*name, *value);
    }
    request.send().await.unwrap()
}

/// `POST /dashboard/share` (the button of a share link followed from another site) with
/// `Origin: origin`, as client `from`.
async fn confirm_share(app: &TestApp, from: &str, origin: &str, token: &str) -> reqwest::Response {
    http()
        .post(format!("{}/dashboard/share", app.address))
        .header("X-Forwarded-For", from)
        .header("Origin", origin)
        .form(&[("token", token)])
        .send()
        .await
        .unwrap()
}

/// `GET path` with session `cookie`, as client `from`: the status.
async fn with_session(app: &TestApp, from: &str, path: &str, cookie: &str) -> u16 {
    let response = http()
        .get(format!("{}{path}", app.address))
        .header("X-Forwarded-For", from)
        .header("Cookie", cookie)
        .send()
        .await
        .unwrap();
    response.status().as_u16()
}

/// The `footfall_session=...` pair a response sets, if it sets one.
fn session_cookie(response: &reqwest::Response) -> Option<String> {
    response
        .headers()
        .get_all("set-cookie")
        .iter()
        .map(|value| value.to_str().unwrap())
        .find(|value| value.starts_with("footfall_session=") && !value.starts_with("footfall_session=;"))
        .map(|value| value.split(';').next().unwrap().to_string())
}

/// `Retry-After` in seconds.
fn retry_after(response: &reqwest::Response) -> u64 {
    response.headers()["retry-after"].to_str().unwrap().parse().unwrap()
}

/// Stores a read-only token for `site` as `footfall share create` does; the token.
async fn share_token(app: &TestApp) -> String {
    let new = footfall::auth::new_token();
    let record = TokenRecord {
        id: new.id,
        site: SITE.into(),
        hash: new.hash,
        label: String::new(),
        created_at: 0,
        kind: TokenKind::ShareLink,
        locked_filters: String::new(),
    };
    app.store.put_token(&record).await.unwrap();
    new.token
}

/// The statuses of `count` identical calls of `send`, in order.
async fn statuses<F: std::future::Future<Output = reqwest::Response>>(count: usize, send: impl Fn() -> F) -> Vec<u16> {
    let mut statuses = Vec::with_capacity(count);
    for _ in 0..count {
        statuses.push(send().await.status().as_u16());
    }
    statuses
}

/// `first` times `a`, then `b` up to `count` in all.
fn expected(count: usize, first: usize, a: u16, b: u16) -> Vec<u16> {
    (0..count).map(|i| if i < first { a } else { b }).collect()
}

#[tokio::test(flavor = "multi_thread")]
async fn wrong_report_tokens_are_throttled_per_client() {
    let app = behind_a_proxy().await;

    let mut got = Vec::new();
    for i in 0..300 {
        got.push(report(&app, GUESSER, &format!("wrong-token-{i}")).await.status().as_u16());
    }
    assert_eq!(got, expected(300, N, 401, 429), "{N} wrong tokens, then 429");
    let throttled = report(&app, GUESSER, "wrong-token").await;
    let retry = retry_after(&throttled);
    let window = WRONG_TOKEN_WINDOW.as_secs();
    assert!((window - 30..=window).contains(&retry), "Retry-After {retry} of a {window} s window");
    let body: Value = throttled.json().await.unwrap();
    assert_eq!(body["field"], "Authorization", "{body}");
    assert!(body["error"].as_str().unwrap().starts_with("too many wrong tokens"), "{body}");

    // The guesser's right token is refused too (else the guessing would go on), also from
    // another address in its IPv6 /64 when it guesses over IPv6 ...
    assert_eq!(report(&app, GUESSER, ADMIN).await.status(), 429);
    for i in 0..N {
        let from = format!("2001:db8:1:2::{i:x}");
        assert_eq!(report(&app, &from, &format!("wrong-{i}")).await.status(), 401);
    }
    assert_eq!(report(&app, "2001:db8:1:2:ffff::1", ADMIN).await.status(), 429);
    // ... but a right token from another client never waits behind them, and requests
    // without a token are not wrong tokens.
    let no_token = || {
        http()
            .get(format!("{}/api/v1/sites/{SITE}/reports/realtime", app.address))
            .header("X-Forwarded-For", HONEST)
            .send()
    };
    for _ in 0..3 * N {
        assert_eq!(no_token().await.unwrap().status(), 401);
    }
    assert_eq!(report(&app, HONEST, ADMIN).await.status(), 200);
    assert_eq!(report(&app, "2001:db8:1:3::1", ADMIN).await.status(), 200);

    let metrics = app.metrics().await;
    assert_eq!(metric(&metrics, "footfall_reports_token_failures_total"), 2 * N as u64);
    assert_eq!(metric(&metrics, "footfall_reports_tokens_throttled_total"), (300 - N) as u64 + 3);
    app.stop().await;
}

#[tokio::test(flavor = "multi_thread")]
async fn wrong_logins_and_share_links_are_throttled_per_client() {
    let app = behind_a_proxy().await;
    let link = share_token(&app).await;

    // Wrong logins: N answered 401, then 429 with the login page and Retry-After.
    let got = statuses(300, || login(&app, GUESSER, "wrong-token", &[])).await;
    assert_eq!(got, expected(300, N, 401, 429));
    let throttled = login(&app, GUESSER, ADMIN, &[]).await;
    assert_eq!(throttled.status(), 429, "the right token waits too");
    assert!(retry_after(&throttled) > WRONG_TOKEN_WINDOW.as_secs() - 30);
    assert_eq!(session_cookie(&throttled), None);
    assert!(throttled.text().await.unwrap().contains("<form method=\"post\" action=\"/dashboard/login\">"));
    // One budget for every door: the guesser's share link and report token wait as well.
    assert_eq!(share(&app, GUESSER, &link, &[]).await.status(), 429);
    assert_eq!(report(&app, GUESSER, ADMIN).await.status(), 429);

    // Wrong share links from another client: likewise.
    let prober = "192.0.2.77";
    let got = statuses(300, || share(&app, prober, "fft_000000000000_wrong", &[])).await;
    assert_eq!(got, expected(300, N, 401, 429));
    let throttled = share(&app, prober, &link, &[]).await;
    assert_eq!(throttled.status(), 429);
    assert!(retry_after(&throttled) > WRONG_TOKEN_WINDOW.as_secs() - 30);
    assert_eq!(session_cookie(&throttled), None);

    // Right tokens from other clients go through at once.
    let login_ok = login(&app, HONEST, ADMIN, &[]).await;
    assert_eq!(login_ok.status(), 303);
    assert!(session_cookie(&login_ok).is_some());
    let share_ok = share(&app, HONEST, &link, &[]).await;
    assert_eq!(share_ok.status(), 200);
    assert!(session_cookie(&share_ok).is_some());

    let metrics = app.metrics().await;
    assert_eq!(metric(&metrics, "footfall_dashboard_login_failures_total"), 2 * N as u64);
    assert_eq!(metric(&metrics, "footfall_dashboard_logins_throttled_total"), 2 * (300 - N) as u64 + 3);
    app.stop().await;
}

#[tokio::test(flavor = "multi_thread")]
async fn a_login_from_another_site_is_refused() {
    let app = behind_a_proxy().await;
    let own = app.address.as_str();
    let from = "198.51.100.30";
    for headers in [
        vec![("Origin", "https://evil.example")],
        vec![("Sec-Fetch-Site", "cross-site")],
        vec![("Origin", "https://evil.example"), ("Sec-Fetch-Site", "cross-site")],
        vec![("Origin", "null")],
        vec![("Origin", "null"), ("Sec-Fetch-Site", "same-site")],
        vec![("Origin", "http://127.0.0.1:1")],
        vec![("Origin", own), ("Sec-Fetch-Site", "cross-site")],
    ] {
        let response = login(&app, from, ADMIN, &headers).await;
        assert_eq!(response.status(), 403, "{headers:?}");
        assert_eq!(session_cookie(&response), None, "{headers:?}");
    }
    // Same origin (what the dashboard's own form sends) and no header at all (curl) log in.
    let same = login(&app, from, ADMIN, &[("Origin", own), ("Sec-Fetch-Site", "same-origin")]).await;
    assert_eq!(same.status(), 303);
    let cookie = session_cookie(&same).expect("a same-origin login opens a session");
    assert_eq!(with_session(&app, from, &format!("/dashboard/{SITE}"), &cookie).await, 200);
    assert_eq!(login(&app, from, ADMIN, &[]).await.status(), 303);

    // Logging the browser out from another site is refused too; the session lives on.
    let logout = http()
        .post(format!("{}/dashboard/logout", app.address))
        .header("X-Forwarded-For", from)
        .header("Cookie", &cookie)
        .header("Origin", "https://evil.example")
        .send()
        .await
        .unwrap();
    assert_eq!(logout.status(), 403);
    assert_eq!(with_session(&app, from, &format!("/dashboard/{SITE}"), &cookie).await, 200);

    // A share link followed from another site opens no session: it asks first, and the
    // answer must come from this origin.
    let link = share_token(&app).await;
    let followed = share(&app, from, &link, &[("Sec-Fetch-Site", "cross-site")]).await;
    assert_eq!(followed.status(), 200);
    assert_eq!(session_cookie(&followed), None);
    let page = followed.text().await.unwrap();
    assert!(page.contains("<form method=\"post\" action=\"/dashboard/share\">"), "{page}");
    assert!(page.contains(&format!("name=\"token\" value=\"{link}\"")), "{page}");
    let forged = confirm_share(&app, from, "https://evil.example", &link).await;
    assert_eq!(forged.status(), 403);
    assert_eq!(session_cookie(&forged), None);
    let confirmed = confirm_share(&app, from, own, &link).await;
    assert_eq!(confirmed.status(), 200);
    assert!(session_cookie(&confirmed).is_some());
    assert!(confirmed.text().await.unwrap().contains("shared read-only view"));
    app.stop().await;
}

/// The same attacks from a real browser: a page on another site (`localhost`; the app is
/// on `127.0.0.1`) that posts the login form on load is refused and leaves no session,
/// and a share link clicked there opens only after the person confirms on the
/// collector's own page (the dashboard's own login form works in a real browser:
/// `dashboard_browser`).
#[tokio::test(flavor = "multi_thread")]
async fn a_real_browser_is_not_logged_in_from_another_site() {
    let app = behind_a_proxy().await;
    let link = share_token(&app).await;
    let pages = PageServer::start().await;
    let login_form = format!(
        "<form id=\"f\" method=\"post\" action=\"{}/dashboard/login\"><input name=\"token\" value=\"{ADMIN}\"></form>\
         <script>document.getElementById('f').submit()</script>",
        app.address
    );
    pages.put("/login", plain_page(&login_form));
    let share_link = format!("<a id=\"share\" href=\"{}/dashboard/share?token={link}\">our numbers</a>", app.address);
    pages.put("/share", plain_page(&share_link));
    let browser = Browser::launch().await;

    browser.open(&pages.url("localhost", "/login")).await;
    browser.wait_for_path("/dashboard/login").await;
    let shown = browser.js("return document.body.textContent").await;
    assert!(shown.as_str().unwrap().contains("sent from another site and was refused"), "{shown}");
    assert_eq!(browser.cookie_names().await, Vec::<String>::new(), "no session cookie");

    browser.open(&pages.url("localhost", "/share")).await;
    browser.click("#share").await;
    browser.wait_for_path("/dashboard/share").await;
    assert_eq!(browser.cookie_names().await, Vec::<String>::new(), "no session before confirming");
    browser.click("form[action='/dashboard/share'] button[type=submit]").await;
    browser.wait_for_path(&format!("/dashboard/{SITE}")).await;
    browser.wait_until("return document.querySelector('.shared') !== null").await;
    assert_eq!(browser.cookie_names().await, vec!["footfall_session".to_string()]);
    browser.quit().await;
    app.stop().await;
}

#[tokio::test(flavor = "multi_thread")]
async fn a_share_link_flood_is_throttled_and_ends_no_real_session() {
    let app = behind_a_proxy().await;
    let (flooded, other) = (share_token(&app).await, share_token(&app).await);
    let dashboard = format!("/dashboard/{SITE}");

    // Real sessions, opened before the flood: an admin login and another link's viewer.
    let admin = session_cookie(&login(&app, HONEST, ADMIN, &[]).await).expect("admin session");
    let viewer = session_cookie(&share(&app, "198.51.100.21", &other, &[]).await).expect("viewer session");

    // One client opening the link over and over: a burst, then 429 with Retry-After.
    let flooder = "203.0.113.99";
    let mut got = Vec::new();
    let mut first = None;
    for _ in 0..(SESSIONS_BURST as usize + 10) {
        let response = share(&app, flooder, &flooded, &[]).await;
        got.push(response.status().as_u16());
        match response.status().as_u16() {
            200 => {
                first = first.or(session_cookie(&response));
            }
            429 => {
                assert_eq!(session_cookie(&response), None);
                assert!((1..=SESSION_EVERY.as_secs()).contains(&retry_after(&response)));
            }
            _ => {}
        }
    }
    assert_eq!(got, expected(SESSIONS_BURST as usize + 10, SESSIONS_BURST as usize, 200, 429));
    let first = first.unwrap();
    assert_eq!(with_session(&app, flooder, &dashboard, &first).await, 200);

    // Many clients opening the same link: it holds MAX_SESSIONS_PER_TOKEN sessions at
    // most, so its own oldest sessions end, and no other session does.
    for i in 0..MAX_SESSIONS_PER_TOKEN {
        let from = format!("10.{}.{}.1", i / 256, i % 256);
        let response = share(&app, &from, &flooded, &[]).await;
        assert_eq!(response.status(), 200, "open {i}");
    }
    assert_eq!(with_session(&app, flooder, &dashboard, &first).await, 401, "the link's oldest session ended");
    assert_eq!(with_session(&app, HONEST, &dashboard, &admin).await, 200, "the admin's login lives on");
    assert_eq!(with_session(&app, "198.51.100.21", &dashboard, &viewer).await, 200, "another link's viewer too");

    let metrics = app.metrics().await;
    assert_eq!(metric(&metrics, "footfall_dashboard_sessions_refused_total"), 10);
    app.stop().await;
}
