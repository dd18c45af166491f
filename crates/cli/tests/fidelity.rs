//! Fidelity against tshark: every file of the shared corpus is run through tshark and through
//! `wirescope --json -r FILE`, and the packet count, the per-protocol frame counts and the
//! TCP/UDP conversation counts are compared. The rules (what tshark's numbers mean and how
//! they are derived) are in docs/FIDELITY.md, with the evidence; read it before changing
//! anything here.
//!
//! Target: identical on at least 99 % of the captures tshark reads, and every capture that
//! differs is listed (by its corpus-relative path) in the "Known differences" section of
//! docs/FIDELITY.md, so that the document and reality cannot drift. Files tshark does not
//! read as a capture must be rejected by wirescope too (non-zero exit, one-line error).
//!
//! Slow (all of the corpus through tshark: ~10 min on 2 cores the first time). tshark's
//! answers are cached in `target/fidelity-cache/` (keyed by path, size, mtime, tshark version
//! and command line), so later runs mostly cost wirescope's time.
//!
//! Environment:
//! - `WIRESCOPE_CORPUS`: corpus directory (default `../shared/corpus` beside the repository).
//! - `WIRESCOPE_BIN`: the binary to test (default: cargo's `CARGO_BIN_EXE_wirescope`).
//! - `WIRESCOPE_FIDELITY_JOBS`: worker threads (default: available parallelism).
//! - `WIRESCOPE_FIDELITY_FILTER`: only files whose relative path contains this string
//!   (for debugging; the 99 % and the documentation checks then apply to that subset).
//! - `WIRESCOPE_FIDELITY_CACHE=0`: do not read or write the tshark cache.
//!
//! Output: a summary on stdout (run with `--nocapture` to see it on success) and one row per
//! corpus file in `target/fidelity-report.tsv`.
#![allow(clippy::unwrap_used, reason = "test")]

use std::collections::{BTreeSet, HashMap};
use std::fmt::Write as _;
use std::hash::{Hash, Hasher};
use std::io::Read;
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Mutex;
use std::time::{Duration, Instant, UNIX_EPOCH};

/// Per-process time limit, for tshark and for wirescope alike.
const TIMEOUT: Duration = Duration::from_secs(60);
/// Share of compared captures that must be identical.
const TARGET: f64 = 0.99;
/// The protocol hierarchy is filtered so that non-packet records (pcapng Custom Blocks, which
/// tshark shows as frames) are not counted; with a filter, tshark roots the tree at `frame`.
const PHS: &str = "io,phs,!frame.cb_pen";
/// Bump when the way tshark's output is produced or cached changes.
const CACHE_VERSION: &str = "fidelity-cache-v1";

/// The compared protocols: (key in wirescope's `protocols` object, tshark's protocol name).
const PROTOCOLS: [(&str, &str); 8] = [
    ("eth", "eth"),
    ("arp", "arp"),
    ("ipv4", "ip"),
    ("ipv6", "ipv6"),
    ("tcp", "tcp"),
    ("udp", "udp"),
    ("icmp", "icmp"),
    ("icmpv6", "icmpv6"),
];

/// Capture file types (as `captype` names them) that tshark only recognises by heuristics with
/// no magic number; in the corpus they match nothing but text (JSON, CSV, tcpdump `.out`
/// files). A file tshark reads only as one of these is not a capture for this comparison.
const HEURISTIC_TYPES: &[&str] = &["json", "vwr80211", "vwr110", "erf"];

/// Link types wirescope decodes, as the corpus MANIFEST (capinfos) names them; any other link
/// type is unsupported: wirescope counts its packets and nothing above the link layer.
const SUPPORTED_LINKS: &[&str] = &[
    "ether",
    "null",
    "loop",
    "rawip",
    "rawip4",
    "rawip6",
    "linux-sll",
    "linux-sll2",
    "ppp",
    "chdlc",
    "frelay",
    "nflog",
    "ieee-802-11",
    "ieee-802-11-radiotap",
    "arcnet_linux",
    "juniper-ether",
    "pktap",
    "user2",
    "linux-atm-clip",
    "ppi",
    "ipnet",
    "ip-ib",
];

/// The compared numbers, in report order: packets, the 8 protocols, the 2 conversation counts
/// and whether the file was reported truncated (non-zero exit).
const FIELDS: [&str; 12] = [
    "packets",
    "eth",
    "arp",
    "ipv4",
    "ipv6",
    "tcp",
    "udp",
    "icmp",
    "icmpv6",
    "conv.tcp",
    "conv.udp",
    "truncated",
];

type Numbers = [u64; 12];

// ---------------------------------------------------------------------------------------------
// Running processes with a time limit

struct Run {
    /// Exit code; `None` when killed by a signal or by the timeout.
    code: Option<i32>,
    timed_out: bool,
    stdout: Vec<u8>,
    stderr: Vec<u8>,
}

