//! `syn_flood`: SYN floods: CUSUM on SYN vs SYN-ACK per victim.
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

pub struct SynFlood {}

impl SynFlood {
    pub fn new(_cfg: &Config) -> Result<SynFlood, crate::BuildError> {
        Ok(SynFlood {})
    }
}

impl Detector for SynFlood {
    fn id(&self) -> DetectorId {
        DetectorId::SynFlood
    }
    fn interests(&self) -> Interest {
        Interest::default()
    }
    fn stats(&self) -> DetectorStats {
        DetectorStats::default()
    }
}
