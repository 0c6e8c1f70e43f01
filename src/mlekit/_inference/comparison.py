"""Model comparison: fits of the same data ranked by AIC, with AICc, BIC and Akaike weights."""

from __future__ import annotations

import html
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import NamedTuple

import numpy as np

from .._errors import FitError, ModelError
from .testing import _check_fit, _check_same_data


class Row(NamedTuple):
    """One model in a :class:`Comparison`."""

    name: str
    model: str
    loglik: float
    k: int
    aic: float
    aicc: float | None
    bic: float
    delta_aic: float
    weight: float
    converged: bool


COLUMNS = ("loglik", "k", "AIC", "AICc", "BIC", "dAIC", "weight")


@dataclass(frozen=True, eq=False)
class Comparison:
    """Models fitted to the same data, ranked by AIC.

    ``rows`` are sorted by AIC (best first); ``best`` is the name of the first; ``fits`` maps
    each row's name to its fit. ``notes`` say what the table cannot (AICc undefined, fits that
    did not converge).
    """

    rows: tuple[Row, ...]
    n: int
    notes: tuple[str, ...] = ()
    fits: Mapping[str, object] = field(default_factory=dict, repr=False)

    @property
    def best(self) -> str:
        return self.rows[0].name

    def _cells(self) -> list[tuple[str, ...]]:
        def num(v):
            return "n/a" if v is None else f"{v:.2f}"

        return [(r.name + ("" if r.converged else " *"), num(r.loglik), str(r.k), num(r.aic),
                 num(r.aicc), num(r.bic), num(r.delta_aic), f"{r.weight:.3g}")
                for r in self.rows]

    def __str__(self):
        head = ("model", *COLUMNS)
        body = self._cells()
        widths = [max(len(r[i]) for r in [head, *body]) for i in range(len(head))]

        def line(r):
            return "  ".join(c.ljust(w) if i == 0 else c.rjust(w)
                             for i, (c, w) in enumerate(zip(r, widths, strict=True))).rstrip()

        out = [f"Model comparison (n = {self.n}), best first by AIC", line(head),
               line(tuple("-" * w for w in widths)), *map(line, body)]
        return "\n".join(out + [f"note: {note}" for note in self.notes])

    def __repr__(self):
        return str(self)

    def _repr_html_(self):
        e = html.escape
        head = "".join(f"<th>{e(c)}</th>" for c in ("model", *COLUMNS))
        body = "".join("<tr>" + "".join(f"<td>{e(c)}</td>" for c in r) + "</tr>"
                       for r in self._cells())
        notes = "".join(f"<div>note: {e(note)}</div>" for note in self.notes)
        return (f'<div class="mlekit-comparison"><div>Model comparison (n = {self.n}), best '
                f"first by AIC</div><table><thead><tr>{head}</tr></thead><tbody>{body}"
                f"</tbody></table>{notes}</div>")

    def to_dict(self) -> dict:
        """A JSON-safe dict: the rows (best first), the best name, n and the notes."""
        return {"rows": [r._asdict() for r in self.rows], "best": self.best, "n": self.n,
                "notes": list(self.notes)}

    def to_pandas(self):
        """The table as a pandas DataFrame indexed by name."""
        import pandas as pd

        return pd.DataFrame([r._asdict() for r in self.rows]).set_index("name")


def compare(*fits, names: Sequence[str] | None = None) -> Comparison:
    r"""Rank fits of the same data by AIC.

    For each fit: :math:`AIC = -2\ell + 2k`, the small-sample
    :math:`AICc = AIC + 2k(k+1)/(n-k-1)` (undefined where :math:`n - k - 1 \le 0`),
    :math:`BIC = -2\ell + k\log n`, :math:`\Delta_i = AIC_i - \min AIC` and the Akaike weight
    :math:`w_i = e^{-\Delta_i/2} / \sum_j e^{-\Delta_j/2}` (the weight of evidence for model i
    among these).

    Parameters
    ----------
    *fits : Fit
        Fits to the same observations (or one list of them).
    names : sequence of str, optional
        Row names; by default each fit's model name, made unique ("gamma", "gamma (2)").

    Returns
    -------
    Comparison

    Examples
    --------
    >>> import mlekit as mk
    >>> x = [0.5, 1.2, 2.3, 0.8, 3.1, 1.7, 0.4, 2.2]
    >>> table = compare(mk.fit(mk.Exponential(), x), mk.fit(mk.Gamma(), x))
    >>> [row.name for row in table.rows]
    ['gamma', 'exponential']
    """
    if len(fits) == 1 and isinstance(fits[0], (list, tuple)):
        fits = tuple(fits[0])
    if not fits:
        raise ModelError("compare() needs at least one fit, e.g. compare(fit_a, fit_b).")
    for i, f in enumerate(fits):
        _check_fit(f, f"fits[{i}]")
        if any(v is None for v in f.params.values()):
            raise FitError(
                f"fits[{i}] ({f.model_name}) has no estimate ({f.message}): its likelihood has "
                "no maximum on these data, so it has no AIC; leave it out of the comparison "
                "(its diagnostics say why).")
    labels = _names(fits, names)
    _check_same_data(fits, labels)
    n = fits[0].n
    aic = np.array([f.aic for f in fits])
    delta = aic - aic.min()
    weight = np.exp(-0.5 * delta)
    weight /= weight.sum()
    notes = []
    rows = []
    for f, label, d, w in zip(fits, labels, delta, weight, strict=True):
        aicc = None
        if n - f.k - 1 > 0:
            aicc = f.aic + 2.0 * f.k * (f.k + 1) / (n - f.k - 1)
        else:
            notes.append(f"AICc of {label} is undefined: n - k - 1 = {n - f.k - 1} <= 0")
        if not f.converged:
            notes.append(f"{label} (*) did not converge: its log-likelihood is not a maximum")
        rows.append(Row(label, f.model_name, float(f.loglik), int(f.k), float(f.aic), aicc,
                        float(f.bic), float(d), float(w), bool(f.converged)))
    order = sorted(range(len(rows)), key=lambda i: rows[i].aic)
    notes += _support_note(fits)
    return Comparison(tuple(rows[i] for i in order), n, tuple(notes),
                      {label: f for label, f in zip(labels, fits, strict=True)})


def _names(fits, names) -> list[str]:
    if names is not None:
        names = [str(s) for s in names]
        if len(names) != len(fits) or len(set(names)) != len(names):
            raise ModelError(f"names={names!r} must give one distinct name per fit "
                             f"({len(fits)} fits).")
        return names
    out, seen = [], {}
    for f in fits:
        seen[f.model_name] = seen.get(f.model_name, 0) + 1
        count = seen[f.model_name]
        out.append(f.model_name if count == 1 else f"{f.model_name} ({count})")
    return out


def _support_note(fits) -> list[str]:
    """Densities and probabilities are on different scales: warn where they are mixed."""
    kinds = {bool(f._context.model.support.integer) for f in fits if f._context is not None}
    if len(kinds) > 1:
        return ["the table mixes discrete models (probabilities) and continuous ones "
                "(densities): their likelihoods, and so their AICs, are not comparable"]
    return []
