"""The ledger's vocabulary of refusals: each error is named after the rule it enforces."""


class LedgerError(Exception):
    """A command was refused; nothing was recorded."""

    #: the command field the refusal is about, when there is one
    field: str | None = None

    def __init__(self, message: str, *, field: str | None = None) -> None:
        super().__init__(message)
        if field is not None:
            self.field = field


class NotFound(LedgerError):
    """A command names an entity the ledger does not know."""


class PartyNotFound(NotFound):
    field = "party"


class InstrumentNotFound(NotFound):
    field = "instrument"


class ProvisionNotFound(NotFound):
    field = "provisions"


class StatementCodeNotFound(NotFound):
    field = "code"


class StatementNotFound(NotFound):
    field = "statement"


class CommitmentNotFound(NotFound):
    field = "commitment"


class FundingNotFound(NotFound):
    field = "funding"


class ObligationNotFound(NotFound):
    field = "obligation"


class ReportNotFound(NotFound):
    field = "report"


class AllegationNotFound(NotFound):
    field = "allegation"


class EventNotFound(NotFound):
    """A correction or retraction names an event that its entity never recorded."""

    field = "event"


class AlreadyExists(LedgerError):
    """A command would create an entity whose id is taken."""

    field = "id"


class InvalidValue(LedgerError):
    """A value is well-formed but not acceptable here (an unknown country code, say)."""


class CommitmentAlreadyClosed(LedgerError):
    """Kept, partially kept, broken and withdrawn commitments take no further steps."""

    field = "commitment"


class ObligationAlreadyCompleted(LedgerError):
    """A completed obligation takes no extension, progress or second completion."""

    field = "obligation"


class NoExtensionPending(LedgerError):
    """An extension can only be granted or refused after it was requested."""

    field = "obligation"


class ExtensionAlreadyPending(LedgerError):
    field = "obligation"


class ReportAlreadySubmitted(LedgerError):
    """A report is submitted once; later changes are amendments."""

    field = "report"


class ReportNotSubmitted(LedgerError):
    """Only a submitted report can be amended."""

    field = "report"


class IllegalAllegationStep(LedgerError):
    """The allegation's lifecycle does not allow this step from its current state."""

    field = "allegation"


class AllegationAlreadyResolved(IllegalAllegationStep):
    pass


class CurrencyMismatch(LedgerError):
    """A disbursement must be in its pledge's currency."""

    field = "currency"


class EntryAlreadyRetracted(LedgerError):
    """A retracted entry can be neither corrected nor retracted again."""

    field = "event"


class IdempotencyKeyReused(LedgerError):
    """The idempotency key was first used for a different command."""

    field = "key"


class VersionConflict(LedgerError):
    """The entity kept changing under concurrent writes; the command can be tried again."""


class StaleVersion(VersionConflict):
    """The entity changed since the version the caller expected (HTTP If-Match)."""

    field = "If-Match"


class StoreNotEmpty(LedgerError):
    """A restore only appends into an empty store."""


class StoreUnavailable(LedgerError):
    """The event store cannot be reached."""
