//! The address guard against server-side request forgery: which URLs the service may fetch
//! from or post to, and which addresses a host name may resolve to.
//!
//! A URL passes when its scheme is http or https, it carries no credentials, and every
//! address its host stands for is globally reachable per the IANA special-purpose address
//! registries, unless `PROGIMAGE_ALLOW_URLS` names the address, a network holding it, or the
//! host itself.
//!
//! `address` classifies addresses against the registries, `policy` parses the allow list and
//! judges what a URL shows without DNS; the [`Guard`] here puts the policy and a resolver
//! together, for the client's connection-time resolver and for submission-time checks alike.

mod address;
mod policy;

#[cfg(test)]
use std::collections::HashMap;
use std::net::IpAddr;
#[cfg(test)]
use std::sync::{
    Arc,
    atomic::{AtomicUsize, Ordering},
};

pub use self::address::is_globally_reachable;
pub use self::policy::{PolicyError, UrlPolicy};
use super::FetchError;

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
