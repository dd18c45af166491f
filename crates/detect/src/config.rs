//! The detection configuration: one TOML file (`--config FILE`), every key optional, defaults
//! documented in `docs/detectors.md` and printed by `wirescope --print-config`.
//!
//! ```toml
//! [alerts]
//! idle_close_s = 60          # an alert with no new evidence for this long closes
//! suppress_s = 3600          # after closing, the same alert is not raised again for this long
//!
//! [[alerts.allow]]           # never alert when the source is in this network
//! cidr = "198.18.0.0/24"
//! side = "src"               # src | dst | either (default)
//! detector = "port_scan"     # optional: only this detector
//!
//! [[alerts.threshold]]       # Suricata's limit / threshold / both
//! detector = "brute_force"
//! type = "limit"
//! track = "by_src"
//! count = 1
//! seconds = 3600
//!
//! [detectors.port_scan]
//! enabled = true
//! ```
//!
//! An error names the file, line, column and key.

use crate::detectors::DetectorsConfig;
use serde::{Deserialize, Serialize};
use std::net::IpAddr;

#[derive(Clone, Debug, Default, Deserialize, Serialize)]
#[serde(default, deny_unknown_fields)]
pub struct DetectConfig {
    pub alerts: AlertsConfig,
    pub detectors: DetectorsConfig,
}

#[derive(Clone, Debug, Deserialize, Serialize)]
#[serde(default, deny_unknown_fields)]
pub struct AlertsConfig {
    /// An open alert with no new evidence for this many seconds of packet time closes.
    pub idle_close_s: u64,
    /// After an alert closes, the same (detector, kind, source, destination) is not raised
    /// again for this many seconds (Zeek's default notice suppression: 1 hour).
    pub suppress_s: u64,
    /// Most alerts open at once.
    pub max_open: usize,
    /// Most alerts kept for the summary.
    pub max_alerts: usize,
    /// A `beacon` alert about a pair that already has a `brute_force` alert is not raised:
    /// login attempts at a steady pace are the brute force, not a C2 channel.
    pub beacon_defers_to_brute_force: bool,
    pub allow: Vec<CidrRule>,
    pub suppress: Vec<CidrRule>,
    pub threshold: Vec<ThresholdRule>,
}

impl Default for AlertsConfig {
    fn default() -> Self {
        AlertsConfig {
            idle_close_s: 60,
            suppress_s: 3600,
            max_open: 10_000,
            max_alerts: 100_000,
            beacon_defers_to_brute_force: true,
            allow: Vec::new(),
            suppress: Vec::new(),
            threshold: Vec::new(),
        }
    }
}

/// Which address of an alert a CIDR rule looks at.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Deserialize, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Side {
    Src,
    Dst,
    #[default]
    Either,
}

#[derive(Clone, Debug, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct CidrRule {
    pub cidr: String,
    #[serde(default)]
    pub detector: Option<String>,
    #[serde(default)]
    pub side: Side,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Deserialize, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Track {
    BySrc,
    ByDst,
    ByPair,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Deserialize, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum ThresholdKind {
    /// At most `count` alerts per `seconds`.
    Limit,
    /// Every `count`-th alert within `seconds`.
    Threshold,
    /// One alert once `count` were seen within `seconds`.
    Both,
}

#[derive(Clone, Debug, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct ThresholdRule {
    #[serde(default)]
    pub detector: Option<String>,
    #[serde(default)]
    pub kind: Option<String>,
    #[serde(rename = "type")]
    pub kind_of: ThresholdKind,
    pub track: Track,
    pub count: u64,
    pub seconds: u64,
}

/// A configuration error with its position.
#[derive(Debug, thiserror::Error)]
#[error("{file}:{line}:{column}: {key}{message}")]
pub struct ConfigError {
    pub file: String,
    pub line: usize,
    pub column: usize,
    /// "key `detectors.port_scan.window_s`: " or empty when no key applies.
    pub key: String,
    pub message: String,
}

impl DetectConfig {
    /// Parses the TOML text of `file` (the name is used in errors only).
    pub fn from_toml(file: &str, text: &str) -> Result<DetectConfig, ConfigError> {
        toml::from_str::<DetectConfig>(text).map_err(|e| {
            let (line, column, key) = match e.span() {
                Some(span) => position(text, span.start),
                None => (1, 1, String::new()),
            };
            ConfigError {
                file: file.to_string(),
                line,
                column,
                key: if key.is_empty() {
                    String::new()
                } else {
                    format!("key `{key}`: ")
                },
                message: e.message().trim().to_string(),
            }
        })
    }

