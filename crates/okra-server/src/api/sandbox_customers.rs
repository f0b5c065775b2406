//! Sandbox-only `customers/create` and `customers/generate` (okra-node's paths).

use std::str::FromStr;

use axum::extract::State;
use axum::response::{IntoResponse, Response};
use okra_core::body::{required, Body, Invalid};
use okra_core::schema;
use okra_core::source::Credentials;
use okra_core::validate::{bank_id, Rejection, Validate};
use okra_sandbox::{PersonSpec, Volume};
use serde::Serialize;
use serde_json::{json, Value};
use utoipa::ToSchema;

use super::customers::Customer;
use crate::app::AppState;
use crate::http::body::ValidJson;
use crate::http::envelope::SuccessBody;
use crate::http::error::ApiResult;
use crate::http::{success, SecretAuth};
use crate::services::sandbox_customers::{self, Generated, NewSandboxCustomer, MAX_PER_CALL};

/// Individual or company.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, ToSchema)]
#[serde(rename_all = "lowercase")]
pub enum CustomerType {
    /// An individual.
    Ind,
    /// A company.
    Corp,
}

/// One sandbox customer to create: an item of `customers/create`, and what
/// `customers/generate {create: false}` shows (so it can be sent back as it is).
///
/// Documented with no other fields (`additionalProperties: false`), so that the two forms of
/// `customers/generate`'s answer cannot both match one list.
#[derive(Clone, Debug, Serialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CustomerSpec {
    /// Full name of the individual, or the company's name (made up when absent).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    /// Bank id or slug of the first account.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub bank: Option<String>,
    /// Number of accounts, 1-5.
    #[serde(rename = "noOfAccount", skip_serializing_if = "Option::is_none")]
    #[schema(minimum = 1, maximum = 5)]
    pub no_of_account: Option<u8>,
    /// `ind` (default) or `corp`.
    #[serde(rename = "type", skip_serializing_if = "Option::is_none")]
    pub kind: Option<CustomerType>,
    /// `low`, `medium` (default) or `high`: how much money and activity the accounts carry.
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(value_type = Option<String>)]
    pub volume: Option<Volume>,
    /// How complete the identity profile is, 1-100.
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(minimum = 1, maximum = 100)]
    pub identity: Option<u8>,
    /// How fast the bank answers, 2-4 (4: at once).
    #[serde(rename = "internetSpeed", skip_serializing_if = "Option::is_none")]
    #[schema(minimum = 2, maximum = 4)]
    pub internet_speed: Option<u8>,
    /// Login username, 1-64 characters without spaces (made up when absent).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub username: Option<String>,
    /// Login password (random when absent).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub password: Option<String>,
}

impl CustomerSpec {
    /// The network's spec of this customer.
    fn person(&self) -> PersonSpec {
        PersonSpec {
            name: self.name.clone(),
            bank: self.bank.clone(),
            accounts: self.no_of_account,
            company: self.kind.map(|k| k == CustomerType::Corp),
            volume: self.volume.unwrap_or_default(),
            identity: self.identity,
            internet_speed: self.internet_speed,
        }
    }

    /// A generated spec and login, as `customers/create` takes them.
    fn generated(spec: PersonSpec, login: Credentials) -> Self {
        let kind = |company| match company {
            true => CustomerType::Corp,
            false => CustomerType::Ind,
        };
        CustomerSpec {
            name: spec.name,
            bank: spec.bank,
            no_of_account: spec.accounts,
            kind: spec.company.map(kind),
            volume: Some(spec.volume),
            identity: spec.identity,
            internet_speed: spec.internet_speed,
            username: Some(login.username),
            password: Some(login.password),
        }
    }
}

