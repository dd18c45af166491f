//! Live capture from the command line: `-D`, `-i`, privilege drop, signals, the live view and
//! periodic EVE `stats` events. The capture threads and the queue are the engine's
//! ([`wirescope_engine::live`]); this module composes them with the sinks and the detection.

use std::io::{self, IsTerminal, Write};
use std::process::ExitCode;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant, SystemTime};

use anyhow::{anyhow, Context};
use wirescope_capture::{list_interfaces, LiveCapture, LiveOptions};
use wirescope_core::Timestamp;
use wirescope_detect::{Detecting, Detection};
use wirescope_engine::live::{self, CaptureHealth, FrameWriter, LiveRunOptions};
use wirescope_engine::shard::Analyzer;
use wirescope_engine::Sink;
use wirescope_output::terminal;

use crate::args::Args;
use crate::{build_sinks, detect_config, engine_config, finish_outputs, Failure, Sinks};

/// `-D`: one line per interface, numbered as tcpdump numbers them, with state and addresses.
pub fn print_interfaces() -> Result<ExitCode, Failure> {
    let list = list_interfaces().map_err(|e| Failure::Usage(e.into()))?;
    let mut out = String::new();
    for (n, i) in list.iter().enumerate() {
        let addrs: Vec<String> = i
            .addresses
            .iter()
            .map(|(a, m)| match m.and_then(prefix_len) {
                Some(p) => format!("{a}/{p}"),
                None => a.to_string(),
            })
            .collect();
        let desc = i
            .description
            .as_deref()
            .map(|d| format!(" ({d})"))
            .unwrap_or_default();
        out.push_str(&format!(
            "{}.{}{} [{}]{}{}\n",
            n + 1,
            i.name,
            desc,
            i.state(),
            if addrs.is_empty() { "" } else { " " },
            addrs.join(" ")
        ));
    }
    io::stdout()
        .write_all(out.as_bytes())
        .context("writing to stdout")
        .map_err(Failure::Output)?;
    Ok(ExitCode::SUCCESS)
}

/// The prefix length of a contiguous netmask.
fn prefix_len(mask: std::net::IpAddr) -> Option<u32> {
    let (ones, bits, total) = match mask {
        std::net::IpAddr::V4(m) => {
            let v = u32::from(m);
            (v.count_ones(), v.leading_ones(), 32)
        }
        std::net::IpAddr::V6(m) => {
            let v = u128::from(m);
            (v.count_ones(), v.leading_ones(), 128)
        }
    };
    (ones == bits && bits <= total).then_some(bits)
}

/// Switches to `user`'s uid, gid and supplementary groups (tcpdump's -Z), and checks that
/// root cannot be regained.
fn drop_privileges(user: &str) -> anyhow::Result<()> {
    use nix::unistd::{initgroups, setgid, setuid, User};
    let u = User::from_name(user)
        .with_context(|| format!("-Z {user}: cannot look the user up"))?
        .ok_or_else(|| anyhow!("-Z {user}: no such user"))?;
    let name = std::ffi::CString::new(user).map_err(|_| anyhow!("-Z {user}: bad user name"))?;
    initgroups(&name, u.gid).with_context(|| format!("-Z {user}: cannot set groups"))?;
    setgid(u.gid).with_context(|| format!("-Z {user}: cannot set gid {}", u.gid))?;
    setuid(u.uid).with_context(|| format!("-Z {user}: cannot set uid {}", u.uid))?;
    if !u.uid.is_root() && setuid(nix::unistd::Uid::from_raw(0)).is_ok() {
        return Err(anyhow!("-Z {user}: root privileges could be regained"));
    }
    Ok(())
}

/// Access to the detection and the sinks behind the engine's sink, for the once-a-second hook.
trait Parts: Sink {
    fn parts(&mut self) -> (Option<&mut Detection>, &mut Sinks);
}

impl Parts for Sinks {
    fn parts(&mut self) -> (Option<&mut Detection>, &mut Sinks) {
        (None, self)
    }
}

impl Parts for Detecting<'_, Sinks> {
    fn parts(&mut self) -> (Option<&mut Detection>, &mut Sinks) {
        (Some(&mut *self.det), &mut *self.inner)
    }
}

