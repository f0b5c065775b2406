//! One identity, one shape: the profile the identity product stores for what a data source
//! reported (written the same way by a connection's identity job and by `sandbox load`), and the
//! Identity object the API and webhooks show for it.

use okra_core::source::SourceIdentity;
use okra_core::Environment;
use okra_store::identities::{Identity, IdentityPii, IdentityProfile, Photo};
use serde_json::{json, Value};

/// The identity profile stored for what the source reported. `photo_base` is this server's
/// public URL (sources give photo paths, not URLs).
pub fn profile(s: &SourceIdentity, photo_base: &str) -> anyhow::Result<IdentityProfile> {
    let next_of_kins = s
        .next_of_kins
        .iter()
        .map(serde_json::to_value)
        .collect::<Result<_, _>>()?;
    Ok(IdentityProfile {
        firstname: Some(s.firstname.clone()),
        middlename: s.middlename.clone(),
        lastname: Some(s.lastname.clone()),
        fullname: Some(s.fullname.clone()),
        gender: Some(s.gender.clone()),
        nationality: Some(s.nationality.clone()),
        lga_of_origin: Some(s.lga_of_origin.clone()),
        lga_of_residence: Some(s.lga_of_residence.clone()),
        state_of_origin: Some(s.state_of_origin.clone()),
        state_of_residence: Some(s.state_of_residence.clone()),
        marital_status: s.marital_status.clone(),
        verification_country: "NG".into(),
        score: Some(identity_score(s)),
        watch_listed: Some(s.watch_listed),
        dti: None,
        rc_number: s.rc_number.clone(),
        enrollment_bank: s.enrollment_bank.clone(),
        enrollment_branch: s.enrollment_branch.clone(),
        enrollment_date: s.registration_date.clone(),
        pii: IdentityPii {
            bvn: s.bvn.clone(),
            nin: s.nin.clone(),
            dob: Some(s.dob.clone()),
            phones: s.phones.clone(),
            emails: s.emails.clone(),
            addresses: s.addresses.clone(),
            aliases: s.aliases.clone(),
            next_of_kins,
            mothers_maiden: s.mothers_maiden.clone(),
            photo_id: s
                .photo
                .iter()
                .map(|p| Photo {
                    url: format!("{photo_base}{}", p.url_path),
                    image_type: p.image_type.clone(),
                })
                .collect(),
        },
    })
}

/// Completeness of an identity, 0–100: [`SourceIdentity::completeness`], the one score every
/// stored identity gets (connections, verifies and `sandbox load` alike).
pub fn identity_score(s: &SourceIdentity) -> i64 {
    i64::from(s.completeness())
}

/// The `env` value of data of `env` (Okra's widget and payloads say `production-sandbox`).
pub fn env_label(env: Environment) -> &'static str {
    match env {
        Environment::Sandbox => "production-sandbox",
        Environment::Production => "production",
    }
}

/// The Identity object (the identity/* form of the contract) for a stored identity of the
/// customer `customer_name`.
///
/// `score` is a string of the integer (`"66"`), as every example of the reference shows it.
/// `last_updated` is present only once the identity was refreshed after it was created (the
/// reference: "only returns this field when the data point already exists").
pub fn identity_object(identity: &Identity, customer_name: &str, env: Environment) -> Value {
    let p = &identity.profile;
    let pii = &p.pii;
    let mut v = json!({
        "id": identity.id,
        "_id": identity.id,
        "firstname": p.firstname,
        "middlename": p.middlename,
        "lastname": p.lastname,
        "fullname": p.fullname,
        "dob": pii.dob,
        "bvn": pii.bvn,
        "nin": pii.nin,
        "gender": p.gender,
        "customer": {"_id": identity.customer_id, "name": customer_name},
        "record": identity.record_id,
        "verification_country": p.verification_country,
        "env": env_label(env),
        "aliases": pii.aliases,
        "phone": pii.phones,
        "email": pii.emails,
        "address": pii.addresses,
        "nationality": p.nationality,
        "lga_of_origin": p.lga_of_origin,
        "lga_of_residence": p.lga_of_residence,
        "state_of_origin": p.state_of_origin,
        "state_of_residence": p.state_of_residence,
        "marital_status": p.marital_status,
        "mothers_maiden": pii.mothers_maiden,
        "next_of_kins": pii.next_of_kins,
        "score": p.score.map(|s| s.to_string()),
        "watch_listed": p.watch_listed,
        "dti": p.dti,
        "rc_number": p.rc_number,
        "photo_id": pii.photo_id.iter().map(|ph| json!({"url": ph.url, "image_type": ph.image_type})).collect::<Vec<_>>(),
        "enrollment": {
            "bank": p.enrollment_bank,
            "branch": p.enrollment_branch,
            "registration_date": p.enrollment_date,
        },
        "created_at": okra_core::time::iso_ms(identity.created_at),
    });
    if identity.last_updated > identity.created_at {
        v["last_updated"] = json!(okra_core::time::iso_ms(identity.last_updated));
    }
    v
}

/// The Identity object in the kyc form (`products/kyc/*`): `customer` is the customer's id and
/// `record` the record of the verify.
pub fn kyc_object(identity: &Identity, env: Environment) -> Value {
    let mut v = identity_object(identity, "", env);
    v["customer"] = json!(identity.customer_id);
    v["record"] = json!(identity.record_id);
    v
}
