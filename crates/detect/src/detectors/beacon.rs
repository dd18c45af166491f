//! `beacon`: beaconing: RITA-style periodicity score per host pair.
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

pub struct Beacon {}

impl Beacon {
    pub fn new(_cfg: &Config) -> Result<Beacon, crate::BuildError> {
        Ok(Beacon {})
    }
}

impl Detector for Beacon {
    fn id(&self) -> DetectorId {
        DetectorId::Beacon
    }
    fn interests(&self) -> Interest {
        Interest::default()
    }
    fn stats(&self) -> DetectorStats {
        DetectorStats::default()
    }
}
