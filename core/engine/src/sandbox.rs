//! Image work that could take the whole service down runs in a child process.
//!
//! AV1 decoding goes through rav1d's C interface, where a panic cannot unwind and aborts the
//! process; SVG parsing and rendering (usvg, resvg) recurse with the document and can spend
//! unbounded time in filters. Both run here, in a pool of `progimage-sandbox` processes
//! (or the service's own binary re-executed, see [`use_current_exe`]): a child that aborts,
//! overflows its stack, runs past its time budget (it arms `alarm(2)` for every task, so the
//! kernel stops it even when its parent is gone) or over its address-space limit dies alone,
//! and the caller gets an error instead of a dead service.
//!
//! The protocol is a length-prefixed request on the child's stdin and one reply on its stdout;
//! a child serves requests one after another until its stdin closes.
#![allow(unsafe_code)]

use std::ffi::OsString;
use std::io::{self, BufReader, BufWriter, Read, Write};
use std::os::unix::process::ExitStatusExt;
use std::path::PathBuf;
use std::process::{Child, ChildStdin, ChildStdout, Command, Stdio};
use std::sync::{Mutex, OnceLock};
use std::time::Duration;

use crate::imaging::ImagingError;
use crate::limits::Limits;

/// Set in the environment of a re-executed service binary: run as a sandbox child.
pub const CHILD_ENV: &str = "PROGIMAGE_SANDBOX_CHILD";
/// The address-space limit a child sets on itself, in bytes.
const MEMORY_ENV: &str = "PROGIMAGE_SANDBOX_MEMORY_BYTES";
/// Where to find the sandbox executable when the binary did not name itself.
pub const EXE_ENV: &str = "PROGIMAGE_SANDBOX_BIN";
/// Idle children kept for reuse.
const MAX_IDLE: usize = 16;
/// The stack of the thread a child works on: deeper than any document the pre-checks admit.
const CHILD_STACK: usize = 256 * 1024 * 1024;

/// What a child is asked to do.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Task {
    /// Decode an AVIF to an sRGB raster.
    AvifDecode,
    /// Parse an SVG (checking every bound) and report its intrinsic size.
    SvgSize,
    /// Parse an SVG and render it at the given size.
    SvgRender { width: u32, height: u32 },
    /// Parse an SVG and re-serialise it without external references.
    SvgSanitize,
}

/// A child's answer.
#[derive(Debug)]
pub enum Reply {
    Raster { width: u32, height: u32, pixels: Vec<u8>, opaque: bool },
    Size { width: u32, height: u32 },
    Bytes(Vec<u8>),
}

/// The command that starts a child: set by the service binaries to themselves.
static COMMAND: OnceLock<(PathBuf, Vec<(OsString, OsString)>)> = OnceLock::new();
static IDLE: Mutex<Vec<Worker>> = Mutex::new(Vec::new());
/// Process ids of live children, killed by [`shutdown`].
static LIVE: Mutex<Vec<u32>> = Mutex::new(Vec::new());

/// Makes the running binary its own sandbox: children are this executable with
/// [`CHILD_ENV`] set. Call [`child_main_if_requested`] first thing in `main`.
pub fn use_current_exe() -> io::Result<()> {
    let exe = std::env::current_exe()?;
    let _ = COMMAND.set((exe, vec![(CHILD_ENV.into(), "1".into())]));
    Ok(())
}

/// In a binary started as a sandbox child, serves requests and exits; otherwise returns.
pub fn child_main_if_requested() {
    if std::env::var_os(CHILD_ENV).is_some() {
        child_main();
    }
}

/// Kills every live child (at shutdown, so no render outlives the service).
pub fn shutdown() {
    let live = std::mem::take(&mut *LIVE.lock().unwrap_or_else(|e| e.into_inner()));
    for pid in live {
        // SAFETY: kill(2) with a pid this process spawned and has not reaped (a child stays
        // in `LIVE` until it is waited for), so the pid cannot name another process.
        unsafe {
            libc::kill(pid as libc::pid_t, libc::SIGKILL);
        }
    }
    IDLE.lock().unwrap_or_else(|e| e.into_inner()).clear();
}

/// The executable and environment a child is started with.
fn command() -> Result<Command, ImagingError> {
    let (exe, env) = match COMMAND.get() {
        Some((exe, env)) => (exe.clone(), env.clone()),
        None => (find_exe()?, Vec::new()),
    };
    let mut command = Command::new(exe);
    command.envs(env);
    Ok(command)
}

