//! Request-body validation with Joi-style messages (docs/api.md §5).
//!
//! Bodies are parsed to a JSON object first; each operation then reads its fields through [`Body`]
//! in the order the reference lists them, so the first failing rule produces the one message a
//! client sees. Unknown fields are ignored. Messages name fields in backticks as the reference does.

use serde_json::{Map, Value};

use crate::id::ObjectId;
use crate::pagination::{PageRequest, DEFAULT_LIMIT, MAX_LIMIT};

/// A validation failure: the Joi-style message shown with HTTP 422.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("{0}")]
pub struct Invalid(pub String);

/// Longest string, in characters (Unicode scalar values, as JSON Schema's `maxLength` counts),
/// accepted in any field unless an operation says otherwise (input limit).
pub const MAX_STRING_LEN: usize = 1024;

/// `` `field` is a required input``
pub fn required(field: &str) -> Invalid {
    Invalid(format!("`{field}` is a required input"))
}

/// `` `field` must be a string``
pub fn must_be_string(field: &str) -> Invalid {
    Invalid(format!("`{field}` must be a string"))
}

/// The largest amount of money (major units, either side of zero) a request may name.
pub const MAX_AMOUNT_MAJOR: i64 = 1_000_000_000_000;

fn must_be_amount(field: &str) -> Invalid {
    Invalid(format!(
        "`{field}` must be a number with at most 2 decimal places, between -{MAX_AMOUNT_MAJOR} and {MAX_AMOUNT_MAJOR}"
    ))
}

/// `-?digits(.d{0,2})?` in major units as minor units; `None` for anything else (exponents,
/// three decimals, more than 13 digits).
fn minor_units(text: &str) -> Option<i64> {
    let (negative, digits) = match text.strip_prefix('-') {
        Some(rest) => (true, rest),
        None => (false, text),
    };
    let (whole, fraction) = digits.split_once('.').unwrap_or((digits, ""));
    let all_digits = |s: &str| s.bytes().all(|b| b.is_ascii_digit());
    if whole.is_empty() || whole.len() > 13 || fraction.len() > 2 {
        return None;
    }
    if !all_digits(whole) || !all_digits(fraction) {
        return None;
    }
    let major: i64 = whole.parse().ok()?;
    let cents: i64 = format!("{fraction:0<2}").parse().ok()?;
    let minor = major * 100 + cents;
    Some(if negative { -minor } else { minor })
}

/// A JSON request body, read field by field.
#[derive(Debug, Default)]
pub struct Body {
    fields: Map<String, Value>,
}

impl Body {
    /// Wraps a parsed JSON value; anything but an object is refused with `body must be an object`.
    pub fn from_value(value: Value) -> Result<Self, Invalid> {
        match value {
            Value::Object(fields) => Ok(Body { fields }),
            Value::Null => Ok(Body::default()),
            _ => Err(Invalid("`body` must be an object".into())),
        }
    }

