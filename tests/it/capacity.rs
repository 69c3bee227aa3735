//! A full disk on the embedded set-up: the data directory on a small tmpfs. Uploads past
//! the room answer 507 `insufficient_storage` with a problem document, nothing
//! half-written is listed or served, variants are still served (not stored), and the
//! service takes uploads again once space returns.

use progimage_tests::{
    TestApp, TestOptions, TestState, assert_problem, distributed, fixture, skip,
};
use reqwest::StatusCode;
use serde_json::Value;
use sha2::{Digest, Sha256};

/// A tmpfs of `size` mounted on a fresh directory; unmounted when dropped.
struct SmallDisk {
    dir: tempfile::TempDir,
}

impl SmallDisk {
    fn mount(size: &str) -> Result<SmallDisk, String> {
        let dir = tempfile::tempdir().map_err(|error| error.to_string())?;
        let output = std::process::Command::new("mount")
            .args(["-t", "tmpfs", "-o", &format!("size={size},mode=0700"), "tmpfs"])
            .arg(dir.path())
            .output()
            .map_err(|error| format!("mount: {error}"))?;
        if !output.status.success() {
            return Err(format!(
                "cannot mount a tmpfs (root needed): {}",
                String::from_utf8_lossy(&output.stderr).trim()
            ));
        }
        Ok(SmallDisk { dir })
    }
}

impl Drop for SmallDisk {
    fn drop(&mut self) {
        // Lazily: the stopped server's pool may close its files a moment later.
        let _ = std::process::Command::new("umount").arg("-l").arg(self.dir.path()).status();
    }
}

#[tokio::test]
async fn a_full_disk_answers_507_keeps_nothing_half_written_and_recovers() {
    let test = "a_full_disk_answers_507_keeps_nothing_half_written_and_recovers";
    if distributed() {
        // The data directory holds the database and objects only in the embedded set-up.
        return;
    }
    let disk = match SmallDisk::mount("3m") {
        Ok(disk) => disk,
        Err(why) => return skip(test, &why),
    };
    let data_dir = disk.dir.path().join("data");
    std::fs::create_dir(&data_dir).unwrap();
    // Room the test gives back later, as an operator freeing space would.
    let ballast = disk.dir.path().join("ballast");
    std::fs::write(&ballast, vec![0u8; 512 * 1024]).unwrap();
    let mut state = TestState::new().await;
    state.data_dir = tempfile::TempDir::new_in(&data_dir).unwrap();
    let app = TestApp::spawn_in(state, TestOptions::default()).await;

    let bytes = fixture("images/logo-alpha.png");
    let sha256 = hex::encode(Sha256::digest(&bytes));
    let mut stored = Vec::new();
    let refused = loop {
        let response = app.upload_raw(bytes.clone(), "image/png").await;
        match response.status() {
            StatusCode::CREATED => {
                let image: Value = response.json().await.unwrap();
                stored.push(image["id"].as_str().unwrap().to_string());
            }
            _ => break response,
        }
        assert!(stored.len() < 200, "a 3 MiB disk took {} uploads", stored.len());
    };
    assert!(!stored.is_empty(), "some uploads fit");
    let problem = assert_problem(refused, 507, "insufficient_storage").await;
    assert!(problem["detail"].as_str().unwrap().contains("no room"), "{problem}");

    // Only complete images are listed, and each is served whole.
    let listed: Value = app.get("/v1/images?limit=1000").await.json().await.unwrap();
    let ids: Vec<&str> =
        listed["images"].as_array().unwrap().iter().map(|i| i["id"].as_str().unwrap()).collect();
    assert_eq!(ids.len(), stored.len(), "the refused upload is not listed");
    for id in &stored {
        assert!(ids.contains(&id.as_str()));
        let original = app.get(&format!("/v1/images/{id}")).await;
        assert_eq!(original.status(), StatusCode::OK);
        assert_eq!(hex::encode(Sha256::digest(original.bytes().await.unwrap())), sha256);
    }
    // Fill what little room is left, then a variant is still made and served, not kept.
    let filler = disk.dir.path().join("filler");
    {
        use std::io::Write as _;
        let mut file = std::fs::File::create(&filler).unwrap();
        while file.write_all(&[0u8; 4096]).is_ok() {}
    }
    let variant = app.get(&format!("/v1/images/{}.webp?w=64", stored[0])).await;
    assert_eq!(variant.status(), StatusCode::OK);
    assert_eq!(variant.headers()["x-progimage-cache"], "bypass");
    assert!(!variant.bytes().await.unwrap().is_empty());

    // Space returns: uploads work again.
    std::fs::remove_file(&ballast).unwrap();
    std::fs::remove_file(&filler).unwrap();
    let response = app.upload_raw(bytes.clone(), "image/png").await;
    assert_eq!(response.status(), StatusCode::CREATED, "{}", response.text().await.unwrap());
    // Stopped before the disk is unmounted (the server holds its files open).
    drop(app.stop().await);
}
