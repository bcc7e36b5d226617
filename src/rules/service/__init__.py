"""The HTTP service (``kzmig serve``): the library over HTTP, for consular systems and analysts.

``rules.service.app.create_app(settings)`` builds the ASGI application, ``rules.service.cli.serve``
runs it under uvicorn; see ``docs/service.md``. Nothing is imported here, so that ``import rules``
and the command line do not load FastAPI.
"""
