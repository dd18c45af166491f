//! The `wirescope` binary: parses tcpdump-style arguments, composes a source, the engine and
//! the sinks, and maps outcomes to exit codes.
//!
//! Exit codes: 0 success (also when stdout is closed early: broken pipe); 1 an input could not
//! be read to its end (truncated or corrupt; everything readable was analysed and reported);
//! 2 usage error, bad filter, bad configuration or unreadable/non-capture input; 3 an output
//! could not be written; 4 alerts were raised and `--fail-on-alert` was given (only when the
//! run was otherwise successful).

mod args;
mod live;

use anyhow::{Context, Result};
use args::Args;
use clap::Parser;
use std::io::{self, IsTerminal, Write};
use std::process::ExitCode;
use wirescope_capture::{BpfFilter, CaptureReader, MergedReader};
use wirescope_detect::config::DetectConfig;
use wirescope_detect::{Alert, AlertSink, AlertStatus, Detecting, Detection};
use wirescope_engine::pipeline::{self, RunOptions};
use wirescope_engine::{AppCtx, ArpEvent, DnsEvent, Engine, EngineConfig, Flow, Sink};
use wirescope_output::zeek_app::ZeekAppLogs;
use wirescope_output::{eve::EveWriter, terminal, zeek};

/// The `--json` document: the report's fields in their order, then the alerts.
#[derive(serde::Serialize)]
struct JsonOut<'a> {
    #[serde(flatten)]
    report: &'a wirescope_engine::Report,
    #[serde(skip_serializing_if = "Option::is_none")]
    alerts: Option<&'a [Alert]>,
    #[serde(skip_serializing_if = "Option::is_none")]
    detection: Option<serde_json::Value>,
}

/// Fans finished flows out to every configured sink.
struct Sinks {
    eve: Option<EveWriter<io::BufWriter<std::fs::File>>>,
    zeek: Option<zeek::ZeekConnLog>,
    zeek_app: Option<ZeekAppLogs>,
    /// Print alerts to standard error as they are raised.
    live_alerts: bool,
    bar: Option<indicatif::ProgressBar>,
}

impl AlertSink for Sinks {
    fn alert(&mut self, a: &Alert) {
        if let Some(e) = self.eve.as_mut() {
            e.alert(a);
        }
        if self.live_alerts && a.status == AlertStatus::New {
            let line = terminal::alert_line(a);
            match &self.bar {
                Some(b) => b.println(line),
                None => eprintln!("{line}"),
            }
        }
    }
}

impl Sinks {
    /// The configured sinks, in a fixed order.
    fn each(&mut self, mut f: impl FnMut(&mut dyn Sink)) {
        if let Some(e) = self.eve.as_mut() {
            f(e);
        }
        if let Some(z) = self.zeek.as_mut() {
            f(z);
        }
        if let Some(z) = self.zeek_app.as_mut() {
            f(z);
        }
    }
}

impl Sink for Sinks {
    fn flow(&mut self, flow: &Flow) {
        self.each(|s| s.flow(flow));
    }
    fn dns(&mut self, ctx: &AppCtx<'_>, ev: &DnsEvent<'_, '_>) {
        self.each(|s| s.dns(ctx, ev));
    }
    fn http(&mut self, ctx: &AppCtx<'_>, tx: &wirescope_proto::http::Transaction) {
        self.each(|s| s.http(ctx, tx));
    }
    fn tls(&mut self, ctx: &AppCtx<'_>, t: &wirescope_proto::tls::TlsSession) {
        self.each(|s| s.tls(ctx, t));
    }
    fn ssh(&mut self, ctx: &AppCtx<'_>, t: &wirescope_proto::ssh::SshSession) {
        self.each(|s| s.ssh(ctx, t));
    }
    fn socks(&mut self, ctx: &AppCtx<'_>, t: &wirescope_proto::socks::SocksSession) {
        self.each(|s| s.socks(ctx, t));
    }
    fn proxy(&mut self, ctx: &AppCtx<'_>, h: &wirescope_proto::proxy::ProxyHeader) {
        self.each(|s| s.proxy(ctx, h));
    }
    fn dhcp_message(&mut self, ctx: &AppCtx<'_>, m: &wirescope_proto::dhcp::Message<'_>) {
        self.each(|s| s.dhcp_message(ctx, m));
    }
    fn dhcp(&mut self, tx: &wirescope_proto::dhcp::Transaction) {
        self.each(|s| s.dhcp(tx));
    }
    fn arp(&mut self, ev: &ArpEvent<'_>) {
        self.each(|s| s.arp(ev));
    }
}

