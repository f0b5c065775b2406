//! A person's bank accounts: which banks, which kinds, which numbers.
//!
//! Account numbers are computed, never stored: a NUBAN serial encodes (person, slot) through the
//! bank's keyed permutation (see `ids`) and gets the CBN check digit of that bank; OPay and PalmPay
//! use the holder's primary phone without its leading 0; Rubies (no known CBN code) gets the
//! serial plus a digit of our own, unchecked by anyone.

use okra_core::banks::{AccountNumbering, BankInfo, BankType, BANKS};
use okra_core::source::AccountType;

use crate::ids::{Ids, MAX_ACCOUNTS};
use crate::rng::Draw;

/// One account of a person.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Account {
    /// Position among the person's accounts (0-based); encoded in the NUBAN serial.
    pub slot: u64,
    /// The bank, from `okra_core::banks::BANKS`.
    pub bank: &'static BankInfo,
    /// Position of the bank in `BANKS` (selects the NUBAN key).
    pub bank_index: usize,
    /// The 10-digit account number.
    pub number: String,
    /// Savings, current or domiciliary.
    pub account_type: AccountType,
    /// `"NGN"`, or `"USD"` for domiciliary accounts.
    pub currency: &'static str,
    /// Money level of the account relative to the owner's wealth, in percent (20–150).
    pub weight_pct: u64,
    /// True for dormant accounts that hold little and barely move.
    pub dormant: bool,
}

impl Account {
    /// `account_ref` form used by the `BankSource` impl: `<bank slug>:<number>`, unique across the
    /// network (a NUBAN is unique only within its bank).
    pub fn account_ref(&self) -> String {
        format!("{}:{}", self.bank.slug, self.number)
    }
}

/// How often people bank where: rough market shares; unlisted banks weigh 1.
pub(crate) fn bank_weight(bank: &BankInfo, company: bool) -> u32 {
    if company && !bank.corporate {
        return 0;
    }
    match bank.slug {
        "access-bank" | "guaranty-trust-bank" => 12,
        "zenith-bank" | "first-bank-of-nigeria" => 11,
        "united-bank-for-africa" => 10,
        "opay" => 8,
        "kuda-bank" | "moniepoint-mfb" => 5,
        "palmpay" => 5,
        "fidelity-bank" | "first-city-monument-bank" => 4,
        "sterling-bank" | "union-bank-of-nigeria" | "stanbic-ibtc-bank" | "wema-bank" => 3,
        "ecobank-nigeria" => 3,
        "alat" | "polaris-bank" => 2,
        _ => 1,
    }
}

/// The account number of `slot` at `bank` for person `index`.
pub fn account_number(ids: &Ids, bank_index: usize, index: u64, slot: u64, phone: &str) -> String {
    let bank = &BANKS[bank_index];
    let serial = || ids.nuban_serial(bank_index, index, slot);
    match bank.numbering {
        AccountNumbering::Phone => phone[1..].to_string(),
        AccountNumbering::Nuban => okra_core::nuban::make_nuban(bank.cbn_code, &serial())
            .expect("catalogue banks with NUBAN numbering have valid CBN codes"),
        AccountNumbering::Unchecked => {
            let s = serial();
            let digit: u32 = s.bytes().map(|c| u32::from(c - b'0')).sum::<u32>() % 10;
            format!("{s}{digit}")
        }
    }
}

