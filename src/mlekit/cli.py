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
    option: Annotated[list[str] | None, typer.Option(
        "--option", "-o", help="Family option KEY=VALUE, e.g. -o size=10 for the binomial.")
    ] = None,
) -> None:
    """Fit the family DIST to one column of FILE and print the result."""
    import mlekit as mk

    try:
        model = mk.family(dist, **_options(option or []))
        x = read_column(file, column, dropna=dropna)
        result = mk.fit(model, x)
        if as_json:
            typer.echo(json.dumps(result.to_dict(), indent=2))
        else:
            typer.echo(result.summary(level=level))
    except mk.MlekitError as err:
        _fail(str(err))
    except Exception as err:  # a bug of ours: still one line, never a traceback
        _fail(f"internal error ({type(err).__name__}: {err}); please report it with the command.")


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
