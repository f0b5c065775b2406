//! Per-key rate limit: `rate_limit_per_minute` requests per fixed one-minute window (default 600),
//! answered with 429, `Retry-After` and the contract body when exceeded.
//!
//! Counting happens in memory so an allowed request costs no database write. Every second each
//! process adds what it counted to a shared counter in the database (the `ephemeral` table) and
//! reads the total back, so processes sharing one database share the limit; a key's first request
//! in a window also reads the shared total. Across processes the limit can be overshot by what the
//! others accept within one sync interval.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use okra_store::Db;

use crate::clock::Clock;

/// How often counts are shared through the database.
pub const SYNC_INTERVAL: Duration = Duration::from_secs(1);
const WINDOW_MS: i64 = 60_000;

#[derive(Clone, Copy, Default)]
struct Window {
    start: i64,
    /// Requests this process accepted in the window.
    local: u64,
    /// Of those, already added to the shared counter.
    flushed: u64,
    /// Requests other processes accepted, as last read.
    others: u64,
}

/// The limiter of one process.
pub struct RateLimiter {
    limit: u64,
    clock: Arc<dyn Clock>,
    windows: Mutex<HashMap<String, Window>>,
}

fn shared_key(key_id: &str, start: i64) -> String {
    format!("ratelimit:{key_id}:{start}")
}

impl RateLimiter {
    /// A limiter allowing `per_minute` requests per key (0: unlimited), reading time from `clock`.
    pub fn new(per_minute: u32, clock: Arc<dyn Clock>) -> Self {
        RateLimiter {
            limit: u64::from(per_minute),
            clock,
            windows: Mutex::new(HashMap::new()),
        }
    }

    /// Counts one request of `key_id`; `Err(seconds)` when over the limit, with when to retry.
    pub async fn check(&self, db: &Db, key_id: &str) -> Result<(), u64> {
        if self.limit == 0 {
            return Ok(());
        }
        let now = self.clock.now_ms();
        let start = now - now.rem_euclid(WINDOW_MS);
        let fresh = {
            let windows = self.windows.lock().expect("rate limit lock");
            windows.get(key_id).is_none_or(|w| w.start != start)
        };
        let others = if fresh {
            // First request of this key in the window here: learn what other processes counted.
            okra_store::ephemeral::get(db, "", "", &shared_key(key_id, start))
                .await
                .unwrap_or(0)
                .max(0) as u64
        } else {
            0
        };
        let mut windows = self.windows.lock().expect("rate limit lock");
        let w = windows.entry(key_id.to_string()).or_default();
        if w.start != start {
            *w = Window {
                start,
                others,
                ..Window::default()
            };
        }
        if w.local + w.others >= self.limit {
            let retry_ms = start + WINDOW_MS - now;
            return Err(((retry_ms + 999) / 1000).max(1) as u64);
        }
        w.local += 1;
        Ok(())
    }

    /// Shares this process's counts and reads the others' (run every [`SYNC_INTERVAL`]).
    pub async fn sync(&self, db: &Db) {
        let now = self.clock.now_ms();
        let current = now - now.rem_euclid(WINDOW_MS);
        let pending: Vec<(String, Window)> = {
            let mut windows = self.windows.lock().expect("rate limit lock");
            windows.retain(|_, w| w.start == current);
            windows.iter().map(|(k, w)| (k.clone(), *w)).collect()
        };
        for (key_id, w) in pending {
            let delta = (w.local - w.flushed) as i64;
            let total = match okra_store::ephemeral::add(
                db,
                "",
                "",
                &shared_key(&key_id, w.start),
                delta,
                w.start + 2 * WINDOW_MS,
            )
            .await
            {
                Ok(t) => t.max(0) as u64,
                Err(e) => {
                    tracing::warn!(error = %e, "sharing rate-limit counts failed");
                    continue;
                }
            };
            let mut windows = self.windows.lock().expect("rate limit lock");
            if let Some(live) = windows.get_mut(&key_id).filter(|l| l.start == w.start) {
                live.flushed += delta as u64;
                live.others = total.saturating_sub(live.flushed);
            }
        }
    }

    /// Runs [`RateLimiter::sync`] every second until shutdown, and purges expired shared entries.
    pub async fn run_sync(self: Arc<Self>, db: Db, shutdown: tokio_util::sync::CancellationToken) {
        if self.limit == 0 {
            return;
        }
        let mut ticks: u64 = 0;
        loop {
            tokio::select! {
                _ = tokio::time::sleep(SYNC_INTERVAL) => {}
                _ = shutdown.cancelled() => return,
            }
            self.sync(&db).await;
            ticks += 1;
            if ticks.is_multiple_of(60) {
                let _ = okra_store::ephemeral::purge_expired(&db).await;
                let now = okra_core::time::now_ms();
                let _ = okra_store::idempotency::purge_expired(&db, now).await;
            }
        }
    }
}
