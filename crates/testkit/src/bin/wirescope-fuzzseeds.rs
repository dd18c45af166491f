//! `wirescope-fuzzseeds`: regenerates the fuzz corpus of `wirescope-proto`
//! (`crates/proto/fuzz/corpus/<target>/`) from the shared capture corpus plus hand-made edge
//! cases. The seed formats are specified in `crates/proto/fuzz/README.md`; the replay test
//! `crates/proto/tests/fuzz_replay.rs` reads them.
//!
//! ```text
//! wirescope-fuzzseeds [--corpus DIR] [--out DIR] [--check]
//! ```
//!
//! - Captures are taken only from `MANIFEST.tsv` rows whose licence is permissive (BSD-3-Clause,
//!   Apache-2.0, Unlicense, MIT); each seed's source is written to `PROVENANCE.tsv`.
//! - Deterministic: files in path order, packets in capture order, no clock, no hash order; the
//!   same corpus gives byte-identical seeds.
//! - It owns the files named `cap-*` (from captures) and `edge-*` (hand-made): those are
//!   deleted and rewritten. Anything else in a target directory (crash reproducers, `crash-*`)
//!   is left alone.
//! - `--check` writes nothing and exits 1 if the seeds on disk differ from what it would write.
//!
//! A missing corpus or manifest is an error, never an empty corpus.

use std::collections::{BTreeMap, BTreeSet};
use std::error::Error;
use std::fs;
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use wirescope_testkit::rng::Rng;

const USAGE: &str = "usage: wirescope-fuzzseeds [--corpus DIR] [--out DIR] [--check]

Regenerates crates/proto/fuzz/corpus from the shared capture corpus and hand-made cases.
  --corpus DIR  the shared capture corpus (default: $WIRESCOPE_CORPUS, else ../shared/corpus
                beside the workspace)
  --out DIR     the fuzz corpus root (default: crates/proto/fuzz/corpus)
  --check       compare instead of writing; exit 1 when the seeds on disk differ";

/// Largest seed taken from a capture (conversations and segment scripts are cut at a record
/// boundary below this).
const MAX_SEED: usize = 16 * 1024;

/// Fuzz targets, in the order of the README.
const TARGETS: [&str; 11] = [
    "dns", "dns_tcp", "dhcp", "http", "tls", "ssh", "socks", "starttls", "proxy", "ident", "stream",
];

/// Per target: most seeds taken from one capture file, and most capture seeds in all.
fn caps(target: &str) -> (usize, usize) {
    match target {
        "dns" => (3, 110),
        "dhcp" => (3, 45),
        "ident" => (3, 110),
        "http" => (2, 36),
        "tls" => (2, 36),
        "ssh" => (3, 20),
        "socks" => (3, 20),
        "proxy" => (3, 10),
        "starttls" => (2, 24),
        "dns_tcp" => (4, 24),
        "stream" => (2, 40),
        _ => (0, 0),
    }
}

type Res<T> = Result<T, Box<dyn Error>>;

fn main() -> ExitCode {
    match run() {
        Ok(code) => code,
        Err(e) => {
            eprintln!("wirescope-fuzzseeds: {e}");
            ExitCode::from(2)
        }
    }
}

struct Args {
    corpus: PathBuf,
    out: PathBuf,
    check: bool,
}

fn parse_args() -> Res<Args> {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("../..");
    let mut a = Args {
        corpus: std::env::var_os("WIRESCOPE_CORPUS")
            .map(PathBuf::from)
            .unwrap_or_else(|| root.join("../shared/corpus")),
        out: root.join("crates/proto/fuzz/corpus"),
        check: false,
    };
    let mut it = std::env::args().skip(1);
    while let Some(arg) = it.next() {
        match arg.as_str() {
            "--corpus" => a.corpus = it.next().ok_or("--corpus needs a value")?.into(),
            "--out" => a.out = it.next().ok_or("--out needs a value")?.into(),
            "--check" => a.check = true,
            "-h" | "--help" => return Err(USAGE.into()),
            other => return Err(format!("unknown argument {other}\n{USAGE}").into()),
        }
    }
    Ok(a)
}

/// One seed to write: target, file name, bytes, provenance columns.
struct Seed {
    target: &'static str,
    name: String,
    bytes: Vec<u8>,
    source: String,
    repo: String,
    licence: String,
    detail: String,
}

fn run() -> Res<ExitCode> {
    let args = parse_args()?;
    let mut seeds = capture_seeds(&args.corpus)?;
    seeds.extend(edge_seeds());
    // Dedupe by content within a target (the first one, in generation order, stays).
    let mut seen: BTreeSet<(&str, Vec<u8>)> = BTreeSet::new();
    seeds.retain(|s| seen.insert((s.target, s.bytes.clone())));
    let mut names = BTreeSet::new();
    for s in &seeds {
        if !names.insert((s.target, s.name.clone())) {
            return Err(format!("duplicate seed name {}/{}", s.target, s.name).into());
        }
    }
    let mut files: BTreeMap<PathBuf, Vec<u8>> = BTreeMap::new();
    let mut prov = String::from("seed\tsource\tsource_repo\tlicence\tdetail\n");
    for s in &seeds {
        files.insert(args.out.join(s.target).join(&s.name), s.bytes.clone());
        prov.push_str(&format!(
            "{}/{}\t{}\t{}\t{}\t{}\n",
            s.target, s.name, s.source, s.repo, s.licence, s.detail
        ));
    }
    files.insert(args.out.join("PROVENANCE.tsv"), prov.into_bytes());

    // What is on disk now (only the files this tool owns).
    let mut existing: BTreeMap<PathBuf, Vec<u8>> = BTreeMap::new();
    for t in TARGETS {
        let dir = args.out.join(t);
        let Ok(rd) = fs::read_dir(&dir) else { continue };
        for e in rd {
            let p = e?.path();
            let owned = p
                .file_name()
                .and_then(|n| n.to_str())
                .is_some_and(|n| n.starts_with("cap-") || n.starts_with("edge-"));
            if owned {
                existing.insert(p.clone(), fs::read(&p)?);
            }
        }
    }
    if let Ok(b) = fs::read(args.out.join("PROVENANCE.tsv")) {
        existing.insert(args.out.join("PROVENANCE.tsv"), b);
    }

    let mut per_target: BTreeMap<&str, (usize, usize)> = BTreeMap::new();
    for s in &seeds {
        let e = per_target.entry(s.target).or_default();
        e.0 += 1;
        e.1 += s.bytes.len();
    }
    let total: usize = per_target.values().map(|v| v.1).sum();
    for t in TARGETS {
        let (n, b) = per_target.get(t).copied().unwrap_or_default();
        eprintln!("{t:8} {n:4} seeds {b:8} bytes");
    }
    eprintln!("total    {:4} seeds {total:8} bytes", seeds.len());

    if args.check {
        if existing == files {
            eprintln!("seeds on disk are up to date");
            return Ok(ExitCode::SUCCESS);
        }
        for p in files.keys().filter(|p| existing.get(*p) != files.get(*p)) {
            eprintln!("differs or missing: {}", p.display());
        }
        for p in existing.keys().filter(|p| !files.contains_key(*p)) {
            eprintln!("would be removed: {}", p.display());
        }
        return Ok(ExitCode::from(1));
    }
    for p in existing.keys().filter(|p| !files.contains_key(*p)) {
        fs::remove_file(p)?;
    }
    for (p, b) in &files {
        if let Some(dir) = p.parent() {
            fs::create_dir_all(dir)?;
        }
        if existing.get(p) != Some(b) {
            fs::write(p, b)?;
        }
    }
    Ok(ExitCode::SUCCESS)
}

// ---------------------------------------------------------------------------------------
// Seed encodings (see crates/proto/fuzz/README.md).

/// A conversation: records `[op:u8][len:u16 BE][bytes]`; op bit 0 = direction (0 to the
/// server, 1 to the client); op bit 7 = gap (`len` bytes missing, no bytes follow).
#[derive(Default)]
struct Conv {
    out: Vec<u8>,
}

impl Conv {
    fn data(&mut self, dir: u8, bytes: &[u8]) -> &mut Self {
        for piece in bytes.chunks(0xffff) {
            self.out.push(dir & 1);
            self.out
                .extend_from_slice(&(piece.len() as u16).to_be_bytes());
            self.out.extend_from_slice(piece);
        }
        self
    }

    /// `bytes` of one direction in pieces of `size` bytes.
    fn chunked(&mut self, dir: u8, bytes: &[u8], size: usize) -> &mut Self {
        for piece in bytes.chunks(size.max(1)) {
            self.data(dir, piece);
        }
        self
    }

    fn gap(&mut self, dir: u8, len: u16) -> &mut Self {
        self.out.push(0x80 | (dir & 1));
        self.out.extend_from_slice(&len.to_be_bytes());
        self
    }

    fn take(&mut self) -> Vec<u8> {
        std::mem::take(&mut self.out)
    }
}

const C2S: u8 = 0;
const S2C: u8 = 1;

/// A segment script for `stream`: events `[kind:u8][seq:u32 BE][flags:u8][len:u16 BE][bytes]`.
/// kind bit 0 = half stream (0 client to server, 1 server to client); bits 1-2 = operation:
/// 0 segment (`seq`, `flags` 0x02 SYN / 0x01 FIN, `bytes` the payload), 1 peer_ack (`seq` is
/// the acknowledgment number), 2 flush, 3 begin (`seq` is the next sequence number).
#[derive(Default)]
struct Script {
    out: Vec<u8>,
}

const FIN: u8 = 0x01;
const SYN: u8 = 0x02;

impl Script {
    fn event(&mut self, half: u8, op: u8, seq: u32, flags: u8, data: &[u8]) -> &mut Self {
        let data = data.get(..data.len().min(0xffff)).unwrap_or_default();
        self.out.push((half & 1) | (op & 3) << 1);
        self.out.extend_from_slice(&seq.to_be_bytes());
        self.out.push(flags);
        self.out
            .extend_from_slice(&(data.len() as u16).to_be_bytes());
        self.out.extend_from_slice(data);
        self
    }

    fn seg(&mut self, half: u8, seq: u32, flags: u8, data: &[u8]) -> &mut Self {
        self.event(half, 0, seq, flags, data)
    }

    fn ack(&mut self, half: u8, ack: u32) -> &mut Self {
        self.event(half, 1, ack, 0, &[])
    }

    fn flush(&mut self, half: u8) -> &mut Self {
        self.event(half, 2, 0, 0, &[])
    }

    fn begin(&mut self, half: u8, seq: u32) -> &mut Self {
        self.event(half, 3, seq, 0, &[])
    }

    fn take(&mut self) -> Vec<u8> {
        std::mem::take(&mut self.out)
    }
}

/// An `ident` seed: `[kind:u8][port_a:u16 BE][port_b:u16 BE][first bytes]`; kind bit 0 is the
/// direction for `ident::tcp` (0 to the server).
fn ident_seed(kind: u8, ports: (u16, u16), first: &[u8]) -> Vec<u8> {
    let mut v = vec![kind];
    v.extend_from_slice(&ports.0.to_be_bytes());
    v.extend_from_slice(&ports.1.to_be_bytes());
    v.extend_from_slice(first);
    v
}

// ---------------------------------------------------------------------------------------
// Capture reading (classic pcap and pcapng) and a minimal L2-L4 decoder. Self-contained so
// that this dev tool adds no dependency edge; corrupt files simply yield fewer packets.

fn u16_at(b: &[u8], at: usize, be: bool) -> Option<u16> {
    let s: [u8; 2] = b.get(at..at + 2)?.try_into().ok()?;
    Some(if be {
        u16::from_be_bytes(s)
    } else {
        u16::from_le_bytes(s)
    })
}

fn u32_at(b: &[u8], at: usize, be: bool) -> Option<u32> {
    let s: [u8; 4] = b.get(at..at + 4)?.try_into().ok()?;
    Some(if be {
        u32::from_be_bytes(s)
    } else {
        u32::from_le_bytes(s)
    })
}

/// Frames of a capture file as `(link type, bytes)`, in file order.
fn read_capture(file: &[u8]) -> Vec<(u32, &[u8])> {
    let mut out = Vec::new();
    let Some(magic) = u32_at(file, 0, false) else {
        return out;
    };
    let be = match magic {
        0xa1b2_c3d4 | 0xa1b2_3c4d => Some(false),
        0xd4c3_b2a1 | 0x4d3c_b2a1 => Some(true),
        _ => None,
    };
    if let Some(be) = be {
        let link = u32_at(file, 20, be).unwrap_or(0) & 0xffff;
        let mut pos = 24;
        while let Some(incl) = u32_at(file, pos + 8, be) {
            let start = pos + 16;
            let end = start.saturating_add(incl as usize).min(file.len());
            if let Some(d) = file.get(start..end) {
                out.push((link, d));
            }
            if incl > 0x0100_0000 {
                break;
            }
            pos = end;
        }
        return out;
    }
    if magic != 0x0a0d_0d0a {
        return out;
    }
    // pcapng
    let mut pos = 0usize;
    let mut be = false;
    let mut links: Vec<u32> = Vec::new();
    while let Some(head) = file.get(pos..pos + 12) {
        let ty = u32_at(head, 0, false).unwrap_or(0);
        if ty == 0x0a0d_0d0a {
            be = match u32_at(head, 8, false) {
                Some(0x1a2b_3c4d) => false,
                Some(0x4d3c_2b1a) => true,
                _ => break,
            };
            links.clear();
        }
        let ty = u32_at(file, pos, be).unwrap_or(0);
        let Some(len) = u32_at(file, pos + 4, be).map(|l| l as usize) else {
            break;
        };
        if len < 12 || len % 4 != 0 {
            break;
        }
        let Some(block) = file.get(pos..pos + len) else {
            break;
        };
        match ty {
            1 => links.push(u32::from(u16_at(block, 8, be).unwrap_or(0))),
            6 | 2 => {
                let iface = if ty == 6 {
                    u32_at(block, 8, be).unwrap_or(0) as usize
                } else {
                    usize::from(u16_at(block, 8, be).unwrap_or(0))
                };
                let cap = u32_at(block, 20, be).unwrap_or(0) as usize;
                let end = (28 + cap).min(len.saturating_sub(4));
                if let (Some(&link), Some(d)) = (links.get(iface), block.get(28..end)) {
                    out.push((link, d));
                }
            }
            3 => {
                let orig = u32_at(block, 8, be).unwrap_or(0) as usize;
                let end = (12 + orig).min(len.saturating_sub(4));
                if let (Some(&link), Some(d)) = (links.first(), block.get(12..end)) {
                    out.push((link, d));
                }
            }
            _ => {}
        }
        pos += len;
    }
    out
}

/// The IP packet inside a frame: `(4 or 6, bytes)`.
fn ip_of(link: u32, f: &[u8]) -> Option<(u8, &[u8])> {
    fn by_ethertype(et: u16, rest: &[u8]) -> Option<(u8, &[u8])> {
        match et {
            0x0800 => Some((4, rest)),
            0x86dd => Some((6, rest)),
            _ => None,
        }
    }
    fn by_version(rest: &[u8]) -> Option<(u8, &[u8])> {
        match rest.first()? >> 4 {
            4 => Some((4, rest)),
            6 => Some((6, rest)),
            _ => None,
        }
    }
    match link {
        1 => {
            let mut pos = 12;
            let mut et = u16_at(f, pos, true)?;
            let mut tags = 0;
            while matches!(et, 0x8100 | 0x88a8 | 0x9100) && tags < 4 {
                pos += 4;
                et = u16_at(f, pos, true)?;
                tags += 1;
            }
            by_ethertype(et, f.get(pos + 2..)?)
        }
        0 | 108 => {
            let fam = if link == 108 {
                u32_at(f, 0, true)?
            } else {
                let le = u32_at(f, 0, false)?;
                if le < 256 {
                    le
                } else {
                    u32_at(f, 0, true)?
                }
            };
            match fam {
                2 => Some((4, f.get(4..)?)),
                24 | 28 | 30 => Some((6, f.get(4..)?)),
                _ => None,
            }
        }
        101 | 12 | 14 => by_version(f),
        228 => Some((4, f)),
        229 => Some((6, f)),
        113 => by_ethertype(u16_at(f, 14, true)?, f.get(16..)?),
        276 => by_ethertype(u16_at(f, 0, true)?, f.get(20..)?),
        9 | 50 => {
            let f = if f.starts_with(&[0xff, 0x03]) {
                f.get(2..)?
            } else {
                f
            };
            match u16_at(f, 0, true)? {
                0x0021 => Some((4, f.get(2..)?)),
                0x0057 => Some((6, f.get(2..)?)),
                _ => None,
            }
        }
        104 => by_ethertype(u16_at(f, 2, true)?, f.get(4..)?),
        _ => None,
    }
}

/// A decoded TCP or UDP packet.
#[derive(Clone, Debug)]
struct L4<'a> {
    tcp: bool,
    src: Vec<u8>,
    dst: Vec<u8>,
    sport: u16,
    dport: u16,
    seq: u32,
    ack: u32,
    flags: u8,
    payload: &'a [u8],
}

