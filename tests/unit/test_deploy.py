"""The deployment files agree with the code and with each other.

Static checks only (no Docker engine, no cluster): docker-compose.yml, deploy/k8s/*.yaml and
deploy/Dockerfile are parsed and checked against the services that exist (services/*/app.py) and
the contract in design.md (sections 1, 8, 10, 11). Each checker returns a list of problems, and is
also run on broken copies, so these tests can fail.
"""

from __future__ import annotations

import copy
import fnmatch
import json
import re
import shlex
import tomllib
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Any

import pytest
import yaml

ROOT = Path(__file__).resolve().parents[2]
COMPOSE_FILE = ROOT / "docker-compose.yml"
DOCKERFILE = ROOT / "deploy" / "Dockerfile"
DOCKERIGNORE = ROOT / ".dockerignore"
K8S_DIR = ROOT / "deploy" / "k8s"
SECRET_TEMPLATE = K8S_DIR / "secret.template.yaml"

EXPECTED_SERVICES = frozenset({"listing", "order", "fulfillment", "aftersales", "metrics"})
REQUIRED_ENV = ("KAFKA_BOOTSTRAP_SERVERS", "DATABASE_URL", "AUTH_SECRET", "SERVICE_PORT")
SECRET_ENV = ("AUTH_SECRET", "DATABASE_URL")

Doc = dict[str, Any]


# -- shared helpers ---------------------------------------------------------------------------------


def existing_services(root: Path = ROOT) -> set[str]:
    """The services that exist: directories services/<name>/ with an app.py."""
    return {app.parent.name for app in (root / "services").glob("*/app.py")}


def as_argv(value: str | Iterable[Any] | None) -> list[str] | None:
    if value is None:
        return None
    if isinstance(value, str):
        return shlex.split(value)
    return [str(part) for part in value]


def run_target(argv: list[str]) -> str | None:
    """X for `sellerflow run X`, else None."""
    if len(argv) >= 3 and Path(argv[0]).name == "sellerflow" and argv[1] == "run":
        return argv[2]
    return None


def is_topics_create(argv: list[str]) -> bool:
    return len(argv) >= 3 and Path(argv[0]).name == "sellerflow" and argv[1:3] == ["topics", "create"]


def is_clock(argv: list[str]) -> bool:
    return len(argv) >= 2 and Path(argv[0]).name == "sellerflow" and argv[1] == "clock"


_INTERPOLATION = re.compile(r"\$\{([A-Za-z_][A-Za-z0-9_]*)(?::?-([^}]*))?\}")


def with_defaults(value: Any) -> str:
    """A compose value with every ${VAR:-default} replaced by its default (or '' without one)."""
    return _INTERPOLATION.sub(lambda match: match.group(2) or "", str(value))


# -- Dockerfile -------------------------------------------------------------------------------------


def dockerfile_instructions(text: str) -> list[tuple[str, str]]:
    """(INSTRUCTION, arguments) pairs, continuation lines joined and comments dropped."""
    instructions: list[tuple[str, str]] = []
    pending = ""
    for raw in text.splitlines():
        line = raw.strip()
        if not pending and (not line or line.startswith("#")):
            continue
        if pending and line.startswith("#"):
            continue
        if line.endswith("\\"):
            pending += line[:-1] + " "
            continue
        line = pending + line
        pending = ""
        keyword, _, rest = line.partition(" ")
        instructions.append((keyword.upper(), rest.strip()))
    return instructions


def dockerfile_final_stage(text: str) -> list[tuple[str, str]]:
    instructions = dockerfile_instructions(text)
    starts = [i for i, (keyword, _) in enumerate(instructions) if keyword == "FROM"]
    return instructions[starts[-1] :] if starts else instructions


def dockerfile_exec_form(arguments: str) -> list[str] | None:
    try:
        value = json.loads(arguments)
    except json.JSONDecodeError:
        return None
    return [str(part) for part in value] if isinstance(value, list) else None


def dockerfile_entrypoint(text: str) -> list[str]:
    entrypoints = [args for keyword, args in dockerfile_final_stage(text) if keyword == "ENTRYPOINT"]
    if not entrypoints:
        return []
    return dockerfile_exec_form(entrypoints[-1]) or shlex.split(entrypoints[-1])


def dockerfile_user(text: str) -> str:
    """The user the final stage runs as ('root' when it never says)."""
    users = [args for keyword, args in dockerfile_final_stage(text) if keyword == "USER"]
    return users[-1] if users else "root"


def dockerfile_base_images(text: str) -> list[str]:
    instructions = dockerfile_instructions(text)
    args: dict[str, str] = {}
    for keyword, rest in instructions:
        if keyword == "ARG" and "=" in rest:
            name, _, default = rest.partition("=")
            args.setdefault(name.strip(), default.strip().strip('"'))
    stages: set[str] = set()
    images = []
    for keyword, rest in instructions:
        if keyword != "FROM":
            continue
        parts = [part for part in rest.split() if not part.startswith("--")]
        image = re.sub(r"\$\{?([A-Za-z_][A-Za-z0-9_]*)\}?", lambda m: args.get(m.group(1), ""), parts[0])
        if len(parts) >= 3 and parts[1].upper() == "AS":
            stages.add(parts[2])
        if image not in stages:
            images.append(image)
    return images


def dockerfile_copy_sources(text: str) -> list[str]:
    """Sources of COPY/ADD from the build context (not --from another stage)."""
    sources: list[str] = []
    for keyword, rest in dockerfile_instructions(text):
        if keyword not in ("COPY", "ADD"):
            continue
        parts = dockerfile_exec_form(rest) or shlex.split(rest)
        if any(part.startswith("--from") for part in parts):
            continue
        paths = [part for part in parts if not part.startswith("--")]
        sources += paths[:-1]
    return sources


