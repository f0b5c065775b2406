//! The success envelope `{"status":"success","message":…,"data":…}` with HTTP 200.

use axum::http::{header, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use serde::Serialize;
use utoipa::ToSchema;

/// A success response.
pub struct Success<T> {
    message: &'static str,
    data: T,
}

#[derive(Serialize)]
struct Envelope<'a, T> {
    status: &'static str,
    message: &'a str,
    data: &'a T,
}

/// Wraps `data` in the success envelope with `message`.
pub fn success<T: Serialize>(message: &'static str, data: T) -> Success<T> {
    Success { message, data }
}

/// A stored JSON answer sent again with its status.
pub fn replay(status: u16, body: Vec<u8>) -> Response {
    let status = StatusCode::from_u16(status).unwrap_or(StatusCode::OK);
    let mut res = (status, body).into_response();
    res.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/json; charset=utf-8"),
    );
    res.headers_mut()
        .insert("idempotent-replayed", HeaderValue::from_static("true"));
    res
}

/// The success envelope as `/openapi.json` documents it (`SuccessBody<Bank>` and so on), so every
/// operation's 200 shows `{status, message, data}` rather than `data` alone.
#[derive(ToSchema)]
pub struct SuccessBody<T> {
    /// Always `success`.
    #[schema(example = "success")]
    pub status: String,
    /// What was done (`Banks retrieved successfully`, …).
    pub message: String,
    /// The operation's result.
    pub data: T,
}

/// A JSON object whose fields the operation's documentation lists (the onSuccess payload, the
/// Record and Account objects): documented as a free-form object.
pub struct JsonObject;

impl utoipa::PartialSchema for JsonObject {
    fn schema() -> utoipa::openapi::RefOr<utoipa::openapi::schema::Schema> {
        utoipa::openapi::ObjectBuilder::new()
            .schema_type(utoipa::openapi::schema::Type::Object)
            .into()
    }
}

impl ToSchema for JsonObject {}

impl<T: Serialize> IntoResponse for Success<T> {
    fn into_response(self) -> Response {
        let body = Envelope {
            status: "success",
            message: self.message,
            data: &self.data,
        };
        match serde_json::to_vec(&body) {
            Ok(bytes) => {
                let mut res = (StatusCode::OK, bytes).into_response();
                res.headers_mut().insert(
                    header::CONTENT_TYPE,
                    HeaderValue::from_static("application/json; charset=utf-8"),
                );
                res
            }
            Err(e) => {
                super::ApiError::Internal(format!("serialising response: {e}")).into_response()
            }
        }
    }
}
