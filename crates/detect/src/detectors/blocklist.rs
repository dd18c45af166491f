//! `blocklist`: traffic to or from known-bad IPs and CIDRs, and names of known-bad domains,
//! from list files in the formats users have.
//!
//! **Formats** (one list may mix the line formats; the Zeek header switches a file to TSV):
//! * plain: one IP, CIDR or domain per line, `#` and `;` start comments, extra columns
//!   ignored (FireHOL, IPsum `ip<TAB>count`, Spamhaus DROP `1.2.3.0/24 ; SBL123`), hosts
//!   files (`0.0.0.0 bad.example`);
//! * Zeek Intel TSV: a `#fields` header naming `indicator` and `indicator_type`; types
//!   `Intel::ADDR`, `Intel::SUBNET`, `Intel::DOMAIN` are loaded, others (URL, EMAIL, hashes)
//!   skipped; `meta.source` is kept for evidence;
//! * Suricata IP reputation CSV: `ip_or_cidr,category,score` (both numbers).
//!
//! A line that is none of these fails the build with the list name and line number.
//!
//! **Method.** IP prefixes are kept in one hash table per prefix length (IPv4 and IPv6
//! separately); a lookup probes the lengths present, longest first, so it costs at most 33
//! (IPv4) or 129 (IPv6) probes and in practice one to three (lists hold /32 and a few CIDR
//! lengths): O(prefix length), independent of the number of entries. Domains are a hash set;
//! a name matches when it or any parent domain is listed (label by label, O(labels)).
//!
//! Hooks: every IP packet (source and destination looked up) → kind `ip`, source = the host
//! talking with the listed address, destination = the listed address; DNS questions, CNAME
//! and other name answers, HTTP `Host`, TLS SNI and the `authority` of a PROXY protocol v2
//! header → kind `domain`, source = the client, destination = the server it asked (DNS
//! resolver, web server); the client a PROXY protocol header names (behind a load balancer
//! or reverse proxy every packet of the connection carries the balancer's address, so no
//! packet lookup can see it) → kind `proxied_ip`, source = the server behind the balancer,
//! destination = the listed client. One alert per (host, indicator address) and kind, raised
//! at the first packet or header and updated at most once a second.
//! Evidence: `list`, `indicator` (the listed prefix or domain), `matched` (address or name
//! seen), `line`, `meta` (list comment / category / source), `direction` of the first packet (`to_listed`,
//! `from_listed`), `packets`, `payload_bytes`, and for domains `via` (`dns_query`, `dns_answer`,
//! `http_host`, `tls_sni`, `proxy_authority`); for `proxied_ip` `via` (`proxy_header`),
//! `balancer` (the address the connection came from), `proxied_dst` (the address and port the
//! client connected to, on the balancer), `client_port` and `connections`.
//!
//! **Parameters** — see [`Config`]: `files` (paths, read by the caller into `sources`),
//! `max_hosts` 10 000 (state bound).
//!
//! **Known false positives** are the lists': shared hosting and CDN addresses listed for one
//! tenant, sinkholed domains, stale entries. Choose lists with care; allow-list your own ranges.
//!
//! **Cost.** Per packet: two lookups of one to a few hash probes when addresses are listed,
//! nothing when no IP list is loaded; per DNS/HTTP/TLS name: one probe per label, the name
//! lower-cased into a reused buffer; no allocation except when alerting. Build: 1.25 s for
//! the 120 430-line IPsum feed in a debug build (test `ipsum_feed_loads_fast_and_matches`). **State**: the lists (fixed after build) and one
//! `Table` of at most `max_hosts` (host, indicator) entries.

use crate::detectors::util::{host_draft, Every, SEC};
use crate::table::Table;
use crate::{evidence, Alerts, BuildError, Detector, DetectorId, DetectorStats, Interest};
use serde::{Deserialize, Serialize};
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr};
use wirescope_core::Timestamp;
use wirescope_engine::{AppCtx, DnsEvent};
use wirescope_wire::Packet;

#[derive(Clone, Debug, Deserialize, Serialize)]
#[serde(default, deny_unknown_fields)]
pub struct Config {
    pub enabled: bool,
    /// List files (one indicator per line, Spamhaus DROP, Zeek Intel, Suricata IP
    /// reputation). Read by the caller into `sources`.
    pub files: Vec<std::path::PathBuf>,
    /// (name, text) of each list, filled by the caller from `files` and `--blocklist`.
    #[serde(skip)]
    pub sources: Vec<(String, String)>,
    /// Most (host, indicator) pairs tracked for alert updates (default 10 000).
    pub max_hosts: usize,
}

