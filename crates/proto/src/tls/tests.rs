//! Unit tests of the streaming parser with hand-built records.

use super::x509::tests::{atv, make_cert, name, rdn, CN};
use super::*;

const CLI: Dir = Dir::ToServer;
const SRV: Dir = Dir::ToClient;

fn be16(v: usize) -> [u8; 2] {
    u16::try_from(v).unwrap_or(u16::MAX).to_be_bytes()
}

fn rec(ty: u8, body: &[u8]) -> Vec<u8> {
    let mut v = vec![ty, 3, 3];
    v.extend_from_slice(&be16(body.len()));
    v.extend_from_slice(body);
    v
}

fn hs(ty: u8, body: &[u8]) -> Vec<u8> {
    let n = body.len();
    let mut v = vec![ty, (n >> 16) as u8, (n >> 8) as u8, n as u8];
    v.extend_from_slice(body);
    v
}

fn v8(b: &[u8]) -> Vec<u8> {
    let mut v = vec![b.len() as u8];
    v.extend_from_slice(b);
    v
}

fn v16(b: &[u8]) -> Vec<u8> {
    let mut v = be16(b.len()).to_vec();
    v.extend_from_slice(b);
    v
}

fn u16s(vals: &[u16]) -> Vec<u8> {
    vals.iter().flat_map(|v| v.to_be_bytes()).collect()
}

fn ext(ty: u16, data: &[u8]) -> Vec<u8> {
    let mut v = ty.to_be_bytes().to_vec();
    v.extend(v16(data));
    v
}

fn sni_ext(host: &[u8]) -> Vec<u8> {
    let mut entry = vec![0];
    entry.extend(v16(host));
    ext(0, &v16(&entry))
}

fn alpn_ext(protos: &[&[u8]]) -> Vec<u8> {
    let list: Vec<u8> = protos.iter().flat_map(|p| v8(p)).collect();
    ext(0x10, &v16(&list))
}

fn client_hello_body(
    version: u16,
    sid: &[u8],
    ciphers: &[u16],
    exts: Option<&[Vec<u8>]>,
) -> Vec<u8> {
    let mut b = version.to_be_bytes().to_vec();
    b.extend_from_slice(&[0x11; 32]);
    b.extend(v8(sid));
    b.extend(v16(&u16s(ciphers)));
    b.extend(v8(&[0]));
    if let Some(e) = exts {
        b.extend(v16(&e.concat()));
    }
    b
}

fn server_hello_body(
    version: u16,
    random: &[u8; 32],
    sid: &[u8],
    cipher: u16,
    exts: &[Vec<u8>],
) -> Vec<u8> {
    let mut b = version.to_be_bytes().to_vec();
    b.extend_from_slice(random);
    b.extend(v8(sid));
    b.extend_from_slice(&cipher.to_be_bytes());
    b.push(0);
    b.extend(v16(&exts.concat()));
    b
}

/// A Chrome-like ClientHello with GREASE everywhere.
fn chrome_like() -> Vec<u8> {
    let exts = vec![
        ext(0x1a1a, &[]),
        sni_ext(b"example.com"),
        ext(0x0017, &[]),
        ext(0x000a, &v16(&u16s(&[0x2a2a, 29, 23]))),
        ext(0x000b, &v8(&[0])),
        ext(0x000d, &v16(&u16s(&[0x0403, 0x0804]))),
        alpn_ext(&[b"h2", b"http/1.1"]),
        ext(0x002b, &v8(&u16s(&[0x3a3a, 0x0304, 0x0303]))),
        ext(0x4a4a, &[0]),
    ];
    client_hello_body(0x0303, &[7; 32], &[0x0a0a, 0x1301, 0xc02f], Some(&exts))
}

fn cert_msg(ders: &[Vec<u8>]) -> Vec<u8> {
    let mut list = Vec::new();
    for d in ders {
        let n = d.len();
        list.extend_from_slice(&[(n >> 16) as u8, (n >> 8) as u8, n as u8]);
        list.extend_from_slice(d);
    }
    let n = list.len();
    let mut v = vec![(n >> 16) as u8, (n >> 8) as u8, n as u8];
    v.extend(list);
    v
}

fn test_cert(cn: &str) -> Vec<u8> {
    make_cert(
        &[0x01, 0x02],
        &name(&[rdn(&[atv(CN, 0x13, b"Test CA")])]),
        &name(&[rdn(&[atv(CN, 0x0c, cn.as_bytes())])]),
        (0x17, b"200101000000Z"),
        (0x17, b"300101000000Z"),
        &[cn],
    )
}

/// A complete TLS 1.2 full handshake (ECDHE-RSA, server certificate) and one application
/// data record each way.
fn tls12_flow() -> Vec<(Dir, Vec<u8>)> {
    let sh = server_hello_body(
        0x0303,
        &[0x22; 32],
        &[9; 32],
        0xc02f,
        &[
            ext(0xff01, &[0]),
            ext(0, &[]),
            ext(11, &v8(&[0])),
            alpn_ext(&[b"h2"]),
        ],
    );
    let mut server_flight = hs(2, &sh);
    server_flight.extend(hs(
        11,
        &cert_msg(&[test_cert("a.example"), test_cert("ca.example")]),
    ));
    server_flight.extend(hs(12, &[3, 0, 29, 32, 1, 2, 3]));
    server_flight.extend(hs(14, &[]));
    vec![
        (CLI, rec(22, &hs(1, &chrome_like()))),
        (SRV, rec(22, &server_flight)),
        (CLI, rec(22, &hs(16, &[0x20; 33]))),
        (CLI, rec(20, &[1])),
        (CLI, rec(22, &[0xee; 40])),
        (SRV, rec(20, &[1])),
        (SRV, rec(22, &[0xdd; 40])),
        (CLI, rec(23, &[0xaa; 50])),
        (SRV, rec(23, &[0xbb; 50])),
    ]
}

