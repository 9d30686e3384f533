"""The words title blocks print as labels, per ``TitleBlock`` field, in the languages CAD templates ship in.

English ISO/ANSI templates, and the SolidWorks, Inventor, Creo, CATIA, Solid Edge, FreeCAD TechDraw and Fusion 360
templates localised to Catalan, Spanish, German, French, Italian, Czech, Chinese and Japanese; architectural
sheets (Revit, ArchiCAD). Labels are written here with their accents; ``label_pattern`` matches them with or
without (OCR and ASCII-only templates drop them: ``NAZEV`` for ``NÁZEV``) and in any case.

``OTHER_LABELS`` are labels of cells that hold no ``TitleBlock`` field (checked by, quantity, weight...): knowing
them keeps a neighbouring label's value from being taken from their cell, and names their custom fields.
"""

from __future__ import annotations

import re
import unicodedata

# fmt: off
_LABELS_BY_LANGUAGE: dict[str, tuple[tuple[str, ...], tuple[str, ...]]] = {
    # field: ((English labels), (labels in other languages))
    "drawing_number": ((
        "DRAWING NO", "DWG NO", "DRAWING", "DWG", "PART NO", "DOCUMENT NO", "DOC NO", "DRAWING ID",
        "IDENTIFICATION NO", "IDENT NO", "ID NO", "DRAWING NUMBER", "DOCUMENT NUMBER", "PART NUMBER",
        "SHEET NUMBER",
    ), (
        # ca / es
        "REFERÈNCIA", "REFERENCIA", "NÚM. PLÀNOL", "NÚMERO DE PLÀNOL", "Nº PLANO", "N° PLANO", "NÚMERO DE PLANO",
        "PLANO Nº", "CODI", "CÓDIGO",
        # de
        "ZEICHNUNGSNR", "ZEICHNUNGSNUMMER", "ZEICHNUNGS-NR", "ZEICHN.-NR", "ZEICHN. NR", "SACHNUMMER", "SACH-NR",
        "TEILENUMMER", "TEILE-NR", "DOKUMENTNUMMER", "DOKUMENTNR",
        # fr / it
        "N° DE PLAN", "NUMÉRO DE PLAN", "N° PLAN", "RÉFÉRENCE", "NUMÉRO", "NUMERO DISEGNO", "N. DISEGNO",
        "N° DISEGNO", "CODICE", "CODICE DISEGNO",
        # cs
        "ČÍSLO VÝKRESU", "ČÍSLO DOKUMENTU", "ČÍSLO DÍLU", "ČÍSLO",
        # zh / ja
        "图号", "图样代号", "代号", "圖號", "図番", "図面番号",
    )),
    "title": ((
        "TITLE", "DRAWING TITLE", "PART NAME", "DESCRIPTION", "SHEET TITLE", "SHEET NAME",
    ), (
        "TÍTOL", "TÍTULO", "PEÇA", "PIEZA", "DENOMINACIÓ", "DENOMINACIÓN", "DESIGNACIÓ", "DESIGNACIÓN", "NOMBRE",
        "BENENNUNG", "BEZEICHNUNG", "TITEL",
        "DÉSIGNATION", "TITRE", "DÉNOMINATION", "DENOMINAZIONE", "TITOLO", "DESCRIZIONE",
        "NÁZEV", "NÁZEV VÝKRESU", "NÁZEV DÍLU",
        "名称", "图名", "品名", "名稱", "図名", "件名",
    )),
    "revision": ((
        "REVISION", "REV NO", "REV LEVEL", "REV", "REVISION INDEX", "REV INDEX", "VERSION",
    ), (
        "VERSIÓ", "VERSIÓ PLÀNOL", "VERSIÓN", "VERSIÓN PLANO", "REVISIÓ", "REVISIÓN", "EDICIÓN",
        "ÄNDERUNG", "ÄNDERUNGSINDEX", "ÄNDERUNGSSTAND", "AUSGABE", "INDEX",
        "RÉVISION", "INDICE", "IND", "REVISIONE", "EDIZIONE",
        "REVIZE", "ČÍSLO REVIZE", "ZMĚNA", "VERZE",
        "版本", "版次", "版号", "改版", "版数", "改訂",
    )),
    "date": ((
        "DATE", "DRAWN DATE", "DATE DRAWN", "ISSUE DATE", "DATE OF ISSUE",
    ), (
        "DATA", "DATA DE CREACIÓ", "FECHA", "FECHA DE CREACIÓN", "DATUM", "ERSTELLT AM", "AUSGABEDATUM",
        "DATE DE CRÉATION", "DATA DI CREAZIONE", "DATUM VYTVOŘENÍ", "DATUM VYDÁNÍ",
        "日期", "日付", "作成日",
    )),
    "author": ((
        "DRAWN BY", "DRAWN", "DRN BY", "DRN", "DRAFTER", "DESIGNED BY", "DESIGNER", "AUTHOR", "CREATED BY",
        "DRAFTED BY", "DRAFTED", "DRAFT", "ENGINEER", "ENG",
    ), (
        "DIBUIXAT", "DIBUIXAT PER", "DISSENYAT", "DIBUJADO", "DIBUJADO POR", "DIBUJÓ", "DISEÑADO", "DISEÑADO POR",
        "AUTOR", "GEZEICHNET", "GEZ", "BEARBEITET", "BEARB", "ERSTELLT", "ERSTELLT VON", "KONSTRUIERT",
        "DESSINÉ", "DESSINÉ PAR", "AUTEUR", "CONÇU PAR", "DISEGNATO", "DISEGNATORE", "AUTORE", "PROGETTATO",
        "KRESLIL", "NAKRESLIL", "VYPRACOVAL", "KONSTRUOVAL",
        "制图", "绘图", "设计", "製図", "設計", "作成", "作成者",
    )),
    "company": ((
        "COMPANY", "COMPANY NAME", "ORGANIZATION", "ORGANISATION", "FIRM", "LEGAL OWNER",
    ), (
        "EMPRESA", "FIRMA", "SOCIÉTÉ", "ENTREPRISE", "SOCIETÀ", "AZIENDA", "DITTA", "SPOLEČNOST",
        "单位", "公司", "会社名", "社名",
    )),
    "scale": ((
        "SCALE",), ("ESCALA", "MASSSTAB", "MAßSTAB", "MASSTAB", "ÉCHELLE", "SCALA", "MĚŘÍTKO", "比例", "縮尺", "尺度",
    )),
    "sheet": ((
        "SHEET", "SHEET NO", "SHT", "SHT NO", "SHEET OF",
    ), (
        "FULL", "FULL / TOTAL", "HOJA", "HOJA / TOTAL", "HOJA DE", "BLATT", "BLATT VON", "BL",
        "FEUILLE", "FOGLIO", "ČÍSLO LISTU", "LIST Č", "页", "张次", "第 张", "シート", "枚",
    )),
    "material": ((
        "MATERIAL", "MATL", "MAT"), ("WERKSTOFF", "MATÉRIAU", "MATIÈRE", "MATERIALE", "MATERIÁL",
        "材料", "材質", "材质",
    )),
    "finish": ((
        "FINISH", "SURFACE FINISH", "SURFACE TREATMENT", "TREATMENT", "COATING",
    ), (
        "ACABAT", "ACABADO", "RECOBRIMENT", "RECUBRIMIENTO", "OBERFLÄCHE", "OBERFLÄCHENBEHANDLUNG",
        "BESCHICHTUNG", "FINITION", "TRAITEMENT DE SURFACE", "REVÊTEMENT", "FINITURA", "TRATTAMENTO SUPERFICIALE",
        "POVRCHOVÁ ÚPRAVA", "POVRCH", "表面处理", "表面処理",
    )),
}
TITLE_LABELS: dict[str, tuple[str, ...]] = {f: english + others for f, (english, others) in _LABELS_BY_LANGUAGE.items()}
ENGLISH_LABELS = frozenset(label for english, _ in _LABELS_BY_LANGUAGE.values() for label in english)
"""Labels of English templates: a title block labelled only so may write dates month first (US) or day first."""
OTHER_LABELS: tuple[str, ...] = (
    "CHECKED BY", "CHECKED", "APPROVED BY", "APPROVED", "CLIENT", "CUSTOMER", "PROJECT NO", "JOB NO",
    "CAGE CODE", "SIZE", "WEIGHT", "MASS", "TOLERANCES", "UNITS", "DOCUMENT TYPE", "DOCUMENT STATUS",
    "SUPPLEMENTARY TITLE", "TECHNICAL REFERENCE", "DEPT", "CHK'D", "APPV'D", "NAME", "SIGNATURE", "MFG", "Q.A",
    "QTY", "QUANTITY", "FORMAT", "STANDARD", "NORM", "NORMA", "SUPPLIER", "VENDOR", "PROJECT", "CONTACT",
    "PRINT DATE", "HEAT TREATMENT", "APPR", "APPD", "APP'D", "CHKD", "ROUGHNESS",
    # ca / es
    "COMPROVAT", "COMPROBADO", "REVISAT", "REVISADO", "APROVAT", "APROBADO", "QUANT", "QUANTITAT", "CANT",
    "CANTIDAD", "PES", "PESO", "FORMAT DE FULL", "FORMATO DE HOJA", "FORMATO", "PROJECTE", "PROYECTO", "MÒDUL",
    "MÓDULO", "CONJUNT", "CONJUNTO", "CONTACTE", "CONTACTO", "DATA D'IMPRESSIÓ", "FECHA DE IMPRESIÓN",
    "MIDES MÀX", "MEDIDAS MÁX", "TRACTAMENT TÈRMIC", "TRATAMIENTO TÉRMICO", "TOLERÀNCIES", "TOLERANCIAS",
    "ARXIUS ADJUNTS", "ARCHIVOS ADJUNTOS", "VISTES", "VISTAS", "CAIXETÍ", "CAJETÍN", "ACOTACIÓ", "ACOTACIÓN",
    "TALLS I SECCIONS", "CORTES Y SECCIONES", "RUGOSITAT", "RUGOSIDAD",
    # de / fr / it
    "GEPRÜFT", "GEPR", "NORMGEPRÜFT", "GENEHMIGT", "FREIGEGEBEN", "FREIGABE", "MENGE", "STÜCK", "GEWICHT",
    "MASSE", "TOLERANZEN", "ALLGEMEINTOLERANZEN", "WÄRMEBEHANDLUNG", "BLATTGRÖSSE", "PROJEKT", "BAUGRUPPE",
    "RAUHEIT", "RUGOSITÉ", "RUGOSITÀ",
    "VÉRIFIÉ", "VÉRIFIÉ PAR", "CONTRÔLÉ", "APPROUVÉ", "QUANTITÉ", "QTÉ", "POIDS", "TOLÉRANCES", "PROJET",
    "CONTROLLATO", "VERIFICATO", "APPROVATO", "QUANTITÀ", "TOLLERANZE", "PROGETTO",
    # cs
    "KONTROLOVAL", "SCHVÁLIL", "POČET", "HMOTNOST", "DODAVATEL", "FORMÁT", "TOLERANCE", "PROMÍTÁNÍ",
    # zh / ja
    "审核", "批准", "校对", "检查", "工艺", "数量", "重量", "质量", "承認", "検図", "照査",
)
# fmt: on


