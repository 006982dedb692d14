"""REFI-QDA project exchange (``.qdpx``): export a run, import human codings.

:func:`export_qdpx` writes a run folder as a project that NVivo, ATLAS.ti, MAXQDA or
QualCoder can open (REFI-QDA Project 1.0, ``urn:QDA-XML:project:1.0``);
:func:`import_qdpx` turns the codings made there back into a codes table aligned to the
corpus's turns.  See :mod:`themepipe.qdpx.export` and :mod:`themepipe.qdpx.importer`.
"""

from .export import ExportSummary, export_qdpx
from .importer import ImportResult, import_qdpx
from .project import validate_project

__all__ = ["ExportSummary", "ImportResult", "export_qdpx", "import_qdpx", "validate_project"]
