//! OpenVPN over TCP: the TLS handshake of its control channel, taken out of OpenVPN's packets
//! and given to a [`TlsParser`], so that an OpenVPN connection has its TLS session (versions,
//! ciphers, JA3, JA4, certificates) like any other.
//!
//! Method. Over TCP every OpenVPN packet is preceded by its length (16 bits). Its first octet
//! is the opcode (high 5 bits) and key ID; control packets then carry the sender's session ID
//! (8 octets), with `--tls-auth` an HMAC and a replay packet ID and time, an ACK array (count,
//! packet IDs, and the peer's session ID when the count is not 0), the message packet ID and
//! the payload: a piece of the TLS byte stream in `P_CONTROL_V1`, nothing in the resets.
//! Data packets are skipped by their length, unread.
//!
//! The HMAC's length is not announced: it is learned from the client's first packet, a
//! `P_CONTROL_HARD_RESET_CLIENT_V2` (or V1/V3), whose ACK count and message packet ID are 0 —
//! the lengths [`AUTH_LENGTHS`] (none, MD5, SHA-1, SHA-256, SHA-384, SHA-512, each with the
//! 8 octets of replay ID and time) are tried in turn, the first that puts five zero octets
//! there is taken. With `--tls-crypt` the control packets are encrypted: no length fits, and
//! the parse ends there (the flow stays `openvpn`).
//!
//! TLS pieces are passed on in message packet ID order per direction; a retransmitted ID is
//! dropped, a missing one is a gap for the TLS parser.
//!
//! Bounds: control packets longer than [`MAX_CONTROL`] octets are skipped (OpenVPN's control
//! packets are at most its TLS MTU, 1 250 octets by default), so at most that is held per
//! direction besides the TLS parser's own bounds.
//!
//! Not handled: OpenVPN over UDP (no TCP framing), `--tls-crypt` and `--tls-crypt-v2`
//! (encrypted control channel), static-key mode (no TLS at all).

use crate::tls::{TlsConfig, TlsParser};
use crate::Dir;

/// Longest control packet parsed; longer ones are skipped.
pub const MAX_CONTROL: usize = 2048;

/// Octets between the session ID and the ACK array with `--tls-auth`: the HMAC (0, 16, 20,
/// 32, 48, 64 octets) plus the replay packet ID and time (8), or nothing without it.
pub const AUTH_LENGTHS: [usize; 6] = [0, 24, 28, 40, 56, 72];

/// OpenVPN opcodes (the high 5 bits of a packet's first octet).
pub mod opcode {
    pub const HARD_RESET_CLIENT_V1: u8 = 1;
    pub const HARD_RESET_SERVER_V1: u8 = 2;
    pub const SOFT_RESET_V1: u8 = 3;
    pub const CONTROL_V1: u8 = 4;
    pub const ACK_V1: u8 = 5;
    pub const DATA_V1: u8 = 6;
    pub const HARD_RESET_CLIENT_V2: u8 = 7;
    pub const HARD_RESET_SERVER_V2: u8 = 8;
    pub const DATA_V2: u8 = 9;
    pub const HARD_RESET_CLIENT_V3: u8 = 10;
    pub const CONTROL_WKC_V1: u8 = 11;
}

/// Octets of a client's first bytes that [`looks_like_client`] needs at most to decide.
pub const SIGNATURE_BYTES: usize = 2 + 1 + 8 + 28 + 5;

/// Malformations, counted.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct OpenVpnAnomalies {
    /// A packet too short for its opcode's fields.
    pub malformed: u32,
    /// Control packets whose message ID was already passed on (retransmissions).
    pub duplicates: u32,
    /// Message IDs skipped (a gap for the TLS parser).
    pub missing: u32,
}

/// The HMAC length (with replay ID and time) that puts the ACK count and message packet ID
/// of a client's hard reset at five zero octets; `None` if none does, or `rec` (the packet
/// from its opcode) is too short to tell.
fn learn_auth(rec: &[u8]) -> Option<usize> {
    AUTH_LENGTHS
        .into_iter()
        .find(|&a| rec.get(9 + a..9 + a + 5) == Some(&[0, 0, 0, 0, 0][..]))
}

