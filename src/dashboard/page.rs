//! The HTML of the dashboard's pages: a small server-rendered shell (header, site picker,
//! navigation, date range picker, a share link's locked filters as chips, the panels'
//! empty frames) that `assets/dashboard.js` fills from the reports API. Everything
//! interpolated is escaped; the dashboard definition travels as JSON in a non-executed
//! `<script type="application/json">`.

use std::fmt::Write;

use actix_web::http::{header, StatusCode};
use actix_web::HttpResponse;

use super::definition::{Catalog, Dashboard};
use crate::reports::params::LockedFilters;

/// The Content-Security-Policy of every dashboard page: scripts, styles and data from
/// footfall itself only; no inline script or style, no frames, no other origins.
pub(super) const CSP: &str = "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; \
                       connect-src 'self'; form-action 'self'; base-uri 'none'; frame-ancestors 'none'";

/// Escapes text for HTML content and quoted attributes.
pub(super) fn escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            _ => out.push(c),
        }
    }
    out
}

/// A page with the dashboard's headers: strict CSP, no caching, and no referrer for any
/// other origin (a share link carries a token in its URL). `same-origin` rather than
/// `no-referrer`: under `no-referrer` browsers send `Origin: null` with the page's own
/// form posts, which the login CSRF check ([`super::same_origin`]) cannot tell from
/// another site's.
pub(super) fn respond(status: StatusCode, title: &str, body: &str) -> HttpResponse {
    HttpResponse::build(status)
        .content_type("text/html; charset=utf-8")
        .insert_header((header::CONTENT_SECURITY_POLICY, CSP))
        .insert_header((header::CACHE_CONTROL, "no-store"))
        .insert_header((header::REFERRER_POLICY, "same-origin"))
        .insert_header((header::X_CONTENT_TYPE_OPTIONS, "nosniff"))
        .insert_header((header::X_FRAME_OPTIONS, "DENY"))
        .body(document(title, body))
}

fn document(title: &str, body: &str) -> String {
    format!(
        "<!doctype html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">\
         <meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\
         <title>{} · footfall</title>\
         <link rel=\"stylesheet\" href=\"/dashboard/assets/dashboard.css\">\
         <script defer src=\"/dashboard/assets/dashboard.js\"></script></head>\n\
         <body><a class=\"skip\" href=\"#main\">Skip to content</a>{body}</body></html>\n",
        escape(title)
    )
}

/// The login form; `message` says why it is shown again.
pub(super) fn login(status: StatusCode, message: &str) -> HttpResponse {
    let notice = if message.is_empty() {
        String::new()
    } else {
        format!("<p class=\"notice error\" role=\"alert\">{}</p>", escape(message))
    };
    let body = format!(
        "<main id=\"main\" class=\"login\"><h1>footfall</h1>{notice}\
         <form method=\"post\" action=\"/dashboard/login\">\
         <label for=\"token\">Token</label>\
         <input id=\"token\" name=\"token\" type=\"password\" autocomplete=\"current-password\" required \
         aria-describedby=\"token-help\">\
         <p id=\"token-help\" class=\"help\">The admin token, or a site's read-only token from \
         <code>footfall tokens create --site example.com</code>.</p>\
         <button type=\"submit\">Log in</button></form></main>"
    );
    respond(status, "Log in", &body)
}

/// A page saying what went wrong, with a way back.
pub(super) fn problem(status: StatusCode, title: &str, message: &str) -> HttpResponse {
    let body = format!(
        "<main id=\"main\" class=\"login\"><h1>{}</h1><p class=\"notice error\" role=\"alert\">{}</p>\
         <p><a href=\"/dashboard\">Back to the dashboard</a></p></main>",
        escape(title),
        escape(message)
    );
    respond(status, title, &body)
}

/// A share link followed from another site: a button that opens it from this origin
/// (`POST /dashboard/share`), so another site cannot open a session in the browser
/// unseen. The token is in the form only, never in a link.
pub(super) fn share_confirm(token: &str) -> HttpResponse {
    let body = format!(
        "<main id=\"main\" class=\"login\"><h1>Shared dashboard</h1>\
         <p>You followed a share link from another site. Open the shared read-only dashboard?</p>\
         <form method=\"post\" action=\"/dashboard/share\">\
         <input type=\"hidden\" name=\"token\" value=\"{}\">\
         <button type=\"submit\">Open the shared dashboard</button></form></main>",
        escape(token)
    );
    respond(StatusCode::OK, "Shared dashboard", &body)
}

