"""Reading the officials' pages as a browser would (issue 18): the fields of a form on a page,
so a test approves exactly what the approval card showed (its digest) and confirms what the
confirmation step asks for."""
from __future__ import annotations

import html
import re

_FORM = re.compile(r'<form method="post" action="([^"]+)"[^>]*>(.*?)</form>', re.S)
_INPUT = re.compile(r'<input type="hidden" name="([^"]+)"(?: id="[^"]*")? value="([^"]*)">')
_TOKEN = re.compile(r'name="csrf_token" type="hidden" value="([^"]+)"')


def form_fields(page: str, action: str) -> dict[str, str]:
    """The hidden fields (csrf_token, digest, confirm, …) of the form posting to ``action``."""
    for target, body in _FORM.findall(page):
        if html.unescape(target) == action:
            fields = {name: html.unescape(value) for name, value in _INPUT.findall(body)}
            token = _TOKEN.search(body)
            if token:
                fields["csrf_token"] = token.group(1)
            return fields
    raise AssertionError(f"no form posting to {action} on the page")


def approve_fields(page: str, pending_id: int) -> dict[str, str]:
    """What the dashboard's approve button of proposal ``pending_id`` posts."""
    return form_fields(page, f"/official/actions/{pending_id}/approve")
