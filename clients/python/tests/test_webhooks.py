"""Webhook signature verification, against vectors computed independently (openssl dgst)."""

from __future__ import annotations

from datetime import datetime, timezone

import pytest

from progimage import Job, SignatureError, webhooks

BODY = (
    b'{"id":"01890a5d-ac96-774b-bcce-b302099a8057","status":"succeeded","total":1,'
    b'"succeeded":1,"failed":0,"cancelled":0,"items":[{"index":0,"status":"succeeded",'
    b'"image":null,"error":null}],"metadata":{"order":42},"webhook":{"url":'
    b'"https://client.example/hooks","attempts":1,"delivered_at":null,"last_status":null},'
    b'"created_at":"2023-11-14T22:13:20Z","updated_at":"2023-11-14T22:13:21.123456789Z",'
    b'"finished_at":"2023-11-14T22:13:21Z"}'
)
SECRET = "whsec-example"
TIMESTAMP = 1700000000
# `printf '1700000000.<BODY>' | openssl dgst -sha256 -hmac whsec-example`
GOOD = "1bf87f9dd35821f715f1fd8d03a081f0a90ef1b2b99b8914826867bc4f8008ec"
# The same with the secret "other-secret".
OTHER = "aa655eacc0eda2990b667034d3515306117e1056393f86ffb7e036b179d88ccb"


def test_a_good_signature_returns_the_parsed_job() -> None:
    job = webhooks.verify(BODY, f"t={TIMESTAMP},v1={GOOD}", SECRET, now=TIMESTAMP + 5)
    assert isinstance(job, Job)
    assert job.id == "01890a5d-ac96-774b-bcce-b302099a8057"
    assert job.status == "succeeded" and job.finished
    assert (job.total, job.succeeded, job.failed, job.cancelled) == (1, 1, 0, 0)
    assert job.items is not None and job.items[0].status == "succeeded"
    assert job.metadata == {"order": 42}
    assert job.webhook is not None and job.webhook.attempts == 1
    assert job.updated_at == datetime(2023, 11, 14, 22, 13, 21, 123456, tzinfo=timezone.utc)


def test_sign_reproduces_the_vector() -> None:
    assert webhooks.sign(BODY, SECRET, TIMESTAMP) == f"t={TIMESTAMP},v1={GOOD}"


def test_any_one_of_several_v1_signatures_may_match() -> None:
    header = f"t={TIMESTAMP},v1={OTHER},v1={GOOD}"
    assert webhooks.verify(BODY, header, SECRET, now=TIMESTAMP).id.startswith("01890a5d")


def test_unknown_schemes_and_spaces_are_tolerated() -> None:
    header = f"t={TIMESTAMP}, v0=deadbeef, v1={GOOD.upper()}"
    assert webhooks.verify(BODY, header, SECRET, now=TIMESTAMP).status == "succeeded"


def test_str_payload_and_bytes_secret_are_accepted() -> None:
    header = f"t={TIMESTAMP},v1={GOOD}"
    job = webhooks.verify(BODY.decode(), header, SECRET.encode(), now=TIMESTAMP)
    assert job.total == 1


def test_timestamps_within_the_tolerance_either_way_pass() -> None:
    header = f"t={TIMESTAMP},v1={GOOD}"
    webhooks.verify(BODY, header, SECRET, now=TIMESTAMP + 300)
    webhooks.verify(BODY, header, SECRET, now=TIMESTAMP - 300)
    webhooks.verify(BODY, header, SECRET, tolerance=3600, now=TIMESTAMP + 3600)


@pytest.mark.parametrize("now", [TIMESTAMP + 301, TIMESTAMP - 301])
def test_a_stale_or_future_timestamp_is_refused(now: int) -> None:
    with pytest.raises(SignatureError, match="tolerance"):
        webhooks.verify(BODY, f"t={TIMESTAMP},v1={GOOD}", SECRET, now=now)


def test_the_wrong_secret_is_refused() -> None:
    with pytest.raises(SignatureError, match="no signature matches"):
        webhooks.verify(BODY, f"t={TIMESTAMP},v1={GOOD}", "other-secret", now=TIMESTAMP)


def test_a_tampered_body_is_refused() -> None:
    tampered = BODY.replace(b'"order":42', b'"order":43')
    with pytest.raises(SignatureError):
        webhooks.verify(tampered, f"t={TIMESTAMP},v1={GOOD}", SECRET, now=TIMESTAMP)


def test_a_signature_for_another_timestamp_is_refused() -> None:
    with pytest.raises(SignatureError):
        webhooks.verify(BODY, f"t={TIMESTAMP + 1},v1={GOOD}", SECRET, now=TIMESTAMP)


@pytest.mark.parametrize(
    "header",
    [
        None,
        "",
        "garbage",
        f"v1={GOOD}",
        f"t={TIMESTAMP}",
        f"t=abc,v1={GOOD}",
        f"t=-5,v1={GOOD}",
        f"t={TIMESTAMP},t={TIMESTAMP},v1={GOOD}",
        f"t={TIMESTAMP},v1=ünïcode",
        f"t={TIMESTAMP},v1=",
    ],
)
def test_malformed_headers_are_refused(header: "str | None") -> None:
    with pytest.raises(SignatureError):
        webhooks.verify(BODY, header, SECRET, now=TIMESTAMP)


def test_a_signed_payload_that_is_not_json_is_refused() -> None:
    header = webhooks.sign(b"not json", SECRET, TIMESTAMP)
    with pytest.raises(SignatureError, match="not JSON"):
        webhooks.verify(b"not json", header, SECRET, now=TIMESTAMP)
