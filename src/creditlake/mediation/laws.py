"""The law library (`laws/*.md`): official texts parsed into articles, the unit a mediator cites.

File format (LawRefBook/Laws): `# title`, the adoption and amendment history, `<!-- INFO END -->`, then
optional `## 第X章` / `### 第X节` headings and one article per paragraph beginning `第X条`; the paragraphs that
follow (second clauses, `（一）` items) belong to the same article. The parser tolerates what real files do:
full-width or no space after `第X条`, spaced chapter names (`第一章 总 则`), a preamble before the first article,
CRLF line ends, a byte-order mark, a missing INFO END marker, Arabic article numbers and `第X条之一`.
A paragraph that merely starts with 第 (`第三人明知……`) is not an article: numbering must advance.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

from creditlake.settings import REPO_ROOT

LAWS_DIR = REPO_ROOT / "laws"
INFO_END = "<!-- INFO END -->"
PRC = "中华人民共和国"

_DIGITS = {"零": 0, "〇": 0, "一": 1, "二": 2, "两": 2, "三": 3, "四": 4, "五": 5, "六": 6, "七": 7, "八": 8, "九": 9}
_UNITS = {"十": 10, "百": 100, "千": 1000}
_NUM = r"[零〇一二两三四五六七八九十百千\d]+"
# 第X条, optionally 之一, then a separator (ASCII/full-width space) or directly the text.
_ARTICLE = re.compile(rf"^第({_NUM})条(之[一二三四五六七八九十]+)?([\s\u3000]*)(.*)$", re.S)
_HEADING = re.compile(r"^(#{1,6})\s*(.+?)\s*#*$")
_CHAPTER = re.compile(rf"^第{_NUM}[章编]")
_SECTION = re.compile(rf"^第{_NUM}节")


def chinese_number(text: str) -> int:
    """`二十四` -> 24, `一百零八` -> 108, `十` -> 10, `24` -> 24; ValueError when it is not a number."""
    if text.isdigit():
        return int(text)
    total, digit = 0, 0
    for ch in text:
        if ch in _DIGITS:
            digit = _DIGITS[ch]
        elif ch in _UNITS:
            total += (digit or 1) * _UNITS[ch]
            digit = 0
        else:
            raise ValueError(f"not a Chinese number: {text!r}")
    return total + digit


_ZH = "零一二三四五六七八九"


def number_zh(n: int) -> str:
    """24 -> `二十四`, 108 -> `一百零八`, 10 -> `十` (as article numbers are written)."""
    if n < 10:
        return _ZH[n]
    if n < 20:
        return "十" + (_ZH[n % 10] if n % 10 else "")
    if n < 100:
        return _ZH[n // 10] + "十" + (_ZH[n % 10] if n % 10 else "")
    head, rest = _ZH[n // 100] + "百", n % 100
    if rest == 0:
        return head
    if rest < 10:
        return head + "零" + _ZH[rest]
    return head + (("一" + number_zh(rest)) if rest < 20 else number_zh(rest))


@dataclass(frozen=True)
class Article:
    law: str          # short title, e.g. 消费者权益保护法 (中华人民共和国 dropped)
    title: str        # full title as in the file
    chapter: str | None  # e.g. 第三章 经营者的义务 (None for texts without chapters)
    number_zh: str    # as written: 第二十四条
    number: int       # 24
    text: str         # the article's paragraphs joined by newlines, without the 第X条 prefix
    source_file: str  # file name in laws/
    suffix: str = ""  # 之一 for inserted articles

    @property
    def ref(self) -> str:
        """The citation as mediators write it: 消费者权益保护法第二十四条."""
        return f"{self.law}{self.number_zh}"


@dataclass(frozen=True)
class Law:
    title: str
    short: str
    history: list[str]
    source_file: str
    articles: list[Article]


def short_title(title: str) -> str:
    return title.removeprefix(PRC).strip()


def parse_law(text: str, source_file: str = "") -> Law:
    """Parse one law file's text; ValueError (naming the file) if it has no title or no article."""
    text = text.lstrip("\ufeff").replace("\r\n", "\n").replace("\r", "\n")
    paragraphs = [p.strip() for p in re.split(r"\n\s*\n", text) if p.strip()]
    # Single newlines inside a paragraph are line wraps; a heading is its own paragraph even without blank lines.
    blocks: list[str] = []
    for p in paragraphs:
        lines = [x.strip() for x in p.split("\n") if x.strip()]
        current: list[str] = []
        for line in lines:
            if line.startswith("#") or line == INFO_END or _ARTICLE.match(line) and current:
                if current:
                    blocks.append("\n".join(current))
                    current = []
                if line.startswith("#") or line == INFO_END:
                    blocks.append(line)
                    continue
            current.append(line)
        if current:
            blocks.append("\n".join(current))
    title = None
    history: list[str] = []
    has_marker = INFO_END in blocks
    in_head = True
    chapter = section = None
    articles: list[Article] = []
    current_art: dict | None = None

    def flush() -> None:
        if current_art is not None:
            articles.append(Article(text="\n".join(current_art.pop("parts")), **current_art))

    for block in blocks:
        heading = _HEADING.match(block) if block.startswith("#") else None
        if heading and title is None and len(heading.group(1)) == 1:
            title = heading.group(2)
            continue
        if block == INFO_END:
            in_head = False
            continue
        if in_head and has_marker:
            history.append(block)
            continue
        if heading:
            head, _, rest = heading.group(2).replace("\u3000", " ").strip().partition(" ")
            name = f"{head} {''.join(rest.split())}".strip()  # 第一章 总 则 -> 第一章 总则
            if _SECTION.match(name):
                section = name
            elif _CHAPTER.match(name) or len(heading.group(1)) == 2:
                chapter, section = name, None
            continue
        m = _ARTICLE.match(block)
        if m:
            try:
                n = chinese_number(m.group(1))
            except ValueError:
                n = -1
            suffix, spaced = m.group(2) or "", bool(m.group(3))
            last = current_art["number"] if current_art else (articles[-1].number if articles else 0)
            # An article advances the numbering (by one; by more only when a space follows 第X条, as a gap in
            # an excerpt), or is an inserted 之X article; anything else is a paragraph that starts with 第.
            if n == last + 1 or (suffix and n == last) or (spaced and n > last):
                flush()
                body = m.group(4).strip()
                current_art = {"law": "", "title": "", "chapter": " / ".join(x for x in (chapter, section) if x) or None,
                               "number_zh": f"第{m.group(1)}条{suffix}", "number": n, "source_file": source_file,
                               "suffix": suffix, "parts": [body] if body else []}
                continue
        if current_art is not None:
            current_art["parts"].append(block)
        # else: preamble before the first article (the SPC interpretation's issuing lines), ignored.
    flush()
    if title is None:
        raise ValueError(f"{source_file or 'law text'}: no '# title' line")
    if not articles:
        raise ValueError(f"{source_file or title}: no article (a paragraph beginning 第X条)")
    short = short_title(title)
    articles = [Article(**{**a.__dict__, "law": short, "title": title}) for a in articles]
    return Law(title=title, short=short, history=history, source_file=source_file, articles=articles)


