//! Sandbox customers (Okra "Sandbox 2.0", docs/api.md §10.5): people an owner creates in the simulated
//! network. Each is a custom person of the network (okra-sandbox's reserved index range) built from
//! the stored specification, and a Customer of the owner at once, as if identity had been verified.

use std::collections::HashSet;
use std::sync::Arc;

use okra_core::id::new_id;
use okra_core::source::Credentials;
use okra_core::Environment;
use okra_sandbox::{Network, PersonSpec, CUSTOM_BASE};
use okra_store::bulk::CustomerRow;
use okra_store::customers::{login_index, Duplicate, NewCustomer, SandboxLogin};
use okra_store::{StoreError, Tenant};
use rand::distributions::{Alphanumeric, DistString};

use super::customers::{self, CustomerView};
use super::error::{Error, Result};
use crate::app::AppState;

/// Most customers one `customers/create` or `customers/generate` call makes.
pub const MAX_PER_CALL: usize = 10;

fn network(state: &AppState) -> Result<Arc<Network>> {
    state
        .sources
        .for_env(Environment::Sandbox)
        .network
        .clone()
        .ok_or(Error::NoSimulatedNetwork)
}

/// One customer to create: the spec (checked) and the login (made up when not given).
#[derive(Clone, Debug)]
pub struct NewSandboxCustomer {
    /// What the person looks like.
    pub spec: PersonSpec,
    /// Login username (1-64 characters, no spaces), or `None` for a server-made one.
    pub username: Option<String>,
    /// Login password, or `None` for a random one.
    pub password: Option<String>,
}

fn username_taken(username: &str) -> Error {
    Error::UsernameTaken(Some(username.to_string()))
}

/// What to do with a requested username that is taken (by a customer of the tenant, or by an
/// earlier item of the same request).
#[derive(Clone, Copy, PartialEq, Eq)]
enum Taken {
    /// Refuse the whole request (`customers/create`: the client chose the name).
    Refuse,
    /// Let the server name that customer (`customers/generate`: the name was made up).
    Rename,
}

/// Creates every requested customer in one transaction: all of them or, on any error, none.
/// Clashing usernames are found before anything is written; the simulated-network person slots
/// come from the `sandbox_person` sequence, bumped on the same transaction, so concurrent
/// requests never pick the same person.
async fn create_all(
    state: &AppState,
    tenant: &Tenant,
    network: &Network,
    mut requests: Vec<NewSandboxCustomer>,
    taken: Taken,
) -> Result<Vec<CustomerView>> {
    let keyring = state.keyring();
    // Usernames repeated within the request: no database needed.
    let mut seen = HashSet::new();
    for request in &mut requests {
        let Some(u) = &request.username else { continue };
        if !seen.insert(login_index(&keyring, u)) {
            match taken {
                Taken::Refuse => return Err(username_taken(u)),
                Taken::Rename => request.username = None,
            }
        }
    }
    let mut tx = state.db.begin().await?;
    let given: Vec<&str> = requests
        .iter()
        .filter_map(|r| r.username.as_deref())
        .collect();
    let existing: Vec<String> =
        okra_store::customers::existing_logins(tx.conn(), &keyring, tenant, &given)
            .await?
            .into_iter()
            .map(str::to_string)
            .collect();
    if let Some(u) = existing.first() {
        if taken == Taken::Refuse {
            return Err(username_taken(u));
        }
        for request in &mut requests {
            if request
                .username
                .as_ref()
                .is_some_and(|u| existing.contains(u))
            {
                request.username = None;
            }
        }
    }
    let first = okra_store::sequences::reserve_sandbox_persons(
        tx.conn(),
        CUSTOM_BASE as i64,
        requests.len() as i64,
    )
    .await?;
    let mut rows = Vec::with_capacity(requests.len());
    for (k, request) in requests.into_iter().enumerate() {
        let index = first as u64 + k as u64;
        let new = new_customer(network, index, request)?;
        rows.push(CustomerRow::new(&keyring, new_id(), new)?);
    }
    // Server-made usernames could still meet a given one: check every unique key before writing.
    match okra_store::customers::first_duplicate(&rows) {
        Some(Duplicate::Login(u)) => return Err(username_taken(&u)),
        // BVNs and slots derive from distinct person indexes: only a bug could repeat them.
        Some(other) => {
            tracing::error!(duplicate = ?other, "one request made the same person twice");
            return Err(Error::Conflict);
        }
        None => {}
    }
    match okra_store::bulk::insert_customers(tx.conn(), tenant, &rows).await {
        // Only a concurrent request (PostgreSQL) can take a name between the check and here.
        Err(StoreError::Conflict(m)) if m.contains("sandbox_login") => {
            return Err(Error::UsernameTaken(None))
        }
        other => other?,
    }
    tx.commit().await?;
    let mut created = Vec::with_capacity(rows.len());
    for row in &rows {
        created.push(customers::get(state, tenant, row.id()).await?);
    }
    Ok(created)
}

