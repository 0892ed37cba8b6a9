"""scraper.store_job's retries when workers save at once: a lost race on a unique row is saved
again at once (the winner has committed), a locked database after a pause."""

from __future__ import annotations

import pytest
from sqlalchemy.exc import IntegrityError, OperationalError

from scraper import store_job
from scraper.store_job import JobOutcome


@pytest.mark.parametrize("error,pauses", [
    (IntegrityError("INSERT INTO agency", {}, Exception("UNIQUE constraint failed: agency.name")), []),
    (OperationalError("INSERT INTO report", {}, Exception("database is locked")), [0.05, 0.1]),
])
def test_a_failed_save_is_repeated(monkeypatch, error, pauses) -> None:
    calls: list[int] = []
    slept: list[float] = []

    def save(job, report, engine, registered):
        calls.append(1)
        if len(calls) < 3:
            raise error
        return JobOutcome(job, "new")

    monkeypatch.setattr(store_job, "_save", save)
    monkeypatch.setattr(store_job.time, "sleep", slept.append)
    assert store_job.store_checked("u", None, None) == JobOutcome("u", "new")  # type: ignore[arg-type]
    assert len(calls) == 3 and slept == pauses


def test_a_save_failing_every_time_raises(monkeypatch) -> None:
    def save(job, report, engine, registered):
        raise IntegrityError("INSERT INTO agency", {}, Exception("UNIQUE constraint failed"))

    monkeypatch.setattr(store_job, "_save", save)
    with pytest.raises(IntegrityError):
        store_job.store_checked("u", None, None)  # type: ignore[arg-type]
