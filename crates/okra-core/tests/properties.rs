//! Issue 14, item 3 (where a fuzzer does not fit the time budget: generated cases instead):
//! properties of request parsing and validation, the NUBAN/BVN/date validators, webhook
//! signatures and the pagination arithmetic, over inputs proptest generates (arbitrary JSON with
//! unicode, huge numbers and deep nesting; arbitrary strings and bytes). Every property holds for
//! every case, and nothing panics. `PROPTEST_CASES` raises the count (the default here: 2,000).

use okra_core::body::{Body, MAX_AMOUNT_MAJOR};
use okra_core::pagination::{PageRequest, MAX_LIMIT};
use okra_core::{digits, nuban, time as okra_time, webhook_signature as sig};
use proptest::prelude::*;
use serde_json::{Map, Number, Value};

fn config() -> ProptestConfig {
    let cases = std::env::var("PROPTEST_CASES")
        .ok()
        .and_then(|c| c.parse().ok())
        .unwrap_or(2000);
    ProptestConfig::with_cases(cases)
}

/// Strings a client might send: plain words, digits of every length, dates, unicode digits and
/// control characters, or anything.
fn text() -> impl Strategy<Value = String> {
    prop_oneof![
        "[a-z_]{0,12}",
        "[0-9]{0,14}",
        " ?-?[0-9]{1,15}(\\.[0-9]{0,4})? ?",
        "[0-9]{4}-[0-9]{2}-[0-9]{2}",
        "[٠-٩０-９]{1,11}",
        "\\PC{0,20}",
        any::<String>(),
    ]
}

/// Arbitrary JSON, keys biased towards the fields requests carry.
fn json() -> impl Strategy<Value = Value> {
    let leaf = prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::Bool),
        any::<i64>().prop_map(|n| Value::Number(n.into())),
        any::<u64>().prop_map(|n| Value::Number(n.into())),
        any::<f64>().prop_map(|f| Number::from_f64(f)
            .map(Value::Number)
            .unwrap_or(Value::Null)),
        text().prop_map(Value::String),
    ];
    let key = prop_oneof![
        Just("page".to_string()),
        Just("limit".to_string()),
        Just("bvn".to_string()),
        Just("nuban".to_string()),
        Just("bank".to_string()),
        Just("from".to_string()),
        Just("to".to_string()),
        Just("id".to_string()),
        Just("amount".to_string()),
        Just("options".to_string()),
        Just("accounts".to_string()),
        Just("consent".to_string()),
        "\\PC{0,8}",
    ];
    leaf.prop_recursive(6, 64, 8, move |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..8).prop_map(Value::Array),
            prop::collection::vec((key.clone(), inner), 0..8)
                .prop_map(|kv| Value::Object(kv.into_iter().collect::<Map<_, _>>())),
        ]
    })
}

/// CBN codes of the banks that number accounts as NUBANs.
fn bank_codes() -> Vec<&'static str> {
    (okra_core::banks::BANKS.iter())
        .filter(|b| b.cbn_code.len() == 3)
        .map(|b| b.cbn_code)
        .collect()
}

