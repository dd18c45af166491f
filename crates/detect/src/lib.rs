//! Threat detection: detectors over the engine's packets, finished flows and application
//! events, and the alert manager that turns their findings into few, explainable alerts.
//!
//! Owns: the [`Detector`] trait and the explicit list of detectors ([`DetectorId::ALL`],
//! [`detectors::build`]), [`Alert`] (what a person acts on: who, whom, what, evidence),
//! the [`manager::AlertManager`] (one alert per ongoing attack, suppression, thresholds,
//! allow-lists) and the TOML configuration ([`config::DetectConfig`]).
//!
//! Never does: I/O (configuration text and list files are read by the caller), logging,
//! wall-clock reads (time is packet time), unbounded state (every table is a [`table::Table`]
//! with a cap and an eviction counter). Detectors allocate when they raise an alert, which is
//! rare and rate-limited, never per packet in steady state.
//!
//! The core reports *what happened* (engine events); detectors decide *whether it matters*
//! (Zeek's split). A detector declares the hooks it wants ([`Interest`]) and is called only for
//! those.
//!
//! ```
//! use wirescope_detect::{config::DetectConfig, Detection};
//! let det = Detection::new(&DetectConfig::default()).expect("default config is valid");
//! assert!(det.detector_ids().contains(&wirescope_detect::DetectorId::PortScan));
//! ```

pub mod alert;
pub mod config;
pub mod detectors;
pub mod manager;
pub mod table;

pub use alert::{Alert, AlertDraft, AlertStatus, Endpoint};

use serde::{Deserialize, Serialize};
use wirescope_core::Timestamp;
use wirescope_engine::{AppCtx, ArpEvent, DnsEvent, Flow, Sink};
use wirescope_wire::Packet;

/// The stable identifier of a detector; it names the detector in alerts (`alert.detector`),
/// in the configuration (`[detectors.<id>]`) and in the docs (`docs/detectors.md`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum DetectorId {
    PortScan,
    SynFlood,
    Ddos,
    UdpFlood,
    IcmpFlood,
    ArpSpoof,
    DnsTunnel,
    BruteForce,
    Blocklist,
    WebAttack,
    Slowloris,
    Beacon,
    VolumeAnomaly,
    ProtocolAnomaly,
}

impl DetectorId {
    /// Every detector, in the order they run and are documented.
    pub const ALL: [DetectorId; 14] = [
        DetectorId::PortScan,
        DetectorId::SynFlood,
        DetectorId::Ddos,
        DetectorId::UdpFlood,
        DetectorId::IcmpFlood,
        DetectorId::ArpSpoof,
        DetectorId::DnsTunnel,
        DetectorId::BruteForce,
        DetectorId::Blocklist,
        DetectorId::WebAttack,
        DetectorId::Slowloris,
        DetectorId::Beacon,
        DetectorId::VolumeAnomaly,
        DetectorId::ProtocolAnomaly,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            DetectorId::PortScan => "port_scan",
            DetectorId::SynFlood => "syn_flood",
            DetectorId::Ddos => "ddos",
            DetectorId::UdpFlood => "udp_flood",
            DetectorId::IcmpFlood => "icmp_flood",
            DetectorId::ArpSpoof => "arp_spoof",
            DetectorId::DnsTunnel => "dns_tunnel",
            DetectorId::BruteForce => "brute_force",
            DetectorId::Blocklist => "blocklist",
            DetectorId::WebAttack => "web_attack",
            DetectorId::Slowloris => "slowloris",
            DetectorId::Beacon => "beacon",
            DetectorId::VolumeAnomaly => "volume_anomaly",
            DetectorId::ProtocolAnomaly => "protocol_anomaly",
        }
    }

    pub fn parse(s: &str) -> Option<DetectorId> {
        DetectorId::ALL.into_iter().find(|d| d.as_str() == s)
    }

    /// First signature id of this detector: 9 000 000 + 1 000 × position. A detector's kinds
    /// (e.g. `port_scan`'s `syn_scan`) take consecutive ids from there (see `docs/detectors.md`).
    pub fn sid_base(self) -> u32 {
        let i = DetectorId::ALL.iter().position(|d| *d == self).unwrap_or(0) as u32;
        9_000_000 + 1_000 * (i + 1)
    }
}

impl std::fmt::Display for DetectorId {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// The hooks a detector is called for (a bit set).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Interest(u16);

impl Interest {
    pub const PACKET: Interest = Interest(1);
    pub const FLOW: Interest = Interest(1 << 1);
    pub const DNS: Interest = Interest(1 << 2);
    pub const HTTP: Interest = Interest(1 << 3);
    pub const TLS: Interest = Interest(1 << 4);
    pub const SSH: Interest = Interest(1 << 5);
    pub const ARP: Interest = Interest(1 << 6);
    pub const TICK: Interest = Interest(1 << 7);
    /// A PROXY protocol header: the client a load balancer relays (see `Detector::proxy`).
    pub const PROXY: Interest = Interest(1 << 8);

