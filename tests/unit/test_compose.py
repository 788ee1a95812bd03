"""Deployment files agree with each other and with the services, without Docker.

Covers docker-compose.yml with the files it includes, the service Dockerfiles and
.dockerignore, .env.example, the collector, Prometheus and Grafana configuration and the
Kubernetes manifests. Each ``check_*`` returns the problems it finds in a repository tree;
the tests assert none in this repository, and ``test_a_broken_copy_is_caught`` breaks one
file of a copy at a time to prove each check fails when its file is wrong.
"""

from __future__ import annotations

import importlib
import json
import re
import shutil
import tomllib
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest
import yaml
from pydantic import BaseModel

pytestmark = pytest.mark.unit

REPO = Path(__file__).resolve().parents[2]

#: Service -> HTTP port (SMM_HTTP__PORT); module smm_<service>, package smm-<service>.
SERVICES = {
    "console": 8000,
    "ingest": 8001,
    "responder": 8002,
    "publisher": 8003,
    "analytics": 8004,
}

#: Variable names that hold secrets (or the path of one).
SECRET_NAME = re.compile(r"PASSWORD|SECRET|TOKEN|PRIVATE|(^|_)KEY($|_)", re.IGNORECASE)

#: Compose interpolation: ${VAR}, ${VAR:-default}, ${VAR-default}, ${VAR:?error}, ${VAR?error}.
INTERPOLATION = re.compile(r"\$\{(?P<name>[A-Za-z_]\w*)(?:(?P<op>:?[-?+])(?P<arg>[^}]*))?\}")
BARE_VARIABLE = re.compile(r"\$(?P<name>[A-Za-z_]\w*)")

#: Settings the services read that no settings class declares yet (see the brief).
EXTRA_DOCUMENTED = {
    "SMM_DATA_DIR",
    "SMM_CONSOLE__SIGNING_KEY_FILE",
    "OTEL_SERVICE_NAME",
    "OTEL_EXPORTER_OTLP_ENDPOINT",
    "OTEL_RESOURCE_ATTRIBUTES",
}

#: Metrics the Grafana starter dashboard must chart (what the services expose on /metrics).
DASHBOARD_METRICS = (
    "smm_consumer_lag",
    "smm_consumer_handler_seconds",
    "smm_http_request_duration_seconds",
    "smm_sla_warnings_total",
    "smm_sla_breaches_total",
)

#: Collector component types we use; anything else is most likely a typo.
KNOWN_COLLECTOR_COMPONENTS = {
    "receivers": {"otlp", "prometheus", "hostmetrics"},
    "processors": {"batch", "memory_limiter", "resource", "resourcedetection", "attributes"},
    "exporters": {"otlp", "otlp_grpc", "otlphttp", "otlp_http", "prometheus", "debug"},
    "extensions": {"health_check", "pprof", "zpages"},
}


# ---------------------------------------------------------------------------------------
# Loading compose files (with `include:`) and reading service definitions
# ---------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Service:
    """One compose service and the directory its relative paths resolve from."""

    name: str
    spec: dict[str, Any]
    base: Path


@dataclass(frozen=True)
class Compose:
    """The compose model as docker compose would assemble it from the root file."""

    files: list[Path]
    services: dict[str, Service]
    secrets: dict[str, Any]


def load_compose(root: Path) -> Compose:
    """Load docker-compose.yml and every file it includes, recursively."""
    files: list[Path] = []
    services: dict[str, Service] = {}
    secrets: dict[str, Any] = {}

    def visit(path: Path) -> None:
        doc = yaml.safe_load(path.read_text()) or {}
        assert "version" not in doc, f"{path}: the compose spec has no `version:` key"
        files.append(path)
        for item in doc.get("include") or []:
            paths = item if isinstance(item, str) else item["path"]
            for included in [paths] if isinstance(paths, str) else paths:
                visit(path.parent / included)
        for name, spec in (doc.get("services") or {}).items():
            assert name not in services, f"service {name} is defined twice"
            services[name] = Service(name, spec or {}, path.parent)
        secrets.update(doc.get("secrets") or {})

    visit(root / "docker-compose.yml")
    return Compose(files, services, secrets)


def environment(service: Service) -> dict[str, str]:
    """The service's environment as a mapping (compose allows a list of KEY=VALUE too)."""
    env = service.spec.get("environment") or {}
    if isinstance(env, list):
        return dict(item.split("=", 1) if "=" in item else (item, "") for item in env)
    return {key: "" if value is None else str(value) for key, value in env.items()}


def tokens(value: str | list[str] | None) -> list[str]:
    """A command or healthcheck as a token list."""
    if value is None:
        return []
    return value.split() if isinstance(value, str) else [str(v) for v in value]


def bind_mounts(service: Service) -> dict[str, Path]:
    """Container path -> host path of the service's bind mounts (named volumes skipped)."""
    mounts: dict[str, Path] = {}
    for volume in service.spec.get("volumes") or []:
        if isinstance(volume, dict):
            if volume.get("type") == "bind":
                mounts[volume["target"]] = service.base / volume["source"]
            continue
        source, target = volume.split(":")[:2]
        if source.startswith((".", "/")):
            mounts[target] = service.base / source
    return mounts


def host_path(service: Service, container_path: str) -> Path | None:
    """The host file or directory bind-mounted at (or above) a container path."""
    for target, source in bind_mounts(service).items():
        if container_path == target or container_path.startswith(target.rstrip("/") + "/"):
            return source / container_path[len(target) :].lstrip("/")
    return None


def healthcheck_text(service: Service) -> str:
    """The healthcheck command plus any mounted script it runs."""
    test = tokens((service.spec.get("healthcheck") or {}).get("test"))
    text = " ".join(test)
    for target, source in bind_mounts(service).items():
        if target in text and source.is_file():
            text += "\n" + source.read_text()
    return text


