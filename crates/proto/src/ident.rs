//! Port-independent protocol identification from a flow's first payload bytes.
//!
//! Method. Each known protocol has a signature on the first bytes a side sends, checked in
//! either direction (the server may speak first, as in SSH):
//! - HTTP: a request line (`METHOD SP`, method from the RFC 9110 / WebDAV registry) from the
//!   client, or `HTTP/1.` from the server;
//! - TLS: a handshake record header (type 22, version 3.0–3.4, length up to 2^14 + 2048)
//!   whose first message is a ClientHello or ServerHello; an SSLv2-compatible ClientHello;
//! - SSH: `SSH-` at the start of the stream;
//! - DNS over TCP: port 53 and a length-prefixed message whose header is plausible;
//! - DNS over UDP: port 53 (DNS), 5353 (mDNS) or 5355 (LLMNR) with a plausible header, or any
//!   port when the datagram is a complete, strictly well-formed single-question query;
//! - DHCP: UDP port 67/68 with the BOOTP magic cookie.
//!
//! A guess needs at most the first 8 bytes for TCP signatures; fewer bytes answer
//! [`Guess::NeedMore`], and the engine gives up after a few kilobytes or packets.

use crate::Dir;

/// The outcome of looking at some bytes.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Guess {
    Http,
    Tls,
    Ssh,
    Dns,
    Dhcp,
    /// Too few bytes to tell.
    NeedMore,
    /// None of the known protocols.
    Unknown,
}

const METHODS: &[&[u8]] = &[
    b"GET",
    b"POST",
    b"HEAD",
    b"PUT",
    b"DELETE",
    b"OPTIONS",
    b"CONNECT",
    b"TRACE",
    b"PATCH",
    b"PROPFIND",
    b"PROPPATCH",
    b"MKCOL",
    b"COPY",
    b"MOVE",
    b"LOCK",
    b"UNLOCK",
    b"SEARCH",
    b"REPORT",
    b"MKACTIVITY",
    b"CHECKOUT",
    b"MERGE",
    b"M-SEARCH",
    b"NOTIFY",
    b"SUBSCRIBE",
    b"UNSUBSCRIBE",
    b"PURGE",
    b"LINK",
    b"UNLINK",
    b"BIND",
    b"REBIND",
    b"UNBIND",
    b"ACL",
    b"MKCALENDAR",
    b"VERSION-CONTROL",
    b"BASELINE-CONTROL",
    b"MKWORKSPACE",
    b"UPDATE",
    b"LABEL",
    b"ORDERPATCH",
    b"QUERY",
];

/// Identifies a TCP stream from the first bytes one side sent.
pub fn tcp(dir: Dir, first: &[u8], ports: (u16, u16)) -> Guess {
    if first.is_empty() {
        return Guess::NeedMore;
    }
    if let g @ (Guess::Ssh | Guess::NeedMore) = prefix(first, b"SSH-", Guess::Ssh) {
        return g;
    }
    match tls(first) {
        Guess::Unknown => {}
        g => return g,
    }
    match dir {
        Dir::ToServer => match http_request(first) {
            Guess::Unknown => {}
            g => return g,
        },
        Dir::ToClient => match prefix(first, b"HTTP/1.", Guess::Http) {
            Guess::Unknown => {}
            g => return g,
        },
    }
    if ports.0 == 53 || ports.1 == 53 {
        if first.len() < 14 {
            return Guess::NeedMore;
        }
        let len = u16::from_be_bytes([first[0], first[1]]) as usize;
        if len >= 12 && dns_header_plausible(&first[2..]) {
            return Guess::Dns;
        }
    }
    Guess::Unknown
}

/// Identifies a UDP flow from one datagram.
pub fn udp(payload: &[u8], ports: (u16, u16)) -> Guess {
    let has = |p: u16| ports.0 == p || ports.1 == p;
    if (has(67) || has(68)) && payload.get(236..240) == Some(&[99, 130, 83, 99][..]) {
        return Guess::Dhcp;
    }
    if (has(53) || has(5353) || has(5355)) && dns_header_plausible(payload) {
        return Guess::Dns;
    }
    if strict_dns_query(payload) {
        return Guess::Dns;
    }
    Guess::Unknown
}

/// `Ssh` (or `what`) if `first` starts with `sig`, `NeedMore` if it is a prefix of it.
fn prefix(first: &[u8], sig: &[u8], what: Guess) -> Guess {
    let n = first.len().min(sig.len());
    if first[..n] != sig[..n] {
        Guess::Unknown
    } else if n < sig.len() {
        Guess::NeedMore
    } else {
        what
    }
}

