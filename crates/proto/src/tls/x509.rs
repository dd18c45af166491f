//! Minimal X.509 (RFC 5280) certificate reader over DER (ITU-T X.690).
//!
//! Reads only what the logs need from `tbsCertificate`: version, serialNumber, issuer,
//! validity, subject and the dNSName entries of the subjectAltName extension. Everything else
//! (keys, signatures, other extensions) is skipped by length. DER only: definite lengths of at
//! most four length octets, single-octet tags; indefinite lengths and high tag numbers are
//! errors. There is no recursion: the code walks a fixed structure, so nesting depth is bounded
//! by construction (certificate / tbs / extensions / extension / GeneralNames).
//!
//! Names are rendered two ways:
//! - Suricata style (`tls.subject`, `tls.issuerdn`, which come from the `x509-parser` crate's
//!   `X509Name` Display): attributes in certificate order, `", "` between RDNs, `" + "` inside a
//!   multi-valued RDN, no escaping at all. Values: the character string types are decoded to
//!   text (UTF8String and the ASCII types as UTF-8, lossily; T61String as Latin-1; BMPString as
//!   UTF-16BE; UniversalString as UTF-32BE); any other type prints as upper-case hex of its
//!   content octets.
//! - Zeek style (`x509.log`: OpenSSL `X509_NAME_print_ex(.., XN_FLAG_RFC2253)`): attributes in
//!   reverse order, `","` between RDNs and `"+"` inside one, RFC 2253 escaping as OpenSSL does
//!   it: `\` before `, + " \ < > ;`, before a leading `#` or space and before a trailing space;
//!   control characters and every byte >= 0x80 of the UTF-8 form as `\XX` (upper-case hex).
//!   Non-string values and values of attribute types without a short name print as `#` plus
//!   the hex DER encoding (OpenSSL's DUMP_UNKNOWN_FIELDS / DUMP_DER).
//!
//! Both use the OpenSSL short names for attribute types (C, ST, L, O, OU, CN, emailAddress,
//! serialNumber, DC, UID, street, title, GN, SN, ...); unknown types print as a dotted OID.
//! (`x509-parser`'s registry spells a few rare types differently; not reproduced.)
//!
//! Bounds: at most [`MAX_NAME_ATTRS`] attributes per name, each rendered name is cut after the
//! attribute that crosses [`MAX_NAME_LEN`] bytes, at most [`MAX_SAN_DNS`] SAN names of at most
//! [`MAX_SAN_LEN`] bytes, at most [`MAX_EXTENSIONS`] extensions examined.

use std::fmt;
use std::fmt::Write as _;

use sha1::{Digest, Sha1};
use sha2::Sha256;

use super::CertInfo;
use crate::push_hex_lower;

/// Maximum attributes read per Name.
pub const MAX_NAME_ATTRS: usize = 64;
/// Rendered names stop growing after the attribute that crosses this many bytes.
pub const MAX_NAME_LEN: usize = 4096;
/// Maximum dNSName entries kept from the subjectAltName extension.
pub const MAX_SAN_DNS: usize = 512;
/// Maximum bytes kept of one dNSName.
pub const MAX_SAN_LEN: usize = 256;
/// Maximum extensions examined.
pub const MAX_EXTENSIONS: usize = 64;

/// Why a certificate could not be read.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum X509Error {
    /// A TLV runs past the end of its container.
    Truncated,
    /// An unexpected tag; the field that was being read.
    UnexpectedTag(&'static str),
    /// Indefinite length (BER, not DER) or a length of more than four octets.
    BadLength,
    /// A high-tag-number form tag (not used by X.509).
    HighTagNumber,
    /// A validity time that is not a valid UTCTime / GeneralizedTime.
    BadTime,
}

impl fmt::Display for X509Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            X509Error::Truncated => f.write_str("DER element runs past its container"),
            X509Error::UnexpectedTag(what) => write!(f, "unexpected DER tag reading {what}"),
            X509Error::BadLength => f.write_str("indefinite or oversized DER length"),
            X509Error::HighTagNumber => f.write_str("high-tag-number DER tag"),
            X509Error::BadTime => f.write_str("invalid certificate validity time"),
        }
    }
}

/// One DER element: its tag, its content octets and its whole encoding.
#[derive(Clone, Copy)]
struct Tlv<'a> {
    tag: u8,
    content: &'a [u8],
    raw: &'a [u8],
}

