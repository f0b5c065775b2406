//! Sandbox customers (Okra "Sandbox 2.0", CONTRACT §6): people an owner creates in the simulated
//! network. Each is a custom person of the network (okra-sandbox's reserved index range) built from
//! the stored specification, and a Customer of the owner at once, as if identity had been verified.

use std::str::FromStr;
use std::sync::Arc;

use okra_core::body::{Body, Invalid};
use okra_core::source::Credentials;
use okra_core::Environment;
use okra_sandbox::{Network, PersonSpec, Volume, CUSTOM_BASE};
use okra_store::customers::{CustomerPii, NewCustomer, SandboxLogin};
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

/// Creates one customer; retries when another request took the same network slot.
async fn create_one(
    state: &AppState,
    tenant: &Tenant,
    network: &Network,
    request: Request,
) -> ApiResult<Customer> {
    let keyring = state.keyring();
    if let Some(u) = &request.username {
        if okra_store::customers::find_by_login(&state.db, &keyring, tenant, u)
            .await?
            .is_some()
        {
            return Err(ApiError::BadRequest(format!(
                "A sandbox customer with the username {u} already exists"
            )));
        }
    }
    for _ in 0..5 {
        let mut tx = state.db.begin().await?;
        let slot = okra_store::customers::next_sandbox_slot(tx.conn(), CUSTOM_BASE as i64).await?;
        let index = Network::custom_index(slot as u64)
            .ok_or_else(|| ApiError::BadRequest("The sandbox network is full".into()))?;
        let person = network
            .person_with(index, &request.spec)
            .ok_or_else(|| ApiError::Internal("custom person".into()))?;
        let identity = person.identity();
        let username = request.username.clone().unwrap_or_else(|| {
            format!("{}.{}{}", person.firstname, person.lastname, slot).to_lowercase()
        });
        let password = request
            .password
            .clone()
            .unwrap_or_else(|| Alphanumeric.sample_string(&mut rand::rngs::OsRng, 12));
        let first_bank = person
            .accounts
            .first()
            .map(|a| a.bank.id.to_string())
            .unwrap_or_default();
        let new = NewCustomer {
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
        };
        match okra_store::customers::insert(tx.conn(), &keyring, tenant, &new).await {
            Ok(id) => {
                tx.commit().await?;
                return customers::get(state, tenant, &id).await;
            }
            Err(StoreError::Conflict(m)) if m.contains("sandbox_person") => continue,
            Err(StoreError::Conflict(m)) if m.contains("sandbox_login") => {
                return Err(ApiError::BadRequest(
                    "A sandbox customer with this username already exists".into(),
                ))
            }
            Err(e) => return Err(e.into()),
        }
    }
    Err(ApiError::DbUnavailable)
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
    let mut created = Vec::with_capacity(requests.len());
    for request in requests {
        created.push(create_one(state, tenant, &network, request).await?);
    }
    Ok(created)
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
    let mut created = Vec::with_capacity(specs.len());
    for (spec, c) in specs {
        let request = Request {
            spec: spec.clone(),
            username: Some(c.username),
            password: Some(c.password.clone()),
        };
        let customer = match create_one(state, tenant, &network, request).await {
            // A generated username can collide with an earlier one: let the server name it.
            Err(ApiError::BadRequest(_)) => {
                let request = Request {
                    spec,
                    username: None,
                    password: Some(c.password),
                };
                create_one(state, tenant, &network, request).await?
            }
            other => other?,
        };
        created.push(customer);
    }
    serde_json::to_value(created).map_err(|e| ApiError::Internal(e.to_string()))
}
