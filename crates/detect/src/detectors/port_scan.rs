//! `port_scan`: port scans: vertical, horizontal, distributed; SYN/connect/FIN/XMAS/NULL/ACK/window/UDP/IP-protocol scans; host sweeps; fast and slow scanners (TRW + windowed thresholds).
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

pub struct PortScan {}

impl PortScan {
    pub fn new(_cfg: &Config) -> Result<PortScan, crate::BuildError> {
        Ok(PortScan {})
    }
}

impl Detector for PortScan {
    fn id(&self) -> DetectorId {
        DetectorId::PortScan
    }
    fn interests(&self) -> Interest {
        Interest::default()
    }
    fn stats(&self) -> DetectorStats {
        DetectorStats::default()
    }
}