fn l4_of(link: u32, f: &[u8]) -> Option<L4<'_>> {
    let (ver, ip) = ip_of(link, f)?;
    let (src, dst, mut proto, mut rest) = if ver == 4 {
        let ihl = usize::from(ip.first()? & 0x0f) * 4;
        let total = usize::from(u16_at(ip, 2, true)?);
        let end = if total >= ihl && total <= ip.len() {
            total
        } else {
            ip.len()
        };
        let frag = u16_at(ip, 6, true)? & 0x1fff;
        if frag != 0 || ihl < 20 {
            return None;
        }
        (
            ip.get(12..16)?.to_vec(),
            ip.get(16..20)?.to_vec(),
            *ip.get(9)?,
            ip.get(ihl..end)?,
        )
    } else {
        let plen = usize::from(u16_at(ip, 4, true)?);
        let end = if plen > 0 && 40 + plen <= ip.len() {
            40 + plen
        } else {
            ip.len()
        };
        (
            ip.get(8..24)?.to_vec(),
            ip.get(24..40)?.to_vec(),
            *ip.get(6)?,
            ip.get(40..end)?,
        )
    };
    let mut hops = 0;
    while ver == 6 && matches!(proto, 0 | 43 | 60 | 44 | 51) && hops < 8 {
        let len = match proto {
            44 => {
                if u16_at(rest, 2, true)? & 0xfff8 != 0 {
                    return None;
                }
                8
            }
            51 => (usize::from(*rest.get(1)?) + 2) * 4,
            _ => (usize::from(*rest.get(1)?) + 1) * 8,
        };
        proto = *rest.first()?;
        rest = rest.get(len..)?;
        hops += 1;
    }
    match proto {
        6 => {
            let off = usize::from(rest.get(12)? >> 4) * 4;
            if off < 20 {
                return None;
            }
            Some(L4 {
                tcp: true,
                src,
                dst,
                sport: u16_at(rest, 0, true)?,
                dport: u16_at(rest, 2, true)?,
                seq: u32_at(rest, 4, true)?,
                ack: u32_at(rest, 8, true)?,
                flags: *rest.get(13)?,
                payload: rest.get(off..)?,
            })
        }
        17 => {
            let ulen = usize::from(u16_at(rest, 4, true)?);
            let end = if ulen >= 8 && ulen <= rest.len() {
                ulen
            } else {
                rest.len()
            };
            Some(L4 {
                tcp: false,
                src,
                dst,
                sport: u16_at(rest, 0, true)?,
                dport: u16_at(rest, 2, true)?,
                seq: 0,
                ack: 0,
                flags: 0,
                payload: rest.get(8..end)?,
            })
        }
        _ => None,
    }
}

// ---------------------------------------------------------------------------------------
// TCP connections.

type Endpoint = (Vec<u8>, u16);

struct Conn<'a> {
    server_port: u16,
    client_port: u16,
    /// Packets in capture order: (from the client?, packet).
    pkts: Vec<(bool, L4<'a>)>,
}

fn connections<'a>(pkts: &[L4<'a>]) -> Vec<Conn<'a>> {
    let mut order: Vec<(Endpoint, Endpoint)> = Vec::new();
    let mut by_key: BTreeMap<(Endpoint, Endpoint), Vec<L4<'a>>> = BTreeMap::new();
    for p in pkts.iter().filter(|p| p.tcp) {
        let a = (p.src.clone(), p.sport);
        let b = (p.dst.clone(), p.dport);
        let key = if a <= b { (a, b) } else { (b, a) };
        let e = by_key.entry(key.clone()).or_default();
        if e.is_empty() {
            order.push(key);
        }
        e.push(p.clone());
    }
    let mut out = Vec::new();
    for key in order {
        let Some(list) = by_key.remove(&key) else {
            continue;
        };
        let syn = list.iter().find(|p| p.flags & 0x12 == 0x02);
        let client = match (syn, list.first()) {
            (Some(s), _) => (s.src.clone(), s.sport),
            (None, Some(f)) => {
                if f.sport < 1024 && f.dport >= 1024 {
                    (f.dst.clone(), f.dport)
                } else {
                    (f.src.clone(), f.sport)
                }
            }
            (None, None) => continue,
        };
        let server_port = if key.0 == client { key.1 .1 } else { key.0 .1 };
        let pkts = list
            .into_iter()
            .map(|p| ((p.src.clone(), p.sport) == client, p))
            .collect();
        out.push(Conn {
            client_port: client.1,
            server_port,
            pkts,
        });
    }
    out
}

/// The conversation of a connection, in-order per direction by sequence number (first copy
/// wins, holes become gap records), interleaved in capture order; cut below [`MAX_SEED`].
/// Also returns the first bytes of each direction.
fn conversation(c: &Conn<'_>) -> (Vec<u8>, [Vec<u8>; 2]) {
    #[derive(Default)]
    struct Dir {
        base: Option<u32>,
        next: u64,
        pending: BTreeMap<u64, Vec<u8>>,
        first: Vec<u8>,
    }
    /// The conversation so far; `full` once [`MAX_SEED`] was reached.
    #[derive(Default)]
    struct Out {
        conv: Conv,
        full: bool,
    }
    impl Out {
        fn push(&mut self, d: usize, data: &[u8], first: &mut Vec<u8>) {
            if first.len() < 64 {
                let n = (64 - first.len()).min(data.len());
                first.extend_from_slice(data.get(..n).unwrap_or_default());
            }
            if self.full || data.is_empty() {
                return;
            }
            let room = MAX_SEED.saturating_sub(self.conv.out.len() + 3);
            if data.len() > room {
                if room > 0 {
                    self.conv
                        .data(d as u8, data.get(..room).unwrap_or_default());
                }
                self.full = true;
                return;
            }
            self.conv.data(d as u8, data);
        }
    }
    let mut dirs: [Dir; 2] = Default::default();
    let mut out = Out::default();
    for (from_client, p) in &c.pkts {
        let d = usize::from(!from_client);
        let st = &mut dirs[d];
        if p.flags & 0x02 != 0 {
            st.base.get_or_insert(p.seq.wrapping_add(1));
            continue;
        }
        if p.payload.is_empty() {
            continue;
        }
        let base = *st.base.get_or_insert(p.seq);
        let rel = u64::from(p.seq.wrapping_sub(base));
        if rel > 1 << 30 {
            continue; // before the start, or nonsense
        }
        let end = rel + p.payload.len() as u64;
        if end <= st.next {
            continue;
        }
        if rel > st.next {
            st.pending.entry(rel).or_insert_with(|| p.payload.to_vec());
            continue;
        }
        let skip = (st.next - rel) as usize;
        st.next = end;
        out.push(d, p.payload.get(skip..).unwrap_or_default(), &mut st.first);
        // Deliver what became contiguous.
        while let Some(entry) = st.pending.first_entry() {
            if *entry.key() > st.next {
                break;
            }
            let (r, data) = entry.remove_entry();
            let e = r + data.len() as u64;
            if e > st.next {
                let skip = (st.next - r) as usize;
                st.next = e;
                out.push(d, data.get(skip..).unwrap_or_default(), &mut st.first);
            }
        }
    }
    // Holes left at the end become gap records.
    for (d, st) in dirs.iter_mut().enumerate() {
        for (r, data) in std::mem::take(&mut st.pending) {
            if r > st.next {
                if !out.full && out.conv.out.len() + 3 <= MAX_SEED {
                    out.conv.gap(d as u8, (r - st.next).min(0xffff) as u16);
                }
                st.next = r;
            }
            let e = r + data.len() as u64;
            if e > st.next {
                let skip = (st.next - r) as usize;
                st.next = e;
                out.push(d, data.get(skip..).unwrap_or_default(), &mut st.first);
            }
        }
    }
    let [a, b] = dirs;
    (out.conv.take(), [a.first, b.first])
}

/// The segment script of a connection: every packet as captured (retransmissions, reordering
/// and all), a peer_ack event for every ACK; cut below [`MAX_SEED`].
fn script(c: &Conn<'_>) -> Vec<u8> {
    let mut s = Script::default();
    for (from_client, p) in &c.pkts {
        let half = u8::from(!from_client);
        let mut ev = Script::default();
        if !p.payload.is_empty() || p.flags & 0x03 != 0 {
            ev.seg(half, p.seq, p.flags & 0x03, p.payload);
        }
        if p.flags & 0x10 != 0 {
            ev.ack(half ^ 1, p.ack);
        }
        if s.out.len() + ev.out.len() > MAX_SEED {
            break;
        }
        s.out.extend_from_slice(&ev.out);
    }
    s.take()
}

// ---------------------------------------------------------------------------------------
// Seeds from captures.

struct Source {
    rel: String,
    repo: String,
    licence: String,
}

fn permissive(licence: &str) -> bool {
    ["BSD-3-Clause", "Apache-2.0", "Unlicense", "MIT"]
        .iter()
        .any(|p| licence.starts_with(p))
        && !licence.contains("Wireshark")
}

fn sources(corpus: &Path) -> Res<Vec<Source>> {
    let manifest = corpus.join("MANIFEST.tsv");
    let text = fs::read_to_string(&manifest)
        .map_err(|e| format!("cannot read {}: {e}", manifest.display()))?;
    let mut out = Vec::new();
    for line in text.lines().skip(1) {
        let cols: Vec<&str> = line.split('\t').collect();
        let (Some(rel), Some(repo), Some(format), Some(licence)) =
            (cols.get(1), cols.get(2), cols.get(5), cols.get(9))
        else {
            continue;
        };
        if format.is_empty() || !permissive(licence) {
            continue;
        }
        out.push(Source {
            rel: (*rel).to_string(),
            repo: (*repo).to_string(),
            licence: (*licence).to_string(),
        });
    }
    out.sort_by(|a, b| a.rel.cmp(&b.rel));
    if out.is_empty() {
        return Err(format!("no permissively licensed capture in {}", manifest.display()).into());
    }
    Ok(out)
}

fn stem(rel: &str) -> String {
    let name = rel.rsplit('/').next().unwrap_or(rel);
    let name = name.split('.').next().unwrap_or(name);
    let mut s: String = name
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() {
                c.to_ascii_lowercase()
            } else {
                '-'
            }
        })
        .collect();
    s.truncate(40);
    s
}

/// What a TCP conversation is, from its first bytes and ports.
fn classify(c: &Conn<'_>, first: &[Vec<u8>; 2]) -> Option<&'static str> {
    let [cs, sc] = first;
    let any = |f: &dyn Fn(&[u8]) -> bool| f(cs) || f(sc);
    // A PROXY protocol header ahead of the client's first byte (v1 line or v2 signature).
    if cs.starts_with(b"PROXY ") || cs.starts_with(b"\r\n\r\n\0\r\nQUIT\n") {
        return Some("proxy");
    }
    if any(&|b| b.starts_with(b"SSH-")) {
        return Some("ssh");
    }
    let tls = |b: &[u8]| {
        matches!(b, [0x16, 3, 0..=4, ..]) || matches!(b, [h, _, 1, 0 | 3, ..] if h & 0x80 != 0)
    };
    if any(&tls) {
        return Some("tls");
    }
    const METHODS: [&[u8]; 12] = [
        b"GET ",
        b"POST ",
        b"HEAD ",
        b"PUT ",
        b"DELETE ",
        b"OPTIONS ",
        b"CONNECT ",
        b"TRACE ",
        b"PATCH ",
        b"PROPFIND ",
        b"NOTIFY ",
        b"M-SEARCH ",
    ];
    let method = METHODS.iter().any(|m| cs.starts_with(m));
    if method || sc.starts_with(b"HTTP/1.") {
        return Some("http");
    }
    if [53, 5353, 8053].contains(&c.server_port) && !(cs.is_empty() && sc.is_empty()) {
        return Some("dns_tcp");
    }
    // A SOCKS 5 greeting of 1 to 16 methods, or a SOCKS 4 CONNECT/BIND, from either side.
    let socks = |b: &[u8]| match b {
        [5, n, rest @ ..] => (1..=16).contains(n) && rest.len() >= usize::from(*n),
        [4, 1 | 2, _, _, _, _, _, _, rest @ ..] => rest.contains(&0),
        _ => false,
    };
    if any(&socks) {
        return Some("socks");
    }
    // A mail or FTP greeting, SMTP's EHLO, or PostgreSQL's SSLRequest / StartupMessage.
    let greeting = [&b"220 "[..], b"220-", b"* OK ", b"+OK "]
        .iter()
        .any(|g| sc.starts_with(g))
        || matches!(&sc[..], [_, 0..=4, 0, 0, 10, b'0'..=b'9', ..]);
    let client = cs.starts_with(b"EHLO ")
        || cs.starts_with(b"HELO ")
        || matches!(
            &cs[..],
            [0, 0, 0, 8, 4, 0xd2, 0x16, 0x2f, ..] | [0, 0, _, _, 0, 3, 0, 0, ..]
        );
    if greeting || client {
        return Some("starttls");
    }
    None
}

/// A seed cut from a capture: index of its source, bytes, what part of the capture it is.
type Candidate = (usize, Vec<u8>, String);

fn capture_seeds(corpus: &Path) -> Res<Vec<Seed>> {
    if !corpus.is_dir() {
        return Err(format!("capture corpus {} not found", corpus.display()).into());
    }
    // Candidates per target, in file order: (source index, bytes, detail).
    let mut cands: BTreeMap<&'static str, Vec<Candidate>> = BTreeMap::new();
    let srcs = sources(corpus)?;
    let mut read = 0usize;
    for (si, src) in srcs.iter().enumerate() {
        let Ok(file) = fs::read(corpus.join(&src.rel)) else {
            continue;
        };
        read += 1;
        let mut pkts = Vec::new();
        for (i, (link, f)) in read_capture(&file).into_iter().enumerate() {
            if let Some(p) = l4_of(link, f) {
                pkts.push((i + 1, p));
            }
        }
        let mut per_file: BTreeMap<&'static str, Vec<(Vec<u8>, String)>> = BTreeMap::new();
        let mut add = |t: &'static str, bytes: Vec<u8>, detail: String| {
            let v = per_file.entry(t).or_default();
            if !v.iter().any(|(b, _)| *b == bytes) {
                v.push((bytes, detail));
            }
        };
        for (n, p) in pkts.iter().filter(|(_, p)| !p.tcp) {
            let has = |port: u16| p.sport == port || p.dport == port;
            if [53, 5353, 5355, 8053].iter().any(|&q| has(q)) && p.payload.len() >= 12 {
                let cut = p.payload.len() > MAX_SEED;
                let msg = p
                    .payload
                    .get(..MAX_SEED.min(p.payload.len()))
                    .unwrap_or_default();
                let detail = if cut {
                    format!("packet {n}, cut at {MAX_SEED} of {} bytes", p.payload.len())
                } else {
                    format!("packet {n}")
                };
                add("dns", msg.to_vec(), detail);
            }
            if (has(67) || has(68)) && p.payload.len() >= 200 {
                add("dhcp", p.payload.to_vec(), format!("packet {n}"));
            }
            if !p.payload.is_empty() {
                let first = p.payload.get(..p.payload.len().min(64)).unwrap_or_default();
                add(
                    "ident",
                    ident_seed(2, (p.sport, p.dport), first),
                    format!("packet {n} (UDP)"),
                );
            }
        }
        let tcp: Vec<L4<'_>> = pkts
            .iter()
            .filter(|(_, p)| p.tcp)
            .map(|(_, p)| p.clone())
            .collect();
        for (ci, c) in connections(&tcp).iter().enumerate() {
            let (conv, first) = conversation(c);
            let detail = format!(
                "TCP connection {} (ports {} -> {})",
                ci + 1,
                c.client_port,
                c.server_port
            );
            if first.iter().any(|f| !f.is_empty()) {
                add("stream", script(c), detail.clone());
                for (d, f) in first.iter().enumerate() {
                    if !f.is_empty() {
                        add(
                            "ident",
                            ident_seed(d as u8, (c.client_port, c.server_port), f),
                            format!("{detail}, first bytes of direction {d}"),
                        );
                    }
                }
            }
            if let Some(t) = classify(c, &first) {
                add(t, conv, detail);
            }
        }
        for (t, v) in per_file {
            let (per_cap, _) = caps(t);
            // Spread the picks over the file.
            let picks = spread(v.len(), per_cap);
            let list = cands.entry(t).or_default();
            for i in picks {
                if let Some((b, d)) = v.get(i) {
                    list.push((si, b.clone(), d.clone()));
                }
            }
        }
    }
    if read == 0 {
        return Err(format!(
            "no capture of the manifest could be read in {}",
            corpus.display()
        )
        .into());
    }
    let mut seeds = Vec::new();
    for (t, list) in cands {
        let (_, total_cap) = caps(t);
        let mut used: BTreeMap<usize, usize> = BTreeMap::new();
        for i in spread(list.len(), total_cap) {
            let Some((si, bytes, detail)) = list.get(i) else {
                continue;
            };
            let Some(src) = srcs.get(*si) else { continue };
            let k = used.entry(*si).or_default();
            *k += 1;
            seeds.push(Seed {
                target: t,
                name: format!("cap-{}-{}", stem(&src.rel), k),
                bytes: bytes.clone(),
                source: src.rel.clone(),
                repo: src.repo.clone(),
                licence: src.licence.clone(),
                detail: detail.clone(),
            });
        }
    }
    // Stem collisions between files (same name in two directories) get a suffix.
    let mut count: BTreeMap<(&str, String), usize> = BTreeMap::new();
    for s in &mut seeds {
        let n = count.entry((s.target, s.name.clone())).or_default();
        *n += 1;
        if *n > 1 {
            s.name = format!("{}-dup{}", s.name, n);
        }
    }
    // Synthetic DNS over TCP from captured UDP messages, so that the framer sees many real
    // messages in odd splits.
    let udp_dns: Vec<(Vec<u8>, String, String, String, String)> = seeds
        .iter()
        .filter(|s| s.target == "dns" && s.bytes.len() >= 12)
        .map(|s| {
            (
                s.bytes.clone(),
                s.name.clone(),
                s.source.clone(),
                s.repo.clone(),
                s.licence.clone(),
            )
        })
        .collect();
    let mut rng = Rng::new(0x00d5_7c90);
    for (i, pair) in udp_dns.chunks(2).take(12).enumerate() {
        let mut c = Conv::default();
        for (j, (m, ..)) in pair.iter().enumerate() {
            let mut framed = (m.len() as u16).to_be_bytes().to_vec();
            framed.extend_from_slice(m);
            let qr = m.get(2).is_some_and(|b| b & 0x80 != 0);
            let dir = if qr { S2C } else { C2S };
            // Split at a random point (also inside the length prefix).
            let cut = rng.below(framed.len() as u64 + 1) as usize;
            let (a, b) = framed.split_at(cut.min(framed.len()));
            c.data(dir, a);
            if !b.is_empty() {
                c.data(dir, b);
            }
            let _ = j;
        }
        let Some((_, name, source, repo, licence)) = pair.first() else {
            continue;
        };
        seeds.push(Seed {
            target: "dns_tcp",
            name: format!("cap-framed-udp-{:02}", i + 1),
            bytes: c.take(),
            source: source.clone(),
            repo: repo.clone(),
            licence: licence.clone(),
            detail: format!("dns/{name} (and the next dns seed) framed as DNS over TCP"),
        });
    }
    Ok(seeds)
}

