"""The command line: ``mlekit fit``, ``mlekit demo``, ``mlekit families``. No numerics here."""

from __future__ import annotations

import json
import os
import sys
from enum import StrEnum
from importlib import resources
from typing import Annotated

import typer

from ._io import read_column

app = typer.Typer(
    add_completion=False,
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    help="Maximum likelihood estimation: fit a family to a column of data.",
)


class CI(StrEnum):
    wald = "wald"


def _fail(message: str) -> None:
    typer.echo(f"mlekit: error: {message}", err=True)
    raise typer.Exit(code=2)


@app.command()
def fit(
    file: Annotated[str, typer.Argument(help="CSV or Parquet file, or - for CSV on stdin.")],
    dist: Annotated[str, typer.Option("--dist", "-d", help="Family name, e.g. gamma.")],
    column: Annotated[str | None, typer.Option("--column", "-c", help="Column to fit.")] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print fit.to_dict() as JSON.")] = False,
    ci: Annotated[CI, typer.Option("--ci", help="Interval method.")] = CI.wald,
    level: Annotated[float, typer.Option("--level", help="Confidence level.")] = 0.95,
    dropna: Annotated[bool, typer.Option("--dropna", help="Drop missing/non-finite.")] = False,
) -> None:
    """Fit the family DIST to one column of FILE and print the result."""
    import mlekit as mk

    try:
        x = read_column(file, column, dropna=dropna)
        result = mk.fit(mk.family(dist), x)
        if as_json:
            typer.echo(json.dumps(result.to_dict(), indent=2))
        else:
            typer.echo(result.summary(level=level))
    except mk.MlekitError as err:
        _fail(str(err))
    except Exception as err:  # a bug of ours: still one line, never a traceback
        _fail(f"internal error ({type(err).__name__}: {err}); please report it with the command.")


@app.command()
def families() -> None:
    """List the families, their parameters and supports."""
    import mlekit as mk

    for name, cls in mk.FAMILIES.items():
        fam = cls()
        params = "probs (k categories)" if name == "categorical" else ", ".join(fam.params)
        support = "integers 0..k-1" if name == "categorical" else fam.support.describe()
        typer.echo(f"{name:<12} {params:<28} {support:<22} {cls.description}")


DEMO = (
    ("groundbeef.csv", "serving", ("normal", "lognormal", "gamma", "weibull")),
    ("faithful.csv", "waiting", ("normal", "gamma")),
    ("faithful.csv", "eruptions", ("lognormal",)),
)


@app.command()
def demo() -> None:
    """Fit several families to real data shipped with mlekit and print the summaries."""
    import mlekit as mk

    for filename, column, names in DEMO:
        path = resources.files("mlekit") / "data" / filename
        with resources.as_file(path) as p:
            x = read_column(str(p), column)
        typer.echo(f"=== {filename}: column {column!r} (n = {x.size}) ===\n")
        fits = [mk.fit(mk.family(name), x) for name in names]
        for f in fits:
            typer.echo(f.summary() + "\n")
        ranked = sorted(fits, key=lambda f: f.aic)
        ranking = ", ".join(f"{f.model_name} {f.aic:.1f}" for f in ranked)
        typer.echo(f"AIC (lower is better): {ranking}  ->  {ranked[0].model_name}\n")


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
