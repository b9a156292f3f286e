//! Exact money: a signed fixed-point decimal with four fractional digits, never a float.
//!
//! The FSPIOP API allows at most four decimals, so one unit of [`Amount`] is 1/10 000 of a
//! currency unit. The value is an `i128`, so that sums of many amounts never overflow while
//! they are computed, and the store keeps every `i128` ([`STORAGE_PRECISION`] digits): no
//! amount that passed the edge, and no position, balance or sum the ledger forms from such
//! amounts, can fail to fit a column.

use std::fmt;

/// Fractional digits of every stored and transmitted amount (Mojaloop `AMOUNT.SCALE`).
pub const AMOUNT_SCALE: u32 = 4;
/// Significant digits Mojaloop allows in a transfer's amount (`AMOUNT.PRECISION`, after its
/// `DECIMAL(18,4)` columns): a prepare with more is refused. The store holds far more.
pub const AMOUNT_PRECISION: u32 = 18;
/// Integer digits the FSPIOP amount pattern allows before the decimal point.
pub const FSPIOP_INTEGER_DIGITS_MAX: usize = 18;
/// Digits, the four decimals included, of an amount as the store keeps it: MySQL columns are
/// `DECIMAL(39,4)`, SQLite keeps the units (see `ledger-store`). 39 digits hold every `i128`.
pub const STORAGE_PRECISION: u32 = 39;

const UNITS_PER_WHOLE: i128 = 10_i128.pow(AMOUNT_SCALE);
/// The largest magnitude an FSPIOP amount has, in units: eighteen integer digits, four decimals.
const FSPIOP_UNITS_MAX: i128 = 10_i128.pow(FSPIOP_INTEGER_DIGITS_MAX as u32 + AMOUNT_SCALE) - 1;

// Every FSPIOP amount fits the store (a value has `ilog10() + 1` digits)...
const _: () = assert!(FSPIOP_UNITS_MAX.ilog10() < STORAGE_PRECISION);
// ...and so does every value an `Amount` can take, hence every sum the ledger forms: arithmetic
// that would leave `i128` panics first (see `Add`), a bug rather than a store error.
const _: () = assert!(i128::MAX.ilog10() < STORAGE_PRECISION);

/// A signed amount in units of 10^-4.
#[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Default)]
pub struct Amount(i128);

/// Why a string is not an amount.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AmountError {
    /// The text does not follow the amount syntax at all.
    Syntax,
    /// More than four fractional digits.
    TooManyDecimals,
    /// More integer digits than allowed.
    TooManyDigits,
    /// The FSPIOP pattern forbids trailing zeros in the fraction and leading zeros.
    NotCanonical,
}

impl Amount {
    pub const ZERO: Amount = Amount(0);

    /// Builds an amount from units of 10^-4.
    pub const fn from_units(units: i128) -> Amount {
        Amount(units)
    }

    /// Builds an amount from whole currency units.
    pub const fn from_whole(whole: i64) -> Amount {
        Amount(whole as i128 * UNITS_PER_WHOLE)
    }

    pub const fn units(self) -> i128 {
        self.0
    }

    /// Parses an FSPIOP `Amount`: `^([0]|([1-9][0-9]{0,17}))([.][0-9]{0,3}[1-9])?$`.
    ///
    /// No sign, no leading zeros, no trailing zeros in the fraction, at most four decimals and
    /// eighteen integer digits.
    pub fn parse_fspiop(text: &str) -> Result<Amount, AmountError> {
        let (integer, fraction) = split_decimal(text)?;
        if integer.len() > FSPIOP_INTEGER_DIGITS_MAX {
            return Err(AmountError::TooManyDigits);
        }
        if integer.len() > 1 && integer.starts_with('0') {
            return Err(AmountError::NotCanonical);
        }
        if let Some(fraction) = fraction {
            if fraction.ends_with('0') {
                return Err(AmountError::NotCanonical);
            }
        }
        compose(integer, fraction.unwrap_or(""), false)
    }

