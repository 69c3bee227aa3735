#!/usr/bin/env python3
"""Checks the documentation against the running server.

Usage: check-docs.py <path to progimage-api>   (scripts/check-docs.sh finds the binary)

It starts the server on a free loopback port with a temporary data directory, reads its
/openapi.json and fails when

- an endpoint (method and path), error code, query parameter or environment variable that
  docs/api.md names is not served (in /openapi.json, or in .env.example for variables), or
  the other way round: every OpenAPI operation, query parameter and problem code, and every
  variable of .env.example, must be in docs/api.md;
- a clap `env = "..."` of the binaries (core, api, worker sources) is not in .env.example;
- docs/api.md lacks a heading, endpoint, error code, query parameter or variable of the
  shared contract, when the contract is present (../shared/API.md beside the repository, or
  $PROGIMAGE_CONTRACT);
- a relative link in README.md or docs/*.md does not resolve to a file of the repository
  (anchors included), or README.md links outside the repository to anything but a
  third-party http(s) site.

A document names an endpoint as a code span `METHOD /path…`, a query parameter as `name=…`
at the start of a code span or after its `?` or `&`, an environment variable as an
UPPER_SNAKE word in a code span; the first column of a table headed `code` lists error
codes, of one headed `param` or `query …` query parameters.

What docs/api.md marks as not served yet may be missing from the server, but only when it is
listed in PLANNED below and marked in docs/api.md: in a section whose first block starts
with "> **Planned — not yet served", or in a bullet, paragraph or table row that says
"(planned — not yet served". An entry of PLANNED that the server does serve fails the check
too, so the list only shrinks.

Standard library only (Python 3.11).
"""

from __future__ import annotations

import ipaddress
import json
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.parse
import urllib.request
from dataclasses import dataclass
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
API_DOC = REPO / "docs" / "api.md"
ENV_EXAMPLE = REPO / ".env.example"
CONFIG_SOURCES = [REPO / "core" / "src", REPO / "api" / "src", REPO / "worker" / "src"]

# What docs/api.md names but the server does not serve yet. Remove an entry when it is
# served (the check says so); never add one for something a served section promises.
PLANNED: set[tuple[str, str]] = {
    # Delivery: signed URLs, presets, format negotiation
    ("endpoint", "POST /v1/signing-keys"),
    ("endpoint", "GET /v1/signing-keys"),
    ("endpoint", "DELETE /v1/signing-keys/{id}"),
    ("endpoint", "PUT /v1/presets/{name}"),
    ("endpoint", "GET /v1/presets"),
    ("endpoint", "GET /v1/presets/{name}"),
    ("endpoint", "DELETE /v1/presets/{name}"),
    ("endpoint", "PUT /v1/settings"),
    ("endpoint", "GET /v1/settings"),
    ("endpoint", "GET /v1/images/{id}.auto"),
    ("endpoint", "DELETE /v1/images/{id}/variants"),
    ("param", "kid"),
    ("param", "exp"),
    ("param", "sig"),
    ("param", "preset"),
    ("code", "signature_invalid"),
    ("code", "signature_expired"),
    ("code", "preset_required"),
    # Animation
    ("param", "frame"),
    ("param", "loop"),
    ("env", "PROGIMAGE_MAX_FRAMES"),
    ("env", "PROGIMAGE_MAX_ANIMATION_PIXELS"),
    # More transformations
    ("param", "dpr"),
    ("param", "trim"),
    ("param", "overlay"),
    ("param", "overlay_gravity"),
    ("param", "overlay_x"),
    ("param", "overlay_y"),
    ("param", "overlay_opacity"),
    ("param", "overlay_width"),
    ("param", "overlay_tile"),
    ("param", "text"),
    ("param", "text_size"),
    ("param", "text_color"),
    ("param", "text_gravity"),
    ("param", "text_x"),
    ("param", "text_y"),
    ("param", "saturation"),
    ("param", "hue"),
    ("param", "gamma"),
    ("param", "sepia"),
    ("param", "pixelate"),
    # Encoding controls
    ("param", "max_bytes"),
    ("param", "progressive"),
    ("param", "chroma"),
    ("param", "effort"),
    ("param", "colors"),
    # Image data, lifecycle, search
    ("endpoint", "PATCH /v1/images/{id}"),
    ("endpoint", "GET /v1/images/{id}/exif"),
    ("endpoint", "GET /v1/images/{id}/similar"),
    ("endpoint", "GET /v1/usage"),
    ("param", "tags"),
    ("param", "ttl"),
    ("param", "expires_at"),
    ("param", "focal"),
    ("param", "tag"),
    ("param", "metadata.<key>"),
    ("param", "created_after"),
    ("param", "created_before"),
    ("param", "source_image_id"),
    ("param", "job_id"),
    ("param", "max_distance"),
    ("code", "quota_exceeded"),
    ("env", "PROGIMAGE_QUOTA_BYTES"),
    # Uploads: direct and resumable
    ("endpoint", "POST /v1/uploads"),
    ("endpoint", "GET /v1/uploads/tus/{id}"),
    ("code", "upload_offset_mismatch"),
    ("code", "tus_version_unsupported"),
    ("code", "upload_locked"),
    ("env", "PROGIMAGE_CORS_ORIGINS"),
    # Rate limits
    ("code", "rate_limited"),
    ("env", "PROGIMAGE_RATE_LIMIT"),
    ("env", "REDIS_URL"),
    # Observability
    ("env", "PROGIMAGE_METRICS_LISTEN"),
    ("env", "OTEL_EXPORTER_OTLP_ENDPOINT"),
}

