#![allow(clippy::unwrap_used, reason = "test")]

use super::*;

const C: Dir = Dir::ToServer;
const S: Dir = Dir::ToClient;

/// The first octets of a TLS ClientHello record.
const HELLO: &[u8] = &[0x16, 0x03, 0x01, 0x00, 0x70, 0x01];

fn parser(d: Dialect) -> StartTlsParser {
    let mut p = StartTlsParser::new();
    p.reset(d);
    p
}

fn tunnel(p: &mut StartTlsParser, dir: Dir) -> Vec<u8> {
    let mut v = Vec::new();
    p.take_tunnel_bytes(dir, &mut v);
    v
}

/// Feeds a conversation, one `(direction, bytes)` at a time.
fn run(p: &mut StartTlsParser, talk: &[(Dir, &[u8])]) {
    for (d, b) in talk {
        p.feed(*d, b);
    }
}

const SMTP: &[(Dir, &[u8])] = &[
    (S, b"220 mx.example ESMTP ready\r\n"),
    (C, b"EHLO client.example\r\n"),
    (S, b"250-mx.example\r\n250-STARTTLS\r\n250 CHUNKING\r\n"),
    (C, b"STARTTLS\r\n"),
    (S, b"220 2.0.0 Ready to start TLS\r\n"),
    (C, HELLO),
];

#[test]
fn smtp_starttls_accepted_hands_over_the_client_hello() {
    let mut p = parser(Dialect::Smtp);
    run(&mut p, SMTP);
    assert!(p.upgraded() && p.is_finished());
    let s = p.session();
    assert_eq!(
        (s.dialect, s.requests, s.refusals, s.upgraded),
        (Dialect::Smtp, 1, 0, true)
    );
    assert_eq!(tunnel(&mut p, C), HELLO);
    assert!(tunnel(&mut p, S).is_empty());
    assert_eq!(p.buffered_bytes(), 0);
}

#[test]
fn every_split_of_the_conversation_gives_the_same_hand_over() {
    // One direction's bytes cut at every point, the other's whole.
    for (k, &(dir, bytes)) in SMTP.iter().enumerate() {
        for cut in 0..=bytes.len() {
            let mut p = parser(Dialect::Smtp);
            for (i, &(d, b)) in SMTP.iter().enumerate() {
                if i == k {
                    p.feed(dir, &bytes[..cut]);
                    p.feed(dir, &bytes[cut..]);
                } else {
                    p.feed(d, b);
                }
            }
            assert!(p.upgraded(), "message {k} cut at {cut}");
            assert_eq!(tunnel(&mut p, C), HELLO, "message {k} cut at {cut}");
        }
    }
    // Byte by byte.
    let mut p = parser(Dialect::Smtp);
    for &(d, b) in SMTP {
        for x in b.chunks(1) {
            p.feed(d, x);
        }
    }
    assert!(p.upgraded());
    assert_eq!(tunnel(&mut p, C), HELLO);
}

#[test]
fn pipelined_commands_are_answered_before_the_upgrade_request() {
    // EHLO and STARTTLS in one segment: EHLO's 250 is not the answer to STARTTLS.
    let mut p = parser(Dialect::Smtp);
    run(
        &mut p,
        &[
            (S, b"220 mx ESMTP\r\n"),
            (C, b"EHLO a\r\nSTARTTLS\r\n"),
            (S, b"250-mx\r\n250 STARTTLS\r\n"),
        ],
    );
    assert_eq!(p.session().refusals, 0);
    assert!(!p.upgraded());
    p.feed(S, b"220 go ahead\r\n");
    assert!(p.upgraded());
}

#[test]
fn server_bytes_after_the_positive_answer_are_tls() {
    let mut p = parser(Dialect::Smtp);
    run(
        &mut p,
        &[(C, b"EHLO a\r\n"), (S, b"250 ok\r\n"), (C, b"STARTTLS\r\n")],
    );
    let mut answer = b"220 ready\r\n".to_vec();
    answer.extend_from_slice(&[0x16, 3, 3]);
    p.feed(S, &answer);
    assert!(p.upgraded());
    assert_eq!(tunnel(&mut p, S), [0x16, 3, 3]);
}

