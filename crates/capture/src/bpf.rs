//! BPF filters: compiled by libpcap (so the language is exactly tcpdump's), executed by a small
//! safe interpreter in this module.
//!
//! Why not `pcap::BpfProgram::filter`: it calls `pcap_offline_filter` with
//! `caplen = len = buf.len()`, so `len`, `greater` and `less` would test the captured length
//! instead of the length on the wire, and tcpdump disagrees on any capture cut by a snaplen.
//! This crate forbids `unsafe`, so it cannot call libpcap with the right header itself.
//! Instead it takes the compiled instructions (`BpfProgram::get_instructions`), checks them the
//! way libpcap's `bpf_validate` does, and runs them with the semantics of libpcap's
//! `bpf_filter.c`: `len` is the wire length, loads beyond the captured bytes reject the packet.

use std::sync::Arc;

use wirescope_core::{Frame, LinkType};

use crate::error::FilterError;

/// Scratch memory words of the BPF machine (`BPF_MEMWORDS`).
const MEM_WORDS: usize = 16;

/// Backward jumps one packet may take before it is rejected. libpcap emits backward jumps
/// only for `protochain`, whose loop walks one IPv6 extension header (≥ 8 bytes) per turn and
/// so ends within 65 535 / 8 turns; the budget only guards against a runaway program.
const MAX_BACKWARD_JUMPS: u32 = 65_536;

/// A BPF filter compiled by libpcap (tcpdump's filter language), one program per link type,
/// compiled on first use of each link type.
///
/// ```
/// use wirescope_capture::BpfFilter;
/// use wirescope_core::{Frame, LinkType, Timestamp};
/// let mut f = BpfFilter::new("ip", LinkType::ETHERNET, 262_144).expect("valid filter");
/// let mut pkt = [0u8; 34];
/// pkt[12] = 0x08; // EtherType 0x0800: IPv4
/// let link = LinkType::ETHERNET;
/// let frame = Frame { ts: Timestamp::ZERO, wire_len: 34, link, iface: 0, data: &pkt };
/// assert!(f.matches(&frame).expect("ethernet is supported"));
/// assert!(BpfFilter::new("tcp prt 80", LinkType::ETHERNET, 0).is_err());
/// ```
pub struct BpfFilter {
    expr: Arc<str>,
    /// One entry per link type met so far; never empty. An `Err` is cached so that an
    /// unsupported link type costs a clone of two `Arc`s per packet, not a compilation.
    progs: Vec<(LinkType, Result<Program, FilterError>)>,
    /// Index in `progs` of the last link type used (captures rarely mix link types).
    last: usize,
}

impl BpfFilter {
    /// Compiles `expr` for `first_link` now, so that a syntax error is reported up front.
    ///
    /// `snaplen` is accepted for symmetry with libpcap but has no effect on matching: libpcap
    /// only uses it as the value a matching program returns, and the `pcap` crate's dead
    /// handles always use 65 535.
    pub fn new(expr: &str, first_link: LinkType, snaplen: u32) -> Result<BpfFilter, FilterError> {
        let _ = snaplen;
        let expr: Arc<str> = Arc::from(expr);
        let prog = compile(&expr, first_link).map_err(|message| FilterError::Syntax {
            expr: Arc::clone(&expr),
            message: message.into(),
        })?;
        Ok(BpfFilter {
            expr,
            progs: vec![(first_link, Ok(prog))],
            last: 0,
        })
    }

    /// The filter expression.
    pub fn expr(&self) -> &str {
        &self.expr
    }

    /// Whether the frame passes the filter. `len`/`greater`/`less` test `frame.wire_len`;
    /// loads past `frame.data` reject the frame, as in tcpdump.
    ///
    /// The first frame of a new link type compiles a program for it (an `Err` if libpcap cannot,
    /// returned again for every later frame of that type); after that, no allocation.
    #[inline]
    pub fn matches(&mut self, frame: &Frame<'_>) -> Result<bool, FilterError> {
        let i = match self.progs.get(self.last) {
            Some((link, _)) if *link == frame.link => self.last,
            _ => self.lookup(frame.link),
        };
        self.last = i;
        match self.progs.get(i) {
            Some((_, Ok(p))) => Ok(p.run(frame.data, frame.wire_len) != 0),
            Some((_, Err(e))) => Err(e.clone()),
            None => Ok(false),
        }
    }

