//! Goals: what a site counts as a conversion, defined without SQL
//! (`footfall goals add --site S NAME (--event NAME | --page PATTERN)`). A goal is
//! reached by a custom event of one name, or by a pageview whose path matches a pattern
//! in which `*` stands for any run of characters. This module owns the rules for goal
//! names and targets and turns a target into what report SQL matches events by
//! ([`Matcher`]); `store::goals` keeps the definitions (`schema/0018_goals.sql`), `cli`
//! adds, lists and removes them, and `reports` answers the `goals` report and the
//! `goal=NAME` filter from the definitions it reads per request. A [`Funnel`] is an
//! ordered list of a site's goals (`footfall funnels add`), read by the `funnel` report.

use std::fmt;

/// Longest goal name, in bytes.
pub const MAX_GOAL_NAME_BYTES: usize = 64;
/// Longest page pattern, in bytes (as a report's `page` filter).
pub const MAX_PATTERN_BYTES: usize = 512;

/// A goal's name: 1 to [`MAX_GOAL_NAME_BYTES`] bytes, no control characters, not starting
/// with `!` (which negates a `goal=` filter) and not `(other)` (the folded row).
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub struct GoalName(String);

impl GoalName {
    /// # Errors
    /// A name that breaks the rules above, saying which.
    pub fn parse(name: &str) -> Result<Self, GoalError> {
        if name.is_empty() || name.len() > MAX_GOAL_NAME_BYTES || name.chars().any(char::is_control) {
            return Err(GoalError(format!(
                "a goal name is 1 to {MAX_GOAL_NAME_BYTES} bytes without control characters"
            )));
        }
        if name.starts_with('!') || name == crate::reports::OTHER {
            return Err(GoalError(format!("a goal name may not start with `!` or be `{}`", crate::reports::OTHER)));
        }
        Ok(Self(name.to_string()))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for GoalName {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.pad(&self.0)
    }
}

/// What reaches a goal.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Target {
    /// A custom event of this name (as the beacon sends it: `footfall('signup')`).
    Event(String),
    /// A pageview whose path matches this pattern (`/`, then path characters; `*`
    /// matches any run of characters, `/` included).
    Page(String),
}

impl Target {
    /// An event target: 1 to 64 characters (the longest event name intake stores),
    /// no control characters, not `pageview` or `engagement` (use `--page` for pages).
    ///
    /// # Errors
    /// A name intake would never store.
    pub fn event(name: &str) -> Result<Self, GoalError> {
        let max = crate::ingest::payload::MAX_NAME_LEN;
        if name.is_empty() || name.chars().count() > max || name.chars().any(char::is_control) {
            return Err(GoalError(format!("an event name is 1 to {max} characters without control characters")));
        }
        if name == "pageview" || name == "engagement" {
            return Err(GoalError(format!("`{name}` is not a custom event; for pages use --page PATTERN")));
        }
        Ok(Self::Event(name.to_string()))
    }

    /// A page target: `/` then letters, digits and the characters a report's path filter
    /// takes, at most [`MAX_PATTERN_BYTES`]; `*` is a wildcard.
    ///
    /// # Errors
    /// A pattern that could match no stored path.
    pub fn page(pattern: &str) -> Result<Self, GoalError> {
        let allowed = |c: char| c.is_ascii_alphanumeric() || crate::reports::PATH_CHARS.contains(c);
        if pattern.len() > MAX_PATTERN_BYTES || !pattern.starts_with('/') || !pattern.chars().all(allowed) {
            return Err(GoalError(format!(
                "a page pattern starts with `/` and holds at most {MAX_PATTERN_BYTES} bytes of letters, digits and {} \
                 (`*` matches any characters), e.g. /blog/*",
                crate::reports::PATH_CHARS
            )));
        }
        Ok(Self::Page(pattern.to_string()))
    }

