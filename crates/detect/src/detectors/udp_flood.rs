//! `udp_flood`: UDP floods toward one victim.
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

pub struct UdpFlood {}

impl UdpFlood {
    pub fn new(_cfg: &Config) -> Result<UdpFlood, crate::BuildError> {
        Ok(UdpFlood {})
    }
}

impl Detector for UdpFlood {
    fn id(&self) -> DetectorId {
        DetectorId::UdpFlood
    }
    fn interests(&self) -> Interest {
        Interest::default()
    }
    fn stats(&self) -> DetectorStats {
        DetectorStats::default()
    }
}
