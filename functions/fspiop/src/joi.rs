//! What the operator APIs' Joi validation accepts, converts and refuses, and the error code each
//! service gives a refusal.
//!
//! Joi validates with `convert` on: a numeric string is a number, `"true"`/`"false"` (any case)
//! are booleans, an ISO date string is a date. The two services answer a failed validation
//! differently:
//! - central-ledger (admin API) fails every route validation through its own `failAction`
//!   (src/shared/setup.js), which wraps the Joi error as 3101 whatever its type;
//! - central-settlement (v2; its routes are built from swagger.json by hapi-openapi and enjoi)
//!   leaves the Joi error to central-services-error-handling, which maps its type:
//!   `any.required` 3102; `string.*`, `date.format`, `number.integer` and `any.only` (a value
//!   outside an enumeration, mojaloop/project#2013) 3101; anything else 3100.
//!
//! Numbers are read exactly, as decimal digits, never through a float: [`JoiNumber`].

use ledger_core::time::Timestamp;

use crate::datetime::parse_fspiop_datetime;
use crate::{ErrorCode, FspiopError};

/// Whose validation a request goes through.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Service {
    /// central-ledger's admin API.
    Ledger,
    /// central-settlement's v2 API.
    Settlement,
}

/// The Joi error types the operator routes can raise.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum JoiError {
    /// `any.required`.
    Required,
    /// `string.base`.
    StringBase,
    /// `string.empty`.
    StringEmpty,
    /// `string.min`, `string.max`.
    StringLength,
    /// `string.pattern.base`, `string.alphanum`.
    StringPattern,
    /// `date.format`.
    DateFormat,
    /// `number.base`.
    NumberBase,
    /// `number.integer`.
    NumberInteger,
    /// `number.positive`, `number.min`.
    NumberRange,
    /// `number.unsafe`: beyond what a double holds exactly.
    NumberUnsafe,
    /// `boolean.base`.
    BooleanBase,
    /// `object.base`.
    ObjectBase,
    /// `object.unknown`.
    ObjectUnknown,
    /// `array.base`.
    ArrayBase,
    /// `array.min`.
    ArrayLength,
    /// `array.unique`.
    ArrayUnique,
    /// `any.only`: not one of the allowed values.
    AnyOnly,
}

impl Service {
    /// The FSPIOP error this service answers a Joi failure of this type with; `message` is Joi's
    /// text (e.g. `"name" is required`).
    pub fn refuse(self, kind: JoiError, message: impl AsRef<str>) -> FspiopError {
        use JoiError::*;
        let code = match (self, kind) {
            (Service::Ledger, _) => ErrorCode::MalformedSyntax,
            (Service::Settlement, Required) => ErrorCode::MissingElement,
            (
                Service::Settlement,
                StringBase | StringEmpty | StringLength | StringPattern | DateFormat | NumberInteger | AnyOnly,
            ) => ErrorCode::MalformedSyntax,
            (Service::Settlement, _) => ErrorCode::ValidationError,
        };
        FspiopError::with_detail(code, message)
    }
}

/// Most significant digits a double carries exactly; Joi refuses longer numeric strings as
/// `number.unsafe` (their digits would not survive the conversion).
pub const SAFE_DIGITS_MAX: usize = 15;
/// `Number.MAX_SAFE_INTEGER`: Joi refuses larger magnitudes as `number.unsafe`.
pub const SAFE_INTEGER_MAX: u64 = 9_007_199_254_740_991;
/// Fraction digits the operator amounts keep (`DECIMAL(18,4)`).
const SCALE: usize = 4;

/// A number as Joi reads it, kept as exact decimal digits: `int` and `frac` hold no sign, `int`
/// has no leading zeros (empty for zero), `frac` no trailing zeros.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct JoiNumber {
    negative: bool,
    int: String,
    frac: String,
}

