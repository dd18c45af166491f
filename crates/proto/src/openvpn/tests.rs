//! Unit tests with hand-built OpenVPN packets around hand-built TLS hellos.

use super::*;

const C: Dir = Dir::ToServer;
const S: Dir = Dir::ToClient;

/// A ClientHello record with an SNI.
fn client_hello(host: &[u8]) -> Vec<u8> {
    let mut sni = vec![0];
    sni.extend_from_slice(&(host.len() as u16).to_be_bytes());
    sni.extend_from_slice(host);
    let mut sni_list = (sni.len() as u16).to_be_bytes().to_vec();
    sni_list.extend(sni);
    let mut exts = vec![0, 0];
    exts.extend_from_slice(&(sni_list.len() as u16).to_be_bytes());
    exts.extend(sni_list);
    let mut body = vec![3, 3];
    body.extend_from_slice(&[0x22; 32]);
    body.push(0);
    body.extend_from_slice(&[0, 4, 0xc0, 0x2f, 0x00, 0x2f]);
    body.extend_from_slice(&[1, 0]);
    body.extend_from_slice(&(exts.len() as u16).to_be_bytes());
    body.extend(exts);
    record(1, &body)
}

/// A ServerHello record (TLS 1.2, cipher 0xc02f).
fn server_hello() -> Vec<u8> {
    let mut body = vec![3, 3];
    body.extend_from_slice(&[0x33; 32]);
    body.push(0);
    body.extend_from_slice(&[0xc0, 0x2f, 0]);
    body.extend_from_slice(&[0, 0]);
    record(2, &body)
}

fn record(hs_type: u8, body: &[u8]) -> Vec<u8> {
    let n = body.len();
    let mut hs = vec![hs_type, 0, (n >> 8) as u8, n as u8];
    hs.extend_from_slice(body);
    let mut r = vec![0x16, 3, 1];
    r.extend_from_slice(&(hs.len() as u16).to_be_bytes());
    r.extend(hs);
    r
}

/// One framed packet: length, opcode/key ID, session ID, `auth` octets of HMAC and replay
/// fields, the ACK array, and for opcodes with one the message ID and payload.
fn packet(op: u8, auth: usize, acks: &[u32], id: Option<u32>, payload: &[u8]) -> Vec<u8> {
    let mut p = vec![op << 3];
    p.extend_from_slice(&[0xab; 8]);
    p.extend((0..auth).map(|i| (i as u8).wrapping_mul(37).wrapping_add(1)));
    p.push(acks.len() as u8);
    for a in acks {
        p.extend_from_slice(&a.to_be_bytes());
    }
    if !acks.is_empty() {
        p.extend_from_slice(&[0xcd; 8]);
    }
    if let Some(id) = id {
        p.extend_from_slice(&id.to_be_bytes());
    }
    p.extend_from_slice(payload);
    let mut framed = (p.len() as u16).to_be_bytes().to_vec();
    framed.extend(p);
    framed
}

/// A handshake with `auth` octets of HMAC fields: the client's stream and the server's.
fn handshake(auth: usize) -> (Vec<u8>, Vec<u8>) {
    let hello = client_hello(b"vpn.example");
    let (a, b) = hello.split_at(40);
    let mut c = packet(opcode::HARD_RESET_CLIENT_V2, auth, &[], Some(0), &[]);
    c.extend(packet(opcode::ACK_V1, auth, &[0], None, &[]));
    c.extend(packet(opcode::CONTROL_V1, auth, &[], Some(1), a));
    // A retransmission of the first piece, then the second.
    c.extend(packet(opcode::CONTROL_V1, auth, &[], Some(1), a));
    c.extend(packet(opcode::CONTROL_V1, auth, &[0], Some(2), b));
    c.extend(packet(opcode::DATA_V2, 0, &[], None, &[0x55; 300]));
    let mut s = packet(opcode::HARD_RESET_SERVER_V2, auth, &[0], Some(0), &[]);
    s.extend(packet(
        opcode::CONTROL_V1,
        auth,
        &[1, 2],
        Some(1),
        &server_hello(),
    ));
    (c, s)
}

