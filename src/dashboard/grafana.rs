//! `footfall dashboards export-grafana`: each dashboard definition as a Grafana dashboard
//! (JSON model, schema 39) for the ClickHouse data source plugin
//! (`grafana-clickhouse-datasource`), for teams that already live in Grafana.
//!
//! Grafana queries ClickHouse directly, so each panel gets SQL over the public `events`
//! table that follows the report definitions of docs/reports.md — pageviews only,
//! visitors counted per local day — with the plugin's `$__timeFilter(ts)` macro for the
//! dashboard's time range and two dashboard variables: `site` (from the `sites` table)
//! and `tz` (that site's time zone). The SQL comes from `reports::grafana_sql`, beside
//! the reports' own; this module lays the panels out. Panels map to Grafana visuals: number -> stat,
//! line -> timeseries, bar -> bargauge, table -> table, heatmap -> a weekday x hour table
//! with coloured cells, funnel -> a table of the steps (visitors, drop-off and rates); a
//! panel without a Grafana version ([`dashboard_only`]: the publish-timing heatmap) becomes
//! a text panel saying why. Goals and funnels are read from the `goals` and `funnels`
//! tables at query time, so a panel follows the site's definitions; a goals panel covers
//! the site's first [`grafana_sql::GRAFANA_GOALS`] goals by name. The integration test
//! `dashboard::every_grafana_panel_runs_on_the_real_server` runs every panel's SQL on the
//! real server.
//!
//! Small counts: Grafana bypasses footfall's reports, so the SQL itself keeps every count
//! of visitors it shows (the not-stored panel counts events, not people) to at least `min_visitors` visitors (docs/reports.md, "Small counts"): each returned
//! row, time bucket or busiest-times cell needs `HAVING visitors >= min_visitors`
//! (visitor-days, as the reports count them); smaller ones are left out (a heatmap cell
//! shows 0, a number panel adds up only the rows shown; a funnel step keeps its name and
//! shows no numbers, as the funnel report does). [`export`] takes the threshold
//! (`footfall dashboards export-grafana` passes `reports.min_visitors`); 0 or 1: off. Panels have no filters here (a panel's `path`/`source` parameters are not
//! applied), so only the rows are held to the threshold. Anyone who can edit the
//! dashboards can also write their own SQL: this protects what the exported panels show,
//! not the data source. The integration test
//! `small_counts::grafana_panels_show_no_count_from_fewer_than_min_visitors` runs the
//! exported panels over planted one-visitor rows.

use serde_json::{json, Value};

use super::definition::{Aggregate, Dashboard, Panel, Visual};
use crate::reports::{grafana_sql, ReportName};

/// The data source input Grafana asks for on import.
const DATASOURCE: &str = "${DS_CLICKHOUSE}";

/// Rows of table-like panels when the definition sets no `limit`.
const DEFAULT_LIMIT: &str = "100";

/// The Grafana dashboard for `dashboard`, reading `database`, its panels showing no count
/// from fewer than `min_visitors` visitors (0 or 1: every count).
pub fn export(dashboard: &Dashboard, database: &str, min_visitors: u64) -> Value {
    let datasource = json!({"type": "grafana-clickhouse-datasource", "uid": DATASOURCE});
    let mut panels = Vec::new();
    let (mut x, mut y, mut row_height) = (0u32, 0u32, 0u32);
    for (index, panel) in dashboard.panels.iter().enumerate() {
        let w = u32::from(panel.width) * 6;
        let h = match panel.visual {
            Visual::Number => 4,
            Visual::Heatmap => 9,
            _ => 8,
        };
        if x + w > 24 {
            (x, y, row_height) = (0, y + row_height, 0);
        }
        let grid = json!({"x": x, "y": y, "w": w, "h": h});
        panels.push(grafana_panel(panel, index, (database, min_visitors), &datasource, grid));
        x += w;
        row_height = row_height.max(h);
    }
    json!({
        "__inputs": [{
            "name": "DS_CLICKHOUSE", "label": "ClickHouse", "type": "datasource",
            "pluginId": "grafana-clickhouse-datasource", "pluginName": "ClickHouse"
        }],
        "__requires": [{"type": "datasource", "id": "grafana-clickhouse-datasource", "name": "ClickHouse", "version": "4.0.0"}],
        "title": format!("footfall: {}", dashboard.title),
        "description": dashboard.description,
        "uid": format!("footfall-{}", dashboard.slug),
        "tags": ["footfall"],
        "schemaVersion": 39,
        "editable": true,
        "time": {"from": "now-7d", "to": "now"},
        "timezone": "browser",
        "refresh": "",
        "templating": {"list": [
            {
                "name": "site", "label": "Site", "type": "query", "datasource": datasource,
                "query": format!("SELECT domain FROM {database}.sites FINAL WHERE deleted = 0 ORDER BY domain"),
                "refresh": 1, "sort": 1
            },
            {
                "name": "tz", "label": "Time zone", "type": "query", "datasource": datasource, "hide": 2,
                "query": format!("SELECT timezone FROM {database}.sites FINAL WHERE domain = '${{site}}' AND deleted = 0"),
                "refresh": 2
            }
        ]},
        "panels": panels,
    })
}

