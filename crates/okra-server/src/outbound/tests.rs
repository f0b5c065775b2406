//! Tests of the outbound policy and client (loopback only).
use super::*;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Mutex;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpListener;

fn production() -> OutboundPolicy {
    OutboundPolicy::for_environment(false, &[])
}

fn sandbox() -> OutboundPolicy {
    OutboundPolicy::for_environment(true, &[])
}

fn allowing(hosts: &[&str]) -> OutboundPolicy {
    let hosts: Vec<String> = hosts.iter().map(|h| h.to_string()).collect();
    OutboundPolicy::for_environment(false, &hosts)
}

#[test]
fn forbidden_addresses() {
    let forbidden = [
        "0.0.0.0",
        "0.1.2.3",
        "10.0.0.1",
        "10.255.255.255",
        "100.64.0.1",
        "100.127.255.255",
        "127.0.0.1",
        "127.1.2.3",
        "127.255.255.254",
        "169.254.0.1",
        "169.254.169.254",
        "172.16.0.1",
        "172.31.255.255",
        "192.168.0.1",
        "192.168.255.255",
        "192.0.0.170",
        "192.0.2.1",
        "192.88.99.1",
        "198.18.0.1",
        "198.19.255.255",
        "198.51.100.7",
        "203.0.113.9",
        "224.0.0.1",
        "239.255.255.250",
        "240.0.0.1",
        "255.255.255.255",
        // IPv6
        "::",
        "::1",
        "::127.0.0.1",
        "::8.8.8.8",
        "fe80::1",
        "febf::1",
        "fc00::1",
        "fd00::1",
        "fd00:ec2::254",
        "fec0::1",
        "ff02::1",
        "ff05::1:3",
        "100::1",
        "5f00::1",
        "2001:db8::1",
        "3fff::1",
        "2001::1",
        "2001:2::1",
        "2001:10::1",
        // IPv4-mapped and embedded forms of forbidden IPv4 addresses
        "::ffff:0.0.0.0",
        "::ffff:127.0.0.1",
        "::ffff:10.0.0.1",
        "::ffff:169.254.169.254",
        "::ffff:192.168.1.1",
        "::ffff:255.255.255.255",
        "64:ff9b::7f00:1",
        "64:ff9b::a9fe:a9fe",
        "64:ff9b::c0a8:101",
        "64:ff9b:1::a00:1",
        "2002:7f00:1::1",
        "2002:a00:1::",
        "2002:a9fe:a9fe::1",
        "2002:c0a8:101::1",
    ];
    for ip in forbidden {
        let ip: IpAddr = ip.parse().unwrap();
        assert!(is_forbidden(ip), "{ip} should be forbidden");
    }
    let public = [
        "8.8.8.8",
        "1.1.1.1",
        "9.9.9.9",
        "11.0.0.1",
        "100.63.255.255",
        "100.128.0.1",
        "126.255.255.255",
        "128.0.0.1",
        "169.253.255.255",
        "169.255.0.1",
        "172.15.255.255",
        "172.32.0.1",
        "192.167.255.255",
        "192.169.0.1",
        "198.17.255.255",
        "198.20.0.1",
        "223.255.255.255",
        "2606:4700:4700::1111",
        "2001:4860:4860::8888",
        "2a00:1450:4001::1",
        "2c0f:fb50::1",
        "::ffff:8.8.8.8",
        "64:ff9b::808:808",
        "2002:808:808::1",
    ];
    for ip in public {
        let ip: IpAddr = ip.parse().unwrap();
        assert!(!is_forbidden(ip), "{ip} should be allowed");
    }
}

#[test]
fn environment_policies() {
    assert!(sandbox().allow_private);
    assert!(!production().allow_private);
    assert_eq!(allowing(&["10.0.0.0/8"]).allowed_hosts, vec!["10.0.0.0/8"]);
    assert_eq!(OutboundPolicy::default(), production());
}

#[tokio::test]
async fn schemes_and_credentials() {
    let p = production();
    // Public IP literals are not resolved, so these touch no network.
    assert!(check_url(&p, "http://8.8.8.8/hook").await.is_ok());
    assert!(check_url(&p, "https://8.8.8.8:8443/hook?x=1").await.is_ok());
    assert!(check_url(&p, "https://[2606:4700:4700::1111]/hook")
        .await
        .is_ok());
    assert_eq!(
        check_url(&p, "ftp://8.8.8.8/").await,
        Err(OutboundError::Scheme)
    );
    assert_eq!(
        check_url(&p, "file:///etc/passwd").await,
        Err(OutboundError::Scheme)
    );
    assert_eq!(
        check_url(&p, "gopher://8.8.8.8/").await,
        Err(OutboundError::Scheme)
    );
    assert_eq!(
        check_url(&sandbox(), "ftp://127.0.0.1/").await,
        Err(OutboundError::Scheme)
    );
    let creds = Err(OutboundError::Credentials);
    assert_eq!(check_url(&p, "http://user:pass@8.8.8.8/").await, creds);
    assert_eq!(check_url(&p, "http://user@8.8.8.8/").await, creds);
    assert_eq!(check_url(&p, "http://:pass@8.8.8.8/").await, creds);
    for bad in ["", "not a url", "/relative/path", "http://", "http://[::1/"] {
        let err = check_url(&p, bad).await.unwrap_err();
        assert!(
            matches!(err, OutboundError::InvalidUrl(_)),
            "{bad:?}: {err:?}"
        );
    }
}

