"""newsletter: a calm daily digest of new research papers.

Pipeline (each stage a plain function over the frozen dataclasses in
:mod:`newsletter.model`)::

    sources ──► RawEntry ──► novelty ──► Paper ──► topics ──► Edition ──► render/publish
"""

__version__ = "0.1.0"
