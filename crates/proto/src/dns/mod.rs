//! DNS messages (RFC 1035, AAAA RFC 3596, EDNS(0) RFC 6891, SRV RFC 2782), which is also the
//! wire format of multicast DNS (RFC 6762, UDP 5353) and LLMNR (RFC 4795, UDP 5355).
//!
//! # Method
//!
//! [`parse`] takes one whole message (a UDP payload, or one message of a TCP stream cut out by
//! [`TcpFramer`]) and returns a borrowed [`Message`]. It reads the 12-octet header (the only
//! hard error is a message shorter than that) and then walks every section once, checking
//! the structure: each name's in-place extent, each record's fixed fields and that its RDATA
//! lies within the message. It stops at the first item that does not fit; the items before
//! it stay available, [`Message::truncated`] becomes true and [`Message::error`] says why.
//! Real captures contain snaplen-cut and IP-fragment-cut DNS, so this matters. The walk
//! also finds the first OPT record of the additional section for [`Message::edns`].
//!
//! After that, [`Message::questions`] and [`Message::records`] re-walk the checked items and
//! cannot fail halfway: they yield exactly [`Message::question_count`] and
//! [`Message::record_count`] items. What the walk does not check is decoded lazily, and
//! errors are reported where they are met:
//! - names ([`Name`]): compression pointers are only followed when a name is read, so a
//!   pointer loop, a bad pointer or an over-long name comes back as an error from
//!   [`Name::write_to`] / [`Name::labels`] (Wireshark likewise shows such a name as
//!   `<Name contains a pointer that loops>` and goes on with the message);
//! - RDATA ([`RData`]): decoded per record by type; RDATA that does not fit its type (an A
//!   record of 3 octets, an MX whose name runs past the RDATA, ...) is [`RData::Malformed`]
//!   and does not set `truncated()`.
//!
//! Names are presented in one of three [`NameStyle`]s into a heap-free [`NameBuf`]:
//! RFC 1035 escaping (default), tshark's `dns.qry.name`, or Suricata's EVE form.
//!
//! [`TcpFramer`] splits DNS over TCP (RFC 1035 §4.2.2, RFC 7766) into messages; [`Tracker`]
//! pairs queries with responses per flow to give round-trip times.
//!
//! # Bounds
//!
//! - A message is at most what the caller passes (a UDP payload is under 64 KiB; a TCP
//!   message is at most 65535 octets). Each question takes at least 5 octets and each record
//!   at least 11, so the walk does at most `len / 5` steps whatever the header counts claim.
//! - Names: at most [`MAX_NAME_WIRE_LEN`] (255) octets and [`MAX_POINTER_HOPS`] (255)
//!   pointers. A name is walked for at most [`MAX_NAME_STEPS`] (1024) labels and pointers,
//!   or its share of the message's budget of [`NAME_STEPS_PER_OCTET`] (128) per octet when
//!   that is more, so that reading every name of a message costs at most ~205 steps per
//!   octet. The presentation buffer is [`NAME_BUF_CAP`] (1024 bytes).
//! - [`TcpFramer`] buffers at most one message plus its length prefix (65537 octets).
//! - [`Tracker`] keeps at most [`DEFAULT_TRACKER_CAPACITY`] (16) pending queries per flow by
//!   default; when full the oldest is dropped and counted.
//!
//! # Not handled
//!
//! - Bitstring labels (RFC 2673, label type 0x41, historic) are an error, not `\[x../n]`.
//! - Names inside RDATA are decoded only for CNAME, NS, PTR, DNAME, MB, MD, MF, MG, MR, MX,
//!   SOA and SRV; every other type (NAPTR, RRSIG, HINFO, SVCB/HTTPS, CAA, ...) is kept as raw
//!   octets ([`RData::Other`]). Trailing octets after a name in RDATA are tolerated.
//! - RDATA types are decoded by type number regardless of class.
//! - TSIG/SIG(0) verification, DNSSEC validation, DNS-over-TLS/HTTPS/QUIC (encrypted).
//! - Zone transfers are just a sequence of messages (each one parsed on its own).

use std::fmt;
use std::net::{Ipv4Addr, Ipv6Addr};

mod name;
mod tcp;
mod tracker;
mod unicode;

