//! Identity profiles of custom people: the name a client chose, and the completeness it asked for.
//!
//! Completeness is measured over the *optional* data points of a profile — what a bank or the
//! registry may or may not have on file: e-mail, address, aliases, next of kin, mother's maiden
//! name, marital status and, for individuals, NIN, photo and enrolment branch. Name, date of
//! birth, gender, phone, places and (individuals) BVN are always known (there is no account
//! without them), so counting them would only add a floor under every score.

use okra_core::source::{NextOfKin, SourceIdentity};

use crate::details;
use crate::geo;
use crate::ids::Ids;
use crate::names::{self, Tradition};
use crate::person::{Person, REFERENCE_YEAR};
use crate::rng::Draw;

/// Completeness of an identity, 0–100 ([`SourceIdentity::completeness`], the server's one score):
/// the rounded share of its applicable optional data points that are present (6 for companies, 9
/// for individuals; see the module docs). A custom person made with `identity: n` scores within 6
/// (individuals) or 9 (companies) of `n`.
pub fn identity_score(identity: &SourceIdentity) -> u8 {
    identity.completeness()
}

/// One optional data point of a profile.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Point {
    Email,
    Address,
    Aliases,
    Kin,
    Maiden,
    Marital,
    Nin,
    Photo,
    Branch,
}

/// Keeps (filling in when missing) about `target`% of the person's optional data points and drops
/// the rest; which ones is a deterministic shuffle, so two people with the same target differ.
pub(crate) fn complete(p: &mut Person, ids: &Ids, t: &Tradition, target: u8, rng: &mut Draw) {
    let mut points = vec![
        Point::Email,
        Point::Address,
        Point::Aliases,
        Point::Kin,
        Point::Maiden,
        Point::Marital,
    ];
    if p.company.is_none() {
        points.extend([Point::Nin, Point::Photo, Point::Branch]);
    }
    for i in (1..points.len()).rev() {
        points.swap(i, rng.below(i as u64 + 1) as usize);
    }
    let keep = (usize::from(target) * points.len() + 50) / 100;
    for (i, point) in points.into_iter().enumerate() {
        if i < keep {
            fill(p, ids, t, point, rng);
        } else {
            drop_point(p, point);
        }
    }
}

fn drop_point(p: &mut Person, point: Point) {
    match point {
        Point::Email => p.emails.clear(),
        Point::Address => p.addresses.clear(),
        Point::Aliases => p.aliases.clear(),
        Point::Kin => p.next_of_kins.clear(),
        Point::Maiden => p.mothers_maiden = None,
        Point::Marital => p.marital_status = None,
        Point::Nin => p.nin = None,
        Point::Photo => p.photo_token = None,
        // `Person::identity` reports an empty branch as unknown.
        Point::Branch => {
            if let Some(e) = &mut p.enrollment {
                e.1.clear();
            }
        }
    }
}

fn fill(p: &mut Person, ids: &Ids, t: &Tradition, point: Point, rng: &mut Draw) {
    match point {
        Point::Email if p.emails.is_empty() => {
            let domain = rng.pick(names::EMAIL_DOMAINS);
            p.emails.push(format!("{}@{domain}", email_local(p)));
        }
        Point::Address if p.addresses.is_empty() => {
            let a = details::address(rng, p.state_of_residence, p.lga_of_residence);
            p.addresses.push(a);
        }
        Point::Aliases if p.aliases.is_empty() => {
            let alias = match &p.middlename {
                Some(m) => format!("{m} {}", p.lastname),
                None => format!("{} {}", p.firstname, rng.pick(t.surnames)),
            };
            p.aliases.push(alias);
        }
        Point::Kin if p.next_of_kins.is_empty() => {
            let (relationship, female) = if p.marital_status == Some("Married") {
                ("Spouse", !p.female)
            } else {
                rng.pick(&[("Brother", false), ("Sister", true), ("Mother", true)])
            };
            let given = rng.pick(if female { t.female } else { t.male });
            let prefix = rng.pick(geo::PHONE_PREFIXES).0;
            p.next_of_kins.push(NextOfKin {
                name: format!("{given} {}", p.lastname),
                relationship: relationship.to_string(),
                phone: format!("{prefix}{:07}", rng.below(10_000_000)),
            });
        }
        Point::Maiden if p.mothers_maiden.is_none() => {
            let maiden = rng.pick(t.surnames);
            let maiden = if maiden == p.lastname {
                *t.surnames
                    .iter()
                    .find(|s| **s != p.lastname)
                    .unwrap_or(&maiden)
            } else {
                maiden
            };
            p.mothers_maiden = Some(maiden.to_string());
        }
        Point::Marital if p.marital_status.is_none() => {
            let age = REFERENCE_YEAR - p.dob.year;
            let status = (0..4).find_map(|_| details::marital(rng, age));
            p.marital_status = Some(status.unwrap_or("Single"));
        }
        Point::Nin => p.nin = Some(ids.nin(p.index)),
        Point::Photo => p.photo_token = Some(ids.photo_token(p.index)),
        Point::Branch => {
            let branch = format!("{} Branch", p.lga_of_residence);
            if let Some(e) = p.enrollment.as_mut().filter(|e| e.1.is_empty()) {
                e.1 = branch;
            }
        }
        _ => {}
    }
}

