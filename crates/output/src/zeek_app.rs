//! Zeek-style application logs: `dns.log`, `http.log`, `ssl.log`, `ssh.log`, `socks.log`,
//! `dhcp.log`, with
//! Zeek's column names and types, as TSV (with `#` headers) or JSON lines. A log file is
//! created when its first row is written, as Zeek does.

use crate::eve_app::lossy;
use crate::zeek::{zeek_date, zeek_time, ZeekFormat};
use crate::{icmp_wire_ports, zeek_uid};
use serde_json::{json, Map, Value};
use std::fs::File;
use std::io::{self, BufWriter, Write};
use std::path::{Path, PathBuf};
use wirescope_core::{IpProto, Timestamp};
use wirescope_engine::{AppCtx, DnsEvent, Sink};
use wirescope_proto::{dhcp, dns, http, socks, ssh, tls};

/// One column value.
#[derive(Clone, Debug)]
pub enum Z {
    Unset,
    Str(String),
    Count(u64),
    Int(i64),
    Time(Timestamp),
    /// Seconds.
    Interval(f64),
    Bool(bool),
    Set(Vec<String>),
}

/// Zeek's TSV escaping: backslash, the separators and non-printable bytes as `\xNN`.
fn escape(s: &str, in_set: bool) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '\\' => out.push_str("\\\\"),
            '\t' => out.push_str("\\x09"),
            ',' if in_set => out.push_str("\\x2c"),
            c if (c as u32) < 0x20 || c as u32 == 0x7f => {
                out.push_str(&format!("\\x{:02x}", c as u32));
            }
            c => out.push(c),
        }
    }
    out
}

impl Z {
    fn tsv(&self) -> String {
        match self {
            Z::Unset => "-".into(),
            Z::Str(s) if s.is_empty() => "(empty)".into(),
            Z::Str(s) if s == "-" => "\\x2d".into(),
            Z::Str(s) => escape(s, false),
            Z::Count(n) => n.to_string(),
            Z::Int(n) => n.to_string(),
            Z::Time(t) => zeek_time(*t),
            Z::Interval(s) => format!("{s:.6}"),
            Z::Bool(b) => if *b { "T" } else { "F" }.into(),
            Z::Set(v) if v.is_empty() => "(empty)".into(),
            Z::Set(v) => v
                .iter()
                .map(|s| escape(s, true))
                .collect::<Vec<_>>()
                .join(","),
        }
    }

    fn json(&self) -> Option<Value> {
        Some(match self {
            Z::Unset => return None,
            Z::Str(s) => json!(s),
            Z::Count(n) => json!(n),
            Z::Int(n) => json!(n),
            Z::Time(t) => json!(t.as_secs_f64()),
            Z::Interval(s) => json!(s),
            Z::Bool(b) => json!(b),
            Z::Set(v) => json!(v),
        })
    }
}

/// Optional string: unset when empty.
fn opt(b: &[u8]) -> Z {
    if b.is_empty() {
        Z::Unset
    } else {
        Z::Str(lossy(b))
    }
}

/// One Zeek log file, created on its first row.
pub struct ZeekLog {
    dir: PathBuf,
    path: &'static str,
    fields: &'static [(&'static str, &'static str)],
    format: ZeekFormat,
    out: Option<BufWriter<File>>,
    pub rows: u64,
    error: Option<io::Error>,
}

impl ZeekLog {
    pub fn new(
        dir: &Path,
        path: &'static str,
        fields: &'static [(&'static str, &'static str)],
        format: ZeekFormat,
    ) -> ZeekLog {
        ZeekLog {
            dir: dir.to_path_buf(),
            path,
            fields,
            format,
            out: None,
            rows: 0,
            error: None,
        }
    }

    fn open(&mut self, first: Timestamp) -> io::Result<()> {
        std::fs::create_dir_all(&self.dir)?;
        let f = File::create(self.dir.join(format!("{}.log", self.path)))?;
        let mut w = BufWriter::with_capacity(1 << 16, f);
        if self.format == ZeekFormat::Tsv {
            writeln!(w, "#separator \\x09")?;
            writeln!(w, "#set_separator\t,")?;
            writeln!(w, "#empty_field\t(empty)")?;
            writeln!(w, "#unset_field\t-")?;
            writeln!(w, "#path\t{}", self.path)?;
            writeln!(w, "#open\t{}", zeek_date(first))?;
            write!(w, "#fields")?;
            for (n, _) in self.fields {
                write!(w, "\t{n}")?;
            }
            write!(w, "\n#types")?;
            for (_, t) in self.fields {
                write!(w, "\t{t}")?;
            }
            writeln!(w)?;
        }
        self.out = Some(w);
        Ok(())
    }

