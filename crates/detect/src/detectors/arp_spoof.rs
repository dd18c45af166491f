//! `arp_spoof`: ARP cache poisoning (man in the middle on the local link), from arpwatch's
//! taxonomy and Snort 3's `arp_spoof` checks.
//!
//! # Method
//! Every ARP packet (packet hook, so the Ethernet header can be compared with the ARP body)
//! is classified and kept as evidence per sender MAC:
//! - a *claim*: the sender MAC says it owns the sender IP. A claim made by a broadcast
//!   request, a gratuitous announcement or a solicited reply is the MAC's **own** address;
//!   a claim made by an **unsolicited reply** (no request from the reply's target for that
//!   address in the last `request_window_s`, old Bro's rule) is a **forged** claim on the
//!   reply's target (the victim). A unicast request whose sender address was bound to
//!   another MAC and is not the sender's own is a forged claim too (poisoning by request);
//! - Snort's checks, kept as evidence: unicast ARP request, Ethernet source ≠ ARP sender
//!   MAC, unicast Ethernet destination ≠ ARP target MAC; bogons (arpwatch): broadcast,
//!   multicast or zero sender MAC, 0.0.0.0 sender in a reply;
//! - arpwatch's "changed ethernet address" and "flip flop" per IPv4 address (binding table).
//!
//! Gratuitous ARP (sender IP = target IP), ARP probes (sender 0.0.0.0 in a request), a single
//! MAC change (DHCP reassignment, NIC swap) and unicast requests (Linux cache refresh) never
//! alert on their own. Alerts:
//! - `mitm`: a MAC that owns one address sends an unsolicited reply claiming another address
//!   to a victim (the classic arpspoof / ettercap pattern: attacker MAC claims the gateway's
//!   IP while owning its own IP). src = the attacker's own IP, dst = the victim.
//! - `forged_replies`: at least `min_unsolicited` unsolicited replies from one MAC claiming
//!   an address that was bound to another MAC, within `window_s`, when the forging MAC's
//!   own IP is unknown. src = none, dst = the victim.
//! - `flip_flop`: an address's MAC changes at least `min_flip_flops` times within `window_s`
//!   going back to a MAC it had before (arpwatch "flip flop"). src = the IP the newer MAC
//!   owns, if known; dst = the flapping address.
//!
//! # Parameters (defaults)
//! - `request_window_s` = 60: a reply is solicited if its target asked for the address in
//!   the last minute (old Bro `arp.zeek`'s one-minute request expiry).
//! - `window_s` = 300: evidence window for `forged_replies` and `flip_flop` (arpwatch keeps
//!   bindings for ever; five minutes keeps state small and matches Zeek's scan windows).
//! - `min_unsolicited` = 3: unsolicited replies for `forged_replies` (arpspoof sends one
//!   every 2 s, ettercap every 10 s: a minute of poisoning gives at least 6).
//! - `min_flip_flops` = 2: MAC changes with a return to a previous MAC (brief: arpwatch
//!   reports the first flip flop; one extra change avoids a single failover).
//! - `max_hosts` = 4096: entries per table (MACs, IPv4 bindings, pending requests).
//!
//! # False positives
//! VRRP/HSRP or bonding failover flipping one address between two MACs quickly (`flip_flop`);
//! a capture started after the request it answers (one unsolicited reply; `mitm` then also
//! needs the same MAC to own another address); proxy ARP answering for many addresses only
//! answers requests, so it is solicited. Captures without Ethernet headers give no evidence.
//!
//! # Cost and state
//! Per ARP packet: three bounded-table lookups, no allocation. Non-ARP packets: one branch.
//! State: three [`Table`]s of at most `max_hosts` entries each (per MAC: 4 owned addresses
//! and 4 forged claims; per IPv4 address: current and previous MAC; per (asker, asked)
//! pair: the time of the last request).

use crate::alert::AlertDraft;
use crate::detectors::util::{host_draft, Every, SEC};
use crate::table::Table;
use crate::{evidence, Alerts, Detector, DetectorId, DetectorStats, Interest};
use serde::{Deserialize, Serialize};
use std::net::{IpAddr, Ipv4Addr};
use wirescope_core::Timestamp;
use wirescope_wire::Packet;

