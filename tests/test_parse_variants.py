"""The parser survives what real reports do to the template (../shared/spec/template-labels.md).

Every case renders a report whose correct reading is known (distinct, internally consistent
numbers in every row, so a row read into the wrong slot shows), changes one thing the way real
reports do – a label, a cell, a heading, the title – and asserts the exact data that comes out.
Pure: text or a `Document` in, data out; rendering happens in memory.
"""

from __future__ import annotations

import copy
import random

import pytest

from checks import rules
from checks.check import check_document
from checks.document import Cell, Document, Table
from checks.identity import identify
from checks.model import Report
from checks.parse import heading_of
from checks.readers import read_bytes
from checks.readers.text import read_text
from checks.template import APPLICANT_COLUMNS, APPLICANT_PARTS, RESULT_ROWS, REVIEW_COLUMNS, REVIEW_ROWS
from xxgk.render import ReportSpec, render
from xxgk.render.synthetic import synthetic_body

AGENCY = "宁波市司法局"  # a city department: 规章 may be non-zero

# ---- a report whose every number is known and tells its row apart ---------------------------


def distinct_applications(template: str) -> dict[str, dict[str, int]]:
    """Section 三 with a different pattern of numbers in every result row, balanced per column."""
    data: dict[str, dict[str, int]] = {}
    results = RESULT_ROWS[template]
    for i, key in enumerate(results):
        row = {"natural": i + 1, "commercial": i % 3, "research": int(i == 4), "nonprofit": i % 2,
               "legal_service": int(i % 5 == 0), "other_org": int(i % 4 == 1)}
        data[key] = {**row, "total": sum(row.values())}
    handled = {c: sum(data[k][c] for k in results) for c in APPLICANT_PARTS}
    carried = {c: (2 if c == "natural" else int(c == "commercial")) for c in APPLICANT_PARTS}
    forward = {c: (3 if c == "natural" else int(c == "legal_service")) for c in APPLICANT_PARTS}
    new = {c: handled[c] + forward[c] - carried[c] for c in APPLICANT_PARTS}
    for key, row in (("new", new), ("carried_over", carried), ("handled_total", handled), ("carried_forward", forward)):
        data[key] = {**row, "total": sum(row.values())}
    order = ["new", "carried_over", *results, "handled_total", "carried_forward"]
    return {k: data[k] for k in order}


REVIEW = {
    "review": {"upheld": 1, "corrected": 2, "other": 0, "pending": 1, "total": 4},
    "litigation_direct": {"upheld": 0, "corrected": 1, "other": 1, "pending": 0, "total": 2},
    "litigation_after_review": {"upheld": 2, "corrected": 0, "other": 0, "pending": 1, "total": 3},
}

PROACTIVE = {
    "2021": {
        "regulations": {"issued": 1, "repealed": 0, "in_force": 3},
        "normative_documents": {"issued": 4, "repealed": 2, "in_force": 27},
        "licensing": {"decisions": 523},
        "punishment": {"decisions": 19},
        "enforcement": {"decisions": 6},
        "fees": {"amount_wan_yuan": 5.28},
    },
    "2019": {
        "regulations": {"made": 1, "published": 1, "total_published": 8},
        "normative_documents": {"made": 5, "published": 5, "total_published": 45},
        "licensing": {"items_last_year": 58, "items_change": -18, "decisions": 1928},
        "other_services": {"items_last_year": 93, "items_change": 7, "decisions": 405},
        "punishment": {"items_last_year": 244, "items_change": -4, "decisions": 1807},
        "enforcement": {"items_last_year": 17, "items_change": 0, "decisions": 479},
        "fees": {"items_last_year": 9, "items_change": -15},
        "procurement": {"items": 29, "amount_wan_yuan": 196.7},
    },
}


def make_spec(template: str = "2021", year: int = 2021, agency: str = AGENCY) -> ReportSpec:
    data = {
        "proactive": copy.deepcopy(PROACTIVE[template]),
        "applications": distinct_applications(template),
        "review_litigation": copy.deepcopy(REVIEW),
    }
    body = synthetic_body(random.Random(0), agency, year, template, data)
    return ReportSpec(agency=agency, year=year, template=template, body=body, **data)


SPEC_2021 = make_spec("2021")
SPEC_2019 = make_spec("2019", 2020)
TSV_2021 = render(SPEC_2021, "tsv").decode()
TSV_2019 = render(SPEC_2019, "tsv").decode()
FLAT_2021 = render(SPEC_2021, "flat_text").decode()
HTML_2021 = render(SPEC_2021, "cms_html").decode()


def check_text(text: str) -> Report:
    return check_document(read_text(text, "case.txt"))


def check_html(html: str) -> Report:
    return check_document(read_bytes(html.encode("utf-8"), "case.html"))


def fired(report: Report, rule: str) -> list:
    return [f for f in report.findings if f.rule == rule]


def swap(text: str, old: str, new: str, count: int = 1) -> str:
    """Replace `old` (which must be there) by `new`."""
    assert old in text, old
    return text.replace(old, new, count)


def tsv_row(text: str, label: str) -> tuple[int, int]:
    """Start and end of the TSV line whose cells include `label`."""
    start = text.index(f"{label}\t")
    start = text.rindex("\n", 0, start) + 1
    return start, text.index("\n", start)


def set_tsv_values(text: str, label: str, values: list[str]) -> str:
    """Rewrite the value cells (the last seven, or as many as given) of the row labelled `label`."""
    start, end = tsv_row(text, label)
    cells = text[start:end].split("\t")
    n_labels = len(cells) - 7
    return text[:start] + "\t".join(cells[:n_labels] + values) + text[end:]


def expected_apps(template: str = "2021", **rows) -> dict:
    out = copy.deepcopy(distinct_applications(template))
    out.update(rows)
    return out


