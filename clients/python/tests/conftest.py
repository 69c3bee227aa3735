"""Fixtures: real ProgImage servers (open and keyed), a loopback HTTP host, clients."""

from __future__ import annotations

from pathlib import Path
from typing import AsyncIterator, Iterator

import pytest
from support import (
    API_KEYS,
    AUTH_SERVER_MAX_UPLOAD_BYTES,
    WEBHOOK_MASTER_SECRET,
    LocalHost,
    Server,
    find_server_binary,
    require_jobs_api,
)

from progimage import AsyncProgImage, ProgImage


@pytest.fixture(scope="session")
def server_binary() -> Path:
    binary = find_server_binary()
    if not binary.is_file():
        pytest.fail(
            f"progimage-api not found at {binary}: build it with `cargo build -p progimage-api` "
            "or set PROGIMAGE_BIN"
        )
    return binary


@pytest.fixture(scope="session")
def server(server_binary: Path) -> Iterator[Server]:
    """The open-mode server; loopback URLs are allowed so tests can serve sources and hooks."""
    instance = Server(
        server_binary,
        {"PROGIMAGE_WEBHOOK_SECRET": WEBHOOK_MASTER_SECRET, "PROGIMAGE_ALLOW_URLS": "127.0.0.1"},
    )
    yield instance
    instance.stop()


@pytest.fixture(scope="session")
def auth_server(server_binary: Path) -> Iterator[Server]:
    """A server with API keys for two tenants, default URL rules and a small byte limit."""
    keys = ",".join(f"{tenant}:{key}" for tenant, key in API_KEYS.items())
    instance = Server(
        server_binary,
        {
            "PROGIMAGE_API_KEYS": keys,
            "PROGIMAGE_WEBHOOK_SECRET": WEBHOOK_MASTER_SECRET,
            "PROGIMAGE_MAX_UPLOAD_BYTES": str(AUTH_SERVER_MAX_UPLOAD_BYTES),
        },
    )
    yield instance
    instance.stop()


@pytest.fixture(scope="session")
def local_host() -> Iterator[LocalHost]:
    host = LocalHost()
    yield host
    host.close()


@pytest.fixture
def client(server: Server) -> Iterator[ProgImage]:
    with ProgImage(server.url) as instance:
        yield instance


@pytest.fixture
async def async_client(server: Server) -> AsyncIterator[AsyncProgImage]:
    async with AsyncProgImage(server.url) as instance:
        yield instance


@pytest.fixture
def jobs_client(client: ProgImage) -> ProgImage:
    """The client, once the server is known to have the Jobs API (skips the test otherwise)."""
    require_jobs_api(client)
    return client
