//! The explicit list of detectors. Adding a detector means: a [`DetectorId`] variant, a
//! module here with its `Config` and implementation, a field in [`DetectorsConfig`] and an
//! arm in [`build`] (the `match` is exhaustive: an unwired detector does not compile), a
//! section in `docs/detectors.md`, and positive and negative tests on real captures.

pub mod arp_spoof;
pub mod beacon;
pub mod blocklist;
pub mod brute_force;
pub mod ddos;
pub mod dns_tunnel;
pub mod icmp_flood;
pub mod port_scan;
pub mod protocol_anomaly;
pub mod slowloris;
pub mod syn_flood;
pub mod udp_flood;
pub mod util;
pub mod volume_anomaly;
pub mod web_attack;

use arp_spoof::ArpSpoof;
use beacon::Beacon;
use blocklist::Blocklist;
use brute_force::BruteForce;
use ddos::Ddos;
use dns_tunnel::DnsTunnel;
use icmp_flood::IcmpFlood;
use port_scan::PortScan;
use protocol_anomaly::ProtocolAnomaly;
use slowloris::Slowloris;
use syn_flood::SynFlood;
use udp_flood::UdpFlood;
use volume_anomaly::VolumeAnomaly;
use web_attack::WebAttack;

use crate::config::DetectConfig;
use crate::{BuildError, Detector, DetectorId};
use serde::{Deserialize, Serialize};

/// `[detectors.<id>]` sections of the configuration.
#[derive(Clone, Debug, Default, Deserialize, Serialize)]
#[serde(default, deny_unknown_fields)]
pub struct DetectorsConfig {
    pub port_scan: port_scan::Config,
    pub syn_flood: syn_flood::Config,
    pub ddos: ddos::Config,
    pub udp_flood: udp_flood::Config,
    pub icmp_flood: icmp_flood::Config,
    pub arp_spoof: arp_spoof::Config,
    pub dns_tunnel: dns_tunnel::Config,
    pub brute_force: brute_force::Config,
    pub blocklist: blocklist::Config,
    pub web_attack: web_attack::Config,
    pub slowloris: slowloris::Config,
    pub beacon: beacon::Config,
    pub volume_anomaly: volume_anomaly::Config,
    pub protocol_anomaly: protocol_anomaly::Config,
}

/// The enabled detectors, in [`DetectorId::ALL`] order.
pub fn build(cfg: &DetectConfig) -> Result<Vec<Box<dyn Detector>>, BuildError> {
    let mut out = Vec::new();
    for id in DetectorId::ALL {
        let d = match id {
            DetectorId::PortScan => {
                let c = &cfg.detectors.port_scan;
                c.enabled
                    .then(|| PortScan::new(c).map(|d| Box::new(d) as Box<dyn Detector>))
            }
            DetectorId::SynFlood => {
                let c = &cfg.detectors.syn_flood;
                c.enabled
                    .then(|| SynFlood::new(c).map(|d| Box::new(d) as Box<dyn Detector>))
            }
            DetectorId::Ddos => {
                let c = &cfg.detectors.ddos;
                c.enabled
                    .then(|| Ddos::new(c).map(|d| Box::new(d) as Box<dyn Detector>))
            }
            DetectorId::UdpFlood => {
                let c = &cfg.detectors.udp_flood;
                c.enabled
                    .then(|| UdpFlood::new(c).map(|d| Box::new(d) as Box<dyn Detector>))
            }
            DetectorId::IcmpFlood => {
                let c = &cfg.detectors.icmp_flood;
                c.enabled
                    .then(|| IcmpFlood::new(c).map(|d| Box::new(d) as Box<dyn Detector>))
            }
            DetectorId::ArpSpoof => {
                let c = &cfg.detectors.arp_spoof;
                c.enabled
                    .then(|| ArpSpoof::new(c).map(|d| Box::new(d) as Box<dyn Detector>))
            }
            DetectorId::DnsTunnel => {
                let c = &cfg.detectors.dns_tunnel;
                c.enabled
                    .then(|| DnsTunnel::new(c).map(|d| Box::new(d) as Box<dyn Detector>))
            }
            DetectorId::BruteForce => {
                let c = &cfg.detectors.brute_force;
                c.enabled
                    .then(|| BruteForce::new(c).map(|d| Box::new(d) as Box<dyn Detector>))
            }
            DetectorId::Blocklist => {
                let c = &cfg.detectors.blocklist;
                c.enabled
                    .then(|| Blocklist::new(c).map(|d| Box::new(d) as Box<dyn Detector>))
            }
            DetectorId::WebAttack => {
                let c = &cfg.detectors.web_attack;
                c.enabled
                    .then(|| WebAttack::new(c).map(|d| Box::new(d) as Box<dyn Detector>))
            }
            DetectorId::Slowloris => {
                let c = &cfg.detectors.slowloris;
                c.enabled
                    .then(|| Slowloris::new(c).map(|d| Box::new(d) as Box<dyn Detector>))
            }
            DetectorId::Beacon => {
                let c = &cfg.detectors.beacon;
                c.enabled
                    .then(|| Beacon::new(c).map(|d| Box::new(d) as Box<dyn Detector>))
            }
            DetectorId::VolumeAnomaly => {
                let c = &cfg.detectors.volume_anomaly;
                c.enabled
                    .then(|| VolumeAnomaly::new(c).map(|d| Box::new(d) as Box<dyn Detector>))
            }
            DetectorId::ProtocolAnomaly => {
                let c = &cfg.detectors.protocol_anomaly;
                c.enabled
                    .then(|| ProtocolAnomaly::new(c).map(|d| Box::new(d) as Box<dyn Detector>))
            }
        };
        if let Some(d) = d {
            out.push(d?);
        }
    }
    Ok(out)
}
