"""Problems found by a check: a check calls `problem(message)`; `collect` runs one and returns them."""
import contextvars

_current = contextvars.ContextVar("ecg_validate_problems")


def problem(message):
    """Records a problem of the check that `collect` is running."""
    _current.get().append(message)


def collect(check, *args, **kwargs):
    """Runs check(*args, **kwargs) and returns the problems it found, in order ([] when none)."""
    token = _current.set([])
    try:
        check(*args, **kwargs)
        return list(_current.get())
    finally:
        _current.reset(token)
