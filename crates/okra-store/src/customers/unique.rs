//! The customers' unique keys (BVN, sandbox login, network person): found clashing within one
//! insert, or already taken in the tenant, before anything is written.

use std::collections::HashSet;

use sqlx::AnyConnection;

use super::CustomerRow;
use crate::blind::login_index;
use crate::crypto::Keyring;
use crate::error::Result;
use crate::multirow;
use crate::Tenant;

/// A unique key that two customers of one insert share (see [`first_duplicate`]).
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Duplicate {
    /// The sandbox login username (compared as the unique index does: trimmed, any case); the
    /// username as the later row spells it.
    Login(String),
    /// The BVN.
    Bvn,
    /// The simulated network's person index.
    SandboxPerson,
}

/// The first unique key that two of `rows` share, checked in memory before anything is written:
/// a multi-row insert must fail as a whole, with a message naming the key, rather than leave the
/// database to find the clash.
pub fn first_duplicate(rows: &[CustomerRow]) -> Option<Duplicate> {
    let (mut logins, mut bvns, mut persons) = (HashSet::new(), HashSet::new(), HashSet::new());
    for row in rows {
        if let Some(idx) = row.sandbox_login_idx() {
            if !logins.insert(idx) {
                let username = row.customer().sandbox.as_ref().map(|s| s.username.clone());
                return Some(Duplicate::Login(username.unwrap_or_default()));
            }
        }
        if row.bvn_idx().is_some_and(|b| !bvns.insert(b)) {
            return Some(Duplicate::Bvn);
        }
        if row
            .customer()
            .sandbox_person
            .is_some_and(|p| !persons.insert(p))
        {
            return Some(Duplicate::SandboxPerson);
        }
    }
    None
}

/// Which of `usernames` already log in a sandbox customer of the tenant (one query), on `conn`
/// (the caller's transaction, so that on SQLite no other writer can add one meanwhile).
pub async fn existing_logins<'u>(
    conn: &mut AnyConnection,
    keyring: &Keyring,
    tenant: &Tenant,
    usernames: &[&'u str],
) -> Result<Vec<&'u str>> {
    if usernames.is_empty() {
        return Ok(Vec::new());
    }
    let indexes: Vec<String> = usernames.iter().map(|u| login_index(keyring, u)).collect();
    let probe: Vec<&str> = indexes.iter().map(String::as_str).collect();
    let found =
        multirow::existing_values(conn, tenant, "customers", "sandbox_login_idx", &probe).await?;
    Ok(usernames
        .iter()
        .zip(&indexes)
        .filter(|(_, idx)| found.contains(*idx))
        .map(|(u, _)| *u)
        .collect())
}

/// Which of the given BVN blind indexes ([`CustomerRow::bvn_idx`]) the tenant's customers
/// already hold, on `conn`: a loader skips those people instead of breaking the unique index.
pub async fn existing_bvn_indexes(
    conn: &mut AnyConnection,
    tenant: &Tenant,
    bvn_idxs: &[&str],
) -> Result<HashSet<String>> {
    multirow::existing_values(conn, tenant, "customers", "bvn_idx", bvn_idxs).await
}
