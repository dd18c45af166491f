//! Pure, allocation-free pieces of HTTP/1.x message heads (RFC 9112 §3, §4, §5; RFC 9110
//! §5.6): start lines, header field lines with obs-fold, Content-Length lists, Basic
//! credentials. Everything works on borrowed bytes and never indexes with an unchecked offset.

/// How many bytes of a start line the early (prefix) check looks at.
pub(super) const PREFIX_CHECK: usize = 32;

/// `tchar` of RFC 9110 §5.6.2.
pub(super) fn is_tchar(b: u8) -> bool {
    b.is_ascii_alphanumeric() || b"!#$%&'*+-.^_`|~".contains(&b)
}

/// SP or HTAB (RFC 9110 §5.6.3 whitespace).
pub(super) fn is_ws(b: u8) -> bool {
    b == b' ' || b == b'\t'
}

fn from(s: &[u8], a: usize) -> &[u8] {
    s.get(a..).unwrap_or(&[])
}

fn upto(s: &[u8], b: usize) -> &[u8] {
    s.get(..b).unwrap_or(s)
}

pub(super) fn trim_start_ws(s: &[u8]) -> &[u8] {
    let n = s.iter().take_while(|&&b| is_ws(b)).count();
    from(s, n)
}

pub(super) fn trim_end_ws(s: &[u8]) -> &[u8] {
    let n = s.iter().rev().take_while(|&&b| is_ws(b)).count();
    upto(s, s.len().saturating_sub(n))
}

/// Optional whitespace removed on both sides.
pub(super) fn trim_ows(s: &[u8]) -> &[u8] {
    trim_end_ws(trim_start_ws(s))
}

/// A line without its terminating LF and without one CR before it (bare LF is accepted,
/// RFC 9112 §2.2).
pub(super) fn strip_cr(line: &[u8]) -> &[u8] {
    line.strip_suffix(b"\r").unwrap_or(line)
}

/// Splits `s` at its first LF: (line without CR/LF, rest after the LF). Without an LF the
/// whole of `s` is the line and the rest is empty.
pub(super) fn split_line(s: &[u8]) -> (&[u8], &[u8]) {
    match s.iter().position(|&b| b == b'\n') {
        Some(p) => (strip_cr(upto(s, p)), from(s, p + 1)),
        None => (strip_cr(s), &[]),
    }
}

/// `DIGIT "." DIGIT`, the only HTTP-version shape of RFC 9112 §2.3.
pub(super) fn is_version_digits(v: &[u8]) -> bool {
    matches!(v, [a, b'.', b] if a.is_ascii_digit() && b.is_ascii_digit())
}

/// A request line, borrowed: `method SP request-target SP HTTP/x.y`.
#[derive(Debug, PartialEq, Eq)]
pub(super) struct RequestLine<'a> {
    pub method: &'a [u8],
    pub uri: &'a [u8],
    /// Without the `HTTP/` prefix; empty for a line without version (HTTP/0.9 style).
    pub version: &'a [u8],
}

/// Parses a request line tolerantly: runs of SP/HTAB separate the parts, a target holding
/// whitespace is kept whole (everything between the method and a last `HTTP/` word), and a
/// missing version is accepted (the caller counts it). The method must be a token.
pub(super) fn parse_request_line(line: &[u8]) -> Option<RequestLine<'_>> {
    let line = trim_end_ws(line);
    let m_end = line.iter().position(|&b| is_ws(b))?;
    let method = upto(line, m_end);
    if method.is_empty() || !method.iter().all(|&b| is_tchar(b)) {
        return None;
    }
    let rest = trim_start_ws(from(line, m_end));
    if rest.is_empty() {
        return None;
    }
    if let Some(p) = rest.iter().rposition(|&b| is_ws(b)) {
        let last = from(rest, p + 1);
        if let Some(version) = last.strip_prefix(b"HTTP/") {
            let uri = trim_end_ws(upto(rest, p));
            if !uri.is_empty() {
                return Some(RequestLine {
                    method,
                    uri,
                    version,
                });
            }
        }
    }
    Some(RequestLine {
        method,
        uri: rest,
        version: &[],
    })
}

