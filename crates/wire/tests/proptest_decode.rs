//! Property tests: arbitrary bytes never panic `decode` (for every link type, and for real
//! frames with bytes overwritten or cut), and headers built from random field values decode
//! back to the same values.

use proptest::prelude::*;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

use wirescope_wire::{
    decode, is_tunnel_port, tcp_flags, Layer, LinkType, Packet, TcpOptions, Transport,
};

const LINK_TYPES: [u16; 26] = [
    0, 1, 12, 14, 101, 108, 113, 228, 229, 276, // Ethernet, cooked, null and raw IP
    9, 50, 104, 105, 106, 107, 127, 129, 149, 178, 192, 204, 226, 239, 242, 258, // others
];

/// Real frames (from the unit-test fixtures) whose mutations reach the deep decoder paths:
/// ERSPAN + VXLAN, PPTP GRE + PPP, QinQ ARP, SLL IPv6 TCP.
const SEEDS: &[(u16, &str)] = &[
    (1, "bbbbbbbbbbb1aaaaaaaaaaa1080045000 08c00010000402fa01764140902641409011000 88be00000000100000140000 0001ffddfffffff1eeeeeeeeeee10800 4500005a000100004011eb75ac101b83ac101b7912b512b60046a3b70c000003 00000000ddddddddddd1aabbccddccc1 0800450000280001000040063021 0a101b0c0a101b83fe960050000000000000 000050022000464d0000"),
    (1, "0009e955c01c001400000200080045000078 18d80000402f397d140000021400 00013001880b005800180000 0007ff0300214500005411010000 40012f2c1101017a28000002 08004500182b000100000000 53c68380"),
    (1, "ffffffffffff0020d25afb3f88a800c8810007d108060001080006040001 0020d25afb3fac154f61000000000000ac154f64"),
    (113, "0000000100060012441e7400f67f86dd6000000004d806372404680080040000 00000000000000682404013840024000023048fffedd00530050c44356eb0a40 2d0b40348010020fd84900000101080a27a9b47904023826"),
];

fn hex(s: &str) -> Vec<u8> {
    let d: Vec<u8> = s.bytes().filter(u8::is_ascii_hexdigit).collect();
    d.chunks(2)
        .map(|p| {
            let v = |c: u8| (c as char).to_digit(16).map_or(0, |x| x as u8);
            v(p[0]) << 4 | v(p.get(1).copied().unwrap_or(b'0'))
        })
        .collect()
}

