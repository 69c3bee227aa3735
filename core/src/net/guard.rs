//! The address guard against server-side request forgery: which URLs the service may fetch
//! from or post to, and which addresses a host name may resolve to.
//!
//! A URL passes when its scheme is http or https, it carries no credentials, and every
//! address its host stands for is globally reachable per the IANA special-purpose address
//! registries, unless `PROGIMAGE_ALLOW_URLS` names the address, a network holding it, or the
//! host itself.

#[cfg(test)]
use std::collections::HashMap;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};
use std::str::FromStr;
#[cfg(test)]
use std::sync::{
    Arc,
    atomic::{AtomicUsize, Ordering},
};

use ipnet::{IpNet, Ipv4Net, Ipv6Net};
use url::{Host, Url};

use super::FetchError;

/// IPv4 blocks that are not globally reachable: the IANA IPv4 Special-Purpose Address Registry
/// plus multicast (its own registry), minus [`IPV4_GLOBAL_EXCEPTIONS`].
const IPV4_NOT_GLOBAL: &[Ipv4Net] = &[
    // "This network" (RFC 791), 0.0.0.0 included.
    Ipv4Net::new_assert(Ipv4Addr::new(0, 0, 0, 0), 8),
    // Private use (RFC 1918).
    Ipv4Net::new_assert(Ipv4Addr::new(10, 0, 0, 0), 8),
    // Shared address space, carrier-grade NAT (RFC 6598).
    Ipv4Net::new_assert(Ipv4Addr::new(100, 64, 0, 0), 10),
    // Loopback (RFC 1122).
    Ipv4Net::new_assert(Ipv4Addr::new(127, 0, 0, 0), 8),
    // Link-local (RFC 3927); cloud metadata services live at 169.254.169.254.
    Ipv4Net::new_assert(Ipv4Addr::new(169, 254, 0, 0), 16),
    // Private use (RFC 1918).
    Ipv4Net::new_assert(Ipv4Addr::new(172, 16, 0, 0), 12),
    // IETF protocol assignments (RFC 6890): DS-Lite, the dummy address, NAT64 discovery…
    Ipv4Net::new_assert(Ipv4Addr::new(192, 0, 0, 0), 24),
    // Documentation, TEST-NET-1 (RFC 5737).
    Ipv4Net::new_assert(Ipv4Addr::new(192, 0, 2, 0), 24),
    // Deprecated 6to4 relay anycast (RFC 7526); the 6a44 relay at .2 is refused with it, as
    // nothing an image fetch or webhook needs can sit there.
    Ipv4Net::new_assert(Ipv4Addr::new(192, 88, 99, 0), 24),
    // Private use (RFC 1918).
    Ipv4Net::new_assert(Ipv4Addr::new(192, 168, 0, 0), 16),
    // Benchmarking (RFC 2544).
    Ipv4Net::new_assert(Ipv4Addr::new(198, 18, 0, 0), 15),
    // Documentation, TEST-NET-2 (RFC 5737).
    Ipv4Net::new_assert(Ipv4Addr::new(198, 51, 100, 0), 24),
    // Documentation, TEST-NET-3 (RFC 5737).
    Ipv4Net::new_assert(Ipv4Addr::new(203, 0, 113, 0), 24),
    // Multicast (RFC 5771).
    Ipv4Net::new_assert(Ipv4Addr::new(224, 0, 0, 0), 4),
    // Reserved (RFC 1112), the limited broadcast 255.255.255.255 included.
    Ipv4Net::new_assert(Ipv4Addr::new(240, 0, 0, 0), 4),
];

/// Addresses inside [`IPV4_NOT_GLOBAL`] that the registry marks globally reachable.
const IPV4_GLOBAL_EXCEPTIONS: &[Ipv4Net] = &[
    // Port Control Protocol anycast (RFC 7723).
    Ipv4Net::new_assert(Ipv4Addr::new(192, 0, 0, 9), 32),
    // TURN anycast (RFC 8155).
    Ipv4Net::new_assert(Ipv4Addr::new(192, 0, 0, 10), 32),
];