def dockerfile_problems(text: str) -> list[str]:
    problems = []
    entrypoint = dockerfile_entrypoint(text)
    if entrypoint != ["sellerflow"]:
        problems.append(f"Dockerfile ENTRYPOINT is {entrypoint}, expected ['sellerflow']")
    raw = [args for keyword, args in dockerfile_final_stage(text) if keyword == "ENTRYPOINT"]
    if raw and dockerfile_exec_form(raw[-1]) is None:
        problems.append("Dockerfile ENTRYPOINT is not in exec form (the shell form ignores CMD and signals)")
    user = dockerfile_user(text)
    uid = user.split(":")[0]
    if uid in ("root", "0"):
        problems.append(f"Dockerfile runs as root (USER {user})")
    elif not uid.isdigit():
        problems.append(f"Dockerfile USER {user} is not numeric: Kubernetes cannot verify runAsNonRoot")
    for image in dockerfile_base_images(text):
        if not image.startswith("python:3.11"):
            problems.append(f"Dockerfile base image {image!r} is not python:3.11")
    if not any(k == "ENV" and "PYTHONUNBUFFERED" in rest for k, rest in dockerfile_final_stage(text)):
        problems.append("Dockerfile does not set PYTHONUNBUFFERED in the final stage")
    return problems


def dockerfile_uid(text: str) -> int | None:
    uid = dockerfile_user(text).split(":")[0]
    return int(uid) if uid.isdigit() else None


def dockerignore_patterns(text: str) -> list[str]:
    lines = (line.strip() for line in text.splitlines())
    return [line.rstrip("/") for line in lines if line and not line.startswith("#")]


def is_dockerignored(path: str, patterns: list[str]) -> bool:
    ignored = False
    for pattern in patterns:
        negate = pattern.startswith("!")
        pattern = pattern.removeprefix("!").removeprefix("**/")
        parts = Path(path).parts
        prefixes = ["/".join(parts[: i + 1]) for i in range(len(parts))]
        if any(fnmatch.fnmatch(prefix, pattern) for prefix in prefixes) or fnmatch.fnmatch(
            parts[-1], pattern
        ):
            ignored = not negate
    return ignored


# -- docker-compose ---------------------------------------------------------------------------------


def compose_services(doc: Doc) -> dict[str, Doc]:
    services = doc.get("services") or {}
    return {name: service or {} for name, service in services.items()}


def compose_is_sellerflow(service: Doc) -> bool:
    build = service.get("build")
    dockerfile = build.get("dockerfile", "") if isinstance(build, dict) else ""
    return str(dockerfile).endswith("deploy/Dockerfile") or "sellerflow" in str(service.get("image", ""))


def compose_argv(service: Doc, image_entrypoint: list[str], image_cmd: list[str] | None = None) -> list[str]:
    """The argv a compose service's container runs."""
    entrypoint = as_argv(service.get("entrypoint"))
    command = as_argv(service.get("command"))
    if entrypoint is None:
        entrypoint = image_entrypoint
        if command is None:
            command = image_cmd or []
    return entrypoint + (command or [])


def compose_env(service: Doc) -> dict[str, str | None]:
    environment = service.get("environment") or {}
    if isinstance(environment, list):
        pairs = (item.partition("=") for item in environment)
        return {key: (value if sep else None) for key, sep, value in pairs}
    return {key: (None if value is None else str(value)) for key, value in environment.items()}


def compose_ports(service: Doc) -> list[tuple[int | None, int]]:
    """(published, target) pairs; published is None when the port is not published on the host."""
    pairs: list[tuple[int | None, int]] = []
    for port in service.get("ports") or []:
        if isinstance(port, dict):
            published = port.get("published")
            pairs.append(
                (
                    int(with_defaults(published)) if published is not None else None,
                    int(with_defaults(port["target"])),
                )
            )
            continue
        fields = with_defaults(port).split("/")[0].split(":")
        if len(fields) == 1:
            pairs.append((None, int(fields[0])))
        else:
            pairs.append((int(fields[-2]), int(fields[-1])))
    return pairs


def compose_depends(service: Doc) -> dict[str, str]:
    depends = service.get("depends_on") or {}
    if isinstance(depends, list):
        return dict.fromkeys(depends, "service_started")
    return {name: (spec or {}).get("condition", "service_started") for name, spec in depends.items()}


def compose_healthcheck_command(service: Doc) -> str:
    healthcheck = service.get("healthcheck") or {}
    if healthcheck.get("disable"):
        return ""
    test = healthcheck.get("test", "")
    return " ".join(test) if isinstance(test, list) else str(test)


def compose_roles(doc: Doc, image_entrypoint: list[str]) -> dict[str, list[str]]:
    """Which compose services are kafka, postgres, the topics job and the `sellerflow run` services."""
    roles: dict[str, list[str]] = {"kafka": [], "postgres": [], "topics": [], "run": [], "clock": []}
    for name, service in compose_services(doc).items():
        image = str(service.get("image", ""))
        if image.startswith(("apache/kafka", "bitnami/kafka", "confluentinc/cp-kafka")):
            roles["kafka"].append(name)
        elif image.startswith("postgres"):
            roles["postgres"].append(name)
        elif compose_is_sellerflow(service):
            argv = compose_argv(service, image_entrypoint)
            if is_topics_create(argv):
                roles["topics"].append(name)
            elif run_target(argv) is not None:
                roles["run"].append(name)
            elif is_clock(argv):
                roles["clock"].append(name)
    return roles


def compose_run_targets(doc: Doc, image_entrypoint: list[str]) -> dict[str, str]:
    """compose service name -> X of `sellerflow run X`."""
    targets = {}
    for name, service in compose_services(doc).items():
        if compose_is_sellerflow(service):
            target = run_target(compose_argv(service, image_entrypoint))
            if target is not None:
                targets[name] = target
    return targets


def compose_existence_problems(doc: Doc, valid: set[str], image_entrypoint: list[str]) -> list[str]:
    return [
        f"compose service {name!r} runs `sellerflow run {target}` but services/{target}/app.py does not exist"
        for name, target in compose_run_targets(doc, image_entrypoint).items()
        if target not in valid
    ]


def compose_set_problems(doc: Doc, image_entrypoint: list[str]) -> list[str]:
    targets = sorted(compose_run_targets(doc, image_entrypoint).values())
    problems = []
    if sorted(set(targets)) != sorted(EXPECTED_SERVICES):
        problems.append(f"compose runs {targets}, expected exactly {sorted(EXPECTED_SERVICES)}")
    elif len(targets) != len(set(targets)):
        problems.append(f"compose runs a service twice: {targets}")
    return problems


def compose_env_problems(doc: Doc, image_entrypoint: list[str]) -> list[str]:
    problems = []
    for name in compose_run_targets(doc, image_entrypoint):
        env = compose_env(compose_services(doc)[name])
        problems += [
            f"compose service {name!r} does not set {key}" for key in REQUIRED_ENV if not env.get(key)
        ]
    return problems