/// Invariants that hold for any input.
fn sane(p: &Packet<'_>, data: &[u8]) {
    let r = data.as_ptr_range();
    let pr = p.payload.as_ptr_range();
    assert!(p.payload.is_empty() || (r.start <= pr.start && pr.end <= r.end));
    if p.transport != Transport::None {
        assert!(p.ip.is_some());
    }
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 4096, ..ProptestConfig::default() })]

    #[test]
    fn random_bytes_never_panic(link in prop::sample::select(&LINK_TYPES[..]),
                                data in prop::collection::vec(any::<u8>(), 0..256)) {
        let p = decode(LinkType(link), &data);
        sane(&p, &data);
    }

    /// Plausible starts (valid version nibbles, known EtherTypes, SLL protocols) followed by
    /// random bytes reach much deeper than uniform noise.
    #[test]
    fn random_tails_behind_valid_heads_never_panic(
        head in prop::sample::select(vec![
            (1u16, vec![0u8; 12].into_iter().chain([0x08, 0x00]).collect::<Vec<u8>>()),
            (1, vec![0u8; 12].into_iter().chain([0x86, 0xdd]).collect()),
            (1, vec![0u8; 12].into_iter().chain([0x81, 0x00]).collect()),
            (1, vec![0u8; 12].into_iter().chain([0x88, 0x47]).collect()),
            (1, vec![0u8; 12].into_iter().chain([0x88, 0x64, 0x11, 0x00, 0, 1, 0x05, 0xd4, 0, 0x21]).collect()),
            (101, vec![0x45]),
            (101, vec![0x60]),
            (101, vec![0x45, 0, 0, 0, 0, 0, 0, 0, 64, 47]),
            (101, vec![0x45, 0, 0, 0, 0, 0, 0, 0, 64, 17]),
            (101, vec![0x60, 0, 0, 0, 0, 0, 0]),
            // MACsec (integrity only, SCI), Arista timestamp, NSH, FabricPath, Cisco MetaData.
            (1, vec![0u8; 12].into_iter().chain([0x88, 0xe5, 0x20, 0]).collect()),
            (1, vec![0u8; 12].into_iter().chain([0xd2, 0x8b, 0, 1, 0, 0x10]).collect()),
            (1, vec![0u8; 12].into_iter().chain([0x89, 0x4f, 0x0f, 0xc6, 0x01, 0x03]).collect()),
            (1, vec![0u8; 12].into_iter().chain([0x89, 0x03, 0x40, 0x20]).collect()),
            (1, vec![0u8; 12].into_iter().chain([0x89, 0x09, 0, 0, 0, 0, 0, 0, 0x89, 0x09]).collect()),
            // PPP, Cisco HDLC, Frame Relay (Cisco, RFC 2427 SNAP bridged), radiotap + 802.11
            // data, NFLOG, PKTAP and PPI naming Ethernet.
            (9, vec![0xff, 0x03, 0x00, 0x21]),
            (9, vec![0xff, 0x03, 0x02, 0x81]),
            (104, vec![0x0f, 0x00, 0x86, 0xdd]),
            (107, vec![0x18, 0x61, 0x08, 0x00]),
            (107, vec![0x18, 0x61, 0x03, 0x80, 0x00, 0x80, 0xc2, 0x00, 0x07]),
            (127, vec![0, 0, 8, 0, 0, 0, 0, 0, 0x88, 0x03]),
            (127, vec![0, 0, 9, 0, 2, 0, 0, 0, 0x30, 0x08, 0x01]),
            (239, vec![2, 0, 0, 0]),
            (239, vec![10, 0, 0, 0, 8, 0, 1, 0, 0, 0, 0, 0, 0x30, 0, 9, 0]),
            (258, vec![108, 0, 0, 0, 1, 0, 0, 0, 1, 0, 0, 0]),
            (192, vec![0, 0, 8, 0, 1, 0, 0, 0]),
        ]),
        tail in prop::collection::vec(any::<u8>(), 0..200),
    ) {
        let (link, mut data) = head;
        data.extend(tail);
        let p = decode(LinkType(link), &data);
        sane(&p, &data);
    }

    #[test]
    fn mutated_real_frames_never_panic(
        seed in 0..SEEDS.len(),
        edits in prop::collection::vec((any::<prop::sample::Index>(), any::<u8>()), 0..8),
        cut in any::<prop::sample::Index>(),
    ) {
        let (link, frame) = SEEDS[seed];
        let mut data = hex(frame);
        for (at, v) in edits {
            let i = at.index(data.len());
            data[i] = v;
        }
        let len = cut.index(data.len() + 1);
        let p = decode(LinkType(link), &data[..len]);
        sane(&p, &data[..len]);
    }
}

/// Fields of an IPv4 or IPv6 + TCP packet to build and decode back.
#[derive(Debug, Clone)]
struct TcpCase {
    v6: bool,
    src: [u8; 16],
    dst: [u8; 16],
    ttl: u8,
    dscp: u8,
    ident: u16,
    flow_label: u32,
    sport: u16,
    dport: u16,
    seq: u32,
    ack: u32,
    flags: u16,
    window: u16,
    urgent: u16,
    mss: Option<u16>,
    ws: Option<u8>,
    sack_permitted: bool,
    ts: Option<(u32, u32)>,
    payload: Vec<u8>,
}

