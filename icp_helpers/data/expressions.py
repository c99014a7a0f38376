"""A small, safe expression language for ``derive`` in the project config.

Configs are shared between colleagues and copied from examples, so an
expression is data, never code: it is parsed with :mod:`ast` and only the
nodes below are evaluated, column by column over pandas Series. Anything
else (attribute access such as ``x.__class__``, subscripts, lambdas,
comprehensions, imports, calls of unknown functions, tuples) is refused with
an :class:`ExpressionError` naming the expression and the part refused.

What an expression may hold
---------------------------
* column names as mapped (``quantity``), or any header in backticks
  (```Unit Price```); ``index`` is the row's position in the table from 0;
* literals: numbers, ``'text'`` or ``"text"``, ``True``, ``False``, ``None``;
* arithmetic ``+ - * / // % **`` and unary minus; ``+`` joins text when either
  side is text (``country + '-' + city``), numbers written without ``.0``;
* comparisons ``== != < <= > >=`` (also chained), ``and``, ``or``, ``not``,
  ``&``, ``|``, ``~`` and ``a if condition else b``;
* the functions of :data:`FUNCTIONS`.

A text column whose values are mostly numbers counts as numbers in
arithmetic (the rows that are not are reported); joined as text it keeps its
own spelling (``0123`` stays ``0123``).
"""

from __future__ import annotations

import ast
import re
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
import pandas as pd

__all__ = ["ExpressionError", "FUNCTIONS", "evaluate", "names_in"]


class ExpressionError(ValueError):
    """An expression that is not allowed or cannot be evaluated; the message quotes it."""


_BACKTICK_RE = re.compile(r"`([^`]+)`")
_MAX_LENGTH = 2_000
_MAX_DEPTH = 100


@dataclass
class _Value:
    """A column or constant; ``text`` keeps the spelling of a column read as numbers."""

    data: object
    text: pd.Series | None = None

    def as_text(self, index: pd.Index) -> pd.Series | str | None:
        if self.text is not None:
            return self.text
        return _to_text(self.data, index)


def _is_text(value: object) -> bool:
    if isinstance(value, str):
        return True
    if isinstance(value, pd.Series):
        return pd.api.types.is_string_dtype(value.dtype) or (
            value.dtype == object
            and pd.api.types.infer_dtype(value, skipna=True) in ("string", "empty")
        )
    return False


def _number_text(value: float) -> str:
    return (
        str(int(value)) if float(value).is_integer() and abs(value) < 1e15 else repr(float(value))
    )


def _to_text(value: object, index: pd.Index) -> pd.Series | str | None:
    if value is None:
        return None
    if isinstance(value, pd.Series):
        if _is_text(value):
            return value.astype("string")
        if pd.api.types.is_datetime64_any_dtype(value.dtype):
            return value.dt.strftime("%Y-%m-%d").astype("string")
        if pd.api.types.is_bool_dtype(value.dtype):
            return value.map({True: "true", False: "false"}).astype("string")
        if pd.api.types.is_numeric_dtype(value.dtype):
            return value.map(_number_text, na_action="ignore").astype("string")
        return value.astype("string")
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int | float | np.number):
        return _number_text(float(value))
    return str(value)


def _numbers(value: object) -> object:
    if isinstance(value, pd.Series):
        if pd.api.types.is_bool_dtype(value.dtype):
            return value.astype("float64")
        if pd.api.types.is_numeric_dtype(value.dtype) or pd.api.types.is_datetime64_any_dtype(
            value.dtype
        ):
            return value
        return pd.to_numeric(value, errors="coerce")
    if isinstance(value, str):
        try:
            return float(value)
        except ValueError:
            return np.nan
    return value


def _dates(value: object):
    if isinstance(value, pd.Series):
        if pd.api.types.is_datetime64_any_dtype(value.dtype):
            return value
        return pd.to_datetime(value.astype("string"), errors="coerce", format="mixed")
    return pd.to_datetime(value, errors="coerce")


