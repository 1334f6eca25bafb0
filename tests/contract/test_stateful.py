"""Chains of linked operations (ids taken from earlier answers) keep the contract.

Schemathesis infers the links from the schema (a request's `id` feeds `/accept`, a session's
`id` feeds `/start`, a question's `id` feeds `DELETE` then `GET`), so scenarios walk
request → accept → start → extend → end → feedback and delete → read-after-delete. Each
scenario has an interviewer and an interviewee of its own (registered through the API), each
step is sent as the role that may take it, and every answer passes the same checks as the
stateless fuzzing, plus use_after_free across the steps of a scenario.

The database outlives scenarios, so Hypothesis cannot replay one exactly (a replay may find a
different state and take different steps). Failures are therefore collected as they happen,
with a command that reproduces each, instead of being shrunk; a run Hypothesis abandons as
flaky is started again until the configured number of scenarios has run.
"""

from __future__ import annotations

import itertools
from collections import Counter, defaultdict
from typing import Any

from hypothesis.errors import Flaky
from schemathesis import GenerationMode
from schemathesis.core.failures import FailureGroup
from schemathesis.core.transport import Response
from schemathesis.specs.openapi.checks import use_after_free

from peerview.models.enums import Role
from tests.contract.support import CHECKS, FUZZ_EXAMPLES, SOON, FuzzTarget, fuzz_settings

# The role a step is sent as; anything else is taken by the interviewer.
STEP_ROLE: dict[str, Role] = {
    "POST /api/interview-requests": Role.INTERVIEWEE,
    "GET /api/interview-requests/mine": Role.INTERVIEWEE,
    "POST /api/interview-requests/{request_id}/cancel": Role.INTERVIEWEE,
    "POST /api/interview-sessions/{session_id}/cancel": Role.INTERVIEWEE,
    "POST /api/feedback": Role.INTERVIEWEE,
    "GET /api/feedback/received": Role.INTERVIEWEE,
    "GET /api/notifications": Role.INTERVIEWEE,
    "POST /api/notifications/{notification_id}/read": Role.INTERVIEWEE,
    "POST /api/notifications/read-all": Role.INTERVIEWEE,
    "GET /api/users": Role.ADMIN,
    "PATCH /api/users/{user_id}": Role.ADMIN,
    "POST /api/questions": Role.ADMIN,
    "POST /api/questions/import": Role.ADMIN,
    "PUT /api/questions/{question_id}": Role.ADMIN,
    "DELETE /api/questions/{question_id}": Role.ADMIN,
    "POST /api/questions/{question_id}/restore": Role.ADMIN,
    "GET /api/analytics/platform": Role.ADMIN,
}
# Where a scenario's own resources come from: (operation, path parameter it feeds).
CREATES = {
    "POST /api/interview-requests": "request_id",
    "POST /api/interview-requests/{request_id}/accept": "session_id",
    "POST /api/questions": "question_id",
}
QUESTION = {
    "title": "Rotate an array",
    "prompt": "Rotate an array by k places.",
    "category": "arrays",
    "difficulty": "MEDIUM",
    "type": "CODING",
}
MAX_RESTARTS = 20
_people = itertools.count(1)


