#![allow(clippy::unwrap_used, reason = "test")]

use super::*;

const C: Dir = Dir::ToServer;
const S: Dir = Dir::ToClient;

/// A SOCKS 5 CONNECT to `example.com:443` without authentication.
fn v5_request_name() -> Vec<u8> {
    let mut r = vec![5, 1, 0, 3, 11];
    r.extend_from_slice(b"example.com");
    r.extend_from_slice(&443u16.to_be_bytes());
    r
}

const V5_GRANTED: [u8; 10] = [5, 0, 0, 1, 198, 18, 0, 1, 0x9c, 0x40];

fn tunnel(p: &mut SocksParser, dir: Dir) -> Vec<u8> {
    let mut v = Vec::new();
    p.take_tunnel_bytes(dir, &mut v);
    v
}

#[test]
fn v5_connect_by_name_opens_the_tunnel_and_hands_over_the_bytes_after_the_reply() {
    let mut p = SocksParser::new();
    p.feed(C, &[5, 2, 0, 2]);
    assert!(!p.is_finished());
    p.feed(S, &[5, 0]);
    // The client sends its request and, before any reply, its first tunnelled bytes.
    let mut c = v5_request_name();
    c.extend_from_slice(b"\x16\x03\x01");
    p.feed(C, &c);
    assert!(!p.tunnel_open(), "the tunnel waits for the reply");
    let mut s = V5_GRANTED.to_vec();
    s.extend_from_slice(b"220 hi");
    p.feed(S, &s);
    assert!(p.tunnel_open());
    assert!(p.take_done());
    assert!(!p.take_done(), "done is taken once");
    let x = p.session();
    assert_eq!(x.version, 5);
    assert_eq!(x.methods, [0, 2]);
    assert_eq!(x.method, Some(method::NONE));
    assert_eq!(x.command_name(), Some("connect"));
    assert_eq!(x.request.name, b"example.com");
    assert_eq!(x.request.ip, None);
    assert_eq!(x.request.port, Some(443));
    assert_eq!(x.bound.ip, Some("198.18.0.1".parse().unwrap()));
    assert_eq!(x.bound.port, Some(40000));
    assert_eq!(x.status(), Some("succeeded"));
    assert_eq!(tunnel(&mut p, C), b"\x16\x03\x01");
    assert_eq!(tunnel(&mut p, S), b"220 hi");
    assert!(tunnel(&mut p, C).is_empty(), "taken bytes are forgotten");
}

#[test]
fn v5_password_login_keeps_the_user_not_the_password_and_a_refusal_ends_without_tunnel() {
    let mut p = SocksParser::new();
    p.feed(C, &[5, 1, 2]);
    p.feed(S, &[5, 2]);
    p.feed(C, b"\x01\x08testuser\x08testpass");
    p.feed(S, &[1, 1]);
    assert!(p.is_finished());
    assert!(!p.tunnel_open());
    assert!(p.take_done());
    let x = p.session();
    assert_eq!(x.user, b"testuser");
    assert!(x.password_sent);
    assert_eq!(x.auth_status, Some(1));
    assert_eq!(x.status(), Some("authentication failed"));
    assert!(!format!("{x:?}").contains("testpass"));

    // Accepted login, then a refused request (connection refused).
    let mut p = SocksParser::new();
    p.feed(C, &[5, 1, 2]);
    p.feed(S, &[5, 2]);
    p.feed(C, b"\x01\x01u\x01p");
    p.feed(S, &[1, 0]);
    p.feed(
        C,
        &[
            5, 1, 0, 4, 0xfd, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1, 0, 22,
        ],
    );
    p.feed(S, &[5, 5, 0, 1, 0, 0, 0, 0, 0, 0]);
    assert!(p.is_finished() && !p.tunnel_open() && !p.failed());
    assert_eq!(p.session().request.ip, Some("fd00::1".parse().unwrap()));
    assert_eq!(p.session().status(), Some("connection refused"));
}

