//! `dns_tunnel`: DNS tunnels and DNS C2 per registered domain.
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

pub struct DnsTunnel {}

impl DnsTunnel {
    pub fn new(_cfg: &Config) -> Result<DnsTunnel, crate::BuildError> {
        Ok(DnsTunnel {})
    }
}

impl Detector for DnsTunnel {
    fn id(&self) -> DetectorId {
        DetectorId::DnsTunnel
    }
    fn interests(&self) -> Interest {
        Interest::default()
    }
    fn stats(&self) -> DetectorStats {
        DetectorStats::default()
    }
}
