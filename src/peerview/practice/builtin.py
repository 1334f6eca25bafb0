"""The built-in interviewer: scripted replies and measured feedback when no model answers.

Pure: no I/O, no database, no clock. Everything it needs comes in as arguments, and the same
arguments always give the same text.

Hint requests. `is_hint_request` is a plain word rule: a message asks for a hint when it has
at most 12 words (split on spaces) and one of them, ignoring case and punctuation, is "hint",
"hints", "clue", "clues" or "stuck". "Hinted" is a different word, so "I hinted at this
earlier" is not a request, and a long message that merely mentions a hint ("the hint was
useful, here's my answer: ...") is an answer. A short message that mentions a hint without
asking ("the hint helped") does count as a request: the rule stays simple on purpose.

Measured feedback. The built-in interviewer rates only what it can count, never the content.

- A word is a run of characters between spaces. An answer is a candidate message sent at or
  after the question was revealed that has at least one word and is not a hint request.
- W: words in all answers. A: number of answers. L: words in the longest answer.
  D: time from the question's reveal to the first answer. H: hints used.
- N: non-blank lines in the code pad. C: characters of those lines, surrounding spaces removed.

Communication and technical start at 1 and gain a point for each bar cleared; problem solving
starts at 5 and loses a point for each hint and each bar of time passed ([x] is 1 when x
holds, else 0):

- communication = 1 + [W >= 30] + [W >= 100] + [W >= 250] + [A >= 3]
- problem_solving = 1 when there is no answer; otherwise
  5 - H - [D > 5 minutes] - [D > 10 minutes]
- technical, for a CODING question with a code pad (`code_text` is not None) =
  1 + [N >= 1] + [N >= 5] + [N >= 15] + [C >= 300];
  for any other question, or CODING without a code pad =
  1 + [L >= 15] + [L >= 40] + [L >= 80] + [L >= 150]
- overall = the mean of the three, rounded half up: floor((sum + 1.5) / 3)

Every rating is then clamped to 1..5.
"""

from __future__ import annotations

import re
import zlib
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from types import MappingProxyType
from typing import Literal

from peerview.models.enums import QuestionType

INTERVIEWER_NAME = "Peerview AI interviewer"

RATING_KEYS = ("communication", "problem_solving", "technical", "overall")
RATING_MIN = 1
RATING_MAX = 5
EXCERPT_MAX_CHARS = 120

# is_hint_request: at most this many words, one of them a hint word.
HINT_REQUEST_MAX_WORDS = 12
HINT_WORDS = frozenset({"hint", "hints", "clue", "clues", "stuck"})

# follow_up: an answer under this many words gets a nudge to say more.
SHORT_ANSWER_WORDS = 5
# follow_up: from this many follow-ups given, a CODING answer with an empty code pad gets a nudge.
CODE_NUDGE_AFTER = 2

# A hint word stands between characters other than letters, digits and apostrophes.
_TOKEN = re.compile(r"[a-z0-9']+")

_COVERED = (
    "We have covered what I wanted to ask; keep refining, or end the session when you're ready."
)
_ACKNOWLEDGEMENTS = ("Thanks.", "Got it.", "Okay, noted.", "Thanks, that's clear.")
_SAY_MORE = "That's brief; when you can, say a little more about your reasoning."
_WRITE_CODE = "When you're ready, start writing your solution in the code pad."

FOLLOW_UPS: Mapping[QuestionType, tuple[str, ...]] = MappingProxyType(
    {
        QuestionType.CODING: (
            "Before going further: what are you assuming about the input, such as its size, "
            "its value range, empty input and duplicates?",
            "What are the time and space complexity of your approach, and which step dominates?",
            "Could you walk me through your solution on a small example, step by step, saying "
            "what each variable holds as you go?",
            "Which edge cases would break a naive version (empty input, one element, all values "
            "equal, very large numbers), and how does yours handle them?",
            "Is there a faster approach, or one that uses less memory? What would you give up "
            "to get it?",
            "How would you test this: which three test cases would you write first, and what "
            "does each one check?",
            "If the input no longer fit in memory, or arrived as a stream, what would you change?",
        ),
        QuestionType.SYSTEM_DESIGN: (
            "Which functional requirements are you designing for, and what is explicitly out "
            "of scope?",
            "Put rough numbers on it: how many users, how many requests per second at peak, and "
            "how much new data per day?",
            "Walk me through one request end to end: which components does it touch, and in "
            "what order?",
            "How would you store the data? Which kind of database, what keys or schema, and why "
            "that choice?",
            "Where is the bottleneck when the load grows tenfold, and how do you get past it?",
            "What happens when a part fails, say a database node or a whole data centre? What "
            "does the user see?",
            "Where did you trade consistency against availability or latency, and what does "
            "that cost the user?",
            "How would you know the system is healthy in production? Which metrics and alerts "
            "would you set up first?",
        ),
        QuestionType.BEHAVIORAL: (
            "What was your own part in that, as distinct from the team's?",
            "Which options did you consider, and why did you choose the one you did?",
            "How did you measure the result? Are there numbers you can share?",
            "Was there disagreement along the way, and how did you handle it?",
            "How did you keep the people affected informed while it was going on?",
            "What would you do differently if you faced the same situation again?",
            "What did you learn from it that you have used since?",
        ),
        QuestionType.CONCEPTUAL: (
            "Can you give a concrete example from code or a system you have worked with?",
            "What problem does it solve, and what did people do before it existed?",
            "What happens underneath: how is it usually implemented?",
            "When would you not use it? What are its costs or failure modes?",
            "How does it compare with the closest alternative, and when would you pick each?",
            "How would you explain it to a junior engineer meeting it for the first time?",
            "What is a common misconception about it, or a mistake you have seen people make "
            "with it?",
        ),
    }
)

