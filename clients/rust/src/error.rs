//! The client's error type.

use std::time::Duration;

use crate::models::Problem;

/// Everything a call can fail with.
///
/// ```no_run
/// # async fn run(client: progimage_client::Client, id: uuid::Uuid) {
/// match client.image(id).await {
///     Ok(image) => println!("{} x {}", image.width, image.height),
///     Err(error) if error.is_not_found() => println!("no such image"),
///     Err(error) => eprintln!("{error}"),
/// }
/// # }
/// ```
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// The server answered with a problem document (any 4xx or 5xx). Boxed so that
    /// `Result<_, Error>` stays small on the success path.
    #[error("{0}")]
    Api(Box<Problem>),
    /// The request did not complete: connection refused, reset, TLS, a transport timeout.
    #[error("HTTP request failed: {0}")]
    Http(#[from] reqwest::Error),
    /// A wait (such as [`crate::Jobs::wait`]) ran out of time.
    #[error("gave up waiting after {0:?}")]
    Timeout(Duration),
    /// The server answered something that is not the documented response.
    #[error("unexpected response (HTTP {status}): {message}")]
    UnexpectedResponse {
        /// The HTTP status.
        status: u16,
        /// What was wrong with it.
        message: String,
    },
    /// A local file could not be read.
    #[error("{0}")]
    Io(#[from] std::io::Error),
    /// An argument the client itself refuses (a bad base URL, unparsable ops text).
    #[error("{0}")]
    InvalidInput(String),
}

impl Error {
    /// The problem document, when the server sent one.
    ///
    /// ```no_run
    /// # async fn run(client: progimage_client::Client, id: uuid::Uuid) {
    /// if let Err(error) = client.delete_image(id).await {
    ///     if let Some(problem) = error.problem() {
    ///         eprintln!("request {} failed: {}", problem.request_id, problem.detail);
    ///     }
    /// }
    /// # }
    /// ```
    pub fn problem(&self) -> Option<&Problem> {
        match self {
            Error::Api(problem) => Some(problem.as_ref()),
            _ => None,
        }
    }

    /// The problem's code (`not_found`, `invalid_parameter`, ...).
    ///
    /// ```
    /// let error = progimage_client::Error::Timeout(std::time::Duration::from_secs(1));
    /// assert_eq!(error.code(), None);
    /// ```
    pub fn code(&self) -> Option<&str> {
        self.problem().map(|problem| problem.code.as_str())
    }

    /// The HTTP status of an answered request.
    ///
    /// ```
    /// let error = progimage_client::Error::UnexpectedResponse { status: 502, message: "html".into() };
    /// assert_eq!(error.status(), Some(502));
    /// ```
    pub fn status(&self) -> Option<u16> {
        match self {
            Error::Api(problem) => Some(problem.status),
            Error::UnexpectedResponse { status, .. } => Some(*status),
            Error::Http(error) => error.status().map(|status| status.as_u16()),
            _ => None,
        }
    }

    /// The parameter or JSON path at fault, when the problem names one.
    ///
    /// ```no_run
    /// # async fn run(client: progimage_client::Client, id: uuid::Uuid) {
    /// let transform = progimage_client::Transform::new().width(0);
    /// let error = client.download(id, &transform).await.unwrap_err();
    /// assert_eq!(error.param(), Some("ops"));
    /// # }
    /// ```
    pub fn param(&self) -> Option<&str> {
        self.problem().and_then(|problem| problem.param.as_deref())
    }

    /// The server's request id, to find the request in its logs.
    ///
    /// ```no_run
    /// # async fn run(client: progimage_client::Client, id: uuid::Uuid) {
    /// if let Err(error) = client.image(id).await {
    ///     eprintln!("{error} [{}]", error.request_id().unwrap_or("-"));
    /// }
    /// # }
    /// ```
    pub fn request_id(&self) -> Option<&str> {
        self.problem().map(|problem| problem.request_id.as_str()).filter(|id| !id.is_empty())
    }

    /// 404 `not_found`: an unknown id, or another tenant's.
    ///
    /// ```no_run
    /// # async fn run(client: progimage_client::Client, id: uuid::Uuid) -> Result<(), progimage_client::Error> {
    /// match client.delete_image(id).await {
    ///     Err(error) if error.is_not_found() => Ok(()), // already gone
    ///     other => other,
    /// }
    /// # }
    /// ```
    pub fn is_not_found(&self) -> bool {
        self.code() == Some("not_found")
    }

    /// 401 `unauthorized`: a missing or unknown API key.
    ///
    /// ```
    /// let error = progimage_client::Error::InvalidInput("x".into());
    /// assert!(!error.is_unauthorized());
    /// ```
    pub fn is_unauthorized(&self) -> bool {
        self.code() == Some("unauthorized")
    }

    /// A 400: something in the request is wrong (see [`Error::param`]).
    ///
    /// ```
    /// let error = progimage_client::Error::InvalidInput("x".into());
    /// assert!(!error.is_invalid_request());
    /// ```
    pub fn is_invalid_request(&self) -> bool {
        self.problem().is_some_and(|problem| problem.status == 400)
    }

    /// Whether the same request may succeed later: 429, 5xx, or a failed connection.
    ///
    /// ```
    /// let error = progimage_client::Error::Timeout(std::time::Duration::from_secs(5));
    /// assert!(error.is_retryable());
    /// ```
    pub fn is_retryable(&self) -> bool {
        match self {
            Error::Api(problem) => problem.status == 429 || problem.status >= 500,
            Error::UnexpectedResponse { status, .. } => *status >= 500,
            Error::Http(_) | Error::Timeout(_) => true,
            Error::Io(_) | Error::InvalidInput(_) => false,
        }
    }
}
