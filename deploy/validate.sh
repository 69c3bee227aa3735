#!/usr/bin/env bash
# Renders the Kubernetes manifests under deploy/k8s (the base, the example overlay, and the
# overlay with components/hpa-cpu) and checks each rendering with:
#   - kubernetes-validate, strict (unknown fields refused), against Kubernetes $KUBERNETES_VERSION;
#     it has no schema for KEDA's kinds and says so,
#   - deploy/check_manifests.py: KEDA's kinds against their CRD schemas, and the manifests
#     against the code (variable names, queue names, grace periods, uid, port, Secret keys),
#   - checkov's Kubernetes checks, with the skips and reasons of .checkov.yaml.
# Fails on the first problem. Installs what is missing: kubectl (Debian's kubernetes-client)
# and a venv with kubernetes-validate and checkov under
# ${XDG_CACHE_HOME:-~/.cache}/progimage-deploy-venv. Contacts nothing but those installs
# (a kubectl that dispatches by server version, as Google's does, asks the default
# localhost:8080 for one and, finding none, uses its own).
set -euo pipefail
cd "$(dirname "$0")/.."

KUBERNETES_VERSION="${KUBERNETES_VERSION:-1.30.0}"
KUBERNETES_VALIDATE_VERSION=1.37.0
CHECKOV_VERSION=3.3.30
venv="${XDG_CACHE_HOME:-$HOME/.cache}/progimage-deploy-venv"

# kubectl with a kustomize that knows Components (kustomize 3.7 and later, kubectl 1.21).
if ! command -v kubectl >/dev/null; then
  echo "kubectl missing: installing Debian's kubernetes-client"
  apt-get update
  apt-get install -y kubernetes-client
fi
kustomize_version=$(kubectl version --client 2>/dev/null | sed -n 's/^Kustomize Version: v//p')
case "$kustomize_version" in
  [4-9].* | [1-9][0-9].*) ;;
  *)
    echo "FAIL: kubectl's kustomize is '${kustomize_version:-unknown}'; components need kustomize 4 or later (kubectl 1.21+)" >&2
    exit 1
    ;;
esac

if ! "$venv/bin/kubernetes-validate" --version 2>/dev/null | grep -qx "$KUBERNETES_VALIDATE_VERSION" ||
  ! "$venv/bin/checkov" --version 2>/dev/null | grep -qx "$CHECKOV_VERSION"; then
  echo "installing kubernetes-validate $KUBERNETES_VALIDATE_VERSION and checkov $CHECKOV_VERSION into $venv"
  python3 -m venv --clear "$venv"
  "$venv/bin/pip" install --quiet --disable-pip-version-check \
    "kubernetes-validate==$KUBERNETES_VALIDATE_VERSION" "checkov==$CHECKOV_VERSION"
fi
echo "kubectl $(kubectl version --client 2>/dev/null | sed -n 's/^Client Version: //p') (kustomize $kustomize_version)," \
  "kubernetes-validate $("$venv/bin/kubernetes-validate" --version), checkov $("$venv/bin/checkov" --version)"

out=$(mktemp -d)
trap 'rm -rf "$out"' EXIT

# The hpa-cpu component applied to the example overlay, from a kustomization of its own
# (kustomize takes directories only by relative path).
mkdir "$out/hpa-cpu"
cat >"$out/hpa-cpu/kustomization.yaml" <<KUSTOMIZATION
apiVersion: kustomize.config.k8s.io/v1beta1
kind: Kustomization
resources:
  - $(realpath --relative-to="$out/hpa-cpu" deploy/k8s/overlays/example)
components:
  - $(realpath --relative-to="$out/hpa-cpu" deploy/k8s/components/hpa-cpu)
KUSTOMIZATION

renderings=(base overlay-example overlay-example-hpa-cpu)
sources=(deploy/k8s/base deploy/k8s/overlays/example "$out/hpa-cpu")
for i in "${!renderings[@]}"; do
  name="${renderings[$i]}"
  file="$out/$name.yaml"
  echo "== $name: kubectl kustomize ${sources[$i]}"
  kubectl kustomize "${sources[$i]}" >"$file"
  echo "$(grep -c '^kind:' "$file") objects: $(grep '^kind:' "$file" | cut -d' ' -f2 | sort | uniq -c | awk '{printf "%s%s x%s", sep, $2, $1; sep=", "}')"

  echo "== $name: kubernetes-validate --strict -k $KUBERNETES_VERSION (KEDA's kinds: next step)"
  "$venv/bin/kubernetes-validate" --strict --quiet -k "$KUBERNETES_VERSION" "$file"

  echo "== $name: check_manifests.py"
  "$venv/bin/python" deploy/check_manifests.py "$file"

  echo "== $name: checkov"
  # --skip-download and the environment keep checkov offline: no platform, no version check.
  CKV_SKIP_PACKAGE_UPDATE_CHECK=true BC_SKIP_MAPPING=TRUE \
    "$venv/bin/checkov" --config-file .checkov.yaml --skip-download --compact --quiet \
    -f "$file"
done
echo "== deploy manifests: all checks passed"
