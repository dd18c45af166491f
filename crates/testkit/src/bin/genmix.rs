//! `wirescope-genmix`: writes a deterministic mixed-traffic pcap for benchmarks.
//!
//! ```text
//! wirescope-genmix --packets 5000000 --out target/bench/mix.pcap [--seed 1] [--rate 300000]
//! ```
//!
//! The summary (packets per kind, IPv6/VLAN shares, capture-time rate) goes to stderr.

use std::error::Error;
use std::fs::File;
use std::io::BufWriter;
use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Instant;
use wirescope_testkit::mix::{MixConfig, MixGenerator};
use wirescope_testkit::pcap::PcapBuilder;

const USAGE: &str =
    "usage: wirescope-genmix --packets N --out FILE [--seed S] [--rate PPS] [--quiet]

Writes N packets of realistic mixed traffic (TCP, QUIC-like UDP, DNS, ICMP, ARP, SYN scans;
~15% IPv6, ~5% VLAN) as a nanosecond pcap. The same seed always gives the same file.
  --packets N   packets to write (suffixes k, M allowed: 5M)
  --out FILE    output pcap (- for stdout)
  --seed S      PRNG seed (default 1)
  --rate PPS    mean packets per second of capture time (default 300000)
  --quiet       no summary on stderr
  --version     print the generator version (the mix format changes with it)";

struct Args {
    cfg: MixConfig,
    out: PathBuf,
    quiet: bool,
}

fn parse_count(s: &str) -> Result<u64, String> {
    let t = s.replace('_', "");
    let (num, mult) = match t.as_bytes().last() {
        Some(b'k' | b'K') => (&t[..t.len() - 1], 1_000),
        Some(b'm' | b'M') => (&t[..t.len() - 1], 1_000_000),
        _ => (&t[..], 1),
    };
    num.parse::<u64>()
        .ok()
        .and_then(|n| n.checked_mul(mult))
        .ok_or_else(|| format!("not a count: {s}"))
}

fn parse_args() -> Result<Args, String> {
    let mut cfg = MixConfig::default();
    let mut packets = None;
    let mut out = None;
    let mut quiet = false;
    let mut it = std::env::args().skip(1);
    while let Some(a) = it.next() {
        let mut value = || it.next().ok_or_else(|| format!("{a} needs a value"));
        match a.as_str() {
            "--packets" | "-n" => packets = Some(parse_count(&value()?)?),
            "--out" | "-o" => out = Some(PathBuf::from(value()?)),
            "--seed" => cfg.seed = parse_count(&value()?)?,
            "--rate" => {
                let v = value()?;
                cfg.rate_pps = v
                    .parse::<f64>()
                    .ok()
                    .filter(|r| *r > 0.0)
                    .ok_or(format!("bad rate: {v}"))?;
            }
            "--quiet" | "-q" => quiet = true,
            "--help" | "-h" => return Err(String::new()),
            "--version" | "-V" => {
                println!(
                    "wirescope-genmix {} (mix version {})",
                    env!("CARGO_PKG_VERSION"),
                    wirescope_testkit::mix::MIX_VERSION
                );
                std::process::exit(0);
            }
            _ => return Err(format!("unknown argument: {a}")),
        }
    }
    cfg.packets = packets.ok_or("--packets is required")?;
    Ok(Args {
        cfg,
        out: out.ok_or("--out is required")?,
        quiet,
    })
}

fn run(args: Args) -> Result<(), Box<dyn Error>> {
    let started = Instant::now();
    let sink: Box<dyn std::io::Write> = if args.out.as_os_str() == "-" {
        Box::new(std::io::stdout().lock())
    } else {
        Box::new(
            File::create(&args.out)
                .map_err(|e| format!("cannot create {}: {e}", args.out.display()))?,
        )
    };
    let mut w = PcapBuilder::ethernet(BufWriter::with_capacity(8 << 20, sink))?;
    let mut g = MixGenerator::new(args.cfg);
    while let Some((ts, frame)) = g.next_frame() {
        w.packet(ts, frame)?;
    }
    let file_bytes = w.bytes();
    w.finish()?;
    if !args.quiet {
        let secs = started.elapsed().as_secs_f64();
        eprintln!("{}", g.stats());
        eprintln!(
            "wrote {} ({file_bytes} bytes) in {secs:.2} s ({:.2} M packets/s)",
            args.out.display(),
            g.stats().total() as f64 / secs / 1e6
        );
    }
    Ok(())
}

fn main() -> ExitCode {
    let args = match parse_args() {
        Ok(a) => a,
        Err(e) => {
            if e.is_empty() {
                println!("{USAGE}");
                return ExitCode::SUCCESS;
            }
            eprintln!("wirescope-genmix: {e}\n\n{USAGE}");
            return ExitCode::from(2);
        }
    };
    match run(args) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("wirescope-genmix: {e}");
            ExitCode::FAILURE
        }
    }
}
