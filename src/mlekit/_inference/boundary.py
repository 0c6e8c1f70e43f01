r"""Likelihood-ratio intervals for estimates on the boundary of the parameter space.

Where the MLE of a parameter is a boundary value b (a probability of 1 for all-ones data, a
Poisson mean of 0 for all-zero counts, a zero-inflation of 0), the Wald interval is invalid
(no standard error exists there) but the likelihood still bounds the parameter from the inside:

.. math:: \{\psi : 2(\ell(\hat\theta) - \ell_p(\psi)) \le \chi^2_1(\text{level})\},

an interval with one end at b. The profile :math:`\ell_p(\psi)` holds the parameter at
:math:`\psi` and maximizes the others (one Newton fit per value, from the estimate: the held
value enters the compiled code as data, so nothing recompiles); the inner end is the root of
the deviance found by bracketing outward on the parameter's unconstrained scale (log, logit)
and Brent's method. For all-ones Bernoulli data this is :math:`[e^{-\chi^2/(2n)}, 1]`; the
cut-off is the usual two-sided :math:`\chi^2_1` quantile, conservative at a boundary where the
deviance's null law is :math:`\tfrac12\chi^2_0 + \tfrac12\chi^2_1` (Self & Liang 1987).
"""

from __future__ import annotations

import numpy as np

from .._optimize import Status, maximize
from .context import FitContext
from .intervals import ConfidenceInterval, chi2_1_quantile

#: the first trial value, this far inside the boundary on the natural scale
FIRST_STEP = 1e-12
#: unit steps outward on the unconstrained scale before the side is declared open
MAX_STEPS = 80


def boundary_interval(ctx: FitContext, name: str, level: float, loglik: float
                      ) -> ConfidenceInterval:
    """The likelihood-ratio interval of scalar parameter ``name``, held at its boundary
    estimate in ``ctx``; ``loglik`` is the fit's maximized log-likelihood."""
    from scipy.optimize import brentq  # imported here: scipy.optimize costs 0.3 s to import

    constraint = ctx.model.params[name].constraint
    edge = float(ctx.presolved[name])
    lower, upper = constraint.bounds()
    inward = 1.0 if edge <= lower else -1.0
    q = chi2_1_quantile(level)

    def excess(t: float) -> float:
        """Deviance minus the cut-off with ``name`` held at forward(t)."""
        held = {**ctx.held, name: np.asarray(constraint.forward(np.asarray(t)), dtype=float)}
        objective = ctx.objective.holding(held)
        if ctx.layout.k == 0:
            return 2.0 * (loglik - float(objective(np.zeros(0))[0])) - q
        result = maximize(objective, ctx.u, maxiter=max(ctx.maxiter, 50))
        if result.status is not Status.CONVERGED:
            raise FloatingPointError
        return 2.0 * (loglik - result.loglik) - q

    start = float(constraint.inverse(np.asarray(edge + inward * FIRST_STEP)))
    inside, t = start, start
    note = (f"on the boundary ({edge:g}), where the Wald interval is invalid: "
            "likelihood-ratio interval, closed at the boundary")
    try:
        for _ in range(MAX_STEPS):
            t = inside + inward
            if excess(t) > 0:
                end = brentq(excess, inside, t, xtol=1e-12, rtol=1e-12)
                break
            inside = t
        else:
            raise FloatingPointError
    except FloatingPointError:
        far = upper if inward > 0 else lower
        return _pair(edge, far, inward, f"{note}; the data do not bound it on the other side",
                     open_far=True)
    return _pair(edge, float(constraint.forward(np.asarray(end))), inward, note)


def _pair(edge, far, inward, note, open_far=False) -> ConfidenceInterval:
    lo, hi = (edge, far) if inward > 0 else (far, edge)
    return ConfidenceInterval(float(lo), float(hi), "profile", note,
                              lower_open=open_far and inward < 0,
                              upper_open=open_far and inward > 0)
