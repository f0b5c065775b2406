//! `okra-server sandbox load`: people of the simulated network linked in bulk are read back by the
//! normal repositories and the API, balances carry their history, and re-running is harmless.

use std::path::Path;
use std::process::Stdio;

use okra_core::Environment;
use okra_sandbox::{Network, Person};
use okra_server::services::sandbox_load::{self, LoadOptions};
use okra_store::{accounts, customers, identities, records};
use sqlx::Row;

use crate::backend_tests;
use crate::common::{drop_database, fresh_database, Backend, TestServer};

const PEOPLE: u64 = 200;

fn options(start: u64, people: u64) -> LoadOptions {
    LoadOptions {
        owner: "default".into(),
        people,
        start,
        env: Environment::Sandbox,
        // Not a divisor of PEOPLE: several full batches and a short tail.
        batch: 64,
    }
}

/// Rows per table for the tenant: customers, records, identities, accounts, balances.
async fn counts(s: &TestServer) -> [i64; 5] {
    let mut out = [0; 5];
    let tables = ["customers", "records", "identities", "accounts", "balances"];
    for (n, table) in out.iter_mut().zip(tables) {
        *n = sqlx::query_scalar(&format!(
            "SELECT COUNT(*) FROM {table} WHERE owner_id = $1 AND env = $2"
        ))
        .bind(&s.creds.owner_id)
        .bind("sandbox")
        .fetch_one(s.db.pool())
        .await
        .unwrap();
    }
    out
}

/// Expected counts for people `range`: one record and identity per bank, one balance per account.
fn expected(network: &Network, range: std::ops::Range<u64>) -> [i64; 5] {
    let mut out = [0i64; 5];
    for i in range {
        let p = network.person(i).unwrap();
        let mut banks: Vec<&str> = p.accounts.iter().map(|a| a.bank.id).collect();
        banks.sort_unstable();
        banks.dedup();
        let n = p.accounts.len() as i64;
        out[0] += 1;
        out[1] += banks.len() as i64;
        out[2] += banks.len() as i64;
        out[3] += n;
        out[4] += n;
    }
    out
}

