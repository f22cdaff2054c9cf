//! The query string of a report request, checked: every problem becomes a 400 naming
//! the parameter, before anything reaches ClickHouse. The filters (`path`, `country`,
//! `prop.KEY`, ...) are defined and checked in `filters`; `Params::filters` hands them on.
//! The filters a share link locks ([`LockedFilters`]) are checked by the same rules, and
//! `Params::lock` applies them to a request made with the link (403 for another value).

use chrono::NaiveDate;
use chrono_tz::Tz;
use utoipa::openapi::path::{Parameter, ParameterBuilder, ParameterIn};
use utoipa::openapi::schema::{KnownFormat, ObjectBuilder, SchemaFormat, Type};
use utoipa::openapi::Required;
use utoipa::PartialSchema;

use super::compare::Mode;
use super::error::ReportError;
use super::filters::{
    Dimension, Filter, Filters, MAX_HOST_BYTES, MAX_PATH_BYTES, MAX_PROP_KEY_BYTES, MAX_TEXT_BYTES, PATH_CHARS,
};
use crate::goals::{Goal, MAX_GOAL_NAME_BYTES};

/// Longest range a report covers, in days (`to - from + 1`).
pub const MAX_RANGE_DAYS: i64 = 366;
/// Rows a report returns without `limit`.
pub const DEFAULT_LIMIT: u64 = 100;
/// Largest `limit`.
pub const MAX_LIMIT: u64 = 1000;
/// Longest `tz`, in bytes.
const MAX_TZ_BYTES: usize = 64;
/// Earliest and latest dates a range may name.
const FIRST_DATE: (i32, u32, u32) = (2000, 1, 1);
const LAST_DATE: (i32, u32, u32) = (2099, 12, 31);

/// Buckets of the timeseries report.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, utoipa::ToSchema)]
#[serde(rename_all = "lowercase")]
pub enum Interval {
    Hour,
    Day,
}

/// The order of top-content's rows (`sort`); each breaks ties by views, then path.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, serde::Serialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum Sort {
    /// Most pageviews first.
    #[default]
    Views,
    /// Most visitors first.
    Visitors,
    /// Most engaged time first.
    EngagedMinutes,
    /// Highest read-through share first.
    ReadThrough,
}

/// What busiest-times' cells count (`measure`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, serde::Serialize, utoipa::ToSchema)]
#[serde(rename_all = "lowercase")]
pub enum Measure {
    /// Everything in the range that fell in the cell's weekday and hour.
    #[default]
    Total,
    /// The total divided by how many times the weekday and hour occur in the range.
    Average,
}

/// `breakdown=prop.KEY` of the events report and the `event=NAME` it breaks down.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Breakdown {
    pub event: String,
    /// The property name (KEY).
    pub key: String,
}

/// The report filters a share link locks (`footfall share create --filter NAME=VALUE`),
/// checked by the rules of a request's filters (one home: `filters`). Stored with the
/// link as a URL query string ([`LockedFilters::to_query`], read back by
/// [`LockedFilters::parse`]); every report read with the link applies them
/// ([`Params::lock`]).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct LockedFilters(Vec<Filter>);

impl LockedFilters {
    /// The filters of `NAME=VALUE` arguments (split at the first `=`; `!VALUE` negates),
    /// as `footfall share create --filter` takes them.
    ///
    /// # Errors
    /// An argument without `=`, a parameter that is not a filter, a value the filter does
    /// not take, a filter given twice; each naming the parameter.
    pub fn from_args(args: &[String]) -> Result<Self, ReportError> {
        Self::from_pairs(args.iter().map(|arg| {
            arg.split_once('=').map(|(name, value)| (name.into(), value.into())).ok_or_else(|| {
                invalid("filter", &format!("must be NAME=VALUE, e.g. country=GB or country=!US, not `{arg}`"))
            })
        }))
    }

    /// The filters stored with a share link ([`LockedFilters::to_query`]).
    ///
    /// # Errors
    /// As [`LockedFilters::from_args`]: a stored filter the rules no longer accept.
    pub fn parse(query: &str) -> Result<Self, ReportError> {
        Self::from_pairs(url::form_urlencoded::parse(query.as_bytes()).map(Ok))
    }