_EXPECTATIONS: Mapping[QuestionType, str] = MappingProxyType(
    {
        QuestionType.SYSTEM_DESIGN: (
            "Start with the requirements and rough scale, then sketch the main components and "
            "how data flows between them."
        ),
        QuestionType.BEHAVIORAL: (
            "Answer with one real example in the STAR shape: the situation, your task, the "
            "actions you took and the result."
        ),
        QuestionType.CONCEPTUAL: (
            "Explain it in your own words with a concrete example, and say where it stops applying."
        ),
    }
)


def _plural(count: int, noun: str) -> str:
    return f"{count} {noun}" if count == 1 else f"{count} {noun}s"


def introduction(*, candidate_name: str, duration_minutes: int, model_backed: bool) -> str:
    """The interviewer's first message of a practice session."""
    name = candidate_name.strip() or "there"
    parts = [
        f"Hi {name}, I'm Peerview's AI interviewer. We have {_plural(duration_minutes, 'minute')}.",
        "I'll give you a question and ask follow-up questions as you answer; think aloud, "
        "since how you get there matters as much as where you end up.",
        "Ask for a hint whenever you are stuck; I'll give them one at a time.",
    ]
    if not model_backed:
        parts.append(
            "This session runs on the built-in interviewer: its follow-ups are scripted, and no "
            "language model reads your answers."
        )
    parts.append("You'll get feedback when the session ends.")
    return " ".join(parts)


def reveal(*, title: str, prompt: str, question_type: QuestionType, has_code_pad: bool) -> str:
    """The question's title and prompt verbatim, then what is expected for its type."""
    if question_type is QuestionType.CODING:
        where = "write it in the code pad" if has_code_pad else "write the code here"
        expected = (
            f"Think aloud: talk through your approach and its complexity first, then {where}."
        )
    else:
        expected = _EXPECTATIONS[question_type]
    return f"{title}\n\n{prompt}\n\n{expected}"


def follow_up(
    *, question_type: QuestionType, given: int, candidate_text: str, code_text: str | None
) -> str:
    """The scripted reply to a candidate's message, `given` follow-ups having been asked.

    The next follow-up of FOLLOW_UPS for the type, or a closing line once all are asked, after
    a short acknowledgement. The acknowledgement is a nudge to write code for a CODING question
    whose code pad exists (`code_text` is not None) but is still blank after CODE_NUDGE_AFTER
    follow-ups; else a nudge to say more for an answer under SHORT_ANSWER_WORDS words; else
    one of a few plain acknowledgements, picked by a checksum of the text.
    """
    if given < 0:
        raise ValueError("given must be 0 or more")
    script = FOLLOW_UPS[question_type]
    question = script[given] if given < len(script) else _COVERED
    if (
        question_type is QuestionType.CODING
        and code_text is not None
        and not code_text.strip()
        and given >= CODE_NUDGE_AFTER
    ):
        prefix = _WRITE_CODE
    elif len(candidate_text.split()) < SHORT_ANSWER_WORDS:
        prefix = _SAY_MORE
    else:
        checksum = zlib.crc32(candidate_text.strip().encode("utf-8"))
        prefix = _ACKNOWLEDGEMENTS[checksum % len(_ACKNOWLEDGEMENTS)]
    return f"{prefix} {question}"


