//! TCP (RFC 9293 §3.1) and its options: MSS (RFC 9293 §3.2), window scale and timestamps
//! (RFC 7323 §2.2, §3.2), SACK-permitted and SACK (RFC 2018 §2, §3).

use crate::bytes::{len_u32, tail, u16_at, u32_at, u8_at, Field, Region};
use crate::decoder::Cx;
use crate::{Anomaly, Layer, TcpInfo, TcpOptions, Transport};

/// TCP header fields (RFC 9293 §3.1).
mod field {
    use super::Field;
    pub const SRC_PORT: Field = 0..2;
    pub const DST_PORT: Field = 2..4;
    pub const SEQ_NUM: Field = 4..8;
    pub const ACK_NUM: Field = 8..12;
    /// Data offset (4 bits), reserved (3), NS/AE (1), then the 8 classic flags.
    pub const OFF_FLAGS: Field = 12..14;
    pub const WIN_SIZE: Field = 14..16;
    #[allow(
        dead_code,
        reason = "documents the layout; checksums are not verified (offload)"
    )]
    pub const CHECKSUM: Field = 16..18;
    pub const URGENT: Field = 18..20;
    pub const HEADER_LEN: usize = 20;
    pub const FLAGS_MASK: u16 = 0x01FF;
}

/// Option kinds (IANA "TCP Option Kind Numbers") and their fixed lengths.
mod opt {
    pub const END: u8 = 0;
    pub const NOP: u8 = 1;
    pub const MSS: u8 = 2;
    pub const MSS_LEN: usize = 4;
    pub const WINDOW_SCALE: u8 = 3;
    pub const WINDOW_SCALE_LEN: usize = 3;
    pub const SACK_PERMITTED: u8 = 4;
    pub const SACK_PERMITTED_LEN: usize = 2;
    pub const SACK: u8 = 5;
    /// Kind, length, then 8-byte blocks (RFC 2018 §3); at most 4 fit in 40 option bytes.
    pub const SACK_BLOCK_LEN: usize = 8;
    pub const TIMESTAMPS: u8 = 8;
    pub const TIMESTAMPS_LEN: usize = 10;
}

/// Decodes a TCP header from `r` (at least one byte captured). Fields beyond a truncated
/// header read as 0; the transport is reported once the ports are there.
pub(crate) fn decode<'a>(r: Region<'a>, cx: &mut Cx<'a>) {
    let b = r.bytes;
    cx.layer(Layer::Tcp);
    if b.len() < 4 {
        cx.anomaly(Anomaly::TruncatedTcp);
        return;
    }
    let off_flags = u16_at(b, field::OFF_FLAGS);
    let doff = usize::from(off_flags >> 12) * 4;
    let mut info = TcpInfo {
        src_port: u16_at(b, field::SRC_PORT),
        dst_port: u16_at(b, field::DST_PORT),
        seq: u32_at(b, field::SEQ_NUM),
        ack: u32_at(b, field::ACK_NUM),
        flags: off_flags & field::FLAGS_MASK,
        window: u16_at(b, field::WIN_SIZE),
        header_len: doff as u8, // at most 60
        urgent: u16_at(b, field::URGENT),
        options: TcpOptions::default(),
    };
    if b.len() < field::HEADER_LEN {
        // Fields not captured read as 0 (with fewer than 14 bytes, offset and flags too).
        cx.anomaly(Anomaly::TruncatedTcp);
        cx.pkt.transport = Transport::Tcp(info);
        return;
    }
    if doff < field::HEADER_LEN || len_u32(doff) > r.wire {
        cx.anomaly(Anomaly::BadTcpHeaderLength);
        cx.pkt.transport = Transport::Tcp(info);
        return;
    }
    cx.pkt.payload_wire_len = r.wire.saturating_sub(len_u32(doff));
    if b.len() < doff {
        // Options cut by the snaplen: the fixed header is good, the payload absent.
        cx.anomaly(Anomaly::TruncatedTcp);
        cx.pkt.transport = Transport::Tcp(info);
        return;
    }
    let (options, ok) = options(b.get(field::HEADER_LEN..doff).unwrap_or_default());
    if !ok {
        cx.anomaly(Anomaly::BadTcpOption);
    }
    info.options = options;
    cx.pkt.transport = Transport::Tcp(info);
    cx.pkt.payload = tail(b, doff);
}

/// Walks the options area (at most 40 bytes; every step consumes at least one byte).
/// Returns what was parsed and false if an option was malformed (the walk stops there, or
/// skips a known option whose length is wrong for its kind).
fn options(mut o: &[u8]) -> (TcpOptions, bool) {
    let mut out = TcpOptions::default();
    let mut ok = true;
    while let Some(&kind) = o.first() {
        match kind {
            opt::END => break,
            opt::NOP => {
                o = tail(o, 1);
                continue;
            }
            _ => {}
        }
        let len = usize::from(u8_at(o, 1));
        if len < 2 || len > o.len() {
            return (out, false);
        }
        match kind {
            opt::MSS if len == opt::MSS_LEN => out.mss = Some(u16_at(o, 2..4)),
            opt::WINDOW_SCALE if len == opt::WINDOW_SCALE_LEN => {
                out.window_scale = Some(u8_at(o, 2))
            }
            opt::SACK_PERMITTED if len == opt::SACK_PERMITTED_LEN => out.sack_permitted = true,
            opt::SACK if len > 2 && (len - 2) % opt::SACK_BLOCK_LEN == 0 => {
                out.sack_blocks = ((len - 2) / opt::SACK_BLOCK_LEN) as u8; // at most 4
                out.first_sack = Some((u32_at(o, 2..6), u32_at(o, 6..10)));
            }
            opt::TIMESTAMPS if len == opt::TIMESTAMPS_LEN => {
                out.timestamps = Some((u32_at(o, 2..6), u32_at(o, 6..10)))
            }
            opt::MSS | opt::WINDOW_SCALE | opt::SACK_PERMITTED | opt::SACK | opt::TIMESTAMPS => {
                ok = false
            }
            // Unknown kinds (MPTCP, TCP-AO, fast open ...) are skipped by their length.
            _ => {}
        }
        o = tail(o, len);
    }
    (out, ok)
}
