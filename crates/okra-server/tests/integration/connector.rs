//! The HTTP connector against a fake adapter: a small axum app on 127.0.0.1:0 that speaks the
//! protocol of docs/connector-protocol.md with two fixed people and scripted failures. Every trait
//! method goes over real HTTP, so the wire format, the error mapping, the timeouts and the SSRF
//! policy are all exercised as an operator's adapter would see them.

mod fake_adapter;

use std::net::SocketAddr;
use std::sync::atomic::Ordering;
use std::sync::Arc;
use std::time::{Duration, Instant};

use okra_core::source::{
    BankSession, BankSource, Credentials, IdentityRegistry, NameEnquiry, SourceError,
    SourceIdentity,
};
use okra_server::connector::HttpConnector;
use okra_server::outbound::OutboundPolicy;

use fake_adapter::*;

fn sandbox() -> OutboundPolicy {
    OutboundPolicy::for_environment(true, &[])
}

fn connector(addr: SocketAddr, policy: &OutboundPolicy, timeout: Duration) -> HttpConnector {
    let base = format!("http://{addr}");
    HttpConnector::new(&base, Some(TOKEN.into()), policy, timeout).unwrap()
}

const SECONDS: Duration = Duration::from_secs(5);

#[tokio::test]
async fn bank_source_success_paths() {
    let (addr, _) = adapter().await;
    let source: Arc<dyn BankSource> = Arc::new(connector(addr, &sandbox(), SECONDS));
    let creds = Credentials {
        username: "ada".into(),
        password: "pass-ada".into(),
        otp: None,
    };
    let session = source.authenticate(BANK, &creds).await.unwrap();
    assert_eq!(session, ada_session());
    assert_eq!(
        source.list_accounts(&session).await.unwrap(),
        ada_accounts()
    );
    let who = source.identity(&session).await.unwrap();
    assert_eq!(who, identity("Ada", "Obi", Some(ADA_BVN)));
    assert_eq!(
        source.balance(BANK, "ADA-SAV").await.unwrap(),
        ada_balance()
    );
}

#[tokio::test]
async fn identity_registry_success_paths() {
    let (addr, _) = adapter().await;
    let base = format!("http://{addr}/okra/");
    let c = HttpConnector::new(&base, Some(TOKEN.into()), &sandbox(), SECONDS).unwrap();
    let registry: &dyn IdentityRegistry = &c;
    let ada = identity("Ada", "Obi", Some(ADA_BVN));
    assert_eq!(registry.lookup_bvn(ADA_BVN).await.unwrap(), ada);
    assert_eq!(registry.resolve_nuban(BANK, ADA_NUBAN).await.unwrap(), ada);
    let named = registry.name_enquiry(BANK, ADA_NUBAN).await.unwrap();
    let want = |name: &str, bvn: Option<&str>| NameEnquiry {
        name: name.into(),
        bvn: bvn.map(Into::into),
    };
    assert_eq!(named, want("ADA OBI", Some(ADA_BVN)));
    let no_bvn = registry.name_enquiry(BANK, NO_BVN_NUBAN).await.unwrap();
    assert_eq!(no_bvn, want("KOLA ADEYEMI", None));
    c.health().await.unwrap();
}

#[tokio::test]
async fn every_error_code_maps_to_its_source_error() {
    let (addr, _) = adapter().await;
    let c = connector(addr, &sandbox(), SECONDS);
    let codes = [
        ("invalid_credentials", SourceError::InvalidCredentials),
        ("locked", SourceError::Locked),
        ("otp_required", SourceError::OtpRequired),
        ("bank_unavailable", SourceError::BankUnavailable),
        ("timeout", SourceError::Timeout),
        ("not_found", SourceError::NotFound),
        ("invalid_identity", SourceError::InvalidIdentity),
    ];
    for (code, want) in codes {
        let got = c.lookup_bvn(&format!("err:{code}")).await.unwrap_err();
        assert_eq!(got, want, "{code}");
    }
    let login = |user: &str| Credentials {
        username: user.into(),
        password: "nope".into(),
        otp: None,
    };
    let cases = [
        ("ada", SourceError::InvalidCredentials),
        ("locked", SourceError::Locked),
        ("otp", SourceError::OtpRequired),
        ("down", SourceError::BankUnavailable),
        ("slowbank", SourceError::Timeout),
    ];
    for (user, want) in cases {
        assert_eq!(
            c.authenticate(BANK, &login(user)).await,
            Err(want),
            "{user}"
        );
    }
    let unknown_bank = c.authenticate("no-such-bank", &login("ada")).await;
    assert_eq!(unknown_bank, Err(SourceError::NotFound));
    let stale = BankSession {
        token: "expired".into(),
        ..ada_session()
    };
    assert_eq!(
        c.list_accounts(&stale).await,
        Err(SourceError::InvalidCredentials)
    );
    assert_eq!(
        c.identity(&stale).await,
        Err(SourceError::InvalidCredentials)
    );
    assert_eq!(c.balance(BANK, "NOPE").await, Err(SourceError::NotFound));
    assert_eq!(
        c.lookup_bvn("22299999999").await,
        Err(SourceError::NotFound)
    );
    let no_bvn = c.resolve_nuban(BANK, NO_BVN_NUBAN).await;
    assert_eq!(no_bvn, Err(SourceError::InvalidIdentity));
    let missing = c.resolve_nuban(BANK, "0999999999").await;
    assert_eq!(missing, Err(SourceError::NotFound));
    let missing = c.name_enquiry(BANK, "0999999999").await;
    assert_eq!(missing, Err(SourceError::NotFound));
}

