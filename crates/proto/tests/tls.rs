//! TLS parser tests on real captures (tshark, Arkime and OpenSSL as references), split
//! invariance on real handshakes, and property tests.

use std::collections::{BTreeMap, HashMap};
use std::net::IpAddr;
use std::path::{Path, PathBuf};
use std::process::Command;

use proptest::prelude::*;
use wirescope_capture::CaptureReader;
use wirescope_proto::tls::{parse_certificate_into, CertInfo, TlsConfig, TlsParser, TlsSession};
use wirescope_proto::Dir;
use wirescope_wire::{decode_frame, tcp_flags, Transport};

// ---------------------------------------------------------------------------------------------
// Corpus and a tiny TCP stream collector
// ---------------------------------------------------------------------------------------------

fn corpus_dir() -> PathBuf {
    if let Some(p) = std::env::var_os("WIRESCOPE_CORPUS") {
        return PathBuf::from(p);
    }
    let manifest = Path::new(env!("CARGO_MANIFEST_DIR"));
    // The main checkout sits next to `shared/`; a worktree one level deeper.
    let candidates = [
        manifest.join("../../../shared/corpus"),
        manifest.join("../../../../shared/corpus"),
    ];
    for c in &candidates {
        if c.join("MANIFEST.tsv").is_file() {
            return c.clone();
        }
    }
    panic!("corpus not found (set WIRESCOPE_CORPUS); tried {candidates:?}");
}

fn corpus(rel: &str) -> PathBuf {
    let p = corpus_dir().join(rel);
    assert!(p.is_file(), "missing corpus file {}", p.display());
    p
}

type Ep = (IpAddr, u16);

/// One TCP connection: endpoints `a` (first seen sender, or SYN sender) and `b`, and the
/// segments of both directions (0 = a->b, 1 = b->a) with the index of the packet.
struct Conn {
    ep: [Ep; 2],
    syn_from: Option<usize>,
    isn: [Option<u32>; 2],
    segs: [Vec<(u32, Vec<u8>, usize)>; 2],
}

/// Stream bytes of one direction in order, or a hole; with the packet index that supplied
/// them (for interleaving the two directions in capture order).
#[derive(Clone, Debug)]
enum Piece {
    Data(Vec<u8>),
    Gap(u64),
}

fn collect_conns(path: &Path) -> Vec<Conn> {
    let mut conns: Vec<Conn> = Vec::new();
    let mut index: HashMap<(Ep, Ep), usize> = HashMap::new();
    let mut r = CaptureReader::open(path).expect("open capture");
    let mut pkt_no = 0usize;
    while r.advance().expect("read capture") {
        pkt_no += 1;
        let frame = r.current();
        let pkt = decode_frame(&frame);
        let (Some(ip), Transport::Tcp(tcp)) = (pkt.ip, pkt.transport) else {
            continue;
        };
        let src = (ip.src, tcp.src_port);
        let dst = (ip.dst, tcp.dst_port);
        let key = if src <= dst { (src, dst) } else { (dst, src) };
        let syn = tcp.flags & tcp_flags::SYN != 0;
        let ack = tcp.flags & tcp_flags::ACK != 0;
        let reuse = |c: &Conn| {
            syn && !ack && (c.segs[0].len() + c.segs[1].len() > 0) && c.syn_from.is_some()
        };
        let ci = match index.get(&key) {
            Some(&i) if !reuse(&conns[i]) => i,
            _ => {
                conns.push(Conn {
                    ep: [src, dst],
                    syn_from: None,
                    isn: [None, None],
                    segs: [Vec::new(), Vec::new()],
                });
                index.insert(key, conns.len() - 1);
                conns.len() - 1
            }
        };
        let c = &mut conns[ci];
        let d = if c.ep[0] == src { 0 } else { 1 };
        if syn {
            c.isn[d] = Some(tcp.seq);
            if !ack {
                c.syn_from = Some(d);
            }
        }
        if !pkt.payload.is_empty() {
            let seq = if syn {
                tcp.seq.wrapping_add(1)
            } else {
                tcp.seq
            };
            c.segs[d].push((seq, pkt.payload.to_vec(), pkt_no));
        }
    }
    conns
}

/// In-order pieces of one direction: ordered by sequence number, duplicates and overlaps
/// dropped, holes as gaps. Each piece carries the packet number that supplied it.
fn assemble(segs: &[(u32, Vec<u8>, usize)], isn: Option<u32>) -> Vec<(Piece, usize)> {
    let Some(first) = segs.first() else {
        return Vec::new();
    };
    let base = match isn {
        Some(i) => i.wrapping_add(1),
        None => {
            let min_rel = segs
                .iter()
                .map(|s| s.0.wrapping_sub(first.0) as i32)
                .min()
                .unwrap_or(0);
            first.0.wrapping_add(min_rel as u32)
        }
    };
    let mut v: Vec<(u64, &[u8], usize)> = segs
        .iter()
        .filter_map(|(seq, data, no)| {
            let rel = seq.wrapping_sub(base);
            (rel < 0x8000_0000).then_some((u64::from(rel), data.as_slice(), *no))
        })
        .collect();
    v.sort_by_key(|s| s.0);
    let mut out = Vec::new();
    let mut next = 0u64;
    for (start, data, no) in v {
        let end = start + data.len() as u64;
        if end <= next {
            continue;
        }
        if start > next {
            out.push((Piece::Gap(start - next), no));
            next = start;
        }
        let skip = (next - start) as usize;
        out.push((Piece::Data(data[skip..].to_vec()), no));
        next = end;
    }
    out
}

/// Offset of the first handshake record whose first message has type `msg`.
fn find_hello(bytes: &[u8], msg: u8) -> Option<usize> {
    let limit = bytes.len().min(64 * 1024);
    (0..limit).find(|&i| {
        matches!(bytes.get(i..i + 6), Some(&[0x16, 3, minor, l0, l1, t])
            if minor <= 4 && t == msg && u16::from_be_bytes([l0, l1]) >= 4)
    })
}

fn data_bytes(pieces: &[(Piece, usize)]) -> Vec<u8> {
    let mut v = Vec::new();
    for (p, _) in pieces {
        if let Piece::Data(d) = p {
            v.extend_from_slice(d);
        }
    }
    v
}

/// Drops the first `n` data bytes (and gaps among them).
fn skip_prefix(pieces: Vec<(Piece, usize)>, mut n: usize) -> Vec<(Piece, usize)> {
    let mut out = Vec::new();
    for (p, no) in pieces {
        match p {
            Piece::Data(d) if n >= d.len() => n -= d.len(),
            Piece::Data(d) => {
                out.push((Piece::Data(d[n..].to_vec()), no));
                n = 0;
            }
            Piece::Gap(g) if n > 0 => {
                let _ = g;
            }
            g => out.push((g, no)),
        }
    }
    out
}