/// Reads one TLV from the front of `data`; returns it and the rest.
fn read_tlv(data: &[u8]) -> Result<(Tlv<'_>, &[u8]), X509Error> {
    let tag = *data.first().ok_or(X509Error::Truncated)?;
    if tag & 0x1f == 0x1f {
        return Err(X509Error::HighTagNumber);
    }
    let l0 = *data.get(1).ok_or(X509Error::Truncated)?;
    let (len, hdr) = if l0 < 0x80 {
        (usize::from(l0), 2usize)
    } else {
        let n = usize::from(l0 & 0x7f);
        if n == 0 || n > 4 {
            return Err(X509Error::BadLength);
        }
        let bytes = data.get(2..2 + n).ok_or(X509Error::Truncated)?;
        let len = bytes.iter().fold(0usize, |a, &b| (a << 8) | usize::from(b));
        (len, 2 + n)
    };
    let end = hdr.checked_add(len).ok_or(X509Error::BadLength)?;
    let content = data.get(hdr..end).ok_or(X509Error::Truncated)?;
    let raw = data.get(..end).ok_or(X509Error::Truncated)?;
    let rest = data.get(end..).ok_or(X509Error::Truncated)?;
    Ok((Tlv { tag, content, raw }, rest))
}

fn expect<'a>(
    data: &'a [u8],
    tag: u8,
    what: &'static str,
) -> Result<(Tlv<'a>, &'a [u8]), X509Error> {
    let (t, rest) = read_tlv(data)?;
    if t.tag != tag {
        return Err(X509Error::UnexpectedTag(what));
    }
    Ok((t, rest))
}

/// One AttributeTypeAndValue of a Name, with the index of its RDN.
#[derive(Clone, Copy)]
struct Attr<'a> {
    oid: &'a [u8],
    value: Tlv<'a>,
    rdn: usize,
}

impl Attr<'_> {
    const EMPTY: Attr<'static> = Attr {
        oid: &[],
        value: Tlv {
            tag: 0,
            content: &[],
            raw: &[],
        },
        rdn: 0,
    };
}

/// Parses `der` (one certificate) into `out`, reusing `out`'s string buffers. On error `out`
/// holds whatever was read before the error; `out.parsed` is false.
pub fn parse_certificate_into(der: &[u8], out: &mut CertInfo) -> Result<(), X509Error> {
    parse_certificate_with(der, out, &mut Vec::new())
}

/// [`parse_certificate_into`] with a caller-owned scratch buffer (the parser keeps one, so that
/// a warmed-up parser does not allocate per certificate beyond growing `out`'s strings).
pub(crate) fn parse_certificate_with(
    der: &[u8],
    out: &mut CertInfo,
    buf: &mut Vec<u8>,
) -> Result<(), X509Error> {
    out.clear_keeping_san();
    let mut san_n = 0;
    let res = parse_fields(der, out, buf, &mut san_n);
    out.san_dns.truncate(san_n);
    res
}

fn parse_fields(
    der: &[u8],
    out: &mut CertInfo,
    buf: &mut Vec<u8>,
    san_n: &mut usize,
) -> Result<(), X509Error> {
    let sha1 = Sha1::digest(der);
    push_hex_colon(&mut out.sha1_fingerprint, &sha1);
    let sha256 = Sha256::digest(der);
    push_hex_lower(&mut out.sha256_fingerprint, &sha256);

    let (cert, _) = expect(der, 0x30, "Certificate")?;
    let (tbs, _) = expect(cert.content, 0x30, "tbsCertificate")?;
    let mut p = tbs.content;
    out.version = 1;
    if p.first() == Some(&0xa0) {
        let (v, rest) = read_tlv(p)?;
        let (int, _) = expect(v.content, 0x02, "version")?;
        let n = int.content.iter().fold(0u32, |a, &b| {
            a.saturating_mul(256).saturating_add(u32::from(b))
        });
        out.version = u8::try_from(n.saturating_add(1)).unwrap_or(u8::MAX);
        p = rest;
    }
    let (serial, rest) = expect(p, 0x02, "serialNumber")?;
    for (i, b) in serial.content.iter().enumerate() {
        if i > 0 {
            out.serial.push(':');
        }
        let _ = write!(out.serial, "{b:02X}");
    }
    let magnitude = match serial.content {
        [0, rest @ ..] if !rest.is_empty() => rest,
        c => c,
    };
    for b in magnitude {
        let _ = write!(out.serial_zeek, "{b:02X}");
    }
    let (_sig_alg, rest) = expect(rest, 0x30, "signature")?;
    let (issuer, rest) = expect(rest, 0x30, "issuer")?;
    let (validity, rest) = expect(rest, 0x30, "validity")?;
    let (subject, rest) = expect(rest, 0x30, "subject")?;

    let mut attrs = [Attr::EMPTY; MAX_NAME_ATTRS];
    let n = collect_name(issuer.content, &mut attrs)?;
    let names = attrs.get(..n).unwrap_or_default();
    render_suricata(names, &mut out.issuer, buf);
    render_zeek(names, &mut out.issuer_zeek, buf);
    let n = collect_name(subject.content, &mut attrs)?;
    let names = attrs.get(..n).unwrap_or_default();
    render_suricata(names, &mut out.subject, buf);
    render_zeek(names, &mut out.subject_zeek, buf);

    let (nb, vrest) = read_tlv(validity.content)?;
    let (na, _) = read_tlv(vrest)?;
    out.not_before = parse_time(nb)?;
    out.not_after = parse_time(na)?;

    // subjectPublicKeyInfo, then optional [1] issuerUniqueID, [2] subjectUniqueID,
    // [3] extensions.
    let (_spki, mut rest) = expect(rest, 0x30, "subjectPublicKeyInfo")?;
    while !rest.is_empty() {
        let (t, r) = read_tlv(rest)?;
        rest = r;
        if t.tag == 0xa3 {
            read_extensions(t.content, out, san_n)?;
        }
    }
    out.parsed = true;
    Ok(())
}

