//! Hand-built broken inputs: each gives the right error, at the right offset, after the right
//! packets, and the error reads well.
#![allow(clippy::unwrap_used, reason = "test")]

mod common;

use std::io::Cursor;
use std::path::Path;

use common::{corpus_file, read_all};
use wirescope_capture::{CaptureError, CaptureFormat, CaptureReader, MAX_RECORD_LEN};
use wirescope_core::LinkType;

fn reader(bytes: Vec<u8>) -> Result<CaptureReader, CaptureError> {
    CaptureReader::from_reader("x.pcap".into(), Box::new(Cursor::new(bytes)))
}

/// Little-endian µs pcap header for a link type.
fn pcap_header(link: u32) -> Vec<u8> {
    let mut h = vec![0xd4, 0xc3, 0xb2, 0xa1, 2, 0, 4, 0];
    h.extend_from_slice(&[0; 8]);
    h.extend_from_slice(&65535u32.to_le_bytes());
    h.extend_from_slice(&link.to_le_bytes());
    h
}

fn pcap_record(out: &mut Vec<u8>, caplen: u32, len: u32, data: &[u8]) {
    for v in [1_600_000_000u32, 7, caplen, len] {
        out.extend_from_slice(&v.to_le_bytes());
    }
    out.extend_from_slice(data);
}

fn block(out: &mut Vec<u8>, btype: u32, body: &[u8]) {
    let len = (12 + body.len()) as u32;
    out.extend_from_slice(&btype.to_le_bytes());
    out.extend_from_slice(&len.to_le_bytes());
    out.extend_from_slice(body);
    out.extend_from_slice(&len.to_le_bytes());
}

fn shb() -> Vec<u8> {
    let mut f = Vec::new();
    let mut body = 0x1a2b_3c4du32.to_le_bytes().to_vec();
    body.extend_from_slice(&[1, 0, 0, 0]);
    body.extend_from_slice(&(-1i64).to_le_bytes());
    block(&mut f, 0x0a0d_0d0a, &body);
    f
}

fn idb(out: &mut Vec<u8>, link: u16) {
    let mut body = link.to_le_bytes().to_vec();
    body.extend_from_slice(&[0, 0, 0, 0, 0, 0]);
    block(out, 1, &body);
}

fn epb(out: &mut Vec<u8>, iface: u32, data: &[u8]) {
    let mut body = Vec::new();
    for v in [iface, 0, 1_000_000, data.len() as u32, data.len() as u32] {
        body.extend_from_slice(&v.to_le_bytes());
    }
    body.extend_from_slice(data);
    body.resize(body.len().next_multiple_of(4), 0);
    block(out, 6, &body);
}

#[test]
fn non_captures_are_not_a_capture() {
    for bytes in [
        &b""[..],
        b"ab",
        b"GET / HTTP/1.1\r\n",
        b"\x1f\x8b\x08\x00rest",
        b"snoopy\0\0 almost a snoop magic",
    ] {
        match reader(bytes.to_vec()) {
            Err(e @ CaptureError::NotACapture { .. }) => {
                let msg = e.to_string();
                assert!(
                    msg.starts_with("x.pcap: not a pcap or pcapng capture ("),
                    "{msg}"
                );
            }
            Err(e) => panic!("{bytes:?}: {e}"),
            Ok(_) => panic!("{bytes:?}: opened"),
        }
    }
    let e = CaptureReader::open(Path::new("/nonexistent/wirescope.pcap"))
        .err()
        .unwrap();
    assert!(matches!(e, CaptureError::Io { .. }));
    assert!(
        e.to_string().starts_with("/nonexistent/wirescope.pcap: "),
        "{e}"
    );
}

#[test]
fn short_pcap_header_is_truncated() {
    let e = reader(pcap_header(1)[..20].to_vec()).err().unwrap();
    assert!(
        matches!(e, CaptureError::Truncated { offset: 0, .. }),
        "{e}"
    );
}

#[test]
fn pcap_caplen_over_the_limit_is_corrupt_after_the_good_packets() {
    let mut f = pcap_header(1);
    pcap_record(&mut f, 4, 4, &[1, 2, 3, 4]);
    pcap_record(&mut f, MAX_RECORD_LEN + 1, 60, &[]);
    let mut r = reader(f).unwrap();
    let (frames, e) = read_all(&mut r);
    assert_eq!(frames.len(), 1);
    let e = e.unwrap();
    assert!(matches!(e, CaptureError::Corrupt { offset: 44, .. }), "{e}");
    let msg = e.to_string();
    assert!(
        msg.starts_with("x.pcap: corrupt at byte 44: record caplen 16777217"),
        "{msg}"
    );
    assert!(!msg.contains('\n'));
}

