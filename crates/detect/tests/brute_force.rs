//! `brute_force` on real captures (hydra against sshd) and on synthetic FTP sessions; no
//! alert on benign captures (one FTP login, one DVWA login, SSH sessions).
#![allow(clippy::unwrap_used)]
mod common;

use std::net::IpAddr;
use std::path::PathBuf;
use wirescope_detect::config::DetectConfig;
use wirescope_detect::{Alert, DetectorId};
use wirescope_testkit::packet::{tcp_flags as F, PacketBuilder};
use wirescope_testkit::pcap::PcapBuilder;

fn brute(alerts: &[Alert]) -> Vec<Alert> {
    common::of(alerts, DetectorId::BruteForce)
        .into_iter()
        .cloned()
        .collect()
}

fn ip(s: &str) -> IpAddr {
    s.parse().unwrap()
}

#[test]
fn hydra_ssh_is_detected_by_session_shape() {
    for (f, attacker) in [
        ("hydra-1_tasks.pcap", "240.0.1.2"),
        ("hydra-4_tasks.pcap", "240.0.1.3"),
        ("hydra-8_tasks.pcap", "240.0.1.4"),
    ] {
        let p = common::corpus_file(&format!("attacks/Trace-Share-Dataset/SSH-Hydra/{f}"));
        let a = brute(&common::run(&p));
        let ssh: Vec<_> = a.iter().filter(|a| a.kind == "ssh").collect();
        assert_eq!(ssh.len(), 1, "{f}: {}", common::describe(&a));
        let s = ssh[0];
        assert_eq!(s.src.unwrap().ip, ip(attacker), "{f}");
        assert_eq!(s.dst.unwrap().ip, ip("240.125.0.2"), "{f}");
        assert_eq!(s.dst.unwrap().port, Some(22), "{f}");
        let n = s.evidence["failed_sessions"].as_u64().unwrap();
        assert!(n >= 8, "{f}: {n}");
        assert_eq!(s.evidence["method"], "session_shape");
        // One server, one account unknown: not spraying.
        assert!(a.iter().all(|a| a.kind != "password_spray"), "{f}");
        eprintln!(
            "{f}: delay {:.1}s, {}",
            s.delay_s(),
            common::describe(std::slice::from_ref(s))
        );
    }
}

#[test]
fn hydra_ssh_below_threshold_is_quiet() {
    let mut cfg = DetectConfig::default();
    cfg.detectors.brute_force.min_sessions = 1000;
    let p = common::corpus_file("attacks/Trace-Share-Dataset/SSH-Hydra/hydra-1_tasks.pcap");
    let a = brute(&common::run_with(&[p], &cfg));
    assert!(a.is_empty(), "{}", common::describe(&a));
}

