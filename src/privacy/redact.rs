//! Redaction of identifiers (privacy rule 3): e-mail addresses, phone numbers, ids and
//! tokens become fixed placeholders ([`EMAIL`], [`PHONE`], [`ID`], [`TOKEN`]) and matrix
//! parameters are dropped before anything is stored.
//!
//! This module is the one home of those rules. `super::urls` runs page and referrer paths
//! through [`redact_path`] and `utm_*` values through [`redact_text`]; the anonymizer in
//! `super` runs event names through [`redact_text`], custom property keys and values
//! through [`redact_owned`], and page paths through a site's own patterns
//! ([`redact_site_patterns`], `sites add --redact`).
//! Both run several times per event on the ingest path, so both first make one pass over
//! the bytes that notes which rules could match at all (no `@`, no run of six digits, no
//! long mixed or hex run, ...); for nearly all input none can, and the input comes back
//! borrowed without an allocation. Only a path segment or text that holds a candidate is
//! decoded and analysed, by the rules that may match, in a fixed number of linear passes:
//! the work is O(n) on any input.
//!
//! # Units and decoding
//!
//! A path is redacted per `/`-segment; each segment first loses its matrix parameters,
//! everything from its first `;` on (`/shop;jsessionid=A1/cart` becomes `/shop/cart`, and
//! a segment that was nothing but parameters goes with its slash). A text is one unit, in
//! which `/` is a boundary like any other punctuation. In both, `%40` and `%2540` read as
//! `@`, `%20` as a space and `%2B` as `+`; any other escape of a non-ASCII byte reads as a
//! letter of some script, any other escape as a boundary. Output keeps the input's own
//! bytes around each placeholder.
//!
//! # Rules, in the order they apply
//!
//! Each rule sees what earlier rules replaced as a boundary.
//!
//! 1. E-mail address -> [`EMAIL`]: a local part (letters, digits, `._%+-`, non-ASCII)
//!    right before `@`, and after it a domain (letters, digits, `-`, dots) in which a
//!    dot is followed by at least two letters, a top-level domain. The address ends
//!    after the last such letters, so `jane@example.org-now` keeps `-now`. A handle
//!    (`/@jane`), `a@b`, `user@localhost` and an image name with a density suffix
//!    (`logo@2x.png`, `icon@1.5x.webp`) are not addresses.
//! 2. UUID (8-4-4-4-12 hex digits, any case) -> [`ID`].
//! 3. JWT -> [`TOKEN`]: `eyJ` (base64 of `{"`) not preceded by a letter, with the
//!    base64url runs joined to it by dots, at least 20 characters in all.
//! 4. Hex run of at least 16 hex digits holding both a digit and a letter -> [`TOKEN`].
//! 5. Phone number -> [`PHONE`]: digit groups separated by one or two of space, `-`,
//!    `.`, `(`, `)`, optionally led by `+` or `(`, holding 7 to 15 digits, at most one
//!    single-digit group and not only years; then shaped like a phone number: led by
//!    `+`; or led by a trunk `0` with every group of two digits or more (`020 7946 0958`,
//!    `01.23.45.67.89`); or with dots only, exactly 3-3-4 (`555.123.4567`, never a version
//!    such as `10.0.19041.1234` or an address such as `192.168.100.200`); or, with a
//!    parenthesis, two groups or more; or else three groups or more; and, in the last two
//!    cases, a last group of at least three digits. Dates (a 19xx/20xx year with a month
//!    and a day before or after it, joined by one same `-` or `.`) are cut out first, so
//!    `2026-11-28`, `2026.11.28` and `28.11.2026` stay. A group glued to a letter
//!    (`v2.3.1`) is not part of a number. When a run fails, its groups of six digits or
//!    more are cut out and what lies between them is tried again.
//! 6. Run of six digits or more -> [`ID`], inside a word too (`user123456` becomes
//!    `user[id]`); `/product/42` and `/blog/2026/11/hello-world` stay.
//! 7. Random-looking token -> [`TOKEN`], see below.
//!
//! Finally placeholders of one kind joined by a single `.`, `-` or `_` merge into one,
//! so a JWT is one `[token]`, not `[token].[token].[token]`.
//!
//! # The "looks random" heuristic (rule 7)
//!
//! A chunk is a run of base64url characters (letters, digits, `-`, `_`); a piece is a run
//! of letters and digits inside it. A piece is plain when it is all digits, all
//! lowercase, all uppercase or Capitalized: words, numbers and acronyms. Every other
//! piece (letters and digits mixed, or lowercase letters and a capital that does not
//! start the piece) scores one point for each adjacent pair that natural names rarely
//! have:
//!
//! - a change between letter and digit (`P4J3`), and
//! - two letters, unless the pair is a camel-case boundary (lowercase then uppercase,
//!   `tT` in `getTitle`), that are not among the 285 letter pairs that make up 99% of the
//!   pairs in English prose (`COMMON_PAIRS`, compared without case).
//!
//! The span from the first to the last piece that scores (with separators at the
//! chunk's edges, and up to two `=` of padding after it) is a token when it is at least
//! 20 characters long and scores at least 0.25 points per character; failing that, the
//! span of the chunk's pieces with letters is, on the same terms (a token's `-` and `_`
//! can cut off pieces too short to score). English camel case and product names score about 0.1
//! (`HTMLParserTutorialForBeginners` 2 points in 30, `MacBookPro16M3MaxReview` 4 in 23),
//! random base64 about 0.6 (`dozjgNryP4J3jVmNHl0w5N_XgL0n3I9PlFUP0THsR8U` 27 in 43).
//! Measured on random input, about 2% of 20-22 character base64url tokens, 0.1% of
//! 32-character and 0.04% of 43-character ones score too low and survive (base62, base36
//! and Crockford base32 fare better); names that mix digits, acronyms and rare letter
//! pairs can score too high (`IPv4vsIPv6Differences`, `AMDRyzen97950X3DReview`). Runs
//! without digits in one case (all lowercase, all uppercase) never count as tokens,
//! whatever they look like.

use std::borrow::Cow;
use std::ops::Range;

use regex::Regex;

/// What an e-mail address becomes.
pub const EMAIL: &str = "[email]";
/// What a phone number becomes.
pub const PHONE: &str = "[phone]";
/// What a UUID or a run of six digits or more becomes.
pub const ID: &str = "[id]";
/// What a hex, base64 or JWT token becomes.
pub const TOKEN: &str = "[token]";

/// Fewest characters of a random-looking token and a JWT.
const MIN_TOKEN_LEN: usize = 20;
/// Fewest hex digits of a hex token.
const MIN_HEX_LEN: usize = 16;
/// Fewest digits of a digit run that is an id.
const MIN_ID_DIGITS: usize = 6;
/// How many digits a phone number has: E.164 allows at most 15, local numbers have 7.
const PHONE_DIGITS: std::ops::RangeInclusive<usize> = 7..=15;

/// Redacts a URL path (percent-encoded as the `url` crate gives it, starting with `/`):
/// drops matrix parameters from every segment and replaces identifiers with
/// placeholders. Borrows `path` when nothing changes.
pub fn redact_path(path: &str) -> Cow<'_, str> {
    // A slash is a boundary for every rule: the whole path shows a candidate when one
    // of its segments does.
    if candidates(path) == 0 && !path.contains(';') {
        return Cow::Borrowed(path);
    }
    let mut scanner = Scanner::default();
    let mut out: Option<String> = None;
    let mut start = 0;
    for segment in path.split('/') {
        let end = start + segment.len();
        let kept = segment.find(';').map_or(segment, |cut| &segment[..cut]);
        let cut = kept.len() < segment.len();
        // `/.;x` must not become the dot segment `/.`, which a URL parser would then
        // remove: the same URL must always give the same path.
        let kept = if cut && is_dot_segment(kept) { "" } else { kept };
        let rules = candidates(kept);
        let found = rules != 0 && scanner.analyse(kept, rules);
        if (found || cut) && out.is_none() {
            // Everything before this segment's slash is unchanged.
            out = Some(path[..start.saturating_sub(1)].to_owned());
        }
        if let Some(out) = &mut out {
            // A segment that was nothing but matrix parameters goes with its slash.
            let dropped = cut && kept.is_empty() && start > 0 && end < path.len();
            if start > 0 && !dropped {
                out.push('/');
            }
            if found {
                scanner.write(kept, out);
            } else {
                out.push_str(kept);
            }
        }
        start = end + 1;
    }
    out.map_or(Cow::Borrowed(path), Cow::Owned)
}

