"""Text and HTML renderings of a fit, with numbers rounded to their uncertainty."""

from __future__ import annotations

import html
import math

import numpy as np

from ._errors import ModelError
from ._inference.covariances import LABELS


def decimals_for(se: float) -> int | None:
    """Decimal places that show two significant digits of the standard error."""
    if not (se > 0 and math.isfinite(se)):
        return None
    return 1 - math.floor(math.log10(se))


def fmt(value: float, places: int | None) -> str:
    """value rounded to ``places`` decimals (negative: to tens, hundreds...); 6 significant
    digits when there is no uncertainty to round to."""
    if places is None:
        return f"{value:.6g}"
    if places <= 0:
        return f"{round(value, places):.0f}"
    return f"{value:.{places}f}"


def rows(fit, level: float = 0.95, ci: str = "wald", crlb: bool = False,
         ci_options: dict | None = None) -> tuple[list[tuple[str, ...]], tuple[str, ...], list]:
    """(rows of strings for every parameter, free and fixed; the header; notes under the table).

    Each row: name, estimate, se, [CRLB sd,] interval."""
    intervals, label, notes = fit._flat_ci(level, ci, **(ci_options or {}))
    bound = {}
    if crlb:
        try:
            sd = np.sqrt(np.maximum(np.diag(fit.crlb()), 0.0))
            bound = dict(zip(fit._flat_labels(), sd, strict=True))
        except ModelError as err:
            notes.append(f"Cramer-Rao bound: {err}")
    # regression coefficients get their test of 0, as R's summary shows it: Wald's z, or a
    # linear model's t (sd from RSS / (N - p), Student's t on N - p df)
    model = fit._context.model if fit._context is not None else None
    tested = set(model.coefficients) if model is not None else set()
    df = model.t_test_df(fit) if tested else None
    if df is not None:
        notes.append(f"t values as R's lm: standard errors with sd^2 = RSS / {df:g} (not the "
                     f"MLE's RSS / N), Student's t on {df:g} df")
    head = ("parameter", "estimate", "std.error", *(("CRLB sd",) if crlb else ()),
            *((("z value", "Pr(>|z|)") if df is None else ("t value", "Pr(>|t|)"))
              if tested else ()),
            f"{level:.0%} interval ({label.replace('wald', 'Wald')})")
    out = []
    fixed, ses = fit._fixed_labels(), fit._flat_se()
    for name, value in fit._flat_params().items():
        extra = ("",) if crlb else ()
        test = _test(value, ses.get(name), df, len(tested)) if name in tested else ("", "")
        test = test if tested else ()
        if value is None:
            out.append((name, "none", "n/a", *(("n/a",) if crlb else ()), *test, "n/a"))
            continue
        if name in fixed:
            out.append((name, f"{value:.6g}", "fixed", *extra, *test, ""))
            continue
        se = ses.get(name)
        places = decimals_for(se) if se is not None else None
        if crlb:
            extra = (fmt(bound[name], places) if name in bound else "n/a",)
        ci_text = "n/a"
        if name in intervals:
            lo, hi = intervals[name]
            ci_text = f"({fmt(lo, places)}, {fmt(hi, places)})"
        if se is None:
            out.append((name, f"{value:.6g}", "n/a", *extra, *test, ci_text))
            continue
        out.append((name, fmt(value, places), fmt(se, places), *extra, *test, ci_text))
    return out, head, notes


def _test(value, se, df, p) -> tuple[str, str]:
    """(statistic, two-sided p-value) of the test that a coefficient is 0: Wald's z, or with
    ``df`` a linear model's t (the MLE's standard error, from sd^2 = RSS / N with
    N = df + p, rescaled to sd^2 = RSS / df)."""
    if value is None or se is None or not se > 0:
        return ("", "")
    if df is None:
        z = value / se
        p = math.erfc(abs(z) / math.sqrt(2.0))
    else:
        from scipy.special import stdtr

        z = value / (se * math.sqrt((df + p) / df))
        p = 2.0 * float(stdtr(df, -abs(z)))
    return (f"{z:.3f}", "< 1e-300" if p < 1e-300 else f"{p:.3g}")


