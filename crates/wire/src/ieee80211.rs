//! IEEE 802.11 data frames (LINKTYPE_IEEE802_11) and the radiotap header in front of them
//! (LINKTYPE_IEEE802_11_RADIOTAP).
//!
//! Only unprotected data frames that carry data are followed: after the MAC header (24 bytes,
//! 30 with a fourth address, +2 QoS control, +4 HT control), an 802.2 LLC/SNAP header names
//! the EtherType (IPv4, IPv6, ARP ...). Management and control frames, protected (encrypted)
//! frames and null-data frames end the decode at the link layer. In an A-MSDU, only the first
//! subframe is followed.
//!
//! Field layouts: IEEE 802.11-2020 §9.2 (MAC frame formats), §9.3.2.2 (A-MSDU); radiotap:
//! radiotap.org "Radiotap header" and its "Flags" field.

use crate::bytes::{u16_at, u8_at, Region};
use crate::decoder::Cx;
use crate::{ethernet, link, Anomaly, Layer};

/// The radiotap header: version, pad, length (little-endian), presence bitmaps.
mod radiotap {
    pub const VERSION: usize = 0;
    pub const LENGTH: core::ops::Range<usize> = 2..4;
    pub const PRESENT: usize = 4;
    pub const MIN_LEN: usize = 8;
    /// Bit 31 of a presence word: another word follows.
    pub const EXT: u32 = 1 << 31;
    /// Presence bits of the fields up to and including Flags.
    pub const TSFT: u32 = 1 << 0;
    pub const FLAGS: u32 = 1 << 1;
    /// TSFT: a little-endian u64, 8-byte aligned.
    pub const TSFT_LEN: usize = 8;
    /// Flags: the frame ends with a 4-byte FCS; padding follows the 802.11 header.
    pub const F_FCS: u8 = 0x10;
    pub const F_DATAPAD: u8 = 0x20;
}

/// The 802.11 MAC header (§9.2.3).
mod mac {
    pub const FC0: usize = 0;
    pub const FC1: usize = 1;
    pub const BASE_LEN: usize = 24;
    pub const ADDR4_LEN: usize = 6;
    pub const QOS_LEN: usize = 2;
    pub const HTC_LEN: usize = 4;
    /// Frame control, first byte: type in bits 2–3, subtype in bits 4–7.
    pub const TYPE_MASK: u8 = 0x0C;
    pub const TYPE_DATA: u8 = 0x08;
    pub const VERSION_MASK: u8 = 0x03;
    /// Data subtypes: bit 0x80 QoS, bit 0x40 "no data" (null, CF-Ack/Poll without data).
    pub const SUBTYPE_QOS: u8 = 0x80;
    pub const SUBTYPE_NO_DATA: u8 = 0x40;
    /// Frame control, second byte.
    pub const TO_DS: u8 = 0x01;
    pub const FROM_DS: u8 = 0x02;
    pub const PROTECTED: u8 = 0x40;
    /// In a QoS data frame: an HT Control field follows the QoS control.
    pub const ORDER: u8 = 0x80;
    /// QoS control, first byte: A-MSDU present.
    pub const QOS_AMSDU: u8 = 0x80;
}

/// An A-MSDU subframe header (§9.3.2.2.2): DA, SA, length.
mod amsdu {
    use crate::bytes::Field;
    pub const LENGTH: Field = 12..14;
    pub const HEADER_LEN: usize = 14;
}

/// A radiotap header, then an 802.11 frame (with an FCS when the Flags field says so).
pub(crate) fn radiotap<'a>(r: Region<'a>, cx: &mut Cx<'a, '_>) {
    cx.layer(Layer::Cooked);
    let b = r.bytes;
    let len = usize::from(u16_at(b, radiotap::LENGTH).swap_bytes());
    if b.len() < radiotap::MIN_LEN || len < radiotap::MIN_LEN || b.len() < len {
        cx.anomaly(Anomaly::TruncatedLink);
        return;
    }
    if u8_at(b, radiotap::VERSION) != 0 {
        return;
    }
    let flags = flags(&b[..len]).unwrap_or(0);
    let mut frame = r.advance(len);
    if flags & radiotap::F_FCS != 0 {
        frame = link::without_fcs(frame);
    }
    data_frame(
        frame,
        cx,
        FcOrder::Air,
        flags & radiotap::F_DATAPAD != 0,
        Anomaly::TruncatedLink,
    );
}

