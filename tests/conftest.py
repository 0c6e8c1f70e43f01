"""Shared fixtures: the reference datasets in ../shared/data (exported from R)."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest

SHARED_DATA = Path(__file__).resolve().parents[2] / "shared" / "data"
BUNDLED_DATA = Path(__file__).resolve().parents[1] / "src" / "mlekit" / "data"


def shared_csv(name: str) -> pd.DataFrame:
    path = SHARED_DATA / name
    if not path.exists():  # the bundled copy serves where shared/ is not beside the checkout
        path = BUNDLED_DATA / name
    return pd.read_csv(path)


@pytest.fixture(scope="session")
def groundbeef():
    return shared_csv("groundbeef.csv")["serving"].to_numpy(dtype=float)


@pytest.fixture(scope="session")
def abbey():
    return shared_csv("abbey.csv")["abbey"].to_numpy(dtype=float)


def problems(fit) -> list[str]:
    """Codes of the diagnostics that say a fit or its inference failed: not advice (notes),
    and not the misspecification warning, which real data may well earn."""
    return [d.code for d in fit.diagnostics if d.severity != "note" and d.code != "misspecified"]


def reference_block(path, title_start: str) -> dict:
    """From an R reference output of "==== title ====" blocks of "key v1 v2 ..." lines, the
    block whose title starts with ``title_start``, as {key: array}."""
    import re

    import numpy as np

    blocks = re.split(r"^==== (.*) ====$", Path(path).read_text(), flags=re.M)
    for title, body in zip(blocks[1::2], blocks[2::2], strict=True):
        if title.startswith(title_start):
            return {line.split()[0]: np.array([float(v) for v in line.split()[1:]])
                    for line in body.strip().splitlines()}
    raise KeyError(title_start)

