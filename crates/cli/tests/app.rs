//! The application layer from the command line: identification by content, `--no-app`, the
//! Zeek `service` column, and the summary's top names.
#![allow(clippy::unwrap_used)]

use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use std::sync::atomic::{AtomicUsize, Ordering};

fn fixture(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../../testdata/pcap")
        .join(name)
}

fn wirescope(args: &[&str]) -> Output {
    let out = Command::new(env!("CARGO_BIN_EXE_wirescope"))
        .args(args)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    out
}

fn tmp(name: &str) -> PathBuf {
    std::env::temp_dir().join(format!("wirescope-app-{}-{name}", std::process::id()))
}

fn eve(pcap: &str, extra: &[&str]) -> Vec<serde_json::Value> {
    eve_of(&fixture(pcap), &[&["-q"], extra].concat()).0
}

/// Runs wirescope on `pcap` with `extra` arguments: its EVE events and its output. Each call
/// writes its own file: tests run in parallel and several read the same captures.
fn eve_of(pcap: &Path, extra: &[&str]) -> (Vec<serde_json::Value>, Output) {
    static CALLS: AtomicUsize = AtomicUsize::new(0);
    let name = pcap.file_name().unwrap().to_str().unwrap();
    let call = CALLS.fetch_add(1, Ordering::Relaxed);
    let path = tmp(&format!("{name}.{call}.eve"));
    let mut args = vec![
        "-r",
        pcap.to_str().unwrap(),
        "--eve",
        path.to_str().unwrap(),
    ];
    args.extend_from_slice(extra);
    let out = wirescope(&args);
    let text = std::fs::read_to_string(&path).unwrap();
    let _ = std::fs::remove_file(&path);
    let events = text
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    (events, out)
}

/// Arkime's test captures that have its expected sessions (`<name>.test` beside
/// `<name>.pcap`): file name, path and the expectations, in name order.
fn arkime_expectations() -> Vec<(String, PathBuf, serde_json::Value)> {
    let dir = corpus().join("robustness/arkime-tests/tests/pcap");
    let mut pcaps: Vec<PathBuf> = std::fs::read_dir(&dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| {
            p.extension().is_some_and(|e| e == "pcap") && p.with_extension("test").is_file()
        })
        .collect();
    pcaps.sort();
    pcaps
        .into_iter()
        .map(|pcap| {
            let name = pcap.file_name().unwrap().to_str().unwrap().to_string();
            let t = std::fs::read_to_string(pcap.with_extension("test")).unwrap();
            let expected = serde_json::from_str(&t[t.find('{').unwrap()..])
                .unwrap_or_else(|e| panic!("{name}.test: {e}"));
            (name, pcap, expected)
        })
        .collect()
}

fn of_type<'a>(events: &'a [serde_json::Value], t: &str) -> Vec<&'a serde_json::Value> {
    events.iter().filter(|e| e["event_type"] == t).collect()
}

/// The protocols Arkime names in one expected session's body.
fn arkime_protocols(body: &serde_json::Value) -> Vec<&str> {
    body["protocol"]
        .as_array()
        .map(|a| a.iter().filter_map(|p| p.as_str()).collect())
        .unwrap_or_default()
}

#[test]
fn http_is_identified_by_content_on_any_port() {
    let events = eve("arkime_synthetic.pcap", &[]);
    // WinRM speaks HTTP on 5985: found by its request line, not its port.
    let winrm: Vec<_> = of_type(&events, "http")
        .into_iter()
        .filter(|e| e["dest_port"] == 5985)
        .collect();
    assert!(!winrm.is_empty(), "no HTTP on port 5985");
    assert_eq!(winrm[0]["http"]["http_method"], "POST");
    assert_eq!(winrm[0]["app_proto"], "http");
    // SIP shares method names with HTTP (NOTIFY, SUBSCRIBE, OPTIONS) but is not HTTP.
    assert!(
        of_type(&events, "http")
            .iter()
            .all(|e| e["dest_port"] != 5060),
        "SIP taken for HTTP"
    );
    // The flow events carry the identified protocol.
    let flows = of_type(&events, "flow");
    assert!(flows
        .iter()
        .any(|f| f["dest_port"] == 5985 && f["app_proto"] == "http"));
    assert!(flows
        .iter()
        .any(|f| f["dest_port"] == 443 && f["app_proto"] == "tls"));
}

