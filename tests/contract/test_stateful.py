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
    "PUT /api/questions/{question_id}": Role.ADMIN,
    "DELETE /api/questions/{question_id}": Role.ADMIN,
    "POST /api/questions/{question_id}/restore": Role.ADMIN,
    "GET /api/analytics/platform": Role.ADMIN,
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

        def before_call(self, case: Any) -> None:
            label = case.operation.label
            positive = case.meta is None or case.meta.generation.mode == GenerationMode.POSITIVE
            if label == "POST /api/interview-requests" and positive and isinstance(case.body, dict):
                # A valid request scheduled soon, so that its session can start under the
                # fake clock that stands still (random dates are mostly refused as too far).
                case.body["scheduled_at"] = (target.clock.now() + SOON).isoformat()
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
            return {"headers": {"Authorization": f"Bearer {self.people[role][1]}"}}

        def validate_response(
            self,
            response: Response,
            case: Any,
            additional_checks: Any = None,
            **kwargs: Any,
        ) -> None:
            answered[case.operation.label][response.status_code] += 1
            try:
                case.validate_response(
                    response,
                    checks=CHECKS,
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
