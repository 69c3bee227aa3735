#![doc = include_str!("../README.md")]
//!
//! ## Map
//!
//! - [`Client`]: images (upload, metadata, list, delete, download, URLs), stateless
//!   transforms and the webhook secret; [`Client::jobs`] gives [`Jobs`].
//! - [`Transform`]: steps and output settings, printed as the server's canonical `ops`
//!   text ([`Transform::ops_text`]) or its JSON op form ([`Transform::operations_json`]).
//! - [`JobRequest`] / [`JobItemRequest`]: bodies of `POST /v1/jobs`.
//! - [`verify_webhook`]: checks a `ProgImage-Signature` header.
//! - [`Error`]: every failure; [`Error::Api`] carries the server's [`Problem`].
//!
//! TLS: reqwest is built with rustls and no bundled crypto provider; [`Client::new`]
//! installs rustls' ring provider as the process default unless one is already installed.

mod client;
mod error;
mod format;
mod jobs;
mod models;
mod transform;
mod webhook;

pub use client::{CacheStatus, Client, Download, UploadFile, UploadOptions};
pub use error::Error;
pub use format::Format;
pub use jobs::{JobItemRequest, JobRequest, JobSubmission, Jobs};
pub use models::{
    Image, ImagePage, ItemStatus, Job, JobAccepted, JobItem, JobPage, JobStatus, Problem, Webhook,
};
pub use transform::{Axis, Fit, Gravity, Mask, SvgMode, Transform};
pub use webhook::{
    SIGNATURE_HEADER, WebhookError, sign_webhook, verify_webhook, verify_webhook_at,
};
