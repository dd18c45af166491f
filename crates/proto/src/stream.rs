//! Bounded TCP stream reassembly, one [`HalfStream`] per flow direction.
//!
//! Method. Sequence numbers are turned into 64-bit offsets relative to the stream start (the
//! SYN's sequence number + 1, or the first data segment's when the connection was picked up
//! mid-stream), by the signed 32-bit distance from the next expected byte, so wrap-around is
//! handled. In-order data is handed to the consumer straight from the packet (no copy);
//! out-of-order segments are copied into a bounded list and released as soon as the hole before
//! them fills.
//!
//! Overlaps. The first copy of a byte wins (Suricata's and Zeek's default policy for the
//! common targets). An overlapping byte that differs from the first copy is counted in
//! [`HalfStats::overlap_mismatch_bytes`] — the signature of a TCP evasion or a broken stack.
//! Overlaps with buffered (not yet delivered) data are always compared. Data already delivered
//! is compared over the last [`StreamConfig::retain`] bytes, which a stream keeps only once it
//! has shown a retransmission or reordering: a clean stream costs no copy and no memory (at
//! 262 144 flows, 4 KiB per direction would be 2 GiB), at the price that the very first
//! retransmission of a stream, if it only covers delivered data, is counted but not compared.
//!
//! Gaps. Bytes that were sent but never captured are declared missing (a [`Chunk::Gap`], and
//! Zeek's `missed_bytes`) when (1) the peer acknowledges data beyond what we have, (2) the
//! out-of-order buffer exceeds its caps, or (3) the flow ends with holes. Consumers resynchronise
//! or stop at a gap.
//!
//! Bounds (defaults in [`StreamConfig::default`]): per-direction depth (bytes handed to parsers,
//! 1 MiB as Suricata's `stream.reassembly.depth`), per-direction out-of-order bytes (256 KiB)
//! and segments (64), and a global out-of-order byte budget shared by all streams
//! ([`Budget`], 64 MiB). When a cap is hit, the hole before the first buffered segment is
//! declared a gap so the buffer drains; nothing waits forever.
//!
//! Keep-alive probes. A connection picked up mid-stream (no SYN seen) whose first data segment
//! is a single zero byte starts after that byte: it is a keep-alive probe, one byte below the
//! sender's next sequence number, already acknowledged. (Real one-byte data of 0x00 as the very
//! first segment seen of a picked-up connection loses that byte.) On a started stream a probe
//! is old data, like any retransmission.
//!
//! Not handled: urgent data, SACK-based gap inference, and segments that arrive before the
//! stream start when the handshake was not seen (they are old data to us).

/// Reassembly limits.
#[derive(Clone, Copy, Debug)]
pub struct StreamConfig {
    /// Most bytes (data plus gaps) delivered per direction; the rest is ignored.
    pub depth: u64,
    /// Most out-of-order bytes held per direction.
    pub max_buffered: usize,
    /// Most out-of-order segments held per direction.
    pub max_segments: usize,
    /// Delivered bytes kept per direction to compare retransmissions against.
    pub retain: usize,
    /// Segments starting further than this beyond the next expected byte are ignored as bogus.
    pub max_ahead: u64,
}

impl Default for StreamConfig {
    fn default() -> Self {
        StreamConfig {
            depth: 1 << 20,
            max_buffered: 256 << 10,
            max_segments: 64,
            retain: 4096,
            max_ahead: 16 << 20,
        }
    }
}

/// The global out-of-order byte budget shared by all streams.
#[derive(Clone, Copy, Debug)]
pub struct Budget {
    pub cap: usize,
    pub used: usize,
    /// Times a segment could not be buffered because the budget was spent.
    pub denied: u64,
}

impl Budget {
    pub fn new(cap: usize) -> Budget {
        Budget {
            cap,
            used: 0,
            denied: 0,
        }
    }
}

impl Default for Budget {
    fn default() -> Self {
        Budget::new(64 << 20)
    }
}

/// A piece of a reassembled stream, in order.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Chunk<'a> {
    Data(&'a [u8]),
    /// This many bytes are missing here.
    Gap(u64),
}

