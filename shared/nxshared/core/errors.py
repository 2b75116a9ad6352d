"""Domain errors and their one mapping to the contract's ``exc_type`` (CONTRACT §Errors).

nameko serialises an exception as ``exc_type = type(exc).__name__`` and ``value = str(exc)``, so
each contract ``exc_type`` is a class of that exact name and ``str()`` is ``CODE: 中文说明``.
"""


class DomainError(Exception):
    """A refused call. ``code`` is stable English, ``message`` is for people, ``article`` cites
    the measures where a rule is behind the refusal."""

    exc_type = "DomainError"

    def __init__(self, code, message, article=None):
        self.code = code
        self.message = message
        self.article = article
        super().__init__(f"{code}: {message}")


class ValidationError(DomainError):
    """Malformed input; the message names each bad field."""


class Unauthorized(DomainError):
    """No, bad or expired token."""


class Forbidden(DomainError):
    """This org may not do this."""


class NotFound(DomainError):
    """No such id, or not visible to the caller."""


class Conflict(DomainError):
    """The object is not in a state that allows the call."""


class RuleViolation(DomainError):
    """A rule of the measures forbids it."""


CONTRACT_ERRORS = (ValidationError, Unauthorized, Forbidden, NotFound, Conflict, RuleViolation)


def error_code(exc):
    """The stable code of a refusal, or the exception's class name for anything unexpected."""
    return getattr(exc, "code", None) or type(exc).__name__
