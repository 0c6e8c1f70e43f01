"""Arithmetic over parameter names, parsed safely: Python's ``ast`` and a whitelist, never eval.

``compile_expression("shape / rate", names)`` returns a function of the parameter dict built
from ``jax.numpy`` operations (so it can be differentiated for the delta method and Wald
tests); ``compile_equations("a - b = 0, c = 2", names)`` returns the vector of
``lhs - rhs``, the form in which hypotheses are tested.

Accepted: numbers; parameter names (a vector parameter indexed by integer literals,
``probs[0]``, ``cov[0, 1]``); ``+ - * / **`` and unary ``+ -``; parentheses; the functions in
:data:`FUNCTIONS`; the constants ``pi`` and ``e`` (a parameter of the same name wins). Anything
else (attributes, strings, comprehensions, lambdas, keyword arguments, comparisons ...) is a
:class:`~mlekit.ModelError` that names the offending piece. Parameter names that are Python
keywords (the Poisson's ``lambda``) are usable as they are.
"""

from __future__ import annotations

import ast
import io
import keyword
import math
import tokenize
from collections.abc import Callable, Mapping, Sequence

import jax.numpy as jnp
import jax.scipy.special as jss

from ._errors import ModelError

#: longer text is refused before parsing (deeply nested input can exhaust the parser)
MAX_LENGTH = 2000
#: deeper trees are refused: building and evaluating recurse once per level
MAX_DEPTH = 100

#: name -> (jax function, number of arguments)
FUNCTIONS: dict[str, tuple[Callable, int]] = {
    "log": (jnp.log, 1), "exp": (jnp.exp, 1), "sqrt": (jnp.sqrt, 1),
    "log1p": (jnp.log1p, 1), "expm1": (jnp.expm1, 1), "log10": (jnp.log10, 1),
    "abs": (jnp.abs, 1), "sin": (jnp.sin, 1), "cos": (jnp.cos, 1), "tan": (jnp.tan, 1),
    "arctan": (jnp.arctan, 1), "tanh": (jnp.tanh, 1),
    "gamma": (jss.gamma, 1), "lgamma": (jss.gammaln, 1), "digamma": (jss.digamma, 1),
    "erf": (jss.erf, 1), "erfc": (jss.erfc, 1),
    "ndtr": (jss.ndtr, 1), "pnorm": (jss.ndtr, 1), "ndtri": (jss.ndtri, 1),
    "qnorm": (jss.ndtri, 1), "logit": (jss.logit, 1), "expit": (jss.expit, 1),
    "min": (jnp.minimum, 2), "max": (jnp.maximum, 2),
}
CONSTANTS = {"pi": math.pi, "e": math.e}

_BINARY = {ast.Add: jnp.add, ast.Sub: jnp.subtract, ast.Mult: jnp.multiply,
           ast.Div: jnp.divide, ast.Pow: jnp.power}
_UNARY = {ast.UAdd: jnp.positive, ast.USub: jnp.negative}

#: what the node types that are refused are called in messages
_WHAT = {
    ast.Attribute: "attribute access", ast.Lambda: "a lambda", ast.Compare: "a comparison",
    ast.BoolOp: "a boolean operator", ast.IfExp: "a conditional expression",
    ast.ListComp: "a comprehension", ast.SetComp: "a comprehension",
    ast.DictComp: "a comprehension", ast.GeneratorExp: "a comprehension",
    ast.List: "a list", ast.Tuple: "a tuple", ast.Dict: "a dict", ast.Set: "a set",
    ast.Starred: "unpacking", ast.NamedExpr: "an assignment", ast.JoinedStr: "an f-string",
    ast.Await: "await", ast.Yield: "yield", ast.YieldFrom: "yield", ast.Slice: "a slice",
}


