//! Cleartext protocols that can switch to TLS on the same connection: SMTP (`STARTTLS`, RFC
//! 3207), FTP (`AUTH TLS`, RFC 4217), IMAP (`STARTTLS`, RFC 3501 §6.2.1), POP3 (`STLS`, RFC
//! 2595 §4), PostgreSQL (`SSLRequest`, protocol 3.0), MySQL (the SSL request of protocol
//! 4.1) and LDAP (the StartTLS extended operation, RFC 4511 §4.14). The parser follows the cleartext part only as far as needed to see the client ask
//! for TLS and the server agree, and says where TLS begins in each direction, so that the engine can hand the rest of the connection
//! to protocol identification (the way Zeek's SMTP analyzer hands over to its SSL analyzer).
//!
//! Method. The line protocols are split into lines at LF (a CR before it is dropped):
//! - client lines are commands, `VERB [args]` (IMAP: `tag SP VERB [args]`). The upgrade
//!   command (`STARTTLS`, `AUTH TLS|SSL|TLS-C|TLS-P`, `STLS`) makes the parser wait for the
//!   server's answer, and holds the client's further bytes (they are the TLS ClientHello once
//!   the server agrees, see the bounds);
//! - server lines are replies: SMTP and FTP `NNN SP text` (`NNN-` continues a multi-line
//!   reply), IMAP `tag SP OK|NO|BAD` (untagged `*` lines are skipped), POP3 `+OK` / `-ERR`.
//!   The final line of a positive answer (SMTP 220, FTP 234, IMAP `OK` with the command's
//!   tag, POP3 `+OK`) ends the cleartext part: [`StartTlsParser::upgraded`] says so and
//!   [`StartTlsParser::take_tunnel_bytes`] hands over what followed in each direction. A
//!   negative answer puts the held client bytes back into the command stream.
//!
//! MySQL switches without an answer: after the server's greeting, a client that wants TLS
//! sends a 32-octet SSL request (its capability flags with `CLIENT_SSL`, 0x0800) and starts
//! the TLS handshake; a longer first packet is a cleartext login and ends the watch.
//!
//! PostgreSQL is framed: the client's first message is 8 octets, `length=8` and the request
//! code 80877103 (`SSLRequest`) or 80877104 (`GSSENCRequest`); the server answers one octet,
//! `S` (TLS follows) or `N` (go on in cleartext). A `StartupMessage` (protocol 3.0) means a
//! cleartext session; nothing more is watched.
//!
//! SMTP and FTP greet alike (`220`): the parser starts from the port (21 and 990 are FTP) or
//! the greeting's wording, and the client's first recognised command decides (`EHLO`, `HELO`
//! and `LHLO` are SMTP; `USER`, `AUTH`, `FEAT`, `SYST` and the other RFC 959 / 2228 / 2389
//! commands are FTP); [`StartTlsParser::dialect`] reports the current choice.
//!
//! The watch ends ([`StartTlsParser::is_finished`]) at the upgrade, at a command after which
//! an upgrade is not allowed (SMTP `MAIL`, `DATA`, `BDAT`; IMAP `LOGIN`, `AUTHENTICATE`,
//! `SELECT`, `EXAMINE`; POP3 `PASS`, `APOP`, `RETR`, `TOP`; a PostgreSQL or MySQL cleartext
//! start), after [`MAX_COMMANDS`] client lines, or when a side sends [`MAX_LINE_RUN`] octets
//! without a line end (not a line protocol).
//!
//! Bounds: each direction keeps at most [`LINE_CAP`] octets of its current line (a longer
//! line is judged by its start), and at most [`BUF_CAP`] octets held for the hand-over;
//! held bytes beyond that are counted ([`StartTlsParser::tunnel_lost`]) and reported to the
//! next parser as a gap. An IMAP tag is at most [`LINE_CAP`] octets.
//!
//! LDAP is BER-framed (RFC 4511): each message is read to its length and judged by its first
//! [`LINE_CAP`] octets. A client's extended request named `1.3.6.1.4.1.1466.20037`
//! (StartTLS, §4.14) makes the parser wait for the server's extended response with the same
//! message ID; result code 0 (`success`) switches both directions to TLS, any other code is a
//! refusal. Binds, searches and the other operations before it are skipped; an unbind ends
//! the watch, and so does anything that is not a BER message (after a SASL bind with a
//! security layer, messages are wrapped in a 4-octet length).
//!
//! Not handled: XMPP, NNTP, Sieve
//! and other upgrades; implicit-TLS ports (465, 993, 995, 990) start with TLS and are
//! identified as such.

