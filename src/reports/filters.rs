//! Report filters: the query parameters that narrow what a report counts (`path`, `page`,
//! `entry`, `hostname`, `source`, `source_class`, `utm_*`, `country`, `browser`, `os`,
//! `device`, `screen`, `event`, `prop.KEY`, `goal`), each negated by a `!` before its value. This
//! module owns their names, the values each accepts, and the condition each adds to the
//! shared events condition `{event_scope}` (`sql/filters.sql`), inlined and bound here in
//! one order ([`Filters::sql`], [`Filters::bind`]). `params` parses them, `sql` inlines
//! them into every events-side query, so every report, the small-count filter check and
//! the `(other)` row's exact count apply the same filters. docs/reports.md#filters says
//! what each keeps and which table answers it.

use std::sync::LazyLock;

use clickhouse::query::Query;

use super::error::ReportError;
use crate::goals::Matcher;
use crate::privacy::geo::SCREEN_CLASSES;
use crate::privacy::source::SourceClass;
use crate::privacy::useragent::DeviceClass;

/// A filter parameter, in the order filters are applied, named and bound.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub(crate) enum Dimension {
    Path,
    Page,
    Entry,
    Hostname,
    Source,
    SourceClass,
    UtmSource,
    UtmMedium,
    UtmCampaign,
    UtmContent,
    UtmTerm,
    Country,
    Browser,
    Os,
    Device,
    Screen,
    Event,
    Prop,
    Goal,
}

/// The source classes footfall stores.
const SOURCE_CLASSES: [&str; 5] = SourceClass::NAMES;
/// The device classes footfall stores.
const DEVICES: [&str; 4] = DeviceClass::NAMES;
/// The screen classes footfall stores.
const SCREENS: [&str; 4] = SCREEN_CLASSES;
/// Longest path, page or entry filter, in bytes.
pub(crate) const MAX_PATH_BYTES: usize = 512;
/// Longest host (`source`, `hostname`), in bytes.
pub(crate) const MAX_HOST_BYTES: usize = 253;
/// Longest free-text value (utm_*, browser, os, event, prop.KEY), in bytes.
pub(crate) const MAX_TEXT_BYTES: usize = 256;
/// Longest property name in `prop.KEY`, in bytes.
pub(crate) const MAX_PROP_KEY_BYTES: usize = 64;
/// The characters a path filter may hold besides ASCII letters and digits.
pub(crate) const PATH_CHARS: &str = "/-._~%!$&()*+,=:@";

impl Dimension {
    /// Every filter, in order.
    pub(crate) const ALL: [Self; 19] = [
        Self::Path,
        Self::Page,
        Self::Entry,
        Self::Hostname,
        Self::Source,
        Self::SourceClass,
        Self::UtmSource,
        Self::UtmMedium,
        Self::UtmCampaign,
        Self::UtmContent,
        Self::UtmTerm,
        Self::Country,
        Self::Browser,
        Self::Os,
        Self::Device,
        Self::Screen,
        Self::Event,
        Self::Prop,
        Self::Goal,
    ];

