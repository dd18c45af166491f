//! DHCPv4 (RFC 2131, options RFC 2132, client FQDN RFC 4702) over BOOTP (RFC 951), and Zeek
//! `dhcp.log`-style aggregation of the messages of one exchange.
//!
//! # Method
//!
//! [`parse`] reads the 236-octet BOOTP fixed part of a UDP payload into a borrowed
//! [`Message`]; the only error is a payload shorter than that. If the magic cookie
//! 99.130.83.99 follows, the options after it are available through [`Message::options`]
//! and the typed getters (which return the first instance of an option). Option overload
//! (option 52, RFC 2132 §9.3) is honoured: the `file` and/or `sname` fields are then read as
//! further option areas, in the order RFC 2131 §4.1 prescribes (options, file, sname).
//! Without the cookie the message is plain BOOTP and has no options.
//!
//! [`TxTable`] aggregates messages by transaction id (`xid`) into [`Transaction`] records
//! with the fields and rules of Zeek's `base/protocols/dhcp/main.zeek` (which side a value is
//! taken from, `client_addr` falling back to the assigned address, `mac` from the client
//! identifier or else `chaddr`). Zeek itself writes a record only when no message was seen
//! for 5 s or the exchange is older than `DHCP::max_txid_watch_time` (30 s), or when 50
//! message types accumulated; by default a `TxTable` also emits as soon as the exchange is
//! complete (ACK or NAK from the server, DECLINE or RELEASE from the client, or a
//! lease-query answer), which gives the same records for ordinary exchanges without waiting.
//! [`TxConfig::emit_on_completion`] = false gives Zeek's timing exactly.
//!
//! # Bounds
//!
//! - Options: each walk over an option area advances at least one octet per step and stops
//!   at the End option or at the first option that would run past its area
//!   ([`Message::options_malformed`]).
//! - [`TxTable`]: at most [`DEFAULT_TX_CAPACITY`] (4096) open transactions by default; when
//!   full, the one with the oldest first message is dropped (counted in
//!   [`TxTable::dropped`]). Each transaction keeps at most [`MAX_MSG_TYPES`] (16) message
//!   types (an exchange reaching that many is emitted) and strings of at most 255 octets
//!   (one option). Slots and their buffers are reused, so a warmed-up table allocates
//!   nothing.
//! - Timeouts ([`TxConfig`]): 5 s without a message or 30 s after the first message, as in
//!   Zeek; applied by [`TxTable::expire`].
//!
//! # Not handled
//!
//! - DHCPv6 (a different protocol on UDP 546/547).
//! - Long options split over several instances of the same code (RFC 3396): getters return
//!   the first instance only; [`Message::options`] yields every instance.
//! - Relay agent sub-options, vendor-specific sub-options and classless routes are available
//!   raw through [`Message::option`] only.
//! - Transactions are keyed by `xid` alone, as in Zeek: two clients that pick the same `xid`
//!   within the timeout share one record.

use std::collections::HashMap;
use std::fmt;
use std::net::Ipv4Addr;

use wirescope_core::Timestamp;

/// Length of the BOOTP fixed part (op .. file).
pub const FIXED_LEN: usize = 236;

/// The DHCP magic cookie (RFC 2131 §3).
pub const MAGIC_COOKIE: [u8; 4] = [99, 130, 83, 99];

/// Option codes used by the getters (RFC 2132 unless noted).
pub mod opt {
    pub const PAD: u8 = 0;
    pub const SUBNET_MASK: u8 = 1;
    pub const ROUTER: u8 = 3;
    pub const DNS_SERVER: u8 = 6;
    pub const HOSTNAME: u8 = 12;
    pub const DOMAIN_NAME: u8 = 15;
    pub const REQUESTED_IP: u8 = 50;
    pub const LEASE_TIME: u8 = 51;
    pub const OVERLOAD: u8 = 52;
    pub const MSG_TYPE: u8 = 53;
    pub const SERVER_ID: u8 = 54;
    pub const PARAM_REQUEST_LIST: u8 = 55;
    pub const MESSAGE: u8 = 56;
    pub const VENDOR_CLASS: u8 = 60;
    pub const CLIENT_ID: u8 = 61;
    /// RFC 4702.
    pub const CLIENT_FQDN: u8 = 81;
    pub const END: u8 = 255;
}

/// DHCP message types (option 53).
pub mod msg {
    pub const DISCOVER: u8 = 1;
    pub const OFFER: u8 = 2;
    pub const REQUEST: u8 = 3;
    pub const DECLINE: u8 = 4;
    pub const ACK: u8 = 5;
    pub const NAK: u8 = 6;
    pub const RELEASE: u8 = 7;
    pub const INFORM: u8 = 8;
    pub const LEASEQUERY: u8 = 10;
    pub const LEASEUNASSIGNED: u8 = 11;
    pub const LEASEUNKNOWN: u8 = 12;
    pub const LEASEACTIVE: u8 = 13;
    pub const LEASEQUERYDONE: u8 = 15;
}

/// Why a payload is not a BOOTP/DHCP message.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum DhcpError {
    /// Shorter than the 236-octet fixed part (the length is given).
    TooShort(usize),
}

impl fmt::Display for DhcpError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            DhcpError::TooShort(n) => {
                write!(
                    f,
                    "DHCP message of {n} octets, shorter than the 236-octet BOOTP header"
                )
            }
        }
    }
}

impl std::error::Error for DhcpError {}

fn ip_at(b: &[u8], at: usize) -> Ipv4Addr {
    let mut a = [0u8; 4];
    if let Some(s) = b.get(at..at + 4) {
        a.copy_from_slice(s);
    }
    Ipv4Addr::from(a)
}

fn ip4(v: &[u8]) -> Option<Ipv4Addr> {
    let a: [u8; 4] = v.try_into().ok()?;
    Some(Ipv4Addr::from(a))
}

/// A parsed BOOTP/DHCP message (borrowed); see the module documentation.
#[derive(Clone, Copy, Debug)]
pub struct Message<'a> {
    /// 1 = BOOTREQUEST (client), 2 = BOOTREPLY (server).
    pub op: u8,
    /// Hardware type (1 = Ethernet).
    pub htype: u8,
    pub hlen: u8,
    pub hops: u8,
    pub xid: u32,
    pub secs: u16,
    /// Top bit: broadcast.
    pub flags: u16,
    pub ciaddr: Ipv4Addr,
    pub yiaddr: Ipv4Addr,
    pub siaddr: Ipv4Addr,
    pub giaddr: Ipv4Addr,
    pub chaddr: [u8; 16],
    sname: &'a [u8],
    file: &'a [u8],
    /// Options after the cookie (empty without it).
    options: &'a [u8],
    has_cookie: bool,
    overload: u8,
    /// The UDP payload it was parsed from.
    raw: &'a [u8],
}

