//! HTTP parser against real captures (compared with tshark) and property tests (no panic on
//! arbitrary bytes; generated conversations give the expected transactions whatever the
//! chunking and interleaving).

use std::collections::{BTreeMap, HashMap};
use std::net::IpAddr;
use std::path::{Path, PathBuf};
use std::process::Command;

use proptest::prelude::*;
use wirescope_capture::CaptureReader;
use wirescope_core::Timestamp;
use wirescope_proto::http::{HttpConfig, HttpParser, Transaction, REQUEST_BODY_PREFIX};
use wirescope_proto::Dir;
use wirescope_wire::{decode_frame, tcp_flags, Transport};

fn corpus_dir() -> PathBuf {
    std::env::var_os("WIRESCOPE_CORPUS")
        .map(PathBuf::from)
        .unwrap_or_else(|| Path::new(env!("CARGO_MANIFEST_DIR")).join("../../../shared/corpus"))
}

fn text(v: &[u8]) -> String {
    String::from_utf8_lossy(v).into_owned()
}

// ---------------------------------------------------------------------------------------
// A tiny TCP stream collector: per connection and direction, orders segments by sequence
// number, drops retransmitted bytes, and hands in-order bytes to the parser in capture
// order. Holes left at the end are reported to the parser as gaps (and counted).

type Endpoint = (IpAddr, u16);
type ConnKey = (Endpoint, Endpoint);

fn conn_key(a: Endpoint, b: Endpoint) -> ConnKey {
    if a <= b {
        (a, b)
    } else {
        (b, a)
    }
}

#[derive(Default)]
struct DirStream {
    base: Option<u32>,
    next: u64,
    pending: BTreeMap<u64, (Timestamp, Vec<u8>)>,
}

struct Conn {
    client: Option<Endpoint>,
    streams: [DirStream; 2],
    parser: HttpParser,
    txs: Vec<Transaction>,
    /// The feeds in order, for the re-chunking check.
    feeds: Vec<(Dir, Vec<u8>)>,
    gaps: u64,
}

impl Conn {
    fn feed(&mut self, dir: Dir, ts: Timestamp, data: &[u8]) {
        let txs = &mut self.txs;
        self.parser
            .feed(dir, ts, data, &mut |t| txs.push(t.clone()));
        self.feeds.push((dir, data.to_vec()));
    }

    /// A segment of `dir` at relative offset `rel` (captured bytes `data`, `missing` more
    /// bytes cut by the snap length).
    fn segment(&mut self, dir: Dir, ts: Timestamp, rel: u64, data: &[u8], missing: u64) {
        let st = &mut self.streams[dir.index()];
        let end = rel + data.len() as u64 + missing;
        if end <= st.next {
            return;
        }
        if rel > st.next {
            let e = st.pending.entry(rel).or_insert((ts, Vec::new()));
            if data.len() > e.1.len() {
                *e = (ts, data.to_vec());
            }
            return;
        }
        let skip = (st.next - rel) as usize;
        st.next = end;
        if let Some(tail) = data.get(skip..) {
            self.feed(dir, ts, tail);
        }
        if missing > 0 {
            self.parser.gap(dir, missing);
            self.gaps += 1;
        }
        self.drain(dir, false);
    }

    /// Delivers pending segments that became contiguous (or, at the end, all of them with
    /// gaps for the holes).
    fn drain(&mut self, dir: Dir, at_end: bool) {
        loop {
            let st = &mut self.streams[dir.index()];
            let Some((&rel, _)) = st.pending.first_key_value() else {
                return;
            };
            if rel > st.next && !at_end {
                return;
            }
            let Some((ts, data)) = st.pending.remove(&rel) else {
                return;
            };
            if rel > st.next {
                let hole = rel - st.next;
                st.next = rel;
                self.parser.gap(dir, hole);
                self.gaps += 1;
            }
            let st = &mut self.streams[dir.index()];
            let end = rel + data.len() as u64;
            if end > st.next {
                let skip = (st.next - rel) as usize;
                st.next = end;
                if let Some(tail) = data.get(skip..) {
                    self.feed(dir, ts, tail);
                }
            }
        }
    }
}

/// Runs the parser over every TCP connection of `path` that is in `keep`, which gives the
/// client side of each (from tshark: the sender of requests, the receiver of responses).
fn parse_capture(path: &Path, keep: &HashMap<ConnKey, Endpoint>) -> Vec<Conn> {
    let mut r = CaptureReader::open(path).expect("open capture");
    let mut conns: HashMap<ConnKey, usize> = HashMap::new();
    let mut list: Vec<Conn> = Vec::new();
    while r.advance().expect("read capture") {
        let frame = r.current();
        let pkt = decode_frame(&frame);
        let (Some(ip), Transport::Tcp(tcp)) = (pkt.ip, pkt.transport) else {
            continue;
        };
        let src = (ip.src, tcp.src_port);
        let dst = (ip.dst, tcp.dst_port);
        let key = conn_key(src, dst);
        let syn = tcp.flags & tcp_flags::SYN != 0;
        let Some(&client) = keep.get(&key) else {
            continue;
        };
        let idx = *conns.entry(key).or_insert_with(|| {
            list.push(Conn {
                client: Some(client),
                streams: Default::default(),
                parser: HttpParser::new(HttpConfig::default()),
                txs: Vec::new(),
                feeds: Vec::new(),
                gaps: 0,
            });
            list.len() - 1
        });
        let conn = &mut list[idx];
        let Some(client) = conn.client else {
            continue;
        };
        let dir = if src == client {
            Dir::ToServer
        } else {
            Dir::ToClient
        };
        let st = &mut conn.streams[dir.index()];
        if syn {
            if st.base.is_none() {
                st.base = Some(tcp.seq.wrapping_add(1));
            }
            continue;
        }
        let payload = pkt.payload;
        let wire = u64::from(pkt.payload_wire_len).max(payload.len() as u64);
        if wire == 0 {
            continue;
        }
        if st.base.is_none() && payload.len() == 1 && wire == 1 {
            // Picked up without a handshake, and the first segment is a 1-byte TCP
            // keep-alive probe (one old byte at next-1): the stream starts after it.
            st.base = Some(tcp.seq.wrapping_add(1));
            continue;
        }
        let base = *st.base.get_or_insert(tcp.seq);
        let rel = tcp.seq.wrapping_sub(base);
        if rel >= 1 << 31 {
            continue; // before the start: an old retransmission
        }
        let missing = wire - payload.len() as u64;
        conn.segment(dir, frame.ts, u64::from(rel), payload, missing);
    }
    for conn in &mut list {
        conn.drain(Dir::ToServer, true);
        conn.drain(Dir::ToClient, true);
        let txs = &mut conn.txs;
        conn.parser
            .finish(Timestamp(0), &mut |t| txs.push(t.clone()));
    }
    list
}

