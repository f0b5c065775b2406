//! The list of every operation's typed request: its schema's name, its schema and its
//! validation. `/openapi.json` takes the schemas from here, and the `request_bodies` fuzz target
//! (fuzz/) checks the two against each other: a body validation accepts must be valid by the
//! schema. A typed request missing here leaves a dangling `$ref`, which the OpenAPI test reports.

use okra_core::schema::RequestSchema;
use okra_core::validate::{Rejection, Validate};
use serde_json::Value;

use super::{balance, customers, faults, identity, kyc, linking, records};
use super::{sandbox_customers, webhooks, widget};

/// One typed request.
pub struct TypedRequest {
    /// Its schema's name in `components.schemas`.
    pub name: &'static str,
    /// Its JSON Schema.
    pub schema: fn() -> Value,
    /// Its validation of a parsed body (`null` when the body was empty).
    pub validate: fn(Value) -> Result<(), Rejection>,
}

fn typed<T: RequestSchema + Validate>() -> TypedRequest {
    TypedRequest {
        name: T::NAME,
        schema: T::json_schema,
        validate: |value| T::validate(value).map(|_| ()),
    }
}

/// Every typed request a JSON body is read into.
pub fn typed_requests() -> Vec<TypedRequest> {
    vec![
        typed::<super::IdRequest>(),
        typed::<okra_core::validate::Paging>(),
        typed::<customers::CustomerIdRequest>(),
        typed::<records::CustomerAccountsRequest>(),
        typed::<webhooks::TriggerRequest>(),
        typed::<identity::IdentityIdRequest>(),
        typed::<identity::BvnRequest>(),
        typed::<identity::NubanRequest>(),
        typed::<identity::CustomerList>(),
        typed::<identity::DateList>(),
        typed::<identity::CustomerDateList>(),
        typed::<identity::OptionsList>(),
        typed::<kyc::CustomerVerify>(),
        typed::<kyc::BvnVerify>(),
        typed::<kyc::NubanVerify>(),
        typed::<kyc::NubanNameVerify>(),
        typed::<kyc::WalletRequest>(),
        typed::<balance::ById>(),
        typed::<balance::ByAccount>(),
        typed::<balance::ByCustomer>(),
        typed::<balance::ByDate>(),
        typed::<balance::ByCustomerDate>(),
        typed::<balance::ByOptions>(),
        typed::<balance::ByType>(),
        typed::<balance::AllBalances>(),
        typed::<balance::BalanceRunRequest>(),
        typed::<faults::FaultCreateRequest>(),
        typed::<faults::NoFields>(),
        typed::<sandbox_customers::CreateCustomersRequest>(),
        typed::<sandbox_customers::GenerateRequest>(),
        typed::<linking::NewLinkRequest>(),
        typed::<linking::ConnectBody>(),
        typed::<widget::LoginBody>(),
        typed::<widget::ConnectBody>(),
    ]
}
