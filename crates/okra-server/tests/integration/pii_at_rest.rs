//! Issue 3 "done when": personal data written through the store is not in the SQLite files nor in a
//! `pg_dump`, while lookups by BVN and by (bank, NUBAN) still find it.

use okra_core::Environment;
use okra_store::accounts::NewAccount;
use okra_store::customers::{CustomerPii, NewCustomer};
use okra_store::identities::{IdentityPii, IdentityProfile, Photo};
use okra_store::records::NewRecord;

use crate::backend_tests;
use crate::common::{Backend, TestServer};

/// Values that must never appear in plaintext at rest.
pub struct Person {
    pub bvn: &'static str,
    pub nin: &'static str,
    pub phone: &'static str,
    pub email: &'static str,
    pub dob: &'static str,
    pub address: &'static str,
    pub maiden: &'static str,
    pub photo: &'static str,
    pub nuban: String,
    pub password: &'static str,
}

pub fn people() -> Vec<Person> {
    vec![
        Person {
            bvn: "22298765431",
            nin: "71234509876",
            phone: "08034567812",
            email: "adaeze.okonkwo@example.ng",
            dob: "1988-02-29",
            address: "14 Awolowo Road, Ikoyi",
            maiden: "Nwachukwu",
            photo: "https://photos.example/ada-okonkwo.png",
            nuban: okra_core::nuban::make_nuban("058", "123498765").unwrap(),
            password: "Sup3r-S3cret-Pa55",
        },
        Person {
            bvn: "22211122233",
            nin: "55566677788",
            phone: "07061239876",
            email: "musa.bello@example.ng",
            dob: "1975-11-03",
            address: "3 Ahmadu Bello Way, Kaduna",
            maiden: "Abubakar",
            photo: "https://photos.example/musa-bello.png",
            nuban: okra_core::nuban::make_nuban("057", "987612345").unwrap(),
            password: "an0ther-pa55word",
        },
    ]
}

const GTB: &str = "5d6fe57a4099cc4b210bbeb3";
const ZENITH: &str = "5d6fe57a4099cc4b210bbec2";

/// Writes the people as customers with a record, an account and an identity each.
pub async fn write_people(s: &TestServer) -> Vec<String> {
    let tenant = s.tenant(Environment::Sandbox);
    let keyring = &s.state().keyring();
    let mut customer_ids = Vec::new();
    for (p, bank) in people().iter().zip([GTB, ZENITH]) {
        let mut tx = s.db.begin().await.unwrap();
        let customer = NewCustomer {
            name: "Test Person".into(),
            bvn: Some(p.bvn.into()),
            pii: CustomerPii {
                nin: Some(p.nin.into()),
                phones: vec![p.phone.into()],
                emails: vec![p.email.into()],
            },
            sandbox: Some(okra_store::customers::SandboxLogin {
                bank: bank.into(),
                username: format!("tester-{}", p.bvn),
                password: p.password.into(),
                spec: None,
            }),
            sandbox_person: None,
            created_at: None,
        };
        let customer_id = okra_store::customers::insert(tx.conn(), keyring, &tenant, &customer)
            .await
            .unwrap();
        let record_id = okra_store::records::insert(
            tx.conn(),
            &tenant,
            &NewRecord {
                customer_id: customer_id.clone(),
                bank_id: bank.into(),
                products: vec!["identity".into()],
                ..NewRecord::default()
            },
        )
        .await
        .unwrap();
        okra_store::accounts::insert(
            tx.conn(),
            keyring,
            &tenant,
            &NewAccount {
                customer_id: customer_id.clone(),
                bank_id: bank.into(),
                record_id: record_id.clone(),
                name: "Test Person".into(),
                nuban: p.nuban.clone(),
                account_type: "savings".into(),
                currency: "NGN".into(),
                connected: true,
                account_ref: None,
                created_at: None,
            },
        )
        .await
        .unwrap();
        let profile = IdentityProfile {
            fullname: Some("Test Person".into()),
            verification_country: "NG".into(),
            pii: IdentityPii {
                bvn: Some(p.bvn.into()),
                nin: Some(p.nin.into()),
                dob: Some(p.dob.into()),
                phones: vec![p.phone.into()],
                emails: vec![p.email.into()],
                addresses: vec![p.address.into()],
                mothers_maiden: Some(p.maiden.into()),
                photo_id: vec![Photo {
                    url: p.photo.into(),
                    image_type: "bvn_photo".into(),
                }],
                ..IdentityPii::default()
            },
            ..IdentityProfile::default()
        };
        okra_store::identities::insert(
            tx.conn(),
            keyring,
            &tenant,
            &customer_id,
            Some(&record_id),
            &profile,
            None,
        )
        .await
        .unwrap();
        tx.commit().await.unwrap();
        customer_ids.push(customer_id);
    }
    customer_ids
}

