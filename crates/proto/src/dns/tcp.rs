//! DNS over TCP framing (RFC 1035 §4.2.2, RFC 7766 §8): each message is preceded by a
//! two-octet big-endian length.

/// Most octets a [`TcpFramer`] ever buffers: one maximal message and its length prefix.
pub const TCP_MAX_BUFFER: usize = 65535 + 2;

/// Splits one direction of a DNS-over-TCP stream into messages, across arbitrary segment
/// boundaries.
///
/// A message that lies entirely within one [`TcpFramer::feed`] call is handed out borrowed
/// from that call's data; one that spans calls is collected in an internal buffer, sized for
/// the message at hand (at most [`TCP_MAX_BUFFER`] octets) and reused, so that a flow that
/// only ever sees small messages holds a small buffer. A length prefix of 0 yields an empty
/// message (which [`super::parse`] rejects as too short).
#[derive(Debug, Default)]
pub struct TcpFramer {
    /// Partial message: its length prefix (once complete) and body so far.
    buf: Vec<u8>,
    messages: u64,
    gaps: u64,
}

impl TcpFramer {
    pub fn new() -> Self {
        Self::default()
    }

    /// Feeds the next in-order stream octets; calls `out` once per complete message (the
    /// message without its length prefix).
    pub fn feed(&mut self, mut data: &[u8], out: &mut dyn FnMut(&[u8])) {
        // Finish a message started in an earlier call.
        if !self.buf.is_empty() {
            if self.buf.len() < 2 {
                let take = (2 - self.buf.len()).min(data.len());
                self.buf.extend_from_slice(data.get(..take).unwrap_or(&[]));
                data = data.get(take..).unwrap_or(&[]);
                if self.buf.len() < 2 {
                    return;
                }
            }
            let want = 2 + prefix_len(&self.buf);
            // Exact, so that the buffer never exceeds TCP_MAX_BUFFER.
            self.buf.reserve_exact(want - self.buf.len());
            let take = (want - self.buf.len()).min(data.len());
            self.buf.extend_from_slice(data.get(..take).unwrap_or(&[]));
            data = data.get(take..).unwrap_or(&[]);
            if self.buf.len() < want {
                return;
            }
            self.messages += 1;
            out(self.buf.get(2..).unwrap_or(&[]));
            self.buf.clear();
        }
        // Whole messages straight from `data`; every round consumes at least 2 octets.
        while data.len() >= 2 {
            let end = 2 + prefix_len(data);
            match data.get(2..end) {
                Some(msg) => {
                    self.messages += 1;
                    out(msg);
                    data = data.get(end..).unwrap_or(&[]);
                }
                None => break,
            }
        }
        if !data.is_empty() {
            // Fewer than one whole message: at most TCP_MAX_BUFFER - 1 octets.
            let want = if data.len() >= 2 {
                2 + prefix_len(data)
            } else {
                data.len()
            };
            self.buf.reserve_exact(want);
            self.buf.extend_from_slice(data);
        }
    }

    /// Octets were lost: drops the partial message. The next [`TcpFramer::feed`] is taken
    /// to start at a message boundary (with a length prefix), which holds when the lost
    /// octets were whole messages; otherwise the following "messages" are garbage that
    /// [`super::parse`] will mostly reject, until [`TcpFramer::reset`].
    pub fn gap(&mut self) {
        self.buf.clear();
        self.gaps += 1;
    }

    /// Octets held for an incomplete message.
    pub fn buffered(&self) -> usize {
        self.buf.len()
    }

    /// Bytes allocated for the internal buffer (for memory accounting; at most
    /// [`TCP_MAX_BUFFER`]).
    pub fn buffer_capacity(&self) -> usize {
        self.buf.capacity()
    }

    /// Forgets any partial message and the counters (keeps the buffer's allocation).
    pub fn reset(&mut self) {
        self.buf.clear();
        self.messages = 0;
        self.gaps = 0;
    }

    /// Messages delivered so far.
    pub fn messages(&self) -> u64 {
        self.messages
    }

    /// Gaps reported so far.
    pub fn gaps(&self) -> u64 {
        self.gaps
    }
}

fn prefix_len(b: &[u8]) -> usize {
    match b {
        [hi, lo, ..] => usize::from(u16::from_be_bytes([*hi, *lo])),
        _ => 0,
    }
}