def by_image(compose: Compose, *prefixes: str) -> list[Service]:
    """Services whose image starts with one of the prefixes."""
    return [
        s for s in compose.services.values() if str(s.spec.get("image", "")).startswith(prefixes)
    ]


def normalise(value: str) -> str:
    """Replace ${VAR...} interpolations by VAR so the value can be parsed as a URL."""
    return INTERPOLATION.sub(lambda m: m["name"], value)


def dollar_free(text: str) -> str:
    """Compose text without `$$` escapes (a literal `$` for the container)."""
    return text.replace("$$", "")


def mongod_services(compose: Compose) -> list[Service]:
    """Services running mongod (the mongo image also runs the one-shot key file job)."""
    return [s for s in by_image(compose, "mongo:") if "mongod" in tokens(s.spec.get("command"))]


def one(services: list[Service], what: str, problems: list[str]) -> Service | None:
    """The single service of a kind, or a problem."""
    if len(services) != 1:
        problems.append(f"expected one {what} service, found {[s.name for s in services]}")
        return None
    return services[0]


# ---------------------------------------------------------------------------------------
# Checks: each returns a list of problems found in the tree under `root`
# ---------------------------------------------------------------------------------------


def check_kafka(root: Path) -> list[str]:
    """Apache Kafka in KRaft mode (combined broker/controller), healthchecked, no ZooKeeper."""
    compose = load_compose(root)
    problems: list[str] = []
    for service in compose.services.values():
        keys = " ".join(environment(service))
        if "zookeeper" in service.name.lower() or "zookeeper" in str(service.spec.get("image", "")):
            problems.append(f"{service.name}: ZooKeeper is not used (KRaft)")
        if "ZOOKEEPER" in keys.upper():
            problems.append(f"{service.name}: ZooKeeper settings in the environment")
    kafka = one(by_image(compose, "apache/kafka:"), "apache/kafka", problems)
    if kafka is None:
        return problems
    env = environment(kafka)
    roles = set(env.get("KAFKA_PROCESS_ROLES", "").split(","))
    if not {"broker", "controller"} <= roles:
        problems.append(f"kafka: KAFKA_PROCESS_ROLES must be broker,controller, got {roles}")
    for key in ("KAFKA_NODE_ID", "KAFKA_CONTROLLER_LISTENER_NAMES", "CLUSTER_ID"):
        if not env.get(key):
            problems.append(f"kafka: {key} is required in KRaft mode")
    if not (
        env.get("KAFKA_CONTROLLER_QUORUM_VOTERS")
        or env.get("KAFKA_CONTROLLER_QUORUM_BOOTSTRAP_SERVERS")
    ):
        problems.append("kafka: no controller quorum (KAFKA_CONTROLLER_QUORUM_VOTERS)")
    if "kafka-broker-api-versions" not in healthcheck_text(
        kafka
    ) and "kafka-topics" not in healthcheck_text(kafka):
        problems.append("kafka: healthcheck must ask the broker (kafka-broker-api-versions.sh)")
    return problems


def replica_set_name(mongo: Service) -> str | None:
    """The --replSet of the mongod command."""
    command = tokens(mongo.spec.get("command"))
    for i, token in enumerate(command):
        if token == "--replSet" and i + 1 < len(command):
            return command[i + 1]
        if token.startswith("--replSet="):
            return token.split("=", 1)[1]
    return None


def check_mongo(root: Path) -> list[str]:
    """MongoDB 8 as a replica set whose healthcheck initiates it idempotently."""
    compose = load_compose(root)
    problems: list[str] = []
    mongo = one(mongod_services(compose), "mongod", problems)
    if mongo is None:
        return problems
    if not str(mongo.spec["image"]).startswith("mongo:8"):
        problems.append(f"mongo: image must be mongo:8, got {mongo.spec['image']}")
    rs = replica_set_name(mongo)
    if rs is None:
        problems.append("mongo: command must run mongod with --replSet")
        return problems
    check = healthcheck_text(mongo)
    if "rs.initiate" not in check or "NotYetInitialized" not in check:
        problems.append("mongo: healthcheck must rs.initiate() once (when NotYetInitialized)")
    if f'"{rs}"' not in check or f"{mongo.name}:27017" not in check:
        problems.append(f"mongo: healthcheck must initiate {rs} with member {mongo.name}:27017")
    return problems


def check_observability_services(root: Path) -> list[str]:
    """Collector, Jaeger, Prometheus and Grafana are part of the stack."""
    compose = load_compose(root)
    problems: list[str] = []
    one(by_image(compose, "otel/opentelemetry-collector-contrib:"), "collector", problems)
    jaeger = one(
        by_image(compose, "jaegertracing/jaeger:", "jaegertracing/all-in-one:"), "jaeger", problems
    )
    if (
        jaeger
        and "all-in-one" in jaeger.spec["image"]
        and environment(jaeger).get("COLLECTOR_OTLP_ENABLED") != "true"
    ):
        problems.append("jaeger: the v1 all-in-one needs COLLECTOR_OTLP_ENABLED=true")
    one(by_image(compose, "prom/prometheus:"), "prometheus", problems)
    one(by_image(compose, "grafana/grafana:"), "grafana", problems)
    return problems


