"""``mk.compare_families``: which distribution is this? Every applicable family fitted to the
same data and ranked by an information criterion, valid fits only: a fit that has no maximum
or that a diagnostic flags is shown with its flags, never ranked as if it were fine."""

from __future__ import annotations

import html
import math
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import NamedTuple

import numpy as np

from ._data import batches_on_threads, observe
from ._errors import MlekitError, ModelError

CRITERIA = ("aic", "bic")
KINDS = ("auto", "continuous", "discrete")


class Ranked(NamedTuple):
    """One family in a :class:`FamilyRanking`."""

    name: str
    k: int
    loglik: float | None
    aic: float | None
    bic: float | None
    delta: float | None  # the criterion minus the best ranked fit's
    weight: float | None  # Akaike (or Schwarz) weight among the ranked fits
    converged: bool
    ranked: bool  # False: flagged or failed, listed after the ranked fits
    flags: tuple[str, ...]  # the codes of the fit's warnings and errors
    message: str


@dataclass(frozen=True, eq=False)
class FamilyRanking:
    """Families fitted to the same data, ranked by ``criterion`` (best first).

    ``rows`` lists the ranked fits first (converged, no warning or error), then the flagged
    and failed ones with their flags; ``best`` is the first ranked fit (a :class:`Fit`),
    ``fits`` every fit by name, ``skipped`` the families not fitted and why.
    """

    rows: tuple[Ranked, ...]
    n: int
    criterion: str
    kind: str
    fits: dict = field(repr=False)
    skipped: dict = field(default_factory=dict)

    @property
    def best(self):
        """The fit of the first ranked family (None where no fit is clean)."""
        first = next((r for r in self.rows if r.ranked), None)
        return None if first is None else self.fits[first.name]

    def to_pandas(self):
        """The table as a pandas DataFrame indexed by family, best first."""
        import pandas as pd

        frame = pd.DataFrame([r._asdict() for r in self.rows]).set_index("name")
        frame["flags"] = [", ".join(f) for f in frame["flags"]]
        return frame

    def to_dict(self) -> dict:
        """JSON-safe: the rows, the best family, n, the criterion and the skipped families."""
        best = next((r.name for r in self.rows if r.ranked), None)
        return {"rows": [{**r._asdict(), "flags": list(r.flags)} for r in self.rows],
                "best": best, "n": self.n, "criterion": self.criterion, "kind": self.kind,
                "skipped": dict(self.skipped)}

    def _cells(self) -> list[tuple[str, ...]]:
        def num(v, spec=".2f"):
            return "-" if v is None else format(v, spec)

        return [(r.name + ("" if r.ranked else " *"), str(r.k), num(r.loglik), num(r.aic),
                 num(r.bic), num(r.delta), num(r.weight, ".3g"), ", ".join(r.flags))
                for r in self.rows]

    HEAD = ("family", "k", "loglik", "AIC", "BIC", "delta", "weight", "flags")

    def __str__(self) -> str:
        body = self._cells()
        widths = [max(len(row[i]) for row in [self.HEAD, *body]) for i in range(len(self.HEAD))]

        def line(row):
            return "  ".join(c.ljust(w) if i in (0, 7) else c.rjust(w)
                             for i, (c, w) in enumerate(zip(row, widths, strict=True))).rstrip()

        out = [f"Families fitted to {self.n} {self.kind} observations, best first by "
               f"{self.criterion.upper()}", line(self.HEAD),
               line(tuple("-" * w for w in widths)), *map(line, body)]
        if any(not r.ranked for r in self.rows):
            out.append("* not ranked: no maximum, or flagged by a diagnostic (see flags and "
                       "ranking.fits[name].diagnostics)")
        out += [f"skipped {', '.join(names)}: {why}" for why, names in self._skips().items()]
        return "\n".join(out)

    def _skips(self) -> dict[str, list[str]]:
        """The skipped families grouped by reason."""
        out: dict[str, list[str]] = {}
        for name, why in self.skipped.items():
            out.setdefault(why, []).append(name)
        return out

    def __repr__(self) -> str:
        return str(self)

    def _repr_html_(self) -> str:
        e = html.escape
        head = "".join(f"<th>{e(c)}</th>" for c in self.HEAD)
        body = "".join("<tr>" + "".join(f"<td>{e(c)}</td>" for c in row) + "</tr>"
                       for row in self._cells())
        skipped = "".join(f"<li>{e(', '.join(names))}: {e(why)}</li>"
                          for why, names in self._skips().items())
        return (f'<div class="mlekit-ranking"><p>Families fitted to {self.n} {e(self.kind)} '
                f"observations, best first by {self.criterion.upper()}; * not ranked "
                f"(no maximum, or flagged)</p><table><thead><tr>{head}</tr></thead>"
                f"<tbody>{body}</tbody></table>"
                + (f"<p>Skipped:</p><ul>{skipped}</ul>" if skipped else "") + "</div>")

    def plot(self, kind: str = "density", *, top: int = 4, ax=None):
        """The ``top`` ranked fits overlaid (``kind``: density, cdf, qq or pp; fitdistrplus's
        denscomp, cdfcomp, qqcomp, ppcomp): a matplotlib Figure."""
        from ._plots import compare_plot

        names = [r.name for r in self.rows if r.ranked][:top]
        if not names:
            raise ModelError("no family has a clean fit to plot; see the table's flags.")
        return compare_plot([self.fits[n] for n in names], kind, names=names, ax=ax)


