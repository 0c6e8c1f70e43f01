"""The command line: ``mlekit fit``, ``glm``, ``aft``, ``mixture``, ``compare``, ``families``,
``demo``. No numerics here."""

from __future__ import annotations

import contextlib
import json
import os
import sys
from contextlib import contextmanager
from enum import StrEnum
from importlib import resources
from pathlib import Path
from typing import Annotated

import numpy as np
import typer

from ._io import read_column, read_table
from ._progress import progress_bar as _progress_bar

app = typer.Typer(
    add_completion=False,
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    help="Maximum likelihood estimation: fit a family to a column of data, with standard "
    "errors, intervals (Wald, profile, bootstrap) and model comparison.",
)


class CI(StrEnum):
    wald = "wald"
    profile = "profile"
    bootstrap = "bootstrap"


class Cov(StrEnum):
    observed = "observed"
    expected = "expected"
    opg = "opg"
    robust = "robust"
    cluster = "cluster"


class Resampling(StrEnum):
    nonparametric = "nonparametric"
    parametric = "parametric"


class BootInterval(StrEnum):
    percentile = "percentile"
    bca = "bca"


def _fail(message: str) -> None:
    typer.echo(f"mlekit: error: {message}", err=True)
    raise typer.Exit(code=2)


@contextmanager
def _one_line_errors():
    """A command's errors as one line on stderr and exit status 2, never a traceback (an exit
    the command chose passes through)."""
    from ._errors import MlekitError

    try:
        yield
    except typer.Exit:
        raise
    except MlekitError as err:
        _fail(str(err))
    except Exception as err:  # a bug of ours: still one line, never a traceback
        _fail(f"internal error ({type(err).__name__}: {err}); please report it with the command.")


def _exit_without_maximum(result, as_json: bool) -> None:
    """A fit without a maximum: print it with its diagnostics (why), no intervals, exit 1."""
    if not result.converged:
        typer.echo(json.dumps(result.to_dict(), indent=2) if as_json else result.summary())
        raise typer.Exit(code=1)


