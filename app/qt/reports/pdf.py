"""HTML (with images) to a PDF file through QTextDocument and QPdfWriter: works offscreen and in worker threads."""

from __future__ import annotations

import logging
import os
import re
import tempfile
from pathlib import Path

from PySide6.QtCore import QMarginsF, QRectF, QSizeF, Qt, QUrl
from PySide6.QtGui import (
    QFont,
    QGuiApplication,
    QImage,
    QPageLayout,
    QPageSize,
    QPainter,
    QPdfWriter,
    QTextBlock,
    QTextBlockFormat,
    QTextCursor,
    QTextDocument,
)

from model.folders import APP_NAME

log = logging.getLogger(__name__)

PAGE_MARGIN_MM = 15.0
PDF_DPI = 300  # the writer's resolution: text is vector anyway; images are drawn at this density
FOOTER_PT = 18.0  # the strip at each page's foot for "<footer>   page i of n"
_app: QGuiApplication | None = None  # kept alive when a script without an app writes a report


def ensure_gui_app() -> None:
    """Fonts need a QGuiApplication; scripts and the CLI may not have one yet (the offscreen platform serves)."""
    global _app
    if QGuiApplication.instance() is None:
        os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
        _app = QGuiApplication([])


def write_pdf(html: str, path: str | Path, *, images: dict[str, QImage] | None = None, title: str = "",
              footer: str = "", month_only: bool = False) -> Path:
    """Lay out html on A4 pages and write the PDF atomically; `images` maps names used in <img src> to pictures.

    Every page's foot carries `footer` and "page i of n". month_only: the file's own creation and
    modification dates (metadata) to the month, for a de-identified report."""
    ensure_gui_app()
    path = Path(path)
    if path.suffix.lower() != ".pdf":
        raise ValueError(f"{path}: a report is a PDF; give a file name ending in .pdf")
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    os.close(fd)
    try:
        _render(html, tmp, images or {}, title, footer)
        if month_only:
            _metadata_dates_to_month(Path(tmp))
        os.replace(tmp, path)
    finally:
        if os.path.exists(tmp):
            os.unlink(tmp)
    log.info("wrote %s", path)
    return path


# The dates Qt writes: "(D:20261207013044Z)" in the info dictionary, "2026-12-07T01:30:44+00:00" in XMP.
_PDF_DATE = re.compile(rb"\(D:(\d{6})\d{2}[^)]*\)")
_XMP_DATE = re.compile(rb'="(\d{4}-\d{2})-\d{2}T[^"]*"')


def _metadata_dates_to_month(pdf: Path) -> None:
    """Cut the metadata dates to year and month (valid in both PDF and XMP), padded with blanks to the same
    length so that every byte offset in the file's cross-reference table stays right."""
    def month(opening: bytes, closing: bytes):
        return lambda m: (opening + m[1] + closing).ljust(len(m[0]))

    data = _PDF_DATE.sub(month(b"(D:", b")"), pdf.read_bytes())
    pdf.write_bytes(_XMP_DATE.sub(month(b'="', b'"'), data))


def _render(html: str, target: str, images: dict[str, QImage], title: str, footer: str) -> None:
    writer = QPdfWriter(target)
    writer.setTitle(title)
    writer.setCreator(APP_NAME)
    writer.setResolution(PDF_DPI)
    writer.setPageLayout(QPageLayout(QPageSize(QPageSize.PageSizeId.A4), QPageLayout.Orientation.Portrait,
                                     QMarginsF(PAGE_MARGIN_MM, PAGE_MARGIN_MM, PAGE_MARGIN_MM, PAGE_MARGIN_MM),
                                     QPageLayout.Unit.Millimeter))
    # Lay out in points on the printable area, so that font sizes in pt come out as written.
    rect = writer.pageLayout().paintRect(QPageLayout.Unit.Point)
    doc = layout_document(html, images, QSizeF(rect.width(), rect.height() - FOOTER_PT))
    keep_headings_with_next(doc)
    _print_pages(doc, writer, footer, QSizeF(rect.width(), rect.height()))


def _print_pages(doc: QTextDocument, writer: QPdfWriter, footer: str, page: QSizeF) -> None:
    """Each page of doc, then its foot line; QTextDocument.print_ numbers pages only for unpaginated documents."""
    body_height = doc.pageSize().height()
    pages = doc.pageCount()
    painter = QPainter(writer)
    try:
        scale = writer.width() / page.width()  # device pixels per point
        font = QFont("DejaVu Sans")
        font.setPointSizeF(7.5)  # in the writer's own resolution: drawn without the layout's scale
        for i in range(pages):
            if i:
                writer.newPage()
            painter.save()
            painter.scale(scale, scale)
            painter.translate(0, -i * body_height)
            doc.drawContents(painter, QRectF(0, i * body_height, page.width(), body_height))
            painter.restore()
            painter.setFont(font)
            painter.setPen(Qt.GlobalColor.darkGray)
            strip = QRectF(0, (body_height + 4) * scale, page.width() * scale, (FOOTER_PT - 4) * scale)
            painter.drawText(strip, Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignVCenter, footer)
            painter.drawText(strip, Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter,
                             f"page {i + 1} of {pages}")
    finally:
        painter.end()


def layout_document(html: str, images: dict[str, QImage], page_size: QSizeF) -> QTextDocument:
    """The html as a paginated QTextDocument with its pictures."""
    doc = QTextDocument()
    for name, image in images.items():
        doc.addResource(QTextDocument.ResourceType.ImageResource, QUrl(name), image)
    doc.setHtml(html)
    doc.setPageSize(page_size)
    return doc


def block_page(doc: QTextDocument, block: QTextBlock) -> int:
    """The page (from 0) on which a block starts."""
    top = doc.documentLayout().blockBoundingRect(block).top()
    return int(top // doc.pageSize().height())


def keep_headings_with_next(doc: QTextDocument, *, max_moves: int = 50) -> int:
    """Move each heading left alone at a page's foot to the next page, with what it introduces.

    QTextDocument has no "keep with next"; this lays the document out, finds the first heading whose
    next block starts on a later page, gives it a page break before, and repeats (each move shifts
    what follows). Returns the number of headings moved.
    """
    moves = 0
    while moves < max_moves:
        block = doc.begin()
        while block.isValid():
            following = block.next()
            if (block.blockFormat().headingLevel() > 0 and following.isValid()
                    and block.blockFormat().pageBreakPolicy() == QTextBlockFormat.PageBreakFlag.PageBreak_Auto
                    and block_page(doc, following) > block_page(doc, block)):
                break
            block = following
        if not block.isValid():
            return moves
        fmt = block.blockFormat()
        fmt.setPageBreakPolicy(QTextBlockFormat.PageBreakFlag.PageBreak_AlwaysBefore)
        QTextCursor(block).setBlockFormat(fmt)
        moves += 1
    return moves
