"""Size limits that keep a broken or hostile input from hanging a run.

Every YAML file the project reads (the config, codebooks, presets, the front
matter of transcripts) goes through :func:`load_yaml`, which counts the
aliases (``*name``) before building anything: a few lines of nested aliases
(a "billion laughs" file) expand to millions of values downstream. Tables
wider than ``limits.max_columns`` are refused before any per-column work, and
cells longer than ``limits.max_cell_chars`` are reported (kept whole).
The numbers themselves live in the config (``limits:``, see ``config.py``).
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import yaml

__all__ = ["DEFAULT_MAX_ALIASES", "YamlError", "count_aliases", "load_yaml", "long_cells"]

#: Aliases per YAML file when no config says otherwise (``limits.yaml_max_aliases``).
DEFAULT_MAX_ALIASES = 100


class YamlError(ValueError):
    """A YAML file that is not valid, uses Python tags, or has too many aliases."""


def count_aliases(text: str) -> int:
    """Aliases (``*name``) in a YAML text, counted from the parser's events (nothing expanded)."""
    return sum(isinstance(event, yaml.AliasEvent) for event in yaml.parse(text))


def load_yaml(text: str, *, source: str, max_aliases: int | None = DEFAULT_MAX_ALIASES):
    """``yaml.safe_load`` with an alias limit and one error type naming ``source``.

    Raises
    ------
    YamlError
        Invalid YAML, a tag such as ``!!python/object`` that safe loading
        refuses, or more than ``max_aliases`` aliases.
    """
    try:
        if max_aliases is not None:
            aliases = count_aliases(text)
            if aliases > max_aliases:
                raise YamlError(
                    f"{source}: {aliases:,} YAML aliases (*name), more than the limit of "
                    f"{max_aliases:,} (limits.yaml_max_aliases); nested aliases can expand to "
                    "millions of values, so the file was not read"
                )
        return yaml.safe_load(text)
    except yaml.constructor.ConstructorError as exc:
        raise YamlError(
            f"{source}: not plain YAML data ({exc.problem}"
            f"{', line ' + str(exc.problem_mark.line + 1) if exc.problem_mark else ''}); "
            "tags such as !!python/... are not allowed"
        ) from None
    except yaml.YAMLError as exc:
        raise YamlError(f"{source}: not valid YAML: {exc}") from None


def long_cells(frame: pd.DataFrame, *, max_chars: int) -> list[tuple[str, np.ndarray]]:
    """``(column, positions)`` of text cells longer than ``max_chars`` (vectorised per column)."""
    found = []
    for column in frame.columns:
        values = frame[column]
        if values.dtype == object:
            if pd.api.types.infer_dtype(values, skipna=True) != "string":
                continue  # lists (codebook keywords) or typed values
        elif not pd.api.types.is_string_dtype(values.dtype):
            continue
        lengths = values.str.len()
        over = (lengths > max_chars).fillna(False).to_numpy(dtype=bool)
        if over.any():
            found.append((str(column), np.flatnonzero(over)))
    return found
