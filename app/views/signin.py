"""The sign-in pages every audience shares: password, TOTP (and enrolment), logout.

Each audience's blueprint routes to these with its own ``kind``; the logic is in
app/services/identity/signin.py and app/services/identity/accounts.py; registration and
recovery pages are in app/views/proofing.py.
"""
from __future__ import annotations

from flask import abort, flash, redirect, render_template, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from werkzeug.wrappers import Response

from app import auth
from app.models import VoterAccount
from app.services.identity import accounts, oidc, principals, signin
from app.views.forms import ID_PATTERN, ActionForm, CodeForm, LoginForm

LOGIN_LABELS = {
    "insured": _l("National ID number (13 digits)"),
    "employer": _l("Employer account number (10 digits)"),
    "official": _l("Username"),
}
ELECTORATE_LABELS = {"insured": _l("Insured employee"), "employer": _l("Employer")}
PAGE_TITLES = {
    "insured": _l("Sign in: insured employees"),
    "employer": _l("Sign in: employers"),
    "official": _l("Sign in: election officials"),
}
GENERIC_FAILURE = _l("The ID, password or code is not correct.")
#: The code step is reached only with the right password, so its messages may say what is
#: wrong (the password step keeps the generic one: docs/accounts.md §3).
CODE_FORMAT = _l("The code has 6 digits. Type the 6 digits your authenticator app shows now.")
WRONG_CODE = _l("This code is not correct, or was already used. Check that your phone's date "
                "and time are set automatically, wait for the next code to appear in the "
                "app, then type it.")
WRONG_ENROLMENT_CODE = _l("This code is not correct. Make sure the app shows the account you "
                          "added from this page (an account added earlier no longer works), "
                          "that your phone's date and time are set automatically, then type "
                          "the next code.")
LOCKED_MESSAGE = _l("Too many failed attempts. For your security, sign-in from this device is "
                    "paused for a while. Please try again later, or ask the Social Security "
                    "Office to unlock it.")
PASSWORD_MESSAGES = {
    "too_short": _l("The password must have at least 10 characters."),
    "too_long": _l("The password must have at most 128 characters."),
    "common": _l("This password is too common. Please choose another."),
    "contains_identifier": _l("The password must not contain your ID number or date of birth."),
}


def _locked_message(exc: signin.AccountLocked) -> str:
    # Never how long: a stranger who caused the lock must not learn when to strike again
    # (docs/accounts.md §3).
    return str(LOCKED_MESSAGE)


def login_page(kind: str) -> str | Response:
    form = LoginForm()
    form.login_id.label.text = str(LOGIN_LABELS[kind])
    if kind in principals.VOTER_KINDS:
        form.login_id.render_kw = {**(form.login_id.render_kw or {}), "inputmode": "numeric",
                                   "pattern": ID_PATTERN}
    if form.validate_on_submit():
        try:
            ticket = signin.check_password(kind, form.login_id.data or "", form.password.data or "",
                                           auth.limits(), auth.now(), auth.client(),
                                           auth.identifier_limits())
        except signin.AccountLocked as exc:
            flash(_locked_message(exc), "error")
        except signin.SignInFailed:
            flash(str(GENERIC_FAILURE), "error")
        else:
            auth.begin_second_step(ticket)
            return redirect(url_for(f"{_bp(kind)}.enrol" if ticket.needs_enrolment
                                    else f"{_bp(kind)}.totp"))
    return render_template("auth/login.html", form=form, kind=kind, title=PAGE_TITLES[kind],
                           thaid=kind == "insured" and oidc.enabled())


def code_page(kind: str, enrolling: bool) -> str | Response:
    ticket = auth.second_step(kind)
    if ticket is None or ticket.needs_enrolment != enrolling:
        flash(_("Please sign in to continue."), "info")
        return redirect(url_for(f"{_bp(kind)}.login"))
    form = CodeForm()
    if form.validate_on_submit():
        code = "".join((form.code.data or "").split())
        if not (len(code) == 6 and code.isascii() and code.isdigit()):
            # Cannot match any step: said at once, and not counted as an attempt.
            form.code.errors = [str(CODE_FORMAT)]
            return _code_form(kind, enrolling, ticket, form)
        try:
            epoch = signin.check_code(ticket, code, auth.limits(), auth.now())
        except signin.AccountLocked as exc:
            flash(_locked_message(exc), "error")
        except signin.SignInFailed:
            form.code.errors = [str(WRONG_ENROLMENT_CODE if enrolling else WRONG_CODE)]
        else:
            auth.start_session(kind, ticket.principal_id, epoch)
            if enrolling:
                flash(_("Your authenticator app is set up."), "success")
            return redirect(url_for(auth.HOME_ENDPOINTS[kind]))
    return _code_form(kind, enrolling, ticket, form)


def _code_form(kind: str, enrolling: bool, ticket: signin.Ticket, form: CodeForm) -> str:
    if not enrolling:
        return render_template("auth/totp.html", form=form, kind=kind)
    account = principals.load(kind, ticket.principal_id)
    if not isinstance(account, VoterAccount):
        abort(404)
    return render_template("auth/enrol.html", form=form, kind=kind,
                           enrolment=accounts.enrolment(account, issuer=_("SSB Vote"),
                                                        fallback_label=str(ELECTORATE_LABELS[kind])))


def logout() -> Response:
    if ActionForm().validate_on_submit():
        auth.end_session()
        flash(_("You have signed out."), "success")
    return redirect(url_for("public.index"))


def _bp(kind: str) -> str:
    return auth.LOGIN_ENDPOINTS[kind].split(".")[0]