/// Per-direction counters.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct HalfStats {
    /// Bytes handed to the consumer.
    pub delivered_bytes: u64,
    /// Bytes declared missing (Zeek `missed_bytes`).
    pub missed_bytes: u64,
    /// Bytes received again after a first copy.
    pub retransmitted_bytes: u64,
    /// Overlapping bytes whose content differed from the first copy.
    pub overlap_mismatch_bytes: u64,
    /// Segments that arrived ahead of a hole.
    pub out_of_order_segments: u64,
    /// Segments ignored: beyond `max_ahead`, after FIN, or refused for lack of memory.
    pub ignored_segments: u64,
    /// Whether the depth cap was reached.
    pub depth_reached: bool,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum State {
    /// No sequence number known yet.
    Fresh,
    Active,
    /// Depth reached or closed by the consumer: segments are ignored.
    Done,
}

#[derive(Debug)]
struct Seg {
    start: u64,
    data: Vec<u8>,
}

/// One direction of a TCP connection.
#[derive(Debug)]
pub struct HalfStream {
    state: State,
    /// Sequence number of the next expected byte.
    next_seq: u32,
    /// Stream offset of the next expected byte.
    off: u64,
    /// Out-of-order segments, sorted by start, not overlapping one another.
    segs: Vec<Seg>,
    spare: Vec<Vec<u8>>,
    buffered: usize,
    /// The last `retain` delivered bytes, as a ring indexed by stream offset.
    ring: Vec<u8>,
    /// Stream offset from which the ring holds delivered bytes without holes.
    kept_from: u64,
    /// Retention is on: the stream has shown a retransmission or reordering.
    retaining: bool,
    fin_off: Option<u64>,
    stats: HalfStats,
}

impl Default for HalfStream {
    fn default() -> Self {
        HalfStream::new()
    }
}

impl HalfStream {
    pub fn new() -> HalfStream {
        HalfStream {
            state: State::Fresh,
            next_seq: 0,
            off: 0,
            segs: Vec::new(),
            spare: Vec::new(),
            buffered: 0,
            ring: Vec::new(),
            kept_from: 0,
            retaining: false,
            fin_off: None,
            stats: HalfStats::default(),
        }
    }

    /// Back to a fresh stream, keeping allocations. Buffered bytes are returned to `budget`.
    pub fn reset(&mut self, budget: &mut Budget) {
        self.release_all(budget);
        self.state = State::Fresh;
        self.next_seq = 0;
        self.off = 0;
        self.kept_from = 0;
        self.retaining = false;
        self.fin_off = None;
        self.stats = HalfStats::default();
    }

    pub fn stats(&self) -> &HalfStats {
        &self.stats
    }

    /// Bytes held out of order.
    pub fn buffered(&self) -> usize {
        self.buffered
    }

    /// Stream offset of the next expected byte (bytes delivered plus gaps).
    pub fn offset(&self) -> u64 {
        self.off
    }

    /// Stops reassembly in this direction (the consumer needs no more bytes).
    pub fn stop(&mut self, budget: &mut Budget) {
        self.release_all(budget);
        self.state = State::Done;
    }

    pub fn is_stopped(&self) -> bool {
        self.state == State::Done
    }

    /// Starts a fresh stream at a known next sequence number (the ISN + 1 of a SYN seen
    /// before this stream was created). Does nothing on a started stream.
    pub fn begin(&mut self, next_seq: u32) {
        if self.state == State::Fresh {
            self.next_seq = next_seq;
            self.state = State::Active;
        }
    }

