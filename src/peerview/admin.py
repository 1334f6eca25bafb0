"""Administrative actions run from the command line."""

from __future__ import annotations

from pydantic import TypeAdapter, ValidationError

from peerview.auth.passwords import PasswordService
from peerview.auth.schemas import RegisterIn
from peerview.clock import SystemClock
from peerview.config import Settings
from peerview.db import create_database
from peerview.models.enums import Role
from peerview.setup import service as setup_service
from peerview.users import service as users_service
from peerview.users.errors import EmailTaken


async def create_admin(*, settings: Settings, email: str, name: str, password: str) -> str:
    try:
        # The same rules as registration: a valid e-mail, a name, a password of 8 to 128
        # characters; and the values as registration would store them (the name trimmed).
        valid = TypeAdapter(RegisterIn).validate_python(
            {"email": email, "name": name, "password": password, "role": Role.INTERVIEWER}
        )
    except ValidationError as exc:
        problems = "; ".join(f"{'.'.join(map(str, e['loc']))}: {e['msg']}" for e in exc.errors())
        raise ValueError(problems) from exc
    passwords = PasswordService(settings)
    database = create_database(settings)
    try:
        password_hash = await passwords.hash(valid.password)
        async with database.transaction() as db:
            row = await users_service.create(
                db=db,
                now=SystemClock().now(),
                name=valid.name,
                email=str(valid.email),
                password_hash=password_hash,
                role=Role.ADMIN,
            )
            # An admin exists: first-run setup is closed, its codes forgotten.
            await setup_service.close(db=db)
        return row.id
    except EmailTaken as exc:
        raise ValueError(f"an account with the e-mail {email} already exists") from exc
    finally:
        passwords.close()
        await database.close()
