//! One member of the population, computed from (seed, index) alone.

use std::time::Duration;

use okra_core::source::{NextOfKin, PhotoId, SourceIdentity};

use crate::accounts::{self, Account};
use crate::dates::{days_in_month, Date};
use crate::details::{address, company, enrollment, kin, marital, pools, wealth};
use crate::geo::{self, State};
use crate::ids::Ids;
use crate::names;
use crate::rng::Draw;
use crate::spec::Volume;

/// A company held by a person (about 5% of the population bank as companies).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Company {
    /// Registered name, e.g. `"Okafor Ventures Ltd"`.
    pub name: String,
    /// CAC registration number, e.g. `"RC1234567"`.
    pub rc_number: String,
}

/// A person of the simulated network, with everything every bank and the BVN registry know.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Person {
    /// Position in the population (what every identifier encodes).
    pub index: u64,
    /// Naming tradition, e.g. `"Igbo"`.
    pub tradition: &'static str,
    /// True for women.
    pub female: bool,
    /// Given name.
    pub firstname: String,
    /// Middle name.
    pub middlename: Option<String>,
    /// Surname.
    pub lastname: String,
    /// Date of birth.
    pub dob: Date,
    /// The company, when this account holder is a company (the person is its director).
    pub company: Option<Company>,
    /// BVN; `None` for companies and for the ~3% of people whose accounts carry no BVN.
    pub bvn: Option<String>,
    /// NIN, when enrolled.
    pub nin: Option<String>,
    /// Phones, primary first.
    pub phones: Vec<String>,
    /// E-mail addresses.
    pub emails: Vec<String>,
    /// Addresses, current first.
    pub addresses: Vec<String>,
    /// State of origin.
    pub state_of_origin: &'static State,
    /// LGA of origin.
    pub lga_of_origin: &'static str,
    /// State of residence.
    pub state_of_residence: &'static State,
    /// LGA of residence.
    pub lga_of_residence: &'static str,
    /// Marital status, when recorded.
    pub marital_status: Option<&'static str>,
    /// Mother's maiden name, when recorded.
    pub mothers_maiden: Option<String>,
    /// Other names.
    pub aliases: Vec<String>,
    /// Next of kin.
    pub next_of_kins: Vec<NextOfKin>,
    /// BVN enrolment: (CBN bank code, branch, day).
    pub enrollment: Option<(&'static str, String, Date)>,
    /// Photo token (path segment of the avatar URL); `None` for companies.
    pub photo_token: Option<String>,
    /// Typical naira balance of an account of this person, in kobo.
    pub wealth_kobo: i64,
    /// Accounts, by slot.
    pub accounts: Vec<Account>,
    /// How much money and activity the accounts carry: `None` for generated people (their own
    /// wealth draw), the spec's volume for custom people (see `Network::person_with`).
    pub volume: Option<Volume>,
    /// The identity completeness (1–100) a custom person was made with; the optional identity
    /// fields are already dropped or filled to match it, so `identity()` needs nothing more.
    pub identity_completeness: Option<u8>,
    /// How long this person's bank takes to answer (a custom person's internet speed); a hint the
    /// caller applies, like the `slow.` username prefix. `None`: answer at once.
    pub delay: Option<Duration>,
}

/// Ages are computed against this year so people never change as the calendar moves.
pub(crate) const REFERENCE_YEAR: i32 = 2025;

