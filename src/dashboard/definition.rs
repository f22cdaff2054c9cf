//! Dashboard definitions: the files in `dashboards/` (TOML or JSON), one dashboard each,
//! listing panels (which report, which parameters, which visual). Loading checks every
//! file on its own: a broken file becomes a [`LoadProblem`] naming the file and the
//! problem, and the other dashboards still load. The directory is read again whenever a
//! page needs the list, so a new file appears without a restart.

use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use crate::reports::ReportName;

/// The overview as shipped, used when the directory has no `overview` file (so the
/// binary works from any working directory).
pub const BUILTIN_OVERVIEW: &str = include_str!("../../dashboards/overview.toml");
/// The slug of the dashboard `/dashboard/{site}` opens.
pub const OVERVIEW: &str = "overview";
/// Largest definition file read, in bytes.
const MAX_FILE_BYTES: u64 = 256 * 1024;
/// Report parameters a panel may fix (`from`/`to` come from the date picker; `funnel`
/// names a funnel panel's funnel).
const PANEL_PARAMS: [&str; 5] = ["limit", "path", "source", "interval", "funnel"];

/// One dashboard: a title and its panels, in order.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Dashboard {
    /// URL name: the file name without its extension (`overview.toml` is `overview`).
    #[serde(default)]
    pub slug: String,
    /// Shown in the navigation and as the page heading.
    pub title: String,
    /// One line under the heading.
    #[serde(default)]
    pub description: String,
    /// Navigation order, smallest first (then by title). Default 100.
    #[serde(default = "default_order")]
    pub order: i64,
    /// The panels, in reading order.
    pub panels: Vec<Panel>,
}

fn default_order() -> i64 {
    100
}

/// How a panel shows its report.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Visual {
    /// One big number (a column summed over the rows, or a field of the answer).
    Number,
    /// A line chart over time (timeseries).
    Line,
    /// Horizontal bars, one per row.
    Bar,
    /// A table of chosen columns.
    Table,
    /// The weekday x hour grid (busiest-times; publish-timing: pages by when they started).
    Heatmap,
    /// A funnel's steps as bars, each with the drop-off from the step before (funnel).
    Funnel,
}

/// How a number is shown.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Format {
    /// 1.2k, 3.4m.
    #[default]
    Count,
    /// Seconds as 3m 20s.
    Duration,
    /// A share 0..1 as 42%.
    Percent,
    /// Hours as 2h 5m.
    Hours,
    /// As given.
    Text,
}

/// How a number panel reduces the report's rows to one value.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Aggregate {
    /// The sum of `value` over the rows (a field of the answer when it has no rows).
    #[default]
    Sum,
    /// `sum(value * weight) / sum(weight)`: an average of averages weighted by `weight`.
    WeightedMean,
}

/// One panel of a dashboard.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Panel {
    /// Heading of the panel.
    pub title: String,
    /// Report name (`top-content`, `busiest-times`, ...).
    pub report: String,
    /// How to show it.
    pub visual: Visual,
    /// Fixed report parameters: `limit`, `path`, `source`, `interval`, `funnel` (the
    /// funnel panel's funnel, by name).
    #[serde(default)]
    pub params: std::collections::BTreeMap<String, String>,
    /// Number: the column (or answer field) to show. Line, bar: the measured column.
    #[serde(default)]
    pub value: Option<String>,
    /// Number: how rows become one value.
    #[serde(default)]
    pub aggregate: Aggregate,
    /// Number with `aggregate = "weighted_mean"`: the weight column.
    #[serde(default)]
    pub weight: Option<String>,
    /// Number: also show the change against the previous period of the same length. Line:
    /// also draw the previous period's line (`compare=previous`, bucket by bucket).
    #[serde(default)]
    pub compare: bool,
    /// Bar: the column naming each bar (several joined with " / ").
    #[serde(default)]
    pub label: Vec<String>,
    /// Table: the columns shown, in order.
    #[serde(default)]
    pub columns: Vec<String>,
    /// Table of a report that takes `sort` (top-content): columns whose heading sorts the
    /// table, each with the report's `sort` value (`{ views = "views" }`); the page keeps
    /// the chosen one in its URL (`?sort=`).
    #[serde(default)]
    pub sorts: std::collections::BTreeMap<String, String>,
    /// How values are shown (numbers, bars; tables format columns by name).
    #[serde(default)]
    pub format: Format,
    /// Refresh every this many seconds (live panels, e.g. realtime). Default: never.
    #[serde(default)]
    pub refresh_secs: Option<u32>,
    /// Table of content-discovery: draw each page's views in its first 7 days.
    #[serde(default)]
    pub curve: bool,
    /// Panel width in the grid: 1 (a quarter), 2 (half), 4 (full). Default 2.
    #[serde(default = "default_width")]
    pub width: u8,
}