    /// How events are matched: by name and by a regular expression on the path.
    pub fn matcher(&self) -> Matcher {
        match self {
            Self::Event(name) => Matcher { event: name.clone(), path_regex: String::new() },
            Self::Page(pattern) => {
                let parts: Vec<String> = pattern.split('*').map(regex::escape).collect();
                Matcher { event: "pageview".into(), path_regex: format!("^{}$", parts.join(".*")) }
            }
        }
    }

    /// The kind, `event` or `page`, as the CLI and the table name it.
    pub fn kind(&self) -> &'static str {
        match self {
            Self::Event(_) => "event",
            Self::Page(_) => "page",
        }
    }

    /// The event name or the pattern.
    pub fn value(&self) -> &str {
        match self {
            Self::Event(value) | Self::Page(value) => value,
        }
    }
}

impl fmt::Display for Target {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} {}", self.kind(), self.value())
    }
}

/// What the report SQL binds for a goal (`name = ? AND match(path, ?)`): the event name
/// (`pageview` for a page goal) and an RE2 expression its path must match (empty, which
/// matches every path, for an event goal).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Matcher {
    pub event: String,
    pub path_regex: String,
}

/// A site's goal.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Goal {
    pub site: String,
    pub name: GoalName,
    pub target: Target,
}

/// Fewest and most steps of a funnel.
pub const FUNNEL_STEPS: std::ops::RangeInclusive<usize> = 2..=8;

/// A site's funnel: goals a visitor reaches in this order, within one day (the visitor
/// hash lives one UTC day, so a funnel cannot follow anyone across days).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Funnel {
    pub site: String,
    /// Named by the rules of goal names.
    pub name: GoalName,
    pub steps: Vec<GoalName>,
}

impl Funnel {
    /// # Errors
    /// Fewer or more steps than [`FUNNEL_STEPS`].
    pub fn new(site: &str, name: GoalName, steps: Vec<GoalName>) -> Result<Self, GoalError> {
        if !FUNNEL_STEPS.contains(&steps.len()) {
            return Err(GoalError(format!(
                "a funnel has {} to {} steps, each a goal's name",
                FUNNEL_STEPS.start(),
                FUNNEL_STEPS.end()
            )));
        }
        Ok(Self { site: site.to_string(), name, steps })
    }
}

/// A goal definition that breaks a rule; the message says which.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{0}")]
pub struct GoalError(String);

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn page_patterns_become_anchored_expressions_with_wildcards() {
        let matcher = Target::page("/blog/*.html").unwrap().matcher();
        assert_eq!(matcher, Matcher { event: "pageview".into(), path_regex: r"^/blog/.*\.html$".into() });
        let regex = regex::Regex::new(&matcher.path_regex).unwrap();
        assert!(regex.is_match("/blog/2026/a.html"));
        assert!(!regex.is_match("/blog/a.htm"));
        assert!(!regex.is_match("/x/blog/a.html"));
        assert_eq!(Target::page("/pricing").unwrap().matcher().path_regex, "^/pricing$");
        assert_eq!(Target::page("/a+b(c)").unwrap().matcher().path_regex, r"^/a\+b\(c\)$");
    }

    #[test]
    fn event_goals_match_every_path_of_their_event() {
        assert_eq!(
            Target::event("signup").unwrap().matcher(),
            Matcher { event: "signup".into(), path_regex: "".into() }
        );
    }

    #[test]
    fn bad_definitions_are_refused() {
        assert!(GoalName::parse("").is_err());
        assert!(GoalName::parse("!signup").is_err());
        assert!(GoalName::parse("(other)").is_err());
        assert!(GoalName::parse(&"x".repeat(65)).is_err());
        assert!(GoalName::parse("Signed up").is_ok());
        assert!(Target::event("pageview").is_err());
        assert!(Target::event("a\nb").is_err());
        assert!(Target::page("blog/*").is_err());
        assert!(Target::page("/blog/ a").is_err());
    }
}
