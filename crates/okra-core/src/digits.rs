//! Shapes of the numeric identifiers (BVN, NIN, NUBAN, CBN codes) checked before anything looks
//! inside them.
//!
//! Identifiers arrive as arbitrary UTF-8 from clients and adapters. Slicing a `&str` at a byte
//! offset panics when the offset falls inside a multi-byte character (`"00000012é"` is 10 bytes),
//! so code that takes a prefix, a serial or a check digit of an identifier first proves it is made
//! of ASCII digits with these functions; after that, byte offsets are character offsets.

/// True when `value` is exactly `len` ASCII digits.
pub fn is_digits(value: &str, len: usize) -> bool {
    value.len() == len && value.bytes().all(|c| c.is_ascii_digit())
}

/// True when `value` is a BVN's shape: 11 ASCII digits.
pub fn is_bvn_shaped(value: &str) -> bool {
    is_digits(value, 11)
}

/// True when `value` is a NIN's shape: 11 ASCII digits.
pub fn is_nin_shaped(value: &str) -> bool {
    is_digits(value, 11)
}

/// True when `value` is a NUBAN's shape: 10 ASCII digits (the check digit is not verified).
pub fn is_nuban_shaped(value: &str) -> bool {
    is_digits(value, 10)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn shapes_refuse_non_ascii_short_and_long_values() {
        assert!(is_nuban_shaped("0123456789"));
        assert!(is_bvn_shaped("22212345678"));
        assert!(is_nin_shaped("12345678901"));
        // Ten bytes but not ten digits: a slice at byte 9 would split the `é`.
        assert_eq!("00000012é".len(), 10);
        assert!(!is_nuban_shaped("00000012é"));
        assert!(!is_nuban_shaped("٠١٢٣٤٥٦٧٨٩")); // Arabic-Indic digits are not ASCII digits
        assert!(!is_nuban_shaped("012345678"));
        assert!(!is_nuban_shaped("01234567890"));
        assert!(!is_nuban_shaped(""));
        assert!(!is_nuban_shaped("+123456789"));
        assert!(!is_bvn_shaped("2221234567 "));
        assert!(!is_bvn_shaped("2221234567é"));
        assert!(is_digits("", 0));
    }
}