def as_cells(row: dict) -> list[str]:
    return [str(row[c]) for c in APPLICANT_COLUMNS]


def test_baseline_reads_exactly():
    for text in (TSV_2021, FLAT_2021):
        r = check_text(text)
        assert r.template == "2021" and r.year == 2021 and r.agency == AGENCY
        assert r.applications == expected_apps()
        assert r.review_litigation == REVIEW
        assert r.proactive == PROACTIVE["2021"]
        assert r.findings == [], [f.message for f in r.findings]
    r = check_text(TSV_2019)
    assert (r.template, r.year) == ("2019", 2020)
    assert r.applications == expected_apps("2019") and r.proactive == PROACTIVE["2019"]
    assert r.findings == [], [f.message for f in r.findings]
    # Every result row differs from its neighbours, so a shifted row cannot pass unnoticed.
    rows = list(expected_apps().values())
    assert all(a != b for a, b in zip(rows, rows[1:]))


# ---- section 三: row labels -------------------------------------------------------------------


@pytest.mark.parametrize("old,new", [
    ("1.属于国家秘密", "1．属于国家秘密"),          # full-width full stop
    ("2.其他法律行政法规禁止公开", "2、其他法律行政法规禁止公开"),
    ("3.危及“三安全一稳定”", "3 . 危及\"三安全一稳定\""),
    ("（三）不予公开", "(三)不予公开"),
    ("（一）予以公开", "(一) 予以公开"),
    ("（七）总计", "(七)总计"),
    ("一、本年新收政府信息公开申请数量", "一．本年新收政府信息公开申请数量"),
    ("四、结转下年度继续办理", "（四）结转下年度继续办理"),
    ("5.要求行政机关确认或重新出具已获取信息", "５．要求行政机关确认或重新出具已获取信息"),
    ("1.申请人无正当理由逾期不补正、行政机关不再处理其政府信息公开申请",
     "1、申请人无正当理由逾期不补正、行政机关不再处理其政府信息公开申请"),
    ("3.其他", "3、其他"),
    ("3.其他", "（3）其他"),
])
def test_enumerator_variants(old, new):
    r = check_text(swap(TSV_2021, old, new))
    assert r.applications == expected_apps()
    assert fired(r, "incomplete_row") == []


@pytest.mark.parametrize("old,new", [
    ("（区分处理的，只计这一情形，不计其他情形）", "（区分处理的，只计这一情 形，不 计其他情形）"),
    ("2.其他法律行政法规禁止公开", "2.其他法律行政止公开"),  # PDF text-layer loss
    ("4.保护第三方合法权益", "4.保护第三方合法权义"),  # typo
    ("5.属于三类内部事务信息", "5.属于三类内部事物信息"),
    ("2.没有现成信息需要另行制作", "2.没有现成信息需要另行制做"),
    ("4.无正当理由大量反复申请", "4.无正当理由大量 反复申请"),
    ("3.补正后申请内容仍不明确", "3.补正后申请内容仍不明确的"),
    ("一、本年新收政府信息公开申请数量", "一、本年新收政府信息公开申请"),  # truncated cell
    ("二、上年结转政府信息公开申请数量", "二、上年结转政府信息公开申请数"),
    ("1.信访举报投诉类申请", "1.信访举报投诉类"),
])
def test_label_spaces_truncations_typos(old, new):
    r = check_text(swap(TSV_2021, old, new))
    assert r.applications == expected_apps()
    assert fired(r, "incomplete_row") == []


@pytest.mark.parametrize("template,old,new", [
    ("2021", "\t3.其他\t", "\t3.其它\t"),
    ("2021", "2.其他法律行政法规禁止公开", "2.其它法律行政法规禁止公开"),
    ("2019", "（六）其他处理", "（六）其它处理"),
    ("2019", "（六）其他处理", "(六) 其他处理"),
    ("2021", "（七）总计", "（七）合计"),
    ("2021", "（七）总计", "（七）总 计"),
])
def test_short_labels(template, old, new):
    r = check_text(swap(TSV_2021 if template == "2021" else TSV_2019, old, new))
    assert r.template == template
    assert r.applications == expected_apps(template)
    assert r.findings == []


@pytest.mark.parametrize("label", ["合计", "总计", "其他", "其它"])
def test_generic_row_of_section_two_is_not_a_row_of_three(label):
    text = swap(TSV_2021, "\n行政规范性文件\t4\t2\t27\n", f"\n行政规范性文件\t4\t2\t27\n{label}\t5\t2\t30\n")
    r = check_text(text)
    assert r.applications == expected_apps() and r.proactive == PROACTIVE["2021"]
    assert r.findings == []


def test_header_cells_broken_by_spaces():
    text = swap(TSV_2021, "\t社会公益组织\t法律服务机构\t", "\t社会公益 组织\t法 律 服 务 机构\t")
    text = swap(text, "\t商业企业\t科研机构\t", "\t商 业 企\n业\t科研机\n构\t")
    r = check_text(text)
    assert r.applications == expected_apps()
    assert r.findings == []


def test_line_breaks_inside_labels_one_cell_per_line():
    # Flattened Word text: a label cell continues on the next line, without a TAB.
    text = swap(FLAT_2021, "\t（二）部分公开（区分处理的，只计这一情形，不计其他情形）\n",
                "\t（二）部分公开\n（区分处理的，只计这一情 形，不 计其他情形）\n")
    text = swap(text, "\t5.要求行政机关确认或重新出具已获取信息\n", "\t5.要求行政机关确认或重\n新出具已获取信息\n")
    text = swap(text, "\t1.申请人无正当理由逾期不补正、行政机关不再处理其政府信息公开申请\n",
                "\t1.申请人无正当理由逾期不补正、\n行政机关不再处理其政府信息公开申请\n")
    r = check_text(text)
    assert r.applications == expected_apps()
    assert r.findings == []