pub use name::{
    push_suricata_str, Labels, Name, NameBuf, NameStyle, MAX_NAME_STEPS, MAX_NAME_WIRE_LEN,
    MAX_POINTER_HOPS, NAME_BUF_CAP, NAME_STEPS_PER_OCTET,
};
pub use tcp::{TcpFramer, TCP_MAX_BUFFER};
pub use tracker::{PendingName, PendingQuery, Tracker, DEFAULT_TRACKER_CAPACITY, PENDING_NAME_CAP};

use name::skip_name;

/// Length of the fixed DNS header.
pub const HEADER_LEN: usize = 12;

/// Record type numbers used by the decoder.
pub mod rtype {
    pub const A: u16 = 1;
    pub const NS: u16 = 2;
    pub const MD: u16 = 3;
    pub const MF: u16 = 4;
    pub const CNAME: u16 = 5;
    pub const SOA: u16 = 6;
    pub const MB: u16 = 7;
    pub const MG: u16 = 8;
    pub const MR: u16 = 9;
    pub const NULL: u16 = 10;
    pub const PTR: u16 = 12;
    pub const MX: u16 = 15;
    pub const TXT: u16 = 16;
    pub const AAAA: u16 = 28;
    pub const SRV: u16 = 33;
    pub const DNAME: u16 = 39;
    pub const OPT: u16 = 41;
    pub const ANY: u16 = 255;
}

/// Why a message, record or name could not be decoded.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum DnsError {
    /// Fewer than the 12 octets of the header.
    TooShort,
    /// A name, question or record runs past the end of the message.
    Truncated,
    /// A label type other than a plain label (0x00) or a pointer (0xC0): extended 0x40 or
    /// reserved 0x80 (the octet is given).
    BadLabelType(u8),
    /// A compression pointer to an offset outside the message.
    BadPointer,
    /// Compression pointers that loop (or more than [`MAX_POINTER_HOPS`] of them).
    PointerLoop,
    /// A name longer than [`MAX_NAME_WIRE_LEN`] octets.
    NameTooLong,
    /// The presentation did not fit a [`NameBuf`] (cannot happen for names within limits).
    BufferFull,
}

impl fmt::Display for DnsError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            DnsError::TooShort => write!(f, "DNS message shorter than its 12-octet header"),
            DnsError::Truncated => write!(f, "DNS message truncated"),
            DnsError::BadLabelType(b) => write!(f, "unsupported DNS label type 0x{b:02x}"),
            DnsError::BadPointer => write!(f, "DNS compression pointer outside the message"),
            DnsError::PointerLoop => write!(f, "DNS name contains a pointer that loops"),
            DnsError::NameTooLong => write!(f, "DNS name longer than 255 octets"),
            DnsError::BufferFull => write!(f, "DNS name presentation too long"),
        }
    }
}

impl std::error::Error for DnsError {}

fn be16(b: &[u8], at: usize) -> Option<u16> {
    let s = b.get(at..at + 2)?;
    Some(u16::from_be_bytes([*s.first()?, *s.get(1)?]))
}

fn be32(b: &[u8], at: usize) -> Option<u32> {
    let s = b.get(at..at + 4)?;
    let mut a = [0u8; 4];
    a.copy_from_slice(s);
    Some(u32::from_be_bytes(a))
}

/// The fixed 12-octet header (RFC 1035 §4.1.1, AD/CD bits RFC 4035 §3.2).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Header {
    pub id: u16,
    pub flags: u16,
    pub qdcount: u16,
    pub ancount: u16,
    pub nscount: u16,
    pub arcount: u16,
}

impl Header {
    /// Reads a header from the first 12 octets of `b`.
    pub fn from_bytes(b: &[u8]) -> Result<Header, DnsError> {
        let f = |i| be16(b, i).ok_or(DnsError::TooShort);
        Ok(Header {
            id: f(0)?,
            flags: f(2)?,
            qdcount: f(4)?,
            ancount: f(6)?,
            nscount: f(8)?,
            arcount: f(10)?,
        })
    }