def compare_families(x, families: str | Sequence = "all", *, criterion: str = "aic",
                     kind: str = "auto") -> FamilyRanking:
    r"""Fit every applicable family to ``x`` and rank the valid fits.

    Each family is fitted by maximum likelihood (in parallel); the ranked fits are those that
    converged with no warning or error, ordered by :math:`AIC = -2\ell + 2k` (or
    :math:`BIC = -2\ell + k \log n`), with :math:`\Delta_i` the difference to the best and the
    weights :math:`w_i = e^{-\Delta_i/2} / \sum_j e^{-\Delta_j/2}`. Fits a diagnostic flags
    (no maximum, a boundary, an ill-conditioned information, ...) are listed after them with
    their flags. Families whose support excludes the data are skipped with the reason, as are
    continuous families for discrete data (a density and a probability mass do not compare)
    and the reverse.

    Parameters
    ----------
    x : array-like
        One-dimensional observations.
    families : "all" or list of str / Family
        The candidates; "all" is every univariate family that needs no option (the threshold
        forms and the categorical only by name).
    criterion : {"aic", "bic"}
    kind : {"auto", "continuous", "discrete"}
        Which families apply. "auto": the kind of the named families where they are all of
        one kind; else data that are all non-negative integers are counts (discrete), any
        other data continuous.

    Returns
    -------
    FamilyRanking

    Examples
    --------
    >>> import numpy as np, mlekit as mk
    >>> x = np.random.default_rng(1).gamma(3.0, 2.0, 500)
    >>> ranking = mk.compare_families(x, ["gamma", "exponential", "normal"])
    >>> ranking.best.model_name
    'gamma'
    """
    from ._families import FAMILIES, Family
    from ._families import family as family_by_name

    if criterion not in CRITERIA:
        raise ModelError(f"criterion={criterion!r} must be one of {CRITERIA}.")
    if kind not in KINDS:
        raise ModelError(f"kind={kind!r} must be one of {KINDS}.")
    x, lo, hi = observe(x, "x")
    integers = bool(np.all(x == np.round(x)))
    skipped: dict[str, str] = {}
    if isinstance(families, str) and families == "all":
        candidates = []
        for name, cls in FAMILIES.items():
            why = _not_by_default(cls)
            if why:
                skipped[name] = why
            else:
                candidates.append(cls())
    elif isinstance(families, (list, tuple)) and families:
        candidates = [f if isinstance(f, Family) else family_by_name(f) for f in families]
    else:
        raise ModelError(f"families={families!r} must be 'all' or a list of family names "
                         "(or families), e.g. ['gamma', 'weibull', 'lognormal'].")
    if kind == "auto":  # the named families' kind, where they agree; else the data's
        named = {f.support.integer for f in candidates if not getattr(f, "event_ndim", 0)}
        if families == "all" or len(named) != 1:
            kind = "discrete" if integers and lo >= 0 else "continuous"
        else:
            kind = "discrete" if named.pop() else "continuous"
    applicable = []
    for fam in candidates:
        why = _inapplicable(fam, kind, lo, hi, integers)
        if why:
            skipped[fam.name] = why
        else:
            applicable.append(fam)
    if not applicable:
        raise ModelError(f"no family applies to these {kind} data ({len(skipped)} skipped: "
                         + "; ".join(f"{k}: {v}" for k, v in list(skipped.items())[:3])
                         + "); pass other families, or kind='continuous' / 'discrete'.")
    fits, failures = _fit_all(applicable, x)
    rows = _rows(applicable, fits, failures, x.shape[0], criterion)
    return FamilyRanking(tuple(rows), int(x.shape[0]), criterion, kind, fits, skipped)


