//! Helpers shared by the integration tests: where the corpus is, its manifest, reading a
//! capture to the end.
#![allow(
    dead_code,
    clippy::unwrap_used,
    reason = "test helpers; each test uses a subset"
)]

use std::collections::HashMap;
use std::path::{Path, PathBuf};

use wirescope_capture::{CaptureError, CaptureReader};
use wirescope_core::{LinkType, Timestamp};

/// The shared corpus: `$WIRESCOPE_CORPUS`, else `/work/shared/corpus` relative to this crate.
/// A missing corpus fails the test: these tests must never pass by skipping.
pub fn corpus_dir() -> PathBuf {
    let dir = match std::env::var_os("WIRESCOPE_CORPUS") {
        Some(d) => PathBuf::from(d),
        None => Path::new(env!("CARGO_MANIFEST_DIR")).join("../../../shared/corpus"),
    };
    assert!(
        dir.join("MANIFEST.tsv").is_file(),
        "corpus not found at {} (set WIRESCOPE_CORPUS)",
        dir.display()
    );
    dir.canonicalize().unwrap_or(dir)
}

/// A corpus file by its manifest path.
pub fn corpus_file(rel: &str) -> PathBuf {
    let p = corpus_dir().join(rel);
    assert!(p.is_file(), "corpus file missing: {}", p.display());
    p
}

pub struct ManifestRow {
    pub format: String,
    /// capinfos' packet count; `None` for files capinfos cannot read.
    pub packets: Option<u64>,
}

/// `MANIFEST.tsv` keyed by `local_path`.
pub fn manifest() -> HashMap<String, ManifestRow> {
    let text = std::fs::read_to_string(corpus_dir().join("MANIFEST.tsv")).expect("read manifest");
    let mut lines = text.lines();
    let header: Vec<&str> = lines.next().expect("header").split('\t').collect();
    let col = |name: &str| {
        header
            .iter()
            .position(|h| *h == name)
            .expect("manifest column")
    };
    let (path_c, fmt_c, pk_c) = (col("local_path"), col("capture_format"), col("packets"));
    let mut rows = HashMap::new();
    for line in lines {
        let f: Vec<&str> = line.split('\t').collect();
        let (Some(p), Some(fmt), Some(pk)) = (f.get(path_c), f.get(fmt_c), f.get(pk_c)) else {
            continue;
        };
        let packets = if pk.is_empty() {
            None
        } else {
            Some(pk.parse().expect("packets is a number"))
        };
        rows.insert(
            (*p).to_owned(),
            ManifestRow {
                format: (*fmt).to_owned(),
                packets,
            },
        );
    }
    rows
}

/// One packet, owned, for comparisons.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct OwnedFrame {
    pub ts: Timestamp,
    pub wire_len: u32,
    pub link: LinkType,
    pub iface: u32,
    pub data: Vec<u8>,
}

/// Reads a capture to its end: the packets delivered and the error that ended it, if any.
pub fn read_all(r: &mut CaptureReader) -> (Vec<OwnedFrame>, Option<CaptureError>) {
    let mut out = Vec::new();
    loop {
        match r.advance() {
            Ok(true) => {
                let f = r.current();
                out.push(OwnedFrame {
                    ts: f.ts,
                    wire_len: f.wire_len,
                    link: f.link,
                    iface: f.iface,
                    data: f.data.to_vec(),
                });
            }
            Ok(false) => return (out, None),
            Err(e) => {
                // After an error the reader stays finished.
                assert!(
                    matches!(r.advance(), Ok(false)),
                    "{}: advance after an error",
                    r.name()
                );
                return (out, Some(e));
            }
        }
    }
}

/// Counts packets to the end without copying them.
pub fn count_all(r: &mut CaptureReader) -> (u64, Option<CaptureError>) {
    let mut n = 0;
    loop {
        match r.advance() {
            Ok(true) => n += 1,
            Ok(false) => return (n, None),
            Err(e) => return (n, Some(e)),
        }
    }
}

/// Runs a command and returns its stdout; panics with its stderr if it fails.
pub fn run(cmd: &str, args: &[&str]) -> String {
    let out = std::process::Command::new(cmd)
        .args(args)
        .output()
        .unwrap_or_else(|e| panic!("cannot run {cmd} (it must be installed): {e}"));
    assert!(
        out.status.success(),
        "{cmd} {args:?} failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).expect("utf-8 output")
}
