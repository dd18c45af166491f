//! EVE application events: `dns`, `http`, `tls`, `ssh`, `dhcp` and `arp`, with Suricata's field
//! names, and `socks` (Suricata has no SOCKS parser; Zeek's `socks.log` names) (see
//! `docs/events.md`).

use crate::eve::{eve_proto, EveWriter};
use crate::flow_community_id;
use serde_json::{json, Value};
use std::io::Write;
use wirescope_engine::app::mac_string;
use wirescope_engine::{AppCtx, ArpEvent, DnsEvent};
use wirescope_proto::{dhcp, dns, http, proxy, socks, ssh, tls};

pub(crate) fn lossy(b: &[u8]) -> String {
    String::from_utf8_lossy(b).into_owned()
}

/// The fields every application event shares. `to_server` orients src/dest like the packet.
pub(crate) fn app_header(ctx: &AppCtx<'_>, event_type: &str, app: &str, to_server: bool) -> Value {
    let fl = ctx.flow;
    let (c, cp) = fl.orig();
    let (s, sp) = fl.resp();
    let (src, sport, dst, dport) = if to_server {
        (c, cp, s, sp)
    } else {
        (s, sp, c, cp)
    };
    let mut v = json!({
        "timestamp": ctx.ts.to_string(),
        "flow_id": fl.id,
        "event_type": event_type,
        "src_ip": src.to_string(),
        "src_port": sport,
        "dest_ip": dst.to_string(),
        "dest_port": dport,
        "proto": eve_proto(fl.key.proto),
        "community_id": flow_community_id(fl),
        "app_proto": app,
    });
    if let Some(vlan) = fl.vlan {
        v["vlan"] = json!([vlan]);
    }
    v
}

/// `dns.rrtype` text: the mnemonic, or `TYPE<n>` (RFC 3597) for unknown types.
pub fn rrtype(t: u16) -> String {
    dns::rtype_name(t).map_or_else(|| format!("TYPE{t}"), str::to_string)
}

fn name(n: &dns::Name<'_>) -> String {
    let mut b = dns::NameBuf::new();
    match n.write_to(&mut b) {
        Ok(()) => b.as_str().to_string(),
        Err(_) => String::new(),
    }
}

/// The EVE `dns` object for a message (Suricata's version 2 format).
pub fn dns_object(msg: &dns::Message<'_>) -> Value {
    let h = msg.header();
    let q = msg.questions().next();
    let (rrname, rrtype_) = match &q {
        Some(q) => (name(&q.name), rrtype(q.qtype)),
        None => (String::new(), String::new()),
    };
    if !h.qr() {
        let mut v = json!({
            "version": 2,
            "type": "query",
            "id": h.id,
            "rrname": rrname,
            "rrtype": rrtype_,
            "tx_id": 0,
            "opcode": h.opcode(),
        });
        if h.rd() {
            v["rd"] = json!(true);
        }
        if h.tc() {
            v["tc"] = json!(true);
        }
        return v;
    }
    let mut v = json!({
        "version": 2,
        "type": "answer",
        "id": h.id,
        "flags": format!("{:x}", h.flags),
        "qr": true,
        "opcode": h.opcode(),
        "rrname": rrname,
        "rrtype": rrtype_,
        "rcode": dns::rcode_name(msg.rcode()),
    });
    for (flag, key) in [
        (h.aa(), "aa"),
        (h.tc(), "tc"),
        (h.rd(), "rd"),
        (h.ra(), "ra"),
        (h.z(), "z"),
    ] {
        if flag {
            v[key] = json!(true);
        }
    }
    let mut answers = Vec::new();
    let mut authorities = Vec::new();
    let mut additionals = Vec::new();
    let mut rdata = String::new();
    for (section, r) in msg.records().take(256) {
        if r.rtype == 41 {
            continue; // OPT is EDNS metadata, not an answer.
        }
        rdata.clear();
        dns::format_rdata(&r, &mut rdata);
        let mut e = json!({
            "rrname": name(&r.name),
            "rrtype": rrtype(r.rtype),
            "ttl": r.ttl,
        });
        if !rdata.is_empty() {
            e["rdata"] = json!(rdata);
        }
        match section {
            dns::Section::Answer => answers.push(e),
            dns::Section::Authority => authorities.push(e),
            dns::Section::Additional => additionals.push(e),
        }
    }
    if !answers.is_empty() {
        v["answers"] = json!(answers);
    }
    if !authorities.is_empty() {
        v["authorities"] = json!(authorities);
    }
    if !additionals.is_empty() {
        v["additionals"] = json!(additionals);
    }
    if let Some(e) = msg.edns() {
        v["edns"] = json!({
            "version": e.version,
            "udp_payload_size": e.udp_payload_size,
            "do": e.do_bit,
        });
    }
    if msg.truncated() {
        v["malformed"] = json!(true);
    }
    v
}

