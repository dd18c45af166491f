//! `web_attack`: web attacks in HTTP requests: SQL injection, XSS, path traversal, command
//! injection, Log4Shell (JNDI lookups) and Shellshock.
//!
//! **Method.** On every HTTP transaction (the `http` hook) the request URI, `User-Agent`,
//! `Referer`, `Origin`, `Host` and `Content-Type` and the first 2 KiB of the request body
//! (`http::REQUEST_BODY_PREFIX`, after de-chunking) are URL-decoded (percent escapes, `+` as
//! space, `%uXXXX`, and a second pass for double encoding, as ModSecurity's
//! `t:urlDecodeUni` chain does), lower-cased, and matched against small, named signatures
//! (the OWASP CRS families, reduced to their most specific tokens):
//!
//! | kind | rules |
//! |---|---|
//! | `sqli` | `union select` (comments/whitespace between), quote + `or`/`and` tautology, quote + `--`/`#`, `sleep(`, `benchmark(`, `pg_sleep(`, `waitfor delay`, `information_schema`, `@@version`, `load_file(`, `into outfile`, `/**/` |
//! | `xss` | `<script`, `javascript:`, `on{error,load,mouseover,focus}=` inside a tag, `<svg`, `<iframe`, `alert(`, `document.cookie` |
//! | `path_traversal` | `../` or `..\` twice or more, `/etc/passwd`, `/etc/shadow`, `boot.ini`, `win.ini`, `/proc/self/` |
//! | `command_injection` | `;`, `\|`, `&&`, `` ` ``, `$(` followed by a shell command (`cat id whoami uname wget curl nc ls ping echo bash sh rm`), `/bin/sh`, `/bin/bash`, `cmd.exe`, `powershell -`, `powershell.exe` |
//! | `log4shell` | `jndi:ldap`, `jndi:rmi`, `jndi:dns`, `jndi:iiop`; `${` whose text, with `$ { } : -` and `lower`/`upper` removed, holds `jndi` (catches `${${lower:j}ndi:` and `${::-j}`) |
//! | `shellshock` | `() {` in a header or the URI |
//!
//! One alert per (client, server, kind): raised at the first matching request (threshold
//! `min_requests`, default 1: one Log4Shell request is already an attack), then updated at
//! most once per second with the count, rule names, methods and an example URI (truncated to
//! 200 characters). Source = the client (flow originator), destination = the server.
//!
//! **Parameters** (`[detectors.web_attack]`): `enabled` (true), `min_requests` (1: matching
//! requests per (client, server, kind) before alerting), `max_pairs` (10 000: state bound).
//!
//! **Not seen**: request bodies past their first 2 KiB, cookies and other headers than the
//! six above — Shellshock in a `Cookie` header is missed.
//!
//! **Known false positives**: search queries that contain attack strings as text (a forum
//! post about `union select`), security scanners you run yourself (allow-list them), URLs
//! with several `../` built by badly written clients.
//!
//! **Cost**: per transaction, two decoding passes and a linear scan per field (fields are
//! bounded by the HTTP parser: URI ≤ 8 KiB, headers ≤ 1 KiB); no allocation in steady state
//! (decoding buffers are reused). **State**: one `Table` of at most `max_pairs` entries.

use crate::alert::AlertDraft;
use crate::detectors::util::{host_draft, Every, SEC};
use crate::table::Table;
use crate::{evidence, Alerts, Detector, DetectorId, DetectorStats, Interest};
use serde::{Deserialize, Serialize};
use std::net::IpAddr;
use wirescope_core::Timestamp;
use wirescope_engine::AppCtx;

#[derive(Clone, Debug, Deserialize, Serialize)]
#[serde(default, deny_unknown_fields)]
pub struct Config {
    pub enabled: bool,
    /// Matching requests per (client, server, kind) before an alert (default 1: Suricata's
    /// ET WEB_SERVER rules alert on one request).
    pub min_requests: u32,
    /// Most (client, server, kind) entries kept (default 10 000).
    pub max_pairs: usize,
}

