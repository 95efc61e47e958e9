"""The installed project must hold every module and every contract file a source checkout has.

pyproject.toml lists its packages by hand (spec/ and fixtures/ are installed under other names), so a
new sub-package that is not listed would work in an editable install and vanish from `pip install .`.
"""

from __future__ import annotations

import tomllib
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def _pyproject() -> dict:
    return tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))


def test_every_python_package_in_the_tree_is_listed() -> None:
    listed = set(_pyproject()["tool"]["setuptools"]["packages"])
    in_tree = {
        ".".join(init.parent.relative_to(ROOT).parts)
        for top in ("conformance", "reference_impl")
        for init in (ROOT / top).rglob("__init__.py")
    }
    assert in_tree - listed == set(), "add these to [tool.setuptools] packages in pyproject.toml"


def test_package_data_covers_every_non_python_file() -> None:
    config = _pyproject()["tool"]["setuptools"]
    folders = {package: package for package in ("conformance", "reference_impl")} | config["package-dir"]
    for package, folder in folders.items():
        patterns = config["package-data"].get(package, [])
        for path in (ROOT / folder).rglob("*"):
            if path.is_dir() or path.suffix == ".py" or "__pycache__" in path.parts:
                continue
            relative = path.relative_to(ROOT / folder)
            assert any(relative.match(pattern) for pattern in patterns), f"{folder}/{relative} is not package data"
