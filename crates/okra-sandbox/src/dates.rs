//! Calendar days without a date library: the proleptic Gregorian conversions of Howard Hinnant's
//! `days_from_civil`, enough for birthdays, enrolment days and balance histories.

use std::fmt;

/// A calendar day.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Date {
    /// Year, e.g. 2024.
    pub year: i32,
    /// Month, 1–12.
    pub month: u32,
    /// Day of month, 1–31.
    pub day: u32,
}

impl Date {
    /// The day `days` after 1970-01-01.
    pub fn from_days(days: i64) -> Date {
        let z = days + 719_468;
        let era = z.div_euclid(146_097);
        let doe = z.rem_euclid(146_097);
        let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
        let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
        let mp = (5 * doy + 2) / 153;
        let day = (doy - (153 * mp + 2) / 5 + 1) as u32;
        let month = if mp < 10 { mp + 3 } else { mp - 9 } as u32;
        let year = (yoe + era * 400 + i64::from(month <= 2)) as i32;
        Date { year, month, day }
    }

    /// Days since 1970-01-01.
    pub fn days(self) -> i64 {
        let y = i64::from(self.year) - i64::from(self.month <= 2);
        let era = y.div_euclid(400);
        let yoe = y.rem_euclid(400);
        let m = i64::from(self.month);
        let doy = (153 * (if m > 2 { m - 3 } else { m + 9 }) + 2) / 5 + i64::from(self.day) - 1;
        let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
        era * 146_097 + doe - 719_468
    }

    /// Parses `YYYY-MM-DD`; `None` for anything else or an impossible day.
    pub fn parse(s: &str) -> Option<Date> {
        let b = s.as_bytes();
        // Shape before slicing: ten ASCII bytes, digits but for the two dashes.
        let shaped = b.len() == 10
            && b.iter().enumerate().all(|(i, c)| {
                if i == 4 || i == 7 {
                    *c == b'-'
                } else {
                    c.is_ascii_digit()
                }
            });
        if !shaped {
            return None;
        }
        let year = s[..4].parse().ok()?;
        let month = s[5..7].parse().ok()?;
        let day = s[8..].parse().ok()?;
        let date = Date { year, month, day };
        ((1..=12).contains(&month) && day >= 1 && day <= days_in_month(year, month)).then_some(date)
    }

    /// Today in UTC, from the system clock.
    pub fn today_utc() -> Date {
        let secs = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| d.as_secs())
            .unwrap_or(0);
        Date::from_days((secs / 86_400) as i64)
    }
}

/// Number of days in a month of a year.
pub fn days_in_month(year: i32, month: u32) -> u32 {
    match month {
        2 if (year % 4 == 0 && year % 100 != 0) || year % 400 == 0 => 29,
        2 => 28,
        4 | 6 | 9 | 11 => 30,
        _ => 31,
    }
}

impl fmt::Display for Date {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{:04}-{:02}-{:02}", self.year, self.month, self.day)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trips_and_formats() {
        assert_eq!(Date::from_days(0).to_string(), "1970-01-01");
        assert_eq!(Date::parse("2024-02-29").unwrap().days(), 19_782);
        assert_eq!(Date::parse("2023-02-29"), None);
        for d in (-30_000..30_000).step_by(7) {
            let date = Date::from_days(d);
            assert_eq!(date.days(), d);
            assert_eq!(Date::parse(&date.to_string()), Some(date));
        }
    }

    #[test]
    fn malformed_dates_are_refused_without_panicking() {
        for bad in [
            "",
            "2024",
            "2024-02-2é",
            "é024-02-29",
            "2024-0é-29",
            "2024-+2-29",
            "+024-02-29",
            "2024-02-29 ",
            "2024/02/29",
        ] {
            assert_eq!(Date::parse(bad), None, "{bad:?}");
        }
    }
}
