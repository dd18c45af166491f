//! `blocklist` on real captures with lists built around addresses and names they contain;
//! the IPsum feed (120k lines) loads and its build time is measured; no alert without lists.
#![allow(clippy::unwrap_used)]
mod common;

use std::net::IpAddr;
use std::time::Instant;
use wirescope_detect::config::DetectConfig;
use wirescope_detect::detectors::blocklist::{Blocklist, Config, Lists};
use wirescope_detect::{Alert, Detection, DetectorId};

fn ip(s: &str) -> IpAddr {
    s.parse().unwrap()
}

fn with_lists(lists: &[(&str, &str)]) -> DetectConfig {
    let mut cfg = DetectConfig::default();
    cfg.detectors.blocklist.sources = lists
        .iter()
        .map(|(n, t)| ((*n).to_string(), (*t).to_string()))
        .collect();
    cfg
}

fn block(path: &str, cfg: &DetectConfig) -> Vec<Alert> {
    let a = common::run_with(&[common::corpus_file(path)], cfg);
    common::of(&a, DetectorId::Blocklist)
        .into_iter()
        .cloned()
        .collect()
}

#[test]
fn listed_ip_in_capture_alerts() {
    let cfg = with_lists(&[("drop", "; Spamhaus DROP\n74.125.0.0/16 ; SBL000\n")]);
    let a = block("attacks/chrissanders-packets/http_google.pcapng", &cfg);
    let ips: Vec<_> = a.iter().filter(|a| a.kind == "ip").collect();
    assert_eq!(ips.len(), 1, "{}", common::describe(&a));
    let x = ips[0];
    assert_eq!(x.src.unwrap().ip, ip("172.16.16.128"));
    assert_eq!(x.dst.unwrap().ip, ip("74.125.95.104"));
    assert_eq!(x.evidence["list"], "drop");
    assert_eq!(x.evidence["indicator"], "74.125.0.0/16");
    assert_eq!(x.evidence["meta"], "SBL000");
    assert_eq!(x.evidence["line"], 2);
    assert_eq!(x.evidence["direction"], "to_listed");
    assert_eq!(x.delay_s(), 0.0);
}

#[test]
fn listed_domain_in_dns_and_http_alerts() {
    let cfg = with_lists(&[(
        "intel",
        "#fields\tindicator\tindicator_type\tmeta.source\ngoogle.com\tIntel::DOMAIN\ttest\nwireshark.org\tIntel::DOMAIN\ttest\n",
    )]);
    let a = block("attacks/chrissanders-packets/http_google.pcapng", &cfg);
    let d: Vec<_> = a.iter().filter(|a| a.kind == "domain").collect();
    assert!(!d.is_empty(), "{}", common::describe(&a));
    assert_eq!(d[0].src.unwrap().ip, ip("172.16.16.128"));
    assert_eq!(d[0].evidence["indicator"], "google.com");
    assert_eq!(d[0].evidence["matched"], "www.google.com");
    let a = block(
        "attacks/chrissanders-packets/dns_query_response.pcapng",
        &cfg,
    );
    let d: Vec<_> = a.iter().filter(|a| a.kind == "domain").collect();
    assert_eq!(d.len(), 1, "{}", common::describe(&a));
    assert_eq!(d[0].src.unwrap().ip, ip("192.168.0.114"));
    assert_eq!(d[0].dst.unwrap().ip, ip("205.152.37.23"));
    assert_eq!(d[0].evidence["via"], "dns_query");
}

#[test]
fn both_ends_listed_give_one_alert_per_pair() {
    // http_ip4and6 talks between 2001:db8:1:2::1002 and ::1000, both in the list.
    let cfg = with_lists(&[("v6", "2001:db8:1:2::/64\n")]);
    let a = block("attacks/chrissanders-packets/http_ip4and6.pcapng", &cfg);
    assert_eq!(a.len(), 1, "{}", common::describe(&a));
    assert_eq!(a[0].evidence["indicator"], "2001:db8:1:2::/64");
    assert!(a[0].evidence["packets"].as_u64().unwrap() > 1);
}

#[test]
fn unlisted_traffic_is_quiet() {
    let cfg = with_lists(&[("l", "192.0.2.0/24\nexample.invalid\n2001:db8::/32\n")]);
    let a = block("attacks/chrissanders-packets/http_google.pcapng", &cfg);
    assert!(a.is_empty(), "{}", common::describe(&a));
}

/// nDPI's haproxy.pcap: HAProxy at 1.1.1.1 relays 11.111.11.111:52176 (which connected to
/// 222.222.222.22:443) to 2.2.2.2:443 behind a PROXY v1 line; no packet carries the client.
const HAPROXY: &str = "robustness/nDPI-tests/tests/cfgs/default/pcap/haproxy.pcap";

