from uuid import UUID

import pytest

from training_contracts import AgentDispatchMetadata, AgentErrorCode, ContractError, decode_dispatch

USER = "4a1f0d3e-0000-4000-8000-000000000001"


def test_round_trip() -> None:
    metadata = decode_dispatch(f'{{"version":1,"userId":"{USER}","scenarioId":"{USER}"}}')
    assert metadata == AgentDispatchMetadata(user_id=UUID(USER), scenario_id=UUID(USER))


def test_plan_shape_without_version_reads_as_v1() -> None:
    assert decode_dispatch(f'{{"userId":"{USER}"}}') == AgentDispatchMetadata(user_id=UUID(USER))


def test_unknown_fields_are_ignored_for_forward_compatibility() -> None:
    metadata = decode_dispatch(f'{{"version":1,"userId":"{USER}","addedLater":true}}')
    assert metadata.user_id == UUID(USER)


@pytest.mark.parametrize(
    ("raw", "code", "words"),
    [
        ("", AgentErrorCode.INVALID_METADATA, "empty"),
        ("not json", AgentErrorCode.INVALID_METADATA, "not JSON"),
        ("[]", AgentErrorCode.INVALID_METADATA, "Expected `object`"),
        ("{}", AgentErrorCode.INVALID_METADATA, "userId"),
        ('{"userId":"nope"}', AgentErrorCode.INVALID_METADATA, "Invalid UUID - at `$.userId`"),
        (
            f'{{"userId":"{USER}","assignmentId":42}}',
            AgentErrorCode.INVALID_METADATA,
            "assignmentId",
        ),
        (f'{{"version":2,"userId":"{USER}"}}', AgentErrorCode.UNSUPPORTED_VERSION, "version"),
    ],
)
def test_bad_metadata_names_the_problem(raw: str, code: AgentErrorCode, words: str) -> None:
    with pytest.raises(ContractError) as caught:
        decode_dispatch(raw)
    assert caught.value.code is code
    assert words in caught.value.message


def test_a_newer_version_is_named_even_when_its_shape_differs() -> None:
    with pytest.raises(ContractError) as caught:
        decode_dispatch('{"version":2,"learnerId":"someone"}')
    assert caught.value.code is AgentErrorCode.UNSUPPORTED_VERSION
