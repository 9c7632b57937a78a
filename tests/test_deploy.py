"""deploy/multi-tenant.yaml, the multi-tenant Kubernetes example: its documents refer to each other correctly, its
environment is made of real settings, its tenants file loads, and deploy/README.md creates what it refers to.

No cluster here: the manifest is read as YAML and checked against the code's own settings and tenants loader."""

from __future__ import annotations

import re
import tomllib
from collections.abc import Iterator
from pathlib import Path, PurePosixPath
from typing import Any
from urllib.parse import urlsplit

import pytest

from piggy_mcp.config import ConfigurationError, Settings
from piggy_mcp.events.receiver import WEBHOOK_PATH
from piggy_mcp.hosting.tenants import load_tenants
from piggy_mcp.metrics import METRICS_PATH
from piggy_mcp.selection import select_tools
from tests.conftest import make_settings

yaml = pytest.importorskip("yaml")

ROOT = Path(__file__).resolve().parent.parent
MANIFEST = ROOT / "deploy" / "multi-tenant.yaml"
GUIDE = ROOT / "deploy" / "README.md"
SINGLE = ROOT / "deploy" / "kubernetes.yaml"
SERVER = "piggy-mcp"  # the Deployment, Service and container serving MCP


def documents(path: Path = MANIFEST) -> list[dict[str, Any]]:
    return [doc for doc in yaml.safe_load_all(path.read_text(encoding="utf-8")) if doc]


def the(kind: str, name: str) -> dict[str, Any]:
    [doc] = [doc for doc in documents() if doc["kind"] == kind and doc["metadata"]["name"] == name]
    return doc


def pod(name: str = SERVER) -> dict[str, Any]:
    spec: dict[str, Any] = the("Deployment", name)["spec"]["template"]["spec"]
    return spec


def container(name: str = SERVER) -> dict[str, Any]:
    [found] = [c for c in pod(name)["containers"] if c["name"] == name]
    return dict(found)


def container_of(path: Path) -> dict[str, Any]:
    [deployment] = [doc for doc in documents(path) if doc["kind"] == "Deployment"]
    [found] = deployment["spec"]["template"]["spec"]["containers"]
    return dict(found)


def env() -> dict[str, dict[str, Any]]:
    return {item["name"]: item for item in container()["env"]}


def secrets() -> dict[str, dict[str, str]]:
    """Each Secret of the manifest: its keys and (placeholder) values."""
    return {
        doc["metadata"]["name"]: {**doc.get("data", {}), **doc.get("stringData", {})}
        for doc in documents()
        if doc["kind"] == "Secret"
    }


def tenants_file() -> tuple[str, str]:
    """The Secret key holding the tenants file, and its text, found through PIGGY_MCP_TENANTS_FILE and the mount."""
    path = PurePosixPath(env()["PIGGY_MCP_TENANTS_FILE"]["value"])
    [mount] = [m for m in container()["volumeMounts"] if PurePosixPath(m["mountPath"]) == path.parent]
    [volume] = [v for v in pod()["volumes"] if v["name"] == mount["name"]]
    return volume["secret"]["secretName"], secrets()[volume["secret"]["secretName"]][path.name]


def tenants() -> dict[str, dict[str, Any]]:
    described: dict[str, dict[str, Any]] = tomllib.loads(tenants_file()[1])["tenants"]
    return described


def variables_named_by_tenants() -> set[str]:
    return {
        entry[field]
        for entry in tenants().values()
        for field in ("api_key_env", "webhook_secret_env")
        if field in entry
    }


def walk(node: Any) -> Iterator[dict[str, Any]]:
    if isinstance(node, dict):
        yield node
        for value in node.values():
            yield from walk(value)
    elif isinstance(node, list):
        for value in node:
            yield from walk(value)


