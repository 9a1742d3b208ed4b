"""What an IT department installs: the container image, compose, Kubernetes — checked by their structure.

No Docker engine and no cluster run where the tests run, so the files are parsed and held to what the
code really does: every command they run exists with those options, every probe is a path Samen
answers, every setting they pass is one Samen reads, and every setting Samen reads is documented in
deploy/.env.example. So the deployment cannot drift away from the code unnoticed.
"""

from __future__ import annotations

import logging
import re
import shlex
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest
import yaml
from typer.testing import CliRunner

from bot.cli import cli
from bot.config import Settings

ROOT = Path(__file__).resolve().parent.parent
DEPLOY = ROOT / "deploy"
K8S = DEPLOY / "k8s"
PROBE_PATHS = {"/livez", "/healthz", "/readyz"}
# Not a Settings field, but read from the environment: by the CLI (--metrics-port), by the image's
# HEALTHCHECK, and by compose itself.
OTHER_VARIABLES = {
    "SAMEN_METRICS_PORT",
    "SAMEN_HEALTHCHECK_URL",
    "POSTGRES_PASSWORD",
    "COMPOSE_PROFILES",
    "SAMEN_HTTP_PORT",
    "SAMEN_IMAGE",
}
BUILD_TOOLS = re.compile(r"\b(build-essential|gcc|g\+\+|make|git|curl|wget|libpq-dev|python3-dev)\b")


def settings_variables() -> set[str]:
    return {str(field.validation_alias) for field in Settings.model_fields.values()}


def accepts(args: list[str]) -> bool:
    """`samen <args>` parses: the command exists and takes these options (with --help, nothing runs)."""
    with logging_kept():
        result = CliRunner().invoke(cli, [*args, "--help"])
    return result.exit_code == 0


@contextmanager
def logging_kept() -> Iterator[None]:
    """The CLI configures logging for production; the suite's log scan needs its own set-up back."""
    root = logging.getLogger()
    handlers, level = list(root.handlers), root.level
    try:
        yield
    finally:
        root.handlers[:] = handlers
        root.setLevel(level)


# -- the Dockerfile ------------------------------------------------------------------------------------


def dockerfile_stages() -> list[list[tuple[str, str]]]:
    """The Dockerfile as stages of (INSTRUCTION, arguments), continuation lines joined."""
    text = (DEPLOY / "Dockerfile").read_text("utf-8")
    joined = re.sub(r"\\\n\s*", " ", text)
    stages: list[list[tuple[str, str]]] = []
    for line in joined.splitlines():
        line = line.strip()
        if not line or line.startswith("#"):
            continue
        instruction, _, arguments = line.partition(" ")
        if instruction.upper() == "FROM":
            stages.append([])
        if stages:
            stages[-1].append((instruction.upper(), arguments.strip()))
    return stages


def test_the_image_is_built_in_stages_and_runs_samen_unprivileged() -> None:
    stages = dockerfile_stages()
    assert len(stages) >= 2, "multi-stage: a build stage and a slim runtime stage"
    assert all(" AS " in stage[0][1].upper() for stage in stages), "every stage is named"
    final = stages[-1]
    instructions = [name for name, _ in final]
    arguments = dict(final)
    assert "slim" in (DEPLOY / "Dockerfile").read_text().split("PYTHON_IMAGE=", 1)[1].split()[0]
    assert any(name == "COPY" and args.startswith("--from=build") for name, args in final)
    # Nothing is compiled or fetched in the final image: no build tools there.
    assert not [args for name, args in final if name == "RUN" and BUILD_TOOLS.search(args)]
    assert BUILD_TOOLS.search(" ".join(args for name, args in stages[0] if name == "RUN"))
    user = arguments["USER"].split(":")[0]
    assert user not in ("root", "0") and user.isdigit(), "a numeric non-root user (runAsNonRoot checks it)"
    assert instructions.index("USER") > max(i for i, n in enumerate(instructions) if n in ("RUN", "COPY"))
    assert arguments["ENTRYPOINT"] == '["samen"]'
    assert "HEALTHCHECK" in instructions and "/livez" in arguments["HEALTHCHECK"]
    assert accepts(yaml.safe_load(arguments["CMD"]))
    assert not re.search(r"(TOKEN|SECRET|KEY|PASSWORD)=\S", " ".join(args for _, args in final if _ == "ENV"))