/// `-i`: captures until SIGINT/SIGTERM (or `-c`), then prints the summary.
pub fn run(args: &Args, mut detection: Option<Detection>) -> Result<ExitCode, Failure> {
    let filter = args.filter_expression().map_err(Failure::Usage)?;
    let opts = LiveOptions {
        snaplen: args.snaplen,
        promisc: !args.no_promisc,
        buffer_bytes: args.buffer_kib.map(|k| k.saturating_mul(1024)),
        immediate: args.immediate,
        timeout_ms: 100,
        filter: filter.clone(),
    };
    let mut captures = Vec::with_capacity(args.interface.len());
    for (n, name) in args.interface.iter().enumerate() {
        let c = LiveCapture::open(name, n as u32, &opts).map_err(|e| Failure::Usage(e.into()))?;
        captures.push(c);
    }
    let link = captures
        .first()
        .map(|c| c.link_type())
        .unwrap_or(wirescope_core::LinkType::ETHERNET);
    let writer: Option<Box<dyn FrameWriter>> = args
        .open_writer(link)
        .map_err(Failure::Output)?
        .map(|w| Box::new(w) as Box<dyn FrameWriter>);
    // Outputs are opened as the starting user, like the capture handles.
    let mut sinks = build_sinks(args)?;
    if let Some(u) = &args.user {
        drop_privileges(u).map_err(Failure::Usage)?;
    }

    // SIGINT/SIGTERM: stop and drain; a second one exits at once (status 130) should the
    // drain hang. SIGHUP: reload the detection configuration.
    let stop = Arc::new(AtomicBool::new(false));
    let hup = Arc::new(AtomicBool::new(false));
    let signals = || -> io::Result<()> {
        use signal_hook::consts::{SIGHUP, SIGINT, SIGTERM};
        for sig in [SIGINT, SIGTERM] {
            signal_hook::flag::register_conditional_shutdown(sig, 130, Arc::clone(&stop))?;
            signal_hook::flag::register(sig, Arc::clone(&stop))?;
        }
        signal_hook::flag::register(SIGHUP, Arc::clone(&hup))?;
        Ok(())
    };
    signals()
        .context("cannot install signal handlers")
        .map_err(Failure::Usage)?;

    let view = !args.no_live_view
        && !args.quiet
        && !args.json
        && (args.live_view || io::stderr().is_terminal());
    // The view lists the latest alerts itself; separate ALERT lines would tear it.
    if view {
        sinks.live_alerts = false;
    }
    let workers = args.workers.map_or_else(
        || std::thread::available_parallelism().map_or(1, |n| n.get()),
        usize::from,
    );
    let engine = Analyzer::new(engine_config(args), workers)
        .map_err(|e| Failure::Output(anyhow!("cannot start {workers} worker threads: {e}")))?;
    let run_opts = LiveRunOptions {
        stop: Arc::clone(&stop),
        max_packets: args.count,
        queue_batches: args.queue_batches,
        writer,
    };
    let mut hook = Hook {
        args,
        view,
        tty: io::stderr().is_terminal(),
        hup,
        last_stats: Instant::now(),
        prev: (0, 0, Instant::now()),
        drawn_lines: 0,
    };
    if !args.quiet {
        eprintln!(
            "wirescope: capturing on {}{}; Ctrl-C to stop",
            args.interface.join(", "),
            filter.map(|f| format!(" ({f})")).unwrap_or_default()
        );
    }
    let (report, outcome) = match detection.as_mut() {
        Some(det) => {
            let mut d = Detecting {
                det,
                inner: &mut sinks,
            };
            let r = live::run_live(captures, engine, run_opts, &mut d, |e, h, s| {
                hook.second(e, h, s)
            });
            d.finish();
            r
        }
        None => live::run_live(captures, engine, run_opts, &mut sinks, |e, h, s| {
            hook.second(e, h, s)
        }),
    };
    if view && hook.tty {
        // Leave the last view on screen, then the summary below it.
        eprintln!();
    }
    finish_outputs(args, &report, &mut sinks, detection.as_ref())?;
    if let Some(e) = &outcome.write_error {
        return Err(Failure::Output(anyhow!("writing packets: {e}")));
    }
    if outcome.skipped_link_mismatch > 0 {
        eprintln!(
            "wirescope: {} packets not written: their link type differs from the output file's",
            outcome.skipped_link_mismatch
        );
    }
    for e in &outcome.health.errors {
        eprintln!("wirescope: capture stopped: {e}");
    }
    if !outcome.health.lossless() && !args.quiet {
        let h = &outcome.health;
        eprintln!(
            "wirescope: {} packets dropped by the kernel, {} by the interface, {} by the queue",
            h.kernel_dropped, h.interface_dropped, h.queue_dropped
        );
    }
    let alerted = detection.as_ref().is_some_and(|d| !d.alerts().is_empty());
    Ok(if !outcome.health.errors.is_empty() {
        ExitCode::from(1)
    } else if args.fail_on_alert && alerted {
        ExitCode::from(4)
    } else {
        ExitCode::SUCCESS
    })
}

/// State of the once-a-second hook.
struct Hook<'a> {
    args: &'a Args,
    view: bool,
    tty: bool,
    hup: Arc<AtomicBool>,
    last_stats: Instant,
    /// (packets, bytes, when) at the previous view, for rates.
    prev: (u64, u64, Instant),
    drawn_lines: usize,
}

