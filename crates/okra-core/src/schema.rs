//! The JSON Schemas of the typed requests, for `/openapi.json`.
//!
//! Each operation's typed request (its [`Validate`](crate::validate::Validate) impl) states
//! its schema beside it with [`request_schema!`](crate::request_schema), built from the field
//! schemas below. Each field schema mirrors one reader of [`Body`](crate::body::Body), so that a
//! body valid by the schema passes validation and a body the server accepts is valid by the
//! schema — schemathesis checks both ways (`scripts/schemathesis/run`). What the readers accept
//! besides the obvious is written down too: `null` means absent, numeric strings are numbers and
//! `"true"`/`"false"` booleans (Joi's conversions, which Okra's clients rely on).
//!
//! Rules a JSON Schema cannot state are in the field descriptions: a NUBAN's check digit, `from`
//! not after `to`, a webhook URL that resolves to an address the outbound policy allows.

use serde_json::{json, Map, Value};

use crate::body::MAX_STRING_LEN;
use crate::pagination::MAX_LIMIT;

/// A typed request with a JSON Schema of its body (or query).
pub trait RequestSchema {
    /// The schema's name in `components.schemas`.
    const NAME: &'static str;
    /// The schema.
    fn json_schema() -> Value;
}

/// Gives a typed request its schema: `request_schema!(Type, "Name", schema_expr)` implements
/// [`RequestSchema`] and utoipa's `ToSchema` (a `$ref` to `#/components/schemas/Name`, which
/// the server's `api::docs` fills in from its list of documented requests).
#[macro_export]
macro_rules! request_schema {
    ($ty:ty, $name:literal, $schema:expr) => {
        impl $crate::schema::RequestSchema for $ty {
            const NAME: &'static str = $name;
            fn json_schema() -> serde_json::Value {
                $schema
            }
        }
        impl utoipa::PartialSchema for $ty {
            fn schema() -> utoipa::openapi::RefOr<utoipa::openapi::schema::Schema> {
                utoipa::openapi::Ref::from_schema_name($name).into()
            }
        }
        impl utoipa::ToSchema for $ty {
            fn name() -> std::borrow::Cow<'static, str> {
                std::borrow::Cow::Borrowed($name)
            }
        }
    };
}

/// 24 hexadecimal characters (`Body::req_id`).
pub const ID_PATTERN: &str = "^[0-9a-fA-F]{24}$";

/// `{description}` added to `schema`.
fn described(mut schema: Value, description: &str) -> Value {
    schema["description"] = Value::String(description.to_string());
    schema
}

/// A body of `properties`, of which `required` must be present. Unknown fields are ignored, so
/// `additionalProperties` stays open; a body without required fields may be empty or `null`.
pub fn object(description: &str, properties: &[(&str, Value)], required: &[&str]) -> Value {
    let props: Map<String, Value> = properties
        .iter()
        .map(|(k, v)| (k.to_string(), v.clone()))
        .collect();
    let kind = if required.is_empty() {
        json!(["object", "null"])
    } else {
        json!("object")
    };
    json!({
        "type": kind,
        "description": description,
        "properties": props,
        "required": required,
    })
}

/// A required id (`Body::req_id`).
pub fn id(description: &str) -> Value {
    described(
        json!({"type": "string", "pattern": ID_PATTERN}),
        description,
    )
}

/// An optional id: absent, `null` or an id.
pub fn opt_id(description: &str) -> Value {
    described(
        json!({"type": ["string", "null"], "pattern": ID_PATTERN}),
        description,
    )
}

/// A required string with something besides spaces (`Body::req_str`).
pub fn text(description: &str) -> Value {
    described(
        json!({"type": "string", "pattern": "\\S", "maxLength": MAX_STRING_LEN}),
        description,
    )
}

/// An optional string (`Body::opt_str`).
pub fn opt_text(description: &str) -> Value {
    described(
        json!({"type": ["string", "null"], "maxLength": MAX_STRING_LEN}),
        description,
    )
}

