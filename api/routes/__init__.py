"""One module per family of routes; `api.main` includes their routers."""