/// Parses a BOOTP/DHCP message from a UDP payload.
pub fn parse(udp_payload: &[u8]) -> Result<Message<'_>, DhcpError> {
    let b = udp_payload;
    let fixed = b.get(..FIXED_LEN).ok_or(DhcpError::TooShort(b.len()))?;
    let byte = |i: usize| fixed.get(i).copied().unwrap_or(0);
    let mut chaddr = [0u8; 16];
    chaddr.copy_from_slice(fixed.get(28..44).unwrap_or(&[0; 16]));
    let has_cookie = b.get(FIXED_LEN..FIXED_LEN + 4) == Some(&MAGIC_COOKIE[..]);
    let options = if has_cookie {
        b.get(FIXED_LEN + 4..).unwrap_or(&[])
    } else {
        &[]
    };
    let mut m = Message {
        op: byte(0),
        htype: byte(1),
        hlen: byte(2),
        hops: byte(3),
        xid: u32::from_be_bytes([byte(4), byte(5), byte(6), byte(7)]),
        secs: u16::from_be_bytes([byte(8), byte(9)]),
        flags: u16::from_be_bytes([byte(10), byte(11)]),
        ciaddr: ip_at(fixed, 12),
        yiaddr: ip_at(fixed, 16),
        siaddr: ip_at(fixed, 20),
        giaddr: ip_at(fixed, 24),
        chaddr,
        sname: fixed.get(44..108).unwrap_or(&[]),
        file: fixed.get(108..236).unwrap_or(&[]),
        options,
        has_cookie,
        overload: 0,
        raw: b,
    };
    if let Some(v) = AreaIter::new(options).find(|o| o.0 == opt::OVERLOAD) {
        if let [x @ 1..=3] = v.1 {
            m.overload = *x;
        }
    }
    Ok(m)
}

/// Walks one option area: `(code, value)` for every option but Pad, up to End or to the
/// first option that does not fit.
#[derive(Clone, Debug)]
struct AreaIter<'a> {
    data: &'a [u8],
    pos: usize,
    done: bool,
    /// Set when an option's length ran past the area.
    malformed: bool,
}

impl<'a> AreaIter<'a> {
    fn new(data: &'a [u8]) -> Self {
        AreaIter {
            data,
            pos: 0,
            done: false,
            malformed: false,
        }
    }
}

impl<'a> Iterator for AreaIter<'a> {
    type Item = (u8, &'a [u8]);

    fn next(&mut self) -> Option<Self::Item> {
        while !self.done {
            let Some(&code) = self.data.get(self.pos) else {
                self.done = true;
                break;
            };
            match code {
                opt::PAD => self.pos += 1,
                opt::END => self.done = true,
                _ => {
                    let value = self.data.get(self.pos + 1).and_then(|&len| {
                        self.data.get(self.pos + 2..self.pos + 2 + usize::from(len))
                    });
                    match value {
                        Some(v) => {
                            self.pos += 2 + v.len();
                            return Some((code, v));
                        }
                        None => {
                            self.done = true;
                            self.malformed = true;
                        }
                    }
                }
            }
        }
        None
    }
}

impl<'a> Message<'a> {
    /// The UDP payload it was parsed from; [`parse`] of it gives this message again.
    pub fn raw(&self) -> &'a [u8] {
        self.raw
    }

    /// Whether the magic cookie is present (DHCP rather than plain BOOTP).
    pub fn has_magic_cookie(&self) -> bool {
        self.has_cookie
    }

    /// The client hardware address when it is an Ethernet MAC (htype 1, hlen 6).
    pub fn mac(&self) -> Option<[u8; 6]> {
        if self.htype != 1 || self.hlen != 6 {
            return None;
        }
        let mut m = [0u8; 6];
        m.copy_from_slice(self.chaddr.get(..6)?);
        Some(m)
    }

    /// Option overload (option 52): 0 none, 1 `file` holds options, 2 `sname`, 3 both.
    pub fn overload(&self) -> u8 {
        self.overload
    }

    /// Server host name (up to the first NUL); `None` when the field carries options.
    pub fn sname(&self) -> Option<&'a [u8]> {
        (self.overload & 2 == 0).then(|| until_nul(self.sname))
    }

    /// Boot file name (up to the first NUL); `None` when the field carries options.
    pub fn file(&self) -> Option<&'a [u8]> {
        (self.overload & 1 == 0).then(|| until_nul(self.file))
    }

    fn areas(&self) -> [AreaIter<'a>; 3] {
        let pick = |on: bool, d: &'a [u8]| AreaIter::new(if on { d } else { &[] });
        [
            AreaIter::new(self.options),
            pick(self.overload & 1 != 0, self.file),
            pick(self.overload & 2 != 0, self.sname),
        ]
    }

    /// Every option except Pad and End as `(code, value)`, in wire order: the options field,
    /// then `file` and `sname` when overloaded.
    pub fn options(&self) -> impl Iterator<Item = (u8, &'a [u8])> {
        let [a, b, c] = self.areas();
        a.chain(b).chain(c)
    }

    /// An option area had an option whose length runs past it.
    pub fn options_malformed(&self) -> bool {
        self.areas().into_iter().any(|mut it| {
            it.by_ref().for_each(drop);
            it.malformed
        })
    }

    /// The value of the first option with this code.
    pub fn option(&self, code: u8) -> Option<&'a [u8]> {
        self.options().find(|o| o.0 == code).map(|o| o.1)
    }

    /// DHCP message type (option 53); see [`msg_type_name`].
    pub fn msg_type(&self) -> Option<u8> {
        match self.option(opt::MSG_TYPE)? {
            [t] => Some(*t),
            _ => None,
        }
    }

    /// Requested IP address (option 50).
    pub fn requested_ip(&self) -> Option<Ipv4Addr> {
        ip4(self.option(opt::REQUESTED_IP)?)
    }

    /// IP address lease time in seconds (option 51).
    pub fn lease_time(&self) -> Option<u32> {
        let a: [u8; 4] = self.option(opt::LEASE_TIME)?.try_into().ok()?;
        Some(u32::from_be_bytes(a))
    }

    /// Server identifier (option 54).
    pub fn server_id(&self) -> Option<Ipv4Addr> {
        ip4(self.option(opt::SERVER_ID)?)
    }

    /// Host name (option 12), raw.
    pub fn hostname(&self) -> Option<&'a [u8]> {
        self.option(opt::HOSTNAME)
    }

    /// The domain-name part of the Client FQDN option (81, RFC 4702 §2), raw: after the
    /// flags and the two RCODE octets. See [`Message::client_fqdn_flags`] for its encoding
    /// and [`fqdn_to_text`] to present it.
    pub fn client_fqdn(&self) -> Option<&'a [u8]> {
        self.option(opt::CLIENT_FQDN)?.get(3..)
    }

    /// The flags octet of the Client FQDN option (bit 0x04 "E": the name is in DNS wire
    /// format; otherwise ASCII).
    pub fn client_fqdn_flags(&self) -> Option<u8> {
        self.option(opt::CLIENT_FQDN)?.first().copied()
    }

    /// Domain name (option 15), raw.
    pub fn domain(&self) -> Option<&'a [u8]> {
        self.option(opt::DOMAIN_NAME)
    }

    /// Client identifier (option 61), raw (first octet: hardware type, 1 = Ethernet).
    pub fn client_id(&self) -> Option<&'a [u8]> {
        self.option(opt::CLIENT_ID)
    }

    /// Vendor class identifier (option 60), raw.
    pub fn vendor_class(&self) -> Option<&'a [u8]> {
        self.option(opt::VENDOR_CLASS)
    }

    /// Subnet mask (option 1).
    pub fn subnet_mask(&self) -> Option<Ipv4Addr> {
        ip4(self.option(opt::SUBNET_MASK)?)
    }

    /// Routers (option 3), in order; a trailing partial address is ignored.
    pub fn routers(&self) -> impl Iterator<Item = Ipv4Addr> + 'a {
        addresses(self.option(opt::ROUTER))
    }

    /// Domain name servers (option 6), in order.
    pub fn dns_servers(&self) -> impl Iterator<Item = Ipv4Addr> + 'a {
        addresses(self.option(opt::DNS_SERVER))
    }

    /// Parameter request list (option 55): the requested option codes.
    pub fn param_request_list(&self) -> Option<&'a [u8]> {
        self.option(opt::PARAM_REQUEST_LIST)
    }

    /// Message (option 56): why a server NAKs or a client DECLINEs.
    pub fn message(&self) -> Option<&'a [u8]> {
        self.option(opt::MESSAGE)
    }

    /// Whether the message comes from a client: op BOOTREQUEST, or for an op that is neither
    /// request nor reply, a client message type.
    pub fn is_from_client(&self) -> bool {
        match self.op {
            1 => true,
            2 => false,
            _ => matches!(
                self.msg_type(),
                Some(msg::DISCOVER | msg::REQUEST | msg::DECLINE | msg::RELEASE | msg::INFORM)
            ),
        }
    }
}