def relabel(doc: Document, old: str, new: str) -> Document:
    """The document with the table cell `old` rewritten as `new`."""
    hits = 0
    for block in doc.blocks:
        if isinstance(block, Table):
            for row in block.rows:
                for i, cell in enumerate(row):
                    if cell.text == old:
                        row[i] = Cell(new, cell.rowspan, cell.colspan)
                        hits += 1
    assert hits == 1, old
    return doc


@pytest.mark.parametrize("old,new", [
    ("（二）部分公开（区分处理的，只计这一情形，不计其他情形）", "（二）部分\n公开（区分处理\n的，只计这一情\n形，不计其他情\n形）"),
    ("2.申请人逾期未按收费通知要求缴纳费用、行政机关不再处理其政府信息公开申请",
     "2.申请人逾期未按收费\r\n通知要求缴纳费用、行政机\r\n关不再处理其政府信息\r\n公开申请"),
    ("1.本机关不掌握相关政府信息", "1.本机关不掌握\u3000相关政府信息"),
    ("社会公益组织", "社会公益 组织"),
    ("法律服务机构", "法 律 服 务 机构"),
], ids=["partial", "overdue-fee", "ideographic-space", "nonprofit-header", "legal-header"])
def test_line_breaks_and_spaces_inside_cells(old, new):
    r = check_document(relabel(read_text(TSV_2021, "case.txt"), old, new))
    assert r.applications == expected_apps()
    assert r.findings == []


def test_vertical_group_label_one_character_per_line():
    label = "三、本年度办理结果"
    text = swap(FLAT_2021, f"\t{label}\n", "\t" + "\n".join(label) + "\n")
    r = check_text(text)
    assert r.applications == expected_apps()
    assert r.findings == []


def vertical_label_document() -> Document:
    """PDF text layer: the rowspan label 三、本年度办理结果 is spread over the first cells of the
    rows it spans, one character each."""
    doc = read_text(TSV_2021, "case.txt")
    table = next(b for b in doc.blocks if isinstance(b, Table) and any("勾稽" in c.text for c in b.rows[0]))
    chars = iter("三、本年度办理结果")
    for row in table.rows:
        if row and row[0].text == "三、本年度办理结果":
            row[0] = Cell(next(chars))
        elif row and row[0].text == "" and len(row) == 10:
            row[0] = Cell(next(chars, ""))
    return doc


def test_vertical_label_spread_over_rows():
    r = check_document(vertical_label_document())
    assert r.applications == expected_apps()
    assert r.findings == []


@pytest.mark.parametrize("label,first,second", [
    ("2.其他法律行政法规禁止公开", "2.其他法律行政法规", "禁止公开"),
    ("1.申请人无正当理由逾期不补正、行政机关不再处理其政府信息公开申请",
     "1.申请人无正当理由逾期不补正、", "行政机关不再处理其政府信息公开申请"),
    ("2.申请人逾期未按收费通知要求缴纳费用、行政机关不再处理其政府信息公开申请",
     "2.申请人逾期未按收费通知要求缴纳费用、", "行政机关不再处理其政府信息公开申请"),
    ("5.要求行政机关确认或重新出具已获取信息", "5.要求行政机关确认", "或重新出具已获取信息"),
])
def test_label_wrapped_into_two_cells(label, first, second):
    # The label's cell was split in two (a PDF column boundary, a merged cell undone): the row
    # is one cell wider, its label in the last two label cells.
    text = swap(TSV_2021, f"\t{label}\t", f"\t{first}\t{second}\t")
    r = check_text(text)
    assert r.applications == expected_apps()
    assert fired(r, "incomplete_row") == []


def flattened_lines(text: str) -> str:
    """What a PDF without table rulings gives: every table row one line of space-separated words."""
    return text.replace("\t", " ")


@pytest.mark.parametrize("template", ["2021", "2019"])
def test_tables_as_lines_of_text(template):
    text = flattened_lines(TSV_2021 if template == "2021" else TSV_2019)
    assert "\n1 2 0 1 4 0 1 1 0 2 2 0 0 1 3\n" in text  # section 四: one run of 15 numbers
    r = check_text(text)
    assert r.template == template
    assert r.applications == expected_apps(template)
    assert r.proactive == PROACTIVE[template] and r.review_litigation == REVIEW
    # The header words and numbers around the prose are no statement about the cases.
    assert r.findings == [], [f.message for f in r.findings]


def test_lines_of_text_with_a_vertical_label_and_a_wrapped_label():
    text = flattened_lines(TSV_2021)
    text = swap(text, "\n三、本年度办理结果 （一）予以公开", "\n三\n、\n本\n（一）予以公开")
    text = swap(text, "  2.其他法律行政法规禁止公开 ", "  2.其他法律行政 法规禁止公开 ")
    r = check_text(text)
    assert r.applications == expected_apps()
    assert r.findings == [], [f.message for f in r.findings]


# ---- section 二 ------------------------------------------------------------------------------


def proactive_2021(**rows) -> dict:
    out = copy.deepcopy(PROACTIVE["2021"])
    out.update(rows)
    return out


@pytest.mark.parametrize("old,new", [
    ("第二十条第（一）项", "第二十条 第（一）项"),
    ("第二十条第（五）项", "第二十条 第 （五） 项"),
    ("\n规章\t", "\n规章(县级无此项)\t"),
    ("\n规章\t", "\n规章（设区的市、自治州人民政府应提供相关数据）\t"),
    ("\n行政规范性文件\t", "\n规范性文件\t"),  # the old wording in a 2021 report
    ("\t现行有效件数", "\t现行有效件"),  # a truncated header
    ("本年收费金额（单位：万元）", "本年收费金额(单位:万元)"),
    ("\n行政事业性收费\t", "\n行政事业性 收费\t"),
])
def test_proactive_label_variants(old, new):
    r = check_text(swap(TSV_2021, old, new))
    assert r.template == "2021"
    assert r.proactive == PROACTIVE["2021"]
    assert r.findings == []


