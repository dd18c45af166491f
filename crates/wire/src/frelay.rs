//! Frame Relay (LINKTYPE_FRELAY): an ITU-T Q.922 address of 2 to 4 bytes, then either RFC 2427
//! multiprotocol encapsulation (control 0x03 UI, optional pad, NLPID: 0xCC IPv4, 0x8E IPv6,
//! 0x80 SNAP) or Cisco encapsulation (a 2-byte Cisco HDLC protocol right after the address).
//!
//! Which of the two a frame uses is not written anywhere; this mirrors Wireshark's FRF 3.2
//! heuristic: control 0x03 means RFC 2427; otherwise DLCI 0 is LAPF signalling, a known Cisco
//! HDLC protocol means Cisco, a plausible control byte and known NLPID mean RFC 2427, and
//! a frame whose bytes 12–13 after the address look like an EtherType or an 802.3 length is
//! raw Ethernet (with an FCS). Anything else ends the decode.

use crate::bytes::{u16_at, u8_at, Region};
use crate::decoder::Cx;
use crate::ethernet::{self, ethertype};
use crate::{chdlc, ipv6, link, Anomaly, Layer};

/// Q.922 address bits (ITU-T Q.922 §3.2).
mod address {
    /// Extended address: set in the last byte of the address.
    pub const EA: u8 = 0x01;
    /// In the last byte of a 3- or 4-byte address: DL-CORE control rather than DLCI bits.
    pub const DC: u8 = 0x02;
}

/// HDLC control values (ISO 13239 §5.5).
mod control {
    /// Unnumbered information.
    pub const UI: u8 = 0x03;
    /// Unnumbered XID command.
    pub const XID: u8 = 0xAF;
    /// Low two bits: 0b11 unnumbered (1 byte); supervisory and information frames take 2 bytes
    /// in the extended mode Wireshark assumes.
    pub const KIND_MASK: u8 = 0x03;
    pub const UNNUMBERED: u8 = 0x03;
}

/// RFC 2427 §4 / ISO/IEC TR 9577 network layer protocol identifiers.
mod nlpid {
    pub const PAD: u8 = 0x00;
    pub const Q933: u8 = 0x08;
    pub const SNAP: u8 = 0x80;
    pub const CLNP: u8 = 0x81;
    pub const ESIS: u8 = 0x82;
    pub const ISIS: u8 = 0x83;
    pub const IPV6: u8 = 0x8E;
    pub const IPV4: u8 = 0xCC;
    /// Other values Wireshark's NLPID tables know (LMI, FRF.15/16, PPP ...): the frame is
    /// RFC 2427, but nothing this decoder follows.
    pub const OTHER_KNOWN: [u8; 6] = [0x09, 0x0A, 0x0B, 0xB0, 0xB1, 0xCF];
}

/// RFC 2427 §5.1 SNAP: OUI, then a PID that is an EtherType for OUI 00-00-00, or a bridged
/// frame type for the IEEE 802.1 OUI 00-80-C2.
mod snap {
    use crate::bytes::Field;
    pub const OUI: Field = 0..3;
    pub const PID: Field = 3..5;
    pub const LEN: usize = 5;
    pub const OUI_ETHERTYPE: [u8; 3] = [0, 0, 0];
    pub const OUI_BRIDGED: [u8; 3] = [0x00, 0x80, 0xC2];
    /// Bridged 802.3 / Ethernet, with and without its FCS (RFC 2427 §5.3).
    pub const PID_ETHERNET_FCS: u16 = 0x0001;
    pub const PID_ETHERNET: u16 = 0x0007;
}

/// Decodes a Frame Relay frame ([`Layer::Cooked`]) and what it carries.
pub(crate) fn decode<'a>(r: Region<'a>, cx: &mut Cx<'a, '_>) {
    cx.layer(Layer::Cooked);
    let b = r.bytes;
    let Some((addr_len, dlci)) = address(b) else {
        cx.anomaly(Anomaly::TruncatedLink);
        return;
    };
    let rest = r.advance(addr_len);
    let Some(&ctrl) = rest.bytes.first() else {
        cx.anomaly(Anomaly::TruncatedLink);
        return;
    };
    if ctrl == control::UI {
        return rfc2427(rest, cx);
    }
    if dlci == 0 || ctrl == control::XID || rest.bytes.len() < 2 {
        return;
    }
    // Cisco encapsulation, if Wireshark knows the protocol.
    if chdlc::protocol(u16_at(rest.bytes, 0..2), rest.advance(2), cx) {
        return;
    }
    // RFC 2427 with another control byte, if an NLPID Wireshark knows follows it.
    let mut at = 0;
    let mut c = ctrl;
    if c == nlpid::PAD {
        at += 1;
        c = u8_at(rest.bytes, at);
    }
    at += if c & control::KIND_MASK == control::UNNUMBERED {
        1
    } else {
        2
    };
    if at < rest.bytes.len() && known_nlpid(u8_at(rest.bytes, at)) {
        let ctrl_len = if ctrl & control::KIND_MASK == control::UNNUMBERED {
            1
        } else {
            2
        };
        return nlpid_payload(rest.advance(ctrl_len), cx);
    }
    // Raw Ethernet, with an FCS.
    let t = u16_at(rest.bytes, 12..14);
    if rest.bytes.len() >= 14 && (t <= 1500 || known_ethertype(t)) {
        ethernet::decode(link::without_fcs(rest), cx);
    }
}

