"""``mk.report``: one self-contained HTML page about a variable and the distributions that fit
it — the data, the ranking of the families, the best fit with its intervals and diagnostics,
goodness of fit, and the plots (PNG embedded as data URIs: no external resource, no script)."""

from __future__ import annotations

import base64
import html
import io
import os
import tempfile
from pathlib import Path

import numpy as np

from ._data import observe
from ._errors import DataError, MlekitError, ModelError

#: the comparison plots of the top fits, then the best fit's own
COMPARISON_KINDS = ("density", "cdf", "qq", "pp")
BEST_KINDS = ("cdf", "profile")

STYLE = """
body { font-family: system-ui, -apple-system, "Segoe UI", sans-serif; margin: 2em auto;
       max-width: 64em; color: #1a1a1a; line-height: 1.4; }
h1 { font-size: 1.6em; } h2 { font-size: 1.25em; margin-top: 1.6em; }
table { border-collapse: collapse; margin: 0.6em 0; font-size: 0.92em; }
th, td { border-bottom: 1px solid #ddd; padding: 0.25em 0.7em; text-align: right; }
th:first-child, td:first-child { text-align: left; }
pre { background: #f6f6f6; padding: 0.8em; overflow-x: auto; font-size: 0.88em; }
figure { display: inline-block; margin: 0.4em; }
figcaption { font-size: 0.85em; color: #555; }
img { max-width: 30em; }
.note { color: #555; font-size: 0.9em; }
"""


def report(x, path, *, families="all", kind: str = "auto", criterion: str = "aic",
           title: str | None = None, replicates: int = 199, seed: int = 0,
           force: bool = False) -> Path:
    """Write an HTML report on ``x`` to ``path``: data summary, the families ranked
    (:func:`mlekit.compare_families`), the best fit's summary with profile intervals and its
    diagnostics, goodness-of-fit tests with parametric-bootstrap p-values
    (:meth:`Fit.gof`) for the top fits, and the comparison and diagnostic plots. The page is
    self-contained: the plots are embedded, no script runs, nothing is fetched.

    Parameters
    ----------
    x : array-like
        The observations (one variable).
    path : str or Path
        The HTML file to write; an existing file is kept unless ``force=True``.
    families, kind, criterion
        As :func:`mlekit.compare_families`.
    title : str, optional
        The page's title (default: "Distribution report").
    replicates, seed
        Bootstrap replicates and seed of the goodness-of-fit p-values.
    force : bool
        Replace an existing file.

    Returns
    -------
    Path
        The file written.

    Examples
    --------
    >>> import numpy as np, tempfile, pathlib, mlekit as mk
    >>> x = np.random.default_rng(0).gamma(2.0, 1.5, 200)
    >>> page = pathlib.Path(tempfile.mkdtemp()) / "report.html"
    >>> mk.report(x, page, families=["gamma", "weibull"], replicates=49).name
    'report.html'
    """
    from ._ranking import compare_families

    target = Path(path)
    if target.suffix.lower() not in (".html", ".htm"):
        raise ModelError(f"path={str(path)!r}: name an .html file.")
    if target.exists() and not force:
        raise DataError(f"{str(path)!r} exists; it is not overwritten without force=True "
                        "(--force on the command line).")
    try:
        import matplotlib  # noqa: F401 (the page's plots)
    except ImportError:
        raise ModelError("the report draws its plots with matplotlib, which is not installed: "
                         "pip install 'mlekit[plot]'.") from None
    values, _, _ = observe(x, "x")
    ranking = compare_families(values, families, criterion=criterion, kind=kind)
    page = _page(values, ranking, title or "Distribution report", replicates, seed)
    _write_atomically(target, page)
    return target


def _page(x: np.ndarray, ranking, title: str, replicates: int, seed: int) -> str:
    e = html.escape
    best = ranking.best
    top = [ranking.fits[r.name] for r in ranking.rows if r.ranked][:4]
    parts = [f"<h1>{e(title)}</h1>",
             "<h2>Data</h2>", _summary_table(x),
             "<h2>Families ranked</h2>", ranking._repr_html_()]
    if best is None:
        parts.append('<p class="note">No family has a clean fit: see the flags above.</p>')
    else:
        parts += ["<h2>Best fit: " + e(best.model_name) + "</h2>",
                  f"<pre>{e(best.summary(ci='profile'))}</pre>",
                  "<h2>Goodness of fit</h2>", _gof_table(top, replicates, seed),
                  "<h2>Plots</h2>", _figures(ranking, best)]
    body = "\n".join(parts)
    return (f'<!DOCTYPE html>\n<html lang="en"><head><meta charset="utf-8">'
            f"<title>{e(title)}</title><style>{STYLE}</style></head>"
            f"<body>\n{body}\n</body></html>\n")