use crate::Dir;

/// Octets of one line kept per direction.
pub const LINE_CAP: usize = 512;

/// Octets held per direction for the hand-over to TLS.
pub const BUF_CAP: usize = 4096;

/// Client command lines watched before the parser stops.
pub const MAX_COMMANDS: u32 = 64;

/// Octets a side may send without a line end before the parser stops (not a line protocol).
pub const MAX_LINE_RUN: usize = 4096;

/// Octets [`looks_like`] needs at most to decide.
pub const SIGNATURE_BYTES: usize = 64;

/// The cleartext protocol of a connection.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum Dialect {
    #[default]
    Smtp,
    Ftp,
    Imap,
    Pop3,
    Pgsql,
    Mysql,
    Ldap,
}

impl Dialect {
    /// Every dialect, in declaration order.
    pub const ALL: [Dialect; 7] = [
        Dialect::Smtp,
        Dialect::Ftp,
        Dialect::Imap,
        Dialect::Pop3,
        Dialect::Pgsql,
        Dialect::Mysql,
        Dialect::Ldap,
    ];
}

/// What the parser saw of the upgrade.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct StartTlsSession {
    pub dialect: Dialect,
    /// Upgrade commands the client sent.
    pub requests: u32,
    /// Upgrade commands the server refused.
    pub refusals: u32,
    /// The server agreed: TLS follows.
    pub upgraded: bool,
}

#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
enum State {
    #[default]
    Watching,
    /// The client asked; the server's answer is awaited.
    Pending,
    Upgraded,
    Done,
}

#[derive(Debug, Default)]
struct Side {
    line: Vec<u8>,
    /// Octets of the current line (also those past `LINE_CAP`).
    run: usize,
    /// Discard up to the next line end (after a gap).
    skip: bool,
    /// Bytes after the upgrade point, for the hand-over.
    held: Vec<u8>,
    lost: u64,
    /// Lines completed in this direction.
    lines: u32,
}

impl Side {
    fn reset(&mut self) {
        self.line.clear();
        self.run = 0;
        self.skip = false;
        self.held.clear();
        self.lost = 0;
        self.lines = 0;
    }

    fn hold(&mut self, d: &[u8]) {
        if self.lost > 0 {
            // Bytes after a hole cannot follow the held ones.
            self.lost += d.len() as u64;
            return;
        }
        let room = BUF_CAP.saturating_sub(self.held.len());
        let n = d.len().min(room);
        self.held.extend_from_slice(&d[..n]);
        self.lost += (d.len() - n) as u64;
    }
}

/// Follows a cleartext session up to its switch to TLS (see the module docs).
#[derive(Debug, Default)]
pub struct StartTlsParser {
    session: StartTlsSession,
    state: State,
    /// The client's first command fixed the dialect (SMTP and FTP share `220`).
    decided: bool,
    sides: [Side; 2],
    /// LDAP: the message ID of the pending StartTLS request.
    ldap_id: u32,
    /// Replies (SMTP, FTP, POP3) still due to commands sent before any upgrade request.
    awaiting: u32,
    /// Replies due to commands pipelined before the pending upgrade request.
    skip_replies: u32,
    /// IMAP: the tag of the pending `STARTTLS`.
    tag: Vec<u8>,
    /// Client bytes to parse again after a refusal (kept for its capacity).
    replay: Vec<u8>,
}

