//! `/docs` in a real browser with every other host refused (as on a machine without internet
//! access): Swagger UI renders every operation of `/openapi.json` from files this server serves.

use std::path::Path;
use std::process::Command;

use serde_json::Value;

use crate::clients::clients_dir;
use crate::common::{Backend, TestServer};
use crate::widget_browser::chromium;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_docs_page_renders_every_operation_offline() {
    let Some(browser) = chromium() else { return };
    let Some(dir) = clients_dir() else { return };
    let s = TestServer::start(Backend::Sqlite).await;
    let doc = s.get("/openapi.json", None).await.json();
    // Swagger UI shows each webhook as an operation too.
    let operations: usize = doc["paths"]
        .as_object()
        .unwrap()
        .values()
        .chain(doc["webhooks"].as_object().unwrap().values())
        .map(|item| item.as_object().unwrap().len())
        .sum();
    let shot = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../target/docs-page.png");
    let mut cmd = Command::new("node");
    cmd.arg("docs_browser.mjs")
        .current_dir(&dir)
        .env("CHROMIUM", browser)
        .env("OKRA_BASE_URL", &s.base)
        .env("OKRA_SCREENSHOT", &shot);
    let out = tokio::task::spawn_blocking(move || cmd.output().expect("node runs"))
        .await
        .unwrap();
    assert!(
        out.status.success(),
        "docs_browser.mjs: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    let seen: Value = serde_json::from_slice(&out.stdout).expect("the script prints JSON");
    assert!(seen.get("failure").is_none(), "in the browser: {seen}");
    assert_eq!(
        seen["refused"],
        serde_json::json!([]),
        "nothing from another host"
    );
    assert_eq!(seen["consoleErrors"], serde_json::json!([]));
    assert!(seen["title"].as_str().unwrap().contains("okra-server"));
    let paths: Vec<&str> = seen["paths"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| p.as_str().unwrap().trim_end_matches('\u{200b}').trim())
        .collect();
    assert_eq!(
        paths.len(),
        operations,
        "one block per operation and webhook"
    );
    for path in [
        "/v2/sandbox/identity/getByBvn",
        "/v2/balance/refresh",
        "/widget/api/login",
    ] {
        assert!(
            paths.iter().any(|p| p.replace('\u{200b}', "") == path),
            "{path} is shown"
        );
    }
    let codes: Vec<&str> = seen["responseCodes"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c.as_str().unwrap().trim())
        .collect();
    for code in ["200", "400", "401", "422", "429", "503"] {
        assert!(
            codes.contains(&code),
            "getByBvn documents {code}: {codes:?}"
        );
    }
    s.stop().await;
}