/// The radiotap Flags field, if present: it follows the presence words and the TSFT field.
fn flags(h: &[u8]) -> Option<u8> {
    let first = u32::from_le_bytes(*h.get(radiotap::PRESENT..)?.first_chunk::<4>()?);
    if first & radiotap::FLAGS == 0 {
        return None;
    }
    // Skip the presence words: each one with EXT set is followed by another. Each step
    // consumes 4 bytes of the (at most 65535-byte) header.
    let mut at = radiotap::PRESENT;
    loop {
        let word = u32::from_le_bytes(*h.get(at..)?.first_chunk::<4>()?);
        at += 4;
        if word & radiotap::EXT == 0 {
            break;
        }
    }
    if first & radiotap::TSFT != 0 {
        at = at.next_multiple_of(radiotap::TSFT_LEN) + radiotap::TSFT_LEN;
    }
    h.get(at).copied()
}

/// An 802.11 frame without radio information ([`Layer::Cooked`]).
pub(crate) fn decode<'a>(r: Region<'a>, cx: &mut Cx<'a, '_>) {
    cx.layer(Layer::Cooked);
    data_frame(r, cx, FcOrder::Air, false, Anomaly::TruncatedLink)
}

/// Byte order of the two frame-control bytes.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum FcOrder {
    /// As on the air.
    Air,
    /// Swapped, as CAPWAP access points send them (Wireshark's CAPWAP "swap frame control"
    /// default, which the corpus's captures need).
    Swapped,
}

