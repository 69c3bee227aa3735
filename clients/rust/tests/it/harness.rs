//! A ProgImage server in-process, and test images made on the fly.

use std::io::Cursor;
use std::net::SocketAddr;

use progimage_client::Client;
use progimage_tests::{TestApp, TestOptions};

/// A running server, the integration suite's (`progimage_tests::TestApp`). Dropping it
/// stops the server.
pub struct Server {
    pub address: SocketAddr,
    _app: TestApp,
}

impl Server {
    /// An open-mode server.
    pub async fn start() -> Server {
        Server::start_with(&[]).await
    }

    /// A server with extra `--flag value` config arguments.
    pub async fn start_with(flags: &[(&str, &str)]) -> Server {
        let options = flags
            .iter()
            .fold(TestOptions::default(), |options, (name, value)| options.arg(name, value));
        let app = TestApp::spawn_with(options).await;
        Server { address: app.address, _app: app }
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
