//! `web_attack` on real captures: DVWA attacks (chrissanders), nDPI's web-attack captures;
//! no alert on benign HTTP.
#![allow(clippy::unwrap_used)]
mod common;

use std::net::IpAddr;
use wirescope_detect::{Alert, DetectorId};

fn web(path: &str) -> Vec<Alert> {
    let alerts = common::run(&common::corpus_file(path));
    common::of(&alerts, DetectorId::WebAttack)
        .into_iter()
        .cloned()
        .collect()
}

fn ip(s: &str) -> IpAddr {
    s.parse().unwrap()
}

#[test]
fn dvwa_sql_injection() {
    for f in [
        "attacks/chrissanders-packets/http_dvwa_sqlinjection.pcapng",
        "attacks/chrissanders-packets/http_dvwa_sqlinjection_passwords.pcapng",
    ] {
        let a = web(f);
        let sqli: Vec<_> = a.iter().filter(|a| a.kind == "sqli").collect();
        assert_eq!(sqli.len(), 1, "{f}: {}", common::describe(&a));
        let s = sqli[0];
        assert_eq!(s.src.unwrap().ip, ip("10.2.2.101"), "{f}");
        assert_eq!(s.dst.unwrap().ip, ip("10.2.2.104"), "{f}");
        assert!(s.evidence["requests"].as_u64().unwrap() >= 1);
        assert!(!s.evidence["rules"].as_array().unwrap().is_empty());
        assert!(s.evidence["example_uri"].as_str().unwrap().contains("id="));
        eprintln!("{f}: delay {:.3}s {}", s.delay_s(), common::describe(&a));
    }
}

#[test]
fn dvwa_directory_traversal() {
    let a = web("attacks/chrissanders-packets/http_dvwa_directorytraversal.pcapng");
    let t: Vec<_> = a.iter().filter(|a| a.kind == "path_traversal").collect();
    assert_eq!(t.len(), 1, "{}", common::describe(&a));
    assert_eq!(t[0].src.unwrap().ip, ip("10.2.2.101"));
    assert_eq!(t[0].dst.unwrap().ip, ip("10.2.2.104"));
    eprintln!("{}", common::describe(&a));
}

const NDPI: &str = "robustness/nDPI-tests/tests/cfgs/default/pcap/";

#[test]
fn ndpi_web_attack_captures() {
    for (f, kind) in [
        ("WebattackSQLinj.pcap", "sqli"),
        ("sql_injection.pcap", "sqli"),
        ("xss.pcap", "xss"),
        ("WebattackRCE.pcap", "command_injection"),
        ("log4j-webapp-exploit.pcap", "log4shell"),
    ] {
        let a = web(&format!("{NDPI}{f}"));
        eprintln!("{f}:\n{}", common::describe(&a));
        assert!(
            a.iter().any(|a| a.kind == kind),
            "{f}: no {kind}: {}",
            common::describe(&a)
        );
    }
}

#[test]
fn benign_http_captures_do_not_alert() {
    for f in [
        "attacks/chrissanders-packets/http_espn.pcapng",
        "attacks/chrissanders-packets/http_google.pcapng",
        "attacks/chrissanders-packets/http_post.pcapng",
        "attacks/chrissanders-packets/http_dvwa_clearlogin.pcapng",
        "attacks/chrissanders-packets/http_ip4and6.pcapng",
        "attacks/chrissanders-packets/http_espn_fail.pcapng",
    ] {
        let a = web(f);
        assert!(a.is_empty(), "{f}: {}", common::describe(&a));
    }
}

#[test]
fn benign_corpus_has_no_alerts() {
    let mut bad = Vec::new();
    for p in common::benign_captures() {
        let a = common::run(&p);
        let mine: Vec<Alert> = common::of(&a, DetectorId::WebAttack)
            .into_iter()
            .cloned()
            .collect();
        if !mine.is_empty() {
            bad.push(format!("{}: {}", p.display(), common::describe(&mine)));
        }
    }
    assert!(bad.is_empty(), "{}", bad.join("\n"));
}

/// Manual audit (`cargo test --test web_attack -- --ignored corpus_audit --nocapture`):
/// every capture of the corpus, with the alerts of `web_attack`, `brute_force`, `slowloris`
/// and the MANIFEST label, to review false positives by hand.
#[test]
#[ignore]
fn corpus_audit() {
    let root = common::corpus();
    let manifest = std::fs::read_to_string(root.join("MANIFEST.tsv")).unwrap();
    let label: std::collections::HashMap<&str, &str> = manifest
        .lines()
        .filter_map(|l| {
            let f: Vec<&str> = l.split('\t').collect();
            (f.len() > 8).then(|| (f[1], f[8]))
        })
        .collect();
    let mut stack = vec![root.clone()];
    let mut files = Vec::new();
    while let Some(d) = stack.pop() {
        for e in std::fs::read_dir(&d).unwrap() {
            let p = e.unwrap().path();
            if p.is_dir() {
                stack.push(p);
            } else if p
                .extension()
                .is_some_and(|x| x == "pcap" || x == "pcapng" || x == "cap")
            {
                files.push(p);
            }
        }
    }
    files.sort();
    for p in files {
        let Ok(a) = std::panic::catch_unwind(|| common::run(&p)) else {
            eprintln!("PANIC {}", p.display());
            continue;
        };
        let mine: Vec<Alert> = a
            .into_iter()
            .filter(|a| {
                matches!(
                    a.detector,
                    DetectorId::WebAttack | DetectorId::BruteForce | DetectorId::Slowloris
                )
            })
            .collect();
        if mine.is_empty() {
            continue;
        }
        let rel = p.strip_prefix(&root).unwrap().to_string_lossy().to_string();
        let l: String = label
            .get(rel.as_str())
            .unwrap_or(&"")
            .chars()
            .take(120)
            .collect();
        eprintln!("== {rel} [{l}]");
        for a in &mine {
            let d = common::describe(std::slice::from_ref(a));
            eprintln!("  {}", d.chars().take(400).collect::<String>());
        }
    }
}

/// The Log4Shell payload of nDPI's capture is in a POST body as well as in the User-Agent:
/// the body prefix is inspected (evidence `in_body`).
#[test]
fn request_body_is_inspected() {
    let a = web("robustness/nDPI-tests/tests/cfgs/default/pcap/log4j-webapp-exploit.pcap");
    let l: Vec<&Alert> = a.iter().filter(|a| a.kind == "log4shell").collect();
    assert_eq!(l.len(), 1, "{}", common::describe(&a));
    assert_eq!(l[0].evidence["in_body"], serde_json::json!(true));
}
