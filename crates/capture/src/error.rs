//! Error types of the capture crate.
//!
//! Every `Display` is one line that names the input (file name or `-`), and for
//! [`CaptureError::Truncated`] / [`CaptureError::Corrupt`] the byte offset in the file of the
//! record (or block) that could not be read, so a user can look at it with `xxd -s`.

use std::io;
use std::sync::Arc;

use wirescope_core::LinkType;

/// Why a capture could not be opened, read or written.
///
/// Errors are rare (at most one per input) so they may allocate; the per-packet path never
/// builds one unless the input is broken.
#[derive(Debug, thiserror::Error)]
pub enum CaptureError {
    /// The input does not start with a pcap or pcapng magic number.
    #[error("{name}: not a pcap or pcapng capture ({detail})")]
    NotACapture { name: String, detail: &'static str },
    /// The operating system reported an error while reading or writing.
    #[error("{name}: {source}")]
    Io { name: String, source: io::Error },
    /// The input ended inside a header or a record: every complete record before `offset` was
    /// delivered.
    #[error("{name}: truncated at byte {offset}: {detail}")]
    Truncated {
        name: String,
        offset: u64,
        detail: &'static str,
    },
    /// A header or record at `offset` is malformed (impossible length, unknown interface…):
    /// every record before it was delivered, nothing after it can be trusted.
    #[error("{name}: corrupt at byte {offset}: {detail}")]
    Corrupt {
        name: String,
        offset: u64,
        detail: String,
    },
    /// An output cannot be written as asked: rotation options that do not fit together or
    /// with standard output, or a bad `-G` file name pattern. Found before anything is
    /// written.
    #[error("{name}: {detail}")]
    InvalidOutput { name: String, detail: String },
}

impl CaptureError {
    /// The file name (or `-`) the error is about.
    pub fn name(&self) -> &str {
        match self {
            CaptureError::NotACapture { name, .. }
            | CaptureError::Io { name, .. }
            | CaptureError::Truncated { name, .. }
            | CaptureError::Corrupt { name, .. }
            | CaptureError::InvalidOutput { name, .. } => name,
        }
    }

    /// The byte offset of the bad record, for `Truncated` and `Corrupt`.
    pub fn offset(&self) -> Option<u64> {
        match self {
            CaptureError::Truncated { offset, .. } | CaptureError::Corrupt { offset, .. } => {
                Some(*offset)
            }
            _ => None,
        }
    }
}

/// A BPF filter that libpcap could not compile.
///
/// The strings are `Arc<str>` so that [`crate::BpfFilter::matches`] can hand out the cached
/// error for an unsupported link type on every packet without allocating.
#[derive(Clone, Debug, thiserror::Error)]
pub enum FilterError {
    /// The expression does not parse, or means nothing for the first link type.
    #[error("bad filter \"{expr}\": {message}")]
    Syntax { expr: Arc<str>, message: Arc<str> },
    /// The expression compiled for an earlier link type but not for this one (libpcap does
    /// not know it, or the expression uses a protocol that link type cannot carry).
    #[error("filter \"{expr}\" cannot be used on link type {link}: {message}")]
    LinkType {
        expr: Arc<str>,
        link: LinkType,
        message: Arc<str>,
    },
}

/// An error found by a format parser, before the reader adds the input's name.
#[derive(Debug)]
pub(crate) enum RawError {
    Io(io::Error),
    Truncated { offset: u64, detail: &'static str },
    Corrupt { offset: u64, detail: String },
}

impl From<io::Error> for RawError {
    fn from(e: io::Error) -> RawError {
        RawError::Io(e)
    }
}

impl RawError {
    pub(crate) fn named(self, name: &str) -> CaptureError {
        let name = name.to_owned();
        match self {
            RawError::Io(source) => CaptureError::Io { name, source },
            RawError::Truncated { offset, detail } => CaptureError::Truncated {
                name,
                offset,
                detail,
            },
            RawError::Corrupt { offset, detail } => CaptureError::Corrupt {
                name,
                offset,
                detail,
            },
        }
    }
}
