"""`creditlake mediate`: similar past cases and relevant law articles for a consumer complaint, in Chinese.

Registered by the main CLI with `app.add_typer(mediation_app, name="mediate")`:

    creditlake mediate index --landing DIR            build the index from a landing zone's samr/mediation_cases
    creditlake mediate --complaint-file F [--k 5] [--json] [--landing DIR]

User errors (no such file, empty text, no index yet) print one red line and exit with code 2.
"""

from __future__ import annotations

import json
import sys
import time
from pathlib import Path
from typing import Annotated, Optional

import typer
from rich.console import Console
from rich.markup import escape

app = typer.Typer(
    help="调解辅助：为一件消费投诉找出相似的历史调解案例和相关法律条文，并说明匹配原因。",
    invoke_without_command=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)
err = Console(stderr=True, soft_wrap=True)
out = Console(soft_wrap=True, highlight=False)

IndexOption = Annotated[Optional[Path], typer.Option(
    "--index", help="索引文件；默认 <CREDITLAKE_HOME>/mediation/index.pkl。", show_default=False)]


def _fail(message: str) -> None:
    err.print(f"[bold red]错误：[/]{escape(' '.join(str(message).split()))}")
    raise typer.Exit(2)


def _money(value: float | None) -> str:
    return "—" if value is None else f"{value:,.2f} 元"


def _read_complaint(path: Path) -> str:
    if str(path) == "-":
        text = sys.stdin.read()
    else:
        if not path.is_file():
            _fail(f"找不到投诉文本文件 {path}")
        try:
            text = path.read_text(encoding="utf-8-sig")
        except UnicodeDecodeError:
            try:
                text = path.read_text(encoding="gb18030")
            except UnicodeDecodeError:
                _fail(f"{path} 不是 UTF-8 或 GB18030 编码的文本文件")
    text = text.strip()
    if not text:
        _fail(f"投诉文本 {path} 是空的")
    return text


def _print(s, k: int) -> None:
    from creditlake.generate.complaint_text import BY_KEY

    out.print(f"[bold]相似案例[/]（前 {len(s.cases)} 件；推测问题类别：{s.category or '未知'}）")
    if not s.cases:
        out.print("  没有找到相似的历史案例。")
    for n, c in enumerate(s.cases, 1):
        result = c.outcome or "结果未知"
        if c.settlement:
            result += f" · {c.settlement}"
        if c.settled_amount:
            result += f" {_money(c.settled_amount)}"
        label = BY_KEY[c.scenario].label if c.scenario in BY_KEY else ""
        out.print(f" {n}. {escape(c.case_id)} 〔{c.category}{'·' + label if label else ''}〕{result}"
                  f"（涉及金额 {_money(c.amount_involved)}）  相似度 {c.score:.1f}")
        out.print(f"    匹配原因：共同的词语“{'、'.join(c.matched_terms) or '无'}”")
        out.print(f"    案情：{escape(c.excerpt)}")
        if c.cited_articles:
            out.print(f"    调解依据：{escape('；'.join(c.cited_articles))}")
    out.print()
    out.print(f"[bold]相关法条[/]（前 {len(s.articles)} 条）")
    for n, a in enumerate(s.articles, 1):
        where = f"（{a.chapter}）" if a.chapter else ""
        out.print(f" {n}. 《{a.law}》{a.article}{where}  得分 {a.score:.2f}")
        reasons = []
        if a.matched_terms:
            reasons.append(f"条文含有“{'、'.join(a.matched_terms)}”")
        if a.cited_by:
            reasons.append(f"{a.cited_by} 件相似案例的调解依据引用了本条")
        out.print(f"    匹配原因：{'；'.join(reasons) or '与投诉内容相关'}")
        out.print(f"    条文：{escape(a.excerpt)}")
    out.print()
    out.print("[dim]提示：法条摘录仅供参考，引用前请核对官方文本（laws/README.md）。[/]")


@app.callback(invoke_without_command=True)
def mediate(
    ctx: typer.Context,
    complaint_file: Annotated[Optional[Path], typer.Option(
        "--complaint-file", "-f", help="投诉文本文件（UTF-8 或 GB18030；- 表示从标准输入读取）。", show_default=False)] = None,
    k: Annotated[int, typer.Option("--k", min=1, max=20, help="相似案例和相关法条各返回多少条。")] = 5,
    as_json: Annotated[bool, typer.Option("--json", help="输出 JSON（供其他程序读取）。")] = False,
    landing: Annotated[Optional[Path], typer.Option(
        "--landing", help="先从该落地区的 samr/mediation_cases 交付文件建立（并保存）索引，再检索。",
        show_default=False)] = None,
    index: IndexOption = None,
) -> None:
    """为一件消费投诉给出相似的历史调解案例和相关法条（及匹配原因）。"""
    if ctx.invoked_subcommand is not None:
        return
    if complaint_file is None:
        _fail("请用 --complaint-file 指定投诉文本文件（或用 creditlake mediate index --landing DIR 建立索引）")
    text = _read_complaint(complaint_file)
    from creditlake.mediation.search import MediationIndex, build_index_from_landing

    try:
        idx = build_index_from_landing(landing, index) if landing else MediationIndex.load(index)
        suggestion = idx.suggest(text, k=k)
    except (FileNotFoundError, ValueError) as exc:
        _fail(str(exc))
    if as_json:
        typer.echo(json.dumps(suggestion.to_dict(), ensure_ascii=False, indent=1))
    else:
        _print(suggestion, k)


@app.command("index")
def build_index(
    landing: Annotated[Path, typer.Option(
        "--landing", help="落地区目录：读取其中 samr/mediation_cases 的交付文件。", show_default=False)],
    index: IndexOption = None,
) -> None:
    """从落地区的调解记录和法律库建立调解检索索引。"""
    from creditlake.mediation.search import build_index_from_landing, default_index_path

    start = time.monotonic()
    try:
        idx = build_index_from_landing(landing, index)
    except (FileNotFoundError, ValueError) as exc:
        _fail(str(exc))
    err.print(f"[green]✓[/] 已建立调解检索索引：{len(idx.cases)} 件案例，{len(idx.articles)} 条法条 → "
              f"{escape(str(index or default_index_path()))} [dim]({time.monotonic() - start:.1f} s)[/]")
