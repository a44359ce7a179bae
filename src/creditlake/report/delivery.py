"""Mailing the monthly PDF to the people it is for: every address of every role in `report_recipients`.

`compose` builds the message (pure); `send_report` sends it through the SMTP server of the settings, once per
report and address: a record under home/reports/sent/ remembers what was sent to whom, so a rerun of the DAG's
report task mails nothing, a recipient added since gets it alone, and a report that changed (a backfill corrected
the month) goes to everyone again. No SMTP server configured: the report is written and not mailed, and the result says so.
"""

from __future__ import annotations

import hashlib
import json
import logging
import smtplib
from dataclasses import dataclass
from email.message import EmailMessage
from email.utils import formataddr, make_msgid
from pathlib import Path

from creditlake.report.figures import month_label
from creditlake.report.monthly import REPORT_TITLE
from creditlake.settings import Settings

log = logging.getLogger(__name__)

SENDER_NAME = "企业信用监管数据平台"


@dataclass(frozen=True)
class Delivery:
    """What became of one report: `sent` to `recipients`, or not, and why (Chinese, for the task's log)."""

    month: str
    sent: bool
    recipients: tuple[str, ...]
    reason: str


def recipients(settings: Settings) -> tuple[str, ...]:
    """Every address of every role, each once, in a stable order."""
    return tuple(sorted({a.strip() for addresses in settings.report_recipients.values() for a in addresses
                         if a.strip()}))


def attachment_name(month: str) -> str:
    """'贵阳市企业信用监管月度报告（2024年6月）.pdf'."""
    return f"{REPORT_TITLE}（{month_label(month)}）.pdf"


def compose(month: str, pdf: bytes, to: tuple[str, ...], sender: str) -> EmailMessage:
    """The mail: a Chinese subject and note, the PDF attached under a Chinese file name (RFC 2231)."""
    msg = EmailMessage()
    msg["Subject"] = f"{REPORT_TITLE}（{month_label(month)}）"
    msg["From"] = formataddr((SENDER_NAME, sender))
    msg["To"] = ", ".join(to)
    msg["Message-ID"] = make_msgid(domain=sender.rsplit("@", 1)[-1] or "localhost")
    msg.set_content(
        f"各位领导：\n\n附件为{month_label(month)}的企业信用监管月度报告（PDF），内容包括市场主体发展、企业活跃度、"
        "失联企业、风险预警与信用监管情况。\n\n本邮件由企业信用监管数据平台自动发送，请勿直接回复。\n")
    msg.add_attachment(pdf, maintype="application", subtype="pdf", filename=attachment_name(month))
    return msg


def _record(settings: Settings, month: str) -> Path:
    return settings.reports / "sent" / f"{month}.json"


def send_report(settings: Settings, month: str, pdf_path: Path) -> Delivery:
    """Mail the report for `month` unless this very report already went to these recipients."""
    to = recipients(settings)
    if not settings.smtp_host:
        return Delivery(month, False, (), "未配置邮件服务器（CREDITLAKE_SMTP_HOST），报告未发送")
    if not to:
        return Delivery(month, False, (), "未配置报告接收人（CREDITLAKE_REPORT_RECIPIENTS），报告未发送")
    pdf = Path(pdf_path).read_bytes()
    digest = hashlib.sha256(pdf).hexdigest()
    record = _record(settings, month)
    done = json.loads(record.read_text(encoding="utf-8")) if record.exists() else {}
    already = set(done.get("recipients", [])) if done.get("sha256") == digest else set()
    to = tuple(a for a in to if a not in already)
    if not to:
        return Delivery(month, False, (), "本报告已发送给全部接收人，未重复发送")
    msg = compose(month, pdf, to, settings.report_sender)
    try:
        with smtplib.SMTP(settings.smtp_host, settings.smtp_port, timeout=60) as smtp:
            if settings.smtp_starttls:
                smtp.starttls()
            if settings.smtp_user:
                password = settings.smtp_password.get_secret_value() if settings.smtp_password else ""
                smtp.login(settings.smtp_user, password)
            smtp.send_message(msg)
    except OSError as exc:  # refused, unreachable, or any smtplib.SMTPException (an OSError)
        raise RuntimeError(f"月度报告邮件发送失败（{settings.smtp_host}:{settings.smtp_port}）：{exc}") from exc
    record.parent.mkdir(parents=True, exist_ok=True)
    tmp = record.with_suffix(".tmp")
    tmp.write_text(json.dumps({"month": month, "sha256": digest, "recipients": sorted(already | set(to)),
                               "message_id": msg["Message-ID"]}, ensure_ascii=False, indent=1), encoding="utf-8")
    tmp.replace(record)
    log.info("report %s mailed to %d recipient(s)", month, len(to))
    return Delivery(month, True, to, f"已发送给 {len(to)} 位接收人")