def test_proactive_blank_values_are_null():
    text = swap(TSV_2021, "\n规章\t1\t0\t3\n", "\n规章\t/\t-\t\n")
    text = swap(text, "\n行政许可\t523\t", "\n行政许可\t—\t")
    text = swap(text, "\n行政强制\t6\t", "\n行政强制\t／\t")
    text = swap(text, "\n行政事业性收费\t5.28\t", "\n行政事业性收费\t\t")
    r = check_text(text)
    assert r.proactive == proactive_2021(
        regulations={"issued": None, "repealed": None, "in_force": None},
        licensing={"decisions": None}, enforcement={"decisions": None}, fees={"amount_wan_yuan": None})
    assert fired(r, "unreadable_cell") == [] and fired(r, "incomplete_row") == []


def test_proactive_wordy_cell_is_an_unreadable_value_not_a_label():
    # "规章" | "见附件" is a label and a value; "2.其他法律行政法规" | "禁止公开" is one label.
    r = check_text(swap(TSV_2021, "\n规章\t1\t", "\n规章\t见附件\t"))
    assert r.proactive == proactive_2021(regulations={"issued": None, "repealed": 0, "in_force": 3})
    assert [(f.row, f.column) for f in fired(r, "unreadable_cell")] == [("regulations", "issued")]


def test_2019_changes_may_be_negative():
    r = check_text(TSV_2019)
    assert r.proactive["licensing"]["items_change"] == -18
    assert r.proactive["fees"]["items_change"] == -15
    assert fired(r, "suspicious_value") == []
    # ... but a negative count of items is still a typo.
    r = check_text(swap(TSV_2019, "\n行政处罚\t244\t", "\n行政处罚\t-244\t"))
    assert r.proactive["punishment"]["items_last_year"] == -244
    assert [(f.row, f.column) for f in fired(r, "suspicious_value")] == [("punishment", "items_last_year")]


@pytest.mark.parametrize("cell,amount", [
    ("196.7万元", 196.7), ("251000元", 25.1), ("75394432.52元", 7539.443252), ("196.7", 196.7),
    ("2,516,000元", 251.6), ("196.7 万元", 196.7),
])
def test_2019_procurement_amounts_in_wan_yuan(cell, amount):
    r = check_text(swap(TSV_2019, "\t196.7万元\t", f"\t{cell}\t"))
    assert r.proactive["procurement"] == {"items": 29, "amount_wan_yuan": amount}
    assert r.findings == []


HUBEI_HEADERS = {
    "上一年项目数量": "上一年项目数量(指2019年事项数)",
    "本年增/减": "本年增/减(指2020年增加或减少的事项数,减用负值表示,如-8)",
    "处理决定数量": "处理决定数量(指2020年办件量)",
}


def test_hubei_provincial_2019_variant():
    text = TSV_2019
    for old, new in HUBEI_HEADERS.items():
        text = text.replace(f"\t{old}", f"\t{new}")
    assert text.count("(指2019年事项数)") == 3
    text = swap(text, "\n规章\t", "\n规章(设区的市、自治州人民政府应提供相关数据)\t")
    text = swap(text, "\n规范性文件\t5\t5\t45\n", "\n规范性文件\t5\t5\t45\n其他主动公开文件\t120\t118\t860\n")
    r = check_text(text)
    assert r.template == "2019"
    assert r.proactive == {**PROACTIVE["2019"],
                           "other_documents": {"made": 120, "published": 118, "total_published": 860}}
    assert r.applications == expected_apps("2019")
    assert r.findings == []


# ---- section 三: the applications table ---------------------------------------------------------


def insert_after_row(text: str, label: str, line: str) -> str:
    _, end = tsv_row(text, label)
    return text[: end + 1] + line + "\n" + text[end + 1:]


EXTRA_ROWS = {
    # Provincial additions and computed subtotals (the peer govnianbao adds them for （三）–（六）).
    "online": ("二、上年结转政府信息公开申请数量", "其中：通过互联网提交的申请\t\t\t9\t9\t9\t9\t9\t9\t54"),
    "subtotal-3": ("（二）部分公开（区分处理的，只计这一情形，不计其他情形）", "\t（三）不予公开（小计）\t\t9\t9\t9\t9\t9\t9\t54"),
    "subtotal-4": ("8.属于行政查询事项", "\t（四）无法提供\t\t9\t9\t9\t9\t9\t9\t54"),
    "subtotal-5": ("3.补正后申请内容仍不明确", "\t（五）不予处理\t小计\t9\t9\t9\t9\t9\t9\t54"),
    "subtotal-6": ("5.要求行政机关确认或重新出具已获取信息", "\t（六）其他处理\t\t9\t9\t9\t9\t9\t9\t54"),
    "rate": ("四、结转下年度继续办理", "五、本年度依申请公开按期办结率\t\t\t100%\t/\t/\t/\t/\t/\t100%"),
    "fee": ("（七）总计", "\t其中：收取信息处理费的申请\t\t0\t0\t0\t0\t0\t0\t0"),
}


@pytest.mark.parametrize("name", EXTRA_ROWS)
def test_extra_row_is_ignored(name):
    after, line = EXTRA_ROWS[name]
    r = check_text(insert_after_row(TSV_2021, after, line))
    assert r.template == "2021"
    assert r.applications == expected_apps()
    assert r.findings == []


