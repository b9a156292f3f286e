//! The two wire time formats: the FSPIOP `DateTime` (ISO 8601 with exactly three fractional
//! digits) and the HTTP `Date` header (RFC 1123, always GMT).
//!
//! Both are parsed by hand against fixed byte positions. The schema's `DateTime` regex already
//! spells out a complete calendar check, so a positional parser with the same rules is exact,
//! total and much cheaper than a regex engine. The calendar arithmetic is Howard Hinnant's
//! `days_from_civil` / `civil_from_days`, which is exact for every `i64` day count, so printing
//! never fails whatever `Timestamp` it is given.

use ledger_core::time::Timestamp;

const MS_PER_SECOND: i64 = 1_000;
const MS_PER_MINUTE: i64 = 60 * MS_PER_SECOND;
const MS_PER_HOUR: i64 = 60 * MS_PER_MINUTE;
const MS_PER_DAY: i64 = 24 * MS_PER_HOUR;

/// Length of `2016-05-24T08:38:08.699Z`.
const DATETIME_UTC_LENGTH: usize = 24;
/// Length of `2016-05-24T08:38:08.699-04:00`.
const DATETIME_OFFSET_LENGTH: usize = 29;
/// Length of `Sun, 06 Nov 1994 08:49:37 GMT`.
const HTTP_DATE_LENGTH: usize = 29;

/// The schema's pattern allows offsets `[+-][01]\d:[0-5]\d`, i.e. at most 19:59.
const OFFSET_HOURS_MAX: u32 = 19;
/// Years `[1-9]\d{3}` in the FSPIOP pattern.
const FSPIOP_YEAR_MIN: i64 = 1_000;
const FSPIOP_YEAR_MAX: i64 = 9_999;

const WEEKDAYS: [&str; 7] = ["Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat"];
const MONTHS: [&str; 12] = ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"];

/// The FSPIOP `DateTime` pattern, as the schema writes it (quoted in validation messages).
pub const DATETIME_PATTERN: &str = r"^(?:[1-9]\d{3}-(?:(?:0[1-9]|1[0-2])-(?:0[1-9]|1\d|2[0-8])|(?:0[13-9]|1[0-2])-(?:29|30)|(?:0[13578]|1[02])-31)|(?:[1-9]\d(?:0[48]|[2468][048]|[13579][26])|(?:[2468][048]|[13579][26])00)-02-29)T(?:[01]\d|2[0-3]):[0-5]\d:[0-5]\d(?:(\.\d{3}))(?:Z|[+-][01]\d:[0-5]\d)$";

/// Parses an FSPIOP `DateTime` exactly as [`DATETIME_PATTERN`] accepts it: a real calendar date
/// in years 1000–9999, `HH:MM:SS.mmm` with hours 00–23 (no leap second), then `Z` or `±hh:mm`.
pub fn parse_fspiop_datetime(text: &str) -> Option<Timestamp> {
    let bytes = text.as_bytes();
    let offset_ms = match bytes.len() {
        DATETIME_UTC_LENGTH if bytes[23] == b'Z' => 0,
        DATETIME_OFFSET_LENGTH => parse_offset_ms(&bytes[23..])?,
        _ => return None,
    };
    let separators = [(4, b'-'), (7, b'-'), (10, b'T'), (13, b':'), (16, b':'), (19, b'.')];
    if separators.iter().any(|(idx, byte)| bytes[*idx] != *byte) {
        return None;
    }
    let year = i64::from(digits(&bytes[0..4])?);
    if !(FSPIOP_YEAR_MIN..=FSPIOP_YEAR_MAX).contains(&year) {
        return None;
    }
    let date = civil_date(year, digits(&bytes[5..7])?, digits(&bytes[8..10])?)?;
    let time = time_of_day_ms(&bytes[11..19])?;
    let millis = i64::from(digits(&bytes[20..23])?);
    Some(Timestamp::from_unix_ms(date * MS_PER_DAY + time + millis - offset_ms))
}

/// Prints `YYYY-MM-DDTHH:MM:SS.mmmZ`, exactly as JavaScript's `Date.prototype.toISOString`
/// (years outside 0000–9999 get its six-digit signed form, e.g. `+010000`).
pub fn format_fspiop_datetime(at: Timestamp) -> String {
    let ms = at.unix_ms();
    let (year, month, day) = civil_from_days(ms.div_euclid(MS_PER_DAY));
    let (hour, minute, second, millis) = split_time_of_day(ms.rem_euclid(MS_PER_DAY));
    let year = if (0..=9_999).contains(&year) {
        format!("{year:04}")
    } else {
        let sign = if year < 0 { '-' } else { '+' };
        format!("{sign}{:06}", year.unsigned_abs())
    };
    format!("{year}-{month:02}-{day:02}T{hour:02}:{minute:02}:{second:02}.{millis:03}Z")
}

