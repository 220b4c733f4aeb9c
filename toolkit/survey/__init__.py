"""``crm survey``: satisfaction surveys as Excel forms that go out and come back.

create → one signed, protected form per active customer; send / remind → e-mail them through
the mail layer; collect → read the returned forms from a folder, verify and keep the answers;
results → the results workbook, and ``latest_scores`` for classify and the monthly report.
"""

from typing import TYPE_CHECKING

from ..rooms import on_first_use

if TYPE_CHECKING:  # what a type checker and an editor see: the same names, imported
    from ..surveydata.questions import Question, load_questions
    from ..surveydata.scores import CustomerScore, latest_scores
    from .campaigns import CreateResult, create_campaign
    from .collect import CollectResult, collect
    from .mailing import MailResult, remind_forms, send_forms
    from .results import SurveyResults, survey_results


_ROOMS = {
    "CollectResult": ".collect",
    "CreateResult": ".campaigns",
    "CustomerScore": "..surveydata.scores",
    "MailResult": ".mailing",
    "Question": "..surveydata.questions",
    "SurveyResults": ".results",
    "collect": ".collect",
    "create_campaign": ".campaigns",
    "latest_scores": "..surveydata.scores",
    "load_questions": "..surveydata.questions",
    "remind_forms": ".mailing",
    "send_forms": ".mailing",
    "survey_results": ".results",
}
__all__ = [
    "CollectResult",
    "CreateResult",
    "CustomerScore",
    "MailResult",
    "Question",
    "SurveyResults",
    "collect",
    "create_campaign",
    "latest_scores",
    "load_questions",
    "remind_forms",
    "send_forms",
    "survey_results",
]
on_first_use(__name__)