/// Global unicast space: the only IPv6 space IANA has allocated for the public Internet.
/// Everything outside it is reserved or special-purpose: the unspecified and loopback
/// addresses, discard-only 100::/64 and the dummy prefix 100:0:0:1::/64, local-use NAT64
/// 64:ff9b:1::/48, SRv6 SIDs 5f00::/16, unique-local fc00::/7, link-local fe80::/10,
/// site-local fec0::/10 and multicast ff00::/8.
const IPV6_GLOBAL_UNICAST: Ipv6Net =
    Ipv6Net::new_assert(Ipv6Addr::new(0x2000, 0, 0, 0, 0, 0, 0, 0), 3);

/// Blocks inside global unicast space that are not globally reachable, per the IANA IPv6
/// Special-Purpose Address Registry, minus [`IPV6_GLOBAL_EXCEPTIONS`].
const IPV6_NOT_GLOBAL: &[Ipv6Net] = &[
    // IETF protocol assignments (RFC 2928): Teredo 2001::/32, benchmarking 2001:2::/48,
    // ORCHID 2001:10::/28, ORCHIDv2 2001:20::/28, DRIP entity tags 2001:30::/28. The registry
    // marks the last two globally reachable, but they hold cryptographic identifiers, not
    // locators (RFC 7343, RFC 9374), so no server is ever reached there: refused.
    Ipv6Net::new_assert(Ipv6Addr::new(0x2001, 0, 0, 0, 0, 0, 0, 0), 23),
    // Documentation (RFC 3849).
    Ipv6Net::new_assert(Ipv6Addr::new(0x2001, 0xdb8, 0, 0, 0, 0, 0, 0), 32),
    // Documentation (RFC 9637).
    Ipv6Net::new_assert(Ipv6Addr::new(0x3fff, 0, 0, 0, 0, 0, 0, 0), 20),
];

/// Addresses inside [`IPV6_NOT_GLOBAL`] that the registry marks globally reachable.
const IPV6_GLOBAL_EXCEPTIONS: &[Ipv6Net] = &[
    // Port Control Protocol anycast (RFC 7723).
    Ipv6Net::new_assert(Ipv6Addr::new(0x2001, 1, 0, 0, 0, 0, 0, 1), 128),
    // TURN anycast (RFC 8155).
    Ipv6Net::new_assert(Ipv6Addr::new(0x2001, 1, 0, 0, 0, 0, 0, 2), 128),
    // DNS-SD service registration protocol anycast (RFC 9665).
    Ipv6Net::new_assert(Ipv6Addr::new(0x2001, 1, 0, 0, 0, 0, 0, 3), 128),
    // Automatic multicast tunneling (RFC 7450).
    Ipv6Net::new_assert(Ipv6Addr::new(0x2001, 3, 0, 0, 0, 0, 0, 0), 32),
    // AS112-v6 (RFC 7535).
    Ipv6Net::new_assert(Ipv6Addr::new(0x2001, 4, 0x112, 0, 0, 0, 0, 0), 48),
];

/// Whether packets to `ip` can reach a host on the public Internet, per the IANA IPv4 and
/// IPv6 special-purpose address registries; IPv6 forms that carry an IPv4 address are
/// judged by that address.
pub fn is_globally_reachable(ip: IpAddr) -> bool {
    match ip {
        IpAddr::V4(ip) => ipv4_is_globally_reachable(ip),
        IpAddr::V6(ip) => match embedded_ipv4(ip) {
            Some(ipv4) => ipv4_is_globally_reachable(ipv4),
            None => {
                IPV6_GLOBAL_UNICAST.contains(&ip)
                    && (IPV6_GLOBAL_EXCEPTIONS.iter().any(|net| net.contains(&ip))
                        || !IPV6_NOT_GLOBAL.iter().any(|net| net.contains(&ip)))
            }
        },
    }
}

fn ipv4_is_globally_reachable(ip: Ipv4Addr) -> bool {
    IPV4_GLOBAL_EXCEPTIONS.iter().any(|net| net.contains(&ip))
        || !IPV4_NOT_GLOBAL.iter().any(|net| net.contains(&ip))
}