    fn from_pairs<'a>(
        pairs: impl Iterator<Item = Result<(std::borrow::Cow<'a, str>, std::borrow::Cow<'a, str>), ReportError>>,
    ) -> Result<Self, ReportError> {
        let mut filters: Vec<Filter> = Vec::new();
        for pair in pairs {
            let (name, value) = pair?;
            let filter = filter(&name, &value, "is not a report filter; a share link locks filters")?;
            if filters.iter().any(|other| other.parameter() == filter.parameter()) {
                return Err(invalid(&name, "is given twice; give it once"));
            }
            filters.push(filter);
        }
        filters.sort_by(|a, b| (a.dimension, &a.key).cmp(&(b.dimension, &b.key)));
        Ok(Self(filters))
    }

    /// The stored form: a URL query string (`country=%21US&prop.plan=pro`), empty for none.
    pub fn to_query(&self) -> String {
        let mut query = url::form_urlencoded::Serializer::new(String::new());
        for (name, value) in self.pairs() {
            query.append_pair(&name, &value);
        }
        query.finish()
    }

    /// Each filter as its query parameter and its value as given (`!` first when
    /// negated), in the order reports apply them.
    pub fn pairs(&self) -> Vec<(String, String)> {
        self.0.iter().map(|filter| (filter.parameter(), filter.given())).collect()
    }

    /// No filter is locked.
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    /// The goal names the `goal` filter gives (the site must have them).
    pub fn goals(&self) -> impl Iterator<Item = &str> {
        self.0.iter().filter(|filter| filter.dimension == Dimension::Goal).map(|filter| filter.value.as_str())
    }
}

/// A report request's parameters, each checked.
#[derive(Debug, Default)]
pub struct Params {
    pub from: Option<NaiveDate>,
    pub to: Option<NaiveDate>,
    pub tz: Option<Tz>,
    pub limit: Option<u64>,
    pub interval: Option<Interval>,
    pub sort: Option<Sort>,
    pub measure: Option<Measure>,
    /// events only: `breakdown=prop.KEY` with the `event` it breaks down (then not a
    /// filter).
    pub breakdown: Option<Breakdown>,
    /// funnel only: the funnel's name (`funnel=NAME`).
    pub funnel: Option<String>,
    /// What the range is compared with (`compare=previous|year`); `None`: no comparison.
    pub(crate) compare: Option<Mode>,
    /// The filters given, in [`Dimension`] order, then by property name.
    pub(crate) filters: Vec<Filter>,
}

impl Params {
    /// Parses a query string (`from=2026-03-01&to=2026-03-31&tz=Europe/London`).
    ///
    /// # Errors
    /// An unknown or repeated parameter, or a value that is not acceptable, naming it.
    pub fn parse(query: &str) -> Result<Self, ReportError> {
        let mut params = Self::default();
        let mut breakdown_key = None;
        let mut seen: Vec<String> = Vec::new();
        for (name, value) in url::form_urlencoded::parse(query.as_bytes()) {
            let name = name.into_owned();
            if seen.contains(&name) {
                return Err(invalid(&name, "is given twice; give it once"));
            }
            match name.as_str() {
                "from" => params.from = Some(date(&name, &value)?),
                "to" => params.to = Some(date(&name, &value)?),
                "tz" => params.tz = Some(time_zone(&value)?),
                "limit" => params.limit = Some(limit(&value)?),
                "interval" => params.interval = Some(interval(&value)?),
                "sort" => params.sort = Some(sort(&value)?),
                "measure" => params.measure = Some(measure(&value)?),
                "breakdown" => breakdown_key = Some(breakdown(&value)?),
                "compare" => params.compare = Some(compare(&value)?),
                "funnel" => match crate::goals::GoalName::parse(&value) {
                    Ok(_) => params.funnel = Some(value.into_owned()),
                    Err(error) => return Err(invalid("funnel", &format!("must be a funnel's name: {error}"))),
                },
                _ => params.filters.push(filter(
                    &name,
                    &value,
                    "is not a report parameter; use from, to, tz, limit, interval, sort, measure, breakdown, funnel, compare or a filter",
                )?),
            }
            seen.push(name);
        }
        if let Some(key) = breakdown_key {
            let Some(at) = params.filters.iter().position(|filter| filter.dimension == Dimension::Event) else {
                return Err(invalid(
                    "event",
                    "is required with `breakdown`: the event whose property values are the rows",
                ));
            };
            let event = params.filters.remove(at);
            if event.negated {
                return Err(invalid("event", "names the event `breakdown` breaks down; it cannot be negated there"));
            }
            params.breakdown = Some(Breakdown { event: event.value, key });
        }
        params.filters.sort_by(|a, b| (a.dimension, &a.key).cmp(&(b.dimension, &b.key)));
        Ok(params)
    }

