//! The bank list (docs/api.md §8): every bank, or one page of them, and one bank by id.

use std::sync::Arc;

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

/// The bank list in its order, from memory after the first call.
async fn catalogue(state: &AppState) -> Result<Arc<Vec<BankRow>>> {
    let banks = state
        .banks
        .get_or_try_init(|| async { okra_store::banks::all(&state.db).await.map(Arc::new) })
        .await?;
    Ok(banks.clone())
}

/// Every bank, or one page of them when `page` is given.
pub async fn list(state: &AppState, page: Option<PageRequest>) -> Result<BankPage> {
    let all = catalogue(state).await?;
    let (banks, pagination) = match page {
        Some(p) => {
            let offset = usize::try_from(p.offset()).unwrap_or(usize::MAX);
            let rows = all
                .iter()
                .skip(offset)
                .take(p.limit as usize)
                .cloned()
                .collect();
            (rows, Some(p.paginate(all.len() as u64)))
        }
        None => (all.as_ref().clone(), None),
    };
    Ok(BankPage { banks, pagination })
}

/// One bank by id ([`Error::NotFound`] when there is none).
pub async fn get(state: &AppState, id: &str) -> Result<BankRow> {
    catalogue(state)
        .await?
        .iter()
        .find(|b| b.id == id)
        .cloned()
        .ok_or(Error::NotFound("Bank"))
}
