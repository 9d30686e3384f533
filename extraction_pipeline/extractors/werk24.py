"""Werk24 extractor: a drawing read by the Werk24 API (client ``werk24`` 2.x, v2 asks).

Optional: needs the ``werk24`` extra and an API token in ``WERK24_TOKEN``. Sends AskMetaData and AskFeatures
(plus AskInsights with ``options["werk24_insights"]``) and maps the answers into the common schema: title
block and BOM from the metadata, dimensions (and radii), threads, surface finishes and GD&T from the features.
Pages are numbered from 1 here (Werk24 counts from 0).

The network call is isolated in ``_ask_werk24``; everything else is mapping and error classification:
throttling, timeouts, dropped connections and 5xx are ``RemoteServiceError`` (retryable), a refused token,
a drawing too large, an unsupported file or a spent quota are permanent errors.
"""

from __future__ import annotations

import asyncio
import math
import os
from collections.abc import Mapping, Sequence
from decimal import Decimal
from pathlib import Path
from typing import TYPE_CHECKING, Any

from extraction_pipeline.errors import (
    ConfigurationError,
    CorruptFileError,
    ExtractionError,
    FileTooLargeError,
    RemoteServiceError,
    UnsupportedFormatError,
)
from extraction_pipeline.extractors.schema import (
    Bom,
    Dimension,
    DimensionType,
    ExtractionResult,
    FileFormat,
    GdtCallout,
    SourceInfo,
    SurfaceFinish,
    TextBlock,
    Thread,
    TitleBlock,
)

if TYPE_CHECKING:
    from werk24 import TechreadMessage

VERSION = "1.0.0"

TOKEN_ENV = "WERK24_TOKEN"
DEFAULT_TIMEOUT_SECONDS = 300.0
SUPPORTED_SUFFIXES = frozenset({".pdf", ".png", ".jpg", ".jpeg", ".tif", ".tiff"})  # what the API reads


def extract(path: Path, source: SourceInfo, options: Mapping[str, Any]) -> ExtractionResult:
    token = os.environ.get(TOKEN_ENV, "").strip()
    if not token:
        raise ConfigurationError(f"Werk24 extraction needs an API token in {TOKEN_ENV}; it is not set")
    suffix = Path(source.filename).suffix.lower()
    if suffix not in SUPPORTED_SUFFIXES:
        raise UnsupportedFormatError(
            f"{source.filename}: Werk24 reads {', '.join(sorted(SUPPORTED_SUFFIXES))} drawings, not {suffix!r}"
        )
    asks = _asks(bool(options.get("werk24_insights", False)))
    timeout = float(options.get("werk24_timeout_seconds", DEFAULT_TIMEOUT_SECONDS))
    drawing = path.read_bytes()
    try:
        messages = _ask_werk24(drawing, token, asks, timeout)
    except Exception as exc:
        classified = classify_exception(exc, source.filename)
        if classified is None:
            raise
        raise classified from exc
    return _result(messages, source)


# --- the one place that talks to Werk24 ------------------------------------------------------------------


def _asks(with_insights: bool) -> list[Any]:
    try:
        from werk24 import AskFeatures, AskInsights, AskMetaData
    except ImportError as exc:
        raise ConfigurationError("Werk24 extraction needs the optional 'werk24' package") from exc
    return [AskMetaData(), AskFeatures(), *([AskInsights()] if with_insights else [])]


def _ask_werk24(drawing: bytes, token: str, asks: Sequence[Any], timeout: float) -> list[TechreadMessage]:
    """Read ``drawing`` with the Werk24 client; returns its ASK and ERROR messages (progress dropped)."""
    from werk24 import TechreadMessageType
    from werk24.techread import Werk24Client

    # read_drawing reports a too-large drawing per ask; checking first raises DrawingTooLargeException instead
    Werk24Client.check_drawing_size(drawing)

    async def read() -> list[TechreadMessage]:
        async with Werk24Client(token=token) as client:
            return [
                message
                async for message in client.read_drawing(drawing, list(asks), total_timeout=timeout)
                if message.message_type in (TechreadMessageType.ASK, TechreadMessageType.ERROR)
            ]

    return asyncio.run(read())


# --- errors ----------------------------------------------------------------------------------------------