fn run_flow(flow: &[(Dir, Vec<u8>)]) -> TlsParser {
    let mut p = TlsParser::new(TlsConfig::default());
    for (d, b) in flow {
        p.feed(*d, b);
    }
    p
}

fn history(p: &TlsParser) -> String {
    String::from_utf8_lossy(&p.session().history).into_owned()
}

#[test]
fn client_hello_fields_and_fingerprints() {
    let mut p = TlsParser::new(TlsConfig::default());
    p.feed(CLI, &rec(22, &hs(1, &chrome_like())));
    let ch = p.session().client_hello.as_ref().expect("hello");
    assert_eq!(ch.legacy_version, 0x0303);
    assert_eq!(ch.ciphers, vec![0x0a0a, 0x1301, 0xc02f]);
    assert_eq!(
        ch.extensions,
        vec![0x1a1a, 0, 0x17, 0x0a, 0x0b, 0x0d, 0x10, 0x2b, 0x4a4a]
    );
    assert_eq!(ch.sni, b"example.com");
    assert_eq!(ch.alpn, vec![b"h2".to_vec(), b"http/1.1".to_vec()]);
    assert_eq!(ch.groups, vec![0x2a2a, 29, 23]);
    assert_eq!(ch.point_formats, vec![0]);
    assert_eq!(ch.sig_algs, vec![0x0403, 0x0804]);
    assert_eq!(ch.versions, vec![0x3a3a, 0x0304, 0x0303]);
    assert_eq!(ch.session_id, vec![7; 32]);
    assert_eq!(ch.ja3, "771,4865-49199,0-23-10-11-13-16-43,29-23,0");
    assert_eq!(ch.ja3_hash, "ac9da7324a6f0b9bff989ca1d043b2f3");
    assert_eq!(ch.ja4, "t13d0207h2_c1929292aa6b_38dbf9c86be1");
    assert_eq!(
        ch.ja4_r,
        "t13d0207h2_1301,c02f_000a,000b,000d,0017,002b_0403,0804"
    );
    assert_eq!(p.anomalies().total(), 0);
    assert!(!p.is_done());
    assert_eq!(history(&p), "C");
}

#[test]
fn hello_without_extensions_and_with_empty_lists() {
    let mut p = TlsParser::new(TlsConfig::default());
    p.feed(
        CLI,
        &rec(22, &hs(1, &client_hello_body(0x0300, &[], &[4, 5], None))),
    );
    let ch = p.session().client_hello.as_ref().expect("hello");
    assert_eq!(ch.ja3, "768,4-5,,,");
    assert_eq!(
        ch.ja4,
        "ts3i020000_1d8e9a0e9fd6_000000000000".replacen("1d8e9a0e9fd6", &ch.ja4[11..23], 1)
    );
    assert!(ch.ja4.starts_with("ts3i020000_") && ch.ja4.ends_with("_000000000000"));
    assert_eq!(ch.ja4_r, "ts3i020000_0004,0005_");

    // an empty extensions block, empty SNI list, empty ALPN list, empty groups
    let exts = vec![
        ext(0, &v16(&[])),
        ext(0x10, &v16(&[])),
        ext(0x0a, &v16(&[])),
    ];
    let mut p = TlsParser::new(TlsConfig::default());
    p.feed(
        CLI,
        &rec(
            22,
            &hs(1, &client_hello_body(0x0301, &[], &[0x2f], Some(&exts))),
        ),
    );
    let ch = p.session().client_hello.as_ref().expect("hello");
    assert_eq!(ch.ja3, "769,47,0-16-10,,");
    assert!(ch.sni.is_empty());
    assert!(ch.alpn.is_empty());
    // SNI extension present (even empty) counts as "d"; no ALPN value is "00"
    assert!(ch.ja4.starts_with("t10d010300_"), "{}", ch.ja4);
    assert_eq!(p.anomalies().malformed_handshake, 0);

    let mut p = TlsParser::new(TlsConfig::default());
    p.feed(
        CLI,
        &rec(
            22,
            &hs(1, &client_hello_body(0x0303, &[], &[0x2f], Some(&[]))),
        ),
    );
    let ch = p.session().client_hello.as_ref().expect("hello");
    assert_eq!(ch.ja3, "771,47,,,");
}

