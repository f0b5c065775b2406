//! Balances: a closed-form function of (seed, person, account, day), so any day's balance is
//! computed directly, without replaying history, and is the same on every machine.
//!
//! Model: the account's level (owner's wealth × the account's weight; tiny for dormant accounts,
//! converted at ₦1,500/$ for domiciliary accounts) follows a monthly salary cycle — full on the
//! owner's payday (20th–28th), spent down to 30% by the next one — with ±10% daily noise. On about
//! 30% of days some debits are pending: the available balance is then 1–15% below the ledger
//! balance; otherwise the two are equal. Available is never above ledger and never negative.
//!
//! A custom person's volume sets the level (see `Network::person_with`) and the activity: `low`
//! moves ±3% a day with pending debits (1–5%) on 10% of days, `medium` as above, `high` ±25% a
//! day with pending debits (1–25%) on 60% of days.

use okra_core::source::{DailyBalance, SourceBalance};

use crate::accounts::Account;
use crate::dates::Date;
use crate::permute::hash;
use crate::person::Person;
use crate::spec::Volume;

/// Days of history in a balance (the as-of day included).
pub const HISTORY_DAYS: i64 = 30;

/// Kobo per US cent at the simulator's fixed rate (₦1,500 per dollar).
const KOBO_PER_CENT: i128 = 1_500;

/// (available, ledger) in minor units at the end of `day` (days since 1970-01-01).
pub fn day_balance(seed: u64, person: &Person, account: &Account, day: i64) -> (i64, i64) {
    let h = |purpose: u64| hash(&[seed, person.index, account.slot, day as u64, purpose]);
    let mut level = i128::from(person.wealth_kobo) * i128::from(account.weight_pct) / 100;
    if account.dormant {
        level /= 200;
    }
    if account.currency == "USD" {
        level /= KOBO_PER_CENT;
    }
    let payday = 20 + (hash(&[seed, person.index, 0xDA7]) % 9) as i64;
    let day_of_month = i64::from(Date::from_days(day).day);
    let since_payday = (day_of_month - payday).rem_euclid(30);
    // (daily swing in ‰, share of days with pending debits in %, largest pending share in %).
    let (swing, pending_days, pending_max) = match person.volume {
        None | Some(Volume::Medium) => (100, 30, 15),
        Some(Volume::Low) => (30, 10, 5),
        Some(Volume::High) => (250, 60, 25),
    };
    let (cycle, noise) = if account.dormant {
        (1000, 995 + (h(1) % 11) as i128)
    } else {
        (
            1000 - 700 * i128::from(since_payday) / 30,
            1000 - swing + (h(1) % (2 * swing as u64 + 1)) as i128,
        )
    };
    let ledger = (level * cycle / 1000 * noise / 1000) as i64;
    let pending = if h(2) % 100 < pending_days {
        ledger * (1 + (h(3) % pending_max) as i64) / 100
    } else {
        0
    };
    (ledger - pending, ledger)
}

/// The balance of `account` as of the end of `as_of`, with [`HISTORY_DAYS`] days of history
/// (oldest first; the last entry is `as_of` itself and equals the current balance).
pub fn balance(seed: u64, person: &Person, account: &Account, as_of: Date) -> SourceBalance {
    let end = as_of.days();
    let history: Vec<DailyBalance> = (end - HISTORY_DAYS + 1..=end)
        .map(|day| {
            let (available_minor, ledger_minor) = day_balance(seed, person, account, day);
            DailyBalance {
                date: Date::from_days(day).to_string(),
                available_minor,
                ledger_minor,
            }
        })
        .collect();
    let (available, ledger) = day_balance(seed, person, account, end);
    SourceBalance {
        account_ref: account.account_ref(),
        available_minor: Some(available),
        ledger_minor: Some(ledger),
        currency: account.currency.to_string(),
        history,
    }
}
