//! The API version age rule of arm-ttk ("apiVersions Should Be Recent", which Marketplace
//! certification runs): every resource's API version is the latest stable one, or under 730 days
//! old. The latest versions come from `tests/deploy-checks/api-versions.yaml`, a table the
//! repository keeps with the date it was reviewed; a table older than its validity fails too, so
//! "latest" cannot silently go stale.
//!
//! Dates are whole days since 1970-01-01, computed here (no date crate for one conversion).

use std::collections::BTreeMap;
use std::time::{SystemTime, UNIX_EPOCH};

use serde_json::Value;

use crate::repo;

/// Overrides today's date (`YYYY-MM-DD`), e.g. to see which versions will age out by then.
pub const TODAY_VAR: &str = "DEPLOY_CHECKS_TODAY";
/// The table, relative to the repository root.
pub const TABLE_PATH: &str = "tests/deploy-checks/api-versions.yaml";

const SECONDS_PER_DAY: u64 = 86_400;

#[derive(Debug, Clone)]
pub struct Table {
    /// Day the table was last checked against Azure.
    pub reviewed: i64,
    /// arm-ttk's limit: 730.
    pub max_age_days: i64,
    /// How long `reviewed` vouches for `latest_stable`.
    pub review_valid_days: i64,
    /// Resource type → its latest stable API version.
    pub latest_stable: BTreeMap<String, String>,
}

impl Table {
    /// Reads the repository's table; panics (failing the test) if it is malformed.
    pub fn load() -> Table {
        let text = repo::read(TABLE_PATH);
        let value: Value = serde_yaml_ng::from_str(&text).unwrap_or_else(|err| panic!("{TABLE_PATH}: {err}"));
        Table::from_value(&value).unwrap_or_else(|err| panic!("{TABLE_PATH}: {err}"))
    }

    pub fn from_value(value: &Value) -> Result<Table, String> {
        let date =
            |key: &str| value[key].as_str().and_then(parse_date).ok_or(format!("`{key}` is not a YYYY-MM-DD date"));
        let number = |key: &str| value[key].as_i64().ok_or(format!("`{key}` is not a number"));
        let mut latest_stable = BTreeMap::new();
        for (type_name, version) in value["latest_stable"].as_object().ok_or("no `latest_stable` map")? {
            let version = version.as_str().ok_or(format!("{type_name}: the version is not a string"))?;
            parse_date(version).ok_or(format!("{type_name}: {version} is no API version"))?;
            latest_stable.insert(type_name.clone(), version.to_string());
        }
        Ok(Table {
            reviewed: date("reviewed")?,
            max_age_days: number("max_age_days")?,
            review_valid_days: number("review_valid_days")?,
            latest_stable,
        })
    }

    /// Whether `version` of `type_name` passes arm-ttk's rule on `today`, with the reason if not.
    pub fn check(&self, type_name: &str, version: &str, today: i64) -> Result<(), String> {
        let Some(latest) = self.latest_stable.get(type_name) else {
            return Err(format!("{type_name}: not in {TABLE_PATH}; add its latest stable version"));
        };
        let Some(day) = parse_date(version) else { return Err(format!("{type_name}@{version}: not an API version")) };
        let age_days = today - day;
        if age_days < self.max_age_days {
            return Ok(());
        }
        if version != latest {
            return Err(format!(
                "{type_name}@{version} is {age_days} days old (limit {}) and not the latest stable ({latest})",
                self.max_age_days
            ));
        }
        let review_age_days = today - self.reviewed;
        if review_age_days > self.review_valid_days {
            return Err(format!(
                "{type_name}@{version} is {age_days} days old and is the latest stable only by a review {review_age_days} days old \
                 (valid {}): review {TABLE_PATH}",
                self.review_valid_days
            ));
        }
        Ok(())
    }
}

/// Days since 1970-01-01 of the date an API version starts with (`2024-11-30`,
/// `2021-05-01-preview`).
pub fn parse_date(text: &str) -> Option<i64> {
    let date = text.get(..10)?;
    let rest = &text[10..];
    if !(rest.is_empty() || rest.starts_with('-')) {
        return None;
    }
    let mut parts = date.split('-');
    let year: i64 = parts.next()?.parse().ok()?;
    let month: i64 = parts.next()?.parse().ok()?;
    let day: i64 = parts.next()?.parse().ok()?;
    if !(1..=12).contains(&month) || !(1..=31).contains(&day) {
        return None;
    }
    Some(days_from_civil(year, month, day))
}

