"""Identity proofing pages (docs/accounts.md §8–§10): registration and recovery with an
activation code, asking for a code by letter/SMS, and ThaiD (OpenID Connect).

The logic is in app/services/identity/{accounts,activation,oidc}.py; these pages only map
their answers to translated messages and redirects.
"""
from __future__ import annotations

from flask import abort, flash, redirect, render_template, session, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from werkzeug.wrappers import Response

from app import auth
from app.models import VoterAccount
from app.services.identity import accounts, activation, oidc, passwords
from app.services.identity.signin import Ticket
from app.views.forms import (
    EmployerCodeRequestForm,
    EmployerRegisterForm,
    InsuredCodeRequestForm,
    InsuredRegisterForm,
    NewPasswordForm,
)
from app.views.signin import PASSWORD_MESSAGES

REGISTRATION_MESSAGES = {
    "insured": {"invalid_id": _l("This is not a valid 13-digit national ID number.")},
    "employer": {"invalid_id": _l("The employer account number has 10 digits.")},
    "any": {
        "invalid_code": _l("An activation code has 16 letters and digits, as printed in the "
                           "letter or SMS."),
        "not_on_roll": _l("These details do not match the voter roll, or the activation code "
                          "is not valid (wrong, already used or expired)."),
        "already_registered": _l("An account already exists for this voter. If it is yours, "
                                 "recover it with a new activation code. If it is not, ask the "
                                 "Social Security Office to release it."),
        "no_account": _l("There is no account for this voter yet: register instead."),
    },
}
THAID_REFUSED = _l("Your identity could not be confirmed with ThaiD. Nothing was changed.")
#: Seconds the ThaiD proof stays valid for choosing the password.
PROOF_SECONDS = 600
_PROOF = "oidc_proof"
_PURPOSE = "oidc_purpose"


def _bp(kind: str) -> str:
    return auth.LOGIN_ENDPOINTS[kind].split(".")[0]


def _refused(kind: str, exc: accounts.RegistrationRefused) -> str:
    messages = {**REGISTRATION_MESSAGES[kind], **REGISTRATION_MESSAGES["any"]}
    return str(messages[exc.reason])


def code_page(kind: str, recovering: bool) -> str | Response:
    """Register (or recover) with the national ID / employer number + an activation code."""
    form = InsuredRegisterForm() if kind == "insured" else EmployerRegisterForm()
    if form.validate_on_submit():
        action = accounts.recover if recovering else accounts.register
        try:
            account = action(kind, form.voter_key.data or "", form.code.data or "",
                             form.password.data or "", auth.registration_limits(), auth.now(),
                             client=auth.client(),
                             identifier_limits=auth.registration_identifier_limits())
        except accounts.RegistrationRefused as exc:
            flash(_refused(kind, exc), "error")
        except passwords.PasswordRejected as exc:
            form.password.errors = [str(PASSWORD_MESSAGES[exc.reason])]
        else:
            return _to_enrolment(kind, account, recovering)
    return render_template("auth/register.html", form=form, kind=kind, recovering=recovering,
                           thaid=kind == "insured" and oidc.enabled())


def _to_enrolment(kind: str, account: VoterAccount, recovering: bool) -> Response:
    auth.begin_second_step(Ticket(kind, account.id, account.session_epoch, True))
    flash(_("Your new password is set. Now set up your authenticator app.") if recovering
          else _("Registered. Now set up your authenticator app."), "success")
    return redirect(url_for(f"{_bp(kind)}.enrol"))


def request_code_page(kind: str) -> str | Response:
    """Ask for a new activation code: it goes to the address on file, never to this page."""
    form = InsuredCodeRequestForm() if kind == "insured" else EmployerCodeRequestForm()
    if form.validate_on_submit():
        activation.request(kind, form.voter_key.data or "", auth.now())
        flash(_("If this ID is on the voter roll, a new activation code is on its way by letter "
                "or SMS to the address the Social Security Office has on file."), "success")
        return redirect(url_for(f"{_bp(kind)}.login"))
    return render_template("auth/request_code.html", form=form, kind=kind)


# --- ThaiD -----------------------------------------------------------------------------------
def thaid_start(purpose: str) -> Response:
    if not oidc.enabled() or purpose not in oidc.PURPOSES:
        abort(404)
    session[_PURPOSE] = purpose
    return redirect(oidc.authorization_url(url_for("voter.thaid_callback", _external=True)))


def thaid_callback() -> Response:
    if not oidc.enabled():
        abort(404)
    purpose = session.pop(_PURPOSE, None)
    try:
        if purpose not in oidc.PURPOSES:
            raise oidc.ProofRefused("provider")
        proof = oidc.finish(auth.now())
    except oidc.ProofRefused:
        session.pop(_PROOF, None)
        flash(str(THAID_REFUSED), "error")
        return redirect(url_for("voter.login"))
    account = accounts.account_for_entry(proof.entry_pk)
    if purpose == "login" and account is not None and account.totp_confirmed:
        epoch = accounts.signed_in_with_thaid(account, auth.now())
        auth.start_session("insured", account.id, epoch)
        return redirect(url_for(auth.HOME_ENDPOINTS["insured"]))
    session[_PROOF] = {"entry": proof.entry_pk, "at": int(auth.now().timestamp())}
    return redirect(url_for("voter.thaid_password"))


def thaid_password_page() -> str | Response:
    proof = session.get(_PROOF)
    if (not oidc.enabled() or not isinstance(proof, dict)
            or int(auth.now().timestamp()) - int(proof.get("at", 0)) > PROOF_SECONDS):
        session.pop(_PROOF, None)
        flash(_("Please confirm your identity with ThaiD again."), "info")
        return redirect(url_for("voter.login"))
    entry = accounts.roll_entry_by_pk(int(proof["entry"]))
    if entry is None:
        abort(404)
    existing = accounts.account_for_entry(entry.id) is not None
    form = NewPasswordForm()
    if form.validate_on_submit():
        try:
            account = accounts.set_up_proofed(entry, form.password.data or "", auth.now())
        except passwords.PasswordRejected as exc:
            form.password.errors = [str(PASSWORD_MESSAGES[exc.reason])]
        else:
            session.pop(_PROOF, None)
            return _to_enrolment("insured", account, existing)
    return render_template("auth/thaid_password.html", form=form, existing=existing)

