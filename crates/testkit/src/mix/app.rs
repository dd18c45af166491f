//! Application payloads of generated TCP streams, coherent across segments: HTTP/1.1 on
//! ports 80/8080, TLS 1.3-shaped records on 443/8443/993 (a real ClientHello with SNI, a
//! ServerHello, then application-data records), an SSH banner on 22, opaque bytes elsewhere.
//!
//! Every segment is produced from its (message, offset, length) alone, so retransmissions
//! carry the same bytes as the original and no per-connection buffer is needed.

use super::plan::Msg;
use std::io::Write as _;

/// Largest TLS record: 2^14 bytes of plaintext plus AEAD expansion (RFC 8446 §5.2), plus
/// the 5-byte header.
const TLS_RECORD: u32 = 16_384 + 17 + 5;
/// Header bytes generated per message are at most this long.
const PREFIX_MAX: usize = 1_600;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum App {
    Http,
    Tls,
    Ssh,
    Opaque,
}

fn app(server_port: u16) -> App {
    match server_port {
        80 | 8080 => App::Http,
        443 | 8443 | 993 => App::Tls,
        22 => App::Ssh,
        _ => App::Opaque,
    }
}

/// A small fixed-capacity byte buffer (no allocation on the per-packet path).
struct Prefix {
    buf: [u8; PREFIX_MAX],
    len: usize,
}

impl Prefix {
    fn new() -> Self {
        Prefix {
            buf: [0; PREFIX_MAX],
            len: 0,
        }
    }
    fn put(&mut self, b: &[u8]) {
        let n = b.len().min(PREFIX_MAX - self.len);
        self.buf[self.len..self.len + n].copy_from_slice(&b[..n]);
        self.len += n;
    }
    fn u16(&mut self, v: usize) {
        self.put(&(v as u16).to_be_bytes());
    }
    fn u24(&mut self, v: usize) {
        self.put(&(v as u32).to_be_bytes()[1..]);
    }
    fn bytes(&self) -> &[u8] {
        &self.buf[..self.len]
    }
}

/// Length of the ClientHello (record included) sent as a first request of `len` bytes, or 0
/// when the request is too short to hold one.
fn client_hello_len(len: u32, sni: &str) -> u32 {
    let t = if len <= 1_400 { len } else { 517 };
    if t as usize >= 190 + sni.len() {
        t
    } else {
        0
    }
}

/// ServerHello (127 bytes) + ChangeCipherSpec (6) for a first response, when it fits.
fn server_hello_len(len: u32) -> u32 {
    if len >= 133 + 6 {
        133
    } else {
        0
    }
}

/// RFC 8446 §4.1.2: a ClientHello padded (RFC 7685) to exactly `total` bytes with its record
/// header; `random` supplies the random, session id and key share.
fn client_hello(p: &mut Prefix, total: usize, sni: &str, random: &[u8]) {
    let name = sni.as_bytes();
    p.put(&[0x16, 0x03, 0x01]);
    p.u16(total - 5);
    p.put(&[0x01]);
    p.u24(total - 9);
    p.put(&[0x03, 0x03]);
    p.put(&random[..32]);
    p.put(&[32]);
    p.put(&random[32..64]);
    p.put(&[0x00, 0x06, 0x13, 0x01, 0x13, 0x02, 0x13, 0x03, 0x01, 0x00]);
    p.u16(total - 88);
    p.put(&[0x00, 0x00]);
    p.u16(name.len() + 5);
    p.u16(name.len() + 3);
    p.put(&[0x00]);
    p.u16(name.len());
    p.put(name);
    p.put(&[0x00, 0x2b, 0x00, 0x03, 0x02, 0x03, 0x04]); // supported_versions: TLS 1.3
    p.put(&[0x00, 0x0a, 0x00, 0x04, 0x00, 0x02, 0x00, 0x1d]); // supported_groups: x25519
    p.put(&[0x00, 0x0d, 0x00, 0x04, 0x00, 0x02, 0x08, 0x04]); // signature_algorithms
    p.put(&[0x00, 0x33, 0x00, 0x26, 0x00, 0x24, 0x00, 0x1d, 0x00, 0x20]);
    p.put(&random[64..96]);
    let pad = total.saturating_sub(p.len + 4);
    p.put(&[0x00, 0x15]);
    p.u16(pad);
    for _ in 0..pad {
        p.put(&[0]);
    }
}

