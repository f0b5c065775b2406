//! Issue 9, item 3: `totalDocs` and per-customer and per-day counts come from counters kept in the
//! same transaction as the rows. After random batches through the real insert paths (the API,
//! `sandbox load`, the repositories' inserts), a rolled-back and a failed batch, and concurrent
//! inserters, every counter equals COUNT(*) over the rows, and the API's `totalDocs` with it.
//! Balances are also counted by amount bucket (issue 12, `getByType`): its totals at thresholds
//! around every stored amount equal COUNT(*), also after refreshes move amounts and a refresh is
//! rolled back.

use okra_core::pagination::PageRequest;
use okra_core::Environment;
use okra_server::services::sandbox_load::{self, LoadOptions};
use okra_store::accounts::{self, NewAccount};
use okra_store::balances::{self, AmountKind, BalanceFilter};
use okra_store::counters::{self, ACCOUNTS, BALANCES, CUSTOMERS, IDENTITIES, RECORDS};
use okra_store::crypto::Keyring;
use okra_store::customers::{CustomerRow, NewCustomer};
use okra_store::records::{self, NewRecord};
use okra_store::{multirow, Tenant};
use serde_json::{json, Value};
use sqlx::Row;

use crate::backend_tests;
use crate::common::{Backend, TestServer};

const DAY_MS: i64 = 86_400_000;

/// A small deterministic generator: the same "random" batches on every run and backend.
struct Lcg(u64);

impl Lcg {
    /// A value in `lo..=hi`.
    fn between(&mut self, lo: u64, hi: u64) -> u64 {
        self.0 = self
            .0
            .wrapping_mul(6_364_136_223_846_793_005)
            .wrapping_add(1_442_695_040_888_963_407);
        lo + (self.0 >> 33) % (hi - lo + 1)
    }
}

/// COUNT(*) over the tenant's rows of `table`, optionally for one customer and a created_at range.
async fn count_rows(
    s: &TestServer,
    table: &str,
    customer: Option<&str>,
    range: Option<(i64, i64)>,
) -> u64 {
    let (from, to) = range.unwrap_or((i64::MIN, i64::MAX));
    // Customers have no customer_id column: compare it with itself there.
    let column = if customer.is_some() {
        "customer_id"
    } else {
        "$3"
    };
    let n: i64 = sqlx::query_scalar(&format!(
        "SELECT COUNT(*) FROM {table} WHERE owner_id = $1 AND env = $2 \
         AND {column} = $3 AND created_at >= $4 AND created_at <= $5"
    ))
    .bind(&s.creds.owner_id)
    .bind("sandbox")
    .bind(customer.unwrap_or(""))
    .bind(from)
    .bind(to)
    .fetch_one(s.db.pool())
    .await
    .unwrap();
    n as u64
}

/// A customer of the tenant with a record, and the record's bank.
async fn any_record(s: &TestServer) -> (String, String) {
    let row = sqlx::query("SELECT customer_id, bank_id FROM records WHERE owner_id = $1 LIMIT 1")
        .bind(&s.creds.owner_id)
        .fetch_one(s.db.pool())
        .await
        .unwrap();
    (row.get(0), row.get(1))
}

/// What `customers/list` says the tenant has.
async fn total_docs(s: &TestServer) -> u64 {
    let v: Value = s
        .post(
            "/v2/sandbox/customers/list",
            Some(&s.sandbox_key()),
            json!({"limit": 1}),
        )
        .await
        .json();
    v["data"]["pagination"]["totalDocs"].as_u64().unwrap()
}

