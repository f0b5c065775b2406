//! Throttling of failed authentication per client address.
//!
//! Every forged or guessed key costs a hash and, when not cached, a database lookup. An address
//! that fails `auth_failures_per_minute` times in a one-minute window gets 429 (with
//! `Retry-After`) for the rest of that window without any lookup. Counting is per process and in
//! memory: it protects each process's database budget, which is what it is for. The table is
//! bounded; when full, windows that have ended are dropped first, and new addresses are then not
//! tracked (they still pay their own lookups) rather than evicting addresses being throttled.

use std::collections::HashMap;
use std::net::IpAddr;
use std::sync::{Arc, Mutex};

use crate::clock::Clock;

const WINDOW_MS: i64 = 60_000;
const MAX_ADDRESSES: usize = 100_000;

/// Failed-authentication counts of one process.
pub struct AuthThrottle {
    limit: u32,
    clock: Arc<dyn Clock>,
    /// Address → (window start, failures in it).
    failures: Mutex<HashMap<IpAddr, (i64, u32)>>,
}

impl AuthThrottle {
    /// A throttle allowing `per_minute` failures per address (0 turns it off).
    pub fn new(per_minute: u32, clock: Arc<dyn Clock>) -> Self {
        AuthThrottle {
            limit: per_minute,
            clock,
            failures: Mutex::new(HashMap::new()),
        }
    }

    fn window_start(&self) -> (i64, i64) {
        let now = self.clock.now_ms();
        (now, now - now.rem_euclid(WINDOW_MS))
    }

    /// `Err(seconds until the window ends)` when `ip` has used up its failures.
    pub fn check(&self, ip: IpAddr) -> Result<(), u64> {
        if self.limit == 0 {
            return Ok(());
        }
        let (now, start) = self.window_start();
        let failures = self.failures.lock().expect("throttle lock");
        match failures.get(&ip) {
            Some(&(s, n)) if s == start && n >= self.limit => {
                let retry_ms = start + WINDOW_MS - now;
                Err(((retry_ms + 999) / 1000).max(1) as u64)
            }
            _ => Ok(()),
        }
    }

    /// Records one failed authentication from `ip`.
    pub fn failed(&self, ip: IpAddr) {
        if self.limit == 0 {
            return;
        }
        let (_, start) = self.window_start();
        let mut failures = self.failures.lock().expect("throttle lock");
        if failures.len() >= MAX_ADDRESSES && !failures.contains_key(&ip) {
            failures.retain(|_, (s, _)| *s == start);
            if failures.len() >= MAX_ADDRESSES {
                return;
            }
        }
        let entry = failures.entry(ip).or_insert((start, 0));
        if entry.0 != start {
            *entry = (start, 0);
        }
        entry.1 = entry.1.saturating_add(1);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::clock::ManualClock;

    #[test]
    fn failures_over_the_budget_are_throttled_until_the_window_ends() {
        let clock = ManualClock::at(10 * WINDOW_MS + 15_000);
        let t = AuthThrottle::new(3, clock.clone());
        let a: IpAddr = "127.0.0.2".parse().unwrap();
        let b: IpAddr = "127.0.0.3".parse().unwrap();
        for _ in 0..3 {
            assert!(t.check(a).is_ok());
            t.failed(a);
        }
        assert_eq!(t.check(a), Err(45));
        assert!(t.check(b).is_ok(), "other addresses are not affected");
        clock.advance(45_000);
        assert!(t.check(a).is_ok(), "a new window starts afresh");
        assert!(AuthThrottle::new(0, clock).check(a).is_ok());
    }
}
