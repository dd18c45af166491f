//! Live capture through libpcap: interface listing (`-D`), opening an interface with
//! tcpdump's options (`-i`, `-s`, `-p`, `-B`, immediate delivery, kernel BPF filter), reading
//! frames borrowed from libpcap's ring, and the kernel's drop counters.
//!
//! Errors are one line and say what to do: a missing capability is named (read from
//! `/proc/self/status`), an unknown interface points at `-D`, a down interface says so, and a
//! bad filter shows the expression with libpcap's message.

use std::fmt;
use std::net::IpAddr;

use wirescope_core::{Frame, LinkType, Timestamp};

/// How to open a live interface (tcpdump's options).
#[derive(Clone, Debug)]
pub struct LiveOptions {
    /// Bytes kept of each packet (`-s`; 0 means 262 144, libpcap's maximum).
    pub snaplen: u32,
    /// Put the interface in promiscuous mode (tcpdump's default; `-p` turns it off).
    pub promisc: bool,
    /// Kernel buffer size in bytes (`-B` takes KiB, like tcpdump); `None` is libpcap's default
    /// (2 MiB on Linux).
    pub buffer_bytes: Option<u32>,
    /// Deliver packets as soon as they arrive instead of when a ring block fills.
    pub immediate: bool,
    /// How long a read waits for a packet before returning `Ok(None)`, so that the caller can
    /// look at its stop flag.
    pub timeout_ms: i32,
    /// BPF filter compiled by libpcap and run in the kernel.
    pub filter: Option<String>,
}

impl Default for LiveOptions {
    fn default() -> LiveOptions {
        LiveOptions {
            snaplen: 262_144,
            promisc: true,
            buffer_bytes: None,
            immediate: true,
            timeout_ms: 100,
            filter: None,
        }
    }
}

/// Why a live capture could not be opened or read.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum LiveError {
    /// The process lacks the privileges to open a packet socket.
    NoPermission {
        iface: String,
        /// Capabilities the process does not have, e.g. `["CAP_NET_RAW"]`.
        missing: Vec<&'static str>,
    },
    /// No interface of that name exists.
    NoSuchInterface { iface: String },
    /// The interface exists but is administratively down.
    InterfaceDown { iface: String },
    /// libpcap refused the filter expression.
    BadFilter { expr: String, message: String },
    /// Any other libpcap error.
    Pcap { iface: String, message: String },
}

impl fmt::Display for LiveError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            LiveError::NoPermission { iface, missing } => {
                let caps = if missing.is_empty() {
                    "CAP_NET_RAW and CAP_NET_ADMIN".to_string()
                } else {
                    missing.join(" and ")
                };
                write!(
                    f,
                    "{iface}: permission denied: capturing needs {caps} (run as root, or \
                     `setcap cap_net_raw,cap_net_admin=eip` on the wirescope binary)"
                )
            }
            LiveError::NoSuchInterface { iface } => write!(
                f,
                "{iface}: no such interface (`wirescope -D` lists the interfaces)"
            ),
            LiveError::InterfaceDown { iface } => write!(
                f,
                "{iface}: interface is down (bring it up with `ip link set {iface} up`)"
            ),
            LiveError::BadFilter { expr, message } => {
                write!(f, "bad filter \"{expr}\": {message}")
            }
            LiveError::Pcap { iface, message } => write!(f, "{iface}: {message}"),
        }
    }
}

impl std::error::Error for LiveError {}

/// One interface as `-D` shows it.
#[derive(Clone, Debug)]
pub struct Interface {
    pub name: String,
    pub description: Option<String>,
    /// Addresses with their netmask when known.
    pub addresses: Vec<(IpAddr, Option<IpAddr>)>,
    pub up: bool,
    pub running: bool,
    pub loopback: bool,
    pub wireless: bool,
}

impl Interface {
    /// tcpdump's state words: `Up`, `Running`, `Loopback`, `Wireless`.
    pub fn state(&self) -> String {
        let mut words = Vec::new();
        for (on, w) in [
            (self.up, "Up"),
            (self.running, "Running"),
            (self.loopback, "Loopback"),
            (self.wireless, "Wireless"),
        ] {
            if on {
                words.push(w);
            }
        }
        if words.is_empty() {
            "Down".to_string()
        } else {
            words.join(", ")
        }
    }
}

