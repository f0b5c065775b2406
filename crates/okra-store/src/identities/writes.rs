//! Identity writes beyond the insert: a KYC verify refreshes the identity it verified before.

use sqlx::AnyConnection;

use super::{IdentityProfile, PII_CONTEXT};
use crate::blind::{bvn_index, nin_index};
use crate::crypto::Keyring;
use crate::error::Result;
use crate::Tenant;

/// The tenant's newest identity with this BVN blind index, else with this (bank, NUBAN) blind
/// index, on `conn` (inside the verify's transaction): its id, customer and creation time.
pub async fn find_existing_on(
    conn: &mut AnyConnection,
    tenant: &Tenant,
    bvn_idx: Option<&str>,
    nuban_idx: Option<&str>,
) -> Result<Option<(String, String, i64)>> {
    for (column, value) in [("bvn_idx", bvn_idx), ("nuban_idx", nuban_idx)] {
        let Some(value) = value else { continue };
        let row: Option<(String, String, i64)> = sqlx::query_as(&format!(
            "SELECT id, customer_id, created_at FROM identities \
             WHERE owner_id = $1 AND env = $2 AND {column} = $3 \
             ORDER BY created_at DESC, id DESC LIMIT 1"
        ))
        .bind(&tenant.owner_id)
        .bind(tenant.env.as_str())
        .bind(value)
        .fetch_optional(&mut *conn)
        .await?;
        if row.is_some() {
            return Ok(row);
        }
    }
    Ok(None)
}

/// Replaces the profile of identity `id` with what the source answered now, keeps its record (the
/// connection or verify that first fetched it: `getByOptions` finds it by that record's options;
/// a verify's own record is named in the verify's answer), keeps its (bank, NUBAN) index unless
/// the verify gave one, and sets `last_updated`.
#[allow(clippy::too_many_arguments)]
pub async fn refresh(
    conn: &mut AnyConnection,
    keyring: &Keyring,
    tenant: &Tenant,
    id: &str,
    record_id: Option<&str>,
    profile: &IdentityProfile,
    nuban_idx: Option<&str>,
    at: i64,
) -> Result<()> {
    let p = profile;
    let pii = keyring.seal(PII_CONTEXT, &serde_json::to_vec(&p.pii)?);
    sqlx::query(
        "UPDATE identities SET record_id = COALESCE(record_id, $1), bvn_idx = $2, nin_idx = $3, \
         nuban_idx = COALESCE($4, nuban_idx), firstname = $5, middlename = $6, lastname = $7, \
         fullname = $8, gender = $9, nationality = $10, lga_of_origin = $11, \
         lga_of_residence = $12, state_of_origin = $13, state_of_residence = $14, \
         marital_status = $15, verification_country = $16, score = $17, watch_listed = $18, \
         dti = $19, rc_number = $20, enrollment_bank = $21, enrollment_branch = $22, \
         enrollment_date = $23, pii_enc = $24, last_updated = $25 \
         WHERE id = $26 AND owner_id = $27 AND env = $28",
    )
    .bind(record_id)
    .bind(p.pii.bvn.as_deref().map(|v| bvn_index(keyring, v)))
    .bind(p.pii.nin.as_deref().map(|v| nin_index(keyring, v)))
    .bind(nuban_idx)
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
