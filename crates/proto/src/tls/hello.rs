//! ClientHello / ServerHello bodies (RFC 5246 7.4.1, RFC 8446 4.1.2 / 4.1.3) and the
//! extensions the logs and fingerprints need: server_name (RFC 6066), supported_groups and
//! ec_point_formats (RFC 8422), signature_algorithms, ALPN (RFC 7301), supported_versions,
//! key_share and pre_shared_key (RFC 8446).
//!
//! Parsing fills the caller's reusable struct front to back; on malformed input it stops where
//! the structure breaks and returns an error, leaving what was read so far (tshark computes its
//! fingerprints the same way, over what it could dissect). An extension whose own content is
//! malformed keeps its type in the extension list; what could be read of its content is kept
//! and the walk goes on with the next extension, since the outer length is still known.

use std::fmt;

use super::{ClientHello, ServerHello};

/// The ServerHello.random of a HelloRetryRequest (RFC 8446 4.1.3): SHA-256("HelloRetryRequest").
pub(crate) const HRR_RANDOM: [u8; 32] = [
    0xcf, 0x21, 0xad, 0x74, 0xe5, 0x9a, 0x61, 0x11, 0xbe, 0x1d, 0x8c, 0x02, 0x1e, 0x65, 0xb8, 0x91,
    0xc2, 0xa2, 0x11, 0x16, 0x7a, 0xbb, 0x8c, 0x5e, 0x07, 0x9e, 0x09, 0xe2, 0xc8, 0xa8, 0x33, 0x9c,
];

/// Caps on what one hello stores (the message itself is capped by
/// [`super::TlsConfig::max_handshake_msg`]).
pub const MAX_ALPN: usize = 32;
/// Maximum bytes of SNI kept.
pub const MAX_SNI: usize = 1024;

/// A malformed hello. The variants also decide which fingerprints are still computed, the way
/// tshark does (it computes JA3 over what it could dissect, warns and reads on where a field
/// is short, but raises an exception, and gives no JA3, where a length runs past its
/// container):
/// - [`HelloError::OddLength`], [`HelloError::ExtensionShort`]: fingerprints kept;
/// - [`HelloError::ExtensionsBlock`]: JA3 without extension fields (`771,4865-4866,`), no JA4;
/// - [`HelloError::Extension`]: no fingerprints (the hello itself is kept: SNI, ...);
/// - [`HelloError::Truncated`]: nothing usable.
///
/// When several problems occur, the most severe one (in the reverse order of this list) is
/// returned.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum HelloError {
    /// This list has an odd length; its complete pairs were read, the rest of the message too.
    OddLength(&'static str),
    /// A field inside this extension is missing (its length prefix does not fit), or a partial
    /// extension header ends the block.
    ExtensionShort(&'static str),
    /// The extensions block length is missing or larger than the message.
    ExtensionsBlock,
    /// A length inside this extension, or the extension's own length, runs past its container.
    Extension(&'static str),
    /// The message ends inside this field of the fixed part; nothing usable.
    Truncated(&'static str),
}

impl HelloError {
    /// The fixed part of the hello was read (the hello is worth keeping).
    pub fn is_partial(&self) -> bool {
        !matches!(self, HelloError::Truncated(_))
    }

    fn severity(&self) -> u8 {
        match self {
            HelloError::OddLength(_) => 0,
            HelloError::ExtensionShort(_) => 1,
            HelloError::ExtensionsBlock => 2,
            HelloError::Extension(_) => 3,
            HelloError::Truncated(_) => 4,
        }
    }
}

impl fmt::Display for HelloError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            HelloError::OddLength(w) => write!(f, "hello has an odd {w} length"),
            HelloError::ExtensionShort(w) => write!(f, "hello extension too short at {w}"),
            HelloError::ExtensionsBlock => {
                f.write_str("hello extensions block length does not fit")
            }
            HelloError::Extension(w) => write!(f, "hello extension overruns at {w}"),
            HelloError::Truncated(w) => write!(f, "hello truncated in {w}"),
        }
    }
}

