"""Every user-facing message in app/ has a Thai translation, and Thai is the default."""
from __future__ import annotations

from pathlib import Path

from babel.messages.extract import DEFAULT_KEYWORDS, extract_from_dir
from babel.messages.pofile import read_po
from flask.testing import FlaskClient

APP = Path(__file__).resolve().parents[2] / "app"
PO = APP / "translations" / "th" / "LC_MESSAGES" / "messages.po"
#: Babel's defaults miss lazy_gettext, which app/ imports as ``_l`` for module-level messages.
KEYWORDS = {**DEFAULT_KEYWORDS, "_l": None, "lazy_gettext": None}


def extracted_messages() -> set[str]:
    method_map = [("**/templates/**.html", "jinja2"), ("**.py", "python")]
    messages: set[str] = set()
    for _file, _line, message, _comments, _context in extract_from_dir(
        str(APP), method_map=method_map, options_map={"**/templates/**.html": {}},
        keywords=KEYWORDS,
    ):
        if isinstance(message, tuple):
            messages.update(m for m in message if m)
        else:
            messages.add(message)
    return messages


def test_every_message_has_a_thai_translation() -> None:
    with PO.open("rb") as handle:
        catalog = read_po(handle)
    translated = {m.id for m in catalog if m.id and m.string}
    missing = sorted(m for m in extracted_messages() if m not in translated)
    assert missing == [], f"messages without a Thai translation: {missing}"


def test_lazy_messages_are_extracted() -> None:
    """Module-level messages (flash texts, form labels) are ``_l(...)``: the check above must
    see them, or a missing translation there would pass unnoticed."""
    messages = extracted_messages()
    assert "This proposal is no longer pending." in messages  # _l in app/views/official.py
    assert "The ID, password or code is not correct." in messages  # _l in app/views/signin.py


def test_thai_by_default_english_on_request(client: FlaskClient) -> None:
    thai = client.get("/").get_data(as_text=True)
    assert '<html lang="th">' in thai and "ข้ามไปยังเนื้อหา" in thai
    english = client.get("/?lang=en").get_data(as_text=True)
    assert '<html lang="en">' in english and "Skip to content" in english
    # The choice sticks for the session.
    assert '<html lang="en">' in client.get("/").get_data(as_text=True)
    client.get("/language/th?next=/")
    assert '<html lang="th">' in client.get("/").get_data(as_text=True)


def test_language_switch_is_not_an_open_redirect(client: FlaskClient) -> None:
    response = client.get("/language/en?next=//evil.example/")
    assert response.status_code == 302
    assert response.headers["Location"] == "/"


#: Thai words that contain "คุณ" without being the pronoun (quality, qualification, value,
#: property, benefit, thanks).
_NOT_THE_PRONOUN = ("ขอบคุณ", "คุณภาพ", "คุณสมบัติ", "คุณค่า", "คุณลักษณะ", "คุณประโยชน์", "คุณูปการ")


def test_thai_addresses_the_reader_formally() -> None:
    """One register (issue 18): the voter and official are "ท่าน", never "คุณ"."""
    with PO.open("rb") as handle:
        catalog = read_po(handle)
    informal = []
    for message in catalog:
        strings = message.string if isinstance(message.string, tuple) else (message.string,)
        for text in strings:
            stripped = text or ""
            for word in _NOT_THE_PRONOUN:
                stripped = stripped.replace(word, "")
            if "คุณ" in stripped:
                informal.append(message.id)
    assert informal == [], f"Thai translations addressing the reader as คุณ: {informal}"
    # No word mangled by a blind replace (one had turned เท่านั้น into เคุณั้น).
    assert not any("เคุณ" in (m.string or "") for m in catalog if isinstance(m.string, str))
