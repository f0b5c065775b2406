//! Custom people through the views: reverse lookups, `_for` twins, logins, generated specs.

use okra_core::banks::BANKS;
use okra_core::source::{BankSource, Credentials, SourceError};

use super::custom::spec;
use super::{network, now};
use crate::{Lookup, Network, PersonSpec, Volume};

#[test]
fn reverse_lookups_name_custom_people_and_views_answer_for_them() {
    let net = network();
    for n in 0..300u64 {
        let s = PersonSpec {
            name: Some(format!("Custom Person{n}")),
            accounts: Some(1 + (n % 5) as u8),
            company: Some(n.is_multiple_of(7)),
            identity: Some(1 + (n % 100) as u8),
            ..spec()
        };
        let index = Network::custom_index(n * 33_331).unwrap();
        let p = net.person_with(index, &s).unwrap();
        for phone in &p.phones {
            assert_eq!(net.custom_index_of(Lookup::Phone(phone)), Some(index));
            assert_eq!(net.person_by_phone(phone).unwrap().index, index);
        }
        match &p.bvn {
            Some(bvn) => {
                assert_eq!(net.custom_index_of(Lookup::Bvn(bvn)), Some(index));
                assert_eq!(net.person_by_bvn(bvn).unwrap().index, index);
                assert_eq!(net.identity_by_bvn_for(&p, bvn).unwrap(), p.identity());
            }
            None => assert_eq!(
                net.identity_by_bvn_for(&p, &net.ids.bvn(index)),
                Err(SourceError::NotFound)
            ),
        }
        if let Some(token) = &p.photo_token {
            assert_eq!(
                net.custom_index_of(Lookup::Photo(&format!("{token}.svg"))),
                Some(index)
            );
            assert!(net.photo_svg_for(&p).unwrap().contains(">CP</text>"));
        }
        for a in &p.accounts {
            for number in [a.number.clone(), a.account_ref()] {
                assert_eq!(
                    net.custom_index_of(Lookup::Account {
                        bank: a.bank.slug,
                        number: &number
                    }),
                    Some(index)
                );
            }
            let id = net.identity_by_nuban_for(&p, a.bank.id, &a.number).unwrap();
            assert_eq!(id.fullname, p.holder_name());
            let enquiry = net.name_enquiry_for(&p, a.bank.slug, &a.number).unwrap();
            assert_eq!(
                (enquiry.name, enquiry.bvn),
                (p.account_name(), p.bvn.clone())
            );
            let session = net.login_as(&p, a.bank.slug).unwrap();
            assert_eq!(net.custom_index_of(Lookup::Session(&session)), Some(index));
            let listed = net.session_accounts_for(&p, &session).unwrap();
            assert!(listed.iter().any(|l| l.account_ref == a.account_ref()));
            assert!(net
                .balance_for(&p, a.bank.id, &a.account_ref(), net.as_of())
                .is_ok());
        }
        // Another person's views refuse this one's account.
        let other = net.person(n).unwrap();
        let a = &p.accounts[0];
        assert_eq!(
            net.name_enquiry_for(&other, a.bank.id, &a.number),
            Err(SourceError::NotFound)
        );
    }
    // Generated people, faults and nonsense name no custom index.
    let g = net.person(5).unwrap();
    assert_eq!(
        net.custom_index_of(Lookup::Bvn(g.bvn.as_deref().unwrap_or("22123"))),
        None
    );
    assert_eq!(net.custom_index_of(Lookup::Phone(&g.phones[0])), None);
    let a = &g.accounts[0];
    assert_eq!(
        net.custom_index_of(Lookup::Account {
            bank: a.bank.id,
            number: &a.number
        }),
        None
    );
    assert_eq!(net.custom_index_of(Lookup::Bvn("22000000408")), None);
    assert_eq!(
        net.custom_index_of(Lookup::Account {
            bank: "nope",
            number: &a.number
        }),
        None
    );
}