/// A status line, borrowed: `HTTP/x.y SP 3DIGIT [SP reason-phrase]`.
#[derive(Debug, PartialEq, Eq)]
pub(super) struct StatusLine<'a> {
    /// Without the `HTTP/` prefix.
    pub version: &'a [u8],
    pub code: u16,
    pub reason: &'a [u8],
}

/// Parses a status line (RFC 9112 §4), tolerating runs of whitespace and a missing reason.
/// The code must be three digits, 100 to 999.
pub(super) fn parse_status_line(line: &[u8]) -> Option<StatusLine<'_>> {
    let line = trim_end_ws(line);
    let rest = line.strip_prefix(b"HTTP/")?;
    let v_end = rest.iter().position(|&b| is_ws(b))?;
    let version = upto(rest, v_end);
    if version.is_empty() {
        return None;
    }
    let after = trim_start_ws(from(rest, v_end));
    let digits = after.get(..3)?;
    if !digits.iter().all(u8::is_ascii_digit) {
        return None;
    }
    if after.get(3).is_some_and(|&b| !is_ws(b)) {
        return None;
    }
    let code = digits
        .iter()
        .fold(0u16, |acc, &d| acc * 10 + u16::from(d - b'0'));
    if code < 100 {
        return None;
    }
    Some(StatusLine {
        version,
        code,
        reason: trim_ows(from(after, 3)),
    })
}

/// Whether a complete start line may begin a message. `strict` is the resynchronisation
/// test: a request line must carry an `HTTP/d.d` version, a status line must be HTTP/1.x.
pub(super) fn start_line_ok(request: bool, strict: bool, line: &[u8]) -> bool {
    // The prefix test must reject a subset of what this rejects (see `start_prefix_ok`).
    let probe = upto(line, PREFIX_CHECK.min(line.len()));
    if !start_prefix_ok(request, strict, probe, &[]) {
        return false;
    }
    if request {
        match parse_request_line(line) {
            Some(r) => !strict || is_version_digits(r.version),
            None => false,
        }
    } else {
        match parse_status_line(line) {
            Some(s) => !strict || s.version.starts_with(b"1."),
            None => false,
        }
    }
}

/// Early test on the first bytes of a start line that is not complete yet (`a` then `b`,
/// at most [`PREFIX_CHECK`] bytes looked at): false only when no complete line starting
/// this way could pass [`start_line_ok`], so that binary data is rejected at once instead of
/// being buffered up to the head limit.
pub(super) fn start_prefix_ok(request: bool, strict: bool, a: &[u8], b: &[u8]) -> bool {
    let bytes = a.iter().chain(b.iter()).copied().take(PREFIX_CHECK);
    if request {
        // A token, then whitespace (anything may follow the whitespace).
        for (k, c) in bytes.enumerate() {
            if is_ws(c) {
                return k > 0;
            }
            if !is_tchar(c) {
                return false;
            }
        }
        true
    } else {
        let want: &[u8] = if strict { b"HTTP/1." } else { b"HTTP/" };
        bytes.zip(want.iter()).all(|(c, &w)| c == w)
    }
}

/// Calls `field(name, value)` for every header field line of `block` (the head after its
/// start line), stopping at the empty line that ends the head. Values are trimmed of
/// optional whitespace; obs-fold continuation lines (RFC 9112 §5.2) are joined with one SP
/// in `fold` (at most `fold_cap` bytes). Lines that are not `token ":" value` (no colon,
/// whitespace before the colon, an empty or non-token name, a continuation with nothing to
/// continue) call `bad_line` and are skipped with their continuations.
pub(super) fn for_each_field(
    block: &[u8],
    fold: &mut Vec<u8>,
    fold_cap: usize,
    bad_line: &mut dyn FnMut(),
    field: &mut dyn FnMut(&[u8], &[u8]),
) {
    let mut rest = block;
    while !rest.is_empty() {
        let (line, next) = split_line(rest);
        rest = next;
        if line.is_empty() {
            break;
        }
        let good = line.first().is_some_and(|&b| !is_ws(b))
            && line.iter().position(|&b| b == b':').is_some_and(|colon| {
                let name = upto(line, colon);
                !name.is_empty() && name.iter().all(|&b| is_tchar(b))
            });
        // Continuation lines belong to this line, good or bad.
        let mut cont_end = rest;
        let mut n_cont = 0usize;
        while cont_end.first().is_some_and(|&b| is_ws(b)) {
            cont_end = split_line(cont_end).1;
            n_cont += 1;
        }
        if !good {
            bad_line();
            rest = cont_end;
            continue;
        }
        let colon = line.iter().position(|&b| b == b':').unwrap_or(0);
        let name = upto(line, colon);
        let value = trim_ows(from(line, colon + 1));
        if n_cont == 0 {
            field(name, value);
            continue;
        }
        fold.clear();
        push_capped(fold, value, fold_cap);
        let mut c = rest;
        for _ in 0..n_cont {
            let (cl, cn) = split_line(c);
            c = cn;
            let piece = trim_ows(cl);
            if piece.is_empty() {
                continue;
            }
            if !fold.is_empty() {
                push_capped(fold, b" ", fold_cap);
            }
            push_capped(fold, piece, fold_cap);
        }
        rest = cont_end;
        field(name, fold);
    }
}

