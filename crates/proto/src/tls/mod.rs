//! TLS handshake analysis over reassembled TCP streams: hellos, JA3 / JA3S / JA4, the server
//! certificate chain, alerts and the session state (established, resumed) that Zeek's
//! `ssl.log` / `x509.log` and Suricata's EVE `tls` record need. Nothing is decrypted.
//!
//! # Method
//!
//! [`TlsParser`] keeps one state machine per direction. The record layer (RFC 8446 5.1,
//! RFC 5246 6.2) reads 5-byte headers and walks record bodies by length, whatever the chunking
//! of the input: a header or a body may be split anywhere. Handshake records feed a second,
//! message-level reassembler: messages (4-byte header, 24-bit length) may span records and
//! several may share one record. A message that lies whole inside one input chunk is parsed
//! in place; otherwise its body is collected in a per-direction buffer.
//!
//! Handshake messages are parsed while they are in the clear: everything before a direction's
//! ChangeCipherSpec in TLS <= 1.2; in TLS 1.3 (the ServerHello selects 0x0304 or a draft) only
//! the hellos are clear, the rest travels as `application_data` records. Recognised: ClientHello
//! ([`ClientHello`], with JA3 and JA4), ServerHello ([`ServerHello`], JA3S; a HelloRetryRequest
//! is recognised by its random and the real ServerHello that follows replaces it; the client's
//! second ClientHello, its answer to the retry, is kept beside the first with its own JA3 and
//! JA4, [`TlsSession::retry_client_hello`]), Certificate
//! from the server (TLS <= 1.2; [`CertInfo`], leaf first), ServerKeyExchange (the named curve of
//! ECDHE suites, Zeek's `curve`), ServerHelloDone, ClientKeyExchange; every message adds its
//! letter to [`TlsSession::history`] (Zeek's `ssl_history`: client letters upper case). Alerts
//! are kept when they are clear (a direction not yet encrypted, record of 2, 4, 6 or 8 bytes).
//!
//! Session state:
//! - done ([`TlsParser::take_done`], true exactly once): TLS <= 1.2 at the server's
//!   ChangeCipherSpec; TLS 1.3 right after the (non-HRR) ServerHello; in any case at the first
//!   application_data record from the server, or from the client once a ServerHello was seen
//!   (client application data before it is TLS 1.3 early data). After this nothing new is
//!   visible in clear (TLS 1.3 sessions are not yet `established` at that point; an engine
//!   that wants that flag logs later).
//! - established: ChangeCipherSpec seen both ways (TLS <= 1.2), or application data both ways
//!   (TLS <= 1.2), or for TLS 1.3 two server application_data records after the client's first
//!   one (Zeek's rule: the first one could be an encrypted alert).
//! - resumed: TLS <= 1.2: the ServerHello echoes the client's non-empty (and not all-zero)
//!   session id, or a ChangeCipherSpec arrives after the ServerHello with neither a server
//!   Certificate nor a ClientKeyExchange before it (abbreviated handshake, e.g. ticket
//!   resumption). TLS 1.3: the ServerHello carries pre_shared_key.
//!
//! Once done and established, the parser ignores further input (the rest is ciphertext).
//!
//! # Gaps
//!
//! [`TlsParser::gap`] reports lost bytes. A gap inside the body of the current record keeps
//! the record layer in sync (the length is known); the handshake message it hit is dropped
//! (if its length was known, the rest of it is skipped precisely; if the gap swallowed a
//! message header, the rest of that record's handshake bytes is dropped and parsing resumes
//! with the next handshake record, assuming it starts with a message). A gap that crosses a
//! record boundary loses sync: the direction then scans at most [`RESYNC_SCAN_LIMIT`] bytes for
//! a plausible record header (content type 20..=23, the direction's last record version or the
//! negotiated record version, length 1..=[`MAX_RECORD_LEN`]) and resumes there, or stops
//! parsing that direction when the budget is spent. A header split across two chunks during
//! the scan is missed; a false match inside ciphertext (about one in 10^7 positions) costs
//! anomalies, never a panic.
//!
//! # Bounds (defaults)
//!
//! - [`TlsConfig::max_handshake_msg`] (64 KiB): a longer handshake message is skipped by length
//!   (counted in [`TlsAnomalies::oversize_handshake`]), the record layer stays in sync; this is
//!   also the cap of the per-direction message buffer, the only buffer that grows with input.
//! - [`TlsConfig::max_certs`] (8): further certificates are counted, not parsed.
//! - Records longer than [`MAX_RECORD_LEN`] (2^14 + 2048, RFC 5246 6.2.3) or with an unknown
//!   content type or version stop the direction ([`TlsAnomalies::bad_record`]).
//! - [`MAX_ALERTS`] alerts, [`MAX_HISTORY`] history letters; hello caps in [`hello`], name and
//!   SAN caps in [`x509`]. Hello lists (ciphers, extensions, ...) are bounded by the message cap.
//!
//! # Not handled
//!
//! Decryption of anything; TLS 1.3 certificates (encrypted); client certificates (counted in
//! the history only); DTLS and QUIC (JA4 is `t` only); SSLv2 beyond recognising an
//! SSLv2-compatible ClientHello at the very start of the client stream (2-byte header with the
//! high bit set, message type 1, version 0x0002 or 0x0300..=0x0304): it is skipped by length
//! and counted ([`TlsSession::sslv2_client_hello`], history `C`), no fingerprint is computed,
//! and the TLS records that follow are parsed; the 3-byte SSLv2 header form is not recognised.
//! Compression, heartbeat content, renegotiation (encrypted), ECH inner hellos.
//!
//! # Output conventions
//!
//! JA3/JA3S follow tshark's `tls.handshake.ja3_full` / `ja3s_full`, JA4 FoxIO's spec (see
//! [`ja`]); certificate names in Suricata and Zeek spelling (see [`x509`]); serials in
//! Suricata's form (`00:AB:..`) and Zeek's (`AB..`); fingerprints SHA-1 `aa:bb:..` (Suricata
//! `tls.fingerprint`) and SHA-256 hex (Zeek `x509.log`). Version and cipher names: [`version_name`],
//! [`version_name_eve`], [`version_name_zeek`], [`cipher_name`], [`group_name`].

