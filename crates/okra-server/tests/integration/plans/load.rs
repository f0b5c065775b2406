//! Bulk rows for the plan test, written by one `INSERT … SELECT` per table from a generated series
//! (SQLite's recursive CTE, PostgreSQL's `generate_series`): the planner sees the same shapes a
//! `sandbox load` leaves (one tenant's rows spread over 90 days, a record and two accounts per
//! customer, 24-hex ids) in about a second per 100 k customers, where the sealing of a real load
//! would take minutes in a debug build. Plans depend on row counts and key distributions, not on
//! the sealed bytes, which are stand-ins here.

use okra_store::db::Backend as Engine;
use okra_store::Db;

/// Customers per tenant.
pub const CUSTOMERS: i64 = 100_000;
/// Oldest creation time (ms): 90 days before a fixed instant, so runs are alike.
const BASE_MS: i64 = 1_780_000_000_000 - 90 * 86_400_000;
/// Spacing of creation times: 100 k customers over 90 days.
const STEP_MS: i64 = 90 * 86_400_000 / CUSTOMERS;

/// The SQL that yields `n` (0..CUSTOMERS) as a row source named `s(n)`, and the hex formatter.
fn series(backend: Engine) -> (String, &'static str) {
    match backend {
        Engine::Sqlite => (
            format!(
                "WITH RECURSIVE s(n) AS (SELECT 0 UNION ALL SELECT n + 1 FROM s WHERE n < {}) ",
                CUSTOMERS - 1
            ),
            "sqlite",
        ),
        Engine::Postgres => (String::new(), "postgres"),
    }
}

/// A 24-hex id: the creation second, then a per-table `tag` and `n` (unique per tenant `salt`).
fn id_expr(flavour: &str, ms: &str, tag: i64, salt: i64) -> String {
    let low = format!("({tag} * 1000000000000 + {salt} * 10000000 + n)");
    match flavour {
        "sqlite" => format!("printf('%08x%016x', ({ms}) / 1000, {low})"),
        _ => format!("lpad(to_hex(({ms}) / 1000), 8, '0') || lpad(to_hex({low}), 16, '0')"),
    }
}