fn read_extensions(data: &[u8], out: &mut CertInfo, san_n: &mut usize) -> Result<(), X509Error> {
    let (seq, _) = expect(data, 0x30, "extensions")?;
    let mut p = seq.content;
    let mut n = 0;
    while !p.is_empty() && n < MAX_EXTENSIONS {
        n += 1;
        let (ext, rest) = expect(p, 0x30, "extension")?;
        p = rest;
        let (oid, mut q) = expect(ext.content, 0x06, "extnID")?;
        if q.first() == Some(&0x01) {
            let (_, r) = read_tlv(q)?;
            q = r;
        }
        let (value, _) = expect(q, 0x04, "extnValue")?;
        // id-ce-subjectAltName 2.5.29.17
        if oid.content == [0x55, 0x1d, 0x11] {
            read_san(value.content, out, san_n)?;
        }
    }
    Ok(())
}

/// Reads the dNSName entries into `out.san_dns[..]`, reusing its strings by index; `san_n`
/// counts the entries written (the caller truncates the rest).
fn read_san(data: &[u8], out: &mut CertInfo, san_n: &mut usize) -> Result<(), X509Error> {
    let (names, _) = expect(data, 0x30, "GeneralNames")?;
    let mut p = names.content;
    while !p.is_empty() {
        let (gn, rest) = read_tlv(p)?;
        p = rest;
        // dNSName [2] IMPLICIT IA5String
        if gn.tag == 0x82 && *san_n < MAX_SAN_DNS {
            let v = gn
                .content
                .get(..MAX_SAN_LEN.min(gn.content.len()))
                .unwrap_or_default();
            let text = String::from_utf8_lossy(v);
            match out.san_dns.get_mut(*san_n) {
                Some(slot) => {
                    slot.clear();
                    slot.push_str(&text);
                }
                None => out.san_dns.push(text.into_owned()),
            }
            *san_n += 1;
        }
    }
    Ok(())
}

/// Name ::= SEQUENCE OF RelativeDistinguishedName; RDN ::= SET OF AttributeTypeAndValue.
/// Fills `attrs` from the front; returns how many were read (at most [`MAX_NAME_ATTRS`]).
fn collect_name<'a>(
    data: &'a [u8],
    attrs: &mut [Attr<'a>; MAX_NAME_ATTRS],
) -> Result<usize, X509Error> {
    let mut p = data;
    let mut rdn = 0;
    let mut n = 0;
    while !p.is_empty() && n < MAX_NAME_ATTRS {
        let (set, rest) = expect(p, 0x31, "RelativeDistinguishedName")?;
        p = rest;
        let mut q = set.content;
        while !q.is_empty() && n < MAX_NAME_ATTRS {
            let (atv, r) = expect(q, 0x30, "AttributeTypeAndValue")?;
            q = r;
            let (oid, vr) = expect(atv.content, 0x06, "AttributeType")?;
            let (value, _) = read_tlv(vr)?;
            if let Some(slot) = attrs.get_mut(n) {
                *slot = Attr {
                    oid: oid.content,
                    value,
                    rdn,
                };
            }
            n += 1;
        }
        rdn += 1;
    }
    Ok(n)
}

