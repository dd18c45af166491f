use super::*;
use wirescope_core::Timestamp;

fn header(id: u16, flags: u16, counts: [u16; 4]) -> Vec<u8> {
    let mut v = Vec::new();
    for x in [id, flags, counts[0], counts[1], counts[2], counts[3]] {
        v.extend_from_slice(&x.to_be_bytes());
    }
    v
}

/// Wire form of a dotted name ("" is the root).
fn wname(s: &str) -> Vec<u8> {
    let mut v = Vec::new();
    for l in s.split('.').filter(|l| !l.is_empty()) {
        v.push(l.len() as u8);
        v.extend_from_slice(l.as_bytes());
    }
    v.push(0);
    v
}

fn labels_name(labels: &[&[u8]]) -> Vec<u8> {
    let mut v = Vec::new();
    for l in labels {
        v.push(l.len() as u8);
        v.extend_from_slice(l);
    }
    v.push(0);
    v
}

fn ptr(off: u16) -> Vec<u8> {
    (0xC000 | off).to_be_bytes().to_vec()
}

fn question(v: &mut Vec<u8>, name: &[u8], qtype: u16, qclass: u16) {
    v.extend_from_slice(name);
    v.extend_from_slice(&qtype.to_be_bytes());
    v.extend_from_slice(&qclass.to_be_bytes());
}

fn record(v: &mut Vec<u8>, name: &[u8], rtype: u16, class: u16, ttl: u32, rdata: &[u8]) {
    v.extend_from_slice(name);
    v.extend_from_slice(&rtype.to_be_bytes());
    v.extend_from_slice(&class.to_be_bytes());
    v.extend_from_slice(&ttl.to_be_bytes());
    v.extend_from_slice(&(rdata.len() as u16).to_be_bytes());
    v.extend_from_slice(rdata);
}

fn query(id: u16, name: &str, qtype: u16) -> Vec<u8> {
    let mut v = header(id, 0x0100, [1, 0, 0, 0]);
    question(&mut v, &wname(name), qtype, 1);
    v
}

fn name_str(n: &Name<'_>, style: NameStyle) -> Result<String, DnsError> {
    let mut b = NameBuf::with_style(style);
    n.write_to(&mut b)?;
    Ok(b.as_str().to_string())
}

fn qname(m: &Message<'_>, style: NameStyle) -> Result<String, DnsError> {
    let q = m.first_question().expect("question");
    name_str(&q.name, style)
}

/// A response with every decoded RDATA kind, using compression.
fn rich_response() -> Vec<u8> {
    let mut v = header(0xBEEF, 0x8180, [1, 9, 1, 1]);
    question(&mut v, &wname("www.example.com"), 1, 1); // name at 12
    let www = ptr(12);
    let example = ptr(16);
    record(&mut v, &www, rtype::CNAME, 1, 300, &{
        let mut r = b"\x03web".to_vec();
        r.extend(ptr(16));
        r
    });
    record(&mut v, &www, rtype::A, 1, 60, &[192, 0, 2, 1]);
    record(&mut v, &www, rtype::AAAA, 1, 60, &{
        let mut a = [0u8; 16];
        a[0] = 0x20;
        a[1] = 0x01;
        a[2] = 0x0d;
        a[3] = 0xb8;
        a[15] = 1;
        a
    });
    record(&mut v, &example, rtype::MX, 1, 3600, &{
        let mut r = 10u16.to_be_bytes().to_vec();
        r.extend(b"\x04mail");
        r.extend(ptr(16));
        r
    });
    record(
        &mut v,
        &example,
        rtype::TXT,
        1,
        1,
        b"\x05hello\x00\x05world",
    );
    record(&mut v, &example, rtype::SRV, 1, 1, &{
        let mut r = Vec::new();
        for x in [1u16, 2, 5060] {
            r.extend(x.to_be_bytes());
        }
        r.extend(ptr(12));
        r
    });
    record(&mut v, &example, rtype::PTR, 1, 1, &ptr(12));
    record(&mut v, &example, 99, 1, 1, b"v=spf1");
    record(&mut v, &example, rtype::A, 1, 1, &[1, 2, 3]); // malformed
    record(&mut v, &example, rtype::SOA, 1, 900, &{
        let mut r = b"\x02ns".to_vec();
        r.extend(ptr(16));
        r.extend(b"\x05admin");
        r.extend(ptr(16));
        for x in [2024010101u32, 7200, 3600, 1209600, 300] {
            r.extend(x.to_be_bytes());
        }
        r
    });
    // OPT: payload 1232, ext rcode 0, version 0, DO set, one option (cookie, 8 octets).
    let mut opt = 10u16.to_be_bytes().to_vec();
    opt.extend(8u16.to_be_bytes());
    opt.extend([1, 2, 3, 4, 5, 6, 7, 8]);
    record(&mut v, &[0], rtype::OPT, 1232, 0x0000_8000, &opt);
    v
}

#[test]
fn header_flags() {
    // QR, opcode 5, AA, TC, RD, RA, Z, AD, CD, rcode 3
    let h = Header::from_bytes(&header(7, 0xAFF3, [1, 2, 3, 4])).expect("header");
    assert_eq!(h.id, 7);
    assert!(h.qr() && h.aa() && h.tc() && h.rd() && h.ra() && h.z() && h.ad() && h.cd());
    assert_eq!(h.opcode(), 5);
    assert_eq!(h.rcode(), 3);
    assert_eq!((h.qdcount, h.ancount, h.nscount, h.arcount), (1, 2, 3, 4));
    let h = Header::from_bytes(&header(7, 0, [0; 4])).expect("header");
    assert!(!h.qr() && !h.aa() && !h.tc() && !h.rd() && !h.ra() && !h.z() && !h.ad());
    assert!(!h.cd());
    assert_eq!(Header::from_bytes(&[0; 11]), Err(DnsError::TooShort));
}

#[test]
fn too_short_is_the_only_parse_error() {
    for n in 0..HEADER_LEN {
        assert_eq!(parse(&[0u8; 12][..n]).err(), Some(DnsError::TooShort));
    }
    let m = parse(&[0u8; 12]).expect("empty message");
    assert!(!m.truncated());
    assert_eq!(m.question_count(), 0);
    assert_eq!(m.record_count(), 0);
    assert!(m.edns().is_none());
}