    /// Response (true) or query.
    pub fn qr(&self) -> bool {
        self.flags & 0x8000 != 0
    }
    /// OPCODE (0 query, 1 inverse query, 2 status, 4 notify, 5 update, 6 DSO).
    pub fn opcode(&self) -> u8 {
        (self.flags >> 11 & 0xF) as u8
    }
    /// Authoritative answer (in LLMNR: the conflict bit C).
    pub fn aa(&self) -> bool {
        self.flags & 0x0400 != 0
    }
    /// Truncation (TC).
    pub fn tc(&self) -> bool {
        self.flags & 0x0200 != 0
    }
    /// Recursion desired (in LLMNR: the tentative bit T).
    pub fn rd(&self) -> bool {
        self.flags & 0x0100 != 0
    }
    /// Recursion available.
    pub fn ra(&self) -> bool {
        self.flags & 0x0080 != 0
    }
    /// The reserved Z bit (must be zero).
    pub fn z(&self) -> bool {
        self.flags & 0x0040 != 0
    }
    /// Authentic data (DNSSEC).
    pub fn ad(&self) -> bool {
        self.flags & 0x0020 != 0
    }
    /// Checking disabled (DNSSEC).
    pub fn cd(&self) -> bool {
        self.flags & 0x0010 != 0
    }
    /// The 4-bit RCODE of the header (see [`Message::rcode`] for the EDNS-extended one).
    pub fn rcode(&self) -> u8 {
        (self.flags & 0xF) as u8
    }
}

/// The section a resource record came from.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Section {
    Answer,
    Authority,
    Additional,
}

/// One entry of the question section.
#[derive(Clone, Copy, Debug)]
pub struct Question<'a> {
    pub name: Name<'a>,
    pub qtype: u16,
    /// QCLASS as on the wire; in mDNS its top bit is the unicast-response bit.
    pub qclass: u16,
}

impl Question<'_> {
    /// mDNS "QU" bit (RFC 6762 §5.4): the top bit of QCLASS.
    pub fn unicast_response(&self) -> bool {
        self.qclass & 0x8000 != 0
    }

    /// QCLASS without the mDNS unicast-response bit (use only for mDNS traffic; in unicast
    /// DNS the raw `qclass` is the class).
    pub fn mdns_class(&self) -> u16 {
        self.qclass & 0x7FFF
    }
}

/// One resource record.
#[derive(Clone, Copy, Debug)]
pub struct Record<'a> {
    pub name: Name<'a>,
    pub rtype: u16,
    /// CLASS as on the wire (for OPT: the UDP payload size; in mDNS the top bit is the
    /// cache-flush bit).
    pub class: u16,
    /// TTL as on the wire (for OPT: extended RCODE, version and flags).
    pub ttl: u32,
    pub rdata: RData<'a>,
    /// The raw RDATA octets, whatever `rdata` decoded them to.
    pub rdata_bytes: &'a [u8],
}

impl Record<'_> {
    /// mDNS cache-flush bit (RFC 6762 §10.2): the top bit of CLASS.
    pub fn cache_flush(&self) -> bool {
        self.class & 0x8000 != 0
    }
}