    /// `from` and `to`, both required, `from <= to`, at most [`MAX_RANGE_DAYS`] days.
    ///
    /// # Errors
    /// A missing date, `from` after `to`, or a range that is too long.
    pub fn dates(&self) -> Result<(NaiveDate, NaiveDate), ReportError> {
        let from = self.from.ok_or_else(|| invalid("from", "is required (YYYY-MM-DD, the first day of the range)"))?;
        let to = self.to.ok_or_else(|| invalid("to", "is required (YYYY-MM-DD, the last day of the range)"))?;
        if from > to {
            return Err(invalid("from", "is after `to`; the range is from..=to"));
        }
        if (to - from).num_days() + 1 > MAX_RANGE_DAYS {
            return Err(invalid(
                "to",
                &format!("is too far from `from`: a range covers at most {MAX_RANGE_DAYS} days"),
            ));
        }
        Ok((from, to))
    }

    /// `limit`, or [`DEFAULT_LIMIT`].
    pub fn limit_or_default(&self) -> u64 {
        self.limit.unwrap_or(DEFAULT_LIMIT)
    }

    /// The parameters that narrow what a report counts. Every parameter is named here, so
    /// a new one cannot be added without deciding whether it is a filter; filters are
    /// checked against `reports.min_visitors` (`small_counts::check_filters`).
    pub(crate) fn filters(&self) -> Filters<'_> {
        let Self {
            from: _,
            to: _,
            tz: _,
            limit: _,
            interval: _,
            sort: _,
            measure: _,
            breakdown: _,
            funnel: _,
            compare: _,
            filters,
        } = self;
        Filters(filters)
    }

    /// Applies a share link's `locked` filters: each is added where the request does not
    /// give it and kept where it gives the same value, so the answer is always narrowed
    /// by all of them.
    ///
    /// # Errors
    /// [`ReportError::LockedFilter`] (403) naming a locked parameter that the request
    /// gives another value or the negation of; for a locked `event`, also a `breakdown`
    /// of another event.
    pub(crate) fn lock(&mut self, locked: &LockedFilters) -> Result<(), ReportError> {
        let refused = |lock: &Filter, given: String| ReportError::LockedFilter {
            field: lock.parameter(),
            problem: format!(
                "`{}` is locked to `{}` by this share link; leave it out or give that value (`{given}` was given)",
                lock.parameter(),
                lock.given()
            ),
        };
        for lock in &locked.0 {
            let given = self.filters.iter().find(|given| given.dimension == lock.dimension && given.key == lock.key);
            match given {
                Some(given) if given.value == lock.value && given.negated == lock.negated => {}
                Some(given) => return Err(refused(lock, given.given())),
                None => self.filters.push(lock.clone()),
            }
            if let Some(breakdown) = self.breakdown.as_ref().filter(|_| lock.dimension == Dimension::Event) {
                if lock.negated || breakdown.event != lock.value {
                    return Err(refused(lock, breakdown.event.clone()));
                }
            }
        }
        self.filters.sort_by(|a, b| (a.dimension, &a.key).cmp(&(b.dimension, &b.key)));
        Ok(())
    }

    /// Whether a `goal` filter is given (its definition must be read first).
    pub(crate) fn names_goals(&self) -> bool {
        self.filters.iter().any(|filter| filter.dimension == Dimension::Goal)
    }

    /// Gives each `goal` filter its goal's definition from `goals` (the site's).
    ///
    /// # Errors
    /// A goal the site does not have, naming `goal`.
    pub(crate) fn resolve_goals(&mut self, goals: &[Goal]) -> Result<(), ReportError> {
        for filter in self.filters.iter_mut().filter(|filter| filter.dimension == Dimension::Goal) {
            let goal = goals.iter().find(|goal| goal.name.as_str() == filter.value).ok_or_else(|| {
                invalid(
                    "goal",
                    &format!(
                        "names no goal of this site: `{}`; `footfall goals list --site SITE` lists them",
                        filter.value
                    ),
                )
            })?;
            filter.goal = Some(goal.target.matcher());
        }
        Ok(())
    }
}

