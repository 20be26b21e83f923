"""Fixtures shared by several test modules: the real Dask cluster (tests/dask_cluster.py).

And the order in which pytest-xdist hands files to its workers (`--dist loadfile`,
pyproject.toml): the longest file first, so that it runs beside the rest of the suite
instead of alone at its end (test_reproducible.py solves the README's main job twice,
once under a CPU load of its own; measured as the last file standing of a 2-worker run)."""

from __future__ import annotations

import pytest
from dask_cluster import cluster  # noqa: F401 (a fixture, offered to every module)

#: test files that take longest, started first (in this order)
LONGEST_FIRST = ("test_reproducible.py",)


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    def rank(item: pytest.Item) -> int:
        name = item.nodeid.split("::", 1)[0].rsplit("/", 1)[-1]
        return LONGEST_FIRST.index(name) if name in LONGEST_FIRST else len(LONGEST_FIRST)

    items.sort(key=rank)  # stable: every other test keeps its place