impl StartTlsParser {
    pub fn new() -> StartTlsParser {
        StartTlsParser::default()
    }

    /// Starts over for a new connection of `dialect`, keeping allocations.
    pub fn reset(&mut self, dialect: Dialect) {
        self.session = StartTlsSession {
            dialect,
            ..StartTlsSession::default()
        };
        self.state = State::Watching;
        self.decided = !matches!(dialect, Dialect::Smtp | Dialect::Ftp);
        for s in &mut self.sides {
            s.reset();
        }
        self.awaiting = 0;
        self.ldap_id = 0;
        self.skip_replies = 0;
        self.tag.clear();
        self.replay.clear();
    }

    pub fn session(&self) -> &StartTlsSession {
        &self.session
    }

    /// The protocol as currently judged (SMTP may become FTP at the client's first command).
    pub fn dialect(&self) -> Dialect {
        self.session.dialect
    }

    /// The server agreed to TLS: every further byte is TLS.
    pub fn upgraded(&self) -> bool {
        self.state == State::Upgraded
    }

    /// Nothing more will be learned (upgraded, or the watch ended).
    pub fn is_finished(&self) -> bool {
        matches!(self.state, State::Upgraded | State::Done)
    }

    /// Appends to `out` the bytes `dir` sent after its part of the upgrade, and forgets them.
    pub fn take_tunnel_bytes(&mut self, dir: Dir, out: &mut Vec<u8>) {
        let side = &mut self.sides[dir.index()];
        out.extend_from_slice(&side.held);
        side.held.clear();
    }

    /// Octets of `dir` after the upgrade point that were not held (beyond [`BUF_CAP`], or
    /// after a hole).
    pub fn tunnel_lost(&self, dir: Dir) -> u64 {
        self.sides[dir.index()].lost
    }

    /// Octets held for the hand-over, both directions.
    pub fn buffered_bytes(&self) -> usize {
        self.sides.iter().map(|s| s.held.len()).sum()
    }

    /// Octets are missing in `dir`.
    pub fn gap(&mut self, dir: Dir, len: u64) {
        let holding = self.holding(dir);
        let side = &mut self.sides[dir.index()];
        match self.state {
            State::Done => {}
            _ if holding => side.lost += len.max(1),
            _ => {
                // Lines resume after the next line end; PostgreSQL's framing cannot.
                if matches!(
                    self.session.dialect,
                    Dialect::Pgsql | Dialect::Mysql | Dialect::Ldap
                ) {
                    self.state = State::Done;
                }
                side.line.clear();
                side.run = 0;
                side.skip = true;
            }
        }
    }

    /// Whether `dir`'s bytes now belong to the hand-over.
    fn holding(&self, dir: Dir) -> bool {
        match self.state {
            State::Upgraded => true,
            State::Pending => dir == Dir::ToServer,
            _ => false,
        }
    }

    /// Consumes in-order bytes of `dir`.
    pub fn feed(&mut self, dir: Dir, data: &[u8]) {
        let mut d = data;
        while !d.is_empty() {
            if self.state == State::Done {
                return;
            }
            if self.holding(dir) {
                self.sides[dir.index()].hold(d);
                return;
            }
            let n = match self.session.dialect {
                Dialect::Pgsql => self.pg_bytes(dir, d),
                Dialect::Mysql => self.mysql_bytes(dir, d),
                Dialect::Ldap => self.ldap_bytes(dir, d),
                _ => self.line_bytes(dir, d),
            };
            d = &d[n..];
        }
    }