def compose_port_problems(doc: Doc, image_entrypoint: list[str]) -> list[str]:
    problems = []
    for name in compose_run_targets(doc, image_entrypoint):
        service = compose_services(doc)[name]
        raw_port = compose_env(service).get("SERVICE_PORT")
        if not raw_port:
            continue  # reported by compose_env_problems
        port = int(with_defaults(raw_port))
        published = [host for host, target in compose_ports(service) if target == port]
        if not published:
            problems.append(f"compose service {name!r} does not publish its SERVICE_PORT {port}")
        elif any(host != port for host in published):
            problems.append(
                f"compose service {name!r} publishes SERVICE_PORT {port} as {published}, not {port}"
            )
    return problems


def compose_dependency_problems(doc: Doc, image_entrypoint: list[str]) -> list[str]:
    roles = compose_roles(doc, image_entrypoint)
    problems = []
    for role in ("kafka", "postgres", "topics"):
        if len(roles[role]) != 1:
            problems.append(f"compose has {len(roles[role])} {role} services, expected one")
    if problems:
        return problems
    wanted = {
        roles["kafka"][0]: "service_healthy",
        roles["postgres"][0]: "service_healthy",
        roles["topics"][0]: "service_completed_successfully",
    }
    for name in roles["run"] + roles["clock"]:
        depends = compose_depends(compose_services(doc)[name])
        for dependency, condition in wanted.items():
            if depends.get(dependency) != condition:
                problems.append(
                    f"compose service {name!r} depends on {dependency!r} with "
                    f"{depends.get(dependency)}, expected {condition}"
                )
    for name in roles["kafka"] + roles["postgres"]:
        if not compose_healthcheck_command(compose_services(doc)[name]):
            problems.append(
                f"compose service {name!r} has no healthcheck, but others wait for it to be healthy"
            )
    topics_depends = compose_depends(compose_services(doc)[roles["topics"][0]])
    if topics_depends.get(roles["kafka"][0]) != "service_healthy":
        problems.append("the compose topics job does not wait for Kafka to be healthy")
    if str(compose_services(doc)[roles["topics"][0]].get("restart", "no")) not in ("no", "on-failure"):
        problems.append("the compose topics job restarts after it completes")
    return problems


def compose_healthcheck_problems(doc: Doc, image_entrypoint: list[str]) -> list[str]:
    return [
        f"compose service {name!r} has no healthcheck on /readyz"
        for name in compose_run_targets(doc, image_entrypoint)
        if "/readyz" not in compose_healthcheck_command(compose_services(doc)[name])
    ]


def compose_topics_problems(doc: Doc, image_entrypoint: list[str]) -> list[str]:
    topics = compose_roles(doc, image_entrypoint)["topics"]
    return [] if topics else ["no compose service runs `sellerflow topics create`"]


def compose_kafka_problems(doc: Doc, image_entrypoint: list[str]) -> list[str]:
    problems = []
    kafka = compose_roles(doc, image_entrypoint)["kafka"]
    if not kafka:
        return ["compose has no Kafka service"]
    for name in kafka:
        env = compose_env(compose_services(doc)[name])
        roles = env.get("KAFKA_PROCESS_ROLES") or env.get("KAFKA_CFG_PROCESS_ROLES") or ""
        if {"broker", "controller"} - {role.strip() for role in roles.split(",")}:
            problems.append(
                f"compose Kafka {name!r} is not a KRaft broker+controller (KAFKA_PROCESS_ROLES={roles!r})"
            )
        if any("ZOOKEEPER" in key for key in env):
            problems.append(f"compose Kafka {name!r} is configured for ZooKeeper")
    for name, service in compose_services(doc).items():
        if "zookeeper" in name.lower() or "zookeeper" in str(service.get("image", "")).lower():
            problems.append(f"compose runs ZooKeeper ({name!r})")
    return problems


def compose_problems(doc: Doc, valid: set[str], image_entrypoint: list[str]) -> list[str]:
    checks: list[Callable[[Doc, list[str]], list[str]]] = [
        compose_set_problems,
        compose_env_problems,
        compose_port_problems,
        compose_dependency_problems,
        compose_healthcheck_problems,
        compose_topics_problems,
        compose_kafka_problems,
    ]
    problems = compose_existence_problems(doc, valid, image_entrypoint)
    for check in checks:
        problems += check(doc, image_entrypoint)
    return problems


# -- Kubernetes -------------------------------------------------------------------------------------


def k8s_resource_files() -> list[Path]:
    kustomization = yaml.safe_load((K8S_DIR / "kustomization.yaml").read_text())
    return [K8S_DIR / name for name in kustomization["resources"]]


def load_k8s(paths: Iterable[Path]) -> list[Doc]:
    docs = []
    for path in paths:
        docs += [doc for doc in yaml.safe_load_all(path.read_text()) if doc]
    return docs


def k8s_pod_spec(doc: Doc) -> Doc:
    spec: Doc = doc["spec"]["template"]["spec"]
    return spec


def k8s_container_argv(container: Doc, image_entrypoint: list[str]) -> list[str]:
    command = as_argv(container.get("command"))
    args = as_argv(container.get("args")) or []
    return (command if command is not None else image_entrypoint) + args


def k8s_env_keys(container: Doc, docs: list[Doc]) -> set[str]:
    """Every env var name a container gets, literally or through envFrom of a defined object."""
    by_name = {(doc["kind"], doc["metadata"]["name"]): doc for doc in docs if doc.get("kind")}
    keys = {item["name"] for item in container.get("env") or []}
    for source in container.get("envFrom") or []:
        for field, kind in (("configMapRef", "ConfigMap"), ("secretRef", "Secret")):
            if field in source:
                obj = by_name.get((kind, source[field]["name"]), {})
                keys |= set(obj.get("data") or {}) | set(obj.get("stringData") or {})
    return keys


