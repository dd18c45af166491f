//! DNS parser against tshark 4.0 on real captures, and against generated odd names.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::Command;

use wirescope_capture::{CaptureReader, PcapWriter};
use wirescope_core::{Frame, LinkType, Timestamp};
use wirescope_proto::dns::{self, DnsError, Message, NameBuf, NameStyle, TcpFramer};
use wirescope_wire::{decode_frame, Transport};

/// The shared capture corpus: `$WIRESCOPE_CORPUS`, or `shared/corpus` beside the checkout.
/// A missing corpus fails the tests (never skips them).
fn corpus_dir() -> PathBuf {
    let dir = match std::env::var_os("WIRESCOPE_CORPUS") {
        Some(p) => PathBuf::from(p),
        None => Path::new(env!("CARGO_MANIFEST_DIR")).join("../../../shared/corpus"),
    };
    assert!(
        dir.join("MANIFEST.tsv").is_file(),
        "capture corpus not found at {} (set WIRESCOPE_CORPUS to the shared/corpus folder)",
        dir.display()
    );
    dir
}

fn tshark(args: &[&str]) -> String {
    let out = Command::new("tshark")
        .args(args)
        .output()
        .expect("tshark must be installed");
    assert!(
        out.status.success(),
        "tshark {args:?} failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).expect("tshark prints UTF-8")
}

/// Per frame: (query names joined by ',', rcodes joined by ',', ids joined by ',').
type Fields = BTreeMap<u64, (String, String, String)>;

/// tshark's view: DNS, mDNS and LLMNR outside ICMP error quotes, without IP reassembly (so
/// that a fragmented datagram is seen through its first fragment only, as we see it).
fn tshark_fields(path: &Path) -> Fields {
    let p = path.to_str().expect("utf-8 path");
    let text = tshark(&[
        "-r",
        p,
        "-o",
        "ip.defragment:FALSE",
        "-o",
        "ipv6.defragment:FALSE",
        "-Y",
        "(dns || mdns || llmnr) && !icmp && !icmpv6",
        "-T",
        "fields",
        "-e",
        "frame.number",
        "-e",
        "dns.qry.name",
        "-e",
        "dns.flags.rcode",
        "-e",
        "dns.id",
    ]);
    let mut map = Fields::new();
    for line in text.lines() {
        let mut f = line.split('\t');
        let n: u64 = f.next().and_then(|x| x.parse().ok()).expect("frame number");
        let mut next = || f.next().unwrap_or("").to_string();
        let (names, rcode, id) = (next(), next(), next());
        map.insert(n, (names, rcode, id));
    }
    map
}

/// A question name as tshark shows it (errors mapped to its placeholders); `None` where
/// tshark stops dissecting the message (an exception).
fn tshark_name(q: &dns::Question<'_>) -> Option<String> {
    let mut b = NameBuf::with_style(NameStyle::Tshark);
    match q.name.write_to(&mut b) {
        Ok(()) if b.is_empty() => Some("<Root>".into()),
        Ok(()) => Some(b.as_str().to_string()),
        Err(DnsError::PointerLoop) => Some("<Name contains a pointer that loops>".into()),
        Err(DnsError::NameTooLong) => Some("<Name too long>".into()),
        Err(_) => None,
    }
}

#[derive(Default)]
struct Ours {
    names: Vec<String>,
    rcodes: Vec<String>,
    ids: Vec<String>,
}

impl Ours {
    fn add(&mut self, m: &Message<'_>) {
        for q in m.questions() {
            match tshark_name(&q) {
                Some(n) => self.names.push(n),
                None => break,
            }
        }
        if m.header().qr() {
            self.rcodes.push(m.header().rcode().to_string());
        }
        self.ids.push(format!("0x{:04x}", m.header().id));
    }

    fn fields(&self) -> (String, String, String) {
        (
            self.names.join(","),
            self.rcodes.join(","),
            self.ids.join(","),
        )
    }
}

const UDP_PORTS: [u16; 3] = [53, 5353, 5355];

#[derive(Default, Debug)]
struct Tally {
    compared: usize,
    truncated: usize,
    /// Frames whose DNS-over-TCP data was not exactly one whole message.
    tcp_multi_segment: usize,
    tcp_messages: usize,
    tcp_retransmissions: usize,
    names: usize,
}

/// Compares every DNS packet of `file` with tshark; returns what was compared.
fn compare_file(rel: &str) -> Tally {
    let path = corpus_dir().join(rel);
    assert!(path.exists(), "missing corpus file {}", path.display());
    let expect = tshark_fields(&path);
    let mut tally = Tally::default();
    let mut reader = CaptureReader::open(&path).expect("open capture");
    let mut frame_no = 0u64;
    let mut seen = std::collections::BTreeSet::new();
    let mut mismatches = Vec::new();
    let mut streams = std::collections::HashMap::new();
    while reader.advance().expect("read capture") {
        frame_no += 1;
        let frame = reader.current();
        let pkt = decode_frame(&frame);
        let mut ours = Ours::default();
        match pkt.transport {
            Transport::Udp(u)
                if UDP_PORTS.contains(&u.src_port) || UDP_PORTS.contains(&u.dst_port) =>
            {
                if pkt.ip.is_some_and(|ip| ip.frag_offset != 0) {
                    continue;
                }
                match dns::parse(pkt.payload) {
                    Ok(m) => {
                        tally.truncated += usize::from(m.truncated());
                        ours.add(&m);
                    }
                    // tshark still shows a DNS layer (malformed) for a short payload.
                    Err(_) => ours.ids.push(String::new()),
                }
            }
            Transport::Tcp(t) if t.src_port == 53 || t.dst_port == 53 => {
                let Some(ip) = pkt.ip else { continue };
                if pkt.payload.is_empty() {
                    continue;
                }
                // One framer per direction, fed in sequence order; tshark shows a message
                // on the segment that completes it, and so do we.
                let key = (ip.src, t.src_port, ip.dst, t.dst_port);
                let (framer, next_seq) = streams.entry(key).or_insert((TcpFramer::new(), None));
                if let Some(next) = *next_seq {
                    let ahead = t.seq.wrapping_sub(next) as i32;
                    if ahead < 0 {
                        // Retransmission: tshark does not dissect it again.
                        tally.tcp_retransmissions += 1;
                        continue;
                    }
                    if ahead > 0 {
                        framer.gap();
                    }
                }
                *next_seq = Some(t.seq.wrapping_add(pkt.payload.len() as u32));
                let (mut n, mut bytes) = (0, 0);
                framer.feed(pkt.payload, &mut |msg: &[u8]| {
                    n += 1;
                    bytes += 2 + msg.len();
                    if let Ok(m) = dns::parse(msg) {
                        ours.add(&m);
                    }
                });
                if n == 0 {
                    continue;
                }
                tally.tcp_messages += n;
                if framer.buffered() != 0 || n > 1 || bytes != pkt.payload.len() {
                    tally.tcp_multi_segment += 1;
                }
            }
            _ => continue,
        }
        seen.insert(frame_no);
        tally.names += ours.names.len();
        let got = ours.fields();
        match expect.get(&frame_no) {
            Some(want) if *want == got => tally.compared += 1,
            Some(want) => {
                mismatches.push(format!("frame {frame_no}: tshark {want:?} ours {got:?}"))
            }
            None => mismatches.push(format!(
                "frame {frame_no}: not DNS for tshark, ours {got:?}"
            )),
        }
    }
    for n in expect.keys() {
        if !seen.contains(n) {
            mismatches.push(format!("frame {n}: DNS for tshark only"));
        }
    }
    eprintln!("{rel}: {tally:?}");
    assert!(
        mismatches.is_empty(),
        "{rel}: {} mismatches:\n{}",
        mismatches.len(),
        mismatches.join("\n")
    );
    tally
}

fn chrissanders_dns_files() -> Vec<String> {
    let dir = corpus_dir().join("attacks/chrissanders-packets");
    let mut v: Vec<String> = std::fs::read_dir(&dir)
        .expect("corpus directory")
        .filter_map(|e| e.ok())
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .filter(|n| n.starts_with("dns"))
        .map(|n| format!("attacks/chrissanders-packets/{n}"))
        .collect();
    v.sort();
    v
}

#[test]
fn chrissanders_dns_captures_match_tshark() {
    let files = chrissanders_dns_files();
    assert!(files.len() >= 11, "{files:?}");
    let mut total = 0;
    let mut tcp = 0;
    let mut tcp_split = 0;
    for f in files.iter().map(String::as_str).chain([
        "attacks/chrissanders-packets/udp_dnsrequest.pcapng",
        "attacks/lucaderi-sgr/2021/Esercitazioni/2/Gruppo9/DNS/dgapcap.pcapng",
    ]) {
        let t = compare_file(f);
        assert!(t.compared > 0, "{f}: nothing compared");
        total += t.compared;
        tcp += t.tcp_messages;
        tcp_split += t.tcp_multi_segment;
    }
    assert!(total > 400, "{total}");
    // dns_tcp.pcapng and dns_axfr.pcapng: two queries, two responses, two of them split
    // across segments (a 1-octet segment; a length prefix sent alone).
    assert_eq!((tcp, tcp_split), (4, 2));
}

#[test]
fn iodine_tunnel_names_match_tshark() {
    // iodine puts raw 8-bit octets in labels: this exercises the tshark name presentation.
    let t = compare_file(
        "attacks/comnet24s-dns-tunnel-dataset/pcaps/iodine/examples.elastic.github.com.pcap",
    );
    assert!(t.compared >= 400, "{t:?}");
    assert!(t.names >= 400, "{t:?}");
}

#[test]
fn fragmented_amplification_first_fragments_match_tshark() {
    let t = compare_file("attacks/StopDDoS-packet-captures/amp.dns.RRSIG.fragmented.pcap");
    assert!(t.compared > 500, "{t:?}");
    // The RRSIG answers do not fit the first fragment: those messages are cut.
    assert!(t.truncated > 400, "{t:?}");
}

#[test]
fn mdns_and_llmnr_captures_match_tshark() {
    // Every capture whose MANIFEST.tsv entry mentions mDNS or LLMNR, plus odd-name samples.
    let manifest =
        std::fs::read_to_string(corpus_dir().join("MANIFEST.tsv")).expect("MANIFEST.tsv");
    let mut files: Vec<String> = manifest
        .lines()
        .filter(|l| {
            let low = l.to_ascii_lowercase();
            low.contains("mdns") || low.contains("llmnr")
        })
        .filter_map(|l| l.split('\t').nth(1).map(str::to_string))
        .filter(|p| p.ends_with(".pcap") || p.ends_with(".pcapng"))
        .collect();
    assert!(files.len() >= 10, "{files:?}");
    files.extend(
        [
            "robustness/nDPI-tests/tests/cfgs/default/pcap/dns-invalid-chars.pcap",
            "robustness/nDPI-tests/tests/cfgs/default/pcap/malformed_dns.pcap",
            "robustness/nDPI-tests/tests/cfgs/default/pcap/dns_long_domainname.pcap",
            "robustness/nDPI-tests/tests/cfgs/default/pcap/dns_ambiguous_names.pcap",
            "robustness/PcapPlusPlus-tests/Tests/Packet++Test/PacketExamples/dns_stack_overflow.pcap",
            "robustness/PcapPlusPlus-tests/Tests/Packet++Test/PacketExamples/DnsTooManyResources.pcap",
            "robustness/PcapPlusPlus-tests/Tests/Packet++Test/PacketExamples/dns_over_tcp.pcapng",
        ]
        .map(str::to_string),
    );
    let mut total = 0;
    let mut retransmissions = 0;
    for f in &files {
        let t = compare_file(f);
        total += t.compared;
        retransmissions += t.tcp_retransmissions;
    }
    assert!(total > 500, "{total}");
    // dns_over_tcp.pcapng frame 4 repeats frame 1's segment: skipped, as tshark does.
    assert_eq!(retransmissions, 1);
}

/// Tiny deterministic generator (xorshift64*).
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }
    fn below(&mut self, n: u64) -> u64 {
        self.next() % n
    }
}

