//! Following a GET's redirects: each hop is checked like the first URL and counted.

use reqwest::StatusCode;
use reqwest::header::{HeaderValue, LOCATION};
use url::Url;

use super::{HttpClient, body, request_error};
use crate::net::{FetchError, Fetched};

/// Redirects followed by one fetch; one more is a failure.
const MAX_REDIRECTS: usize = 3;

impl HttpClient {
    /// GETs `url` and follows at most [`MAX_REDIRECTS`] redirects, then reads the final
    /// answer's body if it is 2xx.
    pub(super) async fn fetch_following_redirects(
        &self,
        mut url: Url,
    ) -> Result<Fetched, FetchError> {
        let mut redirects = 0;
        loop {
            let sent = self.client.get(url.clone()).send().await.map_err(request_error);
            let response = if redirects == 0 { sent? } else { sent.map_err(redirect_refusal)? };
            let status = response.status();
            let location = response.headers().get(LOCATION).filter(|_| is_redirect(status));
            let Some(location) = location else {
                if !status.is_success() {
                    return Err(FetchError::Failed {
                        message: format!("the remote server answered {status}"),
                        upstream_status: Some(status.as_u16()),
                    });
                }
                return body::read_body(response, url, self.options.max_bytes).await;
            };
            if redirects == MAX_REDIRECTS {
                return Err(FetchError::Failed {
                    message: format!("too many redirects (at most {MAX_REDIRECTS} are followed)"),
                    upstream_status: None,
                });
            }
            url = redirect_target(&url, location)?;
            // Checked like the first URL; a host name is checked when it is resolved.
            self.guard.policy.check_url_syntax(&url).map_err(redirect_refusal)?;
            redirects += 1;
        }
    }
}

/// The statuses whose `Location` a GET follows.
fn is_redirect(status: StatusCode) -> bool {
    matches!(status.as_u16(), 301 | 302 | 303 | 307 | 308)
}

/// The next URL of a redirect chain: `Location` resolved against the current URL.
fn redirect_target(from: &Url, location: &HeaderValue) -> Result<Url, FetchError> {
    let invalid = || FetchError::Failed {
        message: "the remote server sent an invalid redirect".into(),
        upstream_status: None,
    };
    let location = location.to_str().map_err(|_| invalid())?;
    from.join(location).map_err(|_| invalid())
}

/// A refusal met after a redirect names the redirect, so the client can tell the URL it gave
/// was fine.
fn redirect_refusal(error: FetchError) -> FetchError {
    match error {
        FetchError::NotAllowed(reason) => {
            FetchError::NotAllowed(format!("redirected to a URL that is not allowed: {reason}"))
        }
        other => other,
    }
}
