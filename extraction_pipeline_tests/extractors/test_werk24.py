"""Werk24 extractor.

There is no network here (and no Werk24 token), so the client is replaced AT ITS BOUNDARY: either
``werk24_extractor._ask_werk24`` (the one function that talks to Werk24) returns answers built with werk24's
own pydantic models, or ``werk24.techread.Werk24Client`` is swapped for a fake to exercise ``_ask_werk24``
itself. What is tested is the mapping into our schema and the classification of the client's exceptions.
"""

from __future__ import annotations

import asyncio
import hashlib
import uuid
from collections.abc import AsyncIterator, Sequence
from decimal import Decimal
from pathlib import Path
from typing import Any

import aiohttp
import pytest
import werk24
import werk24.techread
from werk24.models.v2.internal import TechreadException as TechreadExceptionModel
from werk24.utils import exceptions as w24

from extraction_pipeline.errors import (
    ConfigurationError,
    CorruptFileError,
    ErrorKind,
    ExtractionError,
    FileTooLargeError,
    RemoteServiceError,
    UnsupportedFormatError,
)
from extraction_pipeline.extractors import werk24 as werk24_extractor
from extraction_pipeline.extractors.schema import DimensionType, ExtractionResult, FileFormat, SourceInfo

# --- a realistic answer, in werk24's own models --------------------------------------------------------


def _size(value: str, size_type: werk24.SizeType = werk24.SizeType.LINEAR, **tolerance: Any) -> werk24.Size:
    return werk24.Size(
        value=Decimal(value),
        unit="mm",
        size_type=size_type,
        tolerance=werk24.Tolerance(**tolerance) if tolerance else None,
    )


def _confidence(score: str) -> werk24.Confidence:
    return werk24.Confidence(score=Decimal(score))


def _roughness(reference_id: int, label: str, parameter: werk24.RoughnessParameter, value: str) -> Any:
    return werk24.Roughness(
        reference_id=reference_id,
        label=label,
        confidence=None,
        standard=werk24.RoughnessStandard.ISO_1302_2002,
        material_removal_type=werk24.RoughnessMaterialRemovalType.REQUIRED,
        applies_all_around=False,
        conditions=[
            werk24.RoughnessCondition(
                condition_type=None,
                filter_type=None,
                parameter=parameter,
                acceptance_criterion=None,
                value=werk24.Size(value=Decimal(value), unit="\u00b5m", size_type=werk24.SizeType.LINEAR),
            )
        ],
    )


def _material(designation: str) -> werk24.Material:
    return werk24.Material(raw_ocr=designation, designation=designation, material_category=(None, None, None))


def metadata_answer() -> werk24.ResponseMetaDataComponentDrawing:
    return werk24.ResponseMetaDataComponentDrawing(
        identifiers=[
            werk24.Identifier(reference_id=1, value="DWG-4711", identifier_type=werk24.IdentifierType.DRAWING_NUMBER),
            werk24.Identifier(reference_id=2, value="P-0815", identifier_type=werk24.IdentifierType.PART_NUMBER),
        ],
        designation=[werk24.Entry(reference_id=3, value="Drive shaft")],
        material_options=[
            werk24.MaterialCombination(reference_id=4, material_combination=[_material("1.4301")]),
            werk24.MaterialCombination(reference_id=5, material_combination=[_material("1.4404")]),
        ],
        general_roughness=_roughness(6, "Ra 3.2", werk24.RoughnessParameter.RA, "3.2"),
        general_tolerances=werk24.GeneralTolerances(
            reference_id=7,
            tolerance_standard=werk24.GeneralTolerancesStandard.ISO_2768,
            tolerance_class="m",
            principle=None,
        ),
        weight=werk24.Weight(reference_id=8, value=Decimal("1.250"), unit="kg"),
        notes=[werk24.Note(reference_id=9, label="Break all edges", confidence=None, note_type="CANVAS_NOTE")],
        bill_of_material=werk24.BillOfMaterial(
            reference_id=10,
            rows=[
                werk24.BillOfMaterialRow(
                    position="1",
                    part_number="P-0815",
                    designation="Shaft",
                    quantity=werk24.Quantity(value=Decimal("20"), unit=""),
                    material_options=[
                        werk24.MaterialCombination(reference_id=11, material_combination=[_material("1.4301")])
                    ],
                ),
                werk24.BillOfMaterialRow(position="2", designation="Key DIN 6885"),
            ],
        ),
    )


