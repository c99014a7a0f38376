"""Column mapping: the file's headers matched to the canonical columns (presets, aliases, name variants) and the message when some are missing."""

from __future__ import annotations

import difflib
import re
from collections import Counter

from .config import ConfigError, InputSpec, ProjectConfig
from .reading import LoadError, _separator_guess
from .schema import TABLE_SPECS, ColumnSpec
from .tables import _preset

__all__ = ["column_mapping"]


# --------------------------------------------------------------------------- mapping


def _norm(name: str) -> str:
    return re.sub(r"\s+", " ", str(name)).strip().casefold()


def _snake(name: str) -> str:
    return re.sub(r"[^0-9a-z]+", "_", str(name).casefold()).strip("_")


def _preset_section(config: ProjectConfig | None, spec: InputSpec, table: str) -> dict:
    if not spec.preset:
        return {}
    name = spec.preset
    if name.lower().endswith((".yml", ".yaml")) and config is not None:
        name = str((config.base_dir / name).resolve())
    section = _preset(name)["tables"].get(table)
    if section is None:
        raise ConfigError(
            f"inputs.{table}.preset: preset {spec.preset!r} has no section for {table} "
            f"(it covers {', '.join(_preset(name)['tables'])})"
        )
    return section


def column_mapping(
    headers: list[str],
    *,
    table: str,
    columns: dict[str, str] | None = None,
    preset: dict | None = None,
    source: str = "",
) -> tuple[dict[str, str], list[str]]:
    """Map a file's headers onto canonical names.

    In order of precedence: the config's ``columns`` (export name ->
    canonical name), the preset (canonical name -> candidate headers, the
    first present wins), then headers that spell a canonical name of the
    table differently (``Close Date`` -> ``close_date``). Headers match
    ignoring case and repeated spaces.

    Returns
    -------
    mapping : dict
        Header -> new name, only for headers that are renamed.
    unmatched : list of str
        Names under ``columns`` that the file does not have.
    """
    headers = list(headers)
    present = set(headers)
    by_norm: dict[str, str] = {}
    for header in headers:
        by_norm.setdefault(_norm(header), header)
    mapping: dict[str, str] = {}
    unmatched = []
    for export, target in (columns or {}).items():
        header = export if export in present else by_norm.get(_norm(export))
        if header is None:
            unmatched.append(export)
            continue
        mapping[header] = target
    for target, candidates in ((preset or {}).get("columns") or {}).items():
        if target in mapping.values() or target in present:
            continue
        for candidate in [candidates] if isinstance(candidates, str) else candidates:
            header = by_norm.get(_norm(candidate))
            if header is not None and header not in mapping:
                mapping[header] = target
                break
    canonical = set(TABLE_SPECS[table].names)
    for header in headers:
        snake = _snake(header)
        if (
            header not in mapping
            and header not in canonical
            and snake in canonical
            and snake not in present
            and snake not in mapping.values()
        ):
            mapping[header] = snake
    mapping = {h: t for h, t in mapping.items() if h != t}
    targets = Counter(mapping.values())
    for target, n in targets.items():
        sources = [h for h, t in mapping.items() if t == target]
        if n > 1:
            raise LoadError(
                f"{source}: columns {', '.join(map(repr, sources))} would all become {target!r}; "
                f"map only one of them to {target} under inputs.{table}.columns"
            )
        if target in present and target not in mapping:
            raise LoadError(
                f"{source}: {sources[0]!r} is mapped to {target!r} but the file already has a "
                f"column {target!r}; map one of them to another name under inputs.{table}.columns"
            )
    return mapping, unmatched


def _missing_message(name, table, missing, headers, spec: InputSpec, unmatched) -> str:
    needs = ", ".join(TABLE_SPECS[table].required)
    headers = [str(h) for h in headers]
    lines = [
        f"{name}: required column {', '.join(map(repr, missing))} missing "
        f"({table} need {needs}, after inputs.{table}.columns and preset mapping)."
    ]
    lines.append(f"The file's columns are: {', '.join(headers) if headers else '(none)'}.")
    if len(headers) == 1 and (guess := _separator_guess(headers[0])):
        lines.append(
            f"The header reads as one column, so the separator was not recognised: the columns "
            f"look separated by {guess}; set inputs.{table}.delimiter."
        )
    for column in missing:
        close = difflib.get_close_matches(
            column, headers, n=1, cutoff=0.5
        ) or difflib.get_close_matches(
            column.replace("_", " "), [h.lower() for h in headers], n=1, cutoff=0.5
        )
        if close:
            lines.append(
                f"{close[0]!r} looks close to {column}: map it with "
                f"inputs.{table}.columns: {{{close[0]!r}: {column}}}."
            )
    mapped_away = [k for k, v in spec.columns.items() if v in missing and k in unmatched]
    if mapped_away:
        lines.append(
            f"inputs.{table}.columns maps {', '.join(map(repr, mapped_away))}, which the file "
            "does not have."
        )
    lines.append("Map a column, derive it (derive:) or give a constant (defaults:).")
    return " ".join(lines)


def _secondary(table: str, column: ColumnSpec) -> bool:
    """An optional field (or a firmographic an account may lack): a bad value blanks the cell.

    Setting the row aside would lose more than the field: an account with an
    impossible ``churned_date`` would take its deals with it.
    """
    if column.not_null:
        return False
    return not column.required or table in ("accounts", "prospects", "customers")