@app.command()
def fit(
    file: Annotated[str, typer.Argument(help="CSV or Parquet file, or - for CSV on stdin.")],
    dist: Annotated[str, typer.Option("--dist", "-d", help="Family name, e.g. gamma.")],
    column: Annotated[str | None, typer.Option("--column", "-c", help="Column to fit.")] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print fit.to_dict() as JSON.")] = False,
    ci: Annotated[CI, typer.Option("--ci", help="Interval method.")] = CI.wald,
    level: Annotated[float, typer.Option("--level", help="Confidence level.")] = 0.95,
    cov: Annotated[Cov, typer.Option("--cov", help="Covariance behind the SEs.")] = Cov.observed,
    groups: Annotated[str | None, typer.Option(
        "--groups", help="Column of cluster labels (with --cov cluster).")] = None,
    transform: Annotated[list[str] | None, typer.Option(
        "--transform", "-t", help='A function of the parameters, e.g. "shape/rate".')] = None,
    replicates: Annotated[int, typer.Option("--replicates", help="Bootstrap replicates.")] = 999,
    resampling: Annotated[Resampling, typer.Option(
        "--resampling", help="Bootstrap resampling.")] = Resampling.nonparametric,
    interval: Annotated[BootInterval, typer.Option(
        "--interval", help="Bootstrap interval.")] = BootInterval.percentile,
    seed: Annotated[int | None, typer.Option("--seed", help="Bootstrap seed.")] = None,
    dropna: Annotated[bool, typer.Option("--dropna", help="Drop missing/non-finite.")] = False,
    option: Annotated[list[str] | None, typer.Option(
        "--option", "-o", help="Family option KEY=VALUE, e.g. -o size=10 for the binomial.")
    ] = None,
    left: Annotated[str | None, typer.Option(
        "--left", help="Censored data: column of left ends (empty: left-censored).")] = None,
    right: Annotated[str | None, typer.Option(
        "--right", help="Censored data: column of right ends (empty: right-censored).")] = None,
    time: Annotated[str | None, typer.Option(
        "--time", help="Lifetimes: column of times (with --event).")] = None,
    event: Annotated[str | None, typer.Option(
        "--event", help="Lifetimes: column of 1 = event, 0 = censored (or R's 2/1).")] = None,
    weights: Annotated[str | None, typer.Option(
        "--weights", help="Column of frequency weights.")] = None,
    lower: Annotated[str | None, typer.Option(
        "--lower", help="Truncation: a number or a column of lower bounds.")] = None,
    upper: Annotated[str | None, typer.Option(
        "--upper", help="Truncation: a number or a column of upper bounds.")] = None,
    by: Annotated[str | None, typer.Option(
        "--by", help="Fit one model per value of this column (a table of fits).")] = None,
    out: Annotated[str | None, typer.Option(
        "--out", help="With --by: write the table of fits to this CSV or Parquet file.")] = None,
    force: Annotated[bool, typer.Option(
        "--force", help="Replace an existing --out or --plot file.")] = False,
    scheduler: Annotated[str | None, typer.Option(
        "--scheduler", help="FILE a glob of Parquet/CSV files, fitted by Dask: a scheduler "
        "address (tcp://host:8786), 'local' (a cluster on this machine), 'threads' (this "
        "process); default: local for data over 1 GB, else threads.")] = None,
    plot: Annotated[str | None, typer.Option(
        "--plot", help="Save a diagnostic plot of the fit to this PNG.")] = None,
    plot_kind: Annotated[str | None, typer.Option(
        "--plot-kind", help="density, qq, pp, cdf, profile, contour or survival (default: "
        "density; survival for censored data).")] = None,
    gof: Annotated[bool, typer.Option(
        "--gof", help="Also goodness-of-fit tests (KS, CvM, AD; chi-square for counts) with "
        "p-values from --replicates parametric-bootstrap refits.")] = False,
) -> None:
    """Fit the family DIST to one column of FILE (or censored, truncated, weighted
    observations) and print the result. A glob (events/*.parquet) is fitted partition by
    partition on Dask, with one progress line per pass over the data."""
    import mlekit as mk

    with _one_line_errors():
        model = mk.family(dist, **_options(option or []))
        _check_new(plot, "--plot", force)
        if plot is not None and (scheduler is not None or _is_glob(file) or by is not None):
            raise mk.ModelError("--plot draws one fit of data in memory; not with --by or a "
                                "partitioned dataset.")
        if scheduler is not None or _is_glob(file):
            unsupported = {"--by": by, "--out": out, "--groups": groups, "--lower": lower,
                           "--upper": upper, "--dropna": dropna or None,
                           "--gof": gof or None}
            given = [k for k, v in unsupported.items() if v is not None]
            if given:
                raise mk.ModelError(f"{given[0]} is not available for a partitioned dataset "
                                    "yet; fit one file in memory instead.")
            if ci is CI.bootstrap:
                raise mk.ModelError("--ci bootstrap resamples every row in memory; for a "
                                    "partitioned dataset use --ci wald or profile.")
            data = mk.dataset(file, column, time=time, event=event, left=left, right=right,
                              weights=weights, progress=not as_json)
            with _scheduler(scheduler, data):
                result = mk.fit(model, data, cov=cov.value)
                _report(result, as_json, ci, level, transform)
            return
        if by is not None or out is not None:
            _fit_groups(file, model, by, column, out, force, as_json,
                        others=(left, right, time, event, weights, lower, upper, groups))
            return
        if (cov is Cov.cluster) != (groups is not None):
            raise mk.ModelError("--cov cluster needs --groups COLUMN (cluster labels), and "
                                "--groups is only used with --cov cluster.")
        incomplete = (left, right, time, event, weights, lower, upper)
        if any(v is not None for v in incomplete):
            if groups is not None:
                raise mk.ModelError("--groups does not combine with censored, truncated or "
                                    "weighted data yet.")
            x, w = _incomplete(file, column, dropna, *incomplete)
            labels = None
        else:
            (x, labels), w = _read(file, column, groups, dropna), None
        result = mk.fit(model, x, cov=cov.value, groups=labels, weights=w)
        if plot is not None and result.converged:
            censored = any(v is not None for v in (left, right, time, event, lower, upper))
            _save(result.plot(plot_kind or ("survival" if censored else "density")), plot)
        sample = None
        if ci is CI.bootstrap and result.converged:  # one set of replicates for all
            sample = result.bootstrap(replicates, resampling.value, seed=seed,
                                      progress=None if as_json else _progress_bar())
        _report(result, as_json, ci, level, transform, sample, interval,
                result.gof(replicates=replicates, seed=seed or 0) if gof else None)


def _report(result, as_json, ci, level, transform, sample=None, interval=None,
            fit_test=None) -> None:
    """A fit's summary (or JSON) with its intervals, transforms and goodness of fit; exit 1
    without a maximum."""
    _exit_without_maximum(result, as_json)
    options = {} if sample is None else dict(interval=interval.value, sample=sample)
    intervals = result._report_intervals(level, ci.value, **options) if as_json else None
    estimates = [(t, result.transform(t, level, method=ci.value, sample=sample))
                 for t in transform or []]
    if as_json:
        out = _fit_json(result, intervals, level)
        if estimates:
            out["transforms"] = [_estimate_json(e) for _, e in estimates]
        if fit_test is not None:
            out["gof"] = fit_test.to_dict()
        typer.echo(json.dumps(out, indent=2))
    else:
        typer.echo(result.summary(level=level, ci=ci.value, **options))
        for text, est in estimates:
            typer.echo(_estimate_line(text, est, level))
        if fit_test is not None:
            typer.echo("\n" + str(fit_test))


