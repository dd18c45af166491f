//! JA3 / JA3S (salesforce/ja3) and JA4 (FoxIO, `technical_details/JA4.md`, TLS-over-TCP
//! part only).
//!
//! JA3 is `SSLVersion,Ciphers,Extensions,EllipticCurves,EllipticCurvePointFormats`: decimal
//! values, lists joined with `-`, GREASE values (RFC 8701) removed from every list, the
//! version being the ClientHello's legacy_version. All five fields are always present, empty
//! ones included (`768,4-5,,,` for a hello without extensions), as tshark's
//! `tls.handshake.ja3_full` prints it. JA3S is `SSLVersion,Cipher,Extensions` of the
//! ServerHello (legacy_version). The hashes are MD5, lower-case hex.
//!
//! JA4 (`t` only) is `a_b_c`: `a` = `t`, two version characters (highest non-GREASE
//! supported_versions value, else legacy_version), `d`/`i` (SNI extension present or not),
//! two-digit cipher and extension counts without GREASE (capped at 99), the first and last
//! characters of the first ALPN value (`00` without one; hex digits of the value when its
//! first or last byte is not alphanumeric); `b` = first 12 hex digits of SHA-256 of the sorted
//! 4-hex-digit cipher list; `c` = the same of the sorted extension list without SNI (0000) and
//! ALPN (0010), followed by `_` and the signature algorithms in their original order (no `_`
//! when there are none). Empty lists give `000000000000`. JA4_r is `a_` + the two unhashed
//! strings.

use std::fmt::Write as _;

use md5::{Digest, Md5};
use sha2::Sha256;

use super::{ClientHello, ServerHello};
use crate::push_hex_lower;

/// True for the GREASE values of RFC 8701 (0x0a0a, 0x1a1a, ..., 0xfafa).
pub fn is_grease(v: u16) -> bool {
    v & 0x0f0f == 0x0a0a && v >> 8 == v & 0xff
}

fn push_dash_list(s: &mut String, vals: impl Iterator<Item = u16>) {
    let mut first = true;
    for v in vals.filter(|&v| !is_grease(v)) {
        if !first {
            s.push('-');
        }
        first = false;
        let _ = write!(s, "{v}");
    }
}

fn md5_hex(out: &mut String, data: &str) {
    out.clear();
    push_hex_lower(out, &Md5::digest(data.as_bytes()));
}

/// Fills `ch.ja3` and `ch.ja3_hash`. With `with_extensions` false the string stops after the
/// cipher field (`771,4865-4866,`), as tshark's does for a hello whose extensions block length
/// does not fit ([`super::HelloError::ExtensionsBlock`]).
pub fn ja3(ch: &mut ClientHello, with_extensions: bool) {
    let s = &mut ch.ja3;
    s.clear();
    let _ = write!(s, "{},", ch.legacy_version);
    push_dash_list(s, ch.ciphers.iter().copied());
    s.push(',');
    if with_extensions {
        push_dash_list(s, ch.extensions.iter().copied());
        s.push(',');
        push_dash_list(s, ch.groups.iter().copied());
        s.push(',');
        push_dash_list(s, ch.point_formats.iter().map(|&p| u16::from(p)));
    }
    md5_hex(&mut ch.ja3_hash, &ch.ja3);
}

/// Fills `sh.ja3s` and `sh.ja3s_hash`.
pub fn ja3s(sh: &mut ServerHello) {
    let s = &mut sh.ja3s;
    s.clear();
    let _ = write!(s, "{},{},", sh.legacy_version, sh.cipher);
    push_dash_list(s, sh.extensions.iter().copied());
    md5_hex(&mut sh.ja3s_hash, &sh.ja3s);
}

