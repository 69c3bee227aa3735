"""Typed views of the API's JSON documents.

Parsing is tolerant: unknown fields are ignored and missing optional ones become ``None``, so
a newer server does not break an older SDK.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from typing import Any, Dict, List, Mapping, Optional

__all__ = [
    "Image",
    "ImagePage",
    "Job",
    "JobItem",
    "JobPage",
    "Webhook",
    "Problem",
    "JOB_FINISHED_STATUSES",
]

#: Job statuses after which nothing changes any more.
JOB_FINISHED_STATUSES = frozenset({"succeeded", "failed", "completed_with_errors", "cancelled"})

_RFC3339 = re.compile(
    r"^(\d{4})-(\d{2})-(\d{2})[Tt ](\d{2}):(\d{2}):(\d{2})(?:\.(\d+))?([Zz]|[+-]\d{2}:\d{2})$"
)


def parse_datetime(value: Any) -> Optional[datetime]:
    """An RFC 3339 time as an aware ``datetime`` (fractions past microseconds are dropped).

    Written out rather than ``datetime.fromisoformat`` because Python 3.9/3.10 accept neither
    ``Z`` nor nanosecond fractions.
    """
    if not isinstance(value, str):
        return None
    match = _RFC3339.match(value)
    if match is None:
        return None
    year, month, day, hour, minute, second, fraction, offset = match.groups()
    micros = int((fraction or "0")[:6].ljust(6, "0"))
    if offset in ("Z", "z"):
        tz = timezone.utc
    else:
        sign = 1 if offset[0] == "+" else -1
        tz = timezone(sign * timedelta(hours=int(offset[1:3]), minutes=int(offset[4:6])))
    return datetime(
        int(year), int(month), int(day), int(hour), int(minute), int(second), micros, tzinfo=tz
    )


def _str(data: Mapping[str, Any], key: str) -> Optional[str]:
    value = data.get(key)
    return value if isinstance(value, str) else None


def _int(data: Mapping[str, Any], key: str) -> Optional[int]:
    value = data.get(key)
    # bool is an int subclass; a JSON true is never a count.
    return value if isinstance(value, int) and not isinstance(value, bool) else None


def _count(data: Mapping[str, Any], key: str) -> int:
    return _int(data, key) or 0


def _mapping(value: Any) -> Mapping[str, Any]:
    return value if isinstance(value, Mapping) else {}


@dataclass(frozen=True)
class Problem:
    """An RFC 9457 problem document, as the API reports errors (also per job item)."""

    code: Optional[str]
    status: Optional[int]
    title: Optional[str] = None
    detail: Optional[str] = None
    type: Optional[str] = None
    param: Optional[str] = None
    request_id: Optional[str] = None
    raw: Dict[str, Any] = field(default_factory=dict, repr=False, compare=False)

    @classmethod
    def from_dict(cls, data: Any) -> "Problem":
        """Parse a problem document; extension members stay in ``raw``."""
        data = _mapping(data)
        return cls(
            code=_str(data, "code"),
            status=_int(data, "status"),
            title=_str(data, "title"),
            detail=_str(data, "detail"),
            type=_str(data, "type"),
            param=_str(data, "param"),
            request_id=_str(data, "request_id"),
            raw=dict(data),
        )


@dataclass(frozen=True)
class Image:
    """A stored image's metadata (an original, or a job's output)."""

    id: str
    url: str
    format: Optional[str]
    content_type: Optional[str]
    width: Optional[int]
    height: Optional[int]
    bytes: Optional[int]
    sha256: Optional[str]
    filename: Optional[str]
    created_at: Optional[datetime]
    source_image_id: Optional[str] = None
    job_id: Optional[str] = None

    @classmethod
    def from_dict(cls, data: Any) -> "Image":
        """Parse an Image document."""
        data = _mapping(data)
        image_id = _str(data, "id") or ""
        return cls(
            id=image_id,
            url=_str(data, "url") or f"/v1/images/{image_id}",
            format=_str(data, "format"),
            content_type=_str(data, "content_type"),
            width=_int(data, "width"),
            height=_int(data, "height"),
            bytes=_int(data, "bytes"),
            sha256=_str(data, "sha256"),
            filename=_str(data, "filename"),
            created_at=parse_datetime(data.get("created_at")),
            source_image_id=_str(data, "source_image_id"),
            job_id=_str(data, "job_id"),
        )


@dataclass(frozen=True)
class ImagePage:
    """One page of ``GET /v1/images``, newest first."""

    images: List[Image]
    next_cursor: Optional[str]

    @classmethod
    def from_dict(cls, data: Any) -> "ImagePage":
        """Parse an image listing page."""
        data = _mapping(data)
        images = data.get("images")
        return cls(
            images=[Image.from_dict(item) for item in images] if isinstance(images, list) else [],
            next_cursor=_str(data, "next_cursor"),
        )


@dataclass(frozen=True)
class JobItem:
    """The state of one item of a job; ``image`` is its output once it succeeded."""

    index: int
    status: str
    image: Optional[Image] = None
    error: Optional[Problem] = None

    @classmethod
    def from_dict(cls, data: Any) -> "JobItem":
        """Parse a job item."""
        data = _mapping(data)
        image = data.get("image")
        error = data.get("error")
        return cls(
            index=_count(data, "index"),
            status=_str(data, "status") or "",
            image=Image.from_dict(image) if isinstance(image, Mapping) else None,
            error=Problem.from_dict(error) if isinstance(error, Mapping) else None,
        )


@dataclass(frozen=True)
class Webhook:
    """Where a job's completion is posted, and how delivery went so far."""

    url: str
    attempts: int = 0
    delivered_at: Optional[datetime] = None
    last_status: Optional[int] = None

    @classmethod
    def from_dict(cls, data: Any) -> "Webhook":
        """Parse a job's webhook state."""
        data = _mapping(data)
        return cls(
            url=_str(data, "url") or "",
            attempts=_count(data, "attempts"),
            delivered_at=parse_datetime(data.get("delivered_at")),
            last_status=_int(data, "last_status"),
        )