#[test]
fn simple_query() {
    let msg = query(0x1234, "www.Example.com", 28);
    let m = parse(&msg).expect("parse");
    assert_eq!(m.header().id, 0x1234);
    assert!(!m.header().qr() && m.header().rd());
    assert!(!m.truncated());
    assert_eq!(m.trailing_bytes(), 0);
    let q = m.first_question().expect("q");
    assert_eq!((q.qtype, q.qclass), (28, 1));
    assert_eq!(q.name.offset(), 12);
    for style in [NameStyle::Escaped, NameStyle::Tshark, NameStyle::Suricata] {
        assert_eq!(qname(&m, style).as_deref(), Ok("www.Example.com"));
    }
    let labels: Vec<&[u8]> = q.name.labels().map(|l| l.expect("label")).collect();
    assert_eq!(labels, vec![&b"www"[..], b"Example", b"com"]);
    assert_eq!(q.name.wire_len(), Ok(17));
    assert!(!q.name.is_root());
    assert_eq!(m.bytes(), &msg[..]);
}

#[test]
fn root_name_is_empty() {
    let mut v = header(1, 0, [1, 0, 0, 0]);
    question(&mut v, &[0], 2, 1);
    let m = parse(&v).expect("parse");
    let q = m.first_question().expect("q");
    assert!(q.name.is_root());
    assert_eq!(q.name.wire_len(), Ok(1));
    assert_eq!(qname(&m, NameStyle::Tshark).as_deref(), Ok(""));
}