impl Hook<'_> {
    fn second<S: Parts>(&mut self, engine: &mut Analyzer, health: &CaptureHealth, s: &mut S) {
        let (mut det, sinks) = s.parts();
        if self.hup.swap(false, Ordering::Relaxed) {
            self.reload(det.as_deref_mut());
        }
        let interval = self.args.stats_interval;
        let stats_due = interval > 0
            && sinks.eve.is_some()
            && self.last_stats.elapsed() >= Duration::from_secs(interval);
        if !stats_due && !self.view {
            return;
        }
        // Walks the flow table: only when something shows it.
        let snap = engine.snapshot(5);
        if stats_due {
            self.last_stats = Instant::now();
            if let Some(eve) = sinks.eve.as_mut() {
                eve.write_live_stats(wall_clock(), health, &snap);
            }
        }
        if self.view {
            let alerts = det.as_ref().map(|d| d.alerts()).unwrap_or(&[]);
            let text = self.render(&snap, health, alerts);
            let mut err = io::stderr().lock();
            if self.tty && self.drawn_lines > 0 {
                // Up to the first line of the previous view, and clear to the end.
                let _ = write!(err, "\x1b[{}F\x1b[J", self.drawn_lines);
            }
            let _ = err.write_all(text.as_bytes());
            let _ = err.flush();
            self.drawn_lines = text.lines().count();
        }
    }

    fn reload(&self, det: Option<&mut Detection>) {
        let Some(det) = det else {
            eprintln!("wirescope: SIGHUP: detection is off (--no-detect); nothing to reload");
            return;
        };
        match detect_config(self.args).and_then(|cfg| det.reload(&cfg).map_err(anyhow::Error::from))
        {
            Ok(()) => eprintln!("wirescope: SIGHUP: detection configuration reloaded"),
            Err(e) => eprintln!("wirescope: SIGHUP: reload failed, configuration unchanged: {e:#}"),
        }
    }

    /// The live view: rates since the last view, totals, drops, top talkers, latest alerts.
    fn render(
        &mut self,
        snap: &wirescope_engine::Snapshot,
        h: &CaptureHealth,
        alerts: &[wirescope_detect::Alert],
    ) -> String {
        let now = Instant::now();
        let dt = now.duration_since(self.prev.2).as_secs_f64().max(1e-3);
        let pps = snap.packets.saturating_sub(self.prev.0) as f64 / dt;
        let bps = snap.bytes.saturating_sub(self.prev.1) as f64 * 8.0 / dt;
        self.prev = (snap.packets, snap.bytes, now);
        let mut out = String::new();
        out.push_str(&format!(
            "── wirescope live: {}   {:.0} s ──\n",
            self.args.interface.join(", "),
            h.elapsed_s
        ));
        out.push_str(&format!(
            "  rate     {pps:.0} pkt/s   {}   packets {}   bytes {}   flows {}\n",
            human_bits(bps),
            snap.packets,
            terminal::human_bytes(snap.bytes),
            snap.active_flows
        ));
        out.push_str(&format!(
            "  drops    kernel {}   interface {}   queue {}   (kernel received {})\n",
            h.kernel_dropped, h.interface_dropped, h.queue_dropped, h.kernel_received
        ));
        out.push_str("  top talkers\n");
        for (ip, bytes, pkts) in &snap.top {
            out.push_str(&format!(
                "    {:<40} {:>10} {:>10} pkts\n",
                ip.to_string(),
                terminal::human_bytes(*bytes),
                pkts
            ));
        }
        out.push_str(&format!("  alerts   {}\n", alerts.len()));
        let start = alerts.len().saturating_sub(5);
        for a in &alerts[start..] {
            out.push_str(&format!("    {}\n", terminal::alert_line(a)));
        }
        out
    }
}

fn human_bits(bps: f64) -> String {
    match bps {
        b if b >= 1e9 => format!("{:.2} Gbit/s", b / 1e9),
        b if b >= 1e6 => format!("{:.2} Mbit/s", b / 1e6),
        b if b >= 1e3 => format!("{:.1} kbit/s", b / 1e3),
        b => format!("{b:.0} bit/s"),
    }
}

/// The wall clock, for stats events of a live capture (when the counters were read).
fn wall_clock() -> Timestamp {
    let d = SystemTime::now()
        .duration_since(SystemTime::UNIX_EPOCH)
        .unwrap_or_default();
    Timestamp::from_secs_nanos(
        i64::try_from(d.as_secs()).unwrap_or(i64::MAX),
        d.subsec_nanos(),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn prefix_lengths() {
        assert_eq!(
            prefix_len(std::net::IpAddr::from([255, 255, 255, 0])),
            Some(24)
        );
        assert_eq!(prefix_len(std::net::IpAddr::from([255, 0, 255, 0])), None);
        assert_eq!(prefix_len(std::net::IpAddr::from([0u16; 8])), Some(0));
    }

    #[test]
    fn bit_rates_read_naturally() {
        assert_eq!(human_bits(12_345_678.0), "12.35 Mbit/s");
        assert_eq!(human_bits(999.0), "999 bit/s");
    }
}
