"""The MES web service: a thin Litestar layer over the :mod:`mes` library.

It parses requests, authorises them, stores responses and calls :mod:`mes` to
score them. ``api.app:create_app()`` builds the application; ``mes serve`` runs
it and ``mes keys ...`` manages API keys (both registered in :mod:`api.cli`).
"""