/// `k` indices spread evenly over `0..n` (all of them when `n <= k`).
fn spread(n: usize, k: usize) -> Vec<usize> {
    if n <= k {
        return (0..n).collect();
    }
    let mut v: Vec<usize> = (0..k).map(|i| i * n / k).collect();
    v.dedup();
    v
}

// ---------------------------------------------------------------------------------------
// Hand-made edge cases.

fn edge(target: &'static str, name: &str, bytes: Vec<u8>, what: &str) -> Seed {
    Seed {
        target,
        name: format!("edge-{name}"),
        bytes,
        source: "hand-written".into(),
        repo: "wirescope".into(),
        licence: "Apache-2.0".into(),
        detail: what.into(),
    }
}

fn edge_seeds() -> Vec<Seed> {
    let mut v = Vec::new();
    dns_edges(&mut v);
    dns_tcp_edges(&mut v);
    dhcp_edges(&mut v);
    http_edges(&mut v);
    tls_edges(&mut v);
    ssh_edges(&mut v);
    socks_edges(&mut v);
    starttls_edges(&mut v);
    proxy_edges(&mut v);
    ident_edges(&mut v);
    stream_edges(&mut v);
    v
}

// --- DNS

fn dns_hdr(id: u16, flags: u16, counts: [u16; 4]) -> Vec<u8> {
    let mut v = id.to_be_bytes().to_vec();
    v.extend_from_slice(&flags.to_be_bytes());
    for c in counts {
        v.extend_from_slice(&c.to_be_bytes());
    }
    v
}

fn labels(parts: &[&[u8]]) -> Vec<u8> {
    let mut v = Vec::new();
    for p in parts {
        v.push(p.len() as u8);
        v.extend_from_slice(p);
    }
    v.push(0);
    v
}

fn rr(name: &[u8], ty: u16, class: u16, ttl: u32, rdata: &[u8]) -> Vec<u8> {
    let mut v = name.to_vec();
    v.extend_from_slice(&ty.to_be_bytes());
    v.extend_from_slice(&class.to_be_bytes());
    v.extend_from_slice(&ttl.to_be_bytes());
    v.extend_from_slice(&(rdata.len() as u16).to_be_bytes());
    v.extend_from_slice(rdata);
    v
}

fn question(name: &[u8], ty: u16, class: u16) -> Vec<u8> {
    let mut v = name.to_vec();
    v.extend_from_slice(&ty.to_be_bytes());
    v.extend_from_slice(&class.to_be_bytes());
    v
}

fn cat(parts: &[&[u8]]) -> Vec<u8> {
    parts.concat()
}

/// `b[from..to]`, clamped to `b`.
fn sl(b: &[u8], from: usize, to: usize) -> &[u8] {
    let to = to.min(b.len());
    b.get(from.min(to)..to).unwrap_or_default()
}

fn dns_edges(v: &mut Vec<Seed>) {
    let ex = labels(&[b"www", b"example", b"com"]);
    let q = question(&ex, 1, 1);
    let ptr12 = [0xc0u8, 12];
    let e = |v: &mut Vec<Seed>, n: &str, b: Vec<u8>, w: &str| v.push(edge("dns", n, b, w));

    e(v, "empty", vec![], "no bytes at all");
    e(
        v,
        "header-11",
        dns_hdr(1, 0, [0; 4])[..11].to_vec(),
        "one octet short of a header",
    );
    e(
        v,
        "header-only",
        dns_hdr(1, 0x0100, [0; 4]),
        "a bare 12-octet header",
    );
    e(
        v,
        "counts-ffff",
        cat(&[&dns_hdr(2, 0x8180, [0xffff; 4]), &q]),
        "every count 65535, one question present",
    );
    e(
        v,
        "self-pointer",
        cat(&[&dns_hdr(3, 0x0100, [1, 0, 0, 0]), &ptr12, &[0, 1, 0, 1]]),
        "question name is a pointer to itself",
    );
    // Two names pointing at each other: offset 12 -> 16, 16 -> 12.
    e(
        v,
        "pointer-pair-loop",
        cat(&[
            &dns_hdr(4, 0x8180, [1, 1, 0, 0]),
            &[0xc0, 16, 0, 1],
            &[0xc0, 12],
            &[0, 1, 0, 1, 0, 0, 0, 60, 0, 4, 1, 2, 3, 4],
        ]),
        "two pointers that loop",
    );
    // A long chain: the RDATA of a NULL record holds 300 pointers, each to the one before
    // it (the first to the question name); a second answer's name is the last pointer.
    {
        let mut m = dns_hdr(5, 0x8180, [1, 2, 0, 0]);
        m.extend_from_slice(&question(&labels(&[b"end"]), 1, 1));
        let mut chain = Vec::new();
        let rdata_start = (m.len() + 12) as u16;
        let mut prev = 12u16;
        for i in 0..300u16 {
            chain.extend_from_slice(&(0xc000 | prev).to_be_bytes());
            prev = rdata_start + 2 * i;
        }
        m.extend_from_slice(&rr(&ptr12, 10, 1, 1, &chain));
        m.extend_from_slice(&rr(&(0xc000 | prev).to_be_bytes(), 1, 1, 1, &[1, 2, 3, 4]));
        e(
            v,
            "pointer-chain-300",
            m,
            "a name reached through 300 chained pointers (over MAX_POINTER_HOPS)",
        );
    }
    // Label chain reached by pointers many times: many records whose names point into a
    // long run of labels (MAX_NAME_STEPS).
    {
        let mut m = dns_hdr(6, 0x8180, [1, 200, 0, 0]);
        let long: Vec<&[u8]> = vec![&b"a"[..]; 126];
        m.extend_from_slice(&question(&labels(&long), 1, 1));
        for _ in 0..200 {
            m.extend_from_slice(&rr(&ptr12, 5, 1, 1, &ptr12));
        }
        e(
            v,
            "long-name-many-refs",
            m,
            "a 253-octet name referenced by 400 pointers",
        );
    }
    // A long run of labels with few names: the names' share of the message's budget
    // (NAME_STEPS_PER_OCTET) lets each walk all 8,000 labels to the bad label at the end.
    {
        let mut m = dns_hdr(0x66, 0x8180, [2, 0, 0, 0]);
        for _ in 0..8_000 {
            m.extend_from_slice(&[1, b'a']);
        }
        let qclass = (m.len() + 4) as u16;
        m.extend_from_slice(&(0xc000 | qclass).to_be_bytes());
        m.extend_from_slice(&[0, 1, 0x80, 1]);
        m.extend_from_slice(&question(&ptr12, 1, 1));
        e(
            v,
            "long-run-few-names",
            m,
            "two names that walk 8,000 labels in place to a label of type 0x80",
        );
    }
    {
        let l63 = [b'x'; 63];
        let name = labels(&[&l63, &l63, &l63, &l63, b"toolong"]);
        e(
            v,
            "name-too-long",
            cat(&[&dns_hdr(7, 0x0100, [1, 0, 0, 0]), &question(&name, 1, 1)]),
            "a name of more than 255 octets",
        );
    }
    {
        let l63 = [0xffu8; 63];
        let l63b = [0x00u8; 63];
        let name = labels(&[&l63, &l63b, &l63, b"\\.\x7f"]);
        e(
            v,
            "name-binary-labels",
            cat(&[&dns_hdr(8, 0x0100, [1, 0, 0, 0]), &question(&name, 1, 1)]),
            "labels of 0xff and 0x00 octets, dot and backslash (escaping in every style)",
        );
    }
    {
        let name = labels(&[
            b"\xc3\xa9t\xc3\xa9",
            b"\xe2\x80\x8b",
            b"\xed\xa0\x80",
            b"\xf0\x9f\x92\xa9",
        ]);
        e(
            v,
            "name-utf8",
            cat(&[&dns_hdr(9, 0x0100, [1, 0, 0, 0]), &question(&name, 28, 1)]),
            "UTF-8, a zero-width space, a surrogate and an emoji in labels",
        );
    }
    for (ty, n) in [
        (0x40u8, "label-0x40"),
        (0x80, "label-0x80"),
        (0x41, "label-bitstring"),
    ] {
        e(
            v,
            n,
            cat(&[
                &dns_hdr(10, 0x0100, [1, 0, 0, 0]),
                &[ty, 1, 2, 3, 0],
                &[0, 1, 0, 1],
            ]),
            "a reserved label type",
        );
    }
    e(
        v,
        "pointer-past-end",
        cat(&[
            &dns_hdr(11, 0x0100, [1, 0, 0, 0]),
            &[0xff, 0xff, 0, 1, 0, 1],
        ]),
        "pointer beyond the message",
    );
    e(
        v,
        "forward-pointer",
        cat(&[
            &dns_hdr(12, 0x0100, [1, 0, 0, 0]),
            &[0xc0, 18, 0, 1, 0, 1],
            &labels(&[b"fwd"]),
        ]),
        "a pointer forward to a name after the question",
    );
    e(
        v,
        "pointer-cut",
        cat(&[
            &dns_hdr(13, 0x0100, [1, 0, 0, 0]),
            &[3, b'a', b'b', b'c', 0xc0],
        ]),
        "the message ends inside a pointer",
    );
    e(
        v,
        "rdlength-ffff",
        cat(&[
            &dns_hdr(14, 0x8180, [1, 1, 0, 0]),
            &q,
            &ptr12,
            &[0, 1, 0, 1, 0, 0, 0, 1, 0xff, 0xff, 1, 2],
        ]),
        "an answer whose RDLENGTH runs far past the end",
    );
    {
        let mut m = dns_hdr(15, 0x8180, [1, 9, 0, 0]);
        m.extend_from_slice(&q);
        m.extend_from_slice(&rr(&ptr12, 1, 1, 1, &[1, 2, 3]));
        m.extend_from_slice(&rr(&ptr12, 28, 1, 1, &[0; 15]));
        m.extend_from_slice(&rr(&ptr12, 15, 1, 1, &[0, 10, 5, b'm', b'a']));
        m.extend_from_slice(&rr(&ptr12, 6, 1, 1, &[0xc0, 12, 0xc0]));
        m.extend_from_slice(&rr(&ptr12, 33, 1, 1, &[0, 1, 0, 2, 0, 80]));
        m.extend_from_slice(&rr(&ptr12, 16, 1, 1, &[5, b'a', b'b']));
        m.extend_from_slice(&rr(&ptr12, 16, 1, 1, &[]));
        m.extend_from_slice(&rr(&ptr12, 5, 1, 1, &[0xc0, 0xff]));
        m.extend_from_slice(&rr(&ptr12, 12, 1, 1, &[0xc0, 12, 9, 9, 9]));
        e(v, "rdata-malformed", m, "A of 3 octets, AAAA of 15, cut MX/SOA/SRV/TXT, CNAME pointer out, PTR with trailing octets");
    }
    {
        let mut m = dns_hdr(16, 0x8180, [1, 8, 1, 0]);
        m.extend_from_slice(&q);
        m.extend_from_slice(&rr(&ptr12, 1, 1, 1, &[192, 0, 2, 1]));
        m.extend_from_slice(&rr(
            &ptr12,
            28,
            1,
            1,
            &[0x20, 1, 0xd, 0xb8, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1],
        ));
        m.extend_from_slice(&rr(&ptr12, 15, 1, 1, &cat(&[&[0, 10], &labels(&[b"mx"])])));
        let mut soa = labels(&[b"ns"]);
        soa.extend_from_slice(&[0xc0, 12]);
        soa.extend_from_slice(&[0xff; 20]);
        m.extend_from_slice(&rr(&ptr12, 6, 1, 1, &soa));
        m.extend_from_slice(&rr(
            &ptr12,
            33,
            1,
            1,
            &cat(&[&[0, 1, 0, 2, 0x1f, 0x90], &ptr12]),
        ));
        let mut txt = vec![255u8];
        txt.extend_from_slice(&[0x80; 255]);
        txt.extend_from_slice(&[0, 3, b'\t', b'"', b'\\']);
        m.extend_from_slice(&rr(&ptr12, 16, 1, 1, &txt));
        m.extend_from_slice(&rr(&ptr12, 10, 1, 1, &[0, 0xff, 0x7f]));
        m.extend_from_slice(&rr(&ptr12, 39, 1, 1, &ptr12));
        m.extend_from_slice(&rr(&ptr12, 2, 1, 1, &labels(&[b"ns1"])));
        e(
            v,
            "rdata-every-type",
            m,
            "well-formed A, AAAA, MX, SOA, SRV, TXT, NULL, DNAME, NS",
        );
    }
    {
        let mut m = dns_hdr(17, 0x8180, [1, 0, 0, 4]);
        m.extend_from_slice(&q);
        // OPT with options, one cut short.
        m.extend_from_slice(&rr(
            &[0],
            41,
            4096,
            0x0f00_8000,
            &[0, 10, 0, 8, 1, 2, 3, 4, 5, 6, 7, 8, 0, 12, 0, 9, 1],
        ));
        m.extend_from_slice(&rr(&[0], 41, 512, 0, &[]));
        m.extend_from_slice(&rr(&[0], 41, 0, 0xffff_ffff, &[0xff, 0xff, 0xff, 0xff]));
        m.extend_from_slice(&rr(&ptr12, 41, 1, 1, &[0, 0, 0, 0]));
        e(
            v,
            "edns-multiple-opt",
            m,
            "four OPT records, extended RCODE, options cut short",
        );
    }
    {
        let mut m = dns_hdr(18, 0x8400, [2, 2, 0, 0]);
        let local = labels(&[b"printer", b"_ipp", b"_tcp", b"local"]);
        m.extend_from_slice(&question(&local, 255, 0x8001));
        m.extend_from_slice(&question(&[0xc0, 12], 33, 0x00ff));
        m.extend_from_slice(&rr(&ptr12, 16, 0x8001, 4500, &[0]));
        m.extend_from_slice(&rr(
            &ptr12,
            33,
            0x8001,
            120,
            &cat(&[&[0, 0, 0, 0, 2, 0x77], &ptr12]),
        ));
        e(v, "mdns-flags", m, "mDNS: QU bit, cache-flush bit, ANY");
    }
    {
        let mut m = dns_hdr(19, 0x0100, [1, 0, 0, 0]);
        m.extend_from_slice(&q);
        m.extend_from_slice(&[0xde, 0xad, 0xbe, 0xef]);
        e(v, "trailing", m, "octets after the last section");
    }
    {
        // Names compressed against every offset of a long label run.
        let mut m = dns_hdr(20, 0x8180, [1, 40, 0, 0]);
        m.extend_from_slice(&q);
        for i in 0..40u16 {
            let target = 12 + (i % 20);
            m.extend_from_slice(&rr(
                &(0xc000 | target).to_be_bytes(),
                5,
                1,
                1,
                &(0xc000 | (12 + (i * 7) % 20)).to_be_bytes(),
            ));
        }
        e(
            v,
            "pointers-into-labels",
            m,
            "pointers into the middle of labels",
        );
    }
    {
        let mut m = dns_hdr(21, 0x2800, [1, 1, 1, 1]);
        m.extend_from_slice(&question(&labels(&[b"example", b"org"]), 6, 1));
        m.extend_from_slice(&rr(&ptr12, 255, 255, 0, &[]));
        m.extend_from_slice(&rr(&ptr12, 1, 254, 0, &[]));
        m.extend_from_slice(&rr(
            &[0xc0, 12],
            250,
            255,
            0,
            &[0x08, 0x68, 0x6d, 0x61, 0x63],
        ));
        e(
            v,
            "update-opcode",
            m,
            "opcode UPDATE, class NONE/ANY, TSIG-like record",
        );
    }
    {
        let mut m = dns_hdr(22, 0x81ff, [0, 0, 0, 0]);
        m.extend_from_slice(&[0; 20]);
        e(
            v,
            "all-flags-zeros",
            m,
            "every flag and RCODE bit set, zero counts, zero padding",
        );
    }
}

