//! Sandbox-only fault injection: `faults/create`, `faults/list`, `faults/delete`, `faults/clear`.
//! Mounted under the sandbox base paths only; the production paths do not exist.

use axum::extract::State;
use axum::response::{IntoResponse, Response};
use okra_core::body::{required, Body, Invalid};
use okra_core::schema;
use okra_core::time::iso_ms;
use okra_core::validate::{bank_id, Rejection, Validate};
use okra_store::faults::Fault as StoredFault;
use serde::Serialize;
use serde_json::{json, Value};
use utoipa::ToSchema;

use super::IdRequest;
use crate::app::AppState;
use crate::http::body::ValidJson;
use crate::http::envelope::SuccessBody;
use crate::http::error::ApiResult;
use crate::http::{success, SecretAuth};
use crate::services::faults::{self, FaultSpec, KINDS, TARGETED_KINDS};

/// Body of `faults/create`.
#[derive(Debug)]
pub struct FaultCreateRequest {
    /// bank_down, timeout, slow, otp_required, locked, invalid_credentials, invalid_identity,
    /// watch_listed or no_bvn (`kind` is accepted as an alias).
    pub kind: String,
    /// Bank id or slug the fault is limited to (every bank when absent; needed with `nuban`).
    pub bank: Option<String>,
    /// 11-digit BVN the fault is limited to.
    pub bvn: Option<String>,
    /// 10-digit NUBAN (at `bank`) the fault is limited to.
    pub nuban: Option<String>,
    /// Added latency in ms, 0-120000 (`slow` defaults to 5000).
    pub delay_ms: Option<u32>,
    /// How many calls it applies to, 1-1000000 (unlimited when absent).
    pub count: Option<u32>,
    /// Seconds until it stops applying, 1-2592000 (never when absent).
    pub expires_in: Option<u32>,
}

/// The schema of `faults/create`: every field, then the rules that tie them (a NUBAN comes
/// with its bank; the targeted kinds need their target).
fn fault_schema() -> Value {
    let kinds: Vec<&str> = KINDS.iter().map(|(k, _)| *k).collect();
    let given =
        |field: &str| json!({"required": [field], "properties": {field: {"type": "string"}}});
    // `kind` is another name of `type`, read when `type` is absent or null.
    let type_given =
        json!({"required": ["type"], "properties": {"type": {"not": {"type": "null"}}}});
    let kind_is = |kind: &str| {
        json!({"anyOf": [
            {"required": ["type"], "properties": {"type": {"const": kind}}},
            {"allOf": [
                {"not": type_given.clone()},
                {"required": ["kind"], "properties": {"kind": {"const": kind}}}
            ]}
        ]})
    };
    let kind_of = json!({"type": "string", "enum": kinds,
                         "description": "The fault's kind (alias `kind`)"});
    json!({
        "type": "object",
        "description": "A scripted fault of the simulated banks. Kinds: bank_down, timeout, slow, \
            otp_required, locked and invalid_credentials apply to a bank (or every bank), a BVN \
            or a NUBAN; invalid_identity needs a `bvn` or a `nuban`, watch_listed a `bvn`, \
            no_bvn a `nuban`; a `nuban` always comes with its `bank`",
        "properties": {
            "type": {"anyOf": [kind_of.clone(), {"type": "null"}]},
            "bank": schema::opt_bank("Bank id or slug the fault is limited to (every bank when \
                absent; needed with `nuban`); an unknown one is answered 400"),
            "bvn": schema::opt_bvn("11-digit BVN the fault is limited to"),
            "nuban": {"type": ["string", "null"], "pattern": "^[0-9]{10}$",
                      "description": "10-digit NUBAN (at `bank`) the fault is limited to"},
            "delay_ms": schema::small_int(
                "Added latency in ms, 0 to 120000 (`slow` defaults to 5000)", 0, 120_000),
            "count": schema::small_int(
                "How many calls it applies to, 1 to 1000000 (unlimited when absent)", 1, 1_000_000),
            "expires_in": schema::small_int(
                "Seconds until it stops applying, 1 to 2592000 (never when absent)", 1, 2_592_000),
        },
        "allOf": [
            {"if": type_given, "else": {"required": ["kind"], "properties": {"kind": kind_of}}},
            {"if": given("nuban"), "then": given("bank")},
            {"if": kind_is("watch_listed"), "then": given("bvn")},
            {"if": kind_is("no_bvn"), "then": given("nuban")},
            {"if": kind_is("invalid_identity"), "then": {"anyOf": [given("bvn"), given("nuban")]}},
        ]
    })
}

