//! Detection against ground truth, from the command line (`wirescope --json`):
//!
//! - the labelled attack captures of the shared corpus (`testdata/detection/corpus.tsv`);
//! - the lab: captures made by real tools between network namespaces (`lab/`, needs root);
//! - no alert at all on `corpus/benign` and on the corpus's unlabelled sample captures.
//!
//! Each run writes a table (expected class, detected, packets and seconds of packet time from
//! onset to alert, other alerts) to `target/detection-<set>.md`; `docs/DETECTION.md` records
//! it.
#![allow(clippy::unwrap_used)]

use std::collections::BTreeSet;
use std::fmt::Write as _;
use std::net::IpAddr;
use std::path::{Path, PathBuf};
use std::process::Command;
use wirescope_capture::CaptureReader;
use wirescope_testkit::corpus::{self, repo_root};

/// One expected detection.
#[derive(Clone, Debug)]
struct Truth {
    capture: PathBuf,
    classes: Vec<String>,
    attacker: Option<IpAddr>,
    victim: Option<IpAddr>,
    /// Onset from the ground truth (lab: the wall clock when the tool started).
    start: Option<f64>,
    must: bool,
    note: String,
}

/// An alert as `--json` reports it.
#[derive(Clone, Debug)]
struct Seen {
    detector: String,
    kind: String,
    src: Option<IpAddr>,
    dst: Option<IpAddr>,
    raised: f64,
}

fn ip(s: &str) -> Option<IpAddr> {
    if s == "*" {
        None
    } else {
        Some(s.parse().unwrap_or_else(|_| panic!("bad address {s:?}")))
    }
}

fn alerts(capture: &Path, extra: &[&str]) -> Vec<Seen> {
    let out = Command::new(env!("CARGO_BIN_EXE_wirescope"))
        .args(["--json", "-r"])
        .arg(capture)
        .args(extra)
        .output()
        .unwrap();
    assert!(
        out.status.code() == Some(0) || out.status.code() == Some(1),
        "{}: {}",
        capture.display(),
        String::from_utf8_lossy(&out.stderr)
    );
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let addr = |e: &serde_json::Value| e["ip"].as_str().map(|s| s.parse().unwrap());
    v["alerts"]
        .as_array()
        .unwrap()
        .iter()
        .map(|a| Seen {
            detector: a["detector"].as_str().unwrap().to_string(),
            kind: a["kind"].as_str().unwrap().to_string(),
            src: addr(&a["src"]),
            dst: addr(&a["dst"]),
            raised: a["raised"].as_f64().unwrap(),
        })
        .collect()
}

/// A class is a detector id, or `detector:kind` when the kind is part of the truth.
fn matches(t: &Truth, a: &Seen) -> bool {
    t.classes.iter().any(|c| match c.split_once(':') {
        Some((d, k)) => *d == a.detector && *k == a.kind,
        None => *c == a.detector,
    }) && t.attacker.is_none_or(|x| a.src == Some(x))
        && t.victim.is_none_or(|x| a.dst == Some(x))
}

/// What a scan probe touches: (protocol, destination, port); ARP requests as protocol 0
/// with the target address. Multicast destinations (neighbour discovery) are no probes.
type Probe = (u8, IpAddr, u16);

/// Packet times of the attack's packets: from the attacker (or, for a spoofed or unknown
/// attacker, to the victim; for neither, every packet), ARP by its protocol addresses; each
/// with the probe it is, if any.
fn attack_packets(t: &Truth) -> Vec<(f64, Option<Probe>)> {
    let mut r = CaptureReader::open(&t.capture).unwrap();
    let mut out = Vec::new();
    while r.advance().unwrap_or(false) {
        let f = r.current();
        let p = wirescope_wire::decode_frame(&f);
        let (src, dst) = match (p.ip, p.arp) {
            (Some(ip), _) => (Some(ip.src), Some(ip.dst)),
            (None, Some(a)) => (
                Some(IpAddr::from(a.sender_ip)),
                Some(IpAddr::from(a.target_ip)),
            ),
            _ => (None, None),
        };
        let hit = match (t.attacker, t.victim) {
            (Some(a), _) => src == Some(a),
            (None, Some(v)) => dst == Some(v),
            (None, None) => true,
        };
        if hit {
            let probe = match (p.ip, p.arp, p.transport) {
                (Some(ip), _, _) if ip.dst.is_multicast() => None,
                (Some(ip), _, wirescope_wire::Transport::Tcp(tcp)) => {
                    Some((6, ip.dst, tcp.dst_port))
                }
                (Some(ip), _, wirescope_wire::Transport::Udp(udp)) => {
                    Some((17, ip.dst, udp.dst_port))
                }
                (Some(ip), _, _) => Some((ip.proto.0, ip.dst, 0)),
                (None, Some(a), _) if a.op == 1 => Some((0, IpAddr::from(a.target_ip), 0)),
                _ => None,
            };
            out.push((f.ts.as_secs_f64(), probe));
        }
    }
    out
}

