"""Web: the HTTP surface, a Starlette app served by uvicorn.

Owns: the app and its routes (``app``), the subscriber pages with their forms
and refusals (``subscribe``), the pages' context and error pages (``pages``),
the sign-up desk that records sign-ups and sends their email off the request
path (``signup``), body and rate limits (``limits``), the security headers and
the access log (``headers``) and ``newsletter serve``, the web app and the
scheduler in one process (``serve``).

May import: everything in the package except ``cli``; it calls the library
(``subscribers``, ``delivery``, ``scheduler``; never ``pipeline``: ``serve``
runs the daily job it is handed) and holds no business rule of its own.
See ``docs/architecture.md``.
"""
