//! `brute_force`: password guessing against SSH, RDP, TLS-wrapped mail, FTP, POP3, IMAP, SMTP
//! AUTH, Telnet and HTTP authentication, and password spraying.
//!
//! **Method.** Two kinds of evidence, counted per (attacker, victim, protocol) in a window:
//!
//! * *Session shape* (encrypted protocols: SSH on `shape_ports` or identified as SSH, RDP 3389,
//!   SMTPS 465, IMAPS 993, POP3S 995), from finished flows: a session counts as a failed login
//!   when the TCP handshake completed, the server sent at most `max_failed_resp_bytes` of
//!   payload, the client at most `max_failed_orig_bytes`, and it lasted at most
//!   `max_failed_session_s`. A successful SSH login carries the shell or the file transfer and
//!   is much larger; the hydra sessions of the corpus carry 2.2 KB each way. An alert needs
//!   `min_sessions` such sessions to one server port within `window_s`, and their server byte
//!   counts must be similar (coefficient of variation ≤ `max_size_cv`): a brute forcer repeats
//!   the same exchange.
//! * *Reply codes* (clear text), from the first bytes of server→client TCP segments on the
//!   well-known ports: FTP (21) `530`, SMTP (25, 587) `535`, POP3 (110) `-ERR`, IMAP (143)
//!   `<tag> NO`, Telnet (23) `Login incorrect` / `Login failed`; and, from HTTP transactions,
//!   status 401/403 to a request with `Authorization: Basic`, or any answer to a POST whose URI
//!   names a login (`login`, `signin`, `sign_in`, `logon`, `j_security_check`). An alert needs
//!   `min_failures` within `clear_window_s` (Zeek's FTP policy: 20 in 15 minutes).
//!
//! *Password spraying* (kind `password_spray`): one source failing against at least
//! `spray_min_accounts` distinct accounts (FTP/POP3 `USER`, IMAP `LOGIN`, HTTP Basic user
//! names) or `spray_min_hosts` distinct servers within `window_s`, counted from clear-text
//! failures only (one short encrypted session to each of many hosts is also what automation
//! such as Ansible does); the destination is empty when several hosts were sprayed.
//!
//! Kinds (signature id offset): `ssh` 0, `ftp` 1, `http_auth` 2, `smtp` 3, `pop3` 4, `imap` 5,
//! `telnet` 6, `rdp` 7, `password_spray` 8, `tls_mail` 9.
//!
//! **Parameters and defaults** — see [`Config`]: `window_s` 1800 and `min_sessions` 8 (Zeek
//! SSH: 30 failed logins in 30 minutes; OpenSSH allows 6 attempts per connection
//! (`MaxAuthTries`) and hydra makes 4–5 per connection (lab: 41 passwords in 9 sessions), so
//! 8 failed sessions ≈ 30 attempts),
//! `max_failed_resp_bytes` 8 192, `max_failed_orig_bytes` 8 192, `max_failed_session_s` 60,
//! `max_size_cv` 0.5, `min_failures` 20 and `clear_window_s` 900 (Zeek FTP: 20 in 15 min),
//! `spray_min_accounts` 10, `spray_min_hosts` 10, `max_pairs` 20 000, `max_sources` 10 000,
//! `max_conns` 20 000.
//!
//! **Known false positives.** Automation that opens many short SSH sessions with one command
//! each (Ansible, monitoring checks, `git fetch` over SSH in a loop) looks like failed logins
//! from its shape: allow-list those sources. POP3 `-ERR` and IMAP `NO` are counted whatever
//! command they answer. Many POSTs to a login URI from one NAT address look like guessing.
//!
//! **Cost.** Packet hook: a port check, then at most 64 payload bytes compared on the ~7
//! clear-text ports; no allocation. Flow and HTTP hooks: one table update. **State**: pairs
//! (`max_pairs`), per-source spray sets (`max_sources`, fixed 32-slot arrays), and the user
//! name of each open clear-text connection (`max_conns`).

