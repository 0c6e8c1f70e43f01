"""The expression parser: numpy's values for the accepted grammar, ModelError for the rest."""

import math

import jax
import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy import special, stats

import mlekit
from mlekit._expr import compile_equations, compile_expression

NAMES = ["a", "b", "c", "probs"]
P = {"a": 1.7, "b": 0.35, "c": -2.4, "probs": np.array([0.2, 0.3, 0.5])}

CASES = [
    ("a + b * c", P["a"] + P["b"] * P["c"]),
    ("(a + b) * c", (P["a"] + P["b"]) * P["c"]),
    ("a / b - c ** 2", P["a"] / P["b"] - P["c"] ** 2),
    ("-a ** 2", -(P["a"] ** 2)),  # Python precedence: unary minus binds looser than **
    ("+a - -b", P["a"] + P["b"]),
    ("2 ** -1", 0.5),
    ("a ** b ** 2", P["a"] ** (P["b"] ** 2)),  # ** is right-associative
    ("1e-3 * a + 7", 1e-3 * P["a"] + 7),
    ("log(a) + exp(b) + sqrt(a)", np.log(P["a"]) + np.exp(P["b"]) + np.sqrt(P["a"])),
    ("log1p(b) - expm1(b) + log10(a)", np.log1p(P["b"]) - np.expm1(P["b"]) + np.log10(P["a"])),
    ("abs(c) + sin(c) * cos(a) / tan(b)",
     abs(P["c"]) + np.sin(P["c"]) * np.cos(P["a"]) / np.tan(P["b"])),
    ("arctan(c) + tanh(c)", np.arctan(P["c"]) + np.tanh(P["c"])),
    ("gamma(a) + gamma(-0.5)", special.gamma(P["a"]) + special.gamma(-0.5)),
    ("lgamma(a) + digamma(a)", special.gammaln(P["a"]) + special.digamma(P["a"])),
    ("erf(b) + erfc(b)", 1.0),
    ("pnorm(c) + ndtr(b)", stats.norm.cdf(P["c"]) + stats.norm.cdf(P["b"])),
    ("qnorm(0.975) * a + ndtri(b)", stats.norm.ppf(0.975) * P["a"] + stats.norm.ppf(P["b"])),
    ("logit(b) + expit(c)", special.logit(P["b"]) + special.expit(P["c"])),
    ("min(a, b) + max(a, c)", min(P["a"], P["b"]) + max(P["a"], P["c"])),
    ("pi * a + e", math.pi * P["a"] + math.e),
    ("probs[0] / probs[-1] + probs[1]", 0.2 / 0.5 + 0.3),
    ("  a\t+ b  ", P["a"] + P["b"]),
]


@pytest.mark.parametrize(("text", "expected"), CASES, ids=[c[0] for c in CASES])
def test_expressions_equal_numpy(text, expected):
    value = compile_expression(text, NAMES)(P)
    np.testing.assert_allclose(float(value), expected, rtol=1e-13)


def test_expression_is_traceable_and_differentiable():
    f = compile_expression("shape / rate", ["shape", "rate"])
    grad = jax.grad(lambda s: f({"shape": s, "rate": 2.0}))(3.0)
    assert float(grad) == 0.5
    assert float(jax.jit(lambda p: f(p))({"shape": 3.0, "rate": 2.0})) == 1.5


def test_vector_parameter_used_whole_and_matrix_index():
    f = compile_expression("2 * probs", ["probs"])
    np.testing.assert_array_equal(np.asarray(f(P)), 2 * P["probs"])
    cov = np.array([[1.0, 0.3], [0.3, 2.0]])
    g = compile_expression("cov[0, 1] / sqrt(cov[0, 0] * cov[1, 1])", ["cov"])
    assert float(g({"cov": cov})) == pytest.approx(0.3 / math.sqrt(2.0), rel=1e-15)


def test_parameter_names_that_are_python_keywords():
    # the Poisson's parameter is 'lambda', which Python cannot parse as a name
    f = compile_expression("exp(-lambda) * lambda ** 2 / 2", ["lambda"])
    assert float(f({"lambda": 3.0})) == pytest.approx(stats.poisson.pmf(2, 3.0), rel=1e-14)
    h = compile_equations("lambda = 2", ["lambda"])
    assert np.asarray(h({"lambda": 3.0})).tolist() == [1.0]
    with pytest.raises(mlekit.ModelError, match="lambda"):
        compile_expression("lambda: 1", ["lambda"])


def test_parameters_shadow_constants_and_function_names():
    # the zero-inflated Poisson's 'pi' is a parameter, not 3.14159
    assert float(compile_expression("pi", ["pi"])({"pi": 0.25})) == 0.25
    assert float(compile_expression("gamma(2) + gamma", ["gamma"])({"gamma": 0.5})) == 1.5


