//! The balance reads: `balance/getById`, `getByAccount`, `getByCustomer`, `getByDate`,
//! `getByCustomerDate`, `getByOptions` (alias `byOptions`), `getByType` and `products/balances`. Every one takes
//! `includePeriodic` (the daily history is shown unless it is `false`). And the runs:
//! `balance/refresh` and `balance/check`, answered at once with the run's `callback_url`.

use axum::extract::State;
use axum::response::{IntoResponse, Response};
use okra_core::body::Body;
use okra_core::body::Invalid;
use okra_core::pagination::{PageRequest, Pagination};
use okra_core::schema;
use okra_core::validate::{Rejection, Validate};
use okra_store::balances::{AmountKind, BalanceFilter};
use serde::Serialize;
use serde_json::Value;
use utoipa::ToSchema;

use super::option_pairs;
use crate::app::AppState;
use crate::http::body::ValidJson;
use crate::http::envelope::SuccessBody;
use crate::http::error::ApiResult;
use crate::http::{success, SecretAuth};
use crate::services::balance::{self, BalancePage};
use crate::services::balance_refresh::{self, Run, Started};

/// The reference's message of every balance read (its spelling).
const RETRIEVED: &str = "Balance retrieved succesfully";

/// `data` of the balance reads: `{pagination, balance:[Balance]}`.
#[derive(Serialize, ToSchema)]
pub struct BalanceList {
    /// Page metadata.
    pub pagination: Pagination,
    /// Balance objects, newest first.
    #[schema(value_type = Vec<Object>)]
    pub balance: Vec<Value>,
}

fn list(page: BalancePage) -> Response {
    success(
        RETRIEVED,
        BalanceList {
            pagination: page.pagination,
            balance: page.balance,
        },
    )
    .into_response()
}

/// Body of the balance reads (the fields each operation needs; see its description).
#[derive(Debug)]
pub struct BalanceListRequest {
    /// Balance id (`getById`).
    pub id: Option<String>,
    /// Account id (`getByAccount`; alias `account_id`, okra-node's name).
    pub account: Option<String>,
    /// Customer id (`getByCustomer`, `getByCustomerDate`).
    pub customer: Option<String>,
    /// First day, `YYYY-MM-DD` (`getByDate`, `getByCustomerDate`).
    pub from: Option<String>,
    /// Last day, `YYYY-MM-DD`, included.
    pub to: Option<String>,
    /// `available_balance` or `ledger_balance` (`getByType`).
    pub kind: Option<String>,
    /// The least amount, in naira (`getByType`; alias `amount`, okra_py's name): a number or a
    /// numeric string with at most two decimals.
    pub value: Option<Value>,
    /// Custom ids given when linking (`getByOptions`): every pair must match.
    pub options: Option<Value>,
    /// Page (default 1).
    pub page: Option<u32>,
    /// Page size (default 20, at most 100).
    pub limit: Option<u32>,
    /// `false` leaves the daily history (`periodic`) out.
    pub include_periodic: Option<bool>,
    read: Read,
}

/// What a balance read asks for, parsed.
#[derive(Debug, Default)]
struct Read {
    id: Option<String>,
    filter: Option<BalanceFilter>,
    paging: PageRequest,
    periodic: bool,
}

#[derive(Clone, Copy)]
enum Kind {
    Id,
    Account,
    Customer,
    Dates,
    CustomerDates,
    Options,
    Type,
    All,
}

fn read(value: Value, kind: Kind) -> Result<BalanceListRequest, Rejection> {
    let body = Body::from_value(value)?;
    let customer = || body.req_id(&["customer", "customer_id"]);
    let mut id = None;
    let filter = match kind {
        Kind::Id => {
            id = Some(body.req_id(&["id"])?);
            None
        }
        Kind::Account => Some(BalanceFilter::Account(
            body.req_id(&["account", "account_id"])?,
        )),
        Kind::Customer => Some(BalanceFilter::Customer(customer()?)),
        Kind::Dates => {
            let (from, to) = body.date_range()?;
            Some(BalanceFilter::Dates { from, to })
        }
        Kind::CustomerDates => {
            let customer = customer()?;
            let (from, to) = body.date_range()?;
            Some(BalanceFilter::CustomerDates { customer, from, to })
        }
        Kind::Options => Some(BalanceFilter::Options(option_pairs(&body)?)),
        Kind::Type => {
            let kind = AmountKind::parse(&body.req_str(&["type"])?).ok_or_else(|| {
                Invalid("`type` must be one of [available_balance, ledger_balance]".into())
            })?;
            let minor = body.req_amount_minor(&["value", "amount"])?;
            Some(BalanceFilter::AtLeast { kind, minor })
        }
        Kind::All => Some(BalanceFilter::All),
    };
    let paging = body.page()?;
    let periodic = body.opt_bool("includePeriodic")?.unwrap_or(true);
    Ok(BalanceListRequest {
        id: None,
        account: None,
        customer: None,
        from: None,
        to: None,
        kind: None,
        value: None,
        options: None,
        page: Some(paging.page),
        limit: Some(paging.limit),
        include_periodic: Some(periodic),
        read: Read {
            id,
            filter,
            paging,
            periodic,
        },
    })
}

