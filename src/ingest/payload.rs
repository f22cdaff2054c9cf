//! The event payload: parsing the JSON the beacon sends and validating every field into a
//! [`ValidEvent`], with errors that name the field (`url`, `[3].engaged_ms`).
//!
//! Strings are borrowed from the request body where JSON escapes allow, so a valid event
//! costs few allocations before the privacy stage reduces it.

use std::borrow::Cow;
use std::collections::BTreeMap;

use chrono::DateTime;
use serde::Deserialize;

use super::error::IngestError;
use crate::privacy::urls::{self, PageUrl, Referrer};

/// Longest accepted `site`, in bytes.
pub const MAX_SITE_LEN: usize = 253;
/// Longest accepted event `name`, in characters.
pub const MAX_NAME_LEN: usize = 64;
/// Longest accepted `url` and `referrer`, in bytes.
pub const MAX_URL_LEN: usize = 2048;
/// Longest accepted `visitor` (cookie id), in bytes.
pub const MAX_VISITOR_LEN: usize = 128;
/// Longest accepted `tz`, in bytes.
pub const MAX_TZ_LEN: usize = 64;
/// Longest accepted `pageview` id, in bytes.
pub const MAX_PAGEVIEW_LEN: usize = 64;
/// Most custom properties on one event.
pub const MAX_PROPS: usize = 30;
/// Longest property key, in characters.
pub const MAX_PROP_KEY_LEN: usize = 64;
/// Longest property value, in characters.
pub const MAX_PROP_VALUE_LEN: usize = 256;
/// Largest accepted `engaged_ms`: one day.
pub const MAX_ENGAGED_MS: u64 = 86_400_000;
/// Largest accepted `scroll`: the whole page.
pub const MAX_SCROLL: u64 = 100;
/// Largest accepted `screen` width.
pub const MAX_SCREEN: u64 = 100_000;

/// The JSON object as sent. Every field is optional here so that a missing required
/// field gets our own message naming it.
#[derive(Debug, Deserialize)]
pub struct RawEvent<'a> {
    #[serde(borrow, default, deserialize_with = "borrowed")]
    site: Option<Cow<'a, str>>,
    #[serde(borrow, default, deserialize_with = "borrowed")]
    name: Option<Cow<'a, str>>,
    #[serde(borrow, default, deserialize_with = "borrowed")]
    url: Option<Cow<'a, str>>,
    #[serde(borrow, default, deserialize_with = "borrowed")]
    referrer: Option<Cow<'a, str>>,
    #[serde(borrow, default, deserialize_with = "borrowed")]
    visitor: Option<Cow<'a, str>>,
    #[serde(default)]
    returning: Option<bool>,
    #[serde(default)]
    consent: Option<bool>,
    #[serde(borrow, default, deserialize_with = "borrowed")]
    published: Option<Cow<'a, str>>,
    #[serde(default)]
    engaged_ms: Option<u64>,
    #[serde(default)]
    scroll: Option<u64>,
    #[serde(default)]
    screen: Option<u64>,
    #[serde(borrow, default, deserialize_with = "borrowed")]
    tz: Option<Cow<'a, str>>,
    #[serde(borrow, default, deserialize_with = "borrowed")]
    pageview: Option<Cow<'a, str>>,
    #[serde(default)]
    props: Option<BTreeMap<String, serde_json::Value>>,
    #[serde(borrow, default, deserialize_with = "borrowed")]
    ts: Option<Cow<'a, str>>,
}

/// An optional string, borrowed from the body unless it holds escapes. (serde borrows a
/// `Cow<str>` field only when its type is exactly that; inside an `Option` it would
/// allocate every string.)
fn borrowed<'de, D: serde::Deserializer<'de>>(deserializer: D) -> Result<Option<Cow<'de, str>>, D::Error> {
    #[derive(Deserialize)]
    struct Borrowed<'a>(#[serde(borrow)] Cow<'a, str>);
    Ok(Option::<Borrowed<'de>>::deserialize(deserializer)?.map(|text| text.0))
}

