"""The call card's server: `make dist` builds the publish folder (cardserver/dist.py), and an
ASGI app serves it (cardserver/asgi.py: Starlette for the pages, ServeStatic for the files)
under uvicorn (cardserver/serve.py, `python -m cardserver`)."""