/// Keeps the more severe of two results.
fn worst(a: Result<(), HelloError>, b: Result<(), HelloError>) -> Result<(), HelloError> {
    match (a, b) {
        (Err(x), Err(y)) if y.severity() > x.severity() => Err(y),
        (Err(x), _) => Err(x),
        (Ok(()), b) => b,
    }
}

/// Why a length-prefixed vector could not be read.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum VecErr {
    /// The length prefix itself does not fit.
    NoRoom,
    /// The vector is longer than what is left.
    TooLarge,
}

/// A bounds-checked big-endian cursor.
struct Reader<'a> {
    b: &'a [u8],
}

impl<'a> Reader<'a> {
    fn new(b: &'a [u8]) -> Self {
        Reader { b }
    }

    fn is_empty(&self) -> bool {
        self.b.is_empty()
    }

    fn len(&self) -> usize {
        self.b.len()
    }

    fn take(&mut self, n: usize) -> Option<&'a [u8]> {
        let (h, t) = self.b.split_at_checked(n)?;
        self.b = t;
        Some(h)
    }

    fn u8(&mut self) -> Option<u8> {
        self.take(1)?.first().copied()
    }

    fn u16(&mut self) -> Option<u16> {
        match *self.take(2)? {
            [a, b] => Some(u16::from_be_bytes([a, b])),
            _ => None,
        }
    }

    fn vec8(&mut self) -> Result<&'a [u8], VecErr> {
        let n = self.u8().ok_or(VecErr::NoRoom)?;
        self.take(usize::from(n)).ok_or(VecErr::TooLarge)
    }

    fn vec16(&mut self) -> Result<&'a [u8], VecErr> {
        let n = self.u16().ok_or(VecErr::NoRoom)?;
        self.take(usize::from(n)).ok_or(VecErr::TooLarge)
    }
}

/// Maps a vector error of the fixed part.
fn fixed(what: &'static str) -> impl Fn(VecErr) -> HelloError {
    move |_| HelloError::Truncated(what)
}

/// Maps a vector error inside an extension.
fn inner(what: &'static str) -> impl Fn(VecErr) -> HelloError {
    move |e| match e {
        VecErr::NoRoom => HelloError::ExtensionShort(what),
        VecErr::TooLarge => HelloError::Extension(what),
    }
}

fn push_u16s(out: &mut Vec<u16>, b: &[u8]) {
    out.extend(b.chunks_exact(2).map(|c| u16::from_be_bytes([c[0], c[1]])));
}

/// Walks an extensions block, calling `f(type, data)` for each extension; a partial header at
/// the end is [`HelloError::ExtensionShort`], data running past the block
/// [`HelloError::Extension`] (both end the walk).
fn walk_extensions(
    block: &[u8],
    mut f: impl FnMut(u16, &[u8]) -> Result<(), HelloError>,
    types: &mut Vec<u16>,
) -> Result<(), HelloError> {
    let mut exts = Reader::new(block);
    let mut result = Ok(());
    while !exts.is_empty() {
        if exts.len() < 4 {
            return worst(result, Err(HelloError::ExtensionShort("extension header")));
        }
        let ty = exts.u16().unwrap_or_default();
        types.push(ty);
        let data = match exts.vec16() {
            Ok(d) => d,
            Err(_) => return worst(result, Err(HelloError::Extension("extension length"))),
        };
        result = worst(result, f(ty, data));
    }
    result
}

/// Parses a ClientHello body (after the 4-byte handshake header) into `ch` (cleared first).
/// Fingerprints are not computed here.
pub fn parse_client_hello(body: &[u8], ch: &mut ClientHello) -> Result<(), HelloError> {
    ch.clear();
    let mut r = Reader::new(body);
    ch.legacy_version = r.u16().ok_or(HelloError::Truncated("legacy_version"))?;
    r.take(32).ok_or(HelloError::Truncated("random"))?;
    let sid = r.vec8().map_err(fixed("legacy_session_id"))?;
    ch.session_id.extend_from_slice(sid);
    let ciphers = r.vec16().map_err(fixed("cipher_suites"))?;
    push_u16s(&mut ch.ciphers, ciphers);
    let mut result = if ciphers.len() % 2 != 0 {
        Err(HelloError::OddLength("cipher_suites"))
    } else {
        Ok(())
    };
    r.vec8().map_err(fixed("legacy_compression_methods"))?;
    if r.is_empty() {
        return result; // SSLv3 / TLS 1.0 clients may omit the extensions block
    }
    let Ok(block) = r.vec16() else {
        return worst(result, Err(HelloError::ExtensionsBlock));
    };
    let mut alpn_n = 0;
    let mut types = std::mem::take(&mut ch.extensions);
    let res = walk_extensions(
        block,
        |ty, data| client_extension(ty, data, ch, &mut alpn_n),
        &mut types,
    );
    ch.extensions = types;
    ch.alpn.truncate(alpn_n);
    result = worst(result, res);
    result
}

