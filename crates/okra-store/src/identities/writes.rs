//! Identity writes beyond the insert: a KYC verify refreshes the identity it verified before, and
//! remembers which account it verified it by (`identity_accounts`).

use sqlx::AnyConnection;

use super::{IdentityProfile, PII_CONTEXT};
use crate::blind::{bvn_index, nin_index};
use crate::crypto::Keyring;
use crate::error::Result;
use crate::Tenant;

/// An identity a verify may refresh.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Existing {
    /// Identity id.
    pub id: String,
    /// Its customer.
    pub customer_id: String,
    /// Its creation time (ms).
    pub created_at: i64,
}

/// The identity a verify refreshes, on `conn` (inside the verify's transaction): the tenant's
/// newest identity with this BVN blind index; else the identity this account (`nuban_idx`) was
/// last verified as — only if it is the same person (no BVN on it, or the same one), so an
/// account that changed hands never refreshes its former holder's profile.
pub async fn find_existing_on(
    conn: &mut AnyConnection,
    tenant: &Tenant,
    bvn_idx: Option<&str>,
    nuban_idx: Option<&str>,
) -> Result<Option<Existing>> {
    if let Some(bvn_idx) = bvn_idx {
        let row: Option<(String, String, i64)> = sqlx::query_as(
            "SELECT id, customer_id, created_at FROM identities \
             WHERE owner_id = $1 AND env = $2 AND bvn_idx = $3 \
             ORDER BY created_at DESC, id DESC LIMIT 1",
        )
        .bind(&tenant.owner_id)
        .bind(tenant.env.as_str())
        .bind(bvn_idx)
        .fetch_optional(&mut *conn)
        .await?;
        if let Some((id, customer_id, created_at)) = row {
            return Ok(Some(Existing {
                id,
                customer_id,
                created_at,
            }));
        }
    }
    let Some(nuban_idx) = nuban_idx else {
        return Ok(None);
    };
    let row: Option<(String, String, i64, Option<String>)> = sqlx::query_as(
        "SELECT i.id, i.customer_id, i.created_at, i.bvn_idx FROM identity_accounts a \
         JOIN identities i ON i.id = a.identity_id \
         WHERE a.owner_id = $1 AND a.env = $2 AND a.nuban_idx = $3",
    )
    .bind(&tenant.owner_id)
    .bind(tenant.env.as_str())
    .bind(nuban_idx)
    .fetch_optional(&mut *conn)
    .await?;
    Ok(row.and_then(|(id, customer_id, created_at, stored_bvn)| {
        let same_person = stored_bvn.is_none() || stored_bvn.as_deref() == bvn_idx;
        same_person.then_some(Existing {
            id,
            customer_id,
            created_at,
        })
    }))
}

/// Records that the account `nuban_idx` was verified as identity `identity_id` at `at` (the
/// account's latest verify wins), on the verify's transaction.
pub async fn link_account(
    conn: &mut AnyConnection,
    tenant: &Tenant,
    nuban_idx: &str,
    identity_id: &str,
    at: i64,
) -> Result<()> {
    sqlx::query(
        "INSERT INTO identity_accounts (owner_id, env, nuban_idx, identity_id, verified_at) \
         VALUES ($1, $2, $3, $4, $5) ON CONFLICT (owner_id, env, nuban_idx) \
         DO UPDATE SET identity_id = excluded.identity_id, verified_at = excluded.verified_at",
    )
    .bind(&tenant.owner_id)
    .bind(tenant.env.as_str())
    .bind(nuban_idx)
    .bind(identity_id)
    .bind(at)
    .execute(&mut *conn)
    .await?;
    Ok(())
}

/// Replaces the profile of identity `id` with what the source answered now, keeps its record (the
/// connection or verify that first fetched it: `getByOptions` finds it by that record's options;
/// a verify's own record is named in the verify's answer), and sets `last_updated`.
pub async fn refresh(
    conn: &mut AnyConnection,
    keyring: &Keyring,
    tenant: &Tenant,
    id: &str,
    record_id: Option<&str>,
    profile: &IdentityProfile,
    at: i64,
) -> Result<()> {
    let p = profile;
    let pii = keyring.seal(PII_CONTEXT, &serde_json::to_vec(&p.pii)?);
    sqlx::query(
        "UPDATE identities SET record_id = COALESCE(record_id, $1), bvn_idx = $2, nin_idx = $3, \
         firstname = $4, middlename = $5, lastname = $6, \
         fullname = $7, gender = $8, nationality = $9, lga_of_origin = $10, \
         lga_of_residence = $11, state_of_origin = $12, state_of_residence = $13, \
         marital_status = $14, verification_country = $15, score = $16, watch_listed = $17, \
         dti = $18, rc_number = $19, enrollment_bank = $20, enrollment_branch = $21, \
         enrollment_date = $22, pii_enc = $23, last_updated = $24 \
         WHERE id = $25 AND owner_id = $26 AND env = $27",
    )
    .bind(record_id)
    .bind(p.pii.bvn.as_deref().map(|v| bvn_index(keyring, v)))
    .bind(p.pii.nin.as_deref().map(|v| nin_index(keyring, v)))
    .bind(p.firstname.as_deref())
    .bind(p.middlename.as_deref())
    .bind(p.lastname.as_deref())
    .bind(p.fullname.as_deref())
    .bind(p.gender.as_deref())
    .bind(p.nationality.as_deref())
    .bind(p.lga_of_origin.as_deref())
    .bind(p.lga_of_residence.as_deref())
    .bind(p.state_of_origin.as_deref())
    .bind(p.state_of_residence.as_deref())
    .bind(p.marital_status.as_deref())
    .bind(p.verification_country.as_str())
    .bind(p.score)
    .bind(p.watch_listed.map(i64::from))
    .bind(p.dti)
    .bind(p.rc_number.as_deref())
    .bind(p.enrollment_bank.as_deref())
    .bind(p.enrollment_branch.as_deref())
    .bind(p.enrollment_date.as_deref())
    .bind(pii)
    .bind(at)
    .bind(id)
    .bind(&tenant.owner_id)
    .bind(tenant.env.as_str())
    .execute(&mut *conn)
    .await?;
    Ok(())
}
