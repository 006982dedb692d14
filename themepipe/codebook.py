"""The codebook: the themes a study codes segments into.

A codebook is YAML: either a list of themes or a mapping with a ``themes:`` list.  Each
theme has the parts of a qualitative codebook after MacQueen et al. (1998),
"Codebook development for team-based qualitative analysis", *Cultural Anthropology
Methods* 10(2): ``id``, ``label``, ``short_definition``, ``full_definition``,
``when_to_use``, ``when_not_to_use``, ``example``, plus ``seed_words`` for seeded topics.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from pathlib import Path

import numpy as np
import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError

from .errors import ConfigError

THEME_ID = re.compile(r"^[a-z][a-z0-9_]*$")
#: Reserved value in codes tables meaning "coded, with no theme".
NO_THEME = "none"


class Theme(BaseModel):
    """One code of the codebook."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    id: str
    label: str
    short_definition: str = ""
    full_definition: str = ""
    when_to_use: str = ""
    when_not_to_use: str = ""
    example: str = ""
    seed_words: list[str] = Field(default_factory=list)


class Codebook(BaseModel):
    """An ordered list of themes with unique ids."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    themes: list[Theme]

    @property
    def ids(self) -> list[str]:
        """Theme ids in codebook order."""
        return [theme.id for theme in self.themes]

    def seed_words(self) -> dict[str, list[str]]:
        """Map theme id to its seed words, in codebook order."""
        return {theme.id: list(theme.seed_words) for theme in self.themes}


def load_codebook(path: str | Path) -> Codebook:
    """Read and validate a codebook YAML file.

    Raises
    ------
    ConfigError
        Missing file (T020), invalid YAML or fields (T021), a theme id that is not
        lowercase snake case or is the reserved ``none`` (T022), duplicate ids (T023).
    """
    path = Path(path)
    if not path.is_file():
        raise ConfigError("T020", "codebook not found; set 'codebook:' in the config "
                          "to a YAML file of themes", path=path)
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
    except (yaml.YAMLError, UnicodeDecodeError) as exc:
        raise ConfigError("T021", f"codebook is not valid YAML: {str(exc).splitlines()[0]}",
                          path=path) from None
    if isinstance(data, list):
        data = {"themes": data}
    try:
        codebook = Codebook.model_validate(data)
    except ValidationError as exc:
        err = exc.errors()[0]
        key = ".".join(str(p) for p in err["loc"])
        raise ConfigError("T021", f"codebook entry '{key}': {err['msg']}; each theme "
                          "needs at least id and label", path=path) from None
    if not codebook.themes:
        raise ConfigError("T021", "codebook has no themes", path=path)
    seen: set[str] = set()
    for theme in codebook.themes:
        if not THEME_ID.fullmatch(theme.id) or theme.id == NO_THEME:
            raise ConfigError("T022", f"theme id '{theme.id}' must be lowercase letters, "
                              f"digits and '_' and not '{NO_THEME}'", path=path)
        if theme.id in seen:
            raise ConfigError("T023", f"duplicate theme id '{theme.id}'; "
                              "give every theme a unique id", path=path)
        seen.add(theme.id)
    return codebook


def theme_matrix(cells: Sequence[str], themes: Sequence[str]):
    """Turn ``;``-joined theme cells into a 0/1 matrix.

    Parameters
    ----------
    cells : sequence of str
        Theme cells (``none`` or empty give an all-zero row).
    themes : sequence of str
        Column order.

    Returns
    -------
    ndarray of shape (n_cells, n_themes), dtype int8
    """
    index = {t: j for j, t in enumerate(themes)}
    matrix = np.zeros((len(cells), len(themes)), dtype=np.int8)
    for i, cell in enumerate(cells):
        for theme in str(cell).split(";"):
            if theme and theme != NO_THEME and theme in index:
                matrix[i, index[theme]] = 1
    return matrix
