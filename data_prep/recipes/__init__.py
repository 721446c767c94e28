"""Corpus recipes: one module per corpus (`sep28k`, `fluencybank`), over the clip-vote recipe they share."""