/// From this many sites on, the site picker has a filter box.
const FILTER_FROM: usize = 8;

/// The site picker: a table of the sites the session may read, each with its time zone
/// and a link to each dashboard; a filter box (`dashboard.js`) when there are many.
pub(super) fn picker(sites: &[(String, String)], catalog: &Catalog, share: bool) -> HttpResponse {
    let mut rows = String::new();
    for (site, tz) in sites {
        let mut links = String::new();
        for dashboard in &catalog.dashboards {
            let _ = write!(
                links,
                "<a href=\"/dashboard/{}/{}\">{}</a>",
                escape(site),
                escape(&dashboard.slug),
                escape(&dashboard.title)
            );
        }
        let _ = write!(
            rows,
            "<tr><th scope=\"row\"><a href=\"/dashboard/{}\">{}</a></th><td>{}</td><td class=\"dashboards\">{links}</td></tr>",
            escape(site),
            escape(site),
            escape(tz)
        );
    }
    let list = if sites.is_empty() {
        "<p>No sites yet. Register one with <code>footfall sites add example.com --timezone Europe/London</code>.</p>"
            .to_string()
    } else {
        let filter = if sites.len() >= FILTER_FROM {
            "<p class=\"filter\"><label for=\"site-filter\">Filter sites</label>\
             <input type=\"search\" id=\"site-filter\" autocomplete=\"off\" aria-controls=\"sites\" \
             aria-describedby=\"site-filter-count\"><span id=\"site-filter-count\" class=\"muted\" aria-live=\"polite\"></span></p>"
        } else {
            ""
        };
        format!(
            "{filter}<table class=\"sites\" id=\"sites\"><caption class=\"sr-only\">Sites</caption>\
             <thead><tr><th scope=\"col\">Site</th><th scope=\"col\">Time zone</th><th scope=\"col\">Dashboards</th></tr></thead>\
             <tbody>{rows}</tbody></table>"
        )
    };
    let body = format!(
        "{}<main id=\"main\"><h1>Sites</h1>{}{list}</main>",
        header_bar(None, sites, catalog, "", share),
        problems(catalog)
    );
    respond(StatusCode::OK, "Sites", &body)
}

fn problems(catalog: &Catalog) -> String {
    if catalog.problems.is_empty() {
        return String::new();
    }
    let mut out = String::from(
        "<div class=\"notice error\" role=\"status\"><p>Some dashboard files could not be loaded:</p><ul>",
    );
    for problem in &catalog.problems {
        let _ = write!(out, "<li><code>{}</code></li>", escape(&problem.to_string()));
    }
    out.push_str("</ul></div>");
    out
}

fn header_bar(site: Option<&str>, sites: &[(String, String)], catalog: &Catalog, slug: &str, share: bool) -> String {
    let mut out = String::from("<header class=\"bar\"><a class=\"brand\" href=\"/dashboard\">footfall</a>");
    if let Some(site) = site {
        if sites.len() > 1 {
            out.push_str("<label class=\"site-picker\"><span class=\"sr-only\">Site</span><select id=\"site-picker\">");
            for (domain, tz) in sites {
                let selected = if domain == site { " selected" } else { "" };
                let _ = write!(
                    out,
                    "<option value=\"{}\"{selected}>{} ({})</option>",
                    escape(domain),
                    escape(domain),
                    escape(tz)
                );
            }
            out.push_str("</select></label>");
        } else {
            let _ = write!(out, "<span class=\"site\">{}</span>", escape(site));
        }
        out.push_str("<nav aria-label=\"Dashboards\"><ul>");
        for dashboard in &catalog.dashboards {
            let current = if dashboard.slug == slug { " aria-current=\"page\"" } else { "" };
            let _ = write!(
                out,
                "<li><a href=\"/dashboard/{}/{}\" data-dashboard=\"{}\"{current}>{}</a></li>",
                escape(site),
                escape(&dashboard.slug),
                escape(&dashboard.slug),
                escape(&dashboard.title)
            );
        }
        out.push_str("</ul></nav>");
    }
    if share {
        out.push_str("<span class=\"muted shared\">shared read-only view</span>");
    } else {
        out.push_str(
            "<form class=\"logout\" method=\"post\" action=\"/dashboard/logout\"><button type=\"submit\">Log out</button></form>",
        );
    }
    out.push_str("</header>");
    out
}