/// [`redact_text`] of an owned string, which it returns itself when nothing changes (no
/// copy of the clean text nearly every custom property is).
pub fn redact_owned(text: String) -> String {
    match redact_text(&text) {
        Cow::Borrowed(_) => text,
        Cow::Owned(redacted) => redacted,
    }
}

/// `path` with what each of a site's own patterns matches (its first group, when it has
/// one) replaced by [`ID`].
pub fn redact_site_patterns(path: String, patterns: &[Regex]) -> String {
    let mut path = path;
    for pattern in patterns {
        if !pattern.is_match(&path) {
            continue;
        }
        let mut out = String::with_capacity(path.len());
        let mut last = 0;
        for captures in pattern.captures_iter(&path) {
            let Some(found) = captures.get(1).or_else(|| captures.get(0)) else { continue };
            if found.start() < last || found.is_empty() {
                continue;
            }
            out.push_str(&path[last..found.start()]);
            out.push_str(ID);
            last = found.end();
        }
        out.push_str(&path[last..]);
        path = out;
    }
    path
}

/// `.` or `..`, also percent-encoded (`%2e`): what a URL parser resolves away.
fn is_dot_segment(segment: &str) -> bool {
    let lower = segment.to_ascii_lowercase();
    matches!(lower.as_str(), "." | ".." | "%2e" | "%2e%2e" | ".%2e" | "%2e.")
}

/// Redacts decoded free text (a `utm_*` value, an event name, a custom property key or
/// value): replaces identifiers with placeholders. Borrows `text` when nothing changes.
pub fn redact_text(text: &str) -> Cow<'_, str> {
    let rules = candidates(text);
    let mut scanner = Scanner::default();
    if rules == 0 || !scanner.analyse(text, rules) {
        return Cow::Borrowed(text);
    }
    let mut out = String::with_capacity(text.len());
    scanner.write(text, &mut out);
    Cow::Owned(out)
}

/// Letter pairs common in English words: the pairs that make up 99% of the pairs in a
/// few hundred thousand words of English prose (open-source licence texts and the Rust
/// book), plus common ones that prose underrates (`ph`, `vs`, `ze`, ...). Rule 7 counts
/// a pair outside this set as a sign of randomness.
const COMMON_PAIRS: [u32; 26] = pair_table(
    b"ab ac ad af ag ai ak al am an ap ar as at au av aw ax ay \
      ba be bi bj bl bo br bu by \
      ca cc ce ch ci ck cl co cr ct cu cy \
      da dd de di dl do dr ds du dy \
      ea eb ec ed ee ef eg eh ei el em en eo ep eq er es et ev ew ex ey \
      fa fe ff fi fl fo fr ft fu fy \
      ga ge gh gi gl gn go gr gu \
      ha he hi ho hr ht hy \
      ia ib ic id ie if ig ik il im in io ip ir is it iv ix iz \
      ja je jo ju \
      ka ke ki kn ks \
      la ld le li ll lo lp ls lt lu ly \
      ma mb me mi mm mo mp ms mu \
      na nc nd ne nf ng ni nk nl nn no ns nt nu nv ny \
      oa ob oc od oe of og oi oj ok ol om on oo op or os ot ou ov ow ox oy \
      pa pe ph pi pl po pp pr ps pt pu py \
      qu \
      ra rc rd re rf rg ri rk rl rm rn ro rp rr rs rt ru rv ry \
      sa sc se sh si sk sl sm sn so sp sr ss st su sy \
      ta tc te th ti tl to tp tr ts tt tu tw ty \
      ua ub uc ud ue ug ui ul um un up ur us ut \
      va ve vi vs \
      wa we wh wi wn wo wr ws \
      xa xe xp xt \
      ye yi yn yo yp yr ys \
      ze",
);

/// A table with bit `b` of row `a` set for each pair `ab` in a list of space-separated
/// lowercase pairs.
const fn pair_table(list: &[u8]) -> [u32; 26] {
    let mut table = [0u32; 26];
    let mut i = 0;
    while i < list.len() {
        if list[i].is_ascii_lowercase() {
            table[(list[i] - b'a') as usize] |= 1 << (list[i + 1] - b'a');
            i += 2;
        } else {
            i += 1;
        }
    }
    table
}

/// Whether two ASCII letters, in any case, are a common English pair.
fn common_pair(first: u8, second: u8) -> bool {
    let (first, second) = (first.to_ascii_lowercase() - b'a', second.to_ascii_lowercase() - b'a');
    COMMON_PAIRS[usize::from(first)] >> second & 1 == 1
}

/// How a character of a unit reads once decoded: a non-ASCII character (or an escaped
/// non-ASCII byte), a letter of some script.
const NON_ASCII: u8 = 0x80;
/// How any other percent-escape, and a replaced character, reads: a boundary.
const BOUNDARY: u8 = 0;
/// The separator of a digit group that is two characters long (`) `).
const TWO_SEPARATORS: u8 = b'~';

/// The characters of a text as the rules read them, each with its byte offset:
/// `%40`, `%2540` -> `@`, `%20` -> space, `%2B` -> `+`, other escapes of bytes from
/// 0x80 and non-ASCII characters -> [`NON_ASCII`], other escapes -> [`BOUNDARY`].
struct Decoded<'a> {
    text: &'a str,
    pos: usize,
}

impl Iterator for Decoded<'_> {
    type Item = (usize, u8);

    fn next(&mut self) -> Option<(usize, u8)> {
        let start = self.pos;
        let rest = &self.text.as_bytes()[start..];
        let (byte, len) = match *rest.first()? {
            b'%' => decode_escape(rest),
            byte if byte.is_ascii() => (byte, 1),
            _ => (NON_ASCII, self.text[start..].chars().next().map_or(1, char::len_utf8)),
        };
        self.pos += len;
        Some((start, byte))
    }
}

fn decoded(text: &str) -> Decoded<'_> {
    Decoded { text, pos: 0 }
}

/// The character a `%` at the start of `rest` stands for, and the bytes it takes.
fn decode_escape(rest: &[u8]) -> (u8, usize) {
    let hex = |i: usize| rest.get(i).and_then(|&b| char::from(b).to_digit(16));
    let (Some(high), Some(low)) = (hex(1), hex(2)) else {
        return (b'%', 1);
    };
    match (high << 4 | low) as u8 {
        b'@' => (b'@', 3),
        b' ' => (b' ', 3),
        b'+' => (b'+', 3),
        b'%' if rest.get(3..5) == Some(b"40") => (b'@', 5),
        0x80.. => (NON_ASCII, 3),
        _ => (BOUNDARY, 3),
    }
}

/// Classes of characters, as bits of [`CLASSES`].
const DIGIT: u8 = 1;
const LETTER: u8 = 1 << 1;
const LOWER: u8 = 1 << 2;
const UPPER: u8 = 1 << 3;
const HEX: u8 = 1 << 4;
/// A digit or a phone separator: space, `-`, `.`, `(`, `)`, `+`.
const PHONE_CHAR: u8 = 1 << 5;
/// A letter, a digit, `-` or `_`.
const BASE64URL: u8 = 1 << 6;
/// A byte that [`candidates`] looks at more closely: `@`, `J`, `%`, non-ASCII.
const SPECIAL: u8 = 1 << 7;

