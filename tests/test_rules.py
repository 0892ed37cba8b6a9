"""Every rule has a case where it fires and one where it stays silent.

Cases start from a real, clean seed report (000: 宁波市镇海区人社局 2021, all rules silent) and
change one thing, either in the published text (so parsing is exercised too) or in the parsed
data (for the arithmetic rules, which are pure functions of the data).
"""

from __future__ import annotations

import copy

import pytest

from checks import rules
from checks.check import check_document
from checks.model import Report
from checks.readers.text import read_text
from conftest import SEEDS

CLEAN = SEEDS[0].read_text(encoding="utf-8")  # 000, 2021 template, 2 applications
OLD_TEMPLATE = SEEDS[2].read_text(encoding="utf-8")  # 002, 2020 report on the 2019 template


def check_text(text: str) -> Report:
    return check_document(read_text(text, "case.txt"))


def fired(report: Report, rule: str) -> list:
    return [f for f in report.findings if f.rule == rule]


@pytest.fixture(scope="module")
def clean() -> Report:
    return check_text(CLEAN)


def rerun(report: Report, rule) -> list:
    return list(rule(report))


def test_clean_seed_has_no_findings(clean):
    assert clean.findings == []


# ---- arithmetic rules, on the data ---------------------------------------------------------


def mutated(report: Report, **changes) -> Report:
    r = copy.deepcopy(report)
    for path, value in changes.items():
        section, row, col = path.split("__")
        getattr(r, section)[row][col] = value
    return r


def test_balance_fires_and_names_the_column(clean):
    r = mutated(clean, applications__new__natural=3, applications__new__total=3)
    found = rerun(r, rules.balance)
    assert {f.column for f in found} == {"natural", "total"}
    assert all(f.severity == "error" and "勾稽" in f.message for f in found)
    assert rerun(clean, rules.balance) == []


def test_balance_treats_blank_as_not_reported(clean):
    r = mutated(clean, applications__new__total=None)
    assert [f.column for f in rerun(r, rules.balance)] == []
    # ... but a blank 总计 beside filled cells is itself reported.
    assert [f.rule for f in rerun(r, rules.row_total)] == ["blank_total"]


def test_row_total(clean):
    r = mutated(clean, applications__disclosed__commercial=1)
    found = rerun(r, rules.row_total)
    assert [(f.rule, f.row, f.column) for f in found] == [("row_total", "disclosed", "total")]
    assert "3" in found[0].message and "2" in found[0].message
    assert rerun(clean, rules.row_total) == []


def test_handled_total_fires_even_when_balance_holds(clean):
    # 予以公开 says 1 while （七）总计 still says 2: the balance (2+0 = 2+0) holds.
    r = mutated(clean, applications__disclosed__natural=1, applications__disclosed__total=1)
    assert rerun(r, rules.balance) == []
    found = rerun(r, rules.handled_total)
    assert {f.column for f in found} == {"natural", "total"}
    assert rerun(clean, rules.handled_total) == []


def test_handled_total_skips_columns_with_blank_rows(clean):
    r = mutated(clean, applications__disclosed__natural=None, applications__disclosed__total=1)
    assert {f.column for f in rerun(r, rules.handled_total)} == {"total"}


def test_review_total(clean):
    r = mutated(clean, review_litigation__litigation_direct__upheld=2)
    found = rerun(r, rules.review_total)
    assert [(f.row, f.column) for f in found] == [("litigation_direct", "total")]
    assert rerun(clean, rules.review_total) == []


# ---- cells, through the text -----------------------------------------------------------------

def set_row(text: str, label: str, cells: list[str]) -> str:
    """Rewrite the value cells of the one-cell-per-line row whose last label is `label`."""
    head = f"\t{label}\n"
    start = text.index(head) + len(head)
    end = text.index("\n\n", start)
    return text[:start] + "\n".join(f"\t{c}" for c in cells) + text[end:]


NEW = "一、本年新收政府信息公开申请数量"
NEW_CELLS = ["2", "0", "0", "0", "0", "0", "2"]


def with_research(raw: str) -> str:
    return set_row(CLEAN, NEW, NEW_CELLS[:2] + [raw] + NEW_CELLS[3:])