/// JA4's two version characters.
fn ja4_version(v: u16) -> &'static str {
    match v {
        0x0304 => "13",
        0x0303 => "12",
        0x0302 => "11",
        0x0301 => "10",
        0x0300 => "s3",
        0x0002 => "s2",
        0xfeff => "d1",
        0xfefd => "d2",
        0xfefc => "d3",
        _ => "00",
    }
}

fn hex_digit(n: u8) -> char {
    char::from(b"0123456789abcdef"[usize::from(n & 0xf)])
}

/// The ALPN characters of JA4_a.
fn push_alpn_chars(s: &mut String, alpn: Option<&[u8]>) {
    let (first, last) = match alpn {
        Some(&[f, .., l]) => (f, l),
        Some(&[x]) => (x, x),
        _ => {
            s.push_str("00");
            return;
        }
    };
    if first.is_ascii_alphanumeric() && last.is_ascii_alphanumeric() {
        s.push(char::from(first));
        s.push(char::from(last));
    } else {
        s.push(hex_digit(first >> 4));
        s.push(hex_digit(last));
    }
}

fn push_hex4_list(s: &mut String, vals: &[u16]) {
    for (i, v) in vals.iter().enumerate() {
        if i > 0 {
            s.push(',');
        }
        let _ = write!(s, "{v:04x}");
    }
}

fn push_hash12(s: &mut String, data: &str) {
    if data.is_empty() {
        s.push_str("000000000000");
        return;
    }
    let d = Sha256::digest(data.as_bytes());
    let start = s.len();
    push_hex_lower(s, d.get(..6).unwrap_or_default());
    debug_assert_eq!(s.len() - start, 12);
}

