"""The relay cache: what it keeps, what drops it, and when a load may not be kept."""

from __future__ import annotations

from datetime import UTC, datetime

from peerview.interview_sessions.lifecycle import SessionTimes
from peerview.models.enums import SessionStatus
from peerview.realtime.relay_cache import (
    RECENT_INVALIDATIONS,
    TTL_SECONDS,
    TTL_SPREAD,
    RelayCache,
    Room,
)

AT = datetime(2030, 1, 7, 10, 0, tzinfo=UTC)


class Timer:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def room(interviewer: str = "er", interviewee: str = "ee") -> Room:
    times = SessionTimes(
        status=SessionStatus.SCHEDULED,
        scheduled_at=AT,
        hard_end_at=None,
        ended_at=None,
        end_reason=None,
    )
    return Room(interviewer_id=interviewer, interviewee_id=interviewee, times=times)


def cache(**kwargs: object) -> tuple[RelayCache, Timer]:
    timer = Timer()
    return RelayCache(timer=timer, **kwargs), timer  # type: ignore[arg-type]


def test_a_stored_room_and_token_are_read_back() -> None:
    relay, _ = cache()
    since = relay.mark()
    assert relay.put_room("s1", room(), since=since)
    assert relay.put_token("u1", "jti-1", True, since=since)
    assert relay.put_token("u1", "jti-2", False, since=since)
    assert relay.room("s1") == room()
    assert relay.token_valid("u1", "jti-1") is True
    assert relay.token_valid("u1", "jti-2") is False
    assert relay.room("s2") is None
    assert relay.token_valid("u2", "jti-1") is None


def test_a_room_knows_its_two_participants_only() -> None:
    assert room().has("er")
    assert room().has("ee")
    assert not room().has("someone else")


def test_a_session_change_drops_that_room_only() -> None:
    relay, _ = cache()
    since = relay.mark()
    relay.put_room("s1", room(), since=since)
    relay.put_room("s2", room(), since=since)
    relay.session_changed("s1")
    assert relay.room("s1") is None
    assert relay.room("s2") == room()


def test_an_access_change_drops_every_token_of_that_user_only() -> None:
    relay, _ = cache()
    since = relay.mark()
    for user, jti in (("u1", "a"), ("u1", "b"), ("u2", "c")):
        relay.put_token(user, jti, True, since=since)
    relay.access_changed("u1")
    assert relay.token_valid("u1", "a") is None
    assert relay.token_valid("u1", "b") is None
    assert relay.token_valid("u2", "c") is True


def test_a_load_overtaken_by_an_invalidation_of_its_key_is_not_kept() -> None:
    relay, _ = cache()
    since = relay.mark()  # the load reads the row…
    relay.session_changed("s1")  # …a commit changes it and is announced…
    assert not relay.put_room("s1", room(), since=since)  # …the stale read is not kept
    assert relay.room("s1") is None
    since = relay.mark()
    relay.access_changed("u1")
    assert not relay.put_token("u1", "a", True, since=since)
    assert relay.token_valid("u1", "a") is None


def test_a_load_overtaken_by_other_keys_invalidations_is_kept() -> None:
    relay, _ = cache()
    since = relay.mark()
    relay.session_changed("s2")
    relay.access_changed("u2")
    assert relay.put_room("s1", room(), since=since)
    assert relay.put_token("u1", "a", True, since=since)


def test_a_load_overtaken_by_a_clear_is_not_kept() -> None:
    relay, _ = cache()
    since = relay.mark()
    relay.clear()
    assert not relay.put_room("s1", room(), since=since)
    assert not relay.put_token("u1", "a", True, since=since)


def test_a_load_older_than_the_invalidations_remembered_is_not_kept() -> None:
    relay, _ = cache()
    since = relay.mark()
    for n in range(RECENT_INVALIDATIONS + 1):
        relay.session_changed(f"other-{n}")
    assert not relay.put_room("s1", room(), since=since)


def test_entries_expire_on_the_monotonic_timer() -> None:
    relay, timer = cache()
    since = relay.mark()
    relay.put_room("s1", room(), since=since)
    relay.put_token("u1", "a", True, since=since)
    timer.now += TTL_SECONDS * (1 - TTL_SPREAD) - 1
    assert relay.room("s1") == room()
    assert relay.token_valid("u1", "a") is True
    timer.now += TTL_SECONDS * 2 * TTL_SPREAD + 2
    assert relay.room("s1") is None
    assert relay.token_valid("u1", "a") is None
    assert len(relay) == 0


def test_the_oldest_entries_go_beyond_the_bound() -> None:
    relay, _ = cache(max_entries=2)
    since = relay.mark()
    for n in range(3):
        relay.put_room(f"s{n}", room(), since=since)
        relay.put_token("u", f"jti-{n}", True, since=since)
    assert relay.room("s0") is None
    assert relay.room("s2") == room()
    assert relay.token_valid("u", "jti-0") is None
    assert relay.token_valid("u", "jti-2") is True
    relay.access_changed("u")
    assert len(relay) == 2  # the two newest rooms


def test_an_untrusted_cache_answers_nothing_and_keeps_nothing() -> None:
    relay, _ = cache(trusted=False)
    since = relay.mark()
    assert not relay.put_room("s1", room(), since=since)
    assert not relay.put_token("u1", "a", True, since=since)
    assert relay.room("s1") is None
    assert relay.token_valid("u1", "a") is None


def test_losing_the_subscription_empties_and_bypasses_the_cache() -> None:
    relay, _ = cache()
    since = relay.mark()
    relay.put_room("s1", room(), since=since)
    in_flight = relay.mark()
    relay.trust(False)
    assert relay.room("s1") is None
    assert not relay.put_room("s2", room(), since=in_flight)
    relay.trust(True)
    # Confirmed again: empty (what was published meanwhile was not heard), then kept again.
    assert relay.room("s1") is None
    assert not relay.put_room("s2", room(), since=in_flight)
    assert relay.put_room("s2", room(), since=relay.mark())
    assert relay.room("s2") == room()


def test_a_subscription_confirmed_again_while_trusted_empties_the_cache() -> None:
    relay, _ = cache()
    relay.put_room("s1", room(), since=relay.mark())
    relay.trust(True)
    assert relay.room("s1") is None