/// Why a text is not a number Joi takes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum NumberProblem {
    /// Not a number at all (`number.base`).
    NotANumber,
    /// More digits or magnitude than a double holds exactly (`number.unsafe`).
    Unsafe,
}

impl JoiNumber {
    /// Joi's conversion of a string: `^\s*[+-]?(\d+(\.\d*)?|\.\d+)(e[+-]?\d+)?\s*$` (any case).
    pub fn parse_joi(text: &str) -> Result<JoiNumber, NumberProblem> {
        JoiNumber::parse_decimal(text.trim(), true).ok_or(NumberProblem::NotANumber)?.check_safe(true)
    }

    /// A JSON number's text (serde_json prints integers as digits and floats in their shortest
    /// form, possibly with an exponent).
    pub fn from_json(number: &serde_json::Number) -> Result<JoiNumber, NumberProblem> {
        JoiNumber::parse_decimal(&number.to_string(), true).ok_or(NumberProblem::NotANumber)?.check_safe(false)
    }

    /// JavaScript's `Number(text)`, which hapi-openapi applies to integer path and query
    /// parameters before Joi sees them: surrounding white space ignored, empty is 0, `0x`/`0o`/`0b`
    /// integers, decimals with an exponent; `None` for NaN and the infinities (Joi refuses both
    /// as `number.base`).
    pub fn parse_js(text: &str) -> Result<JoiNumber, NumberProblem> {
        let text = text.trim();
        if text.is_empty() {
            return Ok(JoiNumber::zero());
        }
        let radix = match text.get(..2).map(str::to_ascii_lowercase).as_deref() {
            Some("0x") => Some(16),
            Some("0o") => Some(8),
            Some("0b") => Some(2),
            _ => None,
        };
        let parsed = match radix {
            Some(radix) => {
                u128::from_str_radix(&text[2..], radix).ok().map(|it| JoiNumber::parse_decimal(&it.to_string(), false))
            }
            None => Some(JoiNumber::parse_decimal(text, true)),
        };
        parsed.flatten().ok_or(NumberProblem::NotANumber)?.check_safe(false)
    }

    fn zero() -> JoiNumber {
        JoiNumber { negative: false, int: String::new(), frac: String::new() }
    }

    /// `[+-]?(\d+(\.\d*)?|\.\d+)([eE][+-]?\d+)?`, shifted by its exponent into plain digits.
    fn parse_decimal(text: &str, signed: bool) -> Option<JoiNumber> {
        let (negative, unsigned) = match text.as_bytes().first() {
            Some(b'-') if signed => (true, &text[1..]),
            Some(b'+') if signed => (false, &text[1..]),
            _ => (false, text),
        };
        let (mantissa, exponent) = match unsigned.find(['e', 'E']) {
            Some(idx) => (&unsigned[..idx], parse_exponent(&unsigned[idx + 1..])?),
            None => (unsigned, 0),
        };
        let (int, frac) = mantissa.split_once('.').unwrap_or((mantissa, ""));
        let digits_only = |it: &str| it.bytes().all(|b| b.is_ascii_digit());
        if (int.is_empty() && frac.is_empty()) || !digits_only(int) || !digits_only(frac) {
            return None;
        }
        // Every digit with the decimal point after `point` of them.
        let digits = format!("{int}{frac}");
        let point = i64::try_from(int.len()).ok()? + exponent;
        let (int, frac) = match point {
            p if p <= 0 => (String::new(), format!("{}{digits}", "0".repeat(usize::try_from(-p).ok()?))),
            p if (p as usize) < digits.len() => (digits[..p as usize].to_string(), digits[p as usize..].to_string()),
            p => (format!("{digits}{}", "0".repeat(p as usize - digits.len())), String::new()),
        };
        let int = int.trim_start_matches('0').to_string();
        let frac = frac.trim_end_matches('0').to_string();
        let is_zero = int.is_empty() && frac.is_empty();
        Some(JoiNumber { negative: negative && !is_zero, int, frac })
    }

