//! The human-readable summary: aligned tables of the report, for a terminal.

use std::fmt::Write as _;
use wirescope_engine::{AppReport, NameEntry, Report, RttStats};

/// A simple left/right aligned text table.
struct Table {
    title: String,
    head: Vec<&'static str>,
    rows: Vec<Vec<String>>,
}

impl Table {
    fn new(title: impl Into<String>, head: Vec<&'static str>) -> Self {
        Table {
            title: title.into(),
            head,
            rows: Vec::new(),
        }
    }

    fn row(&mut self, r: Vec<String>) {
        self.rows.push(r);
    }

    fn render(&self, out: &mut String) {
        if self.rows.is_empty() {
            return;
        }
        let mut w: Vec<usize> = self.head.iter().map(|h| h.len()).collect();
        for r in &self.rows {
            for (i, c) in r.iter().enumerate() {
                if i < w.len() {
                    w[i] = w[i].max(c.chars().count());
                }
            }
        }
        let _ = writeln!(out, "\n{}", self.title);
        let line = |out: &mut String, cells: &[String]| {
            let mut s = String::from("  ");
            for (i, c) in cells.iter().enumerate() {
                let pad = w[i].saturating_sub(c.chars().count());
                // First column left-aligned (names), the rest right-aligned (numbers).
                if i == 0 {
                    s.push_str(c);
                    s.push_str(&" ".repeat(pad));
                } else {
                    s.push_str(&" ".repeat(pad));
                    s.push_str(c);
                }
                s.push_str("  ");
            }
            let _ = writeln!(out, "{}", s.trim_end());
        };
        let head: Vec<String> = self.head.iter().map(|h| h.to_string()).collect();
        line(out, &head);
        let rule: Vec<String> = w.iter().map(|n| "-".repeat(*n)).collect();
        line(out, &rule);
        for r in &self.rows {
            line(out, r);
        }
    }
}

/// Human units: 1.5 KB, 2.3 MB (decimal, as network tools report traffic).
pub fn human_bytes(b: u64) -> String {
    const U: [&str; 5] = ["B", "KB", "MB", "GB", "TB"];
    let mut v = b as f64;
    let mut i = 0;
    while v >= 1000.0 && i + 1 < U.len() {
        v /= 1000.0;
        i += 1;
    }
    if i == 0 {
        format!("{b} B")
    } else {
        format!("{v:.1} {}", U[i])
    }
}

fn pct(part: u64, whole: u64) -> String {
    if whole == 0 {
        "-".into()
    } else {
        format!("{:.1}%", part as f64 * 100.0 / whole as f64)
    }
}

fn ms(v: f64) -> String {
    format!("{v:.3}")
}

fn rtt_row(name: String, r: &RttStats) -> Vec<String> {
    vec![
        name,
        r.samples.to_string(),
        ms(r.min_ms),
        ms(r.median_ms),
        ms(r.p95_ms),
        ms(r.max_ms),
    ]
}

/// The live-capture health lines: per interface, what the kernel received and dropped and
/// what the engine's queue dropped; a warning line when anything was lost.
fn render_capture(c: &wirescope_engine::live::CaptureHealth, out: &mut String) {
    for i in &c.interfaces {
        let _ = writeln!(
            out,
            "  capture  {}: {} received by the kernel, {} dropped by the kernel, {} by the \
             interface, {} captured, {} dropped by the queue",
            i.interface,
            i.kernel_received,
            i.kernel_dropped,
            i.interface_dropped,
            i.captured,
            i.queue_dropped
        );
    }
    for e in &c.errors {
        let _ = writeln!(out, "  capture  error: {e}");
    }
    if !c.lossless() {
        let _ = writeln!(
            out,
            "  WARNING  {} packets lost ({} kernel, {} interface, {} queue): results are \
             incomplete",
            c.kernel_dropped + c.interface_dropped + c.queue_dropped,
            c.kernel_dropped,
            c.interface_dropped,
            c.queue_dropped
        );
    }
}

