"""The receiver as a client runs it: a real server delivers a job's webhook to it.

The server is ``$PROGIMAGE_BIN`` (else ``progimage-api`` in ``$CARGO_TARGET_DIR`` or the
repository's ``target/debug``), on a free loopback port with a data directory of its own; the
receiver is ``receiver.py`` in a process of its own, asking the service for its secret.
"""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import sys
import tempfile
import threading
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Callable, Dict, Iterator, List, Optional

import httpx
import pytest
from progimage import Job, ProgImage, webhooks

HERE = Path(__file__).resolve().parent
REPO_ROOT = HERE.parents[2]
MASTER_SECRET = "example-master-secret"
#: How long a line of the receiver, or the server's health, may take to come.
WAIT_S = 30.0


def server_binary() -> Path:
    explicit = os.environ.get("PROGIMAGE_BIN")
    if explicit:
        return Path(explicit)
    target = Path(os.environ.get("CARGO_TARGET_DIR") or REPO_ROOT / "target")
    return target / "debug" / "progimage-api"


class Lines:
    """A process's standard output, line by line, read by a thread and waited on."""

    def __init__(self, process: subprocess.Popen[str]) -> None:
        self.lines: List[str] = []
        self._changed = threading.Condition()
        self._process = process
        self._thread = threading.Thread(target=self._read, daemon=True)
        self._thread.start()

    def _read(self) -> None:
        assert self._process.stdout is not None
        for raw in self._process.stdout:
            with self._changed:
                self.lines.append(raw.rstrip("\n"))
                self._changed.notify_all()
        with self._changed:
            self._changed.notify_all()

    def wait_for(self, predicate: Callable[[str], bool]) -> str:
        """The first line for which ``predicate`` holds; fails after ``WAIT_S``."""

        def found() -> Optional[str]:
            return next((line for line in self.lines if predicate(line)), None)

        def settled() -> bool:
            return found() is not None or self._process.poll() is not None

        with self._changed:
            self._changed.wait_for(settled, WAIT_S)
            line = found()
        if line is None:
            pytest.fail(f"no such line within {WAIT_S} s; the receiver wrote {self.lines}")
        return line


@pytest.fixture(scope="module")
def server() -> Iterator[str]:
    binary = server_binary()
    if not binary.is_file():
        pytest.fail(f"no progimage-api at {binary}: build it or set PROGIMAGE_BIN")
    workdir = Path(tempfile.mkdtemp(prefix="progimage-example-"))
    (workdir / "data").mkdir()
    port = free_port()
    environment = dict(os.environ)
    environment.update(
        {
            "PROGIMAGE_DATA_DIR": str(workdir / "data"),
            "PROGIMAGE_LISTEN": f"127.0.0.1:{port}",
            "PROGIMAGE_API_KEYS": "",
            "PROGIMAGE_WEBHOOK_SECRET": MASTER_SECRET,
            # The receiver is on loopback, which the SSRF rules refuse otherwise.
            "PROGIMAGE_ALLOW_URLS": "127.0.0.1",
            "RUST_LOG": environment.get("RUST_LOG", "warn"),
        }
    )
    log_path = workdir / "server.log"
    with open(log_path, "wb") as log:
        process = subprocess.Popen(
            [str(binary)], env=environment, stdout=log, stderr=subprocess.STDOUT
        )
    url = f"http://127.0.0.1:{port}"
    try:
        wait_healthy(url, process, log_path)
        yield url
    finally:
        stop(process)
        shutil.rmtree(workdir, ignore_errors=True)


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def wait_healthy(url: str, process: subprocess.Popen[bytes], log_path: Path) -> None:
    deadline = time.monotonic() + WAIT_S
    while time.monotonic() < deadline:
        if process.poll() is not None:
            pytest.fail(f"progimage-api exited at start:\n{log_path.read_text(errors='replace')}")
        try:
            if httpx.get(f"{url}/healthz", timeout=1.0).status_code == 200:
                return
        except httpx.TransportError:
            pass
        # Nothing to wait on but the port: poll it.
        time.sleep(0.05)
    pytest.fail(f"progimage-api not healthy in {WAIT_S} s:\n{log_path.read_text(errors='replace')}")


def stop(process: subprocess.Popen[bytes] | subprocess.Popen[str]) -> None:
    if process.poll() is None:
        process.terminate()
        try:
            process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


@dataclass
class Receiver:
    url: str
    output: Lines