impl Run {
    fn describe_failure(&self) -> String {
        if self.timed_out {
            return format!("timed out after {} s", TIMEOUT.as_secs());
        }
        match self.code {
            Some(c) => format!("exit {c}: {}", first_line(&self.stderr)),
            None => format!("killed by a signal: {}", first_line(&self.stderr)),
        }
    }
}

fn run(cmd: &mut Command) -> std::io::Result<Run> {
    let mut child = cmd
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()?;
    let mut out = child.stdout.take().expect("piped stdout");
    let mut err = child.stderr.take().expect("piped stderr");
    let t_out = std::thread::spawn(move || {
        let mut v = Vec::new();
        let _ = out.read_to_end(&mut v);
        v
    });
    let t_err = std::thread::spawn(move || {
        let mut v = Vec::new();
        let _ = err.read_to_end(&mut v);
        v
    });
    let start = Instant::now();
    let mut nap = Duration::from_millis(1);
    let (status, timed_out) = loop {
        if let Some(s) = child.try_wait()? {
            break (Some(s), false);
        }
        if start.elapsed() > TIMEOUT {
            let _ = child.kill();
            let _ = child.wait();
            break (None, true);
        }
        std::thread::sleep(nap);
        nap = (nap * 2).min(Duration::from_millis(25));
    };
    let stdout = t_out.join().unwrap_or_default();
    let stderr = t_err.join().unwrap_or_default();
    Ok(Run {
        code: status.and_then(|s| s.code()),
        timed_out,
        stdout,
        stderr,
    })
}

fn first_line(b: &[u8]) -> String {
    String::from_utf8_lossy(b)
        .lines()
        .map(str::trim)
        .find(|l| !l.is_empty() && !l.starts_with("Running as user"))
        .unwrap_or("")
        .to_string()
}

// ---------------------------------------------------------------------------------------------
// tshark's side

#[derive(Default)]
struct Tshark {
    /// Exit code, `None` for a signal; `timed_out` separately.
    code: Option<i32>,
    timed_out: bool,
    stdout: String,
    stderr: String,
    /// `captype`'s file type, or `None` when captype could not tell.
    file_type: Option<String>,
}

/// What tshark's statistics say about one capture.
struct Theirs {
    numbers: Numbers,
    /// Top-level protocols (the children of `frame`): the link layers tshark saw.
    top_level: BTreeSet<String>,
}

/// Parses `-z io,phs,FILTER -z conv,tcp -z conv,udp` output. `None` if a section is missing.
fn parse_tshark(stdout: &str, truncated: bool) -> Option<Theirs> {
    #[derive(PartialEq)]
    enum Sect {
        None,
        Phs,
        Tcp,
        Udp,
    }
    let mut sect = Sect::None;
    let mut seen = (false, false, false);
    let mut nodes: Vec<(usize, &str, u64)> = Vec::new();
    let mut pairs: [BTreeSet<(String, String)>; 2] = [BTreeSet::new(), BTreeSet::new()];
    for line in stdout.lines() {
        if line.starts_with("Protocol Hierarchy Statistics") {
            sect = Sect::Phs;
            seen.0 = true;
            continue;
        }
        if line.starts_with("TCP Conversations") {
            sect = Sect::Tcp;
            seen.1 = true;
            continue;
        }
        if line.starts_with("UDP Conversations") {
            sect = Sect::Udp;
            seen.2 = true;
            continue;
        }
        if line.starts_with("=====") {
            sect = Sect::None;
            continue;
        }
        match sect {
            Sect::None => {}
            Sect::Phs => {
                // "<2 spaces per level><name><padding>frames:N bytes:M"
                let depth = line.len() - line.trim_start_matches(' ').len();
                let mut it = line.split_whitespace();
                let (Some(name), Some(frames)) = (it.next(), it.next()) else {
                    continue;
                };
                let Some(n) = frames.strip_prefix("frames:").and_then(|n| n.parse().ok()) else {
                    continue; // "Filter: ..." and blank lines
                };
                nodes.push((depth / 2, name, n));
            }
            Sect::Tcp | Sect::Udp => {
                // "A:pa   <-> B:pb   <frames/bytes columns>": tshark may split one address
                // pair into several rows (a new TCP stream on port reuse, or UDP conversations
                // split by application dissectors); we count distinct unordered pairs.
                let Some((a, rest)) = line.split_once("<->") else {
                    continue;
                };
                let a = a.trim().to_string();
                let b = rest.split_whitespace().next().unwrap_or("").to_string();
                let key = if a <= b { (a, b) } else { (b, a) };
                pairs[usize::from(sect == Sect::Udp)].insert(key);
            }
        }
    }
    if !(seen.0 && seen.1 && seen.2) {
        return None;
    }
    let mut numbers: Numbers = [0; 12];
    let mut top_level = BTreeSet::new();
    // Packets: the `frame` nodes (the root whenever a filter is given). A commented pcapng
    // packet has a `pkt_comment` item before `frame`, so its path is `pkt_comment > frame > …`
    // (PcapPlusPlus' pcapng-example.pcapng: 59 frames under `frame`, 100 under
    // `pkt_comment > frame`): count every `frame` node that has no `frame` ancestor.
    // The link layers are the children of those nodes.
    //
    // Per protocol: frames whose path holds the protocol = the sum over the nodes named X
    // that have no ancestor named X (tunnels nest X under X; a frame has one path). Nodes
    // under icmp/icmpv6 are skipped too (tshark never puts the quoted ip/tcp/udp of an ICMP
    // error at the top level, so this only guards against a future change).
    let mut stack: Vec<&str> = Vec::new();
    for &(depth, name, n) in &nodes {
        stack.truncate(depth);
        if name == "frame" && !stack.contains(&"frame") {
            numbers[0] += n;
        }
        if stack.last() == Some(&"frame")
            && stack.iter().filter(|a| **a == "frame").count() == 1
            && !name.starts_with("_ws.")
        {
            top_level.insert(name.to_string());
        }
        let under_icmp = stack.iter().any(|a| *a == "icmp" || *a == "icmpv6");
        for (i, &(_, theirs)) in PROTOCOLS.iter().enumerate() {
            if name == theirs && !under_icmp && !stack.contains(&theirs) {
                numbers[1 + i] += n;
            }
        }
        stack.push(name);
    }
    numbers[9] = pairs[0].len() as u64;
    numbers[10] = pairs[1].len() as u64;
    numbers[11] = u64::from(truncated);
    Some(Theirs { numbers, top_level })
}

