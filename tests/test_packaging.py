"""The package works outside a checkout: `python -m build` makes an sdist and a wheel, and the wheel installed into
a new virtual environment, with nothing but its dependencies, runs every command from a directory that is not
the checkout: --version, tools, demo, the server over stdio (also --sandbox) and over HTTP.

The build and the venv are made once per session (tests/helpers.py `fresh_install`, ~25 s, pip downloads the
dependencies); the examples and bundle tests use the same installation.
"""

from __future__ import annotations

import email.parser
import importlib.metadata
import re
import subprocess
import tarfile
import zipfile
from email.message import Message
from pathlib import Path

import pytest
from mcp import StdioServerParameters

import piggy_mcp
from piggy_mcp.sandbox import SEED
from tests.helpers import (
    EXPECTED_TOOLS,
    REPOSITORY,
    ROOT,
    STORE_BALANCE,
    FreshInstall,
    client_env,
    fresh_install,
    run_over_stdio,
)
from tests.servers import HttpServer, free_port, stop, wait_until_healthy

PACKAGE = ROOT / "piggy_mcp"


@pytest.fixture(scope="module")
def installed(tmp_path_factory: pytest.TempPathFactory) -> FreshInstall:
    return fresh_install(tmp_path_factory)


def metadata_of(wheel: Path) -> Message:
    with zipfile.ZipFile(wheel) as archive:
        name = next(n for n in archive.namelist() if n.endswith(".dist-info/METADATA"))
        return email.parser.Parser().parsestr(archive.read(name).decode("utf-8"))


def source_files() -> set[str]:
    """Every file of the package in the checkout, .py or not, as paths relative to the checkout."""
    return {
        path.relative_to(ROOT).as_posix()
        for path in PACKAGE.rglob("*")
        if path.is_file() and "__pycache__" not in path.parts
    }


def installed_version(installed: FreshInstall) -> str:
    done = installed.run("python", "-c", "import importlib.metadata as m; print(m.version('piggy-mcp'))")
    assert done.returncode == 0, done.stderr
    return done.stdout.strip()


# What is built ----------------------------------------------------------------------------------------------


def test_the_wheel_holds_every_file_of_the_package_and_nothing_else(installed: FreshInstall) -> None:
    with zipfile.ZipFile(installed.wheel) as archive:
        names = set(archive.namelist())
    dist_info = {name for name in names if ".dist-info/" in name}
    # Any data file the package reads at run time (importlib.resources, Path(__file__)) sits in piggy_mcp/ too,
    # so comparing the whole tree catches a data file the wheel would leave out.
    assert names - dist_info == source_files()
    assert any(name.endswith(".dist-info/licenses/LICENSE") for name in dist_info)


def test_the_sdist_holds_the_package_readme_and_license(installed: FreshInstall) -> None:
    with tarfile.open(installed.sdist) as archive:
        top = archive.getnames()[0].split("/")[0]
        names = {name.removeprefix(top + "/") for name in archive.getnames()}
    assert {"pyproject.toml", "README.md", "LICENSE", "PKG-INFO"} <= names
    assert source_files() <= names


def test_the_metadata_names_version_license_urls_and_python(installed: FreshInstall) -> None:
    metadata = metadata_of(installed.wheel)
    assert metadata["Name"] == "piggy-mcp"
    assert metadata["Version"] == piggy_mcp.__version__  # the one place the version is written
    assert installed.wheel.name == f"piggy_mcp-{piggy_mcp.__version__}-py3-none-any.whl"
    assert metadata["License-Expression"] == "MIT"
    assert metadata.get_all("License-File") == ["LICENSE"]
    assert metadata["Requires-Python"] == ">=3.11"
    urls = dict(entry.split(", ", 1) for entry in metadata.get_all("Project-URL") or [])
    assert urls["Repository"] == REPOSITORY
    assert all(url.startswith(REPOSITORY) for url in urls.values()), urls
    classifiers = metadata.get_all("Classifier") or []
    assert "Programming Language :: Python :: 3.11" in classifiers
    assert metadata["Description-Content-Type"] == "text/markdown"


def test_the_version_is_written_once() -> None:
    pyproject = (ROOT / "pyproject.toml").read_text(encoding="utf-8")
    assert re.search(r"^version\s*=", pyproject, re.MULTILINE) is None, "pyproject.toml must not repeat the version"
    assert importlib.metadata.version("piggy-mcp") == piggy_mcp.__version__


# The installed commands, outside the checkout ------------------------------------------------------------------


def test_the_fresh_venv_imports_the_package_from_its_own_site_packages(installed: FreshInstall) -> None:
    done = installed.run("python", "-c", "import piggy_mcp; print(piggy_mcp.__file__)")
    assert done.returncode == 0, done.stderr
    location = Path(done.stdout.strip()).resolve()
    assert location.is_relative_to(installed.venv.resolve()), location
    assert not location.is_relative_to(ROOT), location
    check = installed.run("python", "-m", "pip", "check")
    assert check.returncode == 0, check.stdout + check.stderr


def test_version_prints_the_installed_metadata_version(installed: FreshInstall) -> None:
    done = installed.run("piggy-mcp", "--version")
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == f"piggy-mcp {installed_version(installed)}"
    assert installed_version(installed) == piggy_mcp.__version__


def test_tools_lists_every_default_tool(installed: FreshInstall) -> None:
    done = installed.run("piggy-mcp", "tools")
    assert done.returncode == 0, done.stderr
    header, *rows = done.stdout.splitlines()
    assert header.split() == ["tool", "toolset", "kind"]
    assert {row.split()[0] for row in rows} == EXPECTED_TOOLS


def test_demo_runs_its_five_stories(installed: FreshInstall) -> None:
    done = installed.run("piggy-mcp", "demo")
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr
    assert re.findall(r"^Story (\d):", done.stdout, re.MULTILINE) == ["1", "2", "3", "4", "5"]
    assert done.stdout.rstrip().endswith("piggy-mcp --sandbox")


@pytest.mark.parametrize("sandbox", [True, False], ids=["sandbox", "no-api-key"])
async def test_stdio_serves_with_the_metadata_version_as_server_info(
    installed: FreshInstall, tmp_path: Path, sandbox: bool
) -> None:
    params = StdioServerParameters(
        command=str(installed.bin("piggy-mcp")),
        args=["--sandbox"] if sandbox else [],
        env=client_env(PIGGY_MCP_STATE_DIR=str(tmp_path / "state")),
        cwd=str(installed.workdir),
    )
    run = await run_over_stdio(params, tmp_path / "stderr.log", sandbox=sandbox)
    assert run.server_version == installed_version(installed) == piggy_mcp.__version__
    assert set(run.tools) == EXPECTED_TOOLS
    if sandbox:
        assert run.sandbox_balance == STORE_BALANCE, SEED.contacts.sanne_store


def test_http_serves_health_from_the_fresh_venv(installed: FreshInstall, tmp_path: Path) -> None:
    port = free_port()
    log = tmp_path / "stderr.log"
    with log.open("wb") as stderr:
        process = subprocess.Popen(
            [str(installed.bin("piggy-mcp")), "--sandbox", "--transport", "http", "--port", str(port)],
            cwd=installed.workdir,
            env=client_env(PIGGY_MCP_STATE_DIR=str(tmp_path / "state")),
            stdin=subprocess.DEVNULL,
            stdout=stderr,
            stderr=stderr,
            start_new_session=True,
        )
    try:
        assert wait_until_healthy(HttpServer(port, process, log)), log.read_text(encoding="utf-8")
    finally:
        stop(process)
