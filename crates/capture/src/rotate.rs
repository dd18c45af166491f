//! Output file rotation, like `tcpdump -w FILE -C SIZE -G SECS -W N`.
//!
//! # What tcpdump does
//!
//! (tcpdump 4.99, `dump_packet_and_trunc` and `MakeFilename` in `tcpdump.c`.)
//!
//! - `-C SIZE`: before writing a packet, if the current file is already *larger* than `SIZE`
//!   bytes (`ftell() > SIZE`, header included), close it and open the next one. Files are
//!   `FILE`, `FILE1`, `FILE2`, … The packet that made a file cross the limit stays in it, so
//!   files end slightly over `SIZE`.
//! - `-C` with `-W N`: a ring of `N` files named `FILE` plus the counter zero-padded to the
//!   number of digits of `N - 1` (`-W 3`: `FILE0`..`FILE2`; `-W 11`: `FILE00`..`FILE10`;
//!   `-W 1`: no digits, `FILE` only); after `FILE(N-1)` comes `FILE0` again, truncated: the
//!   ring keeps the newest files.
//! - `-G SECS`: before writing a packet, if `now - t0 >= SECS`, where `t0` is when the current
//!   file was opened, open a new file and set `t0 = now`. File names are the `-w` argument
//!   run through `strftime(3)` with `t0` in local time; a name without conversions is simply
//!   overwritten.
//! - `-G` with `-C`: size rotations inside one interval add the counter as above (`NAME`,
//!   `NAME1`, … or, with `-W`, `NAME0`, `NAME1`, … as a ring per interval); a time rotation
//!   resets the counter.
//! - `-G` with `-W N` (without `-C`): after `N` files tcpdump exits with status 0 instead of
//!   opening file `N + 1` ("Maximum file limit reached"); the packet that triggered it is not
//!   written. With `-C` too, `-W` is the size of the ring and tcpdump never stops.
//! - A time rotation is checked before a size rotation, so a new interval always starts with
//!   counter 0.
//!
//! # What [`RotatingWriter`] does
//!
//! The same, with these differences:
//! - **Packet time, never the wall clock.** `now` is the packet's timestamp in whole
//!   seconds (floored); the first file's `t0` is the first packet's time. Packets earlier
//!   than `t0` (out of order) never rotate. As in tcpdump, intervals are not a fixed grid:
//!   each starts at the second of the packet that opened it (`-G 60`, packets at 0 s, 59 s,
//!   65 s, 130 s: files start at 0, 65 and 130).
//! - **UTC instead of local time** in `-G` names. Only `%Y %m %d %H %M %S %s %j %%` are
//!   supported (with their C meanings: `%s` is seconds since the epoch, `%j` the day of the
//!   year 001–366); any other `%` sequence, or a trailing `%`, is an error at
//!   [`create`](RotatingWriter::create). The whole path is the pattern, directories included;
//!   the `-C` counter is appended after the formatted name (`cap-%H.pcap` → `cap-14.pcap1`),
//!   as tcpdump does. A `-G` pattern must be valid UTF-8.
//! - With `-G`, the first file is opened by the first frame (its time names it), so a
//!   capture with no frame of the output's link type creates no file; without `-G` the first
//!   file is created by `create`, like tcpdump. An error creating a later file is returned by
//!   the [`write`](RotatingWriter::write) that needed it.
//! - `-C` never rotates a file that holds no packet yet. For every size of at least 24 bytes
//!   (the file header) this is what tcpdump does anyway; below it, tcpdump would leave
//!   header-only files behind.
//! - The tcpdump limit is signalled as [`WriteOutcome::LimitReached`] instead of exiting: the
//!   caller should stop. Every later `write` returns it again and writes nothing.
//! - `-W` without `-C` or `-G` (tcpdump ignores it), zero values, and standard output (`-`)
//!   with any of the three are errors at `create` ([`CaptureError::InvalidOutput`]).
//! - Files are nanosecond pcap, as [`PcapWriter`] writes them. tcpdump writes microsecond
//!   pcap by default; the records have the same size, so `-C` cuts at the same packets.
//! - Frames of another link type than the output's are skipped and counted, as by
//!   [`PcapWriter`], and never cause a rotation.
//!
//! Without any option the writer is one [`PcapWriter`] on the path as given (`-` included):
//! the same bytes.
//!
//! Per frame, the checks are integer comparisons: no allocation. Opening a file allocates
//! (its name, its output buffer).