okra_core::request_schema!(FaultCreateRequest, "FaultCreate", fault_schema());

impl Validate for FaultCreateRequest {
    fn validate(value: Value) -> Result<Self, Rejection> {
        let body = Body::from_value(value)?;
        let kind = body.req_str(&["type", "kind"])?;
        if !KINDS.iter().any(|(k, _)| *k == kind) {
            let names: Vec<&str> = KINDS.iter().map(|(k, _)| *k).collect();
            return Err(Invalid(format!("`type` must be one of {}", names.join(", "))).into());
        }
        let bank = body.opt_str(&["bank"])?.map(|b| bank_id(&b)).transpose()?;
        let bvn = body.opt_str(&["bvn"])?;
        let nuban = body.opt_str(&["nuban"])?;
        if bvn
            .as_deref()
            .is_some_and(|b| !okra_core::digits::is_bvn_shaped(b))
        {
            return Err(Invalid("`bvn` must be 11 digits".into()).into());
        }
        if let Some(n) = &nuban {
            if !okra_core::digits::is_nuban_shaped(n) {
                return Err(Invalid("`nuban` must be a valid 10-digit NUBAN".into()).into());
            }
            if bank.is_none() {
                let message = "`nuban` is a required input and bank is required";
                return Err(Invalid(message.into()).into());
            }
        }
        if TARGETED_KINDS.contains(&kind.as_str()) && bvn.is_none() && nuban.is_none() {
            return Err(Invalid(format!("`bvn` or `nuban` is required for `{kind}`")).into());
        }
        if kind == "watch_listed" && bvn.is_none() {
            return Err(required("bvn").into());
        }
        if kind == "no_bvn" && nuban.is_none() {
            return Err(required("nuban").into());
        }
        let int = |name, min, max: i64| {
            body.opt_int_between(name, min, max)
                .map(|n| n.map(|n| n as u32))
        };
        Ok(FaultCreateRequest {
            delay_ms: int("delay_ms", 0, 120_000)?,
            count: int("count", 1, 1_000_000)?,
            expires_in: int("expires_in", 1, 30 * 86_400)?,
            kind,
            bank,
            bvn,
            nuban,
        })
    }
}

impl From<FaultCreateRequest> for FaultSpec {
    fn from(r: FaultCreateRequest) -> Self {
        FaultSpec {
            kind: r.kind,
            bank_id: r.bank,
            bvn: r.bvn,
            nuban: r.nuban,
            delay_ms: r.delay_ms.map(i64::from),
            count: r.count.map(i64::from),
            expires_in_secs: r.expires_in.map(i64::from),
        }
    }
}

/// Body of `faults/list` and `faults/clear`: nothing is read (any body is ignored).
#[derive(Debug)]
pub struct NoFields {}

okra_core::request_schema!(
    NoFields,
    "NoFields",
    schema::object("Nothing: any fields are ignored", &[], &[])
);

impl Validate for NoFields {
    fn validate(value: Value) -> Result<Self, Rejection> {
        Body::from_value(value)?;
        Ok(NoFields {})
    }
}

/// A scripted fault as the API shows it.
#[derive(Serialize, ToSchema)]
pub struct Fault {
    /// Fault id.
    pub id: String,
    /// Kind (see `faults/create`).
    #[serde(rename = "type")]
    pub kind: String,
    /// Bank id it is limited to, or null for every bank.
    pub bank: Option<String>,
    /// Masked BVN or NUBAN it is limited to, or null.
    pub target: Option<String>,
    /// Added latency (`slow`).
    pub delay_ms: i64,
    /// Applications left, or null for unlimited.
    pub remaining: Option<i64>,
    /// When it stops applying, or null.
    pub expires_at: Option<String>,
    /// When it was scripted.
    pub created_at: String,
}