impl Default for Config {
    fn default() -> Self {
        Config {
            enabled: true,
            min_requests: 1,
            max_pairs: 10_000,
        }
    }
}

/// The kinds, in signature-id order.
pub const KINDS: [&str; 6] = [
    "sqli",
    "xss",
    "path_traversal",
    "command_injection",
    "log4shell",
    "shellshock",
];

const SIGNATURES: [&str; 6] = [
    "SQL injection attempt",
    "Cross-site scripting attempt",
    "Path traversal attempt",
    "OS command injection attempt",
    "Log4Shell JNDI lookup injection",
    "Shellshock attempt",
];

/// A named rule: (kind index, name, needle). Needles are matched on decoded, lower-cased
/// text. Rules that need more than a substring are in [`scan`].
const RULES: &[(u8, &str, &str)] = &[
    (0, "sleep", "sleep("),
    (0, "benchmark", "benchmark("),
    (0, "pg_sleep", "pg_sleep("),
    (0, "waitfor_delay", "waitfor delay"),
    (0, "information_schema", "information_schema"),
    (0, "version_var", "@@version"),
    (0, "load_file", "load_file("),
    (0, "into_outfile", "into outfile"),
    (0, "inline_comment", "/**/"),
    (1, "script_tag", "<script"),
    (1, "javascript_uri", "javascript:"),
    (1, "svg_tag", "<svg"),
    (1, "iframe_tag", "<iframe"),
    (1, "alert_call", "alert("),
    (1, "document_cookie", "document.cookie"),
    (2, "etc_passwd", "/etc/passwd"),
    (2, "etc_shadow", "/etc/shadow"),
    (2, "boot_ini", "boot.ini"),
    (2, "win_ini", "win.ini"),
    (2, "proc_self", "/proc/self/"),
    (3, "bin_sh", "/bin/sh"),
    (3, "bin_bash", "/bin/bash"),
    (3, "cmd_exe", "cmd.exe"),
    // Not bare `powershell`: documentation URLs name it (`/en-us/powershell/scripting`).
    (3, "powershell", "powershell -"),
    (3, "powershell_exe", "powershell.exe"),
    (4, "jndi_ldap", "jndi:ldap"),
    (4, "jndi_rmi", "jndi:rmi"),
    (4, "jndi_dns", "jndi:dns"),
    (4, "jndi_iiop", "jndi:iiop"),
];

/// Rule names not in [`RULES`] (bits after them).
const EXTRA: &[(u8, &str)] = &[
    (0, "union_select"),
    (0, "quote_tautology"),
    (0, "quote_comment"),
    (1, "event_handler"),
    (2, "dot_dot_slash"),
    (3, "shell_separator"),
    (4, "jndi_lookup"),
    (5, "function_definition"),
];

const fn extra_bit(i: usize) -> u64 {
    1 << (RULES.len() + i)
}

/// The name of rule bit `b`.
fn rule_name(b: usize) -> &'static str {
    if b < RULES.len() {
        RULES[b].1
    } else {
        EXTRA.get(b - RULES.len()).map_or("?", |e| e.1)
    }
}

fn rule_kind(b: usize) -> u8 {
    if b < RULES.len() {
        RULES[b].0
    } else {
        EXTRA.get(b - RULES.len()).map_or(0, |e| e.0)
    }
}

const SHELL_CMDS: &[&[u8]] = &[
    b"cat", b"id", b"whoami", b"uname", b"wget", b"curl", b"nc", b"ls", b"ping", b"echo", b"bash",
    b"sh", b"rm",
];

fn find(h: &[u8], n: &[u8]) -> Option<usize> {
    if n.is_empty() || h.len() < n.len() {
        return None;
    }
    h.windows(n.len()).position(|w| w == n)
}

fn hex(b: u8) -> Option<u8> {
    match b {
        b'0'..=b'9' => Some(b - b'0'),
        b'a'..=b'f' => Some(b - b'a' + 10),
        b'A'..=b'F' => Some(b - b'A' + 10),
        _ => None,
    }
}