def _summary_table(x: np.ndarray) -> str:
    q1, median, q3 = np.quantile(x, [0.25, 0.5, 0.75])
    mean, sd = float(np.mean(x)), float(np.std(x, ddof=1)) if x.size > 1 else 0.0
    centred = x - mean
    m2 = float(np.mean(centred**2))
    skew = float(np.mean(centred**3)) / m2**1.5 if m2 > 0 else float("nan")
    kurt = float(np.mean(centred**4)) / m2**2 - 3.0 if m2 > 0 else float("nan")
    rows = [("n", f"{x.size}"), ("distinct values", f"{np.unique(x).size}"),
            ("min", f"{x.min():.6g}"), ("1st quartile", f"{q1:.6g}"),
            ("median", f"{median:.6g}"), ("mean", f"{mean:.6g}"), ("3rd quartile", f"{q3:.6g}"),
            ("max", f"{x.max():.6g}"), ("sd (n - 1)", f"{sd:.6g}"),
            ("skewness", f"{skew:.4g}"), ("excess kurtosis", f"{kurt:.4g}")]
    body = "".join(f"<tr><td>{k}</td><td>{v}</td></tr>" for k, v in rows)
    return f'<table class="summary"><tbody>{body}</tbody></table>'


def _gof_table(fits: list, replicates: int, seed: int) -> str:
    e = html.escape
    rows, notes = [], []
    for fit in fits:
        try:
            result = fit.gof(replicates=replicates, seed=seed)
        except MlekitError as err:
            notes.append(f"{fit.model_name}: {err}")
            continue
        for key, test in result.tests.items():
            p = test.get("p_value")
            rows.append((fit.model_name, key, f"{test['statistic']:.6g}",
                         "-" if p is None else f"{p:.3g}"))
    head = "".join(f"<th>{c}</th>" for c in ("family", "test", "statistic", "p-value"))
    body = "".join("<tr>" + "".join(f"<td>{e(c)}</td>" for c in r) + "</tr>" for r in rows)
    text = (f'<table class="gof"><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>'
            f'<p class="note">ks: Kolmogorov-Smirnov, cvm: Cramér-von Mises, ad: '
            f"Anderson-Darling, chisq: Pearson's chi-square; p-values from a parametric "
            f"bootstrap of {replicates} refitted replicates (the parameters were estimated, so "
            f"the classical tables do not apply).</p>")
    return text + "".join(f'<p class="note">{e(n)}</p>' for n in notes)


def _figures(ranking, best) -> str:
    out = []
    for kind in COMPARISON_KINDS:
        out.append(_figure(lambda kind=kind: ranking.plot(kind), f"{kind}: the top fits"))
    for kind in BEST_KINDS:
        out.append(_figure(lambda kind=kind: best.plot(kind), f"{kind}: {best.model_name}"))
    return "\n".join(out)


def _figure(draw, caption: str) -> str:
    """One plot as an embedded PNG (or a note saying why it is missing)."""
    import matplotlib.pyplot as plt

    try:
        fig = draw()
    except MlekitError as err:
        return f'<p class="note">{html.escape(caption)}: {html.escape(str(err))}</p>'
    buffer = io.BytesIO()
    fig.savefig(buffer, format="png", dpi=90, bbox_inches="tight")
    plt.close(fig)
    data = base64.b64encode(buffer.getvalue()).decode("ascii")
    return (f'<figure><img alt="{html.escape(caption)}" src="data:image/png;base64,{data}">'
            f"<figcaption>{html.escape(caption)}</figcaption></figure>")


def _write_atomically(target: Path, text: str) -> None:
    """Write through a temporary file in the same folder, then rename: a failure midway
    never leaves a half-written page (nor touches an existing one)."""
    handle, temporary = tempfile.mkstemp(dir=target.parent or ".", prefix=".mlekit-",
                                         suffix=".html")
    try:
        with os.fdopen(handle, "w", encoding="utf-8") as stream:
            stream.write(text)
        os.replace(temporary, target)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise
