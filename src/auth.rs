//! Bearer tokens: the admin token from the settings and the per-site read-only report
//! tokens (`footfall tokens create --site S`), their format, hashing and comparison.
//!
//! A report token is `fft_<id>_<secret>`: `id` is 12 hex digits that name the token
//! (`footfall tokens list`, `revoke`), `secret` 64 hex digits from the OS random source.
//! Only `blake3(token)` is stored (in `report_tokens`, see `store::tokens`); the token is
//! shown once. Secrets are compared in constant time. Which tokens may read which site's
//! reports is decided in `reports`; ingest uses [`bearer_is`] for the admin token.

use actix_web::http::header;
use actix_web::HttpRequest;

/// Prefix of every report token.
const TOKEN_PREFIX: &str = "fft_";
/// Hex digits in a token id.
const ID_HEX_DIGITS: usize = 12;
/// Hex digits in a token secret (32 random bytes).
const SECRET_HEX_DIGITS: usize = 64;

/// The token of an `Authorization: Bearer <token>` header, if the request has one.
pub fn bearer_token(req: &HttpRequest) -> Option<&str> {
    req.headers()
        .get(header::AUTHORIZATION)?
        .to_str()
        .ok()?
        .strip_prefix("Bearer ")
        .map(str::trim)
        .filter(|token| !token.is_empty())
}

/// True when the request carries `Authorization: Bearer <expected>` (compared in constant
/// time); false when `expected` is `None` (that token is not configured).
pub fn bearer_is(req: &HttpRequest, expected: Option<&str>) -> bool {
    match (bearer_token(req), expected) {
        (Some(given), Some(expected)) => constant_time_eq(given.as_bytes(), expected.as_bytes()),
        _ => false,
    }
}

/// Compares secrets in time that depends only on their lengths.
pub fn constant_time_eq(a: &[u8], b: &[u8]) -> bool {
    a.len() == b.len() && a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

/// A freshly made report token: the token to hand out once, and what is stored.
#[derive(Debug)]
pub struct NewToken {
    /// The whole token, `fft_<id>_<secret>`; never stored.
    pub token: String,
    /// Its public id.
    pub id: String,
    /// `blake3(token)`, hex: what is stored.
    pub hash: String,
}

/// Makes a new random report token.
///
/// # Panics
/// When the operating system has no random source.
pub fn new_token() -> NewToken {
    let mut bytes = [0u8; ID_HEX_DIGITS / 2 + SECRET_HEX_DIGITS / 2];
    getrandom::fill(&mut bytes).expect("the operating system provides random bytes");
    let hex: String = bytes.iter().map(|b| format!("{b:02x}")).collect();
    let (id, secret) = hex.split_at(ID_HEX_DIGITS);
    let token = format!("{TOKEN_PREFIX}{id}_{secret}");
    NewToken { hash: hash_token(&token), id: id.to_string(), token }
}

/// The id of a well-formed report token, `None` for anything else.
pub fn token_id(token: &str) -> Option<&str> {
    let rest = token.strip_prefix(TOKEN_PREFIX)?;
    let (id, secret) = rest.split_once('_')?;
    let hex = |s: &str, len| s.len() == len && s.bytes().all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b));
    (hex(id, ID_HEX_DIGITS) && hex(secret, SECRET_HEX_DIGITS)).then_some(id)
}

/// `blake3(token)` as 64 hex digits: the form a report token is stored and compared in.
pub fn hash_token(token: &str) -> String {
    blake3::hash(token.as_bytes()).to_hex().to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn new_tokens_are_well_formed_and_distinct() {
        let a = new_token();
        let b = new_token();
        assert_ne!(a.token, b.token);
        assert_eq!(a.token.len(), 4 + 12 + 1 + 64);
        assert_eq!(token_id(&a.token), Some(a.id.as_str()));
        assert_eq!(a.hash, hash_token(&a.token));
        assert!(!a.hash.contains(&a.token));
    }

    #[test]
    fn malformed_tokens_have_no_id() {
        let good = new_token().token;
        assert_eq!(token_id(&good[..good.len() - 1]), None);
        assert_eq!(token_id(&good.to_uppercase()), None);
        assert_eq!(token_id(&good.replace("fft_", "xyz_")), None);
        assert_eq!(token_id("fft_0123456789ab_' OR 1=1 --"), None);
        assert_eq!(token_id(""), None);
    }

    #[test]
    fn constant_time_eq_compares_contents_and_lengths() {
        assert!(constant_time_eq(b"secret", b"secret"));
        assert!(!constant_time_eq(b"secret", b"secreT"));
        assert!(!constant_time_eq(b"secret", b"secret!"));
    }
}