def classify_exception(exc: BaseException, filename: str) -> ExtractionError | None:
    """Our typed error for an exception out of the Werk24 client, or None when it is not one we know."""
    from werk24.utils import exceptions as w24

    permanent: list[tuple[type[BaseException], type[ExtractionError], str]] = [
        (w24.ApiTokenRejectedException, ConfigurationError, f"Werk24 rejected the API token in {TOKEN_ENV}"),
        (w24.InvalidLicenseException, ConfigurationError, f"the Werk24 token in {TOKEN_ENV} is not usable"),
        (w24.UnauthorizedException, ConfigurationError, "Werk24 refused the request as unauthorized"),
        (w24.W24AuthenticationError, ConfigurationError, "Werk24 refused the request as unauthorized"),
        # HTTP 429 in client 2.x: the account's quota is spent, and waiting does not reset it
        (w24.InsufficientCreditsException, ConfigurationError, "the Werk24 account has no request credits left"),
        (w24.PriorityTooHighError, ConfigurationError, "the Werk24 priority asked for is above the account's"),
        (w24.InvalidPriorityError, ConfigurationError, "the Werk24 priority asked for is invalid"),
        (w24.RequestTooLargeException, FileTooLargeError, f"{filename} is too large for Werk24"),
        (w24.UnsupportedMediaType, UnsupportedFormatError, f"Werk24 does not read the format of {filename}"),
        (w24.BadRequestException, ConfigurationError, "Werk24 could not interpret the request"),
        (w24.W24ValidationError, ConfigurationError, "Werk24 could not interpret the request"),
        (w24.SSLCertificateError, ConfigurationError, "the Werk24 server certificate could not be verified"),
        (w24.EncryptionException, ConfigurationError, "the drawing could not be encrypted for Werk24"),
    ]
    retryable: list[tuple[type[BaseException], str]] = [
        (w24.W24RateLimitError, "Werk24 throttled the request"),
        (w24.ReadTimeoutError, "Werk24 did not finish reading in time"),
        (w24.RetryableServerError, "Werk24 answered with a server error (5xx)"),
        (w24.W24ServerError, "Werk24 answered with a server error"),
        # also what the client raises when it cannot connect after its own retries or the socket drops
        (w24.ServerException, "Werk24 failed on the server side or the connection failed"),
        (w24.ResourceNotFoundException, "a Werk24 result could not be downloaded"),
        (TimeoutError, "the Werk24 request timed out"),
        (asyncio.TimeoutError, "the Werk24 request timed out"),
        (ConnectionError, "the connection to Werk24 failed"),
        (OSError, "the connection to Werk24 failed"),
        (w24.TechreadException, "the Werk24 client failed"),
    ]
    try:
        import aiohttp
        import websockets.exceptions

        retryable[-1:-1] = [
            (aiohttp.ClientError, "the connection to Werk24 failed"),
            (websockets.exceptions.WebSocketException, "the connection to Werk24 failed"),
        ]
    except ImportError:  # both come with werk24; without them the werk24 import above has failed already
        pass
    for exc_type, error_type, message in permanent:
        if isinstance(exc, exc_type):
            return error_type(f"{message}: {_first_line(exc)}")
    for exc_type, message in retryable:
        if isinstance(exc, exc_type):
            return RemoteServiceError(f"{message}: {_first_line(exc)}")
    return None


def _first_line(exc: BaseException) -> str:
    lines = [line for line in str(exc).splitlines() if line.strip()]
    return lines[0] if lines else type(exc).__name__


_PER_ASK_ERRORS: dict[str, tuple[type[ExtractionError], str]] = {
    "DRAWING_FILE_FORMAT_UNSUPPORTED": (UnsupportedFormatError, "Werk24 does not read this file format"),
    "DRAWING_FILE_SIZE_TOO_LARGE": (FileTooLargeError, "the file is too large for Werk24"),
    "DRAWING_PAPER_SIZE_TOO_LARGE": (FileTooLargeError, "the paper size is too large for Werk24"),
    "DRAWING_PAGE_COUNT_TOO_LARGE": (FileTooLargeError, "the document has too many pages for Werk24"),
    "DRAWING_RESOLUTION_TOO_LOW": (CorruptFileError, "the drawing's resolution is too low for Werk24"),
    "DRAWING_CONTENT_NOT_UNDERSTOOD": (CorruptFileError, "Werk24 did not recognise a technical drawing"),
    "CONFIGURATION_INCORRECT": (ConfigurationError, "Werk24 found the request's configuration incorrect"),
}


def _ask_error(exception_type: Any, filename: str) -> ExtractionError:
    name = str(getattr(exception_type, "value", exception_type))
    error_type, message = _PER_ASK_ERRORS.get(name, (RemoteServiceError, "Werk24 failed"))
    return error_type(f"{filename}: {message} ({name})")