def header(fit) -> list[str]:
    status = "yes" if fit.converged else "NO"
    kind = LABELS.get(fit.cov_kind, fit.cov_kind)
    if fit.prior and fit.cov_kind == "observed":
        kind = "Laplace approximation (inverse negative Hessian of the log-posterior)"
    cov = f"standard errors: {kind}"
    title = "Maximum a posteriori (MAP) fit" if fit.prior else "Maximum likelihood fit"
    posterior = ([f"log-posterior = {fit.log_posterior:.6g}   prior: "
                  + _priors_text(fit.prior)] if fit.log_posterior is not None else
                 [f"prior: {_priors_text(fit.prior)} (flat: the MAP estimate is the MLE)"]
                 if fit.prior else [])
    return [
        f"{title}: {fit.model_name}",
        f"n = {fit.n}   k = {fit.k}   log-likelihood = {fit.loglik:.6g}   "
        f"AIC = {fit.aic:.6g}   BIC = {fit.bic:.6g}",
        *posterior,
        f"converged: {status} ({fit.iterations} iterations; {fit.message})",
        cov + (f" ({fit.cov_note})" if fit.cov_note else ""),
        *_statistics_line(fit.statistics),
    ]


def _priors_text(prior: dict) -> str:
    """{name: "Normal(0, 1)"} as "a, b ~ Normal(0, 1); sd ~ HalfCauchy(2)"."""
    groups: dict[str, list[str]] = {}
    for name, shown in prior.items():
        groups.setdefault(shown, []).append(name)
    return "; ".join(f"{', '.join(names)} ~ {shown}" for shown, names in groups.items())


def _statistics_line(stats: dict) -> list[str]:
    """A GLM's deviances and dispersion, as R prints them under its coefficients; how many
    observations of censored data were of each kind."""
    if not stats:
        return []
    if "cross_entropy" in stats:
        return [f"cross-entropy = {stats['cross_entropy']:.6g} = entropy of the data "
                f"{stats['entropy']:.6g} + KL(data || model) {stats['kl']:.6g} "
                "(nats per observation)"]
    if "observations" in stats:
        return ["observations: " + ", ".join(f"{v} {k}" for k, v in
                                             stats["observations"].items())]
    parts = [f"deviance = {stats['deviance']:.6g} on {stats['df_residual']:g} df"]
    if stats.get("null_deviance") is not None:
        parts.append(f"null deviance = {stats['null_deviance']:.6g} on {stats['df_null']:g} df")
    parts.append(f"dispersion = {stats['dispersion']:.6g}")
    return ["   ".join(parts)]


def text(fit, level: float = 0.95, ci: str = "wald", crlb: bool = False,
         ci_options: dict | None = None) -> str:
    body, head, notes = rows(fit, level, ci, crlb, ci_options)
    m = len(head)
    widths = [max(len(r[i]) for r in [head, *body]) for i in range(m)]
    line = lambda r: "  ".join(  # noqa: E731
        r[0].ljust(widths[0]) if i == 0 else r[i].rjust(widths[i]) for i in range(m)
    ).rstrip()
    out = header(fit) + ["", line(head), line(tuple("-" * w for w in widths))]
    out += [line(r) for r in body]
    if fit.cov is None and all(v is not None for v in fit.params.values()):
        out.append(f"standard errors: not available (the {fit.cov_kind} information is "
                   "singular)" if fit.converged else
                   "standard errors: not available (no maximum was reached: see below)")
    out += [f"note: {n}" for n in notes]
    for d in fit.diagnostics:
        out += ["", f"[{d.severity}] {d.code}: {d.message}", f"  remedy: {d.remedy}"]
    return "\n".join(out)


def to_html(fit, level: float = 0.95) -> str:
    e = html.escape
    body, head, notes = rows(fit, level)
    head_html = "".join(f"<th>{e(h)}</th>" for h in head)
    body_html = "".join("<tr>" + "".join(f"<td>{e(c)}</td>" for c in r) + "</tr>"
                        for r in body)
    lines = "".join(f"<div>{e(s)}</div>" for s in header(fit))
    diags = "".join(f"<div><b>[{e(d.severity)}] {e(d.code)}</b>: {e(d.message)}. "
                    f"<i>{e(d.remedy)}</i></div>" for d in fit.diagnostics)
    note_html = "".join(f"<div>note: {e(n)}</div>" for n in notes)
    return (f'<div class="mlekit-fit">{lines}<table><thead><tr>{head_html}</tr></thead>'
            f"<tbody>{body_html}</tbody></table>{note_html}{diags}</div>")
