//! HTTP/1.0 and HTTP/1.1 over one reassembled TCP connection (RFC 9112 message syntax and
//! framing, RFC 9110 semantics), producing one [`Transaction`] per request/response pair the
//! way Zeek's http.log pairs them.
//!
//! # Method
//!
//! [`HttpParser::feed`] takes in-order bytes of one direction in arbitrary chunks. Each
//! direction is a small state machine: message head, then a body framed by RFC 9112 §6.3
//! (no body for HEAD responses, 1xx, 204 and 304; `Transfer-Encoding` whose last coding is
//! `chunked` before `Content-Length`; a response without either runs to the end of the
//! connection; a request without either has no body). Chunk sizes, chunk ends and trailers
//! are read by byte-at-a-time state machines, so they need no buffer at all. A head that
//! lies within one `feed` chunk is parsed straight from the borrowed bytes; a head split
//! across chunks is gathered in a per-direction buffer that is reused.
//!
//! Requests queue in FIFO order (pipelining); each final response pairs with the oldest
//! unanswered request, interim 1xx responses only set `info_code`/`info_msg`. A transaction
//! is handed to the caller's callback when its response is complete, when it is pushed out
//! of a full queue, or at [`HttpParser::finish`]. A 2xx answer to CONNECT or a
//! `101 Switching Protocols` ends HTTP on the connection ([`HttpParser::is_tunnel`]).
//!
//! Transactions live in a small pool and their byte fields are cleared and refilled, so a
//! warmed-up parser does not allocate. [`HttpParser::new`] allocates nothing.
//!
//! # Tolerance
//!
//! Lines may end in CRLF or bare LF; empty lines before a message are skipped; runs of
//! whitespace separate start-line parts; any token is a method (WebDAV, etc.); a request
//! line without version (HTTP/0.9 style) is accepted and counted, its head still runs to an
//! empty line; header names are case-insensitive; obs-fold continuation lines are joined
//! with one space. Malformed input is counted in [`HttpAnomalies`], never a panic.
//!
//! # Losing and regaining sync
//!
//! A direction is *lost* after a bad start line, a head over the limit, an unusable framing
//! (bad Content-Length, a request Transfer-Encoding not ending in chunked), a bad chunk
//! size or chunk end, or a gap outside a body of known length (see [`HttpParser::gap`]).
//! A lost direction skips bytes until a line that starts a message: for requests a full
//! request line `token SP target SP HTTP/d.d`, for responses a line starting `HTTP/1.`
//! followed by a valid status. The stricter test (compared with the normal start-line
//! check) keeps body text from being taken for a message. A response lost half-way is
//! emitted at once with `response_complete == false`.
//!
//! # Bounds (see [`HttpConfig`])
//!
//! - head (start line + header fields + final empty line): `max_head_bytes`, 16 KiB; a longer
//!   head counts `header_too_long` and the message is skipped (the direction is lost); the
//!   per-direction head buffer never exceeds it. Chunk-size lines and trailer sections have
//!   the same limit;
//! - queued requests awaiting a response: `max_pending`, 32 (the oldest is emitted without
//!   response beyond it); the pool keeps at most `max_pending + 2` spare transactions;
//! - kept URI: `max_uri`, 8 KiB; every other kept value (method, version, host, user agent,
//!   referer, origin, content types, location, status/info message, user name):
//!   `max_field`, 1 KiB. Longer values are cut and counted in `truncated_field`.
//!
//! # Not handled, deliberately
//!
//! - bodies are counted, not kept; `Content-Encoding` (gzip, ...) is not undone, so
//!   `*_body_len` is the length after de-chunking, before decompression (Zeek decompresses
//!   gzip/deflate before counting, so it reports more for compressed bodies);
//! - HTTP/2 (including h2c prior knowledge) and anything after an upgrade or CONNECT;
//! - multipart bodies, MIME type sniffing, files, cookies, proxied-header lists;
//! - a request lost in a gap cannot be paired, so later responses may pair with the wrong
//!   requests (as in Zeek); likewise a response fed before its request (reordered capture)
//!   becomes a response-only transaction and the request waits for the next response;
//! - which request a full queue pushes out depends on how far the client runs ahead of the
//!   server, so `max_pending` is the one place where feeding order changes the output;
//! - the password of Basic credentials, other authorization schemes, and every header not
//!   listed in [`Transaction`].

mod head;
#[cfg(test)]
mod tests;

use std::collections::VecDeque;

use wirescope_core::Timestamp;

use crate::{set_bounded, Dir};
use head::{
    basic_username, for_each_field, parse_request_line, parse_status_line, start_line_ok,
    start_prefix_ok, ContentLength, Credentials, TransferEncoding,
};

/// Limits of one [`HttpParser`]. All are hard caps on memory held per connection.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct HttpConfig {
    /// Longest message head: start line, header fields and the empty line (default 16 KiB).
    /// Beyond it the message is skipped and the direction resynchronises.
    pub max_head_bytes: usize,
    /// Most pipelined requests awaiting a response (default 32; at least 1 is used).
    pub max_pending: usize,
    /// Longest URI kept (default 8 KiB).
    pub max_uri: usize,
    /// Longest other kept header value or start-line part (default 1 KiB).
    pub max_field: usize,
}

impl Default for HttpConfig {
    fn default() -> Self {
        HttpConfig {
            max_head_bytes: 16 * 1024,
            max_pending: 32,
            max_uri: 8 * 1024,
            max_field: 1024,
        }
    }
}