def _date_part(part: str) -> Callable:
    def apply(value):
        dates = _dates(value)
        if isinstance(dates, pd.Series):
            return dates.dt.day_name() if part == "day_name" else getattr(dates.dt, part)
        if pd.isna(dates):
            return None
        return dates.day_name() if part == "day_name" else getattr(dates, part)

    return apply


def _series(value: object, index: pd.Index) -> pd.Series:
    if isinstance(value, pd.Series):
        return value
    return pd.Series([value] * len(index), index=index, dtype=object if value is None else None)


def _text_fn(method: str, **options) -> Callable:
    def apply(value, *args):
        text = _to_text(value, None)
        if text is None:
            return None
        series = text if isinstance(text, pd.Series) else pd.Series([text], dtype="string")
        out = getattr(series.str, method)(*args, **options)
        return out if isinstance(text, pd.Series) else out.iloc[0]

    return apply


def _round(value, digits=0):
    return np.round(_numbers(value), int(digits))


def _rowwise(how: str) -> Callable:
    def apply(*values):
        series = [v for v in values if isinstance(v, pd.Series)]
        if not series:
            return {"min": min, "max": max}[how](_numbers(v) for v in values)
        index = series[0].index
        frame = pd.concat([_series(_numbers(v), index) for v in values], axis=1)
        return getattr(frame, how)(axis=1)

    return apply


def _coalesce(*values):
    out = None
    for value in values:
        if out is None:
            out = value
        elif isinstance(out, pd.Series):
            out = out.where(out.notna(), value)
    return out


def _where(condition, yes, no):
    index = next((v.index for v in (condition, yes, no) if isinstance(v, pd.Series)), None)
    if index is None:
        return yes if condition else no
    cond = _series(condition, index).fillna(False).astype(bool)
    return _series(yes, index).where(cond, _series(no, index))


def _split(value, sep, part=0):
    text = _to_text(value, None)
    series = text if isinstance(text, pd.Series) else pd.Series([text])
    pieces = series.str.split(str(sep), regex=False).str[int(part)]
    return pieces if isinstance(text, pd.Series) else pieces.iloc[0]


#: The functions an expression may call: name -> (callable, one-line description).
FUNCTIONS: dict[str, tuple[Callable, str]] = {
    "str": (lambda v: _to_text(v, None), "the value as text: str(zip) + '-' + city"),
    "number": (_numbers, "text read as a number (empty when it is not one)"),
    "float": (_numbers, "same as number"),
    "int": (lambda v: np.trunc(_numbers(v)), "the whole-number part"),
    "round": (_round, "round(x, digits=0)"),
    "abs": (lambda v: np.abs(_numbers(v)), "absolute value"),
    "min": (_rowwise("min"), "smallest of several values, row by row"),
    "max": (_rowwise("max"), "largest of several values, row by row"),
    "lower": (_text_fn("lower"), "text in lower case"),
    "upper": (_text_fn("upper"), "text in upper case"),
    "strip": (_text_fn("strip"), "text without surrounding spaces"),
    "len": (_text_fn("len"), "number of characters"),
    "left": (lambda v, n: _text_fn("slice")(v, 0, int(n)), "left(text, n): the first n characters"),
    "right": (lambda v, n: _text_fn("slice")(v, -int(n)), "right(text, n): the last n characters"),
    "contains": (
        lambda v, s: _text_fn("contains", regex=False)(v, str(s)),
        "contains(text, 'part')",
    ),
    "startswith": (lambda v, s: _text_fn("startswith")(v, str(s)), "startswith(text, 'prefix')"),
    "replace": (
        lambda v, a, b: _text_fn("replace", regex=False)(v, str(a), str(b)),
        "replace(text, 'old', 'new')",
    ),
    "split": (_split, "split(text, 'sep', part=0): one part of the text"),
    "isnull": (
        lambda v: pd.isna(v) if not isinstance(v, pd.Series) else v.isna(),
        "whether the value is missing",
    ),
    "coalesce": (_coalesce, "the first value that is not missing"),
    "where": (_where, "where(condition, value if true, value if false)"),
    "date": (_dates, "text read as a date"),
    "year": (_date_part("year"), "year of a date"),
    "month": (_date_part("month"), "month of a date (1-12)"),
    "day": (_date_part("day"), "day of the month"),
    "weekday": (_date_part("day_name"), "weekday name of a date"),
    "hour": (_date_part("hour"), "hour of a date with a time"),
    "raw": (
        None,
        "raw(column): a column's text exactly as read, before dates or numbers were parsed",
    ),
}

