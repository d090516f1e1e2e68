"""Forms of the sign-in pages. Every form is a FlaskForm, so it carries the CSRF token."""
from __future__ import annotations

from typing import TYPE_CHECKING

from flask_babel import lazy_gettext as _l
from wtforms import PasswordField, SelectField, StringField, TextAreaField
from wtforms.fields.choices import SelectChoice
from wtforms.validators import EqualTo, InputRequired, Length

if TYPE_CHECKING:
    class FlaskForm:
        """The part of :class:`flask_wtf.FlaskForm` the views use (flask_wtf ships no types)."""

        def __init__(self, *args: object, **kwargs: object) -> None: ...

        def validate_on_submit(self) -> bool: ...
else:
    from flask_wtf import FlaskForm

_REQUIRED = _l("This field is required.")


def _required() -> InputRequired:
    return InputRequired(message=_REQUIRED)


_CODE_FIELD = {"autocomplete": "one-time-code", "autocapitalize": "characters",
               "spellcheck": "false", "maxlength": 24}
#: Numeric keyboard on phones for IDs; spaces and dashes as printed on cards are allowed.
ID_PATTERN = "[0-9 \\-]*"
_NATIONAL_ID_FIELD = {"inputmode": "numeric", "pattern": ID_PATTERN, "autocomplete": "off",
                      "maxlength": 17}
_EMPLOYER_FIELD = {"inputmode": "numeric", "pattern": ID_PATTERN, "autocomplete": "off",
                   "maxlength": 14}


class InsuredRegisterForm(FlaskForm):
    """Registration and recovery with an activation code (docs/accounts.md §9–§10)."""

    voter_key = StringField(_l("National ID number (13 digits)"), [_required(), Length(max=32)],
                            render_kw=_NATIONAL_ID_FIELD)
    code = StringField(_l("Activation code (from the letter or SMS)"),
                       [_required(), Length(max=64)], render_kw=_CODE_FIELD)
    password = PasswordField(_l("Choose a password (at least 10 characters)"),
                             [_required(), Length(max=1024)],
                             render_kw={"autocomplete": "new-password"})
    confirm = PasswordField(_l("Repeat the password"),
                            [_required(), EqualTo("password", message=_l("The passwords do not match."))],
                            render_kw={"autocomplete": "new-password"})


class EmployerRegisterForm(InsuredRegisterForm):
    voter_key = StringField(_l("Employer account number (10 digits)"),
                            [_required(), Length(max=32)], render_kw=_EMPLOYER_FIELD)


class InsuredCodeRequestForm(FlaskForm):
    voter_key = StringField(_l("National ID number (13 digits)"), [_required(), Length(max=32)],
                            render_kw=_NATIONAL_ID_FIELD)


class EmployerCodeRequestForm(FlaskForm):
    voter_key = StringField(_l("Employer account number (10 digits)"),
                            [_required(), Length(max=32)], render_kw=_EMPLOYER_FIELD)


class NewPasswordForm(FlaskForm):
    """After ThaiD proved who the voter is: the new password."""

    password = PasswordField(_l("Choose a password (at least 10 characters)"),
                             [_required(), Length(max=1024)],
                             render_kw={"autocomplete": "new-password"})
    confirm = PasswordField(_l("Repeat the password"),
                            [_required(), EqualTo("password", message=_l("The passwords do not match."))],
                            render_kw={"autocomplete": "new-password"})


class LoginForm(FlaskForm):
    login_id = StringField("", [_required(), Length(max=64)],
                           render_kw={"autocomplete": "username", "autocapitalize": "none"})
    password = PasswordField(_l("Password"), [_required(), Length(max=1024)],
                             render_kw={"autocomplete": "current-password"})


class CodeForm(FlaskForm):
    code = StringField(_l("6-digit code from your authenticator app"),
                       [_required(), Length(max=16)],
                       render_kw={"autocomplete": "one-time-code", "inputmode": "numeric",
                                  "pattern": "[0-9 ]*", "maxlength": 7})


class ActionForm(FlaskForm):
    """A button-only form (logout, propose, approve): the CSRF token is its only field."""


class VoterActionForm(FlaskForm):
    """An official's action on one voter, with the reason (audited)."""

    electorate = SelectField(_l("Electorate"),
                             choices=[SelectChoice("insured", _l("Insured employee")),
                                      SelectChoice("employer", _l("Employer"))])
    voter_key = StringField(_l("National ID (insured) or employer account number"),
                            [_required(), Length(max=32)],
                            render_kw={"inputmode": "numeric", "autocomplete": "off"})
    reason = TextAreaField(_l("Reason and how the voter's identity was checked"),
                           [_required(), Length(min=5, max=500)])


class ReleaseForm(VoterActionForm):
    """Propose releasing a (squatted) voter account: a second official approves."""


class UnlockForm(VoterActionForm):
    """Lift a voter's sign-in and registration locks (docs/accounts.md §3)."""