fn grafana_panel(
    panel: &Panel,
    index: usize,
    (database, min_visitors): (&str, u64),
    datasource: &Value,
    grid: Value,
) -> Value {
    if let Some(why) = dashboard_only(panel) {
        return dashboard_only_panel(panel, index, grid, why);
    }
    let sql = panel_sql(panel, database, min_visitors);
    let (kind, format) = match panel.visual {
        Visual::Number => ("stat", 1),
        Visual::Line => ("timeseries", 0),
        Visual::Bar => ("bargauge", 1),
        Visual::Table | Visual::Heatmap | Visual::Funnel => ("table", 1),
    };
    let unit = match panel.format {
        super::definition::Format::Duration => "s",
        super::definition::Format::Percent => "percentunit",
        super::definition::Format::Hours => "h",
        _ => "short",
    };
    let mut value = json!({
        "id": index + 1,
        "type": kind,
        "title": panel.title,
        "datasource": datasource,
        "gridPos": grid,
        "targets": [{"refId": "A", "datasource": datasource, "editorType": "sql", "format": format, "rawSql": sql, "queryType": "table"}],
        "fieldConfig": {"defaults": {"unit": unit}, "overrides": []},
        "options": {},
    });
    match panel.visual {
        Visual::Bar => {
            value["options"] = json!({"orientation": "horizontal", "displayMode": "basic", "reduceOptions": {"values": true, "calcs": []}});
        }
        Visual::Heatmap => {
            // Cividis-like steps: readable for the common colour-vision deficiencies.
            value["fieldConfig"]["defaults"]["custom"] = json!({"cellOptions": {"type": "color-background"}});
            value["fieldConfig"]["defaults"]["color"] = json!({"mode": "continuous-BlYlRd"});
        }
        Visual::Number => {
            value["options"] =
                json!({"reduceOptions": {"values": false, "calcs": ["lastNotNull"]}, "colorMode": "none"});
        }
        _ => {}
    }
    value
}

/// Why `panel` has no Grafana version, if it has none: the publish-timing heatmap's
/// medians of each page's first 24 hours need footfall's content registry and windows
/// (docs/dashboard.md, "Grafana").
pub fn dashboard_only(panel: &Panel) -> Option<&'static str> {
    (panel.visual == Visual::Heatmap && panel.report == ReportName::PublishTiming.as_str()).then_some(
        "Publish timing is shown on footfall's own dashboard only: the median visitors of each page's first \
         24 hours need footfall's content registry and page windows, which Grafana's SQL over `events` does not have.",
    )
}

/// A Grafana text panel in place of a panel without a Grafana version, saying why.
fn dashboard_only_panel(panel: &Panel, index: usize, grid: Value, why: &str) -> Value {
    json!({
        "id": index + 1,
        "type": "text",
        "title": panel.title,
        "gridPos": grid,
        "options": {"mode": "markdown", "content": why},
    })
}

/// The SQL of one panel (from `reports`, which holds every report's SQL), with
/// `$__timeFilter(ts)`, `${site}` and `${tz}` left for Grafana; rows (buckets, cells) with
/// fewer than `min_visitors` visitors are left out.
pub fn panel_sql(panel: &Panel, database: &str, min_visitors: u64) -> String {
    let report = ReportName::parse(&panel.report).expect("definitions are checked when loaded");
    let limit = panel.params.get("limit").map_or(DEFAULT_LIMIT, String::as_str);
    let hourly = panel.params.get("interval").is_some_and(|interval| interval == "hour");
    let funnel = panel.params.get("funnel").map_or("", String::as_str);
    let rows = grafana_sql::report(report, database, limit, hourly, funnel, min_visitors);
    match panel.visual {
        Visual::Number => {
            let value = panel.value.as_deref().unwrap_or("views");
            match panel.aggregate {
                Aggregate::Sum => grafana_sql::sum(&rows, value),
                Aggregate::WeightedMean => {
                    grafana_sql::weighted_mean(&rows, value, panel.weight.as_deref().unwrap_or("views"))
                }
            }
        }
        _ => rows,
    }
}

