"""Prompt fingerprints (pure, deterministic): skeletons, SimHash bands, frames, semantic
cells, and the chain-of-thought / rubric elicitation lexicon.

Entry point: :class:`gateway.fingerprints.fingerprint.Fingerprinter`.
"""

from gateway.fingerprints.embed import Embedder, HashedNgramEmbedder
from gateway.fingerprints.fingerprint import Fingerprinter
from gateway.fingerprints.lexicon import elicitation_score

__all__ = ["Embedder", "Fingerprinter", "HashedNgramEmbedder", "elicitation_score"]