/// `PROGIMAGE_SANDBOX_BIN`, else `progimage-sandbox` beside this executable or one folder up
/// (where Cargo puts binaries relative to test executables).
fn find_exe() -> Result<PathBuf, ImagingError> {
    if let Some(exe) = std::env::var_os(EXE_ENV) {
        return Ok(exe.into());
    }
    let current = std::env::current_exe().map_err(|e| internal(&e))?;
    current
        .ancestors()
        .skip(1)
        .take(2)
        .map(|dir| dir.join("progimage-sandbox"))
        .find(|candidate| candidate.is_file())
        .ok_or_else(|| {
            internal(&format!(
                "no sandbox executable: build progimage-sandbox or set {EXE_ENV} (looked beside {})",
                current.display()
            ))
        })
}

fn internal(error: &dyn std::fmt::Display) -> ImagingError {
    ImagingError::Internal(format!("the image sandbox failed: {error}"))
}

/// A live child with its pipes.
struct Worker {
    child: Child,
    stdin: BufWriter<ChildStdin>,
    stdout: BufReader<ChildStdout>,
}

impl Worker {
    fn spawn(limits: &Limits) -> Result<Worker, ImagingError> {
        let mut command = command()?;
        command
            .env(MEMORY_ENV, memory_budget(limits).to_string())
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit());
        let mut child = command.spawn().map_err(|e| internal(&e))?;
        LIVE.lock().unwrap_or_else(|e| e.into_inner()).push(child.id());
        let stdin = BufWriter::new(child.stdin.take().expect("piped stdin"));
        let stdout = BufReader::new(child.stdout.take().expect("piped stdout"));
        Ok(Worker { child, stdin, stdout })
    }

    /// Reaps the child and forgets its pid.
    fn reap(mut self) -> Option<std::process::ExitStatus> {
        drop(self.stdin);
        let status = self.child.wait().ok();
        LIVE.lock().unwrap_or_else(|e| e.into_inner()).retain(|&pid| pid != self.child.id());
        status
    }
}

/// Memory a child may map: room for the largest raster several times over, plus code,
/// stacks and the document.
fn memory_budget(limits: &Limits) -> u64 {
    limits.max_pixels.saturating_mul(4 * 6).saturating_add(limits.max_bytes * 4) + (1 << 30)
}

/// Runs `task` on `bytes` in a child, within `limits` (time included).
pub fn run(task: Task, bytes: &[u8], limits: &Limits) -> Result<Reply, ImagingError> {
    let reused = IDLE.lock().unwrap_or_else(|e| e.into_inner()).pop();
    let fresh = reused.is_none();
    let mut worker = match reused {
        Some(worker) => worker,
        None => Worker::spawn(limits)?,
    };
    if write_request(&mut worker.stdin, task, bytes, limits).is_err() {
        // An idle child may have died (killed, or its address-space limit was for older
        // limits); one fresh try.
        worker.reap();
        if fresh {
            return Err(internal(&"the child did not take the request"));
        }
        worker = Worker::spawn(limits)?;
        write_request(&mut worker.stdin, task, bytes, limits).map_err(|e| internal(&e))?;
    }
    match read_reply(&mut worker.stdout) {
        Ok(reply) => {
            let mut idle = IDLE.lock().unwrap_or_else(|e| e.into_inner());
            if idle.len() < MAX_IDLE {
                idle.push(worker);
            } else {
                drop(idle);
                worker.reap();
            }
            reply
        }
        Err(_) => Err(died(task, worker.reap(), limits)),
    }
}

/// The error for a child that died on a task.
fn died(task: Task, status: Option<std::process::ExitStatus>, limits: &Limits) -> ImagingError {
    let what = match task {
        Task::AvifDecode => "avif image",
        _ => "svg image",
    };
    match status.and_then(|status| status.signal()) {
        Some(libc::SIGALRM) | Some(libc::SIGXCPU) => ImagingError::TooLarge(format!(
            "the {what} costs more than the limit of {} s of processing",
            limits.max_render.as_secs()
        )),
        Some(signal) => {
            tracing::warn!(signal, task = ?task, "an image sandbox process died on its input");
            ImagingError::Invalid(format!("the {what} does not decode: its decoder crashed"))
        }
        None => {
            tracing::warn!(status = ?status, task = ?task, "an image sandbox process exited");
            ImagingError::Invalid(format!("the {what} does not decode: its decoder failed"))
        }
    }
}

