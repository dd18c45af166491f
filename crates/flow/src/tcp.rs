//! TCP per-endpoint state, Zeek-style `conn_state` and `history`, and sequence analysis
//! (retransmissions, out-of-order segments, ACK gaps) on packet time.
//!
//! Sequence numbers are tracked relative to the first one seen from each endpoint, in 64-bit
//! "unwrapped" space, so wrap-around inside a flow is handled for up to 2^31 bytes of jump
//! between consecutive segments.

use wirescope_wire::{tcp_flags as f, TcpInfo};

/// Endpoint states, after Zeek's `TCP_INACTIVE` … `TCP_RESET`.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum EndpointState {
    #[default]
    Inactive,
    SynSent,
    SynAckSent,
    /// Seen only mid-stream (no SYN).
    Partial,
    Established,
    Closed,
    Reset,
}

/// Sequence tracking for one direction.
#[derive(Clone, Copy, Debug, Default)]
pub struct SeqTrack {
    /// First sequence number seen (the ISN if the SYN was seen).
    base: u32,
    /// Last absolute sequence number seen, to unwrap the next one.
    last_abs: u64,
    /// One past the highest byte seen (unwrapped, relative to `base`).
    max_end: u64,
    /// Bytes skipped over by forward jumps that have not been filled in since.
    holes: u64,
    started: bool,
}

impl SeqTrack {
    pub const ZERO: SeqTrack = SeqTrack {
        base: 0,
        last_abs: 0,
        max_end: 0,
        holes: 0,
        started: false,
    };

    /// Unwraps `seq` relative to the base, choosing the value nearest the last one.
    #[inline]
    fn unwrap(&mut self, seq: u32) -> u64 {
        let rel = u64::from(seq.wrapping_sub(self.base));
        // Candidates: rel + k * 2^32 closest to last_abs.
        let epoch = self.last_abs & !0xFFFF_FFFF;
        let mut v = epoch | rel;
        if v + (1 << 31) < self.last_abs {
            v += 1 << 32;
        } else if v > self.last_abs + (1 << 31) && v >= 1 << 32 {
            v -= 1 << 32;
        }
        self.last_abs = v;
        v
    }
}

/// What sequence analysis concluded about one segment.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct SegmentVerdict {
    pub retransmission: bool,
    pub out_of_order: bool,
    /// Bytes jumped over (a gap in what we saw), 0 if none.
    pub gap: u64,
}

/// Per-direction TCP bookkeeping held in a flow.
#[derive(Clone, Copy, Debug, Default)]
pub struct TcpEndpoint {
    pub state: EndpointState,
    pub seq: SeqTrack,
    pub retransmissions: u32,
    pub out_of_order: u32,
    /// Data bytes we never saw although the peer acknowledged them (Zeek's `missed_bytes`
    /// counts these ACK gaps too).
    pub missed_bytes: u64,
    /// ACKs seen from this endpoint, and how many acknowledged data never seen.
    pub acks: u32,
    pub ack_gaps: u32,
    pub zero_windows: u32,
    pub syn_seen: bool,
    pub fin_seen: bool,
    pub rst_seen: bool,
}

impl TcpEndpoint {
    /// The first sequence number this endpoint sent (its ISN when its SYN came first).
    pub fn first_seq(&self) -> Option<u32> {
        self.seq.started.then_some(self.seq.base)
    }

