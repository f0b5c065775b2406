//! Static bank logos and icons, embedded in the binary (no other host is ever referenced).

use axum::extract::Path;
use axum::http::{header, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use include_dir::{include_dir, Dir};

use crate::http::ApiError;

static BANK_ASSETS: Dir<'static> = include_dir!("$CARGO_MANIFEST_DIR/assets/banks");

/// True when every bank of the catalogue has its four images (checked by a test).
pub fn has_asset(slug: &str, file: &str) -> bool {
    BANK_ASSETS.get_file(format!("{slug}/{file}")).is_some()
}

/// A bank's `icon.svg`, `logo.svg`, `v2_icon.svg` or `v2_logo.svg`.
#[utoipa::path(get, path = "/assets/banks/{slug}/{file}", tag = "banks",
    params(("slug" = String, Path, description = "Bank slug"),
           ("file" = String, Path, description = "icon.svg, logo.svg, v2_icon.svg or v2_logo.svg")),
    responses((status = 200, description = "SVG image", content_type = "image/svg+xml"),
              (status = 404, description = "No such image")))]
pub async fn bank_asset(Path((slug, file)): Path<(String, String)>) -> Response {
    if slug.contains("..") || file.contains("..") || !file.ends_with(".svg") {
        return ApiError::RouteNotFound.into_response();
    }
    match BANK_ASSETS.get_file(format!("{slug}/{file}")) {
        Some(f) => svg_response(f.contents().to_vec()),
        None => ApiError::RouteNotFound.into_response(),
    }
}

/// An SVG image response, cacheable for a day, never content-sniffed.
pub fn svg_response(body: impl Into<axum::body::Body>) -> Response {
    let mut res = (StatusCode::OK, body.into()).into_response();
    let h = res.headers_mut();
    h.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("image/svg+xml"),
    );
    h.insert(
        header::CACHE_CONTROL,
        HeaderValue::from_static("public, max-age=86400"),
    );
    h.insert(
        "x-content-type-options",
        HeaderValue::from_static("nosniff"),
    );
    res
}