def features_answer() -> werk24.ResponseFeaturesComponentDrawing:
    return werk24.ResponseFeaturesComponentDrawing(
        dimensions=[
            werk24.Dimension(
                reference_id=20,
                label="\u00f830 h6",
                confidence=_confidence("0.95"),
                quantity=1,
                size=_size(
                    "30",
                    werk24.SizeType.DIAMETER,
                    fit="h6",
                    deviation_upper=Decimal("0"),
                    deviation_lower=Decimal("-0.013"),
                ),
            ),
            werk24.Dimension(
                reference_id=21,
                label="120 \u00b10.1",
                confidence=None,
                quantity=1,
                size=_size("120", deviation_upper=Decimal("0.1"), deviation_lower=Decimal("-0.1")),
            ),
        ],
        radii=[
            werk24.Radius(reference_id=22, label="R2", confidence=_confidence("0.9"), quantity=1, size=_size("2")),
        ],
        threads=[
            werk24.ThreadISOMetric(
                reference_id=23,
                label="M8x1.25",
                confidence=None,
                quantity=Decimal("1"),
                diameter=_size("8", werk24.SizeType.DIAMETER),
                spacing=werk24.ThreadSpacing(pitch_in_mm=Decimal("1.25"), threads_per_inch=Decimal("20.32")),
                handedness=werk24.ThreadHandedness.RIGHT,
            ),
            werk24.ThreadUTS(
                reference_id=24,
                label="1/4-20 UNC-2A",
                confidence=None,
                quantity=Decimal("1"),
                diameter=werk24.Size(value=Decimal("0.25"), unit="in", size_type=werk24.SizeType.DIAMETER),
                spacing=werk24.ThreadSpacing(pitch_in_mm=Decimal("1.27"), threads_per_inch=Decimal("20")),
                handedness=werk24.ThreadHandedness.RIGHT,
                uts_size="1/4",
                uts_series="UNC",
                uts_tolerance_class="2A",
            ),
        ],
        roughnesses=[_roughness(25, "Rz 6.3", werk24.RoughnessParameter.RZ, "6.3")],
        gdnts=[
            werk24.GDnT(
                reference_id=26,
                label="[\u23e5|0.05|A]",
                confidence=None,
                characteristic=werk24.GDnTCharacteristic.FLATNESS,
                zone=werk24.GDnTZone(value=_size("0.05")),
                feature=None,
                reference=None,
                datums=[werk24.GDnTDatum(label="A")],
            )
        ],
    )


def _message(
    subtype: werk24.AskType, payload: Any = None, page: int = 0, exceptions: Sequence[Any] = ()
) -> werk24.TechreadMessage:
    return werk24.TechreadMessage(
        request_id=uuid.uuid4(),
        message_type=werk24.TechreadMessageType.ASK,
        message_subtype=subtype,
        page_number=page,
        payload_dict=payload,
        exceptions=list(exceptions),
    )


def _notice(exception_type: str, level: str = "ERROR", reason: str | None = None) -> TechreadExceptionModel:
    return TechreadExceptionModel(exception_level=level, exception_type=exception_type, reason=reason)


# --- harness -------------------------------------------------------------------------------------------


@pytest.fixture
def drawing(tmp_path: Path) -> Path:
    path = tmp_path / "shaft.pdf"
    path.write_bytes(b"%PDF-1.7\n% a drawing; its bytes never reach Werk24 in these tests\n")
    return path


@pytest.fixture
def token(monkeypatch: pytest.MonkeyPatch) -> str:
    monkeypatch.setenv("WERK24_TOKEN", "test-token-0000")
    return "test-token-0000"


def _source(path: Path) -> SourceInfo:
    data = path.read_bytes()
    return SourceInfo(filename=path.name, size=len(data), sha256=hashlib.sha256(data).hexdigest())


def _answering(monkeypatch: pytest.MonkeyPatch, messages: list[werk24.TechreadMessage]) -> list[dict[str, Any]]:
    """Replace the network call by one returning ``messages``; return the list of calls it records."""
    calls: list[dict[str, Any]] = []

    def fake(drawing: bytes, token: str, asks: Sequence[Any], timeout: float) -> list[werk24.TechreadMessage]:
        calls.append({"drawing": drawing, "token": token, "asks": [a.ask_type for a in asks], "timeout": timeout})
        return messages

    monkeypatch.setattr(werk24_extractor, "_ask_werk24", fake)
    return calls


