//! API keys and tenants. Keys are kept only as SHA-256 digests; a request's bearer key is
//! hashed and looked up. With no keys configured the service is open and everything
//! belongs to the tenant `default`.

use std::collections::HashMap;

use axum::extract::{Request, State};
use axum::http::header;
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use progimage_core::service::sha256_hex;

use crate::context::AppContext;
use crate::error::ApiError;
use progimage_core::problem::ErrorCode;

/// The tenant a request acts for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Tenant(pub String);

/// The tenant of open mode.
pub const OPEN_TENANT: &str = "default";

/// Hashed keys → tenant names.
#[derive(Debug, Clone, Default)]
pub struct ApiKeys {
    by_digest: HashMap<String, String>,
}

impl ApiKeys {
    /// Parses `tenant:key,tenant:key`; an empty text means open mode.
    pub fn parse(text: &str) -> Result<ApiKeys, String> {
        let mut by_digest = HashMap::new();
        for entry in text.split(',').map(str::trim).filter(|entry| !entry.is_empty()) {
            let (tenant, key) = entry
                .split_once(':')
                .ok_or_else(|| "PROGIMAGE_API_KEYS entries must be tenant:key".to_string())?;
            let tenant_ok = !tenant.is_empty()
                && tenant.bytes().all(|b| b.is_ascii_alphanumeric() || b"._-".contains(&b));
            if !tenant_ok {
                return Err(format!(
                    "PROGIMAGE_API_KEYS: tenant {tenant:?} must be letters, digits, '.', '_' or '-'"
                ));
            }
            let key_ok = !key.is_empty()
                && key.bytes().all(|b| b.is_ascii_alphanumeric() || b"._~+/=-".contains(&b));
            if !key_ok {
                return Err(format!(
                    "PROGIMAGE_API_KEYS: the key of tenant {tenant:?} must match [A-Za-z0-9._~+/=-]+"
                ));
            }
            by_digest.insert(sha256_hex(key.as_bytes()), tenant.to_string());
        }
        Ok(ApiKeys { by_digest })
    }

    /// Whether keys are configured (otherwise the service is open).
    pub fn enabled(&self) -> bool {
        !self.by_digest.is_empty()
    }

    /// The tenant of a bearer key.
    pub fn tenant(&self, key: &str) -> Option<&str> {
        self.by_digest.get(&sha256_hex(key.as_bytes())).map(String::as_str)
    }
}

/// Middleware on `/v1`: resolves the tenant or answers 401.
pub async fn require_tenant(
    State(context): State<AppContext>,
    mut request: Request,
    next: Next,
) -> Response {
    let keys = &context.api_keys;
    let tenant = if keys.enabled() {
        let bearer = request
            .headers()
            .get(header::AUTHORIZATION)
            .and_then(|value| value.to_str().ok())
            .and_then(|value| {
                value.strip_prefix("Bearer ").or_else(|| value.strip_prefix("bearer "))
            })
            .map(str::trim);
        match bearer.and_then(|key| keys.tenant(key)) {
            Some(tenant) => tenant.to_string(),
            None => {
                let detail = if bearer.is_some() {
                    "unknown API key"
                } else {
                    "an API key is required: Authorization: Bearer <key>"
                };
                return ApiError::new(ErrorCode::Unauthorized, detail).into_response();
            }
        }
    } else {
        OPEN_TENANT.to_string()
    };
    request.extensions_mut().insert(Tenant(tenant));
    next.run(request).await
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_and_hashes_keys() {
        let keys = ApiKeys::parse("acme:s3cr3t, globex:t0ps3cr3t,acme:other+/=").unwrap();
        assert!(keys.enabled());
        assert_eq!(keys.tenant("s3cr3t"), Some("acme"));
        assert_eq!(keys.tenant("other+/="), Some("acme"));
        assert_eq!(keys.tenant("t0ps3cr3t"), Some("globex"));
        assert_eq!(keys.tenant("nope"), None);
        assert!(!keys.by_digest.contains_key("s3cr3t"), "keys are stored hashed");
        assert!(!ApiKeys::parse("").unwrap().enabled());
        assert!(ApiKeys::parse("acme").is_err());
        assert!(ApiKeys::parse("acme:has space").is_err());
        assert!(ApiKeys::parse(":key").is_err());
    }
}