    /// Parses a plain decimal within Mojaloop's `DECIMAL(18,4)`, as the operator APIs take
    /// numbers: optional `-`, any trailing zeros, at most four decimals, at most fourteen
    /// integer digits.
    pub fn parse_decimal(text: &str) -> Result<Amount, AmountError> {
        parse_signed(text, (AMOUNT_PRECISION - AMOUNT_SCALE) as usize)
    }

    /// Parses a decimal as the store prints it (`DECIMAL(39,4)`): optional `-`, any trailing
    /// zeros, at most four decimals; every `Amount` and nothing beyond.
    pub fn parse_stored(text: &str) -> Result<Amount, AmountError> {
        parse_signed(text, (STORAGE_PRECISION - AMOUNT_SCALE) as usize)
    }

    /// Prints the FSPIOP form: no trailing fractional zeros, `-` for negative values.
    pub fn to_fspiop_string(self) -> String {
        let fixed = self.to_decimal_string();
        match fixed.split_once('.') {
            Some((integer, fraction)) => {
                let fraction = fraction.trim_end_matches('0');
                if fraction.is_empty() {
                    integer.to_string()
                } else {
                    format!("{integer}.{fraction}")
                }
            }
            None => fixed,
        }
    }

    /// Prints exactly four decimals, as a `DECIMAL(p,4)` column does.
    pub fn to_decimal_string(self) -> String {
        let sign = if self.0 < 0 { "-" } else { "" };
        let magnitude = self.0.unsigned_abs();
        let whole = magnitude / UNITS_PER_WHOLE as u128;
        let fraction = magnitude % UNITS_PER_WHOLE as u128;
        format!("{sign}{whole}.{fraction:04}")
    }

    /// Number of fractional digits actually used (0..=4).
    pub fn scale_used(self) -> u32 {
        let mut units = self.0.unsigned_abs();
        let mut scale = AMOUNT_SCALE;
        while scale > 0 && units.is_multiple_of(10) {
            units /= 10;
            scale -= 1;
        }
        scale
    }

    /// Significant digits of the value written with [`Amount::scale_used`] decimals.
    pub fn precision_used(self) -> u32 {
        let scale = self.scale_used();
        let whole = self.0.unsigned_abs() / UNITS_PER_WHOLE as u128;
        let integer_digits = if whole == 0 { 1 } else { whole.ilog10() + 1 };
        integer_digits + scale
    }

    /// Whether the value fits the store's columns ([`STORAGE_PRECISION`] digits). Every
    /// `Amount` does (asserted at compile time above); this names the bound for callers.
    pub fn fits_storage(self) -> bool {
        let magnitude = self.0.unsigned_abs();
        magnitude == 0 || magnitude.ilog10() < STORAGE_PRECISION
    }

    pub fn is_positive(self) -> bool {
        0 < self.0
    }

    pub fn is_negative(self) -> bool {
        self.0 < 0
    }

    pub fn abs(self) -> Amount {
        Amount(self.0.abs())
    }
}

impl std::ops::Add for Amount {
    type Output = Amount;
    fn add(self, other: Amount) -> Amount {
        // Overflow of i128 needs some 10^16 of the largest FSPIOP amounts; treat it as a bug.
        Amount(self.0.checked_add(other.0).expect("amount overflow"))
    }
}

impl std::ops::Sub for Amount {
    type Output = Amount;
    fn sub(self, other: Amount) -> Amount {
        Amount(self.0.checked_sub(other.0).expect("amount overflow"))
    }
}

impl std::ops::Neg for Amount {
    type Output = Amount;
    fn neg(self) -> Amount {
        Amount(-self.0)
    }
}

impl std::ops::AddAssign for Amount {
    fn add_assign(&mut self, other: Amount) {
        *self = *self + other;
    }
}

impl std::iter::Sum for Amount {
    fn sum<I: Iterator<Item = Amount>>(iter: I) -> Amount {
        iter.fold(Amount::ZERO, |acc, it| acc + it)
    }
}

