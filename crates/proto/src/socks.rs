//! SOCKS 4, 4a and 5 (RFC 1928, with RFC 1929 username/password authentication): the proxy
//! handshake, what it asked for and what the proxy answered, and where the tunnel starts.
//!
//! Method. The client's side of the stream is a sequence of small messages whose lengths are
//! known from their first octets:
//! - SOCKS 4: `VN=4 CD DSTPORT(2) DSTIP(4) USERID NUL`, and for 4a (DSTIP `0.0.0.x`, x ≠ 0) a
//!   host name and `NUL` after it; the proxy answers with 8 octets, `VN=0 CD DSTPORT DSTIP`
//!   (CD 90 = granted; some proxies put 4 in VN, which is accepted).
//! - SOCKS 5: a greeting `VER=5 NMETHODS METHODS`, the proxy's choice `VER=5 METHOD`; with
//!   method 2 the RFC 1929 exchange `VER=1 ULEN UNAME PLEN PASSWD` / `VER=1 STATUS`; then the
//!   request `VER=5 CMD RSV ATYP DST.ADDR DST.PORT` and the reply in the same layout (REP 0 =
//!   succeeded).
//!
//! After a granted CONNECT (for BIND: after the second reply, which announces the incoming
//! connection) every further byte of both directions belongs to the tunnelled protocol:
//! [`SocksParser::tunnel_open`] says so, and [`SocksParser::take_tunnel_bytes`] hands over
//! the bytes of each direction that followed the handshake (a client may send its first
//! tunnelled bytes before the reply arrives; they are held, see the bounds). A refused
//! request, a failed authentication, no acceptable method, a UDP ASSOCIATE (its datagrams do
//! not travel on this connection) or a method this parser cannot follow (GSSAPI) ends the
//! parse without a tunnel.
//!
//! The client's messages are read without waiting for the proxy's answers (the first octet
//! tells an RFC 1929 login, 1, from a request, 5), so a client that sends everything at once
//! is parsed as well as one that waits. Passwords are noted (`password_sent`), never kept.
//!
//! Bounds: each direction holds at most [`BUF_CAP`] octets (the largest handshake message is
//! 520 octets); tunnelled bytes beyond that, sent before the proxy answered, are counted
//! ([`SocksParser::tunnel_lost`]) and reported to the next parser as a gap. Names and user
//! names are at most 255 octets (SOCKS 5's length octet; longer SOCKS 4 strings fail).
//!
//! Not handled: GSSAPI (method 1) and private methods beyond their selection, SOCKS 5 UDP
//! datagrams, SOCKS 4 and 5 ping/traceroute extensions.

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

use crate::Dir;

/// Octets held per direction: the handshake and any tunnelled bytes the client sent before
/// the proxy's answer.
pub const BUF_CAP: usize = 4096;

/// Longest user name or host name kept (SOCKS 5 has a one-octet length).
pub const MAX_NAME: usize = 255;

/// SOCKS commands (RFC 1928 §4; SOCKS 4 uses 1 and 2).
pub mod command {
    pub const CONNECT: u8 = 1;
    pub const BIND: u8 = 2;
    pub const UDP_ASSOCIATE: u8 = 3;
}

/// SOCKS 5 authentication methods (RFC 1928 §3).
pub mod method {
    pub const NONE: u8 = 0;
    pub const GSSAPI: u8 = 1;
    pub const PASSWORD: u8 = 2;
    pub const NO_ACCEPTABLE: u8 = 0xFF;
}

/// A destination or bound address: an IP address, a name, or (unset) neither.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Address {
    pub ip: Option<IpAddr>,
    /// Host name octets as sent (SOCKS 4a, or SOCKS 5 address type 3).
    pub name: Vec<u8>,
    pub port: Option<u16>,
}

impl Address {
    fn clear(&mut self) {
        self.ip = None;
        self.name.clear();
        self.port = None;
    }
}