    /// The query parameter (`prop` stands for `prop.KEY`).
    pub(crate) fn name(self) -> &'static str {
        match self {
            Self::Path => "path",
            Self::Page => "page",
            Self::Entry => "entry",
            Self::Hostname => "hostname",
            Self::Source => "source",
            Self::SourceClass => "source_class",
            Self::UtmSource => "utm_source",
            Self::UtmMedium => "utm_medium",
            Self::UtmCampaign => "utm_campaign",
            Self::UtmContent => "utm_content",
            Self::UtmTerm => "utm_term",
            Self::Country => "country",
            Self::Browser => "browser",
            Self::Os => "os",
            Self::Device => "device",
            Self::Screen => "screen",
            Self::Event => "event",
            Self::Prop => "prop",
            Self::Goal => "goal",
        }
    }

    /// What the filter keeps, for the OpenAPI document (docs/reports.md says it at length).
    pub(crate) fn description(self) -> String {
        let text = |what: &str| {
            format!("Only pageviews whose {what} is this (`!` first: is not); at most {MAX_TEXT_BYTES} bytes")
        };
        match self {
            Self::Path => format!(
                "Only pageviews whose path starts with this (`!` first: does not): `/`, then letters, digits and {PATH_CHARS}"
            ),
            Self::Page => "Only pageviews of exactly this path (`!` first: of any other)".into(),
            Self::Entry => "Only pageviews of sessions whose entry page was this path (`!` first: was not)".into(),
            Self::Hostname => "Only pageviews on this lowercase host (`!` first: on any other)".into(),
            Self::Source => format!(
                "Only pageviews whose source class ({}) or lowercase referrer host is this (`!` first: is not)",
                SOURCE_CLASSES.join(", ")
            ),
            Self::SourceClass => format!("Only pageviews of this source class ({}; `!` first: of another)", SOURCE_CLASSES.join(", ")),
            Self::UtmSource => text("utm_source"),
            Self::UtmMedium => text("utm_medium"),
            Self::UtmCampaign => text("utm_campaign"),
            Self::UtmContent => text("utm_content"),
            Self::UtmTerm => text("utm_term"),
            Self::Country => "Only pageviews from this country, ISO 3166 alpha-2 in capitals (`!` first: from another)".into(),
            Self::Browser => text("browser family"),
            Self::Os => text("operating system family"),
            Self::Device => format!("Only pageviews from this device class ({}; `!` first: from another)", DEVICES.join(", ")),
            Self::Screen => format!("Only pageviews with this screen class ({}; `!` first: another)", SCREENS.join(", ")),
            Self::Event => "Only pageviews of visitors (visitor-days) who sent a custom event of this name in the range (`!` first: who did not)".into(),
            Self::Prop => format!(
                "`prop.KEY` (KEY a property name, at most {MAX_PROP_KEY_BYTES} bytes): only pageviews of visitors (visitor-days) who sent an event with property KEY equal to this in the range (`!` first: who did not)"
            ),
            Self::Goal => "Only pageviews of visitors (visitor-days) who reached the site's goal of this name in the range (`!` first: who did not); an unknown goal is a 400".into(),
        }
    }

    /// The filter a query parameter names, with the property name of `prop.KEY`.
    pub(crate) fn of_parameter(name: &str) -> Option<(Self, Option<&str>)> {
        if let Some(key) = name.strip_prefix("prop.") {
            return Some((Self::Prop, Some(key)));
        }
        Self::ALL.into_iter().find(|dimension| *dimension != Self::Prop && dimension.name() == name).map(|d| (d, None))
    }

    /// The condition this filter adds, from `sql/filters.sql`.
    fn condition(self) -> &'static str {
        CONDITIONS[self as usize].as_str()
    }

    /// `value` (without the `!`) if this filter accepts it.
    fn check(self, field: &str, value: &str) -> Result<(), ReportError> {
        let problem = |text: String| Err(invalid(field, &text));
        let one_of = |allowed: &[&str], what: &str| {
            if allowed.contains(&value) {
                Ok(())
            } else {
                problem(format!("must be a {what}: {} (`!` before it negates)", allowed.join(", ")))
            }
        };
        match self {
            Self::Path | Self::Page | Self::Entry => {
                let allowed = |c: char| c.is_ascii_alphanumeric() || PATH_CHARS.contains(c);
                if value.len() > MAX_PATH_BYTES {
                    problem(format!("is longer than {MAX_PATH_BYTES} bytes"))
                } else if !value.starts_with('/') || !value.chars().all(allowed) {
                    problem(format!(
                        "must be a path starting with `/`, of letters, digits and {PATH_CHARS} (percent-encode the rest)"
                    ))
                } else {
                    Ok(())
                }
            }
            Self::Hostname => {
                if is_host(value) {
                    Ok(())
                } else {
                    problem(format!("must be a lowercase host name of at most {MAX_HOST_BYTES} bytes"))
                }
            }
            Self::Source => {
                if SOURCE_CLASSES.contains(&value) || is_host(value) {
                    Ok(())
                } else {
                    problem(format!(
                        "must be a source class ({}) or a lowercase referrer host of at most {MAX_HOST_BYTES} bytes",
                        SOURCE_CLASSES.join(", ")
                    ))
                }
            }
            Self::SourceClass => one_of(&SOURCE_CLASSES, "source class"),
            Self::Device => one_of(&DEVICES, "device class"),
            Self::Screen => one_of(&SCREENS, "screen class"),
            Self::Country => {
                if value.len() == 2 && value.bytes().all(|b| b.is_ascii_uppercase()) {
                    Ok(())
                } else {
                    problem("must be an ISO 3166 alpha-2 country code in capitals, e.g. GB".into())
                }
            }
            Self::Goal => match crate::goals::GoalName::parse(value) {
                Ok(_) => Ok(()),
                Err(error) => problem(format!("must be a goal's name: {error}")),
            },
            Self::UtmSource
            | Self::UtmMedium
            | Self::UtmCampaign
            | Self::UtmContent
            | Self::UtmTerm
            | Self::Browser
            | Self::Os
            | Self::Event
            | Self::Prop => {
                if value.len() > MAX_TEXT_BYTES || value.chars().any(char::is_control) {
                    problem(format!("must be at most {MAX_TEXT_BYTES} bytes without control characters"))
                } else {
                    Ok(())
                }
            }
        }
    }
}

