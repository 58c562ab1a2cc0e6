"""The pages people use, rendered by the app from the top-level ``web/`` folder (templates,
static files, message catalogs). See ``web/README.md`` for how to add a page."""