enum Failure {
    Usage(anyhow::Error),
    Output(anyhow::Error),
}

fn main() -> ExitCode {
    let args = Args::parse();
    match run(&args) {
        Ok(code) => code,
        Err(Failure::Usage(e)) => {
            eprintln!("wirescope: {e:#}");
            ExitCode::from(2)
        }
        Err(Failure::Output(e)) => {
            if is_broken_pipe(&e) {
                return ExitCode::SUCCESS;
            }
            eprintln!("wirescope: {e:#}");
            ExitCode::from(3)
        }
    }
}

fn is_broken_pipe(e: &anyhow::Error) -> bool {
    e.chain().any(|c| {
        c.downcast_ref::<io::Error>()
            .is_some_and(|io| io.kind() == io::ErrorKind::BrokenPipe)
    })
}

/// The detection configuration: defaults, then `--config`, then `--blocklist` files (read
/// here: the detect crate does no I/O).
fn detect_config(args: &Args) -> Result<DetectConfig> {
    let mut cfg = match &args.config {
        Some(p) => {
            let text = std::fs::read_to_string(p)
                .with_context(|| format!("cannot read configuration {}", p.display()))?;
            DetectConfig::from_toml(&p.display().to_string(), &text)?
        }
        None => DetectConfig::default(),
    };
    let bl = &mut cfg.detectors.blocklist;
    let mut files = bl.files.clone();
    files.extend(args.blocklist.iter().cloned());
    for f in files {
        let text = std::fs::read_to_string(&f)
            .with_context(|| format!("cannot read blocklist {}", f.display()))?;
        bl.sources.push((f.display().to_string(), text));
    }
    Ok(cfg)
}

/// The sinks asked for on the command line (EVE file, Zeek logs).
fn build_sinks(args: &Args) -> Result<Sinks, Failure> {
    let mut sinks = Sinks {
        eve: None,
        zeek: None,
        zeek_app: None,
        live_alerts: !args.quiet && !args.json,
        bar: None,
    };
    if let Some(p) = &args.eve {
        let f = std::fs::File::create(p)
            .with_context(|| format!("cannot create EVE file {}", p.display()))
            .map_err(Failure::Output)?;
        sinks.eve = Some(EveWriter::new(io::BufWriter::with_capacity(1 << 16, f)));
    }
    if let Some(d) = &args.zeek_dir {
        let fmt = if args.zeek_json {
            zeek::ZeekFormat::Json
        } else {
            zeek::ZeekFormat::Tsv
        };
        sinks.zeek = Some(
            zeek::ZeekConnLog::create(d, fmt)
                .with_context(|| format!("cannot write Zeek logs to {}", d.display()))
                .map_err(Failure::Output)?,
        );
        sinks.zeek_app = Some(ZeekAppLogs::new(d, fmt));
    }
    Ok(sinks)
}

/// The engine configuration from the command line.
/// Runs the files through one engine, or through `workers` shards and a merge stage.
fn run_file(
    reader: &mut MergedReader,
    cfg: EngineConfig,
    workers: usize,
    opts: RunOptions<'_>,
    sink: &mut dyn wirescope_engine::Sink,
) -> Result<(wirescope_engine::Report, pipeline::RunOutcome), Failure> {
    if workers <= 1 {
        let mut engine = Engine::new(cfg);
        return Ok(pipeline::run(reader, &mut engine, opts, sink));
    }
    let sharded = wirescope_engine::shard::Sharded::new(cfg, workers).map_err(|e| {
        Failure::Output(anyhow::anyhow!(
            "cannot start {workers} worker threads: {e}"
        ))
    })?;
    Ok(pipeline::run_sharded(reader, sharded, opts, sink))
}