/// The filters a share link locks, as chips without a remove control (`data-locked`;
/// `dashboard.js` leaves these filters out of the URL's and adds its removable chips
/// after them); empty without locked filters.
fn locked_chips(locked: &LockedFilters) -> String {
    let mut chips = String::new();
    for (name, given) in locked.pairs() {
        let text = match given.strip_prefix('!') {
            Some(value) => format!("{name} is not {value}"),
            None => format!("{name} = {given}"),
        };
        let _ = write!(
            chips,
            "<span class=\"chip locked\" data-filter=\"{}\" data-locked=\"true\" \
             title=\"Locked by this share link: it cannot be removed\">{} <span class=\"lock\">locked</span></span> ",
            escape(&name),
            escape(&text)
        );
    }
    if chips.is_empty() {
        chips
    } else {
        format!("<span class=\"muted\">Locked by this share link: </span>{chips}")
    }
}

/// A site's dashboard: the frame `dashboard.js` fills; `locked`: the filters the share
/// link locks (none for a login).
pub(super) fn dashboard(
    site: &str,
    tz: &str,
    dashboard: &Dashboard,
    sites: &[(String, String)],
    catalog: &Catalog,
    share: bool,
    locked: &LockedFilters,
) -> HttpResponse {
    // `<` escaped so the JSON cannot end its script element.
    let definition = serde_json::to_string(dashboard).expect("a definition serializes").replace('<', "\\u003c");
    let mut panels = String::new();
    for (index, panel) in dashboard.panels.iter().enumerate() {
        let _ = write!(
            panels,
            "<section class=\"panel w{} {:?}\" id=\"panel-{index}\" data-panel=\"{index}\" aria-labelledby=\"panel-{index}-title\" \
             aria-busy=\"true\"><h2 id=\"panel-{index}-title\">{}</h2><div class=\"content\"><p class=\"loading\">Loading…</p></div></section>",
            panel.width,
            panel.visual,
            escape(&panel.title)
        );
    }
    let ranges = "<div class=\"ranges\" role=\"group\" aria-label=\"Date range\">\
        <button type=\"button\" data-range=\"today\">Today</button>\
        <button type=\"button\" data-range=\"7d\">7 days</button>\
        <button type=\"button\" data-range=\"30d\">30 days</button>\
        <form id=\"custom-range\" class=\"custom\"><label>From <input type=\"date\" id=\"range-from\" required></label>\
        <label>To <input type=\"date\" id=\"range-to\" required></label><button type=\"submit\">Apply</button></form></div>";
    let body = format!(
        "{header}<main id=\"main\" data-site=\"{site_attr}\" data-tz=\"{tz_attr}\" data-slug=\"{slug}\" \
         data-filters=\"{filters}\">\
         <div class=\"title\"><h1>{title}</h1><p class=\"muted\">{description}</p></div>\
         <div class=\"controls\">{ranges}<p class=\"range-label\"><span id=\"range-text\"></span> \
         <span class=\"muted\">time zone <strong id=\"site-tz\">{tz_attr}</strong></span></p></div>\
         <div id=\"filters\"{filters_hidden}>{locked_chips}</div>\
         {problems}<div id=\"empty\" class=\"notice\" hidden></div><div id=\"error\" class=\"notice error\" role=\"alert\" hidden></div>\
         <div class=\"grid\">{panels}</div>\
         <script type=\"application/json\" id=\"definition\">{definition}</script></main>",
        header = header_bar(Some(site), sites, catalog, &dashboard.slug, share),
        site_attr = escape(site),
        tz_attr = escape(tz),
        slug = escape(&dashboard.slug),
        filters = crate::reports::filter_parameters().collect::<Vec<_>>().join(" "),
        title = escape(&dashboard.title),
        description = escape(&dashboard.description),
        problems = problems(catalog),
        filters_hidden = if locked.is_empty() { " hidden" } else { "" },
        locked_chips = locked_chips(locked),
    );
    respond(StatusCode::OK, &format!("{} · {site}", dashboard.title), &body)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn escapes_markup_and_quotes() {
        assert_eq!(escape("<a href=\"x\">'&'</a>"), "&lt;a href=&quot;x&quot;&gt;&#39;&amp;&#39;&lt;/a&gt;");
    }
}