fn is_host(value: &str) -> bool {
    value.len() <= MAX_HOST_BYTES
        && !value.is_empty()
        && value.split('.').all(|label| {
            !label.is_empty() && label.bytes().all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-')
        })
}

fn invalid(field: &str, problem: &str) -> ReportError {
    ReportError::InvalidParameter { field: field.to_string(), problem: format!("`{field}` {problem}") }
}

/// The condition of the events that reach one goal (`sql/goal.sql`, without its
/// comments), bound with a [`Matcher`]'s event name and path expression: in `goal`'s
/// filter line (`{goal}` there) and in the goals report's queries.
pub(crate) static GOAL_CONDITION: LazyLock<String> = LazyLock::new(|| {
    let lines = include_str!("sql/goal.sql").lines().filter(|line| !line.starts_with("--"));
    lines.collect::<Vec<_>>().join(" ")
});

/// Each filter's condition, in [`Dimension::ALL`]'s order, from `sql/filters.sql`.
static CONDITIONS: LazyLock<Vec<String>> = LazyLock::new(|| {
    let lines: Vec<(&str, &str)> = include_str!("sql/filters.sql")
        .lines()
        .filter(|line| !line.starts_with("--") && !line.trim().is_empty())
        .map(|line| line.split_once(": ").expect("a filters.sql line is `name: condition`"))
        .collect();
    Dimension::ALL
        .iter()
        .map(|dimension| {
            let found = lines.iter().find(|(name, _)| *name == dimension.name());
            let condition =
                found.unwrap_or_else(|| panic!("sql/filters.sql has no line `{}: ...`", dimension.name())).1;
            condition.replace("{goal}", &GOAL_CONDITION)
        })
        .collect()
});

/// One filter of a request, checked.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Filter {
    pub dimension: Dimension,
    /// The property name of `prop.KEY`; empty for the other filters.
    pub key: String,
    /// The value, without the `!`.
    pub value: String,
    /// `!` came before the value: keep what does not match.
    pub negated: bool,
    /// `goal`: how the named goal matches events, from its definition
    /// ([`Params::resolve_goals`](super::params::Params::resolve_goals), before any query);
    /// `None` for the other filters.
    pub goal: Option<Matcher>,
}