#[test]
fn malformed_hellos_follow_tshark() {
    // extensions block length larger than the message: JA3 stops after the ciphers
    let mut body = client_hello_body(0x0301, &[], &[4, 5], None);
    body.extend_from_slice(&[0xff, 0xc0, 0, 0]);
    let mut p = TlsParser::new(TlsConfig::default());
    p.feed(CLI, &rec(22, &hs(1, &body)));
    let ch = p.session().client_hello.as_ref().expect("hello");
    assert_eq!(ch.ja3, "769,4-5,");
    assert_eq!(
        ch.ja3_hash,
        format!("{:x}", <md5::Md5 as md5::Digest>::digest(b"769,4-5,"))
    );
    assert!(ch.ja4.is_empty());
    assert_eq!(p.anomalies().malformed_handshake, 1);

    // a list running past its extension: no fingerprints, the SNI before it is kept
    let exts = vec![sni_ext(b"x.test"), ext(0x10, &[0xb8, 0x89, 2, b'h', b'2'])];
    let mut p = TlsParser::new(TlsConfig::default());
    p.feed(
        CLI,
        &rec(
            22,
            &hs(1, &client_hello_body(0x0303, &[], &[4], Some(&exts))),
        ),
    );
    let ch = p.session().client_hello.as_ref().expect("hello");
    assert_eq!(ch.sni, b"x.test");
    assert!(ch.ja3.is_empty() && ch.ja3_hash.is_empty() && ch.ja4.is_empty());

    // a partial extension header at the end: a warning for tshark, fingerprints kept
    let mut exts = vec![ext(23, &[])];
    exts.push(vec![0xff]);
    let mut p = TlsParser::new(TlsConfig::default());
    p.feed(
        CLI,
        &rec(
            22,
            &hs(1, &client_hello_body(0x0303, &[], &[4], Some(&exts))),
        ),
    );
    let ch = p.session().client_hello.as_ref().expect("hello");
    assert_eq!(ch.ja3, "771,4,23,,");
    assert!(!ch.ja4.is_empty());

    // truncated before the cipher list: no hello at all
    let mut p = TlsParser::new(TlsConfig::default());
    p.feed(CLI, &rec(22, &hs(1, &[3, 3, 1, 2])));
    assert!(p.session().client_hello.is_none());
    assert_eq!(p.anomalies().malformed_handshake, 1);
    assert_eq!(history(&p), "C");

    // a server hello with a short supported_versions keeps JA3S (tshark reads on)
    let sh = server_hello_body(
        0x0303,
        &[1; 32],
        &[],
        0x1301,
        &[ext(0x2b, &[]), ext(0x33, &[0])],
    );
    let mut p = TlsParser::new(TlsConfig::default());
    p.feed(SRV, &rec(22, &hs(2, &sh)));
    let s = p.session().server_hello.as_ref().expect("server hello");
    assert_eq!(s.ja3s, "771,4865,43-51");
    assert_eq!(s.version, 0x0303);
}

#[test]
fn full_tls12_handshake() {
    let mut p = run_flow(&tls12_flow());
    let s = p.session();
    let sh = s.server_hello.as_ref().expect("server hello");
    assert_eq!(sh.version, 0x0303);
    assert_eq!(sh.cipher, 0xc02f);
    assert_eq!(sh.alpn, b"h2");
    assert_eq!(sh.extensions, vec![0xff01, 0, 11, 16]);
    assert_eq!(sh.ja3s, "771,49199,65281-0-11-16");
    assert_eq!(sh.ja3s_hash, "ae53107a2e47ea20c72ac44821a728bf");
    assert_eq!(s.certs.len(), 2);
    assert_eq!(s.certs[0].subject, "CN=a.example");
    assert_eq!(s.certs[0].issuer, "CN=Test CA");
    assert_eq!(s.certs[0].san_dns, vec!["a.example"]);
    assert_eq!(s.certs[0].serial, "01:02");
    assert_eq!(s.certs[0].not_before, 1_577_836_800);
    assert_eq!(s.certs[1].subject_zeek, "CN=ca.example");
    assert_eq!(s.curve, Some(29));
    assert!(s.established);
    assert!(!s.resumed);
    assert!(s.alerts.is_empty());
    assert_eq!(history(&p), "CsxknGIi");
    assert!(p.take_done());
    assert!(!p.take_done());
    assert_eq!(p.anomalies().total(), 0);
    assert_eq!(p.buffered_bytes(), 0);
}

#[test]
fn done_at_server_ccs_and_nothing_after_finish() {
    let flow = tls12_flow();
    let mut p = TlsParser::new(TlsConfig::default());
    for (i, (d, b)) in flow.iter().enumerate() {
        p.feed(*d, b);
        // the server's CCS is flow[5]
        assert_eq!(p.is_done(), i >= 5, "after step {i}");
    }
    assert!(p.take_done());
    // done and established: further input is ignored, even garbage
    p.feed(CLI, b"garbage that is not TLS at all");
    p.feed(SRV, &rec(21, &[2, 40]));
    assert_eq!(p.anomalies().bad_record, 0);
    assert!(p.session().alerts.is_empty());
}

#[test]
fn record_and_message_fragmentation() {
    // the server flight as one handshake stream cut into records of 7 bytes
    let flow = tls12_flow();
    let reference = run_flow(&flow);
    let mut cut = Vec::new();
    for (d, b) in &flow {
        if *d == SRV && b[0] == 22 && b.len() > 100 {
            for piece in b[5..].chunks(7) {
                cut.push((*d, rec(22, piece)));
            }
        } else {
            cut.push((*d, b.clone()));
        }
    }
    let p = run_flow(&cut);
    let mut s1 = p.session().clone();
    let mut s2 = reference.session().clone();
    assert_eq!(s1.certs, s2.certs);
    s1.history.clear();
    s2.history.clear();
    assert_eq!(s1, s2);
    assert_eq!(p.anomalies(), reference.anomalies());
}

