"""REFI-QDA project XML (``urn:QDA-XML:project:1.0``): names, GUIDs and validation.

GUIDs we write are UUID version 5 (name-based, SHA-1; RFC 4122 section 4.3) of a stable
key such as ``source:<project>:<transcript>``, so the same run exports the same GUIDs.
GUIDs we read may be in any case and may be wrapped in braces; :func:`norm_guid`
compares them.
"""

from __future__ import annotations

import uuid
from importlib import resources
from xml.etree import ElementTree as ET

from ..errors import InputError

NS = "urn:QDA-XML:project:1.0"
#: Namespace of all GUIDs themepipe derives (uuid5 of this URL).
GUID_NAMESPACE = uuid.uuid5(uuid.NAMESPACE_URL, "https://themepipe.invalid/refi-qda")
#: Name of the user who makes the classifier's codings.
MACHINE_USER = "themepipe (machine)"
#: Name of the user who makes the gold codings.
HUMAN_USER = "gold codes (human)"
#: Name of the code reserved for "coded, no theme" (``none`` in codes tables).
NONE_CODE = "none"


def q(tag: str) -> str:
    """Qualified tag name in the project namespace."""
    return f"{{{NS}}}{tag}"


def guid(*key: str) -> str:
    """Deterministic lower-case GUID of a key (uuid5 in :data:`GUID_NAMESPACE`)."""
    return str(uuid.uuid5(GUID_NAMESPACE, "\x1f".join(key)))


MACHINE_USER_GUID = guid("user", "machine")
HUMAN_USER_GUID = guid("user", "human")


def norm_guid(value: str | None) -> str:
    """A GUID as lower case without braces, for comparing GUIDs written by any tool."""
    return (value or "").strip().strip("{}").lower()


def local(tag: str) -> str:
    """Tag name without namespace."""
    return tag.rsplit("}", 1)[-1]


def children(element: ET.Element, name: str) -> list[ET.Element]:
    """Direct children with local name ``name`` (any namespace, or none)."""
    return [c for c in element if local(c.tag) == name]


def child(element: ET.Element, name: str) -> ET.Element | None:
    """First direct child with local name ``name``, or None."""
    found = children(element, name)
    return found[0] if found else None


def parse_project(data: bytes, path) -> ET.Element:
    """Parse a ``.qde`` and return its ``Project`` element.

    Documents with a DOCTYPE are refused: REFI-QDA projects have none, and refusing them
    rules out entity-expansion attacks.

    Raises
    ------
    InputError
        A DOCTYPE (T705), XML that is not well formed (T705), or a root element that is
        not ``Project`` (T706).
    """
    if b"<!DOCTYPE" in data[:4096].upper() or b"<!ENTITY" in data.upper():
        raise InputError("T705", "the .qde project file declares a DOCTYPE or entities, "
                         "which REFI-QDA projects never do; refused. Export the project "
                         "again from the QDA program", path=path)
    try:
        root = ET.fromstring(data)
    except ET.ParseError as exc:
        raise InputError("T705", f"the .qde project file is not well-formed XML ({exc}); "
                         "export the project again from the QDA program",
                         path=path) from None
    if local(root.tag) != "Project":
        raise InputError("T706", f"the .qde root element is <{local(root.tag)}>, not "
                         "<Project>; a codebook file (.qdc) cannot be imported, export the "
                         "whole project (.qdpx)", path=path)
    return root


def schema_path():
    """Path of the bundled REFI-QDA ``Project.xsd`` (MIT; see its NOTICE)."""
    return resources.files("themepipe").joinpath("data/refi-qda/Project.xsd")


def validate_project(data: bytes) -> list[str]:
    """Validate a project XML against the bundled ``Project.xsd`` (needs lxml).

    Parameters
    ----------
    data : bytes
        The ``.qde`` content.

    Returns
    -------
    list of str
        Validation errors, one line each; empty when the project is valid.
    """
    from lxml import etree

    with schema_path().open("rb") as handle:
        schema = etree.XMLSchema(etree.parse(handle))
    document = etree.fromstring(data)
    if schema.validate(document):
        return []
    return [f"line {e.line}: {e.message}" for e in schema.error_log]