use std::ffi::OsString;
use std::fmt::Write as _;
use std::path::{Path, PathBuf};

use wirescope_core::{civil_from_days, days_from_civil, Frame, LinkType};

use crate::error::CaptureError;
use crate::writer::PcapWriter;

/// The rotation options, named after tcpdump's flags. All `None`: no rotation.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct RotateOptions {
    /// `-C`: the size in bytes (the caller has already multiplied tcpdump's millions of
    /// bytes) past which the next packet goes to a new file.
    pub size_bytes: Option<u64>,
    /// `-G`: the number of seconds of packet time after which the next packet goes to a new
    /// file, named by the `strftime` pattern given as path.
    pub seconds: Option<u64>,
    /// `-W`: with `-C`, the number of files of the ring; with `-G` alone, the number of files
    /// after which writing stops.
    pub files: Option<u32>,
}

impl RotateOptions {
    /// Whether any option is set.
    pub fn is_rotating(&self) -> bool {
        self.size_bytes.is_some() || self.seconds.is_some() || self.files.is_some()
    }
}

/// What [`RotatingWriter::write`] did with a frame.
#[must_use]
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum WriteOutcome {
    /// The frame was written (or skipped for its link type, and counted): go on.
    Continue,
    /// `-G` with `-W N` and no `-C`: `N` files are complete and this frame would have opened
    /// file `N + 1`. It was not written, and no later frame will be: the caller should stop
    /// (tcpdump exits with status 0 here).
    LimitReached,
}

/// A pcap writer that moves to a new file by size (`-C`), by packet time (`-G`), in a ring
/// or up to a number of files (`-W`), with tcpdump's rules and file names:
///
/// - `-C`: a packet goes to a new file when the current one (header included) is already
///   larger than `size_bytes`. Names: `FILE`, `FILE1`, `FILE2`, … With `-W N`: `FILE` plus
///   the counter padded to the digits of `N - 1` (`FILE0`..`FILE2` for `-W 3`), wrapping
///   around and truncating the oldest.
/// - `-G`: a packet goes to a new file when its time (whole seconds, UTC, never the wall
///   clock) is at least `seconds` after the second of the packet that opened the current
///   file; names are the path formatted by `strftime` (`%Y %m %d %H %M %S %s %j %%`) at that
///   opening second. With `-C` as well, the counter above is appended, restarting at each
///   time rotation. With `-W N` and no `-C`, writing stops after `N` files
///   ([`WriteOutcome::LimitReached`]).
/// - No option: exactly a [`PcapWriter`] on the path.
///
/// Where this differs from tcpdump, and why, is written at the top of `rotate.rs`.
pub struct RotatingWriter {
    name: Name,
    link: LinkType,
    snaplen: u32,
    size_bytes: Option<u64>,
    /// `-G` in seconds, as the signed type of timestamps.
    seconds: Option<i64>,
    files: Option<u32>,
    /// Digits of the `-C` counter: those of `files - 1` (tcpdump's `WflagChars`).
    width: usize,
    current: Option<PcapWriter>,
    /// Index in `files_written` of the current file's path.
    current_index: Option<usize>,
    /// Packets written to the current file.
    current_packets: u64,
    opened_any: bool,
    /// tcpdump's `Gflag_time`: packet time (s) at which the current interval began.
    interval_start: i64,
    /// tcpdump's `Gflag_count`: time rotations so far.
    interval_count: u64,
    /// tcpdump's `Cflag_count`: size rotations in this interval (modulo `files`).
    size_count: u64,
    limit_reached: bool,
    skipped_link_mismatch: u64,
    files_written: Vec<PathBuf>,
}

/// The `-w` argument.
enum Name {
    /// Used as given (plus the `-C` counter).
    Plain(PathBuf),
    /// `-G`: formatted with the interval's start time.
    Pattern(Vec<Piece>),
}

