//! Shared by the detector tests: run a real capture through the engine with detection and
//! collect the alerts.
#![allow(dead_code, clippy::unwrap_used)]

use std::path::{Path, PathBuf};
use wirescope_capture::{CaptureReader, MergedReader};
use wirescope_detect::config::DetectConfig;
use wirescope_detect::{Alert, AlertSink, Detecting, Detection, DetectorId};
use wirescope_engine::pipeline::{self, RunOptions};
use wirescope_engine::{Engine, EngineConfig, Sink};

/// The shared corpus (`WIRESCOPE_CORPUS` or `../shared/corpus` from the workspace root). A
/// missing corpus is an error, never a skip.
pub fn corpus() -> PathBuf {
    let p = std::env::var_os("WIRESCOPE_CORPUS")
        .map(PathBuf::from)
        .unwrap_or_else(|| Path::new(env!("CARGO_MANIFEST_DIR")).join("../../../shared/corpus"));
    assert!(
        p.is_dir(),
        "corpus not found at {} (set WIRESCOPE_CORPUS)",
        p.display()
    );
    p
}

pub fn corpus_file(rel: &str) -> PathBuf {
    let p = corpus().join(rel);
    assert!(p.is_file(), "missing corpus file {}", p.display());
    p
}

/// Collects every alert event (status new and closed).
#[derive(Default)]
pub struct Collect {
    pub events: Vec<Alert>,
}
impl Sink for Collect {}
impl AlertSink for Collect {
    fn alert(&mut self, a: &Alert) {
        self.events.push(a.clone());
    }
}

/// The alerts (final state, in the order raised) of a run over `paths` with `cfg`.
pub fn run_with(paths: &[PathBuf], cfg: &DetectConfig) -> Vec<Alert> {
    let readers = paths
        .iter()
        .map(|p| CaptureReader::open(p).unwrap())
        .collect();
    let mut reader = MergedReader::new(readers);
    let mut engine = Engine::new(EngineConfig::default());
    let mut det = Detection::new(cfg).unwrap();
    let mut collect = Collect::default();
    {
        let mut sink = Detecting {
            det: &mut det,
            inner: &mut collect,
        };
        let _ = pipeline::run(&mut reader, &mut engine, RunOptions::default(), &mut sink);
        sink.finish();
    }
    det.alerts().to_vec()
}

pub fn run(path: &Path) -> Vec<Alert> {
    run_with(&[path.to_path_buf()], &DetectConfig::default())
}

/// Alerts of one detector.
pub fn of(alerts: &[Alert], d: DetectorId) -> Vec<&Alert> {
    alerts.iter().filter(|a| a.detector == d).collect()
}

/// One line per alert, for assertion messages.
pub fn describe(alerts: &[Alert]) -> String {
    alerts
        .iter()
        .map(|a| {
            format!(
                "#{} {} {} {:?} -> {:?}: {} {}",
                a.id,
                a.detector,
                a.kind,
                a.src.map(|e| e.ip),
                a.dst.map(|e| e.ip),
                a.signature,
                serde_json::Value::Object(a.evidence.clone())
            )
        })
        .collect::<Vec<_>>()
        .join("\n")
}

/// Every capture under `corpus/benign` (fails if the directory is missing or nearly empty).
pub fn benign_dir_captures() -> Vec<PathBuf> {
    let mut out = Vec::new();
    let mut stack = vec![corpus().join("benign")];
    assert!(stack[0].is_dir(), "missing {}", stack[0].display());
    while let Some(dir) = stack.pop() {
        for e in std::fs::read_dir(&dir).unwrap() {
            let p = e.unwrap().path();
            if p.is_dir() {
                stack.push(p);
            } else if matches!(
                p.extension().and_then(|x| x.to_str()),
                Some("pcap" | "pcapng" | "cap")
            ) {
                out.push(p);
            }
        }
    }
    out.sort();
    assert!(out.len() > 50, "too few benign captures: {}", out.len());
    out
}

/// Captures of `corpus/attacks/chrissanders-packets` that MANIFEST.tsv does not label as an
/// attack or malware (DNS, HTTP, TCP behaviour, mail, DHCP, ARP resolution...).
pub fn chrissanders_benign() -> Vec<PathBuf> {
    let manifest = std::fs::read_to_string(corpus().join("MANIFEST.tsv")).unwrap();
    let out: Vec<PathBuf> = manifest
        .lines()
        .filter_map(|l| {
            let f: Vec<&str> = l.split('\t').collect();
            let (path, truth) = (*f.get(1)?, *f.get(8)?);
            let cap = [".pcap", ".pcapng", ".cap"]
                .iter()
                .any(|e| path.ends_with(e));
            (path.starts_with("attacks/chrissanders-packets/")
                && cap
                && !truth.contains("ATTACK")
                && !truth.contains("MALWARE"))
            .then(|| corpus_file(path))
        })
        .collect();
    assert!(out.len() > 40, "too few chrissanders benign captures");
    out
}

/// Both of the above: the traffic on which no detector may alert.
pub fn benign_captures() -> Vec<PathBuf> {
    let mut v = benign_dir_captures();
    v.extend(chrissanders_benign());
    v
}