fn default_width() -> u8 {
    2
}

/// A definition file that could not be used.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct LoadProblem {
    /// The file, as found in the directory.
    pub file: String,
    /// What is wrong and what to do.
    pub problem: String,
}

impl std::fmt::Display for LoadProblem {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}: {}", self.file, self.problem)
    }
}

/// The dashboards of a directory, and the files that failed.
#[derive(Debug, Clone, Default)]
pub struct Catalog {
    /// By `order`, then title; the overview is always there.
    pub dashboards: Vec<Dashboard>,
    pub problems: Vec<LoadProblem>,
}

impl Catalog {
    /// Reads every `*.toml` and `*.json` file of `dir`. A missing directory gives the
    /// built-in overview only; an unreadable or invalid file is reported, not fatal.
    pub fn load(dir: &Path) -> Self {
        let mut catalog = Self::default();
        let mut files: Vec<PathBuf> = match std::fs::read_dir(dir) {
            Ok(entries) => entries.filter_map(|entry| entry.ok().map(|entry| entry.path())).collect(),
            Err(error) if error.kind() == std::io::ErrorKind::NotFound => Vec::new(),
            Err(error) => {
                catalog.problems.push(LoadProblem {
                    file: dir.display().to_string(),
                    problem: format!("cannot read the dashboards directory ({error}); check `dashboards_dir`"),
                });
                Vec::new()
            }
        };
        files.sort();
        for file in files {
            let Some(extension) = file.extension().and_then(|e| e.to_str()) else { continue };
            if !matches!(extension, "toml" | "json") {
                continue;
            }
            match load_file(&file, extension) {
                Ok(dashboard) => catalog.dashboards.push(dashboard),
                Err(problem) => catalog.problems.push(LoadProblem { file: file.display().to_string(), problem }),
            }
        }
        if !catalog.dashboards.iter().any(|d| d.slug == OVERVIEW) {
            let overview = parse(BUILTIN_OVERVIEW, "toml", OVERVIEW).expect("the built-in overview is valid");
            catalog.dashboards.push(overview);
        }
        catalog.dashboards.sort_by(|a, b| (a.order, &a.title, &a.slug).cmp(&(b.order, &b.title, &b.slug)));
        catalog
    }

    /// The dashboard named `slug`.
    pub fn get(&self, slug: &str) -> Option<&Dashboard> {
        self.dashboards.iter().find(|d| d.slug == slug)
    }
}

fn load_file(file: &Path, extension: &str) -> Result<Dashboard, String> {
    let slug = file.file_stem().and_then(|s| s.to_str()).unwrap_or_default();
    if slug.is_empty() || !slug.bytes().all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-') {
        return Err("the file name must be lowercase letters, digits and `-` (it becomes the URL)".into());
    }
    let size = std::fs::metadata(file).map_err(|e| format!("cannot read it ({e})"))?.len();
    if size > MAX_FILE_BYTES {
        return Err(format!("is {size} bytes; a definition holds at most {MAX_FILE_BYTES}"));
    }
    let text = std::fs::read_to_string(file).map_err(|e| format!("cannot read it as UTF-8 text ({e})"))?;
    parse(&text, extension, slug)
}

/// Parses and checks one definition.
///
/// # Errors
/// A syntax error or a panel that cannot work, in words that say what to change.
pub fn parse(text: &str, extension: &str, slug: &str) -> Result<Dashboard, String> {
    let mut dashboard: Dashboard = if extension == "json" {
        serde_json::from_str(text).map_err(|e| format!("is not a valid dashboard definition: {e}"))?
    } else {
        toml::from_str(text).map_err(|e| format!("is not a valid dashboard definition: {}", e.to_string().trim()))?
    };
    dashboard.slug = slug.to_string();
    if dashboard.title.trim().is_empty() {
        return Err("`title` is empty; give the dashboard a name".into());
    }
    if dashboard.panels.is_empty() {
        return Err("has no `[[panels]]`; add at least one".into());
    }
    for (index, panel) in dashboard.panels.iter().enumerate() {
        check_panel(panel).map_err(|problem| format!("panel {} ({:?}): {problem}", index + 1, panel.title))?;
    }
    Ok(dashboard)
}