    pub const fn union(self, o: Interest) -> Interest {
        Interest(self.0 | o.0)
    }
    pub const fn contains(self, o: Interest) -> bool {
        self.0 & o.0 == o.0
    }
}

impl std::ops::BitOr for Interest {
    type Output = Interest;
    fn bitor(self, o: Interest) -> Interest {
        self.union(o)
    }
}

/// Size and eviction counters of one detector's state, reported in the summary.
#[derive(Clone, Debug, Default, Serialize, PartialEq, Eq)]
pub struct DetectorStats {
    /// Entries held now, across the detector's tables.
    pub entries: u64,
    /// The most entries its tables may hold.
    pub capacity: u64,
    /// Entries dropped because a table was full.
    pub evicted_total: u64,
}

/// Where a detector's findings go. Detectors call [`Alerts::raise`]; the manager merges a
/// raise into the open alert with the same key (detector, kind, source, destination) or opens
/// a new one.
pub struct Alerts<'m> {
    pub(crate) mgr: &'m mut manager::AlertManager,
}

impl Alerts<'_> {
    /// Reports a finding. Call it when a threshold is crossed and then at most about once a
    /// second of packet time per key while the activity goes on (detectors rate-limit their
    /// own updates): the manager keeps one alert per key and replaces its evidence.
    pub fn raise(&mut self, draft: AlertDraft) {
        self.mgr.raise(draft);
    }

    /// True when an alert with this key is open (so a detector can skip building evidence).
    pub fn is_open(
        &self,
        detector: DetectorId,
        kind: &'static str,
        src: Option<std::net::IpAddr>,
        dst: Option<std::net::IpAddr>,
    ) -> bool {
        self.mgr.is_open(detector, kind, src, dst)
    }
}