/// Decoded RDATA.
#[derive(Clone, Copy, Debug)]
pub enum RData<'a> {
    A(Ipv4Addr),
    Aaaa(Ipv6Addr),
    /// A single domain name: CNAME, NS, PTR, DNAME, MB, MD, MF, MG, MR.
    Name(Name<'a>),
    Mx {
        preference: u16,
        exchange: Name<'a>,
    },
    Soa {
        mname: Name<'a>,
        rname: Name<'a>,
        serial: u32,
        refresh: u32,
        retry: u32,
        expire: u32,
        minimum: u32,
    },
    Srv {
        priority: u16,
        weight: u16,
        port: u16,
        target: Name<'a>,
    },
    /// TXT: the whole RDATA, a sequence of `<character-string>`s (length octet + octets);
    /// checked to be well formed. Iterate with [`txt_strings`].
    Txt(&'a [u8]),
    /// OPT pseudo-record RDATA (EDNS options); see [`Message::edns`] and [`edns_options`].
    Opt(&'a [u8]),
    /// Any other type, raw (the type number is [`Record::rtype`]).
    Other(&'a [u8]),
    /// RDATA that does not fit its type (wrong length, name past the RDATA, bad TXT string).
    Malformed(&'a [u8]),
}

/// The `<character-string>`s of TXT RDATA (RFC 1035 §3.3.14), each without its length octet.
/// Stops at the first string that would run past the data.
pub fn txt_strings(data: &[u8]) -> impl Iterator<Item = &[u8]> + '_ {
    let mut pos = 0usize;
    std::iter::from_fn(move || {
        let len = usize::from(*data.get(pos)?);
        let s = data.get(pos + 1..pos + 1 + len)?;
        pos += 1 + len;
        Some(s)
    })
}

/// The options of OPT RDATA (RFC 6891 §6.1.2) as `(code, data)`. Stops at the first option
/// that would run past the data.
pub fn edns_options(data: &[u8]) -> impl Iterator<Item = (u16, &[u8])> + '_ {
    let mut pos = 0usize;
    std::iter::from_fn(move || {
        let code = be16(data, pos)?;
        let len = usize::from(be16(data, pos + 2)?);
        let d = data.get(pos + 4..pos + 4 + len)?;
        pos += 4 + len;
        Some((code, d))
    })
}

/// EDNS(0) information from the OPT pseudo-record (RFC 6891 §6.1.3).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Edns {
    /// Requestor's UDP payload size (the OPT record's CLASS).
    pub udp_payload_size: u16,
    /// Upper 8 bits of the 12-bit extended RCODE.
    pub extended_rcode: u8,
    pub version: u8,
    /// DNSSEC OK (RFC 3225).
    pub do_bit: bool,
    /// The 16 flag bits (DO is the top one).
    pub flags: u16,
    /// Number of well-formed options.
    pub option_count: u16,
    /// The options do not exactly fill the RDATA.
    pub options_malformed: bool,
    /// OPT records in the additional section; more than one makes the message a FORMERR
    /// (RFC 6891 §6.1.1). Only the first is described here.
    pub opt_records: u16,
}

#[derive(Clone, Copy, Debug)]
struct OptInfo {
    class: u16,
    ttl: u32,
    rdata_start: usize,
    rdata_len: usize,
}

/// A parsed DNS message (borrowed); see the module documentation.
#[derive(Clone, Copy, Debug)]
pub struct Message<'a> {
    buf: &'a [u8],
    header: Header,
    questions: u16,
    answers: u16,
    authorities: u16,
    additionals: u16,
    rr_start: usize,
    end: usize,
    error: Option<DnsError>,
    opt: Option<OptInfo>,
    opt_records: u16,
    /// Labels and pointers each name may walk: its share of the message's budget.
    name_steps: usize,
}

/// Parses one DNS message; see the module documentation for what is checked here and what
/// lazily. The only error is [`DnsError::TooShort`]: anything after the header that does not
/// fit is reported by [`Message::truncated`] / [`Message::error`].
pub fn parse(msg: &[u8]) -> Result<Message<'_>, DnsError> {
    let header = Header::from_bytes(msg)?;
    let mut m = Message {
        buf: msg,
        header,
        questions: 0,
        answers: 0,
        authorities: 0,
        additionals: 0,
        rr_start: HEADER_LEN,
        end: HEADER_LEN,
        error: None,
        opt: None,
        opt_records: 0,
        name_steps: MAX_NAME_STEPS,
    };
    if let Err(e) = m.walk() {
        m.error = Some(e);
    }
    // Each name's share of the message's budget (see NAME_STEPS_PER_OCTET): a question holds
    // one name, a record up to three (its owner, and two in an SOA's RDATA).
    let names = m.question_count() + 3 * m.record_count();
    m.name_steps = (NAME_STEPS_PER_OCTET * msg.len() / names.max(1)).max(MAX_NAME_STEPS);
    Ok(m)
}

/// Extent of one record within the message.
struct RawRecord {
    name: usize,
    rtype: u16,
    class: u16,
    ttl: u32,
    rdata_start: usize,
    rdata_len: usize,
}

fn read_record(b: &[u8], pos: usize) -> Result<RawRecord, DnsError> {
    let fixed = skip_name(b, pos)?;
    let t = DnsError::Truncated;
    let rtype = be16(b, fixed).ok_or(t)?;
    let class = be16(b, fixed + 2).ok_or(t)?;
    let ttl = be32(b, fixed + 4).ok_or(t)?;
    let rdata_len = usize::from(be16(b, fixed + 8).ok_or(t)?);
    let rdata_start = fixed + 10;
    if rdata_start + rdata_len > b.len() {
        return Err(t);
    }
    Ok(RawRecord {
        name: pos,
        rtype,
        class,
        ttl,
        rdata_start,
        rdata_len,
    })
}