/// The classes of each byte ([`BOUNDARY`] has none, [`NON_ASCII`] only [`SPECIAL`]).
const CLASSES: [u8; 256] = {
    let mut classes = [SPECIAL; 256];
    let mut b = 0;
    while b < 128 {
        let byte = b as u8;
        let mut class = 0;
        if byte.is_ascii_digit() {
            class |= DIGIT | HEX | PHONE_CHAR | BASE64URL;
        }
        if byte.is_ascii_lowercase() {
            class |= LETTER | LOWER | BASE64URL;
        }
        if byte.is_ascii_uppercase() {
            class |= LETTER | UPPER | BASE64URL;
        }
        if byte.is_ascii_hexdigit() {
            class |= HEX;
        }
        if matches!(byte, b' ' | b'-' | b'.' | b'(' | b')' | b'+') {
            class |= PHONE_CHAR;
        }
        if matches!(byte, b'-' | b'_') {
            class |= BASE64URL;
        }
        if matches!(byte, b'@' | b'J' | b'%') {
            class |= SPECIAL;
        }
        classes[b] = class;
        b += 1;
    }
    classes
};

fn class(byte: u8) -> u8 {
    CLASSES[usize::from(byte)]
}

fn is_phone_char(byte: u8) -> bool {
    class(byte) & PHONE_CHAR != 0
}

fn is_base64url(byte: u8) -> bool {
    class(byte) & BASE64URL != 0
}

/// The classes of the letters and digits of a piece, as rule 7 needs them.
#[derive(Clone, Copy, Default)]
struct Shape {
    /// [`DIGIT`], [`LETTER`], [`LOWER`], and [`UPPER`] for an uppercase letter after the
    /// first character.
    classes: u8,
    started: bool,
}

impl Shape {
    /// Adds a letter or digit of class `class`.
    fn push(&mut self, class: u8) {
        let inner = if self.started { UPPER } else { 0 };
        self.classes |= class & (DIGIT | LETTER | LOWER | inner);
        self.started = true;
    }

    /// Neither a number nor a word in one case (`word`, `Word`, `WORD`).
    fn mixed(self) -> bool {
        let has = |bits: u8| self.classes & bits == bits;
        has(DIGIT | LETTER) || has(LOWER | UPPER)
    }
}

/// The rules a scan runs, as bits.
const EMAILS: u8 = 1;
const UUIDS: u8 = 1 << 1;
const JWTS: u8 = 1 << 2;
const HEX_RUNS: u8 = 1 << 3;
/// Phone numbers and digit runs.
const NUMBERS: u8 = 1 << 4;
const RANDOM_TOKENS: u8 = 1 << 5;
#[cfg(test)]
const ALL_RULES: u8 = (1 << 6) - 1;

/// The rules that may match in `text`: a rule left out provably matches nothing, even
/// after the others replaced what they matched (which only ever cuts runs short). One
/// pass, no allocation; 0 for nearly every path segment and text. A rule is in when its
/// text shows `@` (e-mails), 8 hex digits then `-` (UUIDs), `eyJ` (JWTs), 16 hex digits
/// with a digit and a letter (hex runs), six digits among phone characters (phone
/// numbers and digit runs), a base64url chunk of 20 with a mixed piece (random tokens).
fn candidates(text: &str) -> u8 {
    let bytes = text.as_bytes();
    let mut rules = 0;
    let mut digits_near = 0;
    let (mut hex_len, mut hex_classes) = (0, 0);
    let (mut chunk_len, mut chunk_mixed) = (0, false);
    let mut piece = Shape::default();
    let mut recent = [BOUNDARY; 2];
    let mut i = 0;
    while let Some(&raw) = bytes.get(i) {
        i += 1;
        let (mut byte, mut class) = (raw, class(raw));
        if class & SPECIAL != 0 {
            // Decoded as `Decoded` does, except that each byte of a non-ASCII character
            // counts as one: for these conditions one such character is as good as two.
            if raw == b'%' {
                let len;
                (byte, len) = decode_escape(&bytes[i - 1..]);
                i += len - 1;
            } else if raw >= 0x80 {
                byte = NON_ASCII;
            }
            class = CLASSES[usize::from(byte)] & !SPECIAL;
            if byte == b'@' {
                rules |= EMAILS;
            } else if byte == b'J' && recent == *b"ey" {
                rules |= JWTS;
            }
        }
        recent = [recent[1], byte];
        if class & DIGIT != 0 {
            digits_near += 1;
            if digits_near >= MIN_ID_DIGITS {
                rules |= NUMBERS;
            }
        } else if class & PHONE_CHAR == 0 {
            digits_near = 0;
        }
        // Without branches: whether a letter is a hex digit is a coin toss in words.
        let hex = class & HEX != 0;
        if byte == b'-' && hex_len >= 8 {
            rules |= UUIDS;
        }
        hex_len = if hex { hex_len + 1 } else { 0 };
        hex_classes = if hex { hex_classes | (class & (DIGIT | LETTER)) } else { 0 };
        if hex_len >= MIN_HEX_LEN && hex_classes == DIGIT | LETTER {
            rules |= HEX_RUNS;
        }
        if class & BASE64URL != 0 {
            chunk_len += 1;
            if class & (DIGIT | LETTER) != 0 {
                piece.push(class);
            } else {
                chunk_mixed |= piece.mixed();
                piece = Shape::default();
            }
            if chunk_len >= MIN_TOKEN_LEN && (chunk_mixed || piece.mixed()) {
                rules |= RANDOM_TOKENS;
            }
        } else {
            (chunk_len, chunk_mixed, piece) = (0, false, Shape::default());
        }
    }
    rules
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Kind {
    Email,
    Phone,
    Id,
    Token,
}

impl Kind {
    fn placeholder(self) -> &'static str {
        match self {
            Kind::Email => EMAIL,
            Kind::Phone => PHONE,
            Kind::Id => ID,
            Kind::Token => TOKEN,
        }
    }
}

/// A decoded character of the unit being analysed.
#[derive(Clone, Copy)]
struct Char {
    byte: u8,
    /// Byte offset in the unit.
    start: usize,
    /// What replaces it, once a rule matched it.
    kind: Option<Kind>,
}

/// A run of digits in a phone candidate, by character index.
#[derive(Clone, Copy)]
struct Group {
    start: usize,
    end: usize,
    /// The separator before it: its character, or [`TWO_SEPARATORS`].
    sep: u8,
    /// Whether that separator holds a parenthesis.
    paren: bool,
    /// The `+` and `(` that end that separator.
    lead: Option<Lead>,
}

impl Group {
    fn len(&self) -> usize {
        self.end - self.start
    }
}

/// The `+` and `(` right before a phone candidate's first digit.
#[derive(Clone, Copy)]
struct Lead {
    start: usize,
    plus: bool,
    paren: bool,
}

/// The analysis of one unit (a path segment or a text); its buffers are reused from
/// unit to unit.
#[derive(Default)]
struct Scanner {
    chars: Vec<Char>,
    groups: Vec<Group>,
}

impl Scanner {
    /// Marks what `rules` (see [`candidates`]) find in `unit`; true when they find
    /// something.
    fn analyse(&mut self, unit: &str, rules: u8) -> bool {
        self.chars.clear();
        self.chars.reserve(unit.len());
        self.chars.extend(decoded(unit).map(|(start, byte)| Char { byte, start, kind: None }));
        if rules & EMAILS != 0 {
            self.emails();
        }
        if rules & UUIDS != 0 {
            self.uuids();
        }
        if rules & JWTS != 0 {
            self.jwts();
        }
        if rules & HEX_RUNS != 0 {
            self.hex_runs();
        }
        if rules & NUMBERS != 0 {
            self.phones();
            self.digit_runs();
        }
        if rules & RANDOM_TOKENS != 0 {
            self.random_tokens();
        }
        self.merge();
        self.chars.iter().any(|c| c.kind.is_some())
    }

