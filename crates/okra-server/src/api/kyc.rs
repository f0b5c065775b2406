//! The paid KYC verifies (`products/kyc/customer-verify`, `bvn-verify`, `nuban-verify`,
//! `nuban-name-verify`) and the wallet that pays for them (`wallet/get`, `wallet/receipts`).
//!
//! Each verify may carry an `Idempotency-Key` header: the same key with the same body within
//! `idempotency_ttl_hours` replays the first answer without a second charge.

use axum::extract::State;
use axum::http::HeaderMap;
use axum::response::{IntoResponse, Response};
use okra_core::body::{Body, Invalid};
use okra_core::schema;
use okra_core::validate::{Paging, Rejection, Validate};
use serde_json::{json, Value};

use crate::app::AppState;
use crate::http::body::ValidJson;
use crate::http::envelope::{replay, JsonObject, SuccessBody};
use crate::http::error::{ApiError, ApiResult};
use crate::http::{success, SecretAuth};
use crate::services::kyc::{self, Answer, IdempotencyKey, Subject, Verify};
use crate::services::wallet;

/// The longest `Idempotency-Key` accepted.
const MAX_KEY_LEN: usize = 255;

/// A verify's body, parsed, with the body itself for the idempotency hash.
#[derive(Debug)]
pub struct VerifyBody {
    verify: Verify,
    raw: Value,
}

fn flags(body: &Body) -> Result<(bool, Option<bool>), Invalid> {
    Ok((
        body.opt_bool("testing")?.unwrap_or(false),
        body.opt_bool("success")?,
    ))
}

macro_rules! verify_body {
    ($name:ident, |$body:ident| $subject:expr) => {
        /// A verify body of one operation.
        #[derive(Debug)]
        pub struct $name(VerifyBody);
        impl Validate for $name {
            fn validate(value: Value) -> Result<Self, Rejection> {
                let $body = Body::from_value(value.clone())?;
                let subject: Subject = $subject;
                let (testing, success) = flags(&$body)?;
                Ok($name(VerifyBody {
                    verify: Verify {
                        subject,
                        testing,
                        success,
                    },
                    raw: value,
                }))
            }
        }
    };
}

verify_body!(CustomerVerify, |body| Subject::Customer(
    body.req_id(&["customer", "customer_id"])?
));
verify_body!(BvnVerify, |body| Subject::Bvn(body.req_bvn()?));
verify_body!(NubanVerify, |body| {
    let (nuban, bank) = body.req_nuban_and_bank()?;
    let refresh = body.opt_bool("refresh")?;
    Subject::Nuban {
        bank,
        nuban,
        refresh,
    }
});
verify_body!(NubanNameVerify, |body| {
    let (nuban, bank) = body.req_nuban_and_bank()?;
    let no_bvn = body.opt_bool("no_bvn")?.unwrap_or(false);
    Subject::NubanName {
        bank,
        nuban,
        no_bvn,
    }
});

/// The bank of a NUBAN verify: any text here; an unknown bank is answered 400 by the verify
/// (Okra's `Could not match bank identifier …`, then `Invalid identity …` for 15 minutes).
fn kyc_bank() -> Value {
    let mut bank = schema::text(
        "Bank id or slug (`banks/list`; alias `bank_id`); an unknown one is answered 400",
    );
    bank["examples"] = serde_json::json!(["access-bank"]);
    bank
}

fn testing() -> Value {
    schema::boolean("Answer from the sandbox's sources, free of charge")
}

fn success_flag() -> Value {
    schema::boolean("With `testing` (or in the sandbox): `false` forces the failure answer")
}

okra_core::request_schema!(
    CustomerVerify,
    "CustomerVerify",
    schema::object_with_aliases(
        "Verify a customer's identity by the BVN on their profile",
        &[
            (
                "customer",
                schema::id("Customer id (alias `customer_id`); the profile must hold a BVN")
            ),
            ("testing", testing()),
            ("success", success_flag())
        ],
        &["customer"],
        &[("customer", "customer_id")]
    )
);

okra_core::request_schema!(
    BvnVerify,
    "BvnVerify",
    schema::object(
        "Verify a BVN",
        &[
            ("bvn", schema::bvn()),
            ("testing", testing()),
            ("success", success_flag())
        ],
        &["bvn"]
    )
);

okra_core::request_schema!(
    NubanVerify,
    "NubanVerify",
    schema::object_with_aliases(
        "Verify the identity behind an account",
        &[
            ("nuban", schema::nuban()),
            ("bank", kyc_bank()),
            (
                "refresh",
                schema::boolean("`false` returns a stored identity without asking the source")
            ),
            ("testing", testing()),
            ("success", success_flag())
        ],
        &["nuban", "bank"],
        &[("bank", "bank_id")]
    )
);