impl Default for Config {
    fn default() -> Self {
        Config {
            enabled: true,
            files: Vec::new(),
            sources: Vec::new(),
            max_hosts: 10_000,
        }
    }
}

/// Where an indicator came from.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Origin {
    /// Index into the list names.
    pub list: u16,
    /// 1-based line number.
    pub line: u32,
    /// Comment, category/score or Zeek `meta.source` (empty when none).
    pub meta: Box<str>,
}

/// Longest-prefix-match table: one hash map per prefix length.
#[derive(Default)]
pub struct PrefixSet {
    /// `by_len[l]`: masked network (as u128) → origin index, for each length l in 0..=128.
    by_len: Vec<hashbrown::HashMap<u128, u32, foldhash::fast::FixedState>>,
    /// Lengths present, longest first.
    lens: Vec<u8>,
    bits: u8,
}

fn mask(a: u128, len: u8, bits: u8) -> u128 {
    if len == 0 {
        return 0;
    }
    let shift = bits - len;
    if shift >= 128 {
        0
    } else {
        a >> shift << shift
    }
}

impl PrefixSet {
    pub fn new(bits: u8) -> PrefixSet {
        PrefixSet {
            by_len: (0..=bits).map(|_| Default::default()).collect(),
            lens: Vec::new(),
            bits,
        }
    }

    /// Adds `addr/len` (host bits cleared); the first origin given for a prefix is kept.
    pub fn insert(&mut self, addr: u128, len: u8, origin: u32) {
        let len = len.min(self.bits);
        let m = &mut self.by_len[usize::from(len)];
        m.entry(mask(addr, len, self.bits)).or_insert(origin);
        if !self.lens.contains(&len) {
            self.lens.push(len);
            self.lens.sort_unstable_by(|a, b| b.cmp(a));
        }
    }

    /// The longest listed prefix holding `addr`: (prefix length, origin).
    #[inline]
    pub fn lookup(&self, addr: u128) -> Option<(u8, u32)> {
        for &l in &self.lens {
            if let Some(&o) = self.by_len[usize::from(l)].get(&mask(addr, l, self.bits)) {
                return Some((l, o));
            }
        }
        None
    }

    pub fn len(&self) -> usize {
        self.by_len.iter().map(|m| m.len()).sum()
    }

    pub fn is_empty(&self) -> bool {
        self.lens.is_empty()
    }
}

/// The loaded lists.
pub struct Lists {
    pub names: Vec<String>,
    pub origins: Vec<Origin>,
    pub v4: PrefixSet,
    pub v6: PrefixSet,
    pub domains: hashbrown::HashMap<Box<str>, u32, foldhash::fast::FixedState>,
}

/// A parsed indicator.
#[derive(Debug, PartialEq, Eq)]
pub enum Indicator<'a> {
    Net(IpAddr, u8),
    Domain(&'a str),
}

/// Parses `1.2.3.4`, `1.2.3.0/24`, `2001:db8::/32`; `None` when it is not an address.
pub fn parse_net(s: &str) -> Option<Result<(IpAddr, u8), String>> {
    let (a, l) = match s.split_once('/') {
        Some((a, l)) => (a, Some(l)),
        None => (s, None),
    };
    let ip: IpAddr = match a.parse() {
        Ok(ip) => ip,
        Err(_) => {
            // Looks like an address (digits and dots only, or a colon) but is not one.
            let addr_like = a.contains(':')
                || (!a.is_empty() && a.bytes().all(|b| b.is_ascii_digit() || b == b'.'));
            return addr_like.then(|| Err(format!("bad address `{s}`")));
        }
    };
    let max = if ip.is_ipv4() { 32 } else { 128 };
    let len = match l {
        None => max,
        Some(l) => match l.parse::<u8>() {
            Ok(n) if n <= max => n,
            _ => return Some(Err(format!("bad prefix length in `{s}`"))),
        },
    };
    Some(Ok((ip, len)))
}

