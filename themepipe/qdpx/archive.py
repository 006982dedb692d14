"""The ``.qdpx`` container: a zip read with size limits and written reproducibly.

A ``.qdpx`` file is untrusted input: before anything is decompressed, its central
directory is checked against a total uncompressed size, a compression ratio and a
member count, and each member is then read with a hard cap on its declared size (the
sizes in a zip's directory can lie).
"""

from __future__ import annotations

import codecs
import zipfile
from dataclasses import dataclass
from pathlib import Path, PurePosixPath

from ..errors import InputError

#: Refuse archives that would decompress to more than this (bytes).
MAX_TOTAL_BYTES = 512 * 1024 * 1024
#: Refuse archives whose uncompressed/compressed size ratio exceeds this.
MAX_RATIO = 200.0
#: Refuse archives with more members than this.
MAX_MEMBERS = 100_000
#: Fixed timestamp of every member we write, so that exports are byte-reproducible.
ZIP_DATE = (2000, 1, 1, 0, 0, 0)


@dataclass(frozen=True)
class Package:
    """The members of an opened ``.qdpx``.

    Attributes
    ----------
    path : Path
        The ``.qdpx`` file.
    qde_name : str
        Name of the one ``.qde`` project file in the archive.
    qde : bytes
        Its content.
    sources : dict of str to bytes
        Files under any ``sources/`` folder, keyed by lower-cased file name.
    """

    path: Path
    qde_name: str
    qde: bytes
    sources: dict[str, bytes]


def _fix(path: Path) -> str:
    return (f"'{path.name}' is not a usable REFI-QDA project; export it again from the "
            "QDA program as a REFI-QDA project (.qdpx)")


def open_package(path: str | Path, max_total_bytes: int = MAX_TOTAL_BYTES,
                 max_ratio: float = MAX_RATIO) -> Package:
    """Open a ``.qdpx`` safely and read its project file and sources.

    Parameters
    ----------
    path : str or Path
        The ``.qdpx`` file.
    max_total_bytes : int
        Refuse archives whose members add up to more bytes than this, uncompressed.
    max_ratio : float
        Refuse archives whose uncompressed size is more than this many times their
        compressed size (overall, or for any member larger than 1 MiB).

    Returns
    -------
    Package

    Raises
    ------
    InputError
        Not found (T700), not a zip archive (T701), over the size, ratio or member
        limits (T702), no or several ``.qde`` files (T703), a member larger than its
        declared size or corrupt (T704).
    """
    path = Path(path)
    if not path.is_file():
        raise InputError("T700", "REFI-QDA project not found; give the path of a .qdpx "
                         "file", path=path)
    if not zipfile.is_zipfile(path):
        raise InputError("T701", "is not a zip archive, so not a REFI-QDA project (.qdpx); "
                         "export the project from the QDA program with 'REFI-QDA project' "
                         "(.qdpx), not a .qde, .qdc or .nvp file", path=path)
    try:
        archive = zipfile.ZipFile(path)
    except (zipfile.BadZipFile, OSError) as exc:
        raise InputError("T701", f"cannot be read as a zip archive ({exc}); "
                         + _fix(path), path=path) from None
    with archive:
        infos = [i for i in archive.infolist() if not i.is_dir()]
        total = sum(i.file_size for i in infos)
        packed = sum(i.compress_size for i in infos)
        if len(infos) > MAX_MEMBERS:
            raise InputError("T702", f"has {len(infos)} members, over the limit of "
                             f"{MAX_MEMBERS}; refused before extracting. {_fix(path)}",
                             path=path)
        if total > max_total_bytes:
            raise InputError("T702", f"would unpack to {total / 2**20:.1f} MiB, over the "
                             f"limit of {max_total_bytes / 2**20:.1f} MiB; refused before "
                             "extracting. Check it is the project you meant; if it is, raise "
                             "qdpx.max_total_mb in the config", path=path)
        big = [i for i in infos if i.file_size > 2**20]
        ratios = [total / max(packed, 1)] + [i.file_size / max(i.compress_size, 1)
                                             for i in big]
        if total > 2**20 and max(ratios) > max_ratio:
            raise InputError("T702", f"has a compression ratio of {max(ratios):.0f}:1, over "
                             f"the limit of {max_ratio:.0f}:1 (a zip bomb?); refused "
                             "before extracting. Export the project again from the QDA "
                             "program, or raise qdpx.max_compression_ratio if you trust "
                             "the file", path=path)
        qdes = [i for i in infos if i.filename.lower().endswith(".qde")]
        if len(qdes) != 1:
            found = ", ".join(i.filename for i in qdes) or "none"
            raise InputError("T703", f"must hold exactly one .qde project file, found "
                             f"{found}; export a single project as .qdpx", path=path)
        qde = _read_member(archive, qdes[0], path)
        sources: dict[str, bytes] = {}
        for info in infos:
            parts = PurePosixPath(info.filename.replace("\\", "/")).parts
            if len(parts) >= 2 and parts[-2].lower() == "sources":
                sources[parts[-1].lower()] = _read_member(archive, info, path)
    return Package(path, qdes[0].filename, qde, sources)