def compile_expression(text: str, names: Sequence[str]) -> Callable[[Mapping], object]:
    """Compile arithmetic over parameter names into a function of the parameter dict.

    Parameters
    ----------
    text : str
        The expression, e.g. ``"shape / rate"`` or ``"qnorm(0.9) * sd + mean"``.
    names : sequence of str
        The parameter names it may use.

    Returns
    -------
    callable
        ``f(params) -> jax array`` (a scalar unless a vector parameter is used whole), built
        from ``jax.numpy`` operations: it can be traced, jitted and differentiated.

    Raises
    ------
    ModelError
        On anything but the accepted grammar (module docstring), naming the offending piece.

    Examples
    --------
    >>> f = compile_expression("shape / rate", ["shape", "rate"])
    >>> float(f({"shape": 4.0, "rate": 2.0}))
    2.0
    >>> float(compile_expression("exp(lambda) - 1", ["lambda"])({"lambda": 0.0}))
    0.0
    """
    source, aliases = _prepare(text, names)
    return _compile(source, text, aliases, names)


def compile_equations(text: str, names: Sequence[str]) -> Callable[[Mapping], object]:
    """Compile hypotheses ``lhs = rhs`` (separated by commas or semicolons) into the vector
    function ``theta -> (lhs_1 - rhs_1, ..., lhs_r - rhs_r)``, zero exactly under the null.

    ``==`` is accepted for ``=``. An equation whose sides are vectors (a vector parameter used
    whole) contributes one entry per element.

    Examples
    --------
    >>> h = compile_equations("a - b = 0, c = 2", ["a", "b", "c"])
    >>> h({"a": 1.0, "b": 0.5, "c": 3.0}).tolist()
    [0.5, 1.0]
    """
    source, aliases = _prepare(text, names)
    sides = [(_compile(lhs, text, aliases, names), _compile(rhs, text, aliases, names))
             for lhs, rhs in _split_equations(source, text, aliases)]

    def equations(params: Mapping):
        return jnp.concatenate([jnp.ravel(jnp.subtract(f(params), g(params)))
                                for f, g in sides])

    return equations


# -- text -> tokens -> tree ------------------------------------------------------------------
def _prepare(text, names) -> tuple[str, dict[str, str]]:
    """Check the text and give parameters named like Python keywords (``lambda``) aliases that
    Python can parse: (rewritten text, {alias: name})."""
    if not isinstance(text, str):
        raise ModelError(f"an expression must be a string, e.g. 'shape / rate'; got {text!r}.")
    if not text.strip():
        raise ModelError("the expression is empty; write one over the parameters, "
                         "e.g. 'shape / rate'.")
    if len(text) > MAX_LENGTH:
        raise ModelError(f"the expression has {len(text)} characters; at most {MAX_LENGTH} "
                         "are accepted.")
    reserved = [n for n in names if keyword.iskeyword(n)]
    if not reserved:
        return text, {}
    aliases = {}
    for name in reserved:
        k = 0
        while (alias := f"{name}_{k}") in text or alias in names:
            k += 1
        aliases[name] = alias
    spans = [(start, end, aliases[s]) for kind, s, start, end in _tokens(text)
             if kind == tokenize.NAME and s in aliases]
    for start, end, alias in reversed(spans):
        text = text[:start] + alias + text[end:]
    return text, {a: n for n, a in aliases.items()}


def _tokens(text) -> list[tuple[int, str, int, int]]:
    """(type, string, start offset, end offset) of each token; [] where tokenizing fails (the
    parser then reports the syntax error)."""
    starts = [0]
    for line in text.splitlines(keepends=True):
        starts.append(starts[-1] + len(line))
    try:
        toks = list(tokenize.generate_tokens(io.StringIO(text).readline))
    except (tokenize.TokenError, SyntaxError):
        return []
    return [(t.type, t.string, starts[t.start[0] - 1] + t.start[1],
             starts[t.end[0] - 1] + t.end[1])
            for t in toks if t.type in (tokenize.NAME, tokenize.OP)]


def _short(text: str, width: int = 60) -> str:
    return text if len(text) <= width else text[: width - 3] + "..."


def _restore(snippet: str, aliases: Mapping[str, str]) -> str:
    for alias, name in aliases.items():
        snippet = snippet.replace(alias, name)
    return snippet