    /// Sequence analysis of a segment carrying `len` bytes of payload (SYN/FIN count as one).
    pub fn on_segment(&mut self, tcp: &TcpInfo, len: u32) -> SegmentVerdict {
        let syn = tcp.has(f::SYN);
        let fin = tcp.has(f::FIN);
        let seg_len = u64::from(len) + u64::from(syn) + u64::from(fin);
        let mut v = SegmentVerdict::default();
        if !self.seq.started {
            self.seq.started = true;
            self.seq.base = tcp.seq;
            self.seq.last_abs = 0;
            self.seq.max_end = seg_len;
            return v;
        }
        if seg_len == 0 {
            return v; // pure ACK: no sequence space consumed
        }
        let start = self.seq.unwrap(tcp.seq);
        let end = start + seg_len;
        let max_end = self.seq.max_end;
        if start == max_end {
            self.seq.max_end = end;
        } else if start > max_end {
            v.gap = start - max_end;
            self.seq.holes += v.gap;
            self.seq.max_end = end;
        } else if end <= max_end {
            // Entirely old sequence space: fills a hole, or repeats what was seen.
            if self.seq.holes > 0 {
                v.out_of_order = true;
                self.seq.holes = self.seq.holes.saturating_sub(seg_len);
                self.out_of_order += 1;
            } else if !(len <= 1 && seg_len <= 1 && start + 1 == max_end) {
                // A one-byte segment just below max_end is a keep-alive, not a retransmission.
                v.retransmission = true;
                self.retransmissions += 1;
            }
        } else {
            // Partly old, partly new.
            v.retransmission = true;
            self.retransmissions += 1;
            self.seq.max_end = end;
        }
        v
    }

    /// Checks an ACK from this endpoint against what the peer was seen sending.
    /// Returns the number of bytes acknowledged that were never seen (an ACK gap).
    pub fn on_ack(&mut self, ack: u32, peer: &mut TcpEndpoint) -> u64 {
        self.acks += 1;
        if !peer.seq.started {
            return 0;
        }
        let rel = u64::from(ack.wrapping_sub(peer.seq.base));
        let epoch = peer.seq.max_end & !0xFFFF_FFFF;
        let mut a = epoch | rel;
        if a + (1 << 31) < peer.seq.max_end {
            a += 1 << 32;
        }
        // Only plausible forward jumps count (a wild ACK is not 2 GB of loss).
        if a > peer.seq.max_end && a - peer.seq.max_end < (1 << 30) {
            let missing = a - peer.seq.max_end;
            peer.seq.max_end = a;
            peer.missed_bytes += missing;
            self.ack_gaps += 1;
            return missing;
        }
        0
    }
}

/// The Zeek history letters we record, in a fixed buffer (each letter once per direction,
/// as Zeek does for all but its counted letters).
#[derive(Clone, Copy, Debug, Default)]
pub struct History {
    buf: [u8; 24],
    len: u8,
    /// Bits of letters already recorded, one bit per (letter, direction).
    seen: u32,
}

/// History letter kinds; the bit position in `History::seen` is `kind * 2 + is_responder`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Letter {
    Syn = 0,
    SynAck,
    Ack,
    Data,
    Fin,
    Rst,
    Gap,
    Retransmit,
    ZeroWindow,
    Inconsistent,
    MultiFlag,
    BadChecksum,
}

impl Letter {
    fn upper(self) -> u8 {
        match self {
            Letter::Syn => b'S',
            Letter::SynAck => b'H',
            Letter::Ack => b'A',
            Letter::Data => b'D',
            Letter::Fin => b'F',
            Letter::Rst => b'R',
            Letter::Gap => b'G',
            Letter::Retransmit => b'T',
            Letter::ZeroWindow => b'W',
            Letter::Inconsistent => b'I',
            Letter::MultiFlag => b'Q',
            Letter::BadChecksum => b'C',
        }
    }
}

impl History {
    pub const EMPTY: History = History {
        buf: [0; 24],
        len: 0,
        seen: 0,
    };

    #[inline]
    pub fn push(&mut self, letter: Letter, from_originator: bool) {
        let bit = 1u32 << ((letter as u32) * 2 + u32::from(!from_originator));
        if self.seen & bit != 0 || usize::from(self.len) >= self.buf.len() {
            return;
        }
        self.seen |= bit;
        let c = letter.upper();
        self.buf[usize::from(self.len)] = if from_originator {
            c
        } else {
            c.to_ascii_lowercase()
        };
        self.len += 1;
    }

