"""The Part-21 (ISO 10303-21) reader under the STEP extractor: statements split from a byte stream read in
chunks (strings with doubled quotes, statements over many lines, ``/* */`` comments), and the parameter list
of one statement parsed into values (strings decoded, references, enumerations, typed and complex values).

Why a small reader of our own: the only Part-21 parser on PyPI that is not a whole CAD kernel,
``steputils`` (0.1, March 2022, no release since), loads the whole file into a list of entities before
anything can be read from it, and OpenCascade (OCP) does the same and is an optional extra.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any, BinaryIO, NamedTuple

DEFAULT_CHUNK_BYTES = 1 << 20


class StepSyntaxError(ValueError):
    """A statement the reader cannot parse."""


# --- statements ----------------------------------------------------------------------------------------

_NORMAL_STOP = re.compile(rb"[';]|/\*")


def iter_statements(stream: BinaryIO, chunk_bytes: int | None = None) -> Iterator[bytes]:
    """Yield each ``;``-terminated statement (without the ``;``, comments removed, stripped).

    The quote toggles string state; a doubled quote inside a string leaves the string and re-enters it at
    once, so ``''`` needs no special case. Most statements take the fast path; the token-by-token path
    handles a ";" inside a string, comments and statements cut by a chunk boundary. Raises StepSyntaxError
    when the file ends inside a string or a comment, or with text after the last ``;``.
    """
    chunk_bytes = chunk_bytes or DEFAULT_CHUNK_BYTES
    buffer = b""
    pos = 0
    pieces: list[bytes] = []  # the current statement so far
    in_string = in_comment = False
    while True:
        if not (in_string or in_comment):
            # Fast path, all in C: the next ";" ends the statement when the text before it holds an even
            # number of quotes (so the ";" is outside any string) and no comment.
            semicolon = buffer.find(b";", pos)
            if semicolon >= 0:
                segment = buffer[pos:semicolon]
                if not segment.count(b"'") % 2 and b"/*" not in segment:
                    yield (b"".join([*pieces, segment]) if pieces else segment).strip()
                    pieces = []
                    pos = semicolon + 1
                    continue
        if in_comment:
            end = buffer.find(b"*/", pos)
            if end >= 0:
                pos, in_comment = end + 2, False
                continue
            keep = max(pos, len(buffer) - 1)  # the chunk's last byte may be the "*" of "*/"
        elif in_string:
            end = buffer.find(b"'", pos)
            if end >= 0:
                pieces.append(buffer[pos : end + 1])
                pos, in_string = end + 1, False
                continue
            pieces.append(buffer[pos:])
            keep = len(buffer)
        else:
            match = _NORMAL_STOP.search(buffer, pos)
            if match is not None:
                token = match.group()
                if token == b"'":
                    pieces.append(buffer[pos : match.end()])
                    in_string = True
                elif token == b"/*":
                    pieces.append(buffer[pos : match.start()] + b" ")  # a comment separates tokens
                    in_comment = True
                else:
                    pieces.append(buffer[pos : match.start()])
                    yield b"".join(pieces).strip()
                    pieces = []
                pos = match.end()
                continue
            # a "/" at the chunk's end may start "/*" (pos past it: it was the end of a comment)
            keep = max(pos, len(buffer) - 1) if buffer.endswith(b"/") else len(buffer)
            pieces.append(buffer[pos:keep])
        chunk = stream.read(chunk_bytes)
        if not chunk:
            break
        buffer, pos = buffer[keep:] + chunk, 0
    if in_string or in_comment:
        raise StepSyntaxError("the file ends inside a " + ("string" if in_string else "comment"))
    if b"".join(pieces).strip() or buffer[keep:].strip():
        raise StepSyntaxError("the file ends in the middle of a statement")


# --- values --------------------------------------------------------------------------------------------


class Ref(int):
    """An instance reference ``#n``."""


class EnumValue(str):
    """An enumeration value ``.NAME.`` (stored without the dots)."""


class Typed(NamedTuple):
    """A typed parameter ``NAME(args)``, or one part of a complex instance."""

    name: str
    args: list[Any]


DERIVED = object()  # "*": the attribute is derived

_TOKEN = re.compile(
    r"""\s*(?:
      (?P<string>'(?:[^']|'')*')
    | (?P<enum>\.[A-Za-z_][A-Za-z0-9_]*\.)
    | (?P<ref>\#\d+)
    | (?P<binary>"[0-9A-Fa-f]*")
    | (?P<number>[+-]?(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?)
    | (?P<keyword>!?[A-Za-z_][A-Za-z0-9_]*)
    | (?P<punct>[(),$*=])
    )""",
    re.VERBOSE,
)

_DIRECTIVE = re.compile(
    r"\\X2\\((?:[0-9A-Fa-f]{4})*)\\X0\\"
    r"|\\X4\\((?:[0-9A-Fa-f]{8})*)\\X0\\"
    r"|\\X\\([0-9A-Fa-f]{2})"
    r"|\\P([A-I])\\"
    r"|\\S\\(.)"
    r"|\\\\",
    re.DOTALL,
)


