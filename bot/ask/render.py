"""An Answer as text: plain lines for the terminal (`to_text`), Telegram HTML (`to_html`, parse mode
HTML, every piece of store or user text escaped)."""

from __future__ import annotations

from html import escape

from bot.ask.answer import Answer


def range_line(answer: Answer) -> str | None:
    """「第 11–20 条，共 25 条」 for a list longer than its page, else None."""
    if not answer.items or not answer.paged:
        return None
    first = answer.offset + 1
    last = answer.offset + len(answer.items)
    return f"第 {first:,}–{last:,} 条，共 {answer.total:,} 条"


def _footer(answer: Answer) -> list[str]:
    return [line for line in (range_line(answer), answer.basis, *answer.notes) if line]


def to_text(answer: Answer) -> str:
    """The answer as plain text lines (the command line)."""
    lines = [answer.title, *answer.summary, *answer.items]
    if answer.choices:
        for i, choice in enumerate(answer.choices, 1):
            ref = f"编号 {choice.agency_id}" if choice.agency_id is not None else f"代码 {choice.region_code}"
            lines.append(f"{i}. {choice.label} — {ref}")
    lines.extend(f"· {s}" for s in answer.suggestions)
    footer = _footer(answer)
    if footer:
        lines.append("")
        lines.extend(footer)
    return "\n".join(lines)


def to_html(answer: Answer) -> str:
    """The answer as a Telegram message in HTML parse mode. Choices are listed here and offered as
    buttons by the bot; the paging buttons are the bot's too."""
    lines = [f"<b>{escape(answer.title)}</b>"]
    lines.extend(escape(s) for s in answer.summary)
    lines.extend(escape(s) for s in answer.items)
    for i, choice in enumerate(answer.choices, 1):
        lines.append(f"{i}. {escape(choice.label)}")
    lines.extend(f"• {escape(s)}" for s in answer.suggestions)
    footer = _footer(answer)
    if footer:
        lines.append("")
        lines.extend(f"<i>{escape(s)}</i>" for s in footer)
    return "\n".join(lines)