#[test]
fn every_split_of_a_flow_gives_the_same_session() {
    let flow = tls12_flow();
    let reference = run_flow(&flow);
    for (i, (_, b)) in flow.iter().enumerate() {
        for k in 1..b.len() {
            let mut p = TlsParser::new(TlsConfig::default());
            for (j, (d, c)) in flow.iter().enumerate() {
                if i == j {
                    p.feed(*d, &c[..k]);
                    assert!(p.buffered_bytes() <= c.len());
                    p.feed(*d, &c[k..]);
                } else {
                    p.feed(*d, c);
                }
            }
            assert_eq!(p.session(), reference.session(), "piece {i} split at {k}");
            assert_eq!(p.anomalies(), reference.anomalies());
        }
    }
    // and byte by byte
    let mut p = TlsParser::new(TlsConfig::default());
    for (d, c) in &flow {
        for b in c.chunks(1) {
            p.feed(*d, b);
        }
    }
    assert_eq!(p.session(), reference.session());
}

#[test]
fn tls13_flow_done_after_server_hello() {
    let ch = chrome_like();
    let sh = server_hello_body(
        0x0303,
        &[0x33; 32],
        &[7; 32],
        0x1301,
        &[
            ext(0x33, &[0, 29, 0, 2, 9, 9]),
            ext(0x2b, &0x0304u16.to_be_bytes()),
        ],
    );
    let mut p = TlsParser::new(TlsConfig::default());
    p.feed(CLI, &rec(22, &hs(1, &ch)));
    let mut srv = rec(22, &hs(2, &sh));
    srv.extend(rec(20, &[1]));
    srv.extend(rec(23, &[1; 100])); // encrypted extensions .. finished
    p.feed(SRV, &srv);
    assert!(p.take_done());
    let s = p.session();
    assert_eq!(s.version(), Some(0x0304));
    assert_eq!(
        s.server_hello.as_ref().map(|h| h.ja3s.as_str()),
        Some("771,4865,51-43")
    );
    assert_eq!(s.curve, Some(29));
    assert!(
        !s.resumed,
        "the echoed session id is not a resumption in TLS 1.3"
    );
    assert!(!s.established);
    // client CCS + Finished, then two server records: established (Zeek's rule)
    p.feed(CLI, &[rec(20, &[1]), rec(23, &[2; 60])].concat());
    p.feed(SRV, &rec(23, &[3; 200]));
    assert!(!p.session().established);
    p.feed(SRV, &rec(23, &[3; 200]));
    assert!(p.session().established);
    assert_eq!(history(&p), "CsiI");
    assert!(p.session().certs.is_empty());
    assert_eq!(p.anomalies().total(), 0);
}

#[test]
fn early_data_does_not_end_the_clear_part() {
    let sh = server_hello_body(
        0x0303,
        &[5; 32],
        &[],
        0x1301,
        &[ext(0x2b, &[3, 4]), ext(0x29, &[0, 0])],
    );
    let mut p = TlsParser::new(TlsConfig::default());
    // ClientHello, compatibility CCS and 0-RTT data before the ServerHello
    p.feed(
        CLI,
        &[
            rec(22, &hs(1, &chrome_like())),
            rec(20, &[1]),
            rec(23, &[1; 30]),
        ]
        .concat(),
    );
    assert!(!p.is_done());
    p.feed(SRV, &rec(22, &hs(2, &sh)));
    assert!(p.take_done());
    let s = p.session();
    assert_eq!(s.version(), Some(0x0304));
    assert!(s.resumed);
    assert_eq!(p.anomalies().total(), 0);
    // mid-stream pickup: server application data alone is done
    let mut p = TlsParser::new(TlsConfig::default());
    p.feed(SRV, &rec(23, &[1; 30]));
    assert!(p.is_done());
}

#[test]
fn a_second_client_hello_without_a_retry_request_is_history_only() {
    let mut p = TlsParser::new(TlsConfig::default());
    let ch2 = client_hello_body(0x0303, &[], &[0x1302], None);
    p.feed(
        CLI,
        &[rec(22, &hs(1, &chrome_like())), rec(22, &hs(1, &ch2))].concat(),
    );
    let s = p.session();
    assert_eq!(s.client_hello.as_ref().map(|c| c.ciphers.len()), Some(3));
    assert!(s.retry_client_hello.is_none());
    assert_eq!(history(&p), "CC");
}