/// Whether `s` is a domain name: labels of letters, digits, `-`, `_`, at least two labels.
pub fn is_domain(s: &str) -> bool {
    let s = s.strip_suffix('.').unwrap_or(s);
    s.len() <= 253
        && s.contains('.')
        && s.split('.').all(|l| {
            !l.is_empty()
                && l.len() <= 63
                && l.bytes()
                    .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
        })
        && !s.bytes().all(|b| b.is_ascii_digit() || b == b'.')
}

fn indicator(tok: &str) -> Result<Indicator<'_>, String> {
    match parse_net(tok) {
        Some(Ok((ip, l))) => Ok(Indicator::Net(ip, l)),
        Some(Err(e)) => Err(e),
        None if is_domain(tok) => Ok(Indicator::Domain(tok.strip_suffix('.').unwrap_or(tok))),
        None => Err(format!("not an IP, CIDR or domain: `{tok}`")),
    }
}

impl Lists {
    pub fn empty() -> Lists {
        Lists {
            names: Vec::new(),
            origins: Vec::new(),
            v4: PrefixSet::new(32),
            v6: PrefixSet::new(128),
            domains: Default::default(),
        }
    }

    /// Loads every (name, text) list; an unreadable line fails with `name:line: why`.
    pub fn build(sources: &[(String, String)]) -> Result<Lists, BuildError> {
        let mut l = Lists::empty();
        for (name, text) in sources {
            l.add(name, text)
                .map_err(|(line, why)| BuildError(format!("blocklist {name}:{line}: {why}")))?;
        }
        Ok(l)
    }

    fn push(&mut self, ind: Indicator<'_>, origin: Origin) {
        let o = self.origins.len() as u32;
        match ind {
            Indicator::Net(IpAddr::V4(a), len) => self.v4.insert(u128::from(u32::from(a)), len, o),
            Indicator::Net(IpAddr::V6(a), len) => self.v6.insert(u128::from(a), len, o),
            Indicator::Domain(d) => {
                let d = d.to_ascii_lowercase().into_boxed_str();
                self.domains.entry(d).or_insert(o);
            }
        }
        self.origins.push(origin);
    }

    /// Adds one list.
    pub fn add(&mut self, name: &str, text: &str) -> Result<(), (usize, String)> {
        let list = self.names.len() as u16;
        self.names.push(name.to_string());
        // Zeek Intel columns, once a `#fields` header is seen.
        let mut zeek: Option<(usize, usize, Option<usize>)> = None;
        for (i, raw) in text.lines().enumerate() {
            let line_no = i + 1;
            let line = raw.trim();
            if let Some(f) = line.strip_prefix("#fields") {
                let cols: Vec<&str> = f.trim_start_matches(['\t', ' ']).split('\t').collect();
                let ind = cols.iter().position(|c| *c == "indicator");
                let typ = cols.iter().position(|c| *c == "indicator_type");
                let src = cols.iter().position(|c| *c == "meta.source");
                match (ind, typ) {
                    (Some(a), Some(b)) => zeek = Some((a, b, src)),
                    _ => {
                        return Err((
                            line_no,
                            "Zeek #fields without indicator and indicator_type".into(),
                        ))
                    }
                }
                continue;
            }
            if line.is_empty() || line.starts_with('#') || line.starts_with(';') {
                continue;
            }
            let origin = |meta: &str| Origin {
                list,
                line: line_no as u32,
                meta: meta.trim().into(),
            };
            if let Some((ci, ct, cs)) = zeek {
                let cols: Vec<&str> = raw.split('\t').collect();
                let (Some(ind), Some(typ)) = (cols.get(ci), cols.get(ct)) else {
                    return Err((line_no, "missing Zeek Intel columns".into()));
                };
                let meta = cs.and_then(|c| cols.get(c)).copied().unwrap_or("");
                let parsed = match *typ {
                    "Intel::ADDR" | "Intel::SUBNET" => match parse_net(ind) {
                        Some(Ok((ip, l))) => Indicator::Net(ip, l),
                        _ => return Err((line_no, format!("bad {typ} `{ind}`"))),
                    },
                    "Intel::DOMAIN" if is_domain(ind) => Indicator::Domain(ind),
                    "Intel::DOMAIN" => return Err((line_no, format!("bad domain `{ind}`"))),
                    _ => continue,
                };
                self.push(parsed, origin(meta));
                continue;
            }
            // Suricata IP reputation: ip,category,score.
            if line.contains(',') {
                let f: Vec<&str> = line.split(',').map(str::trim).collect();
                if f.len() == 3 && f[1].parse::<u32>().is_ok() && f[2].parse::<u32>().is_ok() {
                    match parse_net(f[0]) {
                        Some(Ok((ip, l))) => {
                            let meta = format!("category {} score {}", f[1], f[2]);
                            self.push(Indicator::Net(ip, l), origin(&meta));
                            continue;
                        }
                        _ => return Err((line_no, format!("bad address `{}`", f[0]))),
                    }
                }
                return Err((line_no, format!("unrecognised line `{line}`")));
            }
            // Plain / DROP / IPsum / hosts file: first token, comment after `;` or `#`.
            let (body, comment) = match line.find([';', '#']) {
                Some(p) => (&line[..p], &line[p + 1..]),
                None => (line, ""),
            };
            let mut toks = body.split_whitespace();
            let Some(first) = toks.next() else { continue };
            let rest: Vec<&str> = toks.collect();
            let tok = if matches!(first, "0.0.0.0" | "127.0.0.1" | "::" | "::1") && !rest.is_empty()
            {
                rest[0]
            } else {
                first
            };
            let meta = if comment.is_empty() {
                rest.join(" ")
            } else {
                comment.to_string()
            };
            let ind = indicator(tok).map_err(|e| (line_no, e))?;
            self.push(ind, origin(&meta));
        }
        Ok(())
    }

