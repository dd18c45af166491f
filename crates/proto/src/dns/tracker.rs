//! Query/response pairing within one flow.

use wirescope_core::Timestamp;

use super::{Message, NameBuf, NameStyle};

/// Default number of outstanding queries a [`Tracker`] keeps per flow.
pub const DEFAULT_TRACKER_CAPACITY: usize = 16;

/// Bytes of a pending query's name kept: every ordinary name (at most 253 characters), and
/// the first 256 bytes of a longer presentation (escaped binary labels).
pub const PENDING_NAME_CAP: usize = 256;

/// A pending query's name in presentation form, cut to [`PENDING_NAME_CAP`] bytes (at a
/// character boundary). A quarter of a [`NameBuf`]: trackers reserve room for all their
/// pending queries up front, and at 1 KiB a name that cost 45 MB over the live DNS flows of
/// the 5 M-packet benchmark mix.
#[derive(Clone, Copy, PartialEq, Eq)]
pub struct PendingName {
    buf: [u8; PENDING_NAME_CAP],
    len: u16,
    truncated: bool,
}

impl PendingName {
    pub const EMPTY: PendingName = PendingName {
        buf: [0; PENDING_NAME_CAP],
        len: 0,
        truncated: false,
    };

    /// Keeps `name`, or its first [`PENDING_NAME_CAP`] bytes.
    pub fn set(&mut self, name: &str) {
        let mut n = name.len().min(PENDING_NAME_CAP);
        while !name.is_char_boundary(n) {
            n -= 1;
        }
        self.buf[..n].copy_from_slice(&name.as_bytes()[..n]);
        self.len = n as u16;
        self.truncated = n < name.len();
    }

    pub fn as_bytes(&self) -> &[u8] {
        &self.buf[..usize::from(self.len)]
    }

    /// The name (or its kept prefix) as text.
    pub fn as_str(&self) -> &str {
        std::str::from_utf8(self.as_bytes()).unwrap_or("")
    }

    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    /// Whether the name was longer than [`PENDING_NAME_CAP`] bytes and only its prefix kept.
    pub fn is_truncated(&self) -> bool {
        self.truncated
    }

    /// Whether `name` is this one (ASCII case-insensitively; for a cut name, its prefix).
    pub fn matches(&self, name: &[u8]) -> bool {
        let mine = self.as_bytes();
        if self.truncated {
            name.len() > mine.len() && name[..mine.len()].eq_ignore_ascii_case(mine)
        } else {
            name.eq_ignore_ascii_case(mine)
        }
    }
}

impl std::fmt::Debug for PendingName {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{:?}", self.as_str())?;
        if self.truncated {
            f.write_str("…")?;
        }
        Ok(())
    }
}

/// A query waiting for its response.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PendingQuery {
    pub id: u16,
    /// When the query was seen; a response's round-trip time is `resp_ts.since(q.ts)`.
    pub ts: Timestamp,
    /// The first question's name in the tracker's style (empty if the query had no
    /// question or the name could not be decoded), cut to [`PENDING_NAME_CAP`] bytes.
    pub qname: PendingName,
    pub qtype: u16,
    pub qclass: u16,
    /// The query's header flags.
    pub flags: u16,
    /// Whether the query had a (decodable) first question.
    pub has_question: bool,
}

/// Pairs queries with responses in one flow by transaction id and, when both carry one, the
/// first question (name compared ASCII case-insensitively, and type).
///
/// Holds at most `capacity` pending queries ([`DEFAULT_TRACKER_CAPACITY`] by default) in a
/// `Vec` reserved for all of them at creation (about 300 bytes each, for the
/// [`PendingName`]) and reused. When a query arrives while full, the oldest pending query is
/// dropped and counted in [`Tracker::dropped`]. Retransmitted queries (same id and
/// question) are kept as separate entries; a response answers the oldest match, so the
/// round-trip time is measured from the first transmission.
#[derive(Debug)]
pub struct Tracker {
    pending: Vec<PendingQuery>,
    capacity: usize,
    style: NameStyle,
    dropped: u64,
    unmatched: u64,
}

impl Default for Tracker {
    fn default() -> Self {
        Self::new()
    }
}

impl Tracker {
    /// [`DEFAULT_TRACKER_CAPACITY`], names in [`NameStyle::Escaped`].
    pub fn new() -> Self {
        Self::with_capacity(DEFAULT_TRACKER_CAPACITY, NameStyle::Escaped)
    }

    /// At most `capacity` (at least 1) pending queries, names written in `style`. The storage
    /// for all of them (about 300 bytes each) is reserved here, so a tracker never grows later.
    pub fn with_capacity(capacity: usize, style: NameStyle) -> Self {
        Tracker {
            pending: Vec::with_capacity(capacity.max(1)),
            capacity: capacity.max(1),
            style,
            dropped: 0,
            unmatched: 0,
        }
    }

    /// Records a query (call for messages with QR = 0).
    pub fn on_query(&mut self, m: &Message<'_>, ts: Timestamp) {
        if self.pending.len() >= self.capacity {
            self.pending.remove(0);
            self.dropped += 1;
        }
        let mut q = PendingQuery {
            id: m.header().id,
            ts,
            qname: PendingName::EMPTY,
            qtype: 0,
            qclass: 0,
            flags: m.header().flags,
            has_question: false,
        };
        if let Some(first) = m.first_question() {
            q.qtype = first.qtype;
            q.qclass = first.qclass;
            let mut name = NameBuf::with_style(self.style);
            q.has_question = first.name.write_to(&mut name).is_ok();
            q.qname.set(name.as_str());
        }
        self.pending.push(q);
    }

    /// Finds and removes the query a response (QR = 1) answers; `None` (and counted in
    /// [`Tracker::unmatched`]) if there is none.
    pub fn on_response(&mut self, m: &Message<'_>, _ts: Timestamp) -> Option<PendingQuery> {
        let id = m.header().id;
        let mut name = NameBuf::with_style(self.style);
        let question = m
            .first_question()
            .filter(|q| q.name.write_to(&mut name).is_ok());
        let idx = self.pending.iter().position(|p| {
            p.id == id
                && match (&question, p.has_question) {
                    (Some(q), true) => q.qtype == p.qtype && p.qname.matches(name.as_bytes()),
                    _ => true,
                }
        });
        match idx {
            Some(i) => Some(self.pending.remove(i)),
            None => {
                self.unmatched += 1;
                None
            }
        }
    }

    /// Hands out every unanswered query, oldest first, and forgets them (for the end of the
    /// flow).
    pub fn drain(&mut self, out: &mut dyn FnMut(&PendingQuery)) {
        for q in &self.pending {
            out(q);
        }
        self.pending.clear();
    }

    /// Queries currently waiting.
    pub fn pending(&self) -> usize {
        self.pending.len()
    }

    /// Queries dropped because the tracker was full.
    pub fn dropped(&self) -> u64 {
        self.dropped
    }

    /// Responses that matched no pending query.
    pub fn unmatched(&self) -> u64 {
        self.unmatched
    }
}