    /// Writes `unit` with each marked run replaced by its placeholder.
    fn write(&self, unit: &str, out: &mut String) {
        let mut i = 0;
        while let Some(c) = self.chars.get(i) {
            let kind = c.kind;
            while self.chars.get(i).is_some_and(|c| c.kind == kind) {
                i += 1;
            }
            match kind {
                Some(kind) => out.push_str(kind.placeholder()),
                None => out.push_str(&unit[c.start..self.chars.get(i).map_or(unit.len(), |c| c.start)]),
            }
        }
    }

    /// Character `i` as the rules read it: [`BOUNDARY`] once replaced or past the end.
    fn at(&self, i: usize) -> u8 {
        self.chars.get(i).filter(|c| c.kind.is_none()).map_or(BOUNDARY, |c| c.byte)
    }

    /// The character before `i`, [`BOUNDARY`] at the start.
    fn before(&self, i: usize) -> u8 {
        i.checked_sub(1).map_or(BOUNDARY, |i| self.at(i))
    }

    /// The end of the run from `i` of characters that `pred` accepts.
    fn run_end(&self, mut i: usize, pred: impl Fn(u8) -> bool) -> usize {
        while i < self.chars.len() && pred(self.at(i)) {
            i += 1;
        }
        i
    }

    fn mark(&mut self, range: Range<usize>, kind: Kind) {
        for c in &mut self.chars[range] {
            c.kind = Some(kind);
        }
    }

    /// Rule 1. The local part ends at the previous `@`, the domain at the next one, so
    /// every character is read a bounded number of times.
    fn emails(&mut self) {
        for at in 0..self.chars.len() {
            if self.chars[at].byte != b'@' {
                continue;
            }
            let local_char =
                |c: &&Char| c.byte.is_ascii_alphanumeric() || c.byte == NON_ASCII || b"._%+-".contains(&c.byte);
            let local = self.chars[..at].iter().rev().take_while(local_char).count();
            if local == 0 {
                continue;
            }
            if let Some(end) = self.domain_end(at + 1) {
                self.mark(at - local..end, Kind::Email);
            }
        }
    }

    /// Where the domain of an address, starting at `from`, ends: after the letters (two
    /// or more) that open the last label after a dot that has them, its top-level domain.
    fn domain_end(&self, from: usize) -> Option<usize> {
        let first = self.chars.get(from)?.byte;
        if !(first.is_ascii_alphanumeric() || first == NON_ASCII) || self.density_suffix(from) {
            return None;
        }
        let letter = |c: &Char| c.byte.is_ascii_alphabetic() || c.byte == NON_ASCII;
        let mut end = None;
        for i in from + 1..self.chars.len() {
            match self.chars[i].byte {
                b'.' if self.chars[i - 1].byte == b'.' => break,
                b'.' => {
                    let letters = self.chars[i + 1..].iter().take_while(|c| letter(c)).count();
                    if letters >= 2 {
                        end = Some(i + 1 + letters);
                    }
                }
                byte if byte.is_ascii_alphanumeric() || byte == b'-' || byte == NON_ASCII => {}
                _ => break,
            }
        }
        end
    }

    /// Whether an image's density suffix and extension (`2x.png`, `1.5x.webp`) start at
    /// `from`.
    fn density_suffix(&self, from: usize) -> bool {
        let byte = |i: usize| self.chars.get(i).map_or(BOUNDARY, |c| c.byte);
        let digits_end = |mut i: usize| {
            while byte(i).is_ascii_digit() {
                i += 1;
            }
            i
        };
        let mut i = digits_end(from);
        if i > from && byte(i) == b'.' && byte(i + 1).is_ascii_digit() {
            i = digits_end(i + 1);
        }
        if i == from || byte(i) != b'x' || byte(i + 1) != b'.' {
            return false;
        }
        let start = i + 2;
        let end = self.run_end(start, |b| b.is_ascii_alphabetic());
        let is = |extension: &[u8]| {
            end - start == extension.len()
                && extension.iter().zip(start..).all(|(e, k)| byte(k).eq_ignore_ascii_case(e))
        };
        let image = [b"png".as_slice(), b"jpg", b"jpeg", b"gif", b"webp", b"avif", b"svg"].into_iter().any(is);
        image && !matches!(byte(end), b'.' | b'-') && !byte(end).is_ascii_alphanumeric()
    }

    /// Rule 2. Wherever the pattern occurs, even inside a longer word: a rule that needs
    /// a word boundary could find one on a second run, once rule 6 replaced digits next
    /// to it (`000000aaa00000-...`), and redaction would not be idempotent.
    fn uuids(&mut self) {
        let mut i = 0;
        while i < self.chars.len() {
            let is_uuid = (0..36).all(|k| match k {
                8 | 13 | 18 | 23 => self.at(i + k) == b'-',
                _ => self.at(i + k).is_ascii_hexdigit(),
            });
            if is_uuid {
                self.mark(i..i + 36, Kind::Id);
                i += 36;
            } else {
                i += 1;
            }
        }
    }

    /// Rule 3. A failed start skips its run: a later start inside it would end at the
    /// same place and be shorter.
    fn jwts(&mut self) {
        let mut i = 0;
        while i < self.chars.len() {
            let starts = self.at(i) == b'e'
                && self.at(i + 1) == b'y'
                && self.at(i + 2) == b'J'
                && !self.before(i).is_ascii_alphabetic();
            if !starts {
                i += 1;
                continue;
            }
            let mut end = self.run_end(i, is_base64url);
            while self.at(end) == b'.' && is_base64url(self.at(end + 1)) {
                end = self.run_end(end + 1, is_base64url);
            }
            if end - i >= MIN_TOKEN_LEN {
                self.mark(i..end, Kind::Token);
            }
            i = end;
        }
    }

    /// Rule 4.
    fn hex_runs(&mut self) {
        let mut i = 0;
        while i < self.chars.len() {
            let end = self.run_end(i, |b| b.is_ascii_hexdigit());
            if end == i {
                i += 1;
                continue;
            }
            let digit = (i..end).any(|k| self.at(k).is_ascii_digit());
            let letter = (i..end).any(|k| self.at(k).is_ascii_alphabetic());
            if end - i >= MIN_HEX_LEN && digit && letter {
                self.mark(i..end, Kind::Token);
            }
            i = end;
        }
    }

    /// Rule 5: splits each run of phone characters into sub-runs at separators that no
    /// phone number has (three characters, a repeated one, a `+` after a digit), then
    /// hands each sub-run's digit groups to [`Self::phone_candidates`].
    fn phones(&mut self) {
        let mut groups = std::mem::take(&mut self.groups);
        let mut i = 0;
        while i < self.chars.len() {
            let end = self.run_end(i, is_phone_char);
            if end == i {
                i += 1;
                continue;
            }
            let mut glued_start = self.at(i).is_ascii_digit() && self.before(i).is_ascii_alphanumeric();
            let glued_end = self.at(end - 1).is_ascii_digit() && self.at(end).is_ascii_alphanumeric();
            groups.clear();
            let mut k = i;
            loop {
                let sep_start = k;
                while k < end && !self.at(k).is_ascii_digit() {
                    k += 1;
                }
                if k == end {
                    break;
                }
                let (a, b) = (self.at(sep_start), self.at(sep_start + 1));
                let sep = match k - sep_start {
                    1 if a != b'+' => Some(a),
                    2 if a != b && a != b'+' && b != b'+' => Some(TWO_SEPARATORS),
                    _ => None,
                };
                if sep.is_none() && !groups.is_empty() {
                    self.phone_candidates(&groups, glued_start, false);
                    groups.clear();
                    glued_start = false;
                }
                let start = k;
                while k < end && self.at(k).is_ascii_digit() {
                    k += 1;
                }
                groups.push(Group {
                    start,
                    end: k,
                    sep: sep.unwrap_or(BOUNDARY),
                    paren: (sep_start..start).any(|j| matches!(self.at(j), b'(' | b')')),
                    lead: self.lead(sep_start..start),
                });
            }
            self.phone_candidates(&groups, glued_start, glued_end);
            i = end;
        }
        self.groups = groups;
    }

