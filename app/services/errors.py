"""Domain errors: what the service layer raises when a request cannot be carried out.

They say *what* went wrong in the domain's terms and carry a message that is safe to show;
they know nothing of HTTP. app/views/errors.py maps each class (the most specific one listed
there, along the class's MRO) to an HTTP status and a stable error code, for the JSON API and
the HTML pages alike; CLIs print the message.

The generic kinds (:class:`InvalidRequest`, :class:`Forbidden`, :class:`NotFound`,
:class:`Conflict`, :class:`Gone`, :class:`TooMany`, :class:`Busy`) are subclassed by the
concept-specific errors below them where a caller (or a client) tells those cases apart.
"""
from __future__ import annotations


class ServiceError(Exception):
    """A request that cannot be carried out; the message is safe to show to the user."""


# --- generic kinds --------------------------------------------------------------------------
class InvalidRequest(ServiceError):
    """The request or its data is malformed or invalid; nothing was changed."""


class NotSignedIn(ServiceError):
    """The request needs a signed-in principal and there is none (or the session ended)."""


class SessionExpired(NotSignedIn):
    """The principal's session ended (idle or absolute timeout, or its cookie is gone): the
    voter must sign in again; nothing of the request was done (docs/accounts.md §4)."""


class Forbidden(ServiceError):
    """The signed-in principal may not do this."""


class NotFound(ServiceError):
    """The thing asked for does not exist (or is not the caller's to see)."""


class Conflict(ServiceError):
    """The request clashes with the current state (election status, existing data)."""


class NotReady(Conflict):
    """A step that must come first has not been taken yet (e.g. the key ceremony)."""


class Gone(ServiceError):
    """The thing asked for existed but is no longer available."""


class TooMany(ServiceError):
    """A per-item allowance is used up."""


class Busy(ServiceError):
    """The server has no capacity for this now; try again after ``retry_after`` seconds."""

    def __init__(self, retry_after: int):
        super().__init__(f"the server is busy; try again in {retry_after} s")
        self.retry_after = retry_after


class Misconfigured(ServiceError):
    """The server's own setup is wrong (e.g. its signing key); not the caller's fault."""


# --- files ----------------------------------------------------------------------------------
class InputFileError(InvalidRequest):
    """An uploaded or imported file is invalid. Nothing from it was stored.

    ``problems`` holds one line per problem, each naming the line (or field) at fault.
    """

    def __init__(self, source: str, problems: list[str]):
        self.source = source
        self.problems = problems
        shown = problems[:50]
        more = f"\n  ... and {len(problems) - len(shown)} more" if len(problems) > len(shown) else ""
        super().__init__(
            f"{source}: {len(problems)} problem(s), nothing was imported:\n  "
            + "\n  ".join(shown)
            + more
        )


# --- voting ---------------------------------------------------------------------------------
class CastRejected(ServiceError):
    """A ballot (or a check of one) was not accepted; nothing was written to the board.

    Raised only through its subclasses; catching it catches every refusal of the cast API.
    """


class BallotRejected(CastRejected, InvalidRequest):
    """The ballot does not parse or its proofs do not verify."""


class MalformedCast(CastRejected, InvalidRequest):
    """The cast (or check) request is not the expected JSON object."""


class WrongElection(CastRejected, Forbidden):
    """The voter is not on the roll of this election."""


class WrongContest(CastRejected, Forbidden):
    """The ballot is for a contest the voter cannot vote in."""


class ElectionNotReady(CastRejected, NotReady):
    """The election has no key, or no contest for the voter, yet."""


class PollsClosed(CastRejected, Conflict):
    """Ballots are accepted only while the polls are open."""


class BallotReplayed(CastRejected, Conflict):
    """This exact ballot is already on the board."""


class WrongCredential(CastRejected, Forbidden):
    """The ballot is signed for a credential that is not the voter's registered live one
    (docs/protocol.md §13.3)."""


class BadSignature(CastRejected, InvalidRequest):
    """The voter's signature of the ballot statement does not verify (docs/protocol.md §13.3)."""


class StalePrevious(CastRejected, Conflict):
    """``previous`` is not the credential's current ballot: another device cast meanwhile
    (docs/protocol.md §13.3); reload the ballot context and sign again."""


class BoardWriteFailed(Busy):
    """The transaction that was to store this ballot with the others of its group commit failed
    (app/services/voting/group_commit.py): none of them was stored and none got a receipt; the
    same ballot may be sent again."""

    def __init__(self, retry_after: int = 1):
        super().__init__(retry_after)
        self.args = ("the board could not store the ballot; it was not cast: try again",)


class VerifierUnavailable(Busy):
    """The worker's proof process (crypto/proof_process.py) stopped twice while checking the batch
    holding this ballot: it was neither accepted nor refused and not cast; the same ballot may be
    sent again."""

    def __init__(self, retry_after: int = 1):
        super().__init__(retry_after)
        self.args = ("the server could not check the ballot; it was not cast: try again",)


class BoardClosed(Conflict):
    """The board has its final checkpoint: nothing more can be appended."""


class BallotNotFound(CastRejected, NotFound):
    """No (such) ballot of the caller's on the board."""


class AuditedBallot(CastRejected, Conflict):
    """This ballot was audited (its seed is public): it can never be cast (docs/protocol.md §14)."""


class BadSeed(CastRejected, InvalidRequest):
    """An audit's seed does not open its ballot (docs/protocol.md §5.6, §14.3)."""


class BadRange(InvalidRequest):
    """Snapshot API: ``after``/``upto`` missing, malformed or outside the bounds of
    docs/record.md §3.2."""


class WitnessRefused(InvalidRequest):
    """Not a statement of a witness pinned in the opening, signed by its pinned key
    (docs/record.md §3.5)."""


class NotOnBoard(Conflict):
    """A witness statement's (seq, head) is not on this board (docs/record.md §3.5)."""


class BadTracker(InvalidRequest):
    """A tracker or audit code cannot be read (docs/record.md §2.5, docs/protocol.md §14.4)."""