/// An integer in `min..=max`, as a JSON number, a numeric string, or `null` (absent)
/// (`Body::opt_int_between`). `digits` is a pattern of the accepted numbers' digits.
fn int_between(description: &str, min: i64, max: i64, digits: &str) -> Value {
    json!({
        "description": description,
        "anyOf": [
            {"type": "integer", "minimum": min, "maximum": max},
            {"type": "string", "pattern": format!("^\\s*{digits}\\s*$")},
            {"type": "null"}
        ]
    })
}

/// `page`: 1 or more (default 1).
pub fn page() -> Value {
    int_between(
        "Page, 1 or more (default 1); a numeric string is taken as its number",
        1,
        i64::from(u32::MAX),
        "0*[1-9][0-9]{0,8}",
    )
}

/// `limit`: 1 to 100 (default 20).
pub fn limit() -> Value {
    int_between(
        &format!(
            "Page size, 1 to {MAX_LIMIT} (default 20); a numeric string is taken as its number"
        ),
        1,
        i64::from(MAX_LIMIT),
        "0*([1-9][0-9]?|100)",
    )
}

/// An optional integer in `min..=max` (`min` 0 or more). Its string form is documented for the
/// numbers with fewer digits than `max` (all of them when `max` is one digit), so that every
/// string the schema allows is accepted.
pub fn small_int(description: &str, min: i64, max: i64) -> Value {
    let shorter = max.to_string().len().saturating_sub(1).max(1);
    let digits = match (min, max) {
        (0..=9, 0..=9) => format!("0*[{min}-{max}]"),
        (0, _) => format!("0*[0-9]{{1,{shorter}}}"),
        _ => format!("0*[1-9][0-9]{{0,{}}}", shorter - 1),
    };
    int_between(description, min, max, &digits)
}

/// An optional boolean; `"true"`/`"false"` are taken as booleans (`Body::opt_bool`).
pub fn boolean(description: &str) -> Value {
    json!({
        "description": description,
        "anyOf": [
            {"type": "boolean"},
            {"type": "string", "enum": ["true", "false"]},
            {"type": "null"}
        ]
    })
}

/// A required boolean (present and not `null`).
pub fn req_boolean(description: &str) -> Value {
    json!({
        "description": description,
        "anyOf": [{"type": "boolean"}, {"type": "string", "enum": ["true", "false"]}]
    })
}

/// A required `YYYY-MM-DD` day (`Body::req_date`).
pub fn date(description: &str) -> Value {
    described(json!({"type": "string", "format": "date"}), description)
}

/// A required BVN: 11 ASCII digits (`Body::req_bvn`).
pub fn bvn() -> Value {
    described(
        json!({"type": "string", "pattern": "^[0-9]{11}$"}),
        "BVN: 11 digits",
    )
}

/// An optional BVN.
pub fn opt_bvn(description: &str) -> Value {
    described(
        json!({"type": ["string", "null"], "pattern": "^[0-9]{11}$"}),
        description,
    )
}

/// A required NUBAN (`Body::req_nuban_and_bank`).
pub fn nuban() -> Value {
    described(
        json!({"type": "string", "pattern": "^[0-9]{10}$"}),
        "Account number: 10 digits whose last is the check digit of the bank's CBN code \
         (CBN's NUBAN standard); a wrong check digit is refused (422)",
    )
}

/// Every bank's id and slug, as `bank` takes them (`banks::find`, any case).
fn bank_names() -> Vec<&'static str> {
    let banks = crate::banks::BANKS;
    banks
        .iter()
        .map(|b| b.id)
        .chain(banks.iter().map(|b| b.slug))
        .collect()
}

/// A required bank, by id or slug (alias `bank_id`).
pub fn bank() -> Value {
    json!({
        "type": "string",
        "enum": bank_names(),
        "description": "Bank id or slug (`banks/list`; alias `bank_id`); another value is answered \
            400 `Could not match bank identifier … with a valid bank`",
    })
}

/// An optional bank, by id or slug.
pub fn opt_bank(description: &str) -> Value {
    let mut names: Vec<Value> = bank_names().into_iter().map(Value::from).collect();
    names.push(Value::Null);
    json!({"type": ["string", "null"], "enum": names, "description": description})
}

