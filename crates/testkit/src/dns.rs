//! DNS messages (RFC 1035 §4.1) appended to a buffer: one question, optional answers.
//!
//! Enough for realistic query/response pairs in generated traffic; names are written
//! uncompressed in the question and answers point back to it (RFC 1035 §4.1.4).

/// Query types used by the generator.
pub mod qtype {
    pub const A: u16 = 1;
    pub const AAAA: u16 = 28;
    pub const HTTPS: u16 = 65;
}

/// Response codes (RFC 1035 §4.1.1).
pub mod rcode {
    pub const NOERROR: u8 = 0;
    pub const SERVFAIL: u8 = 2;
    pub const NXDOMAIN: u8 = 3;
}

/// One answer record's data.
#[derive(Clone, Copy, Debug)]
pub enum Rdata {
    A([u8; 4]),
    Aaaa([u8; 16]),
}

fn header(out: &mut Vec<u8>, id: u16, flags: u16, answers: u16) {
    out.extend_from_slice(&id.to_be_bytes());
    out.extend_from_slice(&flags.to_be_bytes());
    out.extend_from_slice(&[0, 1]); // QDCOUNT
    out.extend_from_slice(&answers.to_be_bytes());
    out.extend_from_slice(&[0, 0, 0, 0]); // NSCOUNT, ARCOUNT
}

/// Writes `name` as labels; each dot-separated label is cut to 63 bytes (RFC 1035 §2.3.4).
fn question(out: &mut Vec<u8>, name: &str, qtype: u16) {
    for label in name.split('.').filter(|l| !l.is_empty()) {
        let l = &label.as_bytes()[..label.len().min(63)];
        out.push(l.len() as u8);
        out.extend_from_slice(l);
    }
    out.push(0);
    out.extend_from_slice(&qtype.to_be_bytes());
    out.extend_from_slice(&[0, 1]); // class IN
}

/// Appends a recursive query for `name`.
pub fn query(out: &mut Vec<u8>, id: u16, name: &str, qtype: u16) {
    header(out, id, 0x0100, 0); // RD
    question(out, name, qtype);
}

/// Appends a response to the query: QR, RD, RA, `rcode`, and `answers` (TTL `ttl`).
///
/// ```
/// use wirescope_testkit::dns::{self, Rdata};
/// let mut q = Vec::new();
/// dns::query(&mut q, 0x1234, "www.example.test", dns::qtype::A);
/// let mut r = Vec::new();
/// dns::response(&mut r, 0x1234, "www.example.test", dns::qtype::A, 0, 300, &[Rdata::A([198, 19, 0, 1])]);
/// assert_eq!(&r[..2], &q[..2]);
/// assert_eq!(r.len(), q.len() + 16);
/// ```
pub fn response(
    out: &mut Vec<u8>,
    id: u16,
    name: &str,
    qtype: u16,
    rcode: u8,
    ttl: u32,
    answers: &[Rdata],
) {
    let n = u16::try_from(answers.len()).unwrap_or(u16::MAX);
    header(out, id, 0x8180 | u16::from(rcode & 0x0f), n);
    question(out, name, qtype);
    for a in answers {
        out.extend_from_slice(&[0xc0, 12]); // pointer to the question's name
        let (t, data): (u16, &[u8]) = match a {
            Rdata::A(x) => (qtype::A, x),
            Rdata::Aaaa(x) => (qtype::AAAA, x),
        };
        out.extend_from_slice(&t.to_be_bytes());
        out.extend_from_slice(&[0, 1]);
        out.extend_from_slice(&ttl.to_be_bytes());
        out.extend_from_slice(&(data.len() as u16).to_be_bytes());
        out.extend_from_slice(data);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn query_wire_format() {
        let mut q = Vec::new();
        query(&mut q, 0xbeef, "a.bc.", qtype::AAAA);
        assert_eq!(
            q,
            [
                0xbe, 0xef, 0x01, 0x00, 0, 1, 0, 0, 0, 0, 0, 0, // header
                1, b'a', 2, b'b', b'c', 0, // name
                0, 28, 0, 1, // AAAA IN
            ]
        );
    }

    #[test]
    fn nxdomain_has_no_answers() {
        let mut r = Vec::new();
        response(&mut r, 1, "x.test", qtype::A, rcode::NXDOMAIN, 0, &[]);
        assert_eq!(&r[2..4], &[0x81, 0x83]);
        assert_eq!(&r[6..8], &[0, 0]);
    }
}