impl Validate for CustomerSpec {
    fn validate(value: Value) -> Result<Self, Rejection> {
        let body = Body::from_value(value)?;
        let bank = body.opt_str(&["bank"])?.map(|b| bank_id(&b)).transpose()?;
        let kind = match body.opt_str(&["type"])? {
            Some(t) => match PersonSpec::parse_type(&t).map_err(Invalid)? {
                true => Some(CustomerType::Corp),
                false => Some(CustomerType::Ind),
            },
            None => None,
        };
        let volume = match body.opt_str(&["volume"])? {
            Some(v) => Some(
                Volume::from_str(&v)
                    .map_err(|_| Invalid("`volume` must be one of low, medium, high".into()))?,
            ),
            None => None,
        };
        let small = |name, min, max| {
            body.opt_int_between(name, min, max)
                .map(|n| n.map(|n| n as u8))
        };
        let mut spec = CustomerSpec {
            name: body.opt_str(&["name"])?,
            bank,
            no_of_account: small("noOfAccount", 1, 5)?,
            kind,
            volume,
            identity: small("identity", 1, 100)?,
            internet_speed: small("internetSpeed", 2, 4)?,
            username: None,
            password: None,
        };
        spec.person().validate().map_err(Invalid)?;
        spec.username = body
            .opt_str(&["username"])?
            .filter(|u| !u.trim().is_empty());
        if let Some(u) = &spec.username {
            if u.chars().count() > 64 || u.chars().any(char::is_whitespace) {
                return Err(
                    Invalid("`username` must be 1-64 characters without spaces".into()).into(),
                );
            }
            if okra_core::body::has_control_or_invisible(u) {
                return Err(Invalid(
                    "`username` must not contain control or invisible characters".into(),
                )
                .into());
            }
        }
        spec.password = body.opt_str(&["password"])?.filter(|p| !p.is_empty());
        Ok(spec)
    }
}

/// Body of `customers/create`: 1-10 customer specifications (one object is taken as a list of one).
#[derive(Debug)]
pub struct CreateCustomersRequest(pub Vec<CustomerSpec>);

/// One customer specification, as `CustomerSpec::validate` takes it (`null`, inside a list, is
/// a specification with every field absent).
fn spec_schema(kind: Value) -> Value {
    let (bad, space) = (schema::CONTROL_OR_INVISIBLE, schema::SPACE);
    json!({
        "type": kind,
        "description": "One sandbox customer (every field optional: made up when absent)",
        "properties": {
            "name": {"type": ["string", "null"], "maxLength": 100,
                     "pattern": format!("^[^{bad}]*[^{space}{bad}][^{bad}]*$"),
                     "description": "Full name of the individual, or the company's name: 1 to \
                         100 characters, not only spaces, no control or invisible characters"},
            "bank": schema::opt_bank("Bank id or slug of the first account; an unknown one is \
                answered 400"),
            "noOfAccount": schema::small_int("Number of accounts, 1 to 5", 1, 5),
            "type": schema::opt_one_of_any_case(&["ind", "corp"], "`ind` (default) or `corp`"),
            "volume": schema::opt_one_of_any_case(&["low", "medium", "high"],
                "How much money and activity the accounts carry (default medium)"),
            "identity": schema::small_int("How complete the identity profile is, 1 to 100", 1, 100),
            "internetSpeed": schema::small_int("How fast the bank answers, 2 to 4 (4: at once)", 2, 4),
            // Read with `Body::opt_str` first: at most 1,024 characters, spaces included.
            "username": {"type": ["string", "null"], "maxLength": okra_core::body::MAX_STRING_LEN,
                         "pattern": format!("^([{space}]*|[^{space}{bad}]{{1,64}})$"),
                         "description": "Login username, 1 to 64 characters without spaces or \
                             control characters (made up when absent or empty)"},
            "password": schema::opt_text("Login password (random when absent or empty)"),
        }
    })
}

okra_core::request_schema!(
    CreateCustomersRequest,
    "SandboxCustomersCreate",
    json!({
        "description": "One customer specification, or 1 to 10 of them",
        "anyOf": [
            spec_schema(json!("object")),
            {"type": "array", "minItems": 1, "maxItems": MAX_PER_CALL,
             "items": spec_schema(json!(["object", "null"]))}
        ]
    })
);

impl Validate for CreateCustomersRequest {
    fn validate(value: Value) -> Result<Self, Rejection> {
        let items = match value {
            Value::Array(items) => items,
            Value::Object(_) => vec![value],
            Value::Null => return Err(required("body").into()),
            _ => return Err(Invalid("`body` must be an array of customers".into()).into()),
        };
        if items.is_empty() {
            return Err(Invalid("`body` must contain at least 1 items".into()).into());
        }
        if items.len() > MAX_PER_CALL {
            let message = format!("`body` must contain less than or equal to {MAX_PER_CALL} items");
            return Err(Invalid(message).into());
        }
        // Every item is checked before anything is created: a bad item changes nothing.
        let specs = items
            .into_iter()
            .map(CustomerSpec::validate)
            .collect::<Result<_, _>>()?;
        Ok(CreateCustomersRequest(specs))
    }
}

/// Body of `customers/generate`.
#[derive(Debug)]
pub struct GenerateRequest {
    /// How many customers, 1-10 (default 1).
    pub number: Option<u8>,
    /// `false` only shows the specs that would be used (default `true`).
    pub create: Option<bool>,
}

