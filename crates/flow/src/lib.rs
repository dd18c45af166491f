//! Flows: the bidirectional flow table, TCP state (Zeek `conn_state` and `history`),
//! handshake RTT, loss indicators, and Community ID.
//!
//! Owns: [`FlowTable`], [`Flow`], [`community_id`]. Never does: I/O, logging, wall-clock reads,
//! or allocation per packet (the table's storage is reserved up front; a finished flow is
//! handed to a callback by reference, and callers copy it if they keep it).
//!
//! Invariants and bounds:
//! - At most [`FlowConfig::max_flows`] flows live at once. When full, the table looks at the
//!   8 slots after its sweep hand and reuses an expired flow's slot if one is there, else evicts
//!   the least recently seen of the 8 (approximate LRU, O(1)); every eviction is counted.
//! - Timeouts run on packet time: each time packet time enters a new second, 4096 slots are
//!   examined; a packet that finds its flow past its timeout starts a new flow.
//! - Lookups use a randomly seeded hash (foldhash), so an attacker cannot choose collisions.
//!   Flow ids and conversation keys use a fixed seed so that output is reproducible.
//!
//! ```
//! use wirescope_flow::{FlowConfig, FlowTable};
//! use wirescope_core::{LinkType, Timestamp};
//! let mut table = FlowTable::new(FlowConfig::default());
//! let pkt = wirescope_wire::decode(LinkType::ETHERNET, &[]);
//! let mut ended = 0;
//! table.process(Timestamp(0), &pkt, &mut |_flow| ended += 1);
//! table.flush(&mut |_flow| ended += 1);
//! assert_eq!(ended, 0); // an empty frame makes no flow
//! ```

pub mod community_id;
pub mod frag;
mod table;
pub mod tcp;

pub use table::{EndReason, Flow, FlowConfig, FlowTable, PacketOutcome, TableStats};