fn secrets(p: &Person) -> Vec<String> {
    vec![
        p.bvn.into(),
        p.nin.into(),
        p.phone.into(),
        p.phone[1..].into(),
        p.email.into(),
        p.dob.into(),
        p.address.into(),
        p.maiden.into(),
        p.photo.into(),
        p.nuban.clone(),
        p.password.into(),
    ]
}

/// Bytes of everything the database keeps on disk (or its dump).
pub(crate) async fn at_rest(s: &TestServer) -> Vec<u8> {
    match &s.backend {
        Backend::Sqlite => {
            let mut all = Vec::new();
            for name in ["okra.db", "okra.db-wal", "okra.db-shm"] {
                if let Ok(bytes) = std::fs::read(s.config.data_dir.join(name)) {
                    all.extend(bytes);
                }
            }
            all
        }
        Backend::Postgres(_) => {
            let url = s.database_url.as_ref().unwrap();
            let out = std::process::Command::new("pg_dump")
                .arg("--dbname")
                .arg(url)
                .output()
                .expect("pg_dump runs");
            assert!(
                out.status.success(),
                "pg_dump failed: {}",
                String::from_utf8_lossy(&out.stderr)
            );
            out.stdout
        }
    }
}

async fn personal_data_is_encrypted_at_rest(b: Backend) {
    let s = TestServer::start(b).await;
    let ids = write_people(&s).await;
    // And through the sandbox-customer endpoint: the login and the generated person's data.
    let made = s
        .post(
            "/v2/sandbox/customers/create",
            Some(&s.sandbox_key()),
            serde_json::json!([{"name": "Endpoint Person", "username": "endpoint-login-7731", "password": "Endpoint-Pa55-7731", "noOfAccount": 2}]),
        )
        .await;
    assert_eq!(made.status.as_u16(), 200, "{}", made.text);
    let made_id = made.json()["data"][0]["id"].as_str().unwrap().to_string();
    let stored = okra_store::customers::get(
        &s.db,
        &s.state().keyring(),
        &s.tenant(Environment::Sandbox),
        &made_id,
    )
    .await
    .unwrap()
    .unwrap();
    let mut endpoint_secrets = vec![
        "endpoint-login-7731".to_string(),
        "Endpoint-Pa55-7731".to_string(),
    ];
    endpoint_secrets.push(stored.bvn.clone().expect("an individual has a BVN"));
    endpoint_secrets.extend(stored.pii.phones.clone());
    endpoint_secrets.extend(stored.pii.emails.clone());
    endpoint_secrets.extend(stored.pii.nin.clone());
    let bytes = at_rest(&s).await;
    for secret in &endpoint_secrets {
        assert!(
            !bytes.windows(secret.len()).any(|w| w == secret.as_bytes()),
            "{secret} (sandbox customer) is stored in plaintext"
        );
    }
    let found = okra_store::customers::find_by_bvn(
        &s.db,
        &s.state().keyring(),
        &s.tenant(Environment::Sandbox),
        stored.bvn.as_deref().unwrap(),
    )
    .await
    .unwrap()
    .unwrap();
    assert_eq!(found.id, made_id);
    assert!(bytes.len() > 10_000, "read the database");
    assert!(
        bytes
            .windows(b"Test Person".len())
            .any(|w| w == b"Test Person"),
        "the scan can see plaintext"
    );
    for p in people() {
        for secret in secrets(&p) {
            assert!(
                !bytes.windows(secret.len()).any(|w| w == secret.as_bytes()),
                "{secret} is stored in plaintext"
            );
        }
    }
    // Lookups still work through the blind indexes.
    let tenant = s.tenant(Environment::Sandbox);
    let keyring = &s.state().keyring();
    for ((p, bank), id) in people().iter().zip([GTB, ZENITH]).zip(&ids) {
        let c = okra_store::customers::find_by_bvn(&s.db, keyring, &tenant, p.bvn)
            .await
            .unwrap()
            .unwrap();
        assert_eq!(&c.id, id);
        assert_eq!(c.pii.phones, vec![p.phone.to_string()]);
        let i = okra_store::identities::find_by_bvn(&s.db, keyring, &tenant, p.bvn)
            .await
            .unwrap()
            .unwrap();
        assert_eq!(i.identity.profile.pii.dob.as_deref(), Some(p.dob));
        let a = okra_store::accounts::find_by_nuban(&s.db, keyring, &tenant, bank, &p.nuban)
            .await
            .unwrap()
            .unwrap();
        assert_eq!((&a.customer_id, &a.nuban), (id, &p.nuban));
        // The same NUBAN at another bank is another account.
        let other_bank = if bank == GTB { ZENITH } else { GTB };
        assert!(
            okra_store::accounts::find_by_nuban(&s.db, keyring, &tenant, other_bank, &p.nuban)
                .await
                .unwrap()
                .is_none()
        );
        // And the other environment sees nothing.
        let live = s.tenant(Environment::Production);
        assert!(
            okra_store::customers::find_by_bvn(&s.db, keyring, &live, p.bvn)
                .await
                .unwrap()
                .is_none()
        );
    }
    s.stop().await;
}

backend_tests!(personal_data_is_encrypted_at_rest);