/// URL-decodes `src` into `out` (cleared first): `%XX`, `%uXXXX` (non-ASCII code points
/// become `?`), `+` as space; ASCII lower-cased. Returns whether anything was decoded.
pub fn url_decode(src: &[u8], out: &mut Vec<u8>) -> bool {
    out.clear();
    let mut changed = false;
    let mut i = 0;
    while i < src.len() {
        let b = src[i];
        if b == b'%' {
            if let (Some(h), Some(l)) = (
                src.get(i + 1).copied().and_then(hex),
                src.get(i + 2).copied().and_then(hex),
            ) {
                out.push((h << 4 | l).to_ascii_lowercase());
                i += 3;
                changed = true;
                continue;
            }
            if matches!(src.get(i + 1), Some(b'u' | b'U')) && i + 6 <= src.len() {
                let mut v: u32 = 0;
                let mut ok = true;
                for &c in &src[i + 2..i + 6] {
                    match hex(c) {
                        Some(d) => v = v << 4 | u32::from(d),
                        None => ok = false,
                    }
                }
                if ok {
                    out.push(if v < 0x80 {
                        (v as u8).to_ascii_lowercase()
                    } else {
                        b'?'
                    });
                    i += 6;
                    changed = true;
                    continue;
                }
            }
        }
        out.push(if b == b'+' {
            changed = true;
            b' '
        } else {
            b.to_ascii_lowercase()
        });
        i += 1;
    }
    changed
}

/// Reusable buffers for decoding.
#[derive(Default)]
pub struct Scanner {
    a: Vec<u8>,
    b: Vec<u8>,
    squeeze: Vec<u8>,
}

impl Scanner {
    /// Rule bits matched by `raw` (a URI or a header value).
    pub fn scan(&mut self, raw: &[u8]) -> u64 {
        if raw.is_empty() {
            return 0;
        }
        let mut bits = 0;
        // Shellshock is matched on the raw bytes: `() {` is the function-definition prefix
        // bash imports from the environment (CVE-2014-6271).
        if find(raw, b"() {").is_some() || find(raw, b"(){").is_some() {
            bits |= extra_bit(7);
        }
        url_decode(raw, &mut self.a);
        // Double encoding (`%252e`): decode once more when escapes remain.
        let text: &[u8] = if self.a.contains(&b'%') {
            url_decode(&self.a, &mut self.b);
            &self.b
        } else {
            &self.a
        };
        bits |= scan_text(text, &mut self.squeeze);
        bits
    }
}

fn is_word(b: u8) -> bool {
    b.is_ascii_alphanumeric() || b == b'_'
}

