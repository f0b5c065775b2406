//! The bank list (docs/api.md §8): every bank, or one page of them, and one bank by id.

use okra_core::pagination::{PageRequest, Pagination};
use okra_store::banks::BankRow;

use super::error::{Error, Result};
use crate::app::AppState;

/// Banks as stored, with the page metadata when a page was asked for.
pub struct BankPage {
    /// The banks, in the bank list's order.
    pub banks: Vec<BankRow>,
    /// Present when a page was asked for.
    pub pagination: Option<Pagination>,
}

/// Every bank, or one page of them when `page` is given.
pub async fn list(state: &AppState, page: Option<PageRequest>) -> Result<BankPage> {
    let (banks, pagination) = match page {
        Some(p) => {
            let (rows, total) = okra_store::banks::list(&state.db, p).await?;
            (rows, Some(p.paginate(total)))
        }
        None => (okra_store::banks::all(&state.db).await?, None),
    };
    Ok(BankPage { banks, pagination })
}

/// One bank by id ([`Error::NotFound`] when there is none).
pub async fn get(state: &AppState, id: &str) -> Result<BankRow> {
    okra_store::banks::get(&state.db, id)
        .await?
        .ok_or(Error::NotFound("Bank"))
}
