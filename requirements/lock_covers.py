"""Exit 1, naming them, if pyproject.toml declares dependencies the lock file lacks (then: `make lock`).

    python requirements/lock_covers.py requirements/dev.txt dev embedded

Standard library only: it runs before anything is installed.
"""

from __future__ import annotations

import re
import sys
import tomllib
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def _name(requirement: str) -> str:
    return re.split(r"[\[<>=!~ ;@]", requirement.strip(), maxsplit=1)[0].lower().replace("_", "-").replace(".", "-")


def missing(lock: Path, extras: list[str]) -> list[str]:
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    wanted = list(project["dependencies"])
    for extra in extras:
        wanted += project.get("optional-dependencies", {}).get(extra, [])
    locked = {_name(m) for m in re.findall(r"^([A-Za-z0-9._-]+)==", lock.read_text(), re.MULTILINE)}
    return sorted({_name(w) for w in wanted} - locked - {_name(project["name"])})


if __name__ == "__main__":
    lacking = missing(Path(sys.argv[1]), sys.argv[2:])
    if lacking:
        print(f"{sys.argv[1]} lacks {', '.join(lacking)} (declared in pyproject.toml): run `make lock`",
              file=sys.stderr)
        sys.exit(1)