#[test]
fn hello_retry_request_then_second_client_hello() {
    let hrr = server_hello_body(
        0x0303,
        &hello::HRR_RANDOM,
        &[],
        0x1301,
        &[ext(0x2b, &[3, 4]), ext(0x33, &[0, 23])],
    );
    let sh = server_hello_body(
        0x0303,
        &[5; 32],
        &[],
        0x1301,
        &[ext(0x2b, &[3, 4]), ext(0x33, &[0, 23, 0, 1, 4])],
    );
    let ch2 = client_hello_body(0x0303, &[], &[0x1302], Some(&[ext(0x2b, &v8(&[3, 4]))]));
    let mut p = TlsParser::new(TlsConfig::default());
    p.feed(CLI, &rec(22, &hs(1, &chrome_like())));
    p.feed(SRV, &rec(22, &hs(2, &hrr)));
    assert!(!p.is_done());
    assert!(p.session().hello_retry);
    // middlebox-compatibility CCS before the second ClientHello (RFC 8446 D.4)
    p.feed(CLI, &[rec(20, &[1]), rec(22, &hs(1, &ch2))].concat());
    p.feed(SRV, &rec(22, &hs(2, &sh)));
    assert!(p.take_done());
    let s = p.session();
    let sh = s.server_hello.as_ref().expect("server hello");
    assert!(!sh.hello_retry_request);
    assert_eq!(s.curve, Some(23));
    // the first ClientHello is kept, the second beside it with its own fingerprints
    assert_eq!(s.client_hello.as_ref().map(|c| c.ciphers.len()), Some(3));
    let retry = s.retry_client_hello.as_ref().expect("second client hello");
    assert_eq!(retry.ciphers, [0x1302]);
    assert_eq!(retry.ja3, "771,4866,43,,");
    assert_eq!(retry.ja3_hash.len(), 32);
    assert!(retry.ja4.starts_with("t13"), "{}", retry.ja4);
    assert_eq!(history(&p), "CjICs");
    assert_eq!(p.anomalies().total(), 0);
}

#[test]
fn resumption_rules() {
    // session id echo
    let sid = [5u8; 32];
    let ch = client_hello_body(0x0303, &sid, &[0xc02f], Some(&[]));
    let sh = server_hello_body(0x0303, &[1; 32], &sid, 0xc02f, &[]);
    let mut p = TlsParser::new(TlsConfig::default());
    p.feed(CLI, &rec(22, &hs(1, &ch)));
    p.feed(SRV, &rec(22, &hs(2, &sh)));
    assert!(p.session().resumed);

    // ticket resumption: new session id, no Certificate, server CCS first
    let sh2 = server_hello_body(0x0303, &[1; 32], &[6; 32], 0xc02f, &[]);
    let mut p = TlsParser::new(TlsConfig::default());
    p.feed(CLI, &rec(22, &hs(1, &ch)));
    p.feed(
        SRV,
        &[
            rec(22, &[hs(2, &sh2), hs(4, &[0; 10])].concat()),
            rec(20, &[1]),
        ]
        .concat(),
    );
    assert!(p.session().resumed);
    assert!(p.take_done());
    assert_eq!(history(&p), "Csti");

    // an all-zero session id is not a resumption
    let zero = [0u8; 32];
    let mut p = TlsParser::new(TlsConfig::default());
    p.feed(
        CLI,
        &rec(
            22,
            &hs(1, &client_hello_body(0x0303, &zero, &[0xc02f], Some(&[]))),
        ),
    );
    p.feed(
        SRV,
        &rec(
            22,
            &hs(2, &server_hello_body(0x0303, &[1; 32], &zero, 0xc02f, &[])),
        ),
    );
    assert!(!p.session().resumed);

    // TLS 1.3 with pre_shared_key
    let sh3 = server_hello_body(
        0x0303,
        &[1; 32],
        &sid,
        0x1301,
        &[ext(0x29, &[0, 0]), ext(0x2b, &[3, 4])],
    );
    let mut p = TlsParser::new(TlsConfig::default());
    p.feed(CLI, &rec(22, &hs(1, &ch)));
    p.feed(SRV, &rec(22, &hs(2, &sh3)));
    assert!(p.session().resumed);
    assert!(p.take_done());
}

#[test]
fn alerts_ccs_app_data_and_heartbeat() {
    let mut p = TlsParser::new(TlsConfig::default());
    p.feed(CLI, &rec(22, &hs(1, &chrome_like())));
    p.feed(SRV, &[rec(21, &[2, 40]), rec(21, &[1, 0, 1, 112])].concat());
    assert_eq!(p.session().alerts, vec![(2, 40), (1, 0), (1, 112)]);
    assert_eq!(p.session().last_alert(), Some((1, 112)));
    assert_eq!(history(&p), "Clll");
    // an alert record too long to be clear is not reported
    p.feed(CLI, &rec(21, &[9; 26]));
    assert_eq!(p.session().alerts.len(), 3);
    // heartbeat and zero-length records
    p.feed(
        CLI,
        &[rec(24, &[1, 0, 0]), rec(22, &[]), rec(23, &[])].concat(),
    );
    assert_eq!(p.anomalies().heartbeat, 1);
    assert_eq!(p.anomalies().empty_record, 1);
    assert!(
        !p.is_done(),
        "client data before any ServerHello is early data"
    );
    assert!(!p.session().established);
    // alerts after the direction's CCS are encrypted; the server's CCS is done
    p.feed(SRV, &[rec(20, &[1]), rec(21, &[1, 0])].concat());
    assert_eq!(p.session().alerts.len(), 3);
    assert!(p.is_done());
    assert!(!p.session().established);
    p.feed(SRV, &rec(23, &[]));
    assert!(p.session().established, "application data both ways");
}