    /// Joi's `number.unsafe`: a magnitude beyond 2^53 - 1, or (for a converted string) decimals
    /// with more significant digits than a double keeps, whose digits would change.
    fn check_safe(self, from_text: bool) -> Result<JoiNumber, NumberProblem> {
        let too_big = SAFE_INTEGER_MAX.to_string().len() < self.int.len()
            || self.int.parse::<u64>().is_ok_and(|it| SAFE_INTEGER_MAX < it);
        let significant = format!("{}{}", self.int, self.frac);
        let n_significant = significant.trim_start_matches('0').len();
        let too_precise = from_text && !self.is_integer() && SAFE_DIGITS_MAX < n_significant;
        match too_big || too_precise {
            true => Err(NumberProblem::Unsafe),
            false => Ok(self),
        }
    }

    pub fn is_negative(&self) -> bool {
        self.negative
    }

    pub fn is_zero(&self) -> bool {
        self.int.is_empty() && self.frac.is_empty()
    }

    pub fn is_integer(&self) -> bool {
        self.frac.is_empty()
    }

    /// The value when it is an integer (always within `i64`: safe numbers are below 2^53).
    pub fn to_integer(&self) -> Option<i64> {
        if !self.is_integer() {
            return None;
        }
        let magnitude: i64 = if self.int.is_empty() { 0 } else { self.int.parse().ok()? };
        Some(if self.negative { -magnitude } else { magnitude })
    }

    /// The value rounded to four decimals, half away from zero: what Joi's `precision(4)` and a
    /// `DECIMAL(18,4)` column both do with more digits. Plain decimal text, `-` when negative.
    pub fn rounded_text(&self) -> String {
        let mut digits: Vec<u8> = format!("{}{:0<width$}", self.int, self.frac, width = SCALE).into_bytes();
        let cut = self.int.len() + SCALE;
        let round_up = digits.get(cut).is_some_and(|it| b'5' <= *it);
        digits.truncate(cut);
        if round_up {
            increment(&mut digits);
        }
        let text = String::from_utf8(digits).expect("digits are ASCII");
        let (int, frac) = text.split_at(text.len() - SCALE);
        let int = match int.trim_start_matches('0') {
            "" => "0",
            it => it,
        };
        let frac = frac.trim_end_matches('0');
        let sign = if self.negative && (int != "0" || !frac.is_empty()) { "-" } else { "" };
        match frac.is_empty() {
            true => format!("{sign}{int}"),
            false => format!("{sign}{int}.{frac}"),
        }
    }
}

fn parse_exponent(text: &str) -> Option<i64> {
    let digits = text.strip_prefix(['+', '-']).unwrap_or(text);
    if digits.is_empty() || !digits.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    // Beyond this the number is zero or infinite for a double; neither is worth the digits.
    let exponent: i64 = digits.parse().ok().filter(|it: &i64| *it <= 400)?;
    Some(if text.starts_with('-') { -exponent } else { exponent })
}

/// Adds one to a string of decimal digits, growing it on overflow.
fn increment(digits: &mut Vec<u8>) {
    for digit in digits.iter_mut().rev() {
        if *digit == b'9' {
            *digit = b'0';
            continue;
        }
        *digit += 1;
        return;
    }
    digits.insert(0, b'1');
}

/// Joi's boolean conversion: `true`/`false` as JSON or as strings in any case.
pub fn boolean(value: &serde_json::Value) -> Option<bool> {
    match value {
        serde_json::Value::Bool(it) => Some(*it),
        serde_json::Value::String(text) if text.eq_ignore_ascii_case("true") => Some(true),
        serde_json::Value::String(text) if text.eq_ignore_ascii_case("false") => Some(false),
        _ => None,
    }
}

