//! Logging for both binaries: one set-up, with panics logged as events.

use tracing_subscriber::EnvFilter;

/// Installs the subscriber (`RUST_LOG`, else info with the chatty crates at warn; `json` or
/// text lines) and the panic hook.
pub fn init(format: &str) {
    let filter = EnvFilter::try_from_default_env()
        .unwrap_or_else(|_| EnvFilter::new("info,sqlx=warn,lapin=warn,tower_http=warn"));
    let builder = tracing_subscriber::fmt().with_env_filter(filter);
    if format == "json" {
        builder.json().init();
    } else {
        builder.init();
    }
    log_panics();
}

/// Panics become error events with their message, location and thread (JSON logs stay
/// JSON) instead of raw lines on stderr. They are caught where they can happen: a decoder
/// asserting on a malformed file answers 422, a bug of ours 500, and the process goes on.
fn log_panics() {
    std::panic::set_hook(Box::new(|info| {
        let location = info.location().map(|l| format!("{}:{}", l.file(), l.line()));
        tracing::error!(
            panic.message = info.payload_as_str().unwrap_or("(not a string)"),
            panic.location = location.as_deref().unwrap_or("unknown"),
            thread = std::thread::current().name().unwrap_or("unnamed"),
            "panic"
        );
    }));
}
