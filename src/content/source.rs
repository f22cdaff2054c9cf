//! Where `footfall content import` reads its document: a file, or an `http://` or
//! `https://` URL (fetched with `reqwest` over rustls, redirects followed). Either may be
//! gzip-compressed (`sitemap.xml.gz`): it is recognised by its first bytes and
//! decompressed. Documents are held in memory whole, so they are limited to
//! [`MAX_DOCUMENT_BYTES`] (the sitemap protocol allows 50 MB), and must be UTF-8 (the
//! XML default, which sitemaps require).

use std::io::Read;
use std::time::Duration;

use super::feed::Position;

/// Largest document read, in bytes, compressed or not.
pub const MAX_DOCUMENT_BYTES: usize = 64 * 1024 * 1024;
/// How long fetching a URL may take, all of it.
const FETCH_TIMEOUT: Duration = Duration::from_secs(60);
/// The first bytes of a gzip stream.
const GZIP_MAGIC: [u8; 2] = [0x1f, 0x8b];

/// Why the document cannot be read.
#[derive(Debug, thiserror::Error)]
pub enum SourceError {
    #[error("cannot read {location}: {error}")]
    File { location: String, error: std::io::Error },
    #[error("cannot fetch {location}: {problem}")]
    Fetch { location: String, problem: String },
    #[error("{location} answered {status}; it must answer 200 with the document")]
    Status { location: String, status: String },
    #[error("{location} is larger than {MAX_DOCUMENT_BYTES} bytes")]
    TooLarge { location: String },
    #[error("{location} starts as gzip but does not decompress: {error}")]
    Gzip { location: String, error: std::io::Error },
    #[error("{location}, {at}: the document is not UTF-8 text")]
    NotUtf8 { location: String, at: Position },
}

/// Whether `source` names a URL rather than a file.
pub fn is_url(source: &str) -> bool {
    let scheme = source.split_once("://").map(|(scheme, _)| scheme.to_ascii_lowercase());
    matches!(scheme.as_deref(), Some("http" | "https"))
}

/// The text of the document at `source`, a file path or an http(s) URL.
///
/// # Errors
/// The file unreadable, the URL not answering 200 within a minute, a document over
/// [`MAX_DOCUMENT_BYTES`] or not UTF-8.
pub async fn read(source: &str) -> Result<String, SourceError> {
    let bytes = if is_url(source) { fetch(source).await? } else { read_file(source).await? };
    decode(source, bytes)
}

async fn read_file(source: &str) -> Result<Vec<u8>, SourceError> {
    let file_error = |error| SourceError::File { location: source.to_string(), error };
    let length = tokio::fs::metadata(source).await.map_err(file_error)?.len();
    if length > MAX_DOCUMENT_BYTES as u64 {
        return Err(SourceError::TooLarge { location: source.to_string() });
    }
    tokio::fs::read(source).await.map_err(file_error)
}

async fn fetch(source: &str) -> Result<Vec<u8>, SourceError> {
    let failed = |error: reqwest::Error| SourceError::Fetch { location: source.to_string(), problem: describe(error) };
    let client = reqwest::Client::builder()
        .timeout(FETCH_TIMEOUT)
        .user_agent(concat!("footfall/", env!("CARGO_PKG_VERSION"), " (content import)"))
        .build()
        .map_err(failed)?;
    let mut response = client.get(source).send().await.map_err(failed)?;
    if !response.status().is_success() {
        return Err(SourceError::Status { location: source.to_string(), status: response.status().to_string() });
    }
    let mut bytes = Vec::new();
    while let Some(chunk) = response.chunk().await.map_err(failed)? {
        if bytes.len() + chunk.len() > MAX_DOCUMENT_BYTES {
            return Err(SourceError::TooLarge { location: source.to_string() });
        }
        bytes.extend_from_slice(&chunk);
    }
    Ok(bytes)
}

/// `error` with its causes ("error sending request: connection refused"); reqwest's own
/// text names only the outermost.
fn describe(error: reqwest::Error) -> String {
    let mut causes = String::new();
    let mut cause = std::error::Error::source(&error);
    while let Some(inner) = cause {
        causes.push_str(&format!(": {inner}"));
        cause = inner.source();
    }
    format!("{}{causes}", error.without_url())
}

/// `bytes` decompressed when they are gzip, as UTF-8 text.
fn decode(source: &str, bytes: Vec<u8>) -> Result<String, SourceError> {
    let bytes = if bytes.starts_with(&GZIP_MAGIC) {
        let mut plain = Vec::new();
        let decoder = flate2::read::GzDecoder::new(bytes.as_slice());
        decoder
            .take(MAX_DOCUMENT_BYTES as u64 + 1)
            .read_to_end(&mut plain)
            .map_err(|error| SourceError::Gzip { location: source.to_string(), error })?;
        if plain.len() > MAX_DOCUMENT_BYTES {
            return Err(SourceError::TooLarge { location: source.to_string() });
        }
        plain
    } else {
        bytes
    };
    String::from_utf8(bytes).map_err(|error| {
        let valid = &error.as_bytes()[..error.utf8_error().valid_up_to()];
        let line = valid.iter().filter(|b| **b == b'\n').count() + 1;
        let line_start = valid.iter().rposition(|b| *b == b'\n').map_or(0, |at| at + 1);
        let column = String::from_utf8_lossy(&valid[line_start..]).chars().count() + 1;
        SourceError::NotUtf8 { location: source.to_string(), at: Position { line: line as u32, column: column as u32 } }
    })
}

#[cfg(test)]
mod tests {
    use std::io::Write;

    use super::*;

    #[test]
    fn urls_are_told_from_paths_by_their_scheme() {
        assert!(is_url("https://example.com/sitemap.xml"));
        assert!(is_url("HTTP://example.com/feed"));
        assert!(!is_url("sitemap.xml"));
        assert!(!is_url("./https/feed.xml"));
        assert!(!is_url("ftp://example.com/feed.xml"));
    }

    #[test]
    fn gzip_is_decompressed_and_other_text_must_be_utf8() {
        let mut encoder = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
        encoder.write_all("<urlset/>".as_bytes()).unwrap();
        assert_eq!(decode("s.xml.gz", encoder.finish().unwrap()).unwrap(), "<urlset/>");
        assert_eq!(decode("s.xml", b"<urlset/>".to_vec()).unwrap(), "<urlset/>");
        let error = decode("s.xml", b"<urlset>\n  <url>caf\xe9</url>".to_vec()).unwrap_err();
        assert_eq!(error.to_string(), "s.xml, line 2, column 11: the document is not UTF-8 text");
        let error = decode("s.xml.gz", vec![0x1f, 0x8b, 0, 0]).unwrap_err();
        assert!(error.to_string().starts_with("s.xml.gz starts as gzip but does not decompress: "), "{error}");
    }
}
