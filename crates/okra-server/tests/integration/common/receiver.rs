//! An in-process webhook receiver on 127.0.0.1: records every delivery (headers and body) and
//! answers as the test's policy says.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use axum::body::Bytes;
use axum::http::{HeaderMap, StatusCode};
use axum::routing::post;
use axum::Router;
use serde_json::Value;

/// How the receiver answers.
#[derive(Clone, Copy, Debug)]
pub enum Answer {
    /// 200 to everything.
    Ok,
    /// 500 to the first attempt of each `webhook-id`, 200 after.
    FailFirst,
    /// Always this status.
    Always(u16),
}

/// One delivery as received.
#[derive(Clone, Debug)]
pub struct Delivery {
    /// Header values, names lower-cased.
    pub headers: HashMap<String, String>,
    /// The raw body.
    pub raw: String,
    /// The status the receiver answered.
    pub answered: u16,
}

impl Delivery {
    pub fn json(&self) -> Value {
        serde_json::from_str(&self.raw).expect("webhook body is JSON")
    }
    pub fn header(&self, name: &str) -> &str {
        self.headers.get(name).map(String::as_str).unwrap_or("")
    }
    pub fn code(&self) -> String {
        self.json()["code"].as_str().unwrap_or("").to_string()
    }
}

/// A running receiver.
pub struct Receiver {
    /// Where to send webhooks.
    pub url: String,
    got: Arc<Mutex<Vec<Delivery>>>,
    task: tokio::task::JoinHandle<()>,
}

impl Receiver {
    pub async fn start(answer: Answer) -> Receiver {
        Self::start_on("127.0.0.1:0", answer).await
    }

    /// A receiver on a given address (a port reserved earlier, so deliveries fail until it
    /// listens).
    pub async fn start_on(addr: &str, answer: Answer) -> Receiver {
        let got: Arc<Mutex<Vec<Delivery>>> = Arc::default();
        let seen = got.clone();
        let app = Router::new().route(
            "/hook",
            post(move |headers: HeaderMap, body: Bytes| {
                let seen = seen.clone();
                async move {
                    let headers: HashMap<String, String> = (headers.iter())
                        .map(|(k, v)| {
                            (k.as_str().to_string(), v.to_str().unwrap_or("").to_string())
                        })
                        .collect();
                    let mut list = seen.lock().unwrap();
                    let id = headers.get("webhook-id").cloned().unwrap_or_default();
                    let earlier = list.iter().filter(|d| d.header("webhook-id") == id).count();
                    let status = match answer {
                        Answer::Ok => 200,
                        Answer::FailFirst if earlier == 0 => 500,
                        Answer::FailFirst => 200,
                        Answer::Always(s) => s,
                    };
                    list.push(Delivery {
                        headers,
                        raw: String::from_utf8_lossy(&body).into_owned(),
                        answered: status,
                    });
                    StatusCode::from_u16(status).unwrap()
                }
            }),
        );
        let listener = tokio::net::TcpListener::bind(addr).await.unwrap();
        let addr = listener.local_addr().unwrap();
        let task = tokio::spawn(async move {
            let _ = axum::serve(listener, app).await;
        });
        Receiver {
            url: format!("http://{addr}/hook"),
            got,
            task,
        }
    }

    /// Everything received so far.
    pub fn received(&self) -> Vec<Delivery> {
        self.got.lock().unwrap().clone()
    }

    /// Waits until `done` holds for what was received (at most `within`), and returns it.
    pub async fn wait_until(
        &self,
        within: Duration,
        done: impl Fn(&[Delivery]) -> bool,
    ) -> Vec<Delivery> {
        let deadline = Instant::now() + within;
        loop {
            let got = self.received();
            if done(&got) {
                return got;
            }
            assert!(
                Instant::now() < deadline,
                "webhooks did not arrive in {within:?}; got {:?}",
                got.iter().map(Delivery::code).collect::<Vec<_>>()
            );
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }
}

impl Drop for Receiver {
    fn drop(&mut self) {
        self.task.abort();
    }
}