/// A TLS connection ready to feed: client and server endpoints, and the interleaved pieces.
struct TlsStream {
    client: Ep,
    server: Ep,
    feed: Vec<(Dir, Piece)>,
}

/// Finds the TLS part of every connection: the side that sends a ClientHello (or receives a
/// ServerHello) is the client; bytes before the first hello of each direction are dropped
/// (STARTTLS, proxies), which the engine's own detection does in real use.
fn tls_streams(path: &Path) -> Vec<TlsStream> {
    let mut out = Vec::new();
    for c in collect_conns(path) {
        let p0 = assemble(&c.segs[0], c.isn[0]);
        let p1 = assemble(&c.segs[1], c.isn[1]);
        let b0 = data_bytes(&p0);
        let b1 = data_bytes(&p1);
        let ch0 = find_hello(&b0, 1);
        let ch1 = find_hello(&b1, 1);
        let sh0 = find_hello(&b0, 2);
        let sh1 = find_hello(&b1, 2);
        let v2_0 = TlsParser::looks_like_tls(&b0) && b0.first().is_some_and(|b| b & 0x80 != 0);
        let client = if ch0.is_some() || sh1.is_some() || v2_0 {
            0
        } else if ch1.is_some() || sh0.is_some() {
            1
        } else {
            continue;
        };
        let (cp, sp, cb, sb) = if client == 0 {
            (p0, p1, &b0, &b1)
        } else {
            (p1, p0, &b1, &b0)
        };
        let c_start = if TlsParser::looks_like_tls(cb) {
            Some(0)
        } else {
            find_hello(cb, 1)
        };
        let s_start = find_hello(sb, 2);
        let cp = match c_start {
            Some(n) => skip_prefix(cp, n),
            None => Vec::new(),
        };
        let sp = match s_start {
            Some(n) => skip_prefix(sp, n),
            None => Vec::new(),
        };
        // merge by packet number, keeping each direction's order
        let mut feed = Vec::new();
        let (mut i, mut j) = (0, 0);
        while i < cp.len() || j < sp.len() {
            let take_c = j >= sp.len() || (i < cp.len() && cp[i].1 <= sp[j].1);
            if take_c {
                feed.push((Dir::ToServer, cp[i].0.clone()));
                i += 1;
            } else {
                feed.push((Dir::ToClient, sp[j].0.clone()));
                j += 1;
            }
        }
        out.push(TlsStream {
            client: c.ep[client],
            server: c.ep[1 - client],
            feed,
        });
    }
    out
}

fn run(feed: &[(Dir, Piece)]) -> TlsParser {
    let mut p = TlsParser::new(TlsConfig::default());
    for (d, piece) in feed {
        match piece {
            Piece::Data(b) => p.feed(*d, b),
            Piece::Gap(n) => p.gap(*d, *n),
        }
    }
    p
}

// ---------------------------------------------------------------------------------------------
// tshark
// ---------------------------------------------------------------------------------------------

/// The TLS captures compared with tshark: every tls*/ssl*/https* capture of the corpus that
/// is TLS over TCP (DTLS excluded), plus a few more found through MANIFEST.tsv.
fn tls_capture_list() -> Vec<String> {
    let manifest = std::fs::read_to_string(corpus_dir().join("MANIFEST.tsv")).expect("manifest");
    let mut files: Vec<String> = Vec::new();
    for line in manifest.lines().skip(1) {
        let cols: Vec<&str> = line.split('\t').collect();
        let (Some(path), Some(fmt)) = (cols.get(1), cols.get(5)) else {
            continue;
        };
        if fmt.is_empty() {
            continue;
        }
        let lower = path.to_ascii_lowercase();
        let name = lower.rsplit('/').next().unwrap_or("");
        let named = ["tls", "ssl", "https", "starttls", "stls", "ja3", "cert"]
            .iter()
            .any(|k| name.contains(k));
        if named && !name.contains("dtls") {
            files.push(path.to_string());
        }
    }
    for extra in EXTRA_CAPTURES {
        files.push(extra.to_string());
    }
    files.sort();
    files.dedup();
    files
}

/// Captures whose names do not say TLS but whose MANIFEST description does.
const EXTRA_CAPTURES: &[&str] = &[
    "robustness/arkime-tests/tests/pcap/badcurveball.pcap",
    "robustness/arkime-tests/tests/pcap/arkime_synthetic.pcap",
    "robustness/arkime-tests/tests/pcap/adb_synthetic.pcap",
    "robustness/nDPI-tests/tests/cfgs/default/pcap/443-chrome.pcap",
    "robustness/nDPI-tests/tests/cfgs/default/pcap/chrome.pcap",
    "robustness/nDPI-tests/tests/cfgs/default/pcap/firefox.pcap",
    "robustness/nDPI-tests/tests/cfgs/default/pcap/safari.pcap",
    "robustness/nDPI-tests/tests/cfgs/default/pcap/no_sni.pcap",
    "robustness/nDPI-tests/tests/cfgs/default/pcap/selfsigned.pcap",
    "robustness/nDPI-tests/tests/cfgs/default/pcap/imaps.pcap",
    "robustness/nDPI-tests/tests/cfgs/default/pcap/smtps.pcapng",
    "robustness/nDPI-tests/tests/cfgs/default/pcap/encrypted_sni.pcap",
    "robustness/nDPI-tests/tests/cfgs/default/pcap/dns_dot.pcap",
    "robustness/nDPI-tests/tests/cfgs/default/pcap/doh.pcapng",
    "robustness/nDPI-tests/tests/cfgs/default/pcap/6in4tunnel.pcap",
    "robustness/nDPI-tests/tests/cfgs/default/pcap/emotet.pcap",
    // TLS 1.3 HelloRetryRequest: a second ClientHello on the same connection
    "robustness/nDPI-tests/tests/cfgs/default/pcap/steam.pcapng",
    "robustness/rusticata-pcap-parser/assets/err-buffertoosmall.pcapng",
];

#[derive(Clone, Debug, Default, PartialEq, Eq, PartialOrd, Ord)]
struct Hellos {
    /// (sni, ja3_full, ja3) of every ClientHello
    client: Vec<(String, String, String)>,
    /// (ja3s_full, ja3s) of every ServerHello
    server: Vec<(String, String)>,
}

fn last_value(s: &str) -> &str {
    s.rsplit(',').next().unwrap_or("")
}

