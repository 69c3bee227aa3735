//! Outbound HTTP under the SSRF rules of API.md "Limits and safety": fetching `url`
//! sources and posting webhooks.
//!
//! The guard ([`UrlPolicy`], [`is_globally_reachable`]) decides which URLs and addresses may
//! be reached; [`HttpClient`] makes the connections, only ever to addresses the guard has
//! checked.

use crate::problem::ErrorCode;
use crate::problem::Problem;

mod client;
mod guard;

pub use client::{ClientBuildError, FetchOptions, Fetched, HttpClient};
pub use guard::{PolicyError, UrlPolicy, is_globally_reachable};

/// Why a fetch, a URL check or a webhook post did not succeed; each variant is one API
/// error code, and its message is meant for the client (nothing internal in it).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum FetchError {
    /// The URL or an address it leads to is refused by the SSRF rules (400 `url_not_allowed`).
    #[error("{0}")]
    NotAllowed(String),
    /// The remote body is over the byte limit (413 `payload_too_large`).
    #[error("the remote resource is larger than the byte limit")]
    TooLarge,
    /// Unreachable, non-2xx, timed out or too many redirects (422 `fetch_failed`).
    #[error("{message}")]
    Failed {
        /// What went wrong, for the client.
        message: String,
        /// The remote status when the failure is a non-2xx answer.
        upstream_status: Option<u16>,
    },
}

impl FetchError {
    /// The API error code this error is answered with.
    pub(crate) fn code(&self) -> ErrorCode {
        match self {
            FetchError::NotAllowed(_) => ErrorCode::UrlNotAllowed,
            FetchError::TooLarge => ErrorCode::PayloadTooLarge,
            FetchError::Failed { .. } => ErrorCode::FetchFailed,
        }
    }
}

/// Installs rustls' ring provider as the process default, once; later calls, and calls after
/// another provider was installed, change nothing.
///
/// reqwest is built without a bundled provider, so this must happen before any HTTPS client
/// (ours or object_store's) is built; [`HttpClient::new`] calls it.
pub fn install_crypto_provider() {
    // An error only says a default is already installed, which is all that is needed.
    let _ = rustls::crypto::ring::default_provider().install_default();
}

impl From<&FetchError> for Problem {
    fn from(error: &FetchError) -> Problem {
        let mut problem = Problem::new(error.code(), error.to_string());
        if let FetchError::Failed { upstream_status, .. } = error {
            problem.upstream_status = *upstream_status;
        }
        problem
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn errors_map_onto_api_codes() {
        let not_allowed = FetchError::NotAllowed("no".into());
        let failed = FetchError::Failed { message: "down".into(), upstream_status: Some(503) };
        assert_eq!(not_allowed.code(), ErrorCode::UrlNotAllowed);
        assert_eq!(FetchError::TooLarge.code(), ErrorCode::PayloadTooLarge);
        assert_eq!(failed.code(), ErrorCode::FetchFailed);
        assert_eq!(failed.to_string(), "down");
    }

    #[test]
    fn installing_the_crypto_provider_is_idempotent() {
        install_crypto_provider();
        install_crypto_provider();
        assert!(rustls::crypto::CryptoProvider::get_default().is_some());
    }
}