struct Row {
    capture: String,
    expected: String,
    detected: String,
    ok: bool,
    packets: Option<usize>,
    /// Scans: distinct probes (protocol, destination, port) from onset to the alert; ARP
    /// requests count for host sweeps only.
    probes: Option<usize>,
    seconds: Option<f64>,
    others: String,
    note: String,
}

fn evaluate(truths: &[Truth], extra: &[&str]) -> Vec<Row> {
    let mut rows = Vec::new();
    let mut by_capture: Vec<(PathBuf, Vec<&Truth>)> = Vec::new();
    for t in truths {
        match by_capture.iter_mut().find(|(p, _)| *p == t.capture) {
            Some((_, v)) => v.push(t),
            None => by_capture.push((t.capture.clone(), vec![t])),
        }
    }
    for (capture, ts) in by_capture {
        let seen = alerts(&capture, extra);
        let name = capture
            .strip_prefix(corpus::dir())
            .or_else(|_| capture.strip_prefix(repo_root()))
            .unwrap_or(&capture)
            .display()
            .to_string();
        let others: BTreeSet<String> = seen
            .iter()
            .filter(|a| !ts.iter().any(|t| matches(t, a)))
            .map(|a| format!("{}:{}", a.detector, a.kind))
            .collect();
        for t in ts {
            let hit = seen
                .iter()
                .filter(|a| matches(t, a))
                .min_by(|a, b| a.raised.total_cmp(&b.raised));
            let (packets, probes, seconds) = match hit {
                Some(a) => {
                    let pkts = attack_packets(t);
                    let onset = pkts
                        .iter()
                        .map(|x| x.0)
                        .find(|x| t.start.is_none_or(|s| *x >= s))
                        .unwrap_or(a.raised);
                    let window = || pkts.iter().filter(|x| x.0 >= onset && x.0 <= a.raised);
                    let scan = a.detector == "port_scan";
                    let sweep = a.kind == "host_sweep";
                    let probes = scan.then(|| {
                        window()
                            .filter_map(|x| x.1)
                            .filter(|p| p.0 != 0 || sweep)
                            .collect::<BTreeSet<_>>()
                            .len()
                    });
                    (
                        Some(window().count()),
                        probes,
                        Some((a.raised - onset).max(0.0)),
                    )
                }
                None => (None, None, None),
            };
            rows.push(Row {
                capture: name.clone(),
                expected: format!(
                    "{} {} → {}",
                    t.classes.join("|"),
                    t.attacker.map_or("*".into(), |a| a.to_string()),
                    t.victim.map_or("*".into(), |a| a.to_string())
                ),
                detected: hit.map_or("—".into(), |a| format!("{}:{}", a.detector, a.kind)),
                ok: hit.is_some() == t.must,
                packets,
                probes,
                seconds,
                others: others.iter().cloned().collect::<Vec<_>>().join(", "),
                note: t.note.clone(),
            });
        }
    }
    rows
}

fn report(set: &str, rows: &[Row]) -> String {
    let mut s = String::new();
    let _ = writeln!(
        s,
        "| capture | expected | detected | packets to alert | probes to alert | seconds to alert | other alerts | note |\n|---|---|---|---|---|---|---|---|"
    );
    for r in rows {
        let _ = writeln!(
            s,
            "| {} | {} | {} | {} | {} | {} | {} | {} |",
            r.capture,
            r.expected,
            r.detected,
            r.packets.map_or("—".into(), |n| n.to_string()),
            r.probes.map_or("—".into(), |n| n.to_string()),
            r.seconds.map_or("—".into(), |x| format!("{x:.3}")),
            if r.others.is_empty() {
                "none"
            } else {
                &r.others
            },
            r.note
        );
    }
    let path = repo_root().join(format!("target/detection-{set}.md"));
    std::fs::create_dir_all(path.parent().unwrap()).unwrap();
    std::fs::write(&path, &s).unwrap();
    eprintln!("wrote {}", path.display());
    s
}