/// OpenSSL short names of the attribute types that appear in certificate names.
fn attr_short_name(oid: &[u8]) -> Option<&'static str> {
    const PKCS9: [u8; 8] = [0x2a, 0x86, 0x48, 0x86, 0xf7, 0x0d, 0x01, 0x09];
    const PILOT: [u8; 9] = [0x09, 0x92, 0x26, 0x89, 0x93, 0xf2, 0x2c, 0x64, 0x01];
    const EV: [u8; 10] = [0x2b, 0x06, 0x01, 0x04, 0x01, 0x82, 0x37, 0x3c, 0x02, 0x01];
    let n = match oid {
        [0x55, 0x04, x] => match x {
            3 => "CN",
            4 => "SN",
            5 => "serialNumber",
            6 => "C",
            7 => "L",
            8 => "ST",
            9 => "street",
            10 => "O",
            11 => "OU",
            12 => "title",
            13 => "description",
            15 => "businessCategory",
            16 => "postalAddress",
            17 => "postalCode",
            20 => "telephoneNumber",
            41 => "name",
            42 => "GN",
            43 => "initials",
            44 => "generationQualifier",
            46 => "dnQualifier",
            65 => "pseudonym",
            97 => "organizationIdentifier",
            _ => return None,
        },
        [a @ .., x] if a == PKCS9 => match x {
            1 => "emailAddress",
            2 => "unstructuredName",
            8 => "unstructuredAddress",
            _ => return None,
        },
        [a @ .., x] if a == PILOT => match x {
            1 => "UID",
            25 => "DC",
            _ => return None,
        },
        [a @ .., x] if a == EV => match x {
            1 => "jurisdictionL",
            2 => "jurisdictionST",
            3 => "jurisdictionC",
            _ => return None,
        },
        _ => return None,
    };
    Some(n)
}

/// Dotted decimal form of an OID's content octets (X.690 8.19). Arcs that overflow u64 or a
/// truncated last arc print as `?`.
fn push_dotted_oid(s: &mut String, oid: &[u8]) {
    let mut first = true;
    let mut acc: u64 = 0;
    let mut overflow = false;
    let mut pending = false;
    for &b in oid {
        if acc > (u64::MAX >> 7) {
            overflow = true;
        }
        acc = (acc << 7) | u64::from(b & 0x7f);
        pending = true;
        if b & 0x80 == 0 {
            if overflow {
                s.push_str(if first { "?" } else { ".?" });
            } else if first {
                let (x, y) = match acc {
                    0..=39 => (0, acc),
                    40..=79 => (1, acc - 40),
                    _ => (2, acc - 80),
                };
                let _ = write!(s, "{x}.{y}");
            } else {
                let _ = write!(s, ".{acc}");
            }
            first = false;
            acc = 0;
            overflow = false;
            pending = false;
        }
    }
    if pending {
        s.push_str(if first { "?" } else { ".?" });
    }
}

/// Appends the UTF-8 form of a character string value to `out`; returns false when the type
/// is not a character string type. `openssl` selects OpenSSL's reading (UTF8String bytes as
/// they are, every other one-byte type as Latin-1), else `x509-parser`'s (the ASCII-repertoire
/// types as UTF-8, lossily, and T61String as Latin-1).
fn value_utf8(v: &Tlv<'_>, openssl: bool, out: &mut Vec<u8>) -> bool {
    fn push(out: &mut Vec<u8>, c: char) {
        let mut b = [0u8; 4];
        out.extend_from_slice(c.encode_utf8(&mut b).as_bytes());
    }
    match v.tag {
        0x0c if openssl => out.extend_from_slice(v.content),
        // UTF8String and the ASCII-repertoire types.
        0x0c | 0x12 | 0x13 | 0x15 | 0x16 | 0x19 | 0x1a | 0x1b if !openssl => {
            for c in String::from_utf8_lossy(v.content).chars() {
                push(out, c);
            }
        }
        // One-octet types read as Latin-1 (all of them for OpenSSL, T61String for both).
        0x12..=0x16 | 0x19..=0x1b => {
            for &b in v.content {
                push(out, char::from(b));
            }
        }
        // BMPString: UTF-16BE.
        0x1e => {
            let units = v
                .content
                .chunks_exact(2)
                .map(|c| u16::from_be_bytes([c[0], c[1]]));
            for c in char::decode_utf16(units) {
                push(out, c.unwrap_or(char::REPLACEMENT_CHARACTER));
            }
        }
        // UniversalString: UTF-32BE.
        0x1c => {
            for c in v.content.chunks_exact(4) {
                let u = u32::from_be_bytes([c[0], c[1], c[2], c[3]]);
                push(
                    out,
                    char::from_u32(u).unwrap_or(char::REPLACEMENT_CHARACTER),
                );
            }
        }
        _ => return false,
    }
    true
}

