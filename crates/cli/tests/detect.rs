//! Detection from the command line: EVE `alert` events, the live alert line, the summary,
//! `--fail-on-alert`, `--no-detect`, and configuration errors with their position.
#![allow(clippy::unwrap_used)]

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

fn fixture(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../../testdata/pcap")
        .join(name)
}

fn wirescope(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_wirescope"))
        .args(args)
        .output()
        .unwrap()
}

fn tmp(name: &str) -> PathBuf {
    std::env::temp_dir().join(format!("wirescope-detect-{}-{name}", std::process::id()))
}

#[test]
fn teardrop_alert_in_eve_with_evidence() {
    let eve = tmp("teardrop.eve");
    let f = fixture("teardrop.pcap");
    let out = wirescope(&["-r", f.to_str().unwrap(), "--eve", eve.to_str().unwrap()]);
    assert!(out.status.success());
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains("ALERT [protocol_anomaly:overlapping_fragments]"),
        "{stderr}"
    );
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(stdout.contains("Alerts: 1"), "{stdout}");
    let text = std::fs::read_to_string(&eve).unwrap();
    let alerts: Vec<serde_json::Value> = text
        .lines()
        .map(|l| serde_json::from_str::<serde_json::Value>(l).unwrap())
        .filter(|v| v["event_type"] == "alert")
        .collect();
    assert_eq!(alerts.len(), 1, "{text}");
    let a = &alerts[0];
    assert_eq!(a["src_ip"], "10.1.1.1");
    assert_eq!(a["dest_ip"], "129.111.30.27");
    assert_eq!(a["alert"]["detector"], "protocol_anomaly");
    assert_eq!(a["alert"]["kind"], "overlapping_fragments");
    assert_eq!(a["alert"]["signature_id"], 9_014_003);
    assert_eq!(a["alert"]["status"], "new");
    assert_eq!(a["alert"]["evidence"]["packets"], 1);
    assert!(a["timestamp"].as_str().unwrap().starts_with("1999-"));
    std::fs::remove_file(eve).ok();
}

#[test]
fn fail_on_alert_sets_exit_code_4_only_when_alerted() {
    let f = fixture("teardrop.pcap");
    let out = wirescope(&["-q", "--fail-on-alert", "-r", f.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(4));
    let out = wirescope(&["-q", "-r", f.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(0));
    let out = wirescope(&[
        "-q",
        "--fail-on-alert",
        "--no-detect",
        "-r",
        f.to_str().unwrap(),
    ]);
    assert_eq!(out.status.code(), Some(0));
    let g = fixture("dns-tcp.pcap");
    let out = wirescope(&["-q", "--fail-on-alert", "-r", g.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(0));
}

#[test]
fn json_report_lists_alerts_and_detector_state() {
    let f = fixture("teardrop.pcap");
    let out = wirescope(&["--json", "-r", f.to_str().unwrap()]);
    assert!(out.status.success());
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(v["alerts"].as_array().unwrap().len(), 1);
    assert_eq!(v["alerts"][0]["status"], "closed");
    assert_eq!(v["detection"]["manager"]["raised_total"], 1);
    assert!(v["detection"]["detectors"]["port_scan"]["capacity"].is_u64());
}

#[test]
fn allow_list_in_config_silences_the_alert() {
    let cfg = tmp("allow.toml");
    std::fs::write(
        &cfg,
        "[[alerts.allow]]\ncidr = \"10.1.1.0/24\"\nside = \"src\"\ndetector = \"protocol_anomaly\"\n",
    )
    .unwrap();
    let f = fixture("teardrop.pcap");
    let out = wirescope(&[
        "--json",
        "--config",
        cfg.to_str().unwrap(),
        "-r",
        f.to_str().unwrap(),
    ]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(v["alerts"].as_array().unwrap().len(), 0);
    assert_eq!(v["detection"]["manager"]["allowed_total"], 1);
    std::fs::remove_file(cfg).ok();
}

#[test]
fn config_errors_name_file_line_and_key() {
    let cfg = tmp("bad.toml");
    std::fs::write(
        &cfg,
        "[alerts]\nidle_close_s = 60\n\n[detectors.port_scan]\nenabeld = true\n",
    )
    .unwrap();
    let f = fixture("teardrop.pcap");
    let out = wirescope(&["--config", cfg.to_str().unwrap(), "-r", f.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8_lossy(&out.stderr);
    let want = format!("{}:5:1: key `detectors.port_scan.enabeld`", cfg.display());
    assert!(err.contains(&want), "{err}");
    assert!(err.contains("unknown field"), "{err}");

    std::fs::write(&cfg, "[[alerts.allow]]\ncidr = \"10.1.1.0/33\"\n").unwrap();
    let out = wirescope(&["--config", cfg.to_str().unwrap(), "-r", f.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("alerts.allow") && err.contains("10.1.1.0/33"),
        "{err}"
    );
    std::fs::remove_file(cfg).ok();
}

#[test]
fn print_config_is_a_valid_config() {
    let out = wirescope(&["--print-config"]);
    assert!(out.status.success());
    let text = String::from_utf8(out.stdout).unwrap();
    assert!(text.contains("[detectors.port_scan]"), "{text}");
    let cfg = tmp("printed.toml");
    std::fs::write(&cfg, &text).unwrap();
    let f = fixture("teardrop.pcap");
    let out = wirescope(&[
        "-q",
        "--config",
        cfg.to_str().unwrap(),
        "-r",
        f.to_str().unwrap(),
    ]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    std::fs::remove_file(cfg).ok();
}

#[test]
fn learning_mode_proposes_an_allow_list_that_silences_the_run() {
    let f = fixture("teardrop.pcap");
    let proposed = tmp("proposed.toml");
    let out = wirescope(&[
        "-q",
        "-r",
        f.to_str().unwrap(),
        "--propose-allow",
        proposed.to_str().unwrap(),
    ]);
    assert!(out.status.success());
    let text = std::fs::read_to_string(&proposed).unwrap();
    assert!(text.contains("cidr = \"10.1.1.1\""), "{text}");
    assert!(text.contains("detector = \"protocol_anomaly\""), "{text}");
    let out = wirescope(&[
        "-q",
        "--fail-on-alert",
        "--config",
        proposed.to_str().unwrap(),
        "-r",
        f.to_str().unwrap(),
    ]);
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    std::fs::remove_file(proposed).ok();
}
