"""Demo data for standalone runs and tests, in the Next.js application's tables as the application
writes them: an account, a supervisor, two learners, two scenarios with caller prompts, and one
assignment each (the second requires a recording).

`seed_demo` first creates the application's tables from the stand-in (app_tables/standin.sql)
where the database has none of them. Fixed ids and ON CONFLICT DO NOTHING make seeding
idempotent; `token-service seed-demo` prints what the demo holds for the trainees (users with
their assignments, scenarios) as JSON, which the suites and the contract test read.
"""

import textwrap
from typing import Final
from uuid import UUID

import msgspec
import psycopg
from psycopg.rows import TupleRow

from training_contracts import ScenarioResponse

from .app_tables.standin import create_standin


def _paragraphs(text: str) -> str:
    """Source-wrapped prose as the model should read it: one line per paragraph."""
    paragraphs = textwrap.dedent(text).strip().split("\n\n")
    return "\n\n".join(" ".join(p.split()) for p in paragraphs)


class DemoUser(msgspec.Struct, frozen=True, kw_only=True, rename="camel"):
    user_id: UUID
    assignment_id: UUID
    scenario_id: UUID
    require_recording: bool = False
    """The assignment's calls are recorded (the Next.js application's `requireRecording`)."""


class Demo(msgspec.Struct, frozen=True, kw_only=True):
    """`{"users": [{"userId", "assignmentId", "scenarioId", "requireRecording"}, …],
    "scenarios": [{"id", "title", "prompt"}, …]}`"""

    users: list[DemoUser]
    scenarios: list[ScenarioResponse]


EXAM_STRESS = ScenarioResponse(
    id=UUID("5c0e7a52-3d51-4f0b-9a36-1f6a2b7d0e01"),
    title="Exam pressure and sleeplessness",
    prompt=_paragraphs(
        """\
        You are Maya, a 19-year-old second-year university student calling a crisis line late at
        night. Finals start in four days. You have barely slept for a week: you lie awake going
        over everything you have not revised, and you have started skipping meals to study. Your
        parents paid for your course and you feel you will let them down if you fail. You have
        not told anyone how bad it is; your friends all seem to be coping.

        How you speak: quickly, apologising for calling ("it's probably stupid"), sometimes
        trailing off. You cry briefly if the counselor is warm and you feel heard.

        What you reveal, and when: at first only "stress about exams". If the counselor listens
        and asks open questions, you admit you feel like a failure and that you are exhausted.
        Only if asked directly and kindly about suicide, you say you have had thoughts that
        everyone would be better off without you, but you have no plan and do not want to die;
        you want the feeling to stop. You have a close cousin you trust and a campus counseling
        service you have never used.

        Respond to the counselor: become calmer and more open when they reflect your feelings and
        go at your pace; become short and defensive if they lecture you, rush to advice, or
        dismiss the exams as unimportant. Stay in character; never mention that you are an AI.
        """
    ),
)

BEREAVED_WIDOWER = ScenarioResponse(
    id=UUID("5c0e7a52-3d51-4f0b-9a36-1f6a2b7d0e02"),
    title="Recently widowed and isolated",
    prompt=_paragraphs(
        """\
        You are Harold, a 74-year-old retired railway engineer. Your wife Margaret died eleven
        weeks ago after a long illness; you cared for her at home for two years. Your son lives
        abroad and calls on Sundays; you tell him you are "managing". Since the funeral you rarely
        leave the house, the meals neighbours brought have stopped, and the evenings are the
        worst. You called because today would have been your 48th wedding anniversary.

        How you speak: slowly, politely, with long pauses and dry understatement ("it's been a bit
        quiet"). You are uncomfortable talking about feelings and apologise for "bothering" the
        counselor.

        What you reveal, and when: you start by talking about practical things (the garden, the
        house being too big). If the counselor is patient and asks about Margaret, you talk about
        her warmly and admit you do not see the point of carrying on. If asked directly about
        suicide, you say you have thought about not taking your heart medication, though you have
        not acted on it. Protective factors: your son, your dog Biscuit, and an old friend from the
        railway who has invited you to his allotment.

        Respond to the counselor: open up when they slow down and let silences be; withdraw ("I
        shouldn't have called") if they sound scripted, cheerful, or hurry you toward solutions.
        Stay in character; never mention that you are an AI.
        """
    ),
)