fn read_question(
    b: &[u8],
    pos: usize,
    name_steps: usize,
) -> Result<(Question<'_>, usize), DnsError> {
    let end = skip_name(b, pos)?;
    let t = DnsError::Truncated;
    let q = Question {
        name: Name::with_max_steps(b, pos, name_steps),
        qtype: be16(b, end).ok_or(t)?,
        qclass: be16(b, end + 2).ok_or(t)?,
    };
    Ok((q, end + 4))
}

impl<'a> Message<'a> {
    /// The whole message as parsed; [`parse`] of it gives this message again.
    pub fn raw(&self) -> &'a [u8] {
        self.buf
    }

    fn walk(&mut self) -> Result<(), DnsError> {
        let b = self.buf;
        let mut pos = HEADER_LEN;
        for _ in 0..self.header.qdcount {
            pos = read_question(b, pos, MAX_NAME_STEPS)?.1;
            self.questions += 1;
            self.rr_start = pos;
            self.end = pos;
        }
        let counts = [
            self.header.ancount,
            self.header.nscount,
            self.header.arcount,
        ];
        for (sec, &count) in counts.iter().enumerate() {
            for _ in 0..count {
                let rr = read_record(b, pos)?;
                pos = rr.rdata_start + rr.rdata_len;
                self.end = pos;
                match sec {
                    0 => self.answers += 1,
                    1 => self.authorities += 1,
                    _ => {
                        self.additionals += 1;
                        if rr.rtype == rtype::OPT {
                            self.opt_records += 1;
                            if self.opt.is_none() {
                                self.opt = Some(OptInfo {
                                    class: rr.class,
                                    ttl: rr.ttl,
                                    rdata_start: rr.rdata_start,
                                    rdata_len: rr.rdata_len,
                                });
                            }
                        }
                    }
                }
            }
        }
        Ok(())
    }

    /// The whole message as passed to [`parse`].
    pub fn bytes(&self) -> &'a [u8] {
        self.buf
    }

    pub fn header(&self) -> &Header {
        &self.header
    }

    /// The questions that fit in the message (at most `qdcount`).
    pub fn questions(&self) -> impl Iterator<Item = Question<'a>> + '_ {
        let (b, steps) = (self.buf, self.name_steps);
        let mut pos = HEADER_LEN;
        (0..self.questions).map_while(move |_| {
            let (q, next) = read_question(b, pos, steps).ok()?;
            pos = next;
            Some(q)
        })
    }

    /// The first question, if one fits.
    pub fn first_question(&self) -> Option<Question<'a>> {
        self.questions().next()
    }

    /// Records of the answer, authority and additional sections in order, with their
    /// section; only those that fit in the message.
    pub fn records(&self) -> impl Iterator<Item = (Section, Record<'a>)> + '_ {
        let (b, steps) = (self.buf, self.name_steps);
        let mut pos = self.rr_start;
        let (an, ns) = (self.answers, self.authorities);
        let total = u32::from(an) + u32::from(ns) + u32::from(self.additionals);
        (0..total).map_while(move |i| {
            let rr = read_record(b, pos).ok()?;
            pos = rr.rdata_start + rr.rdata_len;
            let section = if i < u32::from(an) {
                Section::Answer
            } else if i < u32::from(an) + u32::from(ns) {
                Section::Authority
            } else {
                Section::Additional
            };
            Some((section, make_record(b, &rr, steps)))
        })
    }

    /// Number of questions that fit (≤ `qdcount`).
    pub fn question_count(&self) -> usize {
        usize::from(self.questions)
    }

    /// Number of records that fit, all sections together.
    pub fn record_count(&self) -> usize {
        usize::from(self.answers) + usize::from(self.authorities) + usize::from(self.additionals)
    }

    /// Records that fit per section: (answer, authority, additional).
    pub fn section_counts(&self) -> (u16, u16, u16) {
        (self.answers, self.authorities, self.additionals)
    }

    /// EDNS(0) from the first OPT record of the additional section.
    pub fn edns(&self) -> Option<Edns> {
        let o = self.opt?;
        let data = self
            .buf
            .get(o.rdata_start..o.rdata_start + o.rdata_len)
            .unwrap_or(&[]);
        let mut count = 0u16;
        let mut used = 0usize;
        for (_, d) in edns_options(data) {
            count = count.saturating_add(1);
            used += 4 + d.len();
        }
        let flags = (o.ttl & 0xFFFF) as u16;
        Some(Edns {
            udp_payload_size: o.class,
            extended_rcode: (o.ttl >> 24) as u8,
            version: (o.ttl >> 16) as u8,
            do_bit: flags & 0x8000 != 0,
            flags,
            option_count: count,
            options_malformed: used != data.len(),
            opt_records: self.opt_records,
        })
    }

    /// The full RCODE: the header's 4 bits, extended by the OPT record's upper 8 bits when
    /// EDNS is present (RFC 6891 §6.1.3).
    pub fn rcode(&self) -> u16 {
        let low = u16::from(self.header.rcode());
        match self.edns() {
            Some(e) => u16::from(e.extended_rcode) << 4 | low,
            None => low,
        }
    }

    /// True when the sections ended before the header counts were reached (cut by the
    /// snaplen or by IP fragmentation, or malformed).
    pub fn truncated(&self) -> bool {
        self.error.is_some()
    }

    /// Why the walk stopped early, if it did.
    pub fn error(&self) -> Option<DnsError> {
        self.error
    }

    /// Octets after the last record (0 when the message was truncated).
    pub fn trailing_bytes(&self) -> usize {
        if self.error.is_some() {
            0
        } else {
            self.buf.len().saturating_sub(self.end)
        }
    }
}

