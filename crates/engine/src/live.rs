//! Live capture: one capture thread per interface feeds the engine thread through a bounded
//! queue of packet batches.
//!
//! ```text
//!  capture thread (per -i)                      engine thread (the caller's)
//!  libpcap ring ─► copy into a Batch ─try_send─► queue (bounded) ─► Engine::process ─► sinks
//!        ▲                         │ full: drop the batch, count it       │
//!        └──── free batches ◄──────┴──────────────────────────────────────┘ (recycled)
//! ```
//!
//! - Capture never blocks on the engine: when the queue is full the batch is dropped and its
//!   packets are counted as `queue_dropped`; the kernel's own drops are read with `pcap_stats`.
//! - Batches are allocated once (queue capacity + 2 per interface) and recycled: nothing is
//!   allocated per packet. A batch is handed over when it holds [`BATCH_PACKETS`] packets, when
//!   it spans [`BATCH_SPAN_NS`] of packet time, or when a read times out, so a quiet link still
//!   reaches the engine within the read timeout.
//! - Stop (the `stop` flag, set by SIGINT/SIGTERM or by `-c`): capture threads hand over what
//!   they hold and exit; the engine drains the queue, then the caller finishes the engine.
//! - Once a second of wall-clock time (checked per batch, never per packet) the caller's
//!   `every_second` hook runs on the engine thread with the capture health: the live view,
//!   periodic EVE `stats` events and SIGHUP reloads hang there.

use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::mpsc::{self, Receiver, RecvTimeoutError, SyncSender, TrySendError};
use std::sync::Arc;
use std::time::{Duration, Instant};

use serde::Serialize;
use wirescope_capture::{LiveCapture, RotatingWriter, WriteOutcome};
use wirescope_core::{Frame, LinkType, Timestamp};

use crate::shard::{Analyzer, FrameBatch as Batch};
use crate::{Report, Sink};

/// Packets per batch.
pub const BATCH_PACKETS: usize = 256;
/// Packet-time span after which a batch is handed over even if not full (latency bound).
pub const BATCH_SPAN_NS: u64 = 50_000_000;
/// Byte capacity of a batch: enough for [`BATCH_PACKETS`] full-size Ethernet frames, and
/// always at least one maximal (262 144-byte) snapshot.
const BATCH_BYTES: usize = 512 * 1024;

fn new_batch(owner: usize, hashed: bool) -> Batch {
    Batch::new(owner, BATCH_PACKETS, BATCH_BYTES).hashed(hashed)
}

/// Counters of one interface, shared between its capture thread and the engine thread.
#[derive(Default)]
struct Counters {
    captured: AtomicU64,
    received: AtomicU64,
    dropped: AtomicU64,
    if_dropped: AtomicU64,
    queue_dropped: AtomicU64,
}

/// Health of one interface: what the kernel and the engine's queue did with its packets.
#[derive(Clone, Debug, Default, Serialize, PartialEq, Eq)]
pub struct InterfaceHealth {
    pub interface: String,
    pub link_type: u16,
    /// Packets the kernel accepted (`pcap_stats` `ps_recv`: passed the filter, drops included).
    pub kernel_received: u64,
    /// Packets the kernel dropped because the capture buffer was full (`ps_drop`).
    pub kernel_dropped: u64,
    /// Packets the interface or its driver dropped (`ps_ifdrop`).
    pub interface_dropped: u64,
    /// Packets read from libpcap by wirescope.
    pub captured: u64,
    /// Packets read but dropped because the engine's queue was full.
    pub queue_dropped: u64,
}

/// Health of the whole live capture.
#[derive(Clone, Debug, Default, Serialize, PartialEq)]
pub struct CaptureHealth {
    pub interfaces: Vec<InterfaceHealth>,
    /// Sums over the interfaces.
    pub kernel_received: u64,
    pub kernel_dropped: u64,
    pub interface_dropped: u64,
    pub captured: u64,
    pub queue_dropped: u64,
    /// Wall-clock seconds since capture started.
    pub elapsed_s: f64,
    /// Capture errors that ended an interface's capture early.
    pub errors: Vec<String>,
}

impl CaptureHealth {
    /// True when nothing was dropped anywhere (kernel, driver, queue).
    pub fn lossless(&self) -> bool {
        self.kernel_dropped == 0 && self.interface_dropped == 0 && self.queue_dropped == 0
    }
}

