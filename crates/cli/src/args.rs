//! Command-line arguments, with tcpdump's spelling where tcpdump has the option.

use anyhow::{Context, Result};
use clap::Parser;
use std::path::PathBuf;

#[derive(Parser, Debug)]
#[command(
    name = "wirescope",
    version,
    about = "Network traffic analyzer: decode, flows, statistics, EVE and Zeek-style logs",
    after_help = "Examples:\n  wirescope -r capture.pcap\n  wirescope -r a.pcap -r b.pcapng --json 'tcp port 443'\n  wirescope -r capture.pcap --eve eve.json --zeek-dir logs/ -w https.pcap 'tcp port 443'\n  wirescope -D\n  wirescope -i eth0 --eve eve.json -w ring.pcap -C 100 -W 10 -Z nobody 'not port 22'"
)]
pub struct Args {
    /// Read packets from a pcap or pcapng file ("-" = standard input). Repeat to analyse several
    /// files as one stream in timestamp order.
    #[arg(short = 'r', value_name = "FILE")]
    pub read: Vec<PathBuf>,

    /// Capture live on an interface ("any" = all interfaces). Repeat for several interfaces.
    /// Stop with Ctrl-C (SIGINT) or SIGTERM: the pipeline drains, outputs are flushed and the
    /// summary is printed. SIGHUP reloads --config and --blocklist files.
    #[arg(short = 'i', value_name = "IFACE", conflicts_with = "read")]
    pub interface: Vec<String>,

    /// List the interfaces wirescope can capture on, with their addresses and state, and exit.
    #[arg(short = 'D', long = "list-interfaces")]
    pub list_interfaces: bool,

    /// Don't put the interface into promiscuous mode (live capture).
    #[arg(short = 'p', long = "no-promiscuous-mode")]
    pub no_promisc: bool,

    /// Kernel capture buffer size in KiB, as tcpdump's -B (live capture).
    #[arg(short = 'B', long = "buffer-size", value_name = "KIB")]
    pub buffer_kib: Option<u32>,

    /// Deliver packets as soon as they arrive instead of in kernel blocks (live capture; lower
    /// latency, more wake-ups).
    #[arg(long = "immediate-mode")]
    pub immediate: bool,

    /// Threads that track flows and parse application protocols, fed by a symmetric hash of
    /// each packet's address pair; detection and outputs run on one merge stage, so records
    /// and alerts do not depend on N. Default: 1 when reading files, the number of cores in
    /// live capture.
    #[arg(long, value_name = "N", value_parser = clap::value_parser!(u16).range(1..=256))]
    pub workers: Option<u16>,

    /// Packet batches the queue between capture and analysis holds (256 packets each). A full
    /// queue drops the newest batch and counts it; capture never waits.
    #[arg(long, value_name = "N", default_value_t = 64)]
    pub queue_batches: usize,

    /// After the capture handles are open, switch to USER's uid, gid and groups (live
    /// capture; needs root). A -w file is created before the switch; rotated files after it,
    /// as USER, so USER needs write access to their directory.
    #[arg(short = 'Z', value_name = "USER")]
    pub user: Option<String>,

    /// Live capture: write an EVE `stats` event every SECS seconds (0: only at the end).
    #[arg(long, value_name = "SECS", default_value_t = 10)]
    pub stats_interval: u64,

    /// Live capture: always draw the live view (rates, top talkers, alerts) on standard error,
    /// even when it is not a terminal; --no-live-view never draws it.
    #[arg(long, conflicts_with = "no_live_view")]
    pub live_view: bool,

    /// Live capture: never draw the live view.
    #[arg(long)]
    pub no_live_view: bool,

    /// Write the packets that pass the filter to a pcap file ("-" = standard output).
    #[arg(short = 'w', value_name = "FILE")]
    pub write: Option<PathBuf>,

    /// With -w: before writing a packet, start a new file when the current one is larger than
    /// SIZE million bytes (tcpdump's -C). Files are FILE, FILE1, FILE2, ... (FILE0..FILE<N-1>,
    /// reused in a ring, with -W N).
    #[arg(short = 'C', value_name = "MILLION_BYTES", requires = "write")]
    pub rotate_size: Option<u64>,

    /// With -w: start a new file every SECS seconds of packet time (tcpdump's -G); FILE is a
    /// strftime pattern (%Y %m %d %H %M %S %s %j %%, in UTC).
    #[arg(short = 'G', value_name = "SECS", requires = "write")]
    pub rotate_seconds: Option<u64>,

    /// With -C: keep at most N files (a ring). With -G alone: stop after N files.
    #[arg(short = 'W', value_name = "N", requires = "write")]
    pub rotate_files: Option<u32>,

    /// Stop after N packets (that pass the filter).
    #[arg(short = 'c', value_name = "N")]
    pub count: Option<u64>,

    /// Don't resolve addresses to names (wirescope never does; accepted for tcpdump habits).
    #[arg(short = 'n')]
    pub numeric: bool,

    /// BPF filter expression (tcpdump syntax), as one argument.
    #[arg(short = 'f', value_name = "EXPR", conflicts_with = "filter_file")]
    pub filter: Option<String>,