#: data above this size get a local Dask cluster by default (below it, threads in-process)
LOCAL_CLUSTER_BYTES = 1 << 30


def _is_glob(file: str) -> bool:
    return any(c in file for c in "*?[")


@contextmanager
def _scheduler(choice: str | None, data):
    """The Dask scheduler of a partitioned fit: an address, a local cluster, or threads."""
    import mlekit as mk

    if choice is None:
        big = data.nbytes is None or data.nbytes > LOCAL_CLUSTER_BYTES
        choice = "local" if big and len(data) > 1 else "threads"
    if choice == "threads":
        yield
        return
    try:
        from distributed import Client, LocalCluster
    except ImportError:
        raise mk.ModelError("--scheduler needs dask.distributed: pip install "
                            "'mlekit[dask]'.") from None
    if choice == "local":
        with LocalCluster(threads_per_worker=1, processes=True, dashboard_address=None) as c, \
                Client(c):
            yield
        return
    try:
        client = Client(choice, timeout="10s")
    except (OSError, TimeoutError, ValueError) as err:
        raise mk.ModelError(f"--scheduler {choice!r}: no Dask scheduler reachable there "
                            f"({err}); give its address, e.g. tcp://host:8786, or 'local'.") \
            from None
    with client:
        yield


class Kind(StrEnum):
    auto = "auto"
    continuous = "continuous"
    discrete = "discrete"


class Criterion(StrEnum):
    aic = "aic"
    bic = "bic"


@app.command()
def compare(
    file: Annotated[str, typer.Argument(help="CSV or Parquet file, or - for CSV on stdin.")],
    column: Annotated[str | None, typer.Option("--column", "-c", help="Column to fit.")] = None,
    dist: Annotated[list[str] | None, typer.Option(
        "--dist", "-d", help="A family to compare (repeat: -d gamma -d weibull).")] = None,
    families: Annotated[str | None, typer.Option(
        "--families", help="Families to compare, comma-separated (default: all that apply).")
    ] = None,
    criterion: Annotated[Criterion, typer.Option("--criterion", help="Rank by.")
                         ] = Criterion.aic,
    kind: Annotated[Kind, typer.Option(
        "--kind", help="Counts (discrete) or measurements (continuous); auto: counts when "
        "all values are non-negative integers.")] = Kind.auto,
    as_json: Annotated[bool, typer.Option("--json", help="Print the table as JSON.")] = False,
    dropna: Annotated[bool, typer.Option("--dropna", help="Drop missing/non-finite.")] = False,
    plot: Annotated[str | None, typer.Option(
        "--plot", help="Save the top fits' densities overlaid to this PNG.")] = None,
    force: Annotated[bool, typer.Option("--force", help="Replace an existing --plot file.")
                     ] = False,
) -> None:
    """Fit every applicable family (or those named) to one column of FILE and rank the valid
    fits by AIC or BIC; flagged fits are listed apart, with their flags."""
    import mlekit as mk

    with _one_line_errors():
        names = list(dist or []) + [f.strip() for f in (families or "").split(",") if f.strip()]
        if len(names) == 1:
            raise mk.ModelError("compare needs at least two families, e.g. -d gamma -d weibull "
                                "(or none: every family that applies).")
        _check_new(plot, "--plot", force)
        x = read_column(file, column, dropna=dropna)
        ranking = mk.compare_families(x, names or "all", criterion=criterion.value,
                                      kind=kind.value)
        if plot is not None:
            _save(ranking.plot("density"), plot)
        typer.echo(json.dumps(ranking.to_dict(), indent=2) if as_json else str(ranking))