    /// Writes a row; `values` are in `fields` order.
    pub fn row(&mut self, ts: Timestamp, values: &[Z]) {
        if self.error.is_some() {
            return;
        }
        let r = (|| -> io::Result<()> {
            if self.out.is_none() {
                self.open(ts)?;
            }
            let Some(w) = self.out.as_mut() else {
                return Ok(());
            };
            match self.format {
                ZeekFormat::Tsv => {
                    let line: Vec<String> = values.iter().map(Z::tsv).collect();
                    writeln!(w, "{}", line.join("\t"))
                }
                ZeekFormat::Json => {
                    let mut m = Map::new();
                    for ((name, _), v) in self.fields.iter().zip(values) {
                        if let Some(j) = v.json() {
                            m.insert((*name).to_string(), j);
                        }
                    }
                    serde_json::to_writer(&mut *w, &Value::Object(m)).map_err(io::Error::from)?;
                    w.write_all(b"\n")
                }
            }
        })();
        match r {
            Ok(()) => self.rows += 1,
            Err(e) => self.error = Some(e),
        }
    }

    /// Writes `#close` (TSV) and flushes.
    pub fn finish(&mut self, last: Option<Timestamp>) -> io::Result<u64> {
        if let Some(e) = self.error.take() {
            return Err(e);
        }
        if let Some(w) = self.out.as_mut() {
            if self.format == ZeekFormat::Tsv {
                writeln!(w, "#close\t{}", zeek_date(last.unwrap_or_default()))?;
            }
            w.flush()?;
        }
        Ok(self.rows)
    }
}

const ID: [(&str, &str); 6] = [
    ("ts", "time"),
    ("uid", "string"),
    ("id.orig_h", "addr"),
    ("id.orig_p", "port"),
    ("id.resp_h", "addr"),
    ("id.resp_p", "port"),
];

macro_rules! fields {
    ($($n:literal : $t:literal),* $(,)?) => {
        &[ID[0], ID[1], ID[2], ID[3], ID[4], ID[5], $(($n, $t)),*]
    };
}

pub const DNS_FIELDS: &[(&str, &str)] = fields![
    "proto": "enum", "trans_id": "count", "rtt": "interval", "query": "string",
    "qclass": "count", "qclass_name": "string", "qtype": "count", "qtype_name": "string",
    "rcode": "count", "rcode_name": "string", "AA": "bool", "TC": "bool", "RD": "bool",
    "RA": "bool", "Z": "count", "answers": "vector[string]", "TTLs": "vector[interval]",
    "rejected": "bool",
];

pub const HTTP_FIELDS: &[(&str, &str)] = fields![
    "trans_depth": "count", "method": "string", "host": "string", "uri": "string",
    "referrer": "string", "version": "string", "user_agent": "string", "origin": "string",
    "request_body_len": "count", "response_body_len": "count", "status_code": "count",
    "status_msg": "string", "info_code": "count", "info_msg": "string", "tags": "set[enum]",
    "username": "string", "password": "string", "proxied": "set[string]",
    "orig_mime_types": "vector[string]", "resp_mime_types": "vector[string]",
];

pub const SSL_FIELDS: &[(&str, &str)] = fields![
    "version": "string", "cipher": "string", "curve": "string", "server_name": "string",
    "resumed": "bool", "last_alert": "string", "next_protocol": "string", "established": "bool",
    "ssl_history": "string", "cert_chain_fps": "vector[string]", "subject": "string",
    "issuer": "string", "not_valid_before": "time", "not_valid_after": "time", "ja3": "string",
    "ja3s": "string", "ja4": "string",
];

pub const SSH_FIELDS: &[(&str, &str)] = fields![
    "version": "count", "auth_success": "bool", "auth_attempts": "count", "direction": "enum",
    "client": "string", "server": "string", "cipher_alg": "string", "mac_alg": "string",
    "compression_alg": "string", "kex_alg": "string", "host_key_alg": "string",
    "host_key": "string",
];

/// Zeek's `socks.log` (`SOCKS::Info`). `password` is never filled: wirescope does not keep
/// passwords (Zeek's default, `SOCKS::default_capture_password = F`, logs none either).
pub const SOCKS_FIELDS: &[(&str, &str)] = fields![
    "version": "count", "user": "string", "password": "string", "status": "string",
    "request.host": "addr", "request.name": "string", "request_p": "port",
    "bound.host": "addr", "bound.name": "string", "bound_p": "port",
];

