//! The identity reads: `identity/getById`, `getByBvn`, `getByNuban`, `getByCustomer`,
//! `getByDate`, `getByCustomerDate`, `getByOptions` (alias `byOptions`) and `products/identities`.

use axum::extract::State;
use axum::response::{IntoResponse, Response};
use okra_core::body::{Body, Invalid};
use okra_core::pagination::{PageRequest, Pagination};
use okra_core::schema;
use okra_core::validate::{bank_id, Paging, Rejection, Validate};
use okra_store::identities::IdentityFilter;
use serde::Serialize;
use serde_json::Value;
use utoipa::ToSchema;

use super::option_pairs;
use crate::app::AppState;
use crate::http::body::ValidJson;
use crate::http::envelope::{JsonObject, SuccessBody};
use crate::http::error::ApiResult;
use crate::http::{success, SecretAuth};
use crate::services::identity::{self, IdentityPage};

/// The reference's message of every identity read.
const RETRIEVED: &str = "Identity retrieved successfully";

/// `data` of the identity lists: `{pagination, identity:[Identity]}`.
#[derive(Serialize, ToSchema)]
pub struct IdentityList {
    /// Page metadata.
    pub pagination: Pagination,
    /// Identity objects, newest first.
    #[schema(value_type = Vec<Object>)]
    pub identity: Vec<Value>,
}

impl From<IdentityPage> for IdentityList {
    fn from(p: IdentityPage) -> Self {
        IdentityList {
            pagination: p.pagination,
            identity: p.identity,
        }
    }
}

fn list(page: IdentityPage) -> Response {
    success(RETRIEVED, IdentityList::from(page)).into_response()
}

/// Body of `identity/getById`.
#[derive(Debug)]
pub struct IdentityIdRequest {
    /// Identity id (24 hex characters).
    pub id: String,
    /// Page (default 1).
    pub page: Option<u32>,
    /// Page size (default 20, at most 100).
    pub limit: Option<u32>,
    paging: PageRequest,
}

okra_core::request_schema!(
    IdentityIdRequest,
    "IdentityById",
    schema::object(
        "One identity by id",
        &[
            ("id", schema::id("Identity id")),
            ("page", schema::page()),
            ("limit", schema::limit())
        ],
        &["id"]
    )
);

impl Validate for IdentityIdRequest {
    fn validate(value: Value) -> Result<Self, Rejection> {
        let body = Body::from_value(value)?;
        let id = body.req_id(&["id"])?;
        let paging = body.page()?;
        Ok(IdentityIdRequest {
            id,
            page: Some(paging.page),
            limit: Some(paging.limit),
            paging,
        })
    }
}

/// One identity by id, as a page of one (the reference's shape).
#[utoipa::path(post, path = "/v2/identity/getById", tag = "identity",
    request_body = IdentityIdRequest,
    responses((status = 200, description = "Identity retrieved", body = SuccessBody<IdentityList>),
              (status = 401, description = "Unauthorized"),
              (status = 422, description = "Missing or malformed id")),
    security(("bearer" = [])))]
pub async fn get_by_id(
    SecretAuth(tenant): SecretAuth,
    State(state): State<AppState>,
    ValidJson(req): ValidJson<IdentityIdRequest>,
) -> ApiResult<Response> {
    Ok(list(
        identity::by_id(&state, &tenant, &req.id, req.paging).await?,
    ))
}

/// Body of `identity/getByBvn`.
#[derive(Debug)]
pub struct BvnRequest {
    /// BVN (11 digits).
    pub bvn: String,
}

okra_core::request_schema!(
    BvnRequest,
    "IdentityByBvn",
    schema::object("A BVN", &[("bvn", schema::bvn())], &["bvn"])
);

impl Validate for BvnRequest {
    fn validate(value: Value) -> Result<Self, Rejection> {
        let bvn = Body::from_value(value)?.req_bvn()?;
        Ok(BvnRequest { bvn })
    }
}

/// The newest identity with a BVN.
#[utoipa::path(post, path = "/v2/identity/getByBvn", tag = "identity",
    request_body = BvnRequest,
    responses((status = 200, description = "Identity retrieved", body = SuccessBody<JsonObject>),
              (status = 400, description = "There is no identity available for this bvn"),
              (status = 401, description = "Unauthorized"),
              (status = 422, description = "Missing or malformed BVN")),
    security(("bearer" = [])))]
pub async fn get_by_bvn(
    SecretAuth(tenant): SecretAuth,
    State(state): State<AppState>,
    ValidJson(req): ValidJson<BvnRequest>,
) -> ApiResult<Response> {
    let data = identity::by_bvn(&state, &tenant, &req.bvn).await?;
    Ok(success(RETRIEVED, data).into_response())
}

/// Body of `identity/getByNuban`.
#[derive(Debug)]
pub struct NubanRequest {
    /// Bank id or slug.
    pub bank: String,
    /// Account number (10 digits, valid check digit for the bank).
    pub nuban: String,
}