def check_service(root: Path, name: str) -> list[str]:
    """A service builds from its Dockerfile, waits for healthy Kafka and Mongo, is wired to them."""
    compose = load_compose(root)
    problems: list[str] = []
    service = compose.services.get(name)
    if service is None:
        return [f"{name}: not in docker-compose.yml"]
    build = service.spec.get("build") or {}
    if (
        not isinstance(build, dict)
        or (service.base / build.get("context", ".")).resolve() != root.resolve()
    ):
        problems.append(f"{name}: build.context must be the repository root (the uv workspace)")
    dockerfile = build.get("dockerfile") if isinstance(build, dict) else None
    if dockerfile != f"services/{name}/Dockerfile" or not (root / dockerfile).is_file():
        problems.append(f"{name}: build.dockerfile must be an existing services/{name}/Dockerfile")
    if "/health/ready" not in healthcheck_text(service):
        problems.append(f"{name}: healthcheck must probe /health/ready")
    script = next(
        (
            t
            for t in tokens((service.spec.get("healthcheck") or {}).get("test"))
            if t.endswith(".py")
        ),
        None,
    )
    copied = (
        {
            args.split()[-1]
            for op, args in dockerfile_instructions(root / dockerfile)
            if op == "COPY"
        }
        if dockerfile and (root / dockerfile).is_file()
        else set()
    )
    if script and copied and script not in copied:
        problems.append(f"{name}: healthcheck runs {script}, which the Dockerfile does not copy")

    kafka = next(iter(by_image(compose, "apache/kafka:")), None)
    mongo = next(iter(mongod_services(compose)), None)
    depends = service.spec.get("depends_on") or {}
    for dependency in depends:
        if dependency not in compose.services:
            problems.append(f"{name}: depends_on {dependency}, which is not defined")
    for infra in (kafka, mongo):
        if infra is None:
            problems.append(f"{name}: no kafka/mongo service to depend on")
        elif (
            not isinstance(depends, dict)
            or (depends.get(infra.name) or {}).get("condition") != "service_healthy"
        ):
            problems.append(f"{name}: depends_on {infra.name} must have condition service_healthy")

    env = environment(service)
    expected = {
        "SMM_SERVICE_NAME": f"smm-{name}",
        "SMM_HTTP__HOST": "0.0.0.0",
        "SMM_HTTP__PORT": str(SERVICES[name]),
        "OTEL_SERVICE_NAME": f"smm-{name}",
    }
    for key, value in expected.items():
        if env.get(key) != value:
            problems.append(f"{name}: {key} must be {value!r}, got {env.get(key)!r}")
    if not (env.get("SMM_AUTH__JWKS_URL") or env.get("SMM_AUTH__JWKS_FILE")):
        problems.append(f"{name}: set SMM_AUTH__JWKS_URL or SMM_AUTH__JWKS_FILE (no default)")
    if kafka is not None:
        advertised = {
            urlsplit(listener).netloc
            for listener in environment(kafka).get("KAFKA_ADVERTISED_LISTENERS", "").split(",")
            if listener
        }
        servers = set(env.get("SMM_KAFKA__BOOTSTRAP_SERVERS", "").split(","))
        if not servers <= advertised:
            problems.append(
                f"{name}: SMM_KAFKA__BOOTSTRAP_SERVERS {servers} "
                f"not in kafka's listeners {advertised}"
            )
    if mongo is not None:
        url = urlsplit(normalise(env.get("SMM_MONGO__URL", "")))
        hosts = {h.rsplit(":", 1)[0] for h in url.netloc.rsplit("@", 1)[-1].split(",")}
        if url.scheme != "mongodb" or hosts != {mongo.name}:
            problems.append(f"{name}: SMM_MONGO__URL must point at mongodb://…@{mongo.name}:27017")
        if parse_qs(url.query).get("replicaSet") != [replica_set_name(mongo)]:
            problems.append(f"{name}: SMM_MONGO__URL must name the replica set (?replicaSet=…)")
    collector = next(iter(by_image(compose, "otel/opentelemetry-collector-contrib:")), None)
    endpoint = urlsplit(env.get("OTEL_EXPORTER_OTLP_ENDPOINT", ""))
    if collector is None or (endpoint.hostname, endpoint.port) != (collector.name, 4318):
        problems.append(
            f"{name}: OTEL_EXPORTER_OTLP_ENDPOINT must be the collector's OTLP/HTTP port 4318"
        )
    if name == "console":
        for key in sorted(n for n in settings_env_names() if n.startswith("SMM_SERVICES__")):
            other = key.removeprefix("SMM_SERVICES__").lower()
            if other in SERVICES and env.get(key) != f"http://{other}:{SERVICES[other]}":
                problems.append(f"console: {key} must be http://{other}:{SERVICES[other]}")
        key_file = env.get("SMM_CONSOLE__SIGNING_KEY_FILE", "")
        secret = key_file.removeprefix("/run/secrets/")
        if not key_file.startswith("/run/secrets/") or secret not in (
            service.spec.get("secrets") or []
        ):
            problems.append(
                "console: SMM_CONSOLE__SIGNING_KEY_FILE must be a compose secret "
                "under /run/secrets/"
            )
        elif secret not in compose.secrets:
            problems.append(f"console: secret {secret} is not declared at the top level")
    return problems


def env_example(root: Path) -> dict[str, tuple[str, bool]]:
    """Variables of .env.example: name -> (value, active); `# NAME=value` lines are inactive."""
    found: dict[str, tuple[str, bool]] = {}
    for line in (root / ".env.example").read_text().splitlines():
        match = re.fullmatch(
            r"(?P<hash>#\s*)?(?P<name>[A-Z][A-Z0-9_]*)=(?P<value>.*)", line.strip()
        )
        if match:
            found[match["name"]] = (match["value"], match["hash"] is None)
    return found


