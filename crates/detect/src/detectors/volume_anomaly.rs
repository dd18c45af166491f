//! `volume_anomaly`: volume anomalies against smoothed per-host / per-protocol baselines.
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

pub struct VolumeAnomaly {}

impl VolumeAnomaly {
    pub fn new(_cfg: &Config) -> Result<VolumeAnomaly, crate::BuildError> {
        Ok(VolumeAnomaly {})
    }
}

impl Detector for VolumeAnomaly {
    fn id(&self) -> DetectorId {
        DetectorId::VolumeAnomaly
    }
    fn interests(&self) -> Interest {
        Interest::default()
    }
    fn stats(&self) -> DetectorStats {
        DetectorStats::default()
    }
}
