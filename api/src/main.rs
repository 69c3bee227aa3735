//! `progimage-api`: parse the config, set up logging, run.

use std::time::Duration;

use clap::Parser;
use progimage_api::Config;
use progimage_core::{sandbox, telemetry};

fn main() -> anyhow::Result<()> {
    // Re-executed as an image sandbox child: serve that and exit.
    sandbox::child_main_if_requested();
    sandbox::use_current_exe()?;
    let config = Config::parse();
    telemetry::init(&config.shared.log_format);
    let runtime = tokio::runtime::Builder::new_multi_thread().enable_all().build()?;
    let result = runtime.block_on(progimage_api::run(config));
    sandbox::shutdown();
    // Image work still running on a blocking thread is abandoned, not waited for: the
    // process exits within its shutdown bound whatever is running.
    runtime.shutdown_timeout(Duration::from_millis(500));
    result
}