use crate::detectors::util::{addrs, host_draft, tcp, Every, SEC};
use crate::table::Table;
use crate::{evidence, Alerts, Detector, DetectorId, DetectorStats, Interest};
use serde::{Deserialize, Serialize};
use std::net::IpAddr;
use wirescope_core::{AppProto, IpProto, Timestamp};
use wirescope_engine::{AppCtx, Flow};
use wirescope_wire::Packet;

#[derive(Clone, Debug, Deserialize, Serialize)]
#[serde(default, deny_unknown_fields)]
pub struct Config {
    pub enabled: bool,
    /// Window for session-shape failures and spraying, seconds (Zeek SSH: 30 minutes).
    pub window_s: u64,
    /// Failed-looking sessions to one server port before an alert (see module doc).
    pub min_sessions: u32,
    /// A failed session's server payload is at most this many bytes.
    pub max_failed_resp_bytes: u64,
    /// A failed session's client payload is at most this many bytes.
    pub max_failed_orig_bytes: u64,
    /// A failed session lasts at most this many seconds.
    pub max_failed_session_s: u64,
    /// Most coefficient of variation of server bytes across the failed sessions.
    pub max_size_cv: f64,
    /// TCP ports whose sessions are judged by shape as SSH (besides flows identified as SSH).
    pub ssh_ports: Vec<u16>,
    /// Clear-text failures before an alert (Zeek FTP: 20).
    pub min_failures: u32,
    /// Window for clear-text failures, seconds (Zeek FTP: 15 minutes).
    pub clear_window_s: u64,
    /// Distinct accounts failed by one source before `password_spray`.
    pub spray_min_accounts: u32,
    /// Distinct servers failed by one source before `password_spray`.
    pub spray_min_hosts: u32,
    /// Most (attacker, victim, protocol) entries.
    pub max_pairs: usize,
    /// Most per-source spraying entries.
    pub max_sources: usize,
    /// Most open clear-text connections whose user name is remembered.
    pub max_conns: usize,
}

impl Default for Config {
    fn default() -> Self {
        Config {
            enabled: true,
            window_s: 1800,
            min_sessions: 8,
            max_failed_resp_bytes: 8192,
            max_failed_orig_bytes: 8192,
            max_failed_session_s: 60,
            max_size_cv: 0.5,
            ssh_ports: vec![22, 2222],
            min_failures: 20,
            clear_window_s: 900,
            spray_min_accounts: 10,
            spray_min_hosts: 10,
            max_pairs: 20_000,
            max_sources: 10_000,
            max_conns: 20_000,
        }
    }
}

/// Kinds in signature-id order.
pub const KINDS: [&str; 10] = [
    "ssh",
    "ftp",
    "http_auth",
    "smtp",
    "pop3",
    "imap",
    "telnet",
    "rdp",
    "password_spray",
    "tls_mail",
];
const SSH: u8 = 0;
const FTP: u8 = 1;
const HTTP: u8 = 2;
const SMTP: u8 = 3;
const POP3: u8 = 4;
const IMAP: u8 = 5;
const TELNET: u8 = 6;
const RDP: u8 = 7;
const SPRAY: u8 = 8;
const TLS_MAIL: u8 = 9;

const NAMES: [&str; 10] = [
    "SSH",
    "FTP",
    "HTTP",
    "SMTP AUTH",
    "POP3",
    "IMAP",
    "Telnet",
    "RDP",
    "",
    "TLS mail",
];

/// Per (attacker, victim, protocol).
#[derive(Default)]
struct Pair {
    first_ts: Timestamp,
    failures: u64,
    /// Sum and sum of squares of server payload bytes of failed sessions (shape kinds).
    sum: f64,
    sumsq: f64,
    port: u16,
    raised: bool,
    /// Counted by session shape (else by reply codes).
    shape: bool,
    /// `failures` at the last report.
    reported: u64,
    every: Every,
}

const SLOTS: usize = 32;

/// Per source: distinct accounts (hashes, names for evidence) and servers failed.
struct Spray {
    first_ts: Timestamp,
    failures: u64,
    accounts: [u64; SLOTS],
    names: [([u8; 24], u8); SLOTS],
    n_accounts: usize,
    hosts: [Option<IpAddr>; SLOTS],
    n_hosts: usize,
    every: Every,
}