/// Rule bits matched by decoded, lower-cased `t`.
fn scan_text(t: &[u8], squeeze: &mut Vec<u8>) -> u64 {
    let mut bits = 0u64;
    for (i, r) in RULES.iter().enumerate() {
        if find(t, r.2.as_bytes()).is_some() {
            bits |= 1 << i;
        }
    }
    // union [all] select, with spaces or comments between.
    let mut from = 0;
    while let Some(p) = find(&t[from..], b"union") {
        let mut j = from + p + 5;
        while j < t.len() && matches!(t[j], b' ' | b'\t' | b'\n' | b'\r' | b'/' | b'*' | b'(') {
            j += 1;
        }
        if t[j..].starts_with(b"all") {
            j += 3;
            while j < t.len() && matches!(t[j], b' ' | b'/' | b'*') {
                j += 1;
            }
        }
        if j > from + p + 5 && t[j..].starts_with(b"select") {
            bits |= extra_bit(0);
            break;
        }
        from += p + 5;
    }
    for (i, &q) in t.iter().enumerate() {
        if q != b'\'' && q != b'"' {
            continue;
        }
        let rest = &t[i + 1..];
        let mut j = 0;
        while j < rest.len() && matches!(rest[j], b' ' | b')') {
            j += 1;
        }
        let r = &rest[j..];
        // quote followed by an SQL comment: `'--`, `' #`.
        if r.starts_with(b"--") || (r.starts_with(b"#") && j > 0) || r == b"#" {
            bits |= extra_bit(2);
        }
        // quote, or/and/||, operand, comparison: `' or '1'='1`, `' or 1=1`, `" and 1<2`.
        let after = if j > 0 && (r.starts_with(b"or ") || r.starts_with(b"and ")) {
            Some(if r[0] == b'o' { &r[3..] } else { &r[4..] })
        } else if r.starts_with(b"||") {
            Some(&r[2..])
        } else {
            None
        };
        if let Some(a) = after {
            let lim = &a[..a.len().min(32)];
            let operand_then_cmp = lim
                .iter()
                .position(|&c| matches!(c, b'=' | b'<' | b'>'))
                .is_some_and(|k| {
                    k > 0
                        && lim[..k]
                            .iter()
                            .all(|&c| is_word(c) || matches!(c, b'\'' | b'"' | b' ' | b'('))
                });
            if operand_then_cmp || find(lim, b" like ").is_some() {
                bits |= extra_bit(1);
            }
        }
    }
    // Event handlers inside a tag: `<img src=x onerror=`, `"onload=` — not `?onload=cb`.
    for h in [&b"onerror"[..], b"onload", b"onmouseover", b"onfocus"] {
        let mut from = 0;
        while let Some(p) = find(&t[from..], h) {
            let s = from + p;
            let e = s + h.len();
            let mut k = e;
            while k < t.len() && t[k] == b' ' {
                k += 1;
            }
            let prev = if s > 0 { t[s - 1] } else { b'?' };
            if k < t.len() && t[k] == b'=' && matches!(prev, b' ' | b'/' | b'"' | b'\'' | b'\t') {
                bits |= extra_bit(3);
            }
            from = e;
        }
    }
    // `../` or `..\` at least twice.
    let dots = t
        .windows(3)
        .filter(|w| w[0] == b'.' && w[1] == b'.' && (w[2] == b'/' || w[2] == b'\\'))
        .count();
    if dots >= 2 {
        bits |= extra_bit(4);
    }
    // Shell separator followed by a command word ending at a non-word byte other than `=`.
    for (i, &c) in t.iter().enumerate() {
        let start = match c {
            b';' | b'|' | b'`' => i + 1,
            b'&' if t.get(i + 1) == Some(&b'&') => i + 2,
            b'$' if t.get(i + 1) == Some(&b'(') => i + 2,
            _ => continue,
        };
        let mut j = start;
        while j < t.len() && t[j] == b' ' {
            j += 1;
        }
        let w_end = t[j..]
            .iter()
            .position(|&b| !is_word(b))
            .map_or(t.len(), |k| j + k);
        let word = &t[j..w_end];
        let term_ok = t
            .get(w_end)
            .is_none_or(|&b| matches!(b, b' ' | b';' | b'|' | b'&' | b'`' | b')' | b'\t'));
        if term_ok && SHELL_CMDS.contains(&word) {
            bits |= extra_bit(5);
            break;
        }
    }
    // Log4Shell: `${` and, once lookup syntax is squeezed out, `jndi`.
    if find(t, b"${").is_some() {
        squeeze.clear();
        squeeze.extend(
            t.iter()
                .copied()
                .filter(|c| !matches!(c, b'$' | b'{' | b'}' | b':' | b'-' | b' ')),
        );
        let mut s: &[u8] = squeeze;
        let mut found = false;
        // Remove `lower` / `upper` by checking `jndi` with them skipped.
        let mut tmp = [0u8; 4];
        let mut n = 0;
        while !s.is_empty() {
            if s.starts_with(b"lower") || s.starts_with(b"upper") {
                s = &s[5..];
                continue;
            }
            let c = s[0];
            s = &s[1..];
            if n < 4 {
                tmp[n] = c;
                n += 1;
            } else {
                tmp.rotate_left(1);
                tmp[3] = c;
            }
            if n == 4 && &tmp == b"jndi" {
                found = true;
                break;
            }
        }
        if found {
            bits |= extra_bit(6);
        }
    }
    bits
}

