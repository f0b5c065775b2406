//! Cross-module properties of the network: determinism, identifiers, views that must agree.

use std::future::Future;
use std::pin::pin;
use std::task::{Context, Poll, RawWaker, RawWakerVTable, Waker};

use okra_core::banks::{self, AccountNumbering};
use okra_core::source::{BankSource, Credentials, IdentityRegistry, SourceError};

use crate::{geo, names, Date, Network};

/// Polls a future that is ready at once (every future of this crate is).
fn now<F: Future>(future: F) -> F::Output {
    fn clone(_: *const ()) -> RawWaker {
        RawWaker::new(std::ptr::null(), &VTABLE)
    }
    fn noop(_: *const ()) {}
    static VTABLE: RawWakerVTable = RawWakerVTable::new(clone, noop, noop, noop);
    // SAFETY: the vtable's functions ignore the null data pointer.
    let waker = unsafe { Waker::from_raw(RawWaker::new(std::ptr::null(), &VTABLE)) };
    match pin!(future).poll(&mut Context::from_waker(&waker)) {
        Poll::Ready(output) => output,
        Poll::Pending => panic!("sandbox futures are ready at once"),
    }
}

fn network() -> Network {
    Network::new(2020, 1_000_000).with_as_of(Date::parse("2025-03-15").unwrap())
}

#[test]
fn same_seed_same_people_different_seed_different_people() {
    let (a, b, c) = (
        Network::new(1, 1000),
        Network::new(1, 1000),
        Network::new(2, 1000),
    );
    let mut differing = 0;
    for i in 0..1000 {
        let pa = a.person(i).unwrap();
        assert_eq!(pa, b.person(i).unwrap());
        assert_eq!(pa.identity(), b.person(i).unwrap().identity());
        if pa.identity() != c.person(i).unwrap().identity() {
            differing += 1;
        }
    }
    assert_eq!(differing, 1000);
    assert!(a.person(1000).is_none());
    // People do not depend on the population size.
    assert_eq!(Network::new(1, 5000).person(10), a.person(10));
}

#[test]
fn golden_person_is_stable_across_machines_and_releases() {
    // If this fails, the population changed: every stored sandbox fixture changes with it.
    let p = Network::new(2020, 10_000_000).person(0).unwrap();
    let summary = serde_json::to_string(&crate::network::summary(&p)).unwrap();
    assert_eq!(
        summary,
        r#"{"index":0,"name":"Amina Jamila Gambo","bvn":"22377196863","phone":"08136064532","is_company":false,"watch_listed":false,"accounts":[{"bank":"union-bank-of-nigeria","nuban":"0960839220","account_type":"savings","currency":"NGN"}]}"#
    );
}

#[test]
fn every_account_number_is_valid_for_its_bank() {
    let net = network();
    let mut checked = 0;
    for i in 0..50_000 {
        let p = net.person(i).unwrap();
        assert!((1..=5).contains(&p.accounts.len()), "person {i}");
        for (slot, a) in p.accounts.iter().enumerate() {
            assert_eq!(a.slot, slot as u64);
            assert!(
                a.bank.accepts_account_number(&a.number),
                "{} {}",
                a.bank.slug,
                a.number
            );
            match a.bank.numbering {
                AccountNumbering::Nuban => {
                    assert!(okra_core::nuban::is_valid_nuban(a.bank.cbn_code, &a.number))
                }
                AccountNumbering::Phone => assert_eq!(format!("0{}", a.number), p.phones[0]),
                AccountNumbering::Unchecked => assert_eq!(a.number.len(), 10),
            }
            assert_eq!(
                a.currency == "USD",
                a.account_type.as_str() == "domiciliary"
            );
            checked += 1;
        }
    }
    assert!(checked >= 100_000, "checked {checked}");
}

