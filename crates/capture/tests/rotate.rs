//! RotatingWriter: tcpdump's -C / -G / -W file names, counts and contents, checked by reading
//! every produced file back; -C cross-checked against tcpdump itself on a corpus file.
#![allow(clippy::unwrap_used, reason = "test")]

mod common;

use std::path::{Path, PathBuf};

use common::{corpus_file, read_all, run, OwnedFrame};
use wirescope_capture::{
    CaptureError, CaptureReader, PcapWriter, RotateOptions, RotatingWriter, WriteOutcome,
};
use wirescope_core::{Frame, LinkType, Timestamp};
use wirescope_testkit::alloc::{self, CountingAlloc};

#[global_allocator]
static GLOBAL: CountingAlloc = CountingAlloc::new();

/// 2023-11-14T22:13:20Z.
const T0: i64 = 1_700_000_000;
/// Data bytes of the synthetic packets: a record is 16 + 100 = 116 bytes, so a file holds
/// 24 + 116 n bytes after n packets (140, 256, 372, …).
const LEN: usize = 100;

/// A fresh, empty directory, removed when dropped unless the test is failing.
struct TempDir(PathBuf);

impl Drop for TempDir {
    fn drop(&mut self) {
        if !std::thread::panicking() {
            let _ = std::fs::remove_dir_all(&self.0);
        }
    }
}

impl std::ops::Deref for TempDir {
    type Target = Path;
    fn deref(&self) -> &Path {
        &self.0
    }
}

fn dir(name: &str) -> TempDir {
    let d = PathBuf::from(env!("CARGO_TARGET_TMPDIR"))
        .join(format!("capture-rotate-{}-{name}", std::process::id()));
    let _ = std::fs::remove_dir_all(&d);
    std::fs::create_dir_all(&d).unwrap();
    TempDir(d)
}

