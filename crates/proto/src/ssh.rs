//! SSH (RFC 4253): version banners and the cleartext key-exchange negotiation.
//!
//! Method. Each direction starts with an identification line `SSH-protoversion-softwareversion
//! [SP comments] CR LF`; a server may send other lines before it (RFC 4253 §4.2), which are
//! skipped. After the banner come binary packets (`uint32 packet_length, byte padding_length,
//! payload, padding`); the first one of each side is normally `SSH_MSG_KEXINIT` (20), whose
//! name-lists give the algorithms each side offers. The negotiated algorithm of each category
//! is the first client algorithm that the server also lists (RFC 4253 §7.1), which is what Zeek
//! logs as `kex_alg`, `host_key_alg`, `cipher_alg`, `mac_alg`, `compression_alg`. Parsing stops
//! at `SSH_MSG_NEWKEYS` (21): everything after is encrypted.
//!
//! Bounds: banner lines up to 255 bytes (the RFC's limit; longer lines are cut and counted),
//! at most 16 pre-banner lines, a KEXINIT packet up to 35 000 bytes (RFC 4253 §6.1), each
//! name-list kept up to 1 KiB.
//!
//! Not handled: SSH-1 beyond its banner, authentication outcome (Zeek infers it from packet
//! sizes after NEWKEYS; we report it as unknown), HASSH.

use crate::Dir;

const MAX_LINE: usize = 255;
const MAX_PRE_LINES: u32 = 16;
const MAX_PACKET: usize = 35_000;
const MAX_LIST: usize = 1024;

/// One side's identification and offered algorithms.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Endpoint {
    /// The whole identification line without CR LF (Zeek `client` / `server`).
    pub banner: Vec<u8>,
    /// `protoversion`, e.g. `2.0` (EVE `proto_version`).
    pub proto_version: Vec<u8>,
    /// `softwareversion`, without comments (EVE `software_version`).
    pub software_version: Vec<u8>,
    /// KEXINIT name-lists in RFC order: kex, host key, cipher c2s, cipher s2c, mac c2s,
    /// mac s2c, compression c2s, compression s2c.
    pub kex_lists: [Vec<u8>; 8],
    pub kexinit_seen: bool,
}

/// What the parser learned about one connection.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct SshSession {
    pub client: Endpoint,
    pub server: Endpoint,
    /// Both sides sent NEWKEYS: the encrypted session started.
    pub newkeys: [bool; 2],
}

impl SshSession {
    /// Major protocol version from the banners (Zeek `version`): 2 for "2.0" and "1.99".
    pub fn version(&self) -> Option<u8> {
        let v = if self.server.proto_version.is_empty() {
            &self.client.proto_version
        } else {
            &self.server.proto_version
        };
        match v.as_slice() {
            b"2.0" | b"1.99" => Some(2),
            v if v.starts_with(b"1.") => Some(1),
            _ => None,
        }
    }

    /// The negotiated algorithm of KEXINIT list `i` (0 = kex, 1 = host key, 2 = cipher c2s,
    /// 4 = mac c2s, 6 = compression c2s), when both sides' lists were seen.
    pub fn negotiated(&self, i: usize) -> Option<&[u8]> {
        if !(self.client.kexinit_seen && self.server.kexinit_seen) {
            return None;
        }
        let c = self.client.kex_lists.get(i)?;
        let s = self.server.kex_lists.get(i)?;
        c.split(|&b| b == b',')
            .find(|alg| !alg.is_empty() && s.split(|&b| b == b',').any(|x| x == *alg))
    }
}

/// Malformations counted rather than fatal.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct SshAnomalies {
    pub long_banner: u32,
    pub no_banner: u32,
    pub bad_packet_length: u32,
}

#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
enum Phase {
    #[default]
    Banner,
    Packets,
    Done,
}

#[derive(Debug, Default)]
struct Side {
    phase: Phase,
    buf: Vec<u8>,
    pre_lines: u32,
    /// Bytes of an oversized packet still to skip.
    skip: usize,
}

/// The SSH parser for one connection.
#[derive(Debug, Default)]
pub struct SshParser {
    sides: [Side; 2],
    session: SshSession,
    anomalies: SshAnomalies,
    done_reported: bool,
}

