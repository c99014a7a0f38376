"""A cache of validated tables, so that a run validates each export once.

Every step of a run loads the tables it needs (steps share only files), and
loading a large export (reading, mapping, parsing, the pandera contract, the
row rules) is the most expensive thing most steps do: at 20 million deals
about 50 s, three times per quarter. :func:`icp_helpers.data.loaders.load_project`
therefore keeps each validated table, with its quarantine and summary,
under ``<reports>/.cache/tables/`` and reuses it while nothing it was made
from has changed. Entries are uncompressed Arrow IPC files, read memory-mapped,
except the deals: they are a Parquet file (written by the engine when it
validated them) that ``Project.deals_table()`` queries in place, read into
pandas only when a step asks for the frame (:class:`~icp_helpers.data.tables.LoadedTable`).

An entry's key is the SHA-256 of everything the result depends on: the
contents of the input files (their own SHA-256, not dates or sizes), the
table's ``inputs`` section and the column preset it names, the ``aliases``,
the validated accounts (for tables checked against account ids), and the
versions of this package, pandas and pyarrow together with the source of the
loading code. A change to any of them is a miss and the table is validated
afresh. Tables holding Python objects that Arrow would not give back
unchanged (lists of keywords or patterns: interviews, codebook, manual codes)
are never cached; nor is anything when ``cache_tables: false``.

Writes go to a temporary folder renamed into place, so quarters run in
parallel never see half an entry; an entry that cannot be read is a miss,
and is removed so that the next load stores a good one.
Each table keeps its :data:`KEEP_PER_TABLE` most recently used entries.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import tempfile
from functools import cache
from pathlib import Path

import pandas as pd
import pyarrow as pa
import pyarrow.feather as feather
import pyarrow.parquet as pq

from .config import ProjectConfig
from .tables import LoadedTable, _display, _preset, write_rows

__all__ = ["CACHED_TABLES", "KEEP_PER_TABLE", "PARQUET_TABLES", "TableCache", "file_sha256"]

#: Tables worth caching: the large CRM tables, whose columns are all typed.
CACHED_TABLES = ("accounts", "deals", "contacts", "activities", "leads", "prospects")

#: Entries kept per table (the most recently used).
KEEP_PER_TABLE = 2

#: Bumped when the layout of an entry changes.
FORMAT = 3

#: The loading code: every module of this package the loaders import, directly or not
#: (a change to any of them may change a validated table, so it is a miss).
_CODE_FILES = (
    "config.py",
    "csv_records.py",
    "demographics.py",
    "engine.py",
    "engine_load.py",
    "engine_parse.py",
    "expressions.py",
    "formulas.py",
    "frames.py",
    "limits.py",
    "load_state.py",
    "loaders.py",
    "loading.py",
    "mapping.py",
    "parsing.py",
    "quarters.py",
    "reading.py",
    "regexes.py",
    "schema.py",
    "snapshot.py",
    "spelling.py",
    "table_cache.py",
    "tables.py",
    "transcripts.py",
    "wording.py",
)


@cache
def _code_digest() -> str:
    import pyarrow

    from .. import __version__

    digest = hashlib.sha256(f"{FORMAT} {__version__} {pd.__version__} {pyarrow.__version__}".encode())
    here = Path(__file__).parent
    for name in _CODE_FILES:
        digest.update((here / name).read_bytes())
    return digest.hexdigest()


def file_sha256(path: str | Path) -> str:
    """SHA-256 hex digest of a file, read in chunks."""
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        for chunk in iter(lambda: handle.read(1 << 22), b""):
            digest.update(chunk)
    return digest.hexdigest()


#: Tables kept as Parquet in their entry: the engine queries the file and
#: the steps read it into pandas only when asked (``LoadedTable.frame``).
PARQUET_TABLES = ("deals",)


def _write(frame: pd.DataFrame, path: Path) -> None:
    feather.write_feather(frame, path, compression="uncompressed")


def _read(path: Path) -> pd.DataFrame:
    return feather.read_table(path, memory_map=True).to_pandas()


def _cacheable(frame: pd.DataFrame) -> bool:
    """True when Arrow gives every column back with the same dtype (no Python objects)."""
    return not any(pd.api.types.is_object_dtype(dtype) for dtype in frame.dtypes)


class TableCache:
    """Validated tables of one project, on disk.

    Parameters
    ----------
    folder : str or Path
        Where the entries live, one sub-folder each.
    """

    def __init__(self, folder: str | Path):
        self.folder = Path(folder)

    @classmethod
    def for_config(cls, config: ProjectConfig) -> TableCache | None:
        """The cache of ``config`` (``<reports>/.cache/tables``), or None when turned off."""
        if not config.cache_tables:
            return None
        return cls(config.reports_path / ".cache" / "tables")

    def key(self, config: ProjectConfig, table: str, *, accounts_key: str | None = None) -> str | None:
        """The entry key of ``table`` loaded under ``config``; None when it is not cached.

        ``accounts_key`` is the key of the accounts table the rows were
        checked against (None when no accounts were loaded).
        """
        spec = config.inputs.get(table)
        if table not in CACHED_TABLES or spec is None or spec.table:
            return None  # an engine table has no file to hash: it is read afresh
        files = []
        for path in config.input_paths(table):
            if not path.is_file():
                return None  # a folder, or missing (which the loader reports)
            files.append([_display(config, path), file_sha256(path)])
        material = {
            "table": table,
            "code": _code_digest(),
            "spec": spec.model_dump(mode="json"),
            "preset": _preset(spec.preset) if spec.preset else None,
            "aliases": config.aliases,
            "files": files,
            "accounts": accounts_key,
        }
        text = json.dumps(material, sort_keys=True, default=str)
        return f"{table}-{hashlib.sha256(text.encode()).hexdigest()[:32]}"

    def get(self, key: str | None) -> LoadedTable | None:
        """The cached table of ``key``, or None (missing or unreadable)."""
        if key is None:
            return None
        entry = self.folder / key
        try:
            summary = json.loads((entry / "summary.json").read_text(encoding="utf-8"))
            quarantine = _read(entry / "quarantine.arrow")
            if (entry / "frame.parquet").is_file():
                pq.read_metadata(entry / "frame.parquet")  # a broken file fails here, not in a step
                loaded = LoadedTable(quarantine=quarantine, summary=summary, parquet=entry / "frame.parquet")
            else:
                loaded = LoadedTable(frame=_read(entry / "frame.arrow"), quarantine=quarantine, summary=summary)
        except (OSError, ValueError, NotImplementedError, pa.ArrowException):
            # complete entries appear by one rename, so this one is broken: make room for a new one
            shutil.rmtree(entry, ignore_errors=True)
            return None
        os.utime(entry)  # recently used: kept by the pruning
        return loaded

    def scratch(self) -> Path:
        """A new folder beside the entries, for a table written while it loads (see :meth:`put`)."""
        self.folder.mkdir(parents=True, exist_ok=True)
        return Path(tempfile.mkdtemp(prefix=".rows-", dir=self.folder))

    def put(self, key: str | None, loaded: LoadedTable) -> bool:
        """Store ``loaded`` under ``key``; False when it is not cacheable or cannot be written."""
        if key is None:
            return False
        # rows already in a Parquet file were typed by the engine; a frame is checked
        if not _cacheable(loaded.quarantine) or (loaded.materialised and not _cacheable(loaded.frame)):
            return False
        entry = self.folder / key
        as_parquet = loaded.summary.get("table") in PARQUET_TABLES
        try:
            self.folder.mkdir(parents=True, exist_ok=True)
            staging = Path(tempfile.mkdtemp(prefix=f".{key}-", dir=self.folder))
            moved = None
            if as_parquet and loaded.parquet is not None:
                moved = staging / "frame.parquet"
                shutil.move(loaded.parquet, moved)  # a rename within the cache folder
                loaded.parquet = moved
            elif as_parquet:
                write_rows(loaded.frame, staging / "frame.parquet")
            else:
                _write(loaded.frame, staging / "frame.arrow")
            _write(loaded.quarantine, staging / "quarantine.arrow")
            # summary last: an entry without it is incomplete and never read
            (staging / "summary.json").write_text(json.dumps(loaded.summary), encoding="utf-8")
            try:
                staging.rename(entry)
                if as_parquet:
                    loaded.parquet = entry / "frame.parquet"
            except OSError:  # another process stored the same entry first: use its file
                if moved is not None:
                    loaded.parquet = entry / "frame.parquet"
                shutil.rmtree(staging, ignore_errors=True)
        except (OSError, ValueError, TypeError, NotImplementedError, pa.ArrowException):
            return False
        self._prune(key.split("-", 1)[0], keep=entry)
        return True

    def _prune(self, table: str, *, keep: Path) -> None:
        entries = sorted(
            (p for p in self.folder.glob(f"{table}-*") if p.is_dir() and p != keep),
            key=lambda p: p.stat().st_mtime,
            reverse=True,
        )
        for stale in entries[KEEP_PER_TABLE - 1 :]:
            shutil.rmtree(stale, ignore_errors=True)