fn random_label(r: &mut Rng) -> Vec<u8> {
    let n = 1 + r.below(20) as usize;
    let mut l = Vec::new();
    match r.below(3) {
        0 => l.extend((0..n).map(|_| r.below(256) as u8)),
        1 => {
            for _ in 0..n {
                let b = match r.below(4) {
                    0 => 0x80 + r.below(0x80),
                    1 => 0x80 + r.below(0x40),
                    2 => 0xC0 + r.below(0x38),
                    _ => 0x20 + r.below(0x5F),
                };
                l.push(b as u8);
            }
        }
        _ => {
            for _ in 0..1 + r.below(5) {
                let cp = match r.below(3) {
                    0 => 0x80 + r.below(0x780),
                    1 => 0x800 + r.below(0xF800),
                    _ => 0x1_0000 + r.below(0x10_0000),
                } as u32;
                // Surrogates are not chars: encode them by hand (tshark sees the octets).
                match char::from_u32(cp) {
                    Some(c) => l.extend(c.to_string().as_bytes()),
                    None => l.extend([
                        0xE0 | (cp >> 12) as u8,
                        0x80 | (cp >> 6 & 0x3F) as u8,
                        0x80 | (cp & 0x3F) as u8,
                    ]),
                }
            }
        }
    }
    l.truncate(63);
    l
}