def test_the_image_copies_only_what_exists_and_what_it_needs() -> None:
    sources = [
        args.split()[:-1]
        for stage in dockerfile_stages()
        for name, args in stage
        if name == "COPY" and not args.startswith("--from")
    ]
    copied = {source for group in sources for source in group}
    assert {"pyproject.toml", "bot", "commands", "templates"} <= copied
    for source in copied:
        assert (ROOT / source).exists(), f"COPY {source}: no such file"
    ignored = (DEPLOY / "Dockerfile.dockerignore").read_text().splitlines()
    assert "*" in ignored, "the build context is only what the Dockerfile copies"
    for source in copied:
        top = source.split("/")[0]
        assert f"!{top}" in ignored or f"!{top}/" in ignored, f"{source} is excluded from the build context"


# -- compose -------------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def compose() -> dict[str, Any]:
    loaded = yaml.safe_load((DEPLOY / "compose.yaml").read_text("utf-8"))
    assert isinstance(loaded, dict)
    return loaded


def samen_services(compose: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {name: service for name, service in compose["services"].items() if name != "db"}


def test_compose_runs_postgresql_a_web_process_and_a_worker(compose: dict[str, Any]) -> None:
    services = compose["services"]
    assert {"db", "migrate", "web", "worker"} <= set(services)
    commands = {name: service["command"] for name, service in samen_services(compose).items()}
    assert commands["web"][0] == "serve"
    assert commands["worker"][0] == "worker"
    assert commands["migrate"] == ["db", "upgrade"]
    for name, command in commands.items():
        assert accepts(command), f"compose service {name}: `samen {' '.join(command)}` is not a valid command"
    # The database keeps its data in a named volume.
    volume = services["db"]["volumes"][0].split(":")[0]
    assert volume in compose["volumes"]
    assert services["db"]["healthcheck"]["test"]


def test_compose_services_are_healthchecked_and_wait_for_what_they_need(compose: dict[str, Any]) -> None:
    for name, service in samen_services(compose).items():
        assert service["build"]["dockerfile"] == "deploy/Dockerfile"
        assert (DEPLOY / service["build"]["context"] / service["build"]["dockerfile"]).is_file()
        assert service["env_file"] == ".env", f"{name}: secrets come from deploy/.env"
        assert service["read_only"] is True and service["cap_drop"] == ["ALL"]
        assert service["depends_on"]["db"]["condition"] == "service_healthy"
        if name == "migrate":
            continue
        assert service["depends_on"]["migrate"]["condition"] == "service_completed_successfully"
        check = " ".join(service["healthcheck"]["test"])
        port = 3000 if service["command"][0] == "serve" else int(service["command"][-1])
        assert f"127.0.0.1:{port}/" in check, f"{name}: the health check asks the port the process serves"
        assert re.search(r"/(livez|healthz|readyz)\b", check)


def test_compose_interpolates_only_documented_variables(compose: dict[str, Any]) -> None:
    text = (DEPLOY / "compose.yaml").read_text("utf-8")
    used = set(re.findall(r"\$\{([A-Z_]+)", text))
    assert used <= documented_variables(), used - documented_variables()
    # Never a secret written into the file itself.
    assert not re.search(r"(xoxb|xapp)-", text)


# -- .env.example --------------------------------------------------------------------------------------


def documented_variables() -> set[str]:
    text = (DEPLOY / ".env.example").read_text("utf-8")
    return set(re.findall(r"^(?:# )?([A-Z][A-Z0-9_]+)=", text, flags=re.MULTILINE))


def test_env_example_documents_every_setting_and_holds_no_secret() -> None:
    documented = documented_variables()
    missing = settings_variables() - documented
    assert not missing, f"deploy/.env.example does not document: {sorted(missing)}"
    assert documented <= settings_variables() | OTHER_VARIABLES, documented - settings_variables()
    for line in (DEPLOY / ".env.example").read_text("utf-8").splitlines():
        name, _, value = line.partition("=")
        if name in ("SLACK_BOT_TOKEN", "SLACK_SIGNING_SECRET", "SLACK_APP_TOKEN", "SLACK_CLIENT_SECRET"):
            assert value == "", f"{name} has a value in the example"
        if name in ("SAMEN_ENCRYPTION_KEY", "POSTGRES_PASSWORD"):
            assert value == ""
    # Every variable (or group of variables) has a comment above it saying what it is.
    lines = (DEPLOY / ".env.example").read_text("utf-8").splitlines()
    for index, line in enumerate(lines):
        if re.match(r"^[A-Z][A-Z0-9_]+=", line):
            above = index - 1
            while re.match(r"^[A-Z][A-Z0-9_]+=", lines[above]):
                above -= 1
            assert lines[above].startswith("#"), f"{line}: say what it is"


# -- Kubernetes ----------------------------------------------------------------------------------------


def kustomize(directory: Path) -> Iterator[dict[str, Any]]:
    """The objects a kustomization applies (resources and components; nothing here patches)."""
    kustomization = yaml.safe_load((directory / "kustomization.yaml").read_text("utf-8"))
    assert not {"patches", "patchesStrategicMerge", "patchesJson6902"} & set(kustomization)
    for component in kustomization.get("components", []):
        assert (
            yaml.safe_load((directory / component / "kustomization.yaml").read_text())["kind"] == "Component"
        )
        yield from kustomize(directory / component)
    for resource in kustomization["resources"]:
        path = directory / resource
        if path.is_dir():
            yield from kustomize(path)
        else:
            assert path.is_file(), f"{directory.name}/kustomization.yaml: {resource} does not exist"
            yield from (doc for doc in yaml.safe_load_all(path.read_text("utf-8")) if doc)


OVERLAYS = pytest.mark.parametrize("overlay", ["http", "socket"])


def objects(overlay: str, kind: str) -> dict[str, dict[str, Any]]:
    return {o["metadata"]["name"]: o for o in kustomize(K8S / overlay) if o["kind"] == kind}


def containers(overlay: str) -> Iterator[tuple[str, dict[str, Any], dict[str, Any]]]:
    for kind in ("Deployment", "Job"):
        for name, workload in objects(overlay, kind).items():
            for container in workload["spec"]["template"]["spec"]["containers"]:
                yield name, workload, container


@OVERLAYS
def test_each_process_runs_at_least_twice_with_probes_on_paths_samen_serves(overlay: str) -> None:
    deployments = objects(overlay, "Deployment")
    expected = {"samen-worker", "samen-web"} if overlay == "http" else {"samen-worker", "samen-socket"}
    assert set(deployments) == expected
    for name, deployment in deployments.items():
        assert deployment["spec"]["replicas"] >= 2, f"{name}: replicas ≥ 2 for availability"
        labels = deployment["spec"]["template"]["metadata"]["labels"]
        assert deployment["spec"]["selector"]["matchLabels"].items() <= labels.items()
        (container,) = deployment["spec"]["template"]["spec"]["containers"]
        ports = {port["name"]: port["containerPort"] for port in container["ports"]}
        args = container["args"]
        served = 3000 if args[0] == "serve" else int(args[args.index("--metrics-port") + 1])
        for probe in ("startupProbe", "livenessProbe", "readinessProbe"):
            check = container[probe]["httpGet"]
            assert check["path"] in PROBE_PATHS, f"{name}: {probe} asks {check['path']}"
            assert ports[check["port"]] == served, f"{name}: {probe} asks a port the process does not serve"
        assert container["livenessProbe"]["httpGet"]["path"] == "/livez"
        assert container["readinessProbe"]["httpGet"]["path"] == "/readyz"
        annotations = deployment["spec"]["template"]["metadata"]["annotations"]
        assert int(annotations["prometheus.io/port"]) == served


@OVERLAYS
def test_containers_run_valid_commands_with_requests_and_the_restricted_pod_security(overlay: str) -> None:
    for name, workload, container in containers(overlay):
        assert accepts(container["args"]), f"{name}: `samen {shlex.join(container['args'])}` is not valid"
        assert container["image"] == "samen", "the image is set once, by the kustomization's images:"
        resources = container["resources"]
        assert {"cpu", "memory"} <= set(resources["requests"]), f"{name}: resource requests"
        assert "memory" in resources["limits"]
        pod = workload["spec"]["template"]["spec"]
        assert pod["automountServiceAccountToken"] is False
        assert pod["securityContext"]["runAsNonRoot"] is True
        assert pod["securityContext"]["runAsUser"] == 10001
        assert pod["securityContext"]["seccompProfile"]["type"] == "RuntimeDefault"
        security = container["securityContext"]
        assert security["allowPrivilegeEscalation"] is False
        assert security["readOnlyRootFilesystem"] is True
        assert security["capabilities"]["drop"] == ["ALL"]
        # A read-only root needs a writable /tmp (gunicorn, Prometheus' multi-process samples).
        mounts = {mount["mountPath"]: mount["name"] for mount in container["volumeMounts"]}
        assert "emptyDir" in {v["name"]: v for v in pod["volumes"]}[mounts["/tmp"]]
        sources = {next(iter(s)): next(iter(s.values()))["name"] for s in container["envFrom"]}
        assert sources == {"configMapRef": "samen-config", "secretRef": "samen"}


def test_the_settings_passed_are_settings_samen_reads() -> None:
    (config,) = objects("http", "ConfigMap").values()
    assert set(config["data"]) <= settings_variables()
    secret = yaml.safe_load((K8S / "base" / "secret.example.yaml").read_text("utf-8"))
    assert set(secret["stringData"]) <= settings_variables()
    commented = set(re.findall(r"#\s+([A-Z_]+):", (K8S / "base" / "secret.example.yaml").read_text()))
    required = {str(f.validation_alias) for f in Settings.model_fields.values() if f.is_required()}
    assert required <= set(secret["stringData"]), "every required setting has a key in the Secret"
    assert commented <= settings_variables()
    assert "secret.example.yaml" not in (K8S / "base" / "kustomization.yaml").read_text(), (
        "the example Secret must never be applied"
    )


def test_migrations_run_as_a_job_before_the_new_version_serves() -> None:
    (job,) = objects("http", "Job").values()
    (container,) = job["spec"]["template"]["spec"]["containers"]
    assert container["args"] == ["db", "upgrade"]
    assert job["spec"]["template"]["spec"]["restartPolicy"] in ("OnFailure", "Never")
    assert job["spec"]["backoffLimit"] >= 1


def test_the_service_and_ingress_reach_the_web_pods_and_publish_only_slacks_paths() -> None:
    web = objects("http", "Service")["samen-web"]
    (deployment,) = [d for n, d in objects("http", "Deployment").items() if n == web["metadata"]["name"]]
    labels = deployment["spec"]["template"]["metadata"]["labels"]
    assert web["spec"]["selector"].items() <= labels.items()
    (container,) = deployment["spec"]["template"]["spec"]["containers"]
    port_names = {port["name"] for port in container["ports"]}
    assert {port["targetPort"] for port in web["spec"]["ports"]} <= port_names
    (ingress,) = objects("http", "Ingress").values()
    paths = {
        path["path"]: path["backend"]["service"]
        for rule in ingress["spec"]["rules"]
        for path in rule["http"]["paths"]
    }
    from bot.slack.workspaces.oauth import INSTALL_PATH, REDIRECT_PATH
    from bot.slack.wsgi import SLACK_PATH

    assert set(paths) == {SLACK_PATH, INSTALL_PATH, REDIRECT_PATH}, "never /metrics or /healthz outside"
    assert all(backend["name"] == web["metadata"]["name"] for backend in paths.values())
    for overlay in ("http", "socket"):
        budgets = objects(overlay, "PodDisruptionBudget")
        deployments = objects(overlay, "Deployment")
        assert set(budgets) == set(deployments), "every Deployment keeps one pod through node maintenance"


def test_socket_mode_stays_within_slacks_connection_limit() -> None:
    assert objects("socket", "Deployment")["samen-socket"]["spec"]["replicas"] <= 10
    assert not objects("socket", "Ingress"), "no inbound traffic"
    for name, service in objects("socket", "Service").items():
        assert service["spec"]["clusterIP"] == "None", f"{name}: only headless, for Prometheus to find pods"
        assert {port["name"] for port in service["spec"]["ports"]} == {"metrics"}


# -- monitoring and network policy ----------------------------------------------------------------------

PRIVATE_RANGES = {"10.0.0.0/8", "172.16.0.0/12", "192.168.0.0/16", "169.254.0.0/16"}
# What Samen's pods may reach: PostgreSQL, DNS, and Slack over HTTPS — nothing else.
EGRESS = {("TCP", 5432), ("UDP", 53), ("TCP", 53), ("TCP", 443)}


def selects(selector: dict[str, Any], labels: dict[str, str]) -> bool:
    return selector.get("matchLabels", {}).items() <= labels.items()


def pod_ports(workload: dict[str, Any]) -> dict[str, int]:
    (container,) = workload["spec"]["template"]["spec"]["containers"]
    return {port["name"]: port["containerPort"] for port in container.get("ports", [])}


@OVERLAYS
def test_prometheus_scrapes_every_process_on_the_port_it_serves_metrics_on(overlay: str) -> None:
    (monitor,) = objects(overlay, "ServiceMonitor").values()
    scraped_ports = {endpoint["port"] for endpoint in monitor["spec"]["endpoints"]}
    assert {endpoint["path"] for endpoint in monitor["spec"]["endpoints"]} == {"/metrics"}
    services = {
        name: service
        for name, service in objects(overlay, "Service").items()
        if selects(monitor["spec"]["selector"], service["metadata"]["labels"])
    }
    for name, deployment in objects(overlay, "Deployment").items():
        labels = deployment["spec"]["template"]["metadata"]["labels"]
        served = int(deployment["spec"]["template"]["metadata"]["annotations"]["prometheus.io/port"])
        # The scrape job is the Service's name, and the alert rules count on it being the Deployment's.
        service = services.get(name)
        assert service is not None, f"{name}: no Service the ServiceMonitor selects"
        assert service["spec"]["selector"].items() <= labels.items()
        ports = [p for p in service["spec"]["ports"] if p["name"] in scraped_ports]
        assert ports, f"{name}: the ServiceMonitor scrapes none of its Service's ports"
        assert {pod_ports(deployment)[p["targetPort"]] for p in ports} == {served}
    alerts = (DEPLOY / "prometheus" / "samen-alerts.yaml").read_text("utf-8")
    assert set(services) <= set(re.findall(r"samen-(?:web|worker|socket)", alerts))
    assert objects(overlay, "PrometheusRule"), "the alert rules are applied with the ServiceMonitor"


def policies_for(overlay: str, labels: dict[str, str]) -> list[dict[str, Any]]:
    return [
        policy
        for policy in objects(overlay, "NetworkPolicy").values()
        if selects(policy["spec"]["podSelector"], labels)
    ]


@OVERLAYS
def test_every_pod_may_reach_only_postgresql_dns_and_slack(overlay: str) -> None:
    for name, workload, _container in containers(overlay):
        policies = policies_for(overlay, workload["spec"]["template"]["metadata"]["labels"])
        assert any("Egress" in policy["spec"]["policyTypes"] for policy in policies), f"{name}: egress open"
        rules = [rule for policy in policies for rule in policy["spec"].get("egress", [])]
        allowed = {(port["protocol"], port["port"]) for rule in rules for port in rule["ports"]}
        assert allowed == EGRESS, f"{name}: egress to {allowed}"
        (slack,) = [
            rule for rule in rules if ("TCP", 443) in {(p["protocol"], p["port"]) for p in rule["ports"]}
        ]
        blocks = {peer["ipBlock"]["cidr"]: set(peer["ipBlock"].get("except", [])) for peer in slack["to"]}
        assert blocks["0.0.0.0/0"] >= PRIVATE_RANGES, "Slack is public: nothing inside the network on 443"
        assert set(blocks) <= {"0.0.0.0/0", "::/0"}


@OVERLAYS
def test_only_prometheus_and_the_ingress_controller_reach_samen(overlay: str) -> None:
    for name, workload, _container in containers(overlay):
        labels = workload["spec"]["template"]["metadata"]["labels"]
        policies = policies_for(overlay, labels)
        assert any("Ingress" in policy["spec"]["policyTypes"] for policy in policies), f"{name}: ingress open"
        ports = pod_ports(workload)
        for policy in policies:
            for rule in policy["spec"].get("ingress", []):
                assert rule["from"] and all("namespaceSelector" in peer for peer in rule["from"]), (
                    f"{name}: ingress from a named namespace only"
                )
                assert rule["ports"], f"{name}: ingress to named ports only"
        reached = {
            port["port"]
            for policy in policies
            for rule in policy["spec"].get("ingress", [])
            for port in rule["ports"]
            if port["port"] in ports
        }
        served = workload["spec"]["template"]["metadata"].get("annotations", {}).get("prometheus.io/port")
        if served:
            assert {ports[port] for port in reached} == {int(served)}, f"{name}: reachable on {reached}"
        else:
            assert not reached, f"{name} (the migration Job) serves nothing"
    if overlay == "http":
        (from_ingress,) = [
            rule
            for policy in policies_for(
                overlay, objects("http", "Deployment")["samen-web"]["spec"]["selector"]["matchLabels"]
            )
            for rule in policy["spec"].get("ingress", [])
            if "ingress" in str(rule["from"])
        ]
        assert [port["port"] for port in from_ingress["ports"]] == ["http"]