impl From<StoredFault> for Fault {
    fn from(f: StoredFault) -> Self {
        Fault {
            id: f.id,
            kind: f.fault.kind,
            bank: f.fault.bank_id,
            target: f.fault.target_masked,
            delay_ms: f.fault.delay_ms,
            remaining: f.fault.remaining,
            expires_at: f.fault.expires_at.map(iso_ms),
            created_at: iso_ms(f.created_at),
        }
    }
}

/// `data` of `faults/list`.
#[derive(Serialize, ToSchema)]
pub struct FaultList {
    /// The faults that still apply.
    pub faults: Vec<Fault>,
}

/// `data` of `faults/delete` and `faults/clear`.
#[derive(Serialize, ToSchema)]
pub struct Deleted {
    /// How many faults were deleted.
    pub deleted: u64,
}

/// Scripts a fault.
#[utoipa::path(post, path = "/v2/sandbox/faults/create", tag = "sandbox",
    request_body = FaultCreateRequest,
    responses((status = 200, description = "Fault scripted", body = SuccessBody<Fault>),
              (status = 400, description = "Unknown bank"),
              (status = 401, description = "Unauthorized"),
              (status = 422, description = "Invalid fault")),
    security(("bearer" = [])))]
pub async fn create(
    SecretAuth(tenant): SecretAuth,
    State(state): State<AppState>,
    ValidJson(request): ValidJson<FaultCreateRequest>,
) -> ApiResult<Response> {
    let fault = faults::create(&state, &tenant, request.into()).await?;
    Ok(success("Fault created successfully", Fault::from(fault)).into_response())
}

/// The faults that still apply.
#[utoipa::path(post, path = "/v2/sandbox/faults/list", tag = "sandbox",
    request_body = NoFields,
    responses((status = 200, description = "Faults", body = SuccessBody<FaultList>),
              (status = 401, description = "Unauthorized")),
    security(("bearer" = [])))]
pub async fn list(
    SecretAuth(tenant): SecretAuth,
    State(state): State<AppState>,
    ValidJson(NoFields {}): ValidJson<NoFields>,
) -> ApiResult<Response> {
    let faults = faults::list(&state, &tenant).await?;
    let data = FaultList {
        faults: faults.into_iter().map(Fault::from).collect(),
    };
    Ok(success("Faults retrieved successfully", data).into_response())
}

/// Deletes one fault: `{id}`.
#[utoipa::path(post, path = "/v2/sandbox/faults/delete", tag = "sandbox",
    request_body = IdRequest,
    responses((status = 200, description = "Deleted", body = SuccessBody<Deleted>),
              (status = 400, description = "No such fault"),
              (status = 401, description = "Unauthorized"),
              (status = 422, description = "Missing id")),
    security(("bearer" = [])))]
pub async fn delete(
    SecretAuth(tenant): SecretAuth,
    State(state): State<AppState>,
    ValidJson(request): ValidJson<IdRequest>,
) -> ApiResult<Response> {
    let deleted = faults::delete(&state, &tenant, Some(&request.id)).await?;
    Ok(success("Fault deleted successfully", Deleted { deleted }).into_response())
}

/// Deletes every fault of the owner's sandbox.
#[utoipa::path(post, path = "/v2/sandbox/faults/clear", tag = "sandbox",
    request_body = NoFields,
    responses((status = 200, description = "Deleted", body = SuccessBody<Deleted>),
              (status = 401, description = "Unauthorized")),
    security(("bearer" = [])))]
pub async fn clear(
    SecretAuth(tenant): SecretAuth,
    State(state): State<AppState>,
    ValidJson(NoFields {}): ValidJson<NoFields>,
) -> ApiResult<Response> {
    let deleted = faults::delete(&state, &tenant, None).await?;
    Ok(success("Faults cleared successfully", Deleted { deleted }).into_response())
}
