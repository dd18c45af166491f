//! What a person acts on: an alert names the detector and the kind of activity, the attacker
//! and victim, when it started and was last seen, and the evidence (counts, ports or names
//! seen, window, thresholds crossed).

use crate::DetectorId;
use serde::Serialize;
use std::net::IpAddr;
use wirescope_core::{IpProto, Timestamp};

/// One side of an alert: an address and, when the activity is about one port, the port.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize)]
pub struct Endpoint {
    pub ip: IpAddr,
    pub port: Option<u16>,
}

impl Endpoint {
    pub fn ip(ip: IpAddr) -> Endpoint {
        Endpoint { ip, port: None }
    }
    pub fn with_port(ip: IpAddr, port: u16) -> Endpoint {
        Endpoint {
            ip,
            port: Some(port),
        }
    }
}

/// What a detector reports. The manager turns drafts into [`Alert`]s.
#[derive(Clone, Debug)]
pub struct AlertDraft {
    pub detector: DetectorId,
    /// The kind of activity, a stable snake_case name within the detector (`syn_scan`,
    /// `horizontal`, `reflection`, ...). Part of the alert's key and of its signature id.
    pub kind: &'static str,
    /// Offset of `kind` among the detector's kinds: signature id = detector base + this.
    pub kind_index: u16,
    /// One line for a person: "TCP SYN port scan of 198.18.0.2: 1000 ports".
    pub signature: String,
    /// Suricata-style category ("Attempted Information Leak", "Denial of Service", ...).
    pub category: &'static str,
    /// 1 (high) to 3 (low), as Suricata.
    pub severity: u8,
    /// The attacker (or the suspect: a tunnelling client, a beaconing host). `None` when
    /// there is no single source (distributed attacks, spoofed sources).
    pub src: Option<Endpoint>,
    /// The victim or target. `None` for sweeps over many hosts.
    pub dst: Option<Endpoint>,
    pub proto: Option<IpProto>,
    /// The flow the finding is about, when there is exactly one.
    pub flow_id: Option<u64>,
    pub community_id: Option<String>,
    /// Packet time of the first evidence (attack onset as the detector saw it).
    pub onset: Timestamp,
    /// Packet time of this report.
    pub ts: Timestamp,
    /// Evidence: counts, ports or names seen, window, thresholds. A JSON object.
    pub evidence: serde_json::Map<String, serde_json::Value>,
}

/// Where an alert is in its life: emitted once when opened and once when closed.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum AlertStatus {
    /// Just raised: the evidence is what crossed the threshold.
    New,
    /// No more activity for the idle time, or end of input: the evidence is final.
    Closed,
}

/// An alert as it leaves the manager.
#[derive(Clone, Debug, Serialize)]
pub struct Alert {
    /// Sequence number within the run (1, 2, ...), stable for one input.
    pub id: u64,
    pub detector: DetectorId,
    pub kind: &'static str,
    pub signature_id: u32,
    pub signature: String,
    pub category: &'static str,
    pub severity: u8,
    pub src: Option<Endpoint>,
    pub dst: Option<Endpoint>,
    #[serde(serialize_with = "ser_proto")]
    pub proto: Option<IpProto>,
    pub flow_id: Option<u64>,
    pub community_id: Option<String>,
    #[serde(serialize_with = "ser_ts")]
    pub onset: Timestamp,
    #[serde(serialize_with = "ser_ts")]
    pub raised: Timestamp,
    #[serde(serialize_with = "ser_ts")]
    pub last_seen: Timestamp,
    /// How many times the detector updated the evidence after raising it.
    pub updates: u64,
    pub status: AlertStatus,
    pub evidence: serde_json::Map<String, serde_json::Value>,
}

impl Alert {
    /// Seconds of packet time from the first evidence to the alert.
    pub fn delay_s(&self) -> f64 {
        self.raised.since(self.onset) as f64 / 1e9
    }
}

fn ser_ts<S: serde::Serializer>(t: &Timestamp, s: S) -> Result<S::Ok, S::Error> {
    s.serialize_f64(t.as_secs_f64())
}

fn ser_proto<S: serde::Serializer>(p: &Option<IpProto>, s: S) -> Result<S::Ok, S::Error> {
    match p {
        Some(p) => s.serialize_str(p.name()),
        None => s.serialize_none(),
    }
}

/// Builds an evidence object: `evidence! { "probes" => 12, "ports" => vec![22, 80] }`.
#[macro_export]
macro_rules! evidence {
    ($($k:expr => $v:expr),* $(,)?) => {{
        #[allow(unused_mut)]
        let mut m = serde_json::Map::new();
        $( m.insert(String::from($k), serde_json::json!($v)); )*
        m
    }};
}
