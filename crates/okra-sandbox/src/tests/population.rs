//! The population: determinism, account numbers, coherent identities, speed.

use okra_core::banks::{self, AccountNumbering};

use super::network;
use crate::{geo, names, Date, Network};

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