    /// The longest listed prefix holding `ip`.
    #[inline]
    pub fn lookup_ip(&self, ip: IpAddr) -> Option<(u8, u32)> {
        match ip {
            IpAddr::V4(a) => self.v4.lookup(u128::from(u32::from(a))),
            IpAddr::V6(a) => {
                if let Some(v4) = a.to_ipv4_mapped() {
                    return self.v4.lookup(u128::from(u32::from(v4)));
                }
                self.v6.lookup(u128::from(a))
            }
        }
    }

    /// The listed domain that `name` (lower case, no trailing dot) is or is under.
    pub fn lookup_domain<'n>(&self, name: &'n str) -> Option<(&'n str, u32)> {
        if self.domains.is_empty() {
            return None;
        }
        let mut s = name;
        loop {
            if let Some(&o) = self.domains.get(s) {
                return Some((s, o));
            }
            match s.find('.') {
                Some(p) => s = &s[p + 1..],
                None => return None,
            }
        }
    }

    pub fn len(&self) -> usize {
        self.origins.len()
    }

    pub fn is_empty(&self) -> bool {
        self.origins.is_empty()
    }
}

fn prefix_string(ip: IpAddr, len: u8) -> String {
    match ip {
        IpAddr::V4(a) => {
            let m = mask(u128::from(u32::from(a)), len, 32) as u32;
            format!("{}/{len}", Ipv4Addr::from(m))
        }
        IpAddr::V6(a) => {
            let v4 = a.to_ipv4_mapped();
            if let Some(v4) = v4 {
                return prefix_string(IpAddr::V4(v4), len);
            }
            format!("{}/{len}", Ipv6Addr::from(mask(u128::from(a), len, 128)))
        }
    }
}

/// Per (host, listed address, kind).
struct Hit {
    first_ts: Timestamp,
    packets: u64,
    bytes: u64,
    origin: u32,
    /// Listed prefix length (`ip`).
    len: u8,
    to_listed: bool,
    /// The first listed name seen (`domain`), allocated when first reported, and where the
    /// listed domain starts in it.
    matched: String,
    indicator_at: usize,
    via: u8,
    /// `proxied_ip`: the balancer the first header came from, and the address and port the
    /// client connected to and from.
    proxy: Option<ProxyVia>,
    /// `packets` at the last report.
    reported: u64,
    every: Every,
}

/// Where a `proxied_ip` hit was seen.
#[derive(Clone, Copy)]
struct ProxyVia {
    balancer: IpAddr,
    proxied_dst: Option<SocketAddr>,
    client_port: u16,
}

impl Hit {
    fn new(ts: Timestamp, origin: u32) -> Hit {
        Hit {
            first_ts: ts,
            packets: 0,
            bytes: 0,
            origin,
            len: 0,
            to_listed: true,
            matched: String::new(),
            indicator_at: 0,
            via: 0,
            proxy: None,
            reported: 0,
            every: Every::default(),
        }
    }
}

