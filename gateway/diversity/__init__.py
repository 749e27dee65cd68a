"""Prompt fingerprints (pure, deterministic): skeletons, SimHash bands, frames, semantic
cells, and the chain-of-thought / rubric elicitation lexicon.

Entry point: :class:`gateway.diversity.fingerprint.Fingerprinter`.
"""

from gateway.diversity.embed import Embedder, HashedNgramEmbedder
from gateway.diversity.fingerprint import Fingerprinter
from gateway.diversity.lexicon import elicitation_score

__all__ = ["Embedder", "Fingerprinter", "HashedNgramEmbedder", "elicitation_score"]