KINDS = ("endpoint", "code", "param", "env")
METHODS = ("GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS")
SECTION_MARK = "> **Planned — not yet served"
BLOCK_MARK = "(planned — not yet served"

# ---------------------------------------------------------------------------------------
# Markdown: sections, blocks, code spans.


@dataclass
class Block:
    """A paragraph, list item or table row, with the section it is in."""

    section: str
    text: str
    planned: bool


def blocks(markdown: str) -> list[Block]:
    """Splits a document into blocks outside fenced code; `planned` per the marks above."""
    found: list[Block] = []
    section = ""
    section_planned = False
    first_in_section = True
    current: list[str] = []
    in_fence = False

    def flush() -> None:
        nonlocal current, first_in_section, section_planned
        if not current:
            return
        text = "\n".join(current)
        if first_in_section:
            section_planned = text.startswith(SECTION_MARK)
            first_in_section = False
        found.append(Block(section, text, section_planned or BLOCK_MARK in text))
        current = []

    for line in markdown.splitlines():
        if line.lstrip().startswith("```"):
            flush()
            in_fence = not in_fence
            continue
        if in_fence:
            continue
        if line.startswith("## "):
            flush()
            section = line[3:].strip()
            section_planned = False
            first_in_section = True
            continue
        if line.startswith("#"):
            flush()
            continue
        stripped = line.strip()
        if not stripped:
            flush()
        elif stripped.startswith("|") or re.match(r"(- |\d+\. )", stripped):
            flush()
            current.append(line)
            if stripped.startswith("|"):
                flush()
        else:
            current.append(line)
    flush()
    return found


def code_spans(text: str) -> list[str]:
    return re.findall(r"`([^`]+)`", text)


def normalise_path(path: str) -> str:
    """`/v1/images/{id}.{ext}` and `/v1/images/{file}.{format}` compare equal."""
    return re.sub(r"\{[^}]*\}", "{}", path)


# ---------------------------------------------------------------------------------------
# What a document names.

ENDPOINT = re.compile(
    r"^((?:%s)(?:[|/](?:%s))*)\s+(/[^\s?]*)" % ("|".join(METHODS), "|".join(METHODS))
)
QUERY_PAIR = re.compile(r"(?:^|[?&])([a-z][a-z0-9_]*(?:\.<[a-z]+>)?)=")
ENV_NAME = re.compile(r"\b[A-Z][A-Z0-9]*(?:_[A-Z0-9]+)+\b")
IDENTIFIER = re.compile(r"^[a-z][a-z0-9_]*$")


def table_cells(row: str) -> list[str]:
    return [cell.strip() for cell in row.strip().strip("|").split("|")]


def first_cell_names(cell: str) -> list[str]:
    """Parameter names in a parameter table's first cell: `crop=x,y,w,h`, and bare names
    that start the cell or follow a comma or "with" (`w`, `h`; `overlay=<id>` with
    `overlay_x`), not the values after a slash (`svg=trace` / `embed`) or in brackets."""
    names = []
    position = 0
    for match in re.finditer(r"`([^`]+)`", cell):
        before = cell[position : match.start()].strip()
        position = match.end()
        token = match.group(1).split("=", 1)
        if len(token) == 1 and not (before == "" or before.endswith(",") or before == "with"):
            continue
        if IDENTIFIER.match(token[0]):
            names.append(token[0])
    return names


