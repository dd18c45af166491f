//! Port-independent protocol identification from a flow's first payload bytes.
//!
//! Method. Each known protocol has a signature on the first bytes a side sends, checked in
//! either direction (the server may speak first, as in SSH):
//! - HTTP: a request line (`METHOD SP target`, method from the RFC 9110 / WebDAV registry and
//!   a few more, target not a SIP/RTSP URI) or `HTTP/1.` — from either side: a capture that
//!   starts with the server's bytes makes the server the flow's originator, and
//!   [`tcp_oriented`] says so;
//! - TLS: a handshake record header (type 22, version 3.0–3.4, length up to 2^14 + 2048)
//!   whose first message is a ClientHello or ServerHello; an SSLv2-compatible ClientHello;
//! - SSH: `SSH-` at the start of the stream;
//! - SOCKS: a SOCKS 4/4a request or a SOCKS 5 greeting that is well-formed in every octet (see
//!   [`crate::socks::looks_like_client`]), from either side; the SOCKS parser then checks the
//!   proxy's answer and gives up on the flow when it is not SOCKS;
//! - SMTP, FTP, IMAP, POP3, PostgreSQL, MySQL and LDAP: a server greeting, an SMTP
//!   `EHLO`/`HELO`, a PostgreSQL client's first message or an LDAP message (see
//!   [`crate::starttls::looks_like`]), from either side; the parser follows them to a switch
//!   to TLS;
//! - DNS over TCP: port 53 (as tshark: whatever is framed there is DNS; the parser counts what
//!   is malformed);
//! - DNS over UDP: port 53 (DNS), 5353 (mDNS) or 5355 (LLMNR) with at least a header's 12
//!   bytes, or any port when the datagram is a complete, strictly well-formed single-question
//!   query;
//! - DHCP: UDP port 67/68 with the BOOTP magic cookie.
//!
//! A guess needs at most the first 17 bytes for the HTTP, TLS and SSH signatures and 64 for
//! SOCKS 4's NUL-terminated strings ([`crate::socks::SIGNATURE_BYTES`]) and a greeting's
//! line ([`crate::starttls::SIGNATURE_BYTES`]); fewer bytes answer
//! [`Guess::NeedMore`], and the engine gives up after a few kilobytes or packets.

use crate::starttls::{self, Dialect, Signature};
use crate::Dir;

/// The outcome of looking at some bytes.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Guess {
    Http,
    Tls,
    Ssh,
    /// A SOCKS 4/4a/5 client's first message ([`crate::socks::looks_like_client`]).
    Socks,
    /// A cleartext protocol that can switch to TLS ([`crate::starttls::looks_like`]).
    StartTls(Dialect),
    /// An OpenVPN client's hard reset over TCP ([`crate::openvpn::looks_like_client`]).
    OpenVpn,
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
    b"RPC_IN_DATA",
    b"RPC_OUT_DATA",
];

/// Identifies a TCP stream from the first bytes one side sent.
pub fn tcp(dir: Dir, first: &[u8], ports: (u16, u16)) -> Guess {
    tcp_oriented(dir, first, ports).0
}

/// Like [`tcp`], and also says whether the bytes came from the side that is the server of
/// the protocol although the flow took it for the client (or the reverse): a capture that
/// starts mid-connection with the server's data makes the server the flow's originator.
/// HTTP (a request from the "server" side, a status line from the "client" side) and TLS (a
/// ClientHello from the "server", a ServerHello from the "client") tell.
pub fn tcp_oriented(dir: Dir, first: &[u8], ports: (u16, u16)) -> (Guess, bool) {
    if first.is_empty() {
        return (Guess::NeedMore, false);
    }
    if let g @ (Guess::Ssh | Guess::NeedMore) = prefix(first, b"SSH-", Guess::Ssh) {
        return (g, false);
    }
    match tls(first) {
        Guess::Unknown => {}
        Guess::Tls => {
            // Handshake type at byte 5 of a record; SSLv2 hellos are always ClientHellos.
            let server_hello = first[0] == 0x16 && first.get(5) == Some(&2);
            let reversed = (dir == Dir::ToServer) == server_hello;
            return (Guess::Tls, reversed);
        }
        g => return (g, false),
    }
    let req = http_request(first);
    let resp = prefix(first, b"HTTP/1.", Guess::Http);
    match (req, resp) {
        (Guess::Http, _) => return (Guess::Http, dir == Dir::ToClient),
        (_, Guess::Http) => return (Guess::Http, dir == Dir::ToServer),
        (Guess::NeedMore, _) | (_, Guess::NeedMore) => return (Guess::NeedMore, false),
        _ => {}
    }
    if ports.0 == 53 || ports.1 == 53 {
        // Like tshark, anything framed on port 53 is DNS; the parser reports malformed
        // messages.
        if first.len() < 2 {
            return (Guess::NeedMore, false);
        }
        return (Guess::Dns, false);
    }
    let starttls = starttls::looks_like(first, ports);
    if let Signature::Yes(d, from_server) = starttls {
        // Reversed when the protocol's server is the flow's originator.
        return (Guess::StartTls(d), from_server == (dir == Dir::ToServer));
    }
    let openvpn = crate::openvpn::looks_like_client(first, ports);
    if openvpn == Some(true) {
        return (Guess::OpenVpn, dir == Dir::ToClient);
    }
    match crate::socks::looks_like_client(first) {
        // The SOCKS client is the side that sent this (a reverse proxy connection makes the
        // flow's responder the client). A complete SOCKS 5 greeting decides even where a
        // MySQL greeting's first octets could still follow (`05 01 00`).
        Some(true) => (Guess::Socks, dir == Dir::ToClient),
        _ if starttls == Signature::NeedMore || openvpn.is_none() => (Guess::NeedMore, false),
        Some(false) => (Guess::Unknown, false),
        None => (Guess::NeedMore, false),
    }
}

