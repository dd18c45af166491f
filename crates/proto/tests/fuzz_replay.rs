//! Fuzz-corpus replay: every seed in `crates/proto/fuzz/corpus/<target>/` and [`MUTATIONS`]
//! deterministic mutations of it go through that target's parser (formats and targets in
//! `crates/proto/fuzz/README.md`).
//!
//! What is asserted, per input:
//! - no panic: each input (and each independent part of a target, e.g. each parser
//!   configuration) runs under `catch_unwind`; a panic is reported with the target, seed,
//!   mutation number and operation, the panic message and its location, and the test fails
//!   after the whole target has run (with `WIRESCOPE_FUZZ_DUMP=DIR` the failing inputs are
//!   written to `DIR/<target>/crash-...` for use as reproducers);
//! - bounded state: after every parser call the held bytes stay within the documented caps
//!   (`buffered_bytes()`, `TcpFramer::buffered()`, `HalfStream::buffered()`, the out-of-order
//!   budget, tracker and table sizes, kept field lengths);
//! - cheap documented invariants: DNS `questions()`/`records()` yield exactly
//!   `question_count()`/`record_count()` items and `12 + 5q + 11r <= len`; every name style
//!   agrees on whether a name decodes; stream `delivered + missed == offset == bytes handed
//!   out`, `Budget.used` equals what the streams hold and is back to 0 after `flush`; a
//!   finished HTTP parser emits nothing more; `reset()` gives a fresh parser (the same input
//!   gives the same result again); `take_done()` is true at most once.
//!
//! Bounded time is checked by counting, never by a clock: every loop in this harness is driven
//! by the input (at most `len / 3 + 1` conversation records, `len / 8 + 1` stream events, 81
//! prefixes for `ident`), and every iterator a parser hands out is consumed through
//! `take(bound + 1)` where `bound` follows from the input length (a record takes at least 11
//! octets, a DHCP option at least 2, an EDNS option 4, a name at most 128 labels), so an
//! iterator that does not end fails an assertion instead of hanging. Work that parsers do per
//! call is bounded the same way from outside: callbacks per call (transactions, framed
//! messages, stream chunks) are counted against the bytes fed. The total work of the replay is
//! therefore linear in the corpus size times `MUTATIONS`.
//!
//! Parser panics that are known and reported but not fixed yet are listed in [`KNOWN`]; the
//! test `known_panics_still_reproduce` fails once one of them no longer reproduces, so the
//! entry cannot outlive the bug.

use std::cell::{Cell, RefCell};
use std::fmt::Write as _;
use std::panic::{self, AssertUnwindSafe};
use std::path::{Path, PathBuf};
use std::sync::Once;

use wirescope_core::Timestamp;
use wirescope_proto::dhcp::{self, TxConfig, TxTable};
use wirescope_proto::dns::{
    self, Name, NameBuf, NameStyle, RData, TcpFramer, Tracker, HEADER_LEN, MAX_NAME_STEPS,
    MAX_NAME_WIRE_LEN, NAME_BUF_CAP, TCP_MAX_BUFFER,
};
use wirescope_proto::http::{HttpConfig, HttpParser, Transaction};
use wirescope_proto::ident::{self, Guess};
use wirescope_proto::openvpn::{self, opcode, OpenVpnParser};
use wirescope_proto::proxy::{self, ProxyHeader, ProxyReader, Step};
use wirescope_proto::socks::{self, SocksParser, SocksSession};
use wirescope_proto::ssh::SshParser;
use wirescope_proto::starttls::{self, Dialect, StartTlsParser, StartTlsSession};
use wirescope_proto::stream::{Budget, Chunk, HalfStream, StreamConfig};
use wirescope_proto::tls::{self, TlsConfig, TlsParser, TlsSession};
use wirescope_proto::Dir;

/// Mutations per seed (the seed itself runs too). `WIRESCOPE_FUZZ_MUTATIONS` overrides it for
/// a longer local run.
const MUTATIONS: usize = 80;

/// Seeds every target directory must hold.
const MIN_SEEDS: usize = 20;

/// Largest seed file accepted (the corpus is meant to stay small).
const MAX_SEED_FILE: usize = 64 * 1024;

const TARGETS: [&str; 11] = [
    "dns", "dns_tcp", "dhcp", "http", "tls", "ssh", "socks", "starttls", "proxy", "ident", "stream",
];

/// A known, reported parser panic: the target, a suffix of the panicking source file, a
/// substring of the message, and the seed file (in the target's directory) that reproduces it.
struct Known {
    target: &'static str,
    file: &'static str,
    message: &'static str,
    reproducer: &'static str,
}

// Fixed so far: `ident::tls(&[])` indexed `first[0]` without a length check (reproducer
// `ident/crash-tls-empty-input`, kept in the corpus as a regression seed).
const KNOWN: &[Known] = &[];

fn corpus_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("fuzz/corpus")
}

fn mutations() -> usize {
    std::env::var("WIRESCOPE_FUZZ_MUTATIONS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(MUTATIONS)
}

/// The seeds of a target, sorted by file name: (name, bytes). Panics (fails) when the
/// directory is missing or unreadable.
fn seeds(target: &str) -> Vec<(String, Vec<u8>)> {
    let dir = corpus_root().join(target);
    let rd = std::fs::read_dir(&dir)
        .unwrap_or_else(|e| panic!("fuzz corpus directory {} missing: {e}", dir.display()));
    let mut out = Vec::new();
    for entry in rd {
        let entry = entry.expect("directory entry");
        let name = entry.file_name().to_string_lossy().into_owned();
        if name.starts_with('.') || !entry.path().is_file() {
            continue;
        }
        let bytes = std::fs::read(entry.path()).expect("read seed");
        out.push((name, bytes));
    }
    out.sort();
    out
}

// ---------------------------------------------------------------------------------------
// Panic capture.

thread_local! {
    static CAPTURING: Cell<bool> = const { Cell::new(false) };
    static LAST_PANIC: RefCell<Option<(String, String)>> = const { RefCell::new(None) };
}

/// A captured panic: message and location (`file:line:col`).
#[derive(Debug)]
struct Panicked {
    message: String,
    location: String,
}

fn install_hook() {
    static ONCE: Once = Once::new();
    ONCE.call_once(|| {
        let default = panic::take_hook();
        panic::set_hook(Box::new(move |info| {
            if CAPTURING.with(Cell::get) {
                let message = if let Some(s) = info.payload().downcast_ref::<&str>() {
                    (*s).to_string()
                } else if let Some(s) = info.payload().downcast_ref::<String>() {
                    s.clone()
                } else {
                    "(non-string panic payload)".to_string()
                };
                let location = info
                    .location()
                    .map(|l| format!("{}:{}:{}", l.file(), l.line(), l.column()))
                    .unwrap_or_default();
                LAST_PANIC.with(|p| *p.borrow_mut() = Some((message, location)));
            } else {
                default(info);
            }
        }));
    });
}

/// Runs `f`, turning a panic into an error (quietly: the hook records it).
fn catch(f: impl FnOnce()) -> Result<(), Panicked> {
    install_hook();
    CAPTURING.with(|c| c.set(true));
    let r = panic::catch_unwind(AssertUnwindSafe(f));
    CAPTURING.with(|c| c.set(false));
    match r {
        Ok(()) => Ok(()),
        Err(_) => {
            let (message, location) = LAST_PANIC
                .with(|p| p.borrow_mut().take())
                .unwrap_or_else(|| ("(no message)".into(), String::new()));
            Err(Panicked { message, location })
        }
    }
}

fn known_for(target: &str, p: &Panicked) -> Option<&'static Known> {
    KNOWN.iter().find(|k| {
        k.target == target
            && p.location.split(':').next().unwrap_or("").ends_with(k.file)
            && p.message.contains(k.message)
    })
}

// ---------------------------------------------------------------------------------------
// Deterministic mutation.

/// xorshift64* with a fixed seed per (target, seed file, mutation).
struct Rng(u64);

impl Rng {
    fn new(seed: u64) -> Rng {
        Rng(seed | 1)
    }

    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_f491_4f6c_dd1d)
    }

    /// Uniform-ish in `0..n` (0 when `n == 0`).
    fn below(&mut self, n: usize) -> usize {
        if n == 0 {
            0
        } else {
            (self.next() % n as u64) as usize
        }
    }

    fn pick<T: Copy>(&mut self, items: &[T]) -> T {
        items[self.below(items.len())]
    }
}

fn fnv1a(parts: &[&[u8]]) -> u64 {
    let mut h = 0xcbf2_9ce4_8422_2325u64;
    for p in parts {
        for &b in *p {
            h ^= u64::from(b);
            h = h.wrapping_mul(0x0100_0000_01b3);
        }
        h ^= 0xff;
        h = h.wrapping_mul(0x0100_0000_01b3);
    }
    h
}

const INTERESTING: [u8; 10] = [0x00, 0xff, 0x7f, 0x80, 0x01, 0xfe, 0x40, 0xc0, 0x3f, 0x20];

/// How a target's seeds are structured (which structure-aware mutations apply).
#[derive(Clone, Copy, PartialEq, Eq)]
enum Shape {
    /// One message (DNS, DHCP) or an `ident` record: byte-level mutations only.
    Raw,
    /// A conversation of `[op][len:u16][bytes]` records.
    Conv,
    /// A `stream` segment script.
    Script,
}