#[derive(Clone, Debug, Deserialize, Serialize)]
#[serde(default, deny_unknown_fields)]
pub struct Config {
    pub enabled: bool,
    /// A reply is solicited when its target requested the address within this many seconds.
    pub request_window_s: u64,
    /// Window for counting unsolicited replies and MAC changes.
    pub window_s: u64,
    /// Unsolicited replies claiming another MAC's address for `forged_replies`.
    pub min_unsolicited: u32,
    /// MAC changes of one address, returning to an earlier MAC, for `flip_flop`.
    pub min_flip_flops: u32,
    /// Entries per state table.
    pub max_hosts: usize,
}

impl Default for Config {
    fn default() -> Self {
        Config {
            enabled: true,
            request_window_s: 60,
            window_s: 300,
            min_unsolicited: 3,
            min_flip_flops: 2,
            max_hosts: 4096,
        }
    }
}

type Mac = [u8; 6];
type Ip4 = [u8; 4];

const OWN_CAP: usize = 4;
const FORGED_CAP: usize = 4;

#[derive(Clone, Copy, Default)]
struct Forged {
    claimed: Ip4,
    victim: Ip4,
    count: u32,
    /// The claimed address was bound to another MAC when the reply came.
    overwrote: bool,
    first: Timestamp,
    last: Timestamp,
}

/// Evidence about one sender MAC.
#[derive(Default)]
struct MacState {
    own: [Ip4; OWN_CAP],
    n_own: u8,
    forged: [Forged; FORGED_CAP],
    n_forged: u8,
    replies: u32,
    unsolicited: u32,
    unicast_requests: u32,
    eth_mismatch: u32,
    eth_dst_mismatch: u32,
    bogons: u32,
    every: Every,
}

impl MacState {
    fn owns(&self, ip: Ip4) -> bool {
        self.own[..usize::from(self.n_own)].contains(&ip)
    }

    /// Records `ip` as the MAC's own address; a forged claim on it is withdrawn (the MAC
    /// uses the address openly: a host answering for itself after a missed request).
    fn add_own(&mut self, ip: Ip4) {
        if self.owns(ip) {
            return;
        }
        let n = usize::from(self.n_forged);
        let mut k = 0;
        for i in 0..n {
            if self.forged[i].claimed != ip {
                self.forged[k] = self.forged[i];
                k += 1;
            }
        }
        self.n_forged = k as u8;
        if usize::from(self.n_own) < OWN_CAP {
            self.own[usize::from(self.n_own)] = ip;
            self.n_own += 1;
        }
    }

    fn own_other_than(&self, ip: Ip4) -> Option<Ip4> {
        self.own[..usize::from(self.n_own)]
            .iter()
            .copied()
            .find(|&o| o != ip)
    }

    fn add_forged(&mut self, claimed: Ip4, victim: Ip4, overwrote: bool, ts: Timestamp) -> Forged {
        let n = usize::from(self.n_forged);
        if let Some(f) = self.forged[..n]
            .iter_mut()
            .find(|f| f.claimed == claimed && f.victim == victim)
        {
            f.count += 1;
            f.overwrote |= overwrote;
            f.last = ts;
            return *f;
        }
        let f = Forged {
            claimed,
            victim,
            count: 1,
            overwrote,
            first: ts,
            last: ts,
        };
        if n < FORGED_CAP {
            self.forged[n] = f;
            self.n_forged += 1;
        } else {
            // Replace the oldest claim (deterministic).
            if let Some(o) = self.forged.iter_mut().min_by_key(|f| f.last) {
                *o = f;
            }
        }
        f
    }
}

/// The binding of one IPv4 address (arpwatch's station table).
#[derive(Clone, Copy, Default)]
struct Binding {
    mac: Mac,
    prev: Option<Mac>,
    /// MAC changes in the current window, and how many went back to the previous MAC.
    changes: u32,
    flips: u32,
    window_start: Timestamp,
    first_flip: Timestamp,
    every: Every,
}

