"""A report as Microsoft Word "Save as Web Page" HTML.

What real exports look like (Pingtan 2019–2022 pages are 200–355 k characters for a
four-page report): `<!--[if gte mso 9]>` XML blocks (document properties, WordDocument
settings, ~370 latent style exceptions), a long `<style>` of font and style definitions,
`class=MsoNormal` paragraphs with heavy `mso-` inline styles, a run (`<span>`) per change
of script so digits sit in their own `lang=EN-US` spans, numbers split across runs,
`<o:p></o:p>` paragraph marks, `<br>` inside table labels, and after a table with merged
cells the `<![if !supportMisalignedColumns]>` row of empty cells.
"""

from __future__ import annotations

import re
from html import escape

from ._common import blocks, heading_level, stable_int, title_lines
from .spec import ReportSpec
from .tables import GridCell, GridTable

# ---- document head ------------------------------------------------------------------------

_NAMESPACES = (
    'xmlns:v="urn:schemas-microsoft-com:vml"\nxmlns:o="urn:schemas-microsoft-com:office:office"\n'
    'xmlns:w="urn:schemas-microsoft-com:office:word"\n'
    'xmlns:m="http://schemas.microsoft.com/office/2004/12/omml"\n'
    'xmlns="http://www.w3.org/TR/REC-html40"'
)

_COMPATIBILITY = (
    "SpaceForUL", "BalanceSingleByteDoubleByteWidth", "DoNotLeaveBackslashAlone", "ULTrailSpace",
    "DoNotExpandShiftReturn", "AdjustLineHeightInTable", "BreakWrappedTables", "SnapToGridInCell",
    "WrapTextWithPunct", "UseAsianBreakRules", "DontGrowAutofit", "SplitPgBreakAndParaMark",
    "EnableOpenTypeKerning", "DontFlipMirrorIndents", "OverrideTableStyleHps", "UseFELayout",
)

_MATH_PR = (
    ("mathFont", "Cambria Math"), ("brkBin", "before"), ("brkBinSub", "&#45;-"), ("smallFrac", "off"),
    ("dispDef", None), ("lMargin", "0"), ("rMargin", "0"), ("defJc", "centerGroup"),
    ("wrapIndent", "1440"), ("intLim", "subSup"), ("naryLim", "undOvr"),
)

