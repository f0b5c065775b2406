//! Timestamps: stored as milliseconds since the Unix epoch (portable across SQLite and PostgreSQL),
//! shown as ISO-8601 with milliseconds and `Z`, as Okra's payloads do (`2023-03-29T21:25:36.229Z`).

use std::sync::atomic::{AtomicI64, Ordering};

use time::format_description::well_known::Iso8601;
use time::{Date, Month, OffsetDateTime};

/// Offset added to this process's clock; 0 but in tests.
static SKEW_MS: AtomicI64 = AtomicI64::new(0);

/// Milliseconds since the Unix epoch, now (by this process's clock).
pub fn now_ms() -> i64 {
    (OffsetDateTime::now_utc().unix_timestamp_nanos() / 1_000_000) as i64
        + SKEW_MS.load(Ordering::Relaxed)
}

/// Shifts [`now_ms`] by `ms` for the whole process. Tests run a child process with a skewed clock
/// to model a host whose clock disagrees with the database's (the job queue must not care).
#[doc(hidden)]
pub fn skew_process_clock_for_tests(ms: i64) {
    SKEW_MS.store(ms, Ordering::Relaxed);
}

/// `2023-03-29T21:25:36.229Z` for a millisecond timestamp.
pub fn iso_ms(ms: i64) -> String {
    let dt = OffsetDateTime::from_unix_timestamp_nanos(i128::from(ms) * 1_000_000)
        .unwrap_or(OffsetDateTime::UNIX_EPOCH);
    format!(
        "{:04}-{:02}-{:02}T{:02}:{:02}:{:02}.{:03}Z",
        dt.year(),
        u8::from(dt.month()),
        dt.day(),
        dt.hour(),
        dt.minute(),
        dt.second(),
        dt.millisecond()
    )
}

/// Parses a strict `YYYY-MM-DD` date.
pub fn parse_date(s: &str) -> Option<Date> {
    let b = s.as_bytes();
    if b.len() != 10 || b[4] != b'-' || b[7] != b'-' {
        return None;
    }
    let year: i32 = s[..4].parse().ok()?;
    let month: u8 = s[5..7].parse().ok()?;
    let day: u8 = s[8..].parse().ok()?;
    if !s[..4]
        .bytes()
        .chain(s[5..7].bytes())
        .chain(s[8..].bytes())
        .all(|c| c.is_ascii_digit())
    {
        return None;
    }
    Date::from_calendar_date(year, Month::try_from(month).ok()?, day).ok()
}

/// Milliseconds at 00:00:00.000 UTC of `date`.
pub fn day_start_ms(date: Date) -> i64 {
    date.midnight().assume_utc().unix_timestamp() * 1000
}

/// The inclusive whole-day range `[from 00:00, to 23:59:59.999]` in milliseconds.
pub fn day_range_ms(from: Date, to: Date) -> (i64, i64) {
    (day_start_ms(from), day_start_ms(to) + 86_400_000 - 1)
}

/// Formats a date as `YYYY-MM-DD`.
pub fn format_date(date: Date) -> String {
    date.format(&Iso8601::DATE).unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn formats_like_okra() {
        assert_eq!(iso_ms(1_680_125_136_229), "2023-03-29T21:25:36.229Z");
        assert_eq!(iso_ms(0), "1970-01-01T00:00:00.000Z");
    }

    #[test]
    fn parses_strict_dates_and_ranges() {
        let d = parse_date("2023-07-01").unwrap();
        assert_eq!(format_date(d), "2023-07-01");
        assert!(parse_date("2023-7-01").is_none());
        assert!(parse_date("2023-02-30").is_none());
        assert!(parse_date("20a3-01-01").is_none());
        assert!(parse_date("+023-01-01").is_none());
        let (a, b) = day_range_ms(d, d);
        assert_eq!(b - a, 86_399_999);
        assert_eq!(iso_ms(a), "2023-07-01T00:00:00.000Z");
    }
}
