//! Webhook signatures over arbitrary secrets, ids, times, bodies and headers: nothing panics; a
//! signature verifies for its own id, time and body, and not once any of them changes.
#![no_main]

use arbitrary::Arbitrary;
use libfuzzer_sys::fuzz_target;
use okra_core::webhook_signature::{decode_secret, sign, verify};

#[derive(Arbitrary, Debug)]
struct Input {
    secret: String,
    key: Vec<u8>,
    id: String,
    timestamp: String,
    body: Vec<u8>,
    signatures: String,
    now: i64,
    flip: usize,
}

fuzz_target!(|i: Input| {
    let _ = decode_secret(&i.secret);
    let _ = verify(&i.key, &i.id, &i.timestamp, &i.body, &i.signatures, i.now);
    if i.now < 0 {
        return;
    }
    let signature = sign(&i.key, &i.id, i.now, &i.body);
    let ts = i.now.to_string();
    assert!(verify(&i.key, &i.id, &ts, &i.body, &signature, i.now).is_ok());
    if !i.body.is_empty() {
        let mut body = i.body.clone();
        let at = i.flip % body.len();
        body[at] ^= 1;
        assert!(verify(&i.key, &i.id, &ts, &body, &signature, i.now).is_err());
    }
    let other_id = format!("{}x", i.id);
    assert!(verify(&i.key, &other_id, &ts, &i.body, &signature, i.now).is_err());
    if let Some(later) = i.now.checked_add(1) {
        let signed_later = later.to_string();
        assert!(verify(&i.key, &i.id, &signed_later, &i.body, &signature, later).is_err());
    }
});
