//! The application layer from the command line: identification by content, `--no-app`, the
//! Zeek `service` column, and the summary's top names.
#![allow(clippy::unwrap_used)]

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

fn fixture(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../../testdata/pcap")
        .join(name)
}

fn wirescope(args: &[&str]) -> Output {
    let out = Command::new(env!("CARGO_BIN_EXE_wirescope"))
        .args(args)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    out
}

fn tmp(name: &str) -> PathBuf {
    std::env::temp_dir().join(format!("wirescope-app-{}-{name}", std::process::id()))
}

fn eve(pcap: &str, extra: &[&str]) -> Vec<serde_json::Value> {
    let path = tmp(&format!("{pcap}.{}.eve", extra.len()));
    let f = fixture(pcap);
    let mut args = vec![
        "-q",
        "-r",
        f.to_str().unwrap(),
        "--eve",
        path.to_str().unwrap(),
    ];
    args.extend_from_slice(extra);
    wirescope(&args);
    let text = std::fs::read_to_string(&path).unwrap();
    let _ = std::fs::remove_file(&path);
    text.lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect()
}

fn of_type<'a>(events: &'a [serde_json::Value], t: &str) -> Vec<&'a serde_json::Value> {
    events.iter().filter(|e| e["event_type"] == t).collect()
}

#[test]
fn http_is_identified_by_content_on_any_port() {
    let events = eve("arkime_synthetic.pcap", &[]);
    // WinRM speaks HTTP on 5985: found by its request line, not its port.
    let winrm: Vec<_> = of_type(&events, "http")
        .into_iter()
        .filter(|e| e["dest_port"] == 5985)
        .collect();
    assert!(!winrm.is_empty(), "no HTTP on port 5985");
    assert_eq!(winrm[0]["http"]["http_method"], "POST");
    assert_eq!(winrm[0]["app_proto"], "http");
    // SIP shares method names with HTTP (NOTIFY, SUBSCRIBE, OPTIONS) but is not HTTP.
    assert!(
        of_type(&events, "http")
            .iter()
            .all(|e| e["dest_port"] != 5060),
        "SIP taken for HTTP"
    );
    // The flow events carry the identified protocol.
    let flows = of_type(&events, "flow");
    assert!(flows
        .iter()
        .any(|f| f["dest_port"] == 5985 && f["app_proto"] == "http"));
    assert!(flows
        .iter()
        .any(|f| f["dest_port"] == 443 && f["app_proto"] == "tls"));
}

#[test]
fn no_app_turns_the_application_layer_off() {
    let f = fixture("arkime_synthetic.pcap");
    let out = wirescope(&["--json", "--no-app", "-r", f.to_str().unwrap()]);
    let report: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert!(report["app"].is_null());
    let events = eve("arkime_synthetic.pcap", &["--no-app"]);
    for t in ["dns", "http", "tls", "ssh", "dhcp", "arp"] {
        assert!(of_type(&events, t).is_empty(), "{t} events with --no-app");
    }
    assert!(!of_type(&events, "flow").is_empty());
    // And on: every kind of event the fixture holds.
    let events = eve("arkime_synthetic.pcap", &[]);
    for t in ["dns", "http", "tls", "ssh", "dhcp", "arp"] {
        assert!(!of_type(&events, t).is_empty(), "no {t} events");
    }
}

#[test]
fn zeek_service_and_application_logs() {
    let dir = tmp("zeek");
    let f = fixture("arkime_synthetic.pcap");
    wirescope(&[
        "-q",
        "-r",
        f.to_str().unwrap(),
        "--zeek-dir",
        dir.to_str().unwrap(),
    ]);
    let conn = std::fs::read_to_string(dir.join("conn.log")).unwrap();
    let services: std::collections::BTreeSet<&str> = conn
        .lines()
        .filter(|l| !l.starts_with('#'))
        .map(|l| l.split('\t').nth(7).unwrap())
        .collect();
    for s in ["http", "ssl", "dns", "ssh", "dhcp", "-"] {
        assert!(
            services.contains(s),
            "no service {s} in conn.log: {services:?}"
        );
    }
    for log in ["dns", "http", "ssl", "ssh", "dhcp"] {
        let text = std::fs::read_to_string(dir.join(format!("{log}.log"))).unwrap();
        assert!(text.contains(&format!("#path\t{log}\n")));
        assert!(text.lines().filter(|l| !l.starts_with('#')).count() > 0);
    }
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn stream_depth_limits_what_parsers_see() {
    let f = fixture("openssl-tls1_2.pcap");
    let full = wirescope(&["--json", "-r", f.to_str().unwrap()]);
    let full: serde_json::Value = serde_json::from_slice(&full.stdout).unwrap();
    assert_eq!(full["app"]["tls"]["sessions"], 1);
    assert_eq!(full["app"]["reassembly"]["depth_reached"], 0);
    // 100 bytes: the ClientHello is cut, so no session can be parsed, and the cut is counted.
    let cut = wirescope(&["--json", "--stream-depth", "100", "-r", f.to_str().unwrap()]);
    let cut: serde_json::Value = serde_json::from_slice(&cut.stdout).unwrap();
    assert!(cut["app"]["reassembly"]["depth_reached"].as_u64().unwrap() >= 1);
    assert!(cut["app"]["tls"]["top_sni"].as_array().unwrap().is_empty());
}

#[test]
fn summary_shows_names_and_the_arp_table() {
    let f = fixture("arkime_synthetic.pcap");
    let out = wirescope(&["-r", f.to_str().unwrap()]);
    let text = String::from_utf8(out.stdout).unwrap();
    for section in [
        "Top DNS names",
        "Top HTTP hosts",
        "Top TLS SNIs",
        "ARP table",
        "ICMP messages",
        "Application   flows:",
    ] {
        assert!(text.contains(section), "no '{section}' in:\n{text}");
    }
}
