//! `GET banks/list` and `GET banks/getById`.

use axum::extract::{Query, State};
use axum::response::{IntoResponse, Response};
use okra_core::body::Body;

use crate::app::AppState;
use crate::http::error::ApiResult;
use crate::http::{success, SecretAuth};
use crate::services::banks::{self, Bank, BankList};

/// Query-string pairs as a [`Body`], so GET parameters get the same validation messages.
type QueryPairs = Query<Vec<(String, String)>>;

fn query_body(Query(pairs): QueryPairs) -> Body {
    Body::from_pairs(pairs.iter().map(|(k, v)| (k.as_str(), v.as_str())))
}

/// Lists every bank (`page`/`limit` in the query return one page with `pagination`).
#[utoipa::path(get, path = "/v2/banks/list", tag = "banks",
    params(("page" = Option<u32>, Query, description = "Page number (with limit)"),
           ("limit" = Option<u32>, Query, description = "Page size, 1-100")),
    responses((status = 200, description = "Banks retrieved", body = BankList),
              (status = 401, description = "Unauthorized"),
              (status = 422, description = "Invalid page or limit")),
    security(("bearer" = [])))]
pub async fn list(
    _auth: SecretAuth,
    State(state): State<AppState>,
    query: QueryPairs,
) -> ApiResult<Response> {
    let query = query_body(query);
    let page = if query.raw(&["page"]).is_some() || query.raw(&["limit"]).is_some() {
        Some(query.page()?)
    } else {
        None
    };
    let data = banks::list(&state, page).await?;
    Ok(success("Banks retrieved successfully", data).into_response())
}

/// One bank by its id.
#[utoipa::path(get, path = "/v2/banks/getById", tag = "banks",
    params(("id" = String, Query, description = "Bank id")),
    responses((status = 200, description = "Bank retrieved", body = Bank),
              (status = 400, description = "No bank has this id"),
              (status = 401, description = "Unauthorized"),
              (status = 422, description = "Missing or malformed id")),
    security(("bearer" = [])))]
pub async fn get_by_id(
    _auth: SecretAuth,
    State(state): State<AppState>,
    query: QueryPairs,
) -> ApiResult<Response> {
    let query = query_body(query);
    let id = query.req_id(&["id"])?;
    let bank = banks::get(&state, &id).await?;
    Ok(success("Bank retrieved successfully", bank).into_response())
}
