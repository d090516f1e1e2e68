"""Credential letters (docs/record.md §6.1 (a)): a printable bilingual HTML page per voter and
the mail-merge CSV.

The QR code is drawn as an inline SVG (crisp at any print resolution, no image library) from
the module matrix of the ``qrcode`` package.  Every letter of an issue has QR text of the same
length (``ssbvote-credential:1:<64 hex>:<28 symbols>``), so the QR version is found once, and
the mask pattern is fixed: choosing the "best" of eight masks is optional in ISO/IEC 18004
(any mask decodes) and costs 5× the time, which matters for a million letters.
"""
from __future__ import annotations

import csv
import html
import os
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Optional

import qrcode
import qrcode.constants

LETTERS = "letters"
MAIL_MERGE = "mail-merge.csv"
REISSUED_MAIL_MERGE = "reissued.csv"
MAIL_MERGE_HEADER = ("voter_key", "name", "electorate", "credential", "qr_text")

ELECTORATE_NAMES = {
    "insured": ("ผู้ประกันตน", "insured person"),
    "employer": ("นายจ้าง", "employer"),
}

_MASK = 2  # any of 0–7 decodes; see the module docstring
_QUIET = 4  # modules of white border (ISO/IEC 18004)
_RUN = re.compile("1+")


@dataclass(frozen=True)
class LetterContext:
    """What every letter of an issue shares."""

    election_id: str
    title_th: str
    title_en: str
    ca_key: str  # 64 hex
    fingerprint: str


class QrMaker:
    """QR matrices for QR texts of one length: the version is fitted once, the mask fixed."""

    def __init__(self) -> None:
        self._version: dict[int, int] = {}

    def matrix(self, text: str) -> list[list[bool]]:
        data = text.encode("utf-8")
        version = self._version.get(len(data))
        qr = qrcode.QRCode(version=version, error_correction=qrcode.constants.ERROR_CORRECT_M,
                           border=0, mask_pattern=_MASK)
        # One 8-bit segment (optimize=0): the encoded length then depends only on the text's
        # length, so the version fitted for the first letter fits every other.  With the
        # package's default segment optimisation the length varies with the runs of digits in
        # each credential, and a cached version overflowed for some letters.
        qr.add_data(data, optimize=0)
        qr.make(fit=version is None)
        if version is None:
            self._version[len(data)] = int(qr.version)
        return [[bool(m) for m in row] for row in qr.get_matrix()]

    def svg(self, text: str, size_mm: int = 42) -> str:
        """An inline SVG of the QR code of ``text``: each row's runs of dark modules as
        horizontal strokes of one path (``M x y.5 h run m gap 0 h run …``)."""
        matrix = self.matrix(text)
        width = len(matrix) + 2 * _QUIET
        parts: list[str] = []
        for y, row in enumerate(matrix):
            end = None
            for run in _RUN.finditer("".join("1" if m else "0" for m in row)):
                start, stop = run.span()
                if end is None:
                    parts.append(f"M{start + _QUIET} {y + _QUIET}.5h{stop - start}")
                else:
                    parts.append(f"m{start - end} 0h{stop - start}")
                end = stop
        return (f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {width} {width}" '
                f'width="{size_mm}mm" height="{size_mm}mm" shape-rendering="crispEdges" '
                f'role="img" aria-label="QR code">'
                f'<rect width="{width}" height="{width}" fill="#fff"/>'
                f'<path stroke="#000" stroke-width="1" d="{"".join(parts)}"/></svg>')


def masked(voter_key: str) -> str:
    """The voter key with all but its last four digits hidden (the letter names its voter
    without spelling out a national ID)."""
    return "•" * max(0, len(voter_key) - 4) + voter_key[-4:]


_STYLE = """
@page { size: A4; margin: 18mm; }
body { font-family: "Sarabun", "Noto Sans Thai", "Tahoma", sans-serif; font-size: 11pt;
       color: #000; max-width: 174mm; margin: 0 auto; line-height: 1.45; }
h1 { font-size: 15pt; margin: 0 0 2mm; }
h2 { font-size: 12pt; margin: 5mm 0 1mm; }
.en { color: #333; }
.box { border: 0.6mm solid #000; padding: 4mm; margin: 5mm 0; page-break-inside: avoid; }
.row { display: flex; gap: 6mm; align-items: center; }
.credential { font-family: "DejaVu Sans Mono", "Consolas", monospace; font-size: 16pt;
              font-weight: bold; white-space: nowrap; margin-bottom: 3mm; }
.small { font-size: 9pt; }
.key { font-family: monospace; font-size: 8pt; word-break: break-all; }
ol { padding-left: 6mm; } li { margin-bottom: 1.5mm; }
"""


