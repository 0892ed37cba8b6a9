"""Checking files on disk: read (any format), parse, validate; a bad file is a result, not a crash."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from pathlib import Path

from checks.check import check_document
from checks.document import ReadError
from checks.model import Report
from checks.parse import NotAReport
from checks.readers import load_file, read_bytes


@dataclass(slots=True)
class FileResult:
    path: Path
    report: Report | None = None
    error: str | None = None  # one line, Chinese
    content_hash: str | None = None
    size: int = 0

    @property
    def ok(self) -> bool:
        return self.report is not None


def check_file(path: Path, *, max_bytes: int, soffice: str = "soffice", timeout: float = 120.0,
               read_timeout: float | None = None) -> FileResult:
    """Read, parse and validate one file. `timeout` limits a LibreOffice conversion,
    `read_timeout` reading the file in this process (None: the same as `timeout`) and again
    parsing and validating it; past a limit the file gets an error, not a hang."""
    if not path.exists():
        return FileResult(path, error="文件不存在")
    if path.is_dir():
        return FileResult(path, error="这是一个目录，不是文件")
    try:
        data = load_file(path, max_bytes=max_bytes)  # read once: the hash is of the bytes checked
        doc = read_bytes(data, str(path), soffice=soffice, timeout=timeout, read_timeout=read_timeout)
        report = check_document(doc, time_limit_s=timeout if read_timeout is None else read_timeout)
    except ReadError as exc:
        return FileResult(path, error=exc.reason)
    except NotAReport as exc:
        return FileResult(path, error=str(exc))
    except PermissionError:
        return FileResult(path, error="没有读取权限")
    return FileResult(path, report=report, content_hash=hashlib.sha256(data).hexdigest(), size=len(data))
