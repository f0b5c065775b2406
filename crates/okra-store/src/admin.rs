//! Database administration the operator may ask for: recognising and creating a PostgreSQL
//! database that does not exist yet (`--create-database`).

use crate::db::{Db, DbOptions};
use crate::error::{Result, StoreError};

/// The database name of a `postgres://…/NAME?…` URL.
pub fn database_name(url: &str) -> Option<&str> {
    let rest = url.split_once("://")?.1;
    let path = rest.split_once('/')?.1;
    let name = path.split(['?', '#']).next()?;
    (!name.is_empty()).then_some(name)
}

/// `url` with its database name replaced by `name` (user, host and parameters kept).
fn with_database(url: &str, name: &str) -> String {
    let Some((scheme, rest)) = url.split_once("://") else {
        return url.to_string();
    };
    let (authority, path) = rest.split_once('/').unwrap_or((rest, ""));
    let suffix = path.find(['?', '#']).map_or("", |i| &path[i..]);
    format!("{scheme}://{authority}/{name}{suffix}")
}

/// True when `error` says the PostgreSQL database of the URL does not exist.
pub fn is_missing_database(error: &StoreError) -> bool {
    matches!(error, StoreError::DatabaseMissing(_))
}

/// Creates the database named in `url` by connecting to the server's `postgres` database.
/// Names are limited to letters, digits and `_` so the identifier needs no escaping.
pub async fn create_postgres_database(url: &str) -> Result<()> {
    let name = database_name(url)
        .ok_or_else(|| StoreError::Unavailable("the database URL names no database".into()))?;
    if name.is_empty() || !name.chars().all(|c| c.is_ascii_alphanumeric() || c == '_') {
        return Err(StoreError::Unavailable(format!(
            "cannot create database `{name}`: use a name of letters, digits and _ (or create it yourself)"
        )));
    }
    let maintenance = with_database(url, "postgres");
    let admin = Db::connect(&maintenance, &DbOptions::default()).await?;
    let created = sqlx::query(&format!("CREATE DATABASE \"{name}\""))
        .execute(admin.pool())
        .await;
    admin.close().await;
    created?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn database_name_of_urls() {
        assert_eq!(database_name("postgres://u:p@h:5432/okra"), Some("okra"));
        assert_eq!(
            database_name("postgres://h/okra?sslmode=disable"),
            Some("okra")
        );
        assert_eq!(database_name("postgres://h"), None);
        assert_eq!(database_name("postgres://h/"), None);
        assert_eq!(
            with_database("postgres://okra:pw@h/okra?sslmode=disable", "postgres"),
            "postgres://okra:pw@h/postgres?sslmode=disable"
        );
    }
}
