"""The URL map, kept apart from the handlers."""

from aiohttp import web

from . import handlers


def setup_routes(app: web.Application) -> None:
    app.router.add_get("/v1/ping", handlers.ping)
    app.router.add_post("/v1/pair", handlers.pair)
    app.router.add_post("/v1/unpair", handlers.unpair)
    app.router.add_post("/v1/captures", handlers.post_capture)
    app.router.add_post("/v1/preview", handlers.preview)
    app.router.add_get("/v1/contacts/lookup", handlers.contact_lookup)