pub struct ArpSpoof {
    cfg: Config,
    macs: Table<Mac, MacState>,
    bindings: Table<Ip4, Binding>,
    /// (asker IP, asked IP) → time of the last request.
    requests: Table<(Ip4, Ip4), Timestamp>,
    last_sweep: Option<Timestamp>,
}

impl ArpSpoof {
    pub fn new(cfg: &Config) -> Result<ArpSpoof, crate::BuildError> {
        Ok(ArpSpoof {
            cfg: cfg.clone(),
            macs: Table::new(cfg.max_hosts),
            bindings: Table::new(cfg.max_hosts),
            requests: Table::new(cfg.max_hosts),
            last_sweep: None,
        })
    }
}

/// `aa:bb:cc:dd:ee:ff`.
pub fn fmt_mac(m: &Mac) -> String {
    format!(
        "{:02x}:{:02x}:{:02x}:{:02x}:{:02x}:{:02x}",
        m[0], m[1], m[2], m[3], m[4], m[5]
    )
}

fn ip(a: Ip4) -> IpAddr {
    IpAddr::V4(Ipv4Addr::from(a))
}

fn is_bogon_mac(m: &Mac) -> bool {
    *m == [0; 6] || m[0] & 1 == 1
}

impl Detector for ArpSpoof {
    fn id(&self) -> DetectorId {
        DetectorId::ArpSpoof
    }

    fn interests(&self) -> Interest {
        Interest::PACKET | Interest::TICK
    }