def named_items(markdown: str) -> dict[tuple[str, str], list[Block]]:
    """Every (kind, name) the document names, with the blocks naming it."""
    items: dict[tuple[str, str], list[Block]] = {}

    def add(kind: str, name: str, block: Block) -> None:
        items.setdefault((kind, name), []).append(block)

    # The first cell of a table's header row says what its rows name: `code` (the error
    # codes), `param` or `query …` (the query parameters).
    table_kind = None
    in_table = False
    for block in blocks(markdown):
        text = block.text
        is_row = text.lstrip().startswith("|")
        if is_row:
            cells = table_cells(text)
            if not in_table:
                header = cells[0].lower()
                if header == "code":
                    table_kind = "code"
                elif header == "param" or header.startswith("query"):
                    table_kind = "param"
                else:
                    table_kind = None
            elif re.fullmatch(r"[-: ]+", "".join(cells)):
                pass
            elif table_kind == "code":
                for name in code_spans(cells[0]):
                    add("code", name, block)
            elif table_kind == "param":
                for name in first_cell_names(cells[0]):
                    add("param", name, block)
        in_table = is_row
        for span in code_spans(text):
            span = " ".join(span.split())
            endpoint = ENDPOINT.match(span)
            if endpoint:
                for method in re.split(r"[|/]", endpoint.group(1)):
                    add("endpoint", f"{method} {endpoint.group(2)}", block)
            for name in QUERY_PAIR.findall(span):
                add("param", name, block)
            for name in ENV_NAME.findall(span):
                add("env", name, block)
    return items


def headings(markdown: str) -> list[str]:
    lines, in_fence = [], False
    for line in markdown.splitlines():
        if line.lstrip().startswith("```"):
            in_fence = not in_fence
        elif not in_fence and re.match(r"#{1,6} ", line):
            lines.append(line.strip())
    return lines


# ---------------------------------------------------------------------------------------
# What the server serves.


def resolve(document: dict, node):
    """Follows local `$ref`s."""
    while isinstance(node, dict) and "$ref" in node:
        pointer = node["$ref"].removeprefix("#/").split("/")
        node = document
        for part in pointer:
            node = node[part.replace("~1", "/").replace("~0", "~")]
    return node


def schema_properties(document: dict, schema) -> set[str]:
    """The property names of an object schema, through anyOf/oneOf/allOf."""
    schema = resolve(document, schema) or {}
    names = set(schema.get("properties", {}))
    for combinator in ("anyOf", "oneOf", "allOf"):
        for part in schema.get(combinator, []):
            names |= schema_properties(document, part)
    return names


def served_items(document: dict) -> set[tuple[str, str]]:
    served: set[tuple[str, str]] = set()
    problem_fields = schema_properties(document, document["components"]["schemas"]["Problem"])
    descriptions = [document.get("info", {}).get("description", "")]
    responses = list(document.get("components", {}).get("responses", {}).values())
    for path, item in document["paths"].items():
        for method, operation in item.items():
            if method.upper() not in METHODS:
                continue
            served.add(("endpoint", f"{method.upper()} {path}"))
            for parameter in operation.get("parameters", []) + item.get("parameters", []):
                parameter = resolve(document, parameter)
                if parameter.get("in") != "query":
                    continue
                exploded = parameter.get("explode", parameter.get("style", "form") == "form")
                properties = schema_properties(document, parameter.get("schema", {}))
                if exploded and properties:
                    served |= {("param", name) for name in properties}
                else:
                    served.add(("param", parameter["name"]))
            responses += operation.get("responses", {}).values()
    for response in responses:
        response = resolve(document, response)
        if "application/problem+json" in response.get("content", {}):
            descriptions.append(response.get("description", ""))
    for description in descriptions:
        for span in code_spans(description):
            if IDENTIFIER.match(span) and span not in problem_fields:
                served.add(("code", span))
    code_schema = resolve(document, document["components"]["schemas"]["Problem"])
    for value in code_schema.get("properties", {}).get("code", {}).get("enum", []):
        served.add(("code", value))
    return served


def env_example_names() -> set[str]:
    names = set()
    for line in ENV_EXAMPLE.read_text().splitlines():
        match = re.match(r"^#?\s*([A-Z][A-Z0-9_]*)=", line)
        if match:
            names.add(match.group(1))
    return names


def clap_env_names() -> dict[str, Path]:
    """Every `env = "NAME"` of a clap argument in the binaries' sources."""
    names = {}
    for root in CONFIG_SOURCES:
        for source in sorted(root.rglob("*.rs")):
            for name in re.findall(r"\benv\s*=\s*\"([A-Z][A-Z0-9_]*)\"", source.read_text()):
                names.setdefault(name, source.relative_to(REPO))
    return names


