//! `web_attack`: web attacks in HTTP requests: SQLi, XSS, traversal, command injection, Log4Shell, Shellshock.
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

pub struct WebAttack {}

impl WebAttack {
    pub fn new(_cfg: &Config) -> Result<WebAttack, crate::BuildError> {
        Ok(WebAttack {})
    }
}

impl Detector for WebAttack {
    fn id(&self) -> DetectorId {
        DetectorId::WebAttack
    }
    fn interests(&self) -> Interest {
        Interest::default()
    }
    fn stats(&self) -> DetectorStats {
        DetectorStats::default()
    }
}
