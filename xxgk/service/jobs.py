"""The job functions, as the job store refers to them ("xxgk.service.jobs:crawl"): small and
stable, their arguments plain data, the work done by the running service (xxgk.service.runtime).
Renaming one of these orphans the stored jobs that name it (they are dropped at the next start).
"""

from __future__ import annotations

from xxgk.service import runtime


async def crawl(group: str) -> None:
    """A crawl job: the sites of a cadence group (xxgk.service.plan.crawl_groups), as configured now."""
    await runtime.current().run_job(group, runtime.current().crawl_group, group)


async def crawl_sites(sites: list[str]) -> None:
    """A one-shot crawl of named sites (at start: new sites, crawls cut short)."""
    await runtime.current().run_job("crawl:start", runtime.current().crawl_names, sites)


async def sweep() -> None:
    """The deadline sweep of the latest report years, then the immediate alerts it raised."""
    await runtime.current().run_job("sweep", runtime.current().scheduled_sweep)


async def digest() -> None:
    """The daily digest."""
    await runtime.current().run_job("digest", runtime.current().deliver, True)


async def retry() -> None:
    """Alerts waiting to be sent: new ones, failed ones, a digest that failed."""
    await runtime.current().run_job("retry", runtime.current().retry)