/// Every counter of the sandbox tenant against COUNT(*): totals, each customer's accounts and
/// records, and day ranges over the days rows were created on. Returns the customer total.
async fn assert_counters_exact(s: &TestServer, when: &str) -> u64 {
    let tenant = s.tenant(Environment::Sandbox);
    for table in [CUSTOMERS, ACCOUNTS, RECORDS, IDENTITIES, BALANCES] {
        let counted = counters::total(&s.db, &tenant, table).await.unwrap();
        assert_eq!(
            counted,
            count_rows(s, table, None, None).await,
            "{when}: {table}"
        );
    }
    let customers = count_rows(s, CUSTOMERS, None, None).await;
    assert_eq!(total_docs(s).await, customers, "{when}: totalDocs");
    let ids: Vec<String> = sqlx::query("SELECT id FROM customers WHERE owner_id = $1")
        .bind(&s.creds.owner_id)
        .fetch_all(s.db.pool())
        .await
        .unwrap()
        .iter()
        .map(|r| r.get::<String, _>(0))
        .collect();
    for id in &ids {
        for table in [ACCOUNTS, RECORDS, IDENTITIES, BALANCES] {
            let counted = counters::for_customer(&s.db, &tenant, table, id)
                .await
                .unwrap();
            let rows = count_rows(s, table, Some(id), None).await;
            assert_eq!(counted, rows, "{when}: {table} of {id}");
        }
    }
    let today = okra_core::time::now_ms().div_euclid(DAY_MS);
    for (from, to) in [(today - 40, today), (today - 3, today - 1), (today, today)] {
        let date = |day: i64| {
            okra_core::time::parse_date(&okra_core::time::iso_ms(day * DAY_MS)[..10]).unwrap()
        };
        for table in [CUSTOMERS, ACCOUNTS, RECORDS, IDENTITIES, BALANCES] {
            let counted = counters::count_between(&s.db, &tenant, table, date(from), date(to))
                .await
                .unwrap();
            let range = (from * DAY_MS, (to + 1) * DAY_MS - 1);
            let rows = count_rows(s, table, None, Some(range)).await;
            assert_eq!(counted, rows, "{when}: {table} from day {from} to {to}");
        }
    }
    assert_amount_totals_exact(s, when).await;
    customers
}

/// `balance/getByType`'s total (amount-bucket counters and the threshold's own bucket) against
/// COUNT(*), at thresholds on, just above and just below stored amounts, and past both ends.
async fn assert_amount_totals_exact(s: &TestServer, when: &str) {
    let tenant = s.tenant(Environment::Sandbox);
    for (kind, column) in [
        (AmountKind::Available, "available_minor"),
        (AmountKind::Ledger, "ledger_minor"),
    ] {
        let amounts: Vec<i64> = sqlx::query_scalar(&format!(
            "SELECT {column} FROM balances WHERE owner_id = $1 AND env = 'sandbox' \
             AND {column} IS NOT NULL ORDER BY {column}"
        ))
        .bind(&s.creds.owner_id)
        .fetch_all(s.db.pool())
        .await
        .unwrap();
        // The counter rows themselves: each bucket holds the amounts Rust puts in it.
        let mut expected = std::collections::BTreeMap::new();
        for a in &amounts {
            *expected.entry(counters::amount_bucket(*a)).or_insert(0i64) += 1;
        }
        let kind_name = match kind {
            AmountKind::Available => counters::AVAILABLE,
            AmountKind::Ledger => counters::LEDGER,
        };
        let stored: Vec<(i64, i64)> = sqlx::query_as(
            "SELECT bucket, CAST(n AS BIGINT) FROM balance_amount_counts \
             WHERE owner_id = $1 AND env = 'sandbox' AND kind = $2 AND n <> 0 ORDER BY bucket",
        )
        .bind(&s.creds.owner_id)
        .bind(kind_name)
        .fetch_all(s.db.pool())
        .await
        .unwrap();
        assert_eq!(
            stored,
            expected.into_iter().collect::<Vec<_>>(),
            "{when}: {column} buckets"
        );
        let mut thresholds = vec![i64::MIN, i64::MIN / 4, -1, 0, 1, i64::MAX / 4, i64::MAX];
        for a in amounts.iter().step_by((amounts.len() / 12).max(1)) {
            let top = counters::bucket_top(*a);
            thresholds.extend([a.saturating_sub(1), *a, a.saturating_add(1), top]);
            thresholds.push(top.saturating_add(1));
        }
        for v in thresholds {
            let filter = BalanceFilter::AtLeast { kind, minor: v };
            let (_, total) =
                balances::page(&s.db, &tenant, &filter, PageRequest { page: 1, limit: 1 })
                    .await
                    .unwrap();
            let rows = amounts.iter().filter(|a| **a >= v).count() as u64;
            assert_eq!(total, rows, "{when}: {column} >= {v}");
        }
    }
}

/// `n` customers ready to insert, with creation times spread over the last `days` days.
fn customer_rows(keyring: &Keyring, rng: &mut Lcg, n: u64, days: u64) -> Vec<CustomerRow> {
    let now = okra_core::time::now_ms();
    (0..n)
        .map(|i| {
            let new = NewCustomer {
                name: format!("Counted {i}"),
                created_at: Some(
                    now - rng.between(0, days) as i64 * DAY_MS - rng.between(0, 999) as i64,
                ),
                ..NewCustomer::default()
            };
            CustomerRow::new(keyring, okra_core::id::new_id(), new).unwrap()
        })
        .collect()
}

