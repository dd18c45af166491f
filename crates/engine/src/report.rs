//! The owned summary of a run: what `--json` prints and the terminal summary renders.
//! Field names are a public API (documented in docs/events.md); change them only with care.

use serde::Serialize;
use std::collections::BTreeMap;

#[derive(Clone, Debug, Default, Serialize)]
pub struct Report {
    /// Schema version of this document.
    pub version: u32,
    pub inputs: Vec<InputReport>,
    /// Packets analysed (after the BPF filter, and `-c`).
    pub packets: u64,
    /// Packets read from the inputs (before the filter).
    pub packets_read: u64,
    /// Sum of original (wire) frame lengths of the analysed packets.
    pub bytes: u64,
    pub first_ts: Option<String>,
    pub last_ts: Option<String>,
    pub duration_s: f64,
    pub link_types: BTreeMap<String, u64>,
    /// Packets containing each layer at any encapsulation depth (ICMP-quoted headers excluded).
    pub protocols: BTreeMap<&'static str, u64>,
    pub protocol_bytes: BTreeMap<&'static str, u64>,
    pub hierarchy: Vec<HierarchyEntry>,
    pub anomalies: BTreeMap<&'static str, u64>,
    /// Packets with at least one anomaly.
    pub anomalous_packets: u64,
    pub conversations: Conversations,
    pub flows: FlowSummary,
    pub talkers: Talkers,
    pub pairs: Vec<PairEntry>,
    pub timeseries: SeriesReport,
    pub latency: Latency,
    pub loss: Loss,
    pub filter: Option<String>,
    /// Packets written with `-w`.
    pub written: Option<u64>,
    /// Application layer (DNS, HTTP, TLS, SSH, DHCP, ARP).
    pub app: Option<AppReport>,
    /// Live capture only: what the kernel and the engine's queue received and dropped.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub capture: Option<crate::live::CaptureHealth>,
}

#[derive(Clone, Debug, Default, Serialize)]
pub struct InputReport {
    pub name: String,
    pub error: Option<String>,
}

#[derive(Clone, Debug, Default, Serialize)]
pub struct HierarchyEntry {
    /// Layers present, outermost first, joined by ':' (e.g. `eth:vlan:ipv4:tcp`).
    pub path: String,
    pub packets: u64,
    pub bytes: u64,
}

#[derive(Clone, Debug, Default, Serialize)]
pub struct Conversations {
    /// Distinct bidirectional (address, port, address, port) tuples, as `tshark -z conv,tcp`.
    pub tcp: u64,
    pub udp: u64,
    /// Other IP protocols (ICMP by type pair, SCTP, GRE, ...).
    pub other: u64,
    /// False when more distinct keys were seen than the configured cap (then upper bounds).
    pub exact: bool,
}

#[derive(Clone, Debug, Default, Serialize)]
pub struct FlowSummary {
    pub created: u64,
    pub max_active: u64,
    pub max_flows: u64,
    pub evicted: u64,
    pub timed_out: u64,
    pub reused: u64,
    /// Packets with an IP header that no flow could take (later fragments, cut headers).
    pub untracked_ip_packets: u64,
    /// IP fragments seen, datagrams they completed, and datagrams never completed (expired,
    /// evicted, or still pending at the end).
    pub fragments: u64,
    pub reassembled_datagrams: u64,
    pub incomplete_datagrams: u64,
    /// Zeek `conn_state` of TCP flows.
    pub tcp_states: BTreeMap<&'static str, u64>,
    pub by_proto: BTreeMap<&'static str, u64>,
}

#[derive(Clone, Debug, Default, Serialize)]
pub struct TalkerEntry {
    pub ip: String,
    pub bytes: u64,
    pub packets: u64,
    pub bytes_sent: u64,
    pub bytes_received: u64,
    pub packets_sent: u64,
    pub packets_received: u64,
    pub flows: u64,
}

#[derive(Clone, Debug, Default, Serialize)]
pub struct Talkers {
    pub by_bytes: Vec<TalkerEntry>,
    pub by_packets: Vec<TalkerEntry>,
    pub hosts_tracked: u64,
    pub hosts_evicted: u64,
}

#[derive(Clone, Debug, Default, Serialize)]
pub struct PairEntry {
    pub a: String,
    pub b: String,
    pub packets: u64,
    pub bytes: u64,
    pub bytes_a_to_b: u64,
    pub bytes_b_to_a: u64,
    pub flows: u64,
}

#[derive(Clone, Debug, Default, Serialize)]
pub struct SeriesReport {
    pub start: Option<String>,
    pub start_epoch: i64,
    pub bucket_seconds: i64,
    pub classes: Vec<&'static str>,
    /// One row per bucket, one column per class.
    pub packets: Vec<Vec<u64>>,
    pub bytes: Vec<Vec<u64>>,
}

#[derive(Clone, Debug, Default, Serialize)]
pub struct RttStats {
    pub samples: u64,
    pub min_ms: f64,
    pub median_ms: f64,
    pub p95_ms: f64,
    pub max_ms: f64,
}

#[derive(Clone, Debug, Default, Serialize)]
pub struct ServerRttEntry {
    pub server: String,
    #[serde(flatten)]
    pub rtt: RttStats,
}

#[derive(Clone, Debug, Default, Serialize)]
pub struct Latency {
    /// TCP handshakes completed (SYN, SYN-ACK, ACK all seen).
    pub handshakes: u64,
    /// SYN → ACK of the SYN-ACK, as seen at the capture point.
    pub handshake_rtt: Option<RttStats>,
    pub servers: Vec<ServerRttEntry>,
}