#[test]
fn a_refusal_puts_the_held_client_bytes_back_into_the_command_stream() {
    let mut p = parser(Dialect::Smtp);
    run(
        &mut p,
        &[
            (S, b"220 mx ESMTP\r\n"),
            (C, b"EHLO a\r\n"),
            (S, b"250 mx\r\n"),
            (C, b"STARTTLS\r\n"),
            // The client's next command reaches the parser before the refusal.
            (C, b"MAIL FROM:<a@b>\r\n"),
        ],
    );
    assert!(!p.is_finished());
    assert_eq!(p.buffered_bytes(), 17);
    p.feed(S, b"454 4.7.0 TLS not available\r\n");
    let s = p.session();
    assert_eq!((s.requests, s.refusals, s.upgraded), (1, 1, false));
    // MAIL ends the watch: no upgrade can follow it.
    assert!(p.is_finished() && !p.upgraded());
    assert_eq!(p.buffered_bytes(), 0);
}

#[test]
fn a_refused_request_can_be_repeated() {
    let mut p = parser(Dialect::Smtp);
    run(
        &mut p,
        &[
            (C, b"STARTTLS\r\n"),
            (S, b"454 later\r\n"),
            (C, b"STARTTLS\r\n"),
            (S, b"220 now\r\n"),
        ],
    );
    let s = p.session();
    assert_eq!((s.requests, s.refusals, s.upgraded), (2, 1, true));
}

#[test]
fn ftp_auth_tls_on_a_non_ftp_port_is_told_by_the_command() {
    // The greeting alone says SMTP (port unknown, no wording); AUTH TLS decides FTP.
    let mut p = parser(Dialect::Smtp);
    run(
        &mut p,
        &[
            (S, b"220 \"Authorized users only\"\r\n"),
            (C, b"AUTH TLS\r\n"),
        ],
    );
    assert_eq!(p.dialect(), Dialect::Ftp);
    // SMTP's 220 is not FTP's positive answer to AUTH.
    p.feed(S, b"220 hello again\r\n");
    assert!(!p.upgraded());
    assert_eq!(p.session().refusals, 1);
    run(
        &mut p,
        &[
            (C, b"auth ssl\r\n"),
            (S, b"234 Proceed with negotiation.\r\n"),
        ],
    );
    assert!(p.upgraded());
    assert_eq!(p.session().requests, 2);
}

#[test]
fn ftp_greeting_wording_and_preliminary_replies() {
    let mut p = parser(Dialect::Smtp);
    p.feed(S, b"220 (vsFTPd 3.0.3)\r\n");
    assert_eq!(p.dialect(), Dialect::Ftp);
    // SYST and a LIST whose 150 is preliminary: two final replies are due.
    run(
        &mut p,
        &[
            (C, b"SYST\r\nLIST\r\nAUTH TLS\r\n"),
            (
                S,
                b"215 UNIX Type: L8\r\n150 Here comes the listing.\r\n226 Done.\r\n",
            ),
        ],
    );
    assert!(!p.upgraded() && p.session().refusals == 0);
    p.feed(S, b"234 ok\r\n");
    assert!(p.upgraded());
}

#[test]
fn imap_answer_is_matched_by_tag() {
    let mut p = parser(Dialect::Imap);
    run(
        &mut p,
        &[
            (S, b"* OK [CAPABILITY IMAP4rev1 STARTTLS] ready\r\n"),
            (C, b". CAPABILITY\r\n"),
            (
                S,
                b"* CAPABILITY IMAP4rev1 STARTTLS\r\n. OK CAPABILITY completed\r\n",
            ),
            (C, b"a2 STARTTLS\r\n"),
            // Untagged data and another tag are not the answer.
            (S, b"* OK still here\r\n. OK late\r\n"),
        ],
    );
    assert!(!p.upgraded());
    p.feed(S, b"a2 OK Begin TLS negotiation now\r\n");
    assert!(p.upgraded());
}

#[test]
fn imap_no_is_a_refusal_and_login_ends_the_watch() {
    let mut p = parser(Dialect::Imap);
    run(
        &mut p,
        &[
            (C, b"t1 STARTTLS\r\n"),
            (S, b"t1 NO not now\r\n"),
            (C, b"t2 LOGIN a b\r\n"),
        ],
    );
    assert_eq!(p.session().refusals, 1);
    assert!(p.is_finished() && !p.upgraded());
}