#[test]
fn alert_cap() {
    let mut p = TlsParser::new(TlsConfig::default());
    for _ in 0..MAX_ALERTS + 3 {
        p.feed(SRV, &rec(21, &[1, 0]));
    }
    assert_eq!(p.session().alerts.len(), MAX_ALERTS);
    assert_eq!(p.anomalies().alerts_truncated, 3);
}

#[test]
fn history_cap() {
    let mut p = TlsParser::new(TlsConfig::default());
    for _ in 0..MAX_HISTORY + 10 {
        p.feed(SRV, &rec(22, &hs(0, &[])));
    }
    assert_eq!(p.session().history.len(), MAX_HISTORY);
}

#[test]
fn oversize_message_is_skipped_and_sync_kept() {
    let cfg = TlsConfig {
        max_handshake_msg: 100,
        max_certs: 8,
    };
    let mut p = TlsParser::new(cfg);
    let sh = server_hello_body(0x0303, &[1; 32], &[], 0xc02f, &[]);
    let big = hs(11, &cert_msg(&[test_cert("big.example"), vec![0; 300]]));
    let mut stream = hs(2, &sh);
    stream.extend(&big);
    stream.extend(hs(14, &[]));
    // cut into records so that the big message spans three of them
    let mut bytes = Vec::new();
    for c in stream.chunks(150) {
        bytes.extend(rec(22, c));
    }
    p.feed(SRV, &bytes);
    assert_eq!(p.anomalies().oversize_handshake, 1);
    assert!(p.session().certs.is_empty());
    assert_eq!(history(&p), "sxn");
    assert!(p.buffered_bytes() <= 100);
    // no ClientKeyExchange yet, but a Certificate was seen: not a resumption
    p.feed(SRV, &rec(20, &[1]));
    assert!(!p.session().resumed);
}

#[test]
fn certificate_limits_and_bad_der() {
    let cfg = TlsConfig {
        max_handshake_msg: 64 * 1024,
        max_certs: 2,
    };
    let mut p = TlsParser::new(cfg);
    let msg = cert_msg(&[vec![0x30, 0x03, 1, 2, 3], test_cert("b"), test_cert("c")]);
    p.feed(SRV, &rec(22, &hs(11, &msg)));
    let s = p.session();
    assert_eq!(s.certs.len(), 2);
    assert!(!s.certs[0].parsed);
    assert_eq!(s.certs[0].sha1_fingerprint.len(), 59);
    assert!(s.certs[1].parsed);
    assert_eq!(p.anomalies().bad_certificate, 1);
    assert_eq!(p.anomalies().certs_truncated, 1);

    // a certificate list length that does not match, and an entry running past it
    let mut p = TlsParser::new(TlsConfig::default());
    let mut m = cert_msg(&[test_cert("d")]);
    m.extend_from_slice(&[0, 0, 9, 1]);
    p.feed(SRV, &rec(22, &hs(11, &m)));
    assert_eq!(p.session().certs.len(), 1);
    assert_eq!(p.anomalies().malformed_handshake, 1);
    let mut p = TlsParser::new(TlsConfig::default());
    p.feed(SRV, &rec(22, &hs(11, &[0, 0, 9, 0, 0, 9, 1, 2])));
    assert!(p.session().certs.is_empty());
    assert_eq!(p.anomalies().malformed_handshake, 2);
    let mut p = TlsParser::new(TlsConfig::default());
    p.feed(SRV, &rec(22, &hs(11, &[0, 0])));
    assert_eq!(p.anomalies().malformed_handshake, 1);

    // client certificates are not parsed
    let mut p = TlsParser::new(TlsConfig::default());
    p.feed(CLI, &rec(22, &hs(11, &cert_msg(&[test_cert("client")]))));
    assert!(p.session().certs.is_empty());
    assert_eq!(history(&p), "X");
}

#[test]
fn wrong_direction_and_second_server_hello() {
    let mut p = TlsParser::new(TlsConfig::default());
    p.feed(SRV, &rec(22, &hs(1, &chrome_like())));
    p.feed(
        CLI,
        &rec(
            22,
            &hs(2, &server_hello_body(0x0303, &[1; 32], &[], 1, &[])),
        ),
    );
    assert!(p.session().client_hello.is_none());
    assert!(p.session().server_hello.is_none());
    assert_eq!(p.anomalies().unexpected_message, 2);
    let sh = rec(
        22,
        &hs(2, &server_hello_body(0x0303, &[1; 32], &[], 0x2f, &[])),
    );
    p.feed(SRV, &sh);
    p.feed(
        SRV,
        &rec(
            22,
            &hs(2, &server_hello_body(0x0303, &[1; 32], &[], 0x35, &[])),
        ),
    );
    assert_eq!(
        p.session().server_hello.as_ref().map(|s| s.cipher),
        Some(0x2f)
    );
    assert_eq!(p.anomalies().unexpected_message, 3);
}