/// One byte-level mutation of `b` in place; returns its description.
fn mutate_bytes(b: &mut Vec<u8>, other: &[u8], rng: &mut Rng) -> String {
    let len = b.len();
    match rng.below(9) {
        0 => {
            let k = 1 + rng.below(4);
            for _ in 0..k {
                if len > 0 {
                    let i = rng.below(len);
                    b[i] ^= 1 << rng.below(8);
                }
            }
            format!("flip {k} bits")
        }
        1 => {
            let k = 1 + rng.below(4);
            for _ in 0..k {
                if len > 0 {
                    let i = rng.below(len);
                    b[i] = rng.pick(&INTERESTING);
                }
            }
            format!("{k} interesting bytes")
        }
        2 => {
            let at = rng.below(len + 1);
            b.truncate(at);
            format!("truncate at {at}")
        }
        3 => {
            let a = rng.below(len + 1);
            let n = rng.below((len - a).min(256) + 1);
            let chunk = b[a..a + n].to_vec();
            let at = rng.below(b.len() + 1);
            let copies = if rng.below(4) == 0 {
                1 + rng.below(8)
            } else {
                1
            };
            for _ in 0..copies {
                b.splice(at..at, chunk.iter().copied());
            }
            format!("duplicate {n} bytes from {a} at {at} x{copies}")
        }
        4 => {
            let a = rng.below(len + 1);
            let n = rng.below((len - a).min(64) + 1);
            b.drain(a..a + n);
            format!("delete {n} bytes at {a}")
        }
        5 => {
            let oa = rng.below(other.len() + 1);
            let n = rng.below((other.len() - oa).min(512) + 1);
            let at = rng.below(len + 1);
            let cut = rng.below((len - at).min(512) + 1);
            b.splice(at..at + cut, other[oa..oa + n].iter().copied());
            format!("splice {n} bytes of another seed over {cut} at {at}")
        }
        6 => {
            // Length-field inflation: a 1- to 4-octet big-endian integer made large.
            let w = 1 + rng.below(4);
            if len < w {
                b.extend(std::iter::repeat_n(0xff, w));
                return "append 0xff".into();
            }
            let at = rng.below(len - w + 1);
            let how = rng.below(4);
            let field = &mut b[at..at + w];
            match how {
                0 => field.fill(0xff),
                1 => {
                    field.fill(0xff);
                    field[0] = 0x7f;
                }
                2 => {
                    field.fill(0);
                    field[0] = 0x80;
                }
                _ => {
                    // Add a small amount with carry (off-by-some lengths).
                    let mut add = 1 + rng.below(16) as u32;
                    for x in field.iter_mut().rev() {
                        let s = u32::from(*x) + add;
                        *x = s as u8;
                        add = s >> 8;
                    }
                }
            }
            format!("inflate {w}-byte field at {at} (mode {how})")
        }
        7 => {
            let at = rng.below(len + 1);
            let n = 1 + rng.below(16);
            let ins: Vec<u8> = (0..n).map(|_| rng.next() as u8).collect();
            b.splice(at..at, ins);
            format!("insert {n} random bytes at {at}")
        }
        _ => {
            if len == 0 {
                b.push(rng.next() as u8);
                return "push a byte".into();
            }
            let i = rng.below(len);
            let d = 1 + rng.below(35) as u8;
            b[i] = if rng.below(2) == 0 {
                b[i].wrapping_add(d)
            } else {
                b[i].wrapping_sub(d)
            };
            format!("add/sub {d} at {i}")
        }
    }
}

/// Mutation `i` of `seed`: the first four cut the seed at 1/5 .. 4/5 of its length, the rest
/// are drawn by `rng` (byte-level, or structure-aware for conversations and scripts).
fn mutate(shape: Shape, seed: &[u8], other: &[u8], i: usize, rng: &mut Rng) -> (Vec<u8>, String) {
    if i < 4 {
        let at = seed.len() * (i + 1) / 5;
        return (seed[..at].to_vec(), format!("truncate at {at}"));
    }
    let mut b = seed.to_vec();
    let structured = shape != Shape::Raw && rng.below(4) != 0;
    let what = match (shape, structured) {
        (Shape::Conv, true) => {
            let mut evs = decode_conv(&b);
            let w = mutate_conv(&mut evs, other, rng);
            b = encode_conv(&evs);
            w
        }
        (Shape::Script, true) => {
            let mut evs = decode_script(&b);
            let w = mutate_script(&mut evs, other, rng);
            b = encode_script(&evs);
            w
        }
        _ => mutate_bytes(&mut b, other, rng),
    };
    // Occasionally stack a second mutation.
    if rng.below(4) == 0 {
        let w2 = mutate_bytes(&mut b, other, rng);
        return (b, format!("{what}; {w2}"));
    }
    (b, what)
}

// ---------------------------------------------------------------------------------------
// Conversations: records `[op:u8][len:u16 BE][bytes]`; op bit 0 = direction (0 to the server),
// op bit 7 = gap of `len` bytes (no bytes follow). A record cut short takes what is left.

#[derive(Clone, Debug)]
enum Ev {
    Data(Dir, Vec<u8>),
    Gap(Dir, u16),
}

fn dir_of(op: u8) -> Dir {
    if op & 1 == 0 {
        Dir::ToServer
    } else {
        Dir::ToClient
    }
}

fn decode_conv(b: &[u8]) -> Vec<Ev> {
    let mut out = Vec::new();
    let mut p = 0;
    while p < b.len() {
        let op = b[p];
        let len = match b.get(p + 1..p + 3) {
            Some(l) => usize::from(u16::from_be_bytes([l[0], l[1]])),
            None => b.len() - p - 1,
        };
        let start = (p + 3).min(b.len());
        if op & 0x80 != 0 {
            out.push(Ev::Gap(dir_of(op), len as u16));
            p = start;
        } else {
            let end = (start + len).min(b.len());
            out.push(Ev::Data(dir_of(op), b[start..end].to_vec()));
            p = end;
        }
    }
    out
}

fn encode_conv(evs: &[Ev]) -> Vec<u8> {
    let mut out = Vec::new();
    for e in evs {
        match e {
            Ev::Data(d, bytes) => {
                for piece in bytes.chunks(0xffff) {
                    out.push(d.index() as u8);
                    out.extend_from_slice(&(piece.len() as u16).to_be_bytes());
                    out.extend_from_slice(piece);
                }
            }
            Ev::Gap(d, n) => {
                out.push(0x80 | d.index() as u8);
                out.extend_from_slice(&n.to_be_bytes());
            }
        }
    }
    out
}

fn mutate_conv(evs: &mut Vec<Ev>, other: &[u8], rng: &mut Rng) -> String {
    let n = evs.len();
    match rng.below(8) {
        0 | 1 => {
            // Mutate the bytes of one data record.
            let idx: Vec<usize> = (0..n).filter(|&i| matches!(evs[i], Ev::Data(..))).collect();
            if idx.is_empty() {
                evs.push(Ev::Data(Dir::ToServer, other.to_vec()));
                return "append another seed as data".into();
            }
            let i = rng.pick(&idx);
            if let Ev::Data(_, d) = &mut evs[i] {
                let w = mutate_bytes(d, other, rng);
                return format!("record {i}: {w}");
            }
            unreachable!()
        }
        2 => {
            // Re-chunk every data record into pieces of one size.
            let size = rng.pick(&[1usize, 2, 3, 5, 8, 13, 64, 511]);
            let mut out = Vec::new();
            for e in evs.drain(..) {
                match e {
                    Ev::Data(d, bytes) => {
                        for piece in bytes.chunks(size) {
                            out.push(Ev::Data(d, piece.to_vec()));
                        }
                    }
                    g => out.push(g),
                }
            }
            *evs = out;
            format!("rechunk by {size}")
        }
        3 => {
            // Merge adjacent data records of the same direction.
            let mut out: Vec<Ev> = Vec::new();
            for e in evs.drain(..) {
                match (out.last_mut(), e) {
                    (Some(Ev::Data(d0, a)), Ev::Data(d1, b)) if *d0 == d1 => a.extend(b),
                    (_, e) => out.push(e),
                }
            }
            *evs = out;
            "merge records".into()
        }
        4 => {
            let at = rng.below(n + 1);
            let len = rng.pick(&[0u16, 1, 2, 3, 4, 5, 17, 100, 1000, 0x7fff, 0xffff]);
            let d = if rng.below(2) == 0 {
                Dir::ToServer
            } else {
                Dir::ToClient
            };
            evs.insert(at, Ev::Gap(d, len));
            format!("insert gap of {len} at {at}")
        }
        5 if n > 0 => {
            let i = rng.below(n);
            evs.remove(i);
            format!("drop record {i}")
        }
        6 if n > 1 => {
            let i = rng.below(n - 1);
            evs.swap(i, i + 1);
            format!("swap records {i} and {}", i + 1)
        }
        _ if n > 0 => {
            let i = rng.below(n);
            let e = evs[i].clone();
            let flip = rng.below(2) == 0;
            let e = match e {
                Ev::Data(d, b) if flip => Ev::Data(d.flip(), b),
                e => e,
            };
            evs.insert(i + 1, e);
            format!("duplicate record {i} (flipped: {flip})")
        }
        _ => {
            evs.push(Ev::Data(Dir::ToClient, other.to_vec()));
            "append another seed as data".into()
        }
    }
}