def _raising(monkeypatch: pytest.MonkeyPatch, exc: BaseException) -> None:
    def fake(*args: Any) -> list[werk24.TechreadMessage]:
        raise exc

    monkeypatch.setattr(werk24_extractor, "_ask_werk24", fake)


def _extract(path: Path, **options: Any) -> ExtractionResult:
    return werk24_extractor.extract(path, _source(path), options)


# --- mapping -------------------------------------------------------------------------------------------


def test_maps_metadata_and_features(monkeypatch: pytest.MonkeyPatch, drawing: Path, token: str) -> None:
    calls = _answering(
        monkeypatch,
        [_message(werk24.AskType.META_DATA, metadata_answer()), _message(werk24.AskType.FEATURES, features_answer())],
    )
    result = _extract(drawing)

    assert calls == [
        {
            "drawing": drawing.read_bytes(),
            "token": token,
            "asks": [werk24.AskType.META_DATA, werk24.AskType.FEATURES],
            "timeout": 300.0,
        }
    ]
    assert result.format is FileFormat.WERK24
    assert result.extractor_version == werk24_extractor.VERSION
    assert result.warnings == []
    title_block = result.title_block
    assert title_block is not None
    assert (title_block.drawing_number, title_block.title, title_block.material, title_block.finish) == (
        "DWG-4711",
        "Drive shaft",
        "1.4301 | 1.4404",
        "Ra 3.2",
    )
    assert title_block.custom_fields == {
        "part_number": "P-0815",
        "general_tolerances": "ISO 2768 m",
        "weight": "1.25 kg",
    }
    assert result.bom is not None
    assert result.bom.headers == ["position", "part_number", "designation", "quantity", "material"]
    assert result.bom.items == [
        {"position": "1", "part_number": "P-0815", "designation": "Shaft", "quantity": "20", "material": "1.4301"},
        {"position": "2", "part_number": "", "designation": "Key DIN 6885", "quantity": "", "material": ""},
    ]
    assert result.bom.total_items == 2
    assert [(t.text, t.page) for t in result.text_blocks] == [("Break all edges", 1)]

    assert [
        (d.value, d.unit, d.dimension_type, d.tolerance_plus, d.tolerance_minus, d.fit, d.label, d.confidence, d.page)
        for d in result.dimensions
    ] == [
        (30.0, "mm", DimensionType.DIAMETER, 0.0, 0.013, "h6", "\u00f830 h6", 0.95, 1),
        (120.0, "mm", DimensionType.LINEAR, 0.1, 0.1, None, "120 \u00b10.1", 1.0, 1),
        (2.0, "mm", DimensionType.RADIUS, None, None, None, "R2", 0.9, 1),
    ]
    assert [
        (t.designation, t.standard, t.nominal_diameter, t.pitch, t.threads_per_inch, t.unit) for t in result.threads
    ] == [
        ("M8x1.25", "ISO metric", 8.0, 1.25, None, "mm"),
        ("1/4-20 UNC-2A", "UNC", 0.25, 1.27, 20.0, "in"),
    ]
    assert [(f.parameter, f.value, f.unit, f.page) for f in result.surface_finishes] == [
        ("Ra", 3.2, "um", 1),
        ("Rz", 6.3, "um", 1),
    ]
    assert [(g.characteristic, g.tolerance, g.datums, g.text) for g in result.gdt] == [
        ("flatness", 0.05, ["A"], "[\u23e5|0.05|A]")
    ]
    assert result.to_json_dict()["format"] == "werk24"


def test_pages_are_numbered_from_one_and_merged(monkeypatch: pytest.MonkeyPatch, drawing: Path, token: str) -> None:
    _answering(
        monkeypatch,
        [
            _message(werk24.AskType.FEATURES, features_answer(), page=0),
            _message(werk24.AskType.FEATURES, features_answer(), page=1),
        ],
    )
    result = _extract(drawing)
    assert [d.page for d in result.dimensions] == [1, 1, 1, 2, 2, 2]
    assert result.title_block is None and result.bom is None