// ---------------------------------------------------------------------------------------
// tshark

const AGG: char = '\u{1f}';

fn parse_ip(s: &str) -> Option<IpAddr> {
    s.split(AGG).next().and_then(|x| x.parse().ok())
}

/// One frame in tshark's output.
struct Row {
    key: ConnKey,
    src: Endpoint,
    dst: Endpoint,
    /// Per extra field, or per message (see [`tshark`]).
    values: Vec<Vec<String>>,
}

/// Runs tshark with `filter`, fields addresses and ports, then `extra`. Returns per frame
/// the connection key and, per extra field, its values (several when a frame holds several
/// messages or a field repeats).
fn tshark_fields(path: &Path, filter: &str, extra: &[&str]) -> Vec<Row> {
    let mut cmd = Command::new("tshark");
    cmd.arg("-r")
        .arg(path)
        .arg("-Y")
        // A retransmitted segment is dissected again by tshark; the collector drops it.
        .arg(format!("({filter}) && !tcp.analysis.retransmission"))
        .args(["-T", "fields", "-E", "separator=/t"])
        .arg(format!("-Eaggregator={AGG}"));
    for f in [
        "ip.src",
        "ipv6.src",
        "tcp.srcport",
        "ip.dst",
        "ipv6.dst",
        "tcp.dstport",
    ]
    .iter()
    .chain(extra)
    {
        cmd.args(["-e", f]);
    }
    let out = cmd.output().expect("tshark must be installed");
    assert!(out.status.success(), "tshark failed on {}", path.display());
    let mut rows = Vec::new();
    for line in String::from_utf8_lossy(&out.stdout).lines() {
        let cols: Vec<&str> = line.split('\t').collect();
        let src_ip = parse_ip(cols[0])
            .or_else(|| parse_ip(cols[1]))
            .expect("src");
        let dst_ip = parse_ip(cols[3])
            .or_else(|| parse_ip(cols[4]))
            .expect("dst");
        let sp: u16 = cols[2]
            .split(AGG)
            .next()
            .and_then(|p| p.parse().ok())
            .expect("port");
        let dp: u16 = cols[5]
            .split(AGG)
            .next()
            .and_then(|p| p.parse().ok())
            .expect("port");
        let key = conn_key((src_ip, sp), (dst_ip, dp));
        let per_field: Vec<Vec<String>> = cols[6..]
            .iter()
            .map(|c| {
                c.split(AGG)
                    .filter(|v| !v.is_empty())
                    .map(str::to_string)
                    .collect()
            })
            .collect();
        rows.push(Row {
            key,
            src: (src_ip, sp),
            dst: (dst_ip, dp),
            values: per_field,
        });
    }
    rows
}

/// Like [`tshark_fields`] for fields that occur once per message: one Vec of values per
/// message (several messages in one frame give several).
fn tshark(path: &Path, filter: &str, extra: &[&str]) -> Vec<Row> {
    tshark_fields(path, filter, extra)
        .into_iter()
        .map(|mut row| {
            let per_field = std::mem::take(&mut row.values);
            let n = per_field.iter().map(Vec::len).max().unwrap_or(0);
            let occurrences = (0..n)
                .map(|k| {
                    per_field
                        .iter()
                        .map(|f| f.get(k).cloned().unwrap_or_default())
                        .collect()
                })
                .collect();
            row.values = occurrences;
            row
        })
        .collect()
}

type Multiset<T> = BTreeMap<T, i64>;

/// `a - b` as signed counts, zero entries removed.
fn diff<T: Ord + Clone>(a: &[T], b: &[T]) -> Multiset<T> {
    let mut m: Multiset<T> = BTreeMap::new();
    for x in a {
        *m.entry(x.clone()).or_default() += 1;
    }
    for x in b {
        *m.entry(x.clone()).or_default() -= 1;
    }
    m.retain(|_, v| *v != 0);
    m
}

struct Compared {
    conns: Vec<Conn>,
    /// (method, host, uri): positive = only tshark, negative = only ours.
    requests: Multiset<(String, String, String)>,
    statuses: Multiset<u16>,
    /// Our status codes of responses that were cut or whose connection had holes.
    cut_statuses: Multiset<u16>,
    /// Our requests that were cut (`request_complete == false`) or whose connection had
    /// holes (a body hole is counted as body, the request is then complete).
    cut: Multiset<(String, String, String)>,
    n_requests: usize,
    n_responses: usize,
    /// User names of Basic credentials: tshark minus ours.
    usernames: Multiset<String>,
    /// De-chunked body lengths tshark found (sum of chunk sizes) that we do not report.
    chunked_missing: Multiset<u64>,
    /// How many user names and chunked bodies tshark found (the checks must not be empty).
    n_users: usize,
    n_chunked: usize,
}