fn tshark_args(file: &Path) -> Vec<String> {
    let mut v: Vec<String> = [
        "-n", "-q", "-z", PHS, "-z", "conv,tcp", "-z", "conv,udp", "-r",
    ]
    .iter()
    .map(|s| s.to_string())
    .collect();
    v.push(file.to_string_lossy().into_owned());
    v
}

struct Env {
    corpus: PathBuf,
    bin: PathBuf,
    tshark_version: String,
    /// Empty Wireshark configuration directory, so that no user preference changes dissection.
    config_dir: PathBuf,
    cache_dir: Option<PathBuf>,
    /// Link type(s) per corpus-relative path, from the corpus MANIFEST.tsv (when there is one).
    links: HashMap<String, String>,
}

fn run_tshark(env: &Env, file: &Path, rel: &str) -> Tshark {
    let key = env
        .cache_dir
        .as_ref()
        .and_then(|dir| cache_key(env, file, rel).map(|k| dir.join(k)));
    if let Some(cached) = key.as_ref().and_then(|k| cache_read(k)) {
        return cached;
    }
    let mut t = Tshark::default();
    let mut cmd = Command::new("tshark");
    cmd.args(tshark_args(file))
        .env("LC_ALL", "C")
        .env("WIRESHARK_CONFIG_DIR", &env.config_dir);
    match run(&mut cmd) {
        Ok(r) => {
            t.code = r.code;
            t.timed_out = r.timed_out;
            t.stdout = String::from_utf8_lossy(&r.stdout).into_owned();
            t.stderr = String::from_utf8_lossy(&r.stderr).into_owned();
        }
        Err(e) => {
            t.code = None;
            t.stderr = format!("cannot run tshark: {e}");
        }
    }
    // The file type only matters when tshark produced statistics (to spot heuristic false
    // positives on text files).
    if t.stdout.contains("Protocol Hierarchy Statistics") {
        let mut cmd = Command::new("captype");
        cmd.arg(file)
            .env("LC_ALL", "C")
            .env("WIRESHARK_CONFIG_DIR", &env.config_dir);
        if let Ok(r) = run(&mut cmd) {
            let out = String::from_utf8_lossy(&r.stdout);
            let prefix = format!("{}: ", file.display());
            t.file_type = out
                .lines()
                .find_map(|l| l.strip_prefix(&prefix))
                .map(|s| s.trim().to_string());
        }
    }
    if !t.timed_out {
        if let Some(k) = key {
            cache_write(&k, &t);
        }
    }
    t
}

fn cache_key(env: &Env, file: &Path, rel: &str) -> Option<String> {
    let md = std::fs::metadata(file).ok()?;
    let mtime = md
        .modified()
        .ok()?
        .duration_since(UNIX_EPOCH)
        .ok()?
        .as_nanos();
    let mut h = std::collections::hash_map::DefaultHasher::new();
    (
        CACHE_VERSION,
        rel,
        md.len(),
        mtime,
        &env.tshark_version,
        PHS,
    )
        .hash(&mut h);
    Some(format!("{:016x}", h.finish()))
}

