"""Every table of Peerview; importing this module registers them all on `Base.metadata`."""

from peerview.models.analytics import (
    AnalyticsAcceptWait,
    AnalyticsAcceptWaitDay,
    AnalyticsActivityDay,
    AnalyticsRatingDay,
    AnalyticsRequestDay,
    AnalyticsSessionDay,
    AnalyticsWeek,
    AnalyticsWeekUser,
)
from peerview.models.app_meta import AppMeta
from peerview.models.base import Base
from peerview.models.code_document import CodeDocument, CodeUpdate
from peerview.models.feedback import Feedback
from peerview.models.interview_request import InterviewRequest
from peerview.models.interview_session import InterviewSession
from peerview.models.notification import Notification
from peerview.models.practice import PracticeMessage, PracticeSession
from peerview.models.question import Question
from peerview.models.revoked_token import RevokedToken
from peerview.models.session_question import SessionQuestion
from peerview.models.setup_code import SetupCode
from peerview.models.user import User

__all__ = [
    "AnalyticsAcceptWait",
    "AnalyticsAcceptWaitDay",
    "AnalyticsActivityDay",
    "AnalyticsRatingDay",
    "AnalyticsRequestDay",
    "AnalyticsSessionDay",
    "AnalyticsWeek",
    "AnalyticsWeekUser",
    "AppMeta",
    "Base",
    "CodeDocument",
    "CodeUpdate",
    "Feedback",
    "InterviewRequest",
    "InterviewSession",
    "Notification",
    "PracticeMessage",
    "PracticeSession",
    "Question",
    "RevokedToken",
    "SessionQuestion",
    "SetupCode",
    "User",
]