okra_core::request_schema!(
    NubanNameVerify,
    "NubanNameVerify",
    schema::object_with_aliases(
        "Verify an account holder's name",
        &[
            ("nuban", schema::nuban()),
            ("bank", kyc_bank()),
            (
                "no_bvn",
                schema::boolean("Sandbox: answer as if no BVN were linked to the account")
            ),
            ("testing", testing()),
            ("success", success_flag())
        ],
        &["nuban", "bank"],
        &[("bank", "bank_id")]
    )
);

/// The `Idempotency-Key` of a request, checked.
fn idempotency_key(
    headers: &HeaderMap,
    operation: &'static str,
    raw: &Value,
) -> Result<Option<IdempotencyKey>, ApiError> {
    let mut values = headers.get_all("idempotency-key").iter();
    let Some(value) = values.next() else {
        return Ok(None);
    };
    // Two keys are refused, not one of them picked: a proxy that kept the other one would make
    // a retry a second charge.
    if values.next().is_some() {
        return Err(ApiError::Validation(
            "`Idempotency-Key` must be sent once".into(),
        ));
    }
    let key = value
        .to_str()
        .ok()
        .filter(|k| {
            !k.is_empty() && k.len() <= MAX_KEY_LEN && k.bytes().all(|b| b.is_ascii_graphic())
        })
        .ok_or_else(|| {
            ApiError::Validation(format!(
                "`Idempotency-Key` must be 1 to {MAX_KEY_LEN} visible ASCII characters"
            ))
        })?;
    Ok(Some(IdempotencyKey {
        key: key.to_string(),
        operation,
        body: raw.clone(),
    }))
}

async fn answer(
    state: &AppState,
    tenant: &okra_store::Tenant,
    headers: &HeaderMap,
    operation: &'static str,
    body: VerifyBody,
) -> ApiResult<Response> {
    let key = idempotency_key(headers, operation, &body.raw)?;
    match kyc::verify(state, tenant, body.verify, key).await? {
        Answer::Fresh { message, data } => Ok(success(message, data).into_response()),
        Answer::Replay { status, body } => Ok(replay(status, body)),
    }
}

/// The identity of a customer, by the BVN on their profile (kyc form, with `record` and
/// `receipt`). Paid.
#[utoipa::path(post, path = "/v2/products/kyc/customer-verify", tag = "kyc",
    request_body = CustomerVerify,
    params(("Idempotency-Key" = Option<String>, Header, pattern = "^[!-~]{1,255}$", description = "Charge once: the same key and body replay the first answer")),
    responses((status = 200, description = "Identity verified", body = SuccessBody<JsonObject>),
              (status = 400, description = "No such customer, no BVN, no identity, or insufficient wallet balance"),
              (status = 401, description = "Unauthorized"),
              (status = 409, description = "The first call with this Idempotency-Key is still running"),
              (status = 422, description = "Invalid body, or an Idempotency-Key reused with another body"),
              (status = 503, description = "The data source timed out")),
    security(("bearer" = [])))]
pub async fn customer_verify(
    SecretAuth(tenant): SecretAuth,
    State(state): State<AppState>,
    headers: HeaderMap,
    ValidJson(CustomerVerify(body)): ValidJson<CustomerVerify>,
) -> ApiResult<Response> {
    answer(&state, &tenant, &headers, "customer-verify", body).await
}

/// The identity enrolled under a BVN (kyc form, with `record` and `receipt`). Paid.
#[utoipa::path(post, path = "/v2/products/kyc/bvn-verify", tag = "kyc",
    request_body = BvnVerify,
    params(("Idempotency-Key" = Option<String>, Header, pattern = "^[!-~]{1,255}$", description = "Charge once: the same key and body replay the first answer")),
    responses((status = 200, description = "Identity verified", body = SuccessBody<JsonObject>),
              (status = 400, description = "No identity for this BVN, or insufficient wallet balance"),
              (status = 401, description = "Unauthorized"),
              (status = 409, description = "The first call with this Idempotency-Key is still running"),
              (status = 422, description = "Invalid body, or an Idempotency-Key reused with another body"),
              (status = 503, description = "The data source timed out")),
    security(("bearer" = [])))]
pub async fn bvn_verify(
    SecretAuth(tenant): SecretAuth,
    State(state): State<AppState>,
    headers: HeaderMap,
    ValidJson(BvnVerify(body)): ValidJson<BvnVerify>,
) -> ApiResult<Response> {
    answer(&state, &tenant, &headers, "bvn-verify", body).await
}