/// The alert about one (host, listed address or server, kind).
fn hit_draft(
    lists: &Lists,
    (host, other, kind): (IpAddr, IpAddr, u8),
    h: &Hit,
    ts: Timestamp,
) -> crate::AlertDraft {
    if kind == 2 {
        return proxied_draft(lists, (host, other), h, ts);
    }
    let o = &lists.origins[h.origin as usize];
    let list = &lists.names[usize::from(o.list)];
    let mut d = if kind == 0 {
        host_draft(
            DetectorId::Blocklist,
            "ip",
            0,
            format!("{host} talks with {other}, listed in {list}"),
            "Potentially Bad Traffic",
            2,
            Some(host),
            Some(other),
            h.first_ts,
            ts,
        )
    } else {
        host_draft(
            DetectorId::Blocklist,
            "domain",
            1,
            format!(
                "{host} looked up or contacted {}, listed in {list}",
                h.matched
            ),
            "Potentially Bad Traffic",
            2,
            Some(host),
            Some(other),
            h.first_ts,
            ts,
        )
    };
    d.evidence = if kind == 0 {
        evidence! {
            "list" => list.clone(),
            "indicator" => prefix_string(other, h.len),
            "matched" => other.to_string(),
            "line" => o.line,
            "meta" => o.meta.to_string(),
            "direction" => if h.to_listed { "to_listed" } else { "from_listed" },
            "packets" => h.packets,
            "payload_bytes" => h.bytes,
        }
    } else {
        evidence! {
            "list" => list.clone(),
            "indicator" => h.matched.get(h.indicator_at..).unwrap_or("").to_string(),
            "matched" => h.matched.clone(),
            "line" => o.line,
            "meta" => o.meta.to_string(),
            "via" => VIA[usize::from(h.via)],
            "events" => h.packets,
        }
    };
    d
}

/// The alert about a listed client behind a load balancer (kind `proxied_ip`).
fn proxied_draft(
    lists: &Lists,
    (server, client): (IpAddr, IpAddr),
    h: &Hit,
    ts: Timestamp,
) -> crate::AlertDraft {
    let o = &lists.origins[h.origin as usize];
    let list = &lists.names[usize::from(o.list)];
    let balancer = h.proxy.map(|p| p.balancer);
    let mut d = host_draft(
        DetectorId::Blocklist,
        "proxied_ip",
        2,
        format!(
            "{client} talks with {server} through the proxy {}, listed in {list}",
            balancer.map_or_else(String::new, |b| b.to_string())
        ),
        "Potentially Bad Traffic",
        2,
        Some(server),
        Some(client),
        h.first_ts,
        ts,
    );
    d.evidence = evidence! {
        "list" => list.clone(),
        "indicator" => prefix_string(client, h.len),
        "matched" => client.to_string(),
        "line" => o.line,
        "meta" => o.meta.to_string(),
        "via" => "proxy_header",
        "balancer" => balancer.map_or_else(String::new, |b| b.to_string()),
        "proxied_dst" => h.proxy.and_then(|p| p.proxied_dst).map_or_else(String::new, |a| a.to_string()),
        "client_port" => h.proxy.map_or(0, |p| p.client_port),
        "connections" => h.packets,
    };
    d
}

const VIA: [&str; 6] = [
    "packet",
    "dns_query",
    "dns_answer",
    "http_host",
    "tls_sni",
    "proxy_authority",
];

pub struct Blocklist {
    lists: Lists,
    hits: Table<(IpAddr, IpAddr, u8), Hit>,
    name: String,
}

impl Blocklist {
    pub fn new(cfg: &Config) -> Result<Blocklist, BuildError> {
        Ok(Blocklist {
            lists: Lists::build(&cfg.sources)?,
            hits: Table::new(cfg.max_hosts),
            name: String::with_capacity(256),
        })
    }

    pub fn lists(&self) -> &Lists {
        &self.lists
    }