fn make_record<'a>(b: &'a [u8], rr: &RawRecord, steps: usize) -> Record<'a> {
    let start = rr.rdata_start;
    let end = start + rr.rdata_len;
    let data = b.get(start..end).unwrap_or(&[]);
    Record {
        name: Name::with_max_steps(b, rr.name, steps),
        rtype: rr.rtype,
        class: rr.class,
        ttl: rr.ttl,
        rdata: decode_rdata(b, start, end, rr.rtype, steps).unwrap_or(RData::Malformed(data)),
        rdata_bytes: data,
    }
}

/// A name starting at `pos` whose in-place part must end within `limit`, walked for at most
/// `steps` labels and pointers; returns it and the offset after it.
fn name_within(b: &[u8], pos: usize, limit: usize, steps: usize) -> Option<(Name<'_>, usize)> {
    let end = skip_name(b.get(..limit)?, pos).ok()?;
    Some((Name::with_max_steps(b, pos, steps), end))
}

fn decode_rdata(b: &[u8], start: usize, end: usize, rtype: u16, steps: usize) -> Option<RData<'_>> {
    let data = b.get(start..end)?;
    let len = end - start;
    Some(match rtype {
        rtype::A => {
            let a: [u8; 4] = data.try_into().ok()?;
            RData::A(Ipv4Addr::from(a))
        }
        rtype::AAAA => {
            let a: [u8; 16] = data.try_into().ok()?;
            RData::Aaaa(Ipv6Addr::from(a))
        }
        rtype::CNAME
        | rtype::NS
        | rtype::PTR
        | rtype::DNAME
        | rtype::MB
        | rtype::MD
        | rtype::MF
        | rtype::MG
        | rtype::MR => RData::Name(name_within(b, start, end, steps)?.0),
        rtype::MX => RData::Mx {
            preference: be16(data, 0)?,
            exchange: name_within(b, start + 2, end, steps)?.0,
        },
        rtype::SOA => {
            let (mname, p) = name_within(b, start, end, steps)?;
            let (rname, p) = name_within(b, p, end, steps)?;
            let nums = b.get(p..end)?;
            RData::Soa {
                mname,
                rname,
                serial: be32(nums, 0)?,
                refresh: be32(nums, 4)?,
                retry: be32(nums, 8)?,
                expire: be32(nums, 12)?,
                minimum: be32(nums, 16)?,
            }
        }
        rtype::SRV => RData::Srv {
            priority: be16(data, 0)?,
            weight: be16(data, 2)?,
            port: be16(data, 4)?,
            target: name_within(b, start + 6, end, steps)?.0,
        },
        rtype::TXT => {
            let used: usize = txt_strings(data).map(|s| 1 + s.len()).sum();
            if used != len {
                return None;
            }
            RData::Txt(data)
        }
        rtype::OPT => RData::Opt(data),
        _ => RData::Other(data),
    })
}