/// The IPv4 address inside an IPv6 address whose packets end up at that IPv4 address:
/// IPv4-mapped (::ffff:0:0/96), IPv4-compatible (::/96, deprecated but still routed by some
/// stacks; `::` and `::1` fall here too and come out as 0.0.0.0 and 0.0.0.1, both refused),
/// NAT64 well-known prefix (64:ff9b::/96) and 6to4 (2002::/16, the IPv4 in bits 16 to 48).
fn embedded_ipv4(ip: Ipv6Addr) -> Option<Ipv4Addr> {
    let segments = ip.segments();
    let low32 = Ipv4Addr::from_bits(ip.to_bits() as u32);
    match segments {
        [0, 0, 0, 0, 0, 0xffff, _, _] | [0, 0, 0, 0, 0, 0, _, _] => Some(low32),
        [0x64, 0xff9b, 0, 0, 0, 0, _, _] => Some(low32),
        [0x2002, high, low, ..] => {
            Some(Ipv4Addr::from_bits(u32::from(high) << 16 | u32::from(low)))
        }
        _ => None,
    }
}

/// The `PROGIMAGE_ALLOW_URLS` exceptions to the address rules (empty by default).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct UrlPolicy {
    /// Addresses and networks allowed even when not globally reachable.
    networks: Vec<IpNet>,
    /// Host names (lowercase ASCII) whose every address is allowed.
    hosts: Vec<String>,
}

/// A `PROGIMAGE_ALLOW_URLS` entry that is neither an IP address, a CIDR nor a host name.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error(
    "PROGIMAGE_ALLOW_URLS entry {entry:?} is not an IP address, a CIDR (10.0.0.0/8) or a host name"
)]
pub struct PolicyError {
    /// The offending entry, trimmed.
    pub entry: String,
}

impl FromStr for UrlPolicy {
    type Err = PolicyError;

    /// Parses comma-separated IPs (IPv6 with or without brackets), CIDRs and host names;
    /// blanks around entries and empty entries are ignored, anything else invalid is an
    /// error so a typo stops the service at start-up rather than silently allowing nothing.
    fn from_str(text: &str) -> Result<UrlPolicy, PolicyError> {
        let mut policy = UrlPolicy::default();
        for entry in text.split(',').map(str::trim).filter(|entry| !entry.is_empty()) {
            let invalid = || PolicyError { entry: entry.to_owned() };
            if entry.contains('/') {
                policy.networks.push(entry.parse::<IpNet>().map_err(|_| invalid())?.trunc());
            } else if let Ok(ip) = entry.parse::<IpAddr>() {
                policy.networks.push(IpNet::from(ip));
            } else {
                // The URL host parser, so entries are normalised exactly like URL hosts are
                // (lowercase, punycode, `[v6]` and the odd IPv4 spellings).
                match Host::parse(entry).map_err(|_| invalid())? {
                    Host::Ipv4(ip) => policy.networks.push(IpNet::from(IpAddr::V4(ip))),
                    Host::Ipv6(ip) => policy.networks.push(IpNet::from(IpAddr::V6(ip))),
                    Host::Domain(name) if is_plain_host_name(&name) => policy.hosts.push(name),
                    Host::Domain(_) => return Err(invalid()),
                }
            }
        }
        Ok(policy)
    }
}

/// Letters, digits, `-` and `_` in non-empty dot-separated labels: rules out wildcards and
/// other spellings that would never match a URL host exactly.
fn is_plain_host_name(name: &str) -> bool {
    name.split('.').all(|label| {
        !label.is_empty()
            && label.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
    })
}

impl UrlPolicy {
    /// Whether the service may connect to `ip`: globally reachable, or allowed by an entry
    /// (an IPv4-mapped IPv6 address matches entries for its IPv4 address).
    pub fn allows_address(&self, ip: IpAddr) -> bool {
        let canonical = ip.to_canonical();
        self.networks.iter().any(|net| net.contains(&ip) || net.contains(&canonical))
            || is_globally_reachable(ip)
    }

    /// Whether `host` (as it appears in a URL) is named by the allow list, which allows
    /// whatever it resolves to.
    pub fn allows_host_name(&self, host: &str) -> bool {
        self.hosts.iter().any(|allowed| allowed.eq_ignore_ascii_case(host))
    }

