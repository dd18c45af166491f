//! Unit tests of the HTTP parser with hand-built conversations. Every conversation also goes
//! through [`run`], which checks split invariance: the same transactions whatever the chunk
//! boundaries and however the directions interleave (request bytes never later than in the
//! given order).

use super::*;

const C: Dir = Dir::ToServer;
const S: Dir = Dir::ToClient;
const T0: Timestamp = Timestamp(7);

type Seg<'a> = (Dir, &'a [u8]);

/// Feeds `chunks` (direction, bytes) in order with one timestamp, then finishes.
fn feed_all(cfg: HttpConfig, chunks: &[(Dir, Vec<u8>)]) -> (Vec<Transaction>, HttpAnomalies) {
    let mut p = HttpParser::new(cfg);
    let mut got = Vec::new();
    for (d, b) in chunks {
        p.feed(*d, T0, b, &mut |t| got.push(t.clone()));
    }
    p.finish(T0, &mut |t| got.push(t.clone()));
    (got, p.anomalies().clone())
}

/// A tiny deterministic generator (tests must not depend on a clock or OS randomness).
struct Lcg(u64);
impl Lcg {
    fn next(&mut self) -> u64 {
        self.0 = self
            .0
            .wrapping_mul(6364136223846793005)
            .wrapping_add(1442695040888963407);
        self.0 >> 33
    }
    fn below(&mut self, n: usize) -> usize {
        (self.next() % (n.max(1) as u64)) as usize
    }
}