#[test]
fn pcap_wire_len_below_caplen_and_caplen_above_snaplen_are_kept() {
    let mut f = pcap_header(101);
    // snaplen is 65535; a 70000-byte record is still accepted (below the 16 MiB cap).
    let big = vec![0x45; 70_000];
    pcap_record(&mut f, big.len() as u32, 10, &big);
    let mut r = reader(f).unwrap();
    let (frames, e) = read_all(&mut r);
    assert!(e.is_none());
    assert_eq!((frames[0].data.len(), frames[0].wire_len), (70_000, 10));
    assert_eq!(frames[0].link, LinkType::RAW);
}

#[test]
fn records_larger_than_the_buffer_grow_it() {
    let mut f = pcap_header(1);
    let big: Vec<u8> = (0..3 * 1024 * 1024).map(|i| i as u8).collect();
    for _ in 0..3 {
        pcap_record(&mut f, 60, 60, &[9; 60]);
        pcap_record(&mut f, big.len() as u32, big.len() as u32, &big);
    }
    let mut r = reader(f).unwrap();
    let (frames, e) = read_all(&mut r);
    assert!(e.is_none());
    assert_eq!(frames.len(), 6);
    assert_eq!(frames[5].data, big);
}

#[test]
fn pcapng_bad_block_lengths_are_corrupt() {
    // Not a multiple of 4.
    let mut f = shb();
    let at = f.len() as u64;
    f.extend_from_slice(&[1, 0, 0, 0, 21, 0, 0, 0]);
    f.extend_from_slice(&[0; 13]);
    let e = read_all(&mut reader(f).unwrap()).1.unwrap();
    assert!(
        matches!(e, CaptureError::Corrupt { offset, .. } if offset == at),
        "{e}"
    );

    // Below 12.
    let mut f = shb();
    f.extend_from_slice(&[1, 0, 0, 0, 8, 0, 0, 0]);
    let e = read_all(&mut reader(f).unwrap()).1.unwrap();
    assert!(matches!(e, CaptureError::Corrupt { offset: 28, .. }), "{e}");

    // Trailing length differs, after one good packet.
    let mut f = shb();
    idb(&mut f, 1);
    epb(&mut f, 0, &[1, 2, 3]);
    let at = f.len() as u64;
    epb(&mut f, 0, &[4, 5, 6]);
    let n = f.len();
    f[n - 4] = 99;
    let (frames, e) = read_all(&mut reader(f).unwrap());
    assert_eq!(frames.len(), 1);
    let e = e.unwrap();
    assert!(
        matches!(e, CaptureError::Corrupt { offset, .. } if offset == at),
        "{e}"
    );
    assert!(e.to_string().contains("trailing block length"), "{e}");
}

#[test]
fn pcapng_unknown_interface_is_corrupt() {
    let mut f = shb();
    idb(&mut f, 1);
    epb(&mut f, 0, &[1]);
    epb(&mut f, 1, &[2]);
    let (frames, e) = read_all(&mut reader(f).unwrap());
    assert_eq!(frames.len(), 1);
    let e = e.unwrap();
    assert!(
        e.to_string().contains("interface 1, but the section has 1"),
        "{e}"
    );
}

#[test]
fn pcapng_unknown_blocks_and_new_sections() {
    let mut f = shb();
    idb(&mut f, 1);
    block(&mut f, 0x0bad, &[0; 12]); // custom block
    block(&mut f, 0x7777_0000, &[]); // unknown, empty body
    epb(&mut f, 0, &[1]);
    // Section 2: big-endian, one raw-IP interface; interface ids restart.
    let mut body = 0x1a2b_3c4du32.to_be_bytes().to_vec();
    body.extend_from_slice(&[0, 1, 0, 0]);
    body.extend_from_slice(&(-1i64).to_be_bytes());
    f.extend_from_slice(&[0x0a, 0x0d, 0x0d, 0x0a]);
    f.extend_from_slice(&28u32.to_be_bytes());
    f.extend_from_slice(&body);
    f.extend_from_slice(&28u32.to_be_bytes());
    // IDB (BE): link 101.
    f.extend_from_slice(&1u32.to_be_bytes());
    f.extend_from_slice(&20u32.to_be_bytes());
    f.extend_from_slice(&101u16.to_be_bytes());
    f.extend_from_slice(&[0; 6]);
    f.extend_from_slice(&20u32.to_be_bytes());
    // SPB (BE): original length 2, data padded.
    f.extend_from_slice(&3u32.to_be_bytes());
    f.extend_from_slice(&20u32.to_be_bytes());
    f.extend_from_slice(&2u32.to_be_bytes());
    f.extend_from_slice(&[0x45, 0x00, 0, 0]);
    f.extend_from_slice(&20u32.to_be_bytes());

    let mut r = reader(f).unwrap();
    assert_eq!(r.format(), CaptureFormat::PcapNg);
    assert_eq!(r.link_types(), &[LinkType::ETHERNET]);
    let (frames, e) = read_all(&mut r);
    assert!(e.is_none(), "{e:?}");
    assert_eq!(frames.len(), 2);
    assert_eq!(r.link_types(), &[LinkType::ETHERNET, LinkType::RAW]);
    // Interfaces are numbered across sections; the SPB reuses the last timestamp.
    assert_eq!(
        (frames[1].iface, frames[1].link, frames[1].data.as_slice()),
        (1, LinkType::RAW, &[0x45, 0][..])
    );
    assert_eq!(frames[1].ts, frames[0].ts);
}

