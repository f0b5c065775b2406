//! How domain errors of the services are answered over HTTP (docs/api.md §4). The services say
//! what went wrong; only this mapping knows the statuses and the reference's wording.

use crate::http::ApiError;
use crate::services::Error;

impl From<Error> for ApiError {
    fn from(e: Error) -> Self {
        match e {
            // Lookups that name one object answer 400 in Okra's API, not 404.
            Error::NotFound(what) => ApiError::BadRequest(format!("{what} not found")),
            Error::UsernameTaken(Some(u)) => ApiError::BadRequest(format!(
                "A sandbox customer with the username {u} already exists"
            )),
            Error::UsernameTaken(None) => {
                ApiError::BadRequest("A sandbox customer with this username already exists".into())
            }
            Error::NoSimulatedNetwork => ApiError::BadRequest(
                "Sandbox customers need the simulated bank network (sandbox_source = simulated)"
                    .into(),
            ),
            Error::NetworkFull => ApiError::BadRequest("The sandbox network is full".into()),
            Error::Refused(message) => ApiError::BadRequest(message),
            Error::UnknownBank(name) => ApiError::UnknownBank(name),
            Error::Invalid(message) => ApiError::Validation(message),
            Error::Source(e) => e.into(),
            Error::Conflict => ApiError::Conflict,
            Error::IdempotencyMismatch => ApiError::Validation(
                "`Idempotency-Key` was already used with a different request".into(),
            ),
            Error::IdempotencyRunning => ApiError::InFlight,
            Error::Store(e) => e.into(),
            Error::Internal(detail) => ApiError::Internal(detail),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn domain_errors_keep_the_reference_wording() {
        let message = |e: Error| ApiError::from(e).parts().1["message"].clone();
        assert_eq!(message(Error::NotFound("Customer")), "Customer not found");
        assert_eq!(
            message(Error::UsernameTaken(Some("ada".into()))),
            "A sandbox customer with the username ada already exists"
        );
        assert_eq!(ApiError::from(Error::Conflict).parts().0.as_u16(), 409);
    }
}
