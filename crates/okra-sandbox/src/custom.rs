//! Custom people: sandbox customers an API client creates (`customers/create`, `customers/generate`),
//! living at reserved indexes of the same network so every identifier, reverse lookup and view
//! works for them as for generated people.
//!
//! A custom person is the person the generator draws at a reserved index, with a [`PersonSpec`]
//! applied on top (name, company, accounts, volume, identity completeness, internet speed). The
//! spec lives in the server's database; this crate stays stateless. Each part of the spec draws
//! from its own stream, so changing one field of a spec changes only what that field is about.

use std::time::Duration;

use okra_core::banks::{self, BANKS};
use okra_core::source::BankSession;

use crate::ids::MAX_POPULATION;
use crate::network::Network;
use crate::permute::hash;
use crate::person::Person;
use crate::rng::{key_for_seed, Draw};
use crate::spec::{PersonSpec, Volume};
use crate::{accounts, details, names, profile};

/// How many custom people a network can hold.
pub const CUSTOM_CAPACITY: u64 = 10_000_000;

/// First custom index: the top [`CUSTOM_CAPACITY`] indexes below [`MAX_POPULATION`] are reserved,
/// and `Network::new` caps the generated population at this value, so whatever the population
/// size, no generated person ever shares an index (hence a BVN, phone or NUBAN) with a custom one.
pub const CUSTOM_BASE: u64 = MAX_POPULATION - CUSTOM_CAPACITY;

/// Response delay of a bank for internet speed 3.
pub const SPEED_3_DELAY: Duration = Duration::from_millis(1500);

/// Response delay of a bank for internet speed 2.
pub const SPEED_2_DELAY: Duration = Duration::from_secs(4);

