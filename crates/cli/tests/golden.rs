//! Golden tests: every capture in `testdata/pcap` → the `--json` report, the EVE events, the
//! Zeek-style conn.log, stderr and the exit code, compared with `testdata/golden/<name>.*`.
//!
//! After an intended change, rewrite the goldens with `WIRESCOPE_BLESS=1 cargo test --test
//! golden` and review the diff like code.
#![allow(clippy::unwrap_used)]

use std::path::{Path, PathBuf};
use std::process::Command;

fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

fn fixtures() -> Vec<PathBuf> {
    let dir = root().join("testdata/pcap");
    let mut v: Vec<PathBuf> = std::fs::read_dir(&dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|e| e == "pcap" || e == "pcapng"))
        .collect();
    v.sort();
    assert!(
        v.len() >= 12,
        "expected a dozen fixtures in {}",
        dir.display()
    );
    v
}

/// Runs wirescope on one fixture (from inside testdata/pcap, so names are relative) with the
/// given extra arguments; returns (files produced, name → content).
fn outputs(pcap: &Path, extra: &[&str]) -> Vec<(String, String)> {
    let name = pcap.file_name().unwrap().to_str().unwrap().to_string();
    let tmp = std::env::temp_dir().join(format!("wirescope-golden-{}-{name}", std::process::id()));
    let _ = std::fs::remove_dir_all(&tmp);
    std::fs::create_dir_all(&tmp).unwrap();
    let eve = tmp.join("eve.json");
    let zeek = tmp.join("zeek");
    let out = Command::new(env!("CARGO_BIN_EXE_wirescope"))
        .current_dir(pcap.parent().unwrap())
        .args(["--json", "-r", &name, "--eve"])
        .arg(&eve)
        .arg("--zeek-dir")
        .arg(&zeek)
        .args(extra)
        .output()
        .unwrap();
    let mut files = vec![
        ("json".to_string(), String::from_utf8(out.stdout).unwrap()),
        (
            "status".to_string(),
            format!(
                "exit {}\n{}",
                out.status.code().unwrap_or(-1),
                String::from_utf8(out.stderr).unwrap()
            ),
        ),
        (
            "eve.json".to_string(),
            std::fs::read_to_string(&eve).unwrap_or_default(),
        ),
    ];
    // conn.log and every application log written (dns, http, ssl, ssh, dhcp), by name.
    let mut logs: Vec<PathBuf> = std::fs::read_dir(&zeek)
        .map(|d| d.filter_map(|e| e.ok().map(|e| e.path())).collect())
        .unwrap_or_default();
    logs.sort();
    for p in logs {
        let name = p.file_name().unwrap().to_string_lossy().into_owned();
        files.push((name, std::fs::read_to_string(&p).unwrap_or_default()));
    }
    files.retain(|(_, c)| !c.is_empty());
    let _ = std::fs::remove_dir_all(&tmp);
    files
}

#[test]
fn goldens_match() {
    let bless = std::env::var_os("WIRESCOPE_BLESS").is_some();
    let golden_dir = root().join("testdata/golden");
    std::fs::create_dir_all(&golden_dir).unwrap();
    let mut failures = Vec::new();
    let mut compared = 0;
    for pcap in fixtures() {
        let stem = pcap.file_name().unwrap().to_str().unwrap().to_string();
        for (kind, got) in outputs(&pcap, &[]) {
            let path = golden_dir.join(format!("{stem}.{kind}"));
            if bless {
                std::fs::write(&path, &got).unwrap();
                continue;
            }
            let want = std::fs::read_to_string(&path).unwrap_or_else(|_| {
                panic!(
                    "missing golden {}; run with WIRESCOPE_BLESS=1",
                    path.display()
                )
            });
            compared += 1;
            if want != got {
                let line = want
                    .lines()
                    .zip(got.lines())
                    .position(|(a, b)| a != b)
                    .unwrap_or(want.lines().count().min(got.lines().count()));
                failures.push(format!(
                    "{}: first difference at line {}:\n  want: {}\n  got:  {}",
                    path.display(),
                    line + 1,
                    want.lines().nth(line).unwrap_or("<end>"),
                    got.lines().nth(line).unwrap_or("<end>")
                ));
            }
        }
    }
    assert!(
        failures.is_empty(),
        "{} golden mismatches:\n{}",
        failures.len(),
        failures.join("\n")
    );
    assert!(
        bless || compared >= 4 * 12,
        "only {compared} golden files compared"
    );
}