/// Packet `i` at `T0 + ms` milliseconds: its first bytes carry `i`, so files can be checked
/// for which packets they hold.
fn packet(i: u32, ms: i64) -> OwnedFrame {
    let mut data = vec![0u8; LEN];
    data[..4].copy_from_slice(&i.to_be_bytes());
    OwnedFrame {
        ts: Timestamp(T0 * 1_000_000_000 + ms * 1_000_000),
        wire_len: LEN as u32,
        link: LinkType::ETHERNET,
        iface: 0,
        data,
    }
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

fn id(f: &OwnedFrame) -> u32 {
    u32::from_be_bytes(f.data[..4].try_into().unwrap())
}

fn opts(size_bytes: Option<u64>, seconds: Option<u64>, files: Option<u32>) -> RotateOptions {
    RotateOptions {
        size_bytes,
        seconds,
        files,
    }
}

/// Writes `frames` through a RotatingWriter and returns it (not finished) with the outcomes.
fn write_frames(
    path: &Path,
    o: RotateOptions,
    frames: &[OwnedFrame],
) -> (RotatingWriter, Vec<WriteOutcome>) {
    let mut w = RotatingWriter::create(path, LinkType::ETHERNET, 0, o).unwrap();
    let outcomes = frames.iter().map(|f| w.write(&frame(f)).unwrap()).collect();
    (w, outcomes)
}

/// File names in `d`, sorted.
fn listing(d: &Path) -> Vec<String> {
    let mut v: Vec<String> = std::fs::read_dir(d)
        .unwrap()
        .map(|e| e.unwrap().file_name().into_string().unwrap())
        .collect();
    v.sort();
    v
}

/// The packet ids in a file, which must be a complete, valid pcap of Ethernet frames.
fn ids(path: &Path) -> Vec<u32> {
    let mut r = CaptureReader::open(path).unwrap();
    assert_eq!(r.link_types(), &[LinkType::ETHERNET], "{}", path.display());
    let (frames, e) = read_all(&mut r);
    assert!(e.is_none(), "{}: {e:?}", path.display());
    frames.iter().map(id).collect()
}

fn names(w: &RotatingWriter) -> Vec<String> {
    w.files_written()
        .iter()
        .map(|p| p.file_name().unwrap().to_str().unwrap().to_owned())
        .collect()
}

fn continues(n: usize) -> Vec<WriteOutcome> {
    vec![WriteOutcome::Continue; n]
}

#[test]
fn size_rotation_is_file_then_file1_file2_and_cuts_once_the_file_is_larger() {
    let frames: Vec<OwnedFrame> = (0..10).map(|i| packet(i, i64::from(i))).collect();

    // 256 is not larger than 256: the third packet still goes in (372 bytes), the fourth
    // opens a new file.
    let d = dir("size-256");
    let (w, out) = write_frames(&d.join("out"), opts(Some(256), None, None), &frames);
    assert_eq!(out, continues(10));
    assert_eq!(names(&w), ["out", "out1", "out2", "out3"]);
    assert_eq!(w.current_path(), Some(d.join("out3").as_path()));
    w.finish().unwrap();
    assert_eq!(listing(&d), ["out", "out1", "out2", "out3"]);
    assert_eq!(ids(&d.join("out")), [0, 1, 2]);
    assert_eq!(ids(&d.join("out1")), [3, 4, 5]);
    assert_eq!(ids(&d.join("out2")), [6, 7, 8]);
    assert_eq!(ids(&d.join("out3")), [9]);
    for f in ["out", "out1", "out2"] {
        assert_eq!(std::fs::metadata(d.join(f)).unwrap().len(), 24 + 3 * 116);
    }

    // One byte less: 256 > 255, so the third packet opens a new file.
    let d = dir("size-255");
    let (w, _) = write_frames(&d.join("out"), opts(Some(255), None, None), &frames);
    w.finish().unwrap();
    assert_eq!(listing(&d), ["out", "out1", "out2", "out3", "out4"]);
    let all: Vec<Vec<u32>> = ["out", "out1", "out2", "out3", "out4"]
        .iter()
        .map(|f| ids(&d.join(f)))
        .collect();
    assert_eq!(all, [[0, 1], [2, 3], [4, 5], [6, 7], [8, 9]]);

    // A size below the 24-byte header still puts one packet in every file (tcpdump would
    // leave header-only files).
    let d = dir("size-1");
    let (w, _) = write_frames(&d.join("x"), opts(Some(1), None, None), &frames[..3]);
    w.finish().unwrap();
    assert_eq!(listing(&d), ["x", "x1", "x2"]);
    assert_eq!(ids(&d.join("x1")), [1]);
}

#[test]
fn size_ring_keeps_exactly_n_files_and_the_newest_packets() {
    let frames: Vec<OwnedFrame> = (0..11).map(|i| packet(i, i64::from(i))).collect();
    let d = dir("ring");
    // 3 packets a file: ring0 0-2, ring1 3-5, ring2 6-8, then ring0 again (truncated) 9-10.
    let (w, out) = write_frames(&d.join("ring"), opts(Some(256), None, Some(3)), &frames);
    assert_eq!(out, continues(11));
    assert_eq!(names(&w), ["ring0", "ring1", "ring2"]);
    assert_eq!(w.current_path(), Some(d.join("ring0").as_path()));
    w.finish().unwrap();
    assert_eq!(listing(&d), ["ring0", "ring1", "ring2"]);
    assert_eq!(ids(&d.join("ring0")), [9, 10], "the newest file");
    assert_eq!(ids(&d.join("ring1")), [3, 4, 5]);
    assert_eq!(ids(&d.join("ring2")), [6, 7, 8]);
    // Every packet but the oldest file's (0, 1, 2) survives.
    let total: usize = listing(&d).iter().map(|f| ids(&d.join(f)).len()).sum();
    assert_eq!(total, 11 - 3);

    // The counter is padded to the digits of N - 1: -W 11 gives 00..10.
    let d = dir("ring11");
    let (w, _) = write_frames(&d.join("w"), opts(Some(256), None, Some(11)), &frames);
    assert_eq!(names(&w), ["w00", "w01", "w02", "w03"]);
    w.finish().unwrap();
    assert_eq!(ids(&d.join("w03")), [9, 10]);

    // -W 1: no digits at all, one file holding the last packets.
    let d = dir("ring1");
    let (w, _) = write_frames(&d.join("one"), opts(Some(256), None, Some(1)), &frames);
    assert_eq!(names(&w), ["one"]);
    w.finish().unwrap();
    assert_eq!(listing(&d), ["one"]);
    assert_eq!(ids(&d.join("one")), [9, 10]);
}

#[test]
fn time_rotation_follows_packet_time_and_names_files_by_it_in_utc() {
    // Milliseconds after T0 (22:13:20). A new file starts when a packet is >= 60 s (in whole
    // seconds) after the current file's start, and that packet's second starts it.
    let times = [
        0, 10_500, 59_999, 60_000, 100_000, 119_900, 125_000, 50_000, 500_000,
    ];
    let frames: Vec<OwnedFrame> = times
        .iter()
        .enumerate()
        .map(|(i, ms)| packet(i as u32, *ms))
        .collect();
    let d = dir("time");
    let pattern = d.join("cap-%Y%m%d-%H%M%S.pcap");
    let w = RotatingWriter::create(&pattern, LinkType::ETHERNET, 0, opts(None, Some(60), None))
        .unwrap();
    // The first file waits for the first packet's time.
    assert!(listing(&d).is_empty());
    assert_eq!(w.current_path(), None);
    drop(w);
    assert!(listing(&d).is_empty(), "no frame, no file");

    let (w, out) = write_frames(&pattern, opts(None, Some(60), None), &frames);
    assert_eq!(out, continues(frames.len()));
    let want = [
        "cap-20231114-221320.pcap", // 0, 10.5, 59.999
        "cap-20231114-221420.pcap", // 60, 100, 119.9 (119 - 60 < 60)
        "cap-20231114-221525.pcap", // 125, then 50 (earlier: never rotates)
        "cap-20231114-222140.pcap", // 500
    ];
    assert_eq!(names(&w), want);
    w.finish().unwrap();
    assert_eq!(listing(&d), want);
    let got: Vec<Vec<u32>> = want.iter().map(|f| ids(&d.join(f))).collect();
    assert_eq!(got, vec![vec![0, 1, 2], vec![3, 4, 5], vec![6, 7], vec![8]]);

    // A pattern without conversions is overwritten by every interval, as in tcpdump.
    let d = dir("time-same");
    let (w, _) = write_frames(&d.join("same.pcap"), opts(None, Some(60), None), &frames);
    assert_eq!(names(&w), ["same.pcap"]);
    w.finish().unwrap();
    assert_eq!(ids(&d.join("same.pcap")), [8]);
}

#[test]
fn time_with_file_count_stops_after_n_files() {
    let frames: Vec<OwnedFrame> = [0, 5_000, 10_000, 15_000, 20_000, 25_000]
        .iter()
        .enumerate()
        .map(|(i, ms)| packet(i as u32, *ms))
        .collect();
    let d = dir("limit");
    let (mut w, out) = write_frames(&d.join("f-%S"), opts(None, Some(10), Some(2)), &frames);
    let mut want = continues(4);
    want.extend([WriteOutcome::LimitReached; 2]);
    assert_eq!(out, want, "the packet that would open file 3 is refused");
    // It stays stopped, even for a frame that would fit the last interval.
    assert_eq!(
        w.write(&frame(&packet(99, 0))).unwrap(),
        WriteOutcome::LimitReached
    );
    assert_eq!(w.current_path(), None);
    assert_eq!(names(&w), ["f-20", "f-30"]);
    w.finish().unwrap();
    assert_eq!(listing(&d), ["f-20", "f-30"]);
    assert_eq!(ids(&d.join("f-20")), [0, 1]);
    assert_eq!(ids(&d.join("f-30")), [2, 3]);

    // -W 1: one file, stop at the first time rotation.
    let d = dir("limit1");
    let (w, out) = write_frames(&d.join("g"), opts(None, Some(10), Some(1)), &frames);
    assert_eq!(
        out[..3],
        [
            WriteOutcome::Continue,
            WriteOutcome::Continue,
            WriteOutcome::LimitReached
        ]
    );
    w.finish().unwrap();
    assert_eq!(ids(&d.join("g")), [0, 1]);

    // With -C as well, -W is the ring size and writing never stops (tcpdump's rule).
    let d = dir("limit-size");
    let (w, out) = write_frames(
        &d.join("h-%S-"),
        opts(Some(1_000_000), Some(10), Some(2)),
        &frames,
    );
    assert_eq!(out, continues(frames.len()));
    assert_eq!(names(&w), ["h-20-0", "h-30-0", "h-40-0"]);
    w.finish().unwrap();
}

#[test]
fn time_and_size_add_a_counter_that_restarts_each_interval() {
    // Interval 22:13:20: packets 0-6 (7 packets, 3 a file); interval 22:14:20: packets 7-10.
    let mut frames: Vec<OwnedFrame> = (0..7).map(|i| packet(i, i64::from(i) * 1000)).collect();
    frames.extend((7..11).map(|i| packet(i, 60_000 + i64::from(i))));

    let d = dir("time-size");
    let (w, out) = write_frames(
        &d.join("g-%H%M.pcap"),
        opts(Some(256), Some(60), None),
        &frames,
    );
    assert_eq!(out, continues(11));
    let want = [
        "g-2213.pcap",
        "g-2213.pcap1",
        "g-2213.pcap2",
        "g-2214.pcap",
        "g-2214.pcap1",
    ];
    assert_eq!(names(&w), want);
    w.finish().unwrap();
    assert_eq!(listing(&d), want);
    let got: Vec<Vec<u32>> = want.iter().map(|f| ids(&d.join(f))).collect();
    assert_eq!(
        got,
        vec![
            vec![0, 1, 2],
            vec![3, 4, 5],
            vec![6],
            vec![7, 8, 9],
            vec![10]
        ]
    );

    // With -W 2: a ring of two per interval, padded counter from the first file on.
    let d = dir("time-size-ring");
    let (w, out) = write_frames(
        &d.join("g-%H%M.pcap"),
        opts(Some(256), Some(60), Some(2)),
        &frames,
    );
    assert_eq!(out, continues(11));
    assert_eq!(
        names(&w),
        [
            "g-2213.pcap0",
            "g-2213.pcap1",
            "g-2214.pcap0",
            "g-2214.pcap1"
        ]
    );
    w.finish().unwrap();
    // g-2213.pcap0 was rewritten by packet 6, the third file of its interval.
    assert_eq!(ids(&d.join("g-2213.pcap0")), [6]);
    assert_eq!(ids(&d.join("g-2213.pcap1")), [3, 4, 5]);
    assert_eq!(ids(&d.join("g-2214.pcap0")), [7, 8, 9]);
    assert_eq!(ids(&d.join("g-2214.pcap1")), [10]);
}

#[test]
fn other_link_types_are_counted_over_files_and_never_rotate() {
    let mut late_raw = packet(100, 3_600_000);
    late_raw.link = LinkType::RAW;
    let frames = [
        packet(0, 0),
        late_raw.clone(),
        packet(1, 1000),
        late_raw,
        packet(2, 2000),
    ];
    let d = dir("links");
    let (w, out) = write_frames(
        &d.join("l-%H%M%S"),
        opts(Some(139), Some(60), None),
        &frames,
    );
    assert_eq!(out, continues(5));
    assert_eq!(w.skipped_link_mismatch(), 2);
    // Size rotations only (one packet a file), all in the first interval.
    assert_eq!(names(&w), ["l-221320", "l-2213201", "l-2213202"]);
    w.finish().unwrap();
    assert_eq!(ids(&d.join("l-2213202")), [2]);
}

#[test]
fn without_options_the_bytes_are_pcap_writers() {
    let mut frames: Vec<OwnedFrame> = (0..50)
        .map(|i| {
            let mut f = packet(i, i64::from(i) * 61_000);
            f.data.resize(LEN + i as usize * 7, i as u8);
            f.wire_len = f.data.len() as u32 + 3;
            f
        })
        .collect();
    frames[7].link = LinkType::RAW;
    let d = dir("plain");
    for snaplen in [0, 120] {
        let (a, b) = (d.join(format!("a{snaplen}")), d.join(format!("b{snaplen}")));
        let mut pw = PcapWriter::create(&a, LinkType::ETHERNET, snaplen).unwrap();
        for f in &frames {
            pw.write(&frame(f)).unwrap();
        }
        assert_eq!(pw.skipped_link_mismatch(), 1);
        pw.finish().unwrap();

        let mut rw =
            RotatingWriter::create(&b, LinkType::ETHERNET, snaplen, RotateOptions::default())
                .unwrap();
        for f in &frames {
            assert_eq!(rw.write(&frame(f)).unwrap(), WriteOutcome::Continue);
        }
        assert_eq!(rw.skipped_link_mismatch(), 1);
        assert_eq!(rw.files_written(), std::slice::from_ref(&b));
        rw.finish().unwrap();
        let (x, y) = (std::fs::read(&a).unwrap(), std::fs::read(&b).unwrap());
        assert!(x.len() > 24 + 49 * 16);
        assert!(x == y, "snaplen {snaplen}: bytes differ from PcapWriter's");
    }
}

#[test]
fn bad_options_are_one_line_errors_at_create() {
    let d = dir("errors");
    let bad = |path: &Path, o: RotateOptions| match RotatingWriter::create(
        path,
        LinkType::ETHERNET,
        0,
        o,
    ) {
        Err(e @ CaptureError::InvalidOutput { .. }) => {
            let s = e.to_string();
            assert!(!s.contains('\n'), "{s}");
            assert!(s.starts_with(&format!("{}: ", path.display())), "{s}");
            s
        }
        Err(e) => panic!("{o:?}: wrong error {e}"),
        Ok(_) => panic!("{o:?}: accepted"),
    };
    let stdout = Path::new("-");
    for o in [
        opts(Some(1000), None, None),
        opts(None, Some(10), None),
        opts(None, None, Some(2)),
        opts(Some(1000), Some(10), Some(2)),
    ] {
        let s = bad(stdout, o);
        assert!(s.contains("standard output"), "{s}");
    }
    let p = d.join("x-%Y");
    assert!(bad(&p, opts(None, None, Some(3))).contains("-W needs -C or -G"));
    assert!(bad(&p, opts(Some(0), None, None)).contains("-C"));
    assert!(bad(&p, opts(None, Some(0), None)).contains("-G"));
    assert!(bad(&p, opts(Some(10), None, Some(0))).contains("-W"));
    let s = bad(&d.join("cap-%Y-%q.pcap"), opts(None, Some(10), None));
    assert!(s.contains("%q"), "{s}");
    let s = bad(&d.join("cap-%"), opts(Some(10), Some(10), None));
    assert!(s.contains("lone %"), "{s}");
    assert!(listing(&d).is_empty(), "nothing is created by a bad option");

    // Without -G, % is an ordinary character of the name, as in tcpdump.
    let w = RotatingWriter::create(
        &d.join("cap-%q"),
        LinkType::ETHERNET,
        0,
        opts(Some(10), None, None),
    )
    .unwrap();
    w.finish().unwrap();
    assert_eq!(listing(&d), ["cap-%q"]);

    // A file that cannot be created: at create without -G, at the first frame with -G.
    let missing = d.join("no/such/dir/f");
    let e = RotatingWriter::create(&missing, LinkType::ETHERNET, 0, opts(Some(10), None, None))
        .err()
        .unwrap();
    assert!(matches!(e, CaptureError::Io { .. }), "{e}");
    let mut w = RotatingWriter::create(&missing, LinkType::ETHERNET, 0, opts(None, Some(10), None))
        .unwrap();
    let e = w.write(&frame(&packet(0, 0))).err().unwrap();
    assert!(matches!(e, CaptureError::Io { .. }), "{e}");
    assert_eq!(e.name(), missing.display().to_string());
}

/// tcpdump -C on a real capture: the same file names, sizes and packets per file.
#[test]
fn size_rotation_cuts_where_tcpdump_does() {
    let src =
        corpus_file("robustness/PcapPlusPlus-tests/Tests/Pcap++Test/PcapExamples/example.pcap");
    let (frames, e) = read_all(&mut CaptureReader::open(&src).unwrap());
    assert!(e.is_none());
    for (files, td_names) in [
        (None, vec!["f", "f1", "f2", "f3"]),
        (Some(3), vec!["f0", "f1", "f2"]),
    ] {
        let (td, ours) = (dir("tcpdump-td"), dir("tcpdump-ours"));
        let mut args = vec![
            "-Z".to_owned(),
            "root".to_owned(), // stays root when run as root, so it may create the next files
            "-r".to_owned(),
            src.to_str().unwrap().to_owned(),
            "-w".to_owned(),
            td.join("f").to_str().unwrap().to_owned(),
            "-C".to_owned(),
            "1".to_owned(),
        ];
        if let Some(n) = files {
            args.extend(["-W".to_owned(), n.to_string()]);
        }
        run(
            "tcpdump",
            &args.iter().map(String::as_str).collect::<Vec<_>>(),
        );
        assert_eq!(listing(&td), td_names, "tcpdump's own names (-W {files:?})");

        let (w, _) = write_frames(&ours.join("f"), opts(Some(1_000_000), None, files), &frames);
        w.finish().unwrap();
        assert_eq!(listing(&ours), listing(&td), "-W {files:?}");
        for name in listing(&td) {
            let size = |p: PathBuf| std::fs::metadata(p).unwrap().len();
            assert_eq!(size(ours.join(&name)), size(td.join(&name)), "{name}");
            let count = |p: PathBuf| read_all(&mut CaptureReader::open(&p).unwrap()).0.len();
            assert_eq!(count(ours.join(&name)), count(td.join(&name)), "{name}");
        }
    }
}

#[test]
fn steady_state_writes_do_not_allocate() {
    assert!(alloc::is_installed());
    let frames: Vec<OwnedFrame> = (0..20_000).map(|i| packet(i, i64::from(i))).collect();
    let d = dir("alloc");
    let mut w = RotatingWriter::create(
        &d.join("a-%H%M%S"),
        LinkType::ETHERNET,
        0,
        opts(Some(1 << 30), Some(3600), Some(4)),
    )
    .unwrap();
    // The first frame opens the first file (allocates); the others must not.
    assert_eq!(w.write(&frame(&frames[0])).unwrap(), WriteOutcome::Continue);
    let ((), counts) = alloc::count(|| {
        for f in &frames[1..] {
            assert_eq!(w.write(&frame(f)).unwrap(), WriteOutcome::Continue);
        }
    });
    assert_eq!(counts.allocations(), 0, "{counts:?}");
    assert_eq!(w.files_written().len(), 1);
    w.finish().unwrap();
}