def scrape_credentials(endpoint: dict[str, Any]) -> dict[str, str]:
    """The Secret key a ServiceMonitor endpoint takes its bearer token from, in either spelling the operator knows."""
    spellings = [endpoint.get("bearerTokenSecret"), endpoint.get("authorization", {}).get("credentials")]
    [credentials] = [found for found in spellings if found]
    assert endpoint.get("authorization", {}).get("type", "Bearer") == "Bearer"
    return {"name": str(credentials["name"]), "key": str(credentials["key"])}


def test_manifest_holds_the_expected_kinds() -> None:
    docs = documents()
    kinds = [doc["kind"] for doc in docs]
    assert {"Secret", "Deployment", "Service", "ServiceMonitor"} <= set(kinds)
    assert kinds.count("Secret") >= 2 and kinds.count("Deployment") == 2 and kinds.count("Service") == 2
    for doc in docs:
        assert doc["apiVersion"] and doc["metadata"]["name"], doc
    assert len({(doc["kind"], doc["metadata"]["name"]) for doc in docs}) == len(docs), "a name used twice"
    [monitor] = [doc for doc in docs if doc["kind"] == "ServiceMonitor"]
    assert monitor["apiVersion"] == "monitoring.coreos.com/v1"


def test_deployment_is_replicated_unprivileged_and_probed() -> None:
    deployment = the("Deployment", SERVER)
    spec = deployment["spec"]
    assert spec["replicas"] > 1
    labels = spec["template"]["metadata"]["labels"]
    assert spec["selector"]["matchLabels"].items() <= labels.items()
    assert the("Service", SERVER)["spec"]["selector"].items() <= labels.items()

    server = container()
    security = {**pod().get("securityContext", {}), **server.get("securityContext", {})}
    assert security["runAsNonRoot"] is True and security["runAsUser"] != 0
    assert security["readOnlyRootFilesystem"] is True and security["allowPrivilegeEscalation"] is False
    assert server["resources"]["requests"] and server["resources"]["limits"]
    assert server["image"] == container_of(SINGLE)["image"], "the same image as kubernetes.yaml"

    ports = {port["name"]: port["containerPort"] for port in server["ports"]}
    assert ports["http"] == 8000
    for probe in ("readinessProbe", "livenessProbe"):
        assert server[probe]["httpGet"]["path"] == "/healthz"
        assert server[probe]["httpGet"]["port"] in (*ports, *ports.values())

    # A rollout (how a tenants change is applied) never serves with fewer pods, and lets calls in flight finish.
    assert spec["strategy"]["rollingUpdate"]["maxUnavailable"] == 0
    assert pod()["terminationGracePeriodSeconds"] > 20 + int(server["lifecycle"]["preStop"]["exec"]["command"][-1])


def test_tenants_secret_is_mounted_read_only_where_the_setting_points() -> None:
    path = PurePosixPath(env()["PIGGY_MCP_TENANTS_FILE"]["value"])
    assert path.is_absolute() and path.suffix == ".toml"
    [mount] = [m for m in container()["volumeMounts"] if PurePosixPath(m["mountPath"]) == path.parent]
    assert mount["readOnly"] is True
    assert "subPath" not in mount, "a subPath mount is never updated in place"
    [volume] = [v for v in pod()["volumes"] if v["name"] == mount["name"]]
    assert volume["secret"]["secretName"] in secrets()
    assert path.name in secrets()[volume["secret"]["secretName"]]


def test_redis_url_names_the_manifests_redis_service() -> None:
    url = urlsplit(env()["PIGGY_MCP_REDIS_URL"]["value"])
    assert url.scheme in ("redis", "rediss")
    service = the("Service", str(url.hostname))
    [port] = [p for p in service["spec"]["ports"] if p["port"] == url.port]
    # ... and the Service leads to a Redis in the same manifest.
    [redis] = [
        doc
        for doc in documents()
        if doc["kind"] in ("Deployment", "StatefulSet")
        and service["spec"]["selector"].items() <= doc["spec"]["template"]["metadata"]["labels"].items()
    ]
    [server] = redis["spec"]["template"]["spec"]["containers"]
    assert server["image"].startswith(("redis:", "valkey/valkey:"))
    assert port["targetPort"] in {p.get("name") for p in server["ports"]} | {
        p["containerPort"] for p in server["ports"]
    }