def test_dropped_cell_makes_that_row_null():
    row = distinct_applications("2021")["withheld_third_party"]
    cells = as_cells(row)
    r = check_text(set_tsv_values(TSV_2021, "4.保护第三方合法权益", cells[:2] + cells[3:]))
    assert [f.row for f in fired(r, "incomplete_row")] == ["withheld_third_party"]
    assert r.applications == expected_apps(withheld_third_party=dict.fromkeys(APPLICANT_COLUMNS))
    # Rules skip what is not there instead of reporting sums made of a hole.
    assert {f.rule for f in r.findings} == {"incomplete_row"}


def test_dropped_cell_in_every_text_layout():
    spec = copy.deepcopy(SPEC_2021)
    spec.drop_cells = {"rejected_duplicate": 1}
    for fmt in ("flat_text", "tsv", "cms_html"):
        r = check_document(read_bytes(render(spec, fmt), f"case.{'html' if fmt == 'cms_html' else 'txt'}"))
        assert [f.row for f in fired(r, "incomplete_row")] == ["rejected_duplicate"], fmt
        assert r.applications == expected_apps(rejected_duplicate=dict.fromkeys(APPLICANT_COLUMNS)), fmt


def test_extra_cell_makes_that_row_null():
    cells = as_cells(distinct_applications("2021")["disclosed"])
    r = check_text(set_tsv_values(TSV_2021, "（一）予以公开", cells[:3] + ["1"] + cells[3:]))
    found = fired(r, "incomplete_row")
    assert [f.row for f in found] == ["disclosed"]
    assert "7列" in found[0].message
    assert r.applications == expected_apps(disclosed=dict.fromkeys(APPLICANT_COLUMNS))


def test_trailing_blank_cell_is_not_an_extra_cell():
    cells = as_cells(distinct_applications("2021")["disclosed"])
    r = check_text(set_tsv_values(TSV_2021, "（一）予以公开", cells + [""]))
    assert r.applications == expected_apps()
    assert r.findings == []


def test_blank_total_column():
    apps = distinct_applications("2021")
    text = TSV_2021
    for key, label in (("disclosed", "（一）予以公开"), ("unavailable_not_held", "1.本机关不掌握相关政府信息")):
        text = set_tsv_values(text, label, as_cells(apps[key])[:6] + [""])
    r = check_text(text)
    expected = expected_apps()
    expected["disclosed"]["total"] = expected["unavailable_not_held"]["total"] = None
    assert r.applications == expected
    assert {(f.rule, f.row, f.column) for f in r.findings} == {
        ("blank_total", "disclosed", "total"), ("blank_total", "unavailable_not_held", "total")}


@pytest.mark.parametrize("blank", ["/", "-", "—", "无", "／", "－", "——", " "])
def test_blank_tokens_are_null(blank):
    apps = distinct_applications("2021")
    cells = as_cells(apps["rejected_petition"])
    cells[1] = cells[4] = blank
    r = check_text(set_tsv_values(TSV_2021, "1.信访举报投诉类申请", cells))
    expected = expected_apps()
    expected["rejected_petition"]["commercial"] = expected["rejected_petition"]["legal_service"] = None
    assert r.applications == expected
    assert {f.rule for f in r.findings} <= {"blank_total"}
    assert fired(r, "unreadable_cell") == [] and fired(r, "incomplete_row") == []
    assert fired(r, "handled_total") == [] and fired(r, "row_total") == []  # a blank is not a 0


# ---- section 四 -----------------------------------------------------------------------------


def review_block(text: str) -> tuple[int, int]:
    start = text.index("行政复议\t")
    end = text.index("\n\n", start)
    return start, end


def with_review_table(text: str, lines: list[str]) -> str:
    start, end = review_block(text)
    return text[:start] + "\n".join(lines) + text[end:]


def review_cells(row: str) -> str:
    return "\t".join(str(REVIEW[row][c]) for c in REVIEW_COLUMNS)


def test_review_fifteen_numbers_in_one_row():
    start, end = review_block(TSV_2021)
    numbers = TSV_2021[start:end].splitlines()[-1].split("\t")
    assert numbers == [str(REVIEW[r][c]) for r in REVIEW_ROWS for c in REVIEW_COLUMNS]
    assert check_text(TSV_2021).review_litigation == REVIEW


@pytest.mark.parametrize("labels", [
    ("行政复议", "未经复议直接起诉", "复议后起诉"),
    ("行政复议", "行政诉讼（未经复议直接起诉）", "行政诉讼（复议后起诉）"),
    ("行政复议情况", "行政诉讼-未经复议直接起诉", "行政诉讼-复议后起诉"),
])
def test_review_transposed_into_three_rows(labels):
    header = "\t".join(["项目", "结果维持", "结果纠正", "其他结果", "尚未审结", "总计"])
    rows = [f"{label}\t{review_cells(key)}" for label, key in zip(labels, REVIEW_ROWS)]
    r = check_text(with_review_table(TSV_2021, [header, *rows]))
    assert r.review_litigation == REVIEW
    assert r.findings == []


def test_review_transposed_rows_in_another_order():
    header = "\t".join(["", "结果维持", "结果纠正", "其他结果", "尚未审结", "总计"])
    rows = [f"复议后起诉\t{review_cells('litigation_after_review')}",
            f"行政复议\t{review_cells('review')}",
            f"未经复议直接起诉\t{review_cells('litigation_direct')}"]
    r = check_text(with_review_table(TSV_2021, [header, *rows]))
    assert r.review_litigation == REVIEW


def test_review_fourteen_numbers():
    start, end = review_block(TSV_2021)
    lines = TSV_2021[start:end].splitlines()
    lines[-1] = "\t".join(lines[-1].split("\t")[:-1])
    r = check_text(with_review_table(TSV_2021, lines))
    found = fired(r, "incomplete_row")
    assert [f.section for f in found] == ["四"] and "14" in found[0].message
    assert r.review_litigation == {row: dict.fromkeys(REVIEW_COLUMNS) for row in REVIEW_ROWS}
    assert fired(r, "review_total") == []
    assert r.applications == expected_apps()


