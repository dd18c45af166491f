//! Zeek-style logs: `conn.log` as TSV (Zeek's default writer, with its `#` header lines) or as
//! JSON lines (Zeek's `LogAscii::use_json`), with Zeek's field names.

use crate::{flow_community_id, icmp_wire_ports, zeek_uid};
use serde_json::json;
use std::fs::File;
use std::io::{self, BufWriter, Write};
use std::path::Path;
use wirescope_core::{IpProto, Timestamp};
use wirescope_engine::Sink;
use wirescope_flow::Flow;

const CONN_FIELDS: [(&str, &str); 22] = [
    ("ts", "time"),
    ("uid", "string"),
    ("id.orig_h", "addr"),
    ("id.orig_p", "port"),
    ("id.resp_h", "addr"),
    ("id.resp_p", "port"),
    ("proto", "enum"),
    ("service", "string"),
    ("duration", "interval"),
    ("orig_bytes", "count"),
    ("resp_bytes", "count"),
    ("conn_state", "string"),
    ("local_orig", "bool"),
    ("local_resp", "bool"),
    ("missed_bytes", "count"),
    ("history", "string"),
    ("orig_pkts", "count"),
    ("orig_ip_bytes", "count"),
    ("resp_pkts", "count"),
    ("resp_ip_bytes", "count"),
    ("tunnel_parents", "set[string]"),
    ("community_id", "string"),
];

/// Log format of the Zeek-style writer.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ZeekFormat {
    Tsv,
    Json,
}

/// Writes `conn.log` into a directory.
pub struct ZeekConnLog {
    out: BufWriter<File>,
    format: ZeekFormat,
    error: Option<io::Error>,
    header_done: bool,
    pub rows: u64,
}

pub(crate) fn zeek_time(t: Timestamp) -> String {
    format!("{}.{:06}", t.secs(), t.subsec_nanos() / 1000)
}

impl ZeekConnLog {
    pub fn create(dir: &Path, format: ZeekFormat) -> io::Result<ZeekConnLog> {
        std::fs::create_dir_all(dir)?;
        let f = File::create(dir.join("conn.log"))?;
        Ok(ZeekConnLog {
            out: BufWriter::with_capacity(1 << 16, f),
            format,
            error: None,
            header_done: false,
            rows: 0,
        })
    }

    fn header(&mut self, first: Timestamp) -> io::Result<()> {
        self.header_done = true;
        if self.format == ZeekFormat::Json {
            return Ok(());
        }
        let w = &mut self.out;
        writeln!(w, "#separator \\x09")?;
        writeln!(w, "#set_separator\t,")?;
        writeln!(w, "#empty_field\t(empty)")?;
        writeln!(w, "#unset_field\t-")?;
        writeln!(w, "#path\tconn")?;
        writeln!(w, "#open\t{}", zeek_date(first))?;
        write!(w, "#fields")?;
        for (n, _) in CONN_FIELDS {
            write!(w, "\t{n}")?;
        }
        write!(w, "\n#types")?;
        for (_, t) in CONN_FIELDS {
            write!(w, "\t{t}")?;
        }
        writeln!(w)
    }

    fn row(&mut self, fl: &Flow) -> io::Result<()> {
        if !self.header_done {
            self.header(fl.first_ts)?;
        }
        let (o, op) = fl.orig();
        let (r, rp) = fl.resp();
        let (op, rp) = icmp_wire_ports(fl, op, rp);
        let proto = match fl.key.proto {
            IpProto::TCP => "tcp",
            IpProto::UDP => "udp",
            IpProto::ICMP | IpProto::ICMPV6 => "icmp",
            _ => "unknown_transport",
        };
        let single = fl.pkts[0] + fl.pkts[1] <= 1;
        let duration = (!single).then(|| format!("{:.6}", fl.duration_ns() as f64 / 1e9));
        let (ob, rb) = if single && fl.payload_bytes == [0, 0] {
            (None, None)
        } else {
            (Some(fl.payload_bytes[0]), Some(fl.payload_bytes[1]))
        };
        let missed = fl.tcp[0].missed_bytes + fl.tcp[1].missed_bytes;
        let history = fl.history.as_str();
        let cid = flow_community_id(fl);
        match self.format {
            ZeekFormat::Json => {
                let mut v = json!({
                    "ts": fl.first_ts.as_secs_f64(),
                    "uid": zeek_uid(fl.id),
                    "id.orig_h": o.to_string(),
                    "id.orig_p": op,
                    "id.resp_h": r.to_string(),
                    "id.resp_p": rp,
                    "proto": proto,
                    "conn_state": fl.conn_state(),
                    "missed_bytes": missed,
                    "orig_pkts": fl.pkts[0],
                    "orig_ip_bytes": fl.ip_bytes[0],
                    "resp_pkts": fl.pkts[1],
                    "resp_ip_bytes": fl.ip_bytes[1],
                    "community_id": cid,
                });
                if duration.is_some() {
                    v["duration"] = json!(fl.duration_ns() as f64 / 1e9);
                }
                if let (Some(ob), Some(rb)) = (ob, rb) {
                    v["orig_bytes"] = json!(ob);
                    v["resp_bytes"] = json!(rb);
                }
                if !history.is_empty() {
                    v["history"] = json!(history);
                }
                if let Some(service) = fl.app_proto.zeek() {
                    v["service"] = json!(service);
                }
                serde_json::to_writer(&mut self.out, &v).map_err(io::Error::from)?;
                self.out.write_all(b"\n")
            }
            ZeekFormat::Tsv => {
                let dash = || "-".to_string();
                writeln!(
                    self.out,
                    "{}\t{}\t{o}\t{op}\t{r}\t{rp}\t{proto}\t{}\t{}\t{}\t{}\t{}\t-\t-\t{missed}\t{}\t{}\t{}\t{}\t{}\t(empty)\t{cid}",
                    zeek_time(fl.first_ts),
                    zeek_uid(fl.id),
                    fl.app_proto.zeek().unwrap_or("-"),
                    duration.unwrap_or_else(dash),
                    ob.map_or_else(dash, |b| b.to_string()),
                    rb.map_or_else(dash, |b| b.to_string()),
                    fl.conn_state(),
                    if history.is_empty() { "-" } else { history },
                    fl.pkts[0],
                    fl.ip_bytes[0],
                    fl.pkts[1],
                    fl.ip_bytes[1],
                )
            }
        }
    }

    /// Writes the `#close` line (TSV) and flushes.
    pub fn finish(mut self, last: Option<Timestamp>) -> io::Result<u64> {
        if let Some(e) = self.error.take() {
            return Err(e);
        }
        if !self.header_done {
            self.header(last.unwrap_or_default())?;
        }
        if self.format == ZeekFormat::Tsv {
            writeln!(self.out, "#close\t{}", zeek_date(last.unwrap_or_default()))?;
        }
        self.out.flush()?;
        Ok(self.rows)
    }
}

impl Sink for ZeekConnLog {
    fn flow(&mut self, fl: &Flow) {
        if self.error.is_some() {
            return;
        }
        match self.row(fl) {
            Ok(()) => self.rows += 1,
            Err(e) => self.error = Some(e),
        }
    }
}

/// Zeek's `#open`/`#close` date format: `2024-01-02-03-04-05`.
pub(crate) fn zeek_date(t: Timestamp) -> String {
    let s = t.to_string(); // 2024-01-02T03:04:05.678901+0000
    format!("{}-{}-{}-{}", &s[..10], &s[11..13], &s[14..16], &s[17..19])
}