/// Random interleaving that never feeds a server byte before the client bytes that precede
/// it in `segs`; chunks of random size (1..=max_chunk).
fn interleave(segs: &[Seg<'_>], rng: &mut Lcg, max_chunk: usize) -> Vec<(Dir, Vec<u8>)> {
    let mut cli = Vec::new();
    let mut srv = Vec::new();
    // need[k]: client bytes that must be fed before server byte k.
    let mut need = Vec::new();
    for (d, b) in segs {
        match d {
            Dir::ToServer => cli.extend_from_slice(b),
            Dir::ToClient => {
                srv.extend_from_slice(b);
                need.extend(std::iter::repeat_n(cli.len(), b.len()));
            }
        }
    }
    let (mut ci, mut si) = (0, 0);
    let mut out = Vec::new();
    while ci < cli.len() || si < srv.len() {
        let srv_ok = si < srv.len() && need.get(si).is_some_and(|&n| n <= ci);
        let take_cli = ci < cli.len() && (!srv_ok || rng.below(2) == 0);
        let n = 1 + rng.below(max_chunk);
        if take_cli {
            let end = (ci + n).min(cli.len());
            out.push((C, cli[ci..end].to_vec()));
            ci = end;
        } else {
            let mut end = (si + n).min(srv.len());
            while end > si + 1 && need[end - 1] > ci {
                end -= 1;
            }
            out.push((S, srv[si..end].to_vec()));
            si = end;
        }
    }
    out
}

/// Runs a conversation and checks split invariance; returns the transactions and anomalies
/// of the plain run (one feed per segment).
fn run_cfg(cfg: HttpConfig, segs: &[Seg<'_>]) -> (Vec<Transaction>, HttpAnomalies) {
    let plain: Vec<(Dir, Vec<u8>)> = segs.iter().map(|(d, b)| (*d, b.to_vec())).collect();
    let (want, anomalies) = feed_all(cfg, &plain);
    // Every single split position.
    for (k, (d, b)) in segs.iter().enumerate() {
        for p in 1..b.len() {
            let mut v = plain.clone();
            v[k] = (*d, b[..p].to_vec());
            v.insert(k + 1, (*d, b[p..].to_vec()));
            let (got, _) = feed_all(cfg, &v);
            assert_eq!(got, want, "segment {k} split at {p}");
        }
    }
    // One-byte chunks.
    let bytes: Vec<(Dir, Vec<u8>)> = segs
        .iter()
        .flat_map(|(d, b)| b.iter().map(move |&x| (*d, vec![x])))
        .collect();
    assert_eq!(feed_all(cfg, &bytes).0, want, "one-byte chunks");
    // All client bytes first, then all server bytes.
    let mut cs: Vec<(Dir, Vec<u8>)> = plain.iter().filter(|(d, _)| *d == C).cloned().collect();
    cs.extend(plain.iter().filter(|(d, _)| *d == S).cloned());
    assert_eq!(feed_all(cfg, &cs).0, want, "client first");
    // Random interleavings and chunk sizes.
    let mut rng = Lcg(0x5eed ^ segs.len() as u64);
    for round in 0..40 {
        let v = interleave(segs, &mut rng, [1, 3, 7, 64][round % 4]);
        assert_eq!(feed_all(cfg, &v).0, want, "interleaving {round}: {v:?}");
    }
    (want, anomalies)
}

fn run(segs: &[Seg<'_>]) -> (Vec<Transaction>, HttpAnomalies) {
    run_cfg(HttpConfig::default(), segs)
}

fn s(v: &[u8]) -> &str {
    std::str::from_utf8(v).unwrap_or("<bin>")
}

#[test]
fn keep_alive_get_with_fields() {
    let (t, a) = run(&[
        (C, b"GET /index.html?q=1 HTTP/1.1\r\nHost: example.com:8080\r\nUser-Agent: curl/8.0\r\nReferer: http://a/\r\nOrigin: http://o\r\nAuthorization: Basic YWxhZGRpbjpvcGVuc2VzYW1l\r\n\r\n"),
        (S, b"HTTP/1.1 200 OK\r\nContent-Type: text/html\r\nContent-Length: 5\r\n\r\nhello"),
        (C, b"POST /form HTTP/1.0\r\nhost: b\r\ncontent-type: application/x-www-form-urlencoded\r\ncontent-length: 3\r\n\r\na=b"),
        (S, b"HTTP/1.1 302 Found\r\nLocation: /next\r\nContent-Length: 0\r\n\r\n"),
    ]);
    assert_eq!(t.len(), 2);
    assert_eq!(a, HttpAnomalies::default());
    let x = &t[0];
    assert_eq!(x.trans_depth, 1);
    assert_eq!(
        (s(&x.method), s(&x.uri), s(&x.version)),
        ("GET", "/index.html?q=1", "1.1")
    );
    assert_eq!(s(&x.host), "example.com:8080");
    assert_eq!(s(&x.user_agent), "curl/8.0");
    assert_eq!(s(&x.referer), "http://a/");
    assert_eq!(s(&x.origin), "http://o");
    assert_eq!(s(&x.username), "aladdin");
    assert!(x.request_complete && x.response_complete);
    assert_eq!((x.request_body_len, x.request_content_length), (0, None));
    assert_eq!(x.status, Some(200));
    assert_eq!((s(&x.status_msg), s(&x.response_version)), ("OK", "1.1"));
    assert_eq!(s(&x.response_content_type), "text/html");
    assert_eq!(
        (x.response_body_len, x.response_content_length),
        (5, Some(5))
    );
    assert_eq!((x.request_ts, x.response_ts), (Some(T0), Some(T0)));
    let y = &t[1];
    assert_eq!(y.trans_depth, 2);
    assert_eq!(
        (s(&y.method), s(&y.host), s(&y.version)),
        ("POST", "b", "1.0")
    );
    assert_eq!(
        s(&y.request_content_type),
        "application/x-www-form-urlencoded"
    );
    assert_eq!((y.request_body_len, y.request_content_length), (3, Some(3)));
    assert_eq!((y.status, s(&y.location)), (Some(302), "/next"));
    assert_eq!(
        (y.response_body_len, y.response_content_length),
        (0, Some(0))
    );
    assert!(y.response_complete);
}

#[test]
fn pipelining_pairs_fifo() {
    let (t, a) = run(&[
        (C, b"GET /1 HTTP/1.1\r\nHost: h\r\n\r\nGET /2 HTTP/1.1\r\nHost: h\r\n\r\nDELETE /3 HTTP/1.1\r\nHost: h\r\n\r\n"),
        (S, b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nabHTTP/1.1 404 Not Found\r\nContent-Length: 3\r\n\r\nxyzHTTP/1.1 204 No Content\r\n\r\n"),
    ]);
    assert_eq!(a, HttpAnomalies::default());
    let got: Vec<(u32, String, Option<u16>, u64)> = t
        .iter()
        .map(|x| {
            (
                x.trans_depth,
                s(&x.uri).to_string(),
                x.status,
                x.response_body_len,
            )
        })
        .collect();
    assert_eq!(
        got,
        vec![
            (1, "/1".to_string(), Some(200), 2),
            (2, "/2".to_string(), Some(404), 3),
            (3, "/3".to_string(), Some(204), 0)
        ]
    );
    assert_eq!(s(&t[2].method), "DELETE");
}

#[test]
fn transactions_are_emitted_when_the_response_completes() {
    let mut p = HttpParser::new(HttpConfig::default());
    let mut n = 0;
    p.feed(C, T0, b"GET / HTTP/1.1\r\n\r\n", &mut |_| n += 1);
    assert_eq!(n, 0, "a request alone is not emitted");
    p.feed(
        S,
        T0,
        b"HTTP/1.1 200 OK\r\nContent-Length: 4\r\n\r\nab",
        &mut |_| n += 1,
    );
    assert_eq!(n, 0, "body not complete yet");
    p.feed(S, T0, b"cd", &mut |_| n += 1);
    assert_eq!(n, 1);
    p.finish(T0, &mut |_| n += 1);
    assert_eq!(n, 1);
}

#[test]
fn chunked_with_extensions_and_trailers() {
    let (t, a) = run(&[
        (C, b"POST /up HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: chunked\r\n\r\n4;name=val\r\nabcd\r\n3 ; x=\"q;\"\r\nefg\r\n0\r\nX-Checksum: 1\r\n\r\n"),
        (S, b"HTTP/1.1 200 OK\r\nTransfer-Encoding: gzip, chunked\r\n\r\n1A\r\nabcdefghijklmnopqrstuvwxyz\r\n000\r\n\r\n"),
        (C, b"GET /after HTTP/1.1\r\n\r\n"),
        (S, b"HTTP/1.1 200 OK\nTransfer-Encoding: chunked\n\n5\nhello\n0\nTrailer-A: x\nTrailer-B: y\n\n"),
    ]);
    assert_eq!(a, HttpAnomalies::default());
    assert_eq!(t.len(), 2);
    assert_eq!((t[0].request_body_len, t[0].request_complete), (7, true));
    assert_eq!((t[0].response_body_len, t[0].response_complete), (26, true));
    assert_eq!(t[0].request_content_length, None);
    assert_eq!((s(&t[1].uri), t[1].response_body_len), ("/after", 5));
    assert!(t[1].response_complete);
}

#[test]
fn content_length_body_is_not_parsed() {
    let body = b"HTTP/1.1 500 Fake\r\n\r\nGET /fake HTTP/1.1\r\n\r\n";
    let mut resp =
        format!("HTTP/1.1 200 OK\r\nContent-Length: {}\r\n\r\n", body.len()).into_bytes();
    resp.extend_from_slice(body);
    let (t, a) = run(&[(C, b"GET / HTTP/1.1\r\n\r\n"), (S, &resp)]);
    assert_eq!(a, HttpAnomalies::default());
    assert_eq!(t.len(), 1);
    assert_eq!(
        (t[0].status, t[0].response_body_len),
        (Some(200), body.len() as u64)
    );
}

#[test]
fn close_delimited_response_ends_at_finish() {
    let segs: [Seg<'_>; 2] = [
        (C, b"GET /stream HTTP/1.0\r\n\r\n"),
        (S, b"HTTP/1.0 200 OK\r\nContent-Type: text/plain\r\n\r\nline 1\r\nHTTP/1.1 200 not a response\r\n"),
    ];
    let (t, a) = run(&segs);
    assert_eq!(a, HttpAnomalies::default());
    assert_eq!(t.len(), 1);
    assert_eq!(t[0].response_body_len, 37);
    assert!(t[0].response_complete);
    assert_eq!(t[0].response_content_length, None);
    // Nothing is emitted before the end of the connection.
    let mut p = HttpParser::new(HttpConfig::default());
    let mut n = 0;
    for (d, b) in segs {
        p.feed(d, T0, b, &mut |_| n += 1);
    }
    assert_eq!(n, 0);
    // TE without chunked in a response: also until close.
    let (t, _) = run(&[
        (C, b"GET / HTTP/1.1\r\n\r\n"),
        (
            S,
            b"HTTP/1.1 200 OK\r\nTransfer-Encoding: gzip\r\n\r\n0123456789",
        ),
    ]);
    assert_eq!((t[0].response_body_len, t[0].response_complete), (10, true));
}

#[test]
fn head_and_204_304_have_no_body() {
    let (t, a) = run(&[
        (C, b"HEAD /big HTTP/1.1\r\n\r\nGET /nc HTTP/1.1\r\n\r\nGET /nm HTTP/1.1\r\n\r\nGET /last HTTP/1.1\r\n\r\n"),
        (S, b"HTTP/1.1 200 OK\r\nContent-Length: 100000\r\nTransfer-Encoding: chunked\r\n\r\n"),
        (S, b"HTTP/1.1 204 No Content\r\nContent-Length: 50\r\n\r\n"),
        (S, b"HTTP/1.1 304 Not Modified\r\nContent-Length: 50\r\n\r\n"),
        (S, b"HTTP/1.1 200 OK\r\nContent-Length: 1\r\n\r\nZ"),
    ]);
    assert_eq!(t.len(), 4);
    assert_eq!(a.te_and_cl, 0, "HEAD response framing headers are not used");
    for (x, (code, len)) in t.iter().zip([(200, 0), (204, 0), (304, 0), (200, 1)]) {
        assert_eq!((x.status, x.response_body_len), (Some(code), len));
        assert!(x.response_complete);
    }
    assert_eq!(t[0].response_content_length, Some(100000));
}

#[test]
fn continue_100_keeps_pairing() {
    let (t, a) = run(&[
        (
            C,
            b"PUT /f HTTP/1.1\r\nHost: h\r\nExpect: 100-continue\r\nContent-Length: 4\r\n\r\n",
        ),
        (S, b"HTTP/1.1 100 Continue\r\n\r\n"),
        (C, b"data"),
        (
            S,
            b"HTTP/1.1 102 Processing\r\n\r\nHTTP/1.1 201 Created\r\nContent-Length: 2\r\n\r\nok",
        ),
        (C, b"GET /next HTTP/1.1\r\n\r\n"),
        (S, b"HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n"),
    ]);
    assert_eq!(a, HttpAnomalies::default());
    assert_eq!(t.len(), 2);
    assert_eq!(
        (t[0].info_code, s(&t[0].info_msg)),
        (Some(102), "Processing")
    );
    assert_eq!((t[0].status, s(&t[0].status_msg)), (Some(201), "Created"));
    assert_eq!((t[0].request_body_len, t[0].response_body_len), (4, 2));
    assert_eq!((t[1].info_code, t[1].status), (None, Some(200)));
}

#[test]
fn connect_enters_tunnel() {
    let (t, a) = run(&[
        (
            C,
            b"CONNECT example.com:443 HTTP/1.1\r\nHost: example.com:443\r\n\r\n",
        ),
        (
            S,
            b"HTTP/1.1 200 Connection established\r\n\r\n\x16\x03\x03\x00\x10garbage",
        ),
        (C, b"\x16\x03\x01\x02\x00\x01\x00\x01\xfc\x03\x03"),
        (S, b"HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n"),
    ]);
    assert_eq!(t.len(), 1);
    assert_eq!(
        (s(&t[0].method), s(&t[0].uri)),
        ("CONNECT", "example.com:443")
    );
    assert_eq!(t[0].status, Some(200));
    assert!(t[0].response_complete);
    assert_eq!((a.response_without_request, a.bad_status_line), (0, 0));
    let mut p = HttpParser::new(HttpConfig::default());
    let req = b"CONNECT h:443 HTTP/1.1\r\n\r\n";
    assert_eq!(p.feed(C, T0, req, &mut |_| {}), req.len());
    assert!(!p.is_tunnel());
    // The bytes after the answer's head are the tunnel's: left to the caller.
    let head = b"HTTP/1.1 200 OK\r\n\r\n";
    let mut chunk = head.to_vec();
    chunk.extend_from_slice(b"\x16\x03\x03\x00\x02hi");
    let mut got = 0;
    assert_eq!(p.feed(S, T0, &chunk, &mut |_| got += 1), head.len());
    assert_eq!(
        got, 1,
        "the CONNECT transaction is emitted before the tunnel"
    );
    assert!(p.is_tunnel() && p.is_connect_tunnel());
    assert_eq!(p.feed(C, T0, b"\x16\x03\x01", &mut |_| {}), 0);
    // A protocol switch is a tunnel too, but not one of CONNECT.
    let mut p = HttpParser::new(HttpConfig::default());
    p.feed(
        C,
        T0,
        b"GET /ws HTTP/1.1\r\nUpgrade: websocket\r\n\r\n",
        &mut |_| {},
    );
    p.feed(
        S,
        T0,
        b"HTTP/1.1 101 Switching Protocols\r\n\r\n",
        &mut |_| {},
    );
    assert!(p.is_tunnel() && !p.is_connect_tunnel());
    // A refused CONNECT is an ordinary response.
    let (t, _) = run(&[
        (C, b"CONNECT h:443 HTTP/1.1\r\n\r\n"),
        (
            S,
            b"HTTP/1.1 407 Proxy Authentication Required\r\nContent-Length: 3\r\n\r\nno!",
        ),
        (C, b"GET / HTTP/1.1\r\n\r\n"),
        (S, b"HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n"),
    ]);
    assert_eq!(
        t.iter().map(|x| x.status).collect::<Vec<_>>(),
        [Some(407), Some(200)]
    );
}

#[test]
fn switching_protocols_enters_tunnel() {
    let (t, a) = run(&[
        (C, b"GET /chat HTTP/1.1\r\nHost: h\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\r\nGET /queued HTTP/1.1\r\n\r\n"),
        (S, b"HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\n\r\n\x81\x05hello"),
        (C, b"\x81\x85\x37\xfa\x21\x3d\x7f\x9f\x4d\x51\x58"),
    ]);
    assert_eq!(a.bad_request_line, 0);
    assert_eq!(t.len(), 2, "the queued request is emitted at finish");
    assert_eq!((t[0].status, t[0].info_code), (Some(101), Some(101)));
    assert!(t[0].response_complete);
    assert_eq!((s(&t[1].uri), t[1].status), ("/queued", None));
}

#[test]
fn bad_request_line_then_resync() {
    let (t, a) = run(&[
        (
            C,
            b"\x16\x03\x01\x00\x05hello\r\nbody text here\r\nGET /ok HTTP/1.1\r\n\r\n",
        ),
        (S, b"HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n"),
    ]);
    assert_eq!(t.len(), 1);
    assert_eq!(s(&t[0].uri), "/ok");
    assert_eq!((a.bad_request_line, a.lost_sync, a.resync), (1, 1, 1));
    // A line that is not a request line at all.
    let (t, a) = run(&[(C, b"(bad) / HTTP/1.1\r\n\r\n")]);
    assert!(t.is_empty());
    assert_eq!(a.bad_request_line, 1);
}

#[test]
fn bad_status_line_then_resync() {
    let (t, a) = run(&[
        (C, b"GET /1 HTTP/1.1\r\n\r\nGET /2 HTTP/1.1\r\n\r\n"),
        (
            S,
            b"HTTP/1.1 abc Broken\r\nContent-Length: 2\r\n\r\nxxHTTP/1.1 200 OK\r\n",
        ),
        (S, b"HTTP/1.1 201 Created\r\nContent-Length: 0\r\n\r\n"),
    ]);
    assert_eq!(a.bad_status_line, 1);
    assert_eq!(a.resync, 1);
    // The resynchronised response pairs with the oldest waiting request.
    assert_eq!(t.len(), 2);
    assert_eq!((s(&t[0].uri), t[0].status), ("/1", Some(201)));
    assert_eq!((s(&t[1].uri), t[1].status), ("/2", None));
}

#[test]
fn huge_header_is_skipped() {
    let cfg = HttpConfig {
        max_head_bytes: 200,
        ..HttpConfig::default()
    };
    let mut big = b"GET /big HTTP/1.1\r\nX-Pad: ".to_vec();
    big.extend(std::iter::repeat_n(b'a', 300));
    big.extend_from_slice(b"\r\n\r\nGET /small HTTP/1.1\r\n\r\n");
    let (t, a) = run_cfg(
        cfg,
        &[
            (C, &big),
            (S, b"HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n"),
        ],
    );
    assert_eq!(a.header_too_long, 1);
    assert_eq!(t.len(), 1);
    assert_eq!(s(&t[0].uri), "/small");
    // Exactly at the limit is fine.
    let exact = b"GET /x HTTP/1.1\r\nA: b\r\n\r\n";
    let cfg = HttpConfig {
        max_head_bytes: exact.len(),
        ..HttpConfig::default()
    };
    let (t, a) = run_cfg(cfg, &[(C, exact)]);
    assert_eq!((t.len(), a.header_too_long), (1, 0));
    let cfg = HttpConfig {
        max_head_bytes: exact.len() - 1,
        ..HttpConfig::default()
    };
    let (t, a) = run_cfg(cfg, &[(C, exact)]);
    assert_eq!((t.len(), a.header_too_long), (0, 1));
}

#[test]
fn gap_inside_known_length_body_is_counted() {
    let mut p = HttpParser::new(HttpConfig::default());
    let mut got = Vec::new();
    p.feed(
        C,
        T0,
        b"POST /u HTTP/1.1\r\nContent-Length: 10\r\n\r\nab",
        &mut |t| got.push(t.clone()),
    );
    p.gap(C, 5);
    p.feed(C, T0, b"cde", &mut |t| got.push(t.clone()));
    p.feed(C, T0, b"GET /n HTTP/1.1\r\n\r\n", &mut |t| {
        got.push(t.clone())
    });
    p.feed(
        S,
        T0,
        b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n10\r\n0123",
        &mut |t| got.push(t.clone()),
    );
    p.gap(S, 12);
    p.feed(
        S,
        T0,
        b"\r\n0\r\n\r\nHTTP/1.1 200 OK\r\nContent-Length: 1\r\n\r\n",
        &mut |t| got.push(t.clone()),
    );
    p.gap(S, 1);
    assert_eq!(
        got.len(),
        1,
        "the gap completed the second response, emitted later"
    );
    p.finish(T0, &mut |t| got.push(t.clone()));
    assert_eq!(got.len(), 2);
    assert_eq!(
        (got[0].request_body_len, got[0].request_complete),
        (10, true)
    );
    assert_eq!(
        (got[0].response_body_len, got[0].response_complete),
        (16, true)
    );
    assert_eq!((s(&got[1].uri), got[1].response_body_len), ("/n", 1));
    assert!(got[1].response_complete);
    assert_eq!(p.anomalies().gaps, 3);
    assert_eq!(p.anomalies().lost_sync, 0);
}

#[test]
fn gap_in_head_keeps_the_start_line_and_loses_the_direction_until_a_message_start() {
    let mut p = HttpParser::new(HttpConfig::default());
    let mut got = Vec::new();
    p.feed(
        C,
        T0,
        b"GET /cut HTTP/1.1\r\nUser-Agent: ua\r\nHo",
        &mut |t| got.push(t.clone()),
    );
    p.gap(C, 40);
    p.feed(
        C,
        T0,
        b"ader: x\r\n\r\nGET /found HTTP/1.1\r\n\r\n",
        &mut |t| got.push(t.clone()),
    );
    p.feed(
        S,
        T0,
        b"HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\n01",
        &mut |t| got.push(t.clone()),
    );
    // A gap running past the response body: the body ends, the direction is lost.
    p.gap(S, 30);
    p.feed(
        S,
        T0,
        b"garbage\r\nHTTP/1.1 404 Nope\r\nContent-Length: 0\r\n\r\n",
        &mut |t| got.push(t.clone()),
    );
    p.finish(T0, &mut |t| got.push(t.clone()));
    assert_eq!(p.anomalies().lost_sync, 2);
    assert_eq!(p.anomalies().resync, 2);
    assert_eq!(got.len(), 2);
    // The head cut by the gap keeps its start line and its complete header lines (not the
    // "Ho" cut in the middle), and as the first request it pairs with the first response.
    assert_eq!(
        (s(&got[0].method), s(&got[0].uri), s(&got[0].user_agent)),
        ("GET", "/cut", "ua")
    );
    assert_eq!(s(&got[0].host), "");
    assert_eq!(got[0].status, Some(200));
    assert_eq!(
        (got[0].response_body_len, got[0].response_complete),
        (10, true)
    );
    assert_eq!((s(&got[1].uri), got[1].status), ("/found", Some(404)));
    assert_eq!(p.anomalies().response_without_request, 0);
    // A gap before the start line is complete keeps nothing of that head.
    let mut p = HttpParser::new(HttpConfig::default());
    let mut got = Vec::new();
    p.feed(C, T0, b"GET /no-line-end", &mut |t| got.push(t.clone()));
    p.gap(C, 9);
    p.feed(C, T0, b"x\r\n\r\nGET /next HTTP/1.1\r\n\r\n", &mut |t| {
        got.push(t.clone())
    });
    p.finish(T0, &mut |t| got.push(t.clone()));
    assert_eq!(got.len(), 1);
    assert_eq!(s(&got[0].uri), "/next");
    // A response head cut by a gap is emitted at once, incomplete; the next response, found
    // after the gap, pairs with the next request.
    let mut p = HttpParser::new(HttpConfig::default());
    let mut got = Vec::new();
    p.feed(
        C,
        T0,
        b"GET /a HTTP/1.1\r\n\r\nGET /b HTTP/1.1\r\n\r\n",
        &mut |t| got.push(t.clone()),
    );
    p.feed(
        S,
        T0,
        b"HTTP/1.1 302 Found\r\nLocation: /x\r\nContent-Ty",
        &mut |t| got.push(t.clone()),
    );
    p.gap(S, 100);
    assert!(got.is_empty(), "emitted at the next feed or finish");
    p.feed(
        S,
        T0,
        b"pe: text/html\r\n\r\nHTTP/1.1 404 Nope\r\nContent-Length: 0\r\n\r\n",
        &mut |t| got.push(t.clone()),
    );
    assert_eq!(got.len(), 2);
    assert_eq!(
        (s(&got[0].uri), got[0].status, s(&got[0].location)),
        ("/a", Some(302), "/x")
    );
    assert!(!got[0].response_complete);
    assert_eq!((s(&got[1].uri), got[1].status), ("/b", Some(404)));
    assert!(got[1].response_complete);
    // A gap in a chunk-size line.
    let mut p = HttpParser::new(HttpConfig::default());
    let mut got = Vec::new();
    p.feed(C, T0, b"GET / HTTP/1.1\r\n\r\n", &mut |t| {
        got.push(t.clone())
    });
    p.feed(
        S,
        T0,
        b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nab",
        &mut |t| got.push(t.clone()),
    );
    p.gap(S, 3);
    p.gap(S, 4);
    p.feed(S, T0, b"\r\n0\r\n\r\n", &mut |t| got.push(t.clone()));
    assert_eq!(
        got.len(),
        1,
        "response lost in the gap is emitted incomplete"
    );
    assert_eq!(
        (got[0].response_body_len, got[0].response_complete),
        (5, false)
    );
}

#[test]
fn response_without_request() {
    let (t, a) = run(&[(S, b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nhiHTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 404 Not Found\r\n\r\n")]);
    assert_eq!(a.response_without_request, 2);
    assert_eq!(t.len(), 2);
    assert_eq!(
        (t[0].trans_depth, t[0].status, t[0].response_body_len),
        (1, Some(200), 2)
    );
    assert!(t[0].method.is_empty() && t[0].request_ts.is_none());
    assert_eq!((t[1].info_code, t[1].status), (Some(100), Some(404)));
    assert!(t[1].response_complete, "close-delimited: ended by finish");
}

#[test]
fn pending_overflow_emits_the_oldest() {
    let cfg = HttpConfig {
        max_pending: 2,
        ..HttpConfig::default()
    };
    let mut p = HttpParser::new(cfg);
    let mut got = Vec::new();
    p.feed(
        C,
        T0,
        b"GET /1 HTTP/1.1\r\n\r\nGET /2 HTTP/1.1\r\n\r\nGET /3 HTTP/1.1\r\n\r\n",
        &mut |t| got.push(t.clone()),
    );
    assert_eq!(got.len(), 1);
    assert_eq!((s(&got[0].uri), got[0].status), ("/1", None));
    assert_eq!(p.anomalies().pending_overflow, 1);
    p.feed(
        S,
        T0,
        b"HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n",
        &mut |t| got.push(t.clone()),
    );
    assert_eq!((s(&got[1].uri), got[1].status), ("/2", Some(200)));
    p.finish(T0, &mut |t| got.push(t.clone()));
    assert_eq!(got.len(), 3);
    assert_eq!(s(&got[2].uri), "/3");
}

#[test]
fn tolerance_version_less_fold_bare_lf_leading_blank() {
    let (t, a) = run(&[
        (C, b"\r\n\r\nGET /old\r\nHost: h\r\n\r\n"),
        (S, b"HTTP/1.0 200 OK\r\nContent-Length: 1\r\n\r\nx\r\n"),
        (C, b"\nPROPFIND   /dav/  HTTP/1.1\nHost:   dav.example  \nUser-Agent: a\n  b\n\tc\nContent-Length: 2\n\n<>"),
        (S, b"\r\nHTTP/1.1 207 Multi-Status\nContent-Length: 0\n\n"),
    ]);
    assert_eq!(a.missing_version, 1);
    assert_eq!(t.len(), 2);
    assert_eq!(
        (s(&t[0].uri), s(&t[0].version), s(&t[0].host)),
        ("/old", "", "h")
    );
    assert_eq!(t[0].status, Some(200));
    assert_eq!((s(&t[1].method), s(&t[1].uri)), ("PROPFIND", "/dav/"));
    assert_eq!(
        (s(&t[1].host), s(&t[1].user_agent)),
        ("dav.example", "a b c")
    );
    assert_eq!((t[1].request_body_len, t[1].status), (2, Some(207)));
    assert_eq!(a.bad_header_line, 0);
}

#[test]
fn te_with_cl_and_bad_content_length() {
    let (t, a) = run(&[
        (C, b"POST /s HTTP/1.1\r\nContent-Length: 100\r\nTransfer-Encoding: chunked\r\n\r\n2\r\nab\r\n0\r\n\r\n"),
        (S, b"HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n"),
    ]);
    assert_eq!(a.te_and_cl, 1);
    assert_eq!((t[0].request_body_len, t[0].request_complete), (2, true));
    assert_eq!(t[0].request_content_length, Some(100));
    // Conflicting lengths: the request body cannot be framed; the direction is lost until
    // the next request line.
    let (t, a) = run(&[
        (C, b"POST /c HTTP/1.1\r\nContent-Length: 3\r\nContent-Length: 4\r\n\r\nabcdGET /n HTTP/1.1\r\n\r\n"),
        (S, b"HTTP/1.1 400 Bad\r\nContent-Length: x\r\n\r\nHTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n"),
    ]);
    assert_eq!(a.bad_content_length, 2);
    assert_eq!(t.len(), 2);
    assert_eq!(
        (s(&t[0].uri), t[0].request_complete, t[0].status),
        ("/c", false, Some(400))
    );
    assert!(!t[0].response_complete);
    // The lost client side resynchronises right after the head, at "abcdGET /n HTTP/1.1"
    // (a valid request line: what a server ignoring the body would also read).
    assert_eq!(
        (s(&t[1].method), s(&t[1].uri), t[1].status),
        ("abcdGET", "/n", Some(200))
    );
    // Request TE without chunked.
    let (_, a) = run(&[(C, b"POST / HTTP/1.1\r\nTransfer-Encoding: gzip\r\n\r\nxx")]);
    assert_eq!(a.bad_transfer_encoding, 1);
}

#[test]
fn bad_chunk_size_and_chunk_end() {
    let (t, a) = run(&[
        (C, b"GET /a HTTP/1.1\r\n\r\nGET /b HTTP/1.1\r\n\r\n"),
        (S, b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\nHTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n2\r\nabXX\r\n"),
    ]);
    assert_eq!(a.bad_chunk, 2);
    assert_eq!(t.len(), 2);
    assert_eq!((s(&t[0].uri), t[0].response_complete), ("/a", false));
    assert_eq!(
        (s(&t[1].uri), t[1].response_body_len, t[1].response_complete),
        ("/b", 2, false)
    );
    // Overflowing chunk size.
    let (_, a) = run(&[
        (C, b"GET / HTTP/1.1\r\n\r\n"),
        (
            S,
            b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n11111111111111111\r\n",
        ),
    ]);
    assert_eq!(a.bad_chunk, 1);
}

#[test]
fn truncated_fields_and_bad_authorization() {
    let cfg = HttpConfig {
        max_uri: 4,
        max_field: 3,
        ..HttpConfig::default()
    };
    let (t, a) = run_cfg(
        cfg,
        &[(
            C,
            b"GET /abcdef HTTP/1.1\r\nHost: example\r\nAuthorization: Basic !!!\r\n\r\n",
        )],
    );
    assert_eq!((s(&t[0].uri), s(&t[0].host)), ("/abc", "exa"));
    assert_eq!(a.truncated_field, 2);
    assert_eq!(a.bad_authorization, 1);
    assert!(t[0].username.is_empty());
}

#[test]
fn finish_emits_half_messages() {
    let (t, _) = run(&[
        (
            C,
            b"GET /1 HTTP/1.1\r\n\r\nGET /2 HTTP/1.1\r\nHost: h2\r\nUser-Ag",
        ),
        (S, b"HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\n01234"),
    ]);
    assert_eq!(t.len(), 2);
    assert_eq!(
        (s(&t[0].uri), t[0].response_body_len, t[0].response_complete),
        ("/1", 5, false)
    );
    assert_eq!(
        (s(&t[1].uri), s(&t[1].host), t[1].request_complete),
        ("/2", "h2", false)
    );
    assert!(
        t[1].user_agent.is_empty(),
        "a partial header line is not used"
    );
    // Half response head pairs with the waiting request.
    let (t, _) = run(&[
        (C, b"GET /x HTTP/1.1\r\n\r\n"),
        (S, b"HTTP/1.1 503 Busy\r\nContent-Type: text/pl"),
    ]);
    assert_eq!((t[0].status, t[0].response_complete), (Some(503), false));
    assert!(t[0].response_content_type.is_empty());
    // A start line without its LF is not enough.
    let (t, _) = run(&[(C, b"GET /never-ended HTTP/1.1")]);
    assert!(t.is_empty());
}

#[test]
fn timestamps_come_from_the_first_byte() {
    let mut p = HttpParser::new(HttpConfig::default());
    let mut got = Vec::new();
    p.feed(C, Timestamp(1), b"\r\n", &mut |t| got.push(t.clone()));
    p.feed(C, Timestamp(2), b"GET / HT", &mut |t| got.push(t.clone()));
    p.feed(C, Timestamp(3), b"TP/1.1\r\n\r\n", &mut |t| {
        got.push(t.clone())
    });
    p.feed(
        S,
        Timestamp(4),
        b"HTTP/1.1 100 Continue\r\n\r\n",
        &mut |t| got.push(t.clone()),
    );
    p.feed(
        S,
        Timestamp(5),
        b"HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n",
        &mut |t| got.push(t.clone()),
    );
    assert_eq!(got.len(), 1);
    assert_eq!(
        (got[0].request_ts, got[0].response_ts),
        (Some(Timestamp(2)), Some(Timestamp(4)))
    );
}

#[test]
fn reset_buffered_bytes_and_reuse() {
    let mut p = HttpParser::new(HttpConfig::default());
    assert_eq!(p.buffered_bytes(), 0);
    p.feed(C, T0, b"GET /abc HTTP/1.1\r\nHost: x", &mut |_| {});
    assert_eq!(p.buffered_bytes(), 26);
    p.feed(C, T0, b"\r\n\r\n", &mut |_| {});
    // method + uri + version + host
    assert_eq!(p.buffered_bytes(), 3 + 4 + 3 + 1);
    p.feed(
        S,
        T0,
        b"HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n",
        &mut |_| {},
    );
    assert_eq!(p.buffered_bytes(), 0);
    p.feed(C, T0, b"\x00binary", &mut |_| {});
    assert_eq!(p.anomalies().bad_request_line, 1);
    p.reset();
    assert_eq!(p.anomalies(), &HttpAnomalies::default());
    let mut got = Vec::new();
    p.feed(C, T0, b"GET /again HTTP/1.1\r\n\r\n", &mut |t| {
        got.push(t.clone())
    });
    p.finish(T0, &mut |t| got.push(t.clone()));
    assert_eq!(
        (got.len(), got[0].trans_depth, s(&got[0].uri)),
        (1, 1, "/again")
    );
    // Finished: further input is ignored.
    p.feed(C, T0, b"GET /late HTTP/1.1\r\n\r\n", &mut |t| {
        got.push(t.clone())
    });
    p.finish(T0, &mut |t| got.push(t.clone()));
    assert_eq!(got.len(), 1);
}

#[test]
fn transactions_are_pooled() {
    let mut p = HttpParser::new(HttpConfig::default());
    for k in 0..10 {
        let req = format!("GET /{k} HTTP/1.1\r\nHost: host{k}\r\n\r\n");
        p.feed(C, T0, req.as_bytes(), &mut |_| {});
        p.feed(
            S,
            T0,
            b"HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n",
            &mut |_| {},
        );
    }
    // One transaction circulates between the queue and the pool.
    assert_eq!((p.queue.len(), p.pool.len(), p.ready.len()), (0, 1, 0));
    assert!(p.pool[0].uri.capacity() >= 2 && p.pool[0].uri.is_empty());
    assert!(p.sides.iter().all(|s| s.head.is_empty()));
}

/// A warmed-up parser reuses its buffers: the same heap blocks before and after another
/// round of traffic (split heads, folded header, chunked bodies, pipelining).
#[test]
fn warmed_up_parser_does_not_reallocate() {
    let mut p = HttpParser::new(HttpConfig::default());
    let round = |p: &mut HttpParser| {
        let mut n = 0;
        p.feed(
            C,
            T0,
            b"GET /a HTTP/1.1\r\nHost: h\r\nX-F: a\r\n b\r\nUser-Ag",
            &mut |_| n += 1,
        );
        p.feed(
            C,
            T0,
            b"ent: ua\r\n\r\nPOST /b HTTP/1.1\r\nContent-Length: 2\r\n\r\nxy",
            &mut |_| n += 1,
        );
        p.feed(S, T0, b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n3;x\r\nabc\r\n0\r\n\r\nHTTP/1.1 20", &mut |_| n += 1);
        p.feed(S, T0, b"4 No Content\r\n\r\n", &mut |_| n += 1);
        assert_eq!(n, 2);
    };
    round(&mut p);
    round(&mut p);
    let snapshot = |p: &HttpParser| {
        let mut v: Vec<(usize, usize)> = p
            .sides
            .iter()
            .map(|s| (s.head.as_ptr() as usize, s.head.capacity()))
            .collect();
        v.push((p.fold.as_ptr() as usize, p.fold.capacity()));
        v.push((p.queue.capacity(), p.ready.capacity()));
        // The pooled transactions may come back in another order.
        let mut pooled: Vec<Vec<(usize, usize)>> = p
            .pool
            .iter()
            .map(|t| {
                [&t.method, &t.uri, &t.host, &t.user_agent, &t.status_msg]
                    .iter()
                    .map(|f| (f.as_ptr() as usize, f.capacity()))
                    .collect()
            })
            .collect();
        pooled.sort();
        v.extend(pooled.concat());
        v
    };
    let before = snapshot(&p);
    assert!(p.sides[0].head.capacity() > 0 && p.fold.capacity() > 0 && p.pool.len() == 2);
    for _ in 0..3 {
        round(&mut p);
    }
    let after = snapshot(&p);
    assert_eq!(after, before);
}

#[test]
fn bad_header_lines_are_counted_and_ignored() {
    let (t, a) = run(&[
        (C, b"GET / HTTP/1.1\r\nHost : spaced\r\nno colon here\r\n folded onto the bad line\r\n: empty name\r\nHost: good\r\nHost: second\r\n\r\n"),
        (S, b"HTTP/1.1 200 OK\r\nContent-Length : 5\r\n\r\n"),
    ]);
    assert_eq!(a.bad_header_line, 4);
    assert_eq!(s(&t[0].host), "good", "first valid Host is kept");
    // "Content-Length : 5" is not a field: the body runs to the end of the connection.
    assert_eq!(
        (t[0].response_content_length, t[0].response_body_len),
        (None, 0)
    );
    assert!(t[0].response_complete);
}

#[test]
fn request_body_prefix_is_kept_and_capped() {
    let body = "user=admin%27+or+1%3D1--&pass=x";
    let req = format!(
        "POST /login HTTP/1.1\r\nHost: h\r\nContent-Length: {}\r\n\r\n{body}",
        body.len()
    );
    // Split inside the body: the prefix spans feeds.
    let (a, b) = req.as_bytes().split_at(req.len() - 7);
    let big = "a".repeat(REQUEST_BODY_PREFIX + 100);
    let chunked = format!(
        "POST /x HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n{:x}\r\n{big}\r\n0\r\n\r\n",
        big.len()
    );
    let (t, _) = feed_all(
        HttpConfig::default(),
        &[
            (C, a.to_vec()),
            (C, b.to_vec()),
            (
                S,
                b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok".to_vec(),
            ),
            (C, chunked.into_bytes()),
            (S, b"HTTP/1.1 204 No Content\r\n\r\n".to_vec()),
        ],
    );
    assert_eq!(t.len(), 2);
    assert_eq!(t[0].request_body, body.as_bytes());
    // Chunked and longer than the prefix: exactly REQUEST_BODY_PREFIX bytes are kept.
    assert_eq!(t[1].request_body.len(), REQUEST_BODY_PREFIX);
    assert_eq!(t[1].request_body_len, big.len() as u64);
    assert!(t[1].request_body.iter().all(|&c| c == b'a'));
}