// ---------------------------------------------------------------------------------------
// Stream scripts: events `[kind:u8][seq:u32 BE][flags:u8][len:u16 BE][bytes]`; kind bit 0 =
// half (0 client to server), bits 1-2 = 0 segment, 1 peer_ack, 2 flush, 3 begin; flags 0x02
// SYN, 0x01 FIN. An event cut short takes what is left (missing fields are 0).

#[derive(Clone, Debug)]
struct SEv {
    kind: u8,
    seq: u32,
    flags: u8,
    data: Vec<u8>,
}

fn decode_script(b: &[u8]) -> Vec<SEv> {
    let mut out = Vec::new();
    let mut p = 0;
    while p < b.len() {
        let mut hdr = [0u8; 8];
        let have = (b.len() - p).min(8);
        hdr[..have].copy_from_slice(&b[p..p + have]);
        let len = usize::from(u16::from_be_bytes([hdr[6], hdr[7]]));
        let start = (p + 8).min(b.len());
        let end = (start + len).min(b.len());
        out.push(SEv {
            kind: hdr[0],
            seq: u32::from_be_bytes([hdr[1], hdr[2], hdr[3], hdr[4]]),
            flags: hdr[5],
            data: b[start..end].to_vec(),
        });
        p = end;
    }
    out
}

fn encode_script(evs: &[SEv]) -> Vec<u8> {
    let mut out = Vec::new();
    for e in evs {
        let data = &e.data[..e.data.len().min(0xffff)];
        out.push(e.kind);
        out.extend_from_slice(&e.seq.to_be_bytes());
        out.push(e.flags);
        out.extend_from_slice(&(data.len() as u16).to_be_bytes());
        out.extend_from_slice(data);
    }
    out
}

fn mutate_script(evs: &mut Vec<SEv>, other: &[u8], rng: &mut Rng) -> String {
    let n = evs.len();
    if n == 0 {
        evs.push(SEv {
            kind: 0,
            seq: rng.next() as u32,
            flags: 0,
            data: other.to_vec(),
        });
        return "segment from another seed".into();
    }
    let i = rng.below(n);
    match rng.below(9) {
        0 | 1 => {
            let e = &mut evs[i];
            let len = e.data.len() as u32;
            let how = rng.below(8);
            e.seq = match how {
                0 => e.seq.wrapping_add(1),
                1 => e.seq.wrapping_sub(1),
                2 => e.seq.wrapping_add(len.max(1)),
                3 => e.seq.wrapping_sub(len.max(1)),
                4 => e.seq.wrapping_add(1 << 31),
                5 => rng.pick(&[0, u32::MAX, 0x7fff_ffff, 0x8000_0000]),
                6 => e.seq.wrapping_add(rng.next() as u32 % 70_000),
                _ => rng.next() as u32,
            };
            format!("event {i}: seq mode {how}")
        }
        2 => {
            evs[i].flags ^= rng.pick(&[0x01u8, 0x02, 0x03]);
            format!("event {i}: flip SYN/FIN")
        }
        3 if n > 1 => {
            let j = rng.below(n);
            evs.swap(i, j);
            format!("swap events {i} and {j}")
        }
        4 => {
            let mut e = evs[i].clone();
            if rng.below(2) == 0 {
                for x in &mut e.data {
                    *x ^= 0x5a;
                }
            }
            let at = rng.below(n + 1);
            evs.insert(at, e);
            format!("retransmit event {i} at {at}")
        }
        5 => {
            evs.remove(i);
            format!("drop event {i}")
        }
        6 => {
            let e = evs[i].clone();
            let cut = rng.below(e.data.len() + 1);
            let (a, b) = e.data.split_at(cut);
            let first = SEv {
                data: a.to_vec(),
                flags: e.flags & 0x02,
                ..e.clone()
            };
            let second = SEv {
                seq: e.seq.wrapping_add(cut as u32),
                data: b.to_vec(),
                flags: e.flags & 0x01,
                ..e
            };
            let reverse = rng.below(2) == 0;
            let pair = if reverse {
                [second, first]
            } else {
                [first, second]
            };
            evs.splice(i..=i, pair);
            format!("split event {i} at {cut} (reversed: {reverse})")
        }
        7 => {
            evs[i].kind = rng.below(8) as u8;
            format!("event {i}: kind {}", evs[i].kind)
        }
        _ => {
            let w = mutate_bytes(&mut evs[i].data, other, rng);
            format!("event {i}: {w}")
        }
    }
}

// ---------------------------------------------------------------------------------------
// Targets.

trait Target {
    const SHAPE: Shape;
    /// Independent parts run per input, each under its own `catch_unwind`.
    const PARTS: &'static [&'static str];
    /// Fresh state for one seed and its mutations (trackers and tables that aggregate over
    /// several inputs).
    fn new() -> Self;
    fn run(&mut self, part: usize, input: &[u8]);
    /// After the last input of a seed.
    fn end(&mut self) {}
}

// --- DNS messages

const STYLES: [NameStyle; 3] = [NameStyle::Escaped, NameStyle::Tshark, NameStyle::Suricata];

/// Names per message that get every check of [`check_name`]; the others get one label walk
/// and one `write_to` (a message of 64 KiB can hold ~13 000 names, each walking up to
/// `MAX_NAME_STEPS` labels and pointers, so checking all of them ten ways would dominate the
/// replay without finding more).
const FULL_NAME_CHECKS: usize = 32;

/// The light check of names after the first [`FULL_NAME_CHECKS`] of a message.
fn check_name_light(n: &Name<'_>, buf: &mut NameBuf) {
    let labels = n.labels().take(MAX_NAME_STEPS + 2).count();
    assert!(labels <= 128, "{labels} labels yielded for one name");
    if n.write_to(buf).is_err() {
        assert!(buf.is_empty(), "write_to left bytes behind after an error");
    }
    assert!(buf.len() <= NAME_BUF_CAP);
}

/// Checks the `k`-th name of a message (fully for the first few, lightly after that).
fn check_nth_name(k: &mut usize, n: &Name<'_>, bufs: &mut [NameBuf; 3]) {
    *k += 1;
    if *k <= FULL_NAME_CHECKS {
        check_name(n, bufs);
    } else {
        check_name_light(n, &mut bufs[*k % 3]);
    }
}

/// A name decoded in every style, and every other way a name can be read.
fn check_name(n: &Name<'_>, bufs: &mut [NameBuf; 3]) {
    // A name yields at most 127 labels (wire length < 255) plus an error item.
    let labels = n.labels().take(MAX_NAME_STEPS + 2).count();
    assert!(labels <= 128, "{labels} labels yielded for one name");
    let wire = n.wire_len();
    if let Ok(w) = wire {
        assert!(w <= MAX_NAME_WIRE_LEN, "wire length {w}");
    }
    let mut ok = None;
    for buf in bufs.iter_mut() {
        let r = n.write_to(buf);
        assert!(buf.len() <= NAME_BUF_CAP);
        if r.is_err() {
            assert!(buf.is_empty(), "write_to left bytes behind after {r:?}");
        }
        if buf.style() == NameStyle::Escaped {
            assert!(buf.as_str().is_ascii(), "escaped style is not ASCII");
        }
        match ok {
            None => ok = Some(r.is_ok()),
            Some(o) => assert_eq!(o, r.is_ok(), "name styles disagree: {r:?}"),
        }
    }
    let ok = ok == Some(true);
    assert_eq!(wire.is_ok(), ok, "wire_len {wire:?} vs write_to");
    let _ = n.is_root();
    if ok {
        assert!(n.eq_ignore_case(n));
    }
    let mut s = String::from("x");
    if n.push_to_string(NameStyle::Tshark, &mut s).is_err() {
        assert_eq!(s, "x", "push_to_string appended on error");
    }
}

