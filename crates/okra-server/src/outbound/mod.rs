//! Outbound HTTP (webhooks, the HTTP bank connector): timeouts and the SSRF guard.
//!
//! Webhook URLs are chosen by API clients, so without a guard anyone holding a production key could make
//! this server call its own admin ports, the cloud metadata service or the operator's private network
//! (webhooks, a planned operation: docs/api.md §12). The guard lives at the lowest layer that sees the address actually
//! connected to: a DNS resolver that drops forbidden addresses at connect time, so a name that resolves to
//! a public address when it is configured and to 127.0.0.1 when it is delivered (DNS rebinding) is still
//! refused. reqwest skips the resolver for IP-literal URLs, so those are caught separately, both by
//! [`check_url`] and inside every [`client`].

use std::error::Error as StdError;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr};
use std::sync::Arc;
use std::time::Duration;

use ipnet::IpNet;
use reqwest::dns::{Addrs, Name, Resolve, Resolving};
use reqwest::{redirect, Proxy, Url};

/// Sent on every outbound request so receivers can recognise (and firewall) this server.
const USER_AGENT: &str = concat!("okra-server/", env!("CARGO_PKG_VERSION"));

/// Where requests to forbidden IP literals are "proxied": a name under the reserved `.invalid` TLD that
/// the guarded resolver refuses (and that no real resolver would answer either).
const REFUSED_HOST: &str = "outbound-policy-refused.invalid";

/// How long [`check_url`] waits for DNS before giving up; requests use their own connect timeout.
const CHECK_DNS_TIMEOUT: Duration = Duration::from_secs(10);

/// Which destinations outbound requests may reach. One value per environment: sandbox is for local
/// development against services on the developer's machine, production must not be usable as a proxy
/// into the operator's network.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct OutboundPolicy {
    /// Allow any address, including private, loopback and link-local ones (sandbox).
    pub allow_private: bool,
    /// Exceptions the operator configured: exact host names (matched case-insensitively, before
    /// resolution) or IP addresses / CIDRs such as `10.1.0.0/16` (matched against the address connected
    /// to). Allowed even when the address would otherwise be forbidden.
    pub allowed_hosts: Vec<String>,
}

impl OutboundPolicy {
    /// The policy the contract prescribes for an environment: sandbox may reach private and loopback
    /// targets, production only public addresses plus whatever the operator listed in `extra_allowed`.
    pub fn for_environment(sandbox: bool, extra_allowed: &[String]) -> Self {
        Self {
            allow_private: sandbox,
            allowed_hosts: extra_allowed.to_vec(),
        }
    }
}

/// Why an outbound URL or request was refused. The messages are meant to be shown to the API client
/// that supplied the URL, so they say what to change without revealing anything about the network.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum OutboundError {
    /// Not an absolute URL at all.
    #[error("webhook URL is not a valid absolute URL: {0}")]
    InvalidUrl(String),
    /// Anything but http/https (file:, ftp:, gopher: … are classic SSRF vectors).
    #[error("webhook URL must use http or https")]
    Scheme,
    /// `user:pass@host` would leak the credentials into logs and delivery listings.
    #[error("webhook URL must not contain a user name or password")]
    Credentials,
    /// The host did not resolve (or not in time), so nothing could be checked or delivered.
    #[error("webhook URL host {0} could not be resolved")]
    Unresolvable(String),
    /// Every address of the host is one production refuses (SSRF guard).
    #[error(
        "webhook URL resolves to a private, loopback or link-local address, which production does not allow"
    )]
    Forbidden,
}

/// Whether `ip` must not be reached from production unless the operator allowed it: anything that is not
/// an ordinary, globally routable unicast address. IPv6 forms that embed an IPv4 address (IPv4-mapped,
/// NAT64, 6to4) are judged by the embedded address, so `::ffff:127.0.0.1` is loopback too.
pub fn is_forbidden(ip: IpAddr) -> bool {
    match ip {
        IpAddr::V4(v4) => is_forbidden_v4(v4),
        IpAddr::V6(v6) => is_forbidden_v6(v6),
    }
}

/// Whether `ip` is where cloud metadata services answer: link-local (169.254.0.0/16, fe80::/10,
/// or an IPv6 form embedding the former: IPv4-mapped, NAT64) or AWS's IPv6 metadata range
/// fd00:ec2::/32. Refused even where private addresses are allowed (sandbox), unless the operator
/// lists it: a sandbox key, or the publishable key a browser holds, must not make the server call
/// its host's metadata service.
pub fn is_link_local(ip: IpAddr) -> bool {
    match ip.to_canonical() {
        IpAddr::V4(v4) => v4.is_link_local(),
        IpAddr::V6(v6) => {
            let bits = u128::from(v6);
            (v6.segments()[0] & 0xffc0) == 0xfe80
                || in_v6(bits, [0xfd00, 0x0ec2, 0, 0, 0, 0, 0, 0], 32)
                || (in_v6(bits, [0x64, 0xff9b, 0, 0, 0, 0, 0, 0], 96)
                    && Ipv4Addr::from(bits as u32).is_link_local())
        }
    }
}

