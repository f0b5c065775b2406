//! The NUBAN check digit, the BVN/NUBAN shapes and dates over arbitrary text: nothing panics; a
//! NUBAN valid at a bank is 10 ASCII digits whose last is the bank's check digit, and changing
//! any one of its digits makes it invalid; a date prints back as it parsed; a URL the schemas'
//! pattern allows (`schema::is_http_url`) is one a URL parser takes, with an http(s) scheme and
//! a host (so the document never allows a webhook or redirect URL the server then refuses).
#![no_main]

use libfuzzer_sys::fuzz_target;
use okra_core::{banks, digits, nuban, schema, time};

fuzz_target!(|input: (String, String)| {
    let (code, text) = input;
    let _ = nuban::is_valid_nuban(&code, &text);
    let _ = nuban::check_digit(&code, &text);
    let _ = nuban::make_nuban(&code, &text);
    let _ = digits::is_bvn_shaped(&text);
    let _ = banks::find(&text);
    for bank in banks::BANKS.iter().filter(|b| !b.cbn_code.is_empty()) {
        if !nuban::is_valid_nuban(bank.cbn_code, &text) {
            continue;
        }
        assert!(
            digits::is_nuban_shaped(&text),
            "{text} valid at {}",
            bank.slug
        );
        let check = nuban::check_digit(bank.cbn_code, &text[..9]).expect("a check digit");
        assert_eq!(text.as_bytes()[9], b'0' + check);
        for at in 0..10 {
            for d in b'0'..=b'9' {
                let mut changed = text.clone().into_bytes();
                if changed[at] == d {
                    continue;
                }
                changed[at] = d;
                let changed = String::from_utf8(changed).unwrap();
                assert!(
                    !nuban::is_valid_nuban(bank.cbn_code, &changed),
                    "{text} and {changed} both valid at {}",
                    bank.slug
                );
            }
        }
    }
    if let Some(date) = time::parse_date(&text) {
        assert_eq!(time::format_date(date), text);
    }
    if schema::is_http_url(&text) {
        let parsed = url::Url::parse(text.trim())
            .unwrap_or_else(|e| panic!("{text:?} matches the URL pattern but does not parse: {e}"));
        assert!(matches!(parsed.scheme(), "http" | "https"), "{text:?}");
        assert!(parsed.host_str().is_some(), "{text:?}");
    }
});