    /// Checks what can be judged without DNS: the scheme, credentials and a literal address.
    /// Returns the host name still to be resolved and checked, or `None` for a literal
    /// address, which is already judged.
    pub fn check_url_syntax<'u>(&self, url: &'u Url) -> Result<Option<&'u str>, FetchError> {
        if !matches!(url.scheme(), "http" | "https") {
            return Err(FetchError::NotAllowed(format!(
                "only http and https URLs are allowed, not {}",
                url.scheme()
            )));
        }
        if !url.username().is_empty() || url.password().is_some() {
            return Err(FetchError::NotAllowed("URLs with credentials are not allowed".into()));
        }
        // The WHATWG parser has already turned decimal, octal, hex and short IPv4 spellings
        // of http(s) hosts into `Host::Ipv4`, and refused IPv6 zone ids.
        let ip = match url.host() {
            Some(Host::Domain(name)) => return Ok(Some(name)),
            Some(Host::Ipv4(ip)) => IpAddr::V4(ip),
            Some(Host::Ipv6(ip)) => IpAddr::V6(ip),
            None => return Err(FetchError::NotAllowed("the URL has no host".into())),
        };
        if self.allows_address(ip) {
            Ok(None)
        } else {
            Err(FetchError::NotAllowed(format!("the address {ip} is not publicly reachable")))
        }
    }
}

/// How host names become addresses: the system resolver, or a fixed table in tests (which
/// also counts lookups, to show each connection costs exactly one).
#[derive(Debug, Clone)]
pub(crate) enum Lookup {
    System,
    #[cfg(test)]
    Fixed {
        table: Arc<HashMap<String, Vec<IpAddr>>>,
        calls: Arc<AtomicUsize>,
    },
}

impl Lookup {
    async fn lookup(&self, host: &str) -> std::io::Result<Vec<IpAddr>> {
        match self {
            Lookup::System => {
                let addrs = tokio::net::lookup_host((host, 0)).await?;
                Ok(addrs.map(|addr| addr.ip()).collect())
            }
            #[cfg(test)]
            Lookup::Fixed { table, calls } => {
                calls.fetch_add(1, Ordering::SeqCst);
                Ok(table.get(host).cloned().unwrap_or_default())
            }
        }
    }
}

/// The policy and the resolver it judges: shared by the connection-time resolver and the
/// submission-time checks so both apply the very same rules.
#[derive(Debug)]
pub(crate) struct Guard {
    pub(crate) policy: UrlPolicy,
    pub(crate) lookup: Lookup,
}

impl Guard {
    /// Resolves `host` and returns its addresses when every one may be connected to.
    ///
    /// One refused address refuses the host: a resolver answering with a public and a
    /// private address must not get the service to reach the private one.
    pub(crate) async fn resolve(&self, host: &str) -> Result<Vec<IpAddr>, FetchError> {
        let unresolved = || FetchError::Failed {
            message: format!("could not resolve the host {host}"),
            upstream_status: None,
        };
        let addresses = self.lookup.lookup(host).await.map_err(|error| {
            tracing::debug!(host, %error, "host name lookup failed");
            unresolved()
        })?;
        if addresses.is_empty() {
            return Err(unresolved());
        }
        if self.policy.allows_host_name(host)
            || addresses.iter().all(|&ip| self.policy.allows_address(ip))
        {
            Ok(addresses)
        } else {
            // The addresses themselves stay out of the message: they may describe the
            // service's own network.
            Err(FetchError::NotAllowed(format!(
                "the host {host} resolves to an address that is not publicly reachable"
            )))
        }
    }
}

