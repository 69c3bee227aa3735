//! The workloads of `shared/bench-workloads.md` (W1-W6) run through the engine, printing the
//! same JSON lines as `bench/sharp/workloads.mjs` so that the two compare in one session
//! (`bench/compare.sh` does that).
//!
//!   cargo run --release -p progimage-engine --example workloads -- \
//!       [--mode one|all|N] [--runs 3] [--seconds 3] [--only W1,W3c] [--corpus ../shared/corpus]
//!
//! `--only L1` measures the light workload of `bench/jobs.sh` (a tiny PNG fixture to JPEG),
//! which is not among the default set.
//!
//! Every (run, workload, mode) measurement is a fresh child process, so its peak RSS is its
//! own; runs are interleaved (run 1 of every workload and mode, then run 2, ...) so that
//! machine noise spreads evenly. Modes: "one" = one core (one image at a time on one thread);
//! "all" = as many images in flight as cores, each on its own thread; a number N = N images in
//! flight on N threads. Without `--mode` "one" and "all" are measured. Prints one JSON line per measurement, then one summary line per workload and
//! mode (median and min-max over the runs).

#[path = "../benches/workloads/mod.rs"]
mod workloads;

use std::path::PathBuf;
use std::process::{Command, ExitCode, Stdio};
use std::sync::Mutex;
use std::thread;
use std::time::Instant;

use serde_json::{Value, json};

/// The command line, parent and child alike.
struct Args {
    modes: Vec<String>,
    runs: u32,
    seconds: f64,
    only: Vec<String>,
    corpus: PathBuf,
    /// Set in a child: measure this one (workload, mode, run) and print its line.
    child: Option<(String, String, u32)>,
}

fn parse_args() -> Result<Args, String> {
    let mut args = Args {
        modes: vec!["one".into(), "all".into()],
        runs: 3,
        seconds: 3.0,
        only: workloads::IDS.iter().map(|id| id.to_string()).collect(),
        corpus: workloads::default_corpus(),
        child: None,
    };
    let mut argv = std::env::args().skip(1);
    while let Some(key) = argv.next() {
        let value = argv.next().ok_or_else(|| format!("{key} needs a value"))?;
        let number = |what: &str| format!("{key} takes {what}, not {value}");
        match key.as_str() {
            "--mode" if value == "one" || value == "all" => args.modes = vec![value],
            // A number: that many images in flight (bench/jobs.sh matches a job's threads).
            "--mode" if value.parse::<usize>().is_ok_and(|n| n > 0) => args.modes = vec![value],
            "--runs" => args.runs = value.parse().map_err(|_| number("a whole number"))?,
            "--seconds" => args.seconds = value.parse().map_err(|_| number("a number"))?,
            "--only" => {
                args.only = value.split(',').map(str::to_owned).collect();
                let known = |id: &&String| {
                    workloads::IDS.contains(&id.as_str())
                        || workloads::EXTRA_IDS.contains(&id.as_str())
                };
                if let Some(bad) = args.only.iter().find(|id| !known(id)) {
                    return Err(format!("unknown workload {bad}"));
                }
            }
            "--corpus" => args.corpus = PathBuf::from(value),
            // `--child W1,one,2`: internal, how the parent starts a measurement.
            "--child" => {
                let parts: Vec<&str> = value.split(',').collect();
                let [workload, mode, run] = parts[..] else { return Err(number("w,mode,run")) };
                let run = run.parse().map_err(|_| number("w,mode,run"))?;
                args.child = Some((workload.into(), mode.into(), run));
            }
            _ => return Err(format!("unknown argument {key} {value}")),
        }
    }
    Ok(args)
}

