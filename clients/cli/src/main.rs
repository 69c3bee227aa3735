//! `progimage`: the ProgImage command line. Bulk uploads with a resumable manifest,
//! variants, stateless transforms and jobs, over `progimage-client`.
//!
//! Exit codes: 0 ok; 1 partial failure (some files or job items failed); 2 usage error
//! (bad arguments, unreadable input); 3 the API answered an error; 4 network error or
//! timeout; 5 local I/O error (a file could not be written).

mod jobs;
mod manifest;
mod output;
mod upload;

use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Args, Parser, Subcommand};
use progimage_client::{Client, Fit, Format, Transform};

/// What the process exits with.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Exit {
    /// Everything worked.
    Ok = 0,
    /// Some files or job items failed, others did not.
    Partial = 1,
    /// Bad arguments or unreadable input.
    Usage = 2,
    /// The API answered with an error.
    Api = 3,
    /// The service could not be reached, or a wait timed out.
    Network = 4,
    /// A local file could not be written.
    Io = 5,
}

/// A failure to report: the message for stderr and the exit code.
#[derive(Debug)]
pub struct Failure {
    /// What went wrong, for a human.
    pub message: String,
    /// The exit code it maps to.
    pub exit: Exit,
}

impl Failure {
    /// A failure of the given kind.
    pub fn new(exit: Exit, message: impl Into<String>) -> Failure {
        Failure { message: message.into(), exit }
    }
}

impl From<progimage_client::Error> for Failure {
    fn from(error: progimage_client::Error) -> Failure {
        use progimage_client::Error;
        let exit = exit_for(&error);
        let message = match &error {
            Error::Http(_) => format!("cannot reach the service: {error}"),
            _ => error.to_string(),
        };
        Failure { message, exit }
    }
}

/// The exit code of a client error.
pub fn exit_for(error: &progimage_client::Error) -> Exit {
    use progimage_client::Error;
    match error {
        Error::Api(_) | Error::UnexpectedResponse { .. } => Exit::Api,
        Error::Http(_) | Error::Timeout(_) => Exit::Network,
        Error::Io(_) | Error::InvalidInput(_) => Exit::Usage,
    }
}

/// ProgImage from the command line.
#[derive(Debug, Parser)]
#[command(name = "progimage", version, about, after_help = EXIT_CODES)]
struct Cli {
    /// The service's base URL.
    #[arg(long, env = "PROGIMAGE_URL", default_value = "http://127.0.0.1:8080", global = true)]
    url: String,

    /// API key, sent as `Authorization: Bearer`.
    #[arg(long, env = "PROGIMAGE_API_KEY", hide_env_values = true, global = true)]
    api_key: Option<String>,

    #[command(subcommand)]
    command: Command,
}

const EXIT_CODES: &str = "Exit codes: 0 ok, 1 partial failure, 2 usage error, 3 API error, \
                          4 network error or timeout, 5 local I/O error";

#[derive(Debug, Subcommand)]
enum Command {
    /// Upload files and directories (recursively), resumably with a manifest.
    Upload(upload::UploadArgs),
    /// Download an image, or a variant of it.
    Get(GetArgs),
    /// Transform a local file or a URL without storing anything.
    Transform(TransformCommandArgs),
    /// Bulk jobs.
    #[command(subcommand)]
    Jobs(jobs::JobsCommand),
}

/// Steps and output settings given as flags.
#[derive(Debug, Clone, Args)]
pub struct TransformArgs {
    /// Output format: jpeg, png, webp, gif, avif, tiff, bmp or svg.
    #[arg(long)]
    format: Option<Format>,
    /// Resize to this width (px).
    #[arg(long)]
    width: Option<u32>,
    /// Resize to this height (px).
    #[arg(long)]
    height: Option<u32>,
    /// How the resize meets a box of two sides: contain, cover or fill.
    #[arg(long, value_parser = parse_fit)]
    fit: Option<Fit>,
    /// Pipeline text, applied after the resize (e.g. `rotate:90|grayscale`); repeatable.
    #[arg(long = "op", value_name = "TEXT")]
    ops: Vec<String>,
    /// Quality 1..100 for lossy formats.
    #[arg(long)]
    quality: Option<u8>,
}

