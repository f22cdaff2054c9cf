//! Start-up: `footfall serve` says which features are off, and why, before it listens.

use crate::helpers::{child_env, test_settings, ChildApp};

#[tokio::test(flavor = "multi_thread")]
async fn start_up_says_which_features_are_off_and_why() {
    let settings = test_settings();
    let without_admin: Vec<(String, String)> =
        child_env(&settings).into_iter().filter(|(key, _)| key != "FOOTFALL_ADMIN_TOKEN").collect();
    let mut app = ChildApp::spawn(without_admin).await;
    let log = app.log();
    assert!(
        log.contains("admin off: no admin token is set (FOOTFALL_ADMIN_TOKEN), so events' `ts` is ignored"),
        "{log}"
    );
    assert!(log.contains("retention off: retention_days is 0 (FOOTFALL_RETENTION_DAYS)"), "{log}");
    assert!(log.contains("durable mode off (FOOTFALL_DURABLE)"), "{log}");
    app.signal("TERM");
    assert_eq!(app.wait().await, Some(0));

    // With the admin token, durable mode and a retention, nothing is said to be off.
    let mut env = child_env(&settings);
    env.retain(|(key, _)| key != "FOOTFALL_DURABLE");
    env.push(("FOOTFALL_DURABLE".into(), "true".into()));
    env.push(("FOOTFALL_RETENTION_DAYS".into(), "30".into()));
    let mut app = ChildApp::spawn(env).await;
    let log = app.log();
    for notice in ["admin off", "retention off", "durable mode off"] {
        assert!(!log.contains(notice), "{log}");
    }
    app.signal("TERM");
    assert_eq!(app.wait().await, Some(0));
}