/// The EVE `http` object of a transaction.
pub fn http_object(tx: &http::Transaction) -> Value {
    let mut v = json!({
        "hostname": lossy(&tx.host),
        "url": lossy(&tx.uri),
        "http_method": lossy(&tx.method),
        "length": tx.response_body_len,
        "request_body_len": tx.request_body_len,
        "tx_id": tx.trans_depth.saturating_sub(1),
    });
    if !tx.version.is_empty() {
        v["protocol"] = json!(format!("HTTP/{}", lossy(&tx.version)));
    } else if !tx.response_version.is_empty() {
        v["protocol"] = json!(format!("HTTP/{}", lossy(&tx.response_version)));
    }
    for (b, k) in [
        (&tx.user_agent, "http_user_agent"),
        (&tx.referer, "http_refer"),
        (&tx.response_content_type, "http_content_type"),
        (&tx.request_content_type, "http_request_content_type"),
        (&tx.location, "redirect"),
        (&tx.origin, "origin"),
        (&tx.status_msg, "status_msg"),
    ] {
        if !b.is_empty() {
            v[k] = json!(lossy(b));
        }
    }
    if let Some(s) = tx.status {
        v["status"] = json!(s);
    }
    v
}

/// `2024-01-02T03:04:05` (Suricata's certificate time format).
fn cert_time(secs: i64) -> String {
    let t = wirescope_core::Timestamp(secs.saturating_mul(1_000_000_000)).to_string();
    t.get(..19).unwrap_or(&t).to_string()
}

/// The EVE `tls` object of a session.
pub fn tls_object(s: &tls::TlsSession) -> Value {
    let mut v = json!({});
    let version = s
        .server_hello
        .as_ref()
        .map(|h| h.version)
        .or(s.client_hello.as_ref().map(|h| h.legacy_version));
    if let Some(ver) = version {
        v["version"] = json!(tls::version_name_eve(ver));
    }
    if let Some(ch) = &s.client_hello {
        if !ch.sni.is_empty() {
            v["sni"] = json!(lossy(&ch.sni));
        }
        v["ja3"] = json!({"hash": ch.ja3_hash, "string": ch.ja3});
        v["ja4"] = json!(ch.ja4);
        if !ch.alpn.is_empty() {
            v["client_alpns"] = json!(ch.alpn.iter().map(|a| lossy(a)).collect::<Vec<_>>());
        }
    }
    if let Some(sh) = &s.server_hello {
        v["ja3s"] = json!({"hash": sh.ja3s_hash, "string": sh.ja3s});
        if !sh.alpn.is_empty() {
            v["server_alpns"] = json!([lossy(&sh.alpn)]);
        }
        v["cipher_suite"] = json!(tls::cipher_name(sh.cipher)
            .map_or_else(|| format!("0x{:04x}", sh.cipher), str::to_string));
    }
    if let Some(c) = s.certs.first() {
        v["subject"] = json!(c.subject);
        v["issuerdn"] = json!(c.issuer);
        v["serial"] = json!(c.serial);
        v["fingerprint"] = json!(c.sha1_fingerprint);
        v["notbefore"] = json!(cert_time(c.not_before));
        v["notafter"] = json!(cert_time(c.not_after));
    }
    if s.resumed {
        v["session_resumed"] = json!(true);
    }
    if s.hello_retry {
        // The server asked for a second ClientHello: its fingerprints, when it was seen.
        let mut r = json!({});
        if let Some(ch) = &s.retry_client_hello {
            if !ch.sni.is_empty() {
                r["sni"] = json!(lossy(&ch.sni));
            }
            r["ja3"] = json!({"hash": ch.ja3_hash, "string": ch.ja3});
            r["ja4"] = json!(ch.ja4);
        }
        v["hello_retry"] = r;
    }
    v
}

