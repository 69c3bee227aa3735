//! `progimage-sandbox`: the child process that runs AVIF decoding and SVG rendering for
//! programs that are not a service binary themselves (tests, benchmarks, examples). The
//! service binaries re-execute themselves instead (see `progimage_engine::sandbox`).

fn main() {
    progimage_engine::sandbox::child_main();
}
