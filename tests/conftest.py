"""Shared fixtures: where the shared corpus lives, the seeds as (text, expected) pairs, and a
migrated store per test (SQLite, or PostgreSQL when XXGK_TEST_DATABASE_URL names a server: see
tests/databases.py)."""

from __future__ import annotations

import json
import os
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy.engine import Engine

from db.engine import make_engine, upgrade
from databases import drop_database, drop_template, new_database_url

REPO = Path(__file__).resolve().parent.parent
SHARED = Path(os.environ.get("XXGK_SHARED", REPO.parent / "shared"))
SEEDS = sorted((SHARED / "corpus" / "seeds").glob("*.txt"))


def expected_for(seed: Path) -> dict:
    return json.loads((SHARED / "corpus" / "expected" / (seed.stem + ".json")).read_text(encoding="utf-8"))


@pytest.fixture(params=SEEDS, ids=lambda p: p.stem[:3])
def seed(request) -> Path:
    return request.param


def assert_matches(expected, got, path: str = "") -> None:
    """Every key present in `expected` must be in `got` with an equal value (extra keys allowed)."""
    if isinstance(expected, dict):
        assert isinstance(got, dict), f"{path}: expected an object, got {got!r}"
        for key, value in expected.items():
            assert key in got, f"{path}/{key} missing"
            assert_matches(value, got[key], f"{path}/{key}")
    else:
        assert got == expected, f"{path}: expected {expected!r}, got {got!r}"


# ---- a migrated store per test (test_db, test_registry, test_compliance) ----

@pytest.fixture
def db_url(tmp_path: Path) -> Iterator[str]:
    url = new_database_url(tmp_path)
    yield url
    drop_database(url)


@pytest.fixture
def blank_db_url(tmp_path: Path) -> Iterator[str]:
    """A store with no schema at all (for the migration tests)."""
    url = new_database_url(tmp_path, migrated=False)
    yield url
    drop_database(url)


@pytest.fixture(scope="session", autouse=True)
def _postgres_template() -> Iterator[None]:
    yield
    drop_template()


@pytest.fixture
def engine(db_url: str) -> Iterator[Engine]:
    upgrade(db_url)
    eng = make_engine(db_url)
    yield eng
    eng.dispose()