/// Joi's `date().iso()` for the query filters: `YYYY-MM-DD`, optionally followed by `T` (or a
/// space) and `HH:MM`, seconds, a fraction (milliseconds kept) and `Z` or an offset (`+HH`,
/// `+HHMM`, `+HH:MM`). A time without a zone is taken as UTC, the zone central-settlement runs
/// in. Narrower than Joi's pattern (no week or ordinal dates, no year outside 1000 to 9999).
pub fn iso_date(text: &str) -> Option<Timestamp> {
    let date = text.get(..10)?;
    let rest = &text[10..];
    if rest.is_empty() {
        return parse_fspiop_datetime(&format!("{date}T00:00:00.000Z"));
    }
    let rest = rest.strip_prefix(['T', 't', ' '])?;
    let (time, zone) = match rest.find(['Z', 'z', '+', '-']) {
        Some(idx) => rest.split_at(idx),
        None => (rest, ""),
    };
    let zone = match zone {
        "" | "Z" | "z" => "Z".to_string(),
        _ => {
            let digits: String = zone[1..].chars().filter(|it| *it != ':').collect();
            match digits.len() {
                2 => format!("{}{digits}:00", &zone[..1]),
                4 => format!("{}{}:{}", &zone[..1], &digits[..2], &digits[2..]),
                _ => return None,
            }
        }
    };
    let (clock, fraction) = match time.split_once(['.', ',']) {
        Some((clock, fraction)) if !fraction.is_empty() && fraction.bytes().all(|it| it.is_ascii_digit()) => {
            (clock, fraction)
        }
        Some(_) => return None,
        None => (time, ""),
    };
    let clock = match clock.len() {
        5 => format!("{clock}:00"),
        8 => clock.to_string(),
        _ => return None,
    };
    let millis = format!("{:0<3}", &fraction[..fraction.len().min(3)]);
    parse_fspiop_datetime(&format!("{date}T{clock}.{millis}{zone}"))
}