/// The address length and DLCI (Q.922 §3.2), as Wireshark reads them; `None` if the frame
/// ends inside the address. A first byte with EA set is a bogus 1-byte address (DLCI 0).
fn address(b: &[u8]) -> Option<(usize, u32)> {
    let b0 = *b.first()?;
    if b0 & address::EA != 0 {
        return Some((1, 0));
    }
    let b1 = *b.get(1)?;
    let mut dlci = u32::from(b0 >> 2) << 4 | u32::from(b1 >> 4);
    if b1 & address::EA != 0 {
        return Some((2, dlci));
    }
    let mut len = 2;
    let mut last = *b.get(len)?;
    if last & address::EA == 0 {
        dlci = dlci << 7 | u32::from(last >> 1);
        len += 1;
        last = *b.get(len)?;
        // Bogus extra bytes until one has EA set, each consumed; bounded by the frame.
        while last & address::EA == 0 {
            len += 1;
            last = *b.get(len)?;
        }
    }
    if last & address::DC == 0 {
        dlci = dlci << 6 | u32::from(last >> 2);
    }
    Some((len + 1, dlci))
}

fn known_nlpid(n: u8) -> bool {
    matches!(
        n,
        nlpid::Q933
            | nlpid::SNAP
            | nlpid::CLNP
            | nlpid::ESIS
            | nlpid::ISIS
            | nlpid::IPV6
            | nlpid::IPV4
    ) || nlpid::OTHER_KNOWN.contains(&n)
}

/// EtherTypes Wireshark has a dissector for, as far as telling raw Ethernet apart matters:
/// the ones this decoder follows and the common link-local ones.
fn known_ethertype(t: u16) -> bool {
    matches!(
        t,
        ethertype::IPV4
            | ethertype::ARP
            | ethertype::RARP
            | ethertype::IPV6
            | ethertype::VLAN
            | ethertype::QINQ
            | ethertype::MPLS_UNICAST
            | ethertype::MPLS_MULTICAST
            | ethertype::PPPOE_SESSION
            | 0x8863 // PPPoE discovery
            | 0x88CC // LLDP
            | 0x888E // EAPOL
            | 0x8809 // slow protocols
            | 0x88F7 // PTP
            | 0x8137 // IPX
            | 0x809B // AppleTalk
            | 0x9000 // loopback
    )
}

/// RFC 2427 after a UI control byte.
fn rfc2427<'a>(r: Region<'a>, cx: &mut Cx<'a, '_>) {
    nlpid_payload(r.advance(1), cx)
}

/// The NLPID (after an optional pad byte) and what it names.
fn nlpid_payload<'a>(mut r: Region<'a>, cx: &mut Cx<'a, '_>) {
    if r.bytes.first() == Some(&nlpid::PAD) {
        r = r.advance(1);
    }
    let Some(&id) = r.bytes.first() else {
        cx.anomaly(Anomaly::TruncatedLink);
        return;
    };
    let r = r.advance(1);
    match id {
        nlpid::IPV4 => ethernet::ipv4_ethertype(r, cx),
        nlpid::IPV6 => ipv6::decode(r, cx),
        nlpid::SNAP if r.bytes.len() >= snap::LEN => {
            let oui = crate::bytes::array_at::<3>(r.bytes, snap::OUI);
            let pid = u16_at(r.bytes, snap::PID);
            let inner = r.advance(snap::LEN);
            if oui == snap::OUI_ETHERTYPE {
                ethernet::dispatch(pid, inner, cx);
            } else if oui == snap::OUI_BRIDGED {
                match pid {
                    snap::PID_ETHERNET_FCS => ethernet::decode(link::without_fcs(inner), cx),
                    snap::PID_ETHERNET => ethernet::decode(inner, cx),
                    _ => {}
                }
            }
        }
        _ => {}
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::testutil::{anomalies, hex, layers};
    use crate::{decode, LinkType, Transport};

    /// Arkime `icmp-frame-relay.pcap` frame 1, cut after the ICMP header: DLCI 102 (2-byte
    /// address 0x18 0x61), Cisco encapsulation with protocol IPv4; 10.0.0.1 -> 10.0.0.2 ICMP
    /// echo request id 3 seq 0.
    const FR_CISCO_ICMP: &str = "
        1861 0800 4500 0064 000f 0000 ff01 a787
        0a00 0001 0a00 0002 0800 035c 0003 0000";

    #[test]
    fn cisco_encapsulated_ipv4() {
        let b = hex(FR_CISCO_ICMP);
        let p = decode(LinkType::FRELAY, &b);
        assert_eq!(layers(&p), ["ipv4", "icmp", "cooked"]);
        let Transport::Icmp(i) = p.transport else {
            panic!("{:?}", p.transport)
        };
        assert_eq!((i.icmp_type, i.ident, i.seq), (8, 3, 0));
    }

    #[test]
    fn rfc2427_nlpid_and_snap() {
        let ip = &hex(FR_CISCO_ICMP)[4..];
        // Q.922 address, UI, NLPID 0xCC.
        let mut b = hex("1861 03cc");
        b.extend(ip);
        assert_eq!(
            layers(&decode(LinkType::FRELAY, &b)),
            ["ipv4", "icmp", "cooked"]
        );
        // UI, pad, SNAP with OUI 0 and an IPv4 EtherType.
        let mut b = hex("1861 0300 8000 0000 0800");
        b.extend(ip);
        assert_eq!(
            layers(&decode(LinkType::FRELAY, &b)),
            ["ipv4", "icmp", "cooked"]
        );
        // Q.933 signalling on DLCI 0: nothing more.
        let q933 = hex("0001 0308 0001 75");
        let p = decode(LinkType::FRELAY, &q933);
        assert_eq!(layers(&p), ["cooked"]);
        assert!(p.anomalies.is_empty());
        // Cut inside the address.
        let cut = hex("18");
        let p = decode(LinkType::FRELAY, &cut);
        assert_eq!(p.anomalies, anomalies(&[Anomaly::TruncatedLink]));
    }
}