/// Renders the whole summary.
pub fn render(r: &Report) -> String {
    let mut out = String::new();
    let _ = writeln!(out, "wirescope summary");
    for i in &r.inputs {
        let _ = writeln!(
            out,
            "  input    {}{}",
            i.name,
            i.error
                .as_ref()
                .map(|e| format!("  [{e}]"))
                .unwrap_or_default()
        );
    }
    if let Some(f) = &r.filter {
        let _ = writeln!(out, "  filter   {f}");
    }
    let _ = writeln!(
        out,
        "  packets  {} ({} read)   bytes {}   duration {:.3} s",
        r.packets,
        r.packets_read,
        human_bytes(r.bytes),
        r.duration_s
    );
    if let (Some(a), Some(b)) = (&r.first_ts, &r.last_ts) {
        let _ = writeln!(out, "  time     {a} .. {b}");
    }
    if r.duration_s > 0.0 {
        let _ = writeln!(
            out,
            "  rate     {:.1} pkt/s   {}/s",
            r.packets as f64 / r.duration_s,
            human_bytes((r.bytes as f64 / r.duration_s) as u64)
        );
    }
    if let Some(w) = r.written {
        let _ = writeln!(out, "  written  {w} packets");
    }
    if let Some(c) = &r.capture {
        render_capture(c, &mut out);
    }

    let mut t = Table::new(
        "Protocol hierarchy",
        vec!["layers", "packets", "%", "bytes"],
    );
    for h in &r.hierarchy {
        t.row(vec![
            h.path.clone(),
            h.packets.to_string(),
            pct(h.packets, r.packets),
            human_bytes(h.bytes),
        ]);
    }
    t.render(&mut out);

    let mut t = Table::new(
        "Protocols (packets containing the layer)",
        vec!["protocol", "packets", "%", "bytes"],
    );
    for (k, v) in &r.protocols {
        if *v > 0 {
            let b = r.protocol_bytes.get(k).copied().unwrap_or(0);
            t.row(vec![
                k.to_string(),
                v.to_string(),
                pct(*v, r.packets),
                human_bytes(b),
            ]);
        }
    }
    t.render(&mut out);

    let c = &r.conversations;
    let _ = writeln!(
        out,
        "\nConversations  tcp {}  udp {}  other {}{}",
        c.tcp,
        c.udp,
        c.other,
        if c.exact {
            ""
        } else {
            "  (upper bounds: key cap reached)"
        }
    );
    let f = &r.flows;
    let _ = writeln!(
        out,
        "Flows          {} created, peak {} active (cap {}), {} timed out, {} evicted, {} reused",
        f.created, f.max_active, f.max_flows, f.timed_out, f.evicted, f.reused
    );
    if !f.tcp_states.is_empty() {
        let states: Vec<String> = f
            .tcp_states
            .iter()
            .map(|(k, v)| format!("{k} {v}"))
            .collect();
        let _ = writeln!(out, "TCP states     {}", states.join("  "));
    }

    let mut t = Table::new(
        "Top talkers by bytes",
        vec!["host", "bytes", "sent", "received", "packets", "flows"],
    );
    for h in &r.talkers.by_bytes {
        t.row(vec![
            h.ip.clone(),
            human_bytes(h.bytes),
            human_bytes(h.bytes_sent),
            human_bytes(h.bytes_received),
            h.packets.to_string(),
            h.flows.to_string(),
        ]);
    }
    t.render(&mut out);
    let mut t = Table::new(
        "Top talkers by packets",
        vec!["host", "packets", "sent", "received", "bytes"],
    );
    for h in &r.talkers.by_packets {
        t.row(vec![
            h.ip.clone(),
            h.packets.to_string(),
            h.packets_sent.to_string(),
            h.packets_received.to_string(),
            human_bytes(h.bytes),
        ]);
    }
    t.render(&mut out);

    let mut t = Table::new(
        "Who talks to whom (top pairs by bytes)",
        vec![
            "host A", "host B", "bytes", "A->B", "B->A", "packets", "flows",
        ],
    );
    for p in &r.pairs {
        t.row(vec![
            p.a.clone(),
            p.b.clone(),
            human_bytes(p.bytes),
            human_bytes(p.bytes_a_to_b),
            human_bytes(p.bytes_b_to_a),
            p.packets.to_string(),
            p.flows.to_string(),
        ]);
    }
    t.render(&mut out);

    let mut t = Table::new(
        "Latency: TCP handshake RTT (ms, SYN to ACK as seen here)",
        vec!["server", "handshakes", "min", "median", "p95", "max"],
    );
    if let Some(all) = &r.latency.handshake_rtt {
        t.row(rtt_row("(all)".into(), all));
    }
    for s in &r.latency.servers {
        t.row(rtt_row(s.server.clone(), &s.rtt));
    }
    t.render(&mut out);

    let l = &r.loss;
    if l.tcp_segments > 0 {
        let _ = writeln!(
            out,
            "\nLoss           {} retransmissions ({:.2}% of {} segments), {} out of order, {} ACK gaps of {} ACKs (capture loss {:.2}%), {} missed bytes",
            l.retransmissions,
            l.retransmission_percent,
            l.tcp_segments,
            l.out_of_order,
            l.ack_gaps,
            l.acks,
            l.capture_loss_percent,
            l.missed_bytes
        );
    }

    let ts = &r.timeseries;
    if ts.packets.len() > 1 {
        let peak = ts
            .packets
            .iter()
            .enumerate()
            .max_by_key(|(_, row)| row.iter().sum::<u64>());
        if let Some((i, row)) = peak {
            let _ = writeln!(
                out,
                "Bandwidth      {} buckets of {} s; peak bucket #{i}: {} packets",
                ts.packets.len(),
                ts.bucket_seconds,
                row.iter().sum::<u64>()
            );
        }
    }

    if let Some(a) = &r.app {
        render_app(a, &mut out);
    }

    if !r.anomalies.is_empty() {
        let mut t = Table::new("Decoder anomalies", vec!["kind", "packets"]);
        for (k, v) in &r.anomalies {
            t.row(vec![k.to_string(), v.to_string()]);
        }
        t.render(&mut out);
    }
    let mut t = Table::new("Link types", vec!["link type", "packets"]);
    for (k, v) in &r.link_types {
        t.row(vec![k.clone(), v.to_string()]);
    }
    t.render(&mut out);
    out
}

