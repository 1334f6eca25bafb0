"""analytics rollups

Revision ID: b267b5c5d930
Revises: 0501c4ac5a9f
Create Date: 2026-12-06 20:09:14.829107

The rollups behind GET /api/analytics/platform, the exact wait for acceptance stored on each
accepted request, and the `created_at` indexes that read a period's first and last days.
An existing database's rollups are counted here from its rows, with SQL of this revision
(the same counts as `peerview analytics rebuild`, which tests/platform/test_migrations.py
holds them to).
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "b267b5c5d930"
down_revision: str | None = "0501c4ac5a9f"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "analytics_accept_wait_days",
        sa.Column("day", sa.Date(), nullable=False),
        sa.Column("bucket", sa.Integer(), nullable=False),
        sa.Column("requests", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint("day", "bucket", name=op.f("pk_analytics_accept_wait_days")),
    )
    op.create_table(
        "analytics_accept_waits",
        sa.Column("bucket", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("requests", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint("bucket", name=op.f("pk_analytics_accept_waits")),
    )
    op.create_table(
        "analytics_activity_days",
        sa.Column("day", sa.Date(), nullable=False),
        sa.Column("week_start", sa.Date(), nullable=False),
        sa.Column("user_id", sa.String(length=36), nullable=False),
        sa.PrimaryKeyConstraint(
            "day", "week_start", "user_id", name=op.f("pk_analytics_activity_days")
        ),
    )
    op.create_table(
        "analytics_rating_days",
        sa.Column("day", sa.Date(), nullable=False),
        sa.Column("category", sa.String(length=64), nullable=False),
        sa.Column("feedback", sa.BigInteger(), nullable=False),
        sa.Column("overall_sum", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint("day", "category", name=op.f("pk_analytics_rating_days")),
    )
    op.create_table(
        "analytics_request_days",
        sa.Column("day", sa.Date(), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("requests", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint("day", "status", name=op.f("pk_analytics_request_days")),
    )
    op.create_table(
        "analytics_session_days",
        sa.Column("day", sa.Date(), nullable=False),
        sa.Column("outcome", sa.String(length=16), nullable=False),
        sa.Column("sessions", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint("day", "outcome", name=op.f("pk_analytics_session_days")),
    )
    op.create_table(
        "analytics_week_users",
        sa.Column("week_start", sa.Date(), nullable=False),
        sa.Column("user_id", sa.String(length=36), nullable=False),
        sa.PrimaryKeyConstraint("week_start", "user_id", name=op.f("pk_analytics_week_users")),
    )
    op.create_table(
        "analytics_weeks",
        sa.Column("week_start", sa.Date(), nullable=False),
        sa.Column("users", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint("week_start", name=op.f("pk_analytics_weeks")),
    )
    with op.batch_alter_table("interview_requests", schema=None) as batch_op:
        batch_op.add_column(sa.Column("accept_wait_us", sa.BigInteger(), nullable=True))
        batch_op.create_index(
            "ix_interview_requests_accept_wait", ["accept_wait_us", "created_at"], unique=False
        )
        batch_op.create_index("ix_interview_requests_created", ["created_at"], unique=False)

    with op.batch_alter_table("interview_sessions", schema=None) as batch_op:
        batch_op.create_index("ix_interview_sessions_created", ["created_at"], unique=False)

    _count_existing_rows()


def downgrade() -> None:
    with op.batch_alter_table("interview_sessions", schema=None) as batch_op:
        batch_op.drop_index("ix_interview_sessions_created")

    with op.batch_alter_table("interview_requests", schema=None) as batch_op:
        batch_op.drop_index("ix_interview_requests_created")
        batch_op.drop_index("ix_interview_requests_accept_wait")
        batch_op.drop_column("accept_wait_us")

    op.drop_table("analytics_weeks")
    op.drop_table("analytics_week_users")
    op.drop_table("analytics_session_days")
    op.drop_table("analytics_request_days")
    op.drop_table("analytics_rating_days")
    op.drop_table("analytics_activity_days")
    op.drop_table("analytics_accept_waits")
    op.drop_table("analytics_accept_wait_days")


# --- the rollups of the rows already there ----------------------------------------------------

_requests = sa.table(
    "interview_requests",
    sa.column("id"),
    sa.column("interviewee_id"),
    sa.column("status"),
    sa.column("accepted_at"),
    sa.column("accept_wait_us"),
    sa.column("created_at"),
)
_sessions = sa.table(
    "interview_sessions",
    sa.column("id"),
    sa.column("interviewer_id"),
    sa.column("interviewee_id"),
    sa.column("category"),
    sa.column("status"),
    sa.column("end_reason"),
    sa.column("scheduled_at"),
    sa.column("created_at"),
)
_feedback = sa.table("feedback", sa.column("session_id"), sa.column("overall"))


def _day(dialect: str, column: sa.ColumnElement) -> sa.ColumnElement:
    if dialect == "postgresql":
        return sa.cast(sa.func.timezone("UTC", column), sa.Date)
    return sa.func.date(column)


def _week(dialect: str, column: sa.ColumnElement) -> sa.ColumnElement:
    if dialect == "postgresql":
        return sa.cast(sa.func.date_trunc("week", sa.func.timezone("UTC", column)), sa.Date)
    return sa.func.date(column, "weekday 0", "-6 days")


def _micros(dialect: str, later: sa.ColumnElement, earlier: sa.ColumnElement) -> sa.ColumnElement:
    if dialect == "postgresql":
        seconds = sa.extract("epoch", later) - sa.extract("epoch", earlier)
        return sa.cast(seconds * 1_000_000, sa.BigInteger)
    whole = sa.cast(sa.func.strftime("%s", sa.func.substr(later, 1, 19)), sa.Integer) - sa.cast(
        sa.func.strftime("%s", sa.func.substr(earlier, 1, 19)), sa.Integer
    )
    fraction = sa.cast(sa.func.substr(later, 21, 6), sa.Integer) - sa.cast(
        sa.func.substr(earlier, 21, 6), sa.Integer
    )
    return whole * 1_000_000 + fraction


def _n(value: int) -> sa.ColumnElement:
    return sa.literal_column(str(value))


def _bucket(wait_us: sa.ColumnElement) -> sa.ColumnElement:
    """peerview.analytics.buckets.bucket_of, as it is at this revision."""
    seconds = sa.case(
        (wait_us >= 0, wait_us.op("/", precedence=8)(_n(1_000_000))),
        else_=_n(0) - (_n(-1) - wait_us).op("/", precedence=8)(_n(1_000_000)) - _n(1),
    )

    def nonnegative(s: sa.ColumnElement) -> sa.ColumnElement:
        whens = [(s < _n(128), s)]
        for exponent in range(1, 34):
            whens.append(
                (
                    s < _n(1 << (7 + exponent)),
                    _n(exponent * 64) + s.op("/", precedence=8)(_n(1 << exponent)),
                )
            )
        return sa.case(*whens)

    return sa.case(
        (seconds >= 0, nonnegative(seconds)), else_=_n(-1) - nonnegative(_n(-1) - seconds)
    )


def _rollup(name: str, *columns: str) -> sa.TableClause:
    return sa.table(name, *(sa.column(c) for c in columns))


def _count_existing_rows() -> None:
    bind = op.get_bind()
    dialect = bind.dialect.name
    r, s, f = _requests.c, _sessions.c, _feedback.c

    # The exact wait of every accepted request.
    accepted = sa.and_(r.status == "ACCEPTED", r.accepted_at.is_not(None))
    bind.execute(
        _requests.update()
        .where(accepted)
        .values(accept_wait_us=_micros(dialect, r.accepted_at, r.created_at))
    )

    # Requests in a final status, by day of creation.
    final = sa.or_(*(r.status == status for status in ("ACCEPTED", "CANCELLED", "EXPIRED")))
    rows = sa.select(_day(dialect, r.created_at).label("day"), r.status).where(final).subquery()
    bind.execute(
        _rollup("analytics_request_days", "day", "status", "requests")
        .insert()
        .from_select(
            ["day", "status", "requests"],
            sa.select(rows.c.day, rows.c.status, sa.func.count()).group_by(
                rows.c.day, rows.c.status
            ),
        )
    )

    # The histogram of waits, by day of creation, then over all time.
    rows = (
        sa.select(
            _day(dialect, r.created_at).label("day"), _bucket(r.accept_wait_us).label("bucket")
        )
        .where(r.accept_wait_us.is_not(None))
        .subquery()
    )
    bind.execute(
        _rollup("analytics_accept_wait_days", "day", "bucket", "requests")
        .insert()
        .from_select(
            ["day", "bucket", "requests"],
            sa.select(rows.c.day, rows.c.bucket, sa.func.count()).group_by(
                rows.c.day, rows.c.bucket
            ),
        )
    )
    by_day = _rollup("analytics_accept_wait_days", "bucket", "requests")
    bind.execute(
        _rollup("analytics_accept_waits", "bucket", "requests")
        .insert()
        .from_select(
            ["bucket", "requests"],
            sa.select(by_day.c.bucket, sa.func.sum(by_day.c.requests)).group_by(by_day.c.bucket),
        )
    )

    # Finished sessions by day of creation and outcome.
    outcome = sa.case(
        (
            sa.and_(s.status == "COMPLETED", s.end_reason == "AUTO_TIMEOUT"),
            sa.literal_column("'auto_timeout'"),
        ),
        (s.status == "COMPLETED", sa.literal_column("'completed'")),
        (
            sa.and_(s.status == "CANCELLED", s.end_reason == "NO_SHOW"),
            sa.literal_column("'no_show'"),
        ),
        else_=sa.literal_column("'cancelled'"),
    )
    rows = (
        sa.select(_day(dialect, s.created_at).label("day"), outcome.label("outcome"))
        .where(sa.or_(s.status == "COMPLETED", s.status == "CANCELLED"))
        .subquery()
    )
    bind.execute(
        _rollup("analytics_session_days", "day", "outcome", "sessions")
        .insert()
        .from_select(
            ["day", "outcome", "sessions"],
            sa.select(rows.c.day, rows.c.outcome, sa.func.count()).group_by(
                rows.c.day, rows.c.outcome
            ),
        )
    )

    # Feedback by its session's day of creation and category.
    rows = (
        sa.select(_day(dialect, s.created_at).label("day"), s.category, f.overall)
        .select_from(_feedback.join(_sessions, s.id == f.session_id))
        .subquery()
    )
    bind.execute(
        _rollup("analytics_rating_days", "day", "category", "feedback", "overall_sum")
        .insert()
        .from_select(
            ["day", "category", "feedback", "overall_sum"],
            sa.select(
                rows.c.day, rows.c.category, sa.func.count(), sa.func.sum(rows.c.overall)
            ).group_by(rows.c.day, rows.c.category),
        )
    )

    # Who was active in which week, by the day it was recorded; who in which week; how many.
    def active(
        created: sa.ColumnElement, moment: sa.ColumnElement, user: sa.ColumnElement
    ) -> sa.Select:
        return sa.select(
            _day(dialect, created).label("day"),
            _week(dialect, moment).label("week_start"),
            user.label("user_id"),
        )

    rows = sa.union(
        active(r.created_at, r.created_at, r.interviewee_id),
        active(s.created_at, s.scheduled_at, s.interviewer_id),
        active(s.created_at, s.scheduled_at, s.interviewee_id),
    ).subquery()
    bind.execute(
        _rollup("analytics_activity_days", "day", "week_start", "user_id")
        .insert()
        .from_select(
            ["day", "week_start", "user_id"],
            sa.select(rows.c.day, rows.c.week_start, rows.c.user_id),
        )
    )
    days = _rollup("analytics_activity_days", "week_start", "user_id")
    bind.execute(
        _rollup("analytics_week_users", "week_start", "user_id")
        .insert()
        .from_select(
            ["week_start", "user_id"],
            sa.select(days.c.week_start, days.c.user_id).distinct(),
        )
    )
    pairs = _rollup("analytics_week_users", "week_start")
    bind.execute(
        _rollup("analytics_weeks", "week_start", "users")
        .insert()
        .from_select(
            ["week_start", "users"],
            sa.select(pairs.c.week_start, sa.func.count()).group_by(pairs.c.week_start),
        )
    )
