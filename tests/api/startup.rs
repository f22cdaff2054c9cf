//! Start-up: `footfall serve` says which features are off, and why, before it listens.

use crate::helpers::{child_env, eventually, test_settings, ChildApp};

/// Stops `app` as an operator would, once it serves (a TERM before the server has
/// installed its signal handlers would kill it outright), and checks it exits cleanly.
async fn stop(mut app: ChildApp) {
    let http = reqwest::Client::new();
    let health = format!("{}/healthz", app.address);
    eventually("footfall serves /healthz", || async {
        http.get(&health).send().await.is_ok_and(|answer| answer.status() == 200)
    })
    .await;
    app.signal("TERM");
    assert_eq!(app.wait().await, Some(0));
}

#[tokio::test(flavor = "multi_thread")]
async fn start_up_says_which_features_are_off_and_why() {
    let settings = test_settings();
    let without_admin: Vec<(String, String)> =
        child_env(&settings).into_iter().filter(|(key, _)| key != "FOOTFALL_ADMIN_TOKEN").collect();
    let app = ChildApp::spawn(without_admin).await;
    let log = app.log();
    assert!(
        log.contains("admin off: no admin token is set (FOOTFALL_ADMIN_TOKEN), so events' `ts` is ignored"),
        "{log}"
    );
    assert!(log.contains("retention off: retention_days is 0 (FOOTFALL_RETENTION_DAYS)"), "{log}");
    assert!(log.contains("durable mode off (FOOTFALL_DURABLE)"), "{log}");
    stop(app).await;

    // With the admin token, durable mode and a retention, nothing is said to be off.
    let mut env = child_env(&settings);
    env.retain(|(key, _)| key != "FOOTFALL_DURABLE");
    env.push(("FOOTFALL_DURABLE".into(), "true".into()));
    env.push(("FOOTFALL_RETENTION_DAYS".into(), "30".into()));
    let app = ChildApp::spawn(env).await;
    let log = app.log();
    for notice in ["admin off", "retention off", "durable mode off"] {
        assert!(!log.contains(notice), "{log}");
    }
    stop(app).await;
}