/// The query parameters as the OpenAPI document lists them, with the limits the parser
/// enforces taken from the same constants.
impl utoipa::IntoParams for Params {
    fn into_params(_: impl Fn() -> Option<ParameterIn>) -> Vec<Parameter> {
        let text = |max: usize| ObjectBuilder::new().schema_type(Type::String).max_length(Some(max));
        let date = || {
            ObjectBuilder::new().schema_type(Type::String).format(Some(SchemaFormat::KnownFormat(KnownFormat::Date)))
        };
        let query = |name: &str, description: &str, schema: ObjectBuilder, example: Option<&str>| {
            ParameterBuilder::new()
                .name(name)
                .parameter_in(ParameterIn::Query)
                .required(Required::False)
                .description(Some(description))
                .schema(Some(schema))
                .example(example.map(serde_json::Value::from))
                .build()
        };
        let (first, last) = (FIRST_DATE, LAST_DATE);
        let dates = format!("{}-{:02}-{:02} to {}-{:02}-{:02}", first.0, first.1, first.2, last.0, last.1, last.2);
        let mut parameters = vec![
            query(
                "from",
                &format!("First day of the range ({dates}); required except for realtime, which refuses it"),
                date(),
                Some("2026-03-27"),
            ),
            query(
                "to",
                &format!("Last day, inclusive; at most {MAX_RANGE_DAYS} days after `from` counting both"),
                date(),
                Some("2026-03-29"),
            ),
            query(
                "tz",
                "IANA time zone of the dates and of every time in the answer; default the site's",
                text(MAX_TZ_BYTES),
                Some("Europe/London"),
            ),
            query(
                "limit",
                "Most rows (top-content, content-discovery, sources, devices, countries only)",
                ObjectBuilder::new()
                    .schema_type(Type::Integer)
                    .minimum(Some(1))
                    .maximum(Some(MAX_LIMIT as f64))
                    .default(Some(DEFAULT_LIMIT.into())),
                None,
            ),
            ParameterBuilder::new()
                .name("interval")
                .parameter_in(ParameterIn::Query)
                .required(Required::False)
                .description(Some("timeseries only: buckets (default `day`)"))
                .schema(Some(Interval::schema()))
                .build(),
            ParameterBuilder::new()
                .name("sort")
                .parameter_in(ParameterIn::Query)
                .required(Required::False)
                .description(Some(
                    "top-content only: the rows' order (default `views`); ties go by views, then path, and `(other)` stays last",
                ))
                .schema(Some(Sort::schema()))
                .build(),
            ParameterBuilder::new()
                .name("measure")
                .parameter_in(ParameterIn::Query)
                .required(Required::False)
                .description(Some(
                    "busiest-times only: each cell's total (default `total`), or its `average` per occurrence of its weekday and hour in the range",
                ))
                .schema(Some(Measure::schema()))
                .build(),
            query(
                "breakdown",
                "events only, with `event`: `prop.KEY` breaks that event down by the values of its property KEY",
                text(MAX_PROP_KEY_BYTES + 5).pattern(Some("^prop\\..+$".to_string())),
                Some("prop.plan"),
            ),
            query(
                "funnel",
                "funnel only, required: the name of the site's funnel (`footfall funnels add`)",
                text(MAX_GOAL_NAME_BYTES),
                Some("Sign-up"),
            ),
            ParameterBuilder::new()
                .name("compare")
                .parameter_in(ParameterIn::Query)
                .required(Required::False)
                .description(Some(
                    "Every report: compare with `previous` (the same number of days just before `from`; realtime: the 5 minutes before) or `year` (the same dates a year earlier, 29 February as 28 February); each row and total gains `previous`, the answer `compare`",
                ))
                .schema(Some(Mode::schema()))
                .build(),
        ];
        // Each filter's longest value, with room for the `!` that negates it.
        for dimension in Dimension::ALL {
            let (schema, example) = match dimension {
                Dimension::Path | Dimension::Page | Dimension::Entry => (
                    text(MAX_PATH_BYTES + 1).pattern(Some(format!("^!?/[A-Za-z0-9{}]*$", regex::escape(PATH_CHARS)))),
                    Some("/blog/"),
                ),
                Dimension::Hostname => (text(MAX_HOST_BYTES + 1), Some("example.com")),
                Dimension::Source => (text(MAX_HOST_BYTES + 1), Some("search")),
                Dimension::Country => (text(3).pattern(Some("^!?[A-Z]{2}$".to_string())), Some("!US")),
                Dimension::Event => (text(MAX_TEXT_BYTES + 1), Some("signup")),
                Dimension::Prop => (text(MAX_TEXT_BYTES + 1), Some("pro")),
                Dimension::Goal => (text(MAX_GOAL_NAME_BYTES + 1), Some("Signed up")),
                _ => (text(MAX_TEXT_BYTES + 1), None),
            };
            let name = if dimension == Dimension::Prop { "prop.KEY" } else { dimension.name() };
            parameters.push(query(name, &dimension.description(), schema, example));
        }
        parameters
    }
}

