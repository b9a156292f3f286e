//! After each position change the position function reports how much of its net debit cap the
//! participant uses (the `ndc_used_percent` metric the operators' alert reads) and logs a warning
//! from 90 % on. The log line is what this test can see of it; the metric carries the same figure.

mod support;

use std::io::Write;
use std::sync::{Arc, Mutex};

use handler::transfers::position::position;
use handler::transfers::prepare::prepare;
use ledger_core::prepare::PrepareRules;
use support::*;

const RULES: PrepareRules = PrepareRules { on_us_transfers_allowed: false };
const WARNING: &str = "position near or over the net debit cap";

/// Everything logged in this test binary.
#[derive(Clone, Default)]
struct Logged(Arc<Mutex<Vec<u8>>>);

impl Write for Logged {
    fn write(&mut self, bytes: &[u8]) -> std::io::Result<usize> {
        self.0.lock().unwrap().extend_from_slice(bytes);
        Ok(bytes.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

impl Logged {
    fn warnings(&self) -> Vec<String> {
        let text = String::from_utf8(self.0.lock().unwrap().clone()).unwrap();
        text.lines().filter(|it| it.contains(WARNING)).map(str::to_string).collect()
    }
}

#[tokio::test]
async fn a_payer_near_its_cap_is_reported_with_its_share_of_the_cap() {
    let logged = Logged::default();
    let writer = logged.clone();
    tracing_subscriber::fmt().with_ansi(false).with_writer(move || writer.clone()).init();
    let (store, path) = sqlite().await;
    provision(store.as_ref(), "5000").await; // capped at 1000

    let (_, event) = prepare_event("payerfsp", "payeefsp", "400", NOW);
    let prepared = prepare(store.as_ref(), &[event.to_json()], NOW, RULES).await.unwrap();
    position(store.as_ref(), &bodies(&prepared), NOW).await.unwrap();
    assert_eq!(logged.warnings(), Vec::<String>::new(), "40 % of the cap is no warning");

    let (_, event) = prepare_event("payerfsp", "payeefsp", "550.5", NOW);
    let prepared = prepare(store.as_ref(), &[event.to_json()], NOW, RULES).await.unwrap();
    position(store.as_ref(), &bodies(&prepared), NOW).await.unwrap();
    let warnings = logged.warnings();
    assert_eq!(warnings.len(), 1, "{warnings:?}");
    for field in ["participant=\"payerfsp\"", "currency=\"USD\"", "percent=95"] {
        assert!(warnings[0].contains(field), "{field} in {}", warnings[0]);
    }
    remove_sqlite(path);
}