/// Options of one live run.
pub struct LiveRunOptions {
    /// Set to stop: by signal handlers, or by the run itself after `max_packets`.
    pub stop: Arc<AtomicBool>,
    /// Stop after this many analysed packets (`-c`).
    pub max_packets: Option<u64>,
    /// Batches the queue holds (per run, shared by the interfaces).
    pub queue_batches: usize,
    /// `-w`: frames are written before they are analysed.
    pub writer: Option<Box<dyn FrameWriter>>,
}

/// Where `-w` frames go during a live run (a pcap file, or a rotating set of them).
pub trait FrameWriter: Send {
    /// Writes one frame; `Ok(false)` asks the run to stop (a rotation limit was reached).
    fn write_frame(&mut self, frame: &Frame<'_>) -> Result<bool, String>;
    /// Flushes and closes; the number of frames skipped because their link type differs.
    fn finish_writer(self: Box<Self>) -> Result<u64, String>;
}

impl FrameWriter for RotatingWriter {
    fn write_frame(&mut self, frame: &Frame<'_>) -> Result<bool, String> {
        match self.write(frame) {
            Ok(WriteOutcome::Continue) => Ok(true),
            Ok(WriteOutcome::LimitReached) => Ok(false),
            Err(e) => Err(e.to_string()),
        }
    }
    fn finish_writer(self: Box<Self>) -> Result<u64, String> {
        let skipped = self.skipped_link_mismatch();
        (*self)
            .finish()
            .map(|()| skipped)
            .map_err(|e| e.to_string())
    }
}

/// What a live run met besides the report.
#[derive(Debug, Default)]
pub struct LiveOutcome {
    pub health: CaptureHealth,
    pub written: u64,
    pub write_error: Option<String>,
    pub skipped_link_mismatch: u64,
    /// `-G` with `-W` wrote its last file: the run stopped there.
    pub limit_reached: bool,
}

/// Captures on every handle until stopped, analysing on the calling thread, and returns the
/// finished report. `every_second` runs on this thread about once a second.
pub fn run_live<S: Sink>(
    captures: Vec<LiveCapture>,
    mut engine: Analyzer,
    mut opts: LiveRunOptions,
    sink: &mut S,
    mut every_second: impl FnMut(&mut Analyzer, &CaptureHealth, &mut S),
) -> (Report, LiveOutcome) {
    let started = Instant::now();
    let n = captures.len();
    let queue = opts.queue_batches.max(1);
    let (full_tx, full_rx) = mpsc::sync_channel::<Batch>(queue);
    let mut free_txs = Vec::with_capacity(n);
    let mut workers = Vec::with_capacity(n);
    let counters: Vec<Arc<Counters>> = (0..n).map(|_| Arc::new(Counters::default())).collect();
    let names: Vec<(String, LinkType)> = captures
        .iter()
        .map(|c| (c.name().to_string(), c.link_type()))
        .collect();
    let errors: Arc<std::sync::Mutex<Vec<String>>> = Arc::default();
    // Set with `stop` when the run itself ends it (`-c`, a rotation limit): the packets still
    // in the kernel's buffer are then not wanted, so capture threads skip the final drain.
    let limited = Arc::new(AtomicBool::new(false));
    for (owner, cap) in captures.into_iter().enumerate() {
        let (free_tx, free_rx) = mpsc::channel::<Batch>();
        // The queue, the batches the engine holds (several with --workers) and two in hand.
        let held = match &engine {
            Analyzer::Single(_) => 1,
            Analyzer::Sharded(s) => s.in_flight() + 1,
        };
        let hashed = matches!(engine, Analyzer::Sharded(_));
        for _ in 0..queue + held + 1 {
            let _ = free_tx.send(new_batch(owner, hashed));
        }
        free_txs.push(free_tx);
        let ctx = CaptureThread {
            cap,
            full: full_tx.clone(),
            free: free_rx,
            counters: Arc::clone(&counters[owner]),
            stop: Arc::clone(&opts.stop),
            limited: Arc::clone(&limited),
            errors: Arc::clone(&errors),
        };
        let spawned = std::thread::Builder::new()
            .name(format!("capture-{owner}"))
            .spawn(move || ctx.run());
        match spawned {
            Ok(h) => workers.push(h),
            Err(e) => {
                if let Ok(mut errs) = errors.lock() {
                    errs.push(format!("cannot start a capture thread: {e}"));
                }
            }
        }
    }
    drop(full_tx);

    let mut outcome = LiveOutcome::default();
    let had_writer = opts.writer.is_some();
    let limit = opts.max_packets.unwrap_or(u64::MAX);
    let health = |started: Instant| -> CaptureHealth {
        let mut h = CaptureHealth {
            elapsed_s: started.elapsed().as_secs_f64(),
            ..CaptureHealth::default()
        };
        for ((name, link), c) in names.iter().zip(&counters) {
            let i = InterfaceHealth {
                interface: name.clone(),
                link_type: link.0,
                kernel_received: c.received.load(Ordering::Relaxed),
                kernel_dropped: c.dropped.load(Ordering::Relaxed),
                interface_dropped: c.if_dropped.load(Ordering::Relaxed),
                captured: c.captured.load(Ordering::Relaxed),
                queue_dropped: c.queue_dropped.load(Ordering::Relaxed),
            };
            h.kernel_received += i.kernel_received;
            h.kernel_dropped += i.kernel_dropped;
            h.interface_dropped += i.interface_dropped;
            h.captured += i.captured;
            h.queue_dropped += i.queue_dropped;
            h.interfaces.push(i);
        }
        if let Ok(errs) = errors.lock() {
            h.errors = errs.clone();
        }
        h
    };
    let mut next_tick = started + Duration::from_secs(1);
    let mut last_batch = Instant::now();
    loop {
        match full_rx.recv_timeout(Duration::from_millis(100)) {
            Ok(mut batch) => {
                last_batch = Instant::now();
                let take = write_batch(&batch, engine.frames(), &mut opts, &mut outcome, limit);
                batch.truncate(take);
                engine.process_batch(batch, sink, &mut |mut b| {
                    b.clear();
                    if let Some(tx) = free_txs.get(b.owner) {
                        let _ = tx.send(b);
                    }
                });
            }
            Err(RecvTimeoutError::Timeout) => {
                // A quiet link: packet time is the kernel's wall-clock stamp, so move it on
                // (IDLE_ADVANCE behind the clock, so that no packet still in the kernel's ring
                // is older) and let idle flows time out now rather than at the next packet.
                if last_batch.elapsed() >= IDLE_ADVANCE {
                    let now = wall_clock_ts();
                    let lag = IDLE_ADVANCE.as_secs() as i64;
                    let ts = Timestamp::from_secs_nanos(now.secs() - lag, now.subsec_nanos());
                    engine.advance(ts, sink);
                }
            }
            Err(RecvTimeoutError::Disconnected) => break,
        }
        if engine.frames() >= limit || outcome.limit_reached {
            limited.store(true, Ordering::Relaxed);
            opts.stop.store(true, Ordering::Relaxed);
        }
        let now = Instant::now();
        if now >= next_tick {
            next_tick = now + Duration::from_secs(1);
            every_second(&mut engine, &health(started), sink);
        }
    }
    for w in workers {
        let _ = w.join();
    }
    if let Some(w) = opts.writer.take() {
        match w.finish_writer() {
            Ok(skipped) => outcome.skipped_link_mismatch = skipped,
            Err(e) => {
                outcome.write_error.get_or_insert(e);
            }
        }
    }
    outcome.health = health(started);
    let mut report = engine.finish(sink);
    report.packets_read = outcome
        .health
        .captured
        .saturating_sub(outcome.health.queue_dropped);
    report.written = had_writer.then_some(outcome.written);
    report.capture = Some(outcome.health.clone());
    (report, outcome)
}

/// After this long without packets, packet time is advanced from the wall clock.
const IDLE_ADVANCE: Duration = Duration::from_secs(2);

/// The wall clock as a packet timestamp.
fn wall_clock_ts() -> Timestamp {
    let d = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap_or_default();
    Timestamp::from_secs_nanos(
        i64::try_from(d.as_secs()).unwrap_or(i64::MAX),
        d.subsec_nanos(),
    )
}

/// Writes the batch's frames that are to be analysed (`-w`), stopping at the `-c` limit
/// (`given` frames were analysed before) or a rotation limit; returns how many to analyse.
fn write_batch(
    batch: &Batch,
    given: u64,
    opts: &mut LiveRunOptions,
    outcome: &mut LiveOutcome,
    limit: u64,
) -> usize {
    let room = usize::try_from(limit.saturating_sub(given)).unwrap_or(usize::MAX);
    if outcome.limit_reached {
        return 0;
    }
    let n = batch.len().min(room);
    let Some(w) = opts.writer.as_mut() else {
        return n;
    };
    for i in 0..n {
        let Some(frame) = batch.frame(i) else {
            continue;
        };
        if outcome.write_error.is_none() {
            match w.write_frame(&frame) {
                Ok(true) => outcome.written += 1,
                Ok(false) => {
                    // A rotation limit: tcpdump stops here, and so do we.
                    outcome.limit_reached = true;
                    return i;
                }
                Err(e) => outcome.write_error = Some(e),
            }
        }
    }
    n
}

/// What a capture thread owns.
struct CaptureThread {
    cap: LiveCapture,
    full: SyncSender<Batch>,
    free: Receiver<Batch>,
    counters: Arc<Counters>,
    stop: Arc<AtomicBool>,
    limited: Arc<AtomicBool>,
    errors: Arc<std::sync::Mutex<Vec<String>>>,
}

impl CaptureThread {
    fn run(mut self) {
        let Ok(mut batch) = self.free.recv() else {
            return;
        };
        let mut last_stats = Instant::now();
        let mut captured: u64 = 0;
        loop {
            if self.stop.load(Ordering::Relaxed) {
                break;
            }
            let frame = match self.cap.next_frame() {
                Ok(f) => f,
                Err(e) => {
                    if let Ok(mut errs) = self.errors.lock() {
                        errs.push(e.to_string());
                    }
                    break;
                }
            };
            let idle = frame.is_none();
            let handover = match frame {
                Some(f) => {
                    captured += 1;
                    if !batch.fits(f.data.len()) {
                        batch = hand_over(&self.full, &self.free, &self.counters, batch);
                    }
                    batch.push(&Frame {
                        iface: batch.owner as u32,
                        ..f
                    });
                    batch.is_full()
                        || batch
                            .first_ts()
                            .is_some_and(|t| f.ts.since(t) >= BATCH_SPAN_NS)
                }
                None => !batch.is_empty(),
            };
            if handover {
                batch = hand_over(&self.full, &self.free, &self.counters, batch);
            }
            // Counters are published on every read timeout and every 1024 packets.
            if idle || captured & 1023 == 0 {
                self.counters.captured.store(captured, Ordering::Relaxed);
                if last_stats.elapsed() >= Duration::from_millis(500) {
                    last_stats = Instant::now();
                    self.publish_stats();
                }
            }
        }
        // Stop: what the kernel already holds was received and counted by it (`ps_recv`), so
        // read it too — up to a bound, as a busy link never runs dry — then hand over what is
        // held (blocking: the engine is draining) and publish the final counters.
        let mut drained = 0;
        while drained < MAX_DRAIN && !self.limited.load(Ordering::Relaxed) {
            match self.cap.next_frame() {
                Ok(Some(f)) => {
                    captured += 1;
                    drained += 1;
                    if !batch.fits(f.data.len()) {
                        batch = hand_over_blocking(&self.full, &self.free, batch);
                    }
                    batch.push(&Frame {
                        iface: batch.owner as u32,
                        ..f
                    });
                }
                Ok(None) | Err(_) => break,
            }
        }
        self.counters.captured.store(captured, Ordering::Relaxed);
        if !batch.is_empty() {
            let _ = self.full.send(batch);
        }
        self.publish_stats();
    }