#[test]
fn reverse_lookups_invert_forward_ones() {
    let net = network();
    for i in (0..1_000_000).step_by(331) {
        let p = net.person(i).unwrap();
        if let Some(bvn) = &p.bvn {
            assert_eq!(net.person_by_bvn(bvn).unwrap().index, i);
        }
        for phone in &p.phones {
            assert_eq!(net.person_by_phone(phone).unwrap().index, i);
        }
        for a in &p.accounts {
            let (holder, account) = net.account_by_nuban(a.bank.slug, &a.number).unwrap();
            assert_eq!((holder.index, &account), (i, a));
            assert_eq!(
                net.account_by_nuban(a.bank.id, &a.number).unwrap().0.index,
                i
            );
        }
        let creds = net.credentials(i).unwrap();
        let bank = p.accounts[0].bank.slug;
        assert_eq!(
            net.person_by_username(bank, &creds.username).unwrap().index,
            i
        );
        if let Some(token) = &p.photo_token {
            assert!(net.photo_svg(token).unwrap().starts_with("<svg"));
        }
    }
    // Outside the population, nothing.
    let outside = Network::new(2020, 10_000_000).person(2_000_000).unwrap();
    if let Some(bvn) = &outside.bvn {
        assert!(net.person_by_bvn(bvn).is_none());
    }
    assert!(net.person_by_bvn("22000000001").is_none());
    assert!(net.photo_svg("nope").is_none());
}

#[test]
fn bank_and_registry_views_agree() {
    let net = network();
    let mut compared = 0;
    for i in 0..300 {
        let p = net.person(i).unwrap();
        let creds = net.credentials(i).unwrap();
        for a in &p.accounts {
            let session = now(net.authenticate(a.bank.id, &creds)).unwrap();
            let via_bank = now(net.identity(&session)).unwrap();
            let listed = now(net.list_accounts(&session)).unwrap();
            assert!(listed
                .iter()
                .any(|l| l.nuban == a.number && l.account_ref == a.account_ref()));
            assert!(listed.iter().all(|l| l.bank_id == a.bank.id));
            let via_nuban = now(net.resolve_nuban(a.bank.slug, &a.number));
            let enquiry = now(net.name_enquiry(a.bank.slug, &a.number)).unwrap();
            assert_eq!(enquiry.bvn, p.bvn);
            assert_eq!(enquiry.name, listed[0].name);
            match &p.bvn {
                Some(bvn) => {
                    assert_eq!(via_bank, now(net.lookup_bvn(bvn)).unwrap());
                    assert_eq!(via_bank, via_nuban.unwrap());
                    compared += 1;
                }
                None if p.company.is_some() => assert_eq!(via_bank, via_nuban.unwrap()),
                None => assert_eq!(via_nuban, Err(SourceError::InvalidIdentity)),
            }
        }
    }
    assert!(compared > 300);
}

#[test]
fn identities_are_coherent() {
    let net = network();
    let (mut watch, mut companies, mut no_bvn) = (0, 0, 0);
    let n = 20_000;
    for i in 0..n {
        let p = net.person(i).unwrap();
        let id = p.identity();
        let tradition = names::TRADITIONS
            .iter()
            .find(|t| t.name == p.tradition)
            .unwrap();
        assert!(tradition.states.contains(&p.state_of_origin.name));
        assert!(p.state_of_origin.lgas.contains(&p.lga_of_origin));
        assert!(p.state_of_residence.lgas.contains(&p.lga_of_residence));
        assert_eq!(
            geo::state_by_display(&id.state_of_residence),
            Some(p.state_of_residence)
        );
        assert!(id.addresses[0].ends_with(&format!(
            "{}, {}",
            id.lga_of_residence, id.state_of_residence
        )));
        for phone in id
            .phones
            .iter()
            .chain(id.next_of_kins.iter().map(|k| &k.phone))
        {
            assert!(geo::operator(phone).is_some(), "{phone}");
        }
        let dob = Date::parse(&id.dob).unwrap();
        assert!((1945..=2007).contains(&dob.year), "{}", id.dob);
        if let Some(bvn) = &id.bvn {
            assert!(
                bvn.len() == 11 && bvn.starts_with("22") && bvn.bytes().all(|c| c.is_ascii_digit())
            );
            let reg = Date::parse(id.registration_date.as_deref().unwrap()).unwrap();
            assert!(reg.year >= 2014 && reg.year >= dob.year + 18);
            assert!(banks::BANKS
                .iter()
                .any(|b| Some(b.cbn_code) == id.enrollment_bank.as_deref()));
            assert!(id
                .photo
                .as_ref()
                .unwrap()
                .url_path
                .starts_with("/sandbox/photos/"));
        }
        if let Some(nin) = &id.nin {
            assert!(nin.len() == 11 && nin.bytes().all(|c| c.is_ascii_digit()));
        }
        assert!(["Male", "Female"].contains(&id.gender.as_str()));
        watch += usize::from(id.watch_listed);
        companies += usize::from(id.is_company);
        no_bvn += usize::from(id.bvn.is_none() && !id.is_company);
        if id.is_company {
            let rc = id.rc_number.as_deref().unwrap();
            assert!(rc.starts_with("RC") && rc[2..].bytes().all(|c| c.is_ascii_digit()));
            assert!(p.accounts.iter().all(|a| a.bank.corporate));
        }
    }
    let pct = |k: usize| k as f64 * 100.0 / n as f64;
    assert!(
        (0.6..1.5).contains(&pct(watch)),
        "watch-listed {}%",
        pct(watch)
    );
    assert!(
        (4.0..6.0).contains(&pct(companies)),
        "companies {}%",
        pct(companies)
    );
    assert!((2.0..4.0).contains(&pct(no_bvn)), "no bvn {}%", pct(no_bvn));
}