def _fold_char(char: str) -> str:
    """The letter without its accent (``É`` → ``E``), upper case; other characters as they are."""
    decomposed = unicodedata.normalize("NFKD", char)
    base = "".join(c for c in decomposed if not unicodedata.combining(c))
    return base.upper() if len(base) == 1 else char.upper()


def _variants_by_base() -> dict[str, str]:
    """Each Latin letter with its accented forms (Latin-1 and Latin Extended-A), both cases."""
    variants: dict[str, set[str]] = {}
    for code in range(0x41, 0x250):
        char = chr(code)
        if not char.isalpha():
            continue
        base = _fold_char(char)
        if "A" <= base <= "Z":
            variants.setdefault(base, {base, base.lower()}).update({char, char.lower(), char.upper()})
    return {base: "".join(sorted(chars)) for base, chars in variants.items()}


_VARIANTS = _variants_by_base()


def _letter(char: str) -> str:
    """A class of the letter's printed forms: its Latin-1 variants, plus the letter itself when it lies beyond.

    A class holding characters past U+00FF costs ``re`` a 64K-entry charset map to compile (milliseconds each,
    thousands of classes over the vocabulary: seconds at every start), so Latin Extended-A forms (Czech Č, Ř)
    are kept only where the vocabulary writes them (an alias written with Č matches C and Č)."""
    base = _fold_char(char)
    if base == "SS" or char == "ß":
        return "(?:ß|SS|ss)"
    chars = _VARIANTS.get(base)
    if not chars:
        return re.escape(char)
    kept = {c for c in chars if ord(c) <= _LATIN_1_LAST} | ({char, char.lower(), char.upper()} & set(chars))
    return f"[{re.escape(''.join(sorted(kept)))}]"


