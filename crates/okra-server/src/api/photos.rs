//! Photos of the simulated network's people (`photo_id[].url` of their identities): generated SVG
//! portraits, served by this server so nothing is loaded from other hosts. The token is opaque (it
//! is not the BVN), and the people are fictional.

use axum::extract::{Path, State};
use axum::response::{IntoResponse, Response};
use okra_core::Environment;

use crate::app::AppState;
use crate::http::ApiError;

/// A generated portrait.
#[utoipa::path(get, path = "/sandbox/photos/{token}", tag = "sandbox",
    params(("token" = String, Path, description = "Photo token from an identity's photo_id url")),
    responses((status = 200, description = "SVG image", content_type = "image/svg+xml"),
              (status = 404, description = "No such photo")))]
pub async fn photo(State(state): State<AppState>, Path(token): Path<String>) -> Response {
    let network = Environment::ALL
        .iter()
        .find_map(|env| state.sources.for_env(*env).network.clone());
    match network.and_then(|n| n.photo_svg(&token)) {
        Some(svg) => super::assets::svg_response(svg),
        None => ApiError::RouteNotFound.into_response(),
    }
}