def k8s_env_source(container: Doc, key: str, docs: list[Doc]) -> str | None:
    """'env', 'ConfigMap' or 'Secret': where a container's variable comes from."""
    if any(item["name"] == key for item in container.get("env") or []):
        return "env"
    by_name = {(doc["kind"], doc["metadata"]["name"]): doc for doc in docs if doc.get("kind")}
    for source in container.get("envFrom") or []:
        for field, kind in (("configMapRef", "ConfigMap"), ("secretRef", "Secret")):
            if field in source:
                obj = by_name.get((kind, source[field]["name"]), {})
                if key in (obj.get("data") or {}) or key in (obj.get("stringData") or {}):
                    return kind
    return None


def k8s_literal_env(container: Doc, key: str) -> str | None:
    for item in container.get("env") or []:
        if item["name"] == key and "value" in item:
            return str(item["value"])
    return None


def k8s_resolve_port(container: Doc, port: Any) -> int | None:
    if isinstance(port, int):
        return port
    for item in container.get("ports") or []:
        if item.get("name") == port:
            return int(item["containerPort"])
    return int(port) if str(port).isdigit() else None


def k8s_run_deployments(docs: list[Doc], image_entrypoint: list[str]) -> dict[str, str]:
    """Deployment name -> X of `sellerflow run X`."""
    targets = {}
    for doc in docs:
        if doc.get("kind") == "Deployment":
            container = k8s_pod_spec(doc)["containers"][0]
            target = run_target(k8s_container_argv(container, image_entrypoint))
            if target is not None:
                targets[doc["metadata"]["name"]] = target
    return targets


def k8s_security_problems(kind_name: str, pod: Doc) -> list[str]:
    problems = []
    pod_context = pod.get("securityContext") or {}
    for container in pod["containers"]:
        context = container.get("securityContext") or {}
        if not (context.get("runAsNonRoot") or pod_context.get("runAsNonRoot")):
            problems.append(f"{kind_name} container {container['name']!r} may run as root (runAsNonRoot)")
        if context.get("runAsUser", pod_context.get("runAsUser")) == 0:
            problems.append(f"{kind_name} container {container['name']!r} runs as uid 0")
        if context.get("readOnlyRootFilesystem") is not True:
            problems.append(f"{kind_name} container {container['name']!r} has a writable root filesystem")
        if context.get("allowPrivilegeEscalation") is not False:
            problems.append(f"{kind_name} container {container['name']!r} allows privilege escalation")
        resources = container.get("resources") or {}
        for bound in ("requests", "limits"):
            missing = {"cpu", "memory"} - set(resources.get(bound) or {})
            if missing:
                problems.append(
                    f"{kind_name} container {container['name']!r} has no {bound} for {sorted(missing)}"
                )
    return problems


def k8s_deployment_problems(
    doc: Doc, docs: list[Doc], valid: set[str], image_entrypoint: list[str]
) -> list[str]:
    name = doc["metadata"]["name"]
    what = f"Deployment {name!r}"
    pod = k8s_pod_spec(doc)
    container = pod["containers"][0]
    target = run_target(k8s_container_argv(container, image_entrypoint))
    problems = k8s_security_problems(what, pod)
    if target is None:
        return problems
    if target not in valid:
        problems.append(f"{what} runs `sellerflow run {target}` but services/{target}/app.py does not exist")
    if int(doc["spec"].get("replicas", 1)) < 2:
        problems.append(f"{what} runs fewer than 2 replicas")
    keys = k8s_env_keys(container, docs)
    problems += [f"{what} does not set {key}" for key in REQUIRED_ENV if key not in keys]
    if (
        "KAFKA_BOOTSTRAP_SERVERS" in keys
        and k8s_env_source(container, "KAFKA_BOOTSTRAP_SERVERS", docs) != "ConfigMap"
    ):
        problems.append(f"{what} does not take KAFKA_BOOTSTRAP_SERVERS from the ConfigMap")
    for key in SECRET_ENV:
        if key in keys and k8s_env_source(container, key, docs) != "Secret":
            problems.append(f"{what} does not take {key} from the Secret")
    raw_port = k8s_literal_env(container, "SERVICE_PORT")
    if raw_port is None:
        problems.append(f"{what} does not set SERVICE_PORT literally in its env")
        return problems
    port = int(raw_port)
    if port not in [int(item["containerPort"]) for item in container.get("ports") or []]:
        problems.append(f"{what} does not declare containerPort {port} (its SERVICE_PORT)")
    for probe, path in (("readinessProbe", "/readyz"), ("livenessProbe", "/healthz")):
        http = (container.get(probe) or {}).get("httpGet") or {}
        if http.get("path") != path or k8s_resolve_port(container, http.get("port")) != port:
            problems.append(f"{what} {probe} is not GET {path} on SERVICE_PORT {port}: {http}")
    annotations = doc["spec"]["template"].get("metadata", {}).get("annotations") or {}
    if annotations.get("prometheus.io/scrape") != "true" or annotations.get("prometheus.io/port") != str(
        port
    ):
        problems.append(f"{what} has no Prometheus scrape annotations for port {port}")
    labels = doc["spec"]["template"]["metadata"]["labels"]
    services = [
        svc
        for svc in docs
        if svc.get("kind") == "Service"
        and (svc["spec"].get("selector") or {}).items() <= labels.items()
        and any(
            k8s_resolve_port(container, p.get("targetPort", p["port"])) == port for p in svc["spec"]["ports"]
        )
    ]
    if not services:
        problems.append(f"{what} has no Service that selects its pods on port {port}")
    return problems