/// An event whose every field is valid; what the handler hands to the privacy stage.
#[derive(Debug)]
pub struct ValidEvent<'a> {
    pub site: Cow<'a, str>,
    pub name: Cow<'a, str>,
    pub page: PageUrl,
    pub referrer: Option<Referrer>,
    pub cookie_id: Option<Cow<'a, str>>,
    pub returning: bool,
    /// The page asked the visitor for consent and got it (`"consent": true`).
    pub consent: bool,
    /// Seconds since the epoch.
    pub published: Option<u32>,
    pub engaged_ms: u32,
    /// The deepest point of the page the visitor saw, in percent of its height; 0 when
    /// not sent.
    pub scroll: u8,
    pub screen_width: u32,
    pub time_zone: Cow<'a, str>,
    /// The beacon's random id of the page view this event belongs to.
    pub pageview_id: Option<Cow<'a, str>>,
    pub props: Vec<(String, String)>,
    /// Requested event time (seconds since the epoch); the handler honours it only for
    /// admin requests.
    pub ts: Option<u32>,
}

/// Parses one event object.
///
/// # Errors
/// [`IngestError::MalformedJson`] or [`IngestError::InvalidField`] naming the field.
pub fn parse_event(body: &[u8]) -> Result<RawEvent<'_>, IngestError> {
    expect_json_start(body, b'{', "the body must be one JSON object; send arrays to /api/events")?;
    parse(body)
}

/// Parses an array of event objects.
///
/// # Errors
/// As [`parse_event`]; field paths are prefixed with the index (`[3].url`).
pub fn parse_events(body: &[u8]) -> Result<Vec<RawEvent<'_>>, IngestError> {
    expect_json_start(body, b'[', "the body must be a JSON array of events; send single objects to /api/event")?;
    parse(body)
}

/// Refuses a body whose JSON value is of the wrong kind (serde would otherwise read an
/// array as a struct's fields in order). Bodies that are not JSON at all fall through to
/// the parser, which reports where they break.
fn expect_json_start(body: &[u8], expected: u8, problem: &str) -> Result<(), IngestError> {
    match body.iter().find(|byte| !byte.is_ascii_whitespace()) {
        Some(b'{' | b'[') if body.iter().find(|byte| !byte.is_ascii_whitespace()) != Some(&expected) => {
            Err(IngestError::InvalidField { field: "body".into(), problem: problem.into() })
        }
        _ => Ok(()),
    }
}

/// Parses `body` as one JSON value of type `T`. Valid bodies take serde_json alone; only a
/// body that fails is parsed again with path tracking, to name the field that broke
/// (tracking every field of every valid body cost about a third of the parse).
fn parse<'a, T: Deserialize<'a>>(body: &'a [u8]) -> Result<T, IngestError> {
    serde_json::from_slice(body).or_else(|_| parse_with_path(body))
}

fn parse_with_path<'a, T: Deserialize<'a>>(body: &'a [u8]) -> Result<T, IngestError> {
    let mut deserializer = serde_json::Deserializer::from_slice(body);
    let value = serde_path_to_error::deserialize(&mut deserializer).map_err(|err| {
        let path = err.path().to_string();
        let inner = err.into_inner();
        let field = if path == "." { String::new() } else { path };
        match inner.classify() {
            serde_json::error::Category::Data => IngestError::InvalidField {
                problem: describe_type_error(&inner.to_string()),
                field: if field.is_empty() { "body".into() } else { field },
            },
            _ => IngestError::MalformedJson {
                problem: format!(
                    "body is not valid JSON (line {}, column {}); send one JSON object, or an array for /api/events",
                    inner.line(),
                    inner.column()
                ),
            },
        }
    })?;
    deserializer.end().map_err(|inner| IngestError::MalformedJson {
        problem: format!("unexpected data after the JSON value (line {}, column {})", inner.line(), inner.column()),
    })?;
    Ok(value)
}