impl Person {
    /// Generates person `index` from the seed's key and identifiers.
    pub fn generate(ids: &Ids, key: [u8; 32], index: u64) -> Person {
        let mut rng = Draw::new(key, index);
        let is_company = rng.chance(5);
        let t = names::tradition_for(rng.below(100) as u32);
        let female = rng.chance(50);
        let (first_pool, religious) = pools(t, female, &mut rng);
        let firstname = if rng.chance(85) {
            rng.pick(first_pool)
        } else {
            rng.pick(religious)
        };
        let middlename = match rng.below(100) {
            0..=11 => None,
            12..=64 => Some(rng.pick(first_pool)),
            _ => Some(rng.pick(religious)),
        }
        .filter(|m| *m != firstname);
        let lastname = rng.pick(t.surnames);
        let age = 18 + rng.below(63).min(rng.below(63)) as i32;
        let year = REFERENCE_YEAR - age;
        let month = rng.between(1, 12) as u32;
        let dob = Date {
            year,
            month,
            day: rng.between(1, u64::from(days_in_month(year, month))) as u32,
        };

        let origin = geo::state(rng.pick(t.states)).expect("tradition states exist");
        let lga_of_origin = rng.pick(origin.lgas);
        let (residence, lga_of_residence) = if rng.chance(55) {
            (
                origin,
                if rng.chance(50) {
                    lga_of_origin
                } else {
                    rng.pick(origin.lgas)
                },
            )
        } else {
            let s = geo::state(rng.weighted(geo::MIGRATION)).expect("migration states exist");
            (s, rng.pick(s.lgas))
        };
        let mut addresses = vec![address(&mut rng, residence, lga_of_residence)];
        if rng.chance(20) {
            addresses.push(address(&mut rng, origin, lga_of_origin));
        }

        let mut phones = vec![ids.phone(index, 0)];
        if rng.chance(30) {
            phones.push(ids.phone(index, 1));
        }
        let mut emails = Vec::new();
        if rng.chance(85) {
            let (f, l) = (firstname.to_lowercase(), lastname.to_lowercase());
            let local = match rng.below(4) {
                0 => format!("{f}.{l}"),
                1 => format!("{f}{l}{}", rng.between(1, 99)),
                2 => format!("{l}.{f}{}", dob.year % 100),
                // The first character, not byte: names need not be ASCII.
                _ => format!("{}{l}", f.chars().next().unwrap_or('x')),
            };
            emails.push(format!("{local}@{}", rng.pick(names::EMAIL_DOMAINS)));
        }

        let marital_status = marital(&mut rng, age);
        let mothers_maiden = rng
            .chance(55)
            .then(|| rng.pick(t.surnames))
            .filter(|m| *m != lastname);
        let mut aliases = Vec::new();
        if female && marital_status == Some("Married") && rng.chance(60) {
            aliases.push(format!("{firstname} {}", rng.pick(t.surnames)));
        } else if let (Some(m), true) = (middlename, rng.chance(10)) {
            aliases.push(format!("{m} {lastname}"));
        }
        let next_of_kins = kin(&mut rng, t, lastname, female, marital_status, age);

        let company = is_company.then(|| company(&mut rng, lastname));
        let has_bvn = !is_company && rng.chance(97);
        let bvn = has_bvn.then(|| ids.bvn(index));
        let nin = (!is_company && rng.chance(90)).then(|| ids.nin(index));
        let wealth_kobo = wealth(&mut rng) * if is_company { 10 } else { 1 };
        let accounts = accounts::generate(ids, &mut rng, index, is_company, &phones[0]);
        let enrollment = has_bvn.then(|| enrollment(&mut rng, &accounts, year, lga_of_residence));
        Person {
            index,
            tradition: t.name,
            female,
            firstname: firstname.to_string(),
            middlename: middlename.map(str::to_string),
            lastname: lastname.to_string(),
            dob,
            company,
            bvn,
            nin,
            phones,
            emails,
            addresses,
            state_of_origin: origin,
            lga_of_origin,
            state_of_residence: residence,
            lga_of_residence,
            marital_status,
            mothers_maiden: mothers_maiden.map(str::to_string),
            aliases,
            next_of_kins,
            enrollment,
            photo_token: (!is_company).then(|| ids.photo_token(index)),
            wealth_kobo,
            accounts,
            volume: None,
            identity_completeness: None,
            delay: None,
        }
    }

    /// "First Middle Last" (the person, never the company).
    pub fn person_name(&self) -> String {
        match &self.middlename {
            Some(m) => format!("{} {m} {}", self.firstname, self.lastname),
            None => format!("{} {}", self.firstname, self.lastname),
        }
    }

    /// The account holder's name: the company's, or the person's.
    pub fn holder_name(&self) -> String {
        self.company
            .as_ref()
            .map_or_else(|| self.person_name(), |c| c.name.clone())
    }

    /// The name banks print on accounts (upper case, as NIP name enquiry returns it).
    pub fn account_name(&self) -> String {
        self.holder_name().to_uppercase()
    }

    /// The account numbered `number` at bank `bank_id` (id or slug), if this person holds it.
    pub fn account(&self, bank_id: &str, number: &str) -> Option<&Account> {
        let bank = okra_core::banks::find(bank_id)?;
        self.accounts
            .iter()
            .find(|a| a.bank.id == bank.id && a.number == number)
    }

    /// True when the BVN is on the watch-list: by rule, every BVN ending in `00` (about 1%).
    pub fn watch_listed(&self) -> bool {
        self.bvn.as_deref().is_some_and(|b| b.ends_with("00"))
    }

    /// The identity every bank and the registry report for this person.
    pub fn identity(&self) -> SourceIdentity {
        SourceIdentity {
            firstname: self.firstname.clone(),
            middlename: self.middlename.clone(),
            lastname: self.lastname.clone(),
            fullname: self.holder_name(),
            dob: self.dob.to_string(),
            gender: if self.female { "Female" } else { "Male" }.to_string(),
            bvn: self.bvn.clone(),
            nin: self.nin.clone(),
            phones: self.phones.clone(),
            emails: self.emails.clone(),
            addresses: self.addresses.clone(),
            nationality: "Nigeria".to_string(),
            state_of_origin: self.state_of_origin.display.to_string(),
            lga_of_origin: self.lga_of_origin.to_string(),
            state_of_residence: self.state_of_residence.display.to_string(),
            lga_of_residence: self.lga_of_residence.to_string(),
            marital_status: self.marital_status.map(str::to_string),
            mothers_maiden: self.mothers_maiden.clone(),
            aliases: self.aliases.clone(),
            next_of_kins: self.next_of_kins.clone(),
            photo: self.photo_token.as_ref().map(|t| PhotoId {
                url_path: format!("/sandbox/photos/{t}.svg"),
                image_type: "bvn_photo".to_string(),
            }),
            enrollment_bank: self.enrollment.as_ref().map(|e| e.0.to_string()),
            // An empty branch is one a custom person's identity completeness dropped.
            enrollment_branch: self
                .enrollment
                .as_ref()
                .map(|e| e.1.clone())
                .filter(|b| !b.is_empty()),
            registration_date: self.enrollment.as_ref().map(|e| e.2.to_string()),
            watch_listed: self.watch_listed(),
            rc_number: self.company.as_ref().map(|c| c.rc_number.clone()),
            is_company: self.company.is_some(),
        }
    }
}