/// `options` of a `getByOptions` read: 1 to `max` keys, every pair must match.
pub fn options_filter(max: usize) -> Value {
    json!({
        "type": "object",
        "minProperties": 1,
        "maxProperties": max,
        "description": format!("Custom ids given when linking: every key/value pair must match \
            (1 to {max} keys)"),
    })
}

/// An optional free-form object (`Body::opt_object`).
pub fn opt_object(description: &str) -> Value {
    described(json!({"type": ["object", "null"]}), description)
}

/// An optional array of strings of at most `max` items (`Body::opt_str_array`).
pub fn opt_str_array(description: &str, max: usize) -> Value {
    described(
        json!({"type": ["array", "null"], "maxItems": max,
               "items": {"type": "string", "maxLength": MAX_STRING_LEN}}),
        description,
    )
}

/// A required amount in naira: a number or numeric string with at most two decimals, at most
/// 10¹² either side of zero (`Body::req_amount_minor`).
pub fn amount(description: &str) -> Value {
    let max = crate::body::MAX_AMOUNT_MAJOR;
    json!({
        "description": description,
        "anyOf": [
            {"type": "number", "minimum": -max, "maximum": max, "multipleOf": 0.01},
            {"type": "string", "pattern": "^\\s*-?[0-9]{1,12}(\\.[0-9]{1,2})?\\s*$"}
        ]
    })
}

/// An optional webhook URL: absolute http(s), resolving to an address the outbound policy
/// allows; empty or `null` is absent.
pub fn webhook_url(description: &str) -> Value {
    json!({
        "description": format!(
            "{description}. An absolute http(s) URL without credentials whose host resolves: \
             in production not to a private, loopback or link-local address unless \
             `webhook_allowed_hosts` lists it (422 otherwise). Empty or null: none"
        ),
        "anyOf": [
            {"type": "string", "format": "uri", "pattern": "^\\s*https?://[^\\s/?#@]+",
             "maxLength": MAX_STRING_LEN},
            {"type": "string", "pattern": "^\\s*$"},
            {"type": "null"}
        ]
    })
}

/// Characters names and logins refuse (`body::has_control_or_invisible`), as a regex class body.
pub const CONTROL_OR_INVISIBLE: &str =
    "\\x00-\\x1f\\x7f-\\x9f\\u00ad\\u200b-\\u200f\\u202a-\\u202e\\u2060-\\u2064\\u2066-\\u2069\\ufeff";

/// An optional absolute http(s) URL (`redirect_url`); empty or `null` is absent.
pub fn opt_http_url(description: &str) -> Value {
    json!({
        "description": description,
        "anyOf": [
            {"type": "string", "format": "uri", "pattern": "^\\s*https?://[^\\s/?#@]+",
             "maxLength": MAX_STRING_LEN},
            {"type": "string", "pattern": "^\\s*$"},
            {"type": "null"}
        ]
    })
}

/// The buildWithOptions options a connection honours (`LinkOptions::read`); others are ignored.
pub fn link_options() -> Vec<(&'static str, Value)> {
    vec![
        (
            "products",
            opt_str_array(
                "Products: auth, accounts, identity, balance (others are ignored; default \
                 auth, identity, balance)",
                20,
            ),
        ),
        (
            "callback_url",
            webhook_url("Webhook URL of this connection (alias `webhook_url`)"),
        ),
        (
            "redirect_url",
            opt_http_url("Where the hosted widget sends the user after success"),
        ),
        (
            "options",
            opt_object("Custom ids, stored on the record and sent in every webhook"),
        ),
        ("meta", opt_object("Free metadata, kept the same way")),
        (
            "filter",
            json!({
                "type": ["object", "null"],
                "description": "`banks`: only these banks (ids or slugs) may be chosen; an \
                    unknown one is answered 400",
                "properties": {"banks": opt_str_array("Bank ids or slugs", 100)}
            }),
        ),
        (
            "multi_account",
            boolean("The user may connect several accounts"),
        ),
    ]
}
