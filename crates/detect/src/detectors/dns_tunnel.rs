//! `dns_tunnel`: DNS tunnels (iodine, dns2tcp, dnscat2) and DNS C2 over TXT, per
//! (client, registered domain).
//!
//! # Method
//! Each DNS query's first question is split into *subdomain* and *registered domain*
//! (public-suffix aware with the `psl` crate, so `a.b.example.co.uk` → `example.co.uk`; a
//! TLD that is not on the list counts as a suffix, so `x.pirate.sea` → `pirate.sea`; names
//! whose last label is not a possible TLD (digits, as in dnscat2's direct mode
//! `dnscat.<hex>.<hex>`) are grouped under one pseudo-domain `(invalid-tld)`). Per (client,
//! registered domain), over a tumbling window of `window_s`, the detector keeps: queries,
//! unique subdomains (linear counting over a 1 024-bit bitmap of subdomain hashes: no name
//! is stored), mean subdomain length, longest label, mean character entropy of the
//! subdomain, the share of tunnel record types (TXT, NULL, CNAME, MX, SRV, ANY, private
//! 65280–65534) and TXT alone, and the bytes of information (subdomain bytes of queries +
//! response message sizes), the features of Nadler et al. 2019 and RITA.
//!
//! An alert is raised when, in the window, unique subdomains ≥ `min_unique_subdomains` and
//! information ≥ `min_info_bytes` and the names look encoded: either mean subdomain length
//! ≥ `min_mean_subdomain_len` with mean entropy ≥ `min_mean_entropy`, or a tunnel record
//! type share ≥ `min_tunnel_type_share`. Kind `txt_c2` when TXT queries are at least
//! `txt_share` of the queries (commands/data ride in TXT answers, dns2tcp, DNS C2), `tunnel`
//! otherwise. src = the client (the tunnel endpoint inside), dst = the server it queried;
//! the registered domain is in the signature and evidence with up to 3 example names.
//!
//! Never counted: mDNS / LLMNR (ports 5353 / 5355, multicast servers), `.local`, reverse
//! lookups (`.arpa`), names with a `_label` (DNS-SD, SRV, DKIM, DMARC), DNSBL-shaped names
//! (a reversed IPv4 address or 32 reversed IPv6 nibbles in front of the zone), and the
//! registered domains in `ignore_domains` (DNSBL and antivirus reputation zones).
//!
//! # Parameters (defaults)
//! - `window_s` = 3600: Nadler et al. aggregate per domain per hour.
//! - `min_unique_subdomains` = 100: RITA's lowest tier (100 / 500 / 800 / 1000).
//! - `min_info_bytes` = 4096: 4 KiB carried in an hour (Nadler et al. cap low-rate
//!   exfiltration they still catch at ~1 KB/hour; we stay above to keep CDNs out).
//! - `min_mean_subdomain_len` = 20 and `min_mean_entropy` = 3.0 bits/char: base32/64 and hex
//!   encodings of tunnels give 30–130 characters at 4–5 bits; CDN and cloud names are
//!   shorter on average and few per domain. (nDPI flags a single first label > 48.)
//! - `min_tunnel_type_share` = 0.5, `txt_share` = 0.8.
//! - `max_domains` = 4096: (client, domain) entries.
//! - `ignore_domains`: DNSBL and reputation zones (see [`Config::default`]).
//!
//! # False positives
//! Antivirus / reputation services that encode hashes in names (add their zone to
//! `ignore_domains`), some telemetry SDKs, DNSBL zones not on the list queried by a mail
//! server with IPv6 nibble names (covered by the shape test). DGA lookups are many registered
//! domains with one name each: not a tunnel, never counted together. Missed: tunnels slower
//! than ~4 KiB/hour, DoH (not DNS over UDP/TCP 53).
//!
//! # Cost and state
//! Per DNS message: one walk over the question's labels into a 256-byte stack buffer, one
//! public-suffix lookup, two hashes, one table lookup; no allocation. State: one [`Table`] of
//! at most `max_domains` entries of about 450 bytes (bitmap, counters, 3 example names cut
//! to 48 bytes), expired after `window_s` idle.