#[derive(Clone, Debug, Default, Serialize)]
pub struct Loss {
    pub tcp_segments: u64,
    pub retransmissions: u64,
    pub out_of_order: u64,
    /// Bytes jumped over in sequence space and never filled, plus ACK gaps (Zeek `missed_bytes`).
    pub missed_bytes: u64,
    pub acks: u64,
    /// ACKs for data the capture never saw.
    pub ack_gaps: u64,
    /// Zeek capture-loss.zeek's estimate: ack_gaps / acks × 100.
    pub capture_loss_percent: f64,
    pub retransmission_percent: f64,
}

/// What the application layer saw (absent with the application layer off).
#[derive(Clone, Debug, Default, Serialize)]
pub struct AppReport {
    /// ICMP and ICMPv6 messages by type and code, most frequent first.
    pub icmp: Vec<IcmpEntry>,
    /// Messages of (type, code) pairs beyond the first 1 024 distinct ones.
    pub icmp_other: u64,
    /// Flows per identified application protocol (`failed`: identification gave up).
    pub flows: BTreeMap<&'static str, u64>,
    pub dns: DnsReport,
    pub http: HttpReport,
    pub tls: TlsReport,
    pub ssh: SshReport,
    pub socks: SocksReport,
    pub proxy: ProxyReport,
    pub starttls: StartTlsReport,
    pub dhcp: DhcpReport,
    pub arp: ArpReport,
    pub reassembly: ReassemblyReport,
}

#[derive(Clone, Debug, Default, Serialize)]
pub struct NameEntry {
    pub name: String,
    pub count: u64,
}

#[derive(Clone, Debug, Default, Serialize)]
pub struct DnsReport {
    pub queries: u64,
    pub responses: u64,
    pub unanswered: u64,
    pub malformed: u64,
    /// Responses per rcode name (NOERROR, NXDOMAIN, ...).
    pub rcodes: BTreeMap<String, u64>,
    /// Most queried names.
    pub top_names: Vec<NameEntry>,
}

#[derive(Clone, Debug, Default, Serialize)]
pub struct HttpReport {
    pub transactions: u64,
    pub methods: BTreeMap<String, u64>,
    pub status_codes: BTreeMap<String, u64>,
    pub top_hosts: Vec<NameEntry>,
}

#[derive(Clone, Debug, Default, Serialize)]
pub struct TlsReport {
    pub sessions: u64,
    pub versions: BTreeMap<String, u64>,
    pub top_sni: Vec<NameEntry>,
}

#[derive(Clone, Debug, Default, Serialize)]
pub struct SshReport {
    pub sessions: u64,
}

#[derive(Clone, Debug, Default, Serialize)]
pub struct SocksReport {
    /// SOCKS handshakes logged (granted or not).
    pub sessions: u64,
}

/// PROXY protocol headers (HAProxy's) at the start of connections.
#[derive(Clone, Debug, Default, Serialize)]
pub struct ProxyReport {
    /// Headers read (versions 1 and 2).
    pub headers: u64,
    /// Connections whose first bytes began like a header but broke its format.
    pub malformed: u64,
}

/// Switches to TLS in cleartext protocols (SMTP, FTP, IMAP, POP3, PostgreSQL, MySQL, LDAP).
#[derive(Clone, Debug, Default, Serialize)]
pub struct StartTlsReport {
    /// Upgrade commands clients sent (`STARTTLS`, `AUTH TLS`, `STLS`, `SSLRequest`, MySQL SSL,
    /// LDAP StartTLS).
    pub requests: u64,
    /// Of those, refused by the server.
    pub refusals: u64,
    /// Connections that switched to TLS.
    pub upgrades: u64,
}

#[derive(Clone, Debug, Default, Serialize)]
pub struct DhcpReport {
    pub messages: u64,
    pub transactions: u64,
    pub malformed: u64,
}

#[derive(Clone, Debug, Default, Serialize)]
pub struct ArpReport {
    pub packets: u64,
    /// IPv4 addresses in the table.
    pub entries: u64,
    /// Times an address moved to another MAC address.
    pub changes: u64,
    /// The table (most recently seen first, up to the top-N size), with addresses that changed
    /// MAC first.
    pub table: Vec<ArpRow>,
}

#[derive(Clone, Debug, Default, Serialize)]
pub struct ArpRow {
    pub ip: String,
    pub mac: String,
    pub changes: u32,
    pub requests: u64,
    pub replies: u64,
}

#[derive(Clone, Debug, Default, Serialize)]
pub struct ReassemblyReport {
    /// Holes declared in reassembled streams, and the bytes they covered (Zeek `missed_bytes`).
    pub gaps: u64,
    pub missed_bytes: u64,
    /// Retransmitted or overlapping bytes whose content differed from the first copy.
    pub overlap_mismatch_bytes: u64,
    /// Stream directions that reached the depth limit.
    pub depth_reached: u64,
    /// Out-of-order segments refused because the global budget was spent.
    pub budget_denied: u64,
    pub states_created: u64,
    /// Flows left unparsed because `max_states` flows already had application state.
    pub states_denied: u64,
}

#[derive(Clone, Debug, Default, Serialize)]
pub struct IcmpEntry {
    /// 4 or 6.
    pub version: u8,
    #[serde(rename = "type")]
    pub icmp_type: u8,
    pub code: u8,
    /// `type/code` names (`destination-unreachable/port-unreachable`).
    pub name: String,
    pub packets: u64,
}
