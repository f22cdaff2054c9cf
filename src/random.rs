//! Random ids as hex: report tokens' ids and secrets (formatted in `auth`), dashboard
//! session ids, the tag of a report's queries, test database names.

/// `bytes` random bytes from the operating system, as `2 * bytes` lowercase hex digits.
///
/// # Panics
/// When the operating system has no random source.
pub fn hex(bytes: usize) -> String {
    let mut buffer = vec![0u8; bytes];
    getrandom::fill(&mut buffer).expect("the operating system provides random bytes");
    buffer.iter().map(|b| format!("{b:02x}")).collect()
}

#[cfg(test)]
mod tests {
    #[test]
    fn hex_is_lowercase_digits_of_the_length_asked_and_differs() {
        let (a, b) = (super::hex(6), super::hex(6));
        assert_eq!(a.len(), 12);
        assert!(a.bytes().all(|c| c.is_ascii_digit() || (b'a'..=b'f').contains(&c)), "{a}");
        assert_ne!(a, b);
    }
}