def test_insights_on_request(monkeypatch: pytest.MonkeyPatch, drawing: Path, token: str) -> None:
    insights = werk24.ResponseInsightsComponentDrawing(primary_process_options=[], secondary_processes=[])
    calls = _answering(monkeypatch, [_message(werk24.AskType.INSIGHTS, insights)])
    result = _extract(drawing, werk24_insights=True, werk24_timeout_seconds=60)
    assert calls[0]["asks"] == [werk24.AskType.META_DATA, werk24.AskType.FEATURES, werk24.AskType.INSIGHTS]
    assert calls[0]["timeout"] == 60.0
    [entry] = result.metadata["werk24"]["insights"]
    assert entry["page"] == 1 and entry["ask_type"] == "INSIGHTS" and entry["primary_process_options"] == []


def test_incomplete_read_is_a_warning(monkeypatch: pytest.MonkeyPatch, drawing: Path, token: str) -> None:
    notice = _notice("READ_INCOMPLETE", level="WARNING", reason="timeout")
    _answering(monkeypatch, [_message(werk24.AskType.FEATURES, features_answer(), exceptions=[notice])])
    result = _extract(drawing)
    assert result.warnings == ["Werk24 FEATURES: READ_INCOMPLETE (timeout)"]
    assert len(result.dimensions) == 3


def test_one_failed_ask_leaves_the_others(monkeypatch: pytest.MonkeyPatch, drawing: Path, token: str) -> None:
    _answering(
        monkeypatch,
        [
            _message(werk24.AskType.META_DATA, metadata_answer()),
            _message(werk24.AskType.FEATURES, exceptions=[_notice("DRAWING_CONTENT_NOT_UNDERSTOOD")]),
        ],
    )
    result = _extract(drawing)
    assert result.title_block is not None and result.dimensions == []
    assert result.warnings == [
        "a Werk24 answer failed: shaft.pdf: Werk24 did not recognise a technical drawing "
        "(DRAWING_CONTENT_NOT_UNDERSTOOD)"
    ]


@pytest.mark.parametrize(
    ("exception_type", "error_type"),
    [
        ("DRAWING_FILE_FORMAT_UNSUPPORTED", UnsupportedFormatError),
        ("DRAWING_FILE_SIZE_TOO_LARGE", FileTooLargeError),
        ("DRAWING_PAPER_SIZE_TOO_LARGE", FileTooLargeError),
        ("DRAWING_RESOLUTION_TOO_LOW", CorruptFileError),
        ("DRAWING_CONTENT_NOT_UNDERSTOOD", CorruptFileError),
        ("CONFIGURATION_INCORRECT", ConfigurationError),
        ("SOMETHING_NEW_FROM_THE_SERVER", RemoteServiceError),
    ],
)
def test_every_ask_failing_raises(
    monkeypatch: pytest.MonkeyPatch, drawing: Path, token: str, exception_type: str, error_type: type[ExtractionError]
) -> None:
    failed = [_notice(exception_type)]
    _answering(
        monkeypatch,
        [_message(werk24.AskType.META_DATA, exceptions=failed), _message(werk24.AskType.FEATURES, exceptions=failed)],
    )
    with pytest.raises(error_type, match=exception_type) as raised:
        _extract(drawing)
    assert type(raised.value) is error_type


# --- configuration -------------------------------------------------------------------------------------


def test_missing_token_is_a_configuration_error(monkeypatch: pytest.MonkeyPatch, drawing: Path) -> None:
    monkeypatch.delenv("WERK24_TOKEN", raising=False)
    calls = _answering(monkeypatch, [])
    with pytest.raises(ConfigurationError, match="WERK24_TOKEN"):
        _extract(drawing)
    assert calls == []


def test_blank_token_is_a_configuration_error(monkeypatch: pytest.MonkeyPatch, drawing: Path) -> None:
    monkeypatch.setenv("WERK24_TOKEN", "  ")
    with pytest.raises(ConfigurationError, match="WERK24_TOKEN"):
        _extract(drawing)


def test_unsupported_file_type_is_refused_before_sending(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path, token: str
) -> None:
    calls = _answering(monkeypatch, [])
    path = tmp_path / "model.dxf"
    path.write_bytes(b"0\nSECTION\n")
    with pytest.raises(UnsupportedFormatError, match=r"model\.dxf"):
        _extract(path)
    assert calls == []