def k8s_problems(docs: list[Doc], valid: set[str], image_entrypoint: list[str]) -> list[str]:
    problems = []
    deployments = [doc for doc in docs if doc.get("kind") == "Deployment"]
    for doc in deployments:
        problems += k8s_deployment_problems(doc, docs, valid, image_entrypoint)
        selector = doc["spec"]["selector"]["matchLabels"]
        if not selector.items() <= doc["spec"]["template"]["metadata"]["labels"].items():
            problems.append(f"Deployment {doc['metadata']['name']!r} selector does not match its pod labels")
        for other in deployments:
            if (
                other is not doc
                and selector.items() <= other["spec"]["template"]["metadata"]["labels"].items()
            ):
                name, other_name = doc["metadata"]["name"], other["metadata"]["name"]
                problems.append(f"Deployment {name!r} selector also selects {other_name!r}")
    targets = sorted(k8s_run_deployments(docs, image_entrypoint).values())
    if targets != sorted(EXPECTED_SERVICES):
        problems.append(f"Kubernetes runs {targets}, expected exactly {sorted(EXPECTED_SERVICES)}")

    jobs = [doc for doc in docs if doc.get("kind") == "Job"]
    topic_jobs = [
        job
        for job in jobs
        if is_topics_create(k8s_container_argv(k8s_pod_spec(job)["containers"][0], image_entrypoint))
    ]
    if len(topic_jobs) != 1:
        problems.append(f"{len(topic_jobs)} Jobs run `sellerflow topics create`, expected one")
    for job in topic_jobs:
        container = k8s_pod_spec(job)["containers"][0]
        if "KAFKA_BOOTSTRAP_SERVERS" not in k8s_env_keys(container, docs):
            problems.append(f"Job {job['metadata']['name']!r} does not set KAFKA_BOOTSTRAP_SERVERS")
    for job in jobs:
        problems += k8s_security_problems(f"Job {job['metadata']['name']!r}", k8s_pod_spec(job))

    clocks = [
        doc
        for doc in deployments
        if is_clock(k8s_container_argv(k8s_pod_spec(doc)["containers"][0], image_entrypoint))
    ]
    if len(clocks) != 1:
        problems.append(f"{len(clocks)} Deployments run `sellerflow clock`, expected exactly one")
    for clock in clocks:
        if clock["spec"].get("replicas", 1) != 1:
            problems.append(
                f"the clock Deployment runs {clock['spec'].get('replicas')} replicas, not exactly 1"
            )
        if (clock["spec"].get("strategy") or {}).get("type") != "Recreate":
            problems.append(
                "the clock Deployment does not use the Recreate strategy (a rollout would run two)"
            )

    namespaces = {doc["metadata"]["name"] for doc in docs if doc.get("kind") == "Namespace"}
    for doc in docs:
        if doc.get("kind") != "Namespace" and doc["metadata"].get("namespace") not in namespaces:
            problems.append(
                f"{doc['kind']} {doc['metadata']['name']!r} is not in a namespace the manifests create"
            )
    return problems


# -- fixtures ---------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def dockerfile_text() -> str:
    return DOCKERFILE.read_text()


@pytest.fixture(scope="module")
def entrypoint(dockerfile_text: str) -> list[str]:
    return dockerfile_entrypoint(dockerfile_text)


@pytest.fixture(scope="module")
def compose_doc() -> Doc:
    doc = yaml.safe_load(COMPOSE_FILE.read_text())
    assert isinstance(doc, dict)
    return doc


@pytest.fixture(scope="module")
def k8s_docs() -> list[Doc]:
    return load_k8s([*k8s_resource_files(), SECRET_TEMPLATE])


# -- docker-compose.yml -----------------------------------------------------------------------------


def test_every_compose_service_runs_an_existing_service(compose_doc, entrypoint):
    targets = compose_run_targets(compose_doc, entrypoint)
    assert targets, "no compose service runs `sellerflow run X`"
    assert compose_existence_problems(compose_doc, existing_services(), entrypoint) == []


def test_compose_runs_exactly_the_five_services(compose_doc, entrypoint):
    assert sorted(compose_run_targets(compose_doc, entrypoint).values()) == sorted(EXPECTED_SERVICES)
    assert compose_set_problems(compose_doc, entrypoint) == []


def test_every_compose_service_has_broker_database_auth_and_port_settings(compose_doc, entrypoint):
    assert compose_env_problems(compose_doc, entrypoint) == []


def test_every_compose_service_publishes_its_service_port_unchanged(compose_doc, entrypoint):
    assert compose_port_problems(compose_doc, entrypoint) == []


def test_every_compose_service_gets_its_own_port(compose_doc, entrypoint):
    services = compose_services(compose_doc)
    ports = [
        compose_env(services[name])["SERVICE_PORT"] for name in compose_run_targets(compose_doc, entrypoint)
    ]
    assert len(ports) == len(set(ports)), ports


def test_every_compose_service_waits_for_healthy_kafka_and_postgres_and_the_topics_job(
    compose_doc, entrypoint
):
    assert compose_dependency_problems(compose_doc, entrypoint) == []


def test_every_compose_service_is_health_checked_on_readyz(compose_doc, entrypoint):
    assert compose_healthcheck_problems(compose_doc, entrypoint) == []


def test_the_compose_topics_job_runs_sellerflow_topics_create(compose_doc, entrypoint):
    assert compose_topics_problems(compose_doc, entrypoint) == []


def test_compose_kafka_runs_in_kraft_mode_without_zookeeper(compose_doc, entrypoint):
    assert compose_kafka_problems(compose_doc, entrypoint) == []


def test_compose_runs_exactly_one_clock(compose_doc, entrypoint):
    assert len(compose_roles(compose_doc, entrypoint)["clock"]) == 1


def test_every_file_compose_mounts_exists(compose_doc):
    for name, service in compose_services(compose_doc).items():
        for volume in service.get("volumes") or []:
            source = volume.get("source", "") if isinstance(volume, dict) else str(volume).split(":")[0]
            if source.startswith((".", "/")):
                assert (ROOT / source).resolve().exists(), f"{name} mounts {source}, which does not exist"


def test_the_compose_file_has_no_problems(compose_doc, entrypoint):
    assert compose_problems(compose_doc, existing_services(), entrypoint) == []


def _drop_env(key: str, service: str = "order") -> Callable[[Doc], None]:
    def mutate(doc: Doc) -> None:
        del doc["services"][service]["environment"][key]

    return mutate


def _set(path: list[str], value: Any) -> Callable[[Doc], None]:
    def mutate(doc: Doc) -> None:
        target = doc
        for key in path[:-1]:
            target = target[key]
        target[path[-1]] = value

    return mutate


def _drop(path: list[str]) -> Callable[[Doc], None]:
    def mutate(doc: Doc) -> None:
        target = doc
        for key in path[:-1]:
            target = target[key]
        del target[path[-1]]

    return mutate


def _zookeeper(doc: Doc) -> None:
    env = doc["services"]["kafka"]["environment"]
    del env["KAFKA_PROCESS_ROLES"]
    env["KAFKA_ZOOKEEPER_CONNECT"] = "zookeeper:2181"
    doc["services"]["zookeeper"] = {"image": "zookeeper:3.9"}