    /// Builds a body from query-string pairs (GET endpoints); every value is a string.
    pub fn from_pairs<'a>(pairs: impl IntoIterator<Item = (&'a str, &'a str)>) -> Self {
        let fields = pairs
            .into_iter()
            .map(|(k, v)| (k.to_string(), Value::String(v.to_string())))
            .collect();
        Body { fields }
    }

    /// The raw value of the first present name among `names` (aliases), treating `null` as absent.
    pub fn raw<'a>(&self, names: &[&'a str]) -> Option<(&'a str, &Value)> {
        names.iter().find_map(|n| match self.fields.get(*n) {
            None | Some(Value::Null) => None,
            Some(v) => Some((*n, v)),
        })
    }

    /// An optional string field (aliases accepted, first name used in messages).
    pub fn opt_str(&self, names: &[&str]) -> Result<Option<String>, Invalid> {
        match self.raw(names) {
            None => Ok(None),
            Some((_, Value::String(s))) if s.chars().count() <= MAX_STRING_LEN => {
                Ok(Some(s.clone()))
            }
            Some((_, Value::String(_))) => Err(Invalid(format!(
                "`{}` length must be less than or equal to {MAX_STRING_LEN} characters long",
                names[0]
            ))),
            Some(_) => Err(must_be_string(names[0])),
        }
    }

    /// A required, non-empty string field.
    pub fn req_str(&self, names: &[&str]) -> Result<String, Invalid> {
        match self.opt_str(names)? {
            Some(s) if !s.trim().is_empty() => Ok(s),
            _ => Err(required(names[0])),
        }
    }

    /// A required id (24 hex characters): `` `id` must be a valid id`` otherwise.
    pub fn req_id(&self, names: &[&str]) -> Result<String, Invalid> {
        let s = self.req_str(names)?;
        if ObjectId::is_valid(&s) {
            Ok(s.to_ascii_lowercase())
        } else {
            Err(Invalid(format!("`{}` must be a valid id", names[0])))
        }
    }

    /// An optional boolean; the strings `"true"`/`"false"` are accepted as Joi does by default.
    pub fn opt_bool(&self, name: &str) -> Result<Option<bool>, Invalid> {
        match self.raw(&[name]) {
            None => Ok(None),
            Some((_, Value::Bool(b))) => Ok(Some(*b)),
            Some((_, Value::String(s))) if s == "true" => Ok(Some(true)),
            Some((_, Value::String(s))) if s == "false" => Ok(Some(false)),
            Some(_) => Err(Invalid(format!("`{name}` must be a boolean"))),
        }
    }

    /// An optional integer within `[min, max]`; numeric strings are converted as Joi does.
    /// Fails with `` `name` must be an integer between min and max``.
    pub fn opt_int_between(&self, name: &str, min: i64, max: i64) -> Result<Option<i64>, Invalid> {
        let bad = || {
            Invalid(format!(
                "`{name}` must be an integer between {min} and {max}"
            ))
        };
        let n = match self.raw(&[name]) {
            None => return Ok(None),
            Some((_, Value::Number(n))) => match (n.as_i64(), n.as_f64()) {
                (Some(i), _) => i,
                (None, Some(f)) if f.fract() == 0.0 && f.abs() < 9.0e15 => f as i64,
                _ => return Err(bad()),
            },
            Some((_, Value::String(s))) => s.trim().parse::<i64>().map_err(|_| bad())?,
            Some(_) => return Err(bad()),
        };
        if (min..=max).contains(&n) {
            Ok(Some(n))
        } else {
            Err(bad())
        }
    }

    /// A required amount of money in major units (naira: `4000`, `"4000"`, `1250.5`), as minor
    /// units (kobo); a number or a numeric string with at most two decimals, at most
    /// [`MAX_AMOUNT_MAJOR`] either side of zero (aliases accepted, first name in messages).
    pub fn req_amount_minor(&self, names: &[&str]) -> Result<i64, Invalid> {
        let minor = match self.raw(names) {
            None => return Err(required(names[0])),
            // A JSON number is read as the decimal it was written as, to a double's 17 significant
            // digits: its shortest round-trip text (what serde_json's exact parsing gives back),
            // so `0.29` is 29 kobo and `0.30000000000000004` (a float sum sent unrounded) has
            // too many decimals. This is JSON Schema's `multipleOf: 0.01` as decimal validators
            // judge it.
            Some((_, Value::Number(n))) => match (n.as_i64(), n.as_f64()) {
                (Some(i), _) => i.checked_mul(100),
                // The bound is checked on the number itself: 1e300 has no short text.
                (None, Some(f)) if f.abs() <= MAX_AMOUNT_MAJOR as f64 => {
                    minor_units(&f.to_string())
                }
                _ => None,
            },
            Some((_, Value::String(s))) if s.chars().count() <= 64 => minor_units(s.trim()),
            Some(_) => None,
        };
        minor
            .filter(|m| m.abs() <= MAX_AMOUNT_MAJOR * 100)
            .ok_or_else(|| must_be_amount(names[0]))
    }

    /// `page` (default 1, integer >= 1) and `limit` (default 20, 1..=100).
    pub fn page(&self) -> Result<PageRequest, Invalid> {
        let page = self
            .opt_int_between("page", 1, i64::from(u32::MAX))
            .map_err(|_| Invalid("`page` must be an integer greater than or equal to 1".into()))?
            .unwrap_or(1);
        let limit = self
            .opt_int_between("limit", 1, i64::from(MAX_LIMIT))?
            .unwrap_or(i64::from(DEFAULT_LIMIT));
        Ok(PageRequest {
            page: page as u32,
            limit: limit as u32,
        })
    }

    /// An optional array of strings with at most `max_items` entries (`products`, `accounts`).
    pub fn opt_str_array(
        &self,
        name: &str,
        max_items: usize,
    ) -> Result<Option<Vec<String>>, Invalid> {
        match self.raw(&[name]) {
            None => Ok(None),
            Some((_, Value::Array(items))) => {
                if items.len() > max_items {
                    return Err(Invalid(format!(
                        "`{name}` must contain less than or equal to {max_items} items"
                    )));
                }
                items
                    .iter()
                    .enumerate()
                    .map(|(i, v)| match v {
                        Value::String(s) if s.chars().count() <= MAX_STRING_LEN => Ok(s.clone()),
                        _ => Err(Invalid(format!("`{name}[{i}]` must be a string"))),
                    })
                    .collect::<Result<Vec<_>, _>>()
                    .map(Some)
            }
            Some(_) => Err(Invalid(format!("`{name}` must be an array"))),
        }
    }

    /// A required BVN: `` `bvn` is a required input``, `` `bvn` must be 11 digits``.
    pub fn req_bvn(&self) -> Result<String, Invalid> {
        let bvn = self.req_str(&["bvn"])?;
        if crate::digits::is_bvn_shaped(&bvn) {
            Ok(bvn.trim().to_string())
        } else {
            Err(Invalid("`bvn` must be 11 digits".into()))
        }
    }

    /// A required NUBAN with its bank (id or slug, not resolved here): both missing is the
    /// reference's `` `nuban` is a required input and bank is required``; a NUBAN that is not 10
    /// digits is `` `nuban` must be a valid 10-digit NUBAN``.
    pub fn req_nuban_and_bank(&self) -> Result<(String, String), Invalid> {
        let nuban = self.opt_str(&["nuban"])?.filter(|n| !n.trim().is_empty());
        let bank = self
            .opt_str(&["bank", "bank_id"])?
            .filter(|b| !b.trim().is_empty());
        match (nuban, bank) {
            (None, None) => Err(Invalid(
                "`nuban` is a required input and bank is required".into(),
            )),
            (None, Some(_)) => Err(required("nuban")),
            (Some(n), _) if !crate::digits::is_nuban_shaped(&n) => {
                Err(Invalid("`nuban` must be a valid 10-digit NUBAN".into()))
            }
            (Some(_), None) => Err(required("bank")),
            (Some(n), Some(b)) => Ok((n.trim().to_string(), b.trim().to_string())),
        }
    }

    /// A required `YYYY-MM-DD` date: `` `from` must be a date in YYYY-MM-DD format``.
    pub fn req_date(&self, name: &str) -> Result<time::Date, Invalid> {
        let text = self.req_str(&[name])?;
        // Exactly `YYYY-MM-DD`, as JSON Schema's `format: date` states it: no spaces around.
        crate::time::parse_date(&text)
            .ok_or_else(|| Invalid(format!("`{name}` must be a date in YYYY-MM-DD format")))
    }

    /// `from` and `to`, whole days, `from` not after `to`.
    pub fn date_range(&self) -> Result<(time::Date, time::Date), Invalid> {
        let from = self.req_date("from")?;
        let to = self.req_date("to")?;
        if from > to {
            return Err(Invalid("`to` must be a date on or after `from`".into()));
        }
        Ok((from, to))
    }

    /// An optional JSON object field (`options`, `meta`).
    pub fn opt_object(&self, name: &str) -> Result<Option<&Map<String, Value>>, Invalid> {
        match self.raw(&[name]) {
            None => Ok(None),
            Some((_, Value::Object(m))) => Ok(Some(m)),
            Some(_) => Err(Invalid(format!("`{name}` must be an object"))),
        }
    }
}