okra_core::request_schema!(
    NubanRequest,
    "IdentityByNuban",
    schema::object_with_aliases(
        "An account at a bank",
        &[("bank", schema::bank()), ("nuban", schema::nuban())],
        &["bank", "nuban"],
        &[("bank", "bank_id")]
    )
);

impl Validate for NubanRequest {
    fn validate(value: Value) -> Result<Self, Rejection> {
        let body = Body::from_value(value)?;
        let (nuban, bank) = body.req_nuban_and_bank()?;
        let bank = bank_id(&bank)?;
        let info =
            okra_core::banks::find(&bank).ok_or_else(|| Rejection::UnknownBank(bank.clone()))?;
        if !info.accepts_account_number(&nuban) {
            return Err(Invalid("`nuban` must be a valid 10-digit NUBAN".into()).into());
        }
        Ok(NubanRequest { bank, nuban })
    }
}

/// The identity behind an account: the one verified by it, else its holder's newest.
#[utoipa::path(post, path = "/v2/identity/getByNuban", tag = "identity",
    request_body = NubanRequest,
    responses((status = 200, description = "Identity retrieved", body = SuccessBody<JsonObject>),
              (status = 400, description = "No identity for this NUBAN, or unknown bank"),
              (status = 401, description = "Unauthorized"),
              (status = 422, description = "Missing or malformed NUBAN or bank")),
    security(("bearer" = [])))]
pub async fn get_by_nuban(
    SecretAuth(tenant): SecretAuth,
    State(state): State<AppState>,
    ValidJson(req): ValidJson<NubanRequest>,
) -> ApiResult<Response> {
    let data = identity::by_nuban(&state, &tenant, &req.bank, &req.nuban).await?;
    Ok(success(RETRIEVED, data).into_response())
}

/// Body of the filtered identity lists.
#[derive(Debug)]
pub struct IdentityListRequest {
    /// Customer id (`getByCustomer`, `getByCustomerDate`).
    pub customer: Option<String>,
    /// First day, `YYYY-MM-DD` (`getByDate`, `getByCustomerDate`).
    pub from: Option<String>,
    /// Last day, `YYYY-MM-DD`, included.
    pub to: Option<String>,
    /// Custom ids given when linking (`getByOptions`): every pair must match.
    pub options: Option<Value>,
    /// Page (default 1).
    pub page: Option<u32>,
    /// Page size (default 20, at most 100).
    pub limit: Option<u32>,
    filter: Option<IdentityFilter>,
    paging: PageRequest,
}

/// Which filter a list request must carry.
#[derive(Clone, Copy)]
enum ListKind {
    Customer,
    Dates,
    CustomerDates,
    Options,
}

fn read_list(value: Value, kind: ListKind) -> Result<IdentityListRequest, Rejection> {
    let body = Body::from_value(value)?;
    let customer = || body.req_id(&["customer", "customer_id"]);
    let filter = match kind {
        ListKind::Customer => IdentityFilter::Customer(customer()?),
        ListKind::Dates => {
            let (from, to) = body.date_range()?;
            IdentityFilter::Dates { from, to }
        }
        ListKind::CustomerDates => {
            let customer = customer()?;
            let (from, to) = body.date_range()?;
            IdentityFilter::CustomerDates { customer, from, to }
        }
        ListKind::Options => IdentityFilter::Options(option_pairs(&body)?),
    };
    let paging = body.page()?;
    Ok(IdentityListRequest {
        customer: None,
        from: None,
        to: None,
        options: None,
        page: Some(paging.page),
        limit: Some(paging.limit),
        filter: Some(filter),
        paging,
    })
}

macro_rules! list_request {
    ($name:ident, $kind:expr) => {
        /// A list request checked for its operation's filter.
        #[derive(Debug)]
        pub struct $name(IdentityListRequest);
        impl Validate for $name {
            fn validate(value: Value) -> Result<Self, Rejection> {
                read_list(value, $kind).map($name)
            }
        }
    };
}

list_request!(CustomerList, ListKind::Customer);
list_request!(DateList, ListKind::Dates);
list_request!(CustomerDateList, ListKind::CustomerDates);
list_request!(OptionsList, ListKind::Options);

okra_core::request_schema!(
    CustomerList,
    "IdentityByCustomer",
    schema::object_with_aliases(
        "A customer's identities",
        &[
            ("customer", schema::customer_id()),
            ("page", schema::page()),
            ("limit", schema::limit())
        ],
        &["customer"],
        &[("customer", "customer_id")]
    )
);

okra_core::request_schema!(
    DateList,
    "IdentityByDate",
    schema::object(
        "Identities created within whole days",
        &[
            ("from", schema::from_date()),
            ("to", schema::to_date()),
            ("page", schema::page()),
            ("limit", schema::limit())
        ],
        &["from", "to"]
    )
);

