"""The exports a build can make besides the HTML: their names, file suffixes and labels."""
from __future__ import annotations

FORMATS = ("ipynb", "docx", "pdf", "slides-pdf", "pptx")
"""Every export, in the order the index lists them."""

SUFFIXES = {"ipynb": ".ipynb", "docx": ".docx", "pdf": ".pdf", "slides-pdf": ".slides.pdf",
            "pptx": ".pptx"}
LABELS = {"ipynb": "Notebook", "docx": "Handout (DOCX)", "pdf": "Handout (PDF)",
          "slides-pdf": "Slides (PDF)", "pptx": "Slides (PPTX)"}


def parse_formats(text: str | list | tuple | None) -> tuple[str, ...]:
    """``"ipynb,pdf"`` (or a list) as a tuple of known formats, in the canonical order.

    Raises ValueError naming an unknown format.
    """
    if text is None:
        return ()
    names = [n.strip() for n in (text.split(",") if isinstance(text, str) else text)]
    names = [n for n in names if n and n != "none"]
    if names == ["all"]:
        return FORMATS
    unknown = [n for n in names if n not in FORMATS]
    if unknown:
        raise ValueError(f"unknown export {', '.join(unknown)}; choose from {', '.join(FORMATS)}")
    return tuple(f for f in FORMATS if f in names)
