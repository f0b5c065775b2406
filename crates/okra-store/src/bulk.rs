//! The former home of the row types and multi-row inserts, kept as re-exports so callers outside
//! this crate that still name `okra_store::bulk::…` build unchanged. New code names the table
//! module (`customers::CustomerRow`, `customers::insert_rows`, …) and [`crate::multirow`].
//!
//! This module holds no logic of its own and no table module imports it: dependencies point from here to
//! the tables, never back.

use std::borrow::Borrow;

use sqlx::AnyConnection;

pub use crate::customers::CustomerRow;
use crate::error::Result;
pub use crate::multirow::tune_connection;
use crate::Tenant;

/// Inserts customers on `conn`: [`crate::multirow::insert`] under its former name.
pub async fn insert_customers<R: Borrow<CustomerRow>>(
    conn: &mut AnyConnection,
    tenant: &Tenant,
    rows: &[R],
) -> Result<()> {
    let rows: Vec<&CustomerRow> = rows.iter().map(Borrow::borrow).collect();
    crate::multirow::insert(conn, tenant, &rows).await
}
