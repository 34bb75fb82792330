#!/usr/bin/env python3
"""The project's commands, runnable with nothing but Python 3.11+.

    python3 tasks.py bot [ARGS]   create/refresh .venv, then run `escalation-bot run ARGS`
    python3 tasks.py test [ARGS]  create/refresh .venv (with test tools), then run the whole test suite
    python3 tasks.py bench [ARGS] create/refresh .venv, then run the benchmarks
    python3 tasks.py cli ARGS     create/refresh .venv, then run `escalation-bot ARGS` (check, export, db upgrade)

The virtual environment is rebuilt only when pyproject.toml, requirements.lock or the Python
version changes, so repeated runs start straight away.
"""

from __future__ import annotations

import hashlib
import os
import subprocess
import sys
import venv
from pathlib import Path

ROOT = Path(__file__).resolve().parent
VENV = Path(os.environ.get("ESCALATION_VENV", ROOT / ".venv"))
LOCK = ROOT / "requirements.lock"


def _venv_python() -> Path:
    return VENV / ("Scripts/python.exe" if os.name == "nt" else "bin/python")


def _fingerprint(extras: str) -> str:
    digest = hashlib.sha256()
    for path in (ROOT / "pyproject.toml", LOCK):
        if path.exists():
            digest.update(path.read_bytes())
    digest.update(sys.version.encode())
    digest.update(extras.encode())
    return digest.hexdigest()


def ensure_venv(extras: str = "") -> Path:
    if sys.version_info < (3, 11):
        sys.exit(f"escalation-brief needs Python 3.11 or newer; this is {sys.version.split()[0]}.")
    python = _venv_python()
    stamp = VENV / ".escalation-brief-installed"
    wanted = _fingerprint(extras)
    if python.exists() and stamp.exists() and stamp.read_text() == wanted:
        return python
    if not python.exists():
        print(f"Creating virtual environment in {VENV} …", flush=True)
        venv.EnvBuilder(with_pip=True, clear=False).create(VENV)
    print("Installing dependencies …", flush=True)
    target = f".[{extras}]" if extras else "."
    cmd = [str(python), "-m", "pip", "install", "--disable-pip-version-check", "-q", "-e", target]
    if LOCK.exists():
        cmd += ["-c", str(LOCK)]
    subprocess.run(cmd, cwd=ROOT, check=True)
    stamp.write_text(wanted)
    return python


def _exec(args: list[str]) -> int:
    return subprocess.call(args, cwd=ROOT)


def main(argv: list[str]) -> int:
    if not argv or argv[0] in {"-h", "--help", "help"}:
        print(__doc__)
        return 0
    task, rest = argv[0], argv[1:]
    if task == "bot":
        python = ensure_venv()
        return _exec([str(python), "-m", "bot", "run", *rest])
    if task == "cli":
        python = ensure_venv()
        return _exec([str(python), "-m", "bot", *rest])
    if task == "test":
        python = ensure_venv("test")
        return _exec([str(python), "-m", "pytest", *rest])
    if task == "bench":
        python = ensure_venv("test,bench")
        return _exec([str(python), str(ROOT / "benchmarks" / "run.py"), *rest])
    print(f"unknown task {task!r}\n{__doc__}", file=sys.stderr)
    return 2


if __name__ == "__main__":
    try:
        sys.exit(main(sys.argv[1:]))
    except subprocess.CalledProcessError as exc:
        sys.exit(f"Installing dependencies failed (exit {exc.returncode}); see the pip output above.")
    except KeyboardInterrupt:
        sys.exit(130)