    /// The `+` and `(` at the end of the separator `sep`, at most one of each.
    fn lead(&self, sep: Range<usize>) -> Option<Lead> {
        let mut lead = None;
        let (mut plus, mut paren) = (false, false);
        for i in sep.rev() {
            match self.at(i) {
                b'+' if !plus => plus = true,
                b'(' if !paren => paren = true,
                _ => break,
            }
            lead = Some(i);
        }
        lead.map(|start| Lead { start, plus, paren })
    }

    /// Drops groups glued to a letter, cuts out dates and tries what is left.
    fn phone_candidates(&mut self, groups: &[Group], glued_start: bool, glued_end: bool) {
        let mut groups = groups;
        if glued_start {
            groups = groups.get(1..).unwrap_or_default();
        }
        if glued_end {
            groups = groups.split_last().map_or(groups, |(_, rest)| rest);
        }
        let mut from = 0;
        let mut i = 0;
        while i + 3 <= groups.len() {
            if self.is_date(&groups[i..i + 3]) {
                self.phone_candidate(&groups[from..i]);
                i += 3;
                from = i;
            } else {
                i += 1;
            }
        }
        self.phone_candidate(&groups[from..]);
    }

    /// Tries `groups` as one number; failing that, the parts between its long groups.
    fn phone_candidate(&mut self, groups: &[Group]) {
        if groups.is_empty() || self.try_phone(groups) || groups.iter().all(|g| g.len() < MIN_ID_DIGITS) {
            return;
        }
        for part in groups.split(|g| g.len() >= MIN_ID_DIGITS).filter(|part| !part.is_empty()) {
            self.try_phone(part);
        }
    }

    /// Marks `groups` as a phone number if they are shaped like one. Its lead (`+`, `(`)
    /// is the end of the separator before its first group, as a second run would see it
    /// once what stood before had been replaced.
    fn try_phone(&mut self, groups: &[Group]) -> bool {
        let (first, last) = (groups[0], groups[groups.len() - 1]);
        let n = groups.len();
        let digits: usize = groups.iter().map(Group::len).sum();
        let plus = first.lead.is_some_and(|l| l.plus);
        let paren = first.lead.is_some_and(|l| l.paren) || groups[1..].iter().any(|g| g.paren);
        let trunk = self.at(first.start) == b'0' && n >= 2 && groups.iter().all(|g| g.len() >= 2);
        let dotted = n >= 2 && groups[1..].iter().all(|g| g.sep == b'.');
        let shaped = if plus || trunk {
            true
        } else if dotted {
            groups.iter().map(Group::len).eq([3, 3, 4])
        } else if paren {
            n >= 2 && last.len() >= 3
        } else {
            n >= 3 && last.len() >= 3
        };
        let is_phone = shaped
            && PHONE_DIGITS.contains(&digits)
            && groups.iter().filter(|g| g.len() == 1).count() <= 1
            && !groups.iter().all(|g| self.is_year(g));
        if is_phone {
            self.mark(first.lead.map_or(first.start, |l| l.start)..last.end, Kind::Phone);
        }
        is_phone
    }

    /// A year (19xx, 20xx) with a month and a day before or after it (either order
    /// before it), all joined by one same `-` or `.`.
    fn is_date(&self, groups: &[Group]) -> bool {
        let value = |g: &Group| (g.len() <= 2).then(|| (g.start..g.end).fold(0, |v, k| v * 10 + (self.at(k) - b'0')));
        let month_day = |a: &Group, b: &Group| match (value(a), value(b)) {
            (Some(a), Some(b)) => (1..=12).contains(&a.min(b)) && (1..=31).contains(&a.max(b)),
            _ => false,
        };
        groups[1].sep == groups[2].sep
            && matches!(groups[1].sep, b'-' | b'.')
            && ((self.is_year(&groups[0]) && month_day(&groups[1], &groups[2]))
                || (month_day(&groups[0], &groups[1]) && self.is_year(&groups[2])))
    }

    fn is_year(&self, group: &Group) -> bool {
        group.len() == 4 && matches!([self.at(group.start), self.at(group.start + 1)], [b'1', b'9'] | [b'2', b'0'])
    }

    /// Rule 6.
    fn digit_runs(&mut self) {
        let mut i = 0;
        while i < self.chars.len() {
            let end = self.run_end(i, |b| b.is_ascii_digit());
            if end - i >= MIN_ID_DIGITS {
                self.mark(i..end, Kind::Id);
            }
            i = end.max(i + 1);
        }
    }

    /// Rule 7, chunk by chunk.
    fn random_tokens(&mut self) {
        let mut i = 0;
        while i < self.chars.len() {
            let end = self.run_end(i, is_base64url);
            if end > i {
                self.random_token_in(i..end);
            }
            i = end.max(i + 1);
        }
    }

    /// The token in one chunk, if any: the span of its scoring pieces when that is a
    /// token on its own (`invite-[token]`), else the span of its pieces with letters
    /// (base64url has `-` and `_`, and the pieces they cut off a token's edges are often
    /// too short to score). Neither reaches past the last letter into digits at the
    /// chunk's edges: those may belong to a run that rule 5 judged, and covering half of
    /// it would let a second run judge the other half alone.
    fn random_token_in(&mut self, chunk: Range<usize>) {
        let mut scoring: Option<Range<usize>> = None;
        let mut lettered: Option<Range<usize>> = None;
        let mut score = 0;
        let mut i = chunk.start;
        while i < chunk.end {
            let end = self.run_end(i, |b| b.is_ascii_alphanumeric());
            if end == i {
                i += 1;
                continue;
            }
            let piece_score = self.randomness(i..end);
            if piece_score > 0 {
                scoring = Some(scoring.map_or(i, |s| s.start)..end);
                score += piece_score;
            }
            if (i..end).any(|k| self.at(k).is_ascii_alphabetic()) {
                lettered = Some(lettered.map_or(i, |s| s.start)..end);
            }
            i = end;
        }
        // Separators at the chunk's edges belong to the token (`-MxYz..._`).
        let widen = |mut span: Range<usize>| {
            if (chunk.start..span.start).all(|k| !self.at(k).is_ascii_alphanumeric()) {
                span.start = chunk.start;
            }
            if (span.end..chunk.end).all(|k| !self.at(k).is_ascii_alphanumeric()) {
                span.end = chunk.end;
            }
            span
        };
        let dense = |span: &Range<usize>| span.len() >= MIN_TOKEN_LEN && 4 * score >= span.len();
        let Some(token) = [scoring, lettered].into_iter().flatten().map(widen).find(dense) else {
            return;
        };
        let padding = (token.end..token.end + 2).take_while(|&k| self.at(k) == b'=').count();
        self.mark(token.start..token.end + padding, Kind::Token);
    }

    /// The points of a piece of letters and digits under rule 7; 0 for a plain piece.
    fn randomness(&self, piece: Range<usize>) -> usize {
        let mut shape = Shape::default();
        for k in piece.clone() {
            shape.push(class(self.at(k)));
        }
        if !shape.mixed() {
            return 0;
        }
        let rare = |(a, b): (u8, u8)| {
            if a.is_ascii_alphabetic() && b.is_ascii_alphabetic() {
                let camel_boundary = a.is_ascii_lowercase() && b.is_ascii_uppercase();
                !(camel_boundary || common_pair(a, b))
            } else {
                a.is_ascii_digit() != b.is_ascii_digit()
            }
        };
        (piece.start + 1..piece.end).map(|k| (self.at(k - 1), self.at(k))).filter(|&pair| rare(pair)).count()
    }