#[tokio::test]
async fn ip_literals() {
    let forbidden = [
        "http://127.0.0.1:1/",
        "http://[::1]/",
        "http://[::ffff:127.0.0.1]/",
        "http://[::ffff:7f00:1]:8080/",
        "http://169.254.169.254/latest/meta-data/",
        "http://[fe80::1]/",
        "http://0.0.0.0/",
        "http://10.1.2.3/",
        "https://192.168.1.1/",
    ];
    for url in forbidden {
        assert_eq!(
            check_url(&production(), url).await,
            Err(OutboundError::Forbidden),
            "{url}"
        );
        // Sandbox reaches private and loopback targets, never link-local ones (cloud metadata).
        let link_local = url.contains("169.254.") || url.contains("fe80:");
        assert_eq!(
            check_url(&sandbox(), url).await.is_ok(),
            !link_local,
            "{url}"
        );
    }
    // The url crate normalises the odd IPv4 spellings to dotted decimal; all are refused.
    for url in [
        "http://0x7f.0.0.1/",
        "http://2130706433/",
        "http://0177.0.0.1/",
        "http://0x7f000001/",
        "http://127.1/",
        "http://127.0.0.1./",
    ] {
        assert_eq!(
            Url::parse(url).unwrap().host_str(),
            Some("127.0.0.1"),
            "{url}"
        );
        assert_eq!(
            check_url(&production(), url).await,
            Err(OutboundError::Forbidden),
            "{url}"
        );
    }
    let p = allowing(&["10.0.0.0/8", "169.254.169.254", "[::1]"]);
    assert!(check_url(&p, "http://10.1.2.3/").await.is_ok());
    assert!(check_url(&p, "http://[::ffff:10.1.2.3]/").await.is_ok());
    assert!(check_url(&p, "http://169.254.169.254/").await.is_ok());
    assert!(check_url(&p, "http://[::1]:9/").await.is_ok());
    assert_eq!(
        check_url(&p, "http://192.168.1.1/").await,
        Err(OutboundError::Forbidden)
    );
    assert_eq!(
        check_url(&p, "http://127.0.0.1/").await,
        Err(OutboundError::Forbidden)
    );
}

#[tokio::test]
async fn localhost_name() {
    assert_eq!(
        check_url(&production(), "http://localhost/").await,
        Err(OutboundError::Forbidden)
    );
    assert_eq!(
        check_url(&production(), "http://LOCALHOST:80/").await,
        Err(OutboundError::Forbidden)
    );
    assert!(check_url(&sandbox(), "http://localhost/").await.is_ok());
    assert!(check_url(&allowing(&["LocalHost."]), "http://localhost/x")
        .await
        .is_ok());
    assert!(check_url(&allowing(&["127.0.0.0/8"]), "http://localhost/")
        .await
        .is_ok());
    // Names match case-insensitively and without the root dot (no lookup here).
    let guard = Guard::new(&allowing(&["Hooks.Example.COM."]));
    assert!(guard.name_allowed("hooks.example.com"));
    assert!(guard.name_allowed("HOOKS.example.com."));
    assert!(!guard.name_allowed("evil-hooks.example.com"));
    let msg = OutboundError::Forbidden.to_string();
    assert!(msg.contains("private, loopback or link-local"), "{msg}");
}

/// A one-response HTTP server on 127.0.0.1 counting the connections it accepted and recording the
/// request heads it saw.
struct TestServer {
    addr: SocketAddr,
    connections: Arc<AtomicUsize>,
    requests: Arc<Mutex<Vec<String>>>,
}

async fn serve(response: &'static str) -> TestServer {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let server = TestServer {
        addr: listener.local_addr().unwrap(),
        connections: Arc::default(),
        requests: Arc::default(),
    };
    let (connections, requests) = (server.connections.clone(), server.requests.clone());
    tokio::spawn(async move {
        while let Ok((mut sock, _)) = listener.accept().await {
            connections.fetch_add(1, Ordering::SeqCst);
            let requests = requests.clone();
            tokio::spawn(async move {
                let (mut head, mut chunk) = (Vec::new(), [0u8; 1024]);
                while !head.windows(4).any(|w| w == b"\r\n\r\n") {
                    match sock.read(&mut chunk).await {
                        Ok(0) | Err(_) => return,
                        Ok(n) => head.extend_from_slice(&chunk[..n]),
                    }
                }
                requests
                    .lock()
                    .unwrap()
                    .push(String::from_utf8_lossy(&head).into_owned());
                let _ = sock.write_all(response.as_bytes()).await;
                let _ = sock.shutdown().await;
            });
        }
    });
    server
}

