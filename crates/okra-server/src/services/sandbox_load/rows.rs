//! The rows `sandbox load` writes for one person of the simulated network, generated and sealed
//! on the loader's blocking thread.

use std::collections::HashSet;

use okra_core::ObjectId;
use okra_sandbox::{Date, Network};
use okra_store::accounts::{AccountRow, NewAccount};
use okra_store::balances::{BalanceRow, NewBalance};
use okra_store::crypto::Keyring;
use okra_store::customers::{CustomerRow, NewCustomer};
use okra_store::identities::IdentityRow;
use okra_store::records::{NewRecord, RecordRow};

use anyhow::Context;

use super::{CONNECTION_GAP_MS, PRODUCTS, WINDOW_MS};
use crate::services::identity_profile;

/// Every row of one person, sealed and ready to write.
pub(super) struct PersonRows {
    pub(super) customer: CustomerRow,
    pub(super) records: Vec<RecordRow>,
    pub(super) identities: Vec<IdentityRow>,
    pub(super) accounts: Vec<AccountRow>,
    pub(super) balances: Vec<BalanceRow>,
}

impl PersonRows {
    pub(super) fn already_present(&self, existing: &HashSet<String>) -> bool {
        self.customer
            .bvn_idx()
            .is_some_and(|b| existing.contains(b))
            || self
                .accounts
                .iter()
                .any(|a| existing.contains(a.nuban_idx()))
    }
}

/// Generates people's rows (runs on the blocking thread).
pub(super) struct Builder {
    pub(super) network: Network,
    pub(super) keyring: Keyring,
    pub(super) photo_base: String,
    pub(super) start: u64,
    pub(super) people: u64,
    pub(super) window_start: i64,
}

/// A fresh id whose time part is `ms`, so ids sort like `created_at`.
fn id_at(ms: i64) -> String {
    ObjectId::with_seconds((ms / 1000) as u32).to_string()
}

impl Builder {
    /// When person `index` connected their first bank: evenly spread over the window, in order.
    fn connected_at(&self, index: u64) -> i64 {
        let span = i128::from(WINDOW_MS - 10 * CONNECTION_GAP_MS);
        let offset = i128::from(index - self.start) * span / i128::from(self.people);
        self.window_start + offset as i64
    }

    pub(super) fn person(&self, index: u64) -> anyhow::Result<PersonRows> {
        let keyring = &self.keyring;
        let person = self
            .network
            .person(index)
            .with_context(|| format!("no person {index} in the sandbox population"))?;
        let identity = person.identity();
        let at = self.connected_at(index);
        let customer_id = id_at(at);
        let customer = CustomerRow::new(
            keyring,
            customer_id.clone(),
            NewCustomer {
                created_at: Some(at),
                ..NewCustomer::from_identity(&identity)
            },
        )?;
        let profile = identity_profile::profile(&identity, &self.photo_base)?;
        let account_name = person.account_name();
        let mut rows = PersonRows {
            customer,
            records: Vec::new(),
            identities: Vec::new(),
            accounts: Vec::new(),
            balances: Vec::new(),
        };
        let mut banks: Vec<&str> = Vec::new();
        for a in &person.accounts {
            if !banks.contains(&a.bank.id) {
                banks.push(a.bank.id);
            }
        }
        for (k, bank_id) in banks.into_iter().enumerate() {
            let t = at + k as i64 * CONNECTION_GAP_MS;
            let record_id = id_at(t);
            rows.identities.push(IdentityRow::new(
                keyring,
                id_at(t),
                &customer_id,
                Some(&record_id),
                profile.clone(),
                Some(t),
            )?);
            // The balance as fetched at the connection: its history ends that day.
            let day = Date::from_days(t.div_euclid(86_400_000));
            let held: Vec<_> = (person.accounts.iter())
                .filter(|a| a.bank.id == bank_id)
                .map(|a| (a, id_at(t)))
                .collect();
            let record = NewRecord {
                customer_id: customer_id.clone(),
                bank_id: bank_id.to_string(),
                products: PRODUCTS.iter().map(|p| p.to_string()).collect(),
                accounts: held.iter().map(|(_, id)| id.clone()).collect(),
                created_at: Some(t),
                ..NewRecord::default()
            };
            rows.records
                .push(RecordRow::new(record_id.clone(), record)?.completed_at(t));
            for (account, account_id) in held {
                rows.accounts.push(AccountRow::new(
                    keyring,
                    account_id.clone(),
                    NewAccount {
                        customer_id: customer_id.clone(),
                        bank_id: bank_id.to_string(),
                        record_id: record_id.clone(),
                        name: account_name.clone(),
                        nuban: account.number.clone(),
                        account_type: account.account_type.as_str().to_string(),
                        currency: account.currency.to_string(),
                        connected: true,
                        account_ref: None,
                        created_at: Some(t),
                    },
                ));
                let balance = self.network.balance_of(&person, account, day);
                let new = NewBalance {
                    account_id,
                    customer_id: customer_id.clone(),
                    record_id: record_id.clone(),
                    available_minor: balance.available_minor,
                    ledger_minor: balance.ledger_minor,
                    currency: balance.currency,
                    history: balance.history,
                    created_at: Some(t),
                };
                rows.balances.push(BalanceRow::new(id_at(t), new));
            }
        }
        Ok(rows)
    }
}
