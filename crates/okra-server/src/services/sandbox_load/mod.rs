//! `okra-server sandbox load`: links people of the simulated network to an owner in bulk, as if
//! each had connected their banks (for demos and benchmarks).
//!
//! Person `i` gets a customer (BVN, NIN, phones, emails) and, per bank they hold accounts at, one
//! connection: a completed record (products `auth`, `identity`, `balance`, `accounts`), the
//! identity the bank reports, the accounts (connected) and one balance per account with 30 days of
//! history ending on the day of the connection. People connect at deterministic times spread over
//! the 90 days before the load starts, in index order, so ids (`ObjectId::with_seconds`) and
//! `created_at` sort by person and date-range queries have something to find.
//!
//! Memory stays flat: a blocking thread generates and seals the next batches (CPU work) while the
//! async side writes earlier ones, each in a single transaction (two at a time on PostgreSQL);
//! the channel between them holds at most two batches. Re-running a range is idempotent: each batch first asks, in one query, which
//! BVNs and NUBANs the owner already has, and skips those people.

use std::io::IsTerminal;
use std::time::Instant;

use anyhow::Context;
use futures::StreamExt;
use indicatif::{ProgressBar, ProgressStyle};
use okra_core::Environment;
use okra_sandbox::{Date, Network};
use okra_store::accounts::AccountRow;
use okra_store::crypto::Keyring;
use okra_store::{accounts, customers, multirow, records};
use okra_store::{Backend, Db, StoreError, Tenant};

use crate::config::Config;

mod rows;

pub use rows::identity_score;
use rows::{Builder, PersonRows};

/// What to load.
#[derive(Clone, Debug)]
pub struct LoadOptions {
    /// Owner name.
    pub owner: String,
    /// How many people.
    pub people: u64,
    /// First person index.
    pub start: u64,
    /// Environment.
    pub env: Environment,
    /// People per transaction.
    pub batch: usize,
}

/// What a load did.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct LoadReport {
    /// People linked now.
    pub linked: u64,
    /// People skipped because the owner already had their BVN or one of their accounts.
    pub skipped: u64,
    /// Rows written (customers, records, record options, identities, accounts, balances).
    pub rows: u64,
    /// Wall time of the load.
    pub seconds: f64,
}

impl LoadReport {
    /// Rows written per second of wall time.
    pub fn rows_per_second(&self) -> f64 {
        self.rows as f64 / self.seconds.max(1e-9)
    }

    /// The summary line `run` prints on stdout.
    pub fn summary(&self) -> String {
        format!(
            "sandbox load: {} people linked, {} already present, {} rows in {:.1} s ({:.0} rows/s)",
            self.linked,
            self.skipped,
            self.rows,
            self.seconds,
            self.rows_per_second()
        )
    }
}

/// Products every loaded connection asked for.
const PRODUCTS: [&str; 4] = ["auth", "identity", "balance", "accounts"];
/// People connect over this many days before the load.
const WINDOW_MS: i64 = 90 * 86_400_000;
/// A person connects their banks one minute apart, so each connection has its own time.
const CONNECTION_GAP_MS: i64 = 60_000;
/// Batches generated ahead of the writer (bounds memory to this plus the one being written).
const AHEAD: usize = 2;

/// Runs the load and prints its summary line on stdout (progress on stderr when a terminal).
pub async fn run(
    db: &Db,
    keyring: &Keyring,
    config: &Config,
    options: LoadOptions,
) -> anyhow::Result<()> {
    let report = load(db, keyring, config, &options).await?;
    println!("{}", report.summary());
    Ok(())
}

/// Links `options.people` people from `options.start` to the owner; see the module docs.
pub async fn load(
    db: &Db,
    keyring: &Keyring,
    config: &Config,
    options: &LoadOptions,
) -> anyhow::Result<LoadReport> {
    let began = Instant::now();
    let owner = okra_store::owners::find_by_name(db, &options.owner)
        .await?
        .with_context(|| format!("no owner named `{}`", options.owner))?;
    let tenant = Tenant {
        owner_id: owner.id,
        env: options.env,
    };
    // One as-of day for the whole run, even across midnight; each balance still ends on the day
    // of its connection (`Builder::person`).
    let network =
        Network::new(config.sandbox_seed, config.sandbox_population).with_as_of(Date::today_utc());
    let end = options
        .start
        .checked_add(options.people)
        .filter(|&end| end <= network.population())
        .with_context(|| {
            format!(
                "people {}..{} are outside the sandbox population of {} (see sandbox_population)",
                options.start,
                options.start.saturating_add(options.people),
                network.population()
            )
        })?;
    let builder = Builder {
        network,
        keyring: keyring.clone(),
        photo_base: photo_base(config),
        start: options.start,
        people: options.people.max(1),
        window_start: okra_core::time::now_ms() - WINDOW_MS,
    };
    let batch = options.batch.max(1) as u64;
    let (sender, receiver) = tokio::sync::mpsc::channel(AHEAD);
    let (first, step) = (options.start, batch as usize);
    // The generator runs on a blocking thread: sealing and balance histories are CPU work that
    // would otherwise stall the writer. It stops when the receiver goes away (a failed write).
    let producer = tokio::task::spawn_blocking(move || {
        for from in (first..end).step_by(step) {
            let rows = (from..(from + batch).min(end))
                .map(|i| builder.person(i))
                .collect::<anyhow::Result<Vec<_>>>();
            let failed = rows.is_err();
            if sender.blocking_send(rows).is_err() || failed {
                break;
            }
        }
    });

    let bar = progress_bar(options.people);
    let mut report = LoadReport::default();
    // One PostgreSQL backend process is CPU-bound on parsing and TOAST-compressing the rows, so two
    // transactions run at once there (their people are disjoint, so they never conflict); SQLite
    // has one writer whatever we do.
    let writers = match db.backend() {
        Backend::Postgres => 2,
        Backend::Sqlite => 1,
    };
    let batches = futures::stream::unfold(receiver, |mut r| async move {
        r.recv().await.map(|batch| (batch, r))
    });
    let tenant = &tenant;
    let mut written = std::pin::pin!(batches
        .map(|rows| async move {
            let people = rows?;
            let n = people.len() as u64;
            let (linked, rows) = write_retrying(db, tenant, &people).await?;
            anyhow::Ok((n, linked, rows))
        })
        .buffer_unordered(writers));
    while let Some(done) = written.next().await {
        let (n, linked, rows) = done?;
        report.linked += linked;
        report.skipped += n - linked;
        report.rows += rows;
        bar.inc(n);
        bar.set_message(format!("{} rows", report.rows));
    }
    producer.await.context("the batch generator panicked")?;
    bar.finish_and_clear();
    // The planner's row counts were taken before the load, or never: bring them up to date.
    db.refresh_statistics()
        .await
        .context("refreshing the planner's statistics")?;
    report.seconds = began.elapsed().as_secs_f64();
    Ok(report)
}

