//! The `okra-server` command line (README, "Command line").

use std::path::PathBuf;

use anyhow::Context;
use clap::{Args, Parser, Subcommand};
use okra_core::apikey::KeyKind;
use okra_core::Environment;

use crate::bootstrap;
use crate::config::{Config, Overrides, Role};
use crate::server;
use crate::services::owners;
use crate::services::webhooks::admin;

/// Self-hostable, Okra v2-compatible open-banking server.
#[derive(Parser, Debug)]
#[command(name = "okra-server", version, about)]
pub struct Cli {
    #[command(flatten)]
    global: GlobalArgs,
    #[command(subcommand)]
    command: Command,
}

#[derive(Args, Debug)]
struct GlobalArgs {
    /// Directory for the SQLite database, credentials.json and keys.json [env: OKRA_DATA_DIR]
    #[arg(long, global = true)]
    data_dir: Option<PathBuf>,
    /// PostgreSQL URL (postgres://…); SQLite in the data dir when absent [env: OKRA_DATABASE_URL]
    #[arg(long, global = true)]
    database_url: Option<String>,
    /// Configuration file (default: ./okra.toml when it exists)
    #[arg(long, global = true)]
    config: Option<PathBuf>,
    /// Create the PostgreSQL database of --database-url if it does not exist
    #[arg(long, global = true)]
    create_database: bool,
}

#[derive(Subcommand, Debug)]
enum Command {
    /// Run the API and the background workers.
    Serve {
        /// Address to listen on [env: OKRA_LISTEN; default 127.0.0.1:8080]
        #[arg(long)]
        listen: Option<String>,
        /// Run the API, the workers, or both [env: OKRA_ROLE]
        #[arg(long, value_enum)]
        role: Option<Role>,
    },
    /// Apply database migrations and exit.
    Migrate,
    /// Manage owners.
    #[command(subcommand)]
    Owners(OwnersCommand),
    /// Manage API keys.
    #[command(subcommand)]
    Keys(KeysCommand),
    /// Manage wallets.
    #[command(subcommand)]
    Wallet(WalletCommand),
    /// Webhook settings.
    #[command(subcommand)]
    Webhooks(WebhooksCommand),
    /// The simulated bank network.
    #[command(subcommand)]
    Sandbox(SandboxCommand),
}

#[derive(Subcommand, Debug)]
enum SandboxCommand {
    /// Print the logins of some people of the simulated network.
    Users {
        /// Only people with an account at this bank (slug or id).
        #[arg(long)]
        bank: Option<String>,
        /// How many.
        #[arg(long, default_value_t = 10)]
        count: usize,
        /// List the people from this index on, in index order (the people `sandbox load --start`
        /// links), instead of a sample spread over the population.
        #[arg(long)]
        start: Option<u64>,
    },
    /// Link N people of the network to an owner as if each had connected (for demos and benchmarks).
    Load {
        /// Owner name.
        #[arg(long)]
        owner: String,
        /// How many people.
        #[arg(long)]
        people: u64,
        /// Index of the first person.
        #[arg(long, default_value_t = 0)]
        start: u64,
        /// Which environment's data to create.
        #[arg(long, default_value = "sandbox")]
        env: Environment,
        /// People per transaction.
        #[arg(long, default_value_t = 500)]
        batch: usize,
    },
}

#[derive(Subcommand, Debug)]
enum OwnersCommand {
    /// Create an owner with keys for both environments; prints its credentials as JSON.
    Create {
        /// Unique owner name.
        name: String,
    },
    /// List owners.
    List,
}

#[derive(Subcommand, Debug)]
enum KeysCommand {
    /// Create a key and print it (and nothing else) on stdout.
    Create {
        /// Owner name.
        #[arg(long)]
        owner: String,
        /// sandbox or production.
        #[arg(long)]
        env: Environment,
        /// secret (default) or publishable.
        #[arg(long, default_value = "secret", value_parser = ["secret", "publishable"])]
        kind: String,
    },
    /// List keys (hints only, never the keys).
    List {
        /// Only this owner's keys.
        #[arg(long)]
        owner: Option<String>,
    },
    /// Revoke a key by id.
    Revoke {
        /// Key id from `keys list`.
        id: String,
    },
    /// Make a new data key current and re-encrypt all personal data with it, in batches.
    RotateDataKey {
        /// Rows per transaction.
        #[arg(long, default_value_t = 500)]
        batch: usize,
    },
}

#[derive(Subcommand, Debug)]
enum WalletCommand {
    /// Add credits to an owner's wallet.
    Topup {
        /// Owner name.
        #[arg(long)]
        owner: String,
        /// Credits to add (may have two decimals).
        #[arg(long)]
        amount: f64,
        /// Which environment's wallet (sandbox credits by default).
        #[arg(long, default_value = "sandbox")]
        env: Environment,
    },
}