/// One request/response pair (Zeek http.log style). Byte fields are raw wire bytes (not
/// necessarily UTF-8); empty when absent.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Transaction {
    /// 1-based index of the request in the connection (Zeek `trans_depth`). A response
    /// without request also takes the next index.
    pub trans_depth: u32,
    /// Time of the `feed` chunk holding the first byte of the request line.
    pub request_ts: Option<Timestamp>,
    /// Time of the chunk holding the first byte of the first response (interim 1xx
    /// included) paired with this request.
    pub response_ts: Option<Timestamp>,
    pub method: Vec<u8>,
    pub uri: Vec<u8>,
    /// Request version without `HTTP/` (`1.1`); empty for a line without version.
    pub version: Vec<u8>,
    pub host: Vec<u8>,
    pub user_agent: Vec<u8>,
    pub referer: Vec<u8>,
    pub origin: Vec<u8>,
    pub request_content_type: Vec<u8>,
    /// Request body bytes after de-chunking (gap bytes inside a known length included).
    pub request_body_len: u64,
    /// The first [`REQUEST_BODY_PREFIX`] bytes of the request body after de-chunking (bytes
    /// lost in a gap are not in it), for detectors that inspect form posts.
    pub request_body: Vec<u8>,
    /// The request head and its whole body were seen.
    pub request_complete: bool,
    /// Final status code (101 included); None when no final response was seen.
    pub status: Option<u16>,
    pub status_msg: Vec<u8>,
    /// Version of the final response without `HTTP/`.
    pub response_version: Vec<u8>,
    /// Last 1xx code seen for this request (interim ones and 101, as Zeek).
    pub info_code: Option<u16>,
    pub info_msg: Vec<u8>,
    pub response_content_type: Vec<u8>,
    pub location: Vec<u8>,
    /// Response body bytes after de-chunking.
    pub response_body_len: u64,
    /// The final response head and its whole body were seen (a close-delimited body
    /// completes at [`HttpParser::finish`]).
    pub response_complete: bool,
    /// Valid `Content-Length` of the request, if any.
    pub request_content_length: Option<u64>,
    /// Valid `Content-Length` of the final response, if any.
    pub response_content_length: Option<u64>,
    /// User name from `Authorization: Basic` (the password is never kept).
    pub username: Vec<u8>,
}

impl Transaction {
    /// Back to empty, keeping every buffer's capacity.
    fn clear(&mut self) {
        // Destructured so that a new field cannot be forgotten here.
        let Transaction {
            trans_depth,
            request_ts,
            response_ts,
            method,
            uri,
            version,
            host,
            user_agent,
            referer,
            origin,
            request_content_type,
            request_body_len,
            request_body,
            request_complete,
            status,
            status_msg,
            response_version,
            info_code,
            info_msg,
            response_content_type,
            location,
            response_body_len,
            response_complete,
            request_content_length,
            response_content_length,
            username,
        } = self;
        *trans_depth = 0;
        *request_ts = None;
        *response_ts = None;
        for v in [
            method,
            uri,
            version,
            host,
            user_agent,
            referer,
            origin,
            request_content_type,
            status_msg,
            response_version,
            info_msg,
            response_content_type,
            location,
            username,
            request_body,
        ] {
            v.clear();
        }
        *request_body_len = 0;
        *request_complete = false;
        *status = None;
        *info_code = None;
        *response_body_len = 0;
        *response_complete = false;
        *request_content_length = None;
        *response_content_length = None;
    }

    /// Bytes held in the variable-length fields.
    fn held_bytes(&self) -> usize {
        [
            &self.method,
            &self.uri,
            &self.version,
            &self.host,
            &self.user_agent,
            &self.referer,
            &self.origin,
            &self.request_content_type,
            &self.status_msg,
            &self.response_version,
            &self.info_msg,
            &self.response_content_type,
            &self.location,
            &self.username,
            &self.request_body,
        ]
        .iter()
        .map(|v| v.len())
        .sum()
    }
}

/// Counters of malformed or unusual input on one connection.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct HttpAnomalies {
    /// Request start line not `token SP target [SP HTTP/x.y]` (also binary data).
    pub bad_request_line: u64,
    /// Request line without `HTTP/x.y` (HTTP/0.9 style), accepted.
    pub missing_version: u64,
    /// Response start line not `HTTP/x.y SP 3DIGIT [SP reason]`.
    pub bad_status_line: u64,
    /// Header line without colon, with whitespace before it, or with a non-token name
    /// (ignored).
    pub bad_header_line: u64,
    /// Head (or chunk-size line, or trailer section) over `max_head_bytes`.
    pub header_too_long: u64,
    /// Content-Length not a number, or conflicting values.
    pub bad_content_length: u64,
    /// Both Transfer-Encoding and Content-Length (the former wins; a smuggling sign).
    pub te_and_cl: u64,
    /// Request Transfer-Encoding whose last coding is not chunked (length unknown).
    pub bad_transfer_encoding: u64,
    /// Bad chunk-size line or missing CRLF after chunk data.
    pub bad_chunk: u64,
    /// Response with no request waiting (a transaction with response fields only).
    pub response_without_request: u64,
    /// Request pushed the oldest unanswered one out of the queue.
    pub pending_overflow: u64,
    /// `Authorization: Basic` with bad base64 or no `user:password` shape.
    pub bad_authorization: u64,
    /// A kept value was cut at `max_uri` / `max_field`.
    pub truncated_field: u64,
    /// Times a direction lost sync (bad framing, gap outside a known-length body, ...).
    pub lost_sync: u64,
    /// Times a lost direction found a message start again.
    pub resync: u64,
    /// Calls to [`HttpParser::gap`] with a non-zero length.
    pub gaps: u64,
}

/// Sub-state of a chunk-size line (RFC 9112 §7.1: `chunk-size [ chunk-ext ] CRLF`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum ChunkLine {
    /// Nothing read yet.
    Start,
    /// Inside the hex digits.
    Hex,
    /// Whitespace after the digits (tolerated, as BWS before an extension).
    Ws,
    /// Inside a chunk extension: skipped up to the LF.
    Ext,
    /// After a CR: only LF may follow.
    Cr,
}

