//! Every operation's typed request over arbitrary JSON: validation never panics, and a body it
//! accepts is valid by the request's schema in `/openapi.json` (so the document never promises
//! less than the server takes). The first byte picks the request; the rest is the body's bytes,
//! read as the server reads them (no bytes is `null`; the depth and array limits apply first).
#![no_main]

use std::sync::OnceLock;

use libfuzzer_sys::fuzz_target;
use okra_core::body::{depth_exceeds, oversized_array, MAX_ARRAY_ITEMS, MAX_JSON_DEPTH};
use okra_core::validate::Rejection;
use serde_json::Value;

struct Checked {
    name: &'static str,
    validate: fn(Value) -> Result<(), Rejection>,
    schema: jsonschema::Validator,
}

fn requests() -> &'static [Checked] {
    static REQUESTS: OnceLock<Vec<Checked>> = OnceLock::new();
    REQUESTS.get_or_init(|| {
        okra_server::api::requests::typed_requests()
            .into_iter()
            .map(|r| Checked {
                name: r.name,
                validate: r.validate,
                schema: jsonschema::options()
                    .should_validate_formats(true)
                    .build(&(r.schema)())
                    .unwrap_or_else(|e| panic!("{}: the schema does not compile: {e}", r.name)),
            })
            .collect()
    })
}

fuzz_target!(|data: &[u8]| {
    let Some((&which, bytes)) = data.split_first() else {
        return;
    };
    let requests = requests();
    let request = &requests[usize::from(which) % requests.len()];
    let value = if bytes.is_empty() {
        Value::Null
    } else {
        match serde_json::from_slice::<Value>(bytes) {
            Ok(v) => v,
            Err(_) => return,
        }
    };
    if depth_exceeds(&value, MAX_JSON_DEPTH) || oversized_array(&value, MAX_ARRAY_ITEMS).is_some() {
        return;
    }
    if (request.validate)(value.clone()).is_ok() {
        assert!(
            request.schema.is_valid(&value),
            "{} accepted a body its schema refuses: {value}",
            request.name
        );
    }
});
