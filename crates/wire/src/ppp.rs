//! PPPoE session frames (RFC 2516 §4) and the PPP protocol field (RFC 1661 §2), as carried by
//! PPPoE and by PPTP's enhanced GRE (RFC 2637 §4).

use crate::bytes::{u16_at, u8_at, Field, Region};
use crate::decoder::{Cx, Next};
use crate::{Anomaly, Layer};

/// PPPoE header (RFC 2516 §4): version/type, code, session id, payload length.
mod pppoe {
    use super::Field;
    pub const VER_TYPE: usize = 0;
    pub const CODE: usize = 1;
    #[allow(
        dead_code,
        reason = "documents the layout; the session is not reported"
    )]
    pub const SESSION_ID: Field = 2..4;
    pub const LENGTH: Field = 4..6;
    pub const HEADER_LEN: usize = 6;
    /// Version 1, type 1 (RFC 2516 §4).
    pub const VER_TYPE_1_1: u8 = 0x11;
    /// Session data (RFC 2516 §4: the code is 0x00 in the session stage).
    pub const CODE_SESSION_DATA: u8 = 0x00;
}

/// PPP protocol numbers (IANA "PPP DLL Protocol Numbers").
const PPP_IPV4: u16 = 0x0021;
const PPP_IPV6: u16 = 0x0057;
/// HDLC-like address and control bytes (RFC 1662 §3.1), which PPTP and some PPPoE peers keep.
const PPP_ADDRESS_CONTROL: [u8; 2] = [0xFF, 0x03];

/// A PPPoE session frame: [`Layer::Pppoe`], then PPP.
pub(crate) fn pppoe_session<'a>(r: Region<'a>, cx: &mut Cx<'a>) -> Next<'a> {
    let b = r.bytes;
    if !cx.begin(b, Layer::Pppoe, Anomaly::TruncatedLink) {
        return Next::Done;
    }
    if b.len() < pppoe::HEADER_LEN {
        cx.anomaly(Anomaly::TruncatedLink);
        return Next::Done;
    }
    if u8_at(b, pppoe::VER_TYPE) != pppoe::VER_TYPE_1_1
        || u8_at(b, pppoe::CODE) != pppoe::CODE_SESSION_DATA
    {
        return Next::Done;
    }
    // The length field excludes Ethernet padding.
    let len = usize::from(u16_at(b, pppoe::LENGTH));
    ppp(
        r.advance(pppoe::HEADER_LEN).bound(len),
        cx,
        Anomaly::TruncatedLink,
    )
}

/// A PPP frame: optional address/control, then a 1-byte (compressed, RFC 1661 §6.5) or
/// 2-byte protocol; IPv4 and IPv6 are followed, anything else (LCP, IPCP, CCP ...) ends the
/// decode. `truncated` is the anomaly for a frame cut inside the protocol field.
pub(crate) fn ppp<'a>(mut r: Region<'a>, cx: &mut Cx<'a>, truncated: Anomaly) -> Next<'a> {
    if r.bytes.starts_with(&PPP_ADDRESS_CONTROL) {
        r = r.advance(PPP_ADDRESS_CONTROL.len());
    }
    let first = match r.bytes.first() {
        Some(b) => *b,
        None => {
            cx.anomaly(truncated);
            return Next::Done;
        }
    };
    // A protocol number's first byte is even and its last byte odd (RFC 1661 §2), so an odd
    // first byte is a compressed 1-byte protocol.
    let (proto, len) = if first & 1 == 1 {
        (u16::from(first), 1)
    } else if r.bytes.len() >= 2 {
        (u16_at(r.bytes, 0..2), 2)
    } else {
        cx.anomaly(truncated);
        return Next::Done;
    };
    match proto {
        PPP_IPV4 => Next::Ipv4(r.advance(len)),
        PPP_IPV6 => Next::Ipv6(r.advance(len)),
        _ => Next::Done,
    }
}