fn push_capped(dst: &mut Vec<u8>, src: &[u8], cap: usize) {
    let room = cap.saturating_sub(dst.len());
    dst.extend_from_slice(upto(src, room.min(src.len())));
}

/// Running state of the Content-Length header(s) of one message (RFC 9112 §6.3, RFC 9110
/// §8.6): a list of identical values, or several identical fields, is one length.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) enum ContentLength {
    Absent,
    Value(u64),
    /// Not a number, overflowing, or differing values.
    Invalid,
}

impl ContentLength {
    pub(super) fn add(&mut self, value: &[u8]) {
        let mut got: Option<u64> = None;
        let mut any = false;
        for elem in value.split(|&b| b == b',') {
            let elem = trim_ows(elem);
            if elem.is_empty() {
                continue;
            }
            any = true;
            let n = parse_decimal(elem);
            match (n, got) {
                (None, _) => {
                    *self = ContentLength::Invalid;
                    return;
                }
                (Some(n), Some(g)) if n != g => {
                    *self = ContentLength::Invalid;
                    return;
                }
                (Some(n), _) => got = Some(n),
            }
        }
        *self = match (*self, got) {
            (_, None) if !any => ContentLength::Invalid,
            (ContentLength::Invalid, _) | (_, None) => ContentLength::Invalid,
            (ContentLength::Absent, Some(n)) => ContentLength::Value(n),
            (ContentLength::Value(m), Some(n)) if m == n => ContentLength::Value(n),
            (ContentLength::Value(_), Some(_)) => ContentLength::Invalid,
        };
    }

    pub(super) fn value(self) -> Option<u64> {
        match self {
            ContentLength::Value(n) => Some(n),
            _ => None,
        }
    }
}

/// `1*DIGIT` as u64, None on anything else or overflow.
pub(super) fn parse_decimal(s: &[u8]) -> Option<u64> {
    if s.is_empty() {
        return None;
    }
    s.iter().try_fold(0u64, |acc, &d| {
        if d.is_ascii_digit() {
            acc.checked_mul(10)?.checked_add(u64::from(d - b'0'))
        } else {
            None
        }
    })
}

/// Running state of Transfer-Encoding field(s): whether one was seen and whether the last
/// coding listed is `chunked` (RFC 9112 §6.1: only then is the message chunked).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub(super) struct TransferEncoding {
    pub seen: bool,
    pub chunked_last: bool,
}

impl TransferEncoding {
    pub(super) fn add(&mut self, value: &[u8]) {
        self.seen = true;
        for elem in value.split(|&b| b == b',') {
            let elem = trim_ows(elem);
            if !elem.is_empty() {
                self.chunked_last = elem.eq_ignore_ascii_case(b"chunked");
            }
        }
    }
}

/// Outcome of reading an Authorization field for a user name.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) enum Credentials {
    /// Not the Basic scheme: nothing to take.
    OtherScheme,
    /// Basic credentials decoded; the user name was written.
    User,
    /// Basic scheme with bad base64 or without the `:` separator: nothing written.
    Invalid,
}