def _not_by_default(cls) -> str | None:
    """Why "all" leaves a family out (it can still be named)."""
    if getattr(cls, "event_ndim", 0):
        return "multivariate"
    if cls.name == "categorical":
        return "nominal category codes: name it to include it"
    if getattr(cls, "threshold_form", False):
        return ("its support moves with its parameters (a threshold or an end point): name it "
                "to include it")
    try:
        cls()
    except (TypeError, MlekitError):
        return "needs an option (e.g. binomial's size): pass mk.family(name, ...)"
    return None


def _inapplicable(fam, kind: str, lo: float, hi: float, integers: bool) -> str | None:
    """Why ``fam`` does not apply to data of ``kind`` in [lo, hi], or None."""
    if getattr(fam, "event_ndim", 0):
        return "multivariate: it fits vectors"
    support = fam.support
    if kind == "discrete" and not support.integer:
        return ("continuous, and the data are counts: a density does not compare with a "
                "probability mass (kind='continuous' treats them as measurements)")
    if kind == "continuous" and support.integer:
        return "discrete, and the data are not all non-negative integers"
    if not support.covers(lo, hi):
        return (f"its support ({support.describe()}) excludes the data's range "
                f"[{lo:g}, {hi:g}]")
    if support.integer and not integers:
        return f"its support ({support.describe()}) holds integers only"
    return None


def _fit_all(families: list, x: np.ndarray) -> tuple[dict, dict]:
    """({name: Fit}, {name: why it failed}): the fits run on threads (their compiles and
    passes release the interpreter)."""
    from ._fit import fit

    def one(fam):
        try:
            return fam.name, fit(fam, x), None
        except MlekitError as err:
            return fam.name, None, str(err)

    done = list(batches_on_threads(one, families, "mlekit-families"))
    return ({name: f for name, f, _ in done if f is not None},
            {name: why for name, _, why in done if why is not None})


def _rows(families, fits: dict, failures: dict, n: int, criterion: str) -> list[Ranked]:
    clean, flagged = [], []
    for fam in families:
        if fam.name in failures:
            flagged.append(Ranked(fam.name, 0, None, None, None, None, None, False, False,
                                  ("error",), failures[fam.name]))
            continue
        f = fits[fam.name]
        flags = tuple(d.code for d in f._found if d.severity in ("warning", "error"))
        estimated = all(v is not None for v in f.params.values())
        aic = f.aic if estimated else None
        bic = f.bic if estimated else None
        row = Ranked(fam.name, f.k, f.loglik if estimated else None, aic, bic, None, None,
                     f.converged, f.converged and not flags and estimated, flags, f.message)
        (clean if row.ranked else flagged).append(row)
    key = "aic" if criterion == "aic" else "bic"
    clean.sort(key=lambda r: getattr(r, key))
    if clean:
        best = getattr(clean[0], key)
        deltas = np.array([getattr(r, key) - best for r in clean])
        weights = np.exp(-deltas / 2.0)
        weights /= weights.sum()
        clean = [r._replace(delta=float(d), weight=float(w))
                 for r, d, w in zip(clean, deltas, weights, strict=True)]
        flagged = [r._replace(delta=None if getattr(r, key) is None
                              else float(getattr(r, key) - best)) for r in flagged]
    flagged.sort(key=lambda r: math.inf if getattr(r, key) is None else getattr(r, key))
    return clean + flagged