fn render_suricata(attrs: &[Attr<'_>], s: &mut String, buf: &mut Vec<u8>) {
    s.clear();
    let mut prev: Option<usize> = None;
    for a in attrs {
        if s.len() >= MAX_NAME_LEN {
            break;
        }
        match prev {
            Some(r) if r == a.rdn => s.push_str(" + "),
            Some(_) => s.push_str(", "),
            None => {}
        }
        prev = Some(a.rdn);
        match attr_short_name(a.oid) {
            Some(n) => s.push_str(n),
            None => push_dotted_oid(s, a.oid),
        }
        s.push('=');
        buf.clear();
        if value_utf8(&a.value, false, buf) {
            s.push_str(&String::from_utf8_lossy(buf.as_slice()));
        } else {
            for b in a.value.content {
                let _ = write!(s, "{b:02X}");
            }
        }
    }
}

fn render_zeek(attrs: &[Attr<'_>], s: &mut String, buf: &mut Vec<u8>) {
    s.clear();
    let mut prev: Option<usize> = None;
    for a in attrs.iter().rev() {
        if s.len() >= MAX_NAME_LEN {
            break;
        }
        match prev {
            Some(r) if r == a.rdn => s.push('+'),
            Some(_) => s.push(','),
            None => {}
        }
        prev = Some(a.rdn);
        let known = match attr_short_name(a.oid) {
            Some(n) => {
                s.push_str(n);
                true
            }
            None => {
                push_dotted_oid(s, a.oid);
                false
            }
        };
        s.push('=');
        buf.clear();
        if known && value_utf8(&a.value, true, buf) {
            push_rfc2253_escaped(s, buf);
        } else {
            s.push('#');
            for b in a.value.raw {
                let _ = write!(s, "{b:02X}");
            }
        }
    }
}

/// RFC 2253 escaping as OpenSSL's `do_esc_char` with `ASN1_STRFLGS_RFC2253`.
fn push_rfc2253_escaped(s: &mut String, v: &[u8]) {
    let last = v.len().saturating_sub(1);
    for (i, &b) in v.iter().enumerate() {
        let bs = matches!(b, b',' | b'+' | b'"' | b'\\' | b'<' | b'>' | b';')
            || (i == 0 && (b == b'#' || b == b' '))
            || (i == last && b == b' ');
        if bs {
            s.push('\\');
            s.push(char::from(b));
        } else if !(0x20..0x7f).contains(&b) {
            let _ = write!(s, "\\{b:02X}");
        } else {
            s.push(char::from(b));
        }
    }
}

fn push_hex_colon(s: &mut String, bytes: &[u8]) {
    for (i, b) in bytes.iter().enumerate() {
        if i > 0 {
            s.push(':');
        }
        let _ = write!(s, "{b:02x}");
    }
}

/// Days since 1970-01-01 of a proleptic Gregorian date (Howard Hinnant's algorithm).
fn days_from_civil(y: i64, m: i64, d: i64) -> i64 {
    let y = if m <= 2 { y - 1 } else { y };
    let era = if y >= 0 { y } else { y - 399 } / 400;
    let yoe = y - era * 400;
    let mp = (m + 9) % 12;
    let doy = (153 * mp + 2) / 5 + d - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

fn digits(s: &[u8], at: usize, n: usize) -> Result<i64, X509Error> {
    let d = s.get(at..at + n).ok_or(X509Error::BadTime)?;
    d.iter().try_fold(0i64, |a, &c| {
        if c.is_ascii_digit() {
            Ok(a * 10 + i64::from(c - b'0'))
        } else {
            Err(X509Error::BadTime)
        }
    })
}

/// UTCTime (YYMMDDHHMM[SS], RFC 5280 4.1.2.5.1: YY >= 50 is 19YY, else 20YY) or
/// GeneralizedTime (YYYYMMDDHHMM[SS[.f*]]), then `Z`, `+hhmm`, `-hhmm` or nothing (taken as
/// UTC). Returns Unix seconds.
fn parse_time(t: Tlv<'_>) -> Result<i64, X509Error> {
    let s = t.content;
    let (year, mut at) = match t.tag {
        0x17 => {
            let yy = digits(s, 0, 2)?;
            (if yy >= 50 { 1900 + yy } else { 2000 + yy }, 2)
        }
        0x18 => (digits(s, 0, 4)?, 4),
        _ => return Err(X509Error::UnexpectedTag("Time")),
    };
    let month = digits(s, at, 2)?;
    let day = digits(s, at + 2, 2)?;
    let hour = digits(s, at + 4, 2)?;
    let min = digits(s, at + 6, 2)?;
    at += 8;
    let mut sec = 0;
    if s.get(at).is_some_and(u8::is_ascii_digit) {
        sec = digits(s, at, 2)?;
        at += 2;
        if t.tag == 0x18 && matches!(s.get(at), Some(b'.') | Some(b',')) {
            at += 1;
            while s.get(at).is_some_and(u8::is_ascii_digit) {
                at += 1;
            }
        }
    }
    let offset = match s.get(at) {
        None => 0,
        Some(b'Z') if at + 1 == s.len() => 0,
        Some(&c @ (b'+' | b'-')) if at + 5 == s.len() => {
            let o = digits(s, at + 1, 2)? * 3600 + digits(s, at + 3, 2)? * 60;
            if c == b'+' {
                o
            } else {
                -o
            }
        }
        _ => return Err(X509Error::BadTime),
    };
    if !(1..=12).contains(&month) || !(1..=31).contains(&day) || hour > 23 || min > 59 || sec > 60 {
        return Err(X509Error::BadTime);
    }
    Ok(days_from_civil(year, month, day) * 86_400 + hour * 3600 + min * 60 + sec - offset)
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;

    /// DER TLV with a definite length.
    pub(crate) fn tlv(tag: u8, content: &[u8]) -> Vec<u8> {
        let mut v = vec![tag];
        let n = content.len();
        if n < 0x80 {
            v.push(n as u8);
        } else if n < 0x100 {
            v.extend_from_slice(&[0x81, n as u8]);
        } else {
            v.extend_from_slice(&[0x82, (n >> 8) as u8, n as u8]);
        }
        v.extend_from_slice(content);
        v
    }

    pub(crate) fn atv(oid: &[u8], tag: u8, val: &[u8]) -> Vec<u8> {
        let mut c = tlv(0x06, oid);
        c.extend(tlv(tag, val));
        tlv(0x30, &c)
    }

    pub(crate) fn rdn(atvs: &[Vec<u8>]) -> Vec<u8> {
        tlv(0x31, &atvs.concat())
    }

    pub(crate) fn name(rdns: &[Vec<u8>]) -> Vec<u8> {
        tlv(0x30, &rdns.concat())
    }

    pub(crate) const CN: &[u8] = &[0x55, 0x04, 0x03];
    pub(crate) const O: &[u8] = &[0x55, 0x04, 0x0a];
    pub(crate) const C: &[u8] = &[0x55, 0x04, 0x06];

    /// A structurally valid v3 certificate with the given names, times and SAN names.
    pub(crate) fn make_cert(
        serial: &[u8],
        issuer: &[u8],
        subject: &[u8],
        nb: (u8, &[u8]),
        na: (u8, &[u8]),
        san: &[&str],
    ) -> Vec<u8> {
        let mut tbs = tlv(0xa0, &tlv(0x02, &[2]));
        tbs.extend(tlv(0x02, serial));
        tbs.extend(tlv(
            0x30,
            &tlv(0x06, &[0x2a, 0x86, 0x48, 0x86, 0xf7, 0x0d, 1, 1, 11]),
        ));
        tbs.extend_from_slice(issuer);
        let mut val = tlv(nb.0, nb.1);
        val.extend(tlv(na.0, na.1));
        tbs.extend(tlv(0x30, &val));
        tbs.extend_from_slice(subject);
        tbs.extend(tlv(0x30, &[0x30, 0x00, 0x03, 0x01, 0x00]));
        if !san.is_empty() {
            let gns: Vec<u8> = san.iter().flat_map(|n| tlv(0x82, n.as_bytes())).collect();
            let mut ext = tlv(0x06, &[0x55, 0x1d, 0x11]);
            ext.extend(tlv(0x04, &tlv(0x30, &gns)));
            // an unrelated extension first, with the critical flag
            let mut bc = tlv(0x06, &[0x55, 0x1d, 0x13]);
            bc.extend(tlv(0x01, &[0xff]));
            bc.extend(tlv(0x04, &[0x30, 0x00]));
            let exts = [tlv(0x30, &bc), tlv(0x30, &ext)].concat();
            tbs.extend(tlv(0xa3, &tlv(0x30, &exts)));
        }
        let mut cert = tlv(0x30, &tbs);
        cert.extend(tlv(
            0x30,
            &tlv(0x06, &[0x2a, 0x86, 0x48, 0x86, 0xf7, 0x0d, 1, 1, 11]),
        ));
        cert.extend(tlv(0x03, &[0x00, 0xaa]));
        tlv(0x30, &cert)
    }

    fn parse(der: &[u8]) -> Result<CertInfo, X509Error> {
        let mut c = CertInfo::default();
        parse_certificate_into(der, &mut c).map(|()| c)
    }

    #[test]
    fn lets_encrypt_like_names_and_times() {
        let issuer = name(&[
            rdn(&[atv(C, 0x13, b"US")]),
            rdn(&[atv(O, 0x13, b"Let's Encrypt")]),
            rdn(&[atv(CN, 0x13, b"R3")]),
        ]);
        let subject = name(&[rdn(&[atv(CN, 0x0c, b"example.org")])]);
        let der = make_cert(
            &[0x00, 0xab, 0x01],
            &issuer,
            &subject,
            (0x17, b"210101000000Z"),
            (0x18, b"20500101120000Z"),
            &["example.org", "www.example.org"],
        );
        let c = parse(&der).expect("parses");
        assert!(c.parsed);
        assert_eq!(c.version, 3);
        assert_eq!(c.issuer, "C=US, O=Let's Encrypt, CN=R3");
        assert_eq!(c.issuer_zeek, "CN=R3,O=Let's Encrypt,C=US");
        assert_eq!(c.subject, "CN=example.org");
        assert_eq!(c.subject_zeek, "CN=example.org");
        assert_eq!(c.serial, "00:AB:01");
        assert_eq!(c.serial_zeek, "AB01");
        assert_eq!(c.not_before, 1_609_459_200);
        assert_eq!(c.not_after, 2_524_651_200);
        assert_eq!(c.san_dns, vec!["example.org", "www.example.org"]);
        assert_eq!(c.sha1_fingerprint.len(), 59);
        assert_eq!(c.sha256_fingerprint.len(), 64);
    }

    #[test]
    fn utc_time_fifty_year_rule_and_offsets() {
        let t = |tag: u8, s: &[u8]| {
            parse_time(Tlv {
                tag,
                content: s,
                raw: s,
            })
        };
        assert_eq!(t(0x17, b"491231235959Z"), Ok(2_524_607_999));
        assert_eq!(t(0x17, b"500101000000Z"), Ok(-631_152_000));
        assert_eq!(t(0x17, b"7001010000Z"), Ok(0));
        assert_eq!(t(0x17, b"700101010000+0100"), Ok(0));
        assert_eq!(t(0x18, b"19700101000000.123Z"), Ok(0));
        assert_eq!(t(0x18, b"20380119031408Z"), Ok(2_147_483_648));
        assert_eq!(t(0x17, b"701301000000Z"), Err(X509Error::BadTime));
        assert_eq!(t(0x17, b"70010100000xZ"), Err(X509Error::BadTime));
        assert_eq!(t(0x17, b"700101000000Zjunk"), Err(X509Error::BadTime));
        assert_eq!(
            t(0x02, b"700101000000Z"),
            Err(X509Error::UnexpectedTag("Time"))
        );
    }

    #[test]
    fn escaping_multivalued_rdn_and_string_types() {
        let subject = name(&[
            rdn(&[atv(CN, 0x0c, b" a,b+c "), atv(O, 0x13, b"#x")]),
            // BMPString "é€"
            rdn(&[atv(O, 0x1e, &[0x00, 0xe9, 0x20, 0xac])]),
            // T61String latin-1 "é"
            rdn(&[atv(&[0x55, 0x04, 0x07], 0x14, &[0xe9])]),
            // UniversalString "A"
            rdn(&[atv(&[0x55, 0x04, 0x08], 0x1c, &[0, 0, 0, 0x41])]),
            // unknown OID 1.2.3.4 with a UTF8String
            rdn(&[atv(&[0x2a, 0x03, 0x04], 0x0c, b"v")]),
            // known type with a non-string value (INTEGER 5)
            rdn(&[atv(&[0x55, 0x04, 0x05], 0x02, &[0x05])]),
            rdn(&[atv(
                &[0x2a, 0x86, 0x48, 0x86, 0xf7, 0x0d, 1, 9, 1],
                0x16,
                b"a@b\x01",
            )]),
        ]);
        let der = make_cert(
            &[1],
            &name(&[]),
            &subject,
            (0x17, b"210101000000Z"),
            (0x17, b"220101000000Z"),
            &[],
        );
        let c = parse(&der).expect("parses");
        assert_eq!(
            c.subject,
            "CN= a,b+c  + O=#x, O=é€, L=é, ST=A, 1.2.3.4=v, serialNumber=05, emailAddress=a@b\u{1}"
        );
        assert_eq!(
            c.subject_zeek,
            "emailAddress=a@b\\01,serialNumber=#020105,1.2.3.4=#0C0176,ST=A,L=\\C3\\A9,\
             O=\\C3\\A9\\E2\\82\\AC,O=\\#x+CN=\\ a\\,b\\+c\\ "
        );
        assert_eq!(c.issuer, "");
        assert_eq!(c.issuer_zeek, "");
        assert!(c.san_dns.is_empty());
        assert_eq!(c.version, 3);
    }

    #[test]
    fn dotted_oids() {
        let mut s = String::new();
        push_dotted_oid(&mut s, &[0x2a, 0x86, 0x48, 0x86, 0xf7, 0x0d, 0x01]);
        assert_eq!(s, "1.2.840.113549.1");
        s.clear();
        push_dotted_oid(&mut s, &[0x88, 0x37, 0x03]);
        assert_eq!(s, "2.999.3");
        s.clear();
        push_dotted_oid(&mut s, &[0x2a, 0x86]);
        assert_eq!(s, "1.2.?");
        s.clear();
        push_dotted_oid(&mut s, &[0xff; 12]);
        assert_eq!(s, "?");
    }

    #[test]
    fn der_errors() {
        assert_eq!(parse(&[]).err(), Some(X509Error::Truncated));
        assert_eq!(parse(&[0x30, 0x80, 0, 0]).err(), Some(X509Error::BadLength));
        assert_eq!(
            parse(&[0x30, 0x85, 1, 1, 1, 1, 1]).err(),
            Some(X509Error::BadLength)
        );
        assert_eq!(
            parse(&[0x3f, 0x01, 0]).err(),
            Some(X509Error::HighTagNumber)
        );
        assert_eq!(parse(&[0x30, 0x05, 0x30]).err(), Some(X509Error::Truncated));
        assert_eq!(
            parse(&[0x31, 0x00]).err(),
            Some(X509Error::UnexpectedTag("Certificate"))
        );
        assert_eq!(
            parse(&[0x30, 0x02, 0x02, 0x00]).err(),
            Some(X509Error::UnexpectedTag("tbsCertificate"))
        );
        // fingerprint is set even when the DER is bad
        let mut c = CertInfo::default();
        assert!(parse_certificate_into(&[1, 2, 3], &mut c).is_err());
        assert!(!c.parsed);
        assert_eq!(
            c.sha1_fingerprint,
            "70:37:80:71:98:c2:2a:7d:2b:08:07:37:1d:76:37:79:a8:4f:df:cf"
        );
        // every prefix of a valid certificate fails cleanly
        let der = make_cert(
            &[1],
            &name(&[rdn(&[atv(CN, 0x13, b"x")])]),
            &name(&[]),
            (0x17, b"210101000000Z"),
            (0x17, b"220101000000Z"),
            &["a"],
        );
        assert!(parse(&der).is_ok());
        for n in 0..der.len() {
            assert!(parse(&der[..n]).is_err(), "prefix {n}");
        }
        for x in 0..=255u8 {
            for i in 0..der.len() {
                let mut d = der.clone();
                d[i] ^= x;
                let _ = parse(&d);
            }
        }
    }

    #[test]
    fn error_display() {
        assert_eq!(
            X509Error::UnexpectedTag("issuer").to_string(),
            "unexpected DER tag reading issuer"
        );
        assert!(!X509Error::Truncated.to_string().is_empty());
        assert!(!X509Error::BadLength.to_string().is_empty());
        assert!(!X509Error::HighTagNumber.to_string().is_empty());
        assert!(!X509Error::BadTime.to_string().is_empty());
    }
}