    #[allow(clippy::too_many_arguments)]
    fn hit_ip(
        &mut self,
        ts: Timestamp,
        host: IpAddr,
        listed: IpAddr,
        len: u8,
        origin: u32,
        to_listed: bool,
        bytes: u64,
        out: &mut Alerts<'_>,
    ) {
        // Direction and prefix of the first packet: who started talking.
        let h = self.hits.entry((host, listed, 0), ts, || Hit {
            len,
            to_listed,
            ..Hit::new(ts, origin)
        });
        h.packets += 1;
        h.bytes += bytes;
        if h.every.due(ts, SEC) {
            h.reported = h.packets;
            out.raise(hit_draft(&self.lists, (host, listed, 0), h, ts));
        }
    }

    /// Looks up `self.name` (already lower case, no trailing dot).
    fn check_name(
        &mut self,
        ts: Timestamp,
        client: IpAddr,
        server: IpAddr,
        via: u8,
        out: &mut Alerts<'_>,
    ) {
        let Some((dom, origin)) = self.lists.lookup_domain(&self.name) else {
            return;
        };
        let skip = self.name.len() - dom.len();
        let h = self
            .hits
            .entry((client, server, 1), ts, || Hit::new(ts, origin));
        h.packets += 1;
        if h.every.due(ts, SEC) {
            h.reported = h.packets;
            if h.matched.is_empty() {
                h.matched = self.name.clone();
                h.indicator_at = skip;
                h.via = via;
                h.origin = origin;
            }
            out.raise(hit_draft(&self.lists, (client, server, 1), h, ts));
        }
    }

    /// Copies a host name (HTTP Host without port, SNI) into `self.name`, lower case.
    fn set_name(&mut self, raw: &[u8]) -> bool {
        self.name.clear();
        let mut r = raw;
        // Strip a port (`host:8080`), but not from a bracketed IPv6 literal.
        if !r.starts_with(b"[") {
            if let Some(p) = r.iter().rposition(|&b| b == b':') {
                r = &r[..p];
            }
        }
        let r = r.strip_suffix(b".").unwrap_or(r);
        if r.is_empty() || r.len() > 253 || !r.iter().all(|b| b.is_ascii_graphic()) {
            return false;
        }
        self.name
            .extend(r.iter().map(|b| char::from(b.to_ascii_lowercase())));
        true
    }

    fn set_dns_name(&mut self, n: &wirescope_proto::dns::Name<'_>) -> bool {
        self.name.clear();
        for l in n.labels() {
            let Ok(l) = l else { return false };
            if !self.name.is_empty() {
                self.name.push('.');
            }
            if self.name.len() + l.len() > 253 || !l.iter().all(|b| b.is_ascii_graphic()) {
                return false;
            }
            self.name
                .extend(l.iter().map(|b| char::from(b.to_ascii_lowercase())));
        }
        !self.name.is_empty()
    }
}

impl Detector for Blocklist {
    fn id(&self) -> DetectorId {
        DetectorId::Blocklist
    }
    fn interests(&self) -> Interest {
        let mut i = Interest::default();
        if !self.lists.v4.is_empty() || !self.lists.v6.is_empty() {
            i = i | Interest::PACKET | Interest::PROXY;
        }
        if !self.lists.domains.is_empty() {
            i = i | Interest::DNS | Interest::HTTP | Interest::TLS | Interest::PROXY;
        }
        i
    }

    fn packet(&mut self, ts: Timestamp, pkt: &Packet<'_>, out: &mut Alerts<'_>) {
        let Some(ip) = pkt.ip else { return };
        let bytes = u64::from(pkt.payload_wire_len);
        match (self.lists.lookup_ip(ip.src), self.lists.lookup_ip(ip.dst)) {
            (None, None) => {}
            (None, Some((len, o))) => self.hit_ip(ts, ip.src, ip.dst, len, o, true, bytes, out),
            (Some((len, o)), None) => self.hit_ip(ts, ip.dst, ip.src, len, o, false, bytes, out),
            // Both listed: one alert for the pair whatever the direction (the larger address
            // is reported as the listed one).
            (Some(s), Some(d)) => {
                if ip.src < ip.dst {
                    self.hit_ip(ts, ip.src, ip.dst, d.0, d.1, true, bytes, out)
                } else {
                    self.hit_ip(ts, ip.dst, ip.src, s.0, s.1, false, bytes, out)
                }
            }
        }
    }

