//! Live capture, end to end: captures from `../shared/corpus` and fresh lab scenarios are
//! replayed with `tcpreplay` onto a veth pair inside a network namespace made by the test, and
//! `wirescope -i` must report the same packets, flows and alerts as `wirescope -r` on the same
//! file whenever the kernel reported no drops. Also: each error message of live capture,
//! SIGINT drain, SIGHUP reload, `-Z`, periodic `stats` events and the live view.
//!
//! Needs root (namespaces, packet sockets) and `tcpreplay`; `.ci/run` runs it as root. Set
//! `WIRESCOPE_NO_LIVE=1` to leave it out on a workstation: it is never skipped silently.
//!
//! Lab rules (DEVELOPERS.md): both veth ends live in a namespace made here, nothing is attached
//! to or routed toward the host's interfaces, every replay is bounded, and the namespace and
//! processes are removed by name and PID when the test ends.
#![allow(clippy::unwrap_used)]

use std::collections::BTreeSet;
use std::io::{BufRead, BufReader, Write};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::mpsc;
use std::time::{Duration, Instant};
use wirescope_testkit::corpus::{self, repo_root};

use serde_json::Value;

fn bin() -> &'static str {
    env!("CARGO_BIN_EXE_wirescope")
}

/// False (with a loud message) only when WIRESCOPE_NO_LIVE is set; otherwise root and
/// tcpreplay are required.
fn live_enabled() -> bool {
    if std::env::var_os("WIRESCOPE_NO_LIVE").is_some() {
        eprintln!("WIRESCOPE_NO_LIVE is set: the live capture tests were NOT run");
        return false;
    }
    let uid = Command::new("id").arg("-u").output().unwrap();
    assert_eq!(
        String::from_utf8_lossy(&uid.stdout).trim(),
        "0",
        "live capture tests need root (network namespaces); run as root or set WIRESCOPE_NO_LIVE=1"
    );
    let st = Command::new("tcpreplay").arg("--version").output();
    assert!(
        st.is_ok_and(|o| o.status.success()),
        "tcpreplay is missing (scripts/setup --test installs it)"
    );
    true
}

