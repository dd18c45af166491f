//! The harness itself: a benign capture goes through the whole engine with every detector.
#![allow(clippy::unwrap_used)]
mod common;

#[test]
fn benign_http_capture_runs_every_detector_without_alerts() {
    let p = common::corpus_file("attacks/chrissanders-packets/http_google.pcapng");
    let alerts = common::run(&p);
    assert!(alerts.is_empty(), "{}", common::describe(&alerts));
}