pub mod hello;
pub mod ja;
mod names;
pub mod x509;

use crate::Dir;

pub use hello::{parse_client_hello, parse_server_hello, HelloError};
pub use ja::is_grease;
pub use names::{cipher_name, group_name, version_name, version_name_eve, version_name_zeek};
pub use x509::{parse_certificate_into, X509Error};

/// Default [`TlsConfig::max_handshake_msg`].
pub const DEFAULT_MAX_HANDSHAKE_MSG: usize = 64 * 1024;
/// Default [`TlsConfig::max_certs`].
pub const DEFAULT_MAX_CERTS: usize = 8;
/// Longest record accepted: 2^14 + 2048 (TLSCiphertext, RFC 5246 6.2.3).
pub const MAX_RECORD_LEN: usize = 16384 + 2048;
/// Cleartext alerts kept per session.
pub const MAX_ALERTS: usize = 16;
/// History letters kept (Zeek's `SSL::max_ssl_history_length`).
pub const MAX_HISTORY: usize = 100;
/// Bytes scanned for a record header after a gap before a direction gives up.
pub const RESYNC_SCAN_LIMIT: usize = 64 * 1024;

const CT_CCS: u8 = 20;
const CT_ALERT: u8 = 21;
const CT_HANDSHAKE: u8 = 22;
const CT_APP_DATA: u8 = 23;
const CT_HEARTBEAT: u8 = 24;

/// Parser limits.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct TlsConfig {
    /// Longest handshake message parsed (and buffered); longer ones are skipped with an
    /// anomaly. Default 64 KiB.
    pub max_handshake_msg: usize,
    /// Certificates of the server chain parsed; default 8.
    pub max_certs: usize,
}

impl Default for TlsConfig {
    fn default() -> Self {
        TlsConfig {
            max_handshake_msg: DEFAULT_MAX_HANDSHAKE_MSG,
            max_certs: DEFAULT_MAX_CERTS,
        }
    }
}

/// The client's hello and its fingerprints.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct ClientHello {
    /// ClientHello.legacy_version (the JA3 version).
    pub legacy_version: u16,
    /// supported_versions extension values, in order, GREASE included.
    pub versions: Vec<u16>,
    /// Cipher suites in order, GREASE included.
    pub ciphers: Vec<u16>,
    /// Extension types in order, GREASE included.
    pub extensions: Vec<u16>,
    /// First host_name of the server_name extension (raw bytes, at most [`hello::MAX_SNI`]).
    pub sni: Vec<u8>,
    /// ALPN protocol names in order (at most [`hello::MAX_ALPN`]).
    pub alpn: Vec<Vec<u8>>,
    /// supported_groups (elliptic_curves), GREASE included.
    pub groups: Vec<u16>,
    /// ec_point_formats.
    pub point_formats: Vec<u8>,
    /// signature_algorithms in order.
    pub sig_algs: Vec<u16>,
    /// legacy_session_id.
    pub session_id: Vec<u8>,
    /// The JA3 string.
    pub ja3: String,
    /// MD5 of [`ClientHello::ja3`], 32 lower-case hex digits.
    pub ja3_hash: String,
    /// JA4 (TLS over TCP).
    pub ja4: String,
    /// JA4_r, the unhashed JA4 (sorted lists).
    pub ja4_r: String,
}

impl ClientHello {
    /// Empties every field, keeping allocations.
    pub fn clear(&mut self) {
        self.legacy_version = 0;
        self.versions.clear();
        self.ciphers.clear();
        self.extensions.clear();
        self.sni.clear();
        self.groups.clear();
        self.point_formats.clear();
        self.sig_algs.clear();
        self.session_id.clear();
        self.ja3.clear();
        self.ja3_hash.clear();
        self.ja4.clear();
        self.ja4_r.clear();
        // ALPN entries are reused by index by the parser, which truncates the rest.
    }
}

/// The server's hello and its fingerprint.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct ServerHello {
    /// ServerHello.legacy_version (the JA3S version).
    pub legacy_version: u16,
    /// The selected version: the supported_versions extension if present, else legacy_version.
    pub version: u16,
    /// The selected cipher suite.
    pub cipher: u16,
    /// Extension types in order.
    pub extensions: Vec<u16>,
    /// The selected ALPN protocol (empty if none).
    pub alpn: Vec<u8>,
    /// legacy_session_id(_echo).
    pub session_id: Vec<u8>,
    /// The JA3S string.
    pub ja3s: String,
    /// MD5 of [`ServerHello::ja3s`], 32 lower-case hex digits.
    pub ja3s_hash: String,
    /// This is a HelloRetryRequest (RFC 8446 4.1.3).
    pub hello_retry_request: bool,
    /// The group of the key_share extension (TLS 1.3).
    pub key_share_group: Option<u16>,
    /// The pre_shared_key extension is present (TLS 1.3 resumption).
    pub pre_shared_key: bool,
}

impl ServerHello {
    /// Empties every field, keeping allocations.
    pub fn clear(&mut self) {
        self.legacy_version = 0;
        self.version = 0;
        self.cipher = 0;
        self.extensions.clear();
        self.alpn.clear();
        self.session_id.clear();
        self.ja3s.clear();
        self.ja3s_hash.clear();
        self.hello_retry_request = false;
        self.key_share_group = None;
        self.pre_shared_key = false;
    }
}