/// Writes FTP control sessions from `client` to `server`: per session, USER + PASS then the
/// server's `reply` (530 or 230).
fn ftp_capture(name: &str, sessions: &[(&str, &[u8])], servers: &[[u8; 4]]) -> PathBuf {
    let path =
        std::env::temp_dir().join(format!("wirescope-bf-{}-{name}.pcap", std::process::id()));
    let mut w = PcapBuilder::ethernet(std::fs::File::create(&path).unwrap()).unwrap();
    let mut b = PacketBuilder::new();
    let client = [10, 9, 0, 5];
    let mut ts: u64 = 1_700_000_000_000_000_000;
    for (i, (user, reply)) in sessions.iter().enumerate() {
        let port = 40_001 + i as u16;
        let server = servers[i % servers.len()];
        let (mut cs, mut ss) = (1000u32, 5000u32);
        let mut seg = |w: &mut PcapBuilder<std::fs::File>,
                       ts: &mut u64,
                       from_client: bool,
                       flags: u8,
                       data: &[u8],
                       cs: &mut u32,
                       ss: &mut u32| {
            let (src, dst, seq_ack) = if from_client {
                ((client, port), (server, 21), (*cs, *ss))
            } else {
                ((server, 21), (client, port), (*ss, *cs))
            };
            let macs = ([2, 0, 0, 0, 0, 1], [2, 0, 0, 0, 0, 2]);
            let f = b.tcp4_frame(macs, src, dst, seq_ack, flags, data);
            w.packet(*ts, f).unwrap();
            *ts += 10_000_000;
            let adv = data.len() as u32 + u32::from(flags & (F::SYN | F::FIN) != 0);
            if from_client {
                *cs += adv
            } else {
                *ss += adv
            }
        };
        seg(&mut w, &mut ts, true, F::SYN, b"", &mut cs, &mut ss);
        seg(
            &mut w,
            &mut ts,
            false,
            F::SYN | F::ACK,
            b"",
            &mut cs,
            &mut ss,
        );
        seg(&mut w, &mut ts, true, F::ACK, b"", &mut cs, &mut ss);
        seg(
            &mut w,
            &mut ts,
            false,
            F::PSH | F::ACK,
            b"220 (vsFTPd 3.0.3)\r\n",
            &mut cs,
            &mut ss,
        );
        seg(
            &mut w,
            &mut ts,
            true,
            F::PSH | F::ACK,
            format!("USER {user}\r\n").as_bytes(),
            &mut cs,
            &mut ss,
        );
        seg(
            &mut w,
            &mut ts,
            false,
            F::PSH | F::ACK,
            b"331 Please specify the password.\r\n",
            &mut cs,
            &mut ss,
        );
        seg(
            &mut w,
            &mut ts,
            true,
            F::PSH | F::ACK,
            b"PASS Winter2024\r\n",
            &mut cs,
            &mut ss,
        );
        seg(
            &mut w,
            &mut ts,
            false,
            F::PSH | F::ACK,
            reply,
            &mut cs,
            &mut ss,
        );
        seg(
            &mut w,
            &mut ts,
            true,
            F::FIN | F::ACK,
            b"",
            &mut cs,
            &mut ss,
        );
        seg(
            &mut w,
            &mut ts,
            false,
            F::FIN | F::ACK,
            b"",
            &mut cs,
            &mut ss,
        );
        seg(&mut w, &mut ts, true, F::ACK, b"", &mut cs, &mut ss);
        ts += 200_000_000;
    }
    w.finish().unwrap();
    path
}

#[test]
fn ftp_530_replies_are_counted() {
    let s: Vec<(&str, &[u8])> = (0..25)
        .map(|_| ("admin", &b"530 Login incorrect.\r\n"[..]))
        .collect();
    let p = ftp_capture("ftp", &s, &[[10, 9, 0, 1]]);
    let a = brute(&common::run(&p));
    let _ = std::fs::remove_file(&p);
    let ftp: Vec<_> = a.iter().filter(|a| a.kind == "ftp").collect();
    assert_eq!(ftp.len(), 1, "{}", common::describe(&a));
    assert_eq!(ftp[0].src.unwrap().ip, ip("10.9.0.5"));
    assert_eq!(ftp[0].dst.unwrap().ip, ip("10.9.0.1"));
    // Updates are rate-limited; the final count is reported at the end.
    assert_eq!(ftp[0].evidence["failures"], 25);
    assert!(
        a.iter().all(|a| a.kind != "password_spray"),
        "{}",
        common::describe(&a)
    );
}

#[test]
fn ftp_successful_logins_are_quiet() {
    let s: Vec<(&str, &[u8])> = (0..25)
        .map(|_| ("admin", &b"230 Login successful.\r\n"[..]))
        .collect();
    let p = ftp_capture("ftpok", &s, &[[10, 9, 0, 1]]);
    let a = brute(&common::run(&p));
    let _ = std::fs::remove_file(&p);
    assert!(a.is_empty(), "{}", common::describe(&a));
}