fn http_request(first: &[u8]) -> Guess {
    let mut need_more = false;
    for m in METHODS {
        let n = first.len().min(m.len());
        if first[..n] != m[..n] {
            continue;
        }
        if first.len() <= m.len() {
            need_more = true;
            continue;
        }
        if first[m.len()] != b' ' {
            continue;
        }
        // The request-target: origin form (`/`), asterisk, absolute http(s) URI, or CONNECT's
        // authority. SIP (`sip:`), RTSP (`rtsp://`) and others share method names, not targets.
        let target = &first[m.len() + 1..];
        if *m == b"CONNECT" {
            return Guess::Http;
        }
        match target.first() {
            None => need_more = true,
            Some(b'/') | Some(b'*') => return Guess::Http,
            Some(b'h') | Some(b'H') => {
                for scheme in [&b"http://"[..], b"https://"] {
                    let k = target.len().min(scheme.len());
                    if target[..k].eq_ignore_ascii_case(&scheme[..k]) {
                        if k == scheme.len() {
                            return Guess::Http;
                        }
                        need_more = true;
                    }
                }
            }
            Some(_) => {}
        }
    }
    if need_more {
        Guess::NeedMore
    } else {
        Guess::Unknown
    }
}

/// A TLS handshake record carrying a ClientHello or ServerHello, or an SSLv2 ClientHello.
pub fn tls(first: &[u8]) -> Guess {
    let Some(&b0) = first.first() else {
        return Guess::NeedMore;
    };
    if b0 == 0x16 {
        if first.len() < 6 {
            return Guess::NeedMore;
        }
        let version_ok = first[1] == 3 && first[2] <= 4;
        let len = u16::from_be_bytes([first[3], first[4]]) as usize;
        if version_ok && (4..=(1 << 14) + 2048).contains(&len) && matches!(first[5], 1 | 2) {
            return Guess::Tls;
        }
        return Guess::Unknown;
    }
    // SSLv2-compatible ClientHello: 2-byte length with the top bit set, msg type 1, version.
    if b0 & 0x80 != 0 {
        if first.len() < 5 {
            return Guess::NeedMore;
        }
        let len = (u16::from_be_bytes([b0 & 0x7f, first[1]])) as usize;
        if first[2] == 1 && first[3] <= 3 && (first[3] == 0 || first[3] == 3) && len >= 9 {
            return Guess::Tls;
        }
    }
    Guess::Unknown
}

/// A DNS header with sane counts (not a proof, a filter for the DNS ports).
fn dns_header_plausible(m: &[u8]) -> bool {
    if m.len() < 12 {
        return false;
    }
    let flags = u16::from_be_bytes([m[2], m[3]]);
    let opcode = (flags >> 11) & 0xf;
    let qd = u16::from_be_bytes([m[4], m[5]]);
    let an = u16::from_be_bytes([m[6], m[7]]);
    let ns = u16::from_be_bytes([m[8], m[9]]);
    let ar = u16::from_be_bytes([m[10], m[11]]);
    let records = u32::from(qd) + u32::from(an) + u32::from(ns) + u32::from(ar);
    // Each question takes at least 5 bytes and each record at least 11.
    let min = 12 + 5 * u32::from(qd) + 11 * (u32::from(an) + u32::from(ns) + u32::from(ar));
    opcode <= 6 && records > 0 && (min as usize) <= m.len().max(512)
}