# ---------------------------------------------------------------------------------------
# The server.


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def fetch_openapi(binary: Path) -> dict:
    """Starts the embedded set-up on loopback, reads /openapi.json, stops the server."""
    workdir = Path(tempfile.mkdtemp(prefix="progimage-docs-"))
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    environment = {
        name: value
        for name, value in os.environ.items()
        if not name.startswith("PROGIMAGE_") and name not in ("DATABASE_URL", "AMQP_URL")
    }
    environment.update(
        {
            "PROGIMAGE_DATA_DIR": str(workdir / "data"),
            "PROGIMAGE_LISTEN": f"127.0.0.1:{port}",
            "RUST_LOG": "warn",
        }
    )
    log_path = workdir / "server.log"
    with open(log_path, "wb") as log:
        process = subprocess.Popen(
            [str(binary)], env=environment, stdout=log, stderr=subprocess.STDOUT
        )
    try:
        deadline = time.monotonic() + 60
        while True:
            if process.poll() is not None:
                raise RuntimeError(f"progimage-api exited at start:\n{log_path.read_text()}")
            try:
                with urllib.request.urlopen(f"{url}/healthz", timeout=1) as answer:
                    if answer.status == 200:
                        break
            except (urllib.error.URLError, ConnectionError, TimeoutError):
                pass
            if time.monotonic() > deadline:
                raise RuntimeError(f"progimage-api not healthy in 60 s:\n{log_path.read_text()}")
            time.sleep(0.1)
        with urllib.request.urlopen(f"{url}/openapi.json", timeout=10) as answer:
            return json.load(answer)
    finally:
        process.send_signal(signal.SIGTERM)
        try:
            process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
        shutil.rmtree(workdir, ignore_errors=True)


# ---------------------------------------------------------------------------------------
# Links.

LINK = re.compile(r"!?\[(?:[^\]\[]|\[[^\]]*\])*\]\(\s*<?([^)\s>]+)>?(?:\s+\"[^\"]*\")?\s*\)")
REFERENCE = re.compile(r"^\s{0,3}\[[^\]]+\]:\s*<?(\S+?)>?(?:\s|$)", re.M)
AUTOLINK = re.compile(r"<([a-z][a-z0-9+.-]*:[^>\s]+)>", re.I)


def prose(markdown: str) -> str:
    """The text outside fenced code and code spans, where links live."""
    kept, in_fence = [], False
    for line in markdown.splitlines():
        if line.lstrip().startswith("```"):
            in_fence = not in_fence
            kept.append("")
        else:
            kept.append("" if in_fence else line)
    return re.sub(r"`[^`]*`", "", "\n".join(kept))


def slug(heading: str) -> str:
    """GitHub's anchor for a heading."""
    text = re.sub(r"[^\w\- ]", "", heading.strip().lower())
    return text.replace(" ", "-")


def anchors(markdown: str) -> set[str]:
    seen: dict[str, int] = {}
    found = set()
    for heading in headings(markdown):
        base = slug(heading.lstrip("#").strip())
        count = seen.get(base, 0)
        seen[base] = count + 1
        found.add(base if count == 0 else f"{base}-{count}")
    return found


def is_third_party(url: str) -> bool:
    host = (urllib.parse.urlsplit(url).hostname or "").lower()
    if not host or host == "localhost" or host.endswith((".localhost", ".local", ".internal")):
        return False
    try:
        address = ipaddress.ip_address(host)
    except ValueError:
        return "." in host
    return address.is_global


def ignored_by_git(path: Path) -> bool:
    if shutil.which("git") is None:
        return False
    result = subprocess.run(
        ["git", "-C", str(REPO), "check-ignore", "-q", str(path)], capture_output=True
    )
    return result.returncode == 0


def check_links(failures: list[str]) -> int:
    files = [REPO / "README.md"] + sorted((REPO / "docs").glob("*.md"))
    checked = 0
    for document in files:
        name = document.relative_to(REPO)
        text = prose(document.read_text())
        targets = LINK.findall(text) + REFERENCE.findall(text) + AUTOLINK.findall(text)
        for target in targets:
            checked += 1
            scheme = urllib.parse.urlsplit(target).scheme.lower()
            if scheme in ("http", "https"):
                if document.name == "README.md" and document.parent == REPO:
                    if not is_third_party(target):
                        failures.append(f"{name}: {target}: not a third-party site")
                continue
            if scheme:
                failures.append(f"{name}: {target}: only http(s) links may leave the repository")
                continue
            path_part, _, anchor = target.partition("#")
            if path_part.startswith("/"):
                failures.append(f"{name}: {target}: absolute paths do not resolve in a clone")
                continue
            resolved = (
                (document.parent / urllib.parse.unquote(path_part)).resolve()
                if path_part
                else document
            )
            if not resolved.is_relative_to(REPO):
                failures.append(f"{name}: {target}: outside the repository")
                continue
            if not resolved.exists():
                failures.append(f"{name}: {target}: no such file")
                continue
            if ignored_by_git(resolved):
                failures.append(f"{name}: {target}: ignored by git, so not in a clone")
                continue
            if anchor and resolved.suffix == ".md" and anchor not in anchors(resolved.read_text()):
                failures.append(f"{name}: {target}: no heading #{anchor}")
    return checked


