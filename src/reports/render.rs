//! What a report answers, and its two forms: JSON (default) and CSV (`Accept: text/csv`).
//!
//! Every answer is a typed struct ([`Answer`] lists them; each report's module defines its
//! own answer and row types): the header fields every report over a date range starts
//! with ([`Header`]), the report's own fields, and its tables as arrays of typed rows whose
//! field names are the JSON keys. CSV gives the report's main table from the same row
//! type ([`csv`](super::csv)).

use actix_web::http::header;
use actix_web::{HttpRequest, HttpResponse};
use serde::Serialize;
use utoipa::ToSchema;

use super::breakdowns::{Countries, Devices, Sources};
use super::busiest::BusiestTimes;
use super::compare::CompareHeader;
use super::csv;
use super::discovery::ContentDiscovery;
use super::events::{EventProps, Events};
use super::funnel::Funnel;
use super::goals::Goals;
use super::not_stored::NotStored;
use super::publish_timing::PublishTiming;
use super::realtime::Realtime;
use super::small_counts::{Folding, OtherVisitors};
use super::timeseries::Timeseries;
use super::top_content::TopContent;

/// The fields every report over a date range answers first.
#[derive(Debug, Serialize, ToSchema)]
pub(crate) struct Header {
    /// The report's name.
    #[schema(example = "top-content")]
    pub report: &'static str,
    /// The site's domain.
    #[schema(example = "example.com")]
    pub site: String,
    /// First day of the range.
    #[schema(format = Date, example = "2026-03-27")]
    pub from: String,
    /// Last day of the range, inclusive.
    #[schema(format = Date, example = "2026-03-29")]
    pub to: String,
    /// The time zone of the dates and of every time in the answer.
    #[schema(example = "Europe/London")]
    pub tz: String,
    /// The filters of the request; absent when none was given.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub filters: Option<AppliedFilters>,
    /// The comparison range (`compare`); absent without `compare`. Each row and total of
    /// the answer then has `previous`: its numbers over that range.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub compare: Option<CompareHeader>,
}

/// The filters a request gave, as given: each parameter (`path`, `country`, `prop.plan`,
/// ...) with its value, `!` included, in the order filters apply.
#[derive(Debug)]
pub(crate) struct AppliedFilters(pub Vec<(String, String)>);

impl Serialize for AppliedFilters {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.collect_map(self.0.iter().map(|(name, value)| (name, value)))
    }
}

impl utoipa::PartialSchema for AppliedFilters {
    fn schema() -> utoipa::openapi::RefOr<utoipa::openapi::schema::Schema> {
        use utoipa::openapi::schema::{ObjectBuilder, Type};
        ObjectBuilder::new()
            .schema_type(Type::Object)
            .additional_properties(Some(ObjectBuilder::new().schema_type(Type::String)))
            .description(Some("Each filter given, by parameter, with its value as given (`!` included)"))
            .examples([serde_json::json!({"path": "/blog/", "country": "!US"})])
            .into()
    }
}

impl ToSchema for AppliedFilters {}

/// What small-count folding did to a breakdown's rows.
#[derive(Debug, Serialize, ToSchema)]
pub(crate) struct SmallCounts {
    /// Rows with fewer visitors were folded into one `(other)` row.
    pub min_visitors: u64,
    /// How many rows were folded (0: there is no `(other)` row).
    pub folded_rows: usize,
    /// How the `(other)` row's visitors were counted: `exact` (each visitor-day once),
    /// `summed` (added up over the folded rows on some days, see docs/reports.md); `null`
    /// without an `(other)` row.
    #[schema(required = true)]
    pub other_visitors: Option<OtherVisitors>,
}

impl From<Folding> for SmallCounts {
    fn from(Folding { min_visitors, folded_rows, other_visitors }: Folding) -> Self {
        Self { min_visitors, folded_rows, other_visitors }
    }
}

/// A report's answer: one of the reports' answer types.
#[derive(Debug, Serialize, ToSchema)]
#[serde(untagged)]
pub(crate) enum Answer {
    TopContent(TopContent),
    BusiestTimes(BusiestTimes),
    ContentDiscovery(ContentDiscovery),
    PublishTiming(PublishTiming),
    Sources(Sources),
    Devices(Devices),
    Countries(Countries),
    Timeseries(Timeseries),
    Realtime(Realtime),
    NotStored(NotStored),
    Events(Events),
    EventProps(EventProps),
    Goals(Goals),
    Funnel(Funnel),
}

impl Answer {
    /// JSON, or CSV when the request's `Accept` asks for `text/csv`.
    pub(crate) fn respond(&self, req: &HttpRequest) -> HttpResponse {
        let wants_csv = req.headers().get(header::ACCEPT).and_then(|value| value.to_str().ok()).is_some_and(|accept| {
            accept.split(',').any(|part| part.split(';').next().unwrap_or("").trim() == "text/csv")
        });
        if wants_csv {
            HttpResponse::Ok().content_type("text/csv; charset=utf-8").body(self.csv())
        } else {
            HttpResponse::Ok().json(self)
        }
    }

