//! When a webhook delivery counts as delivered, and when the next attempt is due.
//!
//! Pure rules for the delivery workers: a receiver's answer is classified ([`classify`]) and the
//! attempt's failure count picks the wait from the retry schedule ([`RetrySchedule`]), spread by
//! jitter so that deliveries failed together do not all come back together, and never earlier than
//! a `Retry-After` the receiver asked for.
//!
//! - 2xx (within the delivery timeout) is delivered;
//! - 410 Gone disables the URL: the receiver said it will never take deliveries again;
//! - anything else — 3xx (redirects are not followed: a signed body must not land elsewhere), 4xx,
//!   5xx, a timeout, a refused connection — is a failure, retried on the schedule until it is used
//!   up.

use std::time::{Duration, SystemTime};

/// The waits after the 1st, 2nd, … failed attempt; after the last one, no more attempts.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RetrySchedule(Vec<Duration>);

/// The longest `Retry-After` honoured: a receiver cannot park a delivery for longer than a day.
pub const MAX_RETRY_AFTER: Duration = Duration::from_secs(24 * 3600);

/// Jitter spreads each wait over ±20 % of it.
const JITTER: f64 = 0.2;

impl Default for RetrySchedule {
    /// 5 s, 5 min, 30 min, 2 h, 5 h, 10 h, 10 h: eight attempts over about 28 hours.
    fn default() -> Self {
        RetrySchedule(
            [5, 300, 1_800, 7_200, 18_000, 36_000, 36_000]
                .into_iter()
                .map(Duration::from_secs)
                .collect(),
        )
    }
}

impl RetrySchedule {
    /// A schedule from its configuration form: comma-separated waits, each a whole number with
    /// a unit `s`, `m` or `h` (`"5s, 5m, 30m, 2h"`). An empty string means no retries.
    pub fn parse(text: &str) -> Result<Self, String> {
        let mut waits = Vec::new();
        for part in text.split(',').map(str::trim).filter(|p| !p.is_empty()) {
            let unit_len = part.chars().last().map_or(0, char::len_utf8);
            let (number, unit) = part.split_at(part.len() - unit_len);
            let n: u64 = number
                .trim()
                .parse()
                .map_err(|_| format!("`{part}` is not a whole number with s, m or h"))?;
            let secs = match unit {
                "s" => n,
                "m" => n.saturating_mul(60),
                "h" => n.saturating_mul(3_600),
                _ => return Err(format!("`{part}` has no unit (s, m or h)")),
            };
            if secs == 0 || secs > 7 * 24 * 3_600 {
                return Err(format!("`{part}` is not between 1 s and 7 days"));
            }
            waits.push(Duration::from_secs(secs));
        }
        Ok(RetrySchedule(waits))
    }

    /// Attempts in all: the first and one per wait.
    pub fn attempts(&self) -> u32 {
        self.0.len() as u32 + 1
    }

    /// The wait after failed attempt number `failed` (1 for the first), spread by `jitter` (a
    /// uniform draw in `[0, 1)`: 0 gives −20 %, 0.5 the wait itself); `None` once the schedule is
    /// used up.
    pub fn wait_after(&self, failed: u32, jitter: f64) -> Option<Duration> {
        let base = *self.0.get(usize::try_from(failed.checked_sub(1)?).ok()?)?;
        let draw = if jitter.is_finite() {
            jitter.clamp(0.0, 1.0)
        } else {
            0.5
        };
        let factor = 1.0 + JITTER * (2.0 * draw - 1.0);
        Some(base.mul_f64(factor))
    }
}

/// What a receiver's answer (or its absence) means.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Answer {
    /// 2xx: delivered.
    Delivered,
    /// 410: the URL is disabled; no more attempts to it.
    Gone,
    /// Any other status, a timeout or a connection error: try again on the schedule, and not
    /// before `not_before` when the receiver sent `Retry-After`.
    Failed {
        /// The receiver's `Retry-After`, capped at [`MAX_RETRY_AFTER`].
        not_before: Option<Duration>,
    },
}

/// Classifies an HTTP answer: its status and `Retry-After` header (seconds or an HTTP date, read
/// against `now`). `None` for no answer at all (timeout, refused, reset).
pub fn classify(status: Option<u16>, retry_after: Option<&str>, now: SystemTime) -> Answer {
    match status {
        Some(200..=299) => Answer::Delivered,
        Some(410) => Answer::Gone,
        _ => Answer::Failed {
            not_before: retry_after.and_then(|v| parse_retry_after(v, now)),
        },
    }
}

fn parse_retry_after(value: &str, now: SystemTime) -> Option<Duration> {
    let value = value.trim();
    let wait = match value.parse::<u64>() {
        Ok(secs) => Duration::from_secs(secs),
        Err(_) => httpdate::parse_http_date(value)
            .ok()?
            .duration_since(now)
            .unwrap_or(Duration::ZERO),
    };
    Some(wait.min(MAX_RETRY_AFTER))
}