fn cache_read(path: &Path) -> Option<Tshark> {
    let data = std::fs::read(path).ok()?;
    let text = String::from_utf8(data).ok()?;
    // CACHE_VERSION \n code \n file_type \n stdout_len \n stdout stderr
    let mut parts = text.splitn(5, '\n');
    if parts.next()? != CACHE_VERSION {
        return None;
    }
    let code = parts.next()?;
    let file_type = parts.next()?;
    let len: usize = parts.next()?.parse().ok()?;
    let rest = parts.next()?;
    if !rest.is_char_boundary(len) {
        return None;
    }
    let (stdout, stderr) = rest.split_at(len);
    Some(Tshark {
        code: if code == "-" {
            None
        } else {
            Some(code.parse().ok()?)
        },
        timed_out: false,
        stdout: stdout.to_string(),
        stderr: stderr.to_string(),
        file_type: if file_type == "-" {
            None
        } else {
            Some(file_type.to_string())
        },
    })
}

fn cache_write(path: &Path, t: &Tshark) {
    let code = t.code.map_or("-".to_string(), |c| c.to_string());
    let ft = t.file_type.clone().unwrap_or_else(|| "-".to_string());
    let body = format!(
        "{CACHE_VERSION}\n{code}\n{ft}\n{}\n{}{}",
        t.stdout.len(),
        t.stdout,
        t.stderr
    );
    let tmp = path.with_extension(format!("tmp{}", std::process::id()));
    if std::fs::write(&tmp, body).is_ok() {
        let _ = std::fs::rename(&tmp, path);
    }
}

// ---------------------------------------------------------------------------------------------
// wirescope's side

struct Ours {
    /// The compared numbers, when a JSON document with `packets` was printed (whatever the
    /// exit code; `numbers[11]` records a non-zero one).
    numbers: Option<Numbers>,
    /// Why there are no numbers: crash, timeout, rejection, unparsable output.
    why: String,
    /// A clean rejection: a normal non-zero exit with exactly one line on stderr.
    rejected_cleanly: bool,
}

fn run_wirescope(env: &Env, file: &Path) -> Ours {
    let mut cmd = Command::new(&env.bin);
    cmd.arg("--json").arg("-r").arg(file);
    let mut ours = Ours {
        numbers: None,
        why: String::new(),
        rejected_cleanly: false,
    };
    let r = match run(&mut cmd) {
        Ok(r) => r,
        Err(e) => {
            ours.why = format!("cannot run wirescope: {e}");
            return ours;
        }
    };
    let err_text = String::from_utf8_lossy(&r.stderr);
    ours.rejected_cleanly =
        !r.timed_out && matches!(r.code, Some(c) if c != 0) && err_text.trim().lines().count() == 1;
    if r.timed_out || r.code.is_none() {
        ours.why = r.describe_failure();
        return ours;
    }
    let v: serde_json::Value = match serde_json::from_slice(&r.stdout) {
        Ok(v) => v,
        Err(e) => {
            ours.why = if r.stdout.iter().all(u8::is_ascii_whitespace) {
                format!("no JSON on stdout ({})", r.describe_failure())
            } else {
                format!("invalid JSON on stdout: {e} ({})", r.describe_failure())
            };
            return ours;
        }
    };
    let Some(packets) = v.get("packets").and_then(serde_json::Value::as_u64) else {
        ours.why = format!(
            "JSON without a numeric \"packets\" ({})",
            r.describe_failure()
        );
        return ours;
    };
    // A missing protocol or conversation key counts as 0.
    let num = |obj: &str, key: &str| -> u64 {
        v.get(obj)
            .and_then(|o| o.get(key))
            .and_then(serde_json::Value::as_u64)
            .unwrap_or(0)
    };
    let mut numbers: Numbers = [0; 12];
    numbers[0] = packets;
    for (i, &(key, _)) in PROTOCOLS.iter().enumerate() {
        numbers[1 + i] = num("protocols", key);
    }
    numbers[9] = num("conversations", "tcp");
    numbers[10] = num("conversations", "udp");
    numbers[11] = u64::from(r.code != Some(0));
    ours.numbers = Some(numbers);
    ours
}

// ---------------------------------------------------------------------------------------------
// Classification

