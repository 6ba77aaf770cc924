#!/usr/bin/env bash
# Checks deploy/k8s/ offline (CTest test k8s_manifests, label unit): validate.py checks every
# manifest against the JSON schema of its kind kept in schemas/ and the references between them,
# with its negative control. Debian's Python (python3-jsonschema, python3-yaml: the test package
# group), not whichever python3 comes first on PATH.
# Usage: deploy/k8s/check.sh   (exit 0 when valid)
set -euo pipefail
DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
exec /usr/bin/python3 "$DIR/validate.py" --self-check