impl RotatingWriter {
    /// Prepares writing frames of `link` to `path` (a `strftime` pattern with `-G`) rotated
    /// as `opts` asks. `snaplen` 0 means 262 144, as for [`PcapWriter`].
    ///
    /// Without `-G` the first file is created now; with `-G`, at the first frame. Errors:
    /// [`CaptureError::InvalidOutput`] for `-` (stdout) with any option, `-W` without `-C`
    /// or `-G`, a zero option, or an unsupported or non-UTF-8 `-G` pattern;
    /// [`CaptureError::Io`] if the first file cannot be created.
    pub fn create(
        path: &Path,
        link: LinkType,
        snaplen: u32,
        opts: RotateOptions,
    ) -> Result<RotatingWriter, CaptureError> {
        let invalid = |detail: String| CaptureError::InvalidOutput {
            name: path.display().to_string(),
            detail,
        };
        if opts.is_rotating() && path.as_os_str() == "-" {
            return Err(invalid(
                "cannot rotate standard output (-C, -G and -W need a file name)".into(),
            ));
        }
        if opts.size_bytes == Some(0) {
            return Err(invalid("the -C file size must be greater than 0".into()));
        }
        if opts.seconds == Some(0) {
            return Err(invalid(
                "the -G interval must be greater than 0 seconds".into(),
            ));
        }
        if opts.files == Some(0) {
            return Err(invalid("the -W file count must be greater than 0".into()));
        }
        if opts.files.is_some() && opts.size_bytes.is_none() && opts.seconds.is_none() {
            return Err(invalid("-W needs -C or -G".into()));
        }
        let name = if opts.seconds.is_some() {
            let Some(text) = path.to_str() else {
                return Err(invalid("a -G file name pattern must be UTF-8".into()));
            };
            Name::Pattern(parse_pattern(text).map_err(invalid)?)
        } else {
            Name::Plain(path.to_path_buf())
        };
        let mut w = RotatingWriter {
            name,
            link,
            snaplen,
            size_bytes: opts.size_bytes,
            seconds: opts.seconds.map(|s| i64::try_from(s).unwrap_or(i64::MAX)),
            files: opts.files,
            width: opts.files.map_or(0, counter_width),
            current: None,
            current_index: None,
            current_packets: 0,
            opened_any: false,
            interval_start: 0,
            interval_count: 0,
            size_count: 0,
            limit_reached: false,
            skipped_link_mismatch: 0,
            files_written: Vec::new(),
        };
        if w.seconds.is_none() {
            w.open()?;
        }
        Ok(w)
    }

    /// Writes one frame, first moving to a new file if a rotation is due. A frame of another
    /// link type is counted in [`skipped_link_mismatch`](Self::skipped_link_mismatch) and
    /// written nowhere.
    ///
    /// An error closing the previous file or creating the next is returned here; the next
    /// call tries to create that file again.
    #[inline]
    pub fn write(&mut self, frame: &Frame<'_>) -> Result<WriteOutcome, CaptureError> {
        if self.limit_reached {
            return Ok(WriteOutcome::LimitReached);
        }
        if frame.link != self.link {
            self.skipped_link_mismatch += 1;
            return Ok(WriteOutcome::Continue);
        }
        let now = frame.ts.secs();
        if self.current.is_some() {
            if let Some(secs) = self.seconds {
                if now.saturating_sub(self.interval_start) >= secs
                    && self.rotate_by_time(now)? == WriteOutcome::LimitReached
                {
                    return Ok(WriteOutcome::LimitReached);
                }
            }
            if let (Some(limit), Some(cur)) = (self.size_bytes, &self.current) {
                if self.current_packets > 0 && cur.bytes_written() > limit {
                    self.rotate_by_size()?;
                }
            }
        } else if !self.opened_any {
            // -G: the first frame opens the first file and starts the first interval.
            self.interval_start = now;
        }
        if self.current.is_none() {
            self.open()?;
        }
        let Some(cur) = self.current.as_mut() else {
            // `open` succeeded, so there is a current file.
            return Ok(WriteOutcome::Continue);
        };
        cur.write(frame)?;
        self.current_packets += 1;
        Ok(WriteOutcome::Continue)
    }

    #[cold]
    fn rotate_by_time(&mut self, now: i64) -> Result<WriteOutcome, CaptureError> {
        self.interval_start = now;
        self.interval_count = self.interval_count.saturating_add(1);
        self.size_count = 0;
        let stop = self.size_bytes.is_none()
            && self
                .files
                .is_some_and(|n| self.interval_count >= u64::from(n));
        // Set before closing, so that an error closing the last file still stops the writer.
        self.limit_reached = stop;
        self.close_current()?;
        Ok(if stop {
            WriteOutcome::LimitReached
        } else {
            WriteOutcome::Continue
        })
    }