/// Everything a DNS message offers; the tracker sees it as a query or a response.
fn check_dns(b: &[u8], tracker: &mut Tracker, capacity: usize, ts: Timestamp) {
    let m = match dns::parse(b) {
        Ok(m) => m,
        Err(e) => {
            assert!(
                b.len() < HEADER_LEN,
                "parse failed on {} bytes: {e}",
                b.len()
            );
            return;
        }
    };
    let h = *m.header();
    let _ = (
        h.qr(),
        h.opcode(),
        h.aa(),
        h.tc(),
        h.rd(),
        h.ra(),
        h.z(),
        h.ad(),
        h.cd(),
    );
    let (qc, rc) = (m.question_count(), m.record_count());
    assert!(
        HEADER_LEN + 5 * qc + 11 * rc <= b.len(),
        "{qc} questions and {rc} records in {} bytes",
        b.len()
    );
    let mut bufs = STYLES.map(NameBuf::with_style);
    let mut k = 0usize;
    let mut n = 0;
    for q in m.questions().take(qc + 1) {
        n += 1;
        check_nth_name(&mut k, &q.name, &mut bufs);
        let _ = (q.unicast_response(), q.mdns_class());
        let _ = (dns::rtype_name(q.qtype), dns::zeek_qtype_name(q.qtype));
        let _ = dns::class_name(q.qclass);
    }
    assert_eq!(n, qc, "questions() yielded {n}, question_count() {qc}");
    let mut n = 0;
    let mut text = String::new();
    for (_, r) in m.records().take(rc + 1) {
        n += 1;
        check_nth_name(&mut k, &r.name, &mut bufs);
        let _ = r.cache_flush();
        let len = r.rdata_bytes.len();
        assert!(len <= b.len());
        match r.rdata {
            RData::Name(x) => {
                check_nth_name(&mut k, &x, &mut bufs);
            }
            RData::Mx { exchange, .. } => {
                check_nth_name(&mut k, &exchange, &mut bufs);
            }
            RData::Soa { mname, rname, .. } => {
                check_nth_name(&mut k, &mname, &mut bufs);
                check_nth_name(&mut k, &rname, &mut bufs);
            }
            RData::Srv { target, .. } => {
                check_nth_name(&mut k, &target, &mut bufs);
            }
            RData::Txt(d) => {
                let k = dns::txt_strings(d).take(d.len() + 2).count();
                assert!(k <= d.len(), "{k} TXT strings in {} bytes", d.len());
            }
            RData::Opt(d) => {
                let k = dns::edns_options(d).take(d.len() / 4 + 2).count();
                assert!(k <= d.len() / 4, "{k} EDNS options in {} bytes", d.len());
            }
            RData::A(_) | RData::Aaaa(_) | RData::Other(_) | RData::Malformed(_) => {}
        }
        text.clear();
        dns::format_rdata(&r, &mut text);
        assert!(
            text.len() <= 5 * len + NAME_BUF_CAP,
            "format_rdata wrote {} bytes for {len}",
            text.len()
        );
        let _ = dns::has_rdata_text(r.rtype);
    }
    assert_eq!(n, rc, "records() yielded {n}, record_count() {rc}");
    let (an, ns, ar) = m.section_counts();
    assert_eq!(usize::from(an) + usize::from(ns) + usize::from(ar), rc);
    if let Some(e) = m.edns() {
        assert!(e.opt_records <= ar);
        assert!(usize::from(e.option_count) <= b.len() / 4);
    }
    let _ = (dns::rcode_name(m.rcode()), dns::zeek_rcode_name(m.rcode()));
    assert!(m.trailing_bytes() <= b.len() - HEADER_LEN);
    assert_eq!(m.truncated(), m.error().is_some());
    let _ = m.first_question();
    if h.qr() {
        let _ = tracker.on_response(&m, ts);
    } else {
        tracker.on_query(&m, ts);
    }
    assert!(tracker.pending() <= capacity);
}

struct DnsT {
    tracker: Tracker,
    n: i64,
}

const SMALL_TRACKER: usize = 4;

impl Target for DnsT {
    const SHAPE: Shape = Shape::Raw;
    const PARTS: &'static [&'static str] = &["message"];

    fn new() -> Self {
        DnsT {
            tracker: Tracker::with_capacity(SMALL_TRACKER, NameStyle::Suricata),
            n: 0,
        }
    }

    fn run(&mut self, _: usize, input: &[u8]) {
        self.n += 1;
        check_dns(input, &mut self.tracker, SMALL_TRACKER, Timestamp(self.n));
    }

    fn end(&mut self) {
        let mut k = 0;
        self.tracker.drain(&mut |_| k += 1);
        assert!(k <= SMALL_TRACKER);
        assert_eq!(self.tracker.pending(), 0);
    }
}

// --- DNS over TCP

struct DnsTcpT {
    tracker: Tracker,
}

impl Target for DnsTcpT {
    const SHAPE: Shape = Shape::Conv;
    const PARTS: &'static [&'static str] = &["framer"];

    fn new() -> Self {
        DnsTcpT {
            tracker: Tracker::new(),
        }
    }

    fn run(&mut self, _: usize, input: &[u8]) {
        let mut framers = [TcpFramer::new(), TcpFramer::new()];
        let mut delivered = [0u64; 2];
        for (i, ev) in decode_conv(input).iter().enumerate() {
            let ts = Timestamp(i as i64);
            match ev {
                Ev::Data(d, bytes) => {
                    let f = &mut framers[d.index()];
                    let tracker = &mut self.tracker;
                    let mut msgs = 0usize;
                    f.feed(bytes, &mut |m| {
                        msgs += 1;
                        assert!(m.len() <= 0xffff);
                        check_dns(m, tracker, dns::DEFAULT_TRACKER_CAPACITY, ts);
                    });
                    // At most one message finished from the buffer, then each takes >= 2 bytes.
                    assert!(
                        msgs <= 1 + bytes.len() / 2,
                        "{msgs} messages from {}",
                        bytes.len()
                    );
                    delivered[d.index()] += msgs as u64;
                }
                Ev::Gap(d, _) => {
                    framers[d.index()].gap();
                    assert_eq!(framers[d.index()].buffered(), 0);
                }
            }
            for f in &framers {
                assert!(f.buffered() <= TCP_MAX_BUFFER);
                assert!(
                    f.buffer_capacity() <= TCP_MAX_BUFFER,
                    "capacity {}",
                    f.buffer_capacity()
                );
            }
        }
        for (f, n) in framers.iter().zip(delivered) {
            assert_eq!(f.messages(), n);
        }
    }
}

// --- DHCP

struct DhcpT {
    table: TxTable,
    n: i64,
}

const DHCP_TABLE: usize = 3;

fn check_dhcp_tx(t: &dhcp::Transaction) {
    for (what, v) in [
        ("host_name", &t.host_name),
        ("client_fqdn", &t.client_fqdn),
        ("domain", &t.domain),
        ("client_message", &t.client_message),
        ("server_message", &t.server_message),
    ] {
        assert!(v.len() <= 255, "{what} holds {} bytes", v.len());
    }
    assert!(t.msg_types.len() <= dhcp::MAX_MSG_TYPES);
    assert!(t.last_ts >= t.ts);
}

impl Target for DhcpT {
    const SHAPE: Shape = Shape::Raw;
    const PARTS: &'static [&'static str] = &["message"];

    fn new() -> Self {
        DhcpT {
            table: TxTable::with_config(TxConfig {
                capacity: DHCP_TABLE,
                ..TxConfig::default()
            }),
            n: 0,
        }
    }

    fn run(&mut self, _: usize, input: &[u8]) {
        self.n += 1;
        let m = match dhcp::parse(input) {
            Ok(m) => m,
            Err(e) => {
                assert!(input.len() < dhcp::FIXED_LEN, "parse failed: {e}");
                return;
            }
        };
        // Every option but Pad takes at least 2 octets of the three option areas.
        let areas = input.len().saturating_sub(dhcp::FIXED_LEN + 4) + 128 + 64;
        let k = m.options().take(areas / 2 + 2).count();
        assert!(k <= areas / 2, "{k} options in {areas} bytes");
        let _ = (
            m.has_magic_cookie(),
            m.mac(),
            m.overload(),
            m.options_malformed(),
        );
        assert!(m.sname().is_none_or(|s| s.len() <= 64));
        assert!(m.file().is_none_or(|s| s.len() <= 128));
        for code in [
            0u8, 1, 3, 6, 12, 15, 50, 51, 52, 53, 54, 55, 56, 60, 61, 81, 255,
        ] {
            let _ = m.option(code);
        }
        let _ = (
            m.msg_type(),
            m.requested_ip(),
            m.lease_time(),
            m.server_id(),
        );
        let _ = (m.hostname(), m.domain(), m.client_id(), m.vendor_class());
        let _ = (m.subnet_mask(), m.param_request_list(), m.message());
        assert!(m.routers().take(65).count() <= 64);
        assert!(m.dns_servers().take(65).count() <= 64);
        let _ = m.is_from_client();
        let _ = dhcp::msg_type_name(m.msg_type().unwrap_or(0));
        if let (Some(name), Some(flags)) = (m.client_fqdn(), m.client_fqdn_flags()) {
            let mut out = Vec::new();
            dhcp::fqdn_to_text(flags, name, &mut out);
            assert!(out.len() <= name.len());
        }
        let ts = Timestamp(self.n * 2_000_000_000);
        let src = if self.n % 3 == 0 {
            std::net::Ipv4Addr::UNSPECIFIED
        } else {
            std::net::Ipv4Addr::new(10, 0, 0, 1)
        };
        let dst = std::net::Ipv4Addr::BROADCAST;
        self.table.on_message(&m, ts, src, dst, &mut check_dhcp_tx);
        self.table.expire(ts, &mut check_dhcp_tx);
        assert!(self.table.len() <= DHCP_TABLE);
    }

    fn end(&mut self) {
        self.table.flush(&mut check_dhcp_tx);
        assert!(self.table.is_empty());
    }
}

// --- HTTP

const HTTP_TINY: HttpConfig = HttpConfig {
    max_head_bytes: 64,
    max_pending: 2,
    max_uri: 16,
    max_field: 8,
};

fn http_cfg(part: usize) -> HttpConfig {
    if part == 0 {
        HttpConfig::default()
    } else {
        HTTP_TINY
    }
}