def is_hint_request(text: str) -> bool:
    """Whether a candidate's message asks for a hint (the rule is in the module docstring)."""
    if len(text.split()) > HINT_REQUEST_MAX_WORDS:
        return False
    return not HINT_WORDS.isdisjoint(_TOKEN.findall(text.lower()))


def hint_text(*, number: int, total: int, hint: str) -> str:
    return f"Hint {number} of {total}: {hint}"


def no_more_hints(*, total: int) -> str:
    if total == 0:
        return (
            "This question has no hints, I'm afraid. Try restating the problem in your own "
            "words, or work through a small example by hand."
        )
    given = "the only hint" if total == 1 else f"all {total} hints"
    return (
        f"You have had {given} for this question. Keep going with what you have; "
        "a small example worked by hand often shows the way."
    )


def five_minute_warning(*, minutes_left: int) -> str:
    return (
        f"About {_plural(minutes_left, 'minute')} left. Start wrapping up: "
        "finish your current point and summarise where your answer stands."
    )


def closing(*, ended_by_time: bool) -> str:
    if ended_by_time:
        opening = "That's time. Thank you for working through the question with me."
    else:
        opening = "The session has ended. Thank you for working through the question with me."
    return f"{opening} Your feedback follows."


def fallback_notice(*, reason: Literal["model_failed", "budget_spent"]) -> str:
    if reason == "model_failed":
        why = "The language model stopped answering"
    else:
        why = "This session's token budget for the language model is spent"
    return (
        f"{why}, so the built-in interviewer carries on from here: its follow-ups are scripted, "
        "and your transcript so far is kept."
    )


@dataclass(frozen=True, slots=True)
class Said:
    """One transcript message, as the feedback sees it."""

    seq: int
    role: Literal["interviewer", "candidate", "notice"]
    # "intro", "question", "reply", "hint", "follow_up", "warning", "closing", "notice", "message"
    kind: str
    text: str
    at: datetime


@dataclass(frozen=True, slots=True)
class Comment:
    text: str
    message_seq: int | None  # the transcript message it points at, if any
    code_line: int | None  # 1-based line of the code pad it points at, if any
    excerpt: str | None  # a quote of at most EXCERPT_MAX_CHARS of that message or line


@dataclass(frozen=True, slots=True)
class FeedbackDraft:
    ratings: dict[str, int]  # exactly RATING_KEYS, each 1..5
    comments: tuple[Comment, ...]
    basis: str


def _clamp(value: int) -> int:
    return max(RATING_MIN, min(RATING_MAX, value))


def _round_half_up_mean(values: Sequence[int]) -> int:
    """The mean of whole numbers, rounded half up, in integers only."""
    return (2 * sum(values) + len(values)) // (2 * len(values))


def _excerpt(text: str) -> str | None:
    """A quote of the first non-blank line, cut at a word break to EXCERPT_MAX_CHARS.

    Always a substring of `text`, so that a reader can find it in the original.
    """
    line = next((line.strip() for line in text.splitlines() if line.strip()), "")
    if not line:
        return None
    if len(line) <= EXCERPT_MAX_CHARS:
        return line
    head = line[:EXCERPT_MAX_CHARS]
    cut = head.rfind(" ")
    return head[:cut].rstrip() if cut > EXCERPT_MAX_CHARS // 2 else head


def _duration(seconds: int) -> str:
    if seconds < 60:
        return _plural(seconds, "second")
    minutes, rest = divmod(seconds, 60)
    if rest == 0:
        return _plural(minutes, "minute")
    return f"{_plural(minutes, 'minute')} {_plural(rest, 'second')}"


def _communication(*, words: int, answers: int) -> int:
    return _clamp(1 + (words >= 30) + (words >= 100) + (words >= 250) + (answers >= 3))


def _problem_solving(*, first_answer_seconds: int | None, hints_used: int) -> int:
    if first_answer_seconds is None:
        return RATING_MIN
    slow = (first_answer_seconds > 5 * 60) + (first_answer_seconds > 10 * 60)
    return _clamp(5 - hints_used - slow)


def _technical_from_code(*, lines: int, chars: int) -> int:
    return _clamp(1 + (lines >= 1) + (lines >= 5) + (lines >= 15) + (chars >= 300))


def _technical_from_answer(*, longest_words: int) -> int:
    return _clamp(
        1
        + (longest_words >= 15)
        + (longest_words >= 40)
        + (longest_words >= 80)
        + (longest_words >= 150)
    )