fn check_panel(panel: &Panel) -> Result<(), String> {
    let report = ReportName::parse(&panel.report)
        .ok_or_else(|| format!("`report = {:?}` is not a report; use one of {}", panel.report, ReportName::list()))?;
    for name in panel.params.keys() {
        if !PANEL_PARAMS.contains(&name.as_str()) {
            return Err(format!(
                "`params.{name}` is not a parameter a panel can fix; use {} (from/to come from the date picker)",
                PANEL_PARAMS.join(", ")
            ));
        }
    }
    if !matches!(panel.width, 1 | 2 | 4) {
        return Err(format!("`width = {}` must be 1, 2 or 4 (quarter, half, full)", panel.width));
    }
    let needs = |what: &str| Err(format!("a {:?} panel needs `{what}`", panel.visual).to_lowercase());
    match panel.visual {
        Visual::Number if panel.value.is_none() => return needs("value"),
        Visual::Number if panel.aggregate == Aggregate::WeightedMean && panel.weight.is_none() => {
            return needs("weight")
        }
        Visual::Line if report != ReportName::Timeseries => {
            return Err("a line panel shows the `timeseries` report".into())
        }
        Visual::Line | Visual::Bar if panel.value.is_none() => return needs("value"),
        Visual::Bar if panel.label.is_empty() => return needs("label"),
        Visual::Table if panel.columns.is_empty() => return needs("columns"),
        Visual::Heatmap if !matches!(report, ReportName::BusiestTimes | ReportName::PublishTiming) => {
            return Err("a heatmap panel shows the `busiest-times` or `publish-timing` report".into())
        }
        Visual::Funnel if report != ReportName::Funnel => return Err("a funnel panel shows the `funnel` report".into()),
        _ => {}
    }
    check_sorts(panel, report)?;
    match (report == ReportName::Funnel, panel.params.get("funnel")) {
        (true, None) => {
            return Err("a `funnel` report panel names its funnel: `params = { funnel = \"Sign-up\" }`".into())
        }
        (true, Some(name)) => {
            crate::goals::GoalName::parse(name)
                .map_err(|error| format!("`params.funnel` is not a funnel's name: {error}"))?;
            if panel.visual != Visual::Funnel {
                return Err("the `funnel` report is shown by `visual = \"funnel\"`".into());
            }
        }
        (false, Some(_)) => return Err("`params.funnel` applies to the `funnel` report only".into()),
        (false, None) => {}
    }
    if panel.curve && report != ReportName::ContentDiscovery {
        return Err("`curve = true` applies to the `content-discovery` report only".into());
    }
    if panel.compare && report == ReportName::Realtime {
        return Err("`compare` needs a date range; realtime has none".into());
    }
    if panel.compare && !matches!(panel.visual, Visual::Number | Visual::Line) {
        return Err("`compare` applies to number and line panels".into());
    }
    if panel.refresh_secs.is_some_and(|secs| secs < 5) {
        return Err("`refresh_secs` must be at least 5".into());
    }
    Ok(())
}