/// What the logs need of one certificate (see [`x509`] for the formats).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct CertInfo {
    /// Suricata style subject: `C=US, O=Let's Encrypt, CN=R3`.
    pub subject: String,
    /// Suricata style issuer.
    pub issuer: String,
    /// Zeek style (OpenSSL RFC 2253) subject: `CN=R3,O=Let's Encrypt,C=US`.
    pub subject_zeek: String,
    /// Zeek style issuer.
    pub issuer_zeek: String,
    /// Suricata style serial: the INTEGER's content octets, `00:AB:..` upper-case hex.
    pub serial: String,
    /// Zeek style serial: upper-case hex without a leading zero octet, no separators.
    pub serial_zeek: String,
    /// notBefore, Unix seconds.
    pub not_before: i64,
    /// notAfter, Unix seconds.
    pub not_after: i64,
    /// SHA-1 of the DER, `aa:bb:..` (Suricata `tls.fingerprint`).
    pub sha1_fingerprint: String,
    /// SHA-256 of the DER, 64 lower-case hex digits (Zeek `x509.log` fingerprint).
    pub sha256_fingerprint: String,
    /// dNSName entries of subjectAltName.
    pub san_dns: Vec<String>,
    /// X.509 version (1, 2 or 3).
    pub version: u8,
    /// The DER was read completely; when false only the fingerprints (and whatever came before
    /// the error) are set.
    pub parsed: bool,
}

impl CertInfo {
    /// Empties every field, keeping allocations (the SAN strings are dropped).
    pub fn clear(&mut self) {
        self.clear_keeping_san();
        self.san_dns.clear();
    }

    /// Empties every field but `san_dns`, whose strings the certificate reader reuses.
    pub(crate) fn clear_keeping_san(&mut self) {
        self.subject.clear();
        self.issuer.clear();
        self.subject_zeek.clear();
        self.issuer_zeek.clear();
        self.serial.clear();
        self.serial_zeek.clear();
        self.not_before = 0;
        self.not_after = 0;
        self.sha1_fingerprint.clear();
        self.sha256_fingerprint.clear();
        self.version = 0;
        self.parsed = false;
    }
}

/// Everything learned about one TLS connection.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct TlsSession {
    /// The first ClientHello.
    pub client_hello: Option<ClientHello>,
    /// The second ClientHello, sent in answer to a HelloRetryRequest (RFC 8446 4.1.2). It
    /// repeats the first except for key_share, cookie, early_data, pre_shared_key and
    /// padding, so its JA3 and JA4 differ only when its extension list does (a `cookie` the
    /// server asked for, `early_data` dropped). Any later ClientHello only adds history.
    pub retry_client_hello: Option<ClientHello>,
    /// The ServerHello (the real one after a HelloRetryRequest).
    pub server_hello: Option<ServerHello>,
    /// The server's certificate chain, leaf first, at most [`TlsConfig::max_certs`].
    pub certs: Vec<CertInfo>,
    /// The handshake completed (see the module documentation).
    pub established: bool,
    /// The session was resumed (see the module documentation).
    pub resumed: bool,
    /// Cleartext alerts (level, description), at most [`MAX_ALERTS`].
    pub alerts: Vec<(u8, u8)>,
    /// Zeek `ssl_history` letters (client upper case), at most [`MAX_HISTORY`].
    pub history: Vec<u8>,
    /// The client started with an SSLv2-compatible ClientHello (skipped).
    pub sslv2_client_hello: bool,
    /// A HelloRetryRequest was seen.
    pub hello_retry: bool,
    /// The key exchange group: the ServerKeyExchange's named curve (ECDHE, TLS <= 1.2) or the
    /// ServerHello key_share group (TLS 1.3). Zeek's `curve`.
    pub curve: Option<u16>,
}

impl TlsSession {
    /// The selected version (ServerHello), if any.
    pub fn version(&self) -> Option<u16> {
        self.server_hello.as_ref().map(|s| s.version)
    }

    /// The last cleartext alert (Zeek's `last_alert` is its description).
    pub fn last_alert(&self) -> Option<(u8, u8)> {
        self.alerts.last().copied()
    }
}

/// Counters of malformed or unusual input. None of them is an error of the caller.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct TlsAnomalies {
    /// Record header with an unknown content type, a non-TLS version or an oversize length;
    /// the direction stopped.
    pub bad_record: u32,
    /// Zero-length handshake, alert or ChangeCipherSpec record.
    pub empty_record: u32,
    /// Handshake message longer than [`TlsConfig::max_handshake_msg`], skipped.
    pub oversize_handshake: u32,
    /// A hello or Certificate message that does not parse (or parses only partly).
    pub malformed_handshake: u32,
    /// A certificate whose DER does not parse.
    pub bad_certificate: u32,
    /// Certificates beyond [`TlsConfig::max_certs`].
    pub certs_truncated: u32,
    /// A non-handshake record arrived while a handshake message was incomplete.
    pub interrupted_handshake: u32,
    /// A message in the wrong direction (ClientHello from the server, ...) or a second
    /// ServerHello.
    pub unexpected_message: u32,
    /// SSLv2-compatible ClientHello skipped.
    pub sslv2_client_hello: u32,
    /// Heartbeat records.
    pub heartbeat: u32,
    /// Alerts beyond [`MAX_ALERTS`].
    pub alerts_truncated: u32,
    /// Calls to [`TlsParser::gap`].
    pub gaps: u32,
    /// Handshake messages lost (partly or wholly) to gaps.
    pub lost_messages: u32,
    /// Record sync regained after a gap.
    pub resyncs: u32,
    /// Directions that stopped parsing (bad record, or no resync within the budget).
    pub stopped: u32,
}

