//! DHCP parser against tshark 4.0, field by field, on real captures; transaction
//! aggregation on the captured exchanges.

use std::collections::BTreeMap;
use std::net::{IpAddr, Ipv4Addr};
use std::path::{Path, PathBuf};
use std::process::Command;

use wirescope_capture::CaptureReader;
use wirescope_core::Timestamp;
use wirescope_proto::dhcp::{self, Message, Transaction, TxConfig, TxTable};
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

/// The fields compared, as tshark names them.
const FIELDS: [&str; 19] = [
    "dhcp.type",
    "dhcp.id",
    "dhcp.ip.client",
    "dhcp.ip.your",
    "dhcp.ip.relay",
    "dhcp.hw.mac_addr",
    "dhcp.option.dhcp",
    "dhcp.option.hostname",
    "dhcp.option.requested_ip_address",
    "dhcp.option.ip_address_lease_time",
    "dhcp.option.dhcp_server_id",
    "dhcp.option.subnet_mask",
    "dhcp.option.router",
    "dhcp.option.domain_name_server",
    "dhcp.option.domain_name",
    "dhcp.option.vendor_class_id",
    "dhcp.option.message",
    "dhcp.option.request_list_item",
    "dhcp.fqdn.name",
];

fn tshark_rows(path: &Path) -> BTreeMap<u64, Vec<String>> {
    let mut args = vec![
        "-r".to_string(),
        path.to_str().expect("utf-8 path").to_string(),
        "-Y".into(),
        "dhcp && !icmp".into(),
        "-T".into(),
        "fields".into(),
        "-e".into(),
        "frame.number".into(),
    ];
    for f in FIELDS {
        args.push("-e".into());
        args.push(f.into());
    }
    let out = Command::new("tshark")
        .args(&args)
        .output()
        .expect("tshark must be installed");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let text = String::from_utf8(out.stdout).expect("utf-8");
    let mut rows = BTreeMap::new();
    for line in text.lines() {
        let mut cols = line.split('\t');
        let n: u64 = cols.next().and_then(|c| c.parse().ok()).expect("frame");
        let mut v: Vec<String> = cols.map(str::to_string).collect();
        v.resize(FIELDS.len(), String::new());
        // Option 61 with an Ethernet address adds a second dhcp.hw.mac_addr: keep chaddr's.
        if let Some(mac) = v.get_mut(5) {
            if let Some(first) = mac.split(',').next() {
                *mac = first.to_string();
            }
        }
        // Option fields: every instance, sorted (see `all`).
        for f in v.iter_mut().skip(6) {
            let mut parts: Vec<&str> = f.split(',').filter(|p| !p.is_empty()).collect();
            parts.sort_unstable();
            *f = parts.join(",");
        }
        rows.insert(n, v);
    }
    rows
}

fn text(b: Option<&[u8]>) -> String {
    // tshark's FT_STRINGZ stops at the first NUL.
    let b = b.unwrap_or(&[]);
    let end = b.iter().position(|&c| c == 0).unwrap_or(b.len());
    String::from_utf8_lossy(&b[..end]).into_owned()
}

fn join<T: ToString>(it: impl Iterator<Item = T>) -> String {
    it.map(|x| x.to_string()).collect::<Vec<_>>().join(",")
}

/// Every instance of an option, formatted; tshark lists them in its own tree order
/// (overloaded `sname`/`file` options where option 52 stands), so both sides are sorted.
fn all(m: &Message<'_>, code: u8, f: impl Fn(&[u8]) -> Vec<String>) -> String {
    let mut v: Vec<String> = m
        .options()
        .filter(|o| o.0 == code)
        .flat_map(|o| f(o.1))
        .collect();
    v.sort();
    v.join(",")
}

fn as_text(v: &[u8]) -> Vec<String> {
    vec![text(Some(v))]
}

fn as_ips(v: &[u8]) -> Vec<String> {
    v.chunks_exact(4)
        .map(|c| Ipv4Addr::new(c[0], c[1], c[2], c[3]).to_string())
        .collect()
}

fn as_u32(v: &[u8]) -> Vec<String> {
    match <[u8; 4]>::try_from(v) {
        Ok(a) => vec![u32::from_be_bytes(a).to_string()],
        Err(_) => vec![],
    }
}

