//! The outbound HTTP client: fetches `url` sources and posts webhooks, connecting only to
//! addresses the guard has checked.
//!
//! Host names are resolved by a custom reqwest resolver that checks every address before
//! reqwest sees it, so the address that was judged is the address that is connected to:
//! there is no second lookup for DNS rebinding to slip through. Literal addresses, which
//! reqwest never hands to a resolver, are checked before each request. Redirects are followed
//! here rather than by reqwest so each hop is checked and counted.
//!
//! `redirect` follows a GET's redirects hop by hop, `body` reads an answer's body within the
//! byte limit; the client, its resolver and the request and error plumbing are here.

mod body;
mod redirect;
#[cfg(test)]
mod tests;

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use bytes::Bytes;
use reqwest::StatusCode;
use reqwest::dns::{Addrs, Name, Resolve, Resolving};
use reqwest::header::{CONTENT_TYPE, HeaderMap, HeaderValue};
use url::Url;

use super::guard::{Guard, Lookup};
use super::{FetchError, UrlPolicy, install_crypto_provider};
use crate::limits::Limits;

const USER_AGENT: &str = concat!("ProgImage/", env!("CARGO_PKG_VERSION"));

/// Bounds on one fetch.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct FetchOptions {
    /// Largest body accepted (`PROGIMAGE_MAX_UPLOAD_BYTES`).
    pub max_bytes: u64,
    /// Time for the whole fetch, redirects and body included (`PROGIMAGE_FETCH_TIMEOUT_S`).
    pub timeout: Duration,
}

impl Default for FetchOptions {
    fn default() -> FetchOptions {
        FetchOptions { max_bytes: Limits::default().max_bytes, timeout: Duration::from_secs(10) }
    }
}

/// A fetched body and what the server said about it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Fetched {
    /// The whole body, at most the byte limit.
    pub bytes: Bytes,
    /// The `Content-Type` header, when present and readable.
    pub content_type: Option<String>,
    /// The URL the body came from, after redirects.
    pub final_url: Url,
}

/// The HTTP client could not be set up (the TLS configuration failed to load).
#[derive(Debug, thiserror::Error)]
#[error("could not build the HTTP client")]
pub struct ClientBuildError(#[from] reqwest::Error);

/// The outbound HTTP client; cheap to clone, so build it once at start-up and share it.
#[derive(Debug, Clone)]
pub struct HttpClient {
    client: reqwest::Client,
    guard: Arc<Guard>,
    options: FetchOptions,
}

/// Resolves with the guard: reqwest only ever sees addresses that passed.
struct GuardedResolver(Arc<Guard>);

impl Resolve for GuardedResolver {
    fn resolve(&self, name: Name) -> Resolving {
        let guard = Arc::clone(&self.0);
        Box::pin(async move {
            let addresses = guard.resolve(name.as_str()).await?;
            // Port 0 is replaced by the URL's port.
            let addrs: Addrs = Box::new(addresses.into_iter().map(|ip| SocketAddr::new(ip, 0)));
            Ok(addrs)
        })
    }
}

impl HttpClient {
    /// A client that applies `policy` to every URL and address it is given.
    pub fn new(policy: UrlPolicy, options: FetchOptions) -> Result<HttpClient, ClientBuildError> {
        HttpClient::with_guard(Guard { policy, lookup: Lookup::System }, options)
    }

    fn with_guard(guard: Guard, options: FetchOptions) -> Result<HttpClient, ClientBuildError> {
        install_crypto_provider();
        let guard = Arc::new(guard);
        let client = reqwest::Client::builder()
            .dns_resolver(GuardedResolver(Arc::clone(&guard)))
            .redirect(reqwest::redirect::Policy::none())
            // A proxy would resolve host names itself, out of the guard's sight.
            .no_proxy()
            .user_agent(USER_AGENT)
            .build()?;
        Ok(HttpClient { client, guard, options })
    }

    /// Checks a URL at submission time without fetching it: scheme, credentials, a literal
    /// address, or every address the host resolves to.
    ///
    /// A host that does not resolve is `Failed`, not `NotAllowed`: whether a source can be
    /// fetched is found out later, per item.
    pub(crate) async fn check_url(&self, url: &str) -> Result<(), FetchError> {
        let url = parse_url(url)?;
        if let Some(host) = self.guard.policy.check_url_syntax(&url)? {
            let timeout = self.options.timeout;
            tokio::time::timeout(timeout, self.guard.resolve(host))
                .await
                .map_err(|_| timed_out(timeout))??;
        }
        Ok(())
    }

    /// Checks a URL's scheme, credentials and literal address, without resolving its host
    /// (for the second and later URLs of a host already checked with [`Self::check_url`]).
    pub(crate) fn check_url_syntax(&self, url: &str) -> Result<(), FetchError> {
        let url = parse_url(url)?;
        self.guard.policy.check_url_syntax(&url)?;
        Ok(())
    }

    /// GETs `url`, following at most three redirects, each checked like the first URL, and
    /// returns the body if the final answer is 2xx and the body within the byte limit, all
    /// within the timeout.
    pub async fn fetch(&self, url: &str) -> Result<Fetched, FetchError> {
        let url = parse_url(url)?;
        self.guard.policy.check_url_syntax(&url)?;
        let timeout = self.options.timeout;
        tokio::time::timeout(timeout, self.fetch_following_redirects(url))
            .await
            .unwrap_or_else(|_| Err(timed_out(timeout)))
    }

    /// POSTs a JSON body (with `Content-Length`) and returns the answer's status, without
    /// following redirects (a 3xx is returned like any other status) and without reading the
    /// answer's body; for webhooks, where `NotAllowed` means "do not retry".
    pub(crate) async fn post_json(
        &self,
        url: &str,
        body: Bytes,
        headers: HeaderMap,
        timeout: Duration,
    ) -> Result<StatusCode, FetchError> {
        let url = parse_url(url)?;
        self.guard.policy.check_url_syntax(&url)?;
        let request = self
            .client
            .post(url)
            .headers(headers)
            .header(CONTENT_TYPE, HeaderValue::from_static("application/json"))
            .body(body);
        tokio::time::timeout(timeout, async {
            let response = request.send().await.map_err(request_error)?;
            Ok(response.status())
        })
        .await
        .unwrap_or_else(|_| Err(timed_out(timeout)))
    }
}

fn parse_url(text: &str) -> Result<Url, FetchError> {
    Url::parse(text)
        .map_err(|_| FetchError::NotAllowed("the URL is not a valid absolute URL".into()))
}

fn timed_out(timeout: Duration) -> FetchError {
    FetchError::Failed {
        message: format!("the remote server did not answer within {timeout:?}"),
        upstream_status: None,
    }
}

/// The client-facing error for a failed request: the guard's own refusal when the resolver
/// raised one, else a short description without reqwest's internals (those go to the log).
fn request_error(error: reqwest::Error) -> FetchError {
    let mut source: Option<&(dyn std::error::Error + 'static)> = Some(&error);
    while let Some(current) = source {
        if let Some(refusal) = current.downcast_ref::<FetchError>() {
            return refusal.clone();
        }
        source = current.source();
    }
    tracing::debug!(error = ?error, "outbound request failed");
    let host = error.url().and_then(Url::host_str).unwrap_or("the remote server");
    let message = if error.is_timeout() {
        format!("{host} did not answer in time")
    } else if error.is_connect() {
        format!("could not connect to {host}")
    } else if error.is_body() || error.is_decode() {
        format!("the response from {host} was cut off or malformed")
    } else {
        format!("the request to {host} failed")
    };
    FetchError::Failed { message, upstream_status: None }
}