def load_law(path: Path) -> Law:
    return parse_law(path.read_text(encoding="utf-8"), path.name)


@lru_cache(maxsize=4)
def load_library(directory: Path = LAWS_DIR) -> tuple[Law, ...]:
    """Every `*.md` law in `directory` (README.md excepted), sorted by file name."""
    paths = sorted(p for p in directory.glob("*.md") if p.name.lower() != "readme.md")
    if not paths:
        raise FileNotFoundError(f"{directory}: no law files (*.md)")
    return tuple(load_law(p) for p in paths)


def all_articles(directory: Path = LAWS_DIR) -> list[Article]:
    return [a for law in load_library(directory) for a in law.articles]


_REF = re.compile(rf"^(.+?)(第{_NUM}条(?:之[一二三四五六七八九十]+)?)$")


def split_ref(ref: str) -> tuple[str, str]:
    """`消费者权益保护法第二十四条` -> (`消费者权益保护法`, `第二十四条`); ValueError if it is not a citation."""
    m = _REF.match(ref.strip().removeprefix("《").replace("》", ""))
    if not m:
        raise ValueError(f"not an article citation: {ref!r}")
    return short_title(m.group(1)), m.group(2)


def article_index(directory: Path = LAWS_DIR) -> dict[str, Article]:
    """Articles by citation (`消费者权益保护法第二十四条`)."""
    return {a.ref: a for a in all_articles(directory)}