fn tcp_case() -> impl Strategy<Value = TcpCase> {
    (
        (
            any::<bool>(),
            any::<[u8; 16]>(),
            any::<[u8; 16]>(),
            any::<u8>(),
            0u8..64,
        ),
        (any::<u16>(), 0u32..0x10_0000, any::<u16>(), any::<u16>()),
        (
            any::<u32>(),
            any::<u32>(),
            0u16..0x200,
            any::<u16>(),
            any::<u16>(),
        ),
        (
            any::<Option<u16>>(),
            any::<Option<u8>>(),
            any::<bool>(),
            any::<Option<(u32, u32)>>(),
        ),
        prop::collection::vec(any::<u8>(), 0..64),
    )
        .prop_map(|(a, b, c, d, payload)| TcpCase {
            v6: a.0,
            src: a.1,
            dst: a.2,
            ttl: a.3,
            dscp: a.4,
            ident: b.0,
            flow_label: b.1,
            sport: b.2,
            dport: b.3,
            seq: c.0,
            ack: c.1,
            flags: c.2,
            window: c.3,
            urgent: c.4,
            mss: d.0,
            ws: d.1,
            sack_permitted: d.2,
            ts: d.3,
            payload,
        })
}

fn ones_complement(b: &[u8]) -> u16 {
    let mut s: u32 = b
        .chunks(2)
        .map(|w| u32::from(w[0]) << 8 | u32::from(*w.get(1).unwrap_or(&0)))
        .sum();
    while s > 0xFFFF {
        s = (s & 0xFFFF) + (s >> 16);
    }
    !(s as u16)
}

/// Serialises an IP header (RFC 791 §3.1 / RFC 8200 §3) around `l4`.
fn ip_packet(
    v6: bool,
    c: (&[u8; 16], &[u8; 16], u8, u8, u16, u32),
    proto: u8,
    l4: &[u8],
) -> Vec<u8> {
    let (src, dst, ttl, dscp, ident, flow) = c;
    let mut b = Vec::new();
    if v6 {
        let vtf = 6u32 << 28 | u32::from(dscp) << 22 | flow;
        b.extend(vtf.to_be_bytes());
        b.extend((l4.len() as u16).to_be_bytes());
        b.extend([proto, ttl]);
        b.extend(src);
        b.extend(dst);
    } else {
        b.extend([0x45, dscp << 2]);
        b.extend(((20 + l4.len()) as u16).to_be_bytes());
        b.extend(ident.to_be_bytes());
        b.extend([0x40, 0x00, ttl, proto, 0, 0]);
        b.extend(&src[..4]);
        b.extend(&dst[..4]);
        let c = ones_complement(&b);
        b[10..12].copy_from_slice(&c.to_be_bytes());
    }
    b.extend(l4);
    b
}

fn build_tcp(c: &TcpCase) -> Vec<u8> {
    let mut opts = Vec::new();
    if let Some(m) = c.mss {
        opts.extend([2, 4]);
        opts.extend(m.to_be_bytes());
    }
    if c.sack_permitted {
        opts.extend([4, 2]);
    }
    if let Some((a, b)) = c.ts {
        opts.extend([1, 1, 8, 10]);
        opts.extend(a.to_be_bytes());
        opts.extend(b.to_be_bytes());
    }
    if let Some(w) = c.ws {
        opts.extend([1, 3, 3, w]);
    }
    while opts.len() % 4 != 0 {
        opts.push(0); // EOL, then padding
    }
    let doff = (20 + opts.len()) / 4;
    let mut t = Vec::new();
    t.extend(c.sport.to_be_bytes());
    t.extend(c.dport.to_be_bytes());
    t.extend(c.seq.to_be_bytes());
    t.extend(c.ack.to_be_bytes());
    t.extend(((doff as u16) << 12 | c.flags).to_be_bytes());
    t.extend(c.window.to_be_bytes());
    t.extend([0xAB, 0xCD]); // checksum: never verified
    t.extend(c.urgent.to_be_bytes());
    t.extend(opts);
    t.extend(&c.payload);
    t
}

