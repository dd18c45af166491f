//! TCP (RFC 9293 §3.1) and its options: MSS (RFC 9293 §3.2), window scale and timestamps
//! (RFC 7323 §2.2, §3.2), SACK-permitted and SACK (RFC 2018 §2, §3).

use crate::bytes::{len_u32, padded, tail, u16_at, u32_at, u8_at, Field, Region};
use crate::decoder::Cx;
use crate::{Anomaly, Layer, TcpInfo, TcpOptions, Transport};

/// TCP header fields (RFC 9293 §3.1).
pub(crate) mod field {
    use super::Field;
    pub const SRC_PORT: Field = 0..2;
    pub const DST_PORT: Field = 2..4;
    pub const SEQ_NUM: Field = 4..8;
    pub const ACK_NUM: Field = 8..12;
    /// Data offset (4 bits), reserved (3), NS/AE (1), then the 8 classic flags.
    pub const OFF_FLAGS: Field = 12..14;
    pub const WIN_SIZE: Field = 14..16;
    #[allow(
        dead_code,
        reason = "documents the layout; checksums are not verified (offload)"
    )]
    pub const CHECKSUM: Field = 16..18;
    pub const URGENT: Field = 18..20;
    pub const HEADER_LEN: usize = 20;
    pub const FLAGS_MASK: u16 = 0x01FF;
}

/// Option kinds (IANA "TCP Option Kind Numbers") and their fixed lengths.
mod opt {
    pub const END: u8 = 0;
    pub const NOP: u8 = 1;
    pub const MSS: u8 = 2;
    pub const MSS_LEN: usize = 4;
    pub const WINDOW_SCALE: u8 = 3;
    pub const WINDOW_SCALE_LEN: usize = 3;
    pub const SACK_PERMITTED: u8 = 4;
    pub const SACK_PERMITTED_LEN: usize = 2;
    pub const SACK: u8 = 5;
    /// Kind, length, then 8-byte blocks (RFC 2018 §3); at most 4 fit in 40 option bytes.
    pub const SACK_BLOCK_LEN: usize = 8;
    pub const TIMESTAMPS: u8 = 8;
    pub const TIMESTAMPS_LEN: usize = 10;
    pub const ALIGNED_TIMESTAMPS: [u8; 4] = [NOP, NOP, TIMESTAMPS, TIMESTAMPS_LEN as u8];
}

/// Decodes a TCP header from `r` (at least one byte captured). Fields beyond a truncated
/// header read as 0; the transport is reported once the ports are there.
#[inline]
pub(crate) fn decode<'a>(r: Region<'a>, cx: &mut Cx<'a, '_>) {
    let b = r.bytes;
    cx.layer(Layer::Tcp);
    if b.len() < 4 {
        cx.anomaly(Anomaly::TruncatedTcp);
        return;
    }
    let mut scratch = [0; field::HEADER_LEN];
    let h = padded(b, &mut scratch);
    let off_flags = u16_at(h, field::OFF_FLAGS);
    let doff = usize::from(off_flags >> 12) * 4;
    let problem = if b.len() < field::HEADER_LEN {
        // Fields not captured read as 0 (with fewer than 14 bytes, offset and flags too).
        Some(Anomaly::TruncatedTcp)
    } else if doff < field::HEADER_LEN || len_u32(doff) > r.wire {
        Some(Anomaly::BadTcpHeaderLength)
    } else if b.len() < doff {
        // Options cut by the snaplen: the fixed header is good, the payload absent.
        Some(Anomaly::TruncatedTcp)
    } else {
        None
    };
    let (options, options_ok) = match (problem, b.get(field::HEADER_LEN..doff)) {
        (None, Some(o)) if !o.is_empty() => options(o),
        _ => (TcpOptions::default(), true),
    };
    cx.pkt.transport = Transport::Tcp(TcpInfo {
        src_port: u16_at(h, field::SRC_PORT),
        dst_port: u16_at(h, field::DST_PORT),
        seq: u32_at(h, field::SEQ_NUM),
        ack: u32_at(h, field::ACK_NUM),
        flags: off_flags & field::FLAGS_MASK,
        window: u16_at(h, field::WIN_SIZE),
        header_len: doff as u8, // at most 60
        urgent: u16_at(h, field::URGENT),
        options,
    });
    match problem {
        Some(Anomaly::BadTcpHeaderLength) => cx.anomaly(Anomaly::BadTcpHeaderLength),
        Some(a) => {
            cx.anomaly(a);
            if b.len() >= field::HEADER_LEN {
                cx.pkt.payload_wire_len = r.wire.saturating_sub(len_u32(doff));
            }
        }
        None => {
            if !options_ok {
                cx.anomaly(Anomaly::BadTcpOption);
            }
            cx.pkt.payload = tail(b, doff);
            cx.pkt.payload_wire_len = r.wire.saturating_sub(len_u32(doff));
        }
    }
}