/// Where one direction is.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Phase {
    /// Before or inside a message head.
    Head,
    /// Content-Length body: bytes left.
    Body {
        left: u64,
    },
    ChunkSize {
        st: ChunkLine,
        size: u64,
        len: usize,
    },
    ChunkData {
        left: u64,
    },
    /// CRLF after chunk data; `cr` once the CR was seen.
    ChunkEnd {
        cr: bool,
    },
    /// Trailer section after the last chunk: bytes in the current line, whether its first
    /// byte was CR, bytes in the whole section.
    Trailer {
        line: usize,
        first_cr: bool,
        total: usize,
    },
    /// Body delimited by the end of the connection.
    UntilClose,
    /// Out of sync: `line_start` when the next byte starts a line.
    Lost {
        line_start: bool,
    },
    /// After CONNECT 2xx / 101: bytes are ignored.
    Tunnel,
    /// After [`HttpParser::finish`].
    Done,
}

#[derive(Debug)]
struct Side {
    phase: Phase,
    /// Head split across chunks (never more than `max_head_bytes`).
    head: Vec<u8>,
    /// The first line of the head in progress was complete and valid.
    first_line_done: bool,
    /// Resynchronising: stricter start-line test, no anomaly counting.
    strict: bool,
    /// Time of the first byte of the message in progress.
    msg_ts: Timestamp,
    /// `trans_depth` of the transaction the message in progress belongs to, 0 for none.
    depth: u32,
}

impl Side {
    const fn new() -> Side {
        Side {
            phase: Phase::Head,
            head: Vec::new(),
            first_line_done: false,
            strict: false,
            msg_ts: Timestamp(0),
            depth: 0,
        }
    }

    fn reset(&mut self) {
        self.phase = Phase::Head;
        self.head.clear();
        self.first_line_done = false;
        self.strict = false;
        self.msg_ts = Timestamp(0);
        self.depth = 0;
    }

    /// Back to waiting for a head, forgetting the current message.
    fn await_head(&mut self) {
        self.phase = Phase::Head;
        self.head.clear();
        self.first_line_done = false;
    }
}

/// How the body after a head is delimited.
enum Framing {
    None,
    Length(u64),
    Chunked,
    UntilClose,
    /// Unusable: the direction is lost.
    Unknown,
}

/// Streaming HTTP/1.x parser for one TCP connection (see the module documentation).
#[derive(Debug)]
pub struct HttpParser {
    cfg: HttpConfig,
    sides: [Side; 2],
    /// Transactions not emitted yet, in `trans_depth` order; the response side works on
    /// the front, the request side on the back.
    queue: VecDeque<Transaction>,
    /// Finished transactions waiting to be handed to the callback (gap() has none).
    ready: Vec<Transaction>,
    /// Spare transactions whose buffers are reused.
    pool: Vec<Transaction>,
    /// Scratch for obs-folded header values.
    fold: Vec<u8>,
    next_depth: u32,
    anomalies: HttpAnomalies,
    tunnel: bool,
    /// The tunnel was opened by a successful CONNECT (its bytes are another protocol's
    /// stream, TLS most often), not by a 101 protocol switch.
    connect: bool,
    finished: bool,
}

/// Chunk-size line or trailer section over this many bytes is an error (the head limit is
/// used; this is only the floor for tiny configurations).
const MIN_LINE_CAP: usize = 64;

/// Request body bytes kept per transaction for inspection (`Transaction::request_body`):
/// a login or search form and the start of a JSON or XML post fit; Suricata inspects
/// request bodies by default from their first bytes the same way
/// (`request-body-minimal-inspect-size`), with larger windows.
pub const REQUEST_BODY_PREFIX: usize = 2048;

/// Pushes onto a vector of transactions, reserving room for exactly one the first time: most
/// connections hold one transaction at a time, and a `Vec`'s first growth reserves four
/// (about 2 KB for transactions; 15 MB over the live HTTP parsers on the benchmark mix).
fn push_one(v: &mut Vec<Transaction>, tx: Transaction) {
    if v.capacity() == 0 {
        v.reserve_exact(1);
    }
    v.push(tx);
}

/// [`push_one`] for the queue of transactions not emitted yet.
fn queue_one(q: &mut VecDeque<Transaction>, tx: Transaction) {
    if q.capacity() == 0 {
        q.reserve_exact(1);
    }
    q.push_back(tx);
}

impl HttpParser {
    /// A parser for a fresh connection. Allocates nothing until data arrives.
    pub fn new(cfg: HttpConfig) -> Self {
        HttpParser {
            cfg,
            sides: [Side::new(), Side::new()],
            queue: VecDeque::new(),
            ready: Vec::new(),
            pool: Vec::new(),
            fold: Vec::new(),
            next_depth: 0,
            anomalies: HttpAnomalies::default(),
            tunnel: false,
            connect: false,
            finished: false,
        }
    }

    /// Back to a fresh connection, keeping buffer capacity (for pooling parsers). Pending
    /// transactions are dropped without being emitted.
    pub fn reset(&mut self) {
        let spare = self.spare_cap();
        for tx in self.queue.drain(..).chain(self.ready.drain(..)) {
            if self.pool.len() < spare {
                push_one(&mut self.pool, tx);
            }
        }
        for s in &mut self.sides {
            s.reset();
        }
        self.next_depth = 0;
        self.anomalies = HttpAnomalies::default();
        self.tunnel = false;
        self.connect = false;
        self.finished = false;
    }

    /// Anomaly counters since the start of the connection.
    pub fn anomalies(&self) -> &HttpAnomalies {
        &self.anomalies
    }

