//! Settlement models: how, when and against which accounts a currency's positions settle, and
//! which model applies to an account.

use crate::account::LedgerAccountType;
use crate::currency::Currency;

/// Longest settlement model name (`settlementModel.name`: alphanumeric, 2 to 30 characters).
pub const MODEL_NAME_LENGTH_MAX: usize = 30;
/// Shortest settlement model name.
pub const MODEL_NAME_LENGTH_MIN: usize = 2;

/// The ledger's key of a settlement model (`settlementModelId`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct ModelId(pub u64);

/// A settlement model's name: 2 to 30 ASCII letters or digits.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct ModelName(String);

impl ModelName {
    pub fn parse(text: &str) -> Option<ModelName> {
        let n_chars = text.len();
        let alphanumeric = text.bytes().all(|it| it.is_ascii_alphanumeric());
        if !alphanumeric || !(MODEL_NAME_LENGTH_MIN..=MODEL_NAME_LENGTH_MAX).contains(&n_chars) {
            return None;
        }
        Some(ModelName(text.to_string()))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// `settlementGranularity`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Granularity {
    Gross,
    Net,
}

/// `settlementInterchange`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Interchange {
    Bilateral,
    Multilateral,
}

/// `settlementDelay`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Delay {
    Immediate,
    Deferred,
}

impl Granularity {
    pub fn id(self) -> u8 {
        match self {
            Granularity::Gross => 1,
            Granularity::Net => 2,
        }
    }
    pub fn name(self) -> &'static str {
        match self {
            Granularity::Gross => "GROSS",
            Granularity::Net => "NET",
        }
    }
    pub fn from_name(name: &str) -> Option<Granularity> {
        [Granularity::Gross, Granularity::Net].into_iter().find(|it| it.name() == name)
    }
    pub fn from_id(id: u8) -> Option<Granularity> {
        [Granularity::Gross, Granularity::Net].into_iter().find(|it| it.id() == id)
    }
}

impl Interchange {
    pub fn id(self) -> u8 {
        match self {
            Interchange::Bilateral => 1,
            Interchange::Multilateral => 2,
        }
    }
    pub fn name(self) -> &'static str {
        match self {
            Interchange::Bilateral => "BILATERAL",
            Interchange::Multilateral => "MULTILATERAL",
        }
    }
    pub fn from_name(name: &str) -> Option<Interchange> {
        [Interchange::Bilateral, Interchange::Multilateral].into_iter().find(|it| it.name() == name)
    }
    pub fn from_id(id: u8) -> Option<Interchange> {
        [Interchange::Bilateral, Interchange::Multilateral].into_iter().find(|it| it.id() == id)
    }
}

impl Delay {
    pub fn id(self) -> u8 {
        match self {
            Delay::Immediate => 1,
            Delay::Deferred => 2,
        }
    }
    pub fn name(self) -> &'static str {
        match self {
            Delay::Immediate => "IMMEDIATE",
            Delay::Deferred => "DEFERRED",
        }
    }
    pub fn from_name(name: &str) -> Option<Delay> {
        [Delay::Immediate, Delay::Deferred].into_iter().find(|it| it.name() == name)
    }
    pub fn from_id(id: u8) -> Option<Delay> {
        [Delay::Immediate, Delay::Deferred].into_iter().find(|it| it.id() == id)
    }
}

/// A settlement model as an operator defines it (`POST /settlementModels`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ModelDefinition {
    pub name: ModelName,
    pub granularity: Granularity,
    pub interchange: Interchange,
    pub delay: Delay,
    /// `None` for the default model, which covers currencies without a model of their own.
    pub currency: Option<Currency>,
    pub require_liquidity_check: bool,
    /// The account type whose positions the model settles (e.g. POSITION).
    pub ledger_account_type: LedgerAccountType,
    /// The account type that holds the participants' liquidity (e.g. SETTLEMENT).
    pub settlement_account_type: LedgerAccountType,
    pub auto_position_reset: bool,
}

/// A stored settlement model.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SettlementModel {
    pub id: ModelId,
    pub definition: ModelDefinition,
    pub is_active: bool,
}

impl ModelDefinition {
    /// Mojaloop allows four (delay, granularity, interchange) combinations.
    pub fn is_valid_combination(&self) -> bool {
        matches!(
            (self.delay, self.granularity, self.interchange),
            (Delay::Immediate, Granularity::Gross, Interchange::Bilateral)
                | (Delay::Deferred, Granularity::Gross, Interchange::Bilateral)
                | (Delay::Deferred, Granularity::Net, Interchange::Bilateral)
                | (Delay::Deferred, Granularity::Net, Interchange::Multilateral)
        )
    }

    /// Whether settlements are created from windows under this model (deferred net).
    pub fn is_deferred_net(&self) -> bool {
        self.delay == Delay::Deferred && self.granularity == Granularity::Net
    }
}

/// The models that apply to a currency: those of the currency itself, or, when it has none,
/// the default models (no currency). Inactive models do not apply.
pub fn models_for_currency(models: &[SettlementModel], currency: Currency) -> Vec<&SettlementModel> {
    let active = || models.iter().filter(|it| it.is_active);
    let own: Vec<&SettlementModel> = active().filter(|it| it.definition.currency == Some(currency)).collect();
    if !own.is_empty() {
        return own;
    }
    active().filter(|it| it.definition.currency.is_none()).collect()
}

/// The model that settles accounts of `kind` in `currency`: the currency's own model for that
/// account type wins over the default one.
pub fn model_for_account(
    models: &[SettlementModel],
    kind: LedgerAccountType,
    currency: Currency,
) -> Option<&SettlementModel> {
    let matching = |it: &&SettlementModel| it.is_active && it.definition.ledger_account_type == kind;
    let own = models.iter().filter(matching).find(|it| it.definition.currency == Some(currency));
    own.or_else(|| models.iter().filter(matching).find(|it| it.definition.currency.is_none()))
}