# ---- headings -------------------------------------------------------------------------------

ALL_SECTIONS = ["一", "二", "三", "四", "五", "六"]


@pytest.mark.parametrize("text,numeral", [
    ("一、总体情况", "一"),
    ("一、2023年政务公开总体情况", "一"),
    ("一、2021年度政府信息公开工作总体情况", "一"),
    ("二、主动公开政府信息情况", "二"),
    ("二、行政机关主动公开政府信息情况", "二"),
    ("三、收到和处理政府信息公开申请情况", "三"),
    ("四、政府信息公开行政复议、行政诉讼情况", "四"),
    ("四、政府信息公开行政法复议、行政诉讼情况", "四"),
    ("四、政府信息公开行政复议和行政诉讼情况", "四"),
    ("四、因政府信息公开工作被申请行政复议和提起行政诉讼情况", "四"),
    ("五、存在的主要问题及改进情况", "五"),
    ("五、政府信息公开工作存在的主要问题及改进情况", "五"),
    ("六、其他需要报告的事项", "六"),
    ("六．其他需要报告的事项", "六"),
    ("第一部分 总体情况", "一"),
    ("（一）主动公开政府信息情况", None),  # a sub-heading of 一
    ("(二)依申请公开情况", None),
    ("2021年，我局主动公开政府信息情况良好。", None),
    # A run-in heading shares its paragraph with the text; prose that merely starts with a
    # numeral does not.
    ("五、存在的主要问题及改进情况一是部分栏目信息更新不够及时，公开内容的全面性有待提高。", "五"),
    ("二、主动公开方面，全年主动公开政府信息461条，其中政策文件20条，工作动态237条。", None),
    ("三、收到和处理政府信息公开申请情况：本年度共收到申请5件，上年结转2件。", "三"),
])
def test_heading_variants(text, numeral):
    assert heading_of(text, strict=True) == numeral


@pytest.mark.parametrize("old,new", [
    ("一、总体情况", "一、2023年政务公开总体情况"),
    ("二、主动公开政府信息情况", "二、行政机关主动公开政府信息情况"),
    ("四、政府信息公开行政复议、行政诉讼情况", "四、政府信息公开行政法复议、行政诉讼情况"),
    ("四、政府信息公开行政复议、行政诉讼情况", "四、政府信息公开行政复议和行政诉讼情况"),
    ("五、存在的主要问题及改进情况", "五、政府信息公开工作存在的主要问题及改进情况"),
])
def test_heading_variants_in_a_report(old, new):
    r = check_text(swap(FLAT_2021, f"\n{old}\n", f"\n{new}\n"))
    numeral = old[0]
    assert r.sections == ALL_SECTIONS
    assert r.headings[numeral] == new
    assert r.applications == expected_apps() and r.review_litigation == REVIEW
    assert r.findings == []


def test_sub_heading_under_one_is_not_section_two():
    text = swap(FLAT_2021, "\n（一）主动公开情况\n", "\n（一）主动公开政府信息情况\n")
    r = check_text(text)
    assert r.headings["二"] == "二、主动公开政府信息情况"
    assert "（一）主动公开政府信息情况" in r.section_text["一"]
    assert r.findings == []
    # Without its own heading, section 二 is still there (its table), and the sub-heading
    # under 一 does not take its place.
    r = check_text(swap(text, "\n二、主动公开政府信息情况\n", "\n"))
    assert "二" not in r.headings
    assert r.sections == ALL_SECTIONS and r.proactive == PROACTIVE["2021"]


def test_no_heading_for_three_but_its_table():
    r = check_text(swap(FLAT_2021, "\n三、收到和处理政府信息公开申请情况\n", "\n"))
    assert "三" not in r.headings
    assert r.sections == ALL_SECTIONS
    assert r.applications == expected_apps()
    assert fired(r, "missing_section") == [] and fired(r, "missing_table") == []


def test_no_headings_at_all_for_the_tables():
    text = FLAT_2021
    for heading in ("二、主动公开政府信息情况", "三、收到和处理政府信息公开申请情况", "四、政府信息公开行政复议、行政诉讼情况"):
        text = swap(text, f"\n{heading}\n", "\n")
    r = check_text(text)
    assert r.sections == ALL_SECTIONS
    assert r.proactive == PROACTIVE["2021"] and r.applications == expected_apps() and r.review_litigation == REVIEW


def test_headings_only_in_strong():
    assert "<h" not in HTML_2021.split("<body>")[1].replace("<html", "")
    assert "<strong><span style=\"font-family: 黑体;\">一、总体情况</span></strong>" in HTML_2021
    r = check_html(HTML_2021)
    assert r.sections == ALL_SECTIONS
    assert r.headings["五"] == "五、存在的主要问题及改进情况"
    assert r.applications == expected_apps() and r.review_litigation == REVIEW and r.proactive == PROACTIVE["2021"]
    assert r.findings == []


@pytest.mark.parametrize("markup", [
    '<p><b>{h}</b></p>',
    '<div><span style="font-weight: bold; font-size: 16pt">{h}</span></div>',
    '<p><strong><span>{h}</span></strong><br/></p>',
    '<p style="text-indent: 2em"><font face="黑体">{h}</font></p>',
])
def test_styled_headings_in_html(markup):
    html = HTML_2021
    for numeral in ALL_SECTIONS:
        heading = next(line for line in SPEC_2021.paragraphs() if line.startswith(numeral + "、"))
        old = f'<strong><span style="font-family: 黑体;">{heading}</span></strong>'
        start = html.rindex("<p", 0, html.index(old))
        end = html.index("</p>", start) + len("</p>")
        html = html[:start] + markup.format(h=heading) + html[end:]
    r = check_html(html)
    assert r.sections == ALL_SECTIONS and len(r.headings) == 6
    assert r.applications == expected_apps()