#[test]
fn custom_people_cannot_log_in_by_the_rule() {
    let net = network();
    let index = Network::custom_index(12).unwrap();
    let p = net.person(index).unwrap();
    assert_eq!(net.credentials(index), None);
    let username = Network::username(&p);
    let creds = Credentials {
        password: Network::password_for(&username),
        username,
        otp: None,
    };
    let bank = p.accounts[0].bank.slug;
    assert_eq!(
        now(net.authenticate(bank, &creds)),
        Err(SourceError::InvalidCredentials)
    );
    // The server checks their credentials itself, then opens the session.
    let session = net.login_as(&p, bank).unwrap();
    assert_eq!(net.session_index(&session), Ok(index));
    let elsewhere = BANKS
        .iter()
        .find(|b| !p.accounts.iter().any(|a| a.bank.id == b.id))
        .unwrap();
    assert_eq!(
        net.login_as(&p, elsewhere.slug),
        Err(SourceError::InvalidCredentials)
    );
}

#[test]
fn specs_are_deterministic_validated_and_serialised() {
    let net = network();
    let a = net.generate_specs(42, 10);
    assert_eq!(a, network().generate_specs(42, 10));
    assert_eq!(a[..4], net.generate_specs(42, 4)[..]);
    assert_ne!(a, net.generate_specs(43, 10));
    for (n, (s, c)) in a.iter().enumerate() {
        assert_eq!(s.validate(), Ok(()));
        assert!(
            crate::faults::fault_for_username(&c.username).is_none(),
            "{}",
            c.username
        );
        assert_eq!(c.username.split('.').count(), 2);
        let index = Network::custom_index(n as u64).unwrap();
        assert_eq!(net.person_with(index, s), net.person_with(index, s));
        assert_eq!(
            net.person_with(index, s).unwrap().holder_name(),
            *s.name.as_ref().unwrap()
        );
    }

    let bad = |s: PersonSpec| s.validate().unwrap_err();
    assert_eq!(
        bad(PersonSpec {
            accounts: Some(6),
            ..spec()
        }),
        "`noOfAccount` must be between 1 and 5"
    );
    assert_eq!(
        bad(PersonSpec {
            accounts: Some(0),
            ..spec()
        }),
        "`noOfAccount` must be between 1 and 5"
    );
    assert_eq!(
        bad(PersonSpec {
            identity: Some(0),
            ..spec()
        }),
        "`identity` must be between 1 and 100"
    );
    assert_eq!(
        bad(PersonSpec {
            identity: Some(101),
            ..spec()
        }),
        "`identity` must be between 1 and 100"
    );
    assert_eq!(
        bad(PersonSpec {
            internet_speed: Some(5),
            ..spec()
        }),
        "`internetSpeed` must be between 2 and 4"
    );
    assert_eq!(
        bad(PersonSpec {
            bank: Some("bank-of-nowhere".into()),
            ..spec()
        }),
        "Could not match bank identifier bank-of-nowhere with a valid bank"
    );
    assert_eq!(
        bad(PersonSpec {
            name: Some(" ".into()),
            ..spec()
        }),
        "`name` is not allowed to be empty"
    );
    assert_eq!("HIGH".parse::<Volume>(), Ok(Volume::High));
    assert_eq!(
        "huge".parse::<Volume>().unwrap_err(),
        "`volume` must be one of low, medium, high"
    );
    assert_eq!(PersonSpec::parse_type("corp"), Ok(true));
    assert_eq!(
        PersonSpec::parse_type("x").unwrap_err(),
        "`type` must be one of ind, corp"
    );
    assert_eq!(
        PersonSpec {
            bank: Some("gtb".into()),
            ..spec()
        }
        .validate()
        .is_ok(),
        okra_core::banks::find("gtb").is_some()
    );

    let json = serde_json::to_string(&a[0].0).unwrap();
    assert!(
        json.contains("\"internet_speed\"") && json.contains("\"volume\""),
        "{json}"
    );
    assert_eq!(serde_json::from_str::<PersonSpec>(&json).unwrap(), a[0].0);
    assert_eq!(serde_json::from_str::<PersonSpec>("{}").unwrap(), spec());
    let s: PersonSpec = serde_json::from_str(r#"{"volume":"low","accounts":2}"#).unwrap();
    assert_eq!((s.volume, s.accounts), (Volume::Low, Some(2)));
}