# Latent style exceptions: (name, priority, flags) with flags from
# q = QFormat, u = UnhideWhenUsed + SemiHidden.
_LATENT_BASE = (
    ("Normal", 0, "q"), *((f"heading {i}", 9, "q" if i == 1 else "qu") for i in range(1, 10)),
    *((f"index {i}", 99, "u") for i in range(1, 10)), *((f"toc {i}", 39, "u") for i in range(1, 10)),
    ("Normal Indent", 99, "u"), ("footnote text", 99, "u"), ("annotation text", 99, "u"),
    ("header", 99, "u"), ("footer", 99, "u"), ("index heading", 99, "u"), ("caption", 35, "qu"),
    ("table of figures", 99, "u"), ("envelope address", 99, "u"), ("envelope return", 99, "u"),
    ("footnote reference", 99, "u"), ("annotation reference", 99, "u"), ("line number", 99, "u"),
    ("page number", 99, "u"), ("endnote reference", 99, "u"), ("endnote text", 99, "u"),
    ("table of authorities", 99, "u"), ("macro", 99, "u"), ("toa heading", 99, "u"),
    *((name, 99, "u") for name in ("List", "List Bullet", "List Number")),
    *((f"List {i}", 99, "u") for i in range(2, 6)),
    *((f"List {kind} {i}", 99, "u") for kind in ("Bullet", "Number") for i in range(2, 6)),
    ("Title", 10, "q"), ("Closing", 99, "u"), ("Signature", 99, "u"), ("Default Paragraph Font", 1, "u"),
    ("Body Text", 99, "u"), ("Body Text Indent", 99, "u"),
    *((f"List Continue{'' if i == 1 else ' ' + str(i)}", 99, "u") for i in range(1, 6)),
    ("Message Header", 99, "u"), ("Subtitle", 11, "q"), ("Salutation", 99, "u"), ("Date", 99, "u"),
    ("Body Text First Indent", 99, "u"), ("Body Text First Indent 2", 99, "u"), ("Note Heading", 99, "u"),
    ("Body Text 2", 99, "u"), ("Body Text 3", 99, "u"), ("Body Text Indent 2", 99, "u"),
    ("Body Text Indent 3", 99, "u"), ("Block Text", 99, "u"), ("Hyperlink", 99, "u"),
    ("FollowedHyperlink", 99, "u"), ("Strong", 22, "q"), ("Emphasis", 20, "q"), ("Document Map", 99, "u"),
    ("Plain Text", 99, "u"), ("E-mail Signature", 99, "u"), ("HTML Top of Form", 99, "u"),
    ("HTML Bottom of Form", 99, "u"), ("Normal (Web)", 99, "u"), ("HTML Acronym", 99, "u"),
    ("HTML Address", 99, "u"), ("HTML Cite", 99, "u"), ("HTML Code", 99, "u"), ("HTML Definition", 99, "u"),
    ("HTML Keyboard", 99, "u"), ("HTML Preformatted", 99, "u"), ("HTML Sample", 99, "u"),
    ("HTML Typewriter", 99, "u"), ("HTML Variable", 99, "u"), ("Normal Table", 99, "u"),
    ("annotation subject", 99, "u"), ("No List", 99, "u"), ("Outline List 1", 99, "u"),
    ("Outline List 2", 99, "u"), ("Outline List 3", 99, "u"),
    *((f"Table {kind} {i}", 99, "u") for kind in ("Simple", "Classic", "Colorful", "Columns", "Grid", "List",
                                                   "3D effects") for i in range(1, 4)),
    ("Table Contemporary", 99, "u"), ("Table Elegant", 99, "u"), ("Table Professional", 99, "u"),
    ("Table Subtle 1", 99, "u"), ("Table Subtle 2", 99, "u"), ("Table Web 1", 99, "u"),
    ("Table Web 2", 99, "u"), ("Table Web 3", 99, "u"), ("Balloon Text", 99, "u"), ("Table Grid", 39, ""),
    ("Table Theme", 99, "u"), ("Placeholder Text", 99, "u"), ("No Spacing", 1, "q"),
)
_TABLE_STYLE_FAMILIES = (
    "Light Shading", "Light List", "Light Grid", "Medium Shading 1", "Medium Shading 2", "Medium List 1",
    "Medium List 2", "Medium Grid 1", "Medium Grid 2", "Medium Grid 3", "Dark List", "Colorful Shading",
    "Colorful List", "Colorful Grid",
)
_TABLE_2013_FAMILIES = (
    "Grid Table 1 Light", "Grid Table 2", "Grid Table 3", "Grid Table 4", "Grid Table 5 Dark",
    "Grid Table 6 Colorful", "Grid Table 7 Colorful", "List Table 1 Light", "List Table 2", "List Table 3",
    "List Table 4", "List Table 5 Dark", "List Table 6 Colorful", "List Table 7 Colorful",
)
_LATENT_TAIL = (
    ("Revision", 99, "u"), ("List Paragraph", 34, "q"), ("Quote", 29, "q"), ("Intense Quote", 30, "q"),
    ("Bibliography", 37, "u"), ("TOC Heading", 39, "qu"),
    *((f"Plain Table {i}", 40 + i, "") for i in range(1, 6)),
    ("Grid Table Light", 40, ""), ("Mention", 99, "u"), ("Smart Hyperlink", 99, "u"),
    ("Hashtag", 99, "u"), ("Unresolved Mention", 99, "u"), ("Smart Link", 99, "u"),
    ("Subtle Emphasis", 19, "q"), ("Intense Emphasis", 21, "q"), ("Subtle Reference", 31, "q"),
    ("Intense Reference", 32, "q"), ("Book Title", 33, "q"),
)