#[cfg(test)]
impl Guard {
    /// A guard over a fixed host table, and the count of lookups made through it.
    pub(crate) fn fixed(policy: &str, table: &[(&str, &[&str])]) -> (Guard, Arc<AtomicUsize>) {
        let table = table
            .iter()
            .map(|(host, addresses)| {
                (
                    host.to_string(),
                    addresses.iter().map(|address| address.parse().unwrap()).collect(),
                )
            })
            .collect();
        let calls = Arc::default();
        let lookup = Lookup::Fixed { table: Arc::new(table), calls: Arc::clone(&calls) };
        (Guard { policy: policy.parse().unwrap(), lookup }, calls)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ip(text: &str) -> IpAddr {
        text.parse().unwrap()
    }

    #[test]
    fn ipv4_registry_blocks_and_their_edges() {
        let refused = [
            "0.0.0.0",
            "0.255.255.255",
            "10.0.0.0",
            "10.255.255.255",
            "100.64.0.0",
            "100.127.255.255",
            "127.0.0.1",
            "127.255.255.255",
            "169.254.0.0",
            "169.254.169.254",
            "169.254.255.255",
            "172.16.0.0",
            "172.31.255.255",
            "192.0.0.0",
            "192.0.0.8",
            "192.0.0.11",
            "192.0.0.170",
            "192.0.0.171",
            "192.0.0.255",
            "192.0.2.0",
            "192.0.2.255",
            "192.88.99.0",
            "192.88.99.2",
            "192.88.99.255",
            "192.168.0.0",
            "192.168.255.255",
            "198.18.0.0",
            "198.19.255.255",
            "198.51.100.0",
            "198.51.100.255",
            "203.0.113.0",
            "203.0.113.255",
            "224.0.0.0",
            "239.255.255.255",
            "240.0.0.0",
            "255.255.255.254",
            "255.255.255.255",
        ];
        for address in refused {
            assert!(!is_globally_reachable(ip(address)), "{address} should be refused");
        }
        let allowed = [
            "1.1.1.1",
            "8.8.8.8",
            "9.255.255.255",
            "11.0.0.0",
            "100.63.255.255",
            "100.128.0.0",
            "126.255.255.255",
            "128.0.0.0",
            "169.253.255.255",
            "169.255.0.0",
            "172.15.255.255",
            "172.32.0.0",
            "191.255.255.255",
            "192.0.0.9",
            "192.0.0.10",
            "192.0.1.0",
            "192.0.3.0",
            "192.31.196.1",
            "192.52.193.1",
            "192.88.98.255",
            "192.88.100.0",
            "192.167.255.255",
            "192.169.0.0",
            "192.175.48.1",
            "198.17.255.255",
            "198.20.0.0",
            "198.51.99.255",
            "198.51.101.0",
            "203.0.112.255",
            "203.0.114.0",
            "223.255.255.255",
        ];
        for address in allowed {
            assert!(is_globally_reachable(ip(address)), "{address} should be allowed");
        }
    }

    #[test]
    fn ipv6_registry_blocks_and_their_edges() {
        let refused = [
            "::",
            "::1",
            "100::",
            "100::ffff:ffff:ffff:ffff",
            "100:0:0:1::1",
            "64:ff9b:1::",
            "64:ff9b:1:ffff:ffff:ffff:ffff:ffff",
            "2001::",
            "2001:0:4136:e378:8000:63bf:3fff:fdd2",
            "2001:1::4",
            "2001:2::",
            "2001:2:0:ffff::1",
            "2001:10::1",
            "2001:20::1",
            "2001:30::1",
            "2001:1ff:ffff:ffff:ffff:ffff:ffff:ffff",
            "2001:db8::",
            "2001:db8:ffff:ffff:ffff:ffff:ffff:ffff",
            "3fff::",
            "3fff:fff:ffff:ffff:ffff:ffff:ffff:ffff",
            "5f00::1",
            "fc00::",
            "fd00:ec2::254",
            "fdff:ffff:ffff:ffff:ffff:ffff:ffff:ffff",
            "fe80::",
            "fe80::1",
            "febf:ffff:ffff:ffff:ffff:ffff:ffff:ffff",
            "fec0::1",
            "feff:ffff:ffff:ffff:ffff:ffff:ffff:ffff",
            "ff00::",
            "ff02::1",
            "ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff",
            "1fff:ffff:ffff:ffff:ffff:ffff:ffff:ffff",
            "4000::1",
            "::ffff:0:7f00:1",
        ];
        for address in refused {
            assert!(!is_globally_reachable(ip(address)), "{address} should be refused");
        }
        let allowed = [
            "2000::",
            "2001:1::1",
            "2001:1::2",
            "2001:1::3",
            "2001:3::1",
            "2001:4:112::1",
            "2001:200::",
            "2001:db7:ffff:ffff:ffff:ffff:ffff:ffff",
            "2001:db9::",
            "2001:4860:4860::8888",
            "2606:4700:4700::1111",
            "2620:4f:8000::1",
            "3fff:1000::",
        ];
        for address in allowed {
            assert!(is_globally_reachable(ip(address)), "{address} should be allowed");
        }
    }

    #[test]
    fn ipv6_forms_of_ipv4_are_judged_by_their_ipv4() {
        let refused = [
            // IPv4-mapped.
            "::ffff:127.0.0.1",
            "::ffff:7f00:1",
            "::ffff:10.0.0.1",
            "::ffff:169.254.169.254",
            "::ffff:0.0.0.0",
            // IPv4-compatible.
            "::127.0.0.1",
            "::10.0.0.1",
            "::169.254.169.254",
            // NAT64 well-known prefix.
            "64:ff9b::127.0.0.1",
            "64:ff9b::a9fe:a9fe",
            "64:ff9b::192.168.1.1",
            // 6to4.
            "2002:7f00:1::",
            "2002:a9fe:a9fe::1",
            "2002:c0a8:101:1::1",
            "2002::",
        ];
        for address in refused {
            assert!(!is_globally_reachable(ip(address)), "{address} should be refused");
        }
        for address in ["::ffff:8.8.8.8", "::8.8.8.8", "64:ff9b::8.8.8.8", "2002:808:808::1"] {
            assert!(is_globally_reachable(ip(address)), "{address} should be allowed");
        }
    }

    #[test]
    fn policy_parses_addresses_networks_and_host_names() {
        let policy: UrlPolicy =
            " 127.0.0.1, 10.1.0.0/16 ,fd00::/8,[::1], Images.Internal.example ,,minio"
                .parse()
                .unwrap();
        assert!(policy.allows_address(ip("127.0.0.1")));
        assert!(policy.allows_address(ip("::ffff:127.0.0.1")));
        assert!(!policy.allows_address(ip("127.0.0.2")));
        assert!(policy.allows_address(ip("10.1.255.255")));
        assert!(!policy.allows_address(ip("10.2.0.0")));
        assert!(policy.allows_address(ip("fd00:ec2::254")));
        assert!(policy.allows_address(ip("::1")));
        assert!(policy.allows_address(ip("8.8.8.8")));
        assert!(policy.allows_host_name("images.internal.example"));
        assert!(policy.allows_host_name("IMAGES.internal.EXAMPLE"));
        assert!(policy.allows_host_name("minio"));
        assert!(!policy.allows_host_name("internal.example"));
        assert!(!policy.allows_host_name("x.images.internal.example"));
        assert!(!policy.allows_host_name("minio."));
    }

    #[test]
    fn policy_normalises_entries_like_url_hosts() {
        let policy: UrlPolicy = "10.0.0.1/8,0x7f.1,Bücher.example".parse().unwrap();
        // A network with host bits set means the network.
        assert!(policy.allows_address(ip("10.200.0.1")));
        // The hex short form is an address, as it would be in a URL.
        assert!(policy.allows_address(ip("127.0.0.1")));
        assert!(policy.allows_host_name("xn--bcher-kva.example"));
    }

    #[test]
    fn empty_policy_allows_only_global_addresses() {
        for text in ["", " ", ","] {
            let policy: UrlPolicy = text.parse().unwrap();
            assert_eq!(policy, UrlPolicy::default());
            assert!(!policy.allows_address(ip("127.0.0.1")));
            assert!(policy.allows_address(ip("1.1.1.1")));
        }
    }

    #[test]
    fn policy_refuses_invalid_entries() {
        for text in [
            "10.0.0.0/33",
            "10.0.0/8",
            "fd00::/129",
            "*.example.com",
            "http://example.com",
            "example.com:8080",
            "user@example.com",
            "exa mple.com",
            "a..b",
            "[::1",
            "256.0.0.1",
            "127.0.0.1, bad/entry",
        ] {
            let error = text.parse::<UrlPolicy>().unwrap_err();
            assert!(text.contains(&error.entry), "{text:?} gave {error}");
        }
    }

    fn syntax(url: &str) -> Result<Option<String>, FetchError> {
        let url = Url::parse(url).unwrap();
        UrlPolicy::default().check_url_syntax(&url).map(|host| host.map(str::to_owned))
    }

    #[test]
    fn odd_ipv4_spellings_are_parsed_as_addresses() {
        // The WHATWG URL parser, which the `url` crate implements, reads these as 127.0.0.1
        // for http and https: the guard then sees the address, never a "host name".
        for spelling in [
            "http://2130706433/",
            "http://0177.0.0.1/",
            "http://0x7f.1/",
            "http://0x7f000001/",
            "http://017700000001/",
            "http://127.1/",
            "http://127.0.1/",
            "http://127.0.0.1./",
            "https://0x7F.0.0.1:8443/",
        ] {
            let url = Url::parse(spelling).unwrap();
            assert_eq!(url.host(), Some(Host::Ipv4(Ipv4Addr::LOCALHOST)), "{spelling}");
            assert!(matches!(syntax(spelling), Err(FetchError::NotAllowed(_))), "{spelling}");
        }
        assert_eq!(
            Url::parse("http://0xa9.0376.43518/").unwrap().host(),
            Some(Host::Ipv4(Ipv4Addr::new(169, 254, 169, 254)))
        );
        // A dotted name whose last label is numeric is not a host name either.
        assert!(Url::parse("http://example.0x7f/").is_err());
        assert!(Url::parse("http://4294967296/").is_err());
    }

    #[test]
    fn literal_addresses_are_judged_without_dns() {
        assert_eq!(syntax("http://8.8.8.8/a.png").unwrap(), None);
        assert_eq!(syntax("https://[2606:4700:4700::1111]:8443/").unwrap(), None);
        for url in [
            "http://169.254.169.254/latest/meta-data/",
            "http://[::1]/",
            "http://[::ffff:127.0.0.1]/",
            "http://[::ffff:a9fe:a9fe]/",
            "http://[64:ff9b::10.0.0.1]/",
            "http://[fd00:ec2::254]/",
            "http://[2002:c0a8:101::1]/",
            "http://0/",
        ] {
            let error = syntax(url).unwrap_err();
            assert_eq!(error.code().as_str(), "url_not_allowed", "{url}");
        }
    }

    #[test]
    fn only_http_and_https_without_credentials() {
        assert_eq!(syntax("https://example.com:1/x").unwrap().as_deref(), Some("example.com"));
        assert_eq!(syntax("HTTP://EXAMPLE.com/").unwrap().as_deref(), Some("example.com"));
        for url in [
            "ftp://example.com/a.png",
            "file:///etc/passwd",
            "gopher://example.com/",
            "data:image/png;base64,AAAA",
            "http://user@example.com/",
            "http://user:pass@example.com/",
            "http://:pass@example.com/",
        ] {
            let error = syntax(url).unwrap_err();
            assert!(matches!(error, FetchError::NotAllowed(_)), "{url}: {error:?}");
        }
    }

    #[test]
    fn ipv6_zone_ids_do_not_parse() {
        assert!(Url::parse("http://[fe80::1%25eth0]/").is_err());
        assert!(Url::parse("http://[fe80::1%eth0]/").is_err());
    }

    #[tokio::test]
    async fn every_resolved_address_must_pass() {
        let (guard, _) = Guard::fixed(
            "10.0.0.0/8,intranet.example",
            &[
                ("public.example", &["1.1.1.1", "2606:4700::1"]),
                ("mixed.example", &["1.1.1.1", "192.168.0.1"]),
                ("metadata.example", &["169.254.169.254"]),
                ("allowed-net.example", &["1.1.1.1", "10.9.8.7"]),
                ("intranet.example", &["192.168.0.1", "127.0.0.1"]),
            ],
        );
        assert_eq!(guard.resolve("public.example").await.unwrap().len(), 2);
        assert_eq!(guard.resolve("allowed-net.example").await.unwrap().len(), 2);
        assert_eq!(guard.resolve("intranet.example").await.unwrap().len(), 2);
        for host in ["mixed.example", "metadata.example"] {
            let error = guard.resolve(host).await.unwrap_err();
            assert_eq!(error.code().as_str(), "url_not_allowed");
            assert!(
                !error.to_string().contains("169.254") && !error.to_string().contains("192.168")
            );
        }
        let error = guard.resolve("nowhere.example").await.unwrap_err();
        assert_eq!(error.code().as_str(), "fetch_failed");
    }
}