/// tshark options for captures where TLS runs on a port tshark does not associate with it.
fn tshark_extra_args(rel: &str) -> &'static [&'static str] {
    if rel.ends_with("tls_port_80.pcapng") {
        &["-d", "tcp.port==80,tls"]
    } else if rel.ends_with("rdp_over_tls.pcap") {
        &["-d", "tcp.port==3389,tls"]
    } else {
        &[]
    }
}

/// What tshark reports of one capture: the hellos per connection key ("client ep -> server
/// ep") and the DER of every certificate it dissected.
#[derive(Default)]
struct TsharkFile {
    hellos: BTreeMap<String, Hellos>,
    certs: Vec<Vec<u8>>,
}

/// One tshark run over a capture (hellos and certificates, TCP only).
fn tshark_file(path: &Path, extra: &[&str]) -> TsharkFile {
    let out = Command::new("tshark")
        .arg("-r")
        .arg(path)
        .args(extra)
        .args([
            "-Y",
            "tcp && (tls.handshake.type==1 || tls.handshake.type==2 || tls.handshake.type==11)",
        ])
        .args([
            "-T",
            "fields",
            "-E",
            "separator=\t",
            "-E",
            "occurrence=a",
            "-E",
            "aggregator=,",
        ])
        .args(["-e", "ip.src", "-e", "ipv6.src", "-e", "tcp.srcport"])
        .args(["-e", "ip.dst", "-e", "ipv6.dst", "-e", "tcp.dstport"])
        .args([
            "-e",
            "tls.handshake.type",
            "-e",
            "tls.handshake.extensions_server_name",
        ])
        .args(["-e", "tls.handshake.ja3_full", "-e", "tls.handshake.ja3"])
        .args(["-e", "tls.handshake.ja3s_full", "-e", "tls.handshake.ja3s"])
        .args(["-e", "tls.handshake.certificate"])
        .output()
        .expect("tshark must be installed");
    assert!(out.status.success(), "tshark failed on {}", path.display());
    let mut r = TsharkFile::default();
    for line in String::from_utf8_lossy(&out.stdout).lines() {
        let f: Vec<&str> = line.split('\t').collect();
        if f.len() < 13 {
            continue;
        }
        let ip = |v4: &str, v6: &str| -> String {
            if !v6.is_empty() {
                last_value(v6).to_string()
            } else {
                last_value(v4).to_string()
            }
        };
        let src = format!("{}:{}", ip(f[0], f[1]), last_value(f[2]));
        let dst = format!("{}:{}", ip(f[3], f[4]), last_value(f[5]));
        for t in f[6].split(',') {
            match t {
                // One hello per frame in practice (ja3_full contains commas itself).
                "1" => r
                    .hellos
                    .entry(format!("{src} -> {dst}"))
                    .or_default()
                    .client
                    .push((f[7].to_string(), f[8].to_string(), f[9].to_string())),
                "2" => r
                    .hellos
                    .entry(format!("{dst} -> {src}"))
                    .or_default()
                    .server
                    .push((f[10].to_string(), f[11].to_string())),
                _ => {}
            }
        }
        for h in f[12].split(',').filter(|h| !h.is_empty()) {
            r.certs.push(hex_decode(h));
        }
    }
    r
}

/// tshark's view of every capture of [`tls_capture_list`], computed once for all tests.
fn tshark_all() -> &'static [(String, TsharkFile)] {
    static ALL: std::sync::OnceLock<Vec<(String, TsharkFile)>> = std::sync::OnceLock::new();
    ALL.get_or_init(|| {
        // two tshark processes at a time
        let list = tls_capture_list();
        let (even, odd): (Vec<_>, Vec<_>) = list.iter().enumerate().partition(|(i, _)| i % 2 == 0);
        let work = |part: Vec<(usize, &String)>| -> Vec<(usize, String, TsharkFile)> {
            part.into_iter()
                .map(|(i, rel)| {
                    (
                        i,
                        rel.clone(),
                        tshark_file(&corpus(rel), tshark_extra_args(rel)),
                    )
                })
                .collect()
        };
        let mut all = std::thread::scope(|sc| {
            let h = sc.spawn(|| work(odd));
            let mut v = work(even);
            v.extend(h.join().expect("tshark worker"));
            v
        });
        all.sort_by_key(|x| x.0);
        all.into_iter().map(|(_, rel, t)| (rel, t)).collect()
    })
}

fn ep_str(e: &Ep) -> String {
    format!("{}:{}", e.0, e.1)
}

fn our_hellos(s: &TlsSession) -> Hellos {
    let mut h = Hellos::default();
    for ch in [&s.client_hello, &s.retry_client_hello]
        .into_iter()
        .flatten()
    {
        h.client.push((
            String::from_utf8_lossy(&ch.sni).into_owned(),
            ch.ja3.clone(),
            ch.ja3_hash.clone(),
        ));
    }
    if let Some(sh) = &s.server_hello {
        h.server.push((sh.ja3s.clone(), sh.ja3s_hash.clone()));
    }
    h
}

/// Connections where tshark and we legitimately differ: (capture, connection, reason).
const TSHARK_EXCEPTIONS: &[(&str, &str, &str)] = &[
    (
        "google_ssl.pcap",
        "172.31.3.224:42835 -> 216.58.212.100:443",
        "the server's first segment arrives after a later one (retransmitted); tshark's TCP \
         reassembly does not recover the ServerHello, ours does (JA3S 769,5,)",
    ),
    (
        "tls_multiple_synack_different_seq.pcapng",
        "192.168.0.1:59927 -> 10.10.10.1:443",
        "four SYN/ACKs with different ISNs: tshark marks the whole server flight as \
         retransmissions and does not dissect it; we take the last ISN and see the ServerHello",
    ),
];

/// Connections only we see as TLS: (capture, connection, reason).
const OURS_ONLY: &[(&str, &str, &str)] = &[(
    "socks4-https.pcap",
    "10.0.0.1:50606 -> 10.0.0.2:9901",
    "TLS through a SOCKS4 proxy whose ClientHello segment was not captured; tshark's SOCKS \
     dissector does not hand the server's ServerHello to TLS",
)];