fn until_nul(b: &[u8]) -> &[u8] {
    let end = b.iter().position(|&c| c == 0).unwrap_or(b.len());
    b.get(..end).unwrap_or(&[])
}

fn addresses(v: Option<&[u8]>) -> impl Iterator<Item = Ipv4Addr> + '_ {
    v.unwrap_or(&[]).chunks_exact(4).filter_map(ip4)
}

/// Appends the Client FQDN domain name as text: with the E flag (0x04) the DNS wire-format
/// labels joined by dots (stopping at the root label or at a label that does not fit),
/// otherwise the octets as they are.
pub fn fqdn_to_text(flags: u8, name: &[u8], out: &mut Vec<u8>) {
    if flags & 0x04 == 0 {
        out.extend_from_slice(name);
        return;
    }
    let mut pos = 0usize;
    while let Some(&len) = name.get(pos) {
        let Some(label) = name.get(pos + 1..pos + 1 + usize::from(len)) else {
            break;
        };
        if len == 0 || len > 63 {
            break;
        }
        if pos > 0 {
            out.push(b'.');
        }
        out.extend_from_slice(label);
        pos += 1 + usize::from(len);
    }
}

/// Zeek's name for a DHCP message type (`DHCP::message_types`); "unknown" for others (Zeek
/// prints `unknown-message-type-N`).
pub fn msg_type_name(t: u8) -> &'static str {
    match t {
        1 => "DISCOVER",
        2 => "OFFER",
        3 => "REQUEST",
        4 => "DECLINE",
        5 => "ACK",
        6 => "NAK",
        7 => "RELEASE",
        8 => "INFORM",
        9 => "FORCERENEW",
        10 => "LEASEQUERY",
        11 => "LEASEUNASSIGNED",
        12 => "LEASEUNKNOWN",
        13 => "LEASEACTIVE",
        14 => "BULKLEASEQUERY",
        15 => "LEASEQUERYDONE",
        16 => "ACTIVELEASEQUERY",
        17 => "LEASEQUERYSTATUS",
        18 => "TLS",
        _ => "unknown",
    }
}

/// Default number of open transactions in a [`TxTable`].
pub const DEFAULT_TX_CAPACITY: usize = 4096;

/// Message types kept per transaction; a transaction reaching this many is emitted (Zeek
/// does the same at `DHCP::max_msg_types_per_log_entry`, 50).
pub const MAX_MSG_TYPES: usize = 16;

/// Zeek expires a transaction 5 s after its last message (`join_data_expiration`).
pub const DEFAULT_IDLE_TIMEOUT_NS: u64 = 5_000_000_000;

/// Zeek's `DHCP::max_txid_watch_time`: 30 s after the first message.
pub const DEFAULT_MAX_AGE_NS: u64 = 30_000_000_000;

/// Settings of a [`TxTable`].
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct TxConfig {
    /// Open transactions kept (at least 1).
    pub capacity: usize,
    /// [`TxTable::expire`] emits a transaction this long after its last message.
    pub idle_timeout_ns: u64,
    /// ... or this long after its first message.
    pub max_age_ns: u64,
    /// Emit as soon as the exchange is complete (see the module documentation); false
    /// waits for the timeouts, as Zeek does.
    pub emit_on_completion: bool,
}

impl Default for TxConfig {
    fn default() -> Self {
        TxConfig {
            capacity: DEFAULT_TX_CAPACITY,
            idle_timeout_ns: DEFAULT_IDLE_TIMEOUT_NS,
            max_age_ns: DEFAULT_MAX_AGE_NS,
            emit_on_completion: true,
        }
    }
}