fn check_http_tx(t: &Transaction, cfg: &HttpConfig) {
    assert!(t.trans_depth >= 1);
    assert!(t.uri.len() <= cfg.max_uri, "uri of {} bytes", t.uri.len());
    for (what, v) in [
        ("method", &t.method),
        ("version", &t.version),
        ("host", &t.host),
        ("user_agent", &t.user_agent),
        ("referer", &t.referer),
        ("origin", &t.origin),
        ("request_content_type", &t.request_content_type),
        ("status_msg", &t.status_msg),
        ("response_version", &t.response_version),
        ("info_msg", &t.info_msg),
        ("response_content_type", &t.response_content_type),
        ("location", &t.location),
        ("username", &t.username),
    ] {
        assert!(v.len() <= cfg.max_field, "{what} of {} bytes", v.len());
    }
}

/// Runs a conversation; returns the transactions in emission order.
fn run_http(p: &mut HttpParser, evs: &[Ev], cfg: &HttpConfig) -> Vec<Transaction> {
    let bound =
        2 * cfg.max_head_bytes + (cfg.max_pending.max(1) + 2) * (cfg.max_uri + 13 * cfg.max_field);
    let mut txs = Vec::new();
    let mut fed = 0usize;
    for (i, ev) in evs.iter().enumerate() {
        let ts = Timestamp(i as i64 * 1_000_000);
        match ev {
            Ev::Data(d, bytes) => {
                fed += bytes.len();
                p.feed(*d, ts, bytes, &mut |t| {
                    check_http_tx(t, cfg);
                    txs.push(t.clone());
                });
            }
            Ev::Gap(d, n) => p.gap(*d, u64::from(*n)),
        }
        let held = p.buffered_bytes();
        assert!(held <= bound, "buffered_bytes {held} over {bound}");
        assert!(
            txs.len() <= fed,
            "{} transactions from {fed} bytes",
            txs.len()
        );
    }
    p.finish(Timestamp(evs.len() as i64 * 1_000_000), &mut |t| {
        check_http_tx(t, cfg);
        txs.push(t.clone());
    });
    assert!(
        txs.len() <= fed,
        "{} transactions from {fed} bytes",
        txs.len()
    );
    let _ = (p.anomalies(), p.is_tunnel());
    txs
}

struct HttpT;

impl Target for HttpT {
    const SHAPE: Shape = Shape::Conv;
    const PARTS: &'static [&'static str] = &["default config", "tiny config"];

    fn new() -> Self {
        HttpT
    }

    fn run(&mut self, part: usize, input: &[u8]) {
        let cfg = http_cfg(part);
        let evs = decode_conv(input);
        let mut p = HttpParser::new(cfg);
        let first = run_http(&mut p, &evs, &cfg);
        let mut late = 0;
        p.feed(
            Dir::ToServer,
            Timestamp(0),
            b"GET / HTTP/1.1\r\n\r\n",
            &mut |_| late += 1,
        );
        p.feed(
            Dir::ToClient,
            Timestamp(0),
            b"HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n",
            &mut |_| late += 1,
        );
        p.finish(Timestamp(0), &mut |_| late += 1);
        assert_eq!(late, 0, "a finished parser emitted transactions");
        p.reset();
        let again = run_http(&mut p, &evs, &cfg);
        assert!(first == again, "reset() parser gave different transactions");
    }
}

// --- TLS

fn tls_cfg(part: usize) -> TlsConfig {
    if part == 0 {
        TlsConfig::default()
    } else {
        TlsConfig {
            max_handshake_msg: 300,
            max_certs: 1,
        }
    }
}

fn check_tls_session(s: &TlsSession, cfg: &TlsConfig) {
    assert!(s.alerts.len() <= tls::MAX_ALERTS);
    assert!(s.history.len() <= tls::MAX_HISTORY);
    assert!(s.certs.len() <= cfg.max_certs);
    assert!(s.retry_client_hello.is_none() || (s.hello_retry && s.client_hello.is_some()));
    for ch in [&s.client_hello, &s.retry_client_hello]
        .into_iter()
        .flatten()
    {
        assert!(ch.sni.len() <= tls::hello::MAX_SNI);
        assert!(ch.alpn.len() <= tls::hello::MAX_ALPN);
        assert!(ch.ja3_hash.is_empty() || ch.ja3_hash.len() == 32);
    }
    if let Some(sh) = &s.server_hello {
        assert!(sh.ja3s_hash.is_empty() || sh.ja3s_hash.len() == 32);
    }
    let name_cap = tls::x509::MAX_NAME_LEN + 8 * cfg.max_handshake_msg;
    for c in &s.certs {
        assert!(c.san_dns.len() <= tls::x509::MAX_SAN_DNS);
        for n in &c.san_dns {
            // Kept bytes are capped; their presentation may escape each byte.
            assert!(
                n.len() <= 4 * tls::x509::MAX_SAN_LEN,
                "SAN of {} bytes",
                n.len()
            );
        }
        for n in [&c.subject, &c.issuer, &c.subject_zeek, &c.issuer_zeek] {
            assert!(n.len() <= name_cap);
        }
    }
    let _ = (s.version(), s.last_alert());
}

/// Runs a conversation; returns the session and anomaly counters at the end.
fn run_tls(p: &mut TlsParser, evs: &[Ev], cfg: &TlsConfig) -> (TlsSession, tls::TlsAnomalies) {
    let bound = 2 * (cfg.max_handshake_msg + 5 + 4 + 2);
    let mut done = 0;
    let mut seen = [false; 2];
    for ev in evs {
        match ev {
            Ev::Data(d, bytes) => {
                if !seen[d.index()] {
                    seen[d.index()] = true;
                    for n in 0..=bytes.len().min(8) {
                        let _ = TlsParser::looks_like_tls(&bytes[..n]);
                    }
                }
                p.feed(*d, bytes);
            }
            Ev::Gap(d, n) => p.gap(*d, u64::from(*n)),
        }
        let held = p.buffered_bytes();
        assert!(held <= bound, "buffered_bytes {held} over {bound}");
        check_tls_session(p.session(), cfg);
        if p.take_done() {
            done += 1;
        }
        assert!(done <= 1, "take_done() true twice");
        if done == 1 {
            assert!(p.is_done());
        }
    }
    let _ = p.anomalies().total();
    (p.session().clone(), p.anomalies().clone())
}

struct TlsT;

impl Target for TlsT {
    const SHAPE: Shape = Shape::Conv;
    const PARTS: &'static [&'static str] = &["default config", "tiny config", "openvpn"];

    fn new() -> Self {
        TlsT
    }

    fn run(&mut self, part: usize, input: &[u8]) {
        if part == 2 {
            return run_openvpn(input);
        }
        let cfg = tls_cfg(part);
        let evs = decode_conv(input);
        let mut p = TlsParser::new(cfg.clone());
        let first = run_tls(&mut p, &evs, &cfg);
        p.reset();
        let again = run_tls(&mut p, &evs, &cfg);
        assert!(first == again, "reset() parser gave a different session");
    }
}

/// One OpenVPN packet over TCP: length, opcode (key ID 0), session ID, `auth` octets of
/// HMAC and replay fields, an empty ACK array, the message ID and the payload.
fn openvpn_packet(op: u8, auth: usize, id: u32, payload: &[u8]) -> Vec<u8> {
    let mut p = vec![op << 3];
    p.extend_from_slice(&[0x5a; 8]);
    p.extend((0..auth).map(|i| (i as u8) | 0x80));
    p.push(0);
    p.extend_from_slice(&id.to_be_bytes());
    p.extend_from_slice(payload);
    let mut framed = (p.len() as u16).to_be_bytes().to_vec();
    framed.extend(p);
    framed
}

/// The OpenVPN part of the `tls` target: the conversation's bytes go to an `OpenVpnParser`
/// as they are (no panic, bounded state), then, when it has no gaps, wrapped in OpenVPN
/// control packets (resets first, pieces of at most 1 200 octets, an HMAC length picked by
/// the input) — the control channel's TLS session must equal a plain `TlsParser`'s.
fn run_openvpn(input: &[u8]) {
    let evs = decode_conv(input);
    let tls_bound = 2 * (TlsConfig::default().max_handshake_msg + 5 + 4 + 2);
    let bound = 2 * openvpn::MAX_CONTROL + tls_bound;
    let mut p = OpenVpnParser::new();
    for ev in &evs {
        match ev {
            Ev::Data(d, bytes) => p.feed(*d, bytes),
            Ev::Gap(d, n) => p.gap(*d, u64::from(*n)),
        }
        assert!(p.buffered_bytes() <= bound, "held {}", p.buffered_bytes());
        check_tls_session(p.tls().session(), &TlsConfig::default());
        let a = p.anomalies();
        let _ = (
            a.malformed,
            a.duplicates,
            a.missing,
            p.auth_len(),
            p.failed(),
        );
        // Each client reset must fit one of the lengths, and once learned it stays.
        assert!(p
            .auth_len()
            .is_none_or(|a| openvpn::AUTH_LENGTHS.contains(&a)));
    }
    if evs.iter().any(|e| matches!(e, Ev::Gap(..))) {
        return;
    }
    let auth = openvpn::AUTH_LENGTHS[input.len() % openvpn::AUTH_LENGTHS.len()];
    let mut plain = TlsParser::new(TlsConfig::default());
    p.reset();
    p.feed(
        Dir::ToServer,
        &openvpn_packet(opcode::HARD_RESET_CLIENT_V2, auth, 0, &[]),
    );
    p.feed(
        Dir::ToClient,
        &openvpn_packet(opcode::HARD_RESET_SERVER_V2, auth, 0, &[]),
    );
    let mut ids = [1u32; 2];
    for ev in &evs {
        if let Ev::Data(d, bytes) = ev {
            plain.feed(*d, bytes);
            for piece in bytes.chunks(1200) {
                let id = &mut ids[d.index()];
                p.feed(*d, &openvpn_packet(opcode::CONTROL_V1, auth, *id, piece));
                *id += 1;
            }
        }
    }
    assert!(!p.failed(), "wrapped conversation failed (auth {auth})");
    assert_eq!(p.auth_len(), Some(auth));
    assert!(
        p.tls().session() == plain.session(),
        "the control channel's TLS session differs from the plain parse"
    );
}

