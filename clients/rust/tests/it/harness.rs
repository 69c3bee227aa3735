//! A ProgImage server in-process, and test images made on the fly.

use std::io::Cursor;
use std::net::SocketAddr;

use progimage_api::{AppContext, Config};
use progimage_client::Client;
use tokio_util::sync::CancellationToken;

/// A running server. Dropping it stops the server.
pub struct Server {
    pub address: SocketAddr,
    _data_dir: tempfile::TempDir,
    shutdown: CancellationToken,
}

impl Server {
    /// An open-mode server.
    pub async fn start() -> Server {
        Server::start_with(&[]).await
    }

    /// A server with extra `--flag value` config arguments.
    pub async fn start_with(flags: &[(&str, &str)]) -> Server {
        let data_dir = tempfile::tempdir().expect("temp dir");
        let mut args = vec![
            "progimage-api".to_string(),
            "--listen".into(),
            "127.0.0.1:0".into(),
            "--data-dir".into(),
            data_dir.path().display().to_string(),
        ];
        for (name, value) in flags {
            args.push(format!("--{name}"));
            args.push((*value).to_string());
        }
        let config = <Config as clap::Parser>::parse_from(args);
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.expect("bind");
        let address = listener.local_addr().expect("address");
        let shutdown = CancellationToken::new();
        let (context, background) =
            AppContext::build(config, shutdown.clone()).await.expect("build the app");
        let stop = shutdown.clone();
        tokio::spawn(async move {
            progimage_api::serve(listener, context, async move { stop.cancelled().await })
                .await
                .expect("serve");
            let _ = background.await;
        });
        Server { address, _data_dir: data_dir, shutdown }
    }

    /// The base URL.
    pub fn url(&self) -> String {
        format!("http://{}", self.address)
    }

    /// A client without a key.
    pub fn client(&self) -> Client {
        Client::new(self.url()).expect("client")
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        self.shutdown.cancel();
    }
}

/// A `width` × `height` RGBA PNG with a gradient and a varying alpha, so every operation
/// (masks and colour steps included) changes it visibly.
pub fn png(width: u32, height: u32) -> Vec<u8> {
    let image = image::RgbaImage::from_fn(width, height, |x, y| {
        image::Rgba([(x * 255 / width) as u8, (y * 255 / height) as u8, 128, 200 + (x % 50) as u8])
    });
    let mut bytes = Vec::new();
    image.write_to(&mut Cursor::new(&mut bytes), image::ImageFormat::Png).expect("encode PNG");
    bytes
}

/// Decodes image bytes and gives their size.
pub fn dimensions(bytes: &[u8]) -> (u32, u32) {
    let image = image::load_from_memory(bytes).expect("decodable image");
    (image.width(), image.height())
}