    fn publish_stats(&mut self) {
        if let Ok(s) = self.cap.stats() {
            self.counters.received.store(s.received, Ordering::Relaxed);
            self.counters.dropped.store(s.dropped, Ordering::Relaxed);
            self.counters
                .if_dropped
                .store(s.if_dropped, Ordering::Relaxed);
        }
    }
}

/// Packets read from the kernel's buffer after a stop request, at most.
const MAX_DRAIN: usize = 1 << 20;

/// Sends `batch` to the engine, waiting for room (the final drain: nothing more arrives to be
/// lost while waiting), and returns an empty batch.
fn hand_over_blocking(full: &SyncSender<Batch>, free: &Receiver<Batch>, batch: Batch) -> Batch {
    let (owner, hashed) = (batch.owner, batch.is_hashed());
    let _ = full.send(batch);
    let mut next = free.recv().unwrap_or_else(|_| new_batch(owner, hashed));
    next.clear();
    next
}

/// Sends `batch` to the engine, or drops it when the queue is full (counting its packets), and
/// returns an empty batch to fill next.
fn hand_over(
    full: &SyncSender<Batch>,
    free: &Receiver<Batch>,
    counters: &Counters,
    batch: Batch,
) -> Batch {
    let pkts = batch.len() as u64;
    let (owner, hashed) = (batch.owner, batch.is_hashed());
    let back = match full.try_send(batch) {
        Ok(()) => None,
        Err(TrySendError::Full(b)) | Err(TrySendError::Disconnected(b)) => {
            counters.queue_dropped.fetch_add(pkts, Ordering::Relaxed);
            Some(b)
        }
    };
    let mut next = match back {
        Some(b) => b,
        // The pool holds queue + 2 batches, so one is free unless all are in flight: then wait
        // for the engine to return one (it only ever holds one at a time).
        None => free.recv().unwrap_or_else(|_| new_batch(owner, hashed)),
    };
    next.clear();
    next
}