async fn load_links_people_readable_by_repositories_and_api(b: Backend) {
    let s = TestServer::start(b.clone()).await;
    let keyring = s.state().keyring();
    let tenant = s.tenant(Environment::Sandbox);
    sandbox_load::run(&s.db, &keyring, &s.config, options(0, PEOPLE))
        .await
        .unwrap();
    let network = Network::new(s.config.sandbox_seed, s.config.sandbox_population);
    assert_eq!(counts(&s).await, expected(&network, 0..PEOPLE));
    if matches!(b, Backend::Sqlite) {
        // The SQLite loader does not check foreign keys as it writes (PostgreSQL's COPY checks the ones it keeps):
        // every loaded row's parents must exist.
        let orphans = sqlx::query("PRAGMA foreign_key_check")
            .fetch_all(s.db.pool())
            .await
            .unwrap();
        assert!(
            orphans.is_empty(),
            "{} rows without their parent",
            orphans.len()
        );
    }

    // A person with a BVN and two banks, looked up by what the network says about them.
    let person: Person = (0..PEOPLE)
        .map(|i| network.person(i).unwrap())
        .find(|p| {
            p.bvn.is_some()
                && p.accounts
                    .iter()
                    .any(|a| a.bank.id != p.accounts[0].bank.id)
        })
        .unwrap();
    let bvn = person.bvn.clone().unwrap();
    let customer = customers::find_by_bvn(&s.db, &keyring, &tenant, &bvn)
        .await
        .unwrap()
        .expect("customer by BVN");
    assert_eq!(customer.name, person.holder_name());
    assert_eq!(customer.bvn.as_deref(), Some(bvn.as_str()));
    assert_eq!(customer.pii.phones, person.phones);
    assert_eq!(customer.pii.nin, person.nin);
    for a in &person.accounts {
        let account = accounts::find_by_nuban(&s.db, &keyring, &tenant, a.bank.id, &a.number)
            .await
            .unwrap()
            .expect("account by NUBAN");
        assert_eq!(account.customer_id, customer.id);
        assert_eq!(account.nuban, a.number);
        assert_eq!(account.currency, a.currency);
        assert!(account.connected);
        let record = records::get(&s.db, &tenant, &account.record_id)
            .await
            .unwrap()
            .expect("the account's record");
        assert_eq!(record.bank_id, a.bank.id);
        assert_eq!(record.products, ["auth", "identity", "balance", "accounts"]);
        assert!(record.completed && !record.running);
    }
    let identity = identities::find_by_bvn(&s.db, &keyring, &tenant, &bvn)
        .await
        .unwrap()
        .expect("identity by BVN");
    assert_eq!(identity.identity.customer_id, customer.id);
    assert_eq!(
        identity.identity.profile.firstname.as_deref(),
        Some(person.firstname.as_str())
    );
    assert_eq!(
        identity.identity.profile.pii.dob,
        Some(person.dob.to_string())
    );
    assert_eq!(identity.identity.profile.pii.addresses, person.addresses);
    // One score: what the network says of its own person.
    let score = identity.identity.profile.score.unwrap();
    assert_eq!(
        score,
        i64::from(okra_sandbox::identity_score(&person.identity())),
        "score {score}"
    );

    let v = s.sandbox_customers_page().await;
    assert_eq!(v["data"]["pagination"]["totalDocs"], PEOPLE, "{v}");

    // Every balance: 30 consecutive days of history, available never above ledger, the last day
    // the balance itself; read back through the store and rendered in Okra's `periodic` shape.
    let rows = sqlx::query("SELECT id FROM balances WHERE owner_id = $1 AND env = $2")
        .bind(&s.creds.owner_id)
        .bind("sandbox")
        .fetch_all(s.db.pool())
        .await
        .unwrap();
    assert!(!rows.is_empty());
    let tenant = okra_store::Tenant {
        owner_id: s.creds.owner_id.clone(),
        env: Environment::Sandbox,
    };
    for row in &rows {
        let id: String = row.get(0);
        let balance = okra_store::balances::get(&s.db, &tenant, &id)
            .await
            .unwrap()
            .unwrap();
        let (available, ledger) = (
            balance.available_minor.unwrap(),
            balance.ledger_minor.unwrap(),
        );
        assert!(0 <= available && available <= ledger);
        assert_eq!(balance.history.len(), 30);
        let days: Vec<okra_sandbox::Date> = (balance.history.iter())
            .map(|d| okra_sandbox::Date::parse(&d.date).unwrap())
            .collect();
        assert!(
            days.windows(2).all(|w| w[1].days() == w[0].days() + 1),
            "{days:?}"
        );
        let periodic = balance.periodic().unwrap();
        assert_eq!(
            periodic,
            balance.periodic().unwrap(),
            "the same ids on every read"
        );
        let avail = periodic["available_balance"].as_array().unwrap();
        let led = periodic["ledger_balance"].as_array().unwrap();
        assert_eq!((avail.len(), led.len()), (30, 30));
        let ids: std::collections::HashSet<&str> = avail
            .iter()
            .chain(led)
            .map(|e| e["_id"].as_str().unwrap())
            .collect();
        assert_eq!(ids.len(), 60);
        for (a, l) in avail.iter().zip(led) {
            assert_eq!(a["date"], l["date"]);
            assert!(okra_core::ObjectId::is_valid(a["_id"].as_str().unwrap()));
            assert!(a["amount"].as_f64().unwrap() <= l["amount"].as_f64().unwrap());
        }
        let last = avail.last().unwrap()["amount"].as_f64().unwrap();
        assert_eq!((last * 100.0).round() as i64, available);
    }

    // Connections are spread over the past 90 days, in person order.
    let (min, max): (i64, i64) = sqlx::query_as(
        "SELECT MIN(created_at), MAX(created_at) FROM customers WHERE owner_id = $1 AND env = $2",
    )
    .bind(&s.creds.owner_id)
    .bind("sandbox")
    .fetch_one(s.db.pool())
    .await
    .unwrap();
    let now = okra_core::time::now_ms();
    assert!(min >= now - 91 * 86_400_000 && max <= now && max - min > 60 * 86_400_000);
    s.stop().await;
}

