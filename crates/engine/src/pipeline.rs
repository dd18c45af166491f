//! Drives an [`Engine`] from a capture source: read → BPF filter → (write) → analyse.

use crate::{Engine, Report, Sink};
use wirescope_capture::{
    BpfFilter, CaptureError, FilterError, MergedReader, RotatingWriter, WriteOutcome,
};

/// Options of one offline run.
#[derive(Default)]
pub struct RunOptions<'p> {
    /// A compiled BPF filter; frames it rejects are neither analysed nor written.
    pub filter: Option<BpfFilter>,
    /// Where `-w` writes the frames that pass the filter (one file, or rotated by
    /// `-C`/`-G`/`-W`).
    pub writer: Option<RotatingWriter>,
    /// Stop after this many analysed packets (`-c`).
    pub max_packets: Option<u64>,
    /// Called every 65 536 packets read with (bytes consumed, total bytes if known).
    pub progress: Option<&'p mut dyn FnMut(u64, Option<u64>)>,
}

/// What the run met besides the report: per-input read errors and filter/writer problems.
#[derive(Debug, Default)]
pub struct RunOutcome {
    pub read_errors: Vec<String>,
    pub filter_errors: u64,
    pub first_filter_error: Option<FilterError>,
    pub write_error: Option<CaptureError>,
    pub written: u64,
    pub skipped_link_mismatch: u64,
}

impl RunOutcome {
    /// True when some input could not be read to its end.
    pub fn incomplete(&self) -> bool {
        !self.read_errors.is_empty() || self.write_error.is_some()
    }
}

/// Runs the whole input through the engine and returns the report and outcome.
pub fn run(
    reader: &mut MergedReader,
    engine: &mut Engine,
    mut opts: RunOptions<'_>,
    sink: &mut dyn Sink,
) -> (Report, RunOutcome) {
    let mut outcome = RunOutcome::default();
    let read = read_loop(reader, &mut opts, &mut outcome, |frame| {
        engine.process(frame, sink);
    });
    close_run(
        reader,
        opts,
        outcome,
        read,
        |sink| engine.finish(sink),
        sink,
    )
}

/// Reads, filters and writes (`-w`) every frame, and gives the frames to analyse to
/// `analyse`, up to `-c`; returns the number of frames read.
fn read_loop(
    reader: &mut MergedReader,
    opts: &mut RunOptions<'_>,
    outcome: &mut RunOutcome,
    mut analyse: impl FnMut(&wirescope_core::Frame<'_>),
) -> u64 {
    let mut read: u64 = 0;
    let mut taken: u64 = 0;
    let limit = opts.max_packets.unwrap_or(u64::MAX);
    while taken < limit && reader.advance() {
        let frame = reader.current();
        read += 1;
        if read & 0xFFFF == 0 {
            if let Some(p) = opts.progress.as_mut() {
                p(reader.bytes_consumed(), reader.total_size());
            }
        }
        if let Some(f) = opts.filter.as_mut() {
            match f.matches(&frame) {
                Ok(true) => {}
                Ok(false) => continue,
                Err(e) => {
                    outcome.filter_errors += 1;
                    outcome.first_filter_error.get_or_insert(e);
                    continue;
                }
            }
        }
        if let Some(w) = opts.writer.as_mut() {
            if outcome.write_error.is_none() {
                match w.write(&frame) {
                    Ok(WriteOutcome::Continue) => outcome.written += 1,
                    // `-G` with `-W`: the last file is complete; tcpdump stops reading here.
                    Ok(WriteOutcome::LimitReached) => break,
                    Err(e) => outcome.write_error = Some(e),
                }
            }
        }
        analyse(&frame);
        taken += 1;
    }
    read
}

/// Closes the writer, collects read errors, finishes the analysis and fills the report's
/// run fields.
fn close_run(
    reader: &mut MergedReader,
    mut opts: RunOptions<'_>,
    mut outcome: RunOutcome,
    read: u64,
    finish: impl FnOnce(&mut dyn Sink) -> Report,
    sink: &mut dyn Sink,
) -> (Report, RunOutcome) {
    // Like tcpdump, `-c` stops reading: the rest of the input is not counted.
    let had_writer = opts.writer.is_some();
    if let Some(w) = opts.writer.take() {
        outcome.skipped_link_mismatch = w.skipped_link_mismatch();
        if let Err(e) = w.finish() {
            outcome.write_error.get_or_insert(e);
        }
    }
    outcome.read_errors = reader.errors().iter().map(|e| e.to_string()).collect();
    let mut report = finish(sink);
    report.packets_read = read;
    report.written = had_writer.then_some(outcome.written);
    report.filter = opts.filter.as_ref().map(|f| f.expr().to_string());
    (report, outcome)
}

/// Frames per batch handed to the shards.
const SHARD_BATCH_PACKETS: usize = 256;
/// Bytes per batch (a larger frame gets a batch of its own).
const SHARD_BATCH_BYTES: usize = 512 * 1024;

/// [`run`] with the analysis on N shards and a merge stage ([`crate::shard`]): frames are
/// read, filtered and written here as in [`run`], then copied into batches.
pub fn run_sharded(
    reader: &mut MergedReader,
    mut analyzer: crate::shard::Sharded,
    mut opts: RunOptions<'_>,
    sink: &mut dyn Sink,
) -> (Report, RunOutcome) {
    use crate::shard::FrameBatch;
    let new_batch = || FrameBatch::new(0, SHARD_BATCH_PACKETS, SHARD_BATCH_BYTES).hashed(true);
    let mut outcome = RunOutcome::default();
    let mut free: Vec<FrameBatch> = Vec::with_capacity(analyzer.in_flight() + 2);
    let mut batch = new_batch();
    let read = read_loop(reader, &mut opts, &mut outcome, |frame| {
        if !batch.fits(frame.data.len()) {
            let next = free.pop().unwrap_or_else(new_batch);
            let full = std::mem::replace(&mut batch, next);
            analyzer.push(full, sink, &mut |mut b| {
                b.clear();
                free.push(b);
            });
        }
        batch.push(frame);
    });
    if !batch.is_empty() {
        analyzer.push(batch, sink, &mut |_| {});
    }
    close_run(
        reader,
        opts,
        outcome,
        read,
        |sink| analyzer.finish(sink),
        sink,
    )
}