    /// Takes bytes up to and including one line end (or all of `d`); returns how many.
    fn line_bytes(&mut self, dir: Dir, d: &[u8]) -> usize {
        let side = &mut self.sides[dir.index()];
        let (n, complete) = match d.iter().position(|&b| b == b'\n') {
            Some(i) => (i + 1, true),
            None => (d.len(), false),
        };
        if !side.skip {
            let room = LINE_CAP.saturating_sub(side.line.len());
            side.line.extend_from_slice(&d[..n.min(room)]);
        }
        side.run += n;
        if !complete {
            if side.run > MAX_LINE_RUN {
                self.state = State::Done;
            }
            return n;
        }
        let skipped = std::mem::replace(&mut side.skip, false);
        side.run = 0;
        side.lines += 1;
        if !skipped {
            let mut line = std::mem::take(&mut side.line);
            let text = trim_line(&line);
            match dir {
                Dir::ToServer => self.client_line(text),
                Dir::ToClient => self.server_line(text),
            }
            line.clear();
            self.sides[dir.index()].line = line;
        } else {
            side.line.clear();
        }
        n
    }

    fn client_line(&mut self, line: &[u8]) {
        if self.sides[Dir::ToServer.index()].lines > MAX_COMMANDS {
            self.state = State::Done;
            return;
        }
        let mut words = line.split(|&b| b == b' ').filter(|w| !w.is_empty());
        let d = self.session.dialect;
        let tag = if d == Dialect::Imap {
            words.next().unwrap_or(b"")
        } else {
            b""
        };
        let verb = words.next().unwrap_or(b"");
        let arg = words.next().unwrap_or(b"");
        if !self.decided {
            if any_of(verb, &[b"EHLO", b"HELO", b"LHLO"]) {
                self.session.dialect = Dialect::Smtp;
                self.decided = true;
            } else if any_of(verb, FTP_COMMANDS) {
                self.session.dialect = Dialect::Ftp;
                self.decided = true;
            }
        }
        let asks = match self.session.dialect {
            Dialect::Smtp => verb.eq_ignore_ascii_case(b"STARTTLS"),
            Dialect::Ftp => {
                verb.eq_ignore_ascii_case(b"AUTH")
                    && any_of(arg, &[b"TLS", b"SSL", b"TLS-C", b"TLS-P"])
            }
            Dialect::Imap => verb.eq_ignore_ascii_case(b"STARTTLS"),
            Dialect::Pop3 => verb.eq_ignore_ascii_case(b"STLS"),
            Dialect::Pgsql | Dialect::Mysql | Dialect::Ldap => false,
        };
        if asks {
            self.session.requests += 1;
            self.state = State::Pending;
            self.skip_replies = std::mem::take(&mut self.awaiting);
            self.tag.clear();
            self.tag.extend_from_slice(tag);
            return;
        }
        if self.session.dialect != Dialect::Imap {
            // IMAP's answers carry their command's tag instead.
            self.awaiting = self.awaiting.saturating_add(1);
        }
        let last = match self.session.dialect {
            Dialect::Smtp => any_of(verb, &[b"MAIL", b"DATA", b"BDAT"]),
            Dialect::Imap => any_of(verb, &[b"LOGIN", b"AUTHENTICATE", b"SELECT", b"EXAMINE"]),
            Dialect::Pop3 => any_of(verb, &[b"PASS", b"APOP", b"RETR", b"TOP"]),
            Dialect::Ftp | Dialect::Pgsql | Dialect::Mysql | Dialect::Ldap => false,
        };
        if last {
            self.state = State::Done;
        }
    }