/// The filter of parameter `name` given `value`; a parameter that is no filter is refused
/// with `not_a_filter` after its name.
fn filter(name: &str, value: &str, not_a_filter: &str) -> Result<Filter, ReportError> {
    match Dimension::of_parameter(name) {
        Some((dimension, key)) => Filter::parse(name, dimension, key, value),
        None => {
            let shown: String = name.chars().take(64).collect();
            let filters = Dimension::ALL.map(|dimension| match dimension {
                Dimension::Prop => "prop.KEY",
                dimension => dimension.name(),
            });
            Err(ReportError::InvalidParameter {
                field: shown.clone(),
                problem: format!("`{shown}` {not_a_filter}: {}", filters.join(", ")),
            })
        }
    }
}

fn invalid(field: &str, problem: &str) -> ReportError {
    ReportError::InvalidParameter { field: field.to_string(), problem: format!("`{field}` {problem}") }
}

fn date(field: &str, value: &str) -> Result<NaiveDate, ReportError> {
    let shaped = value.len() == 10
        && value.bytes().enumerate().all(|(i, b)| if i == 4 || i == 7 { b == b'-' } else { b.is_ascii_digit() });
    let parsed = shaped.then(|| NaiveDate::parse_from_str(value, "%Y-%m-%d").ok()).flatten();
    let first = NaiveDate::from_ymd_opt(FIRST_DATE.0, FIRST_DATE.1, FIRST_DATE.2).unwrap();
    let last = NaiveDate::from_ymd_opt(LAST_DATE.0, LAST_DATE.1, LAST_DATE.2).unwrap();
    match parsed {
        Some(date) if (first..=last).contains(&date) => Ok(date),
        Some(_) => Err(invalid(field, "must lie between 2000-01-01 and 2099-12-31")),
        None => Err(invalid(field, "must be a date as YYYY-MM-DD, e.g. 2026-03-29")),
    }
}

fn time_zone(value: &str) -> Result<Tz, ReportError> {
    if value.len() <= MAX_TZ_BYTES {
        if let Ok(tz) = value.parse::<Tz>() {
            return Ok(tz);
        }
    }
    Err(invalid("tz", "must be an IANA time zone such as Europe/London or UTC"))
}

fn limit(value: &str) -> Result<u64, ReportError> {
    match value.parse::<u64>() {
        Ok(limit) if (1..=MAX_LIMIT).contains(&limit) && value.bytes().all(|b| b.is_ascii_digit()) => Ok(limit),
        _ => Err(invalid("limit", &format!("must be a whole number from 1 to {MAX_LIMIT}"))),
    }
}