macro_rules! balance_request {
    ($name:ident, $kind:expr) => {
        /// A balance read checked for its operation's fields.
        #[derive(Debug)]
        pub struct $name(BalanceListRequest);
        impl Validate for $name {
            fn validate(value: Value) -> Result<Self, Rejection> {
                read(value, $kind).map($name)
            }
        }
    };
}

balance_request!(ById, Kind::Id);
balance_request!(ByAccount, Kind::Account);
balance_request!(ByCustomer, Kind::Customer);
balance_request!(ByDate, Kind::Dates);
balance_request!(ByCustomerDate, Kind::CustomerDates);
balance_request!(ByOptions, Kind::Options);
balance_request!(ByType, Kind::Type);
balance_request!(AllBalances, Kind::All);

fn periodic() -> Value {
    schema::boolean("`false` leaves the daily history (`periodic`) out")
}

/// A balance read's body: `fields` (required) with paging and `includePeriodic`.
fn read_schema(description: &str, fields: &[(&str, Value)]) -> Value {
    let mut properties: Vec<(&str, Value)> = fields.to_vec();
    properties.push(("page", schema::page()));
    properties.push(("limit", schema::limit()));
    properties.push(("includePeriodic", periodic()));
    let required: Vec<&str> = fields.iter().map(|(name, _)| *name).collect();
    let aliases = [
        ("account", "account_id"),
        ("customer", "customer_id"),
        ("value", "amount"),
    ];
    schema::object_with_aliases(description, &properties, &required, &aliases)
}

okra_core::request_schema!(
    ById,
    "BalanceById",
    read_schema("One balance by id", &[("id", schema::id("Balance id"))])
);

okra_core::request_schema!(
    ByAccount,
    "BalanceByAccount",
    read_schema(
        "An account's balances",
        &[("account", schema::id("Account id (alias `account_id`)"))]
    )
);

okra_core::request_schema!(
    ByCustomer,
    "BalanceByCustomer",
    read_schema(
        "A customer's balances",
        &[("customer", schema::customer_id())]
    )
);

okra_core::request_schema!(
    ByDate,
    "BalanceByDate",
    read_schema(
        "Balances created within whole days",
        &[("from", schema::from_date()), ("to", schema::to_date())]
    )
);

okra_core::request_schema!(
    ByCustomerDate,
    "BalanceByCustomerDate",
    read_schema(
        "A customer's balances created within whole days",
        &[
            ("customer", schema::customer_id()),
            ("from", schema::from_date()),
            ("to", schema::to_date())
        ]
    )
);

okra_core::request_schema!(
    ByOptions,
    "BalanceByOptions",
    read_schema(
        "Balances of the connections whose custom ids match",
        &[(
            "options",
            schema::options_filter(okra_store::read::MAX_OPTION_PAIRS)
        )]
    )
);

okra_core::request_schema!(
    ByType,
    "BalanceByType",
    read_schema(
        "Balances whose amount of a kind is at least a value",
        &[
            (
                "type",
                serde_json::json!({"type": "string",
                    "enum": ["available_balance", "ledger_balance"]})
            ),
            (
                "value",
                schema::amount("The least amount, in naira (alias `amount`)")
            )
        ]
    )
);

okra_core::request_schema!(
    AllBalances,
    "BalanceAll",
    read_schema("Every balance of the owner and environment", &[])
);

async fn answer(
    state: &AppState,
    tenant: &okra_store::Tenant,
    req: BalanceListRequest,
) -> ApiResult<Response> {
    let r = req.read;
    let page = match (&r.id, &r.filter) {
        (Some(id), _) => balance::by_id(state, tenant, id, r.paging, r.periodic).await?,
        (None, Some(filter)) => balance::page(state, tenant, filter, r.paging, r.periodic).await?,
        (None, None) => {
            balance::page(state, tenant, &BalanceFilter::All, r.paging, r.periodic).await?
        }
    };
    Ok(list(page))
}

/// One balance by id, as a page of one (the reference's shape).
#[utoipa::path(post, path = "/v2/balance/getById", tag = "balance",
    request_body = ById,
    responses((status = 200, description = "Balance retrieved", body = SuccessBody<BalanceList>),
              (status = 401, description = "Unauthorized"),
              (status = 422, description = "Missing or malformed id")),
    security(("bearer" = [])))]
