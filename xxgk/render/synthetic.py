"""Plausible random reports whose data is internally consistent and whose prose agrees
with the tables: test and demo material whose correct reading is known."""

from __future__ import annotations

import random
from collections import Counter

from checks.template import (
    APPLICANT_PARTS,
    RESULT_ROWS,
    REVIEW_COLUMNS,
    REVIEW_ROWS,
    SECTION_NUMERALS,
    SECTION_TITLES,
    TEMPLATE_2019,
    TEMPLATE_2021,
)

from .spec import BodyItem, ReportSpec, TableSlot, TableValues

AGENCIES = (
    "宁波市镇海区人力资源和社会保障局",
    "宁波市江北区住房和城乡建设局",
    "嘉善县人民政府",
    "杭州市西湖区三墩镇人民政府",
    "杭州市萧山区发展和改革局",
    "平湖市市场监督管理局",
    "桐乡市梧桐街道办事处",
    "绍兴市柯桥区自然资源和规划分局",
    "湖州市吴兴区教育局",
    "温州市鹿城区卫生健康局",
    "衢州市柯城区农业农村局",
    "丽水市莲都区民政局",
    "淄博市临淄区司法局",
    "德清县交通运输局",
    "安吉县人民政府",
    "金华市婺城区城市管理局",
)

# Weights of the result rows: most applications are disclosed or "not held".
_RESULT_WEIGHTS = {
    "disclosed": 40,
    "partially_disclosed": 8,
    "withheld_state_secret": 0.3,
    "withheld_prohibited_by_law": 0.5,
    "withheld_security_stability": 0.3,
    "withheld_third_party": 1.5,
    "withheld_internal_affairs": 1.5,
    "withheld_process_info": 2,
    "withheld_enforcement_file": 1,
    "withheld_query_item": 1,
    "unavailable_not_held": 22,
    "unavailable_needs_creation": 4,
    "unavailable_unclear": 2,
    "rejected_petition": 4,
    "rejected_duplicate": 4,
    "rejected_publication": 1,
    "rejected_excessive": 1,
    "rejected_confirmation": 1.5,
    "other_overdue_correction": 2,
    "other_overdue_fee": 0.3,
    "other_misc": 3,
    "other_processing": 5,
}


# ---- who is reporting -------------------------------------------------------------------


def self_reference(agency: str) -> str:
    """How the report names its author: 我局, 我县, 我镇 …"""
    if agency.endswith("人民政府"):
        for unit in ("镇", "乡", "县", "区", "市"):
            if agency[: -len("人民政府")].endswith(unit):
                return f"我{unit}"
        return "本机关"
    for suffix, ref in (("街道办事处", "我街道"), ("分局", "我局"), ("局", "我局"), ("委员会", "我委"), ("办公室", "我办")):
        if agency.endswith(suffix):
            return ref
    return "本机关"


# ---- data ----------------------------------------------------------------------------


def _columns_total(row: dict[str, int]) -> dict[str, int]:
    return {**row, "total": sum(row[c] for c in APPLICANT_PARTS)}


def _new_applications(rng: random.Random, heavy: bool) -> dict[str, int]:
    if not heavy:  # mostly nothing, a few from natural persons
        few, rare = (0, 0, 0, 1, 1, 2, 3, 5), (0,) * 9 + (1,)
        return {c: rng.choice(few if c == "natural" else rare) for c in APPLICANT_PARTS}
    return {
        "natural": rng.randint(20, 320),
        "commercial": rng.randint(0, 45),
        "research": rng.choice((0, 0, 0, 1, 2)),
        "nonprofit": rng.choice((0, 0, 0, 1)),
        "legal_service": rng.randint(0, 18),
        "other_org": rng.randint(0, 6),
    }


def _split(rng: random.Random, n: int, keys: tuple[str, ...]) -> Counter[str]:
    weights = [_RESULT_WEIGHTS[k] for k in keys]
    return Counter(rng.choices(keys, weights, k=n)) if n else Counter()