/// One DHCP exchange, as Zeek's `dhcp.log` describes it. Strings are raw option octets (at
/// most 255); empty when not seen.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Transaction {
    /// Time of the first message.
    pub ts: Timestamp,
    /// Time of the last message (Zeek's `duration` is `last_ts - ts`).
    pub last_ts: Timestamp,
    pub xid: u32,
    /// Client MAC: from a client's Ethernet client identifier (option 61), else from a
    /// server's `chaddr`, else (at emission) from a client's `chaddr`.
    pub mac: Option<[u8; 6]>,
    /// Source address of the last client message (unless 0.0.0.0 or 255.255.255.255), else
    /// the assigned address.
    pub client_addr: Option<Ipv4Addr>,
    /// Source address of the last server message that assigned an address (yiaddr ≠ 0).
    pub server_addr: Option<Ipv4Addr>,
    /// Option 12 from the client.
    pub host_name: Vec<u8>,
    /// Option 81's name from the client, as text (see [`fqdn_to_text`]; Zeek logs the raw
    /// octets).
    pub client_fqdn: Vec<u8>,
    /// Option 15 from the server.
    pub domain: Vec<u8>,
    /// Option 50 from the client.
    pub requested_addr: Option<Ipv4Addr>,
    /// `yiaddr` of the last server message that had one.
    pub assigned_addr: Option<Ipv4Addr>,
    /// Option 51 from the server, in seconds.
    pub lease_time: Option<u32>,
    /// Option 56 from the client / from the server.
    pub client_message: Vec<u8>,
    pub server_message: Vec<u8>,
    /// Message types in order (0 for a DHCP message without option 53), at most
    /// [`MAX_MSG_TYPES`].
    pub msg_types: Vec<u8>,
    /// The `chaddr` of the last client message that had no Ethernet client identifier.
    pub client_chaddr: Option<[u8; 6]>,
}

impl Transaction {
    /// `last_ts - ts` in nanoseconds.
    pub fn duration_ns(&self) -> u64 {
        self.last_ts.since(self.ts)
    }

    fn reset(&mut self, ts: Timestamp, xid: u32) {
        self.ts = ts;
        self.last_ts = ts;
        self.xid = xid;
        self.mac = None;
        self.client_addr = None;
        self.server_addr = None;
        self.host_name.clear();
        self.client_fqdn.clear();
        self.domain.clear();
        self.requested_addr = None;
        self.assigned_addr = None;
        self.lease_time = None;
        self.client_message.clear();
        self.server_message.clear();
        self.msg_types.clear();
        self.client_chaddr = None;
    }
}

#[derive(Debug, Default)]
struct Slot {
    live: bool,
    tx: Transaction,
}

/// Aggregates DHCP messages into [`Transaction`]s keyed by `xid`; see the module
/// documentation for the rules and bounds.
#[derive(Debug)]
pub struct TxTable {
    config: TxConfig,
    slots: Vec<Slot>,
    free: Vec<usize>,
    index: HashMap<u32, usize>,
    /// Reused when emitting several transactions in time order.
    order: Vec<usize>,
    dropped: u64,
    emitted: u64,
    not_dhcp: u64,
}

impl Default for TxTable {
    fn default() -> Self {
        Self::new()
    }
}

impl TxTable {
    /// A table with the default [`TxConfig`].
    pub fn new() -> Self {
        Self::with_config(TxConfig::default())
    }

    pub fn with_config(config: TxConfig) -> Self {
        let config = TxConfig {
            capacity: config.capacity.max(1),
            ..config
        };
        TxTable {
            config,
            slots: Vec::new(),
            free: Vec::new(),
            index: HashMap::with_capacity(config.capacity),
            order: Vec::new(),
            dropped: 0,
            emitted: 0,
            not_dhcp: 0,
        }
    }

    pub fn config(&self) -> &TxConfig {
        &self.config
    }

    /// Adds one message sent from `src` to `dst` at `ts`; emits the transaction through
    /// `out` if this message completes it (see [`TxConfig::emit_on_completion`]) or if it
    /// reached [`MAX_MSG_TYPES`]. Plain BOOTP messages (no magic cookie) are ignored and
    /// counted in [`TxTable::not_dhcp`].
    pub fn on_message(
        &mut self,
        m: &Message<'_>,
        ts: Timestamp,
        src: Ipv4Addr,
        _dst: Ipv4Addr,
        out: &mut dyn FnMut(&Transaction),
    ) {
        if !m.has_magic_cookie() {
            self.not_dhcp += 1;
            return;
        }
        let i = match self.index.get(&m.xid) {
            Some(&i) => i,
            None => self.open(m.xid, ts),
        };
        let Some(slot) = self.slots.get_mut(i) else {
            return;
        };
        let tx = &mut slot.tx;
        let mt = m.msg_type().unwrap_or(0);
        let client = m.is_from_client();
        if tx.msg_types.len() < MAX_MSG_TYPES {
            if tx.msg_types.capacity() == 0 {
                tx.msg_types.reserve_exact(MAX_MSG_TYPES);
            }
            tx.msg_types.push(mt);
        }
        if ts > tx.last_ts {
            tx.last_ts = ts;
        }
        if let Some(text) = m.message() {
            let dst = if client {
                &mut tx.client_message
            } else {
                &mut tx.server_message
            };
            crate::set_bounded(dst, text, 255);
        }
        if client {
            if src != Ipv4Addr::UNSPECIFIED && src != Ipv4Addr::BROADCAST {
                tx.client_addr = Some(src);
            }
            if let Some(h) = m.hostname() {
                crate::set_bounded(&mut tx.host_name, h, 255);
            }
            if let (Some(name), Some(flags)) = (m.client_fqdn(), m.client_fqdn_flags()) {
                tx.client_fqdn.clear();
                fqdn_to_text(flags, name, &mut tx.client_fqdn);
            }
            match m.client_id() {
                Some([1, a, b, c, d, e, f]) => tx.mac = Some([*a, *b, *c, *d, *e, *f]),
                _ => tx.client_chaddr = m.mac(),
            }
            if let Some(r) = m.requested_ip() {
                tx.requested_addr = Some(r);
            }
        } else {
            if m.yiaddr != Ipv4Addr::UNSPECIFIED {
                tx.server_addr = Some(src);
                tx.assigned_addr = Some(m.yiaddr);
            }
            if tx.mac.is_none() {
                tx.mac = m.mac();
            }
            if tx.client_addr.is_none() {
                tx.client_addr = tx.assigned_addr;
            }
            if let Some(d) = m.domain() {
                crate::set_bounded(&mut tx.domain, d, 255);
            }
            if let Some(l) = m.lease_time() {
                tx.lease_time = Some(l);
            }
        }
        let complete = self.config.emit_on_completion
            && if client {
                matches!(mt, msg::DECLINE | msg::RELEASE)
            } else {
                matches!(
                    mt,
                    msg::ACK
                        | msg::NAK
                        | msg::LEASEUNASSIGNED
                        | msg::LEASEUNKNOWN
                        | msg::LEASEACTIVE
                        | msg::LEASEQUERYDONE
                )
            };
        if complete || tx.msg_types.len() >= MAX_MSG_TYPES {
            self.emit(i, out);
        }
    }

