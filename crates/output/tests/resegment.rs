//! Reassembly proof on real captures: re-segmenting every TCP payload (at every split point,
//! into single bytes, and in shuffled orders with duplicates) must not change a single
//! application record.

use wirescope_capture::CaptureReader;
use wirescope_core::{Frame, LinkType, Timestamp};
use wirescope_engine::{AppCtx, DnsEvent, Engine, EngineConfig, Sink};
use wirescope_output::eve_app::{
    dns_object, http_object, proxy_object, socks_object, ssh_object, tls_object,
};
use wirescope_testkit::corpus;
use wirescope_wire::Transport;

/// Application records as JSON text, in order of emission.
#[derive(Default)]
struct Records(Vec<String>);

impl Sink for Records {
    fn dns(&mut self, _: &AppCtx<'_>, ev: &DnsEvent<'_, '_>) {
        if let DnsEvent::Message { msg, .. } = ev {
            self.0.push(format!("dns {}", dns_object(msg)));
        }
    }
    fn http(&mut self, _: &AppCtx<'_>, tx: &wirescope_proto::http::Transaction) {
        self.0.push(format!("http {}", http_object(tx)));
    }
    fn tls(&mut self, _: &AppCtx<'_>, s: &wirescope_proto::tls::TlsSession) {
        self.0.push(format!("tls {}", tls_object(s)));
    }
    fn ssh(&mut self, _: &AppCtx<'_>, s: &wirescope_proto::ssh::SshSession) {
        self.0.push(format!("ssh {}", ssh_object(s)));
    }
    fn socks(&mut self, _: &AppCtx<'_>, s: &wirescope_proto::socks::SocksSession) {
        self.0.push(format!("socks {}", socks_object(s)));
    }
    fn proxy(&mut self, _: &AppCtx<'_>, h: &wirescope_proto::proxy::ProxyHeader) {
        self.0.push(format!("proxy {}", proxy_object(h)));
    }
}

#[derive(Clone)]
struct Pkt {
    ts: Timestamp,
    data: Vec<u8>,
}

fn read(path: &str) -> Vec<Pkt> {
    let p = corpus::dir().join(path);
    let mut r = CaptureReader::open(&p).unwrap_or_else(|e| panic!("{}: {e}", p.display()));
    let mut v = Vec::new();
    while r.advance().unwrap_or(false) {
        let f = r.current();
        assert_eq!(
            f.link,
            LinkType::ETHERNET,
            "{path}: the test rewrites Ethernet frames"
        );
        v.push(Pkt {
            ts: f.ts,
            data: f.data.to_vec(),
        });
    }
    v
}

fn run(pkts: &[Pkt]) -> Vec<String> {
    let mut e = Engine::new(EngineConfig::default());
    let mut rec = Records::default();
    for p in pkts {
        let f = Frame {
            ts: p.ts,
            wire_len: p.data.len() as u32,
            link: LinkType::ETHERNET,
            iface: 0,
            data: &p.data,
        };
        e.process(&f, &mut rec);
    }
    e.finish(&mut rec);
    // Flows end in slot order at the end of input; records of one flow keep their order.
    rec.0.sort();
    rec.0
}

/// A flow's identity: addresses and ports, direction-sensitive (IPv4 addresses zero-padded).
type FlowId = [u8; 36];

/// Where the TCP header of a plain Ethernet/IPv4 or Ethernet/IPv6 frame starts (IPv6 without
/// extension headers), its flow identity and whether it is IPv6.
fn tcp_header(data: &[u8]) -> Option<(usize, FlowId, bool)> {
    let mut id = [0u8; 36];
    match data.get(12..14)? {
        [8, 0] => {
            if *data.get(23)? != 6 {
                return None;
            }
            let t = 14 + usize::from(*data.get(14)? & 0x0f) * 4;
            id[..8].copy_from_slice(data.get(26..34)?);
            id[32..].copy_from_slice(data.get(t..t + 4)?);
            Some((t, id, false))
        }
        [0x86, 0xdd] => {
            if *data.get(20)? != 6 {
                return None;
            }
            id[..32].copy_from_slice(data.get(22..54)?);
            id[32..].copy_from_slice(data.get(54..58)?);
            Some((54, id, true))
        }
        _ => None,
    }
}