def letter_html(ctx: LetterContext, electorate: str, voter_key: str, name: str,
                credential: str, qr_svg: str) -> str:
    """The printable letter (Thai first, English below each item)."""
    e = html.escape
    th_electorate, en_electorate = ELECTORATE_NAMES[electorate]
    groups = e(credential).replace("-", "&#8209;")  # non-breaking hyphens: one line
    addressee = e(name) if name else ""
    return f"""<!DOCTYPE html>
<html lang="th"><head><meta charset="utf-8">
<title>รหัสลงคะแนน / Voting credential</title>
<style>{_STYLE}</style></head>
<body>
<h1>{e(ctx.title_th)}<br><span class="en">{e(ctx.title_en)}</span></h1>
<p>{addressee}{"<br>" if addressee else ""}{e(th_electorate)} / <span class="en">{e(en_electorate)}</span>
&nbsp;·&nbsp; <span class="small">{e(masked(voter_key))}</span></p>

<h2>รหัสลงคะแนนของท่าน <span class="en">/ Your voting credential</span></h2>
<div class="box">
  <div class="credential">{groups}</div>
  <div class="row"><div>{qr_svg}</div>
  <p>พิมพ์รหัสนี้ หรือสแกนคิวอาร์โค้ด เมื่อลงคะแนนทางอินเทอร์เน็ต<br>
  <span class="en">Type this code, or scan the QR code, when you vote on the internet.</span></p></div>
</div>

<ol>
<li>เก็บรหัสนี้เป็นความลับ อย่าให้ผู้ใดเห็นหรือถ่ายภาพ ผู้ที่ได้รหัสนี้ไปอาจใช้ลงคะแนนแทนท่านได้<br>
<span class="en">Keep this code secret. Do not show it to anyone or let anyone photograph it:
whoever has it could try to vote in your name.</span></li>
<li>เมื่อลงคะแนน ให้เข้าสู่ระบบตามปกติ แล้วพิมพ์รหัสนี้ (ไม่ต้องพิมพ์ขีด ตัวพิมพ์เล็กหรือใหญ่ก็ได้) หรือสแกนคิวอาร์โค้ด<br>
<span class="en">When you vote, sign in as usual, then type this code (dashes and upper/lower case
do not matter) or scan the QR code.</span></li>
<li>ท่านลงคะแนนซ้ำได้ตลอดเวลาที่เปิดลงคะแนน คะแนนครั้งสุดท้ายเท่านั้นที่จะถูกนับ<br>
<span class="en">You may vote again while polls are open: only your last vote counts.</span></li>
<li>หากท่านไปลงคะแนนด้วยบัตรเลือกตั้งกระดาษ ณ หน่วยเลือกตั้ง คะแนนกระดาษจะใช้แทนคะแนนทางอินเทอร์เน็ตของท่าน<br>
<span class="en">If you vote on paper at a polling station, your paper vote replaces your internet
vote.</span></li>
<li>หากจดหมายนี้สูญหายหรือมีผู้อื่นเห็นรหัส ให้ติดต่อผู้ออกรหัสเพื่อขอรหัสใหม่ รหัสเดิมจะใช้ไม่ได้อีก<br>
<span class="en">If this letter is lost or someone else has seen the code, ask the credential
authority for a new one; the old code then stops working.</span></li>
</ol>

<h2>ผู้ออกรหัส <span class="en">/ Credential authority</span></h2>
<p class="small">ลายนิ้วมือกุญแจของผู้ออกรหัส <span class="en">/ CA key fingerprint</span>:
<b>{e(ctx.fingerprint)}</b><br>
ตรวจสอบว่าตรงกับที่ผู้ออกรหัสประกาศ <span class="en">/ Check that it matches the one the
credential authority publishes.</span></p>
<p class="key">CA key: {e(ctx.ca_key)}<br>Election / การเลือกตั้ง: {e(ctx.election_id)}</p>
</body></html>
"""


def write_private(path: Path, text: str) -> None:
    """Write ``text`` to a new or existing file readable by its owner only (0600)."""
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w", encoding="utf-8") as handle:
        handle.write(text)


def letters_dir(out_dir: Path) -> Path:
    """``DIR/letters`` (created, mode 0700): the only place private credentials are written."""
    path = out_dir / LETTERS
    path.mkdir(mode=0o700, exist_ok=True)
    return path


class MailMerge:
    """The mail-merge CSV (voter key, name, electorate, credential, QR text), appended to; its
    header is written when the file is new.  Mode 0600: it holds private credentials."""

    def __init__(self, path: Path) -> None:
        new = not path.exists()
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o600)
        self._handle = os.fdopen(fd, "w", encoding="utf-8", newline="")
        self._writer = csv.writer(self._handle)
        if new:
            self._writer.writerow(MAIL_MERGE_HEADER)

    def row(self, voter_key: str, name: str, electorate: str, credential: str, qr_text: str) -> None:
        self._writer.writerow((voter_key, name, electorate, credential, qr_text))

    def close(self) -> None:
        self._handle.flush()
        os.fsync(self._handle.fileno())
        self._handle.close()

    def __enter__(self) -> "MailMerge":
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def letter_path(letters: Path, voter_key: str) -> Path:
    return letters / f"{voter_key}.html"


def render_letter(ctx: LetterContext, qr: QrMaker, electorate: str, voter_key: str, name: str,
                  credential: str, qr_text: str, letters: Optional[Path]) -> None:
    """Write the voter's letter into ``letters`` (nothing if None)."""
    if letters is not None:
        write_private(letter_path(letters, voter_key),
                      letter_html(ctx, electorate, voter_key, name, credential, qr.svg(qr_text)))
