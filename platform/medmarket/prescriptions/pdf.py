"""The printed prescription as a PDF on A5 paper, from the same ``Sheet`` as the printable page.

reportlab draws it: Chinese text through the STSong-Light CID font (one of the fonts every
PDF reader has for Chinese, so nothing is embedded and no font file is needed), and the QR
code of the verification address with its own QR widget.
"""

from __future__ import annotations

import functools
import io
from xml.sax.saxutils import escape

from reportlab.graphics.barcode.qr import QrCodeWidget
from reportlab.graphics.shapes import Drawing
from reportlab.lib import colors
from reportlab.lib.pagesizes import A5
from reportlab.lib.styles import ParagraphStyle
from reportlab.lib.units import mm
from reportlab.pdfbase import pdfmetrics
from reportlab.pdfbase.cidfonts import UnicodeCIDFont
from reportlab.platypus import (
    Flowable,
    HRFlowable,
    Paragraph,
    SimpleDocTemplate,
    Spacer,
    Table,
    TableStyle,
)

from medmarket.prescriptions.sheet import Fact, Sheet

FONT = "STSong-Light"
MARGIN = 12 * mm
QR_SIZE = 28 * mm


@functools.cache
def _font() -> str:
    pdfmetrics.registerFont(UnicodeCIDFont(FONT))
    return FONT


def _styles() -> dict[str, ParagraphStyle]:
    font = _font()
    body = ParagraphStyle("body", fontName=font, fontSize=9.5, leading=13, wordWrap="CJK")
    return {
        "body": body,
        "title": ParagraphStyle("title", parent=body, fontSize=17, leading=22, alignment=1),
        "hospital": ParagraphStyle("hospital", parent=body, fontSize=11, leading=15, alignment=1),
        "small": ParagraphStyle("small", parent=body, fontSize=7.5, leading=10),
        "rp": ParagraphStyle("rp", parent=body, fontSize=15, leading=19),
        "item": ParagraphStyle("item", parent=body, fontSize=10.5, leading=14),
        "usage": ParagraphStyle("usage", parent=body, leftIndent=5 * mm),
    }


def _text(value: str) -> str:
    # STSong-Light has no middle dot (U+00B7): an ideographic space separates instead.
    return escape(value.replace(" · ", "\u3000").replace("·", "\u3000"))


def _fact(fact: Fact, style: ParagraphStyle) -> Paragraph:
    return Paragraph(f"{_text(fact.label)}：{_text(fact.value)}", style)


def _qr(url: str) -> Drawing:
    widget = QrCodeWidget(url, barLevel="M")
    left, bottom, right, top = widget.getBounds()
    drawing = Drawing(
        QR_SIZE,
        QR_SIZE,
        transform=[QR_SIZE / (right - left), 0, 0, QR_SIZE / (top - bottom), 0, 0],
    )
    drawing.add(widget)
    return drawing


def prescription_pdf(sheet: Sheet, *, author: str) -> bytes:
    """The sheet as a one-page (or longer, with many items) A5 PDF."""
    styles = _styles()
    out = io.BytesIO()
    document = SimpleDocTemplate(
        out,
        pagesize=A5,
        leftMargin=MARGIN,
        rightMargin=MARGIN,
        topMargin=MARGIN,
        bottomMargin=MARGIN,
        title=f"{sheet.title} {sheet.number}",
        author=author,
        subject=sheet.hospital,
        creator="MedMarket",
    )
    width = A5[0] - 2 * MARGIN
    story: list[Flowable] = [
        Paragraph(_text(sheet.hospital), styles["hospital"]),
        Paragraph(_text(sheet.title), styles["title"]),
        Paragraph(_text(sheet.number), styles["small"]),
        Spacer(1, 2 * mm),
    ]
    diagnosis = _text(f"{sheet.diagnosis.label}：{sheet.diagnosis.value}")
    if sheet.chronic_follow_up:
        diagnosis += f"（{_text(sheet.chronic_follow_up)}）"
    patient = Table(
        [
            [_fact(fact, styles["body"]) for fact in sheet.patient[:2]],
            [_fact(fact, styles["body"]) for fact in sheet.patient[2:]],
            [Paragraph(diagnosis, styles["body"]), ""],
        ],
        colWidths=[width / 2] * 2,
    )
    patient.setStyle(
        TableStyle(
            [
                ("LEFTPADDING", (0, 0), (-1, -1), 0),
                ("RIGHTPADDING", (0, 0), (-1, -1), 0),
                ("SPAN", (0, 2), (1, 2)),
            ]
        )
    )
    story += [
        patient,
        HRFlowable(width="100%", thickness=0.8, color=colors.black, spaceBefore=2 * mm),
        Paragraph("Rp", styles["rp"]),
    ]
    for item in sheet.items:
        story += [
            Paragraph(f"{item.number}. {_text(item.name)}　{_text(item.quantity)}", styles["item"]),
            Paragraph(_text(item.usage), styles["usage"]),
        ]
        if item.instructions:
            story.append(Paragraph(_text(item.instructions), styles["usage"]))
        story.append(Spacer(1, 1.5 * mm))
    story.append(HRFlowable(width="100%", thickness=0.8, color=colors.black, spaceAfter=2 * mm))
    facts = [
        _fact(sheet.doctor, styles["body"]),
        _fact(sheet.issued, styles["body"]),
        _fact(sheet.validity, styles["body"]),
        _fact(sheet.standing, styles["body"]),
        *([Paragraph(_text(sheet.standing_note), styles["body"])] if sheet.standing_note else []),
        Spacer(1, 1 * mm),
        Paragraph(_text(sheet.verify_label), styles["small"]),
        Paragraph(_text(sheet.verify_url), styles["small"]),
        Paragraph(f"{_text(sheet.digest.label)}：{_text(sheet.digest.value)}", styles["small"]),
        *(
            [
                Paragraph(
                    f"{_text(sheet.signature.label)}：{_text(sheet.signature.value)}",
                    styles["small"],
                )
            ]
            if sheet.signature
            else []
        ),
    ]
    footer = Table(
        [[facts, _qr(sheet.verify_url)]], colWidths=[width - QR_SIZE - 2 * mm, QR_SIZE + 2 * mm]
    )
    footer.setStyle(
        TableStyle(
            [
                ("VALIGN", (0, 0), (-1, -1), "TOP"),
                ("LEFTPADDING", (0, 0), (-1, -1), 0),
                ("RIGHTPADDING", (0, 0), (-1, -1), 0),
            ]
        )
    )
    story.append(footer)
    document.build(story)
    return out.getvalue()