_FONTS = (
    ("宋体", "SimSun", "2 1 6 0 3 1 1 1 1 1", 134, "3 680460288 22 0 262145 0"),
    ("Cambria Math", None, "2 4 5 3 5 4 6 3 2 4", 0, "-536870145 1107305727 0 0 415 0"),
    ("等线", "DengXian", "2 1 6 0 3 1 1 1 1 1", 134, "-1610612033 953122042 22 0 262159 0"),
    ("仿宋_GB2312", None, "2 1 6 9 3 1 1 1 1 1", 134, "1 135135232 16 0 262144 0"),
    ("黑体", "SimHei", "2 1 6 9 6 1 1 1 1 1", 134, "-2147482945 953122042 22 0 262145 0"),
    ("楷体_GB2312", None, "2 1 6 9 3 1 1 1 1 1", 134, "1 135135232 16 0 262144 0"),
    ("方正小标宋简体", None, "2 1 6 1 3 1 1 1 1 1", 134, "1 135135232 16 0 262144 0"),
    ("仿宋", None, "2 1 6 9 6 1 1 1 1 1", 134, "-2147482945 953122042 22 0 262145 0"),
)

_STYLE_DEFS = (
    ("p.MsoNormal, li.MsoNormal, div.MsoNormal", (
        "mso-style-unhide:no", "mso-style-qformat:yes", 'mso-style-parent:""', "margin:0cm",
        "text-align:justify", "text-justify:inter-ideograph", "mso-pagination:none", "font-size:10.5pt",
        "mso-bidi-font-size:12.0pt", 'font-family:"Times New Roman",serif', "mso-fareast-font-family:宋体",
        "mso-font-kerning:1.0pt")),
    ("p.MsoHeader, li.MsoHeader, div.MsoHeader", (
        "mso-style-priority:99", "mso-style-link:\"页眉 字符\"", "margin:0cm", "text-align:center",
        "mso-pagination:none", "tab-stops:center 207.65pt right 415.3pt", "layout-grid-mode:char",
        "border:none", "mso-border-bottom-alt:solid windowtext .75pt", "padding:0cm",
        "mso-padding-alt:0cm 0cm 1.0pt 0cm", "font-size:9.0pt", 'font-family:"Times New Roman",serif',
        "mso-fareast-font-family:宋体", "mso-font-kerning:1.0pt")),
    ("p.MsoFooter, li.MsoFooter, div.MsoFooter", (
        "mso-style-priority:99", "mso-style-link:\"页脚 字符\"", "margin:0cm",
        "mso-pagination:none", "tab-stops:center 207.65pt right 415.3pt", "layout-grid-mode:char",
        "font-size:9.0pt", 'font-family:"Times New Roman",serif', "mso-fareast-font-family:宋体",
        "mso-font-kerning:1.0pt")),
    ("p.MsoTitle, li.MsoTitle, div.MsoTitle", (
        "mso-style-priority:10", "mso-style-qformat:yes", "margin-top:12.0pt", "margin-right:0cm",
        "margin-bottom:3.0pt", "margin-left:0cm", "text-align:center", "mso-pagination:none",
        "mso-outline-level:1", "font-size:16.0pt", "font-family:等线", "mso-ascii-font-family:等线",
        "mso-fareast-font-family:等线", "mso-hansi-font-family:等线", "mso-bidi-font-family:\"Times New Roman\"",
        "mso-font-kerning:1.0pt", "font-weight:bold")),
    ("p.MsoNormalWeb, li.MsoNormalWeb, div.MsoNormalWeb", (
        "mso-style-priority:99", "mso-margin-top-alt:auto", "margin-right:0cm", "mso-margin-bottom-alt:auto",
        "margin-left:0cm", "mso-pagination:widow-orphan", "font-size:12.0pt", "font-family:宋体",
        "mso-bidi-font-family:宋体")),
    ("span.MsoHyperlink", ("mso-style-priority:99", "color:blue", "text-decoration:underline",
                           "text-underline:single")),
    ("span.a", ("mso-style-name:\"页眉 字符\"", "mso-style-priority:99", "mso-style-unhide:no",
                "mso-style-locked:yes", "mso-style-link:页眉", "mso-ansi-font-size:9.0pt",
                'font-family:"Times New Roman",serif', "mso-fareast-font-family:宋体")),
    ("span.a0", ("mso-style-name:\"页脚 字符\"", "mso-style-priority:99", "mso-style-unhide:no",
                 "mso-style-locked:yes", "mso-style-link:页脚", "mso-ansi-font-size:9.0pt",
                 'font-family:"Times New Roman",serif', "mso-fareast-font-family:宋体")),
    ("span.GramE", ("mso-style-name:\"\"", "mso-gram-e:yes")),
    (".MsoChpDefault", ("mso-style-type:export-only", "mso-default-props:yes", "font-size:10.0pt",
                        "mso-ansi-font-size:10.0pt", "mso-bidi-font-size:10.0pt",
                        "mso-ascii-font-family:\"Times New Roman\"", "mso-fareast-font-family:宋体",
                        "mso-hansi-font-family:\"Times New Roman\"", "mso-font-kerning:0pt")),
)