fn client_extension(
    ty: u16,
    data: &[u8],
    ch: &mut ClientHello,
    alpn_n: &mut usize,
) -> Result<(), HelloError> {
    let mut r = Reader::new(data);
    match ty {
        0x0000 => {
            let mut list = Reader::new(r.vec16().map_err(inner("server_name_list"))?);
            while !list.is_empty() {
                let name_type = list
                    .u8()
                    .ok_or(HelloError::ExtensionShort("server_name type"))?;
                let name = list.vec16().map_err(inner("server_name"))?;
                if name_type == 0 && ch.sni.is_empty() {
                    let n = name.len().min(MAX_SNI);
                    ch.sni.extend_from_slice(name.get(..n).unwrap_or_default());
                }
            }
        }
        0x0010 => {
            let mut list = Reader::new(r.vec16().map_err(inner("alpn list"))?);
            while !list.is_empty() {
                let p = list.vec8().map_err(inner("alpn protocol"))?;
                if *alpn_n < MAX_ALPN {
                    if let Some(slot) = ch.alpn.get_mut(*alpn_n) {
                        slot.clear();
                        slot.extend_from_slice(p);
                    } else {
                        ch.alpn.push(p.to_vec());
                    }
                    *alpn_n += 1;
                }
            }
        }
        0x000a => push_u16s(
            &mut ch.groups,
            r.vec16().map_err(inner("supported_groups"))?,
        ),
        0x000b => ch
            .point_formats
            .extend_from_slice(r.vec8().map_err(inner("ec_point_formats"))?),
        0x000d => push_u16s(
            &mut ch.sig_algs,
            r.vec16().map_err(inner("signature_algorithms"))?,
        ),
        0x002b => push_u16s(
            &mut ch.versions,
            r.vec8().map_err(inner("supported_versions"))?,
        ),
        _ => {}
    }
    Ok(())
}

/// True for the ServerHello formats of TLS 1.3 drafts before draft-22, which have no
/// legacy_session_id_echo and no legacy_compression_method.
fn draft_server_hello_format(v: u16) -> bool {
    matches!(v, 0x7f00..=0x7f15 | 0xfb14 | 0xfb15)
}

/// Parses a ServerHello body into `sh` (cleared first). Fingerprints are not computed here.
pub fn parse_server_hello(body: &[u8], sh: &mut ServerHello) -> Result<(), HelloError> {
    sh.clear();
    let mut r = Reader::new(body);
    sh.legacy_version = r.u16().ok_or(HelloError::Truncated("legacy_version"))?;
    sh.version = sh.legacy_version;
    let random = r.take(32).ok_or(HelloError::Truncated("random"))?;
    sh.hello_retry_request = random == HRR_RANDOM;
    let draft = draft_server_hello_format(sh.legacy_version);
    if !draft {
        let sid = r.vec8().map_err(fixed("legacy_session_id_echo"))?;
        sh.session_id.extend_from_slice(sid);
    }
    sh.cipher = r.u16().ok_or(HelloError::Truncated("cipher_suite"))?;
    if !draft {
        r.u8()
            .ok_or(HelloError::Truncated("legacy_compression_method"))?;
    }
    if r.is_empty() {
        return Ok(());
    }
    let Ok(block) = r.vec16() else {
        return Err(HelloError::ExtensionsBlock);
    };
    let mut types = std::mem::take(&mut sh.extensions);
    let res = walk_extensions(block, |ty, data| server_extension(ty, data, sh), &mut types);
    sh.extensions = types;
    res
}