@app.command()
def report(
    file: Annotated[str, typer.Argument(help="CSV or Parquet file, or - for CSV on stdin.")],
    out: Annotated[str, typer.Option("--out", "-o", help="The HTML file to write.")],
    column: Annotated[str | None, typer.Option("--column", "-c", help="Column to fit.")] = None,
    families: Annotated[str | None, typer.Option(
        "--families", help="Families to compare, comma-separated (default: all that apply).")
    ] = None,
    criterion: Annotated[Criterion, typer.Option("--criterion", help="Rank by.")
                         ] = Criterion.aic,
    kind: Annotated[Kind, typer.Option("--kind", help="See mlekit compare --help.")
                    ] = Kind.auto,
    replicates: Annotated[int, typer.Option(
        "--replicates", help="Bootstrap replicates of the goodness-of-fit p-values.")] = 199,
    seed: Annotated[int, typer.Option("--seed", help="Bootstrap seed.")] = 0,
    title: Annotated[str | None, typer.Option("--title", help="The page's title.")] = None,
    dropna: Annotated[bool, typer.Option("--dropna", help="Drop missing/non-finite.")] = False,
    force: Annotated[bool, typer.Option("--force", help="Replace an existing file.")] = False,
) -> None:
    """Write one self-contained HTML page on one column of FILE: the data, the families
    ranked, the best fit with its intervals and diagnostics, goodness of fit, and plots."""
    import mlekit as mk

    with _one_line_errors():
        _check_new(out, "--out", force)
        x = read_column(file, column, dropna=dropna)
        names = [f.strip() for f in (families or "").split(",") if f.strip()]
        written = mk.report(x, out, families=names or "all", kind=kind.value,
                            criterion=criterion.value, replicates=replicates, seed=seed,
                            title=title or f"Distribution report: {column or Path(file).name}",
                            force=force)
        typer.echo(f"wrote {written}")


def _check_new(path: str | None, option: str, force: bool) -> None:
    """An output file is never replaced without --force."""
    import mlekit as mk

    if path is not None and Path(path).exists() and not force:
        raise mk.DataError(f"{option} {path!r} exists; it is not overwritten without --force.")


def _save(figure, path: str) -> None:
    import matplotlib.pyplot as plt

    figure.savefig(path, dpi=100, bbox_inches="tight")
    plt.close(figure)


class PenaltyKind(StrEnum):
    l1 = "l1"
    l2 = "l2"
    elasticnet = "elasticnet"


class GLMFamily(StrEnum):
    gaussian = "gaussian"
    binomial = "binomial"
    poisson = "poisson"
    negative_binomial = "negative_binomial"
    gamma = "gamma"


@app.command()
def glm(
    file: Annotated[str, typer.Argument(help="CSV or Parquet file, or - for CSV on stdin.")],
    formula: Annotated[str, typer.Argument(help='Model formula, e.g. "y ~ x1 + C(group)".')],
    family: Annotated[GLMFamily, typer.Option("--family", "-f", help="Response family.")
                      ] = GLMFamily.gaussian,
    link: Annotated[str | None, typer.Option("--link", help="Link (the family's default: "
                                             "logit, log, identity, inverse).")] = None,
    weights: Annotated[str | None, typer.Option("--weights", help="Column of frequency "
                                                "weights.")] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print fit.to_dict() as JSON.")] = False,
    ci: Annotated[CI, typer.Option("--ci", help="Interval method.")] = CI.wald,
    level: Annotated[float, typer.Option("--level", help="Confidence level.")] = 0.95,
    cov: Annotated[Cov, typer.Option("--cov", help="Covariance behind the SEs.")] = Cov.observed,
    penalty: Annotated[PenaltyKind | None, typer.Option(
        "--penalty", help="Penalize the coefficients (not the intercept): a MAP fit.")] = None,
    alpha: Annotated[float | None, typer.Option(
        "--alpha", help="Penalty strength (scikit-learn's C is 1/alpha).")] = None,
    l1_ratio: Annotated[float, typer.Option(
        "--l1-ratio", help="Elastic net: the L1 share r in [0, 1].")] = 0.5,
    standardize: Annotated[bool, typer.Option(
        "--standardize", help="Penalize each coefficient on its column's scale.")] = False,
    cv_folds: Annotated[int | None, typer.Option(
        "--cv", help="Choose alpha by K-fold cross-validation (the one-standard-error "
        "choice); prints the table, then the fit.")] = None,
    seed: Annotated[int, typer.Option("--seed", help="Seed of the folds.")] = 0,
    scheduler: Annotated[str | None, typer.Option(
        "--scheduler", help="A glob of files fitted by Dask (see mlekit fit --help).")] = None,
) -> None:
    """Fit a generalized linear model FORMULA to the table FILE and print the result."""
    import mlekit as mk

    with _one_line_errors():
        table, where = _source(file, scheduler, as_json)
        if where is not None and penalty is not None:
            raise mk.ModelError("--penalty is not available for a partitioned dataset yet.")
        with where or contextlib.nullcontext():
            _glm(table, formula, family, link, weights, as_json, ci, level, cov, penalty,
                 alpha, l1_ratio, standardize, cv_folds, seed)


