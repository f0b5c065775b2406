//! Access paths: reverse lookups, bank and registry views, balances, logins, fault triggers.

use okra_core::banks;
use okra_core::source::{BankSource, Credentials, IdentityRegistry, SourceError};

use super::{network, now};
use crate::{Date, Network};

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
                otp: None,
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

/// Identifiers from clients are arbitrary UTF-8: non-ASCII and short values are "not found" on
/// every bank and registry path, never a panic (issue 7: `"00000012é"` sliced inside the `é`).
#[test]
fn malformed_identifiers_are_not_found_on_every_path() {
    let net = network();
    let gtb = "guaranty-trust-bank";
    for bad in [
        "00000012é",
        "000000éé",
        "0000004٠",
        "",
        "0",
        "000000408",
        "é",
        "00000040811",
    ] {
        assert_eq!(
            now(net.resolve_nuban(gtb, bad)),
            Err(SourceError::NotFound),
            "{bad:?}"
        );
        assert!(now(net.name_enquiry(gtb, bad)).is_err(), "{bad:?}");
        assert!(now(net.balance(gtb, bad)).is_err(), "{bad:?}");
        assert!(now(net.balance(gtb, &format!("{gtb}:{bad}"))).is_err());
        assert!(net.account_by_nuban(gtb, bad).is_none());
        assert!(net.account_by_nuban("opay", bad).is_none());
    }
    for bad in ["22000000é", "2200000040é", "", "22", "é"] {
        assert!(now(net.lookup_bvn(bad)).is_err(), "{bad:?}");
        assert!(net.person_by_bvn(bad).is_none());
    }
    for bad in ["0803123456é", "080312345é", "0803é", ""] {
        assert!(net.person_by_phone(bad).is_none(), "{bad:?}");
    }
    assert!(net.photo_svg("12345678901é").is_none());
}
