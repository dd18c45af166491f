//! Several captures merged into one stream in timestamp order (what `mergecap` does).

use std::cmp::Reverse;
use std::collections::BinaryHeap;

use wirescope_core::{Frame, LinkType, Timestamp};

use crate::error::CaptureError;
use crate::reader::CaptureReader;

/// Several readers merged into one stream in timestamp order.
///
/// Ordering: the packet with the smallest timestamp among the inputs' next packets comes
/// first; on a tie, the input given earlier to [`new`](Self::new). Each input's own order is
/// kept, so a file whose timestamps go backwards stays in its order (the merged stream is then
/// not strictly sorted).
///
/// An error in one input (truncated, corrupt, I/O) ends that input after all its packets
/// before the error; the others go on, and [`errors`](Self::errors) lists what happened.
///
/// With one reader, `advance` is a direct call to it. With more, a binary heap holds one
/// entry per input: O(log n) per packet, and no allocation after `new`.
pub struct MergedReader {
    readers: Vec<CaptureReader>,
    errors: Vec<CaptureError>,
    /// (timestamp of the input's loaded packet, input index) for inputs with a packet waiting.
    heap: BinaryHeap<Reverse<(Timestamp, usize)>>,
    /// The input whose packet `current` returns.
    cur: Option<usize>,
    started: bool,
}

impl MergedReader {
    pub fn new(readers: Vec<CaptureReader>) -> MergedReader {
        let n = readers.len();
        MergedReader {
            readers,
            errors: Vec::new(),
            heap: BinaryHeap::with_capacity(n),
            cur: None,
            started: false,
        }
    }

    /// Loads the next packet of the merged stream; `false` once every input is finished.
    #[inline]
    pub fn advance(&mut self) -> bool {
        if let [only] = self.readers.as_mut_slice() {
            let more = match only.advance() {
                Ok(more) => more,
                Err(e) => {
                    self.errors.push(e);
                    false
                }
            };
            self.cur = more.then_some(0);
            return more;
        }
        if !self.started {
            self.started = true;
            for i in 0..self.readers.len() {
                self.pull(i);
            }
        } else if let Some(i) = self.cur.take() {
            self.pull(i);
        }
        match self.heap.pop() {
            Some(Reverse((_, i))) => {
                self.cur = Some(i);
                true
            }
            None => false,
        }
    }

    /// Advances input `i` and queues its next packet.
    fn pull(&mut self, i: usize) {
        let Some(r) = self.readers.get_mut(i) else {
            return;
        };
        match r.advance() {
            Ok(true) => self.heap.push(Reverse((r.current().ts, i))),
            Ok(false) => {}
            Err(e) => self.errors.push(e),
        }
    }

    /// The packet loaded by the last `advance` that returned `true` (an empty frame otherwise).
    #[inline]
    pub fn current(&self) -> Frame<'_> {
        match self.cur.and_then(|i| self.readers.get(i)) {
            Some(r) => r.current(),
            None => Frame {
                ts: Timestamp::ZERO,
                wire_len: 0,
                link: LinkType(0),
                iface: 0,
                data: &[],
            },
        }
    }

    /// Index (in the `Vec` given to `new`) of the input the current packet comes from.
    pub fn current_source(&self) -> Option<usize> {
        self.cur
    }

    /// The inputs, for their names, formats and link types.
    pub fn readers(&self) -> &[CaptureReader] {
        &self.readers
    }

    /// Errors met so far, at most one per input, in the order they happened.
    pub fn errors(&self) -> &[CaptureError] {
        &self.errors
    }

    /// Sum of the inputs' [`CaptureReader::bytes_consumed`].
    pub fn bytes_consumed(&self) -> u64 {
        self.readers.iter().map(CaptureReader::bytes_consumed).sum()
    }

    /// Sum of the inputs' sizes, `None` if any is unknown (stdin).
    pub fn total_size(&self) -> Option<u64> {
        self.readers.iter().map(CaptureReader::file_size).sum()
    }
}
