//! CAPWAP data channel (RFC 5415 §4.3): the header, then an IEEE 802.3 frame or a native frame
//! of the wireless binding; for IEEE 802.11 (RFC 5416 §3.1), a data frame whose LLC/SNAP
//! payload is followed.

use crate::bytes::{u32_at, u8_at, Field, Region};
use crate::decoder::Cx;
use crate::ieee80211::{self, FcOrder};
use crate::{ethernet, Anomaly};

/// CAPWAP header (RFC 5415 §4.3).
mod field {
    use super::Field;
    /// Preamble: version (4 bits), type (4 bits: 0 = CAPWAP header, 1 = DTLS).
    pub const PREAMBLE: usize = 0;
    /// Preamble, HLEN (5), RID (5), WBID (5), T, F, L, W, M, K, flags (3).
    pub const WORD0: Field = 0..4;
    pub const MIN_LEN: usize = 8;
    pub const HLEN_SHIFT: u32 = 19;
    pub const WBID_SHIFT: u32 = 9;
    pub const FIVE_BITS: u32 = 0x1F;
    /// T: the payload is in the binding's native format (else an 802.3 frame).
    pub const T: u32 = 0x100;
    /// F: a fragment (reassembly is not done here).
    pub const F: u32 = 0x80;
    /// K: a keep-alive, without payload.
    pub const K: u32 = 0x08;
    /// HLEN counts 4-byte words.
    pub const HLEN_UNIT: usize = 4;
}

/// Wireless binding: IEEE 802.11 (RFC 5415 §4.3).
const WBID_IEEE80211: u32 = 1;

/// Decodes a CAPWAP data message from `r` (at least one byte captured). DTLS-protected
/// messages, fragments and keep-alives end the decode at the carrier.
pub(crate) fn decode<'a>(r: Region<'a>, cx: &mut Cx<'a, '_>) {
    let b = r.bytes;
    if u8_at(b, field::PREAMBLE) != 0 {
        return;
    }
    if b.len() < field::MIN_LEN {
        cx.anomaly(Anomaly::TruncatedTunnel);
        return;
    }
    let w = u32_at(b, field::WORD0);
    let len = ((w >> field::HLEN_SHIFT) & field::FIVE_BITS) as usize * field::HLEN_UNIT;
    if len < field::MIN_LEN || w & (field::F | field::K) != 0 {
        return;
    }
    if b.len() < len {
        cx.anomaly(Anomaly::TruncatedTunnel);
        return;
    }
    let inner = r.advance(len);
    if inner.is_empty() || !cx.enter_tunnel() {
        return;
    }
    if w & field::T == 0 {
        ethernet::decode(inner, cx);
    } else if (w >> field::WBID_SHIFT) & field::FIVE_BITS == WBID_IEEE80211 {
        ieee80211::data_frame(inner, cx, FcOrder::Swapped, false, Anomaly::TruncatedTunnel);
    }
}

#[cfg(test)]
mod tests {
    use crate::testutil::{eth, ether, hex, ipv4, layers, tcp, udp};
    use crate::{decode, LinkType, Transport};

    /// nDPI `capwap_data.pcapng` frame 1: two 802.1Q tags, 172.50.100.155:41264 ->
    /// 172.16.100.87:5247, CAPWAP data (HLEN 4, WBID 802.11, T and W: 4 bytes of wireless
    /// information), an 802.11 data frame To DS (frame control bytes swapped), LLC/SNAP,
    /// 10.1.3.68:47025 -> 74.125.130.188:443 SYN.
    const CAPWAP_80211_SYN: &str = "
        0000 0000 0008 a4c6 4f3b b3ab 8100 805e
        8100 8003 0800 4500 0088 5439 4000 fe11
        06f6 ac32 649b ac10 6457 a130 147f 0074
        0000 0020 0320 0000 0000 04bf 2300 0000
        0000 1108 2c00 8480 2d2b 4590 54f2 01e1
        b299 10f3 11ea eec1 7630 aaaa 0300 0000
        0800 4500 003c 2122 4000 4006 3f1c 0a01
        0344 4a7d 82bc b7b1 01bb 0b21 616e 0000
        0000 a002 ffff 0718 0000 0204 05b4 0402
        080a 0021 404c 0000 0000 0103 0308";

    #[test]
    fn capwap_80211_data_frame() {
        let b = hex(CAPWAP_80211_SYN);
        let p = eth(&b);
        assert_eq!(layers(&p), ["eth", "vlan", "ipv4", "tcp", "udp"]);
        assert!(p.anomalies.is_empty(), "{:?}", p.anomalies);
        assert!(
            matches!(p.transport, Transport::Tcp(t) if t.src_port == 47025 && t.dst_port == 443)
        );
        let c = p.tunnel_udp.expect("carrier");
        assert_eq!((c.src_port, c.dst_port), (41264, 5247));
        // A protected frame: the carrier is the packet.
        let mut b2 = b.clone();
        b2[0x42] |= 0x40;
        let p = eth(&b2);
        assert!(matches!(p.transport, Transport::Udp(u) if u.dst_port == 5247));
        assert!(p.tunnel_udp.is_none());
    }

    #[test]
    fn capwap_8023_fragment_and_dtls() {
        let frame = ether(0x0800, &ipv4(6, &tcp(0x02, &[])));
        // HLEN 2 (8 bytes), WBID 1, T clear: an 802.3 frame.
        let mut c = vec![0x00, 0x10, 0x02, 0x00, 0, 0, 0, 0];
        c.extend(&frame);
        let pkt = ipv4(17, &udp(5247, 12380, &c));
        let p = decode(LinkType::RAW, &pkt);
        assert_eq!(layers(&p), ["eth", "ipv4", "tcp", "udp"]);
        // The F bit: a fragment, not followed; a DTLS preamble (type 1): not followed.
        for (at, v) in [(3, 0x80), (0, 0x01)] {
            let mut c2 = c.clone();
            c2[at] |= v;
            let pkt = ipv4(17, &udp(5247, 12380, &c2));
            let p = decode(LinkType::RAW, &pkt);
            assert_eq!(layers(&p), ["ipv4", "udp"]);
        }
    }
}