def synthetic_applications(rng: random.Random, template: str, heavy: bool,
                           previous: TableValues | None = None) -> TableValues:
    """Section 三 satisfying every arithmetic rule of the template, per column. After `previous`
    (last year's section 三), new applications stay within ±40% of last year's and 上年结转 is
    last year's 结转下年度继续办理, as in a real series of reports."""
    new = _new_applications(rng, heavy)
    if previous is not None:
        new = {c: max(0, round((previous["new"][c] or 0) * rng.uniform(0.7, 1.4))) if heavy else new[c]
               for c in APPLICANT_PARTS}
        carried_over = {c: int(previous["carried_forward"][c] or 0) for c in APPLICANT_PARTS}
    else:
        carried_over = {
            c: (rng.randint(0, max(1, new[c] // 12)) if heavy and new[c] else 0) for c in APPLICANT_PARTS
        }
    available = {c: new[c] + carried_over[c] for c in APPLICANT_PARTS}
    forward = {c: (rng.randint(0, available[c] // 10) if heavy else 0) for c in APPLICANT_PARTS}
    result_keys = RESULT_ROWS[template]
    per_column = {c: _split(rng, available[c] - forward[c], result_keys) for c in APPLICANT_PARTS}
    data: TableValues = {
        "new": _columns_total(new),
        "carried_over": _columns_total(carried_over),
    }
    for key in result_keys:
        data[key] = _columns_total({c: per_column[c][key] for c in APPLICANT_PARTS})
    data["handled_total"] = _columns_total({c: available[c] - forward[c] for c in APPLICANT_PARTS})
    data["carried_forward"] = _columns_total(forward)
    return data


def synthetic_review(rng: random.Random, heavy: bool) -> TableValues:
    data: TableValues = {}
    for row in REVIEW_ROWS:
        if heavy and row != "litigation_after_review":
            choices = ((0, 0, 1, 2, 3, 5), (0, 0, 0, 1), (0, 0, 1), (0, 0, 1, 2))
            counts = [rng.choice(options) for options in choices]
        else:
            counts = [rng.choice((0,) * 8 + (1,)), 0, 0, 0]
        values: dict[str, int | float | str | None] = dict(zip(REVIEW_COLUMNS[:-1], counts))
        values["total"] = sum(counts)
        data[row] = values
    return data


def synthetic_proactive(rng: random.Random, template: str, government: bool) -> TableValues:
    if template == TEMPLATE_2021:
        issued = rng.randint(0, 12 if government else 4)
        in_force = rng.randint(issued, issued + 60)
        return {
            "regulations": {"issued": 0, "repealed": 0, "in_force": 0},
            "normative_documents": {"issued": issued, "repealed": rng.randint(0, 5), "in_force": in_force},
            "licensing": {"decisions": rng.choice((0, rng.randint(1, 200), rng.randint(200, 9000)))},
            "punishment": {"decisions": rng.choice((0, rng.randint(1, 60), rng.randint(60, 800)))},
            "enforcement": {"decisions": rng.choice((0, 0, rng.randint(1, 40)))},
            "fees": {"amount_wan_yuan": rng.choice((0, round(rng.uniform(0.5, 5000), 2)))},
        }
    made = rng.randint(0, 10)
    rows: TableValues = {
        "regulations": {"made": 0, "published": 0, "total_published": 0},
        "normative_documents": {
            "made": made,
            "published": made,
            "total_published": made + rng.randint(0, 40),
        },
    }
    for key in ("licensing", "other_services", "punishment", "enforcement"):
        rows[key] = {
            "items_last_year": rng.randint(0, 300),
            "items_change": rng.randint(-15, 15),
            "decisions": rng.randint(0, 5000),
        }
    rows["fees"] = {"items_last_year": rng.randint(0, 12), "items_change": rng.choice((0, 0, -1, 1))}
    rows["procurement"] = {"items": rng.randint(0, 80), "amount_wan_yuan": round(rng.uniform(0, 3000), 2)}
    return rows


# ---- prose ---------------------------------------------------------------------------

_INTRO = (
    "本报告根据《中华人民共和国政府信息公开条例》（以下简称《条例》）和《国务院办公厅政府信息与政务公开办公室关于印发〈中华人民共和国政府信息公开工作年度报告格式〉的通知》要求编制。"
    "全文包括总体情况、主动公开政府信息情况、收到和处理政府信息公开申请情况、政府信息公开行政复议和行政诉讼情况、存在的主要问题及改进情况、其他需要报告的事项。"
    "本报告所列数据的统计期限自{year}年1月1日起至{year}年12月31日止。"
)
_OVERVIEW = (
    "{year}年，{me}坚持以习近平新时代中国特色社会主义思想为指导，认真贯彻落实《条例》和上级关于政务公开工作的部署要求，"
    "坚持“公开为常态、不公开为例外”，围绕中心工作，持续深化重点领域信息公开，不断提升政务公开质量和实效。"
)
_MANAGEMENT = (
    "严格落实政府信息公开保密审查制度，坚持“先审查、后公开”和“一事一审”，对拟公开信息的准确性、时效性、涉密性进行审查。",
    "及时对主动公开基本目录进行动态调整，对已公开的政策文件开展清理，标注有效性，确保公开信息准确有效。",
    "规范政府信息发布流程，明确信息采集、审核、发布各环节责任，全年未发生信息发布失误。",
)
_PLATFORM = (
    "以政府门户网站信息公开专栏为第一平台，同步通过政务微信公众号发布工作动态和政策解读，拓宽公开渠道。",
    "优化信息公开专栏设置，完善“法定主动公开内容”和“重点领域信息公开”栏目，做到应公开尽公开。",
    "加强政务新媒体管理，定期开展自查，确保内容更新及时、信息准确。",
)
_SUPERVISION = (
    "调整政务公开工作领导小组，明确分管领导和具体工作人员，将政务公开工作纳入年度目标考核。",
    "组织政务公开业务培训{n}次，提升工作人员依法公开意识和业务水平。",
    "全年未发生因政务公开工作不到位引起的责任追究情况。",
)
_PROBLEMS = (
    "部分栏目信息更新不够及时，公开内容的全面性有待提高。",
    "政策解读形式较为单一，图解、视频等多样化解读运用不足。",
    "工作人员业务能力有待加强，对依申请公开答复的规范性把握不够。",
    "重点领域信息公开的深度和广度还需进一步拓展。",
)
_IMPROVEMENTS = (
    "加强栏目日常维护，建立信息更新提醒机制，确保信息发布及时、准确、全面",
    "丰富政策解读形式，综合运用图文、视频等方式，提高政策解读的可读性",
    "加强业务培训，提升依申请公开办理质量，严格依法依规答复",
    "围绕群众关切，深化重点领域信息公开，主动回应社会关切",
)


def _applications_prose(year: int, me: str, apps: TableValues, rng: random.Random) -> str:
    new = apps["new"]["total"]
    if new == 0 and rng.random() < 0.5:
        return f"{year}年，{me}未收到政府信息公开申请。"
    text = f"{year}年，{me}共收到政府信息公开申请{new}件"
    carried = apps["carried_over"]["total"]
    text += f"，上年结转{carried}件。" if carried else "。"
    if new or carried:
        text += (
            f"本年度办结{apps['handled_total']['total']}件，其中予以公开{apps['disclosed']['total']}件，"
            f"部分公开{apps['partially_disclosed']['total']}件；"
            f"结转下年度继续办理{apps['carried_forward']['total']}件。"
        )
    return text


def _review_prose(me: str, review: TableValues) -> str:
    reviews = review["review"]["total"]
    suits = review["litigation_direct"]["total"] + review["litigation_after_review"]["total"]  # type: ignore
    if not reviews and not suits:
        return f"本年度{me}未发生因政府信息公开引起的行政复议、行政诉讼案件。"
    return f"本年度{me}因政府信息公开被申请行政复议{reviews}件，被提起行政诉讼{suits}件。"


def _proactive_prose(
    year: int, me: str, rng: random.Random, template: str, proactive: TableValues
) -> list[str]:
    count = rng.randint(40, 900)
    docs = proactive["normative_documents"]["issued" if template == TEMPLATE_2021 else "made"]
    return [
        "（一）主动公开情况",
        f"{year}年，{me}通过政府信息公开网站主动公开政府信息{count}条，其中政策文件{rng.randint(1, 20)}条，"
        f"工作动态{rng.randint(10, 300)}条。全年制发行政规范性文件{docs}件，均按要求在政府信息公开平台公开并同步开展政策解读。",
    ]


def _section(numeral: str) -> str:
    return f"{numeral}、{SECTION_TITLES[numeral]}"


def synthetic_body(
    rng: random.Random, agency: str, year: int, template: str, data: dict[str, TableValues]
) -> list[BodyItem]:
    me = self_reference(agency)
    one, two, three, four, five, six = SECTION_NUMERALS
    fee = rng.choice((0, 0, 0, rng.randint(50, 5000)))
    fee_text = f"本年度{me}共收取信息处理费{fee}元。" if fee else f"本年度{me}未收取信息处理费。"
    improvements = rng.sample(_IMPROVEMENTS, 2)
    return [
        _INTRO.format(year=year),
        _section(one),
        _OVERVIEW.format(year=year, me=me),
        *_proactive_prose(year, me, rng, template, data["proactive"]),
        "（二）依申请公开情况",
        _applications_prose(year, me, data["applications"], rng),
        "（三）政府信息管理情况",
        rng.choice(_MANAGEMENT),
        "（四）政府信息公开平台建设情况",
        rng.choice(_PLATFORM),
        "（五）监督保障情况",
        rng.choice(_SUPERVISION).format(n=rng.randint(1, 4)),
        _section(two),
        TableSlot("proactive"),
        _section(three),
        TableSlot("applications"),
        _section(four),
        _review_prose(me, data["review_litigation"]),
        TableSlot("review_litigation"),
        _section(five),
        f"{year}年，{me}政府信息公开工作取得了一定成效，但仍存在一些不足：" + "".join(rng.sample(_PROBLEMS, 2)),
        f"{year + 1}年，{me}将{improvements[0]}；{improvements[1]}。",
        _section(six),
        fee_text,
    ]


# ---- entry point -----------------------------------------------------------------------


def synthetic_spec(
    seed: int, *, template: str = TEMPLATE_2021, year: int = 2021, agency: str | None = None,
    previous: ReportSpec | None = None,
) -> ReportSpec:
    """A random, internally consistent report; the same seed gives the same report. Given
    `previous` (the agency's report of the year before), the series is consistent too: carried-over
    applications match and key figures move within a plausible range."""
    if template not in (TEMPLATE_2019, TEMPLATE_2021):
        raise ValueError(f"template must be '2019' or '2021', not {template!r}")
    rng = random.Random(f"{seed}:{template}:{year}:{agency}")
    agency = agency or rng.choice(AGENCIES)
    heavy = rng.random() < 0.5
    if previous is not None:
        heavy = (previous.applications["new"]["natural"] or 0) >= 20  # busy agencies stay busy
    proactive = synthetic_proactive(rng, template, agency.endswith("人民政府"))
    if previous is not None:
        for key in ("licensing", "punishment", "enforcement"):
            before = (previous.proactive.get(key) or {}).get("decisions")
            if key in proactive and before is not None:
                proactive[key] = {**proactive[key], "decisions": round(before * rng.uniform(0.8, 1.25))}
    data = {
        "proactive": proactive,
        "applications": synthetic_applications(
            rng, template, heavy, previous.applications if previous is not None else None),
        "review_litigation": synthetic_review(rng, heavy),
    }
    body = synthetic_body(rng, agency, year, template, data)
    return ReportSpec(
        agency=agency, year=year, template=template, body=body, **data  # type: ignore[arg-type]
    )