/// A complete DNS query (QR = 0, opcode 0, one question, no answers) whose name is made of
/// letters, digits, hyphens and underscores, ending exactly at the datagram's end (or followed
/// only by an EDNS0 OPT record).
fn strict_dns_query(m: &[u8]) -> bool {
    if m.len() < 17 || m.len() > 512 {
        return false;
    }
    let flags = u16::from_be_bytes([m[2], m[3]]);
    let qd = u16::from_be_bytes([m[4], m[5]]);
    let an = u16::from_be_bytes([m[6], m[7]]);
    let ns = u16::from_be_bytes([m[8], m[9]]);
    let ar = u16::from_be_bytes([m[10], m[11]]);
    if flags & 0x8000 != 0 || (flags >> 11) & 0xf != 0 || flags & 0x000f != 0 {
        return false;
    }
    if qd != 1 || an != 0 || ns != 0 || ar > 1 {
        return false;
    }
    let mut p = 12;
    let mut labels = 0;
    loop {
        let Some(&len) = m.get(p) else {
            return false;
        };
        p += 1;
        if len == 0 {
            break;
        }
        if len > 63 {
            return false;
        }
        let Some(label) = m.get(p..p + len as usize) else {
            return false;
        };
        if !label
            .iter()
            .all(|&b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
        {
            return false;
        }
        p += len as usize;
        labels += 1;
    }
    let Some(tc) = m.get(p..p + 4) else {
        return false;
    };
    let class = u16::from_be_bytes([tc[2], tc[3]]);
    p += 4;
    let opt_ok = match ar {
        0 => p == m.len(),
        // Root name, type OPT (41), then class, TTL, RDLENGTH and options.
        _ => {
            m.get(p..p + 3) == Some(&[0, 0, 41][..])
                && m.get(p + 9..p + 11)
                    .is_some_and(|l| p + 11 + u16::from_be_bytes([l[0], l[1]]) as usize == m.len())
        }
    };
    labels >= 2 && (class == 1 || class == 255) && opt_ok
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tcp_signatures() {
        assert_eq!(
            tcp(Dir::ToServer, b"GET /x HTTP/1.1\r\n", (1, 8080)),
            Guess::Http
        );
        assert_eq!(
            tcp(Dir::ToServer, b"PROPFIND / HTTP/1.1", (1, 2)),
            Guess::Http
        );
        assert_eq!(tcp(Dir::ToServer, b"GE", (1, 2)), Guess::NeedMore);
        assert_eq!(tcp(Dir::ToServer, b"GETX", (1, 2)), Guess::Unknown);
        assert_eq!(tcp(Dir::ToServer, b"GET ", (1, 2)), Guess::NeedMore);
        assert_eq!(
            tcp(Dir::ToServer, b"GET http://a/ HTTP/1.1", (1, 2)),
            Guess::Http
        );
        assert_eq!(tcp(Dir::ToServer, b"GET htt", (1, 2)), Guess::NeedMore);
        assert_eq!(
            tcp(Dir::ToServer, b"CONNECT a:443 HTTP/1.1", (1, 2)),
            Guess::Http
        );
        assert_eq!(
            tcp(Dir::ToServer, b"OPTIONS * HTTP/1.1", (1, 2)),
            Guess::Http
        );
        // Same method names, other protocols.
        assert_eq!(
            tcp(Dir::ToServer, b"OPTIONS sip:a@b SIP/2.0", (5060, 5060)),
            Guess::Unknown
        );
        assert_eq!(
            tcp(Dir::ToServer, b"NOTIFY sip:a@b SIP/2.0", (5060, 5060)),
            Guess::Unknown
        );
        assert_eq!(
            tcp(Dir::ToServer, b"OPTIONS rtsp://h/ RTSP/1.0", (1, 554)),
            Guess::Unknown
        );
        assert_eq!(tcp(Dir::ToClient, b"HTTP/1.1 200 OK", (1, 2)), Guess::Http);
        assert_eq!(tcp(Dir::ToClient, b"SSH-2.0-x", (1, 2)), Guess::Ssh);
        assert_eq!(tcp(Dir::ToClient, b"SS", (1, 2)), Guess::NeedMore);
        assert_eq!(
            tcp(
                Dir::ToServer,
                &[0x16, 3, 1, 0, 200, 1, 0, 0, 196],
                (1, 9443)
            ),
            Guess::Tls
        );
        assert_eq!(
            tcp(Dir::ToServer, &[0x16, 3, 1, 0, 200, 20], (1, 2)),
            Guess::Unknown
        );
        assert_eq!(
            tcp(Dir::ToServer, &[0x80, 0x2e, 1, 3, 1], (1, 2)),
            Guess::Tls
        );
        assert_eq!(
            tcp(Dir::ToServer, b"\x00\x01binary", (1, 2)),
            Guess::Unknown
        );
        let mut dns = vec![0, 29, 0x12, 0x34, 1, 0, 0, 1, 0, 0, 0, 0, 0, 0];
        dns.extend_from_slice(b"\x07example\x03com\x00\x00\x01\x00\x01");
        assert_eq!(tcp(Dir::ToServer, &dns, (5555, 53)), Guess::Dns);
        assert_eq!(tcp(Dir::ToServer, &dns, (5555, 54)), Guess::Unknown);
    }

    #[test]
    fn udp_signatures() {
        let mut q = vec![0x12, 0x34, 1, 0, 0, 1, 0, 0, 0, 0, 0, 0];
        q.extend_from_slice(b"\x07example\x03com\x00\x00\x01\x00\x01");
        assert_eq!(udp(&q, (40000, 53)), Guess::Dns);
        assert_eq!(udp(&q, (40000, 5300)), Guess::Dns);
        let mut bad = q.clone();
        bad[14] = b'\x01';
        assert_eq!(udp(&bad, (40000, 5300)), Guess::Unknown);
        let mut trailing = q.clone();
        trailing.push(0);
        assert_eq!(udp(&trailing, (40000, 5300)), Guess::Unknown);
        assert_eq!(udp(&[0u8; 40], (40000, 5300)), Guess::Unknown);
        let mut dhcp = vec![0u8; 300];
        dhcp[236..240].copy_from_slice(&[99, 130, 83, 99]);
        assert_eq!(udp(&dhcp, (68, 67)), Guess::Dhcp);
        assert_eq!(udp(&dhcp, (1068, 1067)), Guess::Unknown);
    }
}