def test_equations():
    h = compile_equations("a - b = 0, c = 2; max(a, b) == 1", NAMES)
    np.testing.assert_allclose(np.asarray(h(P)), [P["a"] - P["b"], P["c"] - 2, P["a"] - 1])
    assert np.asarray(compile_equations("probs = 0.5", NAMES)(P)).shape == (3,)
    assert np.asarray(compile_equations("a = 1,", NAMES)(P)).shape == (1,)


@pytest.mark.parametrize(("text", "match"), [
    ("a", "no '='"),
    ("a = b = 1", "2 '=' signs"),
    ("a = ", "both sides"),
    ("= 1", "both sides"),
    (" , ; ", "no equation"),
    ("a <= 1", "no '='"),
    ("a = 1, b", "no '='"),
])
def test_bad_equations(text, match):
    with pytest.raises(mlekit.ModelError, match=match):
        compile_equations(text, NAMES)


MALICIOUS = [
    "__import__('os')",
    "__import__('os').system('echo hi')",
    "().__class__",
    "().__class__.__bases__[0].__subclasses__()",
    "x.real",
    "a.real",
    "lambda: 1",
    "[x for x in y]",
    "(x for x in y)",
    "'a'",
    "b'a'",
    "f'{a}'",
    "open('f')",
    "eval('1')",
    "exec('1')",
    "getattr(a, 'real')",
    "log(a, base=2)",
    "log(*probs)",
    "import os",
    "a; import os",
    "a if b else c",
    "a < b",
    "a and b",
    "not a",
    "~a",
    "a % 2",
    "a // 2",
    "a @ b",
    "a << 1",
    "(a := 1)",
    "[a, b]",
    "(a, b)",
    "{a: b}",
    "{a}",
    "probs[0:2]",
    "probs[a]",
    "probs[0.5]",
    "[1, 2][0]",
    "log",
    "unknown + 1",
    "__builtins__",
    "True + a",
    "None",
    "1j * a",
    "1e999",
    "...",
    "a.__class__",
    "log.__globals__",
    "(" * 300 + "a" + ")" * 300,
    "-" * 1000 + "a",
    "a + " * 400 + "a",
    "a +",
    "",
    "a" * 3000,
]


@pytest.mark.parametrize("text", MALICIOUS)
def test_malicious_input_is_refused(text):
    with pytest.raises(mlekit.ModelError):
        compile_expression(text, ["a", "b", "c", "probs"])(P)


def test_refusal_names_the_piece_the_rule_and_the_fix():
    with pytest.raises(mlekit.ModelError) as err:
        compile_expression("log(a) + a.real", ["a"])
    message = str(err.value)
    assert "'a.real'" in message and "attribute" in message and "e.g." in message
    with pytest.raises(mlekit.ModelError, match=r"one of the parameters \(shape, rate\)"):
        compile_expression("shape / scale", ["shape", "rate"])
    with pytest.raises(mlekit.ModelError, match="log takes 1 argument"):
        compile_expression("log(a, 2)", ["a"])
    with pytest.raises(mlekit.ModelError, match="shape"):
        compile_expression("probs[3]", ["probs"])(P)
    with pytest.raises(mlekit.ModelError, match="parameters given"):
        compile_expression("a + b", ["a", "b"])({"a": 1.0})
    with pytest.raises(mlekit.ModelError, match="string"):
        compile_expression(1.0, ["a"])


# -- property: random arithmetic trees ----------------------------------------------------------
# + - * / and negation are exactly rounded in IEEE arithmetic, so the compiled expression and
# numpy must agree to the last bit (leaves stay away from subnormals, which XLA may flush)
LEAF_NAMES = ["a", "b", "c"]
VALUES = {"a": 1.7, "b": 0.35, "c": -2.4}
BINARY = {"+": np.add, "-": np.subtract, "*": np.multiply, "/": np.divide}

leaves = st.one_of(
    st.sampled_from(LEAF_NAMES).map(lambda n: (n, np.float64(VALUES[n]))),
    st.floats(-100, 100).filter(lambda v: v == 0 or abs(v) > 1e-3)
      .map(lambda v: (repr(v), np.float64(v))),
)


def _apply(op, x, y=None):
    with np.errstate(all="ignore"):
        return BINARY[op](x, y) if y is not None else np.negative(x)


def _grow(children):
    negation = children.map(lambda t: (f"-({t[0]})", _apply("-", t[1])))
    binary = st.tuples(st.sampled_from(sorted(BINARY)), children, children).map(
        lambda t: (f"({t[1][0]}) {t[0]} ({t[2][0]})", _apply(t[0], t[1][1], t[2][1])))
    return st.one_of(negation, binary)


trees = st.recursive(leaves, _grow, max_leaves=12)


@settings(max_examples=200, deadline=None, derandomize=True)
@given(trees)
def test_random_trees_equal_direct_computation(tree):
    text, expected = tree
    value = np.asarray(compile_expression(text, LEAF_NAMES)(VALUES))
    np.testing.assert_array_equal(value, expected)