/// Whether a `Content-Type` names JSON: `application/json` or `application/*+json`, any case,
/// parameters ignored.
pub fn is_json_content_type(content_type: &str) -> bool {
    let mime = content_type
        .split(';')
        .next()
        .unwrap_or("")
        .trim()
        .to_ascii_lowercase();
    mime == "application/json" || (mime.starts_with("application/") && mime.ends_with("+json"))
}

/// Whether `s` holds a control character (C0, DEL, C1) or an invisible formatting character
/// (zero-width spaces and joiners, bidirectional overrides and isolates, the byte-order mark, the
/// soft hyphen): text a person would read differently from what is stored, so names and logins
/// refuse it.
pub fn has_control_or_invisible(s: &str) -> bool {
    s.chars().any(|c| {
        c.is_control()
            || matches!(c,
                '\u{00AD}' | '\u{200B}'..='\u{200F}' | '\u{202A}'..='\u{202E}'
                | '\u{2060}'..='\u{2064}' | '\u{2066}'..='\u{2069}' | '\u{FEFF}')
    })
}

/// Maximum nesting depth accepted in a JSON body (input limit against stack exhaustion).
pub const MAX_JSON_DEPTH: usize = 32;

/// Most items any array in a request body may hold.
pub const MAX_ARRAY_ITEMS: usize = 100;

