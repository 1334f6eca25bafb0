"""First run (docs/api.md §3.5): the starter bank loaded once, setup codes, the first admin."""

from __future__ import annotations

from datetime import datetime

from peerview.auth import service as auth_service
from peerview.auth.errors import LoginThrottled
from peerview.auth.schemas import TokenOut
from peerview.db import Connection
from peerview.models.enums import Role
from peerview.questions import service as questions_service
from peerview.questions.seed import load_starter_bank
from peerview.services import Services
from peerview.setup import codes, repository
from peerview.setup.errors import InvalidSetupCode, SetupClosed
from peerview.setup.schemas import FirstAdminCreate, SetupStatus
from peerview.users import service as users_service

# The facts of app_meta this feature records.
STARTER_BANK = "starter_bank"
FIRST_ADMIN = "first_admin"


async def load_starter_bank_once(*, db: Connection, now: datetime) -> int | None:
    """Load the starter bank if it was never loaded here: how many questions were added, or
    None when it was loaded (or skipped, migrations/versions/…-first_run.py) before.

    The fact and the questions commit together, so two processes doing this at once load the
    bank once, and a bank an admin emptied afterwards stays empty.
    """
    if not await repository.mark(db, key=STARTER_BANK, value="loaded", now=now):
        return None
    entries = load_starter_bank()
    return await questions_service.add_starter_questions(db=db, now=now, entries=entries)


async def issue_code(*, db: Connection, now: datetime, instance: str) -> str | None:
    """A new setup code for `instance` (replacing its previous one) while no admin exists;
    None, and every code forgotten, once one does. Only the code's hash is stored."""
    if await users_service.admin_exists(db=db):
        await repository.forget_codes(db)
        return None
    code = codes.new_code()
    await repository.replace_code(db, instance=instance, code_hash=codes.digest(code), now=now)
    return code


async def close(*, db: Connection) -> None:
    """Forget every setup code: an admin exists (made on the command line, say)."""
    await repository.forget_codes(db)


async def status(services: Services) -> SetupStatus:
    async with services.database.transaction(write=False) as db:
        admin_exists = await users_service.admin_exists(db=db)
    return SetupStatus(setup_open=not admin_exists)


async def create_first_admin(
    services: Services, *, body: FirstAdminCreate, address: str
) -> TokenOut:
    """The first admin, for the right setup code, while no admin exists.

    Guessing is throttled as logins are, by the address alone (§3.3): a wrong code counts as
    a failed login of the address. The code is judged before the password is hashed, so a
    wrong guess costs no hash; the admin is then made in one transaction that checks again
    that none exists and records `first_admin`, whose unique key lets one of two concurrent
    setups through and answers the other SETUP_CLOSED.
    """
    throttle = services.login_throttle
    attempt = await throttle.begin(email=None, address=address)
    if attempt.retry_after is not None:
        detail = "Too many attempts at once; try again in a moment" if attempt.crowded else None
        raise LoginThrottled(detail, retry_after=attempt.retry_after)
    code_hash = codes.digest(body.code)
    try:
        async with services.database.transaction(write=False) as db:
            known = await repository.code_known(db, code_hash=code_hash)
            # Read after the code: on PostgreSQL each read has a snapshot of its own, and a
            # code deleted by a setup that committed in between is then seen with its admin
            # (a SETUP_CLOSED, never a wrong code counted against the address).
            closed = await users_service.admin_exists(db=db)
    except BaseException:
        await throttle.abandon(attempt)
        raise
    if closed:
        # Not a guess at anything: nothing is counted.
        await throttle.abandon(attempt)
        raise SetupClosed("An administrator exists already; log in instead.")
    if not known:
        await throttle.failed(attempt)
        raise InvalidSetupCode()
    await throttle.succeeded(attempt)

    now = services.clock.now()
    password_hash = await services.passwords.hash(body.password)
    async with services.database.transaction() as db:
        if await users_service.admin_exists(db=db) or not await repository.mark(
            db, key=FIRST_ADMIN, value="setup", now=now
        ):
            raise SetupClosed("An administrator exists already; log in instead.")
        if not await repository.take_code(db, code_hash=code_hash):
            # Replaced meanwhile by a restart of the instance that printed it.
            raise InvalidSetupCode()
        row = await users_service.create(
            db=db,
            now=now,
            name=body.name,
            email=str(body.email),
            password_hash=password_hash,
            role=Role.ADMIN,
        )
        await repository.forget_codes(db)
    token = auth_service.issue_token(settings=services.settings, user_id=row.id, now=now)
    return TokenOut(user=users_service.read(row), access_token=token)
