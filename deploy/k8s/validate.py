#!/usr/bin/env python3
"""Validates deploy/k8s offline: every manifest against the JSON schema of its kind kept in
schemas/ (strict: an unknown or misspelt field fails, as `kubectl apply` would refuse it), then
what a schema cannot see: references between the objects (ConfigMap, Secret and their keys,
Service and PodDisruptionBudget selectors, the HPA's target), every configuration key a variable
the services read (the configuration table of docs/configuration.md), the probes on /healthz and /readyz, INSTANCE_ID
from the pod name, and a grace period that covers preStop plus the revocation drain.
--self-check also runs the negative control: broken copies of the manifests must fail.
Usage: deploy/k8s/validate.py [--self-check]   (exit 0 when valid)
"""
import copy
import glob
import json
import os
import re
import sys

import jsonschema
import yaml

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))
SCHEMA_OF = {  # (apiVersion, kind) -> schemas/<file>
    ("v1", "ConfigMap"): "configmap-v1.json",
    ("v1", "Secret"): "secret-v1.json",
    ("v1", "Service"): "service-v1.json",
    ("apps/v1", "StatefulSet"): "statefulset-apps-v1.json",
    ("apps/v1", "Deployment"): "deployment-apps-v1.json",
    ("policy/v1", "PodDisruptionBudget"): "poddisruptionbudget-policy-v1.json",
    ("autoscaling/v2", "HorizontalPodAutoscaler"): "horizontalpodautoscaler-autoscaling-v2.json",
}
# Drain bound of transaction-service on SIGTERM beyond its REQUEST_DEADLINE_MS: in-flight work
# (services/transaction_service/main.cpp waits up to 10 s).
IN_FLIGHT_DRAIN_S = 10


def load_documents():
    docs = []
    with open(os.path.join(HERE, "kustomization.yaml")) as f:
        kustomization = yaml.safe_load(f)
    for name in kustomization["resources"]:
        with open(os.path.join(HERE, name)) as f:
            for doc in yaml.safe_load_all(f):
                if doc:
                    docs.append((name, doc))
    listed = set(kustomization["resources"])
    present = {os.path.basename(p) for p in glob.glob(os.path.join(HERE, "*.yaml"))}
    unlisted = present - listed - {"kustomization.yaml"}
    problems = [f"kustomization.yaml does not list {n}" for n in sorted(unlisted)]
    return docs, problems


def schema_problems(docs):
    problems = []
    for file, doc in docs:
        key = (doc.get("apiVersion"), doc.get("kind"))
        where = f"{file}: {key[1]} {doc.get('metadata', {}).get('name')}"
        if key not in SCHEMA_OF:
            problems.append(f"{where}: no schema kept for {key} (add it to schemas/extract.py)")
            continue
        with open(os.path.join(HERE, "schemas", SCHEMA_OF[key])) as f:
            schema = json.load(f)
        validator = jsonschema.Draft202012Validator(schema)
        for error in sorted(validator.iter_errors(doc), key=lambda e: list(e.path)):
            path = "/".join(str(p) for p in error.path)
            problems.append(f"{where}: {path}: {error.message[:200]}")
    return problems


def documented_variables():
    with open(os.path.join(ROOT, "docs", "configuration.md")) as f:
        return set(re.findall(r"^\| `([A-Z0-9_]+)` \|", f.read(), re.M))


def pod_specs(docs):
    for file, doc in docs:
        if doc["kind"] in ("StatefulSet", "Deployment"):
            yield file, doc, doc["spec"]["template"]


