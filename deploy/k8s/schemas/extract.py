#!/usr/bin/env python3
"""Writes the JSON schemas of the Kubernetes kinds deploy/k8s uses, one self-contained file per
kind, from the schemas the PyPI package kubernetes-validate ships (generated from Kubernetes'
OpenAPI document; its "-local-strict" variant refuses unknown fields). Each file keeps only the
definitions its kind reaches, with descriptions dropped, so the repository holds a few hundred KB
instead of the package's 1.4 MB per version.

Regenerate (network needed once; the check itself runs offline):
    pip download --no-deps kubernetes-validate -d /tmp/kv && cd /tmp/kv && unzip -q *.whl
    deploy/k8s/schemas/extract.py /tmp/kv/kubernetes_validate/kubernetes-json-schema/v1.33.0-local-strict
"""
import json
import os
import sys

KINDS = [  # file names in the package: <kind>-<group>-<version>.json
    "configmap-v1", "secret-v1", "service-v1", "statefulset-apps-v1", "deployment-apps-v1",
    "poddisruptionbudget-policy-v1", "horizontalpodautoscaler-autoscaling-v2",
]
PREFIX = "/api/_definitions.json#/$defs/"


def strip(node):
    if isinstance(node, dict):
        return {k: strip(v) for k, v in node.items() if k != "description"}
    if isinstance(node, list):
        return [strip(v) for v in node]
    return node


def refs(node, found):
    if isinstance(node, dict):
        ref = node.get("$ref")
        for prefix in (PREFIX, "#/$defs/"):  # the kind's file, the definitions among themselves
            if isinstance(ref, str) and ref.startswith(prefix):
                found.add(ref[len(prefix):])
        for v in node.values():
            refs(v, found)
    elif isinstance(node, list):
        for v in node:
            refs(v, found)


def local(node):
    text = json.dumps(node)
    return json.loads(text.replace(PREFIX, "#/$defs/"))


def main():
    source = sys.argv[1]
    out = os.path.dirname(os.path.abspath(__file__))
    with open(os.path.join(source, "_definitions.json")) as f:
        definitions = json.load(f)["$defs"]
    version = os.path.basename(source.rstrip("/"))
    for kind in KINDS:
        with open(os.path.join(source, kind + ".json")) as f:
            schema = strip(json.load(f))
        needed, todo = set(), set()
        refs(schema, todo)
        while todo:
            name = todo.pop()
            if name in needed:
                continue
            needed.add(name)
            refs(definitions[name], todo)
        schema["$defs"] = {name: strip(definitions[name]) for name in sorted(needed)}
        schema = local(schema)
        schema["$comment"] = "extracted by extract.py from kubernetes-validate, " + version
        with open(os.path.join(out, kind + ".json"), "w") as f:
            json.dump(schema, f, indent=None, sort_keys=True, separators=(",", ":"))
            f.write("\n")
        print(kind, len(needed), "definitions")


if __name__ == "__main__":
    main()