#[derive(Clone, Copy, PartialEq, Eq, Hash, Debug)]
enum Status {
    /// Compared, all numbers equal.
    Identical,
    /// Compared, some numbers differ.
    Differs,
    /// Compared, but wirescope crashed, timed out, rejected the file or printed no valid JSON.
    WirescopeFailed,
    /// tshark cannot read it; wirescope rejected it too.
    NotACapture,
    /// tshark reads it only through a magic-less heuristic reader (JSON, IxVeriWave, ERF);
    /// wirescope rejected it too.
    OtherFormat,
    /// Not a capture (either kind above) but wirescope did not reject it cleanly.
    RejectMismatch,
    /// tshark: "contains record data that TShark doesn't support" (unknown link type).
    TsharkUnsupported,
    /// tshark crashed, timed out or printed something unexpected.
    TsharkError,
    /// The harness itself panicked on this file.
    HarnessPanic,
}

impl Status {
    fn name(self) -> &'static str {
        match self {
            Status::Identical => "identical",
            Status::Differs => "differs",
            Status::WirescopeFailed => "wirescope-failed",
            Status::NotACapture => "not-a-capture",
            Status::OtherFormat => "other-format",
            Status::RejectMismatch => "REJECT-MISMATCH",
            Status::TsharkUnsupported => "tshark-unsupported",
            Status::TsharkError => "tshark-error",
            Status::HarnessPanic => "HARNESS-PANIC",
        }
    }
    fn compared(self) -> bool {
        matches!(
            self,
            Status::Identical | Status::Differs | Status::WirescopeFailed
        )
    }
}

struct Record {
    rel: String,
    status: Status,
    /// For compared files: "field=ours/theirs" for each difference, or the failure.
    detail: String,
    /// tshark's file type, link layers, truncation, compression.
    note: String,
}

fn compressed(file: &Path) -> Option<&'static str> {
    let mut magic = [0u8; 4];
    let mut f = std::fs::File::open(file).ok()?;
    f.read_exact(&mut magic).ok()?;
    match magic {
        [0x1f, 0x8b, _, _] => Some("gzip"),
        [0x28, 0xb5, 0x2f, 0xfd] => Some("zstd"),
        [0xfd, b'7', b'z', b'X'] => Some("xz"),
        [0x04, 0x22, 0x4d, 0x18] => Some("lz4"),
        _ => None,
    }
}

fn examine(env: &Env, rel: &str) -> Record {
    let file = env.corpus.join(rel);
    let t = run_tshark(env, &file, rel);
    let mut rec = Record {
        rel: rel.to_string(),
        status: Status::TsharkError,
        detail: String::new(),
        note: String::new(),
    };
    if t.timed_out {
        rec.detail = format!("tshark timed out after {} s", TIMEOUT.as_secs());
        return rec;
    }
    let has_stats = t.stdout.contains("Protocol Hierarchy Statistics");
    // tshark's first message, with the corpus path shortened to the relative one.
    let tshark_err = first_line(t.stderr.as_bytes())
        .replace(&format!("\"{}\"", file.display()), &format!("\"{rel}\""))
        .trim_start_matches("tshark: ")
        .to_string();
    let heuristic = t
        .file_type
        .as_deref()
        .filter(|ft| HEURISTIC_TYPES.contains(ft));

    // Files that are not captures for this comparison: wirescope must reject them.
    let not_capture = if !has_stats {
        if tshark_err.contains("doesn't support") {
            rec.status = Status::TsharkUnsupported;
            rec.detail = tshark_err;
            // Informational only: what did wirescope make of it?
            let ours = run_wirescope(env, &file);
            rec.note = match ours.numbers {
                Some(numbers) => format!("wirescope: packets={}", numbers[0]),
                None => format!("wirescope: {}", ours.why),
            };
            return rec;
        }
        let known = ["isn't a capture file", "damaged or corrupt", "cut short"];
        if t.code.is_some() && known.iter().any(|k| tshark_err.contains(k)) {
            Some(Status::NotACapture)
        } else {
            rec.detail = format!("tshark exit {:?}: {tshark_err}", t.code);
            return rec;
        }
    } else if heuristic.is_some() {
        Some(Status::OtherFormat)
    } else {
        None
    };
    if let Some(status) = not_capture {
        rec.note = match heuristic {
            Some(ft) => format!("tshark reads it as '{ft}' (heuristic, no magic number)"),
            None => format!("tshark: {tshark_err}"),
        };
        let mut ours = run_wirescope(env, &file);
        ours.why = ours.why.replace(&file.display().to_string(), rel);
        if ours.rejected_cleanly {
            rec.status = status;
        } else {
            rec.status = Status::RejectMismatch;
            rec.detail = match ours.numbers {
                Some(n) => format!("wirescope accepted it: packets={}", n[0]),
                None => format!(
                    "wirescope did not reject it with a one-line error: {}",
                    ours.why
                ),
            };
        }
        return rec;
    }

    // A capture tshark reads (possibly truncated: then tshark exits 2 after printing stats).
    let truncated = t.code != Some(0);
    let Some(theirs) = parse_tshark(&t.stdout, truncated) else {
        rec.detail = format!(
            "cannot parse tshark's output (exit {:?}: {tshark_err})",
            t.code
        );
        return rec;
    };
    let mut notes = vec![format!("type={}", t.file_type.as_deref().unwrap_or("?"))];
    if let Some(links) = env.links.get(rel).filter(|l| !l.is_empty()) {
        notes.push(format!("link={links}"));
        if links
            .split(',')
            .any(|l| !SUPPORTED_LINKS.contains(&l.trim()))
        {
            notes.push("unsupported-link".into());
        }
    }
    let top: Vec<&str> = theirs.top_level.iter().map(String::as_str).collect();
    notes.push(format!(
        "tshark-top={}",
        if top.is_empty() {
            "-".to_string()
        } else {
            top.join("+")
        }
    ));
    if let Some(c) = compressed(&file) {
        notes.push(format!("compressed={c}"));
    }
    if truncated {
        notes.push(format!("tshark: {tshark_err}"));
    }
    rec.note = notes.join(" ");
    let mut ours = run_wirescope(env, &file);
    ours.why = ours.why.replace(&file.display().to_string(), rel);
    match ours.numbers {
        None => {
            rec.status = Status::WirescopeFailed;
            rec.detail = ours.why;
        }
        Some(numbers) => {
            let diffs: Vec<String> = FIELDS
                .iter()
                .enumerate()
                .filter(|&(i, _)| numbers[i] != theirs.numbers[i])
                .map(|(i, f)| format!("{f}={}/{}", numbers[i], theirs.numbers[i]))
                .collect();
            if diffs.is_empty() {
                rec.status = Status::Identical;
            } else {
                rec.status = Status::Differs;
                rec.detail = diffs.join(" ");
            }
        }
    }
    rec
}