fn load(start: u64, people: u64, batch: u64) -> LoadOptions {
    LoadOptions {
        owner: "default".into(),
        people,
        start,
        env: Environment::Sandbox,
        batch: batch as usize,
    }
}

/// `customers/create` with `n` fresh usernames starting at `first`.
async fn create(s: &TestServer, first: u64, n: u64) -> u16 {
    let items: Vec<Value> = (first..first + n)
        .map(|i| json!({"username": format!("counted{i}"), "password": "x"}))
        .collect();
    s.post(
        "/v2/sandbox/customers/create",
        Some(&s.sandbox_key()),
        Value::Array(items),
    )
    .await
    .status
    .as_u16()
}

/// Customers written by the bulk path (`multirow::insert`) in one transaction.
async fn bulk(s: &TestServer, tenant: &Tenant, rows: &[CustomerRow]) {
    let mut tx = s.db.begin().await.unwrap();
    multirow::insert(tx.conn(), tenant, rows).await.unwrap();
    tx.commit().await.unwrap();
}

async fn counters_equal_counts_after_random_batches(b: Backend) {
    let s = TestServer::start(b).await;
    let keyring = s.state().keyring();
    let tenant = s.tenant(Environment::Sandbox);
    let mut rng = Lcg(9);
    let mut username = 0;
    let mut person = 0;
    for round in 0..4 {
        // The API's bulk insert, the loader (customers, records, accounts) and the repositories'.
        let n = rng.between(1, 7);
        assert_eq!(create(&s, username, n).await, 200);
        username += n;
        let (people, batch) = (rng.between(1, 30), rng.between(1, 12));
        sandbox_load::load(&s.db, &keyring, &s.config, &load(person, people, batch))
            .await
            .unwrap();
        person += people;
        let n = rng.between(1, 40);
        let rows = customer_rows(&keyring, &mut rng, n, 30);
        bulk(&s, &tenant, &rows).await;
        // The single-row inserts: a customer, and a record and an account for a loaded customer.
        let mut tx = s.db.begin().await.unwrap();
        okra_store::customers::insert(tx.conn(), &keyring, &tenant, &NewCustomer::default())
            .await
            .unwrap();
        let (customer_id, bank_id) = any_record(&s).await;
        let record_id = records::insert(
            tx.conn(),
            &tenant,
            &NewRecord {
                customer_id: customer_id.clone(),
                bank_id: bank_id.clone(),
                created_at: Some(okra_core::time::now_ms() - 2 * DAY_MS),
                ..NewRecord::default()
            },
        )
        .await
        .unwrap();
        let new = NewAccount {
            customer_id,
            bank_id,
            record_id,
            name: "Counted".into(),
            nuban: format!("99{:08}", round),
            account_type: "savings".into(),
            currency: "NGN".into(),
            connected: true,
            account_ref: None,
            created_at: None,
        };
        accounts::insert(tx.conn(), &keyring, &tenant, &new)
            .await
            .unwrap();
        tx.commit().await.unwrap();
        // Refreshes move amounts (to another bucket, a negative one, none), one rolled back.
        for (i, keep) in [true, true, false].into_iter().enumerate() {
            let account: String =
                sqlx::query_scalar("SELECT account_id FROM balances ORDER BY id LIMIT 1 OFFSET $1")
                    .bind(rng.between(0, 5) as i64)
                    .fetch_one(s.db.pool())
                    .await
                    .unwrap();
            let mut tx = s.db.begin().await.unwrap();
            let was = balances::refresh::latest_for_update(tx.conn(), &tenant, &account)
                .await
                .unwrap()
                .unwrap();
            let mut now = was.clone();
            now.available_minor = match i {
                0 => Some(rng.between(0, 10_000_000_000) as i64),
                1 => Some(-(rng.between(1, 5_000) as i64)),
                _ => None,
            };
            now.ledger_minor = Some(rng.between(0, 999) as i64);
            balances::refresh::update(tx.conn(), &tenant, &was, &now)
                .await
                .unwrap();
            if keep {
                tx.commit().await.unwrap();
            }
        }
        assert_counters_exact(&s, &format!("round {round}")).await;
    }
    let before = assert_counters_exact(&s, "before the failed batches").await;

    // A batch rolled back after its rows (and counters) were written moves nothing.
    let mut tx = s.db.begin().await.unwrap();
    let rows = customer_rows(&keyring, &mut rng, 25, 5);
    multirow::insert(tx.conn(), &tenant, &rows).await.unwrap();
    drop(tx);
    // A batch whose statement fails (an id already taken) moves nothing either.
    let taken = rows[0].id().to_string();
    bulk(&s, &tenant, &rows[..1]).await;
    let clash = vec![
        CustomerRow::new(&keyring, okra_core::id::new_id(), NewCustomer::default()).unwrap(),
        CustomerRow::new(&keyring, taken, NewCustomer::default()).unwrap(),
    ];
    let mut tx = s.db.begin().await.unwrap();
    assert!(multirow::insert(tx.conn(), &tenant, &clash).await.is_err());
    drop(tx);
    // So does a request refused for a clashing username.
    assert_eq!(create(&s, 0, 3).await, 400);
    assert_eq!(
        assert_counters_exact(&s, "after the failed batches").await,
        before + 1
    );
    s.stop().await;
}

