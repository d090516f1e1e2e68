"""Published results (after close, from a verified record) and the record download."""
from __future__ import annotations

from dataclasses import dataclass

from flask import Blueprint, render_template, request, send_file
from werkzeug.wrappers import Response

from app.services.voting import results as results_service
from app.services.administration.manifest import get_election

bp = Blueprint("results", __name__, url_prefix="/results")

#: Rows of the full candidate list per page: a phone shows the elected first and pages the rest
#: (228 candidates in one table were 23,900 px at 360 px wide).
PAGE_SIZE = 25


@dataclass(frozen=True)
class Listing:
    """One page of a contest's full candidate list."""

    rows: list[results_service.CandidateRow]
    page: int
    pages: int
    first: int  # 1-based position of the first row
    total: int
    open: bool  # unfolded: the visitor asked for this contest's list


def listing(contest: results_service.ContestResult, sort: str, wanted: str | None,
            page: int) -> Listing:
    rows = contest.ordered(sort)
    pages = max(1, -(-len(rows) // PAGE_SIZE))
    current = min(max(page, 1), pages) if wanted == contest.code else 1
    start = (current - 1) * PAGE_SIZE
    return Listing(rows[start:start + PAGE_SIZE], current, pages, start + 1, len(rows),
                   wanted == contest.code)


@bp.get("/<slug>")
def show(slug: str) -> str:
    election = get_election(slug)
    contests = results_service.view(election)  # NotFound before results are published
    sort = request.args.get("sort", "votes")
    if sort not in results_service.SORTS:
        sort = "votes"
    wanted = request.args.get("contest")
    page = request.args.get("page", default=1, type=int) or 1
    return render_template("results/show.html", election=election, contests=contests, sort=sort,
                           listings={c.code: listing(c, sort, wanted, page) for c in contests},
                           closed_at=results_service.closed_at(election))


@bp.get("/<slug>/record.zip")
def record(slug: str) -> Response:
    path = results_service.published_archive(get_election(slug))
    return send_file(path, mimetype="application/zip", as_attachment=True,
                     download_name=f"{slug}-election-record.zip")
