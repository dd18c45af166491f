//! `brute_force`: brute force and password spraying against SSH, FTP, Telnet, RDP, HTTP auth, SMTP/POP/IMAP.
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

pub struct BruteForce {}

impl BruteForce {
    pub fn new(_cfg: &Config) -> Result<BruteForce, crate::BuildError> {
        Ok(BruteForce {})
    }
}

impl Detector for BruteForce {
    fn id(&self) -> DetectorId {
        DetectorId::BruteForce
    }
    fn interests(&self) -> Interest {
        Interest::default()
    }
    fn stats(&self) -> DetectorStats {
        DetectorStats::default()
    }
}