/// The Joi-style message for the first array anywhere in `value` holding more than `max` items
/// (`` `accounts` must contain less than or equal to 100 items``), named by its path (`value` for
/// a top-level array, `a.b[2].c` inside objects and arrays).
pub fn oversized_array(value: &Value, max: usize) -> Option<Invalid> {
    fn walk(v: &Value, path: &str, max: usize) -> Option<String> {
        match v {
            Value::Array(a) if a.len() > max => Some(path.to_string()),
            Value::Array(a) => a
                .iter()
                .enumerate()
                .find_map(|(i, x)| walk(x, &format!("{path}[{i}]"), max)),
            Value::Object(o) => o.iter().find_map(|(k, x)| {
                let inner = if path == "value" {
                    k.clone()
                } else {
                    format!("{path}.{k}")
                };
                walk(x, &inner, max)
            }),
            _ => None,
        }
    }
    walk(value, "value", max).map(|p| {
        Invalid(format!(
            "`{p}` must contain less than or equal to {max} items"
        ))
    })
}

/// Depth of a JSON value (a scalar is depth 0), stopping early once `limit` is exceeded.
pub fn depth_exceeds(value: &Value, limit: usize) -> bool {
    fn walk(v: &Value, remaining: usize) -> bool {
        match v {
            Value::Array(a) => remaining == 0 || a.iter().any(|x| walk(x, remaining - 1)),
            Value::Object(o) => remaining == 0 || o.values().any(|x| walk(x, remaining - 1)),
            _ => false,
        }
    }
    walk(value, limit)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn body(v: Value) -> Body {
        Body::from_value(v).unwrap()
    }

    #[test]
    fn required_and_type_messages() {
        let b = body(json!({"customer": 12, "empty": "  "}));
        assert_eq!(
            b.req_str(&["nuban"]).unwrap_err().0,
            "`nuban` is a required input"
        );
        assert_eq!(
            b.req_str(&["customer"]).unwrap_err().0,
            "`customer` must be a string"
        );
        assert_eq!(
            b.req_str(&["empty"]).unwrap_err().0,
            "`empty` is a required input"
        );
        assert!(Body::from_value(json!([1])).is_err());
    }

    #[test]
    fn amounts_are_read_exactly_in_minor_units() {
        let amount = |v: Value| body(json!({ "value": v })).req_amount_minor(&["value", "amount"]);
        assert_eq!(amount(json!(4000)), Ok(400_000));
        assert_eq!(amount(json!("4000")), Ok(400_000));
        assert_eq!(amount(json!(1250.5)), Ok(125_050));
        assert_eq!(amount(json!(" 0.07 ")), Ok(7));
        assert_eq!(amount(json!("-12.34")), Ok(-1_234));
        assert_eq!(amount(json!(1e3)), Ok(100_000));
        assert_eq!(amount(json!(1_000_000_000_000i64)), Ok(100_000_000_000_000));
        assert_eq!(amount(json!(0.29)), Ok(29));
        assert_eq!(amount(json!(1250.1)), Ok(125_010));
        assert_eq!(amount(json!(-0.0)), Ok(0));
        assert_eq!(amount(json!(-0.07)), Ok(-7));
        for bad in [
            json!("1000000000000.01"),
            json!(1_000_000_000_000.5),
            json!(1.234),
            json!(0.1 + 0.2),
            json!(0.0700000001),
            json!("1.234"),
            json!("12a"),
            json!(""),
            json!("."),
            json!("1e3"),
            json!(true),
            json!([1]),
            json!(1_000_000_000_001i64),
            json!(1e300),
        ] {
            let e = amount(bad.clone()).unwrap_err();
            assert!(e.0.starts_with("`value` must be a number"), "{bad}: {e}");
        }
        let by_alias = body(json!({"amount": "5"})).req_amount_minor(&["value", "amount"]);
        assert_eq!(by_alias, Ok(500));
        let missing = body(json!({})).req_amount_minor(&["value", "amount"]);
        assert_eq!(missing.unwrap_err().0, "`value` is a required input");
    }

    #[test]
    fn aliases_and_nulls() {
        let b = body(json!({"account_id": "5d6fe57a4099cc4b210bbec0", "account": null}));
        assert_eq!(
            b.req_id(&["account", "account_id"]).unwrap(),
            "5d6fe57a4099cc4b210bbec0"
        );
        let b = body(json!({"id": "nope"}));
        assert_eq!(b.req_id(&["id"]).unwrap_err().0, "`id` must be a valid id");
    }

    #[test]
    fn pagination_defaults_and_bounds() {
        assert_eq!(
            body(json!({})).page().unwrap(),
            PageRequest { page: 1, limit: 20 }
        );
        assert_eq!(
            body(json!({"page": "3", "limit": 5})).page().unwrap(),
            PageRequest { page: 3, limit: 5 }
        );
        let msg = "`limit` must be an integer between 1 and 100";
        for bad in [
            json!(0),
            json!(101),
            json!("x"),
            json!(1.5),
            json!(true),
            json!(-1),
        ] {
            assert_eq!(body(json!({"limit": bad})).page().unwrap_err().0, msg);
        }
        for bad in [json!(0), json!("a"), json!(2.5), json!(-3)] {
            assert_eq!(
                body(json!({"page": bad})).page().unwrap_err().0,
                "`page` must be an integer greater than or equal to 1"
            );
        }
        assert_eq!(body(json!({"limit": 100.0})).page().unwrap().limit, 100);
    }

    #[test]
    fn booleans_and_long_strings() {
        let b = body(json!({"a": true, "b": "false", "c": 1, "s": "x".repeat(MAX_STRING_LEN + 1)}));
        assert_eq!(b.opt_bool("a").unwrap(), Some(true));
        assert_eq!(b.opt_bool("b").unwrap(), Some(false));
        assert_eq!(b.opt_bool("c").unwrap_err().0, "`c` must be a boolean");
        assert!(b
            .opt_str(&["s"])
            .unwrap_err()
            .0
            .contains("less than or equal to"));
    }

    #[test]
    fn arrays_are_bounded_and_typed() {
        let b = body(json!({"p": ["a", "b"], "big": vec!["x"; 101], "mixed": ["a", 1], "no": "a"}));
        assert_eq!(
            b.opt_str_array("p", 100).unwrap(),
            Some(vec!["a".to_string(), "b".to_string()])
        );
        assert_eq!(
            b.opt_str_array("big", 100).unwrap_err().0,
            "`big` must contain less than or equal to 100 items"
        );
        assert_eq!(
            b.opt_str_array("mixed", 100).unwrap_err().0,
            "`mixed[1]` must be a string"
        );
        assert_eq!(
            b.opt_str_array("no", 100).unwrap_err().0,
            "`no` must be an array"
        );
        assert_eq!(b.opt_str_array("absent", 100).unwrap(), None);
    }

    #[test]
    fn every_array_in_a_body_is_bounded() {
        let items = |n: usize| Value::Array((0..n).map(|i| json!(i)).collect());
        assert!(oversized_array(&json!({"a": items(100)}), 100).is_none());
        assert_eq!(
            oversized_array(&json!({"a": items(101)}), 100).unwrap().0,
            "`a` must contain less than or equal to 100 items"
        );
        assert_eq!(
            oversized_array(&items(101), 100).unwrap().0,
            "`value` must contain less than or equal to 100 items"
        );
        let nested = json!([{"meta": {"tags": items(101)}}]);
        assert_eq!(
            oversized_array(&nested, 100).unwrap().0,
            "`value[0].meta.tags` must contain less than or equal to 100 items"
        );
    }

    #[test]
    fn json_content_types() {
        assert!(is_json_content_type("application/json"));
        assert!(is_json_content_type("Application/JSON; charset=utf-8"));
        assert!(is_json_content_type("application/vnd.api+json"));
        assert!(!is_json_content_type("text/plain"));
        assert!(!is_json_content_type("application/x-www-form-urlencoded"));
    }

    #[test]
    fn control_and_invisible_characters_are_seen() {
        for bad in [
            "a\u{0}b",
            "\u{1b}[31mEvil",
            "solo1\u{200b}",
            "abc\u{202e}",
            "x\u{7f}",
            "\u{feff}x",
        ] {
            assert!(has_control_or_invisible(bad), "{bad:?}");
        }
        for good in ["Adaeze Okafor", "Ọlábísí Àdìgún", "adaeze.o", "İstanbul"] {
            assert!(!has_control_or_invisible(good), "{good:?}");
        }
    }

    #[test]
    fn depth_limit() {
        let mut v = json!(1);
        for _ in 0..40 {
            v = json!([v]);
        }
        assert!(depth_exceeds(&v, MAX_JSON_DEPTH));
        assert!(!depth_exceeds(&json!({"a": [1, {"b": 2}]}), MAX_JSON_DEPTH));
    }
}
