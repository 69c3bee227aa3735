//! The workloads of `shared/bench-workloads.md` (W1-W6) as engine calls over the shared corpus,
//! shared by the criterion bench (`benches/engine.rs`) and the side-by-side runner
//! (`examples/workloads.rs`) so that both measure exactly the same work.

use std::path::{Path, PathBuf};

use progimage_engine::format::ImageFormat;
use progimage_engine::imaging::{self, Encoded, MaskImages};
use progimage_engine::limits::Limits;
use progimage_engine::spec::Transform;

/// Every workload id, in the order they are measured and reported.
pub const IDS: [&str; 8] = ["W1", "W2", "W3a", "W3b", "W3c", "W4", "W5", "W6"];

/// Workloads outside `shared/bench-workloads.md`, measured only when named: `L1`, a tiny
/// PNG fixture to JPEG q80 with no operations, the engine side of `bench/jobs.sh`'s light
/// job (whose per-item cost is mostly the queue's, the database's and the storage's).
pub const EXTRA_IDS: [&str; 1] = ["L1"];

/// The light workload's one input, from the repository's fixtures (not the corpus).
const LIGHT_FIXTURE: &str = "sample.png";

/// The three JPEGs of W3b, W3c and W4.
const THREE: [&str; 3] = [
    "Kleiber_by_Lukas_Baubkus.jpg",
    "Wine_by_Jakkub_Mede.jpg",
    "picosdeeuropa_by_Aitzol_Berasategi.jpg",
];

/// One corpus file ready to process.
pub struct Input {
    /// File name, for messages.
    pub name: String,
    /// The encoded bytes handed to the engine.
    pub bytes: Vec<u8>,
    /// Input width × height in megapixels, as displayed.
    pub megapixels: f64,
}

/// One workload: a transform applied to every input of a set.
pub struct Workload {
    /// `W1` .. `W6`.
    pub id: &'static str,
    /// The input set, in file-name order.
    pub inputs: Vec<Input>,
    /// The transform and output settings applied to each input.
    pub transform: Transform,
    /// Whether throughput counts output megapixels (W5: a vector has no input pixels).
    pub output_megapixels: bool,
}

impl Workload {
    /// Processes one input with the default limits; panics on an engine error, since the
    /// corpus is known-good and a failure must not pass as a fast run.
    pub fn run(&self, input: &Input) -> Encoded {
        imaging::process(&input.bytes, &self.transform, &MaskImages::new(), &Limits::default())
            .unwrap_or_else(|e| panic!("{} on {}: {e}", self.id, input.name))
    }

    /// The megapixels one processed input counts for in throughput figures.
    pub fn megapixels(&self, input: &Input, output: &Encoded) -> f64 {
        if self.output_megapixels {
            f64::from(output.width) * f64::from(output.height) / 1e6
        } else {
            input.megapixels
        }
    }
}

/// `shared/corpus` as seen from this crate: `../../shared/corpus` from the manifest directory.
pub fn default_corpus() -> PathBuf {
    [env!("CARGO_MANIFEST_DIR"), "..", "..", "..", "shared", "corpus"].iter().collect()
}

/// Loads workload `id` over `corpus`, or `None` when the corpus directory is absent.
/// Panics on an unknown id.
pub fn load(id: &str, corpus: &Path) -> Option<Workload> {
    if !corpus.is_dir() {
        return None;
    }
    let query = |pairs: &[(&str, &str)], format: ImageFormat| {
        let pairs: Vec<_> = pairs.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect();
        let mut transform = Transform::from_query(&pairs).expect("valid workload query");
        transform.output.format = Some(format);
        transform
    };
    let (id, files, transform, output_megapixels) = match id {
        "W1" => (
            "W1",
            files(corpus, "jpeg", "jpg"),
            query(&[("w", "300"), ("h", "300"), ("q", "80")], ImageFormat::Jpeg),
            false,
        ),
        "W2" => (
            "W2",
            files(corpus, "jpeg", "jpg"),
            query(&[("w", "1920"), ("q", "85")], ImageFormat::Jpeg),
            false,
        ),
        // The background defaults to white, which is what the one PNG with alpha flattens on.
        "W3a" => {
            ("W3a", files(corpus, "png", "png"), query(&[("q", "85")], ImageFormat::Jpeg), false)
        }
        "W3b" => ("W3b", three(corpus), query(&[], ImageFormat::Png), false),
        "W3c" => ("W3c", three(corpus), query(&[("q", "80")], ImageFormat::Webp), false),
        "W4" => (
            "W4",
            three(corpus),
            query(
                &[("rotate", "90"), ("grayscale", "true"), ("blur", "2"), ("q", "80")],
                ImageFormat::Jpeg,
            ),
            false,
        ),
        // A leading resize makes the engine render the vector at 1024 px wide directly.
        "W5" => {
            ("W5", files(corpus, "svg", "svg"), query(&[("w", "1024")], ImageFormat::Png), true)
        }
        "W6" => {
            ("W6", files(corpus, "png", "png"), query(&[("svg", "trace")], ImageFormat::Svg), false)
        }
        "L1" => {
            let fixture: PathBuf =
                [env!("CARGO_MANIFEST_DIR"), "..", "..", "fixtures", "images", LIGHT_FIXTURE]
                    .iter()
                    .collect();
            ("L1", vec![fixture], query(&[("q", "80")], ImageFormat::Jpeg), false)
        }
        other => {
            panic!("unknown workload {other}; known: {}, {}", IDS.join(", "), EXTRA_IDS.join(", "))
        }
    };
    let mut inputs: Vec<Input> = files.iter().map(|path| read(path)).collect();
    if id == "W6" {
        // The input set is the PNGs already at 512 px wide: tracing is what W6 measures.
        let shrink = query(&[("w", "512")], ImageFormat::Png);
        for input in &mut inputs {
            let small =
                imaging::process(&input.bytes, &shrink, &MaskImages::new(), &Limits::default())
                    .unwrap_or_else(|e| panic!("W6 shrinking {}: {e}", input.name));
            input.megapixels = f64::from(small.width) * f64::from(small.height) / 1e6;
            input.bytes = small.bytes;
        }
    }
    Some(Workload { id, inputs, transform, output_megapixels })
}

/// The files of `corpus/dir` ending in `.ext`, sorted by name.
fn files(corpus: &Path, dir: &str, ext: &str) -> Vec<PathBuf> {
    let dir = corpus.join(dir);
    let entries = std::fs::read_dir(&dir).unwrap_or_else(|e| panic!("{}: {e}", dir.display()));
    let mut paths: Vec<_> = entries
        .map(|entry| entry.expect("readable corpus directory").path())
        .filter(|path| path.extension().is_some_and(|e| e == ext))
        .collect();
    paths.sort();
    paths
}

fn three(corpus: &Path) -> Vec<PathBuf> {
    THREE.iter().map(|name| corpus.join("jpeg").join(name)).collect()
}

fn read(path: &Path) -> Input {
    let bytes = std::fs::read(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    let info = imaging::probe(&bytes, &Limits::default())
        .unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    let name = path.file_name().unwrap_or_default().to_string_lossy().into_owned();
    Input { name, bytes, megapixels: f64::from(info.width) * f64::from(info.height) / 1e6 }
}