proptest! {
    #![proptest_config(config())]

    /// Every reader of a request body answers Ok or a validation message for any JSON, and what
    /// it accepts satisfies the contract's bounds.
    #[test]
    fn request_parsing_accepts_only_what_it_promises(value in json()) {
        let Ok(body) = Body::from_value(value) else { return Ok(()) };
        if let Ok(page) = body.page() {
            prop_assert!(page.page >= 1);
            prop_assert!((1..=MAX_LIMIT).contains(&page.limit));
        }
        if let Ok(bvn) = body.req_bvn() {
            prop_assert!(digits::is_bvn_shaped(&bvn));
            prop_assert_eq!(bvn.len(), 11);
        }
        if let Ok((n, bank)) = body.req_nuban_and_bank() {
            prop_assert!(digits::is_nuban_shaped(&n));
            prop_assert!(!bank.trim().is_empty());
        }
        if let Ok(minor) = body.req_amount_minor(&["amount"]) {
            prop_assert!(minor.abs() <= MAX_AMOUNT_MAJOR * 100);
        }
        if let Ok((from, to)) = body.date_range() {
            prop_assert!(from <= to);
        }
        if let Ok(id) = body.req_id(&["id"]) {
            prop_assert_eq!(id.len(), 24);
            prop_assert!(id.bytes().all(|c| c.is_ascii_hexdigit()));
        }
        if let Ok(Some(list)) = body.opt_str_array("accounts", 100) {
            prop_assert!(list.len() <= 100);
        }
        let _ = body.opt_bool("consent");
        let _ = body.opt_object("options");
        let _ = body.opt_str(&["bank"]);
        let _ = body.opt_int_between("limit", 1, 100);
    }

    /// A NUBAN made for a bank is valid there, and any one digit changed makes it invalid (the
    /// check digit's weights are prime to 10).
    #[test]
    fn nuban_check_digits_catch_every_single_digit_error(
        code in prop::sample::select(bank_codes()),
        serial in "[0-9]{9}",
        pos in 0usize..10,
        delta in 1u8..10,
    ) {
        let good = nuban::make_nuban(code, &serial).expect("a 3-digit code and 9 digits make a NUBAN");
        prop_assert!(nuban::is_valid_nuban(code, &good));
        let mut bytes = good.into_bytes();
        bytes[pos] = b'0' + (bytes[pos] - b'0' + delta) % 10;
        let bad = String::from_utf8(bytes).unwrap();
        prop_assert!(!nuban::is_valid_nuban(code, &bad));
    }

    /// The validators take any string without panicking, and accept only ASCII digits of the
    /// right length.
    #[test]
    fn shape_validators_take_anything(s in text(), code in text()) {
        if digits::is_bvn_shaped(&s) {
            prop_assert!(s.len() == 11 && s.bytes().all(|b| b.is_ascii_digit()));
        }
        if digits::is_nuban_shaped(&s) {
            prop_assert!(s.len() == 10 && s.bytes().all(|b| b.is_ascii_digit()));
        }
        let _ = nuban::is_valid_nuban(&code, &s);
        let _ = nuban::check_digit(&code, &s);
    }

    /// Dates: whatever parses prints back the same; anything else is refused, never a panic.
    #[test]
    fn dates_round_trip(s in text(), y in 1i32..9999, doy in 1u16..366) {
        if let Some(d) = okra_time::parse_date(&s) {
            prop_assert_eq!(okra_time::format_date(d), s.clone());
            let (start, end) = okra_time::day_range_ms(d, d);
            prop_assert!(start < end);
        }
        if let Ok(d) = time::Date::from_ordinal_date(y, doy) {
            let text = okra_time::format_date(d);
            prop_assert_eq!(okra_time::parse_date(&text), Some(d));
        }
    }

    /// Pagination arithmetic at any page, limit and total: no overflow, and the metadata agrees
    /// with itself (mongoose-paginate-v2's rules).
    #[test]
    fn pagination_is_consistent(page in 1u32..=u32::MAX, limit in 1u32..=MAX_LIMIT, total in any::<u64>()) {
        let req = PageRequest { page, limit };
        let p = req.paginate(total);
        prop_assert_eq!(req.offset(), (i64::from(page) - 1) * i64::from(limit));
        prop_assert_eq!(p.paging_counter, req.offset() as u64 + 1);
        prop_assert!(p.total_pages >= 1);
        prop_assert!(p.total_pages.saturating_mul(p.limit) >= total);
        prop_assert_eq!(p.has_next_page, u64::from(page) < p.total_pages);
        prop_assert_eq!(p.has_prev_page, page > 1);
        prop_assert_eq!(p.next_page, p.has_next_page.then(|| u64::from(page) + 1));
        prop_assert_eq!(p.prev_page, p.has_prev_page.then(|| u64::from(page) - 1));
    }

    /// A signature verifies for the body it was made over, and for nothing else: any flipped bit
    /// of the body or a different id fails; garbage headers and secrets are refused, not a panic.
    #[test]
    fn webhook_signatures_verify_only_their_body(
        key in prop::collection::vec(any::<u8>(), 24..64),
        id in "[a-zA-Z0-9_]{1,30}",
        ts in 1_600_000_000i64..2_000_000_000,
        body in prop::collection::vec(any::<u8>(), 0..512),
        flip in any::<prop::sample::Index>(),
        junk in text(),
    ) {
        let header = sig::sign(&key, &id, ts, &body);
        let t = ts.to_string();
        prop_assert_eq!(sig::verify(&key, &id, &t, &body, &header, ts), Ok(()));
        let rotated = format!("v1,AAAA {header}");
        prop_assert_eq!(sig::verify(&key, &id, &t, &body, &rotated, ts), Ok(()));
        if !body.is_empty() {
            let mut tampered = body.clone();
            let i = flip.index(tampered.len());
            tampered[i] ^= 1;
            prop_assert_eq!(
                sig::verify(&key, &id, &t, &tampered, &header, ts),
                Err(sig::SignatureError::NoMatchingSignature)
            );
        }
        let other = format!("{id}x");
        prop_assert!(sig::verify(&key, &other, &t, &body, &header, ts).is_err());
        prop_assert_eq!(
            sig::verify(&key, &id, &t, &body, &header, ts + sig::TOLERANCE_SECS + 1),
            Err(sig::SignatureError::TimestampOutOfTolerance)
        );
        let _ = sig::verify(&key, &id, &junk, &body, &junk, ts);
        let _ = sig::decode_secret(&junk);
    }
}
