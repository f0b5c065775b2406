//! `GET banks/list` and `GET banks/getById`, and the Bank object of docs/api.md §8.

use axum::extract::State;
use axum::response::{IntoResponse, Response};
use okra_core::pagination::Pagination;
use okra_core::validate::Paging;
use okra_store::banks::BankRow;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use super::IdRequest;
use crate::app::AppState;
use crate::http::body::ValidQuery;
use crate::http::envelope::SuccessBody;
use crate::http::error::ApiResult;
use crate::http::{success, ApiError, SecretAuth};
use crate::services::banks;

/// Bank colours.
#[derive(Serialize, Deserialize, ToSchema)]
pub struct BankColors {
    /// Main colour.
    pub primary: String,
    /// Secondary colour.
    pub accent: String,
    /// Background.
    pub bg: String,
    /// Buttons.
    pub button: String,
    /// Icon.
    pub icon: String,
}

/// A bank as `banks/list` and `banks/getById` show it.
#[derive(Serialize, ToSchema)]
pub struct Bank {
    /// Okra bank id.
    pub _id: String,
    /// Same as `_id`.
    pub id: String,
    /// Display name.
    pub name: String,
    /// Okra slug.
    pub slug: String,
    /// CBN bank code.
    pub sortcode: String,
    /// NIBSS NIP institution code.
    pub nip_code: String,
    /// `bank`, `microfinance` or `mobile_money`.
    #[serde(rename = "type")]
    pub bank_type: String,
    /// Brand colours.
    pub colors: BankColors,
    /// Square icon URL (served by this server).
    pub icon: String,
    /// Logo URL.
    pub logo: String,
    /// Version-2 square icon URL.
    pub v2_icon: String,
    /// Version-2 logo URL.
    pub v2_logo: String,
    /// Products available at this bank.
    pub products: Vec<String>,
    /// Always `["NG"]`.
    pub countries: Vec<String>,
    /// Serves individuals.
    pub individual: bool,
    /// Serves companies.
    pub corporate: bool,
    /// `healthy`.
    pub status: String,
}

/// `data` of `banks/list`.
#[derive(Serialize, ToSchema)]
pub struct BankList {
    /// The banks.
    pub banks: Vec<Bank>,
    /// Always null (Okra's field for stored bank credentials).
    pub credentials: Option<String>,
    /// Present when the request asked for a page.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub pagination: Option<Pagination>,
}

/// The API's Bank for a stored bank; asset URLs point at this server.
fn to_bank(row: BankRow, public_url: &str) -> ApiResult<Bank> {
    let colors: BankColors = serde_json::from_str(&row.colors)
        .map_err(|e| ApiError::Internal(format!("bank colours: {e}")))?;
    let products: Vec<String> = serde_json::from_str(&row.products)
        .map_err(|e| ApiError::Internal(format!("bank products: {e}")))?;
    let asset = |file: &str| format!("{public_url}/assets/banks/{}/{file}", row.slug);
    Ok(Bank {
        _id: row.id.clone(),
        icon: asset("icon.svg"),
        logo: asset("logo.svg"),
        v2_icon: asset("v2_icon.svg"),
        v2_logo: asset("v2_logo.svg"),
        id: row.id,
        name: row.name,
        slug: row.slug,
        sortcode: row.sortcode,
        nip_code: row.nip_code,
        bank_type: row.bank_type,
        colors,
        products,
        countries: vec!["NG".into()],
        individual: row.individual,
        corporate: row.corporate,
        status: row.status,
    })
}

/// Lists every bank (`page`/`limit` in the query return one page with `pagination`).
#[utoipa::path(get, path = "/v2/banks/list", tag = "banks", params(Paging),
    responses((status = 200, description = "Banks retrieved", body = SuccessBody<BankList>),
              (status = 401, description = "Unauthorized"),
              (status = 422, description = "Invalid page or limit")),
    security(("bearer" = [])))]
pub async fn list(
    _auth: SecretAuth,
    State(state): State<AppState>,
    ValidQuery(paging): ValidQuery<Paging>,
) -> ApiResult<Response> {
    let page = banks::list(&state, paging.requested()).await?;
    let banks = page
        .banks
        .into_iter()
        .map(|row| to_bank(row, &state.public_url))
        .collect::<ApiResult<_>>()?;
    let data = BankList {
        banks,
        credentials: None,
        pagination: page.pagination,
    };
    Ok(success("Banks retrieved successfully", data).into_response())
}

/// One bank by its id.
#[utoipa::path(get, path = "/v2/banks/getById", tag = "banks", params(IdRequest),
    responses((status = 200, description = "Bank retrieved", body = SuccessBody<Bank>),
              (status = 400, description = "No bank has this id"),
              (status = 401, description = "Unauthorized"),
              (status = 422, description = "Missing or malformed id")),
    security(("bearer" = [])))]
pub async fn get_by_id(
    _auth: SecretAuth,
    State(state): State<AppState>,
    ValidQuery(query): ValidQuery<IdRequest>,
) -> ApiResult<Response> {
    let bank = to_bank(banks::get(&state, &query.id).await?, &state.public_url)?;
    Ok(success("Bank retrieved successfully", bank).into_response())
}
