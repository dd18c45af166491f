//! `icmp_flood`: ICMP floods toward one victim.
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

pub struct IcmpFlood {}

impl IcmpFlood {
    pub fn new(_cfg: &Config) -> Result<IcmpFlood, crate::BuildError> {
        Ok(IcmpFlood {})
    }
}

impl Detector for IcmpFlood {
    fn id(&self) -> DetectorId {
        DetectorId::IcmpFlood
    }
    fn interests(&self) -> Interest {
        Interest::default()
    }
    fn stats(&self) -> DetectorStats {
        DetectorStats::default()
    }
}