use crate::detectors::util::{host_draft, Every, SEC};
use crate::table::Table;
use crate::{evidence, Alerts, Detector, DetectorId, DetectorStats, Interest};
use serde::{Deserialize, Serialize};
use std::net::IpAddr;
use wirescope_core::Timestamp;
use wirescope_engine::{AppCtx, DnsEvent};

#[derive(Clone, Debug, Deserialize, Serialize)]
#[serde(default, deny_unknown_fields)]
pub struct Config {
    pub enabled: bool,
    /// Tumbling window per (client, registered domain), seconds.
    pub window_s: u64,
    /// Unique subdomains of one registered domain from one client in the window.
    pub min_unique_subdomains: u32,
    /// Bytes of information (query subdomains + responses) in the window.
    pub min_info_bytes: u64,
    /// Mean subdomain length (characters) that looks encoded.
    pub min_mean_subdomain_len: f64,
    /// Mean Shannon entropy of the subdomains, bits per character.
    pub min_mean_entropy: f64,
    /// Share of TXT/NULL/CNAME/MX/SRV/ANY/private-type queries that alone looks like a
    /// tunnel (with enough unique subdomains and information).
    pub min_tunnel_type_share: f64,
    /// Share of TXT queries from which the kind is `txt_c2`.
    pub txt_share: f64,
    /// Most (client, registered domain) entries.
    pub max_domains: usize,
    /// Registered domains never counted (DNSBL, reputation services).
    pub ignore_domains: Vec<String>,
}

impl Default for Config {
    fn default() -> Self {
        Config {
            enabled: true,
            window_s: 3600,
            min_unique_subdomains: 100,
            min_info_bytes: 4096,
            min_mean_subdomain_len: 20.0,
            min_mean_entropy: 3.0,
            min_tunnel_type_share: 0.5,
            txt_share: 0.8,
            max_domains: 4096,
            ignore_domains: [
                // DNSBL / URIBL zones.
                "spamhaus.org",
                "spamcop.net",
                "sorbs.net",
                "barracudacentral.org",
                "surbl.org",
                "uribl.com",
                "dnswl.org",
                "mailspike.net",
                "senderscore.com",
                // Antivirus / reputation lookups that encode hashes in names.
                "sophosxl.net",
                "mcafee.com",
                "e5.sk",
                "trendmicro.com",
                "webroot.com",
                "cymru.com",
            ]
            .iter()
            .map(|s| s.to_string())
            .collect(),
        }
    }
}

const BITS: usize = 1024;
const EXAMPLES: usize = 3;
const EXAMPLE_LEN: usize = 48;
const DOMAIN_LEN: usize = 64;
const INVALID_TLD: &[u8] = b"(invalid-tld)";

/// Per (client, registered domain) state for the current window.
struct DomState {
    domain: [u8; DOMAIN_LEN],
    domain_len: u8,
    server: IpAddr,
    window_start: Timestamp,
    first_ts: Timestamp,
    queries: u32,
    tunnel_types: u32,
    txt: u32,
    sub_len_sum: u64,
    entropy_sum: f64,
    max_label: u8,
    info_bytes: u64,
    bitmap: [u64; BITS / 64],
    examples: [[u8; EXAMPLE_LEN]; EXAMPLES],
    example_lens: [u8; EXAMPLES],
    next_example: u8,
    last_example_hash: u64,
    every: Every,
}