fn is_client_reset(op: u8) -> bool {
    matches!(
        op,
        opcode::HARD_RESET_CLIENT_V1 | opcode::HARD_RESET_CLIENT_V2 | opcode::HARD_RESET_CLIENT_V3
    )
}

/// Whether a stream's first bytes are an OpenVPN client's hard reset over TCP: `Some(true)`
/// or `Some(false)` once decided, `None` while more bytes are needed. The packet's length
/// must fit a reset (14 to 1 024 octets), its opcode be a client hard reset with key ID 0,
/// and one of the [`AUTH_LENGTHS`] put the ACK count and message ID at zeros; on port 1194
/// (OpenVPN's) the opcode and length suffice when the reset is longer than the bytes held.
pub fn looks_like_client(first: &[u8], ports: (u16, u16)) -> Option<bool> {
    if first.len() < 3 {
        // The length's high octet already tells a packet of over 1 024 octets.
        return if first.first().is_some_and(|&b| b > 4) {
            Some(false)
        } else {
            None
        };
    }
    let len = usize::from(u16::from_be_bytes([first[0], first[1]]));
    let op = first[2];
    if !(14..=1024).contains(&len) || op & 7 != 0 || !is_client_reset(op >> 3) {
        return Some(false);
    }
    let rec = &first[2..first.len().min(2 + len)];
    if learn_auth(rec).is_some() {
        return Some(true);
    }
    if rec.len() == len {
        // The whole reset was seen and no layout fits.
        return Some(false);
    }
    if rec.len() < SIGNATURE_BYTES - 2 {
        return None;
    }
    Some(ports.0 == 1194 || ports.1 == 1194)
}

/// One direction's framing state.
#[derive(Clone, Debug, Default)]
struct Side {
    /// The length field, as far as read.
    len_octets: [u8; 2],
    len_have: u8,
    /// Length of the packet being read (0: reading the length).
    rec_len: usize,
    /// The packet so far (control packets only).
    rec: Vec<u8>,
    /// Octets of a skipped packet still to come.
    skip: usize,
    /// The next message packet ID expected.
    next_id: u32,
}

impl Side {
    fn reset(&mut self) {
        self.len_have = 0;
        self.rec_len = 0;
        self.rec.clear();
        self.skip = 0;
        self.next_id = 0;
    }
}

/// Parses an OpenVPN TCP connection (client = [`Dir::ToServer`]) up to the end of its
/// control channel's TLS handshake.
#[derive(Debug)]
pub struct OpenVpnParser {
    tls: TlsParser,
    sides: [Side; 2],
    /// The HMAC and replay fields' length, once learned.
    auth: Option<usize>,
    /// The framing was lost or the control channel cannot be read: nothing more is parsed.
    failed: bool,
    anomalies: OpenVpnAnomalies,
}

impl Default for OpenVpnParser {
    fn default() -> Self {
        OpenVpnParser::new()
    }
}

impl OpenVpnParser {
    pub fn new() -> OpenVpnParser {
        OpenVpnParser {
            tls: TlsParser::new(TlsConfig::default()),
            sides: [Side::default(), Side::default()],
            auth: None,
            failed: false,
            anomalies: OpenVpnAnomalies::default(),
        }
    }

    pub fn reset(&mut self) {
        self.tls.reset();
        for s in &mut self.sides {
            s.reset();
        }
        self.auth = None;
        self.failed = false;
        self.anomalies = OpenVpnAnomalies::default();
    }

    /// The TLS parser of the control channel.
    pub fn tls(&self) -> &TlsParser {
        &self.tls
    }

    pub fn anomalies(&self) -> &OpenVpnAnomalies {
        &self.anomalies
    }

    /// The HMAC and replay fields' length learned from the client's reset.
    pub fn auth_len(&self) -> Option<usize> {
        self.auth
    }

    /// Nothing more will be parsed (framing lost, or an encrypted control channel).
    pub fn failed(&self) -> bool {
        self.failed
    }