impl fmt::Display for Amount {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.to_fspiop_string())
    }
}

impl fmt::Debug for Amount {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Amount({})", self.to_decimal_string())
    }
}

fn split_decimal(text: &str) -> Result<(&str, Option<&str>), AmountError> {
    let (integer, fraction) = match text.split_once('.') {
        Some((integer, fraction)) => (integer, Some(fraction)),
        None => (text, None),
    };
    if integer.is_empty() || !integer.bytes().all(|b| b.is_ascii_digit()) {
        return Err(AmountError::Syntax);
    }
    if let Some(fraction) = fraction {
        if fraction.is_empty() || !fraction.bytes().all(|b| b.is_ascii_digit()) {
            return Err(AmountError::Syntax);
        }
        if fraction.len() > AMOUNT_SCALE as usize {
            return Err(AmountError::TooManyDecimals);
        }
    }
    Ok((integer, fraction))
}

/// A plain decimal with an optional `-` and at most `integer_digits_max` significant integer
/// digits.
fn parse_signed(text: &str, integer_digits_max: usize) -> Result<Amount, AmountError> {
    let (negative, rest) = match text.strip_prefix('-') {
        Some(rest) => (true, rest),
        None => (false, text),
    };
    let (integer, fraction) = split_decimal(rest)?;
    if integer.trim_start_matches('0').len() > integer_digits_max {
        return Err(AmountError::TooManyDigits);
    }
    compose(integer, fraction.unwrap_or(""), negative)
}

