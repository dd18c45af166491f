//! Property tests for the SSH parser and protocol identification.
#![allow(clippy::unwrap_used)]

use proptest::prelude::*;
use wirescope_proto::ident::{self, Guess};
use wirescope_proto::ssh::SshParser;
use wirescope_proto::Dir;

fn kexinit(lists: &[String]) -> Vec<u8> {
    let mut payload = vec![20u8];
    payload.extend_from_slice(&[1; 16]);
    for i in 0..10 {
        let l = lists.get(i).map_or("", String::as_str);
        payload.extend_from_slice(&(l.len() as u32).to_be_bytes());
        payload.extend_from_slice(l.as_bytes());
    }
    payload.extend_from_slice(&[0, 0, 0, 0, 0]);
    let pad = 4 + (8 - (payload.len() + 5) % 8) % 8;
    let mut pkt = ((1 + payload.len() + pad) as u32).to_be_bytes().to_vec();
    pkt.push(pad as u8);
    pkt.extend_from_slice(&payload);
    pkt.extend(std::iter::repeat_n(0u8, pad));
    pkt
}

fn alg() -> impl Strategy<Value = String> {
    proptest::string::string_regex("[a-z0-9@.-]{1,20}(,[a-z0-9@.-]{1,20}){0,4}").unwrap()
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 256, .. ProptestConfig::default() })]

    /// Arbitrary bytes in both directions never panic and keep the buffers within their caps.
    #[test]
    fn ssh_arbitrary_bytes(
        chunks in proptest::collection::vec((any::<bool>(), proptest::collection::vec(any::<u8>(), 0..600)), 0..20),
        prefix in any::<bool>(),
    ) {
        let mut p = SshParser::new();
        if prefix {
            p.feed(Dir::ToServer, b"SSH-2.0-x\r\n");
            p.feed(Dir::ToClient, b"SSH-2.0-y\r\n");
        }
        for (to_server, c) in &chunks {
            let d = if *to_server { Dir::ToServer } else { Dir::ToClient };
            p.feed(d, c);
            prop_assert!(p.buffered_bytes() <= 2 * 35_004);
        }
        let _ = p.take_done();
        let _ = p.session().version();
        for i in 0..8 {
            let _ = p.session().negotiated(i);
        }
    }

    /// A generated exchange gives the same session however it is cut into chunks.
    #[test]
    fn ssh_split_invariance(
        client_soft in "[A-Za-z0-9_.]{1,30}",
        server_soft in "[A-Za-z0-9_.]{1,30}",
        lists_c in proptest::collection::vec(alg(), 8),
        lists_s in proptest::collection::vec(alg(), 8),
        cuts in proptest::collection::vec(1usize..64, 1..40),
    ) {
        let mut c = format!("SSH-2.0-{client_soft} comment\r\n").into_bytes();
        c.extend(kexinit(&lists_c));
        let mut s = format!("SSH-2.0-{server_soft}\r\n").into_bytes();
        s.extend(kexinit(&lists_s));
        let mut whole = SshParser::new();
        whole.feed(Dir::ToServer, &c);
        whole.feed(Dir::ToClient, &s);
        prop_assert!(whole.take_done());
        prop_assert_eq!(&whole.session().client.software_version, client_soft.as_bytes());
        prop_assert_eq!(&whole.session().server.software_version, server_soft.as_bytes());

        let mut split = SshParser::new();
        let (mut i, mut j, mut k) = (0, 0, 0);
        while i < c.len() || j < s.len() {
            let n = cuts[k % cuts.len()];
            k += 1;
            let a = (i + n).min(c.len());
            split.feed(Dir::ToServer, &c[i..a]);
            i = a;
            let b = (j + n / 2 + 1).min(s.len());
            split.feed(Dir::ToClient, &s[j..b]);
            j = b;
        }
        prop_assert_eq!(split.session(), whole.session());
    }

    /// Identification never panics and answers NeedMore only for inputs shorter than the
    /// longest signature it needs (bounded lookahead).
    #[test]
    fn ident_is_total_and_bounded(
        data in proptest::collection::vec(any::<u8>(), 0..128),
        sport in any::<u16>(),
        dport in any::<u16>(),
        to_server in any::<bool>(),
    ) {
        let dir = if to_server { Dir::ToServer } else { Dir::ToClient };
        let g = ident::tcp(dir, &data, (sport, dport));
        if data.len() >= 64 {
            prop_assert_ne!(g, Guess::NeedMore);
        }
        let _ = ident::udp(&data, (sport, dport));
        let _ = ident::tls(&data);
    }
}