fn run(p: &mut OpenVpnParser, c: &[u8], s: &[u8], cut: usize) {
    let (c1, c2) = c.split_at(cut.min(c.len()));
    let (s1, s2) = s.split_at(cut.min(s.len()));
    p.feed(C, c1);
    p.feed(S, s1);
    p.feed(C, c2);
    p.feed(S, s2);
}

#[test]
fn hellos_are_taken_out_of_control_packets() {
    for auth in AUTH_LENGTHS {
        let (c, s) = handshake(auth);
        let mut p = OpenVpnParser::new();
        run(&mut p, &c, &s, 0);
        assert!(!p.failed(), "auth {auth}");
        assert_eq!(p.auth_len(), Some(auth));
        let t = p.tls().session();
        let ch = t.client_hello.as_ref().expect("client hello");
        assert_eq!(ch.sni, b"vpn.example");
        assert_eq!(t.server_hello.as_ref().map(|h| h.cipher), Some(0xc02f));
        assert_eq!(p.anomalies().duplicates, 1);
        assert_eq!(p.anomalies().missing, 0);
        assert!(p.buffered_bytes() <= 2 * MAX_CONTROL + p.tls().buffered_bytes());
    }
}

#[test]
fn every_split_point_gives_the_same_session() {
    let (c, s) = handshake(28);
    let mut whole = OpenVpnParser::new();
    run(&mut whole, &c, &s, 0);
    // The hellos (the history of messages depends on how the directions interleave).
    let hellos = |p: &OpenVpnParser| {
        let t = p.tls().session();
        (t.client_hello.clone(), t.server_hello.clone())
    };
    let want = hellos(&whole);
    assert!(want.0.is_some() && want.1.is_some());
    let mut p = OpenVpnParser::new();
    for cut in 0..=c.len().max(s.len()) {
        p.reset();
        run(&mut p, &c, &s, cut);
        assert!(hellos(&p) == want, "cut at {cut}");
    }
    // Byte by byte.
    p.reset();
    for b in c.chunks(1) {
        p.feed(C, b);
    }
    for b in s.chunks(1) {
        p.feed(S, b);
    }
    assert!(hellos(&p) == want);
}

#[test]
fn a_missing_piece_is_a_gap_for_tls() {
    let hello = client_hello(b"a.example");
    let mut c = packet(opcode::HARD_RESET_CLIENT_V2, 0, &[], Some(0), &[]);
    c.extend(packet(opcode::CONTROL_V1, 0, &[], Some(2), &hello));
    let mut p = OpenVpnParser::new();
    p.feed(C, &c);
    assert_eq!(p.anomalies().missing, 1);
    assert!(!p.failed());
}

#[test]
fn encrypted_or_unframed_control_channels_end_the_parse() {
    // tls-crypt: the reset's ACK count and message ID are ciphertext.
    let mut reset = vec![0, 54, opcode::HARD_RESET_CLIENT_V2 << 3];
    reset.extend((0..53).map(|i| i as u8 | 0x80));
    let mut p = OpenVpnParser::new();
    p.feed(C, &reset);
    assert!(p.failed());
    // A control packet before any client reset.
    let mut p = OpenVpnParser::new();
    p.feed(S, &packet(opcode::CONTROL_V1, 0, &[], Some(1), b"x"));
    assert!(p.failed());
    // A zero length, and a gap.
    let mut p = OpenVpnParser::new();
    p.feed(C, &[0, 0, 0x38]);
    assert!(p.failed() && p.anomalies().malformed == 1);
    let mut p = OpenVpnParser::new();
    p.gap(C, 10);
    assert!(p.failed());
}