def _compile(source: str, original: str, aliases, names) -> Callable[[Mapping], object]:
    tree = _parse(source, original, aliases)
    if _depth(tree.body) > MAX_DEPTH:
        raise ModelError(f"{_short(original)!r} is nested more than {MAX_DEPTH} levels deep; "
                         "write it more simply.")
    return _Compiler(source.strip(), aliases, names).build(tree.body)


def _depth(node) -> int:
    """Depth of an expression tree, without recursion."""
    deepest, stack = 0, [(node, 1)]
    while stack:
        node, level = stack.pop()
        deepest = max(deepest, level)
        stack.extend((child, level + 1) for child in ast.iter_child_nodes(node))
    return deepest


def _parse(source: str, original: str, aliases) -> ast.Expression:
    try:
        return ast.parse(source.strip(), mode="eval")
    except SyntaxError as err:
        where = f" at {_short(_restore(err.text.strip(), aliases))!r}" if err.text else ""
        raise ModelError(
            f"cannot parse {_short(original)!r}: {err.msg}{where}. Write arithmetic over the "
            "parameter names, e.g. 'shape / rate' or 'log(sd) - 1'."
        ) from None
    except (RecursionError, MemoryError, ValueError):
        raise ModelError(f"cannot parse {_short(original)!r}: it is nested too deeply or "
                         "contains a null character.") from None


def _split_equations(source: str, original: str, aliases) -> list[tuple[str, str]]:
    """Cut at top-level commas / semicolons, then each piece at its one '=' (or '==')."""
    toks = _tokens(source)
    if not toks:
        _parse(source, original, aliases)  # raises the syntax error
    pieces, depth, start, eqs = [], 0, 0, []
    for kind, s, a, b in toks + [(tokenize.OP, ";", len(source), len(source))]:
        if kind != tokenize.OP:
            continue
        if s in ("(", "[", "{"):
            depth += 1
        elif s in (")", "]", "}"):
            depth -= 1
        elif depth == 0 and s in ("=", "=="):
            eqs.append((a, b))
        elif depth == 0 and s in (",", ";"):
            if source[start:a].strip() or eqs:
                pieces.append(_sides(source, start, a, eqs, original, aliases))
            start, eqs = b, []
    if not pieces:
        raise ModelError(f"{_short(original)!r} holds no equation; write 'name = value', e.g. "
                         "'shape = 1', several separated by commas.")
    return pieces


def _sides(source, start, end, eqs, original, aliases) -> tuple[str, str]:
    piece = _restore(source[start:end].strip(), aliases)
    if len(eqs) != 1:
        rule = "has no '='" if not eqs else f"has {len(eqs)} '=' signs"
        raise ModelError(
            f"hypothesis {_short(piece)!r} in {_short(original)!r} {rule}: each must be one "
            "equation 'lhs = rhs', e.g. 'shape = 1' or 'a - b = 0', several separated by commas."
        )
    (a, b), = eqs
    lhs, rhs = source[start:a], source[b:end]
    if not lhs.strip() or not rhs.strip():
        raise ModelError(f"hypothesis {_short(piece)!r} needs an expression on both sides of '='.")
    return lhs, rhs