/// The EVE `ssh` object of a session.
pub fn ssh_object(s: &ssh::SshSession) -> Value {
    let side = |e: &ssh::Endpoint| {
        json!({
            "proto_version": lossy(&e.proto_version),
            "software_version": lossy(&e.software_version),
        })
    };
    let mut v = json!({});
    if !s.client.banner.is_empty() {
        v["client"] = side(&s.client);
    }
    if !s.server.banner.is_empty() {
        v["server"] = side(&s.server);
    }
    v
}

/// The EVE `proxy` object of a PROXY protocol header: the client and the address it
/// connected to as the proxy reports them (Suricata's `src_ip`/`src_port`/`dest_ip`/
/// `dest_port` names), and what version 2's TLVs said.
pub fn proxy_object(h: &proxy::ProxyHeader) -> Value {
    let command = match h.command {
        proxy::Command::Proxy => "proxy",
        proxy::Command::Local => "local",
    };
    let mut v = json!({
        "version": h.version,
        "command": command,
        "protocol": h.family.name(),
        "length": h.len,
    });
    if let Some(a) = h.src {
        v["src_ip"] = json!(a.ip().to_string());
        v["src_port"] = json!(a.port());
    }
    if let Some(a) = h.dst {
        v["dest_ip"] = json!(a.ip().to_string());
        v["dest_port"] = json!(a.port());
    }
    if !h.authority.is_empty() {
        v["authority"] = json!(lossy(&h.authority));
    }
    if !h.alpn.is_empty() {
        v["alpn"] = json!(lossy(&h.alpn));
    }
    if !h.unique_id.is_empty() {
        let mut id = String::new();
        wirescope_proto::push_hex_lower(&mut id, &h.unique_id);
        v["unique_id"] = json!(id);
    }
    if !h.tlv_types.is_empty() {
        v["tlv_types"] = json!(h.tlv_types);
    }
    if h.truncated {
        v["truncated"] = json!(true);
    }
    v
}

/// The EVE `socks` object of a handshake: Zeek's `socks.log` values under JSON names, with
/// the command, the offered and chosen SOCKS 5 methods and whether a tunnel followed.
pub fn socks_object(s: &socks::SocksSession) -> Value {
    let addr = |a: &socks::Address| {
        let mut v = json!({});
        if let Some(ip) = a.ip {
            v["host"] = json!(ip.to_string());
        }
        if !a.name.is_empty() {
            v["name"] = json!(lossy(&a.name));
        }
        if let Some(p) = a.port {
            v["port"] = json!(p);
        }
        v
    };
    let mut v = json!({ "version": s.version, "tunnel": s.tunnel });
    if let Some(c) = s.command_name() {
        v["command"] = json!(c);
    }
    if !s.methods.is_empty() {
        v["methods"] = json!(s.methods);
    }
    if let Some(m) = s.method_name() {
        v["method"] = json!(m);
    }
    if !s.user.is_empty() {
        v["user"] = json!(lossy(&s.user));
    }
    if s.password_sent {
        v["password_sent"] = json!(true);
    }
    if let Some(st) = s.status() {
        v["status"] = json!(st);
    }
    if s.request.port.is_some() {
        v["request"] = addr(&s.request);
    }
    if s.bound.port.is_some() {
        v["bound"] = addr(&s.bound);
    }
    v
}

