//! The alert manager: one alert per ongoing activity, allow-lists, suppression and
//! Suricata-style thresholds.
//!
//! - **Merging.** An alert's key is (detector, kind, source address, destination address).
//!   A raise whose key is open updates that alert (evidence replaced, `last_seen`, `updates`);
//!   otherwise it opens a new alert, emitted at once with status `new`.
//! - **Closing.** An open alert with no raise for `idle_close_s` of packet time (default 60 s),
//!   and every open alert at end of input, closes and is emitted again with status `closed`
//!   and its final evidence (only if it was updated since it was opened).
//! - **Suppression** (Zeek's notice suppression, 1 hour by default): after a key closes, raises
//!   with that key within `suppress_s` update the closed alert silently
//!   (`suppressed_total`). `[[alerts.suppress]]` rules drop matching alerts entirely.
//! - **Allow-lists**: `[[alerts.allow]]` rules (CIDR, optional detector, side) drop alerts
//!   whose source or destination is allowed (`allowed_total`).
//! - **Thresholds**: `[[alerts.threshold]]` rules with Suricata's `limit` / `threshold` /
//!   `both` semantics, tracked by source, destination or pair, applied to alert openings.
//!
//! - **Explained alerts**: with `beacon_defers_to_brute_force` (default on), a `beacon`
//!   alert about a (source, destination) pair that already has a `brute_force` alert is not
//!   raised (`explained_total`): hydra's steady login attempts score as a beacon.
//!
//! Bounds: `max_open` open alerts (the least recently updated is closed early when full),
//! `max_alerts` alerts kept for the summary (later ones are emitted but not kept; counted in
//! `dropped_total`), 65 536 suppression and threshold entries (oldest evicted).

use crate::alert::{Alert, AlertDraft, AlertStatus};
use crate::config::{AlertsConfig, Cidr, Side, ThresholdKind, Track};
use crate::{AlertSink, BuildError, DetectorId};
use serde::Serialize;
use std::collections::VecDeque;
use std::net::IpAddr;
use wirescope_core::Timestamp;