def check_secrets(root: Path) -> list[str]:
    """Every secret is required (${VAR:?…}), has no inline value, and is in .env.example."""
    compose = load_compose(root)
    problems: list[str] = []
    declared = env_example(root)
    for file in compose.files:
        text = dollar_free(file.read_text())
        for match in INTERPOLATION.finditer(text):
            name, op = match["name"], match["op"] or ""
            if SECRET_NAME.search(name) and op not in (":?", "?"):
                problems.append(
                    f"{file.name}: secret {name} has a default or may be empty: use ${{{name}:?…}}"
                )
            if op in (":?", "?"):
                value, active = declared.get(name, ("", False))
                if not active:
                    problems.append(f"{file.name}: required {name} is not declared in .env.example")
                elif SECRET_NAME.search(name) and value:
                    problems.append(f".env.example: secret {name} must be empty, not {value!r}")
        for match in BARE_VARIABLE.finditer(INTERPOLATION.sub("", text)):
            if SECRET_NAME.search(match["name"]):
                problems.append(f"{file.name}: ${match['name']} must be ${{{match['name']}:?…}}")
    required = re.compile(r"^\$\{[A-Za-z_]\w*:?\?[^}]*\}$")
    for service in compose.services.values():
        for key, value in environment(service).items():
            if SECRET_NAME.search(key) and not key.endswith("_FILE") and not required.match(value):
                problems.append(
                    f"{service.name}: {key} must be ${{VAR:?…}} from .env, not an inline value"
                )
            credentials = re.search(r"://[^/@\s:]+:(?P<password>[^@\s]+)@", value)
            if credentials and not required.match(credentials["password"]):
                problems.append(
                    f"{service.name}: the password in {key} must be ${{VAR:?…}} from .env"
                )
    return problems


def settings_env_names() -> set[str]:
    """SMM_* names of every field of the shared settings and of each service's settings."""
    from smm_shared.config import BaseServiceSettings

    classes: list[type[BaseModel]] = [BaseServiceSettings]
    for service in SERVICES:
        module_name = f"smm_{service}.settings"
        try:
            module = importlib.import_module(module_name)
        except ModuleNotFoundError as exc:
            if exc.name != module_name:
                raise
            continue
        classes += [
            obj
            for obj in vars(module).values()
            if isinstance(obj, type) and issubclass(obj, BaseServiceSettings)
        ]
    names: set[str] = set()

    def walk(model: type[BaseModel], prefix: str) -> None:
        for field_name, field in model.model_fields.items():
            if isinstance(field.annotation, type) and issubclass(field.annotation, BaseModel):
                walk(field.annotation, f"{prefix}{field_name.upper()}__")
            else:
                names.add(f"{prefix}{field_name.upper()}")

    for cls in classes:
        walk(cls, "SMM_")
    return names


def check_env_example(root: Path) -> list[str]:
    """.env.example documents every setting and every variable compose gives the services."""
    problems: list[str] = []
    declared = env_example(root)
    compose = load_compose(root)
    in_compose = {
        key
        for name in SERVICES
        if name in compose.services
        for key in environment(compose.services[name])
    }
    for name in sorted((settings_env_names() | EXTRA_DOCUMENTED | in_compose) - declared.keys()):
        if name.startswith(("SMM_", "OTEL_")):
            problems.append(f".env.example: {name} is not documented")
    documented = False
    for line in (root / ".env.example").read_text().splitlines():
        stripped = line.strip()
        if not stripped:
            documented = False
        elif re.fullmatch(r"#?\s*[A-Z][A-Z0-9_]*=.*", stripped):
            if not documented:
                problems.append(f".env.example: {stripped.split('=')[0]} has no comment above it")
        elif stripped.startswith("#"):
            documented = True
    return problems


def mounted_config(service: Service, flag: str, default: str) -> dict[str, Any] | None:
    """The YAML config file a container reads (`flag=path` in its command), if bind-mounted."""
    path = default
    for token in tokens(service.spec.get("command")):
        if token.startswith(f"{flag}="):
            path = token.split("=", 1)[1]
    source = host_path(service, path)
    if source is None or not source.is_file():
        return None
    config: dict[str, Any] = yaml.safe_load(source.read_text())
    return config


def collector_config(root: Path) -> tuple[Compose, Service, dict[str, Any] | None]:
    """The compose model, the collector service and the configuration it mounts."""
    compose = load_compose(root)
    collector = by_image(compose, "otel/opentelemetry-collector-contrib:")[0]
    config = mounted_config(collector, "--config", "/etc/otelcol-contrib/config.yaml")
    return compose, collector, config


def port_of(endpoint: str) -> int:
    """The port of a host:port or URL endpoint."""
    return int(endpoint.rsplit(":", 1)[1].split("/")[0])


def check_collector(root: Path) -> list[str]:
    """Pipelines use defined components; traces go to Jaeger, metrics to Prometheus."""
    problems: list[str] = []
    compose, _, config = collector_config(root)
    if config is None:
        return ["collector: its --config file is not mounted from the repository"]
    service = config.get("service") or {}
    pipelines: dict[str, dict[str, list[str]]] = service.get("pipelines") or {}
    used: dict[str, set[str]] = {kind: set() for kind in ("receivers", "processors", "exporters")}
    for pipeline_name, pipeline in pipelines.items():
        for kind in used:
            for component in pipeline.get(kind) or []:
                used[kind].add(component)
                if component not in (config.get(kind) or {}):
                    problems.append(
                        f"collector: pipeline {pipeline_name} uses undefined "
                        f"{kind[:-1]} {component}"
                    )
        if not pipeline.get("receivers") or not pipeline.get("exporters"):
            problems.append(f"collector: pipeline {pipeline_name} needs receivers and exporters")
    for extension in service.get("extensions") or []:
        if extension not in (config.get("extensions") or {}):
            problems.append(f"collector: undefined extension {extension}")
    for kind, known in KNOWN_COLLECTOR_COMPONENTS.items():
        for component in config.get(kind) or {}:
            if component.split("/")[0] not in known:
                problems.append(f"collector: unknown {kind[:-1]} type {component}")
            if kind in used and component not in used[kind]:
                problems.append(f"collector: {kind[:-1]} {component} is defined but in no pipeline")
    http = (((config.get("receivers") or {}).get("otlp") or {}).get("protocols") or {}).get(
        "http"
    ) or {}
    if http.get("endpoint") != "0.0.0.0:4318":
        problems.append("collector: the OTLP receiver must listen for http on 0.0.0.0:4318")
    jaeger = next(iter(by_image(compose, "jaegertracing/")), None)
    exporters = config.get("exporters") or {}
    traces = (pipelines.get("traces") or {}).get("exporters") or []
    if jaeger is None or not any(
        str((exporters.get(e) or {}).get("endpoint", ""))
        .removeprefix("http://")
        .startswith(f"{jaeger.name}:")
        for e in traces
    ):
        problems.append("collector: the traces pipeline must export to the jaeger service")
    metrics = (pipelines.get("metrics") or {}).get("exporters") or []
    if not any(e.split("/")[0] == "prometheus" for e in metrics):
        problems.append("collector: the metrics pipeline must export to the prometheus exporter")
    return problems


