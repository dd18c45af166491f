//! The simulated network: clients, servers, resolvers, a gateway and a few scanners, all in
//! the benchmarking ranges 198.18.0.0/15 (RFC 2544) and fd00::/8 (RFC 4193).
//!
//! Clients live in 198.18.0.0/16 behind one gateway; servers in 198.19.0.0/16 are reached
//! through it, so their frames carry the gateway's MAC address.

use crate::packet::Mac;
use crate::rng::Rng;

const CLIENTS: u32 = 4_000;
const SERVERS: u32 = 2_000;
const SCANNERS: u32 = 8;
const GATEWAY_MAC: Mac = [0x02, 0x00, 0x5e, 0x00, 0x00, 0x01];
const RESOLVER_MAC: Mac = [0x02, 0x00, 0x00, 0x00, 0x00, 0x53];

/// Ports probed by the scanners besides sequential ranges.
pub(crate) const COMMON_PORTS: [u16; 20] = [
    21, 22, 23, 25, 53, 80, 110, 135, 139, 143, 443, 445, 993, 995, 1433, 1723, 3306, 3389, 5900,
    8080,
];

/// Server ports of TCP connections and their weights.
const TCP_PORTS: [(u16, f64); 10] = [
    (443, 0.62),
    (80, 0.15),
    (22, 0.04),
    (8080, 0.04),
    (993, 0.03),
    (25, 0.02),
    (3306, 0.03),
    (5432, 0.02),
    (445, 0.03),
    (8443, 0.02),
];

/// One end of a session: both address families, MAC, initial TTL / hop limit.
#[derive(Clone, Copy, Debug, Default)]
pub(crate) struct Side {
    pub v4: [u8; 4],
    pub v6: [u8; 16],
    pub mac: Mac,
    pub ttl: u8,
}

/// A client and its VLAN (5% of the clients sit on tagged VLANs).
#[derive(Clone, Copy, Debug)]
pub(crate) struct Client {
    pub side: Side,
    pub vlan: Option<u16>,
    pub index: u32,
}

fn v6(net: u16, host: u32) -> [u8; 16] {
    let mut a = [0u8; 16];
    a[0] = 0xfd;
    a[6..8].copy_from_slice(&net.to_be_bytes());
    a[12..16].copy_from_slice(&host.to_be_bytes());
    a
}

#[derive(Clone, Debug)]
pub(crate) struct Hosts {
    port_weights: [f64; TCP_PORTS.len()],
}

impl Hosts {
    pub fn new() -> Self {
        let mut port_weights = [0.0; TCP_PORTS.len()];
        for (w, (_, p)) in port_weights.iter_mut().zip(TCP_PORTS) {
            *w = p;
        }
        Hosts { port_weights }
    }

    fn client_side(i: u32) -> Side {
        let v4 = [198, 18, (1 + i / 250) as u8, (1 + i % 250) as u8];
        Side {
            v4,
            v6: v6(1, i + 1),
            mac: [0x02, 0x00, 198, 18, v4[2], v4[3]],
            ttl: 64,
        }
    }

    pub fn client(&self, rng: &mut Rng) -> Client {
        let index = rng.below(u64::from(CLIENTS)) as u32;
        let vlan = index
            .is_multiple_of(20)
            .then(|| [10, 20, 30, 100][(index / 20 % 4) as usize]);
        Client {
            side: Self::client_side(index),
            vlan,
            index,
        }
    }

    fn server_side(i: u32) -> Side {
        // Servers' initial TTLs differ (64, 128, 255 minus the hops to us).
        let ttl = [52u8, 57, 113, 118, 243][(i % 5) as usize];
        Side {
            v4: [198, 19, (i / 250) as u8, (1 + i % 250) as u8],
            v6: v6(2, i + 1),
            mac: GATEWAY_MAC,
            ttl,
        }
    }

    /// A server, popular ones far more often (index ~ N·u³).
    pub fn server(&self, rng: &mut Rng) -> Side {
        let u = rng.unit();
        Self::server_side((f64::from(SERVERS) * u * u * u) as u32)
    }

    pub fn tcp_server(&self, rng: &mut Rng) -> (Side, u16) {
        let port = TCP_PORTS[rng.weighted(&self.port_weights)].0;
        (self.server(rng), port)
    }

    pub fn resolver(&self, rng: &mut Rng) -> Side {
        let i = rng.below(2) as u8;
        Side {
            v4: [198, 18, 0, 53 + i],
            v6: v6(0, 0x53 + u32::from(i)),
            mac: RESOLVER_MAC,
            ttl: 64,
        }
    }

    /// Who an ARP request asks for: mostly the gateway, sometimes a neighbour.
    pub fn arp_target(&self, rng: &mut Rng, client: &Client) -> Side {
        if rng.chance(0.7) {
            Side {
                v4: [198, 18, 0, 1],
                v6: v6(0, 1),
                mac: GATEWAY_MAC,
                ttl: 64,
            }
        } else {
            let same_net = client.index / 250 * 250;
            Self::client_side(same_net + rng.below(250) as u32)
        }
    }

    pub fn scanner(&self, rng: &mut Rng) -> Side {
        let i = rng.below(u64::from(SCANNERS)) as u32;
        Side {
            v4: [198, 18, 250, (1 + i) as u8],
            v6: v6(0xfa, i + 1),
            mac: [0x02, 0x00, 198, 18, 250, (1 + i) as u8],
            ttl: 64,
        }
    }

    /// Any address in the server range, live or not.
    pub fn scan_target(&self, rng: &mut Rng) -> Side {
        let i = rng.below(1 << 16) as u32;
        Side {
            v4: [198, 19, (i >> 8) as u8, i as u8],
            v6: v6(2, i + 1),
            mac: GATEWAY_MAC,
            ttl: 64,
        }
    }
}