impl Spray {
    fn new(ts: Timestamp) -> Spray {
        Spray {
            first_ts: ts,
            failures: 0,
            accounts: [0; SLOTS],
            names: [([0; 24], 0); SLOTS],
            n_accounts: 0,
            hosts: [None; SLOTS],
            n_hosts: 0,
            every: Every::default(),
        }
    }
}

/// The user name last sent on a clear-text connection (hash and first 24 bytes).
#[derive(Clone, Copy)]
struct User {
    hash: u64,
    name: [u8; 24],
    len: u8,
}

type ConnKey = (IpAddr, u16, IpAddr, u16);

pub struct BruteForce {
    cfg: Config,
    pairs: Table<(IpAddr, IpAddr, u8), Pair>,
    spray: Table<IpAddr, Spray>,
    users: Table<ConnKey, User>,
}

fn fnv(s: &[u8]) -> u64 {
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    for &b in s {
        h ^= u64::from(b.to_ascii_lowercase());
        h = h.wrapping_mul(0x100_0000_01b3);
    }
    h | 1
}

fn starts_with_ci(h: &[u8], n: &[u8]) -> bool {
    h.len() >= n.len() && h[..n.len()].eq_ignore_ascii_case(n)
}

fn contains_ci(h: &[u8], n: &[u8]) -> bool {
    h.len() >= n.len() && h.windows(n.len()).any(|w| w.eq_ignore_ascii_case(n))
}

/// The clear-text protocol served on `port`.
fn clear_proto(port: u16) -> Option<u8> {
    match port {
        21 => Some(FTP),
        25 | 587 => Some(SMTP),
        110 => Some(POP3),
        143 => Some(IMAP),
        23 => Some(TELNET),
        _ => None,
    }
}

/// Whether a server→client segment of `proto` reports a failed login.
fn is_failure(proto: u8, p: &[u8]) -> bool {
    let p = &p[..p.len().min(64)];
    match proto {
        FTP => p.starts_with(b"530"),
        SMTP => p.starts_with(b"535"),
        POP3 => p.starts_with(b"-ERR"),
        IMAP => {
            // `<tag> NO ...` (RFC 9051 §7.1.2); untagged `* NO` is a warning, not a failure.
            let sp = p.iter().position(|&b| b == b' ');
            sp.is_some_and(|i| i > 0 && p[0] != b'*' && starts_with_ci(&p[i + 1..], b"NO "))
        }
        TELNET => contains_ci(p, b"login incorrect") || contains_ci(p, b"login failed"),
        _ => false,
    }
}

/// The account named by a client→server segment: `USER x` (FTP, POP3), `<tag> LOGIN x`
/// (IMAP).
fn account(proto: u8, p: &[u8]) -> Option<&[u8]> {
    let p = &p[..p.len().min(128)];
    let line = &p[..p
        .iter()
        .position(|&b| b == b'\r' || b == b'\n')
        .unwrap_or(p.len())];
    match proto {
        FTP | POP3 if starts_with_ci(line, b"USER ") => Some(&line[5..]),
        IMAP => {
            let i = line.iter().position(|&b| b == b' ')?;
            let rest = &line[i + 1..];
            if !starts_with_ci(rest, b"LOGIN ") {
                return None;
            }
            let a = &rest[6..];
            let end = a.iter().position(|&b| b == b' ').unwrap_or(a.len());
            Some(&a[..end])
        }
        _ => None,
    }
}

impl Pair {
    /// Coefficient of variation of the server bytes of the sessions counted.
    fn cv(&self) -> f64 {
        let n = self.failures as f64;
        let mean = self.sum / n;
        if mean > 0.0 {
            ((self.sumsq / n - mean * mean).max(0.0)).sqrt() / mean
        } else {
            0.0
        }
    }
}