/// Loads [`CUSTOMERS`] customers for `owner_id` in the sandbox, each with a record and two
/// accounts at `bank_id`. `salt` keeps the ids of different tenants apart.
pub async fn tenant(db: &Db, owner_id: &str, bank_id: &str, salt: i64) {
    let (with, flavour) = series(db.backend());
    let from = match flavour {
        "sqlite" => "FROM s".to_string(),
        _ => format!("FROM generate_series(0::bigint, {}) AS s(n)", CUSTOMERS - 1),
    };
    let at = format!("({BASE_MS} + n * {STEP_MS})");
    let customer = id_expr(flavour, &at, 1, salt);
    let record = id_expr(flavour, &format!("{at} + 60000"), 2, salt);
    let blob = match flavour {
        "sqlite" => "x'00'",
        _ => "'\\x00'::bytea",
    };
    let mut statements = vec![format!(
        "{with}INSERT INTO customers (id, owner_id, env, name, created_at, last_updated) \
         SELECT {customer}, '{owner_id}', 'sandbox', 'Person ' || n, {at}, {at} {from}"
    )];
    statements.push(format!(
        "{with}INSERT INTO records (id, owner_id, env, customer_id, bank_id, products, options, meta, \
         running, completed, product_status, created_at, last_updated) \
         SELECT {record}, '{owner_id}', 'sandbox', {customer}, '{bank_id}', '[]', '{{}}', '{{}}', 0, 1, \
         '{{}}', {at} + 60000, {at} + 60000 {from}"
    ));
    for slot in [3, 4] {
        let account = id_expr(flavour, &format!("{at} + 60000"), slot, salt);
        statements.push(format!(
            "{with}INSERT INTO accounts (id, owner_id, env, customer_id, bank_id, record_id, name, \
             nuban_enc, nuban_idx, type, currency, connected, created_at, last_updated) \
             SELECT {account}, '{owner_id}', 'sandbox', {customer}, '{bank_id}', {record}, \
             'Person ' || n, {blob}, {account}, 'savings', 'NGN', 1, {at} + 60000, {at} + 60000 {from}"
        ));
        // A balance of each account, fetched by the customer's record.
        let balance = id_expr(flavour, &format!("{at} + 60000"), slot + 4, salt);
        statements.push(format!(
            "{with}INSERT INTO balances (id, owner_id, env, account_id, customer_id, record_id, \
             available_minor, ledger_minor, currency, periodic, created_at, last_updated) \
             SELECT {balance}, '{owner_id}', 'sandbox', {account}, {customer}, {record}, \
             n * 100, n * 100, 'NGN', '[]', {at} + 60000, {at} + 60000 {from}"
        ));
    }
    // An identity per customer, fetched by its record, found by BVN (every customer) and by
    // account (every other customer); and one option per record (getByOptions).
    let identity = id_expr(flavour, &format!("{at} + 60000"), 6, salt);
    statements.push(format!(
        "{with}INSERT INTO identities (id, owner_id, env, customer_id, record_id, bvn_idx, \
         firstname, lastname, fullname, verification_country, score, pii_enc, created_at, last_updated) \
         SELECT {identity}, '{owner_id}', 'sandbox', {customer}, {record}, 'b' || {identity}, \
         'Person', 'P' || n, 'Person ' || n, 'NG', 50, {blob}, {at} + 60000, {at} + 60000 {from}"
    ));
    statements.push(format!(
        "{with}INSERT INTO identity_accounts (owner_id, env, nuban_idx, identity_id, verified_at) \
         SELECT '{owner_id}', 'sandbox', 'n' || {identity}, {identity}, {at} + 60000 {from} \
         WHERE n % 2 = 0"
    ));
    statements.push(format!(
        "{with}INSERT INTO record_options (record_id, owner_id, env, key, value) \
         SELECT {record}, '{owner_id}', 'sandbox', 'loan_id', '\"L-' || n || '\"' {from}"
    ));
    // Other owners' keys, so that a key lookup is not judged on a two-row table.
    let hash = match flavour {
        "sqlite" => "printf('%064x', {salt} * 1000000 + n)",
        _ => "lpad(to_hex({salt} * 1000000 + n), 64, '0')",
    }
    .replace("{salt}", &salt.to_string());
    let key = id_expr(flavour, &at, 5, salt);
    statements.push(format!(
        "{with}INSERT INTO api_keys (id, owner_id, env, kind, key_hash, hint, created_at) \
         SELECT {key}, '{owner_id}', 'sandbox', 'secret', {hash}, 'sk_sandbox_…', {at} {from}"
    ));
    // The counters, as inserts through the store keep them: the tenant's customers, and each
    // customer's accounts and records (so the counter table is as large as in real use).
    statements.push(format!(
        "INSERT INTO row_counts (owner_id, env, collection, customer_id, n) \
         VALUES ('{owner_id}', 'sandbox', 'customers', '', {CUSTOMERS})"
    ));
    statements.push(format!(
        "INSERT INTO row_counts (owner_id, env, collection, customer_id, n) \
         VALUES ('{owner_id}', 'sandbox', 'identities', '', {CUSTOMERS})"
    ));
    statements.push(format!(
        "INSERT INTO row_counts (owner_id, env, collection, customer_id, n) \
         VALUES ('{owner_id}', 'sandbox', 'balances', '', {})",
        2 * CUSTOMERS
    ));
    for (collection, n) in [
        ("accounts", 2),
        ("records", 1),
        ("identities", 1),
        ("balances", 2),
    ] {
        statements.push(format!(
            "{with}INSERT INTO row_counts (owner_id, env, collection, customer_id, n) \
             SELECT '{owner_id}', 'sandbox', '{collection}', {customer}, {n} {from}"
        ));
    }
    // Rows per day, as inserts keep them: the tenant's 90 days of each collection, among the days
    // of a thousand other tenants (what a shared server's counter table looks like).
    for collection in ["customers", "accounts", "records", "identities", "balances"] {
        statements.push(format!(
            "{with}INSERT INTO daily_row_counts (owner_id, env, collection, day, n) \
             SELECT '{owner_id}', 'sandbox', '{collection}', ({at}) / 86400000, COUNT(*) {from} \
             GROUP BY ({at}) / 86400000"
        ));
    }
    statements.push(format!(
        "{with}INSERT INTO daily_row_counts (owner_id, env, collection, day, n) \
         SELECT 'other-{salt}-' || (n / 90), 'sandbox', 'identities', 20000 + n % 90, 1 {from}"
    ));
    // The balances' amount buckets, as inserts keep them (migration 0018's backfill for this
    // owner), among a thousand other tenants' buckets.
    let m18 = match flavour {
        "sqlite" => {
            include_str!("../../../../okra-store/migrations/sqlite/0018_balance_amount_counts.sql")
        }
        _ => include_str!(
            "../../../../okra-store/migrations/postgres/0018_balance_amount_counts.sql"
        ),
    };
    for backfill in m18
        .split(';')
        .filter(|statement| statement.contains("INSERT INTO balance_amount_counts"))
    {
        statements.push(backfill.replace(
            "FROM balances WHERE",
            &format!("FROM balances WHERE owner_id = '{owner_id}' AND"),
        ));
    }
    statements.push(format!(
        "{with}INSERT INTO balance_amount_counts (owner_id, env, kind, bucket, n) \
         SELECT 'other-{salt}-' || (n / 100), 'sandbox', 'available', 4100 + n % 100, 1 {from}"
    ));
    for sql in statements {
        sqlx::query(&sql).execute(db.pool()).await.unwrap();
    }
}
