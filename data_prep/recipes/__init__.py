"""Corpus recipes: one module per corpus (`sep28k`, `fluencybank`, `casa`), over the clip-vote recipe they share."""
