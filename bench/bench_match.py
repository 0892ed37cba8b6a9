"""Agency matching at national scale: build the matcher over 150,000 registered agencies, then
time `AgencyMatcher.match` per kind of name a report gives.

    python bench/bench_match.py            # 150,000 agencies, 2,000 names per kind
    python bench/bench_match.py --quick    # 20,000 agencies, 300 names per kind

The registry is synthetic and deterministic: 31 provinces × 10 cities × 10 counties, each county
with its government and ~44 departments, each city and province with its own; place names are
made up (and repeat across provinces, as 鼓楼区 does), and the districts carry the aliases
reports use (「区人力社保局」). Names to match are drawn with a fixed seed. Target: well under
5 ms per match (p95).
"""

from __future__ import annotations

import argparse
import gc
import platform
import random
import resource
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from compliance.registry import AgencyMatcher, RegisteredAgency  # noqa: E402

SYLLABLES = ("安", "宝", "昌", "德", "东", "丰", "福", "光", "海", "和", "华", "江", "金", "康", "乐", "临", "龙",
             "茂", "宁", "平", "清", "庆", "瑞", "山", "泰", "天", "通", "文", "西", "祥", "兴", "阳", "永", "元",
             "云", "长", "镇", "中", "州", "顺")
DEPARTMENTS = (
    "发展和改革局", "教育局", "科学技术局", "公安分局", "民政局", "司法局", "财政局", "人力资源和社会保障局",
    "自然资源和规划分局", "生态环境分局", "住房和城乡建设局", "交通运输局", "水利局", "农业农村局", "商务局",
    "文化广电旅游体育局", "卫生健康局", "退役军人事务局", "应急管理局", "审计局", "市场监督管理局", "统计局",
    "医疗保障局", "综合行政执法局", "机关事务管理局", "信访局", "大数据发展管理局", "档案馆", "地方志办公室",
    "人民政府办公室", "经济和信息化局", "林业局", "粮食和物资储备局", "人民防空办公室", "投资促进中心",
    "城市管理局", "行政审批局", "民族宗教事务局", "外事办公室", "金融工作服务中心", "供销合作社联合社",
    "残疾人联合会", "科学技术协会", "公共资源交易中心",
)
ABBREVIATIONS = {"人力资源和社会保障局": "人社局", "发展和改革局": "发改局", "住房和城乡建设局": "住建局",
                 "市场监督管理局": "市场监管局", "卫生健康局": "卫健局", "经济和信息化局": "经信局"}


def place(i: int, length: int = 2) -> str:
    """A made-up place name, deterministic in i."""
    out = ""
    for _ in range(length):
        out += SYLLABLES[i % len(SYLLABLES)]
        i //= len(SYLLABLES)
    return out


def registry(target: int) -> list[RegisteredAgency]:
    """About `target` agencies (150,000 for 31 provinces), with codes and full region names."""
    provinces = max(1, round(31 * target / 150_000))
    agencies: list[RegisteredAgency] = []
    next_id = 1

    def add(name: str, code: str, region: str, aliases: tuple[str, ...] = ()) -> None:
        nonlocal next_id
        agencies.append(RegisteredAgency(next_id, name, code, region, aliases))
        next_id += 1

    for p in range(provinces):
        pname = place(p * 7 + 3) + "省"
        pcode = f"{11 + p:02d}0000"
        add(pname + "人民政府", pcode, pname)
        for d in DEPARTMENTS[:30]:
            add(pname + d.replace("分局", "厅").replace("局", "厅"), pcode, pname)
        for c in range(1, 11):
            cname = place(p * 131 + c * 17 + 5) + "市"
            ccode = f"{11 + p:02d}{c:02d}00"
            cregion = pname + cname
            add(cname + "人民政府", ccode, cregion)
            for d in DEPARTMENTS[:30]:
                add(cname + d, ccode, cregion)
            for k in range(1, 11):
                # County names repeat across provinces (every province's first city has 鼓楼区).
                suffix = "区" if k <= 4 else "县"
                kname = "鼓楼区" if (c, k) == (1, 1) else place((p % 3) * 1000 + c * 37 + k * 11 + 2) + suffix
                kcode = f"{11 + p:02d}{c:02d}{k:02d}"
                kregion = cregion + kname
                word = kname[-1]
                add(cname + kname + "人民政府", kcode, kregion, (f"{kname}政府", f"{word}政府"))
                for d in DEPARTMENTS:
                    aliases = (f"{word}{ABBREVIATIONS[d]}",) if d in ABBREVIATIONS else ()
                    add(cname + kname + d, kcode, kregion, aliases)
    return agencies