/// What a request names, for [`Network::custom_index_of`].
#[derive(Debug, Clone, Copy)]
pub enum Lookup<'a> {
    /// A BVN.
    Bvn(&'a str),
    /// A phone number (`08031234567`, or without the leading 0).
    Phone(&'a str),
    /// An account at a bank (id or slug): a 10-digit number or an `account_ref` (`<slug>:<number>`).
    Account {
        /// Bank id or slug.
        bank: &'a str,
        /// Account number or account reference.
        number: &'a str,
    },
    /// A session issued by `Network::login` or `Network::login_as`.
    Session(&'a BankSession),
    /// A photo token (with or without `.svg`).
    Photo(&'a str),
}

/// Stream keys of the parts of a spec (one ChaCha key each, stream = index).
const PART_NAME: u64 = 1;
const PART_COMPANY: u64 = 2;
const PART_ACCOUNTS: u64 = 3;
const PART_MONEY: u64 = 4;
const PART_IDENTITY: u64 = 5;

impl Network {
    /// Index of the `n`-th custom person (0-based), `None` beyond [`CUSTOM_CAPACITY`]. The server
    /// allocates `n` (e.g. a counter per environment) and stores the index with the spec.
    pub fn custom_index(n: u64) -> Option<u64> {
        (n < CUSTOM_CAPACITY).then_some(CUSTOM_BASE + n)
    }

    /// The `n` of a custom index (inverse of [`Network::custom_index`]); `None` for generated
    /// people and out-of-range indexes.
    pub fn custom_slot(index: u64) -> Option<u64> {
        (CUSTOM_BASE..MAX_POPULATION)
            .contains(&index)
            .then(|| index - CUSTOM_BASE)
    }

    /// The custom person at `index` with `spec` applied, or `None` when `index` is not a custom
    /// index. Out-of-range spec values are clamped and an unknown bank is drawn instead (run
    /// [`PersonSpec::validate`] first). Every view honours the result: `identity()` (fields
    /// dropped or filled to the requested completeness), `accounts` (count, first bank, NUBANs),
    /// balances (`volume`), [`Network::delay_for`] (internet speed).
    pub fn person_with(&self, index: u64, spec: &PersonSpec) -> Option<Person> {
        Network::custom_slot(index)?;
        Some(apply(self, self.generated(index), spec))
    }

    /// How long `person`'s bank takes to answer: `None` for generated people and internet
    /// speed 4, 1.5 s for speed 3, 4 s for speed 2. A hint: the caller waits (e.g.
    /// `tokio::time::sleep`) before answering a bank call (login, accounts, identity, balance).
    pub fn delay_for(person: &Person) -> Option<Duration> {
        person.delay
    }

    /// Step 1 of answering for custom people: the custom index a request names, before anything
    /// is verified (the spec is needed for that), or `None` when it names no custom index —
    /// then the plain method answers (generated people, fault triggers, unknown identifiers).
    /// With `Some(index)`, load the spec stored for `index` (none: `NotFound`), build the person
    /// with [`Network::person_with`] and call the `_for` twin of the view.
    pub fn custom_index_of(&self, lookup: Lookup<'_>) -> Option<u64> {
        let index = match lookup {
            Lookup::Bvn(bvn) => self.ids.bvn_index(bvn.trim())?,
            Lookup::Phone(phone) => self.ids.phone_index(phone.trim())?.0,
            Lookup::Account { bank, number } => self.account_index(bank, number)?,
            Lookup::Session(session) => self.session_index(session).ok()?,
            Lookup::Photo(token) => {
                let token = token.strip_suffix(".svg").unwrap_or(token);
                self.ids.photo_index(token)?
            }
        };
        Network::custom_slot(index).map(|_| index)
    }

    /// The index an account number encodes at a bank (custom or not, unverified).
    fn account_index(&self, bank_id: &str, number: &str) -> Option<u64> {
        let bank = banks::find(bank_id)?;
        let bank_index = BANKS.iter().position(|b| b.id == bank.id)?;
        let number = match number.split_once(':') {
            Some((slug, number)) if slug == bank.slug => number,
            Some(_) => return None,
            None => number,
        };
        if !okra_core::nuban::is_nuban_shaped(number) || !bank.accepts_account_number(number) {
            return None;
        }
        match bank.numbering {
            banks::AccountNumbering::Phone => {
                let (index, k) = self.ids.phone_index(number)?;
                (k == 0).then_some(index)
            }
            _ => Some(self.ids.nuban_owner(bank_index, &number[..9])?.0),
        }
    }

    /// The ChaCha stream for one part of a custom person.
    fn part(&self, part: u64, index: u64) -> Draw {
        Draw::new(key_for_seed(hash(&[self.seed(), 0xC057, part])), index)
    }
}

/// The generated person `p` made into the custom person `spec` describes.
fn apply(net: &Network, mut p: Person, spec: &PersonSpec) -> Person {
    let index = p.index;
    let is_company = spec.company.unwrap_or(false);
    let t = names::TRADITIONS
        .iter()
        .find(|t| t.name == p.tradition)
        .unwrap_or(&names::TRADITIONS[0]);

    let mut rng = net.part(PART_COMPANY, index);
    if is_company {
        let mut company = p
            .company
            .take()
            .unwrap_or_else(|| details::company(&mut rng, &p.lastname));
        if let Some(name) = spec.name.as_deref().map(str::trim) {
            company.name = name.split_whitespace().collect::<Vec<_>>().join(" ");
        }
        p.company = Some(company);
        (p.bvn, p.nin, p.photo_token, p.enrollment) = (None, None, None, None);
    } else {
        let was_company = p.company.take().is_some();
        if let Some(name) = &spec.name {
            profile::rename(&mut p, name, &mut net.part(PART_NAME, index));
        }
        // Created individuals are verified customers: they always have a BVN.
        p.bvn = Some(net.ids.bvn(index));
        p.photo_token = Some(net.ids.photo_token(index));
        if was_company {
            p.nin = Some(net.ids.nin(index));
        }
    }

    let mut rng = net.part(PART_ACCOUNTS, index);
    let count = match spec.accounts {
        Some(n) => u64::from(n),
        None => rng.weighted(&[(1, 35), (2, 30), (3, 20), (4, 10), (5, 5)]),
    };
    let first = spec
        .bank
        .as_deref()
        .and_then(banks::find)
        .and_then(|b| BANKS.iter().position(|x| x.id == b.id));
    let phone = p.phones[0].clone();
    p.accounts = accounts::custom(&net.ids, &mut rng, index, is_company, &phone, count, first);
    if !is_company && p.enrollment.is_none() {
        let lga = p.lga_of_residence;
        p.enrollment = Some(details::enrollment(&mut rng, &p.accounts, p.dob.year, lga));
    }

    let mut rng = net.part(PART_MONEY, index);
    let naira = match spec.volume {
        Volume::Low => rng.between(20_000, 80_000),
        Volume::Medium => rng.between(200_000, 800_000),
        Volume::High => rng.between(20_000_000, 80_000_000),
    };
    p.wealth_kobo = naira as i64 * 100;
    p.volume = Some(spec.volume);

    if let Some(target) = spec.identity {
        let target = target.clamp(1, 100);
        let mut rng = net.part(PART_IDENTITY, index);
        profile::complete(&mut p, &net.ids, t, target, &mut rng);
        p.identity_completeness = Some(target);
    }
    p.delay = match spec.internet_speed.map(|s| s.clamp(2, 4)) {
        Some(2) => Some(SPEED_2_DELAY),
        Some(3) => Some(SPEED_3_DELAY),
        _ => None,
    };
    p
}