fn compare(rel: &str) -> Compared {
    let path = corpus_dir().join(rel);
    assert!(path.exists(), "missing corpus file {}", path.display());
    let reqs = tshark(
        &path,
        "http.request",
        &["http.request.method", "http.host", "http.request.uri"],
    );
    let resps = tshark(&path, "http.response", &["http.response.code"]);
    let mut keep: HashMap<ConnKey, Endpoint> = HashMap::new();
    for r in &reqs {
        keep.insert(r.key, r.src);
    }
    for r in &resps {
        keep.entry(r.key).or_insert(r.dst);
    }
    let conns = parse_capture(&path, &keep);
    let t_req: Vec<(String, String, String)> = reqs
        .iter()
        .flat_map(|r| r.values.iter())
        .map(|o| (o[0].clone(), o[1].clone(), o[2].clone()))
        .collect();
    let t_status: Vec<u16> = resps
        .iter()
        .flat_map(|r| r.values.iter())
        .filter_map(|o| o[0].parse().ok())
        .collect();
    let txs = conns.iter().flat_map(|c| c.txs.iter());
    let o_req: Vec<(String, String, String)> = txs
        .clone()
        .filter(|t| !t.method.is_empty())
        .map(|t| (text(&t.method), text(&t.host), text(&t.uri)))
        .collect();
    // A 101 is both the info and the final code: count it once.
    let codes = |t: &Transaction| {
        let info = t.info_code.filter(|&c| Some(c) != t.status);
        info.into_iter().chain(t.status)
    };
    let o_status: Vec<u16> = txs.flat_map(codes).collect();
    let o_cut_status: Vec<u16> = conns
        .iter()
        .flat_map(|c| c.txs.iter().map(move |t| (c.gaps, t)))
        .filter(|(gaps, t)| !t.response_complete || *gaps > 0)
        .flat_map(|(_, t)| codes(t))
        .collect();
    let o_cut: Vec<(String, String, String)> = conns
        .iter()
        .flat_map(|c| c.txs.iter().map(move |t| (c.gaps, t)))
        .filter(|(gaps, t)| !t.method.is_empty() && (!t.request_complete || *gaps > 0))
        .map(|(_, t)| t)
        .map(|t| (text(&t.method), text(&t.host), text(&t.uri)))
        .collect();
    // Basic user names, and the de-chunked length of chunked bodies (sum of chunk sizes;
    // tshark shows the sizes in the frame ending the message).
    let extra = tshark_fields(
        &path,
        "http.authbasic || http.chunk_size",
        &["http.authbasic", "http.chunk_size"],
    );
    let t_users: Vec<String> = extra
        .iter()
        .flat_map(|r| r.values[0].iter())
        .map(|v| v.split(':').next().unwrap_or("").to_string())
        .collect();
    let t_chunked: Vec<u64> = extra
        .iter()
        .filter(|r| !r.values[1].is_empty())
        .map(|r| {
            r.values[1]
                .iter()
                .filter_map(|v| v.parse::<u64>().ok())
                .sum()
        })
        .collect();
    let all = conns.iter().flat_map(|c| c.txs.iter());
    let o_users: Vec<String> = all
        .clone()
        .filter(|t| !t.username.is_empty())
        .map(|t| text(&t.username))
        .collect();
    let o_bodies: Vec<u64> = all
        .flat_map(|t| [t.request_body_len, t.response_body_len])
        .collect();
    let mut chunked_missing = diff(&t_chunked, &o_bodies);
    chunked_missing.retain(|_, v| *v > 0);
    Compared {
        n_users: t_users.len(),
        n_chunked: t_chunked.len(),
        usernames: diff(&t_users, &o_users),
        chunked_missing,
        cut: diff(&o_cut, &[]),
        cut_statuses: diff(&o_cut_status, &[]),
        requests: diff(&t_req, &o_req),
        statuses: diff(&t_status, &o_status),
        n_requests: t_req.len(),
        n_responses: t_status.len(),
        conns,
    }
}

/// Checks that hold on any real connection: declared lengths match counted bodies for
/// complete messages, depths are 1.. in order, nothing stays buffered after finish, and
/// the same bytes re-fed in other chunkings (client bytes first) give the same transactions
/// (timestamps aside).
fn check_consistency(c: &Compared) {
    for conn in &c.conns {
        for t in &conn.txs {
            if t.request_complete && conn.gaps == 0 {
                if let Some(n) = t.request_content_length {
                    assert_eq!(t.request_body_len, n, "{t:?}");
                }
            }
            if t.response_complete && t.method != b"HEAD" && conn.gaps == 0 {
                if let (Some(n), Some(s)) = (t.response_content_length, t.status) {
                    if s != 204 && s != 304 {
                        assert_eq!(t.response_body_len, n, "{t:?}");
                    }
                }
            }
        }
        let mut depths: Vec<u32> = conn.txs.iter().map(|t| t.trans_depth).collect();
        depths.sort_unstable();
        assert!(
            depths.iter().copied().eq(1..=depths.len() as u32),
            "{depths:?}"
        );
        assert_eq!(conn.parser.buffered_bytes(), 0);
        // Reordering changes which requests overflow the queue, and a hole changes the
        // bytes: such connections are not re-fed.
        if conn.gaps > 0 || conn.parser.is_tunnel() || conn.parser.anomalies().pending_overflow > 0
        {
            continue;
        }
        let strip = |v: &[Transaction]| -> Vec<Transaction> {
            let mut v = v.to_vec();
            for t in &mut v {
                t.request_ts = None;
                t.response_ts = None;
            }
            v
        };
        let want = strip(&conn.txs);
        // Other chunkings and interleavings that keep each server byte after the client
        // bytes fed before it (causality; the capture may also begin with a response).
        // When the capture begins with a response, only the chunking changes.
        let starts_with_request = conn.feeds.first().is_some_and(|f| f.0 == Dir::ToServer);
        for (seed, max_chunk) in [(1u64, 1usize), (2, 7), (3, 1460), (4, 100_000)] {
            let feeds = if starts_with_request {
                interleave(&conn.feeds, seed, max_chunk)
            } else {
                rechunk(&conn.feeds, seed, max_chunk)
            };
            let (got, _) = run_feeds(&feeds);
            assert_eq!(strip(&got), want, "chunks up to {max_chunk}");
        }
    }
}