# ---------------------------------------------------------------------------------------
# The checks.


def describe(item: tuple[str, str]) -> str:
    kind, name = item
    return name if kind == "endpoint" else f"{kind} {name}"


def compare(
    documented: dict[tuple[str, str], list[Block]],
    served: set[tuple[str, str]],
    failures: list[str],
) -> dict[str, tuple[int, int]]:
    """Fails on every difference PLANNED does not allow; returns per-kind counts."""

    def key(item: tuple[str, str]) -> tuple[str, str]:
        kind, name = item
        if kind == "endpoint":
            method, path = name.split(" ", 1)
            return kind, f"{method} {normalise_path(path)}"
        return item

    served_keys = {key(item) for item in served}
    documented_keys = {key(item) for item in documented}
    planned_keys = {key(item): item for item in PLANNED}
    for item, places in sorted(documented.items()):
        if key(item) in served_keys:
            continue
        sections = sorted({place.section or "(top)" for place in places})
        where = ", ".join(f'"{section}"' for section in sections)
        if key(item) not in planned_keys:
            failures.append(
                f"docs/api.md names {describe(item)} ({where}), which the server does not serve: "
                "fix the server or the text, or mark it planned and add it to PLANNED"
            )
        elif not any(place.planned for place in places):
            failures.append(
                f"{describe(item)} is in PLANNED but docs/api.md never marks it planned ({where})"
            )
    for planned_key, item in sorted(planned_keys.items()):
        if planned_key in served_keys:
            failures.append(f"{describe(item)} is served now: remove it from PLANNED")
        elif planned_key not in documented_keys:
            failures.append(f"{describe(item)} is in PLANNED but docs/api.md does not name it")
    for item in sorted(served):
        if key(item) not in documented_keys:
            source = ".env.example" if item[0] == "env" else "/openapi.json"
            failures.append(f"{source} has {describe(item)}, which docs/api.md does not name")
    return {
        kind: (
            sum(1 for item in documented if item[0] == kind and key(item) in served_keys),
            sum(1 for item in PLANNED if item[0] == kind),
        )
        for kind in KINDS
    }


def check_contract(documented: dict, api_text: str, failures: list[str]) -> str:
    contract = Path(os.environ.get("PROGIMAGE_CONTRACT", REPO.parent / "shared" / "API.md"))
    if not contract.is_file():
        return f"no shared contract at {contract}: skipped"
    text = contract.read_text()
    own_headings = set(headings(api_text))
    for heading in headings(text):
        if heading not in own_headings:
            failures.append(f"docs/api.md lacks the contract's heading {heading!r}")
    documented_keys = set(documented)
    contract_items = named_items(text)
    for item in sorted(contract_items):
        if item not in documented_keys:
            failures.append(f"docs/api.md lacks the contract's {describe(item)}")
    return f"{len(contract_items)} items and the headings of {contract}"


def main() -> int:
    if len(sys.argv) != 2:
        print(__doc__, file=sys.stderr)
        return 2
    binary = Path(sys.argv[1])
    failures: list[str] = []

    api_text = API_DOC.read_text()
    documented = named_items(api_text)
    document = fetch_openapi(binary)
    served = served_items(document)
    env_names = env_example_names()
    served |= {("env", name) for name in env_names}

    counts = compare(documented, served, failures)
    for kind in KINDS:
        matched, planned = counts[kind]
        print(f"{kind + 's':10} {matched:3} documented and served, {planned:3} planned")

    for name, source in sorted(clap_env_names().items()):
        if name not in env_names:
            failures.append(f"{source} takes {name}, which .env.example does not list")
    print(f"{'clap':10} {len(clap_env_names())} variables of core, api and worker checked in .env.example")

    print(f"{'contract':10} {check_contract(documented, api_text, failures)}")
    print(f"{'links':10} {check_links(failures)} links in README.md and docs/*.md")

    if failures:
        print(f"\n{len(failures)} problem(s):", file=sys.stderr)
        for failure in failures:
            print(f"  - {failure}", file=sys.stderr)
        return 1
    print("documentation matches the server")
    return 0


if __name__ == "__main__":
    sys.exit(main())
