//! The `progimage` binary against the real server, started in-process on a loopback port.

use std::io::Cursor;
use std::net::SocketAddr;
use std::path::Path;
use std::process::Output;

use progimage_client::{Client, UploadOptions};
use progimage_tests::{TestApp, TestOptions};

/// A running server, the integration suite's (`progimage_tests::TestApp`), and a work
/// directory for `progimage` runs. Dropping it stops the server.
struct Server {
    address: SocketAddr,
    /// The working directory of every `progimage` run.
    work: tempfile::TempDir,
    _app: TestApp,
}

impl Server {
    async fn start(flags: &[(&str, &str)]) -> Server {
        let options = flags
            .iter()
            .fold(TestOptions::default(), |options, (name, value)| options.arg(name, value));
        let app = TestApp::spawn_with(options).await;
        Server { address: app.address, work: tempfile::tempdir().unwrap(), _app: app }
    }

    fn url(&self) -> String {
        format!("http://{}", self.address)
    }

    fn client(&self) -> Client {
        Client::new(self.url()).unwrap()
    }
}

/// Runs `progimage` in the server's work directory with `PROGIMAGE_URL` set to the server
/// and no key in the environment.
async fn progimage(server: &Server, args: &[&str]) -> Output {
    progimage_with_env(server, &server.url(), None, args).await
}

/// Runs `progimage` with the given `PROGIMAGE_URL` and `PROGIMAGE_API_KEY`.
async fn progimage_with_env(
    server: &Server,
    url: &str,
    key: Option<&str>,
    args: &[&str],
) -> Output {
    let mut command = tokio::process::Command::new(env!("CARGO_BIN_EXE_progimage"));
    command
        .args(args)
        .current_dir(server.work.path())
        .env("PROGIMAGE_URL", url)
        .env_remove("PROGIMAGE_API_KEY");
    if let Some(key) = key {
        command.env("PROGIMAGE_API_KEY", key);
    }
    command.output().await.unwrap()
}

fn stdout(output: &Output) -> String {
    String::from_utf8_lossy(&output.stdout).into_owned()
}

fn stderr(output: &Output) -> String {
    String::from_utf8_lossy(&output.stderr).into_owned()
}

/// The count in a summary row (`uploaded        50     12.3 KiB`).
fn summary_count(output: &Output, row: &str) -> u64 {
    let text = stdout(output);
    let line = text.lines().find(|line| line.starts_with(row)).unwrap_or_else(|| panic!("{text}"));
    line.split_whitespace().nth(1).unwrap().parse().unwrap()
}

fn png(width: u32, height: u32, seed: u32) -> Vec<u8> {
    let image = image::RgbImage::from_fn(width, height, |x, y| {
        image::Rgb([(x * 7 + seed) as u8, (y * 5 + seed * 3) as u8, seed as u8])
    });
    let mut bytes = Vec::new();
    image.write_to(&mut Cursor::new(&mut bytes), image::ImageFormat::Png).unwrap();
    bytes
}

