//! The engine end to end (`imaging::process`: decode, steps, encode) on the workloads of
//! `shared/bench-workloads.md`, W1-W6, over the real files of the shared corpus
//! (`../../shared/corpus` from this crate). One iteration is one pass over a workload's input
//! set, so throughput is in images: criterion's `elem/s`.
//!
//! Run: `cargo bench -p progimage-engine --bench engine` (a few minutes on two cores; add a
//! filter such as `-- W1` for one workload). Skipped, with a note, when the corpus is not
//! there (it is not part of the repository). For side-by-side figures against sharp and
//! Pillow see `bench/compare.sh`.

mod workloads;

use std::hint::black_box;
use std::time::Duration;

use criterion::{Criterion, SamplingMode, Throughput, criterion_group, criterion_main};

fn bench_engine(c: &mut Criterion) {
    let corpus = workloads::default_corpus();
    for id in workloads::IDS {
        let Some(workload) = workloads::load(id, &corpus) else {
            eprintln!("engine bench: {} not found, nothing to measure", corpus.display());
            return;
        };
        // One untimed pass: it proves the inputs process and gives the megapixels a pass
        // counts, to turn criterion's images/s into megapixels/s.
        let megapixels: f64 = workload
            .inputs
            .iter()
            .map(|input| workload.megapixels(input, &workload.run(input)))
            .sum();
        let side = if workload.output_megapixels { "output" } else { "input" };
        eprintln!(
            "engine/{id}: {} images, {megapixels:.1} {side} MP a pass",
            workload.inputs.len()
        );
        let mut group = c.benchmark_group("engine");
        group.throughput(Throughput::Elements(workload.inputs.len() as u64));
        // A pass takes from tens of milliseconds to seconds: flat sampling with criterion's
        // minimum sample count keeps the whole run to a few minutes on a shared machine.
        group
            .sampling_mode(SamplingMode::Flat)
            .sample_size(10)
            .warm_up_time(Duration::from_secs(1))
            .measurement_time(Duration::from_secs(5));
        group.bench_function(id, |b| {
            b.iter(|| {
                for input in &workload.inputs {
                    black_box(workload.run(black_box(input)));
                }
            })
        });
        group.finish();
    }
}

criterion_group!(benches, bench_engine);
criterion_main!(benches);