/// What the parser learned about one proxied connection.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct SocksSession {
    /// 4 (also 4a) or 5; 0 before the client's first message.
    pub version: u8,
    /// The request's command ([`command`]).
    pub command: Option<u8>,
    /// SOCKS 5 methods the client offered, in its order.
    pub methods: Vec<u8>,
    /// SOCKS 5 method the proxy chose.
    pub method: Option<u8>,
    /// SOCKS 4 USERID or RFC 1929 UNAME.
    pub user: Vec<u8>,
    /// An RFC 1929 password was sent (it is not kept).
    pub password_sent: bool,
    /// RFC 1929 STATUS (0 = success).
    pub auth_status: Option<u8>,
    /// The address the client asked for.
    pub request: Address,
    /// The proxy's reply code: SOCKS 4 CD (90..=93), SOCKS 5 REP (0..=8).
    pub reply: Option<u8>,
    /// The address in the proxy's (first) reply.
    pub bound: Address,
    /// The tunnel started (a granted CONNECT, or BIND's second reply).
    pub tunnel: bool,
}

impl SocksSession {
    /// The outcome in words (the column Zeek calls `status`): the reply code's meaning
    /// (SOCKS 4 protocol text, RFC 1928 §6), or why no request was answered.
    pub fn status(&self) -> Option<&'static str> {
        if let Some(r) = self.reply {
            return Some(match (self.version, r) {
                (4, 90) => "succeeded",
                (4, 91) => "rejected or failed",
                (4, 92) => "rejected: no identd on the client",
                (4, 93) => "rejected: identd user mismatch",
                (5, 0) => "succeeded",
                (5, 1) => "general SOCKS server failure",
                (5, 2) => "connection not allowed by ruleset",
                (5, 3) => "network unreachable",
                (5, 4) => "host unreachable",
                (5, 5) => "connection refused",
                (5, 6) => "TTL expired",
                (5, 7) => "command not supported",
                (5, 8) => "address type not supported",
                _ => "unknown reply code",
            });
        }
        if self.auth_status.is_some_and(|s| s != 0) {
            return Some("authentication failed");
        }
        match self.method {
            Some(method::NO_ACCEPTABLE) => Some("no acceptable method"),
            _ => None,
        }
    }

    /// The command's name: `connect`, `bind`, `udp-associate` (`None` if unknown or unset).
    pub fn command_name(&self) -> Option<&'static str> {
        match self.command? {
            command::CONNECT => Some("connect"),
            command::BIND => Some("bind"),
            command::UDP_ASSOCIATE if self.version == 5 => Some("udp-associate"),
            _ => None,
        }
    }

    /// The chosen SOCKS 5 method's name (`none`, `gssapi`, `password`, `no-acceptable`,
    /// else `method-N`).
    pub fn method_name(&self) -> Option<String> {
        Some(match self.method? {
            method::NONE => "none".into(),
            method::GSSAPI => "gssapi".into(),
            method::PASSWORD => "password".into(),
            method::NO_ACCEPTABLE => "no-acceptable".into(),
            m => format!("method-{m}"),
        })
    }
}

