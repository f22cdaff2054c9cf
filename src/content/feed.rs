//! Reading a sitemap, an RSS 2.0 feed or an Atom feed into the entries it lists: each
//! entry's link, publish time and title, with the line and column of its link. The
//! format is the document's root element: `<urlset>` (a sitemap: `<url>` with `<loc>`,
//! `<lastmod>`), `<rss>` (`<item>` with `<link>`, `<pubDate>` in RFC 2822, `<title>`) or
//! `<feed>` (Atom: `<entry>` with `<link href>`, `<published>` in RFC 3339, `<title>`).
//!
//! An entry's fields are its child elements in the namespace of the entry itself, so an
//! extension's elements (`<image:loc>`, `<media:title>`) are never taken for them. Entries
//! without a date or without a link are counted, not returned. Anything else that is not
//! as described (malformed XML, a date that does not parse, an unknown root) is a
//! [`FeedError`] naming its line and column. Nothing here knows sites or paths: `super`
//! turns the links into pages.
//!
//! Parsing uses `roxmltree`, which refuses DTDs, so entity expansion cannot blow up.

use std::fmt;

use chrono::{DateTime, NaiveDate, Utc};
use roxmltree::{Document, Node};

/// What kind of document a source is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    Sitemap,
    Rss,
    Atom,
}

impl Format {
    /// "a" or "an", as the name begins.
    pub fn article(self) -> &'static str {
        match self {
            Self::Sitemap => "a",
            Self::Rss | Self::Atom => "an",
        }
    }
}

impl fmt::Display for Format {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Self::Sitemap => "sitemap",
            Self::Rss => "RSS feed",
            Self::Atom => "Atom feed",
        })
    }
}

/// A line and column in the document, both from 1.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Position {
    pub line: u32,
    pub column: u32,
}

impl fmt::Display for Position {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "line {}, column {}", self.line, self.column)
    }
}

/// One entry of a document.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Entry {
    /// The link as written (trimmed).
    pub link: String,
    /// Where the link is: its element, or the `href` of an Atom `<link>`.
    pub at: Position,
    pub published: DateTime<Utc>,
    /// The title's text, its whitespace as written; empty when there is none.
    pub title: String,
}

/// What a document lists.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Feed {
    pub format: Format,
    /// The entries with a link and a date, in document order.
    pub entries: Vec<Entry>,
    /// Entries without a date (`<lastmod>`, `<pubDate>`, `<published>`).
    pub undated: usize,
    /// Entries without a link (an RSS `<item>` may have none).
    pub unlinked: usize,
}

/// Why a document, or an entry of it, cannot be read, and where.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{at}: {problem}")]
pub struct FeedError {
    pub at: Position,
    pub problem: String,
}

/// The entries of a sitemap, an RSS 2.0 feed or an Atom feed.
///
/// # Errors
/// Malformed XML, a root element that is none of the three, a date that does not parse
/// (each with its line and column).
pub fn parse(text: &str) -> Result<Feed, FeedError> {
    let text = text.strip_prefix('\u{feff}').unwrap_or(text);
    let document = Document::parse(text).map_err(|error| FeedError {
        at: Position { line: error.pos().row, column: error.pos().col },
        problem: format!("malformed XML: {error}"),
    })?;
    let root = document.root_element();
    let fail = |problem: String| Err(FeedError { at: position(&document, root), problem });
    match root.tag_name().name() {
        "urlset" => read(&document, root, Format::Sitemap),
        "rss" => match root.children().find(|node| is_child(root, *node, "channel")) {
            Some(channel) => read(&document, channel, Format::Rss),
            None => fail("the RSS feed has no <channel>".into()),
        },
        "feed" => read(&document, root, Format::Atom),
        "sitemapindex" => fail("this is a sitemap index: import each sitemap its <loc> elements list instead".into()),
        other => fail(format!(
            "the document is <{other}>, not a sitemap (<urlset>), an RSS 2.0 feed (<rss>) or an Atom feed (<feed>)"
        )),
    }
}

/// The entries under `parent` (the `<urlset>`, the RSS `<channel>`, the Atom `<feed>`).
fn read(document: &Document<'_>, parent: Node<'_, '_>, format: Format) -> Result<Feed, FeedError> {
    let (entry_name, date_name) = match format {
        Format::Sitemap => ("url", "lastmod"),
        Format::Rss => ("item", "pubDate"),
        Format::Atom => ("entry", "published"),
    };
    let mut feed = Feed { format, entries: Vec::new(), undated: 0, unlinked: 0 };
    for entry in parent.children().filter(|node| is_child(parent, *node, entry_name)) {
        let field = |name: &str| entry.children().find(|node| is_child(entry, *node, name));
        let link = match format {
            Format::Sitemap | Format::Rss => field(if format == Format::Sitemap { "loc" } else { "link" })
                .map(|node| (text_of(node), position(document, node))),
            Format::Atom => atom_link(document, entry),
        };
        let Some((link, at)) = link.filter(|(link, _)| !link.is_empty()) else {
            feed.unlinked += 1;
            continue;
        };
        let Some(date) = field(date_name).filter(|node| !text_of(*node).is_empty()) else {
            feed.undated += 1;
            continue;
        };
        let published = parse_date(format, &text_of(date)).map_err(|expected| FeedError {
            at: position(document, date),
            problem: format!("<{date_name}> `{}` is not a date: {expected}", text_of(date)),
        })?;
        let title = field("title").map(text_of).unwrap_or_default();
        feed.entries.push(Entry { link, at, published, title });
    }
    Ok(feed)
}