fn server_hello(p: &mut Prefix, random: &[u8]) {
    p.put(&[
        0x16, 0x03, 0x03, 0x00, 122, 0x02, 0x00, 0x00, 118, 0x03, 0x03,
    ]);
    p.put(&random[..32]);
    p.put(&[32]);
    p.put(&random[32..64]);
    p.put(&[0x13, 0x01, 0x00, 0x00, 46]);
    p.put(&[0x00, 0x2b, 0x00, 0x02, 0x03, 0x04]);
    p.put(&[0x00, 0x33, 0x00, 0x24, 0x00, 0x1d, 0x00, 0x20]);
    p.put(&random[64..96]);
    p.put(&[0x14, 0x03, 0x03, 0x00, 0x01, 0x01]); // ChangeCipherSpec (RFC 8446 §D.4)
}

/// HTTP/1.1 headers (RFC 9112) sized so that headers + body are exactly `len` bytes.
fn http_head(p: &mut Prefix, up: bool, msg: &Msg, host: &str) {
    let len = msg.len as usize;
    if up && len <= 1_500 {
        // A GET whose size comes from a padding header.
        let _ = write!(
            Cursor(p),
            "GET /o/{}/{} HTTP/1.1\r\nHost: {host}\r\nUser-Agent: genmix/1\r\nX-Pad: ",
            msg.no,
            len
        );
        let pad = len.saturating_sub(p.len + 4);
        for _ in 0..pad {
            p.put(b"p");
        }
        p.put(b"\r\n\r\n");
        return;
    }
    let start = if up {
        "POST /upload HTTP/1.1\r\nHost: "
    } else {
        "HTTP/1.1 200 OK\r\nServer: genmix\r\n"
    };
    // The header's length depends on the digits of the body length: try each width.
    for digits in 1..=10usize {
        p.len = 0;
        p.put(start.as_bytes());
        if up {
            p.put(host.as_bytes());
            p.put(b"\r\n");
        }
        p.put(b"Content-Type: application/octet-stream\r\nContent-Length: ");
        let head = p.len + digits + 4;
        let body = len.saturating_sub(head);
        if decimal_digits(body) == digits || digits == 10 {
            let _ = write!(Cursor(p), "{body}\r\n\r\n");
            return;
        }
    }
}

fn decimal_digits(mut v: usize) -> usize {
    let mut n = 1;
    while v >= 10 {
        v /= 10;
        n += 1;
    }
    n
}

struct Cursor<'a>(&'a mut Prefix);