impl SshParser {
    pub fn new() -> SshParser {
        SshParser::default()
    }

    /// Back to a fresh connection, keeping buffers.
    pub fn reset(&mut self) {
        for s in &mut self.sides {
            s.phase = Phase::Banner;
            s.buf.clear();
            s.pre_lines = 0;
            s.skip = 0;
        }
        for e in [&mut self.session.client, &mut self.session.server] {
            e.banner.clear();
            e.proto_version.clear();
            e.software_version.clear();
            for l in &mut e.kex_lists {
                l.clear();
            }
            e.kexinit_seen = false;
        }
        self.session.newkeys = [false; 2];
        self.anomalies = SshAnomalies::default();
        self.done_reported = false;
    }

    pub fn session(&self) -> &SshSession {
        &self.session
    }

    pub fn anomalies(&self) -> &SshAnomalies {
        &self.anomalies
    }

    pub fn buffered_bytes(&self) -> usize {
        self.sides.iter().map(|s| s.buf.len()).sum()
    }

    /// Whether a stream's first bytes are an SSH identification line.
    pub fn looks_like_ssh(first: &[u8]) -> bool {
        first.len() >= 4 && &first[..4] == b"SSH-"
    }

    /// True once, when both banners and both KEXINITs were seen (or both sides went
    /// encrypted): the session can be logged.
    pub fn take_done(&mut self) -> bool {
        let s = &self.session;
        let ready =
            (s.client.kexinit_seen && s.server.kexinit_seen) || (s.newkeys[0] && s.newkeys[1]);
        if ready && !self.done_reported {
            self.done_reported = true;
            return true;
        }
        false
    }

    /// Whether the session was already reported through [`SshParser::take_done`].
    pub fn reported(&self) -> bool {
        self.done_reported
    }

    /// Missing bytes: the direction cannot be parsed any further.
    pub fn gap(&mut self, dir: Dir, _len: u64) {
        let side = &mut self.sides[dir.index()];
        side.phase = Phase::Done;
        side.buf.clear();
    }

    /// Feeds in-order bytes of one direction.
    pub fn feed(&mut self, dir: Dir, data: &[u8]) {
        let mut data = data;
        while !data.is_empty() {
            let side = &mut self.sides[dir.index()];
            match side.phase {
                Phase::Done => return,
                Phase::Banner => data = self.banner_bytes(dir, data),
                Phase::Packets => data = self.packet_bytes(dir, data),
            }
        }
    }