    fn server_line(&mut self, line: &[u8]) {
        if !self.decided && self.sides[Dir::ToClient.index()].lines == 1 {
            // The greeting's wording, until the client's first command decides.
            if contains_ignore_case(line, b"FTP") {
                self.session.dialect = Dialect::Ftp;
            } else if contains_ignore_case(line, b"SMTP") {
                self.session.dialect = Dialect::Smtp;
            }
        }
        let reply = match self.session.dialect {
            Dialect::Smtp => final_reply(line).map(|c| c == b"220"),
            Dialect::Ftp => final_reply(line).map(|c| c == b"234"),
            Dialect::Imap => {
                let mut words = line.split(|&b| b == b' ').filter(|w| !w.is_empty());
                let pending = self.state == State::Pending && !self.tag.is_empty();
                if pending && words.next() == Some(&self.tag[..]) {
                    Some(words.next().is_some_and(|w| w.eq_ignore_ascii_case(b"OK")))
                } else {
                    None
                }
            }
            Dialect::Pop3 => {
                if starts_with_ignore_case(line, b"+OK") {
                    Some(true)
                } else if starts_with_ignore_case(line, b"-ERR") {
                    Some(false)
                } else {
                    None
                }
            }
            Dialect::Pgsql | Dialect::Mysql | Dialect::Ldap => None,
        };
        let Some(ok) = reply else {
            return;
        };
        if self.state != State::Pending {
            // The greeting, or the answer to an earlier command.
            self.awaiting = self.awaiting.saturating_sub(1);
        } else if self.skip_replies > 0 {
            // The answer to a command pipelined before the request.
            self.skip_replies -= 1;
        } else if ok {
            self.upgrade();
        } else {
            self.refused();
        }
    }

    fn upgrade(&mut self) {
        self.session.upgraded = true;
        self.state = State::Upgraded;
    }

    /// The server said no: the client's held bytes are commands again.
    fn refused(&mut self) {
        self.session.refusals += 1;
        self.state = State::Watching;
        let side = &mut self.sides[Dir::ToServer.index()];
        if side.lost > 0 {
            // Commands are missing: resume at the next line end.
            side.lost = 0;
            side.held.clear();
            side.skip = true;
            return;
        }
        let mut replay = std::mem::take(&mut self.replay);
        replay.clear();
        std::mem::swap(&mut replay, &mut side.held);
        self.feed(Dir::ToServer, &replay);
        replay.clear();
        self.replay = replay;
    }

    /// PostgreSQL: the client's 8-octet first message, the server's one-octet answer.
    fn pg_bytes(&mut self, dir: Dir, d: &[u8]) -> usize {
        let side = &mut self.sides[dir.index()];
        match (dir, self.state) {
            (Dir::ToServer, State::Watching) => {
                let n = d.len().min(8 - side.line.len());
                side.line.extend_from_slice(&d[..n]);
                if side.line.len() == 8 {
                    let code = u32::from_be_bytes([
                        side.line[4],
                        side.line[5],
                        side.line[6],
                        side.line[7],
                    ]);
                    let len = u32::from_be_bytes([
                        side.line[0],
                        side.line[1],
                        side.line[2],
                        side.line[3],
                    ]);
                    side.line.clear();
                    if len == 8 && code == PG_SSL_REQUEST {
                        self.session.requests += 1;
                        self.state = State::Pending;
                    } else {
                        // A StartupMessage or GSSENCRequest: no TLS on this connection.
                        self.state = State::Done;
                    }
                }
                n
            }
            (Dir::ToClient, State::Pending) => {
                match d[0] {
                    b'S' => self.upgrade(),
                    b'N' => {
                        self.session.refusals += 1;
                        // The client goes on in cleartext: its next message is the
                        // StartupMessage, which ends the watch.
                        self.state = State::Done;
                    }
                    _ => self.state = State::Done,
                }
                1
            }
            _ => {
                self.state = State::Done;
                d.len()
            }
        }
    }