    /// Read the BPF filter expression from FILE (tcpdump's -F).
    #[arg(short = 'F', value_name = "FILE")]
    pub filter_file: Option<PathBuf>,

    /// Snapshot length assumed when compiling the filter and written in -w files.
    #[arg(short = 's', value_name = "SNAPLEN", default_value_t = 262_144)]
    pub snaplen: u32,

    /// Print one JSON document with every statistic instead of the terminal summary.
    #[arg(long)]
    pub json: bool,

    /// Write EVE-style JSON lines (flow and stats events) to FILE.
    #[arg(long, value_name = "FILE")]
    pub eve: Option<PathBuf>,

    /// Write Zeek-style logs (conn.log) into DIR.
    #[arg(long, value_name = "DIR")]
    pub zeek_dir: Option<PathBuf>,

    /// Write the Zeek-style logs as JSON lines instead of TSV.
    #[arg(long, requires = "zeek_dir")]
    pub zeek_json: bool,

    /// Most flows held at once (the flow table's memory cap).
    #[arg(long, value_name = "N")]
    pub max_flows: Option<usize>,

    /// Rows in top-N tables.
    #[arg(long, value_name = "N", default_value_t = 10)]
    pub top: usize,

    /// Skip the application layer (reassembly, DNS/HTTP/TLS/SSH/DHCP parsing, ARP table):
    /// L2–L4 statistics and flows only.
    #[arg(long)]
    pub no_app: bool,

    /// Per-direction TCP reassembly depth in bytes (application parsers see at most this much).
    #[arg(long, value_name = "BYTES")]
    pub stream_depth: Option<u64>,

    /// Detection configuration (TOML): alert hygiene (allow-lists, suppression, thresholds)
    /// and per-detector parameters. `--print-config` shows every key with its default.
    #[arg(long, value_name = "FILE")]
    pub config: Option<PathBuf>,

    /// A list of known-bad IPs, CIDRs or domains (one per line, Spamhaus DROP, Zeek Intel or
    /// Suricata IP reputation format) for the `blocklist` detector. Repeatable.
    #[arg(long, value_name = "FILE")]
    pub blocklist: Vec<PathBuf>,

    /// Run no detectors (no alerts).
    #[arg(long)]
    pub no_detect: bool,

    /// Exit with code 4 when at least one alert was raised (for scripts and CI gates).
    #[arg(long)]
    pub fail_on_alert: bool,

    /// Learning mode: after the run, write to FILE an allow-list (TOML `[[alerts.allow]]`
    /// entries, one per alerting source and detector) that would silence every alert of this
    /// run. Run it on traffic known to be clean, review the file, then append it to --config.
    #[arg(long, value_name = "FILE")]
    pub propose_allow: Option<PathBuf>,

    /// Print the detection configuration in effect (defaults, or --config merged in) as TOML
    /// and exit.
    #[arg(long)]
    pub print_config: bool,

    /// Print no summary (outputs requested with -w/--eve/--zeek-dir are still written).
    #[arg(short = 'q', long)]
    pub quiet: bool,

    /// Never show the progress bar.
    #[arg(long)]
    pub no_progress: bool,

    /// BPF filter expression (tcpdump syntax), as trailing arguments.
    #[arg(value_name = "EXPRESSION", trailing_var_arg = true)]
    pub expression: Vec<String>,
}

impl Args {
    /// The `-w` file (or pattern) opened with the rotation options.
    pub fn open_writer(
        &self,
        link: wirescope_core::LinkType,
    ) -> Result<Option<wirescope_capture::RotatingWriter>> {
        let Some(p) = &self.write else {
            return Ok(None);
        };
        let opts = wirescope_capture::RotateOptions {
            size_bytes: self.rotate_size.map(|m| m.saturating_mul(1_000_000)),
            seconds: self.rotate_seconds,
            files: self.rotate_files,
        };
        wirescope_capture::RotatingWriter::create(p, link, self.snaplen, opts)
            .map(Some)
            .with_context(|| format!("cannot write {}", p.display()))
    }

    /// The filter expression from -F or the trailing arguments (tcpdump ignores the trailing
    /// arguments when -F is given; we refuse the ambiguity instead).
    pub fn filter_expression(&self) -> Result<Option<String>> {
        if let Some(f) = &self.filter {
            if !self.expression.is_empty() {
                anyhow::bail!("give the filter either with -f or as arguments, not both");
            }
            return Ok(Some(f.clone()));
        }
        match (&self.filter_file, self.expression.is_empty()) {
            (Some(_), false) => {
                anyhow::bail!("give the filter either with -F or as arguments, not both")
            }
            (Some(p), true) => {
                let text = std::fs::read_to_string(p)
                    .with_context(|| format!("cannot read filter file {}", p.display()))?;
                // tcpdump's -F files may contain '#' comments.
                let expr: Vec<&str> = text
                    .lines()
                    .map(|l| l.split('#').next().unwrap_or("").trim())
                    .filter(|l| !l.is_empty())
                    .collect();
                Ok((!expr.is_empty()).then(|| expr.join(" ")))
            }
            (None, true) => Ok(None),
            (None, false) => Ok(Some(self.expression.join(" "))),
        }
    }
}
