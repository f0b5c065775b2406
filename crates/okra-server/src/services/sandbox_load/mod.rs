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
//! Memory stays flat: two blocking threads generate and seal batches (CPU work), each one batch
//! ahead, in alternation, and the writer takes them in index order. The writer is the store's bulk
//! writer (`okra_store::loader`): on SQLite a rusqlite connection on a blocking thread, several
//! batches per `BEGIN IMMEDIATE` transaction with cached prepared inserts, the WAL checkpointed by
//! a thread of its own; on PostgreSQL `COPY … FROM STDIN` per table, two transactions at a time.
//! Counters are bumped in the same transaction as the rows. Re-running a range is idempotent: each
//! batch first asks, in one query per key, which BVNs and NUBANs the owner already has, and skips
//! those people.

use std::collections::HashSet;
use std::io::IsTerminal;
use std::sync::Arc;
use std::time::Instant;

use anyhow::Context;
use futures::StreamExt;
use indicatif::{ProgressBar, ProgressStyle};
use okra_core::Environment;
use okra_sandbox::{Date, Network};
use okra_store::accounts::AccountRow;
use okra_store::crypto::Keyring;
use okra_store::customers::CustomerRow;
use okra_store::loader::{Batch, PgLoader, Probe, SqliteLoader, SqliteTx};
use okra_store::records;
use okra_store::{Backend, Db, StoreError, Tenant};

use crate::config::Config;

mod rows;

pub use crate::services::identity_profile::identity_score;
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
    /// Counts a written batch of `people` and shows it on the progress bar.
    fn add(&mut self, bar: &ProgressBar, people: u64, linked: u64, rows: u64) {
        self.linked += linked;
        self.skipped += people - linked;
        self.rows += rows;
        bar.inc(people);
        bar.set_message(format!("{} rows", self.rows));
    }

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
/// Batches each generator has ready ahead of the writer (bounds memory to `GENERATORS` times
/// this plus one, plus the batches being written).
const AHEAD: usize = 1;
/// Threads generating and sealing people (CPU work: ids, sealing, balance histories).
const GENERATORS: usize = 2;
/// Concurrent transactions on PostgreSQL: one backend process is CPU-bound on parsing and
/// TOAST-compressing the rows; the two batches' people are disjoint, so they only meet on the
/// counter rows, bumped last in each transaction.
const PG_WRITERS: usize = 2;

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
    let bar = progress_bar(options.people);
    let (receivers, generators) = generate(Arc::new(builder), options.start, end, batch);
    let mut report = match db.backend() {
        Backend::Sqlite => {
            let url = config.effective_database_url();
            let busy = std::time::Duration::from_millis(config.db_busy_timeout_ms);
            let (db, bar) = (db.clone(), bar.clone());
            let runtime = tokio::runtime::Handle::current();
            tokio::task::spawn_blocking(move || {
                let mut loader = SqliteLoader::open(&url, busy)?;
                write_sqlite_all(&runtime, &db, &mut loader, &tenant, receivers, &bar)
            })
            .await
            .context("the SQLite writer panicked")??
        }
        Backend::Postgres => {
            let loader = PgLoader::connect(&config.effective_database_url(), PG_WRITERS as u32)
                .await
                .context("connecting the PostgreSQL bulk writer")?;
            let written = write_postgres(&loader, &tenant, receivers, &bar).await;
            loader.close().await;
            written?
        }
    };
    for generator in generators {
        generator.await.context("a batch generator panicked")?;
    }
    bar.finish_and_clear();
    // The planner's row counts were taken before the load, or never: bring them up to date.
    db.refresh_statistics()
        .await
        .context("refreshing the planner's statistics")?;
    report.seconds = began.elapsed().as_secs_f64();
    Ok(report)
}

/// A batch of people's rows as a generator hands it over.
type Generated = anyhow::Result<Vec<PersonRows>>;