#[test]
fn pop3_multi_line_answers_do_not_count_as_replies() {
    let mut p = parser(Dialect::Pop3);
    run(
        &mut p,
        &[
            (S, b"+OK lavad\r\n"),
            (C, b"AUTH\r\n"),
            (S, b"-ERR Unrecognized command.\r\n"),
            (C, b"CAPA\r\n"),
            (
                S,
                b"+OK Capabilities follow.\r\nTOP\r\nSTLS\r\n-ERR-looking line\r\n.\r\n",
            ),
            (C, b"STLS\r\n"),
        ],
    );
    // The capability list's last lines are content; the list's "+OK" answered CAPA.
    assert!(!p.upgraded());
    assert_eq!(p.session().refusals, 0);
    p.feed(S, b"+OK Ready to start TLS negotiation.\r\n");
    assert!(p.upgraded());
}

#[test]
fn pgsql_ssl_request_accepted_or_refused() {
    let ssl = [0, 0, 0, 8, 0x04, 0xd2, 0x16, 0x2f];
    let mut p = parser(Dialect::Pgsql);
    p.feed(C, &ssl[..3]);
    p.feed(C, &ssl[3..]);
    p.feed(C, HELLO);
    assert!(!p.upgraded());
    p.feed(S, b"S");
    assert!(p.upgraded());
    assert_eq!(tunnel(&mut p, C), HELLO);

    let mut p = parser(Dialect::Pgsql);
    run(&mut p, &[(C, &ssl), (S, b"N")]);
    let s = p.session();
    assert_eq!((s.requests, s.refusals, s.upgraded), (1, 1, false));
    assert!(p.is_finished());

    // A cleartext StartupMessage: nothing to watch.
    let mut p = parser(Dialect::Pgsql);
    p.feed(C, &[0, 0, 0, 40, 0, 3, 0, 0, b'u', b's', b'e', b'r', 0]);
    assert!(p.is_finished() && !p.upgraded());
}

/// A MySQL 5.7 greeting (protocol 10), as in Arkime's `mysql-tls.pcap`, shortened.
const MYSQL_GREETING: &[u8] = b"\x2e\x00\x00\x00\x0a5.7.16\x00\x4d\x68\x20\x00\x09\x37\x52\x2b\x2f\x25\x46\x29\x00\xff\xff\x08\x02\x00\xff\xc1\x15\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00";

#[test]
fn mysql_ssl_request_switches_at_once() {
    let mut ssl = vec![0x20, 0, 0, 1, 0x85, 0xae, 0x3f, 0x20];
    ssl.extend_from_slice(&[0; 28]);
    let mut p = parser(Dialect::Mysql);
    p.feed(S, MYSQL_GREETING);
    let mut first = ssl.clone();
    first.extend_from_slice(HELLO);
    // Cut inside the header and inside the payload.
    p.feed(C, &first[..2]);
    p.feed(C, &first[2..20]);
    assert!(!p.upgraded());
    p.feed(C, &first[20..]);
    assert!(p.upgraded());
    assert_eq!(p.session().requests, 1);
    assert_eq!(tunnel(&mut p, C), HELLO);

    // Without CLIENT_SSL the 32 octets are not an SSL request.
    let mut p = parser(Dialect::Mysql);
    ssl[5] = 0xa6;
    run(&mut p, &[(S, MYSQL_GREETING), (C, &ssl)]);
    assert!(p.is_finished() && !p.upgraded());
    // A cleartext login (a longer packet) ends the watch at its header.
    let mut p = parser(Dialect::Mysql);
    run(&mut p, &[(S, MYSQL_GREETING), (C, &[0x55, 0, 0, 1])]);
    assert!(p.is_finished() && !p.upgraded());
    assert_eq!(p.session().requests, 0);
}

#[test]
fn held_bytes_are_bounded_and_gaps_in_them_are_counted() {
    let mut p = parser(Dialect::Pop3);
    p.feed(C, b"STLS\r\n");
    p.feed(C, &vec![0x16; BUF_CAP + 100]);
    assert_eq!(p.buffered_bytes(), BUF_CAP);
    assert_eq!(p.tunnel_lost(C), 100);
    p.gap(C, 50);
    p.feed(C, &[1, 2, 3]);
    assert_eq!(p.tunnel_lost(C), 153);
    p.feed(S, b"+OK go\r\n");
    assert!(p.upgraded());
    assert_eq!(tunnel(&mut p, C).len(), BUF_CAP);
}