fn compose(integer: &str, fraction: &str, negative: bool) -> Result<Amount, AmountError> {
    // Both parts are ASCII digits of bounded length here; only the storage form's 35 integer
    // digits can leave `i128`, and that is checked below.
    let integer_digits = integer.trim_start_matches('0');
    if integer_digits.len() > (STORAGE_PRECISION - AMOUNT_SCALE) as usize {
        return Err(AmountError::TooManyDigits);
    }
    let whole: u128 =
        if integer_digits.is_empty() { 0 } else { integer_digits.parse().map_err(|_| AmountError::Syntax)? };
    let mut fraction_units: u128 = 0;
    for (idx, digit) in fraction.bytes().enumerate() {
        let place = 10_u128.pow(AMOUNT_SCALE - 1 - idx as u32);
        fraction_units += u128::from(digit - b'0') * place;
    }
    // The sign decides what fits `i128` (`i128::MIN` has no positive counterpart).
    let magnitude = whole.checked_mul(UNITS_PER_WHOLE as u128).and_then(|it| it.checked_add(fraction_units));
    let magnitude = magnitude.ok_or(AmountError::TooManyDigits)?;
    let units = match negative {
        true => 0_i128.checked_sub_unsigned(magnitude),
        false => i128::try_from(magnitude).ok(),
    };
    units.map(Amount).ok_or(AmountError::TooManyDigits)
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn fspiop_amounts_follow_the_pattern() {
        let accepted = [("0", 0), ("1", 10_000), ("60.1234", 601_234), ("100.5", 1_005_000), ("0.0001", 1)];
        for (text, units) in accepted {
            assert_eq!(Amount::parse_fspiop(text), Ok(Amount::from_units(units)), "{text}");
        }
        let rejected = [
            ("", AmountError::Syntax),
            ("-1", AmountError::Syntax),
            ("1.", AmountError::Syntax),
            (".5", AmountError::Syntax),
            ("1e3", AmountError::Syntax),
            (" 1", AmountError::Syntax),
            ("01", AmountError::NotCanonical),
            ("1.50", AmountError::NotCanonical),
            ("1.0", AmountError::NotCanonical),
            ("1.12345", AmountError::TooManyDecimals),
            ("1234567890123456789", AmountError::TooManyDigits),
        ];
        for (text, error) in rejected {
            assert_eq!(Amount::parse_fspiop(text), Err(error), "{text}");
        }
        assert!(Amount::parse_fspiop("123456789012345678").is_ok());
    }

    #[test]
    fn decimal_strings_round_trip_from_the_database() {
        assert_eq!(Amount::parse_decimal("-12.5000"), Ok(Amount::from_units(-125_000)));
        assert_eq!(Amount::parse_decimal("0.0000"), Ok(Amount::ZERO));
        assert_eq!(Amount::from_units(-125_000).to_decimal_string(), "-12.5000");
        assert_eq!(Amount::from_units(-125_000).to_fspiop_string(), "-12.5");
        assert_eq!(Amount::from_units(10_000).to_fspiop_string(), "1");
        assert_eq!(Amount::from_units(1).to_fspiop_string(), "0.0001");
        assert_eq!(Amount::parse_decimal("12345678901234567.0"), Err(AmountError::TooManyDigits));
    }

    #[test]
    fn scale_and_precision_are_measured_on_the_written_form() {
        assert_eq!(Amount::parse_fspiop("60.1234").unwrap().scale_used(), 4);
        assert_eq!(Amount::parse_fspiop("60.1234").unwrap().precision_used(), 6);
        assert_eq!(Amount::parse_fspiop("0.5").unwrap().precision_used(), 2);
        assert_eq!(Amount::parse_fspiop("100").unwrap().precision_used(), 3);
    }

    #[test]
    fn every_fspiop_amount_and_every_sum_fits_the_store() {
        let largest = Amount::parse_fspiop("999999999999999999.9999").unwrap();
        assert_eq!(largest, Amount::from_units(FSPIOP_UNITS_MAX));
        for it in [largest, -largest, Amount::from_units(i128::MAX), Amount::from_units(i128::MIN), Amount::ZERO] {
            assert!(it.fits_storage(), "{it:?}");
            assert_eq!(Amount::parse_stored(&it.to_decimal_string()), Ok(it));
        }
        assert_eq!(Amount::parse_stored("100000000000000.0000"), Ok(Amount::from_whole(100_000_000_000_000)));
        assert_eq!(
            Amount::parse_stored("-99999999999999999999999999999999999.9999"),
            Err(AmountError::TooManyDigits),
            "beyond i128"
        );
        assert_eq!(
            Amount::parse_stored("999999999999999999999999999999999999"),
            Err(AmountError::TooManyDigits),
            "36 digits"
        );
        assert_eq!(
            Amount::parse_decimal("100000000000000"),
            Err(AmountError::TooManyDigits),
            "the operator APIs keep DECIMAL(18,4)"
        );
    }

    proptest! {
        #[test]
        fn fspiop_text_round_trips(units in 0_i128..10_i128.pow(22)) {
            let amount = Amount::from_units(units);
            prop_assert_eq!(Amount::parse_fspiop(&amount.to_fspiop_string()), Ok(amount));
        }

        #[test]
        fn decimal_text_round_trips(units in -(10_i128.pow(AMOUNT_PRECISION) - 1)..10_i128.pow(AMOUNT_PRECISION)) {
            let amount = Amount::from_units(units);
            prop_assert_eq!(Amount::parse_decimal(&amount.to_decimal_string()), Ok(amount));
        }

        #[test]
        fn stored_text_round_trips_for_every_amount(units in any::<i128>()) {
            let amount = Amount::from_units(units);
            prop_assert!(amount.fits_storage());
            prop_assert_eq!(Amount::parse_stored(&amount.to_decimal_string()), Ok(amount));
        }

        #[test]
        fn every_fspiop_amount_round_trips_through_the_stored_text(units in 0..=FSPIOP_UNITS_MAX) {
            let amount = Amount::parse_fspiop(&Amount::from_units(units).to_fspiop_string()).unwrap();
            prop_assert_eq!(Amount::parse_stored(&amount.to_decimal_string()), Ok(amount));
        }

        #[test]
        fn parsing_never_panics(text in "\\PC{0,40}") {
            let _ = Amount::parse_fspiop(&text);
            let _ = Amount::parse_decimal(&text);
            let _ = Amount::parse_stored(&text);
        }
    }
}