fn b64_value(c: u8) -> Option<u32> {
    match c {
        b'A'..=b'Z' => Some(u32::from(c - b'A')),
        b'a'..=b'z' => Some(u32::from(c - b'a') + 26),
        b'0'..=b'9' => Some(u32::from(c - b'0') + 52),
        b'+' => Some(62),
        b'/' => Some(63),
        _ => None,
    }
}

/// Reads `Basic <base64(user:password)>` (RFC 7617) and writes the user name, at most `cap`
/// bytes, into `user` (cleared first). The password is decoded only far enough to find the
/// separator and is never stored.
pub(super) fn basic_username(value: &[u8], user: &mut Vec<u8>, cap: usize) -> Credentials {
    let value = trim_ows(value);
    let s_end = value.iter().position(|&b| is_ws(b)).unwrap_or(value.len());
    if !upto(value, s_end).eq_ignore_ascii_case(b"basic") {
        return Credentials::OtherScheme;
    }
    let token = trim_ows(from(value, s_end));
    user.clear();
    let mut acc = 0u32;
    let mut bits = 0u32;
    for &c in token {
        if c == b'=' {
            break;
        }
        let Some(v) = b64_value(c) else {
            user.clear();
            return Credentials::Invalid;
        };
        acc = ((acc << 6) | v) & 0xFFFF;
        bits += 6;
        if bits >= 8 {
            bits -= 8;
            let byte = ((acc >> bits) & 0xFF) as u8;
            if byte == b':' {
                return Credentials::User;
            }
            if user.len() < cap {
                user.push(byte);
            }
        }
    }
    user.clear();
    Credentials::Invalid
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn request_lines() {
        let r = parse_request_line(b"GET /a HTTP/1.1").expect("valid");
        assert_eq!(
            (r.method, r.uri, r.version),
            (&b"GET"[..], &b"/a"[..], &b"1.1"[..])
        );
        let r = parse_request_line(b"PROPFIND   /x y   HTTP/1.0  ").expect("valid");
        assert_eq!(
            (r.method, r.uri, r.version),
            (&b"PROPFIND"[..], &b"/x y"[..], &b"1.0"[..])
        );
        let r = parse_request_line(b"GET /only").expect("0.9 style");
        assert_eq!((r.uri, r.version), (&b"/only"[..], &b""[..]));
        let r = parse_request_line(b"GET HTTP/1.1").expect("target only");
        assert_eq!((r.uri, r.version), (&b"HTTP/1.1"[..], &b""[..]));
        assert_eq!(parse_request_line(b"GET"), None);
        assert_eq!(parse_request_line(b"GET   "), None);
        assert_eq!(parse_request_line(b" GET / HTTP/1.1"), None);
        assert_eq!(parse_request_line(b"G(T / HTTP/1.1"), None);
        assert_eq!(parse_request_line(b"\x16\x03\x01 x"), None);
    }

    #[test]
    fn status_lines() {
        let s = parse_status_line(b"HTTP/1.1 200 OK").expect("valid");
        assert_eq!(
            (s.version, s.code, s.reason),
            (&b"1.1"[..], 200, &b"OK"[..])
        );
        let s = parse_status_line(b"HTTP/1.0  404").expect("no reason");
        assert_eq!((s.code, s.reason), (404, &b""[..]));
        let s = parse_status_line(b"HTTP/1.1 500 Internal  Error ").expect("valid");
        assert_eq!(s.reason, b"Internal  Error");
        assert_eq!(parse_status_line(b"HTTP/1.1 20 OK"), None);
        assert_eq!(parse_status_line(b"HTTP/1.1 2000 OK"), None);
        assert_eq!(parse_status_line(b"HTTP/1.1 099 x"), None);
        assert_eq!(parse_status_line(b"HTTP/1.1"), None);
        assert_eq!(parse_status_line(b"HTTP/ 200 OK"), None);
        assert_eq!(parse_status_line(b"http/1.1 200 OK"), None);
        assert_eq!(parse_status_line(b"HTTP/1.1 2x0 OK"), None);
    }

    #[test]
    fn start_line_checks() {
        assert!(start_line_ok(true, false, b"GET /"));
        assert!(!start_line_ok(true, true, b"GET /"));
        assert!(start_line_ok(true, true, b"GET / HTTP/1.1"));
        assert!(!start_line_ok(true, true, b"hello world"));
        assert!(start_line_ok(false, false, b"HTTP/2 200"));
        assert!(!start_line_ok(false, true, b"HTTP/2 200"));
        assert!(start_prefix_ok(true, false, b"GE", b""));
        assert!(!start_prefix_ok(true, false, b"\x16", b"\x03"));
        assert!(!start_prefix_ok(true, false, b" ", b""));
        assert!(start_prefix_ok(false, false, b"HT", b"TP/"));
        assert!(!start_prefix_ok(false, false, b"HT", b"ML"));
        assert!(!start_prefix_ok(false, true, b"HTTP/2", b""));
    }

    #[test]
    fn fields_and_folding() {
        let block = b"Host: a\r\nX-Long: one\r\n  two\r\n\tthree\r\nbad line\r\n cont of bad\r\nName : v\r\n: empty\r\nUser-Agent:ua \r\n\r\nIgnored: after end\r\n";
        let mut fold = Vec::new();
        let mut bad = 0;
        let mut seen: Vec<(Vec<u8>, Vec<u8>)> = Vec::new();
        for_each_field(block, &mut fold, 100, &mut || bad += 1, &mut |n, v| {
            seen.push((n.to_vec(), v.to_vec()))
        });
        assert_eq!(bad, 3);
        let want: Vec<(Vec<u8>, Vec<u8>)> = vec![
            (b"Host".to_vec(), b"a".to_vec()),
            (b"X-Long".to_vec(), b"one two three".to_vec()),
            (b"User-Agent".to_vec(), b"ua".to_vec()),
        ];
        assert_eq!(seen, want);
    }

    #[test]
    fn content_length_rules() {
        let mut cl = ContentLength::Absent;
        cl.add(b" 42 ");
        assert_eq!(cl, ContentLength::Value(42));
        cl.add(b"42, 42");
        assert_eq!(cl, ContentLength::Value(42));
        cl.add(b"43");
        assert_eq!(cl, ContentLength::Invalid);
        for bad in [
            &b"-1"[..],
            b"1 2",
            b"0x10",
            b"",
            b"99999999999999999999999",
            b"4,5",
        ] {
            let mut cl = ContentLength::Absent;
            cl.add(bad);
            assert_eq!(
                cl,
                ContentLength::Invalid,
                "{:?}",
                String::from_utf8_lossy(bad)
            );
        }
        assert_eq!(parse_decimal(b"18446744073709551615"), Some(u64::MAX));
        assert_eq!(parse_decimal(b"18446744073709551616"), None);
    }

    #[test]
    fn transfer_encoding_last_coding() {
        let mut te = TransferEncoding::default();
        te.add(b"gzip, Chunked");
        assert!(te.seen && te.chunked_last);
        te.add(b"gzip");
        assert!(!te.chunked_last);
    }

    #[test]
    fn basic_credentials() {
        let mut u = Vec::new();
        // "aladdin:opensesame"
        assert_eq!(
            basic_username(b"Basic YWxhZGRpbjpvcGVuc2VzYW1l", &mut u, 64),
            Credentials::User
        );
        assert_eq!(u, b"aladdin");
        // "user:" with padding, lower-case scheme
        assert_eq!(
            basic_username(b"basic  dXNlcjo=", &mut u, 64),
            Credentials::User
        );
        assert_eq!(u, b"user");
        assert_eq!(
            basic_username(b"Basic YWxhZGRpbjpvcGVuc2VzYW1l", &mut u, 3),
            Credentials::User
        );
        assert_eq!(u, b"ala");
        assert_eq!(
            basic_username(b"Bearer abc", &mut u, 64),
            Credentials::OtherScheme
        );
        // "nocolon"
        assert_eq!(
            basic_username(b"Basic bm9jb2xvbg==", &mut u, 64),
            Credentials::Invalid
        );
        assert!(u.is_empty());
        assert_eq!(
            basic_username(b"Basic a*b", &mut u, 64),
            Credentials::Invalid
        );
        assert!(u.is_empty());
    }
}