@pytest.fixture(scope="module")
def receiver(server: str) -> Iterator[Receiver]:
    environment = {k: v for k, v in os.environ.items() if k != "PROGIMAGE_WEBHOOK_SECRET"}
    # No secret given: it asks the service for it, as a receiver of a keyed tenant must.
    environment["PROGIMAGE_URL"] = server
    process = subprocess.Popen(
        [sys.executable, str(HERE / "receiver.py"), "--port", "0"],
        env=environment,
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        output = Lines(process)
        listening = output.wait_for(lambda line: line.startswith("listening on "))
        yield Receiver(listening.removeprefix("listening on "), output)
    finally:
        stop(process)


@pytest.fixture(scope="module")
def client(server: str) -> Iterator[ProgImage]:
    with ProgImage(server) as instance:
        yield instance


@pytest.fixture(scope="module")
def finished_job(client: ProgImage, receiver: Receiver) -> Job:
    """A job submitted with the receiver as its webhook, once it has finished."""
    image = client.images.upload(REPO_ROOT / "fixtures" / "images" / "logo.png")
    job = client.jobs.create(
        [image.id],
        operations=[{"op": "resize", "width": 32}],
        format="webp",
        webhook_url=f"{receiver.url}/hooks/progimage",
    )
    return client.jobs.wait(job.id, timeout=WAIT_S)


def verified_lines(receiver: Receiver, job_id: str) -> List[str]:
    return [line for line in receiver.output.lines if line.startswith(f"verified job {job_id} ")]


def test_the_delivery_is_verified_with_the_final_status(
    finished_job: Job, receiver: Receiver
) -> None:
    assert finished_job.status == "succeeded"
    expected = f"verified job {finished_job.id} status {finished_job.status}"
    receiver.output.wait_for(lambda line: line.startswith("verified job "))
    assert verified_lines(receiver, finished_job.id) == [expected]
    assert [line for line in receiver.output.lines if line.startswith("verified ")] == [expected]


def signed_delivery(body: bytes, secret: str, delivery: str) -> Dict[str, str]:
    return {
        "content-type": "application/json",
        webhooks.SIGNATURE_HEADER: webhooks.sign(body, secret),
        "progimage-event": "job.finished",
        "progimage-delivery": delivery,
    }


def job_document(client: ProgImage, job_id: str) -> bytes:
    """The job's JSON as the service serves it: the body a delivery of it carries."""
    response = httpx.get(f"{client.base_url}/v1/jobs/{job_id}")
    response.raise_for_status()
    return response.content


def test_a_redelivery_is_acknowledged_and_not_handled_again(
    finished_job: Job, receiver: Receiver, client: ProgImage
) -> None:
    receiver.output.wait_for(lambda line: line.startswith(f"verified job {finished_job.id} "))
    delivery = f"{finished_job.id}:2"
    body = job_document(client, finished_job.id)
    headers = signed_delivery(body, client.webhook_secret(), delivery)
    answer = httpx.post(f"{receiver.url}/hooks/progimage", content=body, headers=headers)
    assert answer.status_code == 204
    receiver.output.wait_for(lambda line: line.startswith(f"duplicate delivery {delivery} "))
    assert len(verified_lines(receiver, finished_job.id)) == 1


@pytest.mark.parametrize(
    "attempt, change",
    [
        ("91", "tampered body"),
        ("92", "wrong secret"),
        ("93", "no signature"),
        ("94", "another job's delivery id"),
    ],
)
def test_a_delivery_that_does_not_verify_is_refused(
    finished_job: Job, receiver: Receiver, client: ProgImage, attempt: str, change: str
) -> None:
    delivery = f"{finished_job.id}:{attempt}"
    body = job_document(client, finished_job.id)
    secret = client.webhook_secret()
    headers = signed_delivery(body, secret, delivery)
    if change == "tampered body":
        tampered = body.replace(b'"succeeded"', b'"failed"', 1)
        assert tampered != body
        body = tampered
    elif change == "wrong secret":
        headers = signed_delivery(body, "not-the-secret", delivery)
    elif change == "no signature":
        del headers[webhooks.SIGNATURE_HEADER]
    else:
        delivery = f"01890a5d-ac96-774b-bcce-b302099a8057:{attempt}"
        headers["progimage-delivery"] = delivery
    answer = httpx.post(f"{receiver.url}/hooks/progimage", content=body, headers=headers)
    assert answer.status_code == 400, change
    receiver.output.wait_for(lambda line: line.startswith(f"rejected delivery {delivery}:"))
