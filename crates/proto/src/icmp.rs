//! ICMP and ICMPv6 type and code names (IANA registries; RFC 792, 950, 1191, 1812, 4443,
//! 4861, 3810), for reports. Unassigned values have no name; callers print the number.

/// The name of an ICMP (v4) type.
pub fn v4_type_name(t: u8) -> Option<&'static str> {
    Some(match t {
        0 => "echo-reply",
        3 => "destination-unreachable",
        4 => "source-quench",
        5 => "redirect",
        8 => "echo-request",
        9 => "router-advertisement",
        10 => "router-solicitation",
        11 => "time-exceeded",
        12 => "parameter-problem",
        13 => "timestamp",
        14 => "timestamp-reply",
        15 => "information-request",
        16 => "information-reply",
        17 => "address-mask-request",
        18 => "address-mask-reply",
        30 => "traceroute",
        42 => "extended-echo-request",
        43 => "extended-echo-reply",
        _ => return None,
    })
}

/// The name of an ICMP (v4) code, for the types whose codes have names.
pub fn v4_code_name(t: u8, c: u8) -> Option<&'static str> {
    Some(match (t, c) {
        (3, 0) => "net-unreachable",
        (3, 1) => "host-unreachable",
        (3, 2) => "protocol-unreachable",
        (3, 3) => "port-unreachable",
        (3, 4) => "fragmentation-needed",
        (3, 5) => "source-route-failed",
        (3, 6) => "destination-network-unknown",
        (3, 7) => "destination-host-unknown",
        (3, 8) => "source-host-isolated",
        (3, 9) => "network-administratively-prohibited",
        (3, 10) => "host-administratively-prohibited",
        (3, 11) => "network-unreachable-for-tos",
        (3, 12) => "host-unreachable-for-tos",
        (3, 13) => "communication-administratively-prohibited",
        (3, 14) => "host-precedence-violation",
        (3, 15) => "precedence-cutoff-in-effect",
        (5, 0) => "redirect-for-network",
        (5, 1) => "redirect-for-host",
        (5, 2) => "redirect-for-tos-and-network",
        (5, 3) => "redirect-for-tos-and-host",
        (11, 0) => "ttl-exceeded-in-transit",
        (11, 1) => "fragment-reassembly-time-exceeded",
        (12, 0) => "pointer-indicates-the-error",
        (12, 1) => "missing-a-required-option",
        (12, 2) => "bad-length",
        _ => return None,
    })
}

/// The name of an ICMPv6 type.
pub fn v6_type_name(t: u8) -> Option<&'static str> {
    Some(match t {
        1 => "destination-unreachable",
        2 => "packet-too-big",
        3 => "time-exceeded",
        4 => "parameter-problem",
        128 => "echo-request",
        129 => "echo-reply",
        130 => "multicast-listener-query",
        131 => "multicast-listener-report",
        132 => "multicast-listener-done",
        133 => "router-solicitation",
        134 => "router-advertisement",
        135 => "neighbor-solicitation",
        136 => "neighbor-advertisement",
        137 => "redirect",
        138 => "router-renumbering",
        139 => "node-information-query",
        140 => "node-information-response",
        141 => "inverse-neighbor-discovery-solicitation",
        142 => "inverse-neighbor-discovery-advertisement",
        143 => "multicast-listener-report-v2",
        144 => "home-agent-address-discovery-request",
        145 => "home-agent-address-discovery-reply",
        146 => "mobile-prefix-solicitation",
        147 => "mobile-prefix-advertisement",
        151 => "multicast-router-advertisement",
        152 => "multicast-router-solicitation",
        153 => "multicast-router-termination",
        155 => "rpl-control",
        160 => "extended-echo-request",
        161 => "extended-echo-reply",
        _ => return None,
    })
}

/// The name of an ICMPv6 code, for the types whose codes have names.
pub fn v6_code_name(t: u8, c: u8) -> Option<&'static str> {
    Some(match (t, c) {
        (1, 0) => "no-route-to-destination",
        (1, 1) => "administratively-prohibited",
        (1, 2) => "beyond-scope-of-source-address",
        (1, 3) => "address-unreachable",
        (1, 4) => "port-unreachable",
        (1, 5) => "source-address-failed-policy",
        (1, 6) => "reject-route-to-destination",
        (3, 0) => "hop-limit-exceeded-in-transit",
        (3, 1) => "fragment-reassembly-time-exceeded",
        (4, 0) => "erroneous-header-field",
        (4, 1) => "unrecognized-next-header",
        (4, 2) => "unrecognized-ipv6-option",
        _ => return None,
    })
}

/// `type/code` names for a report: the type's name, then the code's name when it has one
/// (`destination-unreachable/port-unreachable`), numbers where a name is unknown.
pub fn describe(v6: bool, t: u8, c: u8) -> String {
    let (tn, cn) = if v6 {
        (v6_type_name(t), v6_code_name(t, c))
    } else {
        (v4_type_name(t), v4_code_name(t, c))
    };
    match (tn, cn) {
        (Some(tn), Some(cn)) => format!("{tn}/{cn}"),
        (Some(tn), None) if c == 0 => tn.to_string(),
        (Some(tn), None) => format!("{tn}/code-{c}"),
        (None, _) => format!("type-{t}/code-{c}"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names() {
        assert_eq!(
            describe(false, 3, 3),
            "destination-unreachable/port-unreachable"
        );
        assert_eq!(describe(false, 8, 0), "echo-request");
        assert_eq!(describe(false, 8, 5), "echo-request/code-5");
        assert_eq!(describe(true, 135, 0), "neighbor-solicitation");
        assert_eq!(
            describe(true, 1, 4),
            "destination-unreachable/port-unreachable"
        );
        assert_eq!(describe(true, 200, 1), "type-200/code-1");
        assert_eq!(v4_type_name(11), Some("time-exceeded"));
        assert_eq!(v6_type_name(2), Some("packet-too-big"));
    }
}