/// The customer behind network person `index` built from `request`'s spec, with its login.
fn new_customer(network: &Network, index: u64, request: NewSandboxCustomer) -> Result<NewCustomer> {
    let slot = Network::custom_slot(index).ok_or(Error::NetworkFull)?;
    let person = network
        .person_with(index, &request.spec)
        .ok_or_else(|| Error::Internal("custom person".into()))?;
    let identity = person.identity();
    let username = request.username.unwrap_or_else(|| {
        format!("{}.{}{}", person.firstname, person.lastname, slot).to_lowercase()
    });
    let password = request
        .password
        .unwrap_or_else(|| Alphanumeric.sample_string(&mut rand::rngs::OsRng, 12));
    let first_bank = person
        .accounts
        .first()
        .map(|a| a.bank.id.to_string())
        .unwrap_or_default();
    Ok(NewCustomer {
        sandbox: Some(SandboxLogin {
            bank: first_bank,
            username,
            password,
            spec: Some(
                serde_json::to_value(&request.spec).map_err(|e| Error::Internal(e.to_string()))?,
            ),
        }),
        sandbox_person: Some(index as i64),
        created_at: None,
        ..NewCustomer::from_identity(&identity)
    })
}

/// `customers/create`: makes every customer (at most [`MAX_PER_CALL`], checked by the request)
/// or, when any username is taken, none.
pub async fn create(
    state: &AppState,
    tenant: &Tenant,
    requests: Vec<NewSandboxCustomer>,
) -> Result<Vec<CustomerView>> {
    let network = network(state)?;
    create_all(state, tenant, &network, requests, Taken::Refuse).await
}

/// What `customers/generate` did.
pub enum Generated {
    /// The customers it created.
    Created(Vec<CustomerView>),
    /// With `create: false`: the specs and logins it would have used, nothing stored.
    Preview(Vec<(PersonSpec, Credentials)>),
}

/// `customers/generate`: `number` random specs (1 to [`MAX_PER_CALL`]); created unless `create`
/// is false.
pub async fn generate(
    state: &AppState,
    tenant: &Tenant,
    number: usize,
    create: bool,
) -> Result<Generated> {
    let network = network(state)?;
    let seed = rand::random::<u64>();
    let specs: Vec<(PersonSpec, Credentials)> = network.generate_specs(seed, number);
    if !create {
        return Ok(Generated::Preview(specs));
    }
    let requests = specs
        .into_iter()
        .map(|(spec, c)| NewSandboxCustomer {
            spec,
            username: Some(c.username),
            password: Some(c.password),
        })
        .collect();
    // A generated username can collide with an existing one: the server then names that customer.
    let created = create_all(state, tenant, &network, requests, Taken::Rename).await?;
    Ok(Generated::Created(created))
}
