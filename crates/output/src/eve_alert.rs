//! EVE `alert` events. An alert is written when it opens (`alert.status` = `new`, with the
//! evidence that crossed the threshold) and, if its evidence changed afterwards, once more
//! when it closes (`closed`, with the final evidence); both lines share `alert.id`.

use crate::eve::{eve_proto, EveWriter};
use serde_json::json;
use std::io::Write;
use wirescope_detect::{Alert, AlertSink, AlertStatus};

/// The EVE `alert` event of an alert in its current state.
pub fn alert_event(a: &Alert, iface: Option<&str>) -> serde_json::Value {
    let ts = match a.status {
        AlertStatus::New => a.raised,
        AlertStatus::Closed => a.last_seen,
    };
    let mut v = json!({
        "timestamp": ts.to_string(),
        "event_type": "alert",
        "alert": {
            "action": "allowed",
            "gid": 1,
            "signature_id": a.signature_id,
            "rev": 1,
            "signature": a.signature,
            "category": a.category,
            "severity": a.severity,
            "detector": a.detector.as_str(),
            "kind": a.kind,
            "id": a.id,
            "status": a.status,
            "onset": a.onset.to_string(),
            "raised": a.raised.to_string(),
            "last_seen": a.last_seen.to_string(),
            "updates": a.updates,
            "evidence": serde_json::Value::Object(a.evidence.clone()),
        },
    });
    if let Some(f) = a.flow_id {
        v["flow_id"] = json!(f);
    }
    if let Some(i) = iface {
        v["in_iface"] = json!(i);
    }
    if let Some(s) = a.src {
        v["src_ip"] = json!(s.ip.to_string());
        if let Some(p) = s.port {
            v["src_port"] = json!(p);
        }
    }
    if let Some(d) = a.dst {
        v["dest_ip"] = json!(d.ip.to_string());
        if let Some(p) = d.port {
            v["dest_port"] = json!(p);
        }
    }
    if let Some(p) = a.proto {
        v["proto"] = json!(eve_proto(p));
    }
    if let Some(c) = &a.community_id {
        v["community_id"] = json!(c);
    }
    v
}

impl<W: Write> AlertSink for EveWriter<W> {
    fn alert(&mut self, a: &Alert) {
        let v = alert_event(a, self.iface().as_deref());
        self.emit_value(&v);
    }
}