fn engine_config(args: &Args) -> EngineConfig {
    let mut cfg = EngineConfig::default();
    if let Some(n) = args.max_flows {
        cfg.flow.max_flows = n;
    }
    cfg.top_n = args.top;
    cfg.app.enabled = !args.no_app;
    if let Some(d) = args.stream_depth {
        cfg.app.stream.depth = d;
    }
    cfg
}

fn run(args: &Args) -> Result<ExitCode, Failure> {
    if args.list_interfaces {
        return live::print_interfaces();
    }
    let dcfg = detect_config(args).map_err(Failure::Usage)?;
    if args.print_config {
        print!("{}", dcfg.to_toml());
        return Ok(ExitCode::SUCCESS);
    }
    let mut detection = if args.no_detect {
        None
    } else {
        Some(Detection::new(&dcfg).map_err(|e| Failure::Usage(e.into()))?)
    };
    if !args.interface.is_empty() {
        return live::run(args, detection);
    }
    if args.read.is_empty() {
        return Err(Failure::Usage(anyhow::anyhow!(
            "no input: give a capture file with -r FILE (- for stdin) or an interface with \
             -i IFACE (wirescope -D lists them); see --help"
        )));
    }
    let mut readers = Vec::with_capacity(args.read.len());
    for path in &args.read {
        readers.push(CaptureReader::open(path).map_err(|e| Failure::Usage(e.into()))?);
    }
    let first_link = readers
        .iter()
        .find_map(|r| r.link_types().first().copied())
        .unwrap_or(wirescope_core::LinkType::ETHERNET);
    let names: Vec<String> = readers.iter().map(|r| r.name().to_string()).collect();
    let mut reader = MergedReader::new(readers);

    let filter_expr = args.filter_expression().map_err(Failure::Usage)?;
    let filter = match &filter_expr {
        Some(expr) => Some(
            BpfFilter::new(expr, first_link, args.snaplen).map_err(|e| Failure::Usage(e.into()))?,
        ),
        None => None,
    };
    let writer = args.open_writer(first_link).map_err(Failure::Output)?;

    let mut sinks = build_sinks(args)?;
    let cfg = engine_config(args);
    let workers = args.workers.map_or(1, usize::from);

    let bar = (!args.quiet && io::stderr().is_terminal() && !args.no_progress).then(|| {
        let b = indicatif::ProgressBar::new(reader.total_size().unwrap_or(0));
        b.set_style(
            indicatif::ProgressStyle::with_template(
                "{spinner} {bytes}/{total_bytes} [{bar:30}] {bytes_per_sec} eta {eta}",
            )
            .unwrap_or_else(|_| indicatif::ProgressStyle::default_bar()),
        );
        b
    });
    sinks.bar = bar.clone();
    let mut progress = |done: u64, total: Option<u64>| {
        if let Some(b) = &bar {
            if let Some(t) = total {
                b.set_length(t);
            }
            b.set_position(done);
        }
    };
    let opts = RunOptions {
        filter,
        writer,
        max_packets: args.count,
        progress: Some(&mut progress),
    };
    let (mut report, outcome) = match detection.as_mut() {
        Some(det) => {
            let mut d = Detecting {
                det,
                inner: &mut sinks,
            };
            let r = run_file(&mut reader, cfg, workers, opts, &mut d)?;
            d.finish();
            r
        }
        None => run_file(&mut reader, cfg, workers, opts, &mut sinks)?,
    };
    if let Some(b) = &bar {
        b.finish_and_clear();
    }
    report.inputs = names
        .iter()
        .map(|n| wirescope_engine::InputReport {
            name: n.clone(),
            error: reader
                .errors()
                .iter()
                .find(|e| e.name() == n)
                .map(|e| e.to_string()),
        })
        .collect();

    finish_outputs(args, &report, &mut sinks, detection.as_ref())?;
    if let Some(e) = &outcome.write_error {
        return Err(Failure::Output(anyhow::anyhow!("writing packets: {e}")));
    }

    if let Some(e) = &outcome.first_filter_error {
        eprintln!(
            "wirescope: {} packets skipped by the filter: {e}",
            outcome.filter_errors
        );
    }
    if outcome.skipped_link_mismatch > 0 {
        eprintln!(
            "wirescope: {} packets not written: their link type differs from the output file's",
            outcome.skipped_link_mismatch
        );
    }
    for e in &outcome.read_errors {
        eprintln!("wirescope: {e}");
    }
    if let (Some(p), Some(det)) = (&args.propose_allow, &detection) {
        std::fs::write(p, proposed_allow_list(det.alerts()))
            .with_context(|| format!("cannot write {}", p.display()))
            .map_err(Failure::Output)?;
    }
    let alerted = detection.as_ref().is_some_and(|d| !d.alerts().is_empty());
    Ok(if !outcome.read_errors.is_empty() {
        ExitCode::from(1)
    } else if args.fail_on_alert && alerted {
        ExitCode::from(4)
    } else {
        ExitCode::SUCCESS
    })
}