def test_only_piggy_mcp_reaches_the_redis() -> None:
    [policy] = [doc for doc in documents() if doc["kind"] == "NetworkPolicy"]
    redis_labels = the("Deployment", "piggy-mcp-redis")["spec"]["template"]["metadata"]["labels"]
    server_labels = the("Deployment", SERVER)["spec"]["template"]["metadata"]["labels"]
    assert policy["spec"]["podSelector"]["matchLabels"].items() <= redis_labels.items()
    assert "Ingress" in policy["spec"]["policyTypes"]
    [rule] = policy["spec"]["ingress"]
    [source] = rule["from"]
    assert source["podSelector"]["matchLabels"].items() <= server_labels.items()
    assert not source["podSelector"]["matchLabels"].items() <= redis_labels.items()


def test_every_secret_reference_names_a_key_the_manifest_defines() -> None:
    defined = secrets()
    references = [
        (node["secretKeyRef"]["name"], node["secretKeyRef"]["key"])
        for node in walk(documents())
        if "secretKeyRef" in node
    ]
    [monitor] = [doc for doc in documents() if doc["kind"] == "ServiceMonitor"]
    references += [(c["name"], c["key"]) for c in map(scrape_credentials, monitor["spec"]["endpoints"])]
    assert len(references) >= 6
    for name, key in references:
        assert key in defined.get(name, {}), f"{name}/{key} is referred to but not defined"


def test_guide_creates_the_secret_keys_the_manifest_defines() -> None:
    """Operators who create the Secrets with kubectl instead of applying the placeholders get the same keys."""
    guide = GUIDE.read_text(encoding="utf-8")
    commands = {
        match[1]: match[2]
        for match in re.finditer(r"kubectl create secret generic ([\w-]+)((?:[^\n]*\\\n)*[^\n]*)", guide)
    }
    defined = secrets()
    tenants_secret, _ = tenants_file()
    for name, keys in defined.items():
        if name == tenants_secret:
            assert "--from-file=tenants.toml=" in commands[name]
        else:
            assert set(re.findall(r"--from-literal=([\w.-]+)=", commands[name])) == set(keys), name


def test_every_piggy_variable_is_a_setting_or_named_by_the_tenants_file() -> None:
    settings = {f"PIGGY_{field.upper()}" for field in Settings.model_fields}
    named = variables_named_by_tenants()
    assert named, "the tenants file names no variable"
    assert not named & settings, "a tenant's variable would also configure every tenant"
    variables = env()
    for name in variables:
        if name.startswith("PIGGY_"):
            assert name in settings | named, f"{name} is no setting piggy-mcp reads"
    for name in named:
        assert "secretKeyRef" in variables[name]["valueFrom"], f"{name}, a key, must come from a Secret"
    for name in ("PIGGY_MCP_SIGNING_KEY", "PIGGY_MCP_AUTH_TOKENS"):
        assert "secretKeyRef" in variables[name]["valueFrom"], name
    for name in ("PIGGY_MCP_PUBLIC_URL", "PIGGY_MCP_ALLOWED_HOSTS", "PIGGY_MCP_OAUTH_ISSUER"):
        assert variables[name]["value"], name
    assert "PIGGY_API_KEY" not in variables, "with a tenants file every account's key is a tenant's"


def test_deployment_environment_is_valid_configuration(monkeypatch: pytest.MonkeyPatch) -> None:
    defined = secrets()
    for name, item in env().items():
        if "value" in item:
            monkeypatch.setenv(name, item["value"])
        else:
            reference = item["valueFrom"]["secretKeyRef"]
            monkeypatch.setenv(name, defined[reference["name"]][reference["key"]])
    settings = Settings(_env_file=None)  # type: ignore[call-arg]
    public = urlsplit(str(settings.mcp_public_url))
    assert public.scheme == "https" and public.hostname in settings.mcp_allowed_hosts
    assert str(settings.mcp_oauth_issuer).startswith("https://")
    assert settings.mcp_oauth_tenant_claim != "sub"
    assert settings.mcp_auth_tokens and settings.mcp_redis_url is not None
    assert settings.mcp_tenants_file == Path(env()["PIGGY_MCP_TENANTS_FILE"]["value"])