/// One capture compared with tshark, and the differences we explain.
struct Case {
    file: &'static str,
    /// tshark reports a message only once its head and body are reassembled; we also report
    /// messages cut by holes or by the end of the capture. When set, extra requests and
    /// status codes of ours are accepted if they are cut ones (see `Compared::cut`), and
    /// only those.
    cut: bool,
    /// Other explained differences, tshark minus ours.
    requests: &'static [((&'static str, &'static str, &'static str), i64)],
    statuses: &'static [(u16, i64)],
    why: &'static str,
}

const fn exact(file: &'static str) -> Case {
    Case {
        file,
        cut: false,
        requests: &[],
        statuses: &[],
        why: "",
    }
}

const fn cut(file: &'static str, why: &'static str) -> Case {
    Case {
        file,
        cut: true,
        requests: &[],
        statuses: &[],
        why,
    }
}

const CAPTURES: &[Case] = &[
    exact("attacks/chrissanders-packets/http_dvwa_clearlogin.pcapng"),
    exact("attacks/chrissanders-packets/http_dvwa_directorytraversal.pcapng"),
    exact("attacks/chrissanders-packets/http_dvwa_sqlinjection.pcapng"),
    exact("attacks/chrissanders-packets/http_dvwa_sqlinjection_passwords.pcapng"),
    Case {
        file: "attacks/chrissanders-packets/http_espn.pcapng",
        cut: false,
        requests: &[],
        statuses: &[(200, -1)],
        why: "tcp.stream 3, frame 893: a segment of the 5328-byte body of \
              /photo/2010/0405/trv_detroit_134.jpg was not captured; tshark never completes \
              the reassembly and reports no response, we count the hole as body (gap)",
    },
    exact("attacks/chrissanders-packets/http_espn_fail.pcapng"),
    exact("attacks/chrissanders-packets/http_google.pcapng"),
    exact("attacks/chrissanders-packets/http_ip4and6.pcapng"),
    exact("attacks/chrissanders-packets/http_post.pcapng"),
    exact("attacks/chrissanders-packets/sessionhijacking.pcapng"),
    exact("attacks/chrissanders-packets/cryptowall4_c2.pcapng"),
    exact("attacks/markfvl-Pcaphunt/test/cs-httpServerCredentials.pcap"),
    exact("attacks/markfvl-Pcaphunt/test/na-url_redirection.pcapng"),
    exact("robustness/arkime-tests/tests/pcap/http-100-continue.pcap"),
    exact("robustness/arkime-tests/tests/pcap/http-basicauth.pcap"),
    exact("robustness/arkime-tests/tests/pcap/http-500-head.pcap"),
    exact("robustness/arkime-tests/tests/pcap/http-content-gzip.pcap"),
    exact("robustness/arkime-tests/tests/pcap/websocket.pcap"),
    exact("robustness/arkime-tests/tests/pcap/v6-http.pcap"),
    exact("robustness/arkime-tests/tests/pcap/wireshark-retrans.pcap"),
    exact("robustness/scapy-test-pcaps/test/pcaps/http_chunk.pcap.gz"),
    exact("robustness/scapy-test-pcaps/test/pcaps/http_head.pcapng.gz"),
    exact("robustness/scapy-test-pcaps/test/pcaps/http_content_length.pcap"),
    exact("robustness/nDPI-tests/tests/cfgs/default/pcap/webdav.pcap"),
    exact("robustness/nDPI-tests/tests/cfgs/default/pcap/http_connect.pcap"),
    exact("robustness/nDPI-tests/tests/cfgs/default/pcap/http-lines-split.pcap"),
    exact("robustness/nDPI-tests/tests/cfgs/default/pcap/http_starting_with_reply.pcapng"),
    exact("robustness/nDPI-tests/tests/cfgs/default/pcap/http_ua_splitted_in_two_pkts.pcapng"),
    exact("robustness/PcapPlusPlus-tests/Tests/ExamplesTest/pcap_examples/http-packets.pcap"),
    Case {
        file: "robustness/nDPI-tests/tests/cfgs/default/pcap/http-manipulated.pcap",
        cut: true,
        requests: &[
            (("GET", "www.lan:8080", ""), 1),
            (
                (
                    "GET",
                    "www.lan:8080",
                    "/aaaaaaaaaaaaaaaaaaaaaaaa_very_long_uri",
                ),
                -1,
            ),
        ],
        statuses: &[],
        why: "frame 14 is `GET` + 18 spaces + `/aaaa..._very_long_uri HTTP/1.1`: tshark ends \
              the method at the first space and the (empty) URI at the second, we take runs \
              of whitespace as one separator; the rick.gif response is cut by the capture end",
    },
    Case {
        file: "robustness/nDPI-tests/tests/cfgs/default/pcap/WebattackRCE.pcap",
        cut: false,
        requests: &[
            (("GET", "127.0.0.1", "/cgi-bin/handler/netsonar;cat"), 1),
            (
                (
                    "GET",
                    "127.0.0.1",
                    "/cgi-bin/handler/netsonar;cat /etc/passwd|?data=Download",
                ),
                -1,
            ),
        ],
        statuses: &[],
        why: "a request target holding a space: tshark cuts the URI at it, we keep everything \
              up to the final HTTP/ word (what a tolerant server does)",
    },
    cut(
        "robustness/nDPI-tests/tests/cfgs/default/pcap/exe_download.pcap",
        "the 679008-byte response body is cut by the end of the capture",
    ),
    cut(
        "robustness/nDPI-tests/tests/cfgs/default/pcap/windowsupdate_over_http.pcap",
        "the 206 response body is cut by the end of the capture",
    ),
    cut(
        "robustness/PcapPlusPlus-tests/Tests/Pcap++Test/PcapExamples/4KHttpRequests.pcap",
        "a filtered capture holding request segments only: POST bodies and the second \
         segments of long heads are missing, so tshark reports only the requests it could \
         reassemble whole",
    ),
    cut(
        "robustness/PcapPlusPlus-tests/Tests/Pcap++Test/PcapExamples/650HttpResponses.pcap",
        "a filtered capture holding response segments only, with holes: tshark reports only \
         the responses it could reassemble whole",
    ),
];

