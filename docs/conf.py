"""Sphinx configuration of the published Elastos protocol reference.

Build (warnings are errors)::

    .venv/bin/sphinx-build -W --keep-going -b html docs docs/_build/html

At the start of every build ``conformance.docs_tables.write_all`` regenerates ``docs/generated/``
(git-ignored) from the rule registry, the handler bindings, the vectors and the proofs.
"""

from __future__ import annotations

import re
import sys
from pathlib import Path

DOCS = Path(__file__).resolve().parent
ROOT = DOCS.parent
sys.path.insert(0, str(ROOT))

import spec  # noqa: E402

# -- project ---------------------------------------------------------------------------------------

project = "Elastos protocol reference"
author = "Elastos protocol reference authors"
copyright = "the Elastos protocol reference authors"
version = spec.SPEC_VERSION
release = spec.SPEC_VERSION

# -- general ---------------------------------------------------------------------------------------

extensions = [
    "myst_parser",
    "sphinx.ext.autodoc",
    "sphinx.ext.viewcode",
    "sphinx.ext.graphviz",
]

# diagrams are Graphviz text under docs/diagrams/, rendered to SVG at build time (no network)
graphviz_output_format = "svg"
graphviz_dot_args = ["-Gbgcolor=transparent"]

source_suffix = {".md": "markdown", ".rst": "restructuredtext"}
root_doc = "index"
# generated/ holds include files, not pages of their own.
exclude_patterns = ["_build", "generated", "Thumbs.db", ".DS_Store"]

myst_enable_extensions = ["colon_fence", "deflist", "substitution"]



def _substitutions() -> dict[str, str]:
    """Numbers the prose quotes, taken from the code so that the pages cannot go stale."""
    from conformance.protocol import MAX_LINE
    from conformance.runner import HELLO_TIMEOUT, WINDOW
    from reference.cli import build_parser

    conform = build_parser().parse_args(["conform"])
    return {
        "version": spec.SPEC_VERSION,
        "window": str(WINDOW),
        "hello_timeout": f"{HELLO_TIMEOUT:g}",
        "reply_timeout": f"{conform.timeout:g}",
        "max_line_mib": f"{MAX_LINE // (1024 * 1024)}",
    }


myst_substitutions = _substitutions()
myst_heading_anchors = 3

# -- autodoc ---------------------------------------------------------------------------------------

autodoc_member_order = "bysource"
autodoc_default_options = {
    "members": True,
    # every public function and constant of the spec is shown, with or without a docstring
    "undoc-members": True,
    # pydantic's machinery is not part of the spec; documenting it would only repeat pydantic's docs.
    "exclude-members": "model_config, model_fields, model_computed_fields, model_post_init",
}
autodoc_typehints = "signature"
autodoc_preserve_defaults = True
autodoc_inherit_docstrings = False

# Only with ``-n``: names that occur inside rendered type annotations and are not documented
# objects (the pydantic ``Field`` of a fixed-length bytes field, the size constants it is given,
# and two type aliases). They are not cross-references anyone wrote.
nitpick_ignore = [
    ("py:class", "Field"),
    ("py:class", "UINT256_SIZE"),
    ("py:class", "UINT168_SIZE"),
    ("py:class", "PUBLIC_KEY_SIZE"),
    ("py:class", "CborValue"),
    ("py:class", "ScriptKind"),
]

# -- HTML ------------------------------------------------------------------------------------------

html_theme = "furo"
html_title = f"Elastos protocol reference {release}"
html_static_path: list[str] = []
html_show_sourcelink = False


# -- build hooks -----------------------------------------------------------------------------------

_UNDERLINE = re.compile(r"^([=\-~^\"'`#*+])\1{2,}\s*$")


def _section_titles_to_rubrics(app, what, name, obj, options, lines: list[str]) -> None:
    """Render the section titles of spec docstrings (``Constants`` over ``---------``) as rubrics.

    A docstring is inserted into a directive, where docutils does not allow sections; a rubric is
    the informal heading that is allowed there. The text of the title is unchanged.
    """
    i = 0
    while i + 1 < len(lines):
        title, under = lines[i], lines[i + 1]
        if (
            title.strip()
            and not title.startswith(" ")
            and _UNDERLINE.match(under)
            and len(under.rstrip()) >= len(title.rstrip())
            and (i == 0 or not lines[i - 1].strip())
        ):
            lines[i:i + 2] = [f".. rubric:: {title.strip()}"]
            if i + 1 < len(lines) and lines[i + 1].strip():
                lines.insert(i + 1, "")
        i += 1


def _skip_member(app, what, name, obj, skip, options):
    """Leave out the ``R_*`` rule objects: the rule tables show every rule with all its fields."""
    from spec.errors import Rule

    if what == "module" and isinstance(obj, Rule):
        return True
    return None


def _model_signature(app, what, name, obj, options, signature, return_annotation):
    """A spec model is shown without pydantic's generated constructor signature.

    Its fields are documented one by one below the class, each with its type and docstring; the
    keyword-only signature pydantic synthesises from them adds nothing and renders its metadata
    objects (``MinLen(min_length=32)``) verbatim.
    """
    from spec.model import SpecModel

    if what == "class" and isinstance(obj, type) and issubclass(obj, SpecModel):
        return "", None
    return None


def _generate_tables(app) -> None:
    from conformance.docs_tables import write_all

    write_all(Path(app.srcdir) / "generated")


def setup(app):
    app.connect("builder-inited", _generate_tables)
    app.connect("autodoc-process-docstring", _section_titles_to_rubrics)
    app.connect("autodoc-skip-member", _skip_member)
    app.connect("autodoc-process-signature", _model_signature)
    return {"parallel_read_safe": True, "parallel_write_safe": True}

# Keep type aliases by name in signatures (a bare ``type`` would be an ambiguous cross-reference).
autodoc_type_aliases = {"MessageClass": "spec.chain.p2p.MessageClass"}
