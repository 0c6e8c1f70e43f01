"""The catalogue's view of a family: what `mlekit families` prints."""

from __future__ import annotations

from dataclasses import asdict, dataclass

from .base import Family


@dataclass(frozen=True)
class FamilyInfo:
    """One row of the catalogue."""

    name: str
    cls: type
    params: tuple[str, ...]
    support: str
    kind: str
    exponential_family: bool
    regular: bool
    description: str
    formula: str

    def to_dict(self) -> dict:
        out = asdict(self)
        out["cls"] = self.cls.__name__
        out["params"] = list(self.params)
        return out


def describe(cls: type[Family]) -> FamilyInfo:
    try:
        support = cls.support_text or cls().support.describe()
    except TypeError:  # options without defaults (e.g. binomial's size): the class must say
        support = cls.support_text
    return FamilyInfo(
        name=cls.name,
        cls=cls,
        params=tuple(cls.PARAMS),
        support=support,
        kind=cls.kind,
        exponential_family=bool(cls.sufficient),
        regular=not (cls.boundary or cls.threshold_form),
        description=cls.description,
        formula=cls.formula,
    )


def markdown(infos) -> str:
    """The catalogue as the README's Markdown table (kept in sync by a test)."""
    rows = ["| family | class | parameters | support | density or mass function | "
            "exp. family | regular |", "| --- | --- | --- | --- | --- | --- | --- |"]
    for i in infos:
        rows.append(f"| {i.name} | `{i.cls.__name__}` | {', '.join(i.params)} | {i.support} | "
                    f"{i.formula.replace('|', '&#124;')} | "
                    f"{'yes' if i.exponential_family else 'no'} | {'yes' if i.regular else 'no'} |")
    return "\n".join(rows)


if __name__ == "__main__":  # python -m mlekit._families.catalogue: print the README table
    import mlekit

    print(markdown(mlekit.families()))