#[test]
fn data_and_oversized_packets_are_skipped_unread() {
    let mut c = packet(opcode::HARD_RESET_CLIENT_V2, 0, &[], Some(0), &[]);
    c.extend(packet(opcode::DATA_V1, 0, &[], None, &[0x16; 5000]));
    c.extend(packet(opcode::CONTROL_V1, 0, &[], Some(1), &[0x16; 3000]));
    c.extend(packet(
        opcode::CONTROL_V1,
        0,
        &[],
        Some(2),
        &client_hello(b"b.example"),
    ));
    let mut p = OpenVpnParser::new();
    for piece in c.chunks(700) {
        p.feed(C, piece);
        assert!(p.buffered_bytes() <= MAX_CONTROL + p.tls().buffered_bytes());
    }
    assert!(!p.failed());
    // The oversized packet's ID was never seen: a gap before the hello, which is still read.
    assert_eq!(p.anomalies().missing, 1);
    let ch = p.tls().session().client_hello.as_ref().expect("hello");
    assert_eq!(ch.sni, b"b.example");
}

#[test]
fn client_resets_are_recognised_from_their_first_octets() {
    // nDPI's 443-opvn.pcap, frame 4: a reset with a SHA-1 tls-auth HMAC.
    let real: &[u8] = &[
        0x00, 0x2a, 0x38, 0xd6, 0x7b, 0xe4, 0x5b, 0xe5, 0xc2, 0x01, 0xeb, 0x01, 0x64, 0x35, 0xfc,
        0xb1, 0xd6, 0xf6, 0x0e, 0x1a, 0xc8, 0x8b, 0x32, 0x95, 0x46, 0xdc, 0x3c, 0x7a, 0xbf, 0x0b,
        0x9e, 0x00, 0x00, 0x00, 0x01, 0x5e, 0x3e, 0x7b, 0x98, 0x00, 0x00, 0x00, 0x00, 0x00,
    ];
    assert_eq!(looks_like_client(real, (52973, 1194)), Some(true));
    assert_eq!(looks_like_client(real, (52973, 443)), Some(true));
    for n in 0..real.len() {
        let g = looks_like_client(&real[..n], (52973, 443));
        assert!(g.is_none() || g == Some(true), "{n} octets: {g:?}");
    }
    let plain = packet(opcode::HARD_RESET_CLIENT_V2, 0, &[], Some(0), &[]);
    assert_eq!(looks_like_client(&plain, (1, 2)), Some(true));
    // A SHA-512 HMAC: longer than the octets identification holds; port 1194 decides.
    let long = packet(opcode::HARD_RESET_CLIENT_V2, 72, &[], Some(0), &[]);
    assert_eq!(looks_like_client(&long[..62], (40000, 1194)), Some(true));
    assert_eq!(looks_like_client(&long[..62], (40000, 443)), Some(false));
    assert_eq!(looks_like_client(&long, (40000, 443)), Some(true));
    for other in [
        &b"GET / HTTP/1.1\r\n"[..],
        &[0x16, 3, 1, 0, 0x40],
        // A server reset, a control packet, key ID 1.
        &packet(opcode::HARD_RESET_SERVER_V2, 0, &[0], Some(0), &[]),
        &packet(opcode::CONTROL_V1, 0, &[], Some(1), b"x"),
        &[0, 14, 0x39, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0],
        // The right opcode but no layout fits.
        &[0, 14, 0x38, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1],
    ] {
        assert_eq!(looks_like_client(other, (1, 2)), Some(false), "{other:?}");
    }
}

#[test]
fn message_ids_that_wrap_do_not_overflow_the_counters() {
    let mut c = packet(opcode::HARD_RESET_CLIENT_V2, 0, &[], Some(0), &[]);
    for _ in 0..3 {
        c.extend(packet(opcode::CONTROL_V1, 0, &[], Some(u32::MAX), b"\x16"));
    }
    let mut p = OpenVpnParser::new();
    p.feed(C, &c);
    assert_eq!(p.anomalies().missing, u32::MAX);
}
