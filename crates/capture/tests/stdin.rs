//! `open("-")` reads stdin: the test re-runs itself as a child with a capture on its stdin.
#![allow(clippy::unwrap_used, reason = "test")]

mod common;

use std::path::Path;
use std::process::{Command, Stdio};

use common::{corpus_file, count_all};
use wirescope_capture::{CaptureFormat, CaptureReader};

const CHILD: &str = "WIRESCOPE_CAPTURE_STDIN_CHILD";

#[test]
fn dash_reads_stdin() {
    if std::env::var_os(CHILD).is_some() {
        // Child: count what arrives on stdin.
        let mut r = CaptureReader::open(Path::new("-")).unwrap();
        assert_eq!(r.name(), "-");
        assert_eq!(r.file_size(), None);
        let fmt = r.format();
        let (n, e) = count_all(&mut r);
        assert!(e.is_none(), "{e:?}");
        println!("CHILD-RESULT {n} {}", fmt == CaptureFormat::PcapNg);
        return;
    }
    for (rel, packets, ng) in [
        (
            "robustness/nDPI-tests/tests/cfgs/default/pcap/1kxun.pcap",
            1723,
            false,
        ),
        (
            "robustness/lwerdna-filesamples/200722_tcp_anon.pcapng",
            0,
            true,
        ),
    ] {
        let path = corpus_file(rel);
        let want = if packets > 0 {
            packets
        } else {
            count_all(&mut CaptureReader::open(&path).unwrap()).0
        };
        let out = Command::new(std::env::current_exe().unwrap())
            .args([
                "--exact",
                "dash_reads_stdin",
                "--nocapture",
                "--test-threads=1",
            ])
            .env(CHILD, "1")
            .stdin(Stdio::from(std::fs::File::open(&path).unwrap()))
            .output()
            .unwrap();
        let stdout = String::from_utf8_lossy(&out.stdout);
        assert!(
            out.status.success(),
            "child failed: {stdout} {}",
            String::from_utf8_lossy(&out.stderr)
        );
        assert!(
            stdout.contains(&format!("CHILD-RESULT {want} {ng}")),
            "{rel}: child said {stdout}"
        );
    }
}