# --- mapping ---------------------------------------------------------------------------------------------


def _result(messages: Sequence[TechreadMessage], source: SourceInfo) -> ExtractionResult:
    from werk24 import (
        ResponseFeaturesComponentDrawing,
        ResponseInsightsComponentDrawing,
        ResponseMetaDataComponentDrawing,
        TechreadExceptionLevel,
        TechreadMessageType,
    )

    result = ExtractionResult(
        format=FileFormat.WERK24, extractor_version=VERSION, source=source, metadata={"werk24": {}}
    )
    failures: list[ExtractionError] = []
    answered = 0
    for message in messages:
        if message.message_type == TechreadMessageType.ERROR:
            raise RemoteServiceError(f"{source.filename}: Werk24 reported an internal error")
        subtype = str(getattr(message.message_subtype, "value", message.message_subtype))
        errors = [e for e in message.exceptions if e.exception_level == TechreadExceptionLevel.ERROR]
        for notice in message.exceptions:
            if notice.exception_level != TechreadExceptionLevel.ERROR:
                reason = f" ({notice.reason})" if notice.reason else ""
                result.warnings.append(f"Werk24 {subtype}: {_value(notice.exception_type)}{reason}")
        if errors:
            failures.append(_ask_error(errors[0].exception_type, source.filename))
            continue
        answered += 1
        page = message.page_number + 1
        payload = message.payload_dict
        if isinstance(payload, ResponseMetaDataComponentDrawing):
            _map_metadata(result, payload, page)
        elif isinstance(payload, ResponseFeaturesComponentDrawing):
            _map_features(result, payload, page)
        elif isinstance(payload, ResponseInsightsComponentDrawing):
            result.metadata["werk24"].setdefault("insights", []).append(
                {"page": page, **payload.model_dump(mode="json")}
            )
        elif payload is not None:
            result.warnings.append(f"Werk24 {subtype} answer on page {page} is of a kind not mapped: skipped")
    if failures and not answered:
        raise failures[0]
    result.warnings.extend(f"a Werk24 answer failed: {failure.message}" for failure in failures)
    if result.bom is not None:
        result.bom.total_items = len(result.bom.items)
    return result


def _value(item: Any) -> str:
    return str(getattr(item, "value", item))


def _number(value: Decimal | float | int | None) -> float | None:
    if value is None:
        return None
    number = float(value)
    return number if math.isfinite(number) else None


def _unit(unit: str) -> str:
    return unit.replace("\u00b5", "u").replace("\u03bc", "u")  # the micro sign and Greek mu both occur


def _quantity(quantity: Any) -> str:
    if quantity is None:
        return ""
    text = f"{quantity.value:f}"
    if "." in text:
        text = text.rstrip("0").rstrip(".")
    return text + (f" {quantity.unit}" if quantity.unit else "")


def _map_metadata(result: ExtractionResult, meta: Any, page: int) -> None:
    title_block = result.title_block or TitleBlock()
    custom = title_block.custom_fields
    for identifier in meta.identifiers:
        kind = _value(identifier.identifier_type)
        if kind == "DRAWING_NUMBER" and title_block.drawing_number is None:
            title_block.drawing_number = identifier.value
        else:
            key = kind.lower()
            custom[key] = f"{custom[key]}; {identifier.value}" if key in custom else identifier.value
    if meta.designation and title_block.title is None:
        title_block.title = meta.designation[0].value
    if meta.material_options and title_block.material is None:
        title_block.material = " | ".join(_materials(option) for option in meta.material_options)
    if meta.general_roughness is not None:
        title_block.finish = title_block.finish or meta.general_roughness.label
        result.surface_finishes.extend(_finishes(meta.general_roughness, page))
    if meta.general_tolerances is not None:
        tolerances = meta.general_tolerances
        custom["general_tolerances"] = " ".join(
            part for part in (_value(tolerances.tolerance_standard), tolerances.tolerance_class) if part
        )
    if meta.weight is not None:
        custom["weight"] = _quantity(meta.weight)
    if meta.projection_method is not None:
        custom["projection_method"] = _value(meta.projection_method.projection_method)
    if meta.unit_systems:
        custom["unit_system"] = ", ".join(_value(system.unit_system_type) for system in meta.unit_systems)
    if meta.languages:
        custom["languages"] = ", ".join(_value(language) for language in meta.languages)
    result.title_block = title_block
    result.text_blocks.extend(TextBlock(text=note.label, page=page) for note in meta.notes)
    if meta.bill_of_material is not None:
        _map_bom(result, meta.bill_of_material)