#[test]
fn tshark_sni_ja3_ja3s_agree() {
    let mut compared = 0;
    let mut retries = 0;
    let mut failures = Vec::new();
    let mut ours_only = Vec::new();
    for (rel, tshark) in tshark_all() {
        let path = corpus(rel);
        let theirs = &tshark.hellos;
        let mut ours: BTreeMap<String, Hellos> = BTreeMap::new();
        for s in tls_streams(&path) {
            let p = run(&s.feed);
            let h = our_hellos(p.session());
            if h.client.is_empty() && h.server.is_empty() {
                continue;
            }
            let key = format!("{} -> {}", ep_str(&s.client), ep_str(&s.server));
            let e = ours.entry(key).or_default();
            e.client.extend(h.client);
            e.server.extend(h.server);
        }
        for (key, t) in theirs {
            let excepted = TSHARK_EXCEPTIONS
                .iter()
                .any(|(f, k, _)| rel.ends_with(f) && k == key);
            let o = ours.get(key).cloned().unwrap_or_default();
            // We keep the first ClientHello and, after a HelloRetryRequest, the second, and
            // the final ServerHello per connection; tshark lists every one (HelloRetryRequest
            // flows have two of each). A hello without fingerprint (SSLv2, malformed) is
            // ("", "", "") on both sides.
            let none3 = (String::new(), String::new(), String::new());
            let t_client = t.client.first().cloned();
            let o_client = Some(o.client.first().cloned().unwrap_or(none3));
            let t_retry = t.client.get(1).cloned();
            let o_retry = o.client.get(1).cloned();
            let t_server = t.server.last().cloned();
            let o_server = o.server.last().cloned();
            compared += 1;
            retries += usize::from(t_retry.is_some());
            let client_bad = (t_client.is_some() && t_client != o_client) || t_retry != o_retry;
            let server_bad = t_server.is_some() && t_server != o_server;
            let extra_server = t_server.is_none() && o_server.is_some();
            if (client_bad || server_bad || extra_server) && !excepted {
                failures.push(format!(
                    "{rel} {key}\n  tshark client {t_client:?}\n  ours   client {o_client:?}\n  tshark retry  {t_retry:?}\n  ours   retry  {o_retry:?}\n  tshark server {t_server:?}\n  ours   server {o_server:?}"
                ));
            }
        }
        for key in ours.keys() {
            if !theirs.contains_key(key)
                && !OURS_ONLY
                    .iter()
                    .any(|(f, k, _)| rel.ends_with(f) && k == key)
            {
                ours_only.push(format!("{rel} {key}"));
            }
        }
    }
    eprintln!("compared {compared} connections, {retries} with a retried ClientHello");
    assert!(
        failures.is_empty(),
        "{} mismatches:\n{}",
        failures.len(),
        failures.join("\n")
    );
    assert!(
        ours_only.is_empty(),
        "TLS only we see:\n{}",
        ours_only.join("\n")
    );
    assert!(compared > 450, "compared only {compared}");
    assert!(retries >= 3, "only {retries} retried ClientHellos compared");
}

// ---------------------------------------------------------------------------------------------
// Arkime's expected values (JA4, JA4_r, JA3, JA3S and certificates)
// ---------------------------------------------------------------------------------------------

fn json_strs(v: &serde_json::Value) -> Vec<String> {
    v.as_array()
        .map(|a| {
            a.iter()
                .filter_map(|x| x.as_str().map(str::to_string))
                .collect()
        })
        .unwrap_or_default()
}

/// Arkime sessions of TLS over TCP that we do not see as one TLS byte stream: (test file,
/// client port, reason).
const ARKIME_EXCEPTIONS: &[(&str, u16, &str)] = &[];

#[test]
fn arkime_ja4_ja3_and_certificates_agree() {
    let dir = corpus_dir().join("robustness/arkime-tests/tests/pcap");
    let mut tests: Vec<PathBuf> = std::fs::read_dir(&dir)
        .expect("arkime test dir")
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.extension().is_some_and(|x| x == "test"))
        .collect();
    tests.sort();
    let (mut ja4_checked, mut certs_checked, mut files_with_ja4) = (0, 0, 0);
    let mut failures = Vec::new();
    for t in tests {
        let text = std::fs::read_to_string(&t).expect("read .test");
        if !text.contains("\"ja4\"") && !text.contains("\"cert\"") {
            continue;
        }
        let json: serde_json::Value = serde_json::from_str(&text).expect("parse .test");
        let name = t
            .file_name()
            .and_then(|n| n.to_str())
            .unwrap_or("")
            .to_string();
        let pcap = t.with_extension("pcap");
        assert!(pcap.is_file(), "{}", pcap.display());
        let mut streams: Option<Vec<(TlsStream, TlsSession)>> = None;
        let mut file_has_ja4 = false;
        for sess in json["sessions3"].as_array().into_iter().flatten() {
            let b = &sess["body"];
            if b["ipProtocol"].as_u64() != Some(6) {
                continue; // QUIC and DTLS
            }
            let tls = &b["tls"];
            let ja4: Vec<String> = json_strs(&tls["ja4"])
                .into_iter()
                .filter(|j| j.starts_with('t'))
                .collect();
            let mut certs = b["cert"].as_array().cloned().unwrap_or_default();
            if !json_strs(&b["protocol"]).iter().any(|p| p == "tls") {
                certs.clear(); // certificates of other protocols (OPC UA, OpenVPN, ...)
            }
            if ja4.is_empty() && certs.is_empty() {
                continue;
            }
            let src_ip = b["source"]["ip"].as_str().unwrap_or("");
            let src_port = b["source"]["port"].as_u64().unwrap_or(0) as u16;
            let dst_port = b["destination"]["port"].as_u64().unwrap_or(0) as u16;
            if ARKIME_EXCEPTIONS
                .iter()
                .any(|(f, p, _)| *f == name && *p == src_port)
            {
                continue;
            }
            let streams = streams.get_or_insert_with(|| {
                tls_streams(&pcap)
                    .into_iter()
                    .map(|s| {
                        let p = run(&s.feed);
                        let sess = p.session().clone();
                        (s, sess)
                    })
                    .collect()
            });
            let found = streams.iter().find(|(s, _)| {
                s.client.1 == src_port && s.server.1 == dst_port && s.client.0.to_string() == src_ip
            });
            let Some((_, ours)) = found else {
                failures.push(format!("{name} {src_ip}:{src_port}: no TLS stream found"));
                continue;
            };
            let ctx = format!("{name} {src_ip}:{src_port}");
            if !ja4.is_empty() {
                file_has_ja4 = true;
                ja4_checked += 1;
                let ch = ours.client_hello.clone().unwrap_or_default();
                let want = |k: &str| json_strs(&tls[k]);
                if ja4 != vec![ch.ja4.clone()] {
                    failures.push(format!("{ctx}: ja4 {ja4:?} ours {}", ch.ja4));
                }
                let ja4_r: Vec<String> = want("ja4_r")
                    .into_iter()
                    .filter(|j| j.starts_with('t'))
                    .collect();
                if ja4_r != vec![ch.ja4_r.clone()] {
                    failures.push(format!("{ctx}: ja4_r {ja4_r:?} ours {}", ch.ja4_r));
                }
                if !want("ja3").is_empty() && want("ja3") != vec![ch.ja3_hash.clone()] {
                    failures.push(format!("{ctx}: ja3 {:?} ours {}", want("ja3"), ch.ja3_hash));
                }
                if !want("ja3string").is_empty() && want("ja3string") != vec![ch.ja3.clone()] {
                    failures.push(format!(
                        "{ctx}: ja3string {:?} ours {}",
                        want("ja3string"),
                        ch.ja3
                    ));
                }
                let sh = ours.server_hello.clone().unwrap_or_default();
                if !want("ja3s").is_empty() && want("ja3s") != vec![sh.ja3s_hash.clone()] {
                    failures.push(format!(
                        "{ctx}: ja3s {:?} ours {}",
                        want("ja3s"),
                        sh.ja3s_hash
                    ));
                }
                if !want("ja3sstring").is_empty() && want("ja3sstring") != vec![sh.ja3s.clone()] {
                    failures.push(format!(
                        "{ctx}: ja3sstring {:?} ours {}",
                        want("ja3sstring"),
                        sh.ja3s
                    ));
                }
            }
            for c in &certs {
                certs_checked += 1;
                let hash = c["hash"].as_str().unwrap_or("");
                let Some(o) = ours.certs.iter().find(|o| o.sha1_fingerprint == hash) else {
                    failures.push(format!("{ctx}: certificate {hash} not found in ours"));
                    continue;
                };
                let serial = o.serial.replace(':', "").to_ascii_lowercase();
                if c["serial"].as_str() != Some(serial.as_str()) {
                    failures.push(format!("{ctx}: serial {} ours {serial}", c["serial"]));
                }
                if c["notBefore"].as_i64() != Some(o.not_before * 1000) {
                    failures.push(format!(
                        "{ctx}: notBefore {} ours {}",
                        c["notBefore"], o.not_before
                    ));
                }
                if c["notAfter"].as_i64() != Some(o.not_after * 1000) {
                    failures.push(format!(
                        "{ctx}: notAfter {} ours {}",
                        c["notAfter"], o.not_after
                    ));
                }
                let alt = json_strs(&c["alt"]);
                if !alt.is_empty() {
                    let mut a = alt.clone();
                    let mut b: Vec<String> =
                        o.san_dns.iter().map(|s| s.to_ascii_lowercase()).collect();
                    a.sort();
                    a.dedup();
                    b.sort();
                    b.dedup();
                    if a != b {
                        failures.push(format!("{ctx}: alt {alt:?} ours {:?}", o.san_dns));
                    }
                }
            }
        }
        if file_has_ja4 {
            files_with_ja4 += 1;
        }
    }
    eprintln!("checked {ja4_checked} JA4 sessions in {files_with_ja4} files, {certs_checked} certificates");
    assert!(
        failures.is_empty(),
        "{} mismatches:\n{}",
        failures.len(),
        failures.join("\n")
    );
    assert!(ja4_checked >= 30, "only {ja4_checked} JA4 sessions checked");
    assert!(
        certs_checked >= 40,
        "only {certs_checked} certificates checked"
    );
}