fn progress_bar(people: u64) -> ProgressBar {
    if !std::io::stderr().is_terminal() {
        return ProgressBar::hidden();
    }
    let bar = ProgressBar::new(people);
    if let Ok(style) = ProgressStyle::with_template(
        "{elapsed_precise} [{bar:40}] {human_pos}/{human_len} people ({per_sec}, eta {eta}) {msg}",
    ) {
        bar.set_style(style.progress_chars("=> "));
    }
    bar
}

/// Base of photo URLs: the public URL, else the listen address (no socket is bound here).
fn photo_base(config: &Config) -> String {
    match &config.public_url {
        Some(u) if !u.is_empty() => u.trim_end_matches('/').to_string(),
        _ => format!("http://{}", config.listen),
    }
}

/// Attempts at one batch while the database stays busy (each attempt waits up to the configured
/// busy timeout for the write lock), so a server writing to the same SQLite file delays the load
/// instead of failing it.
const BUSY_ATTEMPTS: u32 = 10;
/// Pause after each SQLite batch. The load has its next batch ready at once; without a pause the
/// other processes polling for the write lock (every 2 ms, see `okra_store::Db::begin`) would
/// almost never find it free and their requests would run out of busy wait. 10 ms per batch of
/// a few hundred milliseconds costs the load a few percent.
const SQLITE_YIELD: std::time::Duration = std::time::Duration::from_millis(10);

/// [`write`], again while the database is busy; then lets other writers in (SQLite).
async fn write_retrying(
    db: &Db,
    tenant: &Tenant,
    people: &[PersonRows],
) -> anyhow::Result<(u64, u64)> {
    let mut attempt = 1;
    let written = loop {
        match write(db, tenant, people).await {
            Err(StoreError::Busy(why)) if attempt < BUSY_ATTEMPTS => {
                tracing::warn!(attempt, %why, "database busy; retrying the batch");
                attempt += 1;
            }
            other => break other.context("writing a batch")?,
        }
    };
    if db.backend() == Backend::Sqlite {
        tokio::time::sleep(SQLITE_YIELD).await;
    }
    Ok(written)
}

/// Writes one batch in one transaction, skipping people the owner already has. Returns (people
/// linked, rows written).
async fn write(db: &Db, tenant: &Tenant, people: &[PersonRows]) -> Result<(u64, u64), StoreError> {
    let mut tx = db.begin().await?;
    multirow::tune_connection(tx.conn()).await?;
    let existing = {
        let bvns: Vec<&str> = people.iter().filter_map(|p| p.customer.bvn_idx()).collect();
        let nubans: Vec<&str> = people
            .iter()
            .flat_map(|p| p.accounts.iter().map(AccountRow::nuban_idx))
            .collect();
        // Both kinds of index in one set: a BVN index and a NUBAN index never coincide.
        let mut found = customers::existing_bvn_indexes(tx.conn(), tenant, &bvns).await?;
        found.extend(accounts::existing_nuban_indexes(tx.conn(), tenant, &nubans).await?);
        found
    };
    let (
        mut new_customers,
        mut new_records,
        mut new_identities,
        mut new_accounts,
        mut new_balances,
    ) = (Vec::new(), Vec::new(), Vec::new(), Vec::new(), Vec::new());
    for p in people {
        if !existing.is_empty() && p.already_present(&existing) {
            continue;
        }
        new_customers.push(&p.customer);
        new_records.extend(&p.records);
        new_identities.extend(&p.identities);
        new_accounts.extend(&p.accounts);
        new_balances.extend(&p.balances);
    }
    // Parents before children: the foreign keys are checked per statement.
    multirow::insert(tx.conn(), tenant, &new_customers).await?;
    // Records also write their option rows, hence their own function.
    records::insert_rows(tx.conn(), tenant, &new_records).await?;
    multirow::insert(tx.conn(), tenant, &new_accounts).await?;
    multirow::insert(tx.conn(), tenant, &new_identities).await?;
    multirow::insert(tx.conn(), tenant, &new_balances).await?;
    tx.commit().await?;
    let rows = new_customers.len()
        + new_records.len()
        + new_identities.len()
        + new_accounts.len()
        + new_balances.len();
    Ok((new_customers.len() as u64, rows as u64))
}
