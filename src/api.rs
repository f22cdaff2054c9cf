//! The HTTP API as one map: [`routes`] registers every route footfall serves, and builds
//! the OpenAPI document served at `GET /api/openapi.json` from those registrations.
//!
//! Each module registers its handlers in its own `configure` through `utoipa-actix-web`'s
//! `ServiceConfig`, whose `service` takes only handlers that carry a `#[utoipa::path]`
//! beside their actix route attribute (`#[get("/healthz")]`): the path and method of the
//! route and of its documentation are the same tokens, and the document is the operations
//! collected as the routes were registered, plus what no handler owns (`ApiDoc`: title,
//! tags, the bearer scheme). Answer types derive their schemas (`ToSchema`) from the
//! structs that are serialized. Its `route` and `map` would register a route without
//! documenting it: `tests/api/openapi.rs` compares the document with the routes the
//! router serves, both ways, and fails on such a route.
//!
//! Also the shape every refusal shares, [`ErrorBody`].

use actix_web::dev::{ServiceFactory, ServiceRequest};
use actix_web::{get, web, App, HttpResponse};
use serde::Serialize;
use utoipa::openapi::security::{Http, HttpAuthScheme, SecurityScheme};
use utoipa::{Modify, OpenApi, ToSchema};
use utoipa_actix_web::service_config::ServiceConfig;
use utoipa_actix_web::AppExt;

/// The parts of the document that belong to no route.
#[derive(OpenApi)]
#[openapi(
    info(
        title = "footfall",
        description = "Privacy-first web analytics collector: event intake, reports, the dashboard, and \
                       operations endpoints. docs/reports.md defines every number a report answers.",
        license(name = "Apache-2.0"),
    ),
    tags(
        (name = "intake", description = "Events from the beacon and from servers"),
        (name = "rights", description = "Visitors' rights: forget"),
        (name = "reports", description = "What the product team reads"),
        (name = "content", description = "The content registry: pages and their publish times (admin token)"),
        (name = "dashboard", description = "The product team's pages in the browser, and what they load"),
        (name = "browser", description = "What a site's visitors' browsers load: the beacon, the opt-out page"),
        (name = "operations", description = "Health, readiness, metrics, this document"),
    ),
    components(schemas(ErrorBody)),
    modifiers(&BearerScheme),
)]
struct ApiDoc;

/// Adds the `bearer` security scheme the reports and intake refer to.
struct BearerScheme;

impl Modify for BearerScheme {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        let mut bearer = Http::new(HttpAuthScheme::Bearer);
        bearer.description = Some(
            "The admin token (`admin_token`, FOOTFALL_ADMIN_TOKEN) or a report token `fft_<id>_<secret>` \
             (`footfall tokens create --site S`)"
                .into(),
        );
        let components = openapi.components.get_or_insert_with(Default::default);
        components.add_security_scheme("bearer", SecurityScheme::Http(bearer));
    }
}

/// The body of every refusal (4xx, 503) of the intake, forget, report and content APIs.
#[derive(Debug, Serialize, ToSchema)]
#[schema(example = json!({"error": "`from` is after `to`; the range is from..=to", "field": "from"}))]
pub struct ErrorBody {
    /// What is wrong and what to do.
    pub error: String,
    /// The field, parameter or header at fault; `null` when it is none of them.
    #[schema(required = true)]
    pub field: Option<String>,
}

/// The document as served, serialized once.
struct Document(web::Bytes);

/// `app` with every route of the API and the document built from them.
pub fn routes<T>(app: App<T>) -> App<T>
where
    T: ServiceFactory<ServiceRequest, Config = (), Error = actix_web::Error, InitError = ()>,
{
    let (app, document) = app.into_utoipa_app().openapi(ApiDoc::openapi()).configure(configure).split_for_parts();
    let json = document.to_json().expect("an OpenAPI document serializes");
    app.app_data(web::Data::new(Document(json.into())))
}

/// Every module's routes, in the order the router tries them.
fn configure(config: &mut ServiceConfig<'_>) {
    config
        .configure(crate::ingest::configure)
        .configure(crate::rights::configure)
        .configure(crate::ops::configure)
        .configure(crate::web::configure)
        .configure(crate::reports::configure)
        .configure(crate::content::configure)
        .configure(crate::dashboard::configure)
        .service(openapi_json);
}

/// This document.
#[utoipa::path(
    tag = "operations",
    responses((status = OK, description = "The OpenAPI 3.1 document of every route footfall serves", content_type = "application/json")),
)]
#[get("/api/openapi.json")]
async fn openapi_json(document: web::Data<Document>) -> HttpResponse {
    HttpResponse::Ok().content_type("application/json").body(document.0.clone())
}