    /// Joins placeholders of one kind that a single `.`, `-` or `_` separates.
    fn merge(&mut self) {
        for i in 1..self.chars.len().saturating_sub(1) {
            let (before, after) = (self.chars[i - 1].kind, self.chars[i + 1].kind);
            let c = &mut self.chars[i];
            if c.kind.is_none() && before.is_some() && before == after && matches!(c.byte, b'.' | b'-' | b'_') {
                c.kind = before;
            }
        }
    }
}

/// Paths that hold identifiers, each with what it must become. Shared with any test that
/// audits what is stored.
#[cfg(test)]
pub(crate) const IDENTIFIER_PATHS: &[(&str, &str)] = &[
    // E-mail addresses, plain and percent-encoded.
    ("/users/alice.b@example.org/edit", "/users/[email]/edit"),
    ("/users/alice%40example.org", "/users/[email]"),
    ("/u/bob%2540mail.example.net/settings", "/u/[email]/settings"),
    ("/contact-jane@example.org-now", "/[email]-now"),
    ("/invite/first.last+tag@sub.example.co.uk", "/invite/[email]"),
    ("/invite/first.last%2Btag%40sub.example.co.uk", "/invite/[email]"),
    ("/unsubscribe/j.doe_1985@gmail.com/confirm", "/unsubscribe/[email]/confirm"),
    ("/profile/mailto:Jane.Doe@Example.COM", "/profile/mailto:[email]"),
    ("/newsletter/hans.m%C3%BCller@example.de", "/newsletter/[email]"),
    ("/share/jane@b%C3%BCcher.example", "/share/[email]"),
    ("/a/jane@example.org;jsessionid=1", "/a/[email]"),
    ("/login/reset/JOHN.SMITH@EXAMPLE.COM", "/login/reset/[email]"),
    // Phone numbers.
    ("/call/+44%2020%207946%200958", "/call/[phone]"),
    ("/call/%2B44%2020%207946%200958", "/call/[phone]"),
    ("/contact/555-123-4567", "/contact/[phone]"),
    ("/contact/(555)%20123-4567", "/contact/[phone]"),
    ("/tel/+1.555.123.4567", "/tel/[phone]"),
    ("/tel/555.123.4567", "/tel/[phone]"),
    ("/tel/+4930123456789", "/tel/[phone]"),
    ("/callback/020-7946-0958", "/callback/[phone]"),
    ("/support-call-1-800-555-0199", "/support-call-[phone]"),
    ("/fr/rappel/01.23.45.67.89", "/fr/rappel/[phone]"),
    ("/de/kontakt/+49%2030%2012345678", "/de/kontakt/[phone]"),
    ("/uk/07700%20900123", "/uk/[phone]"),
    ("/us/+1%20(555)%20123-4567/sms", "/us/[phone]/sms"),
    // UUIDs.
    ("/u/550e8400-e29b-41d4-a716-446655440000/orders/4242424242", "/u/[id]/orders/[id]"),
    ("/invoice/6BA7B810-9DAD-11D1-80B4-00C04FD430C8", "/invoice/[id]"),
    ("/session/f47ac10b-58cc-4372-a567-0e02b2c3d479.json", "/session/[id].json"),
    ("/user-550e8400-e29b-41d4-a716-446655440000", "/user-[id]"),
    ("/files/00000000-0000-0000-0000-000000000000/x", "/files/[id]/x"),
    ("/max/ffffffff-ffff-ffff-ffff-ffffffffffff", "/max/[id]"),
    // Digit runs.
    ("/orders/4242424242", "/orders/[id]"),
    ("/customer/123456/invoices", "/customer/[id]/invoices"),
    ("/p/item-98765432-blue", "/p/item-[id]-blue"),
    ("/account/user123456789/profile", "/account/user[id]/profile"),
    ("/o/20261128093015", "/o/[id]"),
    ("/compare/123456-654321", "/compare/[id]"),
    ("/track/1Z999AA10123456784", "/track/1Z[token]"),
    ("/books/978-3-16-148410-0", "/books/978-3-16-[id]-0"),
    // Hex tokens.
    ("/reset-password/9f8e7d6c5b4a39281706f5e4d3c2b1a0/confirm", "/reset-password/[token]/confirm"),
    ("/verify/5f2b8e1c9a7d4f3e", "/verify/[token]"),
    ("/objects/507f1f77bcf86cd799439011", "/objects/[token]"),
    ("/commit/3b18e512dba79e4c8300dd08aeb37f8e728b8dad", "/commit/[token]"),
    ("/static/app.3f9a8b7c6d5e4f3a2b1c.js", "/static/app.[token].js"),
    ("/dl/sha256-E3B0C44298FC1C149AFBF4C8996FB92427AE41E4649B934CA495991B7852B855", "/dl/sha256-[token]"),
    // Base64, base64url, JWTs and other random-looking tokens.
    ("/magic/dozjgNryP4J3jVmNHl0w5N_XgL0n3I9PlFUP0THsR8U", "/magic/[token]"),
    (
        "/auth/eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxMjM0NTY3ODkwIn0.dozjgNryP4J3jVmNHl0w5N_XgL0n3I9PlFUP0THsR8U",
        "/auth/[token]",
    ),
    ("/callback/eyJhbGciOiJub25lIn0.eyJ1c2VyIjoiamFuZSJ9.", "/callback/[token]."),
    ("/s/V1StGXR8_Z5jdHi6B-myT", "/s/[token]"),
    ("/api/keys/sk_live_51H8xYzAbC123dEfGhIjKlMnOp", "/api/keys/sk_live_[token]"),
    ("/payments/pi_3MtwBwLkdIwHu7ix28a3tqPa", "/payments/pi_[token]"),
    ("/events/01ARZ3NDEKTSV4RRFFQ69G5FAV", "/events/[token]"),
    ("/posts/cjld2cjxh0000qzrmn831i7rn", "/posts/[token]"),
    ("/chat/-MxYz3kQ9bT7vLp2wRs_", "/chat/[token]"),
    ("/verify/Zm9vYmFyYmF6cXV4MTIzNDU2Nzg5MA==", "/verify/[token]"),
    ("/invite-dozjgNryP4J3jVmNHl0w5N/accept", "/invite-[token]/accept"),
    ("/activate/kX9mQ2vL7pR4tW8zN3bY6cF1", "/activate/[token]"),
    ("/r/Gh7Tk2LmQ9xZ4pW8vB3nR6sD", "/r/[token]"),
    // Matrix parameters.
    ("/shop;jsessionid=ABC123/cart", "/shop/cart"),
    ("/shop;jsessionid=0AB1C2D3E4F5A6B7/cart", "/shop/cart"),
    ("/a;x=1;y=2", "/a"),
    ("/;jsessionid=ABC123/cart", "/cart"),
    ("/;jsessionid=ABC123", "/"),
    ("/catalog;JSESSIONID=1A2B3C4D5E6F/item/42", "/catalog/item/42"),
    ("/a/b;v=1/c;w=2/", "/a/b/c/"),
];