/// Inserters running at once (loads of disjoint people, API requests, bulk transactions) add up:
/// on PostgreSQL their transactions overlap and queue on the tenant's counter row.
async fn concurrent_inserters_add_up(b: Backend) {
    let s = TestServer::start(b).await;
    let keyring = s.state().keyring();
    let tenant = s.tenant(Environment::Sandbox);
    let loads = |start, people, batch| {
        let (s, keyring) = (&s, keyring.clone());
        async move {
            sandbox_load::load(&s.db, &keyring, &s.config, &load(start, people, batch))
                .await
                .unwrap();
        }
    };
    let requests = async {
        let mut rng = Lcg(3);
        let mut first = 0;
        for _ in 0..6 {
            let n = rng.between(1, 9);
            assert_eq!(create(&s, first, n).await, 200);
            first += n;
        }
    };
    let transactions = async {
        let mut rng = Lcg(5);
        for _ in 0..6 {
            let n = rng.between(1, 30);
            let rows = customer_rows(&keyring, &mut rng, n, 10);
            bulk(&s, &tenant, &rows).await;
        }
    };
    tokio::join!(loads(0, 40, 7), loads(1_000, 30, 4), requests, transactions);
    assert_counters_exact(&s, "after concurrent inserters").await;
    s.stop().await;
}

/// A database that held rows before the counters existed starts with their counts: the migration
/// is undone (its tables dropped, its version forgotten) and applied again over the rows.
async fn the_migration_counts_existing_rows(b: Backend) {
    let s = TestServer::start(b).await;
    let keyring = s.state().keyring();
    sandbox_load::load(&s.db, &keyring, &s.config, &load(0, 25, 6))
        .await
        .unwrap();
    assert_eq!(create(&s, 0, 4).await, 200);
    for sql in [
        "DROP TABLE row_counts",
        "DROP TABLE daily_row_counts",
        "DELETE FROM _sqlx_migrations WHERE version = 8",
    ] {
        sqlx::query(sql).execute(s.db.pool()).await.unwrap();
    }
    s.db.migrate().await.unwrap();
    // Identities are counted from migration 0014 on, balances from 0016: their backfills, run
    // again over rows whose counters are gone.
    let (m14, m16) = match s.backend {
        Backend::Sqlite => (
            include_str!("../../../okra-store/migrations/sqlite/0014_identity_billing.sql"),
            include_str!("../../../okra-store/migrations/sqlite/0016_balance_counts.sql"),
        ),
        Backend::Postgres(_) => (
            include_str!("../../../okra-store/migrations/postgres/0014_identity_billing.sql"),
            include_str!("../../../okra-store/migrations/postgres/0016_balance_counts.sql"),
        ),
    };
    for (collection, migration) in [("identities", m14), ("balances", m16)] {
        for table in ["row_counts", "daily_row_counts"] {
            sqlx::query(&format!(
                "DELETE FROM {table} WHERE collection = '{collection}'"
            ))
            .execute(s.db.pool())
            .await
            .unwrap();
        }
        let backfills: Vec<String> = migration
            .split(';')
            .map(|statement| {
                statement
                    .lines()
                    .filter(|l| !l.trim_start().starts_with("--"))
                    .collect::<Vec<_>>()
                    .join("\n")
            })
            .filter(|statement| statement.contains(&format!("'{collection}'")))
            .collect();
        assert_eq!(
            backfills.len(),
            3,
            "{collection}: the totals, per customer and per day"
        );
        for sql in backfills {
            sqlx::query(&sql).execute(s.db.pool()).await.unwrap();
        }
    }
    // Amounts are counted by bucket from migration 0018 on: its backfill, run again.
    let m18 = match s.backend {
        Backend::Sqlite => {
            include_str!("../../../okra-store/migrations/sqlite/0018_balance_amount_counts.sql")
        }
        Backend::Postgres(_) => {
            include_str!("../../../okra-store/migrations/postgres/0018_balance_amount_counts.sql")
        }
    };
    // Over amounts of every sign, the least BIGINT among them (its negation overflows in SQL).
    for (i, (available, ledger)) in [(-1_234_567, i64::MIN), (-5, 0), (1009, -1000)]
        .into_iter()
        .enumerate()
    {
        sqlx::query(
            "UPDATE balances SET available_minor = $1, ledger_minor = $2 \
             WHERE id = (SELECT id FROM balances ORDER BY id LIMIT 1 OFFSET $3)",
        )
        .bind(available)
        .bind(ledger)
        .bind(i as i64)
        .execute(s.db.pool())
        .await
        .unwrap();
    }
    sqlx::query("DELETE FROM balance_amount_counts")
        .execute(s.db.pool())
        .await
        .unwrap();
    let backfills: Vec<&str> = m18
        .split(';')
        .filter(|statement| statement.contains("INSERT INTO balance_amount_counts"))
        .collect();
    assert_eq!(backfills.len(), 2, "available and ledger");
    for sql in backfills {
        sqlx::query(sql).execute(s.db.pool()).await.unwrap();
    }
    assert_eq!(assert_counters_exact(&s, "after the backfill").await, 29);
    s.stop().await;
}

