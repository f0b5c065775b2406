//! Blind indexes: the keyed hashes that let a sealed value (BVN, NIN, NUBAN, sandbox login) be
//! found by equality without storing it in clear. Each value is normalised the same way wherever it
//! is indexed or looked up, so the functions live here, next to no table: customers, identities,
//! accounts and the fault matcher of the server all hash through them.

use crate::crypto::Keyring;

/// The normalised form of a BVN or NIN for its blind index: digits only.
pub fn normalise_digits(value: &str) -> String {
    value.chars().filter(char::is_ascii_digit).collect()
}

/// Blind index of a BVN (digits only, so `222 1234 5678` and `22212345678` match).
pub fn bvn_index(keyring: &Keyring, bvn: &str) -> String {
    keyring.blind_index("bvn", &normalise_digits(bvn))
}

/// Blind index of a NIN (digits only).
pub fn nin_index(keyring: &Keyring, nin: &str) -> String {
    keyring.blind_index("nin", &normalise_digits(nin))
}

/// Blind index of a NUBAN at a bank: the key is (bank, NUBAN) since a NUBAN is unique only per bank.
pub fn nuban_index(keyring: &Keyring, bank_id: &str, nuban: &str) -> String {
    let digits = normalise_digits(nuban);
    keyring.blind_index(
        "nuban",
        &format!("{}:{digits}", bank_id.to_ascii_lowercase()),
    )
}

/// Blind index of a sandbox login username (unique per owner and environment, compared without
/// case): the person logs in with it at every bank where they have an account.
pub fn login_index(keyring: &Keyring, username: &str) -> String {
    keyring.blind_index("sandbox_login", &username.trim().to_lowercase())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn indexes_ignore_formatting_but_not_the_domain() {
        let k = Keyring::generate();
        assert_eq!(bvn_index(&k, "222 1234-5678"), bvn_index(&k, "22212345678"));
        assert_ne!(bvn_index(&k, "22212345678"), nin_index(&k, "22212345678"));
        assert_eq!(
            nuban_index(&k, "ABC", "0123456789"),
            nuban_index(&k, "abc", "0123 456 789")
        );
        assert_ne!(
            nuban_index(&k, "abc", "0123456789"),
            nuban_index(&k, "abd", "0123456789")
        );
        assert_eq!(login_index(&k, " Ada "), login_index(&k, "ada"));
    }
}