COMPOSE_BREAKAGES: dict[str, tuple[Callable[[Doc], None], str]] = {
    "unknown service": (
        _set(["services", "order", "command"], ["run", "shipping"]),
        "services/shipping/app.py",
    ),
    "a service too few": (_drop(["services", "metrics"]), "expected exactly"),
    "no broker": (_drop_env("KAFKA_BOOTSTRAP_SERVERS"), "does not set KAFKA_BOOTSTRAP_SERVERS"),
    "no database": (_drop_env("DATABASE_URL", "listing"), "does not set DATABASE_URL"),
    "no auth secret": (_drop_env("AUTH_SECRET", "aftersales"), "does not set AUTH_SECRET"),
    "no port": (_drop_env("SERVICE_PORT", "fulfillment"), "does not set SERVICE_PORT"),
    "port mismatch": (_set(["services", "order", "ports"], ["18002:8002"]), "as [18002]"),
    "port not published": (_set(["services", "order", "ports"], ["9999:9999"]), "does not publish"),
    "topics not awaited": (_drop(["services", "order", "depends_on", "topics"]), "depends on 'topics'"),
    "kafka only started": (
        _set(["services", "listing", "depends_on", "kafka"], {"condition": "service_started"}),
        "depends on 'kafka' with service_started",
    ),
    "postgres not awaited": (_set(["services", "metrics", "depends_on"], ["kafka", "topics"]), "'postgres'"),
    "no readyz healthcheck": (_set(["services", "order", "healthcheck"], {"disable": True}), "/readyz"),
    "no topics job": (_set(["services", "topics", "command"], ["topics", "list"]), "topics create"),
    "zookeeper": (_zookeeper, "ZooKeeper"),
    "kafka without healthcheck": (_drop(["services", "kafka", "healthcheck"]), "has no healthcheck"),
}


@pytest.mark.parametrize("breakage", sorted(COMPOSE_BREAKAGES))
def test_compose_problems_finds_a_broken_copy(compose_doc, entrypoint, breakage):
    mutate, expected = COMPOSE_BREAKAGES[breakage]
    broken = copy.deepcopy(compose_doc)
    mutate(broken)
    problems = compose_problems(broken, set(EXPECTED_SERVICES), entrypoint)
    assert any(expected in problem for problem in problems), problems


def test_compose_env_accepts_the_list_form():
    service = {"environment": ["A=1", "B=", "C"]}
    assert compose_env(service) == {"A": "1", "B": "", "C": None}


def test_compose_ports_reads_short_and_long_forms():
    service = {
        "ports": [
            "8001:8001",
            "127.0.0.1:8002:8003/tcp",
            "9000",
            {"target": 80, "published": "8080"},
            "${HOST_PORT:-9094}:9094",
        ]
    }
    assert compose_ports(service) == [(8001, 8001), (8002, 8003), (None, 9000), (8080, 80), (9094, 9094)]


# -- Kubernetes -------------------------------------------------------------------------------------


def test_kustomization_lists_every_manifest_but_the_secret_template():
    listed = {path.name for path in k8s_resource_files()}
    on_disk = {path.name for path in K8S_DIR.glob("*.yaml")} - {"kustomization.yaml", SECRET_TEMPLATE.name}
    assert listed == on_disk
    assert SECRET_TEMPLATE.exists()


def test_every_k8s_deployment_runs_an_existing_service(k8s_docs, entrypoint):
    targets = k8s_run_deployments(k8s_docs, entrypoint)
    assert targets
    missing = {target for target in targets.values() if target not in existing_services()}
    assert missing == set(), f"no services/<name>/app.py for {sorted(missing)}"


def test_k8s_runs_exactly_the_five_services(k8s_docs, entrypoint):
    assert sorted(k8s_run_deployments(k8s_docs, entrypoint).values()) == sorted(EXPECTED_SERVICES)


def test_the_secret_template_holds_the_auth_secret_and_database_url(k8s_docs):
    secrets = [doc for doc in k8s_docs if doc.get("kind") == "Secret"]
    assert len(secrets) == 1
    assert set(SECRET_ENV) <= set(secrets[0].get("stringData") or secrets[0].get("data") or {})


def test_the_k8s_manifests_have_no_problems(k8s_docs, entrypoint):
    assert k8s_problems(k8s_docs, existing_services(), entrypoint) == []


def test_k8s_pods_run_as_the_dockerfile_user(k8s_docs, dockerfile_text):
    uid = dockerfile_uid(dockerfile_text)
    assert uid is not None and uid != 0
    for doc in k8s_docs:
        if doc.get("kind") in ("Deployment", "Job"):
            assert k8s_pod_spec(doc)["securityContext"]["runAsUser"] == uid, doc["metadata"]["name"]


def test_k8s_deployments_and_compose_agree_on_service_ports(k8s_docs, compose_doc, entrypoint):
    compose = {
        target: compose_env(compose_services(compose_doc)[name])["SERVICE_PORT"]
        for name, target in compose_run_targets(compose_doc, entrypoint).items()
    }
    k8s = {
        target: k8s_literal_env(k8s_pod_spec(doc)["containers"][0], "SERVICE_PORT")
        for doc in k8s_docs
        if doc.get("kind") == "Deployment"
        for target in [run_target(k8s_container_argv(k8s_pod_spec(doc)["containers"][0], entrypoint))]
        if target is not None
    }
    assert compose == k8s


def _deployment(docs: list[Doc], name: str) -> Doc:
    found: Doc = next(
        doc for doc in docs if doc.get("kind") == "Deployment" and doc["metadata"]["name"] == name
    )
    return found


def _container(docs: list[Doc], name: str) -> Doc:
    container: Doc = k8s_pod_spec(_deployment(docs, name))["containers"][0]
    return container


def _k8s_unknown_service(docs: list[Doc]) -> None:
    _container(docs, "sellerflow-order")["args"] = ["run", "shipping"]


def _k8s_readiness_on_healthz(docs: list[Doc]) -> None:
    _container(docs, "sellerflow-order")["readinessProbe"]["httpGet"]["path"] = "/healthz"


def _k8s_readiness_on_wrong_port(docs: list[Doc]) -> None:
    _container(docs, "sellerflow-listing")["readinessProbe"]["httpGet"]["port"] = 9999


def _k8s_no_secret(docs: list[Doc]) -> None:
    container = _container(docs, "sellerflow-metrics")
    container["envFrom"] = [source for source in container["envFrom"] if "secretRef" not in source]