    /// Opens a transaction (dropping the oldest when full) and returns its slot.
    fn open(&mut self, xid: u32, ts: Timestamp) -> usize {
        if self.index.len() >= self.config.capacity {
            let oldest = self
                .slots
                .iter()
                .enumerate()
                .filter(|(_, s)| s.live)
                .min_by_key(|(_, s)| s.tx.ts)
                .map(|(i, _)| i);
            if let Some(i) = oldest {
                self.release(i);
                self.dropped += 1;
            }
        }
        let i = match self.free.pop() {
            Some(i) => i,
            None => {
                self.slots.push(Slot::default());
                self.slots.len() - 1
            }
        };
        if let Some(slot) = self.slots.get_mut(i) {
            slot.live = true;
            slot.tx.reset(ts, xid);
        }
        self.index.insert(xid, i);
        i
    }

    fn release(&mut self, i: usize) {
        if let Some(slot) = self.slots.get_mut(i) {
            if slot.live {
                slot.live = false;
                self.index.remove(&slot.tx.xid);
                self.free.push(i);
            }
        }
    }

    fn emit(&mut self, i: usize, out: &mut dyn FnMut(&Transaction)) {
        if let Some(slot) = self.slots.get_mut(i) {
            if !slot.live {
                return;
            }
            if slot.tx.mac.is_none() {
                slot.tx.mac = slot.tx.client_chaddr;
            }
            out(&slot.tx);
            self.emitted += 1;
        }
        self.release(i);
    }

    /// Emits, oldest first, every transaction idle for longer than the idle timeout or
    /// older than the maximum age at `now`.
    pub fn expire(&mut self, now: Timestamp, out: &mut dyn FnMut(&Transaction)) {
        let (idle, age) = (self.config.idle_timeout_ns, self.config.max_age_ns);
        self.emit_where(out, |tx| {
            now.since(tx.last_ts) > idle || now.since(tx.ts) > age
        });
    }

    /// Emits every open transaction, oldest first (end of input).
    pub fn flush(&mut self, out: &mut dyn FnMut(&Transaction)) {
        self.emit_where(out, |_| true);
    }

    fn emit_where(
        &mut self,
        out: &mut dyn FnMut(&Transaction),
        pred: impl Fn(&Transaction) -> bool,
    ) {
        let mut order = std::mem::take(&mut self.order);
        order.clear();
        order.extend(
            self.slots
                .iter()
                .enumerate()
                .filter(|(_, s)| s.live && pred(&s.tx))
                .map(|(i, _)| i),
        );
        order.sort_by_key(|&i| self.slots.get(i).map(|s| (s.tx.ts, s.tx.xid)));
        for &i in &order {
            self.emit(i, out);
        }
        self.order = order;
    }

    /// Open transactions.
    pub fn len(&self) -> usize {
        self.index.len()
    }

    pub fn is_empty(&self) -> bool {
        self.index.is_empty()
    }

    /// Transactions dropped because the table was full.
    pub fn dropped(&self) -> u64 {
        self.dropped
    }

    /// Transactions emitted so far.
    pub fn emitted(&self) -> u64 {
        self.emitted
    }