# --- the client's exceptions ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("exception", "error_type"),
    [
        (w24.ApiTokenRejectedException(token_suffix="0000", status_code=403), ConfigurationError),
        (w24.InvalidLicenseException("too short"), ConfigurationError),
        (w24.UnauthorizedException(), ConfigurationError),
        (w24.InsufficientCreditsException(), ConfigurationError),
        (w24.PriorityTooHighError(), ConfigurationError),
        (w24.DrawingTooLargeException(20_000_000, 10_485_760), FileTooLargeError),
        (w24.RequestTooLargeException(), FileTooLargeError),
        (w24.UnsupportedMediaType(), UnsupportedFormatError),
        (w24.BadRequestException(), ConfigurationError),
        (w24.SSLCertificateError(), ConfigurationError),
        (w24.W24RateLimitError(retry_after=30), RemoteServiceError),
        (w24.ReadTimeoutError(), RemoteServiceError),
        (w24.RetryableServerError("HTTP 503"), RemoteServiceError),
        (w24.ServerException("Cannot connect to host"), RemoteServiceError),
        (asyncio.TimeoutError(), RemoteServiceError),
        (ConnectionResetError("reset by peer"), RemoteServiceError),
        (aiohttp.ClientConnectionError("no route"), RemoteServiceError),
    ],
    ids=lambda value: type(value).__name__ if isinstance(value, BaseException) else value.__name__,
)
def test_client_exceptions_are_classified(
    monkeypatch: pytest.MonkeyPatch, drawing: Path, token: str, exception: BaseException, error_type: type
) -> None:
    _raising(monkeypatch, exception)
    with pytest.raises(error_type) as raised:
        _extract(drawing)
    assert type(raised.value) is error_type
    assert raised.value.__cause__ is exception
    expected_kind = ErrorKind.RETRYABLE if error_type is RemoteServiceError else ErrorKind.PERMANENT
    assert raised.value.kind is expected_kind


def test_unknown_exceptions_propagate(monkeypatch: pytest.MonkeyPatch, drawing: Path, token: str) -> None:
    _raising(monkeypatch, KeyError("bug in the mapping"))
    with pytest.raises(KeyError):
        _extract(drawing)


# --- _ask_werk24 with the client class replaced --------------------------------------------------------


class _FakeClient:
    """Stands in for werk24.techread.Werk24Client: async context manager with read_drawing()."""

    instances: list[_FakeClient] = []
    messages: list[werk24.TechreadMessage] = []

    def __init__(self, token: str) -> None:
        self.token = token
        self.reads: list[tuple[bytes, list[Any], float | None]] = []
        _FakeClient.instances.append(self)

    check_drawing_size = staticmethod(werk24.techread.Werk24Client.check_drawing_size)

    async def __aenter__(self) -> _FakeClient:
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        return None

    async def read_drawing(
        self, drawing: bytes, asks: list[Any], total_timeout: float | None = None
    ) -> AsyncIterator[werk24.TechreadMessage]:
        self.reads.append((drawing, asks, total_timeout))
        yield werk24.TechreadMessage(
            request_id=uuid.uuid4(),
            message_type=werk24.TechreadMessageType.PROGRESS,
            message_subtype=werk24.TechreadMessageSubtype.PROGRESS_STARTED,
        )
        for message in _FakeClient.messages:
            yield message


def test_ask_werk24_drives_the_client(monkeypatch: pytest.MonkeyPatch, drawing: Path, token: str) -> None:
    monkeypatch.setattr(werk24.techread, "Werk24Client", _FakeClient)
    monkeypatch.setattr(_FakeClient, "instances", [])
    monkeypatch.setattr(_FakeClient, "messages", [_message(werk24.AskType.FEATURES, features_answer())])
    result = _extract(drawing)
    [client] = _FakeClient.instances
    assert client.token == token
    [(sent, asks, timeout)] = client.reads
    assert sent == drawing.read_bytes()
    assert [ask.ask_type for ask in asks] == [werk24.AskType.META_DATA, werk24.AskType.FEATURES]
    assert timeout == 300.0
    assert len(result.dimensions) == 3  # the progress message was dropped, the answer mapped


def test_ask_werk24_refuses_a_drawing_over_the_upload_limit(
    monkeypatch: pytest.MonkeyPatch, drawing: Path, token: str
) -> None:
    monkeypatch.setattr(werk24.techread, "Werk24Client", _FakeClient)
    monkeypatch.setattr(_FakeClient, "instances", [])
    monkeypatch.setattr(werk24.techread, "DRAWING_UPLOAD_LIMIT_BYTES", 10)
    with pytest.raises(FileTooLargeError, match=r"shaft\.pdf is too large for Werk24"):
        _extract(drawing)
    assert _FakeClient.instances == []  # nothing was sent
