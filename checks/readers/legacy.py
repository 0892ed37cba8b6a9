"""Legacy Word (.doc), WPS (.wps) and RTF reports: converted to .docx by LibreOffice.

Each conversion runs `soffice --headless --convert-to docx` in a private temporary
directory with its own LibreOffice profile (`-env:UserInstallation=…`), so parallel
conversions do not fight over one profile, and everything is removed afterwards. On timeout
the whole process group that was started is killed (soffice forks soffice.bin).
"""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import tempfile
from pathlib import Path

from checks.budget import time_limit, timeout_reason
from checks.document import Document, ReadError
from checks.readers.docx import read_docx

MISSING_SOFFICE = (
    "读取 .doc/.wps 文件需要 LibreOffice（未找到 soffice 命令）；请安装 LibreOffice，"
    "或把文件另存为 .docx/.pdf 后再检查"
)

_LABEL = {"doc": ".doc", "wps": ".wps", "rtf": ".rtf"}


def find_soffice(soffice: str) -> str | None:
    """The soffice executable's path, or None if it is not installed/executable."""
    return shutil.which(soffice)


def convert_to_docx(data: bytes, suffix: str, *, soffice: str = "soffice", timeout: float = 120.0) -> bytes:
    """Convert a file LibreOffice can open (given its bytes and a suffix such as ".doc") to
    .docx bytes. Raises ReadError when soffice is missing, fails or times out."""
    exe = find_soffice(soffice)
    if exe is None:
        raise ReadError(MISSING_SOFFICE, retryable=True)
    with tempfile.TemporaryDirectory(prefix="xxgk-soffice-") as tmp:
        work = Path(tmp)
        src = work / f"input{suffix}"
        out_dir = work / "out"
        profile = work / "profile"
        out_dir.mkdir()
        src.write_bytes(data)
        cmd = [
            exe,
            f"-env:UserInstallation={profile.as_uri()}",
            "--headless",
            "--invisible",
            "--nologo",
            "--nodefault",
            "--nolockcheck",
            "--norestore",
            "--convert-to",
            "docx:MS Word 2007 XML",
            "--outdir",
            str(out_dir),
            str(src),
        ]
        env = dict(os.environ, HOME=str(work))  # LibreOffice writes under $HOME even with a profile
        _run(cmd, env=env, timeout=timeout)
        produced = out_dir / "input.docx"
        if not produced.is_file() or produced.stat().st_size == 0:
            raise ReadError(f"LibreOffice 无法转换此{_kind(suffix)}文件（文件可能已损坏或格式不受支持）")
        return produced.read_bytes()


def _run(cmd: list[str], *, env: dict[str, str], timeout: float) -> None:
    try:
        proc = subprocess.Popen(
            cmd,
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            env=env,
            start_new_session=True,  # its own process group, so a timeout can end all of it
        )
    except OSError as exc:
        raise ReadError(f"无法启动 LibreOffice（{exc.strerror or exc}）", retryable=True) from None
    try:
        proc.communicate(timeout=timeout)
    except subprocess.TimeoutExpired:
        _kill_group(proc)
        raise ReadError(f"LibreOffice 转换超时（超过 {timeout:g} 秒），文件可能已损坏或过于复杂", retryable=True) from None
    finally:
        if proc.poll() is None:
            _kill_group(proc)


def _kill_group(proc: subprocess.Popen) -> None:
    try:
        os.killpg(proc.pid, signal.SIGKILL)
    except (ProcessLookupError, PermissionError):
        pass
    try:
        proc.communicate(timeout=10)
    except subprocess.TimeoutExpired:
        pass


def _kind(suffix: str) -> str:
    return {".doc": " .doc ", ".wps": " .wps ", ".rtf": " RTF "}.get(suffix, "")


def read_legacy(
    data: bytes,
    source: str,
    fmt: str,
    *,
    soffice: str = "soffice",
    timeout: float = 120.0,
    suffix: str | None = None,
    read_timeout: float | None = None,
) -> Document:
    """Read a .doc/.wps/.rtf file by converting it to .docx. `fmt` ("doc" or "wps") is the
    Document.format reported; `suffix` is the file name suffix LibreOffice should see.
    `timeout` limits the conversion, `read_timeout` the reading of its output."""
    converted = convert_to_docx(data, suffix or _LABEL.get(fmt, ".doc"), soffice=soffice, timeout=timeout)
    try:
        with time_limit(read_timeout, timeout_reason(read_timeout or 0)):
            return read_docx(converted, source, fmt=fmt)
    except ReadError as exc:
        if "没有文字内容" in exc.reason:
            raise ReadError(f"{_LABEL.get(fmt, '.doc')} 文件中没有文字内容") from None
        raise ReadError(f"LibreOffice 转换后的文件无法读取（{exc.reason}）") from None
