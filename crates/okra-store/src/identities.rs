//! Identity profiles. Names, places and scores are plain columns (they are shown in lists and are
//! not among the protected fields); every protected field (BVN, NIN, date of birth, phones, emails,
//! addresses, aliases, next of kin, mother's maiden name, photo URLs) is sealed in one JSON value.

use okra_core::id::new_id;
use serde::{Deserialize, Serialize};
use serde_json::Value;
use sqlx::{AnyConnection, Row};

use crate::blind::{bvn_index, nin_index};
use crate::counters::IDENTITIES;
use crate::crypto::Keyring;
use crate::db::Db;
use crate::error::Result;
use crate::multirow::{self, Counted, InsertRow, SqlValue};
use crate::Tenant;

mod reads;
mod writes;

pub use reads::{
    find_by_bvn, find_by_nuban, get_view, page, IdentityFilter, IdentityView, PageSql, BY_BVN_SQL,
    BY_NUBAN_SQL, GET_SQL, MAX_OPTION_PAIRS,
};
pub use writes::{find_existing_on, link_account, refresh, Existing};

/// Associated-data context of this sealed column (see `rekey`).
pub const PII_CONTEXT: &str = "identities.pii";

/// A photo of the identity holder.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Photo {
    /// Where the image is served.
    pub url: String,
    /// `bvn_photo`, …
    pub image_type: String,
}

/// The sealed part of an identity.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct IdentityPii {
    /// BVN.
    pub bvn: Option<String>,
    /// NIN.
    pub nin: Option<String>,
    /// Date of birth, `YYYY-MM-DD`.
    pub dob: Option<String>,
    /// Phone numbers.
    pub phones: Vec<String>,
    /// Emails.
    pub emails: Vec<String>,
    /// Addresses.
    pub addresses: Vec<String>,
    /// Other names.
    pub aliases: Vec<String>,
    /// Next of kin, as the source returned them.
    pub next_of_kins: Vec<Value>,
    /// Mother's maiden name.
    pub mothers_maiden: Option<String>,
    /// Photos.
    pub photo_id: Vec<Photo>,
}

/// The whole profile.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct IdentityProfile {
    /// First name.
    pub firstname: Option<String>,
    /// Middle name.
    pub middlename: Option<String>,
    /// Last name.
    pub lastname: Option<String>,
    /// Full name.
    pub fullname: Option<String>,
    /// Gender.
    pub gender: Option<String>,
    /// Nationality.
    pub nationality: Option<String>,
    /// LGA of origin.
    pub lga_of_origin: Option<String>,
    /// LGA of residence.
    pub lga_of_residence: Option<String>,
    /// State of origin.
    pub state_of_origin: Option<String>,
    /// State of residence.
    pub state_of_residence: Option<String>,
    /// Marital status.
    pub marital_status: Option<String>,
    /// Country of verification (`NG`).
    pub verification_country: String,
    /// Completeness 0–100.
    pub score: Option<i64>,
    /// BVN watch-listed.
    pub watch_listed: Option<bool>,
    /// Debt-to-income ratio.
    pub dti: Option<f64>,
    /// Company registration number.
    pub rc_number: Option<String>,
    /// Enrollment bank code.
    pub enrollment_bank: Option<String>,
    /// Enrollment branch.
    pub enrollment_branch: Option<String>,
    /// Enrollment date.
    pub enrollment_date: Option<String>,
    /// Sealed fields.
    pub pii: IdentityPii,
}

/// A stored identity.
#[derive(Clone, Debug, PartialEq)]
pub struct Identity {
    /// Identity id.
    pub id: String,
    /// Customer.
    pub customer_id: String,
    /// Record that produced it.
    pub record_id: Option<String>,
    /// Profile.
    pub profile: IdentityProfile,
    /// Creation time (ms).
    pub created_at: i64,
    /// Last update (ms).
    pub last_updated: i64,
}

