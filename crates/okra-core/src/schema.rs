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

/// Unicode White_Space as Rust's `trim` and `char::is_whitespace` know it, as the body of a
/// regex class. ECMA-262's `\s` is another set (it lacks U+0085 and has U+FEFF), so patterns
/// spell this one out.
pub const SPACE: &str =
    "\\t\\n\\x0b\\x0c\\r \\x85\\xa0\\u1680\\u2000-\\u200a\\u2028\\u2029\\u202f\\u205f\\u3000";

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
    object_with_aliases(description, properties, required, &[])
}

/// [`object`] where some fields have another name (`(field, alias)`: okra-node's `account_id` for
/// `account`, …). The readers take the first name that is present and not `null`; the others are
/// then not read at all. So the field may be `null` (absent), and only when it is absent does the
/// alias count: it must then be valid, and present when the field is required.
pub fn object_with_aliases(
    description: &str,
    properties: &[(&str, Value)],
    required: &[&str],
    aliases: &[(&str, &str)],
) -> Value {
    let mut props: Map<String, Value> = properties
        .iter()
        .map(|(k, v)| (k.to_string(), v.clone()))
        .collect();
    let mut still_required: Vec<&str> = required.to_vec();
    let mut rules = Vec::new();
    for (field, alias) in aliases {
        let Some(schema) = props.get(*field).cloned() else {
            continue;
        };
        let is_required = required.contains(field);
        still_required.retain(|r| r != field);
        props.insert(field.to_string(), nullable(schema.clone()));
        let alias_schema = if is_required {
            schema
        } else {
            nullable(schema)
        };
        let mut otherwise = json!({"properties": {*alias: alias_schema}});
        if is_required {
            otherwise["required"] = json!([alias]);
        }
        rules.push(json!({
            "if": {"required": [field], "properties": {*field: {"not": {"type": "null"}}}},
            "else": otherwise,
        }));
    }
    let needs_something =
        !still_required.is_empty() || aliases.iter().any(|(f, _)| required.contains(f));
    let kind = if needs_something {
        json!("object")
    } else {
        json!(["object", "null"])
    };
    let mut schema = json!({
        "type": kind,
        "description": description,
        "properties": props,
        "required": still_required,
    });
    if !rules.is_empty() {
        schema["allOf"] = Value::Array(rules);
    }
    schema
}