    /// Bytes held for this connection: partial heads plus the kept fields of transactions
    /// not emitted yet (for a global memory cap). Reused capacity is not counted.
    pub fn buffered_bytes(&self) -> usize {
        self.sides.iter().map(|s| s.head.len()).sum::<usize>()
            + self
                .queue
                .iter()
                .chain(self.ready.iter())
                .map(Transaction::held_bytes)
                .sum::<usize>()
    }

    /// True after a 2xx answer to CONNECT or a 101 Switching Protocols: the parser ignores
    /// all further bytes and the stream may be handed to another analyzer.
    pub fn is_tunnel(&self) -> bool {
        self.tunnel
    }

    /// True when the tunnel was opened by a 2xx answer to CONNECT: both directions then carry
    /// the stream of whatever the client tunnels (TLS most often), starting with the bytes
    /// after the answer's head; see the count [`HttpParser::feed`] returns.
    pub fn is_connect_tunnel(&self) -> bool {
        self.tunnel && self.connect
    }

    fn spare_cap(&self) -> usize {
        self.cfg.max_pending.max(1).saturating_add(2)
    }

    /// Feeds in-order bytes of one direction; `ts` is the time of this chunk. Completed
    /// transactions (and any left over from [`HttpParser::gap`]) go to `out`. Returns the
    /// bytes taken: all of `data`, except when the connection becomes a tunnel within it
    /// (see [`HttpParser::is_tunnel`]), where the bytes after the head that opened it are
    /// left to the caller. A parser already in a tunnel takes nothing.
    pub fn feed(
        &mut self,
        dir: Dir,
        ts: Timestamp,
        data: &[u8],
        out: &mut dyn FnMut(&Transaction),
    ) -> usize {
        self.flush(out);
        let mut rest = data;
        let mut idle = 0u8;
        while !rest.is_empty() && !self.tunnel {
            let n = self.step(dir, ts, rest);
            self.flush(out);
            // Every step consumes bytes or changes the phase; two idle steps in a row at
            // most (Lost -> Head -> Lost). The bound is a guard, not a mechanism.
            if n == 0 {
                idle += 1;
                if idle > 8 {
                    break;
                }
            } else {
                idle = 0;
            }
            rest = rest.get(n..).unwrap_or(&[]);
        }
        data.len() - rest.len()
    }

    /// `len` bytes of direction `dir` are missing (the reassembler saw a hole).
    ///
    /// Inside a body of known length (Content-Length, or chunk data) the missing bytes are
    /// counted as body and parsing goes on; a gap reaching past that body ends it and loses
    /// the direction. In a close-delimited body the bytes are counted. Anywhere else (in or
    /// between heads, in chunk-size lines or trailers) the direction is lost: bytes are
    /// skipped until a line that starts a message (see the module documentation), the
    /// first byte after the gap being taken as a line start. A head cut by the gap after
    /// its start line is kept as the connection's end keeps one (start line and complete
    /// header lines, as Zeek logs a request whose head a gap cut). A transaction finished or
    /// abandoned by a gap is emitted at the start of the next `feed` or `finish`.
    pub fn gap(&mut self, dir: Dir, len: u64) {
        if len == 0 || self.finished || self.tunnel {
            return;
        }
        self.anomalies.gaps += 1;
        let i = dir.index();
        match self.sides[i].phase {
            Phase::Body { left } => {
                let n = left.min(len);
                self.add_body(dir, n);
                if len < left {
                    self.sides[i].phase = Phase::Body { left: left - len };
                } else {
                    self.complete(dir);
                    if len > left {
                        self.lose(dir, true);
                    }
                }
            }
            Phase::ChunkData { left } => {
                let n = left.min(len);
                self.add_body(dir, n);
                if len < left {
                    self.sides[i].phase = Phase::ChunkData { left: left - len };
                } else if len == left {
                    self.sides[i].phase = Phase::ChunkEnd { cr: false };
                } else {
                    self.lose(dir, true);
                }
            }
            Phase::UntilClose => self.add_body(dir, len),
            Phase::Lost { .. } => self.sides[i].phase = Phase::Lost { line_start: true },
            Phase::Head
            | Phase::ChunkSize { .. }
            | Phase::ChunkEnd { .. }
            | Phase::Trailer { .. } => {
                self.cut_half_head(dir);
                if self.sides[i].strict {
                    self.sides[i].await_head();
                    self.sides[i].phase = Phase::Lost { line_start: true };
                } else {
                    self.lose(dir, true);
                }
            }
            Phase::Tunnel | Phase::Done => {}
        }
    }

    /// The connection ended (`ts` is its end time; unused so far). A close-delimited
    /// response body ends here (complete); a response head or body cut short is emitted
    /// incomplete; a request head whose start line was complete becomes a transaction; then
    /// every queued transaction is emitted in order. Later calls do nothing until
    /// [`HttpParser::reset`].
    pub fn finish(&mut self, _ts: Timestamp, out: &mut dyn FnMut(&Transaction)) {
        self.flush(out);
        if self.finished {
            return;
        }
        if !self.tunnel {
            self.finish_half_head(Dir::ToServer);
            match self.sides[Dir::ToClient.index()].phase {
                Phase::UntilClose => self.complete(Dir::ToClient),
                Phase::Head => {
                    self.finish_half_head(Dir::ToClient);
                }
                Phase::Body { .. }
                | Phase::ChunkSize { .. }
                | Phase::ChunkData { .. }
                | Phase::ChunkEnd { .. }
                | Phase::Trailer { .. } => {
                    let depth = std::mem::replace(&mut self.sides[1].depth, 0);
                    if let Some(tx) = self.take_tx(depth) {
                        push_one(&mut self.ready, tx);
                    }
                }
                Phase::Lost { .. } | Phase::Tunnel | Phase::Done => {}
            }
        }
        while let Some(tx) = self.queue.pop_front() {
            push_one(&mut self.ready, tx);
        }
        self.flush(out);
        self.finished = true;
        for s in &mut self.sides {
            s.await_head();
            s.phase = Phase::Done;
            s.depth = 0;
        }
    }

