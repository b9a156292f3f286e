//! Telemetry without a network: a connection string that does not parse leaves the handler
//! logging only (no panic, no export), and recording works with the subscriber installed.

use std::time::{Duration, Instant};

use plumbing::telemetry::{self, Outcome, Tally};

#[test]
fn a_malformed_connection_string_disables_export_without_panicking() {
    for malformed in
        ["not a connection string", "Authorization=AAD;InstrumentationKey=k", "IngestionEndpoint=https://x"]
    {
        let guard = telemetry::init_with(Some(malformed));
        assert!(!guard.exporting(), "{malformed}");
        telemetry::record_invocation("prepare", 2, Duration::from_millis(3), Outcome::Ok);
        let span = telemetry::invocation_span("function.prepare", "prepare", true);
        telemetry::finish_invocation(&span, "prepare", Instant::now(), Tally::ok(2, 1, 1));
        drop(guard);
    }
    assert!(!telemetry::init_with(None).exporting());
}