type Key = (DetectorId, &'static str, Option<IpAddr>, Option<IpAddr>);
type Map<K, V> = hashbrown::HashMap<K, V, foldhash::fast::FixedState>;

/// Counters of the manager, reported in the summary and the EVE stats.
#[derive(Clone, Debug, Default, Serialize, PartialEq, Eq)]
pub struct ManagerStats {
    pub raised_total: u64,
    pub updates_total: u64,
    pub allowed_total: u64,
    pub suppressed_total: u64,
    pub thresholded_total: u64,
    pub closed_early_total: u64,
    pub dropped_total: u64,
    /// Alerts not raised because another detector's alert explains them.
    pub explained_total: u64,
}

struct ThresholdState {
    window_start: Timestamp,
    count: u64,
    emitted: u64,
}

pub struct AlertManager {
    cfg: AlertsConfig,
    allow: Vec<(Cidr, Option<DetectorId>, Side)>,
    suppress: Vec<(Cidr, Option<DetectorId>, Side)>,
    alerts: Vec<Alert>,
    /// Open alerts: key → index in `alerts` (or `usize::MAX` when not kept).
    open: Map<Key, usize>,
    /// Alerts not kept in `alerts` (past `max_alerts`) but still open.
    overflow: Map<Key, Alert>,
    /// Recently closed keys and when they closed (for suppression), oldest first.
    closed: Map<Key, (Timestamp, usize)>,
    closed_order: VecDeque<(Key, Timestamp)>,
    thresholds: Map<(usize, Option<IpAddr>, Option<IpAddr>), ThresholdState>,
    /// (source, destination) pairs with a `brute_force` alert (at most `MAX_TRACKED`).
    brute_pairs: Map<(IpAddr, IpAddr), ()>,
    /// Alerts that changed state since the last drain: (index or overflow copy, status).
    pending: Vec<Alert>,
    next_id: u64,
    pub stats: ManagerStats,
}

const MAX_TRACKED: usize = 65_536;

impl AlertManager {
    pub fn new(cfg: &AlertsConfig) -> Result<AlertManager, BuildError> {
        let rule = |cidr: &str, det: &Option<String>, side: Side, what: &str| {
            let c = Cidr::parse(cidr)
                .ok_or_else(|| BuildError(format!("{what}: not an address or CIDR: {cidr:?}")))?;
            let d = match det {
                Some(s) => Some(
                    DetectorId::parse(s)
                        .ok_or_else(|| BuildError(format!("{what}: unknown detector {s:?}")))?,
                ),
                None => None,
            };
            Ok::<_, BuildError>((c, d, side))
        };
        let allow = cfg
            .allow
            .iter()
            .map(|r| rule(&r.cidr, &r.detector, r.side, "alerts.allow"))
            .collect::<Result<Vec<_>, _>>()?;
        let suppress = cfg
            .suppress
            .iter()
            .map(|r| rule(&r.cidr, &r.detector, r.side, "alerts.suppress"))
            .collect::<Result<Vec<_>, _>>()?;
        for t in &cfg.threshold {
            if let Some(s) = &t.detector {
                if DetectorId::parse(s).is_none() {
                    return Err(BuildError(format!(
                        "alerts.threshold: unknown detector {s:?}"
                    )));
                }
            }
        }
        Ok(AlertManager {
            cfg: cfg.clone(),
            allow,
            suppress,
            alerts: Vec::new(),
            open: Map::default(),
            overflow: Map::default(),
            closed: Map::default(),
            closed_order: VecDeque::new(),
            thresholds: Map::default(),
            brute_pairs: Map::default(),
            pending: Vec::new(),
            next_id: 1,
            stats: ManagerStats::default(),
        })
    }

    /// Takes new allow, suppress and threshold rules and limits (SIGHUP); alerts, their ids
    /// and suppression history are kept. On error nothing changes.
    pub fn reconfigure(&mut self, cfg: &AlertsConfig) -> Result<(), BuildError> {
        let fresh = AlertManager::new(cfg)?;
        self.cfg = fresh.cfg;
        self.allow = fresh.allow;
        self.suppress = fresh.suppress;
        self.thresholds.clear();
        Ok(())
    }

    /// Every alert kept, in the order opened.
    pub fn alerts(&self) -> &[Alert] {
        &self.alerts
    }

    pub fn has_pending(&self) -> bool {
        !self.pending.is_empty()
    }

    pub fn drain(&mut self, sink: &mut dyn AlertSink) {
        for a in self.pending.drain(..) {
            sink.alert(&a);
        }
    }

    pub fn is_open(
        &self,
        detector: DetectorId,
        kind: &'static str,
        src: Option<IpAddr>,
        dst: Option<IpAddr>,
    ) -> bool {
        self.open.contains_key(&(detector, kind, src, dst))
    }

    fn listed(rules: &[(Cidr, Option<DetectorId>, Side)], d: &AlertDraft) -> bool {
        let src = d.src.map(|e| e.ip);
        let dst = d.dst.map(|e| e.ip);
        rules.iter().any(|(c, det, side)| {
            if det.is_some_and(|x| x != d.detector) {
                return false;
            }
            let s = src.is_some_and(|ip| c.contains(ip));
            let t = dst.is_some_and(|ip| c.contains(ip));
            match side {
                Side::Src => s,
                Side::Dst => t,
                Side::Either => s || t,
            }
        })
    }

    pub fn raise(&mut self, d: AlertDraft) {
        let key: Key = (d.detector, d.kind, d.src.map(|e| e.ip), d.dst.map(|e| e.ip));
        if let Some(&i) = self.open.get(&key) {
            self.stats.updates_total += 1;
            let a = match self.alerts.get_mut(i) {
                Some(a) => a,
                None => match self.overflow.get_mut(&key) {
                    Some(a) => a,
                    None => return,
                },
            };
            update(a, d);
            return;
        }
        if let (Some(s), Some(t)) = (d.src, d.dst) {
            let pair = (s.ip, t.ip);
            match d.detector {
                DetectorId::BruteForce if self.brute_pairs.len() < MAX_TRACKED => {
                    self.brute_pairs.insert(pair, ());
                }
                DetectorId::Beacon
                    if self.cfg.beacon_defers_to_brute_force
                        && self.brute_pairs.contains_key(&pair) =>
                {
                    self.stats.explained_total += 1;
                    return;
                }
                _ => {}
            }
        }
        if Self::listed(&self.allow, &d) {
            self.stats.allowed_total += 1;
            return;
        }
        if Self::listed(&self.suppress, &d) {
            self.stats.suppressed_total += 1;
            return;
        }
        if let Some(&(closed_at, i)) = self.closed.get(&key) {
            if d.ts.since(closed_at) < self.cfg.suppress_s.saturating_mul(1_000_000_000) {
                self.stats.suppressed_total += 1;
                if let Some(a) = self.alerts.get_mut(i) {
                    update(a, d);
                }
                return;
            }
        }
        if !self.pass_thresholds(&d) {
            self.stats.thresholded_total += 1;
            return;
        }
        if self.open.len() >= self.cfg.max_open {
            self.close_least_recent(d.ts);
        }
        self.stats.raised_total += 1;
        let a = Alert {
            id: self.next_id,
            detector: d.detector,
            kind: d.kind,
            signature_id: d.detector.sid_base() + u32::from(d.kind_index),
            signature: d.signature,
            category: d.category,
            severity: d.severity,
            src: d.src,
            dst: d.dst,
            proto: d.proto,
            flow_id: d.flow_id,
            community_id: d.community_id,
            onset: d.onset,
            raised: d.ts,
            last_seen: d.ts,
            updates: 0,
            status: AlertStatus::New,
            evidence: d.evidence,
        };
        self.next_id += 1;
        self.pending.push(a.clone());
        if self.alerts.len() < self.cfg.max_alerts {
            self.alerts.push(a);
            self.open.insert(key, self.alerts.len() - 1);
        } else {
            self.stats.dropped_total += 1;
            self.overflow.insert(key, a);
            self.open.insert(key, usize::MAX);
        }
    }

    fn pass_thresholds(&mut self, d: &AlertDraft) -> bool {
        let src = d.src.map(|e| e.ip);
        let dst = d.dst.map(|e| e.ip);
        let mut pass = true;
        for (ri, r) in self.cfg.threshold.iter().enumerate() {
            if r.detector
                .as_deref()
                .is_some_and(|x| x != d.detector.as_str())
            {
                continue;
            }
            if r.kind.as_deref().is_some_and(|k| k != d.kind) {
                continue;
            }
            let tk = match r.track {
                Track::BySrc => (ri, src, None),
                Track::ByDst => (ri, None, dst),
                Track::ByPair => (ri, src, dst),
            };
            if self.thresholds.len() >= MAX_TRACKED && !self.thresholds.contains_key(&tk) {
                // Drop the stalest window; deterministic: the smallest start time.
                if let Some(old) = self
                    .thresholds
                    .iter()
                    .min_by_key(|(k, s)| (s.window_start, **k))
                    .map(|(k, _)| *k)
                {
                    self.thresholds.remove(&old);
                }
            }
            let win = r.seconds.saturating_mul(1_000_000_000);
            let st = self.thresholds.entry(tk).or_insert(ThresholdState {
                window_start: d.ts,
                count: 0,
                emitted: 0,
            });
            if d.ts.since(st.window_start) >= win {
                st.window_start = d.ts;
                st.count = 0;
                st.emitted = 0;
            }
            st.count += 1;
            let ok = match r.kind_of {
                ThresholdKind::Limit => st.count <= r.count,
                ThresholdKind::Threshold => r.count > 0 && st.count % r.count == 0,
                ThresholdKind::Both => st.count == r.count.max(1),
            };
            if ok {
                st.emitted += 1;
            }
            pass &= ok;
        }
        pass
    }

    fn close_key(&mut self, key: Key, ts: Timestamp) {
        let Some(i) = self.open.remove(&key) else {
            return;
        };
        let a = if i == usize::MAX {
            self.overflow.remove(&key)
        } else {
            self.alerts.get_mut(i).map(|a| {
                a.status = AlertStatus::Closed;
                a.clone()
            })
        };
        if let Some(mut a) = a {
            a.status = AlertStatus::Closed;
            if a.updates > 0 {
                self.pending.push(a);
            }
        }
        if i != usize::MAX {
            if self.closed.len() >= MAX_TRACKED {
                if let Some((k, _)) = self.closed_order.pop_front() {
                    self.closed.remove(&k);
                }
            }
            self.closed.insert(key, (ts, i));
            self.closed_order.push_back((key, ts));
        }
    }

    fn close_least_recent(&mut self, ts: Timestamp) {
        let oldest = self
            .open
            .iter()
            .map(|(k, &i)| {
                let last = self
                    .alerts
                    .get(i)
                    .or_else(|| self.overflow.get(k))
                    .map_or(Timestamp::ZERO, |a| a.last_seen);
                (last, *k)
            })
            .min();
        if let Some((_, k)) = oldest {
            self.stats.closed_early_total += 1;
            self.close_key(k, ts);
        }
    }

    /// Packet time moved on: close alerts idle for `idle_close_s`, forget old suppressions.
    pub fn tick(&mut self, ts: Timestamp) {
        let idle = self.cfg.idle_close_s.saturating_mul(1_000_000_000);
        let mut idle_keys: Vec<(u64, Key)> = self
            .open
            .iter()
            .filter_map(|(k, &i)| {
                let a = self.alerts.get(i).or_else(|| self.overflow.get(k))?;
                (ts.since(a.last_seen) >= idle).then_some((a.id, *k))
            })
            .collect();
        // Close in id order so that output does not depend on hash order.
        idle_keys.sort_unstable_by_key(|(id, _)| *id);
        for (_, k) in idle_keys {
            self.close_key(k, ts);
        }
        let keep = self.cfg.suppress_s.saturating_mul(1_000_000_000);
        while let Some((k, t)) = self.closed_order.front().copied() {
            if ts.since(t) < keep {
                break;
            }
            self.closed_order.pop_front();
            if self.closed.get(&k).is_some_and(|(ct, _)| *ct == t) {
                self.closed.remove(&k);
            }
        }
    }

    /// End of input: close every open alert, in id order.
    pub fn close_all(&mut self, ts: Timestamp) {
        let mut keys: Vec<(u64, Key)> = self
            .open
            .iter()
            .filter_map(|(k, &i)| {
                let a = self.alerts.get(i).or_else(|| self.overflow.get(k))?;
                Some((a.id, *k))
            })
            .collect();
        keys.sort_unstable_by_key(|(id, _)| *id);
        for (_, k) in keys {
            self.close_key(k, ts);
        }
    }
}

fn update(a: &mut Alert, d: AlertDraft) {
    a.updates += 1;
    if d.ts > a.last_seen {
        a.last_seen = d.ts;
    }
    a.onset = a.onset.min(d.onset);
    a.signature = d.signature;
    a.evidence = d.evidence;
    if a.flow_id.is_none() {
        a.flow_id = d.flow_id;
        a.community_id = d.community_id;
    }
}