def _with_accents(family: str) -> list[str]:
    return [family, *(f"{family} Accent {i}" for i in range(1, 7))]


def _latent_styles() -> list[tuple[str, int, str]]:
    styles = list(_LATENT_BASE)
    for n, family in enumerate(_TABLE_STYLE_FAMILIES):
        styles.extend((name, 60 + n, "") for name in _with_accents(family))
    for n, family in enumerate(_TABLE_2013_FAMILIES):
        styles.extend((name, 46 + n % 7, "") for name in _with_accents(family))
    styles.extend(_LATENT_TAIL)
    return styles


def _latent_exception(name: str, priority: int, flags: str) -> str:
    attrs = f'Locked="false" Priority="{priority}"'
    if "u" in flags:
        attrs = f'Locked="false" Priority="{priority}" SemiHidden="true"\n   UnhideWhenUsed="true"'
    if "q" in flags:
        attrs += ' QFormat="true"'
    return f'  <w:LsdException {attrs} Name="{name}"/>'


def _xml_blocks(spec: ReportSpec, characters: int) -> str:
    assert spec.published is not None
    saved = spec.published.strftime("%Y-%m-%dT%H:%M:00Z")
    author = spec.agency[-6:] if len(spec.agency) > 6 else spec.agency
    props = {
        "Author": escape(author),
        "LastAuthor": "Administrator",
        "Revision": str(2 + stable_int(spec.agency) % 9),
        "TotalTime": str(5 + stable_int(spec.title) % 80), "Created": saved, "LastSaved": saved,
        "Pages": str(max(3, characters // 900)), "Words": str(characters // 2), "Characters": str(characters),
        "Company": "Microsoft", "Lines": str(characters // 40), "Paragraphs": str(characters // 180),
        "CharactersWithSpaces": str(characters + characters // 30), "Version": "16.00",
    }
    doc_props = "\n".join(f"  <o:{k}>{v}</o:{k}>" for k, v in props.items())
    compat = "\n".join(f"   <w:{name}/>" for name in _COMPATIBILITY)
    math = "\n".join(
        f'   <m:{name} m:val="{val}"/>' if val is not None else f"   <m:{name}/>" for name, val in _MATH_PR
    )
    styles = _latent_styles()
    latent = "\n".join(_latent_exception(*s) for s in styles)
    return f"""<!--[if gte mso 9]><xml>
 <o:DocumentProperties>
{doc_props}
 </o:DocumentProperties>
 <o:OfficeDocumentSettings>
  <o:AllowPNG/>
 </o:OfficeDocumentSettings>
</xml><![endif]-->
<link rel=themeData href="report.files/themedata.thmx">
<link rel=colorSchemeMapping href="report.files/colorschememapping.xml">
<!--[if gte mso 9]><xml>
 <w:WordDocument>
  <w:View>Print</w:View>
  <w:SpellingState>Clean</w:SpellingState>
  <w:GrammarState>Clean</w:GrammarState>
  <w:TrackMoves>false</w:TrackMoves>
  <w:TrackFormatting/>
  <w:PunctuationKerning/>
  <w:DrawingGridVerticalSpacing>7.8 磅</w:DrawingGridVerticalSpacing>
  <w:DisplayHorizontalDrawingGridEvery>0</w:DisplayHorizontalDrawingGridEvery>
  <w:DisplayVerticalDrawingGridEvery>2</w:DisplayVerticalDrawingGridEvery>
  <w:ValidateAgainstSchemas/>
  <w:SaveIfXMLInvalid>false</w:SaveIfXMLInvalid>
  <w:IgnoreMixedContent>false</w:IgnoreMixedContent>
  <w:AlwaysShowPlaceholderText>false</w:AlwaysShowPlaceholderText>
  <w:DoNotPromoteQF/>
  <w:LidThemeOther>EN-US</w:LidThemeOther>
  <w:LidThemeAsian>ZH-CN</w:LidThemeAsian>
  <w:LidThemeComplexScript>X-NONE</w:LidThemeComplexScript>
  <w:Compatibility>
{compat}
  </w:Compatibility>
  <m:mathPr>
{math}
  </m:mathPr></w:WordDocument>
</xml><![endif]--><!--[if gte mso 9]><xml>
 <w:LatentStyles DefLockedState="false" DefUnhideWhenUsed="false"
  DefSemiHidden="false" DefQFormat="false" DefPriority="99"
  LatentStyleCount="{len(styles)}">
{latent}
 </w:LatentStyles>
</xml><![endif]-->"""


_TABLE_STYLE_DEFS = (
    ("table.MsoNormalTable", (
        "mso-style-name:普通表格", "mso-tstyle-rowband-size:0", "mso-tstyle-colband-size:0",
        "mso-style-noshow:yes", "mso-style-priority:99", 'mso-style-parent:""',
        "mso-padding-alt:0cm 5.4pt 0cm 5.4pt", "mso-para-margin:0cm", "mso-pagination:widow-orphan",
        "font-size:10.0pt", 'font-family:"Times New Roman",serif')),
    ("table.MsoTableGrid", (
        "mso-style-name:网格型", "mso-tstyle-rowband-size:0", "mso-tstyle-colband-size:0",
        "mso-style-priority:39", "mso-style-unhide:no", "border:solid windowtext 1.0pt",
        "mso-border-alt:solid windowtext .5pt", "mso-padding-alt:0cm 5.4pt 0cm 5.4pt",
        "mso-border-insideh:.5pt solid windowtext", "mso-border-insidev:.5pt solid windowtext",
        "mso-para-margin:0cm", "text-align:justify", "text-justify:inter-ideograph", "mso-pagination:none",
        "font-size:10.0pt", 'font-family:"Times New Roman",serif')),
)
_PAGE_DEFS = (
    ("@page WordSection1", (
        "size:595.3pt 841.9pt", "margin:72.0pt 79.4pt 72.0pt 79.4pt", "mso-header-margin:42.55pt",
        "mso-footer-margin:49.6pt", "mso-page-numbers:1", "mso-paper-source:0", "layout-grid:15.6pt")),
    ("div.WordSection1", ("page:WordSection1",)),
)
_SHAPE_BLOCKS = (
    '<!--[if gte mso 9]><xml>\n <o:shapedefaults v:ext="edit" spidmax="2050"/>\n</xml><![endif]-->'
    '<!--[if gte mso 9]><xml>\n <o:shapelayout v:ext="edit">\n  <o:idmap v:ext="edit" data="1"/>'
    "\n </o:shapelayout></xml><![endif]-->"
)


def _css_rule(selector: str, props: tuple[str, ...], indent: str = " ") -> str:
    """A rule laid out as Word writes it: selector, then one property per tab-indented line."""
    return f"{indent}{selector}\n\t{{" + ";\n\t".join(props) + ";}"


def _font_face(name: str, alt: str | None, panose: str, charset: int, signature: str) -> str:
    family = f'"{name}"' if " " in name else name
    props = [f"font-family:{family}", f"panose-1:{panose}"]
    if alt:
        props.append(f"mso-font-alt:{alt}")
    props += [
        f"mso-font-charset:{charset}",
        f"mso-generic-font-family:{'roman' if charset == 0 else 'auto'}",
        "mso-font-pitch:variable",
        f"mso-font-signature:{signature}",
    ]
    return _css_rule("@font-face", tuple(props))


def _style_block() -> str:
    fonts = [_font_face(*font) for font in _FONTS]
    fonts.append(_font_face('"\\@宋体"', None, *_FONTS[0][2:]))
    styles = [_css_rule(selector, props) for selector, props in _STYLE_DEFS]
    pages = [_css_rule(selector, props, indent="") for selector, props in _PAGE_DEFS]
    tables = [_css_rule(selector, props) for selector, props in _TABLE_STYLE_DEFS]
    return (
        "<style>\n<!--\n /* Font Definitions */\n" + "\n".join(fonts)
        + "\n /* Style Definitions */\n" + "\n".join(styles + pages) + "\n-->\n</style>\n"
        + "<!--[if gte mso 10]>\n<style>\n /* Style Definitions */\n" + "\n".join(tables)
        + "\n</style>\n<![endif]-->" + _SHAPE_BLOCKS
    )


# ---- runs and paragraphs --------------------------------------------------------------------

_SCRIPT_RUNS = re.compile(r"[\x00-\x7f]+|[^\x00-\x7f]+")
_BODY_FONT = "font-size:16.0pt;font-family:仿宋_GB2312;mso-hansi-font-family:\"Times New Roman\";color:black"
_H1_FONT = "font-size:16.0pt;font-family:黑体;mso-hansi-font-family:黑体;mso-bidi-font-family:黑体;color:black"
_H2_FONT = "font-size:16.0pt;font-family:楷体_GB2312;mso-hansi-font-family:\"Times New Roman\";color:black"
_TITLE_FONT = "font-size:22.0pt;font-family:方正小标宋简体;mso-hansi-font-family:\"Times New Roman\";color:black"
_BODY_P = ("text-indent:32.0pt;mso-char-indent-count:2.0;line-height:28.0pt;mso-line-height-rule:exactly;"
           "mso-pagination:widow-orphan;background:white")
_CELL_CJK = "font-size:10.0pt;font-family:宋体;mso-bidi-font-family:宋体;color:black;mso-font-kerning:0pt"
_CELL_ASCII = ("font-size:10.0pt;font-family:\"Times New Roman\",serif;mso-fareast-font-family:宋体;"
               "mso-bidi-font-family:宋体;color:black;mso-font-kerning:0pt")


def _run(text: str, style: str, ascii_text: bool) -> str:
    lang = "lang=EN-US " if ascii_text else ""
    return f"<span {lang}style='{style}'>{escape(text, quote=False)}</span>"


def _runs(text: str, style: str) -> str:
    """One run per change of script, as Word writes mixed Chinese/Latin text."""
    return "".join(_run(m.group(0), style, m.group(0).isascii()) for m in _SCRIPT_RUNS.finditer(text))


def _end_mark(style: str) -> str:
    return f"<span lang=EN-US style='{style}'><o:p></o:p></span>"


def _paragraph(text: str) -> str:
    level = heading_level(text)
    style = _H1_FONT if level == 1 else _H2_FONT if level == 2 else _BODY_FONT
    runs = _runs(text, style)
    if level:
        runs = f"<b style='mso-bidi-font-weight:normal'>{runs}</b>"
    return f"<p class=MsoNormal style='{_BODY_P}'>{runs}{_end_mark(style)}</p>"


def _title(spec: ReportSpec) -> str:
    return "\n\n".join(
        f"<p class=MsoNormal align=center style='text-align:center;line-height:28.0pt;"
        f"mso-line-height-rule:exactly;mso-pagination:widow-orphan'>{_runs(line, _TITLE_FONT)}"
        f"{_end_mark(_TITLE_FONT)}</p>"
        for line in title_lines(spec)
    ) + "\n\n" + f"<p class=MsoNormal style='{_BODY_P}'>{_end_mark(_BODY_FONT)}</p>"


# ---- tables ----------------------------------------------------------------------------

_COLUMN_WIDTHS_PT = {
    "proactive": (120.0, 100.0, 100.0, 100.0),
    "applications": (30.0, 52.0, 120.0, *(34.0,) * 7),
    "review_litigation": (28.0,) * 15,
}
_PADDING = "padding:0cm 5.4pt 0cm 5.4pt"


def _border(row: int, col: int) -> str:
    """Word's collapsed borders: a cell below or right of another drops that edge and keeps
    it only as an mso- alternative."""
    if row == 0 and col == 0:
        return f"border:solid windowtext 1.0pt;mso-border-alt:solid windowtext .5pt;{_PADDING}"
    parts = ["border:solid windowtext 1.0pt"]
    if row > 0:
        parts.append("border-top:none")
    if col > 0:
        parts.append("border-left:none")
    if row > 0:
        parts.append("mso-border-top-alt:solid windowtext .5pt")
    if col > 0:
        parts.append("mso-border-left-alt:solid windowtext .5pt")
    parts += ["mso-border-alt:solid windowtext .5pt", _PADDING]
    return ";".join(parts)


def _value_runs(cell: GridCell) -> str:
    """Value text; multi-digit numbers split across two runs in about half the cells."""
    text = cell.text
    if not text:
        return f"<span lang=EN-US style='{_CELL_ASCII}'><o:p>&nbsp;</o:p></span>"
    split = 0
    if re.fullmatch(r"\d+\.\d+", text):
        split = text.index(".")
    elif re.fullmatch(r"\d{2,}", text) and stable_int(cell.key, text) % 2 == 0:
        split = 1
    pieces = [text[:split], text[split:]] if split else [text]
    runs = "".join(_run(p, _CELL_ASCII if p.isascii() else _CELL_CJK, p.isascii()) for p in pieces if p)
    return runs + _end_mark(_CELL_ASCII)


def _label_runs(cell: GridCell) -> str:
    # A label printed on several lines is one paragraph with manual line breaks (<br>).
    lines = cell.display_lines()
    inner = "<br>".join(escape(line, quote=False) for line in lines)
    return f"<span style='{_CELL_CJK}'>{inner}{_end_mark(_CELL_CJK)}</span>"


def _td(cell: GridCell, width_pt: float, height: str, row: int, col: int) -> str:
    attrs = f"width={round(width_pt * 4 / 3)}"
    if cell.colspan > 1:
        attrs += f" colspan={cell.colspan}"
    if cell.rowspan > 1:
        attrs += f" rowspan={cell.rowspan}"
    flow = "layout-flow:vertical-ideographic;" if cell.vertical else ""
    style = f"width:{width_pt:.2f}pt;{_border(row, col)};{flow}height:{height}"
    align = "left" if cell.role == "label" and cell.colspan == 1 and cell.rowspan == 1 else "center"
    runs = _value_runs(cell) if cell.role == "value" else _label_runs(cell)
    para = (f"<p class=MsoNormal align={align} style='text-align:{align};line-height:15.0pt;"
            f"mso-line-height-rule:exactly;mso-pagination:widow-orphan'>{runs}</p>")
    return f"  <td {attrs} valign=middle style='{style}'>\n  {para}\n  </td>"


def _table(table: GridTable) -> str:
    widths = _COLUMN_WIDTHS_PT[table.kind]
    total = sum(widths)
    rows = []
    last = len(table.rows) - 1
    for r, (row, layout) in enumerate(zip(table.rows, _origins(table))):
        flags = f"mso-yfti-irow:{r}" + (";mso-yfti-firstrow:yes" if r == 0 else "") + (
            ";mso-yfti-lastrow:yes" if r == last else "")
        height = "20.25pt" if table.kind != "review_litigation" else "27.0pt"
        cells = "\n".join(
            _td(cell, sum(widths[c : c + cell.colspan]), height, r, c) for cell, c in zip(row, layout)
        )
        rows.append(f" <tr style='{flags};height:{height}'>\n{cells}\n </tr>")
    misaligned = "\n".join(f"  <td width={round(w * 4 / 3)} style='border:none'></td>" for w in widths)
    style = (
        f"width:{total:.2f}pt;border-collapse:collapse;mso-table-layout-alt:fixed;border:none;"
        "mso-border-alt:solid windowtext .5pt;mso-yfti-tbllook:1184;mso-padding-alt:0cm 5.4pt 0cm 5.4pt;"
        "mso-border-insideh:.5pt solid windowtext;mso-border-insidev:.5pt solid windowtext"
    )
    return (
        "<div align=center>\n\n<table class=MsoNormalTable border=0 cellspacing=0 cellpadding=0 "
        f"width={round(total * 4 / 3)} style='{style}'>\n"
        + "\n".join(rows)
        + f"\n <![if !supportMisalignedColumns]>\n <tr height=0>\n{misaligned}\n </tr>\n <![endif]>"
        + "\n</table>\n\n</div>"
    )


def _origins(table: GridTable) -> list[list[int]]:
    """For each row, the grid column each listed cell starts at."""
    grid = table.expand()
    out = []
    for r, row in enumerate(table.rows):
        starts = []
        for cell in row:
            starts.append(next(c for c, slot in enumerate(grid[r]) if slot is not None and slot[0] is cell))
        out.append(starts)
    return out


# ---- document -------------------------------------------------------------------------------


def to_word_html(spec: ReportSpec) -> str:
    """The report as Word's filtered-less "Save as Web Page" output (UTF-8 text)."""
    body = [_title(spec)]
    for block in blocks(spec):
        body.append(_paragraph(block) if isinstance(block, str) else _table(block))
        if not isinstance(block, str):
            body.append(f"<p class=MsoNormal style='{_BODY_P}'>{_end_mark(_BODY_FONT)}</p>")
    characters = sum(len(b) for b in spec.body if isinstance(b, str))
    content = "\n\n".join(body).replace("<span style=", "<span\nstyle=").replace("<span lang=EN-US style=",
                                                                                   "<span lang=EN-US\nstyle=")
    return f"""<html {_NAMESPACES}>

<head>
<meta http-equiv=Content-Type content="text/html; charset=utf-8">
<meta name=ProgId content=Word.Document>
<meta name=Generator content="Microsoft Word 15">
<meta name=Originator content="Microsoft Word 15">
<link rel=File-List href="report.files/filelist.xml">
<title>{escape(spec.title or '')}</title>
{_xml_blocks(spec, characters)}
{_style_block()}
</head>

<body lang=ZH-CN style='tab-interval:21.0pt;text-justify-trim:punctuation'>

<div class=WordSection1 style='layout-grid:15.6pt'>

{content}

</div>

</body>

</html>
"""