/// Joi's message for a value outside `valid(...)`: `must be [A]` for one value, `must be one of
/// [A, B]` for more.
pub fn only_message(label: &str, allowed: &[&str]) -> String {
    match allowed {
        [one] => format!("\"{label}\" must be [{one}]"),
        _ => format!("\"{label}\" must be one of [{}]", allowed.join(", ")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn joi(text: &str) -> Result<String, NumberProblem> {
        JoiNumber::parse_joi(text).map(|it| it.rounded_text())
    }

    #[test]
    fn numeric_strings_convert_as_joi_converts_them() {
        let cases = [
            ("100", Ok("100")),
            (" 42 ", Ok("42")),
            ("+7", Ok("7")),
            ("-0", Ok("0")),
            ("1.", Ok("1")),
            (".5", Ok("0.5")),
            ("1e3", Ok("1000")),
            ("1.5E-2", Ok("0.015")),
            ("10.12345", Ok("10.1235")),
            ("0.00004", Ok("0")),
            ("-2.00005", Ok("-2.0001")),
            ("9999.99995", Ok("10000")),
            ("007", Ok("7")),
            ("", Err(NumberProblem::NotANumber)),
            ("abc", Err(NumberProblem::NotANumber)),
            ("1,5", Err(NumberProblem::NotANumber)),
            ("0x10", Err(NumberProblem::NotANumber)),
            ("1e", Err(NumberProblem::NotANumber)),
            ("--1", Err(NumberProblem::NotANumber)),
            ("9007199254740991", Ok("9007199254740991")),
            ("9007199254740992", Err(NumberProblem::Unsafe)),
            ("0.1234567890123456", Err(NumberProblem::Unsafe)),
        ];
        for (text, expected) in cases {
            assert_eq!(joi(text), expected.map(str::to_string), "{text:?}");
        }
    }

    #[test]
    fn javascript_number_reads_path_parameters() {
        let cases = [
            ("12", Some(12)),
            (" 3 ", Some(3)),
            ("", Some(0)),
            ("0x1A", Some(26)),
            ("0b11", Some(3)),
            ("-4", Some(-4)),
            ("1e2", Some(100)),
        ];
        for (text, expected) in cases {
            assert_eq!(JoiNumber::parse_js(text).ok().and_then(|it| it.to_integer()), expected, "{text:?}");
        }
        assert!(JoiNumber::parse_js("1.5").unwrap().to_integer().is_none());
        assert_eq!(JoiNumber::parse_js("abc"), Err(NumberProblem::NotANumber));
        assert_eq!(JoiNumber::parse_js("Infinity"), Err(NumberProblem::NotANumber));
        assert_eq!(JoiNumber::parse_js("-0x10"), Err(NumberProblem::NotANumber));
    }

    #[test]
    fn json_numbers_are_read_from_their_digits() {
        let number = |text: &str| serde_json::from_str::<serde_json::Number>(text).unwrap();
        assert_eq!(JoiNumber::from_json(&number("5000.5")).unwrap().rounded_text(), "5000.5");
        assert_eq!(JoiNumber::from_json(&number("1e21")), Err(NumberProblem::Unsafe));
        assert_eq!(JoiNumber::from_json(&number("-3")).unwrap().to_integer(), Some(-3));
    }

    #[test]
    fn each_service_codes_joi_failures_its_own_way() {
        let code = |service: Service, kind| service.refuse(kind, "m").code().number();
        for kind in [
            JoiError::Required,
            JoiError::NumberBase,
            JoiError::AnyOnly,
            JoiError::ObjectUnknown,
            JoiError::StringEmpty,
        ] {
            assert_eq!(code(Service::Ledger, kind), 3101, "{kind:?}");
        }
        assert_eq!(code(Service::Settlement, JoiError::Required), 3102);
        assert_eq!(code(Service::Settlement, JoiError::StringBase), 3101);
        assert_eq!(code(Service::Settlement, JoiError::DateFormat), 3101);
        assert_eq!(code(Service::Settlement, JoiError::NumberInteger), 3101);
        assert_eq!(code(Service::Settlement, JoiError::AnyOnly), 3101);
        for kind in [
            JoiError::NumberBase,
            JoiError::NumberUnsafe,
            JoiError::ObjectUnknown,
            JoiError::ArrayUnique,
            JoiError::BooleanBase,
        ] {
            assert_eq!(code(Service::Settlement, kind), 3100, "{kind:?}");
        }
    }

    #[test]
    fn query_dates_take_the_iso_forms_operators_write() {
        let at = |text: &str| iso_date(text).map(crate::datetime::format_fspiop_datetime);
        assert_eq!(at("2017-07-20"), Some("2017-07-20T00:00:00.000Z".to_string()));
        assert_eq!(at("2017-07-20T17:32:28Z"), Some("2017-07-20T17:32:28.000Z".to_string()));
        assert_eq!(at("2017-07-20T17:32Z"), Some("2017-07-20T17:32:00.000Z".to_string()));
        assert_eq!(at("2017-07-20T17:32:28.123456+02:00"), Some("2017-07-20T15:32:28.123Z".to_string()));
        assert_eq!(at("2017-07-20 17:32:28.5-0130"), Some("2017-07-20T19:02:28.500Z".to_string()));
        assert_eq!(at("2017-07-20T17:32:28"), Some("2017-07-20T17:32:28.000Z".to_string()));
        for bad in [
            "",
            "yesterday",
            "2017-13-01",
            "2017-07-20T25:00:00Z",
            "2017-07-20T17:32:28.Z",
            "2017-07-20T17",
            "20170720",
        ] {
            assert_eq!(at(bad), None, "{bad:?}");
        }
    }

    #[test]
    fn booleans_convert_from_strings_in_any_case() {
        use serde_json::json;
        assert_eq!(boolean(&json!(true)), Some(true));
        assert_eq!(boolean(&json!("FALSE")), Some(false));
        assert_eq!(boolean(&json!("True")), Some(true));
        assert_eq!(boolean(&json!(1)), None);
        assert_eq!(boolean(&json!("yes")), None);
        assert_eq!(boolean(&json!(null)), None);
    }
}