// ---------------------------------------------------------------------------------------------
// Certificates: one known certificate exactly, and OpenSSL (what Zeek uses) on all of them
// ---------------------------------------------------------------------------------------------

fn session_of(rel: &str, client_port: u16) -> TlsSession {
    let path = corpus(rel);
    let s = tls_streams(&path)
        .into_iter()
        .find(|s| s.client.1 == client_port)
        .unwrap_or_else(|| panic!("no TLS stream from port {client_port} in {rel}"));
    run(&s.feed).session().clone()
}

#[test]
fn known_google_certificate_chain() {
    let s = session_of(
        "robustness/arkime-tests/tests/pcap/openssl-tls1_2.pcap",
        57413,
    );
    assert_eq!(s.certs.len(), 3);
    let leaf = &s.certs[0];
    assert!(leaf.parsed);
    assert_eq!(leaf.version, 3);
    assert_eq!(
        leaf.subject,
        "C=US, ST=California, L=Mountain View, O=Google Inc, CN=*.google.com"
    );
    assert_eq!(
        leaf.issuer,
        "C=US, O=Google Inc, CN=Google Internet Authority G2"
    );
    assert_eq!(
        leaf.subject_zeek,
        "CN=*.google.com,O=Google Inc,L=Mountain View,ST=California,C=US"
    );
    assert_eq!(
        leaf.issuer_zeek,
        "CN=Google Internet Authority G2,O=Google Inc,C=US"
    );
    assert_eq!(leaf.serial, "7A:5B:0B:D8:95:63:2F:87");
    assert_eq!(leaf.serial_zeek, "7A5B0BD895632F87");
    assert_eq!(leaf.not_before, 1_411_553_285); // 2014-09-24 10:08:05Z
    assert_eq!(leaf.not_after, 1_419_292_800); // 2014-12-23 00:00:00Z
    assert_eq!(
        leaf.sha1_fingerprint,
        "0e:a3:27:7c:eb:7f:b2:8c:2b:5d:7d:d7:6b:e9:ba:1a:ec:0d:ff:91"
    );
    assert_eq!(leaf.san_dns.len(), 49);
    assert_eq!(leaf.san_dns[0], "*.google.com");
    assert_eq!(leaf.san_dns[48], "youtubeeducation.com");
    assert_eq!(
        s.certs[1].subject,
        "C=US, O=Google Inc, CN=Google Internet Authority G2"
    );
    assert_eq!(s.certs[1].serial, "02:3A:76");
    assert_eq!(
        s.certs[2].subject,
        "C=US, O=GeoTrust Inc., CN=GeoTrust Global CA"
    );
    assert_eq!(
        s.certs[2].issuer_zeek,
        "OU=Equifax Secure Certificate Authority,O=Equifax,C=US"
    );
    // The rest of that session.
    let ch = s.client_hello.as_ref().expect("client hello");
    assert_eq!(ch.ja4, "t12i740500_c43983326036_3eafcbe19126");
    let sh = s.server_hello.as_ref().expect("server hello");
    assert_eq!(sh.version, 0x0303);
    assert_eq!(sh.cipher, 0xc02f);
    assert!(s.established);
    assert!(!s.resumed);
    assert_eq!(s.curve, Some(23));
    assert_eq!(String::from_utf8_lossy(&s.history), "CsxknGIti");
}