fn ipv4_udp(payload: &[u8]) -> Vec<u8> {
    let total = (20 + 8 + payload.len()) as u16;
    let mut p = vec![0x45, 0];
    p.extend(total.to_be_bytes());
    p.extend([0, 1, 0, 0, 64, 17, 0, 0, 10, 0, 0, 1, 10, 0, 0, 2]);
    p.extend(1234u16.to_be_bytes());
    p.extend(53u16.to_be_bytes());
    p.extend((8 + payload.len() as u16).to_be_bytes());
    p.extend([0, 0]);
    p.extend(payload);
    p
}

#[test]
fn tshark_presentation_of_random_labels() {
    // Every octet value, then random labels rich in 8-bit octets and UTF-8 of random code
    // points (assigned, unassigned, format characters, surrogates): our NameStyle::Tshark
    // must print exactly what tshark prints.
    let mut rng = Rng(0x9E37_79B9_7F4A_7C15);
    let mut labels: Vec<Vec<u8>> = (0..=255u8).map(|b| vec![b'a', b, b'z']).collect();
    labels.extend((0..3000).map(|_| random_label(&mut rng)));
    let path =
        std::env::temp_dir().join(format!("wirescope-dns-names-{}.pcap", std::process::id()));
    let mut w = PcapWriter::create(&path, LinkType::RAW, 0).expect("create pcap");
    let mut msgs = Vec::new();
    for (i, l) in labels.iter().enumerate() {
        let mut m = vec![(i >> 8) as u8, i as u8, 1, 0, 0, 1, 0, 0, 0, 0, 0, 0];
        m.push(l.len() as u8);
        m.extend(l);
        m.extend([3, b'c', b'o', b'm', 0, 0, 1, 0, 1]);
        let pkt = ipv4_udp(&m);
        let frame = Frame {
            ts: Timestamp::from_secs_nanos(i as i64, 0),
            wire_len: pkt.len() as u32,
            link: LinkType::RAW,
            iface: 0,
            data: &pkt,
        };
        w.write(&frame).expect("write");
        msgs.push(m);
    }
    w.finish().expect("finish");
    let text = tshark(&[
        "-r",
        path.to_str().expect("path"),
        "-T",
        "fields",
        "-e",
        "dns.qry.name",
    ]);
    let _ = std::fs::remove_file(&path);
    let lines: Vec<&str> = text.lines().collect();
    assert_eq!(lines.len(), msgs.len());
    let mut bad = Vec::new();
    for ((m, want), label) in msgs.iter().zip(&lines).zip(&labels) {
        let msg = dns::parse(m).expect("parse");
        let q = msg.first_question().expect("question");
        let got = tshark_name(&q).expect("name");
        if got != *want {
            bad.push(format!("{label:02x?}: tshark {want:?} ours {got:?}"));
        }
    }
    assert!(
        bad.is_empty(),
        "{} differences:\n{}",
        bad.len(),
        bad.join("\n")
    );
}
