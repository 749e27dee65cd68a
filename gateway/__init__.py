"""distillguard: a distillation-aware rate-limiting gateway."""

__version__ = "0.1.0"
