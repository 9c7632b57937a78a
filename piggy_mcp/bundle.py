"""`piggy-mcp bundle`: an MCP Bundle (.mcpb), which Claude Desktop installs in one click.

The bundle follows the MCPB manifest spec 0.4 (github.com/modelcontextprotocol/mcpb, MANIFEST.md) with the `uv`
server type: it carries piggy-mcp's own source and a pyproject.toml naming its dependencies, and the host runs
`uv run server/main.py` in the bundle's directory, which installs them for the user's platform. Nothing in it
comes from a checkout: it is made from the installed package, so a wheel builds the same bundle as the
repository does. The repository's manifest.json is `manifest()`, kept equal to it by a test.
"""

from __future__ import annotations

import importlib.metadata
import json
import shutil
import sys
import tempfile
import zipfile
from pathlib import Path
from typing import Any

import piggy_mcp
from piggy_mcp import __version__

# A placeholder until the project is published there.
REPOSITORY = "https://github.com/piggy-mcp/piggy-mcp"
PRIVACY_POLICY = f"{REPOSITORY}/blob/main/PRIVACY.md"  # the repository's PRIVACY.md
ENTRY_POINT = "server/main.py"
MANIFEST_VERSION = "0.4"  # the first with the `uv` server type
ZIP_DATE = (2026, 1, 1, 0, 0, 0)  # the same bytes for the same sources

MAIN = '''"""piggy-mcp as its MCP Bundle runs it: `uv run server/main.py` in the bundle's directory.

Python puts this file's directory first on sys.path, so the piggy_mcp package beside it is the one imported.
"""

from piggy_mcp.cli import main

raise SystemExit(main())
'''


def manifest() -> dict[str, Any]:
    """manifest.json: what Claude Desktop shows, asks the user for and runs."""
    from piggy_mcp.selection import select_tools

    return {
        "manifest_version": MANIFEST_VERSION,
        "name": "piggy-mcp",
        "display_name": "Piggy loyalty",
        "version": __version__,
        "description": "Run a Piggy (Leat) loyalty program from Claude: contacts, credits, rewards, vouchers.",
        "long_description": (
            "Look up members and their balances, award and reverse credits, redeem rewards and vouchers in a "
            "Piggy (Leat) loyalty program. Irreversible actions are shown to you for confirmation first. Turn on "
            "Sandbox to try it on a simulated account, without an API key; turn on Read-only to let Claude look "
            "but change nothing."
        ),
        "author": {"name": "The piggy-mcp authors", "url": REPOSITORY},
        "repository": {"type": "git", "url": REPOSITORY},
        "homepage": REPOSITORY,
        "documentation": f"{REPOSITORY}#readme",
        "support": f"{REPOSITORY}/issues",
        "license": "MIT",
        "keywords": ["piggy", "leat", "loyalty", "rewards", "vouchers"],
        "privacy_policies": [PRIVACY_POLICY],
        "server": {
            "type": "uv",
            "entry_point": ENTRY_POINT,
            "mcp_config": {
                "command": "uv",
                "args": ["run", "--directory", "${__dirname}", ENTRY_POINT],
                "env": {
                    "PIGGY_API_KEY": "${user_config.api_key}",
                    "PIGGY_BASE_URL": "${user_config.base_url}",
                    "PIGGY_READ_ONLY": "${user_config.read_only}",
                    "PIGGY_SANDBOX": "${user_config.sandbox}",
                },
            },
        },
        # Titles, not descriptions: the directory shows one line per tool, and descriptions are tuned often.
        "tools": [{"name": spec.name, "description": spec.title} for spec in select_tools()],
        "compatibility": {
            "platforms": ["darwin", "linux", "win32"],
            "runtimes": {"python": _requires_python()},
        },
        # Every option has a default: the host leaves `${user_config.x}` as it is where there is no value.
        "user_config": {
            "api_key": {
                "type": "string",
                "title": "Piggy API key",
                "description": "Your Personal Access Token for Piggy's API. Leave it empty with Sandbox on.",
                "sensitive": True,
                "required": False,
                "default": "",
            },
            "base_url": {
                "type": "string",
                "title": "Piggy API host",
                "description": "Change it only if Piggy gave you another host.",
                "required": False,
                "default": "https://api.piggy.eu",
            },
            "read_only": {
                "type": "boolean",
                "title": "Read-only",
                "description": "Serve only the tools that read: nothing in the loyalty program can be changed.",
                "required": False,
                "default": False,
            },
            "sandbox": {
                "type": "boolean",
                "title": "Sandbox",
                "description": "Use a built-in simulated account instead of yours (no API key; data resets).",
                "required": False,
                "default": False,
            },
        },
    }


