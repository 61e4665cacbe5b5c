"""Validates what ships for deployment, as far as this machine can without a container engine:

- deploy/kubernetes/*.yaml against the Kubernetes OpenAPI schemas (kubernetes-validate, strict:
  unknown fields are errors), and the Deployment's promises (probes on /health/live and
  /health/ready, preStop, a grace period longer than preStop + drain + 5 s, non-root);
- deploy/compose.yaml against the Compose Specification's JSON schema (the file from the
  docker-compose 1.29.2 wheel, path in argv[2]), every depends_on naming a service and every
  bind mount's source existing;
- the Dockerfile: a build stage and a runtime stage, a numeric non-root USER, a HEALTHCHECK on
  /health/live, every COPY source present in the repository, the entrypoint executable;
- every environment variable set in those files is one the README documents.

Usage: validate_deploy.py REPO_ROOT COMPOSE_SCHEMA. Prints each problem; exits 1 if any.
"""
import json
import os
import re
import stat
import sys

import jsonschema
import yaml
from kubernetes_validate import validate as k8s_validate
from kubernetes_validate.utils import latest_version

root, compose_schema = sys.argv[1], sys.argv[2]
problems = []
deploy = os.path.join(root, "deploy")

readme = open(os.path.join(root, "README.md"), encoding="utf-8").read()
documented = set(re.findall(r"^\| `([A-Z][A-Z0-9_]+)`", readme, re.M))
documented |= set(re.findall(r"`([A-Z][A-Z0-9_]{3,})`", readme))


def check_variable(name, where):
    base = name[:-5] if name.endswith("_FILE") else name
    if base not in documented:
        problems.append(f"{where}: {name} is not a variable the README documents")


# Kubernetes
k8s_dir = os.path.join(deploy, "kubernetes")
kinds = {}
for name in sorted(os.listdir(k8s_dir)):
    if not name.endswith(".yaml"):
        continue
    path = os.path.join(k8s_dir, name)
    for document in yaml.safe_load_all(open(path, encoding="utf-8")):
        if document is None:
            continue
        try:
            k8s_validate(document, latest_version(), strict=True)
        except Exception as error:  # ValidationError, InvalidSchemaError…
            problems.append(f"{name}: {getattr(error, 'message', error)}")
        kinds.setdefault(document["kind"], []).append(document)
for kind in ["Deployment", "Service", "PodDisruptionBudget", "HorizontalPodAutoscaler", "ConfigMap"]:
    if kind not in kinds:
        problems.append(f"deploy/kubernetes has no {kind}")
for deployment in kinds.get("Deployment", []):
    pod = deployment["spec"]["template"]["spec"]
    container = pod["containers"][0]
    if container.get("livenessProbe", {}).get("httpGet", {}).get("path") != "/health/live":
        problems.append("Deployment: the liveness probe is not /health/live")
    if container.get("readinessProbe", {}).get("httpGet", {}).get("path") != "/health/ready":
        problems.append("Deployment: the readiness probe is not /health/ready")
    pre_stop = container.get("lifecycle", {}).get("preStop", {}).get("exec", {}).get("command", [])
    pre_stop_seconds = int(pre_stop[-1]) if pre_stop and pre_stop[0] == "sleep" else 0
    if not pre_stop_seconds:
        problems.append("Deployment: no preStop sleep")
    settings = {}
    for cm in kinds.get("ConfigMap", []):
        settings.update({k: v for k, v in cm.get("data", {}).items() if re.fullmatch(r"[A-Z][A-Z0-9_]+", k)})
    drain = int(settings.get("BRAIN_GATEWAY_SHUTDOWN_DRAIN", "15"))
    grace = pod.get("terminationGracePeriodSeconds", 30)
    if grace <= pre_stop_seconds + drain + 5:
        problems.append(f"Deployment: terminationGracePeriodSeconds {grace} ≤ preStop {pre_stop_seconds} + drain {drain} + 5")
    if not pod.get("securityContext", {}).get("runAsNonRoot"):
        problems.append("Deployment: not runAsNonRoot")
    for variable in container.get("env", []):
        check_variable(variable["name"], "Deployment")
    for variable in settings:
        check_variable(variable, "ConfigMap brain-gateway-settings")

# Compose
compose_path = os.path.join(deploy, "compose.yaml")
compose = yaml.safe_load(open(compose_path, encoding="utf-8"))
schema = json.load(open(compose_schema, encoding="utf-8"))
for error in jsonschema.Draft7Validator(schema).iter_errors(compose):
    problems.append(f"compose.yaml: {'/'.join(map(str, error.path))}: {error.message}")
services = compose.get("services", {})
for name, service in services.items():
    for needed in service.get("depends_on", {}):
        if needed not in services:
            problems.append(f"compose.yaml: {name} depends on unknown service {needed}")
    for volume in service.get("volumes", []):
        source = volume.split(":")[0] if isinstance(volume, str) else volume.get("source", "")
        if source.startswith("."):
            if not os.path.exists(os.path.normpath(os.path.join(deploy, source))):
                problems.append(f"compose.yaml: {name} mounts {source}, which does not exist")
build = services.get("gateway", {}).get("build", {})
if not os.path.exists(os.path.join(deploy, build.get("context", "."), build.get("dockerfile", "Dockerfile"))):
    problems.append("compose.yaml: the gateway's Dockerfile is not where build says")
for variable in services.get("gateway", {}).get("environment", {}):
    check_variable(variable, "compose.yaml gateway")

# Dockerfile
dockerfile = open(os.path.join(root, "Dockerfile"), encoding="utf-8").read()
instructions = [line.strip() for line in re.sub(r"\\\n", " ", dockerfile).splitlines() if line.strip() and not line.strip().startswith("#")]
stages = [i for i in instructions if i.upper().startswith("FROM ")]
if len(stages) < 2:
    problems.append("Dockerfile: not multi-stage")
users = [i.split(None, 1)[1] for i in instructions if i.upper().startswith("USER ")]
if not users or not re.fullmatch(r"[1-9][0-9]*(:[1-9][0-9]*)?", users[-1]):
    problems.append("Dockerfile: the last USER is not a numeric non-root user")
if not any(i.upper().startswith("HEALTHCHECK ") and "/health/live" in i for i in instructions):
    problems.append("Dockerfile: no HEALTHCHECK on /health/live")
for instruction in instructions:
    if instruction.upper().startswith("COPY ") and "--from=" not in instruction:
        for source in instruction.split()[1:-1]:
            if not os.path.exists(os.path.join(root, source)):
                problems.append(f"Dockerfile: COPY {source}: no such file in the repository")
for variable in re.findall(r"^ENV\s+(.*)$", re.sub(r"\\\n", " ", dockerfile), re.M):
    for name in re.findall(r"([A-Z][A-Z0-9_]+)=", variable):
        check_variable(name, "Dockerfile ENV")
entrypoint = os.path.join(deploy, "docker-entrypoint.sh")
if not os.stat(entrypoint).st_mode & stat.S_IXUSR:
    problems.append("deploy/docker-entrypoint.sh is not executable")

for problem in problems:
    print(problem)
sys.exit(1 if problems else 0)