    fn banner_bytes<'d>(&mut self, dir: Dir, data: &'d [u8]) -> &'d [u8] {
        let side = &mut self.sides[dir.index()];
        let nl = data.iter().position(|&b| b == b'\n');
        let (part, rest) = match nl {
            Some(i) => (&data[..i], &data[i + 1..]),
            None => (data, &data[data.len()..]),
        };
        let room = MAX_LINE.saturating_sub(side.buf.len());
        side.buf.extend_from_slice(&part[..part.len().min(room)]);
        let cut = part.len() > room;
        if nl.is_none() {
            if cut {
                // A line this long is no identification line we can keep; wait for its end.
                self.anomalies.long_banner += 1;
            }
            return rest;
        }
        let line = std::mem::take(&mut side.buf);
        let line_trim = line.strip_suffix(b"\r").unwrap_or(&line);
        if line_trim.starts_with(b"SSH-") {
            let ep = match dir {
                Dir::ToServer => &mut self.session.client,
                Dir::ToClient => &mut self.session.server,
            };
            ep.banner.clear();
            ep.banner.extend_from_slice(line_trim);
            let body = &line_trim[4..];
            let (proto, soft) = match body.iter().position(|&b| b == b'-') {
                Some(i) => (&body[..i], &body[i + 1..]),
                None => (body, &body[body.len()..]),
            };
            let soft = match soft.iter().position(|&b| b == b' ') {
                Some(i) => &soft[..i],
                None => soft,
            };
            ep.proto_version.clear();
            ep.proto_version.extend_from_slice(proto);
            ep.software_version.clear();
            ep.software_version.extend_from_slice(soft);
            side.phase = if proto.starts_with(b"1.") && proto != b"1.99" {
                Phase::Done
            } else {
                Phase::Packets
            };
        } else {
            side.pre_lines += 1;
            if side.pre_lines > MAX_PRE_LINES || dir == Dir::ToServer {
                self.anomalies.no_banner += 1;
                side.phase = Phase::Done;
            }
        }
        // Give the allocation back for the next line.
        let mut line = line;
        line.clear();
        side.buf = line;
        rest
    }

    fn packet_bytes<'d>(&mut self, dir: Dir, data: &'d [u8]) -> &'d [u8] {
        let side = &mut self.sides[dir.index()];
        if side.skip > 0 {
            let n = side.skip.min(data.len());
            side.skip -= n;
            return &data[n..];
        }
        // Assemble the 4-byte length, then the packet, in `buf`, unless whole in `data`.
        if side.buf.is_empty() && data.len() >= 4 {
            let len = u32::from_be_bytes([data[0], data[1], data[2], data[3]]) as usize;
            if let Some(pkt) = data.get(4..4 + len) {
                if len <= MAX_PACKET {
                    self.packet(dir, pkt);
                    return &data[4 + len..];
                }
            }
        }
        let mut data = data;
        let need_hdr = 4usize.saturating_sub(side.buf.len());
        if need_hdr > 0 {
            let n = need_hdr.min(data.len());
            side.buf.extend_from_slice(&data[..n]);
            data = &data[n..];
            if side.buf.len() < 4 {
                return data;
            }
        }
        let len = u32::from_be_bytes([side.buf[0], side.buf[1], side.buf[2], side.buf[3]]) as usize;
        if !(5..=MAX_PACKET).contains(&len) {
            self.anomalies.bad_packet_length += 1;
            side.buf.clear();
            if len > MAX_PACKET && len < (1 << 24) {
                side.skip = len;
            } else {
                side.phase = Phase::Done;
            }
            return data;
        }
        let have = side.buf.len() - 4;
        let n = (len - have).min(data.len());
        side.buf.extend_from_slice(&data[..n]);
        if side.buf.len() == 4 + len {
            let buf = std::mem::take(&mut side.buf);
            self.packet(dir, &buf[4..]);
            let mut buf = buf;
            buf.clear();
            self.sides[dir.index()].buf = buf;
        }
        &data[n..]
    }

    /// One binary packet: `padding_length`, payload, padding (no MAC before NEWKEYS).
    fn packet(&mut self, dir: Dir, pkt: &[u8]) {
        let Some((&pad, rest)) = pkt.split_first() else {
            self.anomalies.bad_packet_length += 1;
            return;
        };
        let Some(payload) = rest.get(..rest.len().saturating_sub(pad as usize)) else {
            return;
        };
        match payload.first() {
            Some(20) => self.kexinit(dir, &payload[1..]),
            Some(21) => {
                self.session.newkeys[dir.index()] = true;
                self.sides[dir.index()].phase = Phase::Done;
            }
            _ => {}
        }
    }

    fn kexinit(&mut self, dir: Dir, body: &[u8]) {
        let ep = match dir {
            Dir::ToServer => &mut self.session.client,
            Dir::ToClient => &mut self.session.server,
        };
        // 16-byte cookie, then ten name-lists (languages are the last two; not kept).
        let mut p = body.get(16..).unwrap_or(&[]);
        for i in 0..10 {
            let Some(len) = p.get(..4) else {
                return;
            };
            let len = u32::from_be_bytes([len[0], len[1], len[2], len[3]]) as usize;
            let Some(list) = p.get(4..4 + len) else {
                return;
            };
            if let Some(dst) = ep.kex_lists.get_mut(i) {
                crate::set_bounded(dst, list, MAX_LIST);
            }
            p = &p[4 + len..];
        }
        ep.kexinit_seen = true;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn kexinit(lists: [&str; 10]) -> Vec<u8> {
        let mut payload = vec![20u8];
        payload.extend_from_slice(&[7; 16]);
        for l in lists {
            payload.extend_from_slice(&(l.len() as u32).to_be_bytes());
            payload.extend_from_slice(l.as_bytes());
        }
        payload.extend_from_slice(&[0, 0, 0, 0, 0]);
        let pad = 4usize;
        let mut pkt = ((1 + payload.len() + pad) as u32).to_be_bytes().to_vec();
        pkt.push(pad as u8);
        pkt.extend_from_slice(&payload);
        pkt.extend_from_slice(&[0; 4]);
        pkt
    }

    fn conversation() -> (Vec<u8>, Vec<u8>) {
        let mut c = b"SSH-2.0-OpenSSH_9.6p1 Ubuntu-3\r\n".to_vec();
        c.extend(kexinit([
            "curve25519-sha256,diffie-hellman-group14-sha256",
            "ssh-ed25519,rsa-sha2-512",
            "chacha20-poly1305@openssh.com,aes128-ctr",
            "chacha20-poly1305@openssh.com,aes128-ctr",
            "umac-64-etm@openssh.com,hmac-sha2-256",
            "umac-64-etm@openssh.com,hmac-sha2-256",
            "none,zlib@openssh.com",
            "none,zlib@openssh.com",
            "",
            "",
        ]));
        let mut s = b"Welcome\r\nSSH-2.0-dropbear_2022.83\r\n".to_vec();
        s.extend(kexinit([
            "diffie-hellman-group14-sha256,curve25519-sha256",
            "rsa-sha2-512",
            "aes128-ctr",
            "aes128-ctr",
            "hmac-sha2-256",
            "hmac-sha2-256",
            "none",
            "none",
            "",
            "",
        ]));
        (c, s)
    }

    fn check(p: &SshParser) {
        let s = p.session();
        assert_eq!(s.client.banner, b"SSH-2.0-OpenSSH_9.6p1 Ubuntu-3");
        assert_eq!(s.client.software_version, b"OpenSSH_9.6p1");
        assert_eq!(s.server.proto_version, b"2.0");
        assert_eq!(s.server.software_version, b"dropbear_2022.83");
        assert_eq!(s.version(), Some(2));
        assert_eq!(s.negotiated(0), Some(&b"curve25519-sha256"[..]));
        assert_eq!(s.negotiated(1), Some(&b"rsa-sha2-512"[..]));
        assert_eq!(s.negotiated(2), Some(&b"aes128-ctr"[..]));
        assert_eq!(s.negotiated(4), Some(&b"hmac-sha2-256"[..]));
        assert_eq!(s.negotiated(6), Some(&b"none"[..]));
    }

    #[test]
    fn banners_and_negotiation() {
        let (c, s) = conversation();
        let mut p = SshParser::new();
        p.feed(Dir::ToClient, &s);
        assert!(!p.take_done());
        p.feed(Dir::ToServer, &c);
        assert!(p.take_done());
        assert!(!p.take_done());
        check(&p);
    }

    #[test]
    fn any_split_gives_the_same_session() {
        let (c, s) = conversation();
        for cut in 0..c.len().max(s.len()) {
            let mut p = SshParser::new();
            let (c1, c2) = c.split_at(cut.min(c.len()));
            let (s1, s2) = s.split_at(cut.min(s.len()));
            p.feed(Dir::ToServer, c1);
            p.feed(Dir::ToClient, s1);
            p.feed(Dir::ToServer, c2);
            p.feed(Dir::ToClient, s2);
            check(&p);
        }
        let mut p = SshParser::new();
        for b in c.chunks(1) {
            p.feed(Dir::ToServer, b);
        }
        for b in s.chunks(1) {
            p.feed(Dir::ToClient, b);
        }
        check(&p);
    }

    #[test]
    fn garbage_and_limits() {
        let mut p = SshParser::new();
        p.feed(Dir::ToServer, b"GET / HTTP/1.1\r\n");
        assert_eq!(p.anomalies().no_banner, 1);
        p.feed(Dir::ToServer, b"SSH-2.0-late\r\n");
        assert!(p.session().client.banner.is_empty());
        let mut p = SshParser::new();
        p.feed(Dir::ToClient, &[b'A'; 1000]);
        p.feed(Dir::ToClient, b"\r\nSSH-2.0-x\r\n\xff\xff\xff\xff");
        assert_eq!(p.anomalies().long_banner, 1);
        assert_eq!(p.session().server.software_version, b"x");
        assert_eq!(p.anomalies().bad_packet_length, 1);
        assert!(p.buffered_bytes() <= MAX_LINE);
    }
}