#[test]
fn v4_and_v4a_requests() {
    let mut p = SocksParser::new();
    p.feed(C, b"\x04\x01\x01\xbb\xc6\x12\x00\x02alice\x00");
    p.feed(S, &[0, 90, 0, 0, 0, 0, 0, 0, b'G']);
    assert!(p.tunnel_open());
    let x = p.session();
    assert_eq!((x.version, x.command_name()), (4, Some("connect")));
    assert_eq!(x.user, b"alice");
    assert_eq!(x.request.ip, Some("198.18.0.2".parse().unwrap()));
    assert_eq!(x.request.port, Some(443));
    assert_eq!(x.status(), Some("succeeded"));
    assert_eq!(tunnel(&mut p, S), b"G");

    // 4a: 0.0.0.1 and a host name after the user id; a rejection ends the parse.
    let mut p = SocksParser::new();
    p.feed(
        C,
        b"\x04\x01\x00\x50\x00\x00\x00\x01\x00www.example.com\x00",
    );
    p.feed(S, &[4, 91, 0, 0, 0, 0, 0, 0]);
    let x = p.session();
    assert_eq!(x.request.ip, None);
    assert_eq!(x.request.name, b"www.example.com");
    assert!(x.user.is_empty());
    assert!(p.is_finished() && !p.tunnel_open());
    assert_eq!(x.status(), Some("rejected or failed"));
}

#[test]
fn bind_waits_for_the_second_reply_and_udp_associate_has_no_tunnel() {
    let mut p = SocksParser::new();
    p.feed(C, &[5, 1, 0]);
    p.feed(S, &[5, 0]);
    p.feed(C, &[5, 2, 0, 1, 0, 0, 0, 0, 0, 0]);
    p.feed(S, &[5, 0, 0, 1, 198, 18, 0, 1, 0x13, 0x88]);
    assert!(p.take_done(), "the first reply is logged");
    assert!(!p.take_done());
    assert!(!p.tunnel_open());
    p.feed(S, &[5, 0, 0, 1, 198, 18, 0, 9, 0x30, 0x39, b'x']);
    assert!(p.tunnel_open());
    assert!(!p.take_done(), "done is not set again by the second reply");
    assert_eq!(
        p.session().bound.port,
        Some(5000),
        "the first reply's address stays"
    );
    assert_eq!(tunnel(&mut p, S), b"x");

    let mut p = SocksParser::new();
    p.feed(C, &[5, 1, 0]);
    p.feed(S, &[5, 0]);
    p.feed(C, &[5, 3, 0, 1, 0, 0, 0, 0, 0, 0]);
    p.feed(S, &V5_GRANTED);
    assert!(p.is_finished() && !p.tunnel_open() && !p.failed());
    assert_eq!(p.session().command_name(), Some("udp-associate"));
}

#[test]
fn byte_at_a_time_gives_the_same_session() {
    let mut c = vec![5, 1, 0];
    c.extend(v5_request_name());
    c.extend_from_slice(b"GET / HTTP/1.1\r\n");
    let mut s = vec![5, 0];
    s.extend_from_slice(&V5_GRANTED);
    s.extend_from_slice(b"HTTP/1.1 200 OK\r\n");
    let mut whole = SocksParser::new();
    whole.feed(C, &c);
    whole.feed(S, &s);
    let mut bytes = SocksParser::new();
    for &b in &c {
        bytes.feed(C, &[b]);
    }
    for &b in &s {
        // Bytes after the tunnel opened are not the parser's: feed stops taking them.
        if bytes.tunnel_open() {
            break;
        }
        bytes.feed(S, &[b]);
    }
    assert!(whole.tunnel_open() && bytes.tunnel_open());
    assert_eq!(whole.session(), bytes.session());
    assert_eq!(tunnel(&mut whole, C), b"GET / HTTP/1.1\r\n");
    assert_eq!(tunnel(&mut bytes, C), b"GET / HTTP/1.1\r\n");
}