/// Draws 1–5 accounts for a person. `phone` is the primary phone (mobile-money account number).
pub fn generate(ids: &Ids, rng: &mut Draw, index: u64, company: bool, phone: &str) -> Vec<Account> {
    let count = match rng.below(100) {
        0..=34 => 1,
        35..=64 => 2,
        65..=84 => 3,
        85..=94 => 4,
        _ => MAX_ACCOUNTS,
    };
    let weights: Vec<(usize, u32)> = BANKS
        .iter()
        .enumerate()
        .map(|(i, b)| (i, bank_weight(b, company)))
        .collect();
    let mut accounts: Vec<Account> = Vec::with_capacity(count as usize);
    let mut attempts = 0;
    while (accounts.len() as u64) < count && attempts < 12 {
        attempts += 1;
        let bank_index = rng.weighted(&weights);
        let bank = &BANKS[bank_index];
        let account_type = account_type(rng, bank, company);
        let taken = accounts.iter().any(|a| {
            a.bank_index == bank_index
                && (a.account_type == account_type || bank.numbering == AccountNumbering::Phone)
        });
        if taken {
            continue;
        }
        let slot = accounts.len() as u64;
        accounts.push(Account {
            slot,
            bank,
            bank_index,
            number: account_number(ids, bank_index, index, slot, phone),
            account_type,
            currency: if account_type == AccountType::Domiciliary {
                "USD"
            } else {
                "NGN"
            },
            weight_pct: rng.between(20, 150),
            dormant: rng.chance(8),
        });
    }
    accounts
}

/// Exactly `count` (1–5) accounts for a custom person, the first at bank number `first` when
/// given and never in dollars (whoever picked the bank expects naira there). Later accounts are
/// drawn as for generated people; a deterministic scan of the catalogue guarantees the count
/// should the draws keep colliding. Custom accounts are never dormant: the volume decides.
pub(crate) fn custom(
    ids: &Ids,
    rng: &mut Draw,
    index: u64,
    company: bool,
    phone: &str,
    count: u64,
    first: Option<usize>,
) -> Vec<Account> {
    let weights: Vec<(usize, u32)> = BANKS
        .iter()
        .enumerate()
        .map(|(i, b)| (i, bank_weight(b, company)))
        .collect();
    let count = count.clamp(1, MAX_ACCOUNTS) as usize;
    let mut accounts: Vec<Account> = Vec::with_capacity(count);
    let add = |accounts: &mut Vec<Account>, rng: &mut Draw, bank_index: usize, t: AccountType| {
        let bank = &BANKS[bank_index];
        let taken = accounts.iter().any(|a| {
            a.bank_index == bank_index
                && (a.account_type == t || bank.numbering == AccountNumbering::Phone)
        });
        if !taken {
            let slot = accounts.len() as u64;
            accounts.push(Account {
                slot,
                bank,
                bank_index,
                number: account_number(ids, bank_index, index, slot, phone),
                account_type: t,
                currency: if t == AccountType::Domiciliary {
                    "USD"
                } else {
                    "NGN"
                },
                weight_pct: rng.between(50, 150),
                dormant: false,
            });
        }
    };
    for _ in 0..200 {
        if accounts.len() == count {
            break;
        }
        let bank_index = match first {
            Some(b) if accounts.is_empty() => b,
            _ => rng.weighted(&weights),
        };
        let mut t = account_type(rng, &BANKS[bank_index], company);
        if accounts.is_empty() && t == AccountType::Domiciliary {
            t = if company {
                AccountType::Current
            } else {
                AccountType::Savings
            };
        }
        add(&mut accounts, rng, bank_index, t);
    }
    for (bank_index, _) in weights.iter().filter(|(_, w)| *w > 0) {
        for t in [AccountType::Savings, AccountType::Current] {
            if accounts.len() < count {
                add(&mut accounts, rng, *bank_index, t);
            }
        }
    }
    accounts
}

pub(crate) fn account_type(rng: &mut Draw, bank: &BankInfo, company: bool) -> AccountType {
    let draw = rng.below(100);
    match bank.bank_type {
        BankType::MobileMoney => AccountType::Savings,
        BankType::Microfinance if company => AccountType::Current,
        BankType::Microfinance => AccountType::Savings,
        BankType::Bank if company => {
            if draw < 80 {
                AccountType::Current
            } else {
                AccountType::Domiciliary
            }
        }
        BankType::Bank => match draw {
            0..=59 => AccountType::Savings,
            60..=89 => AccountType::Current,
            _ => AccountType::Domiciliary,
        },
    }
}
