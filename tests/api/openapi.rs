//! The OpenAPI document against the router. The routes are read from actix's own route
//! table, not from a list kept here: every (path, method) the router serves is documented,
//! every documented operation is served, and the running app serves that document and
//! answers every operation in it.
//!
//! actix-web keeps its route table private; its `Debug` form is the only listing it
//! gives, so the test reads the patterns from that and finds each pattern's methods by
//! asking the router. Should that form change, no pattern is found and the comparison
//! fails; it never passes by finding nothing. (The app has no `web::scope`; a scope's
//! patterns would be read relative to it and fail the comparison until the test joins
//! them.)

use std::collections::BTreeSet;

use actix_web::dev::{Service, ServiceResponse};
use actix_web::http::Method;
use actix_web::{test, web, App, HttpResponse};
use serde_json::Value;

use crate::helpers::{spawn_app, SITE};

/// The methods an OpenAPI path item can hold.
const METHODS: [&str; 8] = ["get", "head", "post", "put", "patch", "delete", "options", "trace"];
/// What the test's fallback answers with: the router matched no route.
const UNROUTED: &str = "x-test-unrouted";

type Operations = BTreeSet<(String, String)>;

/// `pattern` with its parameters filled: the registered site, a report, a dashboard.
fn concrete(pattern: &str) -> String {
    pattern.replace("{site}", SITE).replace("{name}", "realtime").replace("{slug}", "overview")
}

/// The (path, method) pairs of an OpenAPI document.
fn documented(document: &Value) -> Operations {
    let paths = document["paths"].as_object().expect("the document has paths");
    let mut operations = Operations::new();
    for (path, item) in paths {
        for method in METHODS.into_iter().filter(|method| item.get(*method).is_some()) {
            operations.insert((path.clone(), method.to_string()));
        }
    }
    operations
}

/// The path patterns in the `Debug` form of actix's route table.
fn patterns(route_table: &str) -> BTreeSet<String> {
    assert!(!route_table.contains("patterns: List("), "a resource with several patterns: teach this test to read them");
    route_table
        .split("patterns: Single(\"")
        .skip(1)
        .map(|rest| rest.split_once("\")").expect("a pattern ends").0.to_string())
        .filter(|pattern| !pattern.is_empty())
        .collect()
}

fn difference(left: &Operations, right: &Operations) -> Vec<String> {
    left.difference(right).map(|(path, method)| format!("{} {path}", method.to_uppercase())).collect()
}

#[actix_web::test]
async fn the_router_serves_exactly_the_documented_operations() {
    // The app's routes exactly as `startup` registers them, with a fallback that says when
    // the router matched nothing. Handlers run without their state: what they answer does
    // not matter here, only which route the router picked.
    let app = test::init_service(footfall::api::routes(
        App::new()
            .default_service(web::to(|| async { HttpResponse::NotFound().insert_header((UNROUTED, "1")).finish() })),
    ))
    .await;
    let call = |method: &str, path: &str| {
        let request = test::TestRequest::default().method(Method::from_bytes(method.as_bytes()).unwrap()).uri(path);
        app.call(request.to_request())
    };
    let document: Value = {
        let response: ServiceResponse = call("GET", "/api/openapi.json").await.unwrap();
        assert_eq!(response.status(), 200);
        serde_json::from_slice(&test::read_body(response).await).expect("the document is JSON")
    };
    let route_table = {
        let response = call("GET", "/healthz").await.unwrap();
        format!("{:?}", response.request().resource_map())
    };

    let mut served = Operations::new();
    for pattern in patterns(&route_table) {
        for method in METHODS {
            let response = call(&method.to_uppercase(), &concrete(&pattern)).await.unwrap();
            // 405: a resource matched the path but has no route for the method.
            let routed = !response.headers().contains_key(UNROUTED) && response.status() != 405;
            if routed && response.request().match_pattern().as_deref() == Some(pattern.as_str()) {
                served.insert((pattern.clone(), method.to_string()));
            }
        }
    }
    let documented = documented(&document);
    assert!(served.len() >= 20, "the route table was not read: {served:?}");
    assert!(
        served == documented,
        "served, not documented: {:?}\ndocumented, not served: {:?}",
        difference(&served, &documented),
        difference(&documented, &served)
    );
}

/// What every client relies on in the document: its version, unique operation ids, the
/// report names, the refusals of the reports API with their JSON shape, and every
/// reference resolving.
fn check_document(document: &Value) {
    assert!(document["openapi"].as_str().unwrap().starts_with("3."));
    let operations: Vec<&Value> = document["paths"]
        .as_object()
        .unwrap()
        .values()
        .flat_map(|item| METHODS.into_iter().filter_map(move |method| item.get(method)))
        .collect();
    let ids: Vec<&str> = operations.iter().map(|operation| operation["operationId"].as_str().unwrap()).collect();
    assert_eq!(ids.iter().collect::<BTreeSet<_>>().len(), ids.len(), "operation ids are unique: {ids:?}");

    let report = &document["paths"]["/api/v1/sites/{site}/reports/{name}"]["get"];
    let name = report["parameters"].as_array().unwrap().iter().find(|p| p["name"] == "name").expect("`name` is listed");
    assert_eq!(
        name["schema"]["enum"],
        serde_json::json!([
            "top-content",
            "busiest-times",
            "content-discovery",
            "publish-timing",
            "sources",
            "devices",
            "countries",
            "timeseries",
            "realtime",
            "not-stored",
            "events",
            "goals",
            "funnel"
        ])
    );
    let compare =
        report["parameters"].as_array().unwrap().iter().find(|p| p["name"] == "compare").expect("`compare` is listed");
    assert_eq!(compare["schema"]["enum"], serde_json::json!(["previous", "year"]));
    for schema in ["CompareHeader", "RealtimeCompare", "TopContentPrevious", "TimeseriesPrevious", "ContentTotals"] {
        assert!(document["components"]["schemas"].get(schema).is_some(), "`{schema}` is documented");
    }
    assert_eq!(report["security"], serde_json::json!([{"bearer": []}]));
    assert_eq!(document["components"]["securitySchemes"]["bearer"]["scheme"], "bearer");
    for status in ["400", "401", "403", "404", "429", "503"] {
        assert_eq!(
            report["responses"][status]["content"]["application/json"]["schema"]["$ref"],
            "#/components/schemas/ErrorBody",
            "{status}"
        );
    }
    let error = &document["components"]["schemas"]["ErrorBody"];
    assert_eq!(error["required"], serde_json::json!(["error", "field"]));

    let text = document.to_string();
    for reference in text.split("\"$ref\":\"#/components/schemas/").skip(1) {
        let name = reference.split('"').next().unwrap();
        assert!(document["components"]["schemas"].get(name).is_some(), "`{name}` is referred to but not defined");
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn the_running_app_serves_its_document_and_answers_every_operation_in_it() {
    let app = spawn_app().await;
    let response = app.http.get(format!("{}/api/openapi.json", app.address)).send().await.unwrap();
    assert_eq!(response.status(), 200);
    assert_eq!(response.headers()["content-type"], "application/json");
    let document: Value = response.json().await.expect("the document is JSON");
    check_document(&document);

    // Every documented operation reaches a handler (no 404 or 405 from the router): the
    // answers are the handlers' own (401 without a session or token, 400 without a body).
    for (path, method) in documented(&document) {
        let url = format!("{}{}", app.address, concrete(&path));
        let status = app.http.request(method.to_uppercase().parse().unwrap(), url).send().await.unwrap().status();
        assert!(![404, 405].contains(&status.as_u16()), "{method} {path}: {status}");
    }
    app.stop().await;
}