    /// A head cut by a gap: kept as at the end of the connection (its start line and
    /// complete header lines; see [`Self::finish_half_head`]). A request then waits for its
    /// response as usual; a response's transaction is emitted at once, incomplete, since
    /// nothing after the gap can be its body.
    fn cut_half_head(&mut self, dir: Dir) {
        if !self.finish_half_head(dir) {
            return;
        }
        if dir == Dir::ToClient && self.queue.front().is_some_and(|t| t.status.is_some()) {
            if let Some(tx) = self.queue.pop_front() {
                push_one(&mut self.ready, tx);
            }
        }
    }

    /// A head cut by the end of the connection: used when its start line was complete,
    /// with its complete header lines only; no body framing. Returns whether there was
    /// such a head.
    fn finish_half_head(&mut self, dir: Dir) -> bool {
        let i = dir.index();
        let s = &mut self.sides[i];
        if s.phase != Phase::Head || !s.first_line_done || s.head.is_empty() {
            return false;
        }
        let mut head = std::mem::take(&mut s.head);
        let keep = head.iter().rposition(|&b| b == b'\n').map_or(0, |p| p + 1);
        head.truncate(keep);
        self.on_head(dir, &head, false);
        head.clear();
        self.sides[i].head = head;
        self.sides[i].await_head();
        true
    }

    fn flush(&mut self, out: &mut dyn FnMut(&Transaction)) {
        let spare = self.spare_cap();
        let pool = &mut self.pool;
        for mut tx in self.ready.drain(..) {
            out(&tx);
            if pool.len() < spare {
                tx.clear();
                push_one(pool, tx);
            }
        }
    }

    /// One step of direction `dir` over `data` (non-empty): returns the bytes consumed.
    fn step(&mut self, dir: Dir, ts: Timestamp, data: &[u8]) -> usize {
        let i = dir.index();
        let avail = data.len() as u64;
        match self.sides[i].phase {
            Phase::Head => self.step_head(dir, ts, data),
            Phase::Body { left } => {
                let n = left.min(avail);
                self.add_body(dir, n);
                self.keep_body(dir, &data[..usize::try_from(n).unwrap_or(data.len())]);
                if n == left {
                    self.complete(dir);
                } else {
                    self.sides[i].phase = Phase::Body { left: left - n };
                }
                usize::try_from(n).unwrap_or(data.len())
            }
            Phase::ChunkData { left } => {
                let n = left.min(avail);
                self.add_body(dir, n);
                self.keep_body(dir, &data[..usize::try_from(n).unwrap_or(data.len())]);
                self.sides[i].phase = if n == left {
                    Phase::ChunkEnd { cr: false }
                } else {
                    Phase::ChunkData { left: left - n }
                };
                usize::try_from(n).unwrap_or(data.len())
            }
            Phase::ChunkSize { st, size, len } => self.step_chunk_size(dir, data, st, size, len),
            Phase::ChunkEnd { cr } => match (data.first(), cr) {
                (Some(b'\r'), false) => {
                    self.sides[i].phase = Phase::ChunkEnd { cr: true };
                    1
                }
                (Some(b'\n'), _) => {
                    self.sides[i].phase = Phase::ChunkSize {
                        st: ChunkLine::Start,
                        size: 0,
                        len: 0,
                    };
                    1
                }
                _ => {
                    self.anomalies.bad_chunk += 1;
                    self.lose(dir, false);
                    0
                }
            },
            Phase::Trailer {
                line,
                first_cr,
                total,
            } => self.step_trailer(dir, data, line, first_cr, total),
            Phase::UntilClose => {
                self.add_body(dir, avail);
                self.keep_body(dir, data);
                data.len()
            }
            Phase::Lost { line_start: true } => {
                let s = &mut self.sides[i];
                s.await_head();
                s.strict = true;
                0
            }
            Phase::Lost { line_start: false } => match data.iter().position(|&b| b == b'\n') {
                Some(p) => {
                    self.sides[i].phase = Phase::Lost { line_start: true };
                    p + 1
                }
                None => data.len(),
            },
            Phase::Tunnel | Phase::Done => data.len(),
        }
    }

    fn line_cap(&self) -> usize {
        self.cfg.max_head_bytes.max(MIN_LINE_CAP)
    }

    fn step_chunk_size(
        &mut self,
        dir: Dir,
        data: &[u8],
        mut st: ChunkLine,
        mut size: u64,
        mut len: usize,
    ) -> usize {
        let cap = self.line_cap();
        for (k, &b) in data.iter().enumerate() {
            len += 1;
            let next = if len > cap {
                None
            } else {
                match (st, b) {
                    (ChunkLine::Start | ChunkLine::Hex, _) if b.is_ascii_hexdigit() => {
                        let d = u64::from(char::from(b).to_digit(16).unwrap_or(0));
                        match size.checked_mul(16).and_then(|v| v.checked_add(d)) {
                            Some(v) => {
                                size = v;
                                Some(ChunkLine::Hex)
                            }
                            None => None,
                        }
                    }
                    (ChunkLine::Hex | ChunkLine::Ws, b' ' | b'\t') => Some(ChunkLine::Ws),
                    (ChunkLine::Hex | ChunkLine::Ws, b';') => Some(ChunkLine::Ext),
                    (ChunkLine::Hex | ChunkLine::Ws | ChunkLine::Ext, b'\r') => Some(ChunkLine::Cr),
                    (ChunkLine::Hex | ChunkLine::Ws | ChunkLine::Ext | ChunkLine::Cr, b'\n') => {
                        self.sides[dir.index()].phase = if size == 0 {
                            Phase::Trailer {
                                line: 0,
                                first_cr: false,
                                total: 0,
                            }
                        } else {
                            Phase::ChunkData { left: size }
                        };
                        return k + 1;
                    }
                    (ChunkLine::Ext, _) => Some(ChunkLine::Ext),
                    _ => None,
                }
            };
            match next {
                Some(n) => st = n,
                None => {
                    if len > cap {
                        self.anomalies.header_too_long += 1;
                    }
                    self.anomalies.bad_chunk += 1;
                    self.lose(dir, false);
                    return k;
                }
            }
        }
        self.sides[dir.index()].phase = Phase::ChunkSize { st, size, len };
        data.len()
    }

