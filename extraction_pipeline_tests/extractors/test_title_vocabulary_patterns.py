"""Title-block vocabulary patterns: cheap to compile, and matching printed labels with or without accents."""

from __future__ import annotations

import re

import pytest

from extraction_pipeline.extractors.title_vocabulary import OTHER_LABELS, TITLE_LABELS, label_pattern

_ALIASES = [alias for aliases in [*TITLE_LABELS.values(), OTHER_LABELS] for alias in aliases]


def test_classes_go_past_latin_1_only_where_the_vocabulary_writes_such_a_letter() -> None:
    # A class with a character past U+00FF makes ``re`` build a 64K charset map: milliseconds per class.
    for alias in _ALIASES:
        wide_in_alias = {c for c in alias if ord(c) > 0xFF}
        wide_in_pattern = {c for c in label_pattern(alias) if ord(c) > 0xFF}
        assert wide_in_pattern <= {form for c in wide_in_alias for form in (c, c.lower(), c.upper())}, alias


@pytest.mark.parametrize(
    ("alias", "printed"),
    [("MĚŘÍTKO", "MERITKO"), ("MĚŘÍTKO", "Měřítko"), ("POČET", "pocet"), ("ÉCHELLE", "Echelle"),
     ("ÉCHELLE", "ÉCHELLE"), ("SCALE", "Scàle"), ("MASSSTAB", "MASSSTAB")],
)  # fmt: skip
def test_letters_match_with_or_without_their_accent(alias: str, printed: str) -> None:
    assert re.fullmatch("(?i)" + label_pattern(alias), printed)