#[test]
fn garbage_stops_the_direction() {
    let mut p = TlsParser::new(TlsConfig::default());
    p.feed(CLI, b"GET / HTTP/1.1\r\nHost: x\r\n\r\n");
    assert_eq!(p.anomalies().bad_record, 1);
    assert_eq!(p.anomalies().stopped, 1);
    p.feed(CLI, &rec(22, &hs(1, &chrome_like())));
    assert!(p.session().client_hello.is_none());
    // the other direction still works
    p.feed(
        SRV,
        &rec(
            22,
            &hs(2, &server_hello_body(0x0303, &[1; 32], &[], 0x2f, &[])),
        ),
    );
    assert!(p.session().server_hello.is_some());
    // unknown version and oversize records
    let mut p = TlsParser::new(TlsConfig::default());
    p.feed(CLI, &[22, 2, 0, 0, 4]);
    assert_eq!(p.anomalies().bad_record, 1);
    let mut p = TlsParser::new(TlsConfig::default());
    p.feed(CLI, &[23, 3, 3, 0x48, 0x01]);
    assert_eq!(p.anomalies().bad_record, 1);
}

#[test]
fn interrupted_handshake_message() {
    let mut p = TlsParser::new(TlsConfig::default());
    let msg = hs(1, &chrome_like());
    p.feed(CLI, &rec(22, &msg[..20]));
    assert!(p.buffered_bytes() > 0);
    p.feed(CLI, &rec(21, &[1, 0]));
    assert_eq!(p.anomalies().interrupted_handshake, 1);
    assert_eq!(p.buffered_bytes(), 0);
    p.feed(CLI, &rec(22, &msg));
    assert!(p.session().client_hello.is_some());
}

#[test]
fn sslv2_compatible_client_hello_is_skipped() {
    // SSLv2 CLIENT-HELLO: len 0x80|.., type 1, version 3.1, cipher specs 3 x 3 bytes,
    // session id 0, challenge 16
    let mut v2 = vec![1, 3, 1, 0, 9, 0, 0, 0, 16];
    v2.extend_from_slice(&[0, 0, 0x2f, 0, 0, 0x35, 0x01, 0x00, 0x80]);
    v2.extend_from_slice(&[0xcc; 16]);
    let mut bytes = vec![0x80 | (v2.len() >> 8) as u8, v2.len() as u8];
    bytes.extend(&v2);
    assert!(TlsParser::looks_like_tls(&bytes));
    let mut p = TlsParser::new(TlsConfig::default());
    for c in bytes.chunks(3) {
        p.feed(CLI, c);
    }
    p.feed(
        SRV,
        &rec(
            22,
            &hs(2, &server_hello_body(0x0301, &[1; 32], &[], 0x2f, &[])),
        ),
    );
    p.feed(CLI, &rec(22, &hs(16, &[0; 10])));
    let s = p.session();
    assert!(s.sslv2_client_hello);
    assert!(s.client_hello.is_none());
    assert!(s.server_hello.is_some());
    assert_eq!(p.anomalies().sslv2_client_hello, 1);
    assert_eq!(p.anomalies().bad_record, 0);
    assert_eq!(history(&p), "CsG");
}

#[test]
fn looks_like_tls_detection() {
    let ch = rec(22, &hs(1, &chrome_like()));
    assert!(TlsParser::looks_like_tls(&ch));
    assert!(TlsParser::looks_like_tls(&ch[..3]));
    assert!(TlsParser::looks_like_tls(&ch[..5]));
    assert!(!TlsParser::looks_like_tls(&ch[..2]));
    assert!(TlsParser::looks_like_tls(&rec(22, &hs(2, &[]))));
    assert!(!TlsParser::looks_like_tls(&rec(22, &hs(11, &[]))));
    assert!(!TlsParser::looks_like_tls(&rec(23, &[1])));
    assert!(!TlsParser::looks_like_tls(&[0x16, 3, 5, 0, 10]));
    assert!(!TlsParser::looks_like_tls(&[0x16, 3, 1, 0, 0]));
    assert!(!TlsParser::looks_like_tls(&[0x16, 3, 1, 0x48, 1]));
    assert!(!TlsParser::looks_like_tls(b"GET / HTTP/1.1"));
    assert!(!TlsParser::looks_like_tls(&[0x80, 0x20, 2, 3, 1]));
    assert!(!TlsParser::looks_like_tls(&[0x80, 0x05, 1, 3, 1]));
    assert!(!TlsParser::looks_like_tls(&[]));
}

#[test]
fn gap_inside_a_record_keeps_sync() {
    let flow = tls12_flow();
    let server = &flow[1].1;
    // lose 30 bytes in the middle of the first certificate: the Certificate message is lost,
    // the ServerKeyExchange and ServerHelloDone after it are still parsed
    let sh_len = 4 + u32::from_be_bytes([0, server[6], server[7], server[8]]) as usize;
    let cut = 5 + sh_len + 40;
    let mut p = TlsParser::new(TlsConfig::default());
    p.feed(CLI, &flow[0].1);
    p.feed(SRV, &server[..cut]);
    p.gap(SRV, 30);
    p.feed(SRV, &server[cut + 30..]);
    assert!(p.session().certs.is_empty());
    assert_eq!(p.session().curve, Some(29));
    assert_eq!(history(&p), "Cskn");
    assert_eq!(p.anomalies().lost_messages, 1);
    assert_eq!(p.anomalies().gaps, 1);
    for (d, b) in &flow[2..] {
        p.feed(*d, b);
    }
    assert!(p.session().established);

    // a gap that swallows a message header: the rest of the record is dropped, the next
    // handshake record is parsed
    let mut p = TlsParser::new(TlsConfig::default());
    let msgs = [
        hs(2, &server_hello_body(0x0303, &[1; 32], &[], 0x2f, &[])),
        hs(0, &[]),
        hs(0, &[]),
    ]
    .concat();
    let r = rec(22, &msgs);
    assert_eq!(r.len(), 57);
    p.feed(SRV, &r[..10]);
    p.gap(SRV, 40);
    p.feed(SRV, &r[50..]);
    p.feed(SRV, &rec(22, &hs(14, &[])));
    assert_eq!(history(&p), "n");
    assert!(p.session().server_hello.is_none());

    // a gap ending exactly at the end of a record
    let mut p = TlsParser::new(TlsConfig::default());
    let r = rec(23, &[0; 20]);
    p.feed(CLI, &r[..8]);
    p.gap(CLI, 17);
    p.feed(CLI, &rec(22, &hs(1, &chrome_like())));
    assert!(p.session().client_hello.is_some());
    assert_eq!(p.anomalies().resyncs, 0);
}