def _glm(table, formula, family, link, weights, as_json, ci, level, cov, penalty, alpha,
         l1_ratio, standardize, cv_folds, seed) -> None:
    import mlekit as mk

    if cov is Cov.cluster:
        raise mk.ModelError("--cov cluster is not available for glm yet; use robust.")
    if (alpha is not None or cv_folds is not None) and penalty is None:
        raise mk.ModelError("--alpha and --cv need --penalty l1, l2 or elasticnet.")
    if penalty is not None and (alpha is None) == (cv_folds is None):
        raise mk.ModelError("--penalty needs --alpha A, or --cv K to choose it.")
    kinds = {PenaltyKind.l1: lambda a: mk.L1(a, standardize=standardize),
             PenaltyKind.l2: lambda a: mk.L2(a, standardize=standardize),
             PenaltyKind.elasticnet: lambda a: mk.ElasticNet(a, l1_ratio,
                                                             standardize=standardize)}
    make = kinds.get(penalty)
    chosen = None
    if cv_folds is not None:
        plain = mk.glm(formula, table, family=family.value, link=link, weights=weights)
        chosen = mk.cv(plain, penalty=make, folds=cv_folds, seed=seed)
        alpha = chosen.alpha_1se
    options = {} if make is None else {"penalty": make(alpha)}
    result = mk.glm(formula, table, family=family.value, link=link, weights=weights,
                    cov=cov.value, **options)
    _exit_without_maximum(result, as_json)
    if as_json:
        out = _fit_json(result, result._report_intervals(level, ci.value), level)
        if chosen is not None:
            out["cv"] = json.loads(chosen.to_pandas().to_json(orient="records"))
        typer.echo(json.dumps(out, indent=2))
    else:
        if chosen is not None:
            typer.echo(f"{cv_folds}-fold cross-validation (held-out log-likelihood per "
                       f"observation); alpha = {alpha:.6g}, the one-standard-error choice\n"
                       + chosen.to_pandas().to_string(index=False) + "\n")
        typer.echo(result.summary(level=level, ci=ci.value))


@app.command()
def study(
    dist: Annotated[str, typer.Option("--dist", "-d", help="The family fitted, e.g. gamma.")],
    truth: Annotated[str, typer.Option(
        "--truth", help="Its true parameters, e.g. shape=2,rate=1 (with --data-dist: those "
        "of the data's family).")],
    n: Annotated[str, typer.Option("--n", help="Sample sizes, e.g. 50,500.")] = "20,50,200,1000",
    reps: Annotated[int, typer.Option("--reps", help="Datasets per sample size.")] = 2000,
    seed: Annotated[int, typer.Option("--seed", help="Seed of the simulation.")] = 0,
    level: Annotated[float, typer.Option("--level", help="Interval coverage.")] = 0.95,
    data_dist: Annotated[str | None, typer.Option(
        "--data-dist", help="Draw the data from this family instead (misspecification).")
    ] = None,
    profile_reps: Annotated[int, typer.Option(
        "--profile-reps", help="Also profile-interval coverage on this many fits per n.")] = 0,
    plot: Annotated[str | None, typer.Option("--plot", help="Save the plots to this PNG.")
                    ] = None,
    force: Annotated[bool, typer.Option("--force", help="Replace an existing --plot file.")
                     ] = False,
    as_json: Annotated[bool, typer.Option("--json", help="Print the table as JSON.")] = False,
) -> None:
    """Simulate and fit many datasets: bias, variance, the Cramer-Rao bound, efficiency,
    interval coverage, normality of the z statistic (and, with --data-dist, the KL target)."""
    import mlekit as mk

    with _one_line_errors():
        values = _options([p.strip() for p in truth.split(",") if p.strip()])
        sizes = []
        for part in n.split(","):
            try:
                sizes.append(int(part))
            except ValueError:
                raise mk.ModelError(f"--n {n!r}: give whole numbers, e.g. 50,500.") from None
        _check_new(plot, "--plot", force)
        model = mk.family(dist)
        if data_dist is None:
            result = mk.study(model, values, sizes, reps=reps, seed=seed, level=level,
                              profile_reps=profile_reps)
        else:
            result = mk.study(model, None, sizes, reps=reps, seed=seed, level=level,
                              data_model=mk.family(data_dist), data_truth=values,
                              profile_reps=profile_reps)
        if plot is not None:
            result.plot(plot)
        if as_json:
            typer.echo(result.table.to_json(orient="records", indent=2))
        else:
            typer.echo(str(result))


class AFTDist(StrEnum):
    weibull = "weibull"
    exponential = "exponential"
    lognormal = "lognormal"
    loglogistic = "loglogistic"
    gaussian = "gaussian"
    logistic = "logistic"