/// A panel's `sorts`: a table of a report that takes `sort`, its own columns, the
/// report's values.
fn check_sorts(panel: &Panel, report: ReportName) -> Result<(), String> {
    if panel.sorts.is_empty() {
        return Ok(());
    }
    if panel.visual != Visual::Table || report != ReportName::TopContent {
        return Err("`sorts` applies to a table of the `top-content` report (the report that takes `sort`)".into());
    }
    for (column, value) in &panel.sorts {
        if !panel.columns.contains(column) {
            return Err(format!("`sorts.{column}` is not one of the panel's `columns`"));
        }
        crate::reports::params::sort(value).map_err(|error| format!("`sorts.{column} = {value:?}`: {error}"))?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn builtin_overview_is_valid_and_complete() {
        let overview = parse(BUILTIN_OVERVIEW, "toml", OVERVIEW).unwrap();
        let reports: std::collections::BTreeSet<&str> = overview.panels.iter().map(|p| p.report.as_str()).collect();
        // A funnel panel names one funnel, which each site defines for itself; an events
        // table in the overview upsets the charts' sizing in tests/api/dashboard_browser.rs.
        let later = [ReportName::Events, ReportName::Funnel];
        for name in ReportName::ALL.into_iter().filter(|name| !later.contains(name)) {
            assert!(reports.contains(name.as_str()), "overview lacks {}", name.as_str());
        }
        assert_eq!(overview.panels.iter().filter(|p| p.visual == Visual::Heatmap).count(), 1);
    }

    #[test]
    fn problems_name_the_panel_and_the_fix() {
        let text = "title = \"T\"\n[[panels]]\ntitle = \"Hot\"\nreport = \"top-content\"\nvisual = \"heatmap\"\n";
        assert_eq!(
            parse(text, "toml", "t").unwrap_err(),
            "panel 1 (\"Hot\"): a heatmap panel shows the `busiest-times` or `publish-timing` report"
        );
        let sorted = "title = \"T\"\n[[panels]]\ntitle = \"Top\"\nreport = \"top-content\"\nvisual = \"table\"\n\
                      columns = [\"path\", \"views\"]\nsorts = { views = \"views\", visitors = \"visitors\" }\n";
        assert_eq!(
            parse(sorted, "toml", "t").unwrap_err(),
            "panel 1 (\"Top\"): `sorts.visitors` is not one of the panel's `columns`"
        );
        let wrong = sorted.replace(", visitors = \"visitors\"", "").replace("views = \"views\"", "views = \"likes\"");
        assert_eq!(
            parse(&wrong, "toml", "t").unwrap_err(),
            "panel 1 (\"Top\"): `sorts.views = \"likes\"`: `sort` must be `views`, `visitors`, `engaged_minutes` or `read_through`"
        );
        let elsewhere = sorted.replace("top-content", "content-discovery").replace(", visitors = \"visitors\"", "");
        assert!(parse(&elsewhere, "toml", "t")
            .unwrap_err()
            .ends_with("`sorts` applies to a table of the `top-content` report (the report that takes `sort`)"));
        let text = "title = \"T\"\n[[panels]]\ntitle = \"X\"\nreport = \"nope\"\nvisual = \"table\"\n";
        assert!(parse(text, "toml", "t").unwrap_err().contains("is not a report; use one of top-content"));
        let json = r#"{"title": "J", "panels": [{"title": "V", "report": "timeseries", "visual": "number"}]}"#;
        assert_eq!(parse(json, "json", "j").unwrap_err(), "panel 1 (\"V\"): a number panel needs `value`");
        assert!(parse("title = ", "toml", "t").unwrap_err().starts_with("is not a valid dashboard definition"));
    }

    #[test]
    fn a_funnel_panel_names_its_funnel_and_draws_it_as_a_funnel() {
        let panel = |params: &str, visual: &str| {
            let text = format!(
                "title = \"T\"\n[[panels]]\ntitle = \"F\"\nreport = \"funnel\"\nvisual = \"{visual}\"\n{params}"
            );
            parse(&text, "toml", "t").map(|dashboard| dashboard.panels[0].params.clone())
        };
        let named = panel("params = { funnel = \"Sign-up\" }", "funnel").unwrap();
        assert_eq!(named.get("funnel").map(String::as_str), Some("Sign-up"));
        assert!(panel("", "funnel").unwrap_err().contains("names its funnel: `params = { funnel = \"Sign-up\" }`"));
        assert!(panel("params = { funnel = \"!x\" }", "funnel").unwrap_err().contains("is not a funnel's name"));
        let as_number = panel("params = { funnel = \"Sign-up\" }\nvalue = \"visitors\"", "number");
        assert!(as_number.unwrap_err().contains("is shown by `visual = \"funnel\"`"));
        let text = "title = \"T\"\n[[panels]]\ntitle = \"G\"\nreport = \"goals\"\nvisual = \"funnel\"\n";
        assert!(parse(text, "toml", "t").unwrap_err().contains("a funnel panel shows the `funnel` report"));
        let text = "title = \"T\"\n[[panels]]\ntitle = \"G\"\nreport = \"goals\"\nvisual = \"table\"\n\
                    columns = [\"name\"]\nparams = { funnel = \"Sign-up\" }\n";
        assert!(parse(text, "toml", "t").unwrap_err().contains("`params.funnel` applies to the `funnel` report only"));
    }

    #[test]
    fn a_broken_file_does_not_hide_the_others() {
        let temp = tempfile::tempdir().unwrap();
        let dir = temp.path();
        std::fs::write(dir.join("broken.toml"), "title = [").unwrap();
        std::fs::write(
            dir.join("pages.json"),
            r#"{"title": "Pages", "panels": [{"title": "Top", "report": "top-content", "visual": "table", "columns": ["path"]}]}"#,
        )
        .unwrap();
        std::fs::write(dir.join("notes.txt"), "ignored").unwrap();
        let catalog = Catalog::load(dir);
        let slugs: Vec<&str> = catalog.dashboards.iter().map(|d| d.slug.as_str()).collect();
        assert_eq!(slugs, ["overview", "pages"]);
        assert_eq!(catalog.problems.len(), 1);
        assert!(catalog.problems[0].file.ends_with("broken.toml"));
    }
}