/// Identifies a UDP flow from one datagram.
pub fn udp(payload: &[u8], ports: (u16, u16)) -> Guess {
    let has = |p: u16| ports.0 == p || ports.1 == p;
    if (has(67) || has(68)) && payload.get(236..240) == Some(&[99, 130, 83, 99][..]) {
        return Guess::Dhcp;
    }
    // On the DNS ports any datagram that can hold a header is DNS (tshark's rule); the parser
    // counts what is malformed.
    if (has(53) || has(5353) || has(5355)) && payload.len() >= 12 {
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
        // The request-target, after any run of spaces. Anything is accepted except the schemes
        // of protocols that share HTTP's method names (SIP, RTSP), and for CONNECT anything
        // that cannot be an authority (NATS' `CONNECT {json}`).
        let rest = &first[m.len()..];
        let Some(start) = rest.iter().position(|&b| b != b' ') else {
            need_more = true;
            continue;
        };
        let target = &rest[start..];
        if *m == b"CONNECT" {
            if target[0] == b'{' {
                continue;
            }
            return Guess::Http;
        }
        let mut other = false;
        for scheme in [
            &b"sip:"[..],
            b"sips:",
            b"tel:",
            b"rtsp:",
            b"rtspu:",
            b"rtsps:",
        ] {
            let k = target.len().min(scheme.len());
            if target[..k].eq_ignore_ascii_case(&scheme[..k]) {
                if k < scheme.len() {
                    need_more = true;
                }
                other = true;
            }
        }
        if !other {
            return Guess::Http;
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

/// A complete DNS query (QR = 0, opcode 0, one question, no answers) whose name is made of
/// letters, digits, hyphens and underscores (at most 255 octets), ending exactly at the
/// datagram's end, or followed only by one additional record with the root name that ends
/// exactly there: an EDNS0 OPT record (type 41), or the type-0 padding record with which
/// DNSCrypt v1 clients pad their plain-DNS certificate queries (sent to the resolver's port,
/// usually 443) to 512 bytes and more.
fn strict_dns_query(m: &[u8]) -> bool {
    if m.len() < 17 {
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
    if p - 12 > 255 {
        return false;
    }
    let Some(tc) = m.get(p..p + 4) else {
        return false;
    };
    let class = u16::from_be_bytes([tc[2], tc[3]]);
    p += 4;
    let opt_ok = match ar {
        0 => p == m.len(),
        // Root name, type OPT (41) or 0 (padding), then class, TTL, RDLENGTH and its data.
        _ => {
            (m.get(p..p + 3) == Some(&[0, 0, 41][..]) || m.get(p..p + 3) == Some(&[0, 0, 0][..]))
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
        assert_eq!(
            tcp(Dir::ToServer, b"GET       /x HTTP/1.1", (1, 2)),
            Guess::Http
        );
        assert_eq!(tcp(Dir::ToServer, b"GET . HTTP/1.1", (1, 2)), Guess::Http);
        assert_eq!(
            tcp(Dir::ToServer, b"RPC_IN_DATA /rpc HTTP/1.1", (1, 2)),
            Guess::Http
        );
        assert_eq!(
            tcp(Dir::ToServer, b"CONNECT {\"verbose\":false}", (1, 4222)),
            Guess::Unknown
        );
        assert_eq!(tcp(Dir::ToServer, b"OPTIONS si", (1, 2)), Guess::NeedMore);
        // A server's bytes first (capture started mid-connection): the flow is reversed.
        assert_eq!(
            tcp_oriented(Dir::ToServer, b"HTTP/1.1 200 OK", (80, 1)),
            (Guess::Http, true)
        );
        assert_eq!(
            tcp_oriented(Dir::ToClient, b"GET / HTTP/1.1", (80, 1)),
            (Guess::Http, true)
        );
        assert_eq!(
            tcp_oriented(Dir::ToServer, b"GET / HTTP/1.1", (1, 80)),
            (Guess::Http, false)
        );
        assert_eq!(
            tcp_oriented(Dir::ToServer, &[0x16, 3, 3, 0, 80, 2, 0, 0, 76], (443, 1)),
            (Guess::Tls, true)
        );
        assert_eq!(
            tcp_oriented(Dir::ToClient, &[0x16, 3, 3, 0, 80, 2, 0, 0, 76], (1, 443)),
            (Guess::Tls, false)
        );
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
        assert_eq!(tcp(Dir::ToServer, &[0, 3, 1, 2, 3], (5555, 53)), Guess::Dns);
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
        // A DNSCrypt v1 certificate query: TXT, padded by a root-named type-0 record to 512
        // bytes (shape of dnscrypt-v1-and-resolver-pings.pcap in the corpus).
        let mut cert = vec![0x7f, 0x47, 1, 0, 0, 1, 0, 0, 0, 0, 0, 1];
        cert.extend_from_slice(b"\x012\x0ddnscrypt-cert\x08dnscrypt\x04ca-2\x00\x00\x10\x00\x01");
        let pad = 512 - cert.len() - 11;
        cert.extend_from_slice(&[0, 0, 0, 0, 0, 0, 0, 0, 0]);
        cert.extend_from_slice(&u16::try_from(pad).expect("pad fits u16").to_be_bytes());
        cert.resize(512, 0);
        assert_eq!(udp(&cert, (38388, 443)), Guess::Dns);
        let mut long = cert.clone();
        let n = long.len();
        long[n - pad - 2..n - pad].copy_from_slice(
            &u16::try_from(pad + 1000)
                .expect("pad fits u16")
                .to_be_bytes(),
        );
        long.resize(1512, 0);
        assert_eq!(udp(&long, (38388, 443)), Guess::Dns);
        // The same with a padding length one short of the datagram, or another record type.
        let mut short = cert.clone();
        short.push(0);
        assert_eq!(udp(&short, (38388, 443)), Guess::Unknown);
        let mut other = cert.clone();
        other[cert.len() - pad - 9] = 16;
        assert_eq!(udp(&other, (38388, 443)), Guess::Unknown);
        // A name longer than 255 octets.
        let mut big = vec![0x12, 0x34, 1, 0, 0, 1, 0, 0, 0, 0, 0, 0];
        for _ in 0..8 {
            big.extend_from_slice(
                b"\x3faaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa",
            );
        }
        big.extend_from_slice(b"\x00\x00\x01\x00\x01");
        assert!(big.len() > 512);
        assert_eq!(udp(&big, (40000, 5300)), Guess::Unknown);
        assert_eq!(udp(&[0u8; 12], (40000, 53)), Guess::Dns);
        assert_eq!(udp(&[0u8; 11], (40000, 53)), Guess::Unknown);
        let mut dhcp = vec![0u8; 300];
        dhcp[236..240].copy_from_slice(&[99, 130, 83, 99]);
        assert_eq!(udp(&dhcp, (68, 67)), Guess::Dhcp);
        assert_eq!(udp(&dhcp, (1068, 1067)), Guess::Unknown);
    }

    #[test]
    fn starttls_protocols_and_their_orientation() {
        // A greeting from the flow's responder: not reversed; from its originator: reversed.
        assert_eq!(
            tcp_oriented(Dir::ToClient, b"220 mx ESMTP\r\n", (40000, 25)),
            (Guess::StartTls(Dialect::Smtp), false)
        );
        assert_eq!(
            tcp_oriented(Dir::ToServer, b"220 ftp ready\r\n", (21, 40000)),
            (Guess::StartTls(Dialect::Ftp), true)
        );
        assert_eq!(
            tcp_oriented(Dir::ToServer, &[0, 0, 0, 8, 4, 0xd2, 0x16, 0x2f], (1, 5432)),
            (Guess::StartTls(Dialect::Pgsql), false)
        );
        // `05 01 00` is a whole SOCKS 5 greeting, though a MySQL greeting of 261 octets
        // starts the same way: SOCKS decides.
        assert_eq!(tcp(Dir::ToServer, &[5, 1, 0], (1, 1080)), Guess::Socks);
        assert_eq!(
            tcp(Dir::ToClient, &[0x4a, 0, 0], (3306, 1)),
            Guess::NeedMore
        );
        assert_eq!(
            tcp(Dir::ToClient, b"\x4a\x00\x00\x00\x0a5.7.16\x00", (3306, 1)),
            Guess::StartTls(Dialect::Mysql)
        );
        // LDAP: a bind request from the flow's originator, a bind response from its responder
        // (not reversed), and the response first from the originator (reversed).
        let bind = [0x30, 0x0c, 2, 1, 1, 0x60, 7, 2, 1, 3, 4, 0, 0x80, 0];
        let bind_resp = [0x30, 0x0c, 2, 1, 1, 0x61, 7, 0x0a, 1, 0, 4, 0, 4, 0];
        assert_eq!(
            tcp_oriented(Dir::ToServer, &bind, (40000, 389)),
            (Guess::StartTls(Dialect::Ldap), false)
        );
        assert_eq!(
            tcp_oriented(Dir::ToClient, &bind_resp, (40000, 389)),
            (Guess::StartTls(Dialect::Ldap), false)
        );
        assert_eq!(
            tcp_oriented(Dir::ToServer, &bind_resp, (389, 40000)),
            (Guess::StartTls(Dialect::Ldap), true)
        );
    }
}