def _read_member(archive: zipfile.ZipFile, info: zipfile.ZipInfo, path: Path) -> bytes:
    chunks, size = [], 0
    try:
        with archive.open(info) as handle:
            while block := handle.read(1 << 20):
                size += len(block)
                if size > info.file_size:
                    raise InputError("T704", f"member '{info.filename}' is larger than its "
                                     "declared size; refused. " + _fix(path), path=path)
                chunks.append(block)
    except (zipfile.BadZipFile, OSError, EOFError, RuntimeError, NotImplementedError) as exc:
        raise InputError("T704", f"member '{info.filename}' cannot be read ({exc}); "
                         + _fix(path), path=path) from None
    return b"".join(chunks)


def decode_source(data: bytes) -> tuple[str, list[str]]:
    """Decode a source file from another program.

    Parameters
    ----------
    data : bytes

    Returns
    -------
    text : str
        The text, BOM removed, line endings as they were.
    notes : list of str
        What was found (``"UTF-8 BOM"``, ``"Windows-1252"`` ...), for the report.
    """
    for bom, codec, note in ((codecs.BOM_UTF8, "utf-8", "UTF-8 BOM"),
                             (codecs.BOM_UTF16_LE, "utf-16-le", "UTF-16 LE BOM"),
                             (codecs.BOM_UTF16_BE, "utf-16-be", "UTF-16 BE BOM")):
        if data.startswith(bom):
            return data[len(bom):].decode(codec, errors="replace"), [note]
    try:
        return data.decode("utf-8"), []
    except UnicodeDecodeError:
        return data.decode("cp1252", errors="replace"), ["not UTF-8, read as Windows-1252"]


def write_package(path: str | Path, qde: bytes, sources: dict[str, str]) -> None:
    """Write a ``.qdpx``: ``project.qde`` plus ``sources/<name>`` as UTF-8 text.

    Members are sorted and carry a fixed timestamp, so equal inputs give equal bytes.

    Parameters
    ----------
    path : str or Path
        The ``.qdpx`` to write (replaced if it exists).
    qde : bytes
        The project XML.
    sources : dict of str to str
        ``<GUID>.txt -> text`` (UTF-8 without BOM, LF line ends expected).
    """

    def member(name: str) -> zipfile.ZipInfo:
        info = zipfile.ZipInfo(name, date_time=ZIP_DATE)
        info.compress_type = zipfile.ZIP_DEFLATED
        info.external_attr = 0o644 << 16
        return info

    with zipfile.ZipFile(path, "w") as archive:
        archive.writestr(member("project.qde"), qde)
        for name in sorted(sources):
            archive.writestr(member(f"sources/{name}"), sources[name].encode("utf-8"))