fn names_table(title: &str, col: &'static str, rows: &[NameEntry], out: &mut String) {
    let mut t = Table::new(title, vec![col, "count"]);
    for n in rows {
        t.row(vec![n.name.clone(), n.count.to_string()]);
    }
    t.render(out);
}

fn joined<V: std::fmt::Display>(m: &std::collections::BTreeMap<String, V>) -> String {
    m.iter()
        .map(|(k, v)| format!("{k} {v}"))
        .collect::<Vec<_>>()
        .join("  ")
}

/// The application-layer part of the summary.
fn render_app(a: &AppReport, out: &mut String) {
    let flows: Vec<String> = a
        .flows
        .iter()
        .filter(|(_, n)| **n > 0)
        .map(|(k, n)| format!("{k} {n}"))
        .collect();
    if !a.icmp.is_empty() {
        let mut t = Table::new("ICMP messages", vec!["type/code", "version", "packets"]);
        for e in a.icmp.iter().take(20) {
            t.row(vec![
                format!("{} ({}/{})", e.name, e.icmp_type, e.code),
                format!("ICMPv{}", e.version),
                e.packets.to_string(),
            ]);
        }
        t.render(out);
    }
    if flows.is_empty() && a.arp.packets == 0 {
        return;
    }
    let _ = writeln!(out, "\nApplication   flows: {}", flows.join("  "));
    let d = &a.dns;
    if d.queries + d.responses > 0 {
        let _ = writeln!(
            out,
            "DNS            {} queries, {} responses, {} unanswered, {} malformed; rcodes: {}",
            d.queries,
            d.responses,
            d.unanswered,
            d.malformed,
            joined(&d.rcodes)
        );
    }
    let h = &a.http;
    if h.transactions > 0 {
        let _ = writeln!(
            out,
            "HTTP           {} transactions; methods: {}; status: {}",
            h.transactions,
            joined(&h.methods),
            joined(&h.status_codes)
        );
    }
    if a.tls.sessions > 0 {
        let _ = writeln!(
            out,
            "TLS            {} sessions; versions: {}",
            a.tls.sessions,
            joined(&a.tls.versions)
        );
    }
    if a.ssh.sessions > 0 {
        let _ = writeln!(out, "SSH            {} sessions", a.ssh.sessions);
    }
    if a.socks.sessions > 0 {
        let _ = writeln!(out, "SOCKS          {} handshakes", a.socks.sessions);
    }
    if a.proxy.headers + a.proxy.malformed > 0 {
        let _ = writeln!(
            out,
            "PROXY protocol {} headers, {} malformed",
            a.proxy.headers, a.proxy.malformed
        );
    }
    if a.starttls.requests > 0 {
        let st = &a.starttls;
        let _ = writeln!(
            out,
            "STARTTLS       {} requests, {} refused, {} switched to TLS",
            st.requests, st.refusals, st.upgrades
        );
    }
    if a.dhcp.messages > 0 {
        let _ = writeln!(
            out,
            "DHCP           {} messages, {} exchanges",
            a.dhcp.messages, a.dhcp.transactions
        );
    }
    let r = &a.reassembly;
    if r.gaps + r.overlap_mismatch_bytes > 0 {
        let _ = writeln!(
            out,
            "Reassembly     {} gaps ({} bytes missed), {} overlapping bytes that differed",
            r.gaps, r.missed_bytes, r.overlap_mismatch_bytes
        );
    }
    names_table("Top DNS names", "name", &d.top_names, out);
    names_table("Top HTTP hosts", "host", &h.top_hosts, out);
    names_table("Top TLS SNIs", "server name", &a.tls.top_sni, out);
    if a.arp.packets > 0 {
        let mut t = Table::new(
            format!(
                "ARP table ({} addresses, {} packets, {} MAC changes)",
                a.arp.entries, a.arp.packets, a.arp.changes
            ),
            vec!["ip", "mac", "changes", "requests", "replies"],
        );
        for e in &a.arp.table {
            t.row(vec![
                e.ip.clone(),
                e.mac.clone(),
                e.changes.to_string(),
                e.requests.to_string(),
                e.replies.to_string(),
            ]);
        }
        t.render(out);
    }
}