    #[cold]
    fn lookup(&mut self, link: LinkType) -> usize {
        if let Some(i) = self.progs.iter().position(|(l, _)| *l == link) {
            return i;
        }
        let prog = compile(&self.expr, link).map_err(|message| FilterError::LinkType {
            expr: Arc::clone(&self.expr),
            link,
            message: message.into(),
        });
        self.progs.push((link, prog));
        self.progs.len() - 1
    }
}

/// Compiles with libpcap for a link type and translates the instructions.
fn compile(expr: &str, link: LinkType) -> Result<Program, String> {
    let dead = pcap::Capture::dead(pcap::Linktype(linktype_to_dlt(link))).map_err(pcap_message)?;
    let prog = dead.compile(expr, true).map_err(pcap_message)?;
    let insns = prog.get_instructions();
    let mut raw = Vec::with_capacity(insns.len());
    for insn in insns {
        // `BpfInstruction` keeps its fields private; its Display is "code jt jf k" in decimal.
        raw.push(parse_insn(&insn.to_string()).ok_or("unreadable BPF instruction from libpcap")?);
    }
    Program::new(&raw).map_err(|e| format!("libpcap produced a program we cannot run: {e}"))
}

/// The DLT value libpcap's code generator expects for a file's LINKTYPE value: they differ
/// for a few historical types (libpcap's `linktype_to_dlt` in pcap-common.c, Linux values).
fn linktype_to_dlt(link: LinkType) -> i32 {
    match link.0 {
        100 => 11,      // ATM_RFC1483
        101 | 14 => 12, // RAW (and DLT_RAW as OpenBSD numbers it)
        102 => 15,      // SLIP_BSDOS
        103 => 16,      // PPP_BSDOS
        106 => 19,      // ATM_CLIP
        n => i32::from(n),
    }
}

fn pcap_message(e: pcap::Error) -> String {
    match e {
        pcap::Error::PcapError(s) => s,
        other => other.to_string(),
    }
}

fn parse_insn(s: &str) -> Option<Insn> {
    let mut it = s.split_whitespace();
    let insn = Insn {
        code: it.next()?.parse().ok()?,
        jt: it.next()?.parse().ok()?,
        jf: it.next()?.parse().ok()?,
        k: it.next()?.parse().ok()?,
    };
    it.next().is_none().then_some(insn)
}

/// A classic BPF instruction as libpcap encodes it (`struct bpf_insn`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct Insn {
    pub(crate) code: u16,
    pub(crate) jt: u8,
    pub(crate) jf: u8,
    pub(crate) k: u32,
}

// Opcode fields (libpcap's bpf.h).
const LD: u16 = 0x00;
const LDX: u16 = 0x01;
const ST: u16 = 0x02;
const STX: u16 = 0x03;
const ALU: u16 = 0x04;
const JMP: u16 = 0x05;
const RET: u16 = 0x06;
const MISC: u16 = 0x07;
const W: u16 = 0x00;
const H: u16 = 0x08;
const B: u16 = 0x10;
const IMM: u16 = 0x00;
const ABS: u16 = 0x20;
const IND: u16 = 0x40;
const MEM: u16 = 0x60;
const LEN: u16 = 0x80;
const MSH: u16 = 0xa0;
const SRC_X: u16 = 0x08;

