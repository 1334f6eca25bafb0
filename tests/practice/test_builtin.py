"""The built-in interviewer's rules: its script, hint detection and the measured feedback.

Pure functions, so no app and no database: each test calls the function and reads the text.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import ROUND_HALF_UP, Decimal
from typing import Literal

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from peerview.models.enums import QuestionType
from peerview.practice import builtin
from peerview.practice.builtin import Comment, FeedbackDraft, Said

REVEALED_AT = datetime(2030, 1, 7, 9, 0, tzinfo=UTC)
RATING_KEYS = {"communication", "problem_solving", "technical", "overall"}


def said(
    seq: int,
    text: str,
    *,
    minutes: float,
    role: Literal["interviewer", "candidate", "notice"] = "candidate",
    kind: str = "message",
) -> Said:
    return Said(seq, role, kind, text, REVEALED_AT + timedelta(minutes=minutes))


def words(count: int, word: str = "because") -> str:
    return " ".join([word] * count)


def round_half_up_mean(values: list[int]) -> int:
    mean = Decimal(sum(values)) / Decimal(len(values))
    return int(mean.quantize(Decimal(1), rounding=ROUND_HALF_UP))


STRONG_CODE = "\n".join(
    ["", "def two_sum(numbers: list[int], target: int) -> tuple[int, int] | None:"]
    + ["    seen: dict[int, int] = {}  # value -> index of values already passed"] * 15
    + ["", "    return None"]
)

# A strong coding candidate: answers within a minute, writes a lot, uses no hint, has code.
STRONG = [
    said(1, "Hi, I'm Peerview's AI interviewer.", minutes=-1, role="interviewer", kind="intro"),
    said(2, "Two sum\n\nFind two numbers...", minutes=0, role="interviewer", kind="question"),
    said(3, "I would first ask whether the input is sorted. " + words(40), minutes=1),
    said(4, "Thanks. What is the complexity?", minutes=2, role="interviewer", kind="follow_up"),
    said(5, "With a hash map it is linear time. " + words(120), minutes=4),
    said(6, "Got it. Walk me through it.", minutes=5, role="interviewer", kind="follow_up"),
    said(7, "For [2, 7, 11] and 9 we store 2, then see 7. " + words(70), minutes=7),
]


def strong_feedback() -> FeedbackDraft:
    return builtin.measured_feedback(
        question_type=QuestionType.CODING,
        messages=STRONG,
        question_revealed_at=REVEALED_AT,
        ended_at=REVEALED_AT + timedelta(minutes=30),
        hints_used=0,
        hints_total=2,
        code_text=STRONG_CODE,
    )


def silent_feedback() -> FeedbackDraft:
    return builtin.measured_feedback(
        question_type=QuestionType.CODING,
        messages=STRONG[:2],
        question_revealed_at=REVEALED_AT,
        ended_at=REVEALED_AT + timedelta(minutes=30),
        hints_used=0,
        hints_total=2,
        code_text="",
    )


# The script


@pytest.mark.parametrize("question_type", list(QuestionType))
def test_follow_ups_come_in_order_then_the_closing_line(question_type: QuestionType) -> None:
    script = builtin.FOLLOW_UPS[question_type]
    assert 6 <= len(script) <= 8
    answer = "I would start from the simplest case and build up from there."
    replies = [
        builtin.follow_up(
            question_type=question_type, given=given, candidate_text=answer, code_text="x = 1"
        )
        for given in range(len(script) + 2)
    ]
    for reply, question in zip(replies, script, strict=False):
        assert reply.endswith(question)
    for reply in replies[len(script) :]:
        assert reply.endswith("end the session when you're ready.")
        assert "covered what I wanted to ask" in reply


def test_follow_ups_are_distinct_questions() -> None:
    for script in builtin.FOLLOW_UPS.values():
        assert len(set(script)) == len(script)
        assert all(question.endswith("?") for question in script)


@pytest.mark.parametrize(
    ("candidate_text", "code_text"),
    [
        ("ok", None),
        ("I think a heap of the k largest values keeps this at n log k.", "import heapq"),
        ("", ""),
    ],
)
def test_follow_up_is_deterministic(candidate_text: str, code_text: str | None) -> None:
    calls = [
        builtin.follow_up(
            question_type=QuestionType.CODING,
            given=3,
            candidate_text=candidate_text,
            code_text=code_text,
        )
        for _ in range(3)
    ]
    assert len(set(calls)) == 1


def test_follow_up_to_a_very_short_answer_asks_for_more() -> None:
    reply = builtin.follow_up(
        question_type=QuestionType.BEHAVIORAL, given=1, candidate_text="Yes.", code_text=None
    )
    assert reply.startswith("That's brief; when you can, say a little more")
    assert reply.endswith(builtin.FOLLOW_UPS[QuestionType.BEHAVIORAL][1])


def test_follow_up_for_coding_with_an_empty_code_pad_after_a_few_messages_asks_for_code() -> None:
    answer = "I would sort the values first and then walk two pointers inwards."

    def reply(given: int, code_text: str | None) -> str:
        return builtin.follow_up(
            question_type=QuestionType.CODING,
            given=given,
            candidate_text=answer,
            code_text=code_text,
        )

    assert "code pad" not in reply(1, "")
    assert reply(2, "  \n").startswith("When you're ready, start writing your solution")
    assert "start writing" not in reply(2, "def f(): pass")
    # No code pad at all: nothing to nudge towards.
    assert "start writing" not in reply(2, None)


def test_follow_up_refuses_a_negative_count() -> None:
    with pytest.raises(ValueError, match="given"):
        builtin.follow_up(
            question_type=QuestionType.CODING, given=-1, candidate_text="x", code_text=None
        )


def test_introduction_says_built_in_when_not_model_backed() -> None:
    text = builtin.introduction(candidate_name="Ada", duration_minutes=45, model_backed=False)
    assert text.startswith("Hi Ada, I'm Peerview's AI interviewer. We have 45 minutes.")
    assert "built-in interviewer" in text
    assert "no language model" in text
    assert "Ask for a hint whenever you are stuck; I'll give them one at a time." in text


def test_introduction_does_not_say_built_in_when_model_backed() -> None:
    text = builtin.introduction(candidate_name="Ada", duration_minutes=30, model_backed=True)
    assert "30 minutes" in text
    assert "built-in" not in text


@pytest.mark.parametrize("question_type", list(QuestionType))
def test_reveal_includes_title_and_prompt_verbatim(question_type: QuestionType) -> None:
    title = "Merge k sorted lists"
    prompt = "Given k sorted lists,\n  merge them into one sorted list.\n\nExample: [[1, 4], [2]]"
    text = builtin.reveal(
        title=title, prompt=prompt, question_type=question_type, has_code_pad=True
    )
    assert text.startswith(f"{title}\n\n{prompt}\n\n")
    assert "#" not in text.removeprefix(f"{title}\n\n{prompt}")


@pytest.mark.parametrize(
    ("question_type", "has_code_pad", "expected"),
    [
        (QuestionType.CODING, True, "write it in the code pad"),
        (QuestionType.CODING, False, "write the code here"),
        (QuestionType.SYSTEM_DESIGN, False, "Start with the requirements"),
        (QuestionType.BEHAVIORAL, False, "STAR"),
        (QuestionType.CONCEPTUAL, False, "concrete example"),
    ],
)
def test_reveal_says_what_is_expected_for_the_type(
    question_type: QuestionType, has_code_pad: bool, expected: str
) -> None:
    text = builtin.reveal(
        title="T", prompt="P", question_type=question_type, has_code_pad=has_code_pad
    )
    assert expected in text.split("\n\n")[-1]


# Hints


@pytest.mark.parametrize(
    ("text", "asks"),
    [
        ("hint", True),
        ("can I get a hint?", True),
        ("I'm stuck, any hints", True),
        ("give me a hint please", True),
        ("Hint?", True),
        ("Any clue where to start?", True),
        ("I'm stuck.", True),
        ("HINTS PLEASE", True),
        ("I hinted at this earlier", False),
        (
            "the hint was useful, here's my answer: sort the numbers, then move two pointers "
            "towards each other until they meet",
            False,
        ),
        ("I would use a hash map from value to index.", False),
        ("", False),
        ("hinting", False),
        ("chintz", False),
    ],
)
def test_hint_request_detection(text: str, asks: bool) -> None:
    assert builtin.is_hint_request(text) is asks


def test_hint_text_is_numbered_of_the_total() -> None:
    assert (
        builtin.hint_text(number=1, total=3, hint="Think about sorting.")
        == "Hint 1 of 3: Think about sorting."
    )
    assert (
        builtin.hint_text(number=3, total=3, hint="Two pointers.") == "Hint 3 of 3: Two pointers."
    )


def test_no_more_hints_when_the_question_has_none() -> None:
    assert builtin.no_more_hints(total=0).startswith("This question has no hints")


@pytest.mark.parametrize(("total", "phrase"), [(1, "the only hint"), (3, "all 3 hints")])
def test_no_more_hints_when_all_are_given(total: int, phrase: str) -> None:
    text = builtin.no_more_hints(total=total)
    assert phrase in text
    assert "no hints" not in text


# Time, closing and the fallback


@pytest.mark.parametrize(
    ("minutes_left", "phrase"), [(5, "About 5 minutes left"), (1, "1 minute ")]
)
def test_five_minute_warning_uses_the_minutes_left(minutes_left: int, phrase: str) -> None:
    assert phrase in builtin.five_minute_warning(minutes_left=minutes_left)


def test_closing_says_why_the_session_ended_and_that_feedback_follows() -> None:
    by_time = builtin.closing(ended_by_time=True)
    ended = builtin.closing(ended_by_time=False)
    assert "That's time" in by_time
    assert "ended" in ended
    assert "That's time" not in ended
    assert all("Thank you" in text and "feedback follows" in text for text in (by_time, ended))


@pytest.mark.parametrize(
    ("reason", "phrase"),
    [("model_failed", "stopped answering"), ("budget_spent", "token budget")],
)
def test_fallback_notice_says_plainly_why_and_who_carries_on(
    reason: Literal["model_failed", "budget_spent"], phrase: str
) -> None:
    text = builtin.fallback_notice(reason=reason)
    assert phrase in text
    assert "built-in interviewer carries on from here" in text


# Measured feedback


def test_feedback_of_a_strong_candidate_is_five_everywhere() -> None:
    # W = (9 + 40) + (8 + 120) + (12 + 70) = 259 >= 250 and A = 3: communication 5.
    # First answer after 1 minute, no hint: problem_solving 5.
    # N = 17 non-blank lines, C > 300 characters: technical 5.
    assert strong_feedback().ratings == {
        "communication": 5,
        "problem_solving": 5,
        "technical": 5,
        "overall": 5,
    }


def test_feedback_of_a_silent_candidate_is_one_everywhere() -> None:
    assert silent_feedback().ratings == {
        "communication": 1,
        "problem_solving": 1,
        "technical": 1,
        "overall": 1,
    }


def test_feedback_formula_on_a_middling_transcript() -> None:
    # One 50-word answer after 6 minutes, one hint of two used, a system design question.
    messages = [
        said(1, "Design a URL shortener", minutes=0, role="interviewer", kind="question"),
        said(2, "can I get a hint?", minutes=3),
        said(
            3, "Hint 1 of 2: start with the write path.", minutes=3, role="interviewer", kind="hint"
        ),
        said(4, words(50), minutes=6),
    ]
    draft = builtin.measured_feedback(
        question_type=QuestionType.SYSTEM_DESIGN,
        messages=messages,
        question_revealed_at=REVEALED_AT,
        ended_at=REVEALED_AT + timedelta(minutes=20),
        hints_used=1,
        hints_total=2,
        code_text=None,
    )
    # communication: 1 + [50 >= 30] = 2 (the hint request is not an answer, so A = 1).
    # problem_solving: 5 - 1 hint - [6 min > 5 min] = 3.
    # technical: longest answer 50 words: 1 + [>= 15] + [>= 40] = 3.
    # overall: (2 + 3 + 3) / 3 = 2.67 -> 3.
    assert draft.ratings == {
        "communication": 2,
        "problem_solving": 3,
        "technical": 3,
        "overall": 3,
    }


def test_feedback_technical_for_coding_is_measured_from_the_code_pad() -> None:
    # communication 2 (50 words, one answer), problem_solving 5 (no hint, after a minute),
    # technical 2 (one code line of 8 characters, however long the answer): overall 9 / 3 = 3.
    messages = [said(1, words(50), minutes=1)]
    draft = builtin.measured_feedback(
        question_type=QuestionType.CODING,
        messages=messages,
        question_revealed_at=REVEALED_AT,
        ended_at=REVEALED_AT + timedelta(minutes=10),
        hints_used=0,
        hints_total=0,
        code_text="print(1)",
    )
    assert draft.ratings == {"communication": 2, "problem_solving": 5, "technical": 2, "overall": 3}


def test_feedback_ratings_are_clamped_to_one_and_five() -> None:
    messages = [
        said(1, words(2_000), minutes=25),
        *(said(n, words(5), minutes=26) for n in range(2, 9)),
    ]
    draft = builtin.measured_feedback(
        question_type=QuestionType.CONCEPTUAL,
        messages=messages,
        question_revealed_at=REVEALED_AT,
        ended_at=REVEALED_AT + timedelta(minutes=30),
        hints_used=9,
        hints_total=3,
        code_text=None,
    )
    # 5 - 9 hints - 2 for a 25-minute wait is far below 1; 2,035 words is far above the bars.
    assert draft.ratings == {
        "communication": 5,
        "problem_solving": 1,
        "technical": 5,
        "overall": 4,
    }


def test_feedback_counts_only_answers_after_the_question_and_not_hint_requests() -> None:
    messages = [
        said(1, "Hello! " + words(200), minutes=-2),
        said(2, "I'm stuck, any hints", minutes=1),
        said(3, "   ", minutes=2),
        said(4, "A mutex lets one thread at a time into the critical section.", minutes=3),
    ]
    draft = builtin.measured_feedback(
        question_type=QuestionType.CONCEPTUAL,
        messages=messages,
        question_revealed_at=REVEALED_AT,
        ended_at=REVEALED_AT + timedelta(minutes=10),
        hints_used=0,
        hints_total=0,
        code_text=None,
    )
    assert draft.comments[0].message_seq == 4
    assert "12 words in 1 answer" in draft.basis


def assert_pointers_are_real(
    draft: FeedbackDraft, messages: list[Said], code_text: str | None
) -> None:
    by_seq = {message.seq: message for message in messages}
    code_lines = (code_text or "").splitlines()
    for comment in draft.comments:
        assert comment.text
        assert "#" not in comment.text
        if comment.message_seq is not None:
            assert comment.message_seq in by_seq
            text = by_seq[comment.message_seq].text
            # A blank message (possible only for a hint here) has nothing to quote.
            assert comment.excerpt is not None or not text.strip()
            assert comment.excerpt is None or comment.excerpt in text
        if comment.code_line is not None:
            assert 1 <= comment.code_line <= len(code_lines)
            assert comment.excerpt is not None
            assert comment.excerpt in code_lines[comment.code_line - 1]
        if comment.excerpt is not None:
            assert 0 < len(comment.excerpt) <= 120


def test_feedback_comments_point_at_real_messages_and_code_lines() -> None:
    draft = strong_feedback()
    assert 3 <= len(draft.comments) <= 5
    assert_pointers_are_real(draft, STRONG, STRONG_CODE)
    first, longest, hints, code, summary = draft.comments
    assert first.message_seq == 3
    assert first.excerpt == STRONG[2].text[: len(first.excerpt or "")]
    assert "1 minute after the question" in first.text
    assert longest.message_seq == 5
    assert "128 words" in longest.text
    assert "did not use any of the 2 hints" in hints.text
    assert code.code_line == 2
    assert code.excerpt == STRONG_CODE.splitlines()[1]
    assert "17 non-blank lines" in code.text
    assert summary.message_seq is None
    assert summary.code_line is None


def test_feedback_points_at_the_first_hint_message() -> None:
    messages = [
        said(1, "Q", minutes=0, role="interviewer", kind="question"),
        said(2, "hint please", minutes=1),
        said(3, "Hint 1 of 3: sort first.", minutes=1, role="interviewer", kind="hint"),
        said(4, "hint again?", minutes=2),
        said(5, "Hint 2 of 3: two pointers.", minutes=2, role="interviewer", kind="hint"),
        said(6, "Sorting then two pointers gives n log n overall, which is fine here.", minutes=3),
    ]
    draft = builtin.measured_feedback(
        question_type=QuestionType.CODING,
        messages=messages,
        question_revealed_at=REVEALED_AT,
        ended_at=REVEALED_AT + timedelta(minutes=15),
        hints_used=2,
        hints_total=3,
        code_text=None,
    )
    assert_pointers_are_real(draft, messages, None)
    (hints,) = [comment for comment in draft.comments if "2 of 3 hints" in comment.text]
    assert hints.message_seq == 3
    assert hints.excerpt == "Hint 1 of 3: sort first."


def test_feedback_excerpts_are_short_quotes_of_long_messages() -> None:
    long_answer = "First,\n\n  " + words(80, "partition") + "\nSecond line."
    messages = [said(1, long_answer, minutes=1)]
    code = "\n\n   " + "x" * 300 + "\n"
    draft = builtin.measured_feedback(
        question_type=QuestionType.CODING,
        messages=messages,
        question_revealed_at=REVEALED_AT,
        ended_at=REVEALED_AT + timedelta(minutes=15),
        hints_used=0,
        hints_total=1,
        code_text=code,
    )
    assert_pointers_are_real(draft, messages, code)
    assert draft.comments[0].excerpt == "First,"
    (code_comment,) = [comment for comment in draft.comments if comment.code_line is not None]
    assert code_comment.code_line == 3
    assert code_comment.excerpt == "x" * 120


def test_feedback_of_a_silent_candidate_says_no_answer_was_given() -> None:
    draft = silent_feedback()
    assert 3 <= len(draft.comments) <= 5
    assert draft.comments[0].text.startswith("No answer was given")
    assert draft.comments[0].message_seq is None
    assert any("code pad stayed empty" in comment.text for comment in draft.comments)
    assert_pointers_are_real(draft, STRONG[:2], "")


def test_feedback_basis_says_it_was_measured_not_judged() -> None:
    for draft in (strong_feedback(), silent_feedback()):
        assert draft.basis.startswith(
            "Measured by the built-in interviewer, not judged by a person or a model: "
        )
    assert "no answer given" in silent_feedback().basis
    assert "0 of 2 hints used" in strong_feedback().basis


ROLES = st.sampled_from(("interviewer", "candidate", "notice"))
KINDS = st.sampled_from(
    ("intro", "question", "reply", "hint", "follow_up", "warning", "closing", "notice", "message")
)
TEXTS = st.text(max_size=400) | st.lists(
    st.sampled_from(("hint", "stuck", "because", "O(n)", "\n", "x" * 130)), max_size=300
).map(" ".join)


@st.composite
def transcripts(draw: st.DrawFn) -> list[Said]:
    count = draw(st.integers(min_value=0, max_value=12))
    return [
        Said(
            seq=seq,
            role=draw(ROLES),
            kind=draw(KINDS),
            text=draw(TEXTS),
            at=REVEALED_AT + timedelta(seconds=draw(st.integers(-600, 3_600))),
        )
        for seq in range(1, count + 1)
    ]


@settings(max_examples=50, deadline=None)
@given(
    question_type=st.sampled_from(list(QuestionType)),
    messages=transcripts(),
    hints_used=st.integers(min_value=0, max_value=25),
    hints_total=st.integers(min_value=0, max_value=20),
    code_text=st.none() | TEXTS,
    session_seconds=st.integers(min_value=-60, max_value=7_200),
)
def test_feedback_ratings_are_always_within_one_to_five_and_overall_is_the_rounded_mean(
    question_type: QuestionType,
    messages: list[Said],
    hints_used: int,
    hints_total: int,
    code_text: str | None,
    session_seconds: int,
) -> None:
    draft = builtin.measured_feedback(
        question_type=question_type,
        messages=messages,
        question_revealed_at=REVEALED_AT,
        ended_at=REVEALED_AT + timedelta(seconds=session_seconds),
        hints_used=hints_used,
        hints_total=hints_total,
        code_text=code_text,
    )
    assert set(draft.ratings) == RATING_KEYS
    assert all(1 <= rating <= 5 for rating in draft.ratings.values())
    parts = [draft.ratings[key] for key in ("communication", "problem_solving", "technical")]
    assert draft.ratings["overall"] == round_half_up_mean(parts)
    assert 3 <= len(draft.comments) <= 5
    assert all(isinstance(comment, Comment) for comment in draft.comments)
    assert_pointers_are_real(draft, messages, code_text)
