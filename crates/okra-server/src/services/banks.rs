//! The bank list and the Bank object of docs/api.md §8.

use okra_core::pagination::{PageRequest, Pagination};
use okra_store::banks::BankRow;
use serde::Serialize;
use utoipa::ToSchema;

use crate::app::AppState;
use crate::http::error::ApiResult;
use crate::http::ApiError;

/// Bank colours.
#[derive(Serialize, ToSchema, serde::Deserialize)]
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

/// Every bank, or one page of them when `page` is given.
pub async fn list(state: &AppState, page: Option<PageRequest>) -> ApiResult<BankList> {
    let (rows, pagination) = match page {
        Some(p) => {
            let (rows, total) = okra_store::banks::list(&state.db, p).await?;
            (rows, Some(p.paginate(total)))
        }
        None => (okra_store::banks::all(&state.db).await?, None),
    };
    let banks = rows
        .into_iter()
        .map(|r| to_bank(r, &state.public_url))
        .collect::<ApiResult<_>>()?;
    Ok(BankList {
        banks,
        credentials: None,
        pagination,
    })
}

/// One bank by id (400 when there is none).
pub async fn get(state: &AppState, id: &str) -> ApiResult<Bank> {
    let row = okra_store::banks::get(&state.db, id)
        .await?
        .ok_or_else(|| ApiError::BadRequest("Bank not found".into()))?;
    to_bank(row, &state.public_url)
}