def test_set_row_round_trips(clean):
    assert check_text(set_row(CLEAN, NEW, NEW_CELLS)).to_json() == clean.to_json()


def test_unreadable_cell():
    r = check_text(with_research("见附件"))
    found = fired(r, "unreadable_cell")
    assert [(f.row, f.column) for f in found] == [("new", "research")]
    assert r.applications["new"]["research"] is None
    assert fired(check_text(CLEAN), "unreadable_cell") == []


@pytest.mark.parametrize("raw,value", [("00", 0), ("1 0", 10), ("-1", -1), ("O", 0)])
def test_suspicious_value(raw, value):
    r = check_text(with_research(raw))
    assert r.applications["new"]["research"] == value
    assert [(f.row, f.column) for f in fired(r, "suspicious_value")] == [("new", "research")]


def test_incomplete_row_dropped_cell():
    r = check_text(set_row(CLEAN, NEW, NEW_CELLS[:2] + NEW_CELLS[3:]))
    assert [f.row for f in fired(r, "incomplete_row")] == ["new"]
    assert r.applications["new"] == dict.fromkeys(r.applications["new"])  # all None, nothing shifted
    assert r.applications["carried_over"]["total"] == 0  # the next row is untouched


def test_incomplete_row_missing_row():
    start = CLEAN.index(f"\t{NEW}")
    r = check_text(CLEAN[:start] + CLEAN[CLEAN.index("\n\n", start) + 2:])
    assert [f.row for f in fired(r, "incomplete_row")] == ["new"]
    assert "缺少" in fired(r, "incomplete_row")[0].message


def test_blank_cells_are_null_not_zero():
    r = check_text(with_research("/"))
    assert r.applications["new"]["research"] is None
    assert fired(r, "unreadable_cell") == [] and fired(r, "incomplete_row") == []


# ---- structure ---------------------------------------------------------------------------------


def test_missing_section():
    start = CLEAN.index("六、其他需要报告的事项")
    r = check_text(CLEAN[:start])
    assert [f.section for f in fired(r, "missing_section")] == ["六"]
    assert "六" not in r.sections
    assert fired(check_text(CLEAN), "missing_section") == []


def test_missing_table_when_table_is_absent():
    start = CLEAN.index("\t（本列数据的勾稽关系")
    end = CLEAN.index("四、政府信息公开行政复议")
    r = check_text(CLEAN[:start] + "[image: table.png]\n\n" + CLEAN[end:])
    assert [f.section for f in fired(r, "missing_table")] == ["三"]
    assert r.applications == {}


def test_template_outdated():
    r = check_text(OLD_TEMPLATE.replace("2020年拱墅区", "2021年拱墅区", 1))
    assert r.template == "2019" and r.year == 2021
    assert len(fired(r, "template_outdated")) == 1
    assert fired(check_text(OLD_TEMPLATE), "template_outdated") == []


# ---- prose ----------------------------------------------------------------------------------------


def test_text_table_mismatch_applications():
    r = check_text(CLEAN.replace("共收到政府信息公开申请2条", "共收到政府信息公开申请5条"))
    found = fired(r, "text_table_mismatch")
    assert len(found) == 1 and "5" in found[0].message and found[0].row == "new"


def test_text_counting_new_plus_carried_over_is_not_a_mismatch():
    text = CLEAN.replace("共收到政府信息公开申请2条", "共收到政府信息公开申请3条（含上年结转1件）")
    text = set_row(text, "二、上年结转政府信息公开申请数量", ["1", "0", "0", "0", "0", "0", "1"])
    text = set_row(text, "四、结转下年度继续办理", ["1", "0", "0", "0", "0", "0", "1"])
    r = check_text(text)
    assert r.applications["carried_over"]["total"] == 1
    assert fired(r, "text_table_mismatch") == []