#[test]
fn listed_client_behind_a_load_balancer_alerts_from_the_proxy_header() {
    let cfg = with_lists(&[(
        "firehol",
        "# level1
11.111.11.0/24
",
    )]);
    let a = block(HAPROXY, &cfg);
    assert_eq!(a.len(), 1, "{}", common::describe(&a));
    let x = &a[0];
    assert_eq!(x.kind, "proxied_ip");
    assert_eq!(x.src.unwrap().ip, ip("2.2.2.2"));
    assert_eq!(x.dst.unwrap().ip, ip("11.111.11.111"));
    let ev = &x.evidence;
    assert_eq!(ev["via"], "proxy_header");
    assert_eq!(ev["indicator"], "11.111.11.0/24");
    assert_eq!(ev["matched"], "11.111.11.111");
    assert_eq!(ev["balancer"], "1.1.1.1");
    assert_eq!(ev["proxied_dst"], "222.222.222.22:443");
    assert_eq!(ev["client_port"], 52176);
    assert_eq!(ev["connections"], 1);
    assert_eq!(ev["line"], 2);
    assert!(
        x.signature.contains("through the proxy 1.1.1.1"),
        "{}",
        x.signature
    );

    // PcapPlusPlus's MySQL connection behind a v1 line: 192.168.221.130 relays
    // 192.168.221.1:64278 to 172.16.0.112:3306.
    let cfg = with_lists(&[(
        "l",
        "192.168.221.1
",
    )]);
    let a = block(
        "robustness/PcapPlusPlus-tests/Tests/Pcap++Test/PcapExamples/one_tcp_stream_fin_rst_close_packet.pcap",
        &cfg,
    );
    assert_eq!(a.len(), 1, "{}", common::describe(&a));
    assert_eq!(a[0].kind, "proxied_ip");
    assert_eq!(a[0].src.unwrap().ip, ip("172.16.0.112"));
    assert_eq!(a[0].dst.unwrap().ip, ip("192.168.221.1"));
    assert_eq!(a[0].evidence["balancer"], "192.168.221.130");
}

#[test]
fn proxy_headers_of_unlisted_clients_and_listed_balancers_are_told_apart() {
    // An unlisted client: nothing, although the header is read.
    let cfg = with_lists(&[(
        "l",
        "11.111.11.112
222.222.222.0/24
",
    )]);
    let a = block(HAPROXY, &cfg);
    assert!(a.is_empty(), "{}", common::describe(&a));
    // The balancer itself listed: an `ip` alert from the packets, no `proxied_ip`.
    let cfg = with_lists(&[(
        "l", "1.1.1.1
",
    )]);
    let a = block(HAPROXY, &cfg);
    assert_eq!(a.len(), 1, "{}", common::describe(&a));
    assert_eq!(a[0].kind, "ip");
    assert_eq!(a[0].dst.unwrap().ip, ip("1.1.1.1"));
    // A listed address in a capture without PROXY headers that never carries it either.
    let cfg = with_lists(&[(
        "l",
        "11.111.11.111
",
    )]);
    let a = block("attacks/chrissanders-packets/http_google.pcapng", &cfg);
    assert!(a.is_empty(), "{}", common::describe(&a));
}

/// A connection from a load balancer (198.18.0.2) to a web server (198.18.0.10:80) that starts
/// with a PROXY v2 header for the client 198.18.7.7:40000 with an `authority` TLV, then an
/// HTTP request whose Host is `www.lab.test`.
fn proxied_v2_capture(authority: &str) -> std::path::PathBuf {
    use wirescope_testkit::packet::{tcp_flags as F, PacketBuilder};
    let (lb, web) = ([198u8, 18, 0, 2], [198u8, 18, 0, 10]);
    let mut data = b"\r\n\r\n\0\r\nQUIT\n".to_vec();
    data.push(0x21); // v2, PROXY
    data.push(0x11); // TCP over IPv4
    let mut body = Vec::new();
    body.extend([198, 18, 7, 7, 198, 18, 0, 1]);
    body.extend(40000u16.to_be_bytes());
    body.extend(80u16.to_be_bytes());
    body.push(0x02); // PP2_TYPE_AUTHORITY
    body.extend((authority.len() as u16).to_be_bytes());
    body.extend(authority.as_bytes());
    data.extend((body.len() as u16).to_be_bytes());
    data.extend(&body);
    data.extend(b"GET / HTTP/1.1\r\nHost: www.lab.test\r\n\r\n");
    let mut b = PacketBuilder::new();
    let mut frames = Vec::new();
    let mut pkt = |t: u64, up: bool, flags: u8, seq: u32, ack: u32, payload: &[u8]| {
        let (src, dst) = if up {
            ((lb, 51000), (web, 80))
        } else {
            ((web, 80), (lb, 51000))
        };
        let macs = ([2, 0, 0, 0, 0, 2], [2, 0, 0, 0, 0, 10]);
        let f = b.tcp4_frame(macs, src, dst, (seq, ack), flags, payload);
        frames.push((t, f.to_vec()));
    };
    let t0 = 1_700_000_000u64 * 1_000_000_000;
    pkt(t0, true, F::SYN, 100, 0, &[]);
    pkt(t0 + 1_000, false, F::SYN | F::ACK, 900, 101, &[]);
    pkt(t0 + 2_000, true, F::ACK, 101, 901, &[]);
    pkt(t0 + 3_000, true, F::PSH | F::ACK, 101, 901, &data);
    let bytes =
        wirescope_testkit::pcap::ethernet_file(frames.iter().map(|(t, f)| (*t, f.as_slice())));
    let p = std::path::PathBuf::from(env!("CARGO_TARGET_TMPDIR"))
        .join(format!("proxy_v2_{authority}.pcap"));
    std::fs::write(&p, bytes).unwrap();
    p
}

