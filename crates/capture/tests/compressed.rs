//! gzip- and zstd-compressed captures read directly give exactly the frames of the same
//! capture decompressed by the reference tools (`gzip -dc`, `zstd -dc`).
#![allow(clippy::unwrap_used)]

mod common;

use common::{corpus_file, read_all};
use std::process::Command;
use wirescope_capture::CaptureReader;

fn decompressed_by(tool: &str, path: &std::path::Path) -> Vec<u8> {
    let out = Command::new(tool)
        .arg("-dc")
        .arg(path)
        .output()
        .unwrap_or_else(|e| panic!("{tool} must be installed: {e}"));
    assert!(out.status.success(), "{tool} -dc {} failed", path.display());
    out.stdout
}

#[test]
fn compressed_captures_read_like_their_decompressed_copies() {
    let cases = [
        ("gzip", "robustness/corelight-community-id-spec/pcaps/combined.pcap.gz"),
        ("gzip", "robustness/scapy-test-pcaps/test/pcaps/http_head.pcapng.gz"),
        ("zstd", "robustness/PcapPlusPlus-tests/Tests/Pcap++Test/PcapExamples/file_heuristics/pcapng-example.pcapng.zst"),
    ];
    for (tool, rel) in cases {
        let path = corpus_file(rel);
        let mut direct = CaptureReader::open(&path).unwrap();
        assert_eq!(
            direct.file_size(),
            None,
            "{rel}: no progress size for compressed input"
        );
        let (a, err_a) = read_all(&mut direct);
        let plain = decompressed_by(tool, &path);
        let mut via_tool =
            CaptureReader::from_reader(rel.to_string(), Box::new(std::io::Cursor::new(plain)))
                .unwrap();
        let (b, err_b) = read_all(&mut via_tool);
        assert!(
            err_a.is_none() && err_b.is_none(),
            "{rel}: {err_a:?} / {err_b:?}"
        );
        assert!(!a.is_empty(), "{rel}: no packets");
        assert_eq!(a.len(), b.len(), "{rel}: packet count");
        for (x, y) in a.iter().zip(&b) {
            assert_eq!(
                (x.ts, x.wire_len, x.link, &x.data),
                (y.ts, y.wire_len, y.link, &y.data),
                "{rel}"
            );
        }
    }
}

#[test]
fn damaged_compressed_input_is_not_a_capture() {
    // A gzip header with nothing after it.
    let bytes = vec![0x1f, 0x8b, 8, 0, 0, 0, 0, 0, 0, 3];
    let err =
        CaptureReader::from_reader("x.gz".into(), Box::new(std::io::Cursor::new(bytes))).err();
    assert!(
        matches!(
            err,
            Some(wirescope_capture::CaptureError::NotACapture { .. })
        ),
        "{err:?}"
    );
}