# -- tree -> closures ------------------------------------------------------------------------
class _Compiler:
    """Turns an accepted expression tree into nested closures over the parameter dict."""

    def __init__(self, source: str, aliases: Mapping[str, str], names: Sequence[str]):
        self.source, self.aliases = source, aliases
        self.names = tuple(names)

    def build(self, node) -> Callable[[Mapping], object]:
        method = getattr(self, "_" + type(node).__name__.lower(), None)
        if method is None:
            self.refuse(node, _WHAT.get(type(node), type(node).__name__))
        return method(node)

    # messages
    def piece(self, node) -> str:
        segment = ast.get_source_segment(self.source, node) or ast.unparse(node)
        return _restore(segment, self.aliases)

    def refuse(self, node, what: str, rule: str | None = None):
        rule = rule or (
            "expressions may use numbers, the parameters "
            f"({', '.join(self.names)}), + - * / **, parentheses and the functions "
            f"{', '.join(FUNCTIONS)}"
        )
        example = f"log({self.names[0]}) + 1" if self.names else "log(2) + 1"
        raise ModelError(f"{what} {_short(self.piece(node))!r} is not allowed: {rule}. Write "
                         f"arithmetic over the parameters, e.g. {example!r}.")

    # accepted nodes
    def _constant(self, node):
        value = node.value
        if type(value) not in (int, float):  # bool, str, bytes, complex, None, Ellipsis
            self.refuse(node, "the constant", "only real numbers are constants here")
        try:
            value = float(value)
        except OverflowError:
            value = math.inf
        if not math.isfinite(value):
            self.refuse(node, "the number", "numbers must be finite")
        return lambda params: jnp.asarray(value, dtype=jnp.float64)

    def _name(self, node):
        name = self.aliases.get(node.id, node.id)
        if name in self.names:
            return lambda params: _lookup(params, name)
        if name in CONSTANTS:
            value = CONSTANTS[name]
            return lambda params: jnp.asarray(value, dtype=jnp.float64)
        rule = (f"a name must be one of the parameters ({', '.join(self.names)}) or the "
                "constants pi, e")
        if name in FUNCTIONS:
            rule = f"{name} is a function: call it, {name}(...)"
        self.refuse(node, "the name", rule)

    def _binop(self, node):
        op = _BINARY.get(type(node.op))
        if op is None:
            self.refuse(node, "the operator in", "the operators are + - * / ** only")
        left, right = self.build(node.left), self.build(node.right)
        return lambda params: op(left(params), right(params))

    def _unaryop(self, node):
        op = _UNARY.get(type(node.op))
        if op is None:
            self.refuse(node, "the operator in", "the unary operators are + and - only")
        operand = self.build(node.operand)
        return lambda params: op(operand(params))

    def _call(self, node):
        func = node.func
        if not isinstance(func, ast.Name) or self.aliases.get(func.id, func.id) not in FUNCTIONS:
            self.refuse(node, "the call", f"only these functions may be called: "
                        f"{', '.join(FUNCTIONS)}")
        fun, arity = FUNCTIONS[func.id]
        if node.keywords or any(isinstance(a, ast.Starred) for a in node.args):
            self.refuse(node, "the call", "functions take plain positional arguments")
        if len(node.args) != arity:
            self.refuse(node, "the call",
                        f"{func.id} takes {arity} argument{'s' if arity > 1 else ''}")
        args = [self.build(a) for a in node.args]
        return lambda params: fun(*(a(params) for a in args))

    def _subscript(self, node):
        if not isinstance(node.value, ast.Name):
            self.refuse(node, "the subscript", "only a parameter can be indexed, e.g. probs[0]")
        name = self.aliases.get(node.value.id, node.value.id)
        if name not in self.names:
            self.refuse(node, "the subscript",
                        f"only a parameter ({', '.join(self.names)}) can be indexed")
        items = node.slice.elts if isinstance(node.slice, ast.Tuple) else [node.slice]
        index = tuple(self._integer(item, node) for item in items)
        label = self.piece(node)

        def element(params):
            value = _lookup(params, name)
            shape = jnp.shape(value)
            if len(shape) != len(index) or not all(
                    -s <= i < s for i, s in zip(index, shape, strict=True)):
                raise ModelError(f"{label!r}: {name} has shape {shape}; index it with "
                                 f"{len(shape)} integer(s) within that shape.")
            return value[index]

        return element

    def _integer(self, item, node) -> int:
        sign = 1
        if isinstance(item, ast.UnaryOp) and isinstance(item.op, ast.USub):
            sign, item = -1, item.operand
        if not (isinstance(item, ast.Constant) and type(item.value) is int):
            self.refuse(node, "the subscript", "an index is an integer literal, e.g. probs[0]")
        return sign * item.value


def _lookup(params: Mapping, name: str):
    try:
        value = params[name]
    except KeyError:
        raise ModelError(f"the expression uses {name!r} but the parameters given are "
                         f"{list(params)}.") from None
    return jnp.asarray(value, dtype=jnp.float64)