/// IPv4 special-purpose ranges (RFC 6890 and successors) that are not public unicast.
const FORBIDDEN_V4: &[([u8; 4], u32)] = &[
    ([0, 0, 0, 0], 8),       // "this network", including the unspecified 0.0.0.0
    ([10, 0, 0, 0], 8),      // private
    ([100, 64, 0, 0], 10),   // carrier-grade NAT
    ([127, 0, 0, 0], 8),     // loopback
    ([169, 254, 0, 0], 16),  // link-local, including the cloud metadata 169.254.169.254
    ([172, 16, 0, 0], 12),   // private
    ([192, 0, 0, 0], 24),    // IETF protocol assignments
    ([192, 0, 2, 0], 24),    // documentation (TEST-NET-1)
    ([192, 88, 99, 0], 24),  // 6to4 relay anycast
    ([192, 168, 0, 0], 16),  // private
    ([198, 18, 0, 0], 15),   // benchmarking
    ([198, 51, 100, 0], 24), // documentation (TEST-NET-2)
    ([203, 0, 113, 0], 24),  // documentation (TEST-NET-3)
    ([224, 0, 0, 0], 4),     // multicast
    ([240, 0, 0, 0], 4),     // reserved, including the broadcast 255.255.255.255
];

fn is_forbidden_v4(ip: Ipv4Addr) -> bool {
    let bits = u32::from(ip);
    FORBIDDEN_V4
        .iter()
        .any(|&(net, len)| (bits ^ u32::from(Ipv4Addr::from(net))) >> (32 - len) == 0)
}

fn in_v6(bits: u128, net: [u16; 8], len: u32) -> bool {
    let [a, b, c, d, e, f, g, h] = net;
    (bits ^ u128::from(Ipv6Addr::new(a, b, c, d, e, f, g, h))) >> (128 - len) == 0
}

fn is_forbidden_v6(ip: Ipv6Addr) -> bool {
    let bits = u128::from(ip);
    if let Some(v4) = ip.to_ipv4_mapped() {
        return is_forbidden_v4(v4); // ::ffff:0:0/96
    }
    if in_v6(bits, [0x64, 0xff9b, 0, 0, 0, 0, 0, 0], 96) {
        return is_forbidden_v4(Ipv4Addr::from(bits as u32)); // NAT64 well-known prefix
    }
    if in_v6(bits, [0x2002, 0, 0, 0, 0, 0, 0, 0], 16) {
        return is_forbidden_v4(Ipv4Addr::from((bits >> 80) as u32)); // 6to4
    }
    // Only 2000::/3 is global unicast. Everything else is special: ::, ::1, IPv4-compatible ::/96,
    // local-use NAT64 64:ff9b:1::/48, discard 100::/64, unique-local fc00::/7, link-local fe80::/10,
    // site-local fec0::/10, multicast ff00::/8, SRv6 5f00::/16.
    !in_v6(bits, [0x2000, 0, 0, 0, 0, 0, 0, 0], 3)
        || in_v6(bits, [0x2001, 0, 0, 0, 0, 0, 0, 0], 23) // IETF protocol assignments (Teredo, benchmarking…)
        || in_v6(bits, [0x2001, 0xdb8, 0, 0, 0, 0, 0, 0], 32) // documentation
        || in_v6(bits, [0x3fff, 0, 0, 0, 0, 0, 0, 0], 20) // documentation (RFC 9637)
}

/// An [`OutboundPolicy`] with the operator's exceptions parsed once.
#[derive(Debug)]
struct Guard {
    allow_private: bool,
    names: Vec<String>,
    nets: Vec<IpNet>,
}

impl Guard {
    fn new(policy: &OutboundPolicy) -> Self {
        let (mut names, mut nets) = (Vec::new(), Vec::new());
        for entry in &policy.allowed_hosts {
            let entry = entry.trim();
            let bare = entry.trim_start_matches('[').trim_end_matches(']');
            if let Ok(net) = entry.parse::<IpNet>() {
                nets.push(net.trunc());
            } else if let Ok(ip) = bare.parse::<IpAddr>() {
                nets.push(IpNet::from(ip));
            } else if !entry.is_empty() {
                names.push(normalise_name(entry));
            }
        }
        Self {
            allow_private: policy.allow_private,
            names,
            nets,
        }
    }

    fn name_allowed(&self, host: &str) -> bool {
        self.names.contains(&normalise_name(host))
    }

    fn ip_allowed(&self, ip: IpAddr) -> bool {
        let canonical = ip.to_canonical();
        (self.allow_private && !is_link_local(ip))
            || !is_forbidden(ip)
            || self
                .nets
                .iter()
                .any(|net| net.contains(&ip) || net.contains(&canonical))
    }