fn task_code(task: Task) -> (u8, u32, u32) {
    match task {
        Task::AvifDecode => (1, 0, 0),
        Task::SvgSize => (2, 0, 0),
        Task::SvgRender { width, height } => (3, width, height),
        Task::SvgSanitize => (4, 0, 0),
    }
}

fn write_request(
    out: &mut impl Write,
    task: Task,
    bytes: &[u8],
    limits: &Limits,
) -> io::Result<()> {
    let (code, width, height) = task_code(task);
    out.write_all(&[code])?;
    out.write_all(&limits.max_bytes.to_le_bytes())?;
    out.write_all(&limits.max_pixels.to_le_bytes())?;
    out.write_all(&limits.max_side.to_le_bytes())?;
    out.write_all(&u64::try_from(limits.max_render.as_millis()).unwrap_or(u64::MAX).to_le_bytes())?;
    out.write_all(&width.to_le_bytes())?;
    out.write_all(&height.to_le_bytes())?;
    out.write_all(&(bytes.len() as u64).to_le_bytes())?;
    out.write_all(bytes)?;
    out.flush()
}

fn read_request(input: &mut impl Read) -> io::Result<Option<(Task, Vec<u8>, Limits)>> {
    let mut code = [0; 1];
    if input.read(&mut code)? == 0 {
        return Ok(None);
    }
    let max_bytes = read_u64(input)?;
    let max_pixels = read_u64(input)?;
    let max_side = read_u32(input)?;
    let max_render = Duration::from_millis(read_u64(input)?);
    let (width, height) = (read_u32(input)?, read_u32(input)?);
    let bytes = read_vec(input, max_bytes)?;
    let task = match code[0] {
        1 => Task::AvifDecode,
        2 => Task::SvgSize,
        3 => Task::SvgRender { width, height },
        4 => Task::SvgSanitize,
        other => return Err(io::Error::other(format!("unknown task {other}"))),
    };
    Ok(Some((task, bytes, Limits { max_bytes, max_pixels, max_side, max_render })))
}

fn write_reply(out: &mut impl Write, reply: &Result<Reply, ImagingError>) -> io::Result<()> {
    match reply {
        Ok(Reply::Raster { width, height, pixels, opaque }) => {
            out.write_all(&[0])?;
            out.write_all(&width.to_le_bytes())?;
            out.write_all(&height.to_le_bytes())?;
            out.write_all(&[u8::from(*opaque)])?;
            out.write_all(&(pixels.len() as u64).to_le_bytes())?;
            out.write_all(pixels)?;
        }
        Ok(Reply::Size { width, height }) => {
            out.write_all(&[1])?;
            out.write_all(&width.to_le_bytes())?;
            out.write_all(&height.to_le_bytes())?;
        }
        Ok(Reply::Bytes(bytes)) => {
            out.write_all(&[2])?;
            out.write_all(&(bytes.len() as u64).to_le_bytes())?;
            out.write_all(bytes)?;
        }
        Err(error) => {
            let code = match error {
                ImagingError::TooLarge(_) => 11,
                ImagingError::Unsupported(_) => 12,
                ImagingError::Internal(_) => 13,
                _ => 10,
            };
            let message = error.to_string();
            out.write_all(&[code])?;
            out.write_all(&(message.len() as u64).to_le_bytes())?;
            out.write_all(message.as_bytes())?;
        }
    }
    out.flush()
}

fn read_reply(input: &mut impl Read) -> io::Result<Result<Reply, ImagingError>> {
    let mut code = [0; 1];
    input.read_exact(&mut code)?;
    Ok(match code[0] {
        0 => {
            let (width, height) = (read_u32(input)?, read_u32(input)?);
            let mut opaque = [0; 1];
            input.read_exact(&mut opaque)?;
            let expected = u64::from(width) * u64::from(height) * 4;
            let pixels = read_vec(input, expected)?;
            if pixels.len() as u64 != expected {
                return Err(io::Error::other("the raster has the wrong size"));
            }
            Ok(Reply::Raster { width, height, pixels, opaque: opaque[0] == 1 })
        }
        1 => Ok(Reply::Size { width: read_u32(input)?, height: read_u32(input)? }),
        2 => Ok(Reply::Bytes(read_vec(input, u64::MAX)?)),
        code @ 10..=13 => {
            let message = String::from_utf8_lossy(&read_vec(input, 1 << 20)?).into_owned();
            Err(match code {
                11 => ImagingError::TooLarge(message),
                12 => ImagingError::Unsupported(message),
                13 => ImagingError::Internal(message),
                _ => ImagingError::Invalid(message),
            })
        }
        other => return Err(io::Error::other(format!("unknown reply {other}"))),
    })
}