okra_core::request_schema!(
    GenerateRequest,
    "SandboxCustomersGenerate",
    schema::object(
        "Random sandbox customers",
        &[
            (
                "number",
                schema::small_int(
                    "How many customers, 1 to 10 (default 1)",
                    1,
                    MAX_PER_CALL as i64
                )
            ),
            (
                "create",
                schema::boolean("`false` only shows the specs that would be used (default true)")
            )
        ],
        &[]
    )
);

impl Validate for GenerateRequest {
    fn validate(value: Value) -> Result<Self, Rejection> {
        let body = Body::from_value(value)?;
        let number = body.opt_int_between("number", 1, MAX_PER_CALL as i64)?;
        Ok(GenerateRequest {
            number: number.map(|n| n as u8),
            create: body.opt_bool("create")?,
        })
    }
}

/// `data` of `customers/generate`: the customers created or, with `create: false`, the specs.
#[derive(Serialize, ToSchema)]
#[serde(untagged)]
pub enum GeneratedCustomers {
    /// The customers created, as `customers/create` returns them.
    Created(Vec<Customer>),
    /// Specs and logins that `customers/create` accepts as they are; nothing was stored.
    Preview(Vec<CustomerSpec>),
}

/// Creates people who can log in at a simulated bank (at most 10); each is a customer of the
/// owner at once.
#[utoipa::path(post, path = "/v2/sandbox/customers/create", tag = "sandbox",
    request_body = CreateCustomersRequest,
    responses((status = 200, description = "Customers created, with their sandbox logins", body = SuccessBody<Vec<Customer>>),
              (status = 400, description = "Unknown bank or username taken"),
              (status = 401, description = "Unauthorized"),
              (status = 422, description = "Invalid specification")),
    security(("bearer" = [])))]
pub async fn create(
    SecretAuth(tenant): SecretAuth,
    State(state): State<AppState>,
    ValidJson(CreateCustomersRequest(specs)): ValidJson<CreateCustomersRequest>,
) -> ApiResult<Response> {
    let requests = specs
        .into_iter()
        .map(|s| NewSandboxCustomer {
            spec: s.person(),
            username: s.username,
            password: s.password,
        })
        .collect();
    let created = sandbox_customers::create(&state, &tenant, requests).await?;
    let data: Vec<Customer> = created.into_iter().map(Customer::from).collect();
    Ok(success("Customers created successfully", data).into_response())
}

/// Creates `number` (1-10) random sandbox customers; with `create: false` only shows the specs.
#[utoipa::path(post, path = "/v2/sandbox/customers/generate", tag = "sandbox",
    request_body = GenerateRequest,
    responses((status = 200, description = "Customers generated", body = SuccessBody<GeneratedCustomers>),
              (status = 401, description = "Unauthorized"),
              (status = 422, description = "Invalid number")),
    security(("bearer" = [])))]
pub async fn generate(
    SecretAuth(tenant): SecretAuth,
    State(state): State<AppState>,
    ValidJson(request): ValidJson<GenerateRequest>,
) -> ApiResult<Response> {
    let number = usize::from(request.number.unwrap_or(1));
    let create = request.create.unwrap_or(true);
    let data = match sandbox_customers::generate(&state, &tenant, number, create).await? {
        Generated::Created(made) => {
            GeneratedCustomers::Created(made.into_iter().map(Customer::from).collect())
        }
        Generated::Preview(specs) => GeneratedCustomers::Preview(
            specs
                .into_iter()
                .map(|(spec, login)| CustomerSpec::generated(spec, login))
                .collect(),
        ),
    };
    Ok(success("Customers generated successfully", data).into_response())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_generated_preview_is_a_valid_create_item() {
        let network = okra_sandbox::Network::new(2020, 10_000);
        for seed in 0..50 {
            for (spec, login) in network.generate_specs(seed, MAX_PER_CALL) {
                let shown = serde_json::to_value(CustomerSpec::generated(spec.clone(), login))
                    .expect("serialises");
                let item = CustomerSpec::validate(shown.clone())
                    .unwrap_or_else(|e| panic!("{shown} refused: {e}"));
                // The same person: only the bank is normalised from its slug to its id.
                let bank = spec.bank.as_deref().map(|b| bank_id(b).unwrap());
                assert_eq!(item.person(), PersonSpec { bank, ..spec }, "{shown}");
            }
        }
    }
}