def check_prometheus(root: Path) -> list[str]:
    """Prometheus scrapes /metrics of every service on its port, and the collector's exporter."""
    problems: list[str] = []
    compose, collector, collector_yaml = collector_config(root)
    prometheus = by_image(compose, "prom/prometheus:")[0]
    config = mounted_config(prometheus, "--config.file", "/etc/prometheus/prometheus.yml")
    if config is None:
        return ["prometheus: its --config.file is not mounted from the repository"]
    targets: dict[str, str] = {}
    for job in config.get("scrape_configs") or []:
        for static in job.get("static_configs") or []:
            for target in static.get("targets") or []:
                targets[target] = job.get("metrics_path", "/metrics")
    for name in SERVICES:
        service = compose.services.get(name)
        port = environment(service).get("SMM_HTTP__PORT") if service else None
        if targets.get(f"{name}:{port}") != "/metrics":
            problems.append(f"prometheus: {name}:{port}/metrics is not scraped")
    exporters = (collector_yaml or {}).get("exporters") or {}
    for exporter_id, exporter in exporters.items():
        if exporter_id.split("/")[0] == "prometheus":
            target = f"{collector.name}:{port_of(exporter['endpoint'])}"
            if target not in targets:
                problems.append(f"prometheus: the collector's exporter {target} is not scraped")
    return problems


def panel_datasource_uids(node: Any) -> Iterator[str]:
    """Every datasource uid referenced anywhere in a dashboard."""
    if isinstance(node, dict):
        datasource = node.get("datasource")
        if isinstance(datasource, dict) and "uid" in datasource:
            yield str(datasource["uid"])
        for value in node.values():
            yield from panel_datasource_uids(value)
    elif isinstance(node, list):
        for value in node:
            yield from panel_datasource_uids(value)


def check_grafana(root: Path) -> list[str]:
    """Provisioned datasources reach Prometheus and Jaeger; dashboards load and use them."""
    problems: list[str] = []
    compose = load_compose(root)
    grafana = by_image(compose, "grafana/grafana:")[0]
    provisioning = host_path(grafana, "/etc/grafana/provisioning")
    if provisioning is None or not provisioning.is_dir():
        return ["grafana: /etc/grafana/provisioning is not mounted from the repository"]
    datasources = [
        ds
        for file in sorted((provisioning / "datasources").glob("*.y*ml"))
        for ds in yaml.safe_load(file.read_text()).get("datasources") or []
    ]
    uids = {ds.get("uid") for ds in datasources}
    upstream = {"prometheus": ("prom/prometheus:", 9090), "jaeger": ("jaegertracing/", 16686)}
    for kind, (image, port) in upstream.items():
        target = next(iter(by_image(compose, image)), None)
        urls = {ds.get("url") for ds in datasources if ds.get("type") == kind}
        if target is None or f"http://{target.name}:{port}" not in urls:
            problems.append(f"grafana: no {kind} datasource at http://<{kind} service>:{port}")
    dashboards: list[Path] = []
    for file in sorted((provisioning / "dashboards").glob("*.y*ml")):
        for provider in yaml.safe_load(file.read_text()).get("providers") or []:
            folder = host_path(grafana, provider["options"]["path"])
            if folder is None or not folder.is_dir():
                problems.append(
                    f"grafana: dashboards path {provider['options']['path']} is not mounted"
                )
                continue
            dashboards += sorted(folder.glob("*.json"))
    if not dashboards:
        problems.append("grafana: no dashboard is provisioned")
    exprs = ""
    for file in dashboards:
        dashboard = json.loads(file.read_text())
        for uid in set(panel_datasource_uids(dashboard)) - uids:
            problems.append(
                f"grafana: {file.name} uses datasource uid {uid!r}, which is not provisioned"
            )
        exprs += json.dumps(dashboard)
    for metric in DASHBOARD_METRICS:
        if metric not in exprs:
            problems.append(f"grafana: no dashboard charts {metric}")
    return problems


def dockerfile_instructions(path: Path) -> list[tuple[str, str]]:
    """(INSTRUCTION, arguments) pairs, continuation lines joined, comments dropped."""
    instructions: list[tuple[str, str]] = []
    pending = ""
    for raw in path.read_text().splitlines():
        line = raw.strip()
        if not line or line.startswith("#"):
            continue
        if line.endswith("\\"):
            pending += line[:-1] + " "
            continue
        line, pending = pending + line, ""
        op, _, args = line.partition(" ")
        instructions.append((op.upper(), args.strip()))
    return instructions


def dockerignore_patterns(root: Path) -> list[str]:
    """The .dockerignore patterns in order."""
    lines = (root / ".dockerignore").read_text().splitlines()
    return [line.strip() for line in lines if line.strip() and not line.strip().startswith("#")]


def _pattern_regex(pattern: str) -> re.Pattern[str]:
    out, i = "", 0
    while i < len(pattern):
        if pattern.startswith("**/", i):
            out, i = out + "(?:.*/)?", i + 3
        elif pattern.startswith("**", i):
            out, i = out + ".*", i + 2
        elif pattern[i] == "*":
            out, i = out + "[^/]*", i + 1
        elif pattern[i] == "?":
            out, i = out + "[^/]", i + 1
        else:
            out, i = out + re.escape(pattern[i]), i + 1
    return re.compile(out)


