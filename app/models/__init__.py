"""SQLAlchemy 2.0 models. Importing this package registers every table on ``Base.metadata``."""
from app.models.account import VoterAccount
from app.models.activation import ActivationCode
from app.models.account_state import ThrottleCounter
from app.models.approval import PendingAction
from app.models.authority import CredentialList, CredentialRevocation, VoterCredential
from app.models.base import Base
from app.models.decision import ContestLot, DecisionDraft, PollExtension
from app.models.board import (BoardBallot, BoardEntry, BoardHead, Checkpoint, PaperListDraft, PaperOverrideList,
                              WitnessStatement)
from app.models.election import Candidate, Contest, Election, Team
from app.models.official import AuditEntry, Official
from app.models.roll import RollEntry

__all__ = [
    "ActivationCode",
    "AuditEntry",
    "Base",
    "BoardBallot",
    "BoardEntry",
    "BoardHead",
    "Candidate",
    "Checkpoint",
    "Contest",
    "ContestLot",
    "DecisionDraft",
    "CredentialList",
    "CredentialRevocation",
    "Election",
    "Official",
    "PaperListDraft",
    "PaperOverrideList",
    "PendingAction",
    "PollExtension",
    "RollEntry",
    "WitnessStatement",
    "Team",
    "ThrottleCounter",
    "VoterAccount",
    "VoterCredential",
]
