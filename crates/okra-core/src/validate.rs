//! Typed requests: the [`Validate`] step that turns a parsed JSON body into an operation's request
//! struct, refusing it with the first failing rule's Joi-style message (docs/api.md §5).
//!
//! Validation reads the JSON value through [`Body`] rather than through serde, so a client never sees
//! serde's wording: every refusal is one of the reference's messages, checked in the order the
//! reference lists the fields, with aliases (`id`/`customer`) and numeric strings (`"3"`) handled
//! here once for every operation.

use serde_json::Value;
use utoipa::IntoParams;

use crate::body::{Body, Invalid};
use crate::pagination::{PageRequest, DEFAULT_LIMIT};

/// Why a request body was refused before any work was done.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum Rejection {
    /// A rule failed: the Joi-style message, answered with 422.
    #[error("{0}")]
    Invalid(#[from] Invalid),
    /// A `bank` field names no bank: Okra answers this with its own 400 envelope, and in the
    /// middle of the field order, so it is a validation outcome rather than a lookup failure.
    #[error("unknown bank {0}")]
    UnknownBank(String),
}

/// An operation's request, built from its parsed JSON body (`null` when the body was empty).
pub trait Validate: Sized {
    /// The request, or the refusal of the first rule that fails.
    fn validate(value: Value) -> Result<Self, Rejection>;
}

/// The id of the bank a request names by id or slug; [`Rejection::UnknownBank`] otherwise.
pub fn bank_id(name: &str) -> Result<String, Rejection> {
    crate::banks::find(name)
        .map(|bank| bank.id.to_string())
        .ok_or_else(|| Rejection::UnknownBank(name.to_string()))
}

/// `page` and `limit` as a request gave them (both optional; numeric strings accepted): the body
/// of `customers/list` and the query of `banks/list`.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct Paging {
    /// Page number, 1 or more (default 1).
    #[param(value_type = Option<i64>, minimum = 1, maximum = 4294967295.0)]
    pub page: Option<u32>,
    /// Page size, 1–100 (default 20).
    #[param(value_type = Option<i64>, minimum = 1, maximum = 100)]
    pub limit: Option<u32>,
}

crate::request_schema!(
    Paging,
    "Paging",
    crate::schema::object(
        "A page of the list",
        &[
            ("page", crate::schema::page()),
            ("limit", crate::schema::limit())
        ],
        &[]
    )
);

impl Validate for Paging {
    fn validate(value: Value) -> Result<Self, Rejection> {
        Ok(Paging::read(&Body::from_value(value)?)?)
    }
}

impl Paging {
    /// Reads and checks `page` and `limit` with the reference's messages.
    pub fn read(body: &Body) -> Result<Self, Invalid> {
        let checked = body.page()?;
        Ok(Paging {
            page: body.raw(&["page"]).map(|_| checked.page),
            limit: body.raw(&["limit"]).map(|_| checked.limit),
        })
    }

    /// The page asked for, or `None` when neither `page` nor `limit` was given.
    pub fn requested(&self) -> Option<PageRequest> {
        (self.page.is_some() || self.limit.is_some()).then(|| self.or_default())
    }

    /// The page asked for, page 1 of 20 by default.
    pub fn or_default(&self) -> PageRequest {
        PageRequest {
            page: self.page.unwrap_or(1),
            limit: self.limit.unwrap_or(DEFAULT_LIMIT),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn paging(v: Value) -> Result<Paging, Invalid> {
        Paging::read(&Body::from_value(v).unwrap())
    }

    #[test]
    fn paging_keeps_what_was_given() {
        assert_eq!(paging(json!({})).unwrap().requested(), None);
        assert_eq!(
            paging(json!({})).unwrap().or_default(),
            PageRequest { page: 1, limit: 20 }
        );
        let p = paging(json!({"limit": "5"})).unwrap();
        assert_eq!(p.requested(), Some(PageRequest { page: 1, limit: 5 }));
        assert_eq!(
            paging(json!({"page": 0})).unwrap_err().0,
            "`page` must be an integer greater than or equal to 1"
        );
    }

    #[test]
    fn banks_by_id_or_slug() {
        assert_eq!(
            bank_id("guaranty-trust-bank").unwrap(),
            "5d6fe57a4099cc4b210bbeb3"
        );
        assert_eq!(
            bank_id("nope"),
            Err(Rejection::UnknownBank("nope".to_string()))
        );
    }
}