/// A decoded, validated instruction.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Op {
    /// Load 4/2/1 bytes at `k` (+ X for the `Ind` forms), big-endian.
    LdW(u32),
    LdH(u32),
    LdB(u32),
    LdIndW(u32),
    LdIndH(u32),
    LdIndB(u32),
    /// A = wire length.
    LdLen,
    LdImm(u32),
    LdMem(usize),
    LdxLen,
    LdxImm(u32),
    LdxMem(usize),
    /// X = 4 * (low nibble of byte k): the IPv4 header length idiom.
    LdxMsh(u32),
    St(usize),
    Stx(usize),
    Alu(AluOp, Operand),
    Neg,
    Ja(usize),
    Jmp(Cond, Operand, usize, usize),
    RetK(u32),
    RetA,
    Tax,
    Txa,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum AluOp {
    Add,
    Sub,
    Mul,
    Div,
    Or,
    And,
    Lsh,
    Rsh,
    Mod,
    Xor,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Cond {
    Eq,
    Gt,
    Ge,
    Set,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Operand {
    K(u32),
    X,
}

/// A validated program: every jump lands inside it and it ends with a return, so `run`
/// never indexes out of bounds, and terminates: conditional jumps only go forward and
/// backward `ja`s are counted against [`MAX_BACKWARD_JUMPS`].
#[derive(Debug)]
pub(crate) struct Program {
    ops: Box<[Op]>,
}

impl Program {
    /// Decodes and validates, with the checks of libpcap's `bpf_validate`.
    pub(crate) fn new(insns: &[Insn]) -> Result<Program, &'static str> {
        let n = insns.len();
        if n == 0 {
            return Err("empty program");
        }
        let mut ops = Vec::with_capacity(n);
        for (pc, i) in insns.iter().enumerate() {
            let k = i.k;
            let mem = || {
                (k as usize)
                    .lt(&MEM_WORDS)
                    .then_some(k as usize)
                    .ok_or("bad memory index")
            };
            let target = |off: u32| {
                let t = pc + 1 + off as usize;
                if t < n {
                    Ok(t)
                } else {
                    Err("jump out of the program")
                }
            };
            let operand = if i.code & SRC_X != 0 {
                Operand::X
            } else {
                Operand::K(k)
            };
            let op = match i.code & 0x07 {
                LD => match (i.code & 0xe0, i.code & 0x18) {
                    (ABS, W) => Op::LdW(k),
                    (ABS, H) => Op::LdH(k),
                    (ABS, B) => Op::LdB(k),
                    (IND, W) => Op::LdIndW(k),
                    (IND, H) => Op::LdIndH(k),
                    (IND, B) => Op::LdIndB(k),
                    (LEN, W) => Op::LdLen,
                    (IMM, W) => Op::LdImm(k),
                    (MEM, W) => Op::LdMem(mem()?),
                    _ => return Err("unknown load"),
                },
                LDX => match (i.code & 0xe0, i.code & 0x18) {
                    (IMM, W) => Op::LdxImm(k),
                    (MEM, W) => Op::LdxMem(mem()?),
                    (LEN, W) => Op::LdxLen,
                    (MSH, B) => Op::LdxMsh(k),
                    _ => return Err("unknown index load"),
                },
                ST => Op::St(mem()?),
                STX => Op::Stx(mem()?),
                ALU => {
                    let op = match i.code & 0xf0 {
                        0x00 => AluOp::Add,
                        0x10 => AluOp::Sub,
                        0x20 => AluOp::Mul,
                        0x30 => AluOp::Div,
                        0x40 => AluOp::Or,
                        0x50 => AluOp::And,
                        0x60 => AluOp::Lsh,
                        0x70 => AluOp::Rsh,
                        0x80 => {
                            ops.push(Op::Neg);
                            continue;
                        }
                        0x90 => AluOp::Mod,
                        0xa0 => AluOp::Xor,
                        _ => return Err("unknown ALU operation"),
                    };
                    if matches!(op, AluOp::Div | AluOp::Mod) && operand == Operand::K(0) {
                        return Err("division by constant zero");
                    }
                    Op::Alu(op, operand)
                }
                JMP => {
                    let cond = match i.code & 0xf0 {
                        0x00 => {
                            // libpcap's interpreter sign-extends `k` here: `protochain` loops.
                            let t = (pc as i64) + 1 + i64::from(k as i32);
                            let t = usize::try_from(t)
                                .ok()
                                .filter(|&t| t < n)
                                .ok_or("jump out of the program")?;
                            ops.push(Op::Ja(t));
                            continue;
                        }
                        0x10 => Cond::Eq,
                        0x20 => Cond::Gt,
                        0x30 => Cond::Ge,
                        0x40 => Cond::Set,
                        _ => return Err("unknown jump"),
                    };
                    Op::Jmp(
                        cond,
                        operand,
                        target(u32::from(i.jt))?,
                        target(u32::from(i.jf))?,
                    )
                }
                RET => match i.code & 0x18 {
                    0x00 => Op::RetK(k),
                    0x10 => Op::RetA,
                    _ => return Err("unknown return"),
                },
                MISC => match i.code & 0xf8 {
                    0x00 => Op::Tax,
                    0x80 => Op::Txa,
                    _ => return Err("unknown misc operation"),
                },
                _ => return Err("unknown instruction class"),
            };
            ops.push(op);
        }
        if !matches!(ops.last(), Some(Op::RetK(_) | Op::RetA)) {
            return Err("program does not end with a return");
        }
        Ok(Program {
            ops: ops.into_boxed_slice(),
        })
    }

    /// Runs the program on a packet; the result is libpcap's (0 = reject).
    #[inline]
    pub(crate) fn run(&self, p: &[u8], wire_len: u32) -> u32 {
        let mut backward_budget = MAX_BACKWARD_JUMPS;
        let mut a: u32 = 0;
        let mut x: u32 = 0;
        let mut mem = [0u32; MEM_WORDS];
        let mut pc = 0usize;
        loop {
            let Some(&op) = self.ops.get(pc) else {
                return 0;
            };
            pc += 1;
            match op {
                Op::LdW(k) => {
                    a = match load::<4>(p, u64::from(k)) {
                        Some(v) => v,
                        None => return 0,
                    }
                }
                Op::LdH(k) => {
                    a = match load::<2>(p, u64::from(k)) {
                        Some(v) => v,
                        None => return 0,
                    }
                }
                Op::LdB(k) => {
                    a = match load::<1>(p, u64::from(k)) {
                        Some(v) => v,
                        None => return 0,
                    }
                }
                Op::LdIndW(k) => {
                    a = match load::<4>(p, u64::from(k) + u64::from(x)) {
                        Some(v) => v,
                        None => return 0,
                    }
                }
                Op::LdIndH(k) => {
                    a = match load::<2>(p, u64::from(k) + u64::from(x)) {
                        Some(v) => v,
                        None => return 0,
                    }
                }
                Op::LdIndB(k) => {
                    a = match load::<1>(p, u64::from(k) + u64::from(x)) {
                        Some(v) => v,
                        None => return 0,
                    }
                }
                Op::LdLen => a = wire_len,
                Op::LdImm(k) => a = k,
                Op::LdMem(i) => a = mem.get(i).copied().unwrap_or(0),
                Op::LdxLen => x = wire_len,
                Op::LdxImm(k) => x = k,
                Op::LdxMem(i) => x = mem.get(i).copied().unwrap_or(0),
                Op::LdxMsh(k) => {
                    x = match load::<1>(p, u64::from(k)) {
                        Some(v) => (v & 0xf) << 2,
                        None => return 0,
                    }
                }
                Op::St(i) => {
                    if let Some(m) = mem.get_mut(i) {
                        *m = a;
                    }
                }
                Op::Stx(i) => {
                    if let Some(m) = mem.get_mut(i) {
                        *m = x;
                    }
                }
                Op::Alu(op, src) => {
                    let v = match src {
                        Operand::K(k) => k,
                        Operand::X => x,
                    };
                    a = match op {
                        AluOp::Add => a.wrapping_add(v),
                        AluOp::Sub => a.wrapping_sub(v),
                        AluOp::Mul => a.wrapping_mul(v),
                        // Division by a zero X rejects the packet (bpf_filter.c).
                        AluOp::Div => match a.checked_div(v) {
                            Some(r) => r,
                            None => return 0,
                        },
                        AluOp::Mod => match a.checked_rem(v) {
                            Some(r) => r,
                            None => return 0,
                        },
                        AluOp::Or => a | v,
                        AluOp::And => a & v,
                        AluOp::Xor => a ^ v,
                        AluOp::Lsh => a.checked_shl(v).unwrap_or(0),
                        AluOp::Rsh => a.checked_shr(v).unwrap_or(0),
                    };
                }
                Op::Neg => a = a.wrapping_neg(),
                Op::Ja(t) => {
                    if t < pc {
                        backward_budget -= 1;
                        if backward_budget == 0 {
                            return 0;
                        }
                    }
                    pc = t;
                }
                Op::Jmp(cond, src, jt, jf) => {
                    let v = match src {
                        Operand::K(k) => k,
                        Operand::X => x,
                    };
                    let taken = match cond {
                        Cond::Eq => a == v,
                        Cond::Gt => a > v,
                        Cond::Ge => a >= v,
                        Cond::Set => a & v != 0,
                    };
                    pc = if taken { jt } else { jf };
                }
                Op::RetK(k) => return k,
                Op::RetA => return a,
                Op::Tax => x = a,
                Op::Txa => a = x,
            }
        }
    }
}

/// A big-endian load of N bytes at `off`, `None` past the captured data.
#[inline(always)]
fn load<const N: usize>(p: &[u8], off: u64) -> Option<u32> {
    let off = usize::try_from(off).ok()?;
    let s = p.get(off..off.checked_add(N)?)?;
    Some(s.iter().fold(0u32, |acc, &b| acc << 8 | u32::from(b)))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn insn(code: u16, jt: u8, jf: u8, k: u32) -> Insn {
        Insn { code, jt, jf, k }
    }

    #[test]
    fn parses_pcap_crate_display_format() {
        assert_eq!(parse_insn("40 0 0 12"), Some(insn(40, 0, 0, 12)));
        assert_eq!(parse_insn("40 0 0"), None);
        assert_eq!(parse_insn("40 0 0 12 1"), None);
    }

    #[test]
    fn validation_rejects_unsafe_programs() {
        // Jump past the end.
        assert!(Program::new(&[insn(JMP | 0x10, 5, 0, 1), insn(RET, 0, 0, 1)]).is_err());
        // No final return.
        assert!(Program::new(&[insn(LD | IMM, 0, 0, 1)]).is_err());
        // Scratch memory index out of range.
        assert!(Program::new(&[insn(ST, 0, 0, 16), insn(RET, 0, 0, 1)]).is_err());
        // Division by constant zero.
        assert!(Program::new(&[insn(ALU | 0x30, 0, 0, 0), insn(RET, 0, 0, 1)]).is_err());
        assert!(Program::new(&[]).is_err());
    }

    #[test]
    fn len_is_the_wire_length_and_loads_past_caplen_reject() {
        // ld len; jge #100, accept, reject
        let p = Program::new(&[
            insn(LD | LEN | W, 0, 0, 0),
            insn(JMP | 0x30, 0, 1, 100),
            insn(RET, 0, 0, 65535),
            insn(RET, 0, 0, 0),
        ])
        .expect("valid");
        assert_ne!(p.run(&[0; 10], 1500), 0);
        assert_eq!(p.run(&[0; 200], 60), 0);
        // ldh [12]; ret a — the caplen is 13, so the load fails and rejects.
        let p = Program::new(&[insn(LD | H | ABS, 0, 0, 12), insn(RET | 0x10, 0, 0, 0)])
            .expect("valid");
        assert_eq!(p.run(&[0; 13], 100), 0);
        assert_eq!(
            p.run(&[0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0x08, 0x06], 100),
            0x0806
        );
    }

    #[test]
    fn a_backward_loop_ends_by_budget() {
        // 0: ld #1; 1: ja -2 (back to 0): an endless loop, rejected after the budget.
        let p = Program::new(&[
            insn(LD | IMM, 0, 0, 1),
            insn(JMP, 0, 0, (-2i32) as u32),
            insn(RET, 0, 0, 1),
        ])
        .expect("valid");
        assert_eq!(p.run(&[], 0), 0);
        // A backward jump before the start is invalid.
        assert!(Program::new(&[insn(JMP, 0, 0, (-5i32) as u32), insn(RET, 0, 0, 1)]).is_err());
    }

    #[test]
    fn divide_by_zero_x_rejects() {
        let p = Program::new(&[
            insn(LD | IMM, 0, 0, 7),
            insn(ALU | 0x30 | SRC_X, 0, 0, 0),
            insn(RET | 0x10, 0, 0, 0),
        ])
        .expect("valid");
        assert_eq!(p.run(&[], 0), 0);
    }
}
