//! NCRONTAB with seconds, the six-field schedule format of the timer trigger
//! (`second minute hour day month day-of-week`), parsed into the set of instants it allows.
//!
//! Each field is a comma list of `*`, `n`, `a-b`, with an optional `/step` (`n/step` runs from `n`
//! to the field's maximum). Months and weekdays also take three-letter English names, any case.
//! Day of week runs 0–6 from Sunday. This is the syntax of the NCrontab library the host uses;
//! five-field expressions are rejected because the host reads them differently (no seconds).

/// One field's bounds and names.
struct FieldSpec {
    name: &'static str,
    min: u32,
    max: u32,
    /// `names[i]` stands for `min + i`.
    names: &'static [&'static str],
}

const MONTHS: &[&str] = &["JAN", "FEB", "MAR", "APR", "MAY", "JUN", "JUL", "AUG", "SEP", "OCT", "NOV", "DEC"];
const WEEKDAYS: &[&str] = &["SUN", "MON", "TUE", "WED", "THU", "FRI", "SAT"];

const FIELDS: [FieldSpec; 6] = [
    FieldSpec { name: "second", min: 0, max: 59, names: &[] },
    FieldSpec { name: "minute", min: 0, max: 59, names: &[] },
    FieldSpec { name: "hour", min: 0, max: 23, names: &[] },
    FieldSpec { name: "day", min: 1, max: 31, names: &[] },
    FieldSpec { name: "month", min: 1, max: 12, names: MONTHS },
    FieldSpec { name: "day of week", min: 0, max: 6, names: WEEKDAYS },
];

/// Why a schedule is not a valid six-field NCRONTAB expression.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{0}")]
pub struct ScheduleError(String);

/// A parsed schedule: for each field, a bit set of the values it allows.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct NcrontabSchedule {
    allowed: [u64; 6],
}

impl NcrontabSchedule {
    pub fn parse(expression: &str) -> Result<NcrontabSchedule, ScheduleError> {
        let fields: Vec<&str> = expression.split_whitespace().collect();
        if fields.len() != FIELDS.len() {
            return Err(ScheduleError(format!(
                "`{expression}` has {} fields; NCRONTAB with seconds has 6 (second minute hour day month day-of-week)",
                fields.len()
            )));
        }
        let mut allowed = [0_u64; 6];
        for ((slot, text), spec) in allowed.iter_mut().zip(&fields).zip(&FIELDS) {
            *slot = parse_field(text, spec)?;
        }
        Ok(NcrontabSchedule { allowed })
    }

    /// Whether the schedule fires at this instant (weekday 0 = Sunday).
    pub fn matches(&self, second: u32, minute: u32, hour: u32, day: u32, month: u32, weekday: u32) -> bool {
        [second, minute, hour, day, month, weekday]
            .iter()
            .zip(&self.allowed)
            .all(|(value, bits)| *value < 64 && bits & (1 << value) != 0)
    }
}

fn parse_field(text: &str, spec: &FieldSpec) -> Result<u64, ScheduleError> {
    let mut bits = 0_u64;
    for item in text.split(',') {
        let (range, step) = match item.split_once('/') {
            Some((range, step)) => (range, Some(parse_step(step, spec)?)),
            None => (item, None),
        };
        let (low, high) = match (range, range.split_once('-')) {
            ("*", _) => (spec.min, spec.max),
            (_, Some((a, b))) => (value(a, spec)?, value(b, spec)?),
            (single, None) if step.is_some() => (value(single, spec)?, spec.max),
            (single, None) => {
                let v = value(single, spec)?;
                (v, v)
            }
        };
        if low > high {
            return Err(ScheduleError(format!("{} range `{range}` runs backwards", spec.name)));
        }
        let step = usize::try_from(step.unwrap_or(1)).unwrap_or(usize::MAX);
        for v in (low..=high).step_by(step) {
            bits |= 1 << v;
        }
    }
    Ok(bits)
}

fn parse_step(text: &str, spec: &FieldSpec) -> Result<u32, ScheduleError> {
    match text.parse::<u32>() {
        Ok(step) if step >= 1 => Ok(step),
        _ => Err(ScheduleError(format!("{} step `/{text}` is not a positive number", spec.name))),
    }
}

fn value(text: &str, spec: &FieldSpec) -> Result<u32, ScheduleError> {
    let named = spec.names.iter().position(|name| name.eq_ignore_ascii_case(text));
    let parsed = match named {
        Some(index) => u32::try_from(index).ok().map(|i| spec.min + i),
        None => text.parse::<u32>().ok(),
    };
    match parsed {
        Some(v) if (spec.min..=spec.max).contains(&v) => Ok(v),
        _ => Err(ScheduleError(format!("{} `{text}` is not a value from {} to {}", spec.name, spec.min, spec.max))),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_fifteen_seconds() {
        let Ok(schedule) = NcrontabSchedule::parse("*/15 * * * * *") else { panic!("valid schedule") };
        for second in 0..60 {
            assert_eq!(schedule.matches(second, 7, 3, 1, 1, 0), second % 15 == 0, "second {second}");
        }
    }

    #[test]
    fn lists_ranges_steps_and_names() {
        let Ok(schedule) = NcrontabSchedule::parse("0 5/20 9-17 1,15 jan-MAR Mon-fri") else { panic!("valid") };
        assert!(schedule.matches(0, 45, 9, 15, 3, 5));
        assert!(!schedule.matches(0, 46, 9, 15, 3, 5));
        assert!(!schedule.matches(0, 5, 18, 15, 3, 5));
        assert!(!schedule.matches(0, 5, 9, 15, 4, 5));
        assert!(!schedule.matches(0, 5, 9, 15, 3, 6));
    }

    #[test]
    fn refuses_what_ncrontab_refuses() {
        for bad in [
            "*/15 * * * *",
            "* * * * * * *",
            "60 * * * * *",
            "* * 24 * * *",
            "* * * 0 * *",
            "* * * * 13 *",
            "* * * * * 7",
            "*/0 * * * * *",
            "5-1 * * * * *",
            "a * * * * *",
            ", * * * * *",
            "",
        ] {
            assert!(NcrontabSchedule::parse(bad).is_err(), "{bad:?} must be refused");
        }
    }
}
