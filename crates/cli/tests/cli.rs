//! The command line as a user meets it: tcpdump habits, one-line errors, exit codes.
#![allow(clippy::unwrap_used)]

use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};

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

fn json(out: &Output) -> serde_json::Value {
    serde_json::from_slice(&out.stdout)
        .unwrap_or_else(|e| panic!("bad JSON ({e}): {}", String::from_utf8_lossy(&out.stderr)))
}

fn tmp(name: &str) -> PathBuf {
    std::env::temp_dir().join(format!("wirescope-cli-{}-{name}", std::process::id()))
}

#[test]
fn bad_filter_is_a_usage_error_that_shows_the_expression() {
    let f = fixture("dns-tcp.pcap");
    let out = wirescope(&["-r", f.to_str().unwrap(), "tcp", "prt", "80"]);
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("\"tcp prt 80\""), "{err}");
    assert_eq!(err.trim_end().lines().count(), 1, "one line: {err}");
}

#[test]
fn non_capture_is_rejected_in_one_line() {
    let p = tmp("notes.txt");
    std::fs::write(&p, "these are not packets\n").unwrap();
    let out = wirescope(&["-r", p.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("not a pcap or pcapng capture"), "{err}");
    assert!(err.contains("notes.txt"), "{err}");
    assert_eq!(err.trim_end().lines().count(), 1, "{err}");
    assert!(out.stdout.is_empty());
}

#[test]
fn truncated_capture_reports_every_packet_then_the_offset() {
    // Cut a real capture in the middle of its last record.
    let src = std::fs::read(fixture("dns-tcp.pcap")).unwrap();
    let p = tmp("cut.pcap");
    std::fs::write(&p, &src[..src.len() - 10]).unwrap();
    let out = wirescope(&["--json", "-r", p.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(1));
    let full = json(&wirescope(&[
        "--json",
        "-r",
        fixture("dns-tcp.pcap").to_str().unwrap(),
    ]));
    let cut = json(&out);
    assert_eq!(
        cut["packets"].as_u64().unwrap() + 1,
        full["packets"].as_u64().unwrap()
    );
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("cut.pcap") && err.contains("truncated at byte"),
        "{err}"
    );
    assert!(cut["inputs"][0]["error"]
        .as_str()
        .unwrap()
        .contains("truncated at byte"));
}

#[test]
fn count_filter_and_write_behave_like_tcpdump() {
    let f = fixture("arkime_synthetic.pcap");
    let w = tmp("udp.pcap");
    let out = wirescope(&[
        "--json",
        "-r",
        f.to_str().unwrap(),
        "-c",
        "20",
        "-w",
        w.to_str().unwrap(),
        "udp",
    ]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let r = json(&out);
    assert_eq!(r["packets"], 20);
    assert_eq!(r["written"], 20);
    assert_eq!(r["protocols"]["udp"], 20);
    assert_eq!(r["filter"], "udp");
    // tcpdump reads what we wrote, and its own filter agrees.
    let td = Command::new("tcpdump")
        .args(["--count", "-n", "-r", w.to_str().unwrap(), "udp"])
        .output()
        .unwrap();
    assert!(
        td.status.success(),
        "tcpdump must be installed and read our file"
    );
    // `--count` prints "20 packets" (a packet may print on several lines without it).
    assert_eq!(String::from_utf8_lossy(&td.stdout).trim(), "20 packets");
}

#[test]
fn filter_from_file_with_comments() {
    let f = fixture("arkime_synthetic.pcap");
    let ff = tmp("filter.bpf");
    std::fs::write(&ff, "# only ARP\narp\n").unwrap();
    let r = json(&wirescope(&[
        "--json",
        "-r",
        f.to_str().unwrap(),
        "-F",
        ff.to_str().unwrap(),
    ]));
    assert_eq!(r["packets"], r["protocols"]["arp"]);
    assert!(r["packets"].as_u64().unwrap() > 0);
}

#[test]
fn stdin_and_several_files_merge_in_time_order() {
    let a = fixture("dns-tcp.pcap");
    let b = fixture("vxlan.pcap");
    let one = |p: &Path| {
        json(&wirescope(&["--json", "-r", p.to_str().unwrap()]))["packets"]
            .as_u64()
            .unwrap()
    };
    let both = json(&wirescope(&[
        "--json",
        "-r",
        a.to_str().unwrap(),
        "-r",
        b.to_str().unwrap(),
    ]));
    assert_eq!(both["packets"].as_u64().unwrap(), one(&a) + one(&b));
    assert!(both["first_ts"].as_str().unwrap() <= both["last_ts"].as_str().unwrap());

    let mut child = Command::new(env!("CARGO_BIN_EXE_wirescope"))
        .args(["--json", "-r", "-"])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();
    child
        .stdin
        .take()
        .unwrap()
        .write_all(&std::fs::read(&a).unwrap())
        .unwrap();
    let out = child.wait_with_output().unwrap();
    assert!(out.status.success());
    assert_eq!(json(&out)["packets"].as_u64().unwrap(), one(&a));
}

#[test]
fn closed_stdout_is_not_an_error() {
    // `wirescope ... | head -1`: the summary write hits a closed pipe; exit status stays 0.
    let f = fixture("arkime_synthetic.pcap");
    let mut child = Command::new(env!("CARGO_BIN_EXE_wirescope"))
        .args(["-r", f.to_str().unwrap(), "--top", "500"])
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    drop(child.stdout.take());
    let out = child.wait_with_output().unwrap();
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
}

#[test]
fn no_input_is_a_usage_error() {
    let out = wirescope(&[]);
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("-r FILE"));
}