def measured_feedback(
    *,
    question_type: QuestionType,
    messages: Sequence[Said],
    question_revealed_at: datetime,
    ended_at: datetime,
    hints_used: int,
    hints_total: int,
    code_text: str | None,
) -> FeedbackDraft:
    """Ratings and comments from what can be counted in the transcript and the code pad.

    The formula is in the module docstring; every comment points at the message or code line
    it is about, when there is one.
    """
    ordered = sorted(messages, key=lambda said: said.seq)
    answers = [
        said
        for said in ordered
        if said.role == "candidate"
        and said.at >= question_revealed_at
        and said.text.split()
        and not is_hint_request(said.text)
    ]
    answer_words = [len(said.text.split()) for said in answers]
    total_words = sum(answer_words)
    first = answers[0] if answers else None
    first_seconds = (
        max(0, int((first.at - question_revealed_at).total_seconds())) if first else None
    )
    code_lines = [
        (number, line.strip())
        for number, line in enumerate((code_text or "").splitlines(), start=1)
        if line.strip()
    ]
    code_chars = sum(len(line) for _, line in code_lines)
    hint_message = next(
        (said for said in ordered if said.role == "interviewer" and said.kind == "hint"), None
    )
    session_seconds = max(0, int((ended_at - question_revealed_at).total_seconds()))

    communication = _communication(words=total_words, answers=len(answers))
    problem_solving = _problem_solving(first_answer_seconds=first_seconds, hints_used=hints_used)
    if question_type is QuestionType.CODING and code_text is not None:
        technical = _technical_from_code(lines=len(code_lines), chars=code_chars)
    else:
        technical = _technical_from_answer(longest_words=max(answer_words, default=0))
    overall = _clamp(_round_half_up_mean((communication, problem_solving, technical)))

    comments: list[Comment] = []
    if first is None or first_seconds is None:
        comments.append(
            Comment(
                "No answer was given: there is no message from you after the question was "
                "shown. Even a first thought or a clarifying question is worth writing down.",
                None,
                None,
                None,
            )
        )
    else:
        pace = (
            "a good, prompt start"
            if first_seconds <= 5 * 60
            else "next time, try writing a first thought or clarifying question sooner"
        )
        comments.append(
            Comment(
                f"Your first answer came {_duration(first_seconds)} after the question: {pace}.",
                first.seq,
                None,
                _excerpt(first.text),
            )
        )
        longest_words = max(answer_words)
        longest = answers[answer_words.index(longest_words)]
        if longest is not first:
            comments.append(
                Comment(
                    f"Your most detailed answer ran to {_plural(longest_words, 'word')}.",
                    longest.seq,
                    None,
                    _excerpt(longest.text),
                )
            )

    if hints_total == 0:
        comments.append(Comment("This question has no hints to use.", None, None, None))
    elif hints_used == 0:
        available = "the one hint" if hints_total == 1 else f"any of the {hints_total} hints"
        comments.append(Comment(f"You did not use {available} available.", None, None, None))
    else:
        where = "; the first one is here" if hint_message else ""
        comments.append(
            Comment(
                f"You used {hints_used} of {_plural(hints_total, 'hint')}{where}. "
                "Each hint used lowers the problem-solving rating by one.",
                hint_message.seq if hint_message else None,
                None,
                _excerpt(hint_message.text) if hint_message else None,
            )
        )

    if code_lines:
        line_number, line = code_lines[0]
        comments.append(
            Comment(
                f"Your code pad holds {_plural(len(code_lines), 'non-blank line')} "
                f"({_plural(code_chars, 'character')}); it starts here.",
                None,
                line_number,
                _excerpt(line),
            )
        )
    elif question_type is QuestionType.CODING and code_text is not None:
        comments.append(
            Comment(
                "The code pad stayed empty. Writing even a rough first version shows how you "
                "turn an idea into code.",
                None,
                None,
                None,
            )
        )

    comments.append(
        Comment(
            f"In the {_duration(session_seconds)} after the question, you wrote "
            f"{_plural(total_words, 'word')} in {_plural(len(answers), 'answer')}.",
            None,
            None,
            None,
        )
    )

    first_part = (
        f"first answer after {_duration(first_seconds)}"
        if first_seconds is not None
        else "no answer given"
    )
    code_part = (
        f", and {_plural(len(code_lines), 'non-blank line')} of code"
        if code_text is not None
        else ""
    )
    basis = (
        "Measured by the built-in interviewer, not judged by a person or a model: "
        f"{first_part}, {hints_used} of {_plural(hints_total, 'hint')} used, "
        f"{_plural(total_words, 'word')} in {_plural(len(answers), 'answer')}{code_part}."
    )
    return FeedbackDraft(
        ratings={
            "communication": communication,
            "problem_solving": problem_solving,
            "technical": technical,
            "overall": overall,
        },
        comments=tuple(comments),
        basis=basis,
    )
