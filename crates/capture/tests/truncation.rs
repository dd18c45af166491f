//! Real captures cut at many offsets: every complete packet before the cut is delivered, then
//! `Truncated` names the offset of the record that was cut; never a hang or a panic. Also: a
//! reader fed a few bytes per `read` call sees exactly the same packets.
#![allow(clippy::unwrap_used, reason = "test")]

mod common;

use std::io::{Cursor, Read};
use std::sync::mpsc;
use std::time::Duration;

use common::{corpus_file, read_all, OwnedFrame};
use wirescope_capture::{CaptureError, CaptureReader};

/// A µs pcap and a little-endian pcapng with several interfaces and non-packet blocks.
const PCAP: &str = "attacks/StopDDoS-packet-captures/amp.UDP.isakmp.pcap";
const PCAPNG: &str = "robustness/pcapng-test-generator/output_le/difficult/test202.pcapng";
const PCAPNG_BIG: &str = "robustness/lwerdna-filesamples/200722_tcp_anon.pcapng";

/// The file offsets at which a record or block ends, found without the reader under test.
fn boundaries(bytes: &[u8]) -> Vec<usize> {
    let mut b = Vec::new();
    if bytes.starts_with(&[0x0a, 0x0d, 0x0d, 0x0a]) {
        // pcapng: each SHB's byte-order magic gives the section's byte order.
        let mut at = 0;
        let mut be = false;
        while at + 8 <= bytes.len() {
            if bytes[at..at + 4] == [0x0a, 0x0d, 0x0d, 0x0a] {
                be = bytes[at + 8] == 0x1a;
            }
            let len: [u8; 4] = bytes[at + 4..at + 8].try_into().unwrap();
            at += if be {
                u32::from_be_bytes(len)
            } else {
                u32::from_le_bytes(len)
            } as usize;
            b.push(at);
        }
    } else {
        assert_eq!(
            &bytes[..4],
            &[0xd4, 0xc3, 0xb2, 0xa1],
            "little-endian µs pcap"
        );
        let mut at = 24;
        b.push(at);
        while at + 16 <= bytes.len() {
            at += 16 + u32::from_le_bytes(bytes[at + 8..at + 12].try_into().unwrap()) as usize;
            b.push(at);
        }
    }
    assert_eq!(b.last(), Some(&bytes.len()));
    b
}

/// The packets delivered, each with the file offset just past it, and the final error.
type Outcome = (Vec<(OwnedFrame, u64)>, Option<CaptureError>);

/// Reads `bytes`, reporting each packet's end offset with it.
fn read_with_ends(bytes: Vec<u8>) -> Result<Outcome, CaptureError> {
    let mut r = CaptureReader::from_reader("cut".into(), Box::new(Cursor::new(bytes)))?;
    let mut out = Vec::new();
    loop {
        match r.advance() {
            Ok(true) => {
                let f = r.current();
                let owned = OwnedFrame {
                    ts: f.ts,
                    wire_len: f.wire_len,
                    link: f.link,
                    iface: f.iface,
                    data: f.data.to_vec(),
                };
                out.push((owned, r.bytes_consumed()));
            }
            Ok(false) => return Ok((out, None)),
            Err(e) => {
                assert!(matches!(r.advance(), Ok(false)));
                return Ok((out, Some(e)));
            }
        }
    }
}