/// The MAC header of a data frame, then its LLC/SNAP payload (the first MSDU of an A-MSDU).
/// `datapad`: the radiotap flag saying the header is padded to a multiple of 4 bytes;
/// `short`: the anomaly for a header cut short (a link header here, a tunnel in CAPWAP).
pub(crate) fn data_frame<'a>(
    r: Region<'a>,
    cx: &mut Cx<'a, '_>,
    order: FcOrder,
    datapad: bool,
    short: Anomaly,
) {
    let b = r.bytes;
    if b.len() < 2 {
        cx.anomaly(short);
        return;
    }
    let (fc0, fc1) = match order {
        FcOrder::Air => (u8_at(b, mac::FC0), u8_at(b, mac::FC1)),
        FcOrder::Swapped => (u8_at(b, mac::FC1), u8_at(b, mac::FC0)),
    };
    let is_data = fc0 & mac::TYPE_MASK == mac::TYPE_DATA && fc0 & mac::VERSION_MASK == 0;
    if !is_data || fc0 & mac::SUBTYPE_NO_DATA != 0 || fc1 & mac::PROTECTED != 0 {
        return;
    }
    let qos = fc0 & mac::SUBTYPE_QOS != 0;
    let mut len = mac::BASE_LEN;
    if fc1 & (mac::TO_DS | mac::FROM_DS) == mac::TO_DS | mac::FROM_DS {
        len += mac::ADDR4_LEN;
    }
    let qos_at = len;
    if qos {
        len += mac::QOS_LEN;
        if fc1 & mac::ORDER != 0 {
            len += mac::HTC_LEN;
        }
    }
    if b.len() < len {
        cx.anomaly(short);
        return;
    }
    let amsdu = qos && u8_at(b, qos_at) & mac::QOS_AMSDU != 0;
    if datapad {
        len = len.next_multiple_of(4);
    }
    let mut body = r.advance(len);
    if amsdu {
        // The first subframe: its own header, then an LLC/SNAP MSDU of `length` bytes.
        if body.bytes.len() < amsdu::HEADER_LEN {
            return;
        }
        let msdu = usize::from(u16_at(body.bytes, amsdu::LENGTH));
        body = body.advance(amsdu::HEADER_LEN).bound(msdu);
    }
    if let Some((t, rest)) = ethernet::llc(body) {
        ethernet::dispatch(t, rest, cx);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::testutil::{anomalies, hex, layers};
    use crate::{decode, tcp_flags, LinkType, Transport};

    /// Arkime `80211http.pcap` frame 1, cut after the TCP header: radiotap (36 bytes, two
    /// presence words, TSFT, Flags 0x10 = FCS at end, rate, channel, signal, RX flags), then
    /// an 802.11 data frame To DS, LLC/SNAP IPv4, 172.5.5.113:49417 -> 14.17.32.211:80 SYN.
    const RADIOTAP_SYN: &str = "
        0000 2400 2f40 00a0 2008 0000 0000 0000
        28eb 6828 0000 0000 1016 9e09 a000 ba00
        0000 ba00 0801 0201 8825 9340 6b6f f8a9
        d01e 90a3 8825 9340 6b6f 20b7 aaaa 0300
        0000 0800 4500 003c f931 4000 4006 6130
        ac05 0571 0e11 20d3 c109 0050 9674 0dd6
        0000 0000 a002 ffff 0d1b 0000";

    #[test]
    fn radiotap_data_frame_to_tcp() {
        let b = hex(RADIOTAP_SYN);
        // The FCS the Flags field announces: 4 more bytes at the end of the frame.
        let mut f = b.clone();
        f.extend([0xde, 0xad, 0xbe, 0xef]);
        let p = decode(LinkType::IEEE802_11_RADIOTAP, &f);
        assert_eq!(layers(&p), ["ipv4", "tcp", "cooked"]);
        assert!(p.eth.is_none());
        let Transport::Tcp(t) = p.transport else {
            panic!("{:?}", p.transport)
        };
        assert_eq!(
            (t.src_port, t.dst_port, t.flags),
            (49417, 80, tcp_flags::SYN)
        );
        // The same 802.11 frame without radiotap.
        let p = decode(LinkType::IEEE802_11, &b[36..]);
        assert_eq!(layers(&p), ["ipv4", "tcp", "cooked"]);
    }

    #[test]
    fn protected_management_and_short_frames_stop() {
        let b = hex(RADIOTAP_SYN);
        let mut w = b[36..].to_vec();
        w[1] |= 0x40; // protected
        assert_eq!(layers(&decode(LinkType::IEEE802_11, &w)), ["cooked"]);
        let mut w = b[36..].to_vec();
        w[0] = 0x80; // beacon
        assert_eq!(layers(&decode(LinkType::IEEE802_11, &w)), ["cooked"]);
        let p = decode(LinkType::IEEE802_11, &b[36..50]);
        assert_eq!(p.anomalies, anomalies(&[Anomaly::TruncatedLink]));
        // A radiotap length beyond the frame.
        let p = decode(LinkType::IEEE802_11_RADIOTAP, &b[..30]);
        assert_eq!(layers(&p), ["cooked"]);
        assert_eq!(p.anomalies, anomalies(&[Anomaly::TruncatedLink]));
    }

    #[test]
    fn qos_data_with_ht_control_and_four_addresses() {
        let b = hex(RADIOTAP_SYN);
        // QoS data (subtype 8), To DS and From DS, order bit: 30 + 2 + 4 header bytes.
        let mut w = vec![0x88, 0x83];
        w.extend(&b[38..60]); // duration, three addresses, sequence control
        w.extend([0; 6]); // fourth address
        w.extend([0, 0]); // QoS control
        w.extend([0; 4]); // HT control
        w.extend(&b[60..]); // LLC/SNAP, IPv4, TCP
        assert_eq!(
            layers(&decode(LinkType::IEEE802_11, &w)),
            ["ipv4", "tcp", "cooked"]
        );
    }
}