/// Where the TCP payload of a plain Ethernet/IP/TCP frame lies, and its flow identity.
fn tcp_payload(p: &Pkt) -> Option<(usize, usize, FlowId)> {
    let f = Frame {
        ts: p.ts,
        wire_len: p.data.len() as u32,
        link: LinkType::ETHERNET,
        iface: 0,
        data: &p.data,
    };
    let d = wirescope_wire::decode_frame(&f);
    if d.tunnel_depth > 0 || d.vlan.is_some() {
        return None;
    }
    let Transport::Tcp(_) = d.transport else {
        return None;
    };
    if d.payload.is_empty() {
        return None;
    }
    let (_, id, _) = tcp_header(&p.data)?;
    let off = d.payload.as_ptr() as usize - p.data.as_ptr() as usize;
    Some((off, d.payload.len(), id))
}

/// A copy of `p` carrying only payload bytes `a..b`.
fn slice(p: &Pkt, off: usize, a: usize, b: usize) -> Pkt {
    let mut data = p.data[..off].to_vec();
    data.extend_from_slice(&p.data[off + a..off + b]);
    let (t, _, v6) = tcp_header(&data).expect("a frame tcp_payload accepted");
    if v6 {
        // IPv6 payload length: the TCP header and the piece.
        let len = (off - 54 + (b - a)) as u16;
        data[18..20].copy_from_slice(&len.to_be_bytes());
    } else {
        let total = (off - 14 + (b - a)) as u16;
        data[16..18].copy_from_slice(&total.to_be_bytes());
    }
    let seq = u32::from_be_bytes([data[t + 4], data[t + 5], data[t + 6], data[t + 7]]);
    let seq = seq.wrapping_add(a as u32);
    data[t + 4..t + 8].copy_from_slice(&seq.to_be_bytes());
    // Only the last piece keeps FIN; earlier pieces keep PSH/ACK.
    if b < p.data.len() - off {
        data[t + 13] &= !0x01;
    }
    Pkt { ts: p.ts, data }
}

/// Splits every data segment at `k` (when it is longer than `k`).
fn split_all_at(pkts: &[Pkt], k: usize) -> Vec<Pkt> {
    let mut out = Vec::new();
    for p in pkts {
        match tcp_payload(p) {
            Some((off, len, _)) if len > k => {
                out.push(slice(p, off, 0, k));
                out.push(slice(p, off, k, len));
            }
            _ => out.push(p.clone()),
        }
    }
    out
}

fn one_byte_segments(pkts: &[Pkt]) -> Vec<Pkt> {
    let mut out = Vec::new();
    for p in pkts {
        match tcp_payload(p) {
            Some((off, len, _)) => (0..len).for_each(|i| out.push(slice(p, off, i, i + 1))),
            None => out.push(p.clone()),
        }
    }
    out
}

