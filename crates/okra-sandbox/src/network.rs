//! The network: a seed, a population size and the lookups that find people by what callers know.

use okra_core::banks::{self, AccountNumbering, BANKS};
use okra_core::source::Credentials;
use serde::Serialize;

use crate::accounts::Account;
use crate::custom::CUSTOM_BASE;
use crate::dates::Date;
use crate::ids::Ids;
use crate::person::Person;
use crate::spec::PersonSpec;

/// Population of a network made with [`Network::default`]: ten million people, none stored.
pub const DEFAULT_POPULATION: u64 = 10_000_000;

/// Seed of [`Network::default`], so "the sandbox" means the same people everywhere.
pub const DEFAULT_SEED: u64 = 2020;

/// The simulated Nigerian bank network: `population` people computed on demand from `seed`.
///
/// Person `i` (`0 <= i < population`) is a pure function of `(seed, i)`; every identifier (BVN,
/// NIN, phones, NUBANs, photo token) is a keyed permutation of `i`, so each maps back to the
/// person in O(1) (see `ids`). Nothing is stored: a network is a few kilobytes of keys.
///
/// Indexes from [`crate::CUSTOM_BASE`] up are reserved for *custom people*, the sandbox
/// customers API clients create: see [`Network::person_with`] and [`Network::custom_index_of`].
///
/// # Credentials rule
///
/// Every person can log in at every bank where they hold an account with
///
/// * **username** `<firstname>.<lastname>.<index>`, lower case (e.g. `adaeze.okafor.1234`); for a
///   company, the names are its director's (`firstname`/`lastname` of its identity);
/// * **password** the username followed by `!` (e.g. `adaeze.okafor.1234!`).
///
/// Usernames are matched case-insensitively, passwords exactly. [`Network::credentials`] gives
/// them for an index and [`Network::sample_users`] lists some. A username starting with a fault
/// trigger (`locked.`, `otp.`, `timeout.`, `down.`, `wrong.`, `slow.`…) behaves as described in
/// the `faults` module and the crate README.
#[derive(Debug, Clone)]
pub struct Network {
    seed: u64,
    population: u64,
    key: [u8; 32],
    pub(crate) ids: Ids,
    as_of: Option<Date>,
}

/// A short description of a person, for listings such as `okra-server sandbox users`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct PersonSummary {
    /// Position in the population.
    pub index: u64,
    /// Holder name (the company's for companies).
    pub name: String,
    /// BVN, when the person has one.
    pub bvn: Option<String>,
    /// Primary phone.
    pub phone: String,
    /// True for companies.
    pub is_company: bool,
    /// True when the BVN is watch-listed.
    pub watch_listed: bool,
    /// The person's accounts.
    pub accounts: Vec<AccountSummary>,
}

/// One account in a [`PersonSummary`].
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct AccountSummary {
    /// Bank slug.
    pub bank: String,
    /// Account number.
    pub nuban: String,
    /// `savings`, `current` or `domiciliary`.
    pub account_type: String,
    /// `NGN` or `USD`.
    pub currency: String,
}

impl Default for Network {
    fn default() -> Self {
        Network::new(DEFAULT_SEED, DEFAULT_POPULATION)
    }
}

impl Network {
    /// A network of `population` generated people from `seed`. The population is clamped to
    /// `1..=`[`CUSTOM_BASE`] (115 million: the phone-number domain holds 125 million people and
    /// the top 10 million indexes are reserved for custom people).
    pub fn new(seed: u64, population: u64) -> Self {
        Network {
            seed,
            population: population.clamp(1, CUSTOM_BASE),
            key: crate::rng::key_for_seed(seed),
            ids: Ids::new(seed, BANKS.len()),
            as_of: None,
        }
    }

    /// The same network with balances computed as of `as_of` instead of today (UTC): for tests
    /// and reproducible demos.
    pub fn with_as_of(mut self, as_of: Date) -> Self {
        self.as_of = Some(as_of);
        self
    }

    /// The seed.
    pub fn seed(&self) -> u64 {
        self.seed
    }

    /// Number of generated people (custom people not included).
    pub fn population(&self) -> u64 {
        self.population
    }

    /// The day balances are computed for: the fixed `as_of`, or today in UTC.
    pub fn as_of(&self) -> Date {
        self.as_of.unwrap_or_else(Date::today_utc)
    }

    /// Person `index`, or `None` outside the population and the custom range. A custom index
    /// gives the custom person of the default spec ([`PersonSpec::default`]); the server, which
    /// knows the real spec, calls [`Network::person_with`] instead.
    pub fn person(&self, index: u64) -> Option<Person> {
        if index < self.population {
            Some(self.generated(index))
        } else {
            self.person_with(index, &PersonSpec::default())
        }
    }

    /// The generator's person `index`, whatever the population (custom people start from it).
    pub(crate) fn generated(&self, index: u64) -> Person {
        Person::generate(&self.ids, self.key, index)
    }

    /// The holder of `bvn`. Reverse lookups (`person_by_*`, `account_by_nuban`) find custom
    /// people too, with the default spec; see [`Network::custom_index_of`] for the real one.
    pub fn person_by_bvn(&self, bvn: &str) -> Option<Person> {
        let person = self.person(self.ids.bvn_index(bvn)?)?;
        (person.bvn.as_deref() == Some(bvn)).then_some(person)
    }

    /// The person whose phone this is (`08031234567`, or without the leading 0).
    pub fn person_by_phone(&self, phone: &str) -> Option<Person> {
        let (index, k) = self.ids.phone_index(phone)?;
        let person = self.person(index)?;
        (k < person.phones.len() as u64).then_some(person)
    }