    /// MySQL: the server's greeting is skipped; the client's first packet is an SSL request
    /// (32 octets with `CLIENT_SSL`), after which both directions are TLS at once, or its
    /// cleartext login, which ends the watch.
    fn mysql_bytes(&mut self, dir: Dir, d: &[u8]) -> usize {
        if dir == Dir::ToClient {
            // The greeting (and nothing else is sent before the client's answer).
            return d.len();
        }
        let side = &mut self.sides[dir.index()];
        let want = if side.line.len() < 4 {
            4
        } else {
            4 + MYSQL_SSL_REQUEST_LEN
        };
        let n = d.len().min(want - side.line.len());
        side.line.extend_from_slice(&d[..n]);
        let l = &side.line;
        if l.len() == 4 {
            let len = usize::from(l[0]) | usize::from(l[1]) << 8 | usize::from(l[2]) << 16;
            if len != MYSQL_SSL_REQUEST_LEN || l[3] != 1 {
                self.state = State::Done;
            }
        } else if l.len() == 4 + MYSQL_SSL_REQUEST_LEN {
            self.session.requests += 1;
            if u16::from_le_bytes([l[4], l[5]]) & MYSQL_CLIENT_SSL != 0 {
                self.upgrade();
            } else {
                self.state = State::Done;
            }
        }
        n
    }
}

impl StartTlsParser {
    /// LDAP: takes octets of one BER message (its first [`LINE_CAP`] are kept, the rest
    /// skipped) and judges it when it is complete; returns how many octets were taken.
    fn ldap_bytes(&mut self, dir: Dir, d: &[u8]) -> usize {
        let side = &mut self.sides[dir.index()];
        if side.run > 0 {
            // The rest of a message longer than LINE_CAP, judged by its start.
            let n = d.len().min(side.run);
            side.run -= n;
            return n;
        }
        let total = match ldap::message_len(&side.line) {
            Err(()) => {
                self.state = State::Done;
                return d.len();
            }
            Ok(None) => {
                // A header is at most HEADER_MAX octets and every message is longer.
                let n = d.len().min(ldap::HEADER_MAX - side.line.len());
                side.line.extend_from_slice(&d[..n]);
                if ldap::message_len(&side.line).is_err() {
                    self.state = State::Done;
                }
                return n;
            }
            Ok(Some(t)) => t,
        };
        let keep = total.min(LINE_CAP);
        let n = d.len().min(keep.saturating_sub(side.line.len()));
        side.line.extend_from_slice(&d[..n]);
        if side.line.len() < keep {
            return n;
        }
        side.run = total - keep;
        side.lines += 1;
        let whole = side.run == 0;
        let msg = std::mem::take(&mut side.line);
        match dir {
            Dir::ToServer => self.ldap_client(&msg),
            Dir::ToClient => self.ldap_server(&msg, whole),
        }
        let side = &mut self.sides[dir.index()];
        side.line = msg;
        side.line.clear();
        n
    }

    fn ldap_client(&mut self, msg: &[u8]) {
        if self.sides[Dir::ToServer.index()].lines > MAX_COMMANDS {
            self.state = State::Done;
            return;
        }
        let Some(m) = ldap::message(msg) else {
            self.state = State::Done;
            return;
        };
        match m.op {
            ldap::OP_EXTENDED_REQ if ldap::is_start_tls(m.body) => {
                self.session.requests += 1;
                self.ldap_id = m.id;
                self.state = State::Pending;
            }
            ldap::OP_UNBIND => self.state = State::Done,
            _ => {}
        }
    }

    /// `whole`: the message was kept entire (an answer is judged only then).
    fn ldap_server(&mut self, msg: &[u8], whole: bool) {
        let Some(m) = ldap::message(msg) else {
            self.state = State::Done;
            return;
        };
        if self.state != State::Pending || m.op != ldap::OP_EXTENDED_RESP || m.id != self.ldap_id {
            return; // results of earlier operations, or a notice of disconnection (ID 0)
        }
        match (ldap::result_code(m.body), whole) {
            (Some(0), true) => self.upgrade(),
            (Some(0), false) | (None, _) => self.state = State::Done,
            (Some(_), _) => self.refused(),
        }
    }
}

/// A MySQL SSL request's payload: capability flags, packet size, character set, filler.
const MYSQL_SSL_REQUEST_LEN: usize = 32;
/// `CLIENT_SSL` in the capability flags.
const MYSQL_CLIENT_SSL: u16 = 0x0800;

