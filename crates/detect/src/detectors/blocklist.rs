//! `blocklist`: known-bad IPs, CIDRs and domains from blocklist files.
//!
//! PLACEHOLDER: being written (method, parameters, false positives, cost, state bound go
//! here and in `docs/detectors.md`).

use crate::{Detector, DetectorId, DetectorStats, Interest};
use serde::{Deserialize, Serialize};

#[derive(Clone, Debug, Deserialize, Serialize)]
#[serde(default, deny_unknown_fields)]
pub struct Config {
    pub enabled: bool,
    /// List files (one indicator per line, Spamhaus DROP, Zeek Intel, Suricata IP
    /// reputation). Read by the caller into `sources`.
    pub files: Vec<std::path::PathBuf>,
    /// (name, text) of each list, filled by the caller from `files` and `--blocklist`.
    #[serde(skip)]
    pub sources: Vec<(String, String)>,
}

impl Default for Config {
    fn default() -> Self {
        Config {
            enabled: true,
            files: Vec::new(),
            sources: Vec::new(),
        }
    }
}

pub struct Blocklist {}

impl Blocklist {
    pub fn new(_cfg: &Config) -> Result<Blocklist, crate::BuildError> {
        Ok(Blocklist {})
    }
}

impl Detector for Blocklist {
    fn id(&self) -> DetectorId {
        DetectorId::Blocklist
    }
    fn interests(&self) -> Interest {
        Interest::default()
    }
    fn stats(&self) -> DetectorStats {
        DetectorStats::default()
    }
}