/// The alert about one (attacker, victim, protocol) pair.
fn pair_draft(
    cfg: &Config,
    (attacker, victim, proto): (IpAddr, IpAddr, u8),
    p: &Pair,
    ts: Timestamp,
) -> crate::AlertDraft {
    let k = usize::from(proto);
    let what = if p.shape {
        "failed-looking sessions"
    } else {
        "failed logins"
    };
    let mut d = host_draft(
        DetectorId::BruteForce,
        KINDS[k],
        u16::from(proto),
        format!(
            "{} brute force from {attacker} against {victim}:{}: {} {what}",
            NAMES[k], p.port, p.failures
        ),
        "Attempted Administrator Privilege Gain",
        2,
        Some(attacker),
        Some(victim),
        p.first_ts,
        ts,
    );
    if let Some(dst) = d.dst.as_mut() {
        dst.port = Some(p.port);
    }
    d.proto = Some(IpProto::TCP);
    d.evidence = if p.shape {
        evidence! {
            "failed_sessions" => p.failures,
            "mean_server_bytes" => (p.sum / p.failures as f64).round(),
            "server_bytes_cv" => (p.cv() * 1000.0).round() / 1000.0,
            "window_s" => cfg.window_s,
            "min_sessions" => cfg.min_sessions,
            "max_failed_resp_bytes" => cfg.max_failed_resp_bytes,
            "method" => "session_shape",
        }
    } else {
        evidence! {
            "failures" => p.failures,
            "window_s" => cfg.clear_window_s,
            "min_failures" => cfg.min_failures,
            "method" => "reply_code",
        }
    };
    d
}

impl BruteForce {
    pub fn new(cfg: &Config) -> Result<BruteForce, crate::BuildError> {
        Ok(BruteForce {
            cfg: cfg.clone(),
            pairs: Table::new(cfg.max_pairs),
            spray: Table::new(cfg.max_sources),
            users: Table::new(cfg.max_conns),
        })
    }

    /// Counts one failure; `resp_bytes` is set for shape-based kinds.
    #[allow(clippy::too_many_arguments)]
    fn failure(
        &mut self,
        ts: Timestamp,
        onset: Timestamp,
        attacker: IpAddr,
        victim: IpAddr,
        port: u16,
        proto: u8,
        resp_bytes: Option<u64>,
        user: Option<User>,
        out: &mut Alerts<'_>,
    ) {
        let shape = resp_bytes.is_some();
        let window = if shape {
            self.cfg.window_s
        } else {
            self.cfg.clear_window_s
        } * SEC;
        let need = if shape {
            self.cfg.min_sessions
        } else {
            self.cfg.min_failures
        };
        let p = self
            .pairs
            .entry((attacker, victim, proto), ts, Pair::default);
        if p.failures == 0 || (!p.raised && ts.since(p.first_ts) > window) {
            *p = Pair {
                first_ts: onset,
                port,
                ..Pair::default()
            };
        }
        // Flows are reported when they end, not in the order they started.
        p.first_ts = p.first_ts.min(onset);
        p.failures += 1;
        if let Some(b) = resp_bytes {
            let b = b as f64;
            p.sum += b;
            p.sumsq += b * b;
        }
        let cv = p.cv();
        if p.failures >= u64::from(need.max(1))
            && (!shape || cv <= self.cfg.max_size_cv)
            && p.every.due(ts, SEC)
        {
            p.raised = true;
            p.shape = shape;
            p.reported = p.failures;
            out.raise(pair_draft(&self.cfg, (attacker, victim, proto), p, ts));
        }
        // Session shape is evidence enough against one server, not across servers: one
        // short session to each of many hosts is also what automation (Ansible) does.
        if !shape {
            self.spray(ts, onset, attacker, victim, user, out);
        }
    }

