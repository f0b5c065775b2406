//! NUBAN check digits per the CBN's Revised Standards on NUBAN (see docs/banks.md).

const WEIGHTS: [u32; 15] = [3, 7, 3, 3, 7, 3, 3, 7, 3, 3, 7, 3, 3, 7, 3];

/// Pads a CBN code to the 6 digits the check-digit algorithm uses: a 3-digit deposit-money-bank
/// code gets `000` in front, a 5-digit code of another financial institution gets `9` in front.
/// Returns `None` for codes of any other shape.
fn padded_code(cbn_code: &str) -> Option<String> {
    if !cbn_code.bytes().all(|c| c.is_ascii_digit()) {
        return None;
    }
    match cbn_code.len() {
        3 => Some(format!("000{cbn_code}")),
        5 => Some(format!("9{cbn_code}")),
        6 => Some(cbn_code.to_string()),
        _ => None,
    }
}

/// The check digit for a 9-digit serial at the bank with `cbn_code`, or `None` if either is malformed.
pub fn check_digit(cbn_code: &str, serial: &str) -> Option<u8> {
    if serial.len() != 9 || !serial.bytes().all(|c| c.is_ascii_digit()) {
        return None;
    }
    let code = padded_code(cbn_code)?;
    let sum: u32 = code
        .bytes()
        .chain(serial.bytes())
        .zip(WEIGHTS)
        .map(|(c, w)| u32::from(c - b'0') * w)
        .sum();
    let digit = (10 - sum % 10) % 10;
    Some(digit as u8)
}

/// A full 10-digit NUBAN for a serial (serial + check digit).
pub fn make_nuban(cbn_code: &str, serial: &str) -> Option<String> {
    check_digit(cbn_code, serial).map(|d| format!("{serial}{d}"))
}

/// True when `nuban` is 10 digits (shape only; no bank known).
pub fn is_nuban_shaped(nuban: &str) -> bool {
    crate::digits::is_nuban_shaped(nuban)
}

/// True when `nuban` is 10 digits and its check digit is right for the bank with `cbn_code`.
pub fn is_valid_nuban(cbn_code: &str, nuban: &str) -> bool {
    is_nuban_shaped(nuban)
        && check_digit(cbn_code, &nuban[..9]).is_some_and(|d| d == nuban.as_bytes()[9] - b'0')
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn worked_examples_from_the_standard() {
        assert_eq!(
            make_nuban("011", "000001457").as_deref(),
            Some("0000014579")
        );
        assert_eq!(
            make_nuban("50547", "000021457").as_deref(),
            Some("0000214579")
        );
        assert_eq!(
            make_nuban("011", "000000022").as_deref(),
            Some("0000000220")
        );
    }

    #[test]
    fn validates_and_rejects() {
        assert!(is_valid_nuban("011", "0000014579"));
        assert!(!is_valid_nuban("011", "0000014578"));
        assert!(!is_valid_nuban("011", "000001457"));
        assert!(!is_valid_nuban("011", "00000145a9"));
        assert!(!is_valid_nuban("unknown", "0000014579"));
        assert_eq!(check_digit("0110", "000001457"), None);
    }

    #[test]
    fn every_serial_has_exactly_one_valid_check_digit() {
        for serial in ["123456789", "000000000", "999999999", "102030405"] {
            let valid: Vec<u8> = (0..10)
                .filter(|d| is_valid_nuban("058", &format!("{serial}{d}")))
                .collect();
            assert_eq!(valid.len(), 1, "serial {serial}");
        }
    }
}