/// The interfaces libpcap can capture on (`pcap_findalldevs`), in its order.
pub fn list_interfaces() -> Result<Vec<Interface>, LiveError> {
    let devs = pcap::Device::list().map_err(|e| LiveError::Pcap {
        iface: "-D".into(),
        message: e.to_string(),
    })?;
    Ok(devs
        .into_iter()
        .map(|d| Interface {
            addresses: d.addresses.iter().map(|a| (a.addr, a.netmask)).collect(),
            up: d.flags.is_up(),
            running: d.flags.is_running(),
            loopback: d.flags.is_loopback(),
            wireless: d.flags.is_wireless(),
            description: d.desc,
            name: d.name,
        })
        .collect())
}

/// Kernel counters of one capture handle since it was opened (`pcap_stats`), widened to 64 bits
/// across the 32-bit wrap of libpcap's counters.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct LiveStats {
    /// Packets the kernel accepted (passed the filter), dropped ones included.
    pub received: u64,
    /// Packets dropped because the capture buffer was full.
    pub dropped: u64,
    /// Packets dropped by the interface or its driver (not supported everywhere; 0 then).
    pub if_dropped: u64,
}

/// An open live capture on one interface.
pub struct LiveCapture {
    name: String,
    iface: u32,
    link: LinkType,
    cap: pcap::Capture<pcap::Active>,
    last_raw: (u32, u32, u32),
    stats: LiveStats,
    timeout_ms: u16,
    /// The last read found nothing: wait in poll(2) before the next one.
    idle: bool,
}

impl LiveCapture {
    /// Opens `name` (or `any`) with `opts`; frames carry `iface` as their interface index.
    pub fn open(name: &str, iface: u32, opts: &LiveOptions) -> Result<LiveCapture, LiveError> {
        // libpcap reports an unknown or down interface in words that differ between versions
        // and kernels; asking the interface list first gives one clear message.
        if name != "any" {
            if let Ok(list) = list_interfaces() {
                match list.iter().find(|i| i.name == name) {
                    None if !sys_class_net_exists(name) => {
                        return Err(LiveError::NoSuchInterface { iface: name.into() })
                    }
                    Some(i) if !i.up => {
                        return Err(LiveError::InterfaceDown { iface: name.into() })
                    }
                    _ => {}
                }
            }
        }
        let snaplen = if opts.snaplen == 0 {
            262_144
        } else {
            opts.snaplen
        };
        let mut inactive = pcap::Capture::from_device(name)
            .map_err(|e| classify(name, opts.promisc, &e.to_string()))?
            .snaplen(i32::try_from(snaplen).unwrap_or(i32::MAX))
            .promisc(opts.promisc)
            .immediate_mode(opts.immediate)
            .timeout(opts.timeout_ms)
            .precision(pcap::Precision::Nano);
        if let Some(b) = opts.buffer_bytes {
            inactive = inactive.buffer_size(i32::try_from(b).unwrap_or(i32::MAX));
        }
        // Non-blocking reads and our own poll(2) with the read timeout: a blocking read on a
        // TPACKET_V3 ring waits for a whole block and never times out on an idle link, so a
        // stop request would wait for the next packet.
        let mut cap = inactive
            .open()
            .and_then(|c| c.setnonblock())
            .map_err(|e| classify(name, opts.promisc, &e.to_string()))?;
        if let Some(expr) = &opts.filter {
            cap.filter(expr, true).map_err(|e| LiveError::BadFilter {
                expr: expr.clone(),
                message: e.to_string(),
            })?;
        }
        let link = LinkType(u16::try_from(cap.get_datalink().0).unwrap_or(u16::MAX));
        Ok(LiveCapture {
            name: name.to_string(),
            iface,
            link,
            cap,
            last_raw: (0, 0, 0),
            stats: LiveStats::default(),
            timeout_ms: u16::try_from(opts.timeout_ms.max(1)).unwrap_or(u16::MAX),
            idle: false,
        })
    }

    /// The interface name.
    pub fn name(&self) -> &str {
        &self.name
    }

    /// The link type of the frames.
    pub fn link_type(&self) -> LinkType {
        self.link
    }

