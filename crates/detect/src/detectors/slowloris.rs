//! `slowloris`: slow HTTP denial of service: many slow, incomplete requests.
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

pub struct Slowloris {}

impl Slowloris {
    pub fn new(_cfg: &Config) -> Result<Slowloris, crate::BuildError> {
        Ok(Slowloris {})
    }
}

impl Detector for Slowloris {
    fn id(&self) -> DetectorId {
        DetectorId::Slowloris
    }
    fn interests(&self) -> Interest {
        Interest::default()
    }
    fn stats(&self) -> DetectorStats {
        DetectorStats::default()
    }
}