@app.command()
def aft(
    file: Annotated[str, typer.Argument(help="CSV or Parquet file, or - for CSV on stdin.")],
    formula: Annotated[str, typer.Argument(
        help='Model formula, e.g. "Surv(time, status) ~ age + sex".')],
    dist: Annotated[AFTDist, typer.Option("--dist", "-d", help="Lifetime distribution.")
                    ] = AFTDist.weibull,
    weights: Annotated[str | None, typer.Option("--weights", help="Column of frequency "
                                                "weights.")] = None,
    lower: Annotated[str | None, typer.Option(
        "--lower", help="Truncation (delayed entry): a number or a column.")] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print fit.to_dict() as JSON.")] = False,
    ci: Annotated[CI, typer.Option("--ci", help="Interval method.")] = CI.wald,
    level: Annotated[float, typer.Option("--level", help="Confidence level.")] = 0.95,
    cov: Annotated[Cov, typer.Option("--cov", help="Covariance behind the SEs.")] = Cov.observed,
    scheduler: Annotated[str | None, typer.Option(
        "--scheduler", help="A glob of files fitted by Dask (see mlekit fit --help).")] = None,
) -> None:
    """Fit an accelerated failure time model FORMULA (R's survreg) to the table FILE."""
    import mlekit as mk

    with _one_line_errors():
        if cov in (Cov.cluster, Cov.expected):
            raise mk.ModelError(f"--cov {cov.value} is not available for censored lifetimes; "
                                "use observed, opg or robust.")
        table, where = _source(file, scheduler, as_json)
        bound = None if lower is None else _number_or_name(lower)
        with where or contextlib.nullcontext():
            result = mk.aft(formula, table, dist=dist.value, weights=weights, lower=bound,
                            cov=cov.value)
            _exit_without_maximum(result, as_json)
            if as_json:
                typer.echo(json.dumps(_fit_json(
                    result, result._report_intervals(level, ci.value), level), indent=2))
            else:
                typer.echo(result.summary(level=level, ci=ci.value))


def _source(file: str, scheduler: str | None, as_json: bool):
    """(the table FILE, None), or for a glob or --scheduler (a partitioned dataset, the
    scheduler to fit it on)."""
    import mlekit as mk

    if scheduler is None and not _is_glob(file):
        return read_table(file), None
    data = mk.dataset(file, progress=not as_json)
    return data, _scheduler(scheduler, data)


def _read(file, column, groups, dropna):
    """The observations and, with --groups, the cluster labels of the same rows."""
    if groups is None:
        return read_column(file, column, dropna=dropna), None
    import mlekit as mk

    if dropna or file == "-":
        raise mk.ModelError("--groups reads two columns of one file: it cannot be combined with "
                            "--dropna or stdin; clean the file first.")
    table = read_table(file)
    if groups not in table.columns:
        raise mk.DataError(f"--groups column {groups!r} is not in {file!r}; available columns: "
                           f"{', '.join(map(str, table.columns))}.")
    return read_column(file, column), table[groups].to_numpy()


def _fit_groups(file, model, by, column, out, force, as_json, others) -> None:
    """``mlekit fit FILE --by G --column X [--out fits.csv]``: one fit per group."""
    import mlekit as mk

    if by is None:
        raise mk.ModelError("--out writes the table of a grouped fit: give --by COLUMN too.")
    if any(v is not None for v in others):
        raise mk.ModelError("--by fits plain columns for now; it does not combine with censoring, "
                            "truncation, weights or --groups.")
    if column is None:
        raise mk.ModelError("--by needs --column X, the values to fit in each group.")
    target = None
    if out is not None:
        from pathlib import Path

        target = Path(out)
        if target.suffix.lower() not in (".csv", ".parquet", ".pq"):
            raise mk.ModelError(f"--out {out!r}: name a .csv or .parquet file.")
        _check_new(out, "--out", force)
    table = read_table(file)
    batch = mk.fit_groups(table, by=by, column=column, model=model,
                          progress=None if as_json else _progress_bar("fits"))
    frame = batch.to_pandas().reset_index().rename(columns={"member": by})
    if target is not None:
        if target.suffix.lower() == ".csv":
            frame.to_csv(target, index=False)
        else:
            frame.to_parquet(target, index=False)
    if as_json:
        typer.echo(frame.to_json(orient="records", indent=2))
    else:
        typer.echo(batch.summary())
        if target is not None:
            typer.echo(f"\n{len(frame)} rows written to {out}")
        else:
            shown = frame.assign(message=frame["message"].str.slice(0, 60))
            typer.echo("\n" + shown.to_string(index=False))


