"""Partition keys: any S3 key maps to a key Dagster's selection syntax can carry, and back."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from extraction_pipeline.defs.extraction.partitions import object_for_partition, partition_key_for
from extraction_pipeline.objects import ObjectRef

s3_keys = st.text(min_size=1, max_size=200).filter(lambda k: "\x00" not in k)


@given(key=s3_keys)
@settings(max_examples=300, deadline=None)
def test_any_key_round_trips_and_avoids_reserved_syntax(key: str) -> None:
    ref = ObjectRef("my-bucket", key)
    partition_key = partition_key_for(ref)

    assert object_for_partition(partition_key) == ref
    for reserved in ("...", "..", ",", "[", "]", "|"):
        assert reserved not in partition_key
    assert all(not c.isspace() for c in partition_key)


def test_ordinary_keys_stay_readable() -> None:
    assert partition_key_for(ObjectRef("b", "projects/2026/bracket-v2.dxf")) == "b/projects/2026/bracket-v2.dxf"
    assert partition_key_for(ObjectRef("b", "図面/ø12.pdf")) == "b/図面/ø12.pdf"


def test_file_url_round_trip() -> None:
    ref = ObjectRef.from_file_url("s3://bkt/a/b c.pdf")
    assert ref == ObjectRef("bkt", "a/b c.pdf") and ref.file_url == "s3://bkt/a/b c.pdf" and ref.filename == "b c.pdf"