    /// Octets held (packets being read, and the TLS parser's).
    pub fn buffered_bytes(&self) -> usize {
        self.sides.iter().map(|s| s.rec.len()).sum::<usize>() + self.tls.buffered_bytes()
    }

    /// A hole in one direction: the framing cannot be found again.
    pub fn gap(&mut self, _dir: Dir, _len: u64) {
        self.failed = true;
    }

    pub fn feed(&mut self, dir: Dir, mut d: &[u8]) {
        let i = dir.index();
        while !d.is_empty() && !self.failed {
            let s = &mut self.sides[i];
            if s.skip > 0 {
                let n = s.skip.min(d.len());
                s.skip -= n;
                d = &d[n..];
                continue;
            }
            if s.rec_len == 0 {
                s.len_octets[usize::from(s.len_have)] = d[0];
                s.len_have += 1;
                d = &d[1..];
                if s.len_have == 2 {
                    s.len_have = 0;
                    s.rec_len = usize::from(u16::from_be_bytes(s.len_octets));
                    s.rec.clear();
                    if s.rec_len == 0 {
                        self.anomalies.malformed = self.anomalies.malformed.saturating_add(1);
                        self.failed = true;
                    }
                }
                continue;
            }
            if s.rec.is_empty() {
                let op = d[0] >> 3;
                if matches!(op, opcode::DATA_V1 | opcode::DATA_V2) || s.rec_len > MAX_CONTROL {
                    s.skip = s.rec_len;
                    s.rec_len = 0;
                    continue;
                }
            }
            let n = (s.rec_len - s.rec.len()).min(d.len());
            s.rec.extend_from_slice(&d[..n]);
            d = &d[n..];
            if s.rec.len() == s.rec_len {
                s.rec_len = 0;
                let rec = std::mem::take(&mut s.rec);
                self.packet(dir, &rec);
                self.sides[i].rec = rec;
            }
        }
    }

    /// One whole control packet (from its opcode octet).
    fn packet(&mut self, dir: Dir, rec: &[u8]) {
        let op = rec[0] >> 3;
        if self.auth.is_none() {
            if dir == Dir::ToServer && is_client_reset(op) {
                self.auth = learn_auth(rec);
            }
            if self.auth.is_none() {
                // Before the client's reset, or an encrypted (tls-crypt) one: the control
                // channel's layout is unknown.
                self.failed = true;
                return;
            }
        }
        let has_id = matches!(
            op,
            opcode::HARD_RESET_CLIENT_V1
                | opcode::HARD_RESET_SERVER_V1
                | opcode::SOFT_RESET_V1
                | opcode::CONTROL_V1
                | opcode::HARD_RESET_CLIENT_V2
                | opcode::HARD_RESET_SERVER_V2
                | opcode::HARD_RESET_CLIENT_V3
        );
        if !has_id {
            // ACK_V1 (and what this parser does not know) carries no TLS bytes.
            return;
        }
        let auth = self.auth.unwrap_or(0);
        let Some(&acks) = rec.get(9 + auth) else {
            self.anomalies.malformed = self.anomalies.malformed.saturating_add(1);
            return;
        };
        let at = 9 + auth + 1 + 4 * usize::from(acks) + if acks > 0 { 8 } else { 0 };
        let Some(id) = rec.get(at..at + 4) else {
            self.anomalies.malformed = self.anomalies.malformed.saturating_add(1);
            return;
        };
        let id = u32::from_be_bytes([id[0], id[1], id[2], id[3]]);
        let side = &mut self.sides[dir.index()];
        if op != opcode::CONTROL_V1 {
            // A reset starts the message IDs (at 0).
            side.next_id = id.wrapping_add(1);
            return;
        }
        if id < side.next_id {
            self.anomalies.duplicates = self.anomalies.duplicates.saturating_add(1);
            return;
        }
        if id > side.next_id {
            self.anomalies.missing = self.anomalies.missing.saturating_add(id - side.next_id);
            self.tls.gap(dir, u64::from(id - side.next_id));
        }
        side.next_id = id.wrapping_add(1);
        self.tls.feed(dir, &rec[at + 4..]);
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used, reason = "test")]
mod tests;