fn server_extension(ty: u16, data: &[u8], sh: &mut ServerHello) -> Result<(), HelloError> {
    let mut r = Reader::new(data);
    let short = HelloError::ExtensionShort;
    match ty {
        0x002b => sh.version = r.u16().ok_or(short("supported_versions"))?,
        0x0010 => {
            let mut list = Reader::new(r.vec16().map_err(inner("alpn list"))?);
            let p = list.vec8().map_err(inner("alpn protocol"))?;
            sh.alpn.extend_from_slice(p);
        }
        // key_share (and the drafts' key_share, 40): the selected group comes first, both in
        // a ServerHello (KeyShareEntry) and in a HelloRetryRequest (selected_group).
        0x0033 | 0x0028 => sh.key_share_group = Some(r.u16().ok_or(short("key_share"))?),
        0x0029 => sh.pre_shared_key = true,
        _ => {}
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reader_bounds() {
        let mut r = Reader::new(&[1, 2, 3]);
        assert_eq!(r.u16(), Some(0x0102));
        assert_eq!(r.u16(), None);
        assert_eq!(r.u8(), Some(3));
        assert!(r.is_empty());
        assert_eq!(r.vec8(), Err(VecErr::NoRoom));
        let mut r = Reader::new(&[0, 5, 1]);
        assert_eq!(r.vec16(), Err(VecErr::TooLarge));
    }

    #[test]
    fn error_display_and_severity() {
        assert_eq!(
            HelloError::Truncated("random").to_string(),
            "hello truncated in random"
        );
        assert_eq!(
            HelloError::OddLength("cipher_suites").to_string(),
            "hello has an odd cipher_suites length"
        );
        assert_eq!(
            HelloError::ExtensionsBlock.to_string(),
            "hello extensions block length does not fit"
        );
        assert_eq!(
            HelloError::Extension("alpn list").to_string(),
            "hello extension overruns at alpn list"
        );
        assert_eq!(
            HelloError::ExtensionShort("key_share").to_string(),
            "hello extension too short at key_share"
        );
        assert!(HelloError::OddLength("x").is_partial());
        assert!(HelloError::Extension("x").is_partial());
        assert!(HelloError::ExtensionsBlock.is_partial());
        assert!(!HelloError::Truncated("x").is_partial());
        let short = Err(HelloError::ExtensionShort("a"));
        let over = Err(HelloError::Extension("b"));
        assert_eq!(worst(short, over), over);
        assert_eq!(worst(over, short), over);
        assert_eq!(worst(Ok(()), short), short);
        assert_eq!(worst(short, Ok(())), short);
    }

    #[test]
    fn odd_cipher_list_keeps_pairs_and_the_rest() {
        let mut b = vec![3, 3];
        b.extend_from_slice(&[0; 32]);
        b.push(0);
        b.extend_from_slice(&[0, 3, 0x13, 0x01, 0xff]);
        b.extend_from_slice(&[1, 0]);
        b.extend_from_slice(&[0, 4, 0, 23, 0, 0]);
        let mut ch = ClientHello::default();
        assert_eq!(
            parse_client_hello(&b, &mut ch),
            Err(HelloError::OddLength("cipher_suites"))
        );
        assert_eq!(ch.ciphers, vec![0x1301]);
        assert_eq!(ch.extensions, vec![23]);
    }

    #[test]
    fn draft18_server_hello_has_no_session_id() {
        let mut b = vec![0x7f, 0x12];
        b.extend_from_slice(&[7; 32]);
        b.extend_from_slice(&[0x13, 0x01]);
        b.extend_from_slice(&[0, 8, 0, 40, 0, 4, 0, 29, 0, 0]);
        let mut sh = ServerHello::default();
        assert_eq!(parse_server_hello(&b, &mut sh), Ok(()));
        assert_eq!(sh.version, 0x7f12);
        assert_eq!(sh.cipher, 0x1301);
        assert_eq!(sh.extensions, vec![40]);
        assert_eq!(sh.key_share_group, Some(29));
        assert!(sh.session_id.is_empty());
    }
}