/// Whether `node` is an element named `name` in the namespace of `parent`.
fn is_child(parent: Node<'_, '_>, node: Node<'_, '_>, name: &str) -> bool {
    node.is_element() && node.tag_name().name() == name && node.tag_name().namespace() == parent.tag_name().namespace()
}

/// An Atom entry's link to its page: the `href` of its `<link rel="alternate">` (the rel
/// by default), with the position of the `<link>`.
fn atom_link(document: &Document<'_>, entry: Node<'_, '_>) -> Option<(String, Position)> {
    let link = entry
        .children()
        .filter(|node| is_child(entry, *node, "link"))
        .find(|node| node.attribute("rel").unwrap_or("alternate") == "alternate")?;
    Some((link.attribute("href").unwrap_or_default().trim().to_string(), position(document, link)))
}

/// The text inside `node` (CDATA included), trimmed.
fn text_of(node: Node<'_, '_>) -> String {
    let text: String = node.descendants().filter(|node| node.is_text()).filter_map(|node| node.text()).collect();
    text.trim().to_string()
}

fn position(document: &Document<'_>, node: Node<'_, '_>) -> Position {
    let at = document.text_pos_at(node.range().start);
    Position { line: at.row, column: at.col }
}

/// A date as `format` writes it; `Err` says what was expected.
fn parse_date(format: Format, text: &str) -> Result<DateTime<Utc>, &'static str> {
    let utc = |at: DateTime<chrono::FixedOffset>| at.with_timezone(&Utc);
    match format {
        Format::Rss => DateTime::parse_from_rfc2822(text)
            .map(utc)
            .map_err(|_| "RSS dates are RFC 2822, such as `Tue, 03 Nov 2026 09:00:00 GMT`"),
        Format::Atom => DateTime::parse_from_rfc3339(text)
            .map(utc)
            .map_err(|_| "Atom dates are RFC 3339, such as `2026-11-03T09:00:00Z`"),
        Format::Sitemap => w3c_datetime(text)
            .ok_or("sitemap dates are W3C datetimes: `2026-11-03`, `2026-11-03T09:00+01:00` or `2026-11-03T09:00:00Z`"),
    }
}