/// One detector. Each implementation documents (in its module and in `docs/detectors.md`)
/// its method, parameters and defaults, known false positives, cost and state bound, and has
/// a positive and a negative test on real captures.
///
/// Hooks are called only for the interests the detector declares. Every hook gets packet
/// time; no hook may block, log or read the wall clock.
pub trait Detector {
    fn id(&self) -> DetectorId;
    fn interests(&self) -> Interest;
    fn packet(&mut self, _ts: Timestamp, _pkt: &Packet<'_>, _out: &mut Alerts<'_>) {}
    fn flow(&mut self, _flow: &Flow, _out: &mut Alerts<'_>) {}
    fn dns(&mut self, _ctx: &AppCtx<'_>, _ev: &DnsEvent<'_, '_>, _out: &mut Alerts<'_>) {}
    fn http(
        &mut self,
        _ctx: &AppCtx<'_>,
        _tx: &wirescope_proto::http::Transaction,
        _out: &mut Alerts<'_>,
    ) {
    }
    fn tls(
        &mut self,
        _ctx: &AppCtx<'_>,
        _s: &wirescope_proto::tls::TlsSession,
        _out: &mut Alerts<'_>,
    ) {
    }
    fn ssh(
        &mut self,
        _ctx: &AppCtx<'_>,
        _s: &wirescope_proto::ssh::SshSession,
        _out: &mut Alerts<'_>,
    ) {
    }
    fn arp(&mut self, _ev: &ArpEvent<'_>, _out: &mut Alerts<'_>) {}
    /// A PROXY protocol header at the start of a connection from a load balancer or reverse
    /// proxy: `h.src` is the real client, which no packet of the flow carries.
    fn proxy(
        &mut self,
        _ctx: &AppCtx<'_>,
        _h: &wirescope_proto::proxy::ProxyHeader,
        _out: &mut Alerts<'_>,
    ) {
    }
    /// Packet time entered a new second.
    fn tick(&mut self, _ts: Timestamp, _out: &mut Alerts<'_>) {}
    /// End of input: report what is pending.
    fn finish(&mut self, _ts: Timestamp, _out: &mut Alerts<'_>) {}
    fn stats(&self) -> DetectorStats;
}

/// Receives alerts as they are raised and when they close.
pub trait AlertSink {
    fn alert(&mut self, alert: &Alert);
}

/// An [`AlertSink`] that drops everything.
pub struct NullAlertSink;
impl AlertSink for NullAlertSink {
    fn alert(&mut self, _alert: &Alert) {}
}

impl AlertSink for Vec<Alert> {
    fn alert(&mut self, alert: &Alert) {
        self.push(alert.clone());
    }
}

/// The detectors and the alert manager of one run.
pub struct Detection {
    detectors: Vec<Box<dyn Detector>>,
    /// Indices into `detectors`, per hook.
    on_packet: Vec<usize>,
    on_flow: Vec<usize>,
    on_dns: Vec<usize>,
    on_http: Vec<usize>,
    on_tls: Vec<usize>,
    on_ssh: Vec<usize>,
    on_arp: Vec<usize>,
    on_tick: Vec<usize>,
    on_proxy: Vec<usize>,
    mgr: manager::AlertManager,
    last_ts: Timestamp,
}

/// A configuration problem found when building detectors (e.g. an unreadable list entry).
#[derive(Debug, thiserror::Error)]
#[error("{0}")]
pub struct BuildError(pub String);

impl Detection {
    pub fn new(cfg: &config::DetectConfig) -> Result<Detection, BuildError> {
        let detectors = detectors::build(cfg)?;
        let mut d = Detection {
            on_packet: Vec::new(),
            on_flow: Vec::new(),
            on_dns: Vec::new(),
            on_http: Vec::new(),
            on_tls: Vec::new(),
            on_ssh: Vec::new(),
            on_arp: Vec::new(),
            on_tick: Vec::new(),
            on_proxy: Vec::new(),
            mgr: manager::AlertManager::new(&cfg.alerts)?,
            detectors,
            last_ts: Timestamp::ZERO,
        };
        d.index();
        Ok(d)
    }

    /// Rebuilds the per-hook lists from `detectors`.
    fn index(&mut self) {
        for list in [
            &mut self.on_packet,
            &mut self.on_flow,
            &mut self.on_dns,
            &mut self.on_http,
            &mut self.on_tls,
            &mut self.on_ssh,
            &mut self.on_arp,
            &mut self.on_tick,
            &mut self.on_proxy,
        ] {
            list.clear();
        }
        for (i, det) in self.detectors.iter().enumerate() {
            let w = det.interests();
            for (bit, list) in [
                (Interest::PACKET, &mut self.on_packet),
                (Interest::FLOW, &mut self.on_flow),
                (Interest::DNS, &mut self.on_dns),
                (Interest::HTTP, &mut self.on_http),
                (Interest::TLS, &mut self.on_tls),
                (Interest::SSH, &mut self.on_ssh),
                (Interest::ARP, &mut self.on_arp),
                (Interest::TICK, &mut self.on_tick),
                (Interest::PROXY, &mut self.on_proxy),
            ] {
                if w.contains(bit) {
                    list.push(i);
                }
            }
        }
    }

    /// Applies a new configuration while running (SIGHUP): detectors are rebuilt with the new
    /// parameters and lists (their windows start afresh), the alert manager takes the new
    /// allow, suppress and threshold rules and keeps every alert, open or closed, with its id.
    /// On error nothing changes.
    pub fn reload(&mut self, cfg: &config::DetectConfig) -> Result<(), BuildError> {
        let detectors = detectors::build(cfg)?;
        self.mgr.reconfigure(&cfg.alerts)?;
        self.detectors = detectors;
        self.index();
        Ok(())
    }

    /// The detectors that run, in order.
    pub fn detector_ids(&self) -> Vec<DetectorId> {
        self.detectors.iter().map(|d| d.id()).collect()
    }

    /// Per-detector state counters.
    pub fn detector_stats(&self) -> Vec<(DetectorId, DetectorStats)> {
        self.detectors.iter().map(|d| (d.id(), d.stats())).collect()
    }

    pub fn manager(&self) -> &manager::AlertManager {
        &self.mgr
    }

    /// Alerts raised so far (open and closed), in the order they were opened.
    pub fn alerts(&self) -> &[Alert] {
        self.mgr.alerts()
    }

    /// Hands alerts that changed state (opened, closed) to `sink`.
    pub fn drain(&mut self, sink: &mut dyn AlertSink) {
        self.mgr.drain(sink);
    }

    pub fn packet(&mut self, ts: Timestamp, pkt: &Packet<'_>) {
        self.last_ts = ts;
        let mut out = Alerts { mgr: &mut self.mgr };
        for &i in &self.on_packet {
            self.detectors[i].packet(ts, pkt, &mut out);
        }
    }

    pub fn tick(&mut self, ts: Timestamp) {
        let mut out = Alerts { mgr: &mut self.mgr };
        for &i in &self.on_tick {
            self.detectors[i].tick(ts, &mut out);
        }
        self.mgr.tick(ts);
    }

    pub fn flow(&mut self, fl: &Flow) {
        let mut out = Alerts { mgr: &mut self.mgr };
        for &i in &self.on_flow {
            self.detectors[i].flow(fl, &mut out);
        }
    }

    pub fn dns(&mut self, ctx: &AppCtx<'_>, ev: &DnsEvent<'_, '_>) {
        let mut out = Alerts { mgr: &mut self.mgr };
        for &i in &self.on_dns {
            self.detectors[i].dns(ctx, ev, &mut out);
        }
    }

    pub fn http(&mut self, ctx: &AppCtx<'_>, tx: &wirescope_proto::http::Transaction) {
        let mut out = Alerts { mgr: &mut self.mgr };
        for &i in &self.on_http {
            self.detectors[i].http(ctx, tx, &mut out);
        }
    }

    pub fn tls(&mut self, ctx: &AppCtx<'_>, s: &wirescope_proto::tls::TlsSession) {
        let mut out = Alerts { mgr: &mut self.mgr };
        for &i in &self.on_tls {
            self.detectors[i].tls(ctx, s, &mut out);
        }
    }

    pub fn ssh(&mut self, ctx: &AppCtx<'_>, s: &wirescope_proto::ssh::SshSession) {
        let mut out = Alerts { mgr: &mut self.mgr };
        for &i in &self.on_ssh {
            self.detectors[i].ssh(ctx, s, &mut out);
        }
    }

    pub fn arp(&mut self, ev: &ArpEvent<'_>) {
        let mut out = Alerts { mgr: &mut self.mgr };
        for &i in &self.on_arp {
            self.detectors[i].arp(ev, &mut out);
        }
    }

    pub fn proxy(&mut self, ctx: &AppCtx<'_>, h: &wirescope_proto::proxy::ProxyHeader) {
        let mut out = Alerts { mgr: &mut self.mgr };
        for &i in &self.on_proxy {
            self.detectors[i].proxy(ctx, h, &mut out);
        }
    }

    /// End of input: detectors report what is pending, then every open alert closes.
    pub fn finish(&mut self) {
        let ts = self.last_ts;
        let mut out = Alerts { mgr: &mut self.mgr };
        for d in &mut self.detectors {
            d.finish(ts, &mut out);
        }
        self.mgr.close_all(ts);
    }
}

/// A [`Sink`] that feeds a [`Detection`] and forwards every event to `inner`; alerts that
/// change state are handed to `inner` as an [`AlertSink`] right away, so they are printed and
/// written while the capture is read.
pub struct Detecting<'a, S: Sink + AlertSink> {
    pub det: &'a mut Detection,
    pub inner: &'a mut S,
}

impl<S: Sink + AlertSink> Detecting<'_, S> {
    #[inline]
    fn flush(&mut self) {
        if self.det.mgr.has_pending() {
            self.det.mgr.drain(self.inner);
        }
    }

    /// End of input: close everything and hand the final alerts over.
    pub fn finish(&mut self) {
        self.det.finish();
        self.flush();
    }
}

impl<S: Sink + AlertSink> Sink for Detecting<'_, S> {
    fn packet(&mut self, ts: Timestamp, pkt: &Packet<'_>) {
        self.inner.packet(ts, pkt);
        self.det.packet(ts, pkt);
        self.flush();
    }
    fn tick(&mut self, ts: Timestamp) {
        self.inner.tick(ts);
        self.det.tick(ts);
        self.flush();
    }
    fn flow(&mut self, flow: &Flow) {
        self.inner.flow(flow);
        self.det.flow(flow);
        self.flush();
    }
    fn dns(&mut self, ctx: &AppCtx<'_>, ev: &DnsEvent<'_, '_>) {
        self.inner.dns(ctx, ev);
        self.det.dns(ctx, ev);
        self.flush();
    }
    fn http(&mut self, ctx: &AppCtx<'_>, tx: &wirescope_proto::http::Transaction) {
        self.inner.http(ctx, tx);
        self.det.http(ctx, tx);
        self.flush();
    }
    fn tls(&mut self, ctx: &AppCtx<'_>, s: &wirescope_proto::tls::TlsSession) {
        self.inner.tls(ctx, s);
        self.det.tls(ctx, s);
        self.flush();
    }
    fn ssh(&mut self, ctx: &AppCtx<'_>, s: &wirescope_proto::ssh::SshSession) {
        self.inner.ssh(ctx, s);
        self.det.ssh(ctx, s);
        self.flush();
    }
    fn socks(&mut self, ctx: &AppCtx<'_>, s: &wirescope_proto::socks::SocksSession) {
        self.inner.socks(ctx, s);
    }
    fn proxy(&mut self, ctx: &AppCtx<'_>, h: &wirescope_proto::proxy::ProxyHeader) {
        self.inner.proxy(ctx, h);
        self.det.proxy(ctx, h);
        self.flush();
    }
    fn dhcp_message(&mut self, ctx: &AppCtx<'_>, m: &wirescope_proto::dhcp::Message<'_>) {
        self.inner.dhcp_message(ctx, m);
    }
    fn dhcp(&mut self, tx: &wirescope_proto::dhcp::Transaction) {
        self.inner.dhcp(tx);
    }
    fn arp(&mut self, ev: &ArpEvent<'_>) {
        self.inner.arp(ev);
        self.det.arp(ev);
        self.flush();
    }
}
