"""Test support: a real server process, a loopback HTTP host, images made with Pillow."""

from __future__ import annotations

import io
import os
import shutil
import socket
import subprocess
import tempfile
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Dict, List, Tuple

import httpx
import pytest
from PIL import Image as PILImage

from progimage import NotFoundError, ProgImage

REPO_ROOT = Path(__file__).resolve().parents[3]
WEBHOOK_MASTER_SECRET = "test-master-secret"
API_KEYS = {"acme": "acme-key-1", "globex": "globex-key-1"}
#: The keyed server's byte limit, small so that a 413 costs little to provoke.
AUTH_SERVER_MAX_UPLOAD_BYTES = 1_000_000


def find_server_binary() -> Path:
    """``$PROGIMAGE_BIN``, else ``progimage-api`` in ``$CARGO_TARGET_DIR`` or the repo's target."""
    explicit = os.environ.get("PROGIMAGE_BIN")
    if explicit:
        return Path(explicit)
    target = Path(os.environ.get("CARGO_TARGET_DIR") or REPO_ROOT / "target")
    return target / "debug" / "progimage-api"


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


class Server:
    """One progimage-api process on a free port with its own data directory."""

    def __init__(self, binary: Path, env: Dict[str, str]) -> None:
        self.workdir = Path(tempfile.mkdtemp(prefix="progimage-sdk-"))
        data_dir = self.workdir / "data"
        data_dir.mkdir()
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.log_path = self.workdir / "server.log"
        environment = dict(os.environ)
        environment.update(
            {
                "PROGIMAGE_DATA_DIR": str(data_dir),
                "PROGIMAGE_LISTEN": f"127.0.0.1:{self.port}",
                "RUST_LOG": environment.get("RUST_LOG", "warn"),
            }
        )
        environment.update(env)
        self._log = open(self.log_path, "wb")
        self.process = subprocess.Popen(
            [str(binary)], env=environment, stdout=self._log, stderr=subprocess.STDOUT
        )
        self._wait_healthy()

    def log(self) -> str:
        return self.log_path.read_text(errors="replace")[-4000:]

    def _wait_healthy(self, timeout: float = 30.0) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                self.stop()
                raise RuntimeError(f"progimage-api exited at start:\n{self.log()}")
            try:
                if httpx.get(f"{self.url}/healthz", timeout=1.0).status_code == 200:
                    return
            except httpx.TransportError:
                pass
            time.sleep(0.1)
        self.stop()
        raise RuntimeError(f"progimage-api not healthy after {timeout} s:\n{self.log()}")

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        self._log.close()
        shutil.rmtree(self.workdir, ignore_errors=True)


class LocalHost:
    """A loopback HTTP server: serves registered files and records POSTed webhooks."""

    def __init__(self) -> None:
        self.files: Dict[str, Tuple[bytes, str]] = {}
        self.received: List[Tuple[Dict[str, str], bytes]] = []
        self.received_event = threading.Condition()
        host = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:  # noqa: N802 (http.server's naming)
                found = host.files.get(self.path)
                if found is None:
                    self.send_response(404)
                    self.send_header("content-length", "0")
                    self.end_headers()
                    return
                body, content_type = found
                self.send_response(200)
                self.send_header("content-type", content_type)
                self.send_header("content-length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def do_POST(self) -> None:  # noqa: N802
                body = self.rfile.read(int(self.headers.get("content-length", "0")))
                with host.received_event:
                    host.received.append(({k.lower(): v for k, v in self.headers.items()}, body))
                    host.received_event.notify_all()
                self.send_response(204)
                self.end_headers()

            def log_message(self, *args: object) -> None:
                pass

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.httpd.server_address[1]}"
        self.thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)
        self.thread.start()

    def serve(self, path: str, body: bytes, content_type: str) -> str:
        """Publish ``body`` at ``path``; returns its URL."""
        self.files[path] = (body, content_type)
        return f"{self.url}{path}"

    def wait_for_post(self, count: int, timeout: float) -> List[Tuple[Dict[str, str], bytes]]:
        with self.received_event:
            self.received_event.wait_for(lambda: len(self.received) >= count, timeout)
            return list(self.received)

    def close(self) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()


def require_jobs_api(client: ProgImage) -> None:
    """Skip while the server answers ``/v1/jobs`` with 404 ``not_found``."""
    try:
        client.jobs.list_page(limit=1)
    except NotFoundError as error:
        if error.code == "not_found":
            pytest.skip("the server has no jobs API yet")
        raise


def make_png(
    width: int = 64,
    height: int = 32,
    left: Tuple[int, int, int] = (255, 0, 0),
    right: Tuple[int, int, int] = (0, 0, 255),
    image_format: str = "PNG",
) -> bytes:
    """An image whose left half is ``left`` and right half ``right`` (pixels easy to check)."""
    picture = PILImage.new("RGB", (width, height), left)
    picture.paste(right, (width // 2, 0, width, height))
    buffer = io.BytesIO()
    picture.save(buffer, format=image_format)
    return buffer.getvalue()


def decode(data: bytes) -> PILImage.Image:
    """Decode bytes with Pillow (fails the test when they are not an image)."""
    picture = PILImage.open(io.BytesIO(data))
    picture.load()
    return picture


def close_to(pixel: Tuple[int, ...], expected: Tuple[int, ...], tolerance: int = 40) -> bool:
    """Whether two colours match within a lossy codec's tolerance, channel by channel."""
    return all(abs(a - b) <= tolerance for a, b in zip(pixel, expected))


def fixture_path(name: str) -> Path:
    """A file of the repository's shared ``fixtures/`` directory."""
    return REPO_ROOT / "fixtures" / name