impl std::io::Write for Cursor<'_> {
    fn write(&mut self, b: &[u8]) -> std::io::Result<usize> {
        self.0.put(b);
        Ok(b.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

/// Appends `len` payload bytes of a segment of `msg` on a connection to `server_port`.
pub(crate) fn tcp_payload(
    out: &mut Vec<u8>,
    server_port: u16,
    up: bool,
    msg: &Msg,
    len: usize,
    filler: &[u8],
    host: &str,
) {
    if len == 0 {
        return;
    }
    let start = out.len();
    let f = (msg.off as usize)
        .wrapping_mul(31)
        .wrapping_add(msg.len as usize)
        % (filler.len() - 2_048);
    out.extend_from_slice(&filler[f..f + len]);
    let seg = &mut out[start..];
    let (off, end) = (msg.off, msg.off + len as u32);
    let a = app(server_port);
    // Bytes of the message before any TLS records.
    let prefix_len = match (a, msg.no, up) {
        (App::Tls, 0, true) => client_hello_len(msg.len, host),
        (App::Tls, 0, false) => server_hello_len(msg.len),
        _ => 0,
    };
    if off < PREFIX_MAX as u32 && a != App::Opaque {
        let mut p = Prefix::new();
        match a {
            App::Http => http_head(&mut p, up, msg, host),
            App::Tls if prefix_len > 0 && up => {
                client_hello(&mut p, prefix_len as usize, host, filler)
            }
            App::Tls if prefix_len > 0 => server_hello(&mut p, &filler[100..]),
            App::Ssh if msg.no == 0 => p.put(b"SSH-2.0-OpenSSH_9.2p1 Debian-2\r\n"),
            _ => {}
        }
        let b = p.bytes();
        if (off as usize) < b.len() {
            let n = (b.len() - off as usize).min(len);
            seg[..n].copy_from_slice(&b[off as usize..off as usize + n]);
        }
    }
    if a == App::Tls {
        // Application-data records of the largest size back to back after the prefix; a
        // header may straddle two segments, so look one record back.
        let first = off.saturating_sub(prefix_len) / TLS_RECORD;
        let mut r = prefix_len + first * TLS_RECORD;
        while r < end && r < msg.len {
            let rec = (msg.len - r).min(TLS_RECORD);
            if rec > 5 {
                let payload = (rec - 5) as u16;
                let h = [0x17, 0x03, 0x03, (payload >> 8) as u8, payload as u8];
                for (i, byte) in h.iter().enumerate() {
                    let at = r + i as u32;
                    if at >= off && at < end {
                        seg[(at - off) as usize] = *byte;
                    }
                }
            }
            r += TLS_RECORD;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn filler() -> Vec<u8> {
        (0..70_000u32)
            .map(|i| (i.wrapping_mul(2_654_435_761) >> 24) as u8)
            .collect()
    }

    /// The whole message, assembled from segments of `mss` bytes.
    fn message(port: u16, up: bool, no: u8, len: u32, mss: u32) -> Vec<u8> {
        let f = filler();
        let mut out = Vec::new();
        let mut off = 0;
        while off < len {
            let n = (len - off).min(mss);
            tcp_payload(
                &mut out,
                port,
                up,
                &Msg { no, off, len },
                n as usize,
                &f,
                "www.example.test",
            );
            off += n;
        }
        out
    }

    #[test]
    fn http_get_and_response_have_exact_lengths() {
        let get = message(80, true, 0, 300, 1460);
        assert_eq!(get.len(), 300);
        assert!(get.starts_with(b"GET /o/0/300 HTTP/1.1\r\n"));
        assert!(get.ends_with(b"\r\n\r\n"));
        let resp = message(80, false, 0, 50_000, 1460);
        let text = String::from_utf8_lossy(&resp[..200]).to_string();
        let head_end = text.find("\r\n\r\n").map(|i| i + 4).unwrap_or(0);
        let cl: usize = text
            .split("Content-Length: ")
            .nth(1)
            .and_then(|r| r.split('\r').next())
            .and_then(|n| n.parse().ok())
            .unwrap_or(0);
        assert_eq!(head_end + cl, 50_000, "{text}");
    }

    #[test]
    fn tls_records_tile_the_message() {
        for (up, no, len) in [
            (true, 0u8, 517u32),
            (true, 0, 90_000),
            (false, 0, 200_000),
            (false, 1, 40_000),
        ] {
            let m = message(443, up, no, len, 1448);
            let mut at = 0usize;
            if no == 0 {
                assert_eq!(m[0], 0x16);
                // Handshake records, then ChangeCipherSpec for the server.
                while at < m.len() && m[at] != 0x17 {
                    at += 5 + usize::from(u16::from_be_bytes([m[at + 3], m[at + 4]]));
                }
            }
            while at < m.len() {
                assert_eq!(
                    &m[at..at + 3],
                    &[0x17, 0x03, 0x03],
                    "record at {at} of {len}"
                );
                at += 5 + usize::from(u16::from_be_bytes([m[at + 3], m[at + 4]]));
            }
            assert_eq!(at, m.len());
        }
    }

    #[test]
    fn client_hello_carries_sni() {
        let m = message(443, true, 0, 517, 1460);
        assert_eq!(u16::from_be_bytes([m[3], m[4]]), 512);
        let sni = b"www.example.test";
        assert!(m.windows(sni.len()).any(|w| w == sni));
    }
}