#[test]
fn captures_agree_with_tshark() {
    let mut failures = Vec::new();
    let (mut users, mut chunked, mut requests_seen) = (0, 0, 0);
    for case in CAPTURES {
        let rel = case.file;
        let c = compare(rel);
        requests_seen += c.n_requests;
        let mut requests = c.requests.clone();
        let mut statuses = c.statuses.clone();
        for ((m, h, u), n) in case.requests {
            let k = (m.to_string(), h.to_string(), u.to_string());
            *requests.entry(k).or_default() -= n;
        }
        for (s, n) in case.statuses {
            *statuses.entry(*s).or_default() -= n;
        }
        if case.cut {
            // Extra messages of ours are fine when they are cut ones.
            requests.retain(|k, v| *v > 0 || c.cut.get(k).copied().unwrap_or(0) < -*v);
            statuses.retain(|k, v| *v > 0 || c.cut_statuses.get(k).copied().unwrap_or(0) < -*v);
        }
        requests.retain(|_, v| *v != 0);
        statuses.retain(|_, v| *v != 0);
        if !requests.is_empty() || !statuses.is_empty() {
            failures.push(format!(
                "{rel}: {} requests, {} responses (tshark); unexplained differences (tshark \
                 minus ours): requests {requests:?}, statuses {statuses:?}; explained: {}",
                c.n_requests, c.n_responses, case.why
            ));
        }
        if !c.usernames.is_empty() {
            failures.push(format!("{rel}: user names differ {:?}", c.usernames));
        }
        if !c.chunked_missing.is_empty() {
            failures.push(format!(
                "{rel}: chunked body lengths {:?}",
                c.chunked_missing
            ));
        }
        users += c.n_users;
        chunked += c.n_chunked;
        check_consistency(&c);
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
    assert!(
        users >= 5 && chunked >= 50 && requests_seen >= 1000,
        "{users} user names, {chunked} chunked bodies, {requests_seen} requests"
    );
}

/// Values that tshark does not give directly: tunnels, interim responses, HEAD.
#[test]
fn capture_details() {
    let find = |rel: &str| -> Vec<Conn> { compare(rel).conns };
    let ws = find("robustness/arkime-tests/tests/pcap/websocket.pcap");
    assert_eq!(ws.len(), 1);
    assert!(ws[0].parser.is_tunnel());
    assert_eq!(
        (ws[0].txs[0].status, ws[0].txs[0].info_code),
        (Some(101), Some(101))
    );
    let con = find("robustness/nDPI-tests/tests/cfgs/default/pcap/http_connect.pcap");
    assert!(con.iter().any(|c| c.parser.is_tunnel()
        && c.txs
            .iter()
            .any(|t| t.method == b"CONNECT" && t.status == Some(200))));
    let cont = find("robustness/arkime-tests/tests/pcap/http-100-continue.pcap");
    let t = &cont[0].txs[0];
    assert_eq!(
        (t.info_code, t.status, text(&t.method)),
        (Some(100), Some(404), "POST".into())
    );
    assert!(t.request_complete && t.response_complete);
    assert_eq!(Some(t.request_body_len), t.request_content_length);
    let head = find("robustness/arkime-tests/tests/pcap/http-500-head.pcap");
    let t = &head[0].txs[0];
    assert_eq!(
        (text(&t.method), t.status, t.response_body_len),
        ("HEAD".into(), Some(500), 0)
    );
    assert!(t.response_complete);
    let creds = find("attacks/markfvl-Pcaphunt/test/cs-httpServerCredentials.pcap");
    let users: Vec<String> = creds
        .iter()
        .flat_map(|c| c.txs.iter())
        .map(|t| text(&t.username))
        .collect();
    assert_eq!(users, ["user", "user", "toor", "root"]);
    let post = find("attacks/chrissanders-packets/http_post.pcapng");
    let t = &post[0].txs[0];
    assert_eq!((text(&t.method), t.request_body_len), ("POST".into(), 179));
    assert!(t
        .request_ts
        .is_some_and(|r| t.response_ts.is_some_and(|s| s >= r)));
}

// ---------------------------------------------------------------------------------------
// Property tests

const DICT: &[&[u8]] = &[
    b"GET ",
    b"HEAD ",
    b"POST ",
    b"CONNECT ",
    b"/ ",
    b"/x?y=z ",
    b"HTTP/1.1",
    b"HTTP/1.0 ",
    b"HTTP/1.1 ",
    b"100 Continue",
    b"101 ",
    b"200 OK",
    b"204 ",
    b"304 ",
    b"404 x",
    b"\r\n",
    b"\n",
    b"\r\n\r\n",
    b"Host: h",
    b"Content-Length: ",
    b"Content-Length: 3,3",
    b"Transfer-Encoding: chunked",
    b"Transfer-Encoding: gzip",
    b"Authorization: Basic dTpw",
    b"Authorization: Basic ",
    b"0",
    b"5",
    b"1f",
    b"ffffffffffffffffff",
    b";ext=1",
    b" ",
    b"\t",
    b":",
    b"abc",
    b"\x00",
    b"\xff",
    b"X-Fold: a\r\n b",
];

fn chunk_strategy() -> impl Strategy<Value = Vec<u8>> {
    prop_oneof![
        proptest::collection::vec(any::<u8>(), 0..64),
        proptest::collection::vec(proptest::sample::select(DICT), 0..24).prop_map(|v| v.concat()),
    ]
}

#[derive(Clone, Debug)]
enum Op {
    Feed(Dir, Vec<u8>),
    Gap(Dir, u64),
}

fn op_strategy() -> impl Strategy<Value = Op> {
    let dir = prop_oneof![Just(Dir::ToServer), Just(Dir::ToClient)];
    prop_oneof![
        8 => (dir.clone(), chunk_strategy()).prop_map(|(d, b)| Op::Feed(d, b)),
        1 => (dir, 0u64..5000).prop_map(|(d, n)| Op::Gap(d, n)),
    ]
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(512))]

    /// Arbitrary input (random bytes, HTTP-ish token soup, gaps) never panics, memory stays
    /// within the documented caps, and emitted depths are distinct.
    #[test]
    fn arbitrary_input_never_panics(ops in proptest::collection::vec(op_strategy(), 0..40), small in any::<bool>()) {
        let cfg = if small {
            HttpConfig { max_head_bytes: 48, max_pending: 2, max_uri: 12, max_field: 6 }
        } else {
            HttpConfig::default()
        };
        // Per transaction: uri + 13 other fields.
        let per_tx = cfg.max_uri + 13 * cfg.max_field;
        let bound = 2 * cfg.max_head_bytes + (cfg.max_pending + 2) * per_tx;
        let mut p = HttpParser::new(cfg);
        let mut depths = Vec::new();
        for op in &ops {
            match op {
                Op::Feed(d, b) => {
                    p.feed(*d, Timestamp(1), b, &mut |t| depths.push(t.trans_depth));
                }
                Op::Gap(d, n) => p.gap(*d, *n),
            }
            prop_assert!(p.buffered_bytes() <= bound);
        }
        p.finish(Timestamp(2), &mut |t| depths.push(t.trans_depth));
        prop_assert_eq!(p.buffered_bytes(), 0);
        let n = depths.len();
        depths.sort_unstable();
        depths.dedup();
        prop_assert_eq!(depths.len(), n);
    }
}

