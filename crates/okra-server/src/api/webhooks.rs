//! `webhooks/deliveries` (every delivery attempt, newest first) and `callback/trigger` (send a
//! record's webhooks again).

use axum::extract::State;
use axum::response::{IntoResponse, Response};
use okra_core::body::{Body, Invalid};
use okra_core::id::ObjectId;
use okra_core::schema;
use okra_core::validate::{Paging, Rejection, Validate};
use serde_json::{json, Value};

use crate::app::AppState;
use crate::http::body::ValidJson;
use crate::http::envelope::{JsonObject, SuccessBody};
use crate::http::error::ApiResult;
use crate::http::{success, SecretAuth};
use crate::services::webhooks::admin;

/// The tenant's webhook delivery attempts: `{pagination, deliveries:[{id, webhook_id, record,
/// event, attempt, url, status_code, error, duration_ms, status, created_at}]}`.
#[utoipa::path(post, path = "/v2/webhooks/deliveries", tag = "webhooks",
    request_body = Paging,
    responses((status = 200, description = "Deliveries retrieved", body = SuccessBody<JsonObject>),
              (status = 401, description = "Unauthorized"),
              (status = 422, description = "Invalid page or limit")),
    security(("bearer" = [])))]
pub async fn deliveries(
    SecretAuth(tenant): SecretAuth,
    State(state): State<AppState>,
    ValidJson(paging): ValidJson<Paging>,
) -> ApiResult<Response> {
    let page = admin::deliveries(&state, &tenant, paging.or_default()).await?;
    let list: Vec<Value> = (page.deliveries.iter())
        .map(|d| {
            json!({
                "id": d.id,
                "webhook_id": d.message_id,
                "record": d.record_id,
                "event": d.event_code,
                "attempt": d.attempt,
                "url": d.url,
                "status_code": d.status_code,
                "error": d.error,
                "duration_ms": d.duration_ms,
                "status": d.message_status,
                "created_at": okra_core::time::iso_ms(d.created_at),
            })
        })
        .collect();
    let data = json!({"pagination": page.pagination, "deliveries": list});
    Ok(success("Deliveries retrieved successfully", data).into_response())
}

/// Body of `callback/trigger`.
#[derive(Debug)]
pub struct TriggerRequest {
    /// Records whose webhooks are sent again (1–100 ids).
    pub record_ids: Vec<String>,
    /// Send them here instead of where they went.
    pub url: Option<String>,
}

okra_core::request_schema!(
    TriggerRequest,
    "CallbackTrigger",
    schema::object(
        "Records whose webhooks are sent again",
        &[
            (
                "recordIds",
                serde_json::json!({
                    "type": "array", "minItems": 1, "maxItems": 100,
                    "items": {"type": "string", "pattern": schema::ID_PATTERN},
                    "description": "Record ids (1 to 100)"
                })
            ),
            (
                "url",
                schema::webhook_url("Send them here instead of where they went")
            )
        ],
        &["recordIds"]
    )
);

impl Validate for TriggerRequest {
    fn validate(value: Value) -> Result<Self, Rejection> {
        let body = Body::from_value(value)?;
        let record_ids = body
            .opt_str_array("recordIds", 100)?
            .filter(|ids| !ids.is_empty())
            .ok_or_else(|| Invalid("`recordIds` is a required input".into()))?;
        for (i, id) in record_ids.iter().enumerate() {
            if !ObjectId::is_valid(id) {
                return Err(Invalid(format!("`recordIds[{i}]` must be a valid id")).into());
            }
        }
        let record_ids = record_ids.iter().map(|i| i.to_ascii_lowercase()).collect();
        let url = body.opt_str(&["url"])?.filter(|u| !u.trim().is_empty());
        if let Some(u) = &url {
            crate::services::linking::check_webhook_url_shape("url", u)?;
        }
        Ok(TriggerRequest { record_ids, url })
    }
}

/// Sends every webhook of the records again, as new attempts of the same messages (same
/// `webhook-id`), to `url` when given.
#[utoipa::path(post, path = "/v2/callback/trigger", tag = "webhooks",
    request_body = TriggerRequest,
    responses((status = 200, description = "Webhooks queued", body = SuccessBody<JsonObject>),
              (status = 400, description = "A record does not exist"),
              (status = 401, description = "Unauthorized"),
              (status = 422, description = "Missing or malformed recordIds, or a URL the policy refuses")),
    security(("bearer" = [])))]
pub async fn trigger(
    SecretAuth(tenant): SecretAuth,
    State(state): State<AppState>,
    ValidJson(request): ValidJson<TriggerRequest>,
) -> ApiResult<Response> {
    let done = admin::trigger(&state, &tenant, &request.record_ids, request.url.as_deref()).await?;
    let data = json!({"recordIds": done.record_ids, "webhooks": done.messages});
    Ok(success("Webhooks queued successfully", data).into_response())
}