#[derive(Subcommand, Debug)]
enum WebhooksCommand {
    /// Print an owner's webhook signing secret.
    Secret {
        /// Owner name.
        #[arg(long)]
        owner: String,
    },
    /// Print, set or clear the default webhook URL of an owner in one environment (a link's
    /// `callback_url` wins over it).
    Url {
        /// Owner name.
        #[arg(long)]
        owner: String,
        /// Environment.
        #[arg(long, default_value = "sandbox")]
        env: Environment,
        /// The new URL; without it the current one is printed.
        url: Option<String>,
        /// Remove the URL.
        #[arg(long, conflicts_with = "url")]
        clear: bool,
    },
    /// Print, set or clear the bearer token sent as `Authorization` with an owner's webhooks in
    /// one environment. `-` reads the token from standard input (keeps it out of `ps`).
    Token {
        /// Owner name.
        #[arg(long)]
        owner: String,
        /// Environment.
        #[arg(long, default_value = "sandbox")]
        env: Environment,
        /// The new token, or `-` for standard input; without it the current one is printed.
        token: Option<String>,
        /// Remove the token.
        #[arg(long, conflicts_with = "token")]
        clear: bool,
    },
}

impl Cli {
    fn config(&self, listen: Option<String>, role: Option<Role>) -> anyhow::Result<Config> {
        let overrides = Overrides {
            data_dir: self.global.data_dir.clone(),
            database_url: self.global.database_url.clone(),
            listen,
            role,
            create_database: self.global.create_database.then_some(true),
        };
        Config::load(self.global.config.as_deref(), &overrides)
    }
}

/// Runs the parsed command line.
pub async fn run(cli: Cli) -> anyhow::Result<()> {
    let (listen, role) = match &cli.command {
        Command::Serve { listen, role } => (listen.clone(), *role),
        _ => (None, None),
    };
    let config = cli.config(listen, role)?;
    let _log = crate::logging::init(&config)?;
    match cli.command {
        Command::Serve { .. } => serve(config).await,
        Command::Migrate => {
            let (db, _) = bootstrap::open(&config).await?;
            // Operators run it after upgrades and restores: leave the planner current too.
            db.refresh_statistics()
                .await
                .context("refreshing the planner's statistics")?;
            eprintln!("migrations applied, statistics refreshed");
            Ok(())
        }
        Command::Owners(cmd) => {
            if let OwnersCommand::Create { name } = &cmd {
                // Refuse a bad name before touching the data dir or the database.
                owners::validate_name(name)?;
            }
            let (db, keyring) = bootstrap::open(&config).await?;
            match cmd {
                OwnersCommand::Create { name } => {
                    let creds = owners::create_owner(&db, &keyring, &name)
                        .await
                        .map_err(|e| match e {
                            okra_store::StoreError::Conflict(_) => {
                                anyhow::anyhow!("an owner named `{name}` already exists")
                            }
                            other => other.into(),
                        })?;
                    println!("{}", serde_json::to_string_pretty(&creds)?);
                }
                OwnersCommand::List => {
                    for o in okra_store::owners::list(&db).await? {
                        println!(
                            "{}\t{}\t{}",
                            o.id,
                            o.name,
                            okra_core::time::iso_ms(o.created_at)
                        );
                    }
                }
            }
            Ok(())
        }
        Command::Keys(cmd) => {
            let (db, _) = bootstrap::open(&config).await?;
            match cmd {
                KeysCommand::Create { owner, env, kind } => {
                    let kind = KeyKind::parse(&kind).context("kind")?;
                    let key = owners::create_key(&db, &owner, env, kind)
                        .await?
                        .with_context(|| format!("no owner named `{owner}`"))?;
                    println!("{key}");
                }
                KeysCommand::List { owner } => {
                    for k in okra_store::keys::list(&db, owner.as_deref()).await? {
                        let state = match k.revoked_at {
                            Some(at) => format!("revoked {}", okra_core::time::iso_ms(at)),
                            None => "active".to_string(),
                        };
                        println!(
                            "{}\t{}\t{}\t{}\t{}\t{}",
                            k.id,
                            k.owner,
                            k.env,
                            k.kind.as_str(),
                            k.hint,
                            state
                        );
                    }
                }
                KeysCommand::RotateDataKey { batch } => {
                    crate::services::rekey::rotate(&db, &config, batch.max(1)).await?;
                }
                KeysCommand::Revoke { id } => {
                    if !okra_store::keys::revoke(&db, &id).await? {
                        anyhow::bail!("no active key with id {id}");
                    }
                    eprintln!("key {id} revoked (takes effect on every server within a second)");
                }
            }
            Ok(())
        }
        Command::Wallet(WalletCommand::Topup { owner, amount, env }) => {
            // Credits have two decimals; the balance is a 64-bit count of hundredths.
            if !amount.is_finite() || amount < 0.01 {
                anyhow::bail!("--amount must be at least 0.01 credits (got {amount})");
            }
            if amount >= 1e13 {
                anyhow::bail!(
                    "--amount must be less than 10,000,000,000,000 credits (got {amount})"
                );
            }
            let (db, _) = bootstrap::open(&config).await?;
            let o = okra_store::owners::find_by_name(&db, &owner)
                .await?
                .with_context(|| format!("no owner named `{owner}`"))?;
            let minor = (amount * 100.0).round() as i64;
            let balance = okra_store::owners::top_up(&db, &o.id, env, minor)
                .await?
                .context("the owner has no wallet in that environment")?;
            // Say which wallet changed: a bare number hides a top-up of the wrong environment.
            let wallet = serde_json::json!({
                "owner": o.name,
                "env": env.as_str(),
                "added": minor as f64 / 100.0,
                "balance": balance as f64 / 100.0,
                "currency": "Okra Credits",
            });
            println!("{}", serde_json::to_string_pretty(&wallet)?);
            Ok(())
        }
        Command::Sandbox(SandboxCommand::Users { bank, count, start }) => {
            crate::services::sandbox_users::print(&config, bank.as_deref(), count, start)
        }
        Command::Sandbox(SandboxCommand::Load {
            owner,
            people,
            start,
            env,
            batch,
        }) => {
            let (db, keyring) = bootstrap::open(&config).await?;
            let options = crate::services::sandbox_load::LoadOptions {
                owner,
                people,
                start,
                env,
                batch: batch.max(1),
            };
            crate::services::sandbox_load::run(&db, &keyring, &config, options).await
        }
        Command::Webhooks(WebhooksCommand::Secret { owner }) => {
            let (db, keyring) = bootstrap::open(&config).await?;
            let secret = owners::webhook_secret(&db, &keyring, &owner)
                .await?
                .with_context(|| format!("no owner named `{owner}`"))?;
            println!("{secret}");
            Ok(())
        }
        Command::Webhooks(WebhooksCommand::Url {
            owner,
            env,
            url,
            clear,
        }) => {
            let (db, keyring) = bootstrap::open(&config).await?;
            let tenant = owner_tenant(&db, &owner, env).await?;
            if url.is_none() && !clear {
                let current = admin::settings(&db, &keyring, &tenant).await?;
                println!("{}", current.url.unwrap_or_default());
                return Ok(());
            }
            admin::set_url(&db, &config, &tenant, url.as_deref().map(str::trim))
                .await
                .map_err(|e| {
                    anyhow::anyhow!(
                        "{}",
                        crate::http::ApiError::from(e).parts().1["message"]
                            .as_str()
                            .unwrap_or("refused")
                    )
                })?;
            Ok(())
        }
        Command::Webhooks(WebhooksCommand::Token {
            owner,
            env,
            token,
            clear,
        }) => {
            let (db, keyring) = bootstrap::open(&config).await?;
            let tenant = owner_tenant(&db, &owner, env).await?;
            let token = match token.as_deref() {
                Some("-") => {
                    let mut line = String::new();
                    std::io::stdin().read_line(&mut line)?;
                    Some(line.trim().to_string())
                }
                other => other.map(|t| t.trim().to_string()),
            };
            if token.is_none() && !clear {
                let current = admin::settings(&db, &keyring, &tenant).await?;
                println!("{}", current.token.unwrap_or_default());
                return Ok(());
            }
            if token.as_deref() == Some("") {
                anyhow::bail!("the token is empty (use --clear to remove it)");
            }
            admin::set_token(&db, &keyring, &tenant, token.as_deref()).await?;
            Ok(())
        }
    }
}