    /// Records the `^` flip marker (Zeek: the direction was swapped after the fact).
    pub fn push_flip(&mut self) {
        if usize::from(self.len) < self.buf.len() {
            self.buf[usize::from(self.len)] = b'^';
            self.len += 1;
        }
    }

    /// Swaps the case of every letter (used when the originator is re-decided).
    pub fn flip_case(&mut self) {
        for c in &mut self.buf[..usize::from(self.len)] {
            if c.is_ascii_uppercase() {
                *c = c.to_ascii_lowercase();
            } else if c.is_ascii_lowercase() {
                *c = c.to_ascii_uppercase();
            }
        }
        // Swap the direction bits of every letter.
        let even = self.seen & 0x5555_5555;
        let odd = self.seen & 0xAAAA_AAAA;
        self.seen = (even << 1) | (odd >> 1);
    }

    pub fn as_str(&self) -> &str {
        std::str::from_utf8(&self.buf[..usize::from(self.len)]).unwrap_or("")
    }

    /// Whether a letter was recorded for the given side.
    pub fn has(&self, letter: Letter, from_originator: bool) -> bool {
        self.seen & (1u32 << ((letter as u32) * 2 + u32::from(!from_originator))) != 0
    }
}

/// Updates an endpoint's state for a segment it sent, given the peer's state (Zeek's
/// endpoint state machine, simplified to the transitions `conn_state` reads).
pub fn advance_state(me: &mut TcpEndpoint, peer: &mut TcpEndpoint, tcp: &TcpInfo) {
    let syn = tcp.has(f::SYN);
    let ack = tcp.has(f::ACK);
    if tcp.has(f::RST) {
        me.rst_seen = true;
        me.state = EndpointState::Reset;
        return;
    }
    if syn {
        me.syn_seen = true;
    }
    match me.state {
        EndpointState::Inactive => {
            me.state = if syn && ack {
                EndpointState::SynAckSent
            } else if syn {
                EndpointState::SynSent
            } else {
                EndpointState::Partial
            };
        }
        EndpointState::SynSent | EndpointState::SynAckSent => {
            // An ACK from an endpoint that has SYN'd, once the peer has SYN'd too,
            // completes the handshake from this side's view.
            if ack && !syn && peer.syn_seen {
                me.state = EndpointState::Established;
                if matches!(
                    peer.state,
                    EndpointState::SynAckSent | EndpointState::SynSent
                ) {
                    peer.state = EndpointState::Established;
                }
            }
        }
        EndpointState::Partial => {
            // Mid-stream traffic stays partial until a close.
        }
        EndpointState::Established | EndpointState::Closed | EndpointState::Reset => {}
    }
    if tcp.has(f::FIN) {
        me.fin_seen = true;
        me.state = EndpointState::Closed;
    }
}

/// Zeek's `conn_state` for a TCP connection, from the two endpoint states and the history.
pub fn conn_state(
    orig: &TcpEndpoint,
    resp: &TcpEndpoint,
    orig_bytes: u64,
    resp_bytes: u64,
    history: &History,
) -> &'static str {
    use EndpointState as S;
    let (os, rs) = (orig.state, resp.state);
    let o_inactive = matches!(os, S::Inactive | S::Partial);
    let r_inactive = matches!(rs, S::Inactive | S::Partial);
    if rs == S::Reset {
        if matches!(os, S::SynSent | S::SynAckSent)
            || (os == S::Reset && orig_bytes == 0 && resp_bytes == 0)
        {
            "REJ"
        } else if o_inactive {
            "RSTRH"
        } else {
            "RSTR"
        }
    } else if os == S::Reset {
        if r_inactive {
            if rsto_s0_history(history.as_str()) {
                "RSTOS0"
            } else {
                "OTH"
            }
        } else {
            "RSTO"
        }
    } else if rs == S::Closed && os == S::Closed {
        "SF"
    } else if os == S::Closed {
        if r_inactive {
            "SH"
        } else {
            "S2"
        }
    } else if rs == S::Closed {
        if o_inactive {
            "SHR"
        } else {
            "S3"
        }
    } else if os == S::SynSent && rs == S::Inactive {
        "S0"
    } else if os == S::Established && rs == S::Established {
        "S1"
    } else {
        "OTH"
    }
}

