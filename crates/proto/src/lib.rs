//! Application-layer parsers and bounded TCP stream reassembly.
//!
//! Every parser here works on borrowed bytes, keeps bounded state, reports malformed input as
//! an error value or an anomaly counter, and never panics. Streaming parsers (HTTP, TLS, SSH,
//! SOCKS, the STARTTLS protocols, OpenVPN's control channel, DNS over TCP) are fed reassembled, in-order bytes per direction by the engine; they are
//! told about holes (`gap`) instead of seeing them as data. [`proxy::ProxyReader`] reads a
//! PROXY protocol header off the start of a stream before identification.

pub mod dhcp;
pub mod dns;
pub mod http;
pub mod icmp;
pub mod ident;
pub mod openvpn;
pub mod proxy;
pub mod socks;
pub mod ssh;
pub mod starttls;
pub mod stream;
pub mod tls;

/// Direction of application data within a flow: from the originator (client) or to it.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Dir {
    ToServer = 0,
    ToClient = 1,
}

impl Dir {
    pub fn index(self) -> usize {
        self as usize
    }

    pub fn flip(self) -> Dir {
        match self {
            Dir::ToServer => Dir::ToClient,
            Dir::ToClient => Dir::ToServer,
        }
    }
}

/// Replaces the contents of `dst` with at most `cap` bytes of `src`, reusing `dst`'s
/// allocation. Returns whether `src` was cut.
pub fn set_bounded(dst: &mut Vec<u8>, src: &[u8], cap: usize) -> bool {
    dst.clear();
    let n = src.len().min(cap);
    dst.extend_from_slice(&src[..n]);
    n < src.len()
}

/// Appends lower-case hex digits of `bytes`.
pub fn push_hex_lower(s: &mut String, bytes: &[u8]) {
    use std::fmt::Write as _;
    for b in bytes {
        let _ = write!(s, "{b:02x}");
    }
}