def _materials(option: Any) -> str:
    return " + ".join(material.designation for material in option.material_combination)


_BOM_HEADERS = ["position", "part_number", "designation", "quantity", "material"]


def _map_bom(result: ExtractionResult, bill: Any) -> None:
    if result.bom is None:
        result.bom = Bom(headers=list(_BOM_HEADERS), items=[])
    for row in bill.rows:
        result.bom.items.append(
            {
                "position": row.position or "",
                "part_number": row.part_number or "",
                "designation": row.designation or "",
                "quantity": _quantity(row.quantity),
                "material": " | ".join(_materials(option) for option in row.material_options),
            }
        )


_DIMENSION_TYPES = {
    "LINEAR": DimensionType.LINEAR,
    "DIAMETER": DimensionType.DIAMETER,
    "SPHERICAL_DIAMETER": DimensionType.DIAMETER,
    "ANGULAR": DimensionType.ANGULAR,
}


def _dimension(feature: Any, page: int, dimension_type: DimensionType | None = None) -> Dimension | None:
    size = feature.size
    value = _number(size.value)
    if value is None:  # "R PLANE" and the like carry an infinite value
        return None
    tolerance = size.tolerance
    lower = _number(tolerance.deviation_lower) if tolerance else None
    return Dimension(
        value=value,
        unit=size.unit,
        tolerance_plus=_number(tolerance.deviation_upper) if tolerance else None,
        tolerance_minus=abs(lower) if lower is not None else None,
        dimension_type=dimension_type or _DIMENSION_TYPES.get(_value(size.size_type), DimensionType.LINEAR),
        label=feature.label,
        fit=tolerance.fit if tolerance else None,
        page=page,
        confidence=float(feature.confidence.score) if feature.confidence else 1.0,
    )


_THREAD_STANDARDS = {
    "ISO_METRIC": "ISO metric",
    "WHITWORTH": "Whitworth",
    "SM": "SM",
    "ACME": "ACME",
    "KNUCKLE": "Knuckle",
}


def _thread(thread: Any, page: int) -> Thread:
    kind = _value(thread.thread_type)
    standard = getattr(thread, "uts_series", None) or getattr(thread, "npt_series", None)
    spacing = thread.spacing
    return Thread(
        designation=thread.label,
        standard=standard or _THREAD_STANDARDS.get(kind, kind),
        nominal_diameter=float(thread.diameter.value),
        pitch=_number(spacing.pitch_in_mm) if spacing else None,
        threads_per_inch=_number(spacing.threads_per_inch) if spacing and kind != "ISO_METRIC" else None,
        unit=thread.diameter.unit,
        page=page,
    )


def _finishes(roughness: Any, page: int) -> list[SurfaceFinish]:
    return [
        SurfaceFinish(
            parameter=_value(condition.parameter),
            value=float(condition.value.value),
            unit=_unit(condition.value.unit),
            page=page,
        )
        for condition in roughness.conditions
        if condition.parameter is not None and condition.value is not None
    ]


def _gdt(gdnt: Any, page: int) -> GdtCallout:
    return GdtCallout(
        characteristic=gdnt.characteristic.name.lower(),
        tolerance=_number(gdnt.zone.value.value) if gdnt.zone else None,
        datums=[datum.label for datum in gdnt.datums],
        text=gdnt.label,
        page=page,
    )


_OTHER_FEATURES = ("bores", "chamfers", "undercuts", "key_slots", "center_holes", "fasteners")


def _map_features(result: ExtractionResult, features: Any, page: int) -> None:
    dimensions = [_dimension(dimension, page) for dimension in features.dimensions]
    dimensions += [_dimension(radius, page, DimensionType.RADIUS) for radius in features.radii]
    result.dimensions.extend(dimension for dimension in dimensions if dimension is not None)
    result.threads.extend(_thread(thread, page) for thread in features.threads)
    for roughness in features.roughnesses:
        result.surface_finishes.extend(_finishes(roughness, page))
    result.gdt.extend(_gdt(gdnt, page) for gdnt in features.gdnts)
    # features the schema has no place for: kept by their labels, so nothing read is dropped
    other = result.metadata["werk24"].setdefault("other_features", {})
    for name in _OTHER_FEATURES:
        labels = [{"label": feature.label, "page": page} for feature in getattr(features, name)]
        if labels:
            other.setdefault(name, []).extend(labels)