impl Filter {
    /// The filter of parameter `name` (`dimension`, with `key` for `prop.KEY`) given
    /// `value` (`!value` negates).
    ///
    /// # Errors
    /// An empty value, or one the filter does not accept, naming the parameter.
    pub(crate) fn parse(name: &str, dimension: Dimension, key: Option<&str>, value: &str) -> Result<Self, ReportError> {
        let key = key.unwrap_or_default();
        if dimension == Dimension::Prop
            && (key.is_empty() || key.len() > MAX_PROP_KEY_BYTES || key.chars().any(char::is_control))
        {
            return Err(invalid(
                name,
                &format!("needs a property name of 1 to {MAX_PROP_KEY_BYTES} bytes after `prop.`, e.g. prop.plan"),
            ));
        }
        let (negated, value) = match value.strip_prefix('!') {
            Some(rest) => (true, rest),
            None => (false, value),
        };
        if value.is_empty() {
            return Err(invalid(name, "is empty; give a value (`!value` keeps the others) or leave it out"));
        }
        dimension.check(name, value)?;
        Ok(Self { dimension, key: key.to_string(), value: value.to_string(), negated, goal: None })
    }

    /// The query parameter: `prop.KEY` for a property, else the filter's name.
    pub(crate) fn parameter(&self) -> String {
        match self.dimension {
            Dimension::Prop => format!("prop.{}", self.key),
            dimension => dimension.name().to_string(),
        }
    }

    /// The value as given, `!` included.
    pub(crate) fn given(&self) -> String {
        format!("{}{}", if self.negated { "!" } else { "" }, self.value)
    }
}

/// The request's filters (from [`Params::filters`](super::params::Params::filters)), in
/// [`Dimension`] order then by property name: each narrows what a report counts; none
/// matches everything.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Filters<'a>(pub &'a [Filter]);

impl<'a> Filters<'a> {
    /// No filter.
    pub(crate) const NONE: Filters<'static> = Filters(&[]);

    /// The query parameters of the filters given, in order. Every one of them is checked
    /// against `reports.min_visitors` (`small_counts::check_filters`).
    pub(crate) fn given(&self) -> Vec<String> {
        self.0.iter().map(Filter::parameter).collect()
    }

    /// Whether no filter is given.
    pub(crate) fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    /// Whether every filter given is one of `dimensions` (a table with those columns can
    /// apply them all).
    pub(crate) fn all_among(&self, dimensions: &[Dimension]) -> bool {
        self.0.iter().all(|filter| dimensions.contains(&filter.dimension))
    }

    /// The filters among `dimensions` as SQL, each line `AND condition` or
    /// `AND NOT (condition)`; empty without such filters. Bound by [`Filters::bind`] with
    /// the same `dimensions`.
    pub(crate) fn sql(&self, dimensions: &[Dimension]) -> String {
        self.among(dimensions)
            .map(|filter| {
                let condition = filter.dimension.condition();
                if filter.negated {
                    format!("AND NOT ({condition})")
                } else {
                    format!("AND {condition}")
                }
            })
            .collect::<Vec<_>>()
            .join("\n    ")
    }

    /// Binds [`Filters::sql`] of `dimensions`: the values, and for the filters that read
    /// events again (`entry`, `event`, `prop.KEY`, `goal`) `site` and the range `[start, end)` (UTC
    /// seconds) they read.
    pub(crate) fn bind(&self, mut query: Query, dimensions: &[Dimension], site: &str, start: u32, end: u32) -> Query {
        for filter in self.among(dimensions) {
            query = match filter.dimension {
                Dimension::Source => query.bind(&filter.value).bind(&filter.value),
                // Sessions end at midnight UTC: an entry is at most that far back.
                Dimension::Entry => query.bind(start - start % 86_400).bind(end).bind(site).bind(&filter.value),
                Dimension::Event => query.bind(start).bind(end).bind(site).bind(&filter.value),
                Dimension::Prop => query.bind(start).bind(end).bind(site).bind(&filter.key).bind(&filter.value),
                Dimension::Goal => {
                    let goal = filter.goal.as_ref().expect("goal filters are resolved before any query");
                    query.bind(start).bind(end).bind(site).bind(&goal.event).bind(&goal.path_regex)
                }
                _ => query.bind(&filter.value),
            };
        }
        query
    }

