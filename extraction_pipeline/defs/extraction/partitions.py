"""The dynamic partitions of the extraction asset: one partition per S3 object (``bucket/key``).

Dagster does not validate dynamic partition keys, but ``...`` is its range separator and ``, [ ] |`` belong to
the selection syntax, so raw S3 keys cannot be used as they are. ``partition_key_for`` percent-escapes just
those characters (plus ``%``, ``*``, quotes, backslash and whitespace) and breaks every run of dots, leaving
ordinary keys and unicode readable in the UI. The mapping is reversible, so a run needs nothing but its
partition key to know which object to fetch; the raw key is also kept in the row's ``file_url``.
"""

from __future__ import annotations

from urllib.parse import unquote

from dagster import DynamicPartitionsDefinition

from extraction_pipeline.objects import ObjectRef

EXTRACTION_PARTITIONS_NAME = "extraction_files"

extraction_partitions = DynamicPartitionsDefinition(name=EXTRACTION_PARTITIONS_NAME)

_ESCAPED = frozenset("%,[]|*\"'\\")


def _escape_char(char: str) -> str:
    return "".join(f"%{byte:02X}" for byte in char.encode("utf-8"))


def encode_partition_key(text: str) -> str:
    out: list[str] = []
    previous = ""
    for char in text:
        unsafe = char in _ESCAPED or char.isspace() or not char.isprintable() or (char == "." and previous == ".")
        out.append(_escape_char(char) if unsafe else char)
        previous = char
    return "".join(out)


def partition_key_for(ref: ObjectRef) -> str:
    """``bucket/key`` with the characters Dagster's selection syntax reserves escaped."""
    return encode_partition_key(f"{ref.bucket}/{ref.key}")


def object_for_partition(partition_key: str) -> ObjectRef:
    bucket, _, key = unquote(partition_key, errors="strict").partition("/")
    if not bucket or not key:
        raise ValueError(f"partition key {partition_key!r} does not name an S3 object (bucket/key)")
    return ObjectRef(bucket, key)