async fn load_is_idempotent_and_skips_people_already_linked(b: Backend) {
    let s = TestServer::start(b).await;
    let keyring = s.state().keyring();
    let network = Network::new(s.config.sandbox_seed, s.config.sandbox_population);
    let first = sandbox_load::load(&s.db, &keyring, &s.config, &options(0, 100))
        .await
        .unwrap();
    assert_eq!((first.linked, first.skipped), (100, 0));
    let before = counts(&s).await;
    let again = sandbox_load::load(&s.db, &keyring, &s.config, &options(0, 100))
        .await
        .unwrap();
    assert_eq!((again.linked, again.skipped, again.rows), (0, 100, 0));
    assert_eq!(counts(&s).await, before);

    // An overlapping range links only the new people.
    let overlap = sandbox_load::load(&s.db, &keyring, &s.config, &options(50, 100))
        .await
        .unwrap();
    assert_eq!((overlap.linked, overlap.skipped), (50, 50));
    assert_eq!(counts(&s).await, expected(&network, 0..150));

    let mut missing = options(0, 1);
    missing.owner = "nobody".into();
    let err = sandbox_load::run(&s.db, &keyring, &s.config, missing)
        .await
        .unwrap_err();
    assert!(err.to_string().contains("no owner named `nobody`"), "{err}");
    let too_far = options(s.config.sandbox_population - 1, 2);
    assert!(sandbox_load::run(&s.db, &keyring, &s.config, too_far)
        .await
        .is_err());
    s.stop().await;
}

async fn bin(dir: &Path, url: &Option<String>, args: &[&str]) -> (bool, String, String) {
    let mut c = tokio::process::Command::new(env!("CARGO_BIN_EXE_okra-server"));
    c.arg("--data-dir")
        .arg(dir)
        .env_remove("OKRA_DATABASE_URL")
        .env("OKRA_LOG_LEVEL", "warn")
        .stdin(Stdio::null());
    if let Some(url) = url {
        c.arg("--database-url").arg(url);
    }
    let out = c.args(args).output().await.unwrap();
    (
        out.status.success(),
        String::from_utf8(out.stdout).unwrap(),
        String::from_utf8(out.stderr).unwrap(),
    )
}

/// `(linked, already present, rows)` from the summary line.
fn summary(stdout: &str) -> (u64, u64, u64) {
    let line = stdout
        .lines()
        .find(|l| l.starts_with("sandbox load: "))
        .unwrap_or_else(|| panic!("no summary line in {stdout:?}"));
    let words: Vec<&str> = line.split_whitespace().collect();
    let num = |i: usize| words[i].parse::<u64>().unwrap();
    assert!(line.ends_with(" rows/s)"), "{line}");
    (num(2), num(5), num(8))
}

async fn the_binary_loads_and_prints_a_summary(b: Backend) {
    let dir = tempfile::tempdir().unwrap();
    let url = fresh_database(&b).await;
    let (ok, _, err) = bin(dir.path(), &url, &["owners", "create", "demo"]).await;
    assert!(ok, "{err}");
    let args = ["sandbox", "load", "--owner", "demo", "--people", "50"];
    let (ok, out, err) = bin(dir.path(), &url, &args).await;
    assert!(ok, "{err}");
    let (linked, present, rows) = summary(&out);
    assert_eq!((linked, present), (50, 0));
    assert!(rows >= 50 * 5, "{out}");
    let (ok, out, err) = bin(dir.path(), &url, &args).await;
    assert!(ok, "{err}");
    assert_eq!(summary(&out), (0, 50, 0));
    let (ok, _, err) = bin(
        dir.path(),
        &url,
        &["sandbox", "load", "--owner", "ghost", "--people", "1"],
    )
    .await;
    assert!(!ok && err.contains("no owner named `ghost`"), "{err}");
    if let Some(url) = &url {
        drop_database(&b, url).await;
    }
}

backend_tests!(
    load_links_people_readable_by_repositories_and_api,
    load_is_idempotent_and_skips_people_already_linked,
    the_binary_loads_and_prints_a_summary,
);