    #[cold]
    fn rotate_by_size(&mut self) -> Result<(), CaptureError> {
        self.size_count = self.size_count.saturating_add(1);
        if let Some(n) = self.files {
            if self.size_count >= u64::from(n) {
                self.size_count = 0;
            }
        }
        self.close_current()
    }

    fn close_current(&mut self) -> Result<(), CaptureError> {
        self.current_packets = 0;
        match self.current.take() {
            Some(w) => w.finish(),
            None => Ok(()),
        }
    }

    /// Creates (truncates) the file the counters name and makes it current.
    #[cold]
    fn open(&mut self) -> Result<(), CaptureError> {
        let path = self.file_name();
        let w = PcapWriter::create(&path, self.link, self.snaplen)?;
        self.current = Some(w);
        self.current_packets = 0;
        self.opened_any = true;
        let index = match self.files_written.iter().position(|p| *p == path) {
            Some(i) => i,
            None => {
                self.files_written.push(path);
                self.files_written.len() - 1
            }
        };
        self.current_index = Some(index);
        Ok(())
    }

    /// tcpdump's `MakeFilename`: the pattern formatted with the interval's start (`-G`), then,
    /// with `-C`, the counter padded to `width` digits, omitted when both are 0.
    fn file_name(&self) -> PathBuf {
        let mut name: OsString = match &self.name {
            Name::Plain(p) => p.clone().into_os_string(),
            Name::Pattern(pieces) => {
                let mut s = String::new();
                format_pattern(pieces, self.interval_start, &mut s);
                s.into()
            }
        };
        if self.size_bytes.is_some() && !(self.size_count == 0 && self.width == 0) {
            name.push(format!("{:0w$}", self.size_count, w = self.width));
        }
        PathBuf::from(name)
    }

    /// Frames not written because their link type differs from the output's, over all files.
    pub fn skipped_link_mismatch(&self) -> u64 {
        self.skipped_link_mismatch
    }

    /// Every path this writer created, in the order each was first created. A path created
    /// again (a `-W` ring wrapping around, a `-G` name that repeats) was truncated and
    /// rewritten, and is listed once: with `-C -W N` there are at most `N` entries.
    pub fn files_written(&self) -> &[PathBuf] {
        &self.files_written
    }

    /// The file being written, if one is open.
    pub fn current_path(&self) -> Option<&Path> {
        self.current.as_ref()?;
        self.files_written
            .get(self.current_index?)
            .map(PathBuf::as_path)
    }

    /// Flushes and closes the current file. Dropping the writer also flushes, but loses any
    /// error.
    pub fn finish(mut self) -> Result<(), CaptureError> {
        self.close_current()
    }
}

/// Digits of `files - 1`: the width of the `-C` counter with `-W files` (tcpdump's
/// `getWflagChars`).
fn counter_width(files: u32) -> usize {
    let mut x = files.saturating_sub(1);
    let mut c = 0;
    while x > 0 {
        c += 1;
        x /= 10;
    }
    c
}

/// One part of a `-G` file name pattern.
#[derive(Clone, Debug, PartialEq, Eq)]
enum Piece {
    Literal(String),
    /// `%Y`: the year, e.g. 2024.
    Year,
    /// `%m`: the month, 01–12.
    Month,
    /// `%d`: the day of the month, 01–31.
    Day,
    /// `%H`: the hour, 00–23.
    Hour,
    /// `%M`: the minute, 00–59.
    Minute,
    /// `%S`: the second, 00–59 (60 never occurs: there are no leap seconds in Unix time).
    Second,
    /// `%s`: seconds since the epoch.
    Epoch,
    /// `%j`: the day of the year, 001–366.
    DayOfYear,
}