impl DomState {
    fn new(domain: &[u8], server: IpAddr, ts: Timestamp) -> DomState {
        let mut d = [0u8; DOMAIN_LEN];
        let n = domain.len().min(DOMAIN_LEN);
        d[..n].copy_from_slice(&domain[..n]);
        DomState {
            domain: d,
            domain_len: n as u8,
            server,
            window_start: ts,
            first_ts: ts,
            queries: 0,
            tunnel_types: 0,
            txt: 0,
            sub_len_sum: 0,
            entropy_sum: 0.0,
            max_label: 0,
            info_bytes: 0,
            bitmap: [0; BITS / 64],
            examples: [[0; EXAMPLE_LEN]; EXAMPLES],
            example_lens: [0; EXAMPLES],
            next_example: 0,
            last_example_hash: 0,
            every: Every::default(),
        }
    }

    fn reset(&mut self, ts: Timestamp) {
        self.window_start = ts;
        self.first_ts = ts;
        self.queries = 0;
        self.tunnel_types = 0;
        self.txt = 0;
        self.sub_len_sum = 0;
        self.entropy_sum = 0.0;
        self.max_label = 0;
        self.info_bytes = 0;
        self.bitmap = [0; BITS / 64];
    }

    /// Linear counting estimate of unique subdomains (Whang et al. 1990).
    fn unique(&self) -> u32 {
        let zeros: u32 = self.bitmap.iter().map(|w| w.count_zeros()).sum();
        let m = BITS as f64;
        if zeros == 0 {
            return (m * m.ln()) as u32;
        }
        (-m * (f64::from(zeros) / m).ln()).round() as u32
    }

    fn mean_len(&self) -> f64 {
        self.sub_len_sum as f64 / f64::from(self.queries.max(1))
    }

    fn mean_entropy(&self) -> f64 {
        self.entropy_sum / f64::from(self.queries.max(1))
    }

    fn share(&self, n: u32) -> f64 {
        f64::from(n) / f64::from(self.queries.max(1))
    }
}

pub struct DnsTunnel {
    cfg: Config,
    ignore: Vec<u64>,
    doms: Table<(IpAddr, u64), DomState>,
    last_sweep: Option<Timestamp>,
}

impl DnsTunnel {
    pub fn new(cfg: &Config) -> Result<DnsTunnel, crate::BuildError> {
        let ignore = cfg
            .ignore_domains
            .iter()
            .map(|d| {
                fnv(d
                    .trim()
                    .trim_end_matches('.')
                    .to_ascii_lowercase()
                    .as_bytes())
            })
            .collect();
        Ok(DnsTunnel {
            cfg: cfg.clone(),
            ignore,
            doms: Table::new(cfg.max_domains),
            last_sweep: None,
        })
    }
}

/// FNV-1a 64 (deterministic; the table's own hasher is seeded against chosen keys).
fn fnv(b: &[u8]) -> u64 {
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    for &x in b {
        h ^= u64::from(x);
        h = h.wrapping_mul(0x0000_0100_0000_01b3);
    }
    h
}

/// Record types that carry data in tunnels: CNAME, MX, NULL, TXT, SRV, ANY, private use.
fn tunnel_type(t: u16) -> bool {
    matches!(t, 5 | 10 | 15 | 16 | 33 | 255 | 65280..=65534)
}

/// A name split for counting: lowercase presentation bytes and where the registered domain
/// starts. `None` for names never counted.
struct Split {
    buf: [u8; 256],
    len: usize,
    /// Offset of the registered domain in `buf` (0: no subdomain).
    reg: usize,
    invalid_tld: bool,
    max_label: u8,
}

impl Split {
    fn name(&self) -> &[u8] {
        &self.buf[..self.len]
    }
    fn subdomain(&self) -> &[u8] {
        if self.invalid_tld {
            self.name()
        } else {
            &self.buf[..self.reg.saturating_sub(1)]
        }
    }
    fn domain(&self) -> &[u8] {
        if self.invalid_tld {
            INVALID_TLD
        } else {
            &self.buf[self.reg..self.len]
        }
    }
}