// --- SSH

const SSH_MAX_LINE: usize = 255;
const SSH_MAX_PACKET: usize = 35_000;
const SSH_MAX_LIST: usize = 1024;

fn run_ssh(p: &mut SshParser, evs: &[Ev]) -> wirescope_proto::ssh::SshSession {
    let mut done = 0;
    let mut seen = [false; 2];
    for ev in evs {
        match ev {
            Ev::Data(d, bytes) => {
                if !seen[d.index()] {
                    seen[d.index()] = true;
                    for n in 0..=bytes.len().min(5) {
                        let _ = SshParser::looks_like_ssh(&bytes[..n]);
                    }
                }
                p.feed(*d, bytes);
            }
            Ev::Gap(d, n) => p.gap(*d, u64::from(*n)),
        }
        let held = p.buffered_bytes();
        assert!(held <= 2 * (4 + SSH_MAX_PACKET), "buffered_bytes {held}");
        let s = p.session();
        for e in [&s.client, &s.server] {
            assert!(
                e.banner.len() <= SSH_MAX_LINE,
                "banner of {}",
                e.banner.len()
            );
            for l in &e.kex_lists {
                assert!(l.len() <= SSH_MAX_LIST, "name-list of {}", l.len());
            }
        }
        for i in 0..8 {
            assert!(s.negotiated(i).is_none_or(|a| a.len() <= SSH_MAX_LIST));
        }
        let _ = (s.version(), p.anomalies());
        if p.take_done() {
            done += 1;
        }
        assert!(done <= 1, "take_done() true twice");
        if done == 1 {
            assert!(p.reported());
        }
    }
    p.session().clone()
}

struct SshT;

impl Target for SshT {
    const SHAPE: Shape = Shape::Conv;
    const PARTS: &'static [&'static str] = &["parser"];

    fn new() -> Self {
        SshT
    }

    fn run(&mut self, _: usize, input: &[u8]) {
        let evs = decode_conv(input);
        let mut p = SshParser::new();
        let first = run_ssh(&mut p, &evs);
        p.reset();
        let again = run_ssh(&mut p, &evs);
        assert!(first == again, "reset() parser gave a different session");
    }
}

// --- socks

/// What one run of the SOCKS parser produced: the session, the tunnelled bytes handed over
/// per direction and those counted as lost.
type SocksRun = (SocksSession, [Vec<u8>; 2], [u64; 2]);

fn run_socks(p: &mut SocksParser, evs: &[Ev]) -> SocksRun {
    let mut done = 0;
    let mut failed_first = false;
    let mut seen = [false; 2];
    let mut fed = 0usize;
    for ev in evs {
        match ev {
            Ev::Data(d, bytes) => {
                if !seen[d.index()] {
                    seen[d.index()] = true;
                    for n in 0..=bytes.len().min(socks::SIGNATURE_BYTES + 1) {
                        let g = socks::looks_like_client(&bytes[..n]);
                        assert!(
                            n < socks::SIGNATURE_BYTES || g.is_some(),
                            "looks_like_client undecided after {n} bytes"
                        );
                    }
                }
                fed += bytes.len();
                p.feed(*d, bytes);
            }
            Ev::Gap(d, n) => p.gap(*d, u64::from(*n)),
        }
        let held = p.buffered_bytes();
        assert!(
            held <= 2 * socks::BUF_CAP && held <= fed,
            "buffered_bytes {held} (fed {fed})"
        );
        let s = p.session();
        assert!(s.user.len() <= socks::MAX_NAME, "user of {}", s.user.len());
        assert!(s.request.name.len() <= socks::MAX_NAME);
        assert!(s.bound.name.len() <= socks::MAX_NAME);
        assert!(s.methods.len() <= 255);
        assert!(matches!(s.version, 0 | 4 | 5), "version {}", s.version);
        assert!(!s.tunnel || p.is_finished());
        assert!(!(p.failed() && p.tunnel_open()), "failed with a tunnel");
        let _ = (s.status(), s.command_name(), s.method_name(), p.anomalies());
        if p.take_done() {
            assert!(!failed_first, "announced after failing");
            done += 1;
        }
        assert!(done <= 1, "take_done() true twice");
        // A handshake may fail after it was announced (a BIND's bad second reply), not
        // be announced after failing.
        failed_first |= p.failed() && done == 0;
    }
    let mut out = [Vec::new(), Vec::new()];
    let mut lost = [0; 2];
    if p.tunnel_open() {
        for d in [Dir::ToServer, Dir::ToClient] {
            p.take_tunnel_bytes(d, &mut out[d.index()]);
            assert!(out[d.index()].len() <= socks::BUF_CAP);
            lost[d.index()] = p.tunnel_lost(d);
        }
    }
    (p.session().clone(), out, lost)
}

struct SocksT;

impl Target for SocksT {
    const SHAPE: Shape = Shape::Conv;
    const PARTS: &'static [&'static str] = &["parser"];

    fn new() -> Self {
        SocksT
    }

    fn run(&mut self, _: usize, input: &[u8]) {
        let evs = decode_conv(input);
        let mut p = SocksParser::new();
        let first = run_socks(&mut p, &evs);
        p.reset();
        let again = run_socks(&mut p, &evs);
        assert!(first == again, "reset() parser gave a different result");
    }
}

// --- proxy

/// What a PROXY protocol reader made of the client's first bytes: the header (if one was
/// read), the octets handed on to the proxied protocol (up to the first gap), and whether a
/// started header was malformed.
type ProxyRun = (Option<ProxyHeader>, Vec<u8>, bool);

/// Feeds the client's data records, as the engine does, until a gap or the end.
fn run_proxy(r: &mut ProxyReader, chunks: &[&[u8]]) -> ProxyRun {
    let mut header = None;
    let mut out = Vec::new();
    let mut malformed = false;
    let mut fed = 0usize;
    let mut decided = false;
    for d in chunks {
        if decided {
            out.extend_from_slice(d);
            continue;
        }
        fed += d.len();
        match r.feed(d) {
            Step::NeedMore => {
                let held = r.buffered_bytes();
                assert!(
                    held <= proxy::HOLD_CAP && held <= fed,
                    "held {held} of {fed}"
                );
            }
            Step::Done { used } => {
                assert!(used <= d.len(), "used {used} of a {}-octet chunk", d.len());
                let h = r.header().clone();
                assert!(matches!(h.version, 1 | 2), "version {}", h.version);
                assert_eq!(h.len, fed - (d.len() - used), "header length");
                assert!(h.version == 2 || h.len <= proxy::V1_MAX);
                assert!(h.truncated == (h.len > proxy::HOLD_CAP));
                for v in [&h.authority, &h.alpn, &h.unique_id] {
                    assert!(v.len() <= proxy::MAX_TLV);
                }
                assert!(h.tlv_types.len() <= proxy::MAX_TLVS);
                assert!(h.src.is_some() == h.dst.is_some());
                let _ = h.family.name();
                header = Some(h);
                out.extend_from_slice(&d[used..]);
                decided = true;
            }
            Step::NotProxy { malformed: m } => {
                assert!(r.held().len() < fed || fed == 0);
                malformed = m;
                out.extend_from_slice(r.held());
                out.extend_from_slice(d);
                decided = true;
            }
        }
        assert!(r.is_over() == decided || r.pending_header().is_some());
    }
    if !decided {
        if header.is_none() {
            header = r.pending_header().cloned();
        }
        out.extend_from_slice(r.finish());
    }
    assert!(r.is_over());
    assert_eq!(r.feed(b"x"), Step::NotProxy { malformed: false });
    (header, out, malformed)
}

struct ProxyT;