/// Whether Suricata's EVE DNS log writes an `rdata` string for records of this type (A,
/// AAAA, CNAME, NS, PTR, MX, TXT, NULL); for SOA, SRV, SSHFP and OPT it writes an object
/// instead, and for other types nothing.
pub fn has_rdata_text(rtype: u16) -> bool {
    matches!(
        rtype,
        rtype::A
            | rtype::AAAA
            | rtype::CNAME
            | rtype::NS
            | rtype::PTR
            | rtype::MX
            | rtype::TXT
            | rtype::NULL
    )
}

/// Appends the record's RDATA as Suricata's EVE log presents it in `rdata`:
/// - A: dotted quad; AAAA: eight groups of four lowercase hex digits, not compressed
///   (`2001:0db8:0000:...`), as Suricata's `dns_print_addr` does; an A/AAAA record of the
///   wrong length gives the empty string, as in Suricata;
/// - CNAME, NS, PTR: the name in [`NameStyle::Suricata`]; MX: the exchange name only (the
///   preference is not shown);
/// - TXT: the character-strings, each converted like Suricata's byte strings, separated by
///   one space (Suricata itself emits one answer entry per string: iterate [`txt_strings`]
///   to do that);
/// - NULL: the raw octets, converted like Suricata's byte strings.
///
/// For every other type (including SOA and SRV, which Suricata logs as `soa`/`srv` objects
/// built from the [`RData`] fields, and DNAME/MB/MD/MF/MG/MR, which it does not decode)
/// nothing is written; see [`has_rdata_text`]. A name that cannot be decoded writes nothing.
pub fn format_rdata(r: &Record<'_>, out: &mut String) {
    if !has_rdata_text(r.rtype) {
        return;
    }
    match &r.rdata {
        RData::A(a) => {
            use fmt::Write;
            let _ = write!(out, "{a}");
        }
        RData::Aaaa(a) => {
            use fmt::Write;
            for (i, pair) in a.octets().chunks(2).enumerate() {
                if i > 0 {
                    out.push(':');
                }
                for &o in pair {
                    let _ = write!(out, "{o:02x}");
                }
            }
        }
        RData::Name(n) | RData::Mx { exchange: n, .. } => {
            let _ = n.push_to_string(NameStyle::Suricata, out);
        }
        RData::Txt(data) => {
            for (i, s) in txt_strings(data).enumerate() {
                if i > 0 {
                    out.push(' ');
                }
                push_suricata_str(s, out);
            }
        }
        RData::Other(data) if r.rtype == rtype::NULL => push_suricata_str(data, out),
        _ => {}
    }
}

/// The IANA mnemonic of a record type ("A", "NS", ..., "ANY" for 255, "NSAP-PTR" for 23),
/// which is also how Suricata names types; `None` for unassigned numbers. Zeek differs only
/// in 255, which it calls "*": see [`zeek_qtype_name`].
pub fn rtype_name(t: u16) -> Option<&'static str> {
    Some(match t {
        1 => "A",
        2 => "NS",
        3 => "MD",
        4 => "MF",
        5 => "CNAME",
        6 => "SOA",
        7 => "MB",
        8 => "MG",
        9 => "MR",
        10 => "NULL",
        11 => "WKS",
        12 => "PTR",
        13 => "HINFO",
        14 => "MINFO",
        15 => "MX",
        16 => "TXT",
        17 => "RP",
        18 => "AFSDB",
        19 => "X25",
        20 => "ISDN",
        21 => "RT",
        22 => "NSAP",
        23 => "NSAP-PTR",
        24 => "SIG",
        25 => "KEY",
        26 => "PX",
        27 => "GPOS",
        28 => "AAAA",
        29 => "LOC",
        30 => "NXT",
        31 => "EID",
        32 => "NIMLOC",
        33 => "SRV",
        34 => "ATMA",
        35 => "NAPTR",
        36 => "KX",
        37 => "CERT",
        38 => "A6",
        39 => "DNAME",
        40 => "SINK",
        41 => "OPT",
        42 => "APL",
        43 => "DS",
        44 => "SSHFP",
        45 => "IPSECKEY",
        46 => "RRSIG",
        47 => "NSEC",
        48 => "DNSKEY",
        49 => "DHCID",
        50 => "NSEC3",
        51 => "NSEC3PARAM",
        52 => "TLSA",
        53 => "SMIMEA",
        55 => "HIP",
        56 => "NINFO",
        57 => "RKEY",
        58 => "TALINK",
        59 => "CDS",
        60 => "CDNSKEY",
        61 => "OPENPGPKEY",
        62 => "CSYNC",
        63 => "ZONEMD",
        64 => "SVCB",
        65 => "HTTPS",
        99 => "SPF",
        100 => "UINFO",
        101 => "UID",
        102 => "GID",
        103 => "UNSPEC",
        104 => "NID",
        105 => "L32",
        106 => "L64",
        107 => "LP",
        108 => "EUI48",
        109 => "EUI64",
        249 => "TKEY",
        250 => "TSIG",
        251 => "IXFR",
        252 => "AXFR",
        253 => "MAILB",
        254 => "MAILA",
        255 => "ANY",
        256 => "URI",
        257 => "CAA",
        258 => "AVC",
        259 => "DOA",
        260 => "AMTRELAY",
        261 => "RESINFO",
        32768 => "TA",
        32769 => "DLV",
        _ => return None,
    })
}