/// One measurement in this process: a warm-up pass, then whole passes over the input set
/// for at least `seconds`, with `mode`'s number of images in flight.
fn child(args: &Args, workload: &str, mode: &str, run: u32) -> Result<Value, String> {
    let workload = workloads::load(workload, &args.corpus)
        .ok_or_else(|| format!("corpus {} not found", args.corpus.display()))?;
    for input in &workload.inputs {
        workload.run(input);
    }
    let in_flight = match mode {
        "one" => 1,
        "all" => thread::available_parallelism().map_or(1, usize::from),
        count => count.parse().map_err(|_| format!("unknown mode {count}"))?,
    };
    let count = workload.inputs.len();
    // (next input index, images done, megapixels done), shared by the workers.
    let progress = Mutex::new((0usize, 0u64, 0f64));
    let start = Instant::now();
    let worker = || {
        loop {
            // Take the next input while time remains, then finish the pass so that every
            // input weighs the same.
            let index = {
                let mut progress = progress.lock().expect("no worker panics holding the lock");
                if start.elapsed().as_secs_f64() >= args.seconds && progress.0.is_multiple_of(count)
                {
                    return;
                }
                progress.0 += 1;
                progress.0 - 1
            };
            let input = &workload.inputs[index % count];
            let megapixels = workload.megapixels(input, &workload.run(input));
            let mut progress = progress.lock().expect("no worker panics holding the lock");
            progress.1 += 1;
            progress.2 += megapixels;
        }
    };
    if in_flight == 1 {
        worker();
    } else {
        thread::scope(|scope| {
            for _ in 0..in_flight {
                scope.spawn(worker);
            }
        });
    }
    let time = start.elapsed().as_secs_f64();
    let (_, images, megapixels) = progress.into_inner().expect("workers finished cleanly");
    let mp_key = if workload.output_megapixels { "output_mp_per_s" } else { "input_mp_per_s" };
    let mut line = json!({
        "run": run,
        "workload": workload.id,
        "mode": mode,
        "in_flight": in_flight,
        "images": images,
        "seconds": round(time, 3),
        "images_per_s": round(images as f64 / time, 3),
        "peak_rss_mb": round(peak_rss_kb()? as f64 / 1024.0, 1),
        "engine": "progimage-core",
        "version": env!("CARGO_PKG_VERSION"),
    });
    line[mp_key] = json!(round(megapixels / time, 2));
    Ok(line)
}

/// This process's peak resident set (`VmHWM`), in KiB.
fn peak_rss_kb() -> Result<u64, String> {
    let status = std::fs::read_to_string("/proc/self/status").map_err(|e| e.to_string())?;
    status
        .lines()
        .find_map(|line| line.strip_prefix("VmHWM:"))
        .and_then(|value| value.trim().trim_end_matches("kB").trim().parse().ok())
        .ok_or_else(|| "no VmHWM in /proc/self/status".into())
}

/// Runs one measurement in a fresh child process and returns its JSON line.
fn measure(args: &Args, workload: &str, mode: &str, run: u32) -> Result<Value, String> {
    let exe = std::env::current_exe().map_err(|e| e.to_string())?;
    let output = Command::new(exe)
        .args(["--seconds", &args.seconds.to_string(), "--corpus"])
        .arg(&args.corpus)
        .args(["--child", &format!("{workload},{mode},{run}")])
        .stderr(Stdio::inherit())
        .output()
        .map_err(|e| e.to_string())?;
    if !output.status.success() {
        return Err(format!("{workload}/{mode} exited {}", output.status));
    }
    serde_json::from_slice(&output.stdout).map_err(|e| format!("{workload}/{mode}: {e}"))
}

/// Median, min and max of `values` (not empty).
fn stats(values: &mut [f64]) -> Value {
    values.sort_by(f64::total_cmp);
    let mid = values.len() / 2;
    let median =
        if values.len() % 2 == 1 { values[mid] } else { (values[mid - 1] + values[mid]) / 2.0 };
    json!({ "median": round(median, 3), "min": values[0], "max": values[values.len() - 1] })
}

fn round(value: f64, digits: i32) -> f64 {
    let scale = 10f64.powi(digits);
    (value * scale).round() / scale
}

fn main_result() -> Result<(), String> {
    let args = parse_args()?;
    if let Some((workload, mode, run)) = &args.child {
        println!("{}", child(&args, workload, mode, *run)?);
        return Ok(());
    }
    if !args.corpus.is_dir() {
        return Err(format!("corpus {} not found", args.corpus.display()));
    }
    let mut results = Vec::new();
    for run in 1..=args.runs {
        for workload in &args.only {
            for mode in &args.modes {
                let result = measure(&args, workload, mode, run)?;
                println!("{result}");
                results.push(result);
            }
        }
    }
    for workload in &args.only {
        for mode in &args.modes {
            let rows: Vec<&Value> = results
                .iter()
                .filter(|r| r["workload"] == *workload && r["mode"] == *mode)
                .collect();
            let Some(first) = rows.first() else { continue };
            let mp_key = if first.get("output_mp_per_s").is_some() {
                "output_mp_per_s"
            } else {
                "input_mp_per_s"
            };
            let column =
                |key: &str| -> Vec<f64> { rows.iter().filter_map(|r| r[key].as_f64()).collect() };
            let peak = column("peak_rss_mb").into_iter().fold(0.0, f64::max);
            let mut summary = json!({
                "summary": true,
                "workload": workload,
                "mode": mode,
                "runs": rows.len(),
                "images_per_s": stats(&mut column("images_per_s")),
                "peak_rss_mb": peak,
            });
            summary[mp_key] = stats(&mut column(mp_key));
            println!("{summary}");
        }
    }
    Ok(())
}

fn main() -> ExitCode {
    match main_result() {
        Ok(()) => ExitCode::SUCCESS,
        Err(message) => {
            eprintln!("workloads: {message}");
            ExitCode::FAILURE
        }
    }
}
