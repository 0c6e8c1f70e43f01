"""Text and HTML renderings of a fit, with numbers rounded to their uncertainty."""

from __future__ import annotations

import html
import math


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


def rows(fit, level: float = 0.95) -> list[tuple[str, str, str, str]]:
    """(name, estimate, se, interval) strings for every parameter, free and fixed."""
    ci = fit._flat_ci(level)
    out = []
    for label, value in fit._flat_params().items():
        if label in fit._fixed_labels():
            out.append((label, f"{value:.6g}", "fixed", ""))
            continue
        se = fit._flat_se().get(label)
        if se is None:
            out.append((label, f"{value:.6g}", "n/a", "n/a"))
            continue
        places = decimals_for(se)
        lo, hi = ci[label]
        out.append((label, fmt(value, places), fmt(se, None if places is None else places),
                    f"({fmt(lo, places)}, {fmt(hi, places)})"))
    return out


def header(fit) -> list[str]:
    status = "yes" if fit.converged else "NO"
    return [
        f"Maximum likelihood fit: {fit.model_name}",
        f"n = {fit.n}   k = {fit.k}   log-likelihood = {fit.loglik:.6g}   "
        f"AIC = {fit.aic:.6g}   BIC = {fit.bic:.6g}",
        f"converged: {status} ({fit.iterations} iterations; {fit.message})",
    ]


def text(fit, level: float = 0.95) -> str:
    head = ("parameter", "estimate", "std.error", f"{level:.0%} interval (Wald)")
    body = rows(fit, level)
    widths = [max(len(r[i]) for r in [head, *body]) for i in range(4)]
    line = lambda r: "  ".join(  # noqa: E731
        r[0].ljust(widths[0]) if i == 0 else r[i].rjust(widths[i]) for i in range(4)
    ).rstrip()
    out = header(fit) + ["", line(head), line(tuple("-" * w for w in widths))]
    out += [line(r) for r in body]
    if fit.cov is None:
        out.append("standard errors: not available (the observed information is singular)")
    for d in fit.diagnostics:
        out += ["", f"[{d.severity}] {d.code}: {d.message}", f"  remedy: {d.remedy}"]
    return "\n".join(out)


def to_html(fit, level: float = 0.95) -> str:
    e = html.escape
    head = "".join(f"<th>{e(h)}</th>" for h in
                   ("parameter", "estimate", "std.error", f"{level:.0%} interval (Wald)"))
    body = "".join("<tr>" + "".join(f"<td>{e(c)}</td>" for c in r) + "</tr>"
                   for r in rows(fit, level))
    lines = "".join(f"<div>{e(s)}</div>" for s in header(fit))
    diags = "".join(f"<div><b>[{e(d.severity)}] {e(d.code)}</b>: {e(d.message)}. "
                    f"<i>{e(d.remedy)}</i></div>" for d in fit.diagnostics)
    return (f'<div class="mlekit-fit">{lines}<table><thead><tr>{head}</tr></thead>'
            f"<tbody>{body}</tbody></table>{diags}</div>")