/// Unix seconds of an OpenSSL `-dateopt iso_8601` time: `2014-09-24 10:08:05Z`.
fn iso_to_unix(s: &str) -> i64 {
    let n = |a: usize, b: usize| s[a..b].parse::<i64>().expect("digits");
    let (y, m, d) = (n(0, 4), n(5, 7), n(8, 10));
    let (hh, mm, ss) = (n(11, 13), n(14, 16), n(17, 19));
    let y2 = if m <= 2 { y - 1 } else { y };
    let era = y2.div_euclid(400);
    let yoe = y2 - era * 400;
    let doy = (153 * ((m + 9) % 12) + 2) / 5 + d - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    (era * 146_097 + doe - 719_468) * 86_400 + hh * 3600 + mm * 60 + ss
}

fn hex_decode(h: &str) -> Vec<u8> {
    (0..h.len() / 2)
        .map(|i| u8::from_str_radix(&h[2 * i..2 * i + 2], 16).expect("hex"))
        .collect()
}

#[test]
fn openssl_agrees_on_every_certificate() {
    let mut ders: Vec<Vec<u8>> = tshark_all()
        .iter()
        .flat_map(|(_, t)| t.certs.iter().cloned())
        .collect();
    ders.sort();
    ders.dedup();
    let tmp = std::env::temp_dir().join(format!("wirescope-tls-cert-{}.der", std::process::id()));
    let reenc = tmp.with_extension("out.der");
    let (mut compared, mut openssl_failed, mut non_canonical) = (0, 0, 0);
    let mut failures = Vec::new();
    for der in &ders {
        std::fs::write(&tmp, der).expect("write temp");
        let out = Command::new("openssl")
            .args(["x509", "-inform", "DER", "-noout", "-nameopt", "RFC2253"])
            .args([
                "-subject", "-issuer", "-serial", "-dates", "-dateopt", "iso_8601",
            ])
            .args(["-fingerprint", "-sha1", "-in"])
            .arg(&tmp)
            .output()
            .expect("openssl must be installed");
        let mut ours = CertInfo::default();
        let res = parse_certificate_into(der, &mut ours);
        if !out.status.success() {
            openssl_failed += 1;
            continue;
        }
        compared += 1;
        if let Err(e) = res {
            failures.push(format!("we fail ({e}) where openssl reads a certificate"));
            continue;
        }
        // OpenSSL fingerprints its own re-encoding; for a certificate that is not in canonical
        // DER (e.g. non-minimal lengths) that differs from the bytes on the wire, which is what
        // Suricata, Zeek and Arkime (and we) hash.
        let canonical = || {
            let st = Command::new("openssl")
                .args(["x509", "-inform", "DER", "-outform", "DER", "-in"])
                .arg(&tmp)
                .arg("-out")
                .arg(&reenc)
                .status()
                .expect("openssl");
            st.success() && std::fs::read(&reenc).ok().as_deref() == Some(der.as_slice())
        };
        let text = String::from_utf8_lossy(&out.stdout);
        for line in text.lines() {
            let Some((k, v)) = line.split_once('=') else {
                continue;
            };
            let ok = match k {
                "subject" => v == ours.subject_zeek,
                "issuer" => v == ours.issuer_zeek,
                "serial" => v == ours.serial_zeek,
                "notBefore" => iso_to_unix(v) == ours.not_before,
                "notAfter" => iso_to_unix(v) == ours.not_after,
                "sha1 Fingerprint" => {
                    v.to_ascii_lowercase() == ours.sha1_fingerprint || {
                        let c = canonical();
                        non_canonical += usize::from(!c);
                        !c
                    }
                }
                _ => true,
            };
            if !ok {
                failures.push(format!(
                    "{k}: openssl {v:?}, ours {:?}",
                    match k {
                        "subject" => ours.subject_zeek.clone(),
                        "issuer" => ours.issuer_zeek.clone(),
                        "serial" => ours.serial_zeek.clone(),
                        "notBefore" => ours.not_before.to_string(),
                        "notAfter" => ours.not_after.to_string(),
                        _ => ours.sha1_fingerprint.clone(),
                    }
                ));
            }
        }
    }
    let _ = std::fs::remove_file(&tmp);
    let _ = std::fs::remove_file(&reenc);
    eprintln!(
        "compared {compared} certificates with openssl ({openssl_failed} openssl rejects, \
         {non_canonical} not in canonical DER)"
    );
    assert!(
        failures.is_empty(),
        "{} mismatches:\n{}",
        failures.len(),
        failures.join("\n")
    );
    assert!(compared >= 90, "only {compared} certificates compared");
}

// ---------------------------------------------------------------------------------------------
// Split invariance on real handshakes
// ---------------------------------------------------------------------------------------------

fn assert_same(a: &TlsParser, b: &TlsParser, what: &str) {
    assert_eq!(a.session(), b.session(), "{what}");
    assert_eq!(a.anomalies(), b.anomalies(), "{what}");
    assert_eq!(a.is_done(), b.is_done(), "{what}");
}

#[test]
fn real_handshakes_are_split_invariant() {
    let cases = [
        (
            "robustness/arkime-tests/tests/pcap/openssl-tls1_2.pcap",
            57413,
        ),
        ("robustness/arkime-tests/tests/pcap/tls13.pcap", 62510),
        (
            "robustness/arkime-tests/tests/pcap/tls-split-client-hello.pcap",
            49927,
        ),
        (
            "robustness/arkime-tests/tests/pcap/openssl-ssl3.pcap",
            45680,
        ),
        (
            "robustness/arkime-tests/tests/pcap/smtp-starttls.pcap",
            57406,
        ),
    ];
    for (rel, port) in cases {
        let s = tls_streams(&corpus(rel))
            .into_iter()
            .find(|s| s.client.1 == port)
            .unwrap_or_else(|| panic!("{rel}: no stream from {port}"));
        // Only the part up to where the parser stops caring (done and established) matters;
        // the rest is ciphertext that is skipped by length either way.
        let feed: Vec<(Dir, Vec<u8>)> = s
            .feed
            .iter()
            .filter_map(|(d, p)| match p {
                Piece::Data(b) => Some((*d, b.clone())),
                Piece::Gap(_) => None,
            })
            .take(40)
            .collect();
        let reference = {
            let mut p = TlsParser::new(TlsConfig::default());
            for (d, b) in &feed {
                p.feed(*d, b);
            }
            p
        };
        assert!(reference.session().client_hello.is_some(), "{rel}");
        assert!(reference.session().server_hello.is_some(), "{rel}");
        assert!(reference.is_done(), "{rel}");
        // every split position of every segment
        let total: usize = feed.iter().map(|(_, b)| b.len()).sum();
        let mut runs = 0;
        for i in 0..feed.len() {
            for k in 1..feed[i].1.len() {
                let mut p = TlsParser::new(TlsConfig::default());
                for (j, (d, b)) in feed.iter().enumerate() {
                    if i == j {
                        p.feed(*d, &b[..k]);
                        p.feed(*d, &b[k..]);
                    } else {
                        p.feed(*d, b);
                    }
                }
                assert_same(&p, &reference, &format!("{rel}: segment {i} split at {k}"));
                runs += 1;
            }
        }
        // one byte at a time
        let mut p = TlsParser::new(TlsConfig::default());
        for (d, b) in &feed {
            for c in b.chunks(1) {
                p.feed(*d, c);
            }
        }
        assert_same(&p, &reference, &format!("{rel}: 1-byte chunks"));
        // consecutive segments of one direction coalesced
        let mut p = TlsParser::new(TlsConfig::default());
        let mut i = 0;
        while i < feed.len() {
            let mut buf = feed[i].1.clone();
            let d = feed[i].0;
            i += 1;
            while i < feed.len() && feed[i].0 == d {
                buf.extend_from_slice(&feed[i].1);
                i += 1;
            }
            p.feed(d, &buf);
        }
        assert_same(&p, &reference, &format!("{rel}: coalesced"));
        eprintln!("{rel}: {runs} splits over {total} bytes");
    }
}

