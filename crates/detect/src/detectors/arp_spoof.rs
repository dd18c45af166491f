//! `arp_spoof`: ARP spoofing: arpwatch's taxonomy and Snort's arp_spoof checks.
//!
//! PLACEHOLDER: being written (method, parameters, false positives, cost, state bound go
//! here and in `docs/detectors.md`).

use crate::{Detector, DetectorId, DetectorStats, Interest};
use serde::{Deserialize, Serialize};

#[derive(Clone, Debug, Deserialize, Serialize)]
#[serde(default, deny_unknown_fields)]
pub struct Config {
    pub enabled: bool,
}

impl Default for Config {
    fn default() -> Self {
        Config { enabled: true }
    }
}

pub struct ArpSpoof {}

impl ArpSpoof {
    pub fn new(_cfg: &Config) -> Result<ArpSpoof, crate::BuildError> {
        Ok(ArpSpoof {})
    }
}

impl Detector for ArpSpoof {
    fn id(&self) -> DetectorId {
        DetectorId::ArpSpoof
    }
    fn interests(&self) -> Interest {
        Interest::default()
    }
    fn stats(&self) -> DetectorStats {
        DetectorStats::default()
    }
}
