//! Community ID v1 flow hashing (corelight/community-id-spec).
//!
//! `"1:" + base64(SHA1(seed · saddr · daddr · proto · 0 · sport · dport))`, with the endpoints
//! ordered so that the smaller (address, port) comes first, except for one-way ICMP messages,
//! whose order is kept. ICMP type/code are mapped to port equivalents as the spec's table says.

use base64::Engine as _;
use sha1::{Digest, Sha1};
use std::net::IpAddr;
use wirescope_core::IpProto;

/// Maps an ICMP(v4) type to the "port" of its counterpart, if the message is two-way.
fn icmp4_counterpart(t: u8) -> Option<u8> {
    Some(match t {
        8 => 0,   // echo request -> reply
        0 => 8,   // echo reply -> request
        13 => 14, // timestamp
        14 => 13,
        15 => 16, // information
        16 => 15,
        10 => 9, // router solicitation -> advertisement
        9 => 10,
        17 => 18, // address mask
        18 => 17,
        _ => return None,
    })
}

/// The same for ICMPv6 (RFC 4443, RFC 4861, RFC 2710, RFC 2894).
fn icmp6_counterpart(t: u8) -> Option<u8> {
    Some(match t {
        128 => 129, // echo
        129 => 128,
        133 => 134, // router solicitation / advertisement
        134 => 133,
        135 => 136, // neighbor solicitation / advertisement
        136 => 135,
        130 => 131, // multicast listener query / report
        131 => 130,
        144 => 145, // home agent address discovery
        145 => 144,
        146 => 147, // mobile prefix
        147 => 146,
        139 => 140, // node information
        140 => 139,
        _ => return None,
    })
}

/// For an ICMP/ICMPv6 message, the (sport, dport, one_way) triple Community ID hashes.
/// `sport` is the type; `dport` the counterpart type for two-way messages, else the code.
pub fn icmp_ports(proto: IpProto, icmp_type: u8, code: u8) -> (u16, u16, bool) {
    let counterpart = if proto == IpProto::ICMPV6 {
        icmp6_counterpart(icmp_type)
    } else {
        icmp4_counterpart(icmp_type)
    };
    match counterpart {
        Some(c) => (u16::from(icmp_type), u16::from(c), false),
        None => (u16::from(icmp_type), u16::from(code), true),
    }
}

/// Computes Community ID v1 for a tuple as seen on the wire (source first), base64-encoded.
///
/// For ICMP pass the type as `sport` and the code as `dport`; the mapping is applied here.
/// Protocols without ports (other than ICMP) hash no ports, whatever is passed.
pub fn community_id(
    seed: u16,
    src: IpAddr,
    dst: IpAddr,
    sport: u16,
    dport: u16,
    proto: IpProto,
) -> String {
    let digest = community_id_digest(seed, src, dst, sport, dport, proto);
    let mut out = String::with_capacity(30);
    out.push_str("1:");
    base64::engine::general_purpose::STANDARD.encode_string(digest, &mut out);
    out
}

/// The raw SHA-1 digest behind [`community_id`] (the spec's "no base64" variant prints it
/// in hex).
pub fn community_id_digest(
    seed: u16,
    src: IpAddr,
    dst: IpAddr,
    sport: u16,
    dport: u16,
    proto: IpProto,
) -> [u8; 20] {
    let (mut sport, mut dport, one_way) = if proto == IpProto::ICMP || proto == IpProto::ICMPV6 {
        icmp_ports(proto, sport as u8, dport as u8)
    } else {
        (sport, dport, false)
    };
    let has_ports = proto.has_ports() || proto == IpProto::ICMP || proto == IpProto::ICMPV6;
    let (mut a, mut b) = (src, dst);
    if !one_way && (b, dport) < (a, sport) {
        std::mem::swap(&mut a, &mut b);
        std::mem::swap(&mut sport, &mut dport);
    }
    let mut h = Sha1::new();
    h.update(seed.to_be_bytes());
    match a {
        IpAddr::V4(v) => h.update(v.octets()),
        IpAddr::V6(v) => h.update(v.octets()),
    }
    match b {
        IpAddr::V4(v) => h.update(v.octets()),
        IpAddr::V6(v) => h.update(v.octets()),
    }
    h.update([proto.0, 0]);
    if has_ports {
        h.update(sport.to_be_bytes());
        h.update(dport.to_be_bytes());
    }
    h.finalize().into()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn readme_examples() {
        let a: IpAddr = "1.2.3.4".parse().expect("literal");
        let b: IpAddr = "5.6.7.8".parse().expect("literal");
        let t = |s, d, sp, dp, p| community_id(0, s, d, sp, dp, IpProto(p));
        assert_eq!(t(a, b, 1122, 3344, 6), "1:wCb3OG7yAFWelaUydu0D+125CLM=");
        assert_eq!(t(b, a, 3344, 1122, 6), "1:wCb3OG7yAFWelaUydu0D+125CLM=");
        assert_eq!(t(a, b, 8, 0, 1), "1:crodRHL2FEsHjbv3UkRrfbs4bZ0=");
        assert_eq!(t(b, a, 0, 0, 1), "1:crodRHL2FEsHjbv3UkRrfbs4bZ0=");
        assert_eq!(t(a, b, 11, 0, 1), "1:f/YiSyWqczrTgfUCZlBUnvHRcPk=");
        assert_eq!(t(a, b, 0, 0, 46), "1:ikv3kmf89luf73WPz1jOs49S768=");
    }
}