impl Target for ProxyT {
    const SHAPE: Shape = Shape::Conv;
    const PARTS: &'static [&'static str] = &["reader"];

    fn new() -> Self {
        ProxyT
    }

    fn run(&mut self, _: usize, input: &[u8]) {
        let evs = decode_conv(input);
        // The client's data up to its first gap, as the records cut it.
        let mut chunks: Vec<&[u8]> = Vec::new();
        for ev in &evs {
            match ev {
                Ev::Data(Dir::ToServer, b) => chunks.push(b),
                Ev::Gap(Dir::ToServer, _) => break,
                _ => {}
            }
        }
        let mut r = ProxyReader::new();
        let first = run_proxy(&mut r, &chunks);
        // The same bytes in one chunk, and byte by byte, give the same result: the reader
        // does not depend on how reassembly cut the stream.
        let whole: Vec<u8> = chunks.concat();
        r.reset();
        assert!(run_proxy(&mut r, &[&whole]) == first, "one chunk differs");
        let bytes: Vec<&[u8]> = whole.chunks(1).collect();
        r.reset();
        assert!(run_proxy(&mut r, &bytes) == first, "byte by byte differs");
        // Nothing is lost: the header and what was handed on make up the stream.
        let hlen = first.0.as_ref().map_or(0, |h| h.len);
        assert_eq!(hlen.min(whole.len()) + first.1.len(), whole.len());
        if first.0.is_none() {
            assert!(first.1 == whole);
        }
    }
}

// --- starttls

/// What one run of the STARTTLS parser produced: the session, the bytes handed over per
/// direction and those counted as lost.
type StartTlsRun = (StartTlsSession, [Vec<u8>; 2], [u64; 2]);

fn run_starttls(p: &mut StartTlsParser, evs: &[Ev]) -> StartTlsRun {
    let mut seen = [false; 2];
    let mut fed = 0usize;
    let mut finished: Option<StartTlsSession> = None;
    for ev in evs {
        match ev {
            Ev::Data(d, bytes) => {
                if !seen[d.index()] {
                    seen[d.index()] = true;
                    for n in 0..=bytes.len().min(starttls::SIGNATURE_BYTES + 1) {
                        for ports in [(1, 2), (21, 4000), (4000, 25)] {
                            let g = starttls::looks_like(&bytes[..n], ports);
                            assert!(
                                n < starttls::SIGNATURE_BYTES || g != starttls::Signature::NeedMore,
                                "looks_like undecided after {n} bytes"
                            );
                        }
                    }
                }
                fed += bytes.len();
                p.feed(*d, bytes);
            }
            Ev::Gap(d, n) => p.gap(*d, u64::from(*n)),
        }
        let held = p.buffered_bytes();
        assert!(
            held <= 2 * starttls::BUF_CAP && held <= fed,
            "buffered_bytes {held} (fed {fed})"
        );
        let s = *p.session();
        assert!(
            s.requests >= s.refusals + u32::from(s.upgraded),
            "more answers than requests: {s:?}"
        );
        assert!(!s.upgraded || p.upgraded(), "upgraded session, parser not");
        assert!(!p.upgraded() || p.is_finished());
        if let Some(f) = finished {
            // Nothing changes once the watch is over.
            assert_eq!(f, s, "session changed after the parser finished");
        } else if p.is_finished() {
            finished = Some(s);
        }
    }
    let mut out = [Vec::new(), Vec::new()];
    let mut lost = [0; 2];
    if p.upgraded() {
        for d in [Dir::ToServer, Dir::ToClient] {
            p.take_tunnel_bytes(d, &mut out[d.index()]);
            assert!(out[d.index()].len() <= starttls::BUF_CAP);
            lost[d.index()] = p.tunnel_lost(d);
        }
    }
    (*p.session(), out, lost)
}

struct StartTlsT;

const DIALECTS: [Dialect; 7] = Dialect::ALL;

impl Target for StartTlsT {
    const SHAPE: Shape = Shape::Conv;
    const PARTS: &'static [&'static str] =
        &["smtp", "ftp", "imap", "pop3", "pgsql", "mysql", "ldap"];

    fn new() -> Self {
        StartTlsT
    }

    fn run(&mut self, part: usize, input: &[u8]) {
        let evs = decode_conv(input);
        let dialect = DIALECTS[part];
        let mut p = StartTlsParser::new();
        p.reset(dialect);
        let first = run_starttls(&mut p, &evs);
        p.reset(dialect);
        let again = run_starttls(&mut p, &evs);
        assert!(first == again, "reset() parser gave a different result");
        if !matches!(dialect, Dialect::Smtp | Dialect::Ftp) {
            assert_eq!(
                first.0.dialect, dialect,
                "only SMTP and FTP share a greeting"
            );
        }
    }
}

// --- ident

/// `[kind][port_a:u16][port_b:u16][first bytes]`; missing header bytes are 0.
fn decode_ident(b: &[u8]) -> (Dir, (u16, u16), &[u8]) {
    let mut h = [0u8; 5];
    let n = b.len().min(5);
    h[..n].copy_from_slice(&b[..n]);
    (
        dir_of(h[0]),
        (
            u16::from_be_bytes([h[1], h[2]]),
            u16::from_be_bytes([h[3], h[4]]),
        ),
        &b[n..],
    )
}

/// Longest first-bytes prefix any TCP signature needs (SOCKS 4 strings: `socks::SIGNATURE_BYTES`).
const IDENT_DECIDES: usize = 64;

struct IdentT;

impl Target for IdentT {
    const SHAPE: Shape = Shape::Raw;
    const PARTS: &'static [&'static str] = &["tcp()", "udp()", "tls()"];

    fn new() -> Self {
        IdentT
    }

    fn run(&mut self, part: usize, input: &[u8]) {
        let (dir, ports, first) = decode_ident(input);
        // Longest prefix first, so that a failure on short prefixes cannot hide the others.
        for n in (0..=first.len().min(80)).rev() {
            let pre = &first[..n];
            match part {
                0 => {
                    let g = ident::tcp(dir, pre, ports);
                    assert!(
                        n < IDENT_DECIDES || g != Guess::NeedMore,
                        "NeedMore after {n} bytes"
                    );
                    if n == 0 {
                        assert_eq!(g, Guess::NeedMore);
                    }
                }
                1 => {
                    let g = ident::udp(pre, ports);
                    assert!(g != Guess::NeedMore, "udp() answered NeedMore");
                }
                _ => {
                    let _ = ident::tls(pre);
                }
            }
        }
    }
}

// --- stream

fn stream_cfg(part: usize) -> (StreamConfig, Budget) {
    if part == 0 {
        (StreamConfig::default(), Budget::default())
    } else {
        (
            StreamConfig {
                depth: 4096,
                max_buffered: 600,
                max_segments: 3,
                retain: 64,
                max_ahead: 1 << 16,
            },
            Budget::new(1000),
        )
    }
}

struct StreamT;

impl Target for StreamT {
    const SHAPE: Shape = Shape::Script;
    const PARTS: &'static [&'static str] = &["default config", "tiny config"];

    fn new() -> Self {
        StreamT
    }

    fn run(&mut self, part: usize, input: &[u8]) {
        let (cfg, mut budget) = stream_cfg(part);
        let mut halves = [HalfStream::new(), HalfStream::new()];
        let mut out_len = [0u64; 2];
        let mut fed = [0u64; 2];
        let evs = decode_script(input);
        let check =
            |halves: &[HalfStream; 2], budget: &Budget, out_len: &[u64; 2], fed: &[u64; 2]| {
                for (h, s) in halves.iter().enumerate() {
                    let st = s.stats();
                    assert_eq!(
                        st.delivered_bytes + st.missed_bytes,
                        out_len[h],
                        "half {h}: delivered + missed != bytes handed out"
                    );
                    assert_eq!(
                        s.offset(),
                        out_len[h],
                        "half {h}: offset != bytes handed out"
                    );
                    assert!(s.offset() <= cfg.depth, "half {h}: offset past depth");
                    if st.depth_reached {
                        assert_eq!(s.offset(), cfg.depth);
                    }
                    assert!(
                        st.delivered_bytes <= fed[h],
                        "half {h}: delivered more than fed"
                    );
                    assert!(
                        s.buffered() <= cfg.max_buffered,
                        "half {h}: buffered {}",
                        s.buffered()
                    );
                }
                assert_eq!(
                    budget.used,
                    halves[0].buffered() + halves[1].buffered(),
                    "budget.used != bytes the streams hold"
                );
                assert!(budget.used <= budget.cap);
            };
        let chunk_bound = 2 * (cfg.max_segments + 2);
        for ev in &evs {
            let h = usize::from(ev.kind & 1);
            let op = (ev.kind >> 1) & 3;
            let mut handed = 0u64;
            let mut chunks = 0usize;
            let mut out = |c: Chunk<'_>| {
                chunks += 1;
                match c {
                    Chunk::Data(d) => {
                        assert!(!d.is_empty(), "empty data chunk");
                        handed += d.len() as u64;
                    }
                    Chunk::Gap(n) => {
                        assert!(n > 0, "empty gap chunk");
                        handed += n;
                    }
                }
            };
            let s = &mut halves[h];
            match op {
                0 => {
                    fed[h] += ev.data.len() as u64;
                    s.segment(
                        &cfg,
                        &mut budget,
                        ev.seq,
                        ev.flags & 0x02 != 0,
                        ev.flags & 0x01 != 0,
                        &ev.data,
                        &mut out,
                    );
                }
                1 => s.peer_ack(&cfg, &mut budget, ev.seq, &mut out),
                2 => s.flush(&cfg, &mut budget, &mut out),
                _ => s.begin(ev.seq),
            }
            assert!(chunks <= chunk_bound, "{chunks} chunks from one call");
            if op == 2 {
                assert_eq!(s.buffered(), 0, "flush left bytes buffered");
            }
            out_len[h] += handed;
            check(&halves, &budget, &out_len, &fed);
        }
        for h in 0..2 {
            let mut handed = 0u64;
            halves[h].flush(&cfg, &mut budget, &mut |c| {
                handed += match c {
                    Chunk::Data(d) => d.len() as u64,
                    Chunk::Gap(n) => n,
                };
            });
            out_len[h] += handed;
            assert_eq!(halves[h].buffered(), 0);
        }
        check(&halves, &budget, &out_len, &fed);
        assert_eq!(budget.used, 0, "budget not returned after flush");
        let _ = budget.denied;
    }
}

