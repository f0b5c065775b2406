//! CORS for the routes browsers call.
//!
//! Okra's API was called from servers holding a secret key; a browser never needs to read a
//! secret-key route, and answering CORS there only helps a hostile page that got hold of a key.
//! So the secret-key routes answer no CORS headers at all, and the routes a publishable key opens
//! (link sessions, the widget) get [`layer`]: the origins of `cors_origins` (`*` for any), the
//! methods and headers Okra's reference shows, and never `Access-Control-Allow-Credentials` —
//! the publishable key travels in the request, no cookie is involved.

use axum::http::{HeaderName, HeaderValue, Method};
use tower_http::cors::{AllowOrigin, CorsLayer};

use super::middleware::REQUEST_ID;

/// The CORS layer for publishable-key routes, allowing `origins` (`*` allows any).
pub fn layer(origins: &[String]) -> CorsLayer {
    let allow_origin = if origins.iter().any(|o| o.trim() == "*") {
        AllowOrigin::any()
    } else {
        AllowOrigin::list(
            origins
                .iter()
                .filter_map(|o| HeaderValue::from_str(o.trim().trim_end_matches('/')).ok()),
        )
    };
    CorsLayer::new()
        .allow_origin(allow_origin)
        .allow_credentials(false)
        .allow_methods([
            Method::GET,
            Method::POST,
            Method::OPTIONS,
            Method::PUT,
            Method::PATCH,
            Method::DELETE,
        ])
        .allow_headers([
            HeaderName::from_static("x-requested-with"),
            HeaderName::from_static("content-type"),
            HeaderName::from_static("authorization"),
            HeaderName::from_static(REQUEST_ID),
            HeaderName::from_static("idempotency-key"),
        ])
        .expose_headers([HeaderName::from_static(REQUEST_ID)])
}

#[cfg(test)]
mod tests {
    use axum::body::Body;
    use axum::http::{header, Request, StatusCode};
    use axum::routing::post;
    use axum::Router;
    use tower::ServiceExt;

    async fn preflight(origins: &[&str], origin: &str) -> axum::http::Response<Body> {
        let origins: Vec<String> = origins.iter().map(|s| s.to_string()).collect();
        let app = Router::new()
            .route("/link", post(|| async { "ok" }))
            .layer(super::layer(&origins));
        let req = Request::builder()
            .method("OPTIONS")
            .uri("/link")
            .header(header::ORIGIN, origin)
            .header(header::ACCESS_CONTROL_REQUEST_METHOD, "POST")
            .header(header::ACCESS_CONTROL_REQUEST_HEADERS, "content-type")
            .body(Body::empty())
            .unwrap();
        app.oneshot(req).await.unwrap()
    }

    #[tokio::test]
    async fn configured_origins_only_and_never_credentials() {
        let ok = preflight(&["https://shop.example/"], "https://shop.example").await;
        assert_eq!(ok.status(), StatusCode::OK);
        let h = ok.headers();
        assert_eq!(
            h[header::ACCESS_CONTROL_ALLOW_ORIGIN],
            "https://shop.example"
        );
        assert!(!h.contains_key(header::ACCESS_CONTROL_ALLOW_CREDENTIALS));
        // The methods and headers Okra's reference shows.
        let methods = h[header::ACCESS_CONTROL_ALLOW_METHODS].to_str().unwrap();
        for m in ["GET", "POST", "OPTIONS", "PUT", "PATCH", "DELETE"] {
            assert!(methods.contains(m), "{methods}");
        }
        let allowed = h[header::ACCESS_CONTROL_ALLOW_HEADERS]
            .to_str()
            .unwrap()
            .to_lowercase();
        for name in ["x-requested-with", "content-type", "authorization"] {
            assert!(allowed.contains(name), "{allowed}");
        }

        let other = preflight(&["https://shop.example"], "https://evil.example").await;
        assert!(!other
            .headers()
            .contains_key(header::ACCESS_CONTROL_ALLOW_ORIGIN));

        let any = preflight(&["*"], "https://anyone.example").await;
        assert_eq!(any.headers()[header::ACCESS_CONTROL_ALLOW_ORIGIN], "*");
        assert!(!any
            .headers()
            .contains_key(header::ACCESS_CONTROL_ALLOW_CREDENTIALS));
    }
}