    /// The configuration as TOML, with every default spelled out.
    pub fn to_toml(&self) -> String {
        toml::to_string_pretty(self).unwrap_or_default()
    }
}

/// 1-based line and column of byte `at`, and the dotted key being defined there (the last
/// `[table]` header above it plus the key on the line).
fn position(text: &str, at: usize) -> (usize, usize, String) {
    let at = at.min(text.len());
    let before = &text[..at];
    let line = before.matches('\n').count() + 1;
    let line_start = before.rfind('\n').map_or(0, |i| i + 1);
    let column = before[line_start..].chars().count() + 1;
    let mut table = String::new();
    for l in before.lines() {
        let t = l.trim();
        if let Some(h) = t.strip_prefix("[[").and_then(|h| h.split("]]").next()) {
            table = h.trim().to_string();
        } else if let Some(h) = t.strip_prefix('[').and_then(|h| h.split(']').next()) {
            table = h.trim().to_string();
        }
    }
    let this_line = text[line_start..].lines().next().unwrap_or("");
    let key = match this_line.split_once('=') {
        Some((k, _)) if !this_line.trim_start().starts_with('[') => {
            let k = k.trim().trim_matches('"');
            if table.is_empty() {
                k.to_string()
            } else {
                format!("{table}.{k}")
            }
        }
        _ => this_line
            .trim()
            .trim_start_matches('[')
            .trim_end_matches(']')
            .trim_matches(|c| c == '[' || c == ']')
            .to_string(),
    };
    (line, column, key)
}

/// An IPv4 or IPv6 network.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct Cidr {
    pub addr: IpAddr,
    pub prefix: u8,
}

impl Cidr {
    /// "10.0.0.0/8", "fd00::/8" or a bare address (a /32 or /128).
    pub fn parse(s: &str) -> Option<Cidr> {
        let s = s.trim();
        let (a, p) = match s.split_once('/') {
            Some((a, p)) => (a, Some(p)),
            None => (s, None),
        };
        let addr: IpAddr = a.trim().parse().ok()?;
        let max = if addr.is_ipv4() { 32 } else { 128 };
        let prefix = match p {
            Some(p) => p.trim().parse::<u8>().ok().filter(|p| *p <= max)?,
            None => max,
        };
        Some(Cidr { addr, prefix })
    }

    pub fn contains(&self, ip: IpAddr) -> bool {
        match (self.addr, ip) {
            (IpAddr::V4(n), IpAddr::V4(a)) => {
                let mask = u32::MAX
                    .checked_shl(32 - u32::from(self.prefix))
                    .unwrap_or(0);
                u32::from(n) & mask == u32::from(a) & mask
            }
            (IpAddr::V6(n), IpAddr::V6(a)) => {
                let mask = u128::MAX
                    .checked_shl(128 - u32::from(self.prefix))
                    .unwrap_or(0);
                u128::from(n) & mask == u128::from(a) & mask
            }
            _ => false,
        }
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    #[test]
    fn cidr_contains() {
        let c = Cidr::parse("198.18.0.0/15").unwrap();
        assert!(c.contains("198.19.255.1".parse().unwrap()));
        assert!(!c.contains("198.20.0.1".parse().unwrap()));
        assert!(Cidr::parse("0.0.0.0/0")
            .unwrap()
            .contains("1.2.3.4".parse().unwrap()));
        assert!(Cidr::parse("fd00::/8")
            .unwrap()
            .contains("fd12::1".parse().unwrap()));
        assert!(Cidr::parse("10.0.0.0/33").is_none());
        assert!(Cidr::parse("nonsense").is_none());
    }

    #[test]
    fn error_names_line_and_key() {
        let text = "[alerts]\nidle_close_s = 60\n\n[detectors.port_scan]\nenabled = \"yes\"\n";
        let e = DetectConfig::from_toml("w.toml", text).unwrap_err();
        assert_eq!((e.line, e.file.as_str()), (5, "w.toml"));
        assert!(e.to_string().contains("detectors.port_scan.enabled"), "{e}");
        let e = DetectConfig::from_toml("w.toml", "[alerts]\nidle_closed = 3\n").unwrap_err();
        assert_eq!(e.line, 2);
        assert!(e.to_string().contains("alerts.idle_closed"), "{e}");
        assert!(e.to_string().contains("unknown field"), "{e}");
    }

    #[test]
    fn defaults_round_trip() {
        let c = DetectConfig::default();
        let text = c.to_toml();
        let back = DetectConfig::from_toml("x", &text).unwrap();
        assert_eq!(back.alerts.idle_close_s, 60);
        assert_eq!(back.to_toml(), text);
    }
}