/// The EVE `dhcp` object of one message.
pub fn dhcp_object(m: &dhcp::Message<'_>) -> Value {
    let mut v = json!({
        "type": if m.op == 2 { "reply" } else { "request" },
        "id": m.xid,
        "client_ip": m.ciaddr.to_string(),
        "assigned_ip": m.yiaddr.to_string(),
        "relay_ip": m.giaddr.to_string(),
        "next_server_ip": m.siaddr.to_string(),
    });
    if let Some(mac) = m.mac() {
        v["client_mac"] = json!(mac_string(&mac));
    }
    if let Some(t) = m.msg_type() {
        v["dhcp_type"] = json!(dhcp::msg_type_name(t).to_ascii_lowercase());
    }
    if let Some(h) = m.hostname() {
        v["hostname"] = json!(lossy(h));
    }
    if let Some(ip) = m.requested_ip() {
        v["requested_ip"] = json!(ip.to_string());
    }
    if let Some(l) = m.lease_time() {
        v["lease_time"] = json!(l);
    }
    if let Some(ip) = m.subnet_mask() {
        v["subnet_mask"] = json!(ip.to_string());
    }
    let routers: Vec<String> = m.routers().map(|r| r.to_string()).collect();
    if !routers.is_empty() {
        v["routers"] = json!(routers);
    }
    let dns: Vec<String> = m.dns_servers().map(|r| r.to_string()).collect();
    if !dns.is_empty() {
        v["dns_servers"] = json!(dns);
    }
    v
}

impl<W: Write> EveWriter<W> {
    pub(crate) fn app_event(&mut self, mut head: Value, key: &str, body: Value) {
        head[key] = body;
        if let Some(iface) = self.iface() {
            head["in_iface"] = json!(iface);
        }
        self.emit_value(&head);
    }

    pub fn dns_event(&mut self, ctx: &AppCtx<'_>, ev: &DnsEvent<'_, '_>) {
        match ev {
            DnsEvent::Message { msg, to_server, .. } => {
                let head = app_header(ctx, "dns", "dns", *to_server);
                self.app_event(head, "dns", dns_object(msg));
            }
            // Suricata logs each message as it passes; an unanswered query was already logged.
            DnsEvent::Unanswered(_) => {}
        }
    }

    pub fn http_event(&mut self, ctx: &AppCtx<'_>, tx: &http::Transaction) {
        let mut head = app_header(ctx, "http", "http", true);
        if let Some(t) = tx.request_ts.or(tx.response_ts) {
            head["timestamp"] = json!(t.to_string());
        }
        self.app_event(head, "http", http_object(tx));
    }

    pub fn tls_event(&mut self, ctx: &AppCtx<'_>, s: &tls::TlsSession) {
        let head = app_header(ctx, "tls", "tls", true);
        self.app_event(head, "tls", tls_object(s));
    }

    pub fn ssh_event(&mut self, ctx: &AppCtx<'_>, s: &ssh::SshSession) {
        let head = app_header(ctx, "ssh", "ssh", true);
        self.app_event(head, "ssh", ssh_object(s));
    }

    pub fn socks_event(&mut self, ctx: &AppCtx<'_>, s: &socks::SocksSession) {
        let head = app_header(ctx, "socks", "socks", true);
        self.app_event(head, "socks", socks_object(s));
    }

    pub fn proxy_event(&mut self, ctx: &AppCtx<'_>, h: &proxy::ProxyHeader) {
        let head = app_header(ctx, "proxy", "proxy", true);
        self.app_event(head, "proxy", proxy_object(h));
    }

    pub fn dhcp_event(&mut self, ctx: &AppCtx<'_>, m: &dhcp::Message<'_>) {
        let head = app_header(ctx, "dhcp", "dhcp", m.op != 2);
        self.app_event(head, "dhcp", dhcp_object(m));
    }

    pub fn arp_event(&mut self, ev: &ArpEvent<'_>) {
        let a = ev.arp;
        let mut body = json!({
            "hw_type": "ethernet",
            "proto_type": "ipv4",
            "opcode": match a.op { 1 => "request".to_string(), 2 => "reply".to_string(), n => n.to_string() },
            "src_mac": mac_string(&a.sender_mac),
            "src_ip": std::net::Ipv4Addr::from(a.sender_ip).to_string(),
            "dest_mac": mac_string(&a.target_mac),
            "dest_ip": std::net::Ipv4Addr::from(a.target_ip).to_string(),
        });
        if let Some(prev) = ev.previous_mac {
            body["previous_mac"] = json!(mac_string(&prev));
        }
        let mut v = json!({
            "timestamp": ev.ts.to_string(),
            "event_type": "arp",
            "arp": body,
        });
        if let Some(iface) = self.iface() {
            v["in_iface"] = json!(iface);
        }
        self.emit_value(&v);
    }
}