fn addr(v6: bool, a: &[u8; 16]) -> IpAddr {
    if v6 {
        IpAddr::V6(Ipv6Addr::from(*a))
    } else {
        IpAddr::V4(Ipv4Addr::new(a[0], a[1], a[2], a[3]))
    }
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 2048, ..ProptestConfig::default() })]

    #[test]
    fn tcp_round_trip(c in tcp_case()) {
        let seg = build_tcp(&c);
        let ip = ip_packet(c.v6, (&c.src, &c.dst, c.ttl, c.dscp, c.ident, c.flow_label), 6, &seg);
        let p = decode(LinkType::RAW, &ip);
        prop_assert!(p.anomalies.is_empty(), "{:?}", p.anomalies);
        let ip_layer = if c.v6 { Layer::Ipv6 } else { Layer::Ipv4 };
        prop_assert!(p.layers.contains(ip_layer));
        let info = p.ip.expect("ip");
        prop_assert_eq!(info.src, addr(c.v6, &c.src));
        prop_assert_eq!(info.dst, addr(c.v6, &c.dst));
        prop_assert_eq!((info.ttl, info.dscp), (c.ttl, c.dscp));
        prop_assert_eq!(info.total_len as usize, ip.len());
        if c.v6 {
            prop_assert_eq!(info.flow_label, c.flow_label);
        } else {
            prop_assert_eq!(info.ident, u32::from(c.ident));
        }
        let Transport::Tcp(t) = p.transport else { panic!("{:?}", p.transport) };
        prop_assert_eq!((t.src_port, t.dst_port, t.seq, t.ack), (c.sport, c.dport, c.seq, c.ack));
        prop_assert_eq!((t.flags, t.window, t.urgent), (c.flags, c.window, c.urgent));
        prop_assert_eq!(usize::from(t.header_len), seg.len() - c.payload.len());
        let want = TcpOptions {
            mss: c.mss,
            window_scale: c.ws,
            sack_permitted: c.sack_permitted,
            timestamps: c.ts,
            ..TcpOptions::default()
        };
        prop_assert_eq!(t.options, want);
        prop_assert_eq!(t.has(tcp_flags::SYN), c.flags & 0x02 != 0);
        prop_assert_eq!(p.payload, &c.payload[..]);
        prop_assert_eq!(p.payload_wire_len as usize, c.payload.len());
    }

    #[test]
    fn udp_round_trip(v6 in any::<bool>(), src in any::<[u8; 16]>(), dst in any::<[u8; 16]>(),
                      sport in any::<u16>(), dport in any::<u16>(),
                      payload in prop::collection::vec(any::<u8>(), 0..64),
                      cut in 0usize..16) {
        // Ports that name a UDP tunnel (VXLAN, GTP-U, Geneve, …) are other tests' business.
        prop_assume!(!is_tunnel_port(sport) && !is_tunnel_port(dport));
        let mut d = Vec::new();
        d.extend(sport.to_be_bytes());
        d.extend(dport.to_be_bytes());
        d.extend(((8 + payload.len()) as u16).to_be_bytes());
        d.extend([0, 0]);
        d.extend(&payload);
        let ip = ip_packet(v6, (&src, &dst, 64, 0, 7, 0), 17, &d);
        let p = decode(LinkType::RAW, &ip);
        prop_assert!(p.anomalies.is_empty(), "{:?}", p.anomalies);
        let Transport::Udp(u) = p.transport else { panic!("{:?}", p.transport) };
        prop_assert_eq!((u.src_port, u.dst_port, usize::from(u.length)), (sport, dport, d.len()));
        prop_assert_eq!(p.payload, &payload[..]);
        prop_assert_eq!(p.ip.map(|i| i.src), Some(addr(v6, &src)));
        // Cut by a snaplen inside the payload: same header, shorter payload, same wire length.
        let keep = ip.len() - cut.min(payload.len());
        let p = decode(LinkType::RAW, &ip[..keep]);
        prop_assert!(p.anomalies.is_empty(), "{:?}", p.anomalies);
        prop_assert_eq!(p.payload, &payload[..payload.len() - cut.min(payload.len())]);
        prop_assert_eq!(p.payload_wire_len as usize, payload.len());
    }
}