/// The tenant of owner `name` in `env`, or an error naming the owner.
async fn owner_tenant(
    db: &okra_store::Db,
    name: &str,
    env: Environment,
) -> anyhow::Result<okra_store::Tenant> {
    let owner = okra_store::owners::find_by_name(db, name)
        .await?
        .with_context(|| format!("no owner named `{name}`"))?;
    Ok(okra_store::Tenant {
        owner_id: owner.id,
        env,
    })
}

async fn serve(config: Config) -> anyhow::Result<()> {
    let (db, keyring) = bootstrap::open(&config).await?;
    if let Some((creds, file)) = bootstrap::first_start(&db, &keyring, &config).await? {
        println!("{}", bootstrap::credentials_banner(&creds, &file));
    }
    let running = server::start(config, db, keyring, crate::workers::registry()).await?;
    if running.state.sources.production_is_simulated() {
        tracing::warn!(
            "no real bank connector is configured: production uses the simulated bank network"
        );
    }
    if let Some(addr) = running.addr {
        tracing::info!(%addr, "okra-server listening");
        println!("okra-server listening on http://{addr}  (try: curl -H 'Authorization: Bearer <sandbox secret key>' http://{addr}/v2/sandbox/banks/list)");
    }
    if let Some(addr) = running.metrics_addr {
        tracing::info!(%addr, "metrics listening");
        println!("okra-server metrics on http://{addr}/metrics");
    }
    let token = running.shutdown.clone();
    tokio::spawn(async move {
        server::shutdown_signal().await;
        token.cancel();
    });
    running.wait().await;
    Ok(())
}