fn tmpdir(tag: &str) -> PathBuf {
    let d = std::env::temp_dir().join(format!("wirescope-live-{tag}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&d);
    std::fs::create_dir_all(&d).unwrap();
    d
}

fn sh(cmd: &mut Command) {
    let out = cmd.output().unwrap();
    assert!(
        out.status.success(),
        "{cmd:?} failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
}

/// A network namespace with a veth pair `va` ↔ `vb`, both ends inside it, IPv6 off (so the
/// kernel adds no packets of its own), MTU 9000, up. Removed on drop.
struct Netns {
    name: String,
}

impl Netns {
    fn new(tag: &str) -> Netns {
        let name = format!("wslive-{tag}-{}", std::process::id());
        let _ = Command::new("ip").args(["netns", "del", &name]).output();
        sh(Command::new("ip").args(["netns", "add", &name]));
        let ns = Netns { name };
        sh(Command::new("ip").args([
            "-n", &ns.name, "link", "add", "va", "type", "veth", "peer", "name", "vb",
        ]));
        for i in ["va", "vb"] {
            sh(ns
                .cmd("sysctl")
                .args(["-qw", &format!("net.ipv6.conf.{i}.disable_ipv6=1")]));
            sh(Command::new("ip").args(["-n", &ns.name, "link", "set", i, "mtu", "9000", "up"]));
        }
        ns
    }

    /// `program` run inside the namespace.
    fn cmd(&self, program: &str) -> Command {
        let mut c = Command::new("ip");
        c.args(["netns", "exec", &self.name, program]);
        c
    }

    /// Replays `pcap` on `va` at its recorded speed, preloaded into memory for steadier
    /// timing, bounded by `timeout` (a loaded machine replays slower than recorded).
    fn replay(&self, pcap: &Path, secs: u64) {
        let out = self
            .cmd("timeout")
            .arg(secs.to_string())
            .args(["tcpreplay", "-q", "-K", "-i", "va"])
            .arg(pcap)
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "tcpreplay {} ({}): {}{}",
            pcap.display(),
            out.status,
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
    }
}

impl Drop for Netns {
    fn drop(&mut self) {
        let _ = Command::new("ip")
            .args(["netns", "del", &self.name])
            .output();
    }
}

/// A running `wirescope -i`, with its stderr read line by line.
struct Live {
    child: Child,
    lines: mpsc::Receiver<String>,
    stderr: Vec<String>,
}

impl Live {
    fn start(ns: &Netns, args: &[&str]) -> Live {
        let mut child = ns
            .cmd(bin())
            .args(args)
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        let err = child.stderr.take().unwrap();
        let (tx, rx) = mpsc::channel();
        std::thread::spawn(move || {
            for l in BufReader::new(err).lines().map_while(Result::ok) {
                if tx.send(l).is_err() {
                    break;
                }
            }
        });
        let mut l = Live {
            child,
            lines: rx,
            stderr: Vec::new(),
        };
        l.wait_for("capturing on", Duration::from_secs(20));
        l
    }

    /// Waits for a stderr line containing `needle`.
    fn wait_for(&mut self, needle: &str, limit: Duration) -> String {
        let end = Instant::now() + limit;
        loop {
            let left = end.saturating_duration_since(Instant::now());
            match self.lines.recv_timeout(left) {
                Ok(l) => {
                    self.stderr.push(l.clone());
                    if l.contains(needle) {
                        return l;
                    }
                }
                Err(_) => panic!("no {needle:?} on stderr in {limit:?}: {:?}", self.stderr),
            }
        }
    }

    fn signal(&self, sig: &str) {
        sh(Command::new("kill")
            .args([sig, &self.child.id().to_string()])
            .stdout(Stdio::null()));
    }

    /// Waits for exit (SIGINT after `limit`); returns (status code, stdout, stderr lines).
    fn finish(mut self, limit: Duration) -> (i32, String, Vec<String>) {
        let end = Instant::now() + limit;
        let mut interrupted = false;
        loop {
            if let Some(st) = self.child.try_wait().unwrap() {
                let mut out = String::new();
                std::io::Read::read_to_string(self.child.stdout.as_mut().unwrap(), &mut out)
                    .unwrap();
                while let Ok(l) = self.lines.recv_timeout(Duration::from_millis(200)) {
                    self.stderr.push(l);
                }
                return (
                    st.code().unwrap_or(-1),
                    out,
                    std::mem::take(&mut self.stderr),
                );
            }
            if Instant::now() > end && !interrupted {
                self.signal("-INT");
                interrupted = true;
            }
            if Instant::now() > end + Duration::from_secs(20) {
                let _ = self.child.kill();
                panic!("wirescope did not stop after SIGINT: {:?}", self.stderr);
            }
            std::thread::sleep(Duration::from_millis(50));
        }
    }
}

impl Drop for Live {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// What must agree between `-r` and `-i`.
#[derive(Debug, PartialEq, Eq)]
struct Summary {
    packets: u64,
    /// (proto, src, sport, dst, dport, pkts to server, pkts to client, app proto), sorted.
    flows: Vec<String>,
    /// (detector, kind, src, dst).
    alerts: BTreeSet<String>,
}

fn summarize(json: &str, eve: &Path) -> Summary {
    let v: Value = serde_json::from_str(json).unwrap();
    let flows = std::fs::read_to_string(eve)
        .unwrap()
        .lines()
        .map(|l| serde_json::from_str::<Value>(l).unwrap())
        .filter(|e| e["event_type"] == "flow")
        .map(|e| {
            format!(
                "{} {}:{} > {}:{} {}/{} {}",
                e["proto"],
                e["src_ip"],
                e["src_port"],
                e["dest_ip"],
                e["dest_port"],
                e["flow"]["pkts_toserver"],
                e["flow"]["pkts_toclient"],
                e["app_proto"]
            )
        })
        .collect::<Vec<_>>();
    let mut flows = flows;
    flows.sort();
    let alerts = v["alerts"]
        .as_array()
        .unwrap()
        .iter()
        .map(|a| {
            format!(
                "{} {} {} {}",
                a["detector"], a["kind"], a["src"]["ip"], a["dst"]["ip"]
            )
        })
        .collect();
    Summary {
        packets: v["packets"].as_u64().unwrap(),
        flows,
        alerts,
    }
}

fn read_file(pcap: &Path, dir: &Path) -> Summary {
    let eve = dir.join("file.eve.json");
    let out = Command::new(bin())
        .arg("-r")
        .arg(pcap)
        .args(["--json", "-q", "--eve"])
        .arg(&eve)
        .output()
        .unwrap();
    assert!(out.status.success(), "-r {}", pcap.display());
    summarize(&String::from_utf8_lossy(&out.stdout), &eve)
}

/// Replays `pcap` and captures it live with `-c` = its packet count and `--workers`.
/// Returns the summary and the capture health object.
fn capture_replay(
    ns: &Netns,
    pcap: &Path,
    packets: u64,
    secs: u64,
    workers: u16,
    dir: &Path,
) -> (Summary, Value) {
    let eve = dir.join("live.eve.json");
    let count = packets.to_string();
    let workers = workers.to_string();
    let live = Live::start(
        ns,
        &[
            "-i",
            "vb",
            "-c",
            &count,
            "--workers",
            &workers,
            "--json",
            "--no-live-view",
            "--eve",
            eve.to_str().unwrap(),
        ],
    );
    ns.replay(pcap, secs * 8 + 30);
    let (code, out, err) = live.finish(Duration::from_secs(5));
    assert_eq!(code, 0, "wirescope -i: {err:?}");
    let v: Value = serde_json::from_str(&out).unwrap();
    (summarize(&out, &eve), v["capture"].clone())
}

/// Corpus captures (Ethernet, a few seconds long, so a replay at recorded speed is quick) and
/// lab scenarios made now.
fn replay_set(dir: &Path) -> Vec<(String, PathBuf)> {
    let c = corpus::dir();
    let mut set: Vec<(String, PathBuf)> = [
        "attacks/lucaderi-sgr/2011-2020/2020/BoschiCarliPetri/portScan_1_to_10000.pcapng",
        "attacks/lucaderi-sgr/2022/Favilli/tests/hs-arpScan.pcap",
        "attacks/lucaderi-sgr/2022/Favilli/tests/hs-icmpScan.pcap",
        "attacks/lucaderi-sgr/2022/Favilli/tests/hs-tcp_synPingSweepRand.pcapng",
        "attacks/chrissanders-packets/dns_isp_hijack.pcapng",
        "attacks/chrissanders-packets/http_espn.pcapng",
    ]
    .iter()
    .map(|p| {
        let f = c.join(p);
        assert!(f.exists(), "corpus file missing: {}", f.display());
        (p.to_string(), f)
    })
    .collect();
    let lab = dir.join("lab");
    for sc in ["nmap_syn", "benign_web", "syn_flood"] {
        let out = Command::new(repo_root().join("lab/run.sh"))
            .args([sc, lab.to_str().unwrap()])
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "lab/run.sh {sc}: {}{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
        set.push((format!("lab:{sc}"), lab.join(format!("{sc}.pcap"))));
    }
    set
}

#[test]
fn replayed_captures_give_the_same_results_as_reading_the_file() {
    if !live_enabled() {
        return;
    }
    let dir = tmpdir("replay");
    let set = replay_set(&dir);
    let ns = Netns::new("replay");
    let mut lossless = 0;
    let mut alerting = 0;
    let mut report = String::from("| capture | workers | packets | flows | alerts | kernel drops | queue drops | equal |\n|---|---|---|---|---|---|---|---|\n");
    for (i, (name, pcap)) in set.iter().enumerate() {
        // Every other capture with 3 workers (sharded), the rest with one engine; the file is
        // always read with one.
        let workers = if i % 2 == 0 { 3 } else { 1 };
        let file = read_file(pcap, &dir);
        let secs = Command::new(bin())
            .arg("-r")
            .arg(pcap)
            .args(["--json", "-q", "--no-detect", "--no-app"])
            .output()
            .map(|o| {
                let v: Value = serde_json::from_slice(&o.stdout).unwrap();
                v["duration_s"].as_f64().unwrap().ceil() as u64
            })
            .unwrap();
        let (live, health) = capture_replay(&ns, pcap, file.packets, secs, workers, &dir);
        let drops = health["kernel_dropped"].as_u64().unwrap()
            + health["interface_dropped"].as_u64().unwrap();
        let qdrops = health["queue_dropped"].as_u64().unwrap();
        let clean = drops == 0 && qdrops == 0;
        report.push_str(&format!(
            "| {name} | {workers} | {} / {} | {} / {} | {} / {} | {drops} | {qdrops} | {} |\n",
            live.packets,
            file.packets,
            live.flows.len(),
            file.flows.len(),
            live.alerts.len(),
            file.alerts.len(),
            if clean {
                (live == file).to_string()
            } else {
                "lossy".into()
            }
        ));
        alerting += usize::from(!file.alerts.is_empty());
        if clean {
            lossless += 1;
            assert_eq!(live.packets, file.packets, "{name}: packets");
            let (l, f): (BTreeSet<_>, BTreeSet<_>) =
                (live.flows.iter().collect(), file.flows.iter().collect());
            let only_live: Vec<_> = l.difference(&f).take(5).collect();
            let only_file: Vec<_> = f.difference(&l).take(5).collect();
            assert!(
                live.flows == file.flows,
                "{name}: flows differ ({} live, {} file): live only {only_live:?}, file only {only_file:?}",
                live.flows.len(),
                file.flows.len()
            );
            assert_eq!(live.alerts, file.alerts, "{name}: alerts");
        } else {
            // Loss is reported, never hidden: what was read plus what was dropped covers the file.
            assert!(
                health["captured"].as_u64().unwrap() + drops >= file.packets,
                "{name}: drops do not account for the missing packets: {health}"
            );
        }
    }
    eprintln!("{report}");
    let _ = std::fs::create_dir_all(repo_root().join("target"));
    let _ = std::fs::write(repo_root().join("target/live-replay.md"), &report);
    assert!(
        lossless + 1 >= set.len(),
        "more than one capture lost packets on replay; equality was checked on {lossless} of {}:\n{report}",
        set.len()
    );
    // The replays must include alerting traffic, or alert equality proves little.
    assert!(alerting >= 5, "only {alerting} replays raise alerts");
    let _ = std::fs::remove_dir_all(&dir);
}

/// Runs `wirescope ARGS` in the namespace (or outside with `ns` None) and returns (code, stderr).
fn run(ns: Option<&Netns>, args: &[&str]) -> (i32, String) {
    let mut c = match ns {
        Some(n) => n.cmd(bin()),
        None => Command::new(bin()),
    };
    let out = c.args(args).output().unwrap();
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

#[test]
fn open_errors_are_one_clear_line() {
    // No root needed: the interface does not exist.
    let (code, err) = run(None, &["-i", "nosuch0"]);
    assert_eq!(code, 2, "{err}");
    assert_eq!(
        err.trim(),
        "wirescope: nosuch0: no such interface (`wirescope -D` lists the interfaces)"
    );
    if !live_enabled() {
        return;
    }
    let ns = Netns::new("errors");
    // A bad filter is shown with libpcap's message.
    let (code, err) = run(Some(&ns), &["-i", "vb", "tcp", "prt", "80"]);
    assert_eq!(code, 2, "{err}");
    assert!(
        err.starts_with("wirescope: bad filter \"tcp prt 80\": ") && err.lines().count() == 1,
        "{err}"
    );
    // An interface that is down.
    sh(Command::new("ip").args([
        "-n", &ns.name, "link", "add", "vd", "type", "veth", "peer", "name", "ve",
    ]));
    let (code, err) = run(Some(&ns), &["-i", "vd"]);
    assert_eq!(code, 2, "{err}");
    assert_eq!(
        err.trim(),
        "wirescope: vd: interface is down (bring it up with `ip link set vd up`)"
    );
    // No permission: as nobody without capabilities, the missing ones are named.
    let as_nobody = |extra: &[&str]| {
        let mut c = ns.cmd("setpriv");
        c.args([
            "--reuid=nobody",
            "--regid=nogroup",
            "--clear-groups",
            "--inh-caps=-all",
            "--bounding-set=-all",
            bin(),
            "-i",
            "vb",
        ]);
        c.args(extra);
        let out = c.output().unwrap();
        (
            out.status.code().unwrap_or(-1),
            String::from_utf8_lossy(&out.stderr).into_owned(),
        )
    };
    let (code, err) = as_nobody(&[]);
    assert_eq!(code, 2, "{err}");
    assert!(
        err.contains("vb: permission denied: capturing needs CAP_NET_RAW and CAP_NET_ADMIN"),
        "{err}"
    );
    let (_, err) = as_nobody(&["-p"]);
    assert!(
        err.contains("capturing needs CAP_NET_RAW (") && !err.contains("CAP_NET_ADMIN"),
        "without promiscuous mode only CAP_NET_RAW is needed: {err}"
    );
}

#[test]
fn interfaces_are_listed_with_state_and_addresses() {
    if !live_enabled() {
        return;
    }
    let ns = Netns::new("list");
    sh(Command::new("ip").args(["-n", &ns.name, "addr", "add", "198.18.7.1/24", "dev", "va"]));
    let out = ns.cmd(bin()).arg("-D").output().unwrap();
    assert!(out.status.success());
    let text = String::from_utf8_lossy(&out.stdout);
    let va = text
        .lines()
        .find(|l| l.contains(".va "))
        .unwrap_or_else(|| panic!("va not listed: {text}"));
    assert!(
        va.contains("[Up, Running]") && va.contains("198.18.7.1/24"),
        "{va}"
    );
    assert!(text.lines().any(|l| l.contains(".any ")), "{text}");
}

/// SIGINT: capture stops, the queue drains, every output is flushed, the summary printed, 0.
/// Also: periodic `stats` events with the capture counters, `-Z`, and the live view.
#[test]
fn sigint_drains_and_flushes_with_privileges_dropped() {
    if !live_enabled() {
        return;
    }
    let dir = tmpdir("sigint");
    // Files opened after -Z (rotations, Zeek logs created on first use) are created as nobody.
    sh(Command::new("chmod").arg("1777").arg(&dir));
    let ns = Netns::new("sigint");
    let pcap = corpus::dir().join("attacks/lucaderi-sgr/2022/Favilli/tests/hs-icmpScan.pcap");
    let file = read_file(&pcap, &dir);
    let eve = dir.join("eve.json");
    let pcap_out = dir.join("out.pcap");
    let zeek = dir.join("zeek");
    // The -w file is created before -Z; the EVE file too (outputs open as root).
    let mut live = Live::start(
        &ns,
        &[
            "-i",
            "vb",
            // Sharded: the live view and periodic stats read the shards' open flows.
            "--workers",
            "2",
            "-Z",
            "nobody",
            "--stats-interval",
            "1",
            "--live-view",
            "--eve",
            eve.to_str().unwrap(),
            "-w",
            pcap_out.to_str().unwrap(),
            "--zeek-dir",
            zeek.to_str().unwrap(),
        ],
    );
    let status = std::fs::read_to_string(format!("/proc/{}/status", live.child.id())).unwrap();
    let nobody = Command::new("id").args(["-u", "nobody"]).output().unwrap();
    let nobody = String::from_utf8_lossy(&nobody.stdout).trim().to_string();
    let uid_line = status.lines().find(|l| l.starts_with("Uid:")).unwrap();
    assert!(
        uid_line.split_whitespace().skip(1).all(|u| u == nobody),
        "-Z nobody: {uid_line}"
    );
    ns.replay(&pcap, 30);
    // The live view draws at least once a second with the talkers of the replay.
    live.wait_for("top talkers", Duration::from_secs(5));
    live.wait_for("top talkers", Duration::from_secs(5));
    std::thread::sleep(Duration::from_millis(1500));
    live.signal("-INT");
    let (code, out, err) = live.finish(Duration::from_secs(20));
    assert_eq!(code, 0, "{err:?}");
    assert!(out.contains("wirescope summary"), "no summary: {out}");
    assert!(out.contains("capture  vb: "), "no capture line: {out}");
    // A talker row (address, bytes, "pkts") for the scanner, whose flows are still open in
    // the shards: the view shows open flows, not only finished ones.
    assert!(
        err.iter()
            .any(|l| l.trim_start().starts_with("10.0.0.128 ") && l.ends_with(" pkts")),
        "{err:?}"
    );
    assert!(
        err.iter()
            .any(|l| l.contains("flows ") && !l.trim_end().ends_with("flows 0")),
        "open flows in the view: {err:?}"
    );
    assert!(
        err.iter().any(|l| l.contains("host_sweep")),
        "alerts in the view: {err:?}"
    );
    // Everything was flushed: the EVE file has every flow, the stats events carry the capture
    // counters, the pcap has every packet, conn.log exists.
    let events: Vec<Value> = std::fs::read_to_string(&eve)
        .unwrap()
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    let flows = events.iter().filter(|e| e["event_type"] == "flow").count();
    let file_flows = std::fs::read_to_string(dir.join("file.eve.json"))
        .unwrap()
        .lines()
        .filter(|l| l.contains("\"event_type\":\"flow\""))
        .count();
    assert!(file_flows > 100, "{file_flows}");
    assert_eq!(flows, file_flows);
    let stats: Vec<&Value> = events
        .iter()
        .filter(|e| e["event_type"] == "stats")
        .collect();
    assert!(stats.len() >= 3, "periodic stats events: {}", stats.len());
    let last = stats.last().unwrap();
    assert_eq!(last["stats"]["capture"]["kernel_packets"], file.packets);
    assert_eq!(last["stats"]["capture"]["kernel_drops"], 0);
    assert_eq!(last["stats"]["capture"]["interfaces"][0]["interface"], "vb");
    let written = Command::new(bin())
        .arg("-r")
        .arg(&pcap_out)
        .args(["--json", "-q", "--no-detect"])
        .output()
        .unwrap();
    let w: Value = serde_json::from_slice(&written.stdout).unwrap();
    assert_eq!(w["packets"], file.packets);
    assert!(zeek.join("conn.log").exists());
    let _ = std::fs::remove_dir_all(&dir);
}

/// SIGHUP re-reads --config: a detector turned on while running alerts on the next replay,
/// and flow state is kept (the flows of the first replay are still reported once at the end).
#[test]
fn sighup_reloads_detection_without_losing_flows() {
    if !live_enabled() {
        return;
    }
    let dir = tmpdir("sighup");
    let ns = Netns::new("sighup");
    let cfg = dir.join("detect.toml");
    std::fs::write(&cfg, "[detectors.port_scan]\nenabled = false\n").unwrap();
    let pcap = corpus::dir().join("attacks/lucaderi-sgr/2022/Favilli/tests/hs-icmpScan.pcap");
    let mut live = Live::start(
        &ns,
        &[
            "-i",
            "vb",
            "--json",
            "--no-live-view",
            "--config",
            cfg.to_str().unwrap(),
        ],
    );
    ns.replay(&pcap, 30);
    let mut f = std::fs::File::create(&cfg).unwrap();
    f.write_all(b"[detectors.port_scan]\nenabled = true\n")
        .unwrap();
    drop(f);
    live.signal("-HUP");
    live.wait_for("detection configuration reloaded", Duration::from_secs(5));
    ns.replay(&pcap, 30);
    // A broken configuration is refused and the running one kept.
    std::fs::write(&cfg, "[detectors.port_scan]\nenabled = maybe\n").unwrap();
    live.signal("-HUP");
    let refused = live.wait_for("SIGHUP", Duration::from_secs(5));
    assert!(
        refused.contains("reload failed, configuration unchanged"),
        "{refused}"
    );
    assert!(
        refused.contains("detect.toml:2:"),
        "the bad line is named: {refused}"
    );
    std::thread::sleep(Duration::from_secs(1));
    live.signal("-INT");
    let (code, out, err) = live.finish(Duration::from_secs(20));
    assert_eq!(code, 0, "{err:?}");
    let v: Value = serde_json::from_str(&out).unwrap();
    let alerts = v["alerts"].as_array().unwrap();
    assert!(
        alerts
            .iter()
            .any(|a| a["detector"] == "port_scan" && a["kind"] == "host_sweep"),
        "no port_scan alert after SIGHUP: {alerts:?}"
    );
    // Both replays were analysed by one engine: every packet counted once, none lost.
    let file = read_file(&pcap, &dir);
    assert_eq!(v["packets"].as_u64().unwrap(), 2 * file.packets);
    let _ = std::fs::remove_dir_all(&dir);
}

/// A quiet link still moves time on: flows idle past their timeout are written while the
/// capture runs, not only when the next packet comes or at the end.
#[test]
fn idle_flows_time_out_while_the_link_is_quiet() {
    if !live_enabled() {
        return;
    }
    let dir = tmpdir("idle");
    let ns = Netns::new("idle");
    let eve = dir.join("eve.json");
    // 256 one-way ICMP flows: "other" flows time out after 30 s without a reply.
    let pcap = corpus::dir().join("attacks/lucaderi-sgr/2022/Favilli/tests/hs-icmpScan.pcap");
    // Sharded: packet time moves on in every shard when the link is quiet.
    let live = Live::start(
        &ns,
        &[
            "-i",
            "vb",
            "--workers",
            "2",
            "--json",
            "--no-live-view",
            "--eve",
            eve.to_str().unwrap(),
        ],
    );
    ns.replay(&pcap, 30);
    let timed_out = |text: &str| {
        text.lines()
            .filter(|l| {
                l.contains("\"event_type\":\"flow\"") && l.contains("\"reason\":\"timeout\"")
            })
            .count()
    };
    // EVE output is buffered: a SIGINT flushes it, so poll by reading the file after the
    // flows' timeout has passed on the clock.
    std::thread::sleep(Duration::from_secs(40));
    live.signal("-INT");
    let (code, _, err) = live.finish(Duration::from_secs(20));
    assert_eq!(code, 0, "{err:?}");
    let text = std::fs::read_to_string(&eve).unwrap();
    assert_eq!(
        timed_out(&text),
        256,
        "every flow ends by timeout before the stop, none by shutdown"
    );
    let _ = std::fs::remove_dir_all(&dir);
}

/// An interface that goes away during capture ends the run with its error named, the summary
/// printed and exit code 1.
#[test]
fn a_vanished_interface_ends_the_capture_with_status_1() {
    if !live_enabled() {
        return;
    }
    let ns = Netns::new("vanish");
    let live = Live::start(&ns, &["-i", "vb", "--no-live-view"]);
    std::thread::sleep(Duration::from_millis(500));
    sh(Command::new("ip").args(["-n", &ns.name, "link", "del", "va"]));
    let (code, out, err) = live.finish(Duration::from_secs(10));
    assert_eq!(code, 1, "{err:?}");
    assert!(out.contains("wirescope summary"), "{out}");
    assert!(
        err.iter()
            .any(|l| l.starts_with("wirescope: capture stopped: vb: ")),
        "{err:?}"
    );
}
