"""The package's public surface and its independence from the rest of the project."""

from __future__ import annotations

import ast
from pathlib import Path

import iterable_sync.iterable as package

PACKAGE_DIR = Path(package.__file__).parent


def test_all_is_sorted_unique_and_importable() -> None:
    names = package.__all__

    # Constants first, then classes, each alphabetically (ruff's RUF022 order).
    assert names == sorted(names, key=lambda n: (not n.isupper(), n))
    assert len(set(names)) == len(names)
    assert all(hasattr(package, name) for name in names)


def test_the_package_imports_nothing_from_dagster_or_the_rest_of_the_project() -> None:
    imported: set[str] = set()
    for source in PACKAGE_DIR.glob("*.py"):
        for node in ast.walk(ast.parse(source.read_text())):
            if isinstance(node, ast.Import):
                imported.update(alias.name for alias in node.names)
            elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
                imported.add(node.module)

    assert not {m for m in imported if m.split(".")[0] == "dagster"}
    assert not {m for m in imported if m.startswith("iterable_sync")}


def test_the_package_ships_type_information() -> None:
    assert (PACKAGE_DIR / "py.typed").is_file()


def test_exceptions_follow_their_documented_tree() -> None:
    tree = {
        package.PayloadError: package.IterableError,
        package.BatchLimitError: package.PayloadError,
        package.TransportError: package.IterableError,
        package.UnexpectedResponseError: package.IterableError,
        package.APIError: package.IterableError,
        package.AuthError: package.APIError,
        package.BadRequestError: package.APIError,
        package.FieldTypeMismatchError: package.BadRequestError,
        package.BadJsonBodyError: package.BadRequestError,
        package.BatchTooLargeError: package.BadRequestError,
        package.NotFoundError: package.APIError,
        package.ConflictError: package.APIError,
        package.RateLimitedError: package.APIError,
        package.ServerError: package.APIError,
    }

    assert {cls: cls.__bases__[0] for cls in tree} == tree
    assert issubclass(package.PayloadError, ValueError)