// ---------------------------------------------------------------------------------------------
// docs/FIDELITY.md

/// The text of the "Known differences" section (up to the next heading of the same level).
fn known_differences(doc: &str) -> Option<String> {
    let mut level = None;
    let mut out = String::new();
    for line in doc.lines() {
        let hashes = line.len() - line.trim_start_matches('#').len();
        let is_heading = hashes > 0 && line[hashes..].starts_with(' ');
        match level {
            None => {
                if is_heading
                    && line[hashes..]
                        .trim()
                        .eq_ignore_ascii_case("known differences")
                {
                    level = Some(hashes);
                }
            }
            Some(l) => {
                if is_heading && hashes <= l {
                    break;
                }
                out.push_str(line);
                out.push('\n');
            }
        }
    }
    level.map(|_| out)
}

/// Whether `path` occurs in `text` as a whole path (not as a prefix of a longer name).
fn mentions(text: &str, path: &str) -> bool {
    let before_ok = |c: Option<char>| c.is_none_or(|c| " \t`|([\"'*".contains(c));
    let after_ok = |c: Option<char>| c.is_none_or(|c| " \t`|)]\"',:;*\n".contains(c));
    text.match_indices(path).any(|(i, _)| {
        before_ok(text[..i].chars().next_back()) && after_ok(text[i + path.len()..].chars().next())
    })
}

/// Backquoted tokens of the section that name corpus files.
fn listed_paths(section: &str, corpus: &Path) -> BTreeSet<String> {
    let mut out = BTreeSet::new();
    for (i, chunk) in section.split('`').enumerate() {
        if i % 2 == 1 && !chunk.is_empty() && !chunk.contains('\n') && corpus.join(chunk).is_file()
        {
            out.insert(chunk.to_string());
        }
    }
    out
}

// ---------------------------------------------------------------------------------------------

fn files_under(dir: &Path, base: &Path, out: &mut Vec<String>) {
    let mut entries: Vec<PathBuf> = std::fs::read_dir(dir)
        .unwrap_or_else(|e| panic!("cannot list {}: {e}", dir.display()))
        .map(|e| e.unwrap().path())
        .collect();
    entries.sort();
    for p in entries {
        if p.is_dir() {
            files_under(&p, base, out);
        } else if p.is_file() {
            out.push(p.strip_prefix(base).unwrap().to_string_lossy().into_owned());
        }
    }
}

/// `local_path` -> `link_type` from the corpus MANIFEST.tsv, if present.
fn manifest_links(corpus: &Path) -> HashMap<String, String> {
    let Ok(text) = std::fs::read_to_string(corpus.join("MANIFEST.tsv")) else {
        return HashMap::new();
    };
    let mut lines = text.lines();
    let header: Vec<&str> = lines.next().unwrap_or("").split('\t').collect();
    let col = |name: &str| header.iter().position(|h| *h == name);
    let (Some(p), Some(l)) = (col("local_path"), col("link_type")) else {
        return HashMap::new();
    };
    lines
        .filter_map(|line| {
            let f: Vec<&str> = line.split('\t').collect();
            Some((f.get(p)?.to_string(), f.get(l)?.to_string()))
        })
        .collect()
}