_COMPARE = {
    ast.Eq: lambda a, b: a == b,
    ast.NotEq: lambda a, b: a != b,
    ast.Lt: lambda a, b: a < b,
    ast.LtE: lambda a, b: a <= b,
    ast.Gt: lambda a, b: a > b,
    ast.GtE: lambda a, b: a >= b,
}
_ARITHMETIC = {
    ast.Add: lambda a, b: a + b,
    ast.Sub: lambda a, b: a - b,
    ast.Mult: lambda a, b: a * b,
    ast.Div: lambda a, b: a / b,
    ast.FloorDiv: lambda a, b: a // b,
    ast.Mod: lambda a, b: a % b,
    ast.Pow: lambda a, b: a**b,
}


def _parse(expression: str) -> tuple[ast.Expression, dict[str, str]]:
    if not isinstance(expression, str):
        raise ExpressionError(f"{expression!r}: an expression is text")
    if len(expression) > _MAX_LENGTH:
        raise ExpressionError(
            f"an expression of {len(expression):,} characters (at most {_MAX_LENGTH:,})"
        )
    quoted: dict[str, str] = {}

    def placeholder(match: re.Match) -> str:
        name = f"_col{len(quoted)}_"
        quoted[name] = match.group(1)
        return name

    source = _BACKTICK_RE.sub(placeholder, expression)
    try:
        tree = ast.parse(source.strip(), mode="eval")
    except SyntaxError as exc:
        raise ExpressionError(f"{expression!r} is not a valid expression ({exc.msg})") from None
    except (RecursionError, MemoryError):
        raise ExpressionError(f"{expression[:60]!r}...: nested too deeply") from None
    depth = _depth(tree.body)
    if depth > _MAX_DEPTH:
        raise ExpressionError(
            f"{expression[:60]!r}...: nested {depth} levels deep (at most {_MAX_DEPTH}); "
            "split it into several derived columns"
        )
    return tree, quoted


def _depth(node: ast.AST) -> int:
    """Nesting depth of an expression tree, without recursion (a chain a+a+...+a is deep)."""
    deepest, stack = 0, [(node, 1)]
    while stack:
        current, level = stack.pop()
        deepest = max(deepest, level)
        stack.extend((child, level + 1) for child in ast.iter_child_nodes(current))
    return deepest


def names_in(expression: str) -> set[str]:
    """The column names an expression refers to (plain and backticked)."""
    tree, quoted = _parse(expression)
    names = {n.id for n in ast.walk(tree) if isinstance(n, ast.Name)}
    return {quoted.get(n, n) for n in names} - set(FUNCTIONS)


def evaluate(
    expression: str,
    frame: pd.DataFrame,
    *,
    raw: pd.DataFrame | None = None,
    on_problem: Callable[[str, pd.Series], None] | None = None,
) -> pd.Series:
    """Evaluate ``expression`` over the columns of ``frame``, row by row (vectorised).

    Parameters
    ----------
    expression : str
        See the module docstring.
    frame : DataFrame
        The columns an expression may name (parsed values).
    raw : DataFrame, optional
        The same columns as read (text), for ``raw(column)``.
    on_problem : callable, optional
        Called with a reason and a boolean mask for rows of a text column
        used as numbers whose value is not a number.

    Returns
    -------
    Series
        One value per row of ``frame`` (a constant is repeated).

    Raises
    ------
    ExpressionError
        For anything not allowed, naming the expression and the part.
    """
    tree, quoted = _parse(expression)
    index = frame.index
    body = tree.body
    if isinstance(body, ast.Name) and quoted.get(body.id, body.id) in frame.columns:
        return frame[quoted.get(body.id, body.id)]  # a column as it is, not read as numbers
    walk = _Evaluation(expression, frame, raw=raw, on_problem=on_problem, quoted=quoted)
    with np.errstate(all="ignore"):
        result = walk.visit(tree).data
    if isinstance(result, pd.Series):
        if len(result) != len(index):
            raise ExpressionError(
                f"{expression!r}: gives {len(result)} values for {len(index)} rows"
            )
        return result.set_axis(index)
    if isinstance(result, str | int | float | bool | np.generic) or result is None:
        return _series(result, index)
    raise ExpressionError(f"{expression!r}: gives a {type(result).__name__}, not one value per row")