/// PostgreSQL's SSLRequest code (1234 << 16 | 5679).
const PG_SSL_REQUEST: u32 = 80_877_103;
/// GSSENCRequest (1234 << 16 | 5680).
const PG_GSSENC_REQUEST: u32 = 80_877_104;
/// Protocol 3.0 in a StartupMessage.
const PG_PROTOCOL_3: u32 = 196_608;

/// FTP commands (RFC 959, 2228, 2389, 2428, 3659) that SMTP does not have.
const FTP_COMMANDS: &[&[u8]] = &[
    b"USER", b"PASS", b"ACCT", b"AUTH", b"FEAT", b"SYST", b"PASV", b"EPSV", b"PORT", b"EPRT",
    b"TYPE", b"STRU", b"MODE", b"RETR", b"STOR", b"LIST", b"NLST", b"CWD", b"CDUP", b"PWD", b"MKD",
    b"RMD", b"DELE", b"SITE", b"OPTS", b"PBSZ", b"PROT", b"MLSD", b"MLST", b"SIZE", b"MDTM",
    b"REST", b"ABOR", b"STAT", b"CCC",
];

fn any_of(w: &[u8], set: &[&[u8]]) -> bool {
    set.iter().any(|s| w.eq_ignore_ascii_case(s))
}

fn trim_line(line: &[u8]) -> &[u8] {
    let mut l = line;
    while let [rest @ .., b'\n' | b'\r'] = l {
        l = rest;
    }
    l
}

fn starts_with_ignore_case(line: &[u8], p: &[u8]) -> bool {
    line.len() >= p.len() && line[..p.len()].eq_ignore_ascii_case(p)
}

fn contains_ignore_case(line: &[u8], p: &[u8]) -> bool {
    line.windows(p.len()).any(|w| w.eq_ignore_ascii_case(p))
}

/// The code of an SMTP/FTP reply's final line (`NNN` then space or the line's end); `None`
/// for a continuation (`NNN-`), a preliminary reply (`1NN`, FTP) or a line that is not a
/// reply.
fn final_reply(line: &[u8]) -> Option<&[u8]> {
    let c = line.get(..3)?;
    if !c.iter().all(u8::is_ascii_digit) || c[0] == b'1' {
        return None;
    }
    match line.get(3) {
        None | Some(b' ') => Some(c),
        _ => None,
    }
}

/// The outcome of [`looks_like`].
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Signature {
    /// The protocol, and whether the bytes came from its server.
    Yes(Dialect, bool),
    No,
    NeedMore,
}

/// Whether a stream's first bytes open one of these protocols: a server greeting (SMTP or
/// FTP `220` then space or `-`, IMAP `* OK`/`* PREAUTH`/`* BYE`, POP3 `+OK` then space),
/// an SMTP client's `EHLO`/`HELO`, each followed by printable text up to a line end (or
/// for [`SIGNATURE_BYTES`] octets); or a PostgreSQL client's first message (SSLRequest,
/// GSSENCRequest, or a protocol 3.0 StartupMessage of at most 10,000 octets), a MySQL
/// server greeting (protocol 10), or an LDAP message from either side (a BER SEQUENCE with
/// a message ID and a known operation whose length fits). `ports` are
/// the flow's, to tell FTP's `220` (ports 21 and 990) from SMTP's. Decides within
/// [`SIGNATURE_BYTES`] octets.
pub fn looks_like(first: &[u8], ports: (u16, u16)) -> Signature {
    match mysql_greeting(first) {
        Signature::No => {}
        g => return g,
    }
    if first.first() == Some(&0x30) {
        return ldap::signature(first);
    }
    if first.first() == Some(&0) {
        return pg_client(first);
    }
    let ftp_port = [21, 990].iter().any(|&p| ports.0 == p || ports.1 == p);
    let greetings: [(&[u8], Dialect, bool); 8] = [
        (
            b"220 ",
            if ftp_port {
                Dialect::Ftp
            } else {
                Dialect::Smtp
            },
            true,
        ),
        (
            b"220-",
            if ftp_port {
                Dialect::Ftp
            } else {
                Dialect::Smtp
            },
            true,
        ),
        (b"* OK ", Dialect::Imap, true),
        (b"* PREAUTH ", Dialect::Imap, true),
        (b"* BYE ", Dialect::Imap, true),
        (b"+OK ", Dialect::Pop3, true),
        (b"EHLO ", Dialect::Smtp, false),
        (b"HELO ", Dialect::Smtp, false),
    ];
    let mut more = false;
    for (sig, dialect, server) in greetings {
        let k = first.len().min(sig.len());
        if !first[..k].eq_ignore_ascii_case(&sig[..k]) {
            continue;
        }
        if k < sig.len() {
            more = true;
            continue;
        }
        return match printable_line(&first[sig.len()..], SIGNATURE_BYTES - sig.len()) {
            Some(true) => Signature::Yes(dialect, server),
            Some(false) => Signature::No,
            None => Signature::NeedMore,
        };
    }
    if more {
        Signature::NeedMore
    } else {
        Signature::No
    }
}