fn parse_tsv(text: &str, base: &Path, capture_col: bool, capture: Option<&Path>) -> Vec<Truth> {
    let mut out = Vec::new();
    for line in text.lines() {
        if line.starts_with('#') || line.trim().is_empty() {
            continue;
        }
        let c: Vec<&str> = line.split('\t').collect();
        if c[0] == "file" || c[0] == "class" {
            continue;
        }
        if capture_col {
            // file class attacker victim status note
            out.push(Truth {
                capture: base.join(c[0]),
                classes: c[1].split('|').map(String::from).collect(),
                attacker: ip(c[2]),
                victim: ip(c[3]),
                start: None,
                must: c[4] == "must",
                note: c.get(5).unwrap_or(&"").to_string(),
            });
        } else {
            // class attacker victim start end note
            out.push(Truth {
                capture: capture.unwrap().to_path_buf(),
                classes: c[0].split('|').map(String::from).collect(),
                attacker: ip(c[1]),
                victim: ip(c[2]),
                start: c.get(3).and_then(|s| s.parse().ok()),
                must: true,
                note: c.get(5).unwrap_or(&"").to_string(),
            });
        }
    }
    out
}

fn assert_rows(set: &str, rows: &[Row], table: &str) {
    let bad: Vec<&Row> = rows.iter().filter(|r| !r.ok).collect();
    assert!(
        bad.is_empty(),
        "{set}: {} expectation(s) not met:\n{}\n\nfull table:\n{table}",
        bad.len(),
        bad.iter()
            .map(|r| format!(
                "  {} expected {} detected {}",
                r.capture, r.expected, r.detected
            ))
            .collect::<Vec<_>>()
            .join("\n")
    );
}

#[test]
fn labelled_corpus_attacks_are_detected() {
    let text = std::fs::read_to_string(repo_root().join("testdata/detection/corpus.tsv")).unwrap();
    let truths = parse_tsv(&text, &corpus::dir(), true, None);
    assert!(truths.len() >= 20);
    let rows = evaluate(&truths, &[]);
    let table = report("corpus", &rows);
    assert_rows("corpus", &rows, &table);
}

/// Every capture under `dir` with a capture extension, sorted.
fn captures(dir: &Path) -> Vec<PathBuf> {
    let mut files = Vec::new();
    let mut stack = vec![dir.to_path_buf()];
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
    files
}

#[test]
fn no_alert_on_benign_traffic() {
    let c = corpus::dir();
    let mut files = captures(&c.join("benign"));
    assert!(files.len() > 50, "benign corpus incomplete");
    // The sample captures among the attack folders that MANIFEST.tsv does not label as an
    // attack or malware (DNS, HTTP, TCP behaviour, mail, DHCP, ARP resolution...).
    let manifest = std::fs::read_to_string(c.join("MANIFEST.tsv")).unwrap();
    for line in manifest.lines() {
        let col: Vec<&str> = line.split('\t').collect();
        if col.len() > 8
            && col[1].starts_with("attacks/chrissanders-packets/")
            && !col[5].is_empty()
            && !col[8].contains("ATTACK")
            && !col[8].contains("MALWARE")
            && !col[1].contains("80211")
        {
            files.push(c.join(col[1]));
        }
    }
    let mut noisy = Vec::new();
    for f in &files {
        for a in alerts(f, &[]) {
            noisy.push(format!(
                "{}: {}:{} {:?} -> {:?}",
                f.strip_prefix(&c).unwrap_or(f).display(),
                a.detector,
                a.kind,
                a.src,
                a.dst
            ));
        }
    }
    assert!(
        noisy.is_empty(),
        "{} false alert(s) over {} benign captures:\n{}",
        noisy.len(),
        files.len(),
        noisy.join("\n")
    );
}

