//! Timestamps and lengths agree with tshark's `frame.time_epoch`, `frame.len`,
//! `frame.cap_len` (µs and ns pcap in both byte orders, pcapng with `if_tsresol` 6 and 9), and
//! with hand-computed values for resolutions the corpus lacks (power-of-2 `if_tsresol`,
//! `if_tsoffset`).
//!
//! `WIRESCOPE_TSHARK_ALL=1` extends the tshark comparison to every capture of the corpus
//! (15-20 minutes; run it after touching the timestamp code); another value restricts it to
//! the paths that contain it. Known differences, all on malformed files: ATM captures (Wireshark
//! strips the SunATM pseudo-header from the data, we deliver the record as libpcap does),
//! µs fractions of a second or more (we carry them into the seconds), and a wire length past
//! 2^31 (Wireshark clamps it).
#![allow(clippy::unwrap_used, reason = "test")]

mod common;

use std::io::Cursor;
use std::path::Path;

use common::{corpus_dir, corpus_file, read_all, OwnedFrame};
use wirescope_capture::{CaptureFormat, CaptureReader};
use wirescope_core::{LinkType, Timestamp};

/// One tshark row: time in ns (`None` when tshark has none or prints an out-of-range
/// fraction, as for fuzzed files), wire length, captured length.
type Row = (Option<i64>, u32, u32);

/// tshark's rows for a file, and whether tshark read it to the end without error.
fn tshark_rows(path: &Path, pcapng: bool) -> (Vec<Row>, bool) {
    let out = std::process::Command::new("tshark")
        .arg("-r")
        .arg(path)
        .args([
            "-T",
            "fields",
            "-e",
            "frame.time_epoch",
            "-e",
            "frame.len",
            "-e",
            "frame.cap_len",
            "-e",
            "frame.interface_id",
        ])
        .output()
        .expect("tshark must be installed");
    let rows = String::from_utf8_lossy(&out.stdout)
        .lines()
        .filter_map(|l| {
            let f: Vec<&str> = l.split('\t').collect();
            // tshark also lists pcapng custom and systemd-journal blocks as frames, without an
            // interface; packets of a pcapng file always have one.
            if pcapng && f.get(3).is_some_and(|i| i.is_empty()) {
                return None;
            }
            Some((
                parse_epoch(f.first()?),
                f.get(1)?.parse().ok()?,
                f.get(2)?.parse().ok()?,
            ))
        })
        .collect();
    (rows, out.status.success())
}

/// "1418145369.999999999" → ns. tshark prints 9 fraction digits; anything else is a time
/// tshark itself could not normalise.
fn parse_epoch(s: &str) -> Option<i64> {
    let (secs, frac) = s.split_once('.')?;
    if frac.len() != 9 || secs.starts_with('-') {
        return None;
    }
    secs.parse::<i64>()
        .ok()?
        .checked_mul(1_000_000_000)?
        .checked_add(frac.parse().ok()?)
}

/// Compares a file with tshark; returns a description of the first difference.
fn compare_with_tshark(path: &Path) -> Result<usize, String> {
    let mut r = CaptureReader::open(path).map_err(|e| e.to_string())?;
    let (mut ours, our_err) = read_all(&mut r);
    let (mut theirs, tshark_ok) = tshark_rows(path, r.format() == CaptureFormat::PcapNg);
    if our_err.is_some() || !tshark_ok {
        // A broken file: compare the packets both delivered.
        let n = ours.len().min(theirs.len());
        ours.truncate(n);
        theirs.truncate(n);
    }
    if ours.len() != theirs.len() {
        // tshark also lists custom/systemd-journal blocks as frames; counts are checked
        // against capinfos in corpus.rs.
        return Err(format!(
            "{} rows from tshark, {} packets from us",
            theirs.len(),
            ours.len()
        ));
    }
    let mut compared = 0;
    for (i, (f, (ts, len, caplen))) in ours.iter().zip(&theirs).enumerate() {
        if (f.wire_len, f.data.len() as u32) != (*len, *caplen) {
            return Err(format!(
                "packet {}: len/caplen {}/{} vs tshark {len}/{caplen}",
                i + 1,
                f.wire_len,
                f.data.len()
            ));
        }
        if let Some(ts) = ts {
            if f.ts.0 != *ts {
                return Err(format!("packet {}: ts {} vs tshark {ts}", i + 1, f.ts.0));
            }
            compared += 1;
        }
    }
    Ok(compared)
}

