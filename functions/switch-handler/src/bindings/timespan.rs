//! .NET `TimeSpan` text (`[d.]hh:mm:ss[.fffffff]`), the format of every interval in host.json and
//! function.json (`functionTimeout`, retry intervals, `maxWaitTime`).

use std::time::Duration;

/// Seven fractional digits: .NET ticks are 100 ns.
const FRACTION_DIGITS_MAX: usize = 7;

/// Parses a non-negative `TimeSpan`, or `None` if the text is not one.
pub fn parse_timespan(text: &str) -> Option<Duration> {
    let (days, clock) = match text.split_once(':') {
        Some((head, _)) if head.contains('.') => {
            let (days, _) = head.split_once('.')?;
            (digits(days)?, &text[days.len() + 1..])
        }
        _ => (0, text),
    };
    let mut parts = clock.splitn(3, ':');
    let hours = digits(parts.next()?)?;
    let minutes = digits(parts.next()?)?;
    let (seconds, nanos) = seconds_and_nanos(parts.next()?)?;
    if hours > 23 || minutes > 59 || seconds > 59 {
        return None;
    }
    let whole = ((days * 24 + hours) * 60 + minutes) * 60 + seconds;
    Some(Duration::new(whole, nanos))
}

fn seconds_and_nanos(text: &str) -> Option<(u64, u32)> {
    let Some((seconds, fraction)) = text.split_once('.') else {
        return Some((digits(text)?, 0));
    };
    if fraction.is_empty() || fraction.len() > FRACTION_DIGITS_MAX {
        return None;
    }
    let padded = format!("{fraction:0<9}");
    Some((digits(seconds)?, u32::try_from(digits(&padded)?).ok()?))
}

/// A run of ASCII digits (no sign, no spaces) as a number.
fn digits(text: &str) -> Option<u64> {
    match !text.is_empty() && text.len() <= 9 && text.bytes().all(|b| b.is_ascii_digit()) {
        true => text.parse().ok(),
        false => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_the_forms_our_files_use() {
        assert_eq!(parse_timespan("00:00:01"), Some(Duration::from_secs(1)));
        assert_eq!(parse_timespan("00:00:30"), Some(Duration::from_secs(30)));
        assert_eq!(parse_timespan("00:05:00"), Some(Duration::from_secs(300)));
        assert_eq!(parse_timespan("00:00:00.80"), Some(Duration::from_millis(800)));
        assert_eq!(parse_timespan("1.02:00:00"), Some(Duration::from_secs(26 * 3600)));
    }

    #[test]
    fn refuses_what_is_not_a_timespan() {
        for bad in
            ["", "5", "00:60:00", "24:00:00", "-00:00:01", "00:00:01.", "00:00:00.12345678", "a:b:c", "1.2.3:00:00"]
        {
            assert_eq!(parse_timespan(bad), None, "{bad:?}");
        }
    }
}
