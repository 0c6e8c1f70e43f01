"""Confidence intervals as values that say how they were made."""

from __future__ import annotations

from .fisher import _z


class ConfidenceInterval(tuple):
    """``(lower, upper)``, unpacking like a plain pair, that also says how it was made.

    Attributes
    ----------
    method : str
        "wald", "wald (log scale)" (any scale the parameter's constraint maps from), "profile",
        "bootstrap percentile", "bootstrap BCa", ...
    note : str
        Why an end is open or what limits the interval ("" when nothing does).
    lower_open, upper_open : bool
        True where no end point exists on that side: the data do not bound the parameter there
        (the interval runs to the edge of the parameter space, which is what ``lower`` /
        ``upper`` then hold).
    """

    method: str
    note: str
    lower_open: bool
    upper_open: bool

    def __new__(cls, lower, upper, method: str = "wald", note: str = "",
                lower_open: bool = False, upper_open: bool = False):
        obj = super().__new__(cls, (lower, upper))
        obj.method, obj.note = method, note
        obj.lower_open, obj.upper_open = bool(lower_open), bool(upper_open)
        return obj

    @property
    def lower(self):
        return self[0]

    @property
    def upper(self):
        return self[1]

    def __repr__(self):
        extra = f", note={self.note!r}" if self.note else ""
        return f"ConfidenceInterval({self[0]!r}, {self[1]!r}, method={self.method!r}{extra})"

    def __reduce__(self):
        return (ConfidenceInterval, (self[0], self[1], self.method, self.note, self.lower_open,
                                     self.upper_open))


def chi2_1_quantile(level: float) -> float:
    """The chi-square(1) quantile at ``level``: z_{(1+level)/2}^2."""
    return _z(level) ** 2