/// Per (client, server, kind).
struct Entry {
    first_ts: Timestamp,
    count: u64,
    rules: u64,
    /// GET, POST, PUT, other.
    methods: [u64; 4],
    /// First matching URI (200 characters) and Host (100), set when first reported.
    example: String,
    host: String,
    port: u16,
    /// A header (not only the URI) matched.
    in_header: bool,
    /// A rule of this kind matched in the request body.
    in_body: bool,
    /// `count` at the last report.
    reported: u64,
    every: Every,
}

/// The alert about one (client, server, kind).
fn entry_draft(
    cfg: &Config,
    (client, server, kind): (IpAddr, IpAddr, u8),
    e: &Entry,
    ts: Timestamp,
) -> AlertDraft {
    let k = usize::from(kind);
    let mut d = host_draft(
        DetectorId::WebAttack,
        KINDS[k],
        u16::from(kind),
        format!("{} from {client} against {server}", SIGNATURES[k]),
        "Web Application Attack",
        if kind >= 4 { 1 } else { 2 },
        Some(client),
        Some(server),
        e.first_ts,
        ts,
    );
    if let Some(dst) = d.dst.as_mut() {
        dst.port = Some(e.port);
    }
    let rules: Vec<&str> = (0..64)
        .filter(|&b| e.rules & (1 << b) != 0)
        .map(rule_name)
        .collect();
    let methods: serde_json::Map<String, serde_json::Value> = ["GET", "POST", "PUT", "other"]
        .iter()
        .zip(e.methods)
        .filter(|(_, n)| *n > 0)
        .map(|(m, n)| ((*m).to_string(), serde_json::json!(n)))
        .collect();
    d.evidence = evidence! {
        "requests" => e.count,
        "rules" => rules,
        "example_uri" => e.example.clone(),
        "example_host" => e.host.clone(),
        "in_header" => e.in_header,
        "in_body" => e.in_body,
        "methods" => methods,
        "min_requests" => cfg.min_requests,
    };
    d
}

pub struct WebAttack {
    cfg: Config,
    scanner: Scanner,
    pairs: Table<(IpAddr, IpAddr, u8), Entry>,
}

impl WebAttack {
    pub fn new(cfg: &Config) -> Result<WebAttack, crate::BuildError> {
        Ok(WebAttack {
            cfg: cfg.clone(),
            scanner: Scanner::default(),
            pairs: Table::new(cfg.max_pairs),
        })
    }
}

fn method_index(m: &[u8]) -> usize {
    match m {
        b"GET" => 0,
        b"POST" => 1,
        b"PUT" => 2,
        _ => 3,
    }
}

impl Detector for WebAttack {
    fn id(&self) -> DetectorId {
        DetectorId::WebAttack
    }
    fn interests(&self) -> Interest {
        Interest::HTTP
    }
    fn http(
        &mut self,
        ctx: &AppCtx<'_>,
        tx: &wirescope_proto::http::Transaction,
        out: &mut Alerts<'_>,
    ) {
        if tx.method.is_empty() && tx.uri.is_empty() {
            return;
        }
        let mut bits = self.scanner.scan(&tx.uri);
        let mut header_bits = 0;
        for h in [
            &tx.user_agent,
            &tx.referer,
            &tx.origin,
            &tx.host,
            &tx.request_content_type,
        ] {
            header_bits |= self.scanner.scan(h);
        }
        bits |= header_bits;
        // The start of the request body (form posts, JSON): `REQUEST_BODY_PREFIX` bytes.
        let body_bits = self.scanner.scan(&tx.request_body);
        bits |= body_bits;
        if bits == 0 {
            return;
        }
        let (client, _) = ctx.flow.orig();
        let (server, _) = ctx.flow.resp();
        let ts = tx.request_ts.unwrap_or(ctx.ts);
        for kind in 0..KINDS.len() as u8 {
            let kb: u64 = (0..64)
                .filter(|&b| bits & (1 << b) != 0 && rule_kind(b) == kind)
                .fold(0, |acc, b| acc | 1 << b);
            if kb == 0 {
                continue;
            }
            let e = self.pairs.entry((client, server, kind), ctx.ts, || Entry {
                first_ts: ts,
                count: 0,
                rules: 0,
                methods: [0; 4],
                example: String::new(),
                host: String::new(),
                port: 0,
                in_header: false,
                in_body: false,
                reported: 0,
                every: Every::default(),
            });
            e.count += 1;
            e.rules |= kb;
            e.methods[method_index(&tx.method)] += 1;
            if e.count < u64::from(self.cfg.min_requests.max(1)) || !e.every.due(ctx.ts, SEC) {
                continue;
            }
            if e.example.is_empty() {
                e.example = String::from_utf8_lossy(&tx.uri).chars().take(200).collect();
                e.host = String::from_utf8_lossy(&tx.host)
                    .chars()
                    .take(100)
                    .collect();
                e.port = ctx.flow.resp().1;
            }
            e.in_header |= header_bits & kb != 0;
            e.in_body |= body_bits & kb != 0;
            e.reported = e.count;
            out.raise(entry_draft(&self.cfg, (client, server, kind), e, ctx.ts));
        }
    }