def _k8s_no_configmap(docs: list[Doc]) -> None:
    container = _container(docs, "sellerflow-fulfillment")
    container["envFrom"] = [source for source in container["envFrom"] if "configMapRef" not in source]


def _k8s_root(docs: list[Doc]) -> None:
    _container(docs, "sellerflow-aftersales")["securityContext"]["readOnlyRootFilesystem"] = False


def _k8s_one_replica(docs: list[Doc]) -> None:
    _deployment(docs, "sellerflow-order")["spec"]["replicas"] = 1


def _k8s_two_clocks(docs: list[Doc]) -> None:
    _deployment(docs, "sellerflow-clock")["spec"]["replicas"] = 2


def _k8s_rolling_clock(docs: list[Doc]) -> None:
    _deployment(docs, "sellerflow-clock")["spec"]["strategy"] = {"type": "RollingUpdate"}


def _k8s_no_topics_job(docs: list[Doc]) -> None:
    docs[:] = [doc for doc in docs if doc.get("kind") != "Job"]


def _k8s_no_limits(docs: list[Doc]) -> None:
    del _container(docs, "sellerflow-listing")["resources"]["limits"]


def _k8s_no_service(docs: list[Doc]) -> None:
    docs[:] = [
        doc
        for doc in docs
        if not (doc.get("kind") == "Service" and doc["metadata"]["name"] == "sellerflow-order")
    ]


K8S_BREAKAGES: dict[str, tuple[Callable[[list[Doc]], None], str]] = {
    "unknown service": (_k8s_unknown_service, "services/shipping/app.py"),
    "readiness on healthz": (_k8s_readiness_on_healthz, "readinessProbe is not GET /readyz"),
    "readiness on another port": (_k8s_readiness_on_wrong_port, "readinessProbe is not GET /readyz"),
    "no secret": (_k8s_no_secret, "does not set AUTH_SECRET"),
    "no configmap": (_k8s_no_configmap, "does not set KAFKA_BOOTSTRAP_SERVERS"),
    "writable root": (_k8s_root, "writable root filesystem"),
    "one replica": (_k8s_one_replica, "fewer than 2 replicas"),
    "two clocks": (_k8s_two_clocks, "not exactly 1"),
    "rolling clock": (_k8s_rolling_clock, "Recreate"),
    "no topics job": (_k8s_no_topics_job, "topics create"),
    "no limits": (_k8s_no_limits, "no limits"),
    "no service": (_k8s_no_service, "no Service"),
}


@pytest.mark.parametrize("breakage", sorted(K8S_BREAKAGES))
def test_k8s_problems_finds_a_broken_copy(k8s_docs, entrypoint, breakage):
    mutate, expected = K8S_BREAKAGES[breakage]
    broken = copy.deepcopy(k8s_docs)
    mutate(broken)
    problems = k8s_problems(broken, set(EXPECTED_SERVICES), entrypoint)
    assert any(expected in problem for problem in problems), problems


# -- Dockerfile -------------------------------------------------------------------------------------


def test_the_dockerfile_entrypoint_is_sellerflow(dockerfile_text):
    assert dockerfile_entrypoint(dockerfile_text) == ["sellerflow"]


def test_the_dockerfile_does_not_run_as_root(dockerfile_text):
    assert dockerfile_problems(dockerfile_text) == []


def test_the_dockerfile_copies_only_files_that_exist_and_are_not_dockerignored(dockerfile_text):
    patterns = dockerignore_patterns(DOCKERIGNORE.read_text())
    sources = dockerfile_copy_sources(dockerfile_text)
    assert {"pyproject.toml", "sellerflow", "shared", "services"} <= {
        source.rstrip("/") for source in sources
    }
    for source in sources:
        assert (ROOT / source).exists(), f"the Dockerfile copies {source}, which does not exist"
        assert not is_dockerignored(source, patterns), (
            f"the Dockerfile copies {source}, which .dockerignore drops"
        )


def unpackaged_data_files(root: Path, patterns: list[str], suffixes: tuple[str, ...]) -> list[str]:
    """Data files under the packages that setuptools' package-data patterns would leave out of the wheel.

    A pattern is relative to the package directory that holds the file (the nearest folder with an
    __init__.py), and its `*` does not cross a folder.
    """
    missing = []
    for top in ("sellerflow", "shared", "services"):
        for path in sorted((root / top).rglob("*")):
            if path.suffix not in suffixes or "__pycache__" in path.parts:
                continue
            package = path.parent
            while not (package / "__init__.py").exists() and package != root:
                package = package.parent
            relative = path.relative_to(package).parts
            if not any(
                len(parts := pattern.split("/")) == len(relative)
                and all(fnmatch.fnmatch(part, glob) for part, glob in zip(relative, parts, strict=True))
                for pattern in patterns
            ):
                missing.append(str(path.relative_to(root)))
    return missing


def test_every_migration_and_page_is_packaged_into_the_image():
    pyproject = tomllib.loads((ROOT / "pyproject.toml").read_text())
    patterns = pyproject["tool"]["setuptools"]["package-data"]["*"]
    assert unpackaged_data_files(ROOT, patterns, (".sql", ".html")) == []


def test_unpackaged_data_files_finds_a_file_outside_the_patterns(tmp_path):
    for folder in ("services", "services/order", "shared", "sellerflow"):
        (tmp_path / folder).mkdir(exist_ok=True)
        (tmp_path / folder / "__init__.py").touch()
    (tmp_path / "services/order/migrations").mkdir()
    (tmp_path / "services/order/migrations/001_orders.sql").touch()
    (tmp_path / "services/order/sql").mkdir()
    (tmp_path / "services/order/sql/002_more.sql").touch()
    (tmp_path / "services/order/templates").mkdir()
    (tmp_path / "services/order/templates/page.html").touch()
    (tmp_path / "services/order/index.html").touch()
    missing = unpackaged_data_files(tmp_path, ["migrations/*.sql", "*.html"], (".sql", ".html"))
    assert missing == ["services/order/sql/002_more.sql", "services/order/templates/page.html"]


def test_the_dockerignore_keeps_local_state_out_of_the_image():
    patterns = dockerignore_patterns(DOCKERIGNORE.read_text())
    for path in (".venv", ".git", ".sellerflow", "shared/__pycache__", ".pytest_cache", ".env"):
        assert is_dockerignored(path, patterns), path