def test_run_in_heading_in_strong():
    # <p><strong>五、存在的主要问题及改进情况</strong>2021年，……</p>: the heading shares its paragraph.
    html = HTML_2021
    old = '<strong><span style="font-family: 黑体;">五、存在的主要问题及改进情况</span></strong></p>'
    start = html.index(old)
    next_p = html.index("<p", start)
    body_start = html.index(">", next_p) + 1
    html = html[:start] + "<strong>五、存在的主要问题及改进情况</strong>" + html[body_start:]
    r = check_html(html)
    assert r.sections == ALL_SECTIONS
    assert r.headings["五"].startswith("五、存在的主要问题及改进情况")
    assert "仍存在一些不足" in r.section_text["五"]


# ---- identity -------------------------------------------------------------------------------


@pytest.mark.parametrize("lines,agency,year", [
    (["宁波市司法局2021年度政府信息公开工作年度报告"], "宁波市司法局", 2021),
    (["2021 年宁波市司法局政府信息公开工作年度报告"], "宁波市司法局", 2021),
    (["二〇二一年宁波市司法局政府信息公开工作年度报告"], "宁波市司法局", 2021),
    (["宁波市司法局二〇二一年度政府信息公开工作年度报告"], "宁波市司法局", 2021),
    (["关于宁波市司法局2021年度政府信息公开工作的年度报告"], "宁波市司法局", 2021),
    (["宁波市司法局关于2021年度政府信息公开工作的年度报告"], "宁波市司法局", 2021),
    (["宁波市司法局2021年政府信息公开年报"], "宁波市司法局", 2021),
    (["宁波市司法局2021年度政府信息公开工作报告"], "宁波市司法局", 2021),
    (["宁波市司法局", "2021年度政府信息公开工作年度报告"], "宁波市司法局", 2021),
    (["2021年度", "宁波市司法局政府信息公开工作年度报告"], "宁波市司法局", 2021),
    (["嘉善县人民政府2021年度政府信息公开工作年度报告（全文）"], "嘉善县人民政府", 2021),
    (["宁波市镇海区招宝山街道办事处2022年政务公开工作年度报告"], "宁波市镇海区招宝山街道办事处", 2022),
])
def test_identity_from_title(lines, agency, year):
    ident = identify([*lines, "本报告根据《中华人民共和国政府信息公开条例》要求编制。"], {}, None)
    assert (ident.agency, ident.year) == (agency, year)
    assert ident.title == "".join(lines).replace(" ", "")


PINGTAN = "平潭综合实验区2021年度政府信息公开工作年度报告_政府信息公开年报_平潭综合实验区党工委管委会"


def test_identity_from_cms_page_title():
    # A page whose only title is the CMS's "<title>article_column_site</title>".
    html = HTML_2021
    html = swap(html, '<meta name="ArticleTitle" content="宁波市司法局2021年度政府信息公开工作年度报告"/>', "")
    html = html.replace("宁波市司法局2021年度政府信息公开工作年度报告_", PINGTAN.split("_")[0] + "_")
    html = swap(html, f"<title>{PINGTAN.split('_')[0]}_政府信息公开年报_宁波市人民政府</title>", f"<title>{PINGTAN}</title>")
    html = swap(html, '<div class="article_title text_align_center">宁波市司法局2021年度政府信息公开工作年度报告</div>', "")
    r = check_html(html)
    assert r.title == "平潭综合实验区2021年度政府信息公开工作年度报告"
    assert (r.agency, r.year) == ("平潭综合实验区", 2021)


def test_identity_from_a_title_with_site_suffix():
    # The same title handed over as metadata by any reader (docx core properties, PDF info).
    ident = identify(["本报告根据《中华人民共和国政府信息公开条例》要求编制。"], {}, PINGTAN)
    assert (ident.title, ident.agency, ident.year) == (PINGTAN.split("_")[0], "平潭综合实验区", 2021)


def test_year_from_the_statistics_period():
    text = swap(FLAT_2021, "宁波市司法局\n2021年度政府信息公开工作年度报告\n", "政府信息公开工作年度报告\n")
    r = check_text(text)
    assert r.year == 2021
    assert r.title == "政府信息公开工作年度报告"
    assert r.applications == expected_apps()
    # The title itself still lacks the year and the agency, and says so.
    assert sorted(f.message[:8] for f in fired(r, "garbled_title")) == ["标题和正文开头都", "标题没有写明报告"]
    compiled = swap(text, "本报告根据", "本报告由宁波市司法局负责编制。本报告根据")
    r = check_text(compiled)
    assert (r.agency, r.year) == ("宁波市司法局", 2021)
    assert [f.message[:8] for f in fired(r, "garbled_title")] == ["标题没有写明报告"]


# ---- template detection -------------------------------------------------------------------


def test_2023_report_on_the_2019_format():
    spec = make_spec("2019", 2023)
    for fmt in ("flat_text", "tsv", "cms_html"):
        r = check_document(read_bytes(render(spec, fmt), f"case.{'html' if fmt == 'cms_html' else 'txt'}"))
        assert (r.template, r.year) == ("2019", 2023), fmt
        assert r.applications == expected_apps("2019") and r.proactive == PROACTIVE["2019"]
        assert [f.rule for f in r.findings] == ["template_outdated"], fmt


def test_2020_report_on_the_2021_format():
    spec = make_spec("2021", 2020)
    r = check_text(render(spec, "tsv").decode())
    assert (r.template, r.year) == ("2021", 2020)
    assert r.applications == expected_apps() and r.proactive == PROACTIVE["2021"]
    assert r.findings == []


def strip_proactive_headers(text: str) -> str:
    """Leave the 二 table without its column headers (信息内容 | 本年制发件数 …)."""
    return "\n".join(line for line in text.split("\n") if not line.startswith("信息内容\t"))