/// Starts [`GENERATORS`] threads generating batches of `batch` people of `start..end`: thread `t`
/// makes batches `t`, `t + GENERATORS`, … and hands them to its own channel of [`AHEAD`], so the
/// writer takes batch `k` from channel `k % GENERATORS` and keeps index order. A generator stops
/// when its receiver goes away (a failed write) or after an error it sent.
fn generate(
    builder: Arc<Builder>,
    start: u64,
    end: u64,
    batch: u64,
) -> (
    Vec<tokio::sync::mpsc::Receiver<Generated>>,
    Vec<tokio::task::JoinHandle<()>>,
) {
    let batches = (end - start).div_ceil(batch);
    let (mut receivers, mut handles) = (Vec::new(), Vec::new());
    for t in 0..GENERATORS {
        let (sender, receiver) = tokio::sync::mpsc::channel(AHEAD);
        let builder = builder.clone();
        handles.push(tokio::task::spawn_blocking(move || {
            for k in (t as u64..batches).step_by(GENERATORS) {
                let from = start + k * batch;
                let rows = (from..(from + batch).min(end))
                    .map(|i| builder.person(i))
                    .collect::<anyhow::Result<Vec<_>>>();
                let failed = rows.is_err();
                if sender.blocking_send(rows).is_err() || failed {
                    break;
                }
            }
        }));
        receivers.push(receiver);
    }
    (receivers, handles)
}