/// `first.last` in lower-case ASCII letters and digits, for e-mail addresses.
fn email_local(p: &Person) -> String {
    let clean = |s: &str| -> String {
        s.chars()
            .filter(|c| c.is_ascii_alphanumeric())
            .collect::<String>()
            .to_lowercase()
    };
    let (f, l) = (clean(&p.firstname), clean(&p.lastname));
    match (f.is_empty(), l.is_empty()) {
        (false, false) => format!("{f}.{l}"),
        (true, true) => format!("customer{}", p.index),
        _ => format!("{f}{l}"),
    }
}

/// Gives an individual the name a client chose: one word is the given name (the generated surname
/// stays), two are given name and surname, more put the middle words in `middlename`. Gender
/// follows the given name when a name list knows it; e-mails, aliases, next of kin and mother's
/// maiden name follow the new surname.
pub(crate) fn rename(p: &mut Person, name: &str, rng: &mut Draw) {
    let words: Vec<&str> = name.split_whitespace().collect();
    let Some((first, rest)) = words.split_first() else {
        return;
    };
    let old_last = p.lastname.clone();
    p.firstname = first.to_string();
    p.middlename = None;
    if let Some((last, middle)) = rest.split_last() {
        p.lastname = last.to_string();
        p.middlename = (!middle.is_empty()).then(|| middle.join(" "));
    }
    if let Some(female) = gender_of(first) {
        p.female = female;
    }
    let suffix = format!(" {old_last}");
    let new_suffix = format!(" {}", p.lastname);
    let follow = |s: &mut String| {
        if let Some(stem) = s.strip_suffix(&suffix) {
            *s = format!("{stem}{new_suffix}");
        }
    };
    p.aliases.iter_mut().for_each(follow);
    p.next_of_kins.iter_mut().for_each(|k| follow(&mut k.name));
    if p.mothers_maiden.as_deref() == Some(p.lastname.as_str()) {
        p.mothers_maiden = None;
    }
    let local = email_local(p);
    if let Some(email) = p.emails.first_mut() {
        let domain = email.split_once('@').map_or("gmail.com", |(_, d)| d);
        *email = format!("{local}{}@{domain}", rng.between(1, 99));
    }
}

/// True for a known woman's name, false for a known man's, `None` when no list has it.
fn gender_of(given: &str) -> Option<bool> {
    let has = |list: &[&str]| list.iter().any(|n| n.eq_ignore_ascii_case(given));
    let female = names::TRADITIONS.iter().any(|t| has(t.female))
        || has(names::CHRISTIAN_FEMALE)
        || has(names::MUSLIM_FEMALE);
    let male = names::TRADITIONS.iter().any(|t| has(t.male))
        || has(names::CHRISTIAN_MALE)
        || has(names::MUSLIM_MALE);
    match (female, male) {
        (true, false) => Some(true),
        (false, true) => Some(false),
        _ => None,
    }
}