@dataclass(frozen=True)
class Job:
    """A bulk job. ``items`` is ``None`` where the server leaves it out (submission, listing)."""

    id: str
    status: str
    total: int
    url: str
    succeeded: int = 0
    failed: int = 0
    cancelled: int = 0
    items: Optional[List[JobItem]] = None
    metadata: Any = None
    webhook: Optional[Webhook] = None
    created_at: Optional[datetime] = None
    updated_at: Optional[datetime] = None
    finished_at: Optional[datetime] = None

    @property
    def finished(self) -> bool:
        """Whether the job reached an end status (nothing about it changes any more)."""
        return self.status in JOB_FINISHED_STATUSES

    @classmethod
    def from_dict(cls, data: Any) -> "Job":
        """Parse a Job document (full, listed, or as answered at submission)."""
        data = _mapping(data)
        job_id = _str(data, "id") or ""
        items = data.get("items")
        webhook = data.get("webhook")
        return cls(
            id=job_id,
            status=_str(data, "status") or "",
            total=_count(data, "total"),
            url=_str(data, "url") or f"/v1/jobs/{job_id}",
            succeeded=_count(data, "succeeded"),
            failed=_count(data, "failed"),
            cancelled=_count(data, "cancelled"),
            items=[JobItem.from_dict(item) for item in items] if isinstance(items, list) else None,
            metadata=data.get("metadata"),
            webhook=Webhook.from_dict(webhook) if isinstance(webhook, Mapping) else None,
            created_at=parse_datetime(data.get("created_at")),
            updated_at=parse_datetime(data.get("updated_at")),
            finished_at=parse_datetime(data.get("finished_at")),
        )


@dataclass(frozen=True)
class JobPage:
    """One page of ``GET /v1/jobs``, newest first (jobs without items)."""

    jobs: List[Job]
    next_cursor: Optional[str]

    @classmethod
    def from_dict(cls, data: Any) -> "JobPage":
        """Parse a job listing page."""
        data = _mapping(data)
        jobs = data.get("jobs")
        return cls(
            jobs=[Job.from_dict(item) for item in jobs] if isinstance(jobs, list) else [],
            next_cursor=_str(data, "next_cursor"),
        )