pub async fn get_by_id(
    SecretAuth(tenant): SecretAuth,
    State(state): State<AppState>,
    ValidJson(ById(req)): ValidJson<ById>,
) -> ApiResult<Response> {
    answer(&state, &tenant, req).await
}

/// An account's balances, newest first (`account` or `account_id`).
#[utoipa::path(post, path = "/v2/balance/getByAccount", tag = "balance",
    request_body = ByAccount,
    responses((status = 200, description = "Balances retrieved", body = SuccessBody<BalanceList>),
              (status = 401, description = "Unauthorized"),
              (status = 422, description = "Missing or malformed account, page or limit")),
    security(("bearer" = [])))]
pub async fn get_by_account(
    SecretAuth(tenant): SecretAuth,
    State(state): State<AppState>,
    ValidJson(ByAccount(req)): ValidJson<ByAccount>,
) -> ApiResult<Response> {
    answer(&state, &tenant, req).await
}

/// A customer's balances, newest first.
#[utoipa::path(post, path = "/v2/balance/getByCustomer", tag = "balance",
    request_body = ByCustomer,
    responses((status = 200, description = "Balances retrieved", body = SuccessBody<BalanceList>),
              (status = 401, description = "Unauthorized"),
              (status = 422, description = "Missing or malformed customer, page or limit")),
    security(("bearer" = [])))]
pub async fn get_by_customer(
    SecretAuth(tenant): SecretAuth,
    State(state): State<AppState>,
    ValidJson(ByCustomer(req)): ValidJson<ByCustomer>,
) -> ApiResult<Response> {
    answer(&state, &tenant, req).await
}

/// Balances created from `from` to `to` (whole UTC days, both included).
#[utoipa::path(post, path = "/v2/balance/getByDate", tag = "balance",
    request_body = ByDate,
    responses((status = 200, description = "Balances retrieved", body = SuccessBody<BalanceList>),
              (status = 401, description = "Unauthorized"),
              (status = 422, description = "Missing or malformed dates, or `from` after `to`")),
    security(("bearer" = [])))]
pub async fn get_by_date(
    SecretAuth(tenant): SecretAuth,
    State(state): State<AppState>,
    ValidJson(ByDate(req)): ValidJson<ByDate>,
) -> ApiResult<Response> {
    answer(&state, &tenant, req).await
}

/// A customer's balances created from `from` to `to`.
#[utoipa::path(post, path = "/v2/balance/getByCustomerDate", tag = "balance",
    request_body = ByCustomerDate,
    responses((status = 200, description = "Balances retrieved", body = SuccessBody<BalanceList>),
              (status = 401, description = "Unauthorized"),
              (status = 422, description = "Missing or malformed customer or dates")),
    security(("bearer" = [])))]
pub async fn get_by_customer_date(
    SecretAuth(tenant): SecretAuth,
    State(state): State<AppState>,
    ValidJson(ByCustomerDate(req)): ValidJson<ByCustomerDate>,
) -> ApiResult<Response> {
    answer(&state, &tenant, req).await
}

/// Balances fetched by connections whose `options` hold every given pair.
#[utoipa::path(post, path = "/v2/balance/getByOptions", tag = "balance",
    request_body = ByOptions,
    responses((status = 200, description = "Balances retrieved", body = SuccessBody<BalanceList>),
              (status = 401, description = "Unauthorized"),
              (status = 422, description = "Missing or malformed options")),
    security(("bearer" = [])))]
pub async fn get_by_options(
    SecretAuth(tenant): SecretAuth,
    State(state): State<AppState>,
    ValidJson(ByOptions(req)): ValidJson<ByOptions>,
) -> ApiResult<Response> {
    answer(&state, &tenant, req).await
}

/// The v1 name of `balance/getByOptions`, which okra_py still calls.
#[utoipa::path(post, path = "/v2/balance/byOptions", tag = "balance",
    request_body = ByOptions,
    responses((status = 200, description = "Balances retrieved", body = SuccessBody<BalanceList>),
              (status = 401, description = "Unauthorized"),
              (status = 422, description = "Missing or malformed options")),
    security(("bearer" = [])))]
pub async fn by_options(
    auth: SecretAuth,
    state: State<AppState>,
    req: ValidJson<ByOptions>,
) -> ApiResult<Response> {
    get_by_options(auth, state, req).await
}

/// Balances whose `type` amount (`available_balance` or `ledger_balance`) is at least `value` (or
/// `amount`) naira, largest first.
#[utoipa::path(post, path = "/v2/balance/getByType", tag = "balance",
    request_body = ByType,
    responses((status = 200, description = "Balances retrieved", body = SuccessBody<BalanceList>),
              (status = 401, description = "Unauthorized"),
              (status = 422, description = "Missing or malformed type or value, page or limit")),
    security(("bearer" = [])))]