    fn spray(
        &mut self,
        ts: Timestamp,
        onset: Timestamp,
        attacker: IpAddr,
        victim: IpAddr,
        user: Option<User>,
        out: &mut Alerts<'_>,
    ) {
        let window = self.cfg.window_s * SEC;
        let s = self.spray.entry(attacker, ts, || Spray::new(onset));
        if ts.since(s.first_ts) > window && s.n_accounts < 2 && s.n_hosts < 2 {
            *s = Spray::new(onset);
        }
        s.failures += 1;
        if let Some(u) = user {
            if !s.accounts[..s.n_accounts].contains(&u.hash) && s.n_accounts < SLOTS {
                s.accounts[s.n_accounts] = u.hash;
                s.names[s.n_accounts] = (u.name, u.len);
                s.n_accounts += 1;
            }
        }
        if !s.hosts[..s.n_hosts].contains(&Some(victim)) && s.n_hosts < SLOTS {
            s.hosts[s.n_hosts] = Some(victim);
            s.n_hosts += 1;
        }
        let accounts_hit = s.n_accounts >= self.cfg.spray_min_accounts.max(2) as usize;
        let hosts_hit = s.n_hosts >= self.cfg.spray_min_hosts.max(2) as usize;
        if !(accounts_hit || hosts_hit) || !s.every.due(ts, SEC) {
            return;
        }
        let dst = (s.n_hosts == 1).then_some(victim);
        let mut d = host_draft(
            DetectorId::BruteForce,
            KINDS[usize::from(SPRAY)],
            u16::from(SPRAY),
            format!(
                "Password spraying from {attacker}: {} accounts, {} hosts",
                s.n_accounts, s.n_hosts
            ),
            "Attempted Administrator Privilege Gain",
            2,
            Some(attacker),
            dst,
            s.first_ts,
            ts,
        );
        let names: Vec<String> = s.names[..s.n_accounts.min(20)]
            .iter()
            .map(|(n, l)| String::from_utf8_lossy(&n[..usize::from(*l)]).into_owned())
            .collect();
        let hosts: Vec<String> = s.hosts[..s.n_hosts.min(20)]
            .iter()
            .flatten()
            .map(|h| h.to_string())
            .collect();
        d.evidence = evidence! {
            "failures" => s.failures,
            "accounts" => s.n_accounts,
            "account_names" => names,
            "hosts" => s.n_hosts,
            "host_list" => hosts,
            "window_s" => self.cfg.window_s,
            "spray_min_accounts" => self.cfg.spray_min_accounts,
            "spray_min_hosts" => self.cfg.spray_min_hosts,
            "capped_at" => SLOTS,
        };
        out.raise(d);
    }
}

impl Detector for BruteForce {
    fn id(&self) -> DetectorId {
        DetectorId::BruteForce
    }
    fn interests(&self) -> Interest {
        Interest::PACKET | Interest::FLOW | Interest::HTTP
    }

    fn packet(&mut self, ts: Timestamp, pkt: &Packet<'_>, out: &mut Alerts<'_>) {
        if pkt.payload.is_empty() {
            return;
        }
        let Some(t) = tcp(pkt) else { return };
        let (to_server, proto) = match (clear_proto(t.src_port), clear_proto(t.dst_port)) {
            (Some(p), _) => (false, p),
            (None, Some(p)) => (true, p),
            _ => return,
        };
        let Some((src, dst)) = addrs(pkt) else { return };
        if to_server {
            if let Some(a) = account(proto, pkt.payload) {
                let mut name = [0u8; 24];
                let len = a.len().min(24);
                name[..len].copy_from_slice(&a[..len]);
                let u = User {
                    hash: fnv(a),
                    name,
                    len: len as u8,
                };
                *self
                    .users
                    .entry((src, t.src_port, dst, t.dst_port), ts, || u) = u;
            }
            return;
        }
        if !is_failure(proto, pkt.payload) {
            return;
        }
        let user = self.users.get(&(dst, t.dst_port, src, t.src_port)).copied();
        self.failure(ts, ts, dst, src, t.src_port, proto, None, user, out);
    }