/// Zeek's `DNS::query_types` spelling (base/protocols/dns/consts.zeek): as [`rtype_name`]
/// but "*" for 255, Microsoft's WINS/WINS-R, XPF and Google's INTEGRITY added, and types
/// 258..=261 unknown. Zeek prints unknown ones as `query-N`.
pub fn zeek_qtype_name(t: u16) -> Option<&'static str> {
    match t {
        255 => Some("*"),
        258..=261 => None,
        65281 => Some("WINS"),
        65282 => Some("WINS-R"),
        65422 => Some("XPF"),
        65521 => Some("INTEGRITY"),
        _ => rtype_name(t),
    }
}

/// Name of a (possibly EDNS-extended) RCODE (RFC 6895 §2.3 registry); "unknown" for
/// unassigned values. 16 is BADVERS (EDNS; TSIG's BADSIG shares the number).
pub fn rcode_name(rc: u16) -> &'static str {
    match rc {
        0 => "NOERROR",
        1 => "FORMERR",
        2 => "SERVFAIL",
        3 => "NXDOMAIN",
        4 => "NOTIMP",
        5 => "REFUSED",
        6 => "YXDOMAIN",
        7 => "YXRRSET",
        8 => "NXRRSET",
        9 => "NOTAUTH",
        10 => "NOTZONE",
        11 => "DSOTYPENI",
        16 => "BADVERS",
        17 => "BADKEY",
        18 => "BADTIME",
        19 => "BADMODE",
        20 => "BADNAME",
        21 => "BADALG",
        22 => "BADTRUNC",
        23 => "BADCOOKIE",
        _ => "unknown",
    }
}

/// Zeek's `DNS::base_errors` spelling (it writes 8 as "NXRRSet", 11..=15 as
/// "unassigned-N", knows BADSIG as 3842 and prints others as `rcode-N`).
pub fn zeek_rcode_name(rc: u16) -> Option<&'static str> {
    Some(match rc {
        8 => "NXRRSet",
        11 => "unassigned-11",
        12 => "unassigned-12",
        13 => "unassigned-13",
        14 => "unassigned-14",
        15 => "unassigned-15",
        3842 => "BADSIG",
        0..=10 | 16..=23 => rcode_name(rc),
        _ => return None,
    })
}

/// Zeek's `DNS::classes` spelling of a (Q)CLASS: C_INTERNET, C_CSNET, C_CHAOS, C_HESIOD,
/// C_NONE, C_ANY; `None` for others (Zeek prints `qclass-N`).
pub fn class_name(c: u16) -> Option<&'static str> {
    Some(match c {
        1 => "C_INTERNET",
        2 => "C_CSNET",
        3 => "C_CHAOS",
        4 => "C_HESIOD",
        254 => "C_NONE",
        255 => "C_ANY",
        _ => return None,
    })
}

#[cfg(test)]
mod tests;