/// Printable ASCII as is, other octets as `\xhh` (tunnel labels carry binary).
fn printable(b: &[u8]) -> String {
    let mut s = String::with_capacity(b.len());
    for &c in b {
        if (0x21..0x7f).contains(&c) && c != b'\\' {
            s.push(char::from(c));
        } else {
            s.push_str(&format!("\\x{c:02x}"));
        }
    }
    s
}

fn all(b: &[u8], f: impl Fn(u8) -> bool) -> bool {
    !b.is_empty() && b.iter().all(|&c| f(c))
}

/// Lowercases `name`'s labels into a buffer and finds its registered domain.
fn split(name: &wirescope_proto::dns::Name<'_>) -> Option<Split> {
    let mut s = Split {
        buf: [0; 256],
        len: 0,
        reg: 0,
        invalid_tld: false,
        max_label: 0,
    };
    let mut labels = 0usize;
    let mut ipv4_prefix = 0usize; // leading all-digit labels
    let mut nibble_prefix = 0usize; // leading single-hex-char labels
    let mut last_start = 0;
    for l in name.labels() {
        let l = l.ok()?;
        if l.first() == Some(&b'_') {
            return None; // DNS-SD, SRV, DKIM, DMARC: structured metadata
        }
        if labels > 0 {
            *s.buf.get_mut(s.len)? = b'.';
            s.len += 1;
        }
        last_start = s.len;
        for &c in l {
            // A dot inside a label would confuse the suffix lookup.
            let c = if c == b'.' {
                b'_'
            } else {
                c.to_ascii_lowercase()
            };
            *s.buf.get_mut(s.len)? = c;
            s.len += 1;
        }
        if ipv4_prefix == labels && l.len() <= 3 && all(l, |c| c.is_ascii_digit()) {
            ipv4_prefix += 1;
        }
        if nibble_prefix == labels && l.len() == 1 && all(l, |c| c.is_ascii_hexdigit()) {
            nibble_prefix += 1;
        }
        s.max_label = s.max_label.max(l.len().min(255) as u8);
        labels += 1;
    }
    if labels < 2 {
        return None;
    }
    // DNSBL shape: reversed IPv4 (4 octets) or IPv6 (32 nibbles) before a zone.
    if ipv4_prefix >= 4 || nibble_prefix >= 32 {
        return None;
    }
    let tld = &s.buf[last_start..s.len];
    if tld == b"local" || tld == b"arpa" || tld == b"localhost" || tld == b"internal" {
        return None;
    }
    let tld_ok = tld.starts_with(b"xn--") || all(tld, |c| c.is_ascii_alphabetic());
    if !tld_ok {
        s.invalid_tld = true;
        return Some(s);
    }
    let reg_len = psl::domain(s.name())?.as_bytes().len();
    s.reg = s.len - reg_len;
    Some(s)
}

impl DnsTunnel {
    fn raise(&self, client: IpAddr, st: &DomState, ts: Timestamp, out: &mut Alerts<'_>) {
        let domain = String::from_utf8_lossy(&st.domain[..usize::from(st.domain_len)]);
        let txt = st.share(st.txt) >= self.cfg.txt_share;
        let (kind, idx) = if txt { ("txt_c2", 1) } else { ("tunnel", 0) };
        let unique = st.unique();
        let signature = if txt {
            format!("DNS C2/tunnel over TXT via {domain}: {unique} unique subdomains")
        } else {
            format!("DNS tunnel via {domain}: {unique} unique subdomains")
        };
        let mut d = host_draft(
            DetectorId::DnsTunnel,
            kind,
            idx,
            signature,
            "Potentially Bad Traffic",
            if txt { 1 } else { 2 },
            Some(client),
            Some(st.server),
            st.first_ts,
            ts,
        );
        let examples: Vec<String> = (0..EXAMPLES)
            .filter(|&i| st.example_lens[i] > 0)
            .map(|i| printable(&st.examples[i][..usize::from(st.example_lens[i])]))
            .collect();
        let r2 = |x: f64| (x * 100.0).round() / 100.0;
        d.evidence = evidence! {
            "domain" => domain,
            "queries" => st.queries,
            "unique_subdomains" => unique,
            "mean_subdomain_len" => r2(st.mean_len()),
            "max_label_len" => st.max_label,
            "mean_entropy" => r2(st.mean_entropy()),
            "tunnel_type_share" => r2(st.share(st.tunnel_types)),
            "txt_share" => r2(st.share(st.txt)),
            "info_bytes" => st.info_bytes,
            "examples" => examples,
            "window_s" => self.cfg.window_s,
            "min_unique_subdomains" => self.cfg.min_unique_subdomains,
            "min_info_bytes" => self.cfg.min_info_bytes,
            "min_mean_subdomain_len" => self.cfg.min_mean_subdomain_len,
            "min_mean_entropy" => self.cfg.min_mean_entropy,
            "min_tunnel_type_share" => self.cfg.min_tunnel_type_share,
        };
        out.raise(d);
    }