#[test]
fn balances_are_deterministic_and_available_never_exceeds_ledger() {
    let net = network();
    let mut pending_days = 0;
    for i in 0..2000 {
        let p = net.person(i).unwrap();
        for a in &p.accounts {
            let b = now(net.balance(a.bank.id, &a.account_ref())).unwrap();
            assert_eq!(
                b,
                net.balance_at(a.bank.slug, &a.number, net.as_of()).unwrap()
            );
            assert_eq!(b.history.len(), 30);
            assert_eq!(b.history.last().unwrap().date, "2025-03-15");
            assert_eq!(b.currency, a.currency);
            for d in &b.history {
                assert!(
                    0 <= d.available_minor && d.available_minor <= d.ledger_minor,
                    "{d:?}"
                );
                pending_days += usize::from(d.available_minor < d.ledger_minor);
            }
            let last = b.history.last().unwrap();
            assert_eq!(
                (b.available_minor, b.ledger_minor),
                (Some(last.available_minor), Some(last.ledger_minor))
            );
            // Yesterday's figure is the same whichever day we ask from.
            let tomorrow = net
                .balance_at(a.bank.id, &a.number, Date::parse("2025-03-16").unwrap())
                .unwrap();
            assert_eq!(tomorrow.history[28], b.history[29]);
        }
    }
    assert!(pending_days > 0);
}