// ---------------------------------------------------------------------------------------------
// Property tests
// ---------------------------------------------------------------------------------------------

fn rec(ty: u8, body: &[u8]) -> Vec<u8> {
    let mut v = vec![ty, 3, 3, (body.len() >> 8) as u8, body.len() as u8];
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
    let mut v = vec![(b.len() >> 8) as u8, b.len() as u8];
    v.extend_from_slice(b);
    v
}

fn ext(ty: u16, data: &[u8]) -> Vec<u8> {
    let mut v = ty.to_be_bytes().to_vec();
    v.extend(v16(data));
    v
}

fn u16s(vals: &[u16]) -> Vec<u8> {
    vals.iter().flat_map(|v| v.to_be_bytes()).collect()
}

/// A TLS 1.2 exchange built from generated hello contents, the server flight cut into records
/// of `rec_size` bytes, and a certificate from the corpus.
fn generated_flow(
    ciphers: &[u16],
    groups: &[u16],
    sni: &[u8],
    alpn: &[Vec<u8>],
    sigs: &[u16],
    rec_size: usize,
    cert: &[u8],
) -> Vec<(Dir, Vec<u8>)> {
    let mut exts = vec![ext(0x0a0a, &[])];
    let mut sni_entry = vec![0];
    sni_entry.extend(v16(sni));
    exts.push(ext(0, &v16(&sni_entry)));
    exts.push(ext(10, &v16(&u16s(groups))));
    exts.push(ext(11, &v8(&[0, 1])));
    exts.push(ext(13, &v16(&u16s(sigs))));
    let alpn_list: Vec<u8> = alpn.iter().flat_map(|p| v8(p)).collect();
    exts.push(ext(16, &v16(&alpn_list)));
    exts.push(ext(43, &v8(&u16s(&[0x0304, 0x0303]))));
    let mut ch = vec![3, 3];
    ch.extend_from_slice(&[1; 32]);
    ch.extend(v8(&[2; 32]));
    ch.extend(v16(&u16s(ciphers)));
    ch.extend(v8(&[0]));
    ch.extend(v16(&exts.concat()));
    let mut sh = vec![3, 3];
    sh.extend_from_slice(&[3; 32]);
    sh.extend(v8(&[4; 32]));
    sh.extend_from_slice(&0xc02fu16.to_be_bytes());
    sh.push(0);
    sh.extend(v16(&ext(0xff01, &[0])));
    let n = cert.len();
    let mut certs = vec![
        0,
        ((n + 3) >> 8) as u8,
        (n + 3) as u8,
        0,
        (n >> 8) as u8,
        n as u8,
    ];
    certs.extend_from_slice(cert);
    let stream = [
        hs(2, &sh),
        hs(11, &certs),
        hs(12, &[3, 0, 23, 1, 0]),
        hs(14, &[]),
    ]
    .concat();
    let server: Vec<u8> = stream
        .chunks(rec_size.max(1))
        .flat_map(|c| rec(22, c))
        .collect();
    vec![
        (Dir::ToServer, rec(22, &hs(1, &ch))),
        (Dir::ToClient, server),
        (
            Dir::ToServer,
            [rec(22, &hs(16, &[7; 66])), rec(20, &[1]), rec(22, &[9; 40])].concat(),
        ),
        (Dir::ToClient, [rec(20, &[1]), rec(22, &[8; 40])].concat()),
        (Dir::ToServer, rec(23, &[5; 100])),
    ]
}

fn corpus_leaf_cert() -> Vec<u8> {
    let out = Command::new("tshark")
        .arg("-r")
        .arg(corpus(
            "robustness/arkime-tests/tests/pcap/openssl-tls1_2.pcap",
        ))
        .args([
            "-Y",
            "tls.handshake.type==11",
            "-T",
            "fields",
            "-e",
            "tls.handshake.certificate",
        ])
        .output()
        .expect("tshark must be installed");
    let text = String::from_utf8_lossy(&out.stdout);
    let first = text.split([',', '\n']).next().unwrap_or("");
    let der = hex_decode(first.trim());
    assert!(der.len() > 1000);
    der
}