#[test]
fn proxy_v2_authority_is_looked_up_as_a_domain_for_the_real_client() {
    let cfg = with_lists(&[(
        "l",
        "bad.lab.test
198.18.7.7
",
    )]);
    let a = common::run_with(&[proxied_v2_capture("shop.bad.lab.test")], &cfg);
    let a = common::of(&a, DetectorId::Blocklist);
    assert_eq!(
        a.len(),
        2,
        "{}",
        common::describe(&a.iter().map(|x| (*x).clone()).collect::<Vec<_>>())
    );
    let d = a.iter().find(|x| x.kind == "domain").unwrap();
    assert_eq!(d.evidence["via"], "proxy_authority");
    assert_eq!(d.evidence["matched"], "shop.bad.lab.test");
    assert_eq!(d.src.unwrap().ip, ip("198.18.7.7"));
    assert_eq!(d.dst.unwrap().ip, ip("198.18.0.10"));
    let c = a.iter().find(|x| x.kind == "proxied_ip").unwrap();
    assert_eq!(c.evidence["balancer"], "198.18.0.2");
    assert_eq!(c.evidence["proxied_dst"], "198.18.0.1:80");
    // The same connection asking for an unlisted name: the client alert only.
    let a = common::run_with(&[proxied_v2_capture("www.lab.test")], &cfg);
    let a = common::of(&a, DetectorId::Blocklist);
    assert_eq!(a.len(), 1);
    assert_eq!(a[0].kind, "proxied_ip");
}

#[test]
fn bad_list_line_fails_the_build() {
    let cfg = with_lists(&[("good", "1.2.3.4\n"), ("broken", "1.2.3.4\n5.6.7\n")]);
    let e = Detection::new(&cfg).err().unwrap();
    assert!(e.to_string().contains("broken:2"), "{e}");
}

#[test]
fn ipsum_feed_loads_fast_and_matches() {
    let p = common::corpus_file("attacks/stamparm-ipsum-threatintel/ipsum.txt");
    let text = std::fs::read_to_string(&p).unwrap();
    let t0 = Instant::now();
    let lists = Lists::build(&[("ipsum".into(), text.clone())]).unwrap();
    let took = t0.elapsed();
    let n = text
        .lines()
        .filter(|l| !l.starts_with('#') && !l.trim().is_empty())
        .count();
    assert_eq!(lists.len(), n);
    assert!(n > 100_000, "{n}");
    eprintln!("ipsum: {n} entries built in {took:?} (debug build)");
    // Every listed address matches; its neighbours mostly do not.
    let first = text.lines().find(|l| !l.starts_with('#')).unwrap();
    let a: IpAddr = first.split('\t').next().unwrap().parse().unwrap();
    assert!(lists.lookup_ip(a).is_some());
    assert!(lists.lookup_ip(ip("192.0.2.1")).is_none());
    // Lookups are cheap: one million in well under a second even in a debug build.
    let t0 = Instant::now();
    let mut hits = 0u32;
    for i in 0..1_000_000u32 {
        hits += u32::from(
            lists
                .lookup_ip(IpAddr::from(i.wrapping_mul(2_654_435_761).to_be_bytes()))
                .is_some(),
        );
    }
    eprintln!("1M lookups in {:?}, {hits} hits", t0.elapsed());
    let b = Blocklist::new(&Config {
        sources: vec![("ipsum".into(), text)],
        ..Config::default()
    })
    .unwrap();
    assert_eq!(b.lists().len(), n);
}