/// serde's "invalid type: string \"abc\", expected u64 at line 1 column 9" without the
/// offending value (which could be anything the client sent, so it is not echoed back).
fn describe_type_error(message: &str) -> String {
    let kind = message.split(':').next().unwrap_or("invalid value");
    match message.split_once("expected ") {
        Some((_, expected)) => {
            let expected = expected.split(" at line").next().unwrap_or(expected);
            format!("{kind}: expected {expected}")
        }
        None => kind.to_string(),
    }
}

impl<'a> RawEvent<'a> {
    /// Checks every field. `index` prefixes field names for array elements.
    ///
    /// # Errors
    /// [`IngestError::InvalidField`] naming the first bad field.
    pub fn validate(self, index: Option<usize>) -> Result<ValidEvent<'a>, IngestError> {
        let field = |name: &str| match index {
            Some(i) => format!("[{i}].{name}"),
            None => name.to_string(),
        };
        let invalid = |name: &str, problem: String| IngestError::InvalidField { field: field(name), problem };
        let required = |value: Option<Cow<'a, str>>, name: &str| match value {
            Some(value) if !value.trim().is_empty() => Ok(value),
            _ => Err(invalid(name, format!("`{name}` is required"))),
        };

        let site = required(self.site, "site")?;
        if site.len() > MAX_SITE_LEN {
            return Err(invalid("site", format!("`site` is longer than {MAX_SITE_LEN} bytes")));
        }
        let name = required(self.name, "name")?;
        if name.chars().count() > MAX_NAME_LEN || name.chars().any(char::is_control) {
            return Err(invalid(
                "name",
                format!("`name` must be at most {MAX_NAME_LEN} characters without control characters"),
            ));
        }
        let url = required(self.url, "url")?;
        if url.len() > MAX_URL_LEN {
            return Err(invalid("url", format!("`url` is longer than {MAX_URL_LEN} bytes")));
        }
        let page = urls::reduce_page_url(&url).map_err(|err| invalid("url", format!("`url` {err}")))?;
        let referrer = match self.referrer {
            Some(referrer) if referrer.len() > MAX_URL_LEN => {
                return Err(invalid("referrer", format!("`referrer` is longer than {MAX_URL_LEN} bytes")))
            }
            // Browsers send odd referrers (android-app://...): those count as none.
            Some(referrer) => urls::reduce_referrer(&referrer),
            None => None,
        };
        let cookie_id = match self.visitor {
            Some(id) if id.is_empty() => None,
            Some(id) if id.len() > MAX_VISITOR_LEN || id.chars().any(char::is_control) => {
                return Err(invalid(
                    "visitor",
                    format!("`visitor` must be at most {MAX_VISITOR_LEN} bytes without control characters"),
                ))
            }
            other => other,
        };
        let published = self
            .published
            .map(|text| {
                parse_time(&text).ok_or_else(|| {
                    invalid("published", "`published` must be an RFC 3339 time such as 2026-11-28T09:00:00Z".into())
                })
            })
            .transpose()?;
        let engaged_ms = match self.engaged_ms {
            Some(ms) if ms > MAX_ENGAGED_MS => {
                return Err(invalid("engaged_ms", format!("`engaged_ms` must be at most {MAX_ENGAGED_MS} (one day)")))
            }
            other => other.unwrap_or(0) as u32,
        };
        let scroll = match self.scroll {
            Some(percent) if percent > MAX_SCROLL => {
                return Err(invalid("scroll", format!("`scroll` must be a percentage from 0 to {MAX_SCROLL}")))
            }
            other => other.unwrap_or(0) as u8,
        };
        let screen_width = match self.screen {
            Some(width) if width > MAX_SCREEN => {
                return Err(invalid("screen", format!("`screen` must be at most {MAX_SCREEN} pixels")))
            }
            other => other.unwrap_or(0) as u32,
        };
        let time_zone = self.tz.unwrap_or_default();
        if time_zone.len() > MAX_TZ_LEN {
            return Err(invalid("tz", format!("`tz` is longer than {MAX_TZ_LEN} bytes")));
        }
        let pageview_id = match self.pageview {
            Some(id) if id.is_empty() => None,
            Some(id) if id.len() > MAX_PAGEVIEW_LEN || id.chars().any(char::is_control) => {
                return Err(invalid(
                    "pageview",
                    format!("`pageview` must be at most {MAX_PAGEVIEW_LEN} bytes without control characters"),
                ))
            }
            other => other,
        };
        let props = self.props.map(|props| validate_props(props, &field)).transpose()?.unwrap_or_default();
        let ts = self
            .ts
            .map(|text| {
                parse_time(&text)
                    .ok_or_else(|| invalid("ts", "`ts` must be an RFC 3339 time such as 2026-11-28T10:15:00Z".into()))
            })
            .transpose()?;
        Ok(ValidEvent {
            site,
            name,
            page,
            referrer,
            cookie_id,
            returning: self.returning.unwrap_or(false),
            consent: self.consent.unwrap_or(false),
            published,
            engaged_ms,
            scroll,
            screen_width,
            time_zone,
            pageview_id,
            props,
            ts,
        })
    }
}