/// Howard Hinnant's `days_from_civil`: proleptic Gregorian date → days since 1970-01-01.
fn days_from_civil(year: i64, month: i64, day: i64) -> i64 {
    let year = if month <= 2 { year - 1 } else { year };
    let era = year.div_euclid(400);
    let year_of_era = year - era * 400;
    let month_from_march = (month + 9) % 12;
    let day_of_year = (153 * month_from_march + 2) / 5 + day - 1;
    let day_of_era = year_of_era * 365 + year_of_era / 4 - year_of_era / 100 + day_of_year;
    era * 146_097 + day_of_era - 719_468
}

/// Today, from `DEPLOY_CHECKS_TODAY` or the clock.
pub fn today() -> i64 {
    if let Ok(text) = std::env::var(TODAY_VAR) {
        return parse_date(&text).unwrap_or_else(|| panic!("{TODAY_VAR}={text} is not YYYY-MM-DD"));
    }
    let since_epoch = SystemTime::now().duration_since(UNIX_EPOCH).expect("the clock is after 1970");
    (since_epoch.as_secs() / SECONDS_PER_DAY) as i64
}

/// `(type, version)` of every `reference(resourceId('TYPE', …), 'VERSION')` in ARM JSON text.
pub fn arm_reference_versions(text: &str) -> Vec<(String, String)> {
    const OPEN: &str = "reference(resourceId('";
    let mut out = Vec::new();
    let mut rest = text;
    while let Some(at) = rest.find(OPEN) {
        let after = &rest[at + OPEN.len()..];
        rest = after;
        let Some(type_end) = after.find('\'') else { break };
        let type_name = &after[..type_end];
        // The resourceId( call closes where its parentheses balance.
        let mut depth = 1;
        let mut close = None;
        for (index, ch) in after.char_indices() {
            match ch {
                '(' => depth += 1,
                ')' => depth -= 1,
                _ => (),
            }
            if depth == 0 {
                close = Some(index);
                break;
            }
        }
        let Some(close) = close else { break };
        let Some(version) = after[close + 1..].strip_prefix(", '").and_then(|it| it.split('\'').next()) else {
            continue;
        };
        out.push((type_name.to_string(), version.to_string()));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn table() -> Table {
        Table::from_value(&json!({
            "reviewed": "2026-12-08",
            "max_age_days": 730,
            "review_valid_days": 180,
            "latest_stable": {"Microsoft.X/y": "2022-04-01", "Microsoft.X/z": "2025-05-01"},
        }))
        .unwrap()
    }

    fn day(text: &str) -> i64 {
        parse_date(text).unwrap()
    }

    #[test]
    fn dates_count_days_since_1970() {
        assert_eq!(day("1970-01-01"), 0);
        assert_eq!(day("2000-03-01"), 11_017);
        assert_eq!(day("2026-12-08") - day("2024-12-08"), 730);
        assert_eq!(parse_date("2021-05-01-preview"), parse_date("2021-05-01"));
        assert_eq!(parse_date("2021-13-01"), None);
        assert_eq!(parse_date("20210501"), None);
    }

    #[test]
    fn a_young_version_passes_and_ages_out_after_730_days() {
        let table = table();
        assert_eq!(table.check("Microsoft.X/z", "2024-12-09", day("2026-12-08")), Ok(()));
        let aged = table.check("Microsoft.X/z", "2024-12-08", day("2026-12-08")).unwrap_err();
        assert!(aged.contains("730 days old") && aged.contains("not the latest stable (2025-05-01)"), "{aged}");
    }

    #[test]
    fn the_latest_stable_passes_at_any_age_while_the_review_is_recent() {
        let table = table();
        assert_eq!(table.check("Microsoft.X/y", "2022-04-01", day("2027-06-01")), Ok(()));
        let stale = table.check("Microsoft.X/y", "2022-04-01", day("2027-06-07")).unwrap_err();
        assert!(stale.contains("review"), "{stale}");
    }

    #[test]
    fn an_unknown_type_fails() {
        assert!(table().check("Microsoft.X/unknown", "2026-01-01", day("2026-12-08")).unwrap_err().contains("not in"));
    }

    #[test]
    fn reference_versions_are_read_from_arm_expressions() {
        let text = "[format('{0}', reference(resourceId('Microsoft.X/y', variables('n').a, 'b'), '2022-04-01').id, \
                    reference(resourceId('Microsoft.X/z', 'q'), '2025-05-01', 'full'))]";
        assert_eq!(
            arm_reference_versions(text),
            [
                ("Microsoft.X/y".to_string(), "2022-04-01".to_string()),
                ("Microsoft.X/z".to_string(), "2025-05-01".to_string())
            ]
        );
    }
}