def dockerignored(patterns: list[str], path: str) -> bool:
    """Whether the build context leaves `path` out (the last matching pattern wins)."""
    parts = path.strip("/").split("/")
    prefixes = ["/".join(parts[: i + 1]) for i in range(len(parts))]
    ignored = False
    for pattern in patterns:
        negated = pattern.startswith("!")
        regex = _pattern_regex(pattern.lstrip("!").strip("/"))
        if any(regex.fullmatch(prefix) for prefix in prefixes):
            ignored = not negated
    return ignored


def check_dockerignore(root: Path) -> list[str]:
    """Local environments, state, caches and secrets stay out of the build context."""
    patterns = dockerignore_patterns(root)
    must_ignore = [
        ".venv/bin/python",
        "services/ingest/.venv/x",
        ".data/keys/jwks.json",
        "packages/smm-shared/src/smm_shared/__pycache__/config.cpython-311.pyc",
        "node_modules/x/index.js",
        "services/console/frontend/node_modules/x/index.js",
        ".pytest_cache/v",
        ".env",
    ]
    return [
        f".dockerignore: {path} is sent to the build"
        for path in must_ignore
        if not dockerignored(patterns, path)
    ]


def uv_pin(root: Path) -> str:
    """The uv version pinned in the workspace's dev dependency group."""
    groups = tomllib.loads((root / "pyproject.toml").read_text())["dependency-groups"]["dev"]
    return next(
        dep.split("==", 1)[1] for dep in groups if isinstance(dep, str) and dep.startswith("uv==")
    )


def check_dockerfile(root: Path, name: str) -> list[str]:
    """Multi-stage python:3.11-slim, locked uv sync of this package, non-root, healthcheck, CMD."""
    path = root / "services" / name / "Dockerfile"
    if not path.is_file():
        return [f"{name}: services/{name}/Dockerfile is missing"]
    problems: list[str] = []
    instructions = dockerfile_instructions(path)
    args = {}
    for op, value in instructions:
        if op == "FROM":
            break
        if op == "ARG" and "=" in value:
            key, default = value.split("=", 1)
            args[key] = default
    stages = [i for i, (op, _) in enumerate(instructions) if op == "FROM"]
    if len(stages) < 2:
        problems.append(f"{name}: the Dockerfile must be multi-stage")
    final = instructions[stages[-1] :] if stages else []
    base = (
        re.sub(r"\$\{?(\w+)\}?", lambda m: args.get(m[1], m[0]), final[0][1].split()[0])
        if final
        else ""
    )
    if base != "python:3.11-slim":
        problems.append(f"{name}: the runtime stage must be FROM python:3.11-slim, got {base!r}")
    text = path.read_text()
    pin = uv_pin(root)
    if f"uv=={pin}" not in text and f"astral-sh/uv:{pin}" not in text:
        problems.append(f"{name}: install uv {pin} (the workspace pin), from PyPI or the uv image")
    syncs = [value for op, value in instructions if op == "RUN" and "uv sync" in value]
    if not syncs or not all(
        all(flag in sync for flag in ("--frozen", "--no-dev", f"--package smm-{name}"))
        for sync in syncs
    ):
        problems.append(f"{name}: uv sync must be --frozen --no-dev --package smm-{name}")
    patterns = dockerignore_patterns(root)
    for op, value in instructions:
        if op == "COPY" and "--from" not in value:
            for source in [t for t in value.split() if not t.startswith("--")][:-1]:
                if not (root / source).exists():
                    problems.append(f"{name}: COPY {source}: no such path in the build context")
                elif dockerignored(patterns, source):
                    problems.append(f"{name}: COPY {source}: excluded by .dockerignore")
    users = [value for op, value in final if op == "USER"]
    if not users or users[-1].split(":")[0] in {"root", "0"}:
        problems.append(f"{name}: the runtime stage must switch to a non-root USER")
    healthchecks = [value for op, value in final if op == "HEALTHCHECK"]
    if not healthchecks or "/health/ready" not in healthchecks[-1]:
        problems.append(f"{name}: HEALTHCHECK must probe /health/ready")
    cmds = [value for op, value in final if op == "CMD"]
    if not cmds or json.loads(cmds[-1]) != ["python", "-m", f"smm_{name}"]:
        problems.append(f'{name}: CMD must be ["python", "-m", "smm_{name}"]')
    exposed = {p.split("/")[0] for op, value in final if op == "EXPOSE" for p in value.split()}
    if str(SERVICES[name]) not in exposed:
        problems.append(f"{name}: EXPOSE {SERVICES[name]}")
    if not (root / "services" / name / "src" / f"smm_{name}").is_dir():
        problems.append(f"{name}: CMD runs smm_{name}, which services/{name}/src does not have")
    return problems


def k8s_documents(root: Path) -> tuple[dict[str, Any], list[dict[str, Any]]]:
    """The kustomization and every document of the resources it lists."""
    base = root / "deploy" / "k8s"
    kustomization: dict[str, Any] = yaml.safe_load((base / "kustomization.yaml").read_text())
    documents: list[dict[str, Any]] = []
    for resource in kustomization.get("resources") or []:
        documents += [d for d in yaml.safe_load_all((base / resource).read_text()) if d]
    return kustomization, documents


def container_port(container: dict[str, Any], port: int | str) -> int | None:
    """Resolve a probe or Service port (number or name) to a container port."""
    for declared in container.get("ports") or []:
        if port in (declared.get("name"), declared["containerPort"]):
            return int(declared["containerPort"])
    return None