/// Ordinary paths that must come through unchanged. Shared with any test that audits
/// what is stored.
#[cfg(test)]
pub(crate) const ORDINARY_PATHS: &[&str] = &[
    "/",
    "/blog/2026/11/hello-world",
    "/docs/v2.3/install",
    "/product/42",
    "/tag/c++",
    "/archive/2026-11-28",
    "/archive/2026.11.28",
    "/archive/28.11.2026",
    "/en-gb/pricing",
    "/img/logo@2x.png",
    "/img/icon@1.5x.png",
    "/wiki/Albert_Einstein",
    "/search/results/page/12",
    "/api/v1/users/me",
    "/how-to-write-a-really-long-title-for-seo",
    "/top-10-tips-for-2026-travel-planning",
    "/reviews/iphone15-pro-max-review",
    "/wiki/HTMLParserTutorialForBeginners",
    "/guides/mp3-player-h264-encoding-guide",
    "/@jane",
    "/@jane/posts",
    "/a@b",
    "/releases/1.2.3",
    "/download/v2.3.1",
    "/changelog/10.0.19041.1234",
    "/status/192.168.100.200",
    "/npm/lodash@4.17.21/lodash.min.js",
    "/gh/user/repo@v1.2.3/dist/app.js",
    "/events/2019-2026",
    "/best-movies-2020-2024",
    "/sizes/10-12-14-16",
    "/en/blog/what-is-utf-8",
    "/de/fahrr%C3%A4der-f%C3%BCr-kinder",
    "/%E4%B8%AD%E6%96%87/%E9%A1%B5%E9%9D%A2",
    "/products/samsung-galaxy-s24-ultra-256gb",
    "/shop/mens/shoes/size-44",
    "/careers/senior-rust-engineer-berlin",
    "/wiki/Krzysztof_Penderecki",
    "/wiki/Szczecin",
    "/watch/dQw4w9WgXcQ",
    "/dp/B07XJ8C8F5",
    "/2026/11/28/hello",
    "/static/css/main.css",
    "/fonts/Inter-Variable.woff2",
    "/images/hero-1920x1080.jpg",
    "/downloads/setup-x64-v3.2.1.exe",
    "/page/2",
    "/feed.xml",
    "/about-us",
    "/blog/rust-2024-edition-guide",
    "/blog/iso-8601-dates",
    "/tutorials/python3-for-beginners",
    "/item/sku-12345",
    "/map/52.5200,13.4050",
    "/compare/rtx-4090-vs-rtx-4080",
    "/issues/1234",
    "/pull/12345",
    "/years/1999-2000-2001",
    "/scores/3-1",
    "/v/1.0.0-beta.2",
    "/recipes/100-calorie-snacks",
    "/cdn/fonts/roboto-v30-latin-regular.woff2",
    "/wiki/Special:Search",
    "/wiki/C%2B%2B",
    "/tag/node.js",
    "/assets/index-BdF3k9aQ.js",
    "/archive/2026-11-28-my-trip",
    "/events/2026-11-28-2026-12-01",
    "/weather/berlin/2026-11-28T10:30",
    "/wiki/Windows_NT_4.0",
    "/wiki/XMLHttpRequest",
    "/wiki/New_York_City_Marathon",
    "/p/getElementById",
    "/shop/ThisIsAVeryLongCamelCaseTitle",
    "/news/NewYorkCityMarathon2026",
    "/kb/COVID19VaccineUpdate2021",
    "/learn/OAuth2PKCEFlowExplained",
    "/u/jane-doe",
    "/search/red+shoes",
];

/// Free text (event names, campaign values, property keys and values) that holds
/// identifiers, each with what it must become.
#[cfg(test)]
pub(crate) const IDENTIFIER_TEXTS: &[(&str, &str)] = &[
    ("jane.doe@example.org", "[email]"),
    ("signup jane.doe@example.org", "signup [email]"),
    ("Contact: Jane <jane@example.org>", "Contact: Jane <[email]>"),
    ("call +44 20 7946 0958", "call [phone]"),
    ("+1 (555) 123-4567", "[phone]"),
    ("ring 555.123.4567 today", "ring [phone] today"),
    ("4242424242", "[id]"),
    ("newsletter-4242424242", "newsletter-[id]"),
    ("order 550e8400-e29b-41d4-a716-446655440000 shipped", "order [id] shipped"),
    ("token=9f8e7d6c5b4a39281706f5e4d3c2b1a0", "token=[token]"),
    (
        "Bearer eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxMjM0NTY3ODkwIn0.dozjgNryP4J3jVmNHl0w5N_XgL0n3I9PlFUP0THsR8U",
        "Bearer [token]",
    ),
    ("key dozjgNryP4J3jVmNHl0w5N_XgL0n3I9PlFUP0THsR8U/x", "key [token]/x"),
    ("a/jane@example.org/b", "a/[email]/b"),
    ("2026-11-28 555-123-4567", "2026-11-28 [phone]"),
    ("555 123 4567 1234567890123", "[phone] [id]"),
    ("ids 123456, 654321", "ids [id], [id]"),
    ("first.last+tag@sub.example.co.uk", "[email]"),
    ("hans.müller@bücher.example", "[email]"),
    ("from: JOHN.SMITH@EXAMPLE.COM, to: j.doe_1985@gmail.com", "from: [email], to: [email]"),
    ("bob%40mail.example.net", "[email]"),
    ("(555) 123-4567", "[phone]"),
    ("tel 020 7946 0958", "tel [phone]"),
    ("01.23.45.67.89", "[phone]"),
    ("+49 30 12345678", "[phone]"),
    ("mobile: 07700 900123", "mobile: [phone]"),
    ("1-800-555-0199 (toll free)", "[phone] (toll free)"),
    ("user 6BA7B810-9DAD-11D1-80B4-00C04FD430C8", "user [id]"),
    ("order #98765432", "order #[id]"),
    ("customer_id=user123456789", "customer_id=user[id]"),
    ("commit 3b18e512dba79e4c8300dd08aeb37f8e728b8dad", "commit [token]"),
    ("objectid 507f1f77bcf86cd799439011", "objectid [token]"),
    ("invite V1StGXR8_Z5jdHi6B-myT", "invite [token]"),
    ("key sk_live_51H8xYzAbC123dEfGhIjKlMnOp", "key sk_live_[token]"),
    ("event 01ARZ3NDEKTSV4RRFFQ69G5FAV", "event [token]"),
    ("post cjld2cjxh0000qzrmn831i7rn", "post [token]"),
    ("Zm9vYmFyYmF6cXV4MTIzNDU2Nzg5MA==", "[token]"),
    ("session f47ac10b-58cc-4372-a567-0e02b2c3d479 expired", "session [id] expired"),
    ("reset 9f8e7d6c5b4a39281706f5e4d3c2b1a0 now", "reset [token] now"),
];