fn validate_props(
    props: BTreeMap<String, serde_json::Value>,
    field: &dyn Fn(&str) -> String,
) -> Result<Vec<(String, String)>, IngestError> {
    if props.len() > MAX_PROPS {
        return Err(IngestError::InvalidField {
            field: field("props"),
            problem: format!("`props` has more than {MAX_PROPS} entries"),
        });
    }
    props
        .into_iter()
        .map(|(key, value)| {
            let problem =
                |problem: String| IngestError::InvalidField { field: field(&format!("props.{key}")), problem };
            if key.is_empty() || key.chars().count() > MAX_PROP_KEY_LEN || key.chars().any(char::is_control) {
                return Err(problem(format!("property names must be 1 to {MAX_PROP_KEY_LEN} characters")));
            }
            let value = match value {
                serde_json::Value::String(text) => text,
                serde_json::Value::Number(number) => number.to_string(),
                serde_json::Value::Bool(flag) => flag.to_string(),
                _ => return Err(problem("property values must be strings, numbers or booleans".into())),
            };
            if value.chars().count() > MAX_PROP_VALUE_LEN {
                return Err(problem(format!("property values must be at most {MAX_PROP_VALUE_LEN} characters")));
            }
            Ok((key, value))
        })
        .collect()
}

/// An RFC 3339 time as seconds since the epoch, if it fits a ClickHouse `DateTime`.
fn parse_time(text: &str) -> Option<u32> {
    let seconds = DateTime::parse_from_rfc3339(text).ok()?.timestamp();
    u32::try_from(seconds).ok()
}