    /// The holder and the account of (`bank_id`, account number); `bank_id` is an Okra id or slug.
    pub fn account_by_nuban(&self, bank_id: &str, number: &str) -> Option<(Person, Account)> {
        let bank = banks::find(bank_id)?;
        let bank_index = BANKS.iter().position(|b| b.id == bank.id)?;
        if !okra_core::nuban::is_nuban_shaped(number) || !bank.accepts_account_number(number) {
            return None;
        }
        let (index, slot) = match bank.numbering {
            AccountNumbering::Phone => {
                let (index, k) = self.ids.phone_index(number)?;
                (k == 0).then_some(())?;
                let person = self.person(index)?;
                let slot = person
                    .accounts
                    .iter()
                    .find(|a| a.bank_index == bank_index)?
                    .slot;
                (index, slot)
            }
            AccountNumbering::Nuban | AccountNumbering::Unchecked => {
                self.ids.nuban_owner(bank_index, &number[..9])?
            }
        };
        let person = self.person(index)?;
        let account = person.accounts.get(slot as usize)?.clone();
        (account.bank_index == bank_index && account.number == number).then_some((person, account))
    }

    /// The username of a person (see the credentials rule on [`Network`]).
    pub fn username(person: &Person) -> String {
        format!("{}.{}.{}", person.firstname, person.lastname, person.index).to_lowercase()
    }

    /// The password of a username: the username followed by `!`.
    pub fn password_for(username: &str) -> String {
        format!("{}!", username.trim().to_lowercase())
    }

    /// The credentials of person `index`, or `None` outside the population (custom people's
    /// credentials are whatever the server stored for them).
    pub fn credentials(&self, index: u64) -> Option<Credentials> {
        (index < self.population).then_some(())?;
        let username = Network::username(&self.person(index)?);
        let password = Network::password_for(&username);
        Some(Credentials {
            username,
            password,
            otp: None,
        })
    }

    /// The person a username names, if they hold an account at `bank_id` (id or slug). Fault
    /// prefixes are not interpreted here; the password is not checked. Custom people cannot log
    /// in by the rule (their usernames are the server's): a custom index gives `None`.
    pub fn person_by_username(&self, bank_id: &str, username: &str) -> Option<Person> {
        let bank = banks::find(bank_id)?;
        let username = username.trim().to_lowercase();
        let (_, index) = username.rsplit_once('.')?;
        let index = crate::ids::parse_digits(index)?;
        (index < self.population).then_some(())?;
        let person = self.person(index)?;
        let banks_there = person.accounts.iter().any(|a| a.bank.id == bank.id);
        (banks_there && Network::username(&person) == username).then_some(person)
    }

    /// Up to `count` people (lowest indexes first) with their credentials, optionally only those
    /// banking at `bank` (id or slug; an unknown bank gives an empty list).
    pub fn sample_users(
        &self,
        bank: Option<&str>,
        count: usize,
    ) -> Vec<(Credentials, PersonSummary)> {
        let bank = match bank {
            Some(b) => match banks::find(b) {
                Some(info) => Some(info),
                None => return Vec::new(),
            },
            None => None,
        };
        let mut out = Vec::with_capacity(count);
        let mut index = 0;
        while out.len() < count && index < self.population {
            let person = Person::generate(&self.ids, self.key, index);
            index += 1;
            if bank.is_some_and(|b| !person.accounts.iter().any(|a| a.bank.id == b.id)) {
                continue;
            }
            let username = Network::username(&person);
            let credentials = Credentials {
                password: Network::password_for(&username),
                username,
                otp: None,
            };
            out.push((credentials, summary(&person)));
        }
        out
    }

    /// The SVG avatar behind a photo token (`/sandbox/photos/<token>.svg`; the `.svg` suffix is
    /// accepted too), or `None` when the token names no one.
    pub fn photo_svg(&self, token: &str) -> Option<String> {
        self.photo_svg_for(&self.person_by_photo(token)?)
    }

    /// The person a photo token (`.svg` suffix accepted) belongs to.
    pub fn person_by_photo(&self, token: &str) -> Option<Person> {
        let token = token.strip_suffix(".svg").unwrap_or(token);
        let person = self.person(self.ids.photo_index(token)?)?;
        (person.photo_token.as_deref() == Some(token)).then_some(person)
    }

    /// The SVG avatar of `person` (a custom person's with their chosen name), or `None` when the
    /// person has no photo (companies, custom people whose completeness dropped it).
    pub fn photo_svg_for(&self, person: &Person) -> Option<String> {
        person.photo_token.as_ref()?;
        Some(crate::photo::svg(self.seed, person))
    }

    /// Balances of an account as of `as_of` (see `balances` for the model).
    pub fn balance_of(
        &self,
        person: &Person,
        account: &Account,
        as_of: Date,
    ) -> okra_core::source::SourceBalance {
        crate::balances::balance(self.seed, person, account, as_of)
    }

    /// A keyed check value for session tokens, so a token cannot name someone else by accident.
    pub(crate) fn session_mac(&self, bank_index: usize, index: u64) -> u64 {
        crate::permute::hash(&[self.seed, 0x5E55, bank_index as u64, index])
    }
}

/// The listing form of a person.
pub fn summary(person: &Person) -> PersonSummary {
    PersonSummary {
        index: person.index,
        name: person.holder_name(),
        bvn: person.bvn.clone(),
        phone: person.phones[0].clone(),
        is_company: person.company.is_some(),
        watch_listed: person.watch_listed(),
        accounts: person
            .accounts
            .iter()
            .map(|a| AccountSummary {
                bank: a.bank.slug.to_string(),
                nuban: a.number.clone(),
                account_type: a.account_type.as_str().to_string(),
                currency: a.currency.to_string(),
            })
            .collect(),
    }
}