fn read_u32(input: &mut impl Read) -> io::Result<u32> {
    let mut buffer = [0; 4];
    input.read_exact(&mut buffer)?;
    Ok(u32::from_le_bytes(buffer))
}

fn read_u64(input: &mut impl Read) -> io::Result<u64> {
    let mut buffer = [0; 8];
    input.read_exact(&mut buffer)?;
    Ok(u64::from_le_bytes(buffer))
}

/// A length-prefixed byte string of at most `max` bytes.
fn read_vec(input: &mut impl Read, max: u64) -> io::Result<Vec<u8>> {
    let len = read_u64(input)?;
    if len > max {
        return Err(io::Error::other("a message is over its limit"));
    }
    let mut bytes = Vec::new();
    input.take(len).read_to_end(&mut bytes)?;
    if bytes.len() as u64 != len {
        return Err(io::ErrorKind::UnexpectedEof.into());
    }
    Ok(bytes)
}

/// A sandbox child: limits itself, then serves requests on stdin until it closes.
pub fn child_main() -> ! {
    // One line per panic on the inherited stderr (a decoder panicking across its C-ABI
    // boundary aborts the child; the parent reports the crash as the file's fault).
    std::panic::set_hook(Box::new(|info| {
        let at = info.location().map(|l| format!(" at {}:{}", l.file(), l.line()));
        let message = info.payload_as_str().unwrap_or("(not a string)");
        eprintln!("progimage sandbox child: panic{}: {message}", at.unwrap_or_default());
    }));
    if let Some(bytes) = std::env::var(MEMORY_ENV).ok().and_then(|v| v.parse::<u64>().ok()) {
        let limit = libc::rlimit { rlim_cur: bytes, rlim_max: bytes };
        // SAFETY: setrlimit(2) with a valid, initialised struct.
        unsafe {
            libc::setrlimit(libc::RLIMIT_AS, &limit);
        }
    }
    let worker = std::thread::Builder::new().stack_size(CHILD_STACK).spawn(serve_requests);
    let code = match worker.map(|handle| handle.join()) {
        Ok(Ok(Ok(()))) => 0,
        _ => 1,
    };
    std::process::exit(code)
}

fn serve_requests() -> io::Result<()> {
    let mut input = BufReader::new(io::stdin().lock());
    let mut output = BufWriter::new(io::stdout().lock());
    while let Some((task, bytes, limits)) = read_request(&mut input)? {
        let seconds = limits.max_render.as_secs_f64().ceil().max(1.0) as u32;
        // SAFETY: alarm(2) only schedules a signal; SIGALRM's default action ends the
        // process, which is the point: the kernel enforces the budget.
        unsafe {
            libc::alarm(seconds);
        }
        let reply = crate::imaging::run_sandboxed(task, &bytes, &limits);
        // SAFETY: as above; 0 cancels the pending alarm.
        unsafe {
            libc::alarm(0);
        }
        write_reply(&mut output, &reply)?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn requests_and_replies_round_trip() {
        let limits = Limits { max_render: Duration::from_millis(1500), ..Limits::default() };
        let mut wire = Vec::new();
        let task = Task::SvgRender { width: 3, height: 2 };
        write_request(&mut wire, task, b"<svg/>", &limits).unwrap();
        let (read_task, bytes, read_limits) = read_request(&mut &wire[..]).unwrap().unwrap();
        assert_eq!((read_task, bytes.as_slice(), read_limits), (task, &b"<svg/>"[..], limits));

        let mut wire = Vec::new();
        let raster = Reply::Raster { width: 1, height: 2, pixels: vec![7; 8], opaque: false };
        write_reply(&mut wire, &Ok(raster)).unwrap();
        write_reply(&mut wire, &Err(ImagingError::TooLarge("big".into()))).unwrap();
        let mut input = &wire[..];
        assert!(matches!(
            read_reply(&mut input).unwrap(),
            Ok(Reply::Raster { width: 1, height: 2, opaque: false, .. })
        ));
        assert!(
            matches!(read_reply(&mut input).unwrap(), Err(ImagingError::TooLarge(m)) if m == "big")
        );
    }

    #[test]
    fn a_short_or_oversized_message_is_an_error() {
        let mut wire = Vec::new();
        wire.extend_from_slice(&10u64.to_le_bytes());
        wire.extend_from_slice(b"short");
        assert!(read_vec(&mut &wire[..], 100).is_err());
        assert!(read_vec(&mut &wire[..], 5).is_err());
    }
}
