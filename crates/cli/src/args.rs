//! Command-line arguments, with tcpdump's spelling where tcpdump has the option.

use anyhow::{Context, Result};
use clap::Parser;
use std::path::PathBuf;

#[derive(Parser, Debug)]
#[command(
    name = "wirescope",
    version,
    about = "Network traffic analyzer: decode, flows, statistics, EVE and Zeek-style logs",
    after_help = "Examples:\n  wirescope -r capture.pcap\n  wirescope -r a.pcap -r b.pcapng --json 'tcp port 443'\n  wirescope -r capture.pcap --eve eve.json --zeek-dir logs/ -w https.pcap 'tcp port 443'"
)]
pub struct Args {
    /// Read packets from a pcap or pcapng file ("-" = standard input). Repeat to analyse several
    /// files as one stream in timestamp order.
    #[arg(short = 'r', value_name = "FILE")]
    pub read: Vec<PathBuf>,

    /// Write the packets that pass the filter to a pcap file ("-" = standard output).
    #[arg(short = 'w', value_name = "FILE")]
    pub write: Option<PathBuf>,

    /// Stop after N packets (that pass the filter).
    #[arg(short = 'c', value_name = "N")]
    pub count: Option<u64>,

    /// Don't resolve addresses to names (wirescope never does; accepted for tcpdump habits).
    #[arg(short = 'n')]
    pub numeric: bool,

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
    /// The filter expression from -F or the trailing arguments (tcpdump ignores the trailing
    /// arguments when -F is given; we refuse the ambiguity instead).
    pub fn filter_expression(&self) -> Result<Option<String>> {
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
