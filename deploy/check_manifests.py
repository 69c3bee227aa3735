"""Checks on rendered manifests that neither kubernetes-validate nor checkov makes: that they
agree with the code and the images they run.

    python3 deploy/check_manifests.py RENDERED.yaml...

- KEDA's objects against the schemas of its CRDs (deploy/schemas/), with unknown fields
  refused: the API server would drop a misspelt field without a word.
- Every environment variable a container gets is one the binaries read (.env.example lists
  them all).
- Each KEDA trigger watches the queue its Deployment consumes, {prefix}.{family}.
- Each grace period outlasts the binary's own shutdown bound (SHUTDOWN_GRACE in
  api/src/lib.rs and worker/src/lib.rs) plus the preStop sleep.
- The uid and the port match the image's Dockerfile.
- A rendered Secret holds every key the manifests require of it.

Exits non-zero after printing every problem found.
"""

import json
import pathlib
import re
import sys

import jsonschema
import yaml

REPO = pathlib.Path(__file__).resolve().parent.parent
SCHEMAS = REPO / "deploy" / "schemas" / "keda-2.20.2"
# Image name (the base's, before an overlay renames it) to the binary's crate directory.
BINARIES = {"progimage/api": "api", "progimage/worker": "worker"}
# After SHUTDOWN_GRACE the API waits up to 2 s for background work and both runtimes up to
# 0.5 s for blocking threads; beyond that, a margin for a slow node.
SHUTDOWN_MARGIN_S = 5


def strict(schema):
    """The schema with unknown properties refused wherever it lists the known ones."""
    if isinstance(schema, list):
        return [strict(item) for item in schema]
    if not isinstance(schema, dict):
        return schema
    out = {key: strict(value) for key, value in schema.items()}
    if (
        "properties" in out
        and "additionalProperties" not in out
        and not out.get("x-kubernetes-preserve-unknown-fields")
    ):
        out["additionalProperties"] = False
    return out


def keda_validators():
    validators = {}
    for path in SCHEMAS.glob("*-keda-v1alpha1.json"):
        kind = path.name.split("-")[0]
        schema = strict(json.loads(path.read_text()))
        validators[kind] = jsonschema.Draft7Validator(schema)
    return validators


def documented_variables():
    """The variables .env.example documents, commented out or not."""
    pattern = re.compile(r"^#?\s*([A-Z][A-Z0-9_]*)=", re.MULTILINE)
    return set(pattern.findall((REPO / ".env.example").read_text()))


def shutdown_grace_s(crate):
    source = (REPO / crate / "src" / "lib.rs").read_text()
    found = re.search(r"SHUTDOWN_GRACE: Duration = Duration::from_secs\((\d+)\)", source)
    if not found:
        raise SystemExit(f"no SHUTDOWN_GRACE in {crate}/src/lib.rs")
    return int(found.group(1))


def dockerfile(crate):
    text = (REPO / crate / "Dockerfile").read_text()
    user = re.search(r"^USER (\d+)(?::(\d+))?", text, re.MULTILINE)
    exposed = {int(port) for port in re.findall(r"^EXPOSE (\d+)", text, re.MULTILINE)}
    return int(user.group(1)), exposed


def binary_of(image):
    name = image.split("@")[0].rsplit(":", 1)[0]
    for suffix, crate in BINARIES.items():
        if name == suffix or name.endswith("/" + suffix):
            return crate
    return None