fn dns_tcp_edges(v: &mut Vec<Seed>) {
    let mut q = dns_hdr(0x1111, 0x0100, [1, 0, 0, 0]);
    q.extend_from_slice(&question(&labels(&[b"example", b"com"]), 1, 1));
    let mut r = dns_hdr(0x1111, 0x8180, [1, 1, 0, 0]);
    r.extend_from_slice(&question(&labels(&[b"example", b"com"]), 1, 1));
    r.extend_from_slice(&rr(&[0xc0, 12], 1, 1, 60, &[192, 0, 2, 7]));
    let framed = |m: &[u8]| -> Vec<u8> {
        let mut f = (m.len() as u16).to_be_bytes().to_vec();
        f.extend_from_slice(m);
        f
    };
    let (fq, fr) = (framed(&q), framed(&r));
    let e = |v: &mut Vec<Seed>, n: &str, b: Vec<u8>, w: &str| v.push(edge("dns_tcp", n, b, w));
    let mut c = Conv::default();
    e(
        v,
        "simple",
        c.data(C2S, &fq).data(S2C, &fr).take(),
        "one query, one answer",
    );
    e(
        v,
        "byte-by-byte",
        c.chunked(C2S, &fq, 1).chunked(S2C, &fr, 1).take(),
        "every octet in its own record",
    );
    e(
        v,
        "prefix-split",
        c.data(C2S, &fq[..1])
            .data(C2S, &fq[1..])
            .data(S2C, &fr[..1])
            .data(S2C, &fr[1..])
            .take(),
        "length prefix split between records",
    );
    e(
        v,
        "zero-length",
        c.data(C2S, &[0, 0, 0, 0]).data(C2S, &fq).take(),
        "two zero-length messages, then a query",
    );
    e(
        v,
        "max-length-cut",
        c.data(C2S, &[0xff, 0xff]).data(C2S, &[0x41; 300]).take(),
        "a 65535-octet message that never completes",
    );
    e(
        v,
        "gap-mid-message",
        c.data(C2S, &fq[..10])
            .gap(C2S, 5)
            .data(C2S, &fq)
            .data(S2C, &fr)
            .take(),
        "a gap inside a message, then a fresh message",
    );
    e(
        v,
        "gap-first",
        c.gap(S2C, 40).data(S2C, &fr).data(C2S, &fq).take(),
        "a gap before the first octet; response before query",
    );
    {
        let mut all = Vec::new();
        for i in 0..40u16 {
            let mut m = q.clone();
            m[0..2].copy_from_slice(&i.to_be_bytes());
            all.extend_from_slice(&framed(&m));
        }
        let mut rs = Vec::new();
        for i in (0..40u16).rev() {
            let mut m = r.clone();
            m[0..2].copy_from_slice(&i.to_be_bytes());
            rs.extend_from_slice(&framed(&m));
        }
        e(
            v,
            "pipelined-40",
            c.data(C2S, &all).chunked(S2C, &rs, 77).take(),
            "40 pipelined queries (more than the tracker keeps), answers in reverse",
        );
    }
    e(
        v,
        "garbage",
        c.data(C2S, b"GET / HTTP/1.1\r\nHost: x\r\n\r\n")
            .data(S2C, &[0xff; 64])
            .take(),
        "not DNS at all",
    );
    e(
        v,
        "short-messages",
        c.data(C2S, &[0, 1, 0, 0, 2, 0, 0, 0, 11])
            .data(C2S, &[0; 11])
            .take(),
        "messages shorter than a header",
    );
}

// --- DHCP

fn dhcp_base(op: u8, xid: u32, opts: &[u8]) -> Vec<u8> {
    let mut m = vec![0u8; 236];
    m[0] = op;
    m[1] = 1;
    m[2] = 6;
    m[4..8].copy_from_slice(&xid.to_be_bytes());
    m[28..34].copy_from_slice(&[0x02, 0x11, 0x22, 0x33, 0x44, 0x55]);
    m.extend_from_slice(&[99, 130, 83, 99]);
    m.extend_from_slice(opts);
    m
}

fn dhcp_edges(v: &mut Vec<Seed>) {
    let e = |v: &mut Vec<Seed>, n: &str, b: Vec<u8>, w: &str| v.push(edge("dhcp", n, b, w));
    e(
        v,
        "too-short",
        vec![1; 235],
        "one octet short of the BOOTP fixed part",
    );
    e(
        v,
        "bootp-only",
        {
            let mut m = vec![0u8; 236];
            m[0] = 1;
            m
        },
        "plain BOOTP, no cookie",
    );
    e(
        v,
        "cookie-no-options",
        dhcp_base(1, 1, &[]),
        "cookie and nothing after it",
    );
    e(
        v,
        "discover",
        dhcp_base(
            1,
            0x0102_0304,
            &[
                53, 1, 1, 61, 7, 1, 2, 0x11, 0x22, 0x33, 0x44, 0x55, 12, 4, b'h', b'o', b's', b't',
                55, 4, 1, 3, 6, 15, 255,
            ],
        ),
        "an ordinary DISCOVER",
    );
    e(
        v,
        "ack",
        dhcp_base(
            2,
            0x0102_0304,
            &[
                53, 1, 5, 54, 4, 10, 0, 0, 1, 51, 4, 0, 0, 0x0e, 0x10, 1, 4, 255, 255, 255, 0, 3,
                8, 10, 0, 0, 1, 10, 0, 0, 2, 6, 6, 8, 8, 8, 8, 1, 1, 15, 3, b'l', b'a', b'n', 255,
            ],
        ),
        "an ACK with lease, routers, DNS (6 octets: a partial address)",
    );
    e(
        v,
        "option-past-end",
        dhcp_base(1, 2, &[53, 1, 3, 12, 200, b'x']),
        "an option longer than the rest",
    );
    e(
        v,
        "pad-no-end",
        dhcp_base(1, 3, &[0; 64]),
        "only Pad options, no End",
    );
    e(
        v,
        "zero-length-options",
        dhcp_base(
            1,
            4,
            &[53, 0, 50, 0, 51, 0, 54, 0, 61, 0, 81, 0, 1, 0, 3, 0, 255],
        ),
        "every getter's option with length 0",
    );
    {
        let mut m = dhcp_base(2, 5, &[52, 1, 3, 53, 1, 2, 255]);
        // file (108..236) and sname (44..108) carry options.
        m[108..114].copy_from_slice(&[12, 3, b'a', b'b', b'c', 255]);
        m[44..50].copy_from_slice(&[15, 200, b'x', b'y', b'z', 0]);
        e(
            v,
            "overload-both",
            m,
            "option overload 3; sname option runs past its field",
        );
    }
    for ov in [1u8, 2, 0, 4, 255] {
        let mut m = dhcp_base(
            2,
            6,
            &[
                52, 1, ov, 53, 1, 6, 56, 5, b'n', b'o', b'p', b'e', b'!', 255,
            ],
        );
        m[108] = 0xff;
        m[44] = 53;
        e(
            v,
            &format!("overload-{ov}"),
            m,
            "option overload with an odd value; NAK with a message",
        );
    }
    {
        let mut fq = vec![81, 0, 0x05, 0, 0];
        let name = labels(&[b"host", b"example", b"com"]);
        fq.extend_from_slice(&name);
        fq[1] = (fq.len() - 2) as u8;
        fq.push(255);
        e(
            v,
            "fqdn-wire",
            dhcp_base(1, 7, &fq),
            "client FQDN in DNS wire form (E flag)",
        );
        let bad = [81u8, 9, 0x04, 0, 0, 64, b'a', b'b', 0, 63, 1, 255];
        e(
            v,
            "fqdn-bad-labels",
            dhcp_base(1, 8, &bad),
            "client FQDN with a 64-octet label and a cut one",
        );
        e(
            v,
            "fqdn-short",
            dhcp_base(1, 9, &[81, 2, 0x04, 0, 255]),
            "client FQDN shorter than its fixed part",
        );
    }
    e(
        v,
        "client-id-odd",
        dhcp_base(
            3,
            10,
            &[53, 1, 3, 61, 7, 2, 1, 2, 3, 4, 5, 6, 61, 1, 1, 255],
        ),
        "non-Ethernet client identifier, then a second one",
    );
    e(
        v,
        "long-options",
        {
            let mut o = vec![12u8, 255];
            o.extend_from_slice(&[b'h'; 255]);
            o.extend_from_slice(&[56, 255]);
            o.extend_from_slice(&[0xff; 255]);
            o.extend_from_slice(&[15, 255]);
            o.extend_from_slice(&[0x80; 255]);
            o.push(255);
            dhcp_base(1, 11, &o)
        },
        "255-octet host name, message and domain",
    );
    e(
        v,
        "htype-odd",
        {
            let mut m = dhcp_base(3, 12, &[53, 1, 7, 255]);
            m[1] = 6;
            m[2] = 16;
            m
        },
        "RELEASE with a 16-octet hardware address",
    );
    e(
        v,
        "op-unknown",
        dhcp_base(0, 13, &[53, 1, 4, 255]),
        "op 0 with a DECLINE type",
    );
    e(
        v,
        "leasequery",
        dhcp_base(2, 14, &[53, 1, 13, 255]),
        "LEASEACTIVE answer",
    );
    e(
        v,
        "many-types",
        {
            let mut o = Vec::new();
            for t in 1..=20u8 {
                o.extend_from_slice(&[53, 1, t]);
            }
            o.push(255);
            dhcp_base(2, 15, &o)
        },
        "twenty message-type options",
    );
}

// --- HTTP

