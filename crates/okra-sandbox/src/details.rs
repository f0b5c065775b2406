//! The parts of a person drawn after the names: addresses, marital status, next of kin, company
//! and wealth. Split from `person` only to keep files small; the draw order is part of the
//! population's definition (changing it changes everyone).

use okra_core::source::NextOfKin;

use crate::accounts::Account;
use crate::dates::{days_in_month, Date};
use crate::geo::{self, State};
use crate::names::{self, Tradition};
use crate::person::{Company, REFERENCE_YEAR};
use crate::rng::Draw;

/// The tradition's given names for the gender and the religious pool second names come from.
pub(crate) fn pools(
    t: &Tradition,
    female: bool,
    rng: &mut Draw,
) -> (&'static [&'static str], &'static [&'static str]) {
    let first = if female { t.female } else { t.male };
    let muslim = if t.mostly_muslim {
        rng.chance(95)
    } else {
        t.name == "Yoruba" && rng.chance(35)
    };
    let religious = match (muslim, female) {
        (true, false) => names::MUSLIM_MALE,
        (true, true) => names::MUSLIM_FEMALE,
        (false, false) => names::CHRISTIAN_MALE,
        (false, true) => names::CHRISTIAN_FEMALE,
    };
    (first, religious)
}

/// A street address in `lga` of `state`: often a street named after a local family.
pub(crate) fn address(rng: &mut Draw, state: &State, lga: &str) -> String {
    let street = if rng.chance(60) {
        let local = names::TRADITIONS
            .iter()
            .find(|t| t.states.contains(&state.name))
            .unwrap_or(&names::TRADITIONS[0]);
        format!(
            "{} {}",
            rng.pick(local.surnames),
            rng.pick(geo::STREET_KINDS)
        )
    } else {
        rng.pick(geo::STREETS).to_string()
    };
    format!("{} {street}, {lga}, {}", rng.between(1, 120), state.display)
}

/// Marital status by age band (8% unrecorded).
pub(crate) fn marital(rng: &mut Draw, age: i32) -> Option<&'static str> {
    if rng.chance(8) {
        return None;
    }
    let table: &[(&str, u32)] = match age {
        ..=24 => &[("Single", 85), ("Married", 15)],
        25..=35 => &[("Single", 45), ("Married", 52), ("Divorced", 3)],
        36..=59 => &[
            ("Single", 8),
            ("Married", 78),
            ("Divorced", 7),
            ("Widowed", 7),
        ],
        _ => &[
            ("Single", 3),
            ("Married", 65),
            ("Divorced", 6),
            ("Widowed", 26),
        ],
    };
    Some(rng.weighted(table))
}

/// Zero to two next of kin from the person's tradition (a spouse first when married).
pub(crate) fn kin(
    rng: &mut Draw,
    t: &Tradition,
    lastname: &str,
    female: bool,
    marital: Option<&str>,
    age: i32,
) -> Vec<NextOfKin> {
    if !rng.chance(60) {
        return Vec::new();
    }
    let count = if rng.chance(15) { 2 } else { 1 };
    let mut kins: Vec<NextOfKin> = Vec::new();
    for n in 0..count {
        let (relationship, kin_female) = match (n, marital, age) {
            (0, Some("Married"), _) => ("Spouse", !female),
            (_, _, 50..) => rng.pick(&[("Son", false), ("Daughter", true), ("Brother", false)]),
            _ => rng.pick(&[
                ("Father", false),
                ("Mother", true),
                ("Brother", false),
                ("Sister", true),
            ]),
        };
        if kins.iter().any(|k| k.relationship == relationship) {
            continue;
        }
        let given = rng.pick(if kin_female { t.female } else { t.male });
        let prefix = rng.pick(geo::PHONE_PREFIXES).0;
        kins.push(NextOfKin {
            name: format!("{given} {lastname}"),
            relationship: relationship.to_string(),
            phone: format!("{prefix}{:07}", rng.below(10_000_000)),
        });
    }
    kins
}

/// A company named after the family or a brand word, with its CAC number.
pub(crate) fn company(rng: &mut Draw, lastname: &str) -> Company {
    let word = rng.pick(names::COMPANY_WORDS);
    let suffix = rng.pick(names::COMPANY_SUFFIXES);
    let name = match rng.below(3) {
        0 => format!("{lastname} {word} {suffix}"),
        1 => format!("{lastname} & Sons {word} Ltd"),
        _ => format!("{} {word} {suffix}", rng.pick(names::COMPANY_BRANDS)),
    };
    Company {
        name,
        rc_number: format!("RC{}", rng.between(100_000, 1_999_999)),
    }
}

/// Typical account balance in kobo: most people hold little, a few hold a lot.
pub(crate) fn wealth(rng: &mut Draw) -> i64 {
    let naira = match rng.below(100) {
        0..=49 => rng.between(5_000, 200_000),
        50..=84 => rng.between(200_000, 3_000_000),
        85..=96 => rng.between(3_000_000, 50_000_000),
        _ => rng.between(50_000_000, 500_000_000),
    };
    naira as i64 * 100
}

/// BVN enrolment: (CBN code of the first account's bank, or a big bank's; branch in the LGA of
/// residence; a day from the person's 18th birthday year, or 2014 when BVNs started, to 2025).
pub(crate) fn enrollment(
    rng: &mut Draw,
    accounts: &[Account],
    birth_year: i32,
    lga_of_residence: &str,
) -> (&'static str, String, Date) {
    let bank = accounts
        .iter()
        .map(|a| a.bank.cbn_code)
        .find(|c| c.len() == 3)
        .unwrap_or_else(|| rng.pick(&["011", "033", "044", "057", "058"]));
    let first = (birth_year + 18).max(2014);
    let year = rng.between(first as u64, REFERENCE_YEAR as u64) as i32;
    let month = rng.between(1, 12) as u32;
    let day = rng.between(1, u64::from(days_in_month(year, month))) as u32;
    let branch = format!("{lga_of_residence} Branch");
    (bank, branch, Date { year, month, day })
}