/// Splits data segments into pieces of random sizes, then shuffles each run of consecutive
/// pieces of the same flow direction and duplicates some (retransmissions): reordering within
/// a flight, as a network does it, before the peer's ACK of that flight.
///
/// A stream whose SYN is not in the capture starts, by definition, at the first segment seen
/// (there is no way to know that earlier bytes are still to come), so the first piece of such a
/// stream keeps its place.
fn shuffled(pkts: &[Pkt], seed: u64) -> Vec<Pkt> {
    use std::collections::HashSet;
    let mut rng = seed | 1;
    let mut next = move || {
        rng ^= rng << 13;
        rng ^= rng >> 7;
        rng ^= rng << 17;
        rng
    };
    let syn: HashSet<FlowId> = pkts
        .iter()
        .filter_map(|p| {
            let (t, id, _) = tcp_header(&p.data)?;
            let flags = *p.data.get(t + 13)?;
            (flags & 0x02 != 0).then_some(id)
        })
        .collect();
    let mut started: HashSet<FlowId> = HashSet::new();
    let mut out: Vec<Pkt> = Vec::new();
    let mut run: Vec<Pkt> = Vec::new();
    let mut run_id: Option<FlowId> = None;
    let mut flush = |run: &mut Vec<Pkt>,
                     id: Option<FlowId>,
                     out: &mut Vec<Pkt>,
                     next: &mut dyn FnMut() -> u64| {
        let pinned = match id {
            Some(id) => usize::from(started.insert(id) && !syn.contains(&id)),
            None => 0,
        };
        for i in (pinned + 1..run.len()).rev() {
            let j = pinned + (next() % (i - pinned + 1) as u64) as usize;
            run.swap(i, j);
        }
        for p in run.drain(..) {
            if next().is_multiple_of(5) {
                out.push(p.clone());
            }
            out.push(p);
        }
    };
    for p in pkts {
        match tcp_payload(p) {
            Some((off, len, id)) => {
                if run_id != Some(id) {
                    flush(&mut run, run_id, &mut out, &mut next);
                    run_id = Some(id);
                }
                let mut a = 0;
                while a < len {
                    let b = (a + 1 + (next() % 700) as usize).min(len);
                    run.push(slice(p, off, a, b));
                    a = b;
                }
            }
            None => {
                flush(&mut run, run_id, &mut out, &mut next);
                run_id = None;
                out.push(p.clone());
            }
        }
    }
    flush(&mut run, run_id, &mut out, &mut next);
    out
}

/// Records in one list and not the other (multiset difference), for a readable failure.
fn diff(got: &[String], want: &[String]) -> String {
    let mut extra: Vec<&String> = Vec::new();
    let mut missing: Vec<&String> = want.iter().collect();
    for g in got {
        match missing.iter().position(|w| *w == g) {
            Some(i) => {
                missing.swap_remove(i);
            }
            None => extra.push(g),
        }
    }
    format!(
        "{} records vs {} expected\nmissing: {missing:#?}\nunexpected: {extra:#?}",
        got.len(),
        want.len()
    )
}

fn same(got: &[String], want: &[String], what: &str) {
    assert!(got == want, "{what}: {}", diff(got, want));
}

/// Whether the capture has IPv6 TCP payload that the test re-segments.
fn splits_ipv6(path: &str) -> bool {
    read(path)
        .iter()
        .any(|p| tcp_payload(p).is_some() && p.data.get(12..14) == Some(&[0x86, 0xdd][..]))
}

fn check(path: &str, want_kinds: &[&str]) {
    let pkts = read(path);
    let base = run(&pkts);
    for k in want_kinds {
        assert!(
            base.iter().any(|r| r.starts_with(k)),
            "{path}: no {k} record in {base:#?}"
        );
    }
    let longest = pkts
        .iter()
        .filter_map(tcp_payload)
        .map(|(_, l, _)| l)
        .max()
        .unwrap_or(0);
    assert!(longest > 1, "{path}: no TCP payload to split");
    for k in 1..longest {
        let got = run(&split_all_at(&pkts, k));
        same(&got, &base, &format!("{path}: split at {k}"));
    }
    same(
        &run(&one_byte_segments(&pkts)),
        &base,
        &format!("{path}: 1-byte segments"),
    );
    for seed in 1..=20 {
        same(
            &run(&shuffled(&pkts, seed)),
            &base,
            &format!("{path}: shuffle seed {seed}"),
        );
    }
}

#[test]
fn http_is_unchanged_by_resegmentation() {
    check("attacks/chrissanders-packets/http_google.pcapng", &["http"]);
    check("attacks/chrissanders-packets/http_post.pcapng", &["http"]);
    // The same page over IPv4 and IPv6.
    let path = "attacks/chrissanders-packets/http_ip4and6.pcapng";
    assert!(splits_ipv6(path));
    check(path, &["http"]);
}