    fn among<'s>(&'s self, dimensions: &'s [Dimension]) -> impl Iterator<Item = &'a Filter> + 's {
        self.0.iter().filter(|filter| dimensions.contains(&filter.dimension))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn every_filter() -> Vec<Filter> {
        Dimension::ALL
            .into_iter()
            .enumerate()
            .map(|(i, dimension)| Filter {
                dimension,
                key: if dimension == Dimension::Prop { "pl'an".into() } else { String::new() },
                value: format!("v{i}'"),
                negated: i % 2 == 1,
                goal: (dimension == Dimension::Goal)
                    .then(|| Matcher { event: format!("e{i}'"), path_regex: format!("^/x{i}'$") }),
            })
            .collect()
    }

    #[test]
    fn every_filter_has_a_condition_and_binds_each_of_its_parameters() {
        for filter in every_filter() {
            let filters = [filter];
            let filters = Filters(&filters);
            let sql = format!("SELECT 1 FROM events WHERE 1 {}", filters.sql(&Dimension::ALL));
            let bound = filters.bind(
                clickhouse::Client::default().query(&sql),
                &Dimension::ALL,
                "example.com",
                90_000,
                100_000,
            );
            let text = bound.sql_display().to_string();
            assert!(!text.contains('?'), "a parameter is left unbound: {text}");
            // A goal binds its definition, never its name.
            let filter = &filters.0[0];
            let value = filter.goal.as_ref().map_or(&filter.value, |goal| &goal.event);
            assert!(text.contains(&format!("'{}'", value.replace('\'', "\\'"))), "{text}");
        }
    }

    #[test]
    fn a_negated_filter_keeps_the_rest() {
        let filters = [Filter {
            dimension: Dimension::Country,
            key: String::new(),
            value: "US".into(),
            negated: true,
            goal: None,
        }];
        assert_eq!(Filters(&filters).sql(&Dimension::ALL), "AND NOT (country = ?)");
    }

    #[test]
    fn entry_reads_from_the_utc_midnight_before_the_range() {
        let filters = [Filter {
            dimension: Dimension::Entry,
            key: String::new(),
            value: "/x".into(),
            negated: false,
            goal: None,
        }];
        let filters = Filters(&filters);
        let query = clickhouse::Client::default().query(&filters.sql(&Dimension::ALL));
        let text = filters.bind(query, &Dimension::ALL, "example.com", 90_000, 100_000).sql_display().to_string();
        assert!(
            text.contains("toDateTime(86400, 'UTC') AS entry_start, toDateTime(100000, 'UTC') AS entry_end"),
            "{text}"
        );
    }

    #[test]
    fn parameters_name_their_filters() {
        assert_eq!(Dimension::of_parameter("utm_term"), Some((Dimension::UtmTerm, None)));
        assert_eq!(Dimension::of_parameter("prop.plan"), Some((Dimension::Prop, Some("plan"))));
        assert_eq!(Dimension::of_parameter("prop"), None);
        let names: Vec<String> = every_filter().iter().map(Filter::parameter).collect();
        assert_eq!(names[names.len() - 2], "prop.pl'an");
        assert_eq!(names.last().map(String::as_str), Some("goal"));
    }

    #[test]
    fn values_are_checked_per_filter() {
        let parse = |name: &str, value: &str| {
            let (dimension, key) = Dimension::of_parameter(name).unwrap();
            Filter::parse(name, dimension, key, value)
        };
        assert_eq!(parse("country", "!US").unwrap().given(), "!US");
        assert!(parse("country", "us").is_err());
        assert!(parse("country", "!").is_err());
        assert!(parse("device", "phone").is_err());
        assert!(parse("screen", "laptop").is_ok());
        assert!(parse("page", "blog").is_err());
        assert!(parse("hostname", "Example.com").is_err());
        assert!(parse("event", "Sign'up; --").is_ok(), "text is bound, never spliced");
        assert!(parse("utm_term", &"x".repeat(MAX_TEXT_BYTES + 1)).is_err());
        assert!(parse("prop.", "pro").is_err());
        assert!(parse("prop.plan", "pro").is_ok());
        assert!(parse("goal", "!Signed up").is_ok());
        assert!(parse("goal", &"g".repeat(65)).is_err());
    }
}