/// The event object as the OpenAPI document shows it (`Event`), with the limits
/// [`RawEvent::validate`] enforces taken from the same constants.
impl utoipa::PartialSchema for RawEvent<'_> {
    fn schema() -> utoipa::openapi::RefOr<utoipa::openapi::schema::Schema> {
        use utoipa::openapi::schema::{
            AdditionalProperties, KnownFormat, ObjectBuilder, OneOfBuilder, SchemaFormat, Type,
        };
        let of = |kind: Type, description: &str| ObjectBuilder::new().schema_type(kind).description(Some(description));
        let text = |max: usize, description: &str| of(Type::String, description).max_length(Some(max));
        let time = |description: &str| {
            of(Type::String, description).format(Some(SchemaFormat::KnownFormat(KnownFormat::DateTime)))
        };
        let count =
            |max: u64, description: &str| of(Type::Integer, description).minimum(Some(0)).maximum(Some(max as f64));
        let prop_value = OneOfBuilder::new()
            .item(of(Type::String, "").max_length(Some(MAX_PROP_VALUE_LEN)))
            .item(of(Type::Number, ""))
            .item(of(Type::Boolean, ""));
        let props = of(Type::Object, "Custom properties (redacted like URLs before they are stored)")
            .max_properties(Some(MAX_PROPS))
            .additional_properties(Some(AdditionalProperties::RefOr(prop_value.into())));
        ObjectBuilder::new()
            .property("site", text(MAX_SITE_LEN, "The registered site's domain"))
            .property(
                "name",
                text(MAX_NAME_LEN, "`pageview`, `engagement` or a custom name; characters, no control characters")
                    .min_length(Some(1)),
            )
            .property("url", text(MAX_URL_LEN, "The page's URL; only host, path and `utm_*` are kept"))
            .property("referrer", text(MAX_URL_LEN, "The referrer; only host and path are kept"))
            .property(
                "visitor",
                text(MAX_VISITOR_LEN, "Random id from the first-party cookie; absent: cookieless counting"),
            )
            .property("returning", of(Type::Boolean, "The beacon's cookie says the visitor was here before"))
            .property(
                "consent",
                of(
                    Type::Boolean,
                    "The visitor consented (sent by the beacon after footfall.consent(true)); required to be true \
                     for sites in consent mode",
                ),
            )
            .property("published", time("When the page was published"))
            .property("engaged_ms", count(MAX_ENGAGED_MS, "Engaged time on the page, in milliseconds"))
            .property(
                "scroll",
                count(MAX_SCROLL, "The deepest point of the page seen, in percent of its height (engagement events)"),
            )
            .property("screen", count(MAX_SCREEN, "Screen width, in pixels"))
            .property("tz", text(MAX_TZ_LEN, "The browser's IANA time zone (gives the country)"))
            .property("pageview", text(MAX_PAGEVIEW_LEN, "The beacon's random id of the page view"))
            .property("props", props)
            .property("ts", time("Event time (backfill, import): honoured only with the admin token"))
            .required("site")
            .required("name")
            .required("url")
            .into()
    }
}

