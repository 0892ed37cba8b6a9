"""Regenerate the bundled sample reports in samples/ (python scripts/make_samples.py).

The samples are synthetic reports of fictional agencies (示例…), rendered in the formats real
reports are published in, each carrying the kind of error real reports have, so that
`xxgk check samples/*` shows what the checks find. Their data is made up.
"""

from __future__ import annotations

import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
OUT = ROOT / "samples"
sys.path.insert(0, str(ROOT))

from xxgk.render import render, synthetic_spec  # noqa: E402


def _replace_in_body(spec, old: str, new: str) -> None:
    for i, item in enumerate(spec.body):
        if isinstance(item, str) and old in item:
            spec.body[i] = item.replace(old, new)
            return
    raise ValueError(f"{old!r} not in the body")


def samples() -> dict[str, bytes]:
    out: dict[str, bytes] = {}

    # 1. A clean report on a CMS page: no findings.
    clean = synthetic_spec(1, year=2021, agency="示例市东城区人力资源和社会保障局")
    out["2021_东城区人社局_cms.html"] = render(clean, "cms_html")

    # 2. Word-exported HTML whose （七）总计 disagrees with the rows above it and breaks the balance.
    spec = synthetic_spec(2, year=2021, agency="示例县人民政府")
    row = spec.applications["handled_total"]
    row["natural"] = (row["natural"] or 0) + 1
    row["total"] = (row["total"] or 0) + 1
    out["2021_示例县政府_word.htm"] = render(spec, "word_html")

    # 3. A .docx from a county department: blank 总计, a "00", and 规章 it cannot make.
    spec = synthetic_spec(3, year=2022, agency="示例市南山区市场监督管理局")
    spec.applications["new"]["total"] = None
    spec.applications["withheld_third_party"]["total"] = "00"
    spec.proactive["regulations"]["issued"] = 1
    spec.proactive["regulations"]["in_force"] = 3
    out["2022_南山区市场监管局.docx"] = render(spec, "docx")

    # 4. A PDF of a 2023 report on the 2019 template, with last year's improvement plan.
    spec = synthetic_spec(4, template="2019", year=2023, agency="示例市北湖区教育局")
    _replace_in_body(spec, "2024年", "2023年")
    out["2023_北湖区教育局.pdf"] = render(spec, "pdf")

    # 5. Plain text (a table copied out of Word): the prose contradicts the table, and a
    #    template placeholder was never filled in.
    spec = synthetic_spec(5, year=2021, agency="示例市西城区民政局")
    new = spec.applications["new"]["total"] or 0
    for i, item in enumerate(spec.body):
        if isinstance(item, str) and f"申请{new}件" in item:
            spec.body[i] = item.replace(f"申请{new}件", f"申请{new + 3}件", 1)
            break
    else:
        raise ValueError("no sentence states the number of applications")
    spec.body.insert(2, "本机关政府信息公开指南详见门户网站（具体网址）。")
    out["2021_西城区民政局.txt"] = render(spec, "flat_text")
    return out


def main() -> None:
    for name, data in samples().items():
        (OUT / name).write_bytes(data)
        print(f"wrote samples/{name} ({len(data) // 1024} KB)")


if __name__ == "__main__":
    main()