def check_k8s(root: Path) -> list[str]:
    """Manifests parse; every Deployment has probes, resources, env from ConfigMap and Secret."""
    problems: list[str] = []
    base = root / "deploy" / "k8s"
    for file in sorted(base.glob("*.y*ml")):
        for document in yaml.safe_load_all(file.read_text()):
            if document and not (document.get("apiVersion") and document.get("kind")):
                problems.append(f"k8s: {file.name} has a document without apiVersion/kind")
    kustomization, documents = k8s_documents(root)
    kinds: dict[str, dict[str, dict[str, Any]]] = {}
    for document in documents:
        kinds.setdefault(document["kind"], {})[document["metadata"]["name"]] = document
    deployments = kinds.get("Deployment", {})
    images = {image["name"] for image in kustomization.get("images") or []}
    for name in SERVICES:
        if name not in deployments:
            problems.append(f"k8s: no Deployment {name}")
    for name, deployment in deployments.items():
        pod = deployment["spec"]["template"]
        if not set(deployment["spec"]["selector"]["matchLabels"].items()) <= set(
            pod["metadata"]["labels"].items()
        ):
            problems.append(f"k8s: Deployment {name}'s selector does not match its pod labels")
        for container in pod["spec"]["containers"]:
            where = f"k8s: {name}/{container['name']}"
            for probe, path in (
                ("readinessProbe", "/health/ready"),
                ("livenessProbe", "/health/live"),
            ):
                get = (container.get(probe) or {}).get("httpGet") or {}
                if (
                    get.get("path") != path
                    or container_port(container, get.get("port", "")) is None
                ):
                    problems.append(f"{where}: {probe} must GET {path} on a container port")
            resources = container.get("resources") or {}
            for section in ("requests", "limits"):
                if not {"cpu", "memory"} <= set(resources.get(section) or {}):
                    problems.append(f"{where}: resources.{section} needs cpu and memory")
            sources = container.get("envFrom") or []
            config_maps = {s["configMapRef"]["name"] for s in sources if "configMapRef" in s}
            if not config_maps or not config_maps <= kinds.get("ConfigMap", {}).keys():
                problems.append(f"{where}: envFrom needs a ConfigMap defined in the kustomization")
            if not any("secretRef" in s for s in sources):
                problems.append(f"{where}: envFrom needs a Secret")
            if name in SERVICES:
                env = {e["name"]: e.get("value") for e in container.get("env") or []}
                if (
                    env.get("SMM_HTTP__PORT") != str(SERVICES[name])
                    or container_port(container, SERVICES[name]) is None
                ):
                    problems.append(
                        f"{where}: must listen on {SERVICES[name]} (SMM_HTTP__PORT and ports)"
                    )
                if container["image"].split(":")[0] not in images:
                    problems.append(
                        f"{where}: image {container['image']} is not in the kustomization images"
                    )
            if not (pod["spec"].get("securityContext") or {}).get("runAsNonRoot"):
                problems.append(f"{where}: the pod must set runAsNonRoot")
        service = kinds.get("Service", {}).get(name)
        if service is None:
            problems.append(f"k8s: Deployment {name} has no Service")
            continue
        if not set(service["spec"]["selector"].items()) <= set(pod["metadata"]["labels"].items()):
            problems.append(f"k8s: Service {name}'s selector does not select its pods")
        for port in service["spec"]["ports"]:
            target = port.get("targetPort", port["port"])
            if not any(container_port(c, target) for c in pod["spec"]["containers"]):
                problems.append(
                    f"k8s: Service {name} targets port {target}, which no container has"
                )
    for hpa in kinds.get("HorizontalPodAutoscaler", {}).values():
        if hpa["spec"]["scaleTargetRef"]["name"] not in deployments:
            problems.append(f"k8s: HPA {hpa['metadata']['name']} scales a missing Deployment")
    return problems


# ---------------------------------------------------------------------------------------
# Tests on this repository
# ---------------------------------------------------------------------------------------


def test_compose_has_no_version_key_and_resolves_includes() -> None:
    compose = load_compose(REPO)
    assert {f.name for f in compose.files} >= {"docker-compose.yml", "observability.yml"}
    assert set(SERVICES) <= set(compose.services)


def test_kafka_runs_in_kraft_mode_without_zookeeper() -> None:
    assert check_kafka(REPO) == []


def test_mongo_is_an_initiated_replica_set() -> None:
    assert check_mongo(REPO) == []


def test_collector_jaeger_prometheus_grafana_are_in_the_stack() -> None:
    assert check_observability_services(REPO) == []


@pytest.mark.parametrize("name", sorted(SERVICES))
def test_service_is_built_healthchecked_and_wired(name: str) -> None:
    assert check_service(REPO, name) == []


def test_secrets_are_required_and_declared_in_env_example() -> None:
    assert check_secrets(REPO) == []


def test_env_example_documents_every_setting() -> None:
    assert check_env_example(REPO) == []


def test_collector_pipelines_use_defined_components() -> None:
    assert check_collector(REPO) == []


def test_prometheus_scrapes_every_service_and_the_collector() -> None:
    assert check_prometheus(REPO) == []


def test_grafana_provisioning_and_dashboard() -> None:
    assert check_grafana(REPO) == []


@pytest.mark.parametrize("name", sorted(SERVICES))
def test_dockerfile(name: str) -> None:
    assert check_dockerfile(REPO, name) == []


def test_dockerignore_keeps_local_state_out_of_the_build() -> None:
    assert check_dockerignore(REPO) == []


def test_k8s_manifests() -> None:
    assert check_k8s(REPO) == []


# ---------------------------------------------------------------------------------------
# Each check fails on a broken copy of its file
# ---------------------------------------------------------------------------------------

Check = Callable[[Path], list[str]]