/// Body of a generated message.
#[derive(Clone, Debug)]
enum Body {
    None,
    Length(Vec<u8>),
    /// Chunks (non-empty), with extensions, with a trailer.
    Chunked(Vec<Vec<u8>>, bool, bool),
    /// Response only, last exchange only: until the end of the connection.
    Close(Vec<u8>),
}

impl Body {
    /// The body's bytes after de-chunking, as far as the parser keeps them
    /// (`Transaction::request_body`).
    fn kept(&self) -> Vec<u8> {
        let mut v = match self {
            Body::None => Vec::new(),
            Body::Length(b) | Body::Close(b) => b.clone(),
            Body::Chunked(c, _, _) => c.concat(),
        };
        v.truncate(REQUEST_BODY_PREFIX);
        v
    }

    fn len(&self) -> u64 {
        match self {
            Body::None => 0,
            Body::Length(b) | Body::Close(b) => b.len() as u64,
            Body::Chunked(c, _, _) => c.iter().map(|x| x.len() as u64).sum(),
        }
    }

    fn write(&self, nl: &str, head: &mut Vec<u8>) {
        match self {
            Body::None | Body::Close(_) => head.extend_from_slice(nl.as_bytes()),
            Body::Length(b) => {
                head.extend_from_slice(format!("content-LENGTH: {}{nl}{nl}", b.len()).as_bytes());
                head.extend_from_slice(b);
            }
            Body::Chunked(chunks, ext, trailer) => {
                head.extend_from_slice(format!("Transfer-Encoding: chunked{nl}{nl}").as_bytes());
                for c in chunks {
                    let e = if *ext { ";a=b" } else { "" };
                    head.extend_from_slice(format!("{:X}{e}{nl}", c.len()).as_bytes());
                    head.extend_from_slice(c);
                    head.extend_from_slice(nl.as_bytes());
                }
                head.extend_from_slice(format!("0{nl}").as_bytes());
                if *trailer {
                    head.extend_from_slice(format!("X-Sum: 1{nl}").as_bytes());
                }
                head.extend_from_slice(nl.as_bytes());
            }
        }
    }
}

#[derive(Clone, Debug)]
struct Exchange {
    method: &'static str,
    uri: String,
    host: String,
    user: String,
    req: Body,
    continue_100: bool,
    status: u16,
    resp: Body,
    crlf: bool,
}

fn bytes_strategy() -> impl Strategy<Value = Vec<u8>> {
    prop_oneof![
        proptest::collection::vec(any::<u8>(), 1..40),
        Just(b"HTTP/1.1 200 OK\r\n\r\nGET / HTTP/1.1\r\n\r\n".to_vec()),
    ]
}

