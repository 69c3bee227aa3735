//! The `PROGIMAGE_ALLOW_URLS` policy: parsing its entries, and the checks of a URL that need
//! no DNS (scheme, credentials, a literal address).

use std::net::IpAddr;
use std::str::FromStr;

use ipnet::IpNet;
use url::{Host, Url};

use super::address::is_globally_reachable;
use crate::net::FetchError;

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
    pub(crate) fn allows_host_name(&self, host: &str) -> bool {
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

#[cfg(test)]
mod tests {
    use std::net::Ipv4Addr;

    use super::*;

    fn ip(text: &str) -> IpAddr {
        text.parse().unwrap()
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
}
