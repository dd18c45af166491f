//! Helpers for the unit tests: hex fixtures and small packet builders.

use crate::{decode, decode_frame, Anomaly, AnomalySet, Frame, LinkType, Packet};
use wirescope_core::Timestamp;

/// Bytes from a hex dump; whitespace and `|` separators are ignored.
pub(crate) fn hex(s: &str) -> Vec<u8> {
    let digits: Vec<u8> = s
        .bytes()
        .filter(|b| b.is_ascii_hexdigit())
        .map(|b| match b {
            b'0'..=b'9' => b - b'0',
            b'a'..=b'f' => b - b'a' + 10,
            _ => b - b'A' + 10,
        })
        .collect();
    assert!(digits.len().is_multiple_of(2), "odd number of hex digits");
    digits.chunks(2).map(|p| p[0] << 4 | p[1]).collect()
}

/// Decodes with a known wire length.
pub(crate) fn decode_wire(link: LinkType, data: &[u8], wire_len: u32) -> Packet<'_> {
    decode_frame(&Frame {
        ts: Timestamp::default(),
        wire_len,
        link,
        iface: 0,
        data,
    })
}

pub(crate) fn eth(data: &[u8]) -> Packet<'_> {
    decode(LinkType::ETHERNET, data)
}

/// The anomaly set holding exactly `list`.
pub(crate) fn anomalies(list: &[Anomaly]) -> AnomalySet {
    let mut s = AnomalySet::default();
    for a in list {
        s.insert(*a);
    }
    s
}

/// Layer keys of a packet, in hierarchy order, for compact assertions.
pub(crate) fn layers(p: &Packet<'_>) -> Vec<&'static str> {
    p.layers.iter().map(|l| l.key()).collect()
}

/// Sets the IPv4 header checksum of the header at `ip` in `buf` (RFC 1071).
pub(crate) fn fix_ipv4_checksum(buf: &mut [u8], ip: usize) {
    let ihl = usize::from(buf[ip] & 0x0F) * 4;
    buf[ip + 10] = 0;
    buf[ip + 11] = 0;
    let mut sum: u32 = buf[ip..ip + ihl]
        .chunks(2)
        .map(|w| u32::from(u16::from_be_bytes([w[0], w[1]])))
        .sum();
    while sum > 0xFFFF {
        sum = (sum & 0xFFFF) + (sum >> 16);
    }
    let c = !(sum as u16);
    buf[ip + 10..ip + 12].copy_from_slice(&c.to_be_bytes());
}

/// A 20-byte IPv4 header (198.18.0.1 -> 198.18.0.2, TTL 64, DF) carrying `payload` as
/// protocol `proto`, with a correct checksum.
pub(crate) fn ipv4(proto: u8, payload: &[u8]) -> Vec<u8> {
    let total = (20 + payload.len()) as u16;
    let mut b = vec![0x45, 0x00];
    b.extend(total.to_be_bytes());
    b.extend([
        0x12, 0x34, 0x40, 0x00, 64, proto, 0, 0, 198, 18, 0, 1, 198, 18, 0, 2,
    ]);
    fix_ipv4_checksum(&mut b, 0);
    b.extend(payload);
    b
}

/// A 40-byte IPv6 header (2001:db8::1 -> 2001:db8::2, hop limit 64) with next header `next`
/// and `payload` (extension headers included).
pub(crate) fn ipv6(next: u8, payload: &[u8]) -> Vec<u8> {
    let mut b = vec![0x60, 0x00, 0x00, 0x00];
    b.extend((payload.len() as u16).to_be_bytes());
    b.extend([next, 64]);
    b.extend([0x20, 0x01, 0x0d, 0xb8, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1]);
    b.extend([0x20, 0x01, 0x0d, 0xb8, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 2]);
    b.extend(payload);
    b
}

/// A TCP header 1234 -> 80 with `flags`, no options, data offset 5, then `payload`.
pub(crate) fn tcp(flags: u8, payload: &[u8]) -> Vec<u8> {
    let mut b = hex("04d2 0050 0000 0001 0000 0000 5000 ffff 0000 0000");
    b[13] = flags;
    b.extend(payload);
    b
}

/// A UDP header with a correct length field, then `payload`.
pub(crate) fn udp(src: u16, dst: u16, payload: &[u8]) -> Vec<u8> {
    let mut b = Vec::new();
    b.extend(src.to_be_bytes());
    b.extend(dst.to_be_bytes());
    b.extend(((8 + payload.len()) as u16).to_be_bytes());
    b.extend([0, 0]);
    b.extend(payload);
    b
}

/// An Ethernet II header (00:00:5e:00:53:01 -> 00:00:5e:00:53:02) with `ethertype`, then
/// `payload`.
pub(crate) fn ether(ethertype: u16, payload: &[u8]) -> Vec<u8> {
    let mut b = hex("0000 5e00 5302 0000 5e00 5301");
    b.extend(ethertype.to_be_bytes());
    b.extend(payload);
    b
}