def check(path, problems):
    documents = [doc for doc in yaml.safe_load_all(pathlib.Path(path).read_text()) if doc]
    by_kind = {}
    for doc in documents:
        by_kind.setdefault(doc["kind"], {})[doc["metadata"]["name"]] = doc

    def problem(doc, message):
        problems.append(f"{path}: {doc['kind']}/{doc['metadata']['name']}: {message}")

    validators = keda_validators()
    for doc in documents:
        validator = validators.get(doc["kind"].lower())
        if doc["apiVersion"].startswith("keda.sh/"):
            if validator is None:
                problem(doc, "no schema in deploy/schemas for this KEDA kind")
                continue
            for error in validator.iter_errors(doc):
                where = ".".join(str(part) for part in error.absolute_path) or "(top)"
                problem(doc, f"{where}: {error.message}")

    documented = documented_variables()
    required_keys = {}
    deployments = by_kind.get("Deployment", {})
    for doc in deployments.values():
        pod = doc["spec"]["template"]["spec"]
        grace = pod.get("terminationGracePeriodSeconds", 30)
        for container in pod["containers"]:
            names = [env["name"] for env in container.get("env", [])]
            for source in container.get("envFrom", []):
                ref = source.get("configMapRef")
                if ref and ref["name"] in by_kind.get("ConfigMap", {}):
                    names += list(by_kind["ConfigMap"][ref["name"]].get("data", {}))
            for name in names:
                if name not in documented:
                    problem(doc, f"{name} is not a variable the binaries read (.env.example)")
            for env in container.get("env", []):
                ref = env.get("valueFrom", {}).get("secretKeyRef")
                if ref and not ref.get("optional"):
                    required_keys.setdefault(ref["name"], set()).add(ref["key"])

            crate = binary_of(container["image"])
            if crate is None:
                problem(doc, f"image {container['image']} is neither progimage/api nor /worker")
                continue
            pre_stop = container.get("lifecycle", {}).get("preStop", {})
            sleep_s = pre_stop.get("sleep", {}).get("seconds", 0)
            needed = sleep_s + shutdown_grace_s(crate) + SHUTDOWN_MARGIN_S
            if grace < needed:
                problem(doc, f"terminationGracePeriodSeconds {grace} < {needed} (preStop "
                        f"{sleep_s} s + {crate}'s SHUTDOWN_GRACE + {SHUTDOWN_MARGIN_S} s)")
            uid, exposed = dockerfile(crate)
            context = {**pod.get("securityContext", {}), **container.get("securityContext", {})}
            if context.get("runAsUser") != uid:
                problem(doc, f"runAsUser {context.get('runAsUser')} is not {crate}/Dockerfile's {uid}")
            ports = {port["containerPort"] for port in container.get("ports", [])}
            if ports != exposed:
                problem(doc, f"container ports {sorted(ports)} differ from {crate}/Dockerfile's "
                        f"EXPOSE {sorted(exposed)}")

    for doc in by_kind.get("TriggerAuthentication", {}).values():
        for ref in doc["spec"].get("secretTargetRef", []):
            required_keys.setdefault(ref["name"], set()).add(ref["key"])

    for doc in by_kind.get("ScaledObject", {}).values():
        target = deployments.get(doc["spec"]["scaleTargetRef"]["name"])
        if target is None:
            problem(doc, "scales no Deployment of these manifests")
            continue
        container = target["spec"]["template"]["spec"]["containers"][0]
        env = {e["name"]: e.get("value") for e in container.get("env", [])}
        prefix = "progimage"
        for source in container.get("envFrom", []):
            ref = source.get("configMapRef")
            data = by_kind.get("ConfigMap", {}).get(ref["name"] if ref else None, {})
            prefix = data.get("data", {}).get("PROGIMAGE_AMQP_PREFIX", prefix)
        prefix = env.get("PROGIMAGE_AMQP_PREFIX") or prefix
        families = (env.get("PROGIMAGE_FAMILIES") or "raster,vector").split(",")
        watched = {t["metadata"].get("queueName") for t in doc["spec"]["triggers"]
                   if t["type"] == "rabbitmq"}
        consumed = {f"{prefix}.{family.strip()}" for family in families}
        if watched != consumed:
            problem(doc, f"watches {sorted(watched)} but its Deployment consumes {sorted(consumed)}")

    for name, keys in required_keys.items():
        secret = by_kind.get("Secret", {}).get(name)
        if secret is None:
            continue  # the operator's Secret, not part of these manifests
        present = set(secret.get("data", {})) | set(secret.get("stringData", {}))
        for key in sorted(keys - present):
            problem(secret, f"lacks the key {key} the manifests require")


def main(paths):
    problems = []
    for path in paths:
        check(path, problems)
    for line in problems:
        print(f"FAIL {line}")
    if problems:
        return 1
    print(f"manifest checks passed: {', '.join(paths)}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