def test_linked_operations_keep_their_contract(fuzz_target: FuzzTarget) -> None:
    target = fuzz_target
    bystander = target.known_ids["user_id"][0]
    failures: list[str] = []
    answered: dict[str, Counter[int]] = defaultdict(Counter)
    scenarios = 0
    restarts = 0

    def register(role: Role) -> tuple[str, str]:
        n = next(_people)
        answer = target.ok(
            "POST",
            "/api/auth/register",
            None,
            body={
                "name": f"Scenario {role.value.title()} {n}",
                "email": f"scenario-{n}-{role.value.lower()}@example.com",
                "password": "correct horse battery",
                "role": role.value,
            },
        )
        return answer["user"]["id"], answer["access_token"]

    class Workflow(target.schema.as_state_machine()):  # type: ignore[misc]
        def setup(self) -> None:
            nonlocal scenarios
            scenarios += 1
            self.people = {role: register(role) for role in (Role.INTERVIEWER, Role.INTERVIEWEE)}
            self.restored: set[str] = set()
            self.created: dict[str, list[str]] = defaultdict(list)
            # Every scenario starts with a session its interviewer may start at once and an
            # open request, so that the steps below reach past "not found".
            as_interviewee = {"headers": self.auth(Role.INTERVIEWEE)}
            for _ in range(2):
                body = {
                    "category": "arrays",
                    "difficulty": "MEDIUM",
                    "scheduled_at": (target.clock.now() + SOON).isoformat(),
                }
                request = target.ok(
                    "POST", "/api/interview-requests", None, body=body, **as_interviewee
                )
                self.created["request_id"].append(request["id"])
            session = target.ok(
                "POST",
                "/api/interview-requests/{request_id}/accept",
                None,
                path_parameters={"request_id": self.created["request_id"][0]},
                headers=self.auth(Role.INTERVIEWER),
            )
            self.created["session_id"].append(session["id"])
            question = target.ok("POST", "/api/questions", Role.ADMIN, body=QUESTION)
            self.created["question_id"].append(question["id"])

        def auth(self, role: Role) -> dict[str, str]:
            return {"Authorization": f"Bearer {self.people[role][1]}"}

        def before_call(self, case: Any) -> None:
            label = case.operation.label
            positive = case.meta is None or case.meta.generation.mode == GenerationMode.POSITIVE
            if label == "POST /api/interview-requests" and positive and isinstance(case.body, dict):
                # A valid request scheduled soon, so that its session can start under the
                # fake clock that stands still (random dates are mostly refused as too far).
                case.body["scheduled_at"] = (target.clock.now() + SOON).isoformat()
            for name, value in (case.path_parameters or {}).items():
                mine = self.created.get(name)
                if mine and value not in mine:
                    # Schemathesis often starts a chain at a random id (a 404, which the
                    # stateless fuzzing covers); aim it at what this scenario created, so
                    # that its sessions get started, extended, ended and reviewed.
                    case.path_parameters[name] = mine[-1]
            if positive and isinstance(case.body, dict):
                for name in ("session_id", "question_id"):
                    if name in case.body and self.created.get(name):
                        case.body[name] = self.created[name][-1]
            if label == "PATCH /api/users/{user_id}":
                # The id may come from /auth/me. Demoting the admin would end the run, and
                # promoting this scenario's interviewer would let it see what only admins
                # may (a soft-deleted question), which use_after_free would take for a bug.
                protected = {target.user_ids[Role.ADMIN]} | {p[0] for p in self.people.values()}
                if case.path_parameters.get("user_id") in protected:
                    case.path_parameters["user_id"] = bystander

        def get_call_kwargs(self, case: Any) -> dict[str, Any]:
            role = STEP_ROLE.get(case.operation.label, Role.INTERVIEWER)
            if role is Role.ADMIN:
                return {"headers": target.headers(role)}
            return {"headers": self.auth(role)}

        def validate_response(
            self,
            response: Response,
            case: Any,
            additional_checks: Any = None,
            **kwargs: Any,
        ) -> None:
            label = case.operation.label
            answered[label][response.status_code] += 1
            question_id = (case.path_parameters or {}).get("question_id")
            if label == "POST /api/questions/{question_id}/restore" and response.status_code == 200:
                self.restored.add(question_id)
            if label in CREATES and response.status_code == 201:
                self.created[CREATES[label]].append(response.json()["id"])
            checks = CHECKS
            if question_id in self.restored:
                # A restore undoes the soft delete (docs/api.md §6): the question is served again,
                # which use_after_free, unaware of restores, would report.
                checks = [check for check in CHECKS if check is not use_after_free]
            try:
                case.validate_response(
                    response,
                    checks=checks,
                    headers=kwargs.get("headers"),
                    transport_kwargs=kwargs or None,
                    recorder=self.recorder,
                )
            except FailureGroup as exc:
                failures.append(str(exc))

    for _ in range(MAX_RESTARTS):
        try:
            Workflow.run(settings=fuzz_settings(stateful_step_count=12))
        except Flaky:
            if scenarios < FUZZ_EXAMPLES:
                restarts += 1
                continue
        break
    print(f"{scenarios} scenarios, {restarts} restarts")  # shown with `pytest -s`
    for label, statuses in sorted(answered.items()):
        print(f"  {label}: {dict(sorted(statuses.items()))}")
    assert not failures, "\n".join(failures)
    assert scenarios >= FUZZ_EXAMPLES
