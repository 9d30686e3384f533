"""OCR of pages without a usable text layer and of raster uploads, one module per concern.

- ``engine``: the ``OcrEngine`` interface and RapidOCR behind it (models inside the wheel, bounded threads);
- ``reader``: one page (a PDF page rendered by PDFium, or an image) read tile by tile into ``OcrLine``s in points;
- ``tiles``: the tile layout under the pixel cap and one set of lines from the tiles' overlapping readings;
- ``session``: one file's OCR under ``OcrConfig`` and the sandbox's deadline, its warnings and the ``ocr`` block;
- ``config``: ``EXTRACTION_OCR*`` settings and their per-file options; ``repair``: glyph misreads (``±``).

Extractors use it through ``pdf/ocr.py`` (PDF pages) and ``image.py`` (PNG, JPEG, TIFF); the lines become runs
that every later stage reads like a text layer's.
"""
