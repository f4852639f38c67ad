"""Web: the HTTP surface, a Starlette app served by uvicorn.

Owns: the app and its routes (``app``), the subscriber pages with their forms,
rate limits and refusals (``subscribe``) and ``newsletter serve``, the web app
and the scheduler in one process (``serve``).

May import: everything in the package except ``cli``; it calls the library
(``subscribers``, ``delivery``, ``pipeline``, ``scheduler``) and holds no
business rule of its own.  See ``docs/architecture.md``.
"""