    fn packet(&mut self, ts: Timestamp, pkt: &Packet<'_>, out: &mut Alerts<'_>) {
        let (Some(a), Some(eth)) = (pkt.arp, pkt.eth) else {
            return;
        };
        let req_ns = self.cfg.request_window_s.saturating_mul(SEC);
        let win_ns = self.cfg.window_s.saturating_mul(SEC);
        let sender_ip = a.sender_ip;
        let sender_mac = a.sender_mac;
        let bogon_sender = is_bogon_mac(&sender_mac) || (a.op == 2 && sender_ip == [0; 4]);
        let gratuitous = sender_ip == a.target_ip;

        // Binding table (arpwatch): changed ethernet address and flip flop.
        let mut flip: Option<(Binding, Mac)> = None;
        let mut overwrote = false;
        if sender_ip != [0; 4] && !bogon_sender {
            let min_flips = self.cfg.min_flip_flops;
            let b = self.bindings.entry(sender_ip, ts, || Binding {
                mac: sender_mac,
                window_start: ts,
                ..Binding::default()
            });
            if b.mac != sender_mac {
                overwrote = true;
                if ts.since(b.window_start) > win_ns {
                    b.window_start = ts;
                    b.changes = 0;
                    b.flips = 0;
                }
                b.changes += 1;
                if b.prev == Some(sender_mac) {
                    if b.flips == 0 {
                        b.first_flip = ts;
                    }
                    b.flips += 1;
                }
                b.prev = Some(b.mac);
                b.mac = sender_mac;
                if b.flips >= min_flips && b.every.due(ts, SEC) {
                    flip = Some((*b, sender_mac));
                }
            }
        }

        // One request, one answer: the request is consumed by the first reply, so a second
        // reply from another MAC (the race arpspoof wins by repetition) is unsolicited.
        let solicited = a.op == 2
            && self
                .requests
                .remove(&(a.target_ip, sender_ip))
                .is_some_and(|t| ts.since(t) <= req_ns);
        if a.op == 1 && sender_ip != [0; 4] && !gratuitous {
            *self
                .requests
                .entry((sender_ip, a.target_ip), ts, Timestamp::default) = ts;
        }

        let m = self.macs.entry(sender_mac, ts, MacState::default);
        if eth.src != sender_mac {
            m.eth_mismatch += 1;
        }
        // Snort: a unicast frame whose Ethernet destination is not the ARP target MAC.
        if a.target_mac != [0; 6] && eth.dst[0] & 1 == 0 && eth.dst != a.target_mac {
            m.eth_dst_mismatch += 1;
        }
        if bogon_sender {
            m.bogons += 1;
        }
        let mut forged = None;
        match a.op {
            1 => {
                if eth.dst[0] & 1 == 0 {
                    m.unicast_requests += 1;
                    // Poisoning by request: a unicast request whose sender address was bound
                    // to another MAC and is not this MAC's own (Linux's cache refresh uses
                    // the host's own address, so it never gets here).
                    if overwrote && !gratuitous && !m.owns(sender_ip) {
                        forged = Some(m.add_forged(sender_ip, a.target_ip, true, ts));
                    }
                }
                if sender_ip != [0; 4] && !bogon_sender && eth.dst[0] & 1 == 1 {
                    let before = m.n_own;
                    m.add_own(sender_ip);
                    if m.n_own != before {
                        // A new own address of a MAC that forged before: the MITM
                        // pattern completes now.
                        forged = m.forged[..usize::from(m.n_forged)]
                            .iter()
                            .copied()
                            .max_by_key(|f| (f.count, f.last));
                    }
                }
            }
            2 => {
                m.replies += 1;
                let to_broadcast = a.target_mac == [0xff; 6] || a.target_mac == [0; 6];
                if bogon_sender {
                } else if gratuitous || to_broadcast || solicited || a.target_ip == [0; 4] {
                    let before = m.n_own;
                    m.add_own(sender_ip);
                    if m.n_own != before {
                        forged = m.forged[..usize::from(m.n_forged)]
                            .iter()
                            .copied()
                            .max_by_key(|f| (f.count, f.last));
                    }
                } else {
                    m.unsolicited += 1;
                    // An unsolicited reply for the MAC's own address is a missed request,
                    // not a forgery.
                    if !m.owns(sender_ip) {
                        forged = Some(m.add_forged(sender_ip, a.target_ip, overwrote, ts));
                    }
                }
            }
            _ => {}
        }

        if let Some(f) = forged {
            // Decide first, format only when an update is due (no allocation per reply).
            let decision = match m.own_other_than(f.claimed) {
                Some(own) => Some(("mitm", 0u16, own, 1u8)),
                None if f.overwrote
                    && f.count >= self.cfg.min_unsolicited
                    && f.last.since(f.first) <= win_ns =>
                {
                    Some(("forged_replies", 1u16, [0; 4], 2u8))
                }
                None => None,
            };
            if let Some((kind, kind_index, own, severity)) = decision {
                if m.every.due(ts, SEC) {
                    let signature = if kind == "mitm" {
                        format!(
                            "ARP spoofing (MITM): {} ({}) claims {} to {}",
                            fmt_mac(&sender_mac),
                            ip(own),
                            ip(f.claimed),
                            ip(f.victim)
                        )
                    } else {
                        format!(
                            "ARP spoofing: {} forged {} replies claiming {} to {}",
                            fmt_mac(&sender_mac),
                            f.count,
                            ip(f.claimed),
                            ip(f.victim)
                        )
                    };
                    let mut d: AlertDraft = host_draft(
                        DetectorId::ArpSpoof,
                        kind,
                        kind_index,
                        signature,
                        "Potential Corporate Privacy Violation",
                        severity,
                        (own != [0; 4]).then(|| ip(own)),
                        Some(ip(f.victim)),
                        f.first,
                        ts,
                    );
                    let own_ips: Vec<String> = m.own[..usize::from(m.n_own)]
                        .iter()
                        .map(|&o| ip(o).to_string())
                        .collect();
                    d.evidence = evidence! {
                        "attacker_mac" => fmt_mac(&sender_mac),
                        "attacker_ips" => own_ips,
                        "claimed_ip" => ip(f.claimed).to_string(),
                        "victim_ip" => ip(f.victim).to_string(),
                        "forged_replies" => f.count,
                        "replies" => m.replies,
                        "unsolicited_replies" => m.unsolicited,
                        "unicast_requests" => m.unicast_requests,
                        "eth_src_mismatch" => m.eth_mismatch,
                        "eth_dst_mismatch" => m.eth_dst_mismatch,
                        "bogons" => m.bogons,
                        "overwrote_binding" => f.overwrote,
                        "window_s" => self.cfg.window_s,
                        "request_window_s" => self.cfg.request_window_s,
                        "min_unsolicited" => self.cfg.min_unsolicited,
                    };
                    out.raise(d);
                }
            }
        }

        if let Some((b, new_mac)) = flip {
            let prev_mac = b.prev.unwrap_or_default();
            let forging = |m: Option<&MacState>| {
                m.is_some_and(|m| {
                    m.forged[..usize::from(m.n_forged)]
                        .iter()
                        .any(|f| f.claimed == sender_ip)
                })
            };
            if forging(self.macs.get(&new_mac)) || forging(self.macs.get(&prev_mac)) {
                // `mitm` / `forged_replies` already report this poisoning.
                return;
            }
            let owner = |m: &Mac| self.macs.get(m).and_then(|m| m.own_other_than(sender_ip));
            let src = owner(&new_mac).or_else(|| owner(&prev_mac));
            let prev = b.prev.map(|p| fmt_mac(&p)).unwrap_or_default();
            let mut d = host_draft(
                DetectorId::ArpSpoof,
                "flip_flop",
                2,
                format!(
                    "ARP flip flop: {} moves between {} and {}",
                    ip(sender_ip),
                    prev,
                    fmt_mac(&new_mac)
                ),
                "Potential Corporate Privacy Violation",
                2,
                src.map(ip),
                Some(ip(sender_ip)),
                b.first_flip,
                ts,
            );
            d.evidence = evidence! {
                "ip" => ip(sender_ip).to_string(),
                "mac" => fmt_mac(&new_mac),
                "previous_mac" => prev,
                "changes" => b.changes,
                "flip_flops" => b.flips,
                "window_s" => self.cfg.window_s,
                "min_flip_flops" => self.cfg.min_flip_flops,
            };
            out.raise(d);
        }
    }