def _incomplete(file, column, dropna, left, right, time, event, weights, lower, upper):
    """(data, weights) from the columns the options name: censored ends (--left/--right),
    lifetimes (--time/--event), or a plain --column, then truncation and weights."""
    import mlekit as mk

    if (left is None) != (right is None) or (time is None) != (event is None):
        raise mk.ModelError("censored data need both --left and --right, lifetimes both "
                            "--time and --event.")
    given = [name for name, v in (("--column", column), ("--left/--right", left),
                                  ("--time/--event", time)) if v is not None]
    if len(given) > 1:
        raise mk.ModelError(f"{' and '.join(given)} each name the observations; give one.")
    if dropna:
        raise mk.ModelError("--dropna does not combine with censored, truncated or weighted "
                            "data: missing ends mean censoring; clean the file first.")
    table = read_table(file)

    def col(name):
        if name not in table.columns:
            raise mk.DataError(f"column {name!r} is not in {file!r}; available columns: "
                               f"{', '.join(map(str, table.columns))}.")
        return table[name].to_numpy(dtype=float)

    if left is not None:
        data = mk.Censored(col(left), col(right))
    elif time is not None:
        data = mk.Survival(col(time), col(event))
    else:
        data = read_column(file, column)
    if lower is not None or upper is not None:
        bounds = [None if b is None else _number_or_name(b) for b in (lower, upper)]
        bounds = [col(b) if isinstance(b, str) else b for b in bounds]
        data = mk.Truncated(data, lower=bounds[0], upper=bounds[1])
    return data, None if weights is None else col(weights)


def _number_or_name(text: str) -> float | str:
    """A truncation bound: a number, else the name of a column."""
    try:
        return float(text)
    except ValueError:
        return text


def _fit_json(result, intervals: dict, level: float) -> dict:
    """``fit.to_dict()`` with the intervals of the table (JSON-safe)."""
    out = result.to_dict()
    out["conf_int"] = {n: _interval_json(c) for n, c in intervals.items()}
    out["conf_int_level"] = level
    return out


def _interval_json(c) -> dict:
    from ._result import json_value

    return {"lower": json_value(c[0]), "upper": json_value(c[1]), "method": c.method,
            "note": c.note,
            "lower_open": c.lower_open, "upper_open": c.upper_open}


def _estimate_json(est) -> dict:
    from ._result import json_value

    return {"name": est.name, "value": json_value(est.value), "se": json_value(est.se),
            "conf_int": _interval_json(est.conf_int)}


def _estimate_line(text, est, level) -> str:
    from ._render import decimals_for, fmt

    lo, hi = est.conf_int
    places = decimals_for(float(np.max(est.se))) if np.ndim(est.se) == 0 else None
    method = est.conf_int.method.replace("wald", "Wald")
    if np.ndim(est.value):
        return f"{text} = {np.asarray(est.value)!r} (se {np.asarray(est.se)!r})"
    return (f"{text} = {fmt(est.value, places)}  (se {fmt(est.se, places)}; "
            f"{level:.0%} interval ({method}): ({fmt(lo, places)}, {fmt(hi, places)}))")


def _options(pairs: list[str]) -> dict:
    """["size=10", "loc=0.5"] -> {"size": 10, "loc": 0.5}."""
    import mlekit as mk

    out = {}
    for pair in pairs:
        key, sep, value = pair.partition("=")
        if not sep or not key:
            raise mk.ModelError(f"--option {pair!r} must be KEY=VALUE, e.g. --option size=10.")
        try:
            out[key.strip()] = int(value) if value.strip().lstrip("-").isdigit() else float(value)
        except ValueError:
            raise mk.ModelError(f"--option {pair!r}: {value!r} is not a number.") from None
    return out


@app.command()
def families(
    as_json: Annotated[bool, typer.Option("--json", help="Print the catalogue as JSON.")] = False,
) -> None:
    """List the families: parameters, support, exponential family or not, regular or not."""
    import mlekit as mk

    infos = mk.families()
    if as_json:
        typer.echo(json.dumps([i.to_dict() for i in infos], indent=2))
        return
    rows = [("family", "parameters", "support", "exp. family", "regular", "")]
    rows += [(i.name, ", ".join(i.params), i.support, "yes" if i.exponential_family else "no",
              "yes" if i.regular else "no", i.description) for i in infos]
    widths = [max(len(r[j]) for r in rows) for j in range(5)]
    for r in rows:
        typer.echo("  ".join(c.ljust(w) for c, w in zip(r, widths, strict=False))
                   + "  " + r[5])


DEMO = (
    ("groundbeef.csv", "serving", ("normal", "lognormal", "gamma", "weibull", "loglogistic",
                                   "inverse_gaussian")),
    ("faithful.csv", "waiting", ("normal", "gamma")),
    ("faithful.csv", "eruptions", ("lognormal",)),
)