/// Writes the generated batches in order on PostgreSQL, [`PG_WRITERS`] transactions at a time.
async fn write_postgres(
    loader: &PgLoader,
    tenant: &Tenant,
    receivers: Vec<tokio::sync::mpsc::Receiver<Generated>>,
    bar: &ProgressBar,
) -> anyhow::Result<LoadReport> {
    let batches = futures::stream::unfold((receivers, 0usize), |(mut rs, k)| async move {
        let n = rs.len();
        let people = rs[k % n].recv().await?;
        Some((people, (rs, k + 1)))
    });
    let mut written = std::pin::pin!(batches
        .map(|people| async move {
            let people = people?;
            let (linked, rows) = write_postgres_retrying(loader, tenant, &people).await?;
            anyhow::Ok((people.len() as u64, linked, rows))
        })
        .buffer_unordered(PG_WRITERS));
    let mut report = LoadReport::default();
    while let Some(done) = written.next().await {
        let (n, linked, rows) = done?;
        report.add(bar, n, linked, rows);
    }
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
/// People per SQLite transaction (several generated batches): every commit writes each index
/// page its rows touched, and the blind indexes (BVN, NIN, NUBAN) and balance amounts are random,
/// so fewer, larger commits write far fewer pages. About half a second of write lock at a time.
const SQLITE_TXN_PEOPLE: usize = 2_000;
/// Pause after each SQLite transaction. The load has its next batch ready at once; without a pause the
/// other processes polling for the write lock (every 2 ms, see `okra_store::Db::begin`) would
/// almost never find it free and their requests would run out of busy wait. 10 ms per batch of
/// a few hundred milliseconds costs the load a few percent.
const SQLITE_YIELD: std::time::Duration = std::time::Duration::from_millis(10);

/// Writes the generated batches in order on SQLite, on the writer's blocking thread: several
/// batches per transaction (up to [`SQLITE_TXN_PEOPLE`] people), each transaction under this
/// process's write lock ([`Db::write_guard`], as [`Db::begin`] takes it), then a pause so that
/// other writers get the lock.
fn write_sqlite_all(
    runtime: &tokio::runtime::Handle,
    db: &Db,
    loader: &mut SqliteLoader,
    tenant: &Tenant,
    mut receivers: Vec<tokio::sync::mpsc::Receiver<Generated>>,
    bar: &ProgressBar,
) -> anyhow::Result<LoadReport> {
    let mut report = LoadReport::default();
    let n = receivers.len();
    let mut k = 0;
    let mut next = receivers[0].blocking_recv();
    while next.is_some() {
        let mut attempt = 1;
        let guard = loop {
            let begun = runtime
                .block_on(db.write_guard())
                .and_then(|guard| Ok((guard, loader.begin()?)));
            match begun {
                Err(StoreError::Busy(why)) if attempt < BUSY_ATTEMPTS => {
                    tracing::warn!(attempt, %why, "database busy; retrying the batch");
                    attempt += 1;
                }
                other => break other.context("beginning a transaction")?,
            }
        };
        let (_lock, tx) = guard;
        let mut people_in_tx = 0;
        while let Some(people) = next.take() {
            let people = people?;
            let (linked, rows) = write_sqlite(&tx, tenant, &people).context("writing a batch")?;
            report.add(bar, people.len() as u64, linked, rows);
            people_in_tx += people.len();
            k += 1;
            next = receivers[k % n].blocking_recv();
            if people_in_tx >= SQLITE_TXN_PEOPLE {
                break;
            }
        }
        tx.commit().context("committing a batch")?;
        drop(_lock);
        std::thread::sleep(SQLITE_YIELD);
    }
    Ok(report)
}

/// Writes one batch in the SQLite transaction, skipping people the owner already has. Returns
/// (people linked, rows written).
fn write_sqlite(
    tx: &SqliteTx<'_>,
    tenant: &Tenant,
    people: &[PersonRows],
) -> Result<(u64, u64), StoreError> {
    let (bvns, nubans) = probes(people);
    // Both kinds of index in one set: a BVN index and a NUBAN index never coincide.
    let mut existing = tx.existing(tenant, &bvns)?;
    existing.extend(tx.existing(tenant, &nubans)?);
    let (batch, linked, rows) = batch_of(people, &existing);
    tx.write(tenant, &batch)?;
    Ok((linked, rows))
}

/// [`write_postgres`] of one batch, again while the database is busy (a deadlock or
/// serialization failure).
async fn write_postgres_retrying(
    loader: &PgLoader,
    tenant: &Tenant,
    people: &[PersonRows],
) -> anyhow::Result<(u64, u64)> {
    let mut attempt = 1;
    loop {
        match write_postgres_batch(loader, tenant, people).await {
            Err(StoreError::Busy(why)) if attempt < BUSY_ATTEMPTS => {
                tracing::warn!(attempt, %why, "database busy; retrying the batch");
                attempt += 1;
            }
            other => return other.context("writing a batch"),
        }
    }
}

/// Writes one batch in one PostgreSQL transaction (COPY), skipping people the owner already has.
async fn write_postgres_batch(
    loader: &PgLoader,
    tenant: &Tenant,
    people: &[PersonRows],
) -> Result<(u64, u64), StoreError> {
    let mut tx = loader.begin().await?;
    let (bvns, nubans) = probes(people);
    let mut existing = tx.existing(tenant, &bvns).await?;
    existing.extend(tx.existing(tenant, &nubans).await?);
    let (batch, linked, rows) = batch_of(people, &existing);
    tx.write(tenant, &batch).await?;
    tx.commit().await?;
    Ok((linked, rows))
}

/// The probes for the unique keys of a batch's people: BVNs and NUBANs.
fn probes(people: &[PersonRows]) -> (Probe<'_>, Probe<'_>) {
    (
        CustomerRow::bvn_probe(people.iter().map(|p| &p.customer)),
        AccountRow::nuban_probe(people.iter().flat_map(|p| &p.accounts)),
    )
}

/// The rows of the people not in `existing`, parents before children (the foreign keys are
/// checked per statement). Returns the batch, the people in it and its rows.
fn batch_of<'a>(people: &'a [PersonRows], existing: &HashSet<String>) -> (Batch<'a>, u64, u64) {
    let new: Vec<&PersonRows> = people
        .iter()
        .filter(|p| existing.is_empty() || !p.already_present(existing))
        .collect();
    let mut batch = Batch::new();
    batch.push(new.iter().map(|p| &p.customer));
    // Records also write their option rows, hence their own function.
    records::push_rows(&mut batch, new.iter().flat_map(|p| &p.records));
    batch.push(new.iter().flat_map(|p| &p.accounts));
    batch.push(new.iter().flat_map(|p| &p.identities));
    batch.push(new.iter().flat_map(|p| &p.balances));
    let rows: usize = (new.iter())
        .map(|p| 1 + p.records.len() + p.identities.len() + p.accounts.len() + p.balances.len())
        .sum();
    (batch, new.len() as u64, rows as u64)
}