class _Scope:
    """What an expression reads: the frame's columns as values (cached), and its refusals."""

    def __init__(
        self,
        expression: str,
        frame: pd.DataFrame,
        *,
        raw: pd.DataFrame | None,
        on_problem: Callable[[str, pd.Series], None] | None,
        quoted: dict[str, str],
    ) -> None:
        self.expression = expression
        self.frame = frame
        self.raw = raw
        self.on_problem = on_problem
        self.quoted = quoted
        self.index = frame.index
        self.cache: dict[str, _Value] = {}

    def refuse(self, node: ast.AST, why: str):
        part = ast.unparse(node)
        for name, column in self.quoted.items():
            part = part.replace(name, f"`{column}`")
        raise ExpressionError(f"{self.expression!r}: {why} ({part!r})")

    def column(self, name: str, node: ast.AST) -> _Value:
        frame, index, cache = self.frame, self.index, self.cache
        if name in cache:
            return cache[name]
        if name not in frame.columns:
            if name == "index":
                return _Value(pd.Series(np.arange(len(index)), index=index))
            if name in FUNCTIONS:
                self.refuse(node, f"{name} is a function; call it as {name}(...)")
            available = ", ".join(map(str, frame.columns))
            self.refuse(node, f"no column {name!r}; columns available: {available}")
        values = frame[name]
        value = _Value(values)
        if _is_text(values):
            text = values.astype("string").str.strip().replace("", pd.NA)
            numbers = pd.to_numeric(text, errors="coerce")
            filled = int(text.notna().sum())
            if filled and numbers.notna().sum() >= 0.5 * filled:
                bad = text.notna() & numbers.isna()
                if bad.any() and self.on_problem is not None:
                    self.on_problem(f"non-numeric {name}", bad)
                value = _Value(numbers.astype("float64"), text=text)
            else:
                value = _Value(text)
        cache[name] = value
        return value