/// Printable text up to a line end, or for `want` octets: `Some(true)`; a control octet
/// first: `Some(false)`; neither yet: `None`.
fn printable_line(rest: &[u8], want: usize) -> Option<bool> {
    for (i, &b) in rest.iter().enumerate() {
        if i >= want {
            return Some(true);
        }
        match b {
            b'\n' => return Some(true),
            b'\r' if rest.get(i + 1).is_none_or(|&n| n == b'\n') => {}
            b'\t' | 0x20..=0x7e => {}
            _ => return Some(false),
        }
    }
    if rest.len() >= want {
        Some(true)
    } else {
        None
    }
}

/// A MySQL server greeting: a packet of 30 to 1,024 octets with sequence number 0, protocol
/// version 10 and a version string that starts with a digit and is printable up to its NUL.
fn mysql_greeting(first: &[u8]) -> Signature {
    let head: [Option<bool>; 6] = [
        Some(true),
        first.get(1).map(|&b| b <= 4),
        first.get(2).map(|&b| b == 0),
        first.get(3).map(|&b| b == 0),
        first.get(4).map(|&b| b == 10),
        first.get(5).map(u8::is_ascii_digit),
    ];
    if head.contains(&Some(false)) {
        return Signature::No;
    }
    if first.len() < 6 {
        return Signature::NeedMore;
    }
    let len = usize::from(first[0]) | usize::from(first[1]) << 8;
    if !(30..=1024).contains(&len) {
        return Signature::No;
    }
    for (i, &b) in first[5..].iter().enumerate() {
        if i + 5 >= SIGNATURE_BYTES {
            break;
        }
        match b {
            0 => return Signature::Yes(Dialect::Mysql, true),
            0x20..=0x7e => {}
            _ => return Signature::No,
        }
    }
    if first.len() >= SIGNATURE_BYTES {
        Signature::Yes(Dialect::Mysql, true)
    } else {
        Signature::NeedMore
    }
}

fn pg_client(first: &[u8]) -> Signature {
    if first.len() < 8 {
        // Lengths above 16 MiB are not PostgreSQL's first message.
        return if first.get(1).is_some_and(|&b| b != 0) {
            Signature::No
        } else {
            Signature::NeedMore
        };
    }
    let len = u32::from_be_bytes([first[0], first[1], first[2], first[3]]);
    let code = u32::from_be_bytes([first[4], first[5], first[6], first[7]]);
    let ok = match code {
        PG_SSL_REQUEST | PG_GSSENC_REQUEST => len == 8,
        PG_PROTOCOL_3 => (9..=10_000).contains(&len),
        _ => false,
    };
    if ok {
        Signature::Yes(Dialect::Pgsql, false)
    } else {
        Signature::No
    }
}

mod ldap;

#[cfg(test)]
mod tests;