/// What to do after an attempt.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Next {
    /// Delivered: nothing more.
    Done,
    /// The URL answered 410: stop, and disable the URL.
    Disable,
    /// Try again after this wait.
    RetryIn(Duration),
    /// The schedule is used up: the delivery failed for good.
    GiveUp,
}

/// The step after attempt number `attempt` (1 for the first) answered `answer`.
pub fn next(schedule: &RetrySchedule, attempt: u32, answer: &Answer, jitter: f64) -> Next {
    match answer {
        Answer::Delivered => Next::Done,
        Answer::Gone => Next::Disable,
        Answer::Failed { not_before } => match schedule.wait_after(attempt, jitter) {
            None => Next::GiveUp,
            Some(wait) => Next::RetryIn(not_before.map_or(wait, |nb| wait.max(nb))),
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const S: fn(u64) -> Duration = Duration::from_secs;

    #[test]
    fn the_default_schedule_is_eight_attempts_over_about_a_day() {
        let s = RetrySchedule::default();
        assert_eq!(s.attempts(), 8);
        let waits: Vec<Duration> = (1..=7).map(|n| s.wait_after(n, 0.5).unwrap()).collect();
        assert_eq!(
            waits,
            [
                S(5),
                S(300),
                S(1_800),
                S(7_200),
                S(18_000),
                S(36_000),
                S(36_000)
            ]
        );
        assert_eq!(s.wait_after(8, 0.5), None);
        assert_eq!(s.wait_after(0, 0.5), None);
        let total: Duration = waits.iter().sum();
        assert!(total > S(27 * 3_600) && total < S(29 * 3_600), "{total:?}");
    }

    #[test]
    fn jitter_spreads_a_wait_over_twenty_percent_either_way() {
        let s = RetrySchedule::default();
        assert_eq!(s.wait_after(2, 0.0), Some(S(240)));
        assert_eq!(s.wait_after(2, 1.0), Some(S(360)));
        assert_eq!(
            s.wait_after(2, 7.0),
            Some(S(360)),
            "out-of-range draws are clamped"
        );
        let w = s.wait_after(2, 0.25).unwrap();
        assert!(w > S(240) && w < S(300));
    }

    #[test]
    fn schedules_parse_from_configuration() {
        assert_eq!(
            RetrySchedule::parse(" 5s, 5m ,30m,2h").unwrap(),
            RetrySchedule(vec![S(5), S(300), S(1_800), S(7_200)])
        );
        assert_eq!(RetrySchedule::parse("").unwrap().attempts(), 1);
        for bad in [
            "5", "5x", "m", "0s", "-5s", "8d", "200h", "5s,,x", "5µ", "µ",
        ] {
            assert!(RetrySchedule::parse(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn answers_are_classified_like_the_contract_says() {
        let now = SystemTime::UNIX_EPOCH + S(1_700_000_000);
        assert_eq!(classify(Some(200), None, now), Answer::Delivered);
        assert_eq!(classify(Some(204), Some("60"), now), Answer::Delivered);
        assert_eq!(classify(Some(410), None, now), Answer::Gone);
        let failed = Answer::Failed { not_before: None };
        for status in [Some(301), Some(302), Some(400), Some(404), Some(500), None] {
            assert_eq!(classify(status, None, now), failed, "{status:?}");
        }
    }

    #[test]
    fn retry_after_is_honoured_in_seconds_or_as_a_date_and_capped() {
        let now = SystemTime::UNIX_EPOCH + S(1_700_000_000);
        let after = |v| match classify(Some(503), Some(v), now) {
            Answer::Failed { not_before } => not_before,
            other => panic!("{other:?}"),
        };
        assert_eq!(after("120"), Some(S(120)));
        let in_an_hour = httpdate::fmt_http_date(now + S(3_600));
        assert_eq!(after(&in_an_hour), Some(S(3_600)));
        let past = httpdate::fmt_http_date(now - S(60));
        assert_eq!(after(&past), Some(Duration::ZERO));
        assert_eq!(after("999999999"), Some(MAX_RETRY_AFTER));
        assert_eq!(after("soon"), None);
    }

    #[test]
    fn the_next_step_waits_for_the_later_of_schedule_and_retry_after() {
        let s = RetrySchedule::default();
        let failed = |nb| Answer::Failed { not_before: nb };
        assert_eq!(next(&s, 1, &Answer::Delivered, 0.5), Next::Done);
        assert_eq!(next(&s, 3, &Answer::Gone, 0.5), Next::Disable);
        assert_eq!(next(&s, 1, &failed(None), 0.5), Next::RetryIn(S(5)));
        assert_eq!(next(&s, 1, &failed(Some(S(90))), 0.5), Next::RetryIn(S(90)));
        assert_eq!(
            next(&s, 2, &failed(Some(S(90))), 0.5),
            Next::RetryIn(S(300))
        );
        assert_eq!(next(&s, 8, &failed(None), 0.5), Next::GiveUp);
        let none = RetrySchedule::parse("").unwrap();
        assert_eq!(next(&none, 1, &failed(None), 0.5), Next::GiveUp);
    }
}