/// Parses an HTTP `Date` header the way Mojaloop's Joi rule `ddd, DD MMM YYYY HH:mm:ss [GMT]`
/// does in moment's strict mode: fixed widths, English day and month names (any case), the
/// literal `GMT`, a real date, and a weekday that matches the date.
pub fn parse_http_date(text: &str) -> Option<Timestamp> {
    let bytes = text.as_bytes();
    if bytes.len() != HTTP_DATE_LENGTH || !text.is_ascii() {
        return None;
    }
    let literals = [(3, ", "), (7, " "), (11, " "), (16, " "), (19, ":"), (22, ":"), (25, " GMT")];
    if literals.iter().any(|(idx, literal)| !text[*idx..].starts_with(literal)) {
        return None;
    }
    let weekday = name_index(&WEEKDAYS, &text[0..3])?;
    let month = name_index(&MONTHS, &text[8..11])? + 1;
    let year = i64::from(digits(&bytes[12..16])?);
    let days = civil_date(year, month as u32, digits(&bytes[5..7])?)?;
    if weekday_of(days) != weekday {
        return None;
    }
    let time = time_of_day_ms(&bytes[17..25])?;
    Some(Timestamp::from_unix_ms(days * MS_PER_DAY + time))
}

/// Prints the RFC 1123 form JavaScript's `Date.prototype.toUTCString` gives, e.g.
/// `Sun, 06 Nov 1994 08:49:37 GMT`; milliseconds are dropped.
pub fn format_http_date(at: Timestamp) -> String {
    let ms = at.unix_ms();
    let days = ms.div_euclid(MS_PER_DAY);
    let (year, month, day) = civil_from_days(days);
    let (hour, minute, second, _) = split_time_of_day(ms.rem_euclid(MS_PER_DAY));
    let weekday = WEEKDAYS[weekday_of(days)];
    let month = MONTHS[month as usize - 1];
    // JavaScript pads the year to four digits and signs it only when negative.
    let year = if year < 0 { format!("-{:04}", year.unsigned_abs()) } else { format!("{year:04}") };
    format!("{weekday}, {day:02} {month} {year} {hour:02}:{minute:02}:{second:02} GMT")
}

/// `±hh:mm` with hours 00–19 and minutes 00–59, as milliseconds east of UTC.
fn parse_offset_ms(bytes: &[u8]) -> Option<i64> {
    let sign = match bytes[0] {
        b'+' => 1,
        b'-' => -1,
        _ => return None,
    };
    if bytes[3] != b':' {
        return None;
    }
    let hours = digits(&bytes[1..3])?;
    let minutes = digits(&bytes[4..6])?;
    if OFFSET_HOURS_MAX < hours || 59 < minutes {
        return None;
    }
    Some(sign * (i64::from(hours) * MS_PER_HOUR + i64::from(minutes) * MS_PER_MINUTE))
}

/// `HH:MM:SS` with hours 00–23, minutes and seconds 00–59, as milliseconds into the day.
fn time_of_day_ms(bytes: &[u8]) -> Option<i64> {
    if bytes[2] != b':' || bytes[5] != b':' {
        return None;
    }
    let hour = digits(&bytes[0..2])?;
    let minute = digits(&bytes[3..5])?;
    let second = digits(&bytes[6..8])?;
    if 23 < hour || 59 < minute || 59 < second {
        return None;
    }
    Some(i64::from(hour) * MS_PER_HOUR + i64::from(minute) * MS_PER_MINUTE + i64::from(second) * MS_PER_SECOND)
}

fn split_time_of_day(ms_of_day: i64) -> (i64, i64, i64, i64) {
    let hour = ms_of_day / MS_PER_HOUR;
    let minute = ms_of_day % MS_PER_HOUR / MS_PER_MINUTE;
    let second = ms_of_day % MS_PER_MINUTE / MS_PER_SECOND;
    (hour, minute, second, ms_of_day % MS_PER_SECOND)
}

/// ASCII digits only (a JavaScript `\d`), at most four of them.
fn digits(bytes: &[u8]) -> Option<u32> {
    if bytes.is_empty() || !bytes.iter().all(u8::is_ascii_digit) {
        return None;
    }
    Some(bytes.iter().fold(0, |acc, byte| acc * 10 + u32::from(byte - b'0')))
}

fn name_index(names: &[&str], text: &str) -> Option<usize> {
    names.iter().position(|name| name.eq_ignore_ascii_case(text))
}

/// Days since 1970-01-01 of a real Gregorian date, or `None` for e.g. 31 April or 29 February
/// of a common year.
fn civil_date(year: i64, month: u32, day: u32) -> Option<i64> {
    if !(1..=12).contains(&month) || day == 0 || days_in_month(year, month) < day {
        return None;
    }
    Some(days_from_civil(year, month, day))
}