/// Free text that must come through unchanged.
#[cfg(test)]
pub(crate) const ORDINARY_TEXTS: &[&str] = &[
    "",
    "pageview",
    "Signup",
    "Add to cart",
    "spring_sale_2026",
    "Black Friday 2026",
    "v2.3.1",
    "2026-11-28",
    "iPhone 15 Pro",
    "checkout step 2",
    "news letter",
    "spring/2025",
    "café",
    "@jane mentioned you",
    "version 10.0.19041.1234",
    "Top 10 tips for 2026",
    "plan=pro",
    "HTMLParserTutorialForBeginners",
    "2019-2026",
    "3 items for 100 EUR",
];

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_sites_own_patterns_redact_their_match_or_its_first_group() {
        let patterns =
            [regex::Regex::new("/invoice/([A-Z]{3}-[0-9]{3})").unwrap(), regex::Regex::new("member-[a-z]+").unwrap()];
        assert_eq!(redact_site_patterns("/invoice/ABC-123/pdf".into(), &patterns), format!("/invoice/{}/pdf", ID));
        assert_eq!(redact_site_patterns("/club/member-jane/x".into(), &patterns), format!("/club/{}/x", ID));
        assert_eq!(redact_site_patterns("/blog/hello".into(), &patterns), "/blog/hello");
    }

    use proptest::prelude::*;

    #[test]
    fn identifier_paths_become_placeholders() {
        let wrong: Vec<_> = IDENTIFIER_PATHS
            .iter()
            .map(|(path, want)| (path, redact_path(path), want))
            .filter(|(_, got, want)| got != *want)
            .collect();
        assert!(wrong.is_empty(), "(input, got, want): {wrong:#?}");
    }

    #[test]
    fn ordinary_paths_stay_borrowed() {
        for path in ORDINARY_PATHS {
            assert!(
                matches!(redact_path(path), Cow::Borrowed(p) if p == *path),
                "{path:?} became {:?}",
                redact_path(path)
            );
        }
    }

    #[test]
    fn identifier_texts_become_placeholders() {
        let wrong: Vec<_> = IDENTIFIER_TEXTS
            .iter()
            .map(|(text, want)| (text, redact_text(text), want))
            .filter(|(_, got, want)| got != *want)
            .collect();
        assert!(wrong.is_empty(), "(input, got, want): {wrong:#?}");
    }

    #[test]
    fn ordinary_texts_stay_borrowed() {
        for text in ORDINARY_TEXTS {
            assert!(
                matches!(redact_text(text), Cow::Borrowed(t) if t == *text),
                "{text:?} became {:?}",
                redact_text(text)
            );
        }
    }

    #[test]
    fn what_the_properties_once_found_is_stable() {
        // Each broke idempotence in its time: a later rule replaced part of what an
        // earlier rule had judged, and a second run judged the rest anew.
        let paths = [
            ("/a00a000a-0a00-00a0-0aa0-aaa0a00a0a0aeyJaA--A-_A0AAAAAAA_", "/[id][token]"),
            ("/0-00 0000 0000-0-0000A0aA0A0aA", "/0-00 0000 0000-0-0000A0aA0A0aA"),
        ];
        for (path, want) in paths {
            assert_eq!(redact_path(path), want, "{path:?}");
            assert_eq!(redact_path(want), want, "{want:?}");
        }
        let texts = [
            ("000000aaa00000-00aa-aa0a-aaaa-000bebeddaab", "[id]"),
            ("0-00(1900.0-00eyJ0-a-aA0-_Aa0A", "0-00(1900.0-00eyJ0-a-aA0-_Aa0A"),
            ("+1 00 1900 0000", "[phone]"),
        ];
        for (text, want) in texts {
            assert_eq!(redact_text(text), want, "{text:?}");
            assert_eq!(redact_text(want), want, "{want:?}");
        }
    }

    #[test]
    fn jane_at_2x_com_is_an_address_but_logo_at_2x_png_is_an_image() {
        assert_eq!(redact_path("/u/jane@2x.com"), "/u/[email]");
        assert_eq!(redact_path("/img/logo@2x.PNG"), "/img/logo@2x.PNG");
        assert_eq!(redact_path("/img/logo@2x.png.example.org"), "/img/[email]");
    }

    #[test]
    fn pathological_input_takes_linear_time_and_gives_the_expected_result() {
        // Each would take minutes if a rule rescanned its run from every position.
        let n = 50_000;
        let cases: [(String, String); 7] = [
            ("eyJ1".repeat(n), TOKEN.to_owned()),
            ("1-".repeat(n), "1-".repeat(n)),
            ("a@".repeat(n), "a@".repeat(n)),
            ("@a.".repeat(n), "@a.".repeat(n)),
            ("aaaaaaaa-".repeat(n), "aaaaaaaa-".repeat(n)),
            (format!("x{}", "a.".repeat(n)), format!("x{}", "a.".repeat(n))),
            ("12 ".repeat(n), "12 ".repeat(n)),
        ];
        for (input, want) in &cases {
            assert_eq!(redact_text(input), *want, "{}...", &input[..12]);
            assert_eq!(redact_path(&format!("/{input}")), format!("/{want}"), "{}...", &input[..12]);
        }
    }

    /// Pieces that the rules react to, to be strung together.
    fn fragment() -> impl Strategy<Value = String> {
        prop_oneof![
            "[a-z]{1,8}",
            "[A-Za-z0-9]{1,24}",
            "[0-9]{1,8}",
            "[0-9a-f]{4,20}",
            "[ ./;:=_+()@%-]",
            "%(40|2540|20|2B|2b|C3|BC|2F|4)",
            "[a-z.]{1,6}@[a-z0-9.-]{1,10}",
            "\\+?[0-9]{1,4}([ .-][0-9]{1,4}){0,4}",
            "(19|20)[0-9]{2}[-.][0-9]{1,2}[-.][0-9]{1,2}",
            "[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}",
            "eyJ[A-Za-z0-9_-]{0,24}",
            "[0-9a-fxyzJA-F .()+@_=-]{1,16}",
            "\\PC",
        ]
    }

    fn mixture() -> impl Strategy<Value = String> {
        proptest::collection::vec(fragment(), 0..14).prop_map(|parts| parts.concat())
    }

    fn slug() -> impl Strategy<Value = String> {
        "[a-z]{1,10}(-[a-z]{1,10}){0,8}"
    }

    /// An identifier as it appears in a path, and in a text.
    fn identifier() -> impl Strategy<Value = (String, String)> {
        let both = |s: String| (s.clone(), s);
        prop_oneof![
            // Local parts and domains from generated letters: `logo@2x.png` cannot occur.
            "[a-z][a-z0-9._+-]{0,12}@[a-z][a-z0-9-]{0,10}(\\.[a-z0-9-]{1,8}){0,2}\\.[a-z]{2,6}"
                .prop_map(|e| (e.replace('@', "%40"), e)),
            "[a-z][a-z0-9._+-]{0,12}@[a-z][a-z0-9-]{0,10}\\.[a-z]{2,6}".prop_map(both),
            "[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}".prop_map(both),
            "[0-9]{6,24}".prop_map(both),
            "[0-9a-f]{32}".prop_map(both),
            "\\+[1-9][0-9]{0,2} [0-9]{2,4} [0-9]{3,4} [0-9]{4}".prop_map(|p| (p.replace(' ', "%20"), p)),
        ]
    }

    proptest! {
        #[test]
        fn any_input_is_taken_without_panicking(text in "\\PC{0,200}", raw in proptest::collection::vec(any::<char>(), 0..100)) {
            let raw: String = raw.into_iter().collect();
            for input in [&text, &raw] {
                let _ = redact_path(input);
                let _ = redact_text(input);
            }
        }

        #[test]
        fn redaction_is_idempotent(text in mixture(), segments in proptest::collection::vec(mixture(), 1..4)) {
            let once = redact_text(&text).into_owned();
            prop_assert_eq!(redact_text(&once), once.as_str());
            let path = format!("/{}", segments.join("/"));
            let once = redact_path(&path).into_owned();
            prop_assert_eq!(redact_path(&once), once.as_str());
        }

        #[test]
        fn the_byte_scan_leaves_out_only_rules_that_find_nothing(text in mixture()) {
            let written = |rules| {
                let mut scanner = Scanner::default();
                let mut out = String::new();
                if scanner.analyse(&text, rules) {
                    scanner.write(&text, &mut out);
                }
                out
            };
            prop_assert_eq!(written(candidates(&text)), written(ALL_RULES), "{:?}", text);
        }

        #[test]
        fn an_embedded_identifier_never_survives(
            (in_path, in_text) in identifier(),
            before in proptest::collection::vec(slug(), 0..3),
            after in proptest::collection::vec(slug(), 0..3),
        ) {
            let path = format!("/{}", [before.clone(), vec![in_path.clone()], after.clone()].concat().join("/"));
            let got = redact_path(&path);
            prop_assert!(!got.contains(&in_path), "{path:?} became {got:?}");
            let text = [before, vec![in_text.clone()], after].concat().join(" ");
            let got = redact_text(&text);
            prop_assert!(!got.contains(&in_text), "{text:?} became {got:?}");
        }

        #[test]
        fn ordinary_slugs_survive(segments in proptest::collection::vec(slug(), 0..6)) {
            let path = format!("/{}", segments.join("/"));
            prop_assert!(matches!(redact_path(&path), Cow::Borrowed(_)), "{path:?}");
            let text = segments.join(" ");
            prop_assert!(matches!(redact_text(&text), Cow::Borrowed(_)), "{text:?}");
        }
    }
}
