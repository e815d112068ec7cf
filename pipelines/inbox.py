"""Reading the inbox: which files are there, their content hash, and their rows as text.

Files are only ever read: the inbox is never written, moved or deleted.
"""

from __future__ import annotations

import gzip
import hashlib
import io
import re
from dataclasses import dataclass
from pathlib import Path

import polars as pl

from transforms.adapters import classify_source
from transforms.datasets import COLUMN_NAMES, ITEM_COLUMN, classify_file_name
from transforms.screening import column_label, name_holds_contact_details

ROW_NUMBER = "source_row"  # added by `read_table`: a file's own column of that name is refused, not overwritten
# Names taken as they are in lower case (`pArticipant_iD` is `participant_id`) before camelCase words are looked for.
KNOWN_NAMES = COLUMN_NAMES | {"responses", ROW_NUMBER}


class UnreadableFile(Exception):
    """The file cannot be read as its name says; the message is the reason recorded in `ops.files`."""


@dataclass(frozen=True)
class InboxFile:
    path: Path
    file_name: str  # relative to the inbox, with forward slashes; stand-in when the name is withheld
    dataset: str | None
    format: str | None
    is_name_withheld: bool = False  # the name looks like it holds contact details: recorded by a stand-in only
    leaves_inbox: bool = False  # a symbolic link to a file outside the inbox: never read, rejected

    def digest(self) -> str:
        """The SHA-256 of the file's bytes; for a link leaving the inbox, of where it points (its target is never
        read), so that it is recorded once, not every night."""
        if self.leaves_inbox:
            return hashlib.sha256(f"link to {self.path.resolve()}".encode()).hexdigest()
        return sha256_of(self.path)


def list_inbox(inbox: Path) -> list[InboxFile]:
    """Every regular file below the inbox, in name order (hidden files and folders are skipped). A name that looks
    like it holds an email address or phone number is never recorded: the file goes by a stand-in, `withheld name`
    and the start of its content's digest (the same every night, and no clue to the name). A symbolic link whose
    target lies outside the inbox is listed as leaving it, to be rejected unread."""
    files = []
    real_inbox = inbox.resolve()
    for path in sorted(p for p in inbox.rglob("*") if p.is_file()):
        relative = path.relative_to(inbox).as_posix()
        if any(part.startswith(".") for part in relative.split("/")):
            continue
        dataset, file_format = classify_source(path.name) or classify_file_name(path.name)  # source: a dataset
        leaves_inbox = not path.resolve().is_relative_to(real_inbox)
        listed = InboxFile(path, relative, dataset, file_format, leaves_inbox=leaves_inbox)
        if name_holds_contact_details(relative):
            stand_in = f"withheld name {listed.digest()[:12]}"
            listed = InboxFile(path, stand_in, dataset, file_format, True, leaves_inbox)
        files.append(listed)
    return files


