"""Corpus recipes: SEP-28k, FluencyBank and synthetic stutters into manifests and feature caches."""