    /// Resolves `host` and keeps only the addresses this guard lets through.
    async fn resolve(&self, host: &str) -> Result<Vec<SocketAddr>, OutboundError> {
        if host == REFUSED_HOST {
            return Err(OutboundError::Forbidden);
        }
        let unresolvable = || OutboundError::Unresolvable(host.to_owned());
        let addrs: Vec<SocketAddr> = tokio::net::lookup_host((host, 0))
            .await
            .map_err(|_| unresolvable())?
            .collect();
        if addrs.is_empty() {
            return Err(unresolvable());
        }
        if self.name_allowed(host) {
            return Ok(addrs);
        }
        let allowed: Vec<SocketAddr> = addrs
            .iter()
            .copied()
            .filter(|a| self.ip_allowed(a.ip()))
            .collect();
        if allowed.is_empty() {
            tracing::warn!(host, addrs = ?addrs, "outbound request refused: only forbidden addresses");
            return Err(OutboundError::Forbidden);
        }
        Ok(allowed)
    }
}

fn normalise_name(host: &str) -> String {
    host.trim_end_matches('.').to_ascii_lowercase()
}

/// The IP address of an IP-literal URL, or `None` for a host name. The url crate has already normalised
/// `0x7f.1`, `2130706433`, `0177.0.0.1`, … to dotted decimal; only the IPv6 brackets are left to strip.
fn literal_ip(url: &Url) -> Option<IpAddr> {
    let host = url.host_str()?;
    host.trim_start_matches('[')
        .trim_end_matches(']')
        .parse()
        .ok()
}

/// reqwest resolver applying the [`Guard`] to every connection the client opens.
struct GuardedResolver(Arc<Guard>);

impl Resolve for GuardedResolver {
    fn resolve(&self, name: Name) -> Resolving {
        let guard = Arc::clone(&self.0);
        let host = name.as_str().to_owned();
        Box::pin(async move {
            let addrs = guard.resolve(&host).await?;
            Ok(Box::new(addrs.into_iter()) as Addrs)
        })
    }
}

/// Builds the client for requests leaving the process. Every connection it opens is checked against
/// `policy` at connect time: host names through the guarded resolver, IP literals by routing them to
/// an unreachable "proxy" that the resolver refuses, so no byte reaches a forbidden address. Redirects
/// are not followed (a 3xx is a failed delivery, and following it would leave the guard's view) and
/// proxies from the environment are ignored (a proxy would connect on our behalf, unchecked).
/// `timeout` bounds the whole request; connecting gets at most 10 seconds of it.
pub fn client(policy: &OutboundPolicy, timeout: Duration) -> reqwest::Client {
    let guard = Arc::new(Guard::new(policy));
    let literal_guard = Arc::clone(&guard);
    let refuse_literals = Proxy::custom(move |url| {
        let ip = literal_ip(url)?;
        (!literal_guard.ip_allowed(ip)).then(|| format!("http://{REFUSED_HOST}:9"))
    });
    reqwest::Client::builder()
        .dns_resolver(Arc::new(GuardedResolver(guard)))
        .no_proxy()
        .proxy(refuse_literals)
        .redirect(redirect::Policy::none())
        .timeout(timeout)
        .connect_timeout(timeout.min(Duration::from_secs(10)))
        .user_agent(USER_AGENT)
        .build()
        .expect("building the outbound HTTP client (TLS backend) cannot fail")
}

/// A webhook URL's shape, without resolving it: absolute, `http` or `https`, no credentials.
pub fn check_shape(url: &str) -> Result<Url, OutboundError> {
    let url = Url::parse(url.trim()).map_err(|e| OutboundError::InvalidUrl(e.to_string()))?;
    if !matches!(url.scheme(), "http" | "https") {
        return Err(OutboundError::Scheme);
    }
    if !url.username().is_empty() || url.password().is_some() {
        return Err(OutboundError::Credentials);
    }
    Ok(url)
}

/// Validates a URL when it is configured (link options, owner defaults, `callback/trigger`), so the API
/// client gets a clear error at once instead of a failed delivery later. Host names are resolved once
/// here; the client re-checks at connect time, which is what actually protects against rebinding.
pub async fn check_url(policy: &OutboundPolicy, url: &str) -> Result<Url, OutboundError> {
    let url = check_shape(url)?;
    let guard = Guard::new(policy);
    if let Some(ip) = literal_ip(&url) {
        return match guard.ip_allowed(ip) {
            true => Ok(url),
            false => Err(OutboundError::Forbidden),
        };
    }
    let Some(host) = url.host_str().filter(|h| !h.is_empty()) else {
        return Err(OutboundError::InvalidUrl("the URL has no host".into()));
    };
    match tokio::time::timeout(CHECK_DNS_TIMEOUT, guard.resolve(host)).await {
        Ok(Ok(_)) => Ok(url),
        Ok(Err(e)) => Err(e),
        Err(_) => Err(OutboundError::Unresolvable(host.to_owned())),
    }
}

/// The guard's verdict inside a failed request, if the guard is why it failed — so delivery logs and
/// `webhooks/deliveries` can say "refused by policy" rather than a generic connect error.
pub fn policy_error(err: &reqwest::Error) -> Option<&OutboundError> {
    let mut current: Option<&(dyn StdError + 'static)> = Some(err);
    while let Some(e) = current {
        if let Some(found) = e.downcast_ref::<OutboundError>() {
            return Some(found);
        }
        current = e.source();
    }
    None
}

#[cfg(test)]
mod tests;
