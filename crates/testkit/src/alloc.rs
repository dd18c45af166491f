//! A counting global allocator, to prove "no allocation per packet" in tests.
//!
//! [`CountingAlloc`] forwards every call to [`System`] and counts it twice: in process-wide
//! atomics and in per-thread counters. Tests read the per-thread counts, so tests running in
//! parallel threads of the same binary do not disturb each other.
//!
//! Install it in the test binary that wants it (one `#[global_allocator]` per binary):
//!
//! ```no_run
//! use wirescope_testkit::alloc::{self, CountingAlloc};
//!
//! #[global_allocator]
//! static GLOBAL: CountingAlloc = CountingAlloc::new();
//!
//! fn main() {
//!     assert!(alloc::is_installed());
//!     let mut v: Vec<u64> = Vec::with_capacity(1024); // warm-up: allocate outside
//!     let ((), n) = alloc::count(|| {
//!         for i in 0..1000 {
//!             v.push(i); // within capacity: no allocation
//!         }
//!     });
//!     assert_eq!(n.allocations(), 0);
//! }
//! ```
//!
//! Without the `#[global_allocator]` line every count stays zero: check
//! [`is_installed`] first so that a test cannot pass vacuously.

use std::alloc::{GlobalAlloc, Layout, System};
use std::cell::Cell;
use std::sync::atomic::{AtomicU64, Ordering};

/// Allocator calls counted since the process (or thread) started.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct AllocCounts {
    /// `alloc` and `alloc_zeroed` calls.
    pub allocs: u64,
    /// `realloc` calls (a growing `Vec`, `String`, hash table...).
    pub reallocs: u64,
    /// `dealloc` calls.
    pub deallocs: u64,
    /// Bytes requested by `alloc`, `alloc_zeroed` and `realloc` (new sizes).
    pub bytes: u64,
}

impl AllocCounts {
    const ZERO: AllocCounts = AllocCounts {
        allocs: 0,
        reallocs: 0,
        deallocs: 0,
        bytes: 0,
    };

    /// Calls that obtained memory: allocations plus reallocations.
    pub fn allocations(&self) -> u64 {
        self.allocs + self.reallocs
    }

    /// The counts accumulated between `earlier` and `self`.
    pub fn since(&self, earlier: &AllocCounts) -> AllocCounts {
        AllocCounts {
            allocs: self.allocs.saturating_sub(earlier.allocs),
            reallocs: self.reallocs.saturating_sub(earlier.reallocs),
            deallocs: self.deallocs.saturating_sub(earlier.deallocs),
            bytes: self.bytes.saturating_sub(earlier.bytes),
        }
    }
}

static ALLOCS: AtomicU64 = AtomicU64::new(0);
static REALLOCS: AtomicU64 = AtomicU64::new(0);
static DEALLOCS: AtomicU64 = AtomicU64::new(0);
static BYTES: AtomicU64 = AtomicU64::new(0);

thread_local! {
    // `const` initialisation and a `Copy` type without `Drop`: reading or writing it never
    // allocates and registers no destructor, so the allocator may use it re-entrantly.
    static THREAD: Cell<AllocCounts> = const { Cell::new(AllocCounts::ZERO) };
}

#[derive(Clone, Copy)]
enum Call {
    Alloc,
    Realloc,
    Dealloc,
}

fn record(call: Call, size: usize) {
    let size = size as u64;
    match call {
        Call::Alloc => {
            ALLOCS.fetch_add(1, Ordering::Relaxed);
            BYTES.fetch_add(size, Ordering::Relaxed);
        }
        Call::Realloc => {
            REALLOCS.fetch_add(1, Ordering::Relaxed);
            BYTES.fetch_add(size, Ordering::Relaxed);
        }
        Call::Dealloc => {
            DEALLOCS.fetch_add(1, Ordering::Relaxed);
        }
    }
    // During thread teardown the slot may be gone: then only the global counters count.
    let _ = THREAD.try_with(|t| {
        let mut c = t.get();
        match call {
            Call::Alloc => {
                c.allocs += 1;
                c.bytes += size;
            }
            Call::Realloc => {
                c.reallocs += 1;
                c.bytes += size;
            }
            Call::Dealloc => c.deallocs += 1,
        }
        t.set(c);
    });
}

/// The system allocator, counting; see the module documentation.
#[derive(Debug, Default)]
pub struct CountingAlloc {
    _private: (),
}

impl CountingAlloc {
    pub const fn new() -> Self {
        CountingAlloc { _private: () }
    }
}

// SAFETY: every method forwards to `System` with exactly the arguments it received, so the
// `GlobalAlloc` contract (returned blocks fit the layout, are not aliased, and are released
// with the layout they were allocated with) is `System`'s. The counting around the calls
// touches only atomics and a const-initialised, destructor-free thread local: it never
// allocates (no re-entrance) and never unwinds.
#[allow(
    unsafe_code,
    reason = "a GlobalAlloc impl is unsafe by definition; dev-only crate"
)]
unsafe impl GlobalAlloc for CountingAlloc {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        record(Call::Alloc, layout.size());
        // SAFETY: the caller guarantees `layout` has a non-zero size, as `System` requires.
        unsafe { System.alloc(layout) }
    }

    unsafe fn alloc_zeroed(&self, layout: Layout) -> *mut u8 {
        record(Call::Alloc, layout.size());
        // SAFETY: as for `alloc`.
        unsafe { System.alloc_zeroed(layout) }
    }

    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        record(Call::Dealloc, layout.size());
        // SAFETY: the caller guarantees `ptr` came from this allocator (hence from `System`)
        // with this `layout`.
        unsafe { System.dealloc(ptr, layout) }
    }

    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        record(Call::Realloc, new_size);
        // SAFETY: the caller guarantees `ptr`/`layout` describe a live block of `System`'s and
        // that `new_size` is non-zero and does not overflow when rounded to the alignment.
        unsafe { System.realloc(ptr, layout, new_size) }
    }
}

/// Counts made by the current thread so far.
pub fn thread_counts() -> AllocCounts {
    THREAD.try_with(Cell::get).unwrap_or_default()
}

/// Counts made by all threads so far.
pub fn global_counts() -> AllocCounts {
    AllocCounts {
        allocs: ALLOCS.load(Ordering::Relaxed),
        reallocs: REALLOCS.load(Ordering::Relaxed),
        deallocs: DEALLOCS.load(Ordering::Relaxed),
        bytes: BYTES.load(Ordering::Relaxed),
    }
}

/// Runs `f` and returns what the current thread allocated meanwhile.
pub fn count<R>(f: impl FnOnce() -> R) -> (R, AllocCounts) {
    let before = thread_counts();
    let r = f();
    let after = thread_counts();
    (r, after.since(&before))
}

/// Whether [`CountingAlloc`] is this binary's global allocator (the counters move when a
/// box is allocated). A zero-allocation assertion is meaningless unless this is true.
pub fn is_installed() -> bool {
    let ((), n) = count(|| drop(std::hint::black_box(Box::new(0u64))));
    n.allocs > 0
}