    fn tick(&mut self, ts: Timestamp, _out: &mut Alerts<'_>) {
        // Sweep once a minute of packet time: requests expire after the request window,
        // MAC and binding evidence after the evidence window.
        if self.last_sweep.is_some_and(|l| ts.since(l) < 60 * SEC) {
            return;
        }
        self.last_sweep = Some(ts);
        let req_ns = self.cfg.request_window_s.saturating_mul(SEC);
        let win_ns = self.cfg.window_s.saturating_mul(SEC);
        self.requests.retain(|_, _, t| ts.since(*t) <= req_ns);
        self.macs.expire(ts, win_ns);
        // Bindings are kept longer (they are what a change is measured against).
        self.bindings.expire(ts, win_ns.saturating_mul(12));
    }

    fn stats(&self) -> DetectorStats {
        DetectorStats {
            entries: (self.macs.len() + self.bindings.len() + self.requests.len()) as u64,
            capacity: (self.macs.cap() + self.bindings.cap() + self.requests.cap()) as u64,
            evicted_total: self.macs.evicted_total
                + self.bindings.evicted_total
                + self.requests.evicted_total,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn mac_format_and_bogons() {
        assert_eq!(
            fmt_mac(&[0, 0x25, 0xb3, 0xbf, 0x91, 0xee]),
            "00:25:b3:bf:91:ee"
        );
        assert!(is_bogon_mac(&[0xff; 6]));
        assert!(is_bogon_mac(&[0; 6]));
        assert!(!is_bogon_mac(&[2, 0, 0xc6, 0x12, 0, 0x42]));
    }

    #[test]
    fn own_and_forged_claims_are_capped() {
        let mut m = MacState::default();
        for i in 0..10u8 {
            m.add_own([10, 0, 0, i]);
            m.add_forged([10, 0, 1, i], [10, 0, 2, 1], false, Timestamp(i64::from(i)));
        }
        assert_eq!(usize::from(m.n_own), OWN_CAP);
        assert_eq!(usize::from(m.n_forged), FORGED_CAP);
        assert_eq!(m.own_other_than([10, 0, 0, 0]), Some([10, 0, 0, 1]));
    }
}