    /// The next frame, borrowed from libpcap's buffer until the next call; `Ok(None)` when
    /// none is ready (then the next call first waits up to the read timeout for one).
    pub fn next_frame(&mut self) -> Result<Option<Frame<'_>>, LiveError> {
        if self.idle {
            self.idle = false;
            use nix::poll::{poll, PollFd, PollFlags, PollTimeout};
            use std::os::fd::AsFd;
            let mut fds = [PollFd::new(self.cap.as_fd(), PollFlags::POLLIN)];
            match poll(&mut fds, PollTimeout::from(self.timeout_ms)) {
                Ok(_) | Err(nix::errno::Errno::EINTR) => {}
                Err(e) => {
                    return Err(LiveError::Pcap {
                        iface: self.name.clone(),
                        message: format!("poll: {e}"),
                    })
                }
            }
        }
        match self.cap.next_packet() {
            Ok(p) => {
                let h = p.header;
                // With nanosecond precision libpcap stores nanoseconds in `tv_usec`.
                let nanos = u32::try_from(h.ts.tv_usec).unwrap_or(0).min(999_999_999);
                Ok(Some(Frame {
                    ts: Timestamp::from_secs_nanos(h.ts.tv_sec, nanos),
                    wire_len: h.len,
                    link: self.link,
                    iface: self.iface,
                    data: p.data,
                }))
            }
            Err(pcap::Error::TimeoutExpired) => {
                self.idle = true;
                Ok(None)
            }
            Err(e) => Err(LiveError::Pcap {
                iface: self.name.clone(),
                message: e.to_string(),
            }),
        }
    }

    /// The kernel's counters for this handle.
    pub fn stats(&mut self) -> Result<LiveStats, LiveError> {
        let s = self.cap.stats().map_err(|e| LiveError::Pcap {
            iface: self.name.clone(),
            message: e.to_string(),
        })?;
        let (r, d, i) = self.last_raw;
        self.stats.received += u64::from(s.received.wrapping_sub(r));
        self.stats.dropped += u64::from(s.dropped.wrapping_sub(d));
        self.stats.if_dropped += u64::from(s.if_dropped.wrapping_sub(i));
        self.last_raw = (s.received, s.dropped, s.if_dropped);
        Ok(self.stats)
    }
}

/// Whether `/sys/class/net/NAME` exists (libpcap lists only interfaces it can open; an
/// interface may exist and still be missing from its list).
fn sys_class_net_exists(name: &str) -> bool {
    !name.contains('/') && std::path::Path::new("/sys/class/net").join(name).exists()
}

/// Maps libpcap's open error text to a [`LiveError`].
fn classify(iface: &str, promisc: bool, message: &str) -> LiveError {
    let m = message.to_ascii_lowercase();
    if m.contains("permission") || m.contains("not permitted") {
        return LiveError::NoPermission {
            iface: iface.into(),
            missing: missing_capabilities(promisc),
        };
    }
    if m.contains("no such device") {
        return LiveError::NoSuchInterface {
            iface: iface.into(),
        };
    }
    if m.contains("not up") {
        return LiveError::InterfaceDown {
            iface: iface.into(),
        };
    }
    LiveError::Pcap {
        iface: iface.into(),
        message: message.to_string(),
    }
}

/// Linux capability numbers (linux/capability.h).
const CAP_NET_ADMIN: u32 = 12;
const CAP_NET_RAW: u32 = 13;

/// The capabilities a capture needs that this process's effective set lacks: CAP_NET_RAW for
/// the packet socket, CAP_NET_ADMIN too when promiscuous mode is asked for.
pub fn missing_capabilities(promisc: bool) -> Vec<&'static str> {
    let eff = std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| {
            s.lines()
                .find_map(|l| l.strip_prefix("CapEff:"))
                .and_then(|v| u64::from_str_radix(v.trim(), 16).ok())
        })
        .unwrap_or(0);
    let has = |c: u32| eff & (1u64 << c) != 0;
    let mut out = Vec::new();
    if !has(CAP_NET_RAW) {
        out.push("CAP_NET_RAW");
    }
    if promisc && !has(CAP_NET_ADMIN) {
        out.push("CAP_NET_ADMIN");
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn classify_maps_libpcap_words() {
        assert!(matches!(
            classify("eth9", false, "eth9: No such device exists (SIOCGIFINDEX)"),
            LiveError::NoSuchInterface { .. }
        ));
        assert!(matches!(
            classify("x", false, "x: That device is not up"),
            LiveError::InterfaceDown { .. }
        ));
        assert!(matches!(
            classify(
                "x",
                true,
                "x: You don't have permission to perform this capture"
            ),
            LiveError::NoPermission { .. }
        ));
        assert!(matches!(
            classify("x", true, "something else"),
            LiveError::Pcap { .. }
        ));
    }

    #[test]
    fn messages_are_one_line_and_name_the_fix() {
        let e = LiveError::NoPermission {
            iface: "eth0".into(),
            missing: vec!["CAP_NET_RAW"],
        };
        let s = e.to_string();
        assert!(s.contains("CAP_NET_RAW") && !s.contains('\n'), "{s}");
        let e = LiveError::InterfaceDown {
            iface: "veth1".into(),
        };
        assert!(e.to_string().contains("ip link set veth1 up"));
    }
}
