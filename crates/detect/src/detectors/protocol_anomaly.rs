//! `protocol_anomaly`: protocol anomalies: invalid TCP flags, land attack, tiny/overlapping fragments, malformed headers.
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

pub struct ProtocolAnomaly {}

impl ProtocolAnomaly {
    pub fn new(_cfg: &Config) -> Result<ProtocolAnomaly, crate::BuildError> {
        Ok(ProtocolAnomaly {})
    }
}

impl Detector for ProtocolAnomaly {
    fn id(&self) -> DetectorId {
        DetectorId::ProtocolAnomaly
    }
    fn interests(&self) -> Interest {
        Interest::default()
    }
    fn stats(&self) -> DetectorStats {
        DetectorStats::default()
    }
}