/// Splits a `strftime` pattern into pieces; the error names the unsupported sequence.
fn parse_pattern(text: &str) -> Result<Vec<Piece>, String> {
    let mut pieces = Vec::new();
    let mut lit = String::new();
    let mut chars = text.chars();
    while let Some(c) = chars.next() {
        if c != '%' {
            lit.push(c);
            continue;
        }
        let piece = match chars.next() {
            Some('%') => {
                lit.push('%');
                continue;
            }
            Some('Y') => Piece::Year,
            Some('m') => Piece::Month,
            Some('d') => Piece::Day,
            Some('H') => Piece::Hour,
            Some('M') => Piece::Minute,
            Some('S') => Piece::Second,
            Some('s') => Piece::Epoch,
            Some('j') => Piece::DayOfYear,
            Some(other) => {
                return Err(format!(
                    "unsupported conversion %{other} in the -G file name \
                     (supported: %Y %m %d %H %M %S %s %j %%)"
                ))
            }
            None => return Err("the -G file name ends with a lone %".into()),
        };
        if !lit.is_empty() {
            pieces.push(Piece::Literal(std::mem::take(&mut lit)));
        }
        pieces.push(piece);
    }
    if !lit.is_empty() {
        pieces.push(Piece::Literal(lit));
    }
    Ok(pieces)
}

/// Appends the pattern formatted for `secs` (seconds since the epoch, UTC) to `out`.
fn format_pattern(pieces: &[Piece], secs: i64, out: &mut String) {
    let days = secs.div_euclid(86_400);
    let rem = secs.rem_euclid(86_400);
    let (y, m, d) = civil_from_days(days);
    // Writing to a `String` cannot fail.
    let _ = pieces.iter().try_for_each(|p| match p {
        Piece::Literal(s) => {
            out.push_str(s);
            Ok(())
        }
        Piece::Year => write!(out, "{y}"),
        Piece::Month => write!(out, "{m:02}"),
        Piece::Day => write!(out, "{d:02}"),
        Piece::Hour => write!(out, "{:02}", rem / 3600),
        Piece::Minute => write!(out, "{:02}", rem % 3600 / 60),
        Piece::Second => write!(out, "{:02}", rem % 60),
        Piece::Epoch => write!(out, "{secs}"),
        Piece::DayOfYear => write!(out, "{:03}", days - days_from_civil(y, 1, 1) + 1),
    });
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, reason = "test")]

    use super::*;

    fn fmt(pattern: &str, secs: i64) -> String {
        let mut s = String::new();
        format_pattern(&parse_pattern(pattern).unwrap(), secs, &mut s);
        s
    }

    const ALL: &str = "%Y-%m-%d %H:%M:%S %s %j";

    /// Expected strings from `TZ=UTC date -u -d @SECS '+%Y-%m-%d %H:%M:%S %s %j'`.
    #[test]
    fn formats_known_dates_like_date_in_utc() {
        for (secs, want) in [
            (0, "1970-01-01 00:00:00 0 001"),
            (-1, "1969-12-31 23:59:59 -1 365"),
            (951_827_696, "2000-02-29 12:34:56 951827696 060"),
            (978_220_800, "2000-12-31 00:00:00 978220800 366"),
            (2_147_483_648, "2038-01-19 03:14:08 2147483648 019"),
            (1_700_000_000, "2023-11-14 22:13:20 1700000000 318"),
            (4_102_444_799, "2099-12-31 23:59:59 4102444799 365"),
        ] {
            assert_eq!(fmt(ALL, secs), want, "{secs}");
        }
    }

    #[test]
    fn literals_and_percent_escape_are_kept() {
        assert_eq!(
            fmt("/tmp/x%%y/cap-%Y%m%d.pcap", 951_827_696),
            "/tmp/x%y/cap-20000229.pcap"
        );
        assert_eq!(fmt("plain.pcap", 5), "plain.pcap");
        assert_eq!(fmt("%%", 5), "%");
        assert_eq!(fmt("é%Hé", 3600), "é01é");
    }

    #[test]
    fn day_conversions_round_trip() {
        for days in (-800_000..800_000).step_by(997) {
            let (y, m, d) = civil_from_days(days);
            assert_eq!(days_from_civil(y, m, d), days);
        }
    }

    #[test]
    fn unsupported_sequences_are_errors() {
        for bad in ["%q", "a%", "x%Ey", "%F", "%%%"] {
            let e = parse_pattern(bad).err().unwrap();
            assert!(e.contains("-G file name"), "{bad}: {e}");
        }
        assert!(parse_pattern("%q").err().unwrap().contains("%q"));
    }

    #[test]
    fn counter_width_is_digits_of_files_minus_one() {
        for (n, w) in [(1, 0), (2, 1), (10, 1), (11, 2), (100, 2), (101, 3)] {
            assert_eq!(counter_width(n), w, "-W {n}");
        }
    }
}