#[test]
fn credentials_rule_and_login_failures() {
    let net = network();
    let p = net.person(42).unwrap();
    let creds = net.credentials(42).unwrap();
    assert_eq!(
        creds.username,
        format!("{}.{}.42", p.firstname, p.lastname).to_lowercase()
    );
    assert_eq!(creds.password, format!("{}!", creds.username));
    let bank = p.accounts[0].bank.slug;
    let login = |username: &str, password: &str, bank: &str| {
        now(net.authenticate(
            bank,
            &Credentials {
                username: username.into(),
                password: password.into(),
            },
        ))
    };
    let session = login(&creds.username.to_uppercase(), &creds.password, bank).unwrap();
    assert_eq!(session.customer_ref, "CIF0000000042");
    assert_eq!(
        login(&creds.username, "wrong", bank),
        Err(SourceError::InvalidCredentials)
    );
    assert_eq!(
        login("nobody.here.42", "nobody.here.42!", bank),
        Err(SourceError::InvalidCredentials)
    );
    assert_eq!(
        login("x.y.99999999", "x.y.99999999!", bank),
        Err(SourceError::InvalidCredentials)
    );
    let elsewhere = banks::BANKS
        .iter()
        .find(|b| !p.accounts.iter().any(|a| a.bank.id == b.id))
        .unwrap();
    assert_eq!(
        login(&creds.username, &creds.password, elsewhere.slug),
        Err(SourceError::InvalidCredentials)
    );
    assert_eq!(
        login(&creds.username, &creds.password, "no-such-bank"),
        Err(SourceError::NotFound)
    );
    assert_eq!(login("locked", "x", bank), Err(SourceError::Locked));
    assert_eq!(
        login(&format!("otp.{}", creds.username), "x", bank),
        Err(SourceError::OtpRequired)
    );
    assert_eq!(login("timeout.me", "x", bank), Err(SourceError::Timeout));
    assert_eq!(login("down", "x", bank), Err(SourceError::BankUnavailable));
    assert!(login(&format!("slow5.{}", creds.username), &creds.password, bank).is_ok());
    let mut forged = session.clone();
    forged.token = forged.token.replace(".42.", ".43.");
    assert_eq!(
        now(net.identity(&forged)),
        Err(SourceError::InvalidCredentials)
    );

    let users = net.sample_users(Some("guaranty-trust-bank"), 5);
    assert_eq!(users.len(), 5);
    for (c, s) in &users {
        assert!(s.accounts.iter().any(|a| a.bank == "guaranty-trust-bank"));
        assert!(login(&c.username, &c.password, "guaranty-trust-bank").is_ok());
    }
    assert_eq!(
        net.sample_users(None, 3)
            .iter()
            .map(|(_, s)| s.index)
            .collect::<Vec<_>>(),
        [0, 1, 2]
    );
    assert!(net.sample_users(Some("nope"), 3).is_empty());
}

#[test]
fn registry_fault_triggers() {
    let net = network();
    assert_eq!(
        now(net.lookup_bvn("22000000408")),
        Err(SourceError::Timeout)
    );
    assert_eq!(
        now(net.lookup_bvn("22000000503")),
        Err(SourceError::BankUnavailable)
    );
    assert_eq!(
        now(net.lookup_bvn("22000000001")),
        Err(SourceError::NotFound)
    );
    let gtb = |serial: &str| okra_core::nuban::make_nuban("058", serial).unwrap();
    assert_eq!(
        now(net.resolve_nuban("guaranty-trust-bank", &gtb("000000408"))),
        Err(SourceError::Timeout)
    );
    assert_eq!(
        now(net.resolve_nuban("guaranty-trust-bank", &gtb("000000503"))),
        Err(SourceError::BankUnavailable)
    );
    assert_eq!(
        now(net.resolve_nuban("guaranty-trust-bank", &gtb("000000422"))),
        Err(SourceError::InvalidIdentity)
    );
    assert_eq!(
        now(net.resolve_nuban("guaranty-trust-bank", &gtb("000000404"))),
        Err(SourceError::NotFound)
    );
    assert_eq!(
        now(net.name_enquiry("guaranty-trust-bank", &gtb("000000422")))
            .unwrap()
            .bvn,
        None
    );
    assert_eq!(
        now(net.resolve_nuban("guaranty-trust-bank", "0123456789")),
        Err(SourceError::NotFound)
    );
    assert_eq!(
        now(net.balance("guaranty-trust-bank", &gtb("000000408"))),
        Err(SourceError::Timeout)
    );
    let watch_listed = (0..3000)
        .filter_map(|i| net.person(i))
        .find(|p| p.watch_listed())
        .unwrap();
    let bvn = watch_listed.bvn.unwrap();
    assert!(bvn.ends_with("00"));
    assert!(now(net.lookup_bvn(&bvn)).unwrap().watch_listed);
}

#[test]
#[ignore = "benchmark: prints people per second"]
fn generation_speed() {
    let net = Network::default();
    let start = std::time::Instant::now();
    let n = 200_000;
    let accounts: usize = (0..n)
        .map(|i| net.person(i * 37).unwrap().accounts.len())
        .sum();
    let secs = start.elapsed().as_secs_f64();
    println!(
        "{n} people ({accounts} accounts) in {secs:.2}s: {:.0} people/s",
        n as f64 / secs
    );
}