    fn dns(&mut self, ctx: &AppCtx<'_>, ev: &DnsEvent<'_, '_>, out: &mut Alerts<'_>) {
        let DnsEvent::Message { msg, .. } = ev else {
            return;
        };
        let (client, _) = ctx.flow.orig();
        let (server, _) = ctx.flow.resp();
        let qr = msg.header().qr();
        if let Some(q) = msg.first_question() {
            if self.set_dns_name(&q.name) {
                self.check_name(ctx.ts, client, server, if qr { 2 } else { 1 }, out);
            }
        }
        if !qr {
            return;
        }
        for (_, r) in msg.records().take(32) {
            let n = match r.rdata {
                wirescope_proto::dns::RData::Name(n) => n,
                wirescope_proto::dns::RData::Mx { exchange, .. } => exchange,
                wirescope_proto::dns::RData::Srv { target, .. } => target,
                _ => continue,
            };
            if self.set_dns_name(&n) {
                self.check_name(ctx.ts, client, server, 2, out);
            }
        }
    }

    fn http(
        &mut self,
        ctx: &AppCtx<'_>,
        tx: &wirescope_proto::http::Transaction,
        out: &mut Alerts<'_>,
    ) {
        if self.set_name(&tx.host) {
            let (client, _) = ctx.flow.orig();
            let (server, _) = ctx.flow.resp();
            self.check_name(ctx.ts, client, server, 3, out);
        }
    }

    fn tls(
        &mut self,
        ctx: &AppCtx<'_>,
        s: &wirescope_proto::tls::TlsSession,
        out: &mut Alerts<'_>,
    ) {
        let Some(ch) = &s.client_hello else { return };
        if self.set_name(&ch.sni) {
            let (client, _) = ctx.flow.orig();
            let (server, _) = ctx.flow.resp();
            self.check_name(ctx.ts, client, server, 4, out);
        }
    }

    /// The client behind a load balancer, and the host name it asked the balancer for.
    fn proxy(
        &mut self,
        ctx: &AppCtx<'_>,
        h: &wirescope_proto::proxy::ProxyHeader,
        out: &mut Alerts<'_>,
    ) {
        let (balancer, _) = ctx.flow.orig();
        let (server, _) = ctx.flow.resp();
        let client = h.src.map(|a| a.ip());
        if let Some(c) = h.src {
            if let Some((len, origin)) = self.lists.lookup_ip(c.ip()) {
                let via = ProxyVia {
                    balancer,
                    proxied_dst: h.dst,
                    client_port: c.port(),
                };
                let hit = self.hits.entry((server, c.ip(), 2), ctx.ts, || Hit {
                    len,
                    proxy: Some(via),
                    ..Hit::new(ctx.ts, origin)
                });
                hit.packets += 1;
                if hit.every.due(ctx.ts, SEC) {
                    hit.reported = hit.packets;
                    out.raise(hit_draft(&self.lists, (server, c.ip(), 2), hit, ctx.ts));
                }
            }
        }
        if !self.lists.domains.is_empty() && self.set_name(&h.authority) {
            self.check_name(ctx.ts, client.unwrap_or(balancer), server, 5, out);
        }
    }

    /// Reports the final counts of alerts whose last updates were rate-limited away.
    fn finish(&mut self, ts: Timestamp, out: &mut Alerts<'_>) {
        for (k, _, h) in self.hits.iter_mut() {
            if h.reported > 0 && h.packets > h.reported {
                h.reported = h.packets;
                out.raise(hit_draft(&self.lists, *k, h, ts));
            }
        }
    }