impl utoipa::ToSchema for RawEvent<'_> {
    fn name() -> Cow<'static, str> {
        "Event".into()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn field_of(err: IngestError) -> String {
        match err {
            IngestError::InvalidField { field, .. } => field,
            other => panic!("expected an invalid field, got {other:?}"),
        }
    }

    #[test]
    fn strings_are_borrowed_from_the_body_unless_escaped() {
        let body = br#"{"site":"example.com","name":"sign\u0075p","url":"https://example.com/"}"#;
        let raw = parse_event(body).unwrap();
        assert!(matches!(raw.site, Some(Cow::Borrowed("example.com"))), "{:?}", raw.site);
        assert!(matches!(raw.url, Some(Cow::Borrowed(_))));
        assert!(matches!(raw.name, Some(Cow::Owned(ref name)) if name == "signup"), "{:?}", raw.name);
        assert_eq!(raw.referrer, None);
        let err = parse_event(br#"{"site":5,"name":"pageview","url":"https://example.com/"}"#).unwrap_err();
        assert_eq!(err.to_string(), "invalid type: expected a string");
        assert_eq!(field_of(err), "site");
    }

    #[test]
    fn minimal_event_is_valid() {
        let body = br#"{"site":"example.com","name":"pageview","url":"https://example.com/a?x=1"}"#;
        let event = parse_event(body).unwrap().validate(None).unwrap();
        assert_eq!(event.site, "example.com");
        assert_eq!(event.page.path, "/a");
        assert!(event.cookie_id.is_none());
    }

    #[test]
    fn missing_and_wrong_fields_are_named() {
        let missing = parse_event(br#"{"site":"example.com","name":"pageview"}"#).unwrap().validate(None);
        assert_eq!(field_of(missing.unwrap_err()), "url");
        let wrong = parse_event(
            br#"{"site":"example.com","name":"pageview","url":"https://example.com/","engaged_ms":"long"}"#,
        );
        let err = wrong.unwrap_err();
        assert_eq!(err.to_string(), "invalid type: expected u64");
        assert_eq!(field_of(err), "engaged_ms");
        let in_array = parse_events(br#"[{"site":"a.com","name":"p","url":"https://a.com/"},{"site":1}]"#);
        assert_eq!(field_of(in_array.unwrap_err()), "[1].site");
    }

    #[test]
    fn scroll_is_a_percentage() {
        let event = |scroll: &str| {
            let body = format!(r#"{{"site":"a.com","name":"engagement","url":"https://a.com/","scroll":{scroll}}}"#);
            parse_event(body.as_bytes()).and_then(|raw| raw.validate(None)).map(|event| event.scroll)
        };
        assert_eq!(event("0").unwrap(), 0);
        assert_eq!(event("100").unwrap(), 100);
        let err = event("101").unwrap_err();
        assert_eq!(err.to_string(), "`scroll` must be a percentage from 0 to 100");
        assert_eq!(field_of(err), "scroll");
        assert_eq!(field_of(event("-1").unwrap_err()), "scroll");
        assert_eq!(field_of(event("12.5").unwrap_err()), "scroll");
        let none = parse_event(br#"{"site":"a.com","name":"pageview","url":"https://a.com/"}"#).unwrap();
        assert_eq!(none.validate(None).unwrap().scroll, 0);
    }

    #[test]
    fn wrong_type_message_does_not_echo_the_value() {
        let err = parse_event(br#"{"returning":"secret-cookie-value"}"#).unwrap_err();
        assert!(!err.to_string().contains("secret-cookie-value"), "{err}");
    }

    #[test]
    fn props_are_flattened_to_strings() {
        let body =
            br#"{"site":"a.com","name":"signup","url":"https://a.com/","props":{"plan":"pro","seats":3,"trial":true}}"#;
        let event = parse_event(body).unwrap().validate(None).unwrap();
        assert_eq!(
            event.props,
            vec![
                ("plan".to_string(), "pro".to_string()),
                ("seats".to_string(), "3".to_string()),
                ("trial".to_string(), "true".to_string())
            ]
        );
        let nested = br#"{"site":"a.com","name":"signup","url":"https://a.com/","props":{"deep":{"x":1}}}"#;
        assert_eq!(field_of(parse_event(nested).unwrap().validate(None).unwrap_err()), "props.deep");
    }

    #[test]
    fn pageview_id_is_optional_and_bounded() {
        let body = br#"{"site":"a.com","name":"engagement","url":"https://a.com/","pageview":"123x456"}"#;
        assert_eq!(parse_event(body).unwrap().validate(None).unwrap().pageview_id.as_deref(), Some("123x456"));
        let empty = br#"{"site":"a.com","name":"engagement","url":"https://a.com/","pageview":""}"#;
        assert_eq!(parse_event(empty).unwrap().validate(None).unwrap().pageview_id, None);
        let long =
            format!(r#"{{"site":"a.com","name":"pageview","url":"https://a.com/","pageview":"{}"}}"#, "x".repeat(65));
        assert_eq!(field_of(parse_event(long.as_bytes()).unwrap().validate(None).unwrap_err()), "pageview");
    }

    #[test]
    fn trailing_garbage_is_malformed() {
        let err = parse_event(br#"{"site":"a.com"} {"#).unwrap_err();
        assert!(matches!(err, IngestError::MalformedJson { .. }), "{err:?}");
    }

    #[test]
    fn hostile_json_is_refused_without_panicking() {
        let deep = format!("{}{}", "[".repeat(100_000), "]".repeat(100_000));
        assert_eq!(parse_events(deep.as_bytes()).unwrap_err().field(), Some("[0][0]"));
        let deep_object = format!("[{}1{}]", "{\"a\":".repeat(100_000), "}".repeat(100_000));
        // Unknown fields are skipped without recursing, however deep: the event is then
        // refused for what it lacks.
        let mut events = parse_events(deep_object.as_bytes()).unwrap();
        assert_eq!(events.pop().unwrap().validate(Some(0)).unwrap_err().field(), Some("[0].site"));
        let deep_props =
            format!(r#"{{"site":"a.com","name":"p","url":"https://a.com/","props":{}}}"#, "{\"a\":".repeat(5000));
        assert!(parse_event(deep_props.as_bytes()).is_err());
        // A number beyond f64 is not valid JSON to serde_json; the others have the wrong type.
        let too_big = br#"{"site":"a.com","name":"p","url":"https://a.com/","engaged_ms":1e400}"#;
        assert_eq!(parse_event(too_big).unwrap_err().field(), Some("body"));
        for number in ["18446744073709551616", "-1", "1.5"] {
            let body = format!(r#"{{"site":"a.com","name":"p","url":"https://a.com/","engaged_ms":{number}}}"#);
            let err = parse_event(body.as_bytes()).and_then(|raw| raw.validate(None).map(drop)).unwrap_err();
            assert_eq!(err.field(), Some("engaged_ms"), "{number}: {err:?}");
        }
        let header_injection = br#"{"site":"a.com\r\nX-Injected: 1","name":"p\r\n","url":"https://a.com/"}"#;
        assert!(parse_event(header_injection).unwrap().validate(None).is_err());
    }

    fn json_value() -> impl proptest::strategy::Strategy<Value = serde_json::Value> {
        use proptest::prelude::*;
        let leaf = prop_oneof![
            Just(serde_json::Value::Null),
            any::<bool>().prop_map(serde_json::Value::from),
            any::<i64>().prop_map(serde_json::Value::from),
            any::<f64>().prop_map(serde_json::Value::from),
            ".{0,40}".prop_map(serde_json::Value::from),
            prop_oneof![Just("https://a.com/x?utm_source=y"), Just("a.com"), Just("pageview")]
                .prop_map(serde_json::Value::from),
        ];
        leaf.prop_recursive(4, 64, 8, |inner| {
            prop_oneof![
                proptest::collection::vec(inner.clone(), 0..8).prop_map(serde_json::Value::from),
                proptest::collection::btree_map(
                    prop_oneof![
                        Just("site".to_string()),
                        Just("name".to_string()),
                        Just("url".to_string()),
                        Just("props".to_string()),
                        Just("engaged_ms".to_string()),
                        Just("published".to_string()),
                        ".{0,10}"
                    ],
                    inner,
                    0..8
                )
                .prop_map(|map| serde_json::Value::Object(map.into_iter().collect())),
            ]
        })
    }

    proptest::proptest! {
        /// Fuzzing by property: any bytes give a result, never a panic.
        #[test]
        fn any_bytes_parse_or_fail_cleanly(bytes in proptest::collection::vec(proptest::num::u8::ANY, 0..512)) {
            if let Ok(raw) = parse_event(&bytes) {
                let _ = raw.validate(None);
            }
            if let Ok(raw) = parse_events(&bytes) {
                for (index, event) in raw.into_iter().enumerate() {
                    let _ = event.validate(Some(index));
                }
            }
        }

        /// Structured fuzzing: any JSON value, shaped like an event or not.
        #[test]
        fn any_json_value_parses_or_fails_cleanly(value in json_value()) {
            let bytes = serde_json::to_vec(&value).unwrap();
            match parse_event(&bytes) {
                Ok(raw) => {
                    if let Err(err) = raw.validate(None) {
                        proptest::prop_assert!(err.field().is_some());
                    }
                }
                Err(err) => proptest::prop_assert!(err.field().is_some()),
            }
        }
    }
}