/// Zeek's test for RSTOS0: history matches `^?S[^HAFGIQ]*R.*` (an originator SYN, then an
/// originator RST, with no handshake progress in between).
fn rsto_s0_history(h: &str) -> bool {
    let h = h.strip_prefix('^').unwrap_or(h);
    let Some(rest) = h.strip_prefix('S') else {
        return false;
    };
    for c in rest.bytes() {
        match c {
            b'R' => return true,
            b'H' | b'A' | b'F' | b'G' | b'I' | b'Q' => return false,
            _ => {}
        }
    }
    false
}

#[cfg(test)]
mod tests {
    use super::*;

    fn seg(seq: u32, flags: u16) -> TcpInfo {
        TcpInfo {
            seq,
            flags,
            ..TcpInfo::default()
        }
    }

    #[test]
    fn retransmission_gap_and_reorder() {
        let mut e = TcpEndpoint::default();
        assert_eq!(
            e.on_segment(&seg(1000, f::SYN), 0),
            SegmentVerdict::default()
        );
        // in order: bytes 1..101
        assert_eq!(
            e.on_segment(&seg(1001, f::ACK), 100),
            SegmentVerdict::default()
        );
        // same again: retransmission
        assert!(e.on_segment(&seg(1001, f::ACK), 100).retransmission);
        // skip 100 bytes
        let v = e.on_segment(&seg(1201, f::ACK), 100);
        assert_eq!(v.gap, 100);
        // the skipped segment arrives late: out of order
        assert!(e.on_segment(&seg(1101, f::ACK), 100).out_of_order);
        assert_eq!((e.retransmissions, e.out_of_order), (1, 1));
        // keep-alive: one byte below the edge, not a retransmission
        assert!(!e.on_segment(&seg(1300, f::ACK), 1).retransmission);
    }

    #[test]
    fn sequence_wraps() {
        let mut e = TcpEndpoint::default();
        e.on_segment(&seg(u32::MAX - 10, f::ACK), 10);
        let v = e.on_segment(&seg(u32::MAX, f::ACK), 100);
        assert_eq!(v, SegmentVerdict::default(), "contiguous across the wrap");
        assert!(e.on_segment(&seg(u32::MAX, f::ACK), 100).retransmission);
    }

    #[test]
    fn ack_gap_counts_missing_bytes() {
        let mut client = TcpEndpoint::default();
        let mut server = TcpEndpoint::default();
        server.on_segment(&seg(5000, f::SYN | f::ACK), 0);
        server.on_segment(&seg(5001, f::ACK), 100);
        assert_eq!(client.on_ack(5101, &mut server), 0);
        assert_eq!(client.on_ack(5601, &mut server), 500);
        assert_eq!(
            (client.acks, client.ack_gaps, server.missed_bytes),
            (2, 1, 500)
        );
    }

    #[test]
    fn history_records_each_letter_once_per_side() {
        let mut h = History::default();
        h.push(Letter::Syn, true);
        h.push(Letter::SynAck, false);
        h.push(Letter::Ack, true);
        h.push(Letter::Ack, true);
        h.push(Letter::Data, false);
        assert_eq!(h.as_str(), "ShAd");
        h.flip_case();
        assert_eq!(h.as_str(), "sHaD");
        assert!(h.has(Letter::Data, true));
    }

    #[test]
    fn rstos0_pattern() {
        assert!(rsto_s0_history("SR"));
        assert!(rsto_s0_history("^SdR"));
        // Case-sensitive like Zeek's regex: only originator letters block the match.
        assert!(rsto_s0_history("ShR"));
        assert!(!rsto_s0_history("SHR"));
        assert!(!rsto_s0_history("SAR"));
        assert!(!rsto_s0_history("hR"));
    }
}
