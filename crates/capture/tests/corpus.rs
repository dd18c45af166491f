//! Every file of the shared corpus: packet counts agree with capinfos (the MANIFEST's
//! `packets` column), non-captures are `NotACapture`, nothing panics or hangs.
#![allow(clippy::unwrap_used, reason = "test")]

mod common;

use std::io::Cursor;
use std::path::{Path, PathBuf};
use std::sync::mpsc;
use std::time::Duration;

use common::{corpus_dir, count_all, manifest};
use wirescope_capture::{CaptureError, CaptureReader};

/// Files whose count legitimately differs from capinfos', with the reason. Keep it short:
/// a mismatch is a bug until shown otherwise.
const ALLOW: &[(&str, &str)] = &[];

/// How long the whole corpus may take before we call it a hang (it reads in ~1 s in debug).
const TIMEOUT: Duration = Duration::from_secs(300);

#[derive(Debug)]
enum Outcome {
    /// `open` failed.
    OpenErr(CaptureError),
    /// Packets delivered, and the error that ended the read, if any.
    Read(u64, Option<CaptureError>),
}

fn files_under(dir: &Path, out: &mut Vec<PathBuf>) {
    let mut entries: Vec<_> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .collect();
    entries.sort();
    for p in entries {
        if p.is_dir() {
            files_under(&p, out);
        } else if p.is_file() {
            out.push(p);
        }
    }
}

fn outcome(r: Result<CaptureReader, CaptureError>) -> Outcome {
    match r {
        Ok(mut r) => {
            let (n, e) = count_all(&mut r);
            Outcome::Read(n, e)
        }
        Err(e) => Outcome::OpenErr(e),
    }
}

/// Wireshark decompresses gzip and zstd captures transparently; we do not (neither does
/// tcpdump), so the test decompresses them and checks the content.
fn decompressed(path: &Path) -> Option<Vec<u8>> {
    let magic = std::fs::read(path).ok()?.get(..4)?.to_vec();
    let tool = match magic.as_slice() {
        [0x1f, 0x8b, _, _] => "gzip",
        [0x28, 0xb5, 0x2f, 0xfd] => "zstd",
        _ => return None,
    };
    let out = std::process::Command::new(tool)
        .arg("-dc")
        .arg(path)
        .output()
        .ok()?;
    out.status.success().then_some(out.stdout)
}

#[test]
fn corpus_counts_match_capinfos() {
    let dir = corpus_dir();
    let rows = manifest();
    let mut files = Vec::new();
    files_under(&dir, &mut files);
    assert!(
        files.len() > 1000,
        "corpus looks incomplete: {} files",
        files.len()
    );

    let (tx, rx) = mpsc::channel();
    let worker_files = files.clone();
    std::thread::spawn(move || {
        for p in worker_files {
            let mut o = outcome(CaptureReader::open(&p));
            if let Outcome::OpenErr(CaptureError::NotACapture { .. }) = &o {
                if let Some(bytes) = decompressed(&p) {
                    o = outcome(CaptureReader::from_reader(
                        format!("{} (decompressed)", p.display()),
                        Box::new(Cursor::new(bytes)),
                    ));
                }
            }
            if tx.send((p, o)).is_err() {
                return;
            }
        }
    });

    let (mut checked, mut matched, mut non_captures, mut cut_short) = (0, 0, 0, 0);
    let mut mismatches = Vec::new();
    let mut allowed = Vec::new();
    for _ in 0..files.len() {
        let (path, o) = rx
            .recv_timeout(TIMEOUT)
            .expect("reading the corpus hung (or the worker panicked)");
        let rel = path
            .strip_prefix(&dir)
            .unwrap()
            .to_string_lossy()
            .into_owned();
        let expected = rows.get(&rel).and_then(|r| r.packets);
        let readable_by_tcpdump = rows
            .get(&rel)
            .is_some_and(|r| r.format == "unreadable/partial");
        let verdict: Result<(), String> = match (expected, &o) {
            (Some(n), Outcome::Read(got, None)) if *got == n => Ok(()),
            // capinfos stops at the bad record too: we deliver at least what it counted.
            (Some(n), Outcome::Read(got, Some(e))) if *got >= n => {
                cut_short += 1;
                println!("cut short (ok): {rel}: {got} packets (capinfos {n}); {e}");
                Ok(())
            }
            (Some(n), o) => Err(format!("capinfos counts {n}, we got {o:?}")),
            // capinfos refuses these only for their link types; they are valid pcap files.
            (None, Outcome::Read(_, None)) if readable_by_tcpdump => Ok(()),
            (None, Outcome::OpenErr(CaptureError::NotACapture { .. })) if !readable_by_tcpdump => {
                non_captures += 1;
                Ok(())
            }
            (None, o) => Err(format!("not a capture per the manifest, we got {o:?}")),
        };
        if expected.is_some() {
            checked += 1;
        }
        match verdict {
            Ok(()) => matched += usize::from(expected.is_some()),
            Err(why) => match ALLOW.iter().find(|(p, _)| *p == rel) {
                Some((_, reason)) => allowed.push(format!("{rel}: {why} — allowed: {reason}")),
                None => mismatches.push(format!("{rel}: {why}")),
            },
        }
    }
    println!(
        "corpus: {} files; {checked} with a capinfos count, {matched} match ({cut_short} cut short); \
         {non_captures} non-captures; {} allowed; {} mismatches",
        files.len(),
        allowed.len(),
        mismatches.len()
    );
    for a in &allowed {
        println!("ALLOWED {a}");
    }
    for m in &mismatches {
        println!("MISMATCH {m}");
    }
    assert!(
        mismatches.is_empty(),
        "{} mismatches (see stdout)",
        mismatches.len()
    );
    assert_eq!(
        allowed.len(),
        ALLOW.len(),
        "an allow-list entry no longer applies; remove it"
    );
}