fn days_in_month(year: i64, month: u32) -> u32 {
    match month {
        2 if is_leap_year(year) => 29,
        2 => 28,
        4 | 6 | 9 | 11 => 30,
        _ => 31,
    }
}

fn is_leap_year(year: i64) -> bool {
    year % 4 == 0 && (year % 100 != 0 || year % 400 == 0)
}

/// 0 is Sunday; 1970-01-01 was a Thursday.
fn weekday_of(days: i64) -> usize {
    (days + 4).rem_euclid(7) as usize
}

fn days_from_civil(year: i64, month: u32, day: u32) -> i64 {
    let year = if month <= 2 { year - 1 } else { year };
    let era = year.div_euclid(400);
    let year_of_era = year - era * 400;
    let month_from_march = i64::from((month + 9) % 12);
    let day_of_year = (153 * month_from_march + 2) / 5 + i64::from(day) - 1;
    let day_of_era = year_of_era * 365 + year_of_era / 4 - year_of_era / 100 + day_of_year;
    era * 146_097 + day_of_era - 719_468
}

fn civil_from_days(days: i64) -> (i64, u32, u32) {
    let shifted = days + 719_468;
    let era = shifted.div_euclid(146_097);
    let day_of_era = shifted - era * 146_097;
    let year_of_era = (day_of_era - day_of_era / 1_460 + day_of_era / 36_524 - day_of_era / 146_096) / 365;
    let day_of_year = day_of_era - (365 * year_of_era + year_of_era / 4 - year_of_era / 100);
    let month_from_march = (5 * day_of_year + 2) / 153;
    let day = (day_of_year - (153 * month_from_march + 2) / 5 + 1) as u32;
    let month = if month_from_march < 10 { month_from_march + 3 } else { month_from_march - 9 } as u32;
    let year = year_of_era + era * 400 + i64::from(month <= 2);
    (year, month, day)
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    /// Milliseconds of 2016-05-24T08:38:08.699Z.
    const SPEC_EXAMPLE_MS: i64 = 1_464_079_088_699;

    #[test]
    fn fspiop_datetimes_follow_the_schema_pattern() {
        let accepted = [
            ("2016-05-24T08:38:08.699Z", SPEC_EXAMPLE_MS),
            ("2016-05-24T08:38:08.699-04:00", SPEC_EXAMPLE_MS + 4 * MS_PER_HOUR),
            ("2016-05-24T08:38:08.699+19:59", SPEC_EXAMPLE_MS - 19 * MS_PER_HOUR - 59 * MS_PER_MINUTE),
            ("2000-02-29T00:00:00.000Z", 951_782_400_000),
            ("2024-02-29T23:59:59.999Z", 1_709_251_199_999),
            ("1000-01-01T00:00:00.000Z", -30_610_224_000_000),
            ("9999-12-31T23:59:59.999Z", 253_402_300_799_999),
        ];
        for (text, ms) in accepted {
            assert_eq!(parse_fspiop_datetime(text).map(Timestamp::unix_ms), Some(ms), "{text}");
        }
        let rejected = [
            "2016-05-24T08:38:08Z",
            "2016-05-24T08:38:08.69Z",
            "2016-05-24T08:38:08.6999Z",
            "2016-05-24T08:38:08.699",
            "2016-05-24T08:38:08.699z",
            "2016-05-24 08:38:08.699Z",
            "2016-05-24T08:38:08.699+20:00",
            "2016-05-24T08:38:08.699+04:60",
            "2016-05-24T08:38:08.699+0400",
            "2016-05-24T24:00:00.000Z",
            "2016-05-24T08:60:00.000Z",
            "2016-05-24T08:38:60.000Z",
            "2016-13-24T08:38:08.699Z",
            "2016-00-24T08:38:08.699Z",
            "2016-04-31T08:38:08.699Z",
            "1900-02-29T08:38:08.699Z",
            "2023-02-29T08:38:08.699Z",
            "0999-05-24T08:38:08.699Z",
            "+2016-05-24T08:38:08.699Z",
            "２016-05-24T08:38:08.699Z",
            "",
        ];
        for text in rejected {
            assert_eq!(parse_fspiop_datetime(text), None, "{text}");
        }
    }

    #[test]
    fn printing_matches_javascript_date_methods() {
        // Expected strings printed by Node 20's toISOString() and toUTCString().
        let cases = [
            (0, "1970-01-01T00:00:00.000Z", "Thu, 01 Jan 1970 00:00:00 GMT"),
            (-1, "1969-12-31T23:59:59.999Z", "Wed, 31 Dec 1969 23:59:59 GMT"),
            (1_465_000_000_123, "2016-06-04T00:26:40.123Z", "Sat, 04 Jun 2016 00:26:40 GMT"),
            (253_402_300_799_999, "9999-12-31T23:59:59.999Z", "Fri, 31 Dec 9999 23:59:59 GMT"),
            (253_402_300_800_000, "+010000-01-01T00:00:00.000Z", "Sat, 01 Jan 10000 00:00:00 GMT"),
            (-62_167_219_200_001, "-000001-12-31T23:59:59.999Z", "Fri, 31 Dec -0001 23:59:59 GMT"),
            (8_640_000_000_000_000, "+275760-09-13T00:00:00.000Z", "Sat, 13 Sep 275760 00:00:00 GMT"),
        ];
        for (ms, iso, http) in cases {
            let at = Timestamp::from_unix_ms(ms);
            assert_eq!(format_fspiop_datetime(at), iso);
            assert_eq!(format_http_date(at), http);
        }
    }

    #[test]
    fn http_dates_need_the_right_weekday_and_literal_gmt() {
        assert_eq!(parse_http_date("Sun, 06 Nov 1994 08:49:37 GMT").map(Timestamp::unix_ms), Some(784_111_777_000));
        assert_eq!(parse_http_date("SUN, 06 NOV 1994 08:49:37 GMT").map(Timestamp::unix_ms), Some(784_111_777_000));
        assert_eq!(parse_http_date("Mon, 06 Nov 1994 08:49:37 GMT"), None);
        assert_eq!(parse_http_date("Sun, 06 Nov 1994 08:49:37 gmt"), None);
        assert_eq!(parse_http_date("Sunday, 06-Nov-94 08:49:37 GMT"), None);
        assert_eq!(parse_http_date("Thu, 29 Feb 2024 00:00:00 GMT").map(Timestamp::unix_ms), Some(1_709_164_800_000));
        assert_eq!(parse_http_date("Thu, 29 Feb 2023 00:00:00 GMT"), None);
    }

    #[test]
    fn every_date_cut_is_rejected_rather_than_misread() {
        let full = "2016-05-24T08:38:08.699-04:00";
        for end in 0..full.len() {
            assert_eq!(parse_fspiop_datetime(&full[..end]), None, "{}", &full[..end]);
        }
    }

    proptest! {
        #[test]
        fn fspiop_datetimes_round_trip(ms in -30_610_224_000_000_i64..=253_402_300_799_999) {
            let at = Timestamp::from_unix_ms(ms);
            prop_assert_eq!(parse_fspiop_datetime(&format_fspiop_datetime(at)), Some(at));
        }

        #[test]
        fn calendar_arithmetic_agrees_with_chrono(days in -95_000_000_i64..95_000_000) {
            use chrono::Datelike;
            let epoch = chrono::NaiveDate::from_ymd_opt(1970, 1, 1).unwrap();
            let date = if days < 0 { epoch - chrono::Days::new(days.unsigned_abs()) } else { epoch + chrono::Days::new(days as u64) };
            let expected = (i64::from(date.year()), date.month(), date.day());
            prop_assert_eq!(civil_from_days(days), expected);
            prop_assert_eq!(days_from_civil(expected.0, expected.1, expected.2), days);
            prop_assert_eq!(weekday_of(days), date.weekday().num_days_from_sunday() as usize);
        }

        #[test]
        fn printing_agrees_with_chrono_for_four_digit_years(ms in -62_167_219_200_000_i64..=253_402_300_799_999) {
            let expected = chrono::DateTime::from_timestamp_millis(ms).unwrap();
            let at = Timestamp::from_unix_ms(ms);
            prop_assert_eq!(format_fspiop_datetime(at), expected.format("%Y-%m-%dT%H:%M:%S%.3fZ").to_string());
            prop_assert_eq!(format_http_date(at), expected.format("%a, %d %b %Y %H:%M:%S GMT").to_string());
        }

        #[test]
        fn http_dates_round_trip_at_second_precision(seconds in -30_610_224_000_i64..=253_402_300_799) {
            let at = Timestamp::from_unix_ms(seconds * MS_PER_SECOND);
            prop_assert_eq!(parse_http_date(&format_http_date(at)), Some(at));
        }

        #[test]
        fn parsers_never_panic(text in "\\PC{0,40}") {
            let _ = parse_fspiop_datetime(&text);
            let _ = parse_http_date(&text);
        }

        #[test]
        fn printing_never_panics(ms in any::<i64>()) {
            prop_assert!(format_fspiop_datetime(Timestamp::from_unix_ms(ms)).ends_with('Z'));
            prop_assert!(format_http_date(Timestamp::from_unix_ms(ms)).ends_with(" GMT"));
        }
    }
}