class _Evaluation(_Scope):
    """One evaluation of :func:`evaluate`: the walk over the expression's tree."""

    def visit(self, node: ast.AST) -> _Value:
        visit, refuse = self.visit, self.refuse
        if isinstance(node, ast.Expression):
            return visit(node.body)
        if isinstance(node, ast.Constant):
            if isinstance(node.value, str | int | float | bool) or node.value is None:
                return _Value(node.value)
            refuse(node, "only numbers, text, True, False and None are literals")
        if isinstance(node, ast.Name):
            if node.id in ("True", "False", "None"):
                return _Value({"True": True, "False": False, "None": None}[node.id])
            return self.column(self.quoted.get(node.id, node.id), node)
        if isinstance(node, ast.BinOp | ast.UnaryOp | ast.BoolOp | ast.Compare | ast.IfExp):
            return self.operation(node)
        if isinstance(node, ast.Call):
            return self.call(node)
        if isinstance(node, ast.Attribute):
            why = (
                "attributes of Python objects" if node.attr.startswith("__") else "attribute access"
            )
            refuse(node, f"{why} are not allowed; use a function from the documented list")
        if isinstance(node, ast.Tuple | ast.List | ast.Set | ast.Dict):
            refuse(node, "an expression gives one value per row, not a tuple or list")
        refuse(node, f"{type(node).__name__} is not allowed in an expression")
        raise AssertionError  # unreachable: refuse raises

    def operation(self, node: ast.AST) -> _Value:
        """Arithmetic, text joining, logic, comparisons and ``a if condition else b``."""
        visit, refuse, index = self.visit, self.refuse, self.index
        if isinstance(node, ast.BinOp):
            op = type(node.op)
            if op in (ast.BitAnd, ast.BitOr):
                left, right = visit(node.left).data, visit(node.right).data
                return _Value(_logical(left, right, op is ast.BitAnd, index))
            if op not in _ARITHMETIC:
                refuse(node, "operator not allowed")
            left, right = visit(node.left), visit(node.right)
            if op is ast.Add and (_is_text(left.data) or _is_text(right.data)):
                a, b = left.as_text(index), right.as_text(index)
                return _Value(_concat(a, b, index))
            return _Value(_ARITHMETIC[op](_numbers(left.data), _numbers(right.data)))
        if isinstance(node, ast.UnaryOp):
            value = visit(node.operand).data
            if isinstance(node.op, ast.USub):
                return _Value(-_numbers(value))
            if isinstance(node.op, ast.UAdd):
                return _Value(_numbers(value))
            if isinstance(node.op, ast.Not | ast.Invert):
                if isinstance(value, pd.Series):
                    return _Value(~value.fillna(False).astype(bool))
                return _Value(not value)
        if isinstance(node, ast.BoolOp):
            values = [visit(v).data for v in node.values]
            out = values[0]
            for value in values[1:]:
                out = _logical(out, value, isinstance(node.op, ast.And), index)
            return _Value(out)
        if isinstance(node, ast.Compare):
            left = visit(node.left).data
            out = None
            for op, right_node in zip(node.ops, node.comparators, strict=True):
                if type(op) not in _COMPARE:
                    refuse(node, "only == != < <= > >= compare")
                right = visit(right_node).data
                if not (_is_text(left) or _is_text(right)):
                    left, right = _numbers(left), _numbers(right)
                result = _COMPARE[type(op)](left, right)
                out = result if out is None else _logical(out, result, True, index)
                left = right
            return _Value(out)
        if isinstance(node, ast.IfExp):
            return _Value(
                _where(visit(node.test).data, visit(node.body).data, visit(node.orelse).data)
            )
        refuse(node, f"{type(node).__name__} is not allowed in an expression")
        raise AssertionError  # unreachable: refuse raises

    def call(self, node: ast.Call) -> _Value:
        """A call of a function of :data:`FUNCTIONS`, or ``raw(column)``."""
        refuse, quoted, frame, raw = self.refuse, self.quoted, self.frame, self.raw
        if not isinstance(node.func, ast.Name) or node.func.id not in FUNCTIONS:
            allowed = ", ".join(sorted(FUNCTIONS))
            refuse(node, f"only these functions may be called: {allowed}")
        if node.keywords:
            refuse(node, "functions take their values in order, without name=")
        name = node.func.id
        if name == "raw":
            if len(node.args) != 1 or not isinstance(node.args[0], ast.Name):
                refuse(node, "raw takes one column name")
            target = quoted.get(node.args[0].id, node.args[0].id)
            source = raw if raw is not None and target in raw.columns else frame
            if target not in source.columns:
                refuse(node, f"no column {target!r}")
            return _Value(source[target].astype("string"))
        args = [self.visit(a).data for a in node.args]
        try:
            return _Value(FUNCTIONS[name][0](*args))
        except TypeError as exc:
            refuse(node, f"wrong values for {name} ({exc})")
        raise AssertionError  # unreachable: refuse raises


def _logical(left, right, conjunction: bool, index: pd.Index):
    if not isinstance(left, pd.Series) and not isinstance(right, pd.Series):
        return (bool(left) and bool(right)) if conjunction else (bool(left) or bool(right))
    a = _series(left, index).fillna(False).astype(bool)
    b = _series(right, index).fillna(False).astype(bool)
    return a & b if conjunction else a | b


def _concat(a, b, index: pd.Index):
    if a is None or b is None:
        return pd.Series(pd.NA, index=index, dtype="string")
    if isinstance(a, pd.Series) or isinstance(b, pd.Series):
        return _series(a, index).astype("string") + _series(b, index).astype("string")
    return str(a) + str(b)