def test_template_from_rows_alone():
    # Without the 二 headers, the （六） rows of 三 still tell the template.
    r = check_text(strip_proactive_headers(TSV_2021))
    assert r.template == "2021" and r.applications == expected_apps()
    r = check_text(strip_proactive_headers(TSV_2019))
    assert r.template == "2019" and r.applications == expected_apps("2019")
    # ... and without 二 at all, from the columns' words in 二's place.
    assert check_text(swap(TSV_2019, "本年新制作数量", "本年新制作")).template == "2019"


def test_template_is_not_taken_from_the_year():
    r2019 = check_text(TSV_2019.replace("2020", "2022"))
    assert (r2019.template, r2019.year) == ("2019", 2022)
    r2021 = check_text(TSV_2021.replace("2021", "2020").replace("2022", "2021"))
    assert (r2021.template, r2021.year) == ("2021", 2020)


# ---- prose against the tables ----------------------------------------------------------------


def with_prose(text: str, sentence: str) -> str:
    return swap(text, "（二）依申请公开情况\n", f"（二）依申请公开情况\n\n{sentence}\n")


NEW_TOTAL = distinct_applications("2021")["new"]["total"]
CARRIED_TOTAL = distinct_applications("2021")["carried_over"]["total"]


@pytest.mark.parametrize("sentence", [
    f"本年度新收政府信息公开申请{NEW_TOTAL}件，上年结转政府信息公开申请{CARRIED_TOTAL}件，共计{NEW_TOTAL + CARRIED_TOTAL}件。",
    f"全年共收到政府信息公开申请{NEW_TOTAL + CARRIED_TOTAL}件（含上年结转{CARRIED_TOTAL}件）。",
    f"本年度共受理政府信息公开申请{NEW_TOTAL}件。",
])
def test_prose_counts_that_agree(sentence):
    r = check_text(with_prose(FLAT_2021, sentence))
    assert fired(r, "text_table_mismatch") == []


@pytest.mark.parametrize("sentence,stated", [
    (f"本年度新收政府信息公开申请{NEW_TOTAL + 1}件，上年结转{CARRIED_TOTAL}件，共计{NEW_TOTAL + CARRIED_TOTAL + 1}件。", NEW_TOTAL + 1),
    ("本年度共收到政府信息公开申请5件。", 5),
])
def test_prose_counts_that_disagree(sentence, stated):
    found = fired(check_text(with_prose(FLAT_2021, sentence)), "text_table_mismatch")
    assert len(found) == 1 and found[0].row == "new" and f"{stated} 件" in found[0].message


def small_report(new: int) -> str:
    """A clean report whose applications all come from natural persons and are all disclosed."""
    spec = copy.deepcopy(SPEC_2021)
    zero = dict.fromkeys(APPLICANT_COLUMNS, 0)
    spec.applications = {key: dict(zero) for key in spec.applications}
    for key in ("new", "disclosed", "handled_total"):
        spec.applications[key].update(natural=new, total=new)
    spec.body = [p for p in spec.body if not (isinstance(p, str) and "收到政府信息公开申请" in p)]
    return render(spec, "flat_text").decode()


@pytest.mark.parametrize("new,sentence,mismatch", [
    (1, "本年度共收到政府信息公开申请一件。", False),
    (2, "本年度共收到政府信息公开申请两件。", False),
    (2, "本年度共收到政府信息公开申请二件，均已按期办结。", False),
    (12, "本年度共收到政府信息公开申请十二件。", False),
    (20, "本年度共收到政府信息公开申请二十件。", False),
    (105, "本年度共收到政府信息公开申请一百零五件。", False),
    (20, "本年度共收到政府信息公开申请二十二件。", True),
    (0, "本年度未收到政府信息公开申请。", False),
    (1, "本年度共收到政府信息公开申请两件。", True),
    (2, "本年度共收到政府信息公开申请十二件。", True),
    (12, "本年度共收到政府信息公开申请二件。", True),
])
def test_prose_counts_in_chinese_numerals(new, sentence, mismatch):
    r = check_text(with_prose(small_report(new), sentence))
    assert r.applications["new"]["total"] == new
    assert len(fired(r, "text_table_mismatch")) == int(mismatch), [f.message for f in r.findings]
    assert {f.rule for f in r.findings} <= {"text_table_mismatch"}


@pytest.mark.parametrize("text,review,litigation", [
    ("本年度未发生因政府信息公开引起的行政复议、行政诉讼案件。", [0], [0]),
    ("本年度我局未发生因政府信息公开工作被申请行政复议和提起行政诉讼的情况。", [0], [0]),
    ("因政府信息公开被申请行政复议两件，被提起行政诉讼十一件。", [2], [11]),
    # Table words glued to prose (a PDF without rulings): 无法提供, 未经复议, 尚未审结 negate nothing.
    ("（四）无法提供1.本机关不掌握相关政府信息四、政府信息公开行政复议、行政诉讼情况本年度被申请行政复议4件", [4], []),
    ("行政复议行政诉讼结果维持结果纠正其他结果尚未审结总计未经复议直接起诉复议后起诉政府信息公开", [], []),
])
def test_stated_review(text, review, litigation):
    reviews, litigations = rules.stated_review(text)
    assert [n for n, _ in reviews] == review
    assert [n for n, _ in litigations] == litigation


def test_review_counts_in_chinese_numerals():
    text = swap(FLAT_2021, "被申请行政复议4件，被提起行政诉讼5件", "被申请行政复议四件，被提起行政诉讼五件")
    assert fired(check_text(text), "text_table_mismatch") == []
    text = swap(FLAT_2021, "被申请行政复议4件，被提起行政诉讼5件", "被申请行政复议两件，被提起行政诉讼五件")
    assert [f.row for f in fired(check_text(text), "text_table_mismatch")] == ["review"]
