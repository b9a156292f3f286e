//! Operator decisions of the admin API: which accounts a new participant currency gets, which
//! hub accounts may be created, and when initial positions and limits may be set.

use crate::account::{Account, LedgerAccountType, Participant};
use crate::currency::Currency;
use crate::model::{models_for_currency, SettlementModel};
use crate::rejection::{AdminRefusal, Rejection};

/// The account types the Hub may hold (`HUB_PARTICIPANT.ACCOUNTS`, without the unused HUB_FEE).
pub const HUB_ACCOUNT_TYPES: [LedgerAccountType; 2] =
    [LedgerAccountType::HubReconciliation, LedgerAccountType::HubMultilateralSettlement];

fn refuse<T>(refusal: AdminRefusal) -> Result<T, Rejection> {
    Err(Rejection::Admin(refusal))
}

fn has_account(accounts: &[Account], kind: LedgerAccountType, currency: Currency) -> bool {
    accounts.iter().any(|it| it.kind == kind && it.currency == currency)
}

/// `POST /participants` for a currency: the Hub must hold both hub accounts in it, the
/// participant must not hold the currency yet, and a settlement model (the currency's own, else
/// the default) must apply. Returns the account types to create, inactive, in creation order.
pub fn accounts_for_new_currency(
    hub_accounts: &[Account],
    participant_accounts: &[Account],
    models: &[SettlementModel],
    currency: Currency,
) -> Result<Vec<LedgerAccountType>, Rejection> {
    for kind in [LedgerAccountType::HubReconciliation, LedgerAccountType::HubMultilateralSettlement] {
        if !has_account(hub_accounts, kind, currency) {
            return refuse(AdminRefusal::HubAccountMissing(kind));
        }
    }
    if participant_accounts.iter().any(|it| it.currency == currency) {
        return refuse(AdminRefusal::CurrencyAlreadyRegistered);
    }
    let applicable = models_for_currency(models, currency);
    if applicable.is_empty() {
        return refuse(AdminRefusal::NoSettlementModel);
    }
    let mut kinds = Vec::new();
    for model in applicable {
        for kind in [model.definition.ledger_account_type, model.definition.settlement_account_type] {
            if !kinds.contains(&kind) {
                kinds.push(kind);
            }
        }
    }
    Ok(kinds)
}

/// `POST /participants/Hub/accounts`: only the Hub, only hub account types, once per currency.
pub fn check_new_hub_account(
    participant: &Participant,
    accounts: &[Account],
    kind: LedgerAccountType,
    currency: Currency,
) -> Result<(), Rejection> {
    if !participant.is_hub() || !HUB_ACCOUNT_TYPES.contains(&kind) {
        return refuse(AdminRefusal::NotHubAccountType);
    }
    if has_account(accounts, kind, currency) {
        return refuse(AdminRefusal::HubAccountExists);
    }
    Ok(())
}

/// The accounts `initialPositionAndLimits` sets up: the POSITION and SETTLEMENT accounts of the
/// currency, provided no limit exists yet.
pub fn initial_position_accounts(
    accounts: &[Account],
    currency: Currency,
    has_limit: bool,
) -> Result<(&Account, &Account), Rejection> {
    let find = |kind| accounts.iter().find(|it: &&Account| it.kind == kind && it.currency == currency);
    let (Some(position), Some(settlement)) = (find(LedgerAccountType::Position), find(LedgerAccountType::Settlement))
    else {
        return refuse(AdminRefusal::NoLimitForCurrency);
    };
    if has_limit {
        return refuse(AdminRefusal::LimitOrPositionAlreadySet);
    }
    Ok((position, settlement))
}

/// The account a funds action moves: the participant's active SETTLEMENT account with that id,
/// in the amount's currency, of an active participant.
pub fn check_funds_account<'a>(
    participant: &Participant,
    accounts: &'a [Account],
    id: crate::ids::AccountId,
    currency: Currency,
) -> Result<&'a Account, Rejection> {
    let Some(account) = accounts.iter().find(|it| it.id == id) else {
        return refuse(AdminRefusal::AccountNotFound);
    };
    if account.kind != LedgerAccountType::Settlement {
        return refuse(AdminRefusal::NotSettlementAccount);
    }
    if !participant.is_active {
        return refuse(AdminRefusal::ParticipantInactive);
    }
    if !account.is_active {
        return refuse(AdminRefusal::AccountInactive);
    }
    if account.currency != currency {
        return refuse(AdminRefusal::CurrencyMismatch);
    }
    Ok(account)
}