impl TlsAnomalies {
    /// Sum of all counters except `gaps` and `resyncs`.
    pub fn total(&self) -> u32 {
        self.bad_record
            + self.empty_record
            + self.oversize_handshake
            + self.malformed_handshake
            + self.bad_certificate
            + self.certs_truncated
            + self.interrupted_handshake
            + self.unexpected_message
            + self.sslv2_client_hello
            + self.heartbeat
            + self.alerts_truncated
            + self.lost_messages
            + self.stopped
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Mode {
    Records,
    Resync { scanned: usize },
    Stopped,
}

/// Per-direction record and handshake reassembly state.
#[derive(Debug)]
struct DirState {
    mode: Mode,
    /// Any record header has been read (the SSLv2 check applies before that).
    started: bool,
    hdr: [u8; 5],
    hdr_len: usize,
    rec_type: u8,
    rec_left: usize,
    sslv2_left: usize,
    /// Version of the last record header.
    version: u16,
    hs_hdr: [u8; 4],
    hs_hdr_len: usize,
    hs_need: usize,
    hs_buf: Vec<u8>,
    hs_skip: usize,
    hs_desync: bool,
    alert: [u8; 2],
    alert_len: usize,
    alert_clear: bool,
    ccs: bool,
    encrypted: bool,
    app_data: bool,
}

impl DirState {
    fn new() -> Self {
        DirState {
            mode: Mode::Records,
            started: false,
            hdr: [0; 5],
            hdr_len: 0,
            rec_type: 0,
            rec_left: 0,
            sslv2_left: 0,
            version: 0,
            hs_hdr: [0; 4],
            hs_hdr_len: 0,
            hs_need: 0,
            hs_buf: Vec::new(),
            hs_skip: 0,
            hs_desync: false,
            alert: [0; 2],
            alert_len: 0,
            alert_clear: false,
            ccs: false,
            encrypted: false,
            app_data: false,
        }
    }

    fn reset(&mut self) {
        let mut buf = std::mem::take(&mut self.hs_buf);
        buf.clear();
        *self = DirState::new();
        self.hs_buf = buf;
    }

    fn in_record(&self) -> bool {
        self.hdr_len == 5
    }

    /// A handshake message is partly read.
    fn hs_pending(&self) -> bool {
        self.hs_hdr_len > 0 || self.hs_skip > 0
    }

    fn drop_handshake_state(&mut self) {
        self.hs_hdr_len = 0;
        self.hs_need = 0;
        self.hs_buf.clear();
        self.hs_skip = 0;
    }
}

/// Streaming TLS handshake parser for one connection (see the module documentation).
#[derive(Debug)]
pub struct TlsParser {
    cfg: TlsConfig,
    session: TlsSession,
    anomalies: TlsAnomalies,
    dirs: [DirState; 2],
    tls13: bool,
    done: bool,
    done_taken: bool,
    finished: bool,
    cert_seen: bool,
    cke_seen: bool,
    client_app_seen: bool,
    server_app_after_client: u32,
    /// Cleared hellos kept for the next connection (at most two: first and retried).
    spare_ch: Vec<ClientHello>,
    spare_sh: Option<ServerHello>,
    cert_pool: Vec<CertInfo>,
    cert_scratch: Vec<u8>,
    scratch: Vec<u16>,
}

fn is_tls13(v: u16) -> bool {
    v == 0x0304 || v >> 8 == 0x7f || v >> 8 == 0xfb
}

/// The handshake message letter of Zeek's `ssl_history` (server side, lower case).
fn history_letter(msg_type: u8, hrr: bool) -> u8 {
    match msg_type {
        0 => b'h',
        1 => b'c',
        2 if hrr => b'j',
        2 => b's',
        3 => b'v',
        4 => b't',
        5 => b'e',
        6 => b'j',
        8 => b'o',
        11 => b'x',
        12 => b'k',
        13 => b'r',
        14 => b'n',
        15 => b'y',
        16 => b'g',
        20 => b'f',
        21 => b'w',
        22 => b'u',
        23 => b'a',
        24 => b'p',
        254 => b'm',
        _ => b'z',
    }
}

/// An SSLv2-compatible ClientHello header (RFC 5246 appendix E.2): 2-byte length with the
/// high bit set, msg_type 1, version 0x0002 or 0x0300..=0x0304.
fn sslv2_client_hello_header(h: &[u8]) -> Option<usize> {
    match *h {
        [b0, b1, 1, major, minor, ..]
            if b0 & 0x80 != 0 && ((major == 0 && minor == 2) || (major == 3 && minor <= 4)) =>
        {
            let len = (usize::from(b0 & 0x7f) << 8) | usize::from(b1);
            // msg_type + version + 3 lengths + at least one cipher spec + 16 bytes challenge
            (len >= 9 + 3 + 16).then_some(len)
        }
        _ => None,
    }
}

/// A plausible record header for resynchronisation: content type 20..=23, a length of
/// 1..=[`MAX_RECORD_LEN`] and one of the `versions` (0 entries ignored; none known: any
/// 0x0300..=0x0304).
fn plausible_header(h: &[u8], versions: [u16; 2]) -> bool {
    match *h {
        [ty, major, minor, l0, l1, ..] => {
            let v = u16::from_be_bytes([major, minor]);
            let len = usize::from(u16::from_be_bytes([l0, l1]));
            let version_ok = if versions == [0, 0] {
                major == 3 && minor <= 4
            } else {
                v != 0 && versions.contains(&v)
            };
            (CT_CCS..=CT_APP_DATA).contains(&ty)
                && version_ok
                && (1..=MAX_RECORD_LEN).contains(&len)
        }
        _ => false,
    }
}

impl TlsParser {
    /// A parser for one connection.
    pub fn new(cfg: TlsConfig) -> Self {
        TlsParser {
            cfg,
            session: TlsSession::default(),
            anomalies: TlsAnomalies::default(),
            dirs: [DirState::new(), DirState::new()],
            tls13: false,
            done: false,
            done_taken: false,
            finished: false,
            cert_seen: false,
            cke_seen: false,
            client_app_seen: false,
            server_app_after_client: 0,
            spare_ch: Vec::new(),
            spare_sh: None,
            cert_pool: Vec::new(),
            cert_scratch: Vec::new(),
            scratch: Vec::new(),
        }
    }

    /// Forgets the connection, keeping buffers and parsed-object allocations for the next one.
    pub fn reset(&mut self) {
        for mut ch in [
            self.session.client_hello.take(),
            self.session.retry_client_hello.take(),
        ]
        .into_iter()
        .flatten()
        {
            ch.clear();
            self.spare_ch.push(ch);
        }
        if let Some(mut sh) = self.session.server_hello.take() {
            sh.clear();
            self.spare_sh = Some(sh);
        }
        for c in self.session.certs.drain(..) {
            if self.cert_pool.len() < self.cfg.max_certs {
                self.cert_pool.push(c); // cleared when reused
            }
        }
        self.session.established = false;
        self.session.resumed = false;
        self.session.alerts.clear();
        self.session.history.clear();
        self.session.sslv2_client_hello = false;
        self.session.hello_retry = false;
        self.session.curve = None;
        self.anomalies = TlsAnomalies::default();
        for d in &mut self.dirs {
            d.reset();
        }
        self.tls13 = false;
        self.done = false;
        self.done_taken = false;
        self.finished = false;
        self.cert_seen = false;
        self.cke_seen = false;
        self.client_app_seen = false;
        self.server_app_after_client = 0;
    }

    /// What has been learned so far.
    pub fn session(&self) -> &TlsSession {
        &self.session
    }

    /// Anomaly counters.
    pub fn anomalies(&self) -> &TlsAnomalies {
        &self.anomalies
    }

    /// Bytes held in reassembly buffers (partial headers and handshake messages).
    pub fn buffered_bytes(&self) -> usize {
        self.dirs
            .iter()
            .map(|d| {
                d.hs_buf.len()
                    + if d.in_record() { 0 } else { d.hdr_len }
                    + d.hs_hdr_len
                    + d.alert_len
            })
            .sum()
    }

    /// True exactly once, when the handshake has progressed to where nothing more is visible
    /// in clear (see the module documentation).
    pub fn take_done(&mut self) -> bool {
        if self.done && !self.done_taken {
            self.done_taken = true;
            return true;
        }
        false
    }

    /// Whether the done point has been reached (whether or not it was taken).
    pub fn is_done(&self) -> bool {
        self.done
    }

    /// Protocol detection on the first bytes of a stream: a handshake record header (type
    /// 0x16, version 0x0300..=0x0304, length 1..=[`MAX_RECORD_LEN`]) whose first message is a
    /// ClientHello or ServerHello when that byte is present; or an SSLv2-compatible
    /// ClientHello header (see the module documentation). Needs at least 3 bytes (5 for
    /// SSLv2); checks as much as it is given.
    pub fn looks_like_tls(first_bytes: &[u8]) -> bool {
        match first_bytes {
            [0x16, 0x03, minor, rest @ ..] if *minor <= 4 => {
                let len_ok = match rest {
                    [l0, l1, ..] => {
                        (1..=MAX_RECORD_LEN).contains(&usize::from(u16::from_be_bytes([*l0, *l1])))
                    }
                    _ => true,
                };
                len_ok && rest.get(2).is_none_or(|&t| t == 1 || t == 2)
            }
            [b0, ..] if b0 & 0x80 != 0 => sslv2_client_hello_header(first_bytes).is_some(),
            _ => false,
        }
    }

    /// Feeds in-order stream bytes of one direction.
    pub fn feed(&mut self, dir: Dir, data: &[u8]) {
        let d = dir.index();
        let mut data = data;
        while !data.is_empty() && !self.finished {
            match self.dirs[d].mode {
                Mode::Stopped => return,
                Mode::Resync { scanned } => {
                    let versions = [self.dirs[d].version, self.record_version()];
                    let budget = RESYNC_SCAN_LIMIT.saturating_sub(scanned);
                    let window = data.get(..budget.min(data.len())).unwrap_or_default();
                    let found = (0..window.len())
                        .find(|&i| plausible_header(data.get(i..).unwrap_or_default(), versions));
                    match found {
                        Some(i) => {
                            self.anomalies.resyncs += 1;
                            let st = &mut self.dirs[d];
                            st.mode = Mode::Records;
                            st.started = true;
                            st.hdr_len = 0;
                            st.sslv2_left = 0;
                            st.alert_len = 0;
                            st.drop_handshake_state();
                            st.hs_desync = false;
                            data = data.get(i..).unwrap_or_default();
                        }
                        None => {
                            let scanned = scanned + window.len();
                            if scanned >= RESYNC_SCAN_LIMIT {
                                self.stop(d);
                            } else {
                                self.dirs[d].mode = Mode::Resync { scanned };
                            }
                            return;
                        }
                    }
                }
                Mode::Records => {}
            }
            let st = &mut self.dirs[d];
            if st.sslv2_left > 0 {
                let n = st.sslv2_left.min(data.len());
                st.sslv2_left -= n;
                data = data.get(n..).unwrap_or_default();
            } else if !st.in_record() {
                let n = (5 - st.hdr_len).min(data.len());
                if let (Some(dst), Some(src)) =
                    (st.hdr.get_mut(st.hdr_len..st.hdr_len + n), data.get(..n))
                {
                    dst.copy_from_slice(src);
                }
                st.hdr_len += n;
                data = data.get(n..).unwrap_or_default();
                if st.hdr_len == 5 {
                    self.on_header(d);
                }
            } else {
                let n = st.rec_left.min(data.len());
                let body = data.get(..n).unwrap_or_default();
                data = data.get(n..).unwrap_or_default();
                st.rec_left -= n;
                self.on_body(d, body);
                let st = &mut self.dirs[d];
                if st.in_record() && st.rec_left == 0 {
                    st.hdr_len = 0;
                }
            }
        }
    }

    /// Reports `len` bytes lost in one direction (see the module documentation).
    pub fn gap(&mut self, dir: Dir, len: u64) {
        self.anomalies.gaps += 1;
        if self.finished || len == 0 {
            return;
        }
        let d = dir.index();
        let st = &mut self.dirs[d];
        if st.mode != Mode::Records {
            return;
        }
        let len_us = usize::try_from(len).unwrap_or(usize::MAX);
        if st.sslv2_left > 0 && len_us <= st.sslv2_left {
            st.sslv2_left -= len_us;
            return;
        }
        if st.in_record() && len_us <= st.rec_left {
            st.rec_left -= len_us;
            match st.rec_type {
                CT_HANDSHAKE if !st.encrypted => self.handshake_lost(d, len_us),
                CT_ALERT => st.alert_clear = false,
                _ => {}
            }
            let st = &mut self.dirs[d];
            if st.rec_left == 0 {
                st.hdr_len = 0;
            }
            return;
        }
        // The gap crosses a record boundary (or hits a header): sync is lost.
        if st.hs_pending() {
            self.anomalies.lost_messages += 1;
        }
        let st = &mut self.dirs[d];
        st.drop_handshake_state();
        st.hdr_len = 0;
        st.sslv2_left = 0;
        st.alert_len = 0;
        st.started = true;
        st.mode = Mode::Resync { scanned: 0 };
    }

    /// The record version of the negotiated protocol once the ServerHello is known: 0x0303 for
    /// TLS 1.3 (RFC 8446 5.1), the selected version otherwise; 0 when unknown.
    fn record_version(&self) -> u16 {
        match self.session.server_hello.as_ref().map(|s| s.version) {
            Some(_) if self.tls13 => 0x0303,
            Some(v @ 0x0300..=0x0303) => v,
            _ => 0,
        }
    }

    fn stop(&mut self, d: usize) {
        let st = &mut self.dirs[d];
        if st.mode != Mode::Stopped {
            st.mode = Mode::Stopped;
            st.drop_handshake_state();
            self.anomalies.stopped += 1;
        }
    }

    fn history(&mut self, d: usize, letter: u8) {
        if self.session.history.len() < MAX_HISTORY {
            self.session.history.push(if d == Dir::ToServer.index() {
                letter.to_ascii_uppercase()
            } else {
                letter
            });
        }
    }

    fn set_done(&mut self) {
        self.done = true;
        self.maybe_finish();
    }

    fn maybe_finish(&mut self) {
        if self.done && self.session.established {
            self.finished = true;
        }
    }

    fn on_header(&mut self, d: usize) {
        let st = &mut self.dirs[d];
        let h = st.hdr;
        if !st.started {
            st.started = true;
            if h[0] & 0x80 != 0 && d == Dir::ToServer.index() {
                if let Some(len) = sslv2_client_hello_header(&h) {
                    st.sslv2_left = (len + 2).saturating_sub(5);
                    st.hdr_len = 0;
                    self.anomalies.sslv2_client_hello += 1;
                    self.session.sslv2_client_hello = true;
                    self.history(d, b'c');
                    return;
                }
            }
        }
        let ty = h[0];
        let version = u16::from_be_bytes([h[1], h[2]]);
        let len = usize::from(u16::from_be_bytes([h[3], h[4]]));
        let valid = (CT_CCS..=CT_HEARTBEAT).contains(&ty)
            && h[1] == 3
            && h[2] <= 4
            && len <= MAX_RECORD_LEN;
        if !valid {
            self.anomalies.bad_record += 1;
            self.stop(d);
            return;
        }
        st.version = version;
        st.rec_type = ty;
        st.rec_left = len;
        if ty != CT_HANDSHAKE && st.hs_pending() {
            st.drop_handshake_state();
            self.anomalies.interrupted_handshake += 1;
        }
        let st = &mut self.dirs[d];
        if len == 0 && ty != CT_APP_DATA && ty != CT_HEARTBEAT {
            self.anomalies.empty_record += 1;
        }
        match ty {
            CT_CCS => self.on_ccs(d),
            CT_ALERT => {
                st.alert_len = 0;
                st.alert_clear = !st.encrypted && len % 2 == 0 && (2..=8).contains(&len);
            }
            CT_HANDSHAKE => st.hs_desync = false,
            CT_APP_DATA => self.on_app_data(d),
            _ => {
                self.anomalies.heartbeat += 1;
                self.history(d, b'b');
            }
        }
        let st = &mut self.dirs[d];
        if st.rec_left == 0 {
            st.hdr_len = 0;
        }
    }

    fn on_body(&mut self, d: usize, body: &[u8]) {
        let st = &mut self.dirs[d];
        match st.rec_type {
            CT_HANDSHAKE if !st.encrypted => self.handshake_bytes(d, body),
            CT_ALERT if st.alert_clear => {
                for &b in body {
                    let st = &mut self.dirs[d];
                    if let Some(slot) = st.alert.get_mut(st.alert_len) {
                        *slot = b;
                    }
                    st.alert_len += 1;
                    if st.alert_len == 2 {
                        st.alert_len = 0;
                        let a = (st.alert[0], st.alert[1]);
                        if self.session.alerts.len() < MAX_ALERTS {
                            self.session.alerts.push(a);
                        } else {
                            self.anomalies.alerts_truncated += 1;
                        }
                        self.history(d, b'l');
                    }
                }
            }
            _ => {}
        }
    }

    fn on_ccs(&mut self, d: usize) {
        self.history(d, b'i');
        let tls13 = self.tls13;
        let st = &mut self.dirs[d];
        st.ccs = true;
        if tls13 {
            return; // middlebox-compatibility CCS (RFC 8446 D.4): nothing changes
        }
        st.encrypted = true;
        if self.session.server_hello.is_some() && !self.cert_seen && !self.cke_seen {
            self.session.resumed = true;
        }
        if self.dirs.iter().all(|s| s.ccs) {
            self.session.established = true;
        }
        if d == Dir::ToClient.index() {
            self.set_done();
        }
        self.maybe_finish();
    }

    fn on_app_data(&mut self, d: usize) {
        self.dirs[d].app_data = true;
        if self.tls13 {
            if d == Dir::ToServer.index() {
                self.client_app_seen = true;
            } else if self.client_app_seen {
                self.server_app_after_client += 1;
                if self.server_app_after_client >= 2 {
                    self.session.established = true;
                }
            }
        } else if self.dirs.iter().all(|s| s.app_data) {
            self.session.established = true;
        }
        // Client application data before any ServerHello is TLS 1.3 early data (0-RTT): the
        // server's hello is still to come in clear.
        if d == Dir::ToClient.index() || self.session.server_hello.is_some() {
            self.set_done();
        } else {
            self.maybe_finish();
        }
    }

    /// Handshake-layer bytes of one record body.
    fn handshake_bytes(&mut self, d: usize, mut data: &[u8]) {
        let max = self.cfg.max_handshake_msg;
        while !data.is_empty() {
            let st = &mut self.dirs[d];
            if st.hs_desync {
                return;
            }
            if st.hs_skip > 0 {
                let n = st.hs_skip.min(data.len());
                st.hs_skip -= n;
                data = data.get(n..).unwrap_or_default();
                continue;
            }
            if st.hs_hdr_len < 4 {
                let n = (4 - st.hs_hdr_len).min(data.len());
                if let (Some(dst), Some(src)) = (
                    st.hs_hdr.get_mut(st.hs_hdr_len..st.hs_hdr_len + n),
                    data.get(..n),
                ) {
                    dst.copy_from_slice(src);
                }
                st.hs_hdr_len += n;
                data = data.get(n..).unwrap_or_default();
                if st.hs_hdr_len == 4 {
                    let [ty, a, b, c] = st.hs_hdr;
                    let len = (usize::from(a) << 16) | (usize::from(b) << 8) | usize::from(c);
                    st.hs_buf.clear();
                    if len > max {
                        st.hs_hdr_len = 0;
                        st.hs_skip = len;
                        self.anomalies.oversize_handshake += 1;
                        self.on_message_seen(d, ty);
                    } else if len == 0 {
                        st.hs_hdr_len = 0;
                        self.on_message(d, ty, &[]);
                    } else {
                        st.hs_need = len;
                    }
                }
                continue;
            }
            let ty = st.hs_hdr[0];
            let need = st.hs_need.saturating_sub(st.hs_buf.len());
            if st.hs_buf.is_empty() && data.len() >= need {
                let (body, rest) = data.split_at_checked(need).unwrap_or((data, &[]));
                st.hs_hdr_len = 0;
                data = rest;
                self.on_message(d, ty, body);
            } else {
                let n = need.min(data.len());
                st.hs_buf
                    .extend_from_slice(data.get(..n).unwrap_or_default());
                data = data.get(n..).unwrap_or_default();
                if st.hs_buf.len() >= st.hs_need {
                    st.hs_hdr_len = 0;
                    let buf = std::mem::take(&mut st.hs_buf);
                    self.on_message(d, ty, &buf);
                    let mut buf = buf;
                    buf.clear();
                    self.dirs[d].hs_buf = buf;
                }
            }
        }
    }

    /// `len` handshake bytes of the current record were lost to a gap.
    fn handshake_lost(&mut self, d: usize, mut len: usize) {
        let st = &mut self.dirs[d];
        if st.hs_desync {
            return;
        }
        if st.hs_skip > 0 {
            if len <= st.hs_skip {
                st.hs_skip -= len;
                return;
            }
            len -= st.hs_skip;
            st.hs_skip = 0;
        }
        if st.hs_hdr_len == 4 {
            let remaining = st.hs_need.saturating_sub(st.hs_buf.len());
            self.anomalies.lost_messages += 1;
            st.hs_hdr_len = 0;
            st.hs_buf.clear();
            if len <= remaining {
                st.hs_skip = remaining - len;
                return;
            }
        } else if st.hs_hdr_len > 0 {
            self.anomalies.lost_messages += 1;
        }
        // A message header was (at least partly) lost: the rest of this record is unusable.
        st.drop_handshake_state();
        st.hs_desync = true;
    }

    /// Flags and history of a message whose body is not parsed (oversize).
    fn on_message_seen(&mut self, d: usize, ty: u8) {
        self.history(d, history_letter(ty, false));
        match ty {
            11 if d == Dir::ToClient.index() => self.cert_seen = true,
            16 if d == Dir::ToServer.index() => self.cke_seen = true,
            _ => {}
        }
    }

    fn on_message(&mut self, d: usize, ty: u8, body: &[u8]) {
        let to_server = d == Dir::ToServer.index();
        match ty {
            1 => {
                self.history(d, b'c');
                if !to_server {
                    self.anomalies.unexpected_message += 1;
                } else if self.session.client_hello.is_none() {
                    self.session.client_hello = self.client_hello(body);
                } else if self.session.hello_retry && self.session.retry_client_hello.is_none() {
                    self.session.retry_client_hello = self.client_hello(body);
                }
            }
            2 => {
                if to_server {
                    self.history(d, b's');
                    self.anomalies.unexpected_message += 1;
                } else {
                    self.server_hello(d, body);
                }
            }
            11 => {
                self.on_message_seen(d, ty);
                if !to_server && !self.tls13 && self.session.certs.is_empty() {
                    self.certificates(body);
                }
            }
            12 => {
                self.on_message_seen(d, ty);
                if !to_server {
                    self.server_key_exchange(body);
                }
            }
            _ => self.on_message_seen(d, ty),
        }
    }

    /// Parses a ClientHello and computes its fingerprints; `None` when it is truncated.
    fn client_hello(&mut self, body: &[u8]) -> Option<ClientHello> {
        let mut ch = self.spare_ch.pop().unwrap_or_default();
        let res = parse_client_hello(body, &mut ch);
        if res.is_err() {
            self.anomalies.malformed_handshake += 1;
        }
        match res {
            Ok(()) | Err(HelloError::OddLength(_)) | Err(HelloError::ExtensionShort(_)) => {
                ja::ja3(&mut ch, true);
                ja::ja4(&mut ch, &mut self.scratch);
            }
            Err(HelloError::ExtensionsBlock) => ja::ja3(&mut ch, false),
            Err(HelloError::Extension(_)) => {}
            Err(HelloError::Truncated(_)) => {
                ch.clear();
                self.spare_ch.push(ch);
                return None;
            }
        }
        Some(ch)
    }

    fn server_hello(&mut self, d: usize, body: &[u8]) {
        if self
            .session
            .server_hello
            .as_ref()
            .is_some_and(|sh| !sh.hello_retry_request)
        {
            self.history(d, b's');
            self.anomalies.unexpected_message += 1;
            return;
        }
        let mut sh = self.spare_sh.take().unwrap_or_default();
        let res = parse_server_hello(body, &mut sh);
        self.history(d, if sh.hello_retry_request { b'j' } else { b's' });
        if res.is_err() {
            self.anomalies.malformed_handshake += 1;
        }
        match res {
            Ok(())
            | Err(HelloError::OddLength(_))
            | Err(HelloError::ExtensionShort(_))
            | Err(HelloError::ExtensionsBlock) => ja::ja3s(&mut sh),
            Err(HelloError::Extension(_)) => {}
            Err(HelloError::Truncated(_)) => {
                sh.clear();
                self.spare_sh = Some(sh);
                return;
            }
        }
        self.tls13 = is_tls13(sh.version) || sh.hello_retry_request;
        if sh.hello_retry_request {
            self.session.hello_retry = true;
        } else if self.tls13 {
            self.session.curve = sh.key_share_group;
            if sh.pre_shared_key {
                self.session.resumed = true;
            }
        } else if let Some(ch) = &self.session.client_hello {
            let sid = &ch.session_id;
            if !sid.is_empty() && sid.iter().any(|&b| b != 0) && *sid == sh.session_id {
                self.session.resumed = true;
            }
        }
        let done = self.tls13 && !sh.hello_retry_request;
        if let Some(mut old) = self.session.server_hello.replace(sh) {
            old.clear();
            self.spare_sh = Some(old);
        }
        if done {
            self.set_done();
        }
    }

    fn certificates(&mut self, body: &[u8]) {
        let u24 = |b: &[u8]| -> Option<usize> {
            match *b {
                [a, b, c, ..] => {
                    Some((usize::from(a) << 16) | (usize::from(b) << 8) | usize::from(c))
                }
                _ => None,
            }
        };
        let Some(list_len) = u24(body) else {
            self.anomalies.malformed_handshake += 1;
            return;
        };
        let mut p = body.get(3..).unwrap_or_default();
        if list_len != p.len() {
            self.anomalies.malformed_handshake += 1;
            p = p.get(..list_len.min(p.len())).unwrap_or_default();
        }
        while !p.is_empty() {
            let Some(n) = u24(p) else {
                self.anomalies.malformed_handshake += 1;
                return;
            };
            let Some(der) = p.get(3..3 + n) else {
                self.anomalies.malformed_handshake += 1;
                return;
            };
            p = p.get(3 + n..).unwrap_or_default();
            if self.session.certs.len() >= self.cfg.max_certs {
                self.anomalies.certs_truncated += 1;
                continue;
            }
            let mut c = self.cert_pool.pop().unwrap_or_default();
            if x509::parse_certificate_with(der, &mut c, &mut self.cert_scratch).is_err() {
                self.anomalies.bad_certificate += 1;
            }
            self.session.certs.push(c);
        }
    }

    /// ServerKeyExchange of ECDHE / ECDH_anon suites starts with ECParameters: curve_type 3
    /// (named_curve) and the group (RFC 8422 5.4).
    fn server_key_exchange(&mut self, body: &[u8]) {
        let Some(sh) = &self.session.server_hello else {
            return;
        };
        let ecdh = cipher_name(sh.cipher).is_some_and(|n| {
            (n.contains("_ECDHE_") || n.contains("_ECDH_ANON_")) && !n.contains("_PSK_")
        });
        if let [3, a, b, ..] = *body {
            if ecdh {
                self.session.curve = Some(u16::from_be_bytes([a, b]));
            }
        }
    }
}

#[cfg(test)]
mod tests;