pub const DHCP_FIELDS: &[(&str, &str)] = &[
    ("ts", "time"),
    ("uids", "set[string]"),
    ("client_addr", "addr"),
    ("server_addr", "addr"),
    ("mac", "string"),
    ("host_name", "string"),
    ("client_fqdn", "string"),
    ("domain", "string"),
    ("requested_addr", "addr"),
    ("assigned_addr", "addr"),
    ("lease_time", "interval"),
    ("client_message", "string"),
    ("server_message", "string"),
    ("msg_types", "vector[string]"),
    ("duration", "interval"),
];

/// The five id columns after `ts` for a flow.
fn id_cols(ctx: &AppCtx<'_>, ts: Timestamp) -> Vec<Z> {
    let fl = ctx.flow;
    let (o, op) = fl.orig();
    let (r, rp) = fl.resp();
    let (op, rp) = icmp_wire_ports(fl, op, rp);
    vec![
        Z::Time(ts),
        Z::Str(zeek_uid(fl.id)),
        Z::Str(o.to_string()),
        Z::Count(u64::from(op)),
        Z::Str(r.to_string()),
        Z::Count(u64::from(rp)),
    ]
}

/// The application logs of one run.
pub struct ZeekAppLogs {
    pub dns: ZeekLog,
    pub http: ZeekLog,
    pub ssl: ZeekLog,
    pub ssh: ZeekLog,
    pub socks: ZeekLog,
    pub dhcp: ZeekLog,
    last: Option<Timestamp>,
}

impl ZeekAppLogs {
    pub fn new(dir: &Path, format: ZeekFormat) -> ZeekAppLogs {
        ZeekAppLogs {
            dns: ZeekLog::new(dir, "dns", DNS_FIELDS, format),
            http: ZeekLog::new(dir, "http", HTTP_FIELDS, format),
            ssl: ZeekLog::new(dir, "ssl", SSL_FIELDS, format),
            ssh: ZeekLog::new(dir, "ssh", SSH_FIELDS, format),
            socks: ZeekLog::new(dir, "socks", SOCKS_FIELDS, format),
            dhcp: ZeekLog::new(dir, "dhcp", DHCP_FIELDS, format),
            last: None,
        }
    }

    /// Closes every log that was opened; returns the rows written.
    pub fn finish(mut self, last: Option<Timestamp>) -> io::Result<u64> {
        let last = last.or(self.last);
        let mut n = 0;
        for l in [
            &mut self.dns,
            &mut self.http,
            &mut self.ssl,
            &mut self.ssh,
            &mut self.socks,
            &mut self.dhcp,
        ] {
            n += l.finish(last)?;
        }
        Ok(n)
    }

    fn dns_row(
        &mut self,
        ctx: &AppCtx<'_>,
        q: Option<&dns::PendingQuery>,
        msg: Option<&dns::Message<'_>>,
    ) {
        let ts = q.map_or(ctx.ts, |q| q.ts);
        let mut row = id_cols(ctx, ts);
        let proto = match ctx.flow.key.proto {
            IpProto::TCP => "tcp",
            _ => "udp",
        };
        let (id, qname, qclass, qtype) = match (q, msg) {
            (Some(q), _) => (q.id, Some(q.qname.as_str().to_string()), q.qclass, q.qtype),
            (None, Some(m)) => {
                let first = m.questions().next();
                let name = first.as_ref().and_then(|f| {
                    let mut b = dns::NameBuf::new();
                    f.name
                        .write_to(&mut b)
                        .ok()
                        .map(|()| b.as_str().to_string())
                });
                (
                    m.header().id,
                    name,
                    first.as_ref().map_or(0, |f| f.qclass),
                    first.as_ref().map_or(0, |f| f.qtype),
                )
            }
            (None, None) => return,
        };
        let has_q = qname.is_some();
        row.push(Z::Str(proto.into()));
        row.push(Z::Count(u64::from(id)));
        row.push(match (q, msg) {
            (Some(q), Some(_)) => Z::Interval(ctx.ts.since(q.ts) as f64 / 1e9),
            _ => Z::Unset,
        });
        row.push(qname.map_or(Z::Unset, Z::Str));
        let qclass = qclass & 0x7fff;
        row.push(if has_q {
            Z::Count(u64::from(qclass))
        } else {
            Z::Unset
        });
        row.push(if has_q {
            dns::class_name(qclass).map_or(Z::Unset, |s| Z::Str(s.into()))
        } else {
            Z::Unset
        });
        row.push(if has_q {
            Z::Count(u64::from(qtype))
        } else {
            Z::Unset
        });
        row.push(if has_q {
            Z::Str(crate::eve_app::rrtype(qtype))
        } else {
            Z::Unset
        });
        match msg {
            Some(m) if m.header().qr() => {
                let h = m.header();
                row.push(Z::Count(u64::from(m.rcode())));
                row.push(Z::Str(dns::rcode_name(m.rcode()).into()));
                row.push(Z::Bool(h.aa()));
                row.push(Z::Bool(h.tc()));
                row.push(Z::Bool(h.rd()));
                row.push(Z::Bool(h.ra()));
                row.push(Z::Count(u64::from(h.z())));
                let mut answers = Vec::new();
                let mut ttls = Vec::new();
                let mut rdata = String::new();
                for (sec, r) in m.records().take(256) {
                    if sec != dns::Section::Answer {
                        continue;
                    }
                    rdata.clear();
                    dns::format_rdata(&r, &mut rdata);
                    answers.push(if rdata.is_empty() {
                        crate::eve_app::rrtype(r.rtype)
                    } else {
                        rdata.clone()
                    });
                    ttls.push(format!("{:.6}", f64::from(r.ttl)));
                }
                let rejected = m.rcode() != 0 && answers.is_empty();
                row.push(if answers.is_empty() {
                    Z::Unset
                } else {
                    Z::Set(answers)
                });
                row.push(if ttls.is_empty() {
                    Z::Unset
                } else {
                    Z::Set(ttls)
                });
                row.push(Z::Bool(rejected));
            }
            _ => {
                let rd = q.is_some_and(|q| q.flags & 0x0100 != 0);
                row.extend([Z::Unset, Z::Unset, Z::Bool(false), Z::Bool(false)]);
                row.push(Z::Bool(rd));
                row.extend([
                    Z::Bool(false),
                    Z::Count(0),
                    Z::Unset,
                    Z::Unset,
                    Z::Bool(false),
                ]);
            }
        }
        self.dns.row(ts, &row);
    }
}