fn tsv(s: &str) -> String {
    s.replace(['\t', '\n', '\r'], " ")
}

#[test]
fn fidelity_against_tshark() {
    let manifest = Path::new(env!("CARGO_MANIFEST_DIR"));
    let corpus = std::env::var_os("WIRESCOPE_CORPUS")
        .map(PathBuf::from)
        .unwrap_or_else(|| manifest.join("../../../shared/corpus"));
    assert!(
        corpus.is_dir(),
        "corpus not found at {} (set WIRESCOPE_CORPUS): the fidelity test needs it",
        corpus.display()
    );
    let bin = std::env::var_os("WIRESCOPE_BIN")
        .map(PathBuf::from)
        .or_else(|| option_env!("CARGO_BIN_EXE_wirescope").map(PathBuf::from))
        .or_else(|| std::env::var_os("CARGO_BIN_EXE_wirescope").map(PathBuf::from))
        .expect(
            "wirescope binary unknown: CARGO_BIN_EXE_wirescope is not set (run through cargo test)",
        );
    assert!(
        bin.is_file(),
        "wirescope binary not found at {}",
        bin.display()
    );

    let version = Command::new("tshark")
        .arg("--version")
        .env("LC_ALL", "C")
        .output();
    let tshark_version = match version {
        Ok(o) if o.status.success() => first_line(&o.stdout),
        Ok(o) => panic!(
            "`tshark --version` failed ({}): the fidelity test needs tshark",
            o.status
        ),
        Err(e) => panic!("tshark not found ({e}): install it (Debian: apt-get install tshark)"),
    };
    let captype_ok = Command::new("captype")
        .arg("-h")
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status();
    assert!(
        captype_ok.is_ok(),
        "captype (shipped with tshark, wireshark-common) not found"
    );

    // target/ = three levels above this test binary (target/debug/deps/fidelity-HASH).
    let target = std::env::current_exe()
        .ok()
        .and_then(|exe| exe.ancestors().nth(3).map(Path::to_path_buf))
        .filter(|t| t.is_dir())
        .unwrap_or_else(|| manifest.join("../../target"));
    let config_dir = target.join("fidelity-wireshark-config");
    std::fs::create_dir_all(&config_dir).unwrap();
    let cache_dir = if std::env::var("WIRESCOPE_FIDELITY_CACHE").is_ok_and(|v| v == "0") {
        None
    } else {
        let d = target.join("fidelity-cache");
        std::fs::create_dir_all(&d).unwrap();
        Some(d)
    };
    let env = Env {
        corpus: corpus.clone(),
        bin,
        tshark_version,
        config_dir,
        cache_dir,
        links: manifest_links(&corpus),
    };

    let doc_path = manifest.join("../../docs/FIDELITY.md");
    let doc = std::fs::read_to_string(&doc_path)
        .unwrap_or_else(|e| panic!("cannot read {}: {e}", doc_path.display()));
    let known = known_differences(&doc).unwrap_or_else(|| {
        panic!(
            "{} has no \"Known differences\" section",
            doc_path.display()
        )
    });

    let mut files = Vec::new();
    files_under(&corpus, &corpus, &mut files);
    let filter = std::env::var("WIRESCOPE_FIDELITY_FILTER").ok();
    if let Some(f) = &filter {
        files.retain(|p| p.contains(f.as_str()));
    }
    assert!(
        !files.is_empty(),
        "no files in the corpus at {} (filter: {filter:?})",
        corpus.display()
    );

    let jobs = std::env::var("WIRESCOPE_FIDELITY_JOBS")
        .ok()
        .and_then(|j| j.parse().ok())
        .unwrap_or_else(|| std::thread::available_parallelism().map_or(2, |n| n.get()))
        .max(1);
    let started = Instant::now();
    let next = AtomicUsize::new(0);
    let results: Mutex<Vec<Option<Record>>> = Mutex::new((0..files.len()).map(|_| None).collect());
    std::thread::scope(|s| {
        for _ in 0..jobs {
            s.spawn(|| loop {
                let i = next.fetch_add(1, Ordering::Relaxed);
                let Some(rel) = files.get(i) else { break };
                let rec =
                    catch_unwind(AssertUnwindSafe(|| examine(&env, rel))).unwrap_or_else(|p| {
                        let msg = p
                            .downcast_ref::<String>()
                            .cloned()
                            .or_else(|| p.downcast_ref::<&str>().map(|s| s.to_string()))
                            .unwrap_or_default();
                        Record {
                            rel: rel.clone(),
                            status: Status::HarnessPanic,
                            detail: msg,
                            note: String::new(),
                        }
                    });
                results.lock().unwrap_or_else(|e| e.into_inner())[i] = Some(rec);
            });
        }
    });
    let records: Vec<Record> = results
        .into_inner()
        .unwrap_or_else(|e| e.into_inner())
        .into_iter()
        .flatten()
        .collect();
    assert_eq!(records.len(), files.len(), "a worker lost results");

    // Report.
    let mut report =
        String::from("file\tstatus\tmismatches (field=wirescope/tshark) or failure\tnote\n");
    for r in &records {
        let _ = writeln!(
            report,
            "{}\t{}\t{}\t{}",
            tsv(&r.rel),
            r.status.name(),
            tsv(&r.detail),
            tsv(&r.note)
        );
    }
    let report_path = target.join("fidelity-report.tsv");
    std::fs::write(&report_path, report).unwrap();

    let mut by_status: HashMap<Status, usize> = HashMap::new();
    for r in &records {
        *by_status.entry(r.status).or_default() += 1;
    }
    let count = |s: Status| by_status.get(&s).copied().unwrap_or(0);
    let compared = records.iter().filter(|r| r.status.compared()).count();
    let identical = count(Status::Identical);
    let ratio = if compared == 0 {
        0.0
    } else {
        identical as f64 / compared as f64
    };
    let differing: Vec<&Record> = records
        .iter()
        .filter(|r| r.status.compared() && r.status != Status::Identical)
        .collect();

    let mut summary = String::new();
    let _ = writeln!(
        summary,
        "fidelity ({}; {} files in {:.0} s, {jobs} jobs{}):",
        env.tshark_version,
        records.len(),
        started.elapsed().as_secs_f64(),
        filter
            .as_ref()
            .map(|f| format!(", filter {f:?}"))
            .unwrap_or_default()
    );
    let _ = writeln!(
        summary,
        "  {compared} captures compared, {identical} identical ({:.2} %, target {:.0} %), {} differ, {} wirescope failures",
        ratio * 100.0,
        TARGET * 100.0,
        count(Status::Differs),
        count(Status::WirescopeFailed)
    );
    let _ = writeln!(
        summary,
        "  not compared: {} not-a-capture, {} other-format (tshark heuristics on text), {} tshark-unsupported, {} tshark-error",
        count(Status::NotACapture),
        count(Status::OtherFormat),
        count(Status::TsharkUnsupported),
        count(Status::TsharkError)
    );
    if !differing.is_empty() {
        let _ = writeln!(summary, "  differing files:");
        for r in &differing {
            let _ = writeln!(
                summary,
                "    {}  [{}] {}  ({})",
                r.rel,
                r.status.name(),
                r.detail,
                r.note
            );
        }
    }
    let _ = writeln!(summary, "  report: {}", report_path.display());
    println!("{summary}");

    // Checks.
    let mut failures = Vec::new();
    if compared == 0 {
        failures.push("no capture was compared".to_string());
    } else if ratio < TARGET {
        failures.push(format!(
            "only {identical} of {compared} captures identical ({:.2} % < {:.0} %)",
            ratio * 100.0,
            TARGET * 100.0
        ));
    }
    let undocumented: Vec<&str> = differing
        .iter()
        .filter(|r| !mentions(&known, &r.rel))
        .map(|r| r.rel.as_str())
        .collect();
    if !undocumented.is_empty() {
        failures.push(format!(
            "{} differing files are not listed under \"Known differences\" in docs/FIDELITY.md:\n      {}",
            undocumented.len(),
            undocumented.join("\n      ")
        ));
    }
    let identical_set: BTreeSet<&str> = records
        .iter()
        .filter(|r| r.status == Status::Identical)
        .map(|r| r.rel.as_str())
        .collect();
    let stale: Vec<String> = listed_paths(&known, &corpus)
        .into_iter()
        .filter(|p| identical_set.contains(p.as_str()))
        .collect();
    if !stale.is_empty() {
        failures.push(format!(
            "{} files listed under \"Known differences\" are now identical; remove them:\n      {}",
            stale.len(),
            stale.join("\n      ")
        ));
    }
    for (status, what) in [
        (
            Status::RejectMismatch,
            "files tshark does not read as captures were not rejected by wirescope",
        ),
        (Status::HarnessPanic, "files made the harness panic"),
    ] {
        let bad: Vec<String> = records
            .iter()
            .filter(|r| r.status == status)
            .map(|r| format!("{}: {}", r.rel, r.detail))
            .collect();
        if !bad.is_empty() {
            failures.push(format!(
                "{} {what}:\n      {}",
                bad.len(),
                bad.join("\n      ")
            ));
        }
    }
    assert!(
        failures.is_empty(),
        "fidelity check failed:\n  - {}\n\n{summary}",
        failures.join("\n  - ")
    );
}