/// Balance writers at once — transactions inserting two balances in opposite bucket orders (as a
/// connection's balance job does, one balance at a time) and refreshes moving amounts — never
/// deadlock over the counters (every one queues on the tenant's balance row before any amount
/// bucket), and the counters add up.
async fn balance_writers_at_once_do_not_deadlock(b: Backend) {
    let s = TestServer::start(b).await;
    let keyring = s.state().keyring();
    let tenant = s.tenant(Environment::Sandbox);
    sandbox_load::load(&s.db, &keyring, &s.config, &load(0, 4, 4))
        .await
        .unwrap();
    let rows: Vec<(String, String, String)> = sqlx::query_as(
        "SELECT account_id, customer_id, record_id FROM balances ORDER BY id LIMIT 4",
    )
    .fetch_all(s.db.pool())
    .await
    .unwrap();
    let mut tasks = Vec::new();
    for i in 0..12usize {
        let (db, tenant, rows) = (s.db.clone(), tenant.clone(), rows.clone());
        tasks.push(tokio::spawn(async move {
            for round in 0..5usize {
                let mut tx = db.begin().await?;
                if i % 3 == 2 {
                    let account = &rows[(i + round) % rows.len()].0;
                    let was = balances::refresh::latest_for_update(tx.conn(), &tenant, account)
                        .await?
                        .expect("a balance");
                    let mut now = was.clone();
                    now.available_minor = Some((i * 7 + round) as i64 * 1_000_003);
                    now.ledger_minor = Some(-((i + round) as i64));
                    balances::refresh::update(tx.conn(), &tenant, &was, &now).await?;
                } else {
                    let amounts: [i64; 2] = if i % 2 == 0 {
                        [5_000_000_000, 1_000]
                    } else {
                        [1_000, 5_000_000_000]
                    };
                    for (k, a) in amounts.iter().enumerate() {
                        let (account_id, customer_id, record_id) = rows[k].clone();
                        let new = balances::NewBalance {
                            account_id,
                            customer_id,
                            record_id,
                            available_minor: Some(a + round as i64),
                            ledger_minor: Some(*a),
                            currency: "NGN".into(),
                            history: Vec::new(),
                            created_at: None,
                        };
                        balances::insert(tx.conn(), &tenant, &new).await?;
                    }
                }
                tx.commit().await?;
            }
            Ok::<(), okra_store::StoreError>(())
        }));
    }
    for t in tasks {
        t.await.unwrap().expect("no writer deadlocks or gives up");
    }
    assert_counters_exact(&s, "after balance writers at once").await;
    s.stop().await;
}

backend_tests!(
    counters_equal_counts_after_random_batches,
    balance_writers_at_once_do_not_deadlock,
    concurrent_inserters_add_up,
    the_migration_counts_existing_rows,
);