/// Closes the EVE and Zeek outputs and prints the summary (`--json` or the terminal one).
fn finish_outputs(
    args: &Args,
    report: &wirescope_engine::Report,
    sinks: &mut Sinks,
    detection: Option<&Detection>,
) -> Result<(), Failure> {
    if let Some(e) = sinks.eve.take() {
        let mut e = e;
        e.write_stats(report, engine_last_ts(report));
        e.finish()
            .context("writing EVE output")
            .map_err(Failure::Output)?;
    }
    if let Some(z) = sinks.zeek.take() {
        z.finish(engine_last_ts(report))
            .context("writing conn.log")
            .map_err(Failure::Output)?;
    }
    if let Some(z) = sinks.zeek_app.take() {
        z.finish(engine_last_ts(report))
            .context("writing Zeek application logs")
            .map_err(Failure::Output)?;
    }

    let stdout = io::stdout();
    let mut out = io::BufWriter::new(stdout.lock());
    let printed = if args.json {
        let v = JsonOut {
            report,
            alerts: detection.map(|d| d.alerts()),
            detection: detection.map(|det| {
                serde_json::json!({
                    "manager": det.manager().stats,
                    "detectors": det.detector_stats().into_iter()
                        .map(|(id, s)| (id.as_str().to_string(), serde_json::json!(s)))
                        .collect::<serde_json::Map<_, _>>(),
                })
            }),
        };
        serde_json::to_writer_pretty(&mut out, &v)
            .map_err(io::Error::from)
            .and_then(|()| writeln!(out))
    } else if !args.quiet {
        let mut text = terminal::render(report);
        if let Some(det) = &detection {
            text.push_str(&terminal::render_alerts(
                det.alerts(),
                &det.manager().stats,
                &det.detector_stats(),
            ));
        }
        out.write_all(text.as_bytes())
    } else {
        Ok(())
    };
    printed
        .and_then(|()| out.flush())
        .context("writing to stdout")
        .map_err(Failure::Output)?;

    Ok(())
}

fn engine_last_ts(r: &wirescope_engine::Report) -> Option<wirescope_core::Timestamp> {
    r.last_ts.as_ref()?;
    Some(wirescope_core::Timestamp::from_secs_f64(
        r.timeseries.start_epoch as f64 + r.duration_s,
    ))
}

/// Learning mode: one `[[alerts.allow]]` entry per (detector, alerting address) of the run,
/// the source when the alert has one, else the target.
fn proposed_allow_list(alerts: &[Alert]) -> String {
    let mut seen = std::collections::BTreeSet::new();
    for a in alerts {
        let (ip, side) = match (a.src, a.dst) {
            (Some(s), _) => (s.ip, "src"),
            (None, Some(d)) => (d.ip, "dst"),
            (None, None) => continue,
        };
        seen.insert((a.detector.as_str(), ip, side, a.signature.clone()));
    }
    let mut out = String::from(
        "# Proposed by `wirescope --propose-allow`: every alert of a run on traffic taken as clean.\n\
         # Review each entry before adding it to the configuration given with --config.\n",
    );
    for (det, ip, side, sig) in seen {
        let _ = std::fmt::Write::write_fmt(
            &mut out,
            format_args!(
                "\n# {sig}\n[[alerts.allow]]\ncidr = \"{ip}\"\nside = \"{side}\"\ndetector = \"{det}\"\n"
            ),
        );
    }
    out
}