DEMO = Demo(
    users=[
        DemoUser(
            user_id=UUID("0d5f3c9e-1b2a-4c8d-9e7f-000000000001"),
            assignment_id=UUID("a55e4b1c-7d2e-4f3a-8b9c-000000000001"),
            scenario_id=EXAM_STRESS.id,
        ),
        DemoUser(
            user_id=UUID("0d5f3c9e-1b2a-4c8d-9e7f-000000000002"),
            assignment_id=UUID("a55e4b1c-7d2e-4f3a-8b9c-000000000002"),
            scenario_id=BEREAVED_WIDOWER.id,
            require_recording=True,
        ),
    ],
    scenarios=[EXAM_STRESS, BEREAVED_WIDOWER],
)

ACCOUNT_ID: Final = "acc0de00-5eed-4d3a-9b1c-000000000001"
SUPERVISOR_ID: Final = "0d5f3c9e-1b2a-4c8d-9e7f-0000000000a0"
_LEARNER_NAMES = ("Demo Trainee One", "Demo Trainee Two")


def _insert_people(conn: psycopg.Connection[TupleRow]) -> None:
    # The application's timestamps are UTC; updated_at has no default (its writer sets it).
    conn.execute(
        "INSERT INTO public.accounts (id, name, updated_at)"
        " VALUES (%s, 'Demo crisis line', now() AT TIME ZONE 'UTC') ON CONFLICT (id) DO NOTHING",
        (ACCOUNT_ID,),
    )
    people = [(SUPERVISOR_ID, "demo-supervisor", "Demo Supervisor", "supervisor")] + [
        (str(user.user_id), f"demo-learner-{n}", name, "learner")
        for n, (user, name) in enumerate(zip(DEMO.users, _LEARNER_NAMES, strict=True), 1)
    ]
    for user_id, external_id, name, role in people:
        conn.execute(
            "INSERT INTO public.users (id, external_id, display_name, role, updated_at)"
            " VALUES (%s, %s, %s, %s, now() AT TIME ZONE 'UTC') ON CONFLICT (id) DO NOTHING",
            (user_id, external_id, name, role),
        )


def seed_demo(database_url: str) -> Demo:
    """Create the stand-in tables where there are none, insert the demo rows that are missing
    (existing rows are left as they are, except that a demo assignment's require_recording is
    set as DEMO says); returns DEMO."""
    # One transaction, under the stand-in's lock: token services seeding one database at once
    # (a cluster starting) take turns.
    with psycopg.connect(database_url) as conn, conn.transaction():
        create_standin(conn)
        _insert_people(conn)
        for scenario in DEMO.scenarios:
            conn.execute(
                "INSERT INTO public.scenarios"
                " (id, title, prompt, account_id, created_by, mode, updated_at)"
                " VALUES (%s, %s, %s, %s, %s, 'phone', now() AT TIME ZONE 'UTC')"
                " ON CONFLICT (id) DO NOTHING",
                (str(scenario.id), scenario.title, scenario.prompt, ACCOUNT_ID, SUPERVISOR_ID),
            )
        for user in DEMO.users:
            conn.execute(
                "INSERT INTO public.assignments (id, account_id, scenario_id, counselor_id,"
                " assigned_by, require_recording) VALUES (%s, %s, %s, %s, %s, %s)"
                " ON CONFLICT (id) DO UPDATE SET require_recording = EXCLUDED.require_recording",
                (
                    str(user.assignment_id),
                    ACCOUNT_ID,
                    str(user.scenario_id),
                    str(user.user_id),
                    SUPERVISOR_ID,
                    user.require_recording,
                ),
            )
    return DEMO