/// Malformations, counted.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct SocksAnomalies {
    /// A message that is not SOCKS (the parse stopped there).
    pub malformed: u32,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Client {
    /// Expecting the first message (its octet 0 gives the version).
    Start,
    /// SOCKS 5: after the greeting, a login (1) or the request (5).
    AfterGreeting,
    /// SOCKS 5: after the login, the request.
    Request,
    /// The request was read; later bytes are the tunnel's.
    Done,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Server {
    /// SOCKS 4: the reply. SOCKS 5: the method choice.
    Start,
    /// SOCKS 5: RFC 1929 status.
    Auth,
    /// SOCKS 5: the reply.
    Reply,
    /// BIND's second reply.
    SecondReply,
    /// The tunnel is open; later bytes are the tunnel's.
    Done,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Outcome {
    Running,
    /// No tunnel will follow (refused, failed, unsupported).
    Ended,
    /// The bytes were not SOCKS.
    Failed,
}

#[derive(Debug, Default)]
struct Side {
    buf: Vec<u8>,
    /// Octets of `buf` read as handshake messages.
    used: usize,
    /// Octets dropped because `buf` was full.
    lost: u64,
}

impl Side {
    fn reset(&mut self) {
        self.buf.clear();
        self.used = 0;
        self.lost = 0;
    }

    fn pending(&self) -> &[u8] {
        self.buf.get(self.used..).unwrap_or(&[])
    }
}

/// Incremental SOCKS parser for one connection; feed each direction's reassembled bytes.
#[derive(Debug)]
pub struct SocksParser {
    session: SocksSession,
    anomalies: SocksAnomalies,
    client: Client,
    server: Server,
    outcome: Outcome,
    sides: [Side; 2],
    /// The handshake reached its end (tunnel or not) and this was not yet taken.
    done: bool,
    /// `done` was set once already (a BIND's second reply does not set it again).
    announced: bool,
}

impl Default for SocksParser {
    fn default() -> Self {
        SocksParser::new()
    }
}

/// Result of reading one message from the front of some bytes.
enum Step {
    /// A message of this many octets was read.
    Read(usize),
    NeedMore,
    /// A message this parser does not follow: the parse ends without a tunnel.
    End,
    Bad,
}

impl SocksParser {
    pub fn new() -> SocksParser {
        SocksParser {
            session: SocksSession::default(),
            anomalies: SocksAnomalies::default(),
            client: Client::Start,
            server: Server::Start,
            outcome: Outcome::Running,
            sides: [Side::default(), Side::default()],
            done: false,
            announced: false,
        }
    }

    /// Back to a fresh connection, keeping buffer capacity.
    pub fn reset(&mut self) {
        let s = &mut self.session;
        s.version = 0;
        s.command = None;
        s.methods.clear();
        s.method = None;
        s.user.clear();
        s.password_sent = false;
        s.auth_status = None;
        s.request.clear();
        s.reply = None;
        s.bound.clear();
        s.tunnel = false;
        self.anomalies = SocksAnomalies::default();
        self.client = Client::Start;
        self.server = Server::Start;
        self.outcome = Outcome::Running;
        for side in &mut self.sides {
            side.reset();
        }
        self.done = false;
        self.announced = false;
    }

    pub fn session(&self) -> &SocksSession {
        &self.session
    }

    pub fn anomalies(&self) -> &SocksAnomalies {
        &self.anomalies
    }

    /// The tunnel is open: the bytes after the handshake belong to another protocol.
    pub fn tunnel_open(&self) -> bool {
        self.session.tunnel
    }

    /// The bytes were not SOCKS after all.
    pub fn failed(&self) -> bool {
        self.outcome == Outcome::Failed
    }

    /// Nothing more will be parsed: the tunnel opened, or the handshake ended without one,
    /// or the bytes were not SOCKS.
    pub fn is_finished(&self) -> bool {
        self.session.tunnel || self.outcome != Outcome::Running
    }

    /// True once when the handshake reached its end (the moment to log it).
    pub fn take_done(&mut self) -> bool {
        std::mem::take(&mut self.done)
    }

    /// Appends to `out` the bytes of `dir` that followed its handshake (tunnelled bytes seen
    /// so far), and forgets them.
    pub fn take_tunnel_bytes(&mut self, dir: Dir, out: &mut Vec<u8>) {
        let side = &mut self.sides[dir.index()];
        out.extend_from_slice(side.pending());
        side.used = side.buf.len();
    }

    /// Tunnelled octets of `dir` dropped because they arrived before the proxy's answer and
    /// did not fit in [`BUF_CAP`].
    pub fn tunnel_lost(&self, dir: Dir) -> u64 {
        self.sides[dir.index()].lost
    }

    /// Octets are missing in `dir`. Within a handshake the parse cannot go on; in tunnelled
    /// bytes held before the proxy's answer, they and everything after are counted as lost.
    pub fn gap(&mut self, dir: Dir, len: u64) {
        if self.is_finished() {
            return;
        }
        let handshake_over = match dir {
            Dir::ToServer => self.client == Client::Done,
            Dir::ToClient => self.server == Server::Done,
        };
        if handshake_over {
            self.sides[dir.index()].lost += len.max(1);
        } else {
            self.fail();
        }
    }

    fn fail(&mut self) {
        self.anomalies.malformed += 1;
        self.outcome = Outcome::Failed;
    }

    fn end(&mut self) {
        self.outcome = Outcome::Ended;
        self.announce();
    }

    /// The handshake is over, or far enough to be logged (a BIND's first reply): `done` is set
    /// the first time only.
    fn announce(&mut self) {
        if !self.announced {
            self.announced = true;
            self.done = true;
        }
    }

    /// Octets held (handshake and early tunnelled bytes), both directions.
    pub fn buffered_bytes(&self) -> usize {
        self.sides[0].buf.len() + self.sides[1].buf.len()
    }

    /// Consumes bytes of one direction.
    pub fn feed(&mut self, dir: Dir, data: &[u8]) {
        if data.is_empty() || self.is_finished() {
            return;
        }
        let side = &mut self.sides[dir.index()];
        // Once bytes were lost, everything after them is too (the held bytes must stay a
        // prefix of the stream).
        let room = if side.lost > 0 {
            0
        } else {
            BUF_CAP.saturating_sub(side.buf.len())
        };
        let take = data.len().min(room);
        side.buf.extend_from_slice(&data[..take]);
        side.lost += (data.len() - take) as u64;
        match dir {
            Dir::ToServer => self.client_messages(),
            Dir::ToClient => self.server_messages(),
        }
    }

    fn client_messages(&mut self) {
        while self.outcome == Outcome::Running && self.client != Client::Done {
            let b = self.sides[0].pending();
            let Some(&first) = b.first() else {
                return;
            };
            let gssapi = self.session.method == Some(method::GSSAPI);
            let step = match (self.client, first) {
                (Client::Start, 4) => read_v4_request(b, &mut self.session),
                (Client::Start, 5) => read_greeting(b, &mut self.session),
                (Client::AfterGreeting, 1) if !gssapi => read_login(b, &mut self.session),
                (Client::AfterGreeting | Client::Request, 5) => {
                    read_address_message(b, true, &mut self.session)
                }
                // GSSAPI messages are not followed.
                (Client::AfterGreeting | Client::Request, _) if gssapi => Step::End,
                _ => Step::Bad,
            };
            match step {
                Step::Read(n) => {
                    self.sides[0].used += n;
                    self.client = match (self.client, first) {
                        (Client::Start, 5) => Client::AfterGreeting,
                        (Client::AfterGreeting, 1) => Client::Request,
                        _ => Client::Done,
                    };
                }
                Step::NeedMore => return,
                Step::End => self.end(),
                Step::Bad => self.fail(),
            }
        }
    }

    fn server_messages(&mut self) {
        while self.outcome == Outcome::Running && self.server != Server::Done {
            let b = self.sides[1].pending();
            if b.is_empty() {
                return;
            }
            let s = &mut self.session;
            let step = match (s.version, self.server) {
                (4, Server::Start | Server::SecondReply) => read_v4_reply(b, s, self.server),
                (5, Server::Start) => {
                    if b.len() < 2 {
                        Step::NeedMore
                    } else if b[0] != 5 || !(b[1] == 0xFF || s.methods.contains(&b[1])) {
                        Step::Bad
                    } else {
                        s.method = Some(b[1]);
                        Step::Read(2)
                    }
                }
                (5, Server::Auth) => {
                    if b.len() < 2 {
                        Step::NeedMore
                    } else if b[0] != 1 {
                        Step::Bad
                    } else {
                        s.auth_status = Some(b[1]);
                        Step::Read(2)
                    }
                }
                (5, Server::Reply | Server::SecondReply) => read_address_message(b, false, s),
                // The proxy spoke before the client's first message was read.
                _ => Step::Bad,
            };
            let n = match step {
                Step::Read(n) => n,
                Step::NeedMore => return,
                Step::End => {
                    self.end();
                    return;
                }
                Step::Bad => {
                    self.fail();
                    return;
                }
            };
            self.sides[1].used += n;
            let s = &self.session;
            let (version, m, auth, cmd) = (s.version, s.method, s.auth_status, s.command);
            let granted = match version {
                4 => s.reply == Some(90),
                _ => s.reply == Some(0),
            };
            let next = match self.server {
                Server::Start if version == 5 => match m {
                    Some(method::NONE) => Some(Server::Reply),
                    Some(method::PASSWORD) => Some(Server::Auth),
                    // No acceptable method, GSSAPI or a private method: not followed.
                    _ => None,
                },
                Server::Auth => (auth == Some(0)).then_some(Server::Reply),
                Server::Start | Server::Reply => match cmd {
                    _ if !granted => None,
                    Some(command::BIND) => Some(Server::SecondReply),
                    Some(command::UDP_ASSOCIATE) if version == 5 => None,
                    _ => Some(Server::Done),
                },
                Server::SecondReply | Server::Done => granted.then_some(Server::Done),
            };
            let Some(next) = next else {
                self.end();
                return;
            };
            // A BIND's first reply is what gets logged; the tunnel waits for the second.
            if next == Server::SecondReply || next == Server::Done {
                self.announce();
            }
            self.server = next;
            if next == Server::Done {
                self.session.tunnel = true;
            }
        }
    }
}

/// A NUL-terminated string starting at `from`: (its octets, offset after the NUL).
fn cstr(b: &[u8], from: usize) -> Result<(&[u8], usize), Step> {
    let rest = b.get(from..).unwrap_or(&[]);
    match rest.iter().position(|&c| c == 0) {
        Some(n) if n <= MAX_NAME => Ok((&rest[..n], from + n + 1)),
        Some(_) => Err(Step::Bad),
        None if rest.len() > MAX_NAME => Err(Step::Bad),
        None => Err(Step::NeedMore),
    }
}

fn be16(b: &[u8], at: usize) -> u16 {
    u16::from_be_bytes([b[at], b[at + 1]])
}

fn read_v4_request(b: &[u8], s: &mut SocksSession) -> Step {
    if b.len() < 9 {
        return Step::NeedMore;
    }
    if !matches!(b[1], command::CONNECT | command::BIND) {
        return Step::Bad;
    }
    let (user, end) = match cstr(b, 8) {
        Ok(x) => x,
        Err(e) => return e,
    };
    let ip = Ipv4Addr::new(b[4], b[5], b[6], b[7]);
    // SOCKS 4a: 0.0.0.x with x != 0 means "a host name follows".
    let v4a = b[4..7] == [0, 0, 0] && b[7] != 0;
    let (name, end) = if v4a {
        match cstr(b, end) {
            Ok(x) => x,
            Err(e) => return e,
        }
    } else {
        (&[][..], end)
    };
    s.version = 4;
    s.command = Some(b[1]);
    s.request.port = Some(be16(b, 2));
    s.request.ip = (!v4a).then_some(IpAddr::V4(ip));
    s.request.name.clear();
    s.request.name.extend_from_slice(name);
    s.user.clear();
    s.user.extend_from_slice(user);
    Step::Read(end)
}

fn read_v4_reply(b: &[u8], s: &mut SocksSession, state: Server) -> Step {
    if b.len() < 8 {
        return Step::NeedMore;
    }
    if !matches!(b[0], 0 | 4) || !(90..=93).contains(&b[1]) {
        return Step::Bad;
    }
    s.reply = Some(b[1]);
    if state == Server::Start {
        s.bound.port = Some(be16(b, 2));
        s.bound.ip = Some(IpAddr::V4(Ipv4Addr::new(b[4], b[5], b[6], b[7])));
    }
    Step::Read(8)
}

fn read_greeting(b: &[u8], s: &mut SocksSession) -> Step {
    let Some(&n) = b.get(1) else {
        return Step::NeedMore;
    };
    let n = usize::from(n);
    if n == 0 {
        return Step::Bad;
    }
    let Some(methods) = b.get(2..2 + n) else {
        return Step::NeedMore;
    };
    s.version = 5;
    s.methods.clear();
    s.methods.extend_from_slice(methods);
    Step::Read(2 + n)
}

fn read_login(b: &[u8], s: &mut SocksSession) -> Step {
    let Some(&ulen) = b.get(1) else {
        return Step::NeedMore;
    };
    let u = usize::from(ulen);
    let Some(&plen) = b.get(2 + u) else {
        return Step::NeedMore;
    };
    let end = 3 + u + usize::from(plen);
    if b.len() < end {
        return Step::NeedMore;
    }
    s.user.clear();
    s.user.extend_from_slice(&b[2..2 + u]);
    s.password_sent = true;
    Step::Read(end)
}

/// A SOCKS 5 request (`request`) or reply: `VER CMD/REP RSV ATYP ADDR PORT`.
fn read_address_message(b: &[u8], request: bool, s: &mut SocksSession) -> Step {
    if b.len() < 5 {
        return Step::NeedMore;
    }
    if b[0] != 5 || b[2] != 0 {
        return Step::Bad;
    }
    if request && !(1..=3).contains(&b[1]) {
        return Step::Bad;
    }
    let (addr_len, addr_at) = match b[3] {
        1 => (4, 4),
        3 => (usize::from(b[4]), 5),
        4 => (16, 4),
        _ => return Step::Bad,
    };
    let end = addr_at + addr_len + 2;
    if b.len() < end {
        return Step::NeedMore;
    }
    let raw = &b[addr_at..addr_at + addr_len];
    let port = be16(b, addr_at + addr_len);
    let a = if request {
        s.command = Some(b[1]);
        &mut s.request
    } else {
        let first = s.reply.is_none();
        s.reply = Some(b[1]);
        if !first {
            // BIND's second reply: the first one's address stays.
            return Step::Read(end);
        }
        &mut s.bound
    };
    a.clear();
    a.port = Some(port);
    match b[3] {
        1 => a.ip = Some(IpAddr::V4(Ipv4Addr::new(raw[0], raw[1], raw[2], raw[3]))),
        4 => {
            let mut o = [0u8; 16];
            o.copy_from_slice(raw);
            a.ip = Some(IpAddr::V6(Ipv6Addr::from(o)));
        }
        _ => a.name.extend_from_slice(raw),
    }
    Step::Read(end)
}

/// Octets after which [`looks_like_client`] always decides.
pub const SIGNATURE_BYTES: usize = 64;

/// Whether `first` (the first bytes one side sent) is a SOCKS client's first message: a
/// SOCKS 4 request with a printable, NUL-terminated user id (and host name for 4a), or a
/// SOCKS 5 greeting of 1 to 16 methods from the assigned (0–9) or private (0x80–0xFE)
/// ranges, alone or followed by the start of a login or a request. `None`: too few bytes
/// (never for [`SIGNATURE_BYTES`] or more: a SOCKS 4 string that is still printable and
/// unterminated then counts as SOCKS).
pub fn looks_like_client(first: &[u8]) -> Option<bool> {
    // A SOCKS 4 string still without its NUL: printable so far is enough after
    // SIGNATURE_BYTES octets.
    let undecided = |ok: bool| match ok {
        false => Some(false),
        true if first.len() >= SIGNATURE_BYTES => Some(true),
        true => None,
    };
    let printable = |s: &[u8]| s.iter().all(|&c| (0x20..0x7F).contains(&c));
    match *first.first()? {
        4 => {
            if first.len() < 9 {
                let cmd_ok = first.get(1).is_none_or(|c| matches!(*c, 1 | 2));
                return if cmd_ok { None } else { Some(false) };
            }
            if !matches!(first[1], 1 | 2) || first[2..4] == [0, 0] {
                return Some(false);
            }
            let (user, end) = match cstr(first, 8) {
                Ok(x) => x,
                Err(Step::NeedMore) => return undecided(printable(&first[8..])),
                Err(_) => return Some(false),
            };
            if !printable(user) {
                return Some(false);
            }
            if first[4..7] == [0, 0, 0] && first[7] != 0 {
                return match cstr(first, end) {
                    Ok((name, _)) => Some(!name.is_empty() && printable(name)),
                    Err(Step::NeedMore) => undecided(printable(&first[end..])),
                    Err(_) => Some(false),
                };
            }
            Some(true)
        }
        5 => {
            let n = usize::from(*first.get(1)?);
            if !(1..=16).contains(&n) {
                return Some(false);
            }
            let methods = &first[2..first.len().min(2 + n)];
            if !methods
                .iter()
                .all(|&m| m <= 9 || (0x80..=0xFE).contains(&m))
            {
                return Some(false);
            }
            if methods.len() < n {
                return None;
            }
            match first.get(2 + n..) {
                None | Some([]) => Some(true),
                // A login (version 1) or a request (version 5, command 1-3, RSV 0).
                Some([1, ..]) => Some(true),
                Some([5]) => None,
                Some([5, c]) => Some((1..=3).contains(c)),
                Some([5, c, r, ..]) => Some((1..=3).contains(c) && *r == 0),
                Some(_) => Some(false),
            }
        }
        _ => Some(false),
    }
}

#[cfg(test)]
mod tests;