#[test]
fn not_socks_fails_and_bounds_hold() {
    // A method the client did not offer.
    let mut p = SocksParser::new();
    p.feed(C, &[5, 1, 0]);
    p.feed(S, &[5, 2]);
    assert!(p.failed() && p.is_finished());
    assert!(!p.take_done(), "a failed parse is not logged");
    assert_eq!(p.anomalies().malformed, 1);

    // A reply that is not SOCKS 4.
    let mut p = SocksParser::new();
    p.feed(C, b"\x04\x01\x00\x50\x01\x02\x03\x04\x00");
    p.feed(S, b"HTTP/1.0 400 Bad\r\n");
    assert!(p.failed());

    // A SOCKS 4 user id longer than 255 octets.
    let mut p = SocksParser::new();
    let mut c = b"\x04\x01\x00\x50\x01\x02\x03\x04".to_vec();
    c.extend(std::iter::repeat_n(b'a', 300));
    p.feed(C, &c);
    assert!(p.failed());

    // A gap inside the handshake ends it; early tunnel bytes beyond BUF_CAP are counted.
    let mut p = SocksParser::new();
    p.feed(C, &[5, 1]);
    p.gap(C, 10);
    assert!(p.failed());
    let mut p = SocksParser::new();
    p.feed(C, &[5, 1, 0]);
    p.feed(S, &[5, 0]);
    let mut c = v5_request_name();
    c.extend(std::iter::repeat_n(b'z', BUF_CAP));
    p.feed(C, &c);
    p.feed(C, b"more");
    p.feed(S, &V5_GRANTED);
    assert!(p.tunnel_open());
    let held = tunnel(&mut p, C);
    assert_eq!(held.len() + 3 + v5_request_name().len(), BUF_CAP);
    assert_eq!(
        held.len() as u64 + p.tunnel_lost(C),
        BUF_CAP as u64 + 4,
        "every early byte is held or counted"
    );

    // reset() gives a fresh parser.
    p.reset();
    assert_eq!(p.session(), &SocksSession::default());
    assert!(!p.is_finished());
    assert_eq!(p.tunnel_lost(C), 0);
}

#[test]
fn client_signature() {
    let yes: &[&[u8]] = &[
        &[5, 1, 0],
        &[5, 2, 0, 2],
        &[5, 1, 0, 5, 1, 0, 3],
        &[5, 1, 2, 1, 4],
        b"\x04\x01\x00\x50\x5d\xb8\xd8\x77\x00",
        b"\x04\x01\x00\x50\x00\x00\x00\x01\x00www.example.com\x00",
        b"\x04\x02\x05\x00\x01\x02\x03\x04fd7bcf\x00",
    ];
    for y in yes {
        assert_eq!(looks_like_client(y), Some(true), "{y:?}");
    }
    let more: &[&[u8]] = &[
        &[5],
        &[5, 3, 0],
        &[4, 1, 0],
        b"\x04\x01\x00\x50\x01\x02\x03\x04ab",
    ];
    for m in more {
        assert_eq!(looks_like_client(m), None, "{m:?}");
    }
    let no: &[&[u8]] = &[
        &[5, 0],
        &[5, 1, 0x20],
        &[5, 1, 0, 7],
        &[5, 1, 0, 5, 9],
        &[5, 17, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0],
        b"\x04\x03\x00\x50\x01\x02\x03\x04\x00",
        b"\x04\x01\x00\x00\x01\x02\x03\x04\x00",
        b"\x04\x01\x00\x50\x01\x02\x03\x04a\x01\x00",
        b"\x04\x01\x00\x50\x00\x00\x00\x01\x00\x00",
        b"GET / HTTP/1.1",
        b"\x16\x03\x01",
    ];
    for n in no {
        assert_eq!(looks_like_client(n), Some(false), "{n:?}");
    }
    assert_eq!(looks_like_client(&[]), None);
}