/// A W3C datetime as sitemaps use it: a date (midnight UTC), or a date and time with
/// minutes, seconds or fractions and a zone.
fn w3c_datetime(text: &str) -> Option<DateTime<Utc>> {
    if let Ok(at) = DateTime::parse_from_rfc3339(text) {
        return Some(at.with_timezone(&Utc));
    }
    if let Ok(day) = NaiveDate::parse_from_str(text, "%Y-%m-%d") {
        return Some(day.and_hms_opt(0, 0, 0)?.and_utc());
    }
    let zoned = text.strip_suffix('Z').map_or_else(|| text.to_string(), |rest| format!("{rest}+00:00"));
    DateTime::parse_from_str(&zoned, "%Y-%m-%dT%H:%M%:z").ok().map(|at| at.with_timezone(&Utc))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(text: &str) -> DateTime<Utc> {
        DateTime::parse_from_rfc3339(text).unwrap().with_timezone(&Utc)
    }

    fn entry(link: &str, line: u32, column: u32, published: &str, title: &str) -> Entry {
        Entry { link: link.into(), at: Position { line, column }, published: at(published), title: title.into() }
    }

    #[test]
    fn a_sitemap_lists_its_urls_with_their_lastmod() {
        let text = r#"<?xml version="1.0" encoding="UTF-8"?>
<urlset xmlns="http://www.sitemaps.org/schemas/sitemap/0.9"
        xmlns:image="http://www.google.com/schemas/sitemap-image/1.1">
  <url><loc> https://example.com/a </loc><lastmod>2026-11-03</lastmod></url>
  <url>
    <loc>https://example.com/b</loc>
    <lastmod>2026-11-04T10:30+01:00</lastmod>
    <image:image><image:loc>https://example.com/b.png</image:loc></image:image>
  </url>
  <url><loc>https://example.com/c</loc><lastmod>2026-11-05T08:00:00.5Z</lastmod></url>
  <url><loc>https://example.com/undated</loc></url>
</urlset>"#;
        let feed = parse(text).unwrap();
        assert_eq!(feed.format, Format::Sitemap);
        assert_eq!(
            feed.entries,
            vec![
                entry("https://example.com/a", 4, 8, "2026-11-03T00:00:00Z", ""),
                entry("https://example.com/b", 6, 5, "2026-11-04T09:30:00Z", ""),
                entry("https://example.com/c", 10, 8, "2026-11-05T08:00:00.5Z", ""),
            ]
        );
        assert_eq!((feed.undated, feed.unlinked), (1, 0));
    }

    #[test]
    fn an_rss_feed_lists_its_items() {
        let text = "<rss version=\"2.0\" xmlns:media=\"http://search.yahoo.com/mrss/\"><channel>\n\
            <title>The blog</title><link>https://example.com/</link>\n\
            <item><title><![CDATA[Hello & welcome]]></title><media:title>not this</media:title>\n\
            <link>https://example.com/hello</link><pubDate>Tue, 03 Nov 2026 09:00:00 +0100</pubDate></item>\n\
            <item><title>No date</title><link>https://example.com/nodate</link></item>\n\
            <item><title>No link</title><pubDate>Tue, 03 Nov 2026 09:00:00 GMT</pubDate></item>\n\
            </channel></rss>";
        let feed = parse(text).unwrap();
        assert_eq!(feed.format, Format::Rss);
        assert_eq!(
            feed.entries,
            vec![entry("https://example.com/hello", 4, 1, "2026-11-03T08:00:00Z", "Hello & welcome")]
        );
        assert_eq!((feed.undated, feed.unlinked), (1, 1));
    }

    #[test]
    fn an_atom_feed_lists_its_entries_by_their_alternate_link() {
        let text = r#"<feed xmlns="http://www.w3.org/2005/Atom">
  <link rel="self" href="https://example.com/feed.xml"/>
  <entry>
    <title type="html">Atom &amp; Eve</title>
    <link rel="edit" href="https://example.com/edit/1"/>
    <link href="https://example.com/atom-eve"/>
    <published>2026-11-03T09:00:00+02:00</published>
    <updated>2026-11-09T09:00:00Z</updated>
  </entry>
  <entry><title>Only updated</title><link href="https://example.com/x"/><updated>2026-11-09T09:00:00Z</updated></entry>
</feed>"#;
        let feed = parse(text).unwrap();
        assert_eq!(feed.format, Format::Atom);
        assert_eq!(
            feed.entries,
            vec![entry("https://example.com/atom-eve", 6, 5, "2026-11-03T07:00:00Z", "Atom & Eve")]
        );
        assert_eq!((feed.undated, feed.unlinked), (1, 0));
    }

    #[test]
    fn malformed_documents_name_the_line_and_column() {
        let error = parse("<urlset>\n  <url><loc>https://example.com/a</loc>\n  </urlset>").unwrap_err();
        assert_eq!(error.at, Position { line: 3, column: 3 });
        assert!(error.problem.starts_with("malformed XML: "), "{error}");

        let error = parse("<rss><channel>\n<item><link>https://example.com/a</link>\n<pubDate>yesterday</pubDate></item></channel></rss>")
            .unwrap_err();
        assert_eq!(
            error.to_string(),
            "line 3, column 1: <pubDate> `yesterday` is not a date: RSS dates are RFC 2822, such as \
             `Tue, 03 Nov 2026 09:00:00 GMT`"
        );

        let error = parse("<html><body/></html>").unwrap_err();
        assert_eq!(
            error.to_string(),
            "line 1, column 1: the document is <html>, not a sitemap (<urlset>), an RSS 2.0 feed (<rss>) or an Atom \
             feed (<feed>)"
        );
        assert!(parse("<sitemapindex/>").unwrap_err().problem.starts_with("this is a sitemap index"));
        assert_eq!(parse("<rss version=\"2.0\"/>").unwrap_err().problem, "the RSS feed has no <channel>");
    }

    #[test]
    fn dtds_are_refused() {
        let bomb =
            "<!DOCTYPE r [<!ENTITY a \"aaaaaaaaaa\"><!ENTITY b \"&a;&a;&a;&a;&a;&a;&a;&a;\">]>\n<urlset>&b;</urlset>";
        assert!(parse(bomb).unwrap_err().problem.starts_with("malformed XML: "));
    }

    #[test]
    fn sitemap_dates_take_every_w3c_precision_used() {
        assert_eq!(w3c_datetime("2026-11-03"), Some(at("2026-11-03T00:00:00Z")));
        assert_eq!(w3c_datetime("2026-11-03T09:15Z"), Some(at("2026-11-03T09:15:00Z")));
        assert_eq!(w3c_datetime("2026-11-03T09:15-05:00"), Some(at("2026-11-03T14:15:00Z")));
        assert_eq!(w3c_datetime("2026-11-03T09:15:30+00:00"), Some(at("2026-11-03T09:15:30Z")));
        assert_eq!(w3c_datetime("2026-11"), None);
        assert_eq!(w3c_datetime("03/11/2026"), None);
    }
}