okra_core::request_schema!(
    CustomerDateList,
    "IdentityByCustomerDate",
    schema::object_with_aliases(
        "A customer's identities created within whole days",
        &[
            ("customer", schema::customer_id()),
            ("from", schema::from_date()),
            ("to", schema::to_date()),
            ("page", schema::page()),
            ("limit", schema::limit())
        ],
        &["customer", "from", "to"],
        &[("customer", "customer_id")]
    )
);

okra_core::request_schema!(
    OptionsList,
    "IdentityByOptions",
    schema::object(
        "Identities of the connections whose custom ids match",
        &[
            (
                "options",
                schema::options_filter(okra_store::read::MAX_OPTION_PAIRS)
            ),
            ("page", schema::page()),
            ("limit", schema::limit())
        ],
        &["options"]
    )
);

async fn filtered(
    state: &AppState,
    tenant: &okra_store::Tenant,
    req: IdentityListRequest,
) -> ApiResult<Response> {
    let filter = req.filter.unwrap_or(IdentityFilter::All);
    Ok(list(
        identity::page(state, tenant, &filter, req.paging).await?,
    ))
}

/// A customer's identities, newest first.
#[utoipa::path(post, path = "/v2/identity/getByCustomer", tag = "identity",
    request_body = CustomerList,
    responses((status = 200, description = "Identities retrieved", body = SuccessBody<IdentityList>),
              (status = 401, description = "Unauthorized"),
              (status = 422, description = "Missing or malformed customer, page or limit")),
    security(("bearer" = [])))]
pub async fn get_by_customer(
    SecretAuth(tenant): SecretAuth,
    State(state): State<AppState>,
    ValidJson(CustomerList(req)): ValidJson<CustomerList>,
) -> ApiResult<Response> {
    filtered(&state, &tenant, req).await
}

/// Identities created from `from` to `to` (whole UTC days, both included).
#[utoipa::path(post, path = "/v2/identity/getByDate", tag = "identity",
    request_body = DateList,
    responses((status = 200, description = "Identities retrieved", body = SuccessBody<IdentityList>),
              (status = 401, description = "Unauthorized"),
              (status = 422, description = "Missing or malformed dates, or `from` after `to`")),
    security(("bearer" = [])))]
pub async fn get_by_date(
    SecretAuth(tenant): SecretAuth,
    State(state): State<AppState>,
    ValidJson(DateList(req)): ValidJson<DateList>,
) -> ApiResult<Response> {
    filtered(&state, &tenant, req).await
}

/// A customer's identities created from `from` to `to`.
#[utoipa::path(post, path = "/v2/identity/getByCustomerDate", tag = "identity",
    request_body = CustomerDateList,
    responses((status = 200, description = "Identities retrieved", body = SuccessBody<IdentityList>),
              (status = 401, description = "Unauthorized"),
              (status = 422, description = "Missing or malformed customer or dates")),
    security(("bearer" = [])))]
pub async fn get_by_customer_date(
    SecretAuth(tenant): SecretAuth,
    State(state): State<AppState>,
    ValidJson(CustomerDateList(req)): ValidJson<CustomerDateList>,
) -> ApiResult<Response> {
    filtered(&state, &tenant, req).await
}

/// Identities fetched by connections whose `options` hold every given pair.
#[utoipa::path(post, path = "/v2/identity/getByOptions", tag = "identity",
    request_body = OptionsList,
    responses((status = 200, description = "Identities retrieved", body = SuccessBody<IdentityList>),
              (status = 401, description = "Unauthorized"),
              (status = 422, description = "Missing or malformed options")),
    security(("bearer" = [])))]
pub async fn get_by_options(
    SecretAuth(tenant): SecretAuth,
    State(state): State<AppState>,
    ValidJson(OptionsList(req)): ValidJson<OptionsList>,
) -> ApiResult<Response> {
    filtered(&state, &tenant, req).await
}

/// The v1 name of `identity/getByOptions`, which client libraries still call.
#[utoipa::path(post, path = "/v2/identity/byOptions", tag = "identity",
    request_body = OptionsList,
    responses((status = 200, description = "Identities retrieved", body = SuccessBody<IdentityList>),
              (status = 401, description = "Unauthorized"),
              (status = 422, description = "Missing or malformed options")),
    security(("bearer" = [])))]
pub async fn by_options(
    auth: SecretAuth,
    state: State<AppState>,
    req: ValidJson<OptionsList>,
) -> ApiResult<Response> {
    get_by_options(auth, state, req).await
}

/// Every identity of the owner in this environment, newest first.
#[utoipa::path(post, path = "/v2/products/identities", tag = "identity",
    request_body = Paging,
    responses((status = 200, description = "Identities retrieved", body = SuccessBody<IdentityList>),
              (status = 401, description = "Unauthorized"),
              (status = 422, description = "Invalid page or limit")),
    security(("bearer" = [])))]
pub async fn all(
    SecretAuth(tenant): SecretAuth,
    State(state): State<AppState>,
    ValidJson(paging): ValidJson<Paging>,
) -> ApiResult<Response> {
    let page = identity::page(&state, &tenant, &IdentityFilter::All, paging.or_default()).await?;
    Ok(list(page))
}
