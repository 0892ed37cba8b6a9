"""What every platform builder shares: published items, their pages, the ground truth and
runtime changes (a new report, a report whose content changes)."""

from __future__ import annotations

import dataclasses
import datetime as dt
import functools
from dataclasses import dataclass, field
from typing import Any, Literal
from urllib.parse import quote

from xxgk.render import ReportSpec

from .content import MIME, rendered, spec_key, with_published
from .model import Fault, ListEntry, Page, ReportTruth, Site, fingerprint

ItemKind = Literal["inline", "attachment", "notice"]


@dataclass(slots=True)
class Attachment:
    path: str  # where it is served (path?query)
    fmt: str  # docx | pdf | doc
    name: str  # the link text / file name shown


@dataclass(slots=True)
class Item:
    """One article of a column: a report (inline or attachment-only) or a notice."""

    title: str
    url: str
    published: dt.datetime
    kind: ItemKind = "inline"
    fmt: str = "cms_html"  # inline: cms_html | word_html; attachment-only: the attachment's fmt
    spec: ReportSpec | None = None
    attachments: list[Attachment] = field(default_factory=list)
    modified: dt.datetime | None = None
    faults: tuple[Fault, ...] = ()
    opts: dict[str, Any] = field(default_factory=dict)  # platform-specific variants

    @property
    def last_modified(self) -> dt.datetime:
        return self.modified or self.published


def attachment_page(spec: ReportSpec, att: Attachment, modified: dt.datetime) -> Page:
    """An attachment, rendered on first request."""
    disposition = f"attachment; filename*=UTF-8''{quote(att.name)}"
    return Page(
        functools.partial(rendered, spec, att.fmt),
        content_type=MIME[att.fmt],
        last_modified=modified,
        headers={"Content-Disposition": disposition},
        key=f"{att.fmt}:{spec_key(spec)}",
        expensive=att.fmt in ("docx", "doc", "pdf"),
    )


class Builder:
    """Base of the platform builders. Subclasses make list pages and article pages."""

    platform = ""

    def __init__(self) -> None:
        self.items: dict[str, Item] = {}
        self._list_keys: set[str] = set()
        self._seq = 0

    # ---- to implement ----

    def list_pages(self, site: Site) -> dict[str, Page]:
        raise NotImplementedError

    def article_bytes(self, site: Site, item: Item) -> bytes:
        raise NotImplementedError

    charset: str | None = "utf-8"  # declared in the Content-Type header of article pages

    def article_page(self, site: Site, item: Item) -> Page:
        """The article page, rendered on first request (from a snapshot of the item)."""
        snapshot = dataclasses.replace(item)
        key = fingerprint(self.platform, item.url, item.kind, item.fmt,
                          spec_key(item.spec) if item.spec is not None else "")
        return Page(functools.partial(self.article_bytes, site, snapshot), charset=self.charset,
                    last_modified=item.last_modified, faults=item.faults, key=key)

    def new_url(self, site: Site, published: dt.datetime) -> str:
        raise NotImplementedError

    # ---- shared ----

    def ordered(self, site: Site) -> list[ListEntry]:
        """Pinned rows first, then newest first (a stable sort: equal dates keep their order)."""
        return sorted(site.entries, key=lambda e: (not e.pinned, -e.date.toordinal()))

    def rebuild_lists(self, site: Site) -> None:
        pages = self.list_pages(site)
        for key in self._list_keys - set(pages):
            site.pages.pop(key, None)
        site.pages.update(pages)
        self._list_keys = set(pages)

    def pages_for(self, site: Site, item: Item) -> dict[str, Page]:
        pages = {item.url: self.article_page(site, item)}
        if item.spec is not None:
            for att in item.attachments:
                pages[att.path] = attachment_page(item.spec, att, item.last_modified)
        return pages

    def publish(
        self,
        site: Site,
        item: Item,
        *,
        list_title: str | None = None,
        list_date: dt.date | None = None,
        entry_kind: str | None = None,
        pinned: bool = False,
        truth: dict[str, Any] | None = None,
        listed: bool = True,
    ) -> ReportTruth | None:
        """Add the item's pages, its list row (unless not `listed`: a page no list shows, found
        another way) and (for reports) its ground truth."""
        if item.spec is not None:
            item.spec = with_published(item.spec, item.published, item.spec.title)
        self.items[item.url] = item
        site.pages.update(self.pages_for(site, item))
        day = list_date or item.published.date()
        kind = entry_kind or ("other" if item.kind == "notice" else "report")
        if listed:
            site.entries.append(ListEntry(list_title or item.title, item.url, day, kind, pinned))  # type: ignore[arg-type]
        if item.kind == "notice" or item.spec is None or truth is None:
            return None
        spec = item.spec
        document = item.url if item.kind == "inline" else item.attachments[0].path
        duplicates = tuple(a.path for a in item.attachments if a.path != document)
        report = ReportTruth(
            site=site.name,
            title=list_title or item.title,
            url=item.url,
            agency=truth.pop("agency", spec.agency),
            year=spec.year,
            published=item.published,
            kind="inline" if item.kind == "inline" else "attachment",
            fmt=item.fmt,
            document=document,
            spec=spec,
            duplicates=duplicates,
            list_date=day if listed else None,
            **truth,
        )
        site.reports.append(report)
        return report

    def add_report(
        self, site: Site, spec: ReportSpec, *, published: dt.datetime | None, title: str | None
    ) -> ReportTruth:
        from .model import CST

        published = published or dt.datetime.now(CST).replace(tzinfo=None, microsecond=0)
        item = Item(title=title or spec.title or "", url=self.new_url(site, published), published=published,
                    spec=spec)
        truth = self.publish(site, item, truth={"notes": "added at run time"})
        assert truth is not None
        return truth

    def change_report(
        self, site: Site, truth: ReportTruth, spec: ReportSpec, modified: dt.datetime
    ) -> ReportSpec:
        item = self.items[truth.url]
        item.spec = with_published(spec, item.published, spec.title)
        item.modified = modified
        site.pages.update(self.pages_for(site, item))
        return item.spec

    def next_id(self, base: int, step: int = 7) -> int:
        self._seq += 1
        return base + self._seq * step