fn check_cuts(rel: &str) -> usize {
    let full = std::fs::read(corpus_file(rel)).unwrap();
    let bounds = boundaries(&full);
    let (all, err) = read_with_ends(full.clone()).unwrap();
    assert!(err.is_none(), "{rel}: {err:?}");
    assert!(all.len() > 3);

    // Every byte of the first 2 KiB, then 300 pseudo-random offsets (fixed-seed LCG).
    let mut cuts: Vec<usize> = (0..2048.min(full.len())).collect();
    let mut x: u64 = 0x2545_f491_4f6c_dd1d;
    for _ in 0..300 {
        x = x
            .wrapping_mul(6_364_136_223_846_793_005)
            .wrapping_add(1_442_695_040_888_963_407);
        cuts.push((x >> 33) as usize % full.len());
    }
    for &cut in &cuts {
        let result = read_with_ends(full[..cut].to_vec());
        // The last record/block boundary at or before the cut.
        let last_bound = bounds.iter().copied().filter(|&b| b <= cut).max();
        match result {
            Err(CaptureError::NotACapture { .. }) => {
                assert!(cut < 4, "{rel} cut {cut}: NotACapture")
            }
            Err(CaptureError::Truncated { offset: 0, .. }) => {
                assert!(
                    last_bound.is_none(),
                    "{rel} cut {cut}: header reported truncated"
                )
            }
            Err(e) => panic!("{rel} cut {cut}: open failed: {e}"),
            Ok((got, e)) => {
                let last_bound = last_bound.unwrap();
                let want: Vec<&OwnedFrame> = all
                    .iter()
                    .filter(|(_, end)| *end as usize <= cut)
                    .map(|(f, _)| f)
                    .collect();
                assert_eq!(got.len(), want.len(), "{rel} cut {cut}: packet count");
                assert!(
                    got.iter().map(|(f, _)| f).eq(want),
                    "{rel} cut {cut}: packets differ"
                );
                match e {
                    None => {
                        assert_eq!(last_bound, cut, "{rel} cut {cut}: no error inside a record")
                    }
                    Some(CaptureError::Truncated { offset, .. }) => {
                        assert_ne!(last_bound, cut, "{rel} cut {cut}: error at a clean end");
                        assert_eq!(offset as usize, last_bound, "{rel} cut {cut}: offset");
                    }
                    Some(other) => panic!("{rel} cut {cut}: {other}"),
                }
            }
        }
    }
    cuts.len()
}

/// Runs `f` on a thread and fails if it takes longer than `secs` (a hang).
fn within<T: Send + 'static>(secs: u64, f: impl FnOnce() -> T + Send + 'static) -> T {
    let (tx, rx) = mpsc::channel();
    std::thread::spawn(move || {
        let _ = tx.send(f());
    });
    rx.recv_timeout(Duration::from_secs(secs))
        .expect("hang (or panic) while reading")
}

#[test]
fn cut_pcap_at_many_offsets() {
    let n = within(300, || check_cuts(PCAP));
    assert!(n >= 2048);
}

#[test]
fn cut_pcapng_at_many_offsets() {
    within(300, || check_cuts(PCAPNG));
    within(300, || check_cuts(PCAPNG_BIG));
}

#[test]
fn truncated_error_names_file_and_offset() {
    let full = std::fs::read(corpus_file(PCAP)).unwrap();
    let bounds = boundaries(&full);
    let cut = bounds[3] + 5; // 5 bytes into the 4th record's header
    let (_, e) = read_with_ends(full[..cut].to_vec()).unwrap();
    let msg = e.unwrap().to_string();
    assert_eq!(
        msg,
        format!(
            "cut: truncated at byte {}: EOF inside a record header",
            bounds[3]
        )
    );
}

/// A `Read` that returns at most a few bytes per call, like a slow pipe.
struct Trickle {
    data: Vec<u8>,
    at: usize,
    step: usize,
}

impl Read for Trickle {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        self.step = self.step % 7 + 1;
        let n = self.step.min(buf.len()).min(self.data.len() - self.at);
        buf[..n].copy_from_slice(&self.data[self.at..self.at + n]);
        self.at += n;
        Ok(n)
    }
}

#[test]
fn short_reads_give_the_same_packets() {
    for rel in [PCAP, PCAPNG, PCAPNG_BIG] {
        let data = std::fs::read(corpus_file(rel)).unwrap();
        let mut a = CaptureReader::open(&corpus_file(rel)).unwrap();
        let mut b = CaptureReader::from_reader(
            "trickle".into(),
            Box::new(Trickle {
                data,
                at: 0,
                step: 0,
            }),
        )
        .unwrap();
        let (fa, ea) = read_all(&mut a);
        let (fb, eb) = read_all(&mut b);
        assert!(ea.is_none() && eb.is_none());
        assert_eq!(fa, fb, "{rel}");
        assert_eq!(a.bytes_consumed(), b.bytes_consumed());
        assert_eq!(Some(a.bytes_consumed()), a.file_size());
        assert_eq!(b.file_size(), None);
    }
}