    fn step_trailer(
        &mut self,
        dir: Dir,
        data: &[u8],
        mut line: usize,
        mut first_cr: bool,
        mut total: usize,
    ) -> usize {
        let cap = self.line_cap();
        for (k, &b) in data.iter().enumerate() {
            total += 1;
            if total > cap {
                self.anomalies.header_too_long += 1;
                self.lose(dir, false);
                return k;
            }
            if b == b'\n' {
                if line == 0 || (line == 1 && first_cr) {
                    self.complete(dir);
                    return k + 1;
                }
                line = 0;
            } else {
                if line == 0 {
                    first_cr = b == b'\r';
                }
                line += 1;
            }
        }
        self.sides[dir.index()].phase = Phase::Trailer {
            line,
            first_cr,
            total,
        };
        data.len()
    }

    /// Gathers a head: empty lines before it are skipped, its first line is checked as
    /// soon as possible, and it is parsed once the empty line ending it is seen (from
    /// `data` itself when nothing was buffered, else from the head buffer).
    fn step_head(&mut self, dir: Dir, ts: Timestamp, data: &[u8]) -> usize {
        let request = dir == Dir::ToServer;
        let max_head = self.cfg.max_head_bytes;
        let i = dir.index();
        let s = &mut self.sides[i];
        let mut skip = 0;
        if s.head.is_empty() {
            skip = data
                .iter()
                .take_while(|&&b| b == b'\r' || b == b'\n')
                .count();
            if skip == data.len() {
                return skip;
            }
            s.msg_ts = ts;
            s.first_line_done = false;
        }
        let data = data.get(skip..).unwrap_or(&[]);
        let strict = s.strict;
        let old = s.head.len();
        let room = max_head.saturating_sub(old);
        let win = data.get(..room.min(data.len())).unwrap_or(data);
        // Bytes of `data` already appended to the head buffer (only when old > 0).
        let mut copied = 0usize;
        let mut pos = 0usize;
        while let Some(off) = win
            .get(pos..)
            .and_then(|w| w.iter().position(|&b| b == b'\n'))
        {
            let at = pos + off;
            pos = at + 1;
            let s = &mut self.sides[i];
            if !s.first_line_done {
                let ok = if old == 0 {
                    start_line_ok(
                        request,
                        strict,
                        head::strip_cr(win.get(..at).unwrap_or(&[])),
                    )
                } else {
                    s.head
                        .extend_from_slice(win.get(copied..pos).unwrap_or(&[]));
                    copied = pos;
                    let line = s.head.get(..s.head.len().saturating_sub(1)).unwrap_or(&[]);
                    start_line_ok(request, strict, head::strip_cr(line))
                };
                if !ok {
                    self.reject_start(dir, true);
                    return skip + pos;
                }
                s.first_line_done = true;
                continue;
            }
            // Byte `k` places before this LF, in the virtual concatenation head ++ data.
            let before = |k: usize| -> Option<u8> {
                if at >= k {
                    win.get(at - k).copied()
                } else {
                    s.head.get((old + at).checked_sub(k)?).copied()
                }
            };
            let end =
                before(1) == Some(b'\n') || (before(1) == Some(b'\r') && before(2) == Some(b'\n'));
            if end {
                if old == 0 {
                    self.on_head(dir, win.get(..pos).unwrap_or(&[]), true);
                } else {
                    let s = &mut self.sides[i];
                    s.head
                        .extend_from_slice(win.get(copied..pos).unwrap_or(&[]));
                    let buf = std::mem::take(&mut s.head);
                    self.on_head(dir, &buf, true);
                    let mut buf = buf;
                    buf.clear();
                    self.sides[i].head = buf;
                }
                return skip + pos;
            }
        }
        let s = &mut self.sides[i];
        if !s.first_line_done && !start_prefix_ok(request, strict, &s.head, win) {
            self.reject_start(dir, false);
            return skip;
        }
        if win.len() == room {
            if !strict {
                self.anomalies.header_too_long += 1;
            }
            self.lose(dir, false);
            return skip + room;
        }
        s.head.extend_from_slice(win.get(copied..).unwrap_or(&[]));
        skip + data.len()
    }

    /// A start line failed its test: count it (unless resynchronising) and skip.
    fn reject_start(&mut self, dir: Dir, line_start: bool) {
        if self.sides[dir.index()].strict {
            let s = &mut self.sides[dir.index()];
            s.await_head();
            s.phase = Phase::Lost { line_start };
            return;
        }
        match dir {
            Dir::ToServer => self.anomalies.bad_request_line += 1,
            Dir::ToClient => self.anomalies.bad_status_line += 1,
        }
        self.lose(dir, line_start);
    }