#: (file, text in it, replacement, check, words expected in a reported problem)
BREAKAGES: list[tuple[str, str, str, Check, str]] = [
    (
        "docker-compose.yml",
        "KAFKA_PROCESS_ROLES: broker,controller",
        "KAFKA_PROCESS_ROLES: broker",
        check_kafka,
        "KAFKA_PROCESS_ROLES",
    ),
    (
        "docker-compose.yml",
        "  kafka:\n    image: apache/kafka:4.1.0\n",
        "  zookeeper:\n    image: zookeeper:3.9\n  kafka:\n    image: apache/kafka:4.1.0\n",
        check_kafka,
        "ZooKeeper",
    ),
    ("docker-compose.yml", '"--replSet", "rs0", ', "", check_mongo, "--replSet"),
    ("deploy/mongo/replica-set.js", "rs.initiate(", "rs.reconfig(", check_mongo, "rs.initiate"),
    (
        "docker-compose.yml",
        "  - deploy/compose/observability.yml\n",
        "",
        check_observability_services,
        "collector",
    ),
    (
        "docker-compose.yml",
        "dockerfile: services/ingest/Dockerfile",
        "dockerfile: services/ingest/Dockerfile.dev",
        lambda root: check_service(root, "ingest"),
        "build.dockerfile",
    ),
    (
        "docker-compose.yml",
        "    mongo:\n      condition: service_healthy",
        "    mongo:\n      condition: service_started",
        lambda root: check_service(root, "responder"),
        "service_healthy",
    ),
    (
        "docker-compose.yml",
        "?replicaSet=rs0&",
        "?",
        lambda root: check_service(root, "publisher"),
        "replicaSet",
    ),
    (
        "docker-compose.yml",
        "OTEL_EXPORTER_OTLP_ENDPOINT: http://otel-collector:4318",
        "OTEL_EXPORTER_OTLP_ENDPOINT: http://otel-collector:4317",
        lambda root: check_service(root, "analytics"),
        "OTEL_EXPORTER_OTLP_ENDPOINT",
    ),
    (
        "docker-compose.yml",
        "${MONGO_ROOT_PASSWORD:?set MONGO_ROOT_PASSWORD in .env (see .env.example)}",
        "${MONGO_ROOT_PASSWORD:-changeme}",
        check_secrets,
        "MONGO_ROOT_PASSWORD has a default",
    ),
    (
        "deploy/compose/observability.yml",
        "${GRAFANA_ADMIN_PASSWORD:?set GRAFANA_ADMIN_PASSWORD in .env (see .env.example)}",
        "admin",
        check_secrets,
        "GF_SECURITY_ADMIN_PASSWORD",
    ),
    (
        ".env.example",
        "\nGRAFANA_ADMIN_PASSWORD=\n",
        "\n",
        check_secrets,
        "GRAFANA_ADMIN_PASSWORD is not declared",
    ),
    (
        ".env.example",
        "\nMONGO_APP_PASSWORD=\n",
        "\nMONGO_APP_PASSWORD=hunter2\n",
        check_secrets,
        "must be empty",
    ),
    (
        ".env.example",
        "# SMM_KAFKA__RETRY_BACKOFF_S=0.2\n",
        "",
        check_env_example,
        "SMM_KAFKA__RETRY_BACKOFF_S",
    ),
    (
        "deploy/otel-collector/config.yaml",
        "exporters: [otlp_grpc/jaeger]",
        "exporters: [otlp_grpc/jaegr]",
        check_collector,
        "otlp_grpc/jaegr",
    ),
    (
        "deploy/prometheus/prometheus.yml",
        '"responder:8002"',
        '"responder:8012"',
        check_prometheus,
        "responder:8002",
    ),
    (
        "deploy/grafana/provisioning/datasources/datasources.yaml",
        "uid: prometheus",
        "uid: prom",
        check_grafana,
        "'prometheus'",
    ),
    (
        "services/ingest/Dockerfile",
        "USER 10001:10001",
        "USER root",
        lambda root: check_dockerfile(root, "ingest"),
        "non-root USER",
    ),
    (
        "services/ingest/Dockerfile",
        'CMD ["python", "-m", "smm_ingest"]',
        'CMD ["python", "-m", "smm_responder"]',
        lambda root: check_dockerfile(root, "ingest"),
        "CMD",
    ),
    (
        "services/console/Dockerfile",
        '"/app/healthcheck.py", "/health/ready"]',
        '"/app/healthcheck.py"]',
        lambda root: check_dockerfile(root, "console"),
        "HEALTHCHECK",
    ),
    (".dockerignore", "\n.venv\n**/.venv\n", "\n", check_dockerignore, ".venv"),
    (
        "deploy/k8s/ingest.yaml",
        "path: /health/ready",
        "path: /health/live",
        check_k8s,
        "readinessProbe",
    ),
    (
        "deploy/k8s/publisher.yaml",
        "            - secretRef:\n                name: smm-secrets\n",
        "",
        check_k8s,
        "Secret",
    ),
]


def broken_copy(tmp_path: Path, file: str, old: str, new: str) -> Path:
    """A copy of what the checks read, with one text replaced in one file."""
    root = tmp_path / "repo"
    shutil.copytree(REPO / "deploy", root / "deploy")
    for name in (
        "docker-compose.yml",
        ".env.example",
        ".dockerignore",
        "pyproject.toml",
        "uv.lock",
    ):
        shutil.copy2(REPO / name, root / name)
    # Manifests and Dockerfiles as they are; the source trees only need to exist.
    for manifest in [
        *REPO.glob("packages/*/pyproject.toml"),
        *REPO.glob("services/*/pyproject.toml"),
    ]:
        copy = root / manifest.relative_to(REPO)
        copy.parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(manifest, copy)
    for name in SERVICES:
        (root / "services" / name / "src" / f"smm_{name}").mkdir(parents=True)
        shutil.copy2(
            REPO / "services" / name / "Dockerfile", root / "services" / name / "Dockerfile"
        )
    target = root / file
    text = target.read_text()
    assert old in text, f"{file} no longer contains {old!r}: update this breakage"
    target.write_text(text.replace(old, new))
    return root


@pytest.mark.parametrize(
    ("file", "old", "new", "check", "expected"),
    BREAKAGES,
    ids=[f"{b[0]}:{b[4]}" for b in BREAKAGES],
)
def test_a_broken_copy_is_caught(
    tmp_path: Path, file: str, old: str, new: str, check: Check, expected: str
) -> None:
    assert check(REPO) == [], "the check must pass on the repository itself"
    problems = check(broken_copy(tmp_path, file, old, new))
    assert any(expected in problem for problem in problems), problems
