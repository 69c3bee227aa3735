"""API keys and tenants, against a server started with PROGIMAGE_API_KEYS."""

from __future__ import annotations

import hashlib
import hmac

import pytest
from support import API_KEYS, AUTH_SERVER_MAX_UPLOAD_BYTES, WEBHOOK_MASTER_SECRET, Server, make_png

from progimage import (
    NotFoundError,
    PayloadTooLargeError,
    ProgImage,
    UnauthorizedError,
    UrlNotAllowedError,
)


def test_calls_without_a_key_are_unauthorized(auth_server: Server) -> None:
    with ProgImage(auth_server.url, api_key="") as client:
        with pytest.raises(UnauthorizedError) as raised:
            client.images.list_page()
    assert (raised.value.status, raised.value.code) == (401, "unauthorized")
    assert raised.value.request_id


def test_an_unknown_key_is_unauthorized(auth_server: Server) -> None:
    with ProgImage(auth_server.url, api_key="no-such-key") as client:
        with pytest.raises(UnauthorizedError):
            client.images.upload(make_png())


def test_a_tenant_sees_its_own_images_and_not_anothers(auth_server: Server) -> None:
    with (
        ProgImage(auth_server.url, api_key=API_KEYS["acme"]) as acme,
        ProgImage(auth_server.url, api_key=API_KEYS["globex"]) as globex,
    ):
        image = acme.images.upload(make_png(), filename="acme.png")
        assert acme.images.get(image.id).filename == "acme.png"
        assert acme.images.download(image.id) == make_png()

        with pytest.raises(NotFoundError):
            globex.images.get(image.id)
        with pytest.raises(NotFoundError):
            globex.images.delete(image.id)
        assert image.id not in {listed.id for listed in globex.images.list()}
        assert image.id in {listed.id for listed in acme.images.list()}


def test_the_environment_supplies_url_and_key(
    auth_server: Server, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("PROGIMAGE_URL", auth_server.url)
    monkeypatch.setenv("PROGIMAGE_API_KEY", API_KEYS["acme"])
    with ProgImage() as client:
        assert client.base_url == auth_server.url
        image = client.images.upload(make_png())
        assert client.images.get(image.id).id == image.id


def test_each_tenant_has_its_own_webhook_secret(auth_server: Server) -> None:
    for tenant, key in API_KEYS.items():
        with ProgImage(auth_server.url, api_key=key) as client:
            expected = hmac.new(
                WEBHOOK_MASTER_SECRET.encode(), tenant.encode(), hashlib.sha256
            ).hexdigest()
            assert client.webhook_secret() == expected


def test_the_open_server_signs_with_the_master_secret(client: ProgImage) -> None:
    assert client.webhook_secret() == WEBHOOK_MASTER_SECRET


def test_an_upload_over_the_byte_limit_is_payload_too_large(auth_server: Server) -> None:
    with ProgImage(auth_server.url, api_key=API_KEYS["acme"]) as client:
        with pytest.raises(PayloadTooLargeError) as raised:
            client.images.upload(b"\x89PNG" + bytes(AUTH_SERVER_MAX_UPLOAD_BYTES))
    assert (raised.value.status, raised.value.code) == (413, "payload_too_large")


def test_loopback_urls_are_refused_by_default(auth_server: Server) -> None:
    # This server has no PROGIMAGE_ALLOW_URLS, so the SSRF rules refuse loopback.
    with ProgImage(auth_server.url, api_key=API_KEYS["acme"]) as client:
        with pytest.raises(UrlNotAllowedError) as raised:
            client.images.upload_url("http://127.0.0.1:9/image.png")
    assert (raised.value.status, raised.value.code) == (400, "url_not_allowed")