/// With the default configuration (no lists) nothing alerts; with a list of ranges and names
/// absent from these captures nothing alerts either (the chrissanders captures use
/// 203.0.113.0/24 and 2001:db8:1:2::/64 themselves, so those documentation ranges are not
/// in the list).
#[test]
fn benign_corpus_has_no_alerts() {
    let cfg = with_lists(&[(
        "doc",
        "192.0.2.0/24\n198.51.100.0/24\n2001:db8:ffff::/48\nbad.invalid\nexample.invalid\n",
    )]);
    let mut bad = Vec::new();
    for p in common::benign_captures() {
        for c in [&DetectConfig::default(), &cfg] {
            let a = common::run_with(std::slice::from_ref(&p), c);
            let mine: Vec<Alert> = common::of(&a, DetectorId::Blocklist)
                .into_iter()
                .cloned()
                .collect();
            if !mine.is_empty() {
                bad.push(format!("{}: {}", p.display(), common::describe(&mine)));
            }
        }
    }
    assert!(bad.is_empty(), "{}", bad.join("\n"));
}

mod no_alloc {
    //! The hooks of `blocklist`, `brute_force`, `web_attack` and `slowloris` allocate nothing
    //! per packet or event in steady state: after warm-up passes over real captures (HTTP,
    //! DNS, TLS, SSH, tunnels; each pass a day later so every flow ends and starts again), a
    //! pass through the engine and detection allocates nothing. The lists are loaded but match
    //! nothing, so no alert is raised (raising allocates, by design).
    use super::*;
    use wirescope_capture::CaptureReader;
    use wirescope_core::{Frame, LinkType, Timestamp};
    use wirescope_detect::{AlertSink, Detecting};
    use wirescope_engine::{Engine, EngineConfig, Sink};
    use wirescope_testkit::alloc::{self, CountingAlloc};

    #[global_allocator]
    static GLOBAL: CountingAlloc = CountingAlloc::new();

    struct Owned {
        ts: Timestamp,
        wire_len: u32,
        link: LinkType,
        data: Vec<u8>,
    }

    struct Null;
    impl Sink for Null {}
    impl AlertSink for Null {
        fn alert(&mut self, _a: &Alert) {}
    }

    fn load(p: &std::path::Path) -> Vec<Owned> {
        let mut r = CaptureReader::open(p).unwrap();
        let mut v = Vec::new();
        while r.advance().unwrap() {
            let f = r.current();
            v.push(Owned {
                ts: f.ts,
                wire_len: f.wire_len,
                link: f.link,
                data: f.data.to_vec(),
            });
        }
        v
    }

    #[test]
    fn warmed_up_replay_allocates_nothing() {
        assert!(alloc::is_installed());
        let td = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../testdata/pcap");
        let mut packets = Vec::new();
        for f in [
            "arkime_synthetic.pcap",
            "four_ipv6_http_streams.pcap",
            "gre-sample.pcap",
            "ssh2.pcap",
            "tls13.pcap",
            "dns-tcp.pcap",
        ] {
            packets.extend(load(&td.join(f)));
        }
        for f in [
            "attacks/chrissanders-packets/http_dvwa_clearlogin.pcapng",
            "attacks/chrissanders-packets/http_google.pcapng",
            "attacks/chrissanders-packets/dns_query_response.pcapng",
        ] {
            packets.extend(load(&common::corpus_file(f)));
        }
        packets.sort_by_key(|p| p.ts);
        let cfg = with_lists(&[(
            "l",
            "240.255.255.0/24\n198.51.100.7\n2001:db8:ffff::/48\nbad.invalid\nevil.example\n",
        )]);
        let mut det = Detection::new(&cfg).unwrap();
        let mut engine = Engine::new(EngineConfig::default());
        let mut null = Null;
        let span = packets.last().unwrap().ts.since(packets[0].ts) + 86_400_000_000_000;
        let mut feed = |shift: u64| {
            let mut sink = Detecting {
                det: &mut det,
                inner: &mut null,
            };
            for p in &packets {
                let frame = Frame {
                    ts: p.ts.add_nanos(shift),
                    wire_len: p.wire_len,
                    link: p.link,
                    iface: 0,
                    data: &p.data,
                };
                engine.process(&frame, &mut sink);
            }
        };
        let mut history = Vec::new();
        let mut pass = 0;
        loop {
            let ((), n) = alloc::count(|| feed(pass * span));
            pass += 1;
            history.push(n.allocations());
            if (pass > 2 && n.allocations() == 0) || pass >= 40 {
                break;
            }
        }
        assert_eq!(
            history.last(),
            Some(&0),
            "allocations per pass: {history:?}"
        );
        let ((), n) = alloc::count(|| feed(pass * span));
        eprintln!("allocations per warm-up pass: {history:?}");
        assert_eq!(n.allocations(), 0, "{n:?}");
        assert!(
            det.alerts().is_empty(),
            "{}",
            common::describe(det.alerts())
        );
    }
}