#[test]
fn dns_over_tcp_is_unchanged_by_resegmentation() {
    check("attacks/chrissanders-packets/dns_tcp.pcapng", &["dns"]);
}

#[test]
fn tls_is_unchanged_by_resegmentation() {
    check(
        "robustness/PcapPlusPlus-tests/Tests/ExamplesTest/pcap_examples/tls2.pcap",
        &["tls"],
    );
}

#[test]
fn ssh_is_unchanged_by_resegmentation() {
    check("robustness/arkime-tests/tests/pcap/ssh2.pcap", &["ssh"]);
}

#[test]
fn socks_and_its_tunnels_are_unchanged_by_resegmentation() {
    // SOCKS 4, 4a and 5 handshakes, each followed by HTTP inside the tunnel.
    check(
        "robustness/arkime-tests/tests/pcap/socks-http-example.pcap",
        &["socks", "http"],
    );
}

#[test]
fn starttls_hand_over_is_unchanged_by_resegmentation() {
    // POP3 `STLS` and SMTP `STARTTLS` accepted, then a TLS handshake on the same connection.
    check(
        "robustness/nDPI-tests/tests/cfgs/default/pcap/pop3_stls.pcap",
        &["tls"],
    );
    check(
        "robustness/arkime-tests/tests/pcap/smtp-starttls.pcap",
        &["tls"],
    );
    // LDAP's StartTLS extended operation, over IPv6.
    let path = "robustness/arkime-tests/tests/pcap/ldap-ssl.pcap";
    assert!(splits_ipv6(path));
    check(path, &["tls"]);
}

#[test]
fn hello_retry_is_unchanged_by_resegmentation() {
    // TLS 1.3: ClientHello, HelloRetryRequest, a compatibility ChangeCipherSpec and the second
    // ClientHello, whose fingerprints the record keeps beside the first's.
    let path = "robustness/rusticata-pcap-parser/assets/err-buffertoosmall.pcapng";
    check(path, &["tls"]);
    let base = run(&read(path));
    assert!(
        base.iter()
            .any(|r| r.starts_with("tls") && r.contains(r#""hello_retry":{"ja3":{"hash":"#)),
        "{base:#?}"
    );
}

#[test]
fn proxy_protocol_header_is_unchanged_by_resegmentation() {
    // A PROXY protocol v1 line, then a TLS ClientHello, in one segment (nDPI's HAProxy
    // sample); and a v1 line ahead of a MySQL session (PcapPlusPlus).
    for (path, inner) in [
        ("robustness/nDPI-tests/tests/cfgs/default/pcap/haproxy.pcap", "tls"),
        (
            "robustness/PcapPlusPlus-tests/Tests/Pcap++Test/PcapExamples/one_tcp_stream_fin_rst_close_packet.pcap",
            "proxy",
        ),
    ] {
        check(path, &["proxy", inner]);
        let base = run(&read(path));
        assert!(
            base.iter()
                .any(|r| r.starts_with("proxy") && r.contains(r#""protocol":"TCP4""#)),
            "{base:#?}"
        );
    }
    let base = run(&read(
        "robustness/nDPI-tests/tests/cfgs/default/pcap/haproxy.pcap",
    ));
    assert!(
        base.iter()
            .any(|r| r.starts_with("tls") && r.contains("dda262729e5413660ec0e6a8d4279860")),
        "{base:#?}"
    );
}

#[test]
fn openvpn_control_channel_is_unchanged_by_resegmentation() {
    // TLS hellos inside OpenVPN's control packets, with and without a tls-auth HMAC.
    for file in ["443-opvn.pcap", "openvpn_nohmac_tcp.pcapng"] {
        check(
            &format!("robustness/nDPI-tests/tests/cfgs/default/pcap/{file}"),
            &["tls"],
        );
    }
}