fn body_strategy(chunked_ok: bool) -> impl Strategy<Value = Body> {
    let chunked = (
        proptest::collection::vec(bytes_strategy(), 1..4),
        any::<bool>(),
        any::<bool>(),
    )
        .prop_map(|(c, e, t)| Body::Chunked(c, e, t));
    prop_oneof![
        Just(Body::None),
        proptest::collection::vec(any::<u8>(), 0..60).prop_map(Body::Length),
        chunked.prop_filter("chunked allowed", move |_| chunked_ok),
    ]
}

fn exchange_strategy() -> impl Strategy<Value = Exchange> {
    (
        proptest::sample::select(
            &[
                "GET", "POST", "PUT", "HEAD", "PROPFIND", "OPTIONS", "M-SEARCH",
            ][..],
        ),
        "/[a-z0-9/?=&%.]{0,30}",
        "[a-z.]{0,12}",
        "[a-z]{0,6}",
        body_strategy(true),
        any::<bool>(),
        proptest::sample::select(&[200u16, 201, 204, 301, 304, 404, 500][..]),
        body_strategy(true),
        any::<bool>(),
    )
        .prop_map(|(method, uri, host, user, req, cont, status, resp, crlf)| {
            let req = if method == "GET" || method == "HEAD" {
                Body::None
            } else {
                req
            };
            let continue_100 = cont && !matches!(req, Body::None);
            Exchange {
                method,
                uri,
                host,
                user,
                req,
                continue_100,
                status,
                resp,
                crlf,
            }
        })
}

fn b64(s: &[u8]) -> String {
    const A: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    let mut out = String::new();
    for c in s.chunks(3) {
        let n = (u32::from(c[0]) << 16)
            | (u32::from(*c.get(1).unwrap_or(&0)) << 8)
            | u32::from(*c.get(2).unwrap_or(&0));
        for k in 0..4 {
            if k <= c.len() {
                out.push(A[((n >> (18 - 6 * k)) & 63) as usize] as char);
            } else {
                out.push('=');
            }
        }
    }
    out
}

/// The conversation's segments in a causal order, and the transactions it must give.
fn build(
    exs: &[Exchange],
    close_last: bool,
    pipelined: bool,
) -> (Vec<(Dir, Vec<u8>)>, Vec<Transaction>) {
    let mut reqs = Vec::new();
    let mut resps = Vec::new();
    let mut want = Vec::new();
    let n = exs.len();
    for (i, e) in exs.iter().enumerate() {
        let nl = if e.crlf { "\r\n" } else { "\n" };
        let mut head = format!("{} {} HTTP/1.1{nl}", e.method, e.uri).into_bytes();
        if !e.host.is_empty() {
            head.extend_from_slice(format!("hOsT: {}{nl}", e.host).as_bytes());
        }
        if !e.user.is_empty() {
            let cred = b64(format!("{}:secret", e.user).as_bytes());
            head.extend_from_slice(format!("Authorization: Basic {cred}{nl}").as_bytes());
        }
        if e.continue_100 {
            head.extend_from_slice(format!("Expect: 100-continue{nl}").as_bytes());
        }
        let mut req = head;
        e.req.write(nl, &mut req);
        // The head is everything up to the body: split it off for 100-continue.
        let body_len = match &e.req {
            Body::Length(b) => b.len(),
            _ => 0,
        };
        let no_resp_body = e.method == "HEAD" || e.status == 204 || e.status == 304;
        let resp_body = if close_last && i + 1 == n && !no_resp_body {
            match &e.resp {
                Body::None => Body::Close(Vec::new()),
                Body::Length(b) => Body::Close(b.clone()),
                Body::Chunked(c, _, _) => Body::Close(c.concat()),
                Body::Close(b) => Body::Close(b.clone()),
            }
        } else {
            e.resp.clone()
        };
        let mut resp = Vec::new();
        if e.continue_100 {
            resp.extend_from_slice(format!("HTTP/1.1 100 Continue{nl}{nl}").as_bytes());
        }
        let reason = if e.status == 200 { " OK" } else { "" };
        resp.extend_from_slice(format!("HTTP/1.1 {}{reason}{nl}", e.status).as_bytes());
        let (resp_len, resp_cl) = if no_resp_body {
            // Framing headers of a body that is not sent.
            if let Body::Length(b) = &resp_body {
                resp.extend_from_slice(format!("Content-Length: {}{nl}", b.len() + 10).as_bytes());
            }
            resp.extend_from_slice(nl.as_bytes());
            (
                0,
                match &resp_body {
                    Body::Length(b) => Some(b.len() as u64 + 10),
                    _ => None,
                },
            )
        } else {
            let b = match &resp_body {
                Body::None => Body::Length(Vec::new()),
                other => other.clone(),
            };
            b.write(nl, &mut resp);
            if let Body::Close(x) = &b {
                resp.extend_from_slice(x);
            }
            (
                b.len(),
                match &b {
                    Body::Length(x) => Some(x.len() as u64),
                    _ => None,
                },
            )
        };
        let mut t = Transaction {
            trans_depth: i as u32 + 1,
            request_ts: Some(Timestamp(1)),
            response_ts: Some(Timestamp(1)),
            method: e.method.into(),
            uri: e.uri.clone().into_bytes(),
            version: b"1.1".to_vec(),
            host: e.host.clone().into_bytes(),
            request_body_len: e.req.len(),
            request_body: e.req.kept(),
            request_complete: true,
            status: Some(e.status),
            status_msg: reason.trim().into(),
            response_version: b"1.1".to_vec(),
            response_body_len: resp_len,
            response_complete: true,
            request_content_length: match &e.req {
                Body::Length(b) => Some(b.len() as u64),
                _ => None,
            },
            response_content_length: resp_cl,
            username: e.user.clone().into_bytes(),
            ..Transaction::default()
        };
        if e.continue_100 {
            t.info_code = Some(100);
            t.info_msg = b"Continue".to_vec();
            let split = req.len()
                - if matches!(e.req, Body::Chunked(..)) {
                    // chunked body: everything after the head's empty line
                    let marker = format!("{nl}{nl}");
                    req.len()
                        - (req
                            .windows(marker.len())
                            .position(|w| w == marker.as_bytes())
                            .unwrap_or(0)
                            + marker.len())
                } else {
                    body_len
                };
            let (h, b) = req.split_at(split);
            if pipelined {
                reqs.push((Dir::ToServer, h.to_vec()));
                reqs.push((Dir::ToServer, b.to_vec()));
                resps.push((Dir::ToClient, resp));
            } else {
                let (r100, rest) = resp.split_at(format!("HTTP/1.1 100 Continue{nl}{nl}").len());
                reqs.push((Dir::ToServer, h.to_vec()));
                reqs.push((Dir::ToClient, r100.to_vec()));
                reqs.push((Dir::ToServer, b.to_vec()));
                reqs.push((Dir::ToClient, rest.to_vec()));
            }
        } else if pipelined {
            reqs.push((Dir::ToServer, req));
            resps.push((Dir::ToClient, resp));
        } else {
            reqs.push((Dir::ToServer, req));
            reqs.push((Dir::ToClient, resp));
        }
        want.push(t);
    }
    reqs.extend(resps);
    (reqs, want)
}