#[test]
fn a_gap_in_the_commands_resumes_at_the_next_line() {
    let mut p = parser(Dialect::Smtp);
    p.feed(C, b"STAR");
    p.gap(C, 10);
    // The rest of the broken line is skipped, the next line counts.
    p.feed(C, b"TTLS\r\nSTARTTLS\r\n");
    assert_eq!(p.session().requests, 1);
    p.feed(S, b"220 go\r\n");
    assert!(p.upgraded());
}

#[test]
fn the_watch_is_bounded() {
    // No line end: not a line protocol.
    let mut p = parser(Dialect::Smtp);
    p.feed(S, &vec![b'x'; MAX_LINE_RUN + 1]);
    assert!(p.is_finished() && !p.upgraded());
    // Too many commands.
    let mut p = parser(Dialect::Ftp);
    for _ in 0..=MAX_COMMANDS {
        p.feed(C, b"NOOP\r\n");
    }
    assert!(p.is_finished());
    // A long line is judged by its start and does not grow the buffer.
    let mut p = parser(Dialect::Smtp);
    let mut long = b"STARTTLS".to_vec();
    long.extend(std::iter::repeat_n(b' ', 3000));
    long.extend_from_slice(b"\r\n");
    p.feed(C, &long);
    assert_eq!(p.session().requests, 1);
}

#[test]
fn smtp_data_ends_the_watch_so_a_body_cannot_ask_for_tls() {
    let mut p = parser(Dialect::Smtp);
    run(
        &mut p,
        &[(C, b"EHLO a\r\nMAIL FROM:<a@b>\r\n"), (C, b"STARTTLS\r\n")],
    );
    assert!(p.is_finished());
    assert_eq!(p.session().requests, 0);
}

#[test]
fn signatures() {
    let none = (1000, 2000);
    assert_eq!(
        looks_like(b"220 mx.google.com ESMTP\r\n", none),
        Signature::Yes(Dialect::Smtp, true)
    );
    assert_eq!(
        looks_like(b"220-hello\r\n", (21, 5000)),
        Signature::Yes(Dialect::Ftp, true)
    );
    assert_eq!(
        looks_like(b"* OK [CAPABILITY IMAP4rev1]\r\n", none),
        Signature::Yes(Dialect::Imap, true)
    );
    assert_eq!(
        looks_like(b"+OK lavad\r\n", none),
        Signature::Yes(Dialect::Pop3, true)
    );
    assert_eq!(
        looks_like(b"EHLO client\r\n", none),
        Signature::Yes(Dialect::Smtp, false)
    );
    assert_eq!(
        looks_like(&[0, 0, 0, 8, 0x04, 0xd2, 0x16, 0x2f], none),
        Signature::Yes(Dialect::Pgsql, false)
    );
    assert_eq!(
        looks_like(&[0, 0, 0, 0x29, 0, 3, 0, 0, b'u'], none),
        Signature::Yes(Dialect::Pgsql, false)
    );
    assert_eq!(
        looks_like(MYSQL_GREETING, none),
        Signature::Yes(Dialect::Mysql, true)
    );
    // Sequence 1, or protocol 9, is not a greeting.
    assert_eq!(looks_like(b"\x2e\x00\x00\x01\x0a5.7", none), Signature::No);
    assert_eq!(looks_like(b"\x2e\x00\x00\x00\x095.7", none), Signature::No);
    assert_eq!(looks_like(b"\x2e\x00\x00", none), Signature::NeedMore);
    // Redis' "+OK" has no text; binary after the prefix is not a greeting.
    assert_eq!(looks_like(b"+OK\r\n", none), Signature::No);
    assert_eq!(looks_like(b"220 \x01\x02", none), Signature::No);
    assert_eq!(looks_like(b"GET / HTTP/1.1\r\n", none), Signature::No);
    assert_eq!(looks_like(&[0, 0, 0, 8, 1, 2, 3, 4], none), Signature::No);
    assert_eq!(looks_like(&[0, 1, 0, 5], none), Signature::No);
    // Too short to tell.
    assert_eq!(looks_like(b"22", none), Signature::NeedMore);
    assert_eq!(looks_like(b"* OK hel", none), Signature::NeedMore);
    assert_eq!(looks_like(&[0, 0, 0], none), Signature::NeedMore);
    // A greeting longer than the signature window is decided at its end.
    let long = [b"220 ".as_slice(), &[b'a'; 100]].concat();
    assert_eq!(
        looks_like(&long[..SIGNATURE_BYTES], none),
        Signature::Yes(Dialect::Smtp, true)
    );
}