const OK: &str = "HTTP/1.1 200 OK\r\ncontent-length: 2\r\nconnection: close\r\n\r\nok";
const FOUND: &str =
    "HTTP/1.1 302 Found\r\nlocation: /elsewhere\r\ncontent-length: 0\r\nconnection: close\r\n\r\n";
const TIMEOUT: Duration = Duration::from_secs(5);

#[tokio::test]
async fn production_client_cannot_reach_loopback() {
    let server = serve(OK).await;
    let port = server.addr.port();
    let c = client(&production(), TIMEOUT);
    for url in [
        format!("http://localhost:{port}/hook"),
        format!("http://127.0.0.1:{port}/hook"),
        format!("http://0x7f.1:{port}/hook"),
        format!("http://[::ffff:127.0.0.1]:{port}/hook"),
        format!("https://127.0.0.1:{port}/hook"),
    ] {
        let err = c.post(&url).body("{}").send().await.unwrap_err();
        assert_eq!(
            policy_error(&err),
            Some(&OutboundError::Forbidden),
            "{url}: {err:?}"
        );
    }
    // Allowing a different name or network does not open loopback.
    let other = client(&allowing(&["example.invalid", "10.0.0.0/8"]), TIMEOUT);
    let err = other
        .get(format!("http://127.0.0.1:{port}/"))
        .send()
        .await
        .unwrap_err();
    assert_eq!(policy_error(&err), Some(&OutboundError::Forbidden));
    assert_eq!(server.connections.load(Ordering::SeqCst), 0);
    assert!(server.requests.lock().unwrap().is_empty());
}

#[tokio::test]
async fn sandbox_and_allowed_clients_reach_loopback() {
    let server = serve(OK).await;
    let port = server.addr.port();
    let cases = [
        (sandbox(), format!("http://127.0.0.1:{port}/a")),
        (sandbox(), format!("http://localhost:{port}/b")),
        (
            allowing(&["127.0.0.1/32"]),
            format!("http://127.0.0.1:{port}/c"),
        ),
        (
            allowing(&["127.0.0.1/32"]),
            format!("http://localhost:{port}/d"),
        ),
        (
            allowing(&["localhost"]),
            format!("http://localhost:{port}/e"),
        ),
    ];
    for (policy, url) in &cases {
        let res = client(policy, TIMEOUT).get(url).send().await.unwrap();
        assert_eq!(res.status(), 200, "{url}");
        assert_eq!(res.text().await.unwrap(), "ok");
    }
    // A name exception is not an address exception.
    let by_name = client(&allowing(&["localhost"]), TIMEOUT);
    let err = by_name
        .get(format!("http://127.0.0.1:{port}/f"))
        .send()
        .await
        .unwrap_err();
    assert_eq!(policy_error(&err), Some(&OutboundError::Forbidden));

    let requests = server.requests.lock().unwrap();
    assert_eq!(requests.len(), cases.len());
    for (head, path) in requests.iter().zip(["/a", "/b", "/c", "/d", "/e"]) {
        assert!(
            head.starts_with(&format!("GET {path} HTTP/1.1\r\n")),
            "{head}"
        );
        let ua = format!("user-agent: okra-server/{}\r\n", env!("CARGO_PKG_VERSION"));
        assert!(head.to_ascii_lowercase().contains(&ua), "{head}");
    }
}

#[tokio::test]
async fn redirects_are_not_followed() {
    let server = serve(FOUND).await;
    let url = format!("http://127.0.0.1:{}/hook", server.addr.port());
    let res = client(&sandbox(), TIMEOUT)
        .post(&url)
        .body("{}")
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 302);
    assert_eq!(res.headers()["location"], "/elsewhere");
    let requests = server.requests.lock().unwrap();
    assert_eq!(requests.len(), 1);
    assert!(requests[0].starts_with("POST /hook "), "{}", requests[0]);
}

#[tokio::test]
async fn sandbox_allows_private_and_loopback_but_not_link_local() {
    let p = sandbox();
    assert!(check_url(&p, "http://127.0.0.1:9/").await.is_ok());
    assert!(check_url(&p, "http://10.1.2.3/").await.is_ok());
    assert!(
        check_url(&p, "http://[fd12::1]/").await.is_ok(),
        "other unique-local addresses"
    );
    assert!(check_url(&p, "http://localhost/").await.is_ok());
    for metadata in [
        "http://169.254.169.254/latest/meta-data/",
        "http://[fe80::1]/",
        "http://[::ffff:169.254.169.254]/",
        "http://[fd00:ec2::254]/",
        "http://[64:ff9b::a9fe:a9fe]/",
    ] {
        assert_eq!(
            check_url(&p, metadata).await.unwrap_err(),
            OutboundError::Forbidden,
            "{metadata}"
        );
    }
    // Unless the operator lists it.
    let listed = OutboundPolicy::for_environment(true, &["169.254.169.254".to_string()]);
    assert!(check_url(&listed, "http://169.254.169.254/").await.is_ok());
}
