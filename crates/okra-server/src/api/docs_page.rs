//! `/docs`: Swagger UI over `/openapi.json`. Its files are compiled into the binary (the vendored
//! copy of `utoipa-swagger-ui`), so the page works on a machine without internet access and loads
//! nothing from another host.

use std::sync::{Arc, LazyLock};

use axum::extract::Path;
use axum::http::{header, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Redirect, Response};
use utoipa_swagger_ui::Config;

use crate::http::ApiError;

static CONFIG: LazyLock<Arc<Config<'static>>> = LazyLock::new(|| {
    Arc::new(
        Config::new(["/openapi.json"])
            .display_operation_id(false)
            .filter(true)
            .persist_authorization(false)
            // No third-party validator badge: it would call validator.swagger.io.
            .validator_url("none"),
    )
});

/// The page's policy: everything from this server; Swagger UI sets inline styles and shows
/// `data:` images.
const CSP: &str = "default-src 'none'; script-src 'self'; style-src 'self' 'unsafe-inline'; \
                   img-src 'self' data:; font-src 'self'; connect-src 'self'; base-uri 'none'; \
                   form-action 'none'; frame-ancestors 'none'";

fn serve(file: &str) -> Response {
    let found = match utoipa_swagger_ui::serve(file, CONFIG.clone()) {
        Ok(found) => found,
        Err(e) => return ApiError::Internal(format!("swagger ui: {e}")).into_response(),
    };
    let Some(file) = found else {
        return ApiError::RouteNotFound.into_response();
    };
    let mut res = (StatusCode::OK, file.bytes.into_owned()).into_response();
    let h = res.headers_mut();
    if let Ok(v) = HeaderValue::from_str(&file.content_type) {
        h.insert(header::CONTENT_TYPE, v);
    }
    h.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-cache"));
    h.insert(
        header::CONTENT_SECURITY_POLICY,
        HeaderValue::from_static(CSP),
    );
    h.insert(
        "x-content-type-options",
        HeaderValue::from_static("nosniff"),
    );
    h.insert(
        header::REFERRER_POLICY,
        HeaderValue::from_static("no-referrer"),
    );
    res
}

/// `/docs` → `/docs/` (the page's files are relative to it).
#[utoipa::path(get, path = "/docs", tag = "operations",
    responses((status = 303, description = "To /docs/")))]
pub async fn redirect() -> Redirect {
    Redirect::to("/docs/")
}

/// The API documentation page (Swagger UI over `/openapi.json`), served offline.
#[utoipa::path(get, path = "/docs/", tag = "operations",
    responses((status = 200, description = "The documentation page", content_type = "text/html")))]
pub async fn index() -> Response {
    serve("index.html")
}

/// One of the documentation page's files (scripts, styles, icons).
#[utoipa::path(get, path = "/docs/{file}", tag = "operations",
    params(("file" = String, Path, description = "A file of the page, e.g. swagger-ui-bundle.js")),
    responses((status = 200, description = "The file"),
              (status = 404, description = "No such file")))]
pub async fn file(Path(file): Path<String>) -> Response {
    serve(&file)
}