#[test]
fn signature_decides_within_its_window() {
    let samples: [&[u8]; 4] = [
        b"220 mx.google.com ESMTP s4si9696358qcc.63 - gsmtp and a long tail of text\r\n",
        b"* OK [CAPABILITY IMAP4rev1 CHILDREN ENABLE ID IDLE LIST-EXTENDED LIST-STATUS]\r\n",
        b"+OK POP3 server ready <1896.697170952@dbc.mtview.ca.us> with more words here\r\n",
        b"xyz",
    ];
    for s in samples {
        let k = s.len().min(SIGNATURE_BYTES);
        assert_ne!(looks_like(&s[..k], (1, 2)), Signature::NeedMore);
    }
}

// --- LDAP

/// A BER element with a definite length.
fn ber(tag: u8, content: &[u8]) -> Vec<u8> {
    let mut v = vec![tag];
    if content.len() < 0x80 {
        v.push(content.len() as u8);
    } else {
        v.push(0x82);
        v.extend_from_slice(&(content.len() as u16).to_be_bytes());
    }
    v.extend_from_slice(content);
    v
}

fn ldap(id: u8, op: u8, body: &[u8]) -> Vec<u8> {
    ber(0x30, &[&[2, 1, id][..], &ber(op, body)].concat())
}

fn ldap_result(id: u8, op: u8, code: u8) -> Vec<u8> {
    ldap(id, op, &[0x0a, 1, code, 4, 0, 4, 0])
}

fn ldap_start_tls(id: u8) -> Vec<u8> {
    ldap(id, 0x77, &ber(0x80, b"1.3.6.1.4.1.1466.20037"))
}

/// Bind, a search answered with an entry longer than a kept line, then StartTLS accepted.
fn ldap_session() -> Vec<(Dir, Vec<u8>)> {
    let bind = ldap(
        1,
        0x60,
        &[&[2, 1, 3][..], &ber(4, b"cn=admin"), &ber(0x80, b"secret")].concat(),
    );
    let search = ldap(2, 0x63, &[&ber(4, b"")[..], &[0x0a, 1, 0]].concat());
    let entry = ldap(
        2,
        0x64,
        &[&ber(4, b"")[..], &ber(0x30, &[b'x'; 900])].concat(),
    );
    vec![
        (C, bind),
        (S, ldap_result(1, 0x61, 0)),
        (C, search),
        (S, [entry, ldap_result(2, 0x65, 0)].concat()),
        (C, ldap_start_tls(3)),
        (S, ldap_result(3, 0x78, 0)),
        (C, HELLO.to_vec()),
    ]
}

#[test]
fn ldap_start_tls_accepted_after_bind_and_search() {
    let talk = ldap_session();
    let mut p = parser(Dialect::Ldap);
    for (i, (d, b)) in talk.iter().enumerate() {
        p.feed(*d, b);
        assert_eq!(p.upgraded(), i >= 5, "after message {i}");
    }
    let s = p.session();
    assert_eq!((s.requests, s.refusals, s.upgraded), (1, 0, true));
    assert_eq!(tunnel(&mut p, C), HELLO);
    // Every split point of every message gives the same hand-over.
    for (k, (_, bytes)) in talk.iter().enumerate() {
        for cut in 0..=bytes.len() {
            let mut p = parser(Dialect::Ldap);
            for (i, (d, b)) in talk.iter().enumerate() {
                if i == k {
                    p.feed(*d, &b[..cut]);
                    p.feed(*d, &b[cut..]);
                } else {
                    p.feed(*d, b);
                }
            }
            assert!(p.upgraded(), "message {k} cut at {cut}");
            assert_eq!(tunnel(&mut p, C), HELLO, "message {k} cut at {cut}");
        }
    }
    // And all of it one octet at a time.
    let mut p = parser(Dialect::Ldap);
    for (d, b) in &talk {
        for x in b {
            p.feed(*d, std::slice::from_ref(x));
        }
    }
    assert_eq!(tunnel(&mut p, C), HELLO);
}

