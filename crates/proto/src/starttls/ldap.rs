//! LDAP's framing (RFC 4511 §4.1.1, BER as X.690 defines it) as far as the StartTLS watch
//! needs it: a message's length, its message ID and protocol operation, the StartTLS
//! extended request (RFC 4511 §4.14.1) and the result code of an extended response.

use super::Signature;

/// The StartTLS extended operation's name (RFC 4511 §4.14.1).
pub(super) const START_TLS_OID: &[u8] = b"1.3.6.1.4.1.1466.20037";

/// Octets of a message's header read before its length is known: the SEQUENCE tag and a
/// length of at most five octets.
pub(super) const HEADER_MAX: usize = 6;

/// Longest message accepted as LDAP (16 MiB; the default of OpenLDAP's `sockbuf_max_incoming_auth`
/// is 4 MiB). Longer lengths are taken for some other protocol.
const MAX_MESSAGE: usize = 1 << 24;

/// Extended request and response, unbind (RFC 4511 §4.2 .. §4.14).
pub(super) const OP_EXTENDED_REQ: u8 = 0x77;
pub(super) const OP_EXTENDED_RESP: u8 = 0x78;
pub(super) const OP_UNBIND: u8 = 0x42;

/// Operations a client sends: bind, unbind, search, modify, add, delete, modify DN, compare,
/// abandon, extended.
const CLIENT_OPS: [u8; 10] = [0x60, 0x42, 0x63, 0x66, 0x68, 0x4a, 0x6c, 0x6e, 0x50, 0x77];
/// Operations a server sends: their responses, search entries and references, intermediate.
const SERVER_OPS: [u8; 11] = [
    0x61, 0x64, 0x65, 0x73, 0x67, 0x69, 0x6b, 0x6d, 0x6f, 0x78, 0x79,
];

/// A BER length (definite form only, as RFC 4511 §5.1 requires).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Len {
    /// Octets of the length field, and the length.
    Is(usize, usize),
    NeedMore,
    Invalid,
}

fn ber_len(b: &[u8]) -> Len {
    let Some(&first) = b.first() else {
        return Len::NeedMore;
    };
    if first < 0x80 {
        return Len::Is(1, usize::from(first));
    }
    let n = usize::from(first & 0x7f);
    if n == 0 || n > 4 {
        return Len::Invalid; // indefinite, or longer than any message
    }
    let Some(digits) = b.get(1..=n) else {
        return Len::NeedMore;
    };
    Len::Is(
        1 + n,
        digits.iter().fold(0, |v, &d| v << 8 | usize::from(d)),
    )
}

/// The size of the message that `head` starts (tag, length and content): `Ok(Some(n))`,
/// `Ok(None)` when more octets are needed, `Err(())` when this is not an LDAPMessage header.
pub(super) fn message_len(head: &[u8]) -> Result<Option<usize>, ()> {
    match head.first() {
        None => return Ok(None),
        Some(&0x30) => {}
        Some(_) => return Err(()),
    }
    match ber_len(&head[1..]) {
        Len::Is(h, len) if (5..=MAX_MESSAGE).contains(&len) => Ok(Some(1 + h + len)),
        Len::NeedMore => Ok(None),
        _ => Err(()),
    }
}

/// An LDAPMessage's start, parsed from its kept octets.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) struct Message<'a> {
    pub id: u32,
    pub op: u8,
    /// The operation's content, as far as it was kept.
    pub body: &'a [u8],
}

/// Parses the start of a message (`msg` begins with its SEQUENCE header): `None` when
/// the message ID or the operation's header is malformed or cut.
pub(super) fn message(msg: &[u8]) -> Option<Message<'_>> {
    let Len::Is(h, _) = ber_len(msg.get(1..)?) else {
        return None;
    };
    let rest = msg.get(1 + h..)?;
    let (id, rest) = message_id(rest)?;
    let (&op, rest) = rest.split_first()?;
    let Len::Is(h, len) = ber_len(rest) else {
        return None;
    };
    let body = rest.get(h..)?;
    Some(Message {
        id,
        op,
        body: &body[..len.min(body.len())],
    })
}

/// messageID: INTEGER (0 .. 2^31 - 1), one to four octets.
fn message_id(b: &[u8]) -> Option<(u32, &[u8])> {
    match b {
        [0x02, n @ 1..=4, rest @ ..] => {
            let n = usize::from(*n);
            let digits = rest.get(..n)?;
            if digits[0] & 0x80 != 0 {
                return None;
            }
            let id = digits.iter().fold(0u32, |v, &d| v << 8 | u32::from(d));
            Some((id, &rest[n..]))
        }
        _ => None,
    }
}

/// An extended request's body names StartTLS (`requestName [0] LDAPOID`).
pub(super) fn is_start_tls(body: &[u8]) -> bool {
    match body {
        [0x80, rest @ ..] => match ber_len(rest) {
            Len::Is(h, len) => rest.get(h..h + len) == Some(START_TLS_OID),
            _ => false,
        },
        _ => false,
    }
}

/// The resultCode (ENUMERATED) that starts an LDAPResult.
pub(super) fn result_code(body: &[u8]) -> Option<u32> {
    match body {
        [0x0a, n @ 1..=4, rest @ ..] => {
            let digits = rest.get(..usize::from(*n))?;
            Some(digits.iter().fold(0u32, |v, &d| v << 8 | u32::from(d)))
        }
        _ => None,
    }
}

/// Whether `first` opens an LDAP message: SEQUENCE with a definite length of 5 octets to
/// 16 MiB, an INTEGER message ID of one to four octets, and a protocol operation a client or
/// a server sends whose length fits the message. `Yes` says which side sent it.
pub(super) fn signature(first: &[u8]) -> Signature {
    let total = match message_len(first) {
        Err(()) => return Signature::No,
        Ok(None) => return Signature::NeedMore,
        Ok(Some(t)) => t,
    };
    let Len::Is(h, _) = ber_len(&first[1..]) else {
        return Signature::No;
    };
    let rest = &first[1 + h..];
    let int_len = match rest {
        [] | [0x02] => return Signature::NeedMore,
        [0x02, n @ 1..=4, ..] => usize::from(*n),
        _ => return Signature::No,
    };
    let Some(digits) = rest.get(2..2 + int_len) else {
        return Signature::NeedMore;
    };
    if digits[0] & 0x80 != 0 {
        return Signature::No;
    }
    let Some(&op) = rest.get(2 + int_len) else {
        return Signature::NeedMore;
    };
    let server = if CLIENT_OPS.contains(&op) {
        false
    } else if SERVER_OPS.contains(&op) {
        true
    } else {
        return Signature::No;
    };
    let op_start = 1 + h + 2 + int_len;
    match ber_len(&first[op_start + 1..]) {
        Len::Is(oh, olen) if op_start + 1 + oh + olen <= total => {
            Signature::Yes(super::Dialect::Ldap, server)
        }
        Len::NeedMore => Signature::NeedMore,
        _ => Signature::No,
    }
}