#[test]
fn pcapng_link_types_known_after_open() {
    // test202: three sections, five IDBs; the first section declares two interfaces before
    // its first packet.
    let mut r = CaptureReader::open(&corpus_file(
        "robustness/pcapng-test-generator/output_be/difficult/test202.pcapng",
    ))
    .unwrap();
    let before = r.link_types().to_vec();
    assert!(!before.is_empty());
    let (frames, e) = read_all(&mut r);
    assert!(e.is_none());
    assert_eq!(frames.len(), 8);
    assert!(r.link_types().starts_with(&before));
}

#[test]
fn garbage_after_the_magic_never_panics() {
    // Pseudo-random bodies behind each magic: any outcome but a panic or a hang is fine.
    let magics: [&[u8]; 4] = [
        &[0xd4, 0xc3, 0xb2, 0xa1],
        &[0xa1, 0xb2, 0x3c, 0x4d],
        &[0x34, 0xcd, 0xb2, 0xa1],
        &[0x0a, 0x0d, 0x0d, 0x0a],
    ];
    let mut x: u64 = 1;
    for m in magics {
        for len in 0..400 {
            let mut f = m.to_vec();
            for _ in 0..len {
                x ^= x << 13;
                x ^= x >> 7;
                x ^= x << 17;
                // Mostly small bytes, so that length fields are often plausible.
                f.push(if x.is_multiple_of(3) {
                    (x >> 8) as u8
                } else {
                    (x >> 8) as u8 & 0x1f
                });
            }
            if let Ok(mut r) = reader(f) {
                let _ = read_all(&mut r);
            }
        }
    }
}

#[test]
fn short_simple_packet_block_is_corrupt() {
    let mut f = shb();
    idb(&mut f, 1);
    block(&mut f, 3, &[]); // an SPB of 12 bytes: no room for its original length
    let e = read_all(&mut reader(f).unwrap()).1.unwrap();
    assert!(
        e.to_string().contains("simple packet block too short"),
        "{e}"
    );
}

/// Well-framed pcapng blocks of random types and contents (a structure-aware fuzz): the
/// reader must end every one of them with a packet count or an error, never a panic (tests
/// build with overflow checks, so an unchecked subtraction would panic here).
#[test]
fn random_well_framed_blocks_never_panic() {
    let mut x: u64 = 0x9e37_79b9_7f4a_7c15;
    let mut next = move || {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        x
    };
    let types = [
        1u32,
        2,
        3,
        4,
        5,
        6,
        0x0a,
        0x0bad,
        0x0a0d_0d0a,
        0x4000_0bad,
        99,
    ];
    for _ in 0..3000 {
        let mut f = shb();
        for _ in 0..(next() % 8) {
            let t = types[(next() % types.len() as u64) as usize];
            if t == 0x0a0d_0d0a {
                f.extend_from_slice(&shb());
                continue;
            }
            let len = (next() % 12) as usize * 4;
            let body: Vec<u8> = (0..len)
                .map(|_| {
                    let v = next();
                    // Small values make plausible lengths, interface ids and option codes.
                    if v.is_multiple_of(2) {
                        (v >> 8) as u8 & 0x0f
                    } else {
                        (v >> 8) as u8
                    }
                })
                .collect();
            block(&mut f, t, &body);
        }
        if let Ok(mut r) = reader(f) {
            let _ = read_all(&mut r);
        }
    }
}