#[test]
fn gap_across_records_resyncs_on_a_plausible_header() {
    let mut p = TlsParser::new(TlsConfig::default());
    p.feed(CLI, &rec(22, &hs(1, &chrome_like())));
    let sh = rec(
        22,
        &hs(2, &server_hello_body(0x0303, &[1; 32], &[], 0xc02f, &[])),
    );
    p.feed(SRV, &sh[..20]);
    p.gap(SRV, 1000);
    // the stream continues somewhere inside a record, then a ServerHelloDone record
    let mut rest = vec![0x42; 37];
    rest.extend(rec(22, &hs(14, &[])));
    p.feed(SRV, &rest);
    assert_eq!(p.anomalies().resyncs, 1);
    assert_eq!(history(&p), "Cn");
    assert_eq!(p.anomalies().lost_messages, 1);

    // no plausible header within the budget: the direction stops
    let mut p = TlsParser::new(TlsConfig::default());
    p.feed(SRV, &sh[..3]);
    p.gap(SRV, 5);
    let junk = vec![0x42; 4096];
    for _ in 0..(RESYNC_SCAN_LIMIT / junk.len()) + 1 {
        p.feed(SRV, &junk);
    }
    assert_eq!(p.anomalies().stopped, 1);
    p.feed(SRV, &sh);
    assert!(p.session().server_hello.is_none());
    // gaps while resyncing or stopped change nothing
    p.gap(SRV, 10);
    assert_eq!(p.anomalies().gaps, 2);
}

#[test]
fn resync_accepts_the_negotiated_record_version() {
    // the client's ClientHello record is 0x0301, its later records 0x0303 (TLS 1.3)
    let mut ch_rec = rec(22, &hs(1, &chrome_like()));
    ch_rec[2] = 1;
    let sh = server_hello_body(0x0303, &[5; 32], &[], 0x1301, &[ext(0x2b, &[3, 4])]);
    let mut p = TlsParser::new(TlsConfig::default());
    p.feed(CLI, &ch_rec);
    p.feed(SRV, &[rec(22, &hs(2, &sh)), rec(23, &[1; 10])].concat());
    p.gap(CLI, 500);
    let mut rest = vec![0x55; 20];
    rest.extend(rec(23, &[2; 30]));
    p.feed(CLI, &rest);
    assert_eq!(p.anomalies().resyncs, 1);
    p.feed(SRV, &[rec(23, &[3; 10]), rec(23, &[3; 10])].concat());
    assert!(p.session().established);
}

#[test]
fn ecdhe_psk_key_exchange_has_no_curve_first() {
    let mut p = TlsParser::new(TlsConfig::default());
    let sh = server_hello_body(0x0303, &[5; 32], &[], 0xc035, &[]);
    p.feed(
        SRV,
        &rec(22, &[hs(2, &sh), hs(12, &[3, 0, 29, 0])].concat()),
    );
    assert_eq!(p.session().curve, None);
}

#[test]
fn reset_reuses_the_parser() {
    let flow = tls12_flow();
    let fresh = run_flow(&flow);
    let mut p = run_flow(&flow);
    p.feed(CLI, &[1, 2, 3]);
    p.reset();
    assert_eq!(p.session(), &TlsSession::default());
    assert_eq!(p.anomalies(), &TlsAnomalies::default());
    assert!(!p.is_done());
    assert!(p.spare_ch.len() == 1 && p.spare_sh.is_some());
    assert_eq!(p.cert_pool.len(), 2);
    for (d, b) in &flow {
        p.feed(*d, b);
    }
    assert_eq!(p.session(), fresh.session());
    assert!(p.take_done());
    assert!(p.cert_pool.is_empty());
}

#[test]
fn empty_and_zero_inputs() {
    let mut p = TlsParser::new(TlsConfig::default());
    p.feed(CLI, &[]);
    p.gap(CLI, 0);
    assert_eq!(p.session(), &TlsSession::default());
    assert!(!p.take_done());
    assert_eq!(p.anomalies().total(), 0);
    // a gap before anything was seen resyncs on the first plausible header
    p.gap(SRV, 100);
    p.feed(
        SRV,
        &rec(
            22,
            &hs(2, &server_hello_body(0x0303, &[1; 32], &[], 0x2f, &[])),
        ),
    );
    assert!(p.session().server_hello.is_some());
}
