//! MergedReader: time order, counts, tie order, and an error in one input not stopping the
//! others.
#![allow(clippy::unwrap_used, reason = "test")]

mod common;

use std::io::Cursor;

use common::{corpus_file, read_all, OwnedFrame};
use wirescope_capture::{CaptureError, CaptureReader, MergedReader};

const A: &str = "robustness/nDPI-tests/tests/cfgs/default/pcap/1kxun.pcap";
const B: &str = "robustness/PcapPlusPlus-tests/Tests/Pcap++Test/PcapExamples/650HttpResponses.pcap";
const C: &str = "robustness/lwerdna-filesamples/200722_tcp_anon.pcapng";

fn open(rel: &str) -> CaptureReader {
    CaptureReader::open(&corpus_file(rel)).unwrap()
}

fn drain(m: &mut MergedReader) -> Vec<(OwnedFrame, usize)> {
    let mut out = Vec::new();
    while m.advance() {
        let f = m.current();
        let o = OwnedFrame {
            ts: f.ts,
            wire_len: f.wire_len,
            link: f.link,
            iface: f.iface,
            data: f.data.to_vec(),
        };
        out.push((o, m.current_source().unwrap()));
    }
    assert!(!m.advance(), "advance after the end");
    assert!(m.current().data.is_empty());
    out
}

fn sorted(frames: &[OwnedFrame]) -> bool {
    frames.windows(2).all(|w| w[0].ts <= w[1].ts)
}

#[test]
fn merged_stream_is_in_time_order_and_complete() {
    let counts: Vec<usize> = [A, B, C]
        .iter()
        .map(|f| read_all(&mut open(f)).0.len())
        .collect();
    for f in [A, B, C] {
        assert!(
            sorted(&read_all(&mut open(f)).0),
            "{f} itself is not in time order"
        );
    }
    let mut m = MergedReader::new(vec![open(A), open(B), open(C)]);
    let total = m.total_size().unwrap();
    let out = drain(&mut m);
    assert_eq!(out.len(), counts.iter().sum::<usize>());
    let frames: Vec<OwnedFrame> = out.iter().map(|(f, _)| f.clone()).collect();
    assert!(sorted(&frames), "merged timestamps decrease");
    for (i, n) in counts.iter().enumerate() {
        assert_eq!(out.iter().filter(|(_, s)| *s == i).count(), *n);
    }
    assert!(m.errors().is_empty());
    assert_eq!(m.bytes_consumed(), total);
}

#[test]
fn ties_go_to_the_earlier_input() {
    // A file merged with itself: a stable sort by (time, input).
    let (one, _) = read_all(&mut open(B));
    let mut m = MergedReader::new(vec![open(B), open(B)]);
    let out = drain(&mut m);
    let mut want: Vec<(OwnedFrame, usize, usize)> = (0..2)
        .flat_map(|s| one.iter().cloned().enumerate().map(move |(i, f)| (f, s, i)))
        .collect();
    want.sort_by_key(|(f, s, i)| (f.ts, *s, *i));
    assert_eq!(out.len(), want.len());
    for ((f, s), (wf, ws, _)) in out.iter().zip(&want) {
        assert_eq!((f, s), (wf, ws));
    }
}

#[test]
fn an_error_in_one_input_does_not_stop_the_others() {
    let bytes = std::fs::read(corpus_file(B)).unwrap();
    let cut = bytes.len() / 2 + 3;
    let mut half =
        CaptureReader::from_reader("half".into(), Box::new(Cursor::new(bytes[..cut].to_vec())))
            .unwrap();
    let (half_frames, _) = read_all(&mut half);
    let half =
        CaptureReader::from_reader("half".into(), Box::new(Cursor::new(bytes[..cut].to_vec())))
            .unwrap();
    let a = read_all(&mut open(A)).0.len();
    let mut m = MergedReader::new(vec![half, open(A)]);
    assert_eq!(m.total_size(), None, "one input has no known size");
    let out = drain(&mut m);
    assert_eq!(out.len(), a + half_frames.len());
    assert_eq!(m.errors().len(), 1);
    assert!(matches!(&m.errors()[0], CaptureError::Truncated { name, .. } if name == "half"));
}

#[test]
fn one_input_passes_straight_through() {
    let (want, _) = read_all(&mut open(C));
    let mut m = MergedReader::new(vec![open(C)]);
    let out: Vec<OwnedFrame> = drain(&mut m).into_iter().map(|(f, _)| f).collect();
    assert_eq!(out, want);
    assert!(!MergedReader::new(Vec::new()).advance());
}
