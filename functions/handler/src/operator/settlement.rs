//! The settlement function: aggregates each closed window (settlement-window-close hub) into
//! its content per account type and currency, in one transaction per batch.
//!
//! | step | what |
//! |---|---|
//! | load | the window under lock; only a PROCESSING window is aggregated (a redelivery finds it CLOSED and does nothing) |
//! | decide | `ledger_core::settlement::aggregate_window`: per account and sign, under the model that settles it |
//! | write | contents with their aggregations and a CLOSED state each, the window → CLOSED; commit |

use std::collections::BTreeSet;

use ledger_core::ids::WindowId;
use ledger_core::settlement::aggregate_window;
use ledger_core::time::Timestamp;
use ledger_core::window::WindowState;
use ledger_store::operator::{NewContent, NewContentState};
use ledger_store::{LedgerStore, StoreError};

use crate::outbox::Report;

/// The reason recorded with each new content.
const CONTENT_REASON: &str = "Settlement window content aggregated";

/// The payload of a close event: the operator's reason.
#[derive(Debug, Clone, serde::Serialize, serde::Deserialize)]
pub struct CloseEvent {
    pub reason: String,
}

/// Runs one settlement batch; see the module documentation.
pub async fn settlement(store: &dyn LedgerStore, bodies: &[String], now: Timestamp) -> Result<Report, StoreError> {
    let mut report = Report::default();
    let mut closes = Vec::new();
    let mut seen = BTreeSet::new();
    for envelope in report.read_envelopes(bodies) {
        let id = envelope.id.parse::<u64>().ok().filter(|it| *it > 0);
        let event = envelope.payload_bytes().ok().and_then(|it| serde_json::from_slice::<CloseEvent>(&it).ok());
        match (id, event) {
            (Some(id), Some(event)) if seen.insert(id) => closes.push((WindowId(id), event.reason)),
            (Some(_), Some(_)) => (),
            _ => report.dead_letter(&envelope.to_json(), "not a settlement window close event"),
        }
    }
    let models = store.settlement_models().await?;
    let mut tx = store.begin().await?;
    for (id, reason) in closes {
        let windows = tx.windows_for_update(&[id]).await?;
        if windows.first().is_none_or(|it| it.window.state != WindowState::Processing) {
            continue;
        }
        let sums = tx.window_sums(id).await?;
        let sums: Vec<_> = sums
            .iter()
            .map(|it| {
                let aggregation = ledger_core::settlement::Aggregation {
                    account: it.account,
                    participant: it.participant,
                    role: it.role,
                    amount: it.amount,
                };
                (it.kind, it.currency, aggregation)
            })
            .collect();
        let plans = aggregate_window(&sums, &models);
        let contents: Vec<NewContent> = plans
            .into_iter()
            .map(|it| NewContent {
                window: id,
                kind: it.kind,
                currency: it.currency,
                model: it.model,
                aggregations: it.aggregations,
            })
            .collect();
        let ids = tx.insert_window_contents(&contents, now).await?;
        let states: Vec<NewContentState> = ids
            .into_iter()
            .map(|content| NewContentState {
                content,
                state: WindowState::Closed,
                settlement: None,
                reason: CONTENT_REASON.to_string(),
            })
            .collect();
        tx.insert_content_states(&states, now).await?;
        tx.set_window_states(&[(id, WindowState::Closed)], &reason, now).await?;
    }
    tx.commit().await?;
    Ok(report)
}