pub async fn get_by_type(
    SecretAuth(tenant): SecretAuth,
    State(state): State<AppState>,
    ValidJson(ByType(req)): ValidJson<ByType>,
) -> ApiResult<Response> {
    answer(&state, &tenant, req).await
}

/// Every balance of the owner in this environment, newest first.
#[utoipa::path(post, path = "/v2/products/balances", tag = "balance",
    request_body = AllBalances,
    responses((status = 200, description = "Balances retrieved", body = SuccessBody<BalanceList>),
              (status = 401, description = "Unauthorized"),
              (status = 422, description = "Invalid page or limit")),
    security(("bearer" = [])))]
pub async fn all(
    SecretAuth(tenant): SecretAuth,
    State(state): State<AppState>,
    ValidJson(AllBalances(req)): ValidJson<AllBalances>,
) -> ApiResult<Response> {
    answer(&state, &tenant, req).await
}

/// Body of `balance/refresh` and `balance/check`.
#[derive(Debug)]
pub struct BalanceRunRequest {
    /// The account (alias `account`).
    pub account_id: String,
    /// Optional: the connection (of the account's customer) whose options, meta and webhook the
    /// run follows; by default the account's own.
    pub record_id: Option<String>,
}

okra_core::request_schema!(
    BalanceRunRequest,
    "BalanceRun",
    schema::object_with_aliases(
        "The account whose balance is fetched from its bank",
        &[
            ("account_id", schema::id("Account id (alias `account`)")),
            (
                "record_id",
                schema::opt_id(
                    "The connection (of the account's customer) whose options, meta and \
                     webhook the run follows (alias `record`); by default the account's own"
                )
            )
        ],
        &["account_id"],
        &[("account_id", "account"), ("record_id", "record")]
    )
);

impl Validate for BalanceRunRequest {
    fn validate(value: Value) -> Result<Self, Rejection> {
        let body = Body::from_value(value)?;
        let account_id = body.req_id(&["account_id", "account"])?;
        let record_id = match body.opt_str(&["record_id", "record"])? {
            Some(_) => Some(body.req_id(&["record_id", "record"])?),
            None => None,
        };
        Ok(BalanceRunRequest {
            account_id,
            record_id,
        })
    }
}

/// `data` of `balance/refresh` and `balance/check`.
#[derive(Serialize, ToSchema)]
pub struct BalanceRun {
    /// `GET` it for the run's outcome (`{"status":"processing"}` meanwhile).
    pub callback_url: String,
    /// The run's record.
    pub record: String,
    /// `BALANCE` (refresh) or `CHECK_BALANCE` (check).
    pub method: String,
}

/// The answer of a started (or joined) run.
fn started(s: Started) -> Response {
    success(
        "Balance checking...",
        BalanceRun {
            callback_url: s.callback_url,
            record: s.record,
            method: s.method.to_string(),
        },
    )
    .into_response()
}

/// Fetches an account's balance from its bank in the background; `callback_url` reports it.
/// Refreshes of one account within 60 seconds share one run (one record, one bank call).
#[utoipa::path(post, path = "/v2/balance/refresh", tag = "balance",
    request_body = BalanceRunRequest,
    responses((status = 200, description = "Refresh started (or joined)", body = SuccessBody<BalanceRun>),
              (status = 400, description = "No such account"),
              (status = 401, description = "Unauthorized"),
              (status = 422, description = "Missing or malformed account_id")),
    security(("bearer" = [])))]
pub async fn refresh(
    SecretAuth(tenant): SecretAuth,
    State(state): State<AppState>,
    ValidJson(req): ValidJson<BalanceRunRequest>,
) -> ApiResult<Response> {
    let record = req.record_id.as_deref();
    let run =
        balance_refresh::start(&state, &tenant, Run::Refresh, &req.account_id, record).await?;
    Ok(started(run))
}

/// Asks the bank whether an account's balance changed since it was last fetched, in the
/// background; `callback_url` reports `{balance_changed, last_checked, last_fetched}`.
#[utoipa::path(post, path = "/v2/balance/check", tag = "balance",
    request_body = BalanceRunRequest,
    responses((status = 200, description = "Check started (or joined)", body = SuccessBody<BalanceRun>),
              (status = 400, description = "No such account or record"),
              (status = 401, description = "Unauthorized"),
              (status = 422, description = "Missing or malformed account_id or record_id")),
    security(("bearer" = [])))]
pub async fn check(
    SecretAuth(tenant): SecretAuth,
    State(state): State<AppState>,
    ValidJson(req): ValidJson<BalanceRunRequest>,
) -> ApiResult<Response> {
    let record = req.record_id.as_deref();
    let run = balance_refresh::start(&state, &tenant, Run::Check, &req.account_id, record).await?;
    Ok(started(run))
}