/// Walks the options area (at most 40 bytes; every step consumes at least one byte).
/// Returns what was parsed and false if an option was malformed (the walk stops there, or
/// skips a known option whose length is wrong for its kind).
pub(crate) fn options(mut o: &[u8]) -> (TcpOptions, bool) {
    let mut out = TcpOptions::default();
    let mut ok = true;
    // NOP, NOP, timestamps: the layout RFC 7323 Appendix A recommends and nearly every data
    // segment of a timestamp-enabled connection carries.
    if let Some((&opt::ALIGNED_TIMESTAMPS, rest)) = o.split_first_chunk::<4>() {
        if rest.len() >= 8 {
            out.timestamps = Some((u32_at(rest, 0..4), u32_at(rest, 4..8)));
            o = tail(rest, 8);
        }
    }
    while let Some(&kind) = o.first() {
        match kind {
            opt::END => break,
            opt::NOP => {
                o = tail(o, 1);
                continue;
            }
            _ => {}
        }
        let len = usize::from(u8_at(o, 1));
        if len < 2 || len > o.len() {
            return (out, false);
        }
        match kind {
            opt::MSS if len == opt::MSS_LEN => out.mss = Some(u16_at(o, 2..4)),
            opt::WINDOW_SCALE if len == opt::WINDOW_SCALE_LEN => {
                out.window_scale = Some(u8_at(o, 2))
            }
            opt::SACK_PERMITTED if len == opt::SACK_PERMITTED_LEN => out.sack_permitted = true,
            opt::SACK if len > 2 && (len - 2) % opt::SACK_BLOCK_LEN == 0 => {
                out.sack_blocks = ((len - 2) / opt::SACK_BLOCK_LEN) as u8; // at most 4
                out.first_sack = Some((u32_at(o, 2..6), u32_at(o, 6..10)));
            }
            opt::TIMESTAMPS if len == opt::TIMESTAMPS_LEN => {
                out.timestamps = Some((u32_at(o, 2..6), u32_at(o, 6..10)))
            }
            opt::MSS | opt::WINDOW_SCALE | opt::SACK_PERMITTED | opt::SACK | opt::TIMESTAMPS => {
                ok = false
            }
            // Unknown kinds (MPTCP, TCP-AO, fast open ...) are skipped by their length.
            _ => {}
        }
        o = tail(o, len);
    }
    (out, ok)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::testutil::{anomalies, eth, hex, ipv4, layers, tcp};
    use crate::{decode, tcp_flags, LinkType};

    /// StopDDoS `amp.TCP.syn.optionallyACK.optionallysamePort.pcapng` (a classic pcap despite
    /// the name) frame 1: 136.243.174.154:55680 -> 10.10.10.10:9069 SYN, TTL 60, seq 363563301,
    /// window 42340, options MSS 1460, SACK-permitted, TS(3391021975, 0), NOP, window scale 11
    /// (tcpdump: "cksum 0x0d81 (correct) ... options [mss 1460,sackOK,TS val 3391021975 ecr
    /// 0,nop,wscale 11]").
    const REAL_SYN: &str = "
        4c72 b97c b5b7 44f4 770f ea49 0800 4500
        003c 7a03 0000 3c06 b917 88f3 ae9a 0a0a
        0a0a d980 236d 15ab 8925 0000 0000 a002
        a564 0d81 0000 0204 05b4 0402 080a ca1e
        e397 0000 0000 0103 030b";

    #[test]
    fn real_syn_with_options() {
        let b = hex(REAL_SYN);
        let p = eth(&b);
        assert_eq!(layers(&p), ["eth", "ipv4", "tcp"]);
        assert!(p.anomalies.is_empty(), "{:?}", p.anomalies);
        let ip = p.ip.expect("ip");
        assert_eq!(
            (ip.ttl, ip.total_len, ip.header_len, ip.ident),
            (60, 60, 20, 0x7a03)
        );
        assert!(!ip.is_fragment());
        let Transport::Tcp(t) = p.transport else {
            panic!("{:?}", p.transport)
        };
        assert_eq!((t.src_port, t.dst_port), (55680, 9069));
        assert_eq!(
            (t.seq, t.ack, t.window, t.header_len),
            (363_563_301, 0, 42340, 40)
        );
        assert_eq!(t.flags, tcp_flags::SYN);
        let o = t.options;
        assert_eq!(
            (o.mss, o.window_scale, o.sack_permitted),
            (Some(1460), Some(11), true)
        );
        assert_eq!(o.timestamps, Some((3_391_021_975, 0)));
        assert_eq!((o.sack_blocks, o.first_sack), (0, None));
        assert!(p.payload.is_empty());
        assert_eq!(p.payload_wire_len, 0);
    }

    #[test]
    fn option_walk() {
        // NOP NOP SACK with two blocks.
        let (o, ok) = options(&hex("0101 0512 0000 0064 0000 00c8 0000 012c 0000 0190"));
        assert!(ok);
        assert_eq!((o.sack_blocks, o.first_sack), (2, Some((100, 200))));
        // A length of 1 or past the end stops the walk.
        assert!(!options(&[2, 1, 0, 0]).1);
        assert!(!options(&[8, 10, 0, 0]).1);
        assert!(!options(&[3]).1);
        // A known kind with the wrong length is flagged and skipped; the walk goes on.
        let (o, ok) = options(&[2, 3, 0, 3, 3, 7]);
        assert_eq!((o.mss, o.window_scale, ok), (None, Some(7), false));
        // End of option list: the rest is ignored.
        let (o, ok) = options(&[0, 2, 4, 5, 0xb4]);
        assert_eq!((o.mss, ok), (None, true));
        // Unknown kinds (30 = MPTCP) are skipped by length.
        let (o, ok) = options(&[30, 4, 0, 0, 4, 2]);
        assert!(o.sack_permitted && ok);
    }

    #[test]
    fn ns_flag_and_payload_without_padding() {
        let mut seg = tcp(tcp_flags::PSH as u8 | tcp_flags::ACK as u8, b"hello!");
        seg[12] |= 0x01; // NS (RFC 3540)
        let ip = ipv4(6, &seg);
        // Pad the frame to Ethernet's 60-byte minimum: 14 + 20 + 20 + 6 = 60 already, add more.
        let mut frame = hex("0000 5e00 5302 0000 5e00 5301 0800");
        frame.extend(&ip);
        frame.extend([0u8; 8]);
        let p = eth(&frame);
        let Transport::Tcp(t) = p.transport else {
            panic!("{:?}", p.transport)
        };
        assert!(t.has(tcp_flags::NS) && t.has(tcp_flags::ACK) && t.has(tcp_flags::PSH));
        assert_eq!(p.payload, b"hello!");
        assert_eq!(p.payload_wire_len, 6);
    }

    #[test]
    fn bad_data_offsets() {
        // Data offset 4 (< 5).
        let mut seg = tcp(0x02, &[]);
        seg[12] = 0x40;
        let p = decode(LinkType::RAW, &ipv4(6, &seg)).transport;
        let b = ipv4(6, &seg);
        let p2 = decode(LinkType::RAW, &b);
        assert_eq!(p2.anomalies, anomalies(&[Anomaly::BadTcpHeaderLength]));
        assert!(matches!(p, Transport::Tcp(t) if t.src_port == 1234 && t.header_len == 16));
        // Data offset 8 (32 bytes) in a 20-byte segment.
        seg[12] = 0x80;
        let b = ipv4(6, &seg);
        let p = decode(LinkType::RAW, &b);
        assert_eq!(p.anomalies, anomalies(&[Anomaly::BadTcpHeaderLength]));
        assert!(p.payload.is_empty());
    }

    #[test]
    fn truncated_headers() {
        let b = ipv4(6, &tcp(0x12, b"data"));
        // Ports readable, the rest not: transport with zeros, TruncatedTcp.
        let p = decode(LinkType::RAW, &b[..20 + 10]);
        assert_eq!(layers(&p), ["ipv4", "tcp"]);
        assert_eq!(p.anomalies, anomalies(&[Anomaly::TruncatedTcp]));
        assert!(matches!(p.transport, Transport::Tcp(t) if t.dst_port == 80 && t.flags == 0));
        // Not even the ports: the layer is there, the transport is not.
        let p = decode(LinkType::RAW, &b[..20 + 3]);
        assert_eq!(layers(&p), ["ipv4", "tcp"]);
        assert_eq!(p.transport, Transport::None);
        // No TCP byte captured although the IP length promises 24: no layer, but flagged.
        let p = decode(LinkType::RAW, &b[..20]);
        assert_eq!(layers(&p), ["ipv4"]);
        assert_eq!(p.anomalies, anomalies(&[Anomaly::TruncatedTcp]));
        // An IP packet that claims no payload at all is not truncated.
        let b = ipv4(6, &[]);
        let p = decode(LinkType::RAW, &b);
        assert_eq!(layers(&p), ["ipv4"]);
        assert!(p.anomalies.is_empty());
    }

    #[test]
    fn options_cut_by_snaplen_keep_the_fixed_header() {
        let b = hex(REAL_SYN);
        let p = eth(&b[..14 + 20 + 30]);
        assert_eq!(p.anomalies, anomalies(&[Anomaly::TruncatedTcp]));
        let Transport::Tcp(t) = p.transport else {
            panic!("{:?}", p.transport)
        };
        assert_eq!(
            (t.flags, t.header_len, t.options.mss),
            (tcp_flags::SYN, 40, None)
        );
        assert_eq!(p.payload_wire_len, 0);
    }
}