/// The lab: `lab/run-all.sh` builds network namespaces, runs the real tools and writes
/// SCENARIO.pcap + SCENARIO.truth into `target/lab`. Needs root (CI runs as root); set
/// `WIRESCOPE_NO_LAB=1` to leave it out on a workstation — it is never skipped silently.
#[test]
fn lab_scenarios_raise_the_right_alerts_and_benign_ones_none() {
    if std::env::var_os("WIRESCOPE_NO_LAB").is_some() {
        eprintln!("WIRESCOPE_NO_LAB is set: the lab scenarios were NOT run");
        return;
    }
    let uid = Command::new("id").arg("-u").output().unwrap();
    assert_eq!(
        String::from_utf8_lossy(&uid.stdout).trim(),
        "0",
        "the lab needs root (network namespaces); run as root or set WIRESCOPE_NO_LAB=1"
    );
    let out_dir = repo_root().join("target/lab");
    let marker = out_dir.join(".complete");
    if !marker.exists() {
        let st = Command::new(repo_root().join("lab/run-all.sh"))
            .arg(&out_dir)
            .status()
            .unwrap();
        assert!(st.success(), "lab/run-all.sh failed");
        std::fs::write(&marker, b"").unwrap();
    }
    let mut truths = Vec::new();
    let mut benign = Vec::new();
    let mut scenarios = 0;
    for e in std::fs::read_dir(&out_dir).unwrap() {
        let p = e.unwrap().path();
        if p.extension().is_some_and(|x| x == "truth") {
            scenarios += 1;
            let pcap = p.with_extension("pcap");
            assert!(pcap.is_file(), "{} has no capture", p.display());
            let text = std::fs::read_to_string(&p).unwrap();
            let t = parse_tsv(&text, &out_dir, false, Some(&pcap));
            if t.is_empty() {
                benign.push(pcap);
            } else {
                truths.extend(t);
            }
        }
    }
    assert!(scenarios >= 20, "only {scenarios} lab scenarios");
    truths.sort_by(|a, b| a.capture.cmp(&b.capture));
    let rows = evaluate(&truths, &[]);
    let mut table = report("lab", &rows);
    let mut noisy = Vec::new();
    benign.sort();
    for f in &benign {
        let seen = alerts(f, &[]);
        let _ = writeln!(
            table,
            "| {} | none | {} | — | — | — | — | benign |",
            f.file_name().unwrap().to_string_lossy(),
            if seen.is_empty() {
                "none".to_string()
            } else {
                format!("{} alerts", seen.len())
            }
        );
        for a in seen {
            noisy.push(format!("{}: {}:{}", f.display(), a.detector, a.kind));
        }
    }
    std::fs::write(repo_root().join("target/detection-lab.md"), &table).unwrap();
    assert!(
        noisy.is_empty(),
        "false alerts in benign lab scenarios:\n{}",
        noisy.join("\n")
    );
    assert_rows("lab", &rows, &table);
}

/// Same input, same alerts: two runs give byte-identical alert events (ids, order, evidence).
/// (Offline analysis has one worker; with live capture's workers the same test applies.)
#[test]
fn alerts_are_deterministic() {
    let c = corpus::dir();
    for rel in [
        "attacks/StopDDoS-packet-captures/pkt.TCP.synflood.spoofed.pcap",
        "attacks/markfvl-Pcaphunt/test/ps-tcp_syn.pcap",
        "attacks/Trace-Share-Dataset/SSH-Hydra/hydra-4_tasks.pcap",
    ] {
        let run = |n: u32| {
            let eve =
                std::env::temp_dir().join(format!("wirescope-det-{}-{n}.eve", std::process::id()));
            let st = Command::new(env!("CARGO_BIN_EXE_wirescope"))
                .args(["-q", "-r"])
                .arg(c.join(rel))
                .arg("--eve")
                .arg(&eve)
                .status()
                .unwrap();
            assert!(st.success());
            let text = std::fs::read_to_string(&eve).unwrap();
            std::fs::remove_file(&eve).ok();
            text.lines()
                .filter(|l| l.contains("\"event_type\":\"alert\""))
                .map(String::from)
                .collect::<Vec<_>>()
        };
        let a = run(1);
        assert!(!a.is_empty(), "{rel}: no alert");
        assert_eq!(a, run(2), "{rel}");
    }
}