    /// The direction loses sync: skip to a message start. A response in progress is
    /// emitted incomplete.
    fn lose(&mut self, dir: Dir, line_start: bool) {
        let s = &mut self.sides[dir.index()];
        let was_strict = s.strict;
        s.await_head();
        s.phase = Phase::Lost { line_start };
        let depth = std::mem::replace(&mut s.depth, 0);
        if !was_strict {
            self.anomalies.lost_sync += 1;
        }
        if dir == Dir::ToClient {
            if let Some(tx) = self.take_tx(depth) {
                push_one(&mut self.ready, tx);
            }
        }
    }

    /// The message of `dir` ended: a request is marked complete, a response completes
    /// (and emits) its transaction.
    fn complete(&mut self, dir: Dir) {
        let s = &mut self.sides[dir.index()];
        s.await_head();
        let depth = std::mem::replace(&mut s.depth, 0);
        match dir {
            Dir::ToServer => {
                if let Some(tx) = self.find_tx(depth) {
                    tx.request_complete = true;
                }
            }
            Dir::ToClient => {
                if let Some(mut tx) = self.take_tx(depth) {
                    tx.response_complete = true;
                    push_one(&mut self.ready, tx);
                }
            }
        }
    }

    fn find_tx(&mut self, depth: u32) -> Option<&mut Transaction> {
        if depth == 0 {
            return None;
        }
        self.queue.iter_mut().find(|t| t.trans_depth == depth)
    }

    fn take_tx(&mut self, depth: u32) -> Option<Transaction> {
        if depth == 0 {
            return None;
        }
        let p = self.queue.iter().position(|t| t.trans_depth == depth)?;
        self.queue.remove(p)
    }

    fn add_body(&mut self, dir: Dir, n: u64) {
        let depth = self.sides[dir.index()].depth;
        if let Some(tx) = self.find_tx(depth) {
            match dir {
                Dir::ToServer => tx.request_body_len = tx.request_body_len.saturating_add(n),
                Dir::ToClient => tx.response_body_len = tx.response_body_len.saturating_add(n),
            }
        }
    }

    /// Keeps the start of a request body (capacity reused: no allocation once warm).
    fn keep_body(&mut self, dir: Dir, data: &[u8]) {
        if dir != Dir::ToServer {
            return;
        }
        let depth = self.sides[dir.index()].depth;
        if let Some(tx) = self.find_tx(depth) {
            let room = REQUEST_BODY_PREFIX.saturating_sub(tx.request_body.len());
            let take = room.min(data.len());
            tx.request_body.extend_from_slice(&data[..take]);
        }
    }

    fn new_tx(&mut self) -> Transaction {
        let mut tx = self.pool.pop().unwrap_or_default();
        tx.clear();
        self.next_depth = self.next_depth.saturating_add(1);
        tx.trans_depth = self.next_depth;
        tx
    }

    /// A head is complete (`complete`) or cut by the end of the connection. The first line
    /// was checked already.
    fn on_head(&mut self, dir: Dir, head: &[u8], complete: bool) {
        let (first, block) = head::split_line(head);
        let s = &mut self.sides[dir.index()];
        if s.strict {
            s.strict = false;
            self.anomalies.resync += 1;
        }
        let ts = s.msg_ts;
        match dir {
            Dir::ToServer => self.on_request(first, block, ts, complete),
            Dir::ToClient => self.on_response(first, block, ts, complete),
        }
    }

    fn on_request(&mut self, first: &[u8], block: &[u8], ts: Timestamp, complete: bool) {
        let Some(rl) = parse_request_line(first) else {
            self.anomalies.bad_request_line += 1;
            if complete {
                self.lose(Dir::ToServer, true);
            }
            return;
        };
        if rl.version.is_empty() {
            self.anomalies.missing_version += 1;
        }
        let cap = self.cfg.max_pending.max(1);
        while self.queue.len() >= cap {
            let Some(old) = self.queue.pop_front() else {
                break;
            };
            self.anomalies.pending_overflow += 1;
            push_one(&mut self.ready, old);
        }
        let mut tx = self.new_tx();
        tx.request_ts = Some(ts);
        let HttpConfig {
            max_head_bytes,
            max_uri,
            max_field,
            ..
        } = self.cfg;
        let a = &mut self.anomalies;
        let mut trunc = 0u64;
        keep(&mut tx.method, rl.method, max_field, &mut trunc);
        keep(&mut tx.uri, rl.uri, max_uri, &mut trunc);
        keep(&mut tx.version, rl.version, max_field, &mut trunc);
        let mut cl = ContentLength::Absent;
        let mut te = TransferEncoding::default();
        let mut seen = 0u8;
        let mut bad_lines = 0u64;
        let mut bad_auth = 0u64;
        for_each_field(
            block,
            &mut self.fold,
            max_head_bytes,
            &mut || bad_lines += 1,
            &mut |name, value| {
                let (bit, dst) = match name.len() {
                    4 if name.eq_ignore_ascii_case(b"host") => (1, &mut tx.host),
                    10 if name.eq_ignore_ascii_case(b"user-agent") => (2, &mut tx.user_agent),
                    7 if name.eq_ignore_ascii_case(b"referer") => (4, &mut tx.referer),
                    6 if name.eq_ignore_ascii_case(b"origin") => (8, &mut tx.origin),
                    12 if name.eq_ignore_ascii_case(b"content-type") => {
                        (16, &mut tx.request_content_type)
                    }
                    13 if name.eq_ignore_ascii_case(b"authorization") => {
                        if seen & 32 == 0 {
                            seen |= 32;
                            if basic_username(value, &mut tx.username, max_field)
                                == Credentials::Invalid
                            {
                                bad_auth += 1;
                            }
                        }
                        return;
                    }
                    14 if name.eq_ignore_ascii_case(b"content-length") => {
                        cl.add(value);
                        return;
                    }
                    17 if name.eq_ignore_ascii_case(b"transfer-encoding") => {
                        te.add(value);
                        return;
                    }
                    _ => return,
                };
                // The first occurrence of a repeated field is kept.
                if seen & bit == 0 {
                    seen |= bit;
                    keep(dst, value, max_field, &mut trunc);
                }
            },
        );
        a.truncated_field += trunc;
        a.bad_header_line += bad_lines;
        a.bad_authorization += bad_auth;
        tx.request_content_length = cl.value();
        let depth = tx.trans_depth;
        if !complete {
            queue_one(&mut self.queue, tx);
            return;
        }
        let framing = if te.seen {
            if cl != ContentLength::Absent {
                a.te_and_cl += 1;
            }
            if te.chunked_last {
                Framing::Chunked
            } else {
                // RFC 9112 §6.3 item 4: a request's length cannot be determined.
                a.bad_transfer_encoding += 1;
                Framing::Unknown
            }
        } else {
            match cl {
                ContentLength::Absent | ContentLength::Value(0) => Framing::None,
                ContentLength::Value(n) => Framing::Length(n),
                ContentLength::Invalid => {
                    a.bad_content_length += 1;
                    Framing::Unknown
                }
            }
        };
        queue_one(&mut self.queue, tx);
        self.sides[Dir::ToServer.index()].depth = depth;
        self.start_body(Dir::ToServer, framing);
    }