#[test]
fn no_app_turns_the_application_layer_off() {
    let f = fixture("arkime_synthetic.pcap");
    let out = wirescope(&["--json", "--no-app", "-r", f.to_str().unwrap()]);
    let report: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert!(report["app"].is_null());
    let events = eve("arkime_synthetic.pcap", &["--no-app"]);
    for t in ["dns", "http", "tls", "ssh", "dhcp", "arp"] {
        assert!(of_type(&events, t).is_empty(), "{t} events with --no-app");
    }
    assert!(!of_type(&events, "flow").is_empty());
    // And on: every kind of event the fixture holds.
    let events = eve("arkime_synthetic.pcap", &[]);
    for t in ["dns", "http", "tls", "ssh", "dhcp", "arp"] {
        assert!(!of_type(&events, t).is_empty(), "no {t} events");
    }
}

#[test]
fn zeek_service_and_application_logs() {
    let dir = tmp("zeek");
    let f = fixture("arkime_synthetic.pcap");
    wirescope(&[
        "-q",
        "-r",
        f.to_str().unwrap(),
        "--zeek-dir",
        dir.to_str().unwrap(),
    ]);
    let conn = std::fs::read_to_string(dir.join("conn.log")).unwrap();
    let services: std::collections::BTreeSet<&str> = conn
        .lines()
        .filter(|l| !l.starts_with('#'))
        .map(|l| l.split('\t').nth(7).unwrap())
        .collect();
    for s in ["http", "ssl", "dns", "ssh", "dhcp", "-"] {
        assert!(
            services.contains(s),
            "no service {s} in conn.log: {services:?}"
        );
    }
    for log in ["dns", "http", "ssl", "ssh", "dhcp"] {
        let text = std::fs::read_to_string(dir.join(format!("{log}.log"))).unwrap();
        assert!(text.contains(&format!("#path\t{log}\n")));
        assert!(text.lines().filter(|l| !l.starts_with('#')).count() > 0);
    }
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn stream_depth_limits_what_parsers_see() {
    let f = fixture("openssl-tls1_2.pcap");
    let full = wirescope(&["--json", "-r", f.to_str().unwrap()]);
    let full: serde_json::Value = serde_json::from_slice(&full.stdout).unwrap();
    assert_eq!(full["app"]["tls"]["sessions"], 1);
    assert_eq!(full["app"]["reassembly"]["depth_reached"], 0);
    // 100 bytes: the ClientHello is cut, so no session can be parsed, and the cut is counted.
    let cut = wirescope(&["--json", "--stream-depth", "100", "-r", f.to_str().unwrap()]);
    let cut: serde_json::Value = serde_json::from_slice(&cut.stdout).unwrap();
    assert!(cut["app"]["reassembly"]["depth_reached"].as_u64().unwrap() >= 1);
    assert!(cut["app"]["tls"]["top_sni"].as_array().unwrap().is_empty());
}

#[test]
fn summary_shows_names_and_the_arp_table() {
    let f = fixture("arkime_synthetic.pcap");
    let out = wirescope(&["-r", f.to_str().unwrap()]);
    let text = String::from_utf8(out.stdout).unwrap();
    for section in [
        "Top DNS names",
        "Top HTTP hosts",
        "Top TLS SNIs",
        "ARP table",
        "ICMP messages",
        "Application   flows:",
    ] {
        assert!(text.contains(section), "no '{section}' in:\n{text}");
    }
}

fn corpus() -> PathBuf {
    let c = std::env::var_os("WIRESCOPE_CORPUS")
        .map(PathBuf::from)
        .unwrap_or_else(|| Path::new(env!("CARGO_MANIFEST_DIR")).join("../../../shared/corpus"));
    assert!(
        c.is_dir(),
        "corpus not found at {} (set WIRESCOPE_CORPUS): this test needs it",
        c.display()
    );
    c
}

/// SOCKS against an independent reading: Arkime's expected sessions for its own test captures
/// (`<name>.test` beside `<name>.pcap` in the corpus). Where Arkime finds SOCKS, wirescope's
/// `socks` event on the same connection asks for the same host or address, port and user, and
/// the protocol Arkime saw inside the tunnel (HTTP, TLS) has its events on that flow; where
/// Arkime finds none (every other capture of its test suite), wirescope finds none either.
#[test]
fn socks_agrees_with_arkime_and_tunnels_are_parsed() {
    let (mut sessions_checked, mut files_without) = (0, 0);
    for (name, pcap, expected) in arkime_expectations() {
        let sessions = expected["sessions3"].as_array().unwrap();
        let arkime_socks = sessions.iter().any(|s| {
            s["body"]["protocol"]
                .as_array()
                .is_some_and(|p| p.contains(&"socks".into()))
        });
        let (events, _) = eve_of(&pcap, &["-q", "--no-detect"]);
        let ours = of_type(&events, "socks");
        if !arkime_socks {
            assert!(
                ours.is_empty(),
                "{name}: SOCKS where Arkime finds none: {:?}",
                ours[0]
            );
            files_without += 1;
            continue;
        }
        for s in sessions {
            let b = &s["body"];
            let Some(want) = b["socks"].as_object() else {
                continue;
            };
            let port = &b["source"]["port"];
            let mine: Vec<_> = ours.iter().filter(|e| e["src_port"] == *port).collect();
            assert_eq!(mine.len(), 1, "{name}: one socks event from port {port}");
            let (ev, got) = (mine[0], &mine[0]["socks"]);
            match want.get("port") {
                Some(p) => assert_eq!(&got["request"]["port"], p, "{name} {port}: {got}"),
                None => assert!(got["request"].is_null(), "{name} {port}: {got}"),
            }
            if let Some(ip) = want.get("ip") {
                assert_eq!(&got["request"]["host"], ip, "{name} {port}: {got}");
            }
            if let Some(host) = want.get("host") {
                assert_eq!(&got["request"]["name"], host, "{name} {port}: {got}");
            }
            if let Some(user) = want.get("user") {
                assert_eq!(&got["user"], user, "{name} {port}: {got}");
            }
            for inner in ["http", "tls"] {
                if b["protocol"].as_array().unwrap().contains(&inner.into()) {
                    assert!(
                        of_type(&events, inner)
                            .iter()
                            .any(|e| e["flow_id"] == ev["flow_id"]),
                        "{name} {port}: no {inner} event inside the tunnel"
                    );
                }
            }
            sessions_checked += 1;
        }
    }
    // 14 SOCKS sessions in 9 captures; about 190 captures without SOCKS.
    assert!(
        sessions_checked >= 14,
        "{sessions_checked} SOCKS sessions checked"
    );
    assert!(
        files_without >= 150,
        "{files_without} captures without SOCKS"
    );
}

/// The STARTTLS protocols against an independent reading: Arkime's expected sessions for its
/// own test captures. Where Arkime names SMTP, IMAP, POP3, FTP, PostgreSQL or MySQL on a
/// connection,
/// wirescope's flow from the same client port is that protocol (inside a SOCKS tunnel too), or
/// TLS with a `tls` event when Arkime saw TLS follow (`smtp-starttls.pcap`); where Arkime names none of them, wirescope
/// labels no flow so.
#[test]
fn starttls_protocols_agree_with_arkime() {
    const OURS: [&str; 7] = ["smtp", "imap", "pop3", "ftp", "pgsql", "mysql", "ldap"];
    fn theirs(p: &str) -> &str {
        if p == "postgresql" {
            "pgsql"
        } else {
            p
        }
    }
    let (mut checked, mut upgraded, mut files_without) = (0, 0, 0);
    for (name, pcap, expected) in arkime_expectations() {
        // (client port, protocol, TLS followed) of Arkime's sessions with one of ours.
        let mut want = Vec::new();
        for s in expected["sessions3"].as_array().unwrap() {
            let b = &s["body"];
            let protos = arkime_protocols(b);
            if let Some(p) = protos.iter().map(|p| theirs(p)).find(|p| OURS.contains(p)) {
                let port = b["source"]["port"].as_u64().unwrap();
                want.push((port, p, protos.contains(&"tls")));
            }
        }
        let (events, _) = eve_of(&pcap, &["-q", "--no-detect"]);
        let flows = of_type(&events, "flow");
        if want.is_empty() {
            let labelled: Vec<_> = flows
                .iter()
                .filter(|f| f["app_proto"].as_str().is_some_and(|p| OURS.contains(&p)))
                .collect();
            assert!(
                labelled.is_empty(),
                "{name}: labelled where Arkime finds none: {}",
                labelled[0]
            );
            files_without += 1;
            continue;
        }
        for (port, proto, tls) in want {
            let mine: Vec<_> = flows
                .iter()
                .filter(|f| f["src_port"] == port || f["dest_port"] == port)
                .collect();
            assert!(!mine.is_empty(), "{name}: no flow from port {port}");
            let f = mine[0];
            if tls {
                assert_eq!(f["app_proto"], "tls", "{name} {port}: {f}");
                assert!(
                    of_type(&events, "tls")
                        .iter()
                        .any(|e| e["flow_id"] == f["flow_id"]),
                    "{name} {port}: no tls event after the switch"
                );
                upgraded += 1;
            } else {
                assert_eq!(f["app_proto"], proto, "{name} {port}: {f}");
            }
            checked += 1;
        }
    }
    // 49 sessions in 21 captures (SMTP through SOCKS 5 among them); 2 switch to TLS.
    assert!(checked >= 45, "{checked} sessions checked");
    assert!(upgraded >= 2, "{upgraded} switches to TLS checked");
    assert!(
        files_without >= 150,
        "{files_without} captures without these protocols"
    );
}

/// TLS after STARTTLS in the public captures of other projects: the SNI and JA3 that tshark
/// shows for the ClientHello after the switch (its values, fixed here), on the same flow.
#[test]
fn starttls_hands_over_to_tls() {
    let ndpi = "robustness/nDPI-tests/tests/cfgs/default/pcap";
    let cases: [(String, &str, &[&str], &[&str]); 11] = [
        (
            "attacks/chrissanders-packets/mail_receiver_server_3.pcapng".into(),
            "smtp",
            &["mail02.cyberdyne.local"],
            &["bfec402cadff3c0ba444a4724f2e407b"],
        ),
        (
            "robustness/arkime-tests/tests/pcap/smtp-starttls.pcap".into(),
            "smtp",
            &[],
            &["fab507fe132c544e8a0eb7c394affeae"],
        ),
        (
            format!("{ndpi}/smtp-starttls.pcap"),
            "smtp",
            &["dovecot.weberlab.de"],
            &[
                "7b38238e17474b8f6d113523bb5a8dd9",
                "fab507fe132c544e8a0eb7c394affeae",
            ],
        ),
        (
            format!("{ndpi}/imap-starttls.pcap"),
            "imap",
            &[],
            &["c369db2c355ad05c76f5660af3179b01"],
        ),
        (
            format!("{ndpi}/pop3_stls.pcap"),
            "pop3",
            &["pop.lavabit.com"],
            &["207409c2b30e670ca50e1eac016a4831"],
        ),
        (
            format!("{ndpi}/ftp-start-tls.pcap"),
            "ftp",
            &[],
            &["398076b7fcad56308a762b3c79fe1f44"],
        ),
        (
            format!("{ndpi}/pgsql2.pcapng"),
            "pgsql",
            &[],
            &["8461521d6336a309df8b3e866e9aa77a"],
        ),
        (
            "robustness/arkime-tests/tests/pcap/mysql-tls.pcap".into(),
            "mysql",
            &[],
            &["3509fd9d38bde48d8abc69cd321c0ba0"],
        ),
        (
            format!("{ndpi}/mysql.pcapng"),
            "mysql",
            &[],
            &["dd99f0b11b7a721ecdb698a10a9585cb"],
        ),
        (
            "robustness/PcapPlusPlus-tests/Tests/Pcap++Test/PcapExamples/pcapng-example.pcapng"
                .into(),
            "mysql",
            &[],
            &["b1fbf71983dc2a72277e70ec11e3a979"],
        ),
        (
            "robustness/arkime-tests/tests/pcap/ldap-ssl.pcap".into(),
            "ldap",
            &[],
            &["3f8b7a5c41878630f67e660533be80fc"],
        ),
    ];
    for (rel, outer, snis, ja3s) in cases {
        let (events, o) = eve_of(&corpus().join(&rel), &["--no-detect"]);
        let summary = String::from_utf8_lossy(&o.stdout);
        let tls = of_type(&events, "tls");
        let mut got_ja3: Vec<&str> = tls
            .iter()
            .filter_map(|e| e["tls"]["ja3"]["hash"].as_str())
            .collect();
        got_ja3.sort_unstable();
        assert_eq!(got_ja3, ja3s, "{rel}");
        let got_sni: Vec<&str> = tls
            .iter()
            .filter_map(|e| e["tls"]["sni"].as_str())
            .collect();
        assert_eq!(got_sni, snis, "{rel}");
        // Every TLS session is on a flow that began as the cleartext protocol.
        let flows = of_type(&events, "flow");
        for e in &tls {
            let f = flows
                .iter()
                .find(|f| f["flow_id"] == e["flow_id"])
                .unwrap_or_else(|| panic!("{rel}: no flow for {e}"));
            assert_eq!(f["app_proto"], "tls", "{rel}: {f}");
        }
        assert!(
            summary.contains(&format!("{} switched to TLS", ja3s.len())),
            "{rel} ({outer}): {summary}"
        );
    }
}

/// LDAP found by its messages, not its port: the log4j exploit's JNDI lookup goes to an LDAP
/// server on port 1389 (tshark shows bind, search and their answers there when told the
/// port is LDAP), and Active Directory's LDAP on 389 in nDPI's Kerberos capture. No other
/// flow of these captures is taken for LDAP.
#[test]
fn ldap_is_identified_on_any_port() {
    let ndpi = corpus().join("robustness/nDPI-tests/tests/cfgs/default/pcap");
    for (file, port, count) in [
        ("log4j-webapp-exploit.pcap", 1389, 2),
        ("kerberos.pcap", 389, 7),
    ] {
        let (events, _) = eve_of(&ndpi.join(file), &["-q", "--no-detect"]);
        let flows = of_type(&events, "flow");
        let ldap: Vec<_> = flows.iter().filter(|f| f["app_proto"] == "ldap").collect();
        assert_eq!(ldap.len(), count, "{file}: {ldap:?}");
        assert!(
            ldap.iter().all(|f| f["dest_port"] == port),
            "{file}: {ldap:?}"
        );
    }
}

#[test]
fn proxy_protocol_header_names_the_client_behind_the_balancer() {
    let cases = [
        // nDPI's HAProxy sample: a v1 line, then a TLS ClientHello in the same segment.
        (
            "robustness/nDPI-tests/tests/cfgs/default/pcap/haproxy.pcap",
            ("11.111.11.111", 52176, "222.222.222.22", 443),
            "tls",
        ),
        // PcapPlusPlus: a v1 line ahead of a MySQL session (the server greets after it).
        (
            "robustness/PcapPlusPlus-tests/Tests/Pcap++Test/PcapExamples/one_tcp_stream_fin_rst_close_packet.pcap",
            ("192.168.221.1", 64278, "192.168.221.132", 3306),
            "mysql",
        ),
    ];
    for (file, (src, sport, dst, dport), inner) in cases {
        let (events, out) = eve_of(&corpus().join(file), &["--json", "--no-detect"]);
        let proxy = of_type(&events, "proxy");
        assert_eq!(proxy.len(), 1, "{file}: {events:#?}");
        let p = &proxy[0]["proxy"];
        assert_eq!(p["version"], 1, "{p}");
        assert_eq!(p["command"], "proxy", "{p}");
        assert_eq!(p["protocol"], "TCP4", "{p}");
        assert_eq!(
            (&p["src_ip"], &p["src_port"]),
            (&serde_json::json!(src), &serde_json::json!(sport))
        );
        assert_eq!(
            (&p["dest_ip"], &p["dest_port"]),
            (&serde_json::json!(dst), &serde_json::json!(dport))
        );
        // The proxied protocol is identified after the header, on the same flow.
        let flows = of_type(&events, "flow");
        assert_eq!(flows.len(), 1, "{file}");
        assert_eq!(flows[0]["app_proto"], inner, "{file}");
        assert_eq!(flows[0]["flow_id"], proxy[0]["flow_id"]);
        let report: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
        assert_eq!(report["app"]["proxy"]["headers"], 1, "{file}");
        assert_eq!(report["app"]["proxy"]["malformed"], 0, "{file}");
    }
    // The ClientHello after the header gives the SNI and JA3 tshark shows for it.
    let (events, _) = eve_of(&corpus().join(cases[0].0), &["-q", "--no-detect"]);
    let tls = of_type(&events, "tls");
    assert_eq!(tls.len(), 1, "{tls:?}");
    assert_eq!(tls[0]["tls"]["sni"], "aaaaaaaaaaaaaaaa.xx");
    assert_eq!(
        tls[0]["tls"]["ja3"]["hash"],
        "dda262729e5413660ec0e6a8d4279860"
    );
}

#[test]
fn streams_that_only_begin_like_a_proxy_header_are_left_alone() {
    // Requests starting with `P` (POST), and a capture with every protocol of the layer: no
    // header is reported and the protocols are parsed as before.
    for file in [
        "attacks/chrissanders-packets/http_post.pcapng",
        "robustness/arkime-tests/tests/pcap/socks-http-example.pcap",
    ] {
        let (events, out) = eve_of(&corpus().join(file), &["--json", "--no-detect"]);
        assert!(of_type(&events, "proxy").is_empty(), "{file}");
        assert!(!of_type(&events, "http").is_empty(), "{file}");
        let report: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
        assert_eq!(report["app"]["proxy"]["headers"], 0, "{file}");
    }
}

#[test]
fn openvpn_control_channel_has_its_tls_session() {
    // nDPI's OpenVPN over TCP captures: with a SHA-1 tls-auth HMAC, without one, and one
    // connection on port 443. The JA3 values are tshark's (`tls.handshake.ja3`; for port 443
    // with `-d tcp.port==443,openvpn`).
    let ndpi = corpus().join("robustness/nDPI-tests/tests/cfgs/default/pcap");
    for (file, want) in [
        (
            "443-opvn.pcap",
            &[(1194, "c81fc162549590f0e836b538fe5bfdd7")][..],
        ),
        (
            "openvpn.pcap",
            &[
                (1194, "f0d20361ae57a5c81d94ac774a736a52"),
                (443, "a0813e7a9441e927000427452ad684ce"),
            ][..],
        ),
        (
            "openvpn_nohmac_tcp.pcapng",
            &[(1194, "f0d20361ae57a5c81d94ac774a736a52")][..],
        ),
    ] {
        let (events, _) = eve_of(&ndpi.join(file), &["-q", "--no-detect"]);
        let vpn: Vec<_> = of_type(&events, "flow")
            .into_iter()
            .filter(|f| f["app_proto"] == "openvpn")
            .collect();
        assert_eq!(vpn.len(), want.len(), "{file}: {vpn:?}");
        for (port, ja3) in want {
            let flow = vpn.iter().find(|f| f["dest_port"] == *port).unwrap();
            let tls: Vec<_> = of_type(&events, "tls")
                .into_iter()
                .filter(|t| t["flow_id"] == flow["flow_id"])
                .collect();
            assert_eq!(tls.len(), 1, "{file}:{port}");
            assert_eq!(tls[0]["tls"]["ja3"]["hash"], *ja3, "{file}:{port}");
            // The server's hello and certificate came through the control channel too.
            assert!(tls[0]["tls"]["ja3s"]["hash"].is_string(), "{file}:{port}");
        }
    }
}

/// OpenVPN against Arkime's expected sessions for its captures: every TCP session Arkime calls
/// `openvpn` is an `openvpn` flow here, on its odd port, with the JA3 Arkime computed; in
/// the captures where Arkime finds no OpenVPN, no flow is labelled so.
#[test]
fn openvpn_agrees_with_arkime() {
    let (mut checked, mut files_without) = (0, 0);
    for (name, pcap, expected) in arkime_expectations() {
        let (events, _) = eve_of(&pcap, &["-q", "--no-detect"]);
        let flows = of_type(&events, "flow");
        let mut want = Vec::new();
        for s in expected["sessions3"].as_array().unwrap() {
            let b = &s["body"];
            let protos = arkime_protocols(b);
            if protos.contains(&"openvpn") && protos.contains(&"tcp") {
                want.push((b["source"]["port"].clone(), b["tls"]["ja3"][0].clone()));
            }
        }
        if want.is_empty() {
            let labelled: Vec<_> = flows
                .iter()
                .filter(|f| f["app_proto"] == "openvpn")
                .collect();
            assert!(labelled.is_empty(), "{name}: {}", labelled[0]);
            files_without += 1;
            continue;
        }
        for (port, ja3) in want {
            let f = flows
                .iter()
                .find(|f| f["src_port"] == port)
                .unwrap_or_else(|| panic!("{name}: no flow from port {port}"));
            assert_eq!(f["app_proto"], "openvpn", "{name} {port}: {f}");
            let tls = of_type(&events, "tls");
            let t = tls
                .iter()
                .find(|t| t["flow_id"] == f["flow_id"])
                .unwrap_or_else(|| panic!("{name} {port}: no tls event"));
            assert_eq!(t["tls"]["ja3"]["hash"], ja3, "{name} {port}");
            checked += 1;
        }
    }
    // openvpn_synthetic.pcap: two TCP sessions, on ports 8443 and 6666.
    assert_eq!(checked, 2, "TCP OpenVPN sessions checked");
    assert!(
        files_without >= 150,
        "{files_without} captures without OpenVPN"
    );
}