def reference_problems(docs):
    problems = []
    by_kind = {}
    for _, doc in docs:
        by_kind.setdefault(doc["kind"], {})[doc["metadata"]["name"]] = doc
    config_maps, secrets = by_kind.get("ConfigMap", {}), by_kind.get("Secret", {})
    known = documented_variables()
    for cm in config_maps.values():
        for key in cm.get("data", {}):
            if key not in known:
                problems.append(f"ConfigMap {cm['metadata']['name']}: {key} is no variable of docs/configuration.md's table")
    workloads = {}
    for file, doc, template in pod_specs(docs):
        name = doc["metadata"]["name"]
        workloads[name] = doc
        labels = template["metadata"].get("labels", {})
        if doc["spec"]["selector"]["matchLabels"].items() - labels.items():
            problems.append(f"{name}: selector does not match its pod labels")
        for c in template["spec"]["containers"]:
            where = f"{name}/{c['name']}"
            for source in c.get("envFrom", []):
                ref = source.get("configMapRef") or source.get("secretRef")
                pool = config_maps if "configMapRef" in source else secrets
                if ref["name"] not in pool:
                    problems.append(f"{where}: envFrom names missing {ref['name']}")
            env = {}
            for var in c.get("env", []):
                env[var["name"]] = var
                if var["name"] not in known:
                    problems.append(f"{where}: env {var['name']} is no variable of docs/configuration.md's table")
                ref = var.get("valueFrom", {})
                for kind, pool in (("secretKeyRef", secrets), ("configMapKeyRef", config_maps)):
                    if kind not in ref:
                        continue
                    target = pool.get(ref[kind]["name"])
                    data = {} if target is None else {**target.get("data", {}), **target.get("stringData", {})}
                    if ref[kind]["key"] not in data and not ref[kind].get("optional", False):
                        problems.append(f"{where}: {var['name']} needs key {ref[kind]['key']} of {ref[kind]['name']}")
            if c.get("readinessProbe", {}).get("httpGet", {}).get("path") != "/readyz":
                problems.append(f"{where}: readiness probe is not GET /readyz")
            if c.get("livenessProbe", {}).get("httpGet", {}).get("path") != "/healthz":
                problems.append(f"{where}: liveness probe is not GET /healthz")
            if not c.get("resources", {}).get("requests"):
                problems.append(f"{where}: no resource requests")
            stop = c.get("lifecycle", {}).get("preStop", {}).get("exec", {}).get("command", [])
            pre_stop_s = int(stop[-1]) if stop and stop[0].endswith("sleep") else 0
            grace = template["spec"].get("terminationGracePeriodSeconds", 30)
            if doc["kind"] == "StatefulSet":
                field = env.get("INSTANCE_ID", {}).get("valueFrom", {}).get("fieldRef", {})
                if field.get("fieldPath") != "metadata.name":
                    problems.append(f"{where}: INSTANCE_ID must come from the pod name (static membership)")
                deadline_ms = int(next(iter(config_maps.values()), {}).get("data", {}).get("REQUEST_DEADLINE_MS", "5000"))
                need = pre_stop_s + deadline_ms // 1000 + IN_FLIGHT_DRAIN_S
                if grace < need:
                    problems.append(f"{where}: terminationGracePeriodSeconds {grace} < preStop + drain ({need})")
    for kind in ("Service", "PodDisruptionBudget"):
        for name, obj in by_kind.get(kind, {}).items():
            selector = obj["spec"]["selector"]
            selector = selector.get("matchLabels", selector) if kind == "PodDisruptionBudget" else selector
            if not any(selector.items() <= w["spec"]["template"]["metadata"]["labels"].items()
                       for w in workloads.values()):
                problems.append(f"{kind} {name}: selector matches no pod template")
    for name, hpa in by_kind.get("HorizontalPodAutoscaler", {}).items():
        target = hpa["spec"]["scaleTargetRef"]
        if workloads.get(target["name"], {}).get("kind") != target["kind"]:
            problems.append(f"HorizontalPodAutoscaler {name}: target {target['kind']} {target['name']} missing")
    return problems


def check(docs):
    return schema_problems(docs) + reference_problems(docs)


def negative_control(docs):
    """Each breakage must be found; returns the ones that were not."""
    def mutate(kind, change):
        broken = copy.deepcopy(docs)
        for _, doc in broken:
            if doc["kind"] == kind:
                change(doc)
                break
        return broken

    def container(doc):
        return doc["spec"]["template"]["spec"]["containers"][0]

    cases = {
        "a misspelt field": mutate("StatefulSet", lambda d: container(d).update(
            {"readinessProbes": container(d).pop("readinessProbe")})),
        "a wrong type": mutate("Deployment", lambda d: d["spec"].update({"replicas": "two"})),
        "a missing secret key": mutate("Secret", lambda d: d["stringData"].pop("ADMIN_TOKEN")),
        "an unknown variable": mutate("ConfigMap", lambda d: d["data"].update({"KAFKA_BROKER": "x"})),
        "a selector that matches nothing": mutate("Service", lambda d: d["spec"]["selector"].update(
            {"app.kubernetes.io/name": "nobody"})),
        "a grace period shorter than the drain": mutate("StatefulSet", lambda d: d["spec"]["template"][
            "spec"].update({"terminationGracePeriodSeconds": 5})),
    }
    return [name for name, broken in cases.items() if not check(broken)]


def main():
    docs, problems = load_documents()
    problems += check(docs)
    for p in problems:
        print("deploy/k8s:", p, file=sys.stderr)
    if problems:
        return 1
    kinds = sorted({d["kind"] for _, d in docs})
    print(f"deploy/k8s: {len(docs)} objects valid ({', '.join(kinds)}), references consistent")
    if "--self-check" in sys.argv:
        missed = negative_control(docs)
        if missed:
            print("deploy/k8s: negative control FAILED, not detected: " + ", ".join(missed), file=sys.stderr)
            return 1
        print("deploy/k8s: negative control: 6 broken copies, each refused")
    return 0


if __name__ == "__main__":
    sys.exit(main())
