//! Sandbox customers (Okra "Sandbox 2.0", docs/api.md §10.5): people an owner creates in the simulated
//! network. Each is a custom person of the network (okra-sandbox's reserved index range) built from
//! the stored specification, and a Customer of the owner at once, as if identity had been verified.

use std::collections::HashSet;
use std::str::FromStr;
use std::sync::Arc;

use okra_core::body::{Body, Invalid};
use okra_core::id::new_id;
use okra_core::source::Credentials;
use okra_core::Environment;
use okra_sandbox::{Network, PersonSpec, Volume, CUSTOM_BASE};
use okra_store::bulk::CustomerRow;
use okra_store::customers::{login_index, CustomerPii, Duplicate, NewCustomer, SandboxLogin};
use okra_store::{StoreError, Tenant};
use rand::distributions::{Alphanumeric, DistString};
use serde_json::Value;

use crate::app::AppState;
use crate::http::error::ApiResult;
use crate::http::ApiError;
use crate::services::customers::{self, Customer};

/// Most customers one `customers/create` or `customers/generate` call makes.
pub const MAX_PER_CALL: usize = 10;

fn network(state: &AppState) -> ApiResult<Arc<Network>> {
    state
        .sources
        .for_env(Environment::Sandbox)
        .network
        .clone()
        .ok_or_else(|| {
            ApiError::BadRequest(
                "Sandbox customers need the simulated bank network (sandbox_source = simulated)"
                    .into(),
            )
        })
}

/// One requested customer: the spec and the login (generated when not given).
struct Request {
    spec: PersonSpec,
    username: Option<String>,
    password: Option<String>,
}

fn parse_item(item: Value) -> ApiResult<Request> {
    let body = Body::from_value(item)?;
    let bank = match body.opt_str(&["bank"])? {
        Some(b) => Some(
            okra_core::banks::find(&b)
                .ok_or(ApiError::UnknownBank(b.clone()))?
                .id
                .to_string(),
        ),
        None => None,
    };
    let company = match body.opt_str(&["type"])? {
        Some(t) => Some(PersonSpec::parse_type(&t).map_err(Invalid)?),
        None => None,
    };
    let volume = match body.opt_str(&["volume"])? {
        Some(v) => Volume::from_str(&v)
            .map_err(|_| Invalid("`volume` must be one of low, medium, high".into()))?,
        None => Volume::default(),
    };
    let spec = PersonSpec {
        name: body.opt_str(&["name"])?,
        bank,
        accounts: body.opt_int_between("noOfAccount", 1, 5)?.map(|n| n as u8),
        company,
        volume,
        identity: body.opt_int_between("identity", 1, 100)?.map(|n| n as u8),
        internet_speed: body
            .opt_int_between("internetSpeed", 2, 4)?
            .map(|n| n as u8),
    };
    spec.validate().map_err(Invalid)?;
    let username = body
        .opt_str(&["username"])?
        .filter(|u| !u.trim().is_empty());
    if let Some(u) = &username {
        if u.len() > 64 || u.chars().any(char::is_whitespace) {
            return Err(Invalid("`username` must be 1-64 characters without spaces".into()).into());
        }
    }
    let password = body.opt_str(&["password"])?.filter(|p| !p.is_empty());
    Ok(Request {
        spec,
        username,
        password,
    })
}

fn username_taken(username: &str) -> ApiError {
    ApiError::BadRequest(format!(
        "A sandbox customer with the username {username} already exists"
    ))
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
    mut requests: Vec<Request>,
    taken: Taken,
) -> ApiResult<Vec<Customer>> {
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
    let first = okra_store::customers::reserve_sandbox_persons(
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
            return Err(ApiError::Conflict);
        }
        None => {}
    }
    match okra_store::bulk::insert_customers(tx.conn(), tenant, &rows).await {
        // Only a concurrent request (PostgreSQL) can take a name between the check and here.
        Err(StoreError::Conflict(m)) if m.contains("sandbox_login") => {
            return Err(ApiError::BadRequest(
                "A sandbox customer with this username already exists".into(),
            ))
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
fn new_customer(network: &Network, index: u64, request: Request) -> ApiResult<NewCustomer> {
    let slot = Network::custom_slot(index)
        .ok_or_else(|| ApiError::BadRequest("The sandbox network is full".into()))?;
    let person = network
        .person_with(index, &request.spec)
        .ok_or_else(|| ApiError::Internal("custom person".into()))?;
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
        name: identity.fullname.clone(),
        bvn: identity.bvn.clone(),
        pii: CustomerPii {
            nin: identity.nin.clone(),
            phones: identity.phones.clone(),
            emails: identity.emails.clone(),
        },
        sandbox: Some(SandboxLogin {
            bank: first_bank,
            username,
            password,
            spec: Some(
                serde_json::to_value(&request.spec)
                    .map_err(|e| ApiError::Internal(e.to_string()))?,
            ),
        }),
        sandbox_person: Some(index as i64),
        created_at: None,
    })
}

/// `customers/create`: a list (or one object) of specs.
pub async fn create(state: &AppState, tenant: &Tenant, payload: Value) -> ApiResult<Vec<Customer>> {
    let items = match payload {
        Value::Array(items) => items,
        Value::Object(_) => vec![payload],
        Value::Null => return Err(okra_core::body::required("body").into()),
        _ => return Err(Invalid("`body` must be an array of customers".into()).into()),
    };
    if items.is_empty() {
        return Err(Invalid("`body` must contain at least 1 items".into()).into());
    }
    if items.len() > MAX_PER_CALL {
        return Err(Invalid(format!(
            "`body` must contain less than or equal to {MAX_PER_CALL} items"
        ))
        .into());
    }
    // Validate everything before creating anything: a bad item changes nothing.
    let requests = items
        .into_iter()
        .map(parse_item)
        .collect::<ApiResult<Vec<_>>>()?;
    let network = network(state)?;
    create_all(state, tenant, &network, requests, Taken::Refuse).await
}

/// `customers/generate {number, create}`: random specs; created unless `create` is false, in which
/// case the specs and logins that would be used are returned.
pub async fn generate(state: &AppState, tenant: &Tenant, body: &Body) -> ApiResult<Value> {
    let number = body
        .opt_int_between("number", 1, MAX_PER_CALL as i64)?
        .unwrap_or(1) as usize;
    let create = body.opt_bool("create")?.unwrap_or(true);
    let network = network(state)?;
    let seed = rand::random::<u64>();
    let specs: Vec<(PersonSpec, Credentials)> = network.generate_specs(seed, number);
    if !create {
        let list: Vec<Value> = specs
            .into_iter()
            .map(|(spec, c)| serde_json::json!({"spec": spec, "username": c.username, "password": c.password}))
            .collect();
        return Ok(Value::Array(list));
    }
    let requests = specs
        .into_iter()
        .map(|(spec, c)| Request {
            spec,
            username: Some(c.username),
            password: Some(c.password),
        })
        .collect();
    // A generated username can collide with an existing one: the server then names that customer.
    let created = create_all(state, tenant, &network, requests, Taken::Rename).await?;
    serde_json::to_value(created).map_err(|e| ApiError::Internal(e.to_string()))
}