    fn on_response(&mut self, first: &[u8], block: &[u8], ts: Timestamp, complete: bool) {
        let Some(sl) = parse_status_line(first) else {
            self.anomalies.bad_status_line += 1;
            if complete {
                self.lose(Dir::ToClient, true);
            }
            return;
        };
        if self.queue.is_empty() {
            self.anomalies.response_without_request += 1;
            let tx = self.new_tx();
            queue_one(&mut self.queue, tx);
        }
        let HttpConfig {
            max_head_bytes,
            max_field,
            ..
        } = self.cfg;
        let Some(tx) = self.queue.front_mut() else {
            return;
        };
        let a = &mut self.anomalies;
        let mut trunc = 0u64;
        tx.response_ts.get_or_insert(ts);
        let code = sl.code;
        if (100..200).contains(&code) {
            tx.info_code = Some(code);
            keep(&mut tx.info_msg, sl.reason, max_field, &mut trunc);
            if code != 101 {
                // Interim: the final response is still to come (RFC 9110 §15.2).
                a.truncated_field += trunc;
                return;
            }
        }
        tx.status = Some(code);
        keep(&mut tx.status_msg, sl.reason, max_field, &mut trunc);
        keep(&mut tx.response_version, sl.version, max_field, &mut trunc);
        let mut cl = ContentLength::Absent;
        let mut te = TransferEncoding::default();
        let mut seen = 0u8;
        let mut bad_lines = 0u64;
        for_each_field(
            block,
            &mut self.fold,
            max_head_bytes,
            &mut || bad_lines += 1,
            &mut |name, value| {
                let (bit, dst) = match name.len() {
                    12 if name.eq_ignore_ascii_case(b"content-type") => {
                        (1, &mut tx.response_content_type)
                    }
                    8 if name.eq_ignore_ascii_case(b"location") => (2, &mut tx.location),
                    14 if name.eq_ignore_ascii_case(b"content-length") => {
                        cl.add(value);
                        return;
                    }
                    17 if name.eq_ignore_ascii_case(b"transfer-encoding") => {
                        te.add(value);
                        return;
                    }
                    _ => return,
                };
                if seen & bit == 0 {
                    seen |= bit;
                    keep(dst, value, max_field, &mut trunc);
                }
            },
        );
        a.truncated_field += trunc;
        a.bad_header_line += bad_lines;
        tx.response_content_length = cl.value();
        if !complete {
            return;
        }
        let depth = tx.trans_depth;
        let connect_ok = tx.method == b"CONNECT" && (200..300).contains(&code);
        let no_body = tx.method == b"HEAD" || code == 204 || code == 304;
        self.sides[Dir::ToClient.index()].depth = depth;
        if code == 101 || connect_ok {
            self.complete(Dir::ToClient);
            self.tunnel = true;
            self.connect = connect_ok;
            for s in &mut self.sides {
                s.await_head();
                s.phase = Phase::Tunnel;
                s.depth = 0;
            }
            return;
        }
        let framing = if no_body {
            Framing::None
        } else if te.seen {
            if cl != ContentLength::Absent {
                a.te_and_cl += 1;
            }
            if te.chunked_last {
                Framing::Chunked
            } else {
                Framing::UntilClose
            }
        } else {
            match cl {
                ContentLength::Value(0) => Framing::None,
                ContentLength::Value(n) => Framing::Length(n),
                ContentLength::Absent => Framing::UntilClose,
                ContentLength::Invalid => {
                    a.bad_content_length += 1;
                    Framing::Unknown
                }
            }
        };
        self.start_body(Dir::ToClient, framing);
    }

    /// Sets the phase after a complete head whose transaction is the side's `depth`.
    fn start_body(&mut self, dir: Dir, framing: Framing) {
        let s = &mut self.sides[dir.index()];
        s.await_head();
        match framing {
            Framing::None => self.complete(dir),
            Framing::Length(n) => s.phase = Phase::Body { left: n },
            Framing::Chunked => {
                s.phase = Phase::ChunkSize {
                    st: ChunkLine::Start,
                    size: 0,
                    len: 0,
                }
            }
            Framing::UntilClose => s.phase = Phase::UntilClose,
            Framing::Unknown => self.lose(dir, true),
        }
    }
}

/// `set_bounded`, counting a cut.
fn keep(dst: &mut Vec<u8>, src: &[u8], cap: usize, trunc: &mut u64) {
    if set_bounded(dst, src, cap) {
        *trunc += 1;
    }
}