fn parse_fit(text: &str) -> Result<Fit, String> {
    Fit::from_name(text).ok_or_else(|| format!("{text:?} is not contain, cover or fill"))
}

impl TransformArgs {
    /// The transform the flags describe.
    pub fn transform(&self) -> Result<Transform, Failure> {
        let mut transform = match (self.width, self.height) {
            (Some(width), Some(height)) => Transform::new().resize(width, height),
            (Some(width), None) => Transform::new().width(width),
            (None, Some(height)) => Transform::new().height(height),
            (None, None) if self.fit.is_some() => {
                return Err(Failure::new(Exit::Usage, "--fit needs --width or --height"));
            }
            (None, None) => Transform::new(),
        };
        if let Some(fit) = self.fit {
            transform = transform.fit(fit);
        }
        for text in &self.ops {
            transform = transform
                .ops(text)
                .map_err(|error| Failure::new(Exit::Usage, error.to_string()))?;
        }
        if let Some(format) = self.format {
            transform = transform.format(format);
        }
        if let Some(quality) = self.quality {
            transform = transform.quality(quality);
        }
        Ok(transform)
    }
}

#[derive(Debug, Args)]
struct GetArgs {
    /// The image id.
    id: uuid::Uuid,
    #[command(flatten)]
    transform: TransformArgs,
    /// Where to write it (`-` for stdout); default `<id>.<format>`.
    #[arg(short, long)]
    output: Option<PathBuf>,
}

#[derive(Debug, Args)]
struct TransformCommandArgs {
    /// A local image file, or an http(s) URL the service fetches.
    source: String,
    #[command(flatten)]
    transform: TransformArgs,
    /// Where to write the result (`-` for stdout).
    #[arg(short, long)]
    output: PathBuf,
}

#[tokio::main]
async fn main() -> ExitCode {
    let cli = Cli::parse();
    match run(cli).await {
        Ok(exit) => ExitCode::from(exit as u8),
        Err(failure) => {
            eprintln!("error: {}", failure.message);
            ExitCode::from(failure.exit as u8)
        }
    }
}

async fn run(cli: Cli) -> Result<Exit, Failure> {
    let mut client = Client::new(&cli.url)?;
    if let Some(key) = cli.api_key.filter(|key| !key.is_empty()) {
        client = client.with_api_key(key);
    }
    match cli.command {
        Command::Upload(args) => upload::run(&client, args).await,
        Command::Get(args) => get(&client, args).await,
        Command::Transform(args) => transform(&client, args).await,
        Command::Jobs(command) => jobs::run(&client, command).await,
    }
}

async fn get(client: &Client, args: GetArgs) -> Result<Exit, Failure> {
    let transform = args.transform.transform()?;
    let download = client.download(args.id, &transform).await?;
    let output = args.output.unwrap_or_else(|| {
        let extension = download.format().map_or("bin", Format::name);
        PathBuf::from(format!("{}.{extension}", args.id))
    });
    output::write(&output, &download.bytes).await?;
    let cache = download.cache.map(|cache| format!(", cache {cache:?}").to_lowercase());
    eprintln!(
        "wrote {} ({}{})",
        output.display(),
        output::human_bytes(download.bytes.len() as u64),
        cache.unwrap_or_default()
    );
    Ok(Exit::Ok)
}

async fn transform(client: &Client, args: TransformCommandArgs) -> Result<Exit, Failure> {
    let transform = args.transform.transform()?;
    let is_url = args.source.starts_with("http://") || args.source.starts_with("https://");
    let download = if is_url {
        client.transform_url(&args.source, &transform).await?
    } else {
        let bytes = tokio::fs::read(&args.source).await.map_err(|error| {
            Failure::new(Exit::Usage, format!("cannot read {}: {error}", args.source))
        })?;
        client.transform_bytes(bytes, &transform).await?
    };
    output::write(&args.output, &download.bytes).await?;
    eprintln!(
        "wrote {} ({}, {})",
        args.output.display(),
        output::human_bytes(download.bytes.len() as u64),
        download.content_type
    );
    Ok(Exit::Ok)
}
