//! Shared by the integration tests and the bench: where the corpus is, and a tiny classic-pcap
//! reader (the real reader lives in `wirescope-capture`; this one only has to be obviously
//! right for well-formed files and bounded for broken ones).

#![allow(dead_code, reason = "each test binary uses a different part")]

use std::path::PathBuf;

/// The shared capture corpus: `$WIRESCOPE_CORPUS`, or `shared/corpus` beside the checkout.
pub fn corpus_dir() -> PathBuf {
    match std::env::var_os("WIRESCOPE_CORPUS") {
        Some(p) => PathBuf::from(p),
        None => PathBuf::from(concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/../../../shared/corpus"
        )),
    }
}

/// The corpus, or a panic that says how to provide it: a missing corpus fails, never skips.
pub fn require_corpus() -> PathBuf {
    let dir = corpus_dir();
    assert!(
        dir.join("MANIFEST.tsv").is_file(),
        "capture corpus not found at {} (set WIRESCOPE_CORPUS to the shared/corpus folder)",
        dir.display()
    );
    dir
}

/// One classic-pcap record: original length and captured bytes.
pub struct Record<'a> {
    pub wire_len: u32,
    pub data: &'a [u8],
}

/// A classic pcap file: link type and records. `None` if `file` is not classic pcap (pcapng,
/// gzip, ...). A record cut short by the end of the file ends the list.
pub struct Pcap<'a> {
    pub link: u16,
    pub records: Vec<Record<'a>>,
}

pub fn parse_pcap(file: &[u8]) -> Option<Pcap<'_>> {
    let magic: [u8; 4] = file.get(0..4)?.try_into().ok()?;
    // Microsecond (a1b2c3d4) or nanosecond (a1b23c4d) magic, in either byte order.
    let be = match magic {
        [0xa1, 0xb2, 0xc3, 0xd4] | [0xa1, 0xb2, 0x3c, 0x4d] => true,
        [0xd4, 0xc3, 0xb2, 0xa1] | [0x4d, 0x3c, 0xb2, 0xa1] => false,
        _ => return None,
    };
    let u32_at = |at: usize| -> Option<u32> {
        let b: [u8; 4] = file.get(at..at + 4)?.try_into().ok()?;
        Some(if be {
            u32::from_be_bytes(b)
        } else {
            u32::from_le_bytes(b)
        })
    };
    // The link type is the low 16 bits; the upper bits may carry FCS information.
    let link = (u32_at(20)? & 0xFFFF) as u16;
    let mut records = Vec::new();
    let mut at = 24;
    while let (Some(caplen), Some(wire_len)) = (u32_at(at + 8), u32_at(at + 12)) {
        let start = at + 16;
        let Some(data) = file.get(start..start + caplen as usize) else {
            break;
        };
        records.push(Record { wire_len, data });
        at = start + caplen as usize;
    }
    Some(Pcap { link, records })
}
