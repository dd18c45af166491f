//! Output sinks: EVE-style JSON lines (flow, stats and application events), Zeek-style logs
//! (conn, dns, http, ssl, ssh, dhcp), and the terminal summary.
//!
//! Owns the on-disk and on-screen formats, which are a public API documented in
//! `docs/events.md`. Never sits on the per-packet path: sinks here receive finished flows and
//! the final report only.

pub mod eve;
pub mod eve_alert;
pub mod eve_app;
pub mod terminal;
pub mod zeek;
pub mod zeek_app;

use wirescope_core::IpProto;
use wirescope_flow::community_id::community_id;
use wirescope_flow::Flow;

/// The Community ID (seed 0) of a flow, from its originator's point of view.
pub fn flow_community_id(fl: &Flow) -> String {
    let (o, op) = fl.orig();
    let (r, rp) = fl.resp();
    let (op, rp) = icmp_wire_ports(fl, op, rp);
    community_id(0, o, r, op, rp, fl.key.proto)
}

/// For ICMP flows the key carries (type, counterpart type); Community ID and the logs want the
/// first message's type and code.
fn icmp_wire_ports(fl: &Flow, op: u16, rp: u16) -> (u16, u16) {
    match (fl.key.proto, fl.icmp_type_code) {
        (IpProto::ICMP | IpProto::ICMPV6, Some((t, c))) => (u16::from(t), u16::from(c)),
        _ => (op, rp),
    }
}

/// Zeek's uid for a flow: 'C' followed by base62 digits, derived from the flow id so that runs
/// are reproducible.
pub fn zeek_uid(id: u64) -> String {
    const DIGITS: &[u8; 62] = b"0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz";
    let mut out = String::with_capacity(18);
    out.push('C');
    let mut v = id;
    for _ in 0..11 {
        out.push(char::from(DIGITS[(v % 62) as usize]));
        v /= 62;
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn uid_is_stable_and_distinct() {
        assert_eq!(zeek_uid(0), "C00000000000");
        assert_ne!(zeek_uid(1), zeek_uid(2));
        assert_eq!(zeek_uid(u64::MAX).len(), 12);
    }
}