#[test]
fn password_spray_over_accounts() {
    let users: Vec<String> = (0..12).map(|i| format!("user{i}")).collect();
    let s: Vec<(&str, &[u8])> = users
        .iter()
        .map(|u| (u.as_str(), &b"530 Login incorrect.\r\n"[..]))
        .collect();
    let p = ftp_capture("spray", &s, &[[10, 9, 0, 1]]);
    let a = brute(&common::run(&p));
    let _ = std::fs::remove_file(&p);
    let sp: Vec<_> = a.iter().filter(|a| a.kind == "password_spray").collect();
    assert_eq!(sp.len(), 1, "{}", common::describe(&a));
    assert_eq!(sp[0].src.unwrap().ip, ip("10.9.0.5"));
    assert_eq!(sp[0].evidence["accounts"], 10);
    // 12 failures: below the per-server threshold of 20.
    assert!(a.iter().all(|a| a.kind != "ftp"));
}

#[test]
fn password_spray_over_hosts() {
    let s: Vec<(&str, &[u8])> = (0..12)
        .map(|_| ("admin", &b"530 Login incorrect.\r\n"[..]))
        .collect();
    let servers: Vec<[u8; 4]> = (1..=12).map(|i| [10, 9, 1, i]).collect();
    let p = ftp_capture("sprayhosts", &s, &servers);
    let a = brute(&common::run(&p));
    let _ = std::fs::remove_file(&p);
    let sp: Vec<_> = a.iter().filter(|a| a.kind == "password_spray").collect();
    assert_eq!(sp.len(), 1, "{}", common::describe(&a));
    assert_eq!(sp[0].src.unwrap().ip, ip("10.9.0.5"));
    assert!(sp[0].dst.is_none());
    assert_eq!(sp[0].evidence["hosts"], 10);
    assert_eq!(sp[0].evidence["accounts"], 1);
}

#[test]
fn single_logins_are_quiet() {
    for f in [
        "attacks/markfvl-Pcaphunt/test/cs-ftpServerCredentials.pcap",
        "attacks/chrissanders-packets/http_dvwa_clearlogin.pcapng",
        "robustness/nDPI-tests/tests/cfgs/default/pcap/ftp_failed.pcap",
        "robustness/nDPI-tests/tests/cfgs/default/pcap/ssh.pcap",
        "robustness/arkime-tests/tests/pcap/ssh2.pcap",
        "robustness/scapy-test-pcaps/test/pcaps/ssh_ed25519.pcap",
        "robustness/tcpdump-tests/tests/ssh.pcap",
    ] {
        let a = brute(&common::run(&common::corpus_file(f)));
        assert!(a.is_empty(), "{f}: {}", common::describe(&a));
    }
}

#[test]
fn benign_corpus_has_no_alerts() {
    let mut bad = Vec::new();
    for p in common::benign_captures() {
        let mine = brute(&common::run(&p));
        if !mine.is_empty() {
            bad.push(format!("{}: {}", p.display(), common::describe(&mine)));
        }
    }
    assert!(bad.is_empty(), "{}", bad.join("\n"));
}

/// Manual check on lab captures (`WIRESCOPE_LAB=/tmp/lab-out cargo test -- --ignored`):
/// prints the alerts of this engineer's detectors for every `*.pcap` there, next to the
/// scenario's truth file.
#[test]
#[ignore]
fn lab_captures() {
    let Some(dir) = std::env::var_os("WIRESCOPE_LAB") else {
        panic!("set WIRESCOPE_LAB")
    };
    let mut files: Vec<PathBuf> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|x| x == "pcap"))
        .collect();
    files.sort();
    for p in files {
        let a = common::run(&p);
        let mine: Vec<Alert> = a
            .into_iter()
            .filter(|a| {
                matches!(
                    a.detector,
                    DetectorId::BruteForce
                        | DetectorId::WebAttack
                        | DetectorId::Slowloris
                        | DetectorId::Blocklist
                )
            })
            .collect();
        eprintln!("== {}", p.display());
        for a in &mine {
            eprintln!(
                "  delay {:.1}s {}",
                a.delay_s(),
                common::describe(std::slice::from_ref(a))
            );
        }
    }
}
