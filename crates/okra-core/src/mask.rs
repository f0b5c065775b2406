//! Masking of identifiers shown to clients (docs/api.md §7: BVN keeps its first 3 and last digit,
//! NUBAN its first 2 and last digit).

/// Replaces every character but the first `keep_start` and last `keep_end` with `*`.
/// Values too short to hide anything are fully masked.
pub fn mask(value: &str, keep_start: usize, keep_end: usize) -> String {
    let chars: Vec<char> = value.chars().collect();
    if chars.len() <= keep_start + keep_end {
        return "*".repeat(chars.len());
    }
    chars
        .iter()
        .enumerate()
        .map(|(i, c)| {
            if i < keep_start || i >= chars.len() - keep_end {
                *c
            } else {
                '*'
            }
        })
        .collect()
}

/// `222*******0`: a BVN with its first 3 and last digit kept.
pub fn mask_bvn(bvn: &str) -> String {
    mask(bvn, 3, 1)
}

/// `06*******4`: a NUBAN with its first 2 and last digit kept.
pub fn mask_nuban(nuban: &str) -> String {
    mask(nuban, 2, 1)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn masks_like_the_contract() {
        assert_eq!(mask_bvn("22212345670"), "222*******0");
        assert_eq!(mask_nuban("0612345674"), "06*******4");
        assert_eq!(mask("ab", 3, 1), "**");
        assert_eq!(mask("", 3, 1), "");
    }
}