fn other(result: Result<SourceIdentity, SourceError>) -> String {
    match result {
        Err(SourceError::Other(message)) => message,
        other => panic!("expected SourceError::Other, got {other:?}"),
    }
}

#[tokio::test]
async fn answers_outside_the_protocol() {
    let (addr, _) = adapter().await;
    let c = connector(addr, &sandbox(), SECONDS);
    // A proxy's bare gateway errors and unknown codes on 5xx still read as outages.
    assert_eq!(
        c.lookup_bvn("proxy502").await,
        Err(SourceError::BankUnavailable)
    );
    assert_eq!(c.lookup_bvn("gateway504").await, Err(SourceError::Timeout));
    assert_eq!(
        c.lookup_bvn("maintenance").await,
        Err(SourceError::BankUnavailable)
    );
    let odd = other(c.lookup_bvn("teapot").await);
    assert!(odd.contains("HTTP 418") && odd.contains("/bvn"), "{odd}");
    assert!(!odd.contains("2221") && !odd.contains("Ada"), "{odd}");
    // Redirects are not followed (the SSRF guard would lose sight of the target).
    let moved = other(c.lookup_bvn("redirect").await);
    assert!(moved.contains("redirect (HTTP 302)"), "{moved}");
}

#[tokio::test]
async fn malformed_responses_are_other_without_personal_data() {
    let (addr, _) = adapter().await;
    let c = connector(addr, &sandbox(), SECONDS);
    let scripts = [
        ("garbage", "Syntax error"),
        ("wrongshape", "Data error"),
        ("huge", "more than 1048576 bytes"),
    ];
    for (script, why) in scripts {
        let message = other(c.lookup_bvn(script).await);
        assert!(message.contains("connector adapter"), "{script}: {message}");
        assert!(message.contains(why), "{script}: {message}");
        for secret in ["22212345678", "Ada", "AAAA"] {
            assert!(!message.contains(secret), "{script}: {message}");
        }
    }
    let garbage = BankSession {
        token: "tok-garbage".into(),
        ..ada_session()
    };
    let accounts = c.list_accounts(&garbage).await;
    assert!(matches!(accounts, Err(SourceError::Other(m)) if m.contains("/accounts")));
}

#[tokio::test]
async fn slow_adapter_times_out_quickly() {
    let (addr, _) = adapter().await;
    let c = connector(addr, &sandbox(), Duration::from_millis(300));
    for script in ["sleep", "stall"] {
        let start = Instant::now();
        assert_eq!(
            c.lookup_bvn(script).await,
            Err(SourceError::Timeout),
            "{script}"
        );
        let took = start.elapsed();
        assert!(took < Duration::from_secs(2), "{script} took {took:?}");
    }
    // The connector is still usable for fast answers afterwards.
    assert!(c.lookup_bvn(ADA_BVN).await.is_ok());
}

#[tokio::test]
async fn adapter_down_is_bank_unavailable() {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = listener.local_addr().unwrap();
    drop(listener);
    let c = connector(addr, &sandbox(), SECONDS);
    let start = Instant::now();
    let creds = Credentials {
        username: "ada".into(),
        password: "pass-ada".into(),
        otp: None,
    };
    let down = SourceError::BankUnavailable;
    assert_eq!(c.authenticate(BANK, &creds).await.unwrap_err(), down);
    assert_eq!(c.list_accounts(&ada_session()).await.unwrap_err(), down);
    assert_eq!(c.identity(&ada_session()).await.unwrap_err(), down);
    assert_eq!(c.balance(BANK, "ADA-SAV").await.unwrap_err(), down);
    assert_eq!(c.lookup_bvn(ADA_BVN).await.unwrap_err(), down);
    assert_eq!(c.resolve_nuban(BANK, ADA_NUBAN).await.unwrap_err(), down);
    assert_eq!(c.name_enquiry(BANK, ADA_NUBAN).await.unwrap_err(), down);
    assert_eq!(c.health().await.unwrap_err(), down);
    assert!(
        start.elapsed() < Duration::from_secs(3),
        "{:?}",
        start.elapsed()
    );
}

