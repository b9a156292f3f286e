//! Reading stored text back into ledger values, shared by both backends: a value that does not
//! parse was written by something else than this store, so it is [`StoreError::Corrupt`].

use ledger_core::condition::{IlpCondition, IlpFulfilment};
use ledger_core::currency::Currency;
use ledger_core::ids::{FspId, TransferId};
use ledger_core::state::TransferState;
use ledger_core::window::WindowState;

use crate::error::StoreError;

pub(crate) fn transfer_id(text: &str) -> Result<TransferId, StoreError> {
    TransferId::parse(text).ok_or_else(|| StoreError::Corrupt(format!("transfer id {text:?}")))
}

pub(crate) fn fsp_id(text: &str) -> Result<FspId, StoreError> {
    FspId::parse(text).ok_or_else(|| StoreError::Corrupt(format!("fsp id {text:?}")))
}

pub(crate) fn currency(text: &str) -> Result<Currency, StoreError> {
    Currency::parse(text).ok_or_else(|| StoreError::Corrupt(format!("currency {text:?}")))
}

pub(crate) fn condition(text: &str) -> Result<IlpCondition, StoreError> {
    IlpCondition::from_base64url(text).ok_or_else(|| StoreError::Corrupt(format!("condition {text:?}")))
}

pub(crate) fn fulfilment(text: &str) -> Result<IlpFulfilment, StoreError> {
    IlpFulfilment::from_base64url(text).ok_or_else(|| StoreError::Corrupt(format!("fulfilment {text:?}")))
}

pub(crate) fn transfer_state(text: &str) -> Result<TransferState, StoreError> {
    TransferState::from_name(text).ok_or_else(|| StoreError::Corrupt(format!("state {text:?}")))
}

pub(crate) fn window_state(text: &str) -> Result<WindowState, StoreError> {
    WindowState::from_name(text).ok_or_else(|| StoreError::Corrupt(format!("window state {text:?}")))
}
