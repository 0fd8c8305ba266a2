"""The one error type raised when bytes from another process do not fit the contract."""

from .attributes import AgentErrorCode


class ContractError(ValueError):
    """Input that does not decode into a contract type; `code` says how the agent reports it."""

    def __init__(self, code: AgentErrorCode, message: str) -> None:
        super().__init__(message)
        self.code = code
        self.message = message
