//! Writing results and formatting numbers for people.

use std::path::Path;

use tokio::io::AsyncWriteExt;

use crate::{Exit, Failure};

/// Writes bytes to a file, or to stdout when the path is `-`.
pub async fn write(path: &Path, bytes: &[u8]) -> Result<(), Failure> {
    let failed = |error: std::io::Error| {
        Failure::new(Exit::Io, format!("cannot write {}: {error}", path.display()))
    };
    if path == Path::new("-") {
        let mut stdout = tokio::io::stdout();
        stdout.write_all(bytes).await.map_err(failed)?;
        stdout.flush().await.map_err(failed)
    } else {
        tokio::fs::write(path, bytes).await.map_err(failed)
    }
}

/// `512 B`, `1.5 KiB`, `12.3 MiB`.
pub fn human_bytes(bytes: u64) -> String {
    const UNITS: [&str; 4] = ["KiB", "MiB", "GiB", "TiB"];
    if bytes < 1024 {
        return format!("{bytes} B");
    }
    let mut value = bytes as f64 / 1024.0;
    let mut unit = 0;
    while value >= 1024.0 && unit < UNITS.len() - 1 {
        value /= 1024.0;
        unit += 1;
    }
    format!("{value:.1} {}", UNITS[unit])
}

#[cfg(test)]
mod tests {
    use super::human_bytes;

    #[test]
    fn sizes_read_naturally() {
        assert_eq!(human_bytes(0), "0 B");
        assert_eq!(human_bytes(1023), "1023 B");
        assert_eq!(human_bytes(1536), "1.5 KiB");
        assert_eq!(human_bytes(5 * 1024 * 1024), "5.0 MiB");
    }
}