fn ours(m: &Message<'_>) -> Vec<String> {
    use dhcp::opt;
    let mac = m
        .mac()
        .map(|a| join(a.iter().map(|b| format!("{b:02x}"))).replace(',', ":"))
        .unwrap_or_default();
    // The getters return the first instance of what options() yields.
    let first = |code| m.options().find(|o| o.0 == code).map(|o| o.1);
    assert_eq!(m.hostname(), first(opt::HOSTNAME));
    assert_eq!(m.domain(), first(opt::DOMAIN_NAME));
    assert_eq!(m.message(), first(opt::MESSAGE));
    assert_eq!(m.vendor_class(), first(opt::VENDOR_CLASS));
    assert_eq!(m.param_request_list(), first(opt::PARAM_REQUEST_LIST));
    assert_eq!(
        m.lease_time().map(|t| t.to_string()),
        first(opt::LEASE_TIME).and_then(|v| as_u32(v).pop())
    );
    let fqdn = |v: &[u8]| match (v.first(), v.get(3..)) {
        (Some(&f), Some(n)) => {
            let mut t = Vec::new();
            dhcp::fqdn_to_text(f, n, &mut t);
            vec![text(Some(&t))]
        }
        _ => vec![],
    };
    let one = |v: &[u8]| match v {
        [x] => vec![x.to_string()],
        _ => vec![],
    };
    let ip = |v: &[u8]| if v.len() == 4 { as_ips(v) } else { vec![] };
    vec![
        m.op.to_string(),
        format!("0x{:08x}", m.xid),
        m.ciaddr.to_string(),
        m.yiaddr.to_string(),
        m.giaddr.to_string(),
        mac,
        all(m, opt::MSG_TYPE, one),
        all(m, opt::HOSTNAME, as_text),
        all(m, opt::REQUESTED_IP, ip),
        all(m, opt::LEASE_TIME, as_u32),
        all(m, opt::SERVER_ID, ip),
        all(m, opt::SUBNET_MASK, ip),
        all(m, opt::ROUTER, as_ips),
        all(m, opt::DNS_SERVER, as_ips),
        all(m, opt::DOMAIN_NAME, as_text),
        all(m, opt::VENDOR_CLASS, as_text),
        all(m, opt::MESSAGE, as_text),
        all(m, opt::PARAM_REQUEST_LIST, |v| {
            v.iter().map(|c| c.to_string()).collect()
        }),
        all(m, opt::CLIENT_FQDN, fqdn),
    ]
}

struct Seen {
    messages: usize,
    transactions: Vec<Transaction>,
    /// Frames cut by the snaplen inside the fixed part.
    cut: Vec<u64>,
}

/// Compares every DHCP packet (UDP 67/68) with tshark and aggregates the messages.
fn compare_file(rel: &str) -> Seen {
    let path = corpus_dir().join(rel);
    assert!(path.exists(), "missing corpus file {}", path.display());
    let expect = tshark_rows(&path);
    let mut reader = CaptureReader::open(&path).expect("open");
    let mut table = TxTable::new();
    let mut transactions = Vec::new();
    let mut frame_no = 0u64;
    let mut messages = 0;
    let mut bad = Vec::new();
    let mut ours_frames = std::collections::BTreeSet::new();
    let mut cut = Vec::new();
    while reader.advance().expect("read") {
        frame_no += 1;
        let frame = reader.current();
        let pkt = decode_frame(&frame);
        let Transport::Udp(u) = pkt.transport else {
            continue;
        };
        if ![67, 68].contains(&u.src_port) && ![67, 68].contains(&u.dst_port) {
            continue;
        }
        let m = match dhcp::parse(pkt.payload) {
            Ok(m) => m,
            Err(e) => {
                // Explained exception: the snaplen cut the frame inside the 236-octet fixed
                // part; tshark shows the fields that are there, we reject the message.
                assert_eq!(e, dhcp::DhcpError::TooShort(pkt.payload.len()));
                assert!(
                    frame.data.len() < frame.wire_len as usize,
                    "frame {frame_no}"
                );
                cut.push(frame_no);
                ours_frames.insert(frame_no);
                continue;
            }
        };
        messages += 1;
        ours_frames.insert(frame_no);
        let got = ours(&m);
        match expect.get(&frame_no) {
            None => bad.push(format!("frame {frame_no}: not DHCP for tshark")),
            Some(want) => {
                for (i, (w, g)) in want.iter().zip(&got).enumerate() {
                    if w != g {
                        bad.push(format!(
                            "frame {frame_no} {}: tshark {w:?} ours {g:?}",
                            FIELDS[i]
                        ));
                    }
                }
            }
        }
        let (src, dst) = match pkt.ip.map(|ip| (ip.src, ip.dst)) {
            Some((IpAddr::V4(s), IpAddr::V4(d))) => (s, d),
            _ => (Ipv4Addr::UNSPECIFIED, Ipv4Addr::UNSPECIFIED),
        };
        table.on_message(&m, frame.ts, src, dst, &mut |t: &Transaction| {
            transactions.push(t.clone())
        });
    }
    table.flush(&mut |t: &Transaction| transactions.push(t.clone()));
    for n in expect.keys() {
        if !ours_frames.contains(n) {
            bad.push(format!("frame {n}: DHCP for tshark only"));
        }
    }
    assert!(bad.is_empty(), "{rel}:\n{}", bad.join("\n"));
    Seen {
        messages,
        transactions,
        cut,
    }
}