// ---------------------------------------------------------------------------------------
// The replay.

struct Report {
    inputs: usize,
    known: usize,
    failures: Vec<String>,
}

/// Failing inputs written per target at most (the first ones, in replay order).
const MAX_DUMPS: usize = 20;

fn dump(target: &str, name: &str, input: &[u8], failures_so_far: usize) {
    if failures_so_far >= MAX_DUMPS {
        return;
    }
    if let Some(dir) = std::env::var_os("WIRESCOPE_FUZZ_DUMP") {
        let dir = PathBuf::from(dir).join(target);
        let _ = std::fs::create_dir_all(&dir);
        let _ = std::fs::write(dir.join(format!("crash-{name}")), input);
    }
}

fn replay<T: Target>(target: &str) -> Report {
    let seeds = seeds(target);
    assert!(!seeds.is_empty(), "no seeds for {target}");
    let n_mut = mutations();
    let mut rep = Report {
        inputs: 0,
        known: 0,
        failures: Vec::new(),
    };
    for (si, (name, seed)) in seeds.iter().enumerate() {
        let mut state = T::new();
        let h = fnv1a(&[target.as_bytes(), name.as_bytes()]);
        let mut inputs = vec![(seed.clone(), "seed".to_string())];
        for i in 0..n_mut {
            let mut rng = Rng::new(h ^ (i as u64).wrapping_mul(0x9e37_79b9_7f4a_7c15));
            let other = &seeds[(si + 1 + rng.below(seeds.len())) % seeds.len()].1;
            let (m, what) = mutate(T::SHAPE, seed, other, i, &mut rng);
            inputs.push((m, format!("mutation {i} ({what})")));
        }
        for (input, what) in &inputs {
            rep.inputs += 1;
            for (part, part_name) in T::PARTS.iter().enumerate() {
                if let Err(p) = catch(|| state.run(part, input)) {
                    if known_for(target, &p).is_some() {
                        rep.known += 1;
                        continue;
                    }
                    let tag = what.split(' ').take(2).collect::<Vec<_>>().join("-");
                    dump(
                        target,
                        &format!("{name}-{tag}-{part}"),
                        input,
                        rep.failures.len(),
                    );
                    rep.failures.push(format!(
                        "{target}/{name} {what} [{part_name}]: {} at {}",
                        p.message, p.location
                    ));
                }
            }
        }
        if let Err(p) = catch(|| state.end()) {
            rep.failures.push(format!(
                "{target}/{name} end of seed: {} at {}",
                p.message, p.location
            ));
        }
    }
    rep
}

fn check<T: Target>(target: &str) {
    let start = std::time::Instant::now();
    let rep = replay::<T>(target);
    eprintln!(
        "{target}: {} inputs x {} part(s), {} known panic(s), {} failure(s), {:.1?}",
        rep.inputs,
        T::PARTS.len(),
        rep.known,
        rep.failures.len(),
        start.elapsed()
    );
    if !rep.failures.is_empty() {
        let mut msg = format!("{} failing input(s) for {target}:\n", rep.failures.len());
        for f in rep.failures.iter().take(40) {
            let _ = writeln!(msg, "  {f}");
        }
        panic!("{msg}");
    }
}

#[test]
fn replay_dns() {
    check::<DnsT>("dns");
}

#[test]
fn replay_dns_tcp() {
    check::<DnsTcpT>("dns_tcp");
}

#[test]
fn replay_dhcp() {
    check::<DhcpT>("dhcp");
}

#[test]
fn replay_http() {
    check::<HttpT>("http");
}

#[test]
fn replay_tls() {
    check::<TlsT>("tls");
}

#[test]
fn replay_ssh() {
    check::<SshT>("ssh");
}

#[test]
fn replay_socks() {
    check::<SocksT>("socks");
}

#[test]
fn replay_starttls() {
    check::<StartTlsT>("starttls");
}

#[test]
fn replay_proxy() {
    check::<ProxyT>("proxy");
}

#[test]
fn replay_ident() {
    check::<IdentT>("ident");
}

#[test]
fn replay_stream() {
    check::<StreamT>("stream");
}

/// Runs one input of a target (all parts), returning the first panic.
fn run_once(target: &str, input: &[u8]) -> Option<Panicked> {
    fn go<T: Target>(input: &[u8]) -> Option<Panicked> {
        let mut t = T::new();
        for part in 0..T::PARTS.len() {
            if let Err(p) = catch(|| t.run(part, input)) {
                return Some(p);
            }
        }
        None
    }
    match target {
        "dns" => go::<DnsT>(input),
        "dns_tcp" => go::<DnsTcpT>(input),
        "dhcp" => go::<DhcpT>(input),
        "http" => go::<HttpT>(input),
        "tls" => go::<TlsT>(input),
        "ssh" => go::<SshT>(input),
        "socks" => go::<SocksT>(input),
        "starttls" => go::<StartTlsT>(input),
        "proxy" => go::<ProxyT>(input),
        "ident" => go::<IdentT>(input),
        "stream" => go::<StreamT>(input),
        other => panic!("unknown target {other}"),
    }
}

#[test]
fn corpus_is_present() {
    let mut total = 0usize;
    for t in TARGETS {
        let s = seeds(t);
        assert!(
            s.len() >= MIN_SEEDS,
            "{t}: {} seeds, at least {MIN_SEEDS} expected",
            s.len()
        );
        for (name, b) in &s {
            assert!(b.len() <= MAX_SEED_FILE, "{t}/{name}: {} bytes", b.len());
            total += b.len();
        }
        // Both kinds of seeds are there: from captures and hand-made.
        assert!(
            s.iter().any(|(n, _)| n.starts_with("cap-")),
            "{t}: no capture seed"
        );
        assert!(
            s.iter().any(|(n, _)| n.starts_with("edge-")),
            "{t}: no edge-case seed"
        );
    }
    assert!(total <= 2 * 1024 * 1024, "corpus of {total} bytes");
    let prov = std::fs::read_to_string(corpus_root().join("PROVENANCE.tsv"))
        .expect("PROVENANCE.tsv next to the target directories");
    for t in TARGETS {
        for (name, _) in seeds(t) {
            if name.starts_with("cap-") || name.starts_with("edge-") {
                assert!(
                    prov.contains(&format!("{t}/{name}\t")),
                    "{t}/{name} has no provenance row"
                );
            }
        }
    }
    assert_eq!(run_once("dns", &[0; 12]).map(|p| p.message), None);
}

#[test]
fn known_panics_still_reproduce() {
    // Fixed findings stay in the corpus as regression seeds and must not panic again.
    let fixed: &[(&str, &str)] = &[("ident", "crash-tls-empty-input")];
    for (target, seed) in fixed {
        let path = corpus_root().join(target).join(seed);
        let input = std::fs::read(&path)
            .unwrap_or_else(|e| panic!("regression seed {} missing: {e}", path.display()));
        assert_eq!(
            run_once(target, &input).map(|p| p.message),
            None,
            "{target}/{seed} panics again"
        );
    }
    for k in KNOWN {
        let path = corpus_root().join(k.target).join(k.reproducer);
        let input = std::fs::read(&path)
            .unwrap_or_else(|e| panic!("reproducer {} missing: {e}", path.display()));
        match run_once(k.target, &input) {
            Some(p) if known_for(k.target, &p).is_some() => {}
            Some(p) => panic!(
                "{}/{}: panics differently now: {} at {}",
                k.target, k.reproducer, p.message, p.location
            ),
            None => panic!(
                "{}/{} no longer panics: the bug is fixed, remove its KNOWN entry",
                k.target, k.reproducer
            ),
        }
    }
}

/// The harness itself: a panic inside a target is caught and reported, not swallowed.
#[test]
fn a_panicking_input_is_reported() {
    let r = catch(|| {
        let v: Vec<u8> = Vec::new();
        let _ = v[usize::from(v.is_empty())];
    });
    let p = r.expect_err("the panic must be caught");
    assert!(p.message.contains("index out of bounds"), "{}", p.message);
    assert!(p.location.contains("fuzz_replay.rs"), "{}", p.location);
    // Mutations are deterministic.
    let seed = b"\x00\x00\x05hello\x01\x00\x02hi".to_vec();
    for i in 0..20 {
        let a = mutate(Shape::Conv, &seed, b"other", i, &mut Rng::new(7 + i as u64));
        let b = mutate(Shape::Conv, &seed, b"other", i, &mut Rng::new(7 + i as u64));
        assert_eq!(a, b);
    }
    // Conversations round-trip.
    assert_eq!(encode_conv(&decode_conv(&seed)), seed);
}