def test_tenants_file_loads(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    path = tmp_path / "tenants.toml"
    path.write_text(tenants_file()[1], encoding="utf-8")
    described = tenants()
    first = next(iter(described.values()))
    with pytest.raises(ConfigurationError, match=first["api_key_env"]):
        load_tenants(path, make_settings())  # the keys come from the environment, not the file

    for name in variables_named_by_tenants():
        monkeypatch.setenv(name, f"value-of-{name}")
    loaded = load_tenants(path, make_settings())

    assert len(loaded) == len(described) == 2
    for name, tenant in loaded.items():
        assert tenant.token_digests and tenant.oauth_subjects, name
        assert all(token.startswith("sha256:") for token in described[name]["tokens"]), name
        key = tenant.settings.api_key
        assert key is not None and key.get_secret_value() == f"value-of-{described[name]['api_key_env']}"
    [reader] = [tenant for tenant in loaded.values() if tenant.settings.read_only]
    served = select_tools(read_only=True, toolsets=reader.settings.toolsets)
    assert reader.settings.toolsets and served
    assert len(served) < len(select_tools(read_only=True)), "a read-only tenant limited to some toolsets"
    with_webhooks = [t for t in loaded.values() if t.settings.webhook_secret is not None]
    assert len(with_webhooks) == 1 and not with_webhooks[0].settings.read_only


def test_service_monitor_scrapes_metrics_with_a_token_from_a_secret() -> None:
    [monitor] = [doc for doc in documents() if doc["kind"] == "ServiceMonitor"]
    service = the("Service", SERVER)
    assert monitor["spec"]["selector"]["matchLabels"].items() <= service["metadata"]["labels"].items()
    [endpoint] = monitor["spec"]["endpoints"]
    assert endpoint["path"] == METRICS_PATH == "/metrics"
    assert endpoint["port"] in {port["name"] for port in service["spec"]["ports"]}
    credentials = scrape_credentials(endpoint)
    assert credentials["key"] in secrets()[credentials["name"]]
    # The scraper's token stays out of the pods: they get only what PIGGY_MCP_AUTH_TOKENS needs.
    pod_keys = {node["secretKeyRef"]["key"] for node in walk(pod()) if "secretKeyRef" in node}
    assert credentials["key"] not in pod_keys


def test_pod_annotations_serve_prometheus_without_the_operator() -> None:
    annotations = the("Deployment", SERVER)["spec"]["template"]["metadata"]["annotations"]
    assert annotations["prometheus.io/scrape"] == "true"
    assert annotations["prometheus.io/path"] == "/metrics"
    assert int(annotations["prometheus.io/port"]) in {port["containerPort"] for port in container()["ports"]}


def test_guide_says_how_to_apply_a_tenants_change_and_subscribe_webhooks() -> None:
    guide = GUIDE.read_text(encoding="utf-8")
    manifest = MANIFEST.read_text(encoding="utf-8")
    restart = f"kubectl rollout restart deployment/{SERVER}"
    assert restart in guide and restart in manifest, "nothing sends SIGHUP in Kubernetes: say how to roll"
    assert WEBHOOK_PATH == "/webhooks/piggy"
    subscribed = [name for name, entry in tenants().items() if "webhook_secret_env" in entry]
    assert subscribed
    for name in subscribed:
        assert f"webhooks sync --url https://mcp.example.com{WEBHOOK_PATH}/{name}" in guide, name
    assert "https://mcp.example.com/mcp" in guide, "OAuth's audience: the public URL + /mcp"