impl Sink for ZeekAppLogs {
    fn dns(&mut self, ctx: &AppCtx<'_>, ev: &DnsEvent<'_, '_>) {
        self.last = Some(ctx.ts);
        match ev {
            // Zeek logs one line per query/response pair, at the response (or at the end for
            // an unanswered query); a response without its query is logged on its own.
            DnsEvent::Message { msg, query, .. } if msg.header().qr() => {
                self.dns_row(ctx, *query, Some(msg));
            }
            DnsEvent::Message { .. } => {}
            DnsEvent::Unanswered(q) => self.dns_row(ctx, Some(q), None),
        }
    }

    fn http(&mut self, ctx: &AppCtx<'_>, tx: &http::Transaction) {
        let ts = tx.request_ts.or(tx.response_ts).unwrap_or(ctx.ts);
        let mut row = id_cols(ctx, ts);
        let count = |v: Option<u16>| v.map_or(Z::Unset, |v| Z::Count(u64::from(v)));
        row.extend([
            Z::Count(u64::from(tx.trans_depth)),
            opt(&tx.method),
            opt(&tx.host),
            opt(&tx.uri),
            opt(&tx.referer),
            opt(&tx.version),
            opt(&tx.user_agent),
            opt(&tx.origin),
            Z::Count(tx.request_body_len),
            Z::Count(tx.response_body_len),
            count(tx.status),
            opt(&tx.status_msg),
            count(tx.info_code),
            opt(&tx.info_msg),
            Z::Set(Vec::new()),
            opt(&tx.username),
            Z::Unset,
            Z::Unset,
            if tx.request_content_type.is_empty() {
                Z::Unset
            } else {
                Z::Set(vec![lossy(&tx.request_content_type)])
            },
            if tx.response_content_type.is_empty() {
                Z::Unset
            } else {
                Z::Set(vec![lossy(&tx.response_content_type)])
            },
        ]);
        self.last = Some(ctx.ts);
        self.http.row(ts, &row);
    }