#[tokio::test]
async fn the_bearer_token_is_sent() {
    let (addr, seen) = adapter().await;
    let c = connector(addr, &sandbox(), SECONDS);
    c.lookup_bvn(ADA_BVN).await.unwrap();
    c.name_enquiry(BANK, ADA_NUBAN).await.unwrap();
    let bearer = Some(format!("Bearer {TOKEN}"));
    assert_eq!(*seen.auth.lock().unwrap(), vec![bearer.clone(), bearer]);

    let base = format!("http://{addr}");
    let wrong = HttpConnector::new(&base, Some("guess".into()), &sandbox(), SECONDS).unwrap();
    let refused = other(wrong.lookup_bvn(ADA_BVN).await);
    assert!(
        refused.contains("token") && refused.contains("401"),
        "{refused}"
    );
    let anonymous = HttpConnector::new(&base, None, &sandbox(), SECONDS).unwrap();
    let refused = other(anonymous.lookup_bvn(ADA_BVN).await);
    assert!(refused.contains("401"), "{refused}");
    let auth = seen.auth.lock().unwrap();
    assert_eq!(auth[2..], [Some("Bearer guess".to_string()), None]);
}

#[tokio::test]
async fn production_policy_refuses_a_loopback_adapter_unless_allowed() {
    let (addr, seen) = adapter().await;
    let production = OutboundPolicy::for_environment(false, &[]);
    let c = connector(addr, &production, SECONDS);
    let refused = other(c.lookup_bvn(ADA_BVN).await);
    assert!(refused.contains("connector_allowed_hosts"), "{refused}");
    let session = c.list_accounts(&ada_session()).await;
    assert!(matches!(session, Err(SourceError::Other(_))), "{session:?}");
    assert_eq!(
        seen.requests.load(Ordering::SeqCst),
        0,
        "no byte reached it"
    );

    let allowed = OutboundPolicy {
        allow_private: false,
        allowed_hosts: vec!["127.0.0.1/32".into()],
    };
    let c = connector(addr, &allowed, SECONDS);
    assert_eq!(
        c.lookup_bvn(ADA_BVN).await.unwrap(),
        identity("Ada", "Obi", Some(ADA_BVN))
    );
    assert_eq!(seen.requests.load(Ordering::SeqCst), 1);
}

/// Configuration chooses the source per environment: a server whose sandbox uses the adapter and
/// whose production stays simulated; a production adapter on a private address needs
/// `connector_allowed_hosts`.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn configuration_chooses_the_source_per_environment() {
    use crate::common::{Backend, TestServer};
    use okra_core::Environment;
    use okra_server::services::sources::TenantSource;

    let (addr, _) = adapter().await;
    let url = format!("http://{addr}");
    let s = TestServer::start_with(
        Backend::Sqlite,
        |c| {
            c.sandbox_source = url.clone();
            c.production_source = url.clone();
            c.connector_token = Some(okra_server::config::Secret::new(TOKEN));
        },
        Default::default(),
    )
    .await;
    let sandbox = TenantSource::new(s.state(), &s.tenant(Environment::Sandbox))
        .await
        .unwrap();
    assert_eq!(
        sandbox.lookup_bvn(ADA_BVN).await.unwrap().bvn.as_deref(),
        Some(ADA_BVN),
        "sandbox asks the adapter"
    );
    // Production refuses the loopback adapter: not allowed by the SSRF policy.
    let production = TenantSource::new(s.state(), &s.tenant(Environment::Production))
        .await
        .unwrap();
    assert!(matches!(
        production.lookup_bvn(ADA_BVN).await,
        Err(SourceError::Other(_))
    ));
    assert!(!s.state().sources.production_is_simulated());
    s.stop().await;

    let s = TestServer::start_with(
        Backend::Sqlite,
        |c| {
            c.production_source = url.clone();
            c.connector_token = Some(okra_server::config::Secret::new(TOKEN));
            c.connector_allowed_hosts = vec!["127.0.0.1/32".into()];
        },
        Default::default(),
    )
    .await;
    let production = TenantSource::new(s.state(), &s.tenant(Environment::Production))
        .await
        .unwrap();
    assert_eq!(
        production.lookup_bvn(ADA_BVN).await.unwrap().bvn.as_deref(),
        Some(ADA_BVN),
        "allowed by configuration"
    );
    // The sandbox kept the simulated network: the adapter's person is unknown there.
    let sandbox = TenantSource::new(s.state(), &s.tenant(Environment::Sandbox))
        .await
        .unwrap();
    assert!(sandbox.lookup_bvn(ADA_BVN).await.is_err());
    s.stop().await;

    // An invalid source is a start-up error, not a runtime surprise.
    let dir = tempfile::tempdir().unwrap();
    let config = okra_server::config::Config {
        data_dir: dir.path().into(),
        production_source: "ftp://x".into(),
        ..Default::default()
    };
    let (db, keyring) = okra_server::bootstrap::open(&config).await.unwrap();
    assert!(
        okra_server::server::start(config, db, keyring, Default::default())
            .await
            .is_err()
    );
}