#[test]
fn timestamps_match_tshark() {
    let files = [
        // µs, little-endian
        "attacks/StopDDoS-packet-captures/amp.UDP.isakmp.pcap",
        // µs, big-endian
        "robustness/PcapPlusPlus-tests/Tests/Pcap++Test/PcapExamples/microsecs_big_endian.pcap",
        // ns, both byte orders
        "robustness/PcapPlusPlus-tests/Tests/Pcap++Test/PcapExamples/nanosecs.pcap",
        "robustness/PcapPlusPlus-tests/Tests/Pcap++Test/PcapExamples/nanosecs_big_endian.pcap",
        // pcapng, if_tsresol 9 and 6
        "robustness/PcapPlusPlus-tests/Tests/Packet++Test/PacketExamples/ldap.pcapng",
        "robustness/lwerdna-filesamples/200722_tcp_anon.pcapng",
        // pcapng without if_tsresol (default µs), several interfaces, big-endian
        "robustness/pcapng-test-generator/output_be/basic/test006.pcapng",
        // three sections of both byte orders, SPBs (no time in tshark), custom blocks
        "robustness/pcapng-test-generator/output_le/difficult/test202.pcapng",
        "robustness/pcapng-test-generator/output_be/difficult/test202.pcapng",
        // Solaris snoop (RFC 1761), big-endian µs
        "robustness/PcapPlusPlus-tests/Tests/Pcap++Test/PcapExamples/solaris.snoop",
    ];
    for f in files {
        let n = compare_with_tshark(&corpus_file(f)).unwrap_or_else(|e| panic!("{f}: {e}"));
        assert!(n > 0, "{f}: no timestamp compared");
    }
}

#[test]
fn timestamps_match_tshark_on_whole_corpus_when_asked() {
    let Some(only) = std::env::var_os("WIRESCOPE_TSHARK_ALL") else {
        return;
    };
    // Any value but "1" restricts the run to paths containing it.
    let only = only.to_string_lossy().into_owned();
    let dir = corpus_dir();
    let mut stack = vec![dir.clone()];
    let (mut ok, mut bad) = (0, Vec::new());
    while let Some(d) = stack.pop() {
        for e in std::fs::read_dir(d).unwrap() {
            let p = e.unwrap().path();
            if p.is_dir() {
                stack.push(p);
                continue;
            }
            if (only != "1" && !p.to_string_lossy().contains(&only))
                || CaptureReader::open(&p).is_err()
            {
                continue;
            }
            match compare_with_tshark(&p) {
                Ok(_) => ok += 1,
                Err(e) => bad.push(format!("{}: {e}", p.display())),
            }
        }
    }
    for b in &bad {
        println!("DIFF {b}");
    }
    println!("{ok} files agree with tshark, {} differ", bad.len());
}

/// Builds a little-endian pcapng: SHB, one IDB with the given options, one EPB with the
/// given raw timestamp and 4 bytes of data.
fn pcapng_with_idb_options(opts: &[(u16, &[u8])], raw_ts: u64) -> Vec<u8> {
    fn block(out: &mut Vec<u8>, btype: u32, body: &[u8]) {
        let len = (12 + body.len()) as u32;
        out.extend_from_slice(&btype.to_le_bytes());
        out.extend_from_slice(&len.to_le_bytes());
        out.extend_from_slice(body);
        out.extend_from_slice(&len.to_le_bytes());
    }
    let mut f = Vec::new();
    // SHB: byte-order magic, version 1.0, section length -1 (unknown).
    let mut shb = Vec::new();
    shb.extend_from_slice(&0x1a2b_3c4du32.to_le_bytes());
    shb.extend_from_slice(&[1, 0, 0, 0]);
    shb.extend_from_slice(&(-1i64).to_le_bytes());
    block(&mut f, 0x0a0d_0d0a, &shb);
    // IDB: Ethernet, snaplen 0, options padded to 4, opt_endofopt.
    let mut idb = vec![1, 0, 0, 0, 0, 0, 0, 0];
    for (code, v) in opts {
        idb.extend_from_slice(&code.to_le_bytes());
        idb.extend_from_slice(&(v.len() as u16).to_le_bytes());
        idb.extend_from_slice(v);
        idb.resize(idb.len().next_multiple_of(4), 0);
    }
    idb.extend_from_slice(&[0, 0, 0, 0]);
    block(&mut f, 1, &idb);
    // EPB: interface 0, timestamp high/low, caplen 4, len 60, data.
    let mut epb = Vec::new();
    epb.extend_from_slice(&0u32.to_le_bytes());
    epb.extend_from_slice(&((raw_ts >> 32) as u32).to_le_bytes());
    epb.extend_from_slice(&(raw_ts as u32).to_le_bytes());
    epb.extend_from_slice(&4u32.to_le_bytes());
    epb.extend_from_slice(&60u32.to_le_bytes());
    epb.extend_from_slice(&[0xde, 0xad, 0xbe, 0xef]);
    block(&mut f, 6, &epb);
    f
}