fn lcg(state: &mut u64) -> usize {
    *state = state
        .wrapping_mul(6364136223846793005)
        .wrapping_add(1442695040888963407);
    (*state >> 33) as usize
}

/// A random interleaving in random chunks that never feeds a server byte before the client
/// bytes that precede it in `segs`.
fn interleave(segs: &[(Dir, Vec<u8>)], seed: u64, max_chunk: usize) -> Vec<(Dir, Vec<u8>)> {
    let mut st = seed | 1;
    let (mut cli, mut srv, mut need) = (Vec::new(), Vec::new(), Vec::new());
    for (d, b) in segs {
        if *d == Dir::ToServer {
            cli.extend_from_slice(b);
        } else {
            srv.extend_from_slice(b);
            need.extend(std::iter::repeat_n(cli.len(), b.len()));
        }
    }
    let (mut ci, mut si) = (0, 0);
    let mut out = Vec::new();
    while ci < cli.len() || si < srv.len() {
        let srv_ok = si < srv.len() && need[si] <= ci;
        let take_cli = ci < cli.len() && (!srv_ok || lcg(&mut st).is_multiple_of(2));
        let n = 1 + lcg(&mut st) % max_chunk;
        if take_cli {
            let end = (ci + n).min(cli.len());
            out.push((Dir::ToServer, cli[ci..end].to_vec()));
            ci = end;
        } else {
            let mut end = (si + n).min(srv.len());
            while end > si + 1 && need[end - 1] > ci {
                end -= 1;
            }
            out.push((Dir::ToClient, srv[si..end].to_vec()));
            si = end;
        }
    }
    out
}

/// The same feeds in the same order, cut into random chunks (1..=max_chunk), consecutive
/// feeds of one direction merged first.
fn rechunk(feeds: &[(Dir, Vec<u8>)], seed: u64, max_chunk: usize) -> Vec<(Dir, Vec<u8>)> {
    let mut st = seed | 1;
    let mut runs: Vec<(Dir, Vec<u8>)> = Vec::new();
    for (d, b) in feeds {
        match runs.last_mut() {
            Some((ld, lb)) if ld == d => lb.extend_from_slice(b),
            _ => runs.push((*d, b.clone())),
        }
    }
    let mut out = Vec::new();
    for (d, b) in runs {
        let mut rest = &b[..];
        while !rest.is_empty() {
            let n = (1 + lcg(&mut st) % max_chunk).min(rest.len());
            out.push((d, rest[..n].to_vec()));
            rest = &rest[n..];
        }
    }
    out
}

fn run_feeds(feeds: &[(Dir, Vec<u8>)]) -> (Vec<Transaction>, bool) {
    // Client bytes fed early may queue many requests: no overflow here.
    let mut p = HttpParser::new(HttpConfig {
        max_pending: 4096,
        ..HttpConfig::default()
    });
    let mut got = Vec::new();
    for (d, b) in feeds {
        p.feed(*d, Timestamp(1), b, &mut |t| got.push(t.clone()));
    }
    p.finish(Timestamp(1), &mut |t| got.push(t.clone()));
    (got, *p.anomalies() == Default::default())
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(256))]

    /// Generated conversations (pipelined or not, CRLF or LF, Content-Length, chunked with
    /// extensions and trailers, close-delimited last response, HEAD/204/304, 100-continue,
    /// Basic credentials) give exactly the expected transactions, without anomalies, for
    /// random chunkings and interleavings.
    #[test]
    fn generated_conversations(
        exs in proptest::collection::vec(exchange_strategy(), 1..6),
        close_last in any::<bool>(),
        pipelined in any::<bool>(),
        seeds in proptest::collection::vec((any::<u64>(), 1usize..50), 3),
    ) {
        let (segs, want) = build(&exs, close_last, pipelined);
        let (got, clean) = run_feeds(&segs);
        prop_assert!(clean);
        prop_assert_eq!(&got, &want);
        for (seed, max_chunk) in seeds {
            let (got, _) = run_feeds(&interleave(&segs, seed, max_chunk));
            prop_assert_eq!(&got, &want);
        }
    }
}