/// Fills `ch.ja4` and `ch.ja4_r`; `scratch` is a reusable sort buffer.
pub fn ja4(ch: &mut ClientHello, scratch: &mut Vec<u16>) {
    let has_versions = ch.extensions.contains(&0x002b);
    let version = ch
        .versions
        .iter()
        .copied()
        .filter(|&v| !is_grease(v))
        .max()
        .filter(|_| has_versions)
        .unwrap_or(ch.legacy_version);
    let n_ciphers = ch
        .ciphers
        .iter()
        .filter(|&&c| !is_grease(c))
        .count()
        .min(99);
    let n_ext = ch
        .extensions
        .iter()
        .filter(|&&e| !is_grease(e))
        .count()
        .min(99);

    let r = &mut ch.ja4_r;
    r.clear();
    r.push('t');
    r.push_str(ja4_version(version));
    r.push(if ch.extensions.contains(&0x0000) {
        'd'
    } else {
        'i'
    });
    let _ = write!(r, "{n_ciphers:02}{n_ext:02}");
    push_alpn_chars(r, ch.alpn.first().map(Vec::as_slice));
    let a_len = r.len();
    r.push('_');

    scratch.clear();
    scratch.extend(ch.ciphers.iter().copied().filter(|&c| !is_grease(c)));
    scratch.sort_unstable();
    let b_start = r.len();
    push_hex4_list(r, scratch);
    let b_end = r.len();
    r.push('_');

    scratch.clear();
    scratch.extend(
        ch.extensions
            .iter()
            .copied()
            .filter(|&e| !is_grease(e) && e != 0x0000 && e != 0x0010),
    );
    scratch.sort_unstable();
    let c_start = r.len();
    let ext_empty = scratch.is_empty();
    push_hex4_list(r, scratch);
    scratch.clear();
    scratch.extend(ch.sig_algs.iter().copied().filter(|&s| !is_grease(s)));
    if !scratch.is_empty() {
        r.push('_');
        push_hex4_list(r, scratch);
    }

    let j = &mut ch.ja4;
    j.clear();
    j.push_str(r.get(..a_len).unwrap_or_default());
    j.push('_');
    push_hash12(j, r.get(b_start..b_end).unwrap_or_default());
    j.push('_');
    if ext_empty {
        j.push_str("000000000000");
    } else {
        push_hash12(j, r.get(c_start..).unwrap_or_default());
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn grease_values() {
        let g: Vec<u16> = (0..=0xffffu16).filter(|&v| is_grease(v)).collect();
        assert_eq!(g.len(), 16);
        assert_eq!(g[0], 0x0a0a);
        assert_eq!(g[15], 0xfafa);
        assert!(!is_grease(0x0a1a));
    }

    /// The example of JA4.md: ciphers, extensions and signature algorithms of a Chrome hello.
    fn spec_example() -> ClientHello {
        ClientHello {
            legacy_version: 0x0303,
            versions: vec![0x2a2a, 0x0304, 0x0303],
            ciphers: vec![
                0x1301, 0x1302, 0x1303, 0xc02b, 0xc02f, 0xc02c, 0xc030, 0xcca9, 0xcca8, 0xc013,
                0xc014, 0x009c, 0x009d, 0x002f, 0x0035,
            ],
            extensions: vec![
                0x001b, 0x0000, 0x0033, 0x0010, 0x4469, 0x0017, 0x002d, 0x000d, 0x0005, 0x0023,
                0x0012, 0x002b, 0xff01, 0x000b, 0x000a, 0x0015,
            ],
            alpn: vec![b"h2".to_vec(), b"http/1.1".to_vec()],
            sig_algs: vec![
                0x0403, 0x0804, 0x0401, 0x0503, 0x0805, 0x0501, 0x0806, 0x0601,
            ],
            ..ClientHello::default()
        }
    }

    #[test]
    fn ja4_spec_example() {
        let mut ch = spec_example();
        ja4(&mut ch, &mut Vec::new());
        assert_eq!(ch.ja4, "t13d1516h2_8daaf6152771_e5627efa2ab1");
        assert_eq!(
            ch.ja4_r,
            "t13d1516h2_002f,0035,009c,009d,1301,1302,1303,c013,c014,c02b,c02c,c02f,c030,cca8,\
             cca9_0005,000a,000b,000d,0012,0015,0017,001b,0023,002b,002d,0033,4469,ff01_0403,\
             0804,0401,0503,0805,0501,0806,0601"
        );
        // GREASE anywhere changes nothing
        ch.ciphers.insert(0, 0x3a3a);
        ch.extensions.insert(0, 0xdada);
        ch.extensions.push(0x1a1a);
        ch.sig_algs.insert(2, 0x7a7a);
        ja4(&mut ch, &mut Vec::new());
        assert_eq!(ch.ja4, "t13d1516h2_8daaf6152771_e5627efa2ab1");
    }

    #[test]
    fn ja4_spec_no_signature_algorithms() {
        // "If there are no signature algorithms in the hello packet, then the string ends
        // without an underscore and is hashed ... = 6d807ffa2a79"
        let mut ch = spec_example();
        ch.sig_algs.clear();
        ja4(&mut ch, &mut Vec::new());
        assert_eq!(ch.ja4, "t13d1516h2_8daaf6152771_6d807ffa2a79");
        assert!(ch
            .ja4_r
            .ends_with("_0005,000a,000b,000d,0012,0015,0017,001b,0023,002b,002d,0033,4469,ff01"));
    }

    #[test]
    fn ja4_empty_lists_and_versions() {
        let mut ch = ClientHello {
            legacy_version: 0x0300,
            ..ClientHello::default()
        };
        ja4(&mut ch, &mut Vec::new());
        assert_eq!(ch.ja4, "ts3i000000_000000000000_000000000000");
        assert_eq!(ch.ja4_r, "ts3i000000__");
        // supported_versions present: the highest non-GREASE value wins; a draft is "00"
        ch.extensions = vec![0x002b];
        ch.versions = vec![0x7f12, 0x0303];
        ja4(&mut ch, &mut Vec::new());
        assert!(ch.ja4.starts_with("t00i0001"), "{}", ch.ja4);
        // the extension without a usable value falls back to legacy_version
        ch.versions = vec![0xeaea];
        ch.legacy_version = 0x0301;
        ja4(&mut ch, &mut Vec::new());
        assert!(ch.ja4.starts_with("t10i0001"), "{}", ch.ja4);
        // versions listed without the extension are ignored
        ch.extensions.clear();
        ch.versions = vec![0x0304];
        ja4(&mut ch, &mut Vec::new());
        assert!(ch.ja4.starts_with("t10i0000"), "{}", ch.ja4);
        for (v, s) in [
            (0x0002, "s2"),
            (0xfeff, "d1"),
            (0xfefd, "d2"),
            (0xfefc, "d3"),
            (0x0302, "11"),
        ] {
            assert_eq!(ja4_version(v), s);
        }
    }

    #[test]
    fn ja4_counts_cap_at_99() {
        let mut ch = ClientHello {
            legacy_version: 0x0303,
            ciphers: (1..=150).collect(),
            extensions: (100..=250).collect(),
            ..ClientHello::default()
        };
        ja4(&mut ch, &mut Vec::new());
        assert!(ch.ja4.starts_with("t12i999900_"), "{}", ch.ja4);
    }

    #[test]
    fn ja4_alpn_rules() {
        let mut s = String::new();
        let mut t = |v: Option<&[u8]>| {
            s.clear();
            push_alpn_chars(&mut s, v);
            s.clone()
        };
        assert_eq!(t(Some(b"h2")), "h2");
        assert_eq!(t(Some(b"http/1.1")), "h1");
        assert_eq!(t(Some(b"h")), "hh");
        assert_eq!(t(Some(b"")), "00");
        assert_eq!(t(None), "00");
        // the spec's examples for non-alphanumeric bytes
        assert_eq!(t(Some(&[0xab])), "ab");
        assert_eq!(t(Some(&[0xab, 0xcd])), "ad");
        assert_eq!(t(Some(&[0x30, 0xab])), "3b");
        assert_eq!(t(Some(&[0x30, 0x31, 0xab, 0xcd])), "3d");
        assert_eq!(t(Some(&[0x30, 0xab, 0xcd, 0x31])), "01");
    }

    #[test]
    fn ja3_strings() {
        let mut ch = ClientHello {
            legacy_version: 769,
            ciphers: vec![0x0a0a, 4, 5, 10],
            extensions: vec![0x2a2a, 0, 10, 11],
            groups: vec![0x5a5a, 23, 24],
            point_formats: vec![0],
            ..ClientHello::default()
        };
        ja3(&mut ch, true);
        assert_eq!(ch.ja3, "769,4-5-10,0-10-11,23-24,0");
        assert_eq!(ch.ja3_hash.len(), 32);
        let mut c2 = ClientHello {
            legacy_version: 768,
            ciphers: vec![4, 5],
            ..ClientHello::default()
        };
        ja3(&mut c2, true);
        assert_eq!(c2.ja3, "768,4-5,,,");
        ja3(&mut c2, false);
        assert_eq!(c2.ja3, "768,4-5,");
        ja3(&mut c2, true);
        assert_eq!(c2.ja3, "768,4-5,,,");
        // md5("768,4-5,,,")
        assert_eq!(c2.ja3_hash, format!("{:x}", Md5::digest(b"768,4-5,,,")));
        let mut sh = ServerHello {
            legacy_version: 771,
            cipher: 49199,
            extensions: vec![65281, 11, 35],
            ..ServerHello::default()
        };
        ja3s(&mut sh);
        assert_eq!(sh.ja3s, "771,49199,65281-11-35");
        // the value Arkime's openssl-tls1_2.test expects for this ServerHello
        assert_eq!(sh.ja3s_hash, "ccc514751b175866924439bdbb5bba34");
        sh.extensions.clear();
        ja3s(&mut sh);
        assert_eq!(sh.ja3s, "771,49199,");
    }
}