DOCKERFILE_BREAKAGES = {
    "root": ("USER 10001:10001", "USER root", "runs as root"),
    "uid 0": ("USER 10001:10001", "USER 0", "runs as root"),
    "named user": ("USER 10001:10001", "USER sellerflow", "not numeric"),
    "no user": ("USER 10001:10001", "", "runs as root"),
    "python entrypoint": (
        'ENTRYPOINT ["sellerflow"]',
        'ENTRYPOINT ["python", "-m", "sellerflow"]',
        "ENTRYPOINT",
    ),
    "shell entrypoint": ('ENTRYPOINT ["sellerflow"]', "ENTRYPOINT sellerflow", "exec form"),
    "other python": ("python:3.11.14-slim-bookworm", "python:3.13.9-slim-bookworm", "not python:3.11"),
}


@pytest.mark.parametrize("breakage", sorted(DOCKERFILE_BREAKAGES))
def test_dockerfile_problems_finds_a_broken_copy(dockerfile_text, breakage):
    old, new, expected = DOCKERFILE_BREAKAGES[breakage]
    assert old in dockerfile_text
    problems = dockerfile_problems(dockerfile_text.replace(old, new))
    assert any(expected in problem for problem in problems), problems


def test_a_user_set_only_in_the_builder_stage_does_not_count():
    text = 'FROM python:3.11-slim AS builder\nUSER 10001\nFROM python:3.11-slim\nENTRYPOINT ["sellerflow"]\n'
    assert dockerfile_user(text) == "root"


# -- secrets and the supply chain (design.md section 8, issue 13) ---------------------------------------

_REQUIRED_VAR = re.compile(r"^\$\{AUTH_SECRET:\?[^}]+\}$")


def compose_secret_problems(doc: Doc, image_entrypoint: list[str]) -> list[str]:
    """Every service takes AUTH_SECRET from the caller's environment, required, with no default to fall back on."""
    problems = []
    for name in compose_run_targets(doc, image_entrypoint):
        value = str(compose_env(compose_services(doc)[name]).get("AUTH_SECRET", ""))
        if not _REQUIRED_VAR.match(value):
            problems.append(f"compose service {name!r} does not require AUTH_SECRET (${{AUTH_SECRET:?...}}): {value!r}")
    return problems


def test_compose_requires_an_auth_secret_and_offers_no_default(compose_doc, entrypoint):
    assert compose_secret_problems(compose_doc, entrypoint) == []
    broken = copy.deepcopy(compose_doc)
    broken["x-sellerflow"]["environment"]["AUTH_SECRET"] = "${AUTH_SECRET:-dev-only-auth-secret}"
    for service in compose_services(broken).values():
        if isinstance(service.get("environment"), dict) and "AUTH_SECRET" in service["environment"]:
            service["environment"]["AUTH_SECRET"] = "${AUTH_SECRET:-dev-only-auth-secret}"
    assert compose_secret_problems(broken, entrypoint) != []


def test_the_secret_templates_auth_secret_is_a_placeholder_the_services_refuse(k8s_docs):
    from shared.auth import secret_problem

    [secret] = [doc for doc in k8s_docs if doc.get("kind") == "Secret"]
    assert secret_problem(str(secret["stringData"]["AUTH_SECRET"])) is not None
    assert "openssl rand" in SECRET_TEMPLATE.read_text() and "AUTH_SECRET_PREVIOUS" in SECRET_TEMPLATE.read_text()


_EXACT_IMAGE = re.compile(r"^python:\d+\.\d+\.\d+(-[a-z0-9-]+)?(@sha256:[0-9a-f]{64})?$|@sha256:[0-9a-f]{64}$")


def dockerfile_supply_problems(text: str) -> list[str]:
    """The base image is an exact version (or a digest), and dependencies come from the hashed lock only."""
    problems = []
    default = re.search(r"^ARG PYTHON_IMAGE=(\S+)$", text, re.M)
    if default is None or not _EXACT_IMAGE.search(default[1]):
        problems.append(f"the base image is not pinned: {default[1] if default else 'no ARG PYTHON_IMAGE'}")
    runs = " ".join(body for kind, body in dockerfile_instructions(text) if kind == "RUN")
    if "--require-hashes -r requirements/runtime.txt" not in runs:
        problems.append("dependencies are not installed from requirements/runtime.txt with --require-hashes")
    if re.search(r"pip (install|wheel)(?![^&]*(--require-hashes|--no-deps))", runs):
        problems.append("a pip install resolves dependencies outside the lock")
    return problems


def test_the_dockerfile_pins_its_base_image_and_installs_only_from_the_hashed_lock(dockerfile_text):
    assert dockerfile_supply_problems(dockerfile_text) == []
    assert dockerfile_supply_problems(dockerfile_text.replace("3.11.14-slim-bookworm", "3.11-slim")) != []
    assert dockerfile_supply_problems(dockerfile_text.replace("--no-deps --no-build-isolation .", ".")) != []


@pytest.mark.parametrize("lock", ["runtime.txt", "dev.txt"])
def test_every_locked_requirement_is_pinned_with_a_hash(lock):
    text = (ROOT / "requirements" / lock).read_text()
    requirements = [r for r in re.split(r"(?<!\\)\n(?=\S)", text) if r.strip() and not r.startswith("#")]
    assert requirements, f"requirements/{lock} is empty"
    for requirement in requirements:
        assert re.match(r"^[A-Za-z0-9._-]+==\S+", requirement), requirement.splitlines()[0]
        assert "--hash=sha256:" in requirement, requirement.splitlines()[0]


@pytest.mark.parametrize(("lock", "extras"), [("runtime.txt", []), ("dev.txt", ["dev", "embedded"])])
def test_the_lock_holds_every_dependency_pyproject_declares(lock, extras):
    import importlib.util

    spec = importlib.util.spec_from_file_location("lock_covers", ROOT / "requirements" / "lock_covers.py")
    assert spec is not None and spec.loader is not None
    lock_covers = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(lock_covers)
    assert lock_covers.missing(ROOT / "requirements" / lock, extras) == [], "run `make lock`"
    assert lock_covers.missing(ROOT / "requirements" / "runtime.txt", ["dev"]) != []  # it can fail