    fn suspicious(&self, st: &DomState) -> bool {
        let c = &self.cfg;
        st.unique() >= c.min_unique_subdomains
            && st.info_bytes >= c.min_info_bytes
            && ((st.mean_len() >= c.min_mean_subdomain_len
                && st.mean_entropy() >= c.min_mean_entropy)
                || st.share(st.tunnel_types) >= c.min_tunnel_type_share)
    }
}

impl Detector for DnsTunnel {
    fn id(&self) -> DetectorId {
        DetectorId::DnsTunnel
    }

    fn interests(&self) -> Interest {
        Interest::DNS | Interest::TICK
    }

    fn dns(&mut self, ctx: &AppCtx<'_>, ev: &DnsEvent<'_, '_>, out: &mut Alerts<'_>) {
        let DnsEvent::Message { msg, .. } = ev else {
            return;
        };
        let (client, cport) = ctx.flow.orig();
        let (server, sport) = ctx.flow.resp();
        if matches!(sport, 5353 | 5355) || matches!(cport, 5353 | 5355) || server.is_multicast() {
            return;
        }
        let Some(q) = msg.first_question() else {
            return;
        };
        let Some(s) = split(&q.name) else {
            return;
        };
        let dom_hash = fnv(s.domain());
        if self.ignore.contains(&dom_hash) {
            return;
        }
        let ts = ctx.ts;
        let win_ns = self.cfg.window_s.saturating_mul(SEC);
        let key = (client, dom_hash);
        if msg.header().qr() {
            // A response: its size is information sent back to the client.
            if let Some(st) = self.doms.get_mut(&key) {
                st.info_bytes += msg.bytes().len() as u64;
            }
            return;
        }
        let st = self
            .doms
            .entry(key, ts, || DomState::new(s.domain(), server, ts));
        if ts.since(st.window_start) > win_ns {
            st.reset(ts);
        }
        st.server = server;
        let sub = s.subdomain();
        st.queries += 1;
        if tunnel_type(q.qtype) {
            st.tunnel_types += 1;
        }
        if q.qtype == 16 {
            st.txt += 1;
        }
        st.sub_len_sum += sub.len() as u64;
        st.info_bytes += sub.len() as u64;
        st.max_label = st.max_label.max(s.max_label);
        if !sub.is_empty() {
            let mut counts = [0u32; 256];
            let mut n = 0u32;
            for &c in sub.iter().filter(|&&c| c != b'.') {
                counts[usize::from(c)] += 1;
                n += 1;
            }
            let nf = f64::from(n.max(1));
            st.entropy_sum += counts
                .iter()
                .filter(|&&c| c > 0)
                .map(|&c| {
                    let p = f64::from(c) / nf;
                    -p * p.log2()
                })
                .sum::<f64>();
        }
        let h = fnv(sub);
        // splitmix64 finaliser spreads FNV's low bits before picking a bit.
        let mut z = h.wrapping_add(0x9e37_79b9_7f4a_7c15);
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^= z >> 31;
        let bit = (z % BITS as u64) as usize;
        st.bitmap[bit / 64] |= 1 << (bit % 64);
        if h != st.last_example_hash && !sub.is_empty() {
            st.last_example_hash = h;
            let i = usize::from(st.next_example) % EXAMPLES;
            let name = s.name();
            let n = name.len().min(EXAMPLE_LEN);
            st.examples[i][..n].copy_from_slice(&name[..n]);
            st.example_lens[i] = n as u8;
            st.next_example = st.next_example.wrapping_add(1);
        }
        let Some(st) = self.doms.get(&key) else {
            return;
        };
        if self.suspicious(st) {
            let due = self
                .doms
                .get_mut(&key)
                .is_some_and(|s| s.every.due(ts, SEC));
            if due {
                if let Some(st) = self.doms.get(&key) {
                    self.raise(client, st, ts, out);
                }
            }
        }
    }

