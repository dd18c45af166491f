//! `ddos`: DDoS: many sources to one victim, spoofed random sources, reflection/amplification.
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

pub struct Ddos {}

impl Ddos {
    pub fn new(_cfg: &Config) -> Result<Ddos, crate::BuildError> {
        Ok(Ddos {})
    }
}

impl Detector for Ddos {
    fn id(&self) -> DetectorId {
        DetectorId::Ddos
    }
    fn interests(&self) -> Interest {
        Interest::default()
    }
    fn stats(&self) -> DetectorStats {
        DetectorStats::default()
    }
}