def queries(agencies: list[RegisteredAgency], per_kind: int, rng: random.Random) -> dict[str, list]:
    counties = [a for a in agencies if a.region_code and not a.region_code.endswith("00")]
    out: dict[str, list] = {k: [] for k in ("exact, no region", "exact, site region", "alias 区人社局",
                                            "district + abbreviation", "typo or （本级） note", "unknown name",
                                            "short name, no region")}
    for _ in range(per_kind):
        a = rng.choice(agencies)
        out["exact, no region"].append((a.name, None, a.id))
        out["exact, site region"].append((a.name, a.region_code, a.id))
        c = rng.choice(counties)
        county = c.region_name[-3:]  # the district's own name
        body = c.name.split(county, 1)[1]
        word = county[-1]
        short = ABBREVIATIONS.get(body, body)
        out["alias 区人社局"].append((word + short, c.region_code, c.id))
        out["district + abbreviation"].append((county + short, c.region_code, c.id))
        if len(body) >= 5:
            i = rng.randrange(1, len(body) - 1)
            typo = body[:i] + "务" + body[i + 1:] if body[i] != "务" else body[:i] + "物" + body[i + 1:]
        else:
            typo = body + "（本级）"
        out["typo or （本级） note"].append((c.name.split(county, 1)[0] + county + typo, c.region_code, c.id))
        out["unknown name"].append((county + "某某研究院", c.region_code, None))
        out["short name, no region"].append((word + short, None, None))
    return out


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--quick", action="store_true")
    args = ap.parse_args()
    target, per_kind = (20_000, 300) if args.quick else (150_000, 2_000)

    t0 = time.perf_counter()
    agencies = registry(target)
    t1 = time.perf_counter()
    matcher = AgencyMatcher(agencies)
    t2 = time.perf_counter()
    # A long-running worker builds the matcher once; freezing what exists then keeps the
    # collector from walking its ~1M objects again in the middle of a match.
    gc.collect()
    gc.freeze()
    rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(f"Python {platform.python_version()} on {platform.machine()}, {platform.system()}")
    print(f"{len(agencies):,} registered agencies ({sum(len(a.aliases) for a in agencies):,} aliases); "
          f"generated in {t1 - t0:.1f} s, matcher built in {t2 - t1:.1f} s; peak RSS {rss:.0f} MB\n")

    rng = random.Random(20261123)
    print("| names | n | p50 ms | p95 ms | max ms | found the intended agency |")
    print("|---|---|---|---|---|---|")
    every: list[float] = []
    for kind, items in queries(agencies, per_kind, rng).items():
        times: list[float] = []
        right = 0
        for name, region, expected in items:
            start = time.perf_counter()
            got = matcher.match(name, region)
            times.append((time.perf_counter() - start) * 1000)
            got_id = got.agency_id if got else None
            right += got_id == expected
        every.extend(times)
        times.sort()
        p50, p95 = statistics.median(times), times[int(len(times) * 0.95)]
        share = right / len(items)
        print(f"| {kind} | {len(times)} | {p50:.3f} | {p95:.3f} | {times[-1]:.2f} | {share:.1%} |")
    every.sort()
    p50, p95 = statistics.median(every), every[int(len(every) * 0.95)]
    print(f"| **all** | {len(every)} | {p50:.3f} | {p95:.3f} | {every[-1]:.2f} | |")


if __name__ == "__main__":
    main()