_LATIN_1_LAST = 0xFF


def label_pattern(alias: str) -> str:
    """A regex for ``alias`` as printed: accents optional, ``NO`` read as any number sign, words apart by
    spaces, dots or apostrophes, ``/`` with spaces or not, an optional dot after the last word."""
    words = []
    for word in alias.split():
        if word == "NO":
            words.append(r"(?:NO|NUMBER|NR|N[º°o]|\#)")
        elif word in {"Nº", "N°"}:
            words.append(r"(?:N[º°o.]?|NO\.?|\#)")
        elif word == "/":
            words.append("/")
        else:
            words.append("".join(_letter(c) if c.isalpha() else re.escape(c) for c in word.rstrip(".")))
    return r"[\s.']*".join(words) + r"\.?"


def _other_language_labels() -> list[tuple[str, re.Pattern[str]]]:
    labels = [(field, alias) for field, (_, others) in _LABELS_BY_LANGUAGE.items() for alias in others]
    return [
        (field, re.compile("(?i)" + label_pattern(alias)))
        for field, alias in sorted(labels, key=lambda entry: len(entry[1]), reverse=True)
    ]


_OTHER_LANGUAGE_LABELS = _other_language_labels()


def field_of_other_language_label(text: str) -> str | None:
    """The ``TitleBlock`` field a label in a language other than English names (``Maßstab:`` → scale), or None.

    For extractors with their own English vocabulary (the DXF one is shaped by attribute tags)."""
    label = text.strip().rstrip(":").strip()
    return next((field for field, pattern in _OTHER_LANGUAGE_LABELS if pattern.fullmatch(label)), None)