def decode_string(literal: str) -> str:
    """The text of a Part-21 string literal (with its quotes): ``''`` → ``'``, line breaks dropped (writers
    wrap long strings), and the control directives \\X2\\…\\X0\\ (UCS-2), \\X4\\…\\X0\\ (UCS-4), \\X\\hh,
    \\S\\c (c + 128 in the current ISO 8859 page, set by \\P?\\) and \\\\ decoded."""
    text = literal[1:-1].replace("''", "'").replace("\r", "").replace("\n", "")
    page = ["A"]

    def replace(match: re.Match[str]) -> str:
        ucs2, ucs4, byte, new_page, shifted = match.groups()
        if ucs2 is not None:
            return "".join(chr(int(ucs2[i : i + 4], 16)) for i in range(0, len(ucs2), 4))
        if ucs4 is not None:
            return "".join(chr(int(ucs4[i : i + 8], 16)) for i in range(0, len(ucs4), 8))
        if byte is not None:
            return bytes([int(byte, 16)]).decode("latin-1")
        if new_page is not None:
            page[0] = new_page
            return ""
        if shifted is not None:
            return bytes([(ord(shifted) + 128) & 0xFF]).decode(f"iso8859-{ord(page[0]) - ord('A') + 1}")
        return "\\"

    return _DIRECTIVE.sub(replace, text)


class _Parser:
    """Recursive-descent parser of one statement's parameter list."""

    def __init__(self, text: str) -> None:
        self.tokens = self._tokenize(text)
        self.index = 0

    @staticmethod
    def _tokenize(text: str) -> list[tuple[str, str]]:
        tokens: list[tuple[str, str]] = []
        pos = 0
        length = len(text.rstrip())
        while pos < length:
            match = _TOKEN.match(text, pos)
            if match is None or match.end() == pos:
                raise StepSyntaxError(f"unexpected text {text[pos : pos + 20]!r}")
            kind = match.lastgroup
            assert kind is not None
            tokens.append((kind, match.group(kind)))
            pos = match.end()
        return tokens

    def _next(self) -> tuple[str, str]:
        if self.index >= len(self.tokens):
            raise StepSyntaxError("the statement ends too early")
        token = self.tokens[self.index]
        self.index += 1
        return token

    def _expect(self, punct: str) -> None:
        kind, value = self._next()
        if (kind, value) != ("punct", punct):
            raise StepSyntaxError(f"expected {punct!r}, found {value!r}")

    def _peek(self) -> tuple[str, str] | None:
        return self.tokens[self.index] if self.index < len(self.tokens) else None

    def parameters(self) -> list[Any]:
        """``( value, value, ... )``"""
        self._expect("(")
        values: list[Any] = []
        if self._peek() == ("punct", ")"):
            self.index += 1
            return values
        while True:
            values.append(self.value())
            kind, value = self._next()
            if (kind, value) == ("punct", ")"):
                return values
            if (kind, value) != ("punct", ","):
                raise StepSyntaxError(f"expected ',' or ')', found {value!r}")

    def value(self) -> Any:
        kind, value = self._next()
        if kind == "string":
            return decode_string(value)
        if kind == "ref":
            return Ref(int(value[1:]))
        if kind == "enum":
            return EnumValue(value[1:-1].upper())
        if kind == "number":
            return int(value) if re.fullmatch(r"[+-]?\d+", value) else float(value)
        if kind == "binary":
            return value[1:-1]
        if kind == "keyword":
            return Typed(value.upper(), self.parameters())
        if value == "$":
            return None
        if value == "*":
            return DERIVED
        if value == "(":
            self.index -= 1
            return self.parameters()
        raise StepSyntaxError(f"unexpected {value!r}")

    def record(self) -> Typed:
        """``NAME(args)``"""
        kind, name = self._next()
        if kind != "keyword":
            raise StepSyntaxError(f"expected an entity name, found {name!r}")
        return Typed(name.upper(), self.parameters())

    def complex_records(self) -> list[Typed]:
        """``(A(args) B(args) ...)``"""
        self._expect("(")
        parts: list[Typed] = []
        while self._peek() != ("punct", ")"):
            parts.append(self.record())
        self.index += 1
        return parts

    def done(self) -> None:
        if self.index != len(self.tokens):
            raise StepSyntaxError(f"unexpected {self.tokens[self.index][1]!r} after the parameters")


def parse_record(text: str) -> Typed:
    """Parse ``NAME(args)`` (a header entry or a simple instance's right-hand side)."""
    parser = _Parser(text)
    record = parser.record()
    parser.done()
    return record


def parse_complex(text: str) -> list[Typed]:
    """Parse ``(A(args) B(args) ...)`` (a complex instance's right-hand side)."""
    parser = _Parser(text)
    parts = parser.complex_records()
    parser.done()
    return parts
