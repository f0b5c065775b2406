//! Custom people: the reserved range, each spec field, reverse lookups, the `_for` views.

use okra_core::banks::{AccountNumbering, BANKS};

use super::network;
use crate::ids::MAX_POPULATION;
use crate::{identity_score, Network, Person, PersonSpec, Volume, CUSTOM_BASE, CUSTOM_CAPACITY};

pub(super) fn custom(net: &Network, n: u64, spec: &PersonSpec) -> Person {
    net.person_with(Network::custom_index(n).unwrap(), spec)
        .unwrap()
}

pub(super) fn spec() -> PersonSpec {
    PersonSpec::default()
}

#[test]
fn the_custom_range_is_disjoint_from_every_population() {
    assert_eq!(CUSTOM_BASE + CUSTOM_CAPACITY, MAX_POPULATION);
    for population in [
        1,
        1000,
        10_000_000,
        CUSTOM_BASE - 1,
        CUSTOM_BASE,
        MAX_POPULATION,
        u64::MAX,
    ] {
        let net = Network::new(1, population);
        assert!(net.population() <= CUSTOM_BASE, "{population}");
        let last = net.person(net.population() - 1).unwrap();
        assert_eq!(Network::custom_slot(last.index), None);
        assert_eq!(net.person_with(last.index, &spec()), None);
    }
    assert_eq!(Network::custom_index(0), Some(CUSTOM_BASE));
    assert_eq!(
        Network::custom_index(CUSTOM_CAPACITY - 1),
        Some(MAX_POPULATION - 1)
    );
    assert_eq!(Network::custom_index(CUSTOM_CAPACITY), None);
    for n in [0, 1, 77, CUSTOM_CAPACITY - 1] {
        assert_eq!(
            Network::custom_slot(Network::custom_index(n).unwrap()),
            Some(n)
        );
    }
    assert_eq!(Network::custom_slot(MAX_POPULATION), None);
    // Custom people exist whatever the population size, and are the same in every size.
    let (small, large) = (Network::new(5, 10), Network::new(5, 50_000_000));
    assert_eq!(custom(&small, 9, &spec()), custom(&large, 9, &spec()));
    assert_eq!(
        small.person(CUSTOM_BASE + 9),
        Some(custom(&small, 9, &spec()))
    );
    assert_eq!(small.person(CUSTOM_BASE - 1), None);
}

#[test]
fn names_companies_and_gender() {
    let net = network();
    let named = |n, name: &str| {
        let s = PersonSpec {
            name: Some(name.into()),
            ..spec()
        };
        custom(&net, n, &s)
    };
    let p = named(1, "  Chiamaka   Ngozi Eze ");
    assert_eq!(
        (p.firstname.as_str(), p.lastname.as_str()),
        ("Chiamaka", "Eze")
    );
    assert_eq!(p.middlename.as_deref(), Some("Ngozi"));
    assert_eq!(p.holder_name(), "Chiamaka Ngozi Eze");
    assert!(p.female);
    assert!(
        p.emails.iter().all(|e| e.starts_with("chiamaka.eze")),
        "{:?}",
        p.emails
    );
    assert!(!named(2, "Emeka Obi").female);
    let p = named(3, "Tobi Ade Bola Kunle");
    assert_eq!(p.middlename.as_deref(), Some("Ade Bola"));
    let generated = custom(&net, 4, &spec());
    let p = named(4, "Zed");
    assert_eq!(
        (p.firstname.as_str(), p.lastname.as_str()),
        ("Zed", generated.lastname.as_str())
    );

    let corp = PersonSpec {
        name: Some("Acme Foods Ltd".into()),
        company: Some(true),
        ..spec()
    };
    for n in 0..50 {
        let p = custom(&net, n, &corp);
        assert_eq!(p.holder_name(), "Acme Foods Ltd");
        assert_eq!(p.account_name(), "ACME FOODS LTD");
        let id = p.identity();
        assert!(id.is_company && id.bvn.is_none() && id.rc_number.is_some());
        assert!(p.photo_token.is_none());
        // Individuals always carry a BVN and a photo, even where the generator drew a company.
        let ind = custom(&net, n, &spec());
        assert!(ind.company.is_none() && ind.bvn.is_some() && ind.photo_token.is_some());
        assert!(ind.enrollment.is_some());
    }
}