def _metadata() -> importlib.metadata.PackageMetadata:
    return importlib.metadata.metadata("piggy-mcp")


def _requires_python() -> str:
    return _metadata()["Requires-Python"] or ">=3.11"


def _dependencies() -> list[str]:
    """The package's own requirements, without those of its extras."""
    requirements = importlib.metadata.requires("piggy-mcp") or []
    return [requirement for requirement in requirements if "extra ==" not in requirement.partition(";")[2]]


def pyproject() -> str:
    """The bundle's pyproject.toml: the dependencies uv installs. No build system: the source is run, not built."""
    lines = [
        "[project]",
        'name = "piggy-mcp-bundle"',
        f'version = "{__version__}"',
        f'requires-python = "{_requires_python()}"',
        "dependencies = [",
        *(f"    {json.dumps(requirement)}," for requirement in _dependencies()),
        "]",
        "",
        "[tool.uv]",
        "package = false",
        "",
    ]
    return "\n".join(lines)


def stage(directory: Path) -> Path:
    """Write the bundle's files into `directory` (what `mcpb pack` packs); returns it."""
    directory.mkdir(parents=True, exist_ok=True)
    (directory / "manifest.json").write_text(json.dumps(manifest(), indent=2) + "\n", encoding="utf-8")
    (directory / "pyproject.toml").write_text(pyproject(), encoding="utf-8")
    server = directory / "server"
    server.mkdir(exist_ok=True)
    (server / "main.py").write_text(MAIN, encoding="utf-8")
    package = Path(piggy_mcp.__file__).parent
    target = server / "piggy_mcp"
    if target.exists():
        shutil.rmtree(target)
    shutil.copytree(package, target, ignore=shutil.ignore_patterns("__pycache__", "*.pyc"))
    return directory


def pack(output: Path) -> Path:
    """The bundle as one .mcpb file (a zip archive) at `output`; returns it."""
    with tempfile.TemporaryDirectory() as scratch:
        root = stage(Path(scratch) / "bundle")
        output.parent.mkdir(parents=True, exist_ok=True)
        with zipfile.ZipFile(output, "w", compression=zipfile.ZIP_DEFLATED) as archive:
            for path in sorted(p for p in root.rglob("*") if p.is_file()):
                info = zipfile.ZipInfo(path.relative_to(root).as_posix(), date_time=ZIP_DATE)
                info.compress_type = zipfile.ZIP_DEFLATED
                info.external_attr = 0o644 << 16
                archive.writestr(info, path.read_bytes())
    return output


def run(output: Path | None, stage_dir: Path | None, print_manifest: bool) -> int:
    """The `bundle` command: print the manifest, stage the files, or pack the .mcpb (the default)."""
    if print_manifest:
        sys.stdout.write(json.dumps(manifest(), indent=2) + "\n")
        return 0
    if stage_dir is not None:
        print(f"Bundle files written to {stage(stage_dir)}", file=sys.stderr)
        return 0
    path = pack(output or Path(f"piggy-mcp-{__version__}.mcpb"))
    print(f"Wrote {path}: open it with Claude Desktop to install piggy-mcp.", file=sys.stderr)
    return 0