/// One line for an alert as it is raised (printed live to standard error).
pub fn alert_line(a: &wirescope_detect::Alert) -> String {
    let ep = |e: Option<wirescope_detect::Endpoint>| match e {
        Some(e) => match e.port {
            Some(p) => format!("{}:{p}", e.ip),
            None => e.ip.to_string(),
        },
        None => "*".to_string(),
    };
    format!(
        "ALERT [{}:{}] sev {} {} -> {}: {}",
        a.detector,
        a.kind,
        a.severity,
        ep(a.src),
        ep(a.dst),
        a.signature
    )
}

/// The alerts section of the summary: every alert in its final state, with the evidence
/// keys that explain it, and the per-detector state counters.
pub fn render_alerts(
    alerts: &[wirescope_detect::Alert],
    stats: &wirescope_detect::manager::ManagerStats,
    detectors: &[(
        wirescope_detect::DetectorId,
        wirescope_detect::DetectorStats,
    )],
) -> String {
    let mut out = String::new();
    let _ = writeln!(out, "\nAlerts: {}", alerts.len());
    if alerts.is_empty() {
        let _ = writeln!(out, "  none ({} detectors ran)", detectors.len());
    }
    let mut t = Table::new(
        "",
        vec![
            "id", "detector", "kind", "sev", "source", "target", "onset", "seconds",
        ],
    );
    for a in alerts {
        let ep = |e: Option<wirescope_detect::Endpoint>| match e {
            Some(e) => match e.port {
                Some(p) => format!("{}:{p}", e.ip),
                None => e.ip.to_string(),
            },
            None => "*".to_string(),
        };
        t.row(vec![
            a.id.to_string(),
            a.detector.to_string(),
            a.kind.to_string(),
            a.severity.to_string(),
            ep(a.src),
            ep(a.dst),
            a.onset.to_string(),
            format!("{:.1}", a.last_seen.since(a.onset) as f64 / 1e9),
        ]);
    }
    t.render(&mut out);
    for a in alerts {
        let ev = serde_json::Value::Object(a.evidence.clone()).to_string();
        let ev = if ev.chars().count() > 300 {
            let s: String = ev.chars().take(300).collect();
            format!("{s}…")
        } else {
            ev
        };
        let _ = writeln!(out, "  #{} {}\n      evidence {}", a.id, a.signature, ev);
    }
    if stats.allowed_total
        + stats.suppressed_total
        + stats.thresholded_total
        + stats.explained_total
        > 0
    {
        let _ = writeln!(
            out,
            "  not raised: {} allow-listed, {} suppressed, {} over a threshold, {} explained by another alert",
            stats.allowed_total, stats.suppressed_total, stats.thresholded_total, stats.explained_total
        );
    }
    let evicted: u64 = detectors.iter().map(|(_, s)| s.evicted_total).sum();
    if evicted > 0 {
        let mut d = Table::new(
            "Detector state (entries dropped because a table was full)",
            vec!["detector", "entries", "capacity", "evicted"],
        );
        for (id, s) in detectors {
            d.row(vec![
                id.to_string(),
                s.entries.to_string(),
                s.capacity.to_string(),
                s.evicted_total.to_string(),
            ]);
        }
        d.render(&mut out);
    }
    out
}