#[test]
fn account_count_and_first_bank() {
    let net = network();
    for (b, bank) in BANKS.iter().enumerate() {
        for count in 1..=5u8 {
            let n = b as u64 * 10 + u64::from(count);
            let s = PersonSpec {
                bank: Some(
                    if n.is_multiple_of(2) {
                        bank.slug
                    } else {
                        bank.id
                    }
                    .to_string(),
                ),
                accounts: Some(count),
                company: Some(n.is_multiple_of(3)),
                ..spec()
            };
            let p = custom(&net, n, &s);
            assert_eq!(p.accounts.len(), usize::from(count), "{}", bank.slug);
            assert_eq!(p.accounts[0].bank.id, bank.id);
            assert_eq!(p.accounts[0].currency, "NGN");
            for (slot, a) in p.accounts.iter().enumerate() {
                assert_eq!(a.slot, slot as u64);
                assert!(a.bank.accepts_account_number(&a.number), "{}", a.number);
                match a.bank.numbering {
                    AccountNumbering::Nuban => {
                        assert!(okra_core::nuban::is_valid_nuban(a.bank.cbn_code, &a.number))
                    }
                    AccountNumbering::Phone => assert_eq!(format!("0{}", a.number), p.phones[0]),
                    AccountNumbering::Unchecked => assert_eq!(a.number.len(), 10),
                }
            }
        }
    }
    // Without `accounts`, 1 to 5 are drawn.
    let counts: Vec<usize> = (0..200)
        .map(|n| custom(&net, n, &spec()).accounts.len())
        .collect();
    assert!(counts.iter().all(|c| (1..=5).contains(c)));
    assert!(counts.contains(&1) && counts.contains(&3));
}

#[test]
fn identity_completeness_matches_the_request() {
    let net = network();
    for target in [1u8, 10, 25, 33, 50, 67, 75, 90, 100] {
        for n in 0..60u64 {
            let s = PersonSpec {
                identity: Some(target),
                company: Some(n.is_multiple_of(5)),
                ..spec()
            };
            let p = custom(&net, n, &s);
            assert_eq!(p.identity_completeness, Some(target));
            let score = identity_score(&p.identity());
            assert!(
                score.abs_diff(target) <= 15,
                "target {target} score {score} n {n}"
            );
            if target == 100 && !n.is_multiple_of(5) {
                let id = p.identity();
                assert!(id.nin.is_some() && id.photo.is_some() && id.enrollment_branch.is_some());
                assert!(!id.aliases.is_empty() && !id.next_of_kins.is_empty());
            }
        }
    }
    // Generated people keep their profile (and score somewhere in between).
    let score = identity_score(&net.person(0).unwrap().identity());
    assert!((20..=100).contains(&score));
}

/// Mean current ledger balance in naira of the NGN accounts of 150 custom people.
fn mean_naira(net: &Network, volume: Volume) -> i64 {
    let (mut sum, mut count) = (0i64, 0i64);
    for n in 0..150 {
        let p = custom(net, n, &PersonSpec { volume, ..spec() });
        assert_eq!(p.volume, Some(volume));
        for a in p.accounts.iter().filter(|a| a.currency == "NGN") {
            let b = net
                .balance_for(&p, a.bank.id, &a.account_ref(), net.as_of())
                .unwrap();
            assert!(b
                .history
                .iter()
                .all(|d| 0 <= d.available_minor && d.available_minor <= d.ledger_minor));
            sum += b.ledger_minor.unwrap() / 100;
            count += 1;
        }
    }
    sum / count
}

#[test]
fn volume_orders_balances() {
    let net = network();
    let (low, medium, high) = (
        mean_naira(&net, Volume::Low),
        mean_naira(&net, Volume::Medium),
        mean_naira(&net, Volume::High),
    );
    assert!((10_000..100_000).contains(&low), "low {low}");
    assert!((100_000..1_000_000).contains(&medium), "medium {medium}");
    assert!((10_000_000..100_000_000).contains(&high), "high {high}");
    // Only the money changes with the volume.
    let (a, b) = (
        custom(
            &net,
            7,
            &PersonSpec {
                volume: Volume::Low,
                ..spec()
            },
        ),
        custom(
            &net,
            7,
            &PersonSpec {
                volume: Volume::High,
                ..spec()
            },
        ),
    );
    assert_eq!((&a.accounts, a.identity()), (&b.accounts, b.identity()));
}

#[test]
fn internet_speed_gives_a_delay_hint() {
    let net = network();
    let delay = |speed| {
        let p = custom(
            &net,
            3,
            &PersonSpec {
                internet_speed: speed,
                ..spec()
            },
        );
        Network::delay_for(&p).map(|d| d.as_millis())
    };
    assert_eq!(delay(None), None);
    assert_eq!(delay(Some(4)), None);
    assert_eq!(delay(Some(3)), Some(1500));
    assert_eq!(delay(Some(2)), Some(4000));
    assert_eq!(Network::delay_for(&net.person(3).unwrap()), None);
}
