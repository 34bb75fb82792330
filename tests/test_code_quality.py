"""The layers, the lint rules and the types are part of the test suite: a broken one fails it.

The rules themselves live in pyproject.toml ([tool.importlinter], [tool.ruff], [tool.mypy]); the
README's "Architecture" section says what each layer may import. These tests run the same tools a
developer runs by hand (`lint-imports`, `ruff check`, `ruff format --check`, `mypy`), from the
project's own virtual environment.
"""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
TOOLS = Path(sys.executable).parent  # the venv's console scripts sit beside its python


def _tool(name: str) -> str:
    found = shutil.which(name, path=str(TOOLS)) or shutil.which(name)
    if found is None:
        pytest.fail(f"{name} is not installed: run the tests with `python3 tasks.py test`, which installs the test tools")
    return found


def _run(args: list[str], cwd: Path = ROOT) -> subprocess.CompletedProcess[str]:
    return subprocess.run(args, cwd=cwd, capture_output=True, text=True, timeout=600)


def test_every_import_linter_contract_is_kept():
    result = _run([_tool("lint-imports"), "--no-cache"])
    assert result.returncode == 0, result.stdout[-4000:] + result.stderr[-2000:]
    assert "0 broken" in result.stdout


def test_a_block_kit_builder_that_imports_storage_breaks_the_layers(tmp_path):
    """The contracts bite: the same tree with one forbidden import fails the check (so a passing
    check means something)."""
    for package in ("bot", "blocks"):
        shutil.copytree(ROOT / package, tmp_path / package, ignore=shutil.ignore_patterns("__pycache__"))
    shutil.copy(ROOT / "pyproject.toml", tmp_path / "pyproject.toml")
    text = tmp_path / "blocks" / "text.py"
    text.write_text(text.read_text() + "\nfrom bot.storage import escalations  # noqa: E402,F401\n")
    result = _run([_tool("lint-imports"), "--no-cache"], cwd=tmp_path)
    assert result.returncode != 0
    assert "blocks is not allowed to import bot.storage" in result.stdout and "blocks.text -> bot.storage.escalations" in result.stdout


def test_ruff_finds_nothing():
    result = _run([_tool("ruff"), "check", "--no-cache", "."])
    assert result.returncode == 0, result.stdout[-4000:]


def test_the_code_is_formatted():
    result = _run([_tool("ruff"), "format", "--check", "--no-cache", "."])
    assert result.returncode == 0, result.stdout[-4000:]


def test_mypy_passes_strict_on_the_domain_and_blocks_and_checks_the_rest():
    result = _run([_tool("mypy")])  # packages and strictness per module: [tool.mypy] in pyproject.toml
    assert result.returncode == 0, result.stdout[-6000:]