    fn tls(&mut self, ctx: &AppCtx<'_>, s: &tls::TlsSession) {
        let ts = ctx.flow.first_ts;
        let mut row = id_cols(ctx, ts);
        let sh = s.server_hello.as_ref();
        let ch = s.client_hello.as_ref();
        let version = sh.map(|h| h.version);
        row.push(version.map_or(Z::Unset, |v| Z::Str(tls::version_name_zeek(v).into())));
        row.push(sh.map_or(Z::Unset, |h| {
            Z::Str(
                tls::cipher_name(h.cipher)
                    .map_or_else(|| format!("unknown-{}", h.cipher), str::to_string),
            )
        }));
        // The key-exchange group: TLS 1.3's key_share, or TLS <= 1.2's ServerKeyExchange.
        row.push(s.curve.map_or(Z::Unset, |g| {
            Z::Str(tls::group_name(g).map_or_else(|| format!("unknown-{g}"), str::to_string))
        }));
        row.push(ch.map_or(Z::Unset, |c| opt(&c.sni)));
        row.push(Z::Bool(s.resumed));
        row.push(
            s.alerts
                .last()
                .map_or(Z::Unset, |(_, d)| Z::Str(d.to_string())),
        );
        row.push(sh.map_or(Z::Unset, |h| opt(&h.alpn)));
        row.push(Z::Bool(s.established));
        row.push(if s.history.is_empty() {
            Z::Unset
        } else {
            Z::Str(lossy(&s.history))
        });
        row.push(if s.certs.is_empty() {
            Z::Unset
        } else {
            Z::Set(
                s.certs
                    .iter()
                    .map(|c| c.sha1_fingerprint.replace(':', ""))
                    .collect(),
            )
        });
        let leaf = s.certs.first();
        row.push(leaf.map_or(Z::Unset, |c| Z::Str(c.subject_zeek.clone())));
        row.push(leaf.map_or(Z::Unset, |c| Z::Str(c.issuer_zeek.clone())));
        row.push(leaf.map_or(Z::Unset, |c| {
            Z::Time(Timestamp(c.not_before.saturating_mul(1_000_000_000)))
        }));
        row.push(leaf.map_or(Z::Unset, |c| {
            Z::Time(Timestamp(c.not_after.saturating_mul(1_000_000_000)))
        }));
        row.push(ch.map_or(Z::Unset, |c| Z::Str(c.ja3_hash.clone())));
        row.push(sh.map_or(Z::Unset, |h| Z::Str(h.ja3s_hash.clone())));
        row.push(ch.map_or(Z::Unset, |c| Z::Str(c.ja4.clone())));
        self.last = Some(ctx.ts);
        self.ssl.row(ts, &row);
    }

    fn ssh(&mut self, ctx: &AppCtx<'_>, s: &ssh::SshSession) {
        let ts = ctx.flow.first_ts;
        let mut row = id_cols(ctx, ts);
        let neg = |i: usize| s.negotiated(i).map_or(Z::Unset, opt);
        row.extend([
            s.version().map_or(Z::Unset, |v| Z::Count(u64::from(v))),
            Z::Unset,
            Z::Count(0),
            Z::Unset,
            opt(&s.client.banner),
            opt(&s.server.banner),
            neg(2),
            neg(4),
            neg(6),
            neg(0),
            neg(1),
            Z::Unset,
        ]);
        self.last = Some(ctx.ts);
        self.ssh.row(ts, &row);
    }

    fn socks(&mut self, ctx: &AppCtx<'_>, s: &socks::SocksSession) {
        let ts = ctx.flow.first_ts;
        let mut row = id_cols(ctx, ts);
        let host = |a: &socks::Address| a.ip.map_or(Z::Unset, |ip| Z::Str(ip.to_string()));
        let port = |a: &socks::Address| a.port.map_or(Z::Unset, |p| Z::Count(u64::from(p)));
        row.extend([
            Z::Count(u64::from(s.version)),
            opt(&s.user),
            Z::Unset,
            s.status().map_or(Z::Unset, |t| Z::Str(t.into())),
            host(&s.request),
            opt(&s.request.name),
            port(&s.request),
            host(&s.bound),
            opt(&s.bound.name),
            port(&s.bound),
        ]);
        self.last = Some(ctx.ts);
        self.socks.row(ts, &row);
    }

    fn dhcp(&mut self, tx: &dhcp::Transaction) {
        let addr = |a: Option<std::net::Ipv4Addr>| a.map_or(Z::Unset, |a| Z::Str(a.to_string()));
        let row = [
            Z::Time(tx.ts),
            Z::Unset,
            addr(tx.client_addr),
            addr(tx.server_addr),
            tx.mac
                .map_or(Z::Unset, |m| Z::Str(wirescope_engine::app::mac_string(&m))),
            opt(&tx.host_name),
            opt(&tx.client_fqdn),
            opt(&tx.domain),
            addr(tx.requested_addr),
            addr(tx.assigned_addr),
            tx.lease_time
                .map_or(Z::Unset, |l| Z::Interval(f64::from(l))),
            opt(&tx.client_message),
            opt(&tx.server_message),
            Z::Set(
                tx.msg_types
                    .iter()
                    .map(|t| dhcp::msg_type_name(*t).to_string())
                    .collect(),
            ),
            Z::Interval(tx.last_ts.since(tx.ts) as f64 / 1e9),
        ];
        self.last = Some(tx.last_ts);
        self.dhcp.row(tx.ts, &row);
    }
}