    /// Messages ignored because they had no magic cookie.
    pub fn not_dhcp(&self) -> u64 {
        self.not_dhcp
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ts(ms: i64) -> Timestamp {
        Timestamp(ms * 1_000_000)
    }

    /// A DHCP message: op, xid, yiaddr, MAC in chaddr, then options (code, value).
    fn build(op: u8, xid: u32, yiaddr: [u8; 4], options: &[(u8, &[u8])]) -> Vec<u8> {
        let mut v = vec![0u8; FIXED_LEN];
        v[0] = op;
        v[1] = 1;
        v[2] = 6;
        v[4..8].copy_from_slice(&xid.to_be_bytes());
        v[16..20].copy_from_slice(&yiaddr);
        v[28..34].copy_from_slice(&[0, 0x0c, 0x29, 0x59, 0xfd, 0x21]);
        v.extend(MAGIC_COOKIE);
        for (code, val) in options {
            v.push(*code);
            v.push(val.len() as u8);
            v.extend(*val);
        }
        v.push(opt::END);
        v
    }

    #[test]
    fn parses_fixed_part_and_options() {
        let mut v = build(
            1,
            0x81bc_c90f,
            [0; 4],
            &[
                (opt::MSG_TYPE, &[msg::REQUEST]),
                (opt::CLIENT_ID, &[1, 0, 0x0c, 0x29, 0x59, 0xfd, 0x21]),
                (opt::REQUESTED_IP, &[192, 168, 1, 10]),
                (opt::HOSTNAME, b"ubuntu2"),
                (opt::CLIENT_FQDN, b"\x05\x00\x00\x07ubuntu2\x04test\x00"),
                (opt::VENDOR_CLASS, b"MSFT 5.0"),
                (opt::PARAM_REQUEST_LIST, &[1, 3, 6, 15]),
                (opt::MESSAGE, b"why"),
            ],
        );
        v[3] = 2; // hops
        v[8..10].copy_from_slice(&7u16.to_be_bytes());
        v[10] = 0x80;
        v[12..16].copy_from_slice(&[10, 0, 0, 1]);
        v[20..24].copy_from_slice(&[10, 0, 0, 2]);
        v[24..28].copy_from_slice(&[10, 0, 0, 3]);
        v[44..48].copy_from_slice(b"srv\0");
        v[108..112].copy_from_slice(b"pxe\0");
        let m = parse(&v).expect("parse");
        assert_eq!((m.op, m.htype, m.hlen, m.hops), (1, 1, 6, 2));
        assert_eq!((m.xid, m.secs, m.flags), (0x81bc_c90f, 7, 0x8000));
        assert_eq!(m.ciaddr, Ipv4Addr::new(10, 0, 0, 1));
        assert_eq!(m.yiaddr, Ipv4Addr::UNSPECIFIED);
        assert_eq!(m.siaddr, Ipv4Addr::new(10, 0, 0, 2));
        assert_eq!(m.giaddr, Ipv4Addr::new(10, 0, 0, 3));
        assert_eq!(m.mac(), Some([0, 0x0c, 0x29, 0x59, 0xfd, 0x21]));
        assert!(m.has_magic_cookie());
        assert_eq!(m.overload(), 0);
        assert_eq!(m.sname(), Some(&b"srv"[..]));
        assert_eq!(m.file(), Some(&b"pxe"[..]));
        assert_eq!(m.msg_type(), Some(msg::REQUEST));
        assert_eq!(m.requested_ip(), Some(Ipv4Addr::new(192, 168, 1, 10)));
        assert_eq!(m.hostname(), Some(&b"ubuntu2"[..]));
        assert_eq!(m.client_fqdn_flags(), Some(5));
        let mut t = Vec::new();
        fqdn_to_text(5, m.client_fqdn().expect("fqdn"), &mut t);
        assert_eq!(t, b"ubuntu2.test");
        assert_eq!(m.vendor_class(), Some(&b"MSFT 5.0"[..]));
        assert_eq!(
            m.client_id(),
            Some(&[1, 0, 0x0c, 0x29, 0x59, 0xfd, 0x21][..])
        );
        assert_eq!(m.param_request_list(), Some(&[1, 3, 6, 15][..]));
        assert_eq!(m.message(), Some(&b"why"[..]));
        assert!(m.is_from_client());
        assert!(!m.options_malformed());
        assert_eq!(m.options().count(), 8);
        assert_eq!(m.lease_time(), None);
        assert_eq!(m.server_id(), None);
        assert_eq!(m.routers().count(), 0);
    }

    #[test]
    fn server_options() {
        let v = build(
            2,
            1,
            [192, 168, 1, 10],
            &[
                (opt::MSG_TYPE, &[msg::ACK]),
                (opt::SERVER_ID, &[192, 168, 1, 1]),
                (opt::LEASE_TIME, &600u32.to_be_bytes()),
                (opt::SUBNET_MASK, &[255, 255, 255, 0]),
                (opt::ROUTER, &[192, 168, 1, 1, 192, 168, 1, 2, 9]),
                (opt::DNS_SERVER, &[8, 8, 8, 8]),
                (opt::DOMAIN_NAME, b"mydomain.example"),
            ],
        );
        let m = parse(&v).expect("parse");
        assert!(!m.is_from_client());
        assert_eq!(m.server_id(), Some(Ipv4Addr::new(192, 168, 1, 1)));
        assert_eq!(m.lease_time(), Some(600));
        assert_eq!(m.subnet_mask(), Some(Ipv4Addr::new(255, 255, 255, 0)));
        let routers: Vec<Ipv4Addr> = m.routers().collect();
        assert_eq!(
            routers,
            vec![Ipv4Addr::new(192, 168, 1, 1), Ipv4Addr::new(192, 168, 1, 2)]
        );
        assert_eq!(
            m.dns_servers().collect::<Vec<_>>(),
            vec![Ipv4Addr::new(8, 8, 8, 8)]
        );
        assert_eq!(m.domain(), Some(&b"mydomain.example"[..]));
    }

    #[test]
    fn bootp_short_and_malformed() {
        assert_eq!(parse(&[0u8; 235]).err(), Some(DhcpError::TooShort(235)));
        assert!(DhcpError::TooShort(3).to_string().contains("3 octets"));
        // Plain BOOTP: no cookie, no options.
        let mut v = vec![0u8; 300];
        v[0] = 1;
        let m = parse(&v).expect("bootp");
        assert!(!m.has_magic_cookie());
        assert_eq!(m.options().count(), 0);
        assert_eq!(m.msg_type(), None);
        assert_eq!(m.mac(), None, "htype 0");
        // Exactly the fixed part.
        assert!(parse(&v[..FIXED_LEN]).is_ok());
        // An option that runs past the end stops the walk and is flagged.
        let mut v = build(1, 1, [0; 4], &[(opt::MSG_TYPE, &[1])]);
        v.pop(); // End
        v.extend([opt::HOSTNAME, 10, b'a']);
        let m = parse(&v).expect("parse");
        assert_eq!(m.msg_type(), Some(1));
        assert_eq!(m.hostname(), None);
        assert!(m.options_malformed());
        // Pads are skipped; options after End are ignored; wrong-length values are None.
        let mut v = build(1, 1, [0; 4], &[]);
        v.pop();
        v.extend([
            0,
            0,
            opt::MSG_TYPE,
            2,
            1,
            1,
            opt::LEASE_TIME,
            3,
            0,
            0,
            1,
            255,
        ]);
        v.extend([opt::HOSTNAME, 1, b'x']);
        let m = parse(&v).expect("parse");
        assert_eq!(m.msg_type(), None);
        assert_eq!(m.lease_time(), None);
        assert_eq!(m.hostname(), None);
        assert_eq!(m.options().count(), 2);
        // A FQDN option shorter than its 3 fixed octets.
        let v = build(1, 1, [0; 4], &[(opt::CLIENT_FQDN, &[0])]);
        assert_eq!(parse(&v).expect("parse").client_fqdn(), None);
    }

    #[test]
    fn option_overload_reads_file_and_sname() {
        let mut v = build(
            2,
            1,
            [0; 4],
            &[(opt::OVERLOAD, &[3]), (opt::MSG_TYPE, &[2])],
        );
        // file (108..236): hostname then End; sname (44..108): domain then End.
        v[108..115].copy_from_slice(&[opt::HOSTNAME, 3, b'a', b'b', b'c', opt::END, 0]);
        v[44..50].copy_from_slice(&[opt::DOMAIN_NAME, 2, b'x', b'y', opt::END, 0]);
        let m = parse(&v).expect("parse");
        assert_eq!(m.overload(), 3);
        assert_eq!(m.sname(), None);
        assert_eq!(m.file(), None);
        assert_eq!(m.hostname(), Some(&b"abc"[..]));
        assert_eq!(m.domain(), Some(&b"xy"[..]));
        let codes: Vec<u8> = m.options().map(|o| o.0).collect();
        assert_eq!(
            codes,
            vec![
                opt::OVERLOAD,
                opt::MSG_TYPE,
                opt::HOSTNAME,
                opt::DOMAIN_NAME
            ]
        );
        // Overload 1: only file.
        let mut v = build(2, 1, [0; 4], &[(opt::OVERLOAD, &[1])]);
        v[108..111].copy_from_slice(&[opt::MSG_TYPE, 1, 5]);
        v[44..47].copy_from_slice(&[opt::MSG_TYPE, 1, 6]);
        let m = parse(&v).expect("parse");
        assert_eq!(m.msg_type(), Some(5));
        assert!(m.sname().is_some());
        // An invalid overload value is ignored.
        let v = build(2, 1, [0; 4], &[(opt::OVERLOAD, &[4])]);
        assert_eq!(parse(&v).expect("parse").overload(), 0);
    }

    #[test]
    fn fqdn_text_forms() {
        let mut out = Vec::new();
        fqdn_to_text(0, b"host.example", &mut out);
        assert_eq!(out, b"host.example");
        out.clear();
        fqdn_to_text(4, b"\x04host\x07example\x00", &mut out);
        assert_eq!(out, b"host.example");
        out.clear();
        fqdn_to_text(4, b"\x04host\x09ex", &mut out);
        assert_eq!(out, b"host");
    }

    #[test]
    fn names() {
        assert_eq!(msg_type_name(1), "DISCOVER");
        assert_eq!(msg_type_name(5), "ACK");
        assert_eq!(msg_type_name(6), "NAK");
        assert_eq!(msg_type_name(8), "INFORM");
        assert_eq!(msg_type_name(18), "TLS");
        assert_eq!(msg_type_name(0), "unknown");
        assert_eq!(msg_type_name(200), "unknown");
    }

    fn dora() -> Vec<(Vec<u8>, Ipv4Addr)> {
        let zero = Ipv4Addr::UNSPECIFIED;
        let server = Ipv4Addr::new(192, 168, 1, 1);
        let lease = 600u32.to_be_bytes();
        vec![
            (
                build(
                    1,
                    0x696d_dc66,
                    [0; 4],
                    &[(53, &[1]), (12, b"ubuntu2"), (50, &[192, 168, 100, 129])],
                ),
                zero,
            ),
            (
                build(
                    2,
                    0x696d_dc66,
                    [192, 168, 1, 10],
                    &[(53, &[2]), (51, &lease), (15, b"mydomain.example")],
                ),
                server,
            ),
            (
                build(
                    1,
                    0x696d_dc66,
                    [0; 4],
                    &[(53, &[3]), (12, b"ubuntu2"), (50, &[192, 168, 1, 10])],
                ),
                zero,
            ),
            (
                build(
                    2,
                    0x696d_dc66,
                    [192, 168, 1, 10],
                    &[(53, &[5]), (51, &lease), (15, b"mydomain.example")],
                ),
                server,
            ),
        ]
    }

    #[test]
    fn dora_is_one_transaction() {
        let mut t = TxTable::new();
        let mut got = Vec::new();
        for (i, (bytes, src)) in dora().iter().enumerate() {
            let m = parse(bytes).expect("parse");
            t.on_message(
                &m,
                ts(i as i64 * 10),
                *src,
                Ipv4Addr::BROADCAST,
                &mut |tx: &Transaction| got.push(tx.clone()),
            );
            assert_eq!(got.len(), usize::from(i == 3));
        }
        let tx = &got[0];
        assert_eq!(tx.xid, 0x696d_dc66);
        assert_eq!(
            (tx.ts, tx.last_ts, tx.duration_ns()),
            (ts(0), ts(30), 30_000_000)
        );
        assert_eq!(tx.msg_types, vec![1, 2, 3, 5]);
        assert_eq!(tx.mac, Some([0, 0x0c, 0x29, 0x59, 0xfd, 0x21]));
        assert_eq!(tx.host_name, b"ubuntu2");
        assert_eq!(tx.requested_addr, Some(Ipv4Addr::new(192, 168, 1, 10)));
        assert_eq!(tx.assigned_addr, Some(Ipv4Addr::new(192, 168, 1, 10)));
        assert_eq!(tx.client_addr, Some(Ipv4Addr::new(192, 168, 1, 10)));
        assert_eq!(tx.server_addr, Some(Ipv4Addr::new(192, 168, 1, 1)));
        assert_eq!(tx.lease_time, Some(600));
        assert_eq!(tx.domain, b"mydomain.example");
        assert!(tx.client_fqdn.is_empty() && tx.client_message.is_empty());
        assert!(t.is_empty());
        assert_eq!(t.emitted(), 1);
    }

    #[test]
    fn zeek_timing_mode_waits_for_expiry() {
        let mut t = TxTable::with_config(TxConfig {
            emit_on_completion: false,
            ..TxConfig::default()
        });
        let mut got = Vec::new();
        for (i, (bytes, src)) in dora().iter().enumerate() {
            let m = parse(bytes).expect("parse");
            t.on_message(
                &m,
                ts(i as i64),
                *src,
                Ipv4Addr::BROADCAST,
                &mut |tx: &Transaction| got.push(tx.xid),
            );
        }
        assert!(got.is_empty());
        assert_eq!(t.len(), 1);
        t.expire(ts(3 + 5000), &mut |tx: &Transaction| got.push(tx.xid));
        assert!(got.is_empty(), "exactly 5 s idle is not yet expired");
        t.expire(ts(3 + 5001), &mut |tx: &Transaction| got.push(tx.xid));
        assert_eq!(got, vec![0x696d_dc66]);
        assert!(t.is_empty());
    }

    #[test]
    fn release_decline_nak_complete_and_client_fields() {
        let mut t = TxTable::new();
        let mut got = Vec::new();
        let client = Ipv4Addr::new(10, 1, 1, 5);
        // RELEASE from a bound client: client_addr from the source; client id MAC.
        let v = build(
            1,
            7,
            [0; 4],
            &[(53, &[7]), (61, &[1, 1, 2, 3, 4, 5, 6]), (56, b"bye")],
        );
        t.on_message(
            &parse(&v).expect("p"),
            ts(0),
            client,
            Ipv4Addr::new(10, 1, 1, 1),
            &mut |tx: &Transaction| got.push(tx.clone()),
        );
        assert_eq!(got.len(), 1);
        assert_eq!(got[0].client_addr, Some(client));
        assert_eq!(got[0].mac, Some([1, 2, 3, 4, 5, 6]));
        assert_eq!(got[0].client_message, b"bye");
        // DECLINE.
        let v = build(1, 8, [0; 4], &[(53, &[4])]);
        t.on_message(
            &parse(&v).expect("p"),
            ts(1),
            Ipv4Addr::UNSPECIFIED,
            Ipv4Addr::BROADCAST,
            &mut |tx: &Transaction| got.push(tx.clone()),
        );
        assert_eq!(got.len(), 2);
        assert_eq!(got[1].client_addr, None);
        assert_eq!(
            got[1].mac,
            Some([0, 0x0c, 0x29, 0x59, 0xfd, 0x21]),
            "chaddr fallback"
        );
        // REQUEST then NAK with a server message and no address.
        let v = build(
            1,
            9,
            [0; 4],
            &[(53, &[3]), (81, b"\x00\x00\x00host.example")],
        );
        t.on_message(
            &parse(&v).expect("p"),
            ts(2),
            Ipv4Addr::UNSPECIFIED,
            Ipv4Addr::BROADCAST,
            &mut |tx: &Transaction| got.push(tx.clone()),
        );
        let v = build(2, 9, [0; 4], &[(53, &[6]), (56, b"wrong network")]);
        t.on_message(
            &parse(&v).expect("p"),
            ts(3),
            Ipv4Addr::new(10, 1, 1, 1),
            Ipv4Addr::BROADCAST,
            &mut |tx: &Transaction| got.push(tx.clone()),
        );
        assert_eq!(got.len(), 3);
        assert_eq!(got[2].msg_types, vec![3, 6]);
        assert_eq!(got[2].server_message, b"wrong network");
        assert_eq!(got[2].server_addr, None, "no address handed out");
        assert_eq!(got[2].client_fqdn, b"host.example");
        // INFORM waits for the ACK.
        let v = build(1, 10, [0; 4], &[(53, &[8])]);
        t.on_message(
            &parse(&v).expect("p"),
            ts(4),
            client,
            Ipv4Addr::BROADCAST,
            &mut |tx: &Transaction| got.push(tx.clone()),
        );
        assert_eq!(got.len(), 3);
        let v = build(2, 10, [0; 4], &[(53, &[5])]);
        t.on_message(
            &parse(&v).expect("p"),
            ts(5),
            Ipv4Addr::new(10, 1, 1, 1),
            client,
            &mut |tx: &Transaction| got.push(tx.clone()),
        );
        assert_eq!(got.len(), 4);
        assert_eq!(got[3].msg_types, vec![8, 5]);
        assert_eq!(got[3].client_addr, Some(client));
        // BOOTP without cookie is ignored.
        let mut v = vec![0u8; 300];
        v[0] = 1;
        t.on_message(
            &parse(&v).expect("p"),
            ts(6),
            client,
            client,
            &mut |tx: &Transaction| got.push(tx.clone()),
        );
        assert_eq!(t.not_dhcp(), 1);
        assert!(t.is_empty());
    }

    #[test]
    fn capacity_expiry_flush_and_msg_type_cap() {
        let mut t = TxTable::with_config(TxConfig {
            capacity: 3,
            ..TxConfig::default()
        });
        let mut got = Vec::new();
        for x in 0..5u32 {
            let v = build(1, x, [0; 4], &[(53, &[1])]);
            t.on_message(
                &parse(&v).expect("p"),
                ts(i64::from(x) * 1000),
                Ipv4Addr::UNSPECIFIED,
                Ipv4Addr::BROADCAST,
                &mut |tx: &Transaction| got.push(tx.xid),
            );
        }
        assert!(got.is_empty());
        assert_eq!((t.len(), t.dropped()), (3, 2));
        // At 9 s: xid 2 (last seen at 2 s) and 3 (3 s) are idle > 5 s; 4 (4 s) is not.
        t.expire(ts(9_000), &mut |tx: &Transaction| got.push(tx.xid));
        assert_eq!(got, vec![2, 3]);
        t.flush(&mut |tx: &Transaction| got.push(tx.xid));
        assert_eq!(got, vec![2, 3, 4]);
        assert!(t.is_empty());
        // Max age: a transaction kept alive by messages every second is emitted after 30 s.
        let mut got = Vec::new();
        for s in 0..=31 {
            let v = build(1, 77, [0; 4], &[(53, &[3])]);
            if s % 2 == 0 {
                t.on_message(
                    &parse(&v).expect("p"),
                    ts(s * 1000),
                    Ipv4Addr::UNSPECIFIED,
                    Ipv4Addr::BROADCAST,
                    &mut |tx: &Transaction| got.push(tx.msg_types.len()),
                );
            }
            t.expire(ts(s * 1000), &mut |tx: &Transaction| {
                got.push(tx.msg_types.len())
            });
        }
        assert_eq!(
            got,
            vec![MAX_MSG_TYPES],
            "16 messages emit before the max age"
        );
        let mut got = Vec::new();
        let mut t = TxTable::new();
        for s in 0..=40 {
            if s % 3 == 0 && s < 36 {
                let v = build(1, 78, [0; 4], &[(53, &[3])]);
                t.on_message(
                    &parse(&v).expect("p"),
                    ts(s * 1000),
                    Ipv4Addr::UNSPECIFIED,
                    Ipv4Addr::BROADCAST,
                    &mut |tx: &Transaction| got.push((s, tx.msg_types.len())),
                );
            }
            t.expire(ts(s * 1000), &mut |tx: &Transaction| {
                got.push((s, tx.msg_types.len()))
            });
        }
        // Emitted by age at 31 s; the message at 33 s opens a new one, idle-expired at 39 s.
        assert_eq!(got, vec![(31, 11), (39, 1)]);
        assert_eq!(t.config().capacity, DEFAULT_TX_CAPACITY);
        assert_eq!(TxTable::default().len(), 0);
    }

    #[test]
    fn reuses_slots() {
        let mut t = TxTable::new();
        for round in 0..3u32 {
            for (i, (bytes, src)) in dora().iter().enumerate() {
                let mut b = bytes.clone();
                b[4..8].copy_from_slice(&round.to_be_bytes());
                let m = parse(&b).expect("parse");
                t.on_message(
                    &m,
                    ts(i as i64),
                    *src,
                    Ipv4Addr::BROADCAST,
                    &mut |tx: &Transaction| {
                        assert_eq!(tx.msg_types.len(), 4);
                        assert_eq!(tx.xid, round);
                    },
                );
            }
        }
        assert_eq!(t.slots.len(), 1);
        assert_eq!(t.emitted(), 3);
    }

    mod prop {
        use super::*;
        use proptest::prelude::*;

        proptest! {
            #[test]
            fn arbitrary_bytes_never_panic(data in proptest::collection::vec(any::<u8>(), 0..700)) {
                let mut with_cookie = vec![0u8; FIXED_LEN];
                with_cookie.extend(MAGIC_COOKIE);
                with_cookie.extend(&data);
                let mut t = TxTable::with_config(TxConfig { capacity: 2, ..TxConfig::default() });
                for bytes in [&data[..], &with_cookie[..]] {
                    if let Ok(m) = parse(bytes) {
                        let _ = (m.mac(), m.sname(), m.file(), m.options_malformed());
                        let _ = m.options().count();
                        let _ = (m.msg_type(), m.requested_ip(), m.lease_time(), m.server_id());
                        let _ = (m.hostname(), m.client_fqdn(), m.domain(), m.client_id());
                        let _ = (m.vendor_class(), m.subnet_mask(), m.param_request_list());
                        let _ = (m.routers().count(), m.dns_servers().count(), m.message());
                        let mut out = Vec::new();
                        if let (Some(f), Some(n)) = (m.client_fqdn_flags(), m.client_fqdn()) {
                            fqdn_to_text(f, n, &mut out);
                        }
                        t.on_message(&m, Timestamp::ZERO, Ipv4Addr::UNSPECIFIED, Ipv4Addr::BROADCAST, &mut |_| {});
                    } else {
                        prop_assert!(bytes.len() < FIXED_LEN);
                    }
                }
                t.flush(&mut |_| {});
                prop_assert!(t.is_empty());
            }
        }
    }
}