/// Inserts an identity on `conn`. Returns its id. The row is built by [`IdentityRow`], the one
/// place that seals and indexes an identity, and written by [`multirow::insert`] as bulk loads are.
pub async fn insert(
    conn: &mut AnyConnection,
    keyring: &Keyring,
    tenant: &Tenant,
    customer_id: &str,
    record_id: Option<&str>,
    profile: &IdentityProfile,
    created_at: Option<i64>,
) -> Result<String> {
    let id = new_id();
    let row = IdentityRow::new(
        keyring,
        id.clone(),
        customer_id,
        record_id,
        profile.clone(),
        created_at,
    )?;
    multirow::insert(conn, tenant, &[row]).await?;
    Ok(id)
}

/// An identity ready to insert: the column values [`insert`] writes, with an id chosen by the
/// caller.
#[derive(Clone, Debug)]
pub struct IdentityRow {
    id: String,
    customer_id: String,
    record_id: Option<String>,
    bvn_idx: Option<String>,
    nin_idx: Option<String>,
    profile: IdentityProfile,
    pii_enc: Vec<u8>,
    created_at: i64,
}

impl IdentityRow {
    /// Seals and indexes `profile`; `created_at` defaults to now.
    pub fn new(
        keyring: &Keyring,
        id: String,
        customer_id: &str,
        record_id: Option<&str>,
        profile: IdentityProfile,
        created_at: Option<i64>,
    ) -> Result<Self> {
        Ok(IdentityRow {
            id,
            customer_id: customer_id.to_string(),
            record_id: record_id.map(str::to_string),
            bvn_idx: profile.pii.bvn.as_deref().map(|v| bvn_index(keyring, v)),
            nin_idx: profile.pii.nin.as_deref().map(|v| nin_index(keyring, v)),
            pii_enc: keyring.seal(PII_CONTEXT, &serde_json::to_vec(&profile.pii)?),
            profile,
            created_at: created_at.unwrap_or_else(okra_core::time::now_ms),
        })
    }
}

impl InsertRow for IdentityRow {
    const INSERT: &'static str = "INSERT INTO identities (owner_id, env, id, customer_id, record_id, bvn_idx, nin_idx, firstname, middlename, lastname, fullname, gender, nationality, \
     lga_of_origin, lga_of_residence, state_of_origin, state_of_residence, marital_status, verification_country, score, watch_listed, dti, rc_number, \
     enrollment_bank, enrollment_branch, enrollment_date, pii_enc, created_at, last_updated)";
    const COLUMNS: usize = 29;

    fn values<'a>(&'a self, out: &mut Vec<SqlValue<'a>>) {
        let p = &self.profile;
        out.extend([
            SqlValue::from(self.id.as_str()),
            SqlValue::from(self.customer_id.as_str()),
            SqlValue::from(self.record_id.as_deref()),
            SqlValue::from(self.bvn_idx.as_deref()),
            SqlValue::from(self.nin_idx.as_deref()),
            SqlValue::from(p.firstname.as_deref()),
            SqlValue::from(p.middlename.as_deref()),
            SqlValue::from(p.lastname.as_deref()),
            SqlValue::from(p.fullname.as_deref()),
            SqlValue::from(p.gender.as_deref()),
            SqlValue::from(p.nationality.as_deref()),
            SqlValue::from(p.lga_of_origin.as_deref()),
            SqlValue::from(p.lga_of_residence.as_deref()),
            SqlValue::from(p.state_of_origin.as_deref()),
            SqlValue::from(p.state_of_residence.as_deref()),
            SqlValue::from(p.marital_status.as_deref()),
            SqlValue::from(p.verification_country.as_str()),
            SqlValue::from(p.score),
            SqlValue::from(p.watch_listed.map(i64::from)),
            SqlValue::from(p.dti),
            SqlValue::from(p.rc_number.as_deref()),
            SqlValue::from(p.enrollment_bank.as_deref()),
            SqlValue::from(p.enrollment_branch.as_deref()),
            SqlValue::from(p.enrollment_date.as_deref()),
            SqlValue::from(self.pii_enc.as_slice()),
            SqlValue::from(self.created_at),
            SqlValue::from(self.created_at),
        ]);
    }

    fn counted(&self) -> Option<Counted<'_>> {
        Some(Counted {
            collection: IDENTITIES,
            customer: Some(&self.customer_id),
            created_at: self.created_at,
            amounts: None,
        })
    }
}