fn leaf() -> &'static [u8] {
    static LEAF: std::sync::OnceLock<Vec<u8>> = std::sync::OnceLock::new();
    LEAF.get_or_init(corpus_leaf_cert)
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 256, .. ProptestConfig::default() })]

    #[test]
    fn arbitrary_bytes_never_panic(
        chunks in proptest::collection::vec(
            (any::<bool>(), proptest::collection::vec(any::<u8>(), 0..200), 0u8..12),
            0..40,
        ),
        prefix in 0u8..3,
    ) {
        let cfg = TlsConfig { max_handshake_msg: 512, max_certs: 2 };
        let mut p = TlsParser::new(cfg);
        for (i, (to_server, data, kind)) in chunks.iter().enumerate() {
            let d = if *to_server { Dir::ToServer } else { Dir::ToClient };
            // Give the bytes a plausible record and message header now and then, so that
            // the hello, certificate and DER parsers see random content.
            let mut buf = Vec::new();
            if i == 0 && prefix > 0 || *kind == 1 {
                let ty = [1u8, 2, 11, 12][(usize::from(*kind) + usize::from(prefix) + i) % 4];
                buf = rec(22, &hs(ty, data));
            } else if *kind == 2 {
                buf = rec(data.first().copied().unwrap_or(21) % 5 + 20, data);
            } else {
                buf.extend_from_slice(data);
            }
            if *kind == 0 {
                p.gap(d, data.len() as u64);
            } else {
                p.feed(d, &buf);
            }
            let _ = p.take_done();
            prop_assert!(p.buffered_bytes() <= 2 * (512 + 16));
        }
        let _ = TlsParser::looks_like_tls(&chunks.first().map(|c| c.1.clone()).unwrap_or_default());
    }

    #[test]
    fn generated_handshakes_are_split_invariant(
        ciphers in proptest::collection::vec(any::<u16>(), 1..40),
        groups in proptest::collection::vec(any::<u16>(), 0..10),
        sni in proptest::collection::vec(any::<u8>(), 0..40),
        alpn in proptest::collection::vec(proptest::collection::vec(any::<u8>(), 0..10), 0..4),
        sigs in proptest::collection::vec(any::<u16>(), 0..12),
        rec_size in 1usize..2000,
        cuts in proptest::collection::vec(any::<usize>(), 0..12),
    ) {
        let flow = generated_flow(&ciphers, &groups, &sni, &alpn, &sigs, rec_size, leaf());
        let mut reference = TlsParser::new(TlsConfig::default());
        for (d, b) in &flow {
            reference.feed(*d, b);
        }
        let s = reference.session();
        prop_assert!(s.client_hello.is_some());
        prop_assert_eq!(s.certs.len(), 1);
        prop_assert!(s.certs[0].parsed);
        prop_assert!(s.established);
        prop_assert_eq!(s.curve, Some(23));
        prop_assert!(reference.is_done());
        // The same flow with every piece cut at generated positions.
        let mut p = TlsParser::new(TlsConfig::default());
        for (i, (d, b)) in flow.iter().enumerate() {
            let mut pos: Vec<usize> = cuts.iter().map(|c| (c.wrapping_mul(i + 1)) % (b.len() + 1)).collect();
            pos.sort_unstable();
            let mut last = 0;
            for c in pos {
                p.feed(*d, &b[last..c]);
                last = c;
            }
            p.feed(*d, &b[last..]);
        }
        prop_assert_eq!(p.session(), reference.session());
        prop_assert_eq!(p.anomalies(), reference.anomalies());
        // A different server record size changes nothing but nothing either.
        let flow2 = generated_flow(&ciphers, &groups, &sni, &alpn, &sigs, 16384, leaf());
        let mut q = TlsParser::new(TlsConfig::default());
        for (d, b) in &flow2 {
            q.feed(*d, b);
        }
        prop_assert_eq!(q.session(), reference.session());
    }
}

/// Session state on real captures: (capture, client port, done, established, resumed,
/// history, selected version, cipher, curve, alerts, certificates).
type Expect = (
    &'static str,
    u16,
    bool,
    bool,
    bool,
    &'static str,
    Option<u16>,
    Option<u16>,
    Option<u16>,
    &'static [(u8, u8)],
    usize,
);

const SESSIONS: &[Expect] = &[
    // TLS 1.3 draft-18: no compatibility CCS, done at the ServerHello
    (
        "arkime-tests/tests/pcap/tls13.pcap",
        62510,
        true,
        false,
        false,
        "Cs",
        Some(0x7f12),
        Some(0x1301),
        Some(29),
        &[],
        0,
    ),
    (
        "arkime-tests/tests/pcap/curl-enabled-tls13.pcap",
        46638,
        true,
        true,
        false,
        "CsiI",
        Some(0x0304),
        Some(0x1302),
        Some(29),
        &[],
        0,
    ),
    // session id resumption, TLS 1.0
    (
        "arkime-tests/tests/pcap/tls-client-sessionid.pcap",
        62938,
        true,
        true,
        true,
        "CsiI",
        Some(0x0301),
        Some(0x0033),
        None,
        &[],
        0,
    ),
    // the client rejects the certificate: fatal certificate_unknown alert
    (
        "arkime-tests/tests/pcap/badcurveball.pcap",
        55318,
        false,
        false,
        false,
        "CsxknL",
        Some(0x0303),
        Some(0xc02b),
        Some(23),
        &[(2, 46)],
        2,
    ),
    (
        "arkime-tests/tests/pcap/smtp-starttls.pcap",
        57406,
        true,
        true,
        false,
        "CsxnGIti",
        Some(0x0301),
        Some(0x0005),
        None,
        &[],
        3,
    ),
    // CertificateStatus (u) between Certificate and ServerKeyExchange; the capture ends there
    (
        "arkime-tests/tests/pcap/https-generalizedtime.pcap",
        3627,
        false,
        false,
        false,
        "Csxukn",
        Some(0x0303),
        Some(0xc02f),
        Some(23),
        &[],
        2,
    ),
    (
        "PcapPlusPlus-tests/Tests/Packet++Test/PacketExamples/tls1_3.pcap",
        52376,
        true,
        false,
        false,
        "Csi",
        Some(0x0304),
        Some(0x1301),
        Some(29),
        &[],
        0,
    ),
];

#[test]
fn session_state_on_real_captures() {
    for &(rel, port, done, est, resumed, hist, version, cipher, curve, alerts, certs) in SESSIONS {
        let rel = format!("robustness/{rel}");
        let s = tls_streams(&corpus(&rel))
            .into_iter()
            .find(|s| s.client.1 == port)
            .unwrap_or_else(|| panic!("{rel}: no stream from {port}"));
        let mut p = run(&s.feed);
        let ss = p.session().clone();
        assert_eq!(p.take_done(), done, "{rel} done");
        assert_eq!(ss.established, est, "{rel} established");
        assert_eq!(ss.resumed, resumed, "{rel} resumed");
        assert_eq!(String::from_utf8_lossy(&ss.history), hist, "{rel} history");
        assert_eq!(ss.version(), version, "{rel} version");
        assert_eq!(
            ss.server_hello.as_ref().map(|h| h.cipher),
            cipher,
            "{rel} cipher"
        );
        assert_eq!(ss.curve, curve, "{rel} curve");
        assert_eq!(ss.alerts, alerts, "{rel} alerts");
        assert_eq!(ss.certs.len(), certs, "{rel} certificates");
        assert_eq!(p.anomalies().total(), 0, "{rel} anomalies");
    }
    // GeneralizedTime validity and an emailAddress attribute (Arkime's https-generalizedtime)
    let s = session_of(
        "robustness/arkime-tests/tests/pcap/https-generalizedtime.pcap",
        3627,
    );
    let leaf = &s.certs[0];
    assert_eq!(
        leaf.subject,
        "C=RU, O=Yandex LLC, OU=ITO, L=Moscow, ST=Russian Federation, CN=mail.yandex.ru, \
         emailAddress=pki@yandex-team.ru"
    );
    assert_eq!(leaf.not_before, 1_415_717_263);
    assert_eq!(leaf.not_after, 1_451_573_263);
    assert_eq!(s.certs[1].not_after, 1_709_470_465);
}
