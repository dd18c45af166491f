//! PcapWriter round trips: corpus file → PcapWriter → our reader gives identical frames, and
//! tcpdump and capinfos read our output with the same count.
#![allow(clippy::unwrap_used, reason = "test")]

mod common;

use std::path::{Path, PathBuf};

use common::{corpus_file, read_all, run, OwnedFrame};
use wirescope_capture::{CaptureReader, PcapWriter};
use wirescope_core::{Frame, LinkType, Timestamp};

fn tmp(name: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_TARGET_TMPDIR"))
        .join(format!("capture-writer-{}-{name}", std::process::id()))
}

fn frame(f: &OwnedFrame) -> Frame<'_> {
    Frame {
        ts: f.ts,
        wire_len: f.wire_len,
        link: f.link,
        iface: f.iface,
        data: &f.data,
    }
}

fn write_all(path: &Path, link: LinkType, snaplen: u32, frames: &[OwnedFrame]) -> u64 {
    let mut w = PcapWriter::create(path, link, snaplen).unwrap();
    for f in frames {
        w.write(&frame(f)).unwrap();
    }
    let skipped = w.skipped_link_mismatch();
    w.finish().unwrap();
    skipped
}

#[test]
fn round_trip_is_identical_and_tcpdump_reads_it() {
    for rel in [
        // µs little-endian pcap
        "robustness/nDPI-tests/tests/cfgs/default/pcap/1kxun.pcap",
        // ns big-endian pcap
        "robustness/PcapPlusPlus-tests/Tests/Pcap++Test/PcapExamples/nanosecs_big_endian.pcap",
        // pcapng, ns resolution
        "robustness/PcapPlusPlus-tests/Tests/Packet++Test/PacketExamples/ldap.pcapng",
    ] {
        let mut r = CaptureReader::open(&corpus_file(rel)).unwrap();
        let link = r.link_types()[0];
        let (frames, e) = read_all(&mut r);
        assert!(e.is_none());
        let out = tmp(&rel.replace('/', "_"));
        // ldap.pcapng has interfaces of two link types: the others are skipped and counted.
        let skipped = write_all(&out, link, 0, &frames);
        assert_eq!(
            skipped as usize,
            frames.iter().filter(|f| f.link != link).count()
        );
        let frames: Vec<OwnedFrame> = frames.into_iter().filter(|f| f.link == link).collect();
        assert!(frames.len() > 1);

        let (back, e) = read_all(&mut CaptureReader::open(&out).unwrap());
        assert!(e.is_none(), "{rel}: {e:?}");
        let strip = |v: &[OwnedFrame]| {
            v.iter()
                .map(|f| OwnedFrame {
                    iface: 0,
                    ..f.clone()
                })
                .collect::<Vec<_>>()
        };
        assert_eq!(
            strip(&back),
            strip(&frames),
            "{rel}: frames differ after the round trip"
        );

        // tcpdump reads every record (it copies them to a file we count with capinfos).
        let copy = tmp(&format!("{}.tcpdump", rel.replace('/', "_")));
        run(
            "tcpdump",
            &["-r", out.to_str().unwrap(), "-w", copy.to_str().unwrap()],
        );
        let count = |p: &Path| -> usize {
            let t = run("capinfos", &["-c", "-M", "-T", "-r", p.to_str().unwrap()]);
            t.trim().rsplit('\t').next().unwrap().parse().unwrap()
        };
        assert_eq!(
            count(&out),
            frames.len(),
            "{rel}: capinfos count of our output"
        );
        assert_eq!(
            count(&copy),
            frames.len(),
            "{rel}: tcpdump's copy of our output"
        );
        let _ = std::fs::remove_file(&out);
        let _ = std::fs::remove_file(&copy);
    }
}

#[test]
fn snaplen_cuts_data_and_keeps_wire_len() {
    let frames: Vec<OwnedFrame> = (0..3u8)
        .map(|i| OwnedFrame {
            ts: Timestamp::from_secs_nanos(1_700_000_000, 999_999_999),
            wire_len: 1500,
            link: LinkType::ETHERNET,
            iface: 0,
            data: vec![i; 1500],
        })
        .collect();
    let out = tmp("snaplen");
    write_all(&out, LinkType::ETHERNET, 100, &frames);
    let (back, e) = read_all(&mut CaptureReader::open(&out).unwrap());
    assert!(e.is_none());
    assert_eq!(back.len(), 3);
    for (b, f) in back.iter().zip(&frames) {
        assert_eq!(
            (b.data.as_slice(), b.wire_len, b.ts),
            (&f.data[..100], 1500, f.ts)
        );
    }
    let _ = std::fs::remove_file(&out);
}

#[test]
fn other_link_types_are_skipped_and_counted() {
    let mk = |link| OwnedFrame {
        ts: Timestamp::ZERO,
        wire_len: 1,
        link,
        iface: 0,
        data: vec![0x45],
    };
    let frames = [mk(LinkType::RAW), mk(LinkType::ETHERNET), mk(LinkType::RAW)];
    let out = tmp("links");
    assert_eq!(write_all(&out, LinkType::RAW, 0, &frames), 1);
    let mut r = CaptureReader::open(&out).unwrap();
    assert_eq!(r.link_types(), &[LinkType::RAW]);
    assert_eq!(read_all(&mut r).0.len(), 2);
    let _ = std::fs::remove_file(&out);
}

#[test]
fn timestamps_outside_the_format_are_clamped() {
    let mk = |ts| OwnedFrame {
        ts: Timestamp(ts),
        wire_len: 1,
        link: LinkType::RAW,
        iface: 0,
        data: vec![0x45],
    };
    let out = tmp("clamp");
    write_all(&out, LinkType::RAW, 0, &[mk(-5), mk(i64::MAX)]);
    let (back, _) = read_all(&mut CaptureReader::open(&out).unwrap());
    assert_eq!(back[0].ts, Timestamp::ZERO);
    assert_eq!(back[1].ts.secs(), i64::from(u32::MAX));
    let _ = std::fs::remove_file(&out);
}

#[test]
fn create_in_a_missing_directory_is_an_io_error_naming_the_path() {
    let e = PcapWriter::create("/nonexistent/dir/out.pcap".as_ref(), LinkType::ETHERNET, 0)
        .err()
        .unwrap();
    assert!(
        e.to_string().starts_with("/nonexistent/dir/out.pcap: "),
        "{e}"
    );
}