    /// Reports the final counts of alerts whose last updates were rate-limited away.
    fn finish(&mut self, ts: Timestamp, out: &mut Alerts<'_>) {
        for (k, _, e) in self.pairs.iter_mut() {
            if !e.example.is_empty() && e.count > e.reported {
                e.reported = e.count;
                out.raise(entry_draft(&self.cfg, *k, e, ts));
            }
        }
    }

    fn stats(&self) -> DetectorStats {
        DetectorStats {
            entries: self.pairs.len() as u64,
            capacity: self.pairs.cap() as u64,
            evicted_total: self.pairs.evicted_total,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn kinds(s: &str) -> Vec<&'static str> {
        let bits = Scanner::default().scan(s.as_bytes());
        let mut k: Vec<&str> = (0..64)
            .filter(|&b| bits & (1 << b) != 0)
            .map(|b| KINDS[usize::from(rule_kind(b))])
            .collect();
        k.dedup();
        k
    }

    #[test]
    fn decodes() {
        let mut o = Vec::new();
        url_decode(b"a%2Fb+c%u002e%zz", &mut o);
        assert_eq!(o, b"a/b c.%zz");
    }

    #[test]
    fn attacks_match() {
        assert_eq!(kinds("/vuln?id=1%27+or+%271%27%3D%271"), ["sqli"]);
        assert_eq!(kinds("/?id=1' UNION/**/SELECT user,pass--"), ["sqli"]);
        assert_eq!(kinds("/?q=%3Cscript%3Ealert(1)%3C/script%3E"), ["xss"]);
        assert_eq!(
            kinds("/x?f=..%252f..%252fetc%252fpasswd"),
            ["path_traversal"]
        );
        assert_eq!(
            kinds("/ping?ip=127.0.0.1;cat%20/etc/hosts"),
            ["command_injection"]
        );
        assert_eq!(kinds("/?ip=1|id"), ["command_injection"]);
        assert_eq!(kinds("${${lower:j}ndi:ldap://x/a}"), ["log4shell"]);
        assert_eq!(
            kinds("${${::-j}${::-n}${::-d}${::-i}:rmi://x}"),
            ["log4shell"]
        );
        assert_eq!(kinds("() { :; }; /bin/bash -c id")[0], "command_injection");
        assert!(kinds("() { :;}; echo").contains(&"shellshock"));
    }

    #[test]
    fn benign_does_not_match() {
        for u in [
            "/index.html?q=it's+a+test&id=5&cat=2",
            "/recaptcha/api.js?onload=onloadCallback&render=explicit",
            "/search?q=rock+%26+roll;jsessionid=abc",
            "/api?json=%7B%22a%22%3A%22b%22%7D&b64=aGVsbG8gd29ybGQ=",
            "/a/../b/index.html",
            "/en-us/powershell/scripting/overview?view=powershell-7.4",
            "/select?union=1",
            "/page?x=${name}",
            "/w?title=O'Brien or Smith",
            "Mozilla/5.0 (X11; Linux x86_64; rv:102.0) Gecko/20100101 Firefox/102.0",
        ] {
            assert!(kinds(u).is_empty(), "{u}: {:?}", kinds(u));
        }
    }
}