fn breakdown(value: &str) -> Result<String, ReportError> {
    match value.strip_prefix("prop.") {
        Some(key) if !key.is_empty() && key.len() <= MAX_PROP_KEY_BYTES && !key.chars().any(char::is_control) => {
            Ok(key.to_string())
        }
        _ => Err(invalid(
            "breakdown",
            &format!("must be `prop.KEY`, KEY a property name of 1 to {MAX_PROP_KEY_BYTES} bytes, e.g. prop.plan"),
        )),
    }
}

fn interval(value: &str) -> Result<Interval, ReportError> {
    match value {
        "hour" => Ok(Interval::Hour),
        "day" => Ok(Interval::Day),
        _ => Err(invalid("interval", "must be `hour` or `day`")),
    }
}

/// The `sort` value `value` (also dashboard panels' `sorts`).
///
/// # Errors
/// A value top-content does not sort by.
pub fn sort(value: &str) -> Result<Sort, ReportError> {
    match value {
        "views" => Ok(Sort::Views),
        "visitors" => Ok(Sort::Visitors),
        "engaged_minutes" => Ok(Sort::EngagedMinutes),
        "read_through" => Ok(Sort::ReadThrough),
        _ => Err(invalid("sort", "must be `views`, `visitors`, `engaged_minutes` or `read_through`")),
    }
}

fn compare(value: &str) -> Result<Mode, ReportError> {
    Mode::parse(value).ok_or_else(|| invalid("compare", "must be `previous` or `year`"))
}