class MixtureCovariance(StrEnum):
    full = "full"
    tied = "tied"
    diag = "diag"
    spherical = "spherical"


@app.command()
def mixture(
    file: Annotated[str, typer.Argument(help="CSV or Parquet file, or - for CSV on stdin.")],
    columns: Annotated[str, typer.Option("--columns", "-c", help="Comma-separated columns, "
                                         "e.g. eruptions,waiting.")],
    k: Annotated[int, typer.Option("--k", help="Number of components.")] = 2,
    covariance: Annotated[MixtureCovariance, typer.Option(
        "--covariance", help="Covariance structure.")] = MixtureCovariance.full,
    starts: Annotated[int, typer.Option("--starts", help="EM starts (k-means++ seeds); the "
                                        "distinct maxima are reported.")] = 1,
    seed: Annotated[int, typer.Option("--seed", help="Seed of the first start.")] = 0,
    as_json: Annotated[bool, typer.Option("--json", help="Print fit.to_dict() as JSON.")] = False,
) -> None:
    """Fit a Gaussian mixture of K components to the COLUMNS of FILE (EM, then Newton)."""
    import mlekit as mk

    with _one_line_errors():
        x = _mixture_data(read_table(file), columns, file)
        result = mk.fit(mk.GaussianMixture(k, covariance.value, seed=seed), x,
                        starts=starts if starts > 1 else None)
        _exit_without_maximum(result, as_json)
        if as_json:
            typer.echo(json.dumps(result.to_dict(), indent=2))
        else:
            typer.echo(result.summary())


def _mixture_data(table, columns: str, file: str) -> np.ndarray:
    import mlekit as mk

    names = [c.strip() for c in columns.split(",") if c.strip()]
    missing = [c for c in names if c not in table.columns]
    if not names or missing:
        raise mk.DataError(f"--columns {columns!r}: {missing or 'none given'} not in {file!r}; "
                           f"available: {', '.join(map(str, table.columns))}.")
    return table[names].to_numpy(dtype=float)


@app.command()
def demo() -> None:
    """Fit several families to real data shipped with mlekit: summaries with profile-likelihood
    intervals, and the families ranked by AIC."""
    import mlekit as mk

    for filename, column, names in DEMO:
        path = resources.files("mlekit") / "data" / filename
        with resources.as_file(path) as p:
            x = read_column(str(p), column)
        typer.echo(f"=== {filename}: column {column!r} (n = {x.size}) ===\n")
        fits = [mk.fit(mk.family(name), x) for name in names]
        for f in fits:
            typer.echo(f.summary(ci="profile") + "\n")
        if len(fits) > 1:
            typer.echo(str(mk.compare(*fits)) + "\n")
    path = resources.files("mlekit") / "data" / "faithful.csv"
    with resources.as_file(path) as p:
        x = _mixture_data(read_table(str(p)), "eruptions,waiting", "faithful.csv")
    typer.echo(f"=== faithful.csv: eruptions and waiting, a two-component Gaussian mixture "
               f"(n = {x.shape[0]}) ===\n")
    typer.echo(mk.fit(mk.GaussianMixture(2), x).summary() + "\n")
    path = resources.files("mlekit") / "data" / "lung.csv"
    with resources.as_file(path) as p:
        lung = read_table(str(p))
    typer.echo("=== lung.csv: survival of 228 lung cancer patients, 63 right-censored ===\n")
    weibull = mk.fit(mk.Weibull(), mk.Survival(lung["time"], lung["status"]))
    typer.echo(weibull.summary(ci="profile"))
    b10 = weibull.transform("scale * (-log(0.9)) ** (1 / shape)", method="profile")
    typer.echo(_estimate_line("B10 life (days): scale * (-log(0.9))^(1/shape)", b10, 0.95)
               + "\n")
    typer.echo(mk.aft("Surv(time, status) ~ age + sex", lung, dist="weibull").summary() + "\n")


def main() -> None:
    code = 0
    try:
        app()
    except SystemExit as exit_:
        code = exit_.code if isinstance(exit_.code, int) else (0 if exit_.code is None else 1)
    except KeyboardInterrupt:
        typer.echo("mlekit: interrupted", err=True)
        code = 130
    # Leave without the interpreter's teardown: unloading JAX's runtime takes ~0.45 s, a third
    # of a short command's wall time. Output is flushed first; compiled programs were written to
    # the persistent cache when they were compiled.
    sys.stdout.flush()
    sys.stderr.flush()
    os._exit(code)


if __name__ == "__main__":
    main()
