"""Election officials: sign-in, dashboard with four-eyes actions, audit log, account release."""
from __future__ import annotations

from datetime import datetime, timedelta
from typing import Callable

from flask import Blueprint, abort, flash, jsonify, redirect, render_template, request, url_for
from flask_babel import get_locale, gettext as _
from flask_babel import lazy_gettext as _l
from werkzeug.wrappers import Response

from app import auth
from app.extensions import limiter
from app.localtime import format_local
from app.security import body_limit
from app.models import Election, Official, PendingAction
from app.services.administration import (approval_cards, approvals, audit, audit_sentences,
                                         decisions, elections_overview, turnout)
from app.services.identity import accounts, lockouts, release
from app.services.voting import lots, paper_votes, poll_extensions
from app.services.errors import InputFileError, ServiceError
from app.views import signin
from app.views.forms import ActionForm, ReleaseForm, UnlockForm
from election.lifecycle import Status

bp = Blueprint("official", __name__, url_prefix="/official")
KIND = "official"
_limited = limiter.shared_limit(auth.ip_rate_limit, scope="signin", methods=["POST"])

#: The two-official actions' names (one table: the audit log's sentences use it too).
ACTION_LABELS = audit_sentences.ACTION_NAMES
#: The signed two-official decisions besides the paper-vote list (docs/record.md §2.7, §4.6):
#: action → its service module (draft_page, approval_page) and the view of its form.
DECISIONS = {"extend_polls": (poll_extensions, "official.extend_polls"),
             "record_lot": (lots, "official.record_lot")}
#: Largest paper-vote list accepted (bytes): 13-digit IDs, one a line, for every insured voter.
PAPER_LIST_MAX_BYTES = 64 * 1024 * 1024
#: The multipart envelope and the CSRF token around the file.
PAPER_FORM_OVERHEAD = 64 * 1024
REFUSALS = {
    "self_approval": _l("A different official must approve this action."),
    "not_pending": _l("This proposal is no longer pending."),
    "expired": _l("This proposal has expired: no second official approved it in time. "
                  "Propose it again if it is still needed."),
    "wrong_status": _l("The election is not in the right state for this action."),
    "already_proposed": _l("This action has already been proposed."),
    "unknown_action": _l("Unknown action."),
}
AUDIT_PAGE = 200
#: Seconds between the dashboard's turnout refreshes (app/static/js/official-turnout.js).
TURNOUT_REFRESH_SECONDS = 30


@bp.route("/login", methods=["GET", "POST"])
@_limited
def login() -> str | Response:
    return signin.login_page(KIND)


@bp.route("/login/code", methods=["GET", "POST"])
@_limited
def totp() -> str | Response:
    return signin.code_page(KIND, enrolling=False)


@bp.route("/enrol", methods=["GET", "POST"])
def enrol() -> Response:
    # Officials enrol from the CLI (``ssbvote official add``), never on the web.
    abort(404)


@bp.post("/logout")
def logout() -> Response:
    return signin.logout()


def _me() -> Official:
    official = auth.current_official()
    assert official is not None
    return official


@bp.get("/")
@auth.official_required("view_dashboard")
def dashboard() -> str:
    now = auth.now()
    approvals.expire_due(now)
    elections = elections_overview.list_elections()
    rows = [(e, approvals.pending_for(e), approvals.available_actions(e),
             approvals.expired_for(e)) for e in elections]
    return render_template(
        "official/dashboard.html", official=_me(), form=ActionForm(), labels=ACTION_LABELS,
        rows=rows,
        cards={p.id: approval_cards.card(e, p.action, p) for e, pending, _a, _x in rows for p in pending},
        turnouts={e.id: turnout.live(e, now) for e in elections if e.status != "draft"},
        paper_signed={e.id for e in elections if paper_votes.is_signed(e)},
        undecided_ties={e.id for e in elections if lots.open_ties(e)},
        decision_pages={action: view for action, (_module, view) in DECISIONS.items()},
        lifetime_hours=int(approvals.lifetime().total_seconds() // 3600),
        refresh_seconds=TURNOUT_REFRESH_SECONDS, now=now,
    )


@bp.get("/elections/<int:election_id>/turnout.json")
@auth.official_required("view_dashboard")
def turnout_json(election_id: int) -> Response:
    """Live turnout per contest (ballots on the board, distinct voters, paper voters once the
    list is recorded) for the dashboard's refresh; never a partial result."""
    election = elections_overview.election_by_id(election_id)
    now = auth.now()
    response = jsonify({**turnout.live(election, now).as_dict(),
                        "at_local": format_local(now, str(get_locale()), seconds=True)})
    response.headers["Cache-Control"] = "no-store"
    return response


def _confirmation(election: Election, action: str, target: str,
                  pending: PendingAction | None = None) -> str | None:
    """The confirmation step of an action whose card asks for one (closing the polls): the page
    naming the election and the time, unless this POST already carries ``confirm=<slug>``."""
    card = approval_cards.card(election, action, pending)
    if not card.confirm or request.form.get("confirm", "") == election.slug:
        return None
    return render_template("official/confirm.html", election=election, action=action,
                           label=ACTION_LABELS.get(action, action), card=card, target=target,
                           pending=pending, form=ActionForm(), now=auth.now())


@bp.post("/elections/<int:election_id>/propose/<action>")
@auth.official_required("propose_poll_action")
def propose(election_id: int, action: str) -> str | Response:
    if action not in approvals.TRANSITIONS:
        abort(404)
    election = elections_overview.election_by_id(election_id)
    if action in DECISIONS:
        return redirect(url_for(DECISIONS[action][1], election_id=election_id))
    if action in approvals.PAYLOAD_ACTIONS:  # needs its list: proposed from its upload page
        return redirect(url_for("official.paper_votes_upload", election_id=election_id))
    if not ActionForm().validate_on_submit():
        abort(400)
    confirm = _confirmation(election, action, url_for("official.propose", election_id=election_id,
                                                      action=action))
    if confirm is not None:
        return confirm
    try:
        approvals.propose(election, action, _me(), auth.now())
    except approvals.ApprovalRefused as exc:
        flash(str(REFUSALS[exc.reason]), "error")
    else:
        flash(_("Proposed. A second official must now approve it."), "success")
    return redirect(url_for("official.dashboard"))


def _decide(decision: Callable[[int, Official, datetime], object], pending_id: int,
            done: str) -> Response:
    try:
        decision(pending_id, _me(), auth.now())
    except approvals.ApprovalRefused as exc:
        flash(str(REFUSALS[exc.reason]), "error")
    except ServiceError as exc:  # the action itself refused, e.g. polls without a key
        flash(_("Nothing was changed: %(reason)s", reason=str(exc)), "error")
    else:
        flash(done, "success")
    return redirect(url_for("official.dashboard"))


@bp.post("/actions/<int:pending_id>/approve")
@auth.official_required("approve_poll_action")
def approve(pending_id: int) -> str | Response:
    """Approve what the card showed: the form carries the card's digest (when the action has
    one) and, for an action that asks for it, the confirmation of the election's slug."""
    if not ActionForm().validate_on_submit():
        abort(400)
    pending = approvals.pending_by_id(pending_id)
    # (A proposer's own approval is refused, and audited, by approvals.approve.)
    if pending is not None and pending.state == "pending" and pending.proposer_pk != _me().id:
        confirm = _confirmation(pending.election, pending.action,
                                url_for("official.approve", pending_id=pending_id), pending)
        if confirm is not None:
            return confirm
        try:
            approval_cards.check_seen(pending, request.form.get("digest", ""))
        except approval_cards.DigestChanged:
            flash(_("Nothing was approved: the proposal is not the one you saw (its digest "
                    "differs). Check it again below before approving."), "error")
            return redirect(url_for("official.dashboard"))
    return _decide(approvals.approve, pending_id, _("Approved and carried out."))


@bp.post("/actions/<int:pending_id>/cancel")
@auth.official_required("propose_poll_action")
def cancel(pending_id: int) -> Response:
    return _decide(approvals.cancel, pending_id, _("The proposal was cancelled."))


@bp.get("/audit")
@auth.official_required("view_audit")
def audit_log() -> str:
    return render_template("official/audit.html",
                           lines=audit_sentences.describe_all(audit.recent(AUDIT_PAGE)),
                           problems=audit.verify_chain())


@bp.route("/voters/release", methods=["GET", "POST"])
@auth.official_required("release_voter_account")
def release_account() -> str | Response:
    """Propose releasing a voter's account; a different official approves it on the
    dashboard (docs/accounts.md §10)."""
    form = ReleaseForm()
    if form.validate_on_submit():
        try:
            release.propose(_me(), form.electorate.data or "", form.voter_key.data or "",
                            form.reason.data or "", auth.now())
        except accounts.AccountNotFound:
            flash(_("No account was found for this voter."), "error")
        except approvals.ApprovalRefused as exc:
            flash(str(REFUSALS[exc.reason]), "error")
        else:
            flash(_("Release proposed. A second official must approve it on the dashboard."),
                  "success")
            return redirect(url_for("official.dashboard"))
    return render_template("official/release.html", form=form)


@bp.route("/voters/unlock", methods=["GET", "POST"])
@auth.official_required("unlock_voter")
def unlock_voter() -> str | Response:
    """Lift a voter's sign-in and registration locks (docs/accounts.md §3), audited."""
    form = UnlockForm()
    if form.validate_on_submit():
        try:
            lockouts.unlock(_me(), form.electorate.data or "", form.voter_key.data or "",
                            form.reason.data or "")
        except lockouts.VoterNotOnRoll:
            flash(_("No voter with this ID is on the roll."), "error")
        else:
            flash(_("Sign-in and registration are unlocked for this voter. The unlock is "
                    "recorded in the audit log."), "success")
            return redirect(url_for("official.unlock_voter"))
    return render_template("official/unlock.html", form=form)


def _paper_list(page: paper_votes.SigningPage, action: str) -> dict[str, object]:
    """The template's ``paper_list`` (app/templates/official/paper_votes.html)."""
    return {"body": page.body, "digest": page.digest, "count": page.count,
            "identities": page.identities, "role": page.role, "proposer": page.proposer,
            "official_key": page.official_key, "action": action, "hidden": {}}


def _paper_page(election: Election, page: paper_votes.SigningPage | None = None,
                problems: list[str] | None = None) -> str:
    paper_list = None
    if page is not None:
        action = (url_for("official.paper_votes_approve", pending_id=page.pending_id)
                  if page.role == "approve" else
                  url_for("official.paper_votes_propose", election_id=election.id))
        paper_list = _paper_list(page, action)
    return render_template("official/paper_votes.html", election=election, form=ActionForm(),
                           problems=problems or [], closed=election.status == Status.CLOSED,
                           paper_list=paper_list)


@bp.route("/elections/<int:election_id>/paper-votes", methods=["GET", "POST"])
@body_limit(PAPER_LIST_MAX_BYTES + PAPER_FORM_OVERHEAD)  # the app's 4 MiB would refuse it (413)
@auth.official_required("propose_poll_action")
def paper_votes_upload(election_id: int) -> str | Response:
    """The paper-vote list (docs/record.md §2.4).  GET: a list another official proposed is
    shown for checking and signing (approval); otherwise the upload form.  POST: the uploaded
    CSV (header ``voter_id``) becomes this official's draft list, shown for checking and
    signing (proposal).  Signing happens in the browser, with the official's credential."""
    election = elections_overview.election_by_id(election_id)
    form = ActionForm()
    problems: list[str] = []
    if request.method == "GET":
        approve_page = paper_votes.approval_page(election, _me())
        if approve_page is not None:
            return _paper_page(election, approve_page)
        if paper_votes.pending_list(election) is not None:
            flash(_("You proposed the paper-vote list: a different official must check, sign and approve it."),
                  "info")
    if form.validate_on_submit():
        upload = request.files.get("paper_list")
        raw = upload.read(PAPER_LIST_MAX_BYTES + 1) if upload else b""
        if not raw:
            problems = [_("Choose the CSV file of the paper-vote list.")]
        elif len(raw) > PAPER_LIST_MAX_BYTES:
            problems = [_("The file is too large.")]
        else:
            try:
                text = raw.decode("utf-8")
            except UnicodeDecodeError:
                problems = [_("The file must be UTF-8 text (CSV).")]
            else:
                try:
                    page = paper_votes.draft(election, _me(), text, auth.now())
                except InputFileError as exc:
                    problems = exc.problems
                except approvals.ApprovalRefused as exc:
                    problems = [str(REFUSALS[exc.reason])]
                except ServiceError as exc:  # e.g. the list is already signed
                    problems = [str(exc)]
                else:
                    return _paper_page(election, page)
    return _paper_page(election, problems=problems)


def _signature_form() -> tuple[str, str]:
    """The signing form's fields: ``official_signature`` (128 hex) and ``digest``."""
    return (request.form.get("official_signature", "").strip(), request.form.get("digest", "").strip())


@bp.post("/elections/<int:election_id>/paper-votes/propose")
@auth.official_required("propose_poll_action")
def paper_votes_propose(election_id: int) -> str | Response:
    """The proposer's signature of their draft list makes the proposal."""
    election = elections_overview.election_by_id(election_id)
    if not ActionForm().validate_on_submit():
        abort(400)
    signature, digest = _signature_form()
    try:
        paper_votes.propose_signed(election, _me(), digest, signature, auth.now())
    except approvals.ApprovalRefused as exc:
        return _paper_page(election, problems=[str(REFUSALS[exc.reason])])
    except ServiceError as exc:
        return _paper_page(election, paper_votes.draft_page(election, _me()), [str(exc)])
    flash(_("Signed and proposed. A second official must now check, sign and approve it."), "success")
    return redirect(url_for("official.dashboard"))


@bp.post("/actions/<int:pending_id>/paper-votes/approve")
@auth.official_required("approve_poll_action")
def paper_votes_approve(pending_id: int) -> Response:
    """The second official's signature of the proposed list approves it."""
    if not ActionForm().validate_on_submit():
        abort(400)
    signature, digest = _signature_form()
    try:
        paper_votes.approve_signed(pending_id, _me(), digest, signature, auth.now())
    except approvals.ApprovalRefused as exc:
        flash(str(REFUSALS[exc.reason]), "error")
    except ServiceError as exc:
        flash(_("Nothing was changed: %(reason)s", reason=str(exc)), "error")
    else:
        flash(_("Signed and approved: the paper-vote list is recorded."), "success")
    return redirect(url_for("official.dashboard"))


# --- poll extensions and lots: two officials sign (docs/record.md §2.7, §4.6) ---------------------


def _decision_page(election: Election, kind: str, page: decisions.SigningPage | None = None,
                   problems: list[str] | None = None) -> str:
    sign_action = None
    if page is not None:
        sign_action = (url_for("official.decision_approve", pending_id=page.pending_id, action=kind)
                       if page.role == "approve" else
                       url_for("official.decision_propose", election_id=election.id, action=kind))
    close = poll_extensions.close_in_force(election) if kind == "extend_polls" else None
    ties = {}
    if kind == "record_lot" and page is None:
        names = {c.code: {x.code: f"{x.ballot_number}. {x.name_th if x.name_th else x.name_en}"
                          for x in c.candidates} for c in election.contests}
        ties = {contest: ([(cid, f"{cid} · {names.get(contest, {}).get(cid, '')}") for cid in tied], seats)
                for contest, (tied, seats) in lots.open_ties(election).items()}
    return render_template("official/decision.html", election=election, kind=kind, decision=page,
                           sign_action=sign_action, form=ActionForm(), problems=problems or [],
                           close_in_force=close.isoformat() if close else "",
                           suggested=(close + timedelta(hours=1)).isoformat() if close else "",
                           ties=ties)


def _decision_form(election_id: int, kind: str) -> str | Response:
    election = elections_overview.election_by_id(election_id)
    module = DECISIONS[kind][0]
    problems: list[str] = []
    if request.method == "GET":
        page = module.approval_page(election, _me())
        if page is not None:
            return _decision_page(election, kind, page)
        if decisions.pending(election, kind) is not None:
            flash(_("You proposed this: a different official must check, sign and approve it."), "info")
            return redirect(url_for("official.dashboard"))
        return _decision_page(election, kind)
    if not ActionForm().validate_on_submit():
        abort(400)
    try:
        if kind == "extend_polls":
            page = poll_extensions.draft(election, _me(), request.form.get("closes", ""),
                                         request.form.get("reason", ""), auth.now())
        else:
            page = lots.draft(election, _me(), request.form.get("contest", ""),
                              request.form.getlist("chosen"), auth.now())
    except approvals.ApprovalRefused as exc:
        problems = [str(REFUSALS[exc.reason])]
    except ServiceError as exc:
        problems = [str(exc)]
    else:
        return _decision_page(election, kind, page)
    return _decision_page(election, kind, problems=problems)


@bp.route("/elections/<int:election_id>/extend-polls", methods=["GET", "POST"])
@auth.official_required("propose_poll_action")
def extend_polls(election_id: int) -> str | Response:
    """A poll extension (docs/record.md §2.7): the form, or a proposal to check and sign."""
    return _decision_form(election_id, "extend_polls")


@bp.route("/elections/<int:election_id>/lot", methods=["GET", "POST"])
@auth.official_required("propose_poll_action")
def record_lot(election_id: int) -> str | Response:
    """The lot at a tied last seat (docs/record.md §4.6): the form, or a proposal to sign."""
    return _decision_form(election_id, "record_lot")


@bp.post("/elections/<int:election_id>/decisions/<action>/propose")
@auth.official_required("propose_poll_action")
def decision_propose(election_id: int, action: str) -> str | Response:
    """The proposer's signature of their draft makes the proposal."""
    if action not in DECISIONS:
        abort(404)
    election = elections_overview.election_by_id(election_id)
    if not ActionForm().validate_on_submit():
        abort(400)
    signature, digest = _signature_form()
    try:
        decisions.propose_signed(election, _me(), action, digest, signature, auth.now(),
                                 DECISIONS[action][0].WHAT)
    except approvals.ApprovalRefused as exc:
        return _decision_page(election, action, problems=[str(REFUSALS[exc.reason])])
    except ServiceError as exc:
        return _decision_page(election, action, DECISIONS[action][0].draft_page(election, _me()), [str(exc)])
    flash(_("Signed and proposed. A second official must now check, sign and approve it."), "success")
    return redirect(url_for("official.dashboard"))


@bp.post("/actions/<int:pending_id>/<action>/approve")
@auth.official_required("approve_poll_action")
def decision_approve(pending_id: int, action: str) -> Response:
    """The second official's signature of the proposed decision approves it."""
    if action not in DECISIONS:
        abort(404)
    if not ActionForm().validate_on_submit():
        abort(400)
    signature, digest = _signature_form()
    try:
        decisions.approve_signed(pending_id, _me(), action, digest, signature, auth.now(),
                                 DECISIONS[action][0].WHAT)
    except approvals.ApprovalRefused as exc:
        flash(str(REFUSALS[exc.reason]), "error")
    except ServiceError as exc:
        flash(_("Nothing was changed: %(reason)s", reason=str(exc)), "error")
    else:
        flash(_("Signed and approved: it is recorded and will be published in the election record."), "success")
    return redirect(url_for("official.dashboard"))
