//! ISO 4217 currencies, as the FSPIOP `Currency` enumeration lists them, with their minor units.

use std::fmt;

/// A currency the switch knows: three upper-case letters from the ISO 4217 table.
#[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Currency([u8; 3]);

/// The ISO 4217 codes with their minor units (the currency's scale).
///
/// `XXX` and `XTS` are ISO's "no currency" and "testing" codes; Mojaloop test environments use
/// them, so they get the full ledger scale.
const CURRENCIES: &[(&str, u8)] = &[
    ("AED", 2),
    ("AFN", 2),
    ("ALL", 2),
    ("AMD", 2),
    ("ANG", 2),
    ("AOA", 2),
    ("ARS", 2),
    ("AUD", 2),
    ("AWG", 2),
    ("AZN", 2),
    ("BAM", 2),
    ("BBD", 2),
    ("BDT", 2),
    ("BGN", 2),
    ("BHD", 3),
    ("BIF", 0),
    ("BMD", 2),
    ("BND", 2),
    ("BOB", 2),
    ("BRL", 2),
    ("BSD", 2),
    ("BTN", 2),
    ("BWP", 2),
    ("BYN", 2),
    ("BZD", 2),
    ("CAD", 2),
    ("CDF", 2),
    ("CHF", 2),
    ("CLP", 0),
    ("CNY", 2),
    ("COP", 2),
    ("CRC", 2),
    ("CUC", 2),
    ("CUP", 2),
    ("CVE", 2),
    ("CZK", 2),
    ("DJF", 0),
    ("DKK", 2),
    ("DOP", 2),
    ("DZD", 2),
    ("EGP", 2),
    ("ERN", 2),
    ("ETB", 2),
    ("EUR", 2),
    ("FJD", 2),
    ("FKP", 2),
    ("GBP", 2),
    ("GEL", 2),
    ("GGP", 2),
    ("GHS", 2),
    ("GIP", 2),
    ("GMD", 2),
    ("GNF", 0),
    ("GTQ", 2),
    ("GYD", 2),
    ("HKD", 2),
    ("HNL", 2),
    ("HRK", 2),
    ("HTG", 2),
    ("HUF", 2),
    ("IDR", 2),
    ("ILS", 2),
    ("IMP", 2),
    ("INR", 2),
    ("IQD", 3),
    ("IRR", 2),
    ("ISK", 0),
    ("JEP", 2),
    ("JMD", 2),
    ("JOD", 3),
    ("JPY", 0),
    ("KES", 2),
    ("KGS", 2),
    ("KHR", 2),
    ("KMF", 0),
    ("KPW", 2),
    ("KRW", 0),
    ("KWD", 3),
    ("KYD", 2),
    ("KZT", 2),
    ("LAK", 2),
    ("LBP", 2),
    ("LKR", 2),
    ("LRD", 2),
    ("LSL", 2),
    ("LYD", 3),
    ("MAD", 2),
    ("MDL", 2),
    ("MGA", 2),
    ("MKD", 2),
    ("MMK", 2),
    ("MNT", 2),
    ("MOP", 2),
    ("MRO", 2),
    ("MUR", 2),
    ("MVR", 2),
    ("MWK", 2),
    ("MXN", 2),
    ("MYR", 2),
    ("MZN", 2),
    ("NAD", 2),
    ("NGN", 2),
    ("NIO", 2),
    ("NOK", 2),
    ("NPR", 2),
    ("NZD", 2),
    ("OMR", 3),
    ("PAB", 2),
    ("PEN", 2),
    ("PGK", 2),
    ("PHP", 2),
    ("PKR", 2),
    ("PLN", 2),
    ("PYG", 0),
    ("QAR", 2),
    ("RON", 2),
    ("RSD", 2),
    ("RUB", 2),
    ("RWF", 0),
    ("SAR", 2),
    ("SBD", 2),
    ("SCR", 2),
    ("SDG", 2),
    ("SEK", 2),
    ("SGD", 2),
    ("SHP", 2),
    ("SLL", 2),
    ("SOS", 2),
    ("SPL", 4),
    ("SRD", 2),
    ("STD", 2),
    ("SVC", 2),
    ("SYP", 2),
    ("SZL", 2),
    ("THB", 2),
    ("TJS", 2),
    ("TMT", 2),
    ("TND", 3),
    ("TOP", 2),
    ("TRY", 2),
    ("TTD", 2),
    ("TVD", 2),
    ("TWD", 2),
    ("TZS", 2),
    ("UAH", 2),
    ("UGX", 0),
    ("USD", 2),
    ("UYU", 2),
    ("UZS", 2),
    ("VEF", 2),
    ("VND", 0),
    ("VUV", 0),
    ("WST", 2),
    ("XAF", 0),
    ("XCD", 2),
    ("XDR", 4),
    ("XOF", 0),
    ("XPF", 0),
    ("XTS", 4),
    ("XXX", 4),
    ("YER", 2),
    ("ZAR", 2),
    ("ZMW", 2),
    ("ZWD", 2),
];

impl Currency {
    /// Parses a code from the ISO 4217 table; anything else is rejected.
    pub fn parse(code: &str) -> Option<Currency> {
        let idx = CURRENCIES.binary_search_by(|(it, _)| (*it).cmp(code)).ok()?;
        let bytes = CURRENCIES[idx].0.as_bytes();
        Some(Currency([bytes[0], bytes[1], bytes[2]]))
    }

    pub fn code(&self) -> &str {
        // The bytes come from the static ASCII table above.
        std::str::from_utf8(&self.0).expect("currency codes are ASCII")
    }

    /// ISO 4217 minor units: how many decimals the currency's smallest unit has.
    pub fn scale(&self) -> u8 {
        let idx = CURRENCIES.binary_search_by(|(it, _)| (*it).cmp(self.code()));
        CURRENCIES[idx.expect("a Currency is always in the table")].1
    }
}

impl fmt::Display for Currency {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.code())
    }
}

impl fmt::Debug for Currency {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Currency({})", self.code())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn table_is_sorted_so_lookup_works() {
        assert!(CURRENCIES.windows(2).all(|w| w[0].0 < w[1].0));
        assert!(CURRENCIES.iter().all(|(code, scale)| code.len() == 3 && *scale <= 4));
    }

    #[test]
    fn codes_parse_with_their_scale() {
        assert_eq!(Currency::parse("USD").map(|c| c.scale()), Some(2));
        assert_eq!(Currency::parse("JPY").map(|c| c.scale()), Some(0));
        assert_eq!(Currency::parse("KWD").map(|c| c.scale()), Some(3));
        assert_eq!(Currency::parse("XXX").map(|c| c.code().to_string()), Some("XXX".to_string()));
        assert_eq!(Currency::parse("usd"), None);
        assert_eq!(Currency::parse("ABC"), None);
        assert_eq!(Currency::parse(""), None);
    }
}