#[cfg(test)]
mod tests {
    use super::super::definition::{parse, BUILTIN_OVERVIEW, OVERVIEW};
    use super::*;

    #[test]
    fn overview_exports_one_grafana_panel_per_panel() {
        let overview = parse(BUILTIN_OVERVIEW, "toml", OVERVIEW).unwrap();
        let exported = export(&overview, "footfall", 5);
        assert_eq!(exported["uid"], "footfall-overview");
        assert_eq!(exported["panels"].as_array().unwrap().len(), overview.panels.len());
        assert_eq!(exported["panels"][0]["type"], "stat");
        let sql = exported["panels"][0]["targets"][0]["rawSql"].as_str().unwrap();
        assert!(sql.starts_with("SELECT sum(visitors) AS visitors FROM (SELECT toStartOfDay"), "{sql}");
        assert!(sql.contains("$__timeFilter(ts)"));
    }

    #[test]
    fn every_panel_holds_its_rows_to_min_visitors() {
        let overview = parse(BUILTIN_OVERVIEW, "toml", OVERVIEW).unwrap();
        let default = export(&overview, "footfall", 5);
        for panel in default["panels"].as_array().unwrap() {
            let sql = panel["targets"][0]["rawSql"].as_str().unwrap();
            if sql.contains("footfall.events") {
                assert!(sql.contains("visitors >= 5"), "{}: {sql}", panel["title"]);
            } else {
                // Events not stored: counts of events by reason, with no visitor to single out.
                assert!(sql.contains("FROM footfall.not_stored") && !sql.contains("visitor"), "{sql}");
            }
        }
        for off in [0, 1] {
            let exported = export(&overview, "footfall", off);
            for panel in exported["panels"].as_array().unwrap() {
                let sql = panel["targets"][0]["rawSql"].as_str().unwrap();
                assert!(!sql.contains("visitors >="), "{}: {sql}", panel["title"]);
            }
        }
    }

    #[test]
    fn the_publish_timing_heatmap_is_a_text_panel_saying_why() {
        let content = std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/dashboards/content.toml")).unwrap();
        let content = parse(&content, "toml", "content").unwrap();
        let exported = export(&content, "footfall", 5);
        let panels = exported["panels"].as_array().unwrap();
        assert_eq!(panels.len(), content.panels.len());
        let text: Vec<(&Value, &Value)> =
            panels.iter().filter(|p| p["type"] == "text").map(|p| (&p["title"], &p["options"]["content"])).collect();
        assert_eq!(text.len(), 1);
        assert_eq!(text[0].0, "When to publish");
        assert!(text[0].1.as_str().unwrap().starts_with("Publish timing is shown on footfall's own dashboard only"));
        assert!(panels.iter().filter(|p| p["type"] != "text").all(|p| p["targets"][0]["rawSql"].is_string()));
    }

    /// Every panel's SQL of the shipped dashboards also runs on current ClickHouse (the
    /// integration test `dashboard::every_grafana_panel_runs_on_the_real_server` runs it
    /// on 18.16), through `scripts/chdb-check` as `store::compat` does.
    #[test]
    fn every_panel_runs_on_current_clickhouse() {
        let mut all = crate::store::compat::schema("footfall");
        let catalog = super::super::definition::Catalog::load(std::path::Path::new(concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/dashboards"
        )));
        assert!(catalog.problems.is_empty(), "{:?}", catalog.problems);
        // No shipped dashboard has a funnel panel: each site names its own funnels.
        let funnel = parse(
            "title = \"F\"\n[[panels]]\ntitle = \"F\"\nreport = \"funnel\"\nvisual = \"funnel\"\n\
             params = { funnel = \"It's a \\\\ funnel\" }\n",
            "toml",
            "f",
        )
        .unwrap();
        for dashboard in catalog.dashboards.iter().chain([&funnel]) {
            for panel in &dashboard.panels {
                for min_visitors in [0, 5] {
                    all.push(grafana_sql::expand(
                        &panel_sql(panel, "footfall", min_visitors),
                        "example.com",
                        "Europe/London",
                        1_770_000_000,
                        1_770_600_000,
                    ));
                }
            }
        }
        crate::store::compat::check_on_chdb(&all, None);
    }
}