/// The identity of an account's holder: `{identity, account:null, bank:{_id,slug}, customer,
/// receipt}`. Paid.
#[utoipa::path(post, path = "/v2/products/kyc/nuban-verify", tag = "kyc",
    request_body = NubanVerify,
    params(("Idempotency-Key" = Option<String>, Header, pattern = "^[!-~]{1,255}$", description = "Charge once: the same key and body replay the first answer")),
    responses((status = 200, description = "Identity verified", body = SuccessBody<JsonObject>),
              (status = 400, description = "Unknown bank, no identity for the NUBAN, the same invalid bank or NUBAN within 15 minutes, or insufficient wallet balance"),
              (status = 401, description = "Unauthorized"),
              (status = 409, description = "The first call with this Idempotency-Key is still running"),
              (status = 422, description = "Invalid body, or an Idempotency-Key reused with another body"),
              (status = 503, description = "The data source timed out")),
    security(("bearer" = [])))]
pub async fn nuban_verify(
    SecretAuth(tenant): SecretAuth,
    State(state): State<AppState>,
    headers: HeaderMap,
    ValidJson(NubanVerify(body)): ValidJson<NubanVerify>,
) -> ApiResult<Response> {
    answer(&state, &tenant, &headers, "nuban-verify", body).await
}

/// The name on an account: `{identity:{bvn (masked), name, nuban (masked), isBvnVerified}, bank,
/// customer, record:[id], receipt}`. Paid.
#[utoipa::path(post, path = "/v2/products/kyc/nuban-name-verify", tag = "kyc",
    request_body = NubanNameVerify,
    params(("Idempotency-Key" = Option<String>, Header, pattern = "^[!-~]{1,255}$", description = "Charge once: the same key and body replay the first answer")),
    responses((status = 200, description = "Account name retrieved", body = SuccessBody<JsonObject>),
              (status = 400, description = "Unknown bank, no such account, the same invalid bank or NUBAN within 15 minutes, or insufficient wallet balance"),
              (status = 401, description = "Unauthorized"),
              (status = 409, description = "The first call with this Idempotency-Key is still running"),
              (status = 422, description = "Invalid body, or an Idempotency-Key reused with another body"),
              (status = 503, description = "The data source timed out")),
    security(("bearer" = [])))]
pub async fn nuban_name_verify(
    SecretAuth(tenant): SecretAuth,
    State(state): State<AppState>,
    headers: HeaderMap,
    ValidJson(NubanNameVerify(body)): ValidJson<NubanNameVerify>,
) -> ApiResult<Response> {
    answer(&state, &tenant, &headers, "nuban-name-verify", body).await
}

/// Body of `wallet/get`: nothing (any object is accepted and ignored).
#[derive(Debug)]
pub struct WalletRequest {}

okra_core::request_schema!(
    WalletRequest,
    "WalletGet",
    schema::object("Nothing: any fields are ignored", &[], &[])
);

impl Validate for WalletRequest {
    fn validate(value: Value) -> Result<Self, Rejection> {
        Body::from_value(value)?;
        Ok(WalletRequest {})
    }
}

/// The wallet of this owner and environment: `{balance, currency, env, last_updated}`.
#[utoipa::path(post, path = "/v2/wallet/get", tag = "kyc",
    request_body = WalletRequest,
    responses((status = 200, description = "Wallet retrieved", body = SuccessBody<JsonObject>),
              (status = 401, description = "Unauthorized")),
    security(("bearer" = [])))]
pub async fn wallet(
    SecretAuth(tenant): SecretAuth,
    State(state): State<AppState>,
    ValidJson(_request): ValidJson<WalletRequest>,
) -> ApiResult<Response> {
    let w = wallet::get(&state, &tenant).await?;
    let data = json!({
        "balance": kyc::credits(w.balance_minor),
        "currency": w.currency,
        "env": crate::services::identity_profile::env_label(tenant.env),
        "last_updated": okra_core::time::iso_ms(w.updated_at),
    });
    Ok(success("Wallet retrieved successfully", data).into_response())
}

/// The receipts of paid calls, newest first: `{pagination, receipts:[receipt]}`.
#[utoipa::path(post, path = "/v2/wallet/receipts", tag = "kyc",
    request_body = Paging,
    responses((status = 200, description = "Receipts retrieved", body = SuccessBody<JsonObject>),
              (status = 401, description = "Unauthorized"),
              (status = 422, description = "Invalid page or limit")),
    security(("bearer" = [])))]
pub async fn receipts(
    SecretAuth(tenant): SecretAuth,
    State(state): State<AppState>,
    ValidJson(paging): ValidJson<Paging>,
) -> ApiResult<Response> {
    let (pagination, receipts) = wallet::receipts(&state, &tenant, paging.or_default()).await?;
    let data = json!({"pagination": pagination, "receipts": receipts});
    Ok(success("Receipts retrieved successfully", data).into_response())
}
