"""Typed findings about a fit: did it converge, is it a maximum, can its errors be trusted."""

from __future__ import annotations

from dataclasses import asdict, dataclass

import numpy as np

from ._optimize import NewtonResult, Status


@dataclass(frozen=True)
class Diagnostic:
    """One finding: a stable ``code``, a ``severity`` ("error", "warning", "info"),
    what was found (``message``) and what to do about it (``remedy``)."""

    code: str
    severity: str
    message: str
    remedy: str

    def to_dict(self) -> dict:
        return asdict(self)


CONDITION_LIMIT = 1e12


def convergence_diagnostics(result: NewtonResult, n: int) -> tuple[Diagnostic, ...]:
    out = []
    if result.status is Status.MAX_ITERATIONS:
        out.append(Diagnostic(
            "iteration_limit", "error", result.message,
            "raise maxiter=, give better start= values, or check that a maximum exists "
            "(a parameter running off to a boundary or to infinity never converges)."))
    elif result.status is Status.STALLED:
        out.append(Diagnostic(
            "stalled", "error", result.message,
            "try other start= values; the likelihood may be flat or ill-conditioned here."))
    elif result.status is Status.NONFINITE:
        out.append(Diagnostic("nonfinite", "error", result.message,
                              "give start= values where the log-density is finite."))
    if result.grad.size:
        lam = np.linalg.eigvalsh(-result.hess) if np.all(np.isfinite(result.hess)) else [np.nan]
        if not np.all(np.isfinite(lam)) or np.min(lam) <= 0:
            out.append(Diagnostic(
                "hessian_not_negative_definite", "error",
                "the Hessian of the log-likelihood is not negative definite at the estimate, so "
                "it is not a strict local maximum and standard errors do not exist",
                "the model may be unidentifiable (parameters that trade off exactly) or the "
                "estimate may sit on a ridge; fix a parameter or simplify the model."))
        elif np.max(lam) / np.min(lam) > CONDITION_LIMIT:
            out.append(Diagnostic(
                "ill_conditioned", "warning",
                f"the observed information has condition number {np.max(lam) / np.min(lam):.3g}; "
                "some parameter combinations are barely determined by the data",
                "standard errors may be unreliable; consider reparametrizing or fixing a "
                "parameter."))
    return tuple(out)


def nonregular_diagnostic(model, names: tuple[str, ...], params) -> Diagnostic:
    """The estimate stands, but the usual asymptotics do not hold for ``names``."""
    listed = ", ".join(names)
    return Diagnostic(
        "nonregular", "warning",
        f"{listed} of {model.name}: the estimate sits on the boundary set by the data (an order "
        "statistic, or a threshold near the smallest observation); such estimators converge "
        "faster than 1/sqrt(n) and are not normally distributed, so no standard error or Wald "
        "interval is given; the other parameters' standard errors treat them as known",
        f"for intervals on {listed} use fit.conf_int(method='bootstrap')"
        + ("" if set(names) <= set(model.presolved) else
           " (or method='profile' for a threshold estimated by Newton)"))