fn only_frame(bytes: Vec<u8>) -> OwnedFrame {
    let mut r = CaptureReader::from_reader("test".into(), Box::new(Cursor::new(bytes))).unwrap();
    assert_eq!(r.format(), CaptureFormat::PcapNg);
    assert_eq!(r.link_types(), &[LinkType::ETHERNET]);
    let (frames, err) = read_all(&mut r);
    assert!(err.is_none(), "{err:?}");
    assert_eq!(frames.len(), 1);
    frames.into_iter().next().unwrap()
}

#[test]
fn pcapng_resolutions_and_offset() {
    // Default resolution: µs.
    let f = only_frame(pcapng_with_idb_options(&[], 1_700_000_000_123_456));
    assert_eq!(f.ts, Timestamp::from_secs_nanos(1_700_000_000, 123_456_000));
    assert_eq!(
        (f.wire_len, f.data.as_slice()),
        (60, &[0xde, 0xad, 0xbe, 0xef][..])
    );
    // if_tsresol 9: ns.
    let f = only_frame(pcapng_with_idb_options(
        &[(9, &[9])],
        1_700_000_000_123_456_789,
    ));
    assert_eq!(f.ts, Timestamp::from_secs_nanos(1_700_000_000, 123_456_789));
    // if_tsresol 12 (ps): divided down to ns.
    let f = only_frame(pcapng_with_idb_options(
        &[(9, &[12])],
        5_000_000_123_456_789,
    ));
    assert_eq!(f.ts, Timestamp::from_secs_nanos(5_000, 123_456));
    // if_tsresol 0x80 | 10: units of 2^-10 s. 1.5 s = 1536 units.
    let f = only_frame(pcapng_with_idb_options(&[(9, &[0x8a])], 1536));
    assert_eq!(f.ts, Timestamp::from_secs_nanos(1, 500_000_000));
    // 2^-30 s units: 2^30 + 2^29 units = 1.5 s.
    let f = only_frame(pcapng_with_idb_options(
        &[(9, &[0x9e])],
        (1 << 30) + (1 << 29),
    ));
    assert_eq!(f.ts, Timestamp::from_secs_nanos(1, 500_000_000));
    // if_tsoffset 1_000_000_000 s added to a µs timestamp; an unknown option before it is
    // skipped (code 0x1234, 3 bytes, padded).
    let off = 1_000_000_000i64.to_le_bytes();
    let f = only_frame(pcapng_with_idb_options(
        &[(0x1234, &[1, 2, 3]), (14, &off)],
        2_500_000,
    ));
    assert_eq!(f.ts, Timestamp::from_secs_nanos(1_000_000_002, 500_000_000));
}

#[test]
fn pcap_microseconds_and_nanoseconds() {
    // The same record in a µs and an ns file: ts_frac 123456.
    for (magic, want) in [(0xa1b2_c3d4u32, 123_456_000), (0xa1b2_3c4d, 123_456)] {
        for be in [false, true] {
            let w32 = |v: u32| if be { v.to_be_bytes() } else { v.to_le_bytes() };
            let w16 = |v: u16| if be { v.to_be_bytes() } else { v.to_le_bytes() };
            let mut f = Vec::new();
            f.extend_from_slice(&w32(magic));
            f.extend_from_slice(&w16(2));
            f.extend_from_slice(&w16(4));
            f.extend_from_slice(&[0; 8]);
            f.extend_from_slice(&w32(65535));
            f.extend_from_slice(&w32(101)); // LINKTYPE_RAW
            for v in [3_000_000_000u32, 123_456, 2, 40] {
                f.extend_from_slice(&w32(v));
            }
            f.extend_from_slice(&[0x45, 0]);
            let mut r = CaptureReader::from_reader("t".into(), Box::new(Cursor::new(f))).unwrap();
            assert_eq!(r.format(), CaptureFormat::Pcap);
            assert_eq!(r.link_types(), &[LinkType::RAW]);
            let (frames, err) = read_all(&mut r);
            assert!(err.is_none());
            // ts_sec past 2^31 is read as unsigned (year 2065), not negative.
            assert_eq!(
                frames[0].ts,
                Timestamp::from_secs_nanos(3_000_000_000, want),
                "magic {magic:x} be {be}"
            );
            assert_eq!((frames[0].wire_len, frames[0].data.len()), (40, 2));
        }
    }
}