const COLUMNS: &str = "id, customer_id, record_id, firstname, middlename, lastname, fullname, gender, nationality, lga_of_origin, lga_of_residence, \
    state_of_origin, state_of_residence, marital_status, verification_country, score, watch_listed, dti, rc_number, enrollment_bank, enrollment_branch, \
    enrollment_date, pii_enc, created_at, last_updated";

pub(crate) fn identity_from(keyring: &Keyring, r: &sqlx::any::AnyRow) -> Result<Identity> {
    let pii: Vec<u8> = r.try_get("pii_enc")?;
    Ok(Identity {
        id: r.try_get("id")?,
        customer_id: r.try_get("customer_id")?,
        record_id: r.try_get("record_id")?,
        profile: IdentityProfile {
            firstname: r.try_get("firstname")?,
            middlename: r.try_get("middlename")?,
            lastname: r.try_get("lastname")?,
            fullname: r.try_get("fullname")?,
            gender: r.try_get("gender")?,
            nationality: r.try_get("nationality")?,
            lga_of_origin: r.try_get("lga_of_origin")?,
            lga_of_residence: r.try_get("lga_of_residence")?,
            state_of_origin: r.try_get("state_of_origin")?,
            state_of_residence: r.try_get("state_of_residence")?,
            marital_status: r.try_get("marital_status")?,
            verification_country: r.try_get("verification_country")?,
            score: r.try_get("score")?,
            watch_listed: r.try_get::<Option<i64>, _>("watch_listed")?.map(|w| w != 0),
            dti: r.try_get("dti")?,
            rc_number: r.try_get("rc_number")?,
            enrollment_bank: r.try_get("enrollment_bank")?,
            enrollment_branch: r.try_get("enrollment_branch")?,
            enrollment_date: r.try_get("enrollment_date")?,
            pii: serde_json::from_slice(&keyring.open(PII_CONTEXT, &pii)?)?,
        },
        created_at: r.try_get("created_at")?,
        last_updated: r.try_get("last_updated")?,
    })
}

/// The newest identity that record `record_id` fetched, within the tenant.
pub async fn of_record(
    db: &Db,
    keyring: &Keyring,
    tenant: &Tenant,
    record_id: &str,
) -> Result<Option<Identity>> {
    let row = sqlx::query(&format!(
        "SELECT {COLUMNS} FROM identities WHERE owner_id = $1 AND env = $2 AND record_id = $3 ORDER BY created_at DESC, id DESC LIMIT 1"
    ))
    .bind(&tenant.owner_id)
    .bind(tenant.env.as_str())
    .bind(record_id)
    .fetch_optional(db.pool())
    .await?;
    row.as_ref().map(|r| identity_from(keyring, r)).transpose()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn values_have_their_postgres_types() {
        let keyring = crate::crypto::Keyring::generate();
        let mut profile = IdentityProfile {
            score: Some(90),
            watch_listed: Some(false),
            dti: Some(0.5),
            ..IdentityProfile::default()
        };
        profile.pii.bvn = Some("22212345678".into());
        let row = IdentityRow::new(&keyring, "i".into(), "c", Some("r"), profile, Some(1)).unwrap();
        let mut values = Vec::new();
        row.values(&mut values);
        crate::multirow::check_postgres_types(IdentityRow::INSERT, IdentityRow::COLUMNS, &values);
    }
}
