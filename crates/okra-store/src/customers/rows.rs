//! The customer row as written: sealed and blind-indexed once, by [`CustomerRow::new`], and
//! inserted through [`crate::multirow::insert`] — one row for `customers::insert`, thousands for
//! a bulk load.

use super::{NewCustomer, BVN_CONTEXT, PII_CONTEXT, SANDBOX_CONTEXT};
use crate::blind::{bvn_index, login_index, nin_index};
use crate::crypto::Keyring;
use crate::error::Result;
use crate::loader::Probe;
use crate::multirow::{Counted, InsertRow, SqlValue};

/// A customer ready to insert: the column values `customers::insert` writes.
///
/// Built with [`CustomerRow::new`] (pure CPU, so a loader can seal on another thread while the
/// previous batch is written). The id is chosen by the caller, so related rows of one batch can
/// refer to it before it is written.
#[derive(Clone, Debug)]
pub struct CustomerRow {
    id: String,
    new: NewCustomer,
    bvn_idx: Option<String>,
    bvn_enc: Option<Vec<u8>>,
    nin_idx: Option<String>,
    pii_enc: Vec<u8>,
    sandbox_enc: Option<Vec<u8>>,
    sandbox_login_idx: Option<String>,
    created_at: i64,
}

impl CustomerRow {
    /// Seals and indexes `new`; `created_at` defaults to now.
    pub fn new(keyring: &Keyring, id: String, new: NewCustomer) -> Result<Self> {
        let bvn = new.bvn.as_deref().map(crate::blind::normalise_digits);
        let sandbox = new.sandbox.as_ref().map(serde_json::to_vec).transpose()?;
        Ok(CustomerRow {
            id,
            bvn_idx: bvn.as_deref().map(|b| bvn_index(keyring, b)),
            bvn_enc: bvn.as_deref().map(|b| keyring.seal_str(BVN_CONTEXT, b)),
            nin_idx: new.pii.nin.as_deref().map(|n| nin_index(keyring, n)),
            pii_enc: keyring.seal(PII_CONTEXT, &serde_json::to_vec(&new.pii)?),
            sandbox_enc: sandbox.map(|s| keyring.seal(SANDBOX_CONTEXT, &s)),
            sandbox_login_idx: new
                .sandbox
                .as_ref()
                .map(|s| login_index(keyring, &s.username)),
            created_at: new.created_at.unwrap_or_else(okra_core::time::now_ms),
            new,
        })
    }

    /// The BVN blind index (what the unique index `customers_bvn` holds), if any.
    pub fn bvn_idx(&self) -> Option<&str> {
        self.bvn_idx.as_deref()
    }

    /// The login blind index (what the unique index `customers_sandbox_login` holds), if any.
    pub fn sandbox_login_idx(&self) -> Option<&str> {
        self.sandbox_login_idx.as_deref()
    }

    /// The customer's id.
    pub fn id(&self) -> &str {
        &self.id
    }

    /// The probe for which of `rows`' BVNs the tenant's customers already hold (a bulk load skips
    /// those people).
    pub fn bvn_probe<'a>(rows: impl IntoIterator<Item = &'a CustomerRow>) -> Probe<'a> {
        let values = rows.into_iter().filter_map(CustomerRow::bvn_idx).collect();
        Probe::new("customers", "bvn_idx", values)
    }

    /// The customer as given to [`CustomerRow::new`].
    pub fn customer(&self) -> &NewCustomer {
        &self.new
    }
}

impl InsertRow for CustomerRow {
    const INSERT: &'static str = "INSERT INTO customers (owner_id, env, id, name, bvn_idx, bvn_enc, nin_idx, pii_enc, sandbox_enc, sandbox_login_idx, sandbox_person, created_at, last_updated)";
    const COLUMNS: usize = 13;

    fn values<'a>(&'a self, out: &mut Vec<SqlValue<'a>>) {
        out.extend([
            SqlValue::from(self.id.as_str()),
            SqlValue::from(self.new.name.as_str()),
            SqlValue::from(self.bvn_idx.as_deref()),
            SqlValue::from(self.bvn_enc.as_deref()),
            SqlValue::from(self.nin_idx.as_deref()),
            SqlValue::from(self.pii_enc.as_slice()),
            SqlValue::from(self.sandbox_enc.as_deref()),
            SqlValue::from(self.sandbox_login_idx.as_deref()),
            SqlValue::from(self.new.sandbox_person),
            SqlValue::from(self.created_at),
            SqlValue::from(self.created_at),
        ]);
    }

    fn counted(&self) -> Option<Counted<'_>> {
        Some(Counted {
            collection: crate::counters::CUSTOMERS,
            customer: None,
            created_at: self.created_at,
            amounts: None,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn values_have_their_postgres_types() {
        let keyring = Keyring::generate();
        let new = NewCustomer {
            name: "Ada".into(),
            bvn: Some("22212345678".into()),
            sandbox_person: Some(1),
            ..NewCustomer::default()
        };
        let row = CustomerRow::new(&keyring, "c".into(), new).unwrap();
        let mut values = Vec::new();
        row.values(&mut values);
        crate::multirow::check_postgres_types(CustomerRow::INSERT, CustomerRow::COLUMNS, &values);
    }
}
