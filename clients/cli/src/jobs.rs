//! `progimage jobs`: submit (optionally waiting with a live progress bar), status, cancel.

use std::path::PathBuf;
use std::time::Duration;

use clap::{Args, Subcommand};
use indicatif::{ProgressBar, ProgressStyle};
use progimage_client::{Client, ItemStatus, Job, JobRequest, JobStatus};
use uuid::Uuid;

use crate::{Exit, Failure, TransformArgs};

/// The `progimage jobs` subcommands.
#[derive(Debug, Subcommand)]
pub enum JobsCommand {
    /// Submit a job over image ids and URLs; prints the job id.
    Submit(SubmitArgs),
    /// Show a job and its items.
    Status {
        /// The job id.
        id: Uuid,
    },
    /// Cancel a job: queued items stop, running ones finish.
    Cancel {
        /// The job id.
        id: Uuid,
    },
}

/// The arguments of `progimage jobs submit`.
#[derive(Debug, Args)]
pub struct SubmitArgs {
    /// A file with one image id or http(s) URL per line (blank lines and `#` comments skipped).
    #[arg(long)]
    ids: PathBuf,
    #[command(flatten)]
    transform: TransformArgs,
    /// Where to post the job when it ends.
    #[arg(long)]
    webhook: Option<String>,
    /// Makes a re-submission return the same job instead of a new one.
    #[arg(long)]
    idempotency_key: Option<String>,
    /// Wait for the job to end, showing its progress.
    #[arg(long)]
    wait: bool,
    /// Longest wait, in seconds.
    #[arg(long, default_value_t = 3600)]
    timeout: u64,
}

/// Runs one jobs subcommand.
pub async fn run(client: &Client, command: JobsCommand) -> Result<Exit, Failure> {
    match command {
        JobsCommand::Submit(args) => submit(client, args).await,
        JobsCommand::Status { id } => {
            let job = client.jobs().get(id).await?;
            print_job(&job);
            Ok(Exit::Ok)
        }
        JobsCommand::Cancel { id } => {
            let job = client.jobs().cancel(id).await?;
            println!("job {} is {} ({} cancelled)", job.id, job.status, job.cancelled);
            Ok(Exit::Ok)
        }
    }
}

async fn submit(client: &Client, args: SubmitArgs) -> Result<Exit, Failure> {
    let text = tokio::fs::read_to_string(&args.ids).await.map_err(|error| {
        Failure::new(Exit::Usage, format!("cannot read {}: {error}", args.ids.display()))
    })?;
    let mut request = JobRequest::new().transform(args.transform.transform()?);
    for line in
        text.lines().map(str::trim).filter(|line| !line.is_empty() && !line.starts_with('#'))
    {
        request = match Uuid::try_parse(line) {
            Ok(id) => request.image(id),
            Err(_) => request.url(line),
        };
    }
    if request.is_empty() {
        return Err(Failure::new(
            Exit::Usage,
            format!("{} lists no ids or URLs", args.ids.display()),
        ));
    }
    if let Some(webhook) = args.webhook {
        request = request.webhook_url(webhook);
    }
    let submitted = client.jobs().create(&request, args.idempotency_key.as_deref()).await?;
    println!("{}", submitted.id());
    if !args.wait {
        return Ok(Exit::Ok);
    }

    let progress = ProgressBar::new(u64::from(submitted.total()));
    progress.set_style(
        ProgressStyle::with_template("{bar:40} {pos}/{len} [{elapsed_precise}] {msg}")
            .expect("a valid template"),
    );
    let job = client
        .jobs()
        .wait_with_progress(submitted.id(), Duration::from_secs(args.timeout), |job| {
            progress.set_position(u64::from(job.succeeded + job.failed));
            progress.set_message(format!("{} ({} failed)", job.status, job.failed));
        })
        .await;
    progress.finish_and_clear();
    let job = job?;
    print_job(&job);
    Ok(if job.status == JobStatus::Succeeded { Exit::Ok } else { Exit::Partial })
}

/// The job's counts, then one line per item: its output image or its error.
fn print_job(job: &Job) {
    println!(
        "job {}: {} ({} succeeded, {} failed, {} cancelled of {})",
        job.id, job.status, job.succeeded, job.failed, job.cancelled, job.total
    );
    for item in &job.items {
        let detail = match (&item.image, &item.error, item.status) {
            (Some(image), _, _) => {
                format!("{} {} {}x{}", image.id, image.format, image.width, image.height)
            }
            (None, Some(problem), _) => problem.to_string(),
            (None, None, ItemStatus::Cancelled) => "cancelled".to_string(),
            (None, None, status) => format!("{status:?}").to_lowercase(),
        };
        println!("{:>6}  {detail}", item.index);
    }
}