fn write_images(directory: &Path, count: u32) {
    for index in 0..count {
        // Some in a subdirectory: directories are walked.
        let folder = if index % 2 == 0 { directory.to_path_buf() } else { directory.join("sub") };
        std::fs::create_dir_all(&folder).unwrap();
        std::fs::write(folder.join(format!("image-{index:02}.png")), png(8 + index, 6, index))
            .unwrap();
    }
    // Not an image extension: skipped by the walk.
    std::fs::write(directory.join("notes.txt"), "not an image").unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn uploads_a_directory_and_a_rerun_skips_everything() {
    let server = Server::start(&[]).await;
    let work = tempfile::tempdir().unwrap();
    let images = work.path().join("images");
    write_images(&images, 50);
    let manifest = work.path().join("manifest.jsonl");
    let manifest_arg = manifest.to_str().unwrap();
    let images_arg = images.to_str().unwrap();

    let first = progimage(
        &server,
        &[
            "upload",
            images_arg,
            "--concurrency",
            "8",
            "--eager",
            "webp",
            "--manifest",
            manifest_arg,
        ],
    )
    .await;
    assert!(first.status.success(), "{}{}", stdout(&first), stderr(&first));
    assert_eq!(summary_count(&first, "uploaded"), 50);
    assert_eq!(summary_count(&first, "skipped"), 0);
    assert_eq!(summary_count(&first, "failed"), 0);
    assert!(stdout(&first).contains("images/s"));

    let lines: Vec<serde_json::Value> = std::fs::read_to_string(&manifest)
        .unwrap()
        .lines()
        .map(|line| serde_json::from_str(line).unwrap())
        .collect();
    assert_eq!(lines.len(), 50);
    let client = server.client();
    let entry = &lines[0];
    let stored = client.image(entry["image_id"].as_str().unwrap().parse().unwrap()).await.unwrap();
    assert_eq!(stored.sha256, entry["sha256"].as_str().unwrap());
    assert_eq!(stored.bytes, entry["size"].as_u64().unwrap());
    assert!(entry["path"].as_str().unwrap().ends_with(".png"));
    assert!(entry["mtime"].as_u64().unwrap() > 0);

    let again = progimage(&server, &["upload", images_arg, "--manifest", manifest_arg]).await;
    assert!(again.status.success(), "{}", stderr(&again));
    assert_eq!(summary_count(&again, "uploaded"), 0);
    assert_eq!(summary_count(&again, "skipped"), 50);
    assert_eq!(std::fs::read_to_string(&manifest).unwrap().lines().count(), 50);

    // A changed file is uploaded again, and only that one.
    std::fs::write(images.join("image-00.png"), png(20, 20, 99)).unwrap();
    let changed = progimage(&server, &["upload", images_arg, "--manifest", manifest_arg]).await;
    assert_eq!(summary_count(&changed, "uploaded"), 1);
    assert_eq!(summary_count(&changed, "skipped"), 49);
    let page = client.images_page(Some(1000), None).await.unwrap();
    assert_eq!(page.images.len(), 51);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_bad_file_is_a_partial_failure() {
    let server = Server::start(&[]).await;
    let work = tempfile::tempdir().unwrap();
    let good = work.path().join("good.png");
    let bad = work.path().join("bad.png");
    std::fs::write(&good, png(4, 4, 1)).unwrap();
    std::fs::write(&bad, b"not a png").unwrap();
    let output =
        progimage(&server, &["upload", good.to_str().unwrap(), bad.to_str().unwrap()]).await;
    assert_eq!(output.status.code(), Some(1), "{}", stderr(&output));
    assert_eq!(summary_count(&output, "uploaded"), 1);
    assert_eq!(summary_count(&output, "failed"), 1);
    assert!(stderr(&output).contains("invalid_image"), "{}", stderr(&output));

    // Only bad files: the API error's own exit code.
    let output = progimage(&server, &["upload", bad.to_str().unwrap()]).await;
    assert_eq!(output.status.code(), Some(3));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn gets_variants_and_transforms_files() {
    let server = Server::start(&[]).await;
    let client = server.client();
    let source = png(40, 30, 5);
    let image = client.upload_bytes(source.clone(), &UploadOptions::new()).await.unwrap();
    let work = tempfile::tempdir().unwrap();
    let id = image.id.to_string();

    let out = work.path().join("thumb.webp");
    let output = progimage(
        &server,
        &["get", &id, "--format", "webp", "--width", "20", "--height", "20", "--fit", "cover"],
    )
    .await;
    // Without -o the file is named after the id and the format.
    assert!(output.status.success(), "{}", stderr(&output));
    assert!(server.work.path().join(format!("{id}.webp")).is_file());
    let output = progimage(
        &server,
        &[
            "get",
            &id,
            "--format",
            "webp",
            "--width",
            "20",
            "--height",
            "20",
            "--fit",
            "cover",
            "-o",
            out.to_str().unwrap(),
        ],
    )
    .await;
    assert!(output.status.success(), "{}", stderr(&output));
    let decoded = image::load_from_memory(&std::fs::read(&out).unwrap()).unwrap();
    assert_eq!((decoded.width(), decoded.height()), (20, 20));
    assert!(stderr(&output).contains("cache hit"), "{}", stderr(&output));

    let rotated = work.path().join("rotated.png");
    let output = progimage(
        &server,
        &["get", &id, "--op", "rotate:90|grayscale", "-o", rotated.to_str().unwrap()],
    )
    .await;
    assert!(output.status.success(), "{}", stderr(&output));
    let decoded = image::load_from_memory(&std::fs::read(&rotated).unwrap()).unwrap();
    assert_eq!((decoded.width(), decoded.height()), (30, 40));

    let original = work.path().join("original.png");
    let output = progimage(&server, &["get", &id, "-o", original.to_str().unwrap()]).await;
    assert!(output.status.success());
    assert_eq!(std::fs::read(&original).unwrap(), source);

    let input = work.path().join("in.png");
    std::fs::write(&input, &source).unwrap();
    let small = work.path().join("small.png");
    let output = progimage(
        &server,
        &["transform", input.to_str().unwrap(), "--width", "10", "-o", small.to_str().unwrap()],
    )
    .await;
    assert!(output.status.success(), "{}", stderr(&output));
    let decoded = image::load_from_memory(&std::fs::read(&small).unwrap()).unwrap();
    assert_eq!((decoded.width(), decoded.height()), (10, 8));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn submits_a_job_and_waits_for_it() {
    let server = Server::start(&[]).await;
    let client = server.client();
    let work = tempfile::tempdir().unwrap();
    let mut ids = Vec::new();
    for seed in 0..3 {
        ids.push(client.upload_bytes(png(30, 20, seed), &UploadOptions::new()).await.unwrap().id);
    }
    let list = work.path().join("ids.txt");
    let text: Vec<String> = ids.iter().map(ToString::to_string).collect();
    std::fs::write(&list, format!("# three images\n{}\n\n", text.join("\n"))).unwrap();
    let list_arg = list.to_str().unwrap();

    let output = progimage(
        &server,
        &["jobs", "submit", "--ids", list_arg, "--op", "resize:w=15", "--format", "webp", "--wait"],
    )
    .await;
    assert!(output.status.success(), "{}{}", stdout(&output), stderr(&output));
    let text = stdout(&output);
    let job_id: uuid::Uuid = text.lines().next().unwrap().parse().unwrap();
    assert!(text.contains("succeeded (3 succeeded, 0 failed, 0 cancelled of 3)"), "{text}");
    let job = client.jobs().get(job_id).await.unwrap();
    let output_image = job.items[0].image.as_ref().unwrap();
    assert_eq!((output_image.width, output_image.height), (15, 10));
    assert_eq!(output_image.format, progimage_client::Format::Webp);

    // A missing image fails its item: a partial failure.
    std::fs::write(&list, format!("{}\n{}\n", ids[0], uuid::Uuid::now_v7())).unwrap();
    let output = progimage(&server, &["jobs", "submit", "--ids", list_arg, "--wait"]).await;
    assert_eq!(output.status.code(), Some(1), "{}", stderr(&output));
    assert!(stdout(&output).contains("not_found"), "{}", stdout(&output));

    let status = progimage(&server, &["jobs", "status", &job_id.to_string()]).await;
    assert!(status.status.success());
    assert!(stdout(&status).contains(&output_image.id.to_string()));
    let cancel = progimage(&server, &["jobs", "cancel", &job_id.to_string()]).await;
    assert!(cancel.status.success());
    assert!(stdout(&cancel).contains("is succeeded"), "{}", stdout(&cancel));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn errors_have_distinct_exit_codes_and_clear_messages() {
    let server = Server::start(&[("api-keys", "acme:k1")]).await;
    let missing = uuid::Uuid::now_v7().to_string();

    let unauthorized = progimage(&server, &["jobs", "status", &missing]).await;
    assert_eq!(unauthorized.status.code(), Some(3));
    assert!(stderr(&unauthorized).contains("unauthorized"), "{}", stderr(&unauthorized));

    let not_found =
        progimage_with_env(&server, &server.url(), Some("k1"), &["get", &missing]).await;
    assert_eq!(not_found.status.code(), Some(3));
    assert!(stderr(&not_found).contains("not_found"), "{}", stderr(&not_found));
    // The flag overrides the environment.
    let flagged = progimage_with_env(
        &server,
        &server.url(),
        Some("wrong"),
        &["--api-key", "k1", "jobs", "status", &missing],
    )
    .await;
    assert!(stderr(&flagged).contains("not_found"), "{}", stderr(&flagged));

    let bad_op = progimage_with_env(
        &server,
        &server.url(),
        Some("k1"),
        &["get", &missing, "--op", "zoom:2"],
    )
    .await;
    assert_eq!(bad_op.status.code(), Some(2));
    assert!(stderr(&bad_op).contains("unknown op zoom"), "{}", stderr(&bad_op));
    let unreadable = progimage_with_env(
        &server,
        &server.url(),
        Some("k1"),
        &["transform", "/nonexistent.png", "--width", "10", "-o", "out.png"],
    )
    .await;
    assert_eq!(unreadable.status.code(), Some(2));

    let usage = progimage(&server, &["get"]).await;
    assert_eq!(usage.status.code(), Some(2));

    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let closed = format!("http://{}", listener.local_addr().unwrap());
    drop(listener);
    let network = progimage_with_env(&server, &closed, None, &["jobs", "status", &missing]).await;
    assert_eq!(network.status.code(), Some(4));
    assert!(stderr(&network).contains("cannot reach the service"), "{}", stderr(&network));
}
