"""newsletter: a calm daily digest of new research papers.

Pipeline (each stage a plain function over the frozen dataclasses in
:mod:`newsletter.model`)::

    sources ──► RawEntry ──► novelty ──► listings: Paper ──► Edition ──► render/publish

``docs/architecture.md`` says which package owns each step.
"""

__version__ = "0.1.0"