def sha256_of(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def _text_bytes(path: Path, compressed: bool) -> bytes:
    data = path.read_bytes()
    if compressed:
        try:
            data = gzip.decompress(data)
        except (OSError, EOFError) as error:
            raise UnreadableFile("not a readable gzip file") from error
    try:
        data.decode("utf-8")
    except UnicodeDecodeError as error:
        raise UnreadableFile(f"not UTF-8 text (byte {error.start})") from error
    return data.removeprefix(b"\xef\xbb\xbf")


def _as_text(frame: pl.DataFrame) -> pl.DataFrame:
    """Every column as text, timestamps in RFC 3339, so that one parser (staging SQL) types them all."""
    columns = []
    for position, (name, dtype) in enumerate(frame.schema.items(), 1):
        if dtype.is_nested():
            raise UnreadableFile(f"{column_label(name, position)} holds lists or objects, not single values")
        column = pl.col(name)
        if isinstance(dtype, pl.Datetime):
            pattern = "%Y-%m-%dT%H:%M:%S%.f%:z" if dtype.time_zone else "%Y-%m-%dT%H:%M:%S%.f"
            column = column.dt.to_string(pattern)
        elif dtype == pl.Date:
            column = column.dt.to_string("%Y-%m-%d")
        columns.append(column.cast(pl.String).str.strip_chars().replace("", None).alias(name))
    return frame.select(columns)


def _column_name(name: str) -> str:
    """Lower case, with spaces and hyphens between words written `_` (a spreadsheet's `Participant ID` is
    `participant_id`): a known name or item number in any case as it is (`pArticipant_iD` is `participant_id`), any
    other with the words of a camelCase name apart (`ParticipantID` is `participant_id`, and `NextOfKinPhone` is
    `next_of_kin_phone`, which the screen then knows for a phone number)."""
    words = re.sub(r"[\s-]+", "_", name.strip())
    if words.lower() in KNOWN_NAMES or ITEM_COLUMN.match(words.lower()):
        return words.lower()
    return re.sub(r"(?<=[a-z0-9])(?=[A-Z])", "_", words).lower()


def _csv_header(columns: list[str]) -> list[str]:
    """The names as the file's header has them: polars reads a repeated name as `<name>_duplicated_<n>`, which
    would let a second `site_id` column pass unnoticed. Blank names keep polars' names, so that a spreadsheet's
    empty trailing columns still read."""
    header = []
    for name in columns:
        first = re.sub(r"_duplicated_\d+$", "", name)
        header.append(first if first and first in columns else name)
    return header


def _with_column_names(frame: pl.DataFrame, names: list[str]) -> pl.DataFrame:
    """Renamed, with item numbers written without leading zeros (`item_01` is item 1); two columns may not end up
    with the same name, and none may take the name of the row number."""
    names = [f"item_{int(match.group(1))}" if (match := ITEM_COLUMN.match(name)) else name for name in names]
    if ROW_NUMBER in names:
        position = names.index(ROW_NUMBER) + 1
        raise UnreadableFile(
            f"column {position} is named {ROW_NUMBER!r}, which is reserved (the loader numbers rows in it)"
        )
    repeated = next((position for position, name in enumerate(names, 1) if name in names[: position - 1]), None)
    if repeated:
        label = column_label(names[repeated - 1], repeated)
        raise UnreadableFile(f"{label} appears more than once (names are case-insensitive)")
    return frame.rename(dict(zip(frame.columns, names, strict=True)))


def _flatten_responses(frame: pl.DataFrame) -> pl.DataFrame:
    """JSON lines carry items as `"responses": {"1": 5, ...}`: spread them into item_1 … item_N columns."""
    if "responses" not in frame.columns:
        return frame
    responses = frame.get_column("responses")
    if not isinstance(responses.dtype, pl.Struct):
        raise UnreadableFile("`responses` must be an object of item number to answer")
    items = responses.struct.unnest()
    names = [f"item_{name.strip()}" for name in items.columns]
    if any(not ITEM_COLUMN.match(name) for name in names):
        raise UnreadableFile("`responses` keys must be item numbers")
    others = frame.drop("responses")
    return _with_column_names(pl.concat([others, items], how="horizontal"), others.columns + names)


def read_table(inbox_file: InboxFile) -> pl.DataFrame:
    """The file's rows with lower-cased column names (camelCase words apart, item numbers without leading zeros),
    every value as text (blank → null), and `source_row` (1-based data row)."""
    fmt = inbox_file.format or ""
    try:
        if fmt == ".parquet":
            frame = pl.read_parquet(inbox_file.path)
        elif fmt.startswith(".csv"):
            data = _text_bytes(inbox_file.path, fmt.endswith(".gz"))
            frame = pl.read_csv(io.BytesIO(data), infer_schema=False, truncate_ragged_lines=False)
        elif fmt.startswith(".jsonl"):
            data = _text_bytes(inbox_file.path, fmt.endswith(".gz"))
            frame = pl.read_ndjson(io.BytesIO(data), infer_schema_length=None) if data.strip() else pl.DataFrame()
        else:
            raise UnreadableFile("unknown extension (expected .csv, .jsonl or .parquet, optionally .gz)")
    except UnreadableFile:
        raise
    except Exception as error:  # the readers raise many types for a malformed file; all mean "unreadable"
        # The reader's own message can quote the file's content, so only its kind is recorded.
        raise UnreadableFile(f"cannot be parsed as {fmt.lstrip('.')} ({type(error).__name__})") from error
    header = _csv_header(frame.columns) if fmt.startswith(".csv") else frame.columns
    try:
        frame = _as_text(_flatten_responses(_with_column_names(frame, [_column_name(c) for c in header])))
    except pl.exceptions.PolarsError as error:  # a shape not foreseen above: still the file's fault, and said so
        raise UnreadableFile(f"cannot be read as a table of single values ({type(error).__name__})") from error
    return frame.with_row_index(ROW_NUMBER, offset=1).with_columns(pl.col(ROW_NUMBER).cast(pl.Int64))
