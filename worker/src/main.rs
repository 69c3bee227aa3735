//! `progimage-worker`: parse the config, set up logging, run the worker pool.

use std::time::Duration;

use clap::Parser;
use progimage_core::sandbox;
use progimage_worker::Config;
use tracing_subscriber::EnvFilter;

fn main() -> anyhow::Result<()> {
    // Re-executed as an image sandbox child: serve that and exit.
    sandbox::child_main_if_requested();
    sandbox::use_current_exe()?;
    let config = Config::parse();
    let filter = EnvFilter::try_from_default_env()
        .unwrap_or_else(|_| EnvFilter::new("info,sqlx=warn,lapin=warn"));
    let builder = tracing_subscriber::fmt().with_env_filter(filter);
    if config.log_format == "json" {
        builder.json().init();
    } else {
        builder.init();
    }
    let runtime = tokio::runtime::Builder::new_multi_thread().enable_all().build()?;
    let result = runtime.block_on(progimage_worker::run(config));
    sandbox::shutdown();
    runtime.shutdown_timeout(Duration::from_millis(500));
    result
}