fn http_edges(v: &mut Vec<Seed>) {
    let e = |v: &mut Vec<Seed>, n: &str, b: Vec<u8>, w: &str| v.push(edge("http", n, b, w));
    let mut c = Conv::default();
    let get = b"GET /index.html HTTP/1.1\r\nHost: example.com\r\nUser-Agent: t\r\n\r\n";
    let ok = b"HTTP/1.1 200 OK\r\nContent-Length: 5\r\nContent-Type: text/plain\r\n\r\nhello";
    e(
        v,
        "simple",
        c.data(C2S, get).data(S2C, ok).take(),
        "one GET, one response",
    );
    e(
        v,
        "byte-by-byte",
        c.chunked(C2S, get, 1).chunked(S2C, ok, 1).take(),
        "every octet in its own record",
    );
    e(v, "chunked", c.data(C2S, get).data(S2C, b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n5;ext=1\r\nhello\r\n0\r\nX-Trailer: 1\r\n\r\n").take(), "chunked body with extension and trailer");
    e(v, "chunk-size-huge", c.data(C2S, get).data(S2C, b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\nffffffffffffffffffffffff\r\nabc").take(), "chunk size overflowing 64 bits");
    e(
        v,
        "chunk-size-max",
        c.data(C2S, get)
            .data(
                S2C,
                b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\nffffffffffffffff\r\nabc",
            )
            .gap(S2C, 0xffff)
            .data(S2C, b"more")
            .take(),
        "chunk size 2^64-1, then a gap",
    );
    e(v, "chunk-bad", c.data(C2S, get).data(S2C, b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n-5\r\nhello\r\n3\r\nabcXY0\r\n\r\nHTTP/1.1 204 No\r\n\r\n").take(), "negative chunk size, missing CRLF after data, resync");
    e(v, "chunk-ws", c.data(C2S, get).data(S2C, b"HTTP/1.1 200 OK\r\nTransfer-Encoding: gzip, chunked\r\n\r\n 3 \t ; a=b\r\nabc\r\n0   \r\n\r\n").take(), "whitespace around chunk sizes");
    e(
        v,
        "chunk-trailer-long",
        {
            let mut b = b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n".to_vec();
            for _ in 0..700 {
                b.extend_from_slice(b"X-T: aaaaaaaaaaaaaaaaaaaa\r\n");
            }
            c.data(C2S, get).data(S2C, &b).take()
        },
        "a trailer section over the head limit",
    );
    e(
        v,
        "content-length-huge",
        c.data(
            C2S,
            b"POST /u HTTP/1.1\r\nContent-Length: 99999999999999999999999\r\n\r\nabc",
        )
        .data(
            S2C,
            b"HTTP/1.1 400 Bad\r\nContent-Length: 18446744073709551615\r\n\r\nxyz",
        )
        .gap(S2C, 0xffff)
        .take(),
        "Content-Length overflowing 64 bits, and 2^64-1",
    );
    e(
        v,
        "content-length-conflict",
        c.data(
            C2S,
            b"POST / HTTP/1.1\r\nContent-Length: 3\r\nContent-Length: 4\r\n\r\nabcd",
        )
        .data(
            S2C,
            b"HTTP/1.1 200 OK\r\nContent-Length: 2, 2\r\nContent-Length: +1\r\n\r\nok",
        )
        .take(),
        "conflicting and odd Content-Length values",
    );
    e(v, "te-and-cl", c.data(C2S, b"POST / HTTP/1.1\r\nTransfer-Encoding: chunked\r\nContent-Length: 100\r\n\r\n0\r\n\r\nGET /smuggled HTTP/1.1\r\n\r\n").data(S2C, b"HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\nHTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n").take(), "Transfer-Encoding and Content-Length together (smuggling shape)");
    e(v, "te-not-chunked", c.data(C2S, b"POST / HTTP/1.1\r\nTransfer-Encoding: chunked, gzip\r\n\r\nabc\r\n\r\nGET / HTTP/1.1\r\n\r\n").take(), "request Transfer-Encoding not ending in chunked");
    {
        let mut reqs = Vec::new();
        for i in 0..40 {
            reqs.extend_from_slice(format!("GET /{i} HTTP/1.1\r\nHost: h\r\n\r\n").as_bytes());
        }
        let mut resps = Vec::new();
        for _ in 0..40 {
            resps.extend_from_slice(b"HTTP/1.1 200 OK\r\nContent-Length: 1\r\n\r\nx");
        }
        e(
            v,
            "pipelined-40",
            c.data(C2S, &reqs).data(S2C, &resps).take(),
            "40 pipelined requests (over max_pending)",
        );
    }
    e(
        v,
        "response-first",
        c.data(S2C, ok).data(C2S, get).data(S2C, ok).take(),
        "a response before any request",
    );
    e(
        v,
        "continue-101",
        c.data(
            C2S,
            b"POST /up HTTP/1.1\r\nExpect: 100-continue\r\nContent-Length: 2\r\n\r\n",
        )
        .data(S2C, b"HTTP/1.1 100 Continue\r\n\r\n")
        .data(C2S, b"hi")
        .data(
            S2C,
            b"HTTP/1.1 102 Processing\r\n\r\nHTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n",
        )
        .data(C2S, b"GET /ws HTTP/1.1\r\nUpgrade: websocket\r\n\r\n")
        .data(
            S2C,
            b"HTTP/1.1 101 Switching Protocols\r\n\r\n\x81\x05hello",
        )
        .data(C2S, b"\x81\x85abcd1234")
        .take(),
        "100/102 interim, then 101 and websocket frames",
    );
    e(
        v,
        "connect",
        c.data(C2S, b"CONNECT example.com:443 HTTP/1.1\r\n\r\n")
            .data(S2C, b"HTTP/1.1 200 Connection established\r\n\r\n")
            .data(C2S, &[0x16, 3, 1, 0, 5, 1, 0, 0, 1, 0])
            .take(),
        "CONNECT tunnel followed by TLS bytes",
    );
    e(v, "head-204-304", c.data(C2S, b"HEAD / HTTP/1.1\r\n\r\nGET /a HTTP/1.1\r\n\r\nGET /b HTTP/1.1\r\n\r\n").data(S2C, b"HTTP/1.1 200 OK\r\nContent-Length: 1000\r\n\r\nHTTP/1.1 204 No Content\r\nContent-Length: 7\r\n\r\nHTTP/1.1 304 Not Modified\r\nTransfer-Encoding: chunked\r\n\r\n").take(), "bodiless responses that announce a body");
    e(
        v,
        "close-delimited",
        c.data(C2S, b"GET / HTTP/1.0\r\n\r\n")
            .data(S2C, b"HTTP/1.0 200 OK\r\n\r\nbody until close")
            .gap(S2C, 100)
            .data(S2C, b"more")
            .take(),
        "response body delimited by the end of the connection, with a gap",
    );
    e(
        v,
        "obs-fold-lf",
        c.data(
            C2S,
            b"GET / HTTP/1.1\nHost: a\n  b\n\tc\nUser-Agent:\n x\nNoColon\n : bad\nBad Name: x\n\n",
        )
        .data(S2C, b"HTTP/1.1 200\nContent-Length: 0\n\n")
        .take(),
        "bare LF, obs-fold continuations, bad header lines, status without reason",
    );
    e(
        v,
        "http09",
        c.data(
            C2S,
            b"GET /\r\n\r\nget / HTTP/1.1\r\n\r\n\x00\x01\x02 / HTTP/1.1\r\n\r\n",
        )
        .data(S2C, b"<html>")
        .take(),
        "HTTP/0.9 request line, lower-case method, binary method",
    );
    e(v, "auth-basic", c.data(C2S, b"GET / HTTP/1.1\r\nAuthorization: Basic dXNlcjpwYXNz\r\n\r\nGET / HTTP/1.1\r\nAuthorization: Basic !!!notbase64\r\n\r\nGET / HTTP/1.1\r\nAuthorization: Basic dXNlcg==\r\n\r\nGET / HTTP/1.1\r\nAuthorization: basic =\r\n\r\n").take(), "Basic credentials: good, bad base64, no colon, padding only");
    e(
        v,
        "long-uri",
        {
            let mut r = b"GET /".to_vec();
            r.extend_from_slice(&[b'a'; 9000]);
            r.extend_from_slice(b" HTTP/1.1\r\nHost: ");
            r.extend_from_slice(&[b'h'; 2000]);
            r.extend_from_slice(b"\r\n\r\n");
            c.data(C2S, &r).data(S2C, ok).take()
        },
        "URI over max_uri, Host over max_field",
    );
    e(
        v,
        "head-over-limit",
        {
            let mut r = b"GET / HTTP/1.1\r\n".to_vec();
            while r.len() < 17 * 1024 {
                r.extend_from_slice(b"X-Filler: 0123456789012345678901234567890123456789\r\n");
            }
            r.extend_from_slice(b"\r\nGET /after HTTP/1.1\r\n\r\n");
            c.chunked(C2S, &r, 1400).data(S2C, ok).data(S2C, ok).take()
        },
        "a request head over 16 KiB, then a normal request",
    );
    e(
        v,
        "gaps-everywhere",
        c.data(C2S, b"GET / HT")
            .gap(C2S, 10)
            .data(
                C2S,
                b"TP/1.1\r\n\r\nPOST / HTTP/1.1\r\nContent-Length: 10\r\n\r\nab",
            )
            .gap(C2S, 3)
            .data(C2S, b"cdefg")
            .gap(C2S, 5)
            .data(C2S, b"GET /x HTTP/1.1\r\n\r\n")
            .data(
                S2C,
                b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n4\r\nab",
            )
            .gap(S2C, 2)
            .data(S2C, b"\r\n0\r\n\r\nHTTP/1.1 200 OK\r\n\r\n")
            .take(),
        "gaps in a head, in a body, past a body, in chunk data",
    );
    e(
        v,
        "resync-body-text",
        c.data(
            C2S,
            b"XYZ\r\nnot http at all\r\nGET /fake HTTP/1.1 trailing\r\nGET /real HTTP/1.1\r\n\r\n",
        )
        .data(
            S2C,
            b"garbage\r\nHTTP/1.1 999 Weird\r\nHTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n",
        )
        .take(),
        "lost directions scanning for a start line",
    );
    e(
        v,
        "empty-lines",
        c.data(C2S, b"\r\n\r\n\n\n\r\nGET / HTTP/1.1\r\n\r\n")
            .data(S2C, b"\r\n\r\nHTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n")
            .take(),
        "empty lines before messages",
    );
    e(v, "status-odd", c.data(C2S, get).data(S2C, b"HTTP/1.1 20 OK\r\n\r\nHTTP/1.1 2000 OK\r\n\r\nHTTP/2.0 200 OK\r\n\r\nHTTP/1.1 099 Low\r\n\r\nHTTP/1.1 600 High\r\nContent-Length: 0\r\n\r\n").take(), "status codes of wrong length and range");
}

// --- TLS

fn tls_record(ct: u8, ver: u16, body: &[u8]) -> Vec<u8> {
    let mut v = vec![ct];
    v.extend_from_slice(&ver.to_be_bytes());
    v.extend_from_slice(&(body.len() as u16).to_be_bytes());
    v.extend_from_slice(body);
    v
}

fn hs(ty: u8, body: &[u8]) -> Vec<u8> {
    let n = body.len() as u32;
    let mut v = vec![ty, (n >> 16) as u8, (n >> 8) as u8, n as u8];
    v.extend_from_slice(body);
    v
}

fn u16s(vals: &[u16]) -> Vec<u8> {
    vals.iter().flat_map(|x| x.to_be_bytes()).collect()
}

fn vec16(b: &[u8]) -> Vec<u8> {
    let mut v = (b.len() as u16).to_be_bytes().to_vec();
    v.extend_from_slice(b);
    v
}

fn vec8(b: &[u8]) -> Vec<u8> {
    let mut v = vec![b.len() as u8];
    v.extend_from_slice(b);
    v
}

fn vec24(b: &[u8]) -> Vec<u8> {
    let n = b.len() as u32;
    let mut v = vec![(n >> 16) as u8, (n >> 8) as u8, n as u8];
    v.extend_from_slice(b);
    v
}

fn ext(ty: u16, data: &[u8]) -> Vec<u8> {
    let mut v = ty.to_be_bytes().to_vec();
    v.extend_from_slice(&vec16(data));
    v
}

fn sni(names: &[&[u8]]) -> Vec<u8> {
    let mut list = Vec::new();
    for n in names {
        list.push(0);
        list.extend_from_slice(&vec16(n));
    }
    ext(0, &vec16(&list))
}

fn alpn(protos: &[&[u8]]) -> Vec<u8> {
    let mut list = Vec::new();
    for p in protos {
        list.extend_from_slice(&vec8(p));
    }
    ext(16, &vec16(&list))
}

fn client_hello(version: u16, sid: &[u8], ciphers: &[u16], exts: &[Vec<u8>]) -> Vec<u8> {
    let mut b = version.to_be_bytes().to_vec();
    b.extend_from_slice(&[0x5a; 32]);
    b.extend_from_slice(&vec8(sid));
    b.extend_from_slice(&vec16(&u16s(ciphers)));
    b.extend_from_slice(&[1, 0]);
    if !exts.is_empty() {
        b.extend_from_slice(&vec16(&exts.concat()));
    }
    hs(1, &b)
}

fn server_hello(
    version: u16,
    random: &[u8; 32],
    sid: &[u8],
    cipher: u16,
    exts: &[Vec<u8>],
) -> Vec<u8> {
    let mut b = version.to_be_bytes().to_vec();
    b.extend_from_slice(random);
    b.extend_from_slice(&vec8(sid));
    b.extend_from_slice(&cipher.to_be_bytes());
    b.push(0);
    if !exts.is_empty() {
        b.extend_from_slice(&vec16(&exts.concat()));
    }
    hs(2, &b)
}

/// A DER TLV with a definite length in the shortest form.
fn der(tag: u8, content: &[u8]) -> Vec<u8> {
    let mut v = vec![tag];
    let n = content.len();
    if n < 0x80 {
        v.push(n as u8);
    } else if n < 0x100 {
        v.extend_from_slice(&[0x81, n as u8]);
    } else if n < 0x10000 {
        v.extend_from_slice(&[0x82, (n >> 8) as u8, n as u8]);
    } else {
        v.extend_from_slice(&[0x83, (n >> 16) as u8, (n >> 8) as u8, n as u8]);
    }
    v.extend_from_slice(content);
    v
}

fn der_name(attrs: &[(&[u8], u8, &[u8])]) -> Vec<u8> {
    let mut rdns = Vec::new();
    for (oid, strtag, val) in attrs {
        let atv = der(0x30, &cat(&[&der(0x06, oid), &der(*strtag, val)]));
        rdns.extend_from_slice(&der(0x31, &atv));
    }
    der(0x30, &rdns)
}

const OID_CN: &[u8] = &[0x55, 0x04, 0x03];
const OID_O: &[u8] = &[0x55, 0x04, 0x0a];
const OID_C: &[u8] = &[0x55, 0x04, 0x06];

struct CertSpec<'a> {
    serial: &'a [u8],
    issuer: Vec<u8>,
    subject: Vec<u8>,
    not_before: (u8, &'a [u8]),
    not_after: (u8, &'a [u8]),
    sans: Vec<Vec<u8>>,
    extra_exts: usize,
}

fn cert(s: &CertSpec<'_>) -> Vec<u8> {
    let alg = der(
        0x30,
        &cat(&[
            &der(
                0x06,
                &[0x2a, 0x86, 0x48, 0x86, 0xf7, 0x0d, 0x01, 0x01, 0x0b],
            ),
            &[0x05, 0x00],
        ]),
    );
    let validity = der(
        0x30,
        &cat(&[
            &der(s.not_before.0, s.not_before.1),
            &der(s.not_after.0, s.not_after.1),
        ]),
    );
    let spki = der(
        0x30,
        &cat(&[
            &der(
                0x30,
                &cat(&[
                    &der(0x06, &[0x2a, 0x86, 0x48, 0xce, 0x3d, 0x02, 0x01]),
                    &der(0x06, &[0x2a, 0x86, 0x48, 0xce, 0x3d, 0x03, 0x01, 0x07]),
                ]),
            ),
            &der(0x03, &[0, 4, 1, 2, 3, 4]),
        ]),
    );
    let mut exts = Vec::new();
    if !s.sans.is_empty() {
        let mut gn = Vec::new();
        for n in &s.sans {
            gn.extend_from_slice(&der(0x82, n));
        }
        gn.extend_from_slice(&der(0x87, &[192, 0, 2, 1]));
        exts.extend_from_slice(&der(
            0x30,
            &cat(&[&der(0x06, &[0x55, 0x1d, 0x11]), &der(0x04, &der(0x30, &gn))]),
        ));
    }
    for i in 0..s.extra_exts {
        exts.extend_from_slice(&der(
            0x30,
            &cat(&[
                &der(0x06, &[0x2b, 0x06, 0x01, 0x04, 0x01, (i % 127) as u8]),
                &[0x01, 0x01, 0xff],
                &der(0x04, &[0x05, 0x00]),
            ]),
        ));
    }
    let mut tbs = der(0xa0, &der(0x02, &[2]));
    tbs.extend_from_slice(&der(0x02, s.serial));
    tbs.extend_from_slice(&alg);
    tbs.extend_from_slice(&s.issuer);
    tbs.extend_from_slice(&validity);
    tbs.extend_from_slice(&s.subject);
    tbs.extend_from_slice(&spki);
    if !exts.is_empty() {
        tbs.extend_from_slice(&der(0xa3, &der(0x30, &exts)));
    }
    der(
        0x30,
        &cat(&[&der(0x30, &tbs), &alg, &der(0x03, &[0, 0xaa, 0xbb])]),
    )
}

fn base_cert<'a>() -> CertSpec<'a> {
    CertSpec {
        serial: &[0x01, 0x23, 0x45],
        issuer: der_name(&[
            (OID_C, 0x13, &b"US"[..]),
            (OID_O, 0x0c, &b"Fuzz CA"[..]),
            (OID_CN, 0x0c, &b"Fuzz Root"[..]),
        ]),
        subject: der_name(&[(OID_CN, 0x0c, &b"www.example.com"[..])]),
        not_before: (0x17, b"200101000000Z"),
        not_after: (0x18, b"20491231235959Z"),
        sans: vec![b"www.example.com".to_vec(), b"*.example.com".to_vec()],
        extra_exts: 0,
    }
}

fn cert_msg(certs: &[Vec<u8>]) -> Vec<u8> {
    let mut list = Vec::new();
    for c in certs {
        list.extend_from_slice(&vec24(c));
    }
    hs(11, &vec24(&list))
}

fn tls_edges(v: &mut Vec<Seed>) {
    let e = |v: &mut Vec<Seed>, n: &str, b: Vec<u8>, w: &str| v.push(edge("tls", n, b, w));
    let mut c = Conv::default();
    let grease = [0x0a0a, 0x1a1a, 0xfafa];
    let ch = client_hello(
        0x0303,
        &[7; 32],
        &[grease[0], 0x1301, 0x1302, 0xc02b, 0xc02f, 0x009c, 0x00ff],
        &[
            ext(grease[1], &[]),
            sni(&[b"www.example.com"]),
            ext(23, &[]),
            ext(65281, &[0]),
            ext(10, &vec16(&u16s(&[grease[2], 29, 23, 24]))),
            ext(11, &vec8(&[0, 1, 2])),
            alpn(&[b"h2", b"http/1.1"]),
            ext(13, &vec16(&u16s(&[0x0403, 0x0804, 0x0401]))),
            ext(43, &vec8(&u16s(&[grease[0], 0x0304, 0x0303]))),
            ext(51, &vec16(&cat(&[&u16s(&[29]), &vec16(&[9; 32])]))),
            ext(45, &vec8(&[1])),
            ext(grease[2], &[0]),
        ],
    );
    let sh12 = server_hello(
        0x0303,
        &[3; 32],
        &[9; 32],
        0xc02f,
        &[
            ext(65281, &[0]),
            ext(11, &vec8(&[0])),
            ext(16, &vec16(&vec8(b"h2"))),
        ],
    );
    let ske = hs(
        12,
        &cat(&[
            &[3],
            &u16s(&[29]),
            &vec8(&[4; 32]),
            &u16s(&[0x0401]),
            &vec16(&[0xee; 16]),
        ]),
    );
    let shd = hs(14, &[]);
    let cert1 = cert(&base_cert());
    let chain = cert_msg(std::slice::from_ref(&cert1));
    let rec = |body: &[u8]| tls_record(22, 0x0303, body);
    let ccs = tls_record(20, 0x0303, &[1]);
    let fin = tls_record(22, 0x0303, &[0x14; 40]);
    let app = tls_record(23, 0x0303, &[0xab; 30]);

    let server12 = cat(&[&rec(&cat(&[&sh12, &chain, &ske, &shd]))]);
    let client_fin = cat(&[&rec(&hs(16, &vec8(&[5; 32]))), &ccs, &fin]);
    // OpenVPN over TCP carrying the same handshake in its control packets (the `openvpn`
    // part of the target reads these framed; the other parts see them as non-TLS bytes).
    let ovpn = |op: u8, auth: usize, acks: &[u32], id: Option<u32>, payload: &[u8]| {
        let mut p = vec![op << 3];
        p.extend_from_slice(&[0x5a; 8]);
        p.extend((0..auth).map(|i| (i as u8) | 0x80));
        p.push(acks.len() as u8);
        for a in acks {
            p.extend_from_slice(&a.to_be_bytes());
        }
        if !acks.is_empty() {
            p.extend_from_slice(&[0xa5; 8]);
        }
        if let Some(id) = id {
            p.extend_from_slice(&id.to_be_bytes());
        }
        p.extend_from_slice(payload);
        cat(&[&(p.len() as u16).to_be_bytes(), &p])
    };
    for (name, auth, what) in [
        ("openvpn-plain", 0, "OpenVPN over TCP without tls-auth: resets, ACKs, TLS 1.2 hellos in control packets, a data packet"),
        ("openvpn-tls-auth", 28, "OpenVPN over TCP with a SHA-1 tls-auth HMAC, the ClientHello in two control packets and one retransmitted"),
    ] {
        let hello = rec(&ch);
        let (a, b) = hello.split_at(hello.len() / 2);
        let server = cat(&[&rec(&cat(&[&sh12, &chain, &ske, &shd]))]);
        e(
            v,
            name,
            c.data(C2S, &ovpn(7, auth, &[], Some(0), &[]))
                .data(S2C, &ovpn(8, auth, &[0], Some(0), &[]))
                .data(C2S, &ovpn(5, auth, &[0], None, &[]))
                .data(C2S, &ovpn(4, auth, &[], Some(1), a))
                .data(C2S, &ovpn(4, auth, &[], Some(1), a))
                .data(C2S, &ovpn(4, auth, &[], Some(2), b))
                .chunked(S2C, &ovpn(4, auth, &[1, 2], Some(1), &server), 500)
                .data(C2S, &ovpn(9, 0, &[], None, &[0x77; 64]))
                .take(),
            what,
        );
    }
    e(
        v,
        "tls12-full",
        c.data(C2S, &rec(&ch))
            .data(S2C, &server12)
            .data(C2S, &client_fin)
            .data(S2C, &cat(&[&ccs, &fin]))
            .data(C2S, &app)
            .data(S2C, &app)
            .take(),
        "a full TLS 1.2 handshake with GREASE, SNI, ALPN, a certificate",
    );
    e(
        v,
        "tls12-byte-by-byte",
        c.chunked(C2S, &rec(&ch), 1)
            .chunked(S2C, &server12, 1)
            .chunked(C2S, &client_fin, 1)
            .chunked(S2C, &cat(&[&ccs, &fin]), 1)
            .take(),
        "every octet in its own record",
    );
    // Handshake message split over several records, and several messages in one record.
    {
        let all = cat(&[&sh12, &chain, &ske, &shd]);
        let mut recs = Vec::new();
        for piece in all.chunks(37) {
            recs.extend_from_slice(&rec(piece));
        }
        e(
            v,
            "hs-across-records",
            c.data(C2S, &rec(&ch)).chunked(S2C, &recs, 500).take(),
            "handshake messages spread over 37-octet records",
        );
    }
    {
        let random13: [u8; 32] = [3; 32];
        let sh13 = server_hello(
            0x0303,
            &random13,
            &[7; 32],
            0x1301,
            &[
                ext(43, &u16s(&[0x0304])),
                ext(51, &cat(&[&u16s(&[29]), &vec16(&[8; 32])])),
                ext(41, &u16s(&[0])),
            ],
        );
        e(
            v,
            "tls13-psk",
            c.data(C2S, &rec(&ch))
                .data(
                    S2C,
                    &cat(&[&rec(&sh13), &ccs, &tls_record(23, 0x0303, &[1; 50])]),
                )
                .data(C2S, &cat(&[&ccs, &app]))
                .data(S2C, &cat(&[&app, &app, &app]))
                .take(),
            "TLS 1.3 with pre_shared_key (resumption)",
        );
        let hrr_random: [u8; 32] = [
            0xcf, 0x21, 0xad, 0x74, 0xe5, 0x9a, 0x61, 0x11, 0xbe, 0x1d, 0x8c, 0x02, 0x1e, 0x65,
            0xb8, 0x91, 0xc2, 0xa2, 0x11, 0x16, 0x7a, 0xbb, 0x8c, 0x5e, 0x07, 0x9e, 0x09, 0xe2,
            0xc8, 0xa8, 0x33, 0x9c,
        ];
        let hrr = server_hello(
            0x0303,
            &hrr_random,
            &[7; 32],
            0x1301,
            &[ext(43, &u16s(&[0x0304])), ext(51, &u16s(&[23]))],
        );
        e(
            v,
            "tls13-hrr",
            c.data(C2S, &rec(&ch))
                .data(S2C, &cat(&[&rec(&hrr), &ccs]))
                .data(C2S, &cat(&[&ccs, &rec(&ch)]))
                .data(S2C, &rec(&sh13))
                .take(),
            "HelloRetryRequest, second ClientHello, real ServerHello",
        );
    }
    {
        // SSLv2-compatible ClientHello: 2-byte header, type 1, version, lengths, specs, challenge.
        let mut body = vec![1, 3, 1, 0, 9, 0, 0, 0, 16];
        body.extend_from_slice(&[0x00, 0x00, 0x04, 0x01, 0x00, 0x80, 0x07, 0x00, 0xc0]);
        body.extend_from_slice(&[0x11; 16]);
        let n = body.len() as u16 | 0x8000;
        let sslv2 = cat(&[&n.to_be_bytes(), &body]);
        e(
            v,
            "sslv2-hello",
            c.data(C2S, &sslv2)
                .data(S2C, &server12)
                .data(C2S, &client_fin)
                .take(),
            "an SSLv2-compatible ClientHello, then TLS records",
        );
        let mut short = sslv2.clone();
        short[1] = 10;
        e(
            v,
            "sslv2-short",
            c.data(C2S, &short).data(C2S, &rec(&ch)).take(),
            "an SSLv2 header too short to be a ClientHello",
        );
        e(
            v,
            "sslv2-3byte",
            c.data(C2S, &cat(&[&[0x00, 0x2e, 0x00], &body])).take(),
            "the 3-byte SSLv2 header form (not recognised)",
        );
    }
    e(
        v,
        "record-empty",
        c.data(
            C2S,
            &cat(&[
                &tls_record(22, 0x0301, &[]),
                &tls_record(21, 0x0303, &[]),
                &tls_record(20, 0x0303, &[]),
                &rec(&ch),
            ]),
        )
        .take(),
        "zero-length handshake, alert and CCS records",
    );
    e(
        v,
        "record-oversize",
        c.data(C2S, &cat(&[&[22, 3, 3, 0xff, 0xff], &[0; 100]]))
            .data(S2C, &[22, 3, 1, 0x48, 0x01, 2])
            .take(),
        "record lengths over 2^14 + 2048",
    );
    e(
        v,
        "record-bad-type",
        c.data(C2S, &cat(&[&rec(&ch), &tls_record(99, 0x0303, &[1, 2, 3])]))
            .data(S2C, &tls_record(22, 0x0200, &sh12))
            .take(),
        "unknown content type; version 2.0 record",
    );
    e(
        v,
        "heartbeat",
        c.data(
            C2S,
            &cat(&[&rec(&ch), &tls_record(24, 0x0303, &[1, 0x40, 0x00, 0xaa])]),
        )
        .data(S2C, &tls_record(24, 0x0303, &[2; 40]))
        .take(),
        "heartbeat records (Heartbleed shape)",
    );
    e(
        v,
        "hs-oversize",
        c.data(C2S, &rec(&[1, 0xff, 0xff, 0xff, 3, 3]))
            .data(C2S, &rec(&[0; 200]))
            .data(C2S, &rec(&ch))
            .take(),
        "a 16 MiB handshake message header",
    );
    e(v, "hs-zero-len", c.data(C2S, &rec(&cat(&[&hs(1, &[]), &hs(0, &[]), &ch]))).data(S2C, &rec(&cat(&[&hs(2, &[]), &hs(11, &[]), &hs(12, &[]), &hs(14, &[1])]))).take(), "empty ClientHello, HelloRequest, ServerHello, Certificate, SKE; ServerHelloDone with a body");
    e(
        v,
        "hello-lengths-bad",
        c.data(
            C2S,
            &rec(&hs(1, &cat(&[&[3, 3], &[0; 32], &[200], &[0; 10]]))),
        )
        .data(
            S2C,
            &rec(&hs(
                2,
                &cat(&[
                    &[3, 3],
                    &[0; 32],
                    &[0],
                    &[0xc0, 0x2f, 0],
                    &[0xff, 0xff, 0, 0],
                ]),
            )),
        )
        .take(),
        "session id length past the message; extensions length past the message",
    );
    e(
        v,
        "ext-zero-and-cut",
        c.data(
            C2S,
            &rec(&client_hello(
                0x0303,
                &[],
                &[0x002f],
                &[
                    ext(0, &[]),
                    ext(16, &[]),
                    ext(10, &[]),
                    ext(11, &[]),
                    ext(13, &[0, 1]),
                    ext(43, &[3]),
                    ext(51, &[0, 4, 0, 29]),
                    vec![0, 5, 0, 9, 1],
                ],
            )),
        )
        .take(),
        "zero-size and cut extensions",
    );
    {
        let names: [&[u8]; 3] = [&[b'a'; 2000], b"", b"second"];
        let many: Vec<Vec<u8>> = (0..40).map(|i| format!("p{i}").into_bytes()).collect();
        let many_ref: Vec<&[u8]> = many.iter().map(|p| p.as_slice()).collect();
        let with_empty: [&[u8]; 2] = [b"", b"h2"];
        e(
            v,
            "sni-alpn-extremes",
            c.data(
                C2S,
                &rec(&client_hello(
                    0x0303,
                    &[0; 32],
                    &[0x1301],
                    &[sni(&names), alpn(&many_ref), alpn(&with_empty)],
                )),
            )
            .take(),
            "SNI of 2000 octets and empty; 40 ALPN names; empty ALPN name",
        );
    }
    {
        let mut certs = Vec::new();
        for i in 0..12u8 {
            let mut s = base_cert();
            let serial = [i, 0xff];
            s.serial = &serial;
            certs.push(cert(&s));
        }
        certs.push(Vec::new());
        certs.push(vec![0x30, 0x84, 0xff, 0xff, 0xff, 0xff]);
        certs.push(vec![0x30, 0x80, 0x30, 0x80, 0, 0, 0, 0]);
        let msg = cert_msg(&certs);
        let sh = server_hello(0x0303, &[1; 32], &[], 0x002f, &[]);
        let mut recs = Vec::new();
        for piece in cat(&[&sh, &msg, &shd]).chunks(16384) {
            recs.extend_from_slice(&rec(piece));
        }
        e(
            v,
            "cert-chain-long",
            c.data(C2S, &rec(&ch)).data(S2C, &recs).take(),
            "15 certificates: 12 valid, empty, huge length, indefinite length",
        );
    }
    {
        let mut s = base_cert();
        s.sans = (0..600)
            .map(|i| format!("h{i}.example").into_bytes())
            .collect();
        s.sans.push(vec![b'x'; 300]);
        s.sans.push(vec![0xff, 0x00, b'.', b'\\']);
        let big = cert(&s);
        let mut s2 = base_cert();
        let long_cn = vec![b'n'; 5000];
        let attrs: Vec<(&[u8], u8, &[u8])> = (0..100)
            .map(|_| (OID_O, 0x0c, &b"Org, \"quoted\"+plus"[..]))
            .collect();
        s2.subject = der_name(&attrs);
        s2.issuer = der_name(&[
            (OID_CN, 0x0c, &long_cn[..]),
            (OID_CN, 0x1e, &[0u8, 0x41, 0xd8, 0x00][..]),
            (OID_CN, 0x14, &[0xe9u8, 0x80][..]),
            (&[0x2au8, 0x03][..], 0x13, &b"odd oid"[..]),
        ]);
        s2.extra_exts = 100;
        s2.serial = &[];
        s2.not_before = (0x17, b"991332256060Z");
        s2.not_after = (0x18, b"00000229000000Z");
        let odd = cert(&s2);
        let mut s3 = base_cert();
        s3.serial = &[
            0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff,
            0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff,
        ];
        s3.not_before = (0x17, b"5001010000Z");
        s3.not_after = (0x18, b"99991231235960+0100");
        let odd3 = cert(&s3);
        let sh = server_hello(0x0303, &[1; 32], &[], 0x002f, &[]);
        let mut recs = Vec::new();
        for piece in cat(&[&sh, &cert_msg(&[big, odd, odd3]), &shd]).chunks(16000) {
            recs.extend_from_slice(&rec(piece));
        }
        e(v, "cert-names-extreme", c.data(C2S, &rec(&ch)).data(S2C, &recs).take(), "600+ SANs, a 300-octet SAN, 100 RDNs, a 5000-octet CN, BMP/T61 strings, 100 extensions, empty and 22-octet serials, impossible dates");
    }
    {
        let alerts = cat(&[
            &tls_record(21, 0x0303, &[2, 40]),
            &tls_record(21, 0x0303, &[1, 0, 2, 10]),
            &tls_record(21, 0x0303, &[2, 70, 2]),
        ]);
        let mut many = Vec::new();
        for i in 0..30u8 {
            many.extend_from_slice(&tls_record(21, 0x0303, &[1, i]));
        }
        e(
            v,
            "alerts",
            c.data(C2S, &rec(&ch))
                .chunked(S2C, &alerts, 3)
                .data(C2S, &many)
                .take(),
            "alerts: plain, two in one record, 3 octets, 30 of them, split records",
        );
    }
    e(
        v,
        "gap-in-record",
        c.data(C2S, sl(&rec(&ch), 0, 60))
            .gap(C2S, 20)
            .data(C2S, sl(&rec(&ch), 80, usize::MAX))
            .data(S2C, sl(&server12, 0, 200))
            .gap(S2C, 300)
            .data(S2C, sl(&server12, 500, usize::MAX))
            .take(),
        "gaps inside handshake records",
    );
    e(
        v,
        "gap-resync",
        c.data(C2S, &rec(&ch))
            .gap(C2S, 7000)
            .data(
                C2S,
                &cat(&[&[0x41; 300], &[22, 3, 3], &[0x17; 100], &app, &app]),
            )
            .data(S2C, &[22, 3, 3, 0, 50])
            .gap(S2C, 60000)
            .data(S2C, &[0x33; 5000])
            .take(),
        "a gap across records, garbage, resynchronisation",
    );
    e(
        v,
        "ccs-early-abbreviated",
        c.data(C2S, &rec(&client_hello(0x0303, &[9; 32], &[0xc02f], &[])))
            .data(
                S2C,
                &cat(&[
                    &rec(&server_hello(0x0303, &[2; 32], &[9; 32], 0xc02f, &[])),
                    &ccs,
                    &fin,
                ]),
            )
            .data(C2S, &cat(&[&ccs, &fin, &app]))
            .take(),
        "abbreviated handshake (session id echoed)",
    );
    e(
        v,
        "zero-session-id",
        c.data(C2S, &rec(&client_hello(0x0301, &[0; 32], &[0x0005], &[])))
            .data(
                S2C,
                &rec(&server_hello(0x0301, &[2; 32], &[0; 32], 0x0005, &[])),
            )
            .take(),
        "all-zero session id echoed (not a resumption)",
    );
    e(
        v,
        "ssl3",
        c.data(
            C2S,
            &tls_record(
                22,
                0x0300,
                &client_hello(0x0300, &[], &[0x000a, 0x0005], &[]),
            ),
        )
        .data(
            S2C,
            &tls_record(
                22,
                0x0300,
                &cat(&[
                    &server_hello(0x0300, &[4; 32], &[], 0x000a, &[]),
                    &chain,
                    &shd,
                ]),
            ),
        )
        .take(),
        "SSL 3.0 without extensions",
    );
    e(
        v,
        "app-data-first",
        c.data(C2S, &app)
            .data(S2C, &app)
            .data(C2S, &rec(&ch))
            .take(),
        "application data before any handshake",
    );
    e(
        v,
        "ske-variants",
        c.data(C2S, &rec(&ch))
            .data(
                S2C,
                &rec(&cat(&[
                    &sh12,
                    &hs(12, &[3]),
                    &hs(12, &[1, 0, 1]),
                    &hs(12, &[3, 0xff, 0xff, 0]),
                    &hs(13, &[1, 1, 0, 0]),
                    &hs(4, &[0; 10]),
                    &hs(99, &[1]),
                ])),
            )
            .take(),
        "cut and odd ServerKeyExchange, CertificateRequest, NewSessionTicket, unknown type",
    );
}

// --- SSH

fn ssh_packet(payload: &[u8], pad: usize) -> Vec<u8> {
    let len = 1 + payload.len() + pad;
    let mut v = (len as u32).to_be_bytes().to_vec();
    v.push(pad as u8);
    v.extend_from_slice(payload);
    v.extend(std::iter::repeat_n(0u8, pad));
    v
}

fn kexinit(lists: &[&[u8]]) -> Vec<u8> {
    let mut p = vec![20u8];
    p.extend_from_slice(&[0x42; 16]);
    for l in lists {
        p.extend_from_slice(&(l.len() as u32).to_be_bytes());
        p.extend_from_slice(l);
    }
    p.extend_from_slice(&[0, 0, 0, 0, 0]);
    p
}

// --- SOCKS

fn socks_edges(v: &mut Vec<Seed>) {
    let e = |v: &mut Vec<Seed>, n: &str, b: Vec<u8>, w: &str| v.push(edge("socks", n, b, w));
    let mut c = Conv::default();
    let granted: &[u8] = &[5, 0, 0, 1, 198, 18, 0, 1, 0x9c, 0x40];
    let by_name = cat(&[&[5, 1, 0, 3, 11], b"example.com", &[0, 80]]);
    let get = b"GET / HTTP/1.1\r\nHost: example.com\r\n\r\n";
    e(
        v,
        "v5-connect-name",
        c.data(C2S, &[5, 1, 0])
            .data(S2C, &[5, 0])
            .data(C2S, &by_name)
            .data(S2C, granted)
            .data(C2S, get)
            .data(S2C, b"HTTP/1.1 200 OK\r\n\r\n")
            .take(),
        "SOCKS 5 CONNECT by name, HTTP in the tunnel",
    );
    e(
        v,
        "v5-pipelined",
        c.data(C2S, &cat(&[&[5, 1, 0], &by_name, get]))
            .data(S2C, &cat(&[&[5, 0], granted, b"HTTP/1.1 200 OK\r\n"]))
            .take(),
        "greeting, request and tunnel bytes in one segment; method and reply in one",
    );
    e(
        v,
        "v5-login",
        c.data(C2S, &[5, 2, 0, 2])
            .data(S2C, &[5, 2])
            .data(C2S, b"\x01\x08testuser\x08testpass")
            .data(S2C, &[1, 0])
            .data(
                C2S,
                &[
                    5, 1, 0, 4, 0xfd, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1, 1, 187,
                ],
            )
            .data(
                S2C,
                &[
                    5, 0, 0, 4, 0xfd, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 2, 4, 0,
                ],
            )
            .data(C2S, b"\x16\x03\x01\x00\x05hello")
            .take(),
        "RFC 1929 login, IPv6 request and reply, TLS-looking tunnel",
    );
    e(
        v,
        "v5-login-failed",
        c.data(C2S, &[5, 1, 2])
            .data(S2C, &[5, 2])
            .data(C2S, b"\x01\x01u\x00")
            .data(S2C, &[1, 1])
            .take(),
        "empty password, login refused",
    );
    e(
        v,
        "v5-no-method",
        c.data(C2S, &[5, 3, 0, 1, 2]).data(S2C, &[5, 0xff]).take(),
        "no acceptable method",
    );
    e(
        v,
        "v5-gssapi",
        c.data(C2S, &[5, 2, 0, 1])
            .data(S2C, &[5, 1])
            .data(C2S, &[1, 1, 0, 4, 1, 2, 3, 4])
            .take(),
        "GSSAPI chosen (not followed)",
    );
    e(
        v,
        "v5-bind",
        c.data(C2S, &[5, 1, 0])
            .data(S2C, &[5, 0])
            .data(C2S, &[5, 2, 0, 1, 0, 0, 0, 0, 0, 0])
            .data(S2C, granted)
            .data(S2C, &cat(&[granted, b"data"]))
            .take(),
        "BIND: two replies, then the tunnel",
    );
    e(
        v,
        "v5-udp",
        c.data(C2S, &[5, 1, 0])
            .data(S2C, &[5, 0])
            .data(C2S, &[5, 3, 0, 1, 0, 0, 0, 0, 0, 0])
            .data(S2C, granted)
            .data(C2S, b"after")
            .take(),
        "UDP ASSOCIATE: no tunnel on the connection",
    );
    e(
        v,
        "v5-refused-bad-atyp",
        c.data(C2S, &[5, 1, 0])
            .data(S2C, &[5, 0])
            .data(C2S, &[5, 1, 0, 9, 1, 2])
            .data(S2C, &[5, 5, 0, 1, 0, 0, 0, 0, 0, 0])
            .take(),
        "request with an unknown address type; refused",
    );
    let long = vec![b'a'; 255];
    e(
        v,
        "v5-long-name",
        c.data(C2S, &[5, 1, 0])
            .data(S2C, &[5, 0])
            .data(C2S, &cat(&[&[5, 1, 0, 3, 255], &long, &[1, 0]]))
            .chunked(S2C, granted, 1)
            .take(),
        "a 255-octet name; the reply one octet at a time",
    );
    e(
        v,
        "v5-early-4k",
        c.data(C2S, &[5, 1, 0])
            .data(S2C, &[5, 0])
            .data(C2S, &by_name)
            .data(C2S, &vec![b'x'; 5000])
            .data(S2C, granted)
            .take(),
        "5000 tunnelled bytes before the reply (over the 4 KiB hold)",
    );
    e(
        v,
        "v5-gaps",
        c.data(C2S, &[5, 1])
            .gap(C2S, 1)
            .data(S2C, &[5, 0])
            .gap(S2C, 9)
            .take(),
        "gaps inside the handshake",
    );
    e(
        v,
        "v5-gap-early",
        c.data(C2S, &[5, 1, 0])
            .data(S2C, &[5, 0])
            .data(C2S, &by_name)
            .data(C2S, b"GET")
            .gap(C2S, 100)
            .data(C2S, b"more")
            .data(S2C, granted)
            .take(),
        "a gap in tunnelled bytes held before the reply",
    );
    e(
        v,
        "v4-connect",
        c.data(C2S, b"\x04\x01\x01\xbb\xc6\x12\x00\x02alice\x00")
            .data(S2C, &[0, 90, 0, 0, 0, 0, 0, 0])
            .data(C2S, b"\x16\x03\x01")
            .take(),
        "SOCKS 4 CONNECT with a user id",
    );
    e(
        v,
        "v4a-name",
        c.data(
            C2S,
            b"\x04\x01\x00\x50\x00\x00\x00\x01\x00www.example.com\x00",
        )
        .data(S2C, &[4, 91, 0, 0, 0, 0, 0, 0])
        .take(),
        "SOCKS 4a by name, rejected (VN 4 in the reply)",
    );
    e(
        v,
        "v4-bind",
        c.data(C2S, b"\x04\x02\x00\x15\xc6\x12\x00\x03\x00")
            .data(S2C, &[0, 90, 0x13, 0x88, 198, 18, 0, 1])
            .data(S2C, &[0, 90, 0x13, 0x88, 198, 18, 0, 9, b'2', b'2', b'0'])
            .take(),
        "SOCKS 4 BIND: two replies",
    );
    e(
        v,
        "v4-long-user",
        c.data(
            C2S,
            &cat(&[b"\x04\x01\x00\x50\x01\x02\x03\x04", &[b'u'; 300]]),
        )
        .take(),
        "a user id of 300 octets without NUL",
    );
    e(
        v,
        "not-socks-reply",
        c.data(C2S, &[5, 1, 0])
            .data(S2C, b"HTTP/1.1 400 Bad Request\r\n\r\n")
            .take(),
        "a greeting answered by something else",
    );
    e(
        v,
        "server-first",
        c.data(S2C, &[5, 0]).data(C2S, &[5, 1, 0]).take(),
        "the proxy speaks before the client",
    );
    e(
        v,
        "reverse",
        c.data(C2S, &[0x4e, 0x5a, 0x8d, 0x08, 0x87, 0x4e])
            .data(S2C, &[5, 1, 0])
            .data(C2S, &[5, 0])
            .take(),
        "a reverse connection: the responder sends the greeting",
    );
}

fn ssh_edges(v: &mut Vec<Seed>) {
    let e = |v: &mut Vec<Seed>, n: &str, b: Vec<u8>, w: &str| v.push(edge("ssh", n, b, w));
    let mut c = Conv::default();
    let lists: [&[u8]; 10] = [
        b"curve25519-sha256,diffie-hellman-group14-sha256",
        b"ssh-ed25519,rsa-sha2-512",
        b"chacha20-poly1305@openssh.com,aes128-ctr",
        b"aes128-ctr",
        b"hmac-sha2-256",
        b"hmac-sha2-256",
        b"none,zlib@openssh.com",
        b"none",
        b"",
        b"",
    ];
    let ck = ssh_packet(&kexinit(&lists), 4);
    let sk = ssh_packet(&kexinit(&lists[..]), 6);
    let newkeys = ssh_packet(&[21], 10);
    let cb = b"SSH-2.0-OpenSSH_9.6\r\n";
    let sb = b"SSH-2.0-dropbear_2022.83 comment here\r\n";
    e(
        v,
        "full",
        c.data(S2C, sb)
            .data(C2S, cb)
            .data(C2S, &ck)
            .data(S2C, &sk)
            .data(C2S, &newkeys)
            .data(S2C, &newkeys)
            .data(C2S, &[0xee; 64])
            .take(),
        "banners, KEXINITs, NEWKEYS, encrypted bytes",
    );
    e(
        v,
        "byte-by-byte",
        c.chunked(S2C, sb, 1)
            .chunked(C2S, cb, 1)
            .chunked(C2S, &ck, 1)
            .chunked(S2C, &sk, 1)
            .take(),
        "every octet in its own record",
    );
    {
        let mut pre = Vec::new();
        for i in 0..20 {
            pre.extend_from_slice(format!("pre-banner line {i}\r\n").as_bytes());
        }
        e(
            v,
            "pre-banner-lines",
            c.data(S2C, &pre)
                .data(S2C, sb)
                .data(C2S, b"hello\r\nSSH-2.0-late\r\n")
                .take(),
            "20 lines before the server banner; client line before its banner",
        );
    }
    e(
        v,
        "banner-long",
        c.data(S2C, &[b'A'; 1000])
            .data(S2C, b"\r\nSSH-2.0-x\r\n")
            .data(C2S, &cat(&[b"SSH-2.0-", &[b'v'; 400], b"\r\n"]))
            .take(),
        "a 1000-octet line, a 400-octet banner",
    );
    e(
        v,
        "banner-odd",
        c.data(S2C, b"SSH-\r\n").data(C2S, b"SSH-1.5-old\n").take(),
        "banner without versions; SSH-1 client",
    );
    e(
        v,
        "banner-199",
        c.data(S2C, b"SSH-1.99-compat\r\n")
            .data(C2S, b"SSH-2.0\r\n")
            .data(S2C, &sk)
            .data(C2S, &ck)
            .take(),
        "1.99 server, banner without software version",
    );
    e(
        v,
        "banner-no-newline",
        c.data(S2C, b"SSH-2.0-never-ends")
            .data(C2S, &[b'\r'; 300])
            .take(),
        "banner without a line end; CR only",
    );
    e(
        v,
        "packet-lengths",
        c.data(S2C, sb)
            .data(
                S2C,
                &cat(&[&[0, 0, 0, 0], &[0, 0, 0, 1, 0], &[0, 0, 0, 4, 9, 1, 2, 3]]),
            )
            .data(C2S, cb)
            .data(C2S, &cat(&[&[0, 0, 0x88, 0xb9], &[0; 100]]))
            .take(),
        "packet lengths 0, 1, 4 (too short); 35001 (over the limit, skipped)",
    );
    e(
        v,
        "packet-huge",
        c.data(S2C, sb)
            .data(S2C, &[0xff, 0xff, 0xff, 0xff, 1, 2, 3])
            .data(C2S, cb)
            .data(C2S, &[0x00, 0xff, 0xff, 0xff])
            .data(C2S, &[0; 200])
            .take(),
        "packet length 2^32-1 and 2^24-1",
    );
    e(
        v,
        "padding-over",
        c.data(S2C, sb)
            .data(S2C, &cat(&[&[0, 0, 0, 8, 200], &[20; 7]]))
            .take(),
        "padding length over the packet",
    );
    {
        let long = vec![b'a'; 3000];
        let lists2: [&[u8]; 10] = [&long, b"x", b"y", b"z", b"m", b"m", b"n", b"n", b"", b""];
        let mut cut = kexinit(&lists);
        cut.truncate(60);
        let mut bad = vec![20u8];
        bad.extend_from_slice(&[0; 16]);
        bad.extend_from_slice(&[0xff, 0xff, 0xff, 0xf0, b'a']);
        e(
            v,
            "kexinit-odd",
            c.data(S2C, sb)
                .data(S2C, &ssh_packet(&kexinit(&lists2), 4))
                .data(C2S, cb)
                .data(C2S, &ssh_packet(&cut, 4))
                .data(C2S, &ssh_packet(&bad, 4))
                .data(C2S, &ssh_packet(&[20], 4))
                .take(),
            "a 3000-octet name-list; cut KEXINITs; huge name-list length",
        );
    }
    e(
        v,
        "gap",
        c.data(S2C, sb)
            .gap(S2C, 100)
            .data(S2C, &sk)
            .data(C2S, &cb[..5])
            .gap(C2S, 3)
            .data(C2S, &ck)
            .take(),
        "gaps in both directions",
    );
    e(
        v,
        "after-newkeys",
        c.data(S2C, sb)
            .data(S2C, &newkeys)
            .data(S2C, &sk)
            .data(C2S, cb)
            .data(C2S, &newkeys)
            .data(C2S, &ck)
            .take(),
        "NEWKEYS before KEXINIT, then a KEXINIT that must be ignored",
    );
}

// --- STARTTLS

fn starttls_edges(v: &mut Vec<Seed>) {
    let e = |v: &mut Vec<Seed>, n: &str, b: Vec<u8>, w: &str| v.push(edge("starttls", n, b, w));
    let mut c = Conv::default();
    let hello: &[u8] = &[0x16, 3, 1, 0, 0x2e, 1, 0, 0, 0x2a, 3, 3];
    e(
        v,
        "smtp-pipelined",
        c.data(S2C, b"220 mx.example ESMTP\r\n")
            .data(C2S, b"EHLO a.example\r\nSTARTTLS\r\n")
            .data(S2C, b"250-mx.example\r\n250 STARTTLS\r\n220 go ahead\r\n")
            .data(C2S, hello)
            .take(),
        "EHLO and STARTTLS in one segment, both answers in one",
    );
    e(
        v,
        "smtp-refused-replay",
        c.data(S2C, b"220 mx ESMTP\r\n")
            .data(C2S, b"STARTTLS\r\nMAIL FROM:<a@b.example>\r\n")
            .data(S2C, b"454 4.7.0 TLS not available\r\n250 ok\r\n")
            .take(),
        "a refusal while the next command is held",
    );
    e(
        v,
        "ftp-auth-tls",
        c.data(S2C, b"220-Welcome\r\n220 (vsFTPd 3.0.3)\r\n")
            .data(C2S, b"SYST\r\nAUTH TLS\r\n")
            .data(S2C, b"215 UNIX\r\n150 prelim\r\n234 Proceed\r\n")
            .data(C2S, hello)
            .take(),
        "a multi-line greeting, a preliminary reply, AUTH TLS accepted",
    );
    e(
        v,
        "imap-tagged",
        c.data(S2C, b"* OK [CAPABILITY IMAP4rev1 STARTTLS] ready\r\n")
            .data(C2S, b"a1 STARTTLS\r\n")
            .data(S2C, b"* OK untagged\r\nb1 OK other\r\na1 OK Begin TLS\r\n")
            .data(C2S, hello)
            .take(),
        "untagged and foreign-tag answers before the command's",
    );
    e(
        v,
        "pop3-capa-stls",
        c.data(S2C, b"+OK ready\r\n")
            .data(C2S, b"CAPA\r\n")
            .data(S2C, b"+OK list\r\nSTLS\r\n-ERR-ish\r\n.\r\n")
            .data(C2S, b"STLS\r\n")
            .data(S2C, b"+OK go\r\n")
            .data(C2S, hello)
            .take(),
        "a multi-line answer, then STLS accepted",
    );
    e(
        v,
        "pgsql-ssl",
        c.data(C2S, &[0, 0, 0, 8, 4, 0xd2, 0x16, 0x2f])
            .data(S2C, b"S")
            .data(C2S, hello)
            .take(),
        "PostgreSQL SSLRequest accepted",
    );
    e(
        v,
        "pgsql-refused",
        c.data(C2S, &[0, 0, 0, 8, 4, 0xd2, 0x16, 0x2f])
            .data(S2C, b"N")
            .data(C2S, b"\x00\x00\x00\x0d\x00\x03\x00\x00user\x00")
            .take(),
        "PostgreSQL SSLRequest refused, then a cleartext StartupMessage",
    );
    let mysql_greeting = b"\x2e\x00\x00\x00\x0a5.7.16\x00\x4d\x68\x20\x00\x09\x37\x52\x2b\x2f\x25\x46\x29\x00\xff\xff\x08\x02\x00\xff\xc1\x15\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00";
    let mut ssl_request = vec![0x20, 0, 0, 1, 0x85, 0xae, 0x3f, 0x20];
    ssl_request.extend_from_slice(&[0; 28]);
    e(
        v,
        "mysql-ssl",
        c.data(S2C, mysql_greeting)
            .chunked(C2S, &cat(&[&ssl_request, hello]), 7)
            .take(),
        "MySQL SSL request in 7-octet pieces, then TLS",
    );
    e(
        v,
        "mysql-login",
        c.data(S2C, mysql_greeting)
            .data(C2S, &cat(&[&[0x55, 0, 0, 1, 0x85, 0xa6], &[0; 30]]))
            .take(),
        "MySQL cleartext login",
    );
    e(
        v,
        "gaps",
        c.data(C2S, b"STAR")
            .gap(C2S, 10)
            .data(C2S, b"TLS\r\nSTARTTLS\r\n")
            .gap(C2S, 100)
            .data(C2S, hello)
            .data(S2C, b"220 go\r\n")
            .take(),
        "a gap inside a command and one in the held bytes",
    );
    e(
        v,
        "long-line",
        c.data(S2C, &cat(&[b"220 ", &[b'x'; 5000]])).take(),
        "a greeting without a line end past the run bound",
    );
    e(
        v,
        "held-overflow",
        c.data(C2S, b"STARTTLS\r\n")
            .data(C2S, &[0x16; 5000])
            .data(S2C, b"220 go\r\n")
            .take(),
        "more held client bytes than the hand-over keeps",
    );
    // LDAP (BER): bind, search with a long entry, StartTLS accepted; a refusal; SASL wrapping.
    let bind = ldap_msg(
        1,
        0x60,
        &cat(&[&[2, 1, 3], &ber(4, b"cn=admin"), &ber(0x80, b"pw")]),
    );
    let bind_ok = ldap_msg(1, 0x61, &[0x0a, 1, 0, 4, 0, 4, 0]);
    let entry = ldap_msg(
        2,
        0x64,
        &cat(&[&ber(4, b"dc=example"), &ber(0x30, &[b'a'; 700])]),
    );
    let done = ldap_msg(2, 0x65, &[0x0a, 1, 0, 4, 0, 4, 0]);
    let start_tls = ldap_msg(3, 0x77, &ber(0x80, b"1.3.6.1.4.1.1466.20037"));
    let search = ldap_msg(2, 0x63, &cat(&[&ber(4, b""), &[0x0a, 1, 0]]));
    e(
        v,
        "ldap-starttls",
        c.chunked(C2S, &cat(&[&bind, &search]), 5)
            .data(S2C, &cat(&[&bind_ok, &entry, &done]))
            .data(C2S, &cat(&[&start_tls, hello]))
            .chunked(S2C, &ldap_msg(3, 0x78, &[0x0a, 1, 0, 4, 0, 4, 0]), 3)
            .take(),
        "bind, a search whose entry is longer than a kept line, StartTLS accepted",
    );
    e(
        v,
        "ldap-refused",
        c.data(C2S, &cat(&[&start_tls, &search]))
            .data(S2C, &ldap_msg(0, 0x78, &[0x0a, 1, 52, 4, 0, 4, 0]))
            .data(S2C, &ldap_msg(3, 0x78, &[0x0a, 1, 2, 4, 0, 4, 0]))
            .data(C2S, &ldap_msg(4, 0x42, &[]))
            .take(),
        "a notice of disconnection (ID 0), then the refusal; the held search is replayed",
    );
    e(
        v,
        "ldap-sasl-wrapped",
        c.data(C2S, &bind)
            .data(S2C, &bind_ok)
            .data(C2S, &[0, 0, 0, 0x20, 5, 4, 0xff])
            .take(),
        "after a SASL bind with a security layer: a 4-octet length, not BER",
    );
}

/// A BER element with a definite length (short or long form).
fn ber(tag: u8, content: &[u8]) -> Vec<u8> {
    let mut v = vec![tag];
    match u8::try_from(content.len()) {
        Ok(n) if n < 0x80 => v.push(n),
        _ => {
            let len = u32::try_from(content.len())
                .unwrap_or(u32::MAX)
                .to_be_bytes();
            let skip = len.iter().take_while(|&&b| b == 0).count();
            v.push(0x80 | (4 - skip) as u8);
            v.extend_from_slice(&len[skip..]);
        }
    }
    v.extend_from_slice(content);
    v
}

/// An LDAPMessage: message ID (one octet here), then the operation `op` with `body`.
fn ldap_msg(id: u8, op: u8, body: &[u8]) -> Vec<u8> {
    ber(0x30, &cat(&[&[2, 1, id], &ber(op, body)]))
}

// --- ident

fn ident_edges(v: &mut Vec<Seed>) {
    let e = |v: &mut Vec<Seed>, n: &str, b: Vec<u8>, w: &str| v.push(edge("ident", n, b, w));
    for kind in 0..3u8 {
        e(
            v,
            &format!("empty-{kind}"),
            ident_seed(kind, (1234, 80), &[]),
            "no payload",
        );
    }
    e(
        v,
        "tls-short",
        ident_seed(0, (1234, 443), &[0x16, 3, 1, 0]),
        "a TLS record header cut short",
    );
    e(
        v,
        "tls-len-small",
        ident_seed(0, (1234, 443), &[0x16, 3, 3, 0, 3, 1, 0, 0]),
        "TLS record length below a hello",
    );
    e(
        v,
        "tls-max-len",
        ident_seed(1, (443, 1234), &[0x16, 3, 4, 0x48, 0x00, 2]),
        "TLS record length exactly 2^14 + 2048",
    );
    e(
        v,
        "sslv2",
        ident_seed(0, (1234, 443), &[0x80, 0x2e, 1, 3, 1, 0, 21]),
        "SSLv2-compatible ClientHello",
    );
    e(
        v,
        "sslv2-short",
        ident_seed(0, (1234, 443), &[0x80, 0x2e, 1]),
        "SSLv2 header cut short",
    );
    e(
        v,
        "sslv2-v2",
        ident_seed(0, (1234, 443), &[0x80, 0x08, 1, 0, 2]),
        "SSLv2 version 0x0002, length 8",
    );
    e(
        v,
        "ssh-prefix",
        ident_seed(1, (22, 1234), b"SS"),
        "a prefix of SSH-",
    );
    e(
        v,
        "http-prefixes",
        ident_seed(0, (1234, 80), b"PROPFIN"),
        "a prefix of a method",
    );
    e(
        v,
        "http-msearch",
        ident_seed(0, (1900, 1900), b"M-SEARCH * HTTP/1.1\r\n"),
        "SSDP over TCP shape",
    );
    e(
        v,
        "http-response",
        ident_seed(1, (80, 1234), b"HTTP/1.0 200 OK\r\n"),
        "a response first",
    );
    {
        let mut m = dns_hdr(1, 0x0100, [1, 0, 0, 0]);
        m.extend_from_slice(&question(&labels(&[b"example", b"com"]), 1, 1));
        let mut f = (m.len() as u16).to_be_bytes().to_vec();
        f.extend_from_slice(&m);
        e(
            v,
            "dns-tcp",
            ident_seed(0, (5555, 53), &f),
            "DNS over TCP query",
        );
        e(
            v,
            "dns-tcp-short",
            ident_seed(0, (5555, 53), &f[..13]),
            "DNS over TCP, 13 octets",
        );
        e(
            v,
            "dns-tcp-len-small",
            ident_seed(0, (5555, 53), &cat(&[&[0, 11], &m])),
            "DNS over TCP, length prefix below a header",
        );
        e(
            v,
            "dns-udp-strict",
            ident_seed(2, (5555, 5300), &m),
            "strict DNS query on another port",
        );
        let mut opt = m.clone();
        opt[11] = 1;
        opt.extend_from_slice(&rr(&[0], 41, 4096, 0, &[0, 10, 0, 2, 1, 2]));
        e(
            v,
            "dns-udp-strict-opt",
            ident_seed(2, (5555, 5300), &opt),
            "strict DNS query with EDNS on another port",
        );
        let mut opt_bad = opt.clone();
        opt_bad.push(0);
        e(
            v,
            "dns-udp-strict-opt-bad",
            ident_seed(2, (5555, 5300), &opt_bad),
            "strict DNS query with EDNS and a trailing octet",
        );
        let mut cut = opt.clone();
        cut.truncate(opt.len() - 5);
        e(
            v,
            "dns-udp-strict-opt-cut",
            ident_seed(2, (5555, 5300), &cut),
            "strict DNS query with a cut OPT record",
        );
        e(
            v,
            "dns-udp-counts",
            ident_seed(
                2,
                (5555, 53),
                &dns_hdr(1, 0x7800, [0xffff, 0xffff, 0xffff, 0xffff]),
            ),
            "a header with maximal counts",
        );
        e(
            v,
            "dns-mdns",
            ident_seed(2, (5353, 5353), &dns_hdr(0, 0x8400, [0, 1, 0, 0])),
            "mDNS announcement header",
        );
    }
    {
        let d = dhcp_base(1, 1, &[53, 1, 1, 255]);
        e(v, "dhcp", ident_seed(2, (68, 67), &d), "DHCP DISCOVER");
        e(
            v,
            "dhcp-cut",
            ident_seed(2, (68, 67), &d[..238]),
            "DHCP cut inside the cookie",
        );
    }
    e(
        v,
        "binary",
        ident_seed(0, (1, 2), &[0xff; 64]),
        "64 octets of 0xff",
    );
    e(
        v,
        "ports-zero",
        ident_seed(1, (0, 0), &[0x16]),
        "ports 0, one TLS octet",
    );
}

// --- stream

fn stream_edges(v: &mut Vec<Seed>) {
    let e = |v: &mut Vec<Seed>, n: &str, b: Vec<u8>, w: &str| v.push(edge("stream", n, b, w));
    let mut s = Script::default();
    let data: Vec<u8> = (0..=255u8).cycle().take(3000).collect();
    let d = |a: usize, b: usize| data.get(a..b).unwrap_or_default().to_vec();
    e(
        v,
        "in-order",
        s.seg(0, 1000, SYN, &[])
            .seg(0, 1001, 0, &d(0, 100))
            .seg(0, 1101, FIN, &d(100, 200))
            .take(),
        "SYN, two segments, FIN",
    );
    e(
        v,
        "syn-data",
        s.seg(0, 5, SYN, &d(0, 50)).seg(0, 56, 0, &d(50, 60)).take(),
        "data on the SYN",
    );
    e(
        v,
        "reverse-order",
        {
            let mut s = Script::default();
            s.seg(0, 0, SYN, &[]);
            for i in (0..30u32).rev() {
                s.seg(0, 1 + i * 10, 0, &d(i as usize * 10, i as usize * 10 + 10));
            }
            s.take()
        },
        "30 segments in reverse order (over the segment cap of the small config)",
    );
    e(
        v,
        "overlaps",
        s.seg(0, 100, 0, &d(0, 10))
            .seg(0, 120, 0, &d(20, 40))
            .seg(0, 115, 0, &[0xee; 30])
            .seg(0, 105, 0, &d(5, 25))
            .seg(0, 100, 0, &[0x11; 60])
            .take(),
        "overlapping segments with differing bytes, before and after delivery",
    );
    e(
        v,
        "wrap",
        s.seg(0, 0xffff_fff0, SYN, &[])
            .seg(0, 0xffff_fff1, 0, &d(0, 40))
            .seg(0, 0x0000_0030, 0, &d(40, 60))
            .seg(0, 0x0000_0019, 0, &d(40, 63))
            .ack(0, 0x0000_0100)
            .take(),
        "sequence numbers wrapping around 2^32",
    );
    e(
        v,
        "fin-then-data",
        s.seg(0, 1, FIN, &d(0, 10))
            .seg(0, 11, 0, &d(10, 20))
            .seg(0, 5, FIN, &d(4, 8))
            .seg(0, 30, FIN, &[])
            .take(),
        "data after FIN; a second FIN at another offset",
    );
    e(
        v,
        "far-ahead",
        s.seg(0, 1, 0, &d(0, 10))
            .seg(0, 0x0200_0000, 0, &d(0, 10))
            .seg(0, 0x7fff_ffff, 0, &d(0, 10))
            .seg(0, 0x8000_0001, 0, &d(0, 10))
            .ack(0, 0x7fff_0000)
            .ack(0, 0x0100_0000)
            .take(),
        "segments and ACKs far ahead and behind",
    );
    e(
        v,
        "ack-gaps",
        s.seg(0, 1, 0, &d(0, 10))
            .seg(0, 100, 0, &d(99, 120))
            .ack(0, 50)
            .ack(0, 200)
            .seg(0, 300, FIN, &d(0, 5))
            .ack(0, 400)
            .flush(0)
            .take(),
        "ACKs past holes declare gaps",
    );
    e(
        v,
        "depth",
        {
            let mut s = Script::default();
            s.seg(1, 0, SYN, &[]);
            let mut seq = 1u32;
            for _ in 0..40 {
                s.seg(1, seq, 0, &d(0, 1460));
                seq += 1460;
            }
            s.take()
        },
        "58 KiB in order (over the depth of the small config)",
    );
    e(
        v,
        "ooo-budget",
        {
            let mut s = Script::default();
            s.seg(0, 0, SYN, &[]).seg(1, 0, SYN, &[]);
            for i in 0..20u32 {
                s.seg(0, 1000 + i * 500, 0, &d(0, 400));
                s.seg(1, 1000 + i * 500, 0, &d(400, 800));
            }
            s.seg(0, 1, 0, &d(0, 999)).take()
        },
        "both halves buffering out of order (shared budget)",
    );
    e(
        v,
        "zero-and-dup",
        s.seg(0, 10, 0, &[])
            .seg(0, 10, 0, &d(0, 5))
            .seg(0, 10, 0, &d(0, 5))
            .seg(0, 10, SYN | FIN, &d(0, 5))
            .seg(0, 15, 0, &[])
            .take(),
        "zero-length segments, duplicates, SYN+FIN",
    );
    e(
        v,
        "begin-late",
        s.seg(0, 100, 0, &d(0, 10))
            .begin(0, 5)
            .begin(1, 7)
            .seg(1, 7, 0, &d(0, 3))
            .seg(1, 20, 0, &d(0, 3))
            .flush(1)
            .seg(1, 23, 0, &d(0, 3))
            .take(),
        "begin on started and fresh halves; data after a flush",
    );
    e(
        v,
        "retransmit-old",
        {
            let mut s = Script::default();
            s.seg(0, 0, SYN, &[]);
            let mut seq = 1u32;
            for _ in 0..8 {
                s.seg(0, seq, 0, &d(0, 1000));
                seq += 1000;
            }
            s.seg(0, 1, 0, &[0xaa; 1000])
                .seg(0, seq - 500, 0, &[0xbb; 800])
                .take()
        },
        "retransmissions older than the retained window, and straddling it",
    );
    e(
        v,
        "many-tiny",
        {
            let mut s = Script::default();
            for i in 0..300u32 {
                s.seg(0, 2 + i * 2, 0, &[i as u8]);
            }
            s.seg(0, 1, 0, &[0; 1]).take()
        },
        "300 one-octet segments with one-octet holes",
    );
    e(
        v,
        "flush-middle",
        s.seg(0, 1, 0, &d(0, 5))
            .seg(0, 20, 0, &d(0, 5))
            .flush(0)
            .seg(0, 25, 0, &d(0, 5))
            .ack(0, 100)
            .take(),
        "flush with a hole, then more segments and an ACK",
    );
}

/// A PROXY protocol v2 header: command, family/transport octet, addresses and TLVs.
fn proxy_v2(cmd: u8, fam: u8, addrs: &[u8], tlvs: &[u8]) -> Vec<u8> {
    let len = ((addrs.len() + tlvs.len()) as u16).to_be_bytes();
    cat(&[
        b"\r\n\r\n\0\r\nQUIT\n",
        &[0x20 | cmd, fam],
        &len,
        addrs,
        tlvs,
    ])
}

/// One PROXY protocol v2 TLV.
fn proxy_tlv(ty: u8, v: &[u8]) -> Vec<u8> {
    cat(&[&[ty], &(v.len() as u16).to_be_bytes(), v])
}

fn proxy_edges(v: &mut Vec<Seed>) {
    let e = |v: &mut Vec<Seed>, n: &str, b: Vec<u8>, w: &str| v.push(edge("proxy", n, b, w));
    let mut c = Conv::default();
    let get: &[u8] = b"GET / HTTP/1.1\r\nHost: a.example\r\n\r\n";
    let hello: &[u8] = &[0x16, 3, 1, 0, 0x2e, 1, 0, 0, 0x2a, 3, 3];
    let v1 = b"PROXY TCP4 198.18.0.1 198.18.0.2 40000 443\r\n";
    e(
        v,
        "v1-tcp4-tls",
        c.data(C2S, &cat(&[v1, hello])).take(),
        "v1 line and a ClientHello in one segment",
    );
    e(
        v,
        "v1-tcp4-split",
        c.chunked(C2S, &cat(&[v1, get]), 7)
            .data(S2C, b"HTTP/1.1 200 OK\r\n\r\n")
            .take(),
        "v1 line and a request in 7-octet pieces",
    );
    e(
        v,
        "v1-tcp6",
        c.data(C2S, b"PROXY TCP6 fd00::1 fd00::2 40000 80\r\n")
            .data(C2S, get)
            .take(),
        "v1 over IPv6, the request in its own segment",
    );
    e(
        v,
        "v1-unknown",
        c.data(C2S, b"PROXY UNKNOWN ffff::1 ffff::2 1 2\r\n")
            .data(C2S, get)
            .take(),
        "v1 UNKNOWN, the rest of the line ignored",
    );
    e(
        v,
        "v1-server-first",
        c.data(S2C, b"220 mx.example ESMTP\r\n")
            .data(C2S, b"PROXY TCP4 198.18.0.1 198.18.0.2 1 25\r\nEHLO a\r\n")
            .take(),
        "the server greets first; the client's header follows",
    );
    e(
        v,
        "v1-too-long",
        c.data(C2S, &cat(&[b"PROXY UNKNOWN ", &[b'a'; 120], b"\r\n"]))
            .take(),
        "no line end within 107 octets: malformed",
    );
    e(
        v,
        "v1-bad-address",
        c.data(
            C2S,
            b"PROXY TCP4 198.18.0.300 198.18.0.2 1 2\r\nGET / HTTP/1.0\r\n\r\n",
        )
        .take(),
        "an address that does not parse: malformed, passed on",
    );
    e(
        v,
        "v1-bad-port",
        c.data(C2S, b"PROXY TCP4 198.18.0.1 198.18.0.2 1 65536\r\n")
            .take(),
        "a port past 65535",
    );
    e(
        v,
        "v1-gap",
        c.data(C2S, b"PROXY TCP4 198.18")
            .gap(C2S, 20)
            .data(C2S, get)
            .take(),
        "a hole inside the header line",
    );
    e(
        v,
        "not-proxy-propfind",
        c.data(C2S, b"PRO")
            .data(C2S, b"PFIND / HTTP/1.1\r\n\r\n")
            .take(),
        "a WebDAV request that starts like the v1 prefix",
    );
    let a4 = [198, 18, 0, 1, 198, 18, 0, 2, 0x9c, 0x40, 1, 0xbb];
    let tlvs = cat(&[
        &proxy_tlv(1, b"h2"),
        &proxy_tlv(2, b"a.example"),
        &proxy_tlv(5, &[7; 16]),
        &proxy_tlv(
            0x20,
            &[
                1, 0, 0, 0, 0, 0x21, 0, 7, b'T', b'L', b'S', b'v', b'1', b'.', b'3',
            ],
        ),
        &proxy_tlv(0xea, b"\x01vpce-08d2bf15fac5001c9"),
        &proxy_tlv(4, &[0; 3]),
    ]);
    e(
        v,
        "v2-tcp4-tlvs",
        c.data(C2S, &cat(&[&proxy_v2(1, 0x11, &a4, &tlvs), hello]))
            .take(),
        "v2 TCP4 with ALPN, authority, unique ID, SSL, AWS and NOOP TLVs",
    );
    e(
        v,
        "v2-tcp4-bytewise",
        c.chunked(C2S, &cat(&[&proxy_v2(1, 0x11, &a4, &tlvs), get]), 1)
            .take(),
        "the same header one octet per segment",
    );
    let mut a6 = Vec::new();
    a6.extend_from_slice(&[0xfd, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1]);
    a6.extend_from_slice(&[0xfd, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 2]);
    a6.extend_from_slice(&[0x9c, 0x40, 0, 80]);
    e(
        v,
        "v2-tcp6",
        c.data(C2S, &proxy_v2(1, 0x21, &a6, &[]))
            .data(C2S, get)
            .take(),
        "v2 TCP6, no TLVs",
    );
    e(
        v,
        "v2-udp6",
        c.data(C2S, &proxy_v2(1, 0x22, &a6, &[])).take(),
        "v2 UDP6",
    );
    e(
        v,
        "v2-local",
        c.data(C2S, &proxy_v2(0, 0x00, &[], &[])).take(),
        "v2 LOCAL with no addresses (a health check)",
    );
    e(
        v,
        "v2-unix",
        c.data(C2S, &proxy_v2(1, 0x31, &[b'/'; 216], &[]))
            .data(C2S, get)
            .take(),
        "v2 UNIX stream, 216 octets of paths",
    );
    e(
        v,
        "v2-long-tlvs",
        c.chunked(
            C2S,
            &cat(&[&proxy_v2(1, 0x11, &a4, &proxy_tlv(4, &[0; 2000])), get]),
            512,
        )
        .take(),
        "a header longer than the hold cap: TLVs skipped",
    );
    e(
        v,
        "v2-bad-version",
        c.data(
            C2S,
            &cat(&[b"\r\n\r\n\0\r\nQUIT\n", &[0x31, 0x11, 0, 12], &a4]),
        )
        .take(),
        "version 3: malformed",
    );
    e(
        v,
        "v2-short-length",
        c.data(C2S, &proxy_v2(1, 0x21, &a4, &[])).take(),
        "TCP6 with 12 octets of addresses: malformed",
    );
    e(
        v,
        "v2-tlv-overrun",
        c.data(C2S, &proxy_v2(1, 0x11, &a4, &[2, 0, 40, b'a']))
            .take(),
        "a TLV longer than the header: malformed",
    );
    e(
        v,
        "v2-signature-cut",
        c.data(C2S, b"\r\n\r\n\0\r").gap(C2S, 6).take(),
        "half a signature, then a hole",
    );
}