#[test]
fn ldap_refusal_replays_the_held_request_and_ids_are_matched() {
    let search = ldap(4, 0x63, &[&ber(4, b"")[..], &[0x0a, 1, 0]].concat());
    let mut p = parser(Dialect::Ldap);
    p.feed(C, &[ldap_start_tls(3), search].concat());
    // A notice of disconnection (ID 0) and an answer to another ID are not the answer.
    p.feed(S, &ldap_result(0, 0x78, 52));
    p.feed(S, &ldap_result(7, 0x78, 0));
    assert!(!p.upgraded() && p.session().refusals == 0);
    p.feed(S, &ldap_result(3, 0x78, 2)); // protocolError
    assert_eq!((p.session().requests, p.session().refusals), (1, 1));
    assert!(!p.is_finished());
    // The held search went back to the command stream: an unbind after it ends the watch.
    assert_eq!(p.sides[C.index()].lines, 2);
    p.feed(C, &ldap(5, 0x42, &[]));
    assert!(p.is_finished() && !p.upgraded());
}

#[test]
fn ldap_watch_ends_at_anything_but_ber() {
    // After a SASL bind with a security layer, messages carry a 4-octet length.
    let mut p = parser(Dialect::Ldap);
    p.feed(C, &[0, 0, 0, 0x20, 5, 4]);
    assert!(p.is_finished() && !p.upgraded());
    // Indefinite length, and a length too short for a message ID and an operation.
    for bad in [&[0x30, 0x80, 2, 1][..], &[0x30, 0x03, 2, 1, 1]] {
        let mut p = parser(Dialect::Ldap);
        p.feed(C, bad);
        assert!(p.is_finished(), "{bad:?}");
    }
    // A gap cannot be resynchronised.
    let mut p = parser(Dialect::Ldap);
    p.feed(C, &ldap_start_tls(1)[..4]);
    p.gap(C, 3);
    assert!(p.is_finished() && !p.upgraded());
}

#[test]
fn ldap_signatures() {
    let none = (1000, 2000);
    let bind = ldap(1, 0x60, &[2, 1, 3, 4, 0, 0x80, 0]);
    assert_eq!(
        looks_like(&bind, none),
        Signature::Yes(Dialect::Ldap, false)
    );
    assert_eq!(
        looks_like(&ldap_result(1, 0x61, 0), none),
        Signature::Yes(Dialect::Ldap, true)
    );
    assert_eq!(
        looks_like(&ldap_start_tls(1), none),
        Signature::Yes(Dialect::Ldap, false)
    );
    // Long-form lengths (a 4-octet message ID).
    let long = ber(
        0x30,
        &[&[2, 4, 0, 0, 1, 0][..], &ber(0x63, &[0; 200])].concat(),
    );
    assert_eq!(
        looks_like(&long[..16], none),
        Signature::Yes(Dialect::Ldap, false)
    );
    // Decided at the operation's length, the seventh octet here.
    for k in 0..7 {
        assert_eq!(
            looks_like(&bind[..k], none),
            Signature::NeedMore,
            "{k} octets"
        );
    }
    assert_eq!(
        looks_like(&bind[..7], none),
        Signature::Yes(Dialect::Ldap, false)
    );
    // SNMP over TCP (version, then an OCTET STRING community), an operation longer than its
    // message, a negative message ID, an unknown operation.
    let snmp = ber(
        0x30,
        &[&[2, 1, 1][..], &ber(4, b"public"), &[0xa0, 0]].concat(),
    );
    assert_eq!(looks_like(&snmp, none), Signature::No);
    assert_eq!(
        looks_like(&[0x30, 7, 2, 1, 1, 0x60, 9, 0, 0], none),
        Signature::No
    );
    assert_eq!(
        looks_like(&[0x30, 7, 2, 1, 0x81, 0x60, 2, 0, 0], none),
        Signature::No
    );
    assert_eq!(
        looks_like(&[0x30, 7, 2, 1, 1, 0x30, 2, 0, 0], none),
        Signature::No
    );
}