/// `schema`, or `null` (which the readers take as absent).
fn nullable(schema: Value) -> Value {
    let allows_null = |s: &Value| match &s["type"] {
        Value::String(t) => t == "null",
        Value::Array(ts) => ts.iter().any(|t| t == "null"),
        _ => false,
    };
    let already = allows_null(&schema)
        || schema["anyOf"]
            .as_array()
            .is_some_and(|parts| parts.iter().any(allows_null));
    if already {
        return schema;
    }
    let description = schema.get("description").cloned();
    let mut wrapped = json!({"anyOf": [schema, {"type": "null"}]});
    if let Some(d) = description {
        wrapped["description"] = d;
    }
    wrapped
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
        json!({"type": "string", "pattern": format!("[^{SPACE}]"), "maxLength": MAX_STRING_LEN}),
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

/// A regex of the decimal numbers `1..=max` written without leading zeros (`max` ≥ 1).
fn one_to(max: u64) -> String {
    let digits: Vec<u32> = max
        .to_string()
        .chars()
        .filter_map(|c| c.to_digit(10))
        .collect();
    let n = digits.len();
    let mut alternatives = Vec::new();
    // Every shorter length, whole.
    for len in 1..n {
        alternatives.push(if len == 1 {
            "[1-9]".to_string()
        } else {
            format!("[1-9][0-9]{{{}}}", len - 1)
        });
    }
    // The length of `max`: its prefix, then a smaller digit, then anything.
    for i in 0..n {
        let low = if i == 0 { 1 } else { 0 };
        if digits[i] > low {
            let prefix: String = digits[..i].iter().map(|d| d.to_string()).collect();
            let rest = n - i - 1;
            let tail = if rest == 0 {
                String::new()
            } else {
                format!("[0-9]{{{rest}}}")
            };
            alternatives.push(format!("{prefix}[{low}-{}]{tail}", digits[i] - 1));
        }
    }
    alternatives.push(max.to_string());
    format!("({})", alternatives.join("|"))
}

/// An integer in `min..=max` (`min` 0, 1 or 2 and `max` ≥ `min`), as a JSON number, a numeric
/// string, or `null` (absent) (`Body::opt_int_between`: the string is trimmed and read as an
/// `i64`, so a `+` sign and leading zeros are allowed, and `-0` is 0).
fn int_between(description: &str, min: i64, max: i64) -> Value {
    let number = match min {
        0 => format!("(-0+|\\+?0*(0|{}))", one_to(max as u64)),
        1 => format!("\\+?0*{}", one_to(max as u64)),
        _ => format!("\\+?0*[{min}-{max}]"),
    };
    json!({
        "description": description,
        "anyOf": [
            {"type": "integer", "minimum": min, "maximum": max},
            {"type": "string", "pattern": format!("^[{SPACE}]*{number}[{SPACE}]*$")},
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
    )
}

/// An optional integer in `min..=max` (`min` 0, 1 or 2).
pub fn small_int(description: &str, min: i64, max: i64) -> Value {
    int_between(description, min, max)
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

/// The `customer` of a read by customer (alias `customer_id`).
pub fn customer_id() -> Value {
    id("Customer id (alias `customer_id`)")
}

/// `from` of a read by dates (`Body::date_range`).
pub fn from_date() -> Value {
    date("First day, `YYYY-MM-DD` (UTC)")
}

/// `to` of a read by dates (`Body::date_range`).
pub fn to_date() -> Value {
    date("Last day, `YYYY-MM-DD` (UTC), included; not before `from`")
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

/// `word` matched in any case: each ASCII letter as `[xX]`.
fn any_case(word: &str) -> String {
    word.chars()
        .map(|c| {
            if c.is_ascii_alphabetic() {
                format!("[{}{}]", c.to_ascii_lowercase(), c.to_ascii_uppercase())
            } else {
                c.to_string()
            }
        })
        .collect()
}

/// A pattern for one of `words`, in any case, spaces around allowed: what readers that trim and
/// compare case-insensitively take (bank ids and slugs, `ind`/`corp`, …).
pub fn one_of_any_case(words: &[&str]) -> String {
    let alternatives: Vec<String> = words.iter().map(|w| any_case(w)).collect();
    format!("^[{SPACE}]*({})[{SPACE}]*$", alternatives.join("|"))
}

/// Every bank's id and slug, as `bank` takes them (`banks::find`: any case, spaces around).
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
        "pattern": one_of_any_case(&bank_names()),
        "maxLength": MAX_STRING_LEN,
        "examples": ["access-bank", "5d6fe57a4099cc4b210bbec0"],
        "description": "Bank id or slug (`banks/list`), in any case (alias `bank_id`); another \
            value is answered 400 `Could not match bank identifier … with a valid bank`",
    })
}

/// An optional bank, by id or slug.
pub fn opt_bank(description: &str) -> Value {
    opt_one_of_any_case(&bank_names(), description)
}

/// An optional string that must be one of `words` (any case, spaces around): the pattern of
/// [`one_of_any_case`] within the length every string is read with first.
pub fn opt_one_of_any_case(words: &[&str], description: &str) -> Value {
    json!({"type": ["string", "null"], "pattern": one_of_any_case(words),
           "maxLength": MAX_STRING_LEN, "description": description})
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
/// Inside it anything goes that a body may hold anywhere: the limits on arrays and nesting,
/// which a JSON Schema could only state by repeating itself 32 levels deep, are described.
pub fn opt_object(description: &str) -> Value {
    let (items, depth) = (crate::body::MAX_ARRAY_ITEMS, crate::body::MAX_JSON_DEPTH);
    described(
        json!({"type": ["object", "null"]}),
        &format!(
            "{description}. Any JSON object; as everywhere in a body, an array holds at most \
             {items} items and nesting is at most {depth} levels deep (422 otherwise)"
        ),
    )
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
/// 10¹² either side of zero (`Body::req_amount_minor`: a string of at most 64 characters, read
/// trimmed, at most 13 digits before the point).
pub fn amount(description: &str) -> Value {
    let max = crate::body::MAX_AMOUNT_MAJOR;
    let cents = "(\\.[0-9]{0,2})?";
    let text = format!(
        "^[{SPACE}]*-?([0-9]{{1,12}}{cents}|0[0-9]{{12}}{cents}|1000000000000(\\.0{{0,2}})?)[{SPACE}]*$"
    );
    json!({
        "description": description,
        "anyOf": [
            {"type": "number", "minimum": -max, "maximum": max, "multipleOf": 0.01},
            {"type": "string", "maxLength": 64, "pattern": text}
        ]
    })
}

/// The URLs the server takes (link options, `callback/trigger`'s `url`), as a regex of the text
/// without surrounding spaces: `http://` or `https://`, a host name whose last label starts with a
/// letter or a dotted IPv4 address, an optional port (0 to 65535), then anything but spaces.
/// Stricter than a URL parser (no IPv6 literal, no `user@`, no scheme in capitals, no `xn--`
/// label: a URL parser decodes punycode and refuses what does not decode), so that every text it
/// allows parses, and a JSON Schema can state it exactly.
pub fn http_url_body() -> String {
    let octet = "(25[0-5]|2[0-4][0-9]|1[0-9][0-9]|[1-9]?[0-9])";
    let port = "(6553[0-5]|655[0-2][0-9]|65[0-4][0-9]{2}|6[0-4][0-9]{3}|[1-5][0-9]{4}|[0-9]{1,4})";
    // A label of four characters or more whose first four are not `xn--` (any case), spelled
    // out character by character because JSON Schema's and Rust's regexes share no lookahead.
    let c = "[A-Za-z0-9-]";
    let not_xn = |first: &str| {
        format!(
            "({first}{c}{{3}}|[xX][A-MO-Za-mo-z0-9-]{c}{{2}}|[xX][nN][A-Za-z0-9]{c}|[xX][nN]-[A-Za-z0-9]){c}*"
        )
    };
    let label = format!("({c}{{1,3}}|{})", not_xn("[A-WYZa-wyz0-9-]"));
    let last = format!("([A-Za-z]{c}{{0,2}}|{})", not_xn("[A-WYZa-wyz]"));
    format!(
        "https?://({octet}(\\.{octet}){{3}}|({label}\\.)*{last})\
         (:{port})?([/?#][^{SPACE}]*)?"
    )
}

/// Whether `text`, without surrounding spaces, is a URL of [`http_url_body`].
pub fn is_http_url(text: &str) -> bool {
    static RE: std::sync::OnceLock<regex::Regex> = std::sync::OnceLock::new();
    RE.get_or_init(|| {
        regex::Regex::new(&format!("^{}$", http_url_body())).expect("the URL pattern compiles")
    })
    .is_match(text.trim())
}

/// An optional URL of [`http_url_body`], at most 1,024 characters; empty or `null` is absent.
fn opt_url(description: String) -> Value {
    json!({
        "description": description,
        "anyOf": [
            {"type": "string", "maxLength": MAX_STRING_LEN,
             "pattern": format!("^[{SPACE}]*{}[{SPACE}]*$", http_url_body())},
            {"type": "string", "maxLength": MAX_STRING_LEN, "pattern": format!("^[{SPACE}]*$")},
            {"type": "null"}
        ]
    })
}

/// An optional webhook URL: absolute http(s), resolving to an address the outbound policy
/// allows; empty or `null` is absent.
pub fn webhook_url(description: &str) -> Value {
    opt_url(format!(
        "{description}. An absolute http(s) URL (a host name or an IPv4 address, no user name) \
         whose host resolves: in production not to a private, loopback or link-local address \
         unless `webhook_allowed_hosts` lists it (422 otherwise). Empty or null: none"
    ))
}

/// An optional absolute http(s) URL (`redirect_url`); empty or `null` is absent.
pub fn opt_http_url(description: &str) -> Value {
    opt_url(format!(
        "{description}: an absolute http(s) URL (a host name or an IPv4 address, no user name)"
    ))
}

/// Characters names and logins refuse (`body::has_control_or_invisible`), as a regex class body.
pub const CONTROL_OR_INVISIBLE: &str =
    "\\x00-\\x1f\\x7f-\\x9f\\u00ad\\u200b-\\u200f\\u202a-\\u202e\\u2060-\\u2064\\u2066-\\u2069\\ufeff";

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

#[cfg(test)]
mod tests {
    use super::*;

    fn anchored(pattern: &str) -> regex::Regex {
        regex::Regex::new(&format!("^{pattern}$")).unwrap()
    }

    #[test]
    fn one_to_max_matches_exactly_the_numbers_in_range() {
        for max in [1u64, 5, 9, 10, 100, 120_000, 2_592_000] {
            let re = anchored(&one_to(max));
            let last = (max + 1000).min(200_000);
            for n in (0..=last).chain([max - 1, max, max + 1, max * 10]) {
                assert_eq!(
                    re.is_match(&n.to_string()),
                    (1..=max).contains(&n),
                    "{n} of 1..={max}"
                );
            }
            assert!(!re.is_match(&format!("0{max}")), "no leading zero");
        }
        let re = anchored(&one_to(u64::from(u32::MAX)));
        for n in [
            1u64,
            999_999_999,
            1_000_000_000,
            4_294_967_294,
            4_294_967_295,
        ] {
            assert!(re.is_match(&n.to_string()), "{n}");
        }
        for n in [
            0u64,
            4_294_967_296,
            4_294_967_300,
            5_000_000_000,
            9_999_999_999,
        ] {
            assert!(!re.is_match(&n.to_string()), "{n}");
        }
    }

    #[test]
    fn urls_the_pattern_allows_parse_and_others_do_not_pass() {
        for ok in [
            "http://127.0.0.1:65535/hook",
            "https://app.example/okra?x=1",
            "https://a-b.c-d.example:8443",
            "  http://localhost  ",
            "http://x.xna-b.example/",
            "http://xn-.x/",
            "http://xn.x-n--/",
        ] {
            assert!(is_http_url(ok), "{ok}");
        }
        for bad in [
            "ftp://x.example",
            "http://user@x.example",
            "http://256.1.1.1",
            "http://1.2.3.4.5",
            "http://x.example:65536",
            "HTTP://x.example",
            "http://[::1]/",
            "http://xn--a.example",
            "http://app.XN--zz",
            "https://xn--80ak6aa92e.com/hook",
            "http://x.example/a b",
            "javascript:alert(1)",
        ] {
            assert!(!is_http_url(bad), "{bad}");
        }
    }
}
