"""The trainee's one error type, shared by its parts."""


class TraineeError(RuntimeError):
    pass
