//! `progimage-worker`: parse the config, set up logging, run the worker pool.

use std::time::Duration;

use clap::Parser;
use progimage_core::{sandbox, telemetry};
use progimage_worker::Config;

fn main() -> anyhow::Result<()> {
    // Re-executed as an image sandbox child: serve that and exit.
    sandbox::child_main_if_requested();
    sandbox::use_current_exe()?;
    let config = Config::parse();
    telemetry::init(&config.shared.log_format);
    let runtime = tokio::runtime::Builder::new_multi_thread().enable_all().build()?;
    let result = runtime.block_on(progimage_worker::run(config));
    sandbox::shutdown();
    runtime.shutdown_timeout(Duration::from_millis(500));
    result
}
