//! The opt-out page, `GET /opt-out[?site=example.com]`: explains what footfall counts and
//! stores, and offers buttons that call the beacon's `footfall.optOut()`,
//! `footfall.optIn()` and `footfall.forget()`. The page loads the beacon in manual mode,
//! so it sends no event; forget posts to `/api/forget` on this collector (`connect-src
//! 'self'`).
//!
//! The choice is a cookie (`footfall_optout`) for the site's domain. With `?site=`, the
//! cookie is written for that domain when this page is served from it or a subdomain
//! (the usual set-up: footfall at analytics.example.com), so the site's own pages see it.

use actix_web::http::header;
use actix_web::{get, HttpRequest, HttpResponse};

use crate::api::ErrorBody;
use crate::sites::Domain;

const TEMPLATE: &str = include_str!("opt_out.html");

/// The page explaining what footfall collects, with opt-out, opt-in and forget buttons.
#[utoipa::path(
    tag = "browser",
    params(("site" = Option<String>, Query, description = "The site whose domain the choice cookie is written for", example = "example.com")),
    responses(
        (status = OK, description = "HTML page", body = String, content_type = "text/html; charset=utf-8"),
        (status = BAD_REQUEST, description = "`site` is not a domain", body = ErrorBody),
    ),
)]
#[get("/opt-out")]
pub(super) async fn opt_out_page(req: HttpRequest) -> HttpResponse {
    let site = url::form_urlencoded::parse(req.query_string().as_bytes())
        .find(|(key, _)| key == "site")
        .map(|(_, value)| value.into_owned())
        .filter(|value| !value.is_empty());
    let domain = match site.map(|site| Domain::parse(&site)) {
        None => None,
        Some(Ok(domain)) => Some(domain),
        Some(Err(_)) => {
            return HttpResponse::BadRequest().json(ErrorBody {
                error: "`site` must be a domain such as example.com".into(),
                field: Some("site".into()),
            })
        }
    };
    HttpResponse::Ok()
        .insert_header((header::CONTENT_TYPE, "text/html; charset=utf-8"))
        .insert_header((header::CACHE_CONTROL, "public, max-age=3600"))
        .insert_header((
            header::CONTENT_SECURITY_POLICY,
            "default-src 'none'; script-src 'self' 'unsafe-inline'; style-src 'unsafe-inline'; connect-src 'self'",
        ))
        .body(render(domain.as_ref().map(Domain::as_str)))
}

/// The page for `domain` (validated: only letters, digits, dots and hyphens, so it needs no
/// escaping), or for "this site" without one.
fn render(domain: Option<&str>) -> String {
    let site_attr = domain.map(|domain| format!(" data-site=\"{domain}\"")).unwrap_or_default();
    TEMPLATE.replace("{{SITE_ATTR}}", &site_attr).replace("{{SITE_NAME}}", domain.unwrap_or("this site"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn renders_with_and_without_a_site() {
        let page = render(Some("example.com"));
        assert!(page.contains(r#"<script defer src="/js/footfall.js" data-manual data-site="example.com"></script>"#));
        assert!(page.contains("<h1>Analytics on example.com</h1>"));
        assert!(!page.contains("{{"), "a placeholder was left");
        let page = render(None);
        assert!(page.contains(r#"<script defer src="/js/footfall.js" data-manual></script>"#));
        assert!(page.contains("<h1>Analytics on this site</h1>"));
    }
}