fn measure(value: &str) -> Result<Measure, ReportError> {
    match value {
        "total" => Ok(Measure::Total),
        "average" => Ok(Measure::Average),
        _ => Err(invalid("measure", "must be `total` or `average`")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn field_of(query: &str) -> String {
        match Params::parse(query) {
            Err(ReportError::InvalidParameter { field, .. }) => field,
            other => panic!("expected an invalid parameter for {query}, got {other:?}"),
        }
    }

    #[test]
    fn good_parameters_parse() {
        let params =
            Params::parse("from=2026-03-28&to=2026-03-30&tz=Asia%2FKolkata&limit=5&path=%2Fblog%2F&source=t.co")
                .unwrap();
        assert_eq!(params.dates().unwrap().0.to_string(), "2026-03-28");
        assert_eq!(params.tz, Some(chrono_tz::Asia::Kolkata));
        assert_eq!(params.limit_or_default(), 5);
        assert_eq!(params.filters().given(), ["path", "source"]);
        assert_eq!(params.filters[0].value, "/blog/");
        assert_eq!(params.filters[1].value, "t.co");
    }

    #[test]
    fn each_bad_parameter_is_named() {
        assert_eq!(field_of("from=2026-3-1"), "from");
        assert_eq!(field_of("from=2026-02-30"), "from");
        assert_eq!(field_of("to=1999-12-31"), "to");
        assert_eq!(field_of("tz=Mars%2FOlympus"), "tz");
        assert_eq!(field_of("limit=0"), "limit");
        assert_eq!(field_of("limit=%2B5"), "limit");
        assert_eq!(field_of("limit=1001"), "limit");
        assert_eq!(field_of("path=blog"), "path");
        assert_eq!(field_of(&format!("path=/{}", "a".repeat(512))), "path");
        assert_eq!(field_of("source=Google.com"), "source");
        assert_eq!(field_of("interval=week"), "interval");
        assert_eq!(field_of("sort=engaged"), "sort");
        assert_eq!(field_of("measure=mean"), "measure");
        assert_eq!(field_of("compare=last"), "compare");
        assert_eq!(field_of("compare=previous&compare=year"), "compare");
        assert_eq!(field_of("frm=2026-01-01"), "frm");
        assert_eq!(field_of("from=2026-01-01&from=2026-01-02"), "from");
        assert_eq!(field_of("country=!gb"), "country");
        assert_eq!(field_of("prop.plan=a&prop.plan=b"), "prop.plan");
        assert_eq!(field_of("prop=a"), "prop");
        assert_eq!(field_of("breakdown=plan"), "breakdown");
        assert_eq!(field_of("breakdown=prop."), "breakdown");
        assert_eq!(field_of("breakdown=prop.plan"), "event");
        assert_eq!(field_of("breakdown=prop.plan&event=!signup"), "event");
        let params = Params::parse("event=signup&breakdown=prop.plan&country=GB").unwrap();
        assert_eq!(params.breakdown, Some(Breakdown { event: "signup".into(), key: "plan".into() }));
        assert_eq!(params.filters().given(), ["country"], "the event broken down is not a filter");
    }

    #[test]
    fn filters_come_in_one_order_however_they_are_given() {
        let params = Params::parse("prop.b=2&country=!US&prop.a=1&path=%2Fx&event=signup").unwrap();
        assert_eq!(params.filters().given(), ["path", "country", "event", "prop.a", "prop.b"]);
        assert!(params.filters[1].negated);
    }

    #[test]
    fn sql_metacharacters_are_refused_in_every_parameter() {
        let nasty = "%27%3B%20DROP%20TABLE%20events%3B%20--";
        let names = ["from", "to", "tz", "limit", "interval", "sort", "measure", "compare", "path", "page", "entry"];
        for name in names.into_iter().chain(["hostname", "source", "source_class", "country", "device", "screen"]) {
            assert_eq!(field_of(&format!("{name}={nasty}")), name);
            assert_eq!(field_of(&format!("{name}=%2F{nasty}")), name);
        }
    }

    #[test]
    fn locked_filters_are_added_kept_or_refused() {
        let locked = LockedFilters::from_args(&["prop.plan=pro".into(), "country=!US".into()]).unwrap();
        assert_eq!(locked.to_query(), "country=%21US&prop.plan=pro");
        assert_eq!(LockedFilters::parse(&locked.to_query()).unwrap(), locked);
        let lock = |query: &str| {
            let mut params = Params::parse(query).unwrap();
            params.lock(&locked).map(|()| params.filters.iter().map(|f| (f.parameter(), f.given())).collect::<Vec<_>>())
        };
        let all = vec![("country".to_string(), "!US".to_string()), ("prop.plan".to_string(), "pro".to_string())];
        assert_eq!(lock("").unwrap(), all);
        assert_eq!(lock("country=!US&prop.plan=pro").unwrap(), all);
        assert_eq!(lock("device=mobile").unwrap()[1], ("device".into(), "mobile".into()), "in the order filters apply");
        let field = |query: &str| match lock(query) {
            Err(ReportError::LockedFilter { field, .. }) => field,
            other => panic!("expected a locked filter for {query}, got {other:?}"),
        };
        assert_eq!(field("country=US"), "country");
        assert_eq!(field("country=GB"), "country");
        assert_eq!(field("prop.plan=!pro"), "prop.plan");
        assert!(lock("prop.other=x").is_ok(), "another property is another filter");

        let event = LockedFilters::from_args(&["event=signup".into()]).unwrap();
        let breakdown = |query: &str| Params::parse(query).unwrap().lock(&event);
        assert!(breakdown("event=signup&breakdown=prop.plan").is_ok());
        assert!(
            matches!(breakdown("event=other&breakdown=prop.plan"), Err(ReportError::LockedFilter { field, .. }) if field == "event")
        );
    }

    #[test]
    fn ranges_are_checked() {
        let dates = |q: &str| Params::parse(q).unwrap().dates();
        assert!(
            matches!(dates("from=2026-03-02&to=2026-03-01"), Err(ReportError::InvalidParameter { field, .. }) if field == "from")
        );
        assert!(
            matches!(dates("from=2026-01-01&to=2027-01-02"), Err(ReportError::InvalidParameter { field, .. }) if field == "to")
        );
        assert!(dates("from=2026-01-01&to=2027-01-01").is_ok(), "366 days, both ends included");
        assert!(dates("from=2028-01-01&to=2028-12-31").is_ok(), "a leap year is 366 days");
        assert!(matches!(dates("to=2026-01-01"), Err(ReportError::InvalidParameter { field, .. }) if field == "from"));
    }
}