    fn stats(&self) -> DetectorStats {
        DetectorStats {
            entries: self.hits.len() as u64,
            capacity: self.hits.cap() as u64,
            evicted_total: self.hits.evicted_total,
        }
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    fn lists(text: &str) -> Lists {
        Lists::build(&[("t".into(), text.into())]).unwrap()
    }

    fn ip(s: &str) -> IpAddr {
        s.parse().unwrap()
    }

    #[test]
    fn plain_and_ipsum_and_hosts() {
        let l = lists(
            "# comment\n; other\n1.2.3.4\n10.0.0.0/8\t3\nbad.example.com\n0.0.0.0 ads.example.net\n2001:db8::/32\n",
        );
        assert_eq!(l.lookup_ip(ip("1.2.3.4")), Some((32, 0)));
        assert_eq!(l.lookup_ip(ip("10.20.30.40")).unwrap().0, 8);
        assert_eq!(l.lookup_ip(ip("1.2.3.5")), None);
        assert!(l.lookup_ip(ip("2001:db8:1::1")).is_some());
        assert!(l.lookup_ip(ip("::ffff:1.2.3.4")).is_some());
        assert_eq!(
            l.lookup_domain("x.bad.example.com").unwrap().0,
            "bad.example.com"
        );
        assert!(l.lookup_domain("example.com").is_none());
        assert!(l.lookup_domain("ads.example.net").is_some());
        assert_eq!(&*l.origins[1].meta, "3");
    }

    #[test]
    fn spamhaus_drop() {
        let l = lists("; Spamhaus DROP List\n1.10.16.0/20 ; SBL256894\n");
        let (len, o) = l.lookup_ip(ip("1.10.20.1")).unwrap();
        assert_eq!(len, 20);
        assert_eq!(&*l.origins[o as usize].meta, "SBL256894");
        assert_eq!(l.origins[o as usize].line, 2);
    }

    #[test]
    fn zeek_intel() {
        let l = lists(
            "#fields\tindicator\tindicator_type\tmeta.source\n\
             198.51.100.7\tIntel::ADDR\tfeedA\n\
             203.0.113.0/24\tIntel::SUBNET\tfeedB\n\
             evil.example\tIntel::DOMAIN\tfeedC\n\
             http://x/y\tIntel::URL\tfeedD\n",
        );
        assert!(l.lookup_ip(ip("198.51.100.7")).is_some());
        assert_eq!(l.lookup_ip(ip("203.0.113.9")).unwrap().0, 24);
        let (_, o) = l.lookup_domain("www.evil.example").unwrap();
        assert_eq!(&*l.origins[o as usize].meta, "feedC");
        assert_eq!(l.len(), 3);
    }

    #[test]
    fn suricata_reputation() {
        let l = lists("192.0.2.1,1,100\n192.0.2.128/25,2,50\n");
        assert_eq!(l.lookup_ip(ip("192.0.2.200")).unwrap().0, 25);
        assert_eq!(&*l.origins[0].meta, "category 1 score 100");
    }

    #[test]
    fn bad_line_names_list_and_line() {
        let e = Lists::build(&[("mylist".into(), "1.2.3.4\n\n1.2.3.999\n".into())])
            .err()
            .unwrap();
        assert!(e.0.contains("mylist:3"), "{}", e.0);
        let e = Lists::build(&[("z".into(), "1.2.3.0/33\n".into())])
            .err()
            .unwrap();
        assert!(e.0.contains("z:1"), "{}", e.0);
        let e = Lists::build(&[("z".into(), "not a thing!\n".into())])
            .err()
            .unwrap();
        assert!(e.0.contains("z:1"), "{}", e.0);
    }

    /// Longest-prefix match equals a linear scan on random prefixes and addresses.
    #[test]
    fn prefix_set_matches_linear_scan() {
        let mut x: u64 = 0x9E37_79B9_7F4A_7C15;
        let mut rnd = || {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            x
        };
        for bits in [32u8, 128] {
            let mut set = PrefixSet::new(bits);
            let mut all: Vec<(u128, u8, u32)> = Vec::new();
            // A small address space (18 varying bits at the top of the low/high end), so that
            // prefixes overlap and queries hit them.
            let addr = |r: u64| -> u128 {
                let v = u128::from(r & 0x3_ffff);
                if bits == 32 {
                    v << 14 | u128::from(r >> 40) & 0x3fff
                } else {
                    v << 110 | u128::from(r >> 20)
                }
            };
            for i in 0..2000u32 {
                let a = addr(rnd());
                let len = (rnd() % (u64::from(bits) + 1)) as u8;
                let m = mask(a, len, bits);
                if !all.iter().any(|e| e.0 == m && e.1 == len) {
                    all.push((m, len, i));
                }
                set.insert(a, len, i);
            }
            let mut hits = 0;
            for _ in 0..5000 {
                let q = addr(rnd());
                let lin = all
                    .iter()
                    .filter(|(m, l, _)| mask(q, *l, bits) == *m)
                    .max_by_key(|(_, l, _)| *l)
                    .map(|(_, l, o)| (*l, *o));
                assert_eq!(set.lookup(q), lin, "bits {bits} q {q:x}");
                hits += usize::from(lin.is_some());
            }
            assert!(hits > 100, "bits {bits}: only {hits} hits");
        }
    }
}