    /// Accounts one segment of this direction and delivers whatever became contiguous.
    #[allow(clippy::too_many_arguments)]
    pub fn segment(
        &mut self,
        cfg: &StreamConfig,
        budget: &mut Budget,
        seq: u32,
        syn: bool,
        fin: bool,
        data: &[u8],
        out: &mut dyn FnMut(Chunk<'_>),
    ) {
        if self.state == State::Done {
            return;
        }
        let mut seq = seq;
        if syn {
            if self.state == State::Fresh {
                self.next_seq = seq.wrapping_add(1);
                self.state = State::Active;
            }
            seq = seq.wrapping_add(1);
        }
        if self.state == State::Fresh {
            if data.is_empty() {
                return;
            }
            if data == [0] && !fin {
                // A connection picked up mid-stream whose first data is a keep-alive probe:
                // one zero byte at the sender's next sequence number - 1, which the peer has
                // already acknowledged (RFC 9293 §3.8.4; Windows and BSD stacks send the byte).
                // The stream starts after it, or the probe's byte would replace the first byte
                // of the next message.
                self.next_seq = seq.wrapping_add(1);
                self.state = State::Active;
                self.stats.retransmitted_bytes += 1;
                return;
            }
            self.next_seq = seq;
            self.state = State::Active;
        }
        // Signed offset: data from before the stream start (a keep-alive probe or a
        // retransmission of bytes sent before a picked-up stream began) is old data, and
        // only what lies beyond the start is kept, at its own offset.
        let at = self.off as i64 + i64::from(seq.wrapping_sub(self.next_seq) as i32);
        let end = at + data.len() as i64;
        if fin && self.fin_off.is_none() {
            self.fin_off = Some((end.max(0) as u64).max(self.off));
        }
        let mut data = data;
        if at < 0 {
            let before = ((-at) as usize).min(data.len());
            self.stats.retransmitted_bytes += before as u64;
            data = &data[before..];
        }
        let start = at.max(0) as u64;
        if data.is_empty() {
            return;
        }
        self.accept(cfg, budget, start, data, out);
    }

    /// The peer acknowledged up to `ack`: bytes before it that we never saw are missing.
    pub fn peer_ack(
        &mut self,
        cfg: &StreamConfig,
        budget: &mut Budget,
        ack: u32,
        out: &mut dyn FnMut(Chunk<'_>),
    ) {
        if self.state != State::Active {
            return;
        }
        let d = ack.wrapping_sub(self.next_seq) as i32;
        // One byte may be the FIN's sequence number; ACKs far ahead are not ours to believe.
        if d <= 1 || i64::from(d) > cfg.max_ahead as i64 {
            return;
        }
        let mut upto = self.off + d as u64;
        if let Some(first) = self.segs.first() {
            upto = upto.min(first.start);
        }
        if let Some(f) = self.fin_off {
            upto = upto.min(f);
        }
        if upto > self.off {
            self.skip_to(cfg, budget, upto, out);
        }
    }

    /// The flow ended: delivers what is buffered, with gaps for the holes.
    pub fn flush(
        &mut self,
        cfg: &StreamConfig,
        budget: &mut Budget,
        out: &mut dyn FnMut(Chunk<'_>),
    ) {
        if self.state != State::Active {
            return;
        }
        while let Some(first) = self.segs.first() {
            let s = first.start;
            self.skip_to(cfg, budget, s, out);
            if self.state != State::Active {
                break;
            }
        }
        self.release_all(budget);
    }

    fn accept(
        &mut self,
        cfg: &StreamConfig,
        budget: &mut Budget,
        start: u64,
        data: &[u8],
        out: &mut dyn FnMut(Chunk<'_>),
    ) {
        if self.fin_off.is_some_and(|f| start >= f) {
            self.stats.ignored_segments += 1;
            return;
        }
        let mut start = start;
        let mut data = data;
        loop {
            if start < self.off {
                self.start_retaining();
                let old = ((self.off - start) as usize).min(data.len());
                self.stats.retransmitted_bytes += old as u64;
                self.compare_retained(cfg, start, &data[..old]);
                data = &data[old..];
                start = self.off;
                if data.is_empty() {
                    return;
                }
            }
            if start != self.off {
                break;
            }
            // A buffered segment may cover part of this one: first copy wins, so deliver up to
            // it, let it drain, and go round again for the rest (now old data to compare).
            let take = match self.segs.first() {
                Some(first) if first.start < start + data.len() as u64 => {
                    (first.start - start) as usize
                }
                _ => data.len(),
            };
            self.deliver(cfg, budget, &data[..take], out);
            self.drain(cfg, budget, out);
            if take == data.len() || self.state != State::Active {
                return;
            }
            start += take as u64;
            data = &data[take..];
        }
        if start - self.off > cfg.max_ahead {
            self.stats.ignored_segments += 1;
            return;
        }
        self.stats.out_of_order_segments += 1;
        self.start_retaining();
        self.insert(cfg, budget, start, data, out);
    }

    /// Inserts an out-of-order segment, keeping already buffered bytes where they overlap.
    fn insert(
        &mut self,
        cfg: &StreamConfig,
        budget: &mut Budget,
        start: u64,
        data: &[u8],
        out: &mut dyn FnMut(Chunk<'_>),
    ) {
        self.compare_buffered(start, data);
        let end = start + data.len() as u64;
        let mut cur = start;
        while cur < end && self.state == State::Active {
            if cur <= self.off {
                // A forced gap moved the stream up to this segment: the rest is in order now
                // (`accept` does not come back here for data at or before the offset).
                let rest = &data[(cur - start) as usize..];
                self.accept(cfg, budget, cur, rest, out);
                return;
            }
            let i = self
                .segs
                .partition_point(|s| s.start + s.data.len() as u64 <= cur);
            let next = self
                .segs
                .get(i)
                .map(|s| (s.start, s.start + s.data.len() as u64));
            match next {
                Some((s, e)) if s <= cur => cur = e,
                _ => {
                    let piece_end = next.map_or(end, |(s, _)| s.min(end));
                    let len = (piece_end - cur) as usize;
                    if !self.make_room(cfg, budget, len, out) {
                        if self.state == State::Active && cur > self.off {
                            budget.denied += 1;
                            self.stats.ignored_segments += 1;
                            return;
                        }
                        continue;
                    }
                    if cur <= self.off {
                        continue;
                    }
                    let piece = &data[(cur - start) as usize..(piece_end - start) as usize];
                    let mut v = self.spare.pop().unwrap_or_default();
                    v.clear();
                    v.extend_from_slice(piece);
                    let idx = self.segs.partition_point(|s| s.start < cur);
                    self.segs.insert(
                        idx,
                        Seg {
                            start: cur,
                            data: v,
                        },
                    );
                    self.buffered += len;
                    budget.used += len;
                    cur = piece_end;
                }
            }
        }
    }

    /// Makes room for `len` more buffered bytes by giving up on holes before buffered
    /// segments. Returns whether there is room now.
    fn make_room(
        &mut self,
        cfg: &StreamConfig,
        budget: &mut Budget,
        len: usize,
        out: &mut dyn FnMut(Chunk<'_>),
    ) -> bool {
        loop {
            let over = self.segs.len() >= cfg.max_segments
                || self.buffered + len > cfg.max_buffered
                || budget.used + len > budget.cap;
            if !over {
                return true;
            }
            let Some(first) = self.segs.first() else {
                return false;
            };
            let s = first.start;
            self.skip_to(cfg, budget, s, out);
            if self.state != State::Active {
                return false;
            }
        }
    }

    /// Declares the bytes up to `upto` missing and delivers what follows.
    fn skip_to(
        &mut self,
        cfg: &StreamConfig,
        budget: &mut Budget,
        upto: u64,
        out: &mut dyn FnMut(Chunk<'_>),
    ) {
        if upto <= self.off {
            return;
        }
        let room = cfg.depth.saturating_sub(self.off);
        let gap = (upto - self.off).min(room);
        if gap > 0 {
            self.stats.missed_bytes += gap;
            out(Chunk::Gap(gap));
        }
        self.advance(gap);
        self.kept_from = self.off;
        if self.off >= cfg.depth {
            self.reach_depth(budget);
            return;
        }
        self.drain(cfg, budget, out);
    }

    /// Delivers buffered segments that became contiguous.
    fn drain(&mut self, cfg: &StreamConfig, budget: &mut Budget, out: &mut dyn FnMut(Chunk<'_>)) {
        while self.state == State::Active {
            let Some(first) = self.segs.first() else {
                break;
            };
            if first.start > self.off {
                break;
            }
            let seg = self.segs.remove(0);
            self.buffered -= seg.data.len();
            budget.used = budget.used.saturating_sub(seg.data.len());
            let skip = (self.off - seg.start) as usize;
            if let Some(rest) = seg.data.get(skip..) {
                if !rest.is_empty() {
                    self.deliver(cfg, budget, rest, out);
                }
            }
            self.spare.push(seg.data);
        }
    }

    fn deliver(
        &mut self,
        cfg: &StreamConfig,
        budget: &mut Budget,
        data: &[u8],
        out: &mut dyn FnMut(Chunk<'_>),
    ) {
        let room = cfg.depth.saturating_sub(self.off);
        let n = (data.len() as u64).min(room) as usize;
        let data = &data[..n];
        if !data.is_empty() {
            self.keep(cfg, data);
            self.stats.delivered_bytes += n as u64;
            out(Chunk::Data(data));
            self.advance(n as u64);
        }
        if self.off >= cfg.depth {
            self.reach_depth(budget);
        }
    }

    fn advance(&mut self, n: u64) {
        self.off += n;
        self.next_seq = self.next_seq.wrapping_add(n as u32);
    }

    fn reach_depth(&mut self, budget: &mut Budget) {
        self.stats.depth_reached = true;
        self.stop(budget);
    }

    /// The stream showed loss or reordering: from now on, delivered bytes are kept so that
    /// later retransmissions can be compared.
    fn start_retaining(&mut self) {
        if !self.retaining {
            self.retaining = true;
            self.kept_from = self.off;
        }
    }

    /// Copies delivered bytes into the retention ring.
    fn keep(&mut self, cfg: &StreamConfig, data: &[u8]) {
        let w = cfg.retain;
        if w == 0 || !self.retaining {
            return;
        }
        if self.ring.len() != w {
            self.ring.clear();
            self.ring.resize(w, 0);
        }
        let tail = if data.len() > w {
            &data[data.len() - w..]
        } else {
            data
        };
        let mut pos = ((self.off + (data.len() - tail.len()) as u64) % w as u64) as usize;
        let mut rest = tail;
        while !rest.is_empty() {
            let n = rest.len().min(w - pos);
            self.ring[pos..pos + n].copy_from_slice(&rest[..n]);
            rest = &rest[n..];
            pos = (pos + n) % w;
        }
    }

    /// Compares old bytes at `start` with the retained copy, where one is kept.
    fn compare_retained(&mut self, cfg: &StreamConfig, start: u64, data: &[u8]) {
        let w = cfg.retain as u64;
        if w == 0 || self.ring.len() as u64 != w {
            return;
        }
        let kept_from = self.off.saturating_sub(w).max(self.kept_from);
        let mut mismatch = 0u64;
        for (i, &b) in data.iter().enumerate() {
            let o = start + i as u64;
            if o < kept_from || o >= self.off {
                continue;
            }
            if self.ring[(o % w) as usize] != b {
                mismatch += 1;
            }
        }
        self.stats.overlap_mismatch_bytes += mismatch;
    }

    /// Compares `data` at `start` with buffered out-of-order segments it overlaps.
    fn compare_buffered(&mut self, start: u64, data: &[u8]) {
        let end = start + data.len() as u64;
        let mut mismatch = 0u64;
        let first = self
            .segs
            .partition_point(|s| s.start + s.data.len() as u64 <= start);
        for s in self.segs.iter().skip(first) {
            if s.start >= end {
                break;
            }
            let lo = s.start.max(start);
            let hi = (s.start + s.data.len() as u64).min(end);
            let a = &s.data[(lo - s.start) as usize..(hi - s.start) as usize];
            let b = &data[(lo - start) as usize..(hi - start) as usize];
            mismatch += a.iter().zip(b).filter(|(x, y)| x != y).count() as u64;
        }
        self.stats.overlap_mismatch_bytes += mismatch;
    }

    fn release_all(&mut self, budget: &mut Budget) {
        for s in self.segs.drain(..) {
            budget.used = budget.used.saturating_sub(s.data.len());
            self.spare.push(s.data);
        }
        self.buffered = 0;
    }
}