def test_text_table_mismatch_review_and_proactive():
    text = CLEAN.replace("无因政府信息公开引起的行政复议或诉讼。", "因政府信息公开被申请行政复议2件。")
    text = text.replace("截至2021年底，我局主动公开", "2021年制发行政规范性文件3件。截至2021年底，我局主动公开")
    r = check_text(text)
    found = fired(r, "text_table_mismatch")
    assert {f.row for f in found} == {"review", "normative_documents"}
    assert fired(check_text(CLEAN), "text_table_mismatch") == []


def test_text_stating_no_review_agrees_with_zero_table(clean):
    reviews, litigations = rules.stated_review(clean.text)
    assert [n for n, _ in reviews] == [0] and [n for n, _ in litigations] == [0]
    assert "无因政府信息公开引起的行政复议或诉讼" in reviews[0][1]


def test_stale_text():
    r = check_text(CLEAN.replace("对此，2022年，我局重点加强", "对此，2021年，我局将重点加强"))
    assert len(fired(r, "stale_text")) == 1
    assert fired(check_text(CLEAN), "stale_text") == []


def test_stale_statistics_period():
    text = CLEAN.replace("截至2021年底，我局政府信息公开工作正常运行", "本报告统计期限为2020年1月1日至12月31日")
    assert "统计期限" in fired(check_text(text), "stale_text")[0].message


def test_regulations_not_applicable():
    text = set_row(CLEAN, "规章", ["2", "0", "5"])
    r = check_text(text)  # 宁波市镇海区 … 局: a county-level department
    assert len(fired(r, "regulations_not_applicable")) == 1
    city = text.replace("宁波市镇海区人力资源和社会保障局", "宁波市人民政府", 1)
    assert fired(check_text(city), "regulations_not_applicable") == []


@pytest.mark.parametrize("name,level", [
    ("宁波市镇海区人力资源和社会保障局", "county"), ("嘉善县人民政府", "county"), ("杭州市西湖区三墩镇人民政府", "township"),
    ("拱墅区人力资源和社会保障局", "county"), ("宁波市人民政府", None), ("浙江省人力资源和社会保障厅", None),
    ("广西壮族自治区人民政府", None), ("宁波市北仑区新碶街道办事处", "township"),
])
def test_agency_level(name, level):
    assert rules.agency_level(name) == level


def test_wrong_document_number():
    good = "按照《国务院办公厅政府信息与政务公开办公室关于印发〈中华人民共和国政府信息公开工作年度报告格式〉的通知》（国办公开办函〔2021〕30号）要求编制。"
    bad = good.replace("国办公开办函〔2021〕30号", "国办发〔2021〕30号")
    assert fired(check_text(CLEAN.replace("根据《中华人民共和国", good + "根据《中华人民共和国", 1)), "wrong_document_number") == []
    found = fired(check_text(CLEAN.replace("根据《中华人民共和国", bad + "根据《中华人民共和国", 1)), "wrong_document_number")
    assert len(found) == 1 and "国办公开办函〔2021〕30号" in found[0].message
    old = good.replace("国办公开办函〔2021〕30号", "国办公开办函[2019]60号")
    assert len(fired(check_text(CLEAN.replace("根据《中华人民共和国", old + "根据《中华人民共和国", 1)), "wrong_document_number")) == 1


@pytest.mark.parametrize("placeholder", ["（具体网址）", "XX局", "（文字描述，收取信息处理费情况在此处报告。）"])
def test_placeholder_text(placeholder):
    text = CLEAN.replace("同步做好部门预决算公开", f"详见{placeholder}。同步做好部门预决算公开")
    found = fired(check_text(text), "placeholder_text")
    assert len(found) == 1
    assert fired(check_text(CLEAN), "placeholder_text") == []


def test_garbled_title():
    mojibake = "2021年度政府信息公开工作年度报告".encode("utf-8").decode("gbk", errors="replace")
    text = CLEAN.replace("2021年度政府信息公开工作年度报告", mojibake + "年度报告", 1)
    assert len(fired(check_text(text), "garbled_title")) == 1
    assert fired(check_text(CLEAN), "garbled_title") == []


def test_title_without_year():
    text = CLEAN.replace("2021年度政府信息公开工作年度报告", "政府信息公开工作年度报告", 1)
    r = check_text(text)
    assert "年度" in fired(r, "garbled_title")[0].message