#[test]
fn chrissanders_dhcp_exchanges() {
    let s = compare_file("attacks/chrissanders-packets/dhcp_nolease_initialization.pcapng");
    assert_eq!(s.messages, 4);
    assert_eq!(s.transactions.len(), 1);
    let t = &s.transactions[0];
    assert_eq!(t.xid, 0x696d_dc66);
    assert_eq!(t.msg_types, vec![1, 2, 3, 5]);
    assert_eq!(t.mac, Some([0x00, 0x0c, 0x29, 0x59, 0xfd, 0x21]));
    assert_eq!(t.host_name, b"ubuntu2");
    assert_eq!(t.domain, b"mydomain.example");
    assert_eq!(t.requested_addr, Some(Ipv4Addr::new(192, 168, 1, 10)));
    assert_eq!(t.assigned_addr, Some(Ipv4Addr::new(192, 168, 1, 10)));
    assert_eq!(t.client_addr, Some(Ipv4Addr::new(192, 168, 1, 10)));
    assert_eq!(t.lease_time, Some(600));
    assert!(t.server_addr.is_some());
    assert!(t.last_ts > t.ts);

    let s = compare_file("attacks/chrissanders-packets/dhcp_inlease_renewal.pcapng");
    assert_eq!(s.messages, 2);
    assert_eq!(s.transactions.len(), 1);
    assert_eq!(s.transactions[0].msg_types, vec![3, 5]);
    assert_eq!(s.transactions[0].xid, 0x81bc_c90f);
}

#[test]
fn more_dhcp_captures_match_tshark() {
    let files = [
        "robustness/arkime-tests/tests/pcap/wireshark-dhcp.pcap",
        "robustness/arkime-tests/tests/pcap/arkime_synthetic.pcap",
        "robustness/PcapPlusPlus-tests/Tests/Packet++Test/PacketExamples/Dhcp1.pcap",
        "robustness/PcapPlusPlus-tests/Tests/Packet++Test/PacketExamples/Dhcp2.pcap",
        "robustness/PcapPlusPlus-tests/Tests/Packet++Test/PacketExamples/Dhcp3.pcap",
        "robustness/PcapPlusPlus-tests/Tests/Packet++Test/PacketExamples/Dhcp4.pcap",
        "robustness/nDPI-tests/tests/cfgs/default/pcap/dhcp-fuzz.pcapng",
        "robustness/tcpdump-tests/tests/bootp_asan.pcap",
        "robustness/tcpdump-tests/tests/bootp_asan-2.pcap",
        "robustness/tcpdump-tests/tests/dhcp-mud.pcap",
        "robustness/tcpdump-tests/tests/dhcp-option-108.pcapng",
        "robustness/tcpdump-tests/tests/dhcp-option-33.pcap",
        "robustness/tcpdump-tests/tests/dhcp-rfc3004.pcap",
        "robustness/tcpdump-tests/tests/dhcp-rfc4388.pcap",
        "robustness/tcpdump-tests/tests/dhcp-rfc5859.pcap",
    ];
    let mut total = 0;
    let mut cut = Vec::new();
    for f in files {
        let s = compare_file(f);
        assert!(s.messages + s.cut.len() > 0, "{f}");
        total += s.messages;
        cut.extend(s.cut.iter().map(|n| format!("{f}#{n}")));
    }
    eprintln!("{total} DHCP messages compared");
    assert!(total >= 60, "{total}");
    assert_eq!(
        cut,
        vec![
            "robustness/tcpdump-tests/tests/bootp_asan.pcap#1".to_string(),
            "robustness/tcpdump-tests/tests/bootp_asan-2.pcap#1".to_string(),
        ],
        "only the known snaplen-cut messages are rejected"
    );
}

#[test]
fn wireshark_dhcp_sample_gives_two_transactions() {
    let s = compare_file("robustness/arkime-tests/tests/pcap/wireshark-dhcp.pcap");
    type Summary = (u32, Vec<u8>, Option<Ipv4Addr>, Option<u32>);
    let summary: Vec<Summary> = s
        .transactions
        .iter()
        .map(|t| (t.xid, t.msg_types.clone(), t.assigned_addr, t.lease_time))
        .collect();
    let addr = Some(Ipv4Addr::new(192, 168, 0, 10));
    assert_eq!(
        summary,
        vec![
            (0x3d1e, vec![3, 5], addr, Some(3600)),
            (0x3d1d, vec![1, 2], addr, Some(3600)),
        ]
    );
    // REQUEST/ACK is emitted on the ACK; DISCOVER/OFFER (another xid) never completed and
    // comes from the final flush. In Zeek's timing mode both
    // wait for the flush.
    let mut t = TxTable::with_config(TxConfig {
        emit_on_completion: false,
        ..TxConfig::default()
    });
    let path = corpus_dir().join("robustness/arkime-tests/tests/pcap/wireshark-dhcp.pcap");
    let mut r = CaptureReader::open(&path).expect("open");
    let mut n = 0;
    let mut last = Timestamp::ZERO;
    while r.advance().expect("read") {
        let frame = r.current();
        let pkt = decode_frame(&frame);
        let m = dhcp::parse(pkt.payload).expect("dhcp");
        last = frame.ts;
        t.on_message(
            &m,
            frame.ts,
            Ipv4Addr::UNSPECIFIED,
            Ipv4Addr::BROADCAST,
            &mut |_| n += 1,
        );
    }
    assert_eq!((n, t.len()), (0, 2));
    t.expire(last.add_nanos(5_000_000_001), &mut |_| n += 1);
    assert_eq!((n, t.len()), (2, 0));
}
