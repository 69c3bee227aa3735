"""A receiver of ProgImage's job webhooks that verifies every delivery before it trusts it.

    python receiver.py --port 8000          # or PORT=8000 python receiver.py

The signing secret is ``PROGIMAGE_WEBHOOK_SECRET`` when set (open mode signs with the
server's master secret); otherwise it is asked of the service with the SDK
(``GET /v1/webhook-secret`` at ``PROGIMAGE_URL`` with ``PROGIMAGE_API_KEY``), which is the
way with API keys, where each tenant has a secret of its own.

Each delivery gets one line on standard output and an answer: 204 once verified (the service
stops retrying), 400 when the signature does not verify (it is not from the service, or was
changed on the way). Delivery is at least once, so a job already seen is acknowledged again
and not handled twice. Standard library and the SDK only.
"""

from __future__ import annotations

import argparse
import os
import sys
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import List, Optional, Set, Tuple, Type

from progimage import ProgImage, ProgImageError, SignatureError, webhooks

#: Larger bodies are refused unread: a job of 10,000 items, each with its image, stays below.
MAX_BODY_BYTES = 32 * 1024 * 1024


class Receiver:
    """What the HTTP handler calls: verification and de-duplication, no HTTP."""

    def __init__(self, secret: str) -> None:
        self._secret = secret
        # A real receiver keeps these in its database, beside what it does with the job.
        self._seen_job_ids: Set[str] = set()
        self._lock = threading.Lock()

    def receive(
        self, body: bytes, signature: Optional[str], delivery: Optional[str]
    ) -> Tuple[int, str]:
        """The status to answer and the line to log for one delivery."""
        try:
            job = webhooks.verify(body, signature, self._secret)
        except SignatureError as error:
            return 400, f"rejected delivery {delivery}: {error}"
        # The delivery id is `<job id>:<attempt>`. It is not signed, so it must name the
        # job the signed body is about before it decides anything.
        delivery_job_id = (delivery or "").rpartition(":")[0]
        if delivery_job_id != job.id:
            return 400, f"rejected delivery {delivery}: it does not name job {job.id}"
        with self._lock:
            if job.id in self._seen_job_ids:
                return 204, f"duplicate delivery {delivery} of job {job.id}"
            self._seen_job_ids.add(job.id)
        # Here a real receiver would act on the job: fetch its outputs, notify someone...
        return 204, f"verified job {job.id} status {job.status}"


def make_handler(receiver: Receiver) -> Type[BaseHTTPRequestHandler]:
    """A request handler class bound to ``receiver``."""

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:  # noqa: N802 (http.server's naming)
            length = self.headers.get("content-length")
            if length is None or not length.isdigit():
                self._answer(411, "rejected delivery: no Content-Length")
                return
            if int(length) > MAX_BODY_BYTES:
                self._answer(413, f"rejected delivery: {length} bytes is too large")
                return
            # The raw bytes, exactly as sent: the signature covers them, not a re-encoding.
            body = self.rfile.read(int(length))
            status, line = receiver.receive(
                body,
                self.headers.get(webhooks.SIGNATURE_HEADER),
                self.headers.get("progimage-delivery"),
            )
            self._answer(status, line)

        def _answer(self, status: int, line: str) -> None:
            print(line, flush=True)
            self.send_response(status)
            self.send_header("content-length", "0")
            self.end_headers()

        def log_message(self, format: str, *args: object) -> None:
            # One line per delivery, written by _answer; no access log beside it.
            pass

    return Handler


def webhook_secret() -> str:
    """``PROGIMAGE_WEBHOOK_SECRET``, else this tenant's secret as the service gives it."""
    secret = os.environ.get("PROGIMAGE_WEBHOOK_SECRET")
    if secret:
        return secret
    with ProgImage() as client:
        try:
            return client.webhook_secret()
        except ProgImageError as error:
            sys.exit(
                f"could not get the webhook secret from {client.base_url}: {error} "
                "(set PROGIMAGE_URL and PROGIMAGE_API_KEY, or PROGIMAGE_WEBHOOK_SECRET)"
            )


def main(argv: Optional[List[str]] = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--host", default="127.0.0.1", help="address to listen on")
    parser.add_argument(
        "--port",
        type=int,
        default=int(os.environ.get("PORT", "8000")),
        help="port to listen on, 0 for any free one (default $PORT, else 8000)",
    )
    arguments = parser.parse_args(argv)
    receiver = Receiver(webhook_secret())
    server = ThreadingHTTPServer((arguments.host, arguments.port), make_handler(receiver))
    print(f"listening on http://{arguments.host}:{server.server_port}", flush=True)
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        pass
    finally:
        server.server_close()


if __name__ == "__main__":
    main()