#[test]
fn every_rdata_kind() {
    let msg = rich_response();
    let m = parse(&msg).expect("parse");
    assert!(!m.truncated(), "{:?}", m.error());
    assert_eq!(m.section_counts(), (9, 1, 1));
    let recs: Vec<(Section, Record<'_>)> = m.records().collect();
    assert_eq!(recs.len(), 11);
    assert_eq!(m.record_count(), 11);
    let s = NameStyle::Escaped;

    let (sec, r) = &recs[0];
    assert_eq!(*sec, Section::Answer);
    assert_eq!(name_str(&r.name, s).as_deref(), Ok("www.example.com"));
    assert_eq!((r.rtype, r.class, r.ttl), (rtype::CNAME, 1, 300));
    match r.rdata {
        RData::Name(n) => assert_eq!(name_str(&n, s).as_deref(), Ok("web.example.com")),
        other => panic!("{other:?}"),
    }
    match recs[1].1.rdata {
        RData::A(a) => assert_eq!(a, Ipv4Addr::new(192, 0, 2, 1)),
        other => panic!("{other:?}"),
    }
    match recs[2].1.rdata {
        RData::Aaaa(a) => assert_eq!(a, "2001:db8::1".parse::<Ipv6Addr>().expect("v6")),
        other => panic!("{other:?}"),
    }
    match recs[3].1.rdata {
        RData::Mx {
            preference,
            exchange,
        } => {
            assert_eq!(preference, 10);
            assert_eq!(name_str(&exchange, s).as_deref(), Ok("mail.example.com"));
        }
        other => panic!("{other:?}"),
    }
    match recs[4].1.rdata {
        RData::Txt(t) => {
            let strings: Vec<&[u8]> = txt_strings(t).collect();
            assert_eq!(strings, vec![&b"hello"[..], b"", b"world"]);
        }
        other => panic!("{other:?}"),
    }
    match recs[5].1.rdata {
        RData::Srv {
            priority,
            weight,
            port,
            target,
        } => {
            assert_eq!((priority, weight, port), (1, 2, 5060));
            assert_eq!(name_str(&target, s).as_deref(), Ok("www.example.com"));
        }
        other => panic!("{other:?}"),
    }
    match recs[6].1.rdata {
        RData::Name(n) => assert_eq!(name_str(&n, s).as_deref(), Ok("www.example.com")),
        other => panic!("{other:?}"),
    }
    match recs[7].1.rdata {
        RData::Other(d) => assert_eq!(d, b"v=spf1"),
        other => panic!("{other:?}"),
    }
    match recs[8].1.rdata {
        RData::Malformed(d) => assert_eq!(d, [1, 2, 3]),
        other => panic!("{other:?}"),
    }
    let (sec, soa) = &recs[9];
    assert_eq!(*sec, Section::Authority);
    match soa.rdata {
        RData::Soa {
            mname,
            rname,
            serial,
            refresh,
            retry,
            expire,
            minimum,
        } => {
            assert_eq!(name_str(&mname, s).as_deref(), Ok("ns.example.com"));
            assert_eq!(name_str(&rname, s).as_deref(), Ok("admin.example.com"));
            assert_eq!(
                (serial, refresh, retry, expire, minimum),
                (2024010101, 7200, 3600, 1209600, 300)
            );
        }
        other => panic!("{other:?}"),
    }
    let (sec, opt) = &recs[10];
    assert_eq!(*sec, Section::Additional);
    match opt.rdata {
        RData::Opt(d) => {
            let opts: Vec<(u16, &[u8])> = edns_options(d).collect();
            assert_eq!(opts, vec![(10u16, &[1u8, 2, 3, 4, 5, 6, 7, 8][..])]);
        }
        other => panic!("{other:?}"),
    }
    assert_eq!(opt.rdata_bytes.len(), 12);
    let e = m.edns().expect("edns");
    assert_eq!(e.udp_payload_size, 1232);
    assert!(e.do_bit);
    assert_eq!((e.version, e.extended_rcode, e.flags), (0, 0, 0x8000));
    assert_eq!(e.option_count, 1);
    assert!(!e.options_malformed);
    assert_eq!(e.opt_records, 1);
    assert_eq!(m.rcode(), 0);
}

#[test]
fn malformed_rdata_of_each_named_type() {
    let mut v = header(1, 0x8180, [0, 7, 0, 0]);
    let n = wname("a");
    // CNAME whose name runs past the RDATA (label claims 5 octets, RDATA has 3).
    record(&mut v, &n, rtype::CNAME, 1, 0, b"\x05ab");
    // MX with only a preference.
    record(&mut v, &n, rtype::MX, 1, 0, &[0, 1]);
    // SOA missing its numbers.
    record(&mut v, &n, rtype::SOA, 1, 0, b"\x00\x00\x00\x00\x00\x01");
    // SRV too short.
    record(&mut v, &n, rtype::SRV, 1, 0, &[0, 1, 0, 2]);
    // TXT whose string runs past the RDATA.
    record(&mut v, &n, rtype::TXT, 1, 0, b"\x09abc");
    // AAAA of 4 octets.
    record(&mut v, &n, rtype::AAAA, 1, 0, &[1, 2, 3, 4]);
    // NS with a bad label type.
    record(&mut v, &n, rtype::NS, 1, 0, b"\x41\x00");
    let m = parse(&v).expect("parse");
    assert!(!m.truncated());
    let kinds: Vec<bool> = m
        .records()
        .map(|(_, r)| matches!(r.rdata, RData::Malformed(_)))
        .collect();
    assert_eq!(kinds, vec![true; 7]);
    // An empty TXT is accepted (zero strings) and trailing octets after a name are allowed.
    let mut v = header(1, 0x8180, [0, 2, 0, 0]);
    record(&mut v, &n, rtype::TXT, 1, 0, b"");
    record(&mut v, &n, rtype::CNAME, 1, 0, b"\x01b\x00junk");
    let m = parse(&v).expect("parse");
    let r: Vec<Record<'_>> = m.records().map(|(_, r)| r).collect();
    assert!(matches!(r[0].rdata, RData::Txt(t) if t.is_empty()));
    match r[1].rdata {
        RData::Name(n) => assert_eq!(name_str(&n, NameStyle::Escaped).as_deref(), Ok("b")),
        other => panic!("{other:?}"),
    }
}

#[test]
fn compression_pointer_rules() {
    // Forward pointer: accepted (Wireshark accepts it too); the walk stays bounded.
    let mut v = header(9, 0x0100, [1, 0, 0, 0]);
    v.extend(b"\x01a");
    v.extend(ptr(20));
    v.extend([0, 1, 0, 1]);
    v.extend(b"\x03fwd\x00");
    let m = parse(&v).expect("parse");
    assert_eq!(qname(&m, NameStyle::Escaped).as_deref(), Ok("a.fwd"));
    assert_eq!(m.trailing_bytes(), 5);

    // Pointer to itself.
    let mut v = header(9, 0x0100, [1, 0, 0, 0]);
    question(&mut v, &ptr(12), 1, 1);
    let m = parse(&v).expect("parse");
    assert!(!m.truncated(), "the in-place extent is fine");
    assert_eq!(qname(&m, NameStyle::Escaped), Err(DnsError::PointerLoop));

    // Two pointers pointing at each other (via a second question).
    let mut v = header(9, 0x0100, [2, 0, 0, 0]);
    question(&mut v, &ptr(18), 1, 1); // 12..14 -> 18
    question(&mut v, &ptr(12), 1, 1); // 18..20 -> 12
    let m = parse(&v).expect("parse");
    for q in m.questions() {
        assert_eq!(
            name_str(&q.name, NameStyle::Tshark),
            Err(DnsError::PointerLoop)
        );
    }

    // A loop through labels: "a" then a pointer back to the start.
    let mut v = header(9, 0x0100, [1, 0, 0, 0]);
    v.extend(b"\x01a");
    v.extend(ptr(12));
    v.extend([0, 1, 0, 1]);
    let m = parse(&v).expect("parse");
    let q = m.first_question().expect("q");
    assert_eq!(
        name_str(&q.name, NameStyle::Escaped),
        Err(DnsError::PointerLoop)
    );
    assert_eq!(q.name.wire_len(), Err(DnsError::PointerLoop));
    // labels() yields at most what fits in 255 octets, then the error.
    let items: Vec<_> = q.name.labels().collect();
    assert!(items.len() < 200);
    assert_eq!(items.last(), Some(&Err(DnsError::PointerLoop)));

    // Pointer outside the message.
    let mut v = header(9, 0x0100, [1, 0, 0, 0]);
    question(&mut v, &ptr(0x3FFF), 1, 1);
    let m = parse(&v).expect("parse");
    assert_eq!(qname(&m, NameStyle::Escaped), Err(DnsError::BadPointer));

    // Pointer into the header (legal but odd) that lands on a label type 0x80.
    let mut v = header(0x80FF, 0x0100, [1, 0, 0, 0]);
    question(&mut v, &ptr(0), 1, 1);
    let m = parse(&v).expect("parse");
    assert_eq!(
        qname(&m, NameStyle::Escaped),
        Err(DnsError::BadLabelType(0x80))
    );

    // Pointer to the last octet, which starts a label that runs past the end.
    let mut v = header(9, 0x0100, [1, 0, 0, 0]);
    question(&mut v, &ptr(17), 1, 1);
    v.push(5);
    let m = parse(&v).expect("parse");
    assert_eq!(m.trailing_bytes(), 1);
    assert_eq!(qname(&m, NameStyle::Escaped), Err(DnsError::Truncated));
}

#[test]
fn chain_of_pointers_is_bounded_by_hop_count() {
    // 300 pointers each to the previous one, the first to a real name: no loop, but more
    // than MAX_POINTER_HOPS hops.
    let mut v = header(1, 0, [0, 0, 0, 0]);
    v.extend(wname("x")); // at 12
    let mut prev = 12u16;
    for _ in 0..300 {
        let here = v.len() as u16;
        v.extend(ptr(prev));
        prev = here;
    }
    let ok = Name::new(&v, 12 + 3 + 2 * 200);
    assert_eq!(name_str(&ok, NameStyle::Escaped).as_deref(), Ok("x"));
    let too_many = Name::new(&v, usize::from(prev));
    assert_eq!(
        name_str(&too_many, NameStyle::Escaped),
        Err(DnsError::PointerLoop)
    );
}

#[test]
fn name_length_limit_is_255_octets() {
    let l63 = [b'a'; 63];
    let ok = labels_name(&[&l63, &l63, &l63, &[b'b'; 61]]);
    assert_eq!(ok.len(), 255);
    let long = labels_name(&[&l63, &l63, &l63, &[b'b'; 62]]);
    assert_eq!(long.len(), 256);
    for (name, expect_ok) in [(ok, true), (long, false)] {
        let mut v = header(1, 0, [1, 0, 0, 0]);
        question(&mut v, &name, 1, 1);
        let m = parse(&v).expect("parse");
        assert!(!m.truncated());
        let q = m.first_question().expect("q");
        let r = name_str(&q.name, NameStyle::Escaped);
        if expect_ok {
            assert_eq!(r.map(|s| s.len()), Ok(253));
            assert_eq!(q.name.wire_len(), Ok(255));
        } else {
            assert_eq!(r, Err(DnsError::NameTooLong));
            assert_eq!(q.name.wire_len(), Err(DnsError::NameTooLong));
        }
    }
    // The limit applies to the uncompressed name: 200 octets in place + a pointer to 60.
    let mut v = header(1, 0, [2, 0, 0, 0]);
    question(&mut v, &labels_name(&[&[b'c'; 58]]), 1, 1); // at 12, 60 octets
    let mut n = Vec::new();
    for _ in 0..4 {
        n.push(49u8);
        n.extend([b'd'; 49]);
    }
    n.extend(ptr(12));
    question(&mut v, &n, 1, 1);
    let m = parse(&v).expect("parse");
    let names: Vec<_> = m
        .questions()
        .map(|q| name_str(&q.name, NameStyle::Escaped).map(|s| s.len()))
        .collect();
    assert_eq!(names, vec![Ok(58), Err(DnsError::NameTooLong)]);
}

#[test]
fn bad_label_types_stop_the_walk() {
    for lt in [0x40u8, 0x41, 0x80, 0xBF] {
        let mut v = header(1, 0, [2, 0, 0, 0]);
        question(&mut v, &wname("ok"), 1, 1);
        v.extend([lt, b'x', 0, 0, 1, 0, 1]);
        let m = parse(&v).expect("parse");
        assert!(m.truncated());
        assert_eq!(m.error(), Some(DnsError::BadLabelType(lt)));
        assert_eq!(m.question_count(), 1);
        assert_eq!(qname(&m, NameStyle::Escaped).as_deref(), Ok("ok"));
    }
}

/// A message of `1 + more` questions: the first is a chain of 5,000 one-octet labels in place
/// (far more than MAX_NAME_STEPS) and then a pointer to a label of the invalid type 0x80 (the
/// first octet of its own QCLASS, 0x8001); each of the `more` others is a pointer to it.
fn long_chain_message(more: u16) -> Vec<u8> {
    let mut v = header(1, 0x8000, [1 + more, 0, 0, 0]);
    for _ in 0..5_000 {
        v.extend([1, b'a']);
    }
    let qclass = v.len() + 2 + 2;
    v.extend(ptr(qclass as u16));
    v.extend([0, 1, 0x80, 1]);
    assert_eq!(v[qclass], 0x80);
    for _ in 0..more {
        v.extend(ptr(12));
        v.extend([0, 1, 0, 1]);
    }
    v
}

#[test]
fn a_message_with_few_names_walks_a_long_one_to_its_end() {
    // One name: its share of the message's budget covers the walk of 5,001 steps, so the
    // bad label is found (as Wireshark finds it), rather than the name being given up as too
    // long at 1,024 steps.
    let v = long_chain_message(0);
    let m = parse(&v).expect("parse");
    assert_eq!(m.question_count(), 1);
    let q = m.first_question().expect("q");
    let share = NAME_STEPS_PER_OCTET * v.len();
    assert_eq!(q.name.max_steps(), share);
    assert!(share > 5_001 && 5_001 > MAX_NAME_STEPS);
    assert_eq!(
        name_str(&q.name, NameStyle::Tshark),
        Err(DnsError::BadLabelType(0x80))
    );
    // The same name on its own keeps the floor, and is given up past 255 octets as too long.
    let alone = Name::new(&v, 12);
    assert_eq!(alone.max_steps(), MAX_NAME_STEPS);
    assert_eq!(
        name_str(&alone, NameStyle::Tshark),
        Err(DnsError::NameTooLong)
    );

    // Many names share the budget: with 8,000 more questions pointing at the chain, each
    // name's share is below the floor (128 * len / 8,001 < 1,024), so each gets the floor
    // and is given up as too long.
    let v = long_chain_message(8_000);
    let m = parse(&v).expect("parse");
    assert_eq!(m.question_count(), 8_001);
    assert!(NAME_STEPS_PER_OCTET * v.len() / 8_001 < MAX_NAME_STEPS);
    for q in m.questions() {
        assert_eq!(q.name.max_steps(), MAX_NAME_STEPS);
        assert_eq!(
            name_str(&q.name, NameStyle::Tshark),
            Err(DnsError::NameTooLong)
        );
    }
}

#[test]
fn records_and_their_rdata_names_share_the_budget_too() {
    // An answer's owner and a CNAME's target count three names per record.
    let mut v = header(1, 0x8180, [1, 1, 0, 0]);
    question(&mut v, &wname("a.example"), 1, 1);
    record(&mut v, &ptr(12), rtype::CNAME, 1, 60, &ptr(12));
    let m = parse(&v).expect("parse");
    let want = (NAME_STEPS_PER_OCTET * v.len() / 4).max(MAX_NAME_STEPS);
    let (_, r) = m.records().next().expect("record");
    assert_eq!(r.name.max_steps(), want);
    match r.rdata {
        RData::Name(n) => assert_eq!(n.max_steps(), want),
        other => panic!("{other:?}"),
    }
    assert_eq!(m.first_question().expect("q").name.max_steps(), want);
}

#[test]
fn truncated_at_every_length() {
    let full = rich_response();
    let whole = parse(&full).expect("parse");
    let total = whole.question_count() + whole.record_count();
    let mut last_items = 0;
    for cut in HEADER_LEN..full.len() {
        let m = parse(&full[..cut]).expect("header is there");
        assert_eq!(m.header().id, 0xBEEF);
        assert!(m.truncated(), "cut at {cut}");
        assert_eq!(m.error(), Some(DnsError::Truncated), "cut at {cut}");
        let items = m.questions().count() + m.records().count();
        assert_eq!(items, m.question_count() + m.record_count());
        assert!(items >= last_items && items < total);
        last_items = items;
        // Everything that is yielded decodes as in the whole message.
        for ((_, a), (_, b)) in m.records().zip(whole.records()) {
            assert_eq!(a.rdata_bytes, b.rdata_bytes);
            let mut s1 = String::new();
            let mut s2 = String::new();
            format_rdata(&a, &mut s1);
            format_rdata(&b, &mut s2);
            assert_eq!(s1, s2);
        }
        if cut < 33 {
            // The question (12..33) is cut.
            assert_eq!(m.question_count(), 0);
        }
    }
    assert_eq!(last_items, total - 1);
    // A cut exactly between records leaves the first answers.
    let m = parse(&full[..33 + 2 + 10 + 9]).expect("parse");
    assert_eq!(m.question_count(), 1);
    assert_eq!(m.records().count(), 1);
    assert_eq!(m.records().next().map(|(s, _)| s), Some(Section::Answer));
}

#[test]
fn edns_extended_rcode() {
    // Header rcode 0 + OPT extended rcode 1 = 16 (BADVERS); version 1; options malformed.
    let mut v = header(3, 0x8100, [1, 0, 0, 2]);
    question(&mut v, &wname("x"), 1, 1);
    record(
        &mut v,
        &[0],
        rtype::OPT,
        4096,
        0x0101_0000,
        &[0, 3, 0, 9, 1],
    );
    record(&mut v, &[0], rtype::OPT, 512, 0, &[]);
    let m = parse(&v).expect("parse");
    let e = m.edns().expect("edns");
    assert_eq!(e.extended_rcode, 1);
    assert_eq!(e.version, 1);
    assert!(!e.do_bit);
    assert_eq!(e.udp_payload_size, 4096);
    assert_eq!(e.option_count, 0);
    assert!(e.options_malformed);
    assert_eq!(e.opt_records, 2);
    assert_eq!(m.header().rcode(), 0);
    assert_eq!(m.rcode(), 16);
    assert_eq!(rcode_name(m.rcode()), "BADVERS");
    // Header rcode 3 with an extended 0xFF: 0xFF3.
    let mut v = header(3, 0x8103, [0, 0, 0, 1]);
    record(&mut v, &[0], rtype::OPT, 1232, 0xFF00_0000, &[]);
    let m = parse(&v).expect("parse");
    assert_eq!(m.rcode(), 0xFF3);
    // OPT outside the additional section is not EDNS.
    let mut v = header(3, 0x8103, [0, 1, 0, 0]);
    record(&mut v, &[0], rtype::OPT, 1232, 0x0100_0000, &[]);
    let m = parse(&v).expect("parse");
    assert!(m.edns().is_none());
    assert_eq!(m.rcode(), 3);
}

#[test]
fn mdns_bits() {
    let mut v = header(0, 0x8400, [1, 1, 0, 0]);
    question(&mut v, &wname("printer.local"), 12, 0x8001);
    record(&mut v, &ptr(12), 1, 0x8001, 120, &[10, 0, 0, 5]);
    let m = parse(&v).expect("parse");
    let q = m.first_question().expect("q");
    assert!(q.unicast_response());
    assert_eq!(q.mdns_class(), 1);
    assert_eq!(q.qclass, 0x8001);
    let (_, r) = m.records().next().expect("record");
    assert!(r.cache_flush());
    assert_eq!(r.class, 0x8001);
    let mut v = header(0, 0, [1, 0, 0, 0]);
    question(&mut v, &wname("printer.local"), 12, 1);
    let m = parse(&v).expect("parse");
    assert!(!m.first_question().expect("q").unicast_response());
}

#[test]
fn name_styles() {
    // (label bytes, Escaped, Tshark (as tshark 4.0.17 printed them), Suricata)
    let cases: &[(&[u8], &str, &str, &str)] = &[
        (b"a\x00z", "a\\000z", "a\\000z", "a\u{0}z"),
        (
            b"a\x07\x08\x09\x0a\x0b\x0c\x0dz",
            "a\\007\\008\\009\\010\\011\\012\\013z",
            "a\\a\\b\\t\\n\\v\\f\\rz",
            "a\x07\x08\x09\x0a\x0b\x0c\x0dz",
        ),
        (b"a\x1fz", "a\\031z", "a\\037z", "a\x1fz"),
        (b"a z", "a\\032z", "a z", "a z"),
        (b"a.b", "a\\.b", "a.b", "a.b"),
        (b"a\\b", "a\\\\b", "a\\b", "a\\b"),
        (b"a\x7fz", "a\\127z", "a\\177z", "a\x7fz"),
        (
            b"\xc3\xa9t\xc3\xa9",
            "\\195\\169t\\195\\169",
            "\u{e9}t\u{e9}",
            "\u{e9}t\u{e9}",
        ),
        (b"\xe2\x82\xac", "\\226\\130\\172", "\u{20ac}", "\u{20ac}"),
        (
            b"\xf0\x9f\x98\x80",
            "\\240\\159\\152\\128",
            "\u{1f600}",
            "\u{1f600}",
        ),
        (b"\xff\xfe", "\\255\\254", "\u{fffd}\u{fffd}", "\\xff\\xfe"),
        (b"a\x80z", "a\\128z", "a\u{fffd}z", "a\\x80z"),
        (b"\xe2\x82z", "\\226\\130z", "\u{fffd}z", "\\xe2\\x82z"),
        (b"\xc0\x80", "\\192\\128", "\\u0000", "\\xc0\\x80"),
        (
            b"\xe0\x80\x80",
            "\\224\\128\\128",
            "\\u0000",
            "\\xe0\\x80\\x80",
        ),
        (
            b"\xed\xa0\x80",
            "\\237\\160\\128",
            "\u{fffd}",
            "\\xed\\xa0\\x80",
        ),
        (
            b"\xf4\x90\x80\x80",
            "\\244\\144\\128\\128",
            "\u{fffd}",
            "\\xf4\\x90\\x80\\x80",
        ),
        (b"\xc2\x85", "\\194\\133", "\\u0085", "\u{85}"),
        (b"\xe2\x80\x8b", "\\226\\128\\139", "\\u200B", "\u{200b}"),
        (b"\xc2\xa0", "\\194\\160", "\u{a0}", "\u{a0}"),
        (b"\xef\xbf\xbf", "\\239\\191\\191", "\\uFFFF", "\u{ffff}"),
        (
            b"\xf0\x9f\x98",
            "\\240\\159\\152",
            "\u{fffd}",
            "\\xf0\\x9f\\x98",
        ),
        (b"\xc2\x7f", "\\194\\127", "\u{fffd}\\177", "\\xc2\x7f"),
        (b"\xc3", "\\195", "\u{fffd}", "\\xc3"),
        (
            b"\xf3\xa0\x80\x81",
            "\\243\\160\\128\\129",
            "\\U000E0001",
            "\u{e0001}",
        ),
        (
            b"\xf8\x88\x80\x80\x80",
            "\\248\\136\\128\\128\\128",
            "\u{fffd}",
            "\\xf8\\x88\\x80\\x80\\x80",
        ),
    ];
    for (label, esc, tshark, suricata) in cases {
        let mut v = header(1, 0, [1, 0, 0, 0]);
        question(&mut v, &labels_name(&[label, b"com"]), 1, 1);
        let m = parse(&v).expect("parse");
        let expect = [
            (NameStyle::Escaped, format!("{esc}.com")),
            (NameStyle::Tshark, format!("{tshark}.com")),
            (NameStyle::Suricata, format!("{suricata}.com")),
        ];
        for (style, want) in expect {
            assert_eq!(
                qname(&m, style).as_deref(),
                Ok(want.as_str()),
                "{style:?} {label:x?}"
            );
        }
        let mut b = NameBuf::new();
        m.first_question()
            .expect("q")
            .name
            .write_to(&mut b)
            .expect("name");
        assert!(b.as_str().is_ascii());
    }
}

#[test]
fn worst_case_presentation_fits_the_buffer() {
    // 253 octets of 0x01 in four labels: Escaped and Tshark write 4 bytes per octet.
    let l = [1u8; 63];
    let name = labels_name(&[&l, &l, &l, &[1u8; 61]]);
    let mut v = header(1, 0, [1, 0, 0, 0]);
    question(&mut v, &name, 1, 1);
    let m = parse(&v).expect("parse");
    for style in [NameStyle::Escaped, NameStyle::Tshark, NameStyle::Suricata] {
        let s = qname(&m, style).expect("fits");
        assert!(s.len() <= NAME_BUF_CAP);
    }
    assert_eq!(
        qname(&m, NameStyle::Escaped).map(|s| s.len()),
        Ok(250 * 4 + 3)
    );
}

#[test]
fn name_helpers() {
    let mut v = header(1, 0, [2, 0, 0, 0]);
    question(&mut v, &wname("WWW.example.COM"), 1, 1);
    let mut n2 = b"\x03www".to_vec();
    n2.extend(ptr(16));
    question(&mut v, &n2, 1, 1);
    let m = parse(&v).expect("parse");
    let qs: Vec<Question<'_>> = m.questions().collect();
    assert!(qs[0].name.eq_ignore_case(&qs[1].name));
    assert!(!qs[0].name.eq_ignore_case(&Name::new(&v, 16)));
    let mut s = String::from(">");
    qs[1]
        .name
        .push_to_string(NameStyle::Suricata, &mut s)
        .expect("name");
    assert_eq!(s, ">www.example.COM");
    assert!(format!("{:?}", qs[1].name).contains("www.example.COM"));
    let bad = Name::new(&v, 1000);
    assert_eq!(bad.wire_len(), Err(DnsError::Truncated));
    assert!(format!("{bad:?}").contains("truncated"));
    let mut b = NameBuf::with_style(NameStyle::Tshark);
    b.set_str("keep");
    assert_eq!(bad.write_to(&mut b), Err(DnsError::Truncated));
    assert!(b.is_empty(), "cleared on error");
    b.set_str(&"é".repeat(600));
    assert_eq!(b.len(), 1024);
    assert_eq!(b.as_str().chars().count(), 512);
    assert_eq!(b.style(), NameStyle::Tshark);
    b.set_style(NameStyle::Escaped);
    assert_eq!(b.style(), NameStyle::Escaped);
    b.clear();
    assert_eq!(b, NameBuf::default());
    assert!(format!("{b:?}").contains("NameBuf"));
}

#[test]
fn formats_rdata_like_suricata() {
    let msg = rich_response();
    let m = parse(&msg).expect("parse");
    let out: Vec<(String, bool)> = m
        .records()
        .map(|(_, r)| {
            let mut s = String::new();
            format_rdata(&r, &mut s);
            (s, has_rdata_text(r.rtype))
        })
        .collect();
    let want = [
        ("web.example.com", true),
        ("192.0.2.1", true),
        ("2001:0db8:0000:0000:0000:0000:0000:0001", true),
        ("mail.example.com", true),
        ("hello  world", true),
        ("", false), // SRV: object in Suricata
        ("www.example.com", true),
        ("", false), // SPF
        ("", true),  // malformed A
        ("", false), // SOA
        ("", false), // OPT
    ];
    let got: Vec<(&str, bool)> = out.iter().map(|(s, b)| (s.as_str(), *b)).collect();
    assert_eq!(got, want);
    // NULL is shown raw, non-UTF-8 octets as \xhh.
    let mut v = header(1, 0x8000, [0, 1, 0, 0]);
    record(&mut v, &[0], rtype::NULL, 1, 0, b"ab\xffc");
    let m = parse(&v).expect("parse");
    let (_, r) = m.records().next().expect("rec");
    let mut s = String::new();
    format_rdata(&r, &mut s);
    assert_eq!(s, "ab\\xffc");
}

#[test]
fn type_class_rcode_names() {
    assert_eq!(rtype_name(1), Some("A"));
    assert_eq!(rtype_name(28), Some("AAAA"));
    assert_eq!(rtype_name(255), Some("ANY"));
    assert_eq!(rtype_name(65), Some("HTTPS"));
    assert_eq!(rtype_name(257), Some("CAA"));
    assert_eq!(rtype_name(54), None);
    assert_eq!(zeek_qtype_name(255), Some("*"));
    assert_eq!(zeek_qtype_name(33), Some("SRV"));
    assert_eq!(zeek_qtype_name(258), None);
    assert_eq!(zeek_qtype_name(65281), Some("WINS"));
    assert_eq!(rcode_name(0), "NOERROR");
    assert_eq!(rcode_name(3), "NXDOMAIN");
    assert_eq!(rcode_name(5), "REFUSED");
    assert_eq!(rcode_name(16), "BADVERS");
    assert_eq!(rcode_name(12), "unknown");
    assert_eq!(zeek_rcode_name(8), Some("NXRRSet"));
    assert_eq!(zeek_rcode_name(3), Some("NXDOMAIN"));
    assert_eq!(zeek_rcode_name(12), Some("unassigned-12"));
    assert_eq!(zeek_rcode_name(3842), Some("BADSIG"));
    assert_eq!(zeek_rcode_name(24), None);
    assert_eq!(class_name(1), Some("C_INTERNET"));
    assert_eq!(class_name(3), Some("C_CHAOS"));
    assert_eq!(class_name(255), Some("C_ANY"));
    assert_eq!(class_name(0x8001), None);
}

#[test]
fn errors_display() {
    let all = [
        DnsError::TooShort,
        DnsError::Truncated,
        DnsError::BadLabelType(0x40),
        DnsError::BadPointer,
        DnsError::PointerLoop,
        DnsError::NameTooLong,
        DnsError::BufferFull,
    ];
    let texts: Vec<String> = all.iter().map(|e| e.to_string()).collect();
    assert!(texts[2].contains("0x40"));
    assert!(texts[4].contains("loops"));
    for (i, a) in texts.iter().enumerate() {
        assert!(!a.is_empty());
        for b in &texts[i + 1..] {
            assert_ne!(a, b);
        }
    }
}

fn tcp_stream() -> (Vec<u8>, Vec<Vec<u8>>) {
    let msgs = vec![
        query(1, "a.example", 1),
        rich_response(),
        Vec::new(), // length 0
        query(2, "b.example", 28),
    ];
    let mut stream = Vec::new();
    for m in &msgs {
        stream.extend((m.len() as u16).to_be_bytes());
        stream.extend(m);
    }
    (stream, msgs)
}

fn frame_all(f: &mut TcpFramer, parts: &[&[u8]]) -> Vec<Vec<u8>> {
    let mut got = Vec::new();
    for p in parts {
        f.feed(p, &mut |m: &[u8]| got.push(m.to_vec()));
    }
    got
}

#[test]
fn tcp_framing_split_at_every_byte() {
    let (stream, msgs) = tcp_stream();
    for i in 0..=stream.len() {
        let mut f = TcpFramer::new();
        let got = frame_all(&mut f, &[&stream[..i], &stream[i..]]);
        assert_eq!(got, msgs, "split at {i}");
        assert_eq!(f.buffered(), 0);
        assert_eq!(f.messages(), 4);
    }
    for i in (0..=stream.len()).step_by(7) {
        for j in i..=stream.len() {
            let mut f = TcpFramer::new();
            let got = frame_all(&mut f, &[&stream[..i], &stream[i..j], &stream[j..]]);
            assert_eq!(got, msgs, "split at {i} and {j}");
        }
    }
    // One byte at a time.
    let mut f = TcpFramer::new();
    let parts: Vec<&[u8]> = stream.chunks(1).collect();
    assert_eq!(frame_all(&mut f, &parts), msgs);
}

#[test]
fn tcp_framing_buffers_partial_and_recovers_from_gaps() {
    let (stream, msgs) = tcp_stream();
    let mut f = TcpFramer::new();
    let got = frame_all(&mut f, &[&stream[..10]]);
    assert!(got.is_empty());
    assert_eq!(f.buffered(), 10);
    f.gap();
    assert_eq!(f.buffered(), 0);
    assert_eq!(f.gaps(), 1);
    // After the gap the next data starts at a boundary: the second message.
    let second = 2 + msgs[0].len();
    let got = frame_all(&mut f, &[&stream[second..]]);
    assert_eq!(got, msgs[1..].to_vec());
    f.reset();
    assert_eq!((f.messages(), f.gaps(), f.buffered()), (0, 0, 0));
    // A single length octet stays buffered.
    let got = frame_all(&mut f, &[&stream[..1]]);
    assert!(got.is_empty());
    assert_eq!(f.buffered(), 1);
    // The maximal message (65535 octets) is delivered, from the buffer when split.
    let mut big = vec![0xFFu8, 0xFF];
    big.extend(std::iter::repeat_n(7u8, 65535));
    let mut f = TcpFramer::new();
    let got = frame_all(&mut f, &[&big[..30000], &big[30000..]]);
    assert_eq!(got.len(), 1);
    assert_eq!(got[0].len(), 65535);
    assert_eq!(f.buffered(), 0);
    assert_eq!(f.buffer_capacity(), TCP_MAX_BUFFER);
    // Small messages split across calls keep a small buffer.
    let mut f = TcpFramer::new();
    let parts: Vec<&[u8]> = stream.chunks(3).collect();
    assert_eq!(frame_all(&mut f, &parts), msgs);
    assert!(
        f.buffer_capacity() <= 2 + rich_response().len(),
        "{}",
        f.buffer_capacity()
    );
}

#[test]
fn tracker_pairs_queries_and_responses() {
    let ts = |s: i64| Timestamp::from_secs_nanos(s, 0);
    let mut t = Tracker::new();
    let q1 = query(10, "www.example.com", 1);
    let q2 = query(11, "mail.example.com", 15);
    t.on_query(&parse(&q1).expect("q1"), ts(100));
    t.on_query(&parse(&q2).expect("q2"), ts(101));
    assert_eq!(t.pending(), 2);
    // Response with same id but a different question does not match.
    let mut r = header(10, 0x8180, [1, 0, 0, 0]);
    question(&mut r, &wname("other.example.com"), 1, 1);
    assert!(t.on_response(&parse(&r).expect("r"), ts(102)).is_none());
    assert_eq!(t.unmatched(), 1);
    // Case differences are fine (0x20 randomisation echoes the query, but be lenient).
    let mut r = header(10, 0x8180, [1, 0, 0, 0]);
    question(&mut r, &wname("WWW.example.com"), 1, 1);
    let p = t
        .on_response(&parse(&r).expect("r"), ts(103))
        .expect("match");
    assert_eq!((p.id, p.qtype, p.qclass, p.flags), (10, 1, 1, 0x0100));
    assert_eq!(p.qname.as_str(), "www.example.com");
    assert!(p.has_question);
    assert_eq!(ts(103).since(p.ts), 3_000_000_000);
    // A response without a question matches by id.
    let r = header(11, 0x8181, [0, 0, 0, 0]);
    let p = t
        .on_response(&parse(&r).expect("r"), ts(104))
        .expect("match");
    assert_eq!(p.qname.as_str(), "mail.example.com");
    assert_eq!(t.pending(), 0);
    assert!(t.on_response(&parse(&r).expect("r"), ts(105)).is_none());
}

#[test]
fn tracker_capacity_retransmissions_and_drain() {
    let ts = |s: i64| Timestamp::from_secs_nanos(s, 0);
    let mut t = Tracker::with_capacity(3, NameStyle::Tshark);
    for i in 0..5u16 {
        let q = query(i, "x.example", 1);
        t.on_query(&parse(&q).expect("q"), ts(i64::from(i)));
    }
    assert_eq!(t.pending(), 3);
    assert_eq!(t.dropped(), 2);
    // A retransmission of id 4: the response answers the first transmission.
    let q = query(4, "x.example", 1);
    t.on_query(&parse(&q).expect("q"), ts(50));
    assert_eq!(t.dropped(), 3);
    let mut r = header(4, 0x8180, [1, 0, 0, 0]);
    question(&mut r, &wname("x.example"), 1, 1);
    let p = t.on_response(&parse(&r).expect("r"), ts(60)).expect("m");
    assert_eq!(p.ts, ts(4));
    let mut left = Vec::new();
    t.drain(&mut |p: &PendingQuery| left.push((p.id, p.ts)));
    assert_eq!(left, vec![(3, ts(3)), (4, ts(50))]);
    assert_eq!(t.pending(), 0);
    // A query without a question is tracked by id alone.
    let q = header(9, 0, [0, 0, 0, 0]);
    t.on_query(&parse(&q).expect("q"), ts(70));
    let mut r = header(9, 0x8180, [1, 0, 0, 0]);
    question(&mut r, &wname("y"), 1, 1);
    let p = t.on_response(&parse(&r).expect("r"), ts(71)).expect("m");
    assert!(!p.has_question);
    assert!(p.qname.is_empty());
    assert_eq!(Tracker::default().pending(), 0);
}

#[test]
fn tracker_keeps_long_names_cut_and_still_pairs_them() {
    let ts = |s: i64| Timestamp::from_secs_nanos(s, 0);
    // Four labels of 60 binary octets: 244 octets on the wire, about 960 characters escaped.
    let label = "\\255".repeat(60);
    let long = [label.as_str(); 4].join(".");
    let mut wire = Vec::new();
    for _ in 0..4 {
        wire.push(60u8);
        wire.extend_from_slice(&[0xFF; 60]);
    }
    wire.push(0);
    let mut t = Tracker::with_capacity(2, NameStyle::Escaped);
    let mut q = header(7, 0x0100, [1, 0, 0, 0]);
    question(&mut q, &wire, 1, 1);
    t.on_query(&parse(&q).expect("q"), ts(1));
    let mut r = header(7, 0x8180, [1, 0, 0, 0]);
    question(&mut r, &wire, 1, 1);
    let p = t
        .on_response(&parse(&r).expect("r"), ts(2))
        .expect("paired");
    assert!(p.qname.is_truncated());
    assert_eq!(p.qname.as_str().len(), PENDING_NAME_CAP);
    assert!(long.starts_with(p.qname.as_str()), "{:?}", p.qname);
    // A response whose name differs after the kept prefix still pairs (id and type match);
    // one that differs inside it does not.
    t.on_query(&parse(&q).expect("q"), ts(3));
    let mut other = wire.clone();
    other[1] = 0xFE;
    let mut r2 = header(7, 0x8180, [1, 0, 0, 0]);
    question(&mut r2, &other, 1, 1);
    assert!(t.on_response(&parse(&r2).expect("r2"), ts(4)).is_none());
    // Cutting keeps whole characters.
    let mut n = PendingName::EMPTY;
    n.set(&"é".repeat(200));
    assert!(n.is_truncated());
    assert_eq!(n.as_str(), "é".repeat(128));
    n.set("www.example");
    assert!(!n.is_truncated());
    assert!(n.matches(b"WWW.Example"));
    assert!(!n.matches(b"www.example.com"));
}

mod prop {
    use super::*;
    use proptest::prelude::*;

    fn exercise(data: &[u8]) {
        let Ok(m) = parse(data) else {
            assert!(data.len() < HEADER_LEN);
            return;
        };
        let mut buf = NameBuf::new();
        let mut s = String::new();
        let mut n = 0usize;
        for q in m.questions() {
            n += 1;
            for style in [NameStyle::Escaped, NameStyle::Tshark, NameStyle::Suricata] {
                buf.set_style(style);
                if q.name.write_to(&mut buf).is_ok() {
                    assert!(std::str::from_utf8(buf.as_bytes()).is_ok());
                }
            }
            let _ = q.name.labels().count();
        }
        for (_, r) in m.records() {
            n += 1;
            let _ = r.name.write_to(&mut buf);
            s.clear();
            format_rdata(&r, &mut s);
            if let RData::Txt(t) | RData::Opt(t) = r.rdata {
                let _ = txt_strings(t).count() + edns_options(t).count();
            }
        }
        assert_eq!(n, m.question_count() + m.record_count());
        let _ = (m.edns(), m.rcode(), m.trailing_bytes());
        let mut t = Tracker::new();
        t.on_query(&m, Timestamp::ZERO);
        let _ = t.on_response(&m, Timestamp::ZERO);
    }

    proptest! {
        #[test]
        fn arbitrary_bytes_never_panic(data in proptest::collection::vec(any::<u8>(), 0..600)) {
            exercise(&data);
        }

        #[test]
        fn mutated_messages_never_panic(
            flips in proptest::collection::vec((any::<usize>(), any::<u8>()), 1..8),
            cut in any::<usize>(),
        ) {
            let mut msg = rich_response();
            for (at, val) in flips {
                let i = at % msg.len();
                msg[i] = val;
            }
            let cut = cut % (msg.len() + 1);
            exercise(&msg[..cut]);
            exercise(&msg);
        }

        #[test]
        fn framing_is_split_invariant(
            sizes in proptest::collection::vec(0usize..300, 0..6),
            cuts in proptest::collection::vec(any::<usize>(), 0..6),
        ) {
            let mut stream = Vec::new();
            let mut want = Vec::new();
            for (i, n) in sizes.iter().enumerate() {
                let m = vec![i as u8; *n];
                stream.extend((*n as u16).to_be_bytes());
                stream.extend(&m);
                want.push(m);
            }
            let mut points: Vec<usize> = cuts.iter().map(|c| c % (stream.len() + 1)).collect();
            points.sort_unstable();
            let mut parts = Vec::new();
            let mut prev = 0;
            for p in points {
                parts.push(&stream[prev..p]);
                prev = p;
            }
            parts.push(&stream[prev..]);
            let mut f = TcpFramer::new();
            prop_assert_eq!(frame_all(&mut f, &parts), want);
            prop_assert_eq!(f.buffered(), 0);
        }
    }
}