    /// The report's main table as CSV: `rows`, busiest-times' and publish-timing's
    /// `grid`, or realtime's one row of counts; with `compare`, `previous_*` columns.
    pub(crate) fn csv(&self) -> String {
        let compared = self.compared();
        match self {
            Self::TopContent(answer) => csv::table(&answer.rows, compared),
            Self::BusiestTimes(answer) => csv::table(&answer.grid, compared),
            Self::ContentDiscovery(answer) => csv::table(&answer.rows, compared),
            Self::PublishTiming(answer) => csv::table(&answer.grid, compared),
            Self::Sources(answer) => csv::table(&answer.rows, compared),
            Self::Devices(answer) => csv::table(&answer.rows, compared),
            Self::Countries(answer) => csv::table(&answer.rows, compared),
            Self::Timeseries(answer) => csv::table(&answer.rows, compared),
            Self::Realtime(answer) => csv::table(std::slice::from_ref(&answer.now), compared),
            Self::NotStored(answer) => csv::table(&answer.rows, compared),
            Self::Events(answer) => csv::table(&answer.rows, compared),
            Self::EventProps(answer) => csv::table(&answer.rows, compared),
            Self::Goals(answer) => csv::table(&answer.rows, compared),
            Self::Funnel(answer) => csv::table(&answer.steps, compared),
        }
    }

    /// Whether the request asked for a comparison (`compare`).
    fn compared(&self) -> bool {
        let header = match self {
            Self::Realtime(answer) => return answer.compare.is_some(),
            Self::TopContent(answer) => &answer.header,
            Self::BusiestTimes(answer) => &answer.header,
            Self::ContentDiscovery(answer) => &answer.header,
            Self::PublishTiming(answer) => &answer.header,
            Self::Sources(answer) => &answer.header,
            Self::Devices(answer) => &answer.header,
            Self::Countries(answer) => &answer.header,
            Self::Timeseries(answer) => &answer.header,
            Self::NotStored(answer) => &answer.header,
            Self::Events(answer) => &answer.header,
            Self::EventProps(answer) => &answer.header,
            Self::Goals(answer) => &answer.header,
            Self::Funnel(answer) => &answer.header,
        };
        header.compare.is_some()
    }
}

/// `value` rounded to `decimals` places (answers are rounded so they compare exactly).
pub(crate) fn round(value: f64, decimals: i32) -> f64 {
    let scale = 10f64.powi(decimals);
    (value * scale).round() / scale
}

/// `part / whole` rounded to 4 places, `None` when `whole` is 0.
pub(crate) fn share(part: u64, whole: u64) -> Option<f64> {
    (whole > 0).then(|| round(part as f64 / whole as f64, 4))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::reports::params::Sort;
    use crate::reports::top_content::TopContentRow;

    #[test]
    fn json_keeps_the_field_order_and_csv_gives_the_main_table() {
        let header = Header {
            report: "top-content",
            site: "example.com".into(),
            from: "2026-03-27".into(),
            to: "2026-03-29".into(),
            tz: "UTC".into(),
            filters: None,
            compare: None,
        };
        let row = |path: &str, views, avg_engaged_seconds| TopContentRow {
            path: path.into(),
            views,
            visitors: 1,
            entries: 1,
            avg_engaged_seconds,
            engaged_minutes: 0.2,
            median_engaged_seconds: 7.5,
            engaged_view_share: 0.5,
            read_through_share: 0.3333,
            previous: None,
        };
        let answer = Answer::TopContent(TopContent {
            header,
            sort: Sort::Views,
            small_counts: SmallCounts { min_visitors: 0, folded_rows: 0, other_visitors: None },
            rows: vec![row("/a,b", 3, 12.0), row("=HYPERLINK(\"x\")", 1, 0.5)],
        });
        assert_eq!(
            serde_json::to_string(&answer).unwrap(),
            r#"{"report":"top-content","site":"example.com","from":"2026-03-27","to":"2026-03-29","tz":"UTC","sort":"views","small_counts":{"min_visitors":0,"folded_rows":0,"other_visitors":null},"rows":[{"path":"/a,b","views":3,"visitors":1,"entries":1,"avg_engaged_seconds":12.0,"engaged_minutes":0.2,"median_engaged_seconds":7.5,"engaged_view_share":0.5,"read_through_share":0.3333},{"path":"=HYPERLINK(\"x\")","views":1,"visitors":1,"entries":1,"avg_engaged_seconds":0.5,"engaged_minutes":0.2,"median_engaged_seconds":7.5,"engaged_view_share":0.5,"read_through_share":0.3333}]}"#
        );
        assert_eq!(
            answer.csv(),
            "path,views,visitors,entries,avg_engaged_seconds,engaged_minutes,median_engaged_seconds,engaged_view_share,\
             read_through_share\r\n\"/a,b\",3,1,1,12,0.2,7.5,0.5,0.3333\r\n\"'=HYPERLINK(\"\"x\"\")\",1,1,1,0.5,0.2,7.5,0.5,\
             0.3333\r\n"
        );
    }

    #[test]
    fn shares_and_rounding() {
        assert_eq!(share(1, 3), Some(0.3333));
        assert_eq!(share(0, 0), None);
        assert_eq!(round(2.25, 1), 2.3);
    }
}
