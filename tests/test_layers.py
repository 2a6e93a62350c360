"""The layers below the screens never import Textual.

The adapter, the board, configuration, credentials and the sandbox must work headless (scripts,
`moderate board`, `moderate sandbox`, benchmarks) and stay fast to import. Each import runs in a
fresh interpreter, so nothing the test process already imported can hide a violation.
"""

from __future__ import annotations

import json
import pkgutil
import subprocess
import sys
from pathlib import Path

import tui.sandbox

PROJECT_ROOT = Path(__file__).resolve().parents[1]

HEADLESS_MODULES = [
    "tui.secret",
    "tui.canvas",
    "tui.canvas.errors",
    "tui.canvas.models",
    "tui.canvas.client",
    "tui.canvas.moderation",
    "tui.board",
    "tui.config",
    "tui.credentials",
    "tui.commands.board",
    # The sandbox modules the contract names (a missing one fails), then any others it has.
    "tui.sandbox",
    "tui.sandbox.state",
    "tui.sandbox.seed",
    "tui.sandbox.faults",
    "tui.sandbox.app",
    "tui.sandbox.server",
]
HEADLESS_MODULES += sorted(
    {module.name for module in pkgutil.walk_packages(tui.sandbox.__path__, prefix="tui.sandbox.")}
    - set(HEADLESS_MODULES)
)

# Imports the modules one by one and names the first after which Textual is loaded.
_PROBE = """
import importlib, json, sys
for name in sys.argv[1:]:
    importlib.import_module(name)
    if any(loaded == "textual" or loaded.startswith("textual.") for loaded in sys.modules):
        print(json.dumps(name))
        break
else:
    print(json.dumps(None))
"""


def test_the_sandbox_package_has_modules_to_check():
    assert len(HEADLESS_MODULES) > 16  # walk_packages found more of tui.sandbox's modules


def test_headless_layers_do_not_import_textual():
    result = subprocess.run(
        [sys.executable, "-c", _PROBE, *HEADLESS_MODULES],
        cwd=PROJECT_ROOT,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, result.stderr  # a module missing or failing to import
    first_to_import_textual = json.loads(result.stdout.strip().splitlines()[-1])
    assert first_to_import_textual is None, f"{first_to_import_textual} imports textual"