    fn tick(&mut self, ts: Timestamp, _out: &mut Alerts<'_>) {
        if self.last_sweep.is_some_and(|l| ts.since(l) < 60 * SEC) {
            return;
        }
        self.last_sweep = Some(ts);
        self.doms.expire(ts, self.cfg.window_s.saturating_mul(SEC));
    }

    fn stats(&self) -> DetectorStats {
        DetectorStats {
            entries: self.doms.len() as u64,
            capacity: self.doms.cap() as u64,
            evicted_total: self.doms.evicted_total,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn wire(name: &str) -> Vec<u8> {
        let mut v = Vec::new();
        for l in name.split('.') {
            v.push(l.len() as u8);
            v.extend_from_slice(l.as_bytes());
        }
        v.push(0);
        v
    }

    fn sp(name: &str) -> Option<(String, String)> {
        let w = wire(name);
        let n = wirescope_proto::dns::Name::new(&w, 0);
        split(&n).map(|s| {
            (
                String::from_utf8_lossy(s.subdomain()).into_owned(),
                String::from_utf8_lossy(s.domain()).into_owned(),
            )
        })
    }

    #[test]
    fn registered_domain_is_public_suffix_aware() {
        assert_eq!(
            sp("a.B.Example.co.uk"),
            Some(("a.b".into(), "example.co.uk".into()))
        );
        assert_eq!(
            sp("abc.pirate.sea"),
            Some(("abc".into(), "pirate.sea".into()))
        );
        assert_eq!(
            sp("dnscat.5a1b.c9"),
            Some(("dnscat.5a1b.c9".into(), "(invalid-tld)".into()))
        );
        assert_eq!(sp("example.com"), Some(("".into(), "example.com".into())));
    }

    #[test]
    fn excluded_names() {
        assert_eq!(sp("4.3.2.1.in-addr.arpa"), None);
        assert_eq!(sp("_services._dns-sd._udp.local"), None);
        assert_eq!(sp("printer.local"), None);
        assert_eq!(sp("4.3.2.1.zen.example.org"), None); // DNSBL shape
        assert_eq!(sp("sel._domainkey.example.com"), None);
        assert_eq!(sp("localhost"), None);
    }

    #[test]
    fn linear_counting_estimates() {
        let mut st = DomState::new(b"x.test", IpAddr::from([0, 0, 0, 0]), Timestamp(0));
        assert_eq!(st.unique(), 0);
        for i in 0..300u32 {
            let mut z = fnv(&i.to_le_bytes()).wrapping_add(0x9e37_79b9_7f4a_7c15);
            z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
            let bit = (z % BITS as u64) as usize;
            st.bitmap[bit / 64] |= 1 << (bit % 64);
        }
        let u = st.unique();
        assert!((250..=350).contains(&u), "{u}");
    }
}