    fn flow(&mut self, fl: &Flow, out: &mut Alerts<'_>) {
        if fl.key.proto != IpProto::TCP {
            return;
        }
        let (client, cport) = fl.orig();
        let (server, port) = fl.resp();
        if clear_proto(port).is_some() {
            self.users.remove(&(client, cport, server, port));
            return;
        }
        let proto = if fl.app_proto == AppProto::Ssh || self.cfg.ssh_ports.contains(&port) {
            SSH
        } else {
            match port {
                3389 => RDP,
                465 | 993 | 995 => TLS_MAIL,
                _ => return,
            }
        };
        let failed = fl.established()
            && fl.payload_bytes[1] > 0
            && fl.payload_bytes[1] <= self.cfg.max_failed_resp_bytes
            && fl.payload_bytes[0] <= self.cfg.max_failed_orig_bytes
            && fl.duration_ns() <= self.cfg.max_failed_session_s * SEC;
        if failed {
            self.failure(
                fl.last_ts,
                fl.first_ts,
                client,
                server,
                port,
                proto,
                Some(fl.payload_bytes[1]),
                None,
                out,
            );
        }
    }

    fn http(
        &mut self,
        ctx: &AppCtx<'_>,
        tx: &wirescope_proto::http::Transaction,
        out: &mut Alerts<'_>,
    ) {
        let Some(status) = tx.status else { return };
        let basic_fail = !tx.username.is_empty() && (status == 401 || status == 403);
        let uri = &tx.uri[..tx
            .uri
            .iter()
            .position(|&b| b == b'?')
            .unwrap_or(tx.uri.len())];
        let form_login = tx.method == b"POST"
            && ["login", "signin", "sign_in", "logon", "j_security_check"]
                .iter()
                .any(|n| contains_ci(uri, n.as_bytes()));
        if !(basic_fail || form_login) {
            return;
        }
        let (client, _) = ctx.flow.orig();
        let (server, port) = ctx.flow.resp();
        let user = (!tx.username.is_empty()).then(|| {
            let mut name = [0u8; 24];
            let len = tx.username.len().min(24);
            name[..len].copy_from_slice(&tx.username[..len]);
            User {
                hash: fnv(&tx.username),
                name,
                len: len as u8,
            }
        });
        let ts = tx.response_ts.unwrap_or(ctx.ts);
        let onset = tx.request_ts.unwrap_or(ts);
        self.failure(ts, onset, client, server, port, HTTP, None, user, out);
    }

    /// Reports the final counts of alerts whose last updates were rate-limited away.
    fn finish(&mut self, ts: Timestamp, out: &mut Alerts<'_>) {
        for (k, _, p) in self.pairs.iter_mut() {
            if p.raised && p.failures > p.reported {
                p.reported = p.failures;
                out.raise(pair_draft(&self.cfg, *k, p, ts));
            }
        }
    }

    fn stats(&self) -> DetectorStats {
        DetectorStats {
            entries: (self.pairs.len() + self.spray.len() + self.users.len()) as u64,
            capacity: (self.pairs.cap() + self.spray.cap() + self.users.cap()) as u64,
            evicted_total: self.pairs.evicted_total
                + self.spray.evicted_total
                + self.users.evicted_total,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reply_codes() {
        assert!(is_failure(FTP, b"530 Login incorrect.\r\n"));
        assert!(!is_failure(FTP, b"230 Login successful.\r\n"));
        assert!(is_failure(SMTP, b"535 5.7.8 Authentication failed\r\n"));
        assert!(is_failure(POP3, b"-ERR [AUTH] Authentication failed.\r\n"));
        assert!(is_failure(
            IMAP,
            b"a001 NO [AUTHENTICATIONFAILED] failed\r\n"
        ));
        assert!(!is_failure(IMAP, b"* NO warning\r\n"));
        assert!(!is_failure(IMAP, b"a001 OK LOGIN completed\r\n"));
        assert!(is_failure(TELNET, b"\r\nLogin incorrect\r\n"));
    }

    #[test]
    fn accounts() {
        assert_eq!(account(FTP, b"USER alice\r\n"), Some(&b"alice"[..]));
        assert_eq!(account(IMAP, b"a1 LOGIN bob secret\r\n"), Some(&b"bob"[..]));
        assert_eq!(account(FTP, b"PASS x\r\n"), None);
    }
}
